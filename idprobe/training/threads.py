"""torch's CPU thread count for the length of one call (training, evaluation), then restored.

Small models train and decode fastest on one thread: on a busy 2-core machine a second thread
made tiny-model steps up to 17x slower. ``None`` leaves torch's own choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from idprobe.errors import ConfigError

__all__ = ["check_threads", "torch_threads"]


def check_threads(threads: object) -> None:
    """``None`` or a positive integer; anything else is a ``ConfigError`` naming ``threads``."""
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ConfigError("threads", "None or an integer >= 1", threads)


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)``; the previous count comes back."""
    check_threads(threads)
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
