"""CID: collaborative IDs from recursive spectral clustering of item co-occurrence (Hua et al.)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from idprobe.data import TrainingView
from idprobe.ids.base import IdAssignment, IdStrategy, check_int, register
from idprobe.ids.cooccurrence import cooccurrence
from idprobe.ids.spectral_tree import spectral_tree

__all__ = ["CollaborativeIds", "fixed_length_digits"]


def fixed_length_digits(count: int, base: int) -> list[tuple[int, ...]]:
    """``count`` distinct digit tuples of one common length in ``base`` (so none is a prefix of another)."""
    length = 1
    while base**length < count:
        length += 1
    positions = np.arange(count)
    digits = [(positions // base ** (length - 1 - k)) % base for k in range(length)]
    return [tuple(row) for row in np.stack(digits, axis=1).tolist()]


@register
@dataclass(frozen=True)
class CollaborativeIds(IdStrategy):
    """CID: items clustered recursively on their co-occurrence graph; ID = path of ``<CI{k}>`` tokens.

    Co-occurrence counts, for every item pair, the users whose training part holds both (a
    scipy.sparse matrix, never dense N x N). Spectral clustering splits the items into
    ``n_clusters`` groups, any group larger than ``max_group_size`` is split again, and an item's
    ID is the group index at each level followed by its position in its final group, each
    written ``<CI{k}>``. Tokens are shared across levels, so there are about ``max_group_size``
    new tokens (REFERENCE.md: 437 with size 500 on Beauty); IDs have 2–4 tokens on Beauty.
    No ID is a prefix of another.
    """

    name: ClassVar[str] = "cid"
    places_unseen: ClassVar[bool] = False
    cold_rule: ClassVar[str] = (
        "items with no co-occurrence in training (cold items, and items only in one-item "
        "training parts) form one extra top-level group whose first token starts no other ID; "
        "inside it they are numbered in catalog order with digits of one common length, so no "
        "ID is a prefix of another"
    )

    n_clusters: int = 20
    max_group_size: int = 500

    def __post_init__(self) -> None:
        check_int(self.name, "n_clusters", self.n_clusters, minimum=2)
        check_int(self.name, "max_group_size", self.max_group_size, minimum=2)

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        affinity = cooccurrence(view)
        connected = np.diff(affinity.indptr) > 0
        warm = np.flatnonzero(connected)
        isolated = np.flatnonzero(~connected)
        paths: list[tuple[int, ...]] = [()] * view.n_items
        next_first = 0
        if warm.size:
            sub = affinity[warm][:, warm]
            for item, path in zip(
                warm.tolist(),
                spectral_tree(
                    sub, n_clusters=self.n_clusters, max_group_size=self.max_group_size, seed=seed
                ),
                strict=True,
            ):
                paths[item] = path
            next_first = max(paths[i][0] for i in warm.tolist()) + 1
        for item, digits in zip(
            isolated.tolist(), fixed_length_digits(isolated.size, self.max_group_size), strict=True
        ):
            paths[item] = (next_first, *digits)
        items = {
            raw: tuple(f"<CI{k}>" for k in path)
            for raw, path in zip(view.items, paths, strict=True)
        }
        used = sorted({k for path in paths for k in path})
        return self._assignment(
            view,
            seed,
            items,
            None,
            [f"<CI{k}>" for k in used],
            cold_items=view.items[view.item_counts == 0].tolist(),
            isolated_items=int(isolated.size),
            cooccurrence_nonzeros=int(affinity.nnz),
        )
