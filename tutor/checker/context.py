"""What the worker works with: the task it is sent, its clock, the problem in real symbols.

:class:`_Task` carries the problem and the answer to the worker as picklable SymPy objects;
:class:`_Clock` holds the check's deadline and gives each stage its share of it; :class:`_Context`
has the problem in real symbols, the seeded random source for sample points and the LaTeX helpers;
:class:`_Outcome` is what was found for one alternative of the answer.
"""
from __future__ import annotations

import hashlib
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from tutor.bounded import SymbolicBusy, SymbolicTimeout, WorkerCrashed, run_bounded
from tutor.checker.verdict import Verdict, _Voice
from tutor.engine import timebox
from tutor.problem import Answer, InitialCondition, Problem, latex, prime_symbols, textbook_latex

DEFAULT_TIMEOUT = float(os.environ.get("TUTOR_CHECK_TIMEOUT", "10"))
# Seconds kept back from the worker's budget for pickling and start-up, so the worker can
# still answer "undecided" itself (with what it found so far) before the hard kill.
_MARGIN = 0.3


def _run_in_worker(entry: Callable[[Any, float], Verdict], task: Any, budget: float, limit: float,
                   heavy: bool) -> Verdict:
    """``entry(task, budget)``, the worker's Verdict, or an ``undecided`` one when the work did
    not finish (out of time, the worker crashed, an internal error)."""
    try:
        if timebox.in_worker():
            # Already in a worker process (e.g. the engine verifying its own answer inside
            # run_bounded): run here, bounded by the interval timer of this main thread.
            return entry(task, budget)
        return run_bounded(entry, task, max(0.05, budget - _MARGIN), timeout=budget, heavy=heavy)
    except SymbolicBusy:  # nothing was judged: the caller says "busy, try again", never a verdict
        raise
    except SymbolicTimeout:
        return Verdict("undecided", f"I could not decide within the time limit ({limit:g} s).", {"timed_out": True})
    except WorkerCrashed as exc:
        return Verdict("undecided", f"The symbolic worker stopped ({exc}); no verdict.", {"crashed": True})
    except Exception as exc:  # a bug or an unforeseen SymPy error: say so, never guess
        return Verdict("undecided", "The check failed with an internal error; no verdict.",
                       {"internal_error": f"{type(exc).__name__}: {exc}"})


def _out_of_time(budget: float) -> Verdict:
    """The worker's verdict when the check's whole budget is spent."""
    return Verdict("undecided", f"I could not decide within the time limit ({budget + _MARGIN:.3g} s).",
                   {"timed_out": True})


# ---------------------------------------------------------------------------
# What travels to the worker


@dataclass(frozen=True)
class _Task:
    """Everything the worker needs, as picklable SymPy objects (no cached Problem state)."""

    expr: sympy.Expr
    lhs: sympy.Expr
    rhs: sympy.Expr
    function: Any
    variable: sympy.Symbol
    order: int
    ics: tuple[tuple[int, sympy.Expr, sympy.Expr], ...]
    parameters: tuple[sympy.Symbol, ...]
    solutions: tuple[sympy.Eq, ...]
    constants: tuple[sympy.Symbol, ...]
    seed: int
    author: str = "student"  # who wrote the answer: the wording of reasons (_Voice)
    claim: str = ""  # "no_solution" or "eigen" (the answer is a statement, not equations)
    eigen: tuple = ()  # tutor.parser.EigenFamily items of an "eigen" claim

    @classmethod
    def build(cls, problem: Problem, ans: Answer, author: str = "student", claim: str = "",
              eigen: tuple = ()) -> "_Task":
        # A fixed seed per (problem, answer) makes every verdict reproducible.
        key = (f"{problem.equation}|{problem.ics}|{ans.solutions}" + (f"|{claim}|{eigen}" if claim else "")).encode()
        seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
        return cls(problem.expr, problem.equation.lhs, problem.equation.rhs, problem.function,
                   problem.variable, problem.order,
                   tuple((ic.order, ic.point, ic.value) for ic in problem.ics), problem.parameters,
                   ans.solutions, ans.constants, seed, author, claim, tuple(eigen))

    def problem(self) -> Problem:
        """The problem again (for the engine's boundary value method inside the worker)."""
        return Problem(sympy.Eq(self.lhs, self.rhs, evaluate=False), self.function, self.variable,
                       tuple(InitialCondition(o, p, v) for o, p, v in self.ics), self.parameters)


# ---------------------------------------------------------------------------
# Time inside the worker


class _OutOfTime(BaseException):
    """The whole check's budget is spent. BaseException: SymPy code has ``except Exception``."""


