"""SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018).

Item plus learned position embeddings, layer norm and dropout, then ``layers`` Transformer
blocks whose attention is causal (a position sees itself and earlier items); the output at
each position is scored against the same item embeddings to predict the next item. Trained, as
in the paper, by binary cross-entropy of each next item against one sampled negative
(``loss="ce"``: softmax over all items instead). Blocks are BERT-style (post-norm, GELU, inner
width ``inner_size``) as in the S3-Rec code behind the published Beauty numbers; the paper's
own blocks are pre-norm with ReLU.
"""

from __future__ import annotations

import torch
from torch import nn

from baselines.models.base import NextItemModel, attention_mask
from baselines.params import SASRecParams
from baselines.sequences import PAD

__all__ = ["SASRec"]


class SASRec(NextItemModel):
    def __init__(self, params: SASRecParams, n_users: int, n_items: int) -> None:
        super().__init__(params, n_users, n_items)
        d = params.hidden_size
        self.item_embedding = nn.Embedding(n_items + 1, d, padding_idx=PAD)
        self.position_embedding = nn.Embedding(params.max_length, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = nn.Dropout(params.dropout)
        layer = nn.TransformerEncoderLayer(
            d,
            params.heads,
            params.inner_size,
            dropout=params.dropout,
            activation="gelu",
            batch_first=True,
            layer_norm_eps=1e-12,
        )
        self.encoder = nn.TransformerEncoder(layer, params.layers, enable_nested_tensor=False)
        for embedding in (self.item_embedding, self.position_embedding):
            nn.init.normal_(embedding.weight, std=0.02)
        with torch.no_grad():
            self.item_embedding.weight[PAD].zero_()

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        length = tokens.shape[1]
        # Right-aligned histories: the latest item always has the last position.
        positions = torch.arange(
            self.params.max_length - length, self.params.max_length, device=tokens.device
        )
        x = self.item_embedding(tokens) + self.position_embedding(positions)[None]
        x = self.dropout(self.norm(x))
        mask = attention_mask(tokens, self.params.heads, causal=True)
        return self.encoder(x, mask=mask)
