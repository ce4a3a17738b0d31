"""A tutoring session: parse the problem, stream the reply, parse it live, verify, fall back.

:class:`TutorSession` ties the pieces together for the app and the CLI:

1. :func:`tutor.parse` reads the problem (a :class:`tutor.ParseError` goes to the caller);
2. the profile's backend streams the reply (:mod:`tutor.backends`), and the sections are
   parsed as the pieces arrive (:mod:`tutor.format`, or the profile's own format);
3. the moment the Final Answer line is complete it is checked with the project's one
   verifier, :func:`tutor.checker.check` (generation keeps running meanwhile);
4. optionally (``generation.candidates`` > 1) more candidates are sampled in one batch and
   the first verified one is kept (verified best-of-n);
5. if the answer is still ``wrong`` or ``undecided`` and the engine solves the problem, the
   engine's verified solution is offered, labelled as such (``fallback_used``);
6. meanwhile the engine classifies the problem (in a worker, while the model writes), and a
   model Classification or Hint that this classification contradicts is flagged
   (``flags``: :func:`tutor.claims.contradictions`).

Every update carries ``status``, a :class:`Progress` saying what the session is doing (starting
the model, generating n tokens, checking the answer, asking the engine) with the time spent and,
where one is known, a limit or an estimate; while it waits on something slow (the model's first
token, the check, the engine) it still sends an update every ``tick`` seconds, so a reply never
stalls without a word (issue 15).

A profile whose model is missing raises :class:`tutor.profiles.ModelUnavailable` before any
text is produced: the session never switches models silently.  A stream that breaks midway
(server gone) is reported in ``error`` and treated like an undecided answer.

Usage::

    session = TutorSession(load_profile("tinyllama-ode"))
    for update in session.stream("y' + 2y = e^(-x)"):
        show(update.sections, update.verdict)          # live
    result = update.result                              # the last update carries it
    result.to_dict()["model_verdict"]
"""
from __future__ import annotations

import inspect
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Generator, Iterator, TypeVar

from tutor.backends import BackendError, StreamStats, get_backend
from tutor.format import FORMATS, STEPS, PromptFormat, SectionParser, Sections, answer_text
from tutor.model_steps import MAX_CHECKED_STEPS, STEP_SECONDS
from tutor.parser import parse
from tutor.problem import Problem
from tutor.profiles import Profile, load_profile

FALLBACK_LABEL = "Solution from the symbolic engine (verified by substitution)"
_FALLBACK_VERDICTS = ("wrong", "undecided")
#: Seconds between updates while the session waits on something slow.
TICK_SECONDS = 1.0

T = TypeVar("T")
# Checks, engine calls and the engine's classification run here so the stream can keep reporting
# while they run (each is bounded by its own timeout in a worker process).
_WAITS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="tutor-session-wait")

#: What the student reads when a model profile is asked about a system of equations.
SYSTEM_NOTICE = ("Systems of equations are answered by the symbolic engine: the model profile “{profile}” "
                 "was not trained on them.")

#: Progress phases, in the order a reply goes through them.
STARTING, GENERATING, CHECKING, SAMPLING, CLASSIFYING, ENGINE, DONE = (
    "starting", "generating", "checking", "sampling", "classifying", "engine", "done")


