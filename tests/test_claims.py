"""Tests for tutor.claims: reading a reply's Classification and Hint, and what the engine contradicts."""
from __future__ import annotations

import pytest

from tutor.claims import contradictions, hint_names, hinted_methods, listed_methods, names_type, read_classification
from tutor.engine.classify import Classification
from tutor.format import Sections


def engine(order: int = 1, linear: bool = True, types: tuple[str, ...] = ("separable", "first_order_linear")):
    return Classification(order=order, degree=1, degree_reason="", linear=linear, homogeneous=True,
                          autonomous=True, constant_coefficients=True, types=types)


@pytest.mark.parametrize("text, expected", [
    ("Second order, degree 1, linear, homogeneous.", {"order": 2, "linear": True}),
    ("First order, nonlinear.", {"order": 1, "linear": False}),
    ("A 3rd-order equation, not linear.", {"order": 3, "linear": False}),
    ("gibberish", {"order": None, "linear": None}),
])
def test_read_classification(text: str, expected: dict) -> None:
    assert read_classification(text) == expected


def test_method_names_are_read_as_whole_phrases() -> None:
    assert names_type("bernoulli", "Methods that apply: Bernoulli equation.")  # without the parenthetical
    assert not names_type("exact", "Methods that apply: Integrating factor for a non-exact equation.")
    assert names_type("integrating_factor", "Methods that apply: Integrating factor for a non-exact equation.")
    assert listed_methods("First order. Methods that apply: Separable equation, Homogeneous equation "
                          "(substitute v = y/x).") == ("separable", "homogeneous")
    assert listed_methods("First order, separable.") == ()  # no list: nothing is read as listed
    assert hinted_methods("Separate the variables and integrate.") == ("separable",)


def test_what_the_engine_contradicts_is_flagged_and_nothing_else() -> None:
    agrees = Sections(classification="First order, linear. Methods that apply: Separable equation.",
                      hint="Separate the variables.")
    assert contradictions(agrees, engine()) == {}
    assert contradictions(agrees, None) == {}  # no engine classification: nothing to compare with
    wrong = Sections(classification="Second order, nonlinear. Methods that apply: Bernoulli equation.",
                     hint="Substitute for a Bernoulli equation.")
    flags = contradictions(wrong, engine())
    assert flags["Classification"] == (
        "The model says second order; the engine finds order 1. The model calls the equation nonlinear; "
        "the engine finds it linear. The model lists Bernoulli equation among the methods that apply; "
        "the engine's classification does not.")
    assert flags["Hint"] == ("The hint suggests Bernoulli equation; the engine finds that Separable equation, "
                             "First-order linear equation apply here.")
    # a hint is not judged when the engine knows no textbook method for the equation
    assert "Hint" not in contradictions(wrong, engine(types=()))
    # a statement that cannot be read is not a contradiction
    assert contradictions(Sections(classification="An interesting equation.", hint="Think."), engine()) == {}


def test_the_systems_hint_names_the_eigenvalue_method():
    """Systems are no registry method: their id, name and hint pattern come from linear_system, so a
    perfect systems reply scores its hint (training/evaluate.py) and a scalar hint does not."""
    from tutor.engine.methods import linear_system
    from tutor.parser import parse

    problem = parse("x' = x + 2y, y' = 3x + 2y")
    assert hint_names("linear_system", linear_system.hint(problem))
    assert hint_names("linear_system", "Use the eigenvalue method.")
    assert not hint_names("linear_system", "Separate the variables and integrate both sides.")
    assert not hint_names("separable", linear_system.hint(problem))
