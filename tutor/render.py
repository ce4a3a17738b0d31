"""Markdown (with ``$...$`` LaTeX) and LaTeX renderings of tutor results, for the app and exports.

The app (``app.py``) only wires widgets; everything it shows is built here from tutor objects:

* :func:`problem_preview` — the live preview of what the student typed (the parsed ODE, or
  the parse error with a caret under the position and the suggestion);
* :class:`SolveView` + :func:`solve_markdown` — a (possibly still streaming) tutor reply:
  problem, Classification, Hint, Steps, Final Answer and the verification badge, optionally
  revealed one phase or step at a time (learning mode, :func:`next_reveal`).  Nothing unchecked
  looks checked: every section carries a tag saying who wrote it and its status ("model — not
  yet checked", "engine — checked"), a model section the engine's classification contradicts is
  flagged, the badge sits right under the answer, and when the model's answer is not verified
  the engine's verified solution takes the main place, the model's attempt collapsed below it,
  labelled.  While the reply streams a status line says what is happening (:attr:`SolveView.status`);
* :func:`export_markdown` / :func:`export_latex` — the worked solution as a Markdown file or
  LaTeX source;
* :func:`check_markdown` and :func:`practice_markdown` for the Check and Teach tabs.

While a reply streams, a formula may be cut in half (``$y = e^{2`` ...).  KaTeX would show
that as an error for a moment, so :func:`complete_math` drops an unclosed trailing formula
until its closing delimiter arrives: only complete ``$...$`` spans are ever rendered.

Every formula that reaches the page goes through :func:`safe_math` first: one that KaTeX would
refuse (:func:`tutor.katex.formula_error`: unbalanced braces or ``\\left``/``\\right``, a
``\\frac`` without its second argument, a command KaTeX does not know ...) and a ``$`` that is
never closed are shown as inline code instead, so a model's broken LaTeX never shows as red
error text or raw ``$...$`` fragments.  A model's Final Answer that the checker can read is
shown as the checker read it (:func:`final_answer_latex`), from SymPy's LaTeX.

Nothing here computes mathematics; it never imports gradio.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from tutor.errors import ParseError
from tutor.format import CLASSIFICATION, FINAL_ANSWER, HINT, MATH_DELIMITERS, STEPS, Sections, answer_text
from tutor.notation import split_math  # noqa: F401  (the one math splitter; render cuts text with it)
from tutor.katex import formula_error
from tutor.model_steps import HOLDS, WRONG, first_wrong

#: The same, in the form Gradio's ``latex_delimiters`` takes (display flag per pair).
LATEX_DELIMITERS: list[dict[str, str | bool]] = [
    {"left": left, "right": right, "display": left in ("$$", "\\[")} for left, right in MATH_DELIMITERS]

ELLIPSIS = " …"
LEARNING_MODES = ("full solution", "hint only", "step by step")
#: Badge icons: plain characters that every font has (emoji fonts are often missing).
ICONS = {"correct": "✓", "wrong": "✗", "incomplete": "!", "undecided": "?", "no_solution": "✓", "eigenvalues": "✓"}
#: Verdicts that are a checked result, with the words the badge and the exports lead with: an answer
#: verified by substitution, or a proved "no solution" (a boundary value problem whose conditions
#: contradict each other; every step of the proof checked).
VERIFIED_WORDS = {"correct": "Verified by substitution.", "no_solution": "Proved: no solution (every step checked).",
                  "eigenvalues": "Eigenvalues proved (every step checked)."}


# --------------------------------------------------------------------------- math spans


def complete_math(text: str) -> str:
    """``text`` without an unclosed trailing formula (replaced by an ellipsis) — safe to render live."""
    _, unclosed = split_math(text)
    if unclosed is None:
        return text
    return text[:unclosed].rstrip() + ELLIPSIS


def formula_code(source: str) -> str:
    """``source`` (a formula as written) as inline code that neither Markdown, Gradio's formula
    finder nor KaTeX reads: every character but letters, digits and spaces is an HTML entity."""
    body = "".join(ch if ch.isalnum() or ch == " " else f"&#{ord(ch)};" for ch in source)
    return f'<code class="formula-source" title="This formula could not be typeset; shown as written">{body}</code>'


def renders(formula: str) -> bool:
    """Whether KaTeX renders a complete formula (with its delimiters, as :func:`split_math` cuts it)."""
    left, right = next((l, r) for l, r in MATH_DELIMITERS if formula.startswith(l) and formula.endswith(r))
    body = formula[len(left):len(formula) - len(right)]
    return bool(body.strip()) and formula_error(body, display=left in ("$$", "\\[")) is None


def _checked_formula(piece: str) -> str:
    """A complete formula (with its delimiters) as it is, or as code when KaTeX would refuse it."""
    return piece if renders(piece) else formula_code(piece)


def safe_math(text: str, *, live: bool = False) -> str:
    """``text`` with every formula KaTeX would refuse shown as inline code (never a red error).

    A delimiter that is never closed: while the text still streams (``live``) the formula may yet
    close, so it is dropped for now (an ellipsis, as :func:`complete_math`); in finished text the
    rest of its line is shown as code.  Two formulas written back to back (``$a$$b$``) get a
    zero-width space between them: Gradio would read the ``$$`` as a display delimiter.
    """
    segments, unclosed = split_math(text)
    out: list[str] = []
    for is_math, piece in segments:
        piece = _checked_formula(piece) if is_math else piece
        if is_math and out and out[-1].endswith("$") and piece.startswith("$"):
            out.append("\u200b")
        out.append(piece)
    if unclosed is None:
        return "".join(out)
    if live:
        return "".join(out).rstrip() + ELLIPSIS
    end = text.find("\n", unclosed)
    end = len(text) if end < 0 else end
    return "".join(out) + formula_code(text[unclosed:end]) + safe_math(text[end:])


def _display(formula_line: str) -> str:
    """A line that is exactly one inline formula, as a display formula (the final answer)."""
    line = formula_line.strip()
    segments, unclosed = split_math(line)
    if unclosed is None and len(segments) == 1 and segments[0][0]:
        body = segments[0][1]
        for left, right in MATH_DELIMITERS:
            if body.startswith(left) and body.endswith(right):
                return f"$${body[len(left):len(body) - len(right)].strip()}$$"
    return line


# --------------------------------------------------------------------------- preview


def parse_error_markdown(exc: ParseError, text: str) -> str:
    """A parse error for a student: the message, the line with a caret under the spot, the hint."""
    parts = [f"**Could not read this:** {exc.message}"]
    if exc.position is not None and 0 <= exc.position <= len(text):
        # Show the line that holds the position, with a caret under the character.
        line_start = text.rfind("\n", 0, exc.position) + 1
        line_end = text.find("\n", exc.position)
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        caret = " " * (exc.position - line_start) + "^"
        parts.append("```text\n" + line.replace("```", "'''") + "\n" + caret + "\n```")
    if exc.suggestion:
        parts.append(f"*Hint:* {exc.suggestion}")
    return "\n\n".join(parts)


def problem_markdown(problem) -> str:
    """The parsed problem: display LaTeX, its parameters first, unknown and order, conditions.

    The parameters lead the list, in bold, because they are where a misreading shows: a letter
    the student did not mean as a constant (a typo, a word) appears there at once.
    """
    if getattr(problem, "is_system", False):
        return system_markdown(problem)
    lines = [f"$${problem.latex}$$"]
    if problem.parameters:
        names = ", ".join(f"${p}$" for p in problem.parameters)
        count = len(problem.parameters)
        lines.append(f"- **parameter{'s' if count > 1 else ''}: {names}** "
                     f"(letter{'s' if count > 1 else ''} read as {'constants' if count > 1 else 'a constant'})")
    lines.append(f"- unknown: ${problem.function}({problem.variable})$, order **{problem.order}**")
    if problem.ics:
        lines.append("- initial conditions: " + ", ".join(f"${ic.latex(problem.function)}$" for ic in problem.ics))
    return "\n".join(lines)


def system_markdown(problem) -> str:
    """A parsed system: its equations, the matrix A (and forcing), the unknowns as functions of the
    variable, the conditions."""
    from tutor.problem import latex

    unknowns = ", ".join(f"${f.__name__}({problem.variable})$" for f in problem.functions)
    lines = [f"$${problem.latex}$$",
             f"- a linear system of {problem.n} first-order equations: "
             f"$\\mathbf{{x}}' = A\\mathbf{{x}}{'' if problem.homogeneous else ' + ' + chr(92) + 'mathbf{g}'}$ with "
             f"$A = {problem.matrix_latex}$"
             + ("" if problem.homogeneous else f", $\\mathbf{{g}} = {latex(problem.forcing)}$"),
             f"- unknowns: {unknowns} (functions of **${problem.variable}$**, the independent variable"
             + (", as in every system unless a derivative names another)" if str(problem.variable) == "t" else ")")]
    if problem.form == "matrix":
        lines[-1] += f"; the components of the vector are {', '.join(f.__name__ for f in problem.functions)}"
    if problem.ics:
        lines.append("- initial conditions: " + ", ".join(f"${ic.latex()}$" for ic in problem.ics))
    return "\n".join(lines)


def answer_latex(answer, problem) -> str:
    """A parsed answer in textbook LaTeX (``y`` for ``y(x)``), alternatives joined by "or"."""
    from tutor.problem import textbook_latex

    if getattr(problem, "is_system", False):  # one formula per unknown
        from tutor.engine.steps import tex

        return r",\quad ".join(tex(eq, problem.variable) for eq in answer.solutions)

    return r"\quad\text{or}\quad ".join(
        textbook_latex(eq, problem.function, problem.variable) for eq in answer.solutions)


def final_answer_latex(final_answer: str, problem) -> str | None:
    """A Final Answer section as the checker reads it (:func:`tutor.checker.read_answer`), in
    textbook LaTeX from SymPy; None when it cannot be read (then the model's text is shown)."""
    from tutor.checker import read_answer

    try:
        return answer_latex(read_answer(answer_text(final_answer), problem), problem)
    except ParseError:
        return None
    except Exception:  # an unreadable answer is shown as written, never as a traceback
        return None


def answer_markdown(answer, problem) -> str:
    """A parsed answer in textbook LaTeX (``y`` for ``y(x)``), with its arbitrary constants."""
    text = f"$${answer_latex(answer, problem)}$$"
    if answer.constants:
        text += "\n- arbitrary constants: " + ", ".join(f"${c}$" for c in answer.constants)
    return text


def claim_markdown(claim: str, families: tuple, problem) -> str:
    """The preview of "no solution" or of an eigenvalue answer, as the checker reads it
    (:func:`tutor.checker.read_claim`)."""
    import sympy

    if claim == "no_solution":
        return "Your answer: **no solution** (checked against the boundary value problem's conditions)."
    name, y = sympy.latex(problem.parameters[0]), sympy.latex(sympy.Symbol(str(problem.function)))
    parts = []
    for f in families:
        sub = sympy.latex(f.index) if f.index is not None else str(f.start)
        pair = [f"{name}_{{{sub}}} = {sympy.latex(f.value)}" if f.value is not None else "",
                f"{y}_{{{sub}}} = {sympy.latex(f.function)}" if f.function is not None else ""]
        text = ",\\quad ".join(p for p in pair if p)
        if f.index is not None:
            text += f",\\quad {sub} = {f.start}, {f.start + 1}, {f.start + 2}, \\dots"
        parts.append(f"${text}$")
    return "Your answer (eigenvalues and eigenfunctions): " + "; ".join(parts)


def problem_preview(text: str | None, max_chars: int = 2000) -> str:
    """Markdown for the live preview: the parsed ODE, or the parse error with its suggestion."""
    from tutor.parser import parse

    text = text or ""
    if not text.strip():
        return "Type an ODE, e.g. `y' + 2y = e^(-x), y(0) = 1`."
    if len(text) > max_chars:
        return f"**Too long:** {len(text)} characters; at most {max_chars}, please."
    try:
        problem = parse(text)
    except ParseError as exc:
        return parse_error_markdown(exc, text)
    except Exception as exc:  # never a traceback in the UI
        return f"**Something went wrong while reading this** ({type(exc).__name__}); please rephrase it."
    from tutor.notation import prose_left_out

    words = prose_left_out(text)
    note = ("\n- words left out: " + ", ".join(f"“{w}”" for w in words)) if words else ""
    return problem_markdown(problem) + note


# --------------------------------------------------------------------------- solve view


@dataclass
class SolveView:
    """What the Solve tab shows for one request, updated as the reply streams.

    ``verdict`` is the checker's dict (``verdict``, ``reason``) for the Final Answer, None
    until it is known; ``fallback`` the engine's verified solution (as sections) when the
    model's answer was not verified; ``notice`` a sentence for the student (stopped, timed
    out, the model failed midway).  ``source`` says who wrote ``sections`` ("model" or
    "engine"; "" leaves the sections untagged); ``flags`` maps a section name to what the
    engine's classification contradicts in it; ``status`` is the session's
    :class:`tutor.session.Progress` (anything with ``describe()``), shown while not ``done``.
    """

    problem_latex: str
    author: str = ""
    sections: Sections = field(default_factory=Sections)
    verdict: dict | None = None
    done: bool = False
    fallback: Sections | None = None
    fallback_label: str = ""
    notice: str = ""
    #: The parsed problem; with it a complete Final Answer is shown as the checker reads it.
    problem: Any = None
    source: str = ""
    flags: dict[str, str] = field(default_factory=dict)
    status: Any = None
    #: One mark per step of a model's reply (:mod:`tutor.model_steps` dicts; None: not checked yet).
    step_marks: tuple = ()
    #: The engine's numerical answer (:class:`tutor.engine.numerical.NumericalSolution`) when no closed
    #: form was found: the Solve tab plots it.
    numerical: Any = None
    #: The picture the Solve tab draws beside the answer (:data:`PICTURES` key; "" for none) and the
    #: engine's verified answer it draws from (a system's phase portrait).
    picture: str = ""
    engine_answer: Any = None
    _final: tuple[str, str | None] | None = field(default=None, repr=False, compare=False)

    @property
    def verified(self) -> bool:
        return bool(self.verdict) and self.verdict.get("verdict") == "correct"

    @property
    def main_sections(self) -> Sections:
        """What the main view teaches: the engine's verified solution when it replaced the
        model's attempt, else the reply itself (learning mode counts these steps)."""
        return self.fallback if self.fallback is not None else self.sections

    def final_latex(self) -> str | None:
        """The complete Final Answer as the checker reads it (:func:`final_answer_latex`), read
        once per answer text; None while it is incomplete, without a problem, or unreadable."""
        text = self.sections.final_answer
        if self.problem is None or not text.strip() or not (self.done or self.sections.final_answer_complete):
            return None
        if self._final is None or self._final[0] != text:
            self._final = (text, final_answer_latex(text, self.problem))
        return self._final[1]


def _html_text(text: str) -> str:
    """Text for inside an HTML block (a badge): prose escaped, formulas checked as in :func:`safe_math`
    (Gradio escapes a formula itself when it puts it back into the page)."""
    segments, unclosed = split_math(text)
    out = [_checked_formula(piece) if is_math else html.escape(piece, quote=False) for is_math, piece in segments]
    if unclosed is not None:
        out.append(formula_code(text[unclosed:]))
    return "".join(out)


def verdict_badge(verdict: dict | None, *, pending: bool = False) -> str:
    """The badge under the Final Answer: verified by substitution, or not verified and why."""
    if verdict is None:
        if not pending:
            return ""
        return '<div class="verdict verdict-pending"><span class="icon">…</span> Checking the answer by substitution…</div>'
    kind = verdict.get("verdict")
    reason = _html_text(str(verdict.get("reason") or "").strip())
    if kind in VERIFIED_WORDS:
        return (f'<div class="verdict verdict-correct"><span class="icon">✓</span> <strong>{VERIFIED_WORDS[kind]}</strong> '
                f"{reason}</div>")
    icon = ICONS.get(kind, "?")
    return (f'<div class="verdict verdict-{kind}"><span class="icon">{icon}</span> <strong>Not verified:</strong> '
            f"{reason}</div>")


#: Per-step marks of a model's derivation: the icon and the words before the reason.
_STEP_MARKS = {HOLDS: ("✓", "holds"), WRONG: ("✗", "does not hold")}


def step_mark_html(mark: dict | None) -> str:
    """The tick or cross after a model's step (nothing for a step with nothing checkable)."""
    if not mark or mark.get("status") not in _STEP_MARKS:
        return ""
    icon, words = _STEP_MARKS[mark["status"]]
    reason = _html_text(str(mark.get("reason") or "").strip())
    title = html.escape(f"{words}: {mark.get('reason') or ''}", quote=True)
    if mark["status"] == HOLDS:
        return f'<span class="step-mark step-holds" title="{title}">{icon} {words}</span>'
    return f'<span class="step-mark step-wrong"><span class="icon">{icon}</span> {words}: {reason}</span>'


def _steps_markdown(steps: list[str], live: bool, marks: tuple | list = ()) -> str:
    lines = []
    for number, step in enumerate(steps, start=1):
        mark = step_mark_html(marks[number - 1]) if number <= len(marks) else ""
        lines.append(f"{number}. " + safe_math(step, live=live).replace("\n", "\n   ") + (f" {mark}" if mark else ""))
    return "\n".join(lines)


#: Tag kinds (CSS ``tag-<kind>``) and their words, per source.
_TAG_WORDS = {"unchecked": "not yet checked", "unverified": "not checked", "contradicted": "the engine disagrees",
              "marked": "formulas checked where readable",
              "checked": "checked"}


def section_tags(source: str, *, live: bool, flags: dict[str, str] | None = None,
                 verdict: dict | None = None, marks: tuple | list = ()) -> dict[str, str]:
    """Section name -> the HTML tag after its heading: who wrote it and its status.

    A model's sections are "not yet checked" while they stream and "not checked" after (its Final
    Answer is checked by the badge under it); a flagged one says "the engine disagrees"; its Steps,
    once one of them has a tick or cross (``marks``), say their formulas are checked where readable.
    The engine's sections are "checked" (every step of an engine derivation is).  The Final
    Answer has a tag only until its verdict is known: then the badge under it says it.
    """
    if source not in ("model", "engine"):
        return {}

    def tag(kind: str) -> str:
        return f'<span class="tag tag-{kind}">{source} — {_TAG_WORDS[kind]}</span>'

    quiet = "checked" if source == "engine" else "unchecked" if live else "unverified"
    tags = {name: tag("contradicted" if (flags or {}).get(name) else quiet) for name in (CLASSIFICATION, HINT, STEPS)}
    if source == "model" and not (flags or {}).get(STEPS) and any(
            (m or {}).get("status") in _STEP_MARKS for m in marks):  # some step has its tick or cross
        tags[STEPS] = tag("marked")
    if verdict is None:
        tags[FINAL_ANSWER] = tag(quiet)
    return tags


def _flag(message: str) -> str:
    return f'<div class="flag"><span class="icon">!</span> {_html_text(message)}</div>'


def sections_markdown(sections: Sections, *, live: bool = False, steps_shown: int | None = None,
                      final_latex: str | None = None, tags: dict[str, str] | None = None,
                      flags: dict[str, str] | None = None, badge: str = "", marks: tuple | list = ()) -> str:
    """Markdown of the four sections; ``steps_shown`` hides the rest (None: everything).

    With ``steps_shown = k`` the first k steps are shown and the Final Answer only once
    k exceeds the number of steps (learning mode).  ``live`` drops unclosed formulas; every
    formula is checked (:func:`safe_math`).  ``final_latex``: the Final Answer as the checker
    read it, shown instead of the text as written.  ``tags`` (:func:`section_tags`) go after the
    headings, ``flags`` (section -> message) under them, and ``badge`` right under the answer;
    ``marks`` (one per step, :func:`step_mark_html`) after the steps.
    """
    tags, flags = tags or {}, flags or {}

    def fix(text: str) -> str:
        return safe_math(text, live=live)

    def heading(name: str) -> str:
        tag = tags.get(name)
        head = f"### {name} {tag}" if tag else f"### {name}"
        return head + (f"\n\n{_flag(flags[name])}\n" if flags.get(name) else "")

    parts = []
    if sections.preamble.strip() and not any((sections.classification, sections.hint, sections.steps)):
        parts.append(fix(sections.preamble))
    if sections.classification:
        parts.append(f"{heading(CLASSIFICATION)}\n{fix(sections.classification)}")
    if sections.hint:
        parts.append(f"{heading(HINT)}\n{fix(sections.hint)}")
    total = len(sections.steps)
    if total:
        shown = total if steps_shown is None else max(0, min(steps_shown, total))
        body = _steps_markdown(sections.steps[:shown], live, marks)
        if shown < total:
            more = f"*{total - shown} more step{'s' if total - shown != 1 else ''} — press **Next step**.*"
            body = f"{body}\n\n{more}" if body else more
        parts.append(f"{heading(STEPS)}\n{body}")
    final_visible = steps_shown is None or steps_shown > total
    if sections.final_answer and final_visible:
        shown = f"$${final_latex}$$" if final_latex and renders(f"$${final_latex}$$") else None
        parts.append(f"{heading(FINAL_ANSWER)}\n{shown or _display(fix(sections.final_answer))}")
        if badge:
            parts.append(badge)
    elif sections.final_answer:
        parts.append(f"{heading(FINAL_ANSWER)}\n*Hidden until you have seen the steps.*")
    return "\n\n".join(parts)


#: What the main view says when the engine's solution replaced the model's attempt.
_REPLACED = {"wrong": "The model's answer is wrong", "incomplete": "The model's answer is incomplete",
             "undecided": "The model's answer could not be verified"}


def _replaced_notice(verdict: dict | None, label: str, marks: tuple | list = ()) -> str:
    kind = (verdict or {}).get("verdict") or "undecided"
    reason = _html_text(str((verdict or {}).get("reason") or "").strip())
    wrong = first_wrong(marks)
    where = f" Its derivation goes wrong at step {wrong} (marked ✗)." if wrong else ""
    return (f'<div class="verdict verdict-{kind} replaced"><span class="icon">{ICONS.get(kind, "?")}</span> '
            f"<strong>{_REPLACED.get(kind, _REPLACED['undecided'])}</strong>{': ' + reason if reason else '.'}{where} "
            "The symbolic engine's verified solution replaces it here; the model's attempt is collapsed at the end."
            f"</div>\n\n#### {html.escape(label, quote=False)}")


def _model_attempt(view: SolveView, live: bool) -> str:
    """The model's reply, collapsed under the engine's solution, labelled as unverified."""
    kind = (view.verdict or {}).get("verdict") or "undecided"
    what = {"wrong": "its answer is wrong", "incomplete": "its answer is incomplete"}.get(kind, "its answer is not verified")
    body = sections_markdown(view.sections, live=live, final_latex=view.final_latex(),
                             tags=section_tags("model", live=live, flags=view.flags, verdict=view.verdict,
                                               marks=view.step_marks),
                             flags=view.flags, badge=verdict_badge(view.verdict), marks=view.step_marks)
    return (f'<details class="model-attempt">\n<summary>The model’s unverified attempt ({what}) — '
            f"open to compare</summary>\n\n{body}\n\n</details>")


def progress_line(status: Any) -> str:
    """The status line while a reply is being worked on (what is happening, for how long); it is
    there for as long as the reply is, so its absence means the reply is finished."""
    text = status.describe() if status is not None else "Working on it…"
    return f'<div class="progress" role="status"><span class="spinner"></span> {html.escape(text, quote=False)}</div>'


def solve_markdown(view: SolveView, steps_shown: int | None = None) -> str:
    """The whole Solve-tab answer: problem, sections so far (tagged), badge, status line, notice.

    When the engine's verified solution replaced the model's attempt (``fallback``), it is
    the main view, under a line saying why, and the model's attempt is collapsed below it.
    """
    live = not view.done
    parts = [f"$${view.problem_latex}$$"]
    if view.author:
        parts.append(f'<div class="author">{html.escape(view.author, quote=False)}</div>')
    main = view.main_sections
    final_visible = steps_shown is None or steps_shown > len(main.steps)
    if view.fallback is not None:
        parts.append(_replaced_notice(view.verdict, view.fallback_label or "The symbolic engine’s verified solution",
                                      view.step_marks))
        verified = {"verdict": "correct", "reason": ""}  # only a verified engine solution replaces an attempt
        parts.append(sections_markdown(view.fallback, steps_shown=steps_shown, badge=verdict_badge(verified),
                                       tags=section_tags("engine", live=False, verdict=verified)))
        if final_visible:
            parts.append(_model_attempt(view, live))
    else:
        pending = view.verdict is None and live and view.sections.final_answer_complete
        badge = verdict_badge(view.verdict, pending=pending)
        body = sections_markdown(view.sections, live=live, steps_shown=steps_shown, final_latex=view.final_latex(),
                                 tags=section_tags(view.source, live=live, flags=view.flags, verdict=view.verdict,
                                                   marks=view.step_marks),
                                 flags=view.flags, badge=badge, marks=view.step_marks)
        if body:
            parts.append(body)
        if view.done and view.source == "model" and (view.verdict or {}).get("verdict") in ("wrong", "undecided"):
            parts.append('<div class="notice">The symbolic engine found no verified solution to show instead, '
                         "so nothing above is checked teaching: treat it as the model's unverified attempt.</div>")
    if live:
        parts.append(progress_line(view.status))
    if view.notice:
        parts.append(f'<div class="notice">{html.escape(view.notice, quote=False)}</div>')
    return "\n\n".join(parts)


def next_reveal(mode: str, shown: int | None, total_steps: int) -> int | None:
    """How many steps to show after pressing "Next step" (None: everything).

    ``hint only`` reveals phase by phase (hint -> all steps -> answer); ``step by step``
    one step at a time, then the answer; ``full solution`` shows everything.
    """
    if mode not in LEARNING_MODES or mode == "full solution" or shown is None:
        return None
    if shown > total_steps:
        return None
    if mode == "hint only":
        return total_steps if shown < total_steps else total_steps + 1
    return shown + 1


def initial_reveal(mode: str) -> int | None:
    """Steps shown when a solution starts: none in learning mode, all otherwise."""
    return 0 if mode in ("hint only", "step by step") else None


# --------------------------------------------------------------------------- exports


#: The heading of the model's reply in an export where the engine's solution replaced it.
MODEL_ATTEMPT_LABEL = "The model's unverified attempt"


def export_markdown(view: SolveView) -> str:
    """A standalone Markdown document of the worked solution (``$...$`` LaTeX): the engine's
    verified solution first when it replaced the model's attempt, which then follows, labelled."""
    parts = ["# ODE Tutor — worked solution", f"**Problem:**\n\n$${view.problem_latex}$$"]
    if view.author:
        parts.append(f"*{view.author}*")
    if view.fallback is not None:
        parts.append(f"## {view.fallback_label or 'Verified solution'}\n\n"
                     + sections_markdown(view.fallback))
        parts.append(f"## {MODEL_ATTEMPT_LABEL}")
    heading = "### " if view.fallback is not None else "## "
    parts.append(sections_markdown(view.sections, final_latex=view.final_latex()).replace("### ", heading))
    if view.verdict is not None:
        kind = view.verdict.get("verdict")
        reason = str(view.verdict.get("reason") or "")
        parts.append(f"**{VERIFIED_WORDS[kind]}** " + reason if kind in VERIFIED_WORDS
                     else f"**Not verified ({kind}):** {reason}")
    for name, message in view.flags.items():
        parts.append(f"**{name} — the engine disagrees:** {message}")
    return "\n\n".join(parts) + "\n"


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "%": r"\%", "&": r"\&",
                   "_": r"\_", "^": r"\^{}", "~": r"\~{}", "$": r"\$"}


