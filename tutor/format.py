"""The tutor text format: the one contract between the engine, the models, the app and training.

A tutor reply is four sections, in this order, each under a Markdown heading::

    ## Classification
    First order, degree 1, linear ...

    ## Hint
    Multiply by the integrating factor $\\mu(x) = e^{2x}$.

    ## Steps
    1. **Integrating factor.** $\\mu = e^{\\int 2\\,dx} = e^{2x}$
    2. **Integrate.** $(y e^{2x})' = e^{x}$, so $y e^{2x} = e^{x} + C$
       (a continuation line of a step is indented)

    ## Final Answer
    $y = e^{-x} + C e^{-2x}$

This module owns the system prompt, the user prompt template, :func:`serialize`
(``Sections`` -> the assistant training target) and the incremental parser
(:func:`parse_sections`, :class:`SectionParser`) which turns any prefix of a streamed
reply into the sections seen so far.  The parser never raises: models emit
garbage, streams stop mid-word, and the UI calls it after every token.

The Final Answer is one line; it is *complete* as soon as that line ends (or the
stream ends), so the session can verify it before the model has stopped talking.

A profile may use another format (the LMT-tuning checkpoint answers in free text
concluded by ``[[Final Answer]]: ...``); :data:`FORMATS` maps format names to their
system prompt, user prompt and parser, so callers never special-case a model.

Usage::

    from tutor.format import SYSTEM_PROMPT, user_prompt, serialize, parse_sections
    text = serialize(sections)               # training target
    so_far = parse_sections(partial_text)    # live, never raises
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

from tutor.notation import MATH_DELIMITERS, math_spans  # noqa: F401  (re-exported: the format's math)

CLASSIFICATION = "Classification"
HINT = "Hint"
STEPS = "Steps"
FINAL_ANSWER = "Final Answer"
#: The section names, in the order a reply must give them.
SECTION_NAMES: tuple[str, ...] = (CLASSIFICATION, HINT, STEPS, FINAL_ANSWER)


def heading(name: str) -> str:
    """The heading line of a section as :func:`serialize` writes it (``## Steps``)."""
    return f"## {name}"


SYSTEM_PROMPT = (
    "You are a patient tutor for ordinary differential equations. "
    "Answer in exactly four sections, in this order, each under its own heading: "
    f"'{heading(CLASSIFICATION)}' (order, degree, linearity, type), "
    f"'{heading(HINT)}' (the strategy in one or two sentences), "
    f"'{heading(STEPS)}' (a numbered derivation, one step per line) and "
    f"'{heading(FINAL_ANSWER)}' (the solution on one line). "
    "Write every formula in LaTeX between $...$."
)

#: The ``tools`` variant (:mod:`tutor.tools`): the same four sections; a step may ask SymPy for a
#: computation and the runtime writes its answer into the reply.
TOOLS_SYSTEM_PROMPT = SYSTEM_PROMPT + (
    " In a step, ask for a computation with <<op: arguments>> (integrate, diff, simplify, expand, "
    "factor, solve, roots, subs, constants); its answer <<= ...>> is written for you."
)

USER_PROMPT_TEMPLATE = "Solve the differential equation step by step:\n{problem}"


def user_prompt(problem_text: str) -> str:
    """The user turn for a problem (plain text or LaTeX, as the student typed it)."""
    return USER_PROMPT_TEMPLATE.format(problem=(problem_text or "").strip())


@dataclass
class Sections:
    """A tutor reply split into its sections (possibly only partly streamed).

    ``complete`` names the sections that are finished: a later heading has started,
    the Final Answer line has ended, or the stream has ended.  ``preamble`` is any
    text before the first heading (models sometimes say "Sure!"); ``extra`` is text
    after the one-line Final Answer.  Neither is part of the tutor content.
    """

    classification: str = ""
    hint: str = ""
    steps: list[str] = field(default_factory=list)
    final_answer: str = ""
    complete: frozenset[str] = frozenset()
    preamble: str = ""
    extra: str = ""

    def is_complete(self, name: str) -> bool:
        return name in self.complete

    @property
    def final_answer_complete(self) -> bool:
        """True once the Final Answer line is finished and non-empty: time to verify it."""
        return FINAL_ANSWER in self.complete and bool(self.final_answer.strip())

    @property
    def started(self) -> tuple[str, ...]:
        """Sections with any content so far, in format order."""
        values = {CLASSIFICATION: self.classification, HINT: self.hint,
                  STEPS: "".join(self.steps), FINAL_ANSWER: self.final_answer}
        return tuple(name for name in SECTION_NAMES if values[name].strip())

    def to_dict(self) -> dict:
        return {"classification": self.classification, "hint": self.hint, "steps": list(self.steps),
                "final_answer": self.final_answer,
                "complete": [n for n in SECTION_NAMES if n in self.complete]}


def _clean(text: str) -> str:
    return "\n".join(line.strip() for line in str(text).splitlines() if line.strip())


def serialize(sections: Sections) -> str:
    """The reply text for ``sections``: the assistant training target and the symbolic stream.

    Blank lines inside a section are dropped (a blank line carries no meaning in the
    format); step continuation lines are indented so they cannot look like a new step.
    """
    steps = []
    for step in sections.steps:
        lines = _clean(step).splitlines()
        if not lines:  # an empty step would read back as nothing
            continue
        number = len(steps) + 1
        steps.append(f"{number}. {lines[0]}" + "".join(f"\n   {line.strip()}" for line in lines[1:]))
    final = " ".join(_clean(sections.final_answer).splitlines())
    return (f"{heading(CLASSIFICATION)}\n{_clean(sections.classification)}\n\n"
            f"{heading(HINT)}\n{_clean(sections.hint)}\n\n"
            f"{heading(STEPS)}\n" + "\n".join(steps) + "\n\n"
            f"{heading(FINAL_ANSWER)}\n{final}\n")


def serialize_pieces(sections: Sections) -> list[str]:
    """:func:`serialize` cut at section boundaries, for backends that stream section by section."""
    text = serialize(sections)
    starts = [m.start() for m in re.finditer("^" + re.escape(heading("")), text, re.MULTILINE)][1:]
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def chat_messages(problem_text: str, sections: Sections | None = None,
                  system_prompt: str = SYSTEM_PROMPT) -> list[dict[str, str]]:
    """Chat turns for a problem; with ``sections`` also the assistant turn (an SFT row)."""
    messages = [{"role": "system", "content": system_prompt},
                {"role": "user", "content": user_prompt(problem_text)}]
    if sections is not None:
        messages.append({"role": "assistant", "content": serialize(sections)})
    return messages


# --- parsing -----------------------------------------------------------------------------------

_NAMES = "|".join(re.escape(n) for n in SECTION_NAMES)
# Headings we accept: "## Hint", "### Final Answer:", "**Hint**", "**Hint:** text",
# "Hint: text".  A bare word needs the colon, so a sentence such as "Steps are ..."
# inside a hint is not read as a heading.
_HEADING = re.compile(
    rf"^[ \t]*(?:"
    rf"#{{1,6}}[ \t]*\**[ \t]*(?P<h>{_NAMES})[ \t]*:?[ \t]*\**[ \t]*:?[ \t]*(?P<hrest>.*)"
    rf"|\*\*[ \t]*(?P<b>{_NAMES})[ \t]*:?[ \t]*\*\*[ \t]*:?[ \t]*(?P<brest>.*)"
    rf"|(?P<c>{_NAMES})[ \t]*:[ \t]*(?P<crest>.*)"
    rf")$",
    re.IGNORECASE,
)
_CANONICAL = {n.lower(): n for n in SECTION_NAMES}
_STEP_START = re.compile(r"^ ?(?:\d{1,3}[.)]|[-*•])(?:[ \t]+(?P<text>.*))?$")
_PARTIAL_STEP_MARKER = re.compile(r"^ ?(?:\d{1,3}[.)]?|[-*•])$")
_MAX_PARTIAL_HEADING = 32


def _heading(line: str) -> tuple[str, str] | None:
    """(canonical section name, text after the heading on the same line) or None."""
    if len(line) > 200:  # headings are short; don't run the regex over a runaway line
        return None
    m = _HEADING.match(line)
    if not m:
        return None
    for name_group, rest_group in (("h", "hrest"), ("b", "brest"), ("c", "crest")):
        if m.group(name_group):
            name = _CANONICAL[" ".join(m.group(name_group).lower().split())]
            rest = m.group(rest_group).strip().strip("*").strip()
            return name, rest
    return None


def _could_become_heading(partial: str) -> bool:
    """Whether an unfinished last line may still turn into a heading ("## Fin", "**Hi", "Hin").

    Such a line is held back until it ends, so the UI never flashes "## Fin" as text.
    """
    s = partial.strip()
    if not s or len(s) > _MAX_PARTIAL_HEADING:
        return False
    core = " ".join(s.lstrip("#* \t").lower().split())
    if not core:
        return s[0] in "#*"
    return any(name.lower().startswith(core) for name in SECTION_NAMES)


@dataclass
class _State:
    """What the completed lines have established; copied for each snapshot."""

    current: str | None = None
    classification: list[str] = field(default_factory=list)
    hint: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    final_answer: str = ""
    final_line_done: bool = False
    preamble: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def copy(self) -> "_State":
        return replace(self, classification=list(self.classification), hint=list(self.hint),
                       steps=list(self.steps), preamble=list(self.preamble), extra=list(self.extra),
                       seen=list(self.seen))

    def start(self, name: str) -> None:
        self.current = name
        if name not in self.seen:
            self.seen.append(name)
        if name == FINAL_ANSWER and self.final_answer.strip():
            # A second Final Answer heading: the first one stands (it may already be verified).
            self.current = "_extra"

    def content(self, line: str, finished: bool) -> None:
        """Add one line of content to the current section."""
        stripped = line.strip()
        if self.current is None:
            if stripped:
                self.preamble.append(stripped)
        elif self.current in (CLASSIFICATION, HINT):
            if stripped:
                getattr(self, "classification" if self.current == CLASSIFICATION else "hint").append(stripped)
        elif self.current == STEPS:
            if not stripped:
                return
            m = _STEP_START.match(line.rstrip())
            if m or not self.steps:
                self.steps.append(((m.group("text") or "") if m else stripped).strip())
            else:
                self.steps[-1] = f"{self.steps[-1]}\n{stripped}"
        elif self.current == FINAL_ANSWER:
            if not self.final_line_done:
                if stripped:
                    self.final_answer = stripped
                    self.final_line_done = finished
            elif stripped:
                self.extra.append(stripped)
        elif stripped:  # "_extra"
            self.extra.append(stripped)

    def line(self, line: str, finished: bool = True) -> None:
        heading = _heading(line)
        if heading is not None:
            name, rest = heading
            self.start(name)
            if rest:
                self.content(rest, finished)
        else:
            self.content(line, finished)

    def sections(self, done: bool) -> Sections:
        complete = set(self.seen[:-1]) if self.seen else set()
        # Out-of-order headings: anything seen before the current one is finished.
        if self.seen and self.current not in (None, self.seen[-1]):
            complete.add(self.seen[-1])
        if done:
            complete.update(self.seen)
        if self.final_line_done:
            complete.add(FINAL_ANSWER)
        if FINAL_ANSWER in complete and not self.final_answer.strip() and not done:
            complete.discard(FINAL_ANSWER)
        return Sections(
            classification="\n".join(self.classification),
            hint="\n".join(self.hint),
            steps=[s for s in self.steps if s.strip()],
            final_answer=self.final_answer,
            complete=frozenset(complete),
            preamble="\n".join(self.preamble),
            extra="\n".join(self.extra),
        )


class SectionParser:
    """Incremental parser: ``feed`` each streamed piece, get the sections so far.

    Completed lines are parsed once; only the unfinished last line is re-read on
    each call, so live parsing costs O(piece) per token, not O(reply).
    """

    def __init__(self) -> None:
        self._state = _State()
        self._partial = ""
        self._text: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._text)

    def feed(self, piece: str) -> Sections:
        piece = "" if piece is None else str(piece)
        self._text.append(piece)
        buffer = self._partial + piece
        *lines, self._partial = buffer.split("\n")
        for line in lines:
            self._state.line(line)
        return self.snapshot()

    def snapshot(self, done: bool = False) -> Sections:
        partial = self._partial
        if not partial:
            return self._state.sections(done)
        state = self._state.copy()
        held = _could_become_heading(partial) or (
            state.current == STEPS and _PARTIAL_STEP_MARKER.match(partial) is not None)
        if done or not held:
            # The final answer line is finished only when the stream ends.
            state.line(partial, finished=done)
        return state.sections(done)

    def finish(self) -> Sections:
        """The sections once the stream has ended (every started section is complete)."""
        return self.snapshot(done=True)


