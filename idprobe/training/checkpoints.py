"""The files ``fit`` keeps in its ``out_dir``: checkpoints, best weights, the selection record.

``idprobe.training.trainer`` decides *what* goes into them and *when*; this module decides how
they are laid out and written so that a killed run never leaves a half-written one behind:
torch files are written to a temporary name, flushed to disk and renamed; an epoch's checkpoint
directory is built hidden (``.tmp-...``) and renamed, so ``checkpoints/epoch-{n}`` is complete
or absent. It also holds what resuming needs besides the weights: the RNG states of a process
(torch, CUDA, numpy, Python) and the run's identity (configuration, process count, examples),
which a checkpoint must match to be resumed. The layout is described in the trainer's docstring.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import tempfile
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from idprobe.errors import ConfigError, verbatim
from idprobe.results import atomic_write_json
from idprobe.training.batching import TokenizedExample

__all__ = [
    "BEST",
    "CHECKPOINTS",
    "SELECTION_FILE",
    "checkpoint_meta",
    "latest_checkpoint",
    "load_best",
    "prune_checkpoints",
    "read_checkpoint",
    "remove_partial_checkpoints",
    "rng_state",
    "saved_best_epoch",
    "set_rng_state",
    "write_best",
    "write_checkpoint",
    "write_selection",
]

SELECTION_FILE = "selection.json"
CHECKPOINTS = "checkpoints"
BEST = "best"
_CHECKPOINT_FILE = "checkpoint.pt"
_BEST_FILE = "model.pt"
_BEST_INFO = "best.json"
_EPOCH_DIR = re.compile(r"epoch-(\d+)")
_TMP_PREFIX = ".tmp-"
_FORMAT = 1
# Fields that may differ between a checkpoint and the run resuming it: they change no number.
_RESUMABLE_CHANGES = frozenset({"log_every"})
_META_NAMES = {"world_size": "world size", "n_examples": "examples", "examples_digest": "examples"}


# --- writing ------------------------------------------------------------------------------------


def _save_file(obj: Any, path: Path) -> None:
    """``torch.save`` into ``path`` and flush it to disk (the caller makes it appear atomically)."""
    with open(path, "wb") as handle:
        torch.save(obj, handle)
        handle.flush()
        os.fsync(handle.fileno())


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        _save_file(obj, Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_checkpoint(out_dir: Path, epoch: int, state: dict[str, Any]) -> None:
    """Write ``state`` (with the format version) as ``out_dir/checkpoints/epoch-{epoch}``.

    Built in a hidden temporary directory and renamed, replacing an older one of that epoch.
    """
    root = out_dir / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}epoch-{epoch}-", dir=root))
    try:
        _save_file({"format": _FORMAT, **state}, tmp / _CHECKPOINT_FILE)
        target = root / f"epoch-{epoch}"
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _checkpoint_dirs(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _EPOCH_DIR.fullmatch(child.name)
        if match and (child / _CHECKPOINT_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def prune_checkpoints(out_dir: Path, keep: int) -> None:
    """Delete all but the latest ``keep`` complete checkpoints."""
    for _, path in _checkpoint_dirs(out_dir / CHECKPOINTS)[:-keep]:
        shutil.rmtree(path)


def remove_partial_checkpoints(out_dir: Path) -> None:
    """Delete the hidden directories of interrupted checkpoint writes."""
    root = out_dir / CHECKPOINTS
    for leftover in root.glob(f"{_TMP_PREFIX}*") if root.is_dir() else []:
        shutil.rmtree(leftover, ignore_errors=True)


def write_best(
    out_dir: Path, state_dict: dict[str, torch.Tensor], *, epoch: int | None, score: float | None
) -> None:
    """Write the best epoch's weights (``best/model.pt``) and its epoch and score (``best.json``)."""
    best = out_dir / BEST
    payload = {"epoch": epoch, "score": score, "model": state_dict}
    _atomic_torch_save(payload, best / _BEST_FILE)
    atomic_write_json(best / _BEST_INFO, {"epoch": epoch, "score": score})


