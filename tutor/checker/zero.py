"""The one test of "is this expression zero?": exact simplification, then numbers at 30 and 60 digits.

A value computed at random points with 30 significant digits is compared with the same value at 60
(:func:`_classify`): agreement means a real nonzero value, disagreement rounding noise around 0.
:func:`_decide_residual` is the whole test for a residual (cheap exact form, numbers, strong
simplification); :func:`classify_point` is the per-point part for callers outside the worker
(:func:`tutor.engine.steps.is_zero`).  Also here: evaluation (:func:`_num`, mpmath for special
functions), the derivative the checker uses (:func:`_d`) and the numeric rank of a Jacobian.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import mpmath
import sympy

from tutor.checker.context import _Context, _Outcome

# ---------------------------------------------------------------------------
# Numbers


_TOL = 1e-15  # relative difference below which two evaluated values count as equal (30 digits)
_DIGITS = 30


#: Special functions evaluated by mpmath directly (:func:`_mp_value`): SymPy's ``evalf`` of a
#: residual in Bessel functions took 1-5 s per point (its adaptive precision chasing a value that
#: is exactly 0), mpmath a few milliseconds.
_MP_SPECIAL = {
    sympy.besselj: mpmath.besselj, sympy.bessely: mpmath.bessely, sympy.besseli: mpmath.besseli,
    sympy.besselk: mpmath.besselk, sympy.airyai: mpmath.airyai, sympy.airybi: mpmath.airybi,
    sympy.airyaiprime: lambda z: mpmath.airyai(z, derivative=1),
    sympy.airybiprime: lambda z: mpmath.airybi(z, derivative=1),
    sympy.erf: mpmath.erf, sympy.erfi: mpmath.erfi, sympy.Ei: mpmath.ei, sympy.gamma: mpmath.gamma,
}
_MP_ELEMENTARY = {
    sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.sin: mpmath.sin, sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan, sympy.sinh: mpmath.sinh, sympy.cosh: mpmath.cosh, sympy.tanh: mpmath.tanh,
    sympy.asin: mpmath.asin, sympy.acos: mpmath.acos, sympy.atan: mpmath.atan, sympy.Abs: abs,
}


class _NotMpmath(Exception):
    pass


def _mp_value(expr: sympy.Expr, subs: dict, digits: int):
    """``expr`` at ``subs`` evaluated by mpmath (a walk over the tree: no generated code), at ``digits``."""
    def ev(e):
        if e.is_Symbol:
            if e not in subs:
                raise _NotMpmath(e)
            return ev(sympy.sympify(subs[e]))
        if e.is_Integer:
            return mpmath.mpf(int(e))
        if e.is_Rational:
            return mpmath.mpf(int(e.p)) / int(e.q)
        if e is sympy.pi:
            return mpmath.pi
        if e is sympy.E:
            return mpmath.e
        if e is sympy.I:
            return mpmath.mpc(0, 1)
        if e.is_Float:
            return mpmath.mpf(e._to_mpmath(mpmath.mp.prec))
        if e.is_Add:
            return mpmath.fsum(ev(a) for a in e.args)
        if e.is_Mul:
            out = mpmath.mpf(1)
            for a in e.args:
                out *= ev(a)
            return out
        if e.is_Pow:
            return mpmath.power(ev(e.base), ev(e.exp))
        f = _MP_SPECIAL.get(e.func) or _MP_ELEMENTARY.get(e.func)
        if f is None:
            raise _NotMpmath(e.func)
        return f(*(ev(a) for a in e.args))

    with mpmath.workdps(digits + 10):
        return mpmath.mpc(ev(expr))


@functools.lru_cache(maxsize=256)
def root_value(root: sympy.CRootOf, digits: int) -> sympy.Expr:
    """An indexed polynomial root as a number (real, or ``a + b*I``) to ``digits`` + 20 digits.

    SymPy's ``evalf`` of a ``CRootOf`` refines its isolating interval by bisection (about 3 s for
    60 digits of one root of a quintic; a residual has several, at every point). Instead every root
    of the polynomial is found by mpmath (``polyroots``, error-checked) and the one inside the
    root's own isolating interval, which holds exactly one root, is taken. SymPy's ``evalf`` stays
    the fallback when that does not single out one root.
    """
    prec = digits + 20
    try:
        coeffs = [mpmath.mpf(int(c.p)) / int(c.q) for c in map(sympy.Rational, root.poly.all_coeffs())]
        with mpmath.workdps(prec):
            zs = mpmath.polyroots(coeffs, maxsteps=400, extraprec=4 * prec, error=False)
            iv = root._get_interval()
            if root.is_real:
                near = [z for z in zs if sympy.Rational(iv.a) <= sympy.Rational(str(mpmath.re(z))) <= sympy.Rational(iv.b)
                        and abs(mpmath.im(z)) < mpmath.mpf(10) ** (-prec // 2)]
            else:
                near = [z for z in zs
                        if iv.ax <= sympy.Rational(str(mpmath.re(z))) <= iv.bx
                        and iv.ay <= sympy.Rational(str(mpmath.im(z))) <= iv.by]
            if len(near) == 1:
                z = mpmath.mpc(near[0])
                re = sympy.Float(mpmath.nstr(z.real, prec), prec)
                return re if root.is_real else re + sympy.I * sympy.Float(mpmath.nstr(z.imag, prec), prec)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, AttributeError, mpmath.libmp.NoConvergence):
        pass
    return sympy.N(root, prec)


def roots_as_numbers(expr: sympy.Expr, digits: int = _DIGITS) -> sympy.Expr:
    """``expr`` with every ``CRootOf`` replaced by its value (:func:`root_value`)."""
    roots = expr.atoms(sympy.CRootOf)
    if not roots:
        return expr
    return expr.xreplace({r: root_value(r, digits) for r in roots})


#: The symbol standing for each indexed root inside a check (:func:`roots_as_symbols`), and back.
_ROOT_SYMBOLS: dict[sympy.CRootOf, sympy.Dummy] = {}
_SYMBOL_ROOTS: dict[sympy.Dummy, sympy.CRootOf] = {}


def roots_as_symbols(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every ``CRootOf`` replaced by a symbol that :func:`_num` evaluates to the root.

    Every exact pass over an expression with a ``CRootOf`` rebuilds it, and rebuilding factors its
    polynomial again (minutes for a degree-10 residual), while no simplification can use that it is
    a root anyway. A symbol is cheap to carry; the numbers at 30 and 60 digits decide, with the
    root computed to the precision of each evaluation (a fixed decimal would turn the rounding
    noise into a constant the 30/60 comparison takes for a true value).
    """
    roots = expr.atoms(sympy.CRootOf)
    if not roots:
        return expr
    for r in roots:
        if r not in _ROOT_SYMBOLS:
            d = sympy.Dummy(f"r{r.index + 1}", real=True) if r.is_real else sympy.Dummy(f"r{r.index + 1}")
            _ROOT_SYMBOLS[r], _SYMBOL_ROOTS[d] = d, r
    return expr.xreplace({r: _ROOT_SYMBOLS[r] for r in roots})


