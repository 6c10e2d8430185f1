"""SID: sequential numeric item IDs in order of first appearance over the training parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from idprobe.data import TrainingView
from idprobe.ids.base import IdAssignment, IdStrategy, check_choice, check_int, register

__all__ = ["USER_ORDERS", "SequentialIds", "first_appearance_order"]

#: How users are ordered before their training parts are scanned.
USER_ORDERS = ("file", "short_first", "long_first")


def first_appearance_order(view: TrainingView, user_order: str = "file") -> np.ndarray:
    """Dense item indices in order of first appearance over users' training parts.

    Users are scanned in ``user_order``: ``file`` (the order of the source file), ``short_first``
    or ``long_first`` (by training length, ties in file order). Items that appear in no training
    part (cold: they occur only as validation/test targets) follow in catalog order.
    """
    lengths = view.lengths
    if user_order == "file":
        users = np.arange(view.n_users)
    elif user_order == "short_first":
        users = np.argsort(lengths, kind="stable")
    else:
        users = np.argsort(-lengths, kind="stable")
    # Concatenate the chosen users' training parts without a Python loop over users.
    starts = view.offsets[users]
    counts = lengths[users]
    positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    scanned = view.item_index[positions]
    _, first = np.unique(scanned, return_index=True)
    seen_order = scanned[np.sort(first)]
    cold = np.flatnonzero(view.item_counts == 0)
    return np.concatenate((seen_order, cold)).astype(np.int64)


@register
@dataclass(frozen=True)
class SequentialIds(IdStrategy):
    """SID: items numbered from ``start`` by first appearance over the users' training parts.

    Leak-free, unlike the P5 numbering, which scanned the *full* sequences so that a held-out
    target was often ``max(history) + 1`` (REFERENCE.md, pitfall 1). The number is plain text, as
    in RID. Users are not indexed.
    """

    name: ClassVar[str] = "sid"
    places_unseen: ClassVar[bool] = False
    cold_rule: ClassVar[str] = (
        "items in no training part are numbered after all the others, in catalog order"
    )

    start: int = 1001
    user_order: str = "file"

    def __post_init__(self) -> None:
        check_int(self.name, "start", self.start, minimum=0)
        check_choice(self.name, "user_order", self.user_order, USER_ORDERS)

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        order = first_appearance_order(view, self.user_order)
        number = np.empty(view.n_items, dtype=np.int64)
        number[order] = self.start + np.arange(view.n_items)
        items = {raw: (str(n),) for raw, n in zip(view.items, number.tolist(), strict=True)}
        cold = view.items[view.item_counts == 0]
        return self._assignment(view, seed, items, None, (), cold_items=cold.tolist())
