"""Homogeneous equations ``y' = F(y/x)`` (homogeneous of degree 0), solved with ``v = y/x``.

``y = v x`` gives ``y' = v + x v'``, so ``x v' = F(v) - v`` separates; integrate, then
put ``v = y/x`` back.  Roots of ``F(v) = v`` are the lost straight-line solutions ``y = r x``.

Also the generalized (weighted) kind, ``f(tx, t^m y) = t^{m-1} f(x, y)`` for a rational
``m`` other than 0 and 1 (SymPy's "separable_reduced"): ``y' = x^{m-1} F(y/x^m)``, and ``y = u x^m``
gives ``x u' = F(u) - m u``, which separates the same way.
"""
from __future__ import annotations

import random

import sympy

from tutor.engine.base import (CannotDerive, Derivation, Method, Practice, conclude, make_problem,
                               normal_form, to_symbol, vanishes, y_symbol)
from tutor.engine.methods.common import C, explicit_step, normal_form_steps, separate_and_integrate, solves_step
from tutor.engine.steps import Check, Step, tex
from tutor.engine.timebox import attempt
from tutor.problem import Answer, InitialCondition, Problem

V = sympy.Symbol("v")
U_SYMBOL = sympy.Symbol("u")


def ratio_form(problem: Problem) -> sympy.Expr | None:
    """F(v) with ``y' = F(y/x)``, or None when f(x, y) is not homogeneous of degree 0."""
    f = normal_form(problem)
    if f is None:
        return None
    x, Y = problem.variable, y_symbol(problem)
    f = to_symbol(f, problem)
    if not f.has(Y) or not f.has(x):
        return None  # y' = g(x) or autonomous: separable, not worth v = y/x
    if f.free_symbols - {x, Y} - set(problem.parameters):
        return None
    # Textbooks take x > 0 here, so sqrt(x^2 + y^2)/x = sqrt(1 + v^2).
    xp = sympy.Symbol(x.name, positive=True)
    F = sympy.simplify(f.subs(Y, V * x).subs(x, xp))
    if F.has(xp):
        return None
    return sympy.factor(sympy.cancel(F)) if F.is_rational_function(V) else F


def _method(method_id: str) -> Method:
    from tutor.engine.registry import get

    return get(method_id)


def weight_form(problem: Problem) -> tuple[sympy.Rational, sympy.Expr] | None:
    """(m, F(u)) with ``y' = x^{m-1} F(y/x^m)``, m rational and not 0 or 1, or None.

    Weighted homogeneity ``f(tx, t^m y) = t^{m-1} f`` means ``x f_x + m y f_y = (m - 1) f`` (Euler's
    relation), so ``m = -(f + x f_x)/(y f_y - f)`` must come out a constant; F is then checked to
    be free of x.
    """
    f = normal_form(problem)
    if f is None:
        return None
    x, Y = problem.variable, y_symbol(problem)
    f = to_symbol(f, problem)
    if not f.has(Y) or not f.has(x) or f.free_symbols - {x, Y} - set(problem.parameters):
        return None
    if not f.is_rational_function(x, Y):
        return None  # kept to rational f: the test below is exact there
    denominator = sympy.cancel(Y * sympy.diff(f, Y) - f)
    if denominator == 0:
        return None  # f = k y: separable
    m = sympy.cancel(-(f + x * sympy.diff(f, x)) / denominator)
    if not m.is_Rational or m in (0, 1):
        return None
    F = sympy.cancel((x ** (1 - m) * f.subs(Y, V * x ** m)).subs(x, sympy.Symbol(x.name, positive=True)))
    if F.free_symbols - {V} - set(problem.parameters):
        return None
    return m, sympy.factor(F)


def _first_integral(relation: sympy.Eq, problem: Problem) -> sympy.Eq:
    """``L(x, y) = C + g(x)`` -> ``Phi(x, y) = C``, simplified for x, y > 0 when that is shorter."""
    if not relation.rhs.has(C) or (relation.rhs - C).has(C):
        return relation
    x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
    xp, yp = sympy.Symbol(x.name, positive=True), sympy.Symbol(Y.name, positive=True)
    phi = (relation.lhs - relation.rhs + C).subs(y, yp).subs(x, xp)
    finished, simpler = attempt(1.0, lambda e: sympy.simplify(sympy.expand_log(e, force=True)), phi)
    if not finished:
        return relation
    simpler = simpler.subs({xp: x, yp: y})
    # additive numbers (even i*pi/2 from the log of a negative) join the constant C
    simpler = simpler.as_independent(x, y, as_Add=True)[1]
    numerator, denominator = sympy.fraction(sympy.together(simpler))
    if numerator.is_number and denominator.has(x, y):
        simpler = denominator  # 2/(x + 2y e^{x/y}) = C  is  x + 2y e^{x/y} = C
    coefficient, rest = simpler.as_coeff_Mul()
    if isinstance(rest, sympy.log):
        simpler = sympy.expand(rest.args[0])  # a ln B = C  is  B = e^{C/a}, a new constant
    candidate = sympy.Eq(simpler, C)
    return candidate if len(str(candidate)) < len(str(relation)) else relation


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """Combine fractions inside logs and roots after putting v = y/x back."""
    return expr.replace(lambda e: isinstance(e, (sympy.log, sympy.Pow)) and e.args[0].has(sympy.Add),
                        lambda e: e.func(sympy.factor(sympy.together(e.args[0])), *e.args[1:]))


