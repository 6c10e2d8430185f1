"""``compare``: every strategy from data to a report, each stage cached in the output directory.

Stages, in order (module :mod:`idprobe.experiment.stages` for the caching rule):

1. per variant (one training run per strategy and sweep point, side by side with ``workers``):
   train with validation-based selection, evaluate on the test split, DS/MS of the trained and
   the initial ID representations, the arrays behind the figures;
2. per classic baseline (``baselines``), in ``OUT/runs/<name>``: ``train`` (training with its
   own validation-based selection, then the test evaluation) and ``evaluate`` (redone alone
   when only ``eval_users``, ``beams`` or ``filtered`` change), after the variants;
3. paired significance of every variant and baseline against the best, per ranking task
   (baselines on the sequential task only);
4. the figures (PNG + SVG) of the strategies, cached on the keys of everything they read;
5. ``results.json`` and ``report.html``, rewritten every time (they are cheap and carry the
   provenance of this call).

``OUT/compare.toml`` holds the resolved configuration; ``idprobe compare --config`` re-runs it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from baselines import MODELS, Recipe
from baselines.recipes import RECIPE_DIR, dataset_key
from idprobe.data import dataset_stats, leave_one_out
from idprobe.errors import IdprobeError
from idprobe.evaluation.generative import compare_runs
from idprobe.experiment.config import CompareConfig, Sweep, Variant
from idprobe.experiment.figures import draw_figures
from idprobe.experiment.stages import StageCache, stage_key
from idprobe.experiment.variant import ANALYSIS, VariantJob, run_variant
from idprobe.ids.base import data_fingerprint
from idprobe.reporting import render_report
from idprobe.results import ComparisonResult, Provenance, atomic_write_text

__all__ = ["compare", "run_comparison"]

log = logging.getLogger(__name__)

_RANKING_METRICS = ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr")
_TESTED_METRICS = ("hr@10", "ndcg@10")
_BASELINE_OPTIONS = ("baselines", "baseline_params")
# The only task a classic baseline is evaluated on (it ranks next items).
_BASELINE_TASK = "sequential"


def compare(
    strategies: Sequence[str] = ("rid", "sid", "cid", "iid", "meta"),
    out: str | Path = "runs/compare",
    *,
    resume: bool = False,
    progress: bool = True,
    **options: Any,
) -> ComparisonResult:
    """Build, train, evaluate and explain each strategy; write ``out/results.json`` and
    ``out/report.html`` and return the :class:`~idprobe.results.ComparisonResult`.

    ``options`` are the fields of :class:`~idprobe.experiment.config.CompareConfig` (dataset,
    run settings, sweeps, evaluation and figure knobs); an unknown one is an error naming it.
    A repeated call reuses every finished stage whose inputs are unchanged; ``resume``
    continues an interrupted training run from its last checkpoint instead of restarting it.
    """
    config = CompareConfig.from_dict({"strategies": strategies, **options})
    return run_comparison(config, out, resume=resume, progress=progress)


def run_comparison(
    config: CompareConfig, out: str | Path, *, resume: bool = False, progress: bool = True
) -> ComparisonResult:
    """:func:`compare` for a resolved configuration."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "compare.toml", config.to_toml())
    variants, sweeps = config.variants()
    first = variants[0].settings
    data = first.load_data()
    split = leave_one_out(data, max_his=first.max_history)
    heatmap_items, tsne_items = _sample_items(split, config)
    users = _attention_users(split, config)
    level = log.getEffectiveLevel() if logging.getLogger().handlers else None
    jobs = [
        VariantJob(
            variant=v,
            out=out,
            config=config.to_dict(),
            heatmap_items=heatmap_items,
            tsne_items=tsne_items,
            attention_users=users,
            resume=resume,
            progress=progress and config.workers == 1,
            log_level=level,
        )
        for v in variants
    ]
    log.info(
        "%d runs (%s) with %d worker(s) in %s",
        len(jobs),
        ", ".join(v.label for v in variants),
        config.workers,
        out,
    )
    keys = _run_jobs(jobs, config.workers)
    fingerprint = data_fingerprint(split.training_view)
    for name in config.baselines:
        _run_baseline(out, config, name, fingerprint, resume=resume)
    significance = _significance(out, variants, config)
    figures: list[dict[str, Any]] = []
    if config.figures:
        # The figures draw the strategies only: the baselines' fields stay out of their key.
        drawn = {k: v for k, v in config.to_dict().items() if k not in _BASELINE_OPTIONS}
        figure_key = stage_key("figures", keys, drawn)
        cache = StageCache(out, "figures")
        index = out / "figures" / "index.json"
        cache.run(
            "figures",
            figure_key,
            lambda: draw_figures(out, variants, sweeps, split, config, index),
        )
        figures = json.loads(index.read_text())
    result = _assemble(out, config, data, split, variants, sweeps, significance, figures)
    result.save(out)
    render_report(out)
    log.info("report: %s", out / "report.html")
    return result


