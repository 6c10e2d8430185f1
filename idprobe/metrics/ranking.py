"""Top-k ranking metrics with one relevant item per user (leave-one-out, P5 / OpenP5 / META ID).

Each user has one held-out target item and a ranked list of predicted items (the beams of the
constrained decoder, best first). Its *rank* is the 1-based position of the target in that list,
``0`` when the target is absent. With ``r`` the rank of a user::

    HR@k   = mean_u [1 <= r_u <= k]
    NDCG@k = mean_u [1 <= r_u <= k] / log2(r_u + 1)      (ideal DCG = 1: one relevant item)
    MRR    = mean_u [r_u >= 1] / r_u                     (MRR@k: only ranks <= k count)

All items are ranked (no sampled negatives), as in the references (REFERENCE.md, "Evaluation
protocol"). Already-seen items are kept by default; ``filter_seen`` gives the "filtered" protocol,
which drops them from the lists first. Metrics are only as deep as the lists: with 10 beams,
``HR@20`` equals ``HR@10``, and after filtering a list can be shorter than ``k`` (decode
``k + len(history)`` beams to keep ``k`` candidates).

Per user, ``NDCG@k`` never exceeds ``HR@k``, both grow with ``k``, and for ``k1 < k2`` a user
counted by ``HR@k2`` but not ``HR@k1`` has rank ``>= k1 + 1`` and so adds at most
``1 / log2(k1 + 2)`` to NDCG. Averaged over users these give the invariants that
``check_ranking_invariants`` enforces::

    HR@k1 <= HR@k2,   NDCG@k1 <= NDCG@k2,   NDCG@k <= HR@k,
    NDCG@k2 - NDCG@k1 <= (HR@k2 - HR@k1) / log2(k1 + 2)     (k1=5, k2=10: log2(7))
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from idprobe.errors import ConfigError, IdprobeError, verbatim
from idprobe.metrics._checks import check_count
from idprobe.metrics._result import MetricResult, _format

__all__ = [
    "RankingResult",
    "check_ranking_invariants",
    "filter_seen",
    "hit_rate",
    "mrr",
    "ndcg",
    "per_user_hits",
    "per_user_ndcg",
    "per_user_reciprocal_rank",
    "ranking_metrics",
    "ranks_from_predictions",
]

# Empty slot of a prediction row: fewer beams than asked, or removed by ``filter_seen``.
EMPTY = -1


# ---------------------------------------------------------------------- argument checks


def _integer_array(parameter: str, value: Any, ndim: int, what: str) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != ndim:
        raise ConfigError(parameter, f"a {ndim}-D {what} array", verbatim(f"shape {array.shape}"))
    if array.size == 0 and not np.issubdtype(array.dtype, np.integer):
        # ``np.asarray([])`` is float64: an empty list is still a valid empty integer array.
        return array.astype(np.int64)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ConfigError(parameter, "an integer array", verbatim(f"dtype {array.dtype}"))
    return array.astype(np.int64, copy=False)


def _check_predicted(predicted: Any) -> np.ndarray:
    array = _integer_array("predicted", predicted, 2, "(users, beams)")
    if array.size and array.min() < EMPTY:
        raise ConfigError(
            "predicted",
            "item indices >= 0, or -1 for an empty slot",
            verbatim(f"{int(array.min())}"),
        )
    return array


def _check_ranks(ranks: Any) -> np.ndarray:
    array = _integer_array("ranks", ranks, 1, "(users,)")
    if array.size == 0:
        raise ConfigError("ranks", "at least one user", verbatim("0 users"))
    if array.min() < 0:
        raise ConfigError(
            "ranks", "1-based ranks, or 0 for a missed target", verbatim(f"{int(array.min())}")
        )
    return array


def _check_k(k: Any) -> int:
    return check_count("k", k, minimum=1)


# ---------------------------------------------------------------------- ranks


def ranks_from_predictions(predicted: Any, targets: Any) -> np.ndarray:
    """1-based rank of each user's target in its prediction row, ``0`` when it is absent.

    Args:
        predicted: ``(n_users, n_beams)`` integer array of dense item indices, best first;
            ``-1`` marks an empty slot. Empty slots do not count as positions: the rank is one
            plus the number of non-empty slots before the target's first occurrence.
        targets: ``(n_users,)`` dense item index of each user's target.

    Returns:
        ``(n_users,)`` int64 ranks.
    """
    array = _check_predicted(predicted)
    target = _integer_array("targets", targets, 1, "(users,)")
    if target.shape[0] != array.shape[0]:
        raise ConfigError(
            "targets",
            f"one target per user ({array.shape[0]}, the rows of predicted)",
            verbatim(f"{target.shape[0]}"),
        )
    if target.size and target.min() < 0:
        raise ConfigError("targets", "item indices >= 0", verbatim(f"{int(target.min())}"))
    ranks = np.zeros(array.shape[0], dtype=np.int64)
    if array.shape[1] == 0:
        return ranks
    match = array == target[:, None]
    found = match.any(axis=1)
    first = match.argmax(axis=1)
    # Non-empty slots up to and including each position (the target's own slot is non-empty).
    filled = np.cumsum(array != EMPTY, axis=1)
    ranks[found] = filled[np.flatnonzero(found), first[found]]
    return ranks


def _seen_csr(seen: Any, indptr: Any, indices: Any, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, indices)`` of the seen items, from whichever form was given."""
    if seen is not None and (indptr is not None or indices is not None):
        raise ConfigError(
            "seen", "either seen or (indptr, indices), not both", verbatim("both given")
        )
    if seen is None:
        if indptr is None or indices is None:
            raise ConfigError(
                "seen", "per-user seen items, or both indptr and indices", verbatim("neither")
            )
        return _check_csr(indptr, indices, n_users)
    if hasattr(seen, "tocsr"):  # a scipy.sparse matrix or array, users x items
        matrix = seen.tocsr(copy=True)  # eliminate_zeros below must not touch the caller's
        if matrix.shape[0] != n_users:
            raise ConfigError(
                "seen",
                f"one row per user ({n_users}, the rows of predicted)",
                verbatim(f"{matrix.shape[0]} rows"),
            )
        matrix.eliminate_zeros()
        return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)
    if isinstance(seen, str | bytes) or not isinstance(seen, Sequence | np.ndarray):
        raise ConfigError(
            "seen", "a sequence of per-user item collections", verbatim(type(seen).__name__)
        )
    if len(seen) != n_users:
        raise ConfigError(
            "seen",
            f"one collection per user ({n_users}, the rows of predicted)",
            verbatim(f"{len(seen)}"),
        )
    rows = [_seen_row(user, items) for user, items in enumerate(seen)]
    lengths = np.fromiter((row.size for row in rows), dtype=np.int64, count=n_users)
    pointer = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(lengths, out=pointer[1:])
    flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    return pointer, flat


