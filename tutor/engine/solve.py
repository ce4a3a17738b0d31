"""``solve(problem_or_text, timeout=10) -> Solution``: classify, derive, verify — bounded.

The whole call runs in a worker process via :func:`tutor.bounded.run_bounded` (SymPy can
hang; Gradio handlers run in threads where SIGALRM does not work).  The worker
classifies the problem, tries the matching methods in textbook preference order and
verifies each final answer with the project's one verifier (:func:`tutor.checker.check`,
which runs in-process when already inside a worker).  A derivation the verifier does not accept is dropped
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

import time
from dataclasses import replace

import sympy

from tutor.bounded import DEFAULT_TIMEOUT, SymbolicBusy, SymbolicTimeout, WorkerCrashed, run_bounded
from tutor.engine.base import CannotDerive, Derivation, Practice, derive_matched
from tutor.engine.classify import Classification, classify, classify_matched
from tutor.engine.solution import EIGENVALUES, NO_CLOSED_FORM, NO_SOLUTION, NUMERICAL, SOLVED, TIMEOUT, Solution
from tutor.engine.steps import Check, Step, check_step, tex
from tutor.engine.timebox import attempt
from tutor.problem import Answer, Problem

DSOLVE = "dsolve"
#: The method id of linear systems (tutor/engine/methods/linear_system.py; not in the scalar registry).
SYSTEMS_METHOD = "linear_system"
#: A scalar equation rewritten as a first-order system, when the problem asks (tutor/engine/methods/as_system.py).
AS_SYSTEM = "as_system"
#: An equation that factors, each factor solved on its own (tutor/engine/methods/factored.py).
FACTORED = "factored"

#: The share of the remaining time one textbook method may spend deriving.
METHOD_SHARE = 0.6
#: dsolve hints that only restate the problem as an unevaluated integral, or group others.
_SKIPPED_HINTS = ("_Integral", "default", "all", "best")
#: dsolve hints the engine's own methods do with steps (tutor/engine/methods/series.py): a truncated
#: series from dsolve would otherwise stand in for the derivation.
_OWN_HINTS = ("2nd_power_series_ordinary", "2nd_power_series_regular")
#: Equations a first course names although no textbook method here solves them in elementary
#: functions: SymPy's hint -> (the name, what the solutions are).
SPECIAL_EQUATIONS = {
    "2nd_linear_airy": ("Airy's equation", r"the Airy functions $\operatorname{Ai}$ and $\operatorname{Bi}$"),
    "2nd_linear_bessel": ("Bessel's equation", r"Bessel functions ($J_\nu$ and $Y_\nu$, or the modified $I_\nu$ and $K_\nu$)"),
    "2nd_hypergeometric": ("a hypergeometric equation", "hypergeometric functions"),
}


def _method_name(method_id: str) -> str:
    """The display name of any method id a derivation can carry (registry, dsolve, as-a-system, factored)."""
    from tutor.engine.registry import get

    if method_id == DSOLVE:
        return "SymPy dsolve"
    if method_id == AS_SYSTEM:
        from tutor.engine.methods.as_system import NAME

        return NAME
    if method_id == FACTORED:
        from tutor.engine.methods.factored import NAME

        return NAME
    return get(method_id).name


def special_equation(hint: str) -> tuple[str, str] | None:
    """(name, what its solutions are) when dsolve's ``hint`` is one of :data:`SPECIAL_EQUATIONS`."""
    return next((v for k, v in SPECIAL_EQUATIONS.items() if hint.startswith(k)), None)


