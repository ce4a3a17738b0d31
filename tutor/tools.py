"""Tool-assisted derivations: the model asks, SymPy computes, the answer goes back into the reply.

A model trained on the ``tools`` variant of the tutor format decides *what* to compute in a
step and writes a request; the runtime computes it exactly and appends the answer, and the
model goes on with the answer in its context (it copies it into the next formulas and the
Final Answer).  The markup, inside a step line::

    5. **Integrate both sides.** <<integrate: e^{3x}; x>><<= \\frac{e^{3 x}}{3}>>

``<<op: arg; arg>>`` is the model's request (arguments in LaTeX, the notation the model writes
everywhere; ``;`` separates them because LaTeX uses commas); ``<<= ...>>`` is the tool's answer,
written by the runtime only (a model that writes ``<<=`` itself gets its text marked as not
computed) and masked out of the training loss (:func:`answer_spans`).  ``<<`` and ``>>`` never
occur in the LaTeX the model writes.  A request that cannot be read or computed gets the answer
``<<= ? reason>>`` and generation goes on; at most :data:`MAX_REQUESTS` are answered per reply.

Requests (:data:`OPERATIONS`), each computed by the engine's own functions:

``integrate: f; t``                an antiderivative (:func:`tutor.engine.integrate.antiderivative`)
``diff: f; t`` / ``diff: f; t; n`` a derivative
``simplify: f`` / ``expand: f`` / ``factor: f``
``solve: lhs = rhs; s``            the solutions for ``s`` (``s = a,\\quad s = b``)
``roots: p; r``                    the roots of a polynomial in ``r`` (characteristic / indicial equations)
``subs: f; a = b; ...``            ``f`` (an expression or an equation) with the substitutions made
``constants: y = f; y(0) = 1; ...`` the constants ``C, C1, C2 ...`` that meet the conditions, put back

Model text is untrusted: arguments are read only by the project's whitelist readers
(:class:`tutor.parser._Reader`, the same as the student's input), each request is at most
:data:`MAX_REQUEST_CHARS` characters, and it is computed by :func:`tutor.bounded.run_bounded`
(a worker process, wall-clock and memory bounds).

The serializer (:func:`tool_sections`) turns an engine :class:`~tutor.engine.solution.Solution`
into this format: where the engine computed something a request can reproduce, the step is
written as that request and the runtime's own answer (executed here, so training targets hold
exactly what the runtime returns); other steps stay as the model writes them.

Usage::

    from tutor.tools import stream_with_tools, execute_text
    execute_text("<<integrate: x e^{x}; x>>")        # '<<= x e^x - e^x>>'
    for piece in stream_with_tools(continue_reply):  # continue_reply(prefix) streams until '>>'
        ...
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator

import sympy

from tutor.errors import ParseError

OPEN = "<<"
CLOSE = ">>"
ANSWER_OPEN = "<<="
OPERATIONS = ("integrate", "diff", "simplify", "expand", "factor", "solve", "roots", "subs", "constants")
MAX_REQUEST_CHARS = 400
MAX_REQUESTS = 12
#: Wall-clock seconds for one request (the worker's memory bound applies too).
TOOL_SECONDS = 6.0
#: The note in the UI next to a tool's answer.
COMPUTED_BY = "computed by SymPy"

_REQUEST = re.compile(r"<<(?!=)\s*([a-z]+)\s*:(.*?)>>", re.S)
_ANSWER = re.compile(r"<<=(.*?)>>", re.S)
_ARGUMENT_SPLIT = re.compile(r"(?<!\\);")
_CONDITION = re.compile(r"^\s*([A-Za-z])('*)\s*\(\s*(.+?)\s*\)\s*=\s*(.+?)\s*$", re.S)
_CONSTANT_NAME = re.compile(r"^C\d*$")


class ToolError(ValueError):
    """A request that cannot be read or computed; its message is what the reply shows."""


@dataclass(frozen=True)
class Request:
    op: str
    args: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{OPEN}{self.op}: {'; '.join(self.args)}{CLOSE}"


# --------------------------------------------------------------------------- reading requests

def parse_request(text: str) -> Request:
    """``<<op: a; b>>`` (or its inside) -> :class:`Request`; raises :class:`ToolError`."""
    text = text.strip()
    if len(text) > MAX_REQUEST_CHARS:
        raise ToolError(f"request too long ({len(text)} characters; at most {MAX_REQUEST_CHARS})")
    if not text.startswith(OPEN):
        text = OPEN + text + CLOSE
    m = _REQUEST.fullmatch(text)
    if not m:
        raise ToolError("not a request (write <<op: arguments>>)")
    op = m.group(1)
    if op not in OPERATIONS:
        raise ToolError(f"unknown operation {op!r}")
    args = tuple(a.strip() for a in _ARGUMENT_SPLIT.split(m.group(2)))
    if not all(args):
        raise ToolError("an argument is empty")
    return Request(op, args)


def pending_request(reply: str) -> tuple[int, Request | ToolError] | None:
    """The request the reply ends with (not yet answered): (its start, the request or why not)."""
    if not reply.endswith(CLOSE):
        return None
    start = reply.rfind(OPEN, 0, len(reply) - len(CLOSE) + 1)
    if start < 0 or reply.startswith(ANSWER_OPEN, start):
        return None
    try:
        return start, parse_request(reply[start:])
    except ToolError as exc:
        return start, exc


def unfinished_request(reply: str) -> bool:
    """Whether the reply ends inside a request ``<<op: ...`` (a server stopped at its ``>>``)."""
    start = reply.rfind(OPEN)
    return (start >= 0 and CLOSE not in reply[start:] and not reply.startswith(ANSWER_OPEN, start)
            and re.match(r"<<\s*[a-z]+\s*:", reply[start:]) is not None)


def answer_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the tool answers ``<<= ...>>`` in a reply (masked out of the loss)."""
    return [m.span() for m in _ANSWER.finditer(text)]


