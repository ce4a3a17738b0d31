"""Systems of linear first-order ODEs: the readers (tutor/system.py), the eigenvalue method
(tutor/engine/methods/linear_system.py), the checker's vector answers, and a session.

The table holds textbook systems with answers written out by hand (not by the engine): each
expected answer must be *correct* for the one checker, and the engine must solve the system
with every step checked.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import sympy

from tutor.checker import check
from tutor.engine import solve
from tutor.engine.methods.linear_system import classify_system, derive_system
from tutor.engine.steps import Check, check_step
from tutor.errors import ParseError
from tutor.parser import parse, parse_answer

t = sympy.Symbol("t")

#: The textbook table lives in ``bench/systems_set.json`` (shared with ``bench/engine.py --set systems``):
#: each problem, its answer written by hand, the eigenvalue case, the 2x2 equilibrium's words.
TABLE = json.loads((Path(__file__).parent.parent / "bench" / "systems_set.json").read_text())["problems"]
SYSTEMS = [(p["text"], p["answer"], p["case"], p["equilibrium"]) for p in TABLE]


def test_the_table_covers_every_case() -> None:
    assert len(TABLE) >= 15
    for case in ("real", "complex", "repeated"):
        assert {p["size"] for p in TABLE if p["case"] == case} == {2, 3}
    assert sum(", x(0)" in p["text"] or "X(0)" in p["text"] for p in TABLE) >= 4
    assert sum(not parse(p["text"]).homogeneous for p in TABLE) >= 2


@pytest.mark.parametrize("text, expected, case, equilibrium", SYSTEMS, ids=[s[0] for s in SYSTEMS])
def test_textbook_systems_are_solved_with_every_step_checked(text: str, expected: str, case: str,
                                                             equilibrium: str) -> None:
    problem = parse(text)
    assert problem.is_system
    verdict = check(problem, expected)
    assert verdict.verdict == "correct", (expected, verdict.reason)  # the table itself is right
    solution = solve(problem, timeout=30, check_steps=True)
    assert solution.status == "solved" and solution.verified, solution.attempts
    assert solution.method == "linear_system"
    bad = [(s.title, c.reason) for s, c in zip(solution.steps, solution.step_checks) if not c.ok]
    assert not bad
    assert all(s.check is not Check.NOTE for s in solution.steps)  # every step states a checked formula
    titles = " ".join(s.title for s in solution.steps)
    assert {"real": "Eigenvector", "complex": "Euler", "repeated": "Eigenvector"}[case] in titles
    if case == "complex":
        assert "Real solutions by Euler's formula" in titles
    if problem.ics:
        assert not solution.constants and "Initial conditions" in titles
    if equilibrium:
        assert equilibrium in classify_system(problem).equilibrium


def test_the_three_eigenvalue_cases_show_their_own_steps() -> None:
    repeated = derive_system(parse("x' = 3x - 4y, y' = x - y"))
    assert [s.title for s in repeated.steps].count("Generalized eigenvector") == 1
    triple = derive_system(parse("X' = [[2, 1, 0], [0, 2, 1], [0, 0, 2]] X"))
    assert [s.title for s in triple.steps].count("Generalized eigenvector") == 2
    star = derive_system(parse("x' = 2x, y' = 2y"))  # repeated, but two eigenvectors: no generalized one
    assert "Generalized eigenvector" not in [s.title for s in star.steps]
    complex_ = derive_system(parse("x' = -x + 2y, y' = -2x - y"))
    step = next(s for s in complex_.steps if s.title == "Eigenvalues")
    assert "-1 - 2 i" in step.latex and "-1 + 2 i" in step.latex
    polynomial = next(s for s in complex_.steps if s.title == "Characteristic polynomial")
    assert r"\det(A - \lambda I)" in polynomial.latex and r"\lambda^{2} + 2 \lambda + 5" in polynomial.latex


def test_the_nonhomogeneous_system_uses_the_fundamental_matrix() -> None:
    derivation = derive_system(parse("x' = x - y + t, y' = x + y"))
    titles = [s.title for s in derivation.steps]
    for title in ("Complementary solution", "Fundamental matrix", "Variation of parameters", "Integrate",
                  "Particular solution", "General solution"):
        assert title in titles


# --------------------------------------------------------------------------- forged steps


def _derivation_and_problem(text: str):
    problem = parse(text)
    return derive_system(problem), problem


def _forge(derivation, title: str, **changes):
    step = next(s for s in derivation.steps if s.title.startswith(title))
    return replace(step, **changes)


def test_forged_steps_fail() -> None:
    d, p = _derivation_and_problem("x' = x + 2y, y' = 3x + 2y, x(0) = 1, y(0) = 0")
    lam = sympy.Symbol("lambda")
    polynomial = _forge(d, "Characteristic polynomial")
    wrong_poly = replace(polynomial, after=sympy.Eq(polynomial.after.lhs, lam ** 2 - 3 * lam + 4, evaluate=False))
    assert check_step(polynomial, p).ok and not check_step(wrong_poly, p).ok
    roots = _forge(d, "Eigenvalues")
    assert not check_step(replace(roots, after=sympy.Eq(roots.after.lhs, (lam - 4) * (lam - 1))), p).ok
    vector = _forge(d, "Eigenvector for")
    M, v, w = vector.after
    assert not check_step(replace(vector, after=(M, sympy.ImmutableMatrix([1, 1]), w)), p).ok
    assert not check_step(replace(vector, after=(M, sympy.ImmutableMatrix([0, 0]), w)), p).ok  # v = 0
    one = _forge(d, "Solution from")
    x, y = p.unknowns
    assert not check_step(replace(one, after=(sympy.Eq(x, sympy.exp(-t)), sympy.Eq(y, sympy.exp(-t)))), p).ok
    general = _forge(d, "General solution")
    C1, C2 = sympy.symbols("C1 C2")
    forged = (sympy.Eq(x, C1 * sympy.exp(-t) + 2 * C2 * sympy.exp(4 * t)),
              sympy.Eq(y, C1 * sympy.exp(-t) + 3 * C2 * sympy.exp(4 * t)))
    assert not check_step(replace(general, after=forged), p).ok
    constants = _forge(d, "Initial conditions")
    forged = (sympy.Eq(x, sympy.exp(-t) + 2 * sympy.exp(4 * t)), sympy.Eq(y, -sympy.exp(-t) + 3 * sympy.exp(4 * t)))
    assert not check_step(replace(constants, after=forged), p).ok  # solves the system, misses x(0) = 1


def test_forged_generalized_eigenvector_and_particular_solution_fail() -> None:
    d, p = _derivation_and_problem("x' = 3x - 4y, y' = x - y")
    generalized = _forge(d, "Generalized eigenvector")
    M, w, v = generalized.after
    assert check_step(generalized, p).ok
    assert not check_step(replace(generalized, after=(M, w + sympy.ImmutableMatrix([0, 1]), v)), p).ok
    d, p = _derivation_and_problem("x' = y + 1, y' = x")
    particular = _forge(d, "Particular solution")
    x, y = p.unknowns
    assert check_step(particular, p).ok
    assert not check_step(replace(particular, after=(sympy.Eq(x, 0), sympy.Eq(y, 1))), p).ok
    variation = _forge(d, "Variation of parameters")
    lhs, rhs = variation.after.lhs, variation.after.rhs
    assert not check_step(replace(variation, after=sympy.Eq(lhs, rhs + sympy.ImmutableMatrix([1, 0]),
                                                            evaluate=False)), p).ok


# --------------------------------------------------------------------------- parsing


SAME_SYSTEM = [
    "x' = x + 2y, y' = 3x + 2y",
    "x' = x + 2y; y' = 3x + 2y",
    "x' = x + 2y\ny' = 3x + 2y",
    "dx/dt = x + 2y, dy/dt = 3x + 2y",
    "x'(t) = x(t) + 2y(t), y'(t) = 3x(t) + 2y(t)",
    "Solve the system x' = x + 2y, y' = 3x + 2y",
    r"\begin{cases} x' = x + 2y \\ y' = 3x + 2y \end{cases}",
    r"\begin{aligned} \frac{dx}{dt} &= x + 2y \\ \frac{dy}{dt} &= 3x + 2y \end{aligned}",
    "X' = [[1, 2], [3, 2]] X",
    r"X' = \begin{pmatrix} 1 & 2 \\ 3 & 2 \end{pmatrix} X",
    r"\mathbf{x}' = \begin{bmatrix} 1 & 2 \\ 3 & 2 \end{bmatrix} \mathbf{x}",
    "x' - x - 2y = 0, y' = 3x + 2y",
]


@pytest.mark.parametrize("text", SAME_SYSTEM)
def test_every_input_form_reads_the_same_system(text: str) -> None:
    problem = parse(text)
    assert problem.is_system and problem.n == 2 and problem.homogeneous
    assert problem.matrix == sympy.ImmutableMatrix([[1, 2], [3, 2]])
    assert [f.__name__ for f in problem.functions] == ["x", "y"] and problem.variable == t


def test_conditions_forcing_and_the_variable() -> None:
    p = parse("x' = x + 2y + e^t, y' = 3x + 2y - t, x(0) = 1, y(0) = -2")
    assert p.forcing == sympy.ImmutableMatrix([sympy.exp(t), -t]) and not p.homogeneous
    assert [(ic.function.__name__, ic.point, ic.value) for ic in p.ics] == [("x", 0, 1), ("y", 0, -2)]
    vector = parse("X' = [[1, 2], [3, 2]] X + [e^t, -t], X(0) = [1, -2]")
    assert vector.forcing == p.forcing and vector.ics == p.ics and vector.form == "matrix"
    s = parse("dx/ds = y, dy/ds = -x")
    assert str(s.variable) == "s"
    three = parse("x' = y, y' = z, z' = -x - y - z")
    assert three.n == 3 and three.matrix.row(2) == sympy.ImmutableMatrix([[-1, -1, -1]])
    assert r"\begin{cases}" in p.latex and "x\\left(0\\right) = 1" in p.latex


def test_a_scalar_equation_is_still_a_problem() -> None:
    p = parse("y'' + y = 0, y(0) = 1, y'(0) = 0")
    assert not p.is_system and p.order == 2


SYSTEM_ERRORS = [
    ("x' = x + ky, y' = x", "k in this system", "coefficients must be numbers", 9),
    ("x' = x y, y' = x", "not linear", None, None),
    ("x'' = y, y' = x", "order 2", "first order", 0),
    ("x' = x, y' = y, x(0) = 1", "a condition for y is missing", "x(0) = 1, y(0) = 1", 16),
    ("x' = x, y' = y, x(0) = 1, y(1) = 2", "at one point", None, None),
    ("x' = x + y, y' = x, z(0) = 1", "about z", None, 20),
    ("X' = [[1, 2], [3]] X", "square", "[[1, 2], [3, 4]]", 5),
    ("X' = [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]] X", "4x4", None, None),
    ("X' = [[1, 2], [3, 4]]", "multiply the unknown vector", None, None),
    ("X' = [[1, 2], [3, 4]] X + [1, 2, 3]", "forcing vector has 3 entries", None, None),
    ("x' = x + 2y, y' = 3x + 2y, z' = z, w' = w", "4 equations", None, None),
    ("x' = y, x' = -x", "only x' appears", "a single equation", 8),
    ("x' = t x + y, y' = x", "depend on the variable", None, None),
    ("x' = x + 2y,, y' = 3x + 2y + (", "never closed", None, None),
]


@pytest.mark.parametrize("text, message, suggestion, position", SYSTEM_ERRORS)
def test_system_errors_say_what_and_where(text: str, message: str, suggestion: str | None,
                                          position: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message
    if suggestion is not None:
        assert suggestion in (info.value.suggestion or "")
    if position is not None:
        assert info.value.position == position


def test_the_system_readers_never_evaluate_text(tmp_path) -> None:
    sentinel = tmp_path / "pwned"
    for text in (f"x' = __import__('os').system('touch {sentinel}'), y' = x",
                 f"X' = [[__import__('os'), 2], [3, 4]] X",
                 f"x' = y, y' = x, x(0) = open('{sentinel}'), y(0) = 1"):
        with pytest.raises(ParseError):
            parse(text)
    assert not sentinel.exists()


# --------------------------------------------------------------------------- checker


PROBLEM = "x' = x + 2y, y' = 3x + 2y"


@pytest.mark.parametrize("answer, verdict, words", [
    ("x = C1 e^{-t} + 2 C2 e^{4t}, y = -C1 e^{-t} + 3 C2 e^{4t}", "correct", "general solution"),
    ("y = -A e^{-t} + 3 B e^{4t}; x = A e^{-t} + 2 B e^{4t}", "correct", "2 independent"),
    (r"\begin{cases} x(t) = c_1 e^{-t} + 2c_2 e^{4t} \\ y(t) = -c_1 e^{-t} + 3c_2 e^{4t} \end{cases}", "correct", ""),
    ("X = C1 e^{-t} [1, -1] + C2 e^{4t} [2, 3]", "correct", "general solution"),
    (r"\mathbf{x} = C_1 e^{-t}\begin{pmatrix} 1 \\ -1 \end{pmatrix} + C_2 e^{4t}\begin{pmatrix} 2 \\ 3 \end{pmatrix}",
     "correct", ""),
    ("X(t) = [C1 e^{-t} + 2C2 e^{4t}, -C1 e^{-t} + 3 C2 e^{4t}]", "correct", ""),
    ("X = [1, -1] C1 e^{-t} + [2, 3] C2 e^{t}", "wrong", "not $0$"),
    ("X = C1 e^{-t} [1, -1, 2]", "undecided", "3 entries"),
    ("x = C1 e^{-t}, y = -C1 e^{-t}", "incomplete", "has 1"),
    ("x = (C1 + C2) e^{-t}, y = -(C1 + C2) e^{-t}", "incomplete", "combine into 1"),
    ("x = 0, y = 0", "incomplete", "particular solution"),
    ("x = C1 e^{-t} + 2 C2 e^{4t}, y = C1 e^{-t} + 3 C2 e^{4t}", "wrong", "x' = x + 2 y"),
    ("x = C1 e^{t}, y = C2 e^{t}", "wrong", "not $0$"),
    ("x = C1 e^{-t}", "undecided", "no formula for y"),
    ("x' = C1 e^{-t}, y = 1", "undecided", "derivatives"),
])
def test_vector_answers(answer: str, verdict: str, words: str) -> None:
    v = check(PROBLEM, answer)
    assert v.verdict == verdict, v.reason
    assert words in v.reason


@pytest.mark.parametrize("answer, verdict, words", [
    ("x = 3/5 e^{-t} + 2/5 e^{4t}, y = -3/5 e^{-t} + 3/5 e^{4t}", "correct", "every initial condition"),
    ("x = 2/5 e^{4t} + 3/5 e^{-t}, y = 3/5 e^{4t} - 3/5 e^{-t}", "correct", ""),
    ("x = e^{-t} + 2 e^{4t}, y = -e^{-t} + 3 e^{4t}", "wrong", r"x\left(0\right) = 1"),
    ("x = C1 e^{-t} + 2 C2 e^{4t}, y = -C1 e^{-t} + 3 C2 e^{4t}", "incomplete", "still free"),
    ("x = 3/5 e^{-t} + 2/5 e^{4t}, y = 3/5 e^{-t} + 3/5 e^{4t}", "wrong", "not $0$"),
])
def test_vector_answers_to_an_initial_value_problem(answer: str, verdict: str, words: str) -> None:
    v = check(PROBLEM + ", x(0) = 1, y(0) = 0", answer)
    assert v.verdict == verdict, v.reason
    assert words in v.reason


def test_a_models_vector_answer_is_described_as_the_models() -> None:
    v = check(PROBLEM, "x = C1 e^{-t} + 2 C2 e^{4t}, y = C1 e^{-t} + 3 C2 e^{4t}", author="model")
    assert v.verdict == "wrong" and "the model's answer" in v.reason


def test_parse_answer_reads_a_vector_answer() -> None:
    problem = parse(PROBLEM)
    answer = parse_answer("x = C_1 e^{-t} + 2C_2 e^{4t}, y = -C_1 e^{-t} + 3C_2 e^{4t}", problem)
    assert [str(c) for c in answer.constants] == ["C1", "C2"]
    assert [eq.lhs for eq in answer.solutions] == list(problem.unknowns)


# --------------------------------------------------------------------------- session


def test_a_session_solves_a_system_and_a_model_profile_hands_it_to_the_engine() -> None:
    from tutor.profiles import load_profile
    from tutor.session import TutorSession

    result = TutorSession(load_profile("symbolic")).run("x' = x + 2y, y' = 3x + 2y, x(0) = 1, y(0) = 0")
    data = result.to_dict()
    assert data["method"] == "linear_system" and data["verified"] and result.verdict == "correct"
    assert "saddle" in result.sections.classification and result.sections.final_answer.count("=") == 2
    assert not result.notice
    # A model profile is never asked (it was not trained on systems): the engine answers, labelled.
    local = load_profile("local", base_model="org/not-downloaded")
    result = TutorSession(local).run("x' = -x + 2y, y' = -2x - y")
    assert result.verdict == "correct" and result.engine_solution is not None
    assert "not trained" in result.notice and result.error is None


# --------------------------------------------------------------------------- practice and round trips


def test_practice_systems_are_verified_deterministic_and_read_back() -> None:
    from tutor.engine.methods.linear_system import generate
    from tutor.teaching import method_choices, practice_set

    assert ("Linear system (eigenvalue method)", "linear_system") in method_choices()
    sizes = set()
    for difficulty in (1, 2, 3):
        for seed in (1, 2, 3, 4):
            generated = generate(seed, difficulty)
            assert generate(seed, difficulty) == generated  # the same seed gives the same problem
            problem = parse(generated.text)
            assert problem.matrix == generated.problem.matrix and problem.ics == generated.problem.ics
            assert check(problem, generated.answer).verdict == "correct"
            sizes.add(problem.n)
    assert sizes == {2, 3}
    item = practice_set("linear_system", 5, 2)
    assert item.solution.verified and item.method_name == "Linear system (eigenvalue method)"
    assert item.to_dict()["problem"] == item.problem.latex


def test_hard_practice_systems_include_a_constant_forcing_the_engine_solves() -> None:
    """Difficulty 3 (2x2) sometimes adds a constant g: the generator's answer and the engine's
    variation-of-parameters answer are both verified, and the text reads back with its forcing."""
    from tutor.engine.methods.linear_system import generate

    forced = [g for g in (generate(seed, 3) for seed in range(40)) if any(g.problem.forcing)][:3]
    assert len(forced) == 3
    for generated in forced:
        problem = parse(generated.text)
        assert problem.forcing == generated.problem.forcing and any(problem.forcing)
        assert check(problem, generated.answer).verdict == "correct"
        solution = solve(problem, timeout=30)
        assert solution.verified and solution.method == "linear_system"


@pytest.mark.parametrize("text", [p["text"] for p in TABLE])
def test_the_latex_of_a_system_reads_back_as_the_same_system(text: str) -> None:
    problem = parse(text)
    again = parse(problem.latex)
    assert (again.matrix, again.forcing, again.ics) == (problem.matrix, problem.forcing, problem.ics)


def test_eigenvalues_without_a_real_closed_form_are_an_honest_no() -> None:
    # lambda^3 - 3 lambda - 1: three real roots, radicals only through complex numbers
    solution = solve("x' = y, y' = z, z' = x + 3y", timeout=20)
    assert solution.status == "no_closed_form" and not solution.verified and solution.answer is None
    assert "cubic" in solution.attempts[0]


def test_a_zero_eigenvalue_is_a_line_of_equilibria() -> None:
    problem = parse("x' = x + y, y' = x + y")
    assert "not isolated" in classify_system(problem).equilibrium
    solution = solve(problem, timeout=20, check_steps=True)
    assert solution.verified and all(c.ok for c in solution.step_checks)


def test_a_phase_portrait_shows_the_field_trajectories_and_eigenvector_lines() -> None:
    from tutor.slope_field import figure, slope_field

    field = slope_field(parse("x' = x + 2y, y' = 3x + 2y, x(0) = 1, y(0) = 0"))
    assert field.title == "Phase portrait" and (field.x_name, field.y_name) == ("x", "y")
    assert field.slopes is not None and field.point == (1.0, 0.0)
    labels = {c.label for c in field.curves}
    assert {"trajectories", "initial value problem", "eigenvector line, λ = -1", "eigenvector line, λ = 4"} <= labels
    ivp = next(c for c in field.curves if c.ivp)
    # the trajectory through (1, 0) at t = 0 follows x = 3/5 e^{-t} + 2/5 e^{4t}, y = -3/5 e^{-t} + 3/5 e^{4t}
    assert min(abs(ivp.x - 1.0) + abs(ivp.y)) < 1e-9
    assert figure(field).axes[0].get_title() == "Phase portrait"
    three = slope_field(parse("x' = y, y' = z, z' = x"))
    assert not three.curves and "two equations" in three.note


# --------------------------------------------------------------------------- a scalar equation as a system


@pytest.mark.parametrize("text", [
    "Write y'' + 3y' + 2y = 0 as a system",
    "Solve y'' - y = e^t, y(0) = 1, y'(0) = 0 by converting it to a first-order system",
    "y''' - y' = 0 as a system of first-order equations",
    "Convert y'' + 4y = 0 to a system and solve",
    "y'' + y = 0, rewritten as a first-order linear system",
])
def test_asking_for_a_system_is_read_as_a_request(text):
    problem = parse(text)
    assert not getattr(problem, "is_system", False) and problem.requested_method == "system"


def test_solving_the_system_is_not_a_request():
    problem = parse("Solve the system x' = x + 2y, y' = 3x + 2y")
    assert problem.is_system


@pytest.mark.parametrize("text, order", [
    ("Write y'' + 3y' + 2y = 0 as a system", 2),
    ("Solve y'' - y = e^t, y(0) = 1, y'(0) = 0 by converting it to a first-order system", 2),
    ("y''' - y' = 0 as a system of first-order equations", 3),
    ("y'' + y = 0 as a system", 2),
])
def test_a_scalar_equation_is_solved_as_a_system_every_step_checked(text, order):
    solution = solve(text, timeout=30, check_steps=True)
    assert solution.verified and solution.method == "as_system"
    assert solution.steps[0].title == "Write it as a system" and solution.steps[-1].title == "Back to y"
    assert any(s.title == "Matrix form" for s in solution.steps)
    assert "y_{%d} = y%s" % (order, "'" * (order - 1)) in solution.steps[0].text
    bad = [(s.title, c.reason) for s, c in zip(solution.steps, solution.step_checks) if not c.ok]
    assert not bad and len(solution.step_checks) == len(solution.steps)


def test_a_problem_that_cannot_be_a_system_says_so_and_is_solved_another_way():
    solution = solve("y'' + y = 0, y(0) = 0, y(pi) = 0 as a system", timeout=30)
    assert solution.verified and solution.method == "boundary_value_problem"
    assert solution.steps[0].title == "Not as a system" and "one point" in solution.steps[0].text
