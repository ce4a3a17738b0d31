"""Text-level reading of ODE notation, shared by the plain-text and LaTeX paths.

This module turns what a student typed into pieces the expression parsers can
handle: it normalises unicode, splits the equation from its initial conditions,
and replaces every derivative notation (``y'``, ``y^(4)``, ``dy/dx``,
``\\frac{d^2y}{dx^2}``, ``\\frac{d}{dx} y(x)``, ``\\dot x``, differentials ``dx``)
by a marker ``⟦k⟧`` that refers to a :class:`Marker` record.  Neither parser
ever sees derivative notation, which is where latex2sympy2 goes wrong
(docs/ARCHITECTURE.md, Library quirks) and where plain text is ambiguous.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.errors import ParseError

MAX_PROBLEM_CHARS = 2000
MAX_NESTING = 60
MAX_ORDER = 12

# Single-letter names, or a few Greek names spelled out (``\theta'' + \sin\theta = 0``).
GREEK_FUNCTION_NAMES = ("theta", "phi", "psi", "omega", "rho")
_GREEK = "|".join(GREEK_FUNCTION_NAMES)
FUNC = rf"(\\?(?:{_GREEK})(?![A-Za-z])|[A-Za-z])"
VAR = r"(\\?(?:theta|tau)(?![A-Za-z])|[A-Za-z])"
_POW = r"(?:\s*\^\s*\{?\s*(\d+)\s*\}?|(\d+))?"  # ^2, ^{2}, or a bare 2 right after (d2y/dx2)

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00b7": "*", "\u22c5": "*", "\u00d7": "*",
    "\u00f7": "/", "\u2032": "'", "\u2033": "''", "\u2034": "'''", "\u2019": "'", "\u00b4": "'",
    "\u00b2": "^2", "\u00b3": "^3", "\u2074": "^4", "\u221a": "sqrt", "\u00b1": "±",
    "\u03b8": "theta", "\u03c6": "phi", "\u03c8": "psi", "\u03c9": "omega", "\u03bb": "lambda",
    "\u03b1": "alpha", "\u03b2": "beta", "\u03b3": "gamma", "\u03b4": "delta", "\u03bc": "mu",
    "\u03c4": "tau", "\u03c1": "rho", "\u03c3": "sigma", "\u03ba": "kappa", "\u03b5": "epsilon", "\u03b6": "zeta",
    "\u00a0": " ", "\u2009": " ", "\u200b": "", "\uff1d": "=", "\u2003": " ",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

# LaTeX spellings that mean the same as simpler ones; applied before anything else.
_LATEX_SIMPLIFY = [
    (re.compile(r"\\[dt]frac\b"), r"\\frac"),
    (re.compile(r"\\(?:mathrm|operatorname|text|mathit)\s*\{\s*d\s*\}|\{\\rm\s+d\}"), "d"),
    (re.compile(r"\\(?:mathrm|operatorname)\s*\{\s*e\s*\}"), "e"),
    (re.compile(r"\\left\s*\\?([(\[|.])|\\right\s*\\?([)\]|.])"), lambda m: (m.group(1) or m.group(2)).replace(".", "")),
    (re.compile(r"\\(?:bigl?|Bigl?|biggl?|Biggl?|bigr|Bigr|biggr|Biggr)\s*"), ""),
    (re.compile(r"\\displaystyle|\\limits"), " "),
    (re.compile(r"\\[,!:>]"), " "),
    (re.compile(r"\\operatorname\s*\{\s*a(sin|cos|tan|sec|csc|cot)\s*\}"), r"\\arc\1"),
    (re.compile(r"\\operatorname\s*\{\s*a(sinh|cosh|tanh)\s*\}"), r"\\operatorname{arc\1}"),
    (re.compile(r"\\operatorname\s*\{\s*(sech|csch)\s*\}"), r"\\operatorname{\1}"),
    (re.compile(r"\\log\b"), r"\\ln"),  # in a differential-equations course log is the natural log
    (re.compile(r"\\mathrm\s*\{\s*([A-Za-z]+)\s*\}"), r"\1"),
    (re.compile(r"\^\s*\\prime\b"), "'"),
    (re.compile(r"\^\s*\{\s*((?:\\prime\s*)+)\}"), lambda m: "'" * m.group(1).count("prime")),
    (re.compile(r"\\prime\b"), "'"),
]


@dataclass
class Marker:
    """A derivative (``order`` >= 1) or a differential (``order`` == 0, ``differential`` set)."""

    function: str | None
    order: int
    variable: str | None
    start: int
    differential: str | None = None


@dataclass
class Marked:
    """The equation text with markers in place, and what the markers stand for."""

    text: str
    markers: list[Marker] = field(default_factory=list)
    explicit_variables: set[str] = field(default_factory=set)

    def add(self, marker: Marker) -> str:
        self.markers.append(marker)
        if marker.variable:
            self.explicit_variables.add(marker.variable)
        return f" ⟦{len(self.markers) - 1}⟧ "


def clean_name(name: str) -> str:
    """``\\theta`` -> ``theta``."""
    return name.lstrip("\\")


_LATEX_FUNCTION_GROUP = re.compile(
    r"(\\(?:ln|log|exp|a?r?c?(?:sin|cos|tan|sec|csc|cot)h?|operatorname\s*\{[a-z]+\}))\s*\{")


def _move_function_powers(text: str) -> str:
    """``\\ln{\\left(x \\right)}^{2}`` (SymPy's way of writing (ln x)^2) -> ``\\ln^{2}{(x)}``.

    latex2sympy2 would attach the power to the argument and read ln(x^2).
    """
    out = text
    search_from = 0
    while True:
        m = _LATEX_FUNCTION_GROUP.search(out, search_from)
        if not m:
            return out
        depth, j = 0, m.end() - 1
        while j < len(out):
            depth += {"{": 1, "}": -1}.get(out[j], 0)
            if depth == 0:
                break
            j += 1
        power = re.match(r"\s*\^\s*(\{[^{}]*\}|[0-9A-Za-z])", out[j + 1:]) if j < len(out) else None
        if power:
            group = out[m.end() - 1:j + 1]
            out = out[:m.end() - 1] + "^" + power.group(1) + group + out[j + 1 + power.end():]
        search_from = m.end()


def normalize(text: str) -> tuple[str, bool]:
    """Unicode and LaTeX spelling normalisation; returns (text, is_latex)."""
    if not isinstance(text, str):
        raise ParseError("the problem must be text")
    if len(text) > MAX_PROBLEM_CHARS:
        raise ParseError(f"the input is too long ({len(text)} characters; at most {MAX_PROBLEM_CHARS})",
                         suggestion="type one equation and its initial conditions")
    text = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], text)
    text = text.replace("$", " ").replace("\\[", " ").replace("\\]", " ")
    text = re.sub(r"\\\(|\\\)", " ", text)
    if "∂" in text or "\\partial" in text:
        raise ParseError("this is a partial differential equation (∂); the tutor solves ordinary ones",
                         position=max(text.find("∂"), text.find("\\partial")))
    is_latex = "\\" in text
    text = text.replace("\u03c0", "\\pi " if is_latex else " pi ")
    if is_latex:
        for pattern, repl in _LATEX_SIMPLIFY:
            text = pattern.sub(repl, text)
        text = _move_function_powers(text)
    return text.strip(), is_latex


_ALLOWED_CHARS = re.compile(r"[A-Za-z0-9\s+\-*/^()\[\]{}|=.,;'±]")
_ALLOWED_LATEX_CHARS = re.compile(r"[A-Za-z0-9\s+\-*/^()\[\]{}|=.,;'±\\_&]")


def check_characters(text: str, is_latex: bool) -> None:
    """Reject anything that is not math before any other step looks at the text.

    Quotes, colons, underscores outside subscripts, dots outside numbers: these are
    how code (``__import__('os')``, ``lambda: 0``) looks, never how an ODE does.
    """
    allowed = _ALLOWED_LATEX_CHARS if is_latex else _ALLOWED_CHARS
    for i, ch in enumerate(text):
        if ch == "_" and not is_latex:
            if i > 0 and text[i - 1].isalpha() and i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] == "{"):
                continue
            raise ParseError("unexpected character '_'", i, suggestion="write subscripts as C_1 or C1")
        if ch == "_" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "}")):
            raise ParseError("unexpected character '_'", i)
        if ch == "'" and (i == 0 or not (text[i - 1].isalpha() or text[i - 1] in "'}")):
            raise ParseError("unexpected character \"'\"", i,
                             suggestion="a prime ' goes right after the function name, as in y'")
        if ch == "." and not ((i > 0 and text[i - 1].isdigit()) or (i + 1 < len(text) and text[i + 1].isdigit())):
            raise ParseError("unexpected character '.'", i, suggestion="'.' is only used in decimal numbers")
        if ch in "<>≤≥":
            raise ParseError(f"unexpected character {ch!r}", i, suggestion="a comparison belongs in a piecewise "
                             "function: write it as {1 if 0 <= t < 2; 0 if t >= 2}")
        if not allowed.match(ch):
            raise ParseError(f"unexpected character {ch!r}", i,
                             suggestion="only numbers, letters, + - * / ^ ( ) | = and LaTeX are understood")


def check_brackets(text: str, offset: int = 0) -> None:
    """Balanced (), [], {} and bounded nesting, with the position of the first problem."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append((ch, i))
            if len(stack) > MAX_NESTING:
                raise ParseError(f"brackets are nested too deeply (more than {MAX_NESTING} levels)", offset + i)
        elif ch in ")]}":
            if not stack or stack[-1][0] != pairs[ch]:
                raise ParseError(f"unbalanced bracket '{ch}'", offset + i,
                                 suggestion="check that every bracket you open is closed")
            stack.pop()
    if stack:
        ch, i = stack[-1]
        raise ParseError(f"bracket '{ch}' is never closed", offset + i,
                         suggestion="check that every bracket you open is closed")


# ---------------------------------------------------------------------------
# Splitting the equation from its initial conditions

# Words that join an equation to its initial conditions ("y' = 2y where y(0) = 1", "... subject to
# the initial conditions y(0) = 1, y'(0) = 0"); the words after them ("that", "the initial
# conditions") belong to the separator too.
CONNECTIVES = ("and", "with", "given", "where", "if", "when", "for", "subject to", "such that",
               "satisfying", "provided", "assuming")
_CONNECTIVE_TAIL = r"that|the|initial|boundary|conditions?|values?|data"


def _words_pattern(words: tuple[str, ...]) -> str:
    """An alternation of plain words (longest first); a space matches any run of spaces."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_CONNECTIVE = _words_pattern(CONNECTIVES)
_SEPARATOR_RE = re.compile(
    rf"\\quad|\\qquad|\\;|\\ |\\\\|\\text\s*\{{\s*(?:,|;|(?i:{_CONNECTIVE}))\s*\}}|"
    rf"(?<![A-Za-z\\])(?i:{_CONNECTIVE})(?:\s+(?i:{_CONNECTIVE_TAIL})(?![A-Za-z]))*(?![A-Za-z])|[,;\n]"
)

_PRIMES = r"('{1,}|\^\s*\{?\s*\(\s*\d+\s*\)\s*\}?)?"
_IC_RE = re.compile(
    rf"^\s*{FUNC}\s*{_PRIMES}\s*\{{?\s*\(\s*(?P<point>[^()=]*?)\s*\)\s*\}}?\s*=\s*(?P<value>[^=]+?)\s*$"
)
_POINT_WORDS = re.compile(r"\\?pi|\\frac|\\sqrt|\\ln|[eE]|[A-Za-z](?:_?\{?\d+\}?|_\{?0\}?)")


def _top_level_separators(text: str) -> list[re.Match]:
    """The separator matches in ``text`` that are not inside brackets."""
    depth_at, depth = [], 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        depth_at.append(depth)
    return [m for m in _SEPARATOR_RE.finditer(text) if m.start() >= len(depth_at) or depth_at[m.start()] == 0]


def _top_level_split_all(text: str) -> list[tuple[int, str]]:
    """Every piece between top-level separators, empty ones included (one per separator, plus one)."""
    pieces: list[tuple[int, str]] = []
    start = 0
    for m in _top_level_separators(text):
        pieces.append((start, text[start:m.start()]))
        start = m.end()
    pieces.append((start, text[start:]))
    return pieces


def _top_level_split(text: str) -> list[tuple[int, str]]:
    """Split at separators that are not inside brackets; returns the non-empty (offset, piece) pairs."""
    return [(off, p) for off, p in _top_level_split_all(text) if p.strip()]


#: Math delimiters of tutor text, longest first (``$$`` before ``$``): the one list (the renderer, the
#: format's answer reader, the checker's answer tidying and the data's curated-set reader use it).
MATH_DELIMITERS: tuple[tuple[str, str], ...] = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def split_math(text: str) -> tuple[list[tuple[bool, str]], int | None]:
    """``text`` cut into (is_math, piece) segments, and where an unclosed formula starts (or None).

    Math pieces keep their delimiters.  ``\\$`` is a literal dollar sign, not a delimiter.
    """
    segments: list[tuple[bool, str]] = []
    i, start, n = 0, 0, len(text)
    while i < n:
        if text.startswith("\\$", i):
            i += 2
            continue
        opener = next(((left, right) for left, right in MATH_DELIMITERS if text.startswith(left, i)), None)
        if opener is None:
            i += 1
            continue
        left, right = opener
        j = i + len(left)
        while j < n:
            if text.startswith("\\$", j) and right == "$":
                j += 2
                continue
            if text.startswith(right, j):
                break
            j += 1
        if j >= n:  # never closed
            if i > start:
                segments.append((False, text[start:i]))
            return segments, i
        if i > start:
            segments.append((False, text[start:i]))
        segments.append((True, text[i:j + len(right)]))
        i = start = j + len(right)
    if start < n:
        segments.append((False, text[start:]))
    return segments, None


def _body(piece: str) -> str:
    left, right = next((l, r) for l, r in MATH_DELIMITERS if piece.startswith(l) and piece.endswith(r))
    return piece[len(left):len(piece) - len(right)]


def math_spans(text: str) -> list[str]:
    """The bodies of the complete math spans in ``text`` (``$...$``, ``$$...$$``, ``\\(...\\)``,
    ``\\[...\\]``), in order (:func:`split_math`'s cut)."""
    segments, _ = split_math(text or "")
    return [_body(piece) for is_math, piece in segments if is_math]


def outside_math(text: str) -> str:
    """``text`` with each complete math span replaced by a space (an unclosed formula stays as text)."""
    segments, unclosed = split_math(text or "")
    return "".join(" " if is_math else piece for is_math, piece in segments) + (
        text[unclosed:] if unclosed is not None else "")


# ---------------------------------------------------------------------------
# Words around the equation ("Solve y' = y", "Find the general solution of dy/dx = x*y")

#: Words of an instruction or a description that may open the problem (or a sentence of it).
LEAD_WORDS = (
    "solve", "find", "determine", "compute", "calculate", "obtain", "integrate", "derive", "evaluate",
    "give", "get", "consider", "work out", "please", "now", "then", "also", "what", "is", "are",
    "the", "general", "particular", "explicit", "implicit", "complete", "exact", "real", "solution",
    "solutions", "of", "to", "for", "this", "these", "following", "ordinary", "first", "second", "third",
    "higher", "order", "linear", "nonlinear", "non-linear", "homogeneous", "inhomogeneous",
    "nonhomogeneous", "non-homogeneous", "separable", "differential", "equation", "equations", "ode",
    "odes", "ivp", "ivps", "system", "systems", "initial", "boundary", "value", "problem", "problems",
    "write", "rewrite", "convert", "use", "apply", "using", "by", "and", "them", "the given", "logistic",
    "growth", "decay", "model", "an", "its", "satisfying",
)
_LEAD_WORD = rf"(?:an?[\s-]+)?(?i:{_words_pattern(LEAD_WORDS)})(?![A-Za-z'])"
# "Solve the ODE", "Find the general solution of", "Solve for y:" -- then the mathematics.
_LEAD_RE = re.compile(
    rf"\s*{_LEAD_WORD}(?:[\s-]+{_LEAD_WORD})*"
    r"(?:\s+[A-Za-z](?:\s*\(\s*[A-Za-z]\s*\))?(?=\s*:))?\s*:?")
# What an instruction may name before a separator: "find y", "find y(x) if ...", "... for y".
_LONE_NAME_RE = re.compile(r"\s*[A-Za-z](?:\s*\(\s*[A-Za-z]\s*\))?\s*")
# A full stop that ends a sentence ("dy/dx = 2y. Find y if y(0) = 1.") rather than a decimal.
_SENTENCE_END_RE = re.compile(r"(?P<within>\.)(?=\s+[A-Za-z\\])|[.?!]+(?=\s*$)")


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


#: "by power series", "a series solution", "using the method of Frobenius" (optionally "about x = 0"):
#: the method a problem asks for. The phrase is blanked out; :func:`method_request` says which method.
_METHOD_REQUEST_RE = re.compile(
    r"(?i)(?<![A-Za-z])(?:(?:by|using|with|via)\s+(?:an?\s+|the\s+)?)?"
    r"(?P<what>power[\s-]+series(?:\s+(?:solutions?|method|expansions?))?|series\s+(?:solutions?|expansions?|method)"
    r"|(?:the\s+)?(?:method\s+of\s+)?frobenius(?:'s)?(?:\s+(?:method|series|solutions?))?)"
    r"(?:\s+(?:about|around|near|at)\s+(?:the\s+)?(?:(?:ordinary|regular\s+singular|singular)\s+)?(?:point\s+)?"
    r"x\s*(?:_?\{?0\}?)?\s*=\s*0)?(?![A-Za-z])")


_ABOUT_ZERO_RE = re.compile(
    r"(?i)(?<![A-Za-z])(?:about|around|near|at)\s+(?:the\s+)?(?:(?:ordinary|regular\s+singular|singular)\s+)?"
    r"(?:point\s+)?x\s*(?:_?\{?0\}?)?\s*=\s*0(?![0-9.])")


#: "as a (first-order) system", "by converting it to a system of first-order equations", "and solve it":
#: the equation rewritten as a system (``as`` / ``into`` / ``to`` before "system", so that "Solve the
#: system x' = ..." stays a system to solve).
_SYSTEM_REQUEST_RE = re.compile(
    r"(?i)(?<![A-Za-z])(?:(?:by|after)\s+)?(?:(?:re)?writ(?:e|ing|ten)|convert(?:ing|ed)?|turn(?:ing)?|reduc(?:e|ing)|"
    r"express(?:ing)?)?\s*(?:it|the\s+equation|this(?:\s+equation)?)?\s*(?:as|into|to)\s+an?\s+"
    r"(?:equivalent\s+)?(?:first[\s-]+order\s+|1st[\s-]+order\s+)?(?:linear\s+)?system"
    r"(?:\s+of\s+(?:two\s+|three\s+)?(?:first[\s-]+order\s+)?(?:linear\s+)?(?:equations|odes|differential\s+equations))?"
    r"(?:\s*,?\s*(?:and|then)\s+solve(?:\s+it)?)?(?![A-Za-z])")


_ASKING = r"(?:(?:by|using|with|via|use|apply|through)\s+(?:an?\s+|the\s+)?)?(?:(?:the\s+)?method\s+of\s+)?"
#: Textbook methods named in a problem ("Solve ... using Laplace transforms", "Solve the Bernoulli
#: equation ...", "Use separation of variables to solve ...", "by undetermined coefficients:") ->
#: the request (a method id, or ``integrating factor``: the linear equation's or the one that makes
#: M dx + N dy exact). Each phrase is blanked out with the words that ask for it.
_NAMED_METHODS: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(
    rf"(?i)(?<![A-Za-z]){_ASKING}(?:{pattern})(?![A-Za-z])")) for kind, pattern in (
    ("laplace_transform", r"(?:the\s+)?laplace(?:'s)?\s+transforms?(?:\s+method)?|laplace\s+method"),
    ("undetermined_coefficients", r"undetermined\s+coefficients(?:\s+method)?"),
    ("variation_of_parameters", r"variation\s+of\s+parameters?(?:\s+method)?"),
    ("separable", r"separation\s+of\s+variables|separating\s+(?:the\s+)?variables|"
                  r"(?:the\s+)?separable\s+(?:differential\s+)?equation"),
    ("exact", r"(?:the\s+)?exact\s+(?:differential\s+)?equation|exactness"),
    ("integrating factor", r"(?:an?\s+|the\s+)?integrating[\s-]+factors?(?:\s+method)?"),
    ("bernoulli", r"(?:the\s+)?bernoulli(?:'s|’s)?(?:\s+(?:differential\s+)?(?:equation|substitution|method))?"),
    ("riccati", r"(?:the\s+)?riccati(?:'s|’s)?(?:\s+(?:differential\s+)?(?:equation|substitution|method))?"),
    ("homogeneous", r"(?:the\s+)?substitution\s+(?:v|u)\s*=\s*y\s*/\s*x|(?:a\s+|the\s+)?homogeneous\s+substitution"),
    # ambiguous (a linear equation with zero right side is "homogeneous" too): a soft request
    ("homogeneous equation", r"(?:the\s+)?homogeneous\s+(?:differential\s+)?equation"),
    ("cauchy_euler", r"(?:the\s+)?(?:cauchy[\s-]+euler|euler[\s-]+cauchy|equidimensional)(?:'s)?"
                     r"(?:\s+(?:differential\s+)?(?:equation|method))?"),
    ("reduction_of_order", r"reduction\s+of\s+order"),
    ("constant_coefficients", r"(?:the\s+)?(?:characteristic|auxiliary)\s+(?:equation|polynomial)"),
    ("autonomous", r"(?:the\s+)?(?:equilibri(?:um|a)(?:\s+(?:solutions?|points?))?|critical\s+points|phase\s+line)"
                   r"(?:\s*,?\s*and\s+(?:classify|determine|find)\s+(?:them|their\s+stability|the\s+stability"
                   r"(?:\s+of\s+each)?)|\s+and\s+their\s+stability)?"),
    ("autonomous", r",?\s*and\s+(?:classify|determine|find|discuss)\s+(?:them|each(?:\s+one)?|their\s+stability|"
                   r"the\s+stability(?:\s+of\s+each(?:\s+one)?)?)"),
))


