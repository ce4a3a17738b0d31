"""Steps as data, and the checker that says a step follows from what came before.

A :class:`Step` is what a textbook line is: a short title, a sentence of
explanation, the formula(s) in LaTeX — and, so that it can be *checked*, the SymPy
relation it states (``after``), the one it starts from (``before``) and how the
two are related (``check``, one of :class:`Check`).  Renderers only look at
``title``/``text``/``latex``; :func:`check_step` only looks at the SymPy fields.

Check kinds (what :func:`check_step` proves):

``note``           words only: no formula is claimed to follow (the hint, "the equation is exact").
``equivalent``     ``after`` and ``before`` are the same equation up to a factor free of the
                   highest derivative (rearranging, dividing by ``g(y)``; the step's text must
                   mention a lost solution when the factor can vanish).
``substitution``   ``after`` is ``before`` with ``substitution`` (e.g. ``{y(x): x*v(x)}``)
                   applied and rearranged (then as ``equivalent``).
``integrated``     ``after`` is ``Eq(Integral(...), Integral(...))``: both sides of ``before``
                   integrated; differentiating ``after`` in x gives back ``before``.
``antiderivative`` ``after`` is ``Eq(Integral(f, t), F)`` with ``F' = f`` (a constant may be
                   omitted).
``identity``       ``after`` is an ``Eq`` whose sides agree once evaluated (``Eq(Derivative(M, y),
                   2*x)``; ``Eq(mu, exp(Integral(P, x)))``).
``solves``         ``after`` (an ``Eq`` or a tuple of them, explicit ``y = f`` or implicit
                   ``F(x, y) = C``) satisfies the ODE ``ode`` (the problem's unless given).
``constants``      ``after`` solves the ODE and meets every initial condition of the problem.
``null_space``     ``after`` is ``(M, v, w)`` with matrices: ``M v = w`` and ``v != 0`` (an eigenvector:
                   ``M = A - lambda I``, ``w = 0``; a generalized eigenvector: ``w`` the previous one).

For a system (:class:`tutor.system.SystemProblem`) ``identity`` takes matrices too (every entry of
``lhs - rhs`` must vanish), and ``solves`` / ``constants`` take the tuple ``(Eq(x(t), f), Eq(y(t), g))``
and go to the one checker (``ode`` may then be another system: the homogeneous one).

Symbolic simplification is tried first; numeric spot checks at random points
(random values for constants and parameters too) are the fallback, so a check
says ``ok=False`` only when a point disproves it or nothing could be evaluated.

Usage::

    from tutor.engine.steps import Step, Check, check_step
    result = check_step(step, problem)      # StepCheck(ok=True, reason="...")
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Iterable

import sympy

from tutor.problem import Problem, latex, prime_symbols


class Check(str, Enum):
    """How a step's ``after`` relates to its ``before`` (see the module docstring)."""

    NOTE = "note"
    EQUIVALENT = "equivalent"
    SUBSTITUTION = "substitution"
    INTEGRATED = "integrated"
    ANTIDERIVATIVE = "antiderivative"
    IDENTITY = "identity"
    SOLVES = "solves"
    CONSTANTS = "constants"
    NULL_SPACE = "null_space"


Relation = sympy.Basic  # an Eq, an expression (= 0), or a tuple of Eq for SOLVES/CONSTANTS


@dataclass(frozen=True)
class Step:
    """One line of a worked solution: words for the student, SymPy for the checker."""

    title: str
    text: str
    latex: str = ""
    check: Check = Check.NOTE
    before: Relation | None = None
    after: Relation | tuple | None = None
    substitution: dict | None = None
    #: The ODE a SOLVES step is checked against (default: the problem's equation).
    ode: sympy.Eq | None = None
    #: The unknown of ``ode`` when it is not the problem's (``v(x)`` after ``y = v x``).
    unknown: sympy.Expr | None = None
    #: The independent variable of ``ode`` when it is not the problem's (``u(y)`` after ``x = u y``).
    variable: sympy.Symbol | None = None

    def to_dict(self) -> dict:
        return {"title": self.title, "text": self.text, "latex": self.latex}


@dataclass(frozen=True)
class StepCheck:
    ok: bool
    reason: str


