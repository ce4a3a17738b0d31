"""The training pipeline at scale: resumable result logs, many generations in flight, retries.

The LMT recipe this project reproduces samples 32 rationales for each of 1,200 problems and has a
student sit an exam for every one: hundreds of thousands of generations, each answer verified.
The stages of :mod:`training.lbt` and :mod:`training.evaluate` therefore run as *items* with
stable ids through :func:`run_items`:

* every finished item is appended to a JSON-lines :class:`ResultLog` at once (flushed and
  fsynced), so a crash at item 30,000 loses at most the items in flight; a rerun of the same
  command reads the log and skips what is there (a half-written last line is cut off);
* with a model server (vLLM on GPUs, ``transformers serve`` here; :func:`server_profile`) up to
  ``concurrency`` items are in flight at once, so the server can batch them;
* a transport failure (connection dropped, HTTP 5xx, a timeout) is retried with exponential
  backoff (:func:`retrying`); an item that still fails is left out of the log and reported, and
  the next run retries it — nothing is recorded as a model's failure that was the network's.

The CPU-bound SymPy work (the engine's generators, the checker) fans out separately, on Ray or on
this machine's worker pool (:mod:`training.fanout`).
"""
from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

logger = logging.getLogger(__name__)


class ResultLog:
    """An append-only JSON-lines file of finished items, keyed by their ``id``.

    Opening it reads what an earlier run finished; a last line cut short by a crash is removed
    from the file (so the next append starts on a fresh line) and its item counts as not done.
    ``fresh=True`` starts over.  ``append`` is thread-safe and durable (flush + fsync).
    """

    def __init__(self, path: str | Path, fresh: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.records: dict[str, dict] = {}
        if fresh and self.path.exists():
            self.path.unlink()
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        data = self.path.read_bytes()
        good = 0  # bytes up to the end of the last line that parsed
        for line in data.splitlines(keepends=True):
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                if not line.endswith(b"\n"):
                    break  # the crash's half-written line
                logger.warning("%s: skipping an unreadable line", self.path)
                good += len(line)
                continue
            if not line.endswith(b"\n"):
                break  # whole JSON, but the newline never made it: rewrite it
            good += len(line)
            if isinstance(record, dict) and "id" in record:
                self.records[str(record["id"])] = record
        if good < len(data):
            with open(self.path, "r+b") as fh:
                fh.truncate(good)

    def __contains__(self, item_id: str) -> bool:
        return str(item_id) in self.records

    def __len__(self) -> int:
        return len(self.records)

    def get(self, item_id: str) -> dict | None:
        return self.records.get(str(item_id))

    def append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self.records[str(record["id"])] = record


def transient_errors() -> tuple[type[BaseException], ...]:
    """Failures worth another try: the backends' transport errors (server gone, HTTP 5xx, timeouts)."""
    import httpx

    from tutor.backends import BackendError
    from tutor.profiles import ModelUnavailable

    return BackendError, ModelUnavailable, httpx.HTTPError, ConnectionError, TimeoutError


def retrying(fn: Callable[..., Any], *, tries: int = 4, backoff: float = 0.5, max_backoff: float = 8.0,
             retry_on: tuple[type[BaseException], ...] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> Callable[..., Any]:
    """``fn`` retried on ``retry_on`` (default :func:`transient_errors`) up to ``tries`` times in all,
    waiting ``backoff * 2**attempt`` seconds (capped at ``max_backoff``, with up to 25% jitter).
    An error whose ``transient`` attribute is false (a server's HTTP 400) is raised at once."""
    errors = retry_on if retry_on is not None else transient_errors()

    def call(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(max(1, tries)):
            try:
                return fn(*args, **kwargs)
            except errors as exc:
                if attempt + 1 >= tries or not getattr(exc, "transient", True):
                    raise
                pause = min(max_backoff, backoff * 2 ** attempt) * (1 + random.random() / 4)
                logger.info("retrying after %s (%s), in %.1f s", type(exc).__name__, exc, pause)
                sleep(pause)
        raise AssertionError("unreachable")

    return call


@dataclass
class RunReport:
    """What :func:`run_items` did: items finished now, found finished, and failed (id -> why)."""

    done: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self, what: str = "items") -> str:
        text = f"{self.done} {what} done in {self.seconds:.1f} s, {self.skipped} already done"
        if self.failed:
            text += (f"; {len(self.failed)} failed (first: {next(iter(self.failed.values()))}) — "
                     "run the same command again to retry them")
        return text


def run_items(items: Iterable[tuple[str, Any]], work: Callable[[Any], dict], log: ResultLog, *,
              concurrency: int = 1, desc: str = "items", progress: bool = True) -> RunReport:
    """``work(payload)`` for every ``(id, payload)`` not in ``log``, ``concurrency`` at a time.

    Each result (a dict; its ``id`` is set here) is appended to ``log`` as soon as it is done.
    An exception from ``work`` fails that item only: it is reported, not logged, so a rerun
    tries it again.  At most ``2 * concurrency`` items are submitted ahead, so a huge list costs
    no memory up front.
    """
    from tqdm.auto import tqdm

    report = RunReport()
    started = time.monotonic()
    pending = []
    for item_id, payload in items:
        if str(item_id) in log:
            report.skipped += 1
        else:
            pending.append((str(item_id), payload))
    bar = tqdm(total=len(pending), desc=desc, unit="item", disable=not progress)

    def finish(item_id: str, future: Future) -> None:
        try:
            result = future.result()
        except Exception as exc:  # one item's failure; the run goes on
            report.failed[item_id] = f"{type(exc).__name__}: {exc}"
            logger.warning("%s %s failed: %s", desc, item_id, report.failed[item_id])
        else:
            log.append({**result, "id": item_id})
            report.done += 1
        bar.update(1)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="pipeline") as pool:
        in_flight: dict[Future, str] = {}
        queue = iter(pending)
        exhausted = False
        while in_flight or not exhausted:
            while not exhausted and len(in_flight) < 2 * max(1, concurrency):
                try:
                    item_id, payload = next(queue)
                except StopIteration:
                    exhausted = True
                    break
                in_flight[pool.submit(work, payload)] = item_id
            if not in_flight:
                break
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                finish(in_flight.pop(future), future)
    bar.close()
    report.seconds = time.monotonic() - started
    return report


def server_profile(profile: Any, url: str, model: str | None = None, api_key_env: str | None = None,
                   request_timeout: float | None = None) -> Any:
    """``profile`` (its prompt format, letters and decoding) served by an OpenAI-compatible server.

    ``url`` is the server (``http://gpu-box:8000`` or ``.../v1``); ``model`` the name it serves the
    model under (vLLM: the ``--lora-modules`` name of the adapter); ``request_timeout`` the most
    seconds one whole reply may take (non-streamed requests read the reply in one piece).
    """
    return replace(profile, name=f"{profile.name}@server", backend="remote", base_url=url, base_url_env=None,
                   remote_model=model, remote_model_env=None, api_key_env=api_key_env,
                   read_timeout=request_timeout or profile.read_timeout)
