"""Boundary value problems: a linear equation with conditions at two (or more) different points.

:class:`BoundaryValueProblem` (``boundary_value_problem``) does what the textbook does: the general
solution first (by the linear method that fits the equation without its conditions: constant
coefficients, undetermined coefficients, variation of parameters, Cauchy-Euler — their steps
follow), then each condition as a linear equation in the constants, and the system's three
outcomes, stated and verified:

* **one solution** — the coefficient matrix is invertible: the constants are solved for;
* **no solution** — the conditions contradict each other: a combination of the equations gives
  ``0 = c`` with ``c != 0`` (shown, and checked as an identity in the constants); the derivation
  then ends without an answer and :func:`tutor.engine.solve.solve` reports "no solution";
* **infinitely many** — the system is consistent but singular: the constants it does not fix stay
  free (``y = C sin x``), and the checker accepts such a family for a boundary value problem
  (every member meets every condition).

**Eigenvalue problems** ``a y'' + k lambda y = 0`` with ``y = 0`` or ``y' = 0`` at two points (one
parameter, the eigenvalue): the three cases ``lambda < 0, = 0, > 0`` each with its general solution;
a case gives an eigenvalue when the determinant of the conditions' system vanishes — for
``lambda = mu^2`` a sine or cosine of ``w mu``, so ``mu_n = n pi / w`` or ``(2n - 1) pi / (2w)`` —
and each eigenfunction is checked to solve the equation with its eigenvalue (n an integer) and to
meet both conditions; the derivation ends with the list (``result = "eigenvalues"``), not one answer.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import CannotDerive, Derivation, Method, Practice, make_problem
from tutor.engine.linear_ode import linear_form
from tutor.engine.steps import Check, Step, ltx, tex
from tutor.problem import InitialCondition, Problem, conditions_at_several_points

#: Linear methods that can give the general solution, in the order tried.
GENERAL_METHODS = ("constant_coefficients", "undetermined_coefficients", "variation_of_parameters", "cauchy_euler")


def is_boundary_value_problem(problem: Problem) -> bool:
    """Conditions given at two or more different points."""
    return conditions_at_several_points(ic.point for ic in problem.ics)


def _general_solution(problem: Problem):
    """(method, derivation) of the first linear method that solves the equation without its conditions."""
    from dataclasses import replace

    from tutor.engine.registry import get

    free = replace(problem, ics=())
    for method_id in GENERAL_METHODS:
        method = get(method_id)
        try:
            if method.matches(free):
                derivation = method.derive(free)
                if len(derivation.solutions) == 1 and derivation.constants:
                    return method, derivation
        except CannotDerive:
            continue
    raise CannotDerive("no linear method gives the general solution")


MU = sympy.Symbol("mu", positive=True)
N = sympy.Symbol("n", integer=True, positive=True)


def eigen_parameter(problem: Problem) -> tuple[sympy.Symbol, sympy.Expr] | None:
    """``(lambda, k)`` for ``a y'' + k lambda y = 0`` (a, k numbers, k/a > 0) with two conditions
    ``y = 0`` or ``y' = 0`` at two different points; None otherwise."""
    if problem.order != 2 or len(problem.parameters) != 1 or len(problem.ics) != 2:
        return None
    if not is_boundary_value_problem(problem) or any(ic.value != 0 or not ic.point.is_number for ic in problem.ics):
        return None
    (lam,) = problem.parameters
    equation = linear_form(problem.expr, problem.function, problem.variable)
    if equation is None or equation.rhs != 0:
        return None
    a0, a1, a2 = equation.coefficients
    k = sympy.cancel(a0 / a2 / lam)
    if a1 != 0 or a2.free_symbols or k.free_symbols or not k.is_positive:
        return None
    return lam, k


def _trig_zeros(det: sympy.Expr) -> tuple[str, sympy.Expr, sympy.Expr] | None:
    """``det = g(mu) sin(w mu)`` or ``g(mu) cos(w mu)`` with g free of zeros for mu > 0:
    (kind, w, mu_n) with mu_n the n-th positive zero; None when det is not of that form."""
    for form in (det, sympy.trigsimp(det), sympy.simplify(det)):
        for trig in (sympy.sin, sympy.cos):
            for atom in form.atoms(trig):
                w = sympy.cancel(atom.args[0] / MU)
                if w.free_symbols or not w.is_positive:
                    continue
                g = sympy.simplify(form / atom)
                if g.has(sympy.sin, sympy.cos, sympy.tan) or not (g.is_positive or g.is_negative):
                    continue
                zero = N * sympy.pi / w if trig is sympy.sin else (2 * N - 1) * sympy.pi / (2 * w)
                return trig.__name__, w, zero
    return None


