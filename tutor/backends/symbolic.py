"""The always-available backend: the symbolic engine's solution, streamed in the tutor format.

The engine (:func:`tutor.engine.solve`) works in a bounded worker process; its
:meth:`Solution.to_sections` is serialized by :mod:`tutor.format` and yielded section by
section, so the app parses and renders engine and model text with the same code.

Usage::

    for piece in SymbolicBackend(load_profile("symbolic")).stream("y' = 2y"):
        ...
"""
from __future__ import annotations

from typing import Iterator

from tutor.format import serialize, serialize_pieces
from tutor.profiles import Profile


class SymbolicBackend:
    def __init__(self, profile: Profile, timeout: float | None = None):
        self.profile = profile
        self.timeout = timeout

    def solve(self, problem_text: str):
        """The engine's :class:`tutor.engine.Solution` (ParseError for unreadable text)."""
        from tutor.engine import solve

        return solve(problem_text, timeout=self.timeout)

    def stream(self, problem_text: str) -> Iterator[str]:
        yield from serialize_pieces(self.solve(problem_text).to_sections())

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        # The engine is deterministic: n candidates would be n copies of one answer.
        return [serialize(self.solve(problem_text).to_sections())]
