"""Systems ``x' = A x + g(t)`` with a constant 2x2 or 3x3 matrix: the eigenvalue method.

The textbook derivation, every formula a checked step (:mod:`tutor.engine.steps`):

1. the system in matrix form (an identity: ``A x + g`` is the right-hand side typed);
2. the characteristic polynomial ``det(A - λI)`` (an identity with the determinant);
3. its roots, the eigenvalues (an identity: the polynomial equals the product of ``λ - λ_i``);
4. for each eigenvalue an eigenvector from the null space of ``A - λI`` (``(A - λI) v = 0``,
   ``v ≠ 0``); for a defective (repeated) eigenvalue a generalized eigenvector
   (``(A - λI) w = v``) — the three textbook cases: distinct real, complex (one eigenvalue of each
   conjugate pair, the real form via Euler's formula: real and imaginary parts), repeated;
5. the fundamental solutions and the general solution (each checked by substitution, by the one
   checker :func:`tutor.checker.check`);
6. with a forcing ``g``: variation of parameters with the fundamental matrix ``Φ``
   (``Φ u' = g``, ``u = ∫ u'``, ``x_p = Φ u``);
7. with initial conditions: the constants from ``x(t0) = x0``.

A 2x2 system's equilibrium is classified from the trace and determinant (node, saddle, spiral,
center, degenerate node; stable, asymptotically stable or unstable); a 3x3 one's stability from
the real parts of the eigenvalues.

Usage::

    from tutor.engine.methods.linear_system import derive_system, classify_system
    derivation = derive_system(problem)       # a tutor.system.SystemProblem
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import reduce

import sympy

from tutor.engine.base import CannotDerive, Derivation
from tutor.engine.steps import Check, Step, ltx
from tutor.system import SystemProblem

ID = "linear_system"
NAME = "Linear system (eigenvalue method)"
#: How to tell that a Hint names this method (as ``Method.hint_pattern`` for the registry's methods).
HINT_PATTERN = (r"eigenvalues?\b.{0,40}\b(?:of|for)\b.{0,12}\bA\b|eigenvalue method", None)
LAMBDA = sympy.Symbol("lambda")


def hint(problem: SystemProblem) -> str:
    t = ltx(problem.variable)
    text = ("Write the system as $\\mathbf{x}' = A\\mathbf{x}$ and find the eigenvalues of $A$ (the roots of "
            "$\\det(A - \\lambda I) = 0$) and an eigenvector for each: every eigenpair gives a solution "
            f"$e^{{\\lambda {t}}}\\mathbf{{v}}$; complex eigenvalues give real solutions through Euler's formula, "
            "and a repeated eigenvalue with too few eigenvectors needs a generalized eigenvector.")
    if not problem.homogeneous:
        text += " Then find a particular solution by variation of parameters with the fundamental matrix."
    return text


# --------------------------------------------------------------------------- classification


@dataclass(frozen=True)
class SystemClassification:
    """What the engine says about a system before solving it (the Classification section)."""

    n: int
    homogeneous: bool
    eigenvalues: tuple[tuple[sympy.Expr, int], ...]  # (value, algebraic multiplicity)
    equilibrium: str  # "saddle point (unstable)", ... ("" when not classified)
    order: int = 1
    types: tuple[str, ...] = (ID,)
    linear: bool = True
    degree: int = 1

    def describe(self, names: dict[str, str] | None = None) -> str:
        kind = "homogeneous" if self.homogeneous else "nonhomogeneous"
        forcing = "" if self.homogeneous else r" + \mathbf{g}"
        text = (f"A {kind} linear system of {self.n} first-order equations with constant coefficients, "
                f"$\\mathbf{{x}}' = A\\mathbf{{x}}{forcing}$.")
        if self.equilibrium:
            text += f" Equilibrium at the origin{'' if self.homogeneous else ' (of the homogeneous part)'}: " \
                    f"{self.equilibrium}."
        return text + f" Method: {NAME}."

    def to_dict(self) -> dict:
        return {"order": 1, "degree": 1, "linear": True, "types": list(self.types), "system": True,
                "size": self.n, "homogeneous": self.homogeneous,
                "eigenvalues": [{"value": str(v), "multiplicity": m} for v, m in self.eigenvalues],
                "equilibrium": self.equilibrium}


def _eigenvalues(A: sympy.Matrix) -> list[tuple[sympy.Expr, int]]:
    p = _charpoly(A)
    roots = sympy.roots(sympy.Poly(p, LAMBDA))
    if sum(roots.values()) != A.shape[0]:
        raise CannotDerive("the eigenvalues have no closed form here")
    if any(r.is_real is None for r in roots):
        # three real roots of an irreducible cubic: radicals only through complex numbers
        # (casus irreducibilis), no textbook closed form
        raise CannotDerive("the eigenvalues are roots of a cubic with no real closed form in radicals")
    # real ones first (ascending), then complex ones by imaginary part
    return sorted(((sympy.nsimplify(r) if r.is_Rational else sympy.radsimp(r), m) for r, m in roots.items()),
                  key=lambda rm: (not rm[0].is_real, float(sympy.re(rm[0])), float(sympy.im(rm[0]))))


def equilibrium(A: sympy.Matrix, eigen: list[tuple[sympy.Expr, int]]) -> str:
    """The origin's type and stability: trace-determinant for 2x2, real parts for 3x3."""
    if A.shape[0] == 2:
        T, D = A.trace(), A.det()
        disc = sympy.simplify(T ** 2 - 4 * D)
        if D == 0:
            return "not isolated (a zero eigenvalue: a whole line of equilibria)"
        if D < 0:
            return "a saddle point (unstable)"
        if disc > 0:
            return "a node, " + ("asymptotically stable" if T < 0 else "unstable")
        if disc == 0:
            what = "a proper node (star)" if A == sympy.diag(T / 2, T / 2) else "a degenerate (improper) node"
            return what + ", " + ("asymptotically stable" if T < 0 else "unstable")
        if T == 0:
            return "a center (stable, not asymptotically stable)"
        return "a spiral point, " + ("asymptotically stable (spiral sink)" if T < 0 else "unstable (spiral source)")
    reals = [sympy.re(v) for v, _ in eigen]
    if all(r < 0 for r in reals):
        return "asymptotically stable (every eigenvalue has a negative real part)"
    if any(r > 0 for r in reals):
        return "unstable (an eigenvalue has a positive real part)"
    return "not asymptotically stable (an eigenvalue has zero real part)"