def _with_root_values(subs: dict, expr: sympy.Expr, digits: int) -> dict:
    stand_ins = expr.free_symbols & _SYMBOL_ROOTS.keys()
    if not stand_ins:
        return subs
    return {**subs, **{d: root_value(_SYMBOL_ROOTS[d], digits) for d in stand_ins}}


def _num(expr: sympy.Expr, subs: dict, digits: int = _DIGITS) -> mpmath.mpc | None:
    """The value of ``expr`` at ``subs``, or None where it is not finite.

    An mpmath number, not a Python float: (x + C)^5000 at |x + C| < 1 is about 1e-300 or smaller,
    which a float would round to 0 (a false "zero residual") or to inf.  An expression with a
    special function (Bessel, Airy ...) is evaluated by mpmath directly (:func:`_mp_value`).
    """
    subs = _with_root_values(subs, expr, digits)
    if expr.atoms(*_MP_SPECIAL):
        try:
            z = _mp_value(expr, subs, digits)
            if mpmath.isfinite(z.real) and mpmath.isfinite(z.imag):
                return z
            return None
        except (_NotMpmath, ValueError, TypeError, ZeroDivisionError, ArithmeticError, OverflowError):
            pass  # SymPy's evalf below
    try:
        v = roots_as_numbers(expr, digits).evalf(digits, subs=subs)
        if v.free_symbols or v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return None
        if v.is_Number:
            re, im = v, sympy.Integer(0)
        else:
            re, im = v.as_real_imag()
            if re.free_symbols or im.free_symbols or not (re.is_Number and im.is_Number):
                return None
        bits = max(53, int(digits * 3.33))
        z = mpmath.mpc(re._to_mpmath(bits), im._to_mpmath(bits))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, AttributeError, RecursionError,
            NotImplementedError, OverflowError):
        return None
    if not (mpmath.isfinite(z.real) and mpmath.isfinite(z.imag)):
        return None
    return z