def _latex_text(text: str) -> str:
    """Prose (with Markdown emphasis) as LaTeX text; formulas are kept as they are."""
    segments, unclosed = split_math(text)
    if unclosed is not None:
        segments.append((False, text[unclosed:]))
    out = []
    for is_math, piece in segments:
        if is_math:
            if renders(piece):
                out.append(piece)
            else:  # a formula KaTeX refuses would not compile either: its source as typewriter text
                out.append(r"\texttt{" + "".join(_LATEX_SPECIALS.get(ch, ch) for ch in piece) + "}")
            continue
        escaped = "".join(_LATEX_SPECIALS.get(ch, ch) for ch in piece)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", escaped)
        escaped = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\\emph{\1}", escaped)
        out.append(escaped)
    return "".join(out)


def _subsection(name: str) -> str:
    """A section heading of the tutor format (:data:`tutor.format.SECTION_NAMES`) in LaTeX."""
    return r"\subsection*{" + name + "}"


def _latex_sections(sections: Sections, final_latex: str | None = None) -> list[str]:
    lines = []
    if sections.classification:
        lines += [_subsection(CLASSIFICATION), _latex_text(sections.classification)]
    if sections.hint:
        lines += [_subsection(HINT), _latex_text(sections.hint)]
    if sections.steps:
        lines += [_subsection(STEPS), r"\begin{enumerate}"]
        lines += [r"  \item " + _latex_text(step).replace("\n", "\n        ") for step in sections.steps]
        lines.append(r"\end{enumerate}")
    if sections.final_answer:
        final = f"$${final_latex}$$" if final_latex else _display(sections.final_answer)
        if final.startswith("$$") and renders(final):
            final = r"\[" + final[2:-2] + r"\]"
        else:
            final = _latex_text(sections.final_answer)
        lines += [_subsection(FINAL_ANSWER), final]
    return lines