def requests_in(text: str) -> list[tuple[Request | ToolError, str | None]]:
    """Each request of a reply with the answer that follows it (None when none follows)."""
    out = []
    for m in _REQUEST.finditer(text):
        after = _ANSWER.match(text, m.end())
        try:
            request: Request | ToolError = parse_request(m.group(0))
        except ToolError as exc:
            request = exc
        out.append((request, after.group(1).strip() if after else None))
    return out


# --------------------------------------------------------------------------- computing

class _Symbols:
    """Every name is a plain symbol (``y`` stands for the unknown's value); ``y(x)`` is ``y``."""

    def __init__(self, function: str | None = None):
        from tutor.parser import _Reader

        self.reader = _Reader(function or "y", True)

    def expression(self, text: str) -> sympy.Expr:
        from tutor import notation

        normalized, _ = notation.normalize(text)
        if not normalized:
            raise ToolError("an argument is empty")
        try:
            notation.check_characters(normalized, True)
            notation.check_brackets(normalized)
            return self.reader.side(normalized, 0)
        except ParseError as exc:
            raise ToolError(f"could not read {text!r}: {exc.message}") from exc

    def relation(self, text: str) -> sympy.Eq:
        from tutor.parser import _split_equals

        (lhs, _), rhs = _split_equals(text, 0)
        if rhs is None:
            raise ToolError(f"{text!r} needs '='")
        return sympy.Eq(self.expression(lhs), self.expression(rhs[0]), evaluate=False)

    def symbol(self, text: str) -> sympy.Symbol:
        s = self.expression(text)
        if not isinstance(s, sympy.Symbol):
            raise ToolError(f"{text!r} is not a single letter")
        return s


def _tex(expr) -> str:
    """The answer's LaTeX, printed as the engine's steps are; only functions the readers know
    (an ``erfi`` the model copied could not be read back by the checker)."""
    from tutor.engine.steps import tex
    from tutor.format import compact_latex
    from tutor.latex import _ALLOWED_FUNCS

    known = _ALLOWED_FUNCS | {sympy.log}
    for f in sympy.sympify(expr).atoms(sympy.Function):
        if type(f) not in known and not isinstance(f, sympy.core.function.AppliedUndef):
            raise ToolError(f"the result needs {type(f).__name__}, which is not elementary")
    return compact_latex(tex(expr, sympy.Symbol("x")))


def _values(symbol: sympy.Symbol, values: Iterable[sympy.Expr]) -> str:
    values = list(values)
    if not values:
        return "no solution"
    return r",\quad ".join(_tex(sympy.Eq(symbol, v, evaluate=False)) for v in values)


def _integrate(s: _Symbols, f: str, t: str) -> str:
    from tutor.engine.integrate import antiderivative

    value = antiderivative(s.expression(f), s.symbol(t)).value
    if value.has(sympy.Integral):
        raise ToolError("no closed-form antiderivative")
    return _tex(value)