@dataclass(frozen=True)
class Progress:
    """What the session is doing now, for the status line: the phase, seconds spent in it, and
    what is known about how long it can take (a token count and budget, a time limit)."""

    phase: str
    seconds: float = 0.0
    tokens: int = 0
    counted: bool = False          # ``tokens`` are the model's tokens (else text pieces)
    max_tokens: int | None = None  # the profile's max_new_tokens
    rate: float | None = None      # tokens (pieces) per second since the first one
    limit_s: float | None = None   # the phase's time limit (check, engine)
    what: str = ""                 # extra words (how many candidates are sampled)

    def describe(self) -> str:
        """One sentence for the status line."""
        spent = f"{self.seconds:.0f} s"
        limit = f" (at most {self.limit_s:g} s)" if self.limit_s else ""
        if self.phase == STARTING:
            return (f"Waiting for the model's first words… {spent} (the first request after a start loads "
                    "the model, which can take a minute).")
        if self.phase == GENERATING:
            unit = "tokens" if self.counted else "pieces of text"
            text = f"Generating the model's reply: {self.tokens} {unit} in {spent}"
            if self.rate:
                text += f" ({self.rate:.1f}/s)"
            if self.counted and self.max_tokens and self.rate:
                left = max(0, self.max_tokens - self.tokens)
                text += f"; at most {left} more, about {left / self.rate:.0f} s at this pace"
            return text + "."
        if self.phase == CHECKING and self.what == "steps":
            return f"Checking the model's steps… {spent}{limit}."
        if self.phase == CHECKING:
            return f"Checking the model's answer by substitution… {spent}{limit}."
        if self.phase == SAMPLING:
            return f"Sampling {self.what} more candidate replies to find a verified one… {spent}."
        if self.phase == CLASSIFYING:
            return f"Asking the engine how it classifies the equation… {spent}{limit}."
        if self.phase == ENGINE:
            return f"Asking the symbolic engine for a verified solution… {spent}{limit}."
        return f"Done in {spent}."


