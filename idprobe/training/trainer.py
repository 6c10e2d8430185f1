"""One trainer for every backbone: seq2seq (T5) and causal (LLaMA) language models.

``fit`` trains a Hugging Face model (or any module whose ``forward`` takes ``input_ids`` and
``attention_mask`` and returns ``.logits``) on ``TokenizedExample`` s with AdamW, a linear
warm-up/decay schedule, gradient clipping and accumulation, and per-epoch model selection through
a validation callback (the trainer never computes metrics itself: DESIGN.md).

What it promises:

- **The loss** of an optimizer step is the mean cross-entropy over every target token of the step
  (all micro-batches, all processes), computed from the logits in float32. Normalising by the
  step's token count, not per micro-batch, makes gradient accumulation and multi-process training
  give the same gradient as one big batch, also when examples differ in length.
- **Order** of the examples in epoch ``e`` depends only on ``(seed, e)`` (``torch.randperm`` with a
  generator seeded ``seed + e``), not on the process count's history or on resuming.
- **Dropout** draws from torch's global generator seeded ``seed + rank`` inside
  ``torch.random.fork_rng``: training is reproducible and the caller's torch RNG is left as it was.
- **Files** (rank 0 only; all but the log written atomically) in ``out_dir``:

  - ``train_log.jsonl`` (appended, cut back to the checkpoint's position on resume): one JSON
    line every ``log_every`` optimizer steps and at each epoch's last step: ``step``, ``epoch``,
    ``loss`` (mean step loss since the previous line), ``lr`` (the learning rate the step used),
    ``examples_per_second``;
  - ``checkpoints/epoch-{n}/checkpoint.pt``: model, optimizer, scheduler, RNG states (torch, CUDA,
    numpy, Python; one set per process), epoch, global step, log position, per-step losses,
    per-epoch scores, best epoch and score, the configuration. Written into a hidden temporary
    directory and renamed, so an ``epoch-{n}`` directory is complete or absent; the last
    ``keep_checkpoints`` are kept;
  - ``best/model.pt`` (the best epoch's ``state_dict`` with its epoch and score; ``load_best``
    reads it) and ``best/best.json``;
  - ``selection.json``: the selection rule in words, the best epoch and score, every epoch's score.

- **Resume**: ``fit(..., resume=True)`` loads the latest complete checkpoint, truncates the log to
  the checkpoint's position and continues; the per-step losses then equal those of an
  uninterrupted run (same model, data, configuration and process count: all are checked).
  ``resume=False`` starts afresh and deletes the files above from ``out_dir``.

Distributed training: under ``torchrun`` (``WORLD_SIZE > 1``) ``fit`` initialises
``torch.distributed`` if needed (gloo on CPU, nccl on CUDA; it is left initialised for the
evaluation that follows) and wraps the model in ``DistributedDataParallel``. Each optimizer step
takes ``batch_size * world_size * grad_accum`` examples of the epoch's order; micro-batch ``m``
gives process ``r`` the examples ``[r*batch_size, (r+1)*batch_size)`` of its
``batch_size * world_size`` slice. There is no padding with duplicates (REFERENCE.md pitfall 8): a
process whose slice of the epoch's last micro-batch is empty runs a zero-weighted forward so the
gradient all-reduce still matches, and the token-normalised loss keeps the mean exact. Only rank 0
writes files; the others wait at a barrier. ``out_dir`` must be on a file system every process
sees (resume reads it on every rank). The validation callback runs on **every** rank (so it may
shard its own work and gather); the score of rank 0 is the one used. As always with collectives,
an exception on one rank only leaves the others waiting at the next one until torch's timeout.

Precision (REFERENCE.md pitfall 10: never fp16): ``"auto"``, ``"bf16"`` or ``"fp32"``, as
``idprobe.training.optim`` describes; weights and optimizer state stay float32 in every case.

This module is the training loop; ``idprobe.training.optim`` builds the optimizer and schedule and
resolves the precision, ``idprobe.training.checkpoints`` writes and reads the files above.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from idprobe.errors import ConfigError, choices, verbatim
from idprobe.results import Provenance
from idprobe.training.batching import (
    IGNORE_INDEX,
    KINDS,
    TokenizedExample,
    collate,
    target_token_count,
)
from idprobe.training.checkpoints import (
    BEST,
    CHECKPOINTS,
    SELECTION_FILE,
    checkpoint_meta,
    latest_checkpoint,
    load_best,
    prune_checkpoints,
    read_checkpoint,
    remove_partial_checkpoints,
    rng_state,
    saved_best_epoch,
    set_rng_state,
    write_best,
    write_checkpoint,
    write_selection,
)
from idprobe.training.distributed import world
from idprobe.training.optim import (
    PRECISIONS,
    autocast_context,
    build_optimizer,
    linear_warmup_factor,
    resolve_precision,
)
from idprobe.training.threads import check_threads, torch_threads

__all__ = [
    "PRECISIONS",
    "SELECTIONS",
    "FitResult",
    "TrainConfig",
    "fit",
    "latest_checkpoint",
    "linear_warmup_factor",
    "load_best",
    "resolve_precision",
]

logger = logging.getLogger(__name__)

SELECTIONS = ("max", "min")

LOG_FILE = "train_log.jsonl"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class TrainConfig:
    """The hyper-parameters of one training run (every number that changes the result).

    Attributes:
        epochs: passes over the training examples.
        batch_size: examples per micro-batch **per process**; an optimizer step sees
            ``batch_size * grad_accum * world_size`` examples.
        learning_rate: AdamW's peak learning rate.
        weight_decay: AdamW's decoupled weight decay, applied to matrices and embeddings
            (parameters with 2+ dimensions), not to biases and norm scales.
        warmup_steps: optimizer steps of linear warm-up; ``None`` uses ``warmup_ratio``.
        warmup_ratio: warm-up as a fraction of all optimizer steps (rounded up), when
            ``warmup_steps`` is ``None``.
        max_grad_norm: clip the global gradient L2 norm to this; ``None`` disables clipping.
        grad_accum: micro-batches accumulated per optimizer step.
        precision: ``"auto"``, ``"bf16"`` or ``"fp32"`` (see ``idprobe.training.optim``).
        seed: seeds the example order (with the epoch) and dropout (with the rank).
        log_every: optimizer steps between lines of ``train_log.jsonl``.
    """

    epochs: int
    batch_size: int
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int | None = None
    warmup_ratio: float = 0.05
    max_grad_norm: float | None = 1.0
    grad_accum: int = 1
    precision: str = "auto"
    seed: int = 0
    log_every: int = 50

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "grad_accum", "log_every"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ConfigError(name, "an integer >= 1", value)
        if not _is_real(self.learning_rate) or self.learning_rate <= 0:
            raise ConfigError("learning_rate", "a finite number > 0", self.learning_rate)
        if not _is_real(self.weight_decay) or self.weight_decay < 0:
            raise ConfigError("weight_decay", "a finite number >= 0", self.weight_decay)
        if self.warmup_steps is not None and (
            not _is_int(self.warmup_steps) or self.warmup_steps < 0
        ):
            raise ConfigError("warmup_steps", "None or an integer >= 0", self.warmup_steps)
        if not _is_real(self.warmup_ratio) or not 0 <= self.warmup_ratio <= 1:
            raise ConfigError("warmup_ratio", "a number in [0, 1]", self.warmup_ratio)
        if self.max_grad_norm is not None and (
            not _is_real(self.max_grad_norm) or self.max_grad_norm <= 0
        ):
            raise ConfigError("max_grad_norm", "None or a finite number > 0", self.max_grad_norm)
        if self.precision not in PRECISIONS:
            raise ConfigError("precision", choices(PRECISIONS), self.precision)
        if not _is_int(self.seed):
            raise ConfigError("seed", "an integer", self.seed)

    def warmup(self, total_steps: int) -> int:
        """Warm-up steps for a run of ``total_steps`` optimizer steps."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return math.ceil(self.warmup_ratio * total_steps)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FitResult:
    """What a training run did.

    Attributes:
        losses: the loss of every optimizer step of the run, resumed steps included (the mean
            target-token cross-entropy over all processes).
        epochs: epochs trained in total (resumed ones included).
        best_epoch: the epoch selected by the validation callback (the last one without it).
        best_score: its score (``None`` without a callback).
        scores: every epoch's validation score (``None`` entries without a callback).
        selection_rule: the rule in words, e.g. ``validation callback hr_at_10, max, best epoch 3``.
        seconds: wall time of this call.
        examples_per_second: training throughput of this call, all processes together
            (validation and checkpointing excluded); 0 when this call trained nothing.
        resumed_from: the epoch of the checkpoint this call resumed from, or ``None``.
        out_dir: where the log, checkpoints and best weights are.
        precision: the precision actually used (``"bf16"`` or ``"fp32"``).
        world_size: number of processes.
    """

    losses: tuple[float, ...]
    epochs: int
    best_epoch: int
    best_score: float | None
    scores: tuple[float | None, ...]
    selection_rule: str
    seconds: float
    examples_per_second: float
    resumed_from: int | None
    out_dir: str
    precision: str
    world_size: int
    config: TrainConfig
    provenance: Provenance = field(default_factory=lambda: Provenance(seed=None))

    @property
    def steps(self) -> int:
        return len(self.losses)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["losses"] = list(self.losses)
        data["scores"] = list(self.scores)
        return data


