"""Pure mathematics behind the higher-order textbook methods (no steps, no rendering).

The higher-order methods (:mod:`tutor.engine.methods.higher_order_steps`) turn these results into
worked solutions; keeping the algebra here makes it unit-testable on its own:

* :func:`linear_form` reads ``a_n(x) y^(n) + ... + a_0(x) y = g(x)`` off an equation;
* :func:`characteristic_roots` factors a characteristic (or indicial) polynomial
  into roots with multiplicities, and :func:`constant_coefficient_basis` /
  :func:`euler_basis` turn them into a fundamental set of solutions
  (``x^k e^{rx}``, ``x^k e^{ax}\\cos bx`` ...; ``x^m \\ln^k x``, ``x^a \\cos(b\\ln x)`` ...);
* :func:`forcing_terms` / :func:`trial_solution` build the undetermined-coefficients
  trial form, multiplying by ``x^s`` on resonance, and :func:`solve_trial` solves the
  linear system for the coefficients;
* :func:`wronskian` and :func:`variation_of_parameters` give ``u_i'`` by Cramer's rule.

Everything here is deterministic SymPy; callers run it under
:func:`tutor.bounded.run_bounded` when it could be slow.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy.simplify.fu import TR8


# --------------------------------------------------------------------------- linear form


@dataclass(frozen=True)
class LinearODE:
    """``sum_k coefficients[k] * y^(k) = rhs`` in ``variable``; ``coefficients[-1] != 0``."""

    coefficients: tuple[sympy.Expr, ...]
    rhs: sympy.Expr
    variable: sympy.Symbol

    @property
    def order(self) -> int:
        return len(self.coefficients) - 1

    @property
    def homogeneous(self) -> bool:
        return self.rhs == 0

    def normalized(self) -> "LinearODE":
        """Divided by the leading coefficient, so that ``y^(n)`` has coefficient 1."""
        lead = self.coefficients[-1]
        return LinearODE(
            tuple(sympy.cancel(a / lead) for a in self.coefficients),
            sympy.cancel(self.rhs / lead) if self.rhs != 0 else sympy.S.Zero,
            self.variable,
        )

    def constant_coefficients(self) -> tuple[sympy.Expr, ...] | None:
        """Monic constant coefficients ``(b_0, ..., b_{n-1}, 1)`` or None if some depend on x."""
        norm = self.normalized()
        x = self.variable
        if any(a.has(x) for a in norm.coefficients):
            return None
        return norm.coefficients

    def euler_coefficients(self) -> tuple[sympy.Expr, ...] | None:
        """``(b_0, ..., b_n)`` with ``a_k = b_k x^k \\cdot h(x)`` (Cauchy-Euler form), else None.

        ``b_n = 1``.  An equation with constant coefficients only (all ``a_k`` free of
        x, order >= 1) is *not* Cauchy-Euler; the caller decides the preference.
        """
        norm = self.normalized()
        x = self.variable
        n = self.order
        out = []
        for k, a in enumerate(norm.coefficients):
            b = sympy.cancel(a * x ** (n - k))
            if b.has(x):
                return None
            out.append(b)
        # A genuine Euler equation has some x-dependence (else it is constant-coefficient).
        if all(b == 0 for b in out[:-1]):
            return None
        return tuple(out)

    def operator(self, expr: sympy.Expr) -> sympy.Expr:
        """``L[expr] = sum a_k expr^(k)`` (not simplified)."""
        x = self.variable
        return sympy.Add(*[a * sympy.diff(expr, x, k) for k, a in enumerate(self.coefficients)])


def linear_form(expr: sympy.Expr, function: sympy.FunctionClass, variable: sympy.Symbol) -> LinearODE | None:
    """Read ``expr = 0`` as a linear ODE ``sum a_k y^(k) = g``, or None if it is not linear.

    ``expr`` is ``lhs - rhs`` of the equation.  Derivatives are replaced by plain
    symbols; the equation is linear when it is a polynomial of degree one in them
    with coefficients free of y.
    """
    x = variable
    y = function(x)
    order = max((d.derivative_count for d in expr.atoms(sympy.Derivative) if d.expr == y), default=0)
    if order == 0:
        return None
    # Linear once denominators in y are cleared: y''/y = -1 is y'' + y = 0.
    together = sympy.together(expr)
    if sympy.denom(together).has(function):
        expr = sympy.numer(together)
    ds = [sympy.Dummy(f"d{k}") for k in range(order + 1)]
    replaced = expr
    for k in range(order, 0, -1):
        replaced = replaced.subs(sympy.Derivative(y, (x, k)), ds[k])
    replaced = replaced.subs(y, ds[0])
    if replaced.has(function):
        return None
    coefficients = []
    for d in ds:
        a = sympy.diff(replaced, d)
        if any(a.has(other) for other in ds):
            return None
        coefficients.append(sympy.cancel(a))
    remainder = replaced.subs({d: 0 for d in ds})
    if any(c.has(sympy.zoo, sympy.nan) for c in coefficients) or remainder.has(sympy.zoo, sympy.nan):
        return None
    rebuilt = sympy.Add(*[a * d for a, d in zip(coefficients, ds)]) + remainder
    if sympy.simplify(rebuilt - replaced) != 0:
        return None
    if coefficients[-1] == 0:
        return None
    return LinearODE(tuple(coefficients), sympy.simplify(-remainder), x)


@lru_cache(maxsize=256)
def linear_equation(problem) -> LinearODE | None:
    """The problem's equation as a linear ODE, or None: the one linearity test (classification and
    the linear methods alike). Cached per (frozen) problem; call it inside the bounded worker."""
    return linear_form(problem.expr, problem.function, problem.variable)


# ------------------------------------------------------------------ characteristic roots


def characteristic_polynomial(coefficients: tuple[sympy.Expr, ...], r: sympy.Symbol) -> sympy.Expr:
    """``sum b_k r^k`` for ``sum b_k y^(k) = 0``."""
    return sympy.Add(*[b * r**k for k, b in enumerate(coefficients)])


def indicial_polynomial(coefficients: tuple[sympy.Expr, ...], m: sympy.Symbol) -> sympy.Expr:
    """``sum b_k m(m-1)...(m-k+1)`` for the Euler equation ``sum b_k x^k y^(k) = 0``."""
    return sympy.expand(sympy.Add(*[b * sympy.ff(m, k) for k, b in enumerate(coefficients)]))


def _real_imag(root: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """Split a root into real and imaginary parts, treating parameters as real."""
    expanded = sympy.expand(root)
    if not expanded.free_symbols:
        re, im = expanded.as_real_imag()
        return sympy.simplify(re), sympy.simplify(im)
    # Parameters (k in sqrt(k)) are taken as real: collect the explicit I.
    im = sympy.simplify(expanded.coeff(sympy.I))
    re = sympy.simplify(expanded - im * sympy.I)
    return re, im


@dataclass(frozen=True)
class Root:
    """A root of a characteristic polynomial with its multiplicity, split into re/im parts."""

    value: sympy.Expr
    multiplicity: int
    real: sympy.Expr
    imag: sympy.Expr

    @property
    def is_complex(self) -> bool:
        return self.imag != 0


#: Cardano/Ferrari radicals longer than this are unreadable (and slow to verify): use CRootOf.
_MAX_RADICAL_OPS = 40


def _all_roots(p: sympy.Poly) -> dict[sympy.Expr, int] | None:
    """Every root with its multiplicity, in radicals of readable size; None otherwise.

    A polynomial whose full radical formula is huge (Cardano, Ferrari) is factored
    first, so ``(r - 1)(r^2 + r + 5)`` still gets short roots.
    """
    found = sympy.roots(p, multiple=False)
    complete = sum(found.values()) == p.degree()
    if complete and all(sympy.count_ops(v) <= _MAX_RADICAL_OPS for v in found):
        return found
    if p.free_symbols - set(p.gens):
        return found if complete else None  # parameters: no indexed roots
    found = {}
    for factor, mult in sympy.factor_list(p)[1]:
        exact = sympy.roots(factor, multiple=False)
        if sum(exact.values()) == factor.degree() and all(sympy.count_ops(v) <= _MAX_RADICAL_OPS for v in exact):
            pairs = exact.items()
        elif not factor.free_symbols - set(p.gens):
            # No radical formula (Abel-Ruffini): the roots are indexed exactly (CRootOf) and
            # shown with their decimal values, as a textbook does for such a polynomial.
            pairs = [(r, 1) for r in sympy.Poly(factor, *p.gens).all_roots()]
        else:
            return None
        for value, m in pairs:
            found[value] = found.get(value, 0) + m * mult
    return found if sum(found.values()) == p.degree() else None


def characteristic_roots(poly: sympy.Expr, r: sympy.Symbol) -> list[Root] | None:
    """Roots of ``poly`` in ``r`` with multiplicities, each complex pair once (``imag > 0``).

    Returns None when SymPy cannot find every root (with parameters and no radical
    formula).  Order: real roots ascending, then the complex pairs.
    """
    p = sympy.Poly(sympy.expand(poly), r)
    found = _all_roots(p)
    if found is None:
        return None
    from tutor.checker.zero import roots_as_numbers

    out: list[Root] = []
    for value, mult in found.items():
        if value.has(sympy.CRootOf):
            z = complex(roots_as_numbers(value, 15))
            if abs(z.imag) < 1e-20:
                out.append(Root(value, mult, value, sympy.S.Zero))
            elif z.imag > 0:
                out.append(Root(value, mult, sympy.re(value), sympy.im(value)))
            continue
        re, im = _real_imag(value)
        if im != 0 and (im.is_negative or (im.could_extract_minus_sign() and not im.is_positive)):
            continue  # the conjugate carries the pair
        out.append(Root(value, mult, re, im))

    def key(root: Root):
        num = roots_as_numbers(root.real, 15).evalf() if not root.real.free_symbols else sympy.S.Zero
        return (root.is_complex, float(num) if num.is_real else 0.0, sympy.default_sort_key(root.value))

    return sorted(out, key=key)


def constant_coefficient_basis(roots: list[Root], x: sympy.Symbol) -> list[sympy.Expr]:
    """Fundamental set for constant coefficients: ``x^k e^{rx}``; ``x^k e^{ax} cos/sin(bx)``."""
    basis: list[sympy.Expr] = []
    for root in roots:
        for k in range(root.multiplicity):
            if root.is_complex:
                e = x**k * sympy.exp(root.real * x)
                basis.append(e * sympy.cos(root.imag * x))
                basis.append(e * sympy.sin(root.imag * x))
            else:
                basis.append(x**k * sympy.exp(root.value * x))
    return basis


def euler_basis(roots: list[Root], x: sympy.Symbol) -> list[sympy.Expr]:
    """Fundamental set for Cauchy-Euler (x > 0): ``x^m ln^k x``; ``x^a cos/sin(b ln x) ln^k x``."""
    basis: list[sympy.Expr] = []
    for root in roots:
        for k in range(root.multiplicity):
            if root.is_complex:
                e = x**root.real * sympy.log(x) ** k
                basis.append(e * sympy.cos(root.imag * sympy.log(x)))
                basis.append(e * sympy.sin(root.imag * sympy.log(x)))
            else:
                basis.append(x**root.value * sympy.log(x) ** k)
    return basis


def multiplicity_of(roots: list[Root], value: sympy.Expr) -> int:
    """How many times ``value`` (real or ``a + bi`` with b > 0) is a characteristic root."""
    for root in roots:
        candidate = root.real + sympy.I * root.imag
        if sympy.simplify(candidate - value) == 0:
            return root.multiplicity
    return 0


# -------------------------------------------------------------- undetermined coefficients


@dataclass(frozen=True)
class ForcingTerm:
    """A family ``x^k e^{ax} (cos bx | sin bx)`` with ``k <= degree`` present in g(x)."""

    exponent: sympy.Expr  # a
    frequency: sympy.Expr  # b >= 0
    degree: int  # highest power of x


def _split_term(term: sympy.Expr, x: sympy.Symbol) -> tuple[int, sympy.Expr, sympy.Expr] | None:
    """``c x^k e^{ax} cos/sin(bx)`` -> (k, a, b) or None if the term is not of that form."""
    _, dependent = term.as_independent(x, as_Add=False)
    k, a, b = 0, sympy.S.Zero, sympy.S.Zero
    trig_seen = False
    for factor in sympy.Mul.make_args(dependent):
        if factor == 1:
            continue
        base, exp = factor.as_base_exp()
        if base == x and exp.is_Integer and exp >= 0:
            k += int(exp)
        elif isinstance(factor, sympy.exp) or (base == sympy.E):
            arg = factor.exp if isinstance(factor, sympy.Pow) else factor.args[0]
            slope = sympy.diff(arg, x)
            if slope.has(x) or sympy.simplify(arg - slope * x).has(x):
                return None
            a += slope
        elif isinstance(factor, (sympy.sin, sympy.cos)) and not trig_seen:
            arg = factor.args[0]
            slope = sympy.diff(arg, x)
            if slope.has(x) or sympy.simplify(arg - slope * x) != 0:
                return None
            b = sympy.Abs(slope) if slope.is_number else slope
            trig_seen = True
        else:
            return None
    return k, sympy.simplify(a), b


def prepare_forcing(g: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """Rewrite g into a sum of ``x^k e^{ax} cos/sin(bx)`` terms where possible.

    Hyperbolic functions become exponentials and products/powers of sines and
    cosines become sums (``sin^2 x = (1 - cos 2x)/2``), as a textbook does first.
    """
    g = g.rewrite(sympy.exp, sympy.sinh, sympy.cosh, sympy.tanh) if g.has(sympy.sinh, sympy.cosh) else g
    g = sympy.expand(g)
    if g.has(sympy.sin, sympy.cos):
        g = sympy.expand(TR8(g))
        g = sympy.expand(g.replace(lambda e: isinstance(e, (sympy.sin, sympy.cos)), lambda e: _split_phase(e, x)))
    return sympy.expand(sympy.powsimp(g))


def _split_phase(e: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """``sin(ax + c) -> sin(ax) cos c + cos(ax) sin c`` (and cos) for a constant phase c != 0."""
    arg = sympy.expand(e.args[0])
    phase, moving = arg.as_independent(x, as_Add=True)
    if phase == 0 or moving == 0:
        return e
    if isinstance(e, sympy.sin):
        return sympy.sin(moving) * sympy.cos(phase) + sympy.cos(moving) * sympy.sin(phase)
    return sympy.cos(moving) * sympy.cos(phase) - sympy.sin(moving) * sympy.sin(phase)


def forcing_terms(g: sympy.Expr, x: sympy.Symbol) -> list[ForcingTerm] | None:
    """Group the terms of g by ``(a, b)``; None when some term is not of UC form."""
    g = prepare_forcing(g, x)
    groups: dict[tuple[sympy.Expr, sympy.Expr], int] = {}
    for term in sympy.Add.make_args(g):
        if not term.has(x):
            key, k = (sympy.S.Zero, sympy.S.Zero), 0
        else:
            split = _split_term(term, x)
            if split is None:
                return None
            k, a, b = split
            key = (a, b)
        groups[key] = max(groups.get(key, 0), k)
    return [ForcingTerm(a, b, d) for (a, b), d in groups.items()]


@dataclass(frozen=True)
class TrialPart:
    """One family of the trial solution with its resonance power and unknown coefficients."""

    term: ForcingTerm
    resonance: int  # s: multiplicity of a + bi as a characteristic root
    expression: sympy.Expr
    unknowns: tuple[sympy.Symbol, ...]


def trial_solution(terms: list[ForcingTerm], roots: list[Root], x: sympy.Symbol,
                   euler_log: bool = False) -> list[TrialPart]:
    """The trial form ``x^s e^{ax} [P(x) cos bx + Q(x) sin bx]`` for each family.

    Unknown coefficients are named A, B, C ... in order (A_0, A_1 .. when there are
    more than 26).
    """
    parts: list[TrialPart] = []
    count = sum((t.degree + 1) * (2 if t.frequency != 0 else 1) for t in terms)
    letters = [chr(ord("A") + i) for i in range(26)] if count <= 26 else [f"A_{i}" for i in range(count)]
    index = 0
    for term in terms:
        s = multiplicity_of(roots, term.exponent + sympy.I * term.frequency)
        pieces = [sympy.cos(term.frequency * x), sympy.sin(term.frequency * x)] if term.frequency != 0 else [sympy.S.One]
        unknowns = []
        body = sympy.S.Zero
        for piece in pieces:
            for k in range(term.degree + 1):
                c = sympy.Symbol(letters[index])
                index += 1
                unknowns.append(c)
                body += c * x**k * piece
        expression = x**s * sympy.exp(term.exponent * x) * body
        parts.append(TrialPart(term, s, expression, tuple(unknowns)))
    return parts


def coefficient_equations(residual: sympy.Expr, x: sympy.Symbol) -> list[sympy.Eq]:
    """Match coefficients of like terms ``x^k e^{ax} cos/sin(bx)`` in ``residual = 0``."""
    residual = sympy.expand(sympy.powsimp(sympy.expand(residual)))
    grouped: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(residual):
        coeff, func = term.as_independent(x, as_Add=False)
        grouped[func] = grouped.get(func, sympy.S.Zero) + coeff
    return [sympy.Eq(sympy.expand(c), 0) for c in grouped.values() if sympy.expand(c) != 0]


def solve_trial(equation: LinearODE, parts: list[TrialPart]) -> tuple[list[sympy.Eq], dict, sympy.Expr] | None:
    """Substitute the trial form into ``L[y] = g`` and solve for the coefficients.

    Returns the equations (as ``lhs = rhs`` with the unknowns on the left), the
    solution and the particular solution; None if the system has no solution
    (which means the trial form was wrong: a bug, not a user error).
    """
    x = equation.variable
    trial = sympy.Add(*[p.expression for p in parts])
    unknowns = [c for p in parts for c in p.unknowns]
    residual = equation.operator(trial) - prepare_forcing(equation.rhs, x)
    raw = coefficient_equations(residual, x)
    # Present each equation as "(terms with unknowns) = constant".
    shown = []
    for eq in raw:
        expr = eq.lhs
        dep, indep = sympy.S.Zero, sympy.S.Zero
        for t in sympy.Add.make_args(expr):
            if t.has(*unknowns):
                dep += t
            else:
                indep += t
        shown.append(sympy.Eq(dep, -indep))
    solution = sympy.solve([e.lhs - e.rhs for e in shown], unknowns, dict=True)
    if len(solution) != 1 or any(c not in solution[0] for c in unknowns):
        return None
    sol = solution[0]
    particular = sympy.expand(trial.subs(sol))
    return shown, sol, particular


# ----------------------------------------------------------------- variation of parameters


def wronskian_matrix(basis: list[sympy.Expr], x: sympy.Symbol) -> sympy.Matrix:
    n = len(basis)
    return sympy.Matrix(n, n, lambda i, j: sympy.diff(basis[j], x, i))


def wronskian(basis: list[sympy.Expr], x: sympy.Symbol) -> sympy.Expr:
    return sympy.simplify(wronskian_matrix(basis, x).det())


def variation_of_parameters(basis: list[sympy.Expr], g: sympy.Expr, x: sympy.Symbol
                            ) -> tuple[sympy.Expr, list[sympy.Expr], list[sympy.Expr]]:
    """``(W, [W_i], [u_i'])`` for ``y^(n) + ... = g`` (monic!) by Cramer's rule.

    ``W_i`` is the Wronskian with column i replaced by ``(0, ..., 0, 1)``; then
    ``u_i' = W_i g / W``.
    """
    M = wronskian_matrix(basis, x)
    W = sympy.simplify(M.det())
    n = len(basis)
    Ws, derivs = [], []
    for i in range(n):
        Mi = M.copy()
        for row in range(n):
            Mi[row, i] = 1 if row == n - 1 else 0
        Wi = sympy.simplify(Mi.det())
        Ws.append(Wi)
        derivs.append(sympy.simplify(Wi * g / W))
    return W, Ws, derivs
