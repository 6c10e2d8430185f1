"""Grouping of embedding vectors (spherical K-Means, spectral, DBSCAN) against sklearn and numpy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from idprobe.ids.grouping import (
    Grouping,
    dbscan_groups,
    normalize_rows,
    spectral_groups,
    spherical_kmeans,
)

SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(autouse=True)
def _one_thread():
    # sklearn's OpenMP KMeans spends ~0.2 s per fit on thread start-up for these tiny inputs.
    with threadpool_limits(limits=1):
        yield


# ---------------------------------------------------------------------- helpers


def unit(x: np.ndarray) -> np.ndarray:
    """Independent row normalisation (no zero rows here)."""
    return x / np.sqrt((x * x).sum(axis=1))[:, None]


def directions(
    seed: int, k: int = 6, dim: int = 10, per_group: int = 30, noise: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Points around ``k`` random unit directions, each scaled by a random positive factor in
    [0.1, 10] (log-uniform), so raw Euclidean distances are dominated by the norms."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(k, dim)))
    truth = rng.permutation(np.repeat(np.arange(k), per_group))
    points = centres[truth] + rng.normal(scale=noise, size=(truth.size, dim))
    scale = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=(truth.size, 1)))
    return points * scale, truth


def cosine_objective(x: np.ndarray, labels: np.ndarray) -> float:
    """Summed cosine of each point to the normalised mean of its cluster (= sum of the norms of
    the clusters' sums of unit vectors), the objective spherical K-Means maximises."""
    u = unit(x)
    return float(sum(np.linalg.norm(u[labels == c].sum(axis=0)) for c in np.unique(labels)))


# ---------------------------------------------------------------------- normalize_rows


def test_normalize_rows_scales_to_unit_norm_and_keeps_zero_rows() -> None:
    x = np.array([[3.0, 4.0], [0.0, 0.0], [-2.0, 0.0], [1e-100, 1e-100]])
    out = normalize_rows(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out[[0, 2, 3]], [[0.6, 0.8], [-1.0, 0.0], [2**-0.5, 2**-0.5]])
    assert (out[1] == 0).all()
    ints = normalize_rows(np.array([[0, 5], [0, 0]]))
    np.testing.assert_array_equal(ints, [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("seed", SEEDS)
def test_normalize_rows_matches_numpy(seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(40, 7))
    np.testing.assert_allclose(normalize_rows(x), unit(x), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(normalize_rows(x), axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------- spherical K-Means


@pytest.mark.parametrize("seed", SEEDS)
def test_spherical_kmeans_recovers_directions_whatever_the_norms(seed: int) -> None:
    x, truth = directions(seed)
    grouping = spherical_kmeans(x, 6, seed=seed)
    assert isinstance(grouping, Grouping)
    assert grouping.n_groups == 6
    assert grouping.labels.shape == truth.shape
    assert adjusted_rand_score(truth, grouping.labels) == 1.0
    reference = KMeans(6, n_init=10, random_state=seed).fit_predict(unit(x))
    assert adjusted_rand_score(reference, grouping.labels) == 1.0
    # The data are built so that norms mislead Euclidean K-Means on the raw points.
    raw = KMeans(6, n_init=10, random_state=seed).fit_predict(x)
    assert adjusted_rand_score(truth, raw) < 0.5
    # Scaling points changes nothing.
    rescaled = spherical_kmeans(
        x * np.random.default_rng(seed).uniform(0.5, 3, (len(x), 1)), 6, seed=seed
    )
    np.testing.assert_array_equal(rescaled.labels, grouping.labels)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "k", "dim"), [(200, 8, 5), (60, 5, 16), (30, 12, 3)])
def test_spherical_kmeans_on_random_data_is_a_fixed_point(
    seed: int, n: int, k: int, dim: int
) -> None:
    x = np.random.default_rng(seed).normal(size=(n, dim)) * 3.0
    grouping = spherical_kmeans(x, k, seed=seed)
    labels = grouping.labels
    assert labels.shape == (n,)
    assert np.issubdtype(labels.dtype, np.integer)
    assert grouping.n_groups == k
    counts = np.bincount(labels, minlength=k)
    assert counts.size == k and (counts > 0).all()  # no empty cluster
    u = unit(x)
    means = np.stack([u[labels == c].mean(axis=0) for c in range(k)])
    centroids = unit(means)
    # Every point is in the cluster whose normalised mean it is closest to (in cosine).
    np.testing.assert_array_equal(np.argmax(u @ centroids.T, axis=1), labels)
    assert grouping.objective == pytest.approx(cosine_objective(x, labels), rel=1e-10)
    assert grouping.objective == pytest.approx(float((u * centroids[labels]).sum()), rel=1e-10)
    # Deterministic for a seed.
    again = spherical_kmeans(x, k, seed=seed)
    np.testing.assert_array_equal(again.labels, labels)
    assert again.objective == grouping.objective


@pytest.mark.parametrize("seed", SEEDS)
def test_spherical_kmeans_beats_sklearn_on_clustered_data(seed: int) -> None:
    """On data with cluster structure (overlapping directions), the cosine objective of
    spherical K-Means is at least that of sklearn's KMeans(n_init=10) labels."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(6, 8)))
    truth = rng.integers(0, 6, size=150)
    x = (centres[truth] + rng.normal(scale=0.2, size=(150, 8))) * rng.uniform(0.1, 10, (150, 1))
    grouping = spherical_kmeans(x, 6, seed=seed)
    sklearn_labels = KMeans(6, n_init=10, random_state=seed).fit_predict(unit(x))
    assert grouping.objective >= cosine_objective(x, sklearn_labels) * (1 - 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_spherical_kmeans_is_close_to_sklearn_on_structureless_data(seed: int) -> None:
    """On uniformly random directions neither method dominates: spherical K-Means with 10
    restarts is *below* sklearn's KMeans(n_init=10) labels (scored with the cosine objective) in
    about half of the seeds, by up to ~2% (measured). Both are local optima of a landscape with
    many of them; more restarts close the gap. So this checks a documented 3% margin, not
    ``>=`` (reported to the lead, not a bug: Lloyd iterations only find local optima)."""
    rng = np.random.default_rng(seed)
    for n, k, dim in [(200, 8, 5), (100, 12, 3), (60, 5, 16)]:
        x = rng.normal(size=(n, dim))
        grouping = spherical_kmeans(x, k, seed=seed)
        sklearn_labels = KMeans(k, n_init=10, random_state=seed).fit_predict(unit(x))
        assert grouping.objective >= cosine_objective(x, sklearn_labels) * 0.97


def test_spherical_kmeans_keeps_every_cluster_on_duplicate_points() -> None:
    # Only 3 distinct directions but 5 clusters: k-means++ and Lloyd must still fill them all.
    base = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    x = np.repeat(base, 4, axis=0) * np.arange(1, 13)[:, None]
    grouping = spherical_kmeans(x, 5, seed=0)
    counts = np.bincount(grouping.labels, minlength=5)
    assert counts.size == 5 and (counts > 0).all()
    # Points of one direction never share a cluster with another direction.
    for c in range(5):
        members = np.flatnonzero(grouping.labels == c)
        assert len({int(np.argmax(x[i])) for i in members}) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_spherical_kmeans_extremes_of_n_clusters(seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(12, 4))
    one = spherical_kmeans(x, 1, seed=seed)
    assert (one.labels == 0).all()
    assert one.objective == pytest.approx(np.linalg.norm(unit(x).sum(axis=0)))
    every = spherical_kmeans(x, 12, seed=seed)
    assert sorted(every.labels.tolist()) == list(range(12))
    assert every.objective == pytest.approx(12.0)


@pytest.mark.parametrize("k", [0, -1, 13, 100])
def test_spherical_kmeans_rejects_impossible_n_clusters(k: int) -> None:
    x = np.random.default_rng(0).normal(size=(12, 4))
    with pytest.raises(ValueError, match="n_clusters"):
        spherical_kmeans(x, k, seed=0)


def test_spherical_kmeans_other_seed_same_partition_on_clear_data() -> None:
    x, truth = directions(7, k=4, per_group=10)
    a = spherical_kmeans(x, 4, seed=1)
    b = spherical_kmeans(x, 4, seed=2)
    assert adjusted_rand_score(a.labels, b.labels) == 1.0
    assert adjusted_rand_score(truth, a.labels) == 1.0


# ---------------------------------------------------------------------- DBSCAN


def two_angular_clusters(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two tight angular clusters of 25 points (random scales) and 10 scattered points, each
    far (in angle) from the clusters and from each other; truth -1 for the scattered ones."""
    rng = np.random.default_rng(seed)
    dim = 6
    a, b = unit(rng.normal(size=(2, dim)))
    while a @ b > 0.5:
        b = unit(rng.normal(size=(1, dim)))[0]
    clusters = [
        a + rng.normal(scale=0.01, size=(25, dim)),
        b + rng.normal(scale=0.01, size=(25, dim)),
    ]
    scattered: list[np.ndarray] = []
    while len(scattered) < 10:
        p = unit(rng.normal(size=(1, dim)))[0]
        if max(p @ a, p @ b) < 0.8 and all(p @ q < 0.8 for q in scattered):
            scattered.append(p)
    points = np.concatenate([*clusters, np.array(scattered)])
    truth = np.concatenate([np.zeros(25, int), np.ones(25, int), -np.ones(10, int)])
    order = rng.permutation(len(points))
    scale = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=(len(points), 1)))
    return (points * scale)[order], truth[order]


@pytest.mark.parametrize("seed", SEEDS)
def test_dbscan_finds_two_clusters_and_noise(seed: int) -> None:
    x, truth = two_angular_clusters(seed)
    grouping = dbscan_groups(x, eps=0.01, min_samples=4)
    assert grouping.n_groups == 2
    assert grouping.objective is None
    np.testing.assert_array_equal(grouping.labels == -1, truth == -1)
    assert set(grouping.labels.tolist()) == {-1, 0, 1}
    assert adjusted_rand_score(truth, grouping.labels) == 1.0
    reference = DBSCAN(eps=0.01, min_samples=4, metric="cosine", algorithm="brute").fit_predict(x)
    assert adjusted_rand_score(reference, grouping.labels) == 1.0
    np.testing.assert_array_equal(reference, grouping.labels)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("eps", "min_samples"), [(0.05, 3), (0.2, 5), (0.5, 10)])
