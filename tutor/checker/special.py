"""Answers that are not a closed-form family: truncated series, "no solution", eigenvalue answers."""
from __future__ import annotations

from dataclasses import replace

import sympy

from tutor.checker.context import _Context, _Outcome
from tutor.checker.explicit import _rank_explicit, _substitute_explicit
from tutor.checker.ivp import _boundary_value, _engine_answer_tex, _engine_bvp, _ic_tex, _judge_ivp, _same
from tutor.checker.verdict import Verdict
from tutor.checker.zero import _d, _is_zero_symbolic, _numeric_zero
from tutor.problem import latex, textbook_latex

# ---------------------------------------------------------------------------
# Truncated series answers: y = a0 (1 + x^3/6 + ...) + a1 (x + ...) + O(x^8)


def _series_terms(expr: sympy.Expr, t: sympy.Symbol) -> dict | None:
    """``expr`` (expanded, in t) as {(exponent, log power): coefficient free of t}, or None when
    some term is not of the form ``c t^b ln^k t``."""
    out: dict = {}
    for term in sympy.Add.make_args(sympy.expand(expr)):
        if term == 0:
            continue
        coeff, rest = term.as_independent(t, as_Add=False)
        b, k = sympy.S.Zero, 0
        for factor in sympy.Mul.make_args(rest):
            base, e = factor.as_base_exp()
            if base == t and e.is_Rational:
                b += e
            elif base == sympy.log(t) and e.is_Integer and e > 0:
                k += int(e)
            elif factor != 1:
                return None
        out[(b, k)] = out.get((b, k), 0) + coeff
    return out


def _valuation(expr: sympy.Expr, t: sympy.Symbol) -> sympy.Expr | None:
    """The exponent of the lowest power of t in ``expr`` near t = 0 (logs ignored), None for 0."""
    expr = sympy.cancel(sympy.together(expr))
    if expr == 0:
        return None
    numerator, denominator = sympy.fraction(expr)
    values = []
    for part in (numerator, denominator):
        terms = _series_terms(part, t)
        if terms is None:
            lead = part.as_leading_term(t)
            terms = _series_terms(lead, t)
            if terms is None:
                raise ValueError("no leading power")
        values.append(min(b for (b, _), c in terms.items() if sympy.expand(c) != 0))
    return values[0] - values[1]


def _series_residual(ctx: _Context, p: sympy.Expr, x0: sympy.Expr, t: sympy.Symbol, below: sympy.Expr) -> dict:
    """The terms ``c t^b ln^k t`` (b < ``below``) of the residual of the polynomial part ``p``."""
    residual = _substitute_explicit(ctx, p).subs(ctx.X, x0 + t)
    terms = _series_terms(residual, t)
    if terms is None:  # e^x y, sin(x) y ...: expand the residual as a series first
        count = int(sympy.ceiling(below)) + 2
        terms = _series_terms(sympy.series(residual, t, 0, max(1, count)).removeO(), t)
        if terms is None:
            raise ValueError("the residual is not a power series")
    return {key: c for key, c in terms.items() if key[0] < below}