def _diff(s: _Symbols, f: str, t: str, n: str = "1") -> str:
    times = s.expression(n)
    if not (times.is_Integer and 1 <= int(times) <= 10):
        raise ToolError("the order must be 1 to 10")
    return _tex(sympy.diff(s.expression(f), s.symbol(t), int(times)))


def _solve(s: _Symbols, relation: str, unknown: str) -> str:
    eq = s.relation(relation)
    u = s.symbol(unknown)
    expr = eq.lhs - eq.rhs
    if not expr.has(u):
        raise ToolError(f"{unknown} does not occur")
    values = sympy.solve(expr, u, check=False, simplify=False)
    if not isinstance(values, list) or len(values) > 6:
        raise ToolError("no finite list of solutions")
    return _values(u, [_tidy(v) for v in values])


def _roots(s: _Symbols, p: str, r: str) -> str:
    poly_expr = s.expression(p)
    if isinstance(poly_expr, sympy.Equality):
        poly_expr = poly_expr.lhs - poly_expr.rhs
    r = s.symbol(r)
    try:
        poly = sympy.Poly(poly_expr, r)
    except sympy.PolynomialError as exc:
        raise ToolError("not a polynomial") from exc
    if poly.degree() < 1 or poly.degree() > 8:
        raise ToolError("the degree must be 1 to 8")
    found = sympy.roots(poly)
    if sum(found.values()) != poly.degree():
        raise ToolError("the roots have no closed form")
    ordered = sorted(found.items(), key=lambda kv: (sympy.re(kv[0]).evalf(), sympy.im(kv[0]).evalf()))
    parts = []
    for root, multiplicity in ordered:
        parts.append(_tex(sympy.Eq(r, root, evaluate=False)) + (rf"\ (\times {multiplicity})" if multiplicity > 1 else ""))
    return r",\quad ".join(parts)


def _substitutions(s: _Symbols, pairs: Iterable[str]) -> dict:
    out = {}
    for pair in pairs:
        eq = s.relation(pair)
        if not isinstance(eq.lhs, sympy.Symbol):
            raise ToolError(f"{pair!r}: the left side must be one letter")
        out[eq.lhs] = eq.rhs
    return out


def _subs(s: _Symbols, target: str, *pairs: str) -> str:
    if not pairs:
        raise ToolError("nothing to substitute")
    mapping = _substitutions(s, pairs)
    if "=" in target:
        eq = s.relation(target)
        return _tex(sympy.Eq(eq.lhs.xreplace(mapping), _tidy(eq.rhs.xreplace(mapping)), evaluate=False))
    return _tex(_tidy(s.expression(target).xreplace(mapping)))


def _constants(s: _Symbols, solution: str, *conditions: str) -> str:
    eq = s.relation(solution)
    if not isinstance(eq.lhs, sympy.Symbol):
        raise ToolError("write the general solution as y = ...")
    y, f = eq.lhs, eq.rhs
    free = sorted((c for c in f.free_symbols if _CONSTANT_NAME.match(c.name)), key=lambda c: c.name)
    if not free:
        raise ToolError("the solution has no constants C, C1, C2 ...")
    others = f.free_symbols - set(free)
    if len(others) > 1:
        raise ToolError("the solution has more than one variable")
    x = next(iter(others)) if others else sympy.Symbol("x")
    equations = []
    for condition in conditions:
        m = _CONDITION.match(re.sub(r"\\(left|right)\b", "", condition))
        if not m or m.group(1) != y.name:
            raise ToolError(f"{condition!r} is not a condition {y.name}(a) = b")
        order = len(m.group(2))
        point, value = s.expression(m.group(3)), s.expression(m.group(4))
        equations.append(sympy.Eq(sympy.diff(f, x, order).subs(x, point), value))
    found = sympy.solve(equations, free, dict=True)
    found = [v for v in found if set(v) == set(free)]
    if not found:
        raise ToolError("no constants meet these conditions")
    return r",\quad ".join(_tex(sympy.Eq(y, _tidy(f.xreplace(v)), evaluate=False)) for v in found)


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    from tutor.engine.base import tidy

    return tidy(expr)


