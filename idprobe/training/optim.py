"""How the shared trainer updates weights: AdamW, its learning-rate schedule, numeric precision.

- **Optimizer**: AdamW with decoupled weight decay on matrices and embeddings (parameters with
  2+ dimensions), none on biases and norm scales; frozen parameters are left out.
- **Schedule**: linear warm-up from 0 to the peak learning rate, then linear decay to 0
  (``transformers.get_linear_schedule_with_warmup``; ``linear_warmup_factor`` is the formula).
- **Precision** (REFERENCE.md pitfall 10: never fp16): ``"auto"`` is bfloat16 autocast on a CUDA
  GPU that supports it, else fp32; ``"bf16"`` is bfloat16 autocast on the training device,
  including CPU (torch's CPU autocast: correct, usually not faster than fp32) and an error on a
  GPU without bfloat16; ``"fp32"`` is plain float32. Weights and optimizer state stay float32 in
  every case.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from idprobe.errors import ConfigError, choices

__all__ = [
    "PRECISIONS",
    "autocast_context",
    "build_optimizer",
    "linear_warmup_factor",
    "resolve_precision",
]

PRECISIONS = ("auto", "bf16", "fp32")


def build_optimizer(
    module: nn.Module,
    *,
    learning_rate: float,
    weight_decay: float,
    warmup_steps: int,
    total_steps: int,
) -> tuple[torch.optim.AdamW, Any]:
    """AdamW over ``module``'s trainable parameters and its linear warm-up/decay scheduler."""
    decay, no_decay = [], []
    for parameter in module.parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim >= 2 else no_decay).append(parameter)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=learning_rate)
    from transformers import get_linear_schedule_with_warmup

    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps)


def linear_warmup_factor(step: int, warmup: int, total: int) -> float:
    """Learning-rate multiplier after ``step`` optimizer steps (the one step ``step + 1`` uses).

    ``step / warmup`` during warm-up, then ``(total - step) / (total - warmup)`` down to 0: the
    schedule of ``transformers.get_linear_schedule_with_warmup``, which ``fit`` uses. As there,
    with ``warmup > 0`` the first optimizer step has learning rate 0.
    """
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``"bf16"`` or ``"fp32"``: what ``precision`` means on ``device`` (module docstring)."""
    if precision not in PRECISIONS:
        raise ConfigError("precision", choices(PRECISIONS), precision)
    device = torch.device(device)
    if precision == "fp32":
        return "fp32"
    gpu_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if precision == "auto":
        return "bf16" if gpu_bf16 else "fp32"
    if device.type == "cuda" and not gpu_bf16:
        raise ConfigError(
            "precision", "'fp32' or 'auto' on a GPU without bfloat16 support", precision
        )
    return "bf16"


def autocast_context(precision: str, device: torch.device) -> torch.autocast:
    """The forward pass's autocast context for a resolved ``precision`` (``resolve_precision``)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