def _tidy_positive(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    """Simplify taking ``var > 0`` (as textbooks do for v = y/x): sqrt(1/u^2) is 1/u."""
    if expr.is_rational_function(var):
        return sympy.factor(sympy.cancel(expr))
    positive = sympy.Symbol(var.name, positive=True)
    return sympy.simplify(expr.subs(var, positive)).subs(positive, var)


class Homogeneous(Method):
    id = "homogeneous"
    name = "Homogeneous equation (substitute v = y/x)"
    hint_pattern = (r"v\s*=\s*\\?(frac\{)?[a-z]\}?\s*/?\s*\{?[a-z]\}?|homogeneous of degree", None)
    orders = (1,)

    def matches(self, problem: Problem) -> bool:
        F = ratio_form(problem)
        if F is None:
            form = weight_form(problem)
            # a Bernoulli equation, or a Riccati equation with a particular solution to be found, is
            # solved the textbook's way by its own method (y' = y^2 - 2/x^2 has weights too)
            return (form is not None and not vanishes(form[1] - form[0] * V)
                    and not any(_method(m).match(problem) is not None for m in ("bernoulli", "riccati")))
        return not vanishes(F - V)

    def hint(self, problem: Problem) -> str:
        if ratio_form(problem) is None and (form := weight_form(problem)) is not None:
            m = form[0]
            return (f"The equation is homogeneous of degree ${sympy.latex(m - 1)}$ in the generalized sense "
                    f"(${sympy.latex(problem.variable)}$ has weight 1, $y$ weight ${sympy.latex(m)}$): substitute "
                    f"$y = {sympy.latex(U_SYMBOL * problem.variable ** m)}$; "
                    "the equation in u separates.")
        return ("The equation is homogeneous of degree 0, $y' = F(y/x)$: substitute $v = y/x$, so "
                "$y = v x$ and $y' = v + x v'$; the equation in v separates.")

    def derive(self, problem: Problem) -> Derivation:
        F = ratio_form(problem)
        if F is None:
            form = weight_form(problem)
            if form is None:
                raise CannotDerive("not homogeneous of degree 0, nor in the generalized sense")
            return self._by_weight(problem, *form)
        x, Y = problem.variable, y_symbol(problem)
        f, steps, ode = normal_form_steps(problem)
        t = sympy.Symbol("t", positive=True)
        fy = to_symbol(f, problem)
        steps.append(Step("Check homogeneity",
                          "Replacing x by tx and y by ty leaves the right side unchanged, so it depends on y/x only.",
                          latex=f"f(tx, ty) = f(x, y) = {tex(F, x)},\\quad v = \\frac{{y}}{{x}}",
                          check=Check.IDENTITY,
                          after=sympy.Eq(fy.subs({x: t * x, Y: t * Y}, simultaneous=True), fy, evaluate=False)))
        try:
            return self._by_v(problem, F, steps, ode)
        except CannotDerive as first:
            # The v-integral has no closed form: the other substitution, x = u y, sometimes does.
            try:
                return self._by_u(problem, F, steps, str(first))
            except CannotDerive:
                raise first from None

    def _by_v(self, problem: Problem, F: sympy.Expr, steps: list[Step], ode: sympy.Eq) -> Derivation:
        """y = v x: x v' = F(v) - v separates in v and x."""
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        v = sympy.Function("v")(x)
        steps = list(steps)
        v_ode = sympy.Eq(v + x * sympy.Derivative(v, x), F.subs(V, v))
        steps.append(Step("Substitute v = y/x",
                          "With $y = v x$, the product rule gives $y' = v + x v'$.",
                          latex=tex(v_ode, x), check=Check.SUBSTITUTION, before=ode, after=v_ode,
                          substitution={y: x * v}))
        G = _tidy_positive(F - V, V)
        if G == 0:
            raise CannotDerive("F(v) = v: the equation is y' = y/x, separable")
        separable = sympy.Eq(sympy.Derivative(v, x), G.subs(V, v) / x)
        steps.append(Step("Isolate v'", "Subtract v and divide by x.",
                          latex=tex(separable, x), check=Check.EQUIVALENT, before=v_ode, after=separable))
        more, implicit_v, lost_v = separate_and_integrate(separable, v, x, 1 / x, G, V)
        steps += more
        implicit = sympy.Eq(_tidy(implicit_v.lhs.subs(v, y / x)), _tidy(implicit_v.rhs.subs(v, y / x)))
        implicit = _first_integral(implicit, problem)
        steps.append(solves_step("Back-substitute", "Put $v = y/x$ back.", implicit, problem.equation, y, x))
        lost = tuple(sympy.Eq(y, eq.rhs * x) for eq in lost_v)
        explicit_steps, solutions, _ = explicit_step(implicit, problem.equation, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], lost=lost, hint=self.hint(problem))

    def _by_weight(self, problem: Problem, m: sympy.Rational, F: sympy.Expr) -> Derivation:
        """y = u x^m: x u' = F(u) - m u separates in u and x (generalized homogeneous)."""
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        f, steps, ode = normal_form_steps(problem)
        fy = to_symbol(f, problem)
        lam = sympy.Symbol("lambda", positive=True)
        power = x ** m
        xs, ms, m1 = sympy.latex(x), sympy.latex(m), sympy.latex(m - 1)
        u_of_y = sympy.latex(Y * x ** -m)
        steps.append(Step("Check the weights",
                          f"Replacing ${xs}$ by $\\lambda {xs}$ and $y$ by $\\lambda^{{{ms}}} y$ multiplies the right "
                          f"side by $\\lambda^{{{m1}}}$: it is homogeneous in the generalized sense, "
                          f"$y' = {xs}^{{{m1}}} F(u)$ with $u = {u_of_y}$.",
                          latex=f"f(\\lambda {xs}, \\lambda^{{{ms}}} y) = \\lambda^{{{m1}}} f({xs}, y),\\quad "
                                f"F(u) = {tex(F.subs(V, U_SYMBOL), x)}",
                          check=Check.IDENTITY,
                          after=sympy.Eq(fy.subs({x: lam * x, Y: lam ** m * Y}, simultaneous=True),
                                         lam ** (m - 1) * fy, evaluate=False)))
        u = sympy.Function("u")(x)
        u_ode = sympy.Eq(sympy.Derivative(u * power, x).doit(), x ** (m - 1) * F.subs(V, u))
        steps.append(Step(f"Substitute y = {sympy.latex(U_SYMBOL * power)}",
                          f"With $y = {sympy.latex(U_SYMBOL * power)}$, the product rule gives "
                          f"$y' = {tex(sympy.Derivative(u * power, x).doit(), x)}$.",
                          latex=tex(u_ode, x), check=Check.SUBSTITUTION, before=ode, after=u_ode,
                          substitution={y: u * power}))
        G = _tidy_positive(F - m * V, V)
        if G == 0:
            raise CannotDerive("F(u) = m u: the equation is y' = m y/x, separable")
        separable = sympy.Eq(sympy.Derivative(u, x), G.subs(V, u) / x)
        steps.append(Step("Isolate u'", f"Solve for $u'$: the powers of ${sympy.latex(x)}$ cancel.",
                          latex=tex(separable, x), check=Check.EQUIVALENT, before=u_ode, after=separable))
        more, implicit_u, lost_u = separate_and_integrate(separable, u, x, 1 / x, G.subs(V, U_SYMBOL), U_SYMBOL)
        steps += more
        back = y / power
        implicit = sympy.Eq(_tidy(implicit_u.lhs.subs(u, back)), _tidy(implicit_u.rhs.subs(u, back)))
        implicit = _first_integral(implicit, problem)
        steps.append(solves_step("Back-substitute", f"Put $u = {u_of_y}$ back.", implicit,
                                 problem.equation, y, x))
        lost = tuple(sympy.Eq(y, eq.rhs * power) for eq in lost_u)
        explicit_steps, solutions, _ = explicit_step(implicit, problem.equation, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], lost=lost, hint=self.hint(problem))

    def _by_u(self, problem: Problem, F: sympy.Expr, steps: list[Step], why: str) -> Derivation:
        """x = u y with x as the unknown of y: y u' = 1/F(1/u) - u separates in u and y."""
        x, y, Y = problem.variable, problem.unknown, y_symbol(problem)
        U = sympy.Symbol("u")
        u = sympy.Function("u")(Y)
        X = sympy.Function(x.name)(Y)
        steps = list(steps)
        slope = F.subs(V, 1 / U)  # y' = F(y/x) = F(1/u)
        inverted = sympy.Eq(sympy.Derivative(X, Y), 1 / slope.subs(U, X / Y))
        steps.append(Step("Swap the roles of x and y",
                          f"With $v = y/x$ the $v$-integral has no closed form ({why}). Treat x as the unknown "
                          f"instead: $\frac{{dx}}{{dy}} = 1/f$, and put $x = u y$.",
                          latex=tex(inverted, Y), check=Check.NOTE))
        u_ode = sympy.Eq(u + Y * sympy.Derivative(u, Y), (1 / slope).subs(U, u))
        steps.append(Step("Substitute x = u y", "With $x = u y$, the product rule gives $x' = u + y u'$.",
                          latex=tex(u_ode, Y), check=Check.SUBSTITUTION, before=inverted, after=u_ode,
                          substitution={X: u * Y}))
        H = _tidy_positive(1 / slope - U, U)
        if H == 0:
            raise CannotDerive("u' = 0 after x = u y")
        separable = sympy.Eq(sympy.Derivative(u, Y), H.subs(U, u) / Y)
        steps.append(Step("Isolate u'", "Subtract u and divide by y.", latex=tex(separable, Y),
                          check=Check.EQUIVALENT, before=u_ode, after=separable))
        more, implicit_u, _ = separate_and_integrate(separable, u, Y, 1 / Y, H, U)
        steps += more
        back = {u: x / Y}
        implicit = sympy.Eq(_tidy(implicit_u.lhs.subs(back).subs(Y, y)), _tidy(implicit_u.rhs.subs(back).subs(Y, y)))
        implicit = _first_integral(implicit, problem)
        steps.append(solves_step("Back-substitute", "Put $u = x/y$ back.", implicit, problem.equation, y, x))
        explicit_steps, solutions, _ = explicit_step(implicit, problem.equation, y, x, Y)
        steps += explicit_steps
        return conclude(problem, self.id, steps, solutions, [C], hint=self.hint(problem))

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, Y = sympy.symbols("x y")
        yf = sympy.Function("y")
        y = yf(x)
        # x v' = h(v) with ∫dv/h(v) known: the implicit answer is G(y/x) = ln x + C.
        # Difficulty 1: powers of v with a small coefficient; 2: more shapes (atan, log, exp)
        # and signs; 3: the same with an initial condition y(1) = y0.
        a = rng.choice([1, 2, 3, 4, 5]) * (rng.choice([1, -1]) if difficulty > 1 else 1)
        b, k = rng.choice([1, 2, 3]), rng.choice([1, 2, 3])
        shapes = [
            (a * V ** 2, -1 / (a * V)),
            (a / V, V ** 2 / (2 * a)),
            (a * V ** 3, -1 / (2 * a * V ** 2)),
            (a / V ** 2, V ** 3 / (3 * a)),
        ]
        if difficulty > 1:
            shapes += [
                (k ** 2 + V ** 2, sympy.atan(V / k) / k),
                (abs(a) * (b + V), sympy.log(b + V) / abs(a)),
                (a * sympy.exp(-V), sympy.exp(V) / a),
                (a * sympy.exp(V), -sympy.exp(-V) / a),
            ]
        h, G = rng.choice(shapes)
        rhs = sympy.simplify((V + h).subs(V, y / x))
        equation = sympy.Eq(sympy.Derivative(y, x), rhs)
        # The textbook sign: when G < 0 everywhere (1/v^2, v^2, e^v terms), -G = C - ln x reads
        # better, and the checker can then find members of the family near x = 1 with C > 0.
        sign = -1 if all(sympy.sign(G.subs(V, v)) < 0 for v in (1, -1, 2, -2) if G.subs(V, v).is_real) else 1
        G = sign * G
        relation = sympy.Eq(G.subs(V, y / x), sign * sympy.log(x) + C)
        ics: tuple = ()
        constants: tuple = (C,)
        if difficulty >= 3:
            y0 = rng.choice([1, 2, 3])
            ics = (InitialCondition(0, sympy.Integer(1), sympy.Integer(y0)),)
            relation = relation.subs(C, G.subs(V, y0))
            constants = ()
        explicit = False
        if h == a * V ** 2:  # -1/(a v) = ln x + C solves for y in one piece: y = -x/(a(ln x + C))
            relation, explicit = sympy.Eq(y, sympy.solve(relation, y)[0]), True
        problem = make_problem(equation, yf, x, ics)
        answer = Answer(solutions=(relation,), constants=constants, explicit=(explicit,))
        return Practice(self.id, 0, difficulty, problem, answer)


METHODS = [Homogeneous]