# ------------------------------------------------------------------------------------ sampling


def _sample_items(split: Any, config: CompareConfig) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Dense indices of the items of the heatmaps and of the t-SNE map: seeded samples of the
    items seen in training (every variant draws the same ones)."""
    view = split.training_view
    seen = np.flatnonzero(np.bincount(view.item_index, minlength=view.n_items) > 0)
    rng = np.random.default_rng([config.seed, 6])
    heatmap = np.sort(rng.choice(seen, size=min(config.heatmap_items, seen.size), replace=False))
    tsne = np.sort(rng.choice(seen, size=min(config.tsne_points, seen.size), replace=False))
    return tuple(heatmap.tolist()), tuple(tsne.tolist())


def _attention_users(split: Any, config: CompareConfig) -> tuple[str, ...]:
    """Seeded test users for the attention maps (the same users for every variant)."""
    if config.attention_users == 0 or config.ranking_task is None:
        return ()
    users = split.interactions.users
    rng = np.random.default_rng([config.seed, 8])
    chosen = rng.choice(len(users), size=min(config.attention_users, len(users)), replace=False)
    return tuple(str(users[i]) for i in sorted(chosen.tolist()))


# ------------------------------------------------------------------------------------ running


def _job(job: VariantJob) -> dict[str, Any]:
    """Worker entry: input errors come back as text (their classes do not all unpickle)."""
    try:
        return {"keys": run_variant(job)}
    except IdprobeError as error:
        return {"error": str(error)}


def _run_jobs(jobs: list[VariantJob], workers: int) -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {}
    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            keys[job.variant.label] = run_variant(job)
        return keys
    # spawn, not fork: torch and the numba threading layer are not fork-safe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(_job, job): job.variant.label for job in jobs}
        for future in as_completed(futures):
            label = futures[future]
            outcome = future.result()
            if "error" in outcome:
                for other in futures:
                    other.cancel()
                raise IdprobeError(f"{label}: {outcome['error']}")
            keys[label] = outcome["keys"]
            log.info("[%s] all stages done", label)
    return {job.variant.label: keys[job.variant.label] for job in jobs}


def _run_baseline(
    out: Path, config: CompareConfig, name: str, fingerprint: dict[str, Any], *, resume: bool
) -> dict[str, str]:
    """Train (or reuse) baseline ``name`` in ``OUT/runs/<name>`` and evaluate it on the
    comparison's test users; returns its stage keys.

    ``train`` hashes the resolved settings (recipe and ``baseline_params`` included) and the
    data; it evaluates too, so ``evaluate`` (which also hashes ``eval_users``, ``beams`` = the
    rank depth, and ``filtered``) only runs by itself when those changed on a trained model.
    """
    settings, recipe = config.baseline_settings(name)
    directory = out / "runs" / name
    train_key = stage_key("baseline", settings.to_dict(), fingerprint)
    evaluate_key = stage_key(
        "baseline-evaluate", train_key, config.eval_users, config.beams, config.filtered
    )
    cache = StageCache(directory, name)
    evaluation = {"eval_users": config.eval_users, "filtered": config.filtered}
    evaluation["depth"] = config.beams  # MRR@beams, like the generative runs' N beams

    trained = False
    if not cache.done("train", train_key):
        again = cache.prepare_training("train", train_key, resume)

        def do_train() -> None:
            from baselines.run import train_baseline  # torch: only when a baseline trains

            train_baseline(settings, directory, recipe=recipe, resume=again, **evaluation)

        trained = cache.run("train", train_key, do_train)

    def do_evaluate() -> None:
        if trained:  # train_baseline has just evaluated with these very arguments
            return
        from baselines.run import evaluate_baseline, load_baseline
        from idprobe.training.threads import torch_threads

        model, data, loaded = load_baseline(directory)
        with torch_threads(loaded.threads):
            evaluate_baseline(model, data, loaded, directory, **evaluation)

    cache.run("evaluate", evaluate_key, do_evaluate)
    return {"train": train_key, "evaluate": evaluate_key}


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _significance(
    out: Path, variants: list[Variant], config: CompareConfig
) -> list[dict[str, Any]]:
    """Paired randomisation test of every variant (and, on the sequential task, every
    baseline) against the best, per ranking task and on HR@10 and NDCG@10 (the users are the
    same for every run: same seed and data)."""
    tasks = [t for t in ("sequential", "direct") if t in variants[0].settings.tasks]
    tests = []
    for task in tasks:
        slug = {v.label: v.slug for v in variants}
        if task == _BASELINE_TASK:
            slug.update({name: name for name in config.baselines})
        for metric in _TESTED_METRICS:
            values = {
                label: _read(out / "runs" / directory / "metrics.json")["tasks"][task][metric]
                for label, directory in slug.items()
            }
            best = max(values, key=lambda label: values[label])
            for label in values:
                if label == best:
                    continue
                test = compare_runs(
                    out / "runs" / slug[best],
                    out / "runs" / slug[label],
                    task=task,
                    metric=metric,
                    seed=config.seed,
                )
                tests.append(
                    {
                        "task": task,
                        "metric": metric,
                        "best": best,
                        "against": label,
                        "difference": float(test.mean_difference),
                        "p_value": float(test.p_value),
                        "n_users": int(test.n),
                        "significant": bool(test.p_value < 0.05),
                    }
                )
    return tests


# ------------------------------------------------------------------------------------ results


def _metrics(path: Path) -> dict[str, Any]:
    out = {}
    for task, values in _read(path)["tasks"].items():
        entry: dict[str, Any] = {}
        intervals = values.get("ci95", {})
        for name, value in values.items():
            if name in ("n_users", "template", "ci95", "details", "seconds", "ms_per_user"):
                continue
            low, high = intervals.get(name, (None, None))
            entry[name] = {"value": value, "low": low, "high": high}
        entry["n_users"] = values["n_users"]
        entry["cold_targets"] = values.get("details", {}).get("cold_targets")
        entry["ms_per_user"] = values.get("ms_per_user")
        out[task] = entry
    return out


def _kind_stats(stats: dict[str, Any] | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    keys = ("entities", "length_histogram", "distinct_tokens", "largest_group", "prefix_violations")
    return {k: stats[k] for k in keys}


def _variant_entry(out: Path, variant: Variant) -> dict[str, Any]:
    directory = out / "runs" / variant.slug
    ids = _read(directory / ANALYSIS / "ids.json")
    return {
        "label": variant.label,
        "kind": "strategy",
        "strategy": variant.settings.strategy,
        "slug": variant.slug,
        "settings": variant.settings.to_dict(),
        "ids": {
            "new_tokens": ids["new_tokens"],
            "tokens_with_vectors": ids["tokens_with_vectors"],
            "items": _kind_stats(ids["items"]),
            "users": _kind_stats(ids["users"]),
            "cold_items": ids["cold_items"],
            "cold_users": ids["cold_users"],
            "leak": ids["leak"],
        },
        "training": _read(directory / ANALYSIS / "training.json"),
        "metrics": _metrics(directory / "metrics.json"),
        "representations": _read(directory / ANALYSIS / "representations.json"),
    }


def _recipe_entry(recipe: Recipe | None) -> dict[str, Any] | None:
    """The recipe as results.json keeps it: its path relative to the installed package
    (``baselines/recipes/<dataset>/<model>.toml``), so the file reads the same everywhere."""
    if recipe is None:
        return None
    values = recipe.to_dict()
    path = Path(recipe.path).resolve()
    if path.is_relative_to(RECIPE_DIR.resolve().parent.parent):
        values["path"] = path.relative_to(RECIPE_DIR.resolve().parent.parent).as_posix()
    return values


def _baseline_entry(out: Path, config: CompareConfig, name: str) -> dict[str, Any]:
    """A baseline's row of results.json: the same keys as a variant's, ``kind`` baseline, no
    IDs and no representations; ``recipe_dataset_matches`` says whether the recipe's
    published numbers were measured on this comparison's dataset."""
    directory = out / "runs" / name
    settings, recipe = config.baseline_settings(name)
    return {
        "label": name,
        "kind": "baseline",
        "strategy": None,
        "model": name,
        "slug": name,
        "description": MODELS[name],
        "settings": settings.to_dict(),
        "recipe": _recipe_entry(recipe),
        "recipe_dataset_matches": recipe is not None
        and recipe.dataset == dataset_key(config.dataset),
        "ids": None,
        "training": _read(directory / "history.json"),
        "metrics": _metrics(directory / "metrics.json"),
        "representations": None,
    }