def _judge_series(ctx: _Context) -> Verdict:
    """A truncated series ``y = p(x) + O((x - x0)^M)`` is checked to the order it claims.

    The tail hidden in ``O((x - x0)^M)`` changes the residual only from the power ``M + d`` on,
    where ``d = min_k (v_k - k)`` and ``v_k`` is the lowest power of ``(x - x0)`` in the
    coefficient of ``y^(k)`` (linearised at p: ``d = -2`` at an ordinary point of a second-order
    equation, ``0`` for ``x^2 y'' + x p y' + q y`` at a regular singular point).  So the answer is
    right through its order exactly when every power below ``M + d`` of the residual of p vanishes
    — which fixes the coefficients of p up to ``(x - x0)^{M-1}``.  The constants are counted on p;
    initial conditions must be at the series' centre.
    """
    task = ctx.task
    # SymPy's Order arithmetic is slow (every xreplace of a sum with O(...) re-checks containment, seconds for a
    # Frobenius series): each O(...) becomes a placeholder symbol, and its order is carried by hand below
    details: dict = {"solutions": [textbook_latex(eq, task.function, task.variable) for eq in task.solutions],
                     "method": "series"}
    eq = task.solutions[0]
    orders = sorted(eq.atoms(sympy.Order), key=sympy.default_sort_key)
    marks = {o: sympy.Dummy(f"order{i}") for i, o in enumerate(orders)}
    lhs, rhs = ctx.real_form(eq.lhs.xreplace(marks)), ctx.real_form(eq.rhs.xreplace(marks))
    if rhs == ctx.unknown:
        lhs, rhs = rhs, lhs
    if len(task.solutions) != 1 or lhs != ctx.unknown or rhs.has(ctx.unknown):
        return Verdict("undecided", f"A truncated series is checked when it is written as "
                          f"${latex(ctx.Y)} = \\dots + O({latex(ctx.X)}^N)$, one series.", details)
    points = {(o.variables, o.point) for o in orders}
    if len(points) != 1 or next(iter(points))[0] != (task.variable,):
        return Verdict("undecided", "I could not read the order of the series.", details)
    x0 = ctx.real_form(next(iter(points))[1][0])
    t = sympy.Dummy("t", positive=True)
    unreadable = Verdict("undecided", "A truncated series must be a sum of powers of "
                            f"${latex(ctx.X - x0)}$ (and logarithms) plus its $O$ term.", details)
    # in powers of t = x - x0; a term c t^b O(t^m) is O(t^(b + m))
    ok, expanded = ctx.clock.attempt(sympy.expand, rhs.xreplace({ctx.X: x0 + t}), seconds=max(0.5, ctx.clock.left() / 4))
    if not ok:
        return unreadable
    exponents = {marks[o]: sympy.expand(o.expr.xreplace({task.variable: x0 + t})).replace(
        sympy.log, lambda a: sympy.S.One).as_coeff_exponent(t)[1] for o in orders}
    M = None
    kept = []
    for term in sympy.Add.make_args(expanded):
        present = [m for m in exponents if term.has(m)]
        if not present:
            kept.append(term)
            continue
        factor = _series_terms(term.xreplace({m: 1 for m in present}), t)
        if len(present) != 1 or not factor or not sympy.Poly(term, present[0]).degree() == 1:
            return unreadable
        reach = min(b for b, _ in factor) + exponents[present[0]]
        M = reach if M is None else min(M, reach)
    p_terms = _series_terms(sympy.Add(*kept), t)
    if p_terms is None or M is None or not M.is_Rational:
        return unreadable
    # the terms beyond the order are inside O(...) already
    p = sympy.Add(*[c * t ** b * sympy.log(t) ** k for (b, k), c in p_terms.items() if b < M]).subs(t, ctx.X - x0)
    order_tex = latex((ctx.X - x0) ** M)
    details["series_order"] = order_tex
    frozen, dsyms, _ = _freeze_linear(ctx)
    try:
        values = {d: _d(p, ctx.X, k) for k, d in enumerate(dsyms)}
        shifts = []
        for k, d in enumerate(dsyms):
            coefficient = sympy.diff(frozen, d).xreplace(values).subs(ctx.X, x0 + t)
            v = _valuation(coefficient, t)
            if v is not None:
                shifts.append(v - k)
        below = M + min(shifts)
        ok, terms = ctx.clock.attempt(_series_residual, ctx, p, x0, t, below, seconds=max(0.5, ctx.clock.left() / 2))
    except (ValueError, NotImplementedError, TypeError, sympy.PolynomialError):
        ok, terms = False, None
    if not ok:
        return Verdict("undecided", f"I could not expand the residual of the series through "
                f"order ${order_tex}$.", details)
    for key in sorted(terms, key=lambda key: (key[0], key[1])):
        value = sympy.cancel(sympy.expand(terms[key]))
        if value != 0 and _is_zero_symbolic(ctx, value, strong=True, seconds=0.5) is not True:
            b, k = key
            power = sympy.Symbol(latex(ctx.X - x0) if x0 != 0 else latex(ctx.X)) ** b * sympy.log(ctx.X - x0) ** k
            details["residual"] = f"{latex(value)} \\cdot {latex(power)}"
            return Verdict("wrong", f"Checked through order ${order_tex}$: substituting the series leaves "
                              f"${latex(value * power)}$ (and possibly more) in ${ctx.ode_tex}$, where every "
                              f"power below ${latex(power.as_base_exp()[0] ** below)}$ must cancel; so a "
                              f"coefficient of {ctx.voice.answer} is wrong.", details)
    consts = [c for c in ctx.C if p.has(c)]
    rank = _rank_explicit(ctx, p, consts)
    names = sorted(c.name for c in consts)
    details.update(constants=names, constants_expected=0 if task.ics else ctx.n, constants_found=rank or 0)
    lowest = sympy.Symbol(latex(ctx.X - x0) if x0 != 0 else latex(ctx.X)) ** below
    through = (f"It satisfies the equation through order ${order_tex}$ (checked as a truncated series: the "
               f"residual has no term below ${latex(lowest)}$)")
    if task.ics:
        for _, point, _ in task.ics:
            if _same(ctx, ctx.real_form(point), x0) is not True:
                return Verdict("undecided", through + f", but it is a series about ${latex(ctx.X)} = {latex(x0)}$ and a "
                                  f"condition is given at ${latex(ctx.X)} = {latex(point)}$: I cannot check it.", details)
        if any(k >= M for k, _, _ in task.ics):
            return Verdict("undecided", through + ", but its order is too low to show the "
                    "initial conditions.", details)
        outcome = _Outcome("satisfies", method="series", f=p, constants=consts, rank=rank, explicit=True)
        result = _judge_ivp(ctx, [outcome], details["solutions"], details)
        return replace(result, reason=result.reason.replace("It satisfies the equation", through, 1)
                       .replace("it satisfies the equation", through[:1].lower() + through[1:], 1))
    if rank is None:
        return Verdict("undecided", through + ", but I could not count its independent constants.", details)
    if rank >= ctx.n:
        return Verdict("correct", through + f" and has {rank} independent arbitrary constant{'s' if rank != 1 else ''}: "
                                    "this is the general solution as a series.", details)
    return Verdict("incomplete", through + f", but it is not the general solution: that has {ctx.n} arbitrary "
                                f"constant{'s' if ctx.n != 1 else ''}; {ctx.voice.yours} has {rank}.", details)


