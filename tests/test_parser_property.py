"""Property: random ODEs printed by sympy.latex parse back to the same equation."""
from __future__ import annotations

import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tutor import parse

x = sympy.Symbol("x")
y = sympy.Function("y")
Y = y(x)
DERIVATIVES = [sympy.Derivative(Y, (x, n)) for n in (1, 2, 3)]

leaves = st.sampled_from([x, Y, sympy.Integer(2), sympy.Integer(3), sympy.Rational(1, 2), sympy.pi])
unary = st.sampled_from([sympy.sin, sympy.cos, sympy.exp, sympy.log, sympy.sqrt, sympy.tan, sympy.atan])


def _combine(children):
    return st.one_of(
        st.builds(sympy.Add, children, children),
        st.builds(sympy.Mul, children, children),
        st.builds(lambda b, n: b**n, children, st.sampled_from([2, 3, -1])),
        st.builds(lambda f, a: f(a), unary, children),
    )


expressions = st.recursive(leaves, _combine, max_leaves=6)


@st.composite
def odes(draw):
    derivative = draw(st.sampled_from(DERIVATIVES))
    coefficient = draw(st.sampled_from([sympy.Integer(1), x, sympy.Integer(2), x**2]))
    lhs = coefficient * derivative + draw(expressions)
    rhs = draw(expressions)
    return sympy.Eq(lhs, rhs, evaluate=False)


# derandomized: CI runs the same 60 examples every time (a property failure is then reproducible)
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(odes())
# SymPy prints 1/(2*(x + y)) as \frac{1}{2 (x + y)}, and reading 2*(x + y) back distributes it
# (SymPy's own evaluation): the same equation, another tree.
@example(sympy.Eq(x + DERIVATIVES[0], sympy.Rational(1, 2) / (x + Y), evaluate=False))
def test_sympy_latex_round_trip(eq: sympy.Eq) -> None:
    if (eq.lhs - eq.rhs) == 0 or not (eq.lhs - eq.rhs).has(sympy.Derivative):
        return  # not an ODE after SymPy's own simplification
    if eq.has(sympy.I, sympy.zoo, sympy.oo, sympy.nan):
        return  # log(-1) and 1/0 evaluate to complex or infinite constants: not an ODE a student types
    text = sympy.latex(eq)
    problem = parse(text)
    if problem.equation != eq:  # equal trees, or else the same equation up to SymPy's evaluation
        difference = (problem.equation.lhs - problem.equation.rhs) - (eq.lhs - eq.rhs)
        assert sympy.simplify(difference) == 0, text
