"""Ground-truth item-item similarity for the Memorization Score, from the interaction data.

Three kinds, each labelled wherever it is reported:

- ``dev_devs`` (the default; META ID paper eq. 12-13, what the released code computes): per item
  ``Dev(i) = sum_u (r_ui - mean_u)`` and ``DevS(i) = sum_u (r_ui - mean_u)^2`` over the users who
  rated ``i``, and ``sim'(i, j) = Dev(i) Dev(j) / (sqrt(DevS(i)) sqrt(DevS(j)))``. This is a
  rank-1 matrix ``a a^T`` with ``a_i = Dev(i) / sqrt(DevS(i))``: it ignores which users rated both
  items, so it is *not* the adjusted cosine of eq. 4, and it is not bounded by 1
  (``|a_i| <= sqrt(#ratings of i)`` by Cauchy-Schwarz).
- ``adjusted_cosine`` (paper eq. 4, Sarwar et al. 2001): over the users ``U_ij`` who rated both
  ``i`` and ``j``, ``sum (r_ui - mean_u)(r_uj - mean_u) / sqrt(sum (r_ui - mean_u)^2 * sum
  (r_uj - mean_u)^2)``, computed exactly through sparse products; zero for pairs nobody co-rated.
- ``cooccurrence_cosine``: cosine between the binary interaction columns of ``i`` and ``j``
  (``|U_i & U_j| / sqrt(|U_i| |U_j|)``), for data without ratings. It is a different quantity,
  not an approximation of the rating-based ones.

``mean_u`` is user ``u``'s mean rating over the interactions given. Whenever a denominator is zero
(an item nobody rated away from their mean, or with no ratings at all) the similarity is 0, never
NaN. Only pairs ``i != j`` are described: the diagonal is ignored by every consumer. The user-side
analogue of ``Dev`` is identically zero (``sum_i (r_ui - mean_u) = 0`` for every user), which is
why the scores here are item-side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from idprobe.data import Interactions
from idprobe.errors import ConfigError, DatasetError, verbatim
from idprobe.metrics._checks import check_option

__all__ = [
    "GROUND_TRUTH_KINDS",
    "DevDevs",
    "SimilarityGroundTruth",
    "dev_devs",
    "similarity_ground_truth",
]

GROUND_TRUTH_KINDS = ("dev_devs", "adjusted_cosine", "cooccurrence_cosine")

LABELS = {
    "dev_devs": "rating deviations Dev/DevS, rank-1 (META ID eq. 12)",
    "adjusted_cosine": "adjusted cosine over co-rating users (META ID eq. 4)",
    "cooccurrence_cosine": "co-occurrence cosine (binary interactions, no ratings)",
    "custom": "user-supplied similarity matrix",
}


@dataclass(frozen=True, eq=False)
class DevDevs:
    """Per-item rating deviation sums (paper eq. 13), in dense item order.

    Attributes:
        dev: ``Dev(i) = sum_{u rated i} (r_ui - mean_u)``.
        devs: ``DevS(i) = sum_{u rated i} (r_ui - mean_u)^2``.
        n_ratings: number of ratings of each item.
    """

    dev: np.ndarray
    devs: np.ndarray
    n_ratings: np.ndarray

    @property
    def factor(self) -> np.ndarray:
        """``a_i = Dev(i) / sqrt(DevS(i))`` (0 where ``DevS(i) = 0``), so ``sim' = a a^T``."""
        root = np.sqrt(self.devs)
        out = np.zeros_like(self.dev)
        np.divide(self.dev, root, out=out, where=root > 0)
        return out


