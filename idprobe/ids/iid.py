"""IID: one new token per entity (the paper's Table 7 baseline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from idprobe.data import TrainingView
from idprobe.ids.base import IdAssignment, IdStrategy, check_choice, register

__all__ = ["IndependentIds"]


@register
@dataclass(frozen=True)
class IndependentIds(IdStrategy):
    """IID: every item gets its own new token ``<I{k}>`` (and every user ``<U{k}>`` with ``index="both"``).

    ``k`` is the dense index (catalog order for items, file order for users), so IDs carry no
    information about interactions and share no tokens: the model must learn one embedding per
    entity (12,101 new tokens on Beauty).
    """

    name: ClassVar[str] = "iid"
    cold_rule: ClassVar[str] = "a token of its own, like every other item (never trained)"

    index: str = "items"

    def __post_init__(self) -> None:
        check_choice(self.name, "index", self.index, ("items", "both"))

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
        cold = view.items[view.item_counts == 0]
        return self._assignment(view, seed, items, users, new_tokens, cold_items=cold.tolist())
