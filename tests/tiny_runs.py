"""Tiny run and compare settings shared by the training, introspection, compare, CLI and notebook
tests: 60 users x 30 planted items train in about a second on one thread."""

from __future__ import annotations

from typing import Any

TINY_DATA = {"n_users": 60, "n_items": 30, "mean_length": 6}
TINY_META = {"n_clusters": 4, "walks_per_node": 2, "walk_length": 8, "epochs": 1}
TINY_RUN = {"epochs": 1, "batch_size": 16, "vocab_size": 300, "tasks": ["sequential"]}
TINY_OPTIONS = {
    "dataset": "synthetic",
    "data_options": TINY_DATA,
    "strategy_params": {"meta": TINY_META},
    "run": TINY_RUN,
    "validation_users": 20,
    "beams": 10,
    "heatmap_items": 10,
    "tsne_points": 30,
    "ds_pairs": 200,
    "convergence_pairs": [10, 50],
}


def tiny_settings(**overrides: Any) -> Any:
    """RunSettings of one tiny run (sid, one epoch, both default tasks), with ``overrides``."""
    from idprobe.training.run import RunSettings  # torch: only for the tests that train

    values = {
        "dataset": "synthetic",
        "data_options": TINY_DATA,
        "strategy": "sid",
        "epochs": 1,
        "batch_size": 16,
        "threads": 1,
        "vocab_size": 300,
    }
    values.update(overrides)
    return RunSettings(**values)