def parse_sections(text: str, done: bool = False) -> Sections:
    """The sections in ``text``, a whole reply (``done=True``) or any prefix of one. Never raises."""
    parser = SectionParser()
    parser.feed("" if text is None else str(text))
    return parser.snapshot(done=done)


def answer_text(final_answer: str) -> str:
    """The Final Answer line with its math delimiters removed, as the checker reads it."""
    text = (final_answer or "").strip()
    for left, right in MATH_DELIMITERS:
        if text.startswith(left) and text.endswith(right) and len(text) >= len(left) + len(right):
            return text[len(left):len(text) - len(right)].strip()
    return text


# --- the LMT-tuning format ---------------------------------------------------------------------
# The public Sandesh-Zenteiq/LMT-tuning checkpoint (Meta-Llama-3-8B-Instruct + LbT + DPO) is
# prompted as its model card says: one user turn (no system turn) whose text is the card's
# instruction followed by its exam template, greedy decoding, 1024 new tokens.  The answer is the
# text after "[[Final Answer]]:" up to the closing ''' (or the end of the reply).  Its free
# reasoning becomes Steps and the tagged answer the Final Answer.

LMT_FINAL_TAG = "[[Final Answer]]:"
LMT_SOLUTION_TAG = "[[Solution]]:"
LMT_ANSWER_CLOSE = "'''"
LMT_SYSTEM_PROMPT = ""
#: The card's instruction, exactly.
LMT_INSTRUCTION = (
    "Your task is to answer the last question below. Give step by step reasoning before you answer. "
    "When you're ready to answer, please wrap your answer and conclude using the format\n"
    "'''\n[[Final Answer]]:\n$ANSWER$\n'''\n\n\n\n"
)
#: The card's exam template, exactly.
LMT_EXAM_TEMPLATE = "[[Question]]:\n{question}\n\n[[Solution]]:\nLet's think step by step.\n\n"


