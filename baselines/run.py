"""Train a baseline into a run directory and evaluate it on idprobe's split and metrics.

``RUN/`` after :func:`train_baseline`:

* ``settings.json``: the resolved settings, the recipe applied and the provenance;
* ``checkpoint.pt``: written atomically after every epoch (weights, optimiser, best weights,
  random-number states), so ``resume=True`` continues a killed run exactly where it stopped;
* ``model.pt``: the weights of the selected (best validation) epoch;
* ``history.json``: per epoch the mean loss, the validation score and the seconds;
* ``metrics.json`` and ``predictions/test-sequential.npz``: the test metrics in the trainer's
  format (``idprobe.evaluation``) and the per-user ranks for paired tests.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from baselines.recipes import Recipe
from baselines.registry import model_class
from baselines.sequences import SequenceData
from baselines.settings import BaselineSettings
from idprobe.data import leave_one_out
from idprobe.errors import ConfigError, verbatim
from idprobe.evaluation import (
    RunMetrics,
    dot_product_scorer,
    evaluate_scores,
    full_ranking,
    metrics_path,
    seen_before,
    select_users,
)
from idprobe.metrics import ranking_metrics
from idprobe.results import Provenance, atomic_write_bytes, atomic_write_json, atomic_write_npz
from idprobe.training.threads import torch_threads

__all__ = ["BaselineResult", "evaluate_baseline", "load_baseline", "train_baseline"]

log = logging.getLogger(__name__)

TASK = "sequential"


@dataclass
class BaselineResult:
    """What a baseline run did: its epochs, the selected one, and its test metrics."""

    directory: Path
    settings: BaselineSettings
    metrics: RunMetrics
    epochs: int = 0
    best_epoch: int | None = None
    best_score: float | None = None
    scores: list[float | None] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = "no training"

    def history(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "select_on": self.settings.select_on,
            "scores": self.scores,
            "losses": self.losses,
            "seconds": self.seconds,
            "stopped": self.stopped,
        }


def _device(settings: BaselineSettings) -> torch.device:
    """The device of ``settings.device``; asking for CUDA where torch sees none is an error."""
    if settings.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if settings.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            "device", "cpu or auto on a machine where torch sees no CUDA device", settings.device
        )
    return torch.device(settings.device)


def _save_torch(path: Path, obj: Any) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _validation_score(model: Any, data: SequenceData, settings: BaselineSettings) -> float:
    users = select_users(data.n_users, settings.validation_users, settings.seed)
    model.eval()
    try:
        vectors, bias = model.item_table()
        scorer = dot_product_scorer(model.queries(data, "validation", users), vectors, bias)
        ranks = full_ranking(scorer, data.targets("validation")[users], data.n_items).ranks
    finally:
        model.train()
    return float(ranking_metrics(ranks, ks=(5, 10)).values[settings.select_on])


def _start(
    directory: Path, settings: BaselineSettings, recipe: Recipe | None, resume: bool
) -> dict | None:
    """Write settings.json and return the checkpoint to resume from (or None)."""
    saved = directory / "settings.json"
    checkpoint = directory / "checkpoint.pt"
    if resume and saved.exists():
        before = json.loads(saved.read_text(encoding="utf-8"))["settings"]
        if before != settings.to_dict():
            changed = sorted(
                k
                for k in before.keys() | settings.to_dict().keys()
                if before.get(k) != settings.to_dict().get(k)
            )
            raise ConfigError(
                "--resume",
                f"the settings of the run in {directory}",
                verbatim(f"changed {', '.join(changed)}"),
            )
        if checkpoint.exists():
            return torch.load(checkpoint, map_location="cpu", weights_only=False)
    for stale in ("checkpoint.pt", "model.pt", "history.json", "metrics.json"):
        (directory / stale).unlink(missing_ok=True)
    atomic_write_json(
        saved,
        {
            "settings": settings.to_dict(),
            "recipe": None if recipe is None else recipe.to_dict(),
            "provenance": Provenance(seed=settings.seed, config=settings.to_dict()).to_dict(),
        },
    )
    return None


def _fit(
    model: Any,
    data: SequenceData,
    settings: BaselineSettings,
    directory: Path,
    state: dict | None,
) -> dict[str, Any]:
    """The training loop with early stopping; returns the final loop state (best weights in
    ``best_model``)."""
    rng = np.random.default_rng([settings.seed, 1])
    optimizer = torch.optim.Adam(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    if state is None:
        state = {
            "epoch": 0,
            "best_score": None,
            "best_epoch": None,
            "bad": 0,
            "scores": [],
            "losses": [],
            "seconds": 0.0,
            "best_model": None,
            "stopped": "epochs",
        }
    else:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if state["stopped"] == "patience":
            return state
    model.train()
    while state["epoch"] < settings.epochs:
        began = time.perf_counter()
        epoch = state["epoch"] + 1
        total, steps = 0.0, 0
        for batch in model.batches(data, rng, settings.batch_size):
            batch = {key: value.to(model.device) for key, value in batch.items()}
            optimizer.zero_grad(set_to_none=True)
            loss = model.loss(batch)
            if not torch.isfinite(loss):
                raise ConfigError(
                    "learning_rate",
                    "a rate at which training stays finite",
                    f"{settings.learning_rate} (loss {loss.item()} at epoch {epoch})",
                )
            loss.backward()
            if settings.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            total, steps = total + loss.item(), steps + 1
        state["losses"].append(total / max(steps, 1))
        score = None
        if epoch % settings.eval_every == 0 or epoch == settings.epochs:
            score = _validation_score(model, data, settings)
            if state["best_score"] is None or score > state["best_score"]:
                state.update(
                    best_score=score,
                    best_epoch=epoch,
                    bad=0,
                    best_model=copy.deepcopy(model.state_dict()),
                )
            else:
                state["bad"] += 1
        state["scores"].append(score)
        state["epoch"] = epoch
        state["seconds"] += time.perf_counter() - began
        log.info(
            "[%s] epoch %d: loss %.4f%s (%.1f s)",
            settings.model,
            epoch,
            state["losses"][-1],
            "" if score is None else f", validation {settings.select_on} {score:.4f}",
            time.perf_counter() - began,
        )
        if state["bad"] >= settings.patience:
            state["stopped"] = "patience"
        state.update(
            model=model.state_dict(),
            optimizer=optimizer.state_dict(),
            numpy_rng=rng.bit_generator.state,
            torch_rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state_all() if model.device.type == "cuda" else None,
        )
        _save_torch(directory / "checkpoint.pt", state)
        if state["stopped"] == "patience":
            break
    return state


def train_baseline(
    settings: BaselineSettings,
    out: str | Path,
    *,
    recipe: Recipe | None = None,
    resume: bool = False,
    eval_users: int | None = None,
    filtered: bool = False,
    depth: int | None = None,
) -> BaselineResult:
    """Train ``settings.model`` on the leave-one-out split, keep the best validation epoch,
    evaluate it on the test targets (``evaluate_baseline``) and write ``out`` (module docstring).
    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    state = _start(directory, settings, recipe, resume)
    split = leave_one_out(settings.load_data())
    data = SequenceData(split)
    with torch_threads(settings.threads):
        torch.manual_seed(settings.seed)
        model = model_class(settings.model)(settings.resolved_params(), data.n_users, data.n_items)
        model.to(_device(settings))
        if hasattr(model, "fit_counts"):
            model.fit_counts(data)
        result_state: dict[str, Any] = {"stopped": "no training"}
        if any(p.requires_grad for p in model.parameters()):
            result_state = _fit(model, data, settings, directory, state)
            if result_state["best_model"] is not None:
                model.load_state_dict(result_state["best_model"])
        _save_torch(directory / "model.pt", model.state_dict())
        metrics = evaluate_baseline(
            model, data, settings, directory, eval_users=eval_users, filtered=filtered, depth=depth
        )
    result = BaselineResult(
        directory,
        settings,
        metrics,
        epochs=result_state.get("epoch", 0),
        best_epoch=result_state.get("best_epoch"),
        best_score=result_state.get("best_score"),
        scores=list(result_state.get("scores", [])),
        losses=list(result_state.get("losses", [])),
        seconds=float(result_state.get("seconds", 0.0)),
        stopped=result_state["stopped"],
    )
    atomic_write_json(directory / "history.json", result.history())
    return result


