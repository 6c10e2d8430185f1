"""Attach ratings, timestamps and review text from one dataset onto the interactions of another.

The P5 Beauty split has order only; ratings live in the Amazon review dump. Both name users and
items by raw ids (once the P5 datamaps restored them), so the review columns can be joined onto
the P5 sequences by (raw user id, raw item id).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from idprobe.data.interactions import Interactions
from idprobe.errors import ConfigError, DatasetError, choices

__all__ = ["attach_reviews"]

MISSING_POLICIES = ("error", "drop")


def attach_reviews(
    base: Interactions, reviews: Interactions, *, missing: Literal["error", "drop"] = "error"
) -> Interactions:
    """``base`` with the ratings, timestamps and texts of ``reviews`` for the same (user, item) pairs.

    The order of ``base`` is kept, re-sorted by the attached timestamps only where they disagree
    with it (ties keep ``base`` order). Columns that ``reviews`` lacks stay as they are in ``base``.

    Args:
        missing: what to do with a ``base`` interaction that has no review: ``"error"`` (the
            default; the message counts them and shows one) or ``"drop"`` it.
    """
    if missing not in MISSING_POLICIES:
        raise ConfigError("missing", choices(MISSING_POLICIES), missing)
    lookup = {
        (user, item): k
        for k, (user, item) in enumerate(
            zip(
                reviews.users[reviews.user_of_interaction].tolist(),
                reviews.items[reviews.item_index].tolist(),
                strict=True,
            )
        )
    }
    base_users = base.users[base.user_of_interaction]
    base_items = base.items[base.item_index]
    match = np.fromiter(
        (
            lookup.get(pair, -1)
            for pair in zip(base_users.tolist(), base_items.tolist(), strict=True)
        ),
        dtype=np.int64,
        count=base.n_interactions,
    )
    absent = match < 0
    if absent.any() and missing == "error":
        first = int(np.flatnonzero(absent)[0])
        raise DatasetError(
            f"{reviews.source or reviews.name}: no review for {int(absent.sum()):,} of {base.n_interactions:,} "
            f"interactions of {base.name} (e.g. user {base_users[first]!r}, item {base_items[first]!r}); "
            "pass missing='drop' to drop them"
        )
    keep = ~absent
    matched = match[keep]

    def column(name: str) -> np.ndarray | None:
        theirs = getattr(reviews, name)
        if theirs is not None:
            return theirs[matched]
        ours = getattr(base, name)
        return None if ours is None else ours[keep]

    return Interactions.from_events(
        base_users[keep],
        base_items[keep],
        ratings=column("ratings"),
        timestamps=column("timestamps"),
        review_texts=column("review_texts"),
        review_summaries=column("review_summaries"),
        rating_scale=reviews.rating_scale if reviews.ratings is not None else base.rating_scale,
        duplicates="error",  # base has unique pairs, and so has the result
        name=base.name,
        source=f"{base.source} + reviews from {reviews.source}",
        item_info={
            k: dict(zip(base.items.tolist(), v.tolist(), strict=True))
            for k, v in base.item_info.items()
        },
        user_info={
            k: dict(zip(base.users.tolist(), v.tolist(), strict=True))
            for k, v in base.user_info.items()
        },
    )