def _seen_row(user: int, items: Any) -> np.ndarray:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ConfigError(f"seen[{user}]", "a collection of item indices", items)
    row = np.asarray(items if isinstance(items, np.ndarray) else list(items)).ravel()
    if row.size == 0:
        return np.zeros(0, dtype=np.int64)
    if row.dtype == np.bool_ or not np.issubdtype(row.dtype, np.integer):
        raise ConfigError(f"seen[{user}]", "integer item indices", verbatim(f"dtype {row.dtype}"))
    row = row.astype(np.int64, copy=False)
    if row.min() < 0:
        raise ConfigError(f"seen[{user}]", "item indices >= 0", verbatim(f"{int(row.min())}"))
    return row


def _check_csr(indptr: Any, indices: Any, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    pointer = _integer_array("indptr", indptr, 1, "(users + 1,)")
    flat = _integer_array("indices", indices, 1, "(seen pairs,)")
    if pointer.shape[0] != n_users + 1:
        raise ConfigError(
            "indptr",
            f"n_users + 1 = {n_users + 1} offsets (rows of predicted + 1)",
            verbatim(f"{pointer.shape[0]}"),
        )
    if pointer[0] != 0 or pointer[-1] != flat.shape[0] or (np.diff(pointer) < 0).any():
        raise ConfigError(
            "indptr",
            f"non-decreasing offsets from 0 to len(indices) = {flat.shape[0]}",
            verbatim(f"{int(pointer[0])} .. {int(pointer[-1])}"),
        )
    if flat.size and flat.min() < 0:
        raise ConfigError("indices", "item indices >= 0", verbatim(f"{int(flat.min())}"))
    return pointer, flat


def filter_seen(
    predicted: Any,
    seen: Any = None,
    *,
    indptr: Any = None,
    indices: Any = None,
) -> np.ndarray:
    """Drop from each prediction row the items its user has already seen ("filtered" protocol).

    The kept items stay in order and move left; the freed slots at the end become ``-1``. Give
    the seen items either as ``seen`` (one collection of item indices per user, or a
    ``scipy.sparse`` users x items matrix whose non-zeros are the seen pairs) or as the CSR
    arrays ``indptr`` (``n_users + 1`` offsets) and ``indices`` (item indices).

    What counts as seen is the caller's choice (usually the test history). A target the user
    has seen before (a repeat interaction) is removed like any other seen item, so it can no
    longer be hit: report how many targets are in their user's history.

    Returns:
        A new ``(n_users, n_beams)`` int64 array.
    """
    array = _check_predicted(predicted)
    n_users, n_beams = array.shape
    pointer, flat = _seen_csr(seen, indptr, indices, n_users)
    # One integer key per (user, item) pair; membership by a sorted search, no Python loop.
    width = int(max(array.max(initial=0), flat.max(initial=0))) + 1
    seen_users = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(pointer))
    seen_keys = np.unique(seen_users * width + flat)
    keys = np.arange(n_users, dtype=np.int64)[:, None] * width + array
    if seen_keys.size:
        position = np.minimum(np.searchsorted(seen_keys, keys), seen_keys.size - 1)
        is_seen = seen_keys[position] == keys
    else:
        is_seen = np.zeros(keys.shape, dtype=bool)
    keep = (array != EMPTY) & ~is_seen
    out = np.full((n_users, n_beams), EMPTY, dtype=np.int64)
    column = np.cumsum(keep, axis=1) - 1
    user, _ = np.nonzero(keep)
    out[user, column[keep]] = array[keep]
    return out