def _dsolve_derivation(problem: Problem, deadline: float | None = None) -> Derivation:
    """SymPy's dsolve: its default hint first (what ``dsolve`` itself does), then its other
    hints in SymPy's order, each time-boxed; the steps say which hint worked."""
    eq, y = problem.equation, problem.unknown
    # The tuple form: with dict=True SymPy returns only {'factorable', ...} for a factorable
    # equation (Bessel's is one), and no 'ordered_hints' at all.
    ordered = list(dict.fromkeys(sympy.classify_ode(eq, y)))
    hints = [h for h in ordered if not h.endswith(_SKIPPED_HINTS) and h not in _OWN_HINTS]
    out_of_time = False
    for hint in hints:
        left = (deadline - time.monotonic()) if deadline is not None else 10.0
        if left <= 0.2:
            out_of_time = True
            break
        try:
            finished, result = attempt(max(0.5, 0.6 * left), sympy.dsolve, eq, y, hint=hint,
                                       ics=problem.ics_dict or None)
        except Exception:  # a hint that fails on this equation: try SymPy's next one
            continue
        if not finished:
            out_of_time = True
            continue
        results = tuple(result) if isinstance(result, (list, tuple)) else (result,)
        # an unevaluated integral is no answer; a truncated series (SymPy's 'factorable' hint falls back to
        # its power-series solver) is not a closed form, and the engine's series methods show the steps
        if any(r.has(sympy.Integral, sympy.Order) for r in results):
            continue
        constants = sorted({s for r in results for s in r.free_symbols
                            if s.name.startswith("C") and s not in problem.parameters}, key=lambda s: s.name)
        named = next(filter(None, map(special_equation, ordered)), None)  # by what SymPy recognised
        steps = [
            Step(f"This is {named[0]}" if named else "No textbook method applies",
                 (f"This is {named[0]} (possibly after a change of variable): its solutions are {named[1]}, "
                  "not elementary functions, so SymPy's solver writes them." if named else
                  "None of this tutor's textbook methods fits this equation, so SymPy's solver is used."),
                 check=Check.NOTE),
            Step("Solved by SymPy",
                 f"SymPy's dsolve solved it with the hint '{hint}'.",
                 latex=tex(results, problem.variable), check=Check.SOLVES if not problem.ics else Check.CONSTANTS,
                 after=results),
        ]
        # dsolve applied the initial conditions itself; its C1, C2 are already textbook names.
        hint_text = (f"This is {named[0]}: its solutions are {named[1]}." if named else
                     "No textbook method applies; SymPy's solver is used.")
        return Derivation(DSOLVE, tuple(steps), results, tuple(constants), hint=hint_text)
    # "ran out" tells solve() to answer "could not finish in time", not "no closed form"
    raise CannotDerive("dsolve ran out of time" if out_of_time else "dsolve found no closed form")


#: What a problem may ask for (``Problem.requested_method``, read by ``notation.method_request``) ->
#: the methods tried first, in order (a method id asks for itself).
REQUESTS: dict[str, tuple[str, ...]] = {
    "series": ("power_series", "frobenius"),
    "integrating factor": ("first_order_linear", "integrating_factor"),
    # "Solve the homogeneous equation": the substitution v = y/x for a first-order equation; for a
    # linear one of higher order the words mean "zero right side", and nothing is asked
    "homogeneous equation": ("homogeneous",),
}
#: Requests that are not a method of the registry (handled on their own).
_OWN_REQUESTS = ("", "system", "euler")


def requested_methods(problem) -> list[str]:
    """The registry methods the problem asks for, in the order they are tried (before the textbook's)."""
    from tutor.engine.registry import ids

    asked = getattr(problem, "requested_method", "")
    if asked in _OWN_REQUESTS:
        return []
    if asked == "homogeneous equation" and problem.order != 1:
        return []
    known = ids()
    return [m for m in REQUESTS.get(asked, (asked,)) if m in known]


def _asked_but_not_used(problem, method: str, attempts: list[str]) -> Step | None:
    """The first step when the problem asked for a method and another one solved it: why not."""
    from tutor.engine.registry import get

    asked = requested_methods(problem) or ([AS_SYSTEM] if problem.requested_method == "system" else [])
    if not asked or method in asked or problem.requested_method in ("series", "power_series", "frobenius",
                                                                    "homogeneous equation"):
        return None  # a series is tried after dsolve anyway; "homogeneous equation" may mean "linear, f = 0"
    reasons = [a.split(": ", 1)[1] for a in attempts if a.split(": ", 1)[0] in asked and ": " in a]
    if problem.requested_method == "system":
        title, name = "Not as a system", "solving it as a first-order system"
    elif problem.requested_method == "integrating factor":
        title, name = "Not with an integrating factor", "an integrating factor"
    else:
        title, name = "Not by the method asked for", get(asked[0]).name.split(" (")[0]
    why = reasons[0] if reasons else "it does not apply to this equation"
    return Step(title, f"Asked for: {name}. It does not work here: {why}. The method below solves it instead.",
                check=Check.NOTE)


