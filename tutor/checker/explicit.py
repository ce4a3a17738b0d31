"""Explicit answers ``y = f(x)``: substitute, decide the residual, count independent constants.

With a unit step or an impulse in the answer or the equation the residual is judged as a
distribution (the Laplace-transform chapter; see the comment above :func:`_has_steps`).
"""
from __future__ import annotations

from typing import Iterator

import sympy

from tutor.checker.context import _Context, _Outcome
from tutor.checker.zero import (_d, _decide_residual, _display, _is_zero_symbolic, _num, _numeric_rank, _numeric_zero,
                                _real)

# ---------------------------------------------------------------------------
# Explicit answers y = f(x)


def _explicit_points(ctx: _Context, f: sympy.Expr, tries: int = 40) -> Iterator[dict]:
    """Random points where the solution itself is real (complex when it contains i) and finite."""
    value = _num if f.has(sympy.I) else _real
    for _ in range(tries):
        point = ctx.random_point()
        if value(f, point) is not None:
            yield point


def _substitute_explicit(ctx: _Context, f: sympy.Expr, ode: sympy.Expr | None = None) -> sympy.Expr:
    ode = ctx.ode if ode is None else ode
    reps = {}
    for d in ode.atoms(sympy.Derivative):
        reps[d] = _d(f, ctx.X, d.derivative_count)
    return ode.xreplace(reps).xreplace({ctx.unknown: f})


def _check_explicit(ctx: _Context, f: sympy.Expr) -> _Outcome:
    consts = [c for c in ctx.C if f.has(c)]
    distributional = _has_steps(f) or _has_steps(ctx.ode)
    ode = ctx.ode
    if distributional and ctx.task.ics:
        # the answer and the equation for t >= t0: a step switched on at or before t0 is 1 there
        f, ode = _after_initial_point(ctx, f), _after_initial_point(ctx, ctx.ode)
    ok, residual = ctx.clock.attempt(_substitute_explicit, ctx, f, ode, seconds=max(0.5, ctx.clock.left() / 4))
    if not ok:
        return _Outcome("undecided", note="differentiating the answer took too long (or failed).", f=f,
                        constants=consts)
    if distributional:
        outcome = _decide_distribution(ctx, residual, f)
    else:
        outcome = _decide_residual(ctx, residual, lambda: _explicit_points(ctx, f))
    outcome.f, outcome.constants, outcome.explicit = f, consts, True
    if outcome.status == "satisfies":
        outcome.rank = _rank_explicit(ctx, f, consts)
    return outcome


# ---------------------------------------------------------------------------
# Unit steps and impulses (the Laplace-transform chapter)
#
# With a unit step or a delta in the equation or the answer, "satisfies the equation" is meant in
# the sense of distributions, as the Laplace method delivers it: the answer's derivatives carry
# delta terms at its jumps (SymPy differentiates Heaviside(t - a) to DiracDelta(t - a)), and those
# must match the impulses of the equation exactly; a residual that vanishes only pointwise (a
# jump where y must be continuous, an impulse the answer ignores) is wrong. The regular part must
# vanish on every interval between the jumps - never "on part of the line" only. For an initial
# value problem the answer is the solution for t >= t0, so a step at or before the initial point,
# u(t - t0), is 1 there (the textbook writes the answer for t > 0 and sometimes multiplies it by
# u(t)) — in the answer and in the equation alike (a forcing "1 for 0 <= t < 2" is u(t) - u(t - 2)).

_STEP_FUNCTIONS = (sympy.Heaviside, sympy.DiracDelta)


def _has_steps(expr: sympy.Expr) -> bool:
    return expr.has(*_STEP_FUNCTIONS)