# ---------------------------------------------------------------------- per-user values


def per_user_hits(ranks: Any, k: int) -> np.ndarray:
    """``1.0`` where ``1 <= rank <= k``, else ``0.0`` (float64, one value per user)."""
    array = _check_ranks(ranks)
    k = _check_k(k)
    return ((array >= 1) & (array <= k)).astype(np.float64)


def per_user_ndcg(ranks: Any, k: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` where ``1 <= rank <= k``, else ``0.0`` (ideal DCG = 1)."""
    array = _check_ranks(ranks)
    k = _check_k(k)
    hit = (array >= 1) & (array <= k)
    out = np.zeros(array.shape[0], dtype=np.float64)
    out[hit] = 1.0 / np.log2(array[hit] + 1.0)
    return out


def per_user_reciprocal_rank(ranks: Any, k: int | None = None) -> np.ndarray:
    """``1 / rank`` where ``rank >= 1`` (and ``rank <= k`` when ``k`` is given), else ``0.0``."""
    array = _check_ranks(ranks)
    hit = array >= 1
    if k is not None:
        hit &= array <= _check_k(k)
    out = np.zeros(array.shape[0], dtype=np.float64)
    out[hit] = 1.0 / array[hit]
    return out


def hit_rate(ranks: Any, k: int) -> float:
    """HR@k: the share of users whose target is among their top ``k`` predictions."""
    return float(per_user_hits(ranks, k).mean())


def ndcg(ranks: Any, k: int) -> float:
    """NDCG@k with one relevant item: the mean of ``1 / log2(rank + 1)`` over hits within ``k``."""
    return float(per_user_ndcg(ranks, k).mean())


def mrr(ranks: Any, k: int | None = None) -> float:
    """Mean reciprocal rank (MRR@k when ``k`` is given; misses count 0)."""
    return float(per_user_reciprocal_rank(ranks, k).mean())


# ---------------------------------------------------------------------- result and invariants


@dataclass(frozen=True)
class RankingResult(MetricResult):
    """HR@k and NDCG@k for each ``k``, and MRR (over the whole lists), over ``n_users`` users.

    Attributes:
        values: ``{"hr@5": ..., "ndcg@5": ..., "hr@10": ..., "ndcg@10": ..., "mrr": ...}``
            (per ``k`` in ascending order, MRR last); fractions in [0, 1].
        n_users: users averaged.
        ks: the cut-offs, ascending.
        filtered: whether already-seen items were removed before ranking (as declared by
            the caller).
        n_beams: length of the prediction lists, when declared.
    """

    values: dict[str, float]
    n_users: int
    ks: tuple[int, ...]
    filtered: bool
    n_beams: int | None = None

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def _flat(self) -> dict[str, Any]:
        return {**self.values, "n_users": self.n_users, "filtered": self.filtered}

    def to_frame(self) -> Any:
        """One-row pandas DataFrame: one column per metric, then ``n_users`` and ``filtered``."""
        import pandas as pd

        return pd.DataFrame([self._flat()])

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(_format(v))}</td></tr>"
            for k, v in self._flat().items()
        )
        return f"<table><caption>{type(self).__name__}</caption>{rows}</table>"


_KEY = re.compile(r"^(hr|ndcg)@([1-9][0-9]*)$")


def check_ranking_invariants(values: Mapping[str, float], tolerance: float = 1e-9) -> None:
    """Raise ``IdprobeError`` naming the first invariant (module docstring) that ``values`` break.

    ``values`` maps ``"hr@k"`` / ``"ndcg@k"`` (any ``k``) and optionally ``"mrr"`` to fractions
    (not percentages); other keys are ignored. Checked: every value lies in [0, 1]; for each
    ``k`` with both, ``NDCG@k <= HR@k``; for every pair ``k1 < k2``, HR and NDCG do not decrease
    and ``NDCG@k2 - NDCG@k1 <= (HR@k2 - HR@k1) / log2(k1 + 2)``. ``tolerance`` absorbs rounding
    of the means.
    """
    hr: dict[int, float] = {}
    nd: dict[int, float] = {}
    for key, value in values.items():
        match = _KEY.match(key)
        if match is None and key != "mrr":
            continue
        number = float(value)
        if not (-tolerance <= number <= 1.0 + tolerance):
            raise IdprobeError(
                f"ranking invariant violated: 0 <= {key} <= 1 ({key} = {number:.6g})"
            )
        if match is not None:
            (hr if match.group(1) == "hr" else nd)[int(match.group(2))] = number

    def fail(inequality: str, detail: str) -> None:
        raise IdprobeError(f"ranking invariant violated: {inequality} ({detail})")

    for k in sorted(hr.keys() & nd.keys()):
        if nd[k] > hr[k] + tolerance:
            fail(f"NDCG@{k} <= HR@{k}", f"{nd[k]:.6g} > {hr[k]:.6g}")
    for table, name in ((hr, "HR"), (nd, "NDCG")):
        for k1, k2 in itertools.combinations(sorted(table), 2):
            if table[k1] > table[k2] + tolerance:
                fail(f"{name}@{k2} >= {name}@{k1}", f"{table[k2]:.6g} < {table[k1]:.6g}")
    for k1, k2 in itertools.combinations(sorted(hr.keys() & nd.keys()), 2):
        bound = (hr[k2] - hr[k1]) / math.log2(k1 + 2)
        if nd[k2] - nd[k1] > bound + tolerance:
            fail(
                f"NDCG@{k2} - NDCG@{k1} <= (HR@{k2} - HR@{k1}) / log2({k1 + 2})",
                f"{nd[k2] - nd[k1]:.6g} > {bound:.6g}",
            )


def _check_ks(ks: Any) -> tuple[int, ...]:
    if isinstance(ks, str) or not isinstance(ks, Iterable):
        raise ConfigError("ks", "a sequence of cut-offs k >= 1", ks)
    values = list(ks)
    if not values:
        raise ConfigError("ks", "at least one cut-off", verbatim("none"))
    checked = [check_count("ks", k, minimum=1) for k in values]
    if len(set(checked)) != len(checked):
        raise ConfigError("ks", "distinct cut-offs", tuple(checked))
    return tuple(sorted(checked))


def ranking_metrics(
    ranks: Any,
    ks: Sequence[int] = (5, 10),
    filtered: bool = False,
    n_beams: int | None = None,
) -> RankingResult:
    """HR@k and NDCG@k for each ``k`` in ``ks``, and MRR, checked against the invariants.

    Args:
        ranks: ``(n_users,)`` 1-based ranks of the targets, ``0`` when missed (see
            ``ranks_from_predictions``).
        ks: cut-offs, distinct, ``>= 1``.
        filtered: recorded in the result: whether seen items were filtered (``filter_seen``).
        n_beams: the prediction-list length, when known: then every ``k`` and rank must be
            ``<= n_beams`` (a ``k`` beyond the list would silently equal HR@n_beams).
    """
    array = _check_ranks(ranks)
    ks = _check_ks(ks)
    if n_beams is not None:
        n_beams = check_count("n_beams", n_beams, minimum=1)
        if ks[-1] > n_beams:
            raise ConfigError("ks", f"cut-offs <= n_beams = {n_beams}", ks)
        if array.max() > n_beams:
            raise ConfigError("ranks", f"ranks <= n_beams = {n_beams}", int(array.max()))
    values: dict[str, float] = {}
    for k in ks:
        values[f"hr@{k}"] = hit_rate(array, k)
        values[f"ndcg@{k}"] = ndcg(array, k)
    values["mrr"] = mrr(array)
    check_ranking_invariants(values)
    return RankingResult(
        values=values,
        n_users=int(array.shape[0]),
        ks=ks,
        filtered=bool(filtered),
        n_beams=n_beams,
    )
