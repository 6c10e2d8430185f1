"""Evaluate a trained run: prompts -> model outputs -> per-user ranks / answers -> metric tables.

* **sequential, direct**: constrained beam search over the trie of every item's target string
  (``training.decoding``), ``beams`` returned per user, ranked by summed log-probability; the
  1-based rank of the held-out item gives HR@k, NDCG@k and MRR (``metrics.ranking``), with
  percentile-bootstrap 95% intervals over users. All items are ranked; ``filtered=True`` drops
  the user's earlier items from the list first (REFERENCE.md: not the default).
* **rating**: greedy answer, parsed as a number; RMSE and MAE, unparseable answers counted.
* **explanation, review**: greedy answer; corpus BLEU-1 and BLEU-4 (sacrebleu).

Under ``torchrun`` each process evaluates one contiguous block of the users and the blocks are
gathered once, so the metrics equal a single-process run exactly (``training.distributed``).
Per-user outputs are saved next to the metrics (``RUN/predictions/``) for paired significance
tests between runs over the same users.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from idprobe.data import LeaveOneOutSplit
from idprobe.errors import ConfigError, choices
from idprobe.metrics import (
    PairedTestResult,
    bleu_scores,
    bootstrap_ci,
    filter_seen,
    paired_randomization_test,
    per_user_hits,
    per_user_ndcg,
    per_user_reciprocal_rank,
    ranking_metrics,
    ranks_from_predictions,
    rating_metrics,
)
from idprobe.prompts import PromptExample, evaluation_examples
from idprobe.results import Provenance, atomic_write_json, atomic_write_npz

__all__ = [
    "RANKING_TASKS",
    "RunMetrics",
    "TaskMetrics",
    "compare_runs",
    "evaluate",
    "evaluate_run",
    "metrics_path",
    "seen_before",
    "select_users",
    "validation_callback",
]

log = logging.getLogger(__name__)

RANKING_TASKS = ("sequential", "direct")
_RATING_VALUES = ("rmse", "mae", "rmse_with_fallback", "mae_with_fallback")
_RATING_DETAILS = ("n", "unparseable", "out_of_scale", "scale_low", "scale_high")
_BLEU_VALUES = ("bleu1", "bleu4")
_BLEU_DETAILS = ("n", "tokenize", "lowercase")
SPLITS = ("test", "validation")


@dataclass
class TaskMetrics:
    """The metrics of one task on one split: ``values`` holds e.g. ``hr@5`` ... ``mrr``."""

    task: str
    split: str
    template_id: str
    n_users: int
    values: dict[str, float | None]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ms_per_user(self) -> float:
        return 1000.0 * self.seconds / max(self.n_users, 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.values,
            "n_users": self.n_users,
            "template": self.template_id,
            "ci95": {k: list(v) for k, v in self.intervals.items()},
            "details": self.details,
            "seconds": round(self.seconds, 3),
            "ms_per_user": round(self.ms_per_user, 3),
        }


@dataclass
class RunMetrics:
    """Every evaluated task of a run on one split, with provenance; ``to_dict`` is metrics.json."""

    split: str
    tasks: dict[str, TaskMetrics]
    settings: dict[str, Any]
    provenance: Provenance

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "tasks": {name: m.to_dict() for name, m in self.tasks.items()},
            "settings": self.settings,
            "provenance": self.provenance.to_dict(),
        }

    def to_text(self) -> str:
        lines = []
        for name, m in self.tasks.items():
            shown = "  ".join(
                f"{k}={'n/a' if v is None else format(v, '.4f')}" for k, v in m.values.items()
            )
            lines.append(
                f"{name:<12} {self.split}: {shown}  ({m.n_users} users, {m.ms_per_user:.1f} ms/user)"
            )
        return "\n".join(lines)


def _batches(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _encode(run: Any, sources: Sequence[str]) -> tuple[Any, Any]:
    encoded = run.tokenizer(
        list(sources),
        padding=True,
        truncation=True,
        max_length=run.settings.max_source_tokens,
        return_tensors="pt",
    )
    return encoded["input_ids"], encoded["attention_mask"]


def predict_items(
    run: Any,
    examples: Sequence[PromptExample],
    *,
    beams: int = 10,
    batch_size: int = 32,
    constraint: str = "processor",
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``beams`` items (dense indices, -1 = none) and their scores for each example."""
    from idprobe.training.decoding import beam_search

    trie = run.item_trie()
    items = np.full((len(examples), beams), -1, dtype=np.int64)
    scores = np.full((len(examples), beams), -np.inf)
    for part in _batches(len(examples), batch_size):
        input_ids, mask = _encode(run, [e.source for e in examples[part]])
        result = beam_search(
            run.model, input_ids, mask, trie, num_beams=beams, constraint=constraint
        )
        items[part], scores[part] = result.items, result.scores
    return items, scores


