"""Step builders shared by the first-order methods (each returns checkable steps).

* :func:`normal_form_steps` — "solve for y'" (``y' = f(x, y)``);
* :func:`separate_and_integrate` — ``u' = g(x) h(u)`` -> ``∫ du/h(u) = ∫ g dx`` -> ``H(u) = G(x) + C``,
  naming the integration rules and the solutions lost by dividing by ``h(u)``;
  used by ``separable`` and, in ``v``, by ``homogeneous``;
* :func:`linear_steps` — ``u' + P u = Q`` by the integrating factor ``e^{∫P}``; used by
  ``first_order_linear`` and, in ``v``, by ``bernoulli`` and ``riccati``;
* :func:`explicit_solutions` — solve an implicit relation for the unknown when tidy.

Every step names the ODE and unknown it refers to, so a sub-derivation in ``v(x)`` is
checkable inside a derivation for ``y(x)``.
"""
from __future__ import annotations

import sympy

from tutor.engine.base import CannotDerive, explicit_solutions, normal_form, tidy
from tutor.engine.integrate import antiderivative, integration_step
from tutor.engine.steps import Check, Step, tex, ltx
from tutor.problem import Problem

C = sympy.Symbol("C")


def normal_form_steps(problem: Problem) -> tuple[sympy.Expr, list[Step], sympy.Eq]:
    """f (in y(x)) with ``y' = f``, the step that states it (none if already written so), the ODE."""
    f = normal_form(problem)
    if f is None:
        raise CannotDerive("cannot solve the equation for y'")
    x, y = problem.variable, problem.unknown
    target = sympy.Eq(sympy.Derivative(y, x), f)
    if problem.equation == target:
        return f, [], target
    step = Step("Solve for the derivative", "Write the equation in the normal form $y' = f(x, y)$.",
                latex=tex(target, x), check=Check.EQUIVALENT, before=problem.equation, after=target)
    return f, [step], target


def solves_step(title: str, text: str, relation, ode: sympy.Eq, unknown: sympy.Expr,
                variable: sympy.Symbol, latex: str | None = None) -> Step:
    """A SOLVES step that names its ODE, unknown and variable (checkable inside any derivation)."""
    return Step(title, text, latex=latex if latex is not None else tex(relation, variable), check=Check.SOLVES,
                after=relation, ode=ode, unknown=unknown, variable=variable)


def _is_log_integral(value: sympy.Expr) -> bool:
    return value.has(sympy.log)


def separate_and_integrate(ode: sympy.Eq, unknown: sympy.Expr, variable: sympy.Symbol, g: sympy.Expr,
                           h: sympy.Expr, U: sympy.Symbol) -> tuple[list[Step], sympy.Eq, list[sympy.Eq]]:
    """Steps for ``u' = g(x) h(u)`` (h in the symbol U) ending in ``H(u) = G(x) + C``.

    Returns the steps, the implicit general solution (in ``unknown``) and the lost
    constant solutions ``u = r`` with ``h(r) = 0``.
    """
    x, u = variable, unknown
    name = ltx(U)
    steps: list[Step] = []
    du = sympy.Derivative(u, x)
    lost: list[sympy.Eq] = []
    if h != 1:
        separated = sympy.Eq(du / h.subs(U, u), g)
        try:
            roots = [r for r in sympy.solve(h, U) if r.is_real is not False and not r.has(x)]
        except NotImplementedError:
            roots = []
        lost = [sympy.Eq(u, r) for r in roots]
        if lost:
            why = (f" This assumes ${ltx(h)} \\neq 0$: dividing loses the constant solution"
                   + ("s " if len(lost) > 1 else " ") + ", ".join(f"${tex(l, x)}$" for l in lost) + ".")
        else:
            why = f" (${ltx(h)}$ never vanishes, so no solution is lost.)"
        reciprocal = sympy.factor(sympy.cancel(1 / h)) if h.is_rational_function(U) else sympy.simplify(1 / h)
        factor = (f"Divide by ${ltx(h)}$" if sympy.denom(sympy.together(h)).free_symbols.isdisjoint({U})
                  else f"Multiply by ${ltx(reciprocal)}$")
        steps.append(Step(
            "Separate the variables",
            f"{factor} and write $d{name}$ and $d{ltx(x)}$ on separate sides." + why,
            latex=(f"{ltx(reciprocal)}\\,d{name} = {ltx(g)}\\,d{ltx(x)}"
                   if reciprocal != 1 else f"d{name} = {ltx(g)}\\,d{ltx(x)}"),
            check=Check.EQUIVALENT, before=ode, after=separated))
        before = separated
    else:
        before = ode
    integrand = sympy.factor(sympy.cancel(1 / h)) if h.is_rational_function(U) else 1 / h
    integrated = sympy.Eq(sympy.Integral(integrand, U), sympy.Integral(g, x))
    steps.append(Step("Integrate both sides", "Integrate each side with respect to its own variable.",
                      latex=tex(integrated, x), check=Check.INTEGRATED, before=before, after=integrated,
                      unknown=u, variable=x))
    try:
        left = antiderivative(integrand, U)
        right = antiderivative(g, x)
    except ValueError as exc:
        raise CannotDerive(str(exc)) from exc
    if left.integrand != 1:
        steps.append(integration_step(left, x, title=f"Integrate the {name} side"))
    steps.append(integration_step(right, x, title=f"Integrate the {ltx(x)} side"))
    implicit = sympy.Eq(left.value.subs(U, u), right.value + C)
    note = ""
    if _is_log_integral(left.value) and left.value.has(sympy.log(U)):
        note = f" ($\\ln|{name}|$ in general; the absolute value is absorbed into the constant below.)"
    steps.append(solves_step("General solution (implicit)",
                             "Put the two antiderivatives together with one constant of integration C." + note,
                             implicit, ode, u, x))
    return steps, implicit, lost