def _real(expr: sympy.Expr, subs: dict) -> mpmath.mpf | None:
    """The value when it is real and finite (a tiny imaginary round-off is dropped), else None."""
    z = _num(expr, subs)
    if z is None or abs(z.imag) > 1e-20 * (1 + abs(z.real)):
        return None
    return z.real


# ---------------------------------------------------------------------------
# Deciding "is this expression zero?"


def _cheap(expr: sympy.Expr) -> sympy.Expr:
    """A fast exact normal form: enough for most correct answers (everything cancels)."""
    return sympy.cancel(sympy.expand(expr))


_STRONG: list[Callable[[sympy.Expr], sympy.Expr]] = [
    sympy.simplify,
    lambda e: sympy.simplify(sympy.powsimp(sympy.expand_log(e, force=True), force=True)),
    lambda e: sympy.simplify(e.rewrite(sympy.exp)),
    lambda e: sympy.trigsimp(sympy.expand_trig(e)),
]


def _is_zero_symbolic(ctx: _Context, expr: sympy.Expr, strong: bool, seconds: float) -> bool:
    """True when a transformation brings ``expr`` to 0 within ``seconds`` (False: not shown)."""
    if expr == 0:
        return True
    ok, value = ctx.clock.attempt(_cheap, expr, seconds=min(seconds, 1.0))
    if ok and value == 0:
        return True
    if not strong or expr.free_symbols & _SYMBOL_ROOTS.keys():
        return False  # (no simplification knows that a root's stand-in is a root)
    start = time.monotonic()
    for transform in _STRONG:
        remaining = seconds - (time.monotonic() - start)
        if remaining <= 0.01:
            return False
        ok, value = ctx.clock.attempt(transform, expr, seconds=remaining)
        if ok and value == 0:
            return True
    return False


@dataclass
class _Numeric:
    """What evaluation at random real points found."""

    zero: bool | None  # True: zero at the points tested; False: nonzero; None: too few points
    zeros: int = 0
    nonzeros: int = 0
    witness: dict | None = None  # a point where the residual is nonzero

    @property
    def partial(self) -> bool:
        """Zero on part of the domain only (|x + C| where x + C < 0 ...): a solution on an interval."""
        return self.zero is True and self.nonzeros > 0


