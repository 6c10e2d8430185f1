"""META ID's initialisation layer F: new tokens' input embeddings augmented with outside vectors.

The paper (section 4.3, appendix C.3.1) feeds a new token's vector through a trainable linear map
``F`` and adds it to the token's embedding, with ``alpha = 0.1``:

    input_embedding(t) = E[t] + alpha * F(c_t)    for a token t that has a vector c_t
    input_embedding(t) = E[t]                      for every other token

META ID gives a vector to its ``<CT>`` tokens (the skip-gram cluster centroids); ``F`` maps the
skip-gram dimension to the model dimension and is trained with the model (eq. 8).

The released code has two bugs this module avoids (REFERENCE.md):

- vector rows were stored in Python ``set`` order but looked up by token id, so tokens got other
  tokens' centroids; here row ``k`` of ``vectors`` belongs to ``token_ids[k]``, by explicit id;
- the term lived in an overridden model ``forward`` that ``generate`` bypasses, so it was missing
  at test time; here it lives in the embedding module itself, which every path reads: encoder
  input, decoder input, training and generation (greedy, beam, cached steps alike).

Only the *input* side changes: a tied output head keeps using ``E`` (``base.weight``) without the
``F`` term, as in the paper, where ``F`` is part of the input embedding layer only.

Install after resizing the embedding table (``resize_token_embeddings``): transformers cannot
resize through the wrapper (it raises ``TypeError``), and the forward checks that the vector map
still covers the table.

Saving: ``model.state_dict()`` holds the wrapper (``<embedding>.base.weight``, ``.F.weight``,
``.F.bias``, ``.slot``, ``.vectors``) and loads into a model built and installed the same way.
Hugging Face ``save_pretrained`` does not understand the wrapper (transformers 5.25: T5 raises on
the shared tensors; Llama saves ``model.embed_tokens.base.weight``, which ``from_pretrained`` of
a plain model ignores, re-initialising the table): call ``remove_augmentation`` first and save
the removed wrapper's ``state_dict()`` beside the checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np
import torch
from torch import nn

from idprobe.errors import ConfigError, verbatim

__all__ = ["DEFAULT_ALPHA", "AugmentedEmbedding", "install_augmentation", "remove_augmentation"]

DEFAULT_ALPHA = 0.1
"""The paper's weight of the ``F`` term (appendix C.3.1)."""


