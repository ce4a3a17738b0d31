"""Exact equations ``M dx + N dy = 0`` (``M_y = N_x``) and integrating factors ``mu(x)``/``mu(y)``.

Exact: test ``M_y = N_x``, build the potential ``F`` with ``F_x = M`` (integrate M in x,
add ``g(y)``, fix ``g`` from ``F_y = N``); the solution is ``F(x, y) = C``.
Integrating factor: when ``(M_y - N_x)/N`` depends on x only, ``mu = e^{∫ (M_y - N_x)/N dx}``;
when ``(N_x - M_y)/M`` depends on y only, ``mu = e^{∫ (N_x - M_y)/M dy}``; then as exact.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import (CannotDerive, Derivation, Method, Practice, conclude, make_problem, tidy,
                               vanishes, y_symbol)
from tutor.engine.integrate import Integration, antiderivative, integration_step
from tutor.engine.methods.common import C, exp_tex, explicit_solutions, explicit_step, solves_step
from tutor.engine.steps import Check, Step, ltx
from tutor.problem import Answer, InitialCondition, Problem


def _forms(problem: Problem) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """Candidate (M, N) in the symbols (x, Y): as written, then with denominators cleared."""
    if problem.order != 1:
        return []
    x, Y = problem.variable, y_symbol(problem)
    p = sympy.Dummy("p")
    expr = problem.expr.subs(sympy.Derivative(problem.unknown, x), p).subs(problem.unknown, Y)
    out = []
    for candidate in (expr, sympy.expand(expr), sympy.numer(sympy.together(expr))):
        N = sympy.diff(candidate, p)
        if N == 0 or N.has(p):
            continue
        M = candidate.subs(p, 0)
        if (M, N) not in out:
            out.append((M, N))
    return out


def _is_exact(M: sympy.Expr, N: sympy.Expr, x: sympy.Symbol, Y: sympy.Symbol) -> bool:
    return vanishes(sympy.diff(M, Y) - sympy.diff(N, x))


@dataclass(frozen=True)
class DifferentialForm:
    """``M dx + N dy = 0`` in the symbols (x, Y): what the exact method works from."""

    M: sympy.Expr
    N: sympy.Expr


@dataclass(frozen=True)
class FactorForm:
    """A non-exact ``M dx + N dy = 0`` with an integrating factor ``mu`` of one variable ``var``:
    ``ratio`` is ``(M_y - N_x)/N`` (mu of x) or ``(N_x - M_y)/M`` (mu of y), ``integral`` its
    antiderivative (:class:`~tutor.engine.integrate.Integration`), ``mu = e^integral``."""

    M: sympy.Expr
    N: sympy.Expr
    ratio: sympy.Expr
    var: sympy.Symbol
    mu: sympy.Expr
    integral: Integration


def exact_form(problem: Problem) -> DifferentialForm | None:
    x, Y = problem.variable, y_symbol(problem)
    for M, N in _forms(problem):
        if _is_exact(M, N, x, Y):
            return DifferentialForm(M, N)
    return None


def integrating_factor(problem: Problem) -> FactorForm | None:
    """The form with its integrating factor mu(x) or mu(y) when the equation is not exact, else None."""
    x, Y = problem.variable, y_symbol(problem)
    for M, N in _forms(problem):
        if _is_exact(M, N, x, Y):
            continue
        difference = sympy.diff(M, Y) - sympy.diff(N, x)
        for ratio, var, other in ((difference / N, x, Y), (-difference / M, Y, x)):
            ratio = tidy(ratio)
            if ratio.has(other) or ratio == 0:
                continue
            try:
                integral = antiderivative(ratio, var)
            except ValueError:
                continue
            mu = sympy.simplify(sympy.exp(integral.value))
            if mu.has(sympy.Abs) or mu.has(sympy.Integral):
                continue
            return FactorForm(M, N, ratio, var, mu, integral)
    return None


def _differential_form(problem: Problem, M: sympy.Expr, N: sympy.Expr) -> tuple[Step, sympy.Eq]:
    """The step writing the equation as ``M dx + N dy = 0``, and that equation in y(x)."""
    x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
    written = sympy.Eq(M.subs(Y, y) + N.subs(Y, y) * sympy.Derivative(y, x), 0)
    return Step("Differential form", f"Write the equation as $M\\,dx + N\\,d{ltx(Y)} = 0$.",
                latex=f"\\left({ltx(M)}\\right)dx + \\left({ltx(N)}\\right)d{ltx(Y)} = 0",
                check=Check.EQUIVALENT, before=problem.equation, after=written), written


def potential_steps(problem: Problem, M: sympy.Expr, N: sympy.Expr, before: sympy.Eq
                    ) -> tuple[list[Step], sympy.Eq]:
    """Steps for an exact ``M + N y' = 0``: test, build F, state ``F(x, y) = C``."""
    x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
    yname = ltx(Y)
    steps: list[Step] = []
    My, Nx = tidy(sympy.diff(M, Y)), tidy(sympy.diff(N, x))
    steps.append(Step("Test for exactness",
                      f"With $M = {ltx(M)}$ and $N = {ltx(N)}$: $M_{yname} = {ltx(My)}$ and "
                      f"$N_x = {ltx(Nx)}$ are equal, so the equation is exact: there is F with "
                      f"$F_x = M$, $F_{yname} = N$.",
                      latex=f"\\frac{{\\partial M}}{{\\partial {yname}}} = {ltx(My)} = \\frac{{\\partial N}}{{\\partial x}}",
                      check=Check.IDENTITY, after=sympy.Eq(sympy.Derivative(M, Y), sympy.Derivative(N, x),
                                                           evaluate=False)))
    try:
        Fx = antiderivative(M, x)
    except ValueError as exc:
        raise CannotDerive(str(exc)) from exc
    steps.append(integration_step(Fx, x, title="Integrate M with respect to x"))
    steps[-1] = Step(steps[-1].title, steps[-1].text + f" So $F = {ltx(Fx.value)} + g({yname})$.",
                     latex=steps[-1].latex.replace("+ C", f"+ g({yname})"), check=steps[-1].check,
                     after=steps[-1].after)
    g_prime = tidy(N - sympy.diff(Fx.value, Y))
    if g_prime.has(x):
        raise CannotDerive("g'(y) depends on x (not exact after all)")
    steps.append(Step(f"Find g({yname})",
                      f"Differentiate F with respect to ${yname}$ and set it equal to N: this leaves "
                      f"$g'({yname}) = {ltx(g_prime)}$.",
                      latex=f"F_{yname} = {ltx(sympy.diff(Fx.value, Y))} + g'({yname}) = {ltx(N)}",
                      check=Check.IDENTITY,
                      after=sympy.Eq(sympy.Derivative(Fx.value, Y) + g_prime, N, evaluate=False)))
    F = Fx.value
    if g_prime != 0:
        try:
            g = antiderivative(g_prime, Y)
        except ValueError as exc:
            raise CannotDerive(str(exc)) from exc
        steps.append(integration_step(g, Y, title=f"Integrate g'({yname})"))
        F = F + g.value
    steps.append(Step("The potential",
                      f"So $F(x, {yname}) = {ltx(F)}$; check: $F_x = M$.",
                      latex=f"F(x, {yname}) = {ltx(F)}",
                      check=Check.IDENTITY, after=sympy.Eq(sympy.Derivative(F, x), M, evaluate=False)))
    implicit = sympy.Eq(F.subs(Y, y), C)
    steps.append(solves_step("General solution",
                             "The level curves of the potential are the solutions: $F(x, y) = C$.",
                             implicit, before, y, x))
    return steps, implicit