def explicit_step(implicit: sympy.Eq, ode: sympy.Eq, unknown: sympy.Expr, variable: sympy.Symbol,
                  U: sympy.Symbol) -> tuple[list[Step], tuple[sympy.Eq, ...], bool]:
    """Try to solve the implicit solution for the unknown; returns steps, solutions, explicit?"""
    sols = explicit_solutions(implicit, unknown, U)
    if sols is None:
        return ([Step("Leave the answer implicit",
                      f"The relation cannot be solved neatly for ${ltx(U)}$, so the answer stays implicit.",
                      check=Check.NOTE)], (implicit,), False)
    text = f"Solve for ${ltx(U)}$" + (" (two branches)." if len(sols) > 1 else ".")
    return [solves_step("Solve for " + ltx(U), text, sols, ode, unknown, variable)], sols, True


def exp_tex(exponent: sympy.Expr, value: sympy.Expr, x: sympy.Symbol) -> str:
    """``e^{A} = value`` (just ``e^{A}`` when the value is written the same way)."""
    power = f"e^{{{tex(exponent, x)}}}"
    shown = tex(value, x)
    return power if shown == power else f"{power} = {shown}"


def _coefficient_tex(P: sympy.Expr, x: sympy.Symbol) -> str:
    """``P`` as a coefficient in front of the unknown: ``2``, ``-``, ``\\frac{1}{x}\\,``, ``(x+1)``."""
    if P == 1:
        return ""
    if P == -1:
        return "-"
    if isinstance(P, sympy.Add):
        return f"\\left({tex(P, x)}\\right)"
    return tex(P, x) + "\\,"


def linear_steps(ode: sympy.Eq, unknown: sympy.Expr, variable: sympy.Symbol, P: sympy.Expr, Q: sympy.Expr,
                 ) -> tuple[list[Step], sympy.Eq]:
    """Steps solving ``u' + P u = Q`` with ``mu = e^{∫P dx}``; returns (steps, ``u = ...``)."""
    x, u = variable, unknown
    name = ltx(sympy.Symbol(u.func.__name__))
    du = sympy.Derivative(u, x)
    steps: list[Step] = []
    standard = sympy.Eq(du + P * u, Q)
    steps.append(Step("Standard form", f"Write the equation as ${name}' + P(x)\\,{name} = Q(x)$ with "
                                        f"$P = {tex(P, x)}$ and $Q = {tex(Q, x)}$.",
                      latex=(f"{name}' + {_coefficient_tex(P, x)}{name} = {tex(Q, x)}".replace("+ -", "-")
                             if P != 0 else tex(standard, x)),
                      check=Check.EQUIVALENT, before=ode, after=standard))
    if P == 0:
        # No integrating factor needed: the equation is u' = Q, integrate directly.
        mu = sympy.Integer(1)
        product = sympy.Eq(du, Q)
    else:
        try:
            integral_P = antiderivative(P, x)
        except ValueError as exc:
            raise CannotDerive(str(exc)) from exc
        steps.append(integration_step(integral_P, x, title="Integrate P"))
        mu = sympy.simplify(sympy.exp(integral_P.value))
        if mu.has(sympy.Abs):
            raise CannotDerive("integrating factor with absolute values")
        steps.append(Step("Integrating factor",
                          "The integrating factor is $\\mu(x) = e^{\\int P\\,dx}$ (no constant needed: any one factor works).",
                          latex="\\mu(x) = " + exp_tex(integral_P.value, mu, x),
                          check=Check.IDENTITY, after=sympy.Eq(sympy.exp(integral_P.value), mu, evaluate=False)))
        multiplied = sympy.Eq(mu * du + mu * P * u, mu * Q)
        product = sympy.Eq(sympy.Derivative(mu * u, x), tidy(mu * Q))
        steps.append(Step("Multiply by the integrating factor",
                          f"Multiplying by $\\mu$ turns the left side into the derivative of the product $\\mu {name}$.",
                          latex=tex(multiplied, x) + r"\quad\Longleftrightarrow\quad " +
                          f"\\left({_coefficient_tex(mu, x)}{name}\\right)' = {tex(product.rhs, x)}",
                          check=Check.EQUIVALENT, before=standard, after=product))
    try:
        integral_Q = antiderivative(product.rhs, x)
    except ValueError as exc:
        raise CannotDerive(str(exc)) from exc
    steps.append(integration_step(integral_Q, x, title="Integrate both sides"))
    implicit = sympy.Eq(mu * u, integral_Q.value + C)
    steps.append(solves_step("Add the constant", "Integrating the derivative gives back the product, plus a constant C.",
                             implicit, ode, u, x))
    solution = sympy.Eq(u, sympy.expand(integral_Q.value / mu) + C / mu)
    shorter = tidy(solution.rhs)
    if sympy.count_ops(shorter) < sympy.count_ops(solution.rhs):
        solution = sympy.Eq(u, shorter)
    if mu != 1:
        steps.append(solves_step("Divide by the integrating factor", f"Divide by $\\mu = {tex(mu, x)}$.",
                                 solution, ode, u, x))
    return steps, solution