class _Clock:
    """The check's overall deadline, and a share of it for each stage.

    A stage is time-boxed by the engine's one timer, :func:`tutor.engine.timebox.attempt` (an
    interval timer in the main thread of a worker process; nested limits restore the outer one),
    so a pathological simplification gives way to the next method instead of eating the budget.
    """

    def __init__(self, budget: float):
        self.end = time.monotonic() + budget

    def left(self) -> float:
        return self.end - time.monotonic()

    def ensure(self) -> None:
        if self.left() <= 0:
            raise _OutOfTime()

    def attempt(self, fn: Callable[..., Any], *args: Any, seconds: float) -> tuple[bool, Any]:
        """(True, fn(*args)) or (False, None) when the stage ran out of time; _OutOfTime if all did.

        The stage gets ``seconds``, never past the deadline."""
        allowed = min(seconds, self.left())
        if allowed <= 0.005:
            if self.left() <= 0.005:
                raise _OutOfTime()
            return False, None
        try:
            finished, value = timebox.attempt(allowed, fn, *args)
        except (Exception, RecursionError):
            # SymPy raises many kinds of errors on inputs it cannot handle (PolynomialError,
            # NotImplementedError, CoercionFailed, ...): each means "this method gave no result".
            # Timeouts are BaseExceptions and pass through (an enclosing limit's included).
            return False, None
        if not finished:
            self.ensure()
            return False, None
        return True, value


def _random_value(rng: random.Random, kind: str) -> sympy.Rational:
    """Exact random rationals (evalf then rounds once): away from 0 and from special values."""
    if kind == "parameter":
        return sympy.Rational(rng.randint(300, 2000), 1000)
    if kind == "x":
        # Mostly moderate values, some tiny ones (a domain such as |x| < 0.1 for arcsin(10x)) and
        # some large ones (sqrt(x - 5)).
        draw = rng.random()
        if draw < 0.2:
            value = 10 ** rng.uniform(-2.5, -0.7)
        elif draw < 0.85:
            value = rng.uniform(0.2, 2.5)
        else:
            value = rng.uniform(2.5, 12.0)
        sign = -1 if rng.random() < 0.3 else 1
        return sympy.Rational(sign * round(value * 10**6), 10**6)
    else:  # a constant or a value of y
        magnitude = rng.randint(300, 2000) if rng.random() < 0.7 else rng.randint(2000, 5000)
    sign = -1 if rng.random() < 0.4 else 1
    return sympy.Rational(sign * magnitude, 1000)


# ---------------------------------------------------------------------------
# The worker


class _Context:
    """The problem in real symbols, the random source, and how to write things for the student."""

    def __init__(self, task: _Task, clock: _Clock):
        self.task = task
        self.clock = clock
        self.rng = random.Random(task.seed)
        self.X = sympy.Symbol(task.variable.name, real=True)
        self.Y = sympy.Symbol(task.function.__name__, real=True)
        self.params = {p: sympy.Symbol(p.name, real=True) for p in task.parameters}
        self.consts = {c: sympy.Symbol(c.name, real=True) for c in task.constants}
        self.base_map = {task.variable: self.X, **self.params, **self.consts}
        self.unknown = task.function(self.X)
        self.ode = task.expr.xreplace(self.base_map)
        self.n = task.order
        self.C = [self.consts[c] for c in task.constants]
        self.P = list(self.params.values())
        self.voice = _Voice(task.author)

    def real_form(self, expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(self.base_map)

    def random_point(self, with_y: bool = False) -> dict:
        point = {self.X: _random_value(self.rng, "x")}
        for c in self.C:
            point[c] = _random_value(self.rng, "constant")
        for p in self.P:
            point[p] = _random_value(self.rng, "parameter")
        if with_y:
            point[self.Y] = _random_value(self.rng, "constant")
        return point

    def tex(self, expr: sympy.Expr) -> str:
        """LaTeX with y', y'' for derivatives, and short enough to show."""
        text = textbook_latex(expr, self.task.function, self.X)
        if len(text) <= 400:
            return text
        # Cutting the string could break a \left( ... \right) pair: keep whole terms instead.
        if isinstance(expr, sympy.Add):
            shown = ""
            for term in expr.args:
                piece = textbook_latex(term, self.task.function, self.X)
                if len(shown) + len(piece) > 300:
                    return (shown or r"\dots") + r" + \dots"
                if not shown:
                    shown = piece
                elif piece.startswith("-"):
                    shown += " " + piece
                else:
                    shown += " + " + piece
            return shown
        return r"\text{(a long expression)}"

    @property
    def ode_tex(self) -> str:
        """The equation as "left side minus right side", highest derivative first (y'' - 3y' + 2y)."""
        expr = self.real_form(self.task.lhs - self.task.rhs)
        marks = {**prime_symbols(expr, self.X, self.task.function), self.unknown: self.Y}
        orders = {m: d.derivative_count for d, m in marks.items() if isinstance(d, sympy.Derivative)}

        def key(term: sympy.Expr) -> tuple:
            top = max((orders.get(s, 0) for s in term.free_symbols), default=0)
            return (-top, -int(term.has(self.Y)), sympy.default_sort_key(term))

        terms = sorted(sympy.Add.make_args(expr.xreplace(marks)), key=key)
        text = latex(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " - " + latex(-term)
            else:
                text += " + " + latex(term)
        return text


@dataclass
class _Outcome:
    """What was found for one alternative."""

    status: str  # "satisfies", "fails", "undecided"
    method: str | None = None
    residual: str | None = None
    note: str | None = None
    rank: int | None = None
    explicit: bool = True
    f: sympy.Expr | None = None  # y = f(x) for explicit alternatives
    H: sympy.Expr | None = None  # H(x, y) = 0 for implicit ones
    constants: list = field(default_factory=list)
    partial: str | None = None  # satisfied on part of the domain only: a point where it is not
    residual_expr: sympy.Expr | None = None
