"""Higher-order textbook methods: one class per method, registered through ``METHODS``.

* :class:`ConstantCoefficients` (``constant_coefficients``) — homogeneous linear equations
  with constant coefficients of any order: the characteristic equation, its roots with
  multiplicities (distinct, repeated, complex), the fundamental set.
* :class:`UndeterminedCoefficients` (``undetermined_coefficients``) — a right-hand side
  made of ``x^k e^{ax} cos/sin(bx)`` terms: the trial form (times ``x^s`` on resonance),
  substitution, the linear system for the coefficients.
* :class:`VariationOfParameters` (``variation_of_parameters``) — any continuous right-hand
  side: Wronskian, ``u_i'`` by Cramer's rule, the integrals with the rule used.
* :class:`CauchyEuler` (``cauchy_euler``) — ``sum b_k x^k y^(k) = g``: indicial equation;
  the non-homogeneous case through ``x = e^t`` (undetermined coefficients in t) when
  ``g(e^t)`` has that form, otherwise by variation of parameters.
* :class:`ReductionOfOrder` (``reduction_of_order``) — y missing (``p = y'``, or
  ``p = y^(k)`` when only ``y^(k)`` and ``y^(k+1)`` appear: a first-order equation in
  ``p(x)`` solved by the first-order methods, then integrated k times) or, for second
  order, x missing (``p = y'``, ``y'' = p\\,dp/dy``, separable in ``p(y)``).

The algebra lives in :mod:`tutor.engine.linear_ode`; this module turns it into steps
(title, words, LaTeX, and the SymPy relation the step checker verifies).  Every
method runs inside the bounded worker (see :mod:`tutor.engine.base`), so nothing here
calls ``run_bounded``.
"""
from __future__ import annotations

import dataclasses
import random
from functools import partial

import sympy
from sympy.simplify.fu import TR1, TR2

from tutor.engine.base import CannotDerive, Derivation, Method, Practice, conclude, make_problem, normal_form
from tutor.engine.integrate import Integration, antiderivative, integration_step
from tutor.engine.linear_ode import (
    LinearODE, Root, TrialPart, characteristic_polynomial, characteristic_roots,
    constant_coefficient_basis, euler_basis, forcing_terms, indicial_polynomial, linear_equation,
    prepare_forcing, solve_trial, trial_solution, variation_of_parameters, wronskian_matrix,
)
from tutor.engine.steps import Check, Step, tex
from tutor.problem import InitialCondition, Problem, textbook_latex

#: LaTeX with ``\\ln`` for the natural logarithm, as textbooks write it.
_latex = partial(sympy.latex, ln_notation=True)

R = sympy.Symbol("r")
X = sympy.Symbol("x")
M = sympy.Symbol("m")
T = sympy.Symbol("t")


# --------------------------------------------------------------------------- shared pieces


def _constants(n: int, start: int = 1) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(f"C{i}") for i in range(start, start + n))


def _roots_text(roots: list[Root], name: str) -> str:
    """LaTeX list of roots with multiplicities: ``r_1 = 1,\\ r_2 = 2 (double)``, ``r = -1 \\pm 2i``."""
    words = {1: "", 2: r"\ \text{(double)}", 3: r"\ \text{(triple)}"}
    parts = []
    for i, root in enumerate(roots, start=1):
        sub = f"{name}_{{{i}}}" if len(roots) > 1 else name
        mult = words.get(root.multiplicity, rf"\ \text{{(multiplicity {root.multiplicity})}}")
        if root.is_complex:
            value = (f"{_latex(root.real)} \\pm {_latex(root.imag)}i" if root.real != 0
                     else f"\\pm {_latex(root.imag)}i")
            if root.imag == 1:
                value = value.replace("\\pm 1i", "\\pm i")
        else:
            value = _latex(root.value)
        if root.value.has(sympy.CRootOf):
            # No formula in radicals (Abel-Ruffini): an indexed exact root, shown with its value.
            value = f"{_latex(root.value)} \\approx {_latex(sympy.N(root.value, 6))}"
        parts.append(f"{sub} = {value}{mult}")
    return r",\quad ".join(parts)


def _factored(poly: sympy.Expr, variable: sympy.Symbol, roots: list[Root]) -> sympy.Expr:
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


def _homogeneous_equation(problem: Problem, equation: LinearODE) -> sympy.Eq:
    x, y = problem.variable, problem.unknown
    return sympy.Eq(sympy.Add(*[a * sympy.Derivative(y, (x, k)) if k else a * y
                                for k, a in enumerate(equation.coefficients)]), 0)


def _general(basis: list[sympy.Expr], constants: tuple[sympy.Symbol, ...]) -> sympy.Expr:
    return sympy.Add(*[c * f for c, f in zip(constants, basis)])


def _basis_latex(basis: list[sympy.Expr], x: sympy.Symbol) -> str:
    return r",\quad ".join(f"y_{{{i}}} = {_latex(f)}" for i, f in enumerate(basis, start=1))


