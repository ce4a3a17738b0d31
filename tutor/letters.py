"""Canonical letters: a model reads every problem in ``y(x)`` and the student sees their own letters.

A small model copies letters badly (the last one answered problems in ``u(x)`` with ``t``), so a
profile with ``canonical_letters: true`` is prompted with the problem renamed to ``y(x)``
(:func:`canonical_view`); its reply is checked against that renamed problem (the same verdict:
renaming is a bijection), and everything shown to the student is renamed back
(:meth:`LetterView.to_student`): letters inside ``$...$`` spans (and ``\\(...\\)``, ``\\[...\\]``)
are mapped as whole identifiers, never inside a LaTeX command (``\\exp`` keeps its ``x``).

When the problem is already in ``y(x)``, or renaming would collide with one of its parameters
(``u' = y u`` has a parameter named ``y``), there is no view and the model sees the problem as is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from tutor.problem import InitialCondition, Problem

CANONICAL_FUNCTION = "y"
CANONICAL_VARIABLE = "x"


def rename(problem: Problem, function_name: str, variable_name: str) -> Problem:
    """The same problem in ``function_name(variable_name)`` (``y(x)`` -> ``x(t)`` works too)."""
    F, V = sympy.Function(function_name), sympy.Symbol(variable_name)
    equation = problem.equation.replace(problem.function, F).xreplace({problem.variable: V})
    ics = tuple(InitialCondition(ic.order, ic.point, ic.value) for ic in problem.ics)
    params = tuple(p for p in problem.parameters if p != V)
    return Problem(equation=equation, function=F, variable=V, ics=ics, parameters=params,
                   source=problem.source, notation=problem.notation)


# A LaTeX command (kept whole), a differential (``dy``, ``dx``: its letter is renamed), or one
# letter that is not part of a longer word.
_TOKEN = re.compile(r"\\[A-Za-z]+|(?<![A-Za-z\\])d[A-Za-z](?![A-Za-z])|(?<![A-Za-z])[A-Za-z](?![A-Za-z])")
_MATH = re.compile(r"\$\$.+?\$\$|\$.+?\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)


def map_letters(math: str, mapping: dict[str, str]) -> str:
    """Rename single-letter identifiers in a LaTeX formula, all at once (a swap works)."""
    def one(m: re.Match) -> str:
        token = m.group(0)
        if len(token) == 2:  # d + a letter: the differential of that letter
            return "d" + mapping.get(token[1], token[1])
        return mapping.get(token, token)

    return _TOKEN.sub(one, math)


def map_math_spans(text: str, mapping: dict[str, str]) -> str:
    """:func:`map_letters` applied inside each math span of ``text``; prose is left alone."""
    if not mapping:
        return text
    return _MATH.sub(lambda m: map_letters(m.group(0), mapping), text)


@dataclass(frozen=True)
class LetterView:
    """A problem as the model sees it (``canonical``) and the way back to the student's letters."""

    original: Problem
    canonical: Problem

    @property
    def back(self) -> dict[str, str]:
        return {CANONICAL_FUNCTION: self.original.function.__name__,
                CANONICAL_VARIABLE: self.original.variable.name}

    def to_student(self, text: str) -> str:
        """Model text (in y, x) with the student's letters in every formula."""
        return map_math_spans(text, self.back)

    def formula_to_student(self, latex: str) -> str:
        return map_letters(latex, self.back)

    def sections_to_student(self, sections):
        """:class:`tutor.format.Sections` with every section's formulas in the student's letters."""
        from dataclasses import replace

        return replace(sections, classification=self.to_student(sections.classification),
                       hint=self.to_student(sections.hint), steps=[self.to_student(s) for s in sections.steps],
                       final_answer=self.to_student(sections.final_answer))

    def verdict_to_student(self, verdict: dict) -> dict:
        return {**verdict, "reason": self.to_student(verdict.get("reason", ""))}


def canonical_view(problem: Problem) -> LetterView | None:
    """The problem renamed to ``y(x)``, or None when it already is or renaming would collide."""
    name, var = problem.function.__name__, problem.variable.name
    if (name, var) == (CANONICAL_FUNCTION, CANONICAL_VARIABLE):
        return None
    if len(name) != 1 or len(var) != 1:  # theta(t): a Greek name is not a single-letter token
        return None
    taken = {p.name for p in problem.parameters} | {
        s.name for s in problem.equation.free_symbols if s != problem.variable}
    if CANONICAL_FUNCTION in taken - {name} or CANONICAL_VARIABLE in taken - {var}:
        return None
    return LetterView(problem, rename(problem, CANONICAL_FUNCTION, CANONICAL_VARIABLE))


def model_problem_text(problem: Problem) -> str:
    """The problem as a canonical-letters model is prompted with: compact textbook LaTeX."""
    from tutor.format import compact_latex

    return compact_latex(problem.latex)