class Exact(Method):
    id = "exact"
    name = "Exact equation"
    orders = (1,)
    not_matched = "not exact"
    hint_pattern = (r"\bexact\b|potential", r"not exact")

    def match(self, problem: Problem) -> DifferentialForm | None:
        form = exact_form(problem)
        # y' = f(x) is trivially "exact" (M = -f(x), N = 1); a textbook calls that direct integration.
        if form is None or not (form.M.has(y_symbol(problem)) or form.N.has(problem.variable)):
            return None
        return form

    def hint(self, problem: Problem, form: DifferentialForm | None = None) -> str:
        return ("Write the equation as $M\\,dx + N\\,dy = 0$; since $M_y = N_x$ it is exact: find the potential "
                "$F$ with $F_x = M$, $F_y = N$, and the solution is $F(x, y) = C$.")

    def derivable(self, problem: Problem) -> DifferentialForm | None:
        # Asked for by name, any exact form derives, y' = f(x) too (match leaves that to direct integration).
        return exact_form(problem)

    def _derive(self, problem: Problem, form: DifferentialForm) -> Derivation:
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        step, written = _differential_form(problem, form.M, form.N)
        more, implicit = potential_steps(problem, form.M, form.N, written)
        explicit_steps, solutions, _ = explicit_step(implicit, written, y, x, Y)
        return conclude(problem, self.id, [step, *more, *explicit_steps], solutions, [C],
                        hint=self.hint(problem, form))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, Y = sympy.symbols("x y")
        yf = sympy.Function("y")
        y = yf(x)
        a, b = rng.choice([1, 2, 3]), rng.choice([1, 2, 3])
        pieces = [a * x ** 2 * Y, x * Y ** 2, b * x * Y, sympy.exp(x) * Y, x * sympy.sin(Y), x ** 3 * Y ** 2]
        F = rng.choice(pieces[: 3 + difficulty]) + rng.choice([Y ** 2, Y ** 3, sympy.exp(Y), Y])
        if difficulty > 1:
            F += rng.choice([x ** 2, sympy.sin(x), x ** 3, sympy.exp(2 * x)])
        M, N = sympy.diff(F, x), sympy.diff(F, Y)
        equation = sympy.Eq(M.subs(Y, y) + N.subs(Y, y) * sympy.Derivative(y, x), 0)
        value = C
        ics: tuple = ()
        if difficulty >= 3:
            y0 = rng.choice([1, 2])
            ics = (InitialCondition(0, sympy.Integer(1), sympy.Integer(y0)),)
            value = F.subs({x: 1, Y: y0})
        problem = make_problem(equation, yf, x, ics)
        answer = Answer(solutions=(sympy.Eq(F.subs(Y, y), value),), constants=() if ics else (C,), explicit=(False,))
        return Practice(self.id, 0, difficulty, problem, answer)


