"""A scalar linear equation with constant coefficients solved as a first-order system, when asked.

"Write y'' + 3y' + 2y = 0 as a system", "solve y'' - y = e^t by converting it to a first-order
system": the textbook's reduction to a system. With ``y_1 = y``, ``y_2 = y'`` (and ``y_3 = y''``)
an equation of order 2 or 3 becomes ``Y' = A Y + g`` with the companion matrix ``A``; the
eigenvalue method (:func:`tutor.engine.methods.linear_system.derive_system`) solves it with every
step checked, and the first component is the answer. Not a method of the scalar registry: it is
tried only when the problem asks for it (``Problem.requested_method == "system"``), never in the
textbook order.

The system's steps are checked against the system (``Step.ode`` holds the
:class:`~tutor.system.SystemProblem`), the rewriting and the way back against the equation.
"""
from __future__ import annotations

from dataclasses import replace

import sympy

from tutor.engine.base import CannotDerive, Derivation
from tutor.engine.linear_ode import linear_equation
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Problem
from tutor.system import SystemCondition, SystemProblem

ID = "as_system"
NAME = "As a first-order system (eigenvalue method)"
#: Orders the companion system covers (the eigenvalue method takes 2x2 and 3x3 systems).
ORDERS = (2, 3)


def companion(problem: Problem) -> SystemProblem | None:
    """The first-order system ``Y' = A Y + g`` of a linear constant-coefficient equation of order 2
    or 3 with numbers for coefficients (None for anything else, or for conditions at two points)."""
    if getattr(problem, "is_system", False) or problem.parameters:
        return None
    linear = linear_equation(problem)
    coefficients = linear.constant_coefficients() if linear is not None else None
    if coefficients is None or linear.order not in ORDERS:
        return None
    n, x = linear.order, problem.variable
    g = sympy.cancel(linear.rhs / linear.coefficients[-1]) if linear.rhs != 0 else sympy.S.Zero
    if g.free_symbols - {x} or any(c.free_symbols for c in coefficients):
        return None
    orders = sorted(ic.order for ic in problem.ics)
    if problem.ics and (orders != list(range(n)) or len({ic.point for ic in problem.ics}) != 1):
        return None  # a boundary value problem: the system's conditions are at one point
    name = problem.function.__name__
    functions = tuple(sympy.Function(f"{name}{k + 1}") for k in range(n))
    A = sympy.zeros(n, n)
    for i in range(n - 1):
        A[i, i + 1] = 1
    for k in range(n):
        A[n - 1, k] = -coefficients[k]
    forcing = sympy.Matrix([0] * (n - 1) + [g])
    ics = tuple(SystemCondition(functions[ic.order], ic.point, ic.value)
                for ic in sorted(problem.ics, key=lambda ic: ic.order))
    return SystemProblem(functions=functions, variable=x, matrix=sympy.ImmutableMatrix(A),
                         forcing=sympy.ImmutableMatrix(forcing), ics=ics, source=problem.source,
                         notation=problem.notation)


def derive(problem: Problem) -> Derivation:
    """The equation rewritten as a system, the system's eigenvalue-method steps, and y = y_1."""
    from tutor.engine.methods.linear_system import derive_system

    system = companion(problem)
    if system is None:
        raise CannotDerive("only a linear equation of order 2 or 3 with constant (numeric) coefficients, and "
                           "conditions (if any) at one point, is rewritten as a system here")
    n, x, y = system.n, problem.variable, problem.unknown
    names = [sympy.latex(sympy.Symbol(f.__name__)) for f in system.functions]
    primes = ["", "'", "''"]
    y_tex = sympy.latex(sympy.Symbol(problem.function.__name__))
    definitions = ",\\ ".join(f"{names[k]} = {y_tex}{primes[k]}" for k in range(n))
    sub = derive_system(system)
    rewrite = Step(
        "Write it as a system",
        f"Introduce ${definitions}$. Then each new unknown's derivative is the next one, and the equation, "
        f"solved for ${y_tex}{primes[n - 1]}'$, gives the last: a first-order system" +
        (" with the initial values carried over." if problem.ics else "."),
        latex=tex(system.equations, x) + (",\\quad " + ",\\ ".join(ic.latex() for ic in system.ics)
                                           if system.ics else ""),
        check=Check.NOTE)
    steps = [rewrite]
    for step in sub.steps:  # the system's own checks are against the system
        own = step.check in (Check.SOLVES, Check.CONSTANTS) and step.ode is None
        steps.append(replace(step, ode=system) if own else step)
    first = next(s for s in sub.solutions if s.lhs == system.unknowns[0])
    answer = sympy.Eq(y, first.rhs)
    steps.append(Step(
        f"Back to {problem.function.__name__}",
        f"The first component is ${y_tex}$ itself" + (f"; the others are its derivatives." if n > 1 else "."),
        latex=tex(answer, x), check=Check.CONSTANTS if problem.ics else Check.SOLVES, after=(answer,)))
    return Derivation(ID, tuple(steps), (answer,), sub.constants,
                      hint=f"Write the equation as a first-order system with ${definitions}$ and solve it by the "
                           "eigenvalue method; the first component is the solution.")
