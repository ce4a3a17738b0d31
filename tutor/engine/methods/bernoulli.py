"""Bernoulli equations ``y' + P(x) y = Q(x) y^n`` (n not 0 or 1), linearised by ``v = y^(1-n)``.

Divide by ``y^n`` (losing ``y = 0`` when n > 0), put ``v = y^{1-n}`` so that
``v' = (1-n) y^{-n} y'``, solve the linear equation ``v' + (1-n)P v = (1-n)Q`` with its
integrating factor, and return to y.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import (CannotDerive, Derivation, Method, Practice, conclude, make_problem,
                               normal_form, tidy, to_symbol, vanishes, y_symbol)
from tutor.engine.methods.common import C, explicit_step, linear_steps, normal_form_steps, solves_step
from tutor.engine.steps import Check, Step, tex, ltx
from tutor.problem import Answer, InitialCondition, Problem


def bernoulli_form(problem: Problem) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None:
    """(P, Q, n) with ``y' = -P y + Q y^n``, n a number other than 0 and 1; else None."""
    f = normal_form(problem)
    if f is None:
        return None
    x, Y = problem.variable, y_symbol(problem)
    f = sympy.expand(to_symbol(f, problem))
    by_power: dict = {}
    for term in sympy.Add.make_args(f):
        coeff, part = term.as_independent(Y, as_Add=False)
        if part == 1:
            power = sympy.Integer(0)
        elif part == Y:
            power = sympy.Integer(1)
        elif isinstance(part, sympy.Pow) and part.base == Y and part.exp.is_number:
            power = part.exp
        else:
            return None
        by_power[power] = by_power.get(power, 0) + coeff
    powers = [p for p, c in by_power.items() if not vanishes(c)]
    others = [p for p in powers if p not in (0, 1)]
    if len(others) != 1 or 0 in powers:
        return None
    n = others[0]
    P = -tidy(by_power.get(sympy.Integer(1), 0))
    Q = tidy(by_power[n])
    return P, Q, n


class Bernoulli(Method):
    id = "bernoulli"
    name = "Bernoulli equation (substitute v = y^(1-n))"
    hint_pattern = (r"bernoulli", None)
    orders = (1,)

    def matches(self, problem: Problem) -> bool:
        form = bernoulli_form(problem)
        return form is not None and form[0] != 0  # P = 0 would be plainly separable

    def hint(self, problem: Problem) -> str:
        form = bernoulli_form(problem)
        n = ltx(form[2]) if form else "n"
        k = ltx(1 - form[2]) if form else "1-n"
        return (f"This is a Bernoulli equation $y' + P(x)\\,y = Q(x)\\,y^{{{n}}}$: the substitution "
                f"$v = y^{{{k}}}$ turns it into a linear equation in v.")

    def derive(self, problem: Problem) -> Derivation:
        form = bernoulli_form(problem)
        if form is None:
            raise CannotDerive("not a Bernoulli equation")
        P, Q, n = form
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        vf = sympy.Function("v")
        v = vf(x)
        k = 1 - n
        _, steps, ode = normal_form_steps(problem)
        standard = sympy.Eq(sympy.Derivative(y, x) + P * y, Q * y ** n)
        steps.append(Step("Bernoulli form", f"Here $P = {tex(P, x)}$, $Q = {tex(Q, x)}$ and $n = {ltx(n)}$.",
                          latex=tex(standard, x), check=Check.EQUIVALENT, before=ode, after=standard))
        divided = sympy.Eq(y ** (-n) * sympy.Derivative(y, x) + P * y ** k, Q)
        lost: tuple = ()
        text = f"Divide by $y^{{{ltx(n)}}}$."
        if n.is_positive:
            lost = (sympy.Eq(y, 0),)
            text += " This assumes $y \\neq 0$; $y = 0$ is also a solution."
        steps.append(Step("Divide by y^n", text, latex=tex(divided, x), check=Check.EQUIVALENT,
                          before=standard, after=divided))
        linear = sympy.Eq(sympy.Derivative(v, x) + k * P * v, k * Q)
        steps.append(Step("Substitute", f"Let $v = y^{{{ltx(k)}}}$; then $v' = {ltx(k)}\\,"
                                         f"y^{{{ltx(-n)}}}\\,y'$, and the equation becomes linear in v.",
                          latex=tex(linear, x), check=Check.SUBSTITUTION, before=standard, after=linear,
                          substitution={y: v ** (1 / k)}))
        more, v_solution = linear_steps(linear, v, x, sympy.simplify(k * P), sympy.simplify(k * Q))
        steps += more
        implicit = sympy.Eq(y ** k, v_solution.rhs)
        steps.append(solves_step("Back-substitute", f"Put $v = y^{{{ltx(k)}}}$ back.", implicit,
                                 problem.equation, y, x))
        explicit_steps, solutions, _ = explicit_step(implicit, problem.equation, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], lost=lost, hint=self.hint(problem))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x = sympy.Symbol("x")
        yf = sympy.Function("y")
        y = yf(x)
        n = rng.choice([2, 3, -1][: 1 + difficulty])
        k = 1 - n
        # Choose P and a particular vp of the linear equation for v = y^k first:
        # v' + kP v = kQ  =>  Q = (vp' + kP vp)/k, and v = vp + C e^{-k∫P}.
        P, integral = rng.choice([(sympy.Integer(1), x), (1 / x, sympy.log(x)), (sympy.Integer(2), 2 * x)][: 1 + difficulty])
        vp = rng.choice([x, sympy.Integer(1), x ** 2][: 1 + difficulty])
        Q = sympy.simplify((sympy.diff(vp, x) + k * P * vp) / k)
        if Q == 0:
            vp, Q = x, sympy.simplify((1 + k * P * x) / k)
        equation = sympy.Eq(sympy.Derivative(y, x) + P * y, Q * y ** n)
        v = vp + C * sympy.exp(-k * integral)
        ics: tuple = ()
        constants: tuple = (C,)
        if n == 2:
            solutions = (sympy.Eq(y, 1 / v),)
            explicit = (True,)
        else:
            solutions = (sympy.Eq(y ** k, v),)
            explicit = (False,)
        if difficulty >= 3 and n == 2:
            x0 = sympy.Integer(1)
            c0 = rng.choice([1, 2])
            solutions = (sympy.Eq(y, sympy.simplify(1 / v.subs(C, c0))),)
            ics = (InitialCondition(0, x0, sympy.simplify(1 / v.subs({C: c0, x: x0}))),)
            constants = ()
        problem = make_problem(equation, yf, x, ics)
        return Practice(self.id, 0, difficulty, problem, Answer(solutions=solutions, constants=constants,
                                                                  explicit=explicit))


METHODS = [Bernoulli]
