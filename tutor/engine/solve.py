"""``solve(problem_or_text, timeout=10) -> Solution``: classify, derive, verify — bounded.

The derivation runs in a worker process via :func:`tutor.bounded.run_bounded` (SymPy can
hang; Gradio handlers run in threads where SIGALRM does not work).  The worker
classifies the problem and tries the matching methods in textbook preference order;
the first derivation comes back here and is verified with the project's one verifier
(:func:`tutor.checker.check`).  A derivation the verifier does not accept is dropped
and the next method tried; after the textbook methods, SymPy's ``dsolve`` is tried and
the steps say which of its hints solved the equation.  With nothing verified the answer
is "no closed form found"; when the time runs out, "could not finish in time".  An
unverified answer is never returned.

Usage::

    from tutor.engine.solve import solve, practice
    sol = solve("y' + 2y = e^(-x), y(0)=1")
    sol.to_dict(); print(sol.to_text())
    p = practice("separable", seed=3, difficulty=2)   # generated problem, verified answer

Command line: ``python -m tutor solve "y' = x*y" [--json]``.
"""
from __future__ import annotations

import inspect
import multiprocessing
import time
from dataclasses import dataclass

import sympy

from tutor.bounded import DEFAULT_TIMEOUT, SymbolicTimeout, WorkerCrashed, run_bounded
from tutor.engine.base import CannotDerive, Derivation, Practice
from tutor.engine.classify import Classification, classify
from tutor.engine.solution import NO_CLOSED_FORM, SOLVED, TIMEOUT, Solution
from tutor.engine.steps import Check, Step, tex
from tutor.problem import Answer, Problem

DSOLVE = "dsolve"
#: dsolve hints that only restate the problem as an unevaluated integral, or group others.
_SKIPPED_HINTS = ("_Integral", "default", "all", "best")


@dataclass(frozen=True)
class _Draft:
    """What the worker sends back: the classification and the next derivation (or None)."""

    classification: Classification
    derivation: Derivation | None
    failures: tuple[str, ...]


def _dsolve_derivation(problem: Problem) -> Derivation:
    """SymPy's dsolve, hint by hint in SymPy's order; the steps say which hint worked."""
    eq, y = problem.equation, problem.unknown
    hints = [h for h in sympy.classify_ode(eq, y) if not h.endswith(_SKIPPED_HINTS)]
    for hint in hints:
        try:
            result = sympy.dsolve(eq, y, hint=hint, ics=problem.ics_dict or None)
        except Exception:  # a hint that fails on this equation: try SymPy's next one
            continue
        results = tuple(result) if isinstance(result, (list, tuple)) else (result,)
        if any(r.has(sympy.Integral) for r in results):
            continue
        constants = sorted({s for r in results for s in r.free_symbols
                            if s.name.startswith("C") and s not in problem.parameters}, key=lambda s: s.name)
        steps = [
            Step("No textbook method applies",
                 "None of this tutor's textbook methods fits this equation, so SymPy's solver is used.",
                 check=Check.NOTE),
            Step("Solved by SymPy",
                 f"SymPy's dsolve solved it with the hint '{hint}'.",
                 latex=tex(results, problem.variable), check=Check.SOLVES if not problem.ics else Check.CONSTANTS,
                 after=results),
        ]
        # dsolve applied the initial conditions itself; its C1, C2 are already textbook names.
        return Derivation(DSOLVE, tuple(steps), results, tuple(constants))
    raise CannotDerive("dsolve found no closed form")


def _derive(problem: Problem, method: str | None, excluded: tuple[str, ...],
            classification: Classification | None) -> _Draft:
    """Worker: classify (once) and return the first derivation not yet excluded."""
    from tutor.engine.registry import get

    if classification is None:
        classification = classify(problem)
    candidates = [method] if method else list(classification.types)
    failures = []
    for method_id in candidates:
        if method_id in excluded:
            continue
        try:
            return _Draft(classification, get(method_id).derive(problem), tuple(failures))
        except CannotDerive as exc:
            failures.append(f"{method_id}: {exc}")
        except Exception as exc:  # a method bug must not stop the others: record it, go on
            failures.append(f"{method_id}: {type(exc).__name__}: {exc}")
    if DSOLVE not in excluded and method is None:
        try:
            return _Draft(classification, _dsolve_derivation(problem), tuple(failures))
        except CannotDerive as exc:
            failures.append(f"{DSOLVE}: {exc}")
        except Exception as exc:
            failures.append(f"{DSOLVE}: {type(exc).__name__}: {exc}")
    return _Draft(classification, None, tuple(failures))


def _in_worker() -> bool:
    return multiprocessing.current_process().daemon