def _characteristic_steps(problem: Problem, equation: LinearODE
                          ) -> tuple[list[Step], list[Root], list[sympy.Expr]]:
    """Steps from ``L[y] = 0`` to the fundamental set, for constant coefficients."""
    x, y = problem.variable, problem.unknown
    coefficients = equation.constant_coefficients()
    poly = sympy.expand(characteristic_polynomial(coefficients, R))
    roots = characteristic_roots(poly, R)
    if roots is None:
        raise CannotDerive("the characteristic polynomial has roots SymPy cannot write in closed form")
    homogeneous = _homogeneous_equation(problem, equation.normalized())
    trial = sympy.exp(R * x)
    substituted = sympy.Add(*[b * sympy.Derivative(trial, (x, k)) if k else b * trial
                              for k, b in enumerate(coefficients)])
    steps = [
        Step("Characteristic equation",
             "Try $y = e^{rx}$: each derivative brings down a factor $r$, so the left side becomes "
             "$e^{rx}$ times a polynomial in $r$. Since $e^{rx} \\neq 0$, that polynomial must vanish.",
             textbook_latex(homogeneous, problem.function, x) + r"\ \Longrightarrow\ " + _latex(sympy.Eq(poly, 0)),
             Check.IDENTITY, after=sympy.Eq(substituted, trial * poly, evaluate=False)),
    ]
    factored = sympy.factor(poly)
    complete = _factored(poly, R, roots)
    how = ("Factor the characteristic polynomial" if factored != poly or sympy.degree(poly, R) == 1
           else "Solve the characteristic equation (quadratic formula)")
    text = how + " and read off the roots with their multiplicities."
    if any(r.is_complex for r in roots):
        text += " Complex roots come in conjugate pairs $a \\pm bi$."
    steps.append(Step("Roots", text,
                      (_latex(sympy.Eq(factored, 0)) + r"\ \Longrightarrow\ " if factored != poly else "")
                      + _roots_text(roots, "r"),
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
                      _basis_latex(basis, x), Check.SOLVES,
                      after=tuple(sympy.Eq(y, f) for f in basis), ode=homogeneous))
    return steps, roots, basis


def _finish(method: Method, problem: Problem, steps: list[Step], general: sympy.Expr,
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
                          hint=method.hint(problem))
    more, particular = _ivp_steps(problem, general, constants)
    return Derivation(method.id, tuple(steps + more), (sympy.Eq(y, particular),), (), (True,),
                      hint=method.hint(problem))


def _ivp_steps(problem: Problem, general: sympy.Expr, constants: tuple[sympy.Symbol, ...]
               ) -> tuple[list[Step], sympy.Expr]:
    """The linear system for the constants from the initial conditions, solved and shown."""
    x, y = problem.variable, problem.unknown
    equations, shown = [], []
    for ic in problem.ics:
        equations.append(sympy.Eq(sympy.expand(sympy.diff(general, x, ic.order).subs(x, ic.point)), ic.value))
        shown.append(ic.latex(problem.function) + r":\ " + _latex(equations[-1]))
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
             r",\quad ".join(_latex(sympy.Eq(c, values[c])) for c in constants)
             + r"\qquad " + tex(sympy.Eq(y, particular), x),
             Check.CONSTANTS, after=sympy.Eq(y, particular)),
    ]
    return steps, particular


def _coefficient_system_latex(equations: list[sympy.Eq], solution: dict) -> str:
    system = r"\begin{cases}" + r"\\ ".join(_latex(e) for e in equations) + r"\end{cases}"
    values = r",\quad ".join(_latex(sympy.Eq(c, v)) for c, v in solution.items())
    return system + r"\ \Longrightarrow\ " + values


def _forcing_words(parts: list[TrialPart], x: sympy.Symbol, root_name: str = "r") -> str:
    words = []
    for part in parts:
        term = part.term
        z = term.exponent + sympy.I * term.frequency
        zt = _latex(z) if term.frequency == 0 else f"{_latex(term.exponent)} \\pm {_latex(term.frequency)}i"
        if part.resonance == 0:
            words.append(f"${zt}$ is not a root of the characteristic equation, so no extra factor")
        else:
            times = "simple" if part.resonance == 1 else f"{part.resonance}-fold"
            words.append(f"${root_name} = {zt}$ is a {times} root of the characteristic equation "
                         f"(resonance), so the trial form is multiplied by ${_latex(x ** part.resonance)}$")
    return "; ".join(words)


