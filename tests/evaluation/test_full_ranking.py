"""full_ranking, dot_product_scorer and evaluate_scores: hand-computed answers, a plain per-user
``np.argsort(-scores, kind="stable")`` reference on random inputs (chunk sizes must not matter),
the REFERENCE.md ranking invariants, and every ConfigError."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idprobe.errors import ConfigError
from idprobe.evaluation import (
    FullRanking,
    TaskMetrics,
    dot_product_scorer,
    evaluate_scores,
    full_ranking,
)
from idprobe.metrics import (
    bootstrap_ci,
    per_user_hits,
    per_user_ndcg,
    per_user_reciprocal_rank,
    ranking_metrics,
)

FAST = settings(max_examples=60, deadline=None)

# Block sizes: the defaults (one block), one user / one item at a time, and uneven splits; every
# item_chunk below n_items takes the two-pass path.
CHUNKS = [(1024, 16_384), (1, 1), (1, 2), (2, 3), (3, 4)]


# ---------------------------------------------------------------------- helpers


def matrix_scorer(scores):
    """A scorer reading a dense (users, items) matrix; each call returns a fresh block."""
    scores = np.asarray(scores)

    def score(rows: slice, items: slice) -> np.ndarray:
        return scores[rows, items].copy()

    return score


def csr(lists) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of per-user item lists."""
    indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in lists], out=indptr[1:])
    indices = np.array([item for row in lists for item in row], dtype=np.int64)
    return indptr, indices


def reference_ranking(scores, targets, excluded=None, top_k=0):
    """The specification, user by user: drop the excluded items, sort the rest with a stable sort
    by descending score (ties in item-index order), read the target's 1-based position."""
    scores = np.asarray(scores)
    n_users, n_items = scores.shape
    ranks = np.zeros(n_users, dtype=np.int64)
    top_items = np.full((n_users, top_k), -1, dtype=np.int64)
    top_scores = np.full((n_users, top_k), -np.inf, dtype=np.float64)
    for u in range(n_users):
        gone = set() if excluded is None else {int(i) for i in excluded[u]}
        kept = np.array([j for j in range(n_items) if j not in gone], dtype=np.int64)
        row = scores[u, kept].astype(np.float64)
        order = kept[np.argsort(-row, kind="stable")]
        if int(targets[u]) not in gone:
            ranks[u] = int(np.flatnonzero(order == targets[u])[0]) + 1
        shown = order[:top_k]
        top_items[u, : shown.size] = shown
        top_scores[u, : shown.size] = scores[u, shown].astype(np.float64)
    return ranks, top_items, top_scores


def assert_same(result: FullRanking, expected) -> None:
    ranks, top_items, top_scores = expected
    assert isinstance(result, FullRanking)
    assert result.ranks.dtype == np.int64 and result.top_items.dtype == np.int64
    np.testing.assert_array_equal(result.ranks, ranks)
    np.testing.assert_array_equal(result.top_items, top_items)
    np.testing.assert_array_equal(result.top_scores, top_scores)


# ---------------------------------------------------------------------- known answers


@pytest.mark.parametrize(("user_chunk", "item_chunk"), CHUNKS)
def test_known_ranks_without_ties(user_chunk: int, item_chunk: int) -> None:
    scores = np.array(
        [
            [0.1, 0.9, 0.5, 0.3],  # order 1, 2, 3, 0
            [4.0, 3.0, 2.0, 1.0],  # order 0, 1, 2, 3
            [-1.0, -2.0, 5.0, 0.0],  # order 2, 3, 0, 1
        ]
    )
    result = full_ranking(
        matrix_scorer(scores),
        np.array([2, 3, 3]),
        4,
        top_k=2,
        user_chunk=user_chunk,
        item_chunk=item_chunk,
    )
    np.testing.assert_array_equal(result.ranks, [2, 4, 2])
    np.testing.assert_array_equal(result.top_items, [[1, 2], [0, 1], [2, 3]])
    np.testing.assert_array_equal(result.top_scores, [[0.9, 0.5], [4.0, 3.0], [5.0, 0.0]])


