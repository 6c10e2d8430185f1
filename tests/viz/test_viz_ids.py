"""id_statistics: ID length histogram and new-token counts per strategy."""

from __future__ import annotations

import numpy as np
import pytest
from viz_inputs import config_error

from idprobe.viz import id_statistics


def test_length_bars_and_new_token_bars_with_values_written():
    histograms = {"rid": {"1": 400}, "sid": {1: 40, "2": 360}, "cid": {"3": 350, "4": 50, "5": 0}}
    new = {"rid": 0, "sid": 0, "cid": 4200, "meta": 30}
    fig = id_statistics(histograms, new)
    left, right = fig.axes
    assert len(left.patches) == 5  # zero counts draw no bar
    assert sorted(p.get_height() for p in left.patches) == [40, 50, 350, 360, 400]
    assert [t.get_text() for t in left.get_xticklabels()] == ["1", "2", "3", "4", "5"]
    assert len(right.patches) == 4
    np.testing.assert_array_equal([p.get_height() for p in right.patches], [0, 0, 4200, 30])
    written = sorted(t.get_text() for t in right.texts if t.get_text())
    assert written == sorted(["0", "0", "4200", "30"])
    assert right.get_yscale() == "log"  # 4200 > 100 x 30
    assert [t.get_text() for t in right.get_xticklabels()] == list(new)


def test_linear_scale_for_a_small_range_and_empty_sides():
    fig = id_statistics({}, {"a": 10, "b": 900})
    left, right = fig.axes
    assert right.get_yscale() == "linear"
    assert "no ID lengths" in [t.get_text() for t in left.texts]
    only_lengths = id_statistics({"a": {2: 5}}, {})
    assert "no new-token counts" in [t.get_text() for t in only_lengths.axes[1].texts]


@pytest.mark.parametrize(
    ("histograms", "new", "parameter"),
    [
        ({}, {}, "length_histograms"),
        ([], {}, "length_histograms"),
        ({"a": [1, 2]}, {}, "length_histograms['a']"),
        ({"a": {"x": 1}}, {}, "length_histograms['a'] key"),
        ({"a": {-1: 1}}, {}, "length_histograms['a'] key"),
        ({"a": {"2": 1, 2: 3}}, {}, "length_histograms['a']"),
        ({"a": {"2": -1}}, {}, "length_histograms['a']['2']"),
        ({"a": {"2": 1.5}}, {}, "length_histograms['a']['2']"),
        ({}, {"a": -1}, "new_tokens['a']"),
        ({}, {"a": "3"}, "new_tokens['a']"),
        ({}, {3: 3}, "new_tokens"),
    ],
)
def test_bad_arguments(histograms, new, parameter):
    with config_error(parameter):
        id_statistics(histograms, new)