_OPS: dict[str, tuple[Callable[..., str], int, int]] = {  # op -> (function, least, most arguments)
    "integrate": (_integrate, 2, 2),
    "diff": (_diff, 2, 3),
    "simplify": (lambda s, f: _tex(sympy.simplify(s.expression(f))), 1, 1),
    "expand": (lambda s, f: _tex(sympy.expand(s.expression(f))), 1, 1),
    "factor": (lambda s, f: _tex(sympy.factor(s.expression(f))), 1, 1),
    "solve": (_solve, 2, 2),
    "roots": (_roots, 2, 2),
    "subs": (_subs, 2, 8),
    "constants": (_constants, 2, 6),
}


def compute(op: str, args: tuple[str, ...]) -> str:
    """The answer's LaTeX (runs in a worker: strings in, a string out); raises :class:`ToolError`."""
    fn, least, most = _OPS[op]
    if not least <= len(args) <= most:
        raise ToolError(f"{op} takes {least}" + (f" to {most}" if most > least else "") + " arguments")
    s = _Symbols()
    try:
        result = fn(s, *args)
    except ToolError:
        raise
    except (ParseError, NotImplementedError, ValueError, TypeError, ZeroDivisionError,
            sympy.PolynomialError) as exc:
        raise ToolError(f"could not compute ({type(exc).__name__})") from exc
    if "zoo" in result or "nan" in result or len(result) > 2 * MAX_REQUEST_CHARS:
        raise ToolError("the result is undefined or too long")
    return result


def answer_markup(latex_or_reason: str, ok: bool = True) -> str:
    return f"{ANSWER_OPEN} {latex_or_reason}{CLOSE}" if ok else f"{ANSWER_OPEN} ? {latex_or_reason}{CLOSE}"


def execute(request: Request | ToolError, timeout: float = TOOL_SECONDS, bounded: bool = True) -> str:
    """The answer markup for a request: computed in a bounded worker, or ``<<= ? why>>``."""
    from tutor.bounded import SymbolicBusy, SymbolicTimeout, WorkerCrashed, run_bounded

    if isinstance(request, ToolError):
        return answer_markup(str(request), ok=False)
    try:
        if bounded:
            latex = run_bounded(compute, request.op, request.args, timeout=timeout)
        else:  # in this process (the serializer, on the engine's own steps): a time box only
            from tutor.engine.timebox import attempt

            finished, latex = attempt(timeout, compute, request.op, request.args)
            if not finished:
                raise SymbolicTimeout(f"timed out after {timeout:g} s")
    except ToolError as exc:
        return answer_markup(str(exc), ok=False)
    except SymbolicTimeout:
        return answer_markup(f"timed out after {timeout:g} s", ok=False)
    except (SymbolicBusy, WorkerCrashed) as exc:
        return answer_markup(f"could not compute: {exc}", ok=False)
    return answer_markup(latex)


def execute_text(request_text: str, timeout: float = TOOL_SECONDS) -> str:
    try:
        request: Request | ToolError = parse_request(request_text)
    except ToolError as exc:
        request = exc
    return execute(request, timeout)


# --------------------------------------------------------------------------- what the student sees

_PAIR = re.compile(r"<<(?!=)\s*([a-z]+)\s*:(.*?)>>(?:<<=(.*?)>>)?", re.S)
_UNFINISHED = re.compile(r"<<(?:(?!>>).)*$", re.S)


def _shown(op: str, args: list[str], result: str) -> str:
    a = args + [""] * 3
    if op == "integrate":
        return rf"\int {a[0]}\,d{a[1]} = {result}"
    if op == "diff":
        n = a[2] if a[2] and a[2] != "1" else ""
        return rf"\frac{{d^{{{n}}}}}{{d{a[1]}^{{{n}}}}}\left({a[0]}\right) = {result}" if n else \
            rf"\frac{{d}}{{d{a[1]}}}\left({a[0]}\right) = {result}"
    if op in ("simplify", "expand", "factor"):
        return f"{a[0]} = {result}"
    if op == "solve":
        return rf"{a[0]}\ \Longrightarrow\ {result}"
    if op == "roots":
        return rf"{a[0]} = 0\ \Longrightarrow\ {result}"
    if op == "subs":
        return rf"\left.{a[0]}\right|_{{{', '.join(args[1:])}}} = {result}"
    if op == "constants":
        return rf"{', '.join(args[1:])}\ \Longrightarrow\ {result}"
    return result


