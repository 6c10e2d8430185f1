"""similarity_heatmaps (paper Fig. 1)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_inputs import config_error, similarities

from idprobe.viz import similarity_heatmaps


def _panels(fig: Figure):
    # The last axes is the shared colour bar.
    return fig.axes[:-1]


def test_one_panel_per_strategy_plus_ground_truth_and_one_colour_bar():
    sims = similarities(30)
    truth = np.eye(30)
    fig = similarity_heatmaps(sims, truth, ground_truth_label="adjusted cosine")
    assert isinstance(fig, Figure)
    panels = _panels(fig)
    assert len(panels) == len(sims) + 1
    assert [ax.get_title() for ax in panels] == [*sims, "adjusted cosine"]
    for ax, matrix in zip(panels, [*sims.values(), truth], strict=True):
        np.testing.assert_array_equal(
            np.asarray(ax.collections[0].get_array()).reshape(30, 30), matrix
        )
        mesh = ax.collections[0]
        assert mesh.norm.vmin == -1.0 and mesh.norm.vmax == 1.0
    colour_bar = fig.axes[-1]
    assert colour_bar.get_ylim() == (-1.0, 1.0)


def test_without_ground_truth_only_the_strategies():
    fig = similarity_heatmaps(similarities(5))
    assert len(_panels(fig)) == 3


def test_tick_labels_only_for_small_matrices():
    small = similarity_heatmaps(similarities(20), item_labels=[f"$item_{i}" for i in range(20)])
    labels = [t.get_text() for t in _panels(small)[0].get_xticklabels()]
    assert labels == [f"\\$item_{i}" for i in range(20)]  # "$" escaped: shown verbatim
    small.savefig(__import__("io").BytesIO(), format="png")  # renders without mathtext errors
    large = similarity_heatmaps(similarities(21))
    assert _panels(large)[0].get_xticklabels() == []
    assert _panels(large)[0].get_yticklabels() == []


def test_many_strategies_wrap_into_rows():
    fig = similarity_heatmaps(similarities(4, strategies=[f"s{i}" for i in range(6)]), np.eye(4))
    panels = _panels(fig)
    assert len(panels) == 7
    rows = {round(ax.get_position().y0, 3) for ax in panels}
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("similarities_", "truth", "kwargs", "parameter"),
    [
        ({}, None, {}, "similarities"),
        ([np.eye(2)], None, {}, "similarities"),
        ({1: np.eye(2)}, None, {}, "similarities"),
        ({"a": np.ones((2, 3))}, None, {}, "similarities['a']"),
        ({"a": np.eye(2), "b": np.eye(3)}, None, {}, "similarities['b']"),
        ({"a": np.array([[1.0, np.nan], [0.0, 1.0]])}, None, {}, "similarities['a']"),
        ({"a": np.eye(2)}, np.eye(3), {}, "ground_truth"),
        ({"a": np.eye(2)}, np.ones(2), {}, "ground_truth"),
        ({"a": np.eye(2)}, np.eye(2), {"ground_truth_label": 3}, "ground_truth_label"),
        ({"a": np.eye(2)}, None, {"item_labels": ["x"]}, "item_labels"),
        ({"a": np.eye(2)}, None, {"item_labels": ["x", 2]}, "item_labels[1]"),
    ],
)
def test_bad_arguments(similarities_, truth, kwargs, parameter):
    with config_error(parameter):
        similarity_heatmaps(similarities_, truth, **kwargs)