def _freeze_linear(ctx: _Context) -> tuple[sympy.Expr, list[sympy.Symbol], None]:
    """The equation with y, y', ..., y^(n) as symbols (for the coefficients of its linearisation)."""
    dsyms = [sympy.Dummy(f"d{k}") for k in range(ctx.n + 1)]
    frozen = ctx.ode
    for k in range(ctx.n, 0, -1):
        frozen = frozen.subs(sympy.Derivative(ctx.unknown, (ctx.X, k)), dsyms[k])
    return frozen.subs(ctx.unknown, dsyms[0]), dsyms, None


def _judge_no_solution(ctx: _Context) -> Verdict:
    from tutor.engine.steps import check_step

    if not _boundary_value(ctx.task):
        return Verdict("undecided", "The checker judges \"no solution\" only for a boundary value problem (conditions at "
                          "two or more points); this problem is not one.", {"claim": "no_solution"})
    derivation = _engine_bvp(ctx)
    details = {"claim": "no_solution", "method": "symbolic"}
    if derivation is None:
        return Verdict("undecided", "I could not decide whether this boundary value problem has a solution.", details)
    if derivation.result == "no_solution":
        last = derivation.steps[-1]
        ok, checked = ctx.clock.attempt(check_step, last, ctx.task.problem(), seconds=min(3.0, ctx.clock.left() / 2))
        if not ok or not checked.ok:
            return Verdict("undecided", "I could not confirm that the conditions contradict each other.", details)
        details["proof"] = last.latex
        return Verdict("correct", f"Right: the boundary conditions contradict each other (${last.latex}$), so there is no "
                          "solution.", details)
    if derivation.result == "eigenvalues":
        return Verdict("wrong", "The conditions are homogeneous, so $y = 0$ always solves the problem; for the eigenvalues "
                          f"there are nontrivial solutions too. {derivation.statement}", details)
    if not derivation.solutions:
        return Verdict("undecided", "I could not decide whether this boundary value problem has a solution.", details)
    found = _engine_answer_tex(ctx, derivation)
    details["solution"] = found
    many = " (infinitely many: every value of the constant)" if derivation.constants else ""
    return Verdict("wrong", f"This boundary value problem has a solution{many}: ${found}$ satisfies the equation and "
                      "every condition.", details)


