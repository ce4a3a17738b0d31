"""Implicit answers ``F(x, y) = G(x, y)``: derivatives along the curves, the residual, the constants.

With ``H = F - G``, ``y' = -H_x/H_y`` and higher derivatives by the total derivative; a residual
that still has a constant is freed of it by solving ``H = 0`` for it, otherwise points on the
curves are found numerically.
"""
from __future__ import annotations

from typing import Iterator

import sympy

from tutor.checker.context import _Context, _Outcome
from tutor.checker.zero import (_d, _decide_residual, _display, _is_zero_symbolic, _numeric_rank, _numeric_zero,
                                _real)

# ---------------------------------------------------------------------------
# Implicit answers H(x, y) = 0


def _implicit_derivatives(ctx: _Context, H: sympy.Expr) -> list[sympy.Expr]:
    """[y', y'', ...] along H(x, y) = 0 as functions of (x, y, constants)."""
    X, Y = ctx.X, ctx.Y
    first = sympy.together(-_d(H, X) / _d(H, Y))
    out = [first]
    for _ in range(1, ctx.n):
        prev = out[-1]
        out.append(sympy.together(_d(prev, X) + _d(prev, Y) * first))
    return out


def _substitute_implicit(ctx: _Context, derivs: list[sympy.Expr]) -> sympy.Expr:
    reps = {}
    for d in ctx.ode.atoms(sympy.Derivative):
        reps[d] = derivs[d.derivative_count - 1]
    return ctx.ode.xreplace(reps).xreplace({ctx.unknown: ctx.Y})


def _solve_for(H: sympy.Expr, target: sympy.Symbol) -> list[sympy.Expr]:
    return [s for s in sympy.solve(H, target, dict=False) if not s.has(sympy.I)]


def _curve_points(ctx: _Context, H: sympy.Expr, Hy: sympy.Expr, tries: int = 20) -> Iterator[dict]:
    """Random points on H(x, y) = 0 (random x and constants; y by a numeric root search)."""
    starts = [sympy.Rational(v, 10) for v in (5, -5, 15, -15, 30, -30, 1, -1)]
    for _ in range(tries):
        point = ctx.random_point()
        g = H.xreplace({k: v for k, v in point.items()})
        if not g.has(ctx.Y):
            continue
        for start in ctx.rng.sample(starts, 4):
            ctx.clock.ensure()
            # 80 digits: _classify compares 30- and 60-digit values of the residual at this point.
            ok, root = ctx.clock.attempt(lambda: sympy.nsolve(g, ctx.Y, start, prec=80), seconds=0.5)
            if not ok or not getattr(root, "is_real", False):
                continue
            full = {**point, ctx.Y: root}
            hy = _real(Hy, full)
            if hy is not None and abs(hy) > 1e-8:
                yield full
                break


def _additive_constant(ctx: _Context, H: sympy.Expr, consts: list) -> sympy.Symbol | None:
    """A constant that ``H`` holds only as ``- k C`` (k a nonzero number): every point (x, y, other
    constants) is then on one of the curves, the one with ``C = (H + k C)/k`` there."""
    for c in consts:
        k = _d(H, c)
        if k.is_number and k != 0 and not (H - k * c).has(c):
            return c
    return None


def _free_points(ctx: _Context, Hy: sympy.Expr, H: sympy.Expr | None) -> Iterator[dict]:
    """Random (x, y, constants) where H_y is real and nonzero (and H is finite, when given)."""
    for _ in range(40):
        point = ctx.random_point(with_y=True)
        hy = _real(Hy, point)
        if hy is not None and abs(hy) > 1e-8 and (H is None or _real(H, point) is not None):
            yield point


