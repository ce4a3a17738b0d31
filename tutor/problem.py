"""The one problem type every stage takes: an ODE in an applied function, with its conditions.

``Problem`` is frozen; derived facts (order, the unknown, the highest derivative, whether it
looks heavy) are computed once, lazily, and cached on the instance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import sympy
from sympy.printing.latex import LatexPrinter



class _TextbookPrinter(LatexPrinter):
    """SymPy's LaTeX, with the unit step written as textbooks do, ``\\mathcal{U}(t - a)``
    (SymPy writes ``\\theta(t - a)``, which reads as a variable theta; the parser reads both
    ``\\mathcal{U}(t - a)`` and ``\\delta(t - a)`` back)."""

    def _print_Heaviside(self, expr: sympy.Heaviside, exp: str | None = None) -> str:
        tex = r"\mathcal{U}\left(%s\right)" % self._print(expr.args[0])
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_ComplexRootOf(self, expr: sympy.CRootOf) -> str:
        # An indexed root of a polynomial with no radical formula: ``r_k`` (SymPy's numbering plus
        # one); the step that finds the roots defines each with its value (``roots_text``).
        return r"r_{%d}" % (expr.index + 1)

    def _print_re(self, expr: sympy.re, exp: str | None = None) -> str:
        if isinstance(expr.args[0], sympy.CRootOf):
            return r"\operatorname{Re} %s" % self._print(expr.args[0])
        return super()._print_re(expr, exp)

    def _print_im(self, expr: sympy.im, exp: str | None = None) -> str:
        if isinstance(expr.args[0], sympy.CRootOf):
            return r"\operatorname{Im} %s" % self._print(expr.args[0])
        return super()._print_im(expr, exp)

    def _print_Order(self, expr: sympy.Order) -> str:
        # O((x - 1)^8) as textbooks write it: the point is in the argument, not "; x -> 1" (which the
        # answer reader would split at the semicolon)
        return r"O\left(%s\right)" % self._print(expr.expr)


def latex(expr: sympy.Basic, **settings) -> str:
    """``sympy.latex`` with the textbook's unit step (every textbook formula goes through this)."""
    return _TextbookPrinter(settings).doprint(expr)


def prime_symbols(expr: sympy.Basic, variable: sympy.Symbol,
                  function: sympy.FunctionClass | None = None) -> dict[sympy.Basic, sympy.Symbol]:
    """Textbook names for the unknowns in ``expr``: primes (up to three, then ``y^{(4)}``) for the
    derivatives of ``y(variable)`` and ``y`` for ``y(variable)``, for ``function`` only or for every
    unknown function of ``variable`` (a system's). The one prime writer (:func:`textbook_latex`,
    :func:`tutor.engine.steps.tex`)."""
    def wanted(f: sympy.Basic) -> bool:
        if function is not None:
            return f == function(variable)
        return isinstance(f, sympy.core.function.AppliedUndef) and f.args == (variable,)

    replacements: dict[sympy.Basic, sympy.Symbol] = {}
    for d in expr.atoms(sympy.Derivative):
        if wanted(d.expr):
            n = d.derivative_count
            mark = "'" * n if n <= 3 else f"^{{({n})}}"
            replacements[d] = sympy.Symbol(latex(sympy.Symbol(d.expr.func.__name__)) + mark)
    for f in expr.atoms(sympy.core.function.AppliedUndef):
        if wanted(f):
            replacements[f] = sympy.Symbol(f.func.__name__)
    if function is not None:
        replacements[function(variable)] = sympy.Symbol(latex(sympy.Symbol(function.__name__)))
    return replacements


