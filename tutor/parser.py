"""``parse(text) -> Problem`` and ``parse_answer(text, problem) -> Answer``.

The pipeline: :func:`tutor.notation.normalize` (unicode, LaTeX spellings) ->
drop the words around the equation (:func:`tutor.notation.strip_prose`: "Solve", "Find the
general solution of"; a word left inside the mathematics is refused by
:func:`tutor.plaintext.check_words`, never read as a product of letters) ->
split the equation from its initial conditions -> replace derivative notation
by markers -> decide the unknown function and the independent variable ->
parse each side with our plain-text grammar or, for LaTeX, latex2sympy2 behind
:mod:`tutor.latex` -> substitute ``y -> y(x)`` and markers -> ``Eq``.

Which letter is the variable (the rule, also in the README):

1. a variable named explicitly wins: ``dT/dt``, ``y'(t)``, ``y(t)``, ``\\dot x`` (time ``t``),
   or the differential of the independent variable (``M dx + N dy``);
2. otherwise ``x`` if it appears in the equation, else ``t`` if it appears;
3. otherwise ``x`` for an unknown named y, u, v, w, z, f or g, and ``t`` for
   any other name (``P' = P(1 - P)`` is ``P(t)``, ``x'' + x = 0`` is ``x(t)``).

In ``M dx + N dy = 0`` the unknown is ``y`` when ``dy`` is one of the two
differentials; otherwise the variable is ``t`` if ``dt`` is present, else the
alphabetically first letter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from tutor import notation
from tutor.errors import ParseError
from tutor.latex import parse_latex
from tutor.notation import Marked, Marker
from tutor.plaintext import check_words, parse_expression
from tutor.problem import Answer, InitialCondition, Problem
from tutor.system import SystemProblem, looks_like_system, parse_system

MAX_ANSWER_CHARS = 2000
#: The order symbol of a truncated series answer: ``O(x^8)``, ``\\mathcal{O}(x^8)``, ``\\operatorname{O}(...)``.
_ORDER_CALL = re.compile(r"(?<![A-Za-z\\])(?:\\mathcal\s*\{\s*O\s*\}|\\mathcal\s+O|\\operatorname\s*\{\s*O\s*\}|O)\s*\(")
_X_FIRST = {"y", "u", "v", "w", "z", "f", "g"}


class _Reader:
    """Parses the sides of one equation (or answer) for a fixed unknown; collects marker placeholders."""

    def __init__(self, function: str, is_latex: bool, variable: str | None = None):
        self.function = function
        self.is_latex = is_latex
        #: answers only: ``O(x^8)`` is read as the order of a truncated series in this variable
        self.variable = variable
        self.placeholders = {}
        self.seen_applied: set[str] = set()
        #: unit steps / Dirac deltas read from the text, by their marker number (>= notation.SPECIAL_MARKER_BASE)
        self.specials: dict[int, sympy.Expr] = {}

    def symbol(self, name: str, *args: sympy.Expr) -> sympy.Expr:
        """A name in the text; ``y(x)`` read by latex2sympy2 arrives with its argument."""
        if args:
            if name == self.function and len(args) == 1 and isinstance(args[0], sympy.Symbol):
                self.seen_applied.add(args[0].name)
                return sympy.Symbol(name)
            return sympy.Mul(sympy.Symbol(name), *args)
        return sympy.Symbol(name)

    def marker(self, k: int) -> sympy.Expr:
        if k in self.specials:
            return self.specials[k]
        if k not in self.placeholders:
            self.placeholders[k] = sympy.Dummy(f"marker{k}")
        return self.placeholders[k]

    def applied(self, name: str, arg: str) -> bool:
        if name == self.function:
            self.seen_applied.add(arg)
            return True
        return False

    def side(self, text: str, offset: int) -> sympy.Expr:
        if self.variable is not None:
            text = self._read_orders(text, offset)
        text = self._read_special_calls(text, offset)
        if self.is_latex:
            return parse_latex(text, self.symbol, self.marker, offset)
        return parse_expression(text, self.symbol, self.marker, self.applied, offset)


    def _read_orders(self, text: str, offset: int) -> str:
        """``O(x^8)``, ``O((x - 1)^5)``, ``\\mathcal{O}(x^8)`` in an answer -> a marker standing for SymPy's
        ``Order``: the truncation of a series answer (the checker checks it through that order).

        The argument is read by this same reader and must be ``x^N`` or ``(x - a)^N`` (N > 0)."""
        pieces, last = [], 0
        for m in _ORDER_CALL.finditer(text):
            if m.start() < last:
                continue
            j = notation.closing_paren(text, m.end() - 1)
            if j is None:
                continue  # unbalanced: check_brackets reports it
            inner = text[m.end():j]
            variable = sympy.Symbol(self.variable)
            reader = _Reader(self.function, self.is_latex)  # no O(...) inside O(...)
            argument = reader.side(inner, offset + m.end())
            base, exponent = argument.as_base_exp()
            point = base - variable
            if not (exponent.is_Rational and exponent > 0 and point.is_number
                    and base.free_symbols == {variable}):
                raise ParseError(f"write the order of a series as O({self.variable}^N) or "
                                 f"O(({self.variable} - a)^N)", offset + m.start())
            k = notation.SPECIAL_MARKER_BASE + len(self.specials)
            self.specials[k] = sympy.Order(argument, (variable, -point))
            pieces += [text[last:m.start()], f" ⟦{k}⟧ "]
            last = j + 1
        return "".join(pieces) + text[last:] if pieces else text

    def _read_special_calls(self, text: str, offset: int) -> str:
        """``u(t - 1)``, ``\\delta(t - 2)``, ``u_3(t)`` -> markers standing for ``Heaviside`` / ``DiracDelta``.

        The argument is read by this same reader; a call whose argument contains the unknown
        (``delta(y - 1)``) is not a step or an impulse and stays as written (a product).
        """
        calls = notation.special_calls(text, self.function)
        if not calls:
            return text
        pieces, last = [], 0
        for call in calls:
            argument = self.side(call.argument, offset + call.argument_start)
            if sympy.Symbol(self.function) in argument.free_symbols:
                continue
            if call.subscript is not None:
                shift = self.side(call.subscript, offset + call.start)
                if shift.free_symbols & argument.free_symbols or not isinstance(argument, sympy.Symbol):
                    raise ParseError(f"write the step at {call.subscript} as {call.name}_{call.subscript}(t) "
                                     f"or u(t - {call.subscript})", offset + call.start)
                argument = argument - shift
            k = notation.SPECIAL_MARKER_BASE + len(self.specials)
            self.specials[k] = (sympy.Heaviside if call.kind == "step" else sympy.DiracDelta)(argument)
            pieces += [text[last:call.start], f" ⟦{k}⟧ "]
            last = call.end
        return "".join(pieces) + text[last:]


def _split_equals(text: str, offset: int) -> tuple[tuple[str, int], tuple[str, int] | None]:
    depth = 0
    positions = []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            positions.append(i)
    if len(positions) > 1:
        raise ParseError("there is more than one '=' in the equation", offset + positions[1],
                         suggestion="separate initial conditions with a comma, e.g. y' = y, y(0) = 1")
    if not positions:
        return (text, offset), None
    i = positions[0]
    return (text[:i], offset), (text[i + 1:], offset + i + 1)


def _choose_function(marked: Marked, raw: str) -> tuple[str, str | None]:
    """(function name, differential-form variable or None)."""
    functions = {m.function for m in marked.markers if m.function}
    if len(functions) > 1:
        names = ", ".join(sorted(functions))
        raise ParseError(f"several unknown functions ({names}): systems of equations are not supported",
                         marked.markers[0].start)
    if functions:
        return functions.pop(), None
    differentials = sorted({m.differential for m in marked.markers if m.differential})
    if len(differentials) == 2:
        a, b = differentials
        if "y" in differentials:
            return "y", (b if a == "y" else a)
        if "t" in differentials:
            return (b if a == "t" else a), "t"
        return b, a
    suggestion = None
    letters = re.findall(r"(?<![A-Za-z\\])([yuvwxz])(?![A-Za-z])", raw)
    if letters:
        suggestion = f"did you mean {letters[0]}'? write derivatives as {letters[0]}', d{letters[0]}/dx or \\frac{{d{letters[0]}}}{{dx}}"
    else:
        suggestion = "write derivatives as y', dy/dx or \\frac{dy}{dx}"
    raise ParseError("no derivative found: this is not a differential equation", suggestion=suggestion)


def _choose_variable(function: str, explicit: set[str], free: set[str], position: int) -> str:
    explicit = set(explicit)
    if len(explicit) > 1:
        raise ParseError(
            f"derivatives with respect to several variables ({', '.join(sorted(explicit))}): "
            "that is a partial differential equation, or a typo", position)
    if explicit:
        var = explicit.pop()
    elif "x" in free and function != "x":
        var = "x"
    elif "t" in free and function != "t":
        var = "t"
    else:
        var = "x" if function in _X_FIRST else "t"
    if var == function:
        raise ParseError(f"{function} cannot be both the unknown and the variable", position)
    return var


def _refuse_unknown_coefficients(text: str, offset: int, function: str, variable: str) -> None:
    """``y' + p(x) y = q(x)``: a coefficient written as a function of the variable that the problem does
    not give. Read as letters it would be the product p·x (a silent misreading): refuse it instead. A
    product with brackets around more than the variable (``k(T - 20)``) stays a product."""
    for m in re.finditer(rf"(?<![A-Za-z\\_^])([A-Za-z])\s*\(\s*{re.escape(variable)}\s*\)", text):
        if m.group(1) in (function, variable) or m.group(1) in notation.STEP_LETTERS:
            continue
        name = m.group(1)
        raise ParseError(f"{name}({variable}) looks like a function of {variable} that the problem does not give",
                         offset + m.start(), suggestion=f"write it out (e.g. y' + 2{variable} y = 0); "
                                                        f"for a product write {name}*{variable} or {name} {variable}")


def _read_equation(text: str, offset: int, is_latex: bool) -> tuple[sympy.Eq, str, str, set[str]]:
    """(equation in y(x), function name, variable name, free parameter names)."""
    notation.check_brackets(text, offset)
    marked = notation.mark_derivatives(text, offset)
    if not marked.markers:
        notation.mark_differentials(marked, offset)
    function, diff_var = _choose_function(marked, text)
    explicit = set(marked.explicit_variables)
    explicit |= notation.applied_variables(marked.text, function)
    if diff_var:
        explicit.add(diff_var)

    reader = _Reader(function, is_latex)
    (lhs_text, lhs_off), rhs = _split_equals(marked.text, offset)
    if not lhs_text.strip():
        raise ParseError("the left-hand side of '=' is empty", offset)
    lhs = reader.side(lhs_text, lhs_off)
    if rhs is not None:
        if not rhs[0].strip():
            raise ParseError("the right-hand side of '=' is empty", rhs[1])
        rhs_expr = reader.side(*rhs)
    else:
        rhs_expr = sympy.Integer(0)
    explicit |= reader.seen_applied
    placeholders = set(reader.placeholders.values())
    free = {s.name for s in (lhs.free_symbols | rhs_expr.free_symbols) - placeholders}
    variable = _choose_variable(function, explicit, free - {function}, offset)
    _refuse_unknown_coefficients(text, offset, function, variable)

    F = sympy.Function(function)
    V = sympy.Symbol(variable)
    unknown = F(V)
    replacements: dict = {sympy.Symbol(function): unknown}
    differentials: dict[str, sympy.Dummy] = {}
    for k, dummy in reader.placeholders.items():
        mk: Marker = marked.markers[k]
        if mk.differential:
            differentials[mk.differential] = dummy
        else:
            replacements[dummy] = sympy.Derivative(unknown, (V, mk.order))
    lhs = lhs.xreplace(replacements)
    rhs_expr = rhs_expr.xreplace(replacements)
    if differentials:
        lhs, rhs_expr = _differential_form(lhs - rhs_expr, differentials, function, variable, unknown, V, offset)
    if not lhs.has(sympy.Derivative) and not rhs_expr.has(sympy.Derivative):
        raise ParseError("no derivative of the unknown is left in the equation", offset)
    if lhs - rhs_expr == 0:
        raise ParseError("both sides are the same: this equation says nothing", offset)
    params = free - {function, variable}
    return sympy.Eq(lhs, rhs_expr, evaluate=False), function, variable, params


def _differential_form(expr, differentials, function, variable, unknown, V, offset):
    """M d(var) + N d(func) = 0  ->  M + N y' = 0."""
    d_var, d_fun = differentials[variable], differentials[function]
    M = sympy.diff(expr, d_var)
    N = sympy.diff(expr, d_fun)
    if M.has(d_var, d_fun) or N.has(d_var, d_fun) or \
            sympy.expand(expr - M * d_var - N * d_fun) != 0:
        raise ParseError(f"in differential form every term must carry exactly one of d{variable}, d{function}",
                         offset, suggestion=f"write it as M d{variable} + N d{function} = 0")
    if N == 0:
        raise ParseError(f"d{function} does not appear with a coefficient", offset)
    return M + N * sympy.Derivative(unknown, V), sympy.Integer(0)


