"""IID: one new token per entity (the paper's Table 7 baseline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from idprobe.data import TrainingView
from idprobe.ids.base import IdAssignment, IdStrategy, check_choice, register
from idprobe.ids.meta import MetaPathParams

__all__ = ["IndependentIds"]


@register
@dataclass(frozen=True)
class IndependentIds(MetaPathParams, IdStrategy):
    """IID: every item gets its own new token ``<I{k}>`` (and every user ``<U{k}>`` with ``index="both"``).

    ``k`` is the dense index (catalog order for items, file order for users), so IDs carry no
    information about interactions and share no tokens: the model must learn one embedding per
    entity (12,101 new tokens on Beauty). With ``init="metapath"`` every token that has one
    carries its entity's META ID skip-gram vector as initial vector, as in the paper's Table 7
    (the walk and skip-gram parameters then apply; they are unused with ``init="none"``).
    """

    name: ClassVar[str] = "iid"
    cold_rule: ClassVar[str] = (
        "a token of its own, like every other item (never trained; no initial vector)"
    )

    index: str = "items"
    init: str = "none"

    def __post_init__(self) -> None:
        self._check_metapath(self.name)
        check_choice(self.name, "index", self.index, ("items", "both"))
        check_choice(self.name, "init", self.init, ("none", "metapath"))

    @property
    def indexes_users(self) -> bool:
        return self.index == "both"

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        items = {raw: (f"<I{k}>",) for k, raw in enumerate(view.items)}
        users = (
            {raw: (f"<U{k}>",) for k, raw in enumerate(view.users)} if self.indexes_users else None
        )
        new_tokens = [tokens[0] for tokens in items.values()]
        if users is not None:
            new_tokens += [tokens[0] for tokens in users.values()]
        vector_tokens: list[str] = []
        vectors = None
        if self.init == "metapath":
            embedding = self._embedding(view, seed)
            rows = [(f"<I{k}>", embedding.items[k]) for k in np.flatnonzero(embedding.item_seen)]
            if users is not None:
                rows += [
                    (f"<U{k}>", embedding.users[k]) for k in np.flatnonzero(embedding.user_seen)
                ]
            vector_tokens = [token for token, _ in rows]
            vectors = np.stack([vector for _, vector in rows])
        cold = view.items[view.item_counts == 0]
        return self._assignment(
            view,
            seed,
            items,
            users,
            new_tokens,
            cold_items=cold.tolist(),
            vector_tokens=vector_tokens,
            vectors=vectors,
        )
