"""Initial embedding rows for new (out-of-vocabulary) ID tokens, made explicit and recorded.

How new rows start matters (REFERENCE.md pitfalls 5 and 6): recent transformers silently draw them
from the mean and covariance of the old rows, OpenP5 re-initialises from N(0, 1). idprobe names
the rule and seeds it:

- ``norm_matched``: a uniformly random direction, scaled to the norm of a randomly chosen existing
  row, so new rows have the same norm distribution as the pretrained ones;
- ``standard_normal``: every entry from N(0, 1) (the OpenP5 / META ID baselines).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idprobe.errors import ConfigError, choices
from idprobe.training.vocabulary import Vocabulary

__all__ = ["NEW_ROW_METHODS", "add_missing_tokens", "extend_table", "new_rows"]

NEW_ROW_METHODS = ("norm_matched", "standard_normal")


def new_rows(table: np.ndarray, count: int, seed: int, method: str = "norm_matched") -> np.ndarray:
    """``count`` new rows for ``table`` (its dtype), drawn with ``seed`` by ``method``."""
    if method not in NEW_ROW_METHODS:
        raise ConfigError("new-row method", choices(NEW_ROW_METHODS), method)
    rng = np.random.default_rng(seed)
    width = table.shape[1]
    draws = rng.standard_normal((count, width))
    if method == "norm_matched":
        norms = np.linalg.norm(table, axis=1)
        draws /= np.linalg.norm(draws, axis=1, keepdims=True)
        draws *= rng.choice(norms, size=count, replace=True)[:, None]
    return draws.astype(table.dtype, copy=False)


def extend_table(
    table: np.ndarray,
    tokens: Sequence[str],
    seed: int,
    method: str = "norm_matched",
) -> tuple[np.ndarray, dict[str, int]]:
    """Append one initialised row per token; returns the new table and each token's row."""
    first = table.shape[0]
    extended = np.concatenate([table, new_rows(table, len(tokens), seed, method)])
    return extended, {token: first + k for k, token in enumerate(tokens)}


def add_missing_tokens(
    table: np.ndarray,
    vocabulary: Vocabulary,
    tokens: Sequence[str],
    seed: int,
    method: str = "norm_matched",
) -> tuple[np.ndarray, Vocabulary]:
    """Give the ``tokens`` the vocabulary lacks new rows; returns the table and vocabulary extended."""
    missing = [token for token in tokens if token not in vocabulary.token_to_row]
    extended, rows = extend_table(table, missing, seed=seed, method=method)
    return extended, vocabulary.with_tokens(rows)
