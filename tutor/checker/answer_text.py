"""The answer's text before any algebra: cleanup, prose refused, claims, letters the problem lacks.

Everything here runs in the caller's process and is cheap: ``\\boxed{...}``, a sentence around the
formula and trailing notes about the constants are tidied away (:func:`_tidy`), words refused
(:func:`_reject_prose`), the text read by the whitelist grammars (:func:`tutor.parser.parse_answer`,
:func:`tutor.system.parse_system_answer`; nothing is ever evaluated), ``C = 3`` assignments applied
(:func:`_apply_assignments`), and structural problems found before the worker is asked
(:func:`_precheck`: the unknown missing, letters the problem does not have; :func:`_judge_foreign`
words the verdict for the latter from the worker's verdicts on the readings).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import sympy

from tutor.checker.verdict import Verdict, _Voice
from tutor.errors import ParseError
from tutor.notation import math_spans, outside_math, rewrite_piecewise
from tutor.parser import MAX_ANSWER_CHARS, parse_answer, parse_eigen_answer
from tutor.plaintext import KNOWN_WORDS
from tutor.problem import Answer, Problem, conditions_at_several_points
from tutor.system import SystemProblem, parse_system_answer
from tutor.system import prepare as system_prepare

_VARIABLE_NAMES = {"x", "t", "s", "r", "u", "v", "w", "z", "theta", "tau"}


_LOOSE_EXPONENT = re.compile(r"([A-Za-z0-9)])\^(-?\d+)([A-Za-z])")


def _exponent_hint(text: str, voice: "_Voice" = _Voice()) -> str:
    """``e^2x`` is e^2 times x (README: exponents bind tightly); say so when the answer is wrong."""
    m = _LOOSE_EXPONENT.search(text)
    if not m:
        return ""
    base, power, letter = m.groups()
    if voice.model:
        return f" (Note: `{m.group(0)}` is read as ${base}^{{{power}}} {letter}$, not ${base}^{{{power}{letter}}}$.)"
    return (f" (Note: `{m.group(0)}` is read as ${base}^{{{power}}} {letter}$; write `{base}^{{{power}{letter}}}` "
            f"if the exponent is ${power}{letter}$.)")


def read_answer(text: str, problem: Problem | SystemProblem) -> Answer:
    """``text`` read as the checker reads an answer: wrapping tidied away (``\\boxed{...}``, a
    sentence around the formula, "where C is a constant"), prose refused, every arbitrary constant
    found, ``C = 3`` assignments applied.  Raises ParseError.  The app shows a model's final
    answer in this form (tutor/render.py), so what is shown is what was checked."""
    if isinstance(problem, SystemProblem):
        return _as_system_answer(text, problem)
    return _as_answer(text, problem)


_NO_SOLUTION = re.compile(r"(?:(?:the\s+)?(?:boundary\s+value\s+problem|bvp|problem|it)\s+has\s+|there\s+(?:is|are|exists?)\s+)?"
                          r"no\s+(?:such\s+)?solutions?(?:\s+exists?)?(?:\s+at\s+all)?|none|∅|\\emptyset|\\varnothing|\\nexists",
                          re.IGNORECASE)


def read_claim(text: str, problem: Problem) -> tuple[str, tuple]:
    """What an answer that is not an equation claims: ("no_solution", ()), ("eigen", families of
    :class:`tutor.parser.EigenFamily`) or ("", ()) for an ordinary answer.  Raises ParseError for an
    eigenvalue answer with a piece that cannot be read.  The app's preview shows it (app.py)."""
    return _claim(text, problem)


def _claim(text: str, problem: Problem) -> tuple[str, tuple]:
    """("no_solution", ()) for "no solution" (in words, ``\\text{No solution.}``, ``\\emptyset``),
    ("eigen", families) for an eigenvalue answer (:func:`tutor.parser.parse_eigen_answer`), else ("", ())."""
    plain = re.sub(r"\\(?:text|mathrm|mbox|textbf)\s*\{([^{}]*)\}", r"\1", text)
    plain = re.sub(r"\\boxed\s*\{(.*)\}", r"\1", plain, flags=re.DOTALL)
    plain = re.sub(r"\s+", " ", plain.replace("$", " ")).strip().rstrip(".!").strip()
    if _NO_SOLUTION.fullmatch(plain):
        return "no_solution", ()
    # an eigenvalue answer only where one can be meant: one parameter, second order, homogeneous
    # conditions at two points (no algebra here; the worker checks the rest)
    if len(problem.parameters) == 1 and problem.order == 2 and all(ic.value == 0 for ic in problem.ics) \
            and conditions_at_several_points(ic.point for ic in problem.ics):
        families = parse_eigen_answer(text, problem)
        if families:
            return "eigen", families
    return "", ()