def _read_value(text: str, offset: int, function: str, variable: str, what: str) -> sympy.Expr:
    is_latex = "\\" in text
    reader = _Reader(function, is_latex)
    notation.check_brackets(text, offset)
    value = reader.side(text, offset)
    if reader.placeholders:
        raise ParseError(f"the {what} must be a number", offset)
    names = {s.name for s in value.free_symbols}
    if function in names or variable in names:
        raise ParseError(f"the {what} must be a number, not an expression in {function} or {variable}", offset)
    return value


def parse(text: str) -> Problem | SystemProblem:
    """Read an ODE problem (equation plus initial conditions) from plain text or LaTeX.

    Several equations (or a matrix, or a ``cases`` block) are a system of linear first-order
    equations: :func:`tutor.system.parse_system` reads it into a :class:`SystemProblem`.
    """
    normalized, is_latex = notation.normalize(text)
    if not normalized:
        raise ParseError("the input is empty", suggestion="type an ODE such as y' + 2y = e^(-x)")
    if (asked := notation.verification_request(normalized)) is not None:
        problem_text, answer_text = asked
        raise ParseError("this asks to check a solution, not to find one", 0,
                         suggestion=f"the Solve tab checks it as it is; or use the Check tab (python -m tutor check) "
                                    f"with the problem {problem_text} and the answer {answer_text}")
    # f(t) = {1 if 0 <= t < 2; 0 if t >= 2}, \begin{cases}...: unit steps, read like u(t - 2)
    normalized, positions = notation.rewrite_piecewise(normalized, is_latex)
    if positions is None:
        return _parse(text, normalized, is_latex)
    try:
        return _parse(text, normalized, is_latex)
    except ParseError as exc:
        raise _moved(exc, positions) from None