def _eigen_index(start: int) -> sympy.Symbol:
    return sympy.Symbol("n", integer=True, positive=True) if start >= 1 else \
        sympy.Symbol("n", integer=True, nonnegative=True)


def _zero_for_every_index(ctx: _Context, expr: sympy.Expr, n: sympy.Symbol | None, start: int,
                          tries: int = 6) -> tuple[bool | None, int | None, str]:
    """Is ``expr`` zero for every integer n >= start (every x)?  (answer, a failing n, method).

    The checker's zero test: the cheap exact simplification with n an integer, then at the integers
    start, ..., start + tries - 1 the same test at random points (a nonzero value disproves)."""
    if _is_zero_symbolic(ctx, expr, strong=False, seconds=min(1.0, ctx.clock.left() / 4)):
        return True, None, "symbolic"
    values = [start + i for i in range(tries)] if n is not None else [None]
    for k in values:
        at = expr.subs(n, k) if n is not None else expr
        if _is_zero_symbolic(ctx, at, strong=False, seconds=min(0.5, ctx.clock.left() / 4)):
            continue
        numeric = _numeric_zero(ctx, at, (ctx.random_point() for _ in range(12)))
        if numeric.zero is False or numeric.partial:
            return False, k, "numeric"
        if numeric.zero is None and not _is_zero_symbolic(ctx, at, strong=True,
                                                          seconds=min(1.0, ctx.clock.left() / 4)):
            return None, k, "numeric"
    return True, None, "numeric"


def _identically_zero_at(ctx: _Context, function: sympy.Expr, n: sympy.Symbol | None, start: int) -> int | bool | None:
    """The first index k >= start (of a few) where ``function`` is 0 for every x (True when there
    is no index), False when it is not identically zero at any of them."""
    for k in ([start + i for i in range(6)] if n is not None else [None]):
        at = function.subs(n, k) if n is not None else function
        if _is_zero_symbolic(ctx, at, strong=False, seconds=min(0.5, ctx.clock.left() / 4)):
            return k if n is not None else True
        numeric = _numeric_zero(ctx, at, (ctx.random_point() for _ in range(12)))
        if numeric.zero is True and not numeric.partial:
            return k if n is not None else True
    return False


def _family_tex(ctx: _Context, name: str, f, value, function) -> str:
    sub = "n" if f.index is not None else str(f.start)
    parts = []
    if value is not None:
        parts.append(f"{name}_{{{sub}}} = {ctx.tex(value)}")
    if function is not None:
        parts.append(f"{ctx.tex(ctx.Y)}_{{{sub}}} = {ctx.tex(function)}")
    return ",\\ ".join(parts)


