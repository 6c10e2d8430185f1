"""Memorization Score against a brute-force mean over pairs and a sklearn re-implementation."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from metric_checks import assert_scalar_result_renders, config_error
from sklearn.decomposition import PCA
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.preprocessing import StandardScaler

from idprobe.data import Interactions, load_dataset
from idprobe.metrics import (
    MEMORIZATION_MODES,
    MemorizationResult,
    SimilarityGroundTruth,
    memorization_score,
    similarity_ground_truth,
)

FAST = settings(max_examples=30, deadline=None)
STORAGES = ["rank_one", "sparse", "dense"]


# ---------------------------------------------------------------------- references


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two vectors; 0 when either is the zero vector."""
    na, nb = float(np.sqrt(a @ a)), float(np.sqrt(b @ b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(a @ b) / (na * nb)


def brute_paper(reps: np.ndarray, sim: np.ndarray) -> float:
    """``mean_{i < j} (cos(e_i, e_j) - sim[i, j])^2``, one pair at a time."""
    reps = np.asarray(reps, dtype=np.float64)
    n = reps.shape[0]
    gaps = [(cosine(reps[i], reps[j]) - sim[i, j]) ** 2 for i in range(n) for j in range(i + 1, n)]
    assert len(gaps) == n * (n - 1) // 2
    return float(np.mean(gaps))


def reference_features(reps: np.ndarray) -> np.ndarray:
    standard = StandardScaler().fit_transform(np.asarray(reps, dtype=np.float64))
    return PCA(n_components=0.95, svd_solver="full").fit_transform(standard)


def reference_mode(reps: np.ndarray, sim: np.ndarray) -> tuple[float, int]:
    """The released code: standardise + PCA(95%), cosine, min-max scaled ground truth."""
    features = reference_features(reps)
    cos = cosine_similarity(features)
    upper = np.triu_indices(reps.shape[0], 1)
    target = sim[upper]
    low, high = target.min(), target.max()
    assert high > low
    scaled = (target - low) / (high - low)
    return float(np.mean((cos[upper] - scaled) ** 2)), features.shape[1]


def random_symmetric(rng: np.random.Generator, n: int, density: float) -> np.ndarray:
    upper = np.triu(rng.uniform(-1.5, 1.5, size=(n, n)) * (rng.random((n, n)) < density), 1)
    return upper + upper.T


def make_truth(storage: str, n: int, rng: np.random.Generator, wrap: bool = True):
    """``(ground_truth argument, dense similarity with a zero diagonal)``."""
    if storage == "rank_one":
        factor = rng.uniform(-2, 2, size=n)
        dense = np.outer(factor, factor)
        np.fill_diagonal(dense, 0.0)
        return SimilarityGroundTruth.rank_one(factor), dense
    dense = random_symmetric(rng, n, 0.3 if storage == "sparse" else 1.0)
    given_matrix = dense.copy()
    np.fill_diagonal(given_matrix, rng.uniform(-5, 5, size=n))  # must be ignored
    if storage == "sparse":
        given_matrix = sp.csr_matrix(given_matrix)
    if wrap:
        given_matrix = SimilarityGroundTruth.from_matrix(given_matrix)
    return given_matrix, dense


@st.composite
def cases(draw, min_n: int = 2, max_n: int = 40):
    """``(reps, ground_truth argument, dense sim, storage)`` with some zero rows."""
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, 12))
    storage = draw(st.sampled_from(STORAGES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    reps = rng.normal(scale=draw(st.sampled_from([1e-3, 1.0, 100.0])), size=(n, d))
    if draw(st.booleans()):
        reps[rng.random(n) < 0.2] = 0.0
    truth, dense = make_truth(storage, n, rng, wrap=draw(st.booleans()))
    return reps, truth, dense, storage


@functools.cache
def movielens(path: Path) -> Interactions:
    return load_dataset(path)


# ---------------------------------------------------------------------- paper mode


@FAST
@given(cases())
def test_paper_mode_equals_brute_force(case) -> None:
    reps, truth, dense, _ = case
    result = memorization_score(reps, truth)
    assert result.value == pytest.approx(brute_paper(reps, dense), rel=1e-9, abs=1e-12)
    assert result.value >= 0
    n = reps.shape[0]
    assert (result.mode, result.n_entities, result.pairs) == ("paper", n, n * (n - 1) // 2)
    assert (result.sample, result.seed, result.components) == (None, None, None)


@FAST
@given(cases(), st.sampled_from(MEMORIZATION_MODES))
def test_zero_cosine_baseline_is_the_mean_squared_scaled_truth(case, mode: str) -> None:
    reps, truth, dense, _ = case
    upper = dense[np.triu_indices(reps.shape[0], 1)]
    if mode == "reference":
        span = upper.max() - upper.min()
        upper = (upper - upper.min()) / span if span > 0 else np.zeros_like(upper)
    result = memorization_score(reps, truth, mode=mode)
    assert result.zero_cosine_baseline == pytest.approx(np.mean(upper**2), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("storage", STORAGES)
def test_orthogonal_representations_score_the_baseline(storage: str) -> None:
    truth, _ = make_truth(storage, 12, np.random.default_rng(3))
    result = memorization_score(np.eye(12) * 3.0, truth)  # every cosine between rows is 0
    assert result.value == pytest.approx(result.zero_cosine_baseline, rel=1e-12)


def test_paper_mode_hand_example() -> None:
    reps = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    sim = np.array([[0.0, 0.5, 1.0], [0.5, 0.0, 0.0], [1.0, 0.0, 0.0]])
    # cosines: (0, 1) = 0, (0, 2) = (1, 2) = 1 / sqrt(2)
    c = 1 / np.sqrt(2)
    expected = ((0 - 0.5) ** 2 + (c - 1.0) ** 2 + (c - 0.0) ** 2) / 3
    assert memorization_score(reps, sim).value == pytest.approx(expected, rel=1e-14)
    assert memorization_score(reps, sp.csr_matrix(sim)).value == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("storage", STORAGES)
def test_zero_row_has_cosine_zero(storage: str) -> None:
    rng = np.random.default_rng(0)
    reps = rng.normal(size=(6, 3))
    reps[[1, 4]] = 0.0
    truth, dense = make_truth(storage, 6, rng)
    value = memorization_score(reps, truth).value
    assert value == pytest.approx(brute_paper(reps, dense), rel=1e-12)
    # The zero rows' pairs contribute sim^2 exactly.
    others = [0, 2, 3, 5]
    gaps = [
        dense[z, j] ** 2 for z in (1, 4) for j in range(6) if j != z and not (z == 4 and j == 1)
    ]
    rest = [(cosine(reps[i], reps[j]) - dense[i, j]) ** 2 for i in others for j in others if i < j]
    assert value == pytest.approx(np.mean(gaps + rest), rel=1e-12)


@FAST
@given(cases(max_n=20))
def test_storage_of_the_same_truth_does_not_matter(case) -> None:
    reps, _, dense, _ = case
    n = reps.shape[0]
    values = [
        memorization_score(reps, argument, mode=mode).value
        for mode in MEMORIZATION_MODES
        for argument in (dense, sp.csr_matrix(dense), SimilarityGroundTruth.from_matrix(dense))
    ]
    np.testing.assert_allclose(values[:3], values[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(values[3:], values[3], rtol=1e-9, atol=1e-12)
    factor = np.random.default_rng(n).uniform(-1, 1, size=n)
    outer = np.outer(factor, factor)
    for mode in MEMORIZATION_MODES:
        rank_one = memorization_score(reps, SimilarityGroundTruth.rank_one(factor), mode=mode)
        for argument in (outer, sp.csr_matrix(outer)):
            other = memorization_score(reps, argument, mode=mode)
            assert rank_one.value == pytest.approx(other.value, rel=1e-9, abs=1e-12)


@FAST
@given(cases(), st.integers(0, 2**32 - 1))
def test_paper_mode_is_invariant_to_positive_row_scaling(case, seed: int) -> None:
    reps, truth, _, _ = case
    scale = np.exp(np.random.default_rng(seed).uniform(-5, 5, size=(reps.shape[0], 1)))
    a = memorization_score(reps, truth).value
    b = memorization_score(reps * scale, truth).value
    assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


@FAST
@given(cases(min_n=3, max_n=15))
def test_only_off_diagonal_symmetric_pairs_count(case) -> None:
    reps, _, dense, _ = case
    expected = brute_paper(reps, dense)
    n = reps.shape[0]
    for diagonal in (np.zeros(n), np.full(n, 1e6), np.arange(n, dtype=float)):
        shifted = dense + np.diag(diagonal)
        assert memorization_score(reps, shifted).value == pytest.approx(expected, rel=1e-9)
        assert memorization_score(reps, sp.csr_matrix(shifted)).value == pytest.approx(
            expected, rel=1e-9
        )
    # The transpose is the same matrix.
    assert memorization_score(reps, dense.T).value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_asymmetric_ground_truth_is_an_error(sparse: bool) -> None:
    sim = np.array([[0.0, 0.5, 0.1], [0.4, 0.0, 0.2], [0.1, 0.2, 0.0]])
    argument = sp.csr_matrix(sim) if sparse else sim
    config_error("ground_truth", lambda: memorization_score(np.eye(3), argument), "symmetric")


# ---------------------------------------------------------------------- exact reproduction


@FAST
@given(st.integers(2, 40), st.integers(1, 12), st.integers(0, 2**32 - 1), st.booleans())
def test_zero_when_the_truth_is_the_cosines(n: int, d: int, seed: int, zero_rows: bool) -> None:
    rng = np.random.default_rng(seed)
    reps = rng.normal(size=(n, d)) * np.exp(rng.uniform(-3, 3, size=(n, 1)))
    if zero_rows:
        reps[rng.random(n) < 0.2] = 0.0
    cos = np.array([[cosine(a, b) for b in reps] for a in reps])
    cos = (cos + cos.T) / 2
    for argument in (cos, sp.csr_matrix(cos), SimilarityGroundTruth.from_matrix(cos)):
        assert abs(memorization_score(reps, argument).value) < 1e-9


@FAST
@given(st.integers(2, 40), st.integers(0, 2**32 - 1))
def test_zero_for_a_rank_one_truth_on_a_line(n: int, seed: int) -> None:
    # Points on one line through the origin of the plane: cos(e_i, e_j) = s_i s_j.
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=n)
    angle = rng.uniform(0, 2 * np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    reps = (signs * rng.uniform(0.1, 10, size=n))[:, None] * direction
    assert memorization_score(reps, SimilarityGroundTruth.rank_one(signs)).value < 1e-9
    # A wrong sign on one entity is seen: its n - 1 pairs are off by 2.
    flipped = signs.copy()
    flipped[0] *= -1
    wrong = memorization_score(reps, SimilarityGroundTruth.rank_one(flipped)).value
    assert wrong == pytest.approx(4 * (n - 1) / (n * (n - 1) / 2), rel=1e-9)


@FAST
@given(st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_zero_for_a_general_rank_one_truth(n: int, seed: int) -> None:
    # u_i = a_i e_0 + sqrt(1 - a_i^2) e_(i+1): unit vectors with u_i . u_j = a_i a_j.
    rng = np.random.default_rng(seed)
    factor = rng.uniform(-1, 1, size=n)
    reps = np.zeros((n, n + 1))
    reps[:, 0] = factor
    reps[np.arange(n), np.arange(n) + 1] = np.sqrt(1 - factor**2)
    reps *= rng.uniform(0.1, 10, size=(n, 1))
    assert memorization_score(reps, SimilarityGroundTruth.rank_one(factor)).value < 1e-9
    assert memorization_score(reps, np.outer(factor, factor)).value < 1e-9


# ---------------------------------------------------------------------- reference mode


@FAST
@given(cases(min_n=3))
def test_reference_mode_equals_sklearn_reimplementation(case) -> None:
    reps, truth, dense, _ = case
    upper = dense[np.triu_indices(reps.shape[0], 1)]
    assume(upper.max() > upper.min())
    assume(np.ptp(reps, axis=0).max() > 0)  # some dimension varies
    result = memorization_score(reps, truth, mode="reference")
    expected, components = reference_mode(reps, dense)
    assert result.value == pytest.approx(expected, rel=1e-8, abs=1e-10)
    assert result.components == components
    assert result.mode == "reference" and result.value >= 0


def test_reference_mode_hand_example() -> None:
    # Standardised, two opposite points per axis; PCA keeps both axes (50% each).
    reps = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) * 3 + 7
    factor = np.array([0.0, 1.0, 2.0, 4.0])  # pairs: 0, 0, 0, 2, 4, 8 -> scaled /8
    result = memorization_score(reps, SimilarityGroundTruth.rank_one(factor), mode="reference")
    features = reference_features(reps)
    cos = cosine_similarity(features)
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    target = {(0, 1): 0, (0, 2): 0, (0, 3): 0, (1, 2): 2 / 8, (1, 3): 4 / 8, (2, 3): 1}
    expected = np.mean([(cos[p] - target[p]) ** 2 for p in pairs])
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.components == 2
    # cos(0, 1) = cos(2, 3) = -1 and the orthogonal pairs are 0.
    assert expected == pytest.approx((1 + 0 + 0 + 0.0625 + 0.25 + 4) / 6, rel=1e-12)


def test_reference_mode_with_constant_representations() -> None:
    # Every dimension constant: nothing for PCA; every cosine is 0, so MS = mean(scaled^2).
    reps = np.tile([1.0, -2.0, 3.0], (4, 1))
    sim = random_symmetric(np.random.default_rng(1), 4, 1.0)
    result = memorization_score(reps, sim, mode="reference")
    upper = sim[np.triu_indices(4, 1)]
    scaled = (upper - upper.min()) / (upper.max() - upper.min())
    assert result.value == pytest.approx(np.mean(scaled**2), rel=1e-12)
    # Paper mode: identical rows have cosine 1.
    assert memorization_score(reps, sim).value == pytest.approx(
        np.mean((1 - upper) ** 2), rel=1e-12
    )


def test_reference_mode_with_a_constant_ground_truth_is_finite() -> None:
    reps = np.random.default_rng(2).normal(size=(6, 3))
    result = memorization_score(reps, SimilarityGroundTruth.rank_one(np.ones(6)), mode="reference")
    assert np.isfinite(result.value) and result.value >= 0


# ---------------------------------------------------------------------- sampling


@FAST
@given(cases(min_n=3), st.data())
def test_sample_equals_brute_force_on_the_chosen_subset(case, data) -> None:
    reps, truth, dense, _ = case
    n = reps.shape[0]
    sample = data.draw(st.integers(2, n), label="sample")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    result = memorization_score(reps, truth, sample=sample, seed=seed)
    chosen = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    expected = brute_paper(reps[chosen], dense[np.ix_(chosen, chosen)])
    assert result.value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert (result.n_entities, result.sample, result.seed) == (sample, sample, seed)
    assert result.pairs == sample * (sample - 1) // 2


def test_sample_in_reference_mode_scales_over_the_sampled_pairs() -> None:
    rng = np.random.default_rng(4)
    reps = rng.normal(size=(30, 6))
    truth, dense = make_truth("dense", 30, rng)
    result = memorization_score(reps, truth, mode="reference", sample=12, seed=5)
    chosen = np.sort(np.random.default_rng(5).choice(30, 12, replace=False))
    expected, components = reference_mode(reps[chosen], dense[np.ix_(chosen, chosen)])
    assert result.value == pytest.approx(expected, rel=1e-9)
    assert result.components == components


def test_sample_of_everything_is_the_full_score() -> None:
    rng = np.random.default_rng(6)
    reps = rng.normal(size=(15, 4))
    truth, _ = make_truth("sparse", 15, rng)
    full = memorization_score(reps, truth)
    whole = memorization_score(reps, truth, sample=15, seed=3)
    assert whole.value == pytest.approx(full.value, rel=1e-12)
    a = memorization_score(reps, truth, sample=5, seed=1)
    assert memorization_score(reps, truth, sample=5, seed=1) == a
    assert memorization_score(reps, truth, sample=5, seed=2).value != a.value


@pytest.mark.parametrize("storage", STORAGES)
def test_float32_agrees_with_float64(storage: str) -> None:
    rng = np.random.default_rng(8)
    reps = rng.normal(size=(50, 8))
    truth, _ = make_truth(storage, 50, rng)
    for mode in MEMORIZATION_MODES:
        a = memorization_score(reps, truth, mode=mode).value
        b = memorization_score(reps.astype(np.float32), truth, mode=mode).value
        assert b == pytest.approx(a, rel=1e-5)


def test_dense_truth_over_several_row_blocks() -> None:
    rng = np.random.default_rng(9)
    n = 1100
    reps = rng.normal(size=(n, 5))
    sim = random_symmetric(rng, n, 1.0)
    np.fill_diagonal(sim, 50.0)
    units = reps / np.linalg.norm(reps, axis=1, keepdims=True)
    upper = np.triu_indices(n, 1)
    expected = np.mean(((units @ units.T) - sim)[upper] ** 2)
    assert memorization_score(reps, sim).value == pytest.approx(expected, rel=1e-10)


# ---------------------------------------------------------------------- errors


def test_mismatched_sizes_are_an_error() -> None:
    reps = np.random.default_rng(0).normal(size=(5, 3))
    for truth in (
        SimilarityGroundTruth.rank_one(np.ones(4)),
        np.zeros((6, 6)),
        sp.csr_matrix((4, 4)),
    ):
        config_error(
            "ground_truth", lambda t=truth: memorization_score(reps, t), "5 entities", "reps"
        )


@pytest.mark.parametrize(
    ("parameter", "kwargs", "fragment"),
    [
        ("sample", {"sample": 6}, "at most 5"),
        ("sample", {"sample": 1}, ">= 2"),
        ("sample", {"sample": 0}, ">= 2"),
        ("sample", {"sample": True}, ">= 2"),
        ("sample", {"sample": 2.0}, ">= 2"),
        ("seed", {"seed": -1}, ">= 0"),
        ("seed", {"seed": 0.5}, ">= 0"),
        ("mode", {"mode": "exact"}, "'paper'"),
        ("mode", {"mode": "Paper"}, "'reference'"),
    ],
)
def test_bad_parameters_are_errors(parameter: str, kwargs: dict, fragment: str) -> None:
    reps = np.random.default_rng(0).normal(size=(5, 3))
    truth = SimilarityGroundTruth.rank_one(np.arange(5.0))
    config_error(parameter, lambda: memorization_score(reps, truth, **kwargs), fragment)


@pytest.mark.parametrize(
    ("reps", "fragment"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "row 0"),
        (np.array([[1.0, 2.0], [np.inf, 1.0]]), "row 1"),
        (np.ones((1, 3)), "at least 2"),
        (np.ones(2), "2-D"),
        (np.ones((2, 0)), "dimension"),
    ],
    ids=["nan", "inf", "one entity", "1-D", "no columns"],
)
def test_bad_representations_are_errors(reps, fragment: str) -> None:
    truth = np.zeros((reps.shape[0], reps.shape[0])) if reps.ndim == 2 else np.zeros((2, 2))
    for mode in MEMORIZATION_MODES:
        config_error("reps", lambda m=mode: memorization_score(reps, truth, mode=m), fragment)


def test_bad_ground_truth_matrices_are_errors() -> None:
    reps = np.eye(3)
    config_error("ground_truth", lambda: memorization_score(reps, np.zeros((3, 4))), "square")
    nan = np.zeros((3, 3))
    nan[0, 1] = nan[1, 0] = np.nan
    config_error("ground_truth", lambda: memorization_score(reps, nan), "finite")


# ---------------------------------------------------------------------- MovieLens-100K


@pytest.mark.real_data
def test_movielens_end_to_end(movielens_dir: Path) -> None:
    data = movielens(movielens_dir)
    n = data.n_items
    reps = np.random.default_rng(0).normal(size=(n, 16))
    units = reps / np.linalg.norm(reps, axis=1, keepdims=True)
    cos = units @ units.T
    upper = np.triu_indices(n, 1)

    dev_truth = similarity_ground_truth(data, "dev_devs")
    sim = np.outer(dev_truth.factor, dev_truth.factor)
    result = memorization_score(reps, dev_truth)
    assert result.value == pytest.approx(np.mean((cos[upper] - sim[upper]) ** 2), rel=1e-10)
    assert (result.ground_truth, result.n_entities) == ("dev_devs", n)
    assert result.ground_truth_label == dev_truth.label

    adjusted = similarity_ground_truth(data, "adjusted_cosine")
    sim = adjusted.dense()
    expected = np.mean((cos[upper] - sim[upper]) ** 2)
    assert memorization_score(reps, adjusted).value == pytest.approx(expected, rel=1e-10)
    assert memorization_score(reps, sim).value == pytest.approx(expected, rel=1e-10)

    reference = memorization_score(reps, dev_truth, mode="reference")
    value, components = reference_mode(reps, dev_truth.dense())
    assert reference.value == pytest.approx(value, rel=1e-9)
    assert reference.components == components

    sampled = memorization_score(reps, adjusted, sample=300, seed=1)
    chosen = np.sort(np.random.default_rng(1).choice(n, 300, replace=False))
    part = np.triu_indices(300, 1)
    expected = np.mean((cos[np.ix_(chosen, chosen)] - sim[np.ix_(chosen, chosen)])[part] ** 2)
    assert sampled.value == pytest.approx(expected, rel=1e-10)


# ---------------------------------------------------------------------- results


@pytest.mark.parametrize("mode", MEMORIZATION_MODES)
def test_result_renders(mode: str) -> None:
    rng = np.random.default_rng(3)
    truth, _ = make_truth("rank_one", 10, rng)
    result = memorization_score(rng.normal(size=(10, 4)), truth, mode=mode, sample=8, seed=2)
    assert isinstance(result, MemorizationResult)
    assert assert_scalar_result_renders(result)["mode"] == mode
    assert result.to_frame()["sample"].iloc[0] == 8