def _warnings(
    entries: list[dict[str, Any]], config: CompareConfig, split: Any
) -> list[dict[str, Any]]:
    warnings = []
    cold = split.cold_test_targets
    if cold:
        warnings.append(
            {
                "variant": None,
                "kind": "cold_targets",
                "message": f"{cold} test targets never occur in any training part: no ID "
                "strategy can learn them, so every strategy's HR/NDCG is capped below 1",
            }
        )
    for entry in entries:
        if entry.get("kind") == "baseline":
            if entry.get("recipe") is None:
                warnings.append(
                    {
                        "variant": entry["label"],
                        "kind": "no_recipe",
                        "message": f"{entry['label']}: no recipe for dataset "
                        f"{dataset_key(config.dataset)}: model defaults used",
                    }
                )
            continue
        label, ids = entry["label"], entry["ids"]
        for kind in ("items", "users"):
            stats = ids[kind]
            if stats and stats["prefix_violations"]:
                warnings.append(
                    {
                        "variant": label,
                        "kind": "collisions",
                        "message": f"{stats['prefix_violations']} {kind[:-1]} IDs are a prefix of "
                        "another ID: constrained decoding cannot tell them from its start",
                    }
                )
        leak = ids["leak"]
        if leak.get("flagged"):
            warnings.append(
                {
                    "variant": label,
                    "kind": "leak",
                    "message": f"test targets follow the history's numbering for "
                    f"{leak['rate']:.1%} of users (honest first-appearance numbering: "
                    f"{leak['reference']:.1%}, chance {leak['chance']:.1%}; rule: {leak['rule']}):"
                    " the IDs look numbered with the test items in view",
                }
            )
    if config.eval_users is not None:
        warnings.append(
            {
                "variant": None,
                "kind": "other",
                "message": f"test metrics use a seeded sample of {config.eval_users} users, "
                "not every user",
            }
        )
    return warnings