def _numeric_zero(ctx: _Context, residual: sympy.Expr, points: Iterator[dict], wanted: int = 6) -> _Numeric:
    """Evaluate ``residual`` at real points (from ``points``) where it is finite.

    A residual that is not real at a real point was evaluated off its real domain (a principal
    branch: ``((x + C)^3)^{2/3}`` for x + C < 0), so such points are skipped unless the answer
    itself is complex (it contains i). A nonzero value is confirmed with 60 digits. After a
    nonzero value a few more points are tried: a residual that is exactly zero at several of them
    is zero on part of the domain — the answer is a solution on an interval (``y = (x + C)^2/4``
    for ``y' = sqrt(y)``, valid for x > -C), which an analytic wrong residual never is.
    """
    complex_ok = residual.has(sympy.I)
    zeros = nonzeros = 0
    witness = None
    for point in points:
        ctx.clock.ensure()
        ok, kind = ctx.clock.attempt(_classify, residual, point, complex_ok, seconds=1.0)
        if not ok or kind is None:
            continue
        if kind == "nonzero":
            nonzeros += 1
            witness = witness or point
        else:
            zeros += 1
        if nonzeros == 0 and zeros >= wanted:
            break
        if nonzeros and zeros + nonzeros >= wanted:
            break
    if nonzeros and zeros >= 2:
        return _Numeric(True, zeros, nonzeros, witness)
    if nonzeros:
        return _Numeric(False, zeros, nonzeros, witness)
    return _Numeric(True if zeros >= 3 else None, zeros, 0)


def _classify(residual: sympy.Expr, point: dict, complex_ok: bool) -> str | None:
    """"zero", "nonzero", or None (not finite, or not real where it should be) at one point.

    A zero residual evaluates to rounding noise whose size depends on the working precision; a
    nonzero one to the same value at any precision. So the value at 30 digits is compared with the
    value at 60: agreement means a real nonzero value (however small: relative, not absolute, so
    ``-e^{-50x}`` at x = 2 is not mistaken for 0), disagreement means noise around 0. This needs
    exact (or 60+-digit) point coordinates, which the samplers provide.
    """
    first = _num(residual, point)
    if first is None:
        return None
    if first == 0:
        return "zero"
    second = _num(residual, point, digits=60)
    if second is None:
        return None
    if second == 0 or abs(first - second) > 1e-12 * abs(second):
        return "zero"
    if not complex_ok and abs(second.imag) > 1e-12 * abs(second):
        return None  # a principal branch off the real domain: say nothing about this point
    return "nonzero"


#: The per-point decision of the zero test, for callers outside the checker's worker
#: (:func:`tutor.engine.steps.is_zero`): "zero", "nonzero" or None (nothing to say at this point).
classify_point = _classify


def _display(ctx: _Context, expr: sympy.Expr, seconds: float = 1.0) -> str:
    """The residual as the student should see it: simplified if that is quick."""
    best = expr
    ok, value = ctx.clock.attempt(_cheap, expr, seconds=min(0.3, seconds))
    if ok and sympy.count_ops(value) < sympy.count_ops(best):
        best = value
    if sympy.count_ops(best) < 300:  # simplify is cosmetic here: not worth seconds on a huge residual
        ok, value = ctx.clock.attempt(sympy.simplify, best, seconds=seconds)
        if ok and sympy.count_ops(value) <= sympy.count_ops(best):
            best = value
    return ctx.tex(best.xreplace({ctx.Y: ctx.unknown}) if best.has(ctx.Y) else best)


def _d(expr: sympy.Expr, var: sympy.Symbol, times: int = 1) -> sympy.Expr:
    """Differentiate, writing sign(u) as u/|u| after each step.

    With real symbols SymPy differentiates |u| to sign(u) u', and sign(u) again to a DiracDelta;
    u/|u| instead makes (ln|u|)' = u'/u exactly (|u|^2 = u^2 for real u) and keeps higher
    derivatives free of distributions (the solution is only checked where u != 0).
    """
    for _ in range(times):
        expr = sympy.diff(expr, var)
        if expr.has(sympy.sign):
            expr = expr.replace(sympy.sign, lambda u: u / sympy.Abs(u))
    return expr


