"""Memorization Score (MS) of ID representations (META ID paper, section 3.3, eq. 5, appendix B).

MS is the mean squared gap between the cosine similarity of two ID representations and their
ground-truth similarity (:mod:`idprobe.metrics.ground_truth`), over all pairs ``i < j``::

    MS = 2 / (N (N - 1)) * sum_{i < j} (cos(e_i, e_j) - sim(i, j))^2

Lower is better (the representations reproduce the ground truth). Two modes:

- ``paper``: exactly eq. 5 on the representations as given.
- ``reference``: what the released code computes, so published numbers can be compared: the
  representations are standardised per dimension and reduced by PCA keeping 95% of the variance
  before the cosine, and the ground truth is min-max scaled to [0, 1] (over the pairs scored)
  while the cosine stays in [-1, 1]. A constant ground truth scales to 0, as scikit-learn's
  ``MinMaxScaler`` does.

No pair loop is needed. With ``U`` the row-normalised representations (``c_ij = u_i . u_j``) and
the ground truth possibly rescaled as ``alpha * s_ij + beta``, the sum over ``i != j`` expands to
``sum c^2 - 2 alpha sum c s - 2 beta sum c + alpha^2 sum s^2 + 2 alpha beta sum s + beta^2 N(N-1)``
where ``sum_{all} c^2 = ||U^T U||_F^2`` and ``sum_{all} c = ||sum_i u_i||^2`` cost O(N d^2), and
``sum c s`` is ``||U^T a||^2`` for a rank-1 ground truth ``a a^T`` (O(N d)) or
``sum_{S_ij != 0} S_ij u_i.u_j`` for a sparse ``S`` (O(nnz d), a numba kernel). A dense ground
truth is summed exactly, in row blocks, from the differences themselves. A zero representation
has cosine 0 with everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from idprobe.errors import ConfigError, verbatim
from idprobe.metrics._checks import check_count, check_option, check_representations
from idprobe.metrics._result import MetricResult
from idprobe.metrics.ground_truth import SimilarityGroundTruth

__all__ = ["MEMORIZATION_MODES", "MemorizationResult", "memorization_score", "normalized_rows"]

MEMORIZATION_MODES = ("paper", "reference")
REFERENCE_VARIANCE = 0.95
_BLOCK = 1024


@dataclass(frozen=True)
class MemorizationResult(MetricResult):
    """A Memorization Score with how it was computed.

    Attributes:
        value: MS, the mean over pairs ``i < j`` of the squared cosine-minus-ground-truth gap.
        mode: ``"paper"`` or ``"reference"``.
        ground_truth: kind of ground truth (``dev_devs``, ``adjusted_cosine``, ...).
        ground_truth_label: how to describe it in a report.
        n_entities: entities scored (the sample size when sampled).
        pairs: ``n_entities (n_entities - 1) / 2``.
        sample: requested sample size, or ``None`` for all entities.
        seed: seed of the sample (``None`` when not sampled).
        components: PCA components kept (reference mode), else ``None``.
        zero_cosine_baseline: the MS of representations whose cosines are all 0, i.e. the mean
            of the (scaled) squared ground truth: how much of ``value`` is the ground truth's own
            magnitude. An MS near it means the representations capture little of the truth.
    """

    value: float
    mode: str
    ground_truth: str
    ground_truth_label: str
    n_entities: int
    pairs: int
    sample: int | None
    seed: int | None
    components: int | None
    zero_cosine_baseline: float

    def __float__(self) -> float:
        return self.value


def normalized_rows(array: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64); zero rows stay zero."""
    array = np.asarray(array, dtype=np.float64)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    out = np.zeros_like(array)
    np.divide(array, norms, out=out, where=norms > 0)
    return out


