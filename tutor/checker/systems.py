"""Systems ``x' = A x + g(t)`` (:mod:`tutor.system`): the same verdicts, zero test and time limits."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Iterator

import sympy

from tutor.checker.answer_text import _as_system_answer
from tutor.checker.context import _Clock, _Context, _out_of_time, _OutOfTime, _run_in_worker, _Task
from tutor.checker.verdict import Verdict, _finish, _Voice
from tutor.checker.zero import _d, _decide_residual, _display, _num, _numeric_rank, _real
from tutor.errors import ParseError
from tutor.problem import Answer, latex, looks_heavy
from tutor.system import SystemProblem

# ---------------------------------------------------------------------------
# Systems x' = A x + g(t) (tutor/system.py)
#
# The same verdicts, the same zero test (_decide_residual: cheap symbolic, numeric at random
# points, strong symbolic), the same count of independent constants (_numeric_rank of the
# Jacobian with respect to the constants) and the same time limits; only the substitution
# differs: each component's residual x_i' - (A x + g)_i must vanish, and a general solution of
# n first-order equations has n independent constants (unknowns x order).


@dataclass(frozen=True)
class _SystemTask:
    """What the worker needs to judge a system's answer (picklable SymPy objects)."""

    matrix: sympy.ImmutableMatrix
    forcing: sympy.ImmutableMatrix
    functions: tuple
    variable: sympy.Symbol
    ics: tuple[tuple[str, sympy.Expr, sympy.Expr], ...]
    components: tuple[sympy.Expr, ...]  # the answer's x_i(t), in the problem's order
    constants: tuple[sympy.Symbol, ...]
    seed: int
    author: str = "student"
    rows_tex: tuple[str, ...] = ()  # each equation's right-hand side as the problem shows it

    @classmethod
    def build(cls, problem: SystemProblem, ans: Answer, author: str) -> "_SystemTask":
        by_name = {}
        for eq in ans.solutions:
            lhs, rhs = eq.lhs, eq.rhs
            if not isinstance(lhs, sympy.core.function.AppliedUndef):
                lhs, rhs = rhs, lhs
            if not isinstance(lhs, sympy.core.function.AppliedUndef):
                raise ParseError("each part of a system's answer must be explicit: x = ...")
            by_name[lhs.func.__name__] = rhs
        missing = [f.__name__ for f in problem.functions if f.__name__ not in by_name]
        if missing:
            raise ParseError(f"the answer gives no formula for {', '.join(missing)}")
        components = tuple(by_name[f.__name__] for f in problem.functions)
        key = f"{problem.matrix}|{problem.forcing}|{problem.ics}|{components}".encode()
        seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
        constants = tuple(sorted({s for c in components for s in c.free_symbols if s != problem.variable},
                                 key=lambda s: s.name))
        return cls(problem.matrix, problem.forcing, problem.functions, problem.variable,
                   tuple((ic.function.__name__, ic.point, ic.value) for ic in problem.ics), components,
                   constants, seed, author, tuple(problem.right_side_latex(i) for i in range(problem.n)))


def _check_system(problem: SystemProblem, answer: Any, voice: _Voice, limit: float, started: float) -> Verdict:
    try:
        task = _SystemTask.build(problem, _as_system_answer(answer, problem), voice.author)
    except ParseError as exc:
        return _finish(Verdict("undecided", voice.unreadable(exc), {"error": exc.to_dict()}), started)
    budget = max(0.05, limit - (time.monotonic() - started))
    result = _run_in_worker(_run_system_task, task, budget, limit, heavy=problem.heavy or looks_heavy(*task.components))
    return _finish(result, started)


def _run_system_task(task: _SystemTask, budget: float) -> Verdict:
    """Worker entry for a system's answer: the Verdict."""
    clock = _Clock(budget)
    # The scalar context gives the real symbols, the random points, the zero test and the display;
    # its "ODE" is unused here (each component has its own residual below).
    scalar = _Task(sympy.Integer(0), sympy.Integer(0), sympy.Integer(0), task.functions[0], task.variable, 1,
                   (), (), (), task.constants, task.seed, task.author)
    ctx = _Context(scalar, clock)
    try:
        return _judge_system(ctx, task)
    except _OutOfTime:
        return _out_of_time(budget)