def _as_answer(answer: Any, problem: Problem) -> Answer:
    """Normalise every accepted answer form to an Answer in ``problem.function(problem.variable)``."""
    if isinstance(answer, Answer):
        ans = answer
    elif isinstance(answer, str):
        # "y = 1 - cos t for t < 2, ... for t >= 2" before _tidy takes "for t < 2" for a qualifier
        text = _tidy(rewrite_piecewise(answer, "\\" in answer)[0])
        _reject_prose(text)
        ans = parse_answer(text, problem)
    else:
        items = list(answer) if isinstance(answer, (list, tuple)) else [answer]
        solutions = []
        for item in items:
            if isinstance(item, sympy.Eq):
                solutions.append(item)
            elif isinstance(item, sympy.Expr):
                solutions.append(sympy.Eq(problem.unknown, item, evaluate=False))
            else:
                raise ParseError(f"an answer must be text, an Answer or SymPy equations, not {type(item).__name__}")
        if not solutions:
            raise ParseError("the answer is empty")
        ans = Answer(solutions=tuple(solutions), constants=())
    # Constants: what the Answer says, plus any free symbol that is neither the variable nor a
    # parameter (a programmatic Answer may leave ``constants`` empty).
    known = {problem.variable, *problem.parameters}
    constants = list(ans.constants)
    for eq in ans.solutions:
        for s in sorted(eq.free_symbols, key=lambda s: s.name):
            if s not in known and s not in constants:
                constants.append(s)
    if "i" not in {p.name for p in problem.parameters}:
        # "y = C1 e^{ix} + C2 e^{-ix}": the parser reads i as a letter; here it is the imaginary unit
        # (unless the problem itself uses i as a parameter).
        unit = next((c for c in constants if c.name == "i"), None)
        if unit is not None:
            constants.remove(unit)
            solutions = tuple(sympy.Eq(eq.lhs.xreplace({unit: sympy.I}), eq.rhs.xreplace({unit: sympy.I}),
                                       evaluate=False) for eq in ans.solutions)
            ans = Answer(solutions, tuple(constants), ans.explicit, ans.source)
    return _apply_assignments(Answer(ans.solutions, tuple(constants), ans.explicit, ans.source), problem)


_BOXED = re.compile(r"\\boxed\s*\{")
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{4,}")
# ", where C is a constant", " for x > 0", "\quad\text{for } x \neq 0": a qualification, not the answer
_QUALIFIER = re.compile(r"(?:[,;\s]|\\quad|\\qquad|\\[,;:!])*(?:\\text\s*\{[\s,;]*)?\b(?:where|for|with|when)\b.*$",
                        re.IGNORECASE | re.DOTALL)
# Words and symbols that describe the constants ("C arbitrary", "C_1, C_2 \in R"), not the answer.
_NOTE = re.compile(r"\b(?:arbitrary|constants?|const|real)\b|\\in(?![a-z])|∈|\\neq?(?![a-z])|≠", re.IGNORECASE)
_LONE_NAME = re.compile(r"\s*[A-Za-z](?:_\{?\d+\}?|\d+)?\s*")
_QUAD = re.compile(r"\\q?quad(?![A-Za-z])")


def _strip_constant_note(text: str) -> str:
    """Drop ", C_1, C_2 \\in \\mathbb{R}", "(C arbitrary)", ", C constant" at the end of an answer."""
    text = text.rstrip().rstrip(".").rstrip()
    if text.endswith(")"):  # a final parenthesis that describes the constants
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0:
                inner = text[i + 1:-1]
                if "=" not in inner and _NOTE.search(inner):
                    text = text[:i].rstrip()
                break
    # Separators outside brackets (, ; \quad): drop trailing pieces that describe the constants,
    # and the bare constant names listed before them ("C_1, C_2 \in R").
    cuts, depth = [], 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and (ch in ",;" or _QUAD.match(text, i)):
            cuts.append(i)
    noted = False
    for cut in reversed(cuts):
        tail = _QUAD.sub("", text[cut:].lstrip(",;"))
        if "=" in tail:
            break
        if _NOTE.search(tail):
            noted = True
        elif not (noted and (not tail.strip() or _LONE_NAME.fullmatch(tail))):
            break
        text = text[:cut].rstrip()
    return text