@dataclass(frozen=True, eq=False)
class SimilarityGroundTruth:
    """Similarity of every pair ``i != j`` of ``n`` entities, stored as compactly as it allows.

    Exactly one of ``factor`` (rank-1: ``sim(i, j) = factor[i] * factor[j]``) and ``matrix`` (a
    symmetric ``(n, n)`` scipy sparse matrix with an empty diagonal, or a dense array whose
    diagonal is ignored) is set. ``items`` are the dense item indices described, in order, when
    the ground truth was computed from interactions.
    """

    kind: str
    label: str
    n: int
    factor: np.ndarray | None = None
    matrix: Any = None
    items: np.ndarray | None = None

    @classmethod
    def rank_one(
        cls, factor: Any, kind: str = "custom", label: str | None = None
    ) -> SimilarityGroundTruth:
        """``sim(i, j) = factor[i] * factor[j]``."""
        vector = np.asarray(factor, dtype=np.float64)
        if vector.ndim != 1 or not np.isfinite(vector).all():
            raise ConfigError("factor", "a finite 1-D array", verbatim(f"shape {vector.shape}"))
        return cls(kind, label or LABELS.get(kind, kind), vector.size, factor=vector)

    @classmethod
    def from_matrix(
        cls, matrix: Any, kind: str = "custom", label: str | None = None
    ) -> SimilarityGroundTruth:
        """Wrap a symmetric ``(n, n)`` dense array or scipy sparse matrix (diagonal ignored)."""
        if sp.issparse(matrix):
            csr = sp.csr_matrix(matrix, dtype=np.float64, copy=True)  # never edit the caller's
            values = csr.data
        else:
            csr = np.asarray(matrix, dtype=np.float64)
            values = csr
        if csr.ndim != 2 or csr.shape[0] != csr.shape[1]:
            raise ConfigError(
                "ground_truth", "a square (n, n) matrix", verbatim(f"shape {csr.shape}")
            )
        if not np.isfinite(values).all():
            raise ConfigError("ground_truth", "finite similarities", verbatim("NaN or inf"))
        asymmetry = abs(csr - csr.T)
        largest = asymmetry.max() if asymmetry.size else 0.0
        scale = max(abs(values).max() if values.size else 0.0, 1.0)
        if largest > 1e-9 * scale:
            raise ConfigError(
                "ground_truth", "a symmetric matrix", verbatim(f"|S - S^T| up to {largest:.3g}")
            )
        if sp.issparse(csr):
            csr.setdiag(0)
            csr.eliminate_zeros()
        return cls(kind, label or LABELS.get(kind, kind), csr.shape[0], matrix=csr)

    @property
    def is_rank_one(self) -> bool:
        return self.factor is not None

    @property
    def is_sparse(self) -> bool:
        return self.matrix is not None and sp.issparse(self.matrix)

    def subset(self, index: Any) -> SimilarityGroundTruth:
        """The ground truth restricted to the entities ``index`` (positions, in that order)."""
        index = np.asarray(index, dtype=np.int64)
        items = self.items[index] if self.items is not None else None
        if self.factor is not None:
            return SimilarityGroundTruth(
                self.kind, self.label, index.size, factor=self.factor[index], items=items
            )
        matrix = self.matrix[index][:, index]
        return SimilarityGroundTruth(self.kind, self.label, index.size, matrix=matrix, items=items)

    def pairs(self, left: Any, right: Any) -> np.ndarray:
        """Similarity of the pairs ``(left[k], right[k])`` (vectorised)."""
        left = np.asarray(left, dtype=np.int64)
        right = np.asarray(right, dtype=np.int64)
        if self.factor is not None:
            return self.factor[left] * self.factor[right]
        if self.is_sparse:
            return np.asarray(self.matrix[left, right]).ravel()
        return self.matrix[left, right]

    def dense(self) -> np.ndarray:
        """The ``(n, n)`` matrix with a zero diagonal (memory ``8 n^2`` bytes: small ``n`` only)."""
        if self.factor is not None:
            out = np.outer(self.factor, self.factor)
        elif self.is_sparse:
            out = self.matrix.toarray()
        else:
            out = np.array(self.matrix, dtype=np.float64)
        np.fill_diagonal(out, 0.0)
        return out

    def pair_moments(self) -> tuple[float, float]:
        """``(sum sim(i, j), sum sim(i, j)^2)`` over the ordered pairs ``i != j``."""
        if self.factor is not None:
            a = self.factor
            squares = a * a
            return float(a.sum() ** 2 - squares.sum()), float(
                squares.sum() ** 2 - (squares**2).sum()
            )
        if self.is_sparse:
            return float(self.matrix.sum()), float((self.matrix.data**2).sum())
        total, squares = 0.0, 0.0
        for block in _off_diagonal_blocks(self.matrix, fill=0.0):
            total += float(block.sum())
            squares += float(np.einsum("ij,ij->", block, block))
        return total, squares

    def off_diagonal_range(self) -> tuple[float, float]:
        """``(min, max)`` of ``sim(i, j)`` over the pairs ``i != j``."""
        if self.n < 2:
            raise ConfigError("ground_truth", "at least 2 entities", verbatim(str(self.n)))
        if self.factor is not None:
            # Extreme products of two distinct entries are among the products of the two
            # smallest, the two largest, and the smallest with the largest.
            s = np.sort(self.factor)
            candidates = np.array([s[0] * s[1], s[-1] * s[-2], s[0] * s[-1]])
            return float(candidates.min()), float(candidates.max())
        if self.is_sparse:
            data = self.matrix.data
            low = float(data.min()) if data.size else 0.0
            high = float(data.max()) if data.size else 0.0
            if self.matrix.nnz < self.n * (self.n - 1):  # some pair is an implicit zero
                low, high = min(low, 0.0), max(high, 0.0)
            return low, high
        low, high = np.inf, -np.inf
        for block in _off_diagonal_blocks(self.matrix, fill=np.nan):
            low = min(low, float(np.nanmin(block)))
            high = max(high, float(np.nanmax(block)))
        return low, high


