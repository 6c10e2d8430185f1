"""Where the real datasets of ../shared/data are, and a skip with the reason when one is absent.

A module of its own (not conftest) so that tests anywhere can import it: ``conftest`` is a
name every test directory may have.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("IDPROBE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_dataset(name: str) -> Path:
    """Path of a real dataset in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real dataset {name!r} not found at {path} (set IDPROBE_SHARED_DATA)")
    return path
