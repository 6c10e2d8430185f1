"""Caser (Tang & Wang, "Personalized Top-N Sequential Recommendation via Convolutional Sequence
Embedding", WSDM 2018).

The last L items form an L x d "image": ``horizontal`` filters of each height 1..L (ReLU, max
over time) catch union-level and skip patterns, ``vertical`` filters of size L x 1 weight the
L items; both go through dropout and a fully connected layer (ReLU), are concatenated with a
user embedding, and scored against a second item table with biases. Trained on every window of
each training part to predict the next T items against sampled negatives (binary cross-entropy),
as in the paper.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines.models.base import SequentialRecommender
from baselines.params import CaserParams
from baselines.sequences import PAD, SequenceData

__all__ = ["Caser"]


class Caser(SequentialRecommender):
    def __init__(self, params: CaserParams, n_users: int, n_items: int) -> None:
        super().__init__(params, n_users, n_items)
        d, window = params.embedding_size, params.window
        self.item_embedding = nn.Embedding(n_items + 1, d, padding_idx=PAD)
        self.user_embedding = nn.Embedding(n_users, d)
        self.vertical = nn.Conv2d(1, params.vertical, (window, 1))
        self.horizontal = nn.ModuleList(
            nn.Conv2d(1, params.horizontal, (height, d)) for height in range(1, window + 1)
        )
        self.dropout = nn.Dropout(params.dropout)
        self.fc = nn.Linear(params.vertical * d + params.horizontal * window, d)
        self.output_vectors = nn.Embedding(n_items + 1, 2 * d, padding_idx=PAD)
        self.output_bias = nn.Embedding(n_items + 1, 1, padding_idx=PAD)
        for table, std in ((self.item_embedding, d**-1), (self.user_embedding, d**-1)):
            nn.init.normal_(table.weight, std=std)
        nn.init.normal_(self.output_vectors.weight, std=(2 * d) ** -1)
        nn.init.zeros_(self.output_bias.weight)

    def encode(self, users: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        image = self.item_embedding(tokens).unsqueeze(1)  # (b, 1, L, d)
        vertical = self.vertical(image).flatten(1)  # (b, nv * d)
        horizontal = [
            F.relu(conv(image).squeeze(3)).amax(dim=2)  # (b, nh): max over time
            for conv in self.horizontal
        ]
        z = F.relu(self.fc(self.dropout(torch.cat([vertical, *horizontal], dim=1))))
        return torch.cat([z, self.user_embedding(users)], dim=1)  # (b, 2d)

    def batches(
        self, data: SequenceData, rng: np.random.Generator, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        users, history, future = data.windows(self.params.window, self.params.targets)
        order = rng.permutation(users.size)
        for start in range(0, order.size, batch_size):
            chosen = order[start : start + batch_size]
            negatives = data.negatives(users[chosen], (self.params.negatives,), rng)
            yield {
                "users": torch.from_numpy(users[chosen]),
                "tokens": torch.from_numpy(history[chosen]),
                "targets": torch.from_numpy(future[chosen]),
                "negatives": torch.from_numpy(negatives),
            }

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self.encode(batch["users"], batch["tokens"])

        def logits(tokens: torch.Tensor) -> torch.Tensor:
            vectors = self.output_vectors(tokens)  # (b, k, 2d)
            return torch.einsum("bd,bkd->bk", x, vectors) + self.output_bias(tokens).squeeze(-1)

        targets, real = batch["targets"], batch["targets"] != PAD
        positive = logits(targets)[real]
        negative = logits(batch["negatives"])
        return F.binary_cross_entropy_with_logits(
            positive, torch.ones_like(positive)
        ) + F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative))

    @torch.no_grad()
    def queries(self, data: SequenceData, which: str, users: np.ndarray) -> np.ndarray:
        out = np.empty((len(users), 2 * self.params.embedding_size), dtype=np.float32)
        for start in range(0, len(users), 1024):
            part = users[start : start + 1024]
            tokens = data.histories(which, part, self.params.window)
            out[start : start + len(part)] = (
                self.encode(self.tensor(part.astype(np.int64)), self.tensor(tokens)).cpu().numpy()
            )
        return out

    def item_table(self) -> tuple[np.ndarray, np.ndarray | None]:
        vectors = self.output_vectors.weight[1:].detach().cpu().numpy()
        return vectors, self.output_bias.weight[1:, 0].detach().cpu().numpy()