# --------------------------------------------------------------------------- helpers


def _as_zero(relation: sympy.Basic) -> sympy.Expr:
    if isinstance(relation, sympy.Equality):
        return relation.lhs - relation.rhs
    return sympy.sympify(relation)


def _freeze(exprs: Iterable[sympy.Expr]) -> tuple[list[sympy.Expr], list[sympy.Symbol], list[sympy.Symbol]]:
    """Replace derivatives and applied unknowns by symbols (highest derivatives first).

    Returns the frozen expressions, the symbols standing for derivatives, and those
    standing for undifferentiated applied functions.
    """
    exprs = list(exprs)
    derivs: set = set()
    funcs: set = set()
    for e in exprs:
        derivs |= e.atoms(sympy.Derivative)
        funcs |= {f for f in e.atoms(sympy.core.function.AppliedUndef)}
    mapping = {}
    dsyms, fsyms = [], []
    for i, d in enumerate(sorted(derivs, key=lambda d: -d.derivative_count)):
        s = sympy.Dummy(f"p{i}")
        mapping[d] = s
        dsyms.append(s)
    frozen = [e.subs(mapping) for e in exprs]
    mapping = {}
    for i, f in enumerate(sorted(funcs, key=str)):
        s = sympy.Dummy(f"u{i}")
        mapping[f] = s
        fsyms.append(s)
    frozen = [e.xreplace(mapping) for e in frozen]
    return frozen, dsyms, fsyms


def _random_point(symbols: Iterable[sympy.Symbol], rng: random.Random) -> dict:
    # Positive values, some above e (so that ln ln x is real), away from 0 and 1.
    return {s: sympy.Float(rng.choice([rng.uniform(0.3, 1.9), rng.uniform(2.8, 4.5)])) for s in symbols}


def _real_domain(expr: sympy.Expr, point: dict) -> bool:
    """Every log, root and inverse trig argument is real (and allowed) at the point.

    A textbook answer lives where it is real: a point where ln(ln x) or sqrt(cosh^2 u)
    goes complex says nothing about the step.
    """
    from tutor.checker.zero import roots_as_numbers

    for sub in roots_as_numbers(expr).atoms(sympy.log, sympy.Pow, sympy.asin, sympy.acos, sympy.acosh, sympy.atanh):
        if isinstance(sub, sympy.Pow) and (sub.exp.is_integer or not sub.exp.is_number):
            continue
        try:
            value = complex(sub.args[0].evalf(subs=point, n=20))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return False
        if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
            return False
        real = value.real
        if isinstance(sub, (sympy.log, sympy.Pow)) and real <= 0:
            return False
        if isinstance(sub, (sympy.asin, sympy.acos, sympy.atanh)) and abs(real) >= 1:
            return False
        if isinstance(sub, sympy.acosh) and real < 1:
            return False
    return True


def _numeric_zero(expr: sympy.Expr, tries: int = 8, seed: int = 7) -> bool | None:
    """True if ``expr`` vanishes at random points, False if a point disproves it, None if unknown.

    Each point is decided by the checker's zero test (:func:`tutor.checker.zero.classify_point`:
    the value at 30 digits against the value at 60, so a small true value is not taken for 0 and
    rounding noise is not taken for a value); a nonzero value disproves, complex or not.
    """
    from tutor.checker.zero import classify_point

    rng = random.Random(seed)
    symbols = sorted(expr.free_symbols, key=str)
    good = 0
    for _ in range(tries * 4):
        point = _random_point(symbols, rng)
        if not _real_domain(expr, point):
            continue
        kind = classify_point(expr, point, complex_ok=True)
        if kind is None:  # not finite here: outside the domain
            continue
        if kind == "nonzero":
            return False
        good += 1
        if good >= tries:
            return True
    return True if good >= 3 else None