class IntegratingFactor(Method):
    id = "integrating_factor"
    name = "Integrating factor for a non-exact equation"
    orders = (1,)
    not_matched = "no integrating factor of one variable"
    hint_pattern = (r"integrating factor", None)

    def match(self, problem: Problem) -> FactorForm | None:
        return integrating_factor(problem)

    def hint(self, problem: Problem, form: FactorForm | None = None) -> str:
        form = form or integrating_factor(problem)
        which = "x" if form is None or form.var == problem.variable else ltx(form.var)
        return (f"The equation $M\\,dx + N\\,dy = 0$ is not exact, but it has an integrating factor "
                f"$\\mu({which})$; multiply by it to make it exact, then find the potential $F$.")

    def _derive(self, problem: Problem, form: FactorForm) -> Derivation:
        M, N, ratio, var, mu = form.M, form.N, form.ratio, form.var, form.mu
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        yname = ltx(Y)
        written_step, written = _differential_form(problem, M, N)
        My, Nx = sympy.simplify(sympy.diff(M, Y)), sympy.simplify(sympy.diff(N, x))
        steps = [written_step,
                 Step("Test for exactness",
                      f"$M_{yname} = {ltx(My)}$ but $N_x = {ltx(Nx)}$: not exact.",
                      latex=f"M_{yname} - N_x = {ltx(sympy.simplify(My - Nx))}",
                      check=Check.IDENTITY,
                      after=sympy.Eq(sympy.Derivative(M, Y) - sympy.Derivative(N, x), sympy.simplify(My - Nx),
                                     evaluate=False))]
        if var == x:
            formula = f"\\frac{{M_{yname} - N_x}}{{N}} = {ltx(ratio)}"
            text = "This ratio depends on x alone, so there is an integrating factor $\\mu(x) = e^{\\int \\frac{M_y - N_x}{N}dx}$."
            relation = sympy.Eq((sympy.Derivative(M, Y) - sympy.Derivative(N, x)) / N, ratio, evaluate=False)
        else:
            formula = f"\\frac{{N_x - M_{yname}}}{{M}} = {ltx(ratio)}"
            text = (f"This ratio depends on ${yname}$ alone, so there is an integrating factor "
                    f"$\\mu({yname}) = e^{{\\int \\frac{{N_x - M_y}}{{M}}d{yname}}}$.")
            relation = sympy.Eq((sympy.Derivative(N, x) - sympy.Derivative(M, Y)) / M, ratio, evaluate=False)
        steps.append(Step("Look for an integrating factor", text, latex=formula, check=Check.IDENTITY, after=relation))
        integral = form.integral
        steps.append(integration_step(integral, x, title="Integrate the ratio"))
        steps.append(Step("Integrating factor", "Exponentiate (no constant needed).",
                          latex="\\mu = " + exp_tex(integral.value, mu, x),
                          check=Check.IDENTITY, after=sympy.Eq(sympy.exp(integral.value), mu, evaluate=False)))
        M2, N2 = (sympy.expand(e) if e.is_polynomial(x, Y) else sympy.simplify(e) for e in (mu * M, mu * N))
        exact = sympy.Eq(M2.subs(Y, y) + N2.subs(Y, y) * sympy.Derivative(y, x), 0)
        steps.append(Step("Multiply by the integrating factor",
                          "Multiplying by $\\mu$ gives an exact equation (solutions where $\\mu$ vanishes or is "
                          "undefined are not part of this family).",
                          latex=f"\\left({ltx(M2)}\\right)dx + \\left({ltx(N2)}\\right)d{yname} = 0",
                          check=Check.EQUIVALENT, before=written, after=exact))
        more, implicit = potential_steps(problem, M2, N2, exact)
        steps += more
        explicit_steps, solutions, _ = explicit_step(implicit, written, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], hint=self.hint(problem, form))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, Y = sympy.symbols("x y")
        yf = sympy.Function("y")
        y = yf(x)
        # An exact potential F divided by a factor of one variable: the factor is the mu to find.
        # Difficulty 1: two-term polynomial potentials, mu = x or y; 2: more terms and powers
        # of x or y; 3: exponential factors as well.
        mixed = [x ** 2 * Y, x * Y ** 2, x ** 3 * Y, x * Y ** 3, x ** 2 * Y ** 2, x * Y]
        pure = [Y ** 2, x ** 2, Y ** 3, x ** 3, x, Y]
        if difficulty >= 2:
            mixed += [x ** 3 * Y ** 2, x ** 2 * Y ** 3, x ** 2 * Y ** 2 + x ** 4]
            pure += [x ** 4, Y ** 4]
        if difficulty >= 3:
            mixed += [x ** 2 * sympy.exp(Y), Y * sympy.exp(x)]
        F = rng.choice(mixed) + rng.choice([1, 1, 2, 3] if difficulty >= 2 else [1, 2]) * rng.choice(pure)
        mu = rng.choice([x, Y, x ** 2, Y ** 2, x ** 3, Y ** 3, sympy.exp(x), sympy.exp(-x), sympy.exp(Y),
                         sympy.exp(2 * x)][: {1: 2, 2: 6}.get(difficulty, 10)])
        M, N = sympy.cancel(sympy.diff(F, x) / mu), sympy.cancel(sympy.diff(F, Y) / mu)
        equation = sympy.Eq(M.subs(Y, y) + N.subs(Y, y) * sympy.Derivative(y, x), 0)
        problem = make_problem(equation, yf, x)
        implicit = sympy.Eq(F.subs(Y, y), C)
        # The explicit form, when tidy, is what a student is asked for (and easier to check).
        explicit = explicit_solutions(implicit, y, Y)
        solutions = explicit if explicit else (implicit,)
        answer = Answer(solutions=solutions, constants=(C,), explicit=(bool(explicit),) * len(solutions))
        return Practice(self.id, 0, difficulty, problem, answer)


METHODS = [Exact, IntegratingFactor]