def method_request(text: str) -> tuple[str, str]:
    """(text with the request blanked out, the method asked for: ``"power_series"``, ``"frobenius"``,
    ``"series"`` (either, whichever applies), ``"system"`` (rewrite as a first-order system), a textbook
    method's id (:data:`_NAMED_METHODS`: ``"laplace_transform"``, ``"bernoulli"`` ...), ``"integrating
    factor"``, or ``""``). The first request named wins. Positions in the text stay the same."""
    found, series = "", False
    for m in _SYSTEM_REQUEST_RE.finditer(text):
        found = found or "system"
        text = _blank(text, m.start(), m.end())
    for m in _METHOD_REQUEST_RE.finditer(text):
        what = m.group("what").lower()
        kind = "frobenius" if "frobenius" in what else "power_series" if what.startswith("power") else "series"
        found, series = found or kind, True
        text = _blank(text, m.start(), m.end())
    named = sorted(((m.start(), m.end(), kind) for kind, regex in _NAMED_METHODS for m in regex.finditer(text)))
    for start, end, kind in named:
        found = found or kind
        text = _blank(text, start, end)
    if series:  # "... about x = 0" elsewhere in the sentence: where the series is centred, not an equation
        for m in _ABOUT_ZERO_RE.finditer(text):
            text = _blank(text, m.start(), m.end())
    if found:  # \text{ by power series }: the LaTeX wrapper left empty goes too
        text = re.sub(r"\\(?:text|mathrm|textrm)\s*\{\s*[,;]?\s*\}", lambda m: " " * len(m.group(0)), text)
    return text, found


