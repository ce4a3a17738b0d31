"""Autonomous first-order equations ``y' = f(y)``: equilibria, their stability, the phase line,
then the solution by separation of variables.

:class:`Autonomous` (``autonomous``) is the textbook's section on population models (logistic
growth, harvesting): the qualitative analysis first — the equilibria ``f(c) = 0`` (constant
solutions), the sign of ``f`` between them (the phase line: arrows up where ``f > 0``, down
where ``f < 0``) and so each equilibrium's stability (``f'(c) < 0``: asymptotically stable,
``f'(c) > 0``: unstable, and for ``f'(c) = 0`` the signs on either side: semi-stable when they
agree); then the solution, derived by :class:`~tutor.engine.methods.separable.Separable` (its
steps follow), and for an IVP the long-term behaviour the phase line predicts, checked as a limit.

It applies when ``f`` depends on y only, is nonlinear in y (``y' = ky`` is the separable
exponential model) and its equilibria are finitely many, exact and real: ``f`` a rational
function of y with numeric coefficients and a denominator without real zeros. Every step is
checked: the equilibria solve the equation, each sign and each ``f'(c)`` is an identity, the
limit is an identity SymPy's ``limit`` confirms.

:func:`phase_line` returns the analysis as data (the app draws the phase line from it).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import CannotDerive, Derivation, Method, Practice, make_problem, normal_form, y_symbol
from tutor.engine.methods.separable import Separable
from tutor.engine.steps import Check, Step, ltx, tex
from tutor.problem import InitialCondition, Problem

STABLE, UNSTABLE, SEMISTABLE = "asymptotically stable", "unstable", "semi-stable"


@dataclass(frozen=True)
class Equilibrium:
    value: sympy.Expr
    slope: sympy.Expr  # f'(value)
    left: int  # sign of f just below (-1, 0, 1)
    right: int  # sign of f just above
    stability: str


@dataclass(frozen=True)
class PhaseLine:
    """``y' = f(y)``: the equilibria in increasing order and the sign of f on each interval."""

    f: sympy.Expr  # in the plain symbol Y
    Y: sympy.Symbol
    equilibria: tuple[Equilibrium, ...]
    samples: tuple[sympy.Expr, ...]  # a point in each interval, below the first to above the last
    signs: tuple[int, ...]  # sign of f at each sample


def _equilibria(f: sympy.Expr, Y: sympy.Symbol) -> list[sympy.Expr] | None:
    """The real zeros of f, sorted; None when they cannot all be found exactly."""
    numerator, denominator = sympy.fraction(sympy.cancel(sympy.together(f)))
    if not numerator.is_polynomial(Y) or not denominator.is_polynomial(Y):
        return None
    if sympy.Poly(denominator, Y).degree() > 0 and sympy.real_roots(sympy.Poly(denominator, Y)):
        return None  # f blows up at a real y: no phase line of this kind
    poly = sympy.Poly(numerator, Y)
    if poly.degree() < 1:
        return []
    found = sympy.roots(poly, filter="R")
    if sum(found.values()) != len(sympy.real_roots(poly)):
        return None  # some real root has no radical form
    values = [sympy.nsimplify(r) if r.is_Float else r for r in found]
    return sorted(values, key=lambda v: float(v))


def phase_line(f: sympy.Expr, Y: sympy.Symbol) -> PhaseLine | None:
    """The phase line of ``y' = f(Y)`` (numeric coefficients), or None when it cannot be drawn exactly."""
    if f.free_symbols != {Y}:
        return None
    equilibria = _equilibria(f, Y)
    if not equilibria:
        return None
    values = [float(c) for c in equilibria]
    samples = [sympy.floor(equilibria[0]) - 1]
    for lo, hi in zip(equilibria, equilibria[1:]):
        samples.append(sympy.nsimplify((lo + hi) / 2))
    samples.append(sympy.ceiling(equilibria[-1]) + 1)
    signs = [int(sympy.sign(f.subs(Y, p))) for p in samples]
    if 0 in signs or any(not (a < float(p) < b) for a, b, p in
                         zip([-float("inf")] + values, values + [float("inf")], samples)):
        return None
    out = []
    derivative = sympy.diff(f, Y)
    for i, c in enumerate(equilibria):
        slope = sympy.simplify(derivative.subs(Y, c))
        left, right = signs[i], signs[i + 1]
        if left > 0 > right:
            stability = STABLE
        elif left < 0 < right:
            stability = UNSTABLE
        else:
            stability = SEMISTABLE
        out.append(Equilibrium(c, slope, left, right, stability))
    return PhaseLine(f, Y, tuple(out), tuple(samples), tuple(signs))


