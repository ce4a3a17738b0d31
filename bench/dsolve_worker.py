"""SymPy's ``dsolve`` as a module-level function for ``run_bounded`` (workers cannot see ``__main__``)."""
from __future__ import annotations

import sympy


def dsolve_default(equation: sympy.Eq, unknown: sympy.Expr, ics: dict, hint: str = "default") -> tuple[sympy.Eq, ...]:
    """dsolve with its default hint, i.e. what a SymPy user gets (or the ``hint`` named, e.g. SymPy's
    power-series solvers for the series problems)."""
    result = sympy.dsolve(equation, unknown, ics=ics or None, hint=hint)
    return tuple(result) if isinstance(result, (list, tuple)) else (result,)


def dsolve_system(equations: tuple, unknowns: tuple, ics: dict) -> tuple[sympy.Eq, ...]:
    """dsolve on a system of equations (its default: SymPy's linear-systems solver)."""
    result = sympy.dsolve(list(equations), list(unknowns), ics=ics or None)
    return tuple(result) if isinstance(result, (list, tuple)) else (result,)