#: "by Euler's method", "using the (forward) Euler method": the textbook's numerical method, asked for.
_EULER_RE = re.compile(
    r"(?i)(?<![A-Za-z])(?:(?:by|using|with|via|use|apply)\s+(?:an?\s+|the\s+)?)?(?:forward\s+|explicit\s+)?"
    r"euler(?:'s|’s|s)?\s+(?:method|scheme)(?![A-Za-z])")
_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
#: Its step: "with h = 0.1", "step size h = 0.05", "a step of 0.25", "\Delta x = 0.1" (anywhere in the text).
_EULER_STEP_RE = re.compile(
    rf"(?i)(?<![A-Za-z])(?:(?:with|using|and|of)\s+)?(?:an?\s+|the\s+)?"
    rf"(?:step(?:\s*[-\s]?(?:size|length))?(?:\s+(?:of|h))?|h|\\Delta\s*[a-z]|Δ\s*[a-z])\s*(?:=|:|of)?\s*"
    rf"(?P<h>{_NUMBER})(?![\d.])")
#: Where the student wants the value: "to approximate y(1)", "estimate y(0.5)", "find the value of y(2)".
_EULER_TARGET_RE = re.compile(
    rf"(?i)(?<![A-Za-z])(?:(?:in\s+order\s+)?to\s+)?(?:approximate|estimate|find|compute|obtain)\s+"
    rf"(?:an?\s+|the\s+)?(?:approximate\s+)?(?:value\s+(?:of\s+)?)?[A-Za-z]\s*\(\s*(?P<x>-?\s*(?:{_NUMBER}))\s*\)")
#: Bounds on what the student may ask of Euler's method (the table has one row per step).
EULER_STEP_RANGE = (1e-3, 1.0)
EULER_MAX_STEPS = 2000