def _judge_eigen(ctx: _Context) -> Verdict:
    from tutor.engine.methods.boundary_value import N, eigen_analysis, eigen_parameter

    task = ctx.task
    problem = task.problem()
    details: dict = {"claim": "eigen"}
    if eigen_parameter(problem) is None:
        return Verdict("undecided", "This is an eigenvalue answer, but the problem is not an eigenvalue problem the tutor solves "
                          "(y'' + lambda y = 0 with y or y' zero at two points).", details)
    ok, analysis = ctx.clock.attempt(eigen_analysis, problem, seconds=min(6.0, ctx.clock.left() * 0.5))
    if not ok:
        return Verdict("undecided", "I could not find the eigenvalues of this problem in time.", details)
    engine_pairs = analysis[1]
    P = ctx.params[task.parameters[0]]
    name = latex(P)
    methods = set()
    families = []
    for f in task.eigen:
        n = _eigen_index(f.start) if f.index is not None else None
        to_n = {f.index: n} if f.index is not None else {}
        value = ctx.real_form(f.value).xreplace(to_n) if f.value is not None else None
        function = ctx.real_form(f.function).xreplace(to_n) if f.function is not None else None
        families.append((f, n, value, function))
        shown = _family_tex(ctx, name, f, value, function)
        if value is None:
            return Verdict("undecided", f"${shown}$: give each eigenfunction with its eigenvalue "
                    f"(${name}_n = \\dots$).", details)
        if function is None:
            continue
        where = lambda k: f" (for $n = {k}$)" if k is not None and n is not None else ""
        zero_at = _identically_zero_at(ctx, function, n, f.start)
        if zero_at is not False:
            return Verdict("wrong", f"${shown}$: an eigenfunction must not be zero{where(zero_at)}.", details)
        ode = ctx.ode.xreplace({P: value})
        ok, residual = ctx.clock.attempt(_substitute_explicit, ctx, function, ode, seconds=min(2.0, ctx.clock.left() / 4))
        if not ok:
            return Verdict("undecided", "Differentiating the eigenfunctions took too long.", details)
        holds, k, method = _zero_for_every_index(ctx, residual, n, f.start)
        methods.add(method)
        if holds is not True:
            verdict = "wrong" if holds is False else "undecided"
            return Verdict(verdict, f"${shown}$: the eigenfunction does not satisfy the equation with ${name} = {ctx.tex(value)}$"
                              f"{where(k)}." if holds is False else
                              f"I could not decide whether ${shown}$ satisfies the equation.", details)
        for ic in task.ics:
            order, x0, v = ic
            at = _d(function, ctx.X, order).subs(ctx.X, ctx.real_form(x0)) - ctx.real_form(v)
            holds, k, method = _zero_for_every_index(ctx, at, n, f.start)
            methods.add(method)
            if holds is not True:
                return Verdict("wrong" if holds is False else "undecided",
                               f"${shown}$: the eigenfunction does not meet ${_ic_tex(ctx, ic)}${where(k)}.", details)
    # Every eigenvalue the answer gives must be the engine's (pairs checked above are), and every one
    # the engine finds must be among the answer's: the first 8 of each family against 12 of each given.
    def values(expr, symbol, start, count):
        return [expr] if symbol is None else [expr.subs(symbol, start + i) for i in range(count)]

    def engine_values(count):
        return [(ctx.real_form(lam.subs(N, i)), y.subs(N, i)) for lam, y in engine_pairs
                for i in (range(1, count + 1) if lam.has(N) or y.has(N) else (0,))]

    known = [lam for lam, _ in engine_values(40)]
    for f, n, value, function in families:
        if function is not None:
            continue
        for v in values(value, n, f.start, 6):
            if not any(_same(ctx, lam, v) for lam in known):
                return Verdict("wrong", f"${name} = {ctx.tex(v)}$ is not an eigenvalue of this problem: "
                        "with it the conditions allow only $y = 0$.", details)
    given = [v for f, n, value, _ in families for v in values(value, n, f.start, 12)]
    for lam, y in engine_values(8):
        if not any(_same(ctx, lam, v) for v in given):
            return Verdict("incomplete", f"Every pair given is an eigenpair, but the eigenvalue ${name} = {ctx.tex(lam)}$ "
                              f"(with ${ctx.tex(ctx.Y)} = {latex(y)}$) is missing.", {**details, "missing": latex(lam)})
    details["method"] = "numeric" if "numeric" in methods else "symbolic"
    if any(function is None for _, _, _, function in families):
        return Verdict("incomplete", "These are the eigenvalues, but the eigenfunctions are missing.", details)
    return Verdict("correct", "These are the eigenvalues and eigenfunctions: each eigenfunction solves the equation with its "
                      "eigenvalue and meets both conditions, and no eigenvalue is missing.", details)
