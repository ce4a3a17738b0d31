"""Systems of linear first-order ODEs: :class:`SystemProblem` and its readers.

``x' = A x + g(t)`` with a constant n x n matrix ``A`` (n = 2 or 3) and a forcing ``g`` in the
independent variable only.  What a student may type (README, "Systems of linear ODEs"):

* one equation per unknown, one per line or separated by ``;`` or ``,``:
  ``x' = x + 2y, y' = 3x + 2y, x(0) = 1, y(0) = 0`` (``dx/dt``, ``\\dot x`` too);
* LaTeX ``\\begin{cases} ... \\end{cases}`` or ``\\begin{aligned} ... \\end{aligned}``;
* matrix form ``X' = [[1, 2], [3, 4]] X`` (optionally ``+ [e^t, 0]``), with ``X(0) = [1, 0]``;
  LaTeX ``\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}`` (or ``bmatrix``) for a matrix or a
  vector.  The components of ``X`` are ``x, y`` (``x, y, z`` for three).

In a system ``x`` and ``y`` are unknown *functions*; the independent variable is ``t`` unless a
derivative names another (``dx/ds``).  Every other letter is refused: the method needs numbers
in ``A`` (a letter such as ``k`` would make the eigenvalues symbolic).

Every piece of text is read by the project's whitelist readers (:mod:`tutor.plaintext`, and
:mod:`tutor.latex` for LaTeX) through :class:`tutor.parser._Reader`; nothing reaches ``eval``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import sympy

from tutor import notation
from tutor.errors import ParseError
from tutor.problem import Answer, latex, looks_heavy

#: Sizes the eigenvalue method handles.
SIZES = (2, 3)
#: Names of the components of a vector unknown written in matrix form (``X' = A X``).
COMPONENT_NAMES = ("x", "y", "z")

_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{\s*(?:cases|aligned|align\*?|array|gathered)\s*\}(?:\s*\{[lcr|]*\})?")
_MATRIX_ENVIRONMENT = re.compile(
    r"\\begin\s*\{\s*([pbvBV]?matrix)\s*\}(?P<body>.*?)\\end\s*\{\s*\1\s*\}", re.DOTALL)


@dataclass(frozen=True)
class SystemCondition:
    """``x_i(point) = value``: one initial condition of a system."""

    function: sympy.FunctionClass
    point: sympy.Expr
    value: sympy.Expr

    def latex(self) -> str:
        return f"{latex(sympy.Symbol(self.function.__name__))}\\left({latex(self.point)}\\right) = {latex(self.value)}"


@dataclass(frozen=True)
class SystemProblem:
    """``x' = A x + g(t)``: unknown functions, one variable, a constant matrix, a forcing, conditions.

    ``matrix`` is the n x n coefficient matrix (numbers), ``forcing`` the n x 1 column ``g(t)``;
    ``ics`` are conditions at one point (all unknowns, or none).  ``is_system`` lets the stages
    that take either problem type tell them apart (:class:`tutor.problem.Problem` has it False).
    """

    functions: tuple[sympy.FunctionClass, ...]
    variable: sympy.Symbol
    matrix: sympy.ImmutableMatrix
    forcing: sympy.ImmutableMatrix
    ics: tuple[SystemCondition, ...] = ()
    source: str = ""
    notation: str = "plain"
    form: str = "equations"  # or "matrix": how the student wrote it

    is_system = True
    order = 1
    parameters: tuple = ()

    @property
    def n(self) -> int:
        return len(self.functions)

    @property
    def unknowns(self) -> tuple[sympy.Expr, ...]:
        return tuple(f(self.variable) for f in self.functions)

    @property
    def homogeneous(self) -> bool:
        return all(g == 0 for g in self.forcing)

    @cached_property
    def equations(self) -> tuple[sympy.Eq, ...]:
        """``x_i' = sum_j A_ij x_j + g_i`` for each unknown."""
        x = sympy.Matrix(self.unknowns)
        rhs = sympy.Matrix(self.matrix) * x + sympy.Matrix(self.forcing)
        return tuple(sympy.Eq(sympy.Derivative(u, self.variable), r, evaluate=False)
                     for u, r in zip(self.unknowns, rhs))

    @cached_property
    def heavy(self) -> bool:
        return looks_heavy(self.matrix, self.forcing, *(p for ic in self.ics for p in (ic.point, ic.value)))

    @property
    def ics_dict(self) -> dict:
        return {ic.function(ic.point): ic.value for ic in self.ics}

    def right_side_latex(self, i: int) -> str:
        """The i-th right-hand side with the unknowns written as plain letters (``x + 2 y``)."""
        names = {u: sympy.Symbol(f.__name__) for u, f in zip(self.unknowns, self.functions)}
        return latex(sympy.expand(self.equations[i].rhs).xreplace(names))

    @cached_property
    def latex(self) -> str:
        rows = r" \\ ".join(f"{latex(sympy.Symbol(f.__name__))}' = {self.right_side_latex(i)}"
                            for i, f in enumerate(self.functions))
        text = r"\begin{cases} " + rows + r" \end{cases}"
        if self.ics:
            text += r",\quad " + r",\ ".join(ic.latex() for ic in self.ics)
        return text

    @property
    def matrix_latex(self) -> str:
        return latex(sympy.Matrix(self.matrix))

    def to_dict(self) -> dict:
        return {
            "latex": self.latex,
            "system": True,
            "equations": [str(eq) for eq in self.equations],
            "functions": [f.__name__ for f in self.functions],
            "variable": str(self.variable),
            "matrix": [[str(v) for v in row] for row in sympy.Matrix(self.matrix).tolist()],
            "forcing": [str(v) for v in self.forcing],
            "order": 1,
            "initial_conditions": [{"function": ic.function.__name__, "point": str(ic.point),
                                    "value": str(ic.value), "latex": ic.latex()} for ic in self.ics],
            "parameters": [],
            "notation": self.notation,
            "source": self.source,
        }