def _reference_features(reps: np.ndarray) -> np.ndarray:
    """Standardise each dimension, then PCA keeping 95% of the variance (the released code)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    standard = StandardScaler().fit_transform(np.asarray(reps, dtype=np.float64))
    if not np.any(standard):  # every dimension constant: nothing for PCA to keep
        return standard
    # The eigendecomposition of the d x d covariance is exact and several times faster than a
    # full SVD when there are more entities than dimensions (scikit-learn's own "auto" choice).
    solver = "covariance_eigh" if standard.shape[0] >= standard.shape[1] else "full"
    return PCA(n_components=REFERENCE_VARIANCE, svd_solver=solver).fit_transform(standard)


def _as_ground_truth(ground_truth: Any) -> SimilarityGroundTruth:
    if isinstance(ground_truth, SimilarityGroundTruth):
        return ground_truth
    return SimilarityGroundTruth.from_matrix(ground_truth)


def _scaled_square_sum(truth: SimilarityGroundTruth, n: int, alpha: float, beta: float) -> float:
    """``sum_{i != j} (alpha s_ij + beta)^2``: the sum for representations whose cosines are 0."""
    sum_s, sum_s2 = truth.pair_moments()
    return alpha * alpha * sum_s2 + 2 * alpha * beta * sum_s + beta * beta * n * (n - 1)


def _pair_sum_dense(units: np.ndarray, matrix: np.ndarray, alpha: float, beta: float) -> float:
    """``sum_{i != j} (c_ij - alpha s_ij - beta)^2`` from the differences, in row blocks."""
    total = 0.0
    n = units.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        gap = units[start:stop] @ units.T
        gap -= alpha * np.asarray(matrix[start:stop], dtype=np.float64) + beta
        rows = np.arange(stop - start)
        gap[rows, rows + start] = 0.0
        total += float(np.einsum("ij,ij->", gap, gap))
    return total


def _pair_sum_expanded(
    units: np.ndarray, truth: SimilarityGroundTruth, alpha: float, beta: float
) -> float:
    """The same sum through the expansion of the module docstring (rank-1 or sparse truth)."""
    n = units.shape[0]
    self_cos = np.einsum("ij,ij->i", units, units)  # 1, or 0 for a zero representation
    gram = units.T @ units
    sum_c2 = float(np.einsum("ij,ij->", gram, gram)) - float(self_cos @ self_cos)
    column_sum = units.sum(axis=0)
    sum_c = float(column_sum @ column_sum) - float(self_cos.sum())
    if truth.factor is not None:
        a = truth.factor
        projected = units.T @ a
        sum_cs = float(projected @ projected) - float(self_cos @ (a * a))
    else:
        from idprobe.metrics._kernels import weighted_pair_dots

        matrix = truth.matrix  # symmetric, empty diagonal
        sum_cs = weighted_pair_dots(matrix.indptr, matrix.indices, matrix.data, units)
    total = (
        sum_c2 - 2 * alpha * sum_cs - 2 * beta * sum_c + _scaled_square_sum(truth, n, alpha, beta)
    )
    # Every term is a sum of squares' pieces; rounding can leave a tiny negative.
    return max(total, 0.0)


def memorization_score(
    reps: Any,
    ground_truth: Any,
    mode: str = "paper",
    sample: int | None = None,
    seed: int = 0,
) -> MemorizationResult:
    """Memorization Score of the rows of ``reps`` against ``ground_truth`` (module docstring).

    Args:
        reps: ``(N, d)`` ID representations, row ``k`` for the entity ``k`` of the ground truth.
        ground_truth: a :class:`SimilarityGroundTruth` (from :func:`similarity_ground_truth`), or
            a symmetric ``(N, N)`` dense array or scipy sparse matrix (diagonal ignored).
        mode: ``"paper"`` (eq. 5) or ``"reference"`` (the released code's variant).
        sample: score only this many entities, drawn without replacement with ``seed`` (for very
            large catalogs; all pairs among them are scored).
        seed: seed of the sample.
    """
    mode = check_option("mode", mode, MEMORIZATION_MODES)
    array = check_representations(reps)
    truth = _as_ground_truth(ground_truth)
    if truth.n != array.shape[0]:
        raise ConfigError(
            "ground_truth",
            f"{array.shape[0]} entities to match the rows of reps",
            verbatim(f"{truth.n}"),
        )
    seed = check_count("seed", seed, minimum=0)
    if sample is not None:
        sample = check_count("sample", sample, minimum=2)
        if sample > array.shape[0]:
            raise ConfigError("sample", f"at most {array.shape[0]} entities", sample)
        chosen = np.sort(np.random.default_rng(seed).choice(array.shape[0], sample, replace=False))
        array, truth = array[chosen], truth.subset(chosen)
    features = _reference_features(array) if mode == "reference" else array
    units = normalized_rows(features)
    alpha, beta = 1.0, 0.0
    if mode == "reference":
        low, high = truth.off_diagonal_range()
        alpha, beta = (1.0 / (high - low), -low / (high - low)) if high > low else (0.0, 0.0)
    n = units.shape[0]
    if truth.factor is not None or sp.issparse(truth.matrix):
        total = _pair_sum_expanded(units, truth, alpha, beta)
    else:
        total = _pair_sum_dense(units, truth.matrix, alpha, beta)
    pairs_counted = n * (n - 1)  # sums over i != j count each pair i < j twice
    return MemorizationResult(
        value=total / pairs_counted,
        mode=mode,
        ground_truth=truth.kind,
        ground_truth_label=truth.label,
        n_entities=n,
        pairs=n * (n - 1) // 2,
        sample=sample,
        seed=seed if sample is not None else None,
        components=features.shape[1] if mode == "reference" else None,
        zero_cosine_baseline=_scaled_square_sum(truth, n, alpha, beta) / pairs_counted,
    )
