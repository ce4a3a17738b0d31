"""The one verifier: is a proposed solution of an ODE correct, incomplete, wrong — or undecidable?

Used everywhere an answer is judged: the app's auto-check of the tutor's final answer, the
student's "check my answer", evaluation metrics, DPO chosen/rejected labels and LbT exam scores.

Usage::

    from tutor.checker import check
    v = check("y' = 2y", "y = C e^{2x}")            # Verdict(verdict="correct", ...)
    v = check("y' = 2y, y(0) = 3", "y = 3e^{2x} + 1")
    v.verdict, v.reason, v.details, v.ok, v.to_dict()

    python -m tutor check "y' = 2y" "y = e^{2x} + C" --json

Verdicts (docs/ARCHITECTURE.md, "Verification"):

* ``correct`` — every alternative satisfies the ODE and every initial condition; without
  initial conditions at least one alternative has as many *independent* arbitrary constants as
  the order (the rank of the Jacobian of ``(y, y', ..., y^(n-1))`` with respect to the constants
  at random points, so ``C1 e^{2x} + C2 e^{2x}`` has one).
* ``incomplete`` — satisfies the ODE but is not the general solution (too few independent
  constants: a particular or singular solution), or an IVP answer whose constants are still free.
* ``wrong`` — some alternative does not satisfy the ODE, or violates an initial condition, or no
  value of the free constants can meet the initial conditions.
* ``undecided`` — could not decide within the time limit, could not read the answer, or the
  answer is in letters the problem does not have and no reading of them shows it wrong.

Choices (documented here because callers depend on them):

* **Several alternatives** ("y = 0 or y = C e^x", ``y = ±sqrt(x^2 + C)``): every alternative
  must satisfy the ODE (one that does not makes the answer ``wrong``). A general family listed
  together with a singular or particular solution is ``correct`` — the extra solution is true and
  a textbook often lists it; a singular/particular solution *alone* is ``incomplete``. With
  initial conditions every alternative must meet them: "y = ±sqrt(x^2 + 4)" for ``y(0) = 2`` is
  ``wrong`` because the minus branch gives ``y(0) = -2``.
* **Unreadable answers** (garbage, code, derivatives, over-long text): verdict ``undecided``
  with ``details["error"]`` (the parser's message, position and suggestion) — "we could not read
  it" is not a claim that the mathematics is wrong. Nothing in the answer is ever evaluated:
  text goes only through :func:`tutor.parse_answer` (a whitelist grammar). An unreadable
  *problem* raises :class:`tutor.ParseError` (there is nothing to check against; the CLI exits
  with code 2).
* **Answers in letters the problem does not have** ("y = C e^{2t}" for y(x), "z = C e^{2x}" or
  "y = ..." for T(t)): read with the problem's letters (t as x, z as y) and checked. ``wrong``
  when no reading makes it a solution — it fails with the problem's letters, and as written (the
  stray letters constants) it fails or is not about the unknown at all; also ``wrong`` when no
  one-to-one reading exists and it fails as written (two stray variables; an answer about two
  other names, or about the variable). Otherwise ``undecided`` with the letters named, what the
  problem's letters would give ("with t read as x it satisfies the equation") and
  ``details["error"]``: it is not a solution as it stands, nor shown to be false mathematics.
* **Who wrote the answer** (``author="student"`` or ``"model"``) changes only the wording:
  reasons speak to a student ("your constants", "write it in terms of x") and describe a model's
  answer ("the model's answer ...", no advice to the reader).
* **Answers like "y = C e^{2x}, C = 3"**: an alternative ``constant = number`` assigns it.
  ``\\boxed{...}``, a final full stop and trailing notes (", where C is a constant", "for x > 0",
  "(C arbitrary)", ", C_1, C_2 \\in \\mathbb{R}") are dropped; from a sentence with its math in
  ``$...$`` ("The general solution is $y = C e^{2x}$.") the equations are taken; other words ("The
  solution is y = ...") make the answer unreadable rather than being read as a product of
  one-letter constants.
* **Implicit relations with several branches** (``sin(y - C) = 10x`` is y = C + arcsin(10x) or
  y = C + pi - arcsin(10x)): accepted when the curves solve the ODE on some branch, with a note.
* **Solutions on an interval**: ``y = (x + C)^2/4`` solves ``y' = sqrt(y)`` only where x > -C; a
  residual that is exactly zero on part of the real line and nonzero elsewhere (possible only
  through |.|, sqrt of a square, ...) counts as satisfying the ODE, with a note in the reason and
  ``details["domain_note"]``; for an IVP it must then hold on both sides of the initial point.
  Points where the residual is not real (a principal branch, ``((x + C)^3)^{2/3}`` for x + C < 0)
  are skipped.
* **The letter i** in an answer is the imaginary unit (``y = C1 e^{ix} + C2 e^{-ix}``) unless the
  problem uses i as a parameter; complex-valued answers are then evaluated as complex numbers.
* **Boundary value problems** (tutor/engine/methods/boundary_value.py is the reference): "no
  solution" is ``correct`` only when that method proves none (its contradiction step re-checked),
  ``wrong`` when it finds a solution or eigenvalues, ``undecided`` when it cannot tell; one member
  of a family with infinitely many solutions is ``incomplete``; an eigenvalue answer
  (``lambda_n = n^2, y_n = sin(n x), n = 1, 2, ...``) is correct when every pair solves the
  equation and the conditions for every n, no eigenfunction is zero and no eigenvalue of the
  engine's is missing (``incomplete``); a value that is not an eigenvalue is ``wrong``.
* **Piecewise answers written as cases** ("y = 1 - cos t for t < 2, ... for t >= 2",
  ``\\begin{cases}``) are read into unit steps (:func:`tutor.notation.rewrite_piecewise`) before
  anything else, and judged as distributions like any answer with steps.
* **"No constant value meets the initial conditions"** (``y = C x`` for ``y(0) = 1``) is ``wrong``;
  it is claimed only for conditions linear in the constants, otherwise the answer is
  ``incomplete`` (constants still free).

How: the work runs in a worker process (:func:`tutor.bounded.run_bounded`; Gradio handlers run
in threads, where SIGALRM does not work), and inside the worker each stage has its own share of
the time limit (an interval timer — the worker runs tasks in its main thread), so a pathological
simplification gives way to the numeric check instead of eating the whole budget.

* explicit ``y = f(x)``: substitute, then a cheap exact simplification; then numeric evaluation
  at random real points (x and the constants random; 30 significant digits): a residual clearly
  nonzero at a real point where everything is finite disproves the answer; if it vanishes at all
  points a stronger simplification is tried for a symbolic proof, and when that is inconclusive
  the numeric agreement is accepted (``details["method"] = "numeric"``);
* implicit ``F(x, y) = G(x, y)``: with ``H = F - G``, ``y' = -H_x/H_y`` and higher derivatives by
  the total derivative ``D = d/dx + y' d/dy``; substituted into the ODE this gives a residual
  R(x, y, C). If R still depends on a constant, the constant is eliminated by solving ``H = 0``
  for it (so the condition is "d/dx of C(x, y) vanishes along the ODE"); otherwise points on the
  curves are found numerically;
* all symbols are real, and ``(ln|u|)' = u'/u`` exactly (see :func:`tutor.checker.zero._d`), so
  ``ln|x|`` and ``ln x`` are both accepted.

The package (docs/ARCHITECTURE.md, Layers):

* :mod:`~tutor.checker.core` — :func:`check` (the caller's side) and the worker's ``_judge``;
* :mod:`~tutor.checker.verdict` — :class:`Verdict` and the voice of its reasons (student / model);
* :mod:`~tutor.checker.answer_text` — the answer's text before any algebra: ``\\boxed``, notes,
  prose, ``C = 3``, "no solution" and eigenvalue claims, letters the problem does not have;
* :mod:`~tutor.checker.context` — the task sent to the worker, its clock (stages time-boxed by
  :func:`tutor.engine.timebox.attempt`), the problem in real symbols, random points;
* :mod:`~tutor.checker.zero` — the one "is this zero?" test (exact, then 30- against 60-digit
  values at random points), also used by :func:`tutor.engine.steps.is_zero`;
* :mod:`~tutor.checker.explicit`, :mod:`~tutor.checker.implicit`, :mod:`~tutor.checker.ivp` —
  ``y = f(x)`` (with steps and impulses as distributions), ``F(x, y) = G(x, y)``, conditions;
* :mod:`~tutor.checker.special` — truncated series, "no solution", eigenvalue answers;
* :mod:`~tutor.checker.systems` — systems ``x' = A x + g(t)``.
"""
from __future__ import annotations

from tutor.checker.answer_text import read_answer, read_claim
from tutor.checker.context import DEFAULT_TIMEOUT
from tutor.checker.core import check
from tutor.checker.verdict import AUTHORS, VERDICTS, Verdict

__all__ = ["AUTHORS", "DEFAULT_TIMEOUT", "VERDICTS", "Verdict", "check", "read_answer", "read_claim"]
