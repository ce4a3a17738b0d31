"""Errors the tutor reports to students (never a traceback)."""
from __future__ import annotations


class ParseError(ValueError):
    """The text could not be read as an ODE problem or an answer.

    ``message`` is written for a student; ``position`` is the 0-based index in
    the text the student typed when it is known; ``suggestion`` is a hint such
    as "did you mean y'?".
    """

    def __init__(self, message: str, position: int | None = None, suggestion: str | None = None):
        self.message = message
        self.position = position
        self.suggestion = suggestion
        text = message
        if position is not None:
            text += f" (at position {position})"
        if suggestion:
            text += f" — {suggestion}"
        super().__init__(text)

    def to_dict(self) -> dict:
        return {"error": self.message, "position": self.position, "suggestion": self.suggestion}