def _off_diagonal_blocks(matrix: Any, fill: float, size: int = 1024) -> Iterator[np.ndarray]:
    """Float64 copies of ``size`` rows of a dense square matrix at a time, diagonal set to ``fill``."""
    for start in range(0, matrix.shape[0], size):
        block = np.array(matrix[start : start + size], dtype=np.float64)
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = fill
        yield block


def _ratings_matrix(interactions: Interactions, kind: str) -> sp.csr_matrix:
    """``D[u, i] = r_ui - mean_u`` as CSR (explicit zeros kept)."""
    if not interactions.has_ratings:
        raise DatasetError(
            f"{interactions.name}: ground truth '{kind}' needs ratings and the data has none; "
            "use kind='cooccurrence_cosine' for data without ratings"
        )
    lengths = interactions.lengths
    ratings = interactions.ratings.astype(np.float64)
    user_means = np.add.reduceat(ratings, interactions.offsets[:-1]) / lengths
    deviations = ratings - np.repeat(user_means, lengths)
    matrix = sp.csr_matrix(
        (deviations, interactions.item_index.astype(np.int64), interactions.offsets),
        shape=(interactions.n_users, interactions.n_items),
    )
    return matrix


def dev_devs(interactions: Interactions) -> DevDevs:
    """Precompute ``Dev`` and ``DevS`` of every item once (paper eq. 13; module docstring)."""
    deviations = _ratings_matrix(interactions, "dev_devs")
    columns = deviations.tocsc()
    dev = np.asarray(columns.sum(axis=0)).ravel()
    devs = np.asarray(columns.multiply(columns).sum(axis=0)).ravel()
    return DevDevs(dev=dev, devs=devs, n_ratings=np.diff(columns.indptr).astype(np.int64))


def _divide_pairs(numerator: sp.spmatrix, denominator: sp.spmatrix) -> sp.csr_matrix:
    """Elementwise ``numerator / denominator``, 0 where the denominator is 0 or absent.

    Done as a sparse elementwise product with the reciprocal, so no entry is looked up one by one.
    """
    reciprocal = sp.csr_matrix(denominator, dtype=np.float64, copy=True)
    positive = reciprocal.data > 0
    reciprocal.data[positive] = 1.0 / reciprocal.data[positive]
    reciprocal.data[~positive] = 0.0
    return _without_diagonal(sp.csr_matrix(numerator).multiply(reciprocal))