@pytest.mark.parametrize(("user_chunk", "item_chunk"), CHUNKS)
def test_known_ranks_with_ties_follow_item_index(user_chunk: int, item_chunk: int) -> None:
    scores = np.array(
        [
            [1, 2, 2, 1, 2],  # order 1, 2, 4, 0, 3
            [0, 0, 0, 0, 0],  # order 0, 1, 2, 3, 4
            [3, 1, 3, 1, 0],  # order 0, 2, 1, 3, 4
        ],
        dtype=np.float32,
    )
    kwargs = {"top_k": 3, "user_chunk": user_chunk, "item_chunk": item_chunk}
    result = full_ranking(matrix_scorer(scores), np.array([2, 4, 3]), 5, **kwargs)
    np.testing.assert_array_equal(result.ranks, [2, 5, 4])
    np.testing.assert_array_equal(result.top_items, [[1, 2, 4], [0, 1, 2], [0, 2, 1]])
    np.testing.assert_array_equal(result.top_scores, [[2, 2, 2], [0, 0, 0], [3, 3, 1]])
    # The first of a tied group ranks first: no item ahead, none tied before it.
    first = full_ranking(matrix_scorer(scores), np.array([1, 0, 0]), 5, **kwargs)
    np.testing.assert_array_equal(first.ranks, [1, 1, 1])
    last = full_ranking(matrix_scorer(scores), np.array([3, 4, 4]), 5, **kwargs)
    np.testing.assert_array_equal(last.ranks, [5, 5, 5])


@pytest.mark.parametrize(("user_chunk", "item_chunk"), CHUNKS)
def test_known_ranks_with_exclusion_and_padding(user_chunk: int, item_chunk: int) -> None:
    scores = np.array(
        [
            [5.0, 4.0, 3.0, 2.0, 1.0],
            [1.0, 1.0, 1.0, 1.0, 1.0],
            [0.0, 9.0, 8.0, 7.0, 6.0],
        ]
    )
    excluded = [[2, 0], [0, 1], [1, 3, 4]]  # the last user's target (1) is excluded
    result = full_ranking(
        matrix_scorer(scores),
        np.array([3, 4, 1]),
        5,
        exclude=csr(excluded),
        top_k=4,
        user_chunk=user_chunk,
        item_chunk=item_chunk,
    )
    # User 0: 1 (4), 3 (2), 4 (1) remain -> target 3 is 2nd (4th unfiltered).
    # User 1: 2, 3, 4 remain, all tied -> target 4 is 3rd (5th unfiltered).
    # User 2: its target is excluded -> a miss; 2 (8) and 0 (0) remain.
    np.testing.assert_array_equal(result.ranks, [2, 3, 0])
    np.testing.assert_array_equal(result.top_items, [[1, 3, 4, -1], [2, 3, 4, -1], [2, 0, -1, -1]])
    inf = np.inf
    np.testing.assert_array_equal(
        result.top_scores, [[4, 2, 1, -inf], [1, 1, 1, -inf], [8, 0, -inf, -inf]]
    )
    unfiltered = full_ranking(matrix_scorer(scores), np.array([3, 4, 1]), 5)
    np.testing.assert_array_equal(unfiltered.ranks, [4, 5, 1])
    assert unfiltered.top_items.shape == (3, 0) and unfiltered.top_scores.shape == (3, 0)


def test_top_k_longer_than_the_catalogue_is_padded() -> None:
    scores = np.array([[2.0, 7.0, 7.0]])
    result = full_ranking(matrix_scorer(scores), np.array([2]), 3, top_k=5, item_chunk=2)
    np.testing.assert_array_equal(result.ranks, [2])
    np.testing.assert_array_equal(result.top_items, [[1, 2, 0, -1, -1]])
    np.testing.assert_array_equal(result.top_scores, [[7, 7, 2, -np.inf, -np.inf]])