def _moved(exc: ParseError, positions: notation.PositionMap) -> ParseError:
    """The error with its position in the text as typed (before piecewise functions were rewritten)."""
    return ParseError(exc.message, positions.original(exc.position), exc.suggestion)


def _parse(text: str, normalized: str, is_latex: bool) -> Problem:
    # "by power series", "Frobenius": the method the student asks for (the engine tries it first)
    normalized, requested = notation.method_request(normalized)
    # "using Euler's method with h = 0.1 to approximate y(1)": the numerical method, its step, the point
    normalized, euler, euler_step, euler_target = notation.euler_request(normalized)
    requested = requested or ("euler" if euler else "")
    # "Find y(1)": a value asked for; "that passes through (1, 2)": the condition y(1) = 2
    normalized, value_points, through = notation.value_requests(normalized)
    # "for x > 0", ", t >= 0": where the equation holds, a note that changes nothing in it
    normalized = notation.strip_domain(normalized)
    # "Solve y' = y", "Find the general solution of ...": the words go, the positions stay.
    normalized = notation.strip_prose(normalized)
    if not normalized.strip():
        raise ParseError("there are only words here, no equation", 0,
                         suggestion="type the equation itself, e.g. y' = y, y(0) = 1")
    notation.check_characters(normalized, is_latex)
    if looks_like_system(normalized):
        return parse_system(text, normalized, is_latex)
    check_words(notation.blank_separators(normalized), is_latex)
    (eq_offset, eq_text), condition_matches = notation.split_problem(normalized)
    equation, function, variable, params = _read_equation(eq_text, eq_offset, is_latex or "\\" in eq_text)
    problem_order = max(d.derivative_count for d in equation.atoms(sympy.Derivative))
    conditions: list[InitialCondition] = []
    seen = set()
    for offset, m in condition_matches:
        name = notation.clean_name(m.group(1))
        if name != function:
            raise ParseError(f"this condition is about {name}, but the unknown is {function}", offset,
                             suggestion=f"write it as {function}(x0) = value")
        order = notation.ic_order(m.group(2))
        if order >= problem_order:
            raise ParseError(
                f"a condition on the derivative of order {order} does not fit an equation of order {problem_order}",
                offset, suggestion="give conditions on y, y', ... up to one less than the order")
        point = _read_value(m.group("point"), offset + m.start("point"), function, variable, "point")
        value = _read_value(m.group("value"), offset + m.start("value"), function, variable, "value")
        if (order, point) in seen:
            raise ParseError("the same condition is given twice", offset)
        seen.add((order, point))
        params |= {s.name for s in point.free_symbols | value.free_symbols}
        conditions.append(InitialCondition(order, point, value))
    for offset, x_text, y_text in through:
        point = _read_value(x_text, offset, function, variable, "point")
        value = _read_value(y_text, offset, function, variable, "value")
        if (0, point) in seen:
            raise ParseError("the same condition is given twice", offset)
        seen.add((0, point))
        conditions.append(InitialCondition(0, point, value))
    evaluate_at = tuple(_read_value(x_text, offset, function, variable, "point") for offset, x_text in value_points)
    conditions.sort(key=lambda ic: ic.order)
    parameters = tuple(sympy.Symbol(p) for p in sorted(params))
    if euler:
        _check_euler_request(conditions, problem_order, function, euler_step, euler_target, len(text))
    return Problem(equation=equation, function=sympy.Function(function), variable=sympy.Symbol(variable),
                   ics=tuple(conditions), parameters=parameters, source=text,
                   notation="latex" if is_latex else "plain", requested_method=requested,
                   euler_step=euler_step if euler else None, euler_target=euler_target if euler else None,
                   evaluate_at=evaluate_at)