def test_dbscan_matches_sklearn_cosine_on_random_data(
    seed: int, eps: float, min_samples: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 3)) * rng.uniform(0.1, 10.0, size=(120, 1))
    grouping = dbscan_groups(x, eps=eps, min_samples=min_samples)
    reference = DBSCAN(
        eps=eps, min_samples=min_samples, metric="cosine", algorithm="brute"
    ).fit_predict(x)
    np.testing.assert_array_equal(grouping.labels == -1, reference == -1)
    assert adjusted_rand_score(reference, grouping.labels) == 1.0
    assert grouping.n_groups == reference.max() + 1
    if grouping.n_groups:
        assert set(grouping.labels.tolist()) - {-1} == set(range(grouping.n_groups))


def test_dbscan_all_noise_has_no_group() -> None:
    x = np.eye(5)  # orthogonal: cosine distance 1 between any two
    grouping = dbscan_groups(x, eps=0.1, min_samples=2)
    assert (grouping.labels == -1).all()
    assert grouping.n_groups == 0


# ---------------------------------------------------------------------- spectral


@pytest.mark.parametrize("seed", SEEDS)
def test_spectral_groups_recovers_separated_blobs(seed: int) -> None:
    x, truth = directions(seed, k=5, dim=8, per_group=24, noise=0.1)
    grouping = spectral_groups(x, 5, seed=seed)
    assert adjusted_rand_score(truth, grouping.labels) >= 0.95
    assert grouping.n_groups == 5
    assert grouping.labels.dtype == np.int64
    assert sorted(set(grouping.labels.tolist())) == list(range(grouping.n_groups))
    again = spectral_groups(x, 5, seed=seed)
    np.testing.assert_array_equal(again.labels, grouping.labels)


@pytest.mark.parametrize("seed", SEEDS)
def test_spectral_groups_labels_are_contiguous_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 4))
    grouping = spectral_groups(x, 6, seed=seed, n_neighbors=50)  # clipped to n - 1
    labels = grouping.labels
    assert labels.shape == (40,)
    assert 1 <= grouping.n_groups <= 6
    assert sorted(set(labels.tolist())) == list(range(grouping.n_groups))
