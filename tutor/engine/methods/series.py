"""Series solutions of second-order linear equations with polynomial coefficients.

:class:`PowerSeries` (``power_series``): about an **ordinary point** ``x0`` (0, or the point of the
initial conditions) of ``P(x) y'' + Q(x) y' + R(x) y = 0`` (``P(x0) != 0``), what the textbook's
series chapter does: substitute ``y = sum a_n (x - x0)^n``, shift the indices so that every sum runs
over the same power, read off the **recurrence relation** for ``a_{n+2}``, compute the first
coefficients from ``a_0`` and ``a_1``, and write the two series solutions ``y_1`` (``a_0 = 1, a_1 = 0``)
and ``y_2`` (``a_0 = 0, a_1 = 1``) to a stated order: ``y = C_1 y_1 + C_2 y_2 + O((x - x0)^N)``.
The radius of convergence is at least the distance from ``x0`` to the nearest zero of ``P`` in the
complex plane (after common factors of P, Q, R are cancelled). A series that terminates is an exact
polynomial solution and is said so. For an IVP ``a_0 = y(x0)``, ``a_1 = y'(x0)``. Airy's, Hermite's,
Legendre's and Chebyshev's equations are named (with the Airy functions / polynomials they give).

:class:`Frobenius` (``frobenius``): about a **regular singular point** at 0 (``P(0) = 0`` and
``x Q/P``, ``x^2 R/P`` polynomials): ``y = x^r sum a_n x^n``, the **indicial equation**
``r(r - 1) + p_0 r + q_0 = 0``, the recurrence ``F(n + r) a_n = -sum_j (p_j (n - j + r) + q_j) a_{n-j}``
and the first terms of both solutions: roots not differing by an integer give two Frobenius series;
roots differing by a positive integer N give a second Frobenius series when the recurrence leaves
``a_N`` free, otherwise (and for a double root) the second solution is
``c y_1 ln x + x^{r_2} sum b_n x^n``, whose coefficients are found by substituting it.
Bessel's and Laguerre's equations are named.

Every step is checked: the substituted series is an identity against the equation, the recurrence
satisfies the coefficient equation, each computed coefficient satisfies the recurrence, and the
solutions are verified by the checker **through their order** (a truncated series; see
:func:`tutor.checker.check`). Declined: nonhomogeneous equations, coefficients that are not
polynomials (or have letters in them), complex indicial roots, a regular singular point other than 0.

When the engine uses them (:mod:`tutor.engine.solve`): these methods come last — after SymPy's
``dsolve`` — so they never replace a closed form (Airy's equation still gets ``Ai``, ``Bi``); they
answer when nothing else does, and first when the problem asks for them ("by power series",
"Frobenius") or the method is forced (``solve(..., method="power_series")``, which also works for
equations such as ``y'' + y = 0`` that have an elementary closed form).

Usage::

    from tutor.engine.registry import get
    get("power_series").derive(parse("y'' - x y = 0"))
    series_solution(parse("y'' - x y = 0"), order=10)   # a Derivation to O(x^10)
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import CannotDerive, Derivation, Method, Practice, make_problem
from tutor.engine.linear_ode import linear_equation
from tutor.engine.steps import Check, Step, ltx, tex
from tutor.problem import InitialCondition, Problem

#: The default order of the answer: ``+ O((x - x0)^8)`` (terms through the 7th power).
DEFAULT_ORDER = 8
#: Frobenius series: ``x^r`` times this many terms (``a_0 ... a_5``).
FROBENIUS_TERMS = 6
#: At most this order may be asked for (the work grows with it).
MAX_ORDER = 20

A = sympy.IndexedBase("a")
TOP = sympy.Symbol("a_top")  # a_{n+2} while the recurrence is put into c_n
B = sympy.IndexedBase("b")
N_ = sympy.Symbol("n", integer=True, nonnegative=True)


@dataclass(frozen=True)
class SeriesForm:
    """``P y'' + Q y' + R y = 0`` with polynomial P, Q, R (no common factor) in x, about ``x0``."""

    P: sympy.Expr
    Q: sympy.Expr
    R: sympy.Expr
    x: sympy.Symbol
    x0: sympy.Expr

    def shifted(self, poly: sympy.Expr) -> list[sympy.Expr]:
        """Coefficients of ``poly`` in powers of ``(x - x0)``, lowest first."""
        t = sympy.Dummy("t")
        coeffs = sympy.Poly(sympy.expand(poly.subs(self.x, t + self.x0)), t).all_coeffs()[::-1]
        return [sympy.nsimplify(c) if c.is_Float else c for c in coeffs]

    @property
    def t(self) -> sympy.Expr:
        return self.x - self.x0


def series_form(problem: Problem) -> SeriesForm | None:
    """The equation as ``P y'' + Q y' + R y = 0`` with polynomial, numeric P, Q, R; or None."""
    if problem.order != 2:
        return None
    equation = linear_equation(problem)
    if equation is None or equation.rhs != 0:
        return None
    x = problem.variable
    parts = [sympy.together(a) for a in equation.coefficients]  # R, Q, P
    if any(not (a.free_symbols <= {x}) for a in parts):
        return None
    denominator = sympy.lcm([sympy.denom(a) for a in parts])
    polys = [sympy.cancel(a * denominator) for a in parts]
    if not all(p.is_polynomial(x) for p in polys):
        return None
    common = sympy.gcd_list([p for p in polys if p != 0], x)
    R, Q, P = (sympy.expand(sympy.cancel(p / common)) for p in polys)
    lead = sympy.Poly(P, x).LC()
    R, Q, P = (sympy.expand(p / lead) for p in (R, Q, P))
    x0 = problem.ics[0].point if problem.ics else sympy.S.Zero
    if problem.ics and (any(ic.point != x0 for ic in problem.ics) or not x0.is_number):
        return None
    return SeriesForm(P, Q, R, x, x0)


