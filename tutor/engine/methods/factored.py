"""An equation that factors, ``(y'' - e^y)(y'' + e^y) = 0``: each factor is an equation of its own.

A product vanishes where one of its factors does, so the solutions are those of every factor that
holds the unknown: a factor with a derivative is solved by the engine like any equation (its own
textbook method, or SymPy's solver), a factor without one gives constant or algebraic solutions
(``y (y' + 1) = 0`` has ``y = 0``).  Not a method of the scalar registry: the engine tries it after
the textbook methods and before SymPy's solver (``tutor.engine.solve``), for equations without
conditions (the answer is the union of the factors' families).

Every factor's steps are checked against the whole equation (a solution of a factor makes the
product vanish), the factoring itself as an identity.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import sympy

from tutor.engine.base import CannotDerive, Derivation
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Problem

ID = "factored"
NAME = "Factor the equation (each factor on its own)"
#: At most this many factors (more is a hint that the factoring went somewhere no student goes).
MAX_FACTORS = 4


class NotFactored(CannotDerive):
    """The equation is not a product of equations in y (the usual case: the engine says nothing)."""


def factors(problem: Problem) -> list[sympy.Expr] | None:
    """The factors of the equation (its numerator) that hold the unknown, when there are two or more
    and one has a derivative; None otherwise (and for a system or an initial value problem)."""
    if getattr(problem, "is_system", False) or problem.ics:
        return None
    numerator = sympy.numer(sympy.together(problem.expr))
    try:
        _, parts = sympy.factor_list(numerator)
    except (sympy.PolynomialError, NotImplementedError, ValueError):
        return None
    found = [f for f, _ in parts if f.has(problem.unknown)]
    if not 2 <= len(found) <= MAX_FACTORS or not any(f.has(sympy.Derivative) for f in found):
        return None
    # highest order first: the factor that carries the general solution leads
    return sorted(found, key=lambda f: -max((d.derivative_count for d in f.atoms(sympy.Derivative)), default=0))


def derive(problem: Problem, solve_factor: Callable[[Problem], Derivation | None],
           name_of: Callable[[str], str]) -> Derivation:
    """The factored solution; ``solve_factor`` derives one factor's equation (None: it could not),
    ``name_of`` names the method it used."""
    parts = factors(problem)
    if parts is None:
        raise NotFactored("the equation does not factor into equations in y")
    x, y = problem.variable, problem.unknown
    steps = [Step("Factor the equation",
                  "The equation is a product of factors, and a product is zero exactly when one of its "
                  "factors is: solve each factor's equation on its own; together their solutions are "
                  "the solutions of the equation.",
                  r" \cdot ".join(f"\\left({tex(f, x)}\\right)" for f in parts) + " = 0",
                  Check.IDENTITY,
                  after=sympy.Eq(sympy.numer(sympy.together(problem.expr)),
                                 sympy.factor(sympy.numer(sympy.together(problem.expr))), evaluate=False))]
    solutions: list[sympy.Eq] = []
    constants: set[sympy.Symbol] = set()
    for k, factor in enumerate(parts, start=1):
        equation = sympy.Eq(factor, 0)
        if not factor.has(sympy.Derivative):
            try:
                roots = sympy.solve(factor, y)
            except NotImplementedError:
                roots = []
            if not roots:
                raise CannotDerive(f"cannot solve the factor {factor} = 0 for y")
            found = tuple(sympy.Eq(y, r) for r in roots)
            steps.append(Step(f"Factor {k}: no derivative",
                              f"${tex(equation, x)}$ holds no derivative: it gives "
                              + ", ".join(f"${tex(s, x)}$" for s in found) + ", which solves the equation.",
                              tex(found, x), Check.SOLVES, after=found))
            solutions.extend(found)
            continue
        sub = replace(problem, equation=equation, source="", requested_method="")
        derivation = solve_factor(sub)
        if derivation is None or not derivation.solutions:
            raise CannotDerive(f"the factor {factor} = 0 could not be solved")
        steps.append(Step(f"Factor {k}", f"Solve ${tex(equation, x)}$ ({name_of(derivation.method)}).",
                          check=Check.NOTE))
        steps.extend(derivation.steps)
        solutions.extend(derivation.solutions)
        constants.update(derivation.constants)
    steps.append(Step("All solutions",
                      "The solutions of the equation are those of every factor.",
                      tex(tuple(solutions), x), Check.SOLVES, after=tuple(solutions)))
    return Derivation(ID, tuple(steps), tuple(solutions), tuple(sorted(constants, key=str)),
                      hint="The equation factors: set each factor to zero and solve each equation on its own.")