def _value_steps(problem, solutions: tuple) -> tuple[Step, ...]:
    """The values the problem asks for ("Find y(1)": ``Problem.evaluate_at``) from the verified answer:
    each explicit branch at each point, exact and as a decimal; an implicit answer says how instead."""
    points = getattr(problem, "evaluate_at", ())
    if not points or not solutions:
        return ()
    x, y = problem.variable, problem.unknown
    name = sympy.latex(sympy.Symbol(problem.function.__name__))
    steps = []
    for a in points:
        explicit = [sol for sol in solutions if sol.lhs == y]
        if not explicit:
            steps.append(Step(f"Value at ${sympy.latex(x)} = {sympy.latex(a)}$", (
                f"The answer is a relation between ${sympy.latex(x)}$ and ${name}$: put ${sympy.latex(x)} = "
                f"{sympy.latex(a)}$ in it and solve for ${name}$."), check=Check.NOTE))
            continue
        shown = []
        for sol in explicit:
            exact = sympy.simplify(sol.rhs.subs(x, a))
            approx = ""
            if exact.is_number and not exact.has(sympy.zoo, sympy.nan):
                value = sympy.N(exact, 8)
                approx = "" if exact.is_Integer or value == exact else rf" \approx {sympy.latex(value)}"
            shown.append((sympy.Eq(sol.rhs.subs(x, a), exact, evaluate=False),
                          rf"{name}({sympy.latex(a)}) = {tex(exact, x)}{approx}"))
        steps.append(Step(f"Value at ${sympy.latex(x)} = {sympy.latex(a)}$",
                          f"Put ${sympy.latex(x)} = {sympy.latex(a)}$ in the solution.",
                          latex=r",\quad ".join(text for _, text in shown), check=Check.IDENTITY,
                          after=shown[0][0]))
    return tuple(steps)


def _numerical_values(problem, numerical) -> tuple[Step, ...]:
    """The values asked for ("find y(2)") read off a numerical answer's table (approximate, labelled)."""
    table = {round(x, 9): y for x, y in numerical.points}
    steps = []
    for a in getattr(problem, "evaluate_at", ()):
        name, var = sympy.latex(sympy.Symbol(problem.function.__name__)), sympy.latex(problem.variable)
        value = table.get(round(float(a), 9)) if a.is_number and a.is_real else None
        text = (f"From the numerical solution (tolerance {numerical.tolerance:g}): an approximation, not a verified "
                "value." if value is not None else
                f"${var} = {sympy.latex(a)}$ is not one of the table's points, so no value is given there.")
        steps.append(Step(f"Value at ${var} = {sympy.latex(a)}$", text,
                          latex=rf"{name}({sympy.latex(a)}) \approx {value:.10g}" if value is not None else "",
                          check=Check.NOTE))
    return tuple(steps)


def _after_dsolve(method) -> bool:
    """Whether a method is tried only after dsolve (``Method.after_dsolve``: the series methods)."""
    return bool(getattr(method, "after_dsolve", False))


