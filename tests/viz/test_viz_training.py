"""training_curves: loss per step (smoothed) and validation score per epoch."""

from __future__ import annotations

import numpy as np
import pytest
from viz_inputs import config_error, training_inputs

from idprobe.viz import moving_average, training_curves


def test_two_lines_per_label_on_the_epoch_axis_and_one_score_line():
    curves = training_inputs(60, 20, labels=("rid", "meta"))
    fig = training_curves(curves)
    left, right = fig.axes
    assert len(left.lines) == 4
    raw, smooth = left.lines[0], left.lines[1]
    losses = np.array(curves["rid"]["losses"])
    np.testing.assert_allclose(raw.get_xdata(), np.arange(1, 61) / 20)
    np.testing.assert_allclose(raw.get_ydata(), losses)
    # Default window: a tenth of an epoch (20 // 10 = 2 steps).
    np.testing.assert_allclose(smooth.get_ydata(), moving_average(losses, 2))
    assert left.get_title() == "training loss (trailing mean of 2 steps)"
    assert len(right.lines) == 2
    np.testing.assert_array_equal(right.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(right.lines[0].get_ydata(), curves["rid"]["scores"])
    assert right.get_ylabel() == "ndcg@10"
    # The best epoch is starred.
    stars = right.collections
    assert len(stars) == 2
    np.testing.assert_allclose(stars[0].get_offsets(), [(1, curves["rid"]["scores"][0])])
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["rid", "meta"]


def test_window_option_and_mixed_windows_title():
    curves = training_inputs(40, 20, labels=("a",))
    fig = training_curves(curves, window=5)
    np.testing.assert_allclose(
        fig.axes[0].lines[1].get_ydata(), moving_average(curves["a"]["losses"], 5)
    )
    curves["b"] = {"losses": [1.0] * 300, "steps_per_epoch": 100, "scores": []}
    mixed = training_curves(curves)
    assert mixed.axes[0].get_title() == "training loss (trailing mean of a tenth of an epoch)"


def test_missing_scores_and_non_finite_losses():
    curves = {
        "a": {
            "losses": [3.0, float("nan"), None, 2.0, float("inf"), 1.0],
            "steps_per_epoch": 2,
            "scores": [None, 0.2, None],
        }
    }
    fig = training_curves(curves)
    left, right = fig.axes
    np.testing.assert_allclose(left.lines[0].get_xdata(), [0.5, 2.0, 3.0])
    assert "3 non-finite or missing losses not shown" in [t.get_text() for t in left.texts]
    ys = right.lines[0].get_ydata()
    assert np.isnan(ys[0]) and ys[1] == 0.2 and np.isnan(ys[2])
    assert right.get_ylabel() == "validation score"


def test_all_scores_missing_is_annotated_and_results_json_blocks_are_accepted():
    block = {
        "seconds": 41.2,
        "epochs": 2,
        "best_epoch": None,
        "best_score": None,
        "scores": [None, None],
        "losses": [3.1, 2.9, 2.5, 2.4],
        "steps_per_epoch": 2,
        "examples": 7000,
    }
    fig = training_curves({"meta": block})
    right = fig.axes[1]
    assert len(right.lines) == 0
    assert "no validation scores" in [t.get_text() for t in right.texts]


def test_no_losses_at_all_is_annotated():
    fig = training_curves({"a": {"losses": [], "steps_per_epoch": 1, "scores": [0.1]}})
    assert "no losses recorded" in [t.get_text() for t in fig.axes[0].texts]


def _curve(**change):
    curve = {"losses": [1.0, 0.5], "steps_per_epoch": 1, "scores": [0.1, 0.2]}
    curve.update(change)
    return {"a": curve}


@pytest.mark.parametrize(
    ("curves", "kwargs", "parameter"),
    [
        ({}, {}, "curves"),
        ({"a": {"losses": [1.0]}}, {}, "curves['a']"),
        (_curve(loss_name="x"), {}, "curves['a']"),
        (_curve(losses="1.0"), {}, "curves['a'].losses"),
        (_curve(losses=[1.0, "x"]), {}, "curves['a'].losses[1]"),
        (_curve(steps_per_epoch=0), {}, "curves['a'].steps_per_epoch"),
        (_curve(steps_per_epoch=2.0), {}, "curves['a'].steps_per_epoch"),
        (_curve(scores=[0.1, "x"]), {}, "curves['a'].scores[1]"),
        (_curve(score_name=1), {}, "curves['a'].score_name"),
        (_curve(best_epoch=0), {}, "curves['a'].best_epoch"),
        (_curve(best_epoch=3), {}, "curves['a'].best_epoch"),
        (_curve(), {"window": 0}, "window"),
    ],
)
def test_bad_arguments(curves, kwargs, parameter):
    with config_error(parameter):
        training_curves(curves, **kwargs)


def test_long_runs_are_thinned_after_smoothing():
    losses = list(np.linspace(5.0, 1.0, 10_001))
    fig = training_curves({"a": {"losses": losses, "steps_per_epoch": 1000, "scores": []}})
    raw, smooth = fig.axes[0].lines
    assert len(raw.get_xdata()) <= 2001
    assert raw.get_xdata()[-1] == pytest.approx(10.001)  # the last step is kept
    full = moving_average(losses, 100)
    stride = 6  # ceil(10_001 / 2000)
    np.testing.assert_allclose(smooth.get_ydata()[:-1], full[::stride])
    assert smooth.get_ydata()[-1] == pytest.approx(full[-1])