def is_zero(expr: sympy.Expr) -> bool | None:
    """Symbolic zero test with a numeric fallback (None: could not decide)."""
    expr = sympy.sympify(expr)
    if expr == 0:
        return True
    if expr.has(sympy.CRootOf):
        # Indexed roots of a polynomial (no radical formula): simplify cannot use that they are
        # roots and spends minutes; the numbers decide (their values come from the checker).
        (frozen,), _, _ = _freeze([expr])
        return _numeric_zero(frozen)
    try:
        simplified = sympy.simplify(expr)
    except Exception:  # simplify can fail on odd inputs; fall back to numbers
        simplified = expr
    if simplified == 0:
        return True
    # y(x), y'(x) become plain symbols so that random values can be put in.
    (frozen,), _, _ = _freeze([simplified])
    return _numeric_zero(frozen)


def equivalent(a: sympy.Basic, b: sympy.Basic) -> StepCheck:
    """``a`` and ``b`` state the same equation up to a factor free of the highest derivative."""
    # Unevaluated derivatives of products ((mu y)' = mu Q) are expanded first.
    (fa, fb), dsyms, fsyms = _freeze([_as_zero(a).doit(), _as_zero(b).doit()])
    diff = is_zero(fa - fb)
    if diff:
        return StepCheck(True, "same equation after simplification")
    if fb == 0 or fa == 0:
        return StepCheck(False, "one side is identically zero")
    ratio = sympy.cancel(sympy.together(fa / fb))
    if not dsyms:
        if ratio.is_constant() and ratio != 0:
            return StepCheck(True, "equations differ by a constant factor")
        return StepCheck(False, f"relations are not proportional (ratio {ratio})")
    top = dsyms[0]
    if ratio.free_symbols.isdisjoint(dsyms) and ratio != 0:
        return StepCheck(True, "the two forms differ by a factor free of the derivative")
    # Numeric: the ratio must not change when only the derivatives change.
    for d in dsyms:
        shifted = ratio.subs(d, d + sympy.Rational(7, 3))
        if is_zero(ratio - shifted) is not True:
            return StepCheck(False, f"not equivalent: the ratio {ratio} depends on the derivative")
    return StepCheck(True, "equivalent (numeric spot checks)")


def _implicit_derivative(relation: sympy.Eq, unknown: sympy.Expr, variable: sympy.Symbol,
                         constants: Iterable[sympy.Symbol]) -> sympy.Expr | None:
    """y' from an implicit relation, after eliminating one arbitrary constant if present."""
    phi = _as_zero(relation)
    Y = sympy.Dummy("Y")
    phi = phi.subs(unknown, Y)
    present = [c for c in constants if phi.has(c)]
    if present:
        c = present[0]
        sols = sympy.solve(phi, c, dict=False)
        if len(sols) >= 1:
            phi = sols[0]  # phi(x, Y) = C, a first integral
    dphi_dy = sympy.diff(phi, Y)
    if dphi_dy == 0:
        return None
    return (-sympy.diff(phi, variable) / dphi_dy).subs(Y, unknown)


def solution_residual(ode: sympy.Eq, solution: sympy.Eq, unknown: sympy.Expr,
                      variable: sympy.Symbol, constants: Iterable[sympy.Symbol] = ()) -> sympy.Expr | None:
    """What is left of the ODE after substituting the solution (0 when it solves it)."""
    expr = _as_zero(ode)
    order = max((d.derivative_count for d in expr.atoms(sympy.Derivative) if d.expr == unknown), default=0)
    if solution.lhs == unknown and not solution.rhs.has(unknown):
        f = solution.rhs
        subs = {sympy.Derivative(unknown, (variable, k)): sympy.diff(f, variable, k) for k in range(order, 0, -1)}
        return expr.subs(subs).subs(unknown, f).doit()
    if solution.rhs == unknown and not solution.lhs.has(unknown):
        return solution_residual(ode, sympy.Eq(solution.rhs, solution.lhs), unknown, variable, constants)
    if order != 1:
        return None
    dy = _implicit_derivative(solution, unknown, variable, constants)
    if dy is None:
        return None
    return expr.subs(sympy.Derivative(unknown, variable), dy).doit()


def _solutions_of(after) -> tuple:
    if isinstance(after, (tuple, list)):
        return tuple(after)
    return (after,)


def _constants_in(expr: sympy.Basic, problem: Problem) -> list[sympy.Symbol]:
    params = set(problem.parameters) | {problem.variable}
    return sorted((s for s in expr.free_symbols if s not in params and s.name.startswith(("C", "c_", "K", "A", "B"))),
                  key=str)