def _check_implicit(ctx: _Context, H: sympy.Expr) -> _Outcome:
    X, Y = ctx.X, ctx.Y
    consts = [c for c in ctx.C if H.has(c)]
    Hy = _d(H, Y)
    if Hy == 0:
        return _Outcome("fails", method="symbolic", explicit=False, H=H, constants=consts,
                        note=f"The relation does not determine ${ctx.tex(ctx.Y)}$ as a function of "
                             f"${sympy.latex(X)}$ (${ctx.tex(ctx.Y)}$ cancels out of it).")
    ok, derivs = ctx.clock.attempt(_implicit_derivatives, ctx, H, seconds=max(0.5, ctx.clock.left() / 4))
    if not ok:
        return _Outcome("undecided", note="differentiating the relation took too long.", explicit=False,
                        H=H, constants=consts)
    ok, residual = ctx.clock.attempt(_substitute_implicit, ctx, derivs, seconds=1.0)
    if not ok:
        return _Outcome("undecided", note="substituting into the equation took too long.", explicit=False,
                        H=H, constants=consts)
    slope = ctx.tex(derivs[0].xreplace({Y: ctx.unknown}))
    note = f"along {ctx.voice.your} curves $y' = {slope}$, and then "
    outcome: _Outcome | None = None
    residual_consts = [c for c in consts if residual.has(c)]
    if not residual_consts and consts:
        # R(x, y) free of the constants: every point (x, y) lies on one of the curves, so R must
        # vanish for all x, y.
        # (With an additive constant every point is on a curve: H, perhaps an unevaluated
        # integral, need not be evaluated there.)
        finite = None if _additive_constant(ctx, H, consts) is not None else H
        outcome = _decide_residual(ctx, residual, lambda: _free_points(ctx, Hy, finite))
    elif residual_consts:
        # Eliminate one constant with H = 0: "the expression of C in x, y is constant along the ODE".
        target = residual_consts[0]
        ok, sols = ctx.clock.attempt(_solve_for, H, target, seconds=min(2.0, ctx.clock.left() / 4))
        if ok and sols:
            branches: list[_Outcome] = []
            for sol in sols:
                eliminated = residual.xreplace({target: sol})

                def on_curves(sol: sympy.Expr = sol) -> Iterator[dict]:
                    for _ in range(40):
                        point = ctx.random_point(with_y=True)
                        value = _real(sol, point)
                        if value is None:
                            continue
                        point[target] = sympy.Float(value, 80)
                        hy = _real(Hy, point)
                        if hy is not None and abs(hy) > 1e-8:
                            yield point
                branches.append(_decide_residual(ctx, eliminated, on_curves))
                if branches[-1].status == "undecided":
                    break
            # sin(y - C) = 10x is y = C + arcsin(10x) on one branch and y = C + pi - arcsin(10x) on
            # the other, and only the first solves y' = 1/sqrt(1/100 - x^2): a relation whose
            # curves are solutions on some branch is accepted like a solution on an interval.
            good = [b for b in branches if b.status == "satisfies"]
            if good and len(good) < len(branches):
                outcome = good[0]
                outcome.partial = outcome.partial or "on another branch of the relation"
            else:
                outcome = next((b for b in branches if b.status != "satisfies"), branches[0])
        elif (free := _additive_constant(ctx, H, consts)) is not None and not residual.has(free):
            # H = A(x, y, C1, ...) - k C2 cannot be solved for C1 (an integral left unevaluated:
            # x + C2 = the integral of dy/sqrt(2 C1 + 2 cos y)), but each point (x, y, C1) is on
            # the curve with C2 = A/k there, so R(x, y, C1) must vanish at every such point (H
            # itself need not be evaluated).
            outcome = _decide_residual(ctx, residual, lambda: _free_points(ctx, Hy, None))
    if outcome is None:
        # No constant (a particular implicit solution) or none could be eliminated: find points on
        # the curves numerically and require R = 0 there.
        if not consts and _is_zero_symbolic(ctx, residual, strong=False, seconds=0.5):
            outcome = _Outcome("satisfies", method="symbolic")
        else:
            numeric = _numeric_zero(ctx, residual, _curve_points(ctx, H, Hy))
            if numeric.zero is False:
                outcome = _Outcome("fails", method="numeric", residual=_display(ctx, residual))
            elif numeric.zero is True:
                outcome = _Outcome("satisfies", method="numeric")
            else:
                outcome = _Outcome("undecided", note=f"I found too few real points on {ctx.voice.your} curves to test it.")
    outcome.explicit, outcome.H, outcome.constants = False, H, consts
    if outcome.status == "fails" and outcome.residual is not None:
        outcome.note = note
    if outcome.status == "satisfies":
        outcome.rank = _rank_implicit(ctx, H, Hy, consts, derivs)
    return outcome


def _rank_implicit(ctx: _Context, H: sympy.Expr, Hy: sympy.Expr, consts: list, derivs: list) -> int | None:
    """Rank of d(y, y', ...)/dC along the curves: dy/dC = -H_C/H_y, then the chain rule."""
    if not consts:
        return 0
    free = _additive_constant(ctx, H, consts)
    if free is not None and H.has(sympy.Integral):
        # No point on the curves can be computed (H holds an integral), but none is needed: with
        # C = A/k additive, (others, C) -> (others, y) is a change of coordinates at fixed x
        # (dy/dC = k/H_y != 0), so the rank is 1 + the rank of d(y', ..., y^(n-1))/d(others),
        # those derivatives being functions of (x, y, others) at free points.
        others = [c for c in consts if c != free]
        if not others or ctx.n == 1:
            return 1
        rows = [[_d(phi, c) for c in others] for phi in derivs[: ctx.n - 1]]
        rest = _numeric_rank(ctx, rows, lambda: _free_points(ctx, Hy, None))
        return None if rest is None else 1 + rest
    dy = [-_d(H, c) / Hy for c in consts]
    rows = [dy]
    for phi in derivs[: max(0, ctx.n - 1)]:
        rows.append([_d(phi, c) + _d(phi, ctx.Y) * dyc for c, dyc in zip(consts, dy)])
    return _numeric_rank(ctx, rows, lambda: _curve_points(ctx, H, Hy, tries=8))
