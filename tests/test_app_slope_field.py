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


# --------------------------------------------------------------------------- phase line and numerical answer (issue 17)


def test_phase_line_of_an_autonomous_equation() -> None:
    from tutor.slope_field import phase_line, phase_line_figure

    data = phase_line(parse("y' = (y - 1)(y - 2)(y - 3)"))
    assert [(v, s) for v, _, s in data.equilibria] == [
        (1.0, "unstable"), (2.0, "asymptotically stable"), (3.0, "unstable")]
    assert [sign for _, _, sign in data.intervals] == [-1, 1, -1, 1]  # down, up, down, up
    assert data.intervals[0][0] is None and data.intervals[-1][1] is None
    semi = phase_line(parse("y' = y^2 (1 - y)"))
    assert [s for _, _, s in semi.equilibria] == ["semi-stable", "asymptotically stable"]
    fig = phase_line_figure(data)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if "stable" in t.get_text()]
    assert len(labels) == 3 and "unstable" in labels[0] and "asymptotically stable" in labels[1]
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 4
    assert phase_line(parse("y' = x y")) is None  # not autonomous


def test_numerical_answer_is_plotted_with_its_table_and_euler() -> None:
    from tutor.slope_field import numerical_figure

    solution = solve(parse("y' = x^2 + y^2, y(0) = 0"), timeout=30)
    assert solution.status == "numerical"
    fig = numerical_figure(solution.numerical, "x", "y")
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("numerical values") for label in labels)
    assert any(label.startswith("Euler's method") for label in labels)
    assert any(label.startswith("initial point (0, 0)") for label in labels)
    low, high = ax.get_ylim()
    assert -10 < low < 0 < high < 10  # the bulk, not the blow-up near x = +-2
    assert "not a formula" in ax.get_title()


def test_app_shows_the_phase_line_and_the_numerical_plot_only_when_they_apply() -> None:
    import app
    from tutor.teaching import practice_set

    shown = app.teach_phase_line(practice_set("autonomous", 1, 1))
    assert shown["visible"] is True and shown["value"] is not None
    assert app.teach_phase_line(practice_set("separable", 1, 1))["visible"] is False
    *_, (markdown, view, _) = app.solve("y' = x^2 + y^2, y(0) = 0", "symbolic")
    assert view.numerical is not None and view.picture == "numerical"
    shown = app.solve_plot(view)
    assert shown["visible"] is True and shown["label"] == "Numerical solution"
    *_, (markdown, view, _) = app.solve("y' = 2y, y(0) = 1", "symbolic")
    assert view.numerical is None and view.picture == "" and app.solve_plot(view)["visible"] is False


def test_solve_tab_draws_a_slope_field_when_there_is_no_closed_form_and_no_condition() -> None:
    import app

    *_, (markdown, view, _) = app.solve("y' = x^2 + y^2", "symbolic")
    assert "No closed form" in markdown and view.picture == "slope field"
    shown = app.solve_plot(view)
    assert shown["visible"] is True and shown["label"].startswith("Slope field")
    ax = shown["value"].axes[0]
    assert len(ax.get_lines()) >= 3  # a few numerically computed curves over the field
    # a closed form, or a higher-order equation without one: no slope field
    *_, (markdown, view, _) = app.solve("y' = x y", "symbolic")
    assert view.picture == ""


def test_solve_tab_draws_a_systems_phase_portrait() -> None:
    import app

    *_, (markdown, view, _) = app.solve("x' = x + 2y, y' = 3x + 2y", "symbolic")
    assert view.picture == "phase portrait" and view.engine_answer
    shown = app.solve_plot(view)
    assert shown["visible"] is True and shown["label"] == "Phase portrait"


def test_check_tab_previews_no_solution_and_eigenvalue_answers() -> None:
    import app

    text = app._answer_preview("y'' + k y = 0, y(0) = 0, y(pi) = 0", "λ_n = n^2, y_n = sin(n x), n = 1, 2, ...")
    assert "eigenvalues" in text and "k_{n} = n^{2}" in text and "\\sin" in text
    assert "no solution" in app._answer_preview("y'' + y = 0, y(0) = 0, y(pi) = 1", "no solution")


def test_solve_tab_plots_eulers_method_when_the_student_asks_for_it() -> None:
    import app

    *_, (markdown, view, _) = app.solve("y' = y, y(0) = 1, by Euler's method with h = 0.1", "symbolic")
    assert "Verified by substitution." in markdown and "Euler's method with h = 0.1" in markdown
    assert view.picture == "euler"
    shown = app.solve_plot(view)
    assert shown["visible"] is True and shown["label"].startswith("Euler's method")
    assert "exact solution" in shown["value"].axes[0].get_title()