class AugmentedEmbedding(nn.Module):
    """An input embedding ``base`` plus ``alpha * F(c_t)`` on the tokens ``t`` that have a vector.

    Attributes:
        base: the model's own ``nn.Embedding`` (its parameter stays the one a tied head uses).
        F: trainable ``nn.Linear(vector_dim, embedding_dim)`` with bias. Initialised like
            ``nn.Linear``'s default (every weight and bias uniform on ``±1/sqrt(vector_dim)``),
            drawn from a local generator seeded by ``seed``, so the global RNG is untouched. Not
            zeros: the paper calls the term an *initialisation* that helps new tokens from the
            first step; with ``F = 0`` the centroids would contribute nothing until ``F`` had been
            trained away from zero.
        slot: buffer (int64, one entry per table row): the row of ``vectors`` a token reads, or -1.
        vectors: buffer (float32, ``(n_vectors, vector_dim)``), the outside vectors.
        alpha: weight of the term (a plain float, not saved in ``state_dict``: pass it again when
            re-installing).
    """

    def __init__(
        self,
        base: nn.Embedding,
        token_ids: Sequence[int],
        vectors: np.ndarray,
        *,
        alpha: float = DEFAULT_ALPHA,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(base, nn.Embedding):
            raise ConfigError("base", "a torch.nn.Embedding", verbatim(type(base).__name__))
        size = base.weight.shape[0]
        ids = _check_token_ids(token_ids, size)
        table = _check_vectors(vectors, len(ids))
        self.base = base
        self.alpha = alpha
        device = base.weight.device
        slot = torch.full((size,), -1, dtype=torch.int64)
        slot[torch.as_tensor(ids, dtype=torch.int64)] = torch.arange(len(ids), dtype=torch.int64)
        self.register_buffer("slot", slot.to(device))
        # A copy: assignments hold read-only arrays, which torch cannot wrap safely.
        self.register_buffer("vectors", torch.tensor(table, dtype=torch.float32, device=device))
        self.F = _seeded_linear(table.shape[1], base.embedding_dim, seed, base.weight)

    # --- what Hugging Face code reads from an input embedding -------------------------------

    @property
    def weight(self) -> nn.Parameter:
        """The table ``E`` (``base.weight``), without the ``F`` term: what tied heads share."""
        return self.base.weight

    @property
    def num_embeddings(self) -> int:
        return self.base.num_embeddings

    @num_embeddings.setter
    def num_embeddings(self, value: int) -> None:
        # transformers' resize_token_embeddings assigns this even when the size does not change
        if value != self.slot.shape[0]:
            raise _resized_error(value, self.slot.shape[0])
        self.base.num_embeddings = value

    @property
    def embedding_dim(self) -> int:
        return self.base.embedding_dim

    @property
    def padding_idx(self) -> int | None:
        return self.base.padding_idx

    def __setattr__(self, name: str, value: Any) -> None:
        # transformers' tie_weights() does setattr(embedding, "weight", shared_parameter); without
        # this, nn.Module would refuse to register a parameter over the read-only property
        if name == "weight":
            self.base.weight = value
        else:
            super().__setattr__(name, value)

    # --- the layer ------------------------------------------------------------------------

    @property
    def alpha(self) -> float:
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:  # numpy scalars are Real too
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ConfigError("alpha", "a finite number", value)
        self._alpha = float(value)

    @property
    def token_ids(self) -> list[int]:
        """The augmented token ids, in the order of the rows of ``vectors``."""
        ids = torch.nonzero(self.slot >= 0).flatten()
        order = torch.argsort(self.slot[ids])
        return ids[order].tolist()

    def term(self) -> torch.Tensor:
        """``alpha * F(c_t)`` for every table row (zero rows for tokens without a vector)."""
        projected = self.F(self.vectors.to(self.F.weight.dtype))
        rows = self.slot.clamp(min=0)
        keep = (self.slot >= 0).unsqueeze(-1).to(projected.dtype)
        return self.alpha * projected[rows] * keep

    def effective_weight(self) -> torch.Tensor:
        """The input table the model actually reads, ``E + alpha * F(c)`` (detached).

        Use it, not ``weight``, for anything that inspects the input representation of a token.
        """
        with torch.no_grad():
            return self.base.weight + self.term().to(self.base.weight.dtype)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        rows = self.base.weight.shape[0]
        if rows != self.slot.shape[0]:
            raise _resized_error(rows, self.slot.shape[0])
        embedded = self.base(input_ids)
        # F over the (few) vectors once, then a gather: no Python loop, no data-dependent branch;
        # the mask zeroes positions without a vector (F has a bias, so F(0) != 0)
        projected = self.F(self.vectors.to(self.F.weight.dtype))
        slots = self.slot[input_ids]
        keep = (slots >= 0).unsqueeze(-1).to(projected.dtype)
        extra = projected[slots.clamp(min=0)] * keep
        return embedded + (self.alpha * extra).to(embedded.dtype)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, augmented_tokens={self.vectors.shape[0]}"


def install_augmentation(
    model: nn.Module,
    token_ids: Sequence[int],
    vectors: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> AugmentedEmbedding:
    """Wrap ``model``'s input embedding so token ``token_ids[k]`` reads ``E + alpha * F(vectors[k])``.

    Works on any Hugging Face model with ``get_input_embeddings`` / ``set_input_embeddings``
    (T5, Llama, ...). Every other module that held the same ``nn.Embedding`` (T5's
    ``encoder.embed_tokens`` and ``decoder.embed_tokens``) is pointed at the wrapper too, so no
    path reads the plain table. The wrapper's ``F`` and buffers appear in ``model.state_dict()``;
    to reload, build the model, install with the same ``token_ids`` shape, ``vectors`` shape and
    ``alpha``, then ``load_state_dict``. Install after any ``resize_token_embeddings``.

    Returns the installed wrapper.
    """
    base = _input_embedding(model)
    if isinstance(base, AugmentedEmbedding):
        raise ConfigError(
            "model",
            "a model without an installed augmentation (call remove_augmentation first)",
            verbatim("an AugmentedEmbedding"),
        )
    wrapper = AugmentedEmbedding(base, token_ids, vectors, alpha=alpha, seed=seed)
    model.set_input_embeddings(wrapper)

    # T5 keeps separate nn.Embedding modules in encoder/decoder that share only the parameter;
    # its set_input_embeddings replaces them, but a model whose setter does not would bypass F
    def reads_table(module: nn.Module) -> bool:
        return module is base or (isinstance(module, nn.Embedding) and module.weight is base.weight)

    _replace_everywhere(model, reads_table, wrapper)
    return wrapper


def remove_augmentation(model: nn.Module) -> AugmentedEmbedding:
    """Put the plain ``nn.Embedding`` back everywhere; returns the wrapper that was removed.

    The model then reads ``E`` alone: the ``F`` term is dropped, not folded into the table
    (folding would also change a tied output head). ``base`` keeps every update it received.
    """
    wrapper = _input_embedding(model)
    if not isinstance(wrapper, AugmentedEmbedding):
        raise ConfigError(
            "model",
            "a model with an installed augmentation",
            verbatim(f"input embedding of type {type(wrapper).__name__}"),
        )
    model.set_input_embeddings(wrapper.base)
    _replace_everywhere(model, lambda module: module is wrapper, wrapper.base)
    return wrapper


def _input_embedding(model: nn.Module) -> nn.Module:
    getter = getattr(model, "get_input_embeddings", None)
    if getter is None or not hasattr(model, "set_input_embeddings"):
        raise ConfigError(
            "model",
            "a model with get_input_embeddings/set_input_embeddings",
            verbatim(type(model).__name__),
        )
    return getter()


def _replace_everywhere(
    model: nn.Module, matches: Callable[[nn.Module], bool], new: nn.Module
) -> None:
    """Point every child (of every submodule) that ``matches`` at ``new``."""
    for module in list(model.modules()):
        if module is new:
            continue  # the wrapper holds its base on purpose
        for name, child in list(module.named_children()):
            if child is not new and matches(child):
                setattr(module, name, new)


def _seeded_linear(in_dim: int, out_dim: int, seed: int, like: torch.Tensor) -> nn.Linear:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError("seed", "an integer", seed)
    # built on "meta" so nn.Linear's own reset_parameters does not consume the global RNG
    linear = nn.Linear(in_dim, out_dim, device="meta").to_empty(device=like.device)
    generator = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(in_dim)  # nn.Linear's default kaiming_uniform(a=sqrt(5)) bound
    with torch.no_grad():
        weight = torch.empty(out_dim, in_dim).uniform_(-bound, bound, generator=generator)
        bias = torch.empty(out_dim).uniform_(-bound, bound, generator=generator)
        linear.weight.copy_(weight)
        linear.bias.copy_(bias)
    return linear.to(dtype=like.dtype)


def _check_token_ids(token_ids: Sequence[int], size: int) -> list[int]:
    ids = np.asarray(token_ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ConfigError("token_ids", "a sequence of integer token ids", token_ids)
    if ids.size == 0:
        raise ConfigError("token_ids", "at least one token id", verbatim("none"))
    out_of_range = ids[(ids < 0) | (ids >= size)]
    if out_of_range.size:
        raise ConfigError(
            "token_ids", f"ids in 0..{size - 1} (the embedding table)", int(out_of_range[0])
        )
    values, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ConfigError(
            "token_ids", "unique ids", verbatim(f"{int(values[counts > 1][0])} repeated")
        )
    return [int(i) for i in ids]


def _check_vectors(vectors: np.ndarray, count: int) -> np.ndarray:
    table = np.asarray(vectors)
    if table.ndim != 2 or not np.issubdtype(table.dtype, np.number):
        raise ConfigError(
            "vectors", "a 2-D numeric array", verbatim(f"shape {table.shape} {table.dtype}")
        )
    if table.shape[0] != count:
        raise ConfigError(
            "vectors", f"one row per token id ({count})", verbatim(f"{table.shape[0]} rows")
        )
    if table.shape[1] == 0:
        raise ConfigError("vectors", "at least one column", verbatim(f"shape {table.shape}"))
    if not np.isfinite(table).all():
        raise ConfigError("vectors", "finite values", verbatim("NaN or infinity"))
    return table.astype(np.float32, copy=False)


def _resized_error(rows: int, covered: int) -> ConfigError:
    return ConfigError(
        "embedding table",
        f"{covered} rows as when the augmentation was installed (install after resizing)",
        verbatim(f"{rows} rows"),
    )