def euler_request(text: str) -> tuple[str, bool, float | None, float | None]:
    """(text with the request blanked out, whether Euler's method is asked for, its step ``h``, the point
    whose value is wanted). The step and the point are read only when Euler's method is asked for;
    positions in the text stay the same. Raises :class:`ParseError` for a step outside
    :data:`EULER_STEP_RANGE`."""
    found = list(_EULER_RE.finditer(text))
    if not found:
        return text, False, None, None
    for m in found:
        text = _blank(text, m.start(), m.end())
    step = target = None
    m = _EULER_STEP_RE.search(text)
    if m:
        step = float(m.group("h"))
        low, high = EULER_STEP_RANGE
        if not low <= step <= high:
            raise ParseError(f"Euler's step h = {m.group('h')} is outside what this tutor runs", m.start("h"),
                             suggestion=f"pick a step between {low:g} and {high:g}, e.g. h = 0.1")
        text = _blank(text, m.start(), m.end())
    m = _EULER_TARGET_RE.search(text)
    if m:
        target = float(m.group("x").replace(" ", ""))
        text = _blank(text, m.start(), m.end())
    # \text{ using Euler's method }: the LaTeX wrapper left empty goes too
    text = re.sub(r"\\(?:text|mathrm|textrm)\s*\{\s*[,;]?\s*\}", lambda m: " " * len(m.group(0)), text)
    return text, True, step, target


_VALUE = r"-?\s*(?:\d+(?:\.\d*)?|\.\d+)(?:\s*/\s*\d+)?|-?\s*(?:\d+\s*\*?\s*)?(?:\\pi|pi|π)(?:\s*/\s*\d+)?"
#: "Find y(1)", "and compute y(0.5)", "What is y(2)?": the value of the solution at a point, asked for
#: (a call with a number inside and no "=" after it; "find y(x)" asks for the function, not a value).
_EVALUATE_RE = re.compile(
    rf"(?i)(?<![A-Za-z])(?:(?:and|then|also)\s+)?(?:find|compute|calculate|determine|evaluate|give|what\s+is|"
    rf"what's)\s+(?:the\s+value\s+(?:of\s+)?)?(?P<f>[A-Za-z])\s*\(\s*(?P<x>{_VALUE})\s*\)(?!\s*[=(])\s*\??")
#: "that passes through (1, 2)", "through the point (0, -1)": the initial condition y(1) = 2.
_THROUGH_RE = re.compile(
    rf"(?i)(?<![A-Za-z])(?:(?:that|which)\s+)?(?:passes|passing|goes|going|pass)\s+through\s+(?:the\s+point\s+)?"
    rf"\(\s*(?P<x>{_VALUE})\s*,\s*(?P<y>{_VALUE})\s*\)")


def value_requests(text: str) -> tuple[str, list[tuple[int, str]], list[tuple[int, str, str]]]:
    """(text with the phrases blanked out, the points whose value is asked for as (offset, text), the
    points a curve must pass through as (offset, x text, y text)). Positions stay the same."""
    points, through = [], []
    for m in _THROUGH_RE.finditer(text):
        through.append((m.start("x"), m.group("x"), m.group("y")))
    for m in _EVALUATE_RE.finditer(text):
        points.append((m.start("x"), m.group("x")))
    for m in [*_THROUGH_RE.finditer(text), *_EVALUATE_RE.finditer(text)]:
        text = _blank(text, m.start(), m.end())
    return text, points, through


#: A number in a domain qualifier: 0, -1, 2.5, 1/2, pi, 2pi, \pi/2, infinity.
_BOUND = (r"-?\s*(?:(?:\d+(?:\.\d+)?\s*\*?\s*)?(?:\\pi|pi|π)|\d+(?:\.\d+)?|\\infty|∞|infinity|oo)"
          r"(?:\s*/\s*\d+)?")
_LESS_OR_MORE = r"(?:<=|>=|<|>|≤|≥|\\leq?(?![A-Za-z])|\\geq?(?![A-Za-z])|\\lt(?![A-Za-z])|\\gt(?![A-Za-z]))"
_CHAIN = (rf"(?:(?:{_BOUND})\s*{_LESS_OR_MORE}\s*)?(?<![A-Za-z\\])[A-Za-z](?![A-Za-z(])\s*{_LESS_OR_MORE}\s*(?:{_BOUND})"
          rf"|(?:{_BOUND})\s*{_LESS_OR_MORE}\s*(?<![A-Za-z\\])[A-Za-z](?![A-Za-z(])")
#: "for x > 0", ", t >= 0", "where 0 < x < pi", "(x > 0)", "\text{for } x > 0": where the equation is
#: meant to hold, as textbooks say it; a note about the domain, not part of the equation.
_DOMAIN_RE = re.compile(
    rf"(?i)(?:(?P<lead>,|;|\\quad|\\qquad|\\text\s*\{{\s*(?:for|where|when|on)\s*\}}|(?<![A-Za-z])(?:for|where|when|on|with)"
    rf"(?![A-Za-z]))\s*(?:all\s+)?(?P<chain>{_CHAIN})\s*"
    rf"(?=$|[,;.]|\\quad|\s+(?:with|and|where|if|given|subject|satisfying)(?![A-Za-z]))"
    rf"|\(\s*(?:for\s+)?(?P<inner>{_CHAIN})\s*\)\s*(?=$|[,;.]))")


#: "where k is a constant", ", with a and b positive constants", "on the interval [0, 1]", "for 0 <= t <= 2":
#: notes about the letters or the interval, not mathematics to read.
_NOTE_RE = re.compile(
    r"(?i)(?:,|;|(?<![A-Za-z]))\s*(?:where|with|and|if)\s+(?:the\s+)?[A-Za-z](?:\s*(?:,|and)\s*[A-Za-z])*\s+"
    r"(?:is|are)\s+(?:an?\s+|any\s+|some\s+)?(?:(?:positive|negative|real|nonzero|non-zero|arbitrary|given|fixed)\s+)*"
    r"(?:constants?|parameters?|numbers?|reals?)(?![A-Za-z])"
    r"|(?:,|;|(?<![A-Za-z]))\s*(?:on|over|in)\s+(?:the\s+)?(?:interval|domain)\s+[\[(]\s*[^\[\]()]*[\])]")


def strip_domain(text: str) -> str:
    """``text`` with domain qualifiers ("for x > 0", ", t >= 0", "(0 < x < pi)", "on the interval
    [0, 1]") and notes on the letters ("where k is a constant") blanked out; positions stay the same.
    Only a qualifier standing on its own (after a separator or "for"/"where"/"on", or in parentheses,
    and ending its piece) is taken: an inequality inside an equation is left for the parser to refuse."""
    text = _NOTE_RE.sub(lambda m: " " * len(m.group(0)), text)
    return _DOMAIN_RE.sub(lambda m: " " * len(m.group(0)), text)


#: A title before a colon at the start ("Newton's law of cooling: dT/dt = ...", "Logistic growth:"): words only.
_TITLE_RE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z'’-]*\s+){1,7}[A-Za-z][A-Za-z'’-]{2,}\s*:(?!=)")  # two words or more
#: "Verify that y = e^{2x} is a solution of y'' - 4y = 0", "Show that y = x^2 solves x y' = 2y": a check, not
#: a problem to solve (the Solve tab answers it with the checker).
_VERIFY_RE = re.compile(
    r"(?is)^\s*(?:verify|show|check|prove|confirm|determine\s+whether|is\s+it\s+true)\s+(?:that\s+|whether\s+|if\s+)?"
    r"(?:the\s+function\s+)?(?P<answer>.+?)\s+(?:is\s+an?\s+(?:explicit\s+|implicit\s+|particular\s+|general\s+)?"
    r"solution\s+(?:of|to)|solves|satisfies)\s+(?:the\s+(?:differential\s+)?equation\s+|the\s+ode\s+|the\s+ivp\s+)?"
    r"(?P<problem>.+?)\s*[.?]?\s*$")


def verification_request(text: str) -> tuple[str, str] | None:
    """``(problem text, answer text)`` when ``text`` asks to verify a solution rather than to find one."""
    m = _VERIFY_RE.match(text or "")
    if not m or "=" not in m.group("problem"):
        return None
    return m.group("problem").strip(), m.group("answer").strip()


def strip_prose(text: str) -> str:
    """``text`` with the words around the equation replaced by spaces (positions stay the same).

    At the start of the text and of every piece (after a separator such as ``,`` or ``where``)
    an instruction phrase is dropped: "Solve", "Find the general solution of", "Solve the
    initial value problem", "ODE:".  A piece that names only the unknown after such a phrase
    ("find y") or after "for" ("... for y") is dropped with it, and so is a sentence's final
    full stop.  Words that remain inside the mathematics are left for the parser, which refuses
    them with a suggestion (see :func:`tutor.plaintext.check_words`) rather than reading
    ``solve`` as ``s·o·l·v·e``.
    """
    title = _TITLE_RE.match(text)
    if title and "=" not in title.group(0):
        text = " " * title.end() + text[title.end():]
    text = _SENTENCE_END_RE.sub(lambda m: ";" if m.group("within") else " " * len(m.group(0)), text)
    starts = [(0, "")] + [(m.end(), m.group(0)) for m in _top_level_separators(text)]
    for start, separator in starts:
        if start >= len(text):
            continue
        end = start
        lead = _LEAD_RE.match(text, start)
        if lead and lead.group(0).strip():
            end = lead.end()
        elif not separator.strip().lower().startswith("for"):
            continue
        nxt = _SEPARATOR_RE.search(text, end)
        stop = nxt.start() if nxt else len(text)
        if _LONE_NAME_RE.fullmatch(text, end, stop):
            end = stop
        text = _blank(text, start, end)
    return text


