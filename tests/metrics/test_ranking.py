"""Ranks, seen-item filtering and HR/NDCG/MRR against hand-computed values and Python loops."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from metric_checks import config_error

from idprobe.errors import IdprobeError
from idprobe.metrics import (
    RankingResult,
    check_ranking_invariants,
    filter_seen,
    hit_rate,
    mrr,
    ndcg,
    per_user_hits,
    per_user_ndcg,
    per_user_reciprocal_rank,
    ranking_metrics,
    ranks_from_predictions,
)

FAST = settings(max_examples=30, deadline=None)
SEEDS = [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------- references


def brute_ranks(predicted, targets) -> list[int]:
    """Walk each row, counting non-empty slots, until the target."""
    out = []
    for row, target in zip(predicted, targets, strict=True):
        position, rank = 0, 0
        for item in row:
            if item == -1:
                continue
            position += 1
            if item == target:
                rank = position
                break
        out.append(rank)
    return out


def brute_filter(predicted, seen) -> list[list[int]]:
    out = []
    for row, items in zip(predicted, seen, strict=True):
        kept = [int(i) for i in row if i != -1 and int(i) not in set(items)]
        out.append(kept + [-1] * (len(row) - len(kept)))
    return out


def brute_metrics(ranks, k) -> tuple[float, float, float]:
    hr = nd = rr = 0.0
    for r in ranks:
        if 1 <= r <= k:
            hr += 1
            nd += 1 / math.log2(r + 1)
        if r >= 1:
            rr += 1 / r
    n = len(ranks)
    return hr / n, nd / n, rr / n


def random_predictions(seed: int, n_users=40, n_beams=10, n_items=30, empty=0.15):
    """Rows of distinct items with some empty slots anywhere, targets partly absent."""
    rng = np.random.default_rng(seed)
    predicted = np.stack([rng.permutation(n_items)[:n_beams] for _ in range(n_users)])
    predicted[rng.random(predicted.shape) < empty] = -1
    targets = rng.integers(0, n_items, n_users)
    seen = [rng.choice(n_items, size=rng.integers(0, 8), replace=False) for _ in range(n_users)]
    return predicted, targets, seen


# ---------------------------------------------------------------------- hand-computed values


def test_brief_example() -> None:
    ranks = np.array([1, 3, 0, 11])
    assert hit_rate(ranks, 5) == 0.5
    assert ndcg(ranks, 5) == pytest.approx((1 + 0.5) / 4)
    assert hit_rate(ranks, 10) == 0.5
    assert hit_rate(ranks, 11) == 0.75
    assert ndcg(ranks, 11) == pytest.approx((1 + 0.5 + 1 / math.log2(12)) / 4)
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 1 / 11) / 4)
    assert mrr(ranks, k=5) == pytest.approx((1 + 1 / 3) / 4)
    np.testing.assert_array_equal(per_user_hits(ranks, 5), [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(per_user_ndcg(ranks, 5), [1.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(per_user_reciprocal_rank(ranks), [1.0, 1 / 3, 0.0, 1 / 11])


def test_ranks_hand_example() -> None:
    predicted = np.array([[4, 2, 9], [7, -1, 3], [1, 1, 1], [-1, -1, -1]])
    targets = np.array([2, 3, 5, 0])
    # row 1: the empty slot does not count, so 3 is at rank 2
    np.testing.assert_array_equal(ranks_from_predictions(predicted, targets), [2, 2, 0, 0])
    assert ranks_from_predictions(predicted, targets).dtype == np.int64
    # duplicates: the first occurrence counts
    np.testing.assert_array_equal(ranks_from_predictions([[5, 6, 6]], [6]), [2])


def test_ranks_from_lists_and_degenerate_shapes() -> None:
    assert ranks_from_predictions([[3, 4]], [4]).tolist() == [2]
    assert ranks_from_predictions(np.zeros((3, 0), dtype=int), [1, 2, 3]).tolist() == [0, 0, 0]
    assert ranks_from_predictions(np.zeros((0, 5), dtype=int), []).tolist() == []


def test_filter_seen_hand_example() -> None:
    predicted = np.array([[3, 1, 2, -1], [5, 6, 7, 8]])
    expected = [[3, 2, -1, -1], [5, 7, -1, -1]]
    assert filter_seen(predicted, [[1], {6, 8}]).tolist() == expected
    assert filter_seen(predicted, indptr=[0, 1, 3], indices=[1, 6, 8]).tolist() == expected
    matrix = sp.csr_matrix(([1, 1, 1], ([0, 1, 1], [1, 6, 8])), shape=(2, 10))
    assert filter_seen(predicted, matrix).tolist() == expected
    assert filter_seen(predicted, matrix.tocoo()).tolist() == expected
    # explicit zeros are not seen pairs, and the caller's matrix keeps them
    with_zero = sp.csr_matrix(([1, 0, 1, 1], ([0, 0, 1, 1], [1, 3, 6, 8])), shape=(2, 10))
    assert filter_seen(predicted, with_zero).tolist() == expected
    assert with_zero.nnz == 4
    # nothing seen: only the empty slots move (none here, since -1 is already last)
    assert filter_seen(predicted, [[], []]).tolist() == predicted.tolist()
    # the input is not modified
    assert predicted.tolist() == [[3, 1, 2, -1], [5, 6, 7, 8]]


def test_filter_seen_compacts_interior_empty_slots() -> None:
    assert filter_seen([[-1, 4, -1, 2]], [[]]).tolist() == [[4, 2, -1, -1]]


def test_filtered_target_is_lost() -> None:
    """A repeat target (in its user's history) is filtered away with the rest (documented)."""
    filtered = filter_seen([[1, 2, 3]], [[2]])
    assert ranks_from_predictions(filtered, [2]).tolist() == [0]


# ---------------------------------------------------------------------- against brute force


@pytest.mark.parametrize("seed", SEEDS)
def test_ranks_and_filter_equal_python_loops(seed: int) -> None:
    predicted, targets, seen = random_predictions(seed)
    # make about half of the targets present
    rng = np.random.default_rng(seed + 100)
    for user in np.flatnonzero(rng.random(len(targets)) < 0.5):
        row = predicted[user]
        if (row >= 0).any():
            targets[user] = rng.choice(row[row >= 0])
    ranks = ranks_from_predictions(predicted, targets)
    assert ranks.tolist() == brute_ranks(predicted, targets)
    assert (ranks > 0).sum() > 5
    filtered = filter_seen(predicted, seen)
    assert filtered.tolist() == brute_filter(predicted, seen)
    lengths = [len(s) for s in seen]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(seen)
    assert filter_seen(predicted, indptr=indptr, indices=indices).tolist() == filtered.tolist()
    assert ranks_from_predictions(filtered, targets).tolist() == brute_ranks(
        brute_filter(predicted, seen), targets
    )


@FAST
@given(
    ranks=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=60),
    k=st.integers(min_value=1, max_value=25),
)
def test_metrics_equal_python_loops(ranks: list[int], k: int) -> None:
    hr, nd, rr = brute_metrics(ranks, k)
    assert hit_rate(ranks, k) == pytest.approx(hr, abs=1e-12)
    assert ndcg(ranks, k) == pytest.approx(nd, abs=1e-12)
    assert mrr(ranks) == pytest.approx(rr, abs=1e-12)
    assert mrr(ranks, k) == pytest.approx(brute_metrics([r if r <= k else 0 for r in ranks], k)[2])