def _decide_residual(ctx: _Context, residual: sympy.Expr, points: Callable[[], Iterator[dict]]) -> _Outcome:
    """Symbolic cheap -> numeric -> symbolic strong; the residual must vanish identically."""
    share = ctx.clock.left()
    if _is_zero_symbolic(ctx, residual, strong=False, seconds=min(1.0, share / 4)):
        return _Outcome("satisfies", method="symbolic")
    numeric = _numeric_zero(ctx, residual, points())
    if numeric.zero is False:
        return _Outcome("fails", method="numeric",
                        residual=_display(ctx, residual, seconds=min(1.0, ctx.clock.left() / 3)))
    if numeric.zero is None:
        # Too few real points (a narrow domain): only a symbolic proof can decide.
        if _is_zero_symbolic(ctx, residual, strong=True, seconds=ctx.clock.left() * 0.8):
            return _Outcome("satisfies", method="symbolic")
        return _Outcome("undecided", note="too few real points where the answer is defined to test it, "
                                          "and simplification did not settle it.")
    if numeric.partial:
        where = "e.g. at $" + ", ".join(f"{sympy.latex(k)} = {float(v):.3g}"
                                        for k, v in numeric.witness.items()) + "$"
        return _Outcome("satisfies", method="numeric", partial=where, residual_expr=residual)
    if _is_zero_symbolic(ctx, residual, strong=True, seconds=min(2.0, ctx.clock.left() * 0.5)):
        return _Outcome("satisfies", method="symbolic")
    return _Outcome("satisfies", method="numeric")


def _numeric_rank(ctx: _Context, jac: list[list[sympy.Expr]], points: Callable[[], Iterator[dict]]) -> int | None:
    """The largest rank of ``jac`` over a few sample points; None when no point could be used."""
    best = 0
    seen = 0
    for point in points():
        values = []
        for row in jac:
            vals = [_num(e, point) for e in row]
            if any(v is None for v in vals):
                break
            values.append(vals)
        else:
            best = max(best, _rank(values))
            seen += 1
            if seen >= 3 or best == min(len(jac), len(jac[0])):
                break
    return best if seen else None


def _rank(rows: list[list[complex]]) -> int:
    """Rank by Gaussian elimination with a relative tolerance (complex entries: C1 e^{ix} + ...).

    Each column, then each row, is first scaled to a largest entry of 1 (which leaves the rank as it
    is): a family C1 e^{-x/1000} + C2 e^{9.4x} + ... has columns of sizes 1 and 1e8, and against one
    tolerance for the whole matrix the small column was taken for zero (the general solution of
    y^(5) - 100y^(3) + 1000y' + y = 0 was called incomplete)."""
    m = [[mpmath.mpc(v.real, v.imag) for v in r] for r in rows]
    # A column 1e-20 times the largest entry or less is rounding noise of a 30-digit evaluation (a
    # constant that cancels out), not a small true value: it stays below the tolerance.
    floor = max((abs(v) for r in m for v in r), default=mpmath.mpf(0)) * mpmath.mpf("1e-20")
    for c in range(len(m[0]) if m else 0):
        top = max(abs(r[c]) for r in m)
        if top > floor:
            for r in m:
                r[c] /= top
    m = [[v / top for v in r] if (top := max(abs(v) for v in r)) > floor else r for r in m]
    size = max((abs(v) for r in m for v in r), default=mpmath.mpf(0))
    if size == 0:
        return 0
    tol = size * mpmath.mpf("1e-9")
    rank = 0
    cols = len(m[0])
    for c in range(cols):
        pivot = max(range(rank, len(m)), key=lambda r: abs(m[r][c]), default=None)
        if pivot is None or abs(m[pivot][c]) <= tol:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for r in range(len(m)):
            if r != rank:
                factor = m[r][c] / m[rank][c]
                m[r] = [a - factor * b for a, b in zip(m[r], m[rank])]
        rank += 1
        if rank == len(m):
            break
    return rank