def _check_euler_request(conditions: list[InitialCondition], order: int, function: str, step: float | None,
                         target: float | None, end: int) -> None:
    """Euler's method needs initial values at one point, and reaches the asked point in whole steps."""
    orders = sorted(ic.order for ic in conditions)
    points = {ic.point for ic in conditions}
    if orders != list(range(order)) or len(points) != 1 or not next(iter(points)).is_number:
        need = f"{function}(0) = 1" if order == 1 else ", ".join(
            f"{function}{chr(39) * k}(0) = {1 - min(k, 1)}" for k in range(order))
        raise ParseError("Euler's method starts from initial values at one point, and this problem does not give them",
                         end, suggestion=f"add them, e.g. {need}")
    if target is None:
        return
    x0 = float(next(iter(points)))
    h = step or 0.1
    span = target - x0
    if span <= 0:
        raise ParseError(f"Euler's method here steps forwards from x = {x0:g}, so it cannot reach x = {target:g}",
                         end, suggestion=f"ask for a point after {x0:g}")
    if abs(round(span / h) * h - span) > 1e-9 * max(1.0, span) or span / h > notation.EULER_MAX_STEPS:
        raise ParseError(f"x = {target:g} is not a whole number of steps h = {h:g} from x = {x0:g}"
                         if span / h <= notation.EULER_MAX_STEPS else
                         f"reaching x = {target:g} with h = {h:g} takes more than {notation.EULER_MAX_STEPS} steps",
                         end, suggestion="pick a step that divides the distance, e.g. h = 0.1")