def is_system(problem) -> bool:
    return bool(getattr(problem, "is_system", False))


# ---------------------------------------------------------------------------
# Reading


def _blank_environments(text: str) -> str:
    """``\\begin{cases}``, ``\\end{aligned}`` and ``&`` replaced by spaces (positions kept)."""
    text = _ENVIRONMENT.sub(lambda m: " " * len(m.group(0)), text)
    return text.replace("&", " ")


def _matrices_as_brackets(text: str) -> str:
    """``\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}`` -> ``[[1, 2], [3, 4]]`` (a column
    ``\\begin{pmatrix} 1 \\\\ 0 \\end{pmatrix}`` -> ``[1, 0]``)."""
    def one(m: re.Match) -> str:
        rows = [r for r in re.split(r"\\\\", m.group("body")) if r.strip()]
        cells = [[c.strip() for c in r.split("&")] for r in rows]
        if all(len(r) == 1 for r in cells):
            return "[" + ", ".join(r[0] for r in cells) + "]"
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in cells) + "]"
    return _MATRIX_ENVIRONMENT.sub(one, text)


def looks_like_system(normalized: str) -> bool:
    """Several equations (not conditions), a matrix, or a ``cases``/``aligned`` block."""
    if _MATRIX_ENVIRONMENT.search(normalized) or re.search(r"\[\s*\[", normalized) or \
            re.search(r"\\begin\s*\{\s*(?:cases|aligned)", normalized):
        return True
    equations = 0
    for _, piece in notation._top_level_split(_blank_environments(normalized)):
        if "=" in piece and not notation.match_initial_condition(piece):
            equations += 1
    return equations >= 2


def prepare(normalized: str) -> str:
    """The text the system readers work on: matrices as brackets, environments blanked."""
    return _blank_environments(_matrices_as_brackets(normalized))


class _SystemReader:
    """Reads expressions in which the unknown functions are ``names`` (``x(t)`` is ``x``)."""

    def __init__(self, names: tuple[str, ...], is_latex: bool):
        from tutor.parser import _Reader

        self.names = set(names)
        self.seen_applied: set[str] = set()
        reader = _Reader("", is_latex)
        reader.symbol = self.symbol
        reader.applied = self.applied
        reader._read_special_calls = lambda text, offset: text  # no unit steps in a system
        self.reader = reader

    @property
    def placeholders(self) -> dict:
        return self.reader.placeholders

    def symbol(self, name: str, *args: sympy.Expr) -> sympy.Expr:
        if args:
            if name in self.names and len(args) == 1 and isinstance(args[0], sympy.Symbol):
                self.seen_applied.add(args[0].name)
                return sympy.Symbol(name)
            return sympy.Mul(sympy.Symbol(name), *args)
        return sympy.Symbol(name)

    def applied(self, name: str, arg: str) -> bool:
        if name in self.names:
            self.seen_applied.add(arg)
            return True
        return False

    def side(self, text: str, offset: int) -> sympy.Expr:
        return self.reader.side(text, offset)


