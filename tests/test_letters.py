"""Canonical letters (tutor/letters.py): the model reads y(x); the student sees their letters."""
from __future__ import annotations

from tutor.format import Sections, compact_latex
from tutor.letters import canonical_view, map_letters, map_math_spans, model_problem_text, rename
from tutor.parser import parse


def test_a_problem_in_other_letters_is_renamed_to_y_of_x() -> None:
    problem = parse("u'(t) = 3 u, u(0) = 2")
    view = canonical_view(problem)
    assert view is not None
    assert view.canonical.function.__name__ == "y" and view.canonical.variable.name == "x"
    assert model_problem_text(view.canonical) == "y' = 3 y,\\quad y(0) = 2"
    assert view.to_student("Hence $y = 2 e^{3 x}$ and $\\exp(x)$.") == "Hence $u = 2 e^{3 t}$ and $\\exp(t)$."


def test_x_of_t_swaps_letters_at_once() -> None:
    view = canonical_view(parse("x'' + x = 0"))  # the unknown is x(t)
    assert view is not None
    assert view.to_student("$y = C_1 \\cos(x) + C_2 \\sin(x)$") == "$x = C_1 \\cos(t) + C_2 \\sin(t)$"


def test_no_view_when_already_canonical_or_a_parameter_would_collide() -> None:
    assert canonical_view(parse("y' = 2y")) is None
    assert canonical_view(parse("u'(t) = y u")) is None  # y is a parameter here


def test_prose_and_commands_keep_their_letters() -> None:
    assert map_math_spans("y is easy, $y + x$", {"y": "u", "x": "t"}) == "y is easy, $u + t$"
    assert map_letters("\\frac{dy}{dx} + \\max(x, y)", {"y": "u", "x": "t"}) == "\\frac{du}{dt} + \\max(t, u)"
    assert map_letters("\\int y\\, dy = \\int x\\,dx", {"y": "u", "x": "t"}) == "\\int u\\, du = \\int t\\,dt"
    assert map_letters("ab + \\delta y", {"y": "u", "b": "z"}) == "ab + \\delta u"  # words and commands stay


def test_sections_and_verdicts_are_renamed_for_the_student() -> None:
    view = canonical_view(parse("z'(s) = z"))
    sections = view.sections_to_student(Sections(hint="Separate $y$ and $x$.", steps=["$y' = y$"],
                                                 final_answer="$y = C e^x$"))
    assert (sections.hint, sections.steps, sections.final_answer) == (
        "Separate $z$ and $s$.", ["$z' = z$"], "$z = C e^s$")
    assert view.verdict_to_student({"verdict": "wrong", "reason": "gives $y' - y = 1$"})["reason"] == \
        "gives $z' - z = 1$"


def test_a_canonical_answer_has_the_same_verdict_as_the_renamed_one() -> None:
    from tutor.checker import check

    problem = parse("u'(t) = -2 u, u(0) = 5")
    view = canonical_view(problem)
    assert check(view.canonical, "y = 5 e^{-2x}").verdict == "correct"
    assert check(problem, view.formula_to_student("y = 5 e^{-2x}")).verdict == "correct"
    assert rename(view.canonical, "u", "t").equation == problem.equation


def test_compact_latex_reads_back_the_same() -> None:
    from tutor.checker import check

    problem = parse("y'' + y = tan(x)")
    full = ("y = C_{1} \\cos{\\left(x \\right)} + C_{2} \\sin{\\left(x \\right)} - "
            "\\frac{\\ln{\\left(\\sin{\\left(x \\right)} + 1 \\right)} \\cos{\\left(x \\right)}}{2} + "
            "\\frac{\\ln{\\left(1 - \\sin{\\left(x \\right)} \\right)} \\cos{\\left(x \\right)}}{2}")
    short = compact_latex(full)
    assert short == ("y = C_1 \\cos(x) + C_2 \\sin(x) - \\frac{\\ln(\\sin(x) + 1) \\cos(x)}{2} + "
                     "\\frac{\\ln(1 - \\sin(x)) \\cos(x)}{2}")
    assert check(problem, full).verdict == check(problem, short).verdict == "correct"
    assert compact_latex("\\tan^{2}{\\left(3 x \\right)}") == "\\tan^2(3 x)"
    assert compact_latex("\\left[a\\right]") == "[a]"