def prose_left_out(text: str) -> list[str]:
    """The instruction words :func:`strip_prose` drops from ``text`` ("Solve the ODE"), in order."""
    try:
        normalized, _ = normalize(text)
    except ParseError:
        return []
    stripped = strip_prose(normalized)
    spans = re.finditer(r"[^ ]+(?: [^ ]+)*", "".join(a if b == " " and a != " " else " "
                                                        for a, b in zip(normalized, stripped)))
    return [m.group(0).rstrip(":;.?! ") for m in spans if m.group(0).rstrip(":;.?! ")]


def blank_separators(text: str) -> str:
    """``text`` with its separator words (``where``, ``subject to``, ...) replaced by spaces."""
    return _SEPARATOR_RE.sub(lambda m: " " * len(m.group(0)) if m.group(0)[:1].isalpha() else m.group(0), text)


def ic_order(primes: str | None) -> int:
    if not primes:
        return 0
    if primes.startswith("'"):
        return len(primes)
    return int(re.search(r"\d+", primes).group(0))


def match_initial_condition(piece: str) -> re.Match | None:
    """``y(0) = 3``, ``y'(0)=1``, ``y^{(2)}(\\pi) = e``: a condition at a constant point."""
    m = _IC_RE.match(piece)
    if not m:
        return None
    leftover = _POINT_WORDS.sub("", m.group("point"))
    if re.search(r"[A-Za-z]", leftover) or not m.group("point").strip():
        return None  # y(x) = ... is an equation, not a condition
    return m


def split_problem(text: str) -> tuple[tuple[int, str], list[tuple[int, re.Match]]]:
    """(offset, equation text) and the initial-condition matches with their offsets."""
    equation_parts: list[tuple[int, str]] = []
    conditions: list[tuple[int, re.Match]] = []
    # the separator before each piece: a LaTeX space may cut an equation in two (joined again below);
    # a comma, semicolon or new line after a whole equation ends it
    before = [""] + [m.group(0) for m in _top_level_separators(text)]
    for (offset, piece), separator in zip(_top_level_split_all(text), before):
        if not piece.strip():
            continue
        m = match_initial_condition(piece)
        if m:
            conditions.append((offset, m))
            continue
        has_equation = "=" in " ".join(p for _, p in equation_parts)
        if equation_parts and "=" in piece and has_equation:
            raise ParseError("this looks like a system of equations; the tutor solves one ODE at a time",
                             offset, suggestion="enter a single equation, then its initial conditions")
        if has_equation and "=" not in piece and separator.strip() in (",", ";", ""):
            # "y' = y, 3" or "y' = y, y(0) = 1, y(2)": not part of the equation (it would be multiplied in)
            raise ParseError(f"'{piece.strip()}' is neither part of the equation nor a condition", offset,
                             suggestion="conditions are written y(0) = 1; to ask for a value, write \"find y(2)\"; "
                                        "a decimal uses a point (2.5), not a comma")
        equation_parts.append((offset, piece))
    if not equation_parts:
        if conditions:
            raise ParseError("only initial conditions were given; the equation is missing", 0,
                             suggestion="type the ODE first, e.g. y' = 2y, y(0) = 1")
        raise ParseError("the input is empty", suggestion="type an ODE such as y' + 2y = e^(-x)")
    offset = equation_parts[0][0]
    return (offset, " ".join(p for _, p in equation_parts)), conditions


# ---------------------------------------------------------------------------
# Derivative notation -> markers

def _int(*groups: str | None, default: int = 1) -> int:
    for g in groups:
        if g:
            return int(g)
    return default


_FRAC_LEIBNIZ = re.compile(
    rf"\\frac\s*\{{\s*d\s*(?:\^\s*\{{?\s*(\d+)\s*\}}?)?\s*\{{?\s*{FUNC}\s*\}}?\s*"
    rf"(?:\(\s*{VAR}\s*\))?\s*\}}\s*\{{\s*d\s*\{{?\s*{VAR}\s*\}}?\s*(?:\^\s*\{{?\s*(\d+)\s*\}}?)?\s*\}}"
)
_FRAC_OPERATOR = re.compile(
    rf"\\frac\s*\{{\s*d\s*(?:\^\s*\{{?\s*(\d+)\s*\}}?)?\s*\}}\s*\{{\s*d\s*\{{?\s*{VAR}\s*\}}?\s*(?:\^\s*\{{?\s*(\d+)\s*\}}?)?\s*\}}"
)
_PLAIN_LEIBNIZ = re.compile(
    rf"(?<![A-Za-z\\])d{_POW}\s*\{{?\s*{FUNC}\s*\}}?\s*(?:\(\s*{VAR}\s*\))?\s*/\s*d\s*{VAR}{_POW}"
)
_PLAIN_OPERATOR = re.compile(rf"(?<![A-Za-z\\])d\s*(?:\^\s*\{{?\s*(\d+)\s*\}}?)?\s*/\s*d\s*{VAR}{_POW}")
# what an operator d/dx applies to: y, y(x), (y), [y], {y}, y{(x)}
_OPERAND = re.compile(rf"\s*(?:[(\[{{]\s*{FUNC}\s*(?:\(\s*{VAR}\s*\))?\s*[)\]}}]|{FUNC}(?:\s*\{{?\s*\(\s*{VAR}\s*\)\s*\}}?)?)")
_DOT = re.compile(rf"\\(d*)dot\s*\{{?\s*{FUNC}\s*\}}?")
_PAREN_ORDER = re.compile(rf"(?<![\\])(?<![A-Za-z]{{2}}){FUNC}\s*\^\s*(\{{\s*\(\s*(\d+)\s*\)\s*\}}|\(\s*(\d+)\s*\))")
_PRIME = re.compile(rf"(?<![\\]){FUNC}\s*('+)(?:\s*\{{?\s*\(\s*([^()]*?)\s*\)\s*\}}?)?")
_DIFFERENTIAL = re.compile(rf"(?<![A-Za-z\\])d\s*{VAR}(?![A-Za-z(])")
_APPLIED = re.compile(rf"(?<![\\]){FUNC}\s*\{{?\s*\(\s*{VAR}\s*\)\s*\}}?")


def _check_order(order: int, position: int) -> int:
    if order > MAX_ORDER:
        raise ParseError(f"a derivative of order {order} is more than the tutor handles (at most {MAX_ORDER})",
                         position)
    if order < 1:
        raise ParseError("a derivative must have order 1 or more", position)
    return order


