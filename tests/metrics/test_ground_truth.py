"""Ground-truth item similarities against per-item loops and dense textbook computations."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from metric_checks import config_error
from sklearn.metrics.pairwise import cosine_similarity

from idprobe.data import Interactions, load_dataset
from idprobe.errors import DatasetError
from idprobe.metrics import (
    GROUND_TRUTH_KINDS,
    DevDevs,
    SimilarityGroundTruth,
    dev_devs,
    similarity_ground_truth,
)

FAST = settings(max_examples=30, deadline=None)


# ---------------------------------------------------------------------- data


def make_interactions(
    seed: int,
    n_users: int = 8,
    n_items: int = 7,
    *,
    ratings: bool = True,
    half_stars: bool = False,
    constant_users: float = 0.0,
) -> Interactions:
    """Random ratings built directly (catalog order = item position; some items unrated).

    Each user rates a random non-empty subset of the items; with probability
    ``constant_users`` a user gives the same rating to all of them.
    """
    rng = np.random.default_rng(seed)
    offsets, item_index, values = [0], [], []
    for _ in range(n_users):
        size = int(rng.integers(1, n_items + 1))
        chosen = rng.choice(n_items, size=size, replace=False)
        scale = np.arange(2, 11) / 2 if half_stars else np.arange(1, 6)
        if rng.random() < constant_users:
            given_ratings = np.full(size, rng.choice(scale))
        else:
            given_ratings = rng.choice(scale, size=size)
        item_index.extend(chosen.tolist())
        values.extend(given_ratings.tolist())
        offsets.append(len(item_index))
    return Interactions(
        users=[f"u{u}" for u in range(n_users)],
        items=[str(i) for i in range(n_items)],
        offsets=offsets,
        item_index=item_index,
        ratings=values if ratings else None,
        name="random",
    )


def dense_ratings(data: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """``(R, M)``: users x items ratings (0 where unrated) and the boolean rated mask."""
    r = np.zeros((data.n_users, data.n_items))
    m = np.zeros((data.n_users, data.n_items), dtype=bool)
    for u in range(data.n_users):
        start, stop = data.offsets[u], data.offsets[u + 1]
        items = data.item_index[start:stop]
        r[u, items] = data.ratings[start:stop] if data.ratings is not None else 1.0
        m[u, items] = True
    return r, m


def user_means(r: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each user's mean over their own ratings."""
    return np.array([r[u, m[u]].mean() for u in range(r.shape[0])])


def loop_dev_devs(data: Interactions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Dev``, ``DevS`` and counts item by item, from per-user means, in plain Python."""
    ratings_of_user: dict[int, list[tuple[int, float]]] = {}
    for u in range(data.n_users):
        start, stop = data.offsets[u], data.offsets[u + 1]
        ratings_of_user[u] = [
            (int(i), float(r))
            for i, r in zip(data.item_index[start:stop], data.ratings[start:stop], strict=True)
        ]
    means = {u: sum(r for _, r in pairs) / len(pairs) for u, pairs in ratings_of_user.items()}
    dev = np.zeros(data.n_items)
    devs = np.zeros(data.n_items)
    count = np.zeros(data.n_items, dtype=np.int64)
    for item in range(data.n_items):
        for u, pairs in ratings_of_user.items():
            for i, r in pairs:
                if i == item:
                    dev[item] += r - means[u]
                    devs[item] += (r - means[u]) ** 2
                    count[item] += 1
    return dev, devs, count


def pair_adjusted_cosine(r: np.ndarray, m: np.ndarray, mu: np.ndarray, i: int, j: int) -> float:
    """Eq. 4 for one pair: explicit sums over the users who rated both items."""
    both = m[:, i] & m[:, j]
    di = r[both, i] - mu[both]
    dj = r[both, j] - mu[both]
    numerator = float(np.sum(di * dj))
    denominator = float(np.sqrt(np.sum(di * di) * np.sum(dj * dj)))
    return numerator / denominator if denominator > 0 else 0.0


def dense_adjusted_cosine(r: np.ndarray, m: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Eq. 4 for all pairs with dense numpy (deviations masked by ``M``)."""
    d = np.where(m, r - mu[:, None], 0.0)
    numerator = d.T @ d
    q = (d * d).T @ m.astype(np.float64)  # q[i, j]: squared deviations of i over raters of j
    denominator = np.sqrt(q * q.T)
    out = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    np.fill_diagonal(out, 0.0)
    return out


def dense_cooccurrence(m: np.ndarray) -> np.ndarray:
    out = cosine_similarity(m.T.astype(np.float64))
    np.fill_diagonal(out, 0.0)
    return out


@functools.cache
def movielens(path: Path) -> Interactions:
    return load_dataset(path)


interaction_cases = st.builds(
    make_interactions,
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 12),
    n_items=st.integers(2, 10),
    half_stars=st.booleans(),
    constant_users=st.sampled_from([0.0, 0.3]),
)


