"""Give a backbone the rows of an assignment's new tokens, initialised explicitly and recorded.

Recent ``transformers`` initialise rows added by ``resize_token_embeddings`` from the mean and
covariance of the old rows (``mean_resizing``), and t5-small already has 28 spare rows that nobody
initialised on purpose (REFERENCE.md pitfall 5). Here the rows of the new ID tokens are always
set explicitly, by one of:

* ``normal``: N(0, ``std``²) per entry;
* ``mean``: the mean of the rows the vocabulary had before (every new token starts at the same
  point; training separates them);
* ``vectors``: the strategy's own vectors (META ID centroids, IID meta-path vectors), rescaled to
  the mean norm of the existing rows; tokens without a vector get ``normal``. The vectors must
  have the model's width: a 64-d vector cannot be a 512-d embedding without a choice of
  projection, which is what the F layer (``training.augment``) learns instead.

RID and SID reuse the tokenizer's numeric sub-tokens; OpenP5 and META ID re-initialise those rows
with N(0, 1), Hua et al. with U(-10, 10) (pitfall 6): ``numeric_reinit`` offers both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from transformers import EncoderDecoderModel, PreTrainedModel, PreTrainedTokenizerBase

from idprobe.errors import ConfigError, choices
from idprobe.training.tokenizer import add_id_tokens, numeric_token_ids

__all__ = ["NEW_ROW_INITS", "NUMERIC_REINITS", "prepare_id_tokens"]

NEW_ROW_INITS = ("normal", "mean", "vectors")
NUMERIC_REINITS = ("none", "normal", "uniform")


def prepare_id_tokens(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    new_tokens: Sequence[str],
    *,
    init: str = "normal",
    std: float = 1.0,
    vectors: Mapping[str, np.ndarray] | None = None,
    numeric_reinit: str = "none",
    seed: int = 0,
) -> dict[str, Any]:
    """Add ``new_tokens`` to the tokenizer and model and initialise their rows (module docstring).

    Returns the record of what was done (JSON-ready), for the run's config: method, std, how many
    rows, how many came from vectors, numeric rows re-initialised, seed, the new table size.
    """
    if init not in NEW_ROW_INITS:
        raise ConfigError("init", choices(NEW_ROW_INITS), init)
    if numeric_reinit not in NUMERIC_REINITS:
        raise ConfigError("numeric_reinit", choices(NUMERIC_REINITS), numeric_reinit)
    if not std > 0:
        raise ConfigError("std", "a positive number", std)
    parts = _table_owners(model)
    if init == "vectors":
        _check_vectors(vectors, parts[0].get_input_embeddings().weight.shape[1])
    old_rows = parts[0].get_input_embeddings().weight.shape[0]
    known = len(tokenizer)  # the vocabulary before the ID tokens
    token_ids = add_id_tokens(tokenizer, new_tokens)
    # Tokens the vocabulary already had keep their trained rows; only truly new rows are set.
    fresh = [(i, t) for i, t in zip(token_ids, new_tokens, strict=True) if i >= known]
    for part in parts:
        if len(tokenizer) > part.get_input_embeddings().weight.shape[0]:
            part.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    weight = parts[0].get_input_embeddings().weight
    generator = torch.Generator().manual_seed(seed)
    record: dict[str, Any] = {
        "init": init,
        "std": std,
        "new_tokens": len(new_tokens),
        "already_in_vocabulary": len(new_tokens) - len(fresh),
        "rows_from_vectors": 0,
        "numeric_reinit": numeric_reinit,
        "numeric_rows": 0,
        "seed": seed,
        "table_rows": int(weight.shape[0]),
    }
    with torch.no_grad():
        if fresh:
            index = torch.as_tensor([i for i, _ in fresh])
            # The rows of the vocabulary as it was (spare rows past it, as in t5-small, excluded).
            reference = weight[: min(old_rows, known)]
            if init == "mean":
                weight[index] = reference.mean(dim=0)
            else:
                rows = torch.randn((len(fresh), weight.shape[1]), generator=generator) * std
                weight[index] = rows.to(weight.dtype)
            if init == "vectors":
                record["rows_from_vectors"] = _copy_vectors(weight, fresh, vectors, reference)
        if numeric_reinit != "none":
            numeric = torch.as_tensor(numeric_token_ids(tokenizer), dtype=torch.long)
            shape = (len(numeric), weight.shape[1])
            if numeric_reinit == "normal":
                rows = torch.randn(shape, generator=generator)
            else:
                rows = torch.rand(shape, generator=generator) * 20.0 - 10.0
            weight[numeric] = rows.to(weight.dtype)
            record["numeric_rows"] = len(numeric)
        for part in parts[1:]:  # a second table (bert2bert's decoder) gets the same rows
            other = part.get_input_embeddings().weight
            rows = [i for i, _ in fresh]
            if numeric_reinit != "none":
                rows += numeric_token_ids(tokenizer)
            index = torch.as_tensor(rows, dtype=torch.long)
            other[index] = weight[index].to(other.dtype)
    return record


def _table_owners(model: PreTrainedModel) -> list[PreTrainedModel]:
    """The models whose input tables hold the vocabulary: the model itself, or the encoder and
    the decoder of a ``transformers.EncoderDecoderModel`` (two tables; it cannot resize itself)."""
    if isinstance(model, EncoderDecoderModel):
        return [model.encoder, model.decoder]
    return [model]


def _check_vectors(vectors: Mapping[str, np.ndarray] | None, width: int) -> None:
    """Refuse init=vectors before anything is changed when the vectors cannot be rows."""
    if not vectors:
        raise ConfigError("init", "an assignment with token vectors for init=vectors", "none")
    dims = {np.asarray(v).shape[-1] for v in vectors.values()}
    if dims != {width}:
        raise ConfigError(
            "init",
            f"vectors of the model width {width} for init=vectors "
            "(use init=normal with the F layer to project them)",
            f"width {sorted(dims)}",
        )


def _copy_vectors(
    weight: torch.Tensor,
    fresh: Sequence[tuple[int, str]],
    vectors: Mapping[str, np.ndarray],
    reference: torch.Tensor,
) -> int:
    target_norm = reference.norm(dim=1).mean()
    count = 0
    for token_id, token in fresh:
        if token in vectors:
            # a copy: torch warns on (and must not write through) a read-only numpy view
            row = torch.as_tensor(np.array(vectors[token], dtype=np.float32))
            weight[token_id] = (row / row.norm().clamp_min(1e-12) * target_norm).to(weight.dtype)
            count += 1
    return count