def readable(text: str) -> str:
    """A reply with its requests and answers written as maths for the student.

    ``<<integrate: e^{3x}; x>><<= \frac{e^{3x}}{3}>>`` becomes ``$\int e^{3x}\,dx = \frac{e^{3x}}{3}$``
    followed by *(computed by SymPy)*; a request SymPy could not answer says so; a request still
    waiting for its answer, or one still being written, is shown as *(asking SymPy ...)*.
    """
    def pair(m: re.Match) -> str:
        op, args, result = m.group(1), [x.strip() for x in _ARGUMENT_SPLIT.split(m.group(2))], m.group(3)
        if result is None:
            return f"*(asking SymPy to {op} ...)*"
        result = result.strip()
        if result.startswith("?"):
            return f"*(SymPy could not {op} this: {result[1:].strip()})*"
        if op not in OPERATIONS:
            return f"${result}$"
        return f"${_shown(op, args, result)}$ *({COMPUTED_BY})*"

    text = _PAIR.sub(pair, text)
    text = _ANSWER.sub(lambda m: "", text)  # an answer the model wrote itself is not shown as computed
    return _UNFINISHED.sub("*(asking SymPy ...)*", text)


# --------------------------------------------------------------------------- the runtime loop

def stream_with_tools(continue_reply: Callable[[str], Iterator[str]], max_requests: int = MAX_REQUESTS,
                      timeout: float = TOOL_SECONDS,
                      run: Callable[[Request | ToolError], str] | None = None) -> Iterator[str]:
    """Stream a reply, answering its requests: the pieces of the model and of the tool, in order.

    ``continue_reply(prefix)`` streams the model's continuation of the assistant message
    ``prefix`` and stops right after a ``>>`` (or at the end of the reply).  When the text ends
    with a request, it is answered (``run``, default :func:`execute`) and generation resumes with
    the answer in the context; after ``max_requests`` answers a request gets ``<<= ? ...>>``
    without computing.  Closing this iterator stops the model.
    """
    run = run or (lambda request: execute(request, timeout))
    reply = ""
    answered = 0
    while True:
        produced = False
        stream = continue_reply(reply)
        try:
            for piece in stream:
                if not piece:
                    continue
                produced = True
                reply += piece
                yield piece
                if reply.endswith(CLOSE) and pending_request(reply):
                    break
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        pending = pending_request(reply)
        if pending is None or not produced:
            return
        _, request = pending
        if answered >= max_requests:
            answer = answer_markup(f"at most {max_requests} requests per reply", ok=False)
        else:
            answer = run(request)
        answered += 1
        reply += answer
        yield answer


def offline_reply(model_pieces: Iterable[str], run: Callable[[Request | ToolError], str]) -> str:
    """The reply as the runtime would assemble it from a finished model text (tests, evaluation)."""
    text = "".join(model_pieces)
    out, last = [], 0
    for m in _REQUEST.finditer(text):
        out.append(text[last:m.end()])
        try:
            request: Request | ToolError = parse_request(m.group(0))
        except ToolError as exc:
            request = exc
        out.append(run(request))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


# --------------------------------------------------------------------------- the serializer

def _same(a: sympy.Expr, b: sympy.Expr, constant_free_of: sympy.Symbol | None = None) -> bool:
    """``a == b`` (or up to a constant in ``constant_free_of``): the steps' own zero test."""
    from tutor.engine.steps import is_zero

    difference = sympy.sympify(a - b)
    if constant_free_of is not None:
        difference = sympy.diff(difference, constant_free_of)
    return is_zero(difference) is True


def _plain_symbols(expr, solution) -> sympy.Basic:
    """The unknown ``y(x)`` as the symbol ``y`` (what a request's arguments mean)."""
    problem = solution.problem
    return sympy.sympify(expr).subs(problem.unknown, sympy.Symbol(problem.function.__name__))


