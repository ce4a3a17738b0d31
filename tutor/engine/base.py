"""The ``Method`` base class every textbook solution method derives from, and its results.

A method is one class with a unique ``id`` (the registry and the training data use
it), a display ``name``, and these operations (SymPy's ``SingleODESolver`` pattern: match
once, then derive from the match):

* ``match(problem) -> form | None`` — whether the method applies, and what it found: its
  *form*, the pieces the derivation works from (``(M, N)`` of an exact equation, the
  :class:`~tutor.engine.linear_ode.LinearODE` of a linear one).  Classification calls it once
  per method and problem; ``matches(problem)`` is ``match(problem) is not None``;
* ``hint(problem, form=None) -> str`` — one or two sentences naming the strategy (the
  method owns its wording; ``hint_pattern`` says how to recognise a hint naming it);
* ``derive(problem, form=None) -> Derivation`` — the worked solution from the form
  (``_derive`` builds it; without a form ``derive`` matches first): steps (data, see
  :mod:`tutor.engine.steps`) and the final answer; raise :class:`CannotDerive` when the
  method applies in principle but the algebra does not go through (the engine then
  tries the next method);
* ``generate(seed, difficulty) -> Practice`` — a practice problem of the family with its
  known answer (``_generate`` builds it; callers verify with the checker, see
  :func:`tutor.engine.solve.practice`).

A method that derives more than classification offers it for (asked for by name) says so in
``derivable(problem)``, the form ``derive`` uses when given none.  A method may still be written
the older way, with ``matches(problem) -> bool`` and ``derive(problem)`` alone: its ``match`` is
then ``True`` (a form with nothing in it) and :func:`derive_matched` calls its ``derive(problem)``.

All of them run inside the bounded worker (:func:`tutor.engine.solve.solve` calls them via
:func:`tutor.bounded.run_bounded`), so they may do slow SymPy work but must not call
``run_bounded`` themselves (worker processes cannot start workers) — use
:func:`normal_form` for the equation solved for its highest derivative.

Usage (writing a method)::

    class Exact(Method):
        id = "exact"
        name = "Exact equation"
        not_matched = "not exact"
        def match(self, problem): return ExactForm(M, N) or None
        def hint(self, problem, form=None): ...
        def _derive(self, problem, form): return Derivation(self.id, steps, (Eq(y, expr),), (C,))
        def _generate(self, rng, difficulty): return Practice(problem, answer)
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import sympy

from tutor.engine.steps import Step
from tutor.engine.timebox import attempt
from tutor.problem import Answer, InitialCondition, Problem


class CannotDerive(Exception):
    """The method matched but could not produce a derivation (try the next one)."""


@dataclass(frozen=True)
class Derivation:
    """A worked solution: ``steps`` ending in ``solutions`` (Eq in the unknown).

    ``solutions`` are alternatives (``y = ±sqrt(...)`` gives two); ``explicit[i]`` says
    ``solutions[i]`` is ``y = f(x)``; ``constants`` are the arbitrary constants left
    (none for an IVP); ``lost`` are solutions the derivation divided away (``y = 0``),
    mentioned in the steps and kept out of the general answer.
    """

    method: str
    steps: tuple[Step, ...]
    solutions: tuple[sympy.Eq, ...]
    constants: tuple[sympy.Symbol, ...] = ()
    explicit: tuple[bool, ...] = ()
    lost: tuple[sympy.Eq, ...] = ()
    hint: str = ""
    #: With no ``solutions``: what the steps establish instead ("no_solution", "eigenvalues"), and the
    #: statement of it for the Final Answer (LaTeX in ``$...$``); the claim stands only if every step checks.
    result: str = ""
    statement: str = ""

    def answer(self) -> Answer:
        explicit = self.explicit or tuple(isinstance(s.lhs, sympy.core.function.AppliedUndef)
                                          and not s.rhs.has(s.lhs) for s in self.solutions)
        return Answer(solutions=self.solutions, constants=self.constants, explicit=explicit)


@dataclass(frozen=True)
class Practice:
    """A generated problem with the answer its generator knows."""

    method: str
    seed: int
    difficulty: int
    problem: Problem
    answer: Answer
    text: str = ""


class Method:
    """Base class of every solution method (see the module docstring)."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    #: Orders the method handles (None: any).
    orders: ClassVar[tuple[int, ...] | None] = None
    #: Why :meth:`derive` refuses a problem the method does not match (the engine records it).
    not_matched: ClassVar[str] = "the method does not apply"
    #: How to tell that a Hint names this method: regexes (case-insensitive) the hint must match
    #: and must not match; None: its id, spaces for underscores (:func:`tutor.claims.hint_names`).
    hint_pattern: ClassVar[tuple[str, str | None] | None] = None
    #: Tried only after SymPy's dsolve (unless the problem asks for it): a method whose answer is not a
    #: closed form (a truncated series) must not replace one.
    after_dsolve: ClassVar[bool] = False

    def applies_to_order(self, problem: Problem) -> bool:
        return self.orders is None or problem.order in self.orders

    def match(self, problem: Problem) -> Any | None:
        """The method's form of ``problem`` (what :meth:`derive` works from), or None when it does
        not apply.  This default serves a method written with ``matches`` alone: True when it matches."""
        if type(self).matches is Method.matches:
            raise NotImplementedError(f"{type(self).__name__} defines neither match nor matches")
        return True if self.matches(problem) else None

    def matches(self, problem: Problem) -> bool:
        """Whether the method applies to ``problem``."""
        return self.match(problem) is not None

    def hint(self, problem: Problem, form: Any = None) -> str:
        raise NotImplementedError

    def derivable(self, problem: Problem) -> Any | None:
        """The form :meth:`derive` works from when it is given none: :meth:`match`'s, unless the
        method derives more than classification offers it for (asked for by name)."""
        return self.match(problem)

    def derive(self, problem: Problem, form: Any = None) -> Derivation:
        """The worked solution of ``problem`` from ``form``, what :meth:`match` found (found here by
        :meth:`derivable` when not given); :class:`CannotDerive` (``not_matched``) when there is none."""
        if form is None:
            form = self.derivable(problem)
            if form is None:
                raise CannotDerive(self.not_matched)
        return self._derive(problem, form)

    def _derive(self, problem: Problem, form: Any) -> Derivation:
        raise NotImplementedError

    def _generate(self, rng: random.Random, difficulty: int) -> Practice:
        raise NotImplementedError

    def generate(self, seed: int, difficulty: int = 1) -> Practice:
        """A practice problem of this family from ``seed`` (deterministic); difficulty 1..3."""
        rng = random.Random(f"{self.id}:{seed}:{difficulty}")
        practice = self._generate(rng, max(1, min(3, int(difficulty))))
        return Practice(self.id, seed, difficulty, practice.problem, practice.answer, practice.text)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