def mark_derivatives(text: str, offset: int = 0) -> Marked:
    """Replace every derivative notation in ``text`` by a marker."""
    marked = Marked(text)

    def leibniz(m: re.Match) -> str:
        top = _int(m.group(1), m.group(2))
        func, inner, var = m.group(3), m.group(4), m.group(5)
        bottom = _int(m.group(6), m.group(7))
        if top != bottom:
            raise ParseError(f"the orders in this derivative do not match (d^{top} over d{var}^{bottom})",
                             offset + m.start(), suggestion=f"write d^{top}{func}/d{var}^{top}")
        if inner and inner != var:
            raise ParseError(f"{func}({inner}) is differentiated with respect to {var}", offset + m.start())
        return marked.add(Marker(clean_name(func), _check_order(top, offset + m.start()), clean_name(var),
                                 offset + m.start()))

    def frac_leibniz(m: re.Match) -> str:
        top, func, inner, var, bottom = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        top_n, bottom_n = _int(top), _int(bottom)
        if top_n != bottom_n:
            raise ParseError("the orders in this derivative do not match", offset + m.start())
        if inner and inner != var:
            raise ParseError(f"{func}({inner}) is differentiated with respect to {var}", offset + m.start())
        return marked.add(Marker(clean_name(func), _check_order(top_n, offset + m.start()), clean_name(var),
                                 offset + m.start()))

    def operator(m: re.Match, top: str | None, var: str, bottom: str | None) -> str:
        top_n, bottom_n = _int(top), _int(bottom)
        if top_n != bottom_n:
            raise ParseError("the orders in this derivative do not match", offset + m.start())
        operand = _OPERAND.match(marked.text, m.end())
        if not operand:
            raise ParseError(f"d/d{var} must be followed by the unknown function, e.g. d/d{var} y",
                             offset + m.end())
        func = operand.group(1) or operand.group(3)
        inner = operand.group(2) or operand.group(4)
        if inner and inner != var:
            raise ParseError(f"{func}({inner}) is differentiated with respect to {var}", offset + m.start())
        return marked.add(Marker(clean_name(func), _check_order(top_n, offset + m.start()), clean_name(var),
                                 offset + m.start())), operand.end()

    def sub_operator(pattern: re.Pattern, groups) -> None:
        while True:
            m = pattern.search(marked.text)
            if not m:
                return
            top, var, bottom = groups(m)
            replacement, end = operator(m, top, var, bottom)
            marked.text = marked.text[:m.start()] + replacement + marked.text[end:]

    marked.text = _FRAC_LEIBNIZ.sub(frac_leibniz, marked.text)
    sub_operator(_FRAC_OPERATOR, lambda m: (m.group(1), m.group(2), m.group(3)))
    marked.text = _PLAIN_LEIBNIZ.sub(leibniz, marked.text)
    sub_operator(_PLAIN_OPERATOR, lambda m: (m.group(1), m.group(2), m.group(3) or m.group(4)))

    def dot(m: re.Match) -> str:
        order = len(m.group(1)) + 1
        return marked.add(Marker(clean_name(m.group(2)), order, "t", offset + m.start()))

    marked.text = _DOT.sub(dot, marked.text)

    def prime(m: re.Match) -> str:
        func, primes, arg = m.group(1), m.group(2), m.group(3)
        order = _check_order(len(primes), offset + m.start())
        var = None
        tail = ""
        if arg is not None:
            if re.fullmatch(r"\\?(?:theta|tau)|[A-Za-z]", arg):
                var = clean_name(arg)
            elif re.fullmatch(r"[-+\d.\s]*|\\?pi", arg):
                raise ParseError(
                    f"{func}{primes}({arg}) is a value at a point, not part of the equation",
                    offset + m.start(),
                    suggestion=f"write the equation first, then the condition, e.g. ..., {func}{primes}({arg}) = 1")
            else:
                tail = m.group(0)[m.group(0).index("(", len(func)):]
        return marked.add(Marker(clean_name(func), order, var, offset + m.start())) + tail

    def paren_order(m: re.Match) -> str:
        order = _check_order(int(m.group(3) or m.group(4)), offset + m.start())
        return marked.add(Marker(clean_name(m.group(1)), order, None, offset + m.start()))

    marked.text = _PRIME.sub(prime, marked.text)
    prime_functions = {mk.function for mk in marked.markers}
    # y^(4) / y^{(4)} is a derivative of the unknown; x^(2) next to y' is a power.
    candidates = {clean_name(m.group(1)) for m in _PAREN_ORDER.finditer(marked.text)}
    if prime_functions:
        allowed = prime_functions
    elif "y" in candidates:
        allowed = {"y"}
    else:
        allowed = candidates if len(candidates) == 1 else set()
    marked.text = _PAREN_ORDER.sub(
        lambda m: paren_order(m) if clean_name(m.group(1)) in allowed else m.group(0), marked.text)
    return marked


def mark_differentials(marked: Marked, offset: int = 0) -> None:
    """``M dx + N dy = 0``: replace the two differentials by markers (order 0)."""
    found = {clean_name(m.group(1)) for m in _DIFFERENTIAL.finditer(marked.text)}
    if len(found) != 2:
        return

    def differential(m: re.Match) -> str:
        name = clean_name(m.group(1))
        return marked.add(Marker(None, 0, None, offset + m.start(), differential=name))

    marked.text = _DIFFERENTIAL.sub(differential, marked.text)


def applied_variables(text: str, function: str) -> set[str]:
    """Variables named by ``y(x)`` / ``y{\\left(x \\right)}`` for the unknown ``function``."""
    from tutor.plaintext import KNOWN_WORDS

    out = set()
    for m in _APPLIED.finditer(text):
        word = re.search(r"[A-Za-z]*$", text[:m.end(1)]).group(0)
        if clean_name(m.group(1)) == function and word not in KNOWN_WORDS:
            out.add(clean_name(m.group(2)))
    return out


# ---------------------------------------------------------------------------
# Unit step and Dirac delta (the Laplace-transform chapter's notation)

#: Marker numbers from here on stand for unit steps and deltas (read by the parser), not derivatives.
SPECIAL_MARKER_BASE = 10_000

#: The one-letter names of the unit step (u(t - a), U(t - a), H(t - a)).
STEP_LETTERS = ("u", "U", "H")
_STEP_NAMES = r"\\mathcal\s*\{\s*U\s*\}|\\operatorname\s*\{\s*Heaviside\s*\}|Heaviside|[" + "".join(STEP_LETTERS) + "]"
_DELTA_NAMES = r"\\operatorname\s*\{\s*DiracDelta\s*\}|DiracDelta|\\delta|delta"
_SPECIAL_CALL = re.compile(
    rf"(?<![A-Za-z\\])(?:(?P<step>{_STEP_NAMES})|(?P<delta>{_DELTA_NAMES}))"
    r"\s*(?:_\s*(?P<sub>\{[^{}]*\}|[0-9]))?\s*\(")


@dataclass(frozen=True)
class SpecialCall:
    """``u(t - a)`` / ``\\delta(t - a)`` / ``u_a(t)`` in the text: what it is and where its argument lies."""

    kind: str  # "step" or "delta"
    start: int  # of the name
    end: int  # after the closing bracket
    argument: str  # the text inside the brackets
    argument_start: int
    subscript: str | None  # ``a`` of Boyce's ``u_a(t)`` (the step at t = a)
    name: str  # as written (``u``, ``\\mathcal{U}``, ``delta`` ...)


def special_calls(text: str, function: str) -> list[SpecialCall]:
    """The unit steps and Dirac deltas written as calls in ``text``, left to right.

    Spellings: ``u(t-a)``, ``U(t-a)``, ``H(t-a)``, ``Heaviside(t-a)``, ``\\mathcal{U}(t-a)``,
    ``u_a(t)`` / ``u_{a}(t)`` (the step at ``a``); ``delta(t-a)``, ``\\delta(t-a)``,
    ``DiracDelta(t-a)``.  A single letter that is the unknown (``u'' + u = 0``) is never a
    step, and a call whose argument has no letter in it (``H(2)``) is left as written; the
    caller also refuses a reading whose argument contains the unknown (``delta(y - 1)`` is a
    product).
    """
    calls: list[SpecialCall] = []
    for m in _SPECIAL_CALL.finditer(text):
        name = m.group("step") or m.group("delta")
        if name == function or (calls and m.start() < calls[-1].end):
            continue
        j = closing_paren(text, m.end() - 1)
        if j is None:
            continue  # unbalanced: check_brackets reports it
        argument = text[m.end():j]
        if not re.search(r"[A-Za-z]", argument):
            continue
        subscript = m.group("sub")
        if subscript is not None:
            if m.group("delta"):
                continue
            subscript = subscript.strip("{} ")
        calls.append(SpecialCall("step" if m.group("step") else "delta", m.start(), j + 1, argument, m.end(),
                                 subscript, name))
    return calls


# ---------------------------------------------------------------------------
# Piecewise functions written as cases -> unit steps (the Laplace-transform chapter)
#
# What a student types (README, "What the parser reads"):
#   plain, braces:   y'' + y = {1 if 0 <= t < 2; 0 if t >= 2}     ("for"/"when" too; "otherwise")
#   plain, a name:   y'' + y = f(t), f(t) = 1 for 0 <= t < 2, 0 for t >= 2, y(0) = 0, y'(0) = 0
#   LaTeX:           f(t) = \begin{cases} 1 & 0 \le t < 2 \\ 0 & t \ge 2 \end{cases}
# Each piece "v on a <= t < b" becomes v (u(t - a) - u(t - b)) (u(t - a) alone when b is missing,
# 1 - u(t - b) when a is), "otherwise" the rest; outside every piece the function is 0. The result
# is text in the same notation (``Heaviside(t - (a))``), read afterwards by the ordinary readers,
# so nothing here evaluates anything; the bounds are read by the whitelist readers only to check
# that they are numbers in increasing order.