# ---------------------------------------------------------------------------
# Answers

_ALTERNATIVES = re.compile(r"\\text\s*\{\s*or\s*\}|(?<![A-Za-z])or(?![A-Za-z])|[,;\n]|\\quad|\\qquad")


def _expand_pm(text: str) -> list[str]:
    """``y = ±sqrt(x)`` -> ``y = +sqrt(x)``, ``y = -sqrt(x)`` (one ± at a time, at most 3)."""
    text = text.replace("\\pm", "±").replace("+-", "±").replace("+/-", "±")
    if text.count("±") > 3:
        raise ParseError("too many ± signs in one answer")
    out = [text]
    while any("±" in t for t in out):
        nxt = []
        for t in out:
            if "±" in t:
                nxt += [t.replace("±", "+", 1), t.replace("±", "-", 1)]
            else:
                nxt.append(t)
        out = nxt
    return out


def parse_answer(text: str, problem: Problem) -> Answer:
    """Read a proposed solution of ``problem``: explicit, implicit, several alternatives.

    Every free symbol other than the variable and the problem's parameters is an
    arbitrary constant (C, C1, c_1, A, B, K ...).  A system's answer gives each unknown
    (:func:`tutor.system.parse_system_answer`).
    """
    if getattr(problem, "is_system", False):
        from tutor.system import parse_system_answer

        return parse_system_answer(text, problem)
    if not isinstance(text, str):
        raise ParseError("the answer must be text")
    if len(text) > MAX_ANSWER_CHARS:
        raise ParseError(f"the answer is too long ({len(text)} characters; at most {MAX_ANSWER_CHARS})")
    normalized, is_latex = notation.normalize(text)
    if not normalized:
        raise ParseError("the answer is empty", suggestion=f"write it as {problem.function}(x) = ...")
    normalized, positions = notation.rewrite_piecewise(normalized, is_latex)
    if positions is None:
        return _parse_answer(text, normalized, is_latex, problem)
    try:
        return _parse_answer(text, normalized, is_latex, problem)
    except ParseError as exc:
        raise _moved(exc, positions) from None