def _request_for(step, previous, general, solution) -> Request | None:
    """The request that reproduces ``step`` (None when none does)."""
    from tutor.engine.steps import Check
    from tutor.format import compact_latex

    problem = solution.problem
    y = sympy.Symbol(problem.function.__name__)
    after = step.after
    if step.check == Check.ANTIDERIVATIVE and isinstance(after, sympy.Eq) and isinstance(after.lhs, sympy.Integral):
        integral = after.lhs
        if len(integral.limits) == 1 and len(integral.limits[0]) == 1:
            f, t = _plain_symbols(integral.function, solution), integral.limits[0][0]
            return Request("integrate", (_tex(f), _tex(t)))
        return None
    if step.check == Check.CONSTANTS and general is not None and problem.ics:
        conditions = tuple(compact_latex(ic.latex(problem.function)) for ic in problem.ics)
        return Request("constants", (_tex(_plain_symbols(general, solution)), *conditions))
    if (step.check == Check.IDENTITY and isinstance(after, sympy.Eq) and step.title.startswith("Roots")
            and len(after.lhs.free_symbols) == 1):
        r = next(iter(after.lhs.free_symbols))
        return Request("roots", (_tex(after.lhs), _tex(r)))
    explicit = after if isinstance(after, tuple) else (after,)
    if (step.check in (Check.SOLVES, Check.EQUIVALENT) and previous is not None and explicit
            and all(isinstance(e, sympy.Eq) and e.lhs == problem.unknown and not e.rhs.has(problem.unknown)
                    for e in explicit)
            and isinstance(previous, sympy.Eq) and previous.has(problem.unknown) and not previous.has(sympy.Derivative)
            and not (previous.lhs == problem.unknown and not previous.rhs.has(problem.unknown))):
        return Request("solve", (_tex(_plain_symbols(previous, solution)), _tex(y)))
    return None


def _reproduces(request: Request, answer: str, step, solution) -> bool:
    """Whether the tool's answer states what the engine's step states."""
    from tutor.engine.steps import Check

    if answer.startswith(ANSWER_OPEN + " ?"):
        return False
    latex = _ANSWER.fullmatch(answer).group(1).strip()
    s = _Symbols()
    after = step.after
    try:
        if request.op == "integrate":
            value = s.expression(latex)
            return _same(value, _plain_symbols(after.rhs, solution), constant_free_of=s.symbol(request.args[1]))
        if request.op == "roots":
            return True  # the step's after is the factorization; any correct root list states it
        claimed = [s.relation(piece) for piece in re.split(r",\\quad ", latex)]
        wanted = after if isinstance(after, tuple) else (after,)
        wanted = [_plain_symbols(e.rhs, solution) for e in wanted]
        got = [c.rhs for c in claimed]
        if step.check == Check.CONSTANTS or request.op == "solve":
            return len(got) == len(wanted) and all(any(_same(g, w) for g in got) for w in wanted)
    except (ToolError, ParseError, TypeError, ValueError):
        return False
    return False


def tool_sections(solution, concise: bool = True):
    """The ``tools`` tutor format of a solved problem (:class:`tutor.format.Sections`).

    Each step a request reproduces (checked: the runtime's answer, computed here in-process,
    states what the engine's step states) becomes ``**Title.** text <<request>><<= answer>>``;
    when the last relation of the derivation came from a tool, the Final Answer is that answer
    (the model copies it).  Returns (sections, number of tool steps).
    """
    from tutor.engine.solution import _concise
    from tutor.engine.steps import Check
    from tutor.format import compact_latex, compact_sections

    base = compact_sections(solution.to_sections(concise=concise))
    steps = list(base.steps)
    previous = None   # the last relation a step states
    general = None    # the last explicit solution with constants (for the constants request)
    last_tool_answer = None
    tools = 0
    for i, step in enumerate(solution.steps):
        request = _request_for(step, previous, general, solution)
        if request is not None:
            answer = execute(request, bounded=False)
            if _reproduces(request, answer, step, solution):
                text = _concise(step.text) if concise else step.text
                steps[i] = compact_latex(f"**{step.title}.** {text}".strip()) + " " + request.text + answer
                tools += 1
                last_tool_answer = _ANSWER.fullmatch(answer).group(1).strip() if request.op in ("solve", "constants") else None
            else:
                last_tool_answer = None
        elif step.after is not None and step.check != Check.NOTE:
            last_tool_answer = None
        after = step.after
        if isinstance(after, sympy.Eq):
            previous = after
        if step.check in (Check.SOLVES, Check.EQUIVALENT, Check.SUBSTITUTION) and after is not None:
            explicit = after if isinstance(after, tuple) else (after,)
            if (len(explicit) == 1 and isinstance(explicit[0], sympy.Eq) and explicit[0].lhs == solution.problem.unknown
                    and any(_CONSTANT_NAME.match(c.name) for c in explicit[0].rhs.free_symbols)):
                general = explicit[0]
    final = base.final_answer
    if last_tool_answer and r",\quad" not in last_tool_answer:
        final = f"${last_tool_answer}$"
    return replace(base, steps=steps, final_answer=final), tools