def lmt_user_prompt(problem_text: str) -> str:
    return LMT_INSTRUCTION + LMT_EXAM_TEMPLATE.format(question=(problem_text or "").strip())


def parse_lmt(text: str, done: bool = False) -> Sections:
    """Sections from an LMT-style reply: the reasoning is Steps, the tagged answer the Final Answer.

    Never raises.  The answer is the text after the tag up to the closing ``'''`` (its lines
    joined); it is complete when the closing quotes arrive or the stream ends.
    """
    text = "" if text is None else str(text)
    index = text.find(LMT_FINAL_TAG)
    body = text if index < 0 else text[:index]
    if index < 0 and not done:
        # Hide an unfinished tag ("[[Final An") at the end of the stream.
        for k in range(min(len(LMT_FINAL_TAG), len(body)), 0, -1):
            if body.endswith(LMT_FINAL_TAG[:k]):
                body = body[:-k]
                break
    steps = []
    for line in body.splitlines():
        line = line.strip()
        if line.startswith(LMT_SOLUTION_TAG):
            line = line[len(LMT_SOLUTION_TAG):].strip()
        if line and line.strip("'`") and line != "Let's think step by step.":
            steps.append(line)
    final, complete = "", set()
    if index >= 0:
        complete.add(STEPS)
        tail = text[index + len(LMT_FINAL_TAG):]
        close = tail.find(LMT_ANSWER_CLOSE)
        answer = tail if close < 0 else tail[:close]
        if close < 0 and not done:  # a partial closing quote is not part of the answer
            answer = answer.rstrip("'")
        final = " ".join(line.strip().strip("`").strip() for line in answer.splitlines() if line.strip())
        if final and (close >= 0 or done):
            complete.add(FINAL_ANSWER)
    elif done:
        complete.add(STEPS)
    return Sections(steps=steps, final_answer=final, complete=frozenset(complete))


