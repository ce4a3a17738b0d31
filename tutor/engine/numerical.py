"""An honest numerical answer for an initial value problem when no closed form is found.

:func:`numerical_solution` integrates ``y^(n) = f(x, y, ..., y^(n-1))`` with the initial values
at ``x0`` on an interval around ``x0`` with mpmath's ``odefun`` (a Taylor-series method with
error control, to the tolerance given; mpmath ships with SymPy), forwards and — by reflecting
``x -> 2 x0 - x`` — backwards, and runs Euler's method, as textbooks teach it, forwards with the
step the caller picks, comparing it with the accurate values at the table points. It stops
early (and says where) when the solution cannot be continued within its time box (a blow-up, a
singularity of ``f``).

:func:`numerical_steps` turns the result into steps labelled as numerical (``Check.NOTE``: a
table of numbers is not a formula the step checker can prove), which
:func:`tutor.engine.solve.solve` shows instead of a bare "no closed form found". Nothing here is
ever presented as verified.

Runs inside the bounded worker (uses :func:`tutor.engine.timebox.attempt`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import mpmath
import sympy

from tutor.engine.base import normal_form
from tutor.engine.steps import Check, Step
from tutor.engine.timebox import attempt
from tutor.problem import Problem

METHOD = "mpmath odefun (Taylor series with error control)"


@dataclass(frozen=True)
class NumericalSolution:
    """Accurate values ``(x, y)``, and Euler's ``(x, y_euler, |y_euler - y|)`` forwards from x0."""

    x0: float
    points: tuple[tuple[float, float], ...]
    tolerance: float
    method: str
    euler_step: float
    euler: tuple[tuple[float, float, float], ...]
    note: str = ""  # why the interval is shorter than asked, if it is

    def to_dict(self) -> dict:
        return {"method": self.method, "tolerance": self.tolerance, "x0": self.x0,
                "points": [list(p) for p in self.points], "euler_step": self.euler_step,
                "euler": [list(e) for e in self.euler], "note": self.note}


def _system(problem: Problem):
    """``F(x, u)`` for ``u = (y, y', ..., y^(n-1))`` and the initial state, or None."""
    n, x = problem.order, problem.variable
    orders = sorted(ic.order for ic in problem.ics)
    if n < 1 or orders != list(range(n)) or len({ic.point for ic in problem.ics}) != 1 or problem.parameters:
        return None
    f = normal_form(problem)
    if f is None:
        return None
    state = sympy.symbols(f"u0:{n}")
    y = problem.unknown
    g = f
    for k in range(n - 1, 0, -1):
        g = g.subs(sympy.Derivative(y, (x, k)), state[k])
    g = g.subs(y, state[0])
    if g.has(problem.function) or g.free_symbols - {x, *state}:
        return None
    top = sympy.lambdify((x, *state), g, modules="mpmath")  # our own SymPy expression, not user text

    def F(t, u):
        u = list(u) if n > 1 else [u]
        derivative = u[1:] + [top(t, *u)]
        return derivative if n > 1 else derivative[0]

    values = [sympy.sympify(ic.value) for ic in sorted(problem.ics, key=lambda ic: ic.order)]
    if not all(v.is_number and v.is_real for v in values) or not problem.ics[0].point.is_number:
        return None
    u0 = [mpmath.mpf(sympy.N(v, 20)) for v in values]
    return F, float(problem.ics[0].point), (u0 if n > 1 else u0[0]), n


def _first(value) -> float:
    return float(value[0] if isinstance(value, (list, tuple)) else value)


#: Rows of the table when the student names the point (Euler's steps are shown every k-th step beyond it).
TARGET_ROWS = 10


def numerical_solution(problem: Problem, half_width: float = 2.0, table_step: float = 0.5,
                       euler_step: float = 0.1, tolerance: float = 1e-9,
                       budget: float = 4.0, target: float | None = None) -> NumericalSolution | None:
    """The IVP solved numerically on ``[x0 - half_width, x0 + half_width]`` (or as far as it goes).

    With ``target`` (the point whose value the student wants, after ``x0``) the interval reaches it
    and the table (accurate values and Euler's) has a row every few Euler steps up to it."""
    # mpmath's working precision is process-wide and the checker (same worker) relies on its own:
    # set it only for this computation.
    with mpmath.workdps(15):
        return _numerical_solution(problem, half_width, table_step, euler_step, tolerance, budget, target)


