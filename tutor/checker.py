"""The one verifier: is a proposed solution of an ODE correct, incomplete, wrong — or undecidable?

Used everywhere an answer is judged: the app's auto-check of the tutor's final answer, the
student's "check my answer", evaluation metrics, DPO chosen/rejected labels and LbT exam scores.

Usage::

    from tutor.checker import check
    v = check("y' = 2y", "y = C e^{2x}")            # Verdict(verdict="correct", ...)
    v = check("y' = 2y, y(0) = 3", "y = 3e^{2x} + 1")
    v.verdict, v.reason, v.details, v.ok, v.to_dict()

    python -m tutor check "y' = 2y" "y = e^{2x} + C" --json

Verdicts (docs/ARCHITECTURE.md, "Verification"):

* ``correct`` — every alternative satisfies the ODE and every initial condition; without
  initial conditions at least one alternative has as many *independent* arbitrary constants as
  the order (the rank of the Jacobian of ``(y, y', ..., y^(n-1))`` with respect to the constants
  at random points, so ``C1 e^{2x} + C2 e^{2x}`` has one).
* ``incomplete`` — satisfies the ODE but is not the general solution (too few independent
  constants: a particular or singular solution), or an IVP answer whose constants are still free.
* ``wrong`` — some alternative does not satisfy the ODE, or violates an initial condition, or no
  value of the free constants can meet the initial conditions.
* ``undecided`` — could not decide within the time limit, could not read the answer, or the
  answer is in letters the problem does not have and no reading of them shows it wrong.

Choices (documented here because callers depend on them):

* **Several alternatives** ("y = 0 or y = C e^x", ``y = ±sqrt(x^2 + C)``): every alternative
  must satisfy the ODE (one that does not makes the answer ``wrong``). A general family listed
  together with a singular or particular solution is ``correct`` — the extra solution is true and
  a textbook often lists it; a singular/particular solution *alone* is ``incomplete``. With
  initial conditions every alternative must meet them: "y = ±sqrt(x^2 + 4)" for ``y(0) = 2`` is
  ``wrong`` because the minus branch gives ``y(0) = -2``.
* **Unreadable answers** (garbage, code, derivatives, over-long text): verdict ``undecided``
  with ``details["error"]`` (the parser's message, position and suggestion) — "we could not read
  it" is not a claim that the mathematics is wrong. Nothing in the answer is ever evaluated:
  text goes only through :func:`tutor.parse_answer` (a whitelist grammar). An unreadable
  *problem* raises :class:`tutor.ParseError` (there is nothing to check against; the CLI exits
  with code 2).
* **Answers in letters the problem does not have** ("y = C e^{2t}" for y(x), "z = C e^{2x}" or
  "y = ..." for T(t)): read with the problem's letters (t as x, z as y) and checked. ``wrong``
  when no reading makes it a solution — it fails with the problem's letters, and as written (the
  stray letters constants) it fails or is not about the unknown at all; also ``wrong`` when no
  one-to-one reading exists and it fails as written (two stray variables; an answer about two
  other names, or about the variable). Otherwise ``undecided`` with the letters named, what the
  problem's letters would give ("with t read as x it satisfies the equation") and
  ``details["error"]``: it is not a solution as it stands, nor shown to be false mathematics.
* **Who wrote the answer** (``author="student"`` or ``"model"``) changes only the wording:
  reasons speak to a student ("your constants", "write it in terms of x") and describe a model's
  answer ("the model's answer ...", no advice to the reader).
* **Answers like "y = C e^{2x}, C = 3"**: an alternative ``constant = number`` assigns it.
  ``\\boxed{...}``, a final full stop and trailing notes (", where C is a constant", "for x > 0",
  "(C arbitrary)", ", C_1, C_2 \\in \\mathbb{R}") are dropped; from a sentence with its math in
  ``$...$`` ("The general solution is $y = C e^{2x}$.") the equations are taken; other words ("The
  solution is y = ...") make the answer unreadable rather than being read as a product of
  one-letter constants.
* **Implicit relations with several branches** (``sin(y - C) = 10x`` is y = C + arcsin(10x) or
  y = C + pi - arcsin(10x)): accepted when the curves solve the ODE on some branch, with a note.
* **Solutions on an interval**: ``y = (x + C)^2/4`` solves ``y' = sqrt(y)`` only where x > -C; a
  residual that is exactly zero on part of the real line and nonzero elsewhere (possible only
  through |.|, sqrt of a square, ...) counts as satisfying the ODE, with a note in the reason and
  ``details["domain_note"]``; for an IVP it must then hold on both sides of the initial point.
  Points where the residual is not real (a principal branch, ``((x + C)^3)^{2/3}`` for x + C < 0)
  are skipped.
* **The letter i** in an answer is the imaginary unit (``y = C1 e^{ix} + C2 e^{-ix}``) unless the
  problem uses i as a parameter; complex-valued answers are then evaluated as complex numbers.
* **Boundary value problems** (tutor/engine/methods/boundary_value.py is the reference): "no
  solution" is ``correct`` only when that method proves none (its contradiction step re-checked),
  ``wrong`` when it finds a solution or eigenvalues, ``undecided`` when it cannot tell; one member
  of a family with infinitely many solutions is ``incomplete``; an eigenvalue answer
  (``lambda_n = n^2, y_n = sin(n x), n = 1, 2, ...``) is correct when every pair solves the
  equation and the conditions for every n, no eigenfunction is zero and no eigenvalue of the
  engine's is missing (``incomplete``); a value that is not an eigenvalue is ``wrong``.
* **Piecewise answers written as cases** ("y = 1 - cos t for t < 2, ... for t >= 2",
  ``\\begin{cases}``) are read into unit steps (:func:`tutor.notation.rewrite_piecewise`) before
  anything else, and judged as distributions like any answer with steps.
* **"No constant value meets the initial conditions"** (``y = C x`` for ``y(0) = 1``) is ``wrong``;
  it is claimed only for conditions linear in the constants, otherwise the answer is
  ``incomplete`` (constants still free).

How: the work runs in a worker process (:func:`tutor.bounded.run_bounded`; Gradio handlers run
in threads, where SIGALRM does not work), and inside the worker each stage has its own share of
the time limit (an interval timer — the worker runs tasks in its main thread), so a pathological
simplification gives way to the numeric check instead of eating the whole budget.

* explicit ``y = f(x)``: substitute, then a cheap exact simplification; then numeric evaluation
  at random real points (x and the constants random; 30 significant digits): a residual clearly
  nonzero at a real point where everything is finite disproves the answer; if it vanishes at all
  points a stronger simplification is tried for a symbolic proof, and when that is inconclusive
  the numeric agreement is accepted (``details["method"] = "numeric"``);
* implicit ``F(x, y) = G(x, y)``: with ``H = F - G``, ``y' = -H_x/H_y`` and higher derivatives by
  the total derivative ``D = d/dx + y' d/dy``; substituted into the ODE this gives a residual
  R(x, y, C). If R still depends on a constant, the constant is eliminated by solving ``H = 0``
  for it (so the condition is "d/dx of C(x, y) vanishes along the ODE"); otherwise points on the
  curves are found numerically;
* all symbols are real, and ``(ln|u|)' = u'/u`` exactly (see :func:`_d`), so ``ln|x|`` and
  ``ln x`` are both accepted.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import mpmath
import sympy

from tutor.bounded import SymbolicBusy, SymbolicTimeout, WorkerCrashed, run_bounded
from tutor.errors import ParseError
from tutor.notation import rewrite_piecewise
from tutor.parser import MAX_ANSWER_CHARS, parse, parse_answer, parse_eigen_answer
from tutor.plaintext import KNOWN_WORDS
from tutor.problem import (Answer, InitialCondition, Problem, conditions_at_several_points, latex, looks_heavy,
                           textbook_latex)
from tutor.system import SystemProblem, parse_system_answer
from tutor.system import prepare as system_prepare

VERDICTS = ("correct", "incomplete", "wrong", "undecided")
DEFAULT_TIMEOUT = float(os.environ.get("TUTOR_CHECK_TIMEOUT", "10"))
# Seconds kept back from the worker's budget for pickling and start-up, so the worker can
# still answer "undecided" itself (with what it found so far) before the hard kill.
_MARGIN = 0.3
_VARIABLE_NAMES = {"x", "t", "s", "r", "u", "v", "w", "z", "theta", "tau"}


@dataclass(frozen=True)
class Verdict:
    """The result of a check: ``verdict`` in VERDICTS, ``reason`` in words with LaTeX in ``$...$``.

    ``details`` (all JSON-serialisable): ``method`` ("symbolic" or "numeric"), ``residual``
    (LaTeX), ``failed_condition`` (LaTeX), ``constants_expected`` / ``constants_found``,
    ``constants`` (names), ``error`` (for unreadable answers), ``elapsed_s``.
    """

    verdict: str
    reason: str
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")

    @property
    def ok(self) -> bool:
        return self.verdict == "correct"

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reason": self.reason, "details": dict(self.details)}


# ---------------------------------------------------------------------------
# Public entry point (runs in the caller's process and thread)


def check(problem_or_text: Problem | str, answer: Answer | str | sympy.Eq | Sequence[sympy.Eq] | sympy.Expr,
          timeout: float | None = None, *, author: str = "student") -> Verdict:
    """Judge ``answer`` as a solution of ``problem_or_text`` within ``timeout`` seconds.

    The default limit is 10 s (``TUTOR_CHECK_TIMEOUT`` overrides it).

    ``answer`` is the student's text (plain or LaTeX), an :class:`Answer`, one SymPy ``Eq`` in
    ``y(x)``, a list of them, or an expression meaning ``y = expr``. Raises ParseError only when
    the *problem* text cannot be read; an unreadable answer gives an ``undecided`` Verdict.
    Raises :class:`tutor.bounded.SymbolicBusy` when every symbolic worker is taken and the line
    is full (nothing was judged; the app says "busy, try again in N s").

    ``author`` says who wrote the answer, for the wording of the reason: ``"student"`` (the
    reason speaks to them: "your constants", "write it in terms of x") or ``"model"`` ("the
    model's answer ...", no advice addressed to the reader).  The verdict never depends on it.
    """
    if author not in AUTHORS:
        raise ValueError(f"author must be one of {AUTHORS}, not {author!r}")
    voice = _Voice(author)
    started = time.monotonic()
    limit = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    problem = problem_or_text if isinstance(problem_or_text, (Problem, SystemProblem)) else parse(problem_or_text)
    if isinstance(problem, SystemProblem):
        return _check_system(problem, answer, voice, limit, started)

    def budget() -> float:
        return max(0.05, limit - (time.monotonic() - started))

    try:
        claim, families = _claim(answer, problem) if isinstance(answer, str) else ("", ())
    except ParseError as exc:
        return _finish(Verdict("undecided", voice.unreadable(exc), {"error": exc.to_dict()}), started)
    if claim:  # "no solution", or "lambda_n = n^2, y_n = sin(n x), n = 1, 2, ..."
        known = {problem.variable, *problem.parameters, *(f.index for f in families)}
        constants = sorted({s for f in families for e in (f.value, f.function) if e is not None
                            for s in e.free_symbols} - known, key=lambda s: s.name)
        result = _run_bounded_check(problem, Answer((), tuple(constants), (), answer), voice, budget(), limit,
                                    claim=claim, eigen=families)
        return _finish(Verdict(result["verdict"], result["reason"], result["details"]), started)
    try:
        ans = _as_answer(answer, problem)
    except ParseError as exc:
        return _finish(Verdict("undecided", voice.unreadable(exc), {"error": exc.to_dict()}), started)
    early = _precheck(ans, problem, voice)
    if isinstance(early, Verdict):
        return _finish(early, started)

    if isinstance(early, _Foreign):
        result = _judge_foreign(early, lambda a: _run_bounded_check(problem, a, voice, budget(), limit), voice)
    else:
        result = _run_bounded_check(problem, ans, voice, budget(), limit)
    reason = result["reason"]
    if result["verdict"] == "wrong" and isinstance(answer, str):
        reason += _exponent_hint(answer, voice)
    return _finish(Verdict(result["verdict"], reason, result["details"]), started)


def _run_bounded_check(problem: Problem, ans: Answer, voice: "_Voice", budget: float, limit: float,
                       claim: str = "", eigen: tuple = ()) -> dict:
    """The worker's verdict dict for ``ans`` (or for ``claim``: "no_solution", "eigen" with the
    answer's ``eigen`` families), or an ``undecided`` one when the work did not finish."""
    task = _Task.build(problem, ans, voice.author, claim, eigen)
    try:
        if _inside_worker():
            # Already in a worker process (e.g. the engine verifying its own answer inside
            # run_bounded): run here, bounded by the interval timer of this main thread.
            return _run_task(task, budget)
        return run_bounded(_run_task, task, max(0.05, budget - _MARGIN), timeout=budget,
                           heavy=problem.heavy or looks_heavy(*ans.solutions))
    except SymbolicBusy:  # nothing was judged: the caller says "busy, try again", never a verdict
        raise
    except SymbolicTimeout:
        return {"verdict": "undecided",
                "reason": f"I could not decide within the time limit ({limit:g} s).",
                "details": {"timed_out": True}}
    except WorkerCrashed as exc:
        return {"verdict": "undecided", "reason": f"The symbolic worker stopped ({exc}); no verdict.",
                "details": {"crashed": True}}
    except Exception as exc:  # a bug or an unforeseen SymPy error: say so, never guess
        return {"verdict": "undecided", "reason": "The check failed with an internal error; no verdict.",
                "details": {"internal_error": f"{type(exc).__name__}: {exc}"}}


AUTHORS = ("student", "model")
# The clause of a parser message that tells the reader what to type ("...: write only the formula").
_ADVICE = re.compile(r"\s*[:;,]\s*(?:write|type|use|put|check)\b.*$", re.DOTALL)


@dataclass(frozen=True)
class _Voice:
    """How a reason names the answer: to the student who wrote it, or about the model's answer."""

    author: str = "student"

    @property
    def model(self) -> bool:
        return self.author == "model"

    @property
    def answer(self) -> str:
        """"the answer" / "the model's answer" (in a sentence)."""
        return "the model's answer" if self.model else "the answer"

    @property
    def subject(self) -> str:
        """The same, opening a sentence."""
        return self.answer[:1].upper() + self.answer[1:]

    @property
    def your(self) -> str:
        return "the model's" if self.model else "your"

    @property
    def yours(self) -> str:
        return "the model's answer" if self.model else "yours"

    def advice(self, text: str) -> str:
        """``": " + text`` for the student; nothing for a model (no one to advise)."""
        return "" if self.model else f": {text}"

    def unreadable(self, exc: ParseError) -> str:
        if not self.model:
            return f"I could not read the answer: {exc}"
        where = f" (at position {exc.position})" if exc.position is not None else ""
        return f"I could not read the model's answer: {_ADVICE.sub('', exc.message)}{where}."


_LOOSE_EXPONENT = re.compile(r"([A-Za-z0-9)])\^(-?\d+)([A-Za-z])")


def _exponent_hint(text: str, voice: "_Voice" = _Voice()) -> str:
    """``e^2x`` is e^2 times x (README: exponents bind tightly); say so when the answer is wrong."""
    m = _LOOSE_EXPONENT.search(text)
    if not m:
        return ""
    base, power, letter = m.groups()
    if voice.model:
        return f" (Note: `{m.group(0)}` is read as ${base}^{{{power}}} {letter}$, not ${base}^{{{power}{letter}}}$.)"
    return (f" (Note: `{m.group(0)}` is read as ${base}^{{{power}}} {letter}$; write `{base}^{{{power}{letter}}}` "
            f"if the exponent is ${power}{letter}$.)")


def _finish(v: Verdict, started: float) -> Verdict:
    details = dict(v.details)
    details["elapsed_s"] = round(time.monotonic() - started, 4)
    return Verdict(v.verdict, v.reason, details)


def _inside_worker() -> bool:
    from pebble.pool.process import WORKERS_NAME

    return multiprocessing.current_process().name == WORKERS_NAME


def read_answer(text: str, problem: Problem | SystemProblem) -> Answer:
    """``text`` read as the checker reads an answer: wrapping tidied away (``\\boxed{...}``, a
    sentence around the formula, "where C is a constant"), prose refused, every arbitrary constant
    found, ``C = 3`` assignments applied.  Raises ParseError.  The app shows a model's final
    answer in this form (tutor/render.py), so what is shown is what was checked."""
    if isinstance(problem, SystemProblem):
        return _as_system_answer(text, problem)
    return _as_answer(text, problem)


_NO_SOLUTION = re.compile(r"(?:(?:the\s+)?(?:boundary\s+value\s+problem|bvp|problem|it)\s+has\s+|there\s+(?:is|are|exists?)\s+)?"
                          r"no\s+(?:such\s+)?solutions?(?:\s+exists?)?(?:\s+at\s+all)?|none|∅|\\emptyset|\\varnothing|\\nexists",
                          re.IGNORECASE)


def read_claim(text: str, problem: Problem) -> tuple[str, tuple]:
    """What an answer that is not an equation claims: ("no_solution", ()), ("eigen", families of
    :class:`tutor.parser.EigenFamily`) or ("", ()) for an ordinary answer.  Raises ParseError for an
    eigenvalue answer with a piece that cannot be read.  The app's preview shows it (app.py)."""
    return _claim(text, problem)


def _claim(text: str, problem: Problem) -> tuple[str, tuple]:
    """("no_solution", ()) for "no solution" (in words, ``\\text{No solution.}``, ``\\emptyset``),
    ("eigen", families) for an eigenvalue answer (:func:`tutor.parser.parse_eigen_answer`), else ("", ())."""
    plain = re.sub(r"\\(?:text|mathrm|mbox|textbf)\s*\{([^{}]*)\}", r"\1", text)
    plain = re.sub(r"\\boxed\s*\{(.*)\}", r"\1", plain, flags=re.DOTALL)
    plain = re.sub(r"\s+", " ", plain.replace("$", " ")).strip().rstrip(".!").strip()
    if _NO_SOLUTION.fullmatch(plain):
        return "no_solution", ()
    # an eigenvalue answer only where one can be meant: one parameter, second order, homogeneous
    # conditions at two points (no algebra here; the worker checks the rest)
    if len(problem.parameters) == 1 and problem.order == 2 and all(ic.value == 0 for ic in problem.ics) \
            and conditions_at_several_points(ic.point for ic in problem.ics):
        families = parse_eigen_answer(text, problem)
        if families:
            return "eigen", families
    return "", ()


def _as_answer(answer: Any, problem: Problem) -> Answer:
    """Normalise every accepted answer form to an Answer in ``problem.function(problem.variable)``."""
    if isinstance(answer, Answer):
        ans = answer
    elif isinstance(answer, str):
        # "y = 1 - cos t for t < 2, ... for t >= 2" before _tidy takes "for t < 2" for a qualifier
        text = _tidy(rewrite_piecewise(answer, "\\" in answer)[0])
        _reject_prose(text)
        ans = parse_answer(text, problem)
    else:
        items = list(answer) if isinstance(answer, (list, tuple)) else [answer]
        solutions = []
        for item in items:
            if isinstance(item, sympy.Eq):
                solutions.append(item)
            elif isinstance(item, sympy.Expr):
                solutions.append(sympy.Eq(problem.unknown, item, evaluate=False))
            else:
                raise ParseError(f"an answer must be text, an Answer or SymPy equations, not {type(item).__name__}")
        if not solutions:
            raise ParseError("the answer is empty")
        ans = Answer(solutions=tuple(solutions), constants=())
    # Constants: what the Answer says, plus any free symbol that is neither the variable nor a
    # parameter (a programmatic Answer may leave ``constants`` empty).
    known = {problem.variable, *problem.parameters}
    constants = list(ans.constants)
    for eq in ans.solutions:
        for s in sorted(eq.free_symbols, key=lambda s: s.name):
            if s not in known and s not in constants:
                constants.append(s)
    if "i" not in {p.name for p in problem.parameters}:
        # "y = C1 e^{ix} + C2 e^{-ix}": the parser reads i as a letter; here it is the imaginary unit
        # (unless the problem itself uses i as a parameter).
        unit = next((c for c in constants if c.name == "i"), None)
        if unit is not None:
            constants.remove(unit)
            solutions = tuple(sympy.Eq(eq.lhs.xreplace({unit: sympy.I}), eq.rhs.xreplace({unit: sympy.I}),
                                       evaluate=False) for eq in ans.solutions)
            ans = Answer(solutions, tuple(constants), ans.explicit, ans.source)
    return _apply_assignments(Answer(ans.solutions, tuple(constants), ans.explicit, ans.source), problem)


_BOXED = re.compile(r"\\boxed\s*\{")
_MATH = re.compile(r"\$\$?([^$]+?)\$\$?|\\\((.+?)\\\)", re.DOTALL)
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{4,}")
# ", where C is a constant", " for x > 0", "\quad\text{for } x \neq 0": a qualification, not the answer
_QUALIFIER = re.compile(r"(?:[,;\s]|\\quad|\\qquad|\\[,;:!])*(?:\\text\s*\{[\s,;]*)?\b(?:where|for|with|when)\b.*$",
                        re.IGNORECASE | re.DOTALL)
# Words and symbols that describe the constants ("C arbitrary", "C_1, C_2 \in R"), not the answer.
_NOTE = re.compile(r"\b(?:arbitrary|constants?|const|real)\b|\\in(?![a-z])|∈|\\neq?(?![a-z])|≠", re.IGNORECASE)
_LONE_NAME = re.compile(r"\s*[A-Za-z](?:_\{?\d+\}?|\d+)?\s*")
_QUAD = re.compile(r"\\q?quad(?![A-Za-z])")


def _strip_constant_note(text: str) -> str:
    """Drop ", C_1, C_2 \\in \\mathbb{R}", "(C arbitrary)", ", C constant" at the end of an answer."""
    text = text.rstrip().rstrip(".").rstrip()
    if text.endswith(")"):  # a final parenthesis that describes the constants
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0:
                inner = text[i + 1:-1]
                if "=" not in inner and _NOTE.search(inner):
                    text = text[:i].rstrip()
                break
    # Separators outside brackets (, ; \quad): drop trailing pieces that describe the constants,
    # and the bare constant names listed before them ("C_1, C_2 \in R").
    cuts, depth = [], 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and (ch in ",;" or _QUAD.match(text, i)):
            cuts.append(i)
    noted = False
    for cut in reversed(cuts):
        tail = _QUAD.sub("", text[cut:].lstrip(",;"))
        if "=" in tail:
            break
        if _NOTE.search(tail):
            noted = True
        elif not (noted and (not tail.strip() or _LONE_NAME.fullmatch(tail))):
            break
        text = text[:cut].rstrip()
    return text


def _tidy(text: str) -> str:
    """What students and models wrap around an answer: ``\\boxed{...}``, notes, a final full stop."""
    if len(text) > MAX_ANSWER_CHARS:
        return text  # the parser refuses it with its own message
    # "The general solution is $y = C e^{2x}$." (a model's sentence): the math with an '=' in it
    math = [a or b for a, b in _MATH.findall(text)]
    outside = _MATH.sub(" ", text)
    equations = [m for m in math if "=" in m]
    if equations and _WORD.search(outside):
        text = r" \text{ or } ".join(equations)
    m = _BOXED.search(text)
    if m:
        depth, start = 1, m.end()
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                text = text[start:i]
                break
    text = _QUALIFIER.sub("", text)
    text = _strip_constant_note(text)
    return text.rstrip().rstrip(".").rstrip()


def _reject_prose(text: str) -> None:
    """Words are not formulas: "The solution is y = ..." would otherwise read as T h e s o ... y."""
    if len(text) > MAX_ANSWER_CHARS:
        return
    for m in _WORD.finditer(text):
        word = m.group(0)
        if word.lower() not in KNOWN_WORDS and word not in KNOWN_WORDS and word not in {"boxed"}:
            raise ParseError(f"the answer contains the word '{word}': write only the formula", m.start(),
                             suggestion="e.g. y = C e^{2x}")


def _apply_assignments(ans: Answer, problem: Problem) -> Answer:
    """"y = C e^{2x}, C = 3": alternatives ``constant = number`` fix that constant in the others."""
    unknown = problem.unknown
    assigned: dict = {}
    rest = []
    for eq in ans.solutions:
        lhs, rhs = eq.lhs, eq.rhs
        if rhs in ans.constants and not lhs.has(unknown):
            lhs, rhs = rhs, lhs
        if lhs in ans.constants and not rhs.has(unknown) and not (rhs.free_symbols & set(ans.constants)) \
                and not rhs.has(problem.variable):
            assigned[lhs] = rhs
        else:
            rest.append(eq)
    if not assigned or not rest:
        return ans
    solutions = tuple(sympy.Eq(eq.lhs.xreplace(assigned), eq.rhs.xreplace(assigned), evaluate=False)
                      for eq in rest)
    constants = tuple(c for c in ans.constants if c not in assigned)
    return Answer(solutions, constants, (), ans.source)


@dataclass(frozen=True)
class _Foreign:
    """An answer in letters the problem does not have ("y = C e^{2t}" for y(x), "z = ..." for y).

    ``mapped`` is the answer with those letters read as the problem's (None when no one-to-one
    reading exists: two stray variables, an unknown named after the variable); ``as_written``
    the answer with stray variables read as constants (None when, as written, it is not about
    the unknown at all and so cannot be a solution).
    """

    note: str           # "The answer is written in $t$, but the unknown is $y(x)$"
    advice: str         # "write it in terms of $x$" (for the student)
    reading: str        # "with $t$ read as $x$"
    mapped: Answer | None
    as_written: Answer | None
    letters: dict       # {"t": "x"}: the one-to-one reading, where there is one
    strays: tuple[str, ...] = ()  # variables the problem does not have ("t", "s")


def _precheck(ans: Answer, problem: Problem, voice: _Voice = _Voice()) -> Verdict | _Foreign | None:
    """Cheap structural problems that need no algebra: the unknown missing, letters the problem lacks."""
    unknown, var = problem.unknown, problem.variable
    name = str(problem.function)
    params = set(problem.parameters)
    # Another name for the unknown: "z = C e^{2x}" for y, "y = 20 + C e^{-kt}" for T(t).
    function_names = []
    for eq in ans.solutions:
        if eq.has(unknown):
            continue
        others = [str(a.func) for a in eq.atoms(sympy.core.function.AppliedUndef)]
        others += [side.name for side in (eq.lhs, eq.rhs) if isinstance(side, sympy.Symbol)
                   and side.name in _VARIABLE_NAMES | {"y", "f", "g", "h"} and side not in params]
        if not others:
            return Verdict("wrong", f"${sympy.latex(eq)}$ does not involve ${name}$, so it does not "
                           f"describe a solution ${name}({var})$.", {"solution": sympy.latex(eq)})
        function_names.append(others[0])
    renamed = sorted(set(function_names))
    solutions = ans.solutions
    if renamed:
        other = sympy.Symbol(renamed[0])
        if len(renamed) > 1 or other == var or any(eq.has(unknown) and eq.has(other) for eq in solutions):
            shown = " and ".join(f"${n}$" for n in renamed)
            return Verdict("wrong", f"{voice.subject} is about {shown}, but the unknown is ${name}({var})$, "
                           f"so it does not describe a solution ${name}({var})$.",
                           {"foreign": renamed, "solutions": [sympy.latex(eq) for eq in solutions]})

        def rename(expr: sympy.Expr) -> sympy.Expr:
            expr = expr.replace(lambda e: isinstance(e, sympy.core.function.AppliedUndef)
                                and str(e.func) == other.name, lambda e: unknown)
            return expr.xreplace({other: unknown})

        solutions = tuple(sympy.Eq(rename(eq.lhs), rename(eq.rhs), evaluate=False) for eq in solutions)
    constants = [c for c in ans.constants if c.name not in renamed]
    # y(x) itself contains x: look for the variable outside the unknown.
    placeholder = sympy.Dummy("unknown")
    uses_variable = any(eq.xreplace({unknown: placeholder}).has(var) for eq in solutions)
    strangers = [] if uses_variable else [c for c in constants if c.name in _VARIABLE_NAMES and c.name != name]
    if not renamed and not strangers:
        return None
    parts, readings, letters = [], [], {}
    advice = f"write it as ${name} = \\dots$" if renamed else "write it"
    if renamed:
        parts.append(f"about ${renamed[0]}$")
        readings.append(f"${renamed[0]}$ read as ${name}$")
        letters[renamed[0]] = name
    if strangers:
        parts.append("written in " + " and ".join(f"${c}$" for c in strangers))
        advice += f" in terms of ${var}$"
        if len(strangers) == 1:
            readings.append(f"${strangers[0]}$ read as ${var}$")
            letters[strangers[0].name] = var.name
    note = f"{voice.subject} is {' and '.join(parts)}, but the unknown is ${name}({var})$"
    mapped = None
    if len(strangers) <= 1:
        to_var = {strangers[0]: var} if strangers else {}
        mapped = Answer(tuple(sympy.Eq(eq.lhs.xreplace(to_var), eq.rhs.xreplace(to_var), evaluate=False)
                              for eq in solutions), tuple(c for c in constants if c not in to_var), (), ans.source)
    return _Foreign(note=note, advice=advice, reading="with " + " and ".join(readings),
                    mapped=mapped, as_written=None if renamed else ans, letters=letters,
                    strays=tuple(c.name for c in strangers))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _judge_foreign(foreign: _Foreign, run: Callable[[Answer], dict], voice: _Voice) -> dict:
    """A verdict for an answer in letters the problem does not have.

    ``wrong`` when no reading makes it a solution (read with the problem's letters it fails, and
    as written it fails or is not about the unknown at all); otherwise ``undecided`` — the
    answer is not in the problem's letters, so it is not a solution as it stands, but neither is
    it shown to be false mathematics — with what the problem's letters would give.
    """
    details = {"foreign_letters": foreign.letters}
    error = {"error": foreign.note.replace("$", ""), "position": None, "suggestion": foreign.advice or None}
    mapped = run(foreign.mapped) if foreign.mapped is not None else None
    if mapped is not None and mapped["verdict"] != "wrong":
        if mapped["verdict"] in ("correct", "incomplete"):
            found = f" ({foreign.reading} it satisfies the equation)."
        else:  # undecided: its reason is a whole sentence
            found = f"; {foreign.reading}, {_lower_first(mapped['reason'])}"
        return {"verdict": "undecided", "reason": f"{foreign.note}{voice.advice(foreign.advice)}{found}",
                "details": {**details, "error": error}}
    written = run(foreign.as_written) if foreign.as_written is not None else None
    if written is not None and written["verdict"] != "wrong":
        return {"verdict": "undecided", "reason": f"{foreign.note}{voice.advice(foreign.advice)}.",
                "details": {**details, "error": error}}
    if mapped is not None:
        return {"verdict": "wrong",
                "reason": f"{foreign.note}, and {foreign.reading} it is still not a solution: "
                          f"{_lower_first(mapped['reason'])}",
                "details": {**mapped["details"], **details}}
    if written is None:  # not about the unknown as written, and no one-to-one reading in its letters
        return {"verdict": "wrong", "reason": f"{foreign.note}, so it does not describe a solution.",
                "details": details}
    strays = " and ".join(f"${n}$" for n in foreign.strays)
    return {"verdict": "wrong",
            "reason": f"{foreign.note}, and with {strays} as constants it is not a solution: "
                      f"{_lower_first(written['reason'])}",
            "details": {**written["details"], **details}}


# ---------------------------------------------------------------------------
# What travels to the worker


@dataclass(frozen=True)
class _Task:
    """Everything the worker needs, as picklable SymPy objects (no cached Problem state)."""

    expr: sympy.Expr
    lhs: sympy.Expr
    rhs: sympy.Expr
    function: Any
    variable: sympy.Symbol
    order: int
    ics: tuple[tuple[int, sympy.Expr, sympy.Expr], ...]
    parameters: tuple[sympy.Symbol, ...]
    solutions: tuple[sympy.Eq, ...]
    constants: tuple[sympy.Symbol, ...]
    seed: int
    author: str = "student"  # who wrote the answer: the wording of reasons (_Voice)
    claim: str = ""  # "no_solution" or "eigen" (the answer is a statement, not equations)
    eigen: tuple = ()  # tutor.parser.EigenFamily items of an "eigen" claim

    @classmethod
    def build(cls, problem: Problem, ans: Answer, author: str = "student", claim: str = "",
              eigen: tuple = ()) -> "_Task":
        # A fixed seed per (problem, answer) makes every verdict reproducible.
        key = (f"{problem.equation}|{problem.ics}|{ans.solutions}" + (f"|{claim}|{eigen}" if claim else "")).encode()
        seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
        return cls(problem.expr, problem.equation.lhs, problem.equation.rhs, problem.function,
                   problem.variable, problem.order,
                   tuple((ic.order, ic.point, ic.value) for ic in problem.ics), problem.parameters,
                   ans.solutions, ans.constants, seed, author, claim, tuple(eigen))

    def problem(self) -> Problem:
        """The problem again (for the engine's boundary value method inside the worker)."""
        return Problem(sympy.Eq(self.lhs, self.rhs, evaluate=False), self.function, self.variable,
                       tuple(InitialCondition(o, p, v) for o, p, v in self.ics), self.parameters)


# ---------------------------------------------------------------------------
# Time inside the worker


class _OutOfTime(BaseException):
    """The whole check's budget is spent. BaseException: SymPy code has ``except Exception``."""


class _StageTimeout(BaseException):
    """One stage's share of the budget is spent; the check moves on to the next method."""


class _Clock:
    """The overall deadline plus per-stage limits via an interval timer (main thread only)."""

    def __init__(self, budget: float):
        self.end = time.monotonic() + budget
        self.timer = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def left(self) -> float:
        return self.end - time.monotonic()

    def ensure(self) -> None:
        if self.left() <= 0:
            raise _OutOfTime()

    @contextmanager
    def stage(self, seconds: float) -> Iterator[None]:
        """Run the block for at most ``seconds`` (and never past the deadline); raise _StageTimeout."""
        allowed = min(seconds, self.left())
        if allowed <= 0.005:
            raise _OutOfTime() if self.left() <= 0.005 else _StageTimeout()
        if not self.timer:
            yield
            return

        def _fire(signum: int, frame: Any) -> None:
            raise _StageTimeout()

        previous = signal.signal(signal.SIGALRM, _fire)
        signal.setitimer(signal.ITIMER_REAL, allowed)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def attempt(self, fn: Callable[..., Any], *args: Any, seconds: float) -> tuple[bool, Any]:
        """(True, fn(*args)) or (False, None) when the stage ran out of time; _OutOfTime if all did."""
        try:
            with self.stage(seconds):
                return True, fn(*args)
        except _StageTimeout:
            self.ensure()
            return False, None
        except (Exception, RecursionError):
            # SymPy raises many kinds of errors on inputs it cannot handle (PolynomialError,
            # NotImplementedError, CoercionFailed, ...): each means "this method gave no result".
            # Our own timeouts are BaseExceptions and pass through.
            return False, None


# ---------------------------------------------------------------------------
# Numbers


_TOL = 1e-15  # relative difference below which two evaluated values count as equal (30 digits)
_DIGITS = 30


#: Special functions evaluated by mpmath directly (:func:`_mp_value`): SymPy's ``evalf`` of a
#: residual in Bessel functions took 1-5 s per point (its adaptive precision chasing a value that
#: is exactly 0), mpmath a few milliseconds.
_MP_SPECIAL = {
    sympy.besselj: mpmath.besselj, sympy.bessely: mpmath.bessely, sympy.besseli: mpmath.besseli,
    sympy.besselk: mpmath.besselk, sympy.airyai: mpmath.airyai, sympy.airybi: mpmath.airybi,
    sympy.airyaiprime: lambda z: mpmath.airyai(z, derivative=1),
    sympy.airybiprime: lambda z: mpmath.airybi(z, derivative=1),
    sympy.erf: mpmath.erf, sympy.erfi: mpmath.erfi, sympy.Ei: mpmath.ei, sympy.gamma: mpmath.gamma,
}
_MP_ELEMENTARY = {
    sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.sin: mpmath.sin, sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan, sympy.sinh: mpmath.sinh, sympy.cosh: mpmath.cosh, sympy.tanh: mpmath.tanh,
    sympy.asin: mpmath.asin, sympy.acos: mpmath.acos, sympy.atan: mpmath.atan, sympy.Abs: abs,
}


class _NotMpmath(Exception):
    pass


def _mp_value(expr: sympy.Expr, subs: dict, digits: int):
    """``expr`` at ``subs`` evaluated by mpmath (a walk over the tree: no generated code), at ``digits``."""
    def ev(e):
        if e.is_Symbol:
            if e not in subs:
                raise _NotMpmath(e)
            return ev(sympy.sympify(subs[e]))
        if e.is_Integer:
            return mpmath.mpf(int(e))
        if e.is_Rational:
            return mpmath.mpf(int(e.p)) / int(e.q)
        if e is sympy.pi:
            return mpmath.pi
        if e is sympy.E:
            return mpmath.e
        if e is sympy.I:
            return mpmath.mpc(0, 1)
        if e.is_Float:
            return mpmath.mpf(e._to_mpmath(mpmath.mp.prec))
        if e.is_Add:
            return mpmath.fsum(ev(a) for a in e.args)
        if e.is_Mul:
            out = mpmath.mpf(1)
            for a in e.args:
                out *= ev(a)
            return out
        if e.is_Pow:
            return mpmath.power(ev(e.base), ev(e.exp))
        f = _MP_SPECIAL.get(e.func) or _MP_ELEMENTARY.get(e.func)
        if f is None:
            raise _NotMpmath(e.func)
        return f(*(ev(a) for a in e.args))

    with mpmath.workdps(digits + 10):
        return mpmath.mpc(ev(expr))


def _num(expr: sympy.Expr, subs: dict, digits: int = _DIGITS) -> mpmath.mpc | None:
    """The value of ``expr`` at ``subs``, or None where it is not finite.

    An mpmath number, not a Python float: (x + C)^5000 at |x + C| < 1 is about 1e-300 or smaller,
    which a float would round to 0 (a false "zero residual") or to inf.  An expression with a
    special function (Bessel, Airy ...) is evaluated by mpmath directly (:func:`_mp_value`).
    """
    if expr.atoms(*_MP_SPECIAL):
        try:
            z = _mp_value(expr, subs, digits)
            if mpmath.isfinite(z.real) and mpmath.isfinite(z.imag):
                return z
            return None
        except (_NotMpmath, ValueError, TypeError, ZeroDivisionError, ArithmeticError, OverflowError):
            pass  # SymPy's evalf below
    try:
        v = expr.evalf(digits, subs=subs)
        if v.free_symbols or v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return None
        if v.is_Number:
            re, im = v, sympy.Integer(0)
        else:
            re, im = v.as_real_imag()
            if re.free_symbols or im.free_symbols or not (re.is_Number and im.is_Number):
                return None
        bits = max(53, int(digits * 3.33))
        z = mpmath.mpc(re._to_mpmath(bits), im._to_mpmath(bits))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, AttributeError, RecursionError,
            NotImplementedError, OverflowError):
        return None
    if not (mpmath.isfinite(z.real) and mpmath.isfinite(z.imag)):
        return None
    return z


