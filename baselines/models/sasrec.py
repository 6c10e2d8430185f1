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

from baselines.models.base import NextItemModel, TransformerTrunk
from baselines.params import SASRecParams

__all__ = ["SASRec"]


class SASRec(TransformerTrunk, NextItemModel):
    def __init__(self, params: SASRecParams, n_users: int, n_items: int) -> None:
        super().__init__(params, n_users, n_items)
        self._build_trunk(n_items + 1)
        self._init_embeddings()

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self._encode_tokens(tokens, causal=True)