def _next_derivation(problem: Problem, classification: Classification, method: str | None,
                     excluded: list[str], failures: list[str], deadline: float,
                     forms: dict[str, object] | None = None) -> Derivation | None:
    """The first derivation from a method not yet excluded (textbook order, then dsolve), each
    from the form its match found in classification (``forms``)."""
    from tutor.engine.registry import get

    if method is None and problem.requested_method == "system" and AS_SYSTEM not in excluded:
        # "as a system": the equation rewritten as a first-order system (not in the textbook order)
        from tutor.engine.methods import as_system

        excluded.append(AS_SYSTEM)
        try:
            finished, derivation = attempt(max(1.0, METHOD_SHARE * (deadline - time.monotonic())),
                                           as_system.derive, problem)
            if finished:
                return derivation
            failures.append(f"{AS_SYSTEM}: ran out of its share of the time")
        except CannotDerive as exc:
            failures.append(f"{AS_SYSTEM}: {exc}")
    if method:
        candidates = [method]
    else:
        # the method the problem asks for ("by power series") first; methods whose answer is not a
        # closed form (series) only after dsolve, so that they never replace one
        # (asked for, it is tried even where the textbook would not list it: y'' + y = 0 by power series)
        requested = requested_methods(problem)
        candidates = requested + [m for m in classification.types if m not in requested and not _after_dsolve(get(m))]
    for method_id in candidates:
        if method_id in excluded:
            continue
        excluded.append(method_id)
        try:
            # One method may use at most part of what is left, so that a hopeless integral
            # leaves time for the next method, dsolve and the checker.
            finished, derivation = attempt(max(1.0, METHOD_SHARE * (deadline - time.monotonic())),
                                           derive_matched, get(method_id), problem, (forms or {}).get(method_id))
            if finished:
                return derivation
            failures.append(f"{method_id}: ran out of its share of the time")
            continue
        except CannotDerive as exc:
            failures.append(f"{method_id}: {exc}")
        except Exception as exc:  # a method bug must not stop the others: record it, go on
            failures.append(f"{method_id}: {type(exc).__name__}: {exc}")
    if method is None and FACTORED not in excluded and not problem.requested_method:
        # An equation that factors, (y'' - e^y)(y'' + e^y) = 0: each factor on its own (after the
        # textbook methods, which may take the whole equation, and before SymPy's solver).
        from tutor.engine.methods import factored

        excluded.append(FACTORED)

        def solve_factor(sub: Problem) -> Derivation | None:
            return _next_derivation(sub, classify(sub), None, [], failures, deadline)

        try:
            # (factoring itself is inside the time box: a huge numerator must not eat the deadline)
            finished, derivation = attempt(max(1.0, METHOD_SHARE * (deadline - time.monotonic())),
                                           factored.derive, problem, solve_factor, _method_name)
            if finished:
                return derivation
            failures.append(f"{FACTORED}: ran out of its share of the time")
        except factored.NotFactored:
            pass  # the usual case: nothing to say
        except CannotDerive as exc:
            failures.append(f"{FACTORED}: {exc}")
        except Exception as exc:
            failures.append(f"{FACTORED}: {type(exc).__name__}: {exc}")
    if DSOLVE not in excluded and method is None:
        excluded.append(DSOLVE)
        try:
            # An IVP keeps part of the time for the numerical answer if dsolve finds nothing.
            share = 0.55 if problem.ics else 0.8
            if any(_after_dsolve(get(m)) for m in classification.types if m not in excluded):
                share = 0.5  # and half for the series method waiting behind it (it needs about a second)
            dsolve_deadline = time.monotonic() + max(1.0, share * (deadline - time.monotonic()))
            finished, derivation = attempt(dsolve_deadline - time.monotonic(), _dsolve_derivation, problem,
                                           dsolve_deadline)
            if finished:
                return derivation
            failures.append(f"{DSOLVE}: ran out of time")
        except CannotDerive as exc:
            failures.append(f"{DSOLVE}: {exc}")
        except Exception as exc:
            failures.append(f"{DSOLVE}: {type(exc).__name__}: {exc}")
    if method is None:
        later = [m for m in classification.types if m not in excluded and _after_dsolve(get(m))]
        if later:
            return _next_derivation(problem, classification, later[0], excluded, failures, deadline, forms) \
                or _next_derivation(problem, classification, None, excluded, failures, deadline, forms)
    return None


def verify(problem: Problem, answer: Answer, timeout: float | None = None):
    """The project's one verifier, :func:`tutor.checker.check` (works inside the worker too)."""
    from tutor.checker import check

    return check(problem, answer, timeout=timeout)


def _timed_out(problem: Problem, classification: Classification | None, seconds: float, limit: float,
               attempts: tuple[str, ...]) -> Solution:
    message = f"Could not finish in time ({limit:g} s)."
    return Solution(problem=problem, classification=classification, method=None, method_name="", hint="",
                    steps=(Step("Could not finish in time", message, check=Check.NOTE),), answer=None,
                    status=TIMEOUT, message=message, seconds=seconds, attempts=attempts)


