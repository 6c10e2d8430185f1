"""BERT4Rec (Sun et al., "BERT4Rec: Sequential Recommendation with Bidirectional Encoder
Representations from Transformer", CIKM 2019).

A bidirectional Transformer over the last ``max_length`` items. Training is the cloze task:
each item of a training part is replaced by a mask token with probability
``mask_probability`` and predicted (softmax over all items) from both sides. To recommend, a
mask token is appended to the history and its output, after a dense + GELU + layer-norm head,
is scored against the item embeddings plus an output bias. The paper also trains on samples
that mask only the last item; here a sequence whose draw masked nothing gets its last item
masked, so every sequence teaches the model.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines.models.base import (
    SequentialRecommender,
    TransformerTrunk,
    length_bucketed,
    trim_padding,
)
from baselines.params import BERT4RecParams
from baselines.sequences import PAD, SequenceData, right_aligned

__all__ = ["BERT4Rec"]


class BERT4Rec(TransformerTrunk, SequentialRecommender):
    def __init__(self, params: BERT4RecParams, n_users: int, n_items: int) -> None:
        super().__init__(params, n_users, n_items)
        d = params.hidden_size
        self.mask_token = n_items + 1
        self._build_trunk(n_items + 2)  # items, padding and the mask token
        self.head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.LayerNorm(d, eps=1e-12))
        self.output_bias = nn.Parameter(torch.zeros(n_items))
        self._init_embeddings()

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self._encode_tokens(tokens, causal=False))

    def batches(
        self, data: SequenceData, rng: np.random.Generator, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        starts = data.split.interactions.offsets[:-1]
        sequences = right_aligned(data.items, starts, data.train_ends, self.params.max_length)
        lengths = (sequences != PAD).sum(axis=1)
        for chosen in length_bucketed(np.arange(data.n_users), lengths, batch_size, rng):
            (tokens,) = trim_padding(sequences[chosen])
            real = tokens != PAD
            masked = real & (rng.random(tokens.shape) < self.params.mask_probability)
            nothing = ~masked.any(axis=1)
            masked[nothing, -1] = True  # the last column is always a real item
            labels = np.where(masked, tokens, PAD)
            inputs = np.where(masked, self.mask_token, tokens)
            yield {"tokens": torch.from_numpy(inputs), "labels": torch.from_numpy(labels)}

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.item_embedding.weight[1 : self.n_items + 1].T + self.output_bias

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.encode(batch["tokens"])
        labels = batch["labels"]
        masked = labels != PAD
        return F.cross_entropy(self._logits(hidden[masked]), labels[masked] - 1)

    @torch.no_grad()
    def queries(self, data: SequenceData, which: str, users: np.ndarray) -> np.ndarray:
        out = np.empty((len(users), self.params.hidden_size), dtype=np.float32)
        for start in range(0, len(users), 1024):
            part = users[start : start + 1024]
            history = data.histories(which, part, self.params.max_length - 1)
            tokens = np.concatenate([history, np.full((len(part), 1), self.mask_token)], axis=1)
            (tokens,) = trim_padding(tokens)
            out[start : start + len(part)] = self.encode(self.tensor(tokens))[:, -1].cpu().numpy()
        return out

    def item_table(self) -> tuple[np.ndarray, np.ndarray | None]:
        vectors = self.item_embedding.weight[1 : self.n_items + 1].detach().cpu().numpy()
        return vectors, self.output_bias.detach().cpu().numpy()
