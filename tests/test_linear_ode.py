"""Unit tests for the pure algebra behind the higher-order methods (tutor.engine.linear_ode)."""
from __future__ import annotations

import pytest
import sympy

from tutor.engine.linear_ode import (
    characteristic_polynomial, characteristic_roots, constant_coefficient_basis, euler_basis,
    forcing_terms, indicial_polynomial, linear_form, solve_trial, trial_solution,
    variation_of_parameters, wronskian,
)
from tutor.parser import parse

x, r, m = sympy.symbols("x r m")


def _linear(text: str):
    problem = parse(text)
    return linear_form(problem.expr, problem.function, problem.variable)


def test_linear_form_reads_coefficients_and_rhs():
    L = _linear("x^2 y'' + x y' - y = x^3")
    assert L.coefficients == (-1, x, x**2)
    assert sympy.simplify(L.rhs - x**3) == 0
    assert L.euler_coefficients() == (-1, 1, 1)
    assert L.constant_coefficients() is None


def test_linear_form_rejects_nonlinear():
    assert _linear("y'' + y y' = 0") is None
    assert _linear("y'' + sin(y) = 0") is None


def test_constant_coefficients_after_common_factor():
    # e^x y'' + e^x y = 0 has constant coefficients once divided by e^x.
    L = _linear("e^x y'' + e^x y = 0")
    assert L.constant_coefficients() == (1, 0, 1)


@pytest.mark.parametrize("coefficients, expected", [
    ((2, -3, 1), [(1, 1, 0), (2, 1, 0)]),                   # distinct real
    ((1, 2, 1), [(-1, 2, 0)]),                               # repeated
    ((5, 2, 1), [(-1, 1, 2)]),                               # complex pair once
    ((-1, 3, -3, 1), [(1, 3, 0)]),                           # triple root
    ((1, 0, 2, 0, 1), [(0, 2, 1)]),                          # (r^2+1)^2: repeated complex
    ((-1, 0, 0, 0, 1), [(-1, 1, 0), (1, 1, 0), (0, 1, 1)]),  # quartic
])
def test_characteristic_roots(coefficients, expected):
    roots = characteristic_roots(characteristic_polynomial(coefficients, r), r)
    assert [(root.real, root.multiplicity, root.imag) for root in roots] == expected


def test_basis_functions_satisfy_the_equation():
    coefficients = (1, 0, 2, 0, 1)  # y'''' + 2y'' + y = 0
    basis = constant_coefficient_basis(characteristic_roots(characteristic_polynomial(coefficients, r), r), x)
    assert basis == [sympy.cos(x), sympy.sin(x), x * sympy.cos(x), x * sympy.sin(x)]
    for f in basis:
        assert sympy.simplify(sum(c * sympy.diff(f, x, k) for k, c in enumerate(coefficients))) == 0
    assert wronskian(basis, x) != 0


def test_euler_basis_repeated_and_complex():
    # x^2 y'' - x y' + y = 0: m^2 - 2m + 1 -> m = 1 twice.
    roots = characteristic_roots(indicial_polynomial((1, -1, 1), m), m)
    assert euler_basis(roots, x) == [x, x * sympy.log(x)]
    # x^2 y'' + x y' + 4y = 0: m^2 + 4 -> ±2i.
    roots = characteristic_roots(indicial_polynomial((4, 1, 1), m), m)
    assert euler_basis(roots, x) == [sympy.cos(2 * sympy.log(x)), sympy.sin(2 * sympy.log(x))]


def test_forcing_terms_rejects_non_uc_forms():
    assert forcing_terms(sympy.tan(x), x) is None
    assert forcing_terms(sympy.exp(x) / x, x) is None
    assert forcing_terms(sympy.log(x), x) is None
    terms = forcing_terms(sympy.sin(x) ** 2, x)  # (1 - cos 2x)/2: two families
    assert {(t.exponent, t.frequency, t.degree) for t in terms} == {(0, 0, 0), (0, 2, 0)}


@pytest.mark.parametrize("text, resonance", [
    ("y'' - 3y' + 2y = e^(3x)", 0),
    ("y'' - 3y' + 2y = x e^x", 1),
    ("y'' - 2y' + y = e^x", 2),
    ("y'' + y = sin(x)", 1),
    ("y'' + y = x^2", 0),
    ("y''' - y'' = 4", 2),
])
def test_trial_solution_resonance_and_particular(text, resonance):
    L = _linear(text)
    roots = characteristic_roots(characteristic_polynomial(L.constant_coefficients(), r), r)
    parts = trial_solution(forcing_terms(L.rhs, x), roots, x)
    assert max(p.resonance for p in parts) == resonance
    _, _, particular = solve_trial(L.normalized(), parts)
    assert sympy.simplify(L.operator(particular) - L.rhs) == 0


def test_variation_of_parameters_sec():
    # y'' + y = sec x: u1' = -tan x, u2' = 1.
    W, _, derivs = variation_of_parameters([sympy.cos(x), sympy.sin(x)], sympy.sec(x), x)
    assert W == 1
    assert sympy.simplify(derivs[0] + sympy.tan(x)) == 0
    assert derivs[1] == 1