def _numerical(problem: Problem, deadline: float, euler_step: float):
    """A numerical solution of an IVP in the time that is left (None: not an IVP, or no time)."""
    from tutor.engine.numerical import numerical_solution

    left = deadline - time.monotonic()
    if not problem.ics or left < 0.5:
        return None
    target = problem.euler_target
    if target is None and problem.evaluate_at:  # "find y(2)": the table reaches the farthest point asked
        numbers = [float(a) for a in problem.evaluate_at if a.is_number and a.is_real]
        target = max(numbers) if numbers else None
    try:
        finished, value = attempt(0.9 * left, numerical_solution, problem, euler_step=euler_step,
                                  budget=0.7 * left, target=target)
    except Exception:  # a right-hand side mpmath cannot evaluate: no numbers rather than wrong ones
        return None
    return value if finished else None


def _solve_system_here(problem, budget: float, check_steps: bool) -> Solution:
    """Worker: a linear system by the eigenvalue method (tutor/engine/methods/linear_system.py),
    verified by the one checker; SymPy's ``dsolve`` is not tried (the method covers every constant
    2x2 and 3x3 system whose eigenvalues have a closed form)."""
    from tutor.engine.methods import linear_system

    started = time.monotonic()
    classification = linear_system.classify_system(problem)
    try:
        finished, derivation = attempt(max(1.0, 0.8 * budget), linear_system.derive_system, problem)
        failure = "" if finished else f"{linear_system.ID}: ran out of time"
    except CannotDerive as exc:
        finished, derivation, failure = False, None, f"{linear_system.ID}: {exc}"
    except Exception as exc:  # a method bug or an undecidable sign: reported, never a crash of the worker
        finished, derivation, failure = False, None, f"{linear_system.ID}: {type(exc).__name__}: {exc}"
    if not finished:
        if "ran out" in failure:
            return _timed_out(problem, classification, time.monotonic() - started, budget, (failure,))
        steps = (Step("No closed form found", f"The eigenvalue method did not finish: {failure.split(': ', 1)[1]}.",
                      check=Check.NOTE),)
        return Solution(problem=problem, classification=classification, method=None, method_name="", hint="",
                        steps=steps, answer=None, status=NO_CLOSED_FORM, message="No closed form found.",
                        seconds=time.monotonic() - started, attempts=(failure,))
    remaining = budget - (time.monotonic() - started)
    verdict = verify(problem, derivation.answer(), timeout=max(0.05, remaining))
    if verdict.verdict != "correct":
        attempt_text = f"{linear_system.ID}: answer not accepted by the checker ({verdict.verdict}: {verdict.reason})"
        steps = (Step("No verified answer", "The eigenvalue method's answer did not pass the check by substitution.",
                      check=Check.NOTE),)
        return Solution(problem=problem, classification=classification, method=None, method_name="", hint="",
                        steps=steps, answer=None, status=NO_CLOSED_FORM, message="No verified answer found.",
                        seconds=time.monotonic() - started, attempts=(attempt_text,))
    checks = tuple(check_step(step, problem) for step in derivation.steps) if check_steps else ()
    return Solution(problem=problem, classification=classification, method=linear_system.ID,
                    method_name=linear_system.NAME, hint=derivation.hint, steps=derivation.steps,
                    answer=derivation.solutions, constants=derivation.constants, verified=True,
                    verdict=verdict.verdict, reason=verdict.reason, status=SOLVED,
                    seconds=time.monotonic() - started, step_checks=checks)