class _Pump:
    """A backend's pieces read in a thread, one at a time on request, so the session can send
    progress updates while it waits for the next one (the model loading, a slow first token).

    Nothing is read ahead: the next piece is asked for only when the session wants it, and
    ``close`` makes the thread close the backend's generator (which stops generation) in the
    thread that runs it."""

    END = object()

    def __init__(self, pieces: Iterator[str]):
        self._pieces = pieces
        self._wanted = threading.Semaphore(0)
        self._out: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._asked = False
        self._thread = threading.Thread(target=self._run, name="tutor-session-pieces", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                self._wanted.acquire()
                if self._stop.is_set():
                    return
                try:
                    piece = next(self._pieces)
                except StopIteration:
                    self._out.put((self.END, None))
                    return
                except BaseException as exc:  # raised again in the session's thread
                    self._out.put((None, exc))
                    return
                self._out.put((piece, None))
        finally:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()

    def next(self, timeout: float) -> Any:
        """The next piece, :data:`END`, or None when none came within ``timeout`` s."""
        if not self._asked:
            self._asked = True
            self._wanted.release()
        try:
            piece, error = self._out.get(timeout=timeout)
        except queue.Empty:
            return None
        self._asked = False
        if error is not None:
            raise error
        return piece

    def close(self, wait: float = 5.0) -> None:
        self._stop.set()
        self._wanted.release()
        self._thread.join(timeout=wait)  # a piece still on its way is dropped when it arrives


class LiveSections:
    """Sections of a reply as its pieces arrive, in the profile's format."""

    def __init__(self, fmt: PromptFormat):
        self.fmt = fmt
        self._incremental = SectionParser() if fmt is FORMATS["tutor"] else None
        self._pieces: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def feed(self, piece: str) -> Sections:
        self._pieces.append(piece)
        if self._incremental is not None:
            return self._incremental.feed(piece)
        return self.fmt.parse(self.text)

    def finish(self) -> Sections:
        if self._incremental is not None:
            return self._incremental.finish()
        return self.fmt.parse(self.text, done=True)


def _verdict_dict(verdict: Any) -> dict:
    data = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
    return {"verdict": data.get("verdict"), "reason": data.get("reason", ""), **(
        {"details": data["details"]} if data.get("details") else {})}


@dataclass
class SessionResult:
    """Everything a session produced; ``to_dict`` is the CLI's JSON."""

    problem: Problem
    profile: Profile
    text: str = ""                  # the reply as shown (the student's letters)
    model_text: str = ""            # the reply as the model wrote it (canonical letters, if used)
    sections: Sections = field(default_factory=Sections)
    model_verdict: dict | None = None
    fallback_used: bool = False
    fallback: Any = None            # the engine's Solution when it was offered
    engine_solution: Any = None     # the Solution the symbolic backend streamed
    flags: dict[str, str] = field(default_factory=dict)  # section -> what the engine contradicts
    classification: Any = None      # the engine's Classification of the problem (model profiles)
    #: One mark per step of the model's reply (:mod:`tutor.model_steps`: ``status``, ``reason`` in
    #: the student's letters, ``relation`` as the model wrote it); empty for the symbolic profile.
    step_marks: list[dict] = field(default_factory=list)
    candidates: int = 1             # replies generated (best-of-n)
    chosen_candidate: int = 0       # which one is shown (0 = the streamed one)
    error: str | None = None
    seconds: float = 0.0
    #: Said to the student when the engine answered in the model's place (a system of equations:
    #: the shipped models were not trained on systems), else "".
    notice: str = ""

    @property
    def verdict(self) -> str | None:
        return self.model_verdict["verdict"] if self.model_verdict else None

    def to_dict(self) -> dict:
        final = self.sections.final_answer
        if self.engine_solution is not None:
            data = self.engine_solution.to_dict()
        else:
            data = {
                "problem": {"latex": self.problem.latex},
                "classification": {"text": self.sections.classification},
                "method": None,
                "hint": self.sections.hint,
                "steps": [{"title": "", "text": step, "latex": ""} for step in self.sections.steps],
                "answer": {"latex": answer_text(final), "sympy": ""} if final else None,
                "verified": self.verdict == "correct",
            }
        data.update(
            backend=self.profile.describe(),
            model_verdict=self.model_verdict,
            fallback_used=self.fallback_used,
            text=self.text,
            sections=self.sections.to_dict(),
            flags=dict(self.flags),
            step_marks=list(self.step_marks),
            candidates=self.candidates,
            chosen_candidate=self.chosen_candidate,
            error=self.error,
            seconds=round(self.seconds, 3),
            notice=self.notice,
        )
        if self.fallback is not None:
            data["fallback"] = {"label": FALLBACK_LABEL, **self.fallback.to_dict()}
        return data


@dataclass
class SessionUpdate:
    """One step of a session: a new piece of text, a verdict, a fallback, or the end."""

    piece: str
    text: str
    sections: Sections
    verdict: dict | None = None
    fallback: Any = None
    done: bool = False
    result: SessionResult | None = None
    status: Progress | None = None
    flags: dict[str, str] = field(default_factory=dict)
    #: The marks known so far, one per step (None: not checked yet); see SessionResult.step_marks.
    step_marks: tuple = ()


class _StepMarks:
    """The live per-step checks of a model's reply: each step is checked (in a thread, by
    :func:`tutor.model_steps.check_model_step`) as soon as the next one starts."""

    def __init__(self, problem: Problem, shown: Callable[[dict], dict], enabled: bool = True):
        self.problem, self.shown, self.enabled = problem, shown, enabled
        self.futures: list[Future] = []
        self.steps: list[str] = []
        self.shown_marks: dict[int, dict] = {}  # index -> the finished mark as the student sees it

    def feed(self, steps: list[str], complete: int) -> None:
        """``steps`` of the reply so far, the first ``complete`` of them finished."""
        if not self.enabled:
            return
        from tutor.model_steps import UNCHECKED, StepMark, check_model_step

        if steps[:len(self.steps)] != self.steps:  # another reply (best-of-n chose one): start again
            self.futures, self.steps, self.shown_marks = [], [], {}
        for step in steps[len(self.steps):complete]:
            self.steps.append(step)
            if len(self.futures) >= MAX_CHECKED_STEPS:  # a runaway reply costs no more symbolic work
                skipped: Future = Future()
                skipped.set_result(StepMark(UNCHECKED, f"only the first {MAX_CHECKED_STEPS} steps are checked"))
                self.futures.append(skipped)
                continue
            self.futures.append(_WAITS.submit(check_model_step, self.problem, step))

    def _shown(self, future: Future) -> dict:
        try:
            mark = future.result().to_dict()
        except Exception:  # a mark is a help; a failed check is no mark
            mark = {"status": "unchecked", "reason": "", "relation": ""}
        return {**mark, "reason": self.shown({"reason": mark["reason"]})["reason"]}

    def marks(self) -> tuple:
        """One entry per step fed so far: its mark as the student sees it, or None while checked."""
        for index, future in enumerate(self.futures):
            if index not in self.shown_marks and future.done():
                self.shown_marks[index] = self._shown(future)
        return tuple(self.shown_marks.get(index) for index in range(len(self.futures)))

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for future in self.futures:
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:
                pass


class TutorSession:
    """Stream -> parse -> verify -> fall back, for one profile. Thread-safe to share."""

    def __init__(self, profile: Profile | None = None, *, check_timeout: float | None = None,
                 engine_timeout: float | None = None, fallback: bool = True, tick: float = TICK_SECONDS,
                 step_checks: bool = True):
        self.profile = profile if profile is not None else load_profile()
        self.check_timeout = check_timeout
        self.engine_timeout = engine_timeout
        self.use_fallback = fallback
        self.tick = tick
        self.step_checks = step_checks

    def _check(self, problem: Problem, final_answer: str) -> dict:
        from tutor.checker import check

        # The reason describes the model's answer ("the model's answer is written in t"), never
        # speaks to the student as if they had written it.
        return _verdict_dict(check(problem, answer_text(final_answer), timeout=self.check_timeout, author="model"))

    def _engine(self, problem: Problem):
        from tutor.engine import solve

        return solve(problem, timeout=self.engine_timeout)

    def _classify(self, problem: Problem):
        """The engine's classification, or None (timed out, or the engine failed: then nothing is flagged)."""
        from tutor.engine import classify_bounded

        try:
            return classify_bounded(problem, timeout=self.engine_timeout)
        except Exception:  # flags are a help; their absence must never break a reply
            return None

    def _until(self, future: Future, status: Callable[[float], SessionUpdate]) -> Generator[SessionUpdate, None, Any]:
        """``future``'s value; meanwhile ``status(seconds waited)`` at once and every ``tick`` seconds."""
        started = time.perf_counter()
        yield status(0.0)
        while True:
            try:
                return future.result(timeout=self.tick)
            except FutureTimeout:
                yield status(time.perf_counter() - started)

    def _wait(self, status: Callable[[float], SessionUpdate], fn: Callable[..., T], *args: Any
              ) -> Generator[SessionUpdate, None, T]:
        """``fn(*args)`` run in a thread, with ``status`` updates while it runs."""
        return (yield from self._until(_WAITS.submit(fn, *args), status))

    @staticmethod
    def _flags(classification: Future | None, sections: Sections, done: bool = False) -> dict[str, str]:
        """What the engine's classification contradicts in the finished Classification and Hint."""
        if classification is None or not classification.done():
            return {}
        from tutor.claims import contradictions
        from tutor.format import CLASSIFICATION, HINT

        finished = replace(sections, classification=sections.classification if done or sections.is_complete(
            CLASSIFICATION) else "", hint=sections.hint if done or sections.is_complete(HINT) else "")
        return contradictions(finished, classification.result())

    def stream(self, problem_text: str, problem: Problem | None = None) -> Iterator[SessionUpdate]:
        """Updates as the reply streams; the last one has ``done=True`` and the ``result``.

        ``problem``: ``problem_text`` already parsed by the caller (the app parses once, for its
        preview and its errors); otherwise it is parsed here."""
        started = time.perf_counter()
        problem = problem if problem is not None else parse(problem_text)
        result = SessionResult(problem=problem, profile=self.profile)
        live = LiveSections(self.profile.format)
        symbolic = self.profile.backend == "symbolic"
        if getattr(problem, "is_system", False) and not symbolic:
            # The shipped models were not trained on systems: the engine answers, and says so.
            result.notice = SYSTEM_NOTICE.format(profile=self.profile.name)
            symbolic = True
        backend = get_backend(self.profile) if not result.notice else None
        # A canonical-letters model reads the problem in y(x) and is checked against that problem;
        # the student sees every formula in their own letters (tutor/letters.py).
        prompt, checked, view = model_input(problem, problem_text, self.profile)
        shown_text = view.to_student if view else (lambda text: text)
        shown = view.sections_to_student if view else (lambda s: s)
        shown_verdict = view.verdict_to_student if view else (lambda v: v)
        rewritten = view is not None
        if self.profile.prompt_format == "tools":  # requests and SymPy's answers, written as maths
            shown_text, shown = _readable(shown_text, shown)
            rewritten = True
        text, current = "", Sections()

        marks = _StepMarks(checked, shown_verdict, enabled=self.step_checks and not symbolic)

        def update(status: Progress | None, piece: str = "", **extra: Any) -> SessionUpdate:
            return SessionUpdate(piece, text, current, result.model_verdict, fallback=result.fallback,
                                 status=status, flags=dict(result.flags), step_marks=marks.marks(), **extra)

        def phase(name: str, limit: float | None = None, what: str = "") -> Callable[[float], SessionUpdate]:
            return lambda seconds: update(Progress(name, seconds, limit_s=limit, what=what))

        classification: Future | None = None
        stats: StreamStats | None = None
        # The model sees what the student typed (a canonical-letters profile: the problem in y(x));
        # the engine gets the parsed problem.
        if symbolic:
            yield update(Progress(ENGINE, limit_s=self.engine_timeout))
            solution = yield from self._wait(phase(ENGINE, self.engine_timeout), self._engine, problem)
            result.engine_solution = solution
            # The engine verified its answer with the same checker; no second check.
            result.model_verdict = {"verdict": solution.verdict or ("correct" if solution.verified else "undecided"),
                                    "reason": solution.reason or solution.message}
            from tutor.format import serialize_pieces

            pieces: Iterator[str] = iter(serialize_pieces(solution.to_sections()))
        else:
            self.profile.check_available()  # ModelUnavailable before any text, never a switch
            # The engine classifies while the model writes (a worker process), for the flags.
            classification = _WAITS.submit(self._classify, checked)
            if "stats" in inspect.signature(backend.stream).parameters:  # a backend that counts tokens
                stats = StreamStats()
                pieces = backend.stream(prompt, stats=stats)
            else:
                pieces = backend.stream(prompt)
        generation_started = time.perf_counter()
        first_piece: float | None = None
        count = 0

        def generating() -> Progress | None:
            if symbolic:
                return None
            now = time.perf_counter()
            if first_piece is None:
                return Progress(STARTING, now - generation_started)
            tokens = stats.tokens if stats is not None else count
            rate = tokens / (now - first_piece) if now - first_piece >= 0.5 and tokens else None
            return Progress(GENERATING, now - generation_started, tokens, counted=stats is not None,
                            max_tokens=self.profile.generation.max_new_tokens, rate=rate)

        previous = ""
        pump = _Pump(pieces)
        try:
            if not symbolic:
                yield update(generating())
            while True:
                piece = pump.next(self.tick)
                if piece is None:  # nothing new yet: say so, and how long it has been
                    yield update(generating())
                    continue
                if piece is _Pump.END:
                    break
                count += 1
                if first_piece is None:
                    first_piece = time.perf_counter()
                sections = live.feed(piece)
                text, current = shown_text(live.text), shown(sections)
                # the new piece as shown (a renamed letter may change text already sent)
                piece_shown = text[len(previous):] if rewritten and text.startswith(previous) else piece
                previous = text
                result.flags = self._flags(classification, sections)
                marks.feed(sections.steps, len(sections.steps) if sections.is_complete(STEPS) or sections.final_answer
                           else len(sections.steps) - 1)
                yield update(generating(), piece_shown)
                if result.model_verdict is None and sections.final_answer_complete:
                    verdict = yield from self._wait(phase(CHECKING, self.check_timeout), self._check, checked,
                                                    sections.final_answer)
                    result.model_verdict = shown_verdict(verdict)
                    yield update(generating())
        except BackendError as exc:
            result.error = str(exc)
        finally:
            pump.close()  # stops the model's generation if our consumer stopped early
        sections = live.finish()
        result.model_text = live.text
        result.text, result.sections = shown_text(live.text), shown(sections)
        text, current = result.text, result.sections
        if result.model_verdict is None:
            if sections.final_answer.strip():
                verdict = yield from self._wait(phase(CHECKING, self.check_timeout), self._check, checked,
                                                sections.final_answer)
                result.model_verdict = shown_verdict(verdict)
            else:
                reason = (f"The model stopped before giving a final answer ({result.error})." if result.error
                          else "The reply has no final answer.")
                result.model_verdict = {"verdict": "undecided", "reason": reason}
            yield update(None)

        wanted = self.profile.generation.candidates
        if wanted > 1 and result.verdict != "correct" and not symbolic and not result.error:
            yield from self._wait(phase(SAMPLING, what=str(wanted - 1)), self._best_of_n, prompt, checked, result,
                                  wanted - 1, view)
            if result.chosen_candidate:
                text, current = result.text, result.sections
                yield update(None)

        model_sections = self.profile.format.parse(result.model_text, done=True)  # the reply shown, as written
        if marks.enabled:  # every step of the reply shown is checked, within the checker's time
            marks.feed(model_sections.steps, len(model_sections.steps))
            yield from self._wait(phase(CHECKING, self.check_timeout, what="steps"), marks.wait,
                                  STEP_SECONDS + 1.0 if self.check_timeout is None else max(1.0, self.check_timeout))
            result.step_marks = [m or {"status": "unchecked", "reason": "not decided in time", "relation": ""}
                                 for m in marks.marks()]

        if classification is not None:
            if model_sections.classification.strip() or model_sections.hint.strip():
                result.classification = yield from self._until(classification, phase(CLASSIFYING, self.engine_timeout))
                result.flags = self._flags(classification, model_sections, done=True)

        if self.use_fallback and not symbolic and result.verdict in _FALLBACK_VERDICTS:
            solution = yield from self._wait(phase(ENGINE, self.engine_timeout), self._engine, problem)
            if solution.verified:
                result.fallback, result.fallback_used = solution, True
                yield update(None)
        result.seconds = time.perf_counter() - started
        yield update(Progress(DONE, result.seconds), done=True, result=result)

    def _best_of_n(self, prompt: str, problem: Problem, result: SessionResult, more: int, view=None) -> None:
        """Sample ``more`` candidates in one batch; keep the first the verifier accepts.

        ``prompt`` and ``problem`` are what the model reads and is checked against (canonical
        letters for such a profile); ``view`` renames the kept reply back for the student.
        """
        try:
            texts = get_backend(self.profile).complete(prompt, n=more)
        except BackendError as exc:
            result.error = str(exc)
            return
        result.candidates += len(texts)
        for index, text in enumerate(texts, start=1):
            sections = self.profile.format.parse(text, done=True)
            if not sections.final_answer.strip():
                continue
            verdict = self._check(problem, sections.final_answer)
            if verdict["verdict"] == "correct":
                result.model_text = text
                if view is not None:
                    text, sections, verdict = (view.to_student(text), view.sections_to_student(sections),
                                               view.verdict_to_student(verdict))
                result.text, result.sections, result.model_verdict = text, sections, verdict
                result.chosen_candidate = index
                return

    def run(self, problem_text: str) -> SessionResult:
        """The whole session without live updates."""
        update = None
        for update in self.stream(problem_text):
            pass
        assert update is not None and update.result is not None
        return update.result


def _readable(shown_text: Callable[[str], str], shown: Callable[[Sections], Sections]):
    """``shown_text`` and ``shown`` with a tools reply's markup written as maths first
    (:func:`tutor.tools.readable`, before any renaming of letters: it works on ``$...$``)."""
    from dataclasses import replace

    from tutor.tools import readable

    def sections(s: Sections) -> Sections:
        return shown(replace(s, steps=[readable(step) for step in s.steps], final_answer=readable(s.final_answer)))

    return (lambda text: shown_text(readable(text))), sections


def model_input(problem: Problem, problem_text: str, profile: Profile):
    """(prompt text, problem the reply is checked against, letter view or None) for a profile.

    Plain profiles read what the student typed and are checked against the parsed problem. A
    ``canonical_letters`` profile reads :func:`tutor.letters.model_problem_text` of the problem
    renamed to y(x) and is checked against that renamed problem; the view renames back.
    """
    if not profile.canonical_letters or profile.backend == "symbolic" or getattr(problem, "is_system", False):
        return problem_text, problem, None
    from tutor.letters import canonical_view, model_problem_text

    view = canonical_view(problem)
    checked = view.canonical if view else problem
    return model_problem_text(checked), checked, view