def _real(expr: sympy.Expr, subs: dict) -> mpmath.mpf | None:
    """The value when it is real and finite (a tiny imaginary round-off is dropped), else None."""
    z = _num(expr, subs)
    if z is None or abs(z.imag) > 1e-20 * (1 + abs(z.real)):
        return None
    return z.real


def _random_value(rng: random.Random, kind: str) -> sympy.Rational:
    """Exact random rationals (evalf then rounds once): away from 0 and from special values."""
    if kind == "parameter":
        return sympy.Rational(rng.randint(300, 2000), 1000)
    if kind == "x":
        # Mostly moderate values, some tiny ones (a domain such as |x| < 0.1 for arcsin(10x)) and
        # some large ones (sqrt(x - 5)).
        draw = rng.random()
        if draw < 0.2:
            value = 10 ** rng.uniform(-2.5, -0.7)
        elif draw < 0.85:
            value = rng.uniform(0.2, 2.5)
        else:
            value = rng.uniform(2.5, 12.0)
        sign = -1 if rng.random() < 0.3 else 1
        return sympy.Rational(sign * round(value * 10**6), 10**6)
    else:  # a constant or a value of y
        magnitude = rng.randint(300, 2000) if rng.random() < 0.7 else rng.randint(2000, 5000)
    sign = -1 if rng.random() < 0.4 else 1
    return sympy.Rational(sign * magnitude, 1000)


