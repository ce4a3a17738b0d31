"""Tests for tutor.format: serializer round trip, live parsing of prefixes, never raising."""
from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.format import (
    CLASSIFICATION, FINAL_ANSWER, FORMATS, HINT, SECTION_NAMES, STEPS, SYSTEM_PROMPT, SectionParser,
    Sections, answer_text, chat_messages, parse_lmt, parse_sections, serialize, serialize_pieces,
    user_prompt,
)

EXAMPLE = Sections(
    classification="First order, degree 1, linear, not autonomous.\nTypes: first_order_linear, exact",
    hint="Multiply by the integrating factor $\\mu(x) = e^{2x}$.",
    steps=["**Integrating factor.** $\\mu = e^{\\int 2\\,dx} = e^{2x}$",
           "**Integrate.** $(y e^{2x})' = e^{x}$\nso $y e^{2x} = e^{x} + C$",
           "**Solve for y.** $y = e^{-x} + C e^{-2x}$"],
    final_answer="$y = e^{-x} + C e^{-2x}$",
)


def test_serialize_shape() -> None:
    text = serialize(EXAMPLE)
    assert text.startswith("## Classification\n")
    positions = [text.index(f"## {name}\n") for name in SECTION_NAMES]
    assert positions == sorted(positions)
    assert "\n1. **Integrating factor.**" in text
    assert "\n   so $y e^{2x}" in text  # continuation lines are indented
    assert text.endswith("## Final Answer\n$y = e^{-x} + C e^{-2x}$\n")


def test_round_trip() -> None:
    parsed = parse_sections(serialize(EXAMPLE), done=True)
    assert parsed.classification == EXAMPLE.classification
    assert parsed.hint == EXAMPLE.hint
    assert parsed.steps == EXAMPLE.steps
    assert parsed.final_answer == EXAMPLE.final_answer
    assert parsed.complete == frozenset(SECTION_NAMES)
    assert parsed.final_answer_complete


def test_final_answer_complete_when_its_line_ends() -> None:
    text = serialize(EXAMPLE)
    cut = text.rindex("$")  # inside the final answer line
    partial = parse_sections(text[:cut])
    assert not partial.final_answer_complete
    assert partial.is_complete(STEPS) and not partial.is_complete(FINAL_ANSWER)
    assert parse_sections(text).final_answer_complete  # the line ended with "\n"
    no_newline = text.rstrip("\n")
    assert not parse_sections(no_newline).final_answer_complete
    assert parse_sections(no_newline, done=True).final_answer_complete


def test_completion_follows_headings() -> None:
    text = serialize(EXAMPLE)
    hint_at = text.index("## Hint")
    s = parse_sections(text[:hint_at + len("## Hint\nMulti")])
    assert s.complete == {CLASSIFICATION}
    assert s.hint == "Multi"
    assert s.started == (CLASSIFICATION, HINT)


def test_partial_heading_is_held_back() -> None:
    text = serialize(EXAMPLE)
    at = text.index("## Steps")
    s = parse_sections(text[:at + 5])  # "## St"
    assert "#" not in s.hint and "St" not in s.hint.splitlines()[-1]
    assert s.hint == EXAMPLE.hint


def test_tolerant_headings() -> None:
    text = ("Sure! Here is the solution.\n**Classification:** first order, separable\n"
            "### hint\nSeparate the variables.\nSteps:\n1) $dy/y = x dx$\n- $\\ln|y| = x^2/2 + C$\n"
            "Final Answer: $y = C e^{x^2/2}$\nHope this helps.")
    s = parse_sections(text, done=True)
    assert s.preamble == "Sure! Here is the solution."
    assert s.classification == "first order, separable"
    assert s.hint == "Separate the variables."
    assert s.steps == ["$dy/y = x dx$", "$\\ln|y| = x^2/2 + C$"]
    assert s.final_answer == "$y = C e^{x^2/2}$"
    assert s.extra == "Hope this helps."


def test_sentence_starting_with_a_section_word_is_not_a_heading() -> None:
    s = parse_sections("## Hint\nSteps are easy here.\nHint at the end\n", done=True)
    assert s.hint == "Steps are easy here.\nHint at the end"
    assert s.steps == []


def test_first_final_answer_stands() -> None:
    s = parse_sections("## Final Answer\n$y = 1$\n## Final Answer\n$y = 2$\n", done=True)
    assert s.final_answer == "$y = 1$"


def test_answer_text_strips_delimiters() -> None:
    assert answer_text("$y = e^{x}$") == "y = e^{x}"
    assert answer_text("$$y = 1$$") == "y = 1"
    assert answer_text("\\(y=2\\)") == "y=2"
    assert answer_text(" y = C ") == "y = C"
    assert answer_text("$") == "$"


def test_prompts_and_messages() -> None:
    assert "Classification" in SYSTEM_PROMPT and "Final Answer" in SYSTEM_PROMPT
    assert user_prompt("  y' = y ").endswith("\ny' = y")
    rows = chat_messages("y' = y", EXAMPLE)
    assert [m["role"] for m in rows] == ["system", "user", "assistant"]
    assert rows[2]["content"] == serialize(EXAMPLE)
    assert len(chat_messages("y' = y")) == 2


def test_serialize_pieces_concatenate_to_whole() -> None:
    pieces = serialize_pieces(EXAMPLE)
    assert len(pieces) == 4 and "".join(pieces) == serialize(EXAMPLE)