def derive_matched(method: Method, problem: Problem, form: Any) -> Derivation:
    """``method.derive`` given what its ``match`` found: the form, or the problem alone for a method
    written with ``matches``/``derive(problem)`` (its form is True), when no form was found (None:
    ``derive`` matches, or refuses, itself) and for a stand-in that is no :class:`Method` (a test's)."""
    if form is None or form is True or not isinstance(method, Method):
        return method.derive(problem)
    return method.derive(problem, form)


# --------------------------------------------------------------------------- shared helpers


def make_problem(equation: sympy.Eq, function: sympy.FunctionClass, variable: sympy.Symbol,
                 ics: tuple[InitialCondition, ...] = (), source: str = "") -> Problem:
    """A Problem built from SymPy objects (generators use this, not text)."""
    params = tuple(sorted((s for s in equation.free_symbols if s != variable), key=str))
    return Problem(equation=equation, function=function, variable=variable, ics=ics,
                   parameters=params, source=source)


def _freeze_derivative(problem: Problem) -> tuple[sympy.Expr, sympy.Symbol]:
    p = sympy.Dummy("p")
    return problem.expr.subs(problem.highest_derivative, p), p


@lru_cache(maxsize=256)
def normal_form(problem: Problem) -> sympy.Expr | None:
    """f in ``y^(n) = f(x, y, ..., y^(n-1))`` (in-process: for use inside the worker), or None."""
    if problem.order == 0:
        return None
    expr, p = _freeze_derivative(problem)
    try:
        poly = sympy.Poly(sympy.numer(sympy.together(expr)), p)
    except sympy.PolynomialError:
        poly = None
    if poly is not None and poly.degree() == 1:
        a, b = poly.all_coeffs()
        return sympy.cancel(-b / a)
    if any(f.has(p) for f in expr.atoms(sympy.Function)):
        return None  # y' inside sin, exp ...: no normal form worth the (long) attempt
    solutions = sympy.solve(expr, p, dict=False)
    if len(solutions) != 1:
        return None
    return solutions[0]