#: A relation between a bound and the variable: <, <=, >, >= in every spelling.
_REL = r"<=|>=|=<|=>|<|>|≤|≥|⩽|⩾|\\le(?:q|qslant)?(?![A-Za-z])|\\ge(?:q|qslant)?(?![A-Za-z])|\\lt(?![A-Za-z])|\\gt(?![A-Za-z])"
_REL_RE = re.compile(_REL)
_KEYWORD = r"(?:\\(?:text|mbox|mathrm)\s*\{\s*)?(?:if|for|when|while)(?:\s*\})?"
_OTHERWISE = r"(?:\\(?:text|mbox|mathrm)\s*\{\s*)?(?:otherwise|else|elsewhere)\s*\.?\s*(?:\})?"
_PIECE_RE = re.compile(rf"^\s*(?P<value>.+?)\s*(?:(?:,\s*|\\q?quad\s*)*(?<![A-Za-z\\]){_KEYWORD}(?![A-Za-z])\s*(?P<cond>.*?)"
                       rf"|,\s*(?P<cond2>[^,]*?(?:{_REL}).*?)"
                       rf"|(?:,\s*|\\q?quad\s*)*(?<![A-Za-z\\])(?P<other>{_OTHERWISE}))\s*[,.]?\s*$", re.DOTALL)
_CASES_OPEN = re.compile(r"\\begin\s*\{\s*(?P<env>d?cases)\s*\}")
_PIECEWISE_SYNTAX = "write it as {1 if 0 <= t < 2; 0 if t >= 2} (or f(t) = 1 for 0 <= t < 2, 0 for t >= 2)"
_STEP_CLEAN = re.compile(r"\\(?:text|mbox|mathrm)\s*\{\s*\}|\\[,;:! ]|\\q?quad(?![A-Za-z])")


class PositionMap:
    """Where a position in rewritten text was in the text before (for a parse error's caret)."""

    def __init__(self, parts: list[tuple[str, int, bool]], old_length: int):
        self.parts = parts  # (text, old position, copied verbatim from there)
        self.old_length = old_length

    def original(self, position: int | None) -> int | None:
        if position is None:
            return None
        new = 0
        for text, old, exact in self.parts:
            if position < new + len(text):
                return old + (position - new) if exact else old
            new += len(text)
        return self.old_length


@dataclass
class _Piece:
    value: str
    value_start: int  # in the text before rewriting
    low: str | None  # the bound as written, None: no lower bound
    high: str | None
    otherwise: bool = False
    variable: str | None = None  # the letter its condition compares


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def closing_paren(text: str, start: int) -> int | None:
    """The index of the ``)`` that closes the ``(`` at ``text[start]``; None when it is unbalanced."""
    depth, j = 0, start
    while j < len(text):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        if depth == 0:
            return j
        j += 1
    return None


def split_outside_brackets(text: str, separators: str) -> list[tuple[int, str]]:
    """Split ``text`` at the characters in ``separators`` outside brackets: (offset, piece)."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in separators:
            pieces.append((start, text[start:i]))
            start = i + 1
    pieces.append((start, text[start:]))
    return pieces


def _condition(cond: str, position: int) -> tuple[str, str | None, str | None]:
    """``0 <= t < 2`` -> (variable, "0", "2"); ``t >= 2`` -> ("t", "2", None)."""
    cond = _STEP_CLEAN.sub(" ", cond).strip().rstrip(",.").strip()
    parts = _REL_RE.split(cond)
    relations = _REL_RE.findall(cond)
    if not relations or len(relations) > 2 or any(not p.strip() for p in parts):
        raise ParseError(f"could not read the condition '{_short(cond)}'", position,
                         suggestion="write a condition as 0 <= t < 2, t < 2 or t >= 2")
    names = [i for i, p in enumerate(parts) if re.fullmatch(r"\s*\\?[A-Za-z]\s*", p)]
    if len(names) != 1 or (len(relations) == 2 and names[0] != 1):
        raise ParseError(f"the condition '{_short(cond)}' must compare the variable with numbers", position,
                         suggestion="write a condition as 0 <= t < 2, t < 2 or t >= 2")
    less = [r in ("<", "<=", "=<", "≤", "⩽") or r.startswith(("\\le", "\\lt")) for r in relations]
    if len(set(less)) > 1:
        raise ParseError(f"the condition '{_short(cond)}' is not an interval", position,
                         suggestion="write a condition as 0 <= t < 2, t < 2 or t >= 2")
    variable = parts[names[0]].strip().lstrip("\\")
    low = high = None
    for i, relation in enumerate(relations):
        less = relation in ("<", "<=", "=<", "≤", "⩽") or relation.startswith(("\\le", "\\lt"))
        left, right = parts[i].strip(), parts[i + 1].strip()
        if i + 1 == names[0]:  # bound REL variable
            low, high = (left, high) if less else (low, left)
        else:  # variable REL bound
            low, high = (low, right) if less else (right, high)
    return variable, low, high


def _read_piece(text: str, start: int, latex_row: bool = False) -> _Piece | None:
    """One piece ``value if condition`` (``value & condition`` in a LaTeX row); None when it is not one."""
    if latex_row:
        if "&" not in text:
            return None
        value, cond = text.split("&", 1)
        offset, cond_start = len(value) - len(value.lstrip()), start + len(value) + 1
        value = value.strip().rstrip(",").rstrip()  # "1, & if 0 <= t < 2"
        cond = re.sub(rf"^\s*(?:,\s*)?{_KEYWORD}(?![A-Za-z])", " ", cond)
        if not value:
            return None
        if re.fullmatch(rf"\s*{_OTHERWISE}\s*[,.]?\s*", cond):
            return _Piece(value, start + offset, None, None, otherwise=True)
        variable, low, high = _condition(cond, cond_start)
        return _Piece(value, start + offset, low, high, variable=variable)
    m = _PIECE_RE.match(text)
    if not m or not m.group("value").strip():
        return None
    value_start = start + m.start("value")
    if m.group("other"):
        return _Piece(m.group("value"), value_start, None, None, otherwise=True)
    cond = m.group("cond") if m.group("cond") is not None else m.group("cond2")
    if not _REL_RE.search(cond or ""):
        return None
    variable, low, high = _condition(cond, start + (m.start("cond") if m.group("cond") is not None else m.start("cond2")))
    return _Piece(m.group("value"), value_start, low, high, variable=variable)


def _block_variable(pieces: list[_Piece], position: int) -> str:
    """The one letter every piece's condition compares (the variable of the steps)."""
    letters = sorted({p.variable for p in pieces if p.variable})
    if len(letters) != 1:
        raise ParseError("the conditions of the piecewise function do not name one variable"
                         + (f" ({', '.join(letters)})" if letters else ""), position, suggestion=_PIECEWISE_SYNTAX)
    return letters[0]


def _bound_value(text: str, is_latex: bool, position: int):
    """A bound read by the whitelist readers: a number (pi, fractions), never a letter."""
    import sympy

    from tutor.latex import parse_latex
    from tutor.plaintext import parse_expression

    def no_letters(name: str, *args):
        raise ParseError(f"a bound of a piece must be a number, not '{name}'", position,
                         suggestion="write a condition as 0 <= t < 2, t < 2 or t >= 2")

    def no_markers(k: int):
        raise ParseError("a bound of a piece must be a number", position)

    if is_latex or "\\" in text:
        value = parse_latex(text, no_letters, no_markers, position)
    else:
        value = parse_expression(text, no_letters, no_markers, None, position)
    if not value.is_number or not value.is_real:
        raise ParseError(f"a bound of a piece must be a real number, not {text}", position)
    return sympy.nsimplify(value) if value.is_Float else value


def _step_text(piece: _Piece, others: list[_Piece], variable: str) -> str:
    def one(p: _Piece) -> str:
        if p.low is not None and p.high is not None:
            return f"(Heaviside({variable} - ({p.low})) - Heaviside({variable} - ({p.high})))"
        if p.low is not None:
            return f"Heaviside({variable} - ({p.low}))"
        if p.high is not None:
            return f"(1 - Heaviside({variable} - ({p.high})))"
        return "1"

    if piece.otherwise:
        return "(1" + "".join(f" - {one(p)}" for p in others if not p.otherwise) + ")"
    return one(piece)


def _check_pieces(pieces: list[_Piece], is_latex: bool, position: int) -> None:
    """Numbers for bounds, each interval nonempty, no two pieces overlapping, at most one "otherwise"."""
    if sum(p.otherwise for p in pieces) > 1:
        raise ParseError("a piecewise function has more than one 'otherwise'", position)
    intervals = []
    for p in pieces:
        if p.otherwise:
            continue
        low = _bound_value(p.low, is_latex, p.value_start) if p.low is not None else None
        high = _bound_value(p.high, is_latex, p.value_start) if p.high is not None else None
        if low is None and high is None:
            raise ParseError("a piece needs a condition", p.value_start, suggestion=_PIECEWISE_SYNTAX)
        if low is not None and high is not None and not bool(low < high):
            raise ParseError(f"the piece for {p.low} .. {p.high} is empty (the bounds are not increasing)",
                             p.value_start, suggestion="write the smaller bound first, e.g. 0 <= t < 2")
        intervals.append((float(low) if low is not None else float("-inf"),
                          float(high) if high is not None else float("inf"), p))
    intervals.sort(key=lambda item: item[0])
    for (lo1, hi1, p1), (lo2, hi2, p2) in zip(intervals, intervals[1:]):
        if lo2 < hi1:
            raise ParseError("two pieces of the piecewise function overlap", p2.value_start,
                             suggestion="give each value of the variable to one piece only, e.g. 0 <= t < 2 and t >= 2")


