"""Slope fields and solution curves as arrays (for the Teach tab's plot), and the plot itself.

:func:`slope_field` returns a :class:`SlopeField`: for a first-order equation ``y' = f(x, y)``
the directions on a grid, solution curves for several values of the constant and, for an
initial value problem, the curve through the initial point; for a higher-order equation only
solution curves (a slope field lives in the (x, y) plane of first-order equations).  Curves
come from the verified answer when it is explicit (``y = f(x, C)``, several C), otherwise
from integrating ``y' = f`` numerically (classical RK4) through several starting points.
:func:`figure` draws it with matplotlib (no pyplot state, so it is safe in server threads).
The vertical window follows the bulk of the curves (median and median absolute deviation,
:func:`_y_window`), so a family whose members blow up still shows its shapes, and an initial
value problem's point is always inside the window and marked.

The numeric work runs in the bounded worker pool (:func:`tutor.bounded.run_bounded`): the
right-hand side comes from SymPy (``normal_form``), which can be slow.  Parameters such as
``k`` in ``T' = -k(T - 20)`` are set to 1 for the picture, and the note says so.

Usage::

    from tutor.slope_field import slope_field, figure
    field = slope_field(problem, answer_solutions)     # arrays; field.note explains limits
    fig = figure(field)                                 # matplotlib Figure (gr.Plot shows it)
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy

from tutor.bounded import SymbolicTimeout, WorkerCrashed, run_bounded
from tutor.problem import Problem

GRID_X, GRID_Y = 23, 17
#: Constants used for the family of curves (one constant), and combinations for several.
CONSTANT_VALUES = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
SEVERAL_CONSTANTS = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (0.5, -0.5))
RK4_STEPS = 240


@dataclass
class Curve:
    label: str
    x: np.ndarray
    y: np.ndarray
    ivp: bool = False


@dataclass
class SlopeField:
    """Everything the plot needs. ``slopes`` is None when there is no field (higher order)."""

    x_name: str
    y_name: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    grid_x: np.ndarray | None = None
    grid_y: np.ndarray | None = None
    slopes: np.ndarray | None = None
    curves: list[Curve] = field(default_factory=list)
    point: tuple[float, float] | None = None
    note: str = ""
    title: str = ""  # the plot's title when it is not a slope field (a phase portrait)


# --------------------------------------------------------------------------- numerics (worker)


def _finite_fraction(values: np.ndarray) -> float:
    return float(np.isfinite(values).mean()) if values.size else 0.0


def _evaluate(fn, *args: np.ndarray) -> np.ndarray:
    shape = np.broadcast(*args).shape
    with np.errstate(all="ignore"):
        try:
            out = np.asarray(fn(*args), dtype=complex) * np.ones(shape)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            return np.full(shape, np.nan)
        real = out.real.copy()
        real[np.abs(out.imag) > 1e-9 * (1 + np.abs(out.real))] = np.nan  # complex values are off the plot
    return real


def _rk4(f, x0: float, ys: np.ndarray, x1: float, steps: int, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Integrate y' = f(x, y) from x0 to x1 for every start value in ``ys`` at once.

    A curve stops (NaN from there on) when it leaves the picture, blows up, or turns faster
    than the step can follow — at a vertical tangent the solution y(x) ends, and stepping on
    would jump to another curve.
    """
    xs = np.linspace(x0, x1, steps + 1)
    h = (x1 - x0) / steps
    out = np.full((len(ys), steps + 1), np.nan)
    y = ys.astype(float).copy()
    out[:, 0] = y
    for i in range(steps):
        x = xs[i]
        k1 = _evaluate(f, x, y)
        k2 = _evaluate(f, x + h / 2, y + h / 2 * k1)
        k3 = _evaluate(f, x + h / 2, y + h / 2 * k2)
        k4 = _evaluate(f, x + h, y + h * k3)
        step = h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        with np.errstate(invalid="ignore"):
            # The slope changing by more than half its size within one step: a vertical tangent.
            lost = (np.abs(k4 - k1) > 0.5 * (1 + np.abs(k1))) | (np.abs(y + step) > limit)
        y = y + step
        y[lost] = np.nan
        out[:, i + 1] = y
    return xs, out