def _numerical_solution(problem: Problem, half_width: float, table_step: float, euler_step: float,
                        tolerance: float, budget: float, target: float | None = None) -> NumericalSolution | None:
    system = _system(problem)
    if system is None:
        return None
    F, x0, u0, n = system
    if target is not None and target > x0 and euler_step > 0:
        span = target - x0
        count = max(1, int(round(span / euler_step)))
        if abs(count * euler_step - span) <= 1e-9 * max(1.0, span):
            half_width = count * euler_step
            table_step = -(-count // TARGET_ROWS) * euler_step  # every k-th Euler step, at most TARGET_ROWS rows
        else:  # a point between Euler's steps (a value asked for): the table ends exactly there
            half_width, table_step = span, span / max(1, -(-span // table_step))
    started = time.monotonic()
    forward = mpmath.odefun(F, x0, u0, tol=tolerance)

    def backward_field(s, u):
        value = F(2 * x0 - s, u)
        return [-v for v in value] if n > 1 else -value

    backward = mpmath.odefun(backward_field, x0, u0, tol=tolerance)
    steps = int(round(half_width / table_step))
    offsets = [k * table_step for k in range(1, steps + 1)]
    if target is not None and target > x0 and all(abs(x0 + o - target) > 1e-9 for o in offsets):
        offsets = sorted([o for o in offsets if x0 + o < target] + [target - x0])  # the asked point, exactly
    points: dict[float, float] = {x0: _first(u0)}
    note = ""
    for direction, solver in ((1, forward), (-1, backward)):
        for k, offset in enumerate(offsets):
            left = budget - (time.monotonic() - started)
            try:
                finished, value = (attempt(max(0.05, left / 2), solver, x0 + offset) if left > 0.05
                                   else (False, None))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError, mpmath.libmp.NoConvergence):
                finished, value = False, None
            if not finished:
                where = x0 + direction * (offsets[k - 1] if k else 0.0)
                note += (f" {'Forwards' if direction > 0 else 'Backwards'} the integration stopped at "
                         f"x = {where:g}: the next point could not be reached in the time allowed (the solution "
                         "may blow up or the equation become singular there).")
                break
            points[x0 + direction * offset] = _first(value)
    euler, table = [], {round(x, 9): y for x, y in points.items()}
    h = float(euler_step)
    if h > 0:
        t, u = x0, (list(u0) if n > 1 else [u0])
        count = int(round(half_width / h))
        for k in range(1, count + 1):
            try:
                slope = F(t, u if n > 1 else u[0])
            except (ZeroDivisionError, ValueError, OverflowError):
                break
            slope = slope if n > 1 else [slope]
            u = [a + h * b for a, b in zip(u, slope)]
            t = x0 + k * h
            accurate = table.get(round(t, 9))
            if accurate is not None:
                euler.append((t, float(u[0]), abs(float(u[0]) - accurate)))
    return NumericalSolution(x0, tuple(sorted(points.items())), tolerance, METHOD, h, tuple(euler), note.strip())


def numerical_steps(problem: Problem, solution: NumericalSolution, closed_form: bool = False) -> list[Step]:
    """The numerical answer as steps, each labelled as numerical (no formula to prove).

    ``closed_form``: the problem has a verified closed form and the student asked for Euler's method
    (``Problem.euler_step``): only Euler's steps, compared with the accurate values, follow it."""
    name = sympy.latex(sympy.Symbol(problem.function.__name__))
    var = sympy.latex(problem.variable)
    rows = r" \\ ".join(f"{x:g} & {y:.10g}" for x, y in solution.points)
    steps = [] if closed_form else [
        Step("No closed form found",
             "None of the textbook methods, nor SymPy's dsolve, produced a solution that passes the check by "
             "substitution, so the initial value problem is solved numerically instead. The numbers below are "
             "approximations, not a verified formula.", check=Check.NOTE),
        Step("Numerical solution",
             f"Integrated with {solution.method}, tolerance {solution.tolerance:g}, forwards and backwards from "
             f"${var} = {solution.x0:g}$. {solution.note}".strip(),
             latex=rf"\begin{{array}}{{r|r}} {var} & {name}({var}) \\ \hline {rows} \end{{array}}", check=Check.NOTE),
    ]
    if solution.euler:
        accurate = {round(x, 9): y for x, y in solution.points}
        rows = r" \\ ".join(f"{x:g} & {y:.6g} & {accurate.get(round(x, 9), float('nan')):.6g} & {e:.2e}"
                             for x, y, e in solution.euler)
        last_x, last_y, last_error = solution.euler[-1]
        formula = (f"$y_{{k+1}} = y_k + h\\,f(x_k, y_k)$" if problem.order == 1 else
                   f"$u_{{k+1}} = u_k + h\\,F(x_k, u_k)$ for the system "
                   f"$u = ({name}, \\dots, {name}^{{({problem.order - 1})}})$")
        text = (("Euler's method, as asked: starting from the initial value, " if closed_form else "")
                + formula + f" with $h = {solution.euler_step:g}$, compared with the accurate values ({solution.method}, "
                f"tolerance {solution.tolerance:g}). Euler's estimate ${name}({last_x:g}) \\approx {last_y:.6g}$ is off by "
                f"{last_error:.2e}. Euler's method is first order: halving $h$ roughly halves the error.")
        if closed_form:
            text += " The closed form above is the exact solution; these numbers are approximations of it."
        steps.append(Step(
            f"Euler's method with h = {solution.euler_step:g}", text,
            latex=(rf"\begin{{array}}{{r|r|r|r}} {var} & \text{{Euler}} & \text{{accurate}} & \text{{error}} \\ "
                   rf"\hline {rows} \end{{array}}"), check=Check.NOTE))
    return steps
