"""Result records with provenance, and atomic writing of result files.

Everything idprobe writes to disk carries a ``Provenance``: which idprobe version and git commit
produced it, with which seed and which resolved configuration. Files are written atomically
(temporary file in the same directory, then ``os.replace``) so a killed run never leaves a
half-written result behind.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from idprobe._version import __version__

__all__ = [
    "Provenance",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "git_commit",
]


@cache
def git_commit() -> str | None:
    """The git commit of the idprobe source tree, with ``+dirty`` if it has local changes.

    ``None`` when idprobe is not running from a git checkout (e.g. an installed wheel).
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


@dataclass(frozen=True)
class Provenance:
    """Where a result came from: enough to reproduce it.

    ``config`` is the resolved configuration (every parameter, defaults included) whose keys are
    the arguments of the Python API that produced the result.
    """

    seed: int | None
    config: dict[str, Any] = field(default_factory=dict)
    version: str = __version__
    git: str | None = field(default_factory=git_commit)
    python: str = field(default_factory=lambda: sys.version.split()[0])
    platform: str = field(default_factory=platform.platform)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        return cls(**data)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text (see ``atomic_write_bytes``)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented, key-sorted JSON (stable bytes for equal objects)."""
    return atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
