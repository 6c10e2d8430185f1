"""The figures of a comparison, drawn from the arrays its variants saved (``runs/*/analysis``).

Each figure is saved as PNG and SVG under ``OUT/figures`` and listed in
``OUT/figures/index.json`` with its title and a one-line reading guide (the report shows both).
Main figures use the compared strategies; sweep variants appear in the sweep figures and in
the DS+MS-vs-NDCG correlation, which is the more telling the more points it has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from idprobe.experiment.config import CompareConfig, Sweep, Variant
from idprobe.metrics import similarity_ground_truth
from idprobe.results import atomic_write_json

__all__ = ["draw_figures"]

_GROUND_TRUTH_LABELS = {
    "adjusted_cosine": "adjusted cosine (eq. 4)",
    "cooccurrence_cosine": "co-occurrence cosine (no ratings)",
}


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _ranking_values(entry: dict[str, Any], task: str, metric: str) -> dict[str, Any]:
    values = entry["tasks"][task]
    low, high = values.get("ci95", {}).get(metric, (None, None))
    return {"value": values[metric], "low": low, "high": high}


def _heatmap_ground_truth(split: Any, items: np.ndarray) -> tuple[np.ndarray, str]:
    """Eq. 4 over co-rating users for the sampled items (co-occurrence without ratings)."""
    view = split.training_view
    kind = "adjusted_cosine" if view.has_ratings else "cooccurrence_cosine"
    truth = similarity_ground_truth(view, kind, items=items)
    matrix = truth.matrix
    dense = np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)
    np.fill_diagonal(dense, 1.0)
    return dense, _GROUND_TRUTH_LABELS[kind]


def draw_figures(
    out: Path,
    variants: list[Variant],
    sweeps: list[Sweep],
    split: Any,
    config: CompareConfig,
    index: Path,
) -> None:
    """Draw every figure of the comparison and write the figure index."""
    from idprobe import viz

    main = [v for v in variants if v.sweep is None]
    runs = {v.label: out / "runs" / v.slug for v in variants}
    analysis = {label: path / "analysis" for label, path in runs.items()}
    metrics = {label: _read(path / "metrics.json") for label, path in runs.items()}
    task = config.ranking_task
    entries: list[dict[str, Any]] = []

    def save(key: str, figure: Any, title: str, caption: str) -> None:
        viz.save_figure(figure, out / "figures" / key)
        entries.append(
            {
                "key": key,
                "title": title,
                "caption": caption,
                "png": f"figures/{key}.png",
                "svg": f"figures/{key}.svg",
            }
        )

    if task is not None:
        table = {
            v.label: {
                m: _ranking_values(metrics[v.label], task, m)
                for m in ("hr@5", "ndcg@5", "hr@10", "ndcg@10")
            }
            for v in main
        }
        save(
            "metrics",
            viz.metric_bars(table, title=f"{task} recommendation, test split"),
            f"HR and NDCG on the {task} task",
            "Taller is better; whiskers are 95% bootstrap intervals over test users: "
            "overlapping whiskers mean the difference may be noise (see the paired tests).",
        )

    items = np.load(analysis[main[0].label] / "items.npz")
    truth, truth_label = _heatmap_ground_truth(split, items["heatmap_items"])
    similarities = {
        v.label: viz.cosine_similarity_matrix(np.load(analysis[v.label] / "items.npz")["heatmap"])
        for v in main
    }
    save(
        "heatmaps",
        viz.similarity_heatmaps(similarities, truth, ground_truth_label=truth_label),
        f"Cosine similarity of {len(truth)} sampled items' ID representations (paper Fig. 1)",
        "A strategy whose panel looks like the ground truth has learned which items are alike; "
        "a uniformly warm panel means the IDs make distinct items look the same.",
    )

    points = [np.load(analysis[v.label] / "items.npz")["tsne"] for v in main]
    coordinates = viz.tsne_coordinates(np.concatenate(points), seed=config.seed)
    labels = [v.label for v, p in zip(main, points, strict=True) for _ in range(len(p))]
    save(
        "tsne_ids",
        viz.tsne_map(coordinates, labels, title="ID representations", legend_title="strategy"),
        "t-SNE of item ID representations (paper Fig. 2a)",
        "Each point is an item's ID representation (the mean of its token embeddings); a "
        "strategy squeezed into a small blob gives its items little room to differ.",
    )

    token_coordinates, kinds, panels = [], [], []
    for v in main:
        tokens = np.load(analysis[v.label] / "tokens.npz")
        if len(tokens["vectors"]) < 5:
            continue
        token_coordinates.append(viz.tsne_coordinates(tokens["vectors"], seed=config.seed))
        kinds.extend(tokens["kinds"].tolist())
        panels.extend([v.label] * len(tokens["vectors"]))
    if token_coordinates:
        save(
            "tsne_tokens",
            viz.tsne_map(
                np.concatenate(token_coordinates),
                kinds,
                panels=panels,
                title="ID token embeddings",
                legend_title="token kind",
            ),
            "t-SNE of the token embeddings IDs are built from (paper Fig. 8a)",
            "One map per strategy; ID tokens that overlap ordinary vocabulary tokens carry "
            "their old meaning, a wide spread of new tokens means room for distinct items.",
        )

    trained, initial = {}, {}
    for v in variants:
        scores = _read(analysis[v.label] / "representations.json")
        trained[v.label], initial[v.label] = scores["trained"], scores["initial"]
    save(
        "ds_ms",
        viz.ds_ms_scatter(
            {v.label: trained[v.label] for v in main},
            initial={v.label: initial[v.label] for v in main},
        ),
        "Diversity against Memorization of ID representations (paper Fig. 2b)",
        "Right is more diverse (DS, higher is better); low is closer to the data's item "
        "similarities (MS is a squared gap, lower is better); hollow markers: at initialisation.",
    )
    if task is not None:
        correlation = {
            v.label: (
                trained[v.label]["ds"] + trained[v.label]["ms"],
                metrics[v.label]["tasks"][task]["ndcg@10"],
            )
            for v in variants
            if trained[v.label]["ms"] is not None
        }
        save(
            "correlation",
            viz.score_correlation(correlation, y_label=f"NDCG@10 ({task})"),
            "DS + MS against NDCG@10 (paper Fig. 4)",
            "The paper's x axis, DS + MS, kept as published although MS (eq. 5) is a gap where "
            "lower is better; with few points read r as a hint, not a finding.",
        )

    curves = {
        v.label: _read(analysis[v.label] / "convergence.json")
        for v in main
        if (analysis[v.label] / "convergence.json").exists()
    }
    save(
        "ds_convergence",
        viz.ds_convergence_plot(curves),
        "Convergence of the sampled Diversity Score (paper Fig. 6)",
        "Bars are 95% intervals over 5 trials; once they sit on the dashed exact value, that "
        "many sampled pairs is enough.",
    )

    maps = []
    for v in main:
        for m in _read(analysis[v.label] / "attention.json")["maps"]:
            maps.append(
                {
                    "title": f"{v.label}: raw user id {m['user']}",
                    "matrix": m["output_matrix"],
                    "row_labels": m["output_labels"],
                    "col_labels": m["group_labels"],
                }
            )
    if maps:
        save(
            "attention",
            viz.attention_heatmap(maps),
            "Attention from the output item to the prompt's IDs (paper Fig. 8b)",
            "Rows are the generated item's ID and the end token, columns the user ID, each history "
            "item's ID and the prompt text (tokens of one ID summed); attention spread evenly over "
            "history "
            "items means the model does not tell them apart.",
        )

    training = {}
    for v in main:
        record = _read(analysis[v.label] / "training.json")
        training[v.label] = {
            "losses": record["losses"],
            "steps_per_epoch": record["steps_per_epoch"],
            "scores": record["scores"],
            "score_name": f"validation {config.select_on}",
        }
    save(
        "training",
        viz.training_curves(training),
        "Training loss and validation score per epoch",
        "A loss still falling at the last epoch means more epochs may help; the selected "
        "epoch is the one with the best validation score.",
    )

    histograms, new_tokens = {}, {}
    for v in main:
        ids = _read(analysis[v.label] / "ids.json")
        histograms[v.label] = ids["items"]["length_histogram"]
        new_tokens[v.label] = ids["new_tokens"]
    save(
        "id_statistics",
        viz.id_statistics(histograms, new_tokens),
        "ID length and new tokens per strategy",
        "Longer IDs cost more decoding steps; every new token is an embedding row the model "
        "must learn from the training data alone.",
    )

    if task is not None:
        for sweep in sweeps:
            series = {
                m: [_ranking_values(metrics[label], task, m) for label in sweep.labels]
                for m in ("hr@10", "ndcg@10")
            }
            save(
                f"sweep_{sweep.name}",
                viz.sweep_plot(list(sweep.values), series, param=sweep.param, title=sweep.title),
                sweep.title,
                f"HR@10 and NDCG@10 ({task}) at each value of {sweep.param}, with 95% "
                "intervals; differences inside the whiskers are not established.",
            )
    atomic_write_json(index, entries)
