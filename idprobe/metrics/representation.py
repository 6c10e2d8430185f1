"""ID representations: the mean of the embedding rows of an ID's tokens (META ID paper, eq. 2).

``e = (1 / |ID|) * sum_{t in ID} E[t]`` where ``E`` is a ``(vocab, d)`` token-embedding table and
the ID is the sequence of token rows of one user or item. Following REFERENCE.md, idprobe uses the
ID's own tokens only (not template words such as "item" or "_"); a token that occurs twice in an
ID counts twice. The same function serves a trained model's input embeddings, an untrained
initialisation and a pretrained table: it sees only arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from idprobe.errors import ConfigError, verbatim

__all__ = ["TokenRows", "id_representations"]


def _integers(parameter: str, values: Any) -> np.ndarray:
    """``values`` as int64, refusing floats and bools (a float row id is a bug, not a row)."""
    array = np.asarray(values)
    if array.size == 0:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        raise ConfigError(parameter, "integer token rows", verbatim(f"dtype {array.dtype}"))
    return array.astype(np.int64, copy=False)


@dataclass(frozen=True, eq=False)
class TokenRows:
    """The token rows of many IDs, ragged, in CSR form.

    The rows of entity ``k`` are ``rows[indptr[k]:indptr[k + 1]]`` (indices into an embedding
    table, not tokens and not entity indices).
    """

    indptr: np.ndarray
    rows: np.ndarray

    def __post_init__(self) -> None:
        indptr = _integers("token_ids_per_entity.indptr", self.indptr)
        rows = _integers("token_ids_per_entity", self.rows).ravel()
        if indptr.ndim != 1 or indptr.size < 1 or indptr[0] != 0 or indptr[-1] != rows.size:
            raise ConfigError(
                "token_ids_per_entity.indptr",
                f"offsets starting at 0 and ending at {rows.size}",
                verbatim(f"{indptr.size} offsets"),
            )
        lengths = np.diff(indptr)
        if (lengths < 0).any():
            raise ConfigError(
                "token_ids_per_entity.indptr", "non-decreasing offsets", verbatim("a decrease")
            )
        empty = np.flatnonzero(lengths == 0)
        if empty.size:
            raise ConfigError(
                "token_ids_per_entity",
                "at least one token row per entity",
                verbatim(f"none for entity {int(empty[0])}"),
            )
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "rows", rows)

    @classmethod
    def from_sequences(cls, sequences: Sequence[Sequence[int]]) -> TokenRows:
        """Build from one sequence of token rows per entity (lists, tuples or arrays)."""
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        indptr = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        rows = (
            np.concatenate([_integers("token_ids_per_entity", s).ravel() for s in sequences])
            if len(sequences) and indptr[-1] > 0
            else np.zeros(0, dtype=np.int64)
        )
        return cls(indptr, rows)

    def __len__(self) -> int:
        return self.indptr.size - 1

    @property
    def lengths(self) -> np.ndarray:
        """Number of tokens of each ID."""
        return np.diff(self.indptr)


def _as_token_rows(token_ids_per_entity: Any) -> TokenRows:
    if isinstance(token_ids_per_entity, TokenRows):
        return token_ids_per_entity
    if isinstance(token_ids_per_entity, np.ndarray) and token_ids_per_entity.ndim == 2:
        count, width = token_ids_per_entity.shape
        return TokenRows(np.arange(count + 1, dtype=np.int64) * width, token_ids_per_entity.ravel())
    if not isinstance(token_ids_per_entity, Sequence) or isinstance(token_ids_per_entity, str):
        raise ConfigError(
            "token_ids_per_entity",
            "a TokenRows, a 2-D integer array or a sequence of token-row sequences",
            verbatim(type(token_ids_per_entity).__name__),
        )
    return TokenRows.from_sequences(token_ids_per_entity)


def averaging_matrix(token_rows: TokenRows, vocab_size: int) -> sp.csr_matrix:
    """Sparse ``(entities, vocab)`` matrix ``A`` with ``A[k, t] = count(t in ID k) / |ID k|``."""
    lengths = token_rows.lengths
    weights = np.repeat(1.0 / lengths, lengths)
    matrix = sp.csr_matrix(
        (weights, token_rows.rows, token_rows.indptr), shape=(len(token_rows), vocab_size)
    )
    matrix.sum_duplicates()  # a token repeated inside one ID counts once per occurrence
    return matrix


def id_representations(embedding_matrix: Any, token_ids_per_entity: Any) -> np.ndarray:
    """Mean of each ID's token-embedding rows: ``e_k = mean_{t in ID_k} E[t]`` (paper eq. 2).

    Args:
        embedding_matrix: ``(vocab, d)`` array of token embeddings (any float dtype; float32 is
            kept, anything else is computed in float64).
        token_ids_per_entity: the token rows of each ID: a :class:`TokenRows`, a 2-D integer
            array (IDs of equal length) or a sequence of sequences (ragged).

    Returns:
        ``(entities, d)`` array, row ``k`` the representation of entity ``k``. The average is one
        sparse-times-dense product, with no Python loop over entities.
    """
    table = np.asarray(embedding_matrix)
    if table.ndim != 2 or table.shape[0] < 1 or table.shape[1] < 1:
        raise ConfigError(
            "embedding_matrix", "a 2-D (vocab, d) array", verbatim(f"shape {table.shape}")
        )
    if not np.issubdtype(table.dtype, np.number) or np.issubdtype(table.dtype, np.complexfloating):
        raise ConfigError(
            "embedding_matrix", "a real numeric array", verbatim(f"dtype {table.dtype}")
        )
    if table.dtype != np.float32:
        table = table.astype(np.float64, copy=False)
    token_rows = _as_token_rows(token_ids_per_entity)
    rows = token_rows.rows
    if rows.size and (rows.min() < 0 or rows.max() >= table.shape[0]):
        bad = int(np.flatnonzero((rows < 0) | (rows >= table.shape[0]))[0])
        entity = int(np.searchsorted(token_rows.indptr, bad, side="right") - 1)
        raise ConfigError(
            "token_ids_per_entity",
            f"token rows in [0, {table.shape[0]})",
            verbatim(f"{int(rows[bad])} in the ID of entity {entity}"),
        )
    used = np.unique(rows)
    if not np.isfinite(table[used]).all():
        row = int(used[~np.isfinite(table[used]).all(axis=1)][0])
        raise ConfigError("embedding_matrix", "finite values", verbatim(f"NaN or inf in row {row}"))
    averaging = averaging_matrix(token_rows, table.shape[0]).astype(table.dtype)
    return np.asarray(averaging @ table)