def _assemble(
    out: Path,
    config: CompareConfig,
    data: Any,
    split: Any,
    variants: list[Variant],
    sweeps: list[Sweep],
    significance: list[dict[str, Any]],
    figures: list[dict[str, Any]],
) -> ComparisonResult:
    stats = dataset_stats(data)
    entries = [_variant_entry(out, v) for v in variants]
    entries += [_baseline_entry(out, config, name) for name in config.baselines]
    settings = variants[0].settings
    setup = {
        "backbone": settings.backbone,
        "tasks": ", ".join(settings.tasks),
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "max_history": settings.max_history,
        "templates_per_sample": settings.templates_per_sample,
        "select_on": config.select_on,
        "validation_users": config.validation_users or "all",
        "eval_users": config.eval_users or "all",
        "beams": config.beams,
        "filtered": config.filtered,
        "ms_ground_truth": config.ms_ground_truth(data.has_ratings),
        "ds_method": config.ds_method,
        "ds_pairs": config.ds_pairs,
        "seed": config.seed,
        "workers": config.workers,
        **({"baselines": ", ".join(config.baselines)} if config.baselines else {}),
        "threads": config.threads if config.threads is not None else "torch default",
    }
    title = config.title or f"{', '.join([*config.strategies, *config.baselines])} on {stats.name}"
    return ComparisonResult.from_dict(
        {
            "schema": "idprobe.comparison/1",
            "title": title,
            "provenance": Provenance(seed=config.seed, config=config.to_dict()).to_dict(),
            "dataset": {
                "name": stats.name,
                "source": stats.source,
                "n_users": stats.users,
                "n_items": stats.items,
                "n_interactions": stats.interactions,
                "has_ratings": data.has_ratings,
                "cold_test_targets": split.cold_test_targets,
            },
            "setup": setup,
            "variants": entries,
            "sweeps": [s.to_dict() for s in sweeps],
            "significance": significance,
            "figures": figures,
            "warnings": _warnings(entries, config, split),
        }
    )