def _interval_tex(lo: sympy.Expr | None, hi: sympy.Expr | None) -> str:
    low = r"-\infty" if lo is None else ltx(lo)
    high = r"\infty" if hi is None else ltx(hi)
    return f"({low}, {high})"


class Autonomous(Method):
    """``y' = f(y)``, f nonlinear with finitely many exact real equilibria."""

    id = "autonomous"
    name = "Autonomous equation (equilibria and phase line)"
    orders = (1,)

    @staticmethod
    def _analysis(problem: Problem) -> PhaseLine | None:
        if problem.order != 1:
            return None
        f = normal_form(problem)
        if f is None:
            return None
        Y = y_symbol(problem)
        fY = f.subs(problem.unknown, Y)
        if fY.has(problem.variable) or fY.has(problem.function) or not fY.has(Y):
            return None
        numerator, denominator = sympy.fraction(sympy.cancel(sympy.together(fY)))
        if numerator.is_polynomial(Y) and sympy.degree(numerator, Y) <= 1 and not denominator.has(Y):
            return None  # y' = ky + b: the linear (exponential) model, not the phase-line section
        return phase_line(fY, Y)

    def matches(self, problem: Problem) -> bool:
        return self._analysis(problem) is not None

    def hint(self, problem: Problem) -> str:
        return ("The equation is autonomous, $y' = f(y)$: the equilibria are the zeros of $f$; the sign of $f$ "
                "between them (the phase line) shows which are stable. Then separate the variables, "
                "$\\frac{dy}{f(y)} = dx$, and integrate.")

    def derive(self, problem: Problem) -> Derivation:
        analysis = self._analysis(problem)
        if analysis is None:
            raise CannotDerive("not an autonomous equation with exact real equilibria")
        x, y, Y, f = problem.variable, problem.unknown, analysis.Y, analysis.f
        name = ltx(Y)
        ode = sympy.Eq(sympy.Derivative(y, x), sympy.factor(f).subs(Y, y))
        steps: list[Step] = []
        if problem.equation != ode:
            steps.append(Step("Autonomous form", f"$x$ does not appear: the equation is ${name}' = f({name})$ with",
                              tex(ode, x), Check.EQUIVALENT, before=problem.equation, after=ode))
        constants = tuple(sympy.Eq(y, e.value) for e in analysis.equilibria)
        steps.append(Step(
            "Equilibria",
            f"Constant solutions have ${name}' = 0$, so they are the zeros of $f({name}) = {ltx(f)}$:",
            tex(constants, x), Check.SOLVES, after=constants))
        # the phase line: the sign of f at a point of each interval
        bounds = [None] + [e.value for e in analysis.equilibria] + [None]
        weights = [sympy.Dummy(f"w{i}") for i in range(len(analysis.samples))]
        pieces = []
        for lo, hi, p, sgn in zip(bounds, bounds[1:], analysis.samples, analysis.signs):
            arrow = r"\uparrow" if sgn > 0 else r"\downarrow"
            pieces.append(f"{_interval_tex(lo, hi)}:\\ f({ltx(p)}) {'>' if sgn > 0 else '<'} 0\\ {arrow}")
        steps.append(Step(
            "Phase line",
            f"Between equilibria $f$ keeps its sign; test one point in each interval. Where $f > 0$ the "
            f"solutions increase (arrow up), where $f < 0$ they decrease.",
            r",\quad ".join(pieces), Check.IDENTITY,
            after=sympy.Eq(sympy.Add(*[w * sympy.sign(f.subs(Y, p)) for w, p in zip(weights, analysis.samples)]),
                           sympy.Add(*[w * s for w, s in zip(weights, analysis.signs)]), evaluate=False)))
        derivative = sympy.diff(f, Y)
        for e in analysis.equilibria:
            if e.slope != 0:
                why = (f"$f'({ltx(e.value)}) = {ltx(e.slope)} {'<' if e.slope.is_negative else '>'} 0$: nearby "
                       f"solutions {'approach it' if e.slope.is_negative else 'move away'}")
            else:
                side = "above" if e.left > 0 else "below"
                why = (f"$f'({ltx(e.value)}) = 0$ decides nothing; $f$ has the same sign on both sides, so "
                       f"solutions approach it from one side and leave on the other ({side} it, they move up)"
                       if e.stability == SEMISTABLE else f"$f'({ltx(e.value)}) = 0$, but the signs of $f$ around it decide")
            steps.append(Step(
                f"Stability of ${name} = {ltx(e.value)}$",
                why + f", so ${name} = {ltx(e.value)}$ is {e.stability}.",
                f"f'({name}) = {ltx(derivative)},\\quad f'({ltx(e.value)}) = {ltx(e.slope)}"
                f"\\ \\Rightarrow\\ \\text{{{e.stability}}}",
                Check.IDENTITY, after=sympy.Eq(sympy.Subs(sympy.Derivative(f, Y), Y, e.value), e.slope, evaluate=False)))
        solved = Separable().derive(problem)
        steps.append(Step("Solve by separation",
                          f"The equation is also separable: $\\frac{{d{name}}}{{f({name})}} = d{ltx(x)}$.", "",
                          Check.NOTE))
        # the normal form is already on the page (the autonomous form above)
        steps.extend(s for s in solved.steps if not (steps[0].title == "Autonomous form"
                                                      and s.title == "Solve for the derivative"))
        steps.extend(self._long_term(problem, analysis, solved))
        return Derivation(self.id, tuple(steps), solved.solutions, solved.constants, solved.explicit,
                          solved.lost, hint=self.hint(problem))

    @staticmethod
    def _long_term(problem: Problem, analysis: PhaseLine, solved: Derivation) -> list[Step]:
        """For an IVP: where the solution goes as x -> oo, read off the phase line and checked as a limit."""
        if not problem.ics or len(solved.solutions) != 1 or not solved.explicit or not solved.explicit[0]:
            return []
        x, y0 = problem.variable, problem.ics[0].value
        name = ltx(analysis.Y)
        values = [e.value for e in analysis.equilibria]
        if not y0.is_number or any(sympy.simplify(y0 - c) == 0 for c in values):
            return []
        index = sum(float(y0) > float(c) for c in values)  # the interval y0 lies in
        sign = analysis.signs[index]
        target = values[index] if sign > 0 and index < len(values) else values[index - 1] if sign < 0 and index > 0 else None
        if target is None:
            return [Step("Long-term behaviour",
                         f"${name}(0) = {ltx(y0)}$ lies beyond the last equilibrium on the side the arrow points "
                         "away from: the solution grows without bound (possibly in finite time).", "", Check.NOTE)]
        limit = sympy.Limit(solved.solutions[0].rhs, x, sympy.oo)
        return [Step("Long-term behaviour",
                     f"${ltx(y0)}$ lies in the interval where the arrow points "
                     f"{'up' if sign > 0 else 'down'}, towards the equilibrium ${name} = {ltx(target)}$; the solution "
                     "stays between the equilibria and tends to it.",
                     f"\\lim_{{{ltx(x)} \\to \\infty}} {name}({ltx(x)}) = {ltx(target)}",
                     Check.IDENTITY, after=sympy.Eq(limit, target, evaluate=False))]

    # (f(Y) from two numbers a, b): logistic, harvesting, two equilibria, semi-stable, cubic
    _FAMILIES = (
        lambda Y, a, b: a * Y * (1 - Y / b),                 # logistic, carrying capacity b
        lambda Y, a, b: Y * (1 - Y) - sympy.Rational(3, 16),  # harvesting: equilibria 1/4, 3/4
        lambda Y, a, b: Y ** 2 - b ** 2,
        lambda Y, a, b: (Y - a) * (Y - a - b),
        lambda Y, a, b: -(Y - a) ** 2,
        lambda Y, a, b: Y * (Y - a) * (Y + b),
    )

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        x, yf = sympy.Symbol("x"), sympy.Function("y")
        Y = sympy.Symbol("y")
        a, b = sympy.Integer(rng.randint(1, 3)), sympy.Integer(rng.randint(1, 4))
        families = self._FAMILIES[: 2 + 2 * difficulty]
        f = sympy.expand(rng.choice(families)(Y, a, b)) if rng.random() < 0.5 else rng.choice(families)(Y, a, b)
        equation = sympy.Eq(sympy.Derivative(yf(x), x), f.subs(Y, yf(x)))
        ics = ()
        if difficulty >= 2 and rng.random() < 0.5:
            ics = (InitialCondition(0, sympy.S.Zero, sympy.Rational(rng.randint(1, 7), 2)),)
        problem = make_problem(equation, yf, x, ics)
        try:
            derivation = self.derive(problem)
        except CannotDerive:
            problem = make_problem(equation, yf, x)  # the IVP sits on a branch the method cannot write
            derivation = self.derive(problem)
        return Practice(self.id, 0, difficulty, problem, derivation.answer())


METHODS = [Autonomous]
