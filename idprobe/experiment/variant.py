"""The stages of one variant of a comparison, run in its own directory ``OUT/runs/<slug>``.

``train`` -> ``evaluate`` -> ``representations`` (DS/MS trained and at initialisation) ->
``analysis`` (the arrays the figures are drawn from). Each is a cached stage
(:mod:`idprobe.experiment.stages`); :func:`run_variant` is also the entry point of a worker
process when variants train side by side, so its argument is plain picklable data.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from idprobe.data import leave_one_out
from idprobe.evaluation.generative import evaluate_run
from idprobe.evaluation.representation import entity_representations, representation_scores
from idprobe.experiment.config import CompareConfig, Variant
from idprobe.experiment.stages import StageCache, stage_key
from idprobe.experiment.training import train
from idprobe.ids import assignment_stats
from idprobe.ids.base import data_fingerprint
from idprobe.ids.leakage import numbering_leak
from idprobe.metrics import diversity_convergence
from idprobe.results import atomic_write_json, atomic_write_npz
from idprobe.training.vocabulary import Vocabulary

__all__ = ["VariantJob", "run_variant"]

log = logging.getLogger(__name__)

ANALYSIS = "analysis"


@dataclass(frozen=True)
class VariantJob:
    """Everything a (possibly separate) process needs to run one variant's stages."""

    variant: Variant
    out: Path
    config: dict[str, Any]
    heatmap_items: tuple[int, ...]
    tsne_items: tuple[int, ...]
    attention_users: tuple[str, ...]
    resume: bool
    progress: bool
    log_level: int | None = None

    @property
    def directory(self) -> Path:
        return self.out / "runs" / self.variant.slug


def _keys(job: VariantJob, fingerprint: dict[str, Any], ground_truth: str) -> dict[str, str]:
    """The stage keys: each hashes its own inputs and the key of the stage it reads."""
    c = job.config
    train_key = stage_key(
        "train",
        job.variant.settings.to_dict(),
        fingerprint,
        c["select_on"],
        c["validation_users"],
    )
    evaluate_key = stage_key("evaluate", train_key, c["eval_users"], c["beams"], c["filtered"])
    representation_key = stage_key(
        "representations", train_key, ground_truth, c["ds_method"], c["ds_pairs"]
    )
    analysis_key = stage_key(
        "analysis",
        train_key,
        list(job.heatmap_items),
        list(job.tsne_items),
        list(job.attention_users),
        c["convergence_pairs"],
    )
    return {
        "train": train_key,
        "evaluate": evaluate_key,
        "representations": representation_key,
        "analysis": analysis_key,
    }


def run_variant(job: VariantJob) -> dict[str, str]:
    """Run (or reuse) every stage of ``job``'s variant; returns the stage keys."""
    if job.log_level is not None and not logging.getLogger().handlers:
        # A worker process: its stage progress goes to stderr like the parent's (and only
        # that: gensim and transformers stay at their own levels).
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger("idprobe.experiment").setLevel(job.log_level)
    config = CompareConfig.from_dict(job.config)
    settings = job.variant.settings
    directory = job.directory
    split = leave_one_out(settings.load_data(), max_his=settings.max_history)
    ground_truth = config.ms_ground_truth(split.training_view.has_ratings)
    keys = _keys(job, data_fingerprint(split.training_view), ground_truth)
    cache = StageCache(directory, job.variant.label)

    if not cache.done("train", keys["train"]):
        resume = cache.prepare_training("train", keys["train"], job.resume)

        def do_train() -> None:
            result = train(
                settings,
                directory,
                resume=resume,
                select_on=config.select_on,
                validation_users=config.validation_users,
                progress=job.progress,
            )
            record = json.loads((directory / "settings.json").read_text())["record"]
            atomic_write_json(
                directory / ANALYSIS / "training.json",
                {
                    "seconds": result.seconds,
                    "epochs": result.epochs,
                    "best_epoch": result.best_epoch,
                    "best_score": result.best_score,
                    "scores": list(result.scores),
                    "losses": list(result.losses),
                    "steps_per_epoch": len(result.losses) // max(result.epochs, 1),
                    "examples": record["examples"],
                    "selection_rule": result.selection_rule,
                },
            )

        cache.run("train", keys["train"], do_train)

    cache.run(
        "evaluate",
        keys["evaluate"],
        lambda: evaluate_run(
            directory,
            threads=config.threads,
            split="test",
            beams=config.beams,
            max_users=config.eval_users,
            filtered=config.filtered,
            seed=config.seed,
        ),
    )
    loaded: dict[str, Any] = {}

    def runs() -> tuple[Any, Any]:
        """The trained and the initial run, loaded once for the two stages that read them."""
        if not loaded:
            from idprobe.training.introspection import initial_run
            from idprobe.training.run import load_run

            loaded["trained"], loaded["initial"] = load_run(directory), initial_run(directory)
        return loaded["trained"], loaded["initial"]

    cache.run(
        "representations",
        keys["representations"],
        lambda: _representations(directory, config, *runs()),
    )
    cache.run(
        "analysis",
        keys["analysis"],
        lambda: _analysis(job, config, split, runs()[0]),
    )
    return keys


