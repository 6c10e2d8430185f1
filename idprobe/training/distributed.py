"""Process-group helpers for evaluation under ``torchrun``: contiguous shards, one gather.

DistributedSampler pads the last shard with repeated users so that every process gets the same
count; metrics computed over the gathered lists then count those users twice (REFERENCE.md
pitfall 8). Here each process takes a contiguous block of the users (sizes differ by at most
one, no padding) and the blocks are gathered exactly once, in rank order, so the result equals a
single-process run user for user.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["barrier", "gather_once", "init_from_environment", "shard_bounds", "world"]


def init_from_environment() -> None:
    """Join the process group ``torchrun`` describes (gloo on CPU, nccl on GPU), if any."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")


def world() -> tuple[int, int]:
    """``(rank, world size)``; ``(0, 1)`` outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """``[start, stop)`` of rank ``rank``'s contiguous block of ``n`` items (no padding)."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def gather_once(local: list[Any]) -> list[Any]:
    """Concatenate every rank's list in rank order (one ``all_gather_object``); identity alone."""
    _, size = world()
    if size == 1:
        return list(local)
    parts: list[list[Any] | None] = [None] * size
    dist.all_gather_object(parts, list(local))
    return [value for part in parts for value in (part or [])]


def barrier() -> None:
    """Wait for every process (no-op alone)."""
    if world()[1] > 1:
        dist.barrier()