def _judge_system(ctx: _Context, task: _SystemTask) -> Verdict:
    X = ctx.X
    fs = [ctx.real_form(c) for c in task.components]
    n = len(fs)
    value = _num if any(f.has(sympy.I) for f in fs) else _real

    def points() -> Iterator[dict]:
        for _ in range(40):
            point = ctx.random_point()
            if all(value(f, point) is not None for f in fs):
                yield point

    names = [f.__name__ for f in task.functions]
    rhs = sympy.Matrix(task.matrix) * sympy.Matrix(fs) + sympy.Matrix(task.forcing).xreplace({task.variable: X})
    sol_tex = [f"{name} = {ctx.tex(f)}" for name, f in zip(names, fs)]
    details: dict = {"solutions": sol_tex, "constants": [c.name for c in ctx.C]}
    methods = set()
    for name, f, r, shown in zip(names, fs, rhs, task.rows_tex):
        outcome = _decide_residual(ctx, _d(f, X) - r, points)
        if outcome.method:
            methods.add(outcome.method)
        if outcome.status == "fails":
            details["residual"] = outcome.residual
            details["method"] = "numeric" if "numeric" in methods else "symbolic"
            return Verdict("wrong", f"Substituting {ctx.voice.answer} into ${name}' = {shown}$ leaves "
                              f"${name}' - ({shown}) = {outcome.residual}$, not $0$.", details)
        if outcome.status == "undecided":
            details["note"] = outcome.note
            return Verdict("undecided", f"I could not decide whether {ctx.voice.answer} satisfies the equation for "
                              f"${name}'$: {outcome.note}", details)
    details["method"] = "numeric" if "numeric" in methods else "symbolic"
    consts = [c for c in ctx.C if any(f.has(c) for f in fs)]
    rank = _numeric_rank(ctx, [[_d(f, c) for c in consts] for f in fs], points) if consts else 0
    if rank is None:
        rank = len(consts)
    details["constants_expected"] = 0 if task.ics else n
    details["constants_found"] = rank
    if task.ics:
        if rank:
            return Verdict("incomplete", f"It satisfies the system, but {ctx.voice.your} {rank} constant"
                              f"{'s are' if rank != 1 else ' is'} still free: the initial conditions fix every "
                              "constant of an initial value problem.", details)
        for name, point, wanted in task.ics:
            f = fs[names.index(name)]
            at = f.xreplace({X: ctx.real_form(point)}) - ctx.real_form(wanted)
            outcome = _decide_residual(ctx, at, points)
            if outcome.status != "satisfies":
                condition = f"{name}\\left({latex(point)}\\right) = {latex(wanted)}"
                details["failed_condition"] = condition
                if outcome.status == "undecided":
                    return Verdict("undecided", f"I could not decide whether ${condition}$ holds.", details)
                got = _display(ctx, f.xreplace({X: ctx.real_form(point)}))
                return Verdict("wrong", f"It satisfies the system, but not the condition ${condition}$: "
                                  f"{ctx.voice.answer} gives ${name}\\left({latex(point)}\\right) = {got}$.", details)
        return Verdict("correct", "It satisfies every equation of the system and every initial condition.", details)
    if rank >= n:
        return Verdict("correct", f"It satisfies every equation of the system and has {rank} independent arbitrary "
                          f"constants (one per unknown): this is the general solution.", details)
    named = len(consts)
    extra = f" ({named} named, but they combine into {rank})" if named > rank else ""
    kind = "a particular solution" if rank == 0 else "not the general solution"
    return Verdict("incomplete", f"It satisfies the system, but it is {kind}: the general solution of {n} first-order "
                      f"equations has {n} arbitrary constants; {ctx.voice.yours} has {rank}{extra}.", details)