def classify_system(problem: SystemProblem) -> SystemClassification:
    A = sympy.Matrix(problem.matrix)
    try:
        eigen = _eigenvalues(A)
        eq = equilibrium(A, eigen)
    except (CannotDerive, TypeError):  # TypeError: a sign SymPy cannot decide
        eigen, eq = [], ""
    return SystemClassification(problem.n, problem.homogeneous, tuple(eigen), eq)


# --------------------------------------------------------------------------- linear algebra


def _charpoly(A: sympy.Matrix) -> sympy.Expr:
    return sympy.expand((A - LAMBDA * sympy.eye(A.shape[0])).det())


def _expand(e: sympy.Expr) -> sympy.Expr:
    """Multiplied out, but ``e^{(a + b)t}`` kept as one exponential."""
    return sympy.expand(e, power_exp=False)


def _short(e: sympy.Expr) -> sympy.Expr:
    """Multiplied out with exponentials combined (``e^{-t} e^{2t}`` -> ``e^{t}``), radicals out of
    denominators, ``cos^2 + sin^2`` -> 1."""
    e = sympy.powsimp(_expand(sympy.radsimp(sympy.powsimp(sympy.expand(e)))))
    squares = {sympy.sin(a) ** 2: 1 - sympy.cos(a) ** 2 for a in (f.args[0] for f in e.atoms(sympy.sin))}
    if squares and any(e.has(sq) for sq in squares):
        # sin^2 + cos^2 = 1 exactly, without trigsimp (seconds on a busy machine)
        e = sympy.powsimp(_expand(e.xreplace(squares)))
    return e


