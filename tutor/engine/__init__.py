"""The symbolic tutor engine: classification, hint and a checked step-by-step derivation.

Entry point: :func:`solve` (``tutor.solve``) ->  :class:`Solution` (``to_dict``,
``to_sections`` for :mod:`tutor.format`, ``to_text``).  Command line:
``python -m tutor solve "y' = x*y, y(0)=1" [--json]``.

How the pieces fit (write a new method by following these rules)
-----------------------------------------------------------------
* :mod:`tutor.engine.steps` — :class:`Step` (title, text, latex + the SymPy relation
  ``before``/``after`` and a :class:`Check` kind) and :func:`check_step`, which proves a
  step follows (equivalent rearrangement, substitution, integration, antiderivative,
  identity, solves the ODE, meets the initial conditions).  Every formula step of a
  method must carry a check kind other than ``NOTE``; the tests check every step of
  every example.  :func:`tex` renders relations the textbook way (``y'``, ``y``).
* :mod:`tutor.engine.base` — :class:`Method` (``id``, ``name``, ``orders``, ``hint_pattern``,
  ``match`` -> the method's form or None, ``hint``, ``_derive(problem, form)`` behind
  ``derive``, ``_generate``: match once, then derive from the match), :class:`Derivation`,
  :class:`Practice`, :class:`CannotDerive`, and shared helpers: :func:`normal_form`
  (``y^(n) = f``, in-process), :func:`first_order_parts` (``M + N y' = 0``),
  :func:`conclude` (textbook constant names ``C`` / ``C1, C2``, ``e^{C}`` absorbed via
  SymPy's ``constantsimp``, lost solutions listed, IVP constants solved and shown —
  every method ends its derivation with ``return conclude(...)``),
  :func:`solve_for_unknown` (explicit ``y = f`` when tidy), :func:`make_problem`
  (generators build problems from SymPy objects).
* Speed and bounds: use :func:`tutor.engine.base.tidy` / :func:`~tutor.engine.base.vanishes`
  (``cancel`` for rational expressions, ``simplify`` only otherwise) in matchers; wrap
  anything that can run long in :func:`tutor.engine.timebox.attempt` (an interval timer,
  active only inside the worker) — matchers get 1 s each, one method at most 60% of what
  is left, so the next method, ``dsolve`` and the checker still get their turn.
* :mod:`tutor.engine.integrate` — :func:`antiderivative` names the rule used
  (substitution, parts, partial fractions) from ``integral_steps``;
  :func:`integration_step` makes it a checked step.
* :mod:`tutor.engine.registry` — the one registry: ``METHOD_MODULES`` (each module
  exposes ``METHODS = [cls, ...]``; adding a module is one line) and ``PREFERENCE``
  (textbook order, the method ids written once).
* :mod:`tutor.engine.classify` — :class:`Classification` (order, degree or why not,
  linear, homogeneous, autonomous, constant coefficients, ``types``).
* :mod:`tutor.engine.solve` — :func:`solve` runs classification + derivation in a
  worker (``run_bounded``, so methods must not call ``run_bounded`` themselves),
  verifies the final answer with :func:`tutor.checker.check` (the one verifier), falls
  back to the next method, then to SymPy's ``dsolve`` (saying which hint), then "no
  closed form found"; a timeout gives "could not finish in time".  :func:`practice`
  returns a generated problem whose answer the verifier accepts.

Method modules: :mod:`tutor.engine.methods` (first order: separable, first_order_linear,
exact + integrating_factor, homogeneous, bernoulli, riccati; higher order: constant_coefficients,
undetermined_coefficients, variation_of_parameters, cauchy_euler, reduction_of_order, with their shared
steps in ``methods/higher_order_steps.py``).
"""
from tutor.engine.base import CannotDerive, Derivation, Method, Practice
from tutor.engine.classify import Classification, classify
from tutor.engine.solution import Solution
from tutor.engine.solve import classify_bounded, practice, solve
from tutor.engine.steps import Check, Step, StepCheck, check_step, tex

__all__ = ["CannotDerive", "Check", "Classification", "Derivation", "Method", "Practice", "Solution",
           "Step", "StepCheck", "check_step", "classify", "classify_bounded", "practice", "solve", "tex"]
