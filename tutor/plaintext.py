"""Our own grammar for plain-text math: a whitelist tokenizer and a precedence-climbing parser.

Student text is never handed to ``eval``, ``sympify`` or ``parse_expr``: this
module reads it character by character, accepts only the tokens below, and
builds SymPy objects directly.  It understands implicit multiplication
(``2xy``, ``x y``, ``2(x+1)``, ``xe^x``), ``^`` and ``**``, function names with
or without parentheses (``sin x``, ``sin^2(x)``, ``sin^-1 x``, ``ln|x|``),
absolute-value bars, and the derivative markers ``⟦k⟧`` left by
:mod:`tutor.notation`.

Letter runs are split greedily into known words (function names, ``pi``,
Greek letters) and single letters, so ``xe`` is ``x*e`` and ``sinx`` is
``sin(x)``.  A letter followed by digits or ``_digits`` is one name:
``C1``, ``C_1`` and ``C_{1}`` all become the symbol ``C1``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import sympy

from tutor.errors import ParseError

MAX_DIGITS = 40
MAX_EXPONENT = 10_000

FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "sec": sympy.sec, "csc": sympy.csc,
    "cot": sympy.cot, "cosec": sympy.csc, "cotan": sympy.cot,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "arcsec": sympy.asec,
    "arccsc": sympy.acsc, "arccot": sympy.acot,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan, "asec": sympy.asec,
    "acsc": sympy.acsc, "acot": sympy.acot,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "sech": sympy.sech,
    "csch": sympy.csch, "coth": sympy.coth,
    "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh,
    "arsinh": sympy.asinh, "arcosh": sympy.acosh, "artanh": sympy.atanh,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh,
    "exp": sympy.exp, "ln": sympy.log, "log": sympy.log, "sqrt": sympy.sqrt, "abs": sympy.Abs,
    "cbrt": sympy.cbrt,
    # the Laplace-transform chapter: the unit step and the impulse (u(t - a), delta(t - a) are read
    # by the parser, tutor.parser._Reader, before this grammar sees them)
    "Heaviside": sympy.Heaviside, "DiracDelta": sympy.DiracDelta,
}
INVERSES = {
    "sin": sympy.asin, "cos": sympy.acos, "tan": sympy.atan, "sec": sympy.asec, "csc": sympy.acsc,
    "cot": sympy.acot, "sinh": sympy.asinh, "cosh": sympy.acosh, "tanh": sympy.atanh,
}
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "theta", "kappa", "lambda", "omega",
         "sigma", "phi", "psi", "rho", "tau", "mu", "zeta")
CONSTANTS = {"pi": sympy.pi, "e": sympy.E}
KNOWN_WORDS = frozenset(FUNCTIONS) | frozenset(GREEK) | {"pi"}
_WORDS_LONGEST_FIRST = sorted(KNOWN_WORDS, key=len, reverse=True)

#: Short words that are prose, never a product of letters a student means (``the`` is not t·h·e).
PROSE_WORDS = frozenset({"the", "of", "to", "is", "ode", "ivp", "let"})
#: Letters written together beyond this many single-letter names read as a word, not a product.
MAX_GLUED_LETTERS = 3
_RUN_RE = re.compile(r"(?<![A-Za-z\\])[A-Za-z]+")
# \text{...}, \mathrm{...}, \operatorname{...}: LaTeX text whose words are the LaTeX reader's business
_LATEX_TEXT_RE = re.compile(r"\\(?:text|mathrm|operatorname|mathit|mathbb|mathcal|textrm)\s*\{[^{}]*\}")


def _glued_singles(run: str) -> int:
    """The longest stretch of single-letter names in ``run`` once known words are taken out."""
    longest = current = 0
    for token in _split_letters(run, 0):
        current = current + 1 if len(token.text) == 1 else 0
        longest = max(longest, current)
    return longest


def word_suggestion(run: str) -> str:
    """What to say about a letter run that reads as a word: the function or word it resembles."""
    import difflib

    from tutor.notation import CONNECTIVES, LEAD_WORDS

    lower = run.lower()
    words = [w for w in LEAD_WORDS + CONNECTIVES if len(w) > 3]  # "solv" -> "solve", not "so"
    instruction = difflib.get_close_matches(lower, words, n=1, cutoff=0.75)
    if instruction:
        return (f"did you mean '{instruction[0]}'? Words are not needed: write the equation only, "
                "e.g. y' = y, y(0) = 1")
    function = difflib.get_close_matches(lower, sorted(KNOWN_WORDS), n=1, cutoff=0.7)
    if function:
        return f"did you mean {function[0]}? e.g. {function[0]}(x)"
    return (f"write the equation only, e.g. y' = y; if you meant a product of letters, "
            f"put spaces or * between them ({' '.join(run)})")


def check_words(text: str, is_latex: bool = False, offset: int = 0) -> None:
    """Refuse letters that read as a word (``solve``, ``qwerty``), never multiplying them out.

    Implicit multiplication of a few letters (``2xy``, ``kx``, ``xe^x``) is what students
    write; a longer run of letters that are not a function or Greek name (``solv``,
    ``equation``), or a short prose word (``the``, ``is``), is a word, and reading it as a
    product would invent parameters.  Raises :class:`ParseError` at the word with a suggestion.
    """
    if is_latex:
        text = _LATEX_TEXT_RE.sub(lambda m: " " * len(m.group(0)), text)
    for m in _RUN_RE.finditer(text):
        run = m.group(0)
        if run.lower() in PROSE_WORDS or _glued_singles(run) > MAX_GLUED_LETTERS:
            product = "·".join(run)
            raise ParseError(f"'{run}' looks like a word, not mathematics (read as letters it would be {product})",
                             offset + m.start(), suggestion=word_suggestion(run))


_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<marker>⟦\d+⟧)"
    r"|(?P<number>\d+(?:\.\d*)?|\.\d+)"
    r"|(?P<letters>[A-Za-z]+(?:_?\{\s*\d+\s*\}|_?\d+)?)"
    r"|(?P<op>\*\*|[-+*/^()\[\]{}|=±])"
)


@dataclass
class Token:
    kind: str  # number, name, func, marker, op, end
    text: str
    pos: int


def _split_letters(run: str, pos: int) -> list[Token]:
    """``xe`` -> x, e; ``sinx`` -> sin, x; ``C_1`` -> C1; ``alpha`` -> alpha."""
    m = re.fullmatch(r"([A-Za-z]+)(?:_?\{\s*(\d+)\s*\}|_?(\d+))?", run)
    letters, subscript = m.group(1), m.group(2) or m.group(3)
    tokens: list[Token] = []
    i = 0
    while i < len(letters):
        for word in _WORDS_LONGEST_FIRST:
            if letters.startswith(word, i):
                kind = "func" if word in FUNCTIONS else "name"
                tokens.append(Token(kind, word, pos + i))
                i += len(word)
                break
        else:
            tokens.append(Token("name", letters[i], pos + i))
            i += 1
    if subscript is not None:
        last = tokens[-1]
        if last.kind == "func":
            raise ParseError(f"'{last.text}' is a function and cannot carry a subscript", pos)
        if last.text == "e":
            tokens.append(Token("number", subscript, pos + len(letters)))
        else:
            last.text += subscript
    return tokens


def tokenize(text: str, offset: int = 0) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN_RE.match(text, i)
        if not m:
            ch = text[i]
            hint = None
            if ch in "'\"":
                hint = "quotes are not math; a prime ' belongs right after the function, as in y'"
            elif ch in ":;.@#$%&!?<>~`\\_":
                hint = "only numbers, letters, + - * / ^ ( ) | and = are understood"
            raise ParseError(f"unexpected character {ch!r}", offset + i, suggestion=hint)
        kind = m.lastgroup
        if kind == "letters":
            tokens.extend(_split_letters(m.group(0), offset + i))
        elif kind == "number":
            digits = m.group(0)
            if len(digits) > MAX_DIGITS:
                raise ParseError(f"the number is too long (more than {MAX_DIGITS} digits)", offset + i)
            tokens.append(Token("number", digits, offset + i))
        elif kind != "ws":
            tokens.append(Token(kind, m.group(0), offset + i))
        i = m.end()
    tokens.append(Token("end", "", offset + len(text)))
    return tokens


def number(text: str) -> sympy.Rational:
    """A decimal literal as an exact rational, without handing the text to sympify."""
    if "." in text:
        whole, frac = text.split(".")
        return sympy.Rational(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    return sympy.Integer(int(text))


def checked_pow(base: sympy.Expr, exponent: sympy.Expr, pos: int | None = None) -> sympy.Expr:
    """``base**exponent`` unless it would build an astronomically large number."""
    if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
        raise ParseError(f"the exponent {exponent} is too large", pos)
    if base.is_Number and exponent.is_Number and base != 0 and abs(base) != 1:
        size = abs(float(exponent)) * abs(float(sympy.log(abs(base), 10)))
        if size > 1000:
            raise ParseError("this power is too large to work with", pos)
    return sympy.Pow(base, exponent)


_OPEN = {"(": ")", "[": "]", "{": "}"}
_STARTS_ATOM = {"number", "name", "func", "marker"}


class Parser:
    """Precedence climbing: sum > product (explicit or implicit) > unary sign > power > atom."""

    def __init__(self, tokens: list[Token], symbols: Callable[[str], sympy.Expr],
                 markers: Callable[[int], sympy.Expr], applied: Callable[[str, str], bool] | None = None):
        self.tokens = tokens
        self.i = 0
        self.symbols = symbols
        self.markers = markers
        self.applied = applied or (lambda name, arg: False)
        self.abs_depth = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> Token:
        if self.tok.text != text:
            found = "the end" if self.tok.kind == "end" else repr(self.tok.text)
            raise ParseError(f"expected '{text}' but found {found}", self.tok.pos)
        return self.take()

    # -- grammar
    def parse(self) -> sympy.Expr:
        if self.tok.kind == "end":
            raise ParseError("an expression is missing", self.tok.pos)
        expr = self.sum()
        if self.tok.kind != "end":
            raise ParseError(f"unexpected {self.tok.text!r}", self.tok.pos)
        return expr

    def sum(self) -> sympy.Expr:
        expr = self.product()
        while self.tok.text in ("+", "-"):
            op = self.take().text
            right = self.product()
            expr = expr + right if op == "+" else expr - right
        return expr

    def _starts_implicit_factor(self) -> bool:
        t = self.tok
        if t.kind in _STARTS_ATOM:
            return True
        if t.text in _OPEN:
            return True
        return t.text == "|" and self.abs_depth == 0

    def product(self) -> sympy.Expr:
        expr = self.unary()
        while True:
            if self.tok.text in ("*", "/"):
                op = self.take().text
                right = self.unary()
                expr = expr * right if op == "*" else expr / right
            elif self._starts_implicit_factor():
                expr = expr * self.power()
            else:
                return expr

    def unary(self) -> sympy.Expr:
        if self.tok.text in ("+", "-"):
            op = self.take().text
            operand = self.unary()
            return -operand if op == "-" else operand
        return self.power()

    def exponent(self) -> sympy.Expr:
        """What follows ``^``: a signed atom, itself possibly raised (right associative)."""
        if self.tok.text in ("+", "-"):
            op = self.take().text
            value = self.exponent()
            return -value if op == "-" else value
        pos = self.tok.pos
        base = self.atom()
        if self.tok.text in ("^", "**"):
            self.take()
            return checked_pow(base, self.exponent(), pos)
        return base

    def power(self) -> sympy.Expr:
        pos = self.tok.pos
        base = self.atom()
        if self.tok.text in ("^", "**"):
            self.take()
            exp = self.exponent()
            if base == sympy.E:
                return sympy.exp(exp)
            return checked_pow(base, exp, pos)
        return base

    def atom(self) -> sympy.Expr:
        t = self.tok
        if t.kind == "number":
            self.take()
            return number(t.text)
        if t.kind == "marker":
            self.take()
            return self.markers(int(t.text[1:-1]))
        if t.kind == "func":
            return self.function_call()
        if t.kind == "name":
            self.take()
            if t.text in CONSTANTS:
                return CONSTANTS[t.text]
            # y(x): the unknown applied to its variable is just the unknown
            if self.tok.text == "(" and self.peek().kind == "name" and self.peek(2).text == ")" \
                    and self.applied(t.text, self.peek().text):
                self.i += 3
            return self.symbols(t.text)
        if t.text in _OPEN:
            self.take()
            inner = self.sum()
            self.expect(_OPEN[t.text])
            return inner
        if t.text == "|" and self.abs_depth == 0:
            return self.absolute()
        if t.kind == "end":
            raise ParseError("the expression ends too early", t.pos)
        if t.text == "=":
            raise ParseError("'=' may appear only once, between the two sides", t.pos)
        raise ParseError(f"unexpected {t.text!r}", t.pos)

    def absolute(self) -> sympy.Expr:
        self.expect("|")
        self.abs_depth += 1
        inner = self.sum()
        self.abs_depth -= 1
        self.expect("|")
        return sympy.Abs(inner)

    def function_call(self) -> sympy.Expr:
        name = self.take().text
        fn = FUNCTIONS[name]
        power = None
        if self.tok.text in ("^", "**"):  # sin^2 x, sin^-1 x, sin^{-1}(x)
            self.take()
            power = self.exponent()
            if power == -1 and name in INVERSES:
                fn, power = INVERSES[name], None
        arg = self.function_argument(name)
        value = fn(arg)
        return checked_pow(value, power) if power is not None else value

    def function_argument(self, name: str) -> sympy.Expr:
        t = self.tok
        if t.text in _OPEN:
            self.take()
            inner = self.sum()
            self.expect(_OPEN[t.text])
            return inner
        if t.text == "|":
            return self.absolute()
        if t.kind not in _STARTS_ATOM and t.text not in ("-", "+"):
            raise ParseError(f"'{name}' needs an argument, e.g. {name}(x)", t.pos)
        # sin 2x, ln x, sin x^2: a product of simple factors, stopping at the next function
        arg = self.unary() if t.text in ("-", "+") else self.power()
        while self.tok.kind in ("number", "name", "marker"):
            arg = arg * self.power()
        return arg


def parse_expression(text: str, symbols: Callable[[str], sympy.Expr], markers: Callable[[int], sympy.Expr],
                     applied: Callable[[str, str], bool] | None = None, offset: int = 0) -> sympy.Expr:
    """Parse one side of an equation (no ``=``) into a SymPy expression."""
    tokens = tokenize(text, offset)
    for tok in tokens:
        if tok.text == "=":
            raise ParseError("'=' may appear only once", tok.pos)
    try:
        return Parser(tokens, symbols, markers, applied).parse()
    except RecursionError:
        raise ParseError("the expression is nested too deeply") from None
