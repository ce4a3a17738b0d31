"""Step builders shared by the linear higher-order methods (each returns checkable steps).

* :func:`characteristic_steps` — ``L[y] = 0`` with constant coefficients -> the characteristic
  equation, its roots with multiplicities, the fundamental set;
* :func:`undetermined_coefficients_steps` — trial form, substitution, matching coefficients;
* :func:`variation_of_parameters_steps` — Wronskian, ``u_i'`` by Cramer's rule, the integrals;
* :func:`finish_linear` — the general solution, or the initial value problem's constants solved
  and shown (:func:`ivp_steps`).

Used by :mod:`constant_coefficients`, :mod:`undetermined_coefficients`,
:mod:`variation_of_parameters` and :mod:`cauchy_euler` (and :func:`generic_integration` by
:mod:`reduction_of_order`).  The algebra lives in :mod:`tutor.engine.linear_ode`; this module
turns it into steps (title, words, LaTeX, and the SymPy relation the step checker verifies).
Everything here runs inside the bounded worker (see :mod:`tutor.engine.base`).
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import sympy
from sympy.simplify.fu import TR1, TR2

from tutor.checker.zero import root_value
from tutor.engine.base import CannotDerive, Derivation, Method
from tutor.engine.integrate import Integration, antiderivative, integration_step
from tutor.engine.linear_ode import (
    LinearODE, Root, TrialPart, characteristic_polynomial, characteristic_roots,
    constant_coefficient_basis, forcing_terms, linear_equation, prepare_forcing, solve_trial, trial_solution,
    variation_of_parameters, wronskian_matrix,
)
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Problem, latex, textbook_latex

#: LaTeX with ``\\ln`` for the natural logarithm, as textbooks write it.
ln_latex = partial(latex, ln_notation=True)

#: The variable of the characteristic polynomial.
R = sympy.Symbol("r")


def linear_of_higher_order(problem: Problem) -> LinearODE | None:
    """The equation as a linear ODE when it is linear and of order two or more, else None."""
    return linear_equation(problem) if problem.order >= 2 else None


def constant_coefficient_equation(problem: Problem, homogeneous: bool) -> LinearODE | None:
    """The equation as a linear ODE of order two or more with constant coefficients, homogeneous
    or not as asked, else None (what constant coefficients and variation of parameters match)."""
    equation = linear_of_higher_order(problem)
    if equation is None or equation.homogeneous != homogeneous or equation.constant_coefficients() is None:
        return None
    return equation


def numbered_constants(n: int, start: int = 1) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(f"C{i}") for i in range(start, start + n))


#: The Roots step's words when some roots are indexed (no usable formula in radicals).
INDEXED_ROOTS = ("Some roots have no usable formula in radicals (a factor of degree 5 or more has none at all, "
                 "Abel-Ruffini; a quartic's Ferrari formula runs over pages), so they are named "
                 "$r_1, r_2, \\dots$ in SymPy's order for their factor (real roots ascending, then the complex "
                 "ones) and given to 6 digits; the answer is exact in them. Complex roots come in conjugate "
                 "pairs $a \\pm bi$, with $a = \\operatorname{Re} r_k$ and $b = \\operatorname{Im} r_k$.")


def _conjugate_root(root: sympy.CRootOf) -> sympy.CRootOf:
    """The indexed root that is ``root``'s complex conjugate (found by value)."""
    z = complex(root_value(root, 15))
    others = [sympy.CRootOf(root.poly, k) for k in range(root.poly.degree()) if k != root.index]
    return min(others, key=lambda r: abs(complex(root_value(r, 15)) - z.conjugate()))