def export_latex(view: SolveView) -> str:
    """LaTeX source of the worked solution (a fragment for ``\\begin{document}``; amsmath), in
    the order of :func:`export_markdown`."""
    lines = ["% ODE Tutor — worked solution (needs amsmath)", r"\section*{Problem}",
             r"\[" + view.problem_latex + r"\]"]
    if view.fallback is not None:
        lines.append(r"\section*{" + _latex_text(view.fallback_label or "Verified solution") + "}")
        lines += _latex_sections(view.fallback)
        lines.append(r"\section*{" + _latex_text(MODEL_ATTEMPT_LABEL) + "}")
    lines += _latex_sections(view.sections, view.final_latex())
    if view.verdict is not None:
        kind = view.verdict.get("verdict")
        reason = _latex_text(str(view.verdict.get("reason") or ""))
        lines.append(rf"\noindent\textbf{{{VERIFIED_WORDS[kind]}}} " + reason if kind in VERIFIED_WORDS
                     else rf"\noindent\textbf{{Not verified ({kind}):}} " + reason)
    for name, message in view.flags.items():
        lines.append(r"\noindent\textbf{" + _latex_text(f"{name} — the engine disagrees:") + "} " + _latex_text(message))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- check and teach


def check_markdown(verdict: dict, where_to_look: str = "", solution: Sections | None = None,
                   solution_label: str = "") -> str:
    """The Check tab's result: the badge-style verdict, its reason, a pointer, the solution if asked."""
    kind = verdict.get("verdict")
    reason = str(verdict.get("reason") or "")
    title = {"correct": "Correct", "incomplete": "Incomplete", "wrong": "Not a solution",
             "undecided": "Could not decide"}.get(kind, str(kind))
    parts = [f'<div class="verdict verdict-{kind}"><span class="icon">{ICONS.get(kind, "?")}</span> '
             f"<strong>{title}.</strong> {html.escape(reason, quote=False)}</div>"]
    residual = (verdict.get("details") or {}).get("residual")
    if kind == "wrong" and residual:
        parts.append(f"Substituting your answer into the equation leaves $${residual}$$ instead of $0$.")
    if where_to_look:
        parts.append(f"**Where to look:** {where_to_look}")
    if solution is not None:
        parts.append(f"---\n\n#### {solution_label or 'A verified solution'}\n\n" + sections_markdown(solution))
    return "\n\n".join(parts)


