"""Classification: order, degree (or why not), linearity, homogeneity, autonomy, methods.

Run: ``.venv/bin/python -m pytest tests/test_classify.py -q``
"""
from __future__ import annotations

import pytest

from tutor import parse
from tutor.engine import classify
from tutor.engine.registry import PREFERENCE

# text, order, degree, linear, homogeneous (linear sense; None if nonlinear), autonomous,
# constant coefficients (None if nonlinear), types (every matching method, textbook order)
TABLE = [
    ("y' = x*y", 1, 1, True, True, False, False, ("separable", "first_order_linear", "integrating_factor")),
    ("y' + 2y = e^(-x)", 1, 1, True, False, False, True, ("first_order_linear", "integrating_factor")),
    ("y' = y(1 - y)", 1, 1, False, None, True, None, ("autonomous", "separable", "integrating_factor", "bernoulli")),
    ("dP/dt = P(1 - P)", 1, 1, False, None, True, None, ("autonomous", "separable", "integrating_factor", "bernoulli")),
    ("(2xy + 3) dx + (x^2 - 1) dy = 0", 1, 1, True, False, False, False, ("first_order_linear", "exact")),
    ("y dx + (2x - y e^y) dy = 0", 1, 1, False, None, False, None, ("integrating_factor",)),
    ("(e^x + y)dx + (2 + x + y e^y)dy = 0", 1, 1, False, None, False, None, ("exact",)),
    ("y' = (x^2 + y^2)/(x y)", 1, 1, False, None, False, None, ("integrating_factor", "homogeneous", "bernoulli")),
    ("y' = (x - y)/(x + y)", 1, 1, False, None, False, None, ("exact", "homogeneous")),
    ("y' + y = x y^2", 1, 1, False, None, False, None, ("bernoulli",)),
    ("y' = y^2 - x^2 + 1", 1, 1, False, None, False, None, ("riccati",)),
    ("y' = e^(x+y)", 1, 1, False, None, False, None, ("separable", "integrating_factor")),
    ("y' = sin(x*y)", 1, 1, False, None, False, None, ()),
    ("(y')^2 + y = x", 1, 2, False, None, False, None, ()),
    ("y' = sin(y')", 1, None, False, None, True, None, ()),
    ("y'' + y = 0", 2, 1, True, True, True, True, ("constant_coefficients",)),
    ("y''' - y = 0", 3, 1, True, True, True, True, ("constant_coefficients",)),
    ("y'' - 3y' + 2y = e^(3x)", 2, 1, True, False, False, True,
     ("undetermined_coefficients", "variation_of_parameters")),
    ("y'' + y = sec(x)", 2, 1, True, False, False, True, ("variation_of_parameters",)),
    ("x^2 y'' - 2x y' + 2y = 0", 2, 1, True, True, False, False, ("cauchy_euler",)),
    # Airy-type: no closed-form textbook method; a power series about the ordinary point 0 applies
    ("y'' + x y = 0", 2, 1, True, True, False, False, ("power_series",)),
    ("2x y'' + y' + y = 0", 2, 1, True, True, False, False, ("frobenius",)),
    ("y'' - 2x y' + 2y = 0", 2, 1, True, True, False, False, ("power_series",)),
    # linear once the denominator in y is cleared, for the Classification and the linear methods alike
    ("y''/y = -1", 2, 1, True, True, True, True, ("constant_coefficients",)),
    ("y'' = (y')^2", 2, 1, False, None, True, None, ("reduction_of_order",)),
    ("(y'')^3 + y' = x", 2, 3, False, None, False, None, ("reduction_of_order",)),
    ("sqrt(1 + (y')^2) = y''", 2, None, False, None, True, None, ("reduction_of_order",)),
]


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
def test_classification_table(row):
    text, order, degree, linear, homogeneous, autonomous, constant, types = row
    c = classify(parse(text))
    assert (c.order, c.degree, c.linear) == (order, degree, linear)
    assert c.homogeneous == homogeneous
    assert c.autonomous == autonomous
    assert c.constant_coefficients == constant
    assert c.types == types
    assert list(c.types) == sorted(c.types, key=PREFERENCE.index)  # textbook preference order
    if degree is None:
        assert "not a polynomial" in c.degree_reason
    assert c.to_dict() == {"order": order, "degree": degree, "linear": linear, "types": list(types)}


def test_describe_reads_like_a_textbook():
    text = classify(parse("y' + 2y = e^(-x)")).describe({"first_order_linear": "First-order linear"})
    assert text.startswith("First order, degree 1, linear, nonhomogeneous")
    assert "First-order linear" in text
    undefined = classify(parse("y' = sin(y')")).describe()
    assert "degree not defined" in undefined


def test_linear_after_clearing_denominators_is_solved_by_the_linear_method():
    """Classification and the linear methods share one linearity test (the method used to disagree)."""
    from tutor.engine import solve

    solution = solve("y''/y = -1")
    assert solution.method == "constant_coefficients" and solution.verdict == "correct"