def saved_best_epoch(out_dir: Path) -> int | None:
    """The epoch ``best/best.json`` records, or ``None`` when it is absent."""
    info = out_dir / BEST / _BEST_INFO
    return json.loads(info.read_text("utf-8"))["epoch"] if info.is_file() else None


def write_selection(
    out_dir: Path,
    *,
    rule: str,
    callback: str | None,
    selection: str,
    best_epoch: int | None,
    best_score: float | None,
    scores: Sequence[float | None],
) -> None:
    """Write ``selection.json``: the rule in words, the best epoch and score, every epoch's score."""
    atomic_write_json(
        out_dir / SELECTION_FILE,
        {
            "rule": rule,
            "callback": callback,
            "selection": selection,
            "best_epoch": best_epoch,
            "best_score": best_score,
            "scores": [
                {"epoch": epoch, "score": score} for epoch, score in enumerate(scores, start=1)
            ],
        },
    )


# --- reading ------------------------------------------------------------------------------------


def latest_checkpoint(out_dir: str | os.PathLike[str]) -> Path | None:
    """The latest complete checkpoint file under ``out_dir/checkpoints``, or ``None``.

    Complete means a directory named ``epoch-{n}`` holding ``checkpoint.pt``; temporary
    directories of an interrupted write are hidden (``.tmp-...``) and never match.
    """
    epochs = _checkpoint_dirs(Path(out_dir) / CHECKPOINTS)
    return epochs[-1][1] / _CHECKPOINT_FILE if epochs else None


def load_best(model: nn.Module, out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Load the best epoch's weights from ``out_dir/best`` into ``model``.

    Returns ``{"epoch": ..., "score": ...}`` of the loaded weights.
    """
    path = Path(out_dir) / BEST / _BEST_FILE
    if not path.is_file():
        raise ConfigError("out_dir", f"a directory with {BEST}/{_BEST_FILE} written by fit", path)
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(saved["model"])
    return {"epoch": saved["epoch"], "score": saved["score"]}


# --- resuming -----------------------------------------------------------------------------------


def _examples_digest(examples: Sequence[TokenizedExample]) -> str:
    digest = hashlib.sha256()
    for example in examples:
        for ids in (example.source_ids, example.target_ids):
            digest.update(len(ids).to_bytes(4, "little"))
            digest.update(array("q", ids).tobytes())
    return digest.hexdigest()


def checkpoint_meta(
    config: dict[str, Any],
    *,
    world_size: int,
    kind: str,
    selection: str,
    callback: str | None,
    examples: Sequence[TokenizedExample],
) -> dict[str, Any]:
    """What a run resuming a checkpoint must share with the run that wrote it.

    ``config`` is ``TrainConfig.to_dict()``; its fields that change no number (``log_every``)
    are left out. ``callback`` is the validation callback's name.
    """
    config = {name: value for name, value in config.items() if name not in _RESUMABLE_CHANGES}
    return {
        "config": config,
        "world_size": world_size,
        "kind": kind,
        "selection": selection,
        "validate": callback,
        "n_examples": len(examples),
        "examples_digest": _examples_digest(examples),
    }


def read_checkpoint(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Load the checkpoint ``path`` (on the CPU) after checking it matches ``meta``.

    ``meta`` is this run's ``checkpoint_meta``; a difference is an error that names the
    parameter, the checkpoint's value and this run's.
    """
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("format") != _FORMAT:
        raise ConfigError("resume", f"a checkpoint of format {_FORMAT}", path)
    old_meta = saved["meta"]
    for name, new in meta["config"].items():
        old = old_meta["config"].get(name)
        if old != new:
            raise ConfigError(name, f"{old!r} to resume the checkpoint {path}", new)
    for key, new in meta.items():
        if key == "config":
            continue
        old = old_meta.get(key)
        if old != new:
            parameter = _META_NAMES.get(key, key)
            found = verbatim("other examples") if key == "examples_digest" else new
            raise ConfigError(parameter, f"{old!r} to resume the checkpoint {path}", found)
    return saved


def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's torch, numpy and Python RNG states (and ``device``'s CUDA one)."""
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        # numpy's key array as a tensor so the checkpoint loads with weights_only=True
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Restore the RNG states ``rng_state`` captured."""
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