# --- compact LaTeX for model targets -----------------------------------------------------------
# SymPy's LaTeX spends tokens on sizing and grouping that change nothing on the page:
# ``\cos{\left(x \right)}`` is ``\cos(x)``, ``x^{2}`` is ``x^2``.  A small model pays for every
# token twice (training and generation), so its targets are written compactly; KaTeX and the
# project's LaTeX reader read both spellings the same way.

_FUNCTION_ARG = re.compile(r"(\\[A-Za-z]+(?:\^\{-?\d+\})?|\b[A-Za-z])\{\\left\(")
_SIZING = re.compile(r"\\left\s*([(\[|])|\\right\s*([)\]|])")
_SINGLE_SCRIPT = re.compile(r"([_^])\{([A-Za-z0-9])\}")


def _strip_function_braces(text: str) -> str:
    r"""``\sin{\left(ARG \right)}`` -> ``\sin(ARG)`` for balanced ARG (nested ones too)."""
    out, i = [], 0
    while True:
        m = _FUNCTION_ARG.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out)
        depth, j = 1, m.end()
        while j < len(text) and depth:
            if text.startswith("\\left(", j):
                depth, j = depth + 1, j + 6
            elif text.startswith("\\right)", j):
                depth, j = depth - 1, j + 7
            else:
                j += 1
        if depth or not text.startswith("}", j):  # not the pattern after all: keep it as it is
            out.append(text[i:m.end()])
            i = m.end()
            continue
        inner = _strip_function_braces(text[m.end():j - 7]).rstrip()
        out.append(text[i:m.start()] + m.group(1) + "(" + inner + ")")
        i = j + 1