def _tidy(text: str) -> str:
    """What students and models wrap around an answer: ``\\boxed{...}``, notes, a final full stop."""
    if len(text) > MAX_ANSWER_CHARS:
        return text  # the parser refuses it with its own message
    # "The general solution is $y = C e^{2x}$." (a model's sentence): the math with an '=' in it
    math = math_spans(text)
    outside = outside_math(text)
    equations = [m for m in math if "=" in m]
    if equations and _WORD.search(outside):
        text = r" \text{ or } ".join(equations)
    m = _BOXED.search(text)
    if m:
        depth, start = 1, m.end()
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                text = text[start:i]
                break
    text = _QUALIFIER.sub("", text)
    text = _strip_constant_note(text)
    return text.rstrip().rstrip(".").rstrip()


def _reject_prose(text: str) -> None:
    """Words are not formulas: "The solution is y = ..." would otherwise read as T h e s o ... y."""
    if len(text) > MAX_ANSWER_CHARS:
        return
    for m in _WORD.finditer(text):
        word = m.group(0)
        if word.lower() not in KNOWN_WORDS and word not in KNOWN_WORDS and word not in {"boxed"}:
            raise ParseError(f"the answer contains the word '{word}': write only the formula", m.start(),
                             suggestion="e.g. y = C e^{2x}")


def _apply_assignments(ans: Answer, problem: Problem) -> Answer:
    """"y = C e^{2x}, C = 3": alternatives ``constant = number`` fix that constant in the others."""
    unknown = problem.unknown
    assigned: dict = {}
    rest = []
    for eq in ans.solutions:
        lhs, rhs = eq.lhs, eq.rhs
        if rhs in ans.constants and not lhs.has(unknown):
            lhs, rhs = rhs, lhs
        if lhs in ans.constants and not rhs.has(unknown) and not (rhs.free_symbols & set(ans.constants)) \
                and not rhs.has(problem.variable):
            assigned[lhs] = rhs
        else:
            rest.append(eq)
    if not assigned or not rest:
        return ans
    solutions = tuple(sympy.Eq(eq.lhs.xreplace(assigned), eq.rhs.xreplace(assigned), evaluate=False)
                      for eq in rest)
    constants = tuple(c for c in ans.constants if c not in assigned)
    return Answer(solutions, constants, (), ans.source)


@dataclass(frozen=True)
class _Foreign:
    """An answer in letters the problem does not have ("y = C e^{2t}" for y(x), "z = ..." for y).

    ``mapped`` is the answer with those letters read as the problem's (None when no one-to-one
    reading exists: two stray variables, an unknown named after the variable); ``as_written``
    the answer with stray variables read as constants (None when, as written, it is not about
    the unknown at all and so cannot be a solution).
    """

    note: str           # "The answer is written in $t$, but the unknown is $y(x)$"
    advice: str         # "write it in terms of $x$" (for the student)
    reading: str        # "with $t$ read as $x$"
    mapped: Answer | None
    as_written: Answer | None
    letters: dict       # {"t": "x"}: the one-to-one reading, where there is one
    strays: tuple[str, ...] = ()  # variables the problem does not have ("t", "s")