def _tidy(e: sympy.Expr) -> sympy.Expr:
    return sympy.radsimp(sympy.expand(e))


def _nice(v: sympy.Matrix, *chain: sympy.Matrix) -> list[sympy.Matrix]:
    """``v`` (and the rest of its chain, by the same factor) scaled to small whole numbers, its
    first nonzero entry positive where that can be read off."""
    v = v.applyfunc(_tidy)
    factor = sympy.Integer(1)
    if all(e.is_Rational for e in v):
        factor = sympy.Integer(reduce(sympy.ilcm, [sympy.fraction(e)[1] for e in v], 1))
        nonzero = [abs(int(e * factor)) for e in v if e != 0]
        if nonzero:
            factor = factor / reduce(sympy.igcd, nonzero)
    first = next((e for e in v if e != 0), None)
    if first is not None and (first * factor).could_extract_minus_sign():
        factor = -factor
    return [(sympy.Matrix(m) * factor).applyfunc(_tidy) for m in (v, *chain)]


def _null_vector(M: sympy.Matrix) -> sympy.Matrix:
    """A nonzero vector with ``M v = 0`` for a rank n-1 matrix (works for irrational and complex λ)."""
    n = M.shape[0]
    rows = [M.row(i).applyfunc(_tidy) for i in range(n)]
    if n == 2:
        for a, b in (tuple(r) for r in rows):
            if a != 0 or b != 0:
                return sympy.Matrix([-b, a])
    else:
        for i in range(3):
            for j in range(i + 1, 3):
                v = rows[i].cross(rows[j]).T.applyfunc(_tidy)
                if any(e != 0 for e in v):
                    return v
    raise CannotDerive("no eigenvector found")


def _det_tex(M: sympy.Matrix) -> str:
    return ltx(sympy.Matrix(M)).replace(r"\left[", r"\left|").replace(r"\right]", r"\right|")


def _rref_latex(M: sympy.Matrix) -> str:
    reduced, _ = M.applyfunc(_tidy).rref(simplify=True)
    return ltx(reduced.applyfunc(_tidy))


# --------------------------------------------------------------------------- the derivation


def _vector_eqs(problem: SystemProblem, values) -> tuple[sympy.Eq, ...]:
    return tuple(sympy.Eq(u, v, evaluate=False) for u, v in zip(problem.unknowns, values))


def _vec_tex(v) -> str:
    return ltx(sympy.Matrix(v))