def _ivp_values(problem: Problem) -> tuple[sympy.Expr, sympy.Expr] | None:
    values = {ic.order: ic.value for ic in problem.ics}
    if sorted(values) != [0, 1] or len(problem.ics) != 2:
        return None
    return values[0], values[1]


def _is_euler(form: SeriesForm) -> bool:
    """``a x^2 y'' + b x y' + c y`` (constant coefficients included): the closed-form methods' case."""
    x = form.x
    P, Q, R = form.P, form.Q, form.R
    constant = not (P.has(x) or Q.has(x) or R.has(x))
    euler = all(not sympy.cancel(c).has(x) for c in (P / x ** 2, Q / x, R)) if P != 0 else False
    return constant or euler


def _factor_terms(expr: sympy.Expr, symbols: list) -> sympy.Expr:
    """``expr`` linear in ``symbols`` with each coefficient factored (the textbook's form)."""
    collected = sympy.collect(sympy.expand(expr), symbols, evaluate=False)
    out = sympy.S.Zero
    for key, value in collected.items():
        out += sympy.factor(value) * key
    return out


def _radius(form: SeriesForm) -> tuple[str, str]:
    """(LaTeX of the singular points, LaTeX of the radius) about x0."""
    x, x0 = form.x, form.x0
    if not form.P.has(x):
        return "", r"\infty"
    poly = sympy.Poly(form.P, x)
    found = sympy.roots(poly)
    if sum(found.values()) != poly.degree():
        roots = [sympy.nsimplify(r, rational=False) for r in poly.nroots(n=15)]
    else:
        roots = list(found)
    distances = [sympy.sqrt(sympy.expand((sympy.re(r) - x0) ** 2 + sympy.im(r) ** 2)) for r in roots]
    nearest = min(distances, key=lambda d: float(d))
    return ", ".join(ltx(r) for r in roots), ltx(sympy.nsimplify(sympy.radsimp(nearest)))


# --------------------------------------------------------------------------- names

def _ordinary_name(form: SeriesForm) -> tuple[str, str] | None:
    """(name, what its solutions are) of a named equation at an ordinary point."""
    x = form.x
    q, r = sympy.cancel(form.Q / form.P), sympy.cancel(form.R / form.P)
    if form.x0 == 0 and q == 0 and r == -x:
        return ("Airy's equation $y'' = xy$",
                r"the Airy functions: $\operatorname{Ai}(x) = \operatorname{Ai}(0)\, y_1 + \operatorname{Ai}'(0)\, y_2$ "
                r"and $\operatorname{Bi}(x) = \operatorname{Bi}(0)\, y_1 + \operatorname{Bi}'(0)\, y_2$, with "
                r"$\operatorname{Ai}(0) = \frac{1}{3^{2/3}\Gamma(2/3)}$, $\operatorname{Ai}'(0) = "
                r"-\frac{1}{3^{1/3}\Gamma(1/3)}$, $\operatorname{Bi}(0) = \sqrt{3}\operatorname{Ai}(0)$, "
                r"$\operatorname{Bi}'(0) = -\sqrt{3}\operatorname{Ai}'(0)$")
    if form.x0 == 0 and q == 0 and r == x:
        return ("Airy's equation with $x \\to -x$ ($y'' = -xy$)",
                r"$\operatorname{Ai}(-x)$ and $\operatorname{Bi}(-x)$, combinations of $y_1$ and $y_2$")
    if q == -2 * x and not r.has(x):
        lam = r / 2
        return (f"Hermite's equation $y'' - 2xy' + 2\\lambda y = 0$ with $\\lambda = {ltx(lam)}$",
                "for a nonnegative integer $\\lambda$ one series terminates: the Hermite polynomial "
                "$H_\\lambda$ (up to a factor)")
    if sympy.expand(form.P + form.P.subs(x, 0) * x ** 2) == form.P.subs(x, 0) and form.P.subs(x, 0) != 0:
        # (1 - x^2) y'' ...: Legendre or Chebyshev
        scale = form.P.subs(x, 0)
        Q, R = sympy.expand(form.Q / scale), sympy.expand(form.R / scale)
        if Q == -2 * x and not R.has(x):
            l = sympy.Symbol("l")
            values = [v for v in sympy.solve(l * (l + 1) - R, l) if v.is_number and v >= 0]
            shown = ltx(values[0]) if values else f"\\ell(\\ell + 1) = {ltx(R)}"
            return (f"Legendre's equation $(1 - x^2) y'' - 2xy' + \\ell(\\ell + 1) y = 0$ with $\\ell = {shown}$",
                    "for a nonnegative integer $\\ell$ one series terminates: the Legendre polynomial $P_\\ell$ "
                    "(up to a factor)")
        if Q == -x and not R.has(x):
            return (f"Chebyshev's equation $(1 - x^2) y'' - xy' + n^2 y = 0$ with $n^2 = {ltx(R)}$",
                    "for a nonnegative integer $n$ one series terminates: the Chebyshev polynomial $T_n$ "
                    "(up to a factor)")
    return None


