"""Initial and boundary conditions: do they hold, which constants do they give, is a family the answer.

Also the engine's boundary value method as the reference for boundary value problems
(:func:`_engine_bvp`), which :mod:`tutor.checker.special` uses for "no solution" answers too.
"""
from __future__ import annotations

import sympy

from tutor.checker.context import _Context, _Outcome, _random_value, _Task
from tutor.checker.implicit import _implicit_derivatives, _solve_for
from tutor.checker.verdict import Verdict
from tutor.checker.zero import _TOL, _classify, _d, _is_zero_symbolic, _num, _numeric_zero
from tutor.problem import conditions_at_several_points

# ---------------------------------------------------------------------------
# Initial conditions


def _judge_ivp(ctx: _Context, outcomes: list[_Outcome], sol_tex: list[str], details: dict) -> Verdict:
    task = ctx.task
    name = sympy.latex(sympy.Symbol(task.function.__name__))
    many = len(outcomes) > 1
    families = 0
    for i, o in enumerate(outcomes):
        prefix = f"The solution ${sol_tex[i]}$: " if many else ""
        if (o.rank or 0) > 0 and _boundary_value(task) and _conditions_hold_for_every_constant(ctx, o):
            families += 1  # a boundary value problem with infinitely many solutions: the family is the answer
            continue
        if (o.rank or 0) > 0:
            found = _constants_from_ics(ctx, o)
            if found == "none":
                details["failed_condition"] = ", ".join(_ic_tex(ctx, ic) for ic in task.ics)
                return Verdict("wrong", _sentence(prefix, f"no value of the constant{'s' if len(o.constants) > 1 else ''} "
                                  f"{_names(o.constants)} satisfies ${details['failed_condition']}$."), details)
            hint = ""
            if isinstance(found, dict) and found:
                hint = " (they give " + ", ".join(f"${sympy.latex(k)} = {sympy.latex(v)}$"
                                                 for k, v in found.items()) + ")"
            conditions = f"initial condition{'s' if len(task.ics) > 1 else ''}"
            use = (f"the {conditions} {'were' if len(task.ics) > 1 else 'was'} not used" if ctx.voice.model
                   else f"use the {conditions}")
            return Verdict("incomplete", _sentence(prefix, f"it satisfies the equation, but the constant"
                              f"{'s' if len(o.constants) > 1 else ''} {_names(o.constants)} "
                              f"{'are' if len(o.constants) > 1 else 'is'} still free: {use}{hint}."), details)
        if o.partial and o.explicit and o.residual_expr is not None:
            # Valid on part of the line only: it must hold on both sides of the initial point.
            x0 = ctx.real_form(task.ics[0][1])
            for side in (1, -1):
                near = {ctx.X: x0 + side * sympy.Rational(1, 1000),
                        **{p: _random_value(ctx.rng, "parameter") for p in ctx.P}}
                if _classify(o.residual_expr, near, o.residual_expr.has(sympy.I)) == "nonzero":
                    details["failed_condition"] = _ic_tex(ctx, task.ics[0])
                    return Verdict("wrong", _sentence(prefix, f"it satisfies the equation only on part of the line, "
                                                        f"and not next to ${sympy.latex(ctx.X)} = "
                                                        f"{sympy.latex(x0)}$ where the initial condition "
                                                        f"is given."), details)
        for ic in task.ics:
            state, got = _ic_holds(ctx, o, ic)
            if state is False:
                details["failed_condition"] = _ic_tex(ctx, ic)
                primes = "'" * ic[0]
                point = sympy.latex(ic[1])
                return Verdict("wrong", _sentence(prefix, f"it satisfies the equation, but it gives "
                                  f"${name}{primes}({point}) = {got}$, not ${sympy.latex(ic[2])}$."), details)
            if state is None:
                details["failed_condition"] = _ic_tex(ctx, ic)
                return Verdict("undecided", _sentence(prefix, f"it satisfies the equation, but I could not decide whether "
                                  f"${_ic_tex(ctx, ic)}$ holds ({got})."), details)
    domain = ""
    if details.get("domain_note"):
        domain = " It holds on an interval around the initial point, not on the whole real line."
    if families:
        details["infinitely_many"] = True
        return Verdict("correct", "It satisfies the equation and every boundary condition for every value of "
                          f"{_names(sorted({c for o in outcomes for c in o.constants}, key=str))}: this boundary "
                          "value problem has infinitely many solutions." + domain, details)
    if _boundary_value(task) and all((o.rank or 0) == 0 for o in outcomes):
        # One solution of a boundary value problem that has infinitely many is not the answer.
        derivation = _engine_bvp(ctx)
        if derivation is not None and derivation.solutions and derivation.constants:
            family = _engine_answer_tex(ctx, derivation)
            details.update(infinitely_many=True, family=family)
            return Verdict("incomplete", "It satisfies the equation and every boundary condition, but it is only one of "
                              f"infinitely many solutions: every ${family}$ does ({_names(list(derivation.constants))} "
                              "arbitrary)." + domain, details)
        if derivation is not None and derivation.result == "eigenvalues":
            details["eigenvalues"] = derivation.statement
            return Verdict("incomplete", "It satisfies the equation and both conditions, but the conditions are homogeneous, so "
                              "$y = 0$ always does; the question is for which values of the parameter there are "
                              f"nontrivial solutions. {derivation.statement}", details)
    return Verdict("correct", "It satisfies the equation and every initial condition." + domain, details)