def eigen_analysis(problem: Problem) -> tuple[list[Step], list[tuple[sympy.Expr, sympy.Expr]]]:
    """The steps of the three cases and the eigenpairs ``[(lambda_n, y_n)]`` (in ``N``, the positive
    integer ``n``; ``(0, y_0)`` for the eigenvalue 0).  Raises CannotDerive.  The checker compares a
    student's eigenvalue answer with these (tutor/checker/special.py)."""
    lam, k = eigen_parameter(problem)
    x, y = problem.variable, problem.unknown
    c1, c2 = sympy.symbols("C1 C2")
    name = ltx(lam)
    steps = [Step("Eigenvalue problem",
                  f"The conditions are homogeneous, so $y = 0$ always solves the problem; the question is for which "
                  f"${name}$ there is a nontrivial solution (an eigenfunction). The general solution depends on the "
                  f"sign of ${name}$: three cases.", "", Check.NOTE)]
    cases = (
        (f"{name} < 0", -MU ** 2 / k, [sympy.cosh(MU * x), sympy.sinh(MU * x)], f"{name} = -\\mu^2/{ltx(k)}" if k != 1 else f"{name} = -\\mu^2"),
        (f"{name} = 0", sympy.S.Zero, [sympy.S.One, x], f"{name} = 0"),
        (f"{name} > 0", MU ** 2 / k, [sympy.cos(MU * x), sympy.sin(MU * x)], f"{name} = \\mu^2/{ltx(k)}" if k != 1 else f"{name} = \\mu^2"),
    )
    eigen: list[tuple[sympy.Expr, sympy.Expr]] = []  # (lambda_n, y_n)
    for title, value, basis, substitution in cases:
        ode = sympy.Eq(problem.equation.lhs.subs(lam, value), problem.equation.rhs.subs(lam, value))
        general = c1 * basis[0] + c2 * basis[1]
        steps.append(Step(f"Case ${title}$",
                          f"With ${substitution}$ ($\\mu > 0$) the equation is ${tex(ode, x)}$, whose general solution is",
                          tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general), ode=ode))
        A = sympy.Matrix([[sympy.diff(b, x, ic.order).subs(x, ic.point) for b in basis] for ic in problem.ics])
        det = sympy.simplify(A.det())
        shown = ",\\quad ".join(ltx(sympy.Eq(sympy.diff(general, x, ic.order).subs(x, ic.point), 0)) for ic in problem.ics)
        if value != 0 and title.endswith("> 0"):
            zeros = _trig_zeros(det)
            if zeros is None:
                raise CannotDerive("the eigenvalue condition is not a sine or cosine equation")
            kind, w, mu_n = zeros
            A_n = A.subs(MU, mu_n).applyfunc(sympy.simplify)
            null = A_n.nullspace()
            if len(null) != 1:
                raise CannotDerive("no single eigenfunction per eigenvalue")
            v = null[0]
            y_n = sympy.simplify((v[0] * basis[0] + v[1] * basis[1]).subs(MU, mu_n))
            y_n = sympy.simplify(y_n / sympy.factor_terms(y_n).as_coeff_Mul()[0])
            lam_n = sympy.simplify(value.subs(MU, mu_n))
            steps.append(Step(
                "Eigenvalue condition",
                f"A nontrivial $(C_1, C_2)$ needs a zero determinant of the conditions' system: ${ltx(det)} = 0$, "
                f"so $\\{kind}({ltx(w * MU)}) = 0$, i.e. $\\mu = {ltx(mu_n)}$ for $n = 1, 2, 3, \\dots$",
                shown + r"\ \Longrightarrow\ " + ltx(sympy.Eq(det, 0)), Check.IDENTITY,
                after=sympy.Eq(det.subs(MU, mu_n), 0, evaluate=False)))
            eigen_ode = sympy.Eq(problem.equation.lhs.subs(lam, lam_n), problem.equation.rhs.subs(lam, lam_n))
            steps.append(Step(
                "Eigenvalues and eigenfunctions",
                f"Each such $\\mu$ gives an eigenvalue and (up to a constant factor) one eigenfunction, which meets both "
                "conditions:",
                f"{name}_n = {ltx(lam_n)},\\quad y_n = {ltx(y_n)},\\quad n = 1, 2, 3, \\dots", Check.CONSTANTS,
                after=sympy.Eq(y, y_n), ode=eigen_ode))
            eigen.append((lam_n, y_n))
            continue
        if det != 0 and (det.is_positive or det.is_negative):
            steps.append(Step(
                f"No eigenvalue with ${title}$",
                f"The conditions give ${shown}$; the determinant ${ltx(det)}$ is not zero for $\\mu > 0$, so only "
                "$C_1 = C_2 = 0$: the trivial solution.", ltx(sympy.Eq(sympy.Determinant(A), det)),
                Check.IDENTITY, after=sympy.Eq(sympy.Determinant(A), det, evaluate=False)))
            continue
        if det == 0 and value == 0:
            null = A.nullspace()
            y0 = sympy.simplify(null[0][0] * basis[0] + null[0][1] * basis[1])
            steps.append(Step(f"${name} = 0$ is an eigenvalue",
                              f"The conditions give ${shown}$, which leave a constant free:",
                              f"y_0 = {ltx(y0)}", Check.CONSTANTS, after=sympy.Eq(y, y0), ode=ode))
            eigen.append((sympy.S.Zero, y0))
            continue
        raise CannotDerive(f"cannot decide the case {title}")
    return steps, eigen