def roots_text(roots: list[Root], name: str) -> str:
    """LaTeX list of roots with multiplicities: ``r_1 = 1,\\ r_2 = 2 (double)``, ``r = -1 \\pm 2i``."""
    words = {1: "", 2: r"\ \text{(double)}", 3: r"\ \text{(triple)}"}
    parts = []
    for i, root in enumerate(roots, start=1):
        sub = f"{name}_{{{i}}}" if len(roots) > 1 else name
        mult = words.get(root.multiplicity, rf"\ \text{{(multiplicity {root.multiplicity})}}")
        if isinstance(root.value, sympy.CRootOf):
            # No formula in radicals (Abel-Ruffini): an indexed exact root (printed r_k, SymPy's
            # numbering), defined here by its value.
            z = complex(root_value(root.value, 6))
            if root.is_complex:
                conj = _conjugate_root(root.value)
                parts.append(f"{ln_latex(conj)}, {ln_latex(root.value)} \\approx {z.real:.6g} \\pm {abs(z.imag):.6g}i{mult}")
            else:
                parts.append(f"{ln_latex(root.value)} \\approx {z.real:.6g}{mult}")
            continue
        if root.is_complex:
            value = (f"{ln_latex(root.real)} \\pm {ln_latex(root.imag)}i" if root.real != 0
                     else f"\\pm {ln_latex(root.imag)}i")
            if root.imag == 1:
                value = value.replace("\\pm 1i", "\\pm i")
        else:
            value = ln_latex(root.value)
        parts.append(f"{sub} = {value}{mult}")
    return r",\quad ".join(parts)


def factored_polynomial(poly: sympy.Expr, variable: sympy.Symbol, roots: list[Root]) -> sympy.Expr:
    """The polynomial as its leading coefficient times ``(r - root)^m`` over the complex numbers."""
    lead = sympy.Poly(poly, variable).LC()
    out = sympy.S(lead)
    for root in roots:
        if root.is_complex:
            z = root.real + sympy.I * root.imag
            out *= ((variable - z) * (variable - sympy.conjugate(z))) ** root.multiplicity
        else:
            out *= (variable - root.value) ** root.multiplicity
    return out


def homogeneous_equation(problem: Problem, equation: LinearODE) -> sympy.Eq:
    x, y = problem.variable, problem.unknown
    return sympy.Eq(sympy.Add(*[a * sympy.Derivative(y, (x, k)) if k else a * y
                                for k, a in enumerate(equation.coefficients)]), 0)


def combination(basis: list[sympy.Expr], constants: tuple[sympy.Symbol, ...]) -> sympy.Expr:
    return sympy.Add(*[c * f for c, f in zip(constants, basis)])


def basis_latex(basis: list[sympy.Expr], x: sympy.Symbol) -> str:
    return r",\quad ".join(f"y_{{{i}}} = {ln_latex(f)}" for i, f in enumerate(basis, start=1))


def characteristic_steps(problem: Problem, equation: LinearODE
                          ) -> tuple[list[Step], list[Root], list[sympy.Expr]]:
    """Steps from ``L[y] = 0`` to the fundamental set, for constant coefficients."""
    x, y = problem.variable, problem.unknown
    coefficients = equation.constant_coefficients()
    poly = sympy.expand(characteristic_polynomial(coefficients, R))
    roots = characteristic_roots(poly, R)
    if roots is None:
        raise CannotDerive("the characteristic polynomial has roots SymPy cannot write in closed form")
    homogeneous = homogeneous_equation(problem, equation.normalized())
    trial = sympy.exp(R * x)
    substituted = sympy.Add(*[b * sympy.Derivative(trial, (x, k)) if k else b * trial
                              for k, b in enumerate(coefficients)])
    steps = [
        Step("Characteristic equation",
             "Try $y = e^{rx}$: each derivative brings down a factor $r$, so the left side becomes "
             "$e^{rx}$ times a polynomial in $r$. Since $e^{rx} \\neq 0$, that polynomial must vanish.",
             textbook_latex(homogeneous, problem.function, x) + r"\ \Longrightarrow\ " + ln_latex(sympy.Eq(poly, 0)),
             Check.IDENTITY, after=sympy.Eq(substituted, trial * poly, evaluate=False)),
    ]
    factored = sympy.factor(poly)
    complete = factored_polynomial(poly, R, roots)
    how = ("Factor the characteristic polynomial" if factored != poly or sympy.degree(poly, R) == 1
           else "Solve the characteristic equation (quadratic formula)")
    text = how + " and read off the roots with their multiplicities."
    if any(r.is_complex for r in roots):
        text += " Complex roots come in conjugate pairs $a \\pm bi$."
    if any(isinstance(r.value, sympy.CRootOf) for r in roots):
        text = INDEXED_ROOTS
    steps.append(Step("Roots", text,
                      (ln_latex(sympy.Eq(factored, 0)) + r"\ \Longrightarrow\ " if factored != poly else "")
                      + roots_text(roots, "r"),
                      Check.IDENTITY, after=sympy.Eq(poly, complete, evaluate=False)))
    basis = constant_coefficient_basis(roots, x)
    rules = []
    if any(not r.is_complex for r in roots):
        rules.append("a real root $r$ gives $e^{rx}$")
    if any(r.multiplicity > 1 for r in roots):
        rules.append("a root of multiplicity $m$ gives $e^{rx}, xe^{rx}, \\dots, x^{m-1}e^{rx}$")
    if any(r.is_complex for r in roots):
        rules.append("a pair $a \\pm bi$ gives $e^{ax}\\cos bx$ and $e^{ax}\\sin bx$")
    steps.append(Step("Fundamental set of solutions",
                      "Each root gives solutions: " + "; ".join(rules) + ". "
                      f"These {len(basis)} functions are linearly independent.",
                      basis_latex(basis, x), Check.SOLVES,
                      after=tuple(sympy.Eq(y, f) for f in basis), ode=homogeneous))
    return steps, roots, basis