def test_no_users_gives_empty_arrays() -> None:
    result = full_ranking(matrix_scorer(np.zeros((0, 4))), np.array([], dtype=np.int64), 4, top_k=3)
    assert result.ranks.shape == (0,)
    assert result.top_items.shape == (0, 3) and result.top_scores.shape == (0, 3)


@pytest.mark.parametrize(("user_chunk", "item_chunk"), [(2, 3), (5, 4), (1, 7), (7, 1)])
def test_scorer_blocks_stay_within_the_chunk_sizes(user_chunk: int, item_chunk: int) -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 7))
    calls: list[tuple[slice, slice]] = []

    def score(rows: slice, items: slice) -> np.ndarray:
        calls.append((rows, items))
        return scores[rows, items]

    targets = rng.integers(0, 7, size=5)
    result = full_ranking(score, targets, 7, user_chunk=user_chunk, item_chunk=item_chunk)
    np.testing.assert_array_equal(result.ranks, reference_ranking(scores, targets)[0])
    covered = np.zeros((5, 7), dtype=bool)
    for rows, items in calls:
        assert 0 <= rows.start < rows.stop <= 5 and rows.stop - rows.start <= user_chunk
        assert 0 <= items.start < items.stop <= 7 and items.stop - items.start <= item_chunk
        covered[rows, items] = True
    assert covered.all()


