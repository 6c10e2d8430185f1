"""Cached stages: a stage's outputs are reused when its key (data, parameters, code) is unchanged.

Each finished stage leaves a marker ``stages/<name>.json`` holding its key, written atomically
after the stage's own outputs. A stage is done exactly when its marker exists with the key the
current configuration gives; a killed stage has no marker, so a repeated run redoes (or, for
training with ``--resume``, continues) only that stage. The key hashes the stage's inputs: the
data fingerprint, its parameters, the keys of the stages it reads, and the idprobe version.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idprobe._version import __version__
from idprobe.experiment.config import stable_hash
from idprobe.results import atomic_write_json

__all__ = ["StageCache", "stage_key"]

log = logging.getLogger(__name__)


def stage_key(name: str, *inputs: Any) -> str:
    """The key of stage ``name`` for ``inputs`` under this idprobe version."""
    return stable_hash([name, __version__, *inputs])


@dataclass(frozen=True)
class StageCache:
    """The stage markers under ``directory/stages``; ``label`` prefixes progress messages."""

    directory: Path
    label: str

    def marker(self, name: str) -> Path:
        return self.directory / "stages" / f"{name}.json"

    def done(self, name: str, key: str) -> bool:
        path = self.marker(name)
        if not path.exists():
            return False
        try:
            return json.loads(path.read_text())["key"] == key
        except (OSError, ValueError, KeyError):
            return False  # a damaged marker means the stage is not known to be done

    def stale(self, name: str, key: str) -> bool:
        """A marker exists but for other inputs: the stage's old outputs must go."""
        return self.marker(name).exists() and not self.done(name, key)

    def seconds(self, name: str) -> float | None:
        try:
            return float(json.loads(self.marker(name).read_text())["seconds"])
        except (OSError, ValueError, KeyError):
            return None

    def prepare_training(self, name: str, key: str, resume: bool) -> bool:
        """Before (re)running the training stage ``name`` whose run writes ``settings.json``
        first: a run for other inputs, or an interrupted one without ``resume``, is removed
        (nothing old may leak in); returns whether the training should resume the run left."""
        partial = (self.directory / "settings.json").exists()
        stale = self.stale(name, key)
        if stale or (partial and not resume):
            if partial and not stale:
                log.info("[%s] an interrupted run restarts (--resume continues it)", self.label)
            shutil.rmtree(self.directory)
        return resume and (self.directory / "settings.json").exists()

    def run(self, name: str, key: str, work: Callable[[], Any]) -> bool:
        """Run ``work`` unless stage ``name`` is done with ``key``; returns whether it ran."""
        if self.done(name, key):
            log.info("[%s] %s: cached", self.label, name)
            return False
        self.marker(name).unlink(missing_ok=True)
        log.info("[%s] %s ...", self.label, name)
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        atomic_write_json(
            self.marker(name),
            {
                "key": key,
                "seconds": round(seconds, 3),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "version": __version__,
            },
        )
        log.info("[%s] %s: done in %.1f s", self.label, name, seconds)
        return True
