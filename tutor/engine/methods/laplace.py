"""The Laplace transform method for initial value problems of linear constant-coefficient equations.

:class:`LaplaceTransform` (``laplace_transform``) solves ``a_n y^(n) + ... + a_0 y = g(t)`` with
``y(0), ..., y^(n-1)(0)`` given, as the textbook's Laplace chapter does:

1. transform both sides — the derivative rule ``L{y^(k)} = s^k Y - s^(k-1) y(0) - ... - y^(k-1)(0)``
   on the left, the table on the right, one entry per piece of the forcing: polynomials,
   exponentials, sines and cosines (the first shift theorem for ``e^{at} f(t)``, the
   ``t^n f(t)`` rule), unit steps ``f(t) u(t - a)`` (rewritten as ``F(t - a) u(t - a)``, then the
   second shift theorem ``L{F(t - a) u(t - a)} = e^{-as} L{F}``) and impulses
   ``L{delta(t - a)} = e^{-as}``;
2. put in the initial values and solve the algebraic equation for ``Y(s)``;
3. split each part of ``Y(s)`` that carries the same ``e^{-as}`` into partial fractions;
4. transform back term by term (the table read backwards, the shift theorems again) and
   assemble ``y(t)`` with unit steps.

Every formula step is checked: the transform pairs as identities that SymPy's own transform
(``LaplaceTransform(...).doit()``) confirms, the initial values as a substitution, ``Y(s)`` by
putting it back into the transformed equation, the partial fractions as an identity, and the
answer by the one checker (in the sense of distributions when steps or impulses occur, see
:mod:`tutor.checker`).

The method is offered first (``matches``) for initial value problems whose forcing has a unit
step or an impulse; ``derive`` also works for every other linear constant-coefficient IVP at
``t = 0`` with a transformable forcing (the method selector: ``solve(..., method="laplace_transform")``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from tutor.engine.base import CannotDerive, Derivation, Method, Practice
from tutor.engine.linear_ode import LinearODE, forcing_terms, linear_form
from tutor.engine.methods.higher_order_practice import (
    equation_from_coefficients, poly_from_roots, practice_from_derivation, random_roots,
)
from tutor.engine.steps import Check, Step, ltx, tex
from tutor.problem import InitialCondition, Problem, textbook_latex

S = sympy.Symbol("s")
R = sympy.Symbol("r")


# --------------------------------------------------------------------------- the forcing, piece by piece


@dataclass(frozen=True)
class Piece:
    """One part of the forcing: ``plain`` g(t), ``step`` g(t) u(t - shift), or ``impulse`` c delta(t - shift)."""

    kind: str
    shift: sympy.Expr
    expression: sympy.Expr  # g(t), or the impulse's strength c

    def term(self, t: sympy.Symbol) -> sympy.Expr:
        if self.kind == "step":
            return self.expression * sympy.Heaviside(t - self.shift)
        if self.kind == "impulse":
            return self.expression * sympy.DiracDelta(t - self.shift)
        return self.expression


def _shift_of(factor: sympy.Expr, t: sympy.Symbol) -> sympy.Expr | None:
    """``a`` of ``u(t - a)`` / ``delta(t - a)`` (slope 1, a >= 0 a number), else None."""
    argument = factor.args[0]
    if sympy.diff(argument, t) != 1:
        return None
    a = sympy.simplify(t - argument)
    if not a.is_number or a.is_negative:
        return None
    return a


def forcing_pieces(g: sympy.Expr, t: sympy.Symbol) -> list[Piece] | None:
    """The forcing split by kind and shift (textbook order); None when a piece has no table entry.

    Each piece's function must be a sum of ``t^k e^{at} cos/sin(bt)`` terms (no periodic
    forcing, no ``1/t``); an impulse needs a point ``a > 0`` (at the initial point itself the
    textbook's ``0^-`` convention and the initial values disagree).
    """
    plain = sympy.S.Zero
    steps: dict[sympy.Expr, sympy.Expr] = {}
    impulses: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(sympy.expand(g)):
        special = [f for f in sympy.Mul.make_args(term) if isinstance(f, (sympy.Heaviside, sympy.DiracDelta))]
        rest = sympy.Mul(*[f for f in sympy.Mul.make_args(term) if f not in special])
        if rest.has(sympy.Heaviside, sympy.DiracDelta) or len(special) > 1:
            return None
        if not special:
            plain += term
            continue
        (factor,) = special
        if isinstance(factor, sympy.DiracDelta) and len(factor.args) > 1:
            return None  # delta'(t - a): not in a first course
        a = _shift_of(factor, t)
        if a is None:
            return None
        if isinstance(factor, sympy.DiracDelta):
            if a == 0:
                return None
            impulses[a] = impulses.get(a, sympy.S.Zero) + rest.subs(t, a)  # c(t) delta(t - a) = c(a) delta(t - a)
        elif a == 0:
            plain += rest  # u(t) is 1 for t > 0
        else:
            steps[a] = steps.get(a, sympy.S.Zero) + rest
    pieces = [Piece("plain", sympy.S.Zero, plain)] if plain != 0 else []
    pieces += [Piece("step", a, steps[a]) for a in sorted(steps, key=float) if steps[a] != 0]
    pieces += [Piece("impulse", a, impulses[a]) for a in sorted(impulses, key=float) if impulses[a] != 0]
    for piece in pieces:
        if piece.kind != "impulse" and forcing_terms(piece.expression, t) is None:
            return None
        if piece.kind == "impulse" and piece.expression.has(t):
            return None
    return pieces


# --------------------------------------------------------------------------- the table, in words


def _entry(term: sympy.Expr, t: sympy.Symbol) -> str:
    """The table entry (and theorem) a textbook uses for ``L{term}``, term = c t^n e^{at} sin/cos(bt)."""
    n, a, b, trig = 0, sympy.S.Zero, sympy.S.Zero, None
    for factor in sympy.Mul.make_args(term.as_independent(t, as_Add=False)[1]):
        base, exponent = factor.as_base_exp()
        if base == t:
            n += int(exponent)
        elif isinstance(factor, sympy.exp):
            a += sympy.diff(factor.args[0], t)
        elif isinstance(factor, (sympy.sin, sympy.cos)):
            trig, b = type(factor).__name__, sympy.diff(factor.args[0], t)
    if trig is None and a == 0:
        return r"\mathcal{L}\{1\} = \frac{1}{s}" if n == 0 else r"\mathcal{L}\{t^n\} = \frac{n!}{s^{n+1}}"
    if trig is None and n == 0:
        return r"\mathcal{L}\{e^{at}\} = \frac{1}{s - a}"
    if trig is None:
        return r"\mathcal{L}\{t^n e^{at}\} = \frac{n!}{(s - a)^{n+1}}"
    basic = (r"\mathcal{L}\{\sin bt\} = \frac{b}{s^2 + b^2}" if trig == "sin"
             else r"\mathcal{L}\{\cos bt\} = \frac{s}{s^2 + b^2}")
    extra = []
    if a != 0:
        extra.append(r"the first shift theorem $\mathcal{L}\{e^{at}f(t)\} = F(s - a)$")
    if n:
        extra.append(r"$\mathcal{L}\{t^n f(t)\} = (-1)^n F^{(n)}(s)$")
    return basic + ("$ with " + " and ".join(extra) + "$" if extra else "")


def _inverse_entry(term: sympy.Expr) -> str:
    """The table entry read backwards for one partial fraction ``A/(s - a)^k`` or ``(Bs + C)/(quadratic)^k``."""
    denominator = sympy.denom(sympy.together(term))
    factors = [f for f, _ in sympy.factor_list(denominator, S)[1] if f.has(S)]
    if not factors:
        return r"\mathcal{L}^{-1}\{c\}"  # not reached: partial fractions of proper rational functions
    degree = sympy.degree(factors[0], S)
    power = max(m for f, m in sympy.factor_list(denominator, S)[1] if f.has(S))
    if degree == 1:
        root = sympy.solve(factors[0], S)[0]
        if power == 1:
            return (r"\frac{1}{s} \leftrightarrow 1" if root == 0 else r"\frac{1}{s - a} \leftrightarrow e^{at}")
        return (r"\frac{n!}{s^{n+1}} \leftrightarrow t^n" if root == 0
                else r"\frac{n!}{(s - a)^{n+1}} \leftrightarrow t^n e^{at}")
    if power == 1:
        shifted = sympy.Poly(factors[0], S).all_coeffs()[1] != 0
        return (r"\frac{s - a}{(s - a)^2 + b^2} \leftrightarrow e^{at}\cos bt,\ "
                r"\frac{b}{(s - a)^2 + b^2} \leftrightarrow e^{at}\sin bt" + r"\ \text{(complete the square)}"
                if shifted else
                r"\frac{s}{s^2 + b^2} \leftrightarrow \cos bt,\ \frac{b}{s^2 + b^2} \leftrightarrow \sin bt")
    return r"\frac{2b^3}{(s^2 + b^2)^2} \leftrightarrow \sin bt - bt\cos bt,\ \frac{2bs}{(s^2 + b^2)^2} \leftrightarrow t\sin bt"


def _laplace(f: sympy.Expr, t: sympy.Symbol) -> sympy.Expr:
    value = sympy.laplace_transform(f, t, S, noconds=True)
    if value.has(sympy.LaplaceTransform):
        raise CannotDerive(f"no table entry for {f}")
    return value


def _inverse(F: sympy.Expr, t: sympy.Symbol) -> sympy.Expr:
    f = sympy.inverse_laplace_transform(F, S, t)
    if f.has(sympy.InverseLaplaceTransform):
        raise CannotDerive(f"no inverse transform found for {F}")
    # The answer is for t > 0, where u(t) = 1 (the textbook omits it).
    return sympy.expand(f.subs(sympy.Heaviside(t), 1))


def _shift_exponent(factor: sympy.Expr) -> sympy.Expr | None:
    """``-as`` for a factor ``e^{-as}`` (or ``(e^{as})^{-1}``), None for a factor free of such exponentials."""
    if isinstance(factor, sympy.exp) and factor.has(S):
        return factor.args[0]
    base, power = factor.as_base_exp()
    if isinstance(base, sympy.exp) and base.has(S) and not power.has(S):
        return base.args[0] * power
    return None


def _split_shift(term: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``(a, R)`` with ``term = e^{-as} R(s)``; CannotDerive for other exponentials of s."""
    exponent, rest = sympy.S.Zero, []
    for factor in sympy.Mul.make_args(term):
        e = _shift_exponent(factor)
        if e is None:
            rest.append(factor)
        else:
            exponent += e
    a = sympy.simplify(-exponent / S)
    R_part = sympy.Mul(*rest)
    if a.has(S) or R_part.has(sympy.exp) and any(e.has(S) for e in R_part.atoms(sympy.exp)):
        raise CannotDerive("an exponential in s that is not a shift")
    return a, R_part


def _by_exponential(Y: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
    """``Y(s) = sum_a e^{-as} R_a(s)`` as ``{a: R_a}`` (a = 0 first); Y is a sum of ``_factored`` terms."""
    groups: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(Y):
        a, R_part = _split_shift(term)
        groups[a] = groups.get(a, sympy.S.Zero) + R_part
    return {a: sympy.factor(sympy.cancel(sympy.together(groups[a])), S)
            for a in sorted(groups, key=float) if sympy.cancel(groups[a]) != 0}


def _factored(term: sympy.Expr) -> sympy.Expr:
    """A term ``e^{-as} R(s)`` with R factored (``factor`` refuses e^{-s} among the generators)."""
    if term == 0:
        return sympy.S.Zero
    a, R_part = _split_shift(term)
    return sympy.Mul(sympy.factor(sympy.cancel(R_part), S), sympy.exp(-a * S))


def _fractions(R_a: sympy.Expr) -> list[sympy.Expr]:
    return list(sympy.Add.make_args(sympy.apart(sympy.cancel(R_a), S)))


# --------------------------------------------------------------------------- the method


def _transform_name(function: sympy.FunctionClass) -> sympy.Symbol:
    """``Y`` for y, ``X`` for x ... (the textbook's capital letter for the transform)."""
    name = function.__name__
    return sympy.Symbol(name.upper() if name.upper() != name else name + r"_{\mathcal{L}}")


@dataclass(frozen=True)
class TransformForm:
    """What the Laplace method works from: the linear constant-coefficient equation and the pieces
    of its forcing (plain terms, unit steps, impulses)."""

    equation: LinearODE
    pieces: list[Piece]


def _setup(problem: Problem) -> TransformForm | None:
    """The form when the method can derive (a constant-coefficient IVP at 0 whose forcing the table
    covers), else None."""
    if problem.order < 1:
        return None
    # the initial values first: most problems have none, and the linear form costs a simplify
    orders = sorted(ic.order for ic in problem.ics)
    if orders != list(range(problem.order)) or any(ic.point != 0 for ic in problem.ics):
        return None
    equation = linear_form(problem.expr, problem.function, problem.variable)
    if equation is None or any(a.has(problem.variable) for a in equation.coefficients):
        return None
    pieces = forcing_pieces(equation.rhs, problem.variable)
    if pieces is None:
        return None
    return TransformForm(equation, pieces)


class LaplaceTransform(Method):
    """Linear, constant coefficients, ``y(0), ..., y^(n-1)(0)`` given: transform, solve for Y(s), invert."""

    id = "laplace_transform"
    name = "Laplace transform"

    not_matched = ("the Laplace method needs a linear constant-coefficient equation with "
                   "y(0), ..., y^(n-1)(0) given and a forcing the table covers")

    def match(self, problem: Problem) -> TransformForm | None:
        """The form when the forcing has a unit step or an impulse (where a textbook reaches for the
        transform first); :meth:`derivable` takes any constant-coefficient IVP at 0."""
        form = _setup(problem)
        return form if form is not None and any(p.kind != "plain" for p in form.pieces) else None

    def hint(self, problem: Problem, form: TransformForm | None = None) -> str:
        return ("Take the Laplace transform of both sides: each derivative becomes a power of $s$ times "
                "$Y(s)$ minus the initial values, and each unit step or impulse at $t = a$ brings a factor "
                "$e^{-as}$. Solve the algebraic equation for $Y(s)$, split it into partial fractions and "
                "transform back term by term, using the second shift theorem for the $e^{-as}$ terms.")

    def derivable(self, problem: Problem) -> TransformForm | None:
        # Asked for by name (the method selector), any constant-coefficient IVP at 0 derives.
        return _setup(problem)

    def _derive(self, problem: Problem, form: TransformForm) -> Derivation:
        equation, pieces = form.equation, form.pieces
        t, y, function = problem.variable, problem.unknown, problem.function
        Ys = _transform_name(function)
        Yname = ltx(Ys)
        Yof = f"{Yname}(s)"
        steps: list[Step] = []

        # 1. the left side: the derivative rule
        left = sympy.Add(*[a * sympy.Derivative(y, (t, k)) if k else a * y
                           for k, a in enumerate(equation.coefficients)])
        rule = sympy.laplace_transform(left, t, S, noconds=True)
        L_y = sympy.LaplaceTransform(y, t, S)
        initial = {L_y: Ys}
        for ic in problem.ics:
            initial[ic.key(function, t)] = ic.value
        steps.append(Step(
            "Transform the left side",
            f"Take the Laplace transform of both sides; write ${Yof} = \\mathcal{{L}}\\{{{ltx(sympy.Symbol(function.__name__))}\\}}$. "
            "The derivative rule $\\mathcal{L}\\{y^{(k)}\\} = s^k Y(s) - s^{k-1}y(0) - \\dots - y^{(k-1)}(0)$ "
            "gives, for the left side,",
            r"\mathcal{L}\{" + textbook_latex(left, function, t) + r"\} = "
            + _with_transform(sympy.expand(rule), L_y, Yof, lambda e: _ic_latex(e, function, t)),
            Check.IDENTITY, after=sympy.Eq(sympy.LaplaceTransform(left, t, S), rule, evaluate=False)))

        # 2. the right side: one table entry per piece
        G = sympy.S.Zero
        for piece in pieces:
            piece_steps, value = self._transform_piece(piece, t)
            steps.extend(piece_steps)
            G += value

        # 3. initial values in; the algebraic equation
        algebraic_lhs = sympy.expand(rule.xreplace(initial))
        P = sympy.expand(sympy.diff(algebraic_lhs, Ys))
        Q = sympy.expand(-(algebraic_lhs - P * Ys))
        values = ", ".join(f"${ic.latex(function)}$" for ic in problem.ics)
        transformed = sympy.Eq(algebraic_lhs, G)
        steps.append(Step(
            "Put in the initial values",
            f"With {values} the transformed equation is algebraic in ${Yof}$:",
            _with_transform(algebraic_lhs, Ys, Yof, ltx) + " = " + ltx(G),
            Check.SUBSTITUTION, before=sympy.Eq(rule, G), after=transformed, substitution=initial))

        # 4. solve for Y(s)
        Y = (G + Q) / P
        Y_shown = sympy.Add(*[_factored(Q / P)] + [_factored(term / P) for term in sympy.Add.make_args(G)])
        steps.append(Step(
            f"Solve for {Yof}",
            f"Divide by the characteristic polynomial ${ltx(sympy.factor(P, S))}$ (the same polynomial as in "
            "$y = e^{rt}$, with $s$ for $r$).",
            f"{Yof} = " + ltx(Y_shown),
            Check.IDENTITY, after=sympy.Eq(sympy.expand(P * Y_shown) - Q, G)))

        # 5. partial fractions, one group per shift e^{-as}
        groups = _by_exponential(Y_shown)
        answer = sympy.S.Zero
        for a, R_a in groups.items():
            fractions = _fractions(R_a)
            where = "" if a == 0 else f" (the part multiplied by ${ltx(sympy.exp(-a * S))}$)"
            if len(fractions) > 1:
                steps.append(Step(
                    "Partial fractions" + (f" of the ${ltx(sympy.exp(-a * S))}$ part" if a != 0 else ""),
                    f"Split{where} into partial fractions; complex roots of the denominator stay together as "
                    "irreducible quadratics.",
                    ltx(R_a) + " = " + ltx(sympy.Add(*fractions)),
                    Check.IDENTITY, after=sympy.Eq(R_a, sympy.Add(*fractions), evaluate=False)))
            # 6. back to t, term by term
            inverses = [_inverse(F, t) for F in fractions]
            r_a = sympy.Add(*inverses)
            entries = list(dict.fromkeys(_inverse_entry(F) for F in fractions))
            steps.append(Step(
                "Inverse transform" + (f" of the ${ltx(sympy.exp(-a * S))}$ part" if a != 0 else ""),
                "Read the table backwards, term by term: " + "; ".join(f"${e}$" for e in entries) + ".",
                r",\quad ".join(r"\mathcal{L}^{-1}\left\{" + ltx(F) + r"\right\} = " + ltx(f)
                                for F, f in zip(fractions, inverses)),
                Check.IDENTITY, after=sympy.Eq(sympy.LaplaceTransform(r_a, t, S), R_a, evaluate=False)))
            if a == 0:
                answer += r_a
                continue
            # not expanded: e^{-(t - 1)} stays one exponential, as the textbook writes it
            shifted = r_a.subs(t, t - a) * sympy.Heaviside(t - a)
            shifted_shown = sympy.Mul(sympy.factor_terms(r_a.subs(t, t - a)), sympy.Heaviside(t - a), evaluate=False)
            steps.append(Step(
                f"Second shift theorem at $t = {ltx(a)}$",
                "$\\mathcal{L}^{-1}\\{e^{-as}F(s)\\} = f(t - a)\\,\\mathcal{U}(t - a)$: replace $t$ by "
                f"$t - {ltx(a)}$ and switch the piece on at $t = {ltx(a)}$.",
                r"\mathcal{L}^{-1}\left\{" + ltx(sympy.exp(-a * S) * R_a) + r"\right\} = " + ltx(shifted_shown),
                Check.IDENTITY,
                after=sympy.Eq(sympy.LaplaceTransform(shifted, t, S), sympy.exp(-a * S) * R_a, evaluate=False)))
            answer += shifted_shown
        solution = sympy.Eq(y, answer)
        steps.append(Step(
            "Solution",
            "Add the pieces; each unit step switches its piece on at its time"
            if any(a != 0 for a in groups) else "Add the pieces:",
            tex(solution, t), Check.CONSTANTS, after=solution))
        return Derivation(self.id, tuple(steps), (solution,), (), (True,), hint=self.hint(problem, form))

    @staticmethod
    def _transform_piece(piece: Piece, t: sympy.Symbol) -> tuple[list[Step], sympy.Expr]:
        if piece.kind == "impulse":
            value = piece.expression * sympy.exp(-piece.shift * S)
            return [Step(
                f"Transform the impulse at $t = {ltx(piece.shift)}$",
                "The table: $\\mathcal{L}\\{\\delta(t - a)\\} = e^{-as}$.",
                r"\mathcal{L}\left\{" + ltx(piece.term(t)) + r"\right\} = " + ltx(value),
                Check.IDENTITY, after=sympy.Eq(sympy.LaplaceTransform(piece.term(t), t, S), value, evaluate=False))
            ], value
        if piece.kind == "plain":
            terms = list(sympy.Add.make_args(sympy.expand(piece.expression)))
            values = [_laplace(term, t) for term in terms]
            entries = list(dict.fromkeys(_entry(term, t) for term in terms))
            value = sympy.Add(*values)
            return [Step(
                "Transform the forcing",
                "Term by term from the table: " + "; ".join(f"${e}$" for e in entries) + ".",
                r"\mathcal{L}\left\{" + ltx(piece.expression) + r"\right\} = " + ltx(value),
                Check.IDENTITY, after=sympy.Eq(sympy.LaplaceTransform(piece.expression, t, S), value, evaluate=False))
            ], value
        # a step: g(t) u(t - a) = F(t - a) u(t - a) with F(tau) = g(tau + a), then the second shift theorem
        a = piece.shift
        F = sympy.expand(piece.expression.subs(t, t + a))
        F_s = _laplace(F, t) if F != 0 else sympy.S.Zero
        value = sympy.exp(-a * S) * F_s
        steps = []
        if sympy.expand(F - piece.expression) != 0:
            # t - a shown as one block, (t - a), the way the textbook writes F(t - a)
            block = sympy.Symbol(f"\\left({ltx(t - a)}\\right)")
            steps.append(Step(
                f"Write the step at $t = {ltx(a)}$ in shifted form",
                f"The second shift theorem needs the function in powers of $t - {ltx(a)}$: "
                f"with $F(t) = {ltx(F)}$, ${ltx(piece.expression)} = F(t - {ltx(a)})$.",
                ltx(piece.expression) + " = " + ltx(F.subs(t, block)),
                Check.IDENTITY, after=sympy.Eq(piece.expression, F.subs(t, t - a), evaluate=False)))
        entries = list(dict.fromkeys(_entry(term, t) for term in sympy.Add.make_args(F)))
        steps.append(Step(
            f"Transform the step at $t = {ltx(a)}$",
            "The second shift theorem $\\mathcal{L}\\{F(t - a)\\,\\mathcal{U}(t - a)\\} = e^{-as}\\,\\mathcal{L}\\{F\\}$, "
            "with " + "; ".join(f"${e}$" for e in entries) + ".",
            r"\mathcal{L}\left\{" + ltx(piece.term(t)) + r"\right\} = " + ltx(value),
            Check.IDENTITY, after=sympy.Eq(sympy.LaplaceTransform(piece.term(t), t, S), value, evaluate=False)))
        return steps, value

    # Forcing families a first course assigns (c: a coefficient, a < b: switching times).
    _FORCING = (
        lambda t, c, a, b: c * sympy.Heaviside(t - a),
        lambda t, c, a, b: c * sympy.DiracDelta(t - a),
        lambda t, c, a, b: c * (sympy.Heaviside(t - a) - sympy.Heaviside(t - b)),
        lambda t, c, a, b: c - c * sympy.Heaviside(t - a),
    )
    _SHIFTED = (
        lambda t, c, a, b: c * t * sympy.Heaviside(t - a),
        lambda t, c, a, b: c * sympy.exp(-t) * sympy.Heaviside(t - a),
        lambda t, c, a, b: c * (t - a) * sympy.Heaviside(t - a),
        lambda t, c, a, b: c * sympy.sin(t) * sympy.Heaviside(t - sympy.pi),
        lambda t, c, a, b: c * sympy.DiracDelta(t - a) + sympy.Heaviside(t - b),
    )

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        # 1: first order with a step or an impulse; 2: second order (distinct, repeated or complex
        # roots) with a step, an impulse or a pulse; 3: second order with a shifted function.
        t, y = sympy.Symbol("t"), sympy.Function("y")
        c = sympy.Integer(rng.choice([1, 2, 3, 4, -1, -2]))
        a = sympy.Integer(1 if difficulty == 1 else rng.randint(1, 3))  # the first exercises switch at t = 1
        b = a + rng.randint(1, 2)
        if difficulty == 1:
            coefficients = (sympy.Integer(rng.choice([-2, -1, 1, 2, 3])), sympy.S.One)
        else:
            coefficients = poly_from_roots(random_roots(rng, 1), R)
        families = self._FORCING if difficulty < 3 else self._SHIFTED
        forcing = rng.choice(families)(t, c, a, b)
        equation = equation_from_coefficients(coefficients, forcing, y(t), t)
        ics = tuple(InitialCondition(k, sympy.S.Zero, sympy.Integer(rng.randint(-2, 2)))
                    for k in range(len(coefficients) - 1))
        return practice_from_derivation(self, equation, y, t, ics)


def _with_transform(expr: sympy.Expr, Y: sympy.Expr, name: str, write) -> str:
    """``(s^2 + 1) Y(s) - s y(0) - y'(0)``: the coefficient of the transform first, as textbooks write it."""
    expr = sympy.expand(expr)
    coefficient = expr.coeff(Y)
    rest = sympy.expand(expr - coefficient * Y)
    factor = coefficient  # s^2 + 3s + 2, not factored: the characteristic polynomial as the textbook shows it
    head = (name if factor == 1 else f"-{name}" if factor == -1
            else rf"{ltx(factor)}\,{name}" if not isinstance(factor, sympy.Add) else rf"\left({ltx(factor)}\right) {name}")
    if rest == 0:
        return head
    tail = write(rest)
    return head + (f" - {tail[1:].strip()}" if tail.startswith("-") else f" + {tail}")


def _ic_latex(expr: sympy.Expr, function: sympy.FunctionClass, t: sympy.Symbol) -> str:
    """``y(0)``, ``y'(0)`` for SymPy's ``y(0)`` and ``Subs(Derivative(y(t), t), t, 0)``."""
    name = ltx(sympy.Symbol(function.__name__))
    replacements = {}
    for sub in expr.atoms(sympy.Subs):
        derivative = sub.args[0]
        if isinstance(derivative, sympy.Derivative):
            order = derivative.derivative_count
            replacements[sub] = sympy.Symbol(f"{name}{chr(39) * order}({ltx(sub.args[2][0])})")
    for applied in expr.atoms(sympy.core.function.AppliedUndef):
        if applied.func == function and applied.args[0].is_number:
            replacements[applied] = sympy.Symbol(f"{name}({ltx(applied.args[0])})")
    return ltx(expr.xreplace(replacements))


METHODS = [LaplaceTransform]
