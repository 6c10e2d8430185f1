"""The hyper-parameters of each baseline, with the original papers' defaults; torch-free so that
settings are validated before anything is trained.

An unknown or ill-typed parameter is a ``ConfigError`` naming ``params.<name>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from idprobe.errors import ConfigError, choices

__all__ = [
    "LOSSES",
    "BERT4RecParams",
    "CaserParams",
    "GRU4RecParams",
    "PopParams",
    "SASRecParams",
    "model_params",
]

# "bce": each position's next item against ``negatives`` sampled items (SASRec's objective);
# "ce": softmax cross-entropy over the whole catalogue.
LOSSES = ("bce", "ce")


def _check(params: Any) -> None:
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if f.type in ("int", int) and (not isinstance(value, int) or not number or value < 1):
            raise ConfigError(f"params.{f.name}", "an integer >= 1", value)
        if f.type in ("float", float) and (not number or not 0 <= value < 1):
            raise ConfigError(f"params.{f.name}", "a number in [0, 1)", value)
    loss = getattr(params, "loss", None)
    if loss is not None and loss not in LOSSES:
        raise ConfigError("params.loss", choices(LOSSES), loss)


@dataclass(frozen=True)
class PopParams:
    """Pop has no hyper-parameter: items are scored by their count in the training parts."""

    def __post_init__(self) -> None:
        _check(self)


@dataclass(frozen=True)
class SASRecParams:
    """SASRec: ``layers`` causal self-attention blocks of width ``hidden_size`` over the last
    ``max_length`` items, learned positions, item embeddings shared with the output."""

    hidden_size: int = 64
    layers: int = 2
    heads: int = 2
    inner_size: int = 256
    dropout: float = 0.5
    max_length: int = 50
    loss: str = "bce"
    negatives: int = 1

    def __post_init__(self) -> None:
        _check(self)
        if self.hidden_size % self.heads:
            raise ConfigError(
                "params.heads", f"a divisor of hidden_size {self.hidden_size}", self.heads
            )


@dataclass(frozen=True)
class GRU4RecParams:
    """GRU4Rec: item embeddings -> ``layers`` GRU layers -> the hidden state against the items."""

    embedding_size: int = 64
    hidden_size: int = 64
    layers: int = 1
    dropout: float = 0.25
    max_length: int = 50
    loss: str = "bce"
    negatives: int = 1

    def __post_init__(self) -> None:
        _check(self)


@dataclass(frozen=True)
class CaserParams:
    """Caser: the last ``window`` (L) items as an L x d image, ``horizontal`` filters of every
    height 1..L and ``vertical`` filters, plus a user embedding; predicts the next ``targets``
    (T) items, each against ``negatives`` sampled items."""

    embedding_size: int = 50
    window: int = 5
    targets: int = 3
    horizontal: int = 16
    vertical: int = 4
    dropout: float = 0.5
    negatives: int = 3

    def __post_init__(self) -> None:
        _check(self)


@dataclass(frozen=True)
class BERT4RecParams:
    """BERT4Rec: bidirectional self-attention over the last ``max_length`` items, trained to
    recover items replaced by a mask token with probability ``mask_probability``."""

    hidden_size: int = 64
    layers: int = 2
    heads: int = 2
    inner_size: int = 256
    dropout: float = 0.1
    max_length: int = 50
    mask_probability: float = 0.6

    def __post_init__(self) -> None:
        _check(self)
        if self.hidden_size % self.heads:
            raise ConfigError(
                "params.heads", f"a divisor of hidden_size {self.hidden_size}", self.heads
            )
        if self.mask_probability <= 0:
            raise ConfigError(
                "params.mask_probability", "a number in (0, 1)", self.mask_probability
            )


_PARAMS = {
    "pop": PopParams,
    "sasrec": SASRecParams,
    "gru4rec": GRU4RecParams,
    "caser": CaserParams,
    "bert4rec": BERT4RecParams,
}


def model_params(model: str, values: dict[str, Any] | None = None) -> Any:
    """The validated hyper-parameters of ``model`` from ``values`` (defaults for the rest)."""
    cls = _PARAMS[model]
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values or {}:
        if key not in names:
            listed = ", ".join(names) if names else "none (the model has no hyper-parameter)"
            raise ConfigError(f"params.{key}", f"a {model} parameter among {listed}", key)
    return cls(**(values or {}))
