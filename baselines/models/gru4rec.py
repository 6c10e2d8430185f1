"""GRU4Rec (Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks",
ICLR 2016), in the form the sequential-recommendation literature evaluates it (S3-Rec, RecBole):
item embeddings, dropout, a GRU over the user's history, a linear map back to the embedding
width, and each step's output scored against the item embeddings to predict the next item.

The original trains on session-parallel mini-batches with TOP1/BPR losses over the other
sessions' items; here every user's training part is one sequence and the loss is SASRec's
binary cross-entropy with sampled negatives (``loss="ce"``: softmax over all items).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from baselines.models.base import NextItemModel
from baselines.params import GRU4RecParams
from baselines.sequences import PAD

__all__ = ["GRU4Rec"]


class GRU4Rec(NextItemModel):
    def __init__(self, params: GRU4RecParams, n_users: int, n_items: int) -> None:
        super().__init__(params, n_users, n_items)
        self.item_embedding = nn.Embedding(n_items + 1, params.embedding_size, padding_idx=PAD)
        self.dropout = nn.Dropout(params.dropout)
        self.gru = nn.GRU(
            params.embedding_size, params.hidden_size, params.layers, batch_first=True
        )
        self.dense = nn.Linear(params.hidden_size, params.embedding_size)
        nn.init.xavier_normal_(self.item_embedding.weight)
        with torch.no_grad():
            self.item_embedding.weight[PAD].zero_()

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        # The GRU must start at each user's first item, not run over the left padding:
        # shift rows to the left, pack them by length, and shift the outputs back.
        length = tokens.shape[1]
        lengths = (tokens != PAD).sum(dim=1).clamp(min=1)
        shift = (length - lengths)[:, None]
        columns = torch.arange(length, device=tokens.device)[None, :]
        left = torch.gather(tokens, 1, (columns + shift) % length)
        packed = pack_padded_sequence(
            self.dropout(self.item_embedding(left)),
            lengths.cpu(),  # pack_padded_sequence wants the lengths on the CPU
            batch_first=True,
            enforce_sorted=False,
        )
        output, _ = self.gru(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=length)
        right = torch.gather(
            output, 1, ((columns - shift) % length)[:, :, None].expand(-1, -1, output.shape[2])
        )
        return self.dense(right)