def _root(argument: sympy.Expr, X: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """``(slope, point)`` of a linear argument ``slope (X - point)``, else None."""
    slope = sympy.diff(argument, X)
    if slope == 0 or slope.has(X):
        return None
    return slope, sympy.cancel(-argument.subs(X, 0) / slope)


def _after_initial_point(ctx: _Context, f: sympy.Expr) -> sympy.Expr:
    x0 = ctx.real_form(ctx.task.ics[0][1])

    def one(h: sympy.Heaviside) -> sympy.Expr:
        found = _root(h.args[0], ctx.X)
        if found is not None and found[0].is_positive:
            before = sympy.simplify(found[1] - x0)
            if before == 0 or before.is_negative:
                return sympy.S.One
        return h

    return f.replace(lambda e: isinstance(e, sympy.Heaviside), one)


def _singular_parts(residual: sympy.Expr, X: sympy.Symbol) -> tuple[sympy.Expr, dict] | None:
    """``residual = regular + sum c_{a,k} delta^(k)(X - a)`` with constant ``c``: (regular, {(a, k): c}).

    ``c(X) delta^(k)(X - a) = sum_j (-1)^j binom(k, j) c^(j)(a) delta^(k-j)(X - a)`` (the product
    rule for distributions); ``delta^(k)(s (X - a)) = delta^(k)(X - a) / (|s| s^k)``. None when a
    term is not of that form (two deltas in one product, a delta of a nonlinear argument).
    """
    regular = sympy.S.Zero
    singular: dict = {}
    for term in sympy.Add.make_args(sympy.expand(residual)):
        deltas = [factor for factor in sympy.Mul.make_args(term) if isinstance(factor, sympy.DiracDelta)]
        if not deltas:
            if term.has(sympy.DiracDelta):
                return None
            regular += term
            continue
        if len(deltas) != 1:
            return None
        delta = deltas[0]
        coefficient = term / delta
        if coefficient.has(sympy.DiracDelta):
            return None
        k = int(delta.args[1]) if len(delta.args) > 1 else 0
        found = _root(delta.args[0], X)
        if found is None:
            return None
        slope, point = found
        coefficient = coefficient / (sympy.Abs(slope) * slope**k)
        for j in range(k + 1):
            value = (-1) ** j * sympy.binomial(k, j) * sympy.diff(coefficient, X, j).subs(X, point)
            key = (point, k - j)
            singular[key] = singular.get(key, sympy.S.Zero) + value
    return regular, singular


def _jump_points(expr: sympy.Expr, X: sympy.Symbol) -> list[float]:
    points = set()
    for e in expr.atoms(*_STEP_FUNCTIONS):
        found = _root(e.args[0], X)
        if found is not None and found[1].is_number:
            points.add(float(found[1]))
    return sorted(points)


def _interval_points(ctx: _Context, jumps: list[float], f: sympy.Expr, rounds: int = 3) -> Iterator[dict]:
    """Random points in every interval between the jumps (and beyond them), then anywhere."""
    edges = [jumps[0] - 4.0] + jumps + [jumps[-1] + 4.0] if jumps else []
    value = _num if f.has(sympy.I) else _real
    for _ in range(rounds):
        for lo, hi in zip(edges, edges[1:]):
            point = ctx.random_point()
            point[ctx.X] = sympy.Rational(round(ctx.rng.uniform(lo + 1e-3, hi - 1e-3) * 10**6), 10**6)
            if value(f, point) is not None:
                yield point
    yield from _explicit_points(ctx, f)


def _decide_distribution(ctx: _Context, residual: sympy.Expr, f: sympy.Expr) -> _Outcome:
    """Zero as a distribution: every delta coefficient vanishes and the rest on every interval."""
    ok, parts = ctx.clock.attempt(_singular_parts, residual, ctx.X, seconds=max(0.5, ctx.clock.left() / 4))
    if not ok or parts is None:
        return _Outcome("undecided", note="the answer's impulses could not be separated from the rest.")
    regular, singular = parts
    for (point, order), coefficient in sorted(singular.items(), key=lambda item: sympy.default_sort_key(item[0])):
        if _is_zero_symbolic(ctx, coefficient, strong=False, seconds=min(1.0, ctx.clock.left() / 4)):
            continue
        numeric = _numeric_zero(ctx, coefficient, (ctx.random_point() for _ in range(12)))
        if numeric.zero is True and not numeric.partial:
            continue
        impulse = sympy.DiracDelta(ctx.X - point) if order == 0 else sympy.DiracDelta(ctx.X - point, order)
        shown = _display(ctx, coefficient * impulse, seconds=min(1.0, ctx.clock.left() / 3))
        if numeric.zero is None:
            return _Outcome("undecided", note=f"I could not decide whether the impulse ${shown}$ cancels.")
        return _Outcome("fails", method="numeric", residual=shown)
    jumps = _jump_points(residual, ctx.X) or _jump_points(f, ctx.X)
    if _is_zero_symbolic(ctx, regular, strong=False, seconds=min(1.0, ctx.clock.left() / 4)):
        return _Outcome("satisfies", method="symbolic")
    numeric = _numeric_zero(ctx, regular, _interval_points(ctx, jumps, f), wanted=max(6, 2 * len(jumps) + 4))
    if numeric.zero is None:
        return _Outcome("undecided", note="too few points where the answer is defined to test it.")
    if numeric.zero is False or numeric.partial:
        where = ", ".join(f"{sympy.latex(k)} = {float(v):.3g}" for k, v in numeric.witness.items())
        return _Outcome("fails", method="numeric",
                        residual=_display(ctx, regular.subs(ctx.X, numeric.witness[ctx.X]), seconds=0.5)
                        + rf"\ \text{{at }} {where}")
    return _Outcome("satisfies", method="numeric")


def _rank_explicit(ctx: _Context, f: sympy.Expr, consts: list) -> int | None:
    """Independent constants: rank of d(y, y', ..., y^(n-1))/dC at random points."""
    if not consts:
        return 0
    rows = [f]
    for _ in range(1, max(1, ctx.n)):
        rows.append(_d(rows[-1], ctx.X))
    jac = [[_d(r, c) for c in consts] for r in rows]
    rank = _numeric_rank(ctx, jac, lambda: _explicit_points(ctx, f))
    if rank is None:
        # No real point where the family is defined turned up: the rank of an analytic family is
        # the same at complex points, so use points where it is merely finite.
        def finite_points() -> Iterator[dict]:
            for _ in range(20):
                point = ctx.random_point()
                if _num(f, point) is not None:
                    yield point
        rank = _numeric_rank(ctx, jac, finite_points)
    return rank