def derive_system(problem: SystemProblem) -> Derivation:
    A = sympy.Matrix(problem.matrix)
    n = A.shape[0]
    t = problem.variable
    I_n = sympy.eye(n)
    x_vec = sympy.Matrix(problem.unknowns)
    homogeneous = replace(problem, forcing=sympy.ImmutableMatrix(sympy.zeros(n, 1)), ics=())
    steps: list[Step] = []
    g = sympy.Matrix(problem.forcing)

    typed = sympy.Matrix([eq.rhs for eq in problem.equations])
    steps.append(Step(
        "Matrix form",
        "Collect the coefficients of the unknowns into the matrix $A$" +
        ("" if problem.homogeneous else " and the remaining terms into the forcing $\\mathbf{g}(" + ltx(t) + ")$") + ".",
        latex=(r"\mathbf{x}' = A\mathbf{x}" + ("" if problem.homogeneous else r" + \mathbf{g}") + ",\\quad "
               f"A = {ltx(A)}" + ("" if problem.homogeneous else f",\\quad \\mathbf{{g}} = {_vec_tex(g)}")),
        check=Check.IDENTITY,
        after=sympy.Eq(sympy.ImmutableMatrix(A * x_vec + g), sympy.ImmutableMatrix(typed), evaluate=False)))

    p = _charpoly(A)
    steps.append(Step(
        "Characteristic polynomial",
        "Expand the determinant of $A - \\lambda I$.",
        latex=f"\\det(A - \\lambda I) = {_det_tex(A - LAMBDA * I_n)} = {ltx(p)}",
        check=Check.IDENTITY,
        after=sympy.Eq(sympy.Determinant(sympy.ImmutableMatrix(A - LAMBDA * I_n)), p, evaluate=False)))

    eigen = _eigenvalues(A)
    product = sympy.Mul(*((LAMBDA - v) ** m for v, m in eigen)) * (-1) ** n
    shown = ",\\quad ".join(f"\\lambda_{{{i + 1}}} = {ltx(v)}" + (f"\\ (\\text{{multiplicity }} {m})" if m > 1 else "")
                            for i, (v, m) in enumerate(eigen))
    kinds = []
    if any(not v.is_real for v, _ in eigen):
        kinds.append("a complex conjugate pair")
    if any(m > 1 for _, m in eigen):
        kinds.append("a repeated eigenvalue")
    if not kinds:
        kinds.append("distinct real eigenvalues")
    steps.append(Step(
        "Eigenvalues",
        f"The roots of $\\det(A - \\lambda I) = 0$ are the eigenvalues: {', '.join(kinds)}.",
        latex=f"{ltx(p)} = {ltx(product)} = 0 \\;\\Rightarrow\\; {shown}",
        check=Check.IDENTITY, after=sympy.Eq(p, product, evaluate=False)))

    solutions: list[sympy.Matrix] = []  # fundamental solutions (real), in order
    for value, mult in eigen:
        if not value.is_real and sympy.im(value) < 0:
            continue  # the conjugate of one already used
        M = (A - value * I_n).applyfunc(_tidy)
        name = f"$\\lambda = {ltx(value)}$"
        basis = M.nullspace(simplify=True) if mult > 1 else []
        if mult == 1 or len(basis) == mult:
            vectors = [_nice(_null_vector(M))[0]] if mult == 1 else [_nice(b)[0] for b in basis]
            for v in vectors:
                steps.append(Step(
                    f"Eigenvector for {name}" if value.is_real else f"Complex eigenvector for {name}",
                    f"Row-reduce $A - ({ltx(value)})I$; its null space gives "
                    f"{'an eigenvector' if len(vectors) == 1 else 'independent eigenvectors'}.",
                    latex=f"A - ({ltx(value)})I = {ltx(M)} \\sim {_rref_latex(M)},\\quad \\mathbf{{v}} = {_vec_tex(v)}",
                    check=Check.NULL_SPACE, after=(sympy.ImmutableMatrix(M), sympy.ImmutableMatrix(v),
                                                   sympy.ImmutableMatrix(sympy.zeros(n, 1)))))
                if value.is_real:
                    sol = (sympy.exp(value * t) * v).applyfunc(_expand)
                    solutions.append(sol)
                    steps.append(Step(
                        f"Solution from {name}",
                        f"Each eigenpair gives the solution $e^{{\\lambda {ltx(t)}}}\\mathbf{{v}}$.",
                        latex=f"\\mathbf{{x}}_{{{len(solutions)}}} = {ltx(sympy.exp(value * t))}{_vec_tex(v)}",
                        check=Check.SOLVES, after=_vector_eqs(problem, sol), ode=homogeneous))
                else:
                    a, b = sympy.re(value), sympy.im(value)
                    re_v = v.applyfunc(lambda e: _tidy(sympy.re(e)))
                    im_v = v.applyfunc(lambda e: _tidy(sympy.im(e)))
                    first = (sympy.exp(a * t) * (re_v * sympy.cos(b * t) - im_v * sympy.sin(b * t))).applyfunc(_expand)
                    second = (sympy.exp(a * t) * (re_v * sympy.sin(b * t) + im_v * sympy.cos(b * t))).applyfunc(_expand)
                    solutions += [first, second]
                    euler = (f"e^{{({ltx(value)}){ltx(t)}}}{_vec_tex(v)} = {ltx(sympy.exp(a * t))}"
                             f"\\left(\\cos {ltx(b * t)} + i \\sin {ltx(b * t)}\\right)"
                             f"\\left({_vec_tex(re_v)} + i {_vec_tex(im_v)}\\right)")
                    steps.append(Step(
                        "Real solutions by Euler's formula",
                        f"Write $e^{{\\lambda {ltx(t)}}}\\mathbf{{v}}$ with $e^{{i\\beta {ltx(t)}}} = \\cos \\beta {ltx(t)} + "
                        f"i\\sin\\beta {ltx(t)}$; its real and imaginary parts are two real solutions (the conjugate "
                        "eigenvalue gives the same two).",
                        latex=(euler + f",\\quad \\mathbf{{x}}_{{{len(solutions) - 1}}} = {_vec_tex(first)},\\quad "
                               f"\\mathbf{{x}}_{{{len(solutions)}}} = {_vec_tex(second)}"),
                        check=Check.SOLVES, after=_vector_eqs(problem, first) + _vector_eqs(problem, second),
                        ode=homogeneous))
            continue
        # a defective eigenvalue: Jordan chains v, w1, w2 with (A - λI) w1 = v, (A - λI) w2 = w1
        for chain in _chains(A, value, mult):
            chain = _nice(*chain)
            v = chain[0]
            steps.append(Step(
                f"Eigenvector for {name}",
                f"$\\lambda = {ltx(value)}$ has multiplicity {mult} but only {len(basis)} independent "
                f"eigenvector{'s' if len(basis) != 1 else ''}: row-reduce $A - ({ltx(value)})I$ for one.",
                latex=f"A - ({ltx(value)})I = {ltx(M)} \\sim {_rref_latex(M)},\\quad \\mathbf{{v}} = {_vec_tex(v)}",
                check=Check.NULL_SPACE, after=(sympy.ImmutableMatrix(M), sympy.ImmutableMatrix(v),
                                               sympy.ImmutableMatrix(sympy.zeros(n, 1)))))
            sol = (sympy.exp(value * t) * v).applyfunc(_expand)
            solutions.append(sol)
            steps.append(Step(
                f"Solution from {name}", "The eigenpair gives one solution.",
                latex=f"\\mathbf{{x}}_{{{len(solutions)}}} = {ltx(sympy.exp(value * t))}{_vec_tex(v)}",
                check=Check.SOLVES, after=_vector_eqs(problem, sol), ode=homogeneous))
            for k in range(1, len(chain)):
                w, prev = chain[k], chain[k - 1]
                label = "\\mathbf{w}" if k == 1 else f"\\mathbf{{w}}_{{{k}}}"
                prev_label = "\\mathbf{v}" if k == 1 else ("\\mathbf{w}" if k == 2 else f"\\mathbf{{w}}_{{{k - 1}}}")
                steps.append(Step(
                    "Generalized eigenvector",
                    f"Solve $(A - ({ltx(value)})I){label} = {prev_label}$ for a generalized eigenvector.",
                    latex=f"{ltx(M)}{label} = {_vec_tex(prev)} \\;\\Rightarrow\\; {label} = {_vec_tex(w)}",
                    check=Check.NULL_SPACE, after=(sympy.ImmutableMatrix(M), sympy.ImmutableMatrix(w),
                                                   sympy.ImmutableMatrix(prev))))
                poly = sum((t ** (k - i) / sympy.factorial(k - i) * chain[i] for i in range(k + 1)), sympy.zeros(n, 1))
                sol = (sympy.exp(value * t) * poly).applyfunc(_expand)
                solutions.append(sol)
                tt = ltx(t)
                form = (f"{tt}\\mathbf{{v}} + \\mathbf{{w}}" if k == 1 else
                        f"\\tfrac{{{tt}^2}}{{2}}\\mathbf{{v}} + {tt}\\mathbf{{w}} + \\mathbf{{w}}_2")
                steps.append(Step(
                    "Solution from the generalized eigenvector",
                    f"The repeated eigenvalue gives $e^{{\\lambda {tt}}}\\left({form}\\right)$.",
                    latex=f"\\mathbf{{x}}_{{{len(solutions)}}} = {ltx(sympy.exp(value * t))}{_vec_tex(poly.applyfunc(_expand))}",
                    check=Check.SOLVES, after=_vector_eqs(problem, sol), ode=homogeneous))
    if len(solutions) != n:
        raise CannotDerive("the eigenvectors did not give a fundamental set")

    C = sympy.symbols(f"C1:{n + 1}")
    general_h = sum((c * s for c, s in zip(C, solutions)), sympy.zeros(n, 1)).applyfunc(_expand)
    combination = " + ".join(f"C_{{{i + 1}}}\\mathbf{{x}}_{{{i + 1}}}" for i in range(n))
    steps.append(Step(
        "General solution" if problem.homogeneous else "Complementary solution",
        f"A combination of the {n} independent solutions" + ("." if problem.homogeneous else
                                                              " solves the homogeneous system $\\mathbf{x}' = A\\mathbf{x}$."),
        latex=f"\\mathbf{{x}}{'' if problem.homogeneous else '_c'} = {combination} = {_vec_tex(general_h)}",
        check=Check.SOLVES, after=_vector_eqs(problem, general_h), ode=homogeneous if not problem.homogeneous else None))
    general = general_h
    if not problem.homogeneous:
        xp = _variation_of_parameters(problem, solutions, steps)
        general = (general_h + xp).applyfunc(_expand)
        steps.append(Step(
            "General solution", "Add the particular solution to the complementary one.",
            latex=f"\\mathbf{{x}} = \\mathbf{{x}}_c + \\mathbf{{x}}_p = {_vec_tex(general)}",
            check=Check.SOLVES, after=_vector_eqs(problem, general)))
    constants = tuple(C)
    if problem.ics:
        t0 = problem.ics[0].point
        x0 = sympy.Matrix([ic.value for ic in problem.ics])
        at = general.subs(t, t0).applyfunc(_expand)
        found = sympy.solve(list(at - x0), C, dict=True)
        if not found or any(c not in found[0] for c in C):
            raise CannotDerive("the initial conditions did not fix the constants")
        values = found[0]
        general = general.subs(values).applyfunc(_expand)
        equations = ",\\ ".join(f"{ltx(e)} = {ltx(v)}" for e, v in zip(at, x0))
        constants_tex = ",\\ ".join(f"C_{{{i + 1}}} = {ltx(values[c])}" for i, c in enumerate(C))
        steps.append(Step(
            "Initial conditions",
            f"Put ${ltx(t)} = {ltx(t0)}$ in the general solution and solve the linear system for the constants.",
            latex=f"{equations} \\;\\Rightarrow\\; {constants_tex};\\quad \\mathbf{{x}} = {_vec_tex(general)}",
            check=Check.CONSTANTS, after=_vector_eqs(problem, general)))
        constants = ()
    return Derivation(ID, tuple(steps), _vector_eqs(problem, general), constants, hint=hint(problem))


