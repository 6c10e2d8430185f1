"""Tokenized training examples and the padded tensors a model trains on.

One ``TokenizedExample`` is a prompt already turned into token ids: ``source_ids`` (the prompt,
ending with EOS for T5) and ``target_ids`` (the answer, ending with EOS). ``collate`` pads a list
of them into the batch the two model families expect:

- ``seq2seq`` (T5): ``input_ids`` = source, ``attention_mask``, ``labels`` = target with padding
  set to -100. The decoder inputs are not built here: Hugging Face encoder-decoder models build
  them from ``labels`` (shift right, start with ``decoder_start_token_id``, -100 read as pad).
- ``causal`` (LLaMA, GPT): ``input_ids`` = source followed by target, ``labels`` = the same ids
  with -100 on the source and on padding, so only the answer is learned. The model predicts
  ``labels[t]`` from positions ``< t`` (the shift happens in the loss). Padding is on the right,
  which is right for training (generation pads on the left; that is the decoder's business).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from idprobe.errors import ConfigError, choices

__all__ = ["IGNORE_INDEX", "KINDS", "TokenizedExample", "collate", "target_token_count"]

KINDS = ("seq2seq", "causal")
"""The model families ``collate`` and the trainer support."""

IGNORE_INDEX = -100
"""Label value the loss skips (the convention of ``torch.nn.CrossEntropyLoss`` and transformers)."""


@dataclass(frozen=True)
class TokenizedExample:
    """One prompt as token ids: the model reads ``source_ids`` and learns to produce ``target_ids``.

    Lists are accepted and stored as tuples. ``target_ids`` must not be empty (there would be
    nothing to learn); ``source_ids`` may be empty only for causal models.
    """

    source_ids: tuple[int, ...]
    target_ids: tuple[int, ...]

    def __post_init__(self) -> None:
        # Coerce so callers can pass tokenizer output (lists) directly; frozen needs __setattr__.
        object.__setattr__(self, "source_ids", tuple(int(t) for t in self.source_ids))
        object.__setattr__(self, "target_ids", tuple(int(t) for t in self.target_ids))
        if not self.target_ids:
            raise ConfigError("target_ids", "at least one token id", self.target_ids)
        if min(self.source_ids + self.target_ids) < 0:
            raise ConfigError(
                "token ids", "non-negative integers", self.source_ids + self.target_ids
            )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ConfigError("kind", choices(KINDS), kind)


def _pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    width = max(len(row) for row in rows)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def collate(
    examples: Sequence[TokenizedExample], kind: str = "seq2seq", *, pad_token_id: int
) -> dict[str, torch.Tensor]:
    """Pad ``examples`` on the right into the tensors of one batch (see the module docstring).

    Returns ``input_ids``, ``attention_mask`` (1 on real tokens) and ``labels`` (int64 tensors of
    shape ``(len(examples), longest)``; for ``seq2seq`` ``labels`` has the target's length).
    """
    _check_kind(kind)
    if not examples:
        raise ConfigError("examples", "at least one example", [])
    if isinstance(pad_token_id, bool) or not isinstance(pad_token_id, int) or pad_token_id < 0:
        raise ConfigError("pad_token_id", "a non-negative integer", pad_token_id)
    if kind == "seq2seq":
        if any(not ex.source_ids for ex in examples):
            raise ConfigError("source_ids", "at least one token id for a seq2seq model", ())
        sources = [ex.source_ids for ex in examples]
        input_ids = _pad(sources, pad_token_id)
        attention_mask = _pad([(1,) * len(s) for s in sources], 0)
        labels = _pad([ex.target_ids for ex in examples], IGNORE_INDEX)
    else:
        joined = [ex.source_ids + ex.target_ids for ex in examples]
        input_ids = _pad(joined, pad_token_id)
        attention_mask = _pad([(1,) * len(j) for j in joined], 0)
        labels = _pad(
            [(IGNORE_INDEX,) * len(ex.source_ids) + ex.target_ids for ex in examples],
            IGNORE_INDEX,
        )
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def target_token_count(labels: torch.Tensor, kind: str) -> int:
    """How many label positions the loss counts: non-ignored labels (causal: after the shift).

    A causal model cannot predict position 0 (nothing precedes it), so its label never counts.
    """
    _check_kind(kind)
    counted = labels if kind == "seq2seq" else labels[:, 1:]
    return int((counted != IGNORE_INDEX).sum())