def _number(text: str, offset: int, is_latex: bool, what: str) -> sympy.Expr:
    reader = _SystemReader((), is_latex or "\\" in text)
    notation.check_brackets(text, offset)
    value = reader.side(text, offset)
    if reader.placeholders or value.free_symbols:
        raise ParseError(f"the {what} must be a number", offset)
    return value


def _split_entries(text: str, offset: int) -> list[tuple[int, str]]:
    """The comma-separated entries of ``[a, b, c]`` at the top level of the brackets."""
    inner, base = text.strip(), offset + (len(text) - len(text.lstrip()))
    if not (inner.startswith("[") and inner.endswith("]")):
        raise ParseError("expected a bracketed list such as [1, 2]", offset)
    inner, base = inner[1:-1], base + 1
    entries = [(base + start, entry) for start, entry in notation.split_outside_brackets(inner, ",")]
    for off, entry in entries:
        if not entry.strip():
            raise ParseError("an entry of this list is empty", off)
    return entries


def _read_matrix(text: str, offset: int, is_latex: bool) -> sympy.ImmutableMatrix:
    rows = _split_entries(text, offset)
    values = []
    for off, row in rows:
        values.append([_number(e, o, is_latex, "matrix entry") for o, e in _split_entries(row, off)])
    n = len(values)
    if any(len(r) != n for r in values):
        raise ParseError("the matrix must be square (as many columns as rows)", offset,
                         suggestion="write it row by row, e.g. [[1, 2], [3, 4]]")
    if n not in SIZES:
        raise ParseError(f"a {n}x{n} system is outside what the tutor solves (2x2 and 3x3)", offset)
    return sympy.ImmutableMatrix(values)


def _read_vector(text: str, offset: int, is_latex: bool, variable: sympy.Symbol, what: str) -> list[sympy.Expr]:
    out = []
    for off, entry in _split_entries(text, offset):
        reader = _SystemReader((), is_latex or "\\" in entry)
        value = reader.side(entry, off)
        extra = {s.name for s in value.free_symbols} - {variable.name}
        if reader.placeholders or extra or (what == "initial value" and value.free_symbols):
            raise ParseError(f"each {what} must be a number" + ("" if what == "initial value" else
                                                                  f" or an expression in {variable}"), off)
        out.append(value)
    return out


def _matching_bracket(text: str, start: int) -> int:
    depth = 0
    for j in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[j], 0)
        if depth == 0:
            return j
    raise ParseError("bracket '[' is never closed", start)


_MATRIX_LHS = re.compile(r"\s*(?:\\(?:mathbf|vec|boldsymbol)\s*\{\s*)?([A-Za-z])\s*\}?\s*'\s*(?:\(\s*([A-Za-z])\s*\)\s*)?=")


def _read_matrix_form(piece: str, offset: int, is_latex: bool):
    """``X' = [[1, 2], [3, 4]] X (+ [g1, g2])`` -> (vector letter, A, forcing texts, variable)."""
    m = _MATRIX_LHS.match(piece)
    if not m:
        raise ParseError("write the matrix form as X' = [[1, 2], [3, 4]] X", offset)
    letter, named_variable = m.group(1), m.group(2)
    rest_start = m.end()
    open_at = piece.find("[", rest_start)
    if open_at < 0 or piece[rest_start:open_at].strip():
        raise ParseError("the matrix should come right after '='", offset + rest_start,
                         suggestion="e.g. X' = [[1, 2], [3, 4]] X")
    close_at = _matching_bracket(piece, open_at)
    matrix = _read_matrix(piece[open_at:close_at + 1], offset + open_at, is_latex)
    tail = piece[close_at + 1:]
    v = re.match(rf"\s*\*?\s*(?:\\(?:mathbf|vec|boldsymbol)\s*\{{\s*)?{letter}\s*\}}?(?:\s*\(\s*[A-Za-z]\s*\))?", tail)
    if not v:
        raise ParseError(f"the matrix must multiply the unknown vector {letter}", offset + close_at + 1,
                         suggestion=f"e.g. {letter}' = [[1, 2], [3, 4]] {letter}")
    tail_start = close_at + 1 + v.end()
    forcing = None
    rest = piece[tail_start:].strip()
    if rest:
        sign = rest[0]
        body = rest[1:].strip()
        if sign not in "+-" or not body.startswith("[") or _matching_bracket(body, 0) != len(body) - 1:
            raise ParseError("after A X only a forcing vector may follow, e.g. + [e^t, 0]",
                             offset + tail_start)
        forcing = (sign, body, offset + piece.index(body, tail_start))
    return letter, matrix, forcing, named_variable