def _chains(A: sympy.Matrix, value: sympy.Expr, mult: int) -> list[list[sympy.Matrix]]:
    """Jordan chains ``[v, w1, ...]`` of ``A`` for ``value`` (``(A - λI) w1 = v``), from SymPy's Jordan form."""
    P, J = A.jordan_form()
    n = A.shape[0]
    chains, i = [], 0
    while i < n:
        if J[i, i] != value:
            i += 1
            continue
        j = i
        while j + 1 < n and J[j, j + 1] == 1 and J[j + 1, j + 1] == value:
            j += 1
        chains.append([P.col(k) for k in range(i, j + 1)])
        i = j + 1
    if sum(len(c) for c in chains) != mult:
        raise CannotDerive("the Jordan chains do not match the multiplicity")
    return chains


def _variation_of_parameters(problem: SystemProblem, solutions: list[sympy.Matrix], steps: list[Step]) -> sympy.Matrix:
    A = sympy.Matrix(problem.matrix)
    t = problem.variable
    g = sympy.Matrix(problem.forcing)
    Phi = sympy.Matrix.hstack(*solutions)
    steps.append(Step(
        "Fundamental matrix",
        "The independent solutions are the columns of the fundamental matrix $\\Phi$, and $\\Phi' = A\\Phi$.",
        latex=f"\\Phi({ltx(t)}) = {ltx(Phi)}", check=Check.IDENTITY,
        after=sympy.Eq(sympy.ImmutableMatrix(Phi.diff(t)), sympy.ImmutableMatrix(A * Phi), evaluate=False)))
    def solve_for_u_prime() -> sympy.Matrix:
        # Cramer's rule with the Wronskian from Abel's formula, det Φ(t) = det Φ(0) e^{tr(A) t}: exact
        # and free (simplifying det Φ, e^{2t}(cos^2 + sin^2), took seconds)
        wronskian = sympy.nsimplify(Phi.subs(t, 0).det()) * sympy.exp(A.trace() * t)
        return (Phi.adjugate() * g / wronskian).applyfunc(_short)

    # No time box of its own: the method's share of the budget (engine/solve.py) bounds the
    # whole derivation, and a fixed limit here failed on a busy machine.
    u_prime = solve_for_u_prime()
    steps.append(Step(
        "Variation of parameters",
        "Look for $\\mathbf{x}_p = \\Phi\\mathbf{u}$: then $\\Phi\\mathbf{u}' = \\mathbf{g}$, a linear system for $\\mathbf{u}'$.",
        latex=f"{ltx(Phi)}\\mathbf{{u}}' = {_vec_tex(g)} \\;\\Rightarrow\\; \\mathbf{{u}}' = {_vec_tex(u_prime)}",
        check=Check.IDENTITY,
        after=sympy.Eq(sympy.ImmutableMatrix(Phi * u_prime), sympy.ImmutableMatrix(g), evaluate=False)))
    u = u_prime.applyfunc(lambda e: sympy.integrate(sympy.expand(e), t))
    if any(e.has(sympy.Integral) for e in u):
        raise CannotDerive("an integral of variation of parameters has no closed form here")
    u = u.applyfunc(_short)
    steps.append(Step(
        "Integrate", "Integrate each component (no constants needed: any antiderivative gives a particular solution).",
        latex=f"\\mathbf{{u}} = \\int \\mathbf{{u}}'\\,d{ltx(t)} = {_vec_tex(u)}", check=Check.IDENTITY,
        after=sympy.Eq(sympy.ImmutableMatrix(u.diff(t)), sympy.ImmutableMatrix(u_prime), evaluate=False)))
    xp = (Phi * u).applyfunc(_short)
    steps.append(Step(
        "Particular solution", "Multiply: $\\mathbf{x}_p = \\Phi\\mathbf{u}$.",
        latex=f"\\mathbf{{x}}_p = {_vec_tex(xp)}", check=Check.SOLVES, after=_vector_eqs(problem, xp)))
    return xp