def _uc_steps(problem: Problem, equation: LinearODE, roots: list[Root], x: sympy.Symbol,
              name: str = "y_p") -> tuple[list[Step], sympy.Expr]:
    """Trial form, substitution and coefficient matching for ``L[y] = g`` (monic constant coeffs)."""
    terms = forcing_terms(equation.rhs, x)
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
        f" First write the right-hand side as ${_latex(g)}$."
    steps = [
        Step("Trial form for the particular solution",
             "The right-hand side is built from polynomials, exponentials, sines and cosines, so "
             "guess a particular solution of the same shape with unknown coefficients." + rewritten
             + " " + _forcing_words(parts, x) + ".",
             f"{name} = {_latex(trial)}", Check.NOTE),
    ]
    lhs = sympy.Add(*[a * sympy.Derivative(trial, (x, k)) if k else a * trial
                      for k, a in enumerate(equation.coefficients)])
    evaluated = sympy.expand(lhs.doit())
    steps.append(Step("Substitute the trial form",
                      f"Differentiate ${name}$ and substitute into the left-hand side; collect like terms.",
                      _latex(evaluated) + " = " + _latex(g),
                      Check.IDENTITY, after=sympy.Eq(lhs, evaluated, evaluate=False)))
    steps.append(Step("Match coefficients",
                      "Equate the coefficients of each kind of term on both sides and solve the linear system.",
                      _coefficient_system_latex(shown, values), Check.NOTE))
    return steps, particular