def busy_message(retry_after: int) -> str:
    """What a visitor reads when every symbolic worker is taken and the line is full
    (:class:`tutor.bounded.SymbolicBusy`): nothing went wrong, and when to come back."""
    return (f"The tutor is busy right now: other long computations are using every symbolic worker. "
            f"Nothing is wrong with your input; please try again in {retry_after} s.")


def busy_markdown(retry_after: int) -> str:
    """:func:`busy_message` as a notice block (the Check and Teach tabs)."""
    return f'<div class="notice">{html.escape(busy_message(retry_after), quote=False)}</div>'


def practice_markdown(problem_latex: str, method_name: str, seed: int, difficulty: int) -> str:
    """The Teach tab's problem card."""
    return (f"$${problem_latex}$$\n\n"
            f'<div class="author">{html.escape(method_name, quote=False)} · difficulty {difficulty} · '
            f"seed {seed}</div>")


def reveal_markdown(hint: str, steps: list[str], answer_latex: str, shown: int) -> str:
    """Teach-tab reveal: ``shown`` = 0 nothing, 1 the hint, 1 + k the first k steps, then the answer."""
    if shown <= 0:
        return "*Try it yourself first. **Reveal next** shows the hint, then the steps one by one.*"
    parts = [f"### {HINT}\n{hint}"]
    k = min(shown - 1, len(steps))
    if k:
        parts.append(f"### {STEPS}\n" + _steps_markdown(steps[:k], live=False))
    if shown - 1 > len(steps):
        parts.append(f"### Answer\n$${answer_latex}$$")
    elif k < len(steps):
        parts.append(f"*{len(steps) - k} step{'s' if len(steps) - k != 1 else ''} to go.*")
    return "\n\n".join(parts)