def generate_texts(
    run: Any, examples: Sequence[PromptExample], *, batch_size: int = 32, max_new_tokens: int = 48
) -> list[str]:
    """Greedy answers (special tokens removed) for the rating, explanation and review tasks."""
    import torch

    model, tokenizer = run.model, run.tokenizer
    was_training = model.training
    model.eval()
    out: list[str] = []
    try:
        with torch.inference_mode():
            for part in _batches(len(examples), batch_size):
                input_ids, mask = _encode(run, [e.source for e in examples[part]])
                generated = model.generate(
                    input_ids=input_ids,
                    attention_mask=mask,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                    pad_token_id=tokenizer.pad_token_id,
                )
                if not model.config.is_encoder_decoder:
                    generated = generated[:, input_ids.shape[1] :]
                out.extend(
                    t.strip() for t in tokenizer.batch_decode(generated, skip_special_tokens=True)
                )
    finally:
        model.train(was_training)
    return out


def select_users(n: int, max_users: int | None, seed: int) -> np.ndarray:
    """The evaluated users: all ``n``, or a seeded sorted sample of ``max_users`` of them (the
    same users for every run, generative or baseline, with the same seed and data)."""
    if max_users is None or max_users >= n:
        return np.arange(n)
    if max_users < 1:
        raise ConfigError("max_users", "an integer >= 1", max_users)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_users, replace=False))


