"""Shared fixtures: tiny hand-made files, the real datasets of ../shared/data (skipped when absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# No test may reach a model hub (REFERENCE.md: an accidental hub load retries ~46 s).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tiny models on a shared 2-core machine: a second torch/BLAS thread made steps up to 17x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Real datasets: one helper module, so tests import it by a name no other conftest shadows.
from shared_data import shared_dataset


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models gain nothing from a second thread, and on a busy 2-core machine it made their
    steps up to 17x slower. Test modules import torch at collection, before this runs; a
    session without torch tests does not import it here."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def beauty_dir() -> Path:
    return shared_dataset("amazon-beauty")


@pytest.fixture
def movielens_dir() -> Path:
    return shared_dataset("movielens-100k")


@pytest.fixture
def all_beauty_file() -> Path:
    return shared_dataset("amazon18-all-beauty") / "All_Beauty_5.json.gz"


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text_or_bytes) -> Path: a file in a fresh temporary directory."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write
