"""First-order methods of the symbolic engine: worked examples, step checks, practice problems.

Per method, a table of textbook problems with the answer a textbook gives; for each the
engine (with that method forced) must produce an answer the one verifier calls correct,
every step must pass ``check_step``, and the table's own answer must be correct too (so a
wrong table row cannot hide).  For IVPs the engine's particular solution must equal the
table's at sample points.  Generated practice problems are verified for many seeds.

Run: ``.venv/bin/python -m pytest tests/test_engine_first_order.py -q``
"""
from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy

from tutor import parse, parse_answer
from tutor.checker import check
from tutor.engine import Check, check_step, practice, solve
from tutor.engine.registry import PREFERENCE, get, ids
from tutor.engine.solution import NO_CLOSED_FORM, SOLVED, TIMEOUT
from tutor.format import parse_sections, serialize

FIRST_ORDER = ("separable", "first_order_linear", "exact", "integrating_factor", "homogeneous", "bernoulli",
               "riccati")

# (method, problem, a textbook answer)
TABLE: list[tuple[str, str, str]] = [
    ("separable", "y' = x*y", "y = C e^{x^2/2}"),
    ("separable", "y' = y(1 - y)", "y = 1/(1 + C e^{-x})"),
    ("separable", "dy/dx = (1 + y^2)/(1 + x^2)", "y = tan(arctan(x) + C)"),
    ("separable", "y' = x e^x / y, y(0) = 2", "y = sqrt(2x e^x - 2e^x + 6)"),
    ("separable", "y' = 2x(y - 1), y(0) = 3", "y = 1 + 2e^{x^2}"),
    ("separable", "dT/dt = -k(T - 20)", "T = 20 + C e^{-k t}"),
    ("separable", "y' = y^2", "y = -1/(x + C)"),
    ("separable", "y' = cos(x) / (3y^2)", "y^3 = sin(x) + C"),
    ("first_order_linear", "y' + 2y = e^(-x), y(0) = 1", "y = e^{-x}"),
    ("first_order_linear", "y' + y/x = x^2", "y = x^3/4 + C/x"),
    ("first_order_linear", "x y' - 2y = x^3 sin(x)", "y = x^2 (C - cos x)"),
    ("first_order_linear", "y' = x + y", "y = C e^x - x - 1"),
    ("first_order_linear", "y' + 2xy = x", "y = 1/2 + C e^{-x^2}"),
    ("first_order_linear", "y' + y tan(x) = cos(x)", "y = (x + C) cos x"),
    ("first_order_linear", "y' - 3y = 6, y(0) = 0", "y = 2e^{3x} - 2"),
    ("exact", "(e^x + y)dx + (2 + x + y e^y)dy = 0", "e^x + x y + 2y + y e^y - e^y = C"),
    ("exact", "(3x^2 + y) dx + (x + 3y^2) dy = 0, y(1) = 1", "x^3 + x y + y^3 = 3"),
    ("exact", "2xy^2 + 2x^2 y y' = 0", "x^2 y^2 = C"),
    ("exact", "(y cos(x) + 2x e^y) + (sin(x) + x^2 e^y - 1) y' = 0", "y sin x + x^2 e^y - y = C"),
    ("exact", "(2x + y^2) + 2xy y' = 0", "x^2 + x y^2 = C"),
    ("exact", "(2xy + 3) dx + (x^2 - 1) dy = 0", "x^2 y + 3x - y = C"),
    ("integrating_factor", "(3xy + y^2) + (x^2 + xy) y' = 0", "x^3 y + x^2 y^2 / 2 = C"),
    ("integrating_factor", "y dx + (2x - y e^y) dy = 0", "x y^2 - (y^2 - 2y + 2) e^y = C"),
    ("integrating_factor", "(x^2 + y^2 + x) dx + x y dy = 0", "x^4/4 + x^3/3 + x^2 y^2/2 = C"),
    ("integrating_factor", "2 x y dx + (y^2 - 3x^2) dy = 0", "x^2/y^3 - 1/y = C"),
    ("integrating_factor", "(x y - 1) dx + (x^2 - x y) dy = 0", "x y - ln(x) - y^2/2 = C"),
    ("integrating_factor", "y dx - x dy = 0, y(1) = 2", "y = 2x"),
    ("homogeneous", "y' = (x^2 + y^2)/(x y)", "y^2 = x^2 (2 ln x + C)"),
    ("homogeneous", "y' = (x + y)/x", "y = x (ln x + C)"),
    ("homogeneous", "y' = y/x + x/y, y(1) = 2", "y = x sqrt(2 ln x + 4)"),
    ("homogeneous", "(x^2 + 3xy + y^2) dx - x^2 dy = 0", "y = -x - x/(ln x + C)"),
    ("homogeneous", "x y' = y + sqrt(x^2 + y^2)", "y + sqrt(x^2 + y^2) = C x^2"),
    ("homogeneous", "y' = (y^2 + 2xy)/x^2", "y = C x^2/(1 - C x)"),
    ("homogeneous", "dy/dx = (x - y)/(x + y)", "y^2 + 2xy - x^2 = C"),
    ("homogeneous", "(1 + 2e^(x/y)) dx + 2e^(x/y)(1 - x/y) dy = 0", "x + 2y e^{x/y} = C"),
    ("bernoulli", "y' + y = x y^2", "y = 1/(x + 1 + C e^x)"),
    ("bernoulli", "y' - y/x = -y^2/x", "y = x/(x + C)"),
    ("bernoulli", "x y' + y = x^2 y^2", "y = 1/(C x - x^2)"),
    ("bernoulli", "y' + y = y^3", "y^(-2) = 1 + C e^{2x}"),
    ("bernoulli", "y' + y/x = y^(-2)", "y^3 = 3x/4 + C/x^3"),
    ("bernoulli", "y' - 2y = e^x y^2, y(0) = 1", "y = 3e^{2x}/(4 - e^{3x})"),
    ("riccati", "y' = y^2 - y/x - 1/x^2", "y = 1/x + 2x/(C - x^2)"),
    ("riccati", "y' = 1 + x^2 - 2xy + y^2", "y = x + 1/(C - x)"),
    ("riccati", "y' = -2 - y + y^2", "y = -1 + 3/(1 + C e^{3x})"),
    ("riccati", "y' = e^(2x) + (1 - 2e^x) y + y^2", "y = e^x + 1/(C e^{-x} - 1)"),
    ("riccati", "y' = y^2 - 2/x^2", "y = 1/x + 3x^2/(C - x^3)"),
    ("riccati", "y' = 1 - x + x^2 + (1 - 2x) y + y^2", "y = x + 1/(C e^{-x} - 1)"),
]