def _parse_answer(text: str, normalized: str, is_latex: bool, problem: Problem) -> Answer:
    notation.check_characters(normalized, is_latex)
    function, variable = str(problem.function), str(problem.variable)
    F, V = problem.function, problem.variable
    params = {p.name for p in problem.parameters}
    solutions: list[sympy.Eq] = []
    explicit: list[bool] = []
    constants: list[sympy.Symbol] = []
    depth_pieces = notation._top_level_split(normalized) if "," in normalized or ";" in normalized else [(0, normalized)]
    pieces = []
    for off, piece in depth_pieces:
        last = 0
        for m in _ALTERNATIVES.finditer(piece):
            pieces.append((off + last, piece[last:m.start()]))
            last = m.end()
        pieces.append((off + last, piece[last:]))
    for offset, piece in pieces:
        if not piece.strip():
            continue
        notation.check_brackets(piece, offset)
        for variant in _expand_pm(piece):
            marked = notation.mark_derivatives(variant, offset)
            if marked.markers:
                raise ParseError("an answer must not contain derivatives; write the solution itself",
                                 marked.markers[0].start, suggestion=f"e.g. {function} = C e^{{2{variable}}}")
            reader = _Reader(function, is_latex or "\\" in variant, variable)
            (lhs_text, lhs_off), rhs = _split_equals(marked.text, offset)
            if rhs is None:
                raise ParseError(f"an answer needs '=': write {function} = ... or F({variable}, {function}) = C",
                                 offset)
            if not lhs_text.strip() or not rhs[0].strip():
                raise ParseError("one side of '=' is empty", offset)
            lhs = reader.side(lhs_text, lhs_off)
            rhs_expr = reader.side(*rhs)
            unknown = F(V)
            lhs = lhs.xreplace({sympy.Symbol(function): unknown})
            rhs_expr = rhs_expr.xreplace({sympy.Symbol(function): unknown})
            if rhs_expr == unknown and not lhs.has(unknown):
                lhs, rhs_expr = rhs_expr, lhs
            is_explicit = lhs == unknown and not rhs_expr.has(unknown)
            for sym in sorted((lhs.free_symbols | rhs_expr.free_symbols), key=lambda s: s.name):
                if sym != V and sym.name not in params and sym not in constants:
                    constants.append(sym)
            solutions.append(sympy.Eq(lhs, rhs_expr, evaluate=False))
            explicit.append(is_explicit)
    if not solutions:
        raise ParseError("the answer is empty")
    return Answer(solutions=tuple(solutions), constants=tuple(constants), explicit=tuple(explicit), source=text)