def _singular_name(p: sympy.Expr, q: sympy.Expr, x: sympy.Symbol) -> tuple[str, str] | None:
    """(name, what its solutions are) for ``x^2 y'' + x p y' + q y = 0`` at 0."""
    if p == 1 and sympy.expand(q - x ** 2).is_number:
        nu = sympy.sqrt(-sympy.expand(q - x ** 2))
        return (f"Bessel's equation of order $\\nu = {ltx(nu)}$",
                f"the Bessel functions: $J_{{{ltx(nu)}}}$ and " +
                (f"$J_{{-{ltx(nu)}}}$" if not nu.is_integer else f"$Y_{{{ltx(nu)}}}$") +
                " are these series up to constant factors" + ("" if not nu.is_integer else " (Y with its logarithm)"))
    if sympy.expand(p - (1 - x)) == 0 and sympy.expand(q / x).is_number:
        n = sympy.expand(q / x)
        return (f"Laguerre's equation $xy'' + (1 - x)y' + ny = 0$ with $n = {ltx(n)}$",
                "for a nonnegative integer $n$ the Frobenius series ($r = 0$) terminates: the Laguerre polynomial $L_n$")
    return None


# --------------------------------------------------------------------------- ordinary points


def _coefficient_formula(p: list, q: list, r: list, k: sympy.Expr, a) -> sympy.Expr:
    """The coefficient of ``t^k`` in ``P y'' + Q y' + R y`` for ``y = sum a_n t^n`` (after the index shift)."""
    out = sympy.S.Zero
    for j, c in enumerate(p):
        if c != 0:
            out += c * (k + 2 - j) * (k + 1 - j) * a(k + 2 - j)
    for j, c in enumerate(q):
        if c != 0:
            out += c * (k + 1 - j) * a(k + 1 - j)
    for j, c in enumerate(r):
        if c != 0:
            out += c * a(k - j)
    return out


def _bounded(values: dict):
    """``a(m)``: the known value, 0 for m < 0 or past the computed ones."""
    return lambda m: values.get(int(m), sympy.S.Zero) if m.is_Integer or isinstance(m, int) else A[m]


def _sum_tex(expr: sympy.Expr, power: sympy.Expr) -> str:
    return f"\\sum_{{n=0}}^{{\\infty}} {itex(expr)}\\, {ltx(power)}"


def itex(expr: sympy.Expr) -> str:
    """LaTeX with ``a_{n - 1}`` for the indexed coefficients (SymPy writes ``{a}_{n - 1}``)."""
    return ltx(expr).replace("{a}_{", "a_{")


