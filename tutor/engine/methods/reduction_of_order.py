"""Reduction of order: y missing (``p = y'``, or ``p = y^(k)`` when only ``y^(k)`` and
``y^(k+1)`` appear: a first-order equation in ``p(x)`` solved by the first-order methods, then
integrated k times) or, for second order, x missing (``p = y'``, ``y'' = p\\,dp/dy``, separable in
``p(y)``)."""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import (
    CannotDerive, Derivation, Method, Practice, conclude, derive_matched, make_problem, normal_form,
)
from tutor.engine.integrate import antiderivative, integration_step
from tutor.engine.linear_ode import linear_equation
from tutor.engine.methods.higher_order_practice import practice_from_derivation
from tutor.engine.methods.higher_order_steps import generic_branch, generic_integration, ln_latex
from tutor.engine.steps import Check, Step, tex
from tutor.problem import InitialCondition, Problem


@dataclass(frozen=True)
class Reduction:
    """What reduction of order works from: which variable is missing and what that gives.

    ``missing == "y"``: only ``y^(k)`` and ``y^(k+1)`` appear (``k``); ``missing == "x"``: the
    equation for ``p(y)`` split as ``p dp/dy = F``, ``dp/dy = a(y) b(p)``: ``(F, a, b, Y, P)``.
    """

    missing: str
    k: int = 0
    split: tuple | None = None