def _eigen_derive(method: Method, problem: Problem) -> Derivation:
    lam, _ = eigen_parameter(problem)
    name = ltx(lam)
    steps, eigen = eigen_analysis(problem)
    parts = [f"${name}_0 = 0$, $y_0 = {ltx(f)}$" if l == 0 else
             f"${name}_n = {ltx(l)}$, $y_n = {ltx(f)}$, $n = 1, 2, 3, \\dots$" for l, f in eigen]
    statement = ("Eigenvalues and eigenfunctions: " + "; ".join(parts)
                 + " (any nonzero multiple of an eigenfunction is one too).")
    return Derivation(method.id, tuple(steps), (), (), (), hint=method.hint(problem), result="eigenvalues",
                      statement=statement)


class BoundaryValueProblem(Method):
    """A linear equation of order >= 2 with conditions at different points."""

    id = "boundary_value_problem"
    name = "Boundary value problem"

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2 or not is_boundary_value_problem(problem):
            return False
        if problem.parameters:
            return eigen_parameter(problem) is not None
        return linear_form(problem.expr, problem.function, problem.variable) is not None

    def hint(self, problem: Problem) -> str:
        return ("The conditions are given at different points, so this is a boundary value problem: find the "
                "general solution, put each condition in to get a linear system for the constants, and decide "
                "whether it has one solution, none, or infinitely many.")

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("not a linear boundary value problem")
        if problem.parameters:
            return _eigen_derive(self, problem)
        x, y = problem.variable, problem.unknown
        method, general_derivation = _general_solution(problem)
        general = general_derivation.solutions[0].rhs
        constants = list(general_derivation.constants)
        points = ", ".join(f"${ltx(p)}$" for p in dict.fromkeys(ic.point for ic in problem.ics))
        steps = [Step("Boundary value problem",
                      f"The conditions are given at the points {points}, not all at one point: unlike an initial "
                      f"value problem, a solution need not exist or be unique. First the general solution, by "
                      f"the method \"{method.name}\":", "", Check.NOTE)]
        steps.extend(general_derivation.steps)
        rows, values, shown = [], [], []
        for ic in problem.ics:
            value_at = sympy.expand(sympy.diff(general, x, ic.order).subs(x, ic.point))
            rows.append([value_at.coeff(c) for c in constants])
            values.append(sympy.simplify(ic.value - value_at.subs({c: 0 for c in constants})))
            derivative = sympy.Derivative(general, (x, ic.order)) if ic.order else general
            steps.append(Step(
                f"Condition ${ic.latex(problem.function)}$",
                "Put the point into the general solution" + (" (differentiated)" if ic.order else "") + ":",
                ltx(sympy.Eq(value_at, ic.value)),
                Check.IDENTITY,
                after=sympy.Eq(sympy.Subs(derivative, x, ic.point), value_at, evaluate=False)))
            shown.append(sympy.Eq(value_at, ic.value))
        A, b = sympy.Matrix(rows), sympy.Matrix(values)
        rank, augmented = A.rank(simplify=True), A.row_join(b).rank(simplify=True)
        system = r"\begin{cases}" + r"\\ ".join(ltx(e) for e in shown) + r"\end{cases}"
        if augmented > rank:
            return self._no_solution(problem, steps, A, b, shown, system)
        found = sympy.solve([e.lhs - e.rhs for e in shown], constants, dict=True)
        if len(found) != 1:
            raise CannotDerive("the system for the constants could not be solved")
        values_found = found[0]
        free = [c for c in constants if c not in values_found]
        particular = general.xreplace(values_found)  # still C1 y1 + C2 y2 + y_p in shape: not expanded
        if len(free) == 1 and free[0].name != "C":
            particular = particular.xreplace({free[0]: sympy.Symbol("C")})
            free = [sympy.Symbol("C")]
        solution = sympy.Eq(y, particular)
        assignments = r",\quad ".join(ltx(sympy.Eq(c, v)) for c, v in values_found.items())
        if not free:
            text = (f"The determinant of the system is ${ltx(sympy.simplify(A.det()))} \\neq 0$" if A.is_square
                    else "The system has full rank") + ", so there is exactly one solution:"
        else:
            names = ", ".join(f"${ltx(c)}$" for c in free)
            text = (f"The system is consistent but singular (rank {rank} for {len(constants)} constants): it fixes "
                    f"{'no constant' if not values_found else '$' + assignments + '$'} and leaves {names} free, so there "
                    "are infinitely many solutions:")
        steps.append(Step("Solve the system for the constants", text,
                          system + r"\ \Longrightarrow\ " + (assignments + r"\qquad " if values_found else "")
                          + tex(solution, x), Check.CONSTANTS, after=solution))
        return Derivation(self.id, tuple(steps), (solution,), tuple(free), (True,), hint=self.hint(problem))

    def _no_solution(self, problem: Problem, steps: list[Step], A: sympy.Matrix, b: sympy.Matrix,
                     shown: list[sympy.Eq], system: str) -> Derivation:
        """A combination of the equations with zero left side and nonzero right side: 0 = c."""
        for vector in A.T.nullspace():
            weights = [sympy.nsimplify(sympy.simplify(w)) for w in vector]
            c = sympy.simplify(sum(w * v for w, v in zip(weights, b)))
            if c != 0:
                break
        else:
            raise CannotDerive("inconsistent system without a contradicting combination")
        combination = sympy.Add(*[w * (e.lhs - e.rhs) for w, e in zip(weights, shown)])
        words = " + ".join(f"({ltx(w)})\\cdot(\\text{{equation {i}}})" for i, w in enumerate(weights, 1) if w != 0)
        steps.append(Step(
            "The conditions contradict each other",
            f"The system has no solution: ${words}$ cancels every constant and leaves "
            f"$0 = {ltx(c)}$, which is false. So this boundary value problem has **no solution**.",
            system + r"\ \Longrightarrow\ 0 = " + ltx(c),
            Check.IDENTITY, after=sympy.Eq(combination, -c, evaluate=False)))
        return Derivation(self.id, tuple(steps), (), (), (), hint=self.hint(problem), result="no_solution",
                          statement="No solution: the boundary conditions contradict each other.")

    # (equation builder, point b): y'' + k^2 y = g on [0, b] with the three outcomes
    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, y = sympy.Symbol("x"), sympy.Function("y")
        k = sympy.Integer(rng.randint(1, 3))
        kind = rng.choice(["unique", "unique", "none", "many"] if difficulty >= 2 else ["unique"])
        pi = sympy.pi
        if kind == "unique":
            end = rng.choice([pi / (2 * k), pi / (4 * k), sympy.S.One])
        else:
            end = pi / k  # sin(kx) vanishes at both ends
        rhs = sympy.Integer(rng.choice([1, 2, 4])) * x if difficulty != 2 else sympy.S.Zero
        equation = sympy.Eq(sympy.Derivative(y(x), (x, 2)) + k ** 2 * y(x), rhs)
        v0 = sympy.Integer(rng.randint(0, 2))
        v1 = sympy.Integer(rng.randint(1, 3))
        if kind == "many":  # choose the end value the family y_p + C sin kx takes there
            v1 = sympy.simplify((rhs / k ** 2).subs(x, end) - v0)
        ics = (InitialCondition(0, sympy.S.Zero, v0), InitialCondition(0, end, v1))
        problem = make_problem(equation, y, x, ics)
        derivation = self.derive(problem)
        if not derivation.solutions:  # "no solution": ask for the nearby problem that has one
            problem = make_problem(equation, y, x, (ics[0], InitialCondition(0, end / 2, v1)))
            derivation = self.derive(problem)
        return Practice(self.id, 0, difficulty, problem, derivation.answer())


METHODS = [BoundaryValueProblem]