def series_solution(problem: Problem, order: int = DEFAULT_ORDER, method_id: str = "power_series",
                    form: SeriesForm | None = None) -> Derivation:
    """The power-series derivation about an ordinary point, to ``+ O((x - x0)^order)`` (from ``form``,
    :func:`series_form`'s, when the caller has it)."""
    order = max(3, min(MAX_ORDER, int(order)))
    form = form if form is not None else series_form(problem)
    if form is None:
        raise CannotDerive("not a homogeneous second-order linear equation with polynomial coefficients")
    x, x0, y = form.x, form.x0, problem.unknown
    P0 = form.P.subs(x, x0)
    if P0 == 0:
        raise CannotDerive(f"x = {x0} is a singular point (P({x0}) = 0), not an ordinary point")
    ivp = _ivp_values(problem) if problem.ics else None
    if problem.ics and ivp is None:
        raise CannotDerive("a series IVP needs y(x0) and y'(x0)")
    t = form.t
    tl = ltx(t) if x0 != 0 else ltx(x)
    p, q, r = form.shifted(form.P), form.shifted(form.Q), form.shifted(form.R)
    steps: list[Step] = []
    standard = sympy.Eq(form.P * sympy.Derivative(y, (x, 2)) + form.Q * sympy.Derivative(y, x) + form.R * y, 0)
    steps.append(Step("Polynomial coefficients",
                      "Write the equation as $P(x)y'' + Q(x)y' + R(x)y = 0$ with polynomial coefficients:",
                      tex(standard, x), Check.EQUIVALENT, before=problem.equation, after=standard))
    steps.append(Step("An ordinary point",
                      f"$P({ltx(x0)}) \\neq 0$, so ${ltx(x)} = {ltx(x0)}$ is an ordinary point: the equation has two "
                      f"independent power-series solutions in powers of ${tl}$.",
                      f"P({ltx(x0)}) = {ltx(P0)}", Check.IDENTITY,
                      after=sympy.Eq(sympy.Subs(form.P, x, x0), P0, evaluate=False)))
    named = _ordinary_name(form)
    if named:
        steps.append(Step(f"This is {named[0].split(' $')[0]}", f"This is {named[0]}; its solutions are {named[1]}.",
                          "", Check.NOTE))
    power = t ** N_
    steps.append(Step("Assume a power series",
                      "Substitute the series and its term-by-term derivatives:",
                      f"y = {_sum_tex(A[N_], power)},\\quad y' = \\sum_{{n=1}}^{{\\infty}} n a_{{n}}\\, {ltx(t ** (N_ - 1))},"
                      f"\\quad y'' = \\sum_{{n=2}}^{{\\infty}} n(n - 1) a_{{n}}\\, {ltx(t ** (N_ - 2))}", Check.NOTE))
    # the general coefficient of t^n, and the identity it comes from for a polynomial of degree D
    general = _factor_terms(_coefficient_formula(p, q, r, N_, lambda m: A[m]),
                            [A[N_ + 2 - j] for j in range(-2, 6)] + [A[N_ - j] for j in range(0, 8)])
    D = order + 1
    known = {n: sympy.Symbol(f"a{n}") for n in range(D + 1)}
    polynomial = sum(known[n] * t ** n for n in range(D + 1))
    top = D + max(len(p), len(q), len(r)) + 1
    lhs = (form.P * sympy.Derivative(polynomial, (x, 2)) + form.Q * sympy.Derivative(polynomial, x)
           + form.R * polynomial)
    rhs = sum(_coefficient_formula(p, q, r, sympy.Integer(k), _bounded(known)) * t ** k for k in range(top))
    steps.append(Step("Shift the indices",
                      f"Shift each sum so that every term has ${ltx(power)}$ and collect: the equation becomes "
                      f"$\\sum c_n {ltx(power)} = 0$ with (where $a_m = 0$ for $m < 0$)",
                      f"c_n = {itex(general)}", Check.IDENTITY, after=sympy.Eq(lhs, rhs, evaluate=False)))
    # the recurrence: solve c_n = 0 for a_{n+2}
    solved = sympy.solve(general, A[N_ + 2], dict=False)
    if len(solved) != 1:
        raise CannotDerive("the recurrence cannot be solved for a_{n+2}")
    lower = [A[N_ + 1 - j] for j in range(0, 8)] + [A[N_ - j] for j in range(1, 8)]
    recurrence = _factor_terms(solved[0], lower)
    steps.append(Step("Recurrence relation",
                      "Every coefficient must vanish, $c_n = 0$ for $n \\geq 0$; solved for the highest index:",
                      f"a_{{n+2}} = {itex(recurrence)}", Check.IDENTITY,
                      after=sympy.Eq(sympy.Subs(general.subs(A[N_ + 2], TOP), TOP, recurrence), 0, evaluate=False)))
    # the first coefficients from a_0, a_1
    a0, a1 = sympy.Symbol("a0"), sympy.Symbol("a1")
    values = {0: a0, 1: a1}
    for n in range(0, order - 2):
        values[n + 2] = sympy.expand(recurrence.subs(N_, n).replace(
            lambda e: isinstance(e, sympy.Indexed), lambda e: values.get(int(e.indices[0]), sympy.S.Zero)))
    weights = [sympy.Dummy(f"w{n}") for n in range(order)]
    unknowns = [sympy.Dummy(f"a{n}") for n in range(order)]
    as_unknown = lambda e: unknowns[int(e.indices[0])] if int(e.indices[0]) >= 0 else sympy.S.Zero  # noqa: E731
    equations = sympy.Add(*[w * (unknowns[n + 2] - recurrence.subs(N_, n).replace(
        lambda e: isinstance(e, sympy.Indexed), as_unknown)) for n, w in zip(range(order - 2), weights)])
    # Subs keeps the claim unevaluated: the check puts the values into the recurrence
    check_values = sympy.Subs(equations, unknowns[2:], [values[n] for n in range(2, order)]).subs(
        {unknowns[0]: a0, unknowns[1]: a1})
    steps.append(Step("The first coefficients",
                      "Apply the recurrence for $n = 0, 1, 2, \\dots$; everything follows from $a_0$ and $a_1$:",
                      r",\quad ".join(f"a_{{{n}}} = {ltx(values[n])}" for n in range(2, order)), Check.IDENTITY,
                      after=sympy.Eq(check_values, 0, evaluate=False)))
    y1 = sum(values[n].subs({a0: 1, a1: 0}) * t ** n for n in range(order))
    y2 = sum(values[n].subs({a0: 0, a1: 1}) * t ** n for n in range(order))
    O = sympy.Order(t ** order, (x, x0))
    C1, C2 = sympy.symbols("C1 C2")
    exact = []
    for name, part in (("y_1", y1), ("y_2", y2)):
        if _solves_exactly(form, part):
            exact.append(f"${name} = {ltx(part)}$")
    general_solution = sympy.Eq(y, C1 * y1 + C2 * y2 + O)
    text = (f"With $a_0 = 1, a_1 = 0$ and with $a_0 = 0, a_1 = 1$ the two solutions are $y_1$ and $y_2$; "
            f"the general solution, with $C_1 = a_0$, $C_2 = a_1$, to order ${ltx(t ** order)}$:")
    steps.append(Step("The two series solutions", text,
                      f"y_1 = {ltx(y1 + O)},\\quad y_2 = {ltx(y2 + O)}\\qquad " + tex(general_solution, x),
                      Check.SOLVES, after=(general_solution,)))
    if exact:
        steps.append(Step("A series that terminates",
                          "The recurrence gives zero from some index on, so this series is a polynomial and an exact "
                          "solution: " + ", ".join(exact) + ".",
                          r",\quad ".join(tex(sympy.Eq(y, part), x) for part in (y1, y2) if _solves_exactly(form, part)),
                          Check.SOLVES, after=tuple(sympy.Eq(y, part) for part in (y1, y2) if _solves_exactly(form, part))))
    singular, radius = _radius(form)
    steps.append(Step("Radius of convergence",
                      (f"The series converge at least out to the nearest singular point (a zero of $P$ in the "
                       f"complex plane: ${singular}$), so for $|{tl}| < {radius}$." if singular else
                       "$P$ has no zeros, so the series converge for every $x$ (radius $\\infty$)."),
                      f"R \\geq {radius}" if singular else r"R = \infty", Check.NOTE))
    if ivp is None:
        return Derivation(method_id, tuple(steps), (general_solution,), (C1, C2), (True,),
                          hint=_ordinary_hint(problem))
    v0, v1 = ivp
    particular = sympy.Eq(y, sum(sympy.expand(v0 * values[n].subs({a0: 1, a1: 0}) + v1 * values[n].subs({a0: 0, a1: 1}))
                                 * t ** n for n in range(order)) + O)
    steps.append(Step("Use the initial conditions",
                      f"At ${ltx(x)} = {ltx(x0)}$ the series gives $y({ltx(x0)}) = a_0$ and $y'({ltx(x0)}) = a_1$, so "
                      f"$C_1 = a_0 = {ltx(v0)}$ and $C_2 = a_1 = {ltx(v1)}$:",
                      tex(particular, x), Check.CONSTANTS, after=(particular,)))
    return Derivation(method_id, tuple(steps), (particular,), (), (True,), hint=_ordinary_hint(problem))