def _both_ways(f, x_start: float, ys: np.ndarray, x_range: tuple[float, float], limit: float):
    left_x, left = _rk4(f, x_start, ys, x_range[0], RK4_STEPS // 2, limit)
    right_x, right = _rk4(f, x_start, ys, x_range[1], RK4_STEPS // 2, limit)
    xs = np.concatenate([left_x[::-1], right_x[1:]])
    return xs, np.concatenate([left[:, ::-1], right[:, 1:]], axis=1)


def _explicit(solutions: tuple[sympy.Eq, ...], unknown: sympy.Expr) -> list[sympy.Expr]:
    return [eq.rhs for eq in solutions if eq.lhs == unknown and not eq.rhs.has(unknown)]


def _parameters_to_one(expr: sympy.Expr, parameters: tuple[sympy.Symbol, ...]) -> sympy.Expr:
    return expr.subs({p: 1 for p in parameters}) if parameters else expr


def _x_windows(center: float | None) -> list[tuple[float, float]]:
    c = 0.0 if center is None else center
    # An initial value problem is mostly read forward from its initial point.
    windows = [(c - 1.0, c + 3.0) if center is not None else (c - 3.0, c + 3.0), (c, c + 4.0), (0.1, 5.1)]
    return list(dict.fromkeys(windows))


#: How far the vertical window reaches from the median of the sampled values, in median absolute
#: deviations (MAD): ~4 standard deviations for a bell-shaped spread, the whole range for an
#: oscillating family, and the tame part of an exponential family (whose blow-ups leave the plot).
WINDOW_MADS = 6.0
#: The window never reaches past these percentiles of the values (so a few blow-ups never count).
WINDOW_PERCENTILES = (2.0, 98.0)


def _bulk(curves: list[Curve]) -> tuple[float, float] | None:
    """Where most of the curves' finite values lie: the median plus or minus ``WINDOW_MADS``
    median absolute deviations, within the ``WINDOW_PERCENTILES`` (None without values)."""
    values = np.concatenate([c.y[np.isfinite(c.y)] for c in curves] or [np.array([])])
    if values.size <= 1:
        return None
    median = float(np.median(values))
    spread = float(np.median(np.abs(values - median)))
    lo, hi = (float(v) for v in np.percentile(values, WINDOW_PERCENTILES))
    return max(lo, median - WINDOW_MADS * spread), min(hi, median + WINDOW_MADS * spread)


def _y_window(curves: list[Curve], point: tuple[float, float] | None,
              default: tuple[float, float]) -> tuple[float, float]:
    """The vertical window from the curves' behaviour: the bulk of all curves and of the initial
    value problem's curve (:func:`_bulk`), always including the initial point.

    Plain percentiles are not enough: in ``y'' + 4y' = -1`` on [-3, 3] half the curves grow like
    ``e^{12}``, so even the 90th percentile was in the thousands and every curve looked flat.
    The median and its absolute deviation only see the bulk; blow-ups leave the plot and
    non-finite values never count.  ``default`` (around the initial point, or 0) is used when
    there is nothing to measure.
    """
    ranges = [r for r in (_bulk(curves), _bulk([c for c in curves if c.ivp])) if r is not None]
    if point is not None:
        ranges.append((point[1], point[1]))
    if not any(r[1] > r[0] for r in ranges):
        center = point[1] if point else (ranges[0][0] if ranges else 0.0)
        return center + default[0], center + default[1]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    pad = max(0.5, 0.12 * (hi - lo))
    return lo - pad, hi + pad


def _family_curves(branches: list[sympy.Expr], x: sympy.Symbol, constants: list[sympy.Symbol],
                   xs: np.ndarray) -> list[Curve]:
    values = ([(c,) for c in CONSTANT_VALUES] if len(constants) == 1 else
              [tuple(itertools.islice(itertools.cycle(combo), len(constants))) for combo in SEVERAL_CONSTANTS])
    curves = []
    for combo in values:
        label = ", ".join(f"{c} = {v:g}" for c, v in zip(constants, combo))
        for branch in branches:
            fn = sympy.lambdify(x, branch.subs(dict(zip(constants, combo))), "numpy")
            curves.append(Curve(label, xs, _evaluate(fn, xs)))
    return curves


def _compute(problem: Problem, solutions: tuple[sympy.Eq, ...] | None) -> SlopeField:
    """Worker: the field and curves for ``problem`` (and its verified answer when given)."""
    from tutor.engine.base import normal_form

    if getattr(problem, "is_system", False):
        return _phase_portrait(problem)

    x, unknown = problem.variable, problem.unknown
    Y = sympy.Dummy(problem.function.__name__)
    known = {x, *problem.parameters}
    explicit = _explicit(solutions or (), unknown)
    explicit = [_parameters_to_one(e, problem.parameters) for e in explicit]
    constants = sorted({s for e in explicit for s in e.free_symbols if s not in known}, key=lambda s: s.name)
    notes = []
    if problem.parameters:
        notes.append("Parameters " + ", ".join(str(p) for p in problem.parameters) + " are set to 1 in the picture.")
    ic0 = next((ic for ic in problem.ics if ic.order == 0), None)
    point = None
    if ic0 is not None:
        try:
            point = (float(_parameters_to_one(ic0.point, problem.parameters)),
                     float(_parameters_to_one(ic0.value, problem.parameters)))
        except (TypeError, ValueError):
            point = None

    f_num = None
    if problem.order == 1:
        f = normal_form(problem)
        if f is not None:
            f = _parameters_to_one(f, problem.parameters).subs(unknown, Y)
            if f.free_symbols <= {x, Y}:
                f_num = sympy.lambdify((x, Y), f, "numpy")

    # The x window: where the field (or the curves) are defined on most of the plot.
    best, best_score = None, -1.0
    probe_y = np.linspace((point[1] if point else 0.0) - 3.0, (point[1] if point else 0.0) + 3.0, GRID_Y)
    for window in _x_windows(point[0] if point else None):
        gx = np.linspace(*window, GRID_X)
        if f_num is not None:
            score = _finite_fraction(_evaluate(f_num, *np.meshgrid(gx, probe_y)))
        elif explicit:
            sample = {c: 1.0 for c in constants}
            score = np.mean([_finite_fraction(_evaluate(sympy.lambdify(x, e.subs(sample), "numpy"), gx))
                             for e in explicit])
        else:
            score = 0.0
        if score > best_score + 0.05:
            best, best_score = window, score
    x_range = best or (-3.0, 3.0)
    if point and not (x_range[0] <= point[0] <= x_range[1]):
        point = None
    xs = np.linspace(*x_range, RK4_STEPS + 1)

    # The initial value problem's curve first: it decides the vertical window.
    curves: list[Curve] = []
    if point is not None:
        if explicit and not constants:
            for branch in explicit:
                fn = sympy.lambdify(x, branch, "numpy")
                curves.append(Curve("initial value problem", xs, _evaluate(fn, xs), ivp=True))
        elif f_num is not None:
            cx, cy = _both_ways(f_num, point[0], np.array([point[1]]), x_range, limit=1e6)
            curves.append(Curve("initial value problem", cx, cy[0], ivp=True))
    if explicit and constants:
        curves = _family_curves(explicit, x, constants, xs) + curves

    # A first-order equation without an initial point shows its field around y = 0 (the curves
    # through it are drawn afterwards, inside that window).
    y_range = _y_window(curves if (point or problem.order > 1) else [], point, default=(-3.0, 3.0))
    result = SlopeField(x_name=str(x), y_name=problem.function.__name__, x_range=x_range, y_range=y_range,
                        point=point, curves=curves)
    span = y_range[1] - y_range[0]
    if f_num is not None:
        X, Ygrid = np.meshgrid(np.linspace(*x_range, GRID_X), np.linspace(*y_range, GRID_Y))
        result.grid_x, result.grid_y, result.slopes = X, Ygrid, _evaluate(f_num, X, Ygrid)
        if not (explicit and constants):
            x_start = point[0] if point else (x_range[0] + x_range[1]) / 2
            starts = np.linspace(y_range[0] + span / 8, y_range[1] - span / 8, 7)
            cx, cy = _both_ways(f_num, x_start, starts, x_range, limit=max(abs(y_range[0]), abs(y_range[1])) + 2 * span)
            result.curves = [Curve(f"through ({x_start:.3g}, {s:.3g})", cx, row) for s, row in zip(starts, cy)] + curves
    if problem.order > 1:
        notes.insert(0, "Slope fields are drawn for first-order equations; this shows solution curves.")
    if not result.curves and result.slopes is None:
        notes.append("No picture for this equation: it is not of the form y' = f(x, y) and the answer is implicit.")
    result.note = " ".join(notes)
    return result


def slope_field(problem: Problem, solutions: tuple[sympy.Eq, ...] | None = None,
                timeout: float = 8.0) -> SlopeField | None:
    """The field and curves for ``problem`` (None if it could not be computed in time)."""
    try:
        return run_bounded(_compute, problem, tuple(solutions) if solutions else None, timeout=timeout)
    except (SymbolicTimeout, WorkerCrashed):
        return None


# --------------------------------------------------------------------------- phase portraits


PHASE_STARTS = 10
PHASE_T = 4.0


def _trajectory(A: np.ndarray, g, start: np.ndarray, t0: float, limit: float) -> np.ndarray:
    """RK4 of x' = A x + g(t) from ``start`` at ``t0``, backwards and forwards (points, 2 x N);
    a branch stops where it leaves the square of half-width ``limit``."""
    def f(t: float, x: np.ndarray) -> np.ndarray:
        return A @ x + g(t)

    branches = []
    for sign in (-1.0, 1.0):
        h, t, x = sign * PHASE_T / RK4_STEPS, t0, start.astype(float).copy()
        points = [x.copy()]
        for _ in range(RK4_STEPS):
            k1 = f(t, x)
            k2 = f(t + h / 2, x + h / 2 * k1)
            k3 = f(t + h / 2, x + h / 2 * k2)
            k4 = f(t + h, x + h * k3)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += h
            if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > limit:
                break
            points.append(x.copy())
        branches.append(np.array(points))
    return np.concatenate([branches[0][::-1], branches[1][1:]]).T


def _phase_portrait(problem) -> SlopeField:
    """Worker: a 2x2 system's phase portrait — the direction field of ``x' = A x`` in the (x, y)
    plane, trajectories from points around the origin, the real eigenvectors' lines and, for an
    initial value problem, its trajectory (forcing evaluated along each trajectory's own time)."""
    names = [f.__name__ for f in problem.functions]
    if problem.n != 2:
        return SlopeField(names[0], names[1], (-3.0, 3.0), (-3.0, 3.0),
                          note="Phase portraits are drawn for systems of two equations.", title="Phase portrait")
    A = np.array(problem.matrix.tolist(), dtype=float)
    t = problem.variable
    g_fn = sympy.lambdify(t, list(problem.forcing), "numpy")  # SymPy's own expression, not text

    def g(time: float) -> np.ndarray:
        return np.array([complex(v).real for v in np.broadcast_arrays(*g_fn(time))], dtype=float).reshape(2)

    point = None
    t0 = 0.0
    if problem.ics:
        try:
            t0 = float(problem.ics[0].point)
            point = (float(problem.ics[0].value), float(problem.ics[1].value))
        except (TypeError, ValueError):
            point = None
    half = 3.0 if point is None else max(3.0, 1.3 * max(abs(point[0]), abs(point[1])))
    curves: list[Curve] = []
    for k in range(PHASE_STARTS):
        angle = 2 * np.pi * (k + 0.5) / PHASE_STARTS
        start = 0.8 * half * np.array([np.cos(angle), np.sin(angle)])
        path = _trajectory(A, g, start, 0.0, 3 * half)
        curves.append(Curve("trajectories", path[0], path[1]))
    values, vectors = np.linalg.eig(A)
    for value, vector in zip(values, vectors.T):
        if abs(value.imag) > 1e-12 or not np.all(np.abs(vector.imag) < 1e-12):
            continue
        v = vector.real / np.max(np.abs(vector.real))
        s = np.linspace(-3 * half, 3 * half, 61)
        curves.append(Curve(f"eigenvector line, λ = {value.real:.3g}", s * v[0], s * v[1]))
    if point is not None:
        path = _trajectory(A, g, np.array(point), t0, 3 * half)
        curves.append(Curve("initial value problem", path[0], path[1], ivp=True))
    result = SlopeField(names[0], names[1], (-half, half), (-half, half), curves=curves, point=point,
                        title="Phase portrait")
    if problem.homogeneous:
        X, Y = np.meshgrid(np.linspace(-half, half, GRID_X), np.linspace(-half, half, GRID_Y))
        with np.errstate(all="ignore"):
            result.slopes = (A[1, 0] * X + A[1, 1] * Y) / (A[0, 0] * X + A[0, 1] * Y)
        result.grid_x, result.grid_y = X, Y
        result.note = "Direction field of the system; trajectories from points around the equilibrium at the origin."
    else:
        result.note = ("The forcing depends on t, so there is no single direction field: the trajectories start "
                       "at t = 0 around the origin.")
    return result


# --------------------------------------------------------------------------- the plot


def figure(data: SlopeField, title: str = ""):
    """A matplotlib Figure of the field (short unit segments) and the curves."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 5.0), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    (x0, x1), (y0, y1) = data.x_range, data.y_range
    if data.slopes is not None:
        from matplotlib.collections import LineCollection

        # Unit directions in axes fractions, so every segment has the same length on screen.
        sx, sy = (x1 - x0), (y1 - y0)
        u, v = np.full_like(data.slopes, 1.0 / sx), data.slopes / sy
        with np.errstate(all="ignore"):
            norm = np.hypot(u, v)
            half = 0.4 / GRID_X  # half a segment, as a fraction of the axes width
            du, dv = u / norm * half * sx, v / norm * half * sy
        ok = np.isfinite(du) & np.isfinite(dv)
        gx, gy = data.grid_x[ok], data.grid_y[ok]
        segments = np.stack([np.column_stack([gx - du[ok], gy - dv[ok]]),
                             np.column_stack([gx + du[ok], gy + dv[ok]])], axis=1)
        ax.add_collection(LineCollection(segments, colors="#94a3b8", linewidths=1.1))
    def broken(y: np.ndarray) -> np.ndarray:
        # A jump of more than the window's height between neighbours that crosses the window
        # (from far above to far below, or back) is a pole: no vertical line there.  A steep
        # blow-up out of one edge is kept, so the curve runs off the plot instead of stopping
        # inside it.  Values far outside are clipped: matplotlib then draws them as the same
        # steep line, without huge numbers.
        height, middle = y1 - y0, (y0 + y1) / 2
        with np.errstate(invalid="ignore"):
            y = np.clip(y, y0 - 2 * height, y1 + 2 * height)
            flips = np.sign(y[1:] - middle) != np.sign(y[:-1] - middle)
            jumps = (np.abs(np.diff(y)) > height) & flips
        y[1:][jumps] = np.nan
        return y

    family = [c for c in data.curves if not c.ivp]
    colors = iter(colormaps["viridis"](np.linspace(0.1, 0.85, max(1, len({c.label for c in family})))))
    color_of: dict[str, object] = {}
    for curve in family:
        if curve.label not in color_of:
            color_of[curve.label] = next(colors)
            label = curve.label
        else:
            label = None
        ax.plot(curve.x, broken(curve.y), color=color_of[curve.label], linewidth=1.6, label=label)
    for curve in (c for c in data.curves if c.ivp):
        ax.plot(curve.x, broken(curve.y), color="#dc2626", linewidth=2.8, label=curve.label)
    if data.point is not None:
        x_ic, y_ic = data.point
        ax.plot([x_ic], [y_ic], "o", color="#dc2626", markersize=7, zorder=5,
                label=f"initial point ({x_ic:.3g}, {y_ic:.3g})")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(data.x_name)
    ax.set_ylabel(data.y_name)
    ax.grid(True, alpha=0.25)
    ax.set_title(title or data.title or ("Slope field and solution curves" if data.slopes is not None
                                         else "Solution curves"))
    if data.curves:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


# --------------------------------------------------------------------------- phase line (autonomous equations)


@dataclass
class PhaseLinePicture:
    """The phase line of ``y' = f(y)``: equilibria (value, label, stability) and the direction on
    each interval between them (``(low, high, +1 up / -1 down)``, the ends open: None)."""

    y_name: str
    f_latex: str
    equilibria: list[tuple[float, str, str]]
    intervals: list[tuple[float | None, float | None, int]]


def _phase_line(problem: Problem) -> PhaseLinePicture | None:
    from tutor.engine.methods.autonomous import Autonomous
    from tutor.problem import latex

    analysis = Autonomous._analysis(problem)  # the engine's own analysis, as its steps state it
    if analysis is None:
        return None
    values = [float(e.value) for e in analysis.equilibria]
    bounds = [None, *values, None]
    intervals = [(lo, hi, sign) for lo, hi, sign in zip(bounds, bounds[1:], analysis.signs)]
    equilibria = [(float(e.value), latex(e.value), e.stability) for e in analysis.equilibria]
    return PhaseLinePicture(str(problem.function), latex(sympy.factor(analysis.f)), equilibria, intervals)


def phase_line(problem: Problem, timeout: float = 6.0) -> PhaseLinePicture | None:
    """The phase line of an autonomous first-order equation (None: not one, or not in time)."""
    try:
        return run_bounded(_phase_line, problem, timeout=timeout)
    except (SymbolicTimeout, WorkerCrashed):
        return None


_STABILITY_MARKERS = {  # the textbook's drawing: sink filled, source open, semi-stable half filled
    "asymptotically stable": dict(marker="o", markerfacecolor="#1d4ed8", fillstyle="full"),
    "unstable": dict(marker="o", markerfacecolor="white", fillstyle="full"),
    "semi-stable": dict(marker="o", markerfacecolor="#1d4ed8", fillstyle="bottom", markerfacecoloralt="white"),
}


def phase_line_figure(data: PhaseLinePicture):
    """A vertical phase line: each equilibrium marked by its stability, an arrow on each interval."""
    from matplotlib.figure import Figure

    values = [v for v, _, _ in data.equilibria]
    span = max(values) - min(values) if len(values) > 1 else 2.0
    low, high = min(values) - 0.6 * span, max(values) + 0.6 * span
    fig = Figure(figsize=(4.2, 5.0), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 0], [low, high], color="#334155", linewidth=1.5)
    for lo, hi, sign in data.intervals:
        a = low if lo is None else lo
        b = high if hi is None else hi
        middle, half = (a + b) / 2, min(0.18 * (b - a), 0.12 * span)
        start, end = (middle - half, middle + half) if sign > 0 else (middle + half, middle - half)
        ax.annotate("", xy=(0, end), xytext=(0, start),
                    arrowprops=dict(arrowstyle="-|>", color="#dc2626", linewidth=2.2, mutation_scale=18))
    for value, label, stability in data.equilibria:
        ax.plot([0], [value], markersize=12, markeredgecolor="#1d4ed8", markeredgewidth=1.8, linestyle="none",
                zorder=5, **_STABILITY_MARKERS.get(stability, {}))
        ax.text(0.12, value, f"${data.y_name} = {label}$: {stability}", va="center", fontsize=9)
    ax.set_xlim(-0.5, 1.6)
    ax.set_ylim(low, high)
    ax.set_xticks([])
    ax.set_ylabel(data.y_name)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"Phase line of ${data.y_name}' = {data.f_latex}$", fontsize=10)
    return fig


# --------------------------------------------------------------------------- a numerical answer


def numerical_figure(numerical, x_name: str = "x", y_name: str = "y", closed_form: bool = False):
    """The engine's numerical answer (:class:`tutor.engine.numerical.NumericalSolution`): the accurate
    values as a curve through the table's points, Euler's method beside it, the initial point marked.
    ``closed_form``: the problem has a verified closed form and the student asked for Euler's method."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 4.6), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    points = sorted(numerical.points)
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    ax.plot(xs, ys, ":o", color="#1d4ed8", linewidth=1.2, markersize=6,
            label=f"numerical values ({numerical.method.split(' (')[0]}, tolerance {numerical.tolerance:g}), "
                  "joined by straight lines")
    if numerical.euler:
        ex, ey = [e[0] for e in numerical.euler], [e[1] for e in numerical.euler]
        ax.plot(ex, ey, "--s", color="#f59e0b", linewidth=1.4, markersize=4,
                label=f"Euler's method, h = {numerical.euler_step:g}")
    at = np.argmin(np.abs(xs - numerical.x0)) if len(xs) else None
    if at is not None:
        ax.plot([numerical.x0], [ys[at]], "o", color="#dc2626", markersize=8, zorder=5,
                label=f"initial point ({numerical.x0:.3g}, {ys[at]:.3g})")
    if at is not None:  # the bulk of the values, not a blow-up at the end of the interval
        window = _y_window([Curve("values", xs, ys, ivp=True)], (numerical.x0, float(ys[at])), (-2.0, 2.0))
        ax.set_ylim(*window)
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    ax.grid(True, alpha=0.25)
    ax.set_title(f"Euler's method against the accurate values of the exact solution" if closed_form else
                 "Numerical solution (no closed form found): approximate values, not a formula", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    return fig
