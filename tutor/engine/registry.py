"""The one registry of solution methods, built once, in textbook preference order.

Methods live in the modules listed in :data:`METHOD_MODULES`; each module exposes
``METHODS = [SomeMethod, ...]`` (classes).  Adding a module is one line here.
:data:`PREFERENCE` is the textbook order (the order ``classification.types`` lists and
the engine tries); a method whose id is not in it is an error, so ids are written once.

Usage::

    from tutor.engine.registry import methods, get
    for method in methods(): ...
    get("separable").derive(problem)
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from tutor.engine.base import Method

#: Textbook preference order: the simplest method that applies comes first.
PREFERENCE: tuple[str, ...] = (
    # offered only for IVPs with unit-step or impulse forcing, where a textbook reaches for it first
    "laplace_transform",
    # y' = f(y) nonlinear with exact equilibria: the phase line first, then the separable solution
    "autonomous",
    # conditions at two or more points: the general solution, then the system's three outcomes
    "boundary_value_problem",
    "separable",
    "first_order_linear",
    "exact",
    "integrating_factor",
    "homogeneous",
    "bernoulli",
    "riccati",
    "constant_coefficients",
    "undetermined_coefficients",
    "variation_of_parameters",
    "cauchy_euler",
    "reduction_of_order",
    # series solutions: tried after SymPy's dsolve unless the problem asks for them (see
    # tutor/engine/methods/series.py), so they never replace a closed form
    "power_series",
    "frobenius",
)

#: Modules holding methods (each with a ``METHODS`` list).
METHOD_MODULES: tuple[str, ...] = (
    "tutor.engine.methods.separable",
    "tutor.engine.methods.first_order_linear",
    "tutor.engine.methods.exact",
    "tutor.engine.methods.homogeneous",
    "tutor.engine.methods.bernoulli",
    "tutor.engine.methods.riccati",
    "tutor.engine.methods.constant_coefficients",
    "tutor.engine.methods.undetermined_coefficients",
    "tutor.engine.methods.variation_of_parameters",
    "tutor.engine.methods.cauchy_euler",
    "tutor.engine.methods.reduction_of_order",
    "tutor.engine.methods.laplace",
    "tutor.engine.methods.autonomous",
    "tutor.engine.methods.boundary_value",
    "tutor.engine.methods.series",
)


def _load(module_name: str) -> list[type[Method]]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a module that does not exist yet is skipped (a colleague's may land later);
        # an import error *inside* a method module is a bug and propagates.
        if exc.name == module_name:
            return []
        raise
    return list(module.METHODS)


@lru_cache(maxsize=1)
def methods() -> tuple[Method, ...]:
    """Every registered method (instances), in :data:`PREFERENCE` order."""
    found: dict[str, Method] = {}
    for module_name in METHOD_MODULES:
        for cls in _load(module_name):
            if cls.id not in PREFERENCE:
                raise ValueError(f"method id {cls.id!r} ({cls.__name__}) is not in PREFERENCE")
            if cls.id in found:
                raise ValueError(f"method id {cls.id!r} registered twice")
            found[cls.id] = cls()
    return tuple(found[i] for i in PREFERENCE if i in found)


def get(method_id: str) -> Method:
    for method in methods():
        if method.id == method_id:
            return method
    raise KeyError(f"no method {method_id!r}; known: {', '.join(m.id for m in methods())}")


def ids() -> tuple[str, ...]:
    return tuple(m.id for m in methods())
