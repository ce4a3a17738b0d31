"""A live tick or cross for each step of a *model's* derivation (issue 14).

The engine's own steps carry their relation and a :class:`tutor.engine.steps.Check` kind, and
:func:`tutor.engine.steps.check_step` proves each one.  A model's step is text: these functions
read the relation it ends on (the last formula with ``=``, or the SymPy answer of its last
request in the tools format) with the project's whitelist readers and ask one question of it —
*does it hold for the solutions of the problem's equation?* — with the checks the engine's steps
and the checker already own:

* a relation with derivatives (``\\frac{1}{y}\\,dy = x\\,dx``, ``y' + 2y = e^x``) must be the
  equation in another form: :func:`tutor.engine.steps.equivalent` (``Check.EQUIVALENT``);
* a relation in y and x (``\\ln y = x^2/2 + C``, ``y = C e^{x^2/2}``, ``y = 0``) must satisfy
  the equation, as the checker judges any answer (:func:`tutor.checker.check` on the problem
  without its initial conditions: ``correct`` or ``incomplete`` — a particular or singular
  solution holds too);
* anything else — a note, an integral still to be done, a characteristic equation, ``\\mu =
  e^{2x}``, a constant's value, a formula the readers cannot read — is *not checked* (no mark
  is a claim), as is the answer of a request that states no relation in y (an antiderivative,
  roots: SymPy computed it from the model's own request).

Model text is untrusted: it is only ever read by :func:`tutor.parser.parse` and
:func:`tutor.checker.read_answer` (whitelist grammars; never ``eval``/``sympify``), each formula
at most :data:`MAX_RELATION_CHARS` long, and every symbolic test runs in the bounded workers
(:func:`tutor.bounded.run_bounded`) within ``timeout`` seconds.  A step whose check did not
finish is not checked, never crossed.

Usage::

    marks = check_model_steps(problem, sections.steps, timeout=3.0)
    marks[6].status, marks[6].reason     # ("wrong", "Substituting it gives ... not 0.")
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import sympy

from tutor.errors import ParseError
from tutor.problem import Problem

#: Statuses of a step mark: it holds (tick), it does not (cross), or nothing in it was checked.
HOLDS, WRONG, UNCHECKED = "holds", "wrong", "unchecked"
#: Seconds for the check of one step (the checker's bounded worker; the engine's workers).
STEP_SECONDS = 3.0
#: Steps of one reply that the session checks (a runaway reply's further steps get no mark).
MAX_CHECKED_STEPS = 24
#: Longer formulas are not read (a model's runaway formula is not worth a worker's time).
MAX_RELATION_CHARS = 400
#: Requests whose answer is a relation in the unknown (checked like a written formula).
_RELATION_OPS = ("solve", "constants", "subs", "simplify")
#: Names a step's arbitrary constants have (C, C_1, K, A, B ...); any other free letter (M_y, N_x,
#: \mu) means the formula is about a helper quantity, not about the solution.
_CONSTANT_NAME = re.compile(r"^(?:[ABCDK]\d*|c_?\d+)$")
#: Symbols whose presence means a formula is about a helper quantity, not the unknown itself.
_DIFFERENTIALS = re.compile(r"(?<![A-Za-z\\])d[a-z](?![A-Za-z])")


@dataclass(frozen=True)
class StepMark:
    """The mark of one model step: ``status`` (:data:`HOLDS`, :data:`WRONG`, :data:`UNCHECKED`),
    a short ``reason`` for the student, and the ``relation`` (LaTeX) that was checked, if any."""

    status: str
    reason: str = ""
    relation: str = ""

    @property
    def checked(self) -> bool:
        return self.status in (HOLDS, WRONG)

    def to_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "relation": self.relation}


def step_relation(step: str) -> tuple[str | None, str]:
    """The relation a step ends on, as LaTeX, and where it comes from (``"model"`` or ``"sympy"``).

    ``(None, why)`` when the step states no relation to check: ``why`` is ``"computed"`` when it
    ends on a SymPy answer that is not a relation in the unknown, else ``""``.
    """
    from tutor.format import answer_text
    from tutor.notation import split_math
    from tutor.tools import _PAIR

    candidates: list[tuple[int, str | None, str]] = []  # (end, relation or None, source)
    masked = step
    for m in _PAIR.finditer(step):
        op, result = m.group(1), (m.group(3) or "").strip()
        ok = bool(result) and not result.startswith("?")
        relation = result if ok and op in _RELATION_OPS and "=" in result else None
        candidates.append((m.end(), relation, "sympy" if relation else ("computed" if ok else "")))
        masked = masked[:m.start()] + " " * (m.end() - m.start()) + masked[m.end():]
    segments, _ = split_math(masked)
    position = 0
    for is_math, piece in segments:
        position += len(piece)
        if is_math:
            body = answer_text(piece)  # the formula without its delimiters
            if "=" in body and not re.search(r"\\(?:ne|neq|le|ge|leq|geq)\b|[<>]", body):
                candidates.append((position, body, "model"))
    if not candidates:
        return None, ""
    _, relation, source = max(candidates, key=lambda c: c[0])
    if relation is None:
        return None, source
    return relation, source


def _is_ode_form(relation: str) -> bool:
    return "'" in relation or "frac{d" in relation or bool(_DIFFERENTIALS.search(relation))


def _equivalent(a: sympy.Eq, b: sympy.Eq) -> bool:
    from tutor.engine.steps import equivalent

    return bool(equivalent(a, b).ok)


def _mark_ode_form(problem: Problem, relation: str, timeout: float) -> StepMark:
    from tutor.bounded import SymbolicTimeout, WorkerCrashed, run_bounded
    from tutor.parser import parse

    try:
        stated = parse(relation)
    except ParseError:
        return StepMark(UNCHECKED, "not read", relation)
    if stated.ics or stated.order != problem.order or stated.function != problem.function \
            or stated.variable != problem.variable:
        return StepMark(UNCHECKED, "another equation (a helper quantity's)", relation)
    if not stated.equation.free_symbols <= problem.equation.free_symbols | {problem.variable}:
        return StepMark(UNCHECKED, "a general formula, not this equation", relation)  # dy/f(y) = dx
    try:
        same = run_bounded(_equivalent, problem.equation, stated.equation, timeout=timeout)
    except (SymbolicTimeout, WorkerCrashed):
        return StepMark(UNCHECKED, "not decided in time", relation)
    if same:
        return StepMark(HOLDS, "the equation in an equivalent form", relation)
    return StepMark(WRONG, "not the equation in another form: it has other solutions", relation)


def _mark_solution(problem: Problem, relation: str, timeout: float) -> StepMark:
    from tutor.checker import check, read_answer

    general = replace(problem, ics=())
    try:
        answer = read_answer(relation, general)
    except ParseError:
        return StepMark(UNCHECKED, "not read", relation)
    unknown = general.function(general.variable)
    if not all(s.has(unknown) for s in answer.solutions):
        return StepMark(UNCHECKED, "does not state the unknown function", relation)
    if not all(_CONSTANT_NAME.match(c.name) for c in answer.constants):  # M_y - N_x = ...: helper quantities
        return StepMark(UNCHECKED, "about other quantities than the solution", relation)
    verdict = check(general, answer, timeout=timeout, author="model")
    if verdict.verdict in ("correct", "incomplete"):
        return StepMark(HOLDS, "satisfies the equation (checked by substitution)", relation)
    if verdict.verdict == "wrong":
        return StepMark(WRONG, _about_the_step(verdict.reason), relation)
    return StepMark(UNCHECKED, "not decided", relation)


def _about_the_step(reason: str) -> str:
    """The checker's reason (in its voice about a model's answer) said of this step's formula."""
    for a, b in (("The model's answer", "This step's formula"), ("the model's answer", "this step's formula"),
                 ("the model's curves", "its curves"), ("The model's curves", "Its curves")):
        reason = reason.replace(a, b)
    return reason