def ordered_sum(side: sympy.Basic, write: Callable[[sympy.Basic], str], first_minus: str = "- ") -> str:
    """A side of an ODE written term by term with ``write``, highest derivative first, a negative
    term as a subtraction (``y'' + 2y' - y``, not SymPy's ``- y + 2y' + y''``); one writer for the
    LaTeX (:func:`textbook_latex`) and the data's plain text (``training.data``)."""
    if not isinstance(side, sympy.Add):
        return write(side)

    def order(term: sympy.Basic) -> int:
        return max((int(d.derivative_count) for d in term.atoms(sympy.Derivative)), default=0)

    text = ""
    for i, term in enumerate(sorted(side.as_ordered_terms(), key=order, reverse=True)):
        negative = term.could_extract_minus_sign()
        body = write(-term if negative else term)
        if i == 0:
            text = f"{first_minus}{body}" if negative else body
        else:
            text += f" - {body}" if negative else f" + {body}"
    return text


def textbook_latex(expr: sympy.Basic, function: sympy.FunctionClass, variable: sympy.Symbol) -> str:
    """LaTeX with ``y', y''`` for derivatives and ``y`` for ``y(x)``, as a textbook writes it."""
    replacements = prime_symbols(expr, variable, function)

    def side_latex(side: sympy.Basic) -> str:
        # y'' + 2y' + y, not SymPy's y + 2y' + y'': terms ordered by derivative order
        return ordered_sum(side, lambda term: latex(term.xreplace(replacements)))

    if isinstance(expr, sympy.Eq):
        return f"{side_latex(expr.lhs)} = {side_latex(expr.rhs)}"
    return side_latex(expr)


@dataclass(frozen=True)
class InitialCondition:
    """``F^(order)(point) = value``: ``order`` 0 is ``y(x0) = y0``, 1 is ``y'(x0) = y1`` ..."""

    order: int
    point: sympy.Expr
    value: sympy.Expr

    def key(self, function: sympy.FunctionClass, variable: sympy.Symbol) -> sympy.Expr:
        """The left-hand side in the form SymPy's ``dsolve(..., ics=...)`` takes."""
        if self.order == 0:
            return function(self.point)
        return sympy.Derivative(function(variable), (variable, self.order)).subs(variable, self.point)

    def latex(self, function: sympy.FunctionClass) -> str:
        name = sympy.latex(function(sympy.Symbol("_")).func)
        primes = "'" * self.order if self.order <= 3 else f"^{{({self.order})}}"
        return f"{name}{primes}\\left({sympy.latex(self.point)}\\right) = {sympy.latex(self.value)}"


def conditions_at_several_points(points) -> bool:
    """A boundary value problem: conditions given at two or more different points (the one rule,
    used by the engine's method and by the checker)."""
    return len(set(points)) >= 2


#: Beyond these an expression keeps SymPy busy for seconds (``(x+y)^1000 dx + dy = 0`` and
#: ``y'' + y = sin(x)^1000`` ran out of their 10 s; ``y' = (x+1)^30`` took 2.5 s): an integer power
#: above HEAVY_POWER, or more than HEAVY_NODES nodes in the expression tree.  Big numbers alone are
#: cheap (``y(0) = 10^300`` solved in under a second).  Milder cases (``y'' + y = sin(x)^4``, 6 s)
#: are caught by the light lane's first-attempt limit instead.
HEAVY_POWER = 12
HEAVY_NODES = 400


def looks_heavy(*exprs: sympy.Basic) -> bool:
    """A cheap estimate (a walk over at most HEAVY_NODES nodes, no algebra): is solving or checking
    these likely to take seconds?  Such work goes straight to the heavy lane of
    :mod:`tutor.bounded`; a wrong "light" costs only that lane's short first attempt."""
    nodes = 0
    for expr in exprs:
        for node in sympy.preorder_traversal(expr):
            nodes += 1
            if nodes > HEAVY_NODES:
                return True
            if isinstance(node, sympy.Pow) and node.exp.is_Number and abs(node.exp) > HEAVY_POWER:
                return True
    return False