def _rewrite_block(pieces: list[_Piece], variable: str, is_latex: bool, position: int) -> list[tuple[str, int, bool]]:
    """`` ((v1)*S1 + (v2)*S2) ``: the unit-step form as text parts, each value copied verbatim."""
    _check_pieces(pieces, is_latex, position)
    times = r" \cdot " if is_latex else "*"
    out: list[tuple[str, int, bool]] = [(" (", position, False)]
    for i, piece in enumerate(pieces):
        out.append(("(" if i == 0 else " + (", position, False))
        out.append((piece.value, piece.value_start, True))
        out.append((f"){times}{_step_text(piece, pieces, variable)}", position, False))
    out.append((") ", position, False))
    return out


def _block_at_cases(text: str, m: re.Match) -> tuple[int, list[_Piece], str | None]:
    """The pieces of a LaTeX ``\\begin{cases} ... \\end{cases}`` starting at match ``m``: (end, pieces, variable)."""
    env = m.group("env")
    close = re.compile(rf"\\end\s*\{{\s*{env}\s*\}}").search(text, m.end())
    if not close:
        raise ParseError(f"\\begin{{{env}}} is never closed", m.start(), suggestion="end it with \\end{cases}")
    body, body_start = text[m.end():close.start()], m.end()
    rows, last = [], 0
    for row in re.finditer(r"\\\\", body):
        rows.append((body_start + last, body[last:row.start()]))
        last = row.end()
    rows.append((body_start + last, body[last:]))
    rows = [(s, r) for s, r in rows if r.strip()]
    pieces = []
    for start, row in rows:
        piece = _read_piece(row, start, latex_row=True)
        if piece is None:
            raise ParseError("each row of the cases needs a value, '&' and a condition", start + len(row) - len(row.lstrip()),
                             suggestion=r"write \begin{cases} 1 & 0 \le t < 2 \\ 0 & t \ge 2 \end{cases}")
        pieces.append(piece)
    return close.end(), pieces, _block_variable(pieces, m.start())


def _brace_pairs(text: str) -> dict[int, int]:
    """Each '{' position -> its matching '}' (one pass; unmatched ones are left out)."""
    pairs, stack = {}, []
    for i, ch in enumerate(text):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            pairs[stack.pop()] = i
    return pairs


def _block_at_brace(text: str, start: int, pairs: dict[int, int]) -> tuple[int, list[_Piece], str | None] | None:
    """A plain ``{1 if 0 <= t < 2; 0 if t >= 2}`` at ``start`` (None when the braces hold no condition)."""
    j = pairs.get(start)
    if j is None:
        return None
    body = text[start + 1:j]
    if not (_REL_RE.search(body) or re.search(rf"(?<![A-Za-z]){_OTHERWISE}", body)):
        return None
    separators = ";\n" if ";" in body or "\n" in body else ","
    rows = [(start + 1 + s, r) for s, r in split_outside_brackets(body, separators) if r.strip()]
    pieces = []
    for row_start, row in rows:
        piece = _read_piece(row, row_start)
        if piece is None:
            raise ParseError(f"could not read '{_short(row)}' as a piece of a piecewise function",
                             row_start + len(row) - len(row.lstrip()), suggestion=_PIECEWISE_SYNTAX)
        pieces.append(piece)
    return j + 1, pieces, _block_variable(pieces, start)


def _run_after(text: str, start: int, name: str | None) -> tuple[int, list[_Piece], str | None] | None:
    """``1 for 0 <= t < 2, 0 for t >= 2`` right after an '=' at ``start``: two or more pieces with
    conditions, separated by ',' or ';' (a later piece may repeat ``y =``). None when there are not two."""
    pieces, rows, end = [], [], start
    repeat = re.compile(rf"^\s*{re.escape(name)}\s*(?:\(\s*[A-Za-z]\s*\))?\s*=(?!=)") if name else None
    for offset, piece_text in split_outside_brackets(text[start:], ",;\n"):
        piece_start = start + offset
        if repeat and pieces:
            m = repeat.match(piece_text)
            if m:
                piece_start += m.end()
                piece_text = piece_text[m.end():]
        if "=" in piece_text.replace("<=", "").replace(">=", "").replace("=<", "").replace("=>", ""):
            break
        try:
            piece = _read_piece(piece_text, piece_start)
        except ParseError:
            if len(pieces) >= 1:
                raise
            return None
        if piece is None or (not piece.otherwise and piece.low is None and piece.high is None):
            break
        pieces.append(piece)
        rows.append((piece_start, piece_text))
        end = piece_start + len(piece_text)
        if piece.otherwise:
            break
    if len(pieces) < 2:
        return None
    # "..., 0 for t >= 2." : the run ends at its last piece, the separator after it stays
    return end, pieces, _block_variable(pieces, start)


_DEFINITION = re.compile(r"(?<![A-Za-z\\'])(?P<name>\\?[A-Za-z]+)\s*(?:\(\s*(?P<arg>\\?[A-Za-z])\s*\))?\s*=(?![=<>])\s*")


def rewrite_piecewise(text: str, is_latex: bool) -> tuple[str, PositionMap | None]:
    """``text`` with every piecewise function written as cases replaced by its unit-step form.

    Returns the new text and a :class:`PositionMap` back to ``text`` (None when nothing changed).
    A named function (``f(t) = {...}`` or ``f(t) = 1 for 0 <= t < 2, 0 for t >= 2``) used
    elsewhere as ``f(t)`` is put in where it is used and its definition removed; otherwise the
    pieces are replaced where they stand (``y = {...}`` in an answer).  Raises ParseError (with
    the position and the syntax as a suggestion) for pieces that cannot be read.
    """
    if len(text) > MAX_PROBLEM_CHARS:  # the readers refuse it with their own message; no quadratic scan
        return text, None
    if not (_REL_RE.search(text) or re.search(rf"(?<![A-Za-z]){_OTHERWISE}", text)):
        return text, None
    blocks: list[tuple[int, int, list[_Piece], str | None, re.Match | None]] = []  # (start, end, pieces, var, definition)
    pairs = _brace_pairs(text)
    i = 0
    while i < len(text):
        cases = _CASES_OPEN.match(text, i)
        brace = text[i] == "{" and not is_latex and _block_at_brace(text, i, pairs)
        definition = _DEFINITION.match(text, i) if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "\\")) else None
        if cases:
            end, pieces, var = _block_at_cases(text, cases)
            blocks.append((i, end, pieces, var, None))
            i = end
        elif brace:
            end, pieces, var = brace
            blocks.append((i, end, pieces, var, None))
            i = end
        elif definition and not _CASES_OPEN.match(text, definition.end()) and \
                not (text[definition.end():definition.end() + 1] == "{" and not is_latex):
            run = _run_after(text, definition.end(), definition.group("name"))
            if run:
                end, pieces, var = run
                blocks.append((definition.end(), end, pieces, var, None))
                i = end
            else:
                i = definition.end()
        else:
            i += 1
    if not blocks:
        return text, None
    replacements: list[tuple[int, int, list[tuple[str, int, bool]]]] = []
    for start, end, pieces, var, _ in blocks:
        parts = _rewrite_block(pieces, var, is_latex, start)
        # A named function defined by these pieces and used elsewhere: put it in where it is used.
        head = None
        for d in _DEFINITION.finditer(text[:start]):
            if d.end() == start:
                head = d
        uses = []
        if head is not None and head.group("arg"):
            call = re.compile(rf"(?<![A-Za-z\\]){re.escape(head.group('name'))}\s*\(\s*{re.escape(head.group('arg'))}\s*\)(?!\s*=(?![=<>]))")
            uses = [u for u in call.finditer(text) if not (head.start() <= u.start() < end)]
        if uses:
            replacements.append((head.start(), end, [(" ", head.start(), False)]))
            replacements += [(u.start(), u.end(), parts) for u in uses]
        else:
            replacements.append((start, end, parts))
    replacements.sort(key=lambda r: r[0])
    out: list[tuple[str, int, bool]] = []
    last = 0
    for start, end, parts in replacements:
        if start < last:
            raise ParseError("a piecewise function is used inside another one", start)
        out.append((text[last:start], last, True))
        out.extend(parts)
        last = end
    out.append((text[last:], last, True))
    return "".join(t for t, _, _ in out), PositionMap(out, len(text))