def first_order_parts(problem: Problem) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(M, N) with the equation as written being ``M + N y' = 0`` (``M dx + N dy = 0``).

    None when the equation is not linear in y' once denominators are cleared.
    """
    if problem.order != 1:
        return None
    expr, p = _freeze_derivative(problem)
    for candidate in (sympy.expand(expr), sympy.numer(sympy.together(expr))):
        N = sympy.diff(candidate, p)
        if N != 0 and not N.has(p):
            M = candidate.subs(p, 0)
            return M, N
    return None


def y_symbol(problem: Problem) -> sympy.Symbol:
    """A plain symbol standing for the unknown in algebra (``y`` for ``y(x)``)."""
    return sympy.Symbol(problem.function.__name__)


def to_symbol(expr: sympy.Expr, problem: Problem) -> sympy.Expr:
    return expr.subs(problem.unknown, y_symbol(problem))


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """``cancel`` for rational functions (fast, decisive), ``simplify`` otherwise.

    ``simplify`` costs tenths of a second even on ``2*x/x``; classification calls this for
    every method on every problem.
    """
    expr = sympy.sympify(expr)
    if expr.is_rational_function():
        return sympy.cancel(expr)
    return sympy.simplify(expr)


def vanishes(expr: sympy.Expr) -> bool:
    """Symbolic ``expr == 0`` with :func:`tidy`."""
    return tidy(expr) == 0


# --------------------------------------------------------------------------- finishing a derivation


def textbook_constants(count: int) -> tuple[sympy.Symbol, ...]:
    """``C`` for one constant (first order), ``C1, C2, ...`` for more."""
    if count == 1:
        return (sympy.Symbol("C"),)
    return tuple(sympy.Symbol(f"C{i}") for i in range(1, count + 1))


def explicit_solutions(relation: sympy.Eq, unknown: sympy.Expr, U: sympy.Symbol,
                       max_ops: int = 60) -> tuple[sympy.Eq, ...] | None:
    """``u = f(x)`` solutions of an implicit relation when SymPy finds at most two tidy ones."""
    rel = (relation.lhs - relation.rhs).subs(unknown, U)
    if not rel.has(U):
        return None
    # Only try when a textbook would: U occurs once (invert the functions around it) or the
    # relation is a polynomial of degree <= 2 in U.  sympy.solve on x^2 e^y + y sin x = C
    # can take many seconds and finds nothing.
    if rel.count(U) > 1:
        # ln v - ln(v + 1) = ln x + C: combine the logs into one, then it is one occurrence
        # ln(y - 2)/3 - ln(y + 1)/3: clear the common denominator of the log coefficients first
        scale = functools.reduce(sympy.ilcm, [t.as_coeff_Mul()[0].q for t in sympy.Add.make_args(sympy.expand(rel))
                                              if t.has(sympy.log) and t.as_coeff_Mul()[0].is_Rational], 1)
        combined = sympy.logcombine(sympy.expand(rel * scale), force=True)
        logs = [t for t in sympy.Add.make_args(combined) if t.has(U)]
        if len(logs) == 1:
            coeff, log_term = logs[0].as_independent(U)
            if isinstance(log_term, sympy.log) and log_term.args[0].is_rational_function(U):
                rest = combined - logs[0]
                argument = sympy.together(log_term.args[0])
                rel = sympy.numer(argument) - sympy.denom(argument) * sympy.exp(-rest / coeff)
        try:
            # y/(x^2 + x y) = C is linear in y once the denominator is cleared
            if sympy.Poly(sympy.numer(sympy.together(rel)), U).degree() > 2:
                return None
        except sympy.PolynomialError:
            return None
    try:
        # check/simplify off: the answer is verified by substitution anyway, and SymPy's own
        # checking (simplify, exptrigsimp) took seconds on ln(ln y) = ln(sin x) + C.
        finished, sols = attempt(1.5, sympy.solve, rel, U, dict=False, check=False, simplify=False)
    except (NotImplementedError, ValueError):
        return None
    if not finished:
        return None
    if not sols or len(sols) > 2:
        return None
    out = []
    for s in sols:
        if s.has(sympy.RootOf, sympy.CRootOf, sympy.I, sympy.LambertW) or s.has(U) or sympy.count_ops(s) > max_ops:
            return None
        out.append(sympy.Eq(unknown, s))
    return tuple(out)


def solve_for_unknown(relation: sympy.Eq, problem: Problem) -> tuple[sympy.Eq, ...] | None:
    """Explicit ``y = f(x)`` solutions of an implicit relation in the problem's unknown, when tidy."""
    return explicit_solutions(relation, problem.unknown, y_symbol(problem))


