"""Integration that says which rule it used (substitution, parts, partial fractions ...).

``antiderivative(f, t) -> Integration`` runs SymPy's
``sympy.integrals.manualintegrate.integral_steps`` to get the rule tree, describes the
rules a student would name, and evaluates it; when the manual rules do not finish it
falls back to ``sympy.integrate`` and says so.  :func:`integration_step` wraps the
result as a checkable :class:`~tutor.engine.steps.Step` (``ANTIDERIVATIVE``: the
derivative of the result is the integrand).

Usage::

    from tutor.engine.integrate import antiderivative, integration_step
    result = antiderivative(x*exp(x), x)     # result.value, result.rules == ["integration by parts ..."]
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy
from sympy.integrals import manualintegrate as mi

from tutor.engine.steps import Check, Step, tex
from tutor.engine.timebox import attempt

#: Seconds for SymPy's rule-based integration (named rules), then for its full integrator.
MANUAL_SECONDS = 1.5
INTEGRATE_SECONDS = 3.0


@dataclass(frozen=True)
class Integration:
    integrand: sympy.Expr
    variable: sympy.Symbol
    value: sympy.Expr
    rules: tuple[str, ...]


def _describe(rule, variable: sympy.Symbol, out: list[str]) -> None:
    """Collect the rules worth naming, outermost first, without repeats."""
    name = type(rule).__name__
    phrase = None
    def has_dummy(*exprs) -> bool:
        # Inside a substitution the rules speak of SymPy's dummy u: say it in words instead.
        return any(isinstance(s, sympy.Dummy) for e in exprs for s in sympy.sympify(e).free_symbols)

    if name == "URule":
        phrase = None if has_dummy(rule.u_func) else f"substitution $u = {sympy.latex(rule.u_func)}$"
    elif name == "PartsRule" and has_dummy(rule.u, rule.dv):
        phrase = "integration by parts"
    elif name == "PartsRule":
        phrase = f"integration by parts with $u = {sympy.latex(rule.u)}$, $dv = {sympy.latex(rule.dv)}\\,d{sympy.latex(rule.variable)}$"
    elif name == "CyclicPartsRule":
        phrase = "integration by parts twice (the integral reappears and is solved for)"
    elif name == "RewriteRule":
        try:
            is_apart = (rule.integrand.is_rational_function(rule.variable)
                        and sympy.degree(sympy.denom(sympy.together(rule.integrand)), rule.variable) >= 1
                        and rule.rewritten != rule.integrand
                        and sympy.simplify(rule.rewritten - sympy.apart(rule.integrand, rule.variable)) == 0)
        except Exception:
            is_apart = False
        if not is_apart and rule.integrand.is_polynomial(rule.variable):
            is_apart = None  # expanding a polynomial is not worth naming
        if is_apart is None:
            phrase = None
        elif is_apart:
            phrase = f"partial fractions: ${sympy.latex(rule.integrand)} = {sympy.latex(rule.rewritten)}$"
        else:
            phrase = f"rewriting the integrand as ${sympy.latex(rule.rewritten)}$"
    elif name in ("PartialFractionRule",):
        phrase = "partial fractions"
    elif name in ("TrigSubstitutionRule",):
        phrase = "a trigonometric substitution"
    elif name == "ArctanRule":
        phrase = "the arctangent rule $\\int \\frac{du}{a^2+u^2} = \\frac{1}{a}\\arctan\\frac{u}{a}$"
    elif name == "ReciprocalRule":
        phrase = "$\\int \\frac{du}{u} = \\ln|u|$"
    if phrase and phrase not in out:
        out.append(phrase)
    if name == "AlternativeRule":
        if rule.alternatives:
            _describe(rule.alternatives[0], variable, out)
        return
    for attr in ("substep", "second_step", "v_step"):
        sub = getattr(rule, attr, None)
        if isinstance(sub, mi.Rule):
            _describe(sub, variable, out)
    for sub in getattr(rule, "substeps", None) or ():
        if isinstance(sub, mi.Rule):
            _describe(sub, variable, out)


def _has_unknown(rule) -> bool:
    if isinstance(rule, mi.DontKnowRule):
        return True
    for attr in ("substep", "second_step", "v_step"):
        sub = getattr(rule, attr, None)
        if isinstance(sub, mi.Rule) and _has_unknown(sub):
            return True
    if isinstance(rule, mi.AlternativeRule):
        return all(_has_unknown(a) for a in rule.alternatives)
    return any(_has_unknown(s) for s in (getattr(rule, "substeps", None) or ()) if isinstance(s, mi.Rule))


def _real_logs(value: sympy.Expr, t: sympy.Symbol) -> sympy.Expr:
    """``ln(u)`` -> ``ln(-u)`` where u is negative at every sampled real point.

    ``∫ cos^2 y / sin y dy`` comes back with ``ln(cos y - 1)``, complex for every real y;
    ``ln(1 - cos y)`` has the same derivative and is what ``ln|u|`` means there.
    """
    replacements = {}
    for log in value.atoms(sympy.log):
        arg = log.args[0]
        if arg.free_symbols != {t}:
            continue
        samples = []
        for point in (-2.3, -1.1, -0.4, 0.35, 0.9, 1.7, 2.6, 3.9):
            try:
                number = complex(arg.evalf(subs={t: point}))
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if abs(number.imag) < 1e-12:
                samples.append(number.real)
        if len(samples) >= 4 and all(v < 1e-12 for v in samples) and any(v < 0 for v in samples):
            replacements[log] = sympy.log(sympy.expand(-arg))
    return value.xreplace(replacements) if replacements else value


def _generic_branch(piecewise: sympy.Piecewise) -> sympy.Expr:
    """The branch for generic parameter values: the first whose condition is not ``a = 0``."""
    for expr, condition in piecewise.args:
        if not isinstance(condition, sympy.Equality):
            return expr
    return piecewise.args[0].expr


def antiderivative(f: sympy.Expr, t: sympy.Symbol) -> Integration:
    """An antiderivative of ``f`` in ``t`` with the rules used; raises ValueError if none found.

    Results and failures are remembered (per worker process): when separable, linear and
    exact all need the same hopeless integral, only the first pays for finding that out.
    """
    result = _antiderivative_cached(sympy.sympify(f), t)
    if isinstance(result, str):
        raise ValueError(result)
    return result


class IntegrationTimeout(ValueError):
    """SymPy did not finish the integral within its time box (may work on a quieter machine)."""


@functools.lru_cache(maxsize=512)
def _antiderivative_cached(f: sympy.Expr, t: sympy.Symbol) -> Integration | str:
    # Definite failures are remembered; running out of time is not (raised, not cached).
    try:
        return _antiderivative(f, t)
    except IntegrationTimeout:
        raise
    except ValueError as exc:
        return str(exc)


def _antiderivative(f: sympy.Expr, t: sympy.Symbol) -> Integration:
    f = sympy.sympify(f)
    rules: list[str] = []
    value = None
    target = f
    # tan, cot, sec, csc as sin/cos first: cot x is then visibly (sin x)'/sin x.
    sincos = f.replace(sympy.tan, lambda a: sympy.sin(a) / sympy.cos(a)).replace(
        sympy.cot, lambda a: sympy.cos(a) / sympy.sin(a)).replace(
        sympy.sec, lambda a: 1 / sympy.cos(a)).replace(sympy.csc, lambda a: 1 / sympy.sin(a))
    numerator, denominator = sympy.fraction(sympy.together(sincos))
    log_derivative = False
    if denominator.has(t) and sympy.diff(denominator, t) != 0:
        factor = sympy.cancel(numerator / sympy.diff(denominator, t))
        log_derivative = not factor.has(t)
        if log_derivative:
            # c g'/g: the substitution u = g gives c ln|g| directly (integral_steps can wander
            # into u = 1/y and partial fractions of the result).
            g = sympy.factor(denominator)
            rule = "$\\int \\frac{du}{u} = \\ln|u|$"
            # u = x or u = x - 1 is not worth naming as a substitution
            named = (rule,) if g.is_polynomial(t) and sympy.degree(g, t) == 1 else (
                f"substitution $u = {sympy.latex(g)}$", rule)
            return Integration(f, t, factor * sympy.log(g), named)
    if f.is_rational_function(t) and sympy.degree(denominator, t) >= 2 and not log_derivative:
        # A textbook integrates a rational function by partial fractions first;
        # integral_steps sometimes prefers a clever substitution instead.  (Not for
        # g'/g, where the substitution u = g is the textbook way.)
        parts = sympy.apart(sympy.together(f), t)
        if isinstance(parts, sympy.Add) and len(parts.args) >= 2:
            rules.append(f"partial fractions: ${sympy.latex(f)} = {sympy.latex(parts)}$")
            target = parts
    def manual() -> sympy.Expr | None:
        tree = mi.integral_steps(target, t)
        if _has_unknown(tree):
            return None
        _describe(tree, t, rules)
        return tree.eval()

    try:
        # integral_steps can spend many seconds exploring rewrites; SymPy's integrator
        # often answers at once (rules are then not named).
        finished, value = attempt(MANUAL_SECONDS, manual)
    except Exception:  # manualintegrate raises on some inputs; sympy.integrate may still work
        value = None
    if value is None or value.has(sympy.Integral):
        finished, value = attempt(INTEGRATE_SECONDS, sympy.integrate, f, t)
        rules = ["SymPy's integrator (no textbook rule applies directly)"]
        if not finished:
            raise IntegrationTimeout(f"no antiderivative of {f} found in time")
        if value.has(sympy.Integral):
            raise ValueError(f"no closed-form antiderivative of {f}")
    if value.has(sympy.Piecewise):
        # integral_steps splits cases of a parameter (is it zero?); the generic case is the
        # textbook answer, and the step check differentiates it.
        value = value.replace(lambda e: isinstance(e, sympy.Piecewise), _generic_branch)
    value = _real_logs(value, t)
    if value.is_polynomial(t) and sympy.count_ops(sympy.expand(value)) <= 2 * sympy.count_ops(value) + 4:
        value = sympy.expand(value)  # x^3 y + x^2 y^2/2, not y (x^3 + x^2 y / 2)
    return Integration(f, t, value, tuple(rules))


def integration_step(result: Integration, variable_for_tex: sympy.Symbol, title: str = "Integrate") -> Step:
    """A checkable step ``∫ f dt = F`` naming the rules used."""
    integral = sympy.Integral(result.integrand, result.variable)
    relation = sympy.Eq(integral, result.value)
    how = ("Using " + "; ".join(result.rules) + ".") if result.rules else "By the basic rules."
    return Step(title=title, text=how, latex=tex(relation, variable_for_tex) + " + C",
                check=Check.ANTIDERIVATIVE, after=relation)
