"""Series solutions (tutor/engine/methods/series.py): power series about an ordinary point and
Frobenius series about a regular singular point; the textbook table (``bench/textbook_set.json``,
methods ``power_series`` and ``frobenius``), every step checked, every answer verified through its
order, forged steps caught; the checker's verdicts on truncated series; the parser's ``O(x^N)``
and "by power series"; generated problems verified.

Run: ``python -m pytest tests/test_engine_series.py -q``
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import sympy

from tutor.checker import check
from tutor.engine.registry import PREFERENCE, get
from tutor.engine.steps import check_step
from tutor.errors import ParseError
from tutor.parser import parse, parse_answer

TEXTBOOK = json.loads((Path(__file__).parent.parent / "bench" / "textbook_set.json").read_text())["problems"]
TABLE = [p for p in TEXTBOOK if p["method"] in ("power_series", "frobenius")]


def test_the_table_has_at_least_twelve_series_problems():
    assert len([p for p in TABLE if p["method"] == "power_series"]) >= 12
    assert len([p for p in TABLE if p["method"] == "frobenius"]) >= 8


@pytest.mark.parametrize("row", TABLE, ids=[r["id"] for r in TABLE])
def test_derivation_is_verified_and_every_step_checks(row):
    problem = parse(row["text"])
    assert problem.requested_method in (row["method"], "series")  # the text asks for a series
    method = get(row["method"])
    derivation = method.derive(problem)
    for step in derivation.steps:
        assert step.title and (step.text or step.latex), step
        result = check_step(step, problem)
        assert result.ok, f"{step.title}: {result.reason}"
    titles = [s.title for s in derivation.steps]
    assert "Recurrence relation" in titles
    assert derivation.solutions[0].has(sympy.Order)
    verdict = check(problem, derivation.answer(), timeout=30)
    assert verdict.verdict == "correct", verdict.reason
    assert "through order" in verdict.reason
    expected = check(problem, row["answer"], timeout=30)
    assert expected.verdict == "correct", f"table answer: {expected.reason}"


def test_airy_recurrence_and_coefficients_are_the_textbook_ones():
    steps = get("power_series").derive(parse("y'' - x y = 0")).steps
    recurrence = next(s for s in steps if s.title == "Recurrence relation")
    assert recurrence.latex == r"a_{n+2} = \frac{a_{n - 1}}{\left(n + 1\right) \left(n + 2\right)}"
    first = next(s for s in steps if s.title == "The first coefficients")
    assert r"a_{2} = 0" in first.latex and r"a_{3} = \frac{a_{0}}{6}" in first.latex
    named = next(s for s in steps if s.title.startswith("This is Airy"))
    assert r"\operatorname{Ai}" in named.text and r"\operatorname{Bi}" in named.text
    radius = next(s for s in steps if s.title == "Radius of convergence")
    assert radius.latex == r"R = \infty"


@pytest.mark.parametrize("text, radius", [
    ("(1 + x^2) y'' + x y' + 2y = 0", "R \\geq 1"),
    ("(1 - x^2) y'' - 2x y' + 6y = 0", "R \\geq 1"),
    ("(x - 3) y'' + y = 0, y(1) = 0, y'(1) = 1", "R \\geq 2"),
])
def test_radius_of_convergence_is_the_distance_to_the_nearest_singular_point(text, radius):
    steps = get("power_series").derive(parse(text)).steps
    assert next(s for s in steps if s.title == "Radius of convergence").latex == radius


def test_a_terminating_series_is_named_an_exact_polynomial_solution():
    derivation = get("power_series").derive(parse("(1 - x^2) y'' - 2x y' + 6y = 0"))
    step = next(s for s in derivation.steps if s.title == "A series that terminates")
    assert "1 - 3 x^{2}" in step.latex and check_step(step, parse("(1 - x^2) y'' - 2x y' + 6y = 0")).ok
    assert any(s.title.startswith("This is Legendre") for s in derivation.steps)


def test_forged_steps_fail_their_checks():
    problem = parse("y'' - x y = 0")
    steps = get("power_series").derive(problem).steps
    a = sympy.IndexedBase("a")
    n = sympy.Symbol("n", integer=True, nonnegative=True)
    recurrence = next(s for s in steps if s.title == "Recurrence relation")
    claim = recurrence.after.lhs  # Subs(c_n, a_{n+2}, the recurrence's right side)
    assert isinstance(claim, sympy.Subs)
    # a wrong recurrence: a_{n+2} = a_{n-1} / (n + 2) instead of / ((n + 1)(n + 2))
    wrong = sympy.Subs(claim.expr, claim.variables, (a[n - 1] / (n + 2),))
    assert check_step(dataclasses.replace(recurrence, after=sympy.Eq(wrong, 0, evaluate=False)), problem).ok is False
    # a wrong general coefficient c_n (the index shift done wrong)
    shift = next(s for s in steps if s.title == "Shift the indices")
    x = problem.variable
    forged = sympy.Eq(shift.after.lhs, shift.after.rhs + x ** 3 * sympy.Symbol("a2"), evaluate=False)
    assert check_step(dataclasses.replace(shift, after=forged), problem).ok is False
    # a wrong coefficient among the first ones
    first = next(s for s in steps if s.title == "The first coefficients")
    claim = first.after.lhs
    values = list(claim.point)
    values[1] = values[1] * 2  # a_3 = a_0/3 instead of a_0/6
    forged = sympy.Eq(sympy.Subs(claim.expr, claim.variables, values), 0, evaluate=False)
    assert check_step(dataclasses.replace(first, after=forged), problem).ok is False
    # a final answer with a wrong coefficient
    final = next(s for s in steps if s.title == "The two series solutions")
    (solution,) = final.after
    bad = sympy.Eq(solution.lhs, solution.rhs + sympy.Symbol("C1") * x ** 3 / 6)
    assert check_step(dataclasses.replace(final, after=(bad,)), problem).ok is False


def test_a_wrong_indicial_root_fails_its_check():
    problem = parse("2x y'' + y' + y = 0")
    steps = get("frobenius").derive(problem).steps
    roots = next(s for s in steps if s.title == "Indicial roots")
    claim = roots.after.lhs  # Subs(w1 F(s1) + w2 F(s2), (s1, s2), (r1, r2))
    forged = sympy.Eq(sympy.Subs(claim.expr, claim.variables, (sympy.Rational(1, 3), 0)), 0, evaluate=False)
    assert check_step(dataclasses.replace(roots, after=forged), problem).ok is False
    coefficients = next(s for s in steps if s.title.startswith("Coefficients for"))
    claim = coefficients.after.lhs
    forged = sympy.Eq(sympy.Subs(claim.expr, claim.variables, [v * 2 for v in claim.point]), 0, evaluate=False)
    assert check_step(dataclasses.replace(coefficients, after=forged), problem).ok is False
    recurrence = next(s for s in steps if s.title == "Recurrence relation")
    forged = sympy.Eq(recurrence.after.lhs, recurrence.after.rhs * 2, evaluate=False)
    assert check_step(dataclasses.replace(recurrence, after=forged), problem).ok is False


def test_frobenius_cases():
    method = get("frobenius")
    # roots 1/2 and -1/2 differ by an integer, but no logarithm is needed (Bessel of order 1/2)
    steps = method.derive(parse("x^2 y'' + x y' + (x^2 - 1/4) y = 0")).steps
    assert any(s.title == "No logarithm needed" for s in steps)
    assert any(s.title.startswith("This is Bessel") for s in steps)
    # a double root (Bessel of order 0): y_2 = y_1 ln x + ...
    derivation = method.derive(parse("x y'' + y' + x y = 0"))
    assert any(s.title == "The second solution has a logarithm" for s in derivation.steps)
    assert derivation.solutions[0].has(sympy.log)
    # roots differing by an integer with a logarithm (Bessel of order 1)
    derivation = method.derive(parse("x^2 y'' + x y' + (x^2 - 1) y = 0"))
    assert derivation.solutions[0].has(sympy.log)
    assert check(parse("x^2 y'' + x y' + (x^2 - 1) y = 0"), derivation.answer(), timeout=30).verdict == "correct"


@pytest.mark.parametrize("text, expected", [
    ("y'' + x y = 0", ("power_series",)),
    ("y'' + y = 0", ()),                            # constant coefficients: the closed form, not a series
    ("x^2 y'' - 2x y' + 2y = 0", ()),               # Cauchy-Euler, not Frobenius
    ("2x y'' + y' + y = 0", ("frobenius",)),
    ("y'' + e^x y = 0", ()),                        # coefficients not polynomials
    ("y'' + x y = x", ()),                          # nonhomogeneous
    ("x^2 y'' + y = 0", ()),                        # Cauchy-Euler again
    ("x^3 y'' + y = 0", ()),                        # irregular singular point; not ordinary either
    ("x(1 - x) y'' + (3/2 - 2x) y' - 2y = 0", ("frobenius",)),  # hypergeometric: p, q rational, analytic at 0
    ("y'' + k x y = 0", ()),                        # a letter in the coefficients
])
def test_matches(text, expected):
    problem = parse(text)
    assert tuple(m for m in ("power_series", "frobenius") if get(m).matches(problem)) == expected


def test_series_methods_come_last_in_the_textbook_order():
    assert PREFERENCE[-2:] == ("power_series", "frobenius")
    assert get("power_series").after_dsolve and get("frobenius").after_dsolve


def test_solve_keeps_closed_forms_and_uses_series_when_asked_or_when_nothing_else_answers():
    from tutor.engine import solve

    airy = solve("y'' - x y = 0", timeout=30)
    assert airy.method == "dsolve" and "Airy's equation" in airy.hint  # Ai, Bi: still the closed form
    asked = solve("Solve by power series: y'' - x y = 0", timeout=30)
    assert asked.verified and asked.method == "power_series" and asked.answer[0].has(sympy.Order)
    trig = solve("y'' + y = 0 by power series", timeout=30)
    assert trig.verified and trig.method == "power_series"
    assert solve("y'' + y = 0", timeout=30).method == "constant_coefficients"
    # no closed form from a textbook method or dsolve: the series answers (before a numerical table)
    ivp = solve("y'' + x^2 y = 0, y(0) = 1, y'(0) = 0", timeout=30)
    assert ivp.verified and ivp.method == "power_series" and ivp.status == "solved"
    frob = solve("Find the series solution of 2x y'' + y' + y = 0 near x = 0", timeout=30)
    assert frob.verified and frob.method == "frobenius"


# --------------------------------------------------------------------------- the checker on series


AIRY = "y'' - x y = 0"


@pytest.mark.parametrize("problem, answer, verdict", [
    (AIRY, "y = a0 (1 + x^3/6 + x^6/180) + a1 (x + x^4/12 + x^7/504) + O(x^8)", "correct"),
    (AIRY, r"y = C_1\left(1 + \frac{x^3}{6}\right) + C_2\left(x + \frac{x^4}{12}\right) + \mathcal{O}(x^6)", "correct"),
    (AIRY, "y = a0 (1 + x^3/3 + x^6/180) + a1 (x + x^4/12 + x^7/504) + O(x^8)", "wrong"),   # a_3 wrong
    (AIRY, "y = a0 (1 + x^3/6 + x^6/180) + a1 (x + x^4/12 + x^7/500) + O(x^8)", "wrong"),   # a_7 wrong
    (AIRY, "y = a0 (1 + x^3/6 + x^6/180) + a1 (x + x^4/12 + x^7/500) + O(x^7)", "correct"),  # a_7 not claimed
    (AIRY, "y = a0 (1 + x^3/6 + x^6/180) + O(x^8)", "incomplete"),                          # one solution only
    (AIRY, "y = 1 + x^3/6", "wrong"),                                                        # no O: not exact
    ("y'' + y = 0", "y = C1 (1 - x^2/2 + x^4/24) + C2 (x - x^3/6) + O(x^6)", "wrong"),      # x^5/120 missing
    ("y'' + y = 0", "y = C1 (1 - x^2/2 + x^4/24) + C2 (x - x^3/6) + O(x^5)", "correct"),
    (AIRY + ", y(0) = 1, y'(0) = 0", "y = 1 + x^3/6 + x^6/180 + O(x^8)", "correct"),
    (AIRY + ", y(0) = 2, y'(0) = 0", "y = 1 + x^3/6 + x^6/180 + O(x^8)", "wrong"),
    (AIRY + ", y(0) = 1, y'(0) = 0", "y = C (1 + x^3/6) + O(x^5)", "incomplete"),
    (AIRY + ", y(1) = 1, y'(1) = 0", "y = 1 + x^3/6 + x^6/180 + O(x^8)", "undecided"),       # a series about 0
    (AIRY + ", y(1) = 1, y'(1) = 0", "y = 1 + (x - 1)^2/2 + (x - 1)^3/6 + O((x - 1)^4)", "correct"),
    ("2x y'' + y' + y = 0", "y = C1 sqrt(x)(1 - x/3 + x^2/30) + C2 (1 - x + x^2/6) + O(x^3)", "correct"),
    ("2x y'' + y' + y = 0", "y = C1 sqrt(x)(1 - x/3 + x^2/20) + C2 (1 - x + x^2/6) + O(x^3)", "wrong"),
    ("y'' + e^x y = 0", "y = C1 (1 - x^2/2 - x^3/6) + C2 (x - x^3/6 - x^4/12) + O(x^5)", "correct"),
    ("y'' + e^x y = 0", "y = C1 (1 - x^2/2 + x^3/6) + C2 (x - x^3/6 - x^4/12) + O(x^5)", "wrong"),
    ("y' = y", "y = C (1 + x + x^2/2 + x^3/6) + O(x^4)", "correct"),                          # first order too
    ("y' = x + y^2, y(0) = 0", "y = x^2/2 + x^5/20 + O(x^8)", "correct"),                     # nonlinear IVP
    ("y' = x + y^2, y(0) = 0", "y = x^2/2 + x^5/10 + O(x^8)", "wrong"),
])
def test_checker_judges_a_truncated_series_through_its_order(problem, answer, verdict):
    result = check(problem, answer, timeout=30)
    assert result.verdict == verdict, result.reason
    if verdict in ("correct", "wrong") and ("O(" in answer or "mathcal" in answer):
        assert "order" in result.reason and result.details.get("method") == "series"


def test_the_wrong_verdict_names_the_residual_term():
    result = check(AIRY, "y = a0 (1 + x^3/3) + a1 (x + x^4/12) + O(x^6)")
    assert result.verdict == "wrong"
    assert "Checked through order $x^{6}$" in result.reason and "a_{0} x" in result.reason


def test_answers_read_the_order_symbol_and_refuse_a_bad_one():
    problem = parse(AIRY)
    for text in ("y = 1 + x + O(x^3)", r"y = 1 + \mathcal{O}\left(x^{3}\right)", r"y = 1 + O\left(x^{3}\right)",
                 "y = 1 + O((x - 2)^3)"):
        (solution,) = parse_answer(text, problem).solutions
        assert solution.rhs.has(sympy.Order), text
    assert parse_answer("y = O(x^3)", problem).solutions[0].rhs.getO().point == (0,)
    for bad in ("y = 1 + O(x y)", "y = 1 + O(sin x)", "y = 1 + O(x^-1)"):
        with pytest.raises(ParseError):
            parse_answer(bad, problem)
    # in a problem the letter O stays a letter (a parameter), as before
    assert parse("y' = O(x + 1)").parameters == (sympy.Symbol("O"),)


@pytest.mark.parametrize("text, asked", [
    ("Solve by power series: y'' - x y = 0", "power_series"),
    ("Find a power series solution of y'' - xy = 0 about x = 0", "power_series"),
    ("y'' + x y = 0, y(0) = 1, y'(0) = 0, using power series", "power_series"),
    ("Find the series solution of 2x y'' + y' + y = 0 near x = 0", "series"),
    ("2x y'' + y' + y = 0 by the method of Frobenius", "frobenius"),
    (r"\frac{d^2y}{dx^2} - xy = 0 \text{ by power series}", "power_series"),
    ("y'' - x y = 0", ""),
])
def test_the_text_can_ask_for_a_series(text, asked):
    problem = parse(text)
    assert problem.requested_method == asked
    assert problem.order == 2 and problem.equation.has(sympy.Derivative)


def test_the_final_answer_latex_parses_back_to_a_correct_answer():
    from tutor.engine import solve
    from tutor.format import answer_text

    for text in ("Solve by power series: y'' - x y = 0", "y'' - x y = 0, y(1) = 1, y'(1) = 0, by power series",
                 "Solve 2x y'' + y' + y = 0 by the method of Frobenius"):
        solution = solve(text, timeout=30)
        final = answer_text(solution.to_sections().final_answer)
        assert check(parse(text), final, timeout=30).verdict == "correct", final


@pytest.mark.parametrize("method_id", ["power_series", "frobenius"])
def test_generated_problems_are_verified(method_id):
    method = get(method_id)
    for difficulty in (1, 2, 3):
        for seed in range(3):
            practice = method.generate(seed, difficulty)
            assert method.matches(practice.problem), practice.problem.equation
            verdict = check(practice.problem, practice.answer, timeout=30)
            assert verdict.verdict == "correct", (seed, difficulty, practice.problem.equation, verdict.reason)