# ---------------------------------------------------------------------- dev_devs


@FAST
@given(interaction_cases)
def test_dev_devs_equals_per_item_loop(data: Interactions) -> None:
    result = dev_devs(data)
    assert isinstance(result, DevDevs)
    dev, devs, count = loop_dev_devs(data)
    np.testing.assert_allclose(result.dev, dev, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.devs, devs, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(result.n_ratings, count)
    expected_factor = np.array(
        [d / np.sqrt(s) if s > 1e-12 else 0.0 for d, s in zip(dev, devs, strict=True)]
    )
    np.testing.assert_allclose(result.factor, expected_factor, rtol=1e-10, atol=1e-10)
    # Every user's deviations sum to zero, so the item sums do too.
    assert abs(result.dev.sum()) < 1e-9
    assert (result.devs >= 0).all()
    # |a_i| <= sqrt(#ratings) (Cauchy-Schwarz).
    assert (np.abs(result.factor) <= np.sqrt(count) + 1e-12).all()


@FAST
@given(interaction_cases)
def test_dev_devs_ground_truth_is_the_rank_one_factor(data: Interactions) -> None:
    truth = similarity_ground_truth(data)
    assert truth.kind == "dev_devs" and truth.is_rank_one and not truth.is_sparse
    assert truth.n == data.n_items
    np.testing.assert_array_equal(truth.factor, dev_devs(data).factor)
    np.testing.assert_array_equal(truth.items, np.arange(data.n_items))
    dev, devs, _ = loop_dev_devs(data)
    expected = np.zeros((data.n_items, data.n_items))
    for i in range(data.n_items):
        for j in range(data.n_items):
            if i != j and devs[i] > 1e-12 and devs[j] > 1e-12:
                expected[i, j] = dev[i] * dev[j] / (np.sqrt(devs[i]) * np.sqrt(devs[j]))
    np.testing.assert_allclose(truth.dense(), expected, rtol=1e-10, atol=1e-10)


def test_factor_is_zero_without_deviation_and_never_nan() -> None:
    # u0 rates one item (deviation 0); u1 rates everything the same (deviations 0); item "2"
    # is rated by both only; item "3" is in the catalog but unrated.
    data = Interactions(
        users=["u0", "u1", "u2"],
        items=["0", "1", "2", "3"],
        offsets=[0, 1, 4, 6],
        item_index=[2, 0, 1, 2, 0, 1],
        ratings=[5.0, 3.0, 3.0, 3.0, 1.0, 5.0],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = dev_devs(data)
        factor = result.factor
        truth = similarity_ground_truth(data)
        dense = truth.dense()
        for kind in ("adjusted_cosine", "cooccurrence_cosine"):
            other = similarity_ground_truth(data, kind).dense()
            assert np.isfinite(other).all()
    np.testing.assert_array_equal(result.n_ratings, [2, 2, 2, 0])
    np.testing.assert_array_equal(result.dev, [-2.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(result.devs, [4.0, 4.0, 0.0, 0.0])
    np.testing.assert_array_equal(factor, [-1.0, 1.0, 0.0, 0.0])
    assert np.isfinite(dense).all()
    np.testing.assert_array_equal(dense[2], 0.0)
    np.testing.assert_array_equal(dense[3], 0.0)


@FAST
@given(st.integers(0, 2**32 - 1))
def test_factor_without_deviation_under_warnings_as_errors(seed: int) -> None:
    # Only single-rating and constant users: every deviation is exactly zero.
    data = make_interactions(seed, n_users=6, n_items=5, constant_users=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = dev_devs(data)
        factor = result.factor
    np.testing.assert_array_equal(result.devs, 0.0)
    np.testing.assert_array_equal(factor, 0.0)


# ---------------------------------------------------------------------- adjusted cosine


@FAST
@given(interaction_cases)
def test_adjusted_cosine_equals_textbook_pair_loop(data: Interactions) -> None:
    truth = similarity_ground_truth(data, "adjusted_cosine")
    assert truth.kind == "adjusted_cosine" and truth.is_sparse and truth.n == data.n_items
    r, m = dense_ratings(data)
    mu = user_means(r, m)
    dense = truth.dense()
    for i in range(data.n_items):
        for j in range(data.n_items):
            expected = pair_adjusted_cosine(r, m, mu, i, j) if i != j else 0.0
            assert dense[i, j] == pytest.approx(expected, abs=1e-12)
    assert np.abs(dense).max() <= 1 + 1e-12
    np.testing.assert_allclose(dense, dense.T, atol=1e-15)


def test_adjusted_cosine_hand_example() -> None:
    # Users' means: u0 = 3, u1 = 2, u2 = 4.
    data = Interactions.from_events(
        ["u0", "u0", "u0", "u1", "u1", "u2", "u2"],
        ["a", "b", "c", "a", "b", "b", "c"],
        ratings=[1, 3, 5, 1, 3, 5, 3],
    )
    dense = similarity_ground_truth(data, "adjusted_cosine").dense()
    # a-b: co-raters u0 (-2, 0) and u1 (-1, 1): -1 / sqrt(5 * 1)
    assert dense[0, 1] == pytest.approx(-1 / np.sqrt(5), abs=1e-15)
    # a-c: co-rater u0 only: (-2)(2) / (2 * 2) = -1
    assert dense[0, 2] == pytest.approx(-1.0, abs=1e-15)
    # b-c: co-raters u0 (0, 2) and u2 (1, -1): -1 / sqrt(1 * 5)
    assert dense[1, 2] == pytest.approx(-1 / np.sqrt(5), abs=1e-15)


# ---------------------------------------------------------------------- co-occurrence cosine


@FAST
@given(interaction_cases, st.booleans())
def test_cooccurrence_cosine_equals_dense_binary_cosine(data: Interactions, ratings: bool) -> None:
    if not ratings:
        data = Interactions(
            users=data.users, items=data.items, offsets=data.offsets, item_index=data.item_index
        )
    truth = similarity_ground_truth(data, "cooccurrence_cosine")
    assert truth.kind == "cooccurrence_cosine" and truth.is_sparse
    _, m = dense_ratings(data)
    np.testing.assert_allclose(truth.dense(), dense_cooccurrence(m), rtol=1e-12, atol=1e-15)
    # |U_i & U_j| / sqrt(|U_i| |U_j|) for one pair, by counting.
    i, j = 0, 1
    both = int((m[:, i] & m[:, j]).sum())
    scale = np.sqrt(m[:, i].sum() * m[:, j].sum())
    assert truth.dense()[i, j] == pytest.approx(both / scale if scale else 0.0, abs=1e-15)


# ---------------------------------------------------------------------- items, diagonal, kinds


@FAST
@given(interaction_cases, st.sampled_from(GROUND_TRUTH_KINDS), st.integers(0, 2**32 - 1))
def test_items_subset_is_the_submatrix(data: Interactions, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = rng.choice(data.n_items, size=int(rng.integers(1, data.n_items + 1)), replace=False)
    full = similarity_ground_truth(data, kind)
    part = similarity_ground_truth(data, kind, items=items.tolist())
    assert part.n == items.size and part.kind == kind
    np.testing.assert_array_equal(part.items, items)
    np.testing.assert_allclose(
        part.dense(), full.dense()[np.ix_(items, items)], rtol=1e-12, atol=1e-15
    )
    assert part.is_rank_one == full.is_rank_one and part.is_sparse == full.is_sparse


@pytest.mark.parametrize("kind", GROUND_TRUTH_KINDS)
def test_diagonal_is_ignored(kind: str) -> None:
    data = make_interactions(3, n_users=10, n_items=6)
    truth = similarity_ground_truth(data, kind)
    dense = truth.dense()
    np.testing.assert_array_equal(np.diag(dense), 0.0)
    assert np.abs(dense).sum() > 0
    if truth.is_sparse:
        np.testing.assert_array_equal(truth.matrix.diagonal(), 0.0)
        assert (truth.matrix.data != 0).all(), "no explicit zeros stored"


def test_kinds_are_labelled_distinctly() -> None:
    data = make_interactions(3)
    labels = {similarity_ground_truth(data, kind).label for kind in GROUND_TRUTH_KINDS}
    assert len(labels) == len(GROUND_TRUTH_KINDS) and all(labels)


@pytest.mark.parametrize("kind", ["dev_devs", "adjusted_cosine"])
def test_data_without_ratings_needs_cooccurrence(kind: str) -> None:
    data = Interactions.from_events(["u", "u", "v"], ["a", "b", "a"], name="noratings")
    for call in (
        lambda: similarity_ground_truth(data, kind),
        lambda: dev_devs(data),
    ):
        with pytest.raises(DatasetError) as info:
            call()
        message = str(info.value)
        assert "cooccurrence_cosine" in message and "noratings" in message
        assert "\n" not in message
    with pytest.raises(DatasetError, match=f"'{kind}'"):
        similarity_ground_truth(data, kind)
    assert similarity_ground_truth(data, "cooccurrence_cosine").dense()[0, 1] == pytest.approx(
        1 / np.sqrt(2)
    )


@pytest.mark.parametrize(
    "items",
    [[0, 7], [-1], [[0, 1]], [99, 0], [1.9, 0.2], [True, False], [3, 3]],
    ids=["past the end", "negative", "2-D", "far past the end", "floats", "bools", "repeated"],
)
@pytest.mark.parametrize("kind", GROUND_TRUTH_KINDS)
def test_bad_items_are_errors(items, kind: str) -> None:
    data = make_interactions(0, n_items=7)
    config_error("items", lambda: similarity_ground_truth(data, kind, items=items), "[0, 7)")


@pytest.mark.parametrize("kind", ["cosine", "DEV_DEVS", "", None])
def test_unknown_kind_is_an_error(kind) -> None:
    data = make_interactions(0)
    config_error("kind", lambda: similarity_ground_truth(data, kind), "'dev_devs'")


# ---------------------------------------------------------------------- MovieLens-100K


@pytest.mark.real_data
def test_movielens_adjusted_cosine_equals_dense_textbook(movielens_dir: Path) -> None:
    data = movielens(movielens_dir)
    assert (data.n_users, data.n_items, data.n_interactions) == (943, 1682, 100_000)
    truth = similarity_ground_truth(data, "adjusted_cosine")
    r, m = dense_ratings(data)
    mu = r.sum(axis=1) / m.sum(axis=1)
    dense = truth.dense()
    np.testing.assert_allclose(dense, dense_adjusted_cosine(r, m, mu), rtol=0, atol=1e-12)
    # Explicit per-pair sums for a sample of pairs, including the most co-rated ones.
    rng = np.random.default_rng(0)
    popular = np.argsort(-m.sum(axis=0))[:10]
    pairs = [(int(a), int(b)) for a in popular for b in popular if a != b]
    pairs += [tuple(int(x) for x in rng.choice(data.n_items, 2, replace=False)) for _ in range(100)]
    for i, j in pairs:
        assert dense[i, j] == pytest.approx(pair_adjusted_cosine(r, m, mu, i, j), abs=1e-12)
    assert np.abs(dense).max() <= 1 + 1e-12


@pytest.mark.real_data
def test_movielens_dev_devs_and_cooccurrence(movielens_dir: Path) -> None:
    data = movielens(movielens_dir)
    r, m = dense_ratings(data)
    mu = r.sum(axis=1) / m.sum(axis=1)
    d = np.where(m, r - mu[:, None], 0.0)
    result = dev_devs(data)
    np.testing.assert_allclose(result.dev, d.sum(axis=0), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(result.devs, (d * d).sum(axis=0), rtol=1e-12, atol=1e-10)
    np.testing.assert_array_equal(result.n_ratings, m.sum(axis=0))
    co = similarity_ground_truth(data, "cooccurrence_cosine")
    np.testing.assert_allclose(co.dense(), dense_cooccurrence(m), rtol=0, atol=1e-12)
    items = np.random.default_rng(1).choice(data.n_items, 200, replace=False)
    for kind in GROUND_TRUTH_KINDS:
        full = similarity_ground_truth(data, kind)
        part = similarity_ground_truth(data, kind, items=items)
        np.testing.assert_allclose(
            part.dense(), full.dense()[np.ix_(items, items)], rtol=0, atol=1e-12
        )


# ---------------------------------------------------------------------- SimilarityGroundTruth


def random_symmetric(seed: int, n: int, density: float = 1.0, low: float = -2.0, high: float = 2.0):
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, size=(n, n))
    keep = rng.random((n, n)) < density
    upper = np.triu(values * keep, 1)
    return upper + upper.T


def brute_range(dense: np.ndarray) -> tuple[float, float]:
    n = dense.shape[0]
    values = [dense[i, j] for i in range(n) for j in range(n) if i != j]
    return min(values), max(values)


@pytest.mark.parametrize(
    "matrix",
    [np.ones((3, 4)), np.ones(3), np.ones((2, 2, 2)), sp.csr_matrix(np.ones((3, 4)))],
    ids=["3x4", "1-D", "3-D", "sparse 3x4"],
)
def test_from_matrix_rejects_non_square(matrix) -> None:
    config_error("ground_truth", lambda: SimilarityGroundTruth.from_matrix(matrix), "square")


@pytest.mark.parametrize("sparse", [False, True])
def test_from_matrix_rejects_asymmetric_and_non_finite(sparse: bool) -> None:
    wrap = sp.csr_matrix if sparse else np.asarray
    base = random_symmetric(0, 5)
    skew = base.copy()
    skew[0, 3] += 1e-3
    config_error("ground_truth", lambda: SimilarityGroundTruth.from_matrix(wrap(skew)), "symmetric")
    for bad in (np.nan, np.inf):
        broken = base.copy()
        broken[1, 2] = broken[2, 1] = bad
        config_error(
            "ground_truth", lambda b=broken: SimilarityGroundTruth.from_matrix(wrap(b)), "finite"
        )
    # Rounding-level asymmetry is accepted.
    nearly = base.copy()
    nearly[0, 3] += 1e-14
    assert SimilarityGroundTruth.from_matrix(wrap(nearly)).n == 5


def test_from_matrix_storage() -> None:
    base = random_symmetric(1, 6, density=0.5)
    np.fill_diagonal(base, 9.0)
    sparse = SimilarityGroundTruth.from_matrix(sp.coo_matrix(base), kind="mine", label="L")
    assert sparse.is_sparse and not sparse.is_rank_one
    assert (sparse.kind, sparse.label, sparse.n, sparse.items) == ("mine", "L", 6, None)
    np.testing.assert_array_equal(sparse.matrix.diagonal(), 0.0)
    assert (sparse.matrix.data != 0).all()
    dense = SimilarityGroundTruth.from_matrix(base)
    assert not dense.is_sparse and not dense.is_rank_one and dense.kind == "custom"
    expected = base.copy()
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_array_equal(sparse.dense(), expected)
    np.testing.assert_array_equal(dense.dense(), expected)
    ints = SimilarityGroundTruth.from_matrix(np.array([[0, 1], [1, 0]]))
    assert ints.dense().dtype == np.float64


def test_from_matrix_does_not_modify_its_input() -> None:
    base = random_symmetric(2, 5)
    np.fill_diagonal(base, 1.0)
    matrix = sp.csr_matrix(base)
    SimilarityGroundTruth.from_matrix(matrix)
    np.testing.assert_array_equal(matrix.toarray(), base)


def test_from_matrix_does_not_modify_dense_input() -> None:
    base = random_symmetric(2, 5)
    np.fill_diagonal(base, 1.0)
    copy = base.copy()
    SimilarityGroundTruth.from_matrix(base).dense()
    np.testing.assert_array_equal(base, copy)


def test_rank_one_rejects_bad_factors() -> None:
    for factor in ([[1.0, 2.0]], [1.0, np.nan], [np.inf, 0.0], 3.0):
        config_error("factor", lambda f=factor: SimilarityGroundTruth.rank_one(f), "1-D")


def test_range_needs_two_entities() -> None:
    config_error(
        "ground_truth",
        lambda: SimilarityGroundTruth.rank_one([2.0]).off_diagonal_range(),
        "at least 2",
    )


@FAST
@given(
    st.integers(2, 12),
    st.sampled_from(["mixed", "positive", "negative", "with zeros"]),
    st.integers(0, 2**32 - 1),
)
def test_rank_one_range_equals_brute_force(n: int, signs: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    factor = rng.uniform(-3, 3, size=n)
    if signs == "positive":
        factor = np.abs(factor) + 0.1
    elif signs == "negative":
        factor = -np.abs(factor) - 0.1
    elif signs == "with zeros":
        factor[rng.random(n) < 0.5] = 0.0
    truth = SimilarityGroundTruth.rank_one(factor)
    expected = brute_range(np.outer(factor, factor))
    assert truth.off_diagonal_range() == expected
    assert truth.is_rank_one and truth.n == n


def test_rank_one_range_hand_examples() -> None:
    assert SimilarityGroundTruth.rank_one([2.0, -3.0]).off_diagonal_range() == (-6.0, -6.0)
    assert SimilarityGroundTruth.rank_one([1.0, 2.0, 3.0]).off_diagonal_range() == (2.0, 6.0)
    assert SimilarityGroundTruth.rank_one([-1.0, -2.0, -3.0]).off_diagonal_range() == (2.0, 6.0)
    # The diagonal (9) is not a pair.
    assert SimilarityGroundTruth.rank_one([-3.0, 1.0, 2.0]).off_diagonal_range() == (-6.0, 2.0)


@FAST
@given(
    st.integers(2, 12),
    st.sampled_from([0.0, 0.3, 1.0]),
    st.sampled_from([(-2.0, 2.0), (1.0, 2.0), (-2.0, -1.0)]),
    st.integers(0, 2**32 - 1),
)
def test_sparse_and_dense_range_equal_brute_force(n, density, bounds, seed) -> None:
    base = random_symmetric(seed, n, density, *bounds)
    expected = brute_range(base)
    with_diagonal = base.copy()
    np.fill_diagonal(with_diagonal, 100.0 if seed % 2 else -100.0)
    sparse = SimilarityGroundTruth.from_matrix(sp.csr_matrix(with_diagonal))
    dense = SimilarityGroundTruth.from_matrix(with_diagonal)
    assert sparse.off_diagonal_range() == expected
    assert dense.off_diagonal_range() == expected
    if density == 1.0:  # no implicit zero: 0 is not in the range of one-signed values
        assert sparse.matrix.nnz == n * (n - 1)


def test_dense_range_over_several_blocks() -> None:
    n = 1100  # more than one row block of 1024
    base = random_symmetric(5, n, low=1.0, high=2.0)
    np.fill_diagonal(base, np.linspace(-50, 50, n))
    base[1050, 3] = base[3, 1050] = 0.5
    base[1030, 1031] = base[1031, 1030] = 7.0
    truth = SimilarityGroundTruth.from_matrix(base)
    assert truth.off_diagonal_range() == (0.5, 7.0)


@FAST
@given(
    st.integers(2, 12),
    st.sampled_from(["rank_one", "sparse", "dense"]),
    st.integers(0, 2**32 - 1),
)
def test_subset_and_pairs_agree_with_dense(n: int, storage: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    if storage == "rank_one":
        truth = SimilarityGroundTruth.rank_one(rng.normal(size=n))
    else:
        base = random_symmetric(seed, n, 0.5)
        np.fill_diagonal(base, 5.0)
        truth = SimilarityGroundTruth.from_matrix(
            sp.csr_matrix(base) if storage == "sparse" else base
        )
    full = truth.dense()
    index = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
    part = truth.subset(index)
    assert part.n == index.size and part.kind == truth.kind
    np.testing.assert_array_equal(part.dense(), full[np.ix_(index, index)])
    left = rng.integers(0, n, size=30)
    right = (left + rng.integers(1, n, size=30)) % n
    values = truth.pairs(left, right)
    assert values.shape == (30,)
    np.testing.assert_array_equal(values, full[left, right])
    np.testing.assert_array_equal(truth.pairs(right, left), values)


def test_subset_keeps_item_labels() -> None:
    data = make_interactions(4, n_items=8)
    truth = similarity_ground_truth(data, "adjusted_cosine", items=[7, 2, 5, 0])
    part = truth.subset([3, 1])
    np.testing.assert_array_equal(part.items, [0, 2])
    np.testing.assert_array_equal(
        part.dense(), similarity_ground_truth(data, "adjusted_cosine", items=[0, 2]).dense()
    )
    assert SimilarityGroundTruth.rank_one([1.0, 2.0]).subset([1]).items is None