def _solve_here(problem: Problem, method: str | None, budget: float, check_steps: bool = False,
                euler_step: float = 0.1) -> Solution:
    """Worker: classify, derive, verify; next method when the checker rejects an answer."""
    from tutor.engine.registry import get

    if getattr(problem, "is_system", False):
        return _solve_system_here(problem, budget, check_steps)
    started = time.monotonic()
    deadline = started + budget
    classification, forms = classify_matched(problem)
    excluded: list[str] = []
    attempts: list[str] = []
    while True:
        derivation = _next_derivation(problem, classification, method, excluded, attempts, deadline, forms)
        if derivation is None:
            what = f"the method {method}" if method else "the methods (textbook or SymPy's dsolve)"
            numerical = _numerical(problem, deadline, euler_step) if method is None else None
            if numerical is None and any("ran out" in a for a in attempts):
                return _timed_out(problem, classification, time.monotonic() - started, budget, tuple(attempts))
            if numerical is not None:
                from tutor.engine.numerical import numerical_steps

                return Solution(problem=problem, classification=classification, method=None,
                                method_name="Numerical solution", hint="",
                                steps=tuple(numerical_steps(problem, numerical)) + _numerical_values(problem, numerical),
                                answer=None, status=NUMERICAL,
                                message=(f"No closed form found; numerical solution ({numerical.method}, tolerance "
                                         f"{numerical.tolerance:g}) — approximate values, not verified."),
                                seconds=time.monotonic() - started, attempts=tuple(attempts), numerical=numerical)
            steps = (Step("No closed form found",
                          f"None of {what} produced a solution that passes the check by substitution.",
                          check=Check.NOTE),)
            return Solution(problem=problem, classification=classification, method=None, method_name="",
                            hint="", steps=steps, answer=None, status=NO_CLOSED_FORM,
                            message="No closed form found.", seconds=time.monotonic() - started,
                            attempts=tuple(attempts))
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            return _timed_out(problem, classification, time.monotonic() - started, budget, tuple(attempts))
        if not derivation.solutions:
            # "No solution" (a boundary value problem whose conditions contradict each other) or the
            # eigenvalues of an eigenvalue problem: there is no single answer to substitute, so the
            # claim stands only if every step of it checks.
            checks = tuple(check_step(step, problem) for step in derivation.steps)
            outcome = derivation.result or NO_SOLUTION
            if all(c.ok for c in checks) and outcome in (NO_SOLUTION, EIGENVALUES):
                reason = ("Every step checks, and the conditions lead to a contradiction." if outcome == NO_SOLUTION
                          else "Every step checks: each eigenfunction solves the equation with its eigenvalue and "
                               "meets both conditions, and the other cases give only y = 0.")
                return Solution(problem=problem, classification=classification, method=derivation.method,
                                method_name=get(derivation.method).name,
                                hint=derivation.hint or get(derivation.method).hint(problem),
                                steps=derivation.steps, answer=None, verified=True, verdict=outcome,
                                reason=reason, status=outcome,
                                message=derivation.statement or "No solution: the conditions contradict each other.",
                                seconds=time.monotonic() - started, attempts=tuple(attempts),
                                step_checks=checks if check_steps else ())
            attempts.append(f"{derivation.method}: the '{outcome}' claim did not check")
            continue
        verdict = verify(problem, derivation.answer(), timeout=remaining)
        if verdict.verdict == "correct":
            name = _method_name(derivation.method)
            if derivation.method == DSOLVE:
                hint = derivation.hint or "No textbook method applies; SymPy's solver is used."
            elif derivation.method in (AS_SYSTEM, FACTORED):
                hint = derivation.hint
            else:
                hint = derivation.hint or get(derivation.method).hint(problem)
            steps, numerical = derivation.steps, None
            note = _asked_but_not_used(problem, derivation.method, attempts)
            if note is not None:  # asked for a method, solved by another: say why, first
                steps = (note,) + steps
            if problem.requested_method == "euler" and method is None:
                # the student asked for Euler's method: its table follows the exact solution
                from tutor.engine.numerical import numerical_steps

                numerical = _numerical(problem, deadline, euler_step)
                if numerical is not None:
                    steps = steps + tuple(numerical_steps(problem, numerical, closed_form=True))
            steps = steps + _value_steps(problem, derivation.solutions)
            checks = tuple(check_step(step, problem) for step in steps) if check_steps else ()
            return Solution(problem=problem, classification=classification, method=derivation.method,
                            method_name=name, hint=hint, steps=steps, answer=derivation.solutions,
                            constants=derivation.constants, verified=True, verdict=verdict.verdict,
                            reason=verdict.reason, status=SOLVED, seconds=time.monotonic() - started,
                            attempts=tuple(attempts), step_checks=checks, numerical=numerical)
        attempts.append(f"{derivation.method}: answer not accepted by the checker "
                        f"({verdict.verdict}: {verdict.reason})")