def _solve_row(row: tuple[str, str, str]):
    method, text, _ = row
    return solve(text, method=method, timeout=60, check_steps=True)


@pytest.fixture(scope="module")
def solved() -> dict:
    """Every table row solved once (two at a time: the worker pool has two processes)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_solve_row, TABLE))
    return {row[1]: result for row, result in zip(TABLE, results)}


def test_table_covers_every_first_order_method():
    for method in FIRST_ORDER:
        assert sum(1 for row in TABLE if row[0] == method) >= 6, method


def test_registry_ids_and_order():
    assert PREFERENCE == ("laplace_transform", "autonomous", "boundary_value_problem", "separable", "first_order_linear", "exact", "integrating_factor", "homogeneous",
                          "bernoulli", "riccati", "constant_coefficients", "undetermined_coefficients",
                          "variation_of_parameters", "cauchy_euler", "reduction_of_order", "power_series", "frobenius")
    assert set(FIRST_ORDER) <= set(ids())
    assert ids() == tuple(i for i in PREFERENCE if i in ids())
    for method_id in FIRST_ORDER:
        assert get(method_id).id == method_id and get(method_id).name


@pytest.mark.parametrize("row", TABLE, ids=[f"{m}:{t}" for m, t, _ in TABLE])
def test_table_row(row, solved):
    method, text, expected = row
    solution = solved[text]
    assert solution.status == SOLVED, (solution.message, solution.attempts)
    assert solution.method == method
    assert solution.verified and solution.verdict == "correct"
    # Every step is data that checks: formulas follow from what came before.
    assert len(solution.step_checks) == len(solution.steps) >= 3
    for step, result in zip(solution.steps, solution.step_checks):
        assert result.ok, f"step {step.title!r}: {result.reason}"
    formula_steps = [s for s in solution.steps if s.check != Check.NOTE]
    assert len(formula_steps) >= 3
    # The textbook answer is right too (guards the table) ...
    problem = parse(text)
    assert check(problem, expected, timeout=30).verdict == "correct", expected
    # ... and for an IVP the engine's particular solution is the same function.
    if problem.ics and all(s.lhs == problem.unknown for s in solution.answer):
        theirs = parse_answer(expected, problem).solutions[0].rhs
        x = problem.variable
        for point in (0.5, 1.3, 1.7):
            assert abs(complex((solution.answer[0].rhs - theirs).evalf(subs={x: point}))) < 1e-8
    # Constants in textbook form: one C for a first-order general solution, none for an IVP.
    names = {str(c) for c in solution.constants}
    assert names == (set() if problem.ics else {"C"})


def test_lost_solutions_are_mentioned(solved):
    steps = solved["y' = x*y"].steps
    assert any("y = 0" in s.text or "y = 0" in s.latex for s in steps if "lost" in (s.title + s.text).lower())
    logistic = solved["y' = y(1 - y)"].steps
    lost = [s for s in logistic if s.title == "Solutions lost on the way"]
    assert lost and "y = 1" in lost[0].latex and "y = 0" in lost[0].latex


def test_integration_rules_are_named(solved):
    def texts(text: str) -> str:
        return " ".join(s.text for s in solved[text].steps)

    assert "partial fractions" in texts("y' = y(1 - y)")
    assert "integration by parts" in texts("y' = x e^x / y, y(0) = 2")
    assert "substitution" in texts("y' + 2xy = x")


def test_ivp_ends_by_solving_for_the_constant(solved):
    steps = solved["y' + 2y = e^(-x), y(0) = 1"].steps
    assert steps[-2].title.startswith("Use the initial condition")
    assert steps[-1].title.startswith("Solve for the constant") and steps[-1].check == Check.CONSTANTS
    assert "C = 0" in steps[-1].latex


def test_constants_absorbed(solved):
    # ln|y| = x^2/2 + C  ->  y = e^{C} e^{x^2/2}  ->  y = C e^{x^2/2}
    solution = solved["y' = x*y"]
    assert solution.answer_sympy == "Eq(y(x), C*exp(x**2/2))"
    assert any(s.title == "Rename the constant" for s in solution.steps)


def test_to_dict_interface(solved):
    data = json.loads(json.dumps(solved["y' + 2y = e^(-x), y(0) = 1"].to_dict()))
    assert set(data) == {"problem", "classification", "method", "hint", "steps", "answer", "verified"}
    assert set(data["classification"]) == {"order", "degree", "linear", "types"}
    assert data["classification"] == {"order": 1, "degree": 1, "linear": True,
                                      "types": ["first_order_linear", "integrating_factor"]}
    assert data["method"] == "first_order_linear" and data["verified"] is True
    assert all(set(step) == {"title", "text", "latex"} for step in data["steps"])
    assert data["answer"]["latex"] == "y = e^{- x}"
    # answer.sympy evaluates in SymPy's namespace to an Eq in the applied function
    namespace = {name: getattr(sympy, name) for name in dir(sympy)}
    namespace.update(y=sympy.Function("y"), x=sympy.Symbol("x"))
    value = eval(data["answer"]["sympy"], namespace)  # our own output, not user text
    assert value == sympy.Eq(sympy.Function("y")(sympy.Symbol("x")), sympy.exp(-sympy.Symbol("x")))


def test_to_sections_round_trips_through_the_tutor_format(solved):
    solution = solved["y' = x*y"]
    sections = solution.to_sections()
    parsed = parse_sections(serialize(sections))
    assert parsed.final_answer == sections.final_answer == "$y = C e^{\\frac{x^{2}}{2}}$"
    assert len(parsed.steps) == len(solution.steps)
    assert "Separable" in parsed.classification and parsed.hint == solution.hint


def test_default_method_choice_follows_textbook_order():
    solution = solve("y' = 2y")
    assert solution.method == "separable"
    assert solution.classification.types[:2] == ("separable", "first_order_linear")


@pytest.mark.parametrize("text, expected", [
    ("(1 + 2e^(x/y)) dx + 2e^(x/y)(1 - x/y) dy = 0", "Eq(x + 2*y(x)*exp(x/y(x)), C)"),
    ("y' = (x + y)/x", "Eq(y(x), x*(C + log(x)))"),
])
def test_homogeneous_by_x_equals_u_y(text, expected):
    """The second substitution (x = u y, used when the v = y/x integral has no closed form)."""
    from tutor.engine.methods.common import normal_form_steps
    from tutor.engine.methods.homogeneous import Homogeneous, ratio_form

    problem = parse(text)
    _, steps, _ = normal_form_steps(problem)
    derivation = Homogeneous()._by_u(problem, ratio_form(problem), steps, "for the test")
    assert str(derivation.solutions[0]) == expected
    assert all(check_step(step, problem).ok for step in derivation.steps)
    assert any(step.title == "Substitute x = u y" for step in derivation.steps)
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"


# --------------------------------------------------------------------------- fallback, honesty, timeout


def test_dsolve_fallback_says_which_hint():
    solution = solve("(y')^2 = x", timeout=30)
    assert solution.status == SOLVED and solution.method == "dsolve" and solution.verified
    assert any("hint" in s.text for s in solution.steps)


def test_never_returns_an_unverified_answer(monkeypatch):
    """A method whose answer is wrong is dropped; the next one (or dsolve) answers."""
    import tutor.engine.registry as registry
    from tutor.engine.base import Derivation
    from tutor.engine.solve import _solve_here

    real_get = registry.get

    class Broken:
        id = "separable"
        name = "broken"

        def derive(self, problem):
            y, x = problem.unknown, problem.variable
            return Derivation("separable", (), (sympy.Eq(y, sympy.exp(3 * x)),), ())

        def hint(self, problem):
            return ""

    monkeypatch.setattr(registry, "get", lambda i: Broken() if i == "separable" else real_get(i))
    problem = parse("y' = 2y")
    solution = _solve_here(problem, None, 60.0)
    assert solution.method == "first_order_linear" and solution.verified
    assert any("separable" in a and "not accepted" in a for a in solution.attempts)
    forced = _solve_here(problem, "separable", 60.0)
    assert forced.answer is None and not forced.verified and forced.status == NO_CLOSED_FORM


def test_timeout_returns_could_not_finish():
    started = time.monotonic()
    solution = solve("y' = sin(x*y)", timeout=1.0)
    elapsed = time.monotonic() - started
    assert solution.status == TIMEOUT and solution.answer is None and not solution.verified
    assert "could not finish in time" in solution.message.lower()
    assert elapsed < 8  # bounded: the worker is killed, the call does not hang
    assert solution.to_dict()["answer"] is None


def test_solve_works_from_a_thread():
    with ThreadPoolExecutor(max_workers=1) as pool:
        solution = pool.submit(solve, "y' = -y, y(0) = 5").result(timeout=60)
    assert solution.verified and solution.answer_sympy == "Eq(y(x), 5*exp(-x))"


# --------------------------------------------------------------------------- practice problems

SEEDS = range(6)


def _practice(args):
    method, seed, difficulty = args
    return practice(method, seed, difficulty, timeout=30)


@pytest.mark.parametrize("method", FIRST_ORDER)
def test_generated_practice_problems_are_verified(method):
    jobs = [(method, seed, difficulty) for difficulty in (1, 2, 3) for seed in SEEDS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        generated = list(pool.map(_practice, jobs))  # practice() raises unless the checker says correct
    texts = {str(p.problem.equation) + str(p.problem.ics) for p in generated}
    assert len(texts) >= 4, "generators should vary with the seed"
    again = get(method).generate(3, 2)
    assert again.problem == get(method).generate(3, 2).problem  # deterministic per seed


@pytest.mark.parametrize("method", FIRST_ORDER)
def test_engine_solves_its_own_practice_problems(method):
    rng = random.Random(method)
    for seed in rng.sample(range(100), 2):
        generated = get(method).generate(seed, 2)
        solution = solve(generated.problem, timeout=60, check_steps=True)
        assert solution.verified, (method, seed, generated.problem.equation, solution.attempts)
        assert method in solution.classification.types
        assert all(c.ok for c in solution.step_checks)


# --------------------------------------------------------------------------- the step checker itself


def test_check_step_rejects_a_wrong_step():
    from tutor.engine.steps import Step

    problem = parse("y' = x*y")
    x, y = problem.variable, problem.unknown
    good = Step("s", "t", check=Check.EQUIVALENT, before=problem.equation,
                after=sympy.Eq(sympy.Derivative(y, x) / y, x))
    bad = Step("s", "t", check=Check.EQUIVALENT, before=problem.equation,
               after=sympy.Eq(sympy.Derivative(y, x) / y, 2 * x))
    wrong_integral = Step("s", "t", check=Check.ANTIDERIVATIVE,
                          after=sympy.Eq(sympy.Integral(x * sympy.exp(x), x), x * sympy.exp(x)))
    wrong_solution = Step("s", "t", check=Check.SOLVES, after=sympy.Eq(y, sympy.exp(x ** 2)))
    assert check_step(good, problem).ok
    assert not check_step(bad, problem).ok
    assert not check_step(wrong_integral, problem).ok
    assert not check_step(wrong_solution, problem).ok
    assert not check_step(Step("s", "t", check=Check.NOTE, after=sympy.Eq(y, 0)), problem).ok


# --------------------------------------------------------------------------- command line


def test_cli_solve_json_and_text(capsys):
    from tutor.cli import main

    assert main(["solve", "y' = 2y, y(0) = 3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "separable" and data["verified"] is True
    assert data["answer"]["sympy"] == "Eq(y(x), 3*exp(2*x))"
    assert main(["solve", "y' + y = x y^2"]) == 0
    text = capsys.readouterr().out
    assert "Bernoulli" in text and "Final answer" in text and "Verified by substitution: yes" in text
    assert main(["solve", "y' = = 2"]) == 2


@pytest.mark.parametrize("text, weight", [
    ("x y' + y/(-1 + x^2 y) = 0", -2),       # SymPy's separable_reduced_01
    ("y/(-x + x^4 y) + y' = 0", -3),         # separable_reduced_02 and _11
    ("t y' + y/(-1 + t^2 y) = 0, y(1) = 2", -2),
])
def test_generalized_homogeneous_equations_use_y_equals_u_x_to_the_m(text, weight):
    """f(lambda x, lambda^m y) = lambda^(m-1) f: y = u x^m separates (SymPy's separable_reduced)."""
    from tutor.engine.methods.homogeneous import weight_form

    problem = parse(text)
    assert weight_form(problem)[0] == weight
    derivation = get("homogeneous").derive(problem)
    assert "generalized sense" in derivation.hint
    assert any(step.title.startswith("Substitute y = ") for step in derivation.steps)
    for step in derivation.steps:
        assert check_step(step, problem).ok, step.title
    assert check(problem, derivation.answer(), timeout=30).verdict == "correct"


@pytest.mark.parametrize("text, method_id", [
    ("y' = y^2/x^3 + 2y/x", "bernoulli"),   # weight 2 too; Bernoulli's substitution is the textbook's
    ("y' = y^2 - 2/x^2", "riccati"),        # weight -1 too; the app's Riccati example
])
def test_an_equation_with_weights_and_its_own_method_keeps_it(text, method_id):
    problem = parse(text)
    assert not get("homogeneous").matches(problem)
    assert get(method_id).matches(problem)
    assert solve(problem, timeout=30).method == method_id
