"""Cauchy-Euler equations ``sum b_k x^k y^(k) = g``: the indicial equation; the
non-homogeneous case through ``x = e^t`` (undetermined coefficients in t) when ``g(e^t)`` has that
form, otherwise by variation of parameters."""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import CannotDerive, Derivation, Method, Practice
from tutor.engine.linear_ode import (
    LinearODE, Root, characteristic_roots, euler_basis, forcing_terms, indicial_polynomial,
)
from tutor.engine.methods.higher_order_practice import equation_from_coefficients, practice_from_derivation
from tutor.engine.methods.higher_order_steps import (
    INDEXED_ROOTS, basis_latex, combination, complementary_step, factored_polynomial, finish_linear, general_solution_steps,
    linear_of_higher_order, ln_latex, numbered_constants, roots_text, undetermined_coefficients_steps,
    variation_of_parameters_steps,
)
from tutor.engine.steps import Check, Step, tex
from tutor.problem import InitialCondition, Problem, textbook_latex

#: The unknown exponent of the trial solution ``y = x^m``.
M = sympy.Symbol("m")
#: The new variable of the substitution ``x = e^t``.
T = sympy.Symbol("t")


@dataclass(frozen=True)
class EulerEquation:
    """What the Cauchy-Euler method works from: the equation as a linear ODE and its constant
    ``b_k`` with ``sum b_k x^k y^(k) = g``."""

    equation: LinearODE
    b: tuple[sympy.Expr, ...]


