"""Pop: every user gets the items ranked by how often they occur in the training parts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from baselines.models.base import SequentialRecommender
from baselines.params import PopParams
from baselines.sequences import SequenceData

__all__ = ["Pop"]


class Pop(SequentialRecommender):
    """No parameters and no training: ``score(u, i) = count(i)``, one query for all users."""

    def __init__(self, params: PopParams, n_users: int, n_items: int) -> None:
        super().__init__(params, n_users, n_items)
        self.register_buffer("counts", torch.zeros(n_items, dtype=torch.float32))

    def fit_counts(self, data: SequenceData) -> None:
        self.counts.copy_(torch.from_numpy(data.item_counts.astype(np.float32)))

    def batches(
        self, data: SequenceData, rng: np.random.Generator, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        return iter(())

    def queries(self, data: SequenceData, which: str, users: np.ndarray) -> np.ndarray:
        return np.ones((len(users), 1), dtype=np.float32)

    def item_table(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.counts.cpu().numpy()[:, None].copy(), None