def parse_system(source: str, normalized: str, is_latex: bool) -> SystemProblem:
    """Read a system (equations or matrix form) with its initial conditions; ParseError otherwise."""
    text = prepare(normalized)
    from tutor.plaintext import check_words

    check_words(notation.blank_separators(text), is_latex)
    equations: list[tuple[int, str]] = []
    conditions: list[tuple[int, re.Match]] = []
    vector_conditions: list[tuple[int, str, str, str]] = []
    for offset, piece in notation._top_level_split(text):
        offset, piece = offset + len(piece) - len(piece.lstrip()), piece.lstrip()  # the caret on the text
        vm = re.match(r"\s*(?:\\(?:mathbf|vec|boldsymbol)\s*\{\s*)?([A-Za-z])\s*\}?\s*\(\s*([^()=]+?)\s*\)\s*=\s*(\[.*\])\s*$",
                      piece, re.DOTALL)
        if vm:
            vector_conditions.append((offset, vm.group(1), vm.group(2), vm.group(3)))
            continue
        m = notation.match_initial_condition(piece)
        if m:
            conditions.append((offset, m))
            continue
        if "=" not in piece:
            raise ParseError("in a system of equations every piece is an equation u' = ... or a condition u(0) = ...",
                             offset, suggestion="e.g. x' = x + 2y, y' = 3x + 2y, x(0) = 1, y(0) = 0")
        equations.append((offset, piece))
    if not equations:
        raise ParseError("only initial conditions were given; the equations are missing", 0)
    matrix_pieces = [(o, p) for o, p in equations if "[" in p]
    if matrix_pieces:
        if len(equations) > 1:
            raise ParseError("write a system either as a matrix equation or as separate equations, not both",
                             equations[1][0])
        return _matrix_system(source, matrix_pieces[0], conditions, vector_conditions, is_latex)
    return _equations_system(source, equations, conditions, vector_conditions, is_latex)


def _letter_at(text: str, letter: str) -> int:
    """Where ``letter`` first stands in ``text`` (inside a run such as ``ky`` too, not in ``\\exp``)."""
    for run in re.finditer(r"(?<!\\)[A-Za-z]+", text):
        if letter in run.group(0):
            return run.start() + run.group(0).index(letter)
    return 0


def _variable(explicit: set[str], offset: int) -> sympy.Symbol:
    if len(explicit) > 1:
        raise ParseError(f"derivatives with respect to several variables ({', '.join(sorted(explicit))}) "
                         "in one system of equations", offset)
    return sympy.Symbol(explicit.pop() if explicit else "t")


