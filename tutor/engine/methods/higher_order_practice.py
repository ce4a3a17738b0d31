"""Practice problems of the higher-order families: equations built from characteristic roots,
random initial conditions, and the known answer taken from the method's own derivation.

Used by the higher-order methods' ``_generate`` and by :mod:`laplace`.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import Method, Practice, make_problem
from tutor.problem import InitialCondition


def poly_from_roots(roots: list[tuple[sympy.Expr, int]], variable: sympy.Symbol) -> tuple[sympy.Expr, ...]:
    """Monic coefficients (b_0 .. b_n) of prod (variable - root)^mult (complex roots paired)."""
    poly = sympy.S.One
    for root, mult in roots:
        if root.is_real:
            poly *= (variable - root) ** mult
        else:
            poly *= ((variable - root) * (variable - sympy.conjugate(root))) ** mult
    coeffs = sympy.Poly(sympy.expand(poly), variable).all_coeffs()
    return tuple(reversed([sympy.nsimplify(c) for c in coeffs]))


def random_roots(rng: random.Random, difficulty: int) -> list[tuple[sympy.Expr, int]]:
    """A characteristic-root pattern: distinct real, repeated, complex; order 3-4 at difficulty 3."""
    kind = rng.choice(["distinct", "repeated", "complex"])
    a = rng.randint(-4, 4)
    if kind == "distinct":
        b = rng.choice([v for v in range(-5, 6) if v != a])
        roots = [(sympy.Integer(a), 1), (sympy.Integer(b), 1)]
    elif kind == "repeated":
        roots = [(sympy.Integer(a), 2)]
    else:
        roots = [(sympy.Integer(rng.randint(-3, 3)) + sympy.I * rng.randint(1, 4), 1)]
    if difficulty >= 3:
        used = {r for r, _ in roots}
        extra = rng.choice([v for v in range(-3, 4) if sympy.Integer(v) not in used])
        roots.append((sympy.Integer(extra), 1))
    return roots


def equation_from_coefficients(coefficients: tuple[sympy.Expr, ...], rhs: sympy.Expr, y: sympy.Expr,
                               x: sympy.Symbol, euler: bool = False) -> sympy.Eq:
    lhs = sympy.Add(*[c * (x ** k if euler else 1) * (sympy.Derivative(y, (x, k)) if k else y)
                      for k, c in enumerate(coefficients)])
    return sympy.Eq(lhs, rhs)


def random_ics(rng: random.Random, order: int) -> tuple[InitialCondition, ...]:
    return tuple(InitialCondition(k, sympy.S.Zero, sympy.Integer(rng.randint(-3, 3))) for k in range(order))


def practice_from_derivation(method: Method, equation: sympy.Eq, function, x: sympy.Symbol,
                             ics: tuple[InitialCondition, ...] = ()) -> Practice:
    """A practice problem whose known answer is the method's own derivation (callers verify it)."""
    problem = make_problem(equation, function, x, ics)
    derivation = method.derive(problem)
    return Practice(method.id, 0, 0, problem, derivation.answer())
