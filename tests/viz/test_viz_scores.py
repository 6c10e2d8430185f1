"""ds_ms_scatter (Fig. 2b), score_correlation (Fig. 4), ds_convergence_plot (Fig. 6)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr
from viz_inputs import config_error, convergence_inputs, ds_ms_inputs

from idprobe.viz import ds_convergence_plot, ds_ms_scatter, score_correlation


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_ds_ms_points_at_their_scores_with_initial_markers():
    points, initial = ds_ms_inputs()
    fig = ds_ms_scatter(points, initial=initial)
    (ax,) = fig.axes
    expected = [(p["ds"], p["ms"]) for p in points.values()]
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), expected)
    np.testing.assert_array_equal(
        ax.collections[1].get_offsets(), [(p["ds"], p["ms"]) for p in initial.values()]
    )
    # One arrow per initial point, one label per trained point.
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(initial)
    assert [t for t in _texts(ax) if t] == list(points)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "trained",
        "initial (before training)",
    ]
    assert ax.get_xlabel() == "Diversity Score (DS)"


def test_ds_ms_skips_missing_scores_and_says_so():
    points = {
        "rid": {"ds": 0.2, "ms": 0.01, "ground_truth": "dev_devs"},
        "cid": {"ds": 0.6, "ms": None, "ground_truth": "dev_devs"},
        "iid": {"ds": None, "ms": 0.3},
    }
    fig = ds_ms_scatter(points)
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [(0.2, 0.01)])
    assert len(ax.collections) == 1  # no initial markers, no error bars
    assert "not drawn (DS or MS missing): cid, iid" in _texts(ax)
    assert "dev_devs" in ax.get_ylabel()
    assert ax.get_legend() is None


def test_ds_ms_with_nothing_drawable_shows_a_note():
    fig = ds_ms_scatter({"cid": {"ds": 0.5, "ms": None}})
    (ax,) = fig.axes
    assert len(ax.collections) == 0
    assert "no strategy has both DS and MS" in _texts(ax)


def test_ds_ms_initial_without_scores_is_skipped():
    fig = ds_ms_scatter(
        {"a": {"ds": 0.1, "ms": 0.2}, "b": {"ds": 0.3, "ms": 0.4}},
        initial={"a": {"ds": None, "ms": 0.1}, "b": {"ds": 0.2, "ms": 0.1}},
    )
    np.testing.assert_array_equal(fig.axes[0].collections[1].get_offsets(), [(0.2, 0.1)])


@pytest.mark.parametrize(
    ("points", "initial", "parameter"),
    [
        ({}, None, "points"),
        ({"a": {"ds": 0.1}}, None, "points['a']"),
        ({"a": {"ds": 0.1, "ms": 0.2, "ds_sterr": 0.1}}, None, "points['a']"),
        ({"a": {"ds": 0.1, "ms": "high"}}, None, "points['a'].ms"),
        ({"a": {"ds": float("nan"), "ms": 0.1}}, None, "points['a'].ds"),
        ({"a": {"ds": 0.1, "ms": 0.1, "ds_stderr": -0.1}}, None, "points['a'].ds_stderr"),
        ({"a": {"ds": 0.1, "ms": 0.1, "ground_truth": 3}}, None, "points['a'].ground_truth"),
        ({"a": {"ds": 0.1, "ms": 0.1}}, {"b": {"ds": 0.1, "ms": 0.1}}, "initial"),
        ({"a": {"ds": 0.1, "ms": 0.1}}, {"a": {"ds": 0.1}}, "initial['a']"),
        ({"a": {"ds": 0.1, "ms": 0.1}}, [1], "initial"),
    ],
)
def test_ds_ms_bad_arguments(points, initial, parameter):
    with config_error(parameter):
        ds_ms_scatter(points, initial=initial)


@pytest.mark.parametrize("seed", range(3))
def test_correlation_points_line_and_pearson_r(seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0, 1, 5)
    ys = 0.05 * xs + rng.normal(0, 0.01, 5)
    points = {f"s{i}": (float(x), float(y)) for i, (x, y) in enumerate(zip(xs, ys, strict=True))}
    fig = score_correlation(points, x_label="DS + MS", y_label="NDCG@10")
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.column_stack([xs, ys]))
    assert ax.get_title() == f"Pearson r = {pearsonr(xs, ys)[0]:.2f} (n = 5)"
    (line,) = ax.lines
    slope, intercept = np.polyfit(xs, ys, 1)
    np.testing.assert_allclose(line.get_ydata(), slope * line.get_xdata() + intercept)
    assert [t.get_text() for t in ax.texts] == list(points)
    assert ax.get_xlabel() == "DS + MS"


def test_correlation_with_too_few_points_or_a_constant_has_no_r():
    two = score_correlation({"a": (0.1, 0.2), "b": (0.3, 0.4)})
    assert two.axes[0].get_title() == "n = 2: too few points for Pearson r (needs 3)"
    assert len(two.axes[0].lines) == 0
    empty = score_correlation({})
    assert empty.axes[0].get_title() == "n = 0: too few points for Pearson r (needs 3)"
    assert len(empty.axes[0].collections) == 0
    flat = score_correlation({"a": (0.1, 0.2), "b": (0.1, 0.4), "c": (0.1, 0.5)})
    assert "undefined" in flat.axes[0].get_title()
    assert len(flat.axes[0].lines) == 0


@pytest.mark.parametrize(
    ("points", "kwargs", "parameter"),
    [
        ([(0.1, 0.2)], {}, "points"),
        ({"a": (0.1, 0.2, 0.3)}, {}, "points['a']"),
        ({"a": 0.1}, {}, "points['a']"),
        ({"a": (0.1, float("inf"))}, {}, "points['a']"),
        ({"a": (0.1, None)}, {}, "points['a']"),
        ({"a": (0.1, 0.2)}, {"x_label": 1}, "x_label"),
        ({"a": (0.1, 0.2)}, {"y_label": None}, "y_label"),
    ],
)
def test_correlation_bad_arguments(points, kwargs, parameter):
    with config_error(parameter):
        score_correlation(points, **kwargs)


def test_convergence_error_bars_log_axis_and_exact_lines():
    curves = convergence_inputs(points=4)
    del curves["sports"]["exact"]
    fig = ds_convergence_plot(curves, title="Beauty")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert len(ax.containers) == 2
    for container, curve in zip(ax.containers, curves.values(), strict=True):
        data_line = container.lines[0]
        np.testing.assert_array_equal(data_line.get_xdata(), curve["pair_counts"])
        np.testing.assert_array_equal(data_line.get_ydata(), curve["mean"])
        (bars,) = container.lines[2]
        low_high = np.array([segment[:, 1] for segment in bars.get_segments()])
        np.testing.assert_allclose(low_high, np.column_stack([curve["low"], curve["high"]]))
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert dashed[0].get_ydata()[0] == curves["beauty"]["exact"]
    assert ax.get_legend().get_texts()[-1].get_text() == "exact DS (all pairs)"
    assert ax.get_title() == "Beauty"


def _curve(**change):
    curve = {"pair_counts": [10, 100], "mean": [0.5, 0.5], "low": [0.4, 0.45], "high": [0.6, 0.55]}
    curve.update(change)
    return {"b": curve}


@pytest.mark.parametrize(
    ("curves", "parameter"),
    [
        ({}, "curves"),
        ({"b": {"pair_counts": [1], "mean": [1]}}, "curves['b']"),
        (_curve(extra=1), "curves['b']"),
        (_curve(pair_counts=[0, 100]), "curves['b'].pair_counts"),
        (_curve(pair_counts=[]), "curves['b'].pair_counts"),
        (_curve(mean=[0.5]), "curves['b'].mean"),
        (_curve(low=[0.4, "x"]), "curves['b'].low[1]"),
        (_curve(low=[0.55, 0.45]), "curves['b']"),
        (_curve(exact="all"), "curves['b'].exact"),
    ],
)
def test_convergence_bad_arguments(curves, parameter):
    with config_error(parameter):
        ds_convergence_plot(curves)


def test_convergence_bad_title():
    with config_error("title"):
        ds_convergence_plot(_curve(), title=1)
