"""attention_heatmap (paper Fig. 8b)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from viz_inputs import attention_maps, config_error

from idprobe.viz import attention_heatmap


def _unescaped(labels) -> list[str]:
    return [label.get_text().replace("\\$", "$") for label in labels]


def test_one_panel_per_map_with_its_labels_and_a_shared_scale():
    maps = attention_maps(3, 5, count=2)
    maps[1]["matrix"] = maps[1]["matrix"] * 0.5
    fig = attention_heatmap(maps)
    panels, colour_bar = fig.axes[:-1], fig.axes[-1]
    assert len(panels) == 2
    top = max(m["matrix"].max() for m in maps)
    for ax, item in zip(panels, maps, strict=True):
        assert ax.get_title() == item["title"]
        mesh = ax.collections[0]
        np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(3, 5), item["matrix"])
        assert (mesh.norm.vmin, mesh.norm.vmax) == (0.0, top)
        assert _unescaped(ax.get_yticklabels()) == item["row_labels"]
        assert _unescaped(ax.get_xticklabels()) == item["col_labels"]
        # Small panels carry their weights as text.
        assert len(ax.texts) == 15
    assert colour_bar.get_ylim() == (0.0, top)


def test_labels_with_dollars_underscores_and_brackets_render():
    maps = [
        {
            "title": "meta: user $17_x",
            "matrix": np.array([[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]]),
            "row_labels": ["<CT18>", "$5_off"],
            "col_labels": ["user_17", "$a$b^c", "{x}_\\alpha"],
        }
    ]
    fig = attention_heatmap(maps)
    ax = fig.axes[0]
    assert _unescaped(ax.get_xticklabels()) == maps[0]["col_labels"]
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # mathtext would fail on "$a$b^c" or "{x}_\alpha"
    fig.savefig(io.BytesIO(), format="svg")
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_long_labels_are_shortened_and_large_panels_unannotated():
    maps = attention_maps(12, 10, count=1)
    maps[0]["col_labels"][3] = "x" * 100
    fig = attention_heatmap(maps)
    ax = fig.axes[0]
    shortened = ax.get_xticklabels()[3].get_text()
    assert len(shortened) == 40 and shortened.endswith("…")
    assert len(ax.texts) == 0


def test_all_zero_maps_draw():
    maps = attention_maps(2, 2, count=1)
    maps[0]["matrix"] = np.zeros((2, 2))
    fig = attention_heatmap(maps)
    assert fig.axes[0].collections[0].norm.vmax == 1.0


def _map(**change):
    item = {"title": "t", "matrix": [[0.5, 0.5]], "row_labels": ["r"], "col_labels": ["a", "b"]}
    item.update(change)
    return [item]


@pytest.mark.parametrize(
    ("maps", "parameter"),
    [
        ([], "maps"),
        ("maps", "maps"),
        ([{"title": "t"}], "maps[0]"),
        (_map(extra=1), "maps[0]"),
        (_map(title=None), "maps[0].title"),
        (_map(matrix=[[0.5, -0.1]]), "maps[0].matrix"),
        (_map(matrix=[0.5, 0.5]), "maps[0].matrix"),
        (_map(matrix=[[0.5, np.nan]]), "maps[0].matrix"),
        (_map(row_labels=["r", "s"]), "maps[0].row_labels"),
        (_map(col_labels=["a", 2]), "maps[0].col_labels[1]"),
    ],
)
def test_bad_arguments(maps, parameter):
    with config_error(parameter):
        attention_heatmap(maps)