# ---------------------------------------------------------------------------
# Eigenvalue answers: "lambda_n = n^2, y_n = sin(n x), n = 1, 2, ..."


@dataclass(frozen=True)
class EigenFamily:
    """One family of a written eigenvalue answer: ``lambda_n = value``, ``y_n = function``.

    ``index`` is the integer letter (``n``) and ``start`` its first value (``n = 1, 2, ...``:
    1; ``n = 0, 1, ...``: 0); a single pair (``lambda_0 = 0, y_0 = 1``) has ``index`` None.
    ``value`` or ``function`` is None when the answer does not give it.  Expressions are in the
    problem's variable (a plain Symbol), the index a plain Symbol too.
    """

    value: sympy.Expr | None
    function: sympy.Expr | None
    index: sympy.Symbol | None
    start: int


_EIGEN_TEXT = re.compile(r"\\(?:text|mathrm|mbox)\s*\{([^{}]*)\}")
_EIGEN_NOTE = re.compile(r"\((?=[^()]*(?:any|multiple|nonzero|non-zero|constant|arbitrary))[^()]*\)", re.IGNORECASE)
_EIGEN_WORDS = re.compile(r"(?i)(?<![\\A-Za-z])(?:the|eigen(?:values?|functions?|pairs?)|corresponding|are|is"
                          r"|an|positive|integers?|nontrivial|solutions?)(?![A-Za-z])|:")
_EIGEN_LHS = re.compile(r"^\s*(?P<name>\\?[A-Za-z]+)\s*(?:_\s*(?:\{\s*(?P<sub>[A-Za-z0-9]+)\s*\}|(?P<sub1>[A-Za-z0-9])))?"
                        r"\s*(?:\(\s*\\?[A-Za-z]+\s*\))?\s*=(?P<rhs>.+)$", re.DOTALL)
_EIGEN_RANGE = re.compile(r"^\s*(?P<index>[A-Za-z])\s*(?:(?P<eq>=)|(?P<ge>>=|≥|\\geq?(?![A-Za-z]))|(?P<gt>>|\\gt(?![A-Za-z])))"
                          r"\s*(?P<start>\d+)\s*$")
_EIGEN_NATURAL = re.compile(r"^\s*(?P<index>[A-Za-z])\s*(?:\\in|∈|in)\s*(?:\\mathbb\s*\{\s*N\s*\}|ℕ|N)\s*$")
_EIGEN_MORE = re.compile(r"^\s*(?:\.\.\.|…|\\[lc]?dots|\d+)\s*\.?\s*$")


