"""Teaching helpers: practice problems with worked solutions, and pointers for wrong answers.

* :func:`practice_set` — a practice problem of a method family ("random" picks the family from
  the seed) with the generator's verified answer and the engine's worked solution by that
  method.  Deterministic: the same (method, seed, difficulty) gives the same problem, so a
  teacher can share a seed.
* :func:`where_to_look` — for the Check tab: a pointer for a student whose answer is not
  right (which condition failed, which strategy fits the equation) without the solution.

Usage::

    from tutor.teaching import practice_set, where_to_look
    item = practice_set("separable", seed=7, difficulty=2)
    item.problem.latex, item.solution.hint, item.to_dict()
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from tutor.bounded import SymbolicBusy
from tutor.engine import Practice, Solution, practice, solve
from tutor.engine.registry import get, methods
from tutor.engine.solve import SYSTEMS_METHOD
from tutor.problem import Problem

RANDOM = "random"
#: Seeds tried after the requested one when a generator's problem does not verify (rare); the
#: offsets are fixed, so a seed still always gives the same problem.
_RETRY_OFFSETS = (0, 7919, 15838)


def method_choices() -> list[tuple[str, str]]:
    """(display name, id) for every registered method, in textbook order, then linear systems
    (their own method, outside the registry of methods for one equation)."""
    from tutor.engine.methods import linear_system

    return [(m.name, m.id) for m in methods()] + [(linear_system.NAME, linear_system.ID)]


def pick_method(method: str, seed: int) -> str:
    """The method id for ``method``; "random" picks one from the seed (deterministically)."""
    if method == RANDOM:
        return random.Random(f"random-method:{seed}").choice([m.id for m in methods()])
    if method == SYSTEMS_METHOD:
        return method
    get(method)  # KeyError for an unknown id
    return method


@dataclass(frozen=True)
class PracticeSet:
    method: str
    seed: int
    difficulty: int
    generated: Practice
    solution: Solution

    @property
    def problem(self) -> Problem:
        return self.generated.problem

    @property
    def method_name(self) -> str:
        if self.method == SYSTEMS_METHOD:
            from tutor.engine.methods.linear_system import NAME

            return NAME
        return get(self.method).name

    @property
    def steps(self) -> list[str]:
        return list(self.solution.to_sections().steps)

    @property
    def answer_latex(self) -> str:
        return self.solution.answer_latex or self.generated.answer.latex

    def to_dict(self) -> dict:
        """JSON for the API: the problem (LaTeX the parser reads back), hint, steps, answer."""
        return {"method": self.method, "method_name": self.method_name, "seed": self.seed,
                "difficulty": self.difficulty, "problem": self.problem.latex, "hint": self.solution.hint,
                "steps": self.steps, "answer": self.answer_latex, "verified": self.solution.verified}


def practice_set(method: str = RANDOM, seed: int = 0, difficulty: int = 1, timeout: float = 15.0) -> PracticeSet:
    """A practice problem with its worked solution (ValueError if no verified one can be made;
    :class:`tutor.bounded.SymbolicBusy` when every symbolic worker is taken)."""
    seed, difficulty = int(seed), max(1, min(3, int(difficulty)))
    method_id = pick_method(method, seed)
    last_error: Exception | None = None
    for offset in _RETRY_OFFSETS:
        try:
            generated = practice(method_id, seed + offset, difficulty, timeout=timeout)
        except SymbolicBusy:  # every worker is taken: another seed would be refused too
            raise
        except Exception as exc:  # the generator's answer did not verify, or it ran out of time
            last_error = exc
            continue
        solution = solve(generated.problem, timeout=timeout, method=None if method_id == SYSTEMS_METHOD else method_id)
        if not solution.verified:  # the family's method could not show it: any verified derivation
            solution = solve(generated.problem, timeout=timeout)
        if solution.verified:
            return PracticeSet(method_id, seed, difficulty, generated, solution)
        last_error = ValueError(solution.message or "no verified derivation")
    raise ValueError(f"could not make a verified {method_id} problem for seed {seed}: {last_error}")


def where_to_look(problem: Problem, verdict: dict, solution: Solution | None = None) -> str:
    """A pointer for a student whose answer is not correct, without giving the solution away."""
    kind = verdict.get("verdict")
    details = verdict.get("details") or {}
    strategy = ""
    if solution is not None and solution.verified and solution.method_name:
        strategy = f"This is a **{solution.method_name.lower()}** problem. Strategy: {solution.hint}"
    if kind == "correct":
        return ""
    if kind == "wrong" and details.get("failed_condition"):
        return (f"Your function satisfies the equation, so the method worked — recheck how you used "
                f"${details['failed_condition']}$ to find the constant(s).")
    if kind == "wrong":
        return ("Substitute your answer back step by step to see where it breaks; a sign, a factor from "
                "the chain rule or an integration constant are the usual culprits. " + strategy).strip()
    if kind == "incomplete":
        found, expected = details.get("constants_found"), details.get("constants_expected")
        if problem.ics:
            return "Use the initial condition(s) to fix every constant in your answer."
        if expected is not None and found is not None and found < expected and getattr(problem, "is_system", False):
            return (f"A system of {expected} first-order equations has a general solution with {expected} arbitrary "
                    "constants (one per unknown): keep one for each independent solution.")
        if expected is not None and found is not None and found < expected:
            return (f"An equation of order {problem.order} has a general solution with {expected} arbitrary "
                    f"constant{'s' if expected != 1 else ''}; keep the constant(s) of integration.")
        return strategy
    if details.get("error"):
        suggestion = details["error"].get("suggestion") if isinstance(details["error"], dict) else None
        return suggestion or "Write the answer as `y = ...` or as an implicit relation `F(x, y) = C`."
    return "Try writing the answer explicitly (`y = ...`) or simplifying it, then check again."