def test_markdown() -> None:
    from tutor.render import sections_markdown

    md = sections_markdown(EXAMPLE)
    assert "### Steps\n1. **Integrating factor.**" in md and md.endswith("$" + EXAMPLE.final_answer + "$")  # display maths


def test_lmt_format() -> None:
    """The LMT-tuning card's layout: the answer is the text between the tag and the closing quotes."""
    text = "We separate variables.\nIntegrate both sides.\n'''\n[[Final Answer]]:\n$y = C e^{x}$\n'''\n"
    s = parse_lmt(text)
    assert s.steps == ["We separate variables.", "Integrate both sides."]
    assert s.final_answer == "$y = C e^{x}$" and s.final_answer_complete
    partial = parse_lmt("We separate variables.\n[[Final An")
    assert partial.steps == ["We separate variables."] and not partial.final_answer
    unclosed = "Separate.\n[[Final Answer]]:\n$y = C e^{x}$\n"
    assert not parse_lmt(unclosed).final_answer_complete  # more of the answer may follow
    assert parse_lmt(unclosed, done=True).final_answer_complete
    assert not parse_lmt(unclosed + "''").final_answer_complete
    two_lines = parse_lmt("[[Final Answer]]:\n$y = C_1 e^{x}$\n$+ C_2 e^{-x}$\n'''")
    assert two_lines.final_answer == "$y = C_1 e^{x}$ $+ C_2 e^{-x}$" and two_lines.final_answer_complete
    # The card's prompt, exactly: one user turn, the instruction, then the exam template.
    messages = FORMATS["lmt"].messages("y'=y")
    assert [m["role"] for m in messages] == ["user"]
    assert messages[0]["content"] == (
        "Your task is to answer the last question below. Give step by step reasoning before you answer. "
        "When you're ready to answer, please wrap your answer and conclude using the format\n"
        "'''\n[[Final Answer]]:\n$ANSWER$\n'''\n\n\n\n"
        "[[Question]]:\ny'=y\n\n[[Solution]]:\nLet's think step by step.\n\n")


# --- properties -------------------------------------------------------------------------------

_SAFE = string.ascii_letters + string.digits + " $^{}()+-=\\/,.'_"
_line = st.text(alphabet=_SAFE, min_size=1, max_size=30).map(str.strip).filter(
    lambda s: bool(s) and s[0].isalpha() and ":" not in s)
_block = st.lists(_line, min_size=1, max_size=3).map("\n".join)
_sections = st.builds(Sections, classification=_block, hint=_block,
                      steps=st.lists(_block, min_size=1, max_size=4), final_answer=_line)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_sections)
def test_round_trip_property(sections: Sections) -> None:
    parsed = parse_sections(serialize(sections), done=True)
    assert (parsed.classification, parsed.hint, parsed.steps, parsed.final_answer) == (
        sections.classification, sections.hint, sections.steps, sections.final_answer)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_sections, st.data())
def test_prefixes_never_raise_and_grow(sections: Sections, data: st.DataObject) -> None:
    text = serialize(sections)
    cut = data.draw(st.integers(0, len(text)))
    s = parse_sections(text[:cut])
    assert isinstance(s, Sections)
    # What a prefix shows is never contradicted later: each started section's text
    # is a prefix of its final text (steps: all but the last one are final).
    whole = parse_sections(text, done=True)
    assert whole.classification.startswith(s.classification)
    assert whole.hint.startswith(s.hint)
    finished_steps = max(len(s.steps) - 1, 0)
    assert s.steps[:finished_steps] == whole.steps[:finished_steps]
    if s.steps:
        assert whole.steps[len(s.steps) - 1].startswith(s.steps[-1])
    if s.final_answer_complete:
        assert s.final_answer == whole.final_answer


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_sections, st.lists(st.integers(1, 12), min_size=1, max_size=200))
def test_incremental_equals_whole(sections: Sections, sizes: list[int]) -> None:
    """Feeding the reply in arbitrary pieces gives the same sections as parsing it whole."""
    text = serialize(sections)
    parser, at, i = SectionParser(), 0, 0
    while at < len(text):
        size = sizes[i % len(sizes)]
        parser.feed(text[at:at + size])
        at, i = at + size, i + 1
    assert parser.finish() == parse_sections(text, done=True)
    assert parser.snapshot() == parse_sections(text)
    assert parser.text == text


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=400), st.booleans())
def test_garbage_never_raises(text: str, done: bool) -> None:
    s = parse_sections(text, done=done)
    assert isinstance(s.steps, list)
    assert isinstance(parse_lmt(text, done=done), Sections)
    parser = SectionParser()
    for ch in text[:100]:
        parser.feed(ch)
    assert parser.snapshot() == parse_sections(text[:100])


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["## ", "**", "Hint", "Steps", "Final Answer", ":", "\n", "1. ", "- ",
                                 "$y=1$", "#", " ", "Classification", "[[Final Answer]]:", "x"]),
                max_size=60))
def test_heading_soup_never_raises(tokens: list[str]) -> None:
    text = "".join(tokens)
    parser = SectionParser()
    for token in tokens:
        parser.feed(token)
    assert parser.finish() == parse_sections(text, done=True)
    assert parse_lmt(text) is not None