def complementary_step(problem: Problem, yh: sympy.Expr, normalized: LinearODE) -> Step:
    """``y_h``, the fundamental set combined with arbitrary constants (it solves ``L[y] = 0``)."""
    return Step("Complementary solution", "Combine the fundamental set with arbitrary constants.",
                "y_h = " + ln_latex(yh), Check.SOLVES, after=sympy.Eq(problem.unknown, yh),
                ode=homogeneous_equation(problem, normalized))


def general_solution_steps(problem: Problem, yh: sympy.Expr, particular: sympy.Expr, title: str,
                           text: str) -> tuple[list[Step], sympy.Expr]:
    """``y_p`` checked against the equation (``title``, ``text``), then ``y = y_h + y_p``."""
    x, y = problem.variable, problem.unknown
    general = yh + particular
    return [Step(title, text, "y_p = " + ln_latex(particular), Check.SOLVES, after=sympy.Eq(y, particular)),
            Step("General solution", "The general solution is $y = y_h + y_p$.",
                 tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general))], general


def finish_linear(method: Method, problem: Problem, form: Any, steps: list[Step], general: sympy.Expr,
                  constants: tuple[sympy.Symbol, ...]) -> Derivation:
    """Close a linear method: the general solution, or the IVP constants solved and shown.

    ``base.conclude`` simplifies the answer (``cos 3x + sin 3x`` would become
    ``\\sqrt2 \\sin(3x + \\pi/4)``); a linear answer reads best as the general solution
    with the constants put in, so the IVP is solved here.
    """
    y = problem.unknown
    if not problem.ics:
        # Already textbook form (C1 y1 + ... + Cn yn + y_p, constants named C1..Cn): no
        # renaming or re-simplifying (that would factor e^{-x} out of the combination).
        return Derivation(method.id, tuple(steps), (sympy.Eq(y, general),), constants, (True,),
                          hint=method.hint(problem, form))
    more, particular = ivp_steps(problem, general, constants)
    return Derivation(method.id, tuple(steps + more), (sympy.Eq(y, particular),), (), (True,),
                      hint=method.hint(problem, form))


