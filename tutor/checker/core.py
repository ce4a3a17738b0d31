"""The public entry point :func:`check` (caller's process) and the worker's judgement :func:`_judge`.

:func:`check` reads the answer (:mod:`tutor.checker.answer_text`), sends the work to a worker
process (:func:`tutor.bounded.run_bounded`; inline when already in one) and wraps what comes back
in a :class:`Verdict`.  In the worker :func:`_judge` sends each alternative to
:mod:`~tutor.checker.explicit` or :mod:`~tutor.checker.implicit`, then weighs constants and
conditions (:mod:`~tutor.checker.ivp`); series, "no solution" and eigenvalue answers go to
:mod:`~tutor.checker.special`, systems to :mod:`~tutor.checker.systems`.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Sequence

import sympy

from tutor.checker.answer_text import _as_answer, _claim, _exponent_hint, _Foreign, _judge_foreign, _precheck
from tutor.checker.context import (DEFAULT_TIMEOUT, _Clock, _Context, _out_of_time, _OutOfTime, _Outcome,
                                   _run_in_worker, _Task)
from tutor.checker.explicit import _check_explicit
from tutor.checker.implicit import _check_implicit
from tutor.checker.ivp import _judge_ivp
from tutor.checker.zero import roots_as_symbols
from tutor.checker.special import _judge_eigen, _judge_no_solution, _judge_series
from tutor.checker.systems import _check_system
from tutor.checker.verdict import AUTHORS, Verdict, _finish, _Voice
from tutor.errors import ParseError
from tutor.parser import parse
from tutor.problem import Answer, Problem, looks_heavy
from tutor.system import SystemProblem

# ---------------------------------------------------------------------------
# Public entry point (runs in the caller's process and thread)


def check(problem_or_text: Problem | str, answer: Answer | str | sympy.Eq | Sequence[sympy.Eq] | sympy.Expr,
          timeout: float | None = None, *, author: str = "student") -> Verdict:
    """Judge ``answer`` as a solution of ``problem_or_text`` within ``timeout`` seconds.

    The default limit is 10 s (``TUTOR_CHECK_TIMEOUT`` overrides it).

    ``answer`` is the student's text (plain or LaTeX), an :class:`Answer`, one SymPy ``Eq`` in
    ``y(x)``, a list of them, or an expression meaning ``y = expr``. Raises ParseError only when
    the *problem* text cannot be read; an unreadable answer gives an ``undecided`` Verdict.
    Raises :class:`tutor.bounded.SymbolicBusy` when every symbolic worker is taken and the line
    is full (nothing was judged; the app says "busy, try again in N s").

    ``author`` says who wrote the answer, for the wording of the reason: ``"student"`` (the
    reason speaks to them: "your constants", "write it in terms of x") or ``"model"`` ("the
    model's answer ...", no advice addressed to the reader).  The verdict never depends on it.
    """
    if author not in AUTHORS:
        raise ValueError(f"author must be one of {AUTHORS}, not {author!r}")
    voice = _Voice(author)
    started = time.monotonic()
    limit = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    problem = problem_or_text if isinstance(problem_or_text, (Problem, SystemProblem)) else parse(problem_or_text)
    if isinstance(problem, SystemProblem):
        return _check_system(problem, answer, voice, limit, started)

    def budget() -> float:
        return max(0.05, limit - (time.monotonic() - started))

    try:
        claim, families = _claim(answer, problem) if isinstance(answer, str) else ("", ())
    except ParseError as exc:
        return _finish(Verdict("undecided", voice.unreadable(exc), {"error": exc.to_dict()}), started)
    if claim:  # "no solution", or "lambda_n = n^2, y_n = sin(n x), n = 1, 2, ..."
        known = {problem.variable, *problem.parameters, *(f.index for f in families)}
        constants = sorted({s for f in families for e in (f.value, f.function) if e is not None
                            for s in e.free_symbols} - known, key=lambda s: s.name)
        result = _run_bounded_check(problem, Answer((), tuple(constants), (), answer), voice, budget(), limit,
                                    claim=claim, eigen=families)
        return _finish(result, started)
    try:
        ans = _as_answer(answer, problem)
    except ParseError as exc:
        return _finish(Verdict("undecided", voice.unreadable(exc), {"error": exc.to_dict()}), started)
    early = _precheck(ans, problem, voice)
    if isinstance(early, Verdict):
        return _finish(early, started)

    if isinstance(early, _Foreign):
        result = _judge_foreign(early, lambda a: _run_bounded_check(problem, a, voice, budget(), limit), voice)
    else:
        result = _run_bounded_check(problem, ans, voice, budget(), limit)
    if result.verdict == "wrong" and isinstance(answer, str):
        result = replace(result, reason=result.reason + _exponent_hint(answer, voice))
    return _finish(result, started)


def _run_bounded_check(problem: Problem, ans: Answer, voice: _Voice, budget: float, limit: float,
                       claim: str = "", eigen: tuple = ()) -> Verdict:
    """The worker's Verdict for ``ans`` (or for ``claim``: "no_solution", "eigen" with the
    answer's ``eigen`` families), or an ``undecided`` one when the work did not finish."""
    task = _Task.build(problem, ans, voice.author, claim, eigen)
    return _run_in_worker(_run_task, task, budget, limit, heavy=problem.heavy or looks_heavy(*ans.solutions))


def _run_task(task: _Task, budget: float) -> Verdict:
    """Module-level worker entry: the Verdict (a frozen dataclass of plain values: picklable)."""
    if any(eq.has(sympy.CRootOf) for eq in task.solutions):
        # Indexed roots (no radical formula): symbols that the numbers evaluate to the roots.
        task = replace(task, solutions=tuple(roots_as_symbols(eq) for eq in task.solutions))
    try:
        return _judge(_Context(task, _Clock(budget)))
    except _OutOfTime:
        return _out_of_time(budget)


def _judge(ctx: _Context) -> Verdict:
    task = ctx.task
    if task.claim == "no_solution":
        return _judge_no_solution(ctx)
    if task.claim == "eigen":
        return _judge_eigen(ctx)
    if any(eq.has(sympy.Order) for eq in task.solutions):
        return _judge_series(ctx)
    outcomes: list[_Outcome] = []
    for eq in task.solutions:
        lhs, rhs = ctx.real_form(eq.lhs), ctx.real_form(eq.rhs)
        if rhs == ctx.unknown and not lhs.has(ctx.unknown):
            lhs, rhs = rhs, lhs
        if lhs == ctx.unknown and not rhs.has(ctx.unknown):
            outcome = _check_explicit(ctx, rhs)
        else:
            outcome = _check_implicit(ctx, (lhs - rhs).xreplace({ctx.unknown: ctx.Y}))
        outcomes.append(outcome)
        if outcome.status == "fails":
            break  # one false alternative makes the answer wrong: no need to look further
    sol_tex = [ctx.tex(ctx.real_form(eq)) for eq in task.solutions]
    details: dict = {"solutions": sol_tex}
    methods = sorted({o.method for o in outcomes if o.method})
    details["method"] = "numeric" if "numeric" in methods else (methods[0] if methods else None)
    many = len(task.solutions) > 1

    for i, o in enumerate(outcomes):
        if o.status == "fails":
            which = f"The solution ${sol_tex[i]}$ does not satisfy the equation: " if many else ""
            details["residual"] = o.residual
            if o.residual is None:  # a structural failure, described in full by the note
                reason = f"{which}{o.note}"
            elif o.explicit:
                reason = (f"{which}substituting it gives ${ctx.ode_tex} = {o.residual}$, not $0$."
                          if which else f"Substituting {ctx.voice.answer} gives ${ctx.ode_tex} = {o.residual}$, not $0$.")
            else:
                reason = (f"{which or ctx.voice.subject + ' does not satisfy the equation: '}"
                          f"{o.note or ''}${ctx.ode_tex} = {o.residual}$, not $0$.")
            return Verdict("wrong", reason, details)
    for i, o in enumerate(outcomes):
        if o.status == "undecided":
            details["note"] = o.note
            what = f"whether ${sol_tex[i]}$ satisfies the equation" if many else \
                f"whether {ctx.voice.answer} satisfies the equation"
            return Verdict("undecided", f"I could not decide {what}: {o.note}", details)

    # Every alternative satisfies the ODE: now constants and initial conditions.
    names = sorted({c.name for o in outcomes for c in o.constants})
    partial = next((o.partial for o in outcomes if o.partial), None)
    domain = ""
    if partial:
        details["domain_note"] = f"fails {partial}".replace("$", "")
        domain = f" It holds on an interval, not on the whole real line (it fails {partial}), as a solution may."
    details["constants"] = names
    details["constants_expected"] = 0 if task.ics else ctx.n
    for o in outcomes:
        if o.rank is None and task.ics:
            # Could not evaluate the Jacobian: named constants count as free (an IVP answer must
            # not have any), which is what "incomplete" then says.
            o.rank = len(o.constants)
    details["constants_found"] = max((o.rank or 0) for o in outcomes)
    if task.ics:
        return _judge_ivp(ctx, outcomes, sol_tex, details)
    best = max((o.rank or 0) for o in outcomes)
    if best < ctx.n and any(o.rank is None for o in outcomes):
        return Verdict("undecided", "It satisfies the equation, but I could not count its independent constants "
                          "(no point where the family is defined could be evaluated)." + domain, details)
    if best >= ctx.n:
        combined = ""
        named = max(len(o.constants) for o in outcomes)
        if named > best:
            combined = f" ({ctx.voice.your} {named} constants combine into {best} independent one{'s' if best > 1 else ''})"
        return Verdict("correct", f"It satisfies the equation and has {best} independent arbitrary "
                          f"constant{'s' if best != 1 else ''}{combined}: this is the general solution."
                          + domain, details)
    named = max(len(o.constants) for o in outcomes)
    extra = ""
    if named > best:
        extra = f" ({named} named, but they combine into {best})"
    kind = "a particular solution" if best == 0 else "not the general solution"
    return Verdict("incomplete", f"It satisfies the equation, but it is {kind}: the general solution has {ctx.n} "
                      f"arbitrary constant{'s' if ctx.n != 1 else ''}; {ctx.voice.yours} has {best}{extra}." + domain, details)
