"""Train one run with validation-based model selection.

``train`` wires the evaluation layer's validation callback into the training layer's run, which
is why it lives here: ``training`` never computes metrics (DESIGN.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idprobe.evaluation import validation_callback
from idprobe.training.run import RunSettings, train_run
from idprobe.training.trainer import FitResult

__all__ = ["train"]


def train(
    settings: RunSettings,
    directory: str | Path,
    *,
    resume: bool = False,
    select_on: str | None = "ndcg@10",
    validation_users: int | None = 1000,
    progress: bool = True,
    **validation: Any,
) -> FitResult:
    """Train ``settings`` into ``directory``; after each epoch score ``select_on`` of the
    sequential (or else direct) task on ``validation_users`` seeded validation users and keep the
    best epoch. ``select_on=None``, or a run without a ranking task, keeps the last epoch.
    ``validation`` passes further options (``beams``, ``batch_size``) to the callback."""
    ranking = [t for t in ("sequential", "direct") if t in settings.tasks]
    callback = None
    if select_on is not None and ranking:  # rating/text-only runs keep their last epoch
        callback = validation_callback(
            task=ranking[0],
            metric=select_on,
            max_users=validation_users,
            seed=settings.seed,
            **validation,
        )
    return train_run(settings, directory, resume=resume, validate=callback, progress=progress)
