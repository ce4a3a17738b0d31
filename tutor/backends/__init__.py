"""Backends: where the tutor's text comes from. Each yields new text pieces (``Iterator[str]``).

- :mod:`tutor.backends.local` — transformers in this process (4-bit NF4 + PEFT adapter).
- :mod:`tutor.backends.remote` — an OpenAI-compatible ``/v1/chat/completions`` server.
- :mod:`tutor.backends.symbolic` — the symbolic engine, serialized in the tutor format.

:func:`get_backend` builds one per profile and keeps it (models load lazily, once per
process).  Consumers stop a stream by stopping iteration (``close()`` on the generator, or
just dropping it): each backend cancels its generation in a ``finally``.

Usage::

    from tutor.backends import get_backend
    from tutor.profiles import load_profile
    backend = get_backend(load_profile())
    for piece in backend.stream("y' = 2y"):
        print(piece, end="", flush=True)
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterator, Protocol

from tutor.profiles import Profile


class BackendError(RuntimeError):
    """Generation failed after the model was reached (a server error, a stalled stream).

    ``transient``: whether another try may succeed (a dropped connection, HTTP 5xx) — the
    pipeline's retries (training.pipeline.retrying) skip errors that are not (HTTP 400)."""

    transient = True


@dataclass
class StreamStats:
    """Filled in by a stream that counts (the local backend): generated tokens, time to first
    piece, total time, cancelled.  A backend whose ``stream`` takes ``stats=`` fills it in; the
    session reads ``tokens`` for its progress line while the reply streams."""

    tokens: int = 0
    first_piece_s: float | None = None
    seconds: float = 0.0
    cancelled: bool = False


class Backend(Protocol):
    profile: Profile

    def stream(self, problem_text: str) -> Iterator[str]:
        """New text pieces of one reply (greedy unless the profile samples)."""
        ...

    def complete(self, problem_text: str, n: int = 1) -> list[str]:
        """``n`` whole replies (sampled when ``n > 1``): verified best-of-n draws from these."""
        ...


_backends: dict[Profile, Backend] = {}
_lock = threading.Lock()


def get_backend(profile: Profile) -> Backend:
    """The backend for ``profile`` (one per distinct profile per process). Loads nothing yet."""
    with _lock:
        backend = _backends.get(profile)
        if backend is None:
            if profile.backend == "local":
                from tutor.backends.local import LocalBackend

                backend = LocalBackend(profile)
            elif profile.backend == "remote":
                from tutor.backends.remote import RemoteBackend

                backend = RemoteBackend(profile)
            else:
                from tutor.backends.symbolic import SymbolicBackend

                backend = SymbolicBackend(profile)
            _backends[profile] = backend
        return backend


__all__ = ["Backend", "BackendError", "get_backend"]