def _boundary_value(task: _Task) -> bool:
    return conditions_at_several_points(point for _, point, _ in task.ics)


def _conditions_hold_for_every_constant(ctx: _Context, o: _Outcome) -> bool:
    """Every condition holds identically in the answer's free constants (explicit answers only)."""
    if not o.explicit or o.f is None:
        return False
    for order, x0, v in ctx.task.ics:
        ok, got = ctx.clock.attempt(lambda: _value_at(ctx, _d(o.f, ctx.X, order), ctx.real_form(x0)),
                                    seconds=min(2.0, ctx.clock.left() / 3))
        if not ok:
            return False
        difference = got - ctx.real_form(v)
        if _is_zero_symbolic(ctx, difference, strong=True, seconds=min(1.0, ctx.clock.left() / 4)):
            continue
        numeric = _numeric_zero(ctx, difference, (ctx.random_point() for _ in range(12)))
        if numeric.zero is not True or numeric.partial:
            return False
    return True


def _sentence(prefix: str, rest: str) -> str:
    """``prefix`` + ``rest``, with the first letter capitalised when there is no prefix."""
    return prefix + rest if prefix else rest[:1].upper() + rest[1:]


def _names(consts: list) -> str:
    return ", ".join(f"${sympy.latex(c)}$" for c in consts)


def _ic_tex(ctx: _Context, ic: tuple) -> str:
    order, point, value = ic
    name = sympy.latex(sympy.Symbol(ctx.task.function.__name__))
    return f"{name}{chr(39) * order}({sympy.latex(point)}) = {sympy.latex(value)}"


def _value_at(ctx: _Context, expr: sympy.Expr, x0: sympy.Expr) -> sympy.Expr:
    value = expr.subs(ctx.X, x0)
    if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        value = sympy.limit(expr, ctx.X, x0)
    return value


def _same(ctx: _Context, a: sympy.Expr, b: sympy.Expr) -> bool | None:
    """Exactly equal (True), clearly different (False), or unknown (None)."""
    diff = a - b
    if _is_zero_symbolic(ctx, diff, strong=False, seconds=0.5):
        return True
    point = {p: _random_value(ctx.rng, "parameter") for p in ctx.P}
    z = _num(diff, point)
    if z is None:
        return None
    if abs(z) > _TOL * max(1.0, abs(_num(a, point) or 0), abs(_num(b, point) or 0)):
        return False
    if _is_zero_symbolic(ctx, diff, strong=True, seconds=min(1.0, ctx.clock.left() / 3)):
        return True
    return True  # equal to 30 digits at a number (parameters random): accepted numerically


