"""The engine's result, :class:`Solution`, and its renderings (dict/JSON, tutor format, text).

``Solution.to_dict()`` is the interface outside tools rely on (``python -m tutor solve
--json``)::

    {"problem": {"latex": str},
     "classification": {"order": int, "degree": int | None, "linear": bool, "types": [ids]},
     "method": id | None, "hint": str,
     "steps": [{"title": str, "text": str, "latex": str}],
     "answer": {"latex": str, "sympy": str} | None,
     "verified": bool}

``answer.sympy`` evaluates in SymPy's namespace to an ``Eq`` in the applied function (or a
list of them when there are alternatives).  ``answer`` is ``None`` when no verified
answer exists (no closed form found, or the time ran out; ``status`` and ``message``
say which, and the last step says it in words).

``to_sections()`` gives :class:`tutor.format.Sections` (the tutor format the models are
trained on); ``to_text()`` the same text for the terminal, with the problem, the method
and whether the answer was verified.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

from tutor.engine.classify import Classification
from tutor.engine.steps import Step, tex
from tutor.problem import Problem, latex

SOLVED = "solved"
#: A boundary value problem whose conditions contradict each other: proved (every step checked), no answer.
NO_SOLUTION = "no_solution"
#: An eigenvalue problem: the eigenvalues and eigenfunctions, proved by checked steps, no single answer.
EIGENVALUES = "eigenvalues"
NO_CLOSED_FORM = "no_closed_form"
#: No closed form, but the IVP was solved numerically (tutor.engine.numerical): labelled, never verified.
NUMERICAL = "numerical"
TIMEOUT = "timeout"


_SENTENCE_END = re.compile(r"(?<=[.:;])\s+(?=[A-Z])")
CONCISE_MAX_CHARS = 140


def _concise(text: str) -> str:
    """The first sentence of a step's explanation when it holds a formula and is short, else ""."""
    first = _SENTENCE_END.split((text or "").strip(), maxsplit=1)[0].strip()
    if "$" not in first or len(first) > CONCISE_MAX_CHARS or first.count("$") % 2:
        return ""
    return first


@dataclass(frozen=True)
class Solution:
    problem: Problem
    classification: Classification | None
    method: str | None
    method_name: str
    hint: str
    steps: tuple[Step, ...]
    answer: tuple[sympy.Eq, ...] | None
    constants: tuple[sympy.Symbol, ...] = ()
    verified: bool = False
    verdict: str = ""  # the checker's verdict on the answer (correct/incomplete/wrong/undecided)
    reason: str = ""
    status: str = SOLVED
    message: str = ""
    seconds: float = 0.0
    attempts: tuple[str, ...] = field(default=())  # methods tried, in order, with why they were dropped
    #: ``check_step`` results, one per step, when solve(..., check_steps=True) asked for them.
    step_checks: tuple = field(default=())
    #: :class:`tutor.engine.numerical.NumericalSolution` when ``status == NUMERICAL``, or beside a closed
    #: form when the problem asks for Euler's method (``Problem.euler_step``).
    numerical: object | None = None

    # ------------------------------------------------------------------ answer renderings

    @property
    def answer_latex(self) -> str:
        if not self.answer:
            return ""
        if getattr(self.problem, "is_system", False):  # one formula per unknown, not alternatives
            return r",\quad ".join(tex(eq, self.problem.variable) for eq in self.answer)
        return r"\quad\text{or}\quad ".join(tex(eq, self.problem.variable) for eq in self.answer)

    @property
    def answer_sympy(self) -> str:
        if not self.answer:
            return ""
        if len(self.answer) == 1:
            return str(self.answer[0])
        return "[" + ", ".join(str(eq) for eq in self.answer) + "]"

    # ------------------------------------------------------------------ renderers

    def to_dict(self) -> dict:
        c = self.classification
        return {
            "problem": {"latex": self.problem.latex},
            "classification": (c.to_dict() if c else
                               {"order": self.problem.order, "degree": None, "linear": False, "types": []}),
            "method": self.method,
            "hint": self.hint,
            "steps": [s.to_dict() for s in self.steps],
            "answer": {"latex": self.answer_latex, "sympy": self.answer_sympy} if self.answer else None,
            "verified": self.verified,
            **({"status": self.status, "numerical": self.numerical.to_dict()} if self.numerical is not None else {}),
        }

    def classification_text(self) -> str:
        if self.classification is None:
            return f"Order {self.problem.order}."
        from tutor.engine.registry import methods

        names = {m.id: m.name for m in methods()}
        return self.classification.describe(names)

    def final_answer_text(self) -> str:
        if self.answer:
            roots = {r.poly for eq in self.answer for r in eq.atoms(sympy.CRootOf)}
            if roots:
                # r_k is an indexed root (no formula in radicals): say of which polynomial, so the
                # answer is readable on its own (the Roots step gives each value).
                r = sympy.Symbol("r")
                where = ", ".join(f"${latex(sympy.Eq(poly.as_expr().subs(poly.gen, r), 0))}$"
                                  for poly in sorted(roots, key=str))
                return f"${self.answer_latex}$, where $r_k$ are the roots of {where} (the Roots step)"
            return f"${self.answer_latex}$"
        return self.message or "No closed form found."

    def to_sections(self, concise: bool = False):
        """The tutor format (:class:`tutor.format.Sections`) of this solution.

        ``concise`` (a small model's training target) keeps of each step's explanation only a
        short first sentence that carries the problem's own formulas ("Divide by $y^2$"); the
        generic textbook prose, the same for every problem, is left to the step's title.
        """
        from tutor.format import Sections

        steps = []
        for step in self.steps:
            text = _concise(step.text) if concise else step.text
            line = f"**{step.title}.** {text}".strip()
            if step.latex:
                line += f" ${step.latex}$"
            steps.append(line)
        return Sections(classification=self.classification_text(), hint=self.hint, steps=steps,
                        final_answer=self.final_answer_text())

    def to_text(self) -> str:
        """The worked solution for a terminal (the CLI prints this): the tutor format as
        :func:`tutor.format.serialize` writes it (one writer of the section headings), between the
        problem and method it solved and the line saying whether the answer was verified."""
        from tutor.format import serialize

        head = [f"Problem: {self.problem.latex}"]
        if self.method:
            head.append(f"Method: {self.method_name} ({self.method})")
        if self.answer:
            status = "Verified by substitution: " + ("yes" if self.verified else f"no ({self.reason})")
        else:
            status = "none found"
        return "\n".join(head) + "\n\n" + serialize(self.to_sections()) + "\nFinal answer: " + status