@dataclass(frozen=True)
class Problem:
    """An ordinary differential equation in ``function(variable)`` with initial conditions.

    ``equation`` is a SymPy ``Eq`` whose derivatives are ``Derivative(y(x), (x, n))``;
    ``parameters`` are the other free symbols (``k`` in ``dT/dt = -k(T - 20)``);
    ``source`` is the text the student typed; ``notation`` is ``"plain"`` or ``"latex"``.
    """

    equation: sympy.Eq
    function: sympy.FunctionClass
    variable: sympy.Symbol
    ics: tuple[InitialCondition, ...] = ()
    parameters: tuple[sympy.Symbol, ...] = ()
    source: str = ""
    notation: str = "plain"
    #: the method the text asks for ("by power series": ``power_series``; ``series``: either series method)
    requested_method: str = ""
    #: Euler's method asked for ("using Euler's method with h = 0.1 to approximate y(1)"): its step and
    #: the point whose value is wanted (None: the defaults, 0.1 and a table around the initial point)
    euler_step: float | None = None
    euler_target: float | None = None
    #: Points whose value of the solution the text asks for ("Find y(1)"): the engine gives y there
    evaluate_at: tuple[sympy.Expr, ...] = ()

    #: A scalar equation (:class:`tutor.system.SystemProblem` says True).
    is_system = False

    @property
    def unknown(self) -> sympy.Expr:
        """The applied unknown, e.g. ``y(x)``."""
        return self.function(self.variable)

    @cached_property
    def expr(self) -> sympy.Expr:
        """``lhs - rhs``: the equation as an expression equal to zero."""
        return self.equation.lhs - self.equation.rhs

    @cached_property
    def order(self) -> int:
        orders = [int(d.derivative_count) for d in self.equation.atoms(sympy.Derivative)]
        return max(orders, default=0)

    @cached_property
    def heavy(self) -> bool:
        """Whether the equation or a condition looks expensive for SymPy (:func:`looks_heavy`)."""
        return looks_heavy(self.equation, *(part for ic in self.ics for part in (ic.point, ic.value)))

    @cached_property
    def highest_derivative(self) -> sympy.Expr:
        return sympy.Derivative(self.unknown, (self.variable, self.order))

    @property
    def ics_dict(self) -> dict:
        """Initial conditions as ``dsolve`` takes them: ``{y(0): 3, Subs(y'(x), x, 0): 1}``."""
        return {ic.key(self.function, self.variable): ic.value for ic in self.ics}

    @cached_property
    def latex(self) -> str:
        """LaTeX of the equation (textbook notation) followed by its initial conditions."""
        text = textbook_latex(self.equation, self.function, self.variable)
        if self.ics:
            text += ",\\quad " + ",\\ ".join(ic.latex(self.function) for ic in self.ics)
        return text

    def to_dict(self) -> dict:
        return {
            "latex": self.latex,
            "equation": str(self.equation),
            "function": str(self.function),
            "variable": str(self.variable),
            "order": self.order,
            "initial_conditions": [
                {"order": ic.order, "point": str(ic.point), "value": str(ic.value),
                 "latex": ic.latex(self.function)}
                for ic in self.ics
            ],
            "parameters": [str(p) for p in self.parameters],
            "notation": self.notation,
            "source": self.source,
        }


@dataclass(frozen=True)
class Answer:
    """A proposed solution: one or more equations in ``function(variable)``.

    ``solutions`` holds each alternative (``y = ±sqrt(...)`` gives two; "y = 0 or
    y = C e^x" gives two); ``constants`` are its arbitrary constants sorted by
    name; ``explicit[i]`` says whether ``solutions[i]`` is ``y = f(x)``.
    """

    solutions: tuple[sympy.Eq, ...]
    constants: tuple[sympy.Symbol, ...]
    explicit: tuple[bool, ...] = field(default=())
    source: str = ""

    @cached_property
    def latex(self) -> str:
        return r"\quad\text{or}\quad ".join(sympy.latex(eq) for eq in self.solutions)