def _vop_steps(problem: Problem, basis: list[sympy.Expr], g: sympy.Expr, x: sympy.Symbol
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
             f"W = {_latex(matrix, mat_delim='', mat_str='vmatrix')} = {_latex(W)}",
             Check.IDENTITY, after=sympy.Eq(sympy.Determinant(matrix), W, evaluate=False)),
    ]
    u_names = [sympy.Symbol(f"u_{i}") for i in range(1, n + 1)]
    if n == 2:
        formula = (r"u_1' = -\frac{y_2\,g}{W},\quad u_2' = \frac{y_1\,g}{W},\quad g = "
                   + _latex(g) + r" \\ ")
    else:
        formula = r"u_i' = \frac{W_i\,g}{W},\quad g = " + _latex(g) + r" \\ "
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
        steps.append(Step(f"Compute ${_latex(u)}'$",
                          f"$W_{i + 1} = {_latex(Wi)}$, so",
                          f"{_latex(u)}' = \\frac{{W_{i + 1}\\,g}}{{W}} = {_latex(d)}",
                          Check.IDENTITY, after=sympy.Eq(unevaluated, d, evaluate=False)))
    us = []
    for u, d in zip(u_names, derivs):
        if d == 0:
            us.append(sympy.S.Zero)
            continue
        result = _textbook_antiderivative(d, x)
        step = integration_step(result, x, title=f"Integrate for ${_latex(u)}$")
        steps.append(dataclasses.replace(step, latex=f"{_latex(u)} = " + step.latex.removesuffix(" + C"),
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
                      "y_p = " + " + ".join(f"({_latex(u)})({_latex(f)})" for u, f in zip(us, basis))
                      + " = " + _latex(raw) + ("" if particular == raw else r"\ \to\ " + _latex(particular)),
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
            found = dataclasses.replace(_generic_integration(antiderivative(form, x)), integrand=f)
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
            plain = _generic(sympy.integrate(f, x, heurisch=False, meijerg=False))
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


def _generic(expr: sympy.Expr) -> sympy.Expr:
    """The generic branch of a Piecewise (``C1 != 0``), as a textbook writes it."""
    return expr.replace(lambda e: isinstance(e, sympy.Piecewise), lambda e: e.args[0].expr)


def _generic_integration(result):
    return dataclasses.replace(result, value=_generic(result.value))


def _without_homogeneous_terms(particular: sympy.Expr, basis: list[sympy.Expr], x: sympy.Symbol) -> sympy.Expr:
    """Drop the terms ``c * y_i`` of a particular solution: they belong to ``y_h``."""
    kept = []
    for term in sympy.Add.make_args(sympy.expand(particular)):
        if any(not sympy.simplify(term / f).has(x) for f in basis):
            continue
        kept.append(term)
    return sympy.Add(*kept)


# --------------------------------------------------------------------------- generators' helpers


def _poly_from_roots(roots: list[tuple[sympy.Expr, int]], variable: sympy.Symbol) -> tuple[sympy.Expr, ...]:
    """Monic coefficients (b_0 .. b_n) of prod (variable - root)^mult (complex roots paired)."""
    poly = sympy.S.One
    for root, mult in roots:
        if root.is_real:
            poly *= (variable - root) ** mult
        else:
            poly *= ((variable - root) * (variable - sympy.conjugate(root))) ** mult
    coeffs = sympy.Poly(sympy.expand(poly), variable).all_coeffs()
    return tuple(reversed([sympy.nsimplify(c) for c in coeffs]))


def _random_roots(rng: random.Random, difficulty: int) -> list[tuple[sympy.Expr, int]]:
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


def _linear_equation(coefficients: tuple[sympy.Expr, ...], rhs: sympy.Expr, y: sympy.Expr,
                     x: sympy.Symbol, euler: bool = False) -> sympy.Eq:
    lhs = sympy.Add(*[c * (x ** k if euler else 1) * (sympy.Derivative(y, (x, k)) if k else y)
                      for k, c in enumerate(coefficients)])
    return sympy.Eq(lhs, rhs)


def _random_ics(rng: random.Random, order: int) -> tuple[InitialCondition, ...]:
    return tuple(InitialCondition(k, sympy.S.Zero, sympy.Integer(rng.randint(-3, 3))) for k in range(order))


def _practice(method: Method, equation: sympy.Eq, function, x: sympy.Symbol,
              ics: tuple[InitialCondition, ...] = ()) -> Practice:
    """A practice problem whose known answer is the method's own derivation (callers verify it)."""
    problem = make_problem(equation, function, x, ics)
    derivation = method.derive(problem)
    return Practice(method.id, 0, 0, problem, derivation.answer())


# --------------------------------------------------------------------------- the methods


class ConstantCoefficients(Method):
    """``a_n y^(n) + ... + a_0 y = 0`` with constant ``a_k`` (any order >= 2)."""

    id = "constant_coefficients"
    name = "Homogeneous linear equation with constant coefficients"

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2:
            return False
        equation = linear_equation(problem)
        return equation is not None and equation.homogeneous and equation.constant_coefficients() is not None

    def hint(self, problem: Problem) -> str:
        return ("The equation is linear with constant coefficients: substitute $y = e^{rx}$ to get the "
                "characteristic equation, and build the general solution from its roots.")

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("not a homogeneous linear equation with constant coefficients")
        equation = linear_equation(problem)
        steps, roots, basis = _characteristic_steps(problem, equation)
        constants = _constants(len(basis))
        general = _general(basis, constants)
        steps.append(Step("General solution",
                          "The general solution is an arbitrary linear combination of the fundamental set.",
                          tex(sympy.Eq(problem.unknown, general), problem.variable),
                          Check.SOLVES, after=sympy.Eq(problem.unknown, general)))
        return _finish(self, problem, steps, general, constants)

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, y = sympy.Symbol("x"), sympy.Function("y")
        coefficients = _poly_from_roots(_random_roots(rng, difficulty), R)
        scale = rng.choice([1, 1, 2, 3]) if difficulty >= 2 else 1
        equation = _linear_equation(tuple(scale * c for c in coefficients), sympy.S.Zero, y(x), x)
        ics = _random_ics(rng, len(coefficients) - 1) if difficulty >= 2 and rng.random() < 0.5 else ()
        return _practice(self, equation, y, x, ics)


class UndeterminedCoefficients(Method):
    """Constant coefficients with a right-hand side of ``x^k e^{ax} cos/sin(bx)`` terms."""

    id = "undetermined_coefficients"
    name = "Undetermined coefficients"

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2:
            return False
        equation = linear_equation(problem)
        return (equation is not None and not equation.homogeneous
                and equation.constant_coefficients() is not None
                and forcing_terms(equation.normalized().rhs, problem.variable) is not None)

    def hint(self, problem: Problem) -> str:
        return ("Solve the homogeneous equation with the characteristic equation, then guess a particular "
                "solution shaped like the right-hand side (multiplied by $x^s$ if it overlaps the "
                "homogeneous solution) and find its coefficients.")

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("the right-hand side is not of undetermined-coefficients form")
        x, y = problem.variable, problem.unknown
        equation = linear_equation(problem).normalized()
        steps, roots, basis = _characteristic_steps(problem, equation)
        constants = _constants(len(basis))
        yh = _general(basis, constants)
        steps.append(Step("Complementary solution", "Combine the fundamental set with arbitrary constants.",
                          "y_h = " + _latex(yh), Check.SOLVES, after=sympy.Eq(y, yh),
                          ode=_homogeneous_equation(problem, equation)))
        more, particular = _uc_steps(problem, equation, roots, x)
        steps.extend(more)
        steps.append(Step("Particular solution", "Put the coefficients back into the trial form.",
                          "y_p = " + _latex(particular), Check.SOLVES, after=sympy.Eq(y, particular)))
        general = yh + particular
        steps.append(Step("General solution", "The general solution is $y = y_h + y_p$.",
                          tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general)))
        return _finish(self, problem, steps, general, constants)

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, y = sympy.Symbol("x"), sympy.Function("y")
        roots = _random_roots(rng, 1 if difficulty < 3 else 2)
        coefficients = _poly_from_roots(roots, R)
        real_roots = [r for r, _ in roots if r.is_real]
        kind = rng.choice(["poly", "exp", "trig", "exp_trig"] + (["resonant"] * 2 if difficulty >= 2 else []))
        c = rng.choice([1, 2, 3, -1, -2, 4, 5])
        if kind == "poly":
            rhs = c * x ** rng.randint(0, difficulty) + rng.randint(-3, 3)
        elif kind == "exp":
            rhs = c * sympy.exp(rng.choice([-3, -2, 2, 3, 5]) * x)
        elif kind == "trig":
            rhs = c * rng.choice([sympy.sin, sympy.cos])(rng.randint(1, 3) * x)
        elif kind == "exp_trig":
            rhs = c * sympy.exp(rng.choice([-1, 1]) * x) * rng.choice([sympy.sin, sympy.cos])(rng.randint(1, 2) * x)
        else:  # resonance: the forcing overlaps the homogeneous solution
            if real_roots:
                rhs = c * x ** rng.randint(0, difficulty - 2) * sympy.exp(real_roots[0] * x)
            else:
                z = [r for r, _ in roots][0]
                rhs = c * sympy.exp(sympy.re(z) * x) * rng.choice([sympy.sin, sympy.cos])(sympy.im(z) * x)
        equation = _linear_equation(coefficients, rhs, y(x), x)
        ics = _random_ics(rng, len(coefficients) - 1) if difficulty >= 2 and rng.random() < 0.4 else ()
        return _practice(self, equation, y, x, ics)


class VariationOfParameters(Method):
    """Constant coefficients, any continuous right-hand side: Wronskian and ``u_i'``."""

    id = "variation_of_parameters"
    name = "Variation of parameters"

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2:
            return False
        equation = linear_equation(problem)
        return equation is not None and not equation.homogeneous and equation.constant_coefficients() is not None

    def hint(self, problem: Problem) -> str:
        return ("Find the homogeneous solutions $y_1, y_2, \\dots$ from the characteristic equation, then "
                "vary the constants: $y_p = \\sum u_i y_i$ with $u_i'$ from the Wronskian (Cramer's rule).")

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("not a non-homogeneous linear equation with constant coefficients")
        x, y = problem.variable, problem.unknown
        equation = linear_equation(problem)
        normalized = equation.normalized()
        steps, roots, basis = _characteristic_steps(problem, normalized)
        constants = _constants(len(basis))
        yh = _general(basis, constants)
        steps.append(Step("Complementary solution", "Combine the fundamental set with arbitrary constants.",
                          "y_h = " + _latex(yh), Check.SOLVES, after=sympy.Eq(y, yh),
                          ode=_homogeneous_equation(problem, normalized)))
        more, particular = _vop_steps(problem, basis, normalized.rhs, x)
        steps.extend(more)
        steps.append(Step("Check the particular solution", "Substituting $y_p$ gives the right-hand side.",
                          "y_p = " + _latex(particular), Check.SOLVES, after=sympy.Eq(y, particular)))
        general = yh + particular
        steps.append(Step("General solution", "The general solution is $y = y_h + y_p$.",
                          tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general)))
        return _finish(self, problem, steps, general, constants)

    # (roots of the characteristic polynomial, right-hand side) for a frequency or root w:
    # the classic forcings undetermined coefficients cannot handle.
    _TRIG = (
        lambda x, w: sympy.sec(w * x),
        lambda x, w: sympy.tan(w * x),
        lambda x, w: sympy.csc(w * x),
        lambda x, w: sympy.cot(w * x),
        lambda x, w: sympy.sec(w * x) ** 2,
        lambda x, w: sympy.sec(w * x) * sympy.tan(w * x),
    )
    _REPEATED = (
        lambda x, a: sympy.exp(a * x) / x,
        lambda x, a: sympy.exp(a * x) / x ** 2,
        lambda x, a: sympy.exp(a * x) / x ** 3,
        lambda x, a: sympy.exp(a * x) * sympy.log(x),
        lambda x, a: sympy.exp(a * x) / (1 + x ** 2),
        lambda x, a: sympy.exp(a * x) * sympy.sqrt(x),
    )
    _OTHER = (
        ([(sympy.Integer(0), 1), (sympy.Integer(1), 1)], 1 / (1 + sympy.exp(-X))),
        ([(sympy.Integer(1), 1), (sympy.Integer(2), 1)], sympy.exp(X) / (1 + sympy.exp(X))),
        ([(sympy.Integer(-1), 1), (sympy.Integer(-2), 1)], 1 / (1 + sympy.exp(X))),
        ([(-1 + sympy.I, 1)], sympy.exp(-X) * sympy.sec(X)),
        ([(1 + sympy.I, 1)], sympy.exp(X) * sympy.csc(X)),
    )

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        # Difficulty 1: y'' + y with sec/tan/csc/cot, or a double root 1 with e^x/x^k;
        # 2: other frequencies and roots, more forcings, a coefficient; 3: all shapes.
        x, y = sympy.Symbol("x"), sympy.Function("y")
        kind = rng.choice(["trig", "repeated", "other"] if difficulty >= 3 else ["trig", "repeated"])
        if kind == "trig":
            w = rng.choice([1, 2, 3, 4] if difficulty >= 2 else [1])
            roots = [(w * sympy.I, 1)]
            forcing = rng.choice(self._TRIG[: 4 if difficulty == 1 else None])(x, w)
        elif kind == "repeated":
            r = rng.choice([1, -1, 2, -2, 3] if difficulty >= 2 else [1, -1])
            roots = [(sympy.Integer(r), 2)]
            forcing = rng.choice(self._REPEATED[: 3 if difficulty == 1 else None])(x, r)
        else:
            roots, forcing = rng.choice(self._OTHER)
            forcing = forcing.subs(X, x)
        c = rng.choice([1, 1, 2, 3, 4, 5]) if difficulty >= 2 else 1
        equation = _linear_equation(_poly_from_roots(roots, R), c * forcing, y(x), x)
        return _practice(self, equation, y, x)


