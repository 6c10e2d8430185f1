"""What the trainer needs from a baseline, and the pieces SASRec, GRU4Rec and BERT4Rec share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines.sequences import PAD, SequenceData

__all__ = [
    "NextItemModel",
    "SequentialRecommender",
    "TransformerTrunk",
    "attention_mask",
    "length_bucketed",
    "next_item_loss",
    "trim_padding",
]


class SequentialRecommender(nn.Module):
    """A model scoring every item for a user as ``query(user) . item_vector + item_bias``.

    Subclasses implement ``batches`` (one epoch of training batches from the training parts),
    ``loss`` (of one batch), ``queries`` (the users' query vectors, from their histories) and
    ``item_table`` (item vectors and optional biases, dense item order). The evaluation ranks
    every item with these (``idprobe.evaluation.ranking``).
    """

    def __init__(self, params: Any, n_users: int, n_items: int) -> None:
        super().__init__()
        self.params = params
        self.n_users = n_users
        self.n_items = n_items

    @property
    def device(self) -> torch.device:
        """Where the weights are: inputs go there, outputs come back to numpy on the CPU."""
        tensor = next(self.parameters(), None)
        if tensor is None:
            tensor = next(self.buffers())
        return tensor.device

    def tensor(self, array: np.ndarray) -> torch.Tensor:
        """A numpy array as a tensor on the model's device."""
        return torch.from_numpy(array).to(self.device)

    def batches(
        self, data: SequenceData, rng: np.random.Generator, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        """One epoch of training batches, as CPU tensors (the trainer moves them)."""
        raise NotImplementedError

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def queries(self, data: SequenceData, which: str, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def item_table(self) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError


class TransformerTrunk:
    """The body SASRec and BERT4Rec share (a mixin for their ``nn.Module``): item plus learned
    position embeddings, layer norm and dropout, then ``params.layers`` BERT-style blocks
    (post-norm, GELU, inner width ``params.inner_size``), as in the S3-Rec code.

    ``_build_trunk`` creates the layers; ``_init_embeddings`` (called last in the model's
    ``__init__``, after its own layers) draws the embeddings from N(0, 0.02) with a zero padding
    row.
    """

    params: Any

    def _build_trunk(self, n_tokens: int) -> None:
        d = self.params.hidden_size
        self.item_embedding = nn.Embedding(n_tokens, d, padding_idx=PAD)
        self.position_embedding = nn.Embedding(self.params.max_length, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = nn.Dropout(self.params.dropout)
        layer = nn.TransformerEncoderLayer(
            d,
            self.params.heads,
            self.params.inner_size,
            dropout=self.params.dropout,
            activation="gelu",
            batch_first=True,
            layer_norm_eps=1e-12,
        )
        self.encoder = nn.TransformerEncoder(layer, self.params.layers, enable_nested_tensor=False)

    def _init_embeddings(self) -> None:
        for embedding in (self.item_embedding, self.position_embedding):
            nn.init.normal_(embedding.weight, std=0.02)
        with torch.no_grad():
            self.item_embedding.weight[PAD].zero_()

    def _encode_tokens(self, tokens: torch.Tensor, causal: bool) -> torch.Tensor:
        length = tokens.shape[1]
        # Right-aligned histories: the latest item always has the last position.
        positions = torch.arange(
            self.params.max_length - length, self.params.max_length, device=tokens.device
        )
        x = self.item_embedding(tokens) + self.position_embedding(positions)[None]
        x = self.dropout(self.norm(x))
        return self.encoder(x, mask=attention_mask(tokens, self.params.heads, causal=causal))


def trim_padding(*matrices: np.ndarray) -> list[np.ndarray]:
    """Drop the leading columns that are padding in every row of the first matrix (histories
    are right-aligned, so a batch of short sequences needs only its longest width)."""
    real = (matrices[0] != PAD).any(axis=0)
    first = int(np.argmax(real)) if real.any() else matrices[0].shape[1] - 1
    return [m[:, first:] for m in matrices]


def length_bucketed(
    users: np.ndarray,
    lengths: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    pool: int = 50,
) -> list[np.ndarray]:
    """One epoch's batches of ``users``: shuffled, then sorted by length within pools of
    ``pool`` batches, cut into batches whose order is shuffled again.

    Batches of similar lengths need little padding: on Beauty (median training part 4 items,
    longest cut to 50) a random batch of 256 is padded to ~48 columns, a bucketed one to ~7, and
    a SASRec epoch ran 8x faster. Which users share a batch stays random within each pool.
    """
    order = rng.permutation(users)
    batches = []
    span = batch_size * pool
    for start in range(0, order.size, span):
        part = order[start : start + span]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, part.size, batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def attention_mask(tokens: torch.Tensor, heads: int, causal: bool) -> torch.Tensor:
    """Float mask (0 = may attend, -inf = may not) of shape (batch * heads, L, L).

    A position attends to real (non-padding) positions, only earlier ones when ``causal``, and
    always to itself: a padding row then has one allowed key, not none (an all -inf row would
    make NaN that spreads through the values of the next layer).
    """
    length = tokens.shape[1]
    allowed = (tokens != PAD)[:, None, :].expand(-1, length, -1)
    eye = torch.eye(length, dtype=torch.bool, device=tokens.device)
    if causal:
        allowed = (
            allowed & torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
        )
    allowed = allowed | eye
    mask = torch.zeros(allowed.shape, dtype=torch.float32, device=tokens.device)
    mask.masked_fill_(~allowed, float("-inf"))
    return mask.repeat_interleave(heads, dim=0)


def next_item_loss(
    hidden: torch.Tensor,
    positives: torch.Tensor,
    negatives: torch.Tensor | None,
    item_vectors: torch.Tensor,
    loss: str,
) -> torch.Tensor:
    """Mean loss over the real positions of ``positives`` (tokens, PAD = none).

    ``bce`` (SASRec): ``-log s(h.e_pos) - sum_neg log(1 - s(h.e_neg))``, negatives given as
    tokens of shape (b, L, k). ``ce``: softmax cross-entropy over all items; ``item_vectors`` are
    the rows of tokens 1..n (row 0, padding, excluded).
    """
    real = positives != PAD
    h = hidden[real]  # (positions, d)
    if loss == "ce":
        return F.cross_entropy(h @ item_vectors[1:].T, positives[real] - 1)
    positive = (h * item_vectors[positives[real]]).sum(-1)
    negative = torch.einsum("pd,pkd->pk", h, item_vectors[negatives[real]])
    return F.binary_cross_entropy_with_logits(
        positive, torch.ones_like(positive), reduction="sum"
    ).div(h.shape[0]) + F.binary_cross_entropy_with_logits(
        negative, torch.zeros_like(negative), reduction="sum"
    ).div(h.shape[0])


class NextItemModel(SequentialRecommender):
    """A model with one output per history position, each trained to predict the next item
    (SASRec, GRU4Rec). Subclasses implement ``encode(tokens) -> (b, L, d)`` and provide
    ``item_embedding``, whose rows are both inputs and output vectors."""

    item_embedding: nn.Embedding

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def batches(
        self, data: SequenceData, rng: np.random.Generator, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        inputs, positives = data.next_item_pairs(self.params.max_length)
        lengths = (positives != PAD).sum(axis=1)
        users = np.flatnonzero(lengths)  # parts of >= 2 items
        for chosen in length_bucketed(users, lengths, batch_size, rng):
            x, y = trim_padding(inputs[chosen], positives[chosen])
            batch = {"tokens": torch.from_numpy(x), "positives": torch.from_numpy(y)}
            if self.params.loss == "bce":
                drawn = data.negatives(chosen, (y.shape[1], self.params.negatives), rng)
                batch["negatives"] = torch.from_numpy(drawn)
            yield batch

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.encode(batch["tokens"])
        return next_item_loss(
            hidden,
            batch["positives"],
            batch.get("negatives"),
            self.item_embedding.weight,
            self.params.loss,
        )

    @torch.no_grad()
    def queries(self, data: SequenceData, which: str, users: np.ndarray) -> np.ndarray:
        out = np.empty((len(users), self.item_embedding.embedding_dim), dtype=np.float32)
        for start in range(0, len(users), 1024):
            part = users[start : start + 1024]
            (tokens,) = trim_padding(data.histories(which, part, self.params.max_length))
            out[start : start + len(part)] = self.encode(self.tensor(tokens))[:, -1].cpu().numpy()
        return out

    def item_table(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.item_embedding.weight[1:].detach().cpu().numpy(), None