def absorb_exponential_constant(expr: sympy.Expr, constant: sympy.Symbol) -> sympy.Expr:
    """``e^{aC + g(x)}`` -> ``C e^{g(x)}`` when C occurs only inside such exponentials.

    SymPy's ``constantsimp`` leaves ``e^{3C + 3x}`` inside fractions alone; a textbook
    writes ``C e^{3x}`` (the new C is ``e^{3C}``, any positive number, and the sign
    absorbed too).
    """
    powers = [e for e in expr.atoms(sympy.exp) if e.has(constant)]
    if not powers:
        return expr
    replacements = {}
    for power in powers:
        rest, part = sympy.expand(power.args[0]).as_independent(constant, as_Add=True)
        coefficient = sympy.cancel(part / constant)
        if not coefficient.is_number:
            return expr
        replacements[power] = constant * sympy.exp(rest)
    placeholder = {p: sympy.Dummy() for p in powers}
    if expr.xreplace(placeholder).has(constant):
        return expr  # C also appears outside the exponentials
    parts = {sympy.expand(p.args[0]).as_independent(constant, as_Add=True)[1] for p in powers}
    if len(parts) != 1:
        return expr  # e^{C} and e^{2C} together are not one constant
    return expr.xreplace(replacements)


def _merge_sign_twins(solutions: list[sympy.Eq], constant: sympy.Symbol) -> list[sympy.Eq]:
    """``y = C f`` and ``y = -C f`` are one family once C takes any sign: keep one."""
    kept: list[sympy.Eq] = []
    for s in solutions:
        twin = any(k.lhs == s.lhs and k.rhs.has(constant)
                   and sympy.simplify(k.rhs.subs(constant, -constant) - s.rhs) == 0 for k in kept)
        if not twin:
            kept.append(s)
    return kept


def _tidy_explicit(solution: sympy.Eq, problem: Problem) -> sympy.Eq:
    """The shortest of a few standard forms of ``y = f`` (no change for implicit answers)."""
    if solution.lhs != problem.unknown or solution.rhs.has(problem.unknown):
        return solution
    rhs = solution.rhs
    forms = [rhs]
    for rewrite in (sympy.cancel, sympy.factor):
        try:
            finished, value = attempt(0.5, rewrite, rhs)
        except (sympy.PolynomialError, NotImplementedError, ValueError, TypeError):
            continue  # cancel/factor refuse some trigonometric expressions
        if finished:
            forms.append(value)
    best = min(forms, key=lambda e: (len(str(e)), sympy.count_ops(e)))
    return solution if len(str(best)) >= len(str(rhs)) else sympy.Eq(solution.lhs, best)


def conclude(problem: Problem, method_id: str, steps: list[Step], solutions: list[sympy.Eq] | tuple,
             constants: list[sympy.Symbol] | tuple, lost: tuple[sympy.Eq, ...] = (), hint: str = "",
             tidy: bool = True) -> Derivation:
    """Tidy the constants (textbook names, ``e^{C}`` absorbed), then solve an IVP for them.

    ``solutions`` are the general solution(s) with ``constants``; the steps added here
    are checkable (``SOLVES`` after renaming, ``CONSTANTS`` for the IVP answer).
    ``tidy=False`` skips SymPy's ``constantsimp`` and the shortest-form rewrite (linear
    methods already write ``C1 y1 + ... + Cn yn + y_p``; those would only mangle it).
    """
    from sympy.solvers.ode.ode import constantsimp

    from tutor.engine.steps import Check, tex

    x = problem.variable
    steps = list(steps)
    solutions = list(solutions)
    constants = list(constants)
    names = textbook_constants(len(constants))
    if constants and tuple(constants) != names:
        rename = dict(zip(constants, names))
        solutions = [s.xreplace(rename) for s in solutions]
        constants = list(names)
    if constants and tidy:
        simplified = []
        for s in solutions:
            if not (s.lhs == problem.unknown and not s.rhs.has(problem.unknown)):
                simplified.append(s)  # an implicit F(x, y) = C keeps the form the steps derived
                continue
            if len(constants) == 1:
                s_absorbed = sympy.Eq(s.lhs, absorb_exponential_constant(s.rhs, constants[0]))
            else:
                s_absorbed = s
            try:
                # doit() re-evaluates the unevaluated products constantsimp can leave (1/2*1)
                renamed = constantsimp(s_absorbed, constants).doit()
            except Exception:  # constantsimp is heuristic; keep the unsimplified form
                renamed = s
            shorter = sympy.count_ops(renamed) <= sympy.count_ops(s) and len(str(renamed)) <= len(str(s))
            simplified.append(renamed if shorter else s)
        simplified = list(dict.fromkeys(simplified))  # y = ±sqrt(C)/x both become y = C/x
        if len(constants) == 1:
            simplified = _merge_sign_twins(simplified, constants[0])
        if simplified != solutions:
            steps.append(Step(
                title="Rename the constant",
                text=("An arbitrary constant combined with numbers or signs is still an arbitrary "
                      "constant, so it is renamed (for example $e^{C}$ and $\\pm e^{C}$ become $C$)."),
                latex=tex(tuple(simplified), x), check=Check.SOLVES, after=tuple(simplified)))
            solutions = simplified
    tidied = [_tidy_explicit(s, problem) for s in solutions] if tidy else solutions
    if tidied != solutions:
        steps.append(Step("Simplify", "Tidy the expression.", latex=tex(tuple(tidied), x), check=Check.SOLVES,
                          after=tuple(tidied)))
        solutions = tidied
    if lost:
        steps.append(Step(
            title="Solutions lost on the way",
            text=("Dividing by an expression that can vanish loses the solutions where it is zero; "
                  "check them separately: " + ", ".join(f"${tex(l, x)}$" for l in lost) + "."),
            latex=tex(tuple(lost), x), check=Check.SOLVES, after=tuple(lost)))
    if problem.ics and constants:
        solutions, steps = _apply_initial_conditions(problem, solutions, constants, steps)
        constants = []
    explicit = tuple(s.lhs == problem.unknown and not s.rhs.has(problem.unknown) for s in solutions)
    return Derivation(method=method_id, steps=tuple(steps), solutions=tuple(solutions),
                      constants=tuple(constants), explicit=explicit, lost=tuple(lost), hint=hint)