def _ic_holds(ctx: _Context, o: _Outcome, ic: tuple) -> tuple[bool | None, str]:
    order, x0, v = ic
    x0, v = ctx.real_form(x0), ctx.real_form(v)
    if o.explicit:
        ok, got = ctx.clock.attempt(lambda: _value_at(ctx, _d(o.f, ctx.X, order), x0),
                                    seconds=min(2.0, ctx.clock.left() / 3))
        if not ok:
            return None, "evaluating it took too long"
        state = _same(ctx, got, v)
        ok, shown = ctx.clock.attempt(sympy.simplify, got, seconds=0.5)
        return state, sympy.latex(shown if ok else got)
    # Implicit: y(x0) = y0 must lie on the curve; y'(x0) from the slope there.
    y0 = next((val for (k, p, val) in ctx.task.ics if k == 0 and ctx.real_form(p) == x0), None)
    if y0 is None:
        return None, "it needs y at that point"
    y0 = ctx.real_form(y0)
    if order == 0:
        lhs = o.H.xreplace({ctx.X: x0, ctx.Y: y0})
        state = _same(ctx, lhs, sympy.Integer(0))
        if state is False:
            return False, _implicit_miss(ctx, o, x0, v)
        return state, sympy.latex(v)
    derivs = _implicit_derivatives(ctx, o.H)
    got = derivs[order - 1].xreplace({ctx.X: x0, ctx.Y: y0})
    state = _same(ctx, got, v)
    ok, shown = ctx.clock.attempt(sympy.simplify, got, seconds=0.5)
    return state, sympy.latex(shown if ok else got)


def _implicit_miss(ctx: _Context, o: _Outcome, x0: sympy.Expr, v: sympy.Expr) -> str:
    """For "y(0) = 1, not 3" from an implicit relation: the value(s) of y the relation gives at x0."""
    at = o.H.xreplace({ctx.X: x0})
    ok, sols = ctx.clock.attempt(_solve_for, at, ctx.Y, seconds=0.5)
    if ok and sols:
        return r" \text{ or } ".join(sympy.latex(s) for s in sols[:3])
    return r"\text{a value other than }" + sympy.latex(v)


def _constants_from_ics(ctx: _Context, o: _Outcome) -> dict | str | None:
    """The constants the ICs give ({C: 3}), "none" when no value works, None when unknown."""
    eqs = []
    for order, x0, v in ctx.task.ics:
        x0, v = ctx.real_form(x0), ctx.real_form(v)
        if o.explicit:
            eqs.append(_d(o.f, ctx.X, order).subs(ctx.X, x0) - v)
        elif order == 0:
            eqs.append(o.H.xreplace({ctx.X: x0, ctx.Y: v}))
    if not eqs:
        return None
    ok, sol = ctx.clock.attempt(lambda: sympy.solve(eqs, o.constants, dict=True),
                                seconds=min(2.0, ctx.clock.left() / 3))
    if not ok:
        return None
    if sol == []:
        # solve() also returns [] when it merely fails on a transcendental system: claim "no value
        # works" only for a system linear in the constants, where [] really means inconsistent.
        try:
            linear = all(sympy.Poly(e, *o.constants).total_degree() <= 1 for e in eqs)
        except sympy.PolynomialError:
            linear = False
        return "none" if linear else None
    return sol[0] if len(sol) == 1 and all(not v.free_symbols & set(o.constants) for v in sol[0].values()) else None


# ---------------------------------------------------------------------------
# Boundary value problems: "no solution", eigenvalue answers, one member of a family
#
# What the engine's boundary value method (tutor/engine/methods/boundary_value.py) establishes is
# the reference: it proves "no solution" (a combination of the conditions gives 0 = c, c != 0; the
# step is checked here again), finds the eigenpairs of an eigenvalue problem, and says whether a
# solvable problem has one solution or infinitely many.  When it cannot tell (not its kind of
# problem, out of time) the checker says "undecided", never a guess.


def _engine_bvp(ctx: _Context, seconds: float = 6.0):
    """The boundary value method's derivation of the problem (None: not one it solves, or no time)."""
    from tutor.engine.registry import get

    method = get("boundary_value_problem")
    problem = ctx.task.problem()
    ok, matches = ctx.clock.attempt(method.matches, problem, seconds=min(1.0, ctx.clock.left() / 4))
    if not ok or not matches:
        return None
    ok, derivation = ctx.clock.attempt(method.derive, problem, seconds=min(seconds, ctx.clock.left() * 0.6))
    return derivation if ok else None


def _engine_answer_tex(ctx: _Context, derivation) -> str:
    return ", ".join(ctx.tex(ctx.real_form(eq)) for eq in derivation.solutions)
