"""``BaselineSettings``: everything a baseline run depends on (the keys of its TOML file)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from baselines.params import model_params
from baselines.registry import check_model
from idprobe.data import Interactions, load_dataset
from idprobe.errors import ConfigError

__all__ = ["SELECTION_METRICS", "BaselineSettings"]

SELECTION_METRICS = ("ndcg@10", "hr@10", "ndcg@5", "hr@5", "mrr")


@dataclass(frozen=True)
class BaselineSettings:
    """One baseline run: data, model, hyper-parameters and the optimisation schedule.

    Data: ``dataset`` (path or built-in name), ``data_format``, ``data_options``, ``k_core``
    (the same meaning as for ``idprobe train``; the leave-one-out split is idprobe's).
    Model: ``model`` (``baselines.MODELS``) and ``params`` (``baselines.params``).
    Optimisation: Adam with ``learning_rate`` and ``weight_decay``, ``batch_size`` sequences
    (Caser: windows) per step, at most ``epochs`` epochs, gradient norm clipped at
    ``max_grad_norm`` (0 = off). Selection: every ``eval_every`` epochs ``select_on`` on the
    validation targets of ``validation_users`` seeded users (``None``: all); training stops after
    ``patience`` evaluations without improvement and the best epoch's weights are kept.
    ``seed`` is the only source of randomness; ``threads`` torch CPU threads (``None``: torch's);
    ``device``: ``auto`` (the GPU when torch sees one, else the CPU), ``cpu``, ``cuda`` or
    ``cuda:N``. Runs on a GPU are not bit-for-bit repeatable (CUDA kernels are not all
    deterministic); CPU runs are.
    """

    model: str = "sasrec"
    dataset: str = "synthetic"
    data_format: str | None = None
    data_options: Mapping[str, Any] = field(default_factory=dict)
    k_core: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    epochs: int = 200
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    max_grad_norm: float = 0.0
    patience: int = 10
    eval_every: int = 1
    validation_users: int | None = None
    select_on: str = "ndcg@10"
    seed: int = 0
    threads: int | None = 1
    device: str = "auto"

    def __post_init__(self) -> None:
        check_model(self.model)
        object.__setattr__(self, "data_options", dict(self.data_options))
        object.__setattr__(self, "params", dict(self.params))
        model_params(self.model, dict(self.params))
        for name in ("epochs", "batch_size", "patience", "eval_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(name, "an integer >= 1", value)
        for name in ("learning_rate", "weight_decay", "max_grad_norm"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ConfigError(name, "a number >= 0", value)
        if self.learning_rate <= 0:
            raise ConfigError("learning_rate", "a number > 0", self.learning_rate)
        if self.validation_users is not None and (
            not isinstance(self.validation_users, int) or self.validation_users < 1
        ):
            raise ConfigError(
                "validation_users", "an integer >= 1 or none (every user)", self.validation_users
            )
        if self.select_on not in SELECTION_METRICS:
            raise ConfigError("select_on", f"one of {', '.join(SELECTION_METRICS)}", self.select_on)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError("seed", "an integer >= 0", self.seed)
        if not isinstance(self.device, str) or not re.fullmatch(
            r"auto|cpu|cuda(:\d+)?", self.device
        ):
            raise ConfigError("device", "auto, cpu, cuda or cuda:N", self.device)
        if self.threads is not None and (
            not isinstance(self.threads, int) or isinstance(self.threads, bool) or self.threads < 1
        ):
            raise ConfigError("threads", "None or an integer >= 1", self.threads)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> BaselineSettings:
        """Settings from a dict (TOML); an unknown key is an error that lists the valid ones."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                raise ConfigError(key, f"a baseline setting among {', '.join(names)}", key)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["data_options"] = dict(self.data_options)
        out["params"] = dict(self.params)
        return out

    def resolved_params(self) -> Any:
        """The model's hyper-parameters with every default filled in."""
        return model_params(self.model, dict(self.params))

    def load_data(self) -> Interactions:
        return load_dataset(
            self.dataset, self.data_format, k_core=self.k_core, **dict(self.data_options)
        )