def _equations_system(source, equations, conditions, vector_conditions, is_latex) -> SystemProblem:
    marked_all = []
    names: list[str] = []
    explicit: set[str] = set()
    for offset, piece in equations:
        notation.check_brackets(piece, offset)
        marked = notation.mark_derivatives(piece, offset)
        if not marked.markers:
            raise ParseError("in a system of equations every equation needs a derivative, as in x' = x + 2y",
                             offset, suggestion="give each unknown its equation u' = ..., then the conditions")
        for mk in marked.markers:
            if not mk.function:
                raise ParseError("a differential (dx, dy) cannot be read in a system of equations", mk.start)
            if mk.order != 1:
                raise ParseError(f"{mk.function} has a derivative of order {mk.order}: the tutor solves systems "
                                 "of first-order equations", mk.start,
                                 suggestion="introduce a new unknown for each derivative (v = x') to make it first order")
            if mk.function not in names:
                names.append(mk.function)
        explicit |= set(marked.explicit_variables)
        marked_all.append((offset, marked, piece))
    if len(names) < 2:
        raise ParseError(f"this looks like a system of equations, but only {names[0]}' appears: "
                         "a system needs one unknown per equation", equations[1][0],
                         suggestion="enter a single equation, then its initial conditions")
    if len(equations) != len(names):
        raise ParseError(f"{len(equations)} equations for {len(names)} unknowns ({', '.join(names)}): "
                         "a system of equations needs one equation per unknown", equations[0][0])
    if len(names) not in SIZES:
        raise ParseError(f"a system of {len(names)} equations is outside what the tutor solves (2 or 3)",
                         equations[0][0])
    for offset, marked, _ in marked_all:
        explicit |= {v for name in names for v in notation.applied_variables(marked.text, name)}
    explicit -= set(names)
    variable = _variable(explicit, equations[0][0])
    if variable.name in names:
        raise ParseError(f"{variable} cannot be both an unknown and the variable", equations[0][0])
    value_of = {name: sympy.Dummy(name) for name in names}
    slope_of = {name: sympy.Dummy(name + "'") for name in names}
    rows = []
    for offset, marked, piece in marked_all:
        reader = _SystemReader(tuple(names), is_latex or "\\" in marked.text)
        from tutor.parser import _split_equals

        (lhs_text, lhs_off), rhs = _split_equals(marked.text, offset)
        if rhs is None or not lhs_text.strip() or not rhs[0].strip():
            raise ParseError("each equation of the system needs two sides, as in x' = x + 2y", offset)
        expr = reader.side(lhs_text, lhs_off) - reader.side(*rhs)
        reps = {dummy: slope_of[marked.markers[k].function] for k, dummy in reader.placeholders.items()}
        reps.update({sympy.Symbol(name): value_of[name] for name in names})
        expr = expr.xreplace(reps)
        others = sorted(s.name for s in expr.free_symbols - set(value_of.values()) - set(slope_of.values())
                        - {variable})
        if others:
            letter = others[0]
            raise ParseError(f"{letter} in this system of equations is neither the variable {variable} nor one of "
                             f"the unknowns ({', '.join(names)})", offset + _letter_at(piece, letter),
                             suggestion=f"a system is read in {variable}; its coefficients must be numbers")
        rows.append((offset, expr))
    unknowns = [slope_of[n] for n in names] + [value_of[n] for n in names]
    try:
        coefficients, rest = sympy.linear_eq_to_matrix([e for _, e in rows], unknowns)
    except (sympy.polys.polyerrors.PolynomialError, ValueError, TypeError):
        raise ParseError("this system is not linear in the unknowns and their derivatives "
                         "(the tutor solves linear systems x' = A x + g)", rows[0][0]) from None
    n = len(names)
    M, K = coefficients[:, :n], coefficients[:, n:]
    if any(e.has(variable) for e in coefficients):
        raise ParseError("the coefficients of this system depend on the variable; the tutor solves systems "
                         "with constant coefficients", rows[0][0])
    if M.det() == 0:
        raise ParseError("the equations cannot be solved for the derivatives (each unknown needs its own "
                         "equation u' = ...)", rows[0][0])
    # No simplify here: parsing runs in the caller's thread, and the coefficients are numbers the
    # student typed (usually M is the identity: one derivative alone on each left-hand side).
    if M == sympy.eye(M.shape[0]):
        A, g = -K, rest
    else:
        inverse = M.inv()
        A, g = (-inverse * K).applyfunc(sympy.cancel), (inverse * rest).applyfunc(sympy.expand)
    A, g = sympy.ImmutableMatrix(A), sympy.ImmutableMatrix(g)
    functions = tuple(sympy.Function(name) for name in names)
    ics = _conditions(conditions, vector_conditions, functions, variable, is_latex, None)
    return SystemProblem(functions, variable, A, g, ics, source, "latex" if is_latex else "plain", "equations")