def _condition_equation(solution: sympy.Eq, ic: InitialCondition, problem: Problem) -> sympy.Eq | None:
    x, y = problem.variable, problem.unknown
    if solution.lhs == y and not solution.rhs.has(y):
        return sympy.Eq(sympy.diff(solution.rhs, x, ic.order).subs(x, ic.point), ic.value)
    if ic.order == 0:
        return sympy.Eq(solution.lhs.subs(y, ic.value).subs(x, ic.point),
                        solution.rhs.subs(y, ic.value).subs(x, ic.point))
    return None


def _apply_initial_conditions(problem: Problem, solutions: list[sympy.Eq], constants: list[sympy.Symbol],
                              steps: list[Step]) -> tuple[list[sympy.Eq], list[Step]]:
    from tutor.engine.steps import Check, tex

    x = problem.variable
    particular: list[sympy.Eq] = []
    shown_equations = []
    shown_values = []
    for sol in solutions:
        equations = [_condition_equation(sol, ic, problem) for ic in problem.ics]
        if any(e is None for e in equations):
            continue
        try:
            found = sympy.solve(equations, constants, dict=True)
        except NotImplementedError:
            found = []
        for values in found:
            if set(values) != set(constants):
                continue
            candidate = sympy.Eq(sol.lhs.xreplace(values), sympy.simplify(sol.rhs.xreplace(values)))
            if candidate.has(sympy.nan, sympy.zoo) or candidate in particular:
                continue
            particular.append(candidate)
            shown_equations.extend(equations)
            shown_values.append(values)
    if not particular:
        raise CannotDerive("the initial conditions cannot be met by this family")
    conditions = ", ".join(f"${ic.latex(problem.function)}$" for ic in problem.ics)
    steps.append(Step(
        title="Use the initial condition" + ("s" if len(problem.ics) > 1 else ""),
        text=f"Substitute {conditions} into the general solution.",
        latex=r",\quad ".join(tex(e, x) for e in dict.fromkeys(shown_equations)),
        check=Check.NOTE))
    values_tex = r",\quad ".join(", ".join(f"{sympy.latex(c)} = {sympy.latex(v)}" for c, v in vals.items())
                                 for vals in shown_values)
    steps.append(Step(
        title="Solve for the constant" + ("s" if len(constants) > 1 else ""),
        text="Solving these equations gives the constant" + ("s" if len(constants) > 1 else "")
             + (" (only the branch that can meet the condition is kept)" if len(particular) < len(solutions) else "")
             + ", so the solution of the initial value problem is",
        latex=values_tex + r"\qquad " + tex(tuple(particular), x),
        check=Check.CONSTANTS, after=tuple(particular)))
    return particular, steps
