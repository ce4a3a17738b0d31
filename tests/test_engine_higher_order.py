"""Higher-order methods: per-method tables from the textbook set, every answer verified by the
checker, every step checked by the step checker, generated practice problems verified.

The tables live in ``bench/textbook_set.json`` (shared with ``bench/engine.py``); each
higher-order family there has at least six problems with an expected answer.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sympy

from tutor.checker import check
from tutor.engine.registry import get
from tutor.engine.steps import Check, check_step
from tutor.parser import parse

HIGHER_ORDER = ("constant_coefficients", "undetermined_coefficients", "variation_of_parameters",
                "cauchy_euler", "reduction_of_order")
TEXTBOOK = json.loads((Path(__file__).parent.parent / "bench" / "textbook_set.json").read_text())["problems"]
TABLE = [p for p in TEXTBOOK if p["method"] in HIGHER_ORDER]


def _ids(rows):
    return [r["id"] for r in rows]


def test_every_higher_order_method_has_a_table_of_six():
    for method in HIGHER_ORDER:
        assert sum(p["method"] == method for p in TABLE) >= 6, method


@pytest.mark.parametrize("row", TABLE, ids=_ids(TABLE))
def test_derivation_is_verified_and_every_step_checks(row):
    problem = parse(row["text"])
    method = get(row["method"])
    assert method.matches(problem)
    assert method.hint(problem)
    derivation = method.derive(problem)
    assert derivation.method == row["method"]
    for step in derivation.steps:
        assert step.title and (step.text or step.latex), step
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    # The formula steps are checked, not just narrated: most steps carry a real check.
    checked = [s for s in derivation.steps if s.check != Check.NOTE]
    assert len(checked) >= len(derivation.steps) / 2
    verdict = check(problem, derivation.answer(), timeout=30)
    assert verdict.verdict == "correct", verdict.reason
    # The expected textbook answer in the table is itself correct (the data is right) ...
    expected = check(problem, row["answer"], timeout=30)
    assert expected.verdict == "correct", f"table answer: {expected.reason}"
    # ... and the derivation ends in textbook form: C1..Cn, or none for an IVP.
    names = sorted(c.name for c in derivation.constants)
    assert names == ([] if problem.ics else [f"C{i}" for i in range(1, problem.order + 1)])


def _derive(text: str, method_id: str):
    problem = parse(text)
    return problem, get(method_id).derive(problem)


def test_characteristic_roots_shown_with_multiplicity_and_complex_pairs():
    _, d = _derive("y'''' + 2y'' + y = 0", "constant_coefficients")
    roots = next(s for s in d.steps if s.title == "Roots")
    assert r"\pm i" in roots.latex and "double" in roots.latex
    _, d = _derive("y''' - 6y'' + 11y' - 6y = 0", "constant_coefficients")
    assert d.solutions[0].rhs == sum(sympy.Symbol(f"C{k}") * sympy.exp(k * sympy.Symbol("x")) for k in (1, 2, 3))


@pytest.mark.parametrize("text, factor", [
    ("y'' - 2y' + y = x e^x", "x^{2}"),      # double root: x^2
    ("y'' + y = sin(x)", "x"),                # complex pair ±i: x
    ("y''' - y'' = 4", "x^{2}"),              # r = 0 double
])
def test_resonance_multiplies_the_trial_form(text, factor):
    _, d = _derive(text, "undetermined_coefficients")
    trial = next(s for s in d.steps if s.title.startswith("Trial form"))
    assert "resonance" in trial.text and f"${factor}$" in trial.text
    system = next(s for s in d.steps if s.title == "Match coefficients")
    assert r"\begin{cases}" in system.latex


def test_no_resonance_says_so():
    _, d = _derive("y'' - 3y' + 2y = e^(3x)", "undetermined_coefficients")
    trial = next(s for s in d.steps if s.title.startswith("Trial form"))
    assert "not a root" in trial.text and "A e^{3 x}" in trial.latex


def test_variation_of_parameters_shows_wronskian_and_named_integrals():
    _, d = _derive("y'' + y = sec(x)", "variation_of_parameters")
    titles = [s.title for s in d.steps]
    assert "Wronskian" in titles
    w = d.steps[titles.index("Wronskian")]
    assert "vmatrix" in w.latex and w.latex.endswith("= 1")
    integrals = [s for s in d.steps if s.title.startswith("Integrate for")]
    assert len(integrals) == 2 and all(s.check == Check.ANTIDERIVATIVE for s in integrals)
    assert all(s.text for s in integrals)


def test_cauchy_euler_nonhomogeneous_uses_x_equals_e_t_or_variation():
    _, d = _derive("x^2 y'' + x y' - y = x^2", "cauchy_euler")
    assert any(s.title == "Substitute x = e^t" for s in d.steps)
    _, d = _derive("2x^2 y'' + y = -sqrt(2) sqrt(x) sin(ln(2x)/2)", "cauchy_euler")
    assert any(s.title == "Substitute x = e^t" for s in d.steps)
    _, d = _derive("x^2 y'' - 2y = x^2 / (1 + x^2)", "cauchy_euler")  # g(e^t) not of UC form
    assert any(s.title == "Wronskian" for s in d.steps)


def test_reduction_of_order_both_kinds():
    _, d = _derive("(1 + x^2) y'' + 2x y' = 0", "reduction_of_order")
    assert d.steps[0].title == "Substitute p = y'" and d.steps[0].check == Check.SUBSTITUTION
    _, d = _derive("y y'' = (y')^2", "reduction_of_order")
    assert "p dp/dy" in d.steps[0].title
    assert "p = 0" in " ".join(s.text for s in d.steps)  # the lost constant solutions are mentioned


@pytest.mark.parametrize("text, expected", [
    ("y'' + y = 0", {"constant_coefficients": True, "undetermined_coefficients": False,
                     "variation_of_parameters": False, "cauchy_euler": False, "reduction_of_order": False}),
    ("y'' + y = tan(x)", {"constant_coefficients": False, "undetermined_coefficients": False,
                          "variation_of_parameters": True}),
    ("y'' + y = x e^x", {"undetermined_coefficients": True, "variation_of_parameters": True}),
    ("x^2 y'' + x y' + y = 0", {"cauchy_euler": True, "constant_coefficients": False}),
    ("y'' + x y = 0", {"constant_coefficients": False, "cauchy_euler": False, "variation_of_parameters": False,
                       "reduction_of_order": False}),
    ("y y'' = (y')^2", {"reduction_of_order": True, "constant_coefficients": False}),
    ("y' + y = 0", {"constant_coefficients": False, "reduction_of_order": False}),
])
def test_matches(text, expected):
    problem = parse(text)
    for method_id, value in expected.items():
        assert get(method_id).matches(problem) is value, method_id


@pytest.mark.parametrize("method_id", HIGHER_ORDER)
def test_generated_problems_are_verified(method_id):
    method = get(method_id)
    for difficulty in (1, 2, 3):
        for seed in range(4):
            practice = method.generate(seed, difficulty)
            assert practice.method == method_id
            assert method.matches(practice.problem)
            verdict = check(practice.problem, practice.answer, timeout=30)
            assert verdict.verdict == "correct", (seed, difficulty, practice.problem.equation, verdict.reason)
    # Same seed, same problem (teacher mode relies on it).
    assert method.generate(3, 2).problem == method.generate(3, 2).problem


def test_solve_picks_the_textbook_method():
    from tutor.engine import solve

    solution = solve("y'' + 4y = cos(2x), y(0) = 1, y'(0) = 0", timeout=30)
    assert solution.verified and solution.method == "undetermined_coefficients"
    assert solution.classification.types[:2] == ("undetermined_coefficients", "variation_of_parameters")


@pytest.mark.parametrize("text, method_id", [
    ("(x + 1) y''' + 3y'' = 0", "reduction_of_order"),      # p = y'': integrate twice
    ("y'' = (y')^3", "reduction_of_order"),                 # two branches for p
    ("y'' + y = x^4 sin(x - 1)", "undetermined_coefficients"),  # a phase: sin(x - 1) = sin x cos 1 - ...
    ("y'''' - a^2 y = 0", "constant_coefficients"),         # a parameter in the roots
    ("y'' - 2k y' - 2y = 0", "constant_coefficients"),
    ("2x^2 y'' + y = -sin(ln(2x)/2)", "cauchy_euler"),      # x = e^t with a phase in t
    ("2x^2 y'' + y = -sqrt(2) sqrt(x) sin(ln(2x)/2)", "cauchy_euler"),  # sqrt(e^t) = e^{t/2}: resonance
])
def test_harder_members_of_the_families(text, method_id):
    problem = parse(text)
    derivation = get(method_id).derive(problem)
    for step in derivation.steps:
        assert check_step(step, problem).ok, step.title
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"


@pytest.mark.parametrize("text, method_id", [
    ("y'''' - y' + y = 0", "constant_coefficients"),            # quartic: Ferrari only
    ("y^(5) + 11y' - 2y = 0", "constant_coefficients"),         # SymPy's lin_const_coeff_hom_33
    ("y^(5) - 3y' + y = x", "undetermined_coefficients"),
    # roots -0.001 and +-9.4: columns of the constants' Jacobian 1e12 apart (SymPy's lin_const_coeff_hom_35)
    ("y^(5) - 100y^(3) + 1000y' + y = 0", "constant_coefficients"),
    ("x^6 y^(6) - x y' + y = 0", "cauchy_euler"),               # SymPy's euler_hom_08
])
def test_roots_without_a_radical_formula_are_indexed_and_checked(text, method_id):
    """No formula in radicals: the roots are SymPy's indexed roots, named r_k with their decimal
    values in the Roots step; every step and the answer are checked (by numbers, the roots computed
    to each evaluation's precision)."""
    problem = parse(text)
    derivation = get(method_id).derive(problem)
    roots = next(s for s in derivation.steps if s.title == "Roots")
    assert "no usable formula in radicals" in roots.text
    assert r"\approx" in roots.latex and "CRootOf" not in roots.latex
    final = next(s for s in reversed(derivation.steps) if s.title == "General solution")
    assert "CRootOf" not in final.latex and re.search(r"r_\{\d\}", final.latex)
    for step in derivation.steps:
        assert check_step(step, problem).ok, step.title
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"
    wrong = sympy.Eq(problem.unknown, derivation.solutions[0].rhs + problem.variable ** 2)
    assert check(problem, wrong, timeout=30).verdict == "wrong"


def test_the_final_answer_says_which_polynomial_the_indexed_roots_solve():
    from tutor.engine import solve

    solution = solve(parse("y^(5) + 11y' - 2y = 0"), timeout=30)
    assert solution.verified and "r_{1}" in solution.final_answer_text()
    assert solution.final_answer_text().endswith("where $r_k$ are the roots of $r^{5} + 11 r - 2 = 0$ (the Roots step)")


def test_an_ivp_with_indexed_roots_gets_the_numerical_answer():
    from tutor.engine.base import CannotDerive

    with pytest.raises(CannotDerive, match="no formula in radicals"):
        get("constant_coefficients").derive(parse("y^(5) - 3y' + y = 0, y(0)=1, y'(0)=0, y''(0)=0, "
                                                  "y'''(0)=0, y^(4)(0)=0"))



@pytest.mark.parametrize("text", [
    "y'' + sin(y) = 0",                  # the pendulum; SymPy's 2nd_nonlinear_autonomous_conserved_03
    "y'' + cosh(y) = 0",                 # _04
    "y'' + e^y + log(y) = 0",            # _01
    "y'' + y^3 = 0",                     # SymPy's closed form is hypergeometric (exp_polar)
])
def test_missing_x_with_a_non_elementary_second_integral_keeps_the_quadrature(text):
    """y'' = f(y): p dp/dy = f gives the energy p^2/2 = F(y) + C1; dy/p(y) = dx has no elementary
    antiderivative, so the answer is x + C2 = the integral, checked like any answer."""
    problem = parse(text)
    derivation = get("reduction_of_order").derive(problem)
    (answer,) = derivation.solutions
    assert answer.lhs.has(sympy.Integral) and answer.rhs.has(sympy.Symbol("C2"))
    assert "no elementary antiderivative" in derivation.steps[-1].text
    for step in derivation.steps:
        assert check_step(step, problem).ok, step.title
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"
