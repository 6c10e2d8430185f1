"""Grouping of embedding vectors into clusters, for META ID's coarse tokens (paper section 4.2, Table 4).

``spherical_kmeans`` is META ID's default: K-Means in which affinity is cosine similarity, i.e.
points and centroids live on the unit sphere, each point joins the centroid of highest cosine,
and a centroid is the normalised mean of its members. The alternatives of the paper's Table 4 are
spectral clustering (on a k-nearest-neighbour graph), DBSCAN (cosine distance; its noise points
form their own group) and the first level of an RQ-VAE.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["Grouping", "dbscan_groups", "normalize_rows", "spectral_groups", "spherical_kmeans"]


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit Euclidean norm (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x, dtype=np.float64), where=norms > 0)


@dataclass(frozen=True, eq=False)
class Grouping:
    """Cluster label per point (``0..n_groups-1``; ``-1`` for DBSCAN noise) and the objective."""

    labels: np.ndarray
    n_groups: int
    objective: float | None = None


def _lloyd(
    x: np.ndarray, centroids: np.ndarray, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, float]:
    k = centroids.shape[0]
    labels = np.full(x.shape[0], -1, dtype=np.int64)
    previous = -np.inf
    x32 = x.astype(np.float32)  # the similarity only picks the argmax: float32 halves its cost
    for _ in range(max_iter):
        similarity = (x32 @ centroids.T.astype(np.float32)).astype(np.float64)
        new_labels = similarity.argmax(axis=1)
        best = similarity[np.arange(x.shape[0]), new_labels]
        counts = np.bincount(new_labels, minlength=k)
        for empty in np.flatnonzero(counts == 0):
            # An empty cluster takes the point its centroid fits worst, so k clusters survive.
            worst = int(np.argmin(np.where(counts[new_labels] > 1, best, np.inf)))
            counts[new_labels[worst]] -= 1
            new_labels[worst] = empty
            counts[empty] = 1
            best[worst] = np.inf
        objective = float(best[np.isfinite(best)].sum())
        # Converged: no label moved, or the summed cosine gains less than tol (relative), as
        # sklearn stops on a small centroid shift rather than waiting for the last few points.
        if np.array_equal(new_labels, labels) or objective - previous <= tol * abs(objective):
            labels = new_labels
            break
        previous = objective
        labels = new_labels
        # Member sums as one sparse (k x n) @ (n x d) product: np.add.at is ~50x slower here.
        membership = sparse.csr_array(
            (np.ones(x.shape[0]), (labels, np.arange(x.shape[0]))), shape=(k, x.shape[0])
        )
        centroids = normalize_rows(membership @ x)
    objective = float((x * centroids[labels]).sum())
    return labels, centroids, objective


def spherical_kmeans(
    x: np.ndarray,
    n_clusters: int,
    *,
    seed: int,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-6,
) -> Grouping:
    """Spherical (cosine) K-Means: maximise the summed cosine of every point to its centroid.

    Each of ``n_init`` restarts seeds with k-means++ on the unit-normalised points (sklearn's
    ``kmeans_plusplus``) and runs Lloyd iterations until the labels stop changing or the
    objective gains less than ``tol`` (relative); the restart
    with the highest objective wins. No cluster is left empty. Deterministic for a seed.
    """
    from sklearn.cluster import kmeans_plusplus

    unit = normalize_rows(np.asarray(x, dtype=np.float64))
    if not 1 <= n_clusters <= unit.shape[0]:
        raise ValueError(
            f"n_clusters must be between 1 and the {unit.shape[0]} points, got {n_clusters}"
        )
    rng = np.random.default_rng(seed)
    best: tuple[np.ndarray, float] | None = None
    for _ in range(n_init):
        init, _ = kmeans_plusplus(unit, n_clusters, random_state=int(rng.integers(2**31 - 1)))
        labels, _, objective = _lloyd(unit, normalize_rows(init), max_iter, tol)
        if best is None or objective > best[1]:
            best = (labels, objective)
    assert best is not None
    return Grouping(labels=best[0], n_groups=n_clusters, objective=best[1])


def spectral_groups(
    x: np.ndarray, n_clusters: int, *, seed: int, n_neighbors: int = 15
) -> Grouping:
    """Spectral clustering of the unit-normalised points on their symmetric k-nearest-neighbour
    graph (sklearn, ``assign_labels="cluster_qr"``: deterministic, no k-means restarts)."""
    from sklearn.cluster import SpectralClustering

    unit = normalize_rows(np.asarray(x, dtype=np.float64))
    model = SpectralClustering(
        n_clusters=n_clusters,
        affinity="nearest_neighbors",
        n_neighbors=min(n_neighbors, unit.shape[0] - 1),
        assign_labels="cluster_qr",
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        labels = model.fit_predict(unit)
    _, labels = np.unique(labels, return_inverse=True)  # cluster_qr can leave a label unused
    return Grouping(labels=labels.astype(np.int64), n_groups=int(labels.max()) + 1)


def dbscan_groups(x: np.ndarray, *, eps: float, min_samples: int) -> Grouping:
    """DBSCAN with cosine distance; noise points get label ``-1`` (the caller buckets them)."""
    from sklearn.cluster import DBSCAN

    unit = normalize_rows(np.asarray(x, dtype=np.float64))
    # On unit vectors, Euclidean distance sqrt(2 - 2 cos) is monotone in cosine distance, and
    # sklearn's tree search handles Euclidean without a dense n x n matrix.
    labels = DBSCAN(eps=float(np.sqrt(2 * eps)), min_samples=min_samples).fit_predict(unit)
    return Grouping(labels=labels.astype(np.int64), n_groups=int(labels.max()) + 1)