def compact_latex(text: str) -> str:
    r"""The same formulas in fewer tokens (function braces, ``\left``/``\right``, ``^{2}``)."""
    text = _strip_function_braces(text)
    text = _SIZING.sub(lambda m: m.group(1) or m.group(2), text)
    text = _SINGLE_SCRIPT.sub(r"\1\2", text)
    return re.sub(r"[ \t]{2,}", " ", text)


def compact_sections(sections: Sections) -> Sections:
    """:func:`compact_latex` over every section (a model's training target)."""
    return replace(sections, classification=compact_latex(sections.classification),
                   hint=compact_latex(sections.hint), steps=[compact_latex(s) for s in sections.steps],
                   final_answer=compact_latex(sections.final_answer))


@dataclass(frozen=True)
class PromptFormat:
    """How a model is prompted and how its reply is read."""

    name: str
    system_prompt: str
    user_prompt: Callable[[str], str]
    parse: Callable[..., Sections]

    def messages(self, problem_text: str) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*system, {"role": "user", "content": self.user_prompt(problem_text)}]

    def final_answer(self, reply: str) -> str:
        """The Final Answer of a whole reply, as the checker reads it (no math delimiters; "" for
        none): the one reading of a reply's answer (session, evaluation, LbT)."""
        return answer_text(self.parse(reply, done=True).final_answer)


FORMATS: dict[str, PromptFormat] = {
    "tutor": PromptFormat("tutor", SYSTEM_PROMPT, user_prompt, parse_sections),
    "lmt": PromptFormat("lmt", LMT_SYSTEM_PROMPT, lmt_user_prompt, parse_lmt),
    "tools": PromptFormat("tools", TOOLS_SYSTEM_PROMPT, user_prompt, parse_sections),
}
