"""RID: random numeric item IDs (Hua et al., "How to Index Item IDs"; OpenP5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from idprobe.data import TrainingView
from idprobe.ids.base import IdAssignment, IdStrategy, check_int, register

__all__ = ["RandomIds"]


@register
@dataclass(frozen=True)
class RandomIds(IdStrategy):
    """RID: items shuffled with the seed and numbered from ``start``; the number is plain text.

    ``item_2024`` in a prompt is ``("2024",)`` here: no new token, the backbone's tokenizer splits
    the number into in-vocabulary sub-tokens, so items that share sub-tokens share nothing else.
    Users are not indexed.
    """

    name: ClassVar[str] = "rid"
    cold_rule: ClassVar[str] = "numbered at random like every other item (the number uses no data)"

    start: int = 1001

    def __post_init__(self) -> None:
        check_int(self.name, "start", self.start, minimum=0)

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        numbers = self.start + np.random.default_rng(seed).permutation(view.n_items)
        items = {
            raw: (str(number),) for raw, number in zip(view.items, numbers.tolist(), strict=True)
        }
        cold = view.items[view.item_counts == 0]
        return self._assignment(view, seed, items, None, (), cold_items=cold.tolist())
