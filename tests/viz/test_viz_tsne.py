"""tsne_coordinates (openTSNE, seeded) and tsne_map (paper Fig. 2a, 8a)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from viz_inputs import config_error

from idprobe.viz import tsne_coordinates, tsne_map


def _clusters(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 10)) * 10
    return centres[np.arange(n) % 3] + rng.normal(size=(n, 10))


def test_same_seed_same_map_other_seed_other_map():
    vectors = _clusters(60)
    first = tsne_coordinates(vectors, seed=3, n_iter=50)
    again = tsne_coordinates(vectors, seed=3, n_iter=50)
    other = tsne_coordinates(vectors, seed=4, n_iter=50)
    assert first.shape == (60, 2)
    assert first.dtype == np.float64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_clusters_stay_apart():
    vectors = _clusters(90)
    coords = tsne_coordinates(vectors, n_iter=100)
    labels = np.arange(90) % 3
    centres = np.array([coords[labels == k].mean(axis=0) for k in range(3)])
    spread = max(np.linalg.norm(coords[labels == k] - centres[k], axis=1).mean() for k in range(3))
    gaps = min(np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3))
    assert gaps > 2 * spread


def test_small_inputs_clip_the_perplexity_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coords = tsne_coordinates(_clusters(5), perplexity=30.0, n_iter=20)
    assert coords.shape == (5, 2)
    assert np.isfinite(coords).all()


@pytest.mark.parametrize(
    ("vectors", "kwargs", "parameter"),
    [
        (np.zeros((4, 3)) + np.arange(4)[:, None], {}, "vectors"),  # fewer than 5 rows
        (np.ones((10, 3)), {}, "vectors"),  # all rows identical
        (np.full((10, 3), np.nan), {}, "vectors"),
        (np.arange(10.0), {}, "vectors"),
        ("vectors", {"seed": -1}, "seed"),
        ("vectors", {"seed": 1.5}, "seed"),
        ("vectors", {"perplexity": 0}, "perplexity"),
        ("vectors", {"perplexity": "30"}, "perplexity"),
        ("vectors", {"n_iter": 0}, "n_iter"),
    ],
)
def test_tsne_coordinates_bad_arguments(vectors, kwargs, parameter):
    data = _clusters(10) if isinstance(vectors, str) else vectors
    with config_error(parameter):
        tsne_coordinates(data, **kwargs)


def test_huge_or_offset_values_give_the_map_of_the_plain_values():
    vectors = _clusters(30)
    plain = tsne_coordinates(vectors, n_iter=30)
    np.testing.assert_allclose(tsne_coordinates(vectors * 1e200, n_iter=30), plain, atol=1e-6)
    np.testing.assert_allclose(tsne_coordinates(vectors + 1e6, n_iter=30), plain, atol=1e-3)


def test_tsne_coordinates_rejects_a_map_that_is_not_finite(monkeypatch):
    import openTSNE

    monkeypatch.setattr(openTSNE.TSNE, "fit", lambda self, x: np.full((x.shape[0], 2), np.nan))
    with config_error("vectors"):
        tsne_coordinates(_clusters(10), n_iter=5)


def test_map_plots_the_given_points_coloured_by_first_appearance():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(12, 2))
    labels = ["sid", "rid", "meta"] * 4
    fig = tsne_map(coords, labels, title="ID representations", legend_title="strategy")
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), coords)
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["sid", "rid", "meta"]
    assert legend.get_title().get_text() == "strategy"
    colours = ax.collections[0].get_facecolors()
    for i in range(12):
        for j in range(12):
            assert np.array_equal(colours[i], colours[j]) == (labels[i] == labels[j])
    # The legend markers use the same colours as the points.
    handle_colours = [to_rgba(h.get_color()) for h in legend.legend_handles]
    assert np.allclose(colours[0][:3], handle_colours[0][:3])
    assert fig.get_suptitle() == "ID representations"


def test_map_with_panels_puts_each_point_in_its_panel():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(9, 2))
    panels = ["meta", "sid", "meta", "sid", "cid", "meta", "cid", "sid", "meta"]
    kinds = ["OOV", "numeric", "$5_off"] * 3
    fig = tsne_map(coords, kinds, panels=panels, legend_title="token kind")
    assert [ax.get_title() for ax in fig.axes] == ["meta", "sid", "cid"]
    for ax in fig.axes:
        mine = [i for i, p in enumerate(panels) if p == ax.get_title()]
        np.testing.assert_array_equal(ax.collections[0].get_offsets(), coords[mine])
    # Shared axes, so spreads compare across panels.
    assert fig.axes[0].get_xlim() == fig.axes[2].get_xlim()
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["OOV", "numeric", "\\$5_off"]


def test_labels_starting_with_an_underscore_keep_their_legend_entry():
    fig = tsne_map(np.arange(10.0).reshape(5, 2), ["_x", "_x", "y", "y", "y"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["_x", "y"]


@pytest.mark.parametrize(
    ("coordinates", "labels", "kwargs", "parameter"),
    [
        (np.zeros((3, 3)), ["a"] * 3, {}, "coordinates"),
        (np.zeros((3, 2)), ["a"] * 2, {}, "labels"),
        (np.zeros((3, 2)), "abc", {}, "labels"),
        (np.zeros((3, 2)), ["a", "b", 3], {}, "labels[2]"),
        (np.zeros((3, 2)), ["a"] * 3, {"panels": ["p"]}, "panels"),
        (np.zeros((3, 2)), ["a"] * 3, {"title": None}, "title"),
        (np.zeros((3, 2)), ["a"] * 3, {"legend_title": 1}, "legend_title"),
    ],
)
def test_tsne_map_bad_arguments(coordinates, labels, kwargs, parameter):
    with config_error(parameter):
        tsne_map(coordinates, labels, **kwargs)


def test_large_maps_are_rasterised_and_still_byte_identical(tmp_path):
    from idprobe.viz import save_figure

    coords = np.random.default_rng(2).normal(size=(6000, 2))
    labels = ["a", "b"] * 3000
    first = tsne_map(coords, labels)
    assert first.axes[0].collections[0].get_rasterized()
    _, svg_a = save_figure(first, tmp_path / "a")
    _, svg_b = save_figure(tsne_map(coords, labels), tmp_path / "b")
    assert svg_a.read_bytes() == svg_b.read_bytes()
    assert b"<image" in svg_a.read_bytes()