def ivp_steps(problem: Problem, general: sympy.Expr, constants: tuple[sympy.Symbol, ...]
              ) -> tuple[list[Step], sympy.Expr]:
    """The linear system for the constants from the initial conditions, solved and shown."""
    x, y = problem.variable, problem.unknown
    if general.has(sympy.CRootOf):
        # Constants solved exactly in indexed roots are pages long and nothing a student can use:
        # the engine's numerical answer for the IVP is the honest one.
        raise CannotDerive("the constants would be exact only in roots with no formula in radicals")
    equations, shown = [], []
    for ic in problem.ics:
        equations.append(sympy.Eq(sympy.expand(sympy.diff(general, x, ic.order).subs(x, ic.point)), ic.value))
        shown.append(ic.latex(problem.function) + r":\ " + ln_latex(equations[-1]))
    try:
        found = sympy.solve(equations, constants, dict=True)
    except NotImplementedError as exc:
        raise CannotDerive(f"cannot solve for the constants: {exc}") from exc
    if len(found) != 1 or set(found[0]) != set(constants):
        raise CannotDerive("the initial conditions do not determine the constants")
    values = found[0]
    particular = general.xreplace(values)
    if particular.has(sympy.nan, sympy.zoo):
        raise CannotDerive("the solution is not defined at the initial point")
    conditions = ", ".join(f"${ic.latex(problem.function)}$" for ic in problem.ics)
    steps = [
        Step("Use the initial conditions",
             f"Differentiate the general solution as needed and substitute {conditions}.",
             r" \\ ".join(shown), Check.NOTE),
        Step("Solve for the constants",
             "Solve the linear system for the constants and put them into the general solution.",
             r",\quad ".join(ln_latex(sympy.Eq(c, values[c])) for c in constants)
             + r"\qquad " + tex(sympy.Eq(y, particular), x),
             Check.CONSTANTS, after=sympy.Eq(y, particular)),
    ]
    return steps, particular


def coefficient_system_latex(equations: list[sympy.Eq], solution: dict) -> str:
    system = r"\begin{cases}" + r"\\ ".join(ln_latex(e) for e in equations) + r"\end{cases}"
    values = r",\quad ".join(ln_latex(sympy.Eq(c, v)) for c, v in solution.items())
    return system + r"\ \Longrightarrow\ " + values


def forcing_words(parts: list[TrialPart], x: sympy.Symbol, root_name: str = "r") -> str:
    words = []
    for part in parts:
        term = part.term
        z = term.exponent + sympy.I * term.frequency
        zt = ln_latex(z) if term.frequency == 0 else f"{ln_latex(term.exponent)} \\pm {ln_latex(term.frequency)}i"
        if part.resonance == 0:
            words.append(f"${zt}$ is not a root of the characteristic equation, so no extra factor")
        else:
            times = "simple" if part.resonance == 1 else f"{part.resonance}-fold"
            words.append(f"${root_name} = {zt}$ is a {times} root of the characteristic equation "
                         f"(resonance), so the trial form is multiplied by ${ln_latex(x ** part.resonance)}$")
    return "; ".join(words)


def undetermined_coefficients_steps(problem: Problem, equation: LinearODE, roots: list[Root], x: sympy.Symbol,
                                    name: str = "y_p", terms: list | None = None) -> tuple[list[Step], sympy.Expr]:
    """Trial form, substitution and coefficient matching for ``L[y] = g`` (monic constant coeffs);
    ``terms``: ``forcing_terms(g)`` when the caller's match has them already."""
    terms = forcing_terms(equation.rhs, x) if terms is None else terms
    if terms is None:
        raise CannotDerive("the right-hand side is not a sum of x^k e^{ax} cos/sin(bx) terms")
    parts = trial_solution(terms, roots, x)
    solved = solve_trial(equation, parts)
    if solved is None:
        raise CannotDerive("the coefficient system has no solution")
    shown, values, particular = solved
    trial = sympy.Add(*[p.expression for p in parts])
    g = prepare_forcing(equation.rhs, x)
    rewritten = "" if sympy.simplify(g - equation.rhs) == 0 or g == equation.rhs else \
        f" First write the right-hand side as ${ln_latex(g)}$."
    steps = [
        Step("Trial form for the particular solution",
             "The right-hand side is built from polynomials, exponentials, sines and cosines, so "
             "guess a particular solution of the same shape with unknown coefficients." + rewritten
             + " " + forcing_words(parts, x) + ".",
             f"{name} = {ln_latex(trial)}", Check.NOTE),
    ]
    lhs = sympy.Add(*[a * sympy.Derivative(trial, (x, k)) if k else a * trial
                      for k, a in enumerate(equation.coefficients)])
    evaluated = sympy.expand(lhs.doit())
    steps.append(Step("Substitute the trial form",
                      f"Differentiate ${name}$ and substitute into the left-hand side; collect like terms.",
                      ln_latex(evaluated) + " = " + ln_latex(g),
                      Check.IDENTITY, after=sympy.Eq(lhs, evaluated, evaluate=False)))
    steps.append(Step("Match coefficients",
                      "Equate the coefficients of each kind of term on both sides and solve the linear system.",
                      coefficient_system_latex(shown, values), Check.NOTE))
    return steps, particular


