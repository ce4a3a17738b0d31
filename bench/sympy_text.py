"""Write SymPy's own ODE example objects as the plain prime-notation text a student would type.

The benchmark feeds SymPy's example suite through ``tutor.parse`` like any user
input; this printer is the bridge (SymPy objects -> text), never the other way
round.  ``f(x)`` prints as ``f``, ``Derivative(f(x), (x, 2))`` as ``f''``,
``exp(u)`` as ``e^(u)``; the variable is named explicitly (``f(t)``) when it is
not ``x`` so the parser's variable rule picks it.
"""
from __future__ import annotations

import sympy
from sympy.printing.str import StrPrinter


class PrimePrinter(StrPrinter):
    """StrPrinter with textbook derivative notation and ``^`` for powers."""

    def __init__(self, function: sympy.Expr):
        super().__init__({"order": "none"})
        self.function = function  # the applied unknown, e.g. f(x)

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        if expr.expr != self.function:
            raise ValueError(f"derivative of something other than the unknown: {expr}")
        n = expr.derivative_count
        name = self.function.func.__name__
        return name + ("'" * n if n <= 3 else f"^({n})")

    def _print_Function(self, expr: sympy.Expr) -> str:
        if expr == self.function:
            return self.function.func.__name__
        return super()._print_Function(expr)

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if exp == sympy.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        if exp == -1:
            return f"1/({self._print(base)})"
        return f"({self._print(base)})^({self._print(exp)})"

    def _print_exp(self, expr: sympy.exp) -> str:
        return f"e^({self._print(expr.args[0])})"

    def _print_Exp1(self, expr) -> str:
        return "e"

    def _print_ImaginaryUnit(self, expr) -> str:
        raise ValueError("the imaginary unit has no plain-text spelling in the tutor grammar")

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return f"({expr.p}/{expr.q})"

    def _print_Abs(self, expr: sympy.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"


def to_prime_text(equation: sympy.Expr, function: sympy.Expr) -> str:
    """``Eq(f''(x) + f(x), sin(x))`` -> ``"f'' + f = sin(x)"`` (``f(t)`` named when t is the variable)."""
    eq = equation if isinstance(equation, sympy.Eq) else sympy.Eq(equation, 0)
    # Derivative(x*f(x), x) is written out by the product rule, as a student would.
    eq = eq.replace(lambda e: isinstance(e, sympy.Derivative) and e.expr != function,
                    lambda e: e.doit())
    printer = PrimePrinter(function)
    text = f"{printer.doprint(eq.lhs)} = {printer.doprint(eq.rhs)}"
    variable = function.args[0]
    if variable != sympy.Symbol("x") or not eq.has(variable):
        # Name the variable: "f(t)" in place of the first bare "f" keeps the parser's rule 1.
        name = function.func.__name__
        text = f"{name}({variable}) - {name}({variable}) + " + text
    return text