# --------------------------------------------------------------------------- practice problems


def _unimodular(rng, n: int) -> sympy.Matrix:
    """An integer matrix with determinant 1 (so ``P J P^{-1}`` has integer entries), small entries."""
    upper, lower = sympy.eye(n), sympy.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            upper[i, j] = rng.choice([-1, 0, 1, 1, 2])
            lower[j, i] = rng.choice([-1, 0, 1])
    P = upper * lower
    return P if any(P[i, j] for i in range(n) for j in range(n) if i != j) else _unimodular(rng, n)


def _blocks(rng, n: int, case: str) -> tuple[sympy.Matrix, sympy.Matrix]:
    """(J, e^{Jt}) for the case: distinct real, a complex pair (plus a real one in 3x3), or a
    defective repeated eigenvalue (a Jordan block; 3x3: of size 3 or 2 + a distinct one)."""
    t = sympy.Symbol("t")
    values = rng.sample([-3, -2, -1, 1, 2, 3], 3)
    if case == "real":
        J = sympy.diag(*values[:n])
        return J, sympy.diag(*(sympy.exp(v * t) for v in values[:n]))
    if case == "complex":
        a, b = rng.choice([-2, -1, 0, 1]), rng.choice([1, 2, 3])
        J = sympy.Matrix([[a, b], [-b, a]])
        E = sympy.exp(a * t) * sympy.Matrix([[sympy.cos(b * t), sympy.sin(b * t)], [-sympy.sin(b * t), sympy.cos(b * t)]])
        if n == 3:
            r = rng.choice([v for v in values if v != a])
            return sympy.diag(J, r), sympy.diag(E, sympy.exp(r * t))
        return J, E
    lam = values[0]
    if n == 2:
        return sympy.Matrix([[lam, 1], [0, lam]]), sympy.exp(lam * t) * sympy.Matrix([[1, t], [0, 1]])
    if rng.random() < 0.5:
        J = sympy.Matrix([[lam, 1, 0], [0, lam, 1], [0, 0, lam]])
        return J, sympy.exp(lam * t) * sympy.Matrix([[1, t, t ** 2 / 2], [0, 1, t], [0, 0, 1]])
    r = values[1]
    return (sympy.diag(sympy.Matrix([[lam, 1], [0, lam]]), r),
            sympy.diag(sympy.exp(lam * t) * sympy.Matrix([[1, t], [0, 1]]), sympy.exp(r * t)))