def variation_of_parameters_steps(problem: Problem, basis: list[sympy.Expr], g: sympy.Expr, x: sympy.Symbol
                                  ) -> tuple[list[Step], sympy.Expr]:
    """Wronskian, u_i' by Cramer's rule, the integrals (rules named), and y_p = sum u_i y_i."""
    n = len(basis)
    W, Ws, derivs = variation_of_parameters(basis, g, x)
    if W == 0:
        raise CannotDerive("the Wronskian vanishes")
    matrix = wronskian_matrix(basis, x)
    steps = [
        Step("Wronskian",
             "The Wronskian of the fundamental set is the determinant of the functions and their "
             f"derivatives up to order {n - 1}; it is nonzero, so the set is independent.",
             f"W = {ln_latex(matrix, mat_delim='', mat_str='vmatrix')} = {ln_latex(W)}",
             Check.IDENTITY, after=sympy.Eq(sympy.Determinant(matrix), W, evaluate=False)),
    ]
    u_names = [sympy.Symbol(f"u_{i}") for i in range(1, n + 1)]
    if n == 2:
        formula = (r"u_1' = -\frac{y_2\,g}{W},\quad u_2' = \frac{y_1\,g}{W},\quad g = "
                   + ln_latex(g) + r" \\ ")
    else:
        formula = r"u_i' = \frac{W_i\,g}{W},\quad g = " + ln_latex(g) + r" \\ "
    steps.append(Step("Formulas for u_i'",
                      f"Look for $y_p = {' + '.join(f'u_{i}y_{i}' for i in range(1, n + 1))}$"
                      + (" with the condition $u_1'y_1 + u_2'y_2 = 0$" if n == 2 else
                         f" with the conditions $\\sum_i u_i' y_i^{{(k)}} = 0$ for $k < {n - 1}$")
                      + ", so that only the last equation involves $g$; Cramer's rule gives each $u_i'$ "
                      "($W_i$ is $W$ with column $i$ replaced by $(0, \\dots, 0, 1)$). "
                      "Here $g$ is the right-hand side once the equation is divided by its leading coefficient.",
                      formula.removesuffix(r" \\ "), Check.NOTE))
    for i, (u, Wi, d) in enumerate(zip(u_names, Ws, derivs)):
        unevaluated = sympy.Mul(Wi, g, sympy.Pow(W, -1, evaluate=False), evaluate=False)
        steps.append(Step(f"Compute ${ln_latex(u)}'$",
                          f"$W_{i + 1} = {ln_latex(Wi)}$, so",
                          f"{ln_latex(u)}' = \\frac{{W_{i + 1}\\,g}}{{W}} = {ln_latex(d)}",
                          Check.IDENTITY, after=sympy.Eq(unevaluated, d, evaluate=False)))
    us = []
    for u, d in zip(u_names, derivs):
        if d == 0:
            us.append(sympy.S.Zero)
            continue
        result = _textbook_antiderivative(d, x)
        step = integration_step(result, x, title=f"Integrate for ${ln_latex(u)}$")
        steps.append(dataclasses.replace(step, latex=f"{ln_latex(u)} = " + step.latex.removesuffix(" + C"),
                                         text=step.text + " The constant of integration can be dropped: "
                                         "it only adds a multiple of a homogeneous solution."))
        us.append(result.value)
    raw = sympy.simplify(sympy.Add(*[u * f for u, f in zip(us, basis)]))
    particular = _without_homogeneous_terms(raw, basis, x)
    absorbed = "" if particular == raw else (
        " Terms that are multiples of $y_1, y_2, \\dots$ solve the homogeneous equation and are absorbed "
        "into the constants of $y_h$.")
    steps.append(Step("Particular solution",
                      "Multiply each $u_i$ by its $y_i$ and add." + absorbed,
                      "y_p = " + " + ".join(f"({ln_latex(u)})({ln_latex(f)})" for u, f in zip(us, basis))
                      + " = " + ln_latex(raw) + ("" if particular == raw else r"\ \to\ " + ln_latex(particular)),
                      Check.NOTE))
    return steps, particular


