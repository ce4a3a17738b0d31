"""The checker's result (:class:`Verdict`) and the voice its reasons are written in (:class:`_Voice`)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from tutor.errors import ParseError

VERDICTS = ("correct", "incomplete", "wrong", "undecided")


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


def _finish(v: Verdict, started: float) -> Verdict:
    details = dict(v.details)
    details["elapsed_s"] = round(time.monotonic() - started, 4)
    return Verdict(v.verdict, v.reason, details)
