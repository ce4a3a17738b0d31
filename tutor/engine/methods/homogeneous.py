"""Homogeneous equations ``y' = F(y/x)`` (homogeneous of degree 0), solved with ``v = y/x``.

``y = v x`` gives ``y' = v + x v'``, so ``x v' = F(v) - v`` separates; integrate, then
put ``v = y/x`` back.  Roots of ``F(v) = v`` are the lost straight-line solutions ``y = r x``.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import (CannotDerive, Derivation, Method, Practice, conclude, make_problem,
                               normal_form, to_symbol, vanishes, y_symbol)
from tutor.engine.methods.common import C, explicit_step, normal_form_steps, separate_and_integrate, solves_step
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Answer, InitialCondition, Problem

V = sympy.Symbol("v")


def ratio_form(problem: Problem) -> sympy.Expr | None:
    """F(v) with ``y' = F(y/x)``, or None when f(x, y) is not homogeneous of degree 0."""
    f = normal_form(problem)
    if f is None:
        return None
    x, Y = problem.variable, y_symbol(problem)
    f = to_symbol(f, problem)
    if not f.has(Y) or not f.has(x):
        return None  # y' = g(x) or autonomous: separable, not worth v = y/x
    if f.free_symbols - {x, Y} - set(problem.parameters):
        return None
    # Textbooks take x > 0 here, so sqrt(x^2 + y^2)/x = sqrt(1 + v^2).
    xp = sympy.Symbol(x.name, positive=True)
    F = sympy.simplify(f.subs(Y, V * x).subs(x, xp))
    if F.has(xp):
        return None
    return sympy.factor(sympy.cancel(F)) if F.is_rational_function(V) else F


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """Combine fractions inside logs and roots after putting v = y/x back."""
    return expr.replace(lambda e: isinstance(e, (sympy.log, sympy.Pow)) and e.args[0].has(sympy.Add),
                        lambda e: e.func(sympy.factor(sympy.together(e.args[0])), *e.args[1:]))


class Homogeneous(Method):
    id = "homogeneous"
    name = "Homogeneous equation (substitute v = y/x)"
    orders = (1,)

    def matches(self, problem: Problem) -> bool:
        F = ratio_form(problem)
        return F is not None and not vanishes(F - V)

    def hint(self, problem: Problem) -> str:
        return ("The equation is homogeneous of degree 0, $y' = F(y/x)$: substitute $v = y/x$, so "
                "$y = v x$ and $y' = v + x v'$; the equation in v separates.")

    def derive(self, problem: Problem) -> Derivation:
        F = ratio_form(problem)
        if F is None:
            raise CannotDerive("not homogeneous of degree 0")
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        vf = sympy.Function("v")
        v = vf(x)
        f, steps, ode = normal_form_steps(problem)
        t = sympy.Symbol("t", positive=True)
        fy = to_symbol(f, problem)
        steps.append(Step("Check homogeneity",
                          "Replacing x by tx and y by ty leaves the right side unchanged, so it depends on y/x only.",
                          latex=f"f(tx, ty) = f(x, y) = {tex(F, x)},\\quad v = \\frac{{y}}{{x}}",
                          check=Check.IDENTITY,
                          after=sympy.Eq(fy.subs({x: t * x, Y: t * Y}, simultaneous=True), fy, evaluate=False)))
        v_ode = sympy.Eq(v + x * sympy.Derivative(v, x), F.subs(V, v))
        steps.append(Step("Substitute v = y/x",
                          "With $y = v x$, the product rule gives $y' = v + x v'$.",
                          latex=tex(v_ode, x), check=Check.SUBSTITUTION, before=ode, after=v_ode,
                          substitution={y: x * v}))
        G = F - V
        G = sympy.factor(sympy.cancel(G)) if G.is_rational_function(V) else sympy.simplify(G)
        if G == 0:
            raise CannotDerive("F(v) = v: the equation is y' = y/x, separable")
        separable = sympy.Eq(sympy.Derivative(v, x), G.subs(V, v) / x)
        steps.append(Step("Isolate v'", "Subtract v and divide by x.",
                          latex=tex(separable, x), check=Check.EQUIVALENT, before=v_ode, after=separable))
        more, implicit_v, lost_v = separate_and_integrate(separable, v, x, 1 / x, G, V)
        steps += more
        implicit = sympy.Eq(_tidy(implicit_v.lhs.subs(v, y / x)), _tidy(implicit_v.rhs.subs(v, y / x)))
        steps.append(solves_step("Back-substitute", "Put $v = y/x$ back.", implicit, problem.equation, y, x))
        lost = tuple(sympy.Eq(y, eq.rhs * x) for eq in lost_v)
        explicit_steps, solutions, _ = explicit_step(implicit, problem.equation, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], lost=lost, hint=self.hint(problem))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, Y = sympy.symbols("x y")
        yf = sympy.Function("y")
        y = yf(x)
        a = rng.choice([1, 2, 3]) if difficulty > 1 else 1
        # x v' = h(v) with ∫dv/h(v) known: the implicit answer is G(y/x) = ln x + C.
        h, G = rng.choice([
            (a * V ** 2, -1 / (a * V)),
            (a / V, V ** 2 / (2 * a)),
            (1 + V ** 2, sympy.atan(V)),
            (a * (1 + V), sympy.log(1 + V) / a),
        ][: 2 + difficulty])
        rhs = sympy.simplify((V + h).subs(V, y / x))
        equation = sympy.Eq(sympy.Derivative(y, x), rhs)
        relation = sympy.Eq(G.subs(V, y / x), sympy.log(x) + C)
        ics: tuple = ()
        constants: tuple = (C,)
        if difficulty >= 3:
            y0 = rng.choice([1, 2])
            ics = (InitialCondition(0, sympy.Integer(1), sympy.Integer(y0)),)
            relation = relation.subs(C, G.subs(V, y0))
            constants = ()
        problem = make_problem(equation, yf, x, ics)
        answer = Answer(solutions=(relation,), constants=constants, explicit=(False,))
        return Practice(self.id, 0, difficulty, problem, answer)


METHODS = [Homogeneous]