def seen_before(
    split: LeaveOneOutSplit, which: str, users: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(indptr, indices)`` of each user's items before its ``which`` (test or validation)
    target: all of them, not only the last max_history (the filtered protocol drops these)."""
    data = split.interactions
    samples = split.test if which == "test" else split.validation
    starts = data.offsets[:-1][users]
    ends = samples.history_end[users]
    indptr = np.concatenate([[0], np.cumsum(ends - starts)])
    # Position of each seen interaction: its user's start plus its offset inside the block.
    positions = np.arange(indptr[-1]) + np.repeat(starts - indptr[:-1], ends - starts)
    return indptr, data.item_index[positions]


def _ranking_task(
    run: Any,
    task: str,
    split: str,
    examples: list[PromptExample],
    *,
    beams: int,
    ks: Sequence[int],
    filtered: bool,
    batch_size: int,
    constraint: str,
    seed: int,
) -> tuple[TaskMetrics, dict[str, np.ndarray]]:
    from idprobe.training.distributed import gather_once, shard_bounds, world

    rank, size = world()
    start, stop = shard_bounds(len(examples), rank, size)
    began = time.perf_counter()
    items, scores = predict_items(
        run, examples[start:stop], beams=beams, batch_size=batch_size, constraint=constraint
    )
    seconds = time.perf_counter() - began
    items = np.asarray(gather_once(list(items)), dtype=np.int64).reshape(-1, beams)
    scores = np.asarray(gather_once(list(scores)), dtype=np.float64).reshape(-1, beams)
    users = np.array([e.user for e in examples], dtype=np.int64)
    targets = np.array([e.item for e in examples], dtype=np.int64)
    shown = items
    if filtered:
        indptr, indices = seen_before(run.split, split, users)
        shown = filter_seen(items, indptr=indptr, indices=indices)
    ranks = ranks_from_predictions(shown, targets)
    result = ranking_metrics(ranks, ks=ks, filtered=filtered, n_beams=beams)
    intervals = {}
    if len(ranks) >= 2:  # a bootstrap of one user says nothing
        for k in ks:
            intervals[f"hr@{k}"] = bootstrap_ci(per_user_hits(ranks, k), seed=seed)
            intervals[f"ndcg@{k}"] = bootstrap_ci(per_user_ndcg(ranks, k), seed=seed)
        intervals["mrr"] = bootstrap_ci(per_user_reciprocal_rank(ranks), seed=seed)
    cold = set(run.split.cold_items.tolist())
    metrics = TaskMetrics(
        task,
        split,
        examples[0].template_id,
        len(examples),
        dict(result.values),
        intervals,
        {
            "beams": beams,
            "filtered": filtered,
            "constraint": constraint,
            "cold_targets": int(sum(t in cold for t in targets.tolist())),
            "processes": size,
        },
        seconds * size,  # total compute: comparable across process counts
    )
    # ``items`` is the list the ranks were read from; when filtering, the raw beams (which
    # ``scores`` belong to) are kept as ``unfiltered_items``.
    arrays = {"users": users, "targets": targets, "items": shown, "scores": scores, "ranks": ranks}
    if filtered:
        arrays["unfiltered_items"] = items
    return metrics, arrays


def _text_task(
    run: Any, task: str, split: str, examples: list[PromptExample], *, batch_size: int
) -> tuple[TaskMetrics, dict[str, np.ndarray]]:
    from idprobe.training.distributed import gather_once, shard_bounds, world

    rank, size = world()
    start, stop = shard_bounds(len(examples), rank, size)
    began = time.perf_counter()
    answers = generate_texts(run, examples[start:stop], batch_size=batch_size)
    seconds = time.perf_counter() - began
    answers = gather_once(answers)
    references = [e.target for e in examples]
    if task == "rating":
        scale = run.split.interactions.rating_scale or (1.0, 5.0)
        truth = np.array([float(t) for t in references])
        result = rating_metrics(answers, truth, scale=scale).to_dict()
        value_keys, detail_keys = _RATING_VALUES, _RATING_DETAILS
    else:
        result = bleu_scores(answers, references).to_dict()
        value_keys, detail_keys = _BLEU_VALUES, _BLEU_DETAILS
    # rmse/mae are None (null in JSON) when no answer parsed; ``unparseable`` says why.
    values = {k: None if result[k] is None else float(result[k]) for k in value_keys}
    details = {k: result[k] for k in detail_keys}
    metrics = TaskMetrics(
        task, split, examples[0].template_id, len(examples), values, {}, details, seconds * size
    )
    arrays = {
        "users": np.array([e.user for e in examples], dtype=np.int64),
        "answers": np.array(answers, dtype=object).astype(str),
    }
    return metrics, arrays


def evaluate(
    run: Any,
    *,
    split: str = "test",
    tasks: Sequence[str] | None = None,
    beams: int = 10,
    ks: Sequence[int] = (5, 10),
    max_users: int | None = None,
    filtered: bool = False,
    template_id: str | None = None,
    batch_size: int = 32,
    constraint: str = "processor",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[RunMetrics, dict[str, dict[str, np.ndarray]]]:
    """Metrics of a loaded run (``training.run.load_run``) on ``split``; see the module docstring.

    ``max_users`` evaluates a seeded random subset of users (the same users for every run with
    the same seed and data, so paired tests still pair). Returns the metrics and the per-user
    arrays of each task.
    """
    if split not in SPLITS:
        raise ConfigError("split", choices(SPLITS), split)
    tasks = tuple(tasks or run.settings.tasks)
    if not isinstance(beams, int) or beams < max(ks):
        raise ConfigError("beams", f"an integer >= the largest k ({max(ks)})", beams)
    users = select_users(run.split.interactions.n_users, max_users, seed)
    chosen = set(users.tolist())
    out: dict[str, TaskMetrics] = {}
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for task in tasks:
        examples = evaluation_examples(
            run.split,
            run.assignment,
            task,
            split_name=split,
            template_id=template_id if template_id and template_id.startswith(task) else None,
            user_scheme=run.settings.user_scheme,
        )
        examples = [e for e in examples if e.user in chosen]
        if not examples:
            raise ConfigError("task", f"users with a {split} example for {task}", "none")
        if progress:
            progress(f"{task}: {len(examples)} users")
        if task in RANKING_TASKS:
            out[task], arrays[task] = _ranking_task(
                run,
                task,
                split,
                examples,
                beams=beams,
                ks=ks,
                filtered=filtered,
                batch_size=batch_size,
                constraint=constraint,
                seed=seed,
            )
        else:
            out[task], arrays[task] = _text_task(run, task, split, examples, batch_size=batch_size)
    config = {
        "split": split,
        "tasks": list(tasks),
        "beams": beams,
        "ks": list(ks),
        "max_users": max_users,
        "filtered": filtered,
        "template_id": template_id,
        "constraint": constraint,
        "seed": seed,
    }
    metrics = RunMetrics(split, out, run.settings.to_dict(), Provenance(seed=seed, config=config))
    return metrics, arrays


def metrics_path(directory: str | Path, split: str = "test") -> Path:
    """``RUN/metrics.json`` for the test split, ``RUN/metrics-validation.json`` for validation."""
    name = "metrics.json" if split == "test" else f"metrics-{split}.json"
    return Path(directory) / name


def evaluate_run(
    directory: str | Path, *, threads: int | None = None, **options: Any
) -> RunMetrics:
    """Load ``directory``, evaluate it (options of :func:`evaluate`) and write the metrics file
    and ``RUN/predictions/<split>-<task>.npz``. Under ``torchrun`` only rank 0 writes.
    ``threads``: torch CPU threads for the call (``None``: torch's default)."""
    from idprobe.training.distributed import init_from_environment, world
    from idprobe.training.run import load_run
    from idprobe.training.threads import torch_threads

    with torch_threads(threads):
        init_from_environment()
        run = load_run(directory)
        metrics, arrays = evaluate(run, **options)
    if world()[0] == 0:
        for task, values in arrays.items():
            atomic_write_npz(
                Path(directory) / "predictions" / f"{metrics.split}-{task}.npz", **values
            )
        atomic_write_json(metrics_path(directory, metrics.split), metrics.to_dict())
    return metrics


def validation_callback(
    *,
    task: str = "sequential",
    metric: str = "ndcg@10",
    max_users: int | None = 1000,
    beams: int = 10,
    batch_size: int = 64,
    seed: int = 0,
) -> Callable[[Any, int], float]:
    """``callback(run, epoch)`` for model selection: ``metric`` of ``task`` on validation users.

    The rule (task, metric, users, beams) is recorded by the trainer through the callback's name.
    """
    if task not in RANKING_TASKS:
        raise ConfigError("task", choices(RANKING_TASKS), task)

    def callback(run: Any, epoch: int) -> float:
        metrics, _ = evaluate(
            run,
            split="validation",
            tasks=[task],
            beams=beams,
            max_users=max_users,
            batch_size=batch_size,
            seed=seed,
        )
        value = metrics.tasks[task].values[metric]
        log.info("epoch %d: validation %s %s = %.4f", epoch, task, metric, value)
        return value

    callback.__name__ = callback.__qualname__ = (
        f"validation {task} {metric} ({max_users or 'all'} users, {beams} beams)"
    )
    return callback


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    *,
    task: str = "sequential",
    metric: str = "ndcg@10",
    split: str = "test",
    n_permutations: int = 10_000,
    seed: int = 0,
) -> PairedTestResult:
    """Paired randomisation test of ``metric`` between two evaluated runs over the same users."""
    loaded = []
    for run in (run_a, run_b):
        path = Path(run) / "predictions" / f"{split}-{task}.npz"
        if not path.exists():
            raise ConfigError("run", f"an evaluated run with {path.name}", str(run))
        with np.load(path) as data:
            loaded.append((data["users"], data["ranks"]))
    (users_a, ranks_a), (users_b, ranks_b) = loaded
    if not np.array_equal(users_a, users_b):
        raise ConfigError(
            "runs",
            "evaluations over the same users (same split, max_users and seed)",
            "different users",
        )
    name, _, k = metric.partition("@")
    per_user = {"hr": per_user_hits, "ndcg": per_user_ndcg}
    if name not in per_user or not k.isdigit():
        raise ConfigError("metric", "hr@K or ndcg@K", metric)
    a = per_user[name](ranks_a, int(k))
    b = per_user[name](ranks_b, int(k))
    return paired_randomization_test(a, b, n_permutations=n_permutations, seed=seed)