def verify(problem: Problem, answer: Answer, timeout: float | None = None):
    """The project's one verifier (:func:`tutor.checker.check`) on an answer."""
    from tutor.checker import check

    if timeout is not None and "timeout" in inspect.signature(check).parameters:
        return check(problem, answer, timeout=max(timeout, 0.5))
    return check(problem, answer)


def _timed_out(problem: Problem, classification: Classification | None, started: float, limit: float,
               attempts: tuple[str, ...]) -> Solution:
    message = f"Could not finish in time ({limit:g} s)."
    return Solution(problem=problem, classification=classification, method=None, method_name="", hint="",
                    steps=(Step("Could not finish in time", message, check=Check.NOTE),), answer=None,
                    status=TIMEOUT, message=message, seconds=time.monotonic() - started, attempts=attempts)


def solve(problem_or_text: Problem | str, timeout: float | None = None, method: str | None = None) -> Solution:
    """Classify, derive step by step and verify; never longer than about ``timeout`` seconds.

    ``method`` forces one method id (teacher mode); otherwise the textbook order decides.
    Raises :class:`tutor.errors.ParseError` for text that cannot be read.
    """
    from tutor.engine.registry import get

    limit = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    started = time.monotonic()
    deadline = started + limit
    if isinstance(problem_or_text, Problem):
        problem = problem_or_text
    else:
        from tutor.parser import parse

        problem = parse(problem_or_text)
    excluded: list[str] = []
    attempts: list[str] = []
    classification: Classification | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _timed_out(problem, classification, started, limit, tuple(attempts))
        try:
            draft: _Draft = run_bounded(_derive, problem, method, tuple(excluded), classification,
                                        timeout=remaining)
        except (SymbolicTimeout, WorkerCrashed):
            return _timed_out(problem, classification, started, limit, tuple(attempts))
        classification = draft.classification
        attempts.extend(draft.failures)
        derivation = draft.derivation
        if derivation is None:
            message = "No closed form found."
            steps = (Step("No closed form found",
                          "None of the methods (textbook or SymPy's dsolve) produced a solution that "
                          "passes the check by substitution.", check=Check.NOTE),)
            return Solution(problem=problem, classification=classification, method=None, method_name="",
                            hint="", steps=steps, answer=None, status=NO_CLOSED_FORM, message=message,
                            seconds=time.monotonic() - started, attempts=tuple(attempts))
        try:
            verdict = verify(problem, derivation.answer(), timeout=deadline - time.monotonic())
        except (SymbolicTimeout, WorkerCrashed):
            return _timed_out(problem, classification, started, limit, tuple(attempts))
        if verdict.verdict == "correct":
            name = "SymPy dsolve" if derivation.method == DSOLVE else get(derivation.method).name
            hint = derivation.hint or (get(derivation.method).hint(problem) if derivation.method != DSOLVE else
                                       "No textbook method applies; SymPy's solver is used.")
            return Solution(problem=problem, classification=classification, method=derivation.method,
                            method_name=name, hint=hint, steps=derivation.steps, answer=derivation.solutions,
                            constants=derivation.constants, verified=True, verdict=verdict.verdict,
                            reason=verdict.reason, status=SOLVED, seconds=time.monotonic() - started,
                            attempts=tuple(attempts))
        attempts.append(f"{derivation.method}: answer rejected by the checker ({verdict.verdict}: {verdict.reason})")
        excluded.append(derivation.method)
        if method is not None:
            # A forced method whose answer fails is not replaced by another method.
            return Solution(problem=problem, classification=classification, method=None, method_name="",
                            hint="", steps=(Step("No verified answer",
                                                 f"The method {method} did not produce a verified answer.",
                                                 check=Check.NOTE),),
                            answer=None, status=NO_CLOSED_FORM, message="No closed form found.",
                            seconds=time.monotonic() - started, attempts=tuple(attempts))


def _generate(method_id: str, seed: int, difficulty: int) -> Practice:
    from tutor.engine.registry import get

    return get(method_id).generate(seed, difficulty)


def practice(method_id: str, seed: int, difficulty: int = 1, timeout: float | None = None) -> Practice:
    """A generated practice problem whose answer the verifier accepts (else ValueError)."""
    limit = DEFAULT_TIMEOUT if timeout is None else timeout
    generated: Practice = run_bounded(_generate, method_id, seed, difficulty, timeout=limit)
    verdict = verify(generated.problem, generated.answer, timeout=limit)
    if verdict.verdict != "correct":
        raise ValueError(f"generated {method_id} problem (seed {seed}) failed verification: {verdict.reason}")
    return generated