class CauchyEuler(Method):
    """``sum b_k x^k y^(k) = g(x)``: try ``y = x^m`` (indicial equation)."""

    id = "cauchy_euler"
    name = "Cauchy-Euler equation"

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2:
            return False
        equation = linear_equation(problem)
        return equation is not None and equation.euler_coefficients() is not None

    def hint(self, problem: Problem) -> str:
        equation = linear_equation(problem)
        extra = ""
        if equation is not None and not equation.homogeneous:
            extra = " For the right-hand side, substitute $x = e^t$ (constant coefficients in $t$) or vary the parameters."
        return ("Each term is $x^k y^{(k)}$ times a constant (Cauchy-Euler): try $y = x^m$ to get the indicial "
                "equation in $m$; its roots give the solutions (for $x > 0$)." + extra)

    def _homogeneous_steps(self, problem: Problem, equation: LinearODE
                           ) -> tuple[list[Step], list[Root], list[sympy.Expr], tuple[sympy.Expr, ...]]:
        x, y = problem.variable, problem.unknown
        b = equation.euler_coefficients()
        poly = indicial_polynomial(b, M)
        roots = characteristic_roots(poly, M)
        if roots is None:
            raise CannotDerive("the indicial polynomial has roots SymPy cannot write in closed form")
        # Shown as the textbook writes it: sum b_k x^k y^(k) = 0.
        homogeneous = _linear_equation(b, sympy.S.Zero, y, x, euler=True)
        trial = x ** M
        substituted = sympy.Add(*[c * x ** k * (sympy.Derivative(trial, (x, k)) if k else trial)
                                  for k, c in enumerate(b)])
        steps = [Step("Indicial equation",
                      "Try $y = x^m$: then $x^k y^{(k)} = m(m-1)\\cdots(m-k+1)\\,x^m$, so every term is a "
                      "multiple of $x^m \\neq 0$ and the coefficient must vanish.",
                      textbook_latex(homogeneous, problem.function, x) + r"\ \Longrightarrow\ "
                      + _latex(sympy.Eq(sympy.Add(*[c * sympy.ff(M, k) for k, c in enumerate(b)]), 0))
                      + r"\ \Longrightarrow\ " + _latex(sympy.Eq(poly, 0)),
                      Check.IDENTITY, after=sympy.Eq(substituted, x ** M * poly, evaluate=False))]
        factored = sympy.factor(poly)
        steps.append(Step("Roots", "Solve the indicial equation; note multiplicities and complex pairs.",
                          (_latex(sympy.Eq(factored, 0)) + r"\ \Longrightarrow\ " if factored != poly else "")
                          + _roots_text(roots, "m"),
                          Check.IDENTITY, after=sympy.Eq(poly, _factored(poly, M, roots), evaluate=False)))
        basis = euler_basis(roots, x)
        rules = ["a real root $m$ gives $x^m$"]
        if any(r.multiplicity > 1 for r in roots):
            rules.append("a repeated root also gives $x^m\\ln x$ (and $x^m \\ln^2 x, \\dots$)")
        if any(r.is_complex for r in roots):
            rules.append("a pair $a \\pm bi$ gives $x^a\\cos(b\\ln x)$ and $x^a\\sin(b\\ln x)$")
        steps.append(Step("Fundamental set of solutions", "; ".join(rules).capitalize() + " (for $x > 0$).",
                          _basis_latex(basis, x), Check.SOLVES,
                          after=tuple(sympy.Eq(y, f) for f in basis), ode=homogeneous))
        return steps, roots, basis, b

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("not a Cauchy-Euler equation")
        x, y = problem.variable, problem.unknown
        equation = linear_equation(problem)
        steps, roots, basis, b = self._homogeneous_steps(problem, equation)
        constants = _constants(len(basis))
        yh = _general(basis, constants)
        normalized = equation.normalized()
        if equation.homogeneous:
            steps.append(Step("General solution",
                              "The general solution is an arbitrary combination of the fundamental set.",
                              tex(sympy.Eq(y, yh), x), Check.SOLVES, after=sympy.Eq(y, yh)))
            return _finish(self, problem, steps, yh, constants)
        steps.append(Step("Complementary solution", "Combine the fundamental set with arbitrary constants.",
                          "y_h = " + _latex(yh), Check.SOLVES, after=sympy.Eq(y, yh),
                          ode=_homogeneous_equation(problem, normalized)))
        # x^n times the monic right-hand side is what the x = e^t equation has on its right.
        n = equation.order
        # force: t is real here (x = e^t > 0), so ln(2e^t) = t + ln 2 and sqrt(e^t) = e^{t/2}.
        g_t = sympy.expand_log((normalized.rhs * x ** n).subs(x, sympy.exp(T)), force=True)
        g_t = sympy.simplify(sympy.powdenest(g_t, force=True))
        if forcing_terms(g_t, T) is not None:
            more, particular = self._via_exponential(problem, b, roots, g_t)
        else:
            more, particular = _vop_steps(problem, basis, normalized.rhs, x)
        steps.extend(more)
        steps.append(Step("Particular solution", "Substituting $y_p$ back gives the right-hand side.",
                          "y_p = " + _latex(particular), Check.SOLVES, after=sympy.Eq(y, particular)))
        general = yh + particular
        steps.append(Step("General solution", "The general solution is $y = y_h + y_p$.",
                          tex(sympy.Eq(y, general), x), Check.SOLVES, after=sympy.Eq(y, general)))
        return _finish(self, problem, steps, general, constants)

    def _via_exponential(self, problem: Problem, b: tuple[sympy.Expr, ...], roots: list[Root],
                         g_t: sympy.Expr) -> tuple[list[Step], sympy.Expr]:
        """``x = e^t`` turns the equation into constant coefficients in t; UC there, then t = ln x."""
        x = problem.variable
        # x^k y^(k) = D(D-1)...(D-k+1) y with D = d/dt: the characteristic polynomial in t
        # is the indicial polynomial, so the coefficients in t are its coefficients.
        coefficients = tuple(reversed(sympy.Poly(indicial_polynomial(b, M), M).all_coeffs()))
        Y = sympy.Function("Y")
        t_equation = LinearODE(tuple(sympy.S(c) for c in coefficients), g_t, T)
        shown = _linear_equation(t_equation.coefficients, g_t, Y(T), T)
        steps = [Step("Substitute x = e^t",
                      "With $x = e^t$ and $D = d/dt$, $x^k y^{(k)} = D(D-1)\\cdots(D-k+1)y$: the equation gets "
                      "constant coefficients in $t$, with the indicial polynomial as its characteristic polynomial.",
                      textbook_latex(shown, Y, T), Check.NOTE)]
        more, particular_t = _uc_steps(problem, t_equation, roots, T, name="Y_p")
        steps.extend(more)
        particular = sympy.expand(sympy.powsimp(particular_t.subs(T, sympy.log(x))))
        steps.append(Step("Back to x", "Replace $t$ by $\\ln x$ (and $e^{kt}$ by $x^k$).",
                          f"Y_p = {_latex(particular_t)}" + r"\ \Longrightarrow\ y_p = " + _latex(particular),
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
        equation = _linear_equation((b0, b1, sympy.S.One), rhs, y(x), x, euler=True)
        ics = ()
        if difficulty >= 2 and rng.random() < 0.4:
            ics = (InitialCondition(0, sympy.S.One, sympy.Integer(rng.randint(-3, 3))),
                   InitialCondition(1, sympy.S.One, sympy.Integer(rng.randint(-3, 3))))
        return _practice(self, equation, y, x, ics)


class ReductionOfOrder(Method):
    """Missing y (``p = y^{(n-1)}``, the rest first order in p) or, for second order, missing x (``y'' = p dp/dy``)."""

    id = "reduction_of_order"
    name = "Reduction of order"

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

    @classmethod
    def _missing_y(cls, problem: Problem) -> bool:
        """y (and its derivatives below the highest but one) absent: first order in p = y^(n-1)."""
        k = cls._lowest_derivative(problem)
        return k is not None and problem.order - k == 1

    @staticmethod
    def _missing_x(problem: Problem) -> bool:
        x, y = problem.variable, problem.unknown
        frozen = problem.expr.subs({sympy.Derivative(y, (x, 2)): sympy.Dummy(), sympy.Derivative(y, x): sympy.Dummy()})
        return not frozen.subs(y, sympy.Dummy()).has(x) and problem.expr.has(y)

    def matches(self, problem: Problem) -> bool:
        if problem.order < 2:
            return False
        if self._missing_y(problem):
            return True
        if problem.order != 2:
            return False
        # Missing x: only for nonlinear equations (linear autonomous ones have constant
        # coefficients, done better by the characteristic equation) whose equation for
        # p(y) separates, which is what derive() can carry out.
        return self._missing_x(problem) and linear_equation(problem) is None and self._p_equation(problem) is not None

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

    def hint(self, problem: Problem) -> str:
        if self._missing_y(problem):
            k = self._lowest_derivative(problem)
            if k == 1:
                return ("The unknown $y$ itself does not appear: set $p = y'$, so $y'' = p'$, solve the "
                        "first-order equation for $p$, then integrate once more.")
            return (f"Only derivatives of order {k} and {k + 1} appear: set $p = y^{{({k})}}$, solve the "
                    f"first-order equation for $p$, then integrate {k} times.")
        return ("The variable $x$ does not appear: set $p = y'$ and, by the chain rule, $y'' = p\\,\\frac{dp}{dy}$; "
                "solve the first-order equation for $p(y)$, then separate $\\frac{dy}{dx} = p$.")

    def derive(self, problem: Problem) -> Derivation:
        if not self.matches(problem):
            raise CannotDerive("neither y nor x is missing")
        if self._missing_y(problem):
            steps, solutions, constants = self._derive_missing_y(problem)
        else:
            steps, solution, constants = self._derive_missing_x(problem)
            solutions = [solution]
        # constantsimp tidies e^{C1} and C1/2 into C1 here (nonlinear: no y_p to mangle).
        return conclude(problem, self.id, steps, solutions, constants, hint=self.hint(problem))

    def _derive_missing_y(self, problem: Problem) -> tuple[list[Step], list[sympy.Eq], tuple]:
        from tutor.engine import registry  # here: the registry imports this module

        x, y = problem.variable, problem.unknown
        n, k = problem.order, self._lowest_derivative(problem)
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
                if method.matches(sub_problem):
                    derivation, used = method.derive(sub_problem), method
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
                    result = _generic_integration(antiderivative(value, x))
                except ValueError as exc:
                    raise CannotDerive(str(exc)) from exc
                target = "y" + "'" * (k - j - 1)
                steps.append(integration_step(result, x, title=f"Integrate to get {target}"))
                value = result.value + constants[j + 1]
            solutions.append(sympy.Eq(y, value))
        steps.append(Step("General solution", f"With the {k + 1} constants of integration:",
                          tex(tuple(solutions), x), Check.SOLVES, after=tuple(solutions)))
        return steps, solutions, tuple(constants)

    def _derive_missing_x(self, problem: Problem) -> tuple[list[Step], sympy.Expr, tuple]:
        x, y = problem.variable, problem.unknown
        split = self._p_equation(problem)
        if split is None:
            raise CannotDerive("the equation for p(y) is not separable")
        F, a_y, b_p, Ys, P = split
        steps = [Step("Substitute p = y', y'' = p dp/dy",
                      "$x$ does not appear: take $y$ as the new variable, $p = y'$, and by the chain rule "
                      "$y'' = \\frac{dp}{dx} = \\frac{dp}{dy}\\frac{dy}{dx} = p\\frac{dp}{dy}$.",
                      rf"p\frac{{dp}}{{d{_latex(Ys)}}} = {_latex(F)}", Check.NOTE)]
        lost_words = ""
        if sympy.simplify(F.subs(P, 0)) == 0:
            lost_words = " Dividing by $p$ sets aside $p = 0$, i.e. the constant solutions $y = C$."
        steps.append(Step("Separate p and y",
                          "The equation for $p(y)$ is separable." + lost_words,
                          rf"\frac{{dp}}{{{_latex(b_p)}}} = {_latex(a_y)}\,d{_latex(Ys)}", Check.NOTE))
        try:
            left = _generic_integration(antiderivative(1 / b_p, P))
            right = _generic_integration(antiderivative(a_y, Ys))
        except ValueError as exc:
            raise CannotDerive(str(exc)) from exc
        steps.append(integration_step(left, x, title="Integrate the p side"))
        steps.append(integration_step(right, x, title="Integrate the y side"))
        c1, c2 = sympy.symbols("C1 C2")
        p_solutions = [_generic(v) for v in sympy.solve(sympy.Eq(left.value, right.value + c1), P)]
        p_solutions = [v for v in p_solutions if not v.has(sympy.nan)]
        if not p_solutions:
            raise CannotDerive("cannot solve for p")
        p_of_y = p_solutions[0]
        if len(p_solutions) > 1:
            steps.append(Step("Solve for p", "Take one branch (the other differs by a sign and gives the same "
                              "family after renaming constants).",
                              _latex(sympy.Eq(P, p_of_y)), Check.NOTE))
        else:
            steps.append(Step("Solve for p", "", _latex(sympy.Eq(P, p_of_y)), Check.NOTE))
        # dy/dx = p(y): separate again.
        try:
            integral = _generic_integration(antiderivative(sympy.simplify(1 / p_of_y), Ys))
        except ValueError as exc:
            raise CannotDerive(str(exc)) from exc
        steps.append(integration_step(integral, x, title="Separate dy/dx = p(y) and integrate"))
        implicit = sympy.Eq(integral.value.subs(Ys, y), x + c2)
        try:
            explicit = [_generic(v) for v in sympy.solve(sympy.Eq(integral.value, x + c2), Ys)]
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
                return _practice(self, equation, y, x, ics)
            except CannotDerive:  # e.g. no member of y'' = k y'^2/y through the point: ask for the family
                pass
        return _practice(self, equation, y, x)


METHODS = [ConstantCoefficients, UndeterminedCoefficients, VariationOfParameters, CauchyEuler, ReductionOfOrder]
