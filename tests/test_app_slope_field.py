"""tutor.slope_field: the Teach tab's slope field and solution curves (arrays and the figure)."""
from __future__ import annotations

import numpy as np

from tutor import parse, solve
from tutor.slope_field import GRID_X, GRID_Y, figure, slope_field


def test_first_order_field_family_and_ivp_curve() -> None:
    problem = parse("y' + 2y = e^(-x), y(0) = 1")
    field = slope_field(problem, solve(problem).answer)
    assert field is not None and field.slopes is not None
    assert field.slopes.shape == (GRID_Y, GRID_X)
    # The slopes are y' = e^(-x) - 2y at the grid points.
    expected = np.exp(-field.grid_x) - 2 * field.grid_y
    assert np.allclose(field.slopes, expected)
    assert field.point == (0.0, 1.0)
    ivp = [c for c in field.curves if c.ivp]
    assert len(ivp) == 1
    at_zero = np.interp(0.0, ivp[0].x, ivp[0].y)
    assert abs(at_zero - 1.0) < 1e-6  # through the initial point: y = e^(-x)
    family = [c for c in field.curves if not c.ivp]
    assert len(family) >= 5 and all(np.isfinite(c.y).sum() > 10 for c in family)


def test_family_from_an_explicit_general_answer_uses_several_constants() -> None:
    problem = parse("y' = x y")
    field = slope_field(problem, solve(problem).answer)
    labels = {c.label for c in field.curves}
    assert {"C = -1", "C = 0", "C = 1"} <= labels
    curve = next(c for c in field.curves if c.label == "C = 1")
    assert np.allclose(curve.y, np.exp(curve.x ** 2 / 2))


def test_numeric_curves_follow_the_field_for_implicit_answers() -> None:
    problem = parse("(2x + y) dx + (x + 2y) dy = 0, y(1) = 1")
    field = slope_field(problem, None)  # no answer: integrate y' = -(2x + y)/(x + 2y) numerically
    ivp = next(c for c in field.curves if c.ivp)
    ok = np.isfinite(ivp.y)
    # Along the numeric curve x^2 + x y + y^2 stays at its initial value 3.
    invariant = ivp.x[ok] ** 2 + ivp.x[ok] * ivp.y[ok] + ivp.y[ok] ** 2
    assert ok.sum() > 20 and np.allclose(invariant, 3.0, atol=1e-2)


def test_higher_order_has_curves_but_no_field_and_parameters_are_noted() -> None:
    problem = parse("y'' + 9y = 0, y(0) = 1, y'(0) = 3")
    field = slope_field(problem, solve(problem).answer)
    assert field.slopes is None and "first-order" in field.note
    curve = field.curves[0]
    assert np.allclose(curve.y, np.cos(3 * curve.x) + np.sin(3 * curve.x))
    cooling = parse("T' = -k(T - 20), T(0) = 90")
    assert "set to 1" in slope_field(cooling, solve(cooling).answer).note


def test_figure_draws_the_field_and_curves() -> None:
    problem = parse("y' = y^2 - 2/x^2")
    field = slope_field(problem, solve(problem).answer)
    fig = figure(field)
    ax = fig.axes[0]
    assert len(ax.collections) == 1  # the field's segments
    assert len(ax.lines) == len(field.curves)
    assert ax.get_xlim() == field.x_range


def _finite_values(field) -> np.ndarray:
    return np.concatenate([c.y[np.isfinite(c.y)] for c in field.curves])


def test_growing_second_order_family_gets_a_window_for_its_bulk_not_its_blow_ups() -> None:
    # y = C1 + C2 e^{-4x} - x/4 on [-3, 3]: half the curves reach ~1.6e5 on the left, and the old
    # percentile window ran to ~4300, where every curve looked flat.
    problem = parse("y'' + 4y' = -1")
    field = slope_field(problem, solve(problem).answer)
    lo, hi = field.y_range
    values = _finite_values(field)
    assert np.abs(values).max() > 1e4  # the blow-ups are there ...
    assert -50 < lo < 0 < hi < 50  # ... but the window is set by the bulk of the values
    assert ((values >= lo) & (values <= hi)).mean() > 0.6
    # Most curves use a good part of the window's height instead of lying flat along y = 0.
    spans = []
    for curve in field.curves:
        y = curve.y[np.isfinite(curve.y)]
        y = y[(y >= lo) & (y <= hi)]
        spans.append((y.max() - y.min()) / (hi - lo) if y.size else 0.0)
    assert np.median(spans) > 0.3


def test_growing_ivp_keeps_its_initial_point_and_curve_in_view_and_marks_the_point() -> None:
    problem = parse("y''' - 4y'' - 2y' + 20y = 0, y(0) = 0, y'(0) = 1, y''(0) = 0")
    field = slope_field(problem, solve(problem).answer)
    lo, hi = field.y_range
    assert field.point == (0.0, 0.0) and lo < 0.0 < hi
    assert hi - lo < 50  # the curve dives to about -2000 at x = 3; the window follows its start
    ivp = next(c for c in field.curves if c.ivp)
    near = np.abs(ivp.x) <= 0.5
    assert np.all((ivp.y[near] > lo) & (ivp.y[near] < hi))  # the curve around the initial point is visible
    ax = figure(field).axes[0]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(markers) == 1 and tuple(markers[0].get_xydata()[0]) == field.point
    assert "initial point" in markers[0].get_label()


def test_first_order_ivp_point_is_plotted() -> None:
    problem = parse("y' + 2y = e^(-x), y(0) = 1")
    ax = figure(slope_field(problem, solve(problem).answer)).axes[0]
    assert any(line.get_marker() == "o" and tuple(line.get_xydata()[0]) == (0.0, 1.0) for line in ax.lines)


def test_a_curve_that_blows_up_runs_off_the_plot_instead_of_stopping_inside_it() -> None:
    problem = parse("y'' + 4y' = -1")
    field = slope_field(problem, solve(problem).answer)
    ax = figure(field).axes[0]
    lo, hi = field.y_range
    curve = next(c for c in field.curves if c.label == "C1 = 1, C2 = 1")  # 1 + e^{-4x} - x/4
    drawn = next(line for line in ax.lines if line.get_label() == curve.label).get_ydata()
    assert np.nanmax(drawn) > hi  # drawn up to (and past) the top edge, clipped to a finite value
    assert np.all(np.isfinite(drawn))  # no gap: it is a blow-up, not a pole