def solve(problem_or_text: Problem | str, timeout: float | None = None, method: str | None = None,
          check_steps: bool = False, euler_step: float = 0.1) -> Solution:
    """Classify, derive step by step and verify; never longer than about ``timeout`` seconds.

    ``method`` forces one method id (teacher mode); otherwise the textbook order decides.
    ``check_steps`` also runs :func:`~tutor.engine.steps.check_step` on every step (tests,
    benchmark) and puts the results in ``Solution.step_checks``. When no closed form is found for an
    initial value problem, the answer is numerical (``status == "numerical"``, never verified:
    :mod:`tutor.engine.numerical`), with Euler's method at step ``euler_step`` beside it.
    Raises :class:`tutor.errors.ParseError` for text that cannot be read, and
    :class:`tutor.bounded.SymbolicBusy` when every symbolic worker is taken and the line is full
    (nothing was computed; the app says "busy, try again in N s").
    """
    limit = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    started = time.monotonic()
    if isinstance(problem_or_text, Problem) or getattr(problem_or_text, "is_system", False):
        problem = problem_or_text
    else:
        from tutor.parser import parse

        problem = parse(problem_or_text)
    remaining = limit - (time.monotonic() - started)
    try:
        if remaining <= 0:
            raise SymbolicTimeout("no time left after parsing")
        # The worker gets a slightly smaller budget so that it can report "no verified
        # answer in time" itself before the pool kills it.
        solution = run_bounded(_solve_here, problem, method, max(0.05, remaining - 0.3), check_steps,
                               float(getattr(problem, "euler_step", None) or euler_step), timeout=remaining,
                               heavy=problem.heavy)
    except (SymbolicTimeout, WorkerCrashed):
        return _timed_out(problem, _structure_only(problem, min(2.0, 0.5 * limit)), time.monotonic() - started,
                          limit, ())
    return replace(solution, seconds=time.monotonic() - started)


def classify_bounded(problem: Problem, timeout: float | None = None) -> Classification | None:
    """The engine's classification alone (order, linearity, the methods that apply), in a worker;
    None when it does not finish in ``timeout`` s.  The session compares a model's Classification
    and Hint with it (:func:`tutor.claims.contradictions`)."""
    try:
        return run_bounded(classify, problem, timeout=timeout)
    except (SymbolicTimeout, WorkerCrashed):
        return None


def _structure_only(problem: Problem, seconds: float) -> Classification | None:
    """Order, degree, linearity without the method list (after a timeout; briefly bounded)."""
    from tutor.engine.classify import structure

    if getattr(problem, "is_system", False):
        return None

    try:
        # Light lane, even for a heavy problem: it is a short look, and in the heavy lane it would
        # wait behind the very work that just ran out of time.
        return Classification(**run_bounded(structure, problem, timeout=seconds), types=())
    except (SymbolicTimeout, WorkerCrashed, SymbolicBusy):
        return None


def _practice_here(method_id: str, seed: int, difficulty: int, budget: float) -> tuple[Practice, str, str]:
    """Worker: generate, then verify the generator's answer with the checker."""
    from tutor.engine.registry import get

    started = time.monotonic()
    if method_id == SYSTEMS_METHOD:  # systems are not in the scalar registry (tutor/system.py)
        from tutor.engine.methods.linear_system import generate

        generated = generate(seed, difficulty)
    else:
        generated = get(method_id).generate(seed, difficulty)
    verdict = verify(generated.problem, generated.answer, timeout=max(0.05, budget - (time.monotonic() - started)))
    return generated, verdict.verdict, verdict.reason


def practice(method_id: str, seed: int, difficulty: int = 1, timeout: float | None = None) -> Practice:
    """A generated practice problem whose answer the verifier accepts (ValueError otherwise)."""
    limit = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    generated, verdict, reason = run_bounded(_practice_here, method_id, seed, difficulty, max(0.05, limit - 0.3),
                                             timeout=limit)
    if verdict != "correct":
        raise ValueError(f"generated {method_id} problem (seed {seed}, difficulty {difficulty}) "
                         f"was not verified: {verdict}: {reason}")
    return generated