class CauchyEuler(Method):
    """``sum b_k x^k y^(k) = g(x)``: try ``y = x^m`` (indicial equation)."""

    id = "cauchy_euler"
    name = "Cauchy-Euler equation"
    not_matched = "not a Cauchy-Euler equation"
    hint_pattern = (r"cauchy|euler|indicial", None)

    def match(self, problem: Problem) -> EulerEquation | None:
        equation = linear_of_higher_order(problem)
        b = None if equation is None else equation.euler_coefficients()
        return None if b is None else EulerEquation(equation, b)

    def hint(self, problem: Problem, form: EulerEquation | None = None) -> str:
        form = form or self.match(problem)
        extra = ""
        if form is not None and not form.equation.homogeneous:
            extra = " For the right-hand side, substitute $x = e^t$ (constant coefficients in $t$) or vary the parameters."
        return ("Each term is $x^k y^{(k)}$ times a constant (Cauchy-Euler): try $y = x^m$ to get the indicial "
                "equation in $m$; its roots give the solutions (for $x > 0$)." + extra)

    @staticmethod
    def _homogeneous_steps(problem: Problem, b: tuple[sympy.Expr, ...]
                           ) -> tuple[list[Step], list[Root], list[sympy.Expr]]:
        x, y = problem.variable, problem.unknown
        poly = indicial_polynomial(b, M)
        roots = characteristic_roots(poly, M)
        if roots is None:
            raise CannotDerive("the indicial polynomial has roots SymPy cannot write in closed form")
        # Shown as the textbook writes it: sum b_k x^k y^(k) = 0.
        homogeneous = equation_from_coefficients(b, sympy.S.Zero, y, x, euler=True)
        trial = x ** M
        substituted = sympy.Add(*[c * x ** k * (sympy.Derivative(trial, (x, k)) if k else trial)
                                  for k, c in enumerate(b)])
        steps = [Step("Indicial equation",
                      "Try $y = x^m$: then $x^k y^{(k)} = m(m-1)\\cdots(m-k+1)\\,x^m$, so every term is a "
                      "multiple of $x^m \\neq 0$ and the coefficient must vanish.",
                      textbook_latex(homogeneous, problem.function, x) + r"\ \Longrightarrow\ "
                      + ln_latex(sympy.Eq(sympy.Add(*[c * sympy.ff(M, k) for k, c in enumerate(b)]), 0))
                      + r"\ \Longrightarrow\ " + ln_latex(sympy.Eq(poly, 0)),
                      Check.IDENTITY, after=sympy.Eq(substituted, x ** M * poly, evaluate=False))]
        factored = sympy.factor(poly)
        words = "Solve the indicial equation; note multiplicities and complex pairs."
        if any(isinstance(r.value, sympy.CRootOf) for r in roots):
            words = INDEXED_ROOTS
        steps.append(Step("Roots", words,
                          (ln_latex(sympy.Eq(factored, 0)) + r"\ \Longrightarrow\ " if factored != poly else "")
                          + roots_text(roots, "m"),
                          Check.IDENTITY, after=sympy.Eq(poly, factored_polynomial(poly, M, roots), evaluate=False)))
        basis = euler_basis(roots, x)
        rules = ["a real root $m$ gives $x^m$"]
        if any(r.multiplicity > 1 for r in roots):
            rules.append("a repeated root also gives $x^m\\ln x$ (and $x^m \\ln^2 x, \\dots$)")
        if any(r.is_complex for r in roots):
            rules.append("a pair $a \\pm bi$ gives $x^a\\cos(b\\ln x)$ and $x^a\\sin(b\\ln x)$")
        steps.append(Step("Fundamental set of solutions", "; ".join(rules).capitalize() + " (for $x > 0$).",
                          basis_latex(basis, x), Check.SOLVES,
                          after=tuple(sympy.Eq(y, f) for f in basis), ode=homogeneous))
        return steps, roots, basis

    def _derive(self, problem: Problem, form: EulerEquation) -> Derivation:
        x, y = problem.variable, problem.unknown
        equation, b = form.equation, form.b
        steps, roots, basis = self._homogeneous_steps(problem, b)
        constants = numbered_constants(len(basis))
        yh = combination(basis, constants)
        normalized = equation.normalized()
        if equation.homogeneous:
            steps.append(Step("General solution",
                              "The general solution is an arbitrary combination of the fundamental set.",
                              tex(sympy.Eq(y, yh), x), Check.SOLVES, after=sympy.Eq(y, yh)))
            return finish_linear(self, problem, form, steps, yh, constants)
        steps.append(complementary_step(problem, yh, normalized))
        # x^n times the monic right-hand side is what the x = e^t equation has on its right.
        n = equation.order
        # force: t is real here (x = e^t > 0), so ln(2e^t) = t + ln 2 and sqrt(e^t) = e^{t/2}.
        g_t = sympy.expand_log((normalized.rhs * x ** n).subs(x, sympy.exp(T)), force=True)
        g_t = sympy.simplify(sympy.powdenest(g_t, force=True))
        terms = forcing_terms(g_t, T)
        if terms is not None:
            more, particular = self._via_exponential(problem, b, roots, g_t, terms)
        else:
            more, particular = variation_of_parameters_steps(problem, basis, normalized.rhs, x)
        steps.extend(more)
        more, general = general_solution_steps(problem, yh, particular, "Particular solution",
                                               "Substituting $y_p$ back gives the right-hand side.")
        steps.extend(more)
        return finish_linear(self, problem, form, steps, general, constants)

    @staticmethod
    def _via_exponential(problem: Problem, b: tuple[sympy.Expr, ...], roots: list[Root],
                         g_t: sympy.Expr, terms: list) -> tuple[list[Step], sympy.Expr]:
        """``x = e^t`` turns the equation into constant coefficients in t; UC there, then t = ln x."""
        x = problem.variable
        # x^k y^(k) = D(D-1)...(D-k+1) y with D = d/dt: the characteristic polynomial in t
        # is the indicial polynomial, so the coefficients in t are its coefficients.
        coefficients = tuple(reversed(sympy.Poly(indicial_polynomial(b, M), M).all_coeffs()))
        Y = sympy.Function("Y")
        t_equation = LinearODE(tuple(sympy.S(c) for c in coefficients), g_t, T)
        shown = equation_from_coefficients(t_equation.coefficients, g_t, Y(T), T)
        steps = [Step("Substitute x = e^t",
                      "With $x = e^t$ and $D = d/dt$, $x^k y^{(k)} = D(D-1)\\cdots(D-k+1)y$: the equation gets "
                      "constant coefficients in $t$, with the indicial polynomial as its characteristic polynomial.",
                      textbook_latex(shown, Y, T), Check.NOTE)]
        more, particular_t = undetermined_coefficients_steps(problem, t_equation, roots, T, name="Y_p", terms=terms)
        steps.extend(more)
        particular = sympy.expand(sympy.powsimp(particular_t.subs(T, sympy.log(x))))
        steps.append(Step("Back to x", "Replace $t$ by $\\ln x$ (and $e^{kt}$ by $x^k$).",
                          f"Y_p = {ln_latex(particular_t)}" + r"\ \Longrightarrow\ y_p = " + ln_latex(particular),
                          Check.NOTE))
        return steps, particular

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, y = sympy.Symbol("x"), sympy.Function("y")
        kind = rng.choice(["distinct", "repeated", "complex"])
        if kind == "distinct":
            m1 = rng.randint(-3, 3)
            m2 = rng.choice([v for v in range(-3, 5) if v != m1])
            poly = (M - m1) * (M - m2)
        elif kind == "repeated":
            poly = (M - rng.randint(-2, 3)) ** 2
        else:
            a, bb = rng.randint(-1, 2), rng.randint(1, 3)
            poly = (M - a) ** 2 + bb ** 2
        # m(m-1) + b1 m + b0 = poly  ->  b1 = coeff of m in poly + 1, b0 = constant term
        p = sympy.Poly(sympy.expand(poly), M)
        b0, b1 = p.coeff_monomial(1), p.coeff_monomial(M) + 1
        rhs = sympy.S.Zero
        if difficulty >= 2:
            # g(e^t) of undetermined-coefficients form: solved through x = e^t.
            rhs = rng.choice([1, 2, 3]) * rng.choice([x, x ** 2, x ** 3, sympy.log(x), x ** -1, x * sympy.log(x)])
            if difficulty >= 3 and kind == "distinct" and rng.random() < 0.5:
                # x^2 g with g = 1/(x + 1): not of that form, so variation of parameters; with
                # integer roots every u_i' is a rational function (partial fractions).
                rhs = rng.choice([1, 2]) * x ** 2 / (x + 1)
        equation = equation_from_coefficients((b0, b1, sympy.S.One), rhs, y(x), x, euler=True)
        ics = ()
        if difficulty >= 2 and rng.random() < 0.4:
            ics = (InitialCondition(0, sympy.S.One, sympy.Integer(rng.randint(-3, 3))),
                   InitialCondition(1, sympy.S.One, sympy.Integer(rng.randint(-3, 3))))
        return practice_from_derivation(self, equation, y, x, ics)


METHODS = [CauchyEuler]