def _check_solves_system(step: Step, problem, with_ics: bool) -> StepCheck:
    """A system's solution vector: the one checker judges it (a particular solution holds for
    ``solves``; ``constants`` needs every condition)."""
    from tutor.checker import check
    from tutor.problem import Answer

    target = step.ode if step.ode is not None else problem
    if not with_ics:
        from dataclasses import replace

        target = replace(target, ics=())
    solutions = _solutions_of(step.after)
    constants = tuple(sorted({s for sol in solutions for s in sol.rhs.free_symbols if s != target.variable}, key=str))
    verdict = check(target, Answer(solutions=solutions, constants=constants))
    ok = verdict.verdict == "correct" or (verdict.verdict == "incomplete" and not with_ics)
    return StepCheck(ok, verdict.reason)


def _check_null_space(after) -> StepCheck:
    M, v, w = (sympy.Matrix(m) for m in after)
    if all(is_zero(e) is True for e in v):
        return StepCheck(False, "the zero vector is not an eigenvector")
    if all(is_zero(sympy.expand(e)) is True for e in (M * v - w)):
        return StepCheck(True, "multiplying out gives the stated vector")
    return StepCheck(False, "the matrix times the vector is not the stated vector")


def _check_solves(step: Step, problem: Problem, with_ics: bool) -> StepCheck:
    # a system's step (also one inside a scalar derivation: the equation rewritten as a system)
    if getattr(problem, "is_system", False) or getattr(step.ode, "is_system", False):
        return _check_solves_system(step, problem, with_ics)
    ode = step.ode if step.ode is not None else problem.equation
    unknown = step.unknown if step.unknown is not None else problem.unknown
    if any(r.has(sympy.Heaviside, sympy.DiracDelta, sympy.Order) for r in (ode, *_solutions_of(step.after))) or \
            any(r.has(sympy.Integral) for r in _solutions_of(step.after)):
        return _check_solves_distribution(step, problem, ode, unknown, with_ics)
    for sol in _solutions_of(step.after):
        variable = step.variable if step.variable is not None else problem.variable
        residual = solution_residual(ode, sol, unknown, variable, _constants_in(sol, problem))
        if residual is None:
            return StepCheck(False, f"cannot substitute {sol} into the ODE")
        if is_zero(residual) is not True:
            return StepCheck(False, f"{sol} leaves the residual {sympy.simplify(residual)}")
        if with_ics:
            for ic in problem.ics:
                if not (sol.lhs == unknown):
                    lhs = _as_zero(sol).subs(unknown, ic.value).subs(problem.variable, ic.point) if ic.order == 0 else None
                    if lhs is None or is_zero(lhs) is not True:
                        return StepCheck(False, f"{sol} does not meet {ic.latex(problem.function)}")
                    continue
                value = sympy.diff(sol.rhs, problem.variable, ic.order).subs(problem.variable, ic.point)
                if is_zero(value - ic.value) is not True:
                    return StepCheck(False, f"{sol} does not meet {ic.latex(problem.function)}")
    return StepCheck(True, "substitution into the ODE gives 0" + (" and the initial conditions hold" if with_ics else ""))


def _check_solves_distribution(step: Step, problem: Problem, ode: sympy.Eq, unknown: sympy.Expr,
                               with_ics: bool) -> StepCheck:
    """Unit steps or impulses: "solves" in the sense of distributions, which the one checker owns
    (:mod:`tutor.checker`); a pointwise residual would accept a jump where y must be continuous.
    A truncated series (``+ O(x^8)``) likewise "solves" through its order, as the checker decides,
    and a relation holding an unevaluated integral (a quadrature) through the checker's rules for it."""
    from dataclasses import replace

    from tutor.checker import check
    from tutor.problem import Answer

    variable = step.variable if step.variable is not None else problem.variable
    solutions = _solutions_of(step.after)
    target = replace(problem, equation=ode, function=unknown.func, variable=variable,
                     ics=problem.ics if with_ics else ())
    constants = tuple(sorted({c for sol in solutions for c in _constants_in(sol, problem)}, key=str))
    verdict = check(target, Answer(solutions=solutions, constants=constants))
    ok = verdict.verdict == "correct" or (verdict.verdict == "incomplete" and not with_ics)
    return StepCheck(ok, verdict.reason)