class ReductionOfOrder(Method):
    """Missing y (``p = y^{(n-1)}``, the rest first order in p) or, for second order, missing x (``y'' = p dp/dy``)."""

    id = "reduction_of_order"
    name = "Reduction of order"
    not_matched = "neither y nor x is missing"
    hint_pattern = (r"reduction of order|p\s*=\s*[a-z]'", None)

    @staticmethod
    def _lowest_derivative(problem: Problem) -> int | None:
        """k >= 1 when y, y', ..., y^(k-1) are all absent and y^(k) appears, else None."""
        y = problem.unknown
        orders = [d.derivative_count for d in problem.expr.atoms(sympy.Derivative) if d.expr == y]
        stripped = problem.expr.replace(lambda e: isinstance(e, sympy.Derivative) and e.expr == y,
                                        lambda e: sympy.Dummy())
        if stripped.has(y) or not orders:
            return None
        return min(orders)

    @staticmethod
    def _missing_x(problem: Problem) -> bool:
        x, y = problem.variable, problem.unknown
        frozen = problem.expr.subs({sympy.Derivative(y, (x, 2)): sympy.Dummy(), sympy.Derivative(y, x): sympy.Dummy()})
        return not frozen.subs(y, sympy.Dummy()).has(x) and problem.expr.has(y)

    def match(self, problem: Problem) -> Reduction | None:
        if problem.order < 2:
            return None
        k = self._lowest_derivative(problem)
        if k is not None and problem.order - k == 1:
            # y (and its derivatives below the highest but one) absent: first order in p = y^(n-1)
            return Reduction("y", k=k)
        if problem.order != 2:
            return None
        # Missing x: only for nonlinear equations (linear autonomous ones have constant
        # coefficients, done better by the characteristic equation) whose equation for
        # p(y) separates, which is what derive() can carry out.
        if not self._missing_x(problem) or linear_equation(problem) is not None:
            return None
        split = self._p_equation(problem)
        return None if split is None else Reduction("x", split=split)

    @staticmethod
    def _p_equation(problem: Problem) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Symbol, sympy.Symbol] | None:
        """``p dp/dy = F(y, p)`` split as ``dp/dy = a(y) b(p)``: (F, a, b, Y, P) or None."""
        x, y = problem.variable, problem.unknown
        f = normal_form(problem)
        if f is None:
            return None
        Ys, P = sympy.Symbol(problem.function.__name__), sympy.Symbol("p")
        F = f.subs(sympy.Derivative(y, x), P).subs(y, Ys)
        parts = sympy.separatevars(sympy.cancel(F / P), [Ys, P], dict=True)
        if not parts:
            return None
        return F, parts[Ys] * parts["coeff"], parts[P], Ys, P

    def hint(self, problem: Problem, form: Reduction | None = None) -> str:
        form = form or self.match(problem)
        if form is not None and form.missing == "y":
            k = form.k
            if k == 1:
                return ("The unknown $y$ itself does not appear: set $p = y'$, so $y'' = p'$, solve the "
                        "first-order equation for $p$, then integrate once more.")
            return (f"Only derivatives of order {k} and {k + 1} appear: set $p = y^{{({k})}}$, solve the "
                    f"first-order equation for $p$, then integrate {k} times.")
        return ("The variable $x$ does not appear: set $p = y'$ and, by the chain rule, $y'' = p\\,\\frac{dp}{dy}$; "
                "solve the first-order equation for $p(y)$, then separate $\\frac{dy}{dx} = p$.")

    def _derive(self, problem: Problem, form: Reduction) -> Derivation:
        if form.missing == "y":
            steps, solutions, constants = self._derive_missing_y(problem, form.k)
        else:
            steps, solution, constants = self._derive_missing_x(problem, form.split)
            solutions = [solution]
        # constantsimp tidies e^{C1} and C1/2 into C1 here (nonlinear: no y_p to mangle).
        return conclude(problem, self.id, steps, solutions, constants, hint=self.hint(problem, form))

    def _derive_missing_y(self, problem: Problem, k: int) -> tuple[list[Step], list[sympy.Eq], tuple]:
        from tutor.engine import registry  # here: the registry imports this module

        x, y = problem.variable, problem.unknown
        n = problem.order
        p = sympy.Function("p")
        primes = "'" * k if k <= 3 else f"^{{({k})}}"
        substitution = {sympy.Derivative(y, (x, n)): sympy.Derivative(p(x), x), sympy.Derivative(y, (x, k)): p(x)}
        reduced = sympy.Eq(problem.expr.subs(substitution), 0)
        lower = "$y$ does not appear" if k == 1 else f"$y, \\dots, y^{{({k - 1})}}$ do not appear"
        steps = [Step(f"Substitute p = y{primes}",
                      f"{lower}, only higher derivatives: with $p = y{primes}$ and $y^{{({n})}} = p'$ the "
                      "equation becomes first order in $p(x)$.",
                      tex(reduced, x), Check.SUBSTITUTION, before=problem.equation, after=reduced,
                      substitution=substitution)]
        sub_problem = make_problem(reduced, p, x)
        derivation, used = None, None
        for method in registry.methods():
            if method.id == self.id or (method.orders is not None and 1 not in method.orders):
                continue
            try:
                form = method.match(sub_problem)
                if form is not None:
                    derivation, used = derive_matched(method, sub_problem, form), method
                    break
            except CannotDerive:
                continue
        if derivation is None:
            raise CannotDerive("no first-order method solves the reduced equation for p")
        explicit = [s for s in derivation.solutions if s.lhs == p(x) and not s.rhs.has(p)]
        if not explicit or len(explicit) > 2 or len(explicit) != len(derivation.solutions):
            raise CannotDerive("the reduced equation has no explicit solution for p")
        # The first-order method's constant becomes C1.
        c1 = sympy.Symbol("C1")
        renames = {c: c1 for c in derivation.constants}
        steps.append(Step("Solve for p",
                          f"The equation for $p$ is first order; solve it by the method \"{used.name}\" "
                          "(the steps below are in $p$).", "", Check.NOTE))
        for step in derivation.steps:
            # Checks refer to the reduced equation and its unknown p(x), not to y.
            steps.append(dataclasses.replace(
                step, title=f"p: {step.title}",
                ode=step.ode if step.ode is not None else reduced,
                unknown=step.unknown if step.unknown is not None else p(x),
                after=step.after.subs(renames) if isinstance(step.after, sympy.Basic) else step.after,
                check=Check.SOLVES if step.check == Check.CONSTANTS else step.check))
        for lost in derivation.lost:
            steps.append(Step("A solution lost on the way",
                              f"The first-order method set aside ${tex(lost, x)}$; it makes $y$ a polynomial "
                              f"of degree below {k}, contained in the general solution below.", "", Check.NOTE))
        constants = [c1] + [sympy.Symbol(f"C{i}") for i in range(2, k + 2)]
        solutions = []
        for branch, found in enumerate(explicit):
            value = found.rhs.subs(renames)
            steps.append(Step("p found", "Two branches; each is integrated." if len(explicit) > 1 and not branch else "",
                              tex(sympy.Eq(p(x), value), x), Check.SOLVES,
                              after=sympy.Eq(p(x), value), ode=reduced, unknown=p(x)))
            for j in range(k):
                try:
                    result = generic_integration(antiderivative(value, x))
                except ValueError as exc:
                    raise CannotDerive(str(exc)) from exc
                target = "y" + "'" * (k - j - 1)
                steps.append(integration_step(result, x, title=f"Integrate to get {target}"))
                value = result.value + constants[j + 1]
            solutions.append(sympy.Eq(y, value))
        steps.append(Step("General solution", f"With the {k + 1} constants of integration:",
                          tex(tuple(solutions), x), Check.SOLVES, after=tuple(solutions)))
        return steps, solutions, tuple(constants)

    @staticmethod
    def _derive_missing_x(problem: Problem, split: tuple) -> tuple[list[Step], sympy.Expr, tuple]:
        x, y = problem.variable, problem.unknown
        F, a_y, b_p, Ys, P = split
        steps = [Step("Substitute p = y', y'' = p dp/dy",
                      "$x$ does not appear: take $y$ as the new variable, $p = y'$, and by the chain rule "
                      "$y'' = \\frac{dp}{dx} = \\frac{dp}{dy}\\frac{dy}{dx} = p\\frac{dp}{dy}$.",
                      rf"p\frac{{dp}}{{d{ln_latex(Ys)}}} = {ln_latex(F)}", Check.NOTE)]
        lost_words = ""
        if sympy.simplify(F.subs(P, 0)) == 0:
            lost_words = " Dividing by $p$ sets aside $p = 0$, i.e. the constant solutions $y = C$."
        steps.append(Step("Separate p and y",
                          "The equation for $p(y)$ is separable." + lost_words,
                          rf"\frac{{dp}}{{{ln_latex(b_p)}}} = {ln_latex(a_y)}\,d{ln_latex(Ys)}", Check.NOTE))
        try:
            left = generic_integration(antiderivative(1 / b_p, P))
            right = generic_integration(antiderivative(a_y, Ys))
        except ValueError as exc:
            raise CannotDerive(str(exc)) from exc
        steps.append(integration_step(left, x, title="Integrate the p side"))
        steps.append(integration_step(right, x, title="Integrate the y side"))
        c1, c2 = sympy.symbols("C1 C2")
        p_solutions = [generic_branch(v) for v in sympy.solve(sympy.Eq(left.value, right.value + c1), P)]
        p_solutions = [v for v in p_solutions if not v.has(sympy.nan)]
        if not p_solutions:
            raise CannotDerive("cannot solve for p")
        p_of_y = p_solutions[0]
        if len(p_solutions) > 1:
            steps.append(Step("Solve for p", "Take one branch (the other differs by a sign and gives the same "
                              "family after renaming constants).",
                              ln_latex(sympy.Eq(P, p_of_y)), Check.NOTE))
        else:
            steps.append(Step("Solve for p", "", ln_latex(sympy.Eq(P, p_of_y)), Check.NOTE))
        # dy/dx = p(y): separate again.
        integrand = sympy.simplify(1 / p_of_y)
        try:
            integral = generic_integration(antiderivative(integrand, Ys))
            if integral.value.has(sympy.hyper, sympy.meijerg, sympy.exp_polar):
                # SymPy's hypergeometric closed form (y'' + y^3 = 0) reads worse than the integral
                # and cannot be evaluated on the real line (exp_polar): keep the quadrature.
                raise ValueError(f"only a hypergeometric antiderivative of {integrand}")
        except ValueError:
            # No elementary antiderivative (y'' + sin y = 0, the pendulum: an elliptic integral).
            # The textbook answer is the quadrature itself, x + C2 = the integral of dy/p(y).
            u = sympy.Symbol("u")
            quadrature = sympy.Integral(integrand.subs(Ys, u), (u, y))
            implicit = sympy.Eq(quadrature, x + c2)
            steps.append(Step("Separate dy/dx = p(y) and integrate",
                              "$dy/p(y) = dx$; the $y$-integral has no elementary antiderivative (it is an "
                              "elliptic or other special integral), so the answer keeps it as an integral, "
                              "as a textbook does.",
                              tex(implicit, x), Check.SOLVES, after=implicit))
            return steps, implicit, (c1, c2)
        steps.append(integration_step(integral, x, title="Separate dy/dx = p(y) and integrate"))
        implicit = sympy.Eq(integral.value.subs(Ys, y), x + c2)
        try:
            explicit = [generic_branch(v) for v in sympy.solve(sympy.Eq(integral.value, x + c2), Ys)]
            explicit = [v for v in explicit if not v.has(sympy.nan)]
        except NotImplementedError:
            explicit = []
        if len(explicit) != 1:
            # No single explicit y: the textbook leaves the answer implicit, F(y) = x + C2.
            steps.append(Step("General solution (implicit)",
                              "The relation cannot be solved for $y$ in one piece, so it is left implicit.",
                              tex(implicit, x), Check.NOTE))
            return steps, implicit, (c1, c2)
        general = explicit[0].subs(Ys, y)
        steps.append(Step("General solution", "Solve for $y$.",
                          tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general)))
        return steps, sympy.Eq(y, general), (c1, c2)

    # (equation builder in y(x), x, k; the point x0 for initial conditions): textbook families
    # with y absent, linear in y' (difficulty 1) ...
    _MISSING_Y = (
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 2) - y.diff(x), k * x ** 2), 1),
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 2) - 2 * y.diff(x), k * x ** 3), 1),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2) + y.diff(x) / x, k), 1),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2) + y.diff(x) / x, k * x), 1),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2) - y.diff(x) / x, k * x), 1),
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 2) + y.diff(x), k), 1),
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 2) + 2 * y.diff(x), k * x), 1),
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 2) + 3 * y.diff(x), k * x), 1),
        (lambda y, x, k: sympy.Eq(x ** 2 * y.diff(x, 2) + 2 * x * y.diff(x), k), 1),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2) + k * y.diff(x), x), 0),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2) + k * y.diff(x), sympy.exp(x)), 0),
    )
    # ... then nonlinear in y', third order, and y'' = f(y, y') with x absent (difficulty >= 2)
    _HARDER = (
        (lambda y, x, k: sympy.Eq(y.diff(x, 2), k * y.diff(x) ** 2), 0),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2), k * (1 + y.diff(x) ** 2)), 0),
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 3) - y.diff(x, 2), 0), 1),
        (lambda y, x, k: sympy.Eq(y.diff(x, 3), k * y.diff(x, 2)), 0),
        (lambda y, x, k: sympy.Eq(x * y.diff(x, 3) + y.diff(x, 2), k), 1),
        (lambda y, x, k: sympy.Eq(y * y.diff(x, 2), y.diff(x) ** 2), 0),
        (lambda y, x, k: sympy.Eq(y.diff(x, 2), k * y.diff(x) ** 2 / y), 0),
    )

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        # Difficulty 1: linear missing-y families; 2: nonlinear, third order and missing-x ones;
        # 3: any of them as an initial value problem at x0 (0, or 1 where ln x or 1/x appears).
        x, y = sympy.Symbol("x"), sympy.Function("y")
        family, x0 = rng.choice(self._MISSING_Y + (self._HARDER if difficulty >= 2 else ()))
        equation = family(y(x), x, rng.choice([1, 2, 3, 4, 5]))
        if difficulty >= 3:
            order = max(d.derivative_count for d in equation.atoms(sympy.Derivative))
            ics = tuple(InitialCondition(j, sympy.Integer(x0), sympy.Integer(rng.choice([1, 2, 3] if j == 0 else [1, 2])))
                        for j in range(order))
            try:
                return practice_from_derivation(self, equation, y, x, ics)
            except CannotDerive:  # e.g. no member of y'' = k y'^2/y through the point: ask for the family
                pass
        return practice_from_derivation(self, equation, y, x)


METHODS = [ReductionOfOrder]