def evaluate_baseline(
    model: Any,
    data: SequenceData,
    settings: BaselineSettings,
    directory: str | Path,
    *,
    split: str = "test",
    eval_users: int | None = None,
    filtered: bool = False,
    depth: int | None = None,
    write: bool = True,
) -> RunMetrics:
    """Full-ranking HR/NDCG/MRR of a trained baseline on ``split``; writes ``metrics.json`` (or
    ``metrics-validation.json``) and ``predictions/<split>-sequential.npz``.

    ``eval_users`` draws the same seeded users as ``idprobe evaluate --max-users`` with the same
    seed, so paired tests against generative runs pair user by user. ``write=False`` only
    returns the metrics (e.g. another protocol on a finished run).
    """
    users = select_users(data.n_users, eval_users, settings.seed)
    model.eval()
    vectors, bias = model.item_table()
    scorer = dot_product_scorer(model.queries(data, split, users), vectors, bias)
    exclude = seen_before(data.split, split, users) if filtered else None
    cold = np.zeros(data.n_items, dtype=bool)
    cold[data.split.cold_items] = True
    targets = data.targets(split)[users]
    task, arrays = evaluate_scores(
        scorer,
        users,
        targets,
        data.n_items,
        split=split,
        task=TASK,
        exclude=exclude,
        depth=depth,
        seed=settings.seed,
        details={"model": settings.model, "cold_targets": int(cold[targets].sum())},
    )
    config = {
        "split": split,
        "eval_users": eval_users,
        "filtered": filtered,
        "depth": depth,
        "seed": settings.seed,
    }
    metrics = RunMetrics(
        split, {TASK: task}, settings.to_dict(), Provenance(seed=settings.seed, config=config)
    )
    if not write:
        return metrics
    directory = Path(directory)
    atomic_write_npz(directory / "predictions" / f"{split}-{TASK}.npz", **arrays)
    atomic_write_json(metrics_path(directory, split), metrics.to_dict())
    return metrics


def load_baseline(directory: str | Path) -> tuple[Any, SequenceData, BaselineSettings]:
    """A trained baseline run brought back: its model (selected weights, eval mode), the data
    as sequences and its settings, e.g. to evaluate it under another protocol."""
    directory = Path(directory)
    saved = directory / "settings.json"
    if not (saved.exists() and (directory / "model.pt").exists()):
        raise ConfigError(
            "run", "a finished baseline run (settings.json and model.pt)", str(directory)
        )
    settings = BaselineSettings.from_dict(json.loads(saved.read_text(encoding="utf-8"))["settings"])
    data = SequenceData(leave_one_out(settings.load_data()))
    model = model_class(settings.model)(settings.resolved_params(), data.n_users, data.n_items)
    model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu", weights_only=True))
    model.to(_device(settings))
    model.eval()
    return model, data, settings