def _solves_exactly(form: SeriesForm, part: sympy.Expr) -> bool:
    """A (polynomial) series that is an exact solution: it terminated."""
    if part == 0:
        return False
    x = form.x
    residual = form.P * sympy.diff(part, x, 2) + form.Q * sympy.diff(part, x) + form.R * part
    return sympy.expand(residual) == 0


def _ordinary_hint(problem: Problem) -> str:
    return ("Substitute $y = \\sum a_n x^n$ (in powers of $x - x_0$ about the point $x_0$), shift the indices so "
            "that every sum has the same power, and read off the recurrence relation for the coefficients; "
            "$a_0$ and $a_1$ stay free and give the two solutions.")


class PowerSeries(Method):
    """Power series about an ordinary point of ``P y'' + Q y' + R y = 0`` (polynomial P, Q, R)."""

    id = "power_series"
    name = "Power series about an ordinary point"
    orders = (2,)
    after_dsolve = True
    not_matched = "not a homogeneous second-order linear equation with polynomial coefficients"

    def match(self, problem: Problem) -> SeriesForm | None:
        form = series_form(problem)
        if form is None or form.P.subs(form.x, form.x0) == 0:
            return None
        if problem.ics and _ivp_values(problem) is None:
            return None
        # constant coefficients and Cauchy-Euler have closed forms the textbook uses instead (the
        # method still derives them when it is asked for by name: derivable)
        return None if _is_euler(form) else form

    def derivable(self, problem: Problem) -> SeriesForm | None:
        return series_form(problem)

    def hint(self, problem: Problem, form=None) -> str:
        return _ordinary_hint(problem)

    def _derive(self, problem: Problem, form: SeriesForm) -> Derivation:
        return series_solution(problem, DEFAULT_ORDER, self.id, form)

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, yf = sympy.Symbol("x"), sympy.Function("y")
        y = yf(x)
        d2, d1 = sympy.Derivative(y, (x, 2)), sympy.Derivative(y, x)
        a = sympy.Integer(rng.choice([1, 2, 3])) * rng.choice([1, -1])
        b = sympy.Integer(rng.randint(1, 4))
        families = [
            lambda: d2 + a * x * y,                                 # Airy type
            lambda: d2 + a * x * d1 + b * y,                        # y'' + a x y' + b y
            lambda: d2 - 2 * x * d1 + 2 * b * y,                    # Hermite
            lambda: (1 - x ** 2) * d2 - 2 * x * d1 + b * (b + 1) * y,  # Legendre
            lambda: (1 + x ** 2) * d2 + a * x * d1 + b * y,
            lambda: d2 + a * x ** 2 * y,
        ]
        lhs = rng.choice(families[: 2 + 2 * difficulty])()
        ics = ()
        if difficulty >= 2 and rng.random() < 0.5:
            ics = (InitialCondition(0, sympy.S.Zero, sympy.Integer(rng.randint(-2, 3))),
                   InitialCondition(1, sympy.S.Zero, sympy.Integer(rng.randint(-2, 3))))
        problem = make_problem(sympy.Eq(lhs, 0), yf, x, ics)
        return Practice(self.id, 0, difficulty, problem, self.derive(problem).answer())


# --------------------------------------------------------------------------- regular singular points


#: Taylor coefficients of p and q kept when they are not polynomials (enough for the terms shown,
#: the logarithmic case's longer first series included).
TAYLOR_TERMS = FROBENIUS_TERMS + 6


def _taylor(rational: sympy.Expr, x: sympy.Symbol, count: int) -> list[sympy.Expr]:
    """The first ``count`` Taylor coefficients at 0 of N/D (D(0) != 0), by long division of power
    series (SymPy's ``series`` took seconds on such a quotient)."""
    numerator, denominator = sympy.fraction(sympy.cancel(rational))
    n = sympy.Poly(numerator, x).all_coeffs()[::-1]
    d = sympy.Poly(denominator, x).all_coeffs()[::-1]
    out: list[sympy.Expr] = []
    for k in range(count):
        value = (n[k] if k < len(n) else 0) - sum(d[i] * out[k - i] for i in range(1, min(k, len(d) - 1) + 1))
        out.append(sympy.sympify(value) / d[0])
    return out


def frobenius_form(problem: Problem) -> tuple[SeriesForm, list, list, sympy.Expr, sympy.Expr] | None:
    """(form, p_j, q_j, p, q): ``x^2 y'' + x p(x) y' + q(x) y = 0`` at the regular singular point 0, with
    p and q analytic there (polynomials, or rational functions without a pole at 0: then p_j, q_j are
    their first Taylor coefficients)."""
    form = series_form(problem)
    if form is None or problem.ics or form.P.subs(form.x, 0) != 0:
        return None
    x = form.x
    p, q = sympy.cancel(x * form.Q / form.P), sympy.cancel(x ** 2 * form.R / form.P)
    zero = SeriesForm(form.P, form.Q, form.R, x, sympy.S.Zero)
    coefficients = []
    for part in (p, q):
        if part.is_polynomial(x):
            coefficients.append(zero.shifted(part))
            continue
        if sympy.denom(part).subs(x, 0) == 0:
            return None  # a pole at 0: an irregular singular point
        coefficients.append(_taylor(part, x, TAYLOR_TERMS))
    return zero, coefficients[0], coefficients[1], p, q


