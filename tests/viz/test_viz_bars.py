"""metric_bars (Table 4, Fig. 7) and sweep_plot (Fig. 5a line, Fig. 5b bars)."""

from __future__ import annotations

import numpy as np
import pytest
from viz_inputs import METRICS, config_error, entry, metric_table, sweep_series

from idprobe.viz import metric_bars, sweep_plot


def _bars(ax):
    return sorted((p.get_x() + p.get_width() / 2, p.get_height()) for p in ax.patches)


def test_metric_bars_one_bar_per_value_with_whiskers():
    table = metric_table()
    table["sid"]["hr@5"] = {"value": 0.03, "low": None, "high": None}  # no whisker
    del table["cid"]["ndcg@10"]  # a gap
    table["iid"]["hr@10"] = None  # a gap
    table["meta"]["n_users"] = 600  # other keys of a results.json block are ignored
    fig = metric_bars(table, title="sequential")
    (ax,) = fig.axes
    assert len(ax.patches) == 5 * 4 - 2
    heights = sorted(p.get_height() for p in ax.patches)
    expected = sorted(
        cell["value"] for row in table.values() for m, cell in row.items() if m in METRICS and cell
    )
    np.testing.assert_allclose(heights, expected)
    # One whisker collection per label that has intervals.
    assert sum(len(c.get_segments()) for c in ax.collections) == 5 * 4 - 3
    assert [t.get_text() for t in ax.get_xticklabels()] == list(METRICS)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(table)
    assert ax.get_title() == "sequential"


def test_metric_bars_places_each_label_at_the_same_offset_in_every_group():
    table = {"a": {"hr@5": entry(0.1), "mrr": entry(0.2)}, "b": {"mrr": entry(0.3)}}
    fig = metric_bars(table, metrics=["hr@5", "mrr"])
    ax = fig.axes[0]
    centres = [c for c, _ in _bars(ax)]
    np.testing.assert_allclose(centres, [-0.2, 0.8, 1.2])


def test_metric_bars_drops_metrics_nobody_has_and_notes_an_empty_table():
    fig = metric_bars({"a": {"hr@5": entry(0.1)}}, metrics=["hr@5", "rmse"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["hr@5"]
    empty = metric_bars({"a": {"rmse": None}}, metrics=["rmse"])
    assert len(empty.axes[0].patches) == 0
    assert "no values for rmse" in [t.get_text() for t in empty.axes[0].texts]


@pytest.mark.parametrize(
    ("table", "kwargs", "parameter"),
    [
        ({}, {}, "table"),
        ({"a": [1]}, {}, "table['a']"),
        ({"a": {"hr@5": 0.1}}, {}, "table['a']['hr@5']"),
        ({"a": {"hr@5": {"value": 0.1, "low": 0.05}}}, {}, "table['a']['hr@5']"),
        ({"a": {"hr@5": {"value": 0.1, "low": 0.2, "high": 0.3}}}, {}, "table['a']['hr@5']"),
        ({"a": {"hr@5": {"value": 0.1, "lo": 0.0}}}, {}, "table['a']['hr@5']"),
        ({"a": {"hr@5": {"value": "0.1"}}}, {}, "table['a']['hr@5'].value"),
        ({"a": {}}, {"metrics": []}, "metrics"),
        ({"a": {}}, {"metrics": "hr@5"}, "metrics"),
        ({"a": {}}, {"metrics": ["hr@5", "hr@5"]}, "metrics"),
        ({"a": {}}, {"metrics": ["hr@5", 5]}, "metrics[1]"),
        ({"a": {}}, {"title": 1}, "title"),
    ],
)
def test_metric_bars_bad_arguments(table, kwargs, parameter):
    with config_error(parameter):
        metric_bars(table, **kwargs)


def test_sweep_line_over_numeric_values():
    series = sweep_series(4, metrics=("hr@10", "ndcg@10"))
    series["ndcg@10"][2] = None
    fig = sweep_plot([10, 20, 100, 500], series, param="G", title="OOV tokens")
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [10, 20, 100, 500])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [e["value"] for e in series["hr@10"]])
    assert np.isnan(ax.lines[1].get_ydata()[2])  # a gap, not an interpolation
    assert ax.get_xscale() == "log"  # 500 / 10 >= 20
    assert [len(c.get_segments()) for c in ax.collections] == [4, 3]
    assert ax.get_xlabel() == "G"
    assert ax.get_title() == "OOV tokens"


def test_sweep_line_on_a_narrow_range_is_linear():
    fig = sweep_plot([1, 2, 3], sweep_series(3, metrics=("hr@5",)), param="k")
    assert fig.axes[0].get_xscale() == "linear"


def test_sweep_bars_over_categories_and_forced_kinds():
    series = sweep_series(3)
    series["hr@5"][1] = {"value": None}
    fig = sweep_plot(["DBSCAN", "Spectral", "K-Means"], series, param="grouping")
    (ax,) = fig.axes
    assert len(ax.patches) == 3 * 4 - 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DBSCAN", "Spectral", "K-Means"]
    forced_bars = sweep_plot([20, 50], sweep_series(2), param="G", kind="bars")
    assert len(forced_bars.axes[0].patches) == 8
    assert len(forced_bars.axes[0].lines) == 1  # only the zero line
    forced_line = sweep_plot(["item", "user", "user&item"], series, param="range", kind="line")
    assert len(forced_line.axes[0].lines) == 4
    np.testing.assert_array_equal(forced_line.axes[0].lines[0].get_xdata(), [0, 1, 2])


@pytest.mark.parametrize(
    ("values", "series", "kwargs", "parameter"),
    [
        ([], {"m": []}, {}, "values"),
        ("abc", {"m": [None] * 3}, {}, "values"),
        ([1, True], {"m": [None] * 2}, {}, "values[1]"),
        ([1, None], {"m": [None] * 2}, {}, "values[1]"),
        ([1, float("nan")], {"m": [None] * 2}, {}, "values[1]"),
        ([1, "1"], {"m": [None] * 2}, {}, "values"),
        ([1, 2], {}, {}, "series"),
        ([1, 2], {"m": [None]}, {}, "series['m']"),
        ([1, 2], {"m": [None, {"value": 1, "low": 2, "high": 3}]}, {}, "series['m'][1]"),
        ([1, 2], {"m": [None, None]}, {"param": ""}, "param"),
        ([1, 2], {"m": [None, None]}, {"param": 3}, "param"),
        ([1, 2], {"m": [None, None]}, {"kind": "pie"}, "kind"),
        ([1, 2], {"m": [None, None]}, {"title": 0}, "title"),
    ],
)
def test_sweep_bad_arguments(values, series, kwargs, parameter):
    kwargs = {"param": "G", **kwargs}
    with config_error(parameter):
        sweep_plot(values, series, **kwargs)