def fit(
    model: nn.Module,
    examples: Sequence[TokenizedExample],
    config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    kind: str,
    pad_token_id: int,
    validate: Callable[[nn.Module, int], float] | None = None,
    selection: str = "max",
    resume: bool = False,
    progress: bool = True,
    keep_checkpoints: int = 1,
    device: str | torch.device | None = None,
    threads: int | None = None,
) -> FitResult:
    """Train ``model`` in place on ``examples`` for ``config.epochs`` epochs (module docstring).

    Args:
        model: a seq2seq or causal LM; after the call it holds the **last** epoch's weights
            (``load_best`` gives the selected ones) and is in the train/eval mode it came in.
        examples: the training examples (``collate`` builds the batches).
        config: the hyper-parameters.
        out_dir: directory of the log, checkpoints, best weights and ``selection.json``.
        kind: ``"seq2seq"`` or ``"causal"``.
        pad_token_id: the tokenizer's pad id (``input_ids`` padding).
        validate: ``validate(model, epoch) -> float`` after each epoch (1-based), with the model
            unwrapped, in eval mode and under ``torch.no_grad``; called on every rank. ``None``
            selects the last epoch.
        selection: ``"max"`` or ``"min"``: which score is best (ties keep the earlier epoch).
        resume: continue from the latest complete checkpoint in ``out_dir`` when there is one.
        progress: show a tqdm bar (rank 0 only).
        keep_checkpoints: how many of the latest epoch checkpoints to keep (>= 1).
        device: where to train; ``None`` keeps a model already on an accelerator, else uses
            ``cuda:LOCAL_RANK`` when CUDA is available, else the CPU. The model is moved there.
        threads: ``torch.set_num_threads`` for the duration of the call (restored afterwards);
            ``None`` leaves torch's setting alone.
    """
    started = time.perf_counter()
    if kind not in KINDS:
        raise ConfigError("kind", choices(KINDS), kind)
    if selection not in SELECTIONS:
        raise ConfigError("selection", choices(SELECTIONS), selection)
    if not isinstance(config, TrainConfig):
        raise ConfigError("config", "a TrainConfig", config)
    if isinstance(pad_token_id, bool) or not isinstance(pad_token_id, int) or pad_token_id < 0:
        raise ConfigError("pad_token_id", "a non-negative integer", pad_token_id)
    if validate is not None and not callable(validate):
        raise ConfigError("validate", "None or a callable (model, epoch) -> float", validate)
    if not _is_int(keep_checkpoints) or keep_checkpoints < 1:
        raise ConfigError("keep_checkpoints", "an integer >= 1", keep_checkpoints)
    check_threads(threads)
    examples = list(examples)
    if not examples:
        raise ConfigError("examples", "at least one TokenizedExample", verbatim("none"))
    for example in examples:
        if not isinstance(example, TokenizedExample):
            raise ConfigError("examples", "TokenizedExample items", example)
    if kind == "seq2seq" and any(not ex.source_ids for ex in examples):
        raise ConfigError("source_ids", "at least one token id for a seq2seq model", ())
    if not any(True for _ in model.parameters()):
        raise ConfigError("model", "a module with parameters", type(model).__name__)

    train_device = _resolve_device(model, device)
    if train_device.type == "cuda":
        torch.cuda.set_device(train_device)  # nccl and DDP need the process's own GPU current
    rank, world_size = _init_distributed(train_device)
    precision = resolve_precision(config.precision, train_device)
    forked = [train_device.index or 0] if train_device.type == "cuda" else []
    with torch_threads(threads), torch.random.fork_rng(devices=forked, device_type="cuda"):
        run = _Run(
            model=model,
            examples=examples,
            config=config,
            out_dir=Path(out_dir),
            kind=kind,
            pad_token_id=pad_token_id,
            validate=validate,
            selection=selection,
            progress=progress,
            keep_checkpoints=keep_checkpoints,
            device=train_device,
            precision=precision,
            rank=rank,
            world_size=world_size,
        )
        return run.fit(resume=resume, started=started)