def _frobenius_coefficients(p: list, q: list, r: sympy.Expr, count: int) -> dict | None:
    """a_0 = 1, a_n from ``F(n + r) a_n = -sum_j (p_j (n - j + r) + q_j) a_{n-j}``; None if F(n + r) = 0
    where the right side does not vanish (a logarithm is needed); where both vanish a_n is left 0."""
    F = _indicial(p, q)
    values = {0: sympy.S.One}
    for n in range(1, count):
        rest = -sum(((p[j] if j < len(p) else 0) * (n - j + r) + (q[j] if j < len(q) else 0)) * values[n - j]
                    for j in range(1, n + 1))
        rest = sympy.expand(rest)
        denominator = sympy.expand(F(n + r))
        if denominator == 0:
            if rest != 0:
                return None
            values[n] = sympy.S.Zero  # a_N is free: it would only add a multiple of the other solution
            continue
        values[n] = sympy.cancel(rest / denominator)
    return values


def _indicial(p: list, q: list):
    p0 = p[0] if p else sympy.S.Zero
    q0 = q[0] if q else sympy.S.Zero
    return lambda s: s * (s - 1) + p0 * s + q0


class Frobenius(Method):
    """Frobenius series about the regular singular point 0 of ``P y'' + Q y' + R y = 0``."""

    id = "frobenius"
    name = "Frobenius series about a regular singular point"
    orders = (2,)
    after_dsolve = True

    def match(self, problem: Problem):
        found = frobenius_form(problem)
        if found is None or _is_euler(found[0]):
            return None
        p, q = found[1], found[2]
        roots = sympy.Poly(_indicial(p, q)(sympy.Symbol("r")), sympy.Symbol("r")).all_roots() \
            if all(c.is_Rational for c in p[:1] + q[:1]) else None
        return found if roots and all(r.is_real for r in roots) else None

    def derivable(self, problem: Problem):
        return frobenius_form(problem)

    def hint(self, problem: Problem, form=None) -> str:
        return ("$x = 0$ is a regular singular point: substitute $y = \\sum a_n x^{n + r}$ (Frobenius), find $r$ from "
                "the indicial equation $r(r - 1) + p_0 r + q_0 = 0$, then the recurrence for the coefficients for "
                "each root.")

    not_matched = "0 is not a regular singular point with polynomial x p(x), x^2 q(x)"

    def _derive(self, problem: Problem, found, terms: int = FROBENIUS_TERMS) -> Derivation:
        form, p, q, p_exact, q_exact = found
        x, y = form.x, problem.unknown
        r = sympy.Symbol("r")
        F = _indicial(p, q)
        indicial = sympy.expand(F(r))
        roots = sympy.roots(sympy.Poly(indicial, r))
        if not roots or any(not v.is_real for v in roots):
            raise CannotDerive("the indicial equation has complex roots")
        ordered = sorted(roots, key=lambda v: -float(v))
        r1, r2 = ordered[0], ordered[-1]
        pp = sum(c * x ** j for j, c in enumerate(p))
        qq = sum(c * x ** j for j, c in enumerate(q))
        steps: list[Step] = []
        standard = sympy.Eq(x ** 2 * sympy.Derivative(y, (x, 2)) + x * p_exact * sympy.Derivative(y, x) + q_exact * y, 0)
        steps.append(Step("Regular singular point",
                          "$P(0) = 0$, so $x = 0$ is a singular point; multiplied by $x^2/P(x)$ the equation is "
                          "$x^2 y'' + x\\,p(x) y' + q(x) y = 0$ with $p$, $q$ polynomials, so the point is regular:",
                          tex(standard, x), Check.EQUIVALENT, before=problem.equation, after=standard))
        named = _singular_name(sympy.expand(p_exact), sympy.expand(q_exact), x)
        if named:
            steps.append(Step(f"This is {named[0].split(' of ')[0].split(' $')[0]}",
                              f"This is {named[0]}; its solutions are {named[1]}.", "", Check.NOTE))
        steps.append(Step("Frobenius series",
                          "Substitute $y = \\sum_{n=0}^{\\infty} a_n x^{n + r}$ with $a_0 \\neq 0$; the lowest power "
                          "$x^r$ gives the indicial equation $r(r - 1) + p(0) r + q(0) = 0$:",
                          f"{ltx(indicial)} = 0", Check.NOTE))
        w1, w2, s1, s2 = sympy.Dummy("w1"), sympy.Dummy("w2"), sympy.Dummy("s1"), sympy.Dummy("s2")
        steps.append(Step("Indicial roots",
                          f"The roots are $r_1 = {ltx(r1)}$ and $r_2 = {ltx(r2)}$"
                          + (" (a double root)." if r1 == r2 else f"; they differ by ${ltx(r1 - r2)}$."),
                          f"r_1 = {ltx(r1)},\\quad r_2 = {ltx(r2)}", Check.IDENTITY,
                          after=sympy.Eq(sympy.Subs(w1 * indicial.subs(r, s1) + w2 * indicial.subs(r, s2), (s1, s2),
                                                    (r1, r2)), 0, evaluate=False)))
        # the recurrence (checked as an identity for a polynomial of degree D and symbolic r)
        D = terms + 1
        known = {n: sympy.Symbol(f"a{n}") for n in range(D + 1)}
        rest = sympy.S.Zero
        for j in range(1, max(len(p), len(q))):
            rest += ((p[j] if j < len(p) else 0) * (N_ - j + r) + (q[j] if j < len(q) else 0)) * A[N_ - j]
        rest = _factor_terms(rest, [A[N_ - j] for j in range(1, 8)])
        taylor = "" if p_exact.is_polynomial(x) and q_exact.is_polynomial(x) else (
            f" ($p$ and $q$ by their Taylor series, $p = {ltx(sum(c * x ** j for j, c in enumerate(p[:4])))} + \\dots$, "
            f"$q = {ltx(sum(c * x ** j for j, c in enumerate(q[:4])))} + \\dots$)")
        steps.append(Step("Recurrence relation",
                          "The power $x^{n + r}$ gives (with $a_m = 0$ for $m < 0$)" + taylor,
                          f"\\left({ltx(F(N_ + r))}\\right) a_{{n}} = " + (
                              itex(-rest) if not taylor else
                              r"-\sum_{j=1}^{n} \left(p_j (n - j + r) + q_j\right) a_{n-j}"), Check.IDENTITY,
                          after=sympy.Eq(self._identity_lhs(form, pp, qq, known, r, D),
                                         self._identity_rhs(p, q, known, r, D, x), evaluate=False)))
        C1, C2 = sympy.symbols("C1 C2")
        first = _frobenius_coefficients(p, q, r1, terms)
        if first is None:
            raise CannotDerive("the larger root needs a logarithm (not expected)")
        y1 = sum(first[n] * x ** n for n in range(terms))
        steps.append(self._coefficients_step(p, q, first, r1, "r_1", terms))
        second = None if r1 == r2 else _frobenius_coefficients(p, q, r2, terms)
        difference = sympy.nsimplify(r1 - r2)
        M = r2 + terms
        O = sympy.Order(x ** M, (x, 0))
        if second is not None:
            y2 = sum(second[n] * x ** n for n in range(terms))
            steps.append(self._coefficients_step(p, q, second, r2, "r_2", terms))
            if difference.is_integer and difference != 0:
                steps.append(Step("No logarithm needed",
                                  f"The roots differ by the integer ${ltx(difference)}$, but at $n = {ltx(difference)}$ the "
                                  f"recurrence for $r_2$ reads $0 \\cdot a_{{{ltx(difference)}}} = 0$: $a_{{{ltx(difference)}}}$ "
                                  "is free (taking it nonzero only adds a multiple of $y_1$), so a second Frobenius "
                                  "series exists.", "", Check.NOTE))
            general = sympy.Eq(y, C1 * x ** r1 * y1 + C2 * x ** r2 * y2 + O)
            text = (f"$y_1 = x^{{{ltx(r1)}}}\\sum a_n x^n$ and $y_2 = x^{{{ltx(r2)}}}\\sum a_n x^n$ (each with "
                    f"$a_0 = 1$) are independent; to order ${ltx(x ** M)}$:")
        else:
            log_part = self._logarithmic(form, p, q, r1, r2, y1, terms)
            if log_part is None:
                raise CannotDerive("the logarithmic second solution could not be found")
            c, y2 = log_part
            steps.append(Step("The second solution has a logarithm",
                              ("The indicial root is double, so the second solution is "
                               "$y_2 = y_1 \\ln x + x^{r_1} \\sum_{n \\geq 1} b_n x^n$."
                               if r1 == r2 else
                               f"The roots differ by the integer ${ltx(difference)}$ and at $n = {ltx(difference)}$ the "
                               f"recurrence for $r_2$ has no solution, so the second solution is "
                               f"$y_2 = c\\, y_1 \\ln x + x^{{r_2}} \\sum b_n x^n$ ($b_0 = 1$); substituting it and "
                               f"matching powers gives $c = {ltx(c)}$ and the $b_n$:"),
                              f"y_2 = {ltx(y2)} + \\dots", Check.SOLVES,
                              after=(sympy.Eq(y, y2 + O),)))
            general = sympy.Eq(y, C1 * x ** r1 * y1 + C2 * y2 + O)
            text = f"With $y_1 = x^{{{ltx(r1)}}}\\sum a_n x^n$ and the logarithmic $y_2$, to order ${ltx(x ** M)}$:"
        steps.append(Step("The general solution", text, tex(general, x), Check.SOLVES, after=(general,)))
        singular, radius = _radius(SeriesForm(form.P, form.Q, form.R, x, sympy.S.Zero)) \
            if sympy.Poly(form.P, x).degree() > sympy.Poly(form.P, x).monoms()[-1][0] else ("", r"\infty")
        steps.append(Step("Where the series converge",
                          (f"The series converge for $0 < x < {radius}$ (the next singular point)." if singular else
                           "No other singular point: the series converge for every $x > 0$."),
                          "", Check.NOTE))
        return Derivation(self.id, tuple(steps), (general,), (C1, C2), (True,), hint=self.hint(problem))

    @staticmethod
    def _identity_lhs(form: SeriesForm, pp, qq, known: dict, r, D: int) -> sympy.Expr:
        x = form.x
        series = sum(known[n] * x ** (n + r) for n in range(D + 1))
        return x ** 2 * sympy.Derivative(series, (x, 2)) + x * pp * sympy.Derivative(series, x) + qq * series

    @staticmethod
    def _identity_rhs(p: list, q: list, known: dict, r, D: int, x: sympy.Symbol) -> sympy.Expr:
        """``x^r sum_k [F(k + r) a_k + sum_j (p_j (k - j + r) + q_j) a_{k-j}] x^k`` (a_m = 0 past D)."""
        F = _indicial(p, q)
        top = D + max(len(p), len(q)) + 1
        out = sympy.S.Zero
        for k in range(top):
            value = F(k + r) * known.get(k, 0)
            for j in range(1, k + 1):
                value += ((p[j] if j < len(p) else 0) * (k - j + r) + (q[j] if j < len(q) else 0)) * known.get(k - j, 0)
            out += value * x ** k
        return x ** r * out

    @staticmethod
    def _coefficients_step(p: list, q: list, values: dict, root: sympy.Expr, name: str, terms: int) -> Step:
        F = _indicial(p, q)
        weights = [sympy.Dummy(f"w{n}") for n in range(terms)]
        unknowns = [sympy.S.One] + [sympy.Dummy(f"a{n}") for n in range(1, terms)]
        residual = sympy.S.Zero
        for n in range(1, terms):
            value = F(n + root) * unknowns[n]
            for j in range(1, n + 1):
                value += ((p[j] if j < len(p) else 0) * (n - j + root) + (q[j] if j < len(q) else 0)) * unknowns[n - j]
            residual += weights[n] * value
        # Subs keeps the claim unevaluated: the check puts the values into the recurrence
        residual = sympy.Subs(residual, unknowns[1:], [values[n] for n in range(1, terms)])
        return Step(f"Coefficients for ${name} = {ltx(root)}$",
                    f"Put $r = {ltx(root)}$ in the recurrence, with $a_0 = 1$:",
                    r",\quad ".join(f"a_{{{n}}} = {ltx(values[n])}" for n in range(1, terms)), Check.IDENTITY,
                    after=sympy.Eq(residual, 0, evaluate=False))

    @staticmethod
    def _logarithmic(form: SeriesForm, p: list, q: list, r1, r2, y1_series, terms: int):
        """(c, y2) with ``y2 = c y_1 ln x + x^{r2} (b_0 + b_1 x + ...)``, ``y_1 = x^{r1} sum a_n x^n``.

        Substituted into ``x^2 y'' + x p y' + q y``: ``L[y_1 ln x] = ln x L[y_1] + 2x y_1' + (p - 1) y_1`` and
        ``L[y_1] = 0``, so the power ``x^{k + r2}`` gives ``F(k + r2) b_k + sum_j (p_j (k - j + r2) + q_j) b_{k-j}
        + c g_{k-N} = 0`` with ``g_m = (2(m + r1) - 1 + p_0) a_m + sum_j p_j a_{m-j}`` and ``N = r1 - r2``: at
        ``k = N`` (where ``F(r1) = 0``) it fixes c, and ``b_N`` is free (0). A double root has c = 1, b_0 = 0."""
        x = form.x
        N = int(r1 - r2)
        F = _indicial(p, q)
        pj = lambda j: p[j] if j < len(p) else 0  # noqa: E731
        qj = lambda j: q[j] if j < len(q) else 0  # noqa: E731
        a = _frobenius_coefficients(p, q, r1, terms + 1)
        if a is None:
            return None

        def g(m: int) -> sympy.Expr:
            if m < 0:
                return sympy.S.Zero
            return (2 * (m + r1) - 1 + pj(0)) * a[m] + sum(pj(j) * a[m - j] for j in range(1, m + 1))

        b: dict[int, sympy.Expr] = {0: sympy.S.Zero if N == 0 else sympy.S.One}
        c = sympy.S.One if N == 0 else None
        for k in range(1, terms):
            rest = sum((pj(j) * (k - j + r2) + qj(j)) * b[k - j] for j in range(1, k + 1))
            if k == N:
                if g(0) == 0:
                    return None
                c = sympy.cancel(-rest / g(0))
                b[k] = sympy.S.Zero
                continue
            rest += (c if c is not None else 0) * g(k - N)
            b[k] = sympy.cancel(-rest / F(k + r2))
        if c is None:
            return None
        y1_part = x ** r1 * y1_series
        regular = x ** r2 * sum(b[n] * x ** n for n in range(terms))
        return c, c * y1_part * sympy.log(x) + regular

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, yf = sympy.Symbol("x"), sympy.Function("y")
        y = yf(x)
        d2, d1 = sympy.Derivative(y, (x, 2)), sympy.Derivative(y, x)
        k = sympy.Integer(rng.choice([2, 3, 4, 5]))
        c = sympy.Integer(rng.choice([1, 2, 3])) * rng.choice([1, -1])
        nu = sympy.Rational(1, rng.choice([3, 4, 5]))
        families = [
            lambda: k * x * d2 + d1 + c * y,                              # roots 0 and 1 - 1/k
            lambda: x ** 2 * d2 + x * d1 + (x ** 2 - nu ** 2) * y,        # Bessel of order 1/3, 1/4, 1/5
            lambda: k * x * d2 + 2 * d1 + c * x * y,                      # roots 0 and 1 - 2/k (k = 2: double)
            lambda: 2 * x ** 2 * d2 + x * d1 + (c * x - 1) * y,           # roots 1 and -1/2
        ]
        choices = families[:2] if difficulty == 1 else families
        for _ in range(10):
            lhs = rng.choice(choices)()
            problem = make_problem(sympy.Eq(lhs, 0), yf, x)
            try:
                return Practice(self.id, 0, difficulty, problem, self.derive(problem).answer())
            except CannotDerive:
                k = sympy.Integer(3)
        problem = make_problem(sympy.Eq(2 * x * d2 + d1 + y, 0), yf, x)
        return Practice(self.id, 0, difficulty, problem, self.derive(problem).answer())


METHODS = [PowerSeries, Frobenius]