def _matrix_system(source, piece, conditions, vector_conditions, is_latex) -> SystemProblem:
    offset, text = piece
    notation.check_brackets(text, offset)
    letter, A, forcing, named_variable = _read_matrix_form(text, offset, is_latex)
    variable = sympy.Symbol(named_variable or "t")
    n = A.shape[0]
    functions = tuple(sympy.Function(name) for name in COMPONENT_NAMES[:n])
    g = sympy.zeros(n, 1)
    if forcing is not None:
        sign, body, at = forcing
        values = _read_vector(body, at, is_latex, variable, "forcing entry")
        if len(values) != n:
            raise ParseError(f"the forcing vector has {len(values)} entries; the matrix is {n}x{n}", at)
        g = sympy.Matrix(values) * (-1 if sign == "-" else 1)
    ics = _conditions(conditions, vector_conditions, functions, variable, is_latex, letter)
    return SystemProblem(functions, variable, A, sympy.ImmutableMatrix(g), ics, source,
                         "latex" if is_latex else "plain", "matrix")


def _conditions(conditions, vector_conditions, functions, variable, is_latex, letter) -> tuple[SystemCondition, ...]:
    names = [f.__name__ for f in functions]
    out: list[SystemCondition] = []
    for offset, name, point_text, values_text in vector_conditions:
        if letter is None or name != letter:
            raise ParseError(f"a vector condition {name}(t0) = [...] needs the matrix form {name}' = A {name}",
                             offset, suggestion=f"or give one condition per unknown: {names[0]}(0) = 1, ...")
        point = _number(point_text, offset, is_latex, "point")
        values = _read_vector(values_text, offset + 0, is_latex, variable, "initial value")
        if len(values) != len(functions):
            raise ParseError(f"{len(values)} initial values for {len(functions)} unknowns", offset)
        out += [SystemCondition(f, point, v) for f, v in zip(functions, values)]
    for offset, m in conditions:
        name = notation.clean_name(m.group(1))
        if name not in names:
            raise ParseError(f"this condition is about {name}, but the unknowns are {', '.join(names)}", offset)
        if notation.ic_order(m.group(2)):
            raise ParseError("in a first-order system the conditions are on the unknowns themselves, "
                             f"as in {name}(0) = 1", offset)
        point = _number(m.group("point"), offset + m.start("point"), is_latex, "point")
        value = _number(m.group("value"), offset + m.start("value"), is_latex, "value")
        if any(c.function.__name__ == name for c in out):
            raise ParseError(f"two conditions on {name}", offset)
        out.append(SystemCondition(sympy.Function(name), point, value))
    if out:
        if len({c.point for c in out}) > 1:
            raise ParseError("the conditions of a system must be given at one point (an initial value problem)",
                             conditions[0][0] if conditions else 0)
        if len(out) != len(functions):
            missing = [n for n in names if n not in {c.function.__name__ for c in out}]
            raise ParseError(f"a condition for {', '.join(missing)} is missing: an initial value problem for a "
                             "system gives every unknown at the initial point",
                             (conditions or vector_conditions)[0][0],
                             suggestion=f"e.g. {', '.join(f'{n}(0) = 1' for n in names)}")
    order = {n: i for i, n in enumerate(names)}
    return tuple(sorted(out, key=lambda c: order[c.function.__name__]))


# ---------------------------------------------------------------------------
# Answers


_VECTOR_LHS = re.compile(r"\s*(?:\\(?:mathbf|vec|boldsymbol)\s*\{\s*[A-Za-z]\s*\}|[A-Za-z])\s*(?:\(\s*[A-Za-z]\s*\))?\s*=(?!=)")


def _vector_groups(text: str) -> list[tuple[int, int]]:
    """The outermost ``[...]`` groups of ``text`` that hold a comma at their own top level (vectors)."""
    groups, i = [], 0
    while i < len(text):
        if text[i] == "[":
            end = _matching_bracket(text, i)
            inner, depth, comma = text[i + 1:end], 0, False
            for ch in inner:
                depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
                comma = comma or (ch == "," and depth == 0)
            if comma:
                groups.append((i, end))
                i = end + 1
                continue
        i += 1
    return groups


def _vector_components(text: str, n: int, offset: int) -> list[str]:
    """``text`` once per component, each vector ``[a, b]`` replaced by its entry in brackets."""
    groups = _vector_groups(text)
    entries = []
    for start, end in groups:
        values = [e for _, e in _split_entries(text[start:end + 1], offset + start)]
        if len(values) != n:
            raise ParseError(f"this vector has {len(values)} entries; the system has {n} unknowns", offset + start)
        entries.append(values)
    out = []
    for i in range(n):
        pieces, last = [], 0
        for (start, end), values in zip(groups, entries):
            pieces += [text[last:start], f" ({values[i]}) "]
            last = end + 1
        out.append("".join(pieces) + text[last:])
    return out