def generate(seed: int, difficulty: int = 1):
    """A practice system from ``seed`` (deterministic) with the answer the generator knows.

    ``A = P J P^{-1}`` with an integer ``P`` of determinant 1 and a real Jordan form ``J`` of the
    drawn case (distinct real, complex, repeated), so ``A`` has integer entries and the answer is
    ``x = P e^{Jt} c``.  Difficulty 1: a 2x2 general solution; 2: sometimes an initial value
    problem; 3: 3x3 as often as 2x2, initial value problems, and (2x2) sometimes a constant forcing.
    """
    import random

    from tutor.engine.base import Practice
    from tutor.problem import Answer
    from tutor.system import COMPONENT_NAMES, SystemCondition

    difficulty = max(1, min(3, int(difficulty)))
    rng = random.Random(f"{ID}:{seed}:{difficulty}")
    n = 3 if difficulty == 3 and rng.random() < 0.5 else 2
    case = rng.choice(["real", "complex", "repeated"])
    P = _unimodular(rng, n)
    J, E = _blocks(rng, n, case)
    A = P * J * P.inv()
    t = sympy.Symbol("t")
    functions = tuple(sympy.Function(name) for name in COMPONENT_NAMES[:n])
    ivp = difficulty >= 2 and rng.random() < (0.5 if difficulty == 2 else 0.7)
    # Difficulty 3, 2x2: sometimes a constant forcing g (A is invertible: no eigenvalue is 0), so
    # x' = A x + g with the equilibrium x_p = -A^{-1} g (the engine varies the parameters).
    g = sympy.zeros(n, 1)
    if difficulty == 3 and n == 2 and rng.random() < 0.4:
        g = sympy.Matrix([rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([-2, -1, 0, 1, 2])])
    xp = -A.inv() * g
    if ivp:
        x0 = sympy.Matrix([rng.choice([-2, -1, 0, 1, 2, 3]) for _ in range(n)])
        if all(v == 0 for v in x0):
            x0[0] = 1
        values = (P * E * P.inv() * (x0 - xp) + xp).applyfunc(_expand)
        constants: tuple = ()
        ics = tuple(SystemCondition(f, sympy.Integer(0), v) for f, v in zip(functions, x0))
    else:
        C = sympy.symbols(f"C1:{n + 1}")
        values = (P * E * sympy.Matrix(C) + xp).applyfunc(_expand)
        constants, ics = tuple(C), ()
    names = [sympy.Symbol(f.__name__) for f in functions]
    rows = (A * sympy.Matrix(names) + g).applyfunc(sympy.expand)
    text = ", ".join(re.sub(r"(\d)\*", r"\1", f"{name}' = {sympy.sstr(row)}") for name, row in zip(names, rows))
    if ics:
        text += ", " + ", ".join(f"{ic.function.__name__}(0) = {ic.value}" for ic in ics)
    problem = SystemProblem(functions, t, sympy.ImmutableMatrix(A), sympy.ImmutableMatrix(g), ics,
                            source=text)
    answer = Answer(tuple(sympy.Eq(f(t), v, evaluate=False) for f, v in zip(functions, values)), constants,
                    (True,) * n)
    return Practice(ID, seed, difficulty, problem, answer, text)
