"""Full-ranking evaluation of score-based recommenders: every item scored, the target's rank counted.

Classic sequential models (Pop, SASRec, GRU4Rec, Caser, BERT4Rec; ``baselines/``) give each user
a score for every item. The target's 1-based rank among all ``n`` items is::

    rank_u = 1 + #{j : s_uj > s_ut} + #{j < t : s_uj = s_ut}

that is, its position in a stable sort by descending score: tied items come in item-index order,
a fixed rule that needs no random numbers (it matters for Pop, whose scores are counts). With the
ranks, HR@k, NDCG@k and MRR are exactly those of the generative evaluation
(:mod:`idprobe.metrics.ranking`, REFERENCE.md "Evaluation protocol"), so both families fill one
table.

* ``exclude`` (the "filtered" protocol): excluded items are neither counted ahead of the target
  nor returned; an excluded target is a miss (rank 0), as ``filter_seen`` treats beam lists.
* ``depth``: ranks beyond ``depth`` become 0, as if the model returned a list of ``depth`` items;
  with ``depth`` = the beams of a generative run, MRR means MRR@depth in both families.

The scores are computed block by block: ``user_chunk`` users times ``item_chunk`` items at a
time, so memory stays bounded for any catalogue. Each block is produced by the same call every
time it is needed, so the target's score is compared with bit-identical values (when items come
in several chunks, a first pass reads the targets' scores from the same blocks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from idprobe.errors import ConfigError, verbatim
from idprobe.evaluation.generative import TaskMetrics
from idprobe.metrics import (
    bootstrap_ci,
    per_user_hits,
    per_user_ndcg,
    per_user_reciprocal_rank,
    ranking_metrics,
)

__all__ = ["FullRanking", "Scorer", "dot_product_scorer", "evaluate_scores", "full_ranking"]

# ``scorer(rows, items)``: scores of the users at positions ``rows`` (a slice of the evaluated
# users) for the items ``items`` (a slice of the catalogue), shape (len(rows), len(items)).
Scorer = Callable[[slice, slice], np.ndarray]


@dataclass(frozen=True)
class FullRanking:
    """Ranks of the targets (1-based, 0 = miss) and each user's ``top_k`` items, best first.

    ``top_items`` holds dense item indices (-1 when fewer than ``top_k`` items remain after
    exclusion) and ``top_scores`` their scores.
    """

    ranks: np.ndarray
    top_items: np.ndarray
    top_scores: np.ndarray


def dot_product_scorer(
    queries: np.ndarray, item_vectors: np.ndarray, item_bias: np.ndarray | None = None
) -> Scorer:
    """``score(u, i) = queries[u] . item_vectors[i] (+ item_bias[i])``: the output layer of
    every baseline (a user's final hidden state against the item embedding table)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    item_vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)
    if queries.ndim != 2 or item_vectors.ndim != 2 or queries.shape[1] != item_vectors.shape[1]:
        raise ConfigError(
            "item_vectors",
            f"a 2-D array with {queries.shape[-1]} columns (the width of queries)",
            verbatim(f"shape {item_vectors.shape}"),
        )
    bias = None if item_bias is None else np.asarray(item_bias, dtype=np.float32)
    if bias is not None and bias.shape != (item_vectors.shape[0],):
        raise ConfigError(
            "item_bias", f"shape ({item_vectors.shape[0]},)", verbatim(f"shape {bias.shape}")
        )

    def score(rows: slice, items: slice) -> np.ndarray:
        block = queries[rows] @ item_vectors[items].T
        if bias is not None:
            block += bias[items]
        return block

    return score


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _excluded_block(
    exclude: tuple[np.ndarray, np.ndarray] | None, rows: slice, items: slice
) -> np.ndarray | None:
    """Dense mask of the excluded (user, item) pairs inside one block, or None."""
    if exclude is None:
        return None
    indptr, indices = exclude
    starts, ends = indptr[rows.start : rows.stop], indptr[rows.start + 1 : rows.stop + 1]
    row_of = np.repeat(np.arange(rows.stop - rows.start), ends - starts)
    columns = indices[indptr[rows.start] : indptr[rows.stop]]
    inside = (columns >= items.start) & (columns < items.stop)
    mask = np.zeros((rows.stop - rows.start, items.stop - items.start), dtype=bool)
    mask[row_of[inside], columns[inside] - items.start] = True
    return mask


def _check_exclude(
    exclude: tuple[np.ndarray, np.ndarray], n_users: int, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    indptr = np.asarray(exclude[0], dtype=np.int64)
    indices = np.asarray(exclude[1], dtype=np.int64)
    if indptr.shape != (n_users + 1,):
        raise ConfigError(
            "exclude", f"a CSR with {n_users + 1} offsets", verbatim(f"{indptr.shape}")
        )
    if indptr[0] != 0 or indptr[-1] != indices.size or (np.diff(indptr) < 0).any():
        raise ConfigError(
            "exclude",
            f"non-decreasing offsets from 0 to {indices.size} (the number of indices)",
            verbatim(f"offsets {indptr[0]} .. {indptr[-1]}"),
        )
    if indices.size and (indices.min() < 0 or indices.max() >= n_items):
        raise ConfigError(
            "exclude",
            f"item indices in [0, {n_items})",
            verbatim(f"{indices.min()} .. {indices.max()}"),
        )
    return indptr, indices


def _check_block(block: Any, rows: slice, items: slice) -> np.ndarray:
    block = np.asarray(block)
    expected = (rows.stop - rows.start, items.stop - items.start)
    if block.shape != expected:
        raise ConfigError("scorer", f"a block of shape {expected}", verbatim(f"{block.shape}"))
    if not np.isfinite(block).all():
        # Leaving items out is what ``exclude`` is for; an infinite or NaN score is a bug or a
        # diverged model, and would make the rank and the top list disagree.
        raise ConfigError("scorer", "finite scores", verbatim("NaN or inf (a diverged model?)"))
    return block


def _merge_top(scores: np.ndarray, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best candidates of each row, candidates given in ascending item order (-inf
    scores are never chosen). Ties at the k-th score go to the lowest item indices. Returns
    (items, scores) of shape (rows, k) in ascending item order, -1 / -inf where fewer remain."""
    n_rows, width = scores.shape
    out_items = np.full((n_rows, k), -1, dtype=np.int64)
    out_scores = np.full((n_rows, k), -np.inf, dtype=np.float64)
    if width == 0:
        return out_items, out_scores
    finite = scores > -np.inf
    if width > k:
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]  # k-th largest per row
        above = scores > kth
        ties = (scores == kth) & finite
        room = k - above.sum(axis=1, keepdims=True)
        chosen = above | (ties & (np.cumsum(ties, axis=1) <= room))
    else:
        chosen = finite
    counts = chosen.sum(axis=1)
    row, column = np.nonzero(chosen)  # row-major: ascending item order within each row
    slot = np.arange(row.size) - np.repeat(np.cumsum(counts) - counts, counts)
    out_items[row, slot] = items[row, column] if items.ndim == 2 else items[column]
    out_scores[row, slot] = scores[row, column]
    return out_items, out_scores


def full_ranking(
    scorer: Scorer,
    targets: np.ndarray,
    n_items: int,
    *,
    exclude: tuple[np.ndarray, np.ndarray] | None = None,
    top_k: int = 0,
    user_chunk: int = 1024,
    item_chunk: int = 16_384,
) -> FullRanking:
    """Rank every item for each user and return the targets' ranks (module docstring).

    Args:
        scorer: ``scorer(rows, items) -> (len(rows), len(items))`` scores (``dot_product_scorer``).
        targets: ``(n_users,)`` dense index of each user's held-out item.
        n_items: the catalogue size; every item ``0 .. n_items - 1`` is ranked.
        exclude: ``(indptr, indices)`` CSR of the items to leave out per user (filtered protocol).
        top_k: also keep each user's ``top_k`` best items (for the saved predictions).
        user_chunk, item_chunk: block size; memory is O(user_chunk * item_chunk).
    """
    for name, value in (
        ("n_items", n_items),
        ("user_chunk", user_chunk),
        ("item_chunk", item_chunk),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ConfigError(name, "an integer >= 1", value)
    n_items, user_chunk, item_chunk = int(n_items), int(user_chunk), int(item_chunk)
    if not isinstance(top_k, int | np.integer) or isinstance(top_k, bool) or top_k < 0:
        raise ConfigError("top_k", "an integer >= 0", top_k)
    top_k = int(top_k)
    targets = np.asarray(targets)
    if targets.ndim != 1 or (targets.size and not np.issubdtype(targets.dtype, np.integer)):
        raise ConfigError(
            "targets", "a 1-D integer array", verbatim(f"{targets.dtype} {targets.shape}")
        )
    targets = targets.astype(np.int64)
    if targets.size and (targets.min() < 0 or targets.max() >= n_items):
        raise ConfigError("targets", f"item indices in [0, {n_items})", targets)
    if exclude is not None:
        exclude = _check_exclude(exclude, targets.size, n_items)
    n_users = targets.size
    item_blocks = _chunks(n_items, item_chunk)
    ranks = np.zeros(n_users, dtype=np.int64)
    top_items = np.full((n_users, top_k), -1, dtype=np.int64)
    top_scores = np.full((n_users, top_k), -np.inf, dtype=np.float64)
    for rows in _chunks(n_users, user_chunk):
        target = targets[rows]
        local = np.arange(rows.stop - rows.start)
        target_score = np.empty(local.size, dtype=np.float64)
        target_excluded = np.zeros(local.size, dtype=bool)
        if len(item_blocks) > 1:  # first pass: the targets' scores, from the very same blocks
            for items in item_blocks:
                hit = (target >= items.start) & (target < items.stop)
                if hit.any():
                    block = _check_block(scorer(rows, items), rows, items)
                    target_score[hit] = block[local[hit], target[hit] - items.start]
        ahead = np.zeros(local.size, dtype=np.int64)
        best_items = np.full((local.size, 0), -1, dtype=np.int64)
        best_scores = np.full((local.size, 0), -np.inf)
        for items in item_blocks:
            block = _check_block(scorer(rows, items), rows, items).astype(np.float64, copy=False)
            hit = (target >= items.start) & (target < items.stop)
            if len(item_blocks) == 1:
                target_score[:] = block[local, target]
            masked = _excluded_block(exclude, rows, items)
            if masked is not None:
                target_excluded[hit] = masked[local[hit], target[hit] - items.start]
            column = np.arange(items.start, items.stop)
            greater = block > target_score[:, None]
            tied_before = (block == target_score[:, None]) & (column[None, :] < target[:, None])
            counted = greater | tied_before
            if masked is not None:
                counted &= ~masked
            ahead += counted.sum(axis=1)
            if top_k:
                shown = block if masked is None else np.where(masked, -np.inf, block)
                block_items, block_scores = _merge_top(shown, column, top_k)
                best_items, best_scores = _merge_top(
                    np.concatenate([best_scores, block_scores], axis=1),
                    np.concatenate([best_items, block_items], axis=1),
                    top_k,
                )
        ranks[rows] = np.where(target_excluded, 0, ahead + 1)
        if top_k:
            # Best first; ties keep ascending item order (the ranking's tie rule).
            order = np.argsort(-best_scores, axis=1, kind="stable")
            top_items[rows] = np.take_along_axis(best_items, order, axis=1)
            top_scores[rows] = np.take_along_axis(best_scores, order, axis=1)
    return FullRanking(ranks, top_items, top_scores)


def evaluate_scores(
    scorer: Scorer,
    users: np.ndarray,
    targets: np.ndarray,
    n_items: int,
    *,
    split: str,
    task: str = "sequential",
    ks: Sequence[int] = (5, 10),
    exclude: tuple[np.ndarray, np.ndarray] | None = None,
    depth: int | None = None,
    top_k: int = 20,
    seed: int = 0,
    details: dict[str, Any] | None = None,
    user_chunk: int = 1024,
    item_chunk: int = 16_384,
) -> tuple[TaskMetrics, dict[str, np.ndarray]]:
    """HR@k, NDCG@k and MRR (with 95% bootstrap intervals) of a score-based model.

    Returns the :class:`~idprobe.evaluation.generative.TaskMetrics` of ``task`` on ``split``
    (the same entry a generative run writes to ``metrics.json``) and the per-user arrays of
    ``RUN/predictions/<split>-<task>.npz``: ``users``, ``targets``, ``items`` / ``scores``
    (top ``top_k``) and ``ranks`` (after ``depth``), so ``compare_runs`` pairs either family.
    """
    largest = max(ks, default=1)
    if depth is not None and (
        not isinstance(depth, int | np.integer) or isinstance(depth, bool) or depth < largest
    ):
        raise ConfigError("depth", f"None or an integer >= the largest k ({largest})", depth)
    depth = None if depth is None else int(depth)
    if len(users) != len(targets):
        raise ConfigError(
            "users", f"one user per target ({len(targets)})", verbatim(f"{len(users)}")
        )
    began = time.perf_counter()
    ranking = full_ranking(
        scorer,
        targets,
        n_items,
        exclude=exclude,
        top_k=top_k,
        user_chunk=user_chunk,
        item_chunk=item_chunk,
    )
    seconds = time.perf_counter() - began
    ranks = ranking.ranks
    if depth is not None:
        ranks = np.where(ranks > depth, 0, ranks)
    result = ranking_metrics(ranks, ks=ks, filtered=exclude is not None, n_beams=depth)
    intervals = {}
    if ranks.size >= 2:  # a bootstrap of one user says nothing
        for k in ks:
            intervals[f"hr@{k}"] = bootstrap_ci(per_user_hits(ranks, k), seed=seed)
            intervals[f"ndcg@{k}"] = bootstrap_ci(per_user_ndcg(ranks, k), seed=seed)
        intervals["mrr"] = bootstrap_ci(per_user_reciprocal_rank(ranks), seed=seed)
    metrics = TaskMetrics(
        task,
        split,
        "full-ranking",
        int(ranks.size),
        dict(result.values),
        intervals,
        {
            "ranking": "full",
            "items_ranked": n_items,
            "depth": depth,
            "filtered": exclude is not None,
            "ties": "item index",
            **(details or {}),
        },
        seconds,
    )
    arrays = {
        "users": np.asarray(users, dtype=np.int64),
        "targets": np.asarray(targets, dtype=np.int64),
        "items": ranking.top_items,
        "scores": ranking.top_scores,
        "ranks": ranks,
    }
    return metrics, arrays