def _without_diagonal(matrix: sp.spmatrix) -> sp.csr_matrix:
    """CSR copy of ``matrix`` with the diagonal and every stored zero removed."""
    out = sp.csr_matrix(matrix)
    out.setdiag(0)
    out.eliminate_zeros()
    return out


def _adjusted_cosine(deviations: sp.csr_matrix) -> sp.csr_matrix:
    """Eq. 4 over co-rating users: ``N / sqrt(Q * Q^T)`` with ``N = D^T D``, ``Q = (D*D)^T B``.

    ``Q[i, j] = sum_{u rated i and j} (r_ui - mean_u)^2``: the squared deviations of ``i`` summed
    over the users who also rated ``j``, which is the denominator of eq. 4 restricted to co-raters.
    """
    columns = deviations.tocsc()
    rated = columns.copy()
    rated.data = np.ones_like(rated.data)
    squares = columns.multiply(columns).tocsc()
    numerator = (columns.T @ columns).tocsr()
    q = (squares.T @ rated).tocsr()
    denominator = q.multiply(q.T).sqrt().tocsr()
    similarity = _divide_pairs(numerator, denominator)
    # A cosine: |sim| <= 1 by Cauchy-Schwarz; the square root can round to 1 + 2e-16.
    np.clip(similarity.data, -1.0, 1.0, out=similarity.data)
    return similarity


def _cooccurrence_cosine(interactions: Interactions, items: np.ndarray | None) -> sp.csr_matrix:
    binary = sp.csr_matrix(
        (
            np.ones(interactions.n_interactions),
            interactions.item_index.astype(np.int64),
            interactions.offsets,
        ),
        shape=(interactions.n_users, interactions.n_items),
    )
    if items is not None:
        binary = binary[:, items]
    counts = np.asarray(binary.sum(axis=0)).ravel()
    inverse_root = np.zeros_like(counts)
    np.divide(1.0, np.sqrt(counts), out=inverse_root, where=counts > 0)
    scale = sp.diags(inverse_root)  # C_ij / sqrt(n_i n_j) = (S C S)_ij, S = diag(n^-1/2)
    return _without_diagonal(scale @ (binary.T @ binary) @ scale)


def similarity_ground_truth(
    interactions: Interactions, kind: str = "dev_devs", items: Any = None
) -> SimilarityGroundTruth:
    """Ground-truth similarity of items (module docstring: the three kinds and their formulas).

    Args:
        interactions: the data the similarities come from (typically a split's training view).
        kind: ``"dev_devs"``, ``"adjusted_cosine"`` or ``"cooccurrence_cosine"``.
        items: dense item indices to describe, in that order (default: the whole catalog).
    """
    kind = check_option("kind", kind, GROUND_TRUTH_KINDS)
    index = None
    if items is not None:
        index = np.asarray(items)
        expected = f"distinct integer item indices in [0, {interactions.n_items})"
        if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer) or index.dtype == bool:
            raise ConfigError("items", expected, items)
        index = index.astype(np.int64)
        if index.size and (index.min() < 0 or index.max() >= interactions.n_items):
            raise ConfigError("items", expected, items)
        if np.unique(index).size != index.size:
            raise ConfigError("items", expected, verbatim("a repeated index"))
    described = index if index is not None else np.arange(interactions.n_items)
    if kind == "dev_devs":
        factor = dev_devs(interactions).factor
        factor = factor[index] if index is not None else factor
        return SimilarityGroundTruth(
            kind, LABELS[kind], factor.size, factor=factor, items=described
        )
    if kind == "adjusted_cosine":
        deviations = _ratings_matrix(interactions, kind)
        if index is not None:
            deviations = deviations[:, index]
        matrix = _adjusted_cosine(deviations)
    else:
        matrix = _cooccurrence_cosine(interactions, index)
    return SimilarityGroundTruth(
        kind, LABELS[kind], matrix.shape[0], matrix=matrix, items=described
    )