# ---------------------------------------------------------------------- result and invariants


def test_ranking_metrics_result() -> None:
    result = ranking_metrics(np.array([1, 3, 0, 11]), filtered=True)
    assert isinstance(result, RankingResult)
    assert list(result.values) == ["hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"]
    assert result["hr@5"] == 0.5 and result["ndcg@5"] == pytest.approx(0.375)
    assert result.n_users == 4 and result.ks == (5, 10) and result.filtered is True
    record = result.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["ks"] == [5, 10] and record["values"]["mrr"] == result["mrr"]
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1
    assert list(frame.columns) == [
        "hr@5",
        "ndcg@5",
        "hr@10",
        "ndcg@10",
        "mrr",
        "n_users",
        "filtered",
    ]
    html = result._repr_html_()
    assert "RankingResult" in html and "ndcg@10" in html and "0.375" in html


def test_ranking_metrics_sorts_ks_and_checks_beams() -> None:
    result = ranking_metrics([1, 2, 20], ks=(20, 1), n_beams=20)
    assert list(result.values) == ["hr@1", "ndcg@1", "hr@20", "ndcg@20", "mrr"]
    assert result.ks == (1, 20) and result.n_beams == 20
    config_error("ks", lambda: ranking_metrics([1, 2], ks=(5, 10), n_beams=5), "n_beams = 5")
    config_error("ranks", lambda: ranking_metrics([1, 7], ks=(5,), n_beams=5), "7")
    config_error("n_beams", lambda: ranking_metrics([1], n_beams=0))


@FAST
@given(
    ranks=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=80),
    ks=st.sets(st.integers(min_value=1, max_value=30), min_size=1, max_size=5),
)
def test_invariants_hold_on_random_ranks(ranks: list[int], ks: set[int]) -> None:
    result = ranking_metrics(ranks, ks=sorted(ks))  # calls check_ranking_invariants
    ordered = sorted(ks)
    for k1, k2 in itertools.pairwise(ordered):
        gap_nd = result[f"ndcg@{k2}"] - result[f"ndcg@{k1}"]
        gap_hr = result[f"hr@{k2}"] - result[f"hr@{k1}"]
        assert gap_nd <= gap_hr / math.log2(k1 + 2) + 1e-12


def test_invariants_hold_on_large_random_ranks() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        ranks = rng.integers(0, 12, 22_000)
        check_ranking_invariants(ranking_metrics(ranks, ks=(1, 5, 10, 20)).values)


def test_check_accepts_a_plausible_table() -> None:
    check_ranking_invariants(
        {"hr@5": 0.05, "ndcg@5": 0.035, "hr@10": 0.07, "ndcg@10": 0.04, "mrr": 0.03, "x": 9}
    )