def test_depth_truncates_ranks_and_mrr_becomes_mrr_at_depth() -> None:
    n_items = 15
    scores = np.tile(np.arange(n_items, 0, -1, dtype=np.float64), (4, 1))  # item j ranks j + 1
    targets = np.array([0, 2, 6, 11])
    full, full_arrays = evaluate_scores(
        matrix_scorer(scores), np.arange(4), targets, n_items, split="test"
    )
    np.testing.assert_array_equal(full_arrays["ranks"], [1, 3, 7, 12])
    assert full.values["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 7 + 1 / 12) / 4)
    cut, arrays = evaluate_scores(
        matrix_scorer(scores), np.arange(4), targets, n_items, split="test", depth=10
    )
    np.testing.assert_array_equal(arrays["ranks"], [1, 3, 7, 0])
    assert cut.values == pytest.approx(
        {
            "hr@5": 2 / 4,
            "ndcg@5": (1 + 1 / 2) / 4,
            "hr@10": 3 / 4,
            "ndcg@10": (1 + 1 / 2 + 1 / 3) / 4,
            "mrr": (1 + 1 / 3 + 1 / 7) / 4,
        }
    )
    # HR and NDCG at k <= depth do not change; only the deep rank left MRR.
    for key in ("hr@5", "ndcg@5", "hr@10", "ndcg@10"):
        assert cut.values[key] == full.values[key]
    assert cut.details["depth"] == 10 and full.details["depth"] is None
    # depth equal to the largest k is allowed.
    _, same = evaluate_scores(
        matrix_scorer(scores), np.arange(4), targets, n_items, split="test", ks=(3, 7), depth=7
    )
    np.testing.assert_array_equal(same["ranks"], [1, 3, 7, 0])


# ---------------------------------------------------------------------- random inputs


@st.composite
def ranking_problems(draw):
    n_users = draw(st.integers(1, 9))
    n_items = draw(st.integers(1, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["float64", "float32", "few-values", "int64"]))
    rng = np.random.default_rng(seed)
    if kind == "float64":
        scores = rng.normal(size=(n_users, n_items))
        scores[rng.random(scores.shape) < 0.2] = 0.0  # some exact ties even for floats
    elif kind == "float32":
        scores = rng.normal(size=(n_users, n_items)).astype(np.float32)
    elif kind == "few-values":  # integer-valued floats: many ties
        scores = rng.integers(-1, 3, size=(n_users, n_items)).astype(np.float64)
    else:
        scores = rng.integers(0, 4, size=(n_users, n_items))
    targets = rng.integers(0, n_items, size=n_users)
    excluded = None
    if draw(st.booleans()):
        p = draw(st.sampled_from([0.1, 0.4, 0.9]))
        excluded = []
        for _ in range(n_users):
            row = list(np.flatnonzero(rng.random(n_items) < p))
            rng.shuffle(row)  # CSR rows need not be sorted
            if row and rng.random() < 0.3:
                row.append(row[0])  # nor free of duplicates
            excluded.append(row)
    top_k = draw(st.integers(0, n_items + 3))
    user_chunk = draw(st.integers(1, n_users + 2))
    item_chunk = draw(st.integers(1, n_items + 2))
    return scores, targets, excluded, top_k, user_chunk, item_chunk


@FAST
@given(ranking_problems())
def test_full_ranking_matches_a_plain_stable_argsort(problem) -> None:
    scores, targets, excluded, top_k, user_chunk, item_chunk = problem
    result = full_ranking(
        matrix_scorer(scores),
        targets,
        scores.shape[1],
        exclude=None if excluded is None else csr(excluded),
        top_k=top_k,
        user_chunk=user_chunk,
        item_chunk=item_chunk,
    )
    assert_same(result, reference_ranking(scores, targets, excluded, top_k))


@pytest.mark.parametrize("seed", range(6))
def test_results_do_not_depend_on_chunk_sizes(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_users, n_items = 13, 29
    scores = rng.integers(0, 5, size=(n_users, n_items)).astype(np.float64)
    scores[:, ::2] += rng.normal(size=(n_users, (n_items + 1) // 2))
    targets = rng.integers(0, n_items, size=n_users)
    excluded = [list(np.flatnonzero(rng.random(n_items) < 0.2)) for _ in range(n_users)]
    expected = reference_ranking(scores, targets, excluded, top_k=7)
    for user_chunk, item_chunk in [(1024, 16_384), (1, 1), (4, 5), (13, 28), (6, 29), (2, 30)]:
        result = full_ranking(
            matrix_scorer(scores),
            targets,
            n_items,
            exclude=csr(excluded),
            top_k=7,
            user_chunk=user_chunk,
            item_chunk=item_chunk,
        )
        assert_same(result, expected)


# ---------------------------------------------------------------------- dot_product_scorer


def test_dot_product_scorer_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    queries = rng.normal(size=(6, 4))
    items = rng.normal(size=(9, 4))
    bias = rng.normal(size=9)
    dense = queries @ items.T + bias
    score = dot_product_scorer(queries, items, bias)
    block = score(slice(0, 6), slice(0, 9))
    assert block.shape == (6, 9) and block.dtype == np.float32
    np.testing.assert_allclose(block, dense, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        score(slice(2, 5), slice(3, 8)), dense[2:5, 3:8], rtol=1e-5, atol=1e-5
    )
    plain = dot_product_scorer(queries, items)
    np.testing.assert_allclose(plain(slice(1, 4), slice(0, 9)), (queries @ items.T)[1:4], atol=1e-5)
    # Scoring twice gives the same block: the bias is added to a fresh array, not accumulated.
    np.testing.assert_array_equal(score(slice(0, 6), slice(0, 9)), block)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("with_bias", [False, True])
def test_dot_product_ranks_match_the_dense_score_matrix(seed: int, with_bias: bool) -> None:
    # Small integers and quarters: exact in float32 whatever the summation order, so blocks and
    # the dense matrix agree bit for bit and the many ties are real ties.
    rng = np.random.default_rng(seed)
    n_users, n_items, width = 11, 23, 3
    queries = rng.integers(-2, 3, size=(n_users, width)).astype(np.float64)
    items = rng.integers(-2, 3, size=(n_items, width)) / 4.0
    bias = rng.integers(-2, 3, size=n_items) / 2.0 if with_bias else None
    dense = queries @ items.T + (0.0 if bias is None else bias)
    targets = rng.integers(0, n_items, size=n_users)
    excluded = [list(np.flatnonzero(rng.random(n_items) < 0.15)) for _ in range(n_users)]
    expected = reference_ranking(dense, targets, excluded, top_k=6)
    scorer = dot_product_scorer(queries, items, bias)
    for user_chunk, item_chunk in [(1024, 16_384), (3, 5), (1, 22)]:
        result = full_ranking(
            scorer,
            targets,
            n_items,
            exclude=csr(excluded),
            top_k=6,
            user_chunk=user_chunk,
            item_chunk=item_chunk,
        )
        assert_same(result, expected)


# ---------------------------------------------------------------------- evaluate_scores


def _invariants_hold(values: dict[str, float]) -> None:
    tol = 1e-12
    assert values["hr@10"] >= values["hr@5"] - tol
    assert values["ndcg@10"] >= values["ndcg@5"] - tol
    assert values["ndcg@5"] <= values["hr@5"] + tol
    assert values["ndcg@10"] <= values["hr@10"] + tol
    assert (
        values["ndcg@10"] - values["ndcg@5"]
        <= (values["hr@10"] - values["hr@5"]) / math.log2(7) + tol
    )
    assert all(0.0 <= v <= 1.0 for v in values.values())


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(2, 40),
    n_items=st.integers(1, 30),
    filtered=st.booleans(),
    ties=st.booleans(),
    depth=st.sampled_from([None, 10, 12]),
)
def test_evaluate_scores_matches_ranking_metrics_and_invariants(
    seed: int, n_users: int, n_items: int, filtered: bool, ties: bool, depth: int | None
) -> None:
    rng = np.random.default_rng(seed)
    if ties:
        scores = rng.integers(0, 3, size=(n_users, n_items)).astype(np.float64)
    else:
        scores = rng.normal(size=(n_users, n_items))
    targets = rng.integers(0, n_items, size=n_users)
    excluded = (
        [list(np.flatnonzero(rng.random(n_items) < 0.2)) for _ in range(n_users)]
        if filtered
        else None
    )
    users = rng.permutation(1000)[:n_users]
    metrics, arrays = evaluate_scores(
        matrix_scorer(scores),
        users,
        targets,
        n_items,
        split="validation",
        exclude=None if excluded is None else csr(excluded),
        depth=depth,
        top_k=7,
        item_chunk=int(rng.integers(1, n_items + 1)),
    )
    ranks = reference_ranking(scores, targets, excluded)[0]
    if depth is not None:
        ranks[ranks > depth] = 0
    np.testing.assert_array_equal(arrays["ranks"], ranks)
    expected = ranking_metrics(ranks, ks=(5, 10), filtered=filtered, n_beams=depth)
    assert metrics.values == expected.values
    assert list(metrics.values) == ["hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"]
    _invariants_hold(metrics.values)
    assert set(metrics.intervals) == {"hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"}
    for key, (low, high) in metrics.intervals.items():
        assert low - 1e-12 <= metrics.values[key] <= high + 1e-12, key
    assert metrics.details["filtered"] is filtered
    assert metrics.details["depth"] == depth
    assert metrics.details["items_ranked"] == n_items
    np.testing.assert_array_equal(arrays["users"], users)


def test_evaluate_scores_result_and_array_shapes() -> None:
    rng = np.random.default_rng(3)
    n_users, n_items = 8, 12
    scores = rng.normal(size=(n_users, n_items))
    targets = rng.integers(0, n_items, size=n_users)
    users = np.arange(100, 100 + n_users)
    metrics, arrays = evaluate_scores(
        matrix_scorer(scores),
        users,
        targets,
        n_items,
        split="test",
        task="direct",
        ks=(1, 3),
        exclude=csr([[0]] * n_users),
        top_k=4,
        details={"model": "toy"},
    )
    assert isinstance(metrics, TaskMetrics)
    assert (metrics.task, metrics.split, metrics.template_id) == ("direct", "test", "full-ranking")
    assert metrics.n_users == n_users and metrics.seconds >= 0.0
    assert set(metrics.values) == {"hr@1", "ndcg@1", "hr@3", "ndcg@3", "mrr"}
    assert metrics.details == {
        "ranking": "full",
        "items_ranked": n_items,
        "depth": None,
        "filtered": True,
        "ties": "item index",
        "model": "toy",
    }
    assert set(arrays) == {"users", "targets", "items", "scores", "ranks"}
    assert arrays["users"].shape == (n_users,) and arrays["users"].dtype == np.int64
    assert arrays["targets"].shape == (n_users,) and arrays["targets"].dtype == np.int64
    assert arrays["items"].shape == (n_users, 4) and arrays["items"].dtype == np.int64
    assert arrays["scores"].shape == (n_users, 4) and arrays["scores"].dtype == np.float64
    assert arrays["ranks"].shape == (n_users,) and arrays["ranks"].dtype == np.int64
    np.testing.assert_array_equal(arrays["users"], users)
    np.testing.assert_array_equal(arrays["targets"], targets)
    assert not (arrays["items"] == 0).any()  # item 0 is excluded for everyone
    # The saved lists are best first.
    assert (np.diff(arrays["scores"], axis=1) <= 0).all()
    # Default top_k is 20, padded when the catalogue is smaller.
    _, default = evaluate_scores(matrix_scorer(scores), users, targets, n_items, split="test")
    assert default["items"].shape == (n_users, 20)
    assert (default["items"][:, n_items:] == -1).all()
    assert np.isneginf(default["scores"][:, n_items:]).all()


def test_evaluate_scores_single_best_item_is_rank_one() -> None:
    scores = np.array([[0.0, 0.0, 9.0, 1.0], [5.0, 4.0, 4.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    targets = np.array([2, 0, 3])
    metrics, arrays = evaluate_scores(
        matrix_scorer(scores), np.arange(3), targets, 4, split="test", ks=(1, 2), top_k=1
    )
    np.testing.assert_array_equal(arrays["ranks"], [1, 1, 1])
    np.testing.assert_array_equal(arrays["items"][:, 0], targets)
    assert metrics.values == {"hr@1": 1.0, "ndcg@1": 1.0, "hr@2": 1.0, "ndcg@2": 1.0, "mrr": 1.0}


def test_evaluate_scores_one_user_has_no_intervals() -> None:
    metrics, arrays = evaluate_scores(
        matrix_scorer(np.array([[1.0, 3.0, 2.0]])), np.array([7]), np.array([2]), 3, split="test"
    )
    np.testing.assert_array_equal(arrays["ranks"], [2])
    assert metrics.intervals == {}
    assert metrics.values["mrr"] == 0.5 and metrics.values["hr@5"] == 1.0


def test_evaluate_scores_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(30, 10))
    targets = rng.integers(0, 10, size=30)
    run = [
        evaluate_scores(matrix_scorer(scores), np.arange(30), targets, 10, split="test", seed=s)[0]
        for s in (4, 4, 5)
    ]
    assert run[0].intervals == run[1].intervals
    assert run[0].values == run[2].values
    # The intervals are the bootstrap of the per-user values, with the seed given.
    _, arrays = evaluate_scores(matrix_scorer(scores), np.arange(30), targets, 10, split="test")
    ranks = arrays["ranks"]
    for seed, metrics in ((4, run[0]), (5, run[2])):
        assert metrics.intervals == {
            "hr@5": bootstrap_ci(per_user_hits(ranks, 5), seed=seed),
            "ndcg@5": bootstrap_ci(per_user_ndcg(ranks, 5), seed=seed),
            "hr@10": bootstrap_ci(per_user_hits(ranks, 10), seed=seed),
            "ndcg@10": bootstrap_ci(per_user_ndcg(ranks, 10), seed=seed),
            "mrr": bootstrap_ci(per_user_reciprocal_rank(ranks), seed=seed),
        }
    assert run[0].intervals != run[2].intervals


# ---------------------------------------------------------------------- errors


def _raises(parameter: str, call) -> ConfigError:
    with pytest.raises(ConfigError, match=rf"^{parameter}: expected ") as caught:
        call()
    assert caught.value.parameter == parameter
    return caught.value


SCORES = np.arange(12, dtype=np.float64).reshape(3, 4)


@pytest.mark.parametrize("targets", [[0, 1, 4], [0, -1, 2], [[0, 1, 2]]])
def test_targets_out_of_range_or_badly_shaped(targets) -> None:
    _raises("targets", lambda: full_ranking(matrix_scorer(SCORES), np.array(targets), 4))


@pytest.mark.parametrize("name", ["user_chunk", "item_chunk"])
@pytest.mark.parametrize("value", [0, -2, 1.5, True, None])
def test_chunk_sizes_must_be_positive_integers(name: str, value) -> None:
    _raises(
        name,
        lambda: full_ranking(matrix_scorer(SCORES), np.array([0, 1, 2]), 4, **{name: value}),
    )


def test_chunk_sizes_accept_numpy_integers() -> None:
    result = full_ranking(
        matrix_scorer(SCORES),
        np.array([0, 1, 2]),
        4,
        user_chunk=np.int64(2),
        item_chunk=np.int32(3),
    )
    np.testing.assert_array_equal(result.ranks, [4, 3, 2])


@pytest.mark.parametrize("n_items", [0, -1])
def test_n_items_must_be_positive(n_items: int) -> None:
    empty = np.array([], dtype=np.int64)
    _raises("n_items", lambda: full_ranking(matrix_scorer(SCORES), empty, n_items))


@pytest.mark.parametrize("top_k", [-1, True, 2.0])
def test_top_k_must_be_a_non_negative_integer(top_k) -> None:
    _raises(
        "top_k", lambda: full_ranking(matrix_scorer(SCORES), np.array([0, 1, 2]), 4, top_k=top_k)
    )


@pytest.mark.parametrize("indptr", [[0, 1, 2], [0, 1, 2, 3, 3], [[0, 1, 2, 3]]])
def test_exclude_needs_one_offset_per_user_plus_one(indptr) -> None:
    exclude = (np.array(indptr), np.array([0, 1, 2]))
    _raises(
        "exclude",
        lambda: full_ranking(matrix_scorer(SCORES), np.array([0, 1, 2]), 4, exclude=exclude),
    )


@pytest.mark.parametrize("item_chunk", [16_384, 3])
@pytest.mark.parametrize(
    "bad", [lambda block: block.T, lambda block: block[:, :-1], lambda block: block.ravel()]
)
def test_scorer_block_of_the_wrong_shape(bad, item_chunk: int) -> None:
    def score(rows: slice, items: slice) -> np.ndarray:
        return bad(SCORES[rows, items] + 0.5)

    error = _raises(
        "scorer", lambda: full_ranking(score, np.array([0, 1, 2]), 4, item_chunk=item_chunk)
    )
    assert "shape" in str(error)


@pytest.mark.parametrize("item_chunk", [16_384, 2])
@pytest.mark.parametrize("where", [(0, 0), (2, 3)])  # a target's score, another item's score
def test_scorer_returning_nan(where: tuple[int, int], item_chunk: int) -> None:
    scores = SCORES.copy()
    scores[where] = np.nan
    error = _raises(
        "scorer",
        lambda: full_ranking(matrix_scorer(scores), np.array([0, 1, 2]), 4, item_chunk=item_chunk),
    )
    assert "NaN" in str(error)


@pytest.mark.parametrize(("ks", "depth"), [((5, 10), 9), ((5, 10), 0), ((1, 3), 2), ((5,), 4.0)])
def test_depth_below_the_largest_k(ks, depth) -> None:
    _raises(
        "depth",
        lambda: evaluate_scores(
            matrix_scorer(SCORES),
            np.arange(3),
            np.array([0, 1, 2]),
            4,
            split="test",
            ks=ks,
            depth=depth,
        ),
    )


def test_evaluate_scores_passes_full_ranking_errors_on() -> None:
    _raises(
        "targets",
        lambda: evaluate_scores(
            matrix_scorer(SCORES), np.arange(3), np.array([0, 1, 9]), 4, split="t"
        ),
    )


@pytest.mark.parametrize(
    ("queries", "items"),
    [((4, 3), (5, 2)), ((4, 3), (5, 4)), ((3,), (5, 3)), ((4, 3), (5, 3, 1))],
)
def test_dot_product_scorer_needs_matching_widths(queries, items) -> None:
    error = _raises("item_vectors", lambda: dot_product_scorer(np.ones(queries), np.ones(items)))
    assert str(items) in str(error)


@pytest.mark.parametrize("bias_shape", [(4,), (6,), (5, 1), ()])
def test_dot_product_scorer_bias_of_the_wrong_shape(bias_shape) -> None:
    error = _raises(
        "item_bias",
        lambda: dot_product_scorer(np.ones((4, 3)), np.ones((5, 3)), np.ones(bias_shape)),
    )
    assert "(5,)" in str(error)


# -------------------------------------------------------------- input checks added after review


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_scores_are_rejected(bad) -> None:
    scores = np.array([[3.0, bad, 1.0, 2.0]])
    with pytest.raises(ConfigError, match=r"^scorer: expected finite scores"):
        full_ranking(matrix_scorer(scores), np.array([1]), 4, top_k=4)


@pytest.mark.parametrize(
    ("exclude", "message"),
    [
        (
            (np.array([0, 5]), np.array([1])),
            r"^exclude: expected non-decreasing offsets from 0 to 1",
        ),
        ((np.array([1, 1]), np.array([1])), r"^exclude: expected non-decreasing offsets"),
        ((np.array([0, 1]), np.array([7])), r"^exclude: expected item indices in \[0, 4\)"),
        ((np.array([0, 1]), np.array([-1])), r"^exclude: expected item indices in \[0, 4\)"),
    ],
)
def test_a_bad_exclude_csr_is_named(exclude, message) -> None:
    with pytest.raises(ConfigError, match=message):
        full_ranking(matrix_scorer(np.zeros((1, 4))), np.array([0]), 4, exclude=exclude)


def test_float_targets_and_missing_n_items_are_named() -> None:
    scorer = matrix_scorer(np.arange(12.0).reshape(3, 4))
    with pytest.raises(ConfigError, match=r"^targets: expected a 1-D integer array"):
        full_ranking(scorer, np.array([0.7, 1.2, 2.9]), 4)
    with pytest.raises(ConfigError, match=r"^n_items: expected an integer >= 1"):
        full_ranking(scorer, np.array([0]), None)
    with pytest.raises(ConfigError, match=r"^n_items: expected an integer >= 1"):
        full_ranking(scorer, np.array([0]), 0)


def test_evaluate_scores_checks_users_and_depth_types() -> None:
    scorer = matrix_scorer(np.arange(36.0).reshape(3, 12))
    targets = np.array([0, 1, 2])
    with pytest.raises(ConfigError, match=r"^users: expected one user per target \(3\), found 1"):
        evaluate_scores(scorer, np.array([0]), targets, 12, split="test")
    with pytest.raises(ConfigError, match=r"^depth: expected None or an integer >= the largest k"):
        evaluate_scores(scorer, np.arange(3), targets, 12, split="test", ks=(1,), depth=True)
    metrics, _ = evaluate_scores(
        scorer, np.arange(3), targets, 12, split="test", depth=np.int64(10)
    )
    assert metrics.details["depth"] == 10