def _scores(table: np.ndarray, run: Any, vocabulary: Vocabulary, config: CompareConfig) -> dict:
    scores = representation_scores(
        table,
        run.assignment,
        vocabulary,
        run.split.training_view,
        ds_method=config.ds_method,
        ds_pairs=config.ds_pairs,
        ground_truth=config.ms_ground_truth(run.split.training_view.has_ratings),
        seed=config.seed,
    )
    memorization = scores.memorization
    return {
        "ds": float(scores.diversity.value),
        "ds_stderr": None if scores.diversity.stderr is None else float(scores.diversity.stderr),
        "ms": None if memorization is None else float(memorization.value),
        "ground_truth": None if memorization is None else memorization.ground_truth,
    }


def _representations(directory: Path, config: CompareConfig, trained: Any, initial: Any) -> None:
    from idprobe.training.run import input_table

    vocabulary = Vocabulary.from_tokenizer_dir(directory / "tokenizer")
    atomic_write_json(
        directory / ANALYSIS / "representations.json",
        {
            "trained": _scores(input_table(trained.model), trained, vocabulary, config),
            "initial": _scores(input_table(initial.model), initial, vocabulary, config),
        },
    )


def _analysis(job: VariantJob, config: CompareConfig, split: Any, run: Any) -> None:
    """The arrays behind the figures: ID facts and leak check, item representations of the
    sampled items, token embeddings, DS convergence and attention maps."""
    from idprobe.training.introspection import attention_map, id_token_embeddings
    from idprobe.training.run import input_table

    directory = job.directory / ANALYSIS
    stats = assignment_stats(run.assignment).to_dict()
    stats["leak"] = numbering_leak(run.assignment, split, seed=config.seed).to_dict()
    atomic_write_json(directory / "ids.json", stats)

    vocabulary = Vocabulary.from_tokenizer_dir(job.directory / "tokenizer")
    reps, _ = entity_representations(
        input_table(run.model), run.assignment, vocabulary, "items", run.split.training_view
    )
    atomic_write_npz(
        directory / "items.npz",
        heatmap_items=np.asarray(job.heatmap_items, dtype=np.int64),
        heatmap=reps[list(job.heatmap_items)],
        tsne_items=np.asarray(job.tsne_items, dtype=np.int64),
        tsne=reps[list(job.tsne_items)],
    )
    tokens = id_token_embeddings(run, seed=config.seed)
    atomic_write_npz(
        directory / "tokens.npz",
        tokens=np.asarray(tokens.tokens, dtype=str),
        kinds=np.asarray(tokens.kinds, dtype=str),
        vectors=tokens.vectors,
    )
    convergence = diversity_convergence(reps, config.convergence_pairs, seed=config.seed)
    atomic_write_json(
        directory / "convergence.json",
        {
            "pair_counts": convergence.pair_counts.tolist(),
            "mean": convergence.mean.tolist(),
            "low": convergence.low.tolist(),
            "high": convergence.high.tolist(),
            "exact": float(convergence.exact),
        },
    )
    task = config.ranking_task  # users are drawn only when the runs have a ranking task
    maps = [attention_map(run, user, task=task).to_dict() for user in job.attention_users]
    atomic_write_json(directory / "attention.json", {"maps": maps})
