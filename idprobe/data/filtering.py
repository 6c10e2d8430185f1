"""Iterative k-core filtering."""

from __future__ import annotations

import numpy as np

from idprobe.data.interactions import Interactions
from idprobe.errors import ConfigError, DatasetError

__all__ = ["k_core"]


def k_core(interactions: Interactions, k: int, *, item_k: int | None = None) -> Interactions:
    """Keep the largest subset in which every user has >= ``k`` and every item >= ``item_k`` interactions.

    Removing a sparse item can push a user under the threshold and vice versa, so the filter
    repeats until nothing changes (the "5-core" of the Amazon datasets is this with k = 5).

    Args:
        k: minimum interactions per user (and per item when ``item_k`` is not given).
        item_k: minimum interactions per item; defaults to ``k``.
    """
    item_k = k if item_k is None else item_k
    for name, value in (("k_core", k), ("item_k", item_k)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(name, "an integer >= 1", value)
    users = interactions.user_of_interaction
    items = interactions.item_index
    keep = np.ones(interactions.n_interactions, dtype=bool)
    while True:
        user_counts = np.bincount(users[keep], minlength=interactions.n_users)
        item_counts = np.bincount(items[keep], minlength=interactions.n_items)
        still = keep & (user_counts[users] >= k) & (item_counts[items] >= item_k)
        if still.sum() == keep.sum():
            break
        keep = still
    if not keep.any():
        raise DatasetError(
            f"k_core: k={k} (items {item_k}) leaves no interaction of {interactions.name!r} "
            f"({interactions.n_users:,} users, {interactions.n_items:,} items, longest sequence "
            f"{int(interactions.lengths.max())}); use a smaller k"
        )
    if keep.all():
        return interactions
    return interactions.select(keep, name=interactions.name)