@pytest.mark.parametrize(
    ("values", "violated"),
    [
        ({"hr@5": 0.3, "hr@10": 0.2}, r"HR@10 >= HR@5"),
        ({"ndcg@5": 0.2, "ndcg@10": 0.1}, r"NDCG@10 >= NDCG@5"),
        ({"hr@5": 0.1, "ndcg@5": 0.2}, r"NDCG@5 <= HR@5"),
        # gap 0.1 in HR allows at most 0.1 / log2(7) = 0.0356 in NDCG
        (
            {"hr@5": 0.2, "ndcg@5": 0.1, "hr@10": 0.3, "ndcg@10": 0.2},
            r"NDCG@10 - NDCG@5 <= \(HR@10 - HR@5\) / log2\(7\)",
        ),
        (
            {"hr@1": 0.1, "ndcg@1": 0.1, "hr@3": 0.2, "ndcg@3": 0.19},
            r"NDCG@3 - NDCG@1 <= \(HR@3 - HR@1\) / log2\(3\)",
        ),
        ({"hr@5": 1.5}, r"0 <= hr@5 <= 1"),
        ({"mrr": -0.1}, r"0 <= mrr <= 1"),
    ],
)
def test_check_rejects_crafted_violations(values: dict, violated: str) -> None:
    with pytest.raises(IdprobeError, match=r"^ranking invariant violated: " + violated):
        check_ranking_invariants(values)


def test_check_tolerates_rounding() -> None:
    check_ranking_invariants({"hr@5": 0.1, "ndcg@5": 0.1 + 1e-12})


# ---------------------------------------------------------------------- argument errors


def test_rank_errors() -> None:
    config_error("ranks", lambda: hit_rate([[1, 2]], 5), "1-D", "shape (1, 2)")
    config_error("ranks", lambda: ndcg([1.0, 2.0], 5), "integer", "float64")
    config_error("ranks", lambda: mrr([True, False]), "integer", "bool")
    config_error("ranks", lambda: hit_rate([1, -2], 5), "0 for a missed target", "-2")
    config_error("ranks", lambda: ranking_metrics([]), "at least one user")
    for function in (hit_rate, ndcg, per_user_hits, per_user_ndcg):
        config_error("k", lambda f=function: f([1, 2], 0), ">= 1", "0")
        config_error("k", lambda f=function: f([1, 2], 2.5), ">= 1")
    config_error("k", lambda: mrr([1], k=0), ">= 1")
    config_error("ks", lambda: ranking_metrics([1], ks=()), "at least one cut-off")
    config_error("ks", lambda: ranking_metrics([1], ks=(5, 5)), "distinct")
    config_error("ks", lambda: ranking_metrics([1], ks=(0, 5)), ">= 1")
    config_error("ks", lambda: ranking_metrics([1], ks="5"), "sequence")


def test_prediction_errors() -> None:
    config_error("predicted", lambda: ranks_from_predictions([1, 2], [1]), "2-D", "shape (2,)")
    config_error("predicted", lambda: ranks_from_predictions([[1.5]], [1]), "integer")
    config_error("predicted", lambda: ranks_from_predictions([[1, -3]], [1]), "-1 for an empty")
    config_error("targets", lambda: ranks_from_predictions([[1, 2]], [1, 2]), "one target per user")
    config_error("targets", lambda: ranks_from_predictions([[1, 2]], [[1]]), "1-D")
    config_error("targets", lambda: ranks_from_predictions([[1, 2]], [-1]), ">= 0")


def test_filter_seen_errors() -> None:
    predicted = np.array([[1, 2], [3, 4]])
    config_error("seen", lambda: filter_seen(predicted), "neither")
    config_error("seen", lambda: filter_seen(predicted, indptr=[0, 1, 1]), "neither")
    config_error(
        "seen", lambda: filter_seen(predicted, [[1], [2]], indptr=[0, 0, 0], indices=[]), "both"
    )
    config_error("seen", lambda: filter_seen(predicted, [[1]]), "one collection per user", "1")
    config_error("seen", lambda: filter_seen(predicted, 5), "sequence")
    config_error("seen", lambda: filter_seen(predicted, sp.csr_matrix((3, 5))), "one row per user")
    config_error("seen[1]", lambda: filter_seen(predicted, [[1], [-4]]), ">= 0", "-4")
    config_error("seen[0]", lambda: filter_seen(predicted, [[1.5], [2]]), "integer")
    config_error("seen[0]", lambda: filter_seen(predicted, ["ab", [2]]), "collection")
    config_error(
        "indptr", lambda: filter_seen(predicted, indptr=[0, 1], indices=[1]), "n_users + 1"
    )
    config_error(
        "indptr", lambda: filter_seen(predicted, indptr=[0, 2, 1], indices=[1]), "non-decreasing"
    )
    config_error(
        "indptr", lambda: filter_seen(predicted, indptr=[0, 1, 3], indices=[1]), "len(indices) = 1"
    )
    config_error("indices", lambda: filter_seen(predicted, indptr=[0, 1, 1], indices=[-1]), ">= 0")
    config_error("predicted", lambda: filter_seen([[1, -2]], [[1]]), "-1 for an empty")
