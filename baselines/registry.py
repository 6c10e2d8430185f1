"""The baseline models by name, without importing torch (the CLI and compare validate names first)."""

from __future__ import annotations

import importlib
from typing import Any

from idprobe.errors import ConfigError, choices

__all__ = ["MODELS", "check_model", "model_class"]

# name -> (module, class, one-line description with the paper)
_MODELS: dict[str, tuple[str, str, str]] = {
    "pop": (
        "baselines.models.pop",
        "Pop",
        "most popular items of the training parts (no training)",
    ),
    "sasrec": (
        "baselines.models.sasrec",
        "SASRec",
        "causal self-attention over the history (Kang & McAuley, ICDM 2018)",
    ),
    "gru4rec": (
        "baselines.models.gru4rec",
        "GRU4Rec",
        "GRU over the history (Hidasi et al., ICLR 2016)",
    ),
    "caser": (
        "baselines.models.caser",
        "Caser",
        "horizontal and vertical convolutions over the last L items (Tang & Wang, WSDM 2018)",
    ),
    "bert4rec": (
        "baselines.models.bert4rec",
        "BERT4Rec",
        "bidirectional self-attention trained by cloze (Sun et al., CIKM 2019)",
    ),
}

MODELS: dict[str, str] = {name: entry[2] for name, entry in _MODELS.items()}


def check_model(name: Any) -> str:
    """``name`` if it is a baseline, else a ``ConfigError`` listing the available ones."""
    if name not in _MODELS:
        raise ConfigError("model", choices(_MODELS), name)
    return name


def model_class(name: str) -> Any:
    """The torch module class of baseline ``name`` (imports torch)."""
    module, cls, _ = _MODELS[check_model(name)]
    return getattr(importlib.import_module(module), cls)
