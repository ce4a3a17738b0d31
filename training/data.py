"""SFT data: synthetic ODE problems with the engine's verified derivations, in the tutor format.

Every example is one chat: system prompt -> the problem as a student would type it -> the
assistant's Classification, Hint, Steps and Final Answer (:mod:`tutor.format`).  The problems
come from the engine's per-method generators (``Method.generate(seed, difficulty)``) and the
practice generator of linear systems ``x' = A x`` (:data:`SYSTEMS_FAMILY`, outside the scalar
registry: :mod:`tutor.engine.methods.linear_system`); the derivations from
:func:`tutor.engine.solve` with the generator's method forced; the final
answer of every example is verified by :func:`tutor.checker.check` against the problem *as
parsed back from the text the model sees*, so what the model reads and what it is taught to
answer agree.

Balance and variety:

* families (method ids) get the same number of unique problems each; difficulties cycle 1..3;
* the unknown and variable names cycle through :data:`NAMINGS` (``y(x)``, ``y(t)``, ``u(x)``,
  ``x(t)``, ``z(s)``), written explicitly (``z'(s)``) when the text alone would not say so;
  a system keeps its own names (``x, y`` or ``x, y, z`` in ``t``, as students write systems);
* every problem is rendered twice — plain text and LaTeX — and each rendering is one example;
  plain text cycles through prime (``y''``), Leibniz (``d^2y/dx^2``) and, for first-order
  equations, the differential form (``M dx + N dy = 0``); a system through its equations with
  primes (``x' = x + 2y, y' = 3x``), in Leibniz notation (``dx/dt = ...``) and the matrix form
  (``X' = [[1, 2], [3, 0]] X``), in LaTeX a ``cases`` block or a ``pmatrix``;
* duplicates are removed by a canonical key of the equation in ``y(x)`` (so renaming a problem
  or writing it in another notation does not make it new).

Splits: ``train`` / ``validation`` / ``test`` per family (by a hash of the canonical key, so
both renderings of a problem land in the same split), plus ``heldout``: every problem of the
held-out family (``--heldout-family``, default ``bernoulli``) — never trained on, it measures
generalization to an unseen method.

Output (``--out DIR``): ``DIR/dataset`` (``datasets.DatasetDict.save_to_disk``),
``DIR/jsonl/<split>.jsonl``, ``DIR/README.md`` (a card with counts per family and split) and
``DIR/stats.json``.

Curated sets (``--curated PATH``, repeatable): AMPS-format folders (Khan Academy JSON files with
``problem`` + ``hints``; Mathematica ``Problem:`` / ``Answer:`` text files) or JSONL with
``problem`` / ``answer``.  Only differential-equation problems are kept (the problem text, or a
formula inside it, parses as an ODE); the given answer's checker verdict is recorded and the
engine's verified derivation becomes the target.

Run::

    python -m training.data --out data/ode-sft --per-family 200
    python -m training.data --out /tmp/d --per-family 3 --families separable first_order_linear \\
        --heldout-family exact
    python -m training.data --out /tmp/s --per-family 3 --families linear_system --heldout-family ""
    python -m training.data extend --out data/more data/ode-sft data/ode-sft-seed2   # more train rows
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import sympy
from sympy.printing.str import StrPrinter

from tutor.engine.solve import SYSTEMS_METHOD
from tutor.format import Sections, answer_text, chat_messages, compact_sections, math_spans, parse_sections, serialize
from tutor.letters import rename
from training.fanout import fan_out
from training.pipeline import ResultLog
from tutor.problem import Problem, ordered_sum
from tutor.system import SystemProblem, is_system

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test", "heldout")
#: (unknown, variable) names cycled through the generated problems.
NAMINGS: tuple[tuple[str, str], ...] = (("y", "x"), ("y", "t"), ("u", "x"), ("x", "t"), ("z", "s"))
PLAIN_STYLES = ("prime", "leibniz", "differential")
LATEX_STYLES = ("textbook", "leibniz")
#: The family of linear systems x' = A x + g (not a registry method: tutor/engine/methods/linear_system.py).
SYSTEMS_FAMILY = SYSTEMS_METHOD
#: How a system is written: its equations with primes or in Leibniz notation, or the matrix form.
SYSTEM_PLAIN_STYLES = ("prime", "leibniz", "matrix")
SYSTEM_LATEX_STYLES = ("textbook", "leibniz", "matrix")


def family_ids() -> tuple[str, ...]:
    """Every family the builder generates: the registered methods (textbook order), then systems."""
    from tutor.engine.registry import ids

    return (*ids(), SYSTEMS_FAMILY)


def styles(family: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(plain styles, LaTeX styles) a family's problems are rendered in."""
    if family == SYSTEMS_FAMILY:
        return SYSTEM_PLAIN_STYLES, SYSTEM_LATEX_STYLES
    return PLAIN_STYLES, LATEX_STYLES


def generate(family: str, seed: int, difficulty: int):
    """The family's practice problem (:class:`tutor.engine.base.Practice`) for ``seed``."""
    if family == SYSTEMS_FAMILY:
        from tutor.engine.methods.linear_system import generate as generate_system

        return generate_system(seed, difficulty)
    from tutor.engine.registry import get

    return get(family).generate(seed, difficulty)


def problem_names(problem: Problem | SystemProblem) -> tuple[str, str]:
    """(unknown, variable) as the rows record them; a system's unknowns joined: ``("x,y", "t")``."""
    if is_system(problem):
        return ",".join(f.__name__ for f in problem.functions), problem.variable.name
    return problem.function.__name__, problem.variable.name


# --------------------------------------------------------------------------- rendering