# ---------------------------------------------------------------------------
# The worker


class _Context:
    """The problem in real symbols, the random source, and how to write things for the student."""

    def __init__(self, task: _Task, clock: _Clock):
        self.task = task
        self.clock = clock
        self.rng = random.Random(task.seed)
        self.X = sympy.Symbol(task.variable.name, real=True)
        self.Y = sympy.Symbol(task.function.__name__, real=True)
        self.params = {p: sympy.Symbol(p.name, real=True) for p in task.parameters}
        self.consts = {c: sympy.Symbol(c.name, real=True) for c in task.constants}
        self.base_map = {task.variable: self.X, **self.params, **self.consts}
        self.unknown = task.function(self.X)
        self.ode = task.expr.xreplace(self.base_map)
        self.n = task.order
        self.C = [self.consts[c] for c in task.constants]
        self.P = list(self.params.values())
        self.voice = _Voice(task.author)

    def real_form(self, expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(self.base_map)

    def random_point(self, with_y: bool = False) -> dict:
        point = {self.X: _random_value(self.rng, "x")}
        for c in self.C:
            point[c] = _random_value(self.rng, "constant")
        for p in self.P:
            point[p] = _random_value(self.rng, "parameter")
        if with_y:
            point[self.Y] = _random_value(self.rng, "constant")
        return point

    def tex(self, expr: sympy.Expr) -> str:
        """LaTeX with y', y'' for derivatives, and short enough to show."""
        text = textbook_latex(expr, self.task.function, self.X)
        if len(text) <= 400:
            return text
        # Cutting the string could break a \left( ... \right) pair: keep whole terms instead.
        if isinstance(expr, sympy.Add):
            shown = ""
            for term in expr.args:
                piece = textbook_latex(term, self.task.function, self.X)
                if len(shown) + len(piece) > 300:
                    return (shown or r"\dots") + r" + \dots"
                if not shown:
                    shown = piece
                elif piece.startswith("-"):
                    shown += " " + piece
                else:
                    shown += " + " + piece
            return shown
        return r"\text{(a long expression)}"

    @property
    def ode_tex(self) -> str:
        """The equation as "left side minus right side", highest derivative first (y'' - 3y' + 2y)."""
        expr = self.real_form(self.task.lhs - self.task.rhs)
        marks = {}
        for d in expr.atoms(sympy.Derivative):
            marks[d] = sympy.Symbol(latex(self.Y) + "'" * d.derivative_count)
        marks[self.unknown] = self.Y
        orders = {m: d.derivative_count for d, m in marks.items() if isinstance(d, sympy.Derivative)}

        def key(term: sympy.Expr) -> tuple:
            top = max((orders.get(s, 0) for s in term.free_symbols), default=0)
            return (-top, -int(term.has(self.Y)), sympy.default_sort_key(term))

        terms = sorted(sympy.Add.make_args(expr.xreplace(marks)), key=key)
        text = latex(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " - " + latex(-term)
            else:
                text += " + " + latex(term)
        return text


def _run_task(task: _Task, budget: float) -> dict:
    """Module-level worker entry: the verdict as a plain dict (picklable)."""
    clock = _Clock(budget)
    ctx = _Context(task, clock)
    try:
        return _judge(ctx)
    except _OutOfTime:
        return {"verdict": "undecided",
                "reason": f"I could not decide within the time limit ({budget + _MARGIN:.3g} s).",
                "details": {"timed_out": True}}
    except _StageTimeout:  # a timer that fired between stages: treat as out of time
        return {"verdict": "undecided", "reason": "I could not decide within the time limit.",
                "details": {"timed_out": True}}


@dataclass
class _Outcome:
    """What was found for one alternative."""

    status: str  # "satisfies", "fails", "undecided"
    method: str | None = None
    residual: str | None = None
    note: str | None = None
    rank: int | None = None
    explicit: bool = True
    f: sympy.Expr | None = None  # y = f(x) for explicit alternatives
    H: sympy.Expr | None = None  # H(x, y) = 0 for implicit ones
    constants: list = field(default_factory=list)
    partial: str | None = None  # satisfied on part of the domain only: a point where it is not
    residual_expr: sympy.Expr | None = None


def _judge(ctx: _Context) -> dict:
    task = ctx.task
    if task.claim == "no_solution":
        return _judge_no_solution(ctx)
    if task.claim == "eigen":
        return _judge_eigen(ctx)
    if any(eq.has(sympy.Order) for eq in task.solutions):
        return _judge_series(ctx)
    outcomes: list[_Outcome] = []
    for eq in task.solutions:
        lhs, rhs = ctx.real_form(eq.lhs), ctx.real_form(eq.rhs)
        if rhs == ctx.unknown and not lhs.has(ctx.unknown):
            lhs, rhs = rhs, lhs
        if lhs == ctx.unknown and not rhs.has(ctx.unknown):
            outcome = _check_explicit(ctx, rhs)
        else:
            outcome = _check_implicit(ctx, (lhs - rhs).xreplace({ctx.unknown: ctx.Y}))
        outcomes.append(outcome)
        if outcome.status == "fails":
            break  # one false alternative makes the answer wrong: no need to look further
    sol_tex = [ctx.tex(ctx.real_form(eq)) for eq in task.solutions]
    details: dict = {"solutions": sol_tex}
    methods = sorted({o.method for o in outcomes if o.method})
    details["method"] = "numeric" if "numeric" in methods else (methods[0] if methods else None)
    many = len(task.solutions) > 1

    for i, o in enumerate(outcomes):
        if o.status == "fails":
            which = f"The solution ${sol_tex[i]}$ does not satisfy the equation: " if many else ""
            details["residual"] = o.residual
            if o.residual is None:  # a structural failure, described in full by the note
                reason = f"{which}{o.note}"
            elif o.explicit:
                reason = (f"{which}substituting it gives ${ctx.ode_tex} = {o.residual}$, not $0$."
                          if which else f"Substituting {ctx.voice.answer} gives ${ctx.ode_tex} = {o.residual}$, not $0$.")
            else:
                reason = (f"{which or ctx.voice.subject + ' does not satisfy the equation: '}"
                          f"{o.note or ''}${ctx.ode_tex} = {o.residual}$, not $0$.")
            return {"verdict": "wrong", "reason": reason, "details": details}
    for i, o in enumerate(outcomes):
        if o.status == "undecided":
            details["note"] = o.note
            what = f"whether ${sol_tex[i]}$ satisfies the equation" if many else \
                f"whether {ctx.voice.answer} satisfies the equation"
            return {"verdict": "undecided", "reason": f"I could not decide {what}: {o.note}",
                    "details": details}

    # Every alternative satisfies the ODE: now constants and initial conditions.
    names = sorted({c.name for o in outcomes for c in o.constants})
    partial = next((o.partial for o in outcomes if o.partial), None)
    domain = ""
    if partial:
        details["domain_note"] = f"fails {partial}".replace("$", "")
        domain = f" It holds on an interval, not on the whole real line (it fails {partial}), as a solution may."
    details["constants"] = names
    details["constants_expected"] = 0 if task.ics else ctx.n
    for o in outcomes:
        if o.rank is None and task.ics:
            # Could not evaluate the Jacobian: named constants count as free (an IVP answer must
            # not have any), which is what "incomplete" then says.
            o.rank = len(o.constants)
    details["constants_found"] = max((o.rank or 0) for o in outcomes)
    if task.ics:
        return _judge_ivp(ctx, outcomes, sol_tex, details)
    best = max((o.rank or 0) for o in outcomes)
    if best < ctx.n and any(o.rank is None for o in outcomes):
        return {"verdict": "undecided",
                "reason": "It satisfies the equation, but I could not count its independent constants "
                          "(no point where the family is defined could be evaluated)." + domain,
                "details": details}
    if best >= ctx.n:
        combined = ""
        named = max(len(o.constants) for o in outcomes)
        if named > best:
            combined = f" ({ctx.voice.your} {named} constants combine into {best} independent one{'s' if best > 1 else ''})"
        return {"verdict": "correct",
                "reason": f"It satisfies the equation and has {best} independent arbitrary "
                          f"constant{'s' if best != 1 else ''}{combined}: this is the general solution."
                          + domain,
                "details": details}
    named = max(len(o.constants) for o in outcomes)
    extra = ""
    if named > best:
        extra = f" ({named} named, but they combine into {best})"
    kind = "a particular solution" if best == 0 else "not the general solution"
    return {"verdict": "incomplete",
            "reason": f"It satisfies the equation, but it is {kind}: the general solution has {ctx.n} "
                      f"arbitrary constant{'s' if ctx.n != 1 else ''}; {ctx.voice.yours} has {best}{extra}." + domain,
            "details": details}


# ---------------------------------------------------------------------------
# Truncated series answers: y = a0 (1 + x^3/6 + ...) + a1 (x + ...) + O(x^8)


def _series_terms(expr: sympy.Expr, t: sympy.Symbol) -> dict | None:
    """``expr`` (expanded, in t) as {(exponent, log power): coefficient free of t}, or None when
    some term is not of the form ``c t^b ln^k t``."""
    out: dict = {}
    for term in sympy.Add.make_args(sympy.expand(expr)):
        if term == 0:
            continue
        coeff, rest = term.as_independent(t, as_Add=False)
        b, k = sympy.S.Zero, 0
        for factor in sympy.Mul.make_args(rest):
            base, e = factor.as_base_exp()
            if base == t and e.is_Rational:
                b += e
            elif base == sympy.log(t) and e.is_Integer and e > 0:
                k += int(e)
            elif factor != 1:
                return None
        out[(b, k)] = out.get((b, k), 0) + coeff
    return out


def _valuation(expr: sympy.Expr, t: sympy.Symbol) -> sympy.Expr | None:
    """The exponent of the lowest power of t in ``expr`` near t = 0 (logs ignored), None for 0."""
    expr = sympy.cancel(sympy.together(expr))
    if expr == 0:
        return None
    numerator, denominator = sympy.fraction(expr)
    values = []
    for part in (numerator, denominator):
        terms = _series_terms(part, t)
        if terms is None:
            lead = part.as_leading_term(t)
            terms = _series_terms(lead, t)
            if terms is None:
                raise ValueError("no leading power")
        values.append(min(b for (b, _), c in terms.items() if sympy.expand(c) != 0))
    return values[0] - values[1]


def _series_residual(ctx: _Context, p: sympy.Expr, x0: sympy.Expr, t: sympy.Symbol, below: sympy.Expr) -> dict:
    """The terms ``c t^b ln^k t`` (b < ``below``) of the residual of the polynomial part ``p``."""
    residual = _substitute_explicit(ctx, p).subs(ctx.X, x0 + t)
    terms = _series_terms(residual, t)
    if terms is None:  # e^x y, sin(x) y ...: expand the residual as a series first
        count = int(sympy.ceiling(below)) + 2
        terms = _series_terms(sympy.series(residual, t, 0, max(1, count)).removeO(), t)
        if terms is None:
            raise ValueError("the residual is not a power series")
    return {key: c for key, c in terms.items() if key[0] < below}


def _judge_series(ctx: _Context) -> dict:
    """A truncated series ``y = p(x) + O((x - x0)^M)`` is checked to the order it claims.

    The tail hidden in ``O((x - x0)^M)`` changes the residual only from the power ``M + d`` on,
    where ``d = min_k (v_k - k)`` and ``v_k`` is the lowest power of ``(x - x0)`` in the
    coefficient of ``y^(k)`` (linearised at p: ``d = -2`` at an ordinary point of a second-order
    equation, ``0`` for ``x^2 y'' + x p y' + q y`` at a regular singular point).  So the answer is
    right through its order exactly when every power below ``M + d`` of the residual of p vanishes
    — which fixes the coefficients of p up to ``(x - x0)^{M-1}``.  The constants are counted on p;
    initial conditions must be at the series' centre.
    """
    task = ctx.task
    # SymPy's Order arithmetic is slow (every xreplace of a sum with O(...) re-checks containment, seconds for a
    # Frobenius series): each O(...) becomes a placeholder symbol, and its order is carried by hand below
    details: dict = {"solutions": [textbook_latex(eq, task.function, task.variable) for eq in task.solutions],
                     "method": "series"}
    eq = task.solutions[0]
    orders = sorted(eq.atoms(sympy.Order), key=sympy.default_sort_key)
    marks = {o: sympy.Dummy(f"order{i}") for i, o in enumerate(orders)}
    lhs, rhs = ctx.real_form(eq.lhs.xreplace(marks)), ctx.real_form(eq.rhs.xreplace(marks))
    if rhs == ctx.unknown:
        lhs, rhs = rhs, lhs
    if len(task.solutions) != 1 or lhs != ctx.unknown or rhs.has(ctx.unknown):
        return {"verdict": "undecided",
                "reason": f"A truncated series is checked when it is written as "
                          f"${latex(ctx.Y)} = \\dots + O({latex(ctx.X)}^N)$, one series.",
                "details": details}
    points = {(o.variables, o.point) for o in orders}
    if len(points) != 1 or next(iter(points))[0] != (task.variable,):
        return {"verdict": "undecided", "reason": "I could not read the order of the series.", "details": details}
    x0 = ctx.real_form(next(iter(points))[1][0])
    t = sympy.Dummy("t", positive=True)
    unreadable = {"verdict": "undecided",
                  "reason": "A truncated series must be a sum of powers of "
                            f"${latex(ctx.X - x0)}$ (and logarithms) plus its $O$ term.", "details": details}
    # in powers of t = x - x0; a term c t^b O(t^m) is O(t^(b + m))
    ok, expanded = ctx.clock.attempt(sympy.expand, rhs.xreplace({ctx.X: x0 + t}), seconds=max(0.5, ctx.clock.left() / 4))
    if not ok:
        return unreadable
    exponents = {marks[o]: sympy.expand(o.expr.xreplace({task.variable: x0 + t})).replace(
        sympy.log, lambda a: sympy.S.One).as_coeff_exponent(t)[1] for o in orders}
    M = None
    kept = []
    for term in sympy.Add.make_args(expanded):
        present = [m for m in exponents if term.has(m)]
        if not present:
            kept.append(term)
            continue
        factor = _series_terms(term.xreplace({m: 1 for m in present}), t)
        if len(present) != 1 or not factor or not sympy.Poly(term, present[0]).degree() == 1:
            return unreadable
        reach = min(b for b, _ in factor) + exponents[present[0]]
        M = reach if M is None else min(M, reach)
    p_terms = _series_terms(sympy.Add(*kept), t)
    if p_terms is None or M is None or not M.is_Rational:
        return unreadable
    # the terms beyond the order are inside O(...) already
    p = sympy.Add(*[c * t ** b * sympy.log(t) ** k for (b, k), c in p_terms.items() if b < M]).subs(t, ctx.X - x0)
    order_tex = latex((ctx.X - x0) ** M)
    details["series_order"] = order_tex
    frozen, dsyms, _ = _freeze_linear(ctx)
    try:
        values = {d: _d(p, ctx.X, k) for k, d in enumerate(dsyms)}
        shifts = []
        for k, d in enumerate(dsyms):
            coefficient = sympy.diff(frozen, d).xreplace(values).subs(ctx.X, x0 + t)
            v = _valuation(coefficient, t)
            if v is not None:
                shifts.append(v - k)
        below = M + min(shifts)
        ok, terms = ctx.clock.attempt(_series_residual, ctx, p, x0, t, below, seconds=max(0.5, ctx.clock.left() / 2))
    except (ValueError, NotImplementedError, TypeError, sympy.PolynomialError):
        ok, terms = False, None
    if not ok:
        return {"verdict": "undecided", "reason": f"I could not expand the residual of the series through "
                f"order ${order_tex}$.", "details": details}
    for key in sorted(terms, key=lambda key: (key[0], key[1])):
        value = sympy.cancel(sympy.expand(terms[key]))
        if value != 0 and _is_zero_symbolic(ctx, value, strong=True, seconds=0.5) is not True:
            b, k = key
            power = sympy.Symbol(latex(ctx.X - x0) if x0 != 0 else latex(ctx.X)) ** b * sympy.log(ctx.X - x0) ** k
            details["residual"] = f"{latex(value)} \\cdot {latex(power)}"
            return {"verdict": "wrong",
                    "reason": f"Checked through order ${order_tex}$: substituting the series leaves "
                              f"${latex(value * power)}$ (and possibly more) in ${ctx.ode_tex}$, where every "
                              f"power below ${latex(power.as_base_exp()[0] ** below)}$ must cancel; so a "
                              f"coefficient of {ctx.voice.answer} is wrong.",
                    "details": details}
    consts = [c for c in ctx.C if p.has(c)]
    rank = _rank_explicit(ctx, p, consts)
    names = sorted(c.name for c in consts)
    details.update(constants=names, constants_expected=0 if task.ics else ctx.n, constants_found=rank or 0)
    lowest = sympy.Symbol(latex(ctx.X - x0) if x0 != 0 else latex(ctx.X)) ** below
    through = (f"It satisfies the equation through order ${order_tex}$ (checked as a truncated series: the "
               f"residual has no term below ${latex(lowest)}$)")
    if task.ics:
        for _, point, _ in task.ics:
            if _same(ctx, ctx.real_form(point), x0) is not True:
                return {"verdict": "undecided",
                        "reason": through + f", but it is a series about ${latex(ctx.X)} = {latex(x0)}$ and a "
                                  f"condition is given at ${latex(ctx.X)} = {latex(point)}$: I cannot check it.",
                        "details": details}
        if any(k >= M for k, _, _ in task.ics):
            return {"verdict": "undecided", "reason": through + ", but its order is too low to show the "
                    "initial conditions.", "details": details}
        outcome = _Outcome("satisfies", method="series", f=p, constants=consts, rank=rank, explicit=True)
        result = _judge_ivp(ctx, [outcome], details["solutions"], details)
        result["reason"] = result["reason"].replace("It satisfies the equation", through, 1) \
            .replace("it satisfies the equation", through[:1].lower() + through[1:], 1)
        return result
    if rank is None:
        return {"verdict": "undecided", "reason": through + ", but I could not count its independent constants.",
                "details": details}
    if rank >= ctx.n:
        return {"verdict": "correct",
                "reason": through + f" and has {rank} independent arbitrary constant{'s' if rank != 1 else ''}: "
                                    "this is the general solution as a series.",
                "details": details}
    return {"verdict": "incomplete",
            "reason": through + f", but it is not the general solution: that has {ctx.n} arbitrary "
                                f"constant{'s' if ctx.n != 1 else ''}; {ctx.voice.yours} has {rank}.",
            "details": details}


def _freeze_linear(ctx: _Context) -> tuple[sympy.Expr, list[sympy.Symbol], None]:
    """The equation with y, y', ..., y^(n) as symbols (for the coefficients of its linearisation)."""
    dsyms = [sympy.Dummy(f"d{k}") for k in range(ctx.n + 1)]
    frozen = ctx.ode
    for k in range(ctx.n, 0, -1):
        frozen = frozen.subs(sympy.Derivative(ctx.unknown, (ctx.X, k)), dsyms[k])
    return frozen.subs(ctx.unknown, dsyms[0]), dsyms, None


# ---------------------------------------------------------------------------
# Deciding "is this expression zero?"


def _cheap(expr: sympy.Expr) -> sympy.Expr:
    """A fast exact normal form: enough for most correct answers (everything cancels)."""
    return sympy.cancel(sympy.expand(expr))


_STRONG: list[Callable[[sympy.Expr], sympy.Expr]] = [
    sympy.simplify,
    lambda e: sympy.simplify(sympy.powsimp(sympy.expand_log(e, force=True), force=True)),
    lambda e: sympy.simplify(e.rewrite(sympy.exp)),
    lambda e: sympy.trigsimp(sympy.expand_trig(e)),
]


def _is_zero_symbolic(ctx: _Context, expr: sympy.Expr, strong: bool, seconds: float) -> bool:
    """True when a transformation brings ``expr`` to 0 within ``seconds`` (False: not shown)."""
    if expr == 0:
        return True
    ok, value = ctx.clock.attempt(_cheap, expr, seconds=min(seconds, 1.0))
    if ok and value == 0:
        return True
    if not strong:
        return False
    start = time.monotonic()
    for transform in _STRONG:
        remaining = seconds - (time.monotonic() - start)
        if remaining <= 0.01:
            return False
        ok, value = ctx.clock.attempt(transform, expr, seconds=remaining)
        if ok and value == 0:
            return True
    return False


@dataclass
class _Numeric:
    """What evaluation at random real points found."""

    zero: bool | None  # True: zero at the points tested; False: nonzero; None: too few points
    zeros: int = 0
    nonzeros: int = 0
    witness: dict | None = None  # a point where the residual is nonzero

    @property
    def partial(self) -> bool:
        """Zero on part of the domain only (|x + C| where x + C < 0 ...): a solution on an interval."""
        return self.zero is True and self.nonzeros > 0


def _numeric_zero(ctx: _Context, residual: sympy.Expr, points: Iterator[dict], wanted: int = 6) -> _Numeric:
    """Evaluate ``residual`` at real points (from ``points``) where it is finite.

    A residual that is not real at a real point was evaluated off its real domain (a principal
    branch: ``((x + C)^3)^{2/3}`` for x + C < 0), so such points are skipped unless the answer
    itself is complex (it contains i). A nonzero value is confirmed with 60 digits. After a
    nonzero value a few more points are tried: a residual that is exactly zero at several of them
    is zero on part of the domain — the answer is a solution on an interval (``y = (x + C)^2/4``
    for ``y' = sqrt(y)``, valid for x > -C), which an analytic wrong residual never is.
    """
    complex_ok = residual.has(sympy.I)
    zeros = nonzeros = 0
    witness = None
    for point in points:
        ctx.clock.ensure()
        ok, kind = ctx.clock.attempt(_classify, residual, point, complex_ok, seconds=1.0)
        if not ok or kind is None:
            continue
        if kind == "nonzero":
            nonzeros += 1
            witness = witness or point
        else:
            zeros += 1
        if nonzeros == 0 and zeros >= wanted:
            break
        if nonzeros and zeros + nonzeros >= wanted:
            break
    if nonzeros and zeros >= 2:
        return _Numeric(True, zeros, nonzeros, witness)
    if nonzeros:
        return _Numeric(False, zeros, nonzeros, witness)
    return _Numeric(True if zeros >= 3 else None, zeros, 0)


def _classify(residual: sympy.Expr, point: dict, complex_ok: bool) -> str | None:
    """"zero", "nonzero", or None (not finite, or not real where it should be) at one point.

    A zero residual evaluates to rounding noise whose size depends on the working precision; a
    nonzero one to the same value at any precision. So the value at 30 digits is compared with the
    value at 60: agreement means a real nonzero value (however small: relative, not absolute, so
    ``-e^{-50x}`` at x = 2 is not mistaken for 0), disagreement means noise around 0. This needs
    exact (or 60+-digit) point coordinates, which the samplers provide.
    """
    first = _num(residual, point)
    if first is None:
        return None
    if first == 0:
        return "zero"
    second = _num(residual, point, digits=60)
    if second is None:
        return None
    if second == 0 or abs(first - second) > 1e-12 * abs(second):
        return "zero"
    if not complex_ok and abs(second.imag) > 1e-12 * abs(second):
        return None  # a principal branch off the real domain: say nothing about this point
    return "nonzero"


def _display(ctx: _Context, expr: sympy.Expr, seconds: float = 1.0) -> str:
    """The residual as the student should see it: simplified if that is quick."""
    best = expr
    ok, value = ctx.clock.attempt(_cheap, expr, seconds=min(0.3, seconds))
    if ok and sympy.count_ops(value) < sympy.count_ops(best):
        best = value
    if sympy.count_ops(best) < 300:  # simplify is cosmetic here: not worth seconds on a huge residual
        ok, value = ctx.clock.attempt(sympy.simplify, best, seconds=seconds)
        if ok and sympy.count_ops(value) <= sympy.count_ops(best):
            best = value
    return ctx.tex(best.xreplace({ctx.Y: ctx.unknown}) if best.has(ctx.Y) else best)


def _d(expr: sympy.Expr, var: sympy.Symbol, times: int = 1) -> sympy.Expr:
    """Differentiate, writing sign(u) as u/|u| after each step.

    With real symbols SymPy differentiates |u| to sign(u) u', and sign(u) again to a DiracDelta;
    u/|u| instead makes (ln|u|)' = u'/u exactly (|u|^2 = u^2 for real u) and keeps higher
    derivatives free of distributions (the solution is only checked where u != 0).
    """
    for _ in range(times):
        expr = sympy.diff(expr, var)
        if expr.has(sympy.sign):
            expr = expr.replace(sympy.sign, lambda u: u / sympy.Abs(u))
    return expr


# ---------------------------------------------------------------------------
# Explicit answers y = f(x)


def _explicit_points(ctx: _Context, f: sympy.Expr, tries: int = 40) -> Iterator[dict]:
    """Random points where the solution itself is real (complex when it contains i) and finite."""
    value = _num if f.has(sympy.I) else _real
    for _ in range(tries):
        point = ctx.random_point()
        if value(f, point) is not None:
            yield point


def _substitute_explicit(ctx: _Context, f: sympy.Expr, ode: sympy.Expr | None = None) -> sympy.Expr:
    ode = ctx.ode if ode is None else ode
    reps = {}
    for d in ode.atoms(sympy.Derivative):
        reps[d] = _d(f, ctx.X, d.derivative_count)
    return ode.xreplace(reps).xreplace({ctx.unknown: f})


def _check_explicit(ctx: _Context, f: sympy.Expr) -> _Outcome:
    consts = [c for c in ctx.C if f.has(c)]
    distributional = _has_steps(f) or _has_steps(ctx.ode)
    ode = ctx.ode
    if distributional and ctx.task.ics:
        # the answer and the equation for t >= t0: a step switched on at or before t0 is 1 there
        f, ode = _after_initial_point(ctx, f), _after_initial_point(ctx, ctx.ode)
    ok, residual = ctx.clock.attempt(_substitute_explicit, ctx, f, ode, seconds=max(0.5, ctx.clock.left() / 4))
    if not ok:
        return _Outcome("undecided", note="differentiating the answer took too long (or failed).", f=f,
                        constants=consts)
    if distributional:
        outcome = _decide_distribution(ctx, residual, f)
    else:
        outcome = _decide_residual(ctx, residual, lambda: _explicit_points(ctx, f))
    outcome.f, outcome.constants, outcome.explicit = f, consts, True
    if outcome.status == "satisfies":
        outcome.rank = _rank_explicit(ctx, f, consts)
    return outcome


def _decide_residual(ctx: _Context, residual: sympy.Expr, points: Callable[[], Iterator[dict]]) -> _Outcome:
    """Symbolic cheap -> numeric -> symbolic strong; the residual must vanish identically."""
    share = ctx.clock.left()
    if _is_zero_symbolic(ctx, residual, strong=False, seconds=min(1.0, share / 4)):
        return _Outcome("satisfies", method="symbolic")
    numeric = _numeric_zero(ctx, residual, points())
    if numeric.zero is False:
        return _Outcome("fails", method="numeric",
                        residual=_display(ctx, residual, seconds=min(1.0, ctx.clock.left() / 3)))
    if numeric.zero is None:
        # Too few real points (a narrow domain): only a symbolic proof can decide.
        if _is_zero_symbolic(ctx, residual, strong=True, seconds=ctx.clock.left() * 0.8):
            return _Outcome("satisfies", method="symbolic")
        return _Outcome("undecided", note="too few real points where the answer is defined to test it, "
                                          "and simplification did not settle it.")
    if numeric.partial:
        where = "e.g. at $" + ", ".join(f"{sympy.latex(k)} = {float(v):.3g}"
                                        for k, v in numeric.witness.items()) + "$"
        return _Outcome("satisfies", method="numeric", partial=where, residual_expr=residual)
    if _is_zero_symbolic(ctx, residual, strong=True, seconds=min(2.0, ctx.clock.left() * 0.5)):
        return _Outcome("satisfies", method="symbolic")
    return _Outcome("satisfies", method="numeric")


# ---------------------------------------------------------------------------
# Unit steps and impulses (the Laplace-transform chapter)
#
# With a unit step or a delta in the equation or the answer, "satisfies the equation" is meant in
# the sense of distributions, as the Laplace method delivers it: the answer's derivatives carry
# delta terms at its jumps (SymPy differentiates Heaviside(t - a) to DiracDelta(t - a)), and those
# must match the impulses of the equation exactly; a residual that vanishes only pointwise (a
# jump where y must be continuous, an impulse the answer ignores) is wrong. The regular part must
# vanish on every interval between the jumps - never "on part of the line" only. For an initial
# value problem the answer is the solution for t >= t0, so a step at or before the initial point,
# u(t - t0), is 1 there (the textbook writes the answer for t > 0 and sometimes multiplies it by
# u(t)) — in the answer and in the equation alike (a forcing "1 for 0 <= t < 2" is u(t) - u(t - 2)).

_STEP_FUNCTIONS = (sympy.Heaviside, sympy.DiracDelta)


def _has_steps(expr: sympy.Expr) -> bool:
    return expr.has(*_STEP_FUNCTIONS)


def _root(argument: sympy.Expr, X: sympy.Symbol) -> tuple[sympy.Expr, sympy.Expr] | None:
    """``(slope, point)`` of a linear argument ``slope (X - point)``, else None."""
    slope = sympy.diff(argument, X)
    if slope == 0 or slope.has(X):
        return None
    return slope, sympy.cancel(-argument.subs(X, 0) / slope)


def _after_initial_point(ctx: _Context, f: sympy.Expr) -> sympy.Expr:
    x0 = ctx.real_form(ctx.task.ics[0][1])

    def one(h: sympy.Heaviside) -> sympy.Expr:
        found = _root(h.args[0], ctx.X)
        if found is not None and found[0].is_positive:
            before = sympy.simplify(found[1] - x0)
            if before == 0 or before.is_negative:
                return sympy.S.One
        return h

    return f.replace(lambda e: isinstance(e, sympy.Heaviside), one)


def _singular_parts(residual: sympy.Expr, X: sympy.Symbol) -> tuple[sympy.Expr, dict] | None:
    """``residual = regular + sum c_{a,k} delta^(k)(X - a)`` with constant ``c``: (regular, {(a, k): c}).

    ``c(X) delta^(k)(X - a) = sum_j (-1)^j binom(k, j) c^(j)(a) delta^(k-j)(X - a)`` (the product
    rule for distributions); ``delta^(k)(s (X - a)) = delta^(k)(X - a) / (|s| s^k)``. None when a
    term is not of that form (two deltas in one product, a delta of a nonlinear argument).
    """
    regular = sympy.S.Zero
    singular: dict = {}
    for term in sympy.Add.make_args(sympy.expand(residual)):
        deltas = [factor for factor in sympy.Mul.make_args(term) if isinstance(factor, sympy.DiracDelta)]
        if not deltas:
            if term.has(sympy.DiracDelta):
                return None
            regular += term
            continue
        if len(deltas) != 1:
            return None
        delta = deltas[0]
        coefficient = term / delta
        if coefficient.has(sympy.DiracDelta):
            return None
        k = int(delta.args[1]) if len(delta.args) > 1 else 0
        found = _root(delta.args[0], X)
        if found is None:
            return None
        slope, point = found
        coefficient = coefficient / (sympy.Abs(slope) * slope**k)
        for j in range(k + 1):
            value = (-1) ** j * sympy.binomial(k, j) * sympy.diff(coefficient, X, j).subs(X, point)
            key = (point, k - j)
            singular[key] = singular.get(key, sympy.S.Zero) + value
    return regular, singular


def _jump_points(expr: sympy.Expr, X: sympy.Symbol) -> list[float]:
    points = set()
    for e in expr.atoms(*_STEP_FUNCTIONS):
        found = _root(e.args[0], X)
        if found is not None and found[1].is_number:
            points.add(float(found[1]))
    return sorted(points)


def _interval_points(ctx: _Context, jumps: list[float], f: sympy.Expr, rounds: int = 3) -> Iterator[dict]:
    """Random points in every interval between the jumps (and beyond them), then anywhere."""
    edges = [jumps[0] - 4.0] + jumps + [jumps[-1] + 4.0] if jumps else []
    value = _num if f.has(sympy.I) else _real
    for _ in range(rounds):
        for lo, hi in zip(edges, edges[1:]):
            point = ctx.random_point()
            point[ctx.X] = sympy.Rational(round(ctx.rng.uniform(lo + 1e-3, hi - 1e-3) * 10**6), 10**6)
            if value(f, point) is not None:
                yield point
    yield from _explicit_points(ctx, f)


def _decide_distribution(ctx: _Context, residual: sympy.Expr, f: sympy.Expr) -> _Outcome:
    """Zero as a distribution: every delta coefficient vanishes and the rest on every interval."""
    ok, parts = ctx.clock.attempt(_singular_parts, residual, ctx.X, seconds=max(0.5, ctx.clock.left() / 4))
    if not ok or parts is None:
        return _Outcome("undecided", note="the answer's impulses could not be separated from the rest.")
    regular, singular = parts
    for (point, order), coefficient in sorted(singular.items(), key=lambda item: sympy.default_sort_key(item[0])):
        if _is_zero_symbolic(ctx, coefficient, strong=False, seconds=min(1.0, ctx.clock.left() / 4)):
            continue
        numeric = _numeric_zero(ctx, coefficient, (ctx.random_point() for _ in range(12)))
        if numeric.zero is True and not numeric.partial:
            continue
        impulse = sympy.DiracDelta(ctx.X - point) if order == 0 else sympy.DiracDelta(ctx.X - point, order)
        shown = _display(ctx, coefficient * impulse, seconds=min(1.0, ctx.clock.left() / 3))
        if numeric.zero is None:
            return _Outcome("undecided", note=f"I could not decide whether the impulse ${shown}$ cancels.")
        return _Outcome("fails", method="numeric", residual=shown)
    jumps = _jump_points(residual, ctx.X) or _jump_points(f, ctx.X)
    if _is_zero_symbolic(ctx, regular, strong=False, seconds=min(1.0, ctx.clock.left() / 4)):
        return _Outcome("satisfies", method="symbolic")
    numeric = _numeric_zero(ctx, regular, _interval_points(ctx, jumps, f), wanted=max(6, 2 * len(jumps) + 4))
    if numeric.zero is None:
        return _Outcome("undecided", note="too few points where the answer is defined to test it.")
    if numeric.zero is False or numeric.partial:
        where = ", ".join(f"{sympy.latex(k)} = {float(v):.3g}" for k, v in numeric.witness.items())
        return _Outcome("fails", method="numeric",
                        residual=_display(ctx, regular.subs(ctx.X, numeric.witness[ctx.X]), seconds=0.5)
                        + rf"\ \text{{at }} {where}")
    return _Outcome("satisfies", method="numeric")


def _rank_explicit(ctx: _Context, f: sympy.Expr, consts: list) -> int | None:
    """Independent constants: rank of d(y, y', ..., y^(n-1))/dC at random points."""
    if not consts:
        return 0
    rows = [f]
    for _ in range(1, max(1, ctx.n)):
        rows.append(_d(rows[-1], ctx.X))
    jac = [[_d(r, c) for c in consts] for r in rows]
    rank = _numeric_rank(ctx, jac, lambda: _explicit_points(ctx, f))
    if rank is None:
        # No real point where the family is defined turned up: the rank of an analytic family is
        # the same at complex points, so use points where it is merely finite.
        def finite_points() -> Iterator[dict]:
            for _ in range(20):
                point = ctx.random_point()
                if _num(f, point) is not None:
                    yield point
        rank = _numeric_rank(ctx, jac, finite_points)
    return rank


def _numeric_rank(ctx: _Context, jac: list[list[sympy.Expr]], points: Callable[[], Iterator[dict]]) -> int | None:
    """The largest rank of ``jac`` over a few sample points; None when no point could be used."""
    best = 0
    seen = 0
    for point in points():
        values = []
        for row in jac:
            vals = [_num(e, point) for e in row]
            if any(v is None for v in vals):
                break
            values.append(vals)
        else:
            best = max(best, _rank(values))
            seen += 1
            if seen >= 3 or best == min(len(jac), len(jac[0])):
                break
    return best if seen else None


def _rank(rows: list[list[complex]]) -> int:
    """Rank by Gaussian elimination with a relative tolerance (complex entries: C1 e^{ix} + ...)."""
    m = [[mpmath.mpc(v.real, v.imag) for v in r] for r in rows]
    size = max((abs(v) for r in m for v in r), default=mpmath.mpf(0))
    if size == 0:
        return 0
    tol = size * mpmath.mpf("1e-9")
    rank = 0
    cols = len(m[0])
    for c in range(cols):
        pivot = max(range(rank, len(m)), key=lambda r: abs(m[r][c]), default=None)
        if pivot is None or abs(m[pivot][c]) <= tol:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for r in range(len(m)):
            if r != rank:
                factor = m[r][c] / m[rank][c]
                m[r] = [a - factor * b for a, b in zip(m[r], m[rank])]
        rank += 1
        if rank == len(m):
            break
    return rank


# ---------------------------------------------------------------------------
# Implicit answers H(x, y) = 0


def _implicit_derivatives(ctx: _Context, H: sympy.Expr) -> list[sympy.Expr]:
    """[y', y'', ...] along H(x, y) = 0 as functions of (x, y, constants)."""
    X, Y = ctx.X, ctx.Y
    first = sympy.together(-_d(H, X) / _d(H, Y))
    out = [first]
    for _ in range(1, ctx.n):
        prev = out[-1]
        out.append(sympy.together(_d(prev, X) + _d(prev, Y) * first))
    return out


def _substitute_implicit(ctx: _Context, derivs: list[sympy.Expr]) -> sympy.Expr:
    reps = {}
    for d in ctx.ode.atoms(sympy.Derivative):
        reps[d] = derivs[d.derivative_count - 1]
    return ctx.ode.xreplace(reps).xreplace({ctx.unknown: ctx.Y})


def _solve_for(H: sympy.Expr, target: sympy.Symbol) -> list[sympy.Expr]:
    return [s for s in sympy.solve(H, target, dict=False) if not s.has(sympy.I)]


def _curve_points(ctx: _Context, H: sympy.Expr, Hy: sympy.Expr, tries: int = 20) -> Iterator[dict]:
    """Random points on H(x, y) = 0 (random x and constants; y by a numeric root search)."""
    starts = [sympy.Rational(v, 10) for v in (5, -5, 15, -15, 30, -30, 1, -1)]
    for _ in range(tries):
        point = ctx.random_point()
        g = H.xreplace({k: v for k, v in point.items()})
        if not g.has(ctx.Y):
            continue
        for start in ctx.rng.sample(starts, 4):
            ctx.clock.ensure()
            # 80 digits: _classify compares 30- and 60-digit values of the residual at this point.
            ok, root = ctx.clock.attempt(lambda: sympy.nsolve(g, ctx.Y, start, prec=80), seconds=0.5)
            if not ok or not getattr(root, "is_real", False):
                continue
            full = {**point, ctx.Y: root}
            hy = _real(Hy, full)
            if hy is not None and abs(hy) > 1e-8:
                yield full
                break


def _check_implicit(ctx: _Context, H: sympy.Expr) -> _Outcome:
    X, Y = ctx.X, ctx.Y
    consts = [c for c in ctx.C if H.has(c)]
    Hy = _d(H, Y)
    if Hy == 0:
        return _Outcome("fails", method="symbolic", explicit=False, H=H, constants=consts,
                        note=f"The relation does not determine ${ctx.tex(ctx.Y)}$ as a function of "
                             f"${sympy.latex(X)}$ (${ctx.tex(ctx.Y)}$ cancels out of it).")
    ok, derivs = ctx.clock.attempt(_implicit_derivatives, ctx, H, seconds=max(0.5, ctx.clock.left() / 4))
    if not ok:
        return _Outcome("undecided", note="differentiating the relation took too long.", explicit=False,
                        H=H, constants=consts)
    ok, residual = ctx.clock.attempt(_substitute_implicit, ctx, derivs, seconds=1.0)
    if not ok:
        return _Outcome("undecided", note="substituting into the equation took too long.", explicit=False,
                        H=H, constants=consts)
    slope = ctx.tex(derivs[0].xreplace({Y: ctx.unknown}))
    note = f"along {ctx.voice.your} curves $y' = {slope}$, and then "
    outcome: _Outcome | None = None
    residual_consts = [c for c in consts if residual.has(c)]
    if not residual_consts and consts:
        # R(x, y) free of the constants: every point (x, y) lies on one of the curves, so R must
        # vanish for all x, y.
        def free_points() -> Iterator[dict]:
            for _ in range(40):
                point = ctx.random_point(with_y=True)
                hy = _real(Hy, point)
                if hy is not None and abs(hy) > 1e-8 and _real(H, point) is not None:
                    yield point
        outcome = _decide_residual(ctx, residual, free_points)
    elif residual_consts:
        # Eliminate one constant with H = 0: "the expression of C in x, y is constant along the ODE".
        target = residual_consts[0]
        ok, sols = ctx.clock.attempt(_solve_for, H, target, seconds=min(2.0, ctx.clock.left() / 4))
        if ok and sols:
            branches: list[_Outcome] = []
            for sol in sols:
                eliminated = residual.xreplace({target: sol})

                def on_curves(sol: sympy.Expr = sol) -> Iterator[dict]:
                    for _ in range(40):
                        point = ctx.random_point(with_y=True)
                        value = _real(sol, point)
                        if value is None:
                            continue
                        point[target] = sympy.Float(value, 80)
                        hy = _real(Hy, point)
                        if hy is not None and abs(hy) > 1e-8:
                            yield point
                branches.append(_decide_residual(ctx, eliminated, on_curves))
                if branches[-1].status == "undecided":
                    break
            # sin(y - C) = 10x is y = C + arcsin(10x) on one branch and y = C + pi - arcsin(10x) on
            # the other, and only the first solves y' = 1/sqrt(1/100 - x^2): a relation whose
            # curves are solutions on some branch is accepted like a solution on an interval.
            good = [b for b in branches if b.status == "satisfies"]
            if good and len(good) < len(branches):
                outcome = good[0]
                outcome.partial = outcome.partial or "on another branch of the relation"
            else:
                outcome = next((b for b in branches if b.status != "satisfies"), branches[0])
    if outcome is None:
        # No constant (a particular implicit solution) or none could be eliminated: find points on
        # the curves numerically and require R = 0 there.
        if not consts and _is_zero_symbolic(ctx, residual, strong=False, seconds=0.5):
            outcome = _Outcome("satisfies", method="symbolic")
        else:
            numeric = _numeric_zero(ctx, residual, _curve_points(ctx, H, Hy))
            if numeric.zero is False:
                outcome = _Outcome("fails", method="numeric", residual=_display(ctx, residual))
            elif numeric.zero is True:
                outcome = _Outcome("satisfies", method="numeric")
            else:
                outcome = _Outcome("undecided", note=f"I found too few real points on {ctx.voice.your} curves to test it.")
    outcome.explicit, outcome.H, outcome.constants = False, H, consts
    if outcome.status == "fails" and outcome.residual is not None:
        outcome.note = note
    if outcome.status == "satisfies":
        outcome.rank = _rank_implicit(ctx, H, Hy, consts, derivs)
    return outcome


def _rank_implicit(ctx: _Context, H: sympy.Expr, Hy: sympy.Expr, consts: list, derivs: list) -> int | None:
    """Rank of d(y, y', ...)/dC along the curves: dy/dC = -H_C/H_y, then the chain rule."""
    if not consts:
        return 0
    dy = [-_d(H, c) / Hy for c in consts]
    rows = [dy]
    for phi in derivs[: max(0, ctx.n - 1)]:
        rows.append([_d(phi, c) + _d(phi, ctx.Y) * dyc for c, dyc in zip(consts, dy)])
    return _numeric_rank(ctx, rows, lambda: _curve_points(ctx, H, Hy, tries=8))


# ---------------------------------------------------------------------------
# Initial conditions


def _judge_ivp(ctx: _Context, outcomes: list[_Outcome], sol_tex: list[str], details: dict) -> dict:
    task = ctx.task
    name = sympy.latex(sympy.Symbol(task.function.__name__))
    many = len(outcomes) > 1
    families = 0
    for i, o in enumerate(outcomes):
        prefix = f"The solution ${sol_tex[i]}$: " if many else ""
        if (o.rank or 0) > 0 and _boundary_value(task) and _conditions_hold_for_every_constant(ctx, o):
            families += 1  # a boundary value problem with infinitely many solutions: the family is the answer
            continue
        if (o.rank or 0) > 0:
            found = _constants_from_ics(ctx, o)
            if found == "none":
                details["failed_condition"] = ", ".join(_ic_tex(ctx, ic) for ic in task.ics)
                return {"verdict": "wrong",
                        "reason": _sentence(prefix, f"no value of the constant{'s' if len(o.constants) > 1 else ''} "
                                  f"{_names(o.constants)} satisfies ${details['failed_condition']}$."),
                        "details": details}
            hint = ""
            if isinstance(found, dict) and found:
                hint = " (they give " + ", ".join(f"${sympy.latex(k)} = {sympy.latex(v)}$"
                                                 for k, v in found.items()) + ")"
            conditions = f"initial condition{'s' if len(task.ics) > 1 else ''}"
            use = (f"the {conditions} {'were' if len(task.ics) > 1 else 'was'} not used" if ctx.voice.model
                   else f"use the {conditions}")
            return {"verdict": "incomplete",
                    "reason": _sentence(prefix, f"it satisfies the equation, but the constant"
                              f"{'s' if len(o.constants) > 1 else ''} {_names(o.constants)} "
                              f"{'are' if len(o.constants) > 1 else 'is'} still free: {use}{hint}."),
                    "details": details}
        if o.partial and o.explicit and o.residual_expr is not None:
            # Valid on part of the line only: it must hold on both sides of the initial point.
            x0 = ctx.real_form(task.ics[0][1])
            for side in (1, -1):
                near = {ctx.X: x0 + side * sympy.Rational(1, 1000),
                        **{p: _random_value(ctx.rng, "parameter") for p in ctx.P}}
                if _classify(o.residual_expr, near, o.residual_expr.has(sympy.I)) == "nonzero":
                    details["failed_condition"] = _ic_tex(ctx, task.ics[0])
                    return {"verdict": "wrong",
                            "reason": _sentence(prefix, f"it satisfies the equation only on part of the line, "
                                                        f"and not next to ${sympy.latex(ctx.X)} = "
                                                        f"{sympy.latex(x0)}$ where the initial condition "
                                                        f"is given."),
                            "details": details}
        for ic in task.ics:
            state, got = _ic_holds(ctx, o, ic)
            if state is False:
                details["failed_condition"] = _ic_tex(ctx, ic)
                primes = "'" * ic[0]
                point = sympy.latex(ic[1])
                return {"verdict": "wrong",
                        "reason": _sentence(prefix, f"it satisfies the equation, but it gives "
                                  f"${name}{primes}({point}) = {got}$, not ${sympy.latex(ic[2])}$."),
                        "details": details}
            if state is None:
                details["failed_condition"] = _ic_tex(ctx, ic)
                return {"verdict": "undecided",
                        "reason": _sentence(prefix, f"it satisfies the equation, but I could not decide whether "
                                  f"${_ic_tex(ctx, ic)}$ holds ({got})."),
                        "details": details}
    domain = ""
    if details.get("domain_note"):
        domain = " It holds on an interval around the initial point, not on the whole real line."
    if families:
        details["infinitely_many"] = True
        return {"verdict": "correct",
                "reason": "It satisfies the equation and every boundary condition for every value of "
                          f"{_names(sorted({c for o in outcomes for c in o.constants}, key=str))}: this boundary "
                          "value problem has infinitely many solutions." + domain,
                "details": details}
    if _boundary_value(task) and all((o.rank or 0) == 0 for o in outcomes):
        # One solution of a boundary value problem that has infinitely many is not the answer.
        derivation = _engine_bvp(ctx)
        if derivation is not None and derivation.solutions and derivation.constants:
            family = _engine_answer_tex(ctx, derivation)
            details.update(infinitely_many=True, family=family)
            return {"verdict": "incomplete",
                    "reason": "It satisfies the equation and every boundary condition, but it is only one of "
                              f"infinitely many solutions: every ${family}$ does ({_names(list(derivation.constants))} "
                              "arbitrary)." + domain, "details": details}
        if derivation is not None and derivation.result == "eigenvalues":
            details["eigenvalues"] = derivation.statement
            return {"verdict": "incomplete",
                    "reason": "It satisfies the equation and both conditions, but the conditions are homogeneous, so "
                              "$y = 0$ always does; the question is for which values of the parameter there are "
                              f"nontrivial solutions. {derivation.statement}", "details": details}
    return {"verdict": "correct",
            "reason": "It satisfies the equation and every initial condition." + domain,
            "details": details}


def _boundary_value(task: _Task) -> bool:
    return conditions_at_several_points(point for _, point, _ in task.ics)


def _conditions_hold_for_every_constant(ctx: _Context, o: _Outcome) -> bool:
    """Every condition holds identically in the answer's free constants (explicit answers only)."""
    if not o.explicit or o.f is None:
        return False
    for order, x0, v in ctx.task.ics:
        ok, got = ctx.clock.attempt(lambda: _value_at(ctx, _d(o.f, ctx.X, order), ctx.real_form(x0)),
                                    seconds=min(2.0, ctx.clock.left() / 3))
        if not ok:
            return False
        difference = got - ctx.real_form(v)
        if _is_zero_symbolic(ctx, difference, strong=True, seconds=min(1.0, ctx.clock.left() / 4)):
            continue
        numeric = _numeric_zero(ctx, difference, (ctx.random_point() for _ in range(12)))
        if numeric.zero is not True or numeric.partial:
            return False
    return True


def _sentence(prefix: str, rest: str) -> str:
    """``prefix`` + ``rest``, with the first letter capitalised when there is no prefix."""
    return prefix + rest if prefix else rest[:1].upper() + rest[1:]


def _names(consts: list) -> str:
    return ", ".join(f"${sympy.latex(c)}$" for c in consts)


def _ic_tex(ctx: _Context, ic: tuple) -> str:
    order, point, value = ic
    name = sympy.latex(sympy.Symbol(ctx.task.function.__name__))
    return f"{name}{chr(39) * order}({sympy.latex(point)}) = {sympy.latex(value)}"


def _value_at(ctx: _Context, expr: sympy.Expr, x0: sympy.Expr) -> sympy.Expr:
    value = expr.subs(ctx.X, x0)
    if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        value = sympy.limit(expr, ctx.X, x0)
    return value


def _same(ctx: _Context, a: sympy.Expr, b: sympy.Expr) -> bool | None:
    """Exactly equal (True), clearly different (False), or unknown (None)."""
    diff = a - b
    if _is_zero_symbolic(ctx, diff, strong=False, seconds=0.5):
        return True
    point = {p: _random_value(ctx.rng, "parameter") for p in ctx.P}
    z = _num(diff, point)
    if z is None:
        return None
    if abs(z) > _TOL * max(1.0, abs(_num(a, point) or 0), abs(_num(b, point) or 0)):
        return False
    if _is_zero_symbolic(ctx, diff, strong=True, seconds=min(1.0, ctx.clock.left() / 3)):
        return True
    return True  # equal to 30 digits at a number (parameters random): accepted numerically


def _ic_holds(ctx: _Context, o: _Outcome, ic: tuple) -> tuple[bool | None, str]:
    order, x0, v = ic
    x0, v = ctx.real_form(x0), ctx.real_form(v)
    if o.explicit:
        ok, got = ctx.clock.attempt(lambda: _value_at(ctx, _d(o.f, ctx.X, order), x0),
                                    seconds=min(2.0, ctx.clock.left() / 3))
        if not ok:
            return None, "evaluating it took too long"
        state = _same(ctx, got, v)
        ok, shown = ctx.clock.attempt(sympy.simplify, got, seconds=0.5)
        return state, sympy.latex(shown if ok else got)
    # Implicit: y(x0) = y0 must lie on the curve; y'(x0) from the slope there.
    y0 = next((val for (k, p, val) in ctx.task.ics if k == 0 and ctx.real_form(p) == x0), None)
    if y0 is None:
        return None, "it needs y at that point"
    y0 = ctx.real_form(y0)
    if order == 0:
        lhs = o.H.xreplace({ctx.X: x0, ctx.Y: y0})
        state = _same(ctx, lhs, sympy.Integer(0))
        if state is False:
            return False, _implicit_miss(ctx, o, x0, v)
        return state, sympy.latex(v)
    derivs = _implicit_derivatives(ctx, o.H)
    got = derivs[order - 1].xreplace({ctx.X: x0, ctx.Y: y0})
    state = _same(ctx, got, v)
    ok, shown = ctx.clock.attempt(sympy.simplify, got, seconds=0.5)
    return state, sympy.latex(shown if ok else got)


def _implicit_miss(ctx: _Context, o: _Outcome, x0: sympy.Expr, v: sympy.Expr) -> str:
    """For "y(0) = 1, not 3" from an implicit relation: the value(s) of y the relation gives at x0."""
    at = o.H.xreplace({ctx.X: x0})
    ok, sols = ctx.clock.attempt(_solve_for, at, ctx.Y, seconds=0.5)
    if ok and sols:
        return r" \text{ or } ".join(sympy.latex(s) for s in sols[:3])
    return r"\text{a value other than }" + sympy.latex(v)


def _constants_from_ics(ctx: _Context, o: _Outcome) -> dict | str | None:
    """The constants the ICs give ({C: 3}), "none" when no value works, None when unknown."""
    eqs = []
    for order, x0, v in ctx.task.ics:
        x0, v = ctx.real_form(x0), ctx.real_form(v)
        if o.explicit:
            eqs.append(_d(o.f, ctx.X, order).subs(ctx.X, x0) - v)
        elif order == 0:
            eqs.append(o.H.xreplace({ctx.X: x0, ctx.Y: v}))
    if not eqs:
        return None
    ok, sol = ctx.clock.attempt(lambda: sympy.solve(eqs, o.constants, dict=True),
                                seconds=min(2.0, ctx.clock.left() / 3))
    if not ok:
        return None
    if sol == []:
        # solve() also returns [] when it merely fails on a transcendental system: claim "no value
        # works" only for a system linear in the constants, where [] really means inconsistent.
        try:
            linear = all(sympy.Poly(e, *o.constants).total_degree() <= 1 for e in eqs)
        except sympy.PolynomialError:
            linear = False
        return "none" if linear else None
    return sol[0] if len(sol) == 1 and all(not v.free_symbols & set(o.constants) for v in sol[0].values()) else None


# ---------------------------------------------------------------------------
# Boundary value problems: "no solution", eigenvalue answers, one member of a family
#
# What the engine's boundary value method (tutor/engine/methods/boundary_value.py) establishes is
# the reference: it proves "no solution" (a combination of the conditions gives 0 = c, c != 0; the
# step is checked here again), finds the eigenpairs of an eigenvalue problem, and says whether a
# solvable problem has one solution or infinitely many.  When it cannot tell (not its kind of
# problem, out of time) the checker says "undecided", never a guess.


def _engine_bvp(ctx: _Context, seconds: float = 6.0):
    """The boundary value method's derivation of the problem (None: not one it solves, or no time)."""
    from tutor.engine.registry import get

    method = get("boundary_value_problem")
    problem = ctx.task.problem()
    ok, matches = ctx.clock.attempt(method.matches, problem, seconds=min(1.0, ctx.clock.left() / 4))
    if not ok or not matches:
        return None
    ok, derivation = ctx.clock.attempt(method.derive, problem, seconds=min(seconds, ctx.clock.left() * 0.6))
    return derivation if ok else None


def _engine_answer_tex(ctx: _Context, derivation) -> str:
    return ", ".join(ctx.tex(ctx.real_form(eq)) for eq in derivation.solutions)


def _judge_no_solution(ctx: _Context) -> dict:
    from tutor.engine.steps import check_step

    if not _boundary_value(ctx.task):
        return {"verdict": "undecided",
                "reason": "The checker judges \"no solution\" only for a boundary value problem (conditions at "
                          "two or more points); this problem is not one.", "details": {"claim": "no_solution"}}
    derivation = _engine_bvp(ctx)
    details = {"claim": "no_solution", "method": "symbolic"}
    if derivation is None:
        return {"verdict": "undecided",
                "reason": "I could not decide whether this boundary value problem has a solution.",
                "details": details}
    if derivation.result == "no_solution":
        last = derivation.steps[-1]
        ok, checked = ctx.clock.attempt(check_step, last, ctx.task.problem(), seconds=min(3.0, ctx.clock.left() / 2))
        if not ok or not checked.ok:
            return {"verdict": "undecided", "reason": "I could not confirm that the conditions contradict each other.",
                    "details": details}
        details["proof"] = last.latex
        return {"verdict": "correct",
                "reason": f"Right: the boundary conditions contradict each other (${last.latex}$), so there is no "
                          "solution.", "details": details}
    if derivation.result == "eigenvalues":
        return {"verdict": "wrong",
                "reason": "The conditions are homogeneous, so $y = 0$ always solves the problem; for the eigenvalues "
                          f"there are nontrivial solutions too. {derivation.statement}", "details": details}
    if not derivation.solutions:
        return {"verdict": "undecided", "reason": "I could not decide whether this boundary value problem has a solution.",
                "details": details}
    found = _engine_answer_tex(ctx, derivation)
    details["solution"] = found
    many = " (infinitely many: every value of the constant)" if derivation.constants else ""
    return {"verdict": "wrong",
            "reason": f"This boundary value problem has a solution{many}: ${found}$ satisfies the equation and "
                      "every condition.", "details": details}


def _eigen_index(start: int) -> sympy.Symbol:
    return sympy.Symbol("n", integer=True, positive=True) if start >= 1 else \
        sympy.Symbol("n", integer=True, nonnegative=True)


def _zero_for_every_index(ctx: _Context, expr: sympy.Expr, n: sympy.Symbol | None, start: int,
                          tries: int = 6) -> tuple[bool | None, int | None, str]:
    """Is ``expr`` zero for every integer n >= start (every x)?  (answer, a failing n, method).

    The checker's zero test: the cheap exact simplification with n an integer, then at the integers
    start, ..., start + tries - 1 the same test at random points (a nonzero value disproves)."""
    if _is_zero_symbolic(ctx, expr, strong=False, seconds=min(1.0, ctx.clock.left() / 4)):
        return True, None, "symbolic"
    values = [start + i for i in range(tries)] if n is not None else [None]
    for k in values:
        at = expr.subs(n, k) if n is not None else expr
        if _is_zero_symbolic(ctx, at, strong=False, seconds=min(0.5, ctx.clock.left() / 4)):
            continue
        numeric = _numeric_zero(ctx, at, (ctx.random_point() for _ in range(12)))
        if numeric.zero is False or numeric.partial:
            return False, k, "numeric"
        if numeric.zero is None and not _is_zero_symbolic(ctx, at, strong=True,
                                                          seconds=min(1.0, ctx.clock.left() / 4)):
            return None, k, "numeric"
    return True, None, "numeric"


def _identically_zero_at(ctx: _Context, function: sympy.Expr, n: sympy.Symbol | None, start: int) -> int | bool | None:
    """The first index k >= start (of a few) where ``function`` is 0 for every x (True when there
    is no index), False when it is not identically zero at any of them."""
    for k in ([start + i for i in range(6)] if n is not None else [None]):
        at = function.subs(n, k) if n is not None else function
        if _is_zero_symbolic(ctx, at, strong=False, seconds=min(0.5, ctx.clock.left() / 4)):
            return k if n is not None else True
        numeric = _numeric_zero(ctx, at, (ctx.random_point() for _ in range(12)))
        if numeric.zero is True and not numeric.partial:
            return k if n is not None else True
    return False


def _family_tex(ctx: _Context, name: str, f, value, function) -> str:
    sub = "n" if f.index is not None else str(f.start)
    parts = []
    if value is not None:
        parts.append(f"{name}_{{{sub}}} = {ctx.tex(value)}")
    if function is not None:
        parts.append(f"{ctx.tex(ctx.Y)}_{{{sub}}} = {ctx.tex(function)}")
    return ",\\ ".join(parts)


def _judge_eigen(ctx: _Context) -> dict:
    from tutor.engine.methods.boundary_value import N, eigen_analysis, eigen_parameter

    task = ctx.task
    problem = task.problem()
    details: dict = {"claim": "eigen"}
    if eigen_parameter(problem) is None:
        return {"verdict": "undecided",
                "reason": "This is an eigenvalue answer, but the problem is not an eigenvalue problem the tutor solves "
                          "(y'' + lambda y = 0 with y or y' zero at two points).", "details": details}
    ok, analysis = ctx.clock.attempt(eigen_analysis, problem, seconds=min(6.0, ctx.clock.left() * 0.5))
    if not ok:
        return {"verdict": "undecided", "reason": "I could not find the eigenvalues of this problem in time.",
                "details": details}
    engine_pairs = analysis[1]
    P = ctx.params[task.parameters[0]]
    name = latex(P)
    methods = set()
    families = []
    for f in task.eigen:
        n = _eigen_index(f.start) if f.index is not None else None
        to_n = {f.index: n} if f.index is not None else {}
        value = ctx.real_form(f.value).xreplace(to_n) if f.value is not None else None
        function = ctx.real_form(f.function).xreplace(to_n) if f.function is not None else None
        families.append((f, n, value, function))
        shown = _family_tex(ctx, name, f, value, function)
        if value is None:
            return {"verdict": "undecided", "reason": f"${shown}$: give each eigenfunction with its eigenvalue "
                    f"(${name}_n = \\dots$).", "details": details}
        if function is None:
            continue
        where = lambda k: f" (for $n = {k}$)" if k is not None and n is not None else ""
        zero_at = _identically_zero_at(ctx, function, n, f.start)
        if zero_at is not False:
            return {"verdict": "wrong", "reason": f"${shown}$: an eigenfunction must not be zero{where(zero_at)}.",
                    "details": details}
        ode = ctx.ode.xreplace({P: value})
        ok, residual = ctx.clock.attempt(_substitute_explicit, ctx, function, ode, seconds=min(2.0, ctx.clock.left() / 4))
        if not ok:
            return {"verdict": "undecided", "reason": "Differentiating the eigenfunctions took too long.", "details": details}
        holds, k, method = _zero_for_every_index(ctx, residual, n, f.start)
        methods.add(method)
        if holds is not True:
            verdict = "wrong" if holds is False else "undecided"
            return {"verdict": verdict,
                    "reason": f"${shown}$: the eigenfunction does not satisfy the equation with ${name} = {ctx.tex(value)}$"
                              f"{where(k)}." if holds is False else
                              f"I could not decide whether ${shown}$ satisfies the equation.", "details": details}
        for ic in task.ics:
            order, x0, v = ic
            at = _d(function, ctx.X, order).subs(ctx.X, ctx.real_form(x0)) - ctx.real_form(v)
            holds, k, method = _zero_for_every_index(ctx, at, n, f.start)
            methods.add(method)
            if holds is not True:
                return {"verdict": "wrong" if holds is False else "undecided",
                        "reason": f"${shown}$: the eigenfunction does not meet ${_ic_tex(ctx, ic)}${where(k)}.",
                        "details": details}
    # Every eigenvalue the answer gives must be the engine's (pairs checked above are), and every one
    # the engine finds must be among the answer's: the first 8 of each family against 12 of each given.
    def values(expr, symbol, start, count):
        return [expr] if symbol is None else [expr.subs(symbol, start + i) for i in range(count)]

    def engine_values(count):
        return [(ctx.real_form(lam.subs(N, i)), y.subs(N, i)) for lam, y in engine_pairs
                for i in (range(1, count + 1) if lam.has(N) or y.has(N) else (0,))]

    known = [lam for lam, _ in engine_values(40)]
    for f, n, value, function in families:
        if function is not None:
            continue
        for v in values(value, n, f.start, 6):
            if not any(_same(ctx, lam, v) for lam in known):
                return {"verdict": "wrong", "reason": f"${name} = {ctx.tex(v)}$ is not an eigenvalue of this problem: "
                        "with it the conditions allow only $y = 0$.", "details": details}
    given = [v for f, n, value, _ in families for v in values(value, n, f.start, 12)]
    for lam, y in engine_values(8):
        if not any(_same(ctx, lam, v) for v in given):
            return {"verdict": "incomplete",
                    "reason": f"Every pair given is an eigenpair, but the eigenvalue ${name} = {ctx.tex(lam)}$ "
                              f"(with ${ctx.tex(ctx.Y)} = {latex(y)}$) is missing.",
                    "details": {**details, "missing": latex(lam)}}
    details["method"] = "numeric" if "numeric" in methods else "symbolic"
    if any(function is None for _, _, _, function in families):
        return {"verdict": "incomplete", "reason": "These are the eigenvalues, but the eigenfunctions are missing.",
                "details": details}
    return {"verdict": "correct",
            "reason": "These are the eigenvalues and eigenfunctions: each eigenfunction solves the equation with its "
                      "eigenvalue and meets both conditions, and no eigenvalue is missing.", "details": details}


# ---------------------------------------------------------------------------
# Systems x' = A x + g(t) (tutor/system.py)
#
# The same verdicts, the same zero test (_decide_residual: cheap symbolic, numeric at random
# points, strong symbolic), the same count of independent constants (_numeric_rank of the
# Jacobian with respect to the constants) and the same time limits; only the substitution
# differs: each component's residual x_i' - (A x + g)_i must vanish, and a general solution of
# n first-order equations has n independent constants (unknowns x order).


def _as_system_answer(answer: Any, problem: SystemProblem) -> Answer:
    if isinstance(answer, Answer):
        return answer
    if isinstance(answer, str):
        text = _tidy(answer)
        _reject_prose(system_prepare(text))
        return parse_system_answer(text, problem)
    items = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    if len(items) != problem.n or not all(isinstance(e, sympy.Eq) for e in items):
        raise ParseError(f"a system's answer gives each of its {problem.n} unknowns: x(t) = ..., y(t) = ...")
    constants = sorted({s for e in items for s in e.rhs.free_symbols if s != problem.variable}, key=lambda s: s.name)
    return Answer(tuple(items), tuple(constants))


@dataclass(frozen=True)
class _SystemTask:
    """What the worker needs to judge a system's answer (picklable SymPy objects)."""

    matrix: sympy.ImmutableMatrix
    forcing: sympy.ImmutableMatrix
    functions: tuple
    variable: sympy.Symbol
    ics: tuple[tuple[str, sympy.Expr, sympy.Expr], ...]
    components: tuple[sympy.Expr, ...]  # the answer's x_i(t), in the problem's order
    constants: tuple[sympy.Symbol, ...]
    seed: int
    author: str = "student"
    rows_tex: tuple[str, ...] = ()  # each equation's right-hand side as the problem shows it

    @classmethod
    def build(cls, problem: SystemProblem, ans: Answer, author: str) -> "_SystemTask":
        by_name = {}
        for eq in ans.solutions:
            lhs, rhs = eq.lhs, eq.rhs
            if not isinstance(lhs, sympy.core.function.AppliedUndef):
                lhs, rhs = rhs, lhs
            if not isinstance(lhs, sympy.core.function.AppliedUndef):
                raise ParseError("each part of a system's answer must be explicit: x = ...")
            by_name[lhs.func.__name__] = rhs
        missing = [f.__name__ for f in problem.functions if f.__name__ not in by_name]
        if missing:
            raise ParseError(f"the answer gives no formula for {', '.join(missing)}")
        components = tuple(by_name[f.__name__] for f in problem.functions)
        key = f"{problem.matrix}|{problem.forcing}|{problem.ics}|{components}".encode()
        seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
        constants = tuple(sorted({s for c in components for s in c.free_symbols if s != problem.variable},
                                 key=lambda s: s.name))
        return cls(problem.matrix, problem.forcing, problem.functions, problem.variable,
                   tuple((ic.function.__name__, ic.point, ic.value) for ic in problem.ics), components,
                   constants, seed, author, tuple(problem.right_side_latex(i) for i in range(problem.n)))


def _check_system(problem: SystemProblem, answer: Any, voice: _Voice, limit: float, started: float) -> Verdict:
    try:
        task = _SystemTask.build(problem, _as_system_answer(answer, problem), voice.author)
    except ParseError as exc:
        return _finish(Verdict("undecided", voice.unreadable(exc), {"error": exc.to_dict()}), started)
    budget = max(0.05, limit - (time.monotonic() - started))
    try:
        if _inside_worker():
            result = _run_system_task(task, budget)
        else:
            result = run_bounded(_run_system_task, task, max(0.05, budget - _MARGIN), timeout=budget,
                                 heavy=problem.heavy or looks_heavy(*task.components))
    except SymbolicBusy:
        raise
    except SymbolicTimeout:
        result = {"verdict": "undecided", "reason": f"I could not decide within the time limit ({limit:g} s).",
                  "details": {"timed_out": True}}
    except WorkerCrashed as exc:
        result = {"verdict": "undecided", "reason": f"The symbolic worker stopped ({exc}); no verdict.",
                  "details": {"crashed": True}}
    except Exception as exc:
        result = {"verdict": "undecided", "reason": "The check failed with an internal error; no verdict.",
                  "details": {"internal_error": f"{type(exc).__name__}: {exc}"}}
    return _finish(Verdict(result["verdict"], result["reason"], result["details"]), started)


def _run_system_task(task: _SystemTask, budget: float) -> dict:
    """Worker entry for a system's answer: the verdict as a plain dict."""
    clock = _Clock(budget)
    # The scalar context gives the real symbols, the random points, the zero test and the display;
    # its "ODE" is unused here (each component has its own residual below).
    scalar = _Task(sympy.Integer(0), sympy.Integer(0), sympy.Integer(0), task.functions[0], task.variable, 1,
                   (), (), (), task.constants, task.seed, task.author)
    ctx = _Context(scalar, clock)
    try:
        return _judge_system(ctx, task)
    except (_OutOfTime, _StageTimeout):
        return {"verdict": "undecided",
                "reason": f"I could not decide within the time limit ({budget + _MARGIN:.3g} s).",
                "details": {"timed_out": True}}


def _judge_system(ctx: _Context, task: _SystemTask) -> dict:
    X = ctx.X
    fs = [ctx.real_form(c) for c in task.components]
    n = len(fs)
    value = _num if any(f.has(sympy.I) for f in fs) else _real

    def points() -> Iterator[dict]:
        for _ in range(40):
            point = ctx.random_point()
            if all(value(f, point) is not None for f in fs):
                yield point

    names = [f.__name__ for f in task.functions]
    rhs = sympy.Matrix(task.matrix) * sympy.Matrix(fs) + sympy.Matrix(task.forcing).xreplace({task.variable: X})
    sol_tex = [f"{name} = {ctx.tex(f)}" for name, f in zip(names, fs)]
    details: dict = {"solutions": sol_tex, "constants": [c.name for c in ctx.C]}
    methods = set()
    for name, f, r, shown in zip(names, fs, rhs, task.rows_tex):
        outcome = _decide_residual(ctx, _d(f, X) - r, points)
        if outcome.method:
            methods.add(outcome.method)
        if outcome.status == "fails":
            details["residual"] = outcome.residual
            details["method"] = "numeric" if "numeric" in methods else "symbolic"
            return {"verdict": "wrong",
                    "reason": f"Substituting {ctx.voice.answer} into ${name}' = {shown}$ leaves "
                              f"${name}' - ({shown}) = {outcome.residual}$, not $0$.",
                    "details": details}
        if outcome.status == "undecided":
            details["note"] = outcome.note
            return {"verdict": "undecided",
                    "reason": f"I could not decide whether {ctx.voice.answer} satisfies the equation for "
                              f"${name}'$: {outcome.note}", "details": details}
    details["method"] = "numeric" if "numeric" in methods else "symbolic"
    consts = [c for c in ctx.C if any(f.has(c) for f in fs)]
    rank = _numeric_rank(ctx, [[_d(f, c) for c in consts] for f in fs], points) if consts else 0
    if rank is None:
        rank = len(consts)
    details["constants_expected"] = 0 if task.ics else n
    details["constants_found"] = rank
    if task.ics:
        if rank:
            return {"verdict": "incomplete",
                    "reason": f"It satisfies the system, but {ctx.voice.your} {rank} constant"
                              f"{'s are' if rank != 1 else ' is'} still free: the initial conditions fix every "
                              "constant of an initial value problem.", "details": details}
        for name, point, wanted in task.ics:
            f = fs[names.index(name)]
            at = f.xreplace({X: ctx.real_form(point)}) - ctx.real_form(wanted)
            outcome = _decide_residual(ctx, at, points)
            if outcome.status != "satisfies":
                condition = f"{name}\\left({latex(point)}\\right) = {latex(wanted)}"
                details["failed_condition"] = condition
                if outcome.status == "undecided":
                    return {"verdict": "undecided", "reason": f"I could not decide whether ${condition}$ holds.",
                            "details": details}
                got = _display(ctx, f.xreplace({X: ctx.real_form(point)}))
                return {"verdict": "wrong",
                        "reason": f"It satisfies the system, but not the condition ${condition}$: "
                                  f"{ctx.voice.answer} gives ${name}\\left({latex(point)}\\right) = {got}$.",
                        "details": details}
        return {"verdict": "correct",
                "reason": "It satisfies every equation of the system and every initial condition.",
                "details": details}
    if rank >= n:
        return {"verdict": "correct",
                "reason": f"It satisfies every equation of the system and has {rank} independent arbitrary "
                          f"constants (one per unknown): this is the general solution.", "details": details}
    named = len(consts)
    extra = f" ({named} named, but they combine into {rank})" if named > rank else ""
    kind = "a particular solution" if rank == 0 else "not the general solution"
    return {"verdict": "incomplete",
            "reason": f"It satisfies the system, but it is {kind}: the general solution of {n} first-order "
                      f"equations has {n} arbitrary constants; {ctx.voice.yours} has {rank}{extra}.",
            "details": details}