def _derivative_of_integral_side(side: sympy.Expr, variable: sympy.Symbol, unknown: sympy.Expr) -> sympy.Expr:
    """d/dx of one side of ``Eq(Integral(g(Y), Y), Integral(f(x), x))``; Y stands for y(x)."""
    if isinstance(side, sympy.Integral):
        (t,) = [lim[0] for lim in side.limits]
        integrand = side.function
        if t == variable:
            return integrand
        # integration variable is a symbol standing for the unknown: chain rule
        return integrand.subs(t, unknown) * sympy.Derivative(unknown, variable)
    return sympy.diff(side, variable)


def check_step(step: Step, problem: Problem) -> StepCheck:
    """Check that ``step`` follows from its ``before`` (or solves the problem), by ``step.check``."""
    kind = Check(step.check)
    try:
        if kind is Check.NOTE:
            if step.after is not None:
                return StepCheck(False, "a note states no formula to check but has one")
            return StepCheck(True, "explanation only")
        if step.after is None:
            return StepCheck(False, f"a {kind.value} step needs the relation it states")
        if kind is Check.EQUIVALENT:
            return equivalent(step.before, step.after)
        if kind is Check.SUBSTITUTION:
            if not step.substitution:
                return StepCheck(False, "no substitution given")
            substituted = _as_zero(step.before).subs(step.substitution).doit()
            return equivalent(substituted, step.after)
        if kind is Check.INTEGRATED:
            unknown = step.unknown if step.unknown is not None else problem.unknown
            variable = step.variable if step.variable is not None else problem.variable
            lhs = _derivative_of_integral_side(step.after.lhs, variable, unknown)
            rhs = _derivative_of_integral_side(step.after.rhs, variable, unknown)
            return equivalent(step.before, sympy.Eq(lhs, rhs))
        if kind is Check.ANTIDERIVATIVE:
            integral, result = step.after.lhs, step.after.rhs
            if not isinstance(integral, sympy.Integral):
                return StepCheck(False, "the left side is not an integral")
            (t,) = [lim[0] for lim in integral.limits]
            ok = is_zero(sympy.diff(result, t) - integral.function)
            return StepCheck(bool(ok), "the derivative of the result is the integrand" if ok
                             else "differentiating the result does not give the integrand")
        if kind is Check.IDENTITY:
            if step.after is sympy.true:
                return StepCheck(True, "both sides are the same expression")
            if isinstance(step.after.lhs, sympy.MatrixBase):
                difference = (sympy.Matrix(step.after.lhs) - sympy.Matrix(step.after.rhs)).doit()
                ok = all(is_zero(sympy.expand(e)) is True for e in difference)
                return StepCheck(ok, "every entry agrees" if ok else "the two matrices differ")
            ok = is_zero((step.after.lhs - step.after.rhs).doit())
            return StepCheck(bool(ok), "both sides agree" if ok else "the two sides differ")
        if kind is Check.SOLVES:
            return _check_solves(step, problem, with_ics=False)
        if kind is Check.CONSTANTS:
            return _check_solves(step, problem, with_ics=True)
        if kind is Check.NULL_SPACE:
            return _check_null_space(step.after)
    except Exception as exc:  # a check that crashes has not shown anything
        return StepCheck(False, f"check failed: {type(exc).__name__}: {exc}")
    return StepCheck(False, f"unknown check kind {kind}")


def ltx(expr) -> str:
    """SymPy LaTeX with ``\\ln`` for the natural log (as textbooks write it)."""
    return latex(expr, ln_notation=True)


def tex(relation, variable: sympy.Symbol) -> str:
    """Textbook LaTeX: ``y'`` for ``Derivative(y(x), x)`` and ``y`` for ``y(x)``, for every unknown.

    A tuple of relations is joined with ``\\quad``.  Used for every formula a step shows.
    """
    if isinstance(relation, (tuple, list)):
        return r",\quad ".join(tex(r, variable) for r in relation)
    relation = sympy.sympify(relation)
    return latex(relation.xreplace(prime_symbols(relation, variable)), ln_notation=True)
