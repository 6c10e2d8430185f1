"""Inputs for every figure of idprobe.viz: small ones (fast unit tests) and realistic ones
(the sizes a comparison of five strategies produces), shared by the viz test files."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from idprobe import viz
from idprobe.errors import ConfigError

STRATEGIES = ("rid", "sid", "cid", "iid", "meta")
METRICS = ("hr@5", "ndcg@5", "hr@10", "ndcg@10")


def config_error(parameter: str):
    """``pytest.raises`` for a ConfigError whose message starts with ``parameter``."""
    return pytest.raises(ConfigError, match="^" + re.escape(parameter) + ": expected ")


def entry(value: float, spread: float = 0.1) -> dict[str, float]:
    return {"value": value, "low": value * (1 - spread), "high": value * (1 + spread)}


def similarities(n: int, strategies=STRATEGIES[:3], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        s: viz.cosine_similarity_matrix(rng.normal(size=(n, 8)) + (2.0 if s != "meta" else 0.0))
        for s in strategies
    }


def attention_maps(rows: int, cols: int, count: int = 2, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "title": f"{s}: user 17",
            "matrix": rng.dirichlet(np.ones(cols), size=rows),
            "row_labels": [f"<CT{18 + r}>" if r else "$5_off" for r in range(rows)],
            "col_labels": ["user_17", *[f"item {c}" for c in range(1, cols)]],
        }
        for s in ("sid", "meta", "cid", "rid")[:count]
    ]


def metric_table(labels=STRATEGIES, seed: int = 0) -> dict[str, dict[str, dict]]:
    rng = np.random.default_rng(seed)
    return {label: {m: entry(float(rng.uniform(0.01, 0.08))) for m in METRICS} for label in labels}


def training_inputs(steps: int, steps_per_epoch: int, labels=STRATEGIES[:2], seed: int = 0):
    rng = np.random.default_rng(seed)
    epochs = max(1, steps // steps_per_epoch)
    return {
        label: {
            "losses": list(3 * np.exp(-np.arange(steps) / (steps / 3)) + rng.normal(0, 0.1, steps)),
            "steps_per_epoch": steps_per_epoch,
            "scores": [float(x) for x in rng.uniform(0.0, 0.05, epochs)],
            "score_name": "ndcg@10",
            "best_epoch": 1,
        }
        for label in labels
    }


def convergence_inputs(labels=("beauty", "sports"), points: int = 5) -> dict:
    counts = [10 ** (2 + k) for k in range(points)]
    return {
        label: {
            "pair_counts": counts,
            "mean": [0.5 + 0.1 * i] * points,
            "low": [0.5 + 0.1 * i - 0.1 / (k + 1) for k in range(points)],
            "high": [0.5 + 0.1 * i + 0.1 / (k + 1) for k in range(points)],
            "exact": 0.5 + 0.1 * i,
        }
        for i, label in enumerate(labels)
    }


def ds_ms_inputs(labels=STRATEGIES) -> tuple[dict, dict]:
    points = {
        label: {"ds": 0.1 * (i + 1), "ms": 0.01 * (i + 1), "ds_stderr": 0.01}
        for i, label in enumerate(labels)
    }
    initial = {label: {"ds": 0.05 * (i + 1), "ms": 0.0} for i, label in enumerate(labels)}
    return points, initial


def sweep_series(n: int, metrics=METRICS, seed: int = 0) -> dict[str, list[dict]]:
    rng = np.random.default_rng(seed)
    return {m: [entry(float(rng.uniform(0.01, 0.08))) for _ in range(n)] for m in metrics}


def small_builders() -> dict[str, Callable[[], object]]:
    """One small call of every drawing function (keyed by a figure name)."""
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(30, 2))
    points, initial = ds_ms_inputs()
    return {
        "heatmaps": lambda: viz.similarity_heatmaps(similarities(12), np.eye(12)),
        "tsne_map": lambda: viz.tsne_map(coords, ["a", "b", "$c_1$"] * 10, legend_title="kind"),
        "tsne_panels": lambda: viz.tsne_map(
            coords, ["x", "y"] * 15, panels=["rid"] * 10 + ["meta"] * 20, title="t"
        ),
        "ds_ms": lambda: viz.ds_ms_scatter(points, initial=initial),
        "correlation": lambda: viz.score_correlation(
            {"a": (0.1, 0.2), "b": (0.3, 0.1), "c": (0.5, 0.4)}
        ),
        "convergence": lambda: viz.ds_convergence_plot(convergence_inputs()),
        "attention": lambda: viz.attention_heatmap(attention_maps(3, 5)),
        "metric_bars": lambda: viz.metric_bars(metric_table(), title="sequential"),
        "training": lambda: viz.training_curves(training_inputs(60, 20)),
        "ids": lambda: viz.id_statistics(
            {"rid": {"1": 40}, "meta": {"2": 30, "3": 10}}, {"rid": 0, "meta": 25, "cid": 4000}
        ),
        "sweep_line": lambda: viz.sweep_plot([10, 20, 50], sweep_series(3), param="G"),
        "sweep_bars": lambda: viz.sweep_plot(
            ["DBSCAN", "K-Means"], sweep_series(2), param="method"
        ),
    }