def _real_logs(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """``\\ln(\\sin x - 1)`` -> ``\\ln(1 - \\sin x)``: the same antiderivative up to a constant,
    but real where the integrand is (textbooks write ``\\ln|u|``)."""
    points = [sympy.Rational(3, 10), sympy.Rational(7, 10), sympy.Rational(11, 10)]

    def flip(e: sympy.Expr) -> sympy.Expr:
        arg = e.args[0]
        try:
            values = [complex(arg.subs(x, p).evalf()) for p in points]
        except (TypeError, ValueError):
            return e
        if all(abs(v.imag) < 1e-12 and v.real < 0 for v in values):
            return sympy.log(sympy.expand(-arg))
        return e

    return expr.replace(lambda e: isinstance(e, sympy.log), flip)


def _textbook_antiderivative(f: sympy.Expr, x: sympy.Symbol):
    """The lead's rule-naming antiderivative, or SymPy's integrate when that is much tidier.

    manualintegrate sometimes takes a long road (``\\int \\cot x\\,dx`` through
    ``u = \\sec^2 x`` and partial fractions); a table integral gives ``\\ln|\\sin x|``.
    The simpler result is kept, and the step names the rule that produced it.
    """
    candidates = []
    # The same integrand in a few textbook spellings (sin/cos form, expanded): manualintegrate's
    # road depends on the spelling, and the shortest result is what a textbook prints.
    forms = list(dict.fromkeys([f, sympy.expand(f), TR2(TR1(f)), sympy.cancel(TR2(TR1(f)))]))
    for form in forms:
        try:
            found = dataclasses.replace(generic_integration(antiderivative(form, x)), integrand=f)
        except ValueError:
            continue
        candidates.append(found)
        # Each try costs an integral_steps run: stop at the first result of textbook size.
        if not found.value.has(sympy.Integral) and \
                sympy.count_ops(found.value) <= 3 * sympy.count_ops(f) + 6:
            break
    if not candidates or all(c.value.has(sympy.Integral) for c in candidates):
        try:
            # No heurisch/meijerg: they can run for minutes; risch either answers or gives up fast.
            plain = generic_branch(sympy.integrate(f, x, heurisch=False, meijerg=False))
            if not plain.has(sympy.Integral):
                candidates.append(Integration(f, x, plain, ("a table integral (SymPy's integrate)",)))
        except Exception:  # integrate can raise on odd integrands: then there is no closed form here
            pass
    candidates = [c for c in candidates if not c.value.has(sympy.Integral)]
    if not candidates:
        raise CannotDerive(f"no closed-form antiderivative of {f}")
    # ln(cos^2 x) - ... -> 2 ln(cos x) - ...: logs of powers split and like terms merged (the
    # result is still an antiderivative: it differs by a constant at most, and the step checks it).
    tidied = []
    for c in candidates:
        value = _real_logs(c.value, x)
        merged = sympy.expand(sympy.expand_log(value, force=True))
        tidied.append(dataclasses.replace(c, value=min((value, merged), key=sympy.count_ops)))
    return min(tidied, key=lambda c: sympy.count_ops(c.value))


def generic_branch(expr: sympy.Expr) -> sympy.Expr:
    """The generic branch of a Piecewise (``C1 != 0``), as a textbook writes it."""
    return expr.replace(lambda e: isinstance(e, sympy.Piecewise), lambda e: e.args[0].expr)


def generic_integration(result):
    return dataclasses.replace(result, value=generic_branch(result.value))


def _without_homogeneous_terms(particular: sympy.Expr, basis: list[sympy.Expr], x: sympy.Symbol) -> sympy.Expr:
    """Drop the terms ``c * y_i`` of a particular solution: they belong to ``y_h``."""
    kept = []
    for term in sympy.Add.make_args(sympy.expand(particular)):
        if any(not sympy.simplify(term / f).has(x) for f in basis):
            continue
        kept.append(term)
    return sympy.Add(*kept)
