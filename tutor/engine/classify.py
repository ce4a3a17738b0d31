"""Classification of an ODE: order, degree, linearity, homogeneity, autonomy, methods.

``classify(problem) -> Classification``.  The structural facts are computed here; the
list of applicable methods (``types``) asks every registered method's ``match`` in
textbook preference order; :func:`classify_matched` also keeps what each one found, for the
derivation.  Runs in-process (it is called inside the bounded worker by
:func:`tutor.engine.solve.solve`); call it through ``run_bounded`` elsewhere.

Usage::

    from tutor.engine.classify import classify
    c = classify(parse("y' + 2y = e^(-x)"))
    c.order, c.degree, c.linear, c.types     # 1, 1, True, ('first_order_linear', ...)
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from tutor.engine.base import tidy, vanishes
from tutor.engine.linear_ode import linear_equation
from tutor.engine.timebox import attempt
from tutor.problem import Problem

#: Seconds one method's ``match`` may take inside the worker.
MATCH_SECONDS = 1.0

_ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth"}


@dataclass(frozen=True)
class Classification:
    order: int
    degree: int | None
    degree_reason: str
    linear: bool
    homogeneous: bool | None  # linear sense: g(x) = 0; None for nonlinear equations
    autonomous: bool
    constant_coefficients: bool | None  # None for nonlinear equations
    types: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"order": self.order, "degree": self.degree, "linear": self.linear, "types": list(self.types)}

    def describe(self, names: dict[str, str] | None = None) -> str:
        """One paragraph for the Classification section."""
        ordinal = _ORDINALS.get(self.order, f"Order-{self.order}")
        parts = [f"{ordinal} order"]
        parts.append(f"degree {self.degree}" if self.degree is not None else f"degree not defined ({self.degree_reason})")
        if self.linear:
            parts.append("linear")
            parts.append("homogeneous" if self.homogeneous else "nonhomogeneous")
            if self.order > 1 or self.constant_coefficients:
                parts.append("constant coefficients" if self.constant_coefficients else "variable coefficients")
        else:
            parts.append("nonlinear")
        if self.autonomous:
            parts.append("autonomous")
        text = ", ".join(parts) + "."
        if self.types:
            labels = [names.get(t, t) if names else t for t in self.types]
            text += " Methods that apply: " + ", ".join(labels) + "."
        else:
            text += " No textbook method in this tutor applies."
        return text


def _frozen(problem: Problem) -> tuple[sympy.Expr, list[sympy.Symbol], sympy.Symbol]:
    """The equation (= 0) with y, y', ... as symbols u0, u1, ...; returns (expr, [u0..un], top)."""
    x, y = problem.variable, problem.unknown
    syms = [sympy.Dummy(f"u{k}") for k in range(problem.order + 1)]
    mapping = {sympy.Derivative(y, (x, k)): syms[k] for k in range(problem.order, 0, -1)}
    expr = problem.expr.subs(mapping).subs(y, syms[0])
    return expr, syms, syms[-1]


def _degree(expr: sympy.Expr, syms: list[sympy.Symbol], top: sympy.Symbol, problem: Problem) -> tuple[int | None, str]:
    numerator = sympy.numer(sympy.together(expr))
    derivs = syms[1:]
    try:
        poly = sympy.Poly(numerator, *derivs)
    except sympy.PolynomialError:
        poly = None
    if poly is None or any(g.has(*derivs) for g in poly.coeffs()):
        name = problem.function.__name__ + "'" * problem.order if problem.order <= 3 else f"{problem.function.__name__}^({problem.order})"
        return None, f"the equation is not a polynomial in the derivatives (e.g. {name} inside a function or a root)"
    return int(sympy.degree(numerator, top)), ""


def structure(problem: Problem) -> dict:
    """Order, degree, linearity, homogeneity, autonomy and constant coefficients."""
    expr, syms, top = _frozen(problem)
    degree, why = _degree(expr, syms, top, problem)
    # The one linearity test, which the linear methods use too (y'/y = x is y' = x y).
    equation = linear_equation(problem)
    linear = equation is not None
    homogeneous = constant = None
    if linear:
        homogeneous = vanishes(equation.rhs)
        constant = equation.constant_coefficients() is not None
    numerator = sympy.numer(sympy.together(expr))
    autonomous = not tidy(numerator).has(problem.variable)
    return {"order": problem.order, "degree": degree, "degree_reason": why, "linear": linear,
            "homogeneous": homogeneous, "autonomous": autonomous, "constant_coefficients": constant}


def matched_forms(problem: Problem) -> dict[str, object]:
    """Method id -> the form its ``match`` found, for every registered method that applies, in
    textbook preference order (the engine derives from these forms instead of matching again)."""
    from tutor.engine.registry import methods  # late: the registry imports method modules

    found: dict[str, object] = {}
    for method in methods():
        try:
            # A matcher that cannot decide within a second does not apply (in the worker).
            if method.applies_to_order(problem):
                finished, form = attempt(MATCH_SECONDS, method.match, problem)
                if finished and form is not None:
                    found[method.id] = form
        except Exception:  # a method that crashes while matching does not apply
            continue
    return found


def matching_methods(problem: Problem) -> tuple[str, ...]:
    """Every registered method that applies, in textbook preference order."""
    return tuple(matched_forms(problem))


def classify_matched(problem: Problem) -> tuple[Classification, dict[str, object]]:
    """The classification and the forms of the methods it lists (:func:`matched_forms`)."""
    # The structure first: it computes the linear form the linear methods' matchers then find
    # cached, so that (a simplify) is not paid inside a matcher's one-second time box.
    facts = structure(problem)
    forms = matched_forms(problem)
    return Classification(**facts, types=tuple(forms)), forms


def classify(problem: Problem) -> Classification:
    return classify_matched(problem)[0]
