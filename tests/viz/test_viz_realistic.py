"""Every figure at the sizes a real comparison produces, drawn and saved in a few seconds."""

from __future__ import annotations

import time

import numpy as np
from matplotlib.figure import Figure
from viz_inputs import (
    STRATEGIES,
    attention_maps,
    convergence_inputs,
    ds_ms_inputs,
    metric_table,
    similarities,
    sweep_series,
    training_inputs,
)

from idprobe import viz

# Generous for a slow, shared 2-core machine; a typical run takes about a third of it.
BUDGET_SECONDS = 20.0


def test_every_figure_at_realistic_size(tmp_path):
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    vectors = rng.normal(size=(2000, 64))
    coords = viz.tsne_coordinates(vectors, n_iter=20)
    assert coords.shape == (2000, 2)
    points, initial = ds_ms_inputs()
    labels = [f"variant {i}" for i in range(8)]
    figures = {
        "heatmaps": viz.similarity_heatmaps(similarities(50, STRATEGIES), np.eye(50)),
        "tsne": viz.tsne_map(coords, [STRATEGIES[i % 5] for i in range(2000)]),
        "tsne_kinds": viz.tsne_map(
            coords,
            ["numeric", "OOV", "text"] * 666 + ["OOV", "OOV"],
            panels=[STRATEGIES[i // 400] for i in range(2000)],
        ),
        "ds_ms": viz.ds_ms_scatter(points, initial=initial),
        "correlation": viz.score_correlation(
            {s: (float(rng.uniform()), float(rng.uniform(0, 0.05))) for s in STRATEGIES}
        ),
        "convergence": viz.ds_convergence_plot(convergence_inputs(points=6)),
        "attention": viz.attention_heatmap(attention_maps(10, 12, count=2)),
        "metric_bars": viz.metric_bars(metric_table(labels)),
        "training": viz.training_curves(training_inputs(3000, 300, labels=STRATEGIES)),
        "ids": viz.id_statistics(
            {s: {str(k): int(rng.integers(0, 500)) for k in range(1, 5)} for s in STRATEGIES},
            {s: int(rng.integers(0, 5000)) for s in STRATEGIES},
        ),
        "sweep_line": viz.sweep_plot([10, 20, 50, 100, 200, 500], sweep_series(6), param="G"),
        "sweep_bars": viz.sweep_plot(
            ["DBSCAN", "Spectral", "RQ-VAE", "K-Means"], sweep_series(4), param="grouping"
        ),
    }
    for key, fig in figures.items():
        assert isinstance(fig, Figure), key
        png, svg = viz.save_figure(fig, tmp_path / "figures" / key)
        assert png.stat().st_size > 1000 and svg.stat().st_size > 1000
    elapsed = time.perf_counter() - start
    assert elapsed < BUDGET_SECONDS, f"{elapsed:.1f} s"
    # Rasterised 50 x 50 heatmaps keep the SVG small (no 2,500 paths per panel).
    assert (tmp_path / "figures" / "heatmaps.svg").stat().st_size < 1_000_000
