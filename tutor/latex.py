"""latex2sympy2 behind an adapter that handles its quirks (docs/ARCHITECTURE.md, Library quirks).

- Derivative notation never reaches it: :mod:`tutor.notation` has replaced each
  derivative by a marker, which we hand over as the atom ``\\Upsilon_{k}``.
- It never sees a top-level ``=`` (it may *solve* the relation): callers pass
  one side at a time.
- Its module-level state (``var``, ``variances``, ``VARIABLE_VALUES``) is reset
  before every call, and calls hold a lock: it is not thread-safe.
- What it returns is rebuilt node by node through a whitelist: only elementary
  functions, numbers and symbols survive, powers are size-checked before they
  are evaluated, ``log(x, E)`` becomes ``log(x)``, and subscripted names
  (``C_1``, ``C_{1}``) become ``C1`` as in the plain-text grammar.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Callable

import sympy

from tutor.errors import ParseError
from tutor.notation import SPECIAL_MARKER_BASE
from tutor.plaintext import checked_pow

_lock = threading.Lock()
_module = None

_ALLOWED_FUNCS = {
    sympy.sin, sympy.cos, sympy.tan, sympy.sec, sympy.csc, sympy.cot,
    sympy.asin, sympy.acos, sympy.atan, sympy.asec, sympy.acsc, sympy.acot,
    sympy.sinh, sympy.cosh, sympy.tanh, sympy.sech, sympy.csch, sympy.coth,
    sympy.asinh, sympy.acosh, sympy.atanh, sympy.exp, sympy.Abs,
}
_MARKER_NAME = re.compile(r"Upsilon_\{?(\d+)\}?")
_ALLOWED_COMMANDS = {
    "frac", "sqrt", "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
    "arcsec", "arccsc", "arccot", "sinh", "cosh", "tanh", "sech", "csch", "coth", "exp", "ln",
    "left", "right", "cdot", "times", "div", "pi", "operatorname", "mathrm", "mathit",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "theta", "vartheta", "kappa",
    "lambda", "mu", "sigma", "tau", "phi", "varphi", "psi", "rho", "omega", "Omega", "quad",
    "qquad", "cosec", "arcsinh", "arccosh", "arctanh", "pm", "mp",
}


def _latex2sympy() -> Callable[[str], object]:
    global _module
    if _module is None:
        logging.getLogger("antlr4").setLevel(logging.ERROR)
        import latex2sympy2

        _module = latex2sympy2
    return _module.latex2sympy


def _reset_state() -> None:
    _module.var = {}
    _module.variances = {}
    _module.VARIABLE_VALUES = {}
    _module.is_real = None


def _canonical_name(name: str) -> str:
    m = re.fullmatch(r"\\?([A-Za-z]+)(?:_\{?([A-Za-z0-9]+)\}?)?", name)
    if not m:
        raise ParseError(f"could not read the name {name!r}")
    return m.group(1) + (m.group(2) or "")


def _rebuild(node, symbols: Callable[[str], sympy.Expr], markers: Callable[[int], sympy.Expr]) -> sympy.Expr:
    if isinstance(node, sympy.Symbol):
        marker = _MARKER_NAME.fullmatch(node.name)
        if marker:
            return markers(int(marker.group(1)))
        if "\\" in node.name or "{" in node.name.split("_")[0]:
            raise ParseError(f"the LaTeX command {node.name.split('{')[0]} is not supported here")
        return symbols(_canonical_name(node.name))
    if isinstance(node, (sympy.Integer, sympy.Rational)):
        return node
    if isinstance(node, sympy.Float):
        return sympy.Rational(str(node)) if len(str(node)) < 40 else node
    if node in (sympy.pi, sympy.E):
        return node
    if node.is_Number:
        raise ParseError(f"the number {node} is not supported")
    if isinstance(node, sympy.Pow):
        base = _rebuild(node.args[0], symbols, markers)
        exponent = _rebuild(node.args[1], symbols, markers)
        return checked_pow(base, exponent)
    args = [_rebuild(a, symbols, markers) for a in node.args]
    if isinstance(node, sympy.Add):
        return sympy.Add(*args)
    if isinstance(node, sympy.Mul):
        return sympy.Mul(*args)
    if isinstance(node, sympy.log):
        if len(args) == 2 and args[1] != sympy.E:
            return sympy.log(args[0]) / sympy.log(args[1])
        return sympy.log(args[0])
    if isinstance(node, sympy.sin) and isinstance(node.args[0], sympy.Symbol):
        wrapped = _MARKER_NAME.fullmatch(node.args[0].name)
        if wrapped and int(wrapped.group(1)) >= SPECIAL_MARKER_BASE:
            return args[0]  # the placeholder of a unit step or delta (see _marker_source)
    if node.func in _ALLOWED_FUNCS:
        return node.func(*args)
    if isinstance(node, sympy.core.function.AppliedUndef):
        # latex2sympy2 reads ``y(x)`` as a function application; ``k(T)`` is a product.
        return symbols(_canonical_name(node.func.__name__), *args)
    what = type(node).__name__
    names = {"Integral": "integrals", "Sum": "sums", "Derivative": "this derivative notation",
             "factorial": "factorials", "Limit": "limits", "Product": "products"}
    raise ParseError(f"{names.get(what, what)} cannot be used in an ODE here")


def _marker_source(m: re.Match) -> str:
    # A unit step or delta stands where a function call stood: latex2sympy2 reads
    # ``\\sin{(t)} X`` as sin(t X) but ``\\sin{(t)} \\sin{(X)}`` as a product, so the placeholder
    # is wrapped in a \\sin that _rebuild takes off again.
    if int(m.group(1)) >= SPECIAL_MARKER_BASE:
        return rf" \sin{{(\Upsilon_{{{m.group(1)}}})}} "
    return rf" \Upsilon_{{{m.group(1)}}} "


def parse_latex(text: str, symbols: Callable[..., sympy.Expr], markers: Callable[[int], sympy.Expr],
                offset: int = 0) -> sympy.Expr:
    """Parse one side of an equation written in LaTeX (markers already in place)."""
    for command in re.findall(r"\\([A-Za-z]+)", text):
        if command not in _ALLOWED_COMMANDS:
            raise ParseError(f"the LaTeX command \\{command} is not supported here", offset + text.find(command) - 1)
    if "=" in text:
        raise ParseError("'=' may appear only once", offset + text.find("="))
    source = re.sub(r"⟦(\d+)⟧", _marker_source, text)
    if not source.strip():
        raise ParseError("an expression is missing", offset)
    convert = _latex2sympy()
    with _lock:
        _reset_state()
        try:
            raw = convert(source)
        except ParseError:
            raise
        except Exception as exc:  # latex2sympy2 raises bare Exception with a caret diagram
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ParseError(f"could not read this LaTeX: {first}", offset) from None
        finally:
            _reset_state()
    if not isinstance(raw, sympy.Expr):
        raise ParseError("could not read this LaTeX as one expression", offset)
    try:
        return _rebuild(raw, symbols, markers)
    except RecursionError:
        raise ParseError("the expression is nested too deeply", offset) from None