def _precheck(ans: Answer, problem: Problem, voice: _Voice = _Voice()) -> Verdict | _Foreign | None:
    """Cheap structural problems that need no algebra: the unknown missing, letters the problem lacks."""
    unknown, var = problem.unknown, problem.variable
    name = str(problem.function)
    params = set(problem.parameters)
    # Another name for the unknown: "z = C e^{2x}" for y, "y = 20 + C e^{-kt}" for T(t).
    function_names = []
    for eq in ans.solutions:
        if eq.has(unknown):
            continue
        others = [str(a.func) for a in eq.atoms(sympy.core.function.AppliedUndef)]
        others += [side.name for side in (eq.lhs, eq.rhs) if isinstance(side, sympy.Symbol)
                   and side.name in _VARIABLE_NAMES | {"y", "f", "g", "h"} and side not in params]
        if not others:
            return Verdict("wrong", f"${sympy.latex(eq)}$ does not involve ${name}$, so it does not "
                           f"describe a solution ${name}({var})$.", {"solution": sympy.latex(eq)})
        function_names.append(others[0])
    renamed = sorted(set(function_names))
    solutions = ans.solutions
    if renamed:
        other = sympy.Symbol(renamed[0])
        if len(renamed) > 1 or other == var or any(eq.has(unknown) and eq.has(other) for eq in solutions):
            shown = " and ".join(f"${n}$" for n in renamed)
            return Verdict("wrong", f"{voice.subject} is about {shown}, but the unknown is ${name}({var})$, "
                           f"so it does not describe a solution ${name}({var})$.",
                           {"foreign": renamed, "solutions": [sympy.latex(eq) for eq in solutions]})

        def rename(expr: sympy.Expr) -> sympy.Expr:
            expr = expr.replace(lambda e: isinstance(e, sympy.core.function.AppliedUndef)
                                and str(e.func) == other.name, lambda e: unknown)
            return expr.xreplace({other: unknown})

        solutions = tuple(sympy.Eq(rename(eq.lhs), rename(eq.rhs), evaluate=False) for eq in solutions)
    constants = [c for c in ans.constants if c.name not in renamed]
    # y(x) itself contains x: look for the variable outside the unknown.
    placeholder = sympy.Dummy("unknown")
    uses_variable = any(eq.xreplace({unknown: placeholder}).has(var) for eq in solutions)
    strangers = [] if uses_variable else [c for c in constants if c.name in _VARIABLE_NAMES and c.name != name]
    if not renamed and not strangers:
        return None
    parts, readings, letters = [], [], {}
    advice = f"write it as ${name} = \\dots$" if renamed else "write it"
    if renamed:
        parts.append(f"about ${renamed[0]}$")
        readings.append(f"${renamed[0]}$ read as ${name}$")
        letters[renamed[0]] = name
    if strangers:
        parts.append("written in " + " and ".join(f"${c}$" for c in strangers))
        advice += f" in terms of ${var}$"
        if len(strangers) == 1:
            readings.append(f"${strangers[0]}$ read as ${var}$")
            letters[strangers[0].name] = var.name
    note = f"{voice.subject} is {' and '.join(parts)}, but the unknown is ${name}({var})$"
    mapped = None
    if len(strangers) <= 1:
        to_var = {strangers[0]: var} if strangers else {}
        mapped = Answer(tuple(sympy.Eq(eq.lhs.xreplace(to_var), eq.rhs.xreplace(to_var), evaluate=False)
                              for eq in solutions), tuple(c for c in constants if c not in to_var), (), ans.source)
    return _Foreign(note=note, advice=advice, reading="with " + " and ".join(readings),
                    mapped=mapped, as_written=None if renamed else ans, letters=letters,
                    strays=tuple(c.name for c in strangers))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _judge_foreign(foreign: _Foreign, run: Callable[[Answer], Verdict], voice: _Voice) -> Verdict:
    """A verdict for an answer in letters the problem does not have.

    ``wrong`` when no reading makes it a solution (read with the problem's letters it fails, and
    as written it fails or is not about the unknown at all); otherwise ``undecided`` — the
    answer is not in the problem's letters, so it is not a solution as it stands, but neither is
    it shown to be false mathematics — with what the problem's letters would give.
    """
    details = {"foreign_letters": foreign.letters}
    error = {"error": foreign.note.replace("$", ""), "position": None, "suggestion": foreign.advice or None}
    mapped = run(foreign.mapped) if foreign.mapped is not None else None
    if mapped is not None and mapped.verdict != "wrong":
        if mapped.verdict in ("correct", "incomplete"):
            found = f" ({foreign.reading} it satisfies the equation)."
        else:  # undecided: its reason is a whole sentence
            found = f"; {foreign.reading}, {_lower_first(mapped.reason)}"
        return Verdict("undecided", f"{foreign.note}{voice.advice(foreign.advice)}{found}", {**details, "error": error})
    written = run(foreign.as_written) if foreign.as_written is not None else None
    if written is not None and written.verdict != "wrong":
        return Verdict("undecided", f"{foreign.note}{voice.advice(foreign.advice)}.", {**details, "error": error})
    if mapped is not None:
        return Verdict("wrong", f"{foreign.note}, and {foreign.reading} it is still not a solution: "
                          f"{_lower_first(mapped.reason)}", {**mapped.details, **details})
    if written is None:  # not about the unknown as written, and no one-to-one reading in its letters
        return Verdict("wrong", f"{foreign.note}, so it does not describe a solution.", details)
    strays = " and ".join(f"${n}$" for n in foreign.strays)
    return Verdict("wrong", f"{foreign.note}, and with {strays} as constants it is not a solution: "
                      f"{_lower_first(written.reason)}", {**written.details, **details})


def _as_system_answer(answer: Any, problem: SystemProblem) -> Answer:
    if isinstance(answer, Answer):
        return answer
    if isinstance(answer, str):
        text = _tidy(answer)
        _reject_prose(system_prepare(text))
        return parse_system_answer(text, problem)
    items = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    if len(items) != problem.n or not all(isinstance(e, sympy.Eq) for e in items):
        raise ParseError(f"a system's answer gives each of its {problem.n} unknowns: x(t) = ..., y(t) = ...")
    constants = sorted({s for e in items for s in e.rhs.free_symbols if s != problem.variable}, key=lambda s: s.name)
    return Answer(tuple(items), tuple(constants))