# --- internals -----------------------------------------------------------------------------


def _resolve_device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    if device is not None:
        chosen = torch.device(device)
        if chosen.type == "cuda" and chosen.index is None:
            # "cuda" alone: this process's GPU (torch.cuda.set_device needs an index).
            chosen = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return chosen
    current = next(model.parameters()).device
    if current.type != "cpu":
        return current
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return current


def _init_distributed(device: torch.device) -> tuple[int, int]:
    """``(rank, world_size)``; initialises the default process group under torchrun."""
    initialized = dist.is_available() and dist.is_initialized()
    if not initialized and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return world()


def _callback_name(callback: Callable[..., Any]) -> str:
    inner = getattr(callback, "func", callback)  # functools.partial
    return getattr(inner, "__qualname__", None) or type(inner).__name__


def _summed_loss(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> torch.Tensor:
    """Sum of the target tokens' cross-entropy, in float32 (causal: token t from tokens < t)."""
    if kind == "causal":
        logits, labels = logits[:, :-1], labels[:, 1:]
    return F.cross_entropy(
        logits.reshape(-1, logits.size(-1)).float(),
        labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )


class _Run:
    """The state of one ``fit`` call: model, optimizer, position, scores."""

    def __init__(
        self,
        *,
        model: nn.Module,
        examples: list[TokenizedExample],
        config: TrainConfig,
        out_dir: Path,
        kind: str,
        pad_token_id: int,
        validate: Callable[[nn.Module, int], float] | None,
        selection: str,
        progress: bool,
        keep_checkpoints: int,
        device: torch.device,
        precision: str,
        rank: int,
        world_size: int,
    ) -> None:
        self.module = model.to(device)
        self.examples = examples
        self.config = config
        self.out_dir = out_dir
        self.kind = kind
        self.pad_token_id = pad_token_id
        self.validate = validate
        self.selection = selection
        self.progress = progress
        self.keep_checkpoints = keep_checkpoints
        self.device = device
        self.precision = precision
        self.rank = rank
        self.world_size = world_size
        self.distributed = world_size > 1
        # Collectives run on CUDA tensors under nccl, CPU tensors under gloo.
        self.comm_device = device if self.distributed and device.type == "cuda" else None
        self.step_size = config.batch_size * world_size * config.grad_accum
        self.steps_per_epoch = math.ceil(len(examples) / self.step_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.warmup = config.warmup(self.total_steps)
        # what a checkpoint must match to be resumed by this run
        self.meta = checkpoint_meta(
            config.to_dict(),
            world_size=world_size,
            kind=kind,
            selection=selection,
            callback=None if validate is None else _callback_name(validate),
            examples=examples,
        )
        # progress of the run (restored from a checkpoint on resume)
        self.epoch = 0
        self.global_step = 0
        self.losses: list[float] = []
        self.scores: list[float | None] = []
        self.best_epoch: int | None = None
        self.best_score: float | None = None
        self.log_bytes = 0

    # -- set-up ------------------------------------------------------------------------------

    def _barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def _sum(self, value: float | int) -> float:
        """``value`` summed over all processes, in float64."""
        tensor = torch.tensor([value], dtype=torch.float64, device=self.comm_device)
        if self.distributed:
            dist.all_reduce(tensor)
        return tensor.item()

    def _start_fresh(self) -> None:
        if self.rank == 0:
            stale = [self.out_dir / name for name in (CHECKPOINTS, BEST, LOG_FILE, SELECTION_FILE)]
            present = [path for path in stale if path.exists()]
            if present:
                logger.warning(
                    "starting a fresh training run: removing %s",
                    ", ".join(str(p) for p in present),
                )
            for path in present:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / LOG_FILE).touch()
        self._barrier()

    def _resume(self, path: Path) -> None:
        saved = read_checkpoint(path, self.meta)
        self.module.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        set_rng_state(saved["rng"][self.rank], self.device)
        self.epoch = saved["epoch"]
        self.global_step = saved["global_step"]
        self.losses = list(saved["losses"])
        self.scores = list(saved["scores"])
        self.best_epoch = saved["best_epoch"]
        self.best_score = saved["best_score"]
        self.log_bytes = saved["log_bytes"]
        if self.rank == 0:
            log = self.out_dir / LOG_FILE
            with open(log, "ab") as handle:  # creates a missing log; never loses earlier lines
                handle.truncate(self.log_bytes)
            self._repair_best(saved)
        logger.info("resumed from %s (epoch %d, step %d)", path, self.epoch, self.global_step)

    def _repair_best(self, saved: dict[str, Any]) -> None:
        """Rewrite ``best/`` if a crash hit between this checkpoint and the best weights' write.

        The checkpoint is written before ``best/``, so only its own epoch can be missing there.
        """
        if saved_best_epoch(self.out_dir) != self.best_epoch and self.best_epoch == self.epoch:
            self._write_best(saved["model"])
        self._write_selection()

    # -- files (rank 0) ----------------------------------------------------------------------

    def _write_checkpoint(self, rng: list[dict[str, Any]]) -> None:
        state = {
            "meta": self.meta,
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "losses": list(self.losses),
            "scores": list(self.scores),
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "log_bytes": self.log_bytes,
        }
        write_checkpoint(self.out_dir, self.epoch, state)

    def _write_best(self, state_dict: dict[str, torch.Tensor]) -> None:
        write_best(self.out_dir, state_dict, epoch=self.best_epoch, score=self.best_score)

    def selection_rule(self) -> str:
        if self.validate is None:
            return f"no validation callback, last epoch {self.best_epoch}"
        name = _callback_name(self.validate)
        return f"validation callback {name}, {self.selection}, best epoch {self.best_epoch}"

    def _write_selection(self) -> None:
        write_selection(
            self.out_dir,
            rule=self.selection_rule(),
            callback=None if self.validate is None else _callback_name(self.validate),
            selection=self.selection if self.validate is not None else "last",
            best_epoch=self.best_epoch,
            best_score=self.best_score,
            scores=self.scores,
        )

    # -- training ----------------------------------------------------------------------------

    def fit(self, *, resume: bool, started: float) -> FitResult:
        was_training = self.module.training
        self.optimizer, self.scheduler = build_optimizer(
            self.module,
            learning_rate=self.config.learning_rate,
            weight_decay=self.config.weight_decay,
            warmup_steps=self.warmup,
            total_steps=self.total_steps,
        )
        checkpoint = None
        if resume:
            if self.rank == 0:
                remove_partial_checkpoints(self.out_dir)
            self._barrier()
            checkpoint = latest_checkpoint(self.out_dir)
        resumed_from = None
        if checkpoint is None:
            if resume:
                logger.info("no checkpoint in %s: starting from scratch", self.out_dir)
            self._start_fresh()
        else:
            self._resume(checkpoint)
            resumed_from = self.epoch
            self._barrier()

        logger.info(
            "training %s model: %d examples, %d epochs x %d steps of %d examples, precision %s, "
            "%d process(es)",
            self.kind,
            len(self.examples),
            self.config.epochs,
            self.steps_per_epoch,
            self.step_size,
            self.precision,
            self.world_size,
        )
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            network: nn.Module = nn.parallel.DistributedDataParallel(self.module, device_ids=ids)
        else:
            network = self.module
        self.network = network
        if resumed_from is None:
            # Not torch.manual_seed: it would also reseed GPUs outside the forked RNG state.
            torch.default_generator.manual_seed(self.config.seed + self.rank)
            if self.device.type == "cuda":
                torch.cuda.manual_seed(self.config.seed + self.rank)  # the current device only

        trained_examples = 0
        train_seconds = 0.0
        with contextlib.ExitStack() as stack:
            bar = stack.enter_context(
                tqdm(
                    total=self.total_steps,
                    initial=self.global_step,
                    disable=not self.progress or self.rank != 0,
                    desc="train",
                    unit="step",
                )
            )
            log = (
                stack.enter_context(open(self.out_dir / LOG_FILE, "ab")) if self.rank == 0 else None
            )
            stack.callback(self.module.train, was_training)
            while self.epoch < self.config.epochs:
                self.epoch += 1
                seconds, count = self._train_epoch(bar, log)
                train_seconds += seconds
                trained_examples += count
                self._end_epoch()

        assert self.best_epoch is not None  # set by the first epoch's end
        return FitResult(
            losses=tuple(self.losses),
            epochs=self.epoch,
            best_epoch=self.best_epoch,
            best_score=self.best_score,
            scores=tuple(self.scores),
            selection_rule=self.selection_rule(),
            seconds=time.perf_counter() - started,
            examples_per_second=trained_examples / train_seconds if train_seconds else 0.0,
            resumed_from=resumed_from,
            out_dir=str(self.out_dir),
            precision=self.precision,
            world_size=self.world_size,
            config=self.config,
            provenance=Provenance(
                seed=self.config.seed,
                config={
                    **self.config.to_dict(),
                    "kind": self.kind,
                    "selection": self.selection,
                    "world_size": self.world_size,
                    "precision_used": self.precision,
                },
            ),
        )

    def _train_epoch(self, bar: tqdm, log: Any) -> tuple[float, int]:
        """One epoch; returns (seconds spent in steps, examples trained on, all processes)."""
        self.module.train()
        generator = torch.Generator().manual_seed(self.config.seed + self.epoch)
        order = torch.randperm(len(self.examples), generator=generator).tolist()
        seconds = 0.0
        window_loss, window_steps, window_examples, window_start = 0.0, 0, 0, time.perf_counter()
        for index in range(self.steps_per_epoch):
            chunk = order[index * self.step_size : (index + 1) * self.step_size]
            tick = time.perf_counter()
            loss, lr = self._step(chunk)
            seconds += time.perf_counter() - tick
            self.global_step += 1
            self.losses.append(loss)
            window_loss += loss
            window_steps += 1
            window_examples += len(chunk)
            bar.update(1)
            last = index == self.steps_per_epoch - 1
            if self.global_step % self.config.log_every == 0 or last:
                now = time.perf_counter()
                mean = window_loss / window_steps
                rate = window_examples / max(now - window_start, 1e-9)
                bar.set_postfix(epoch=self.epoch, loss=f"{mean:.4f}")
                if log is not None:
                    line = {
                        "step": self.global_step,
                        "epoch": self.epoch,
                        "loss": mean,
                        "lr": lr,
                        "examples_per_second": rate,
                    }
                    log.write((json.dumps(line) + "\n").encode("utf-8"))
                    log.flush()
                    self.log_bytes = log.tell()
                window_loss, window_steps, window_examples, window_start = 0.0, 0, 0, now
        return seconds, len(self.examples)

    def _step(self, chunk: list[int]) -> tuple[float, float]:
        """One optimizer step on the global examples ``chunk``; returns (loss, lr used)."""
        size = self.config.batch_size
        micro = size * self.world_size
        parts = [
            chunk[m * micro : (m + 1) * micro][self.rank * size : (self.rank + 1) * size]
            for m in range(math.ceil(len(chunk) / micro))
        ]
        batches = []
        for part in parts:
            # An empty share still runs a forward (weight 0) so every process joins the all-reduce.
            chosen = part or chunk[:1]
            batch = collate(
                [self.examples[i] for i in chosen], self.kind, pad_token_id=self.pad_token_id
            )
            batches.append((bool(part), {k: v.to(self.device) for k, v in batch.items()}))
        tokens = sum(target_token_count(b["labels"], self.kind) for real, b in batches if real)
        total_tokens = self._sum(tokens)
        scale = self.world_size / max(total_tokens, 1.0)  # DDP averages gradients over processes
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        autocast = autocast_context(self.precision, self.device)
        for m, (real, batch) in enumerate(batches):
            sync = m == len(batches) - 1
            no_sync = self.network.no_sync() if self.distributed and not sync else None
            with no_sync or contextlib.nullcontext():
                with autocast:
                    logits = self._forward(batch)
                summed = _summed_loss(logits, batch["labels"], self.kind)
                if not real:
                    summed = summed * 0.0
                (summed * scale).backward()
            loss_sum += summed.detach().double()
        loss = self._sum(loss_sum.item()) / max(total_tokens, 1.0)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"training loss is {loss} at step {self.global_step + 1} (epoch {self.epoch})"
            )
        if self.config.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.config.max_grad_norm)
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss, lr

    def _forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        if self.kind == "seq2seq":
            prepare = getattr(self.module, "prepare_decoder_input_ids_from_labels", None)
            if prepare is not None:
                inputs["decoder_input_ids"] = prepare(labels=batch["labels"])
            else:
                inputs["labels"] = batch["labels"]
        return self.network(**inputs).logits

    def _end_epoch(self) -> None:
        self.module.eval()
        score: float | None = None
        if self.validate is not None:
            with torch.no_grad():
                value = self.validate(self.module, self.epoch)
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            if (
                not isinstance(value, numbers.Real)
                or isinstance(value, bool)
                or not math.isfinite(value)
            ):
                raise ConfigError("validate", "a callable returning a finite number", value)
            score = float(value)
            if self.distributed:  # every rank selects with rank 0's score
                shared = torch.tensor([score], dtype=torch.float64, device=self.comm_device)
                dist.broadcast(shared, src=0)
                score = shared.item()
        self.scores.append(score)
        improved = self.best_epoch is None or (
            score is None
            or (score > self.best_score if self.selection == "max" else score < self.best_score)
        )
        if improved:
            self.best_epoch, self.best_score = self.epoch, score
        rng = [rng_state(self.device)]
        if self.distributed:
            rng = [None] * self.world_size
            dist.all_gather_object(rng, rng_state(self.device))
        if self.rank == 0:
            # Checkpoint first, then best/: a crash in between is repaired on resume from the
            # checkpoint, which holds the same weights.
            self._write_checkpoint(rng)
            if improved:
                self._write_best(self.module.state_dict())
            self._write_selection()
            prune_checkpoints(self.out_dir, self.keep_checkpoints)
            logger.info("epoch %d: score %s (best epoch %s)", self.epoch, score, self.best_epoch)
        self._barrier()