class _PlainPrinter(StrPrinter):
    """SymPy's str printer, spelled the way our plain-text grammar reads it."""

    def _print_Abs(self, expr: sympy.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Exp1(self, expr: Any) -> str:
        return "e"


def _placeholders(problem: Problem) -> tuple[dict, dict[str, int]]:
    """Symbols standing for y, y', y'', ... (letters only, so no printer subscripts them)."""
    x, y = problem.variable, problem.unknown
    mapping: dict = {}
    names: dict[str, int] = {}
    for n in range(problem.order, 0, -1):
        name = "QQD" + "ABCDEFGHIJ"[n] + "QQ"
        mapping[sympy.Derivative(y, (x, n))] = sympy.Symbol(name)
        names[name] = n
    mapping[y] = sympy.Symbol("QQDAQQ")
    names["QQDAQQ"] = 0
    return mapping, names


def _derivative_text(fn: str, var: str, n: int, style: str, latex: bool, explicit: bool) -> str:
    if n == 0:
        return f"{fn}({var})" if explicit else fn
    if style == "leibniz":
        if latex:
            return f"\\frac{{d{fn}}}{{d{var}}}" if n == 1 else f"\\frac{{d^{{{n}}}{fn}}}{{d{var}^{{{n}}}}}"
        return f"d{fn}/d{var}" if n == 1 else f"d^{n}{fn}/d{var}^{n}"
    marks = "'" * n if n <= 3 else (f"^{{({n})}}" if latex else f"^({n})")
    return f"{fn}{marks}({var})" if explicit else f"{fn}{marks}"


def _ics_text(problem: Problem, latex: bool) -> str:
    fn = problem.function.__name__
    parts = []
    for ic in problem.ics:
        if latex:
            parts.append(ic.latex(problem.function))
        else:
            marks = "'" * ic.order if ic.order <= 3 else f"^({ic.order})"
            parts.append(f"{fn}{marks}({_plain(ic.point)}) = {_plain(ic.value)}")
    if not parts:
        return ""
    return (",\\quad " + ",\\ ".join(parts)) if latex else (", " + ", ".join(parts))


def _plain(expr: sympy.Basic) -> str:
    return _PlainPrinter({"order": None}).doprint(expr).replace("**", "^")


def _term_text(term: sympy.Expr, mapping: dict, printer: Any) -> str:
    """A product with its coefficient first: ``x^2*y''``, ``(2*x + 1)*y'`` (SymPy sorts y'' first)."""
    unknowns = tuple(mapping.values())
    coefficient, rest = term.as_independent(*unknowns, as_Add=False)
    if (coefficient in (1, -1) or rest == 1 or not isinstance(term, sympy.Mul) or coefficient.is_Number
            or sympy.denom(coefficient) != 1 or sympy.denom(rest) != 1):
        return printer(term)
    left = printer(coefficient)
    if isinstance(coefficient, sympy.Add):
        left = f"\\left({left}\\right)" if printer is sympy.latex else f"({left})"
    right = printer(rest)
    if isinstance(rest, sympy.Add):
        right = f"\\left({right}\\right)" if printer is sympy.latex else f"({right})"
    return f"{left} {right}" if printer is sympy.latex else f"{left}*{right}"


def _side_text(side: sympy.Expr, mapping: dict, printer: Any) -> str:
    """One side of the equation, terms ordered highest derivative first (``y'' + 2y' + y``)."""
    return ordered_sum(side, lambda term: _term_text(term.xreplace(mapping), mapping, printer), first_minus="-")


def render(problem: Problem, notation: str, style: str, explicit: bool = False) -> str | None:
    """The problem as a student would type it; None when ``style`` does not apply.

    ``notation`` is ``plain`` or ``latex``; ``explicit`` writes the unknown as ``y(t)`` so the
    variable is named even when it does not occur in the equation.
    """
    if is_system(problem):
        return render_system(problem, notation, style, explicit)
    latex = notation == "latex"
    fn, var = problem.function.__name__, problem.variable.name
    if style == "textbook" and latex and not explicit:
        return problem.latex  # the project's own LaTeX (highest derivative first)
    if style == "differential":
        from tutor.engine.base import first_order_parts

        parts = first_order_parts(problem) if problem.order == 1 else None
        if parts is None or parts[1].is_Number:  # "(...) dx + (1) dy" is not how anyone writes it
            return None
        M, N = (sympy.factor_terms(p.subs(problem.unknown, sympy.Symbol(fn))) for p in parts)
        if latex:
            text = f"\\left({sympy.latex(M)}\\right) d{var} + \\left({sympy.latex(N)}\\right) d{fn} = 0"
        else:
            text = f"({_plain(M)}) d{var} + ({_plain(N)}) d{fn} = 0"
        return text + _ics_text(problem, latex)
    mapping, names = _placeholders(problem)
    printer = sympy.latex if latex else _plain
    sides = (_side_text(side, mapping, printer) for side in (problem.equation.lhs, problem.equation.rhs))
    text = " = ".join(sides)
    for name, n in sorted(names.items(), key=lambda kv: -kv[1]):
        written = _derivative_text(fn, var, n, style, latex, explicit)
        if not latex and "/" in written:
            # dy/dx next to "/" or "^" would read as (dy/dx)/y only by precedence: bracket it
            text = re.sub(rf"(?<=[/^]){name}|{name}(?=[/^])", f"({written})", text)
        text = text.replace(name, written)
    return text + _ics_text(problem, latex)


def _system_side(problem: SystemProblem, i: int, latex: bool) -> str:
    """The i-th right-hand side with the unknowns as letters: ``x + 2y``, ``- 2 x + e^{t}``."""
    if latex:
        return problem.right_side_latex(i)
    names = {u: sympy.Symbol(f.__name__) for u, f in zip(problem.unknowns, problem.functions)}
    text = _plain(sympy.expand(problem.equations[i].rhs).xreplace(names))
    # 2*y -> 2y, the way students type a coefficient (only before an unknown, never before a function)
    letters = "".join(f.__name__ for f in problem.functions)
    return re.sub(rf"(\d)\*([{letters}])(?![A-Za-z(])", r"\1\2", text)


def _system_column(values: Iterable[sympy.Expr], latex: bool) -> str:
    if latex:
        return "\\begin{pmatrix} " + " \\\\ ".join(sympy.latex(v) for v in values) + " \\end{pmatrix}"
    return "[" + ", ".join(_plain(v) for v in values) + "]"


def render_system(problem: SystemProblem, notation: str, style: str, explicit: bool = False) -> str | None:
    """A linear system as a student would type it; None when ``style`` does not apply.

    Plain: ``prime`` (``x' = x + 2y, y' = 3x, x(0) = 1, y(0) = 0``), ``leibniz`` (``dx/dt = ...``)
    or ``matrix`` (``X' = [[1, 2], [3, 0]] X, X(0) = [1, 0]``); LaTeX: ``textbook`` (the project's
    ``cases`` block), ``leibniz`` (``\\frac{dx}{dt}`` in a ``cases`` block) or ``matrix``
    (``\\mathbf{x}' = \\begin{pmatrix} ... \\end{pmatrix} \\mathbf{x}``).  A system keeps its names;
    ``explicit`` has no system form (None).  The equation forms name a variable other than ``t``
    only through Leibniz notation, and the matrix form's components are always ``x, y, z``, so
    those cases give None rather than text that reads back as another problem.
    """
    from tutor.system import COMPONENT_NAMES

    latex = notation == "latex"
    var = problem.variable.name
    names = [f.__name__ for f in problem.functions]
    if explicit:
        return None
    if style == "textbook" and latex:
        return problem.latex
    if style == "matrix":
        if var != "t" or tuple(names) != COMPONENT_NAMES[:problem.n]:
            return None
        rows = sympy.Matrix(problem.matrix).tolist()
        if latex:
            matrix = ("\\begin{pmatrix} " + " \\\\ ".join(" & ".join(sympy.latex(v) for v in row) for row in rows)
                      + " \\end{pmatrix}")
            text = f"\\mathbf{{x}}' = {matrix} \\mathbf{{x}}"
        else:
            text = "X' = [" + ", ".join("[" + ", ".join(_plain(v) for v in row) + "]" for row in rows) + "] X"
        if not problem.homogeneous:
            text += " + " + _system_column(problem.forcing, latex)
        if problem.ics:
            point = problem.ics[0].point
            values = [ic.value for ic in problem.ics]
            if latex:
                text += f",\\quad \\mathbf{{x}}\\left({sympy.latex(point)}\\right) = {_system_column(values, True)}"
            else:
                text += f", X({_plain(point)}) = {_system_column(values, False)}"
        return text
    if style not in ("prime", "leibniz") or (style == "prime" and var != "t"):
        return None
    equations = []
    for i, fn in enumerate(names):
        if style == "leibniz":
            lhs = f"\\frac{{d{fn}}}{{d{var}}}" if latex else f"d{fn}/d{var}"
        else:
            lhs = f"{fn}'"
        equations.append(f"{lhs} = {_system_side(problem, i, latex)}")
    if latex:
        text = "\\begin{cases} " + " \\\\ ".join(equations) + " \\end{cases}"
        if problem.ics:
            text += ",\\quad " + ",\\ ".join(ic.latex() for ic in problem.ics)
        return text
    text = ", ".join(equations)
    if problem.ics:
        text += ", " + ", ".join(f"{ic.function.__name__}({_plain(ic.point)}) = {_plain(ic.value)}"
                                 for ic in problem.ics)
    return text


def canonical_key(problem: Problem) -> str:
    """A key equal for the same equation whatever the names, the side terms are on, or the sign.

    A system's key is its matrix, forcing (in ``t``) and initial values: the same system whatever
    its unknowns are called or however it is written (equations, Leibniz, matrix form).
    """
    if is_system(problem):
        return _system_key(problem)
    x, y = sympy.Symbol("x"), sympy.Function("y")
    p = rename(problem, "y", "x") if (problem.function.__name__, problem.variable.name) != ("y", "x") else problem
    expr = sympy.expand(sympy.numer(sympy.together(p.equation.lhs - p.equation.rhs)))
    if expr.could_extract_minus_sign():
        expr = -expr
    ics = sorted((ic.order, str(ic.point), str(ic.value)) for ic in p.ics)
    return f"{sympy.srepr(expr)}|{ics}|{x}|{y}"


def skeleton(problem: Problem) -> str:
    """The equation with every number replaced by ``k``: equal for coefficient perturbations."""
    k = sympy.Symbol("k")
    if is_system(problem):
        # the matrix pattern: which couplings there are and which are +-1 (0, 1, -1 kept)
        numbers = lambda m: sympy.Matrix(m).applyfunc(  # noqa: E731
            lambda e: e.replace(lambda a: a.is_Number and a not in (0, 1, -1), lambda a: k))
        forcing = sympy.Matrix(problem.forcing).xreplace({problem.variable: sympy.Symbol("t")})
        return (f"system|{numbers(problem.matrix).tolist()}|{numbers(forcing).T.tolist()}|{len(problem.ics)}")
    expr = sympy.expand(problem.equation.lhs - problem.equation.rhs)
    return str(expr.replace(lambda e: e.is_Number and e not in (1, -1), lambda e: k)) + f"|{len(problem.ics)}"


def same_problem(parsed: Problem, expected: Problem) -> bool:
    """Whether text parsed back to the intended problem (names, equation up to a factor, conditions).

    Systems (:func:`same_system`) are compared with systems only.
    """
    if is_system(parsed) or is_system(expected):
        return is_system(parsed) and is_system(expected) and same_system(parsed, expected)
    if (parsed.function.__name__, parsed.variable) != (expected.function.__name__, expected.variable):
        return False
    if set(parsed.ics) != set(expected.ics):
        return False
    a, b = parsed.expr, expected.expr
    if sympy.expand(a - b) == 0:
        return True
    ratio = sympy.cancel(sympy.together(a / b))
    return ratio != 0 and not ratio.has(expected.variable) and not ratio.has(expected.function)


def _system_key(problem: SystemProblem) -> str:
    t = sympy.Symbol("t")
    forcing = sympy.Matrix(problem.forcing).xreplace({problem.variable: t}).applyfunc(sympy.expand)
    ics = [(str(ic.point), str(ic.value)) for ic in problem.ics]  # in the unknowns' order
    matrix = sympy.srepr(sympy.ImmutableMatrix(problem.matrix))
    return f"system|{matrix}|{sympy.srepr(forcing.as_immutable())}|{ics}|{t}"


def same_system(parsed: SystemProblem, expected: SystemProblem) -> bool:
    """Whether a system read back from text is the generated one: the same unknowns (in order), variable,
    matrix, forcing and conditions.  A parsed system is always ``x' = A x + g``, so no factor is allowed."""
    if [f.__name__ for f in parsed.functions] != [f.__name__ for f in expected.functions]:
        return False
    if parsed.variable != expected.variable or parsed.matrix.shape != expected.matrix.shape:
        return False
    if [(ic.function.__name__, ic.point, ic.value) for ic in parsed.ics] != \
            [(ic.function.__name__, ic.point, ic.value) for ic in expected.ics]:
        return False
    difference = [*(sympy.Matrix(parsed.matrix) - sympy.Matrix(expected.matrix)),
                  *(sympy.Matrix(parsed.forcing) - sympy.Matrix(expected.forcing))]
    return all(sympy.expand(e) == 0 for e in difference)


# --------------------------------------------------------------------------- one candidate (worker)

@dataclass(frozen=True)
class Candidate:
    """A generated problem, renamed and rendered both ways (or why it was skipped)."""

    family: str
    seed: int
    difficulty: int
    canonical: str = ""
    skeleton: str = ""
    function: str = "y"
    variable: str = "x"
    plain: str = ""
    plain_style: str = ""
    latex: str = ""
    latex_style: str = ""
    skip: str = ""


def _rendering(problem: Problem, notation: str, styles: Iterable[str]) -> tuple[str, str] | None:
    """The first (text, style) that parses back to ``problem``; explicit ``y(t)`` as a last resort."""
    from tutor.errors import ParseError
    from tutor.parser import parse

    attempts = [(s, False) for s in styles] + [(s, True) for s in styles if s != "differential"]
    for style, explicit in attempts:
        text = render(problem, notation, style, explicit)
        if not text:
            continue
        try:
            if same_problem(parse(text), problem):
                return text, style
        except ParseError:
            continue
    return None


def prepare_candidate(family: str, seed: int, difficulty: int, naming: tuple[str, str],
                      plain_style: str, latex_style: str) -> Candidate:
    """Generate, rename and render one problem; runs in a bounded worker (SymPy may be slow).

    A system is not renamed (``naming`` is ignored): it keeps the generator's ``x, y(, z)`` in ``t``.
    """
    try:
        generated = generate(family, seed, difficulty)
    except Exception as exc:  # a generator bug must not stop the run: count it, go on
        return Candidate(family, seed, difficulty, skip=f"generator failed: {type(exc).__name__}: {exc}")
    problem = generated.problem if is_system(generated.problem) else rename(generated.problem, *naming)
    plain_styles, latex_styles = styles(family)
    plain_order = [plain_style] + [s for s in plain_styles if s != plain_style]
    latex_order = [latex_style] + [s for s in latex_styles if s != latex_style]
    plain = _rendering(problem, "plain", plain_order)
    latex = _rendering(problem, "latex", latex_order)
    if plain is None or latex is None:
        return Candidate(family, seed, difficulty, skip="no rendering parses back to the problem")
    function, variable = problem_names(problem)
    return Candidate(family, seed, difficulty, canonical_key(generated.problem), skeleton(generated.problem),
                     function, variable, plain[0], plain[1], latex[0], latex[1])


def candidate(family: str, seed: int, difficulty: int, naming: tuple[str, str] = ("y", "x"),
              plain_style: str = "prime", latex_style: str = "textbook", timeout: float = 30.0) -> Candidate:
    """:func:`prepare_candidate` under :func:`tutor.bounded.run_bounded`."""
    import importlib

    from tutor.bounded import SymbolicTimeout, WorkerCrashed, run_bounded

    # By its importable name: under ``python -m training.data`` this module is ``__main__``,
    # which the worker processes do not load.
    prepare = importlib.import_module("training.data").prepare_candidate
    try:
        return run_bounded(prepare, family, seed, difficulty, naming, plain_style, latex_style,
                           timeout=timeout)
    except (SymbolicTimeout, WorkerCrashed) as exc:
        return Candidate(family, seed, difficulty, skip=f"generation did not finish: {exc}")


# --------------------------------------------------------------------------- examples

def _same_sections(a: Sections, b: Sections) -> bool:
    clean = lambda s: " ".join(str(s).split())  # noqa: E731 - whitespace is not content in the format
    return (clean(a.classification) == clean(b.classification) and clean(a.hint) == clean(b.hint)
            and [clean(s) for s in a.steps if clean(s)] == [clean(s) for s in b.steps]
            and clean(a.final_answer) == clean(b.final_answer))


def make_examples(c: Candidate, timeout: float = 20.0, compact: bool = False) -> tuple[list[dict], str]:
    """The two examples (plain, LaTeX) of a candidate, or ([], why not).

    The engine solves the problem parsed from the plain text with the family's method; the
    serialized target must parse back into the same sections, and its final answer must be
    ``correct`` for the problem parsed from *each* rendering (the checker, the one verifier).

    ``compact`` (for a small model prompted in canonical letters): the target is concise
    (:meth:`Solution.to_sections` with ``concise``, then :func:`tutor.format.compact_latex`) and
    the prompt is :func:`tutor.letters.model_problem_text` of the parsed problem — the same for
    both renderings, so only the plain row is kept (both renderings are still checked).  A system is
    prompted as typed, as :func:`tutor.session.model_input` prompts every profile with a system, so
    both of its rows are kept.

    A system (:data:`SYSTEMS_FAMILY`) goes the same way: the engine's eigenvalue derivation, the
    checker on the vector answer; its row says ``order`` 1, ``linear``, ``types`` ``["linear_system"]``
    (:class:`~tutor.engine.methods.linear_system.SystemClassification`) and ``function`` ``"x,y"``.
    """
    from tutor.checker import check
    from tutor.engine import solve
    from tutor.letters import model_problem_text
    from tutor.parser import parse

    solution = solve(parse(c.plain), timeout=timeout, method=c.family)
    if not solution.verified or not solution.answer:
        return [], f"engine: {solution.status} {solution.message}".strip()
    sections = compact_sections(solution.to_sections(concise=True)) if compact else solution.to_sections()
    target = serialize(sections)
    if not _same_sections(parse_sections(target, done=True), sections):
        return [], "serialized target does not parse back into the same sections"
    final = answer_text(sections.final_answer)
    classification = solution.classification
    rows = []
    for notation, text, style in (("plain", c.plain, c.plain_style), ("latex", c.latex, c.latex_style)):
        parsed = parse(text)
        verdict = check(parsed, final, timeout=timeout)
        if verdict.verdict != "correct":
            return [], f"checker: {verdict.verdict} for the {notation} rendering ({verdict.reason})"
        system = is_system(parsed)
        prompt_text = model_problem_text(parsed) if compact and not system else text
        if compact and notation != "plain" and not system:
            continue
        rows.append({
            "id": f"{c.family}-{c.seed}-{c.difficulty}-{notation}",
            "source": "synthetic",
            "family": c.family,
            "seed": c.seed,
            "difficulty": c.difficulty,
            "notation": notation,
            "style": style,
            "function": c.function,
            "variable": c.variable,
            "problem": text,
            "canonical": c.canonical,
            "skeleton": c.skeleton,
            "messages": chat_messages(prompt_text, sections),
            "prompt": chat_messages(prompt_text),
            "completion": [{"role": "assistant", "content": target}],
            "answer": sections.final_answer,
            "order": classification.order if classification else solution.problem.order,
            "linear": bool(classification.linear) if classification else False,
            "types": list(classification.types) if classification else [],
            "method": solution.method or "",
            "verdict": verdict.verdict,
            "reference_verdict": "",
        })
    return rows, ""


# --------------------------------------------------------------------------- the whole set

@dataclass
class DataConfig:
    out: str
    per_family: int = 20
    families: list[str] | None = None  # None: every registered method and linear systems (family_ids)
    heldout_family: str | None = "bernoulli"
    validation_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    max_attempts_factor: int = 4  # seeds tried per wanted problem before giving up on a family
    jobs: int = 2  # concurrent solve+check pipelines (the symbolic pool has >= 2 workers)
    timeout: float = 20.0
    curated: list[str] = field(default_factory=list)
    progress: bool = True
    #: (unknown, variable) pairs to cycle through, e.g. [("y", "x")]; None: all of NAMINGS
    namings: list[tuple[str, str]] | None = None
    #: concise compact targets, canonical prompts, one row per problem (see make_examples)
    compact: bool = False
    #: where candidates are solved and verified: this machine's worker pool, or Ray (training.fanout)
    executor: str = "local"
    #: start over instead of resuming the families an earlier run of this --out finished
    fresh: bool = False


@dataclass
class FamilyStats:
    wanted: int = 0
    kept: int = 0
    tried: int = 0
    duplicates: int = 0
    skipped: Counter = field(default_factory=Counter)


def _plan(family_index: int, i: int, config: DataConfig,
          family: str = "") -> tuple[int, int, tuple[str, str], str, str]:
    """Seed, difficulty, naming and styles of the i-th candidate of a family (balanced cycles)."""
    seed = config.seed * 100_000 + i
    difficulty = 1 + i % 3
    namings = tuple(tuple(n) for n in config.namings) if config.namings else NAMINGS
    naming = namings[(i + family_index) % len(namings)]
    plain_styles, latex_styles = styles(family)
    plain_style = plain_styles[(i // 3) % len(plain_styles)]
    latex_style = latex_styles[(i // 2) % len(latex_styles)]
    return seed, difficulty, naming, plain_style, latex_style


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0][:60]


def generate_family(family: str, family_index: int, config: DataConfig, seen: set[str],
                    stats: FamilyStats, bar: Any = None) -> list[dict]:
    """``config.per_family`` unique verified problems of one family (two examples each)."""
    rows: list[dict] = []
    stats.wanted = config.per_family
    max_attempts = max(config.per_family * config.max_attempts_factor, config.per_family + 5)
    i = 0
    while stats.kept < config.per_family and i < max_attempts:
        # Prepare a batch of unique candidates in seed order (deterministic whatever ``jobs``) ...
        batch: list[Candidate] = []
        while len(batch) < max(1, config.jobs) and i < max_attempts:
            c = candidate(family, *_plan(family_index, i, config, family), timeout=config.timeout)
            i += 1
            stats.tried += 1
            if c.skip:
                stats.skipped[_reason_kind(c.skip)] += 1
                logger.debug("%s seed %d skipped: %s", family, c.seed, c.skip)
                continue
            if c.canonical in seen:
                stats.duplicates += 1
                continue
            seen.add(c.canonical)
            batch.append(c)
        # ... then solve and verify them concurrently; results are taken in seed order.
        made = fan_out(_make_examples_job, [(c, config.timeout, config.compact) for c in batch],
                       executor=config.executor, workers=max(1, config.jobs))
        for c, (examples, why) in zip(batch, made):
            if stats.kept >= config.per_family:
                seen.discard(c.canonical)
                continue
            if not examples:
                stats.skipped[_reason_kind(why)] += 1
                logger.debug("%s seed %d dropped: %s", family, c.seed, why)
                continue
            rows.extend(examples)
            stats.kept += 1
            if bar is not None:
                bar.update(1)
    return rows


def _make_examples_job(args: tuple[Candidate, float, bool]) -> tuple[list[dict], str]:
    return make_examples(*args)


def _hash_order(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def assign_splits(rows: list[dict], config: DataConfig) -> None:
    """Set ``row["split"]``: held-out family -> heldout; else per family by canonical-key hash."""
    by_family: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["canonical"] not in by_family[row["family"]]:
            by_family[row["family"]].append(row["canonical"])
    split_of: dict[tuple[str, str], str] = {}
    for family, keys in by_family.items():
        if family == config.heldout_family:
            split_of.update({(family, k): "heldout" for k in keys})
            continue
        keys = sorted(keys, key=lambda k: _hash_order(k, config.seed))
        n = len(keys)
        n_val = round(n * config.validation_fraction)
        n_test = round(n * config.test_fraction)
        if n >= 3:  # every split gets at least one problem of every family
            n_val, n_test = max(1, n_val), max(1, n_test)
        for j, k in enumerate(keys):
            split_of[(family, k)] = "validation" if j < n_val else "test" if j < n_val + n_test else "train"
    for row in rows:
        row["split"] = split_of[(row["family"], row["canonical"])]


def _fingerprint(config: DataConfig) -> str:
    """What decides a family's rows: a logged family is reused only when these are the same."""
    keep = {k: v for k, v in asdict(config).items() if k not in ("out", "progress", "jobs", "executor", "fresh",
                                                                  "curated")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build(config: DataConfig) -> tuple[list[dict], dict]:
    """Generate every family's examples (and curated ones), assign splits; returns (rows, stats)."""
    from tqdm.auto import tqdm

    started = time.monotonic()
    known = family_ids()
    families = list(config.families or known)
    unknown = [f for f in families if f not in known]
    if unknown:
        raise SystemExit(f"unknown families: {', '.join(unknown)}; known: {', '.join(known)}")
    if config.heldout_family and config.heldout_family not in families:
        if config.heldout_family in known:
            families.append(config.heldout_family)
        else:
            logger.warning("held-out family %r is not registered yet: the heldout split will be empty",
                           config.heldout_family)
    seen: set[str] = set()
    rows: list[dict] = []
    per_family: dict[str, FamilyStats] = {}
    bar = tqdm(total=config.per_family * len(families), desc="problems", unit="problem",
               disable=not config.progress)
    # Each finished family is logged at once; a rerun of the same command takes those families
    # from the log (rebuilding the duplicate filter from their problems, so the families after
    # them come out exactly as in one uninterrupted run) and generates the rest.
    log = ResultLog(Path(config.out) / "work" / "families.jsonl", fresh=config.fresh)
    fingerprint = _fingerprint(config)
    for index, family in enumerate(families):
        bar.set_postfix_str(family)
        done = log.get(family)
        if done is not None and done.get("fingerprint") == fingerprint:
            per_family[family] = FamilyStats(wanted=done["stats"]["wanted"], kept=done["stats"]["kept"],
                                             tried=done["stats"]["tried"], duplicates=done["stats"]["duplicates"],
                                             skipped=Counter(done["stats"]["skipped"]))
            rows.extend(done["rows"])
            seen.update(done["seen"])
            bar.update(per_family[family].kept)
            continue
        per_family[family] = FamilyStats()
        before = set(seen)
        made = generate_family(family, index, config, seen, per_family[family], bar)
        rows.extend(made)
        st = per_family[family]
        log.append({"id": family, "fingerprint": fingerprint, "rows": made, "seen": sorted(seen - before),
                    "stats": {"wanted": st.wanted, "kept": st.kept, "tried": st.tried,
                              "duplicates": st.duplicates, "skipped": dict(st.skipped)}})
    bar.close()
    curated_stats: dict = {}
    for path in config.curated:
        curated_rows, curated_stats[path] = load_curated(path, timeout=config.timeout, seen=seen)
        rows.extend(curated_rows)
    assign_splits(rows, config)
    seconds = time.monotonic() - started
    problems = sum(s.kept for s in per_family.values())
    stats = {
        "seconds": round(seconds, 1),
        "problems": problems,
        "examples": len(rows),
        "problems_per_second": round(problems / seconds, 3) if seconds else None,
        "families": {f: {"wanted": s.wanted, "kept": s.kept, "tried": s.tried, "duplicates": s.duplicates,
                         "skipped": dict(s.skipped)} for f, s in per_family.items()},
        "curated": curated_stats,
        "config": asdict(config),
    }
    return rows, stats


# --------------------------------------------------------------------------- curated sets

_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}")


def _ode_in(text: str) -> Problem | None:
    """The ODE stated in a problem text: the whole text, a math segment, or the text after a colon."""
    from tutor.errors import ParseError
    from tutor.parser import parse

    # Leading prose ("Solve the differential equation ...") would parse as a product of letters.
    candidates = [re.sub(r"^(?:[A-Za-z]{2,}[,:]?\s+)+", "", text.strip())]
    candidates += math_spans(text)
    candidates.append(text)
    if ":" in text:
        candidates.append(text.rsplit(":", 1)[1])
    for piece in candidates:
        piece = piece.strip().rstrip(".")
        if not piece or len(piece) > 400:
            continue
        try:
            problem = parse(piece)
        except (ParseError, Exception):  # noqa: BLE001 - any unreadable candidate is just not an ODE
            continue
        if problem.order >= 1:
            return problem
    return None


def _final_answer(answer: str) -> str:
    """The final answer in a worked answer: a boxed expression, the last math segment, or the text."""
    boxed = _BOXED.findall(answer)
    if boxed:
        return boxed[-1].strip()
    segments = math_spans(answer)
    if segments:
        return segments[-1].strip()
    return answer.strip().splitlines()[-1].strip() if answer.strip() else ""


def read_curated(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """(problem, answer, origin) from an AMPS folder or file, or JSONL with problem/answer.

    AMPS Khan Academy: one JSON object per file, ``problem`` (or ``question``) and ``hints``
    (the last hint is the answer) or ``solution``.  AMPS Mathematica: text files of
    ``Problem:`` then ``Answer:`` blocks (several answers possible; the first is used).
    """
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file.suffix == ".jsonl":
            for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    data = json.loads(line)
                    yield str(data.get("problem") or data.get("question") or ""), str(
                        data.get("answer") or data.get("solution") or ""), f"{file}:{n}"
        elif file.suffix == ".json":
            data = json.loads(file.read_text(encoding="utf-8"))
            problem = data.get("problem") or data.get("question") or ""
            hints = data.get("hints")
            answer = hints[-1] if isinstance(hints, list) and hints else data.get("solution") or data.get("answer") or ""
            yield str(problem), str(answer), str(file)
        elif file.suffix == ".txt":
            text = file.read_text(encoding="utf-8")
            blocks = re.split(r"^(Problem|Answer):\s*$", text, flags=re.MULTILINE)
            problem, answers = "", []
            for kind, body in zip(blocks[1::2], blocks[2::2]):
                if kind == "Problem":
                    problem = body.strip()
                else:
                    answers.append(body.strip())
            if problem:
                yield problem, answers[0] if answers else "", str(file)


def load_curated(path: str | Path, timeout: float = 20.0, seen: set[str] | None = None) -> tuple[list[dict], dict]:
    """Examples from a curated set: differential-equation problems only, engine derivation as target.

    The curated answer is judged by the checker (``reference_verdict``); the target is the
    engine's verified derivation, so a curated problem the engine cannot solve is dropped.
    """
    from tutor.checker import check
    from tutor.engine import solve

    seen = set() if seen is None else seen
    counts: Counter = Counter()
    rows: list[dict] = []
    for problem_text, answer, origin in read_curated(path):
        counts["read"] += 1
        problem = _ode_in(problem_text)
        if problem is None:
            counts["not an ODE"] += 1
            continue
        counts["ODE"] += 1
        key = canonical_key(problem)
        if key in seen:
            counts["duplicate"] += 1
            continue
        reference = _final_answer(answer)
        reference_verdict = check(problem, reference, timeout=timeout).verdict if reference else "undecided"
        counts[f"reference {reference_verdict}"] += 1
        solution = solve(problem, timeout=timeout)
        if not solution.verified or not solution.method:
            counts["engine unsolved"] += 1
            continue
        sections = solution.to_sections()
        final = answer_text(sections.final_answer)
        verdict = check(problem, final, timeout=timeout)
        if verdict.verdict != "correct":
            counts["engine answer rejected"] += 1
            continue
        seen.add(key)
        text = problem.source
        c = solution.classification
        rows.append({
            "id": f"curated-{hashlib.sha1(origin.encode()).hexdigest()[:10]}", "source": f"curated:{origin}",
            "family": solution.method, "seed": -1, "difficulty": 0,
            "notation": problem.notation, "style": "curated", "function": problem_names(problem)[0],
            "variable": problem_names(problem)[1], "problem": text, "canonical": key, "skeleton": skeleton(problem),
            "messages": chat_messages(text, sections), "prompt": chat_messages(text),
            "completion": [{"role": "assistant", "content": serialize(sections)}],
            "answer": sections.final_answer, "order": problem.order, "linear": bool(c.linear) if c else False,
            "types": list(c.types) if c else [], "method": solution.method, "verdict": verdict.verdict,
            "reference_verdict": reference_verdict,
        })
        counts["kept"] += 1
    return rows, dict(counts)


# --------------------------------------------------------------------------- saving

def counts_table(rows: list[dict]) -> str:
    """Markdown table: examples per family and split."""
    counts = Counter((r["family"], r["split"]) for r in rows)
    families = sorted({r["family"] for r in rows})
    lines = ["| family | " + " | ".join(SPLITS) + " | total |", "|---" * (len(SPLITS) + 2) + "|"]
    for f in families:
        cells = [counts[(f, s)] for s in SPLITS]
        lines.append(f"| {f} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    totals = [sum(counts[(f, s)] for f in families) for s in SPLITS]
    lines.append("| **total** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |")
    return "\n".join(lines)


def _breakdown(rows: list[dict], key: str) -> str:
    c = Counter(str(r[key]) for r in rows)
    return ", ".join(f"{k}: {v}" for k, v in sorted(c.items()))


def card(rows: list[dict], stats: dict, config: DataConfig) -> str:
    """The dataset card (README.md)."""
    families = stats["families"]
    dropped = "\n".join(f"- `{f}`: kept {s['kept']} of {s['wanted']} wanted ({s['tried']} tried, "
                        f"{s['duplicates']} duplicates" + (", skipped: " + ", ".join(
                            f"{k} x{v}" for k, v in s["skipped"].items()) if s["skipped"] else "") + ")"
                        for f, s in families.items())
    return f"""---
pretty_name: ODE tutor SFT data
task_categories: [text-generation]
language: [en]
configs:
- config_name: default
  data_files:
{chr(10).join(f"  - split: {s}{chr(10)}    path: jsonl/{s}.jsonl" for s in SPLITS)}
---

# ODE tutor SFT data

Synthetic ordinary differential equations from the engine's per-method generators (one family
per method; `linear_system`: systems x' = A x, 2x2 and 3x3, by the eigenvalue method), each with
the engine's derivation in the tutor format (system prompt -> problem -> Classification, Hint,
Steps, Final Answer). Every example's final answer was verified by the project's checker
against the problem parsed back from the example's own text. Built by `python -m training.data`.

- problems: {stats['problems']} ({config.per_family} wanted per family), examples: {stats['examples']}
  (each problem rendered as plain text and as LaTeX)
- held-out family (split `heldout`, never trained on): `{config.heldout_family}`
- generation time: {stats['seconds']} s ({stats['problems_per_second']} problems/s)

## Examples per family and split

{counts_table(rows)}

## Variety

- notation: {_breakdown(rows, 'notation')}
- style: {_breakdown(rows, 'style')}
- difficulty: {_breakdown(rows, 'difficulty')}
- unknown: {_breakdown(rows, 'function')}; variable: {_breakdown(rows, 'variable')}

## Generation log

{dropped}

## Fields

`messages` (system, user, assistant — for SFT), `prompt` + `completion` (the same split at the
assistant turn), `problem` (the text), `answer` (the Final Answer line), `family` (method id),
`difficulty`, `seed`, `notation`, `style`, `function` (a system's unknowns joined: `x,y`),
`variable`, `canonical` (dedup key), `skeleton` (equation with numbers as k), `order`, `linear`,
`types` (methods that apply),
`method`, `verdict` (checker on the answer), `reference_verdict` (curated rows: checker on the
curated answer), `source`, `split`.
"""


def save(rows: list[dict], stats: dict, config: DataConfig) -> Path:
    """Write the dataset (save_to_disk), JSONL per split, the card and stats.json."""
    from datasets import Dataset, DatasetDict

    out = Path(config.out)
    (out / "jsonl").mkdir(parents=True, exist_ok=True)
    splits = {}
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        with open(out / "jsonl" / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for r in part:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        splits[split] = part
    features = _features()
    # An empty split (no held-out family) is left out: datasets cannot load a zero-shard split back.
    DatasetDict({s: Dataset.from_list(p, features=features) for s, p in splits.items() if p}).save_to_disk(
        str(out / "dataset"))
    stats = {**stats, "counts": {s: len(p) for s, p in splits.items()}}
    (out / "stats.json").write_text(json.dumps(stats, indent=2, default=str), encoding="utf-8")
    (out / "README.md").write_text(card(rows, stats, config), encoding="utf-8")
    return out


def _features():
    """Explicit features: every split has the same schema whatever its rows hold."""
    from datasets import Features, List, Value

    message = {"role": Value("string"), "content": Value("string")}
    strings = ("id", "source", "family", "notation", "style", "function", "variable", "problem", "canonical",
               "skeleton", "answer", "method", "verdict", "reference_verdict", "split")
    spec: dict[str, Any] = {k: Value("string") for k in strings}
    spec.update(seed=Value("int64"), difficulty=Value("int64"), order=Value("int64"), linear=Value("bool"),
                types=List(Value("string")), messages=List(message), prompt=List(message),
                completion=List(message))
    return Features(spec)


def load(path: str | Path):
    """The saved ``DatasetDict`` (``DIR`` or ``DIR/dataset``)."""
    from datasets import load_from_disk

    path = Path(path)
    return load_from_disk(str(path / "dataset" if (path / "dataset").is_dir() else path))


# --------------------------------------------------------------------------- exam variants (LbT)

def variants(row: dict, count: int, search: int = 12, timeout: float = 30.0) -> list[Candidate]:
    """Functional variants of an example's problem: same method, perturbed coefficients.

    Generator seeds after the example's are tried at the same difficulty; problems with the
    same skeleton (the equation with its numbers replaced) come first, then other problems of
    the method, so an exam never comes back empty while the generator works.  The teaching
    problem itself is never an exam problem.
    """
    same, other = [], []
    naming = (row.get("function") or "y", row.get("variable") or "x")
    for j in range(1, search + 1):
        c = candidate(row["family"], 1_000_000 + int(row["seed"]) * 97 + j, int(row["difficulty"]) or 1,
                      naming, timeout=timeout)
        if c.skip or c.canonical == row["canonical"] or any(c.canonical == v.canonical for v in same + other):
            continue
        (same if c.skeleton == row.get("skeleton") else other).append(c)
        if len(same) >= count:
            break
    return (same + other)[:count]


# --------------------------------------------------------------------------- CLI

def parse_args(argv: list[str] | None = None) -> DataConfig:
    p = argparse.ArgumentParser(prog="python -m training.data", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--per-family", type=int, default=20, help="unique problems per family (2 examples each)")
    p.add_argument("--families", nargs="*", default=None,
                   help=f"method ids, or {SYSTEMS_FAMILY} (default: every registered method and {SYSTEMS_FAMILY})")
    p.add_argument("--heldout-family", default="bernoulli", help="family kept out of training ('' for none)")
    p.add_argument("--validation-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2, help="concurrent solve+verify pipelines")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per symbolic call")
    p.add_argument("--curated", action="append", default=[], help="AMPS folder/file or problem/answer JSONL")
    p.add_argument("--namings", nargs="*", default=None, metavar="F(V)",
                   help="unknowns to cycle through, e.g. y(x) u(t) (default: all of NAMINGS)")
    p.add_argument("--compact", action="store_true",
                   help="concise compact targets and canonical-letter prompts, one row per problem "
                        "(for small models; with --namings 'y(x)')")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--executor", choices=("auto", "local", "ray"), default="local",
                   help="where candidates are solved and verified: this machine's worker pool, or Ray "
                        "(auto: Ray when RAY_ADDRESS is set); --jobs tasks at a time")
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming OUT/work")
    a = p.parse_args(argv)
    namings = None
    if a.namings:
        namings = []
        for text in a.namings:
            m = re.fullmatch(r"\s*([A-Za-z])\(([A-Za-z])\)\s*", text)
            if not m:
                p.error(f"--namings wants F(V) with single letters, e.g. y(x); got {text!r}")
            namings.append((m.group(1), m.group(2)))
    return DataConfig(out=a.out, per_family=a.per_family, families=a.families,
                      heldout_family=a.heldout_family or None, validation_fraction=a.validation_fraction,
                      test_fraction=a.test_fraction, seed=a.seed, jobs=a.jobs, timeout=a.timeout,
                      curated=a.curated, progress=not a.no_progress, namings=namings, compact=a.compact,
                      executor=a.executor, fresh=a.fresh)


def extend_train(base: str | Path, extras: list[str | Path], out: str | Path) -> tuple[Path, dict]:
    """``base``'s splits, plus every row of ``extras`` whose problem ``base`` (or an earlier extra)
    lacks, all in ``train``.

    More training data from later runs (another ``--seed``) without touching the validation and
    test problems ``base`` fixed: a problem of theirs that turns up again is dropped, never trained on.
    """
    def read(folder: Path) -> list[dict]:
        rows = []
        for split in SPLITS:
            path = folder / "jsonl" / f"{split}.jsonl"
            if path.is_file():
                rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return rows

    base = Path(base)
    rows = read(base)
    seen = {r["canonical"] for r in rows}
    added, dropped = Counter(), 0
    held = {r["family"] for r in rows if r["split"] == "heldout"}
    for extra in extras:
        fresh = []
        for row in read(Path(extra)):
            if row["canonical"] in seen or row["family"] in held:
                dropped += 1
                continue
            fresh.append({**row, "split": "train"})
            added[row["family"]] += 1
        seen |= {r["canonical"] for r in fresh}
        rows += fresh
    stats = json.loads((base / "stats.json").read_text(encoding="utf-8"))
    stats["extended"] = {"from": [str(e) for e in extras], "added_train_rows": dict(added),
                         "dropped_known_or_heldout": dropped}
    config = DataConfig(**{**stats["config"], "out": str(out)})
    return save(rows, stats, config), stats


def tool_example(row: dict, timeout: float = 20.0) -> tuple[dict | None, str, int]:
    """A compact row rewritten in the ``tools`` format (:func:`tutor.tools.tool_sections`).

    The same problem and prompt; the target's steps ask SymPy where a request reproduces the
    engine's step, with the runtime's own answers.  The Final Answer is checked again (it may be
    a tool's answer).  Returns (row or None, why not, number of tool steps).
    """
    from tutor.bounded import SymbolicTimeout, WorkerCrashed, run_bounded
    from tutor.checker import check
    from tutor.engine import solve
    from tutor.format import TOOLS_SYSTEM_PROMPT
    from tutor.letters import model_problem_text
    from tutor.parser import parse
    from tutor.tools import tool_sections

    try:
        parsed = parse(row["problem"])
        solution = solve(parsed, timeout=timeout, method=row["family"])
        if not solution.verified or not solution.answer:
            return None, f"engine: {solution.status}", 0
        # in a worker: the serializer's time boxes (tutor.engine.timebox) only work there
        sections, tools = run_bounded(tool_sections, solution, timeout=timeout * 3, heavy=True)
    except (SymbolicTimeout, WorkerCrashed) as exc:
        return None, f"did not finish: {exc}", 0
    target = serialize(sections)
    if not _same_sections(parse_sections(target, done=True), sections):
        return None, "serialized target does not parse back into the same sections", tools
    verdict = check(parsed, answer_text(sections.final_answer), timeout=timeout)
    if verdict.verdict != "correct":
        return None, f"checker: {verdict.verdict}", tools
    prompt_text = model_problem_text(parsed)
    return {**row, "messages": chat_messages(prompt_text, sections, TOOLS_SYSTEM_PROMPT),
            "prompt": chat_messages(prompt_text, system_prompt=TOOLS_SYSTEM_PROMPT),
            "completion": [{"role": "assistant", "content": target}],
            "answer": sections.final_answer}, "", tools


def _stop_workers_at_exit() -> None:
    """A pool worker's own bounded workers are stopped when it exits (else its exit waits on them)."""
    from multiprocessing.util import Finalize

    from tutor.bounded import shutdown

    Finalize(None, shutdown, exitpriority=100)


def _tool_example_job(args: tuple[dict, float]) -> tuple[dict | None, str, int, str]:
    row, timeout = args
    out, why, tools = tool_example(row, timeout)
    return out, why, tools, row["id"]


def convert_tools(source: str | Path, out: str | Path, train_per_family: int | None = None,
                  workers: int = 1, timeout: float = 20.0, fresh: bool = False) -> tuple[Path, dict]:
    """``source``'s rows (every split, the same ids and splits) in the ``tools`` format.

    Resumable: each converted row is logged in ``OUT/work/tools.jsonl``; a rerun converts only the
    rows not there (``fresh`` starts over).

    ``train_per_family`` keeps the first N train rows of each family (in the source's order);
    validation, test and held-out rows are all kept.  A row that cannot be rewritten is dropped
    and counted.
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    source = Path(source)
    rows = []
    for split in SPLITS:
        path = source / "jsonl" / f"{split}.jsonl"
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if train_per_family is not None:
        taken: Counter = Counter()
        kept = []
        for r in rows:
            if r["split"] == "train":
                if taken[r["family"]] >= train_per_family:
                    continue
                taken[r["family"]] += 1
            kept.append(r)
        rows = kept
    started = time.time()
    dropped, tool_steps = Counter(), Counter()
    # each converted row is logged as it comes; a rerun after a crash converts only the rest
    log = ResultLog(Path(out) / "work" / "tools.jsonl", fresh=fresh)
    todo = [r for r in rows if r["id"] not in log]
    bar = tqdm(total=len(rows), initial=len(rows) - len(todo), desc="tools format", unit="row", file=sys.stderr)
    jobs = [(r, timeout) for r in todo]

    def keep(row: dict, res: tuple) -> None:
        new, why, tools, _ = res
        log.append({"id": row["id"], "new": new, "why": why, "tools": tools})
        bar.update()

    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_stop_workers_at_exit) as pool:
            for row, res in zip(todo, pool.map(_tool_example_job, jobs, chunksize=4)):
                keep(row, res)
    else:
        for row, job in zip(todo, jobs):
            keep(row, _tool_example_job(job))
    bar.close()
    converted = []
    for entry in (log.get(r["id"]) for r in rows):  # in the source's order, resumed or not
        if entry["new"] is None:
            dropped[_reason_kind(entry["why"])] += 1
            continue
        converted.append(entry["new"])
        tool_steps[entry["new"]["family"]] += entry["tools"]
    stats = json.loads((source / "stats.json").read_text(encoding="utf-8"))
    stats["tools"] = {"from": str(source), "rows": len(converted), "dropped": dict(dropped),
                      "train_per_family": train_per_family, "tool_steps_by_family": dict(tool_steps),
                      "rows_with_a_request": sum("<<" in r["completion"][0]["content"] for r in converted),
                      "seconds": round(time.time() - started, 1)}
    config = DataConfig(**{**stats["config"], "out": str(out)})
    return save(converted, stats, config), stats


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["extend"]:  # python -m training.data extend --out OUT BASE EXTRA [EXTRA ...]
        p = argparse.ArgumentParser(prog="python -m training.data extend", description=extend_train.__doc__)
        p.add_argument("--out", required=True)
        p.add_argument("base")
        p.add_argument("extras", nargs="+")
        a = p.parse_args(argv[1:])
        out, stats = extend_train(a.base, a.extras, a.out)
        print(f"wrote {out}: {stats['counts']} ({stats['extended']})", file=sys.stderr)
        return 0
    if argv[:1] == ["tools"]:  # python -m training.data tools --out OUT SOURCE
        p = argparse.ArgumentParser(prog="python -m training.data tools", description=convert_tools.__doc__)
        p.add_argument("--out", required=True)
        p.add_argument("--train-per-family", type=int, default=None)
        p.add_argument("--workers", type=int, default=1)
        p.add_argument("--fresh", action="store_true", help="start over instead of resuming OUT/work")
        p.add_argument("source")
        a = p.parse_args(argv[1:])
        out, stats = convert_tools(a.source, a.out, a.train_per_family, a.workers, fresh=a.fresh)
        print(f"wrote {out}: {stats['counts']} ({stats['tools']})", file=sys.stderr)
        return 0
    config = parse_args(argv)
    rows, stats = build(config)
    out = save(rows, stats, config)
    counts = Counter(r["split"] for r in rows)
    print(f"wrote {out}: {stats['problems']} problems, {len(rows)} examples "
          f"({', '.join(f'{s} {counts[s]}' for s in SPLITS)}) in {stats['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