def parse_eigen_answer(text: str, problem: Problem) -> tuple[EigenFamily, ...] | None:
    """The families of an eigenvalue answer for ``problem`` (one parameter, the eigenvalue), or
    None when ``text`` names no eigenvalue (``lambda_n = ...`` with the problem's parameter or
    lambda).  Read only by the whitelist readers; raises ParseError for a piece it cannot read."""
    if len(problem.parameters) != 1 or not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
        return None
    parameter = problem.parameters[0].name
    function, variable = str(problem.function), str(problem.variable)
    normalized, is_latex = notation.normalize(_EIGEN_TEXT.sub(r" \1 ", text))
    normalized = _EIGEN_WORDS.sub(" ", _EIGEN_NOTE.sub(" ", normalized))
    normalized = re.sub(r"\\boxed\s*\{", "{", normalized)
    pieces = notation._top_level_split(normalized)
    lhs = [_EIGEN_LHS.match(p) for _, p in pieces]
    if not any(m and notation.clean_name(m.group("name")) in (parameter, "lambda") for m in lhs):
        return None
    families: list[dict] = []
    ranged = False
    for (offset, piece), m in zip(pieces, lhs):
        rng = _EIGEN_RANGE.match(piece) or _EIGEN_NATURAL.match(piece)
        if rng and not (m and notation.clean_name(m.group("name")) in (parameter, "lambda", function)):
            target = next((f for f in reversed(families) if f["index"] != "single"), None)
            if target is None:
                raise ParseError("an index range must follow an eigenvalue", offset,
                                 suggestion="e.g. lambda_n = n^2, y_n = sin(n x), n = 1, 2, 3, ...")
            start = int(rng.groupdict().get("start") or 1) + (1 if rng.groupdict().get("gt") else 0)
            target.update(index=rng.group("index"), start=start)
            ranged = True
            continue
        if _EIGEN_MORE.match(piece):
            if ranged:
                continue
            raise ParseError(f"could not read '{piece.strip()}'", offset,
                             suggestion="e.g. lambda_n = n^2, y_n = sin(n x), n = 1, 2, 3, ...")
        ranged = False
        name = notation.clean_name(m.group("name")) if m else None
        if name not in (parameter, "lambda", function):
            raise ParseError(f"could not read '{piece.strip()}' as part of an eigenvalue answer", offset,
                             suggestion=f"write lambda_n = ..., {function}_n = ..., n = 1, 2, 3, ...")
        sub = m.group("sub") or m.group("sub1")
        kind = "function" if name == function else "value"
        rhs_start = offset + m.start("rhs")
        reader = _Reader(function, is_latex or "\\" in piece)
        notation.check_brackets(m.group("rhs"), rhs_start)
        check_words(m.group("rhs"), is_latex or "\\" in piece, rhs_start)
        expr = reader.side(m.group("rhs"), rhs_start)
        if reader.placeholders or expr.has(sympy.Symbol(function)):
            raise ParseError(f"the right-hand side of {name} must not contain {function} or its derivatives", rhs_start)
        current = families[-1] if families else None
        if current is None or current[kind] is not None or (sub and current["sub"] and sub != current["sub"]):
            current = {"value": None, "function": None, "sub": sub, "index": None, "start": 1}
            families.append(current)
        current[kind] = expr
        current["sub"] = current["sub"] or sub
        if sub and sub.isdigit():
            current.update(index="single", start=int(sub))
        elif sub and current["index"] is None:
            current["index"] = sub
    out = []
    known = {variable, parameter}
    for f in families:
        letters = {s.name for e in (f["value"], f["function"]) if e is not None for s in e.free_symbols} - known
        index = f["index"]
        if index is None:  # "lambda = n^2, y = sin(n x)": the one letter left is the index
            guesses = sorted(letters & {"n", "m", "k", "j"}) or sorted(letters)
            index = guesses[0] if len(guesses) == 1 else None
        if index == "single" or index is None:
            out.append(EigenFamily(f["value"], f["function"], None, f["start"] if index == "single" else 0))
        else:
            out.append(EigenFamily(f["value"], f["function"], sympy.Symbol(index), f["start"]))
    return tuple(out)
