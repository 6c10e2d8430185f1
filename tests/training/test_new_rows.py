"""Seeded initial rows for new ID tokens."""

from __future__ import annotations

import numpy as np
import pytest

from idprobe.errors import ConfigError
from idprobe.training.new_rows import add_missing_tokens, extend_table, new_rows
from idprobe.training.vocabulary import Vocabulary


@pytest.mark.parametrize("seed", range(5))
def test_norm_matched_rows_take_their_norms_from_the_table(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = (rng.normal(size=(50, 16)) * rng.uniform(0.1, 3, size=(50, 1))).astype(np.float32)
    rows = new_rows(table, 200, seed=seed)
    assert rows.dtype == np.float32 and rows.shape == (200, 16)
    norms = np.linalg.norm(table, axis=1)
    gaps = np.abs(np.linalg.norm(rows, axis=1)[:, None] - norms[None, :]).min(axis=1)
    assert gaps.max() < 1e-4
    # directions are spread: the mean direction is short
    units = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    assert np.linalg.norm(units.mean(axis=0)) < 0.3


def test_standard_normal_rows_and_seeding() -> None:
    table = np.zeros((3, 64))
    rows = new_rows(table, 4000, seed=1, method="standard_normal")
    assert abs(rows.mean()) < 0.01 and abs(rows.std() - 1) < 0.01
    assert np.array_equal(rows, new_rows(table, 4000, seed=1, method="standard_normal"))
    assert not np.array_equal(rows, new_rows(table, 4000, seed=2, method="standard_normal"))


def test_extend_table_appends_rows_after_the_table() -> None:
    table = np.arange(12, dtype=np.float64).reshape(4, 3) + 1
    extended, rows = extend_table(table, ["<a>", "<b>"], seed=0)
    assert rows == {"<a>": 4, "<b>": 5}
    assert extended.shape == (6, 3) and np.array_equal(extended[:4], table)


def test_add_missing_tokens_extends_only_what_the_vocabulary_lacks() -> None:
    table = np.ones((3, 2))
    vocab = Vocabulary({"a": 0, "<x>": 1, "b": 2}, "test", 3)
    extended, extended_vocab = add_missing_tokens(table, vocab, ["<x>", "<y>", "<z>"], seed=0)
    assert extended.shape == (5, 2)
    assert [extended_vocab.rows_of(t) for t in ("<x>", "<y>", "<z>")] == [(1,), (3,), (4,)]


def test_unknown_method() -> None:
    with pytest.raises(ConfigError, match="new-row method: expected one of 'norm_matched'"):
        new_rows(np.ones((2, 2)), 1, seed=0, method="zeros")