def _explicit_value(reader: "_SystemReader", text: str, offset: int, name: str, problem: SystemProblem,
                    names: list[str]) -> sympy.Expr:
    if not text.strip():
        raise ParseError("the right-hand side of '=' is empty", offset)
    value = reader.side(text, offset)
    if {s.name for s in value.free_symbols} & set(names):
        raise ParseError(f"write {name} explicitly: its formula must not contain the unknowns", offset,
                         suggestion=f"e.g. {name} = C1 e^{{-{problem.variable}}} + ...")
    return value


_ANSWER_LHS = re.compile(r"\s*(\\?[A-Za-z]+)\s*(?:\(\s*([A-Za-z])\s*\))?\s*=(?!=)")


def parse_system_answer(text: str, problem: SystemProblem) -> Answer:
    """``x = C1 e^{-t} + 2 C2 e^{4t}, y = ...``: one explicit formula per unknown (any order), or the
    vector form ``X = C1 e^{-t} [1, -1] + C2 e^{4t} [2, 3]`` (``\\mathbf{x}``, pmatrix columns too).

    Returns an :class:`Answer` whose solutions are ``Eq(x(t), f)`` in the problem's order; every
    free symbol other than the variable is an arbitrary constant.
    """
    from tutor.parser import MAX_ANSWER_CHARS, _split_equals

    if not isinstance(text, str):
        raise ParseError("the answer must be text")
    if len(text) > MAX_ANSWER_CHARS:
        raise ParseError(f"the answer is too long ({len(text)} characters; at most {MAX_ANSWER_CHARS})")
    normalized, is_latex = notation.normalize(text)
    names = [f.__name__ for f in problem.functions]
    example = ", ".join(f"{n} = ..." for n in names)
    if not normalized:
        raise ParseError("the answer is empty", suggestion=f"write {example}")
    notation.check_characters(normalized, is_latex)
    normalized = prepare(normalized)
    found: dict[str, sympy.Expr] = {}
    for offset, piece in notation._top_level_split(normalized):
        notation.check_brackets(piece, offset)
        marked = notation.mark_derivatives(piece, offset)
        if marked.markers:
            raise ParseError("an answer must not contain derivatives; write each unknown itself",
                             marked.markers[0].start, suggestion=f"e.g. {example}")
        vector = _VECTOR_LHS.match(marked.text)
        if vector and _vector_groups(marked.text[vector.end():]):
            # X = C1 e^{-t} [1, -1] + C2 e^{4t} [2, 3]: component i has each vector's i-th entry
            rest_at = vector.end()
            for i, component in enumerate(_vector_components(marked.text[rest_at:], len(names), offset + rest_at)):
                if names[i] in found:
                    raise ParseError(f"{names[i]} is given twice", offset)
                reader = _SystemReader(tuple(names), is_latex or "\\" in piece)
                found[names[i]] = _explicit_value(reader, component, offset + rest_at, names[i], problem, names)
            continue
        m = _ANSWER_LHS.match(marked.text)
        if not m or notation.clean_name(m.group(1)) not in names:
            raise ParseError(f"each part of the answer gives one unknown: {example}", offset,
                             suggestion=f"the unknowns are {', '.join(names)}")
        name = notation.clean_name(m.group(1))
        if name in found:
            raise ParseError(f"{name} is given twice", offset)
        (lhs_text, _), rhs = _split_equals(marked.text, offset)
        if rhs is None or not rhs[0].strip():
            raise ParseError("the right-hand side of '=' is empty", offset + m.end())
        reader = _SystemReader(tuple(names), is_latex or "\\" in piece)
        found[name] = _explicit_value(reader, rhs[0], rhs[1], name, problem, names)
    missing = [n for n in names if n not in found]
    if missing:
        raise ParseError(f"the answer gives no formula for {', '.join(missing)}", None,
                         suggestion=f"write {example}")
    solutions = tuple(sympy.Eq(f(problem.variable), found[f.__name__], evaluate=False) for f in problem.functions)
    constants = sorted({s for v in found.values() for s in v.free_symbols if s != problem.variable},
                       key=lambda s: s.name)
    return Answer(solutions=solutions, constants=tuple(constants), explicit=(True,) * len(solutions), source=text)