def check_model_step(problem: Problem, step: str, timeout: float = STEP_SECONDS) -> StepMark:
    """The mark of one step of a model's reply to ``problem`` (in the letters the model wrote)."""
    from tutor.bounded import SymbolicBusy

    relation, source = step_relation(step or "")
    if relation is None:
        return StepMark(UNCHECKED, "computed by SymPy" if source == "computed" else "")
    if len(relation) > MAX_RELATION_CHARS:
        return StepMark(UNCHECKED, "too long to check", relation[:80] + "…")
    try:
        if _is_ode_form(relation):
            return _mark_ode_form(problem, relation, timeout)
        return _mark_solution(problem, relation, timeout)
    except SymbolicBusy:
        return StepMark(UNCHECKED, "the symbolic workers were busy", relation)
    except Exception:  # a mark is a help: a failed check is no claim, never a broken reply
        return StepMark(UNCHECKED, "not decided", relation)


def check_model_steps(problem: Problem, steps: Sequence[str], timeout: float = STEP_SECONDS) -> tuple[StepMark, ...]:
    """One :class:`StepMark` per step (see the module's docstring)."""
    return tuple(check_model_step(problem, step, timeout) for step in steps)


def first_wrong(marks: Sequence[StepMark | dict | None]) -> int | None:
    """The number (from 1) of the first crossed step, or None."""
    for number, mark in enumerate(marks, start=1):
        status = mark.get("status") if isinstance(mark, dict) else getattr(mark, "status", None)
        if status == WRONG:
            return number
    return None


def summary(marks: Sequence[StepMark]) -> dict:
    """Counts for evaluation: steps, checked, holding, wrong, and the share of checked steps that hold."""
    checked = [m for m in marks if m.checked]
    holds = sum(m.status == HOLDS for m in checked)
    return {"steps": len(marks), "checked": len(checked), "holds": holds, "wrong": len(checked) - holds,
            "share_holding": round(holds / len(checked), 4) if checked else None}
