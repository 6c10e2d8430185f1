"""The leave-one-out split as the padded item matrices that sequential models train and predict on.

Items are shifted by one (row 0 of every embedding table is padding): token ``i + 1`` is dense
item ``i``. Matrices are right-aligned, the latest item in the last column, padded on the left
with 0. What a model may see is exactly idprobe's split (``idprobe.data.leave_one_out``):

* training: each user's training part ``seq[:-2]``;
* validation: history ``seq[:-2]``, target ``seq[-2]``;
* test: history ``seq[:-1]``, target ``seq[-1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from idprobe.data import LeaveOneOutSplit
from idprobe.errors import ConfigError, choices

__all__ = ["PAD", "SequenceData", "right_aligned"]

PAD = 0
_WHICH = ("train", "validation", "test")


def right_aligned(
    items: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int
) -> np.ndarray:
    """Rows ``items[starts[r]:ends[r]]`` (their last ``width``) as tokens ``item + 1``,
    right-aligned in an ``(n, width)`` int64 matrix padded with ``PAD`` on the left."""
    out = np.full((len(starts), width), PAD, dtype=np.int64)
    # Column j of a row holds position ends - width + j when it is inside the row's range.
    for j in range(width):
        position = ends - width + j
        inside = position >= starts
        out[inside, j] = items[position[inside]] + 1
    return out


@dataclass(frozen=True, eq=False)
class SequenceData:
    """A leave-one-out split seen as sequences (module docstring)."""

    split: LeaveOneOutSplit

    @property
    def n_users(self) -> int:
        return self.split.interactions.n_users

    @property
    def n_items(self) -> int:
        return self.split.interactions.n_items

    @property
    def _starts(self) -> np.ndarray:
        return self.split.interactions.offsets[:-1]

    @cached_property
    def train_ends(self) -> np.ndarray:
        """End (exclusive) of each user's training part in the interaction columns."""
        return self.split.interactions.offsets[1:] - 2

    @property
    def items(self) -> np.ndarray:
        return self.split.interactions.item_index

    def histories(self, which: str, users: np.ndarray, width: int) -> np.ndarray:
        """The inputs a model predicts from: the training part (``train``, ``validation``) or
        everything but the test item (``test``), last ``width`` items, right-aligned."""
        if which not in _WHICH:
            raise ConfigError("which", choices(_WHICH), which)
        ends = self.train_ends[users] + (1 if which == "test" else 0)
        return right_aligned(self.items, self._starts[users], ends, width)

    def targets(self, which: str) -> np.ndarray:
        """Dense item index of every user's validation or test target."""
        samples = self.split.test if which == "test" else self.split.validation
        return np.asarray(samples.targets, dtype=np.int64)

    def next_item_pairs(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs ``t[:-1]`` and positives ``t[1:]`` of each user's training part ``t`` (last
        ``width`` positions, right-aligned): position j's model output should predict column j
        of the positives. Users whose training part has one item get an all-padding row."""
        starts, ends = self._starts, self.train_ends
        inputs = right_aligned(self.items, starts, np.maximum(ends - 1, starts), width)
        positives = right_aligned(self.items, np.minimum(starts + 1, ends), ends, width)
        return inputs, positives

    def windows(self, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Caser's samples: for each position ``i >= 1`` of each training part ``t``, the user,
        the ``window`` items before ``i`` (right-aligned) and the next ``horizon`` items
        ``t[i:i + horizon]`` (left-aligned, ``PAD`` past the end of the part)."""
        starts, ends = self._starts, self.train_ends
        per_user = np.maximum(ends - starts - 1, 0)
        users = np.repeat(np.arange(self.n_users), per_user)
        within = np.arange(per_user.sum()) - np.repeat(np.cumsum(per_user) - per_user, per_user)
        target = np.repeat(starts + 1, per_user) + within
        history = right_aligned(self.items, np.repeat(starts, per_user), target, window)
        future = np.full((target.size, horizon), PAD, dtype=np.int64)
        user_end = np.repeat(ends, per_user)
        for j in range(horizon):
            inside = target + j < user_end
            future[inside, j] = self.items[target[inside] + j] + 1
        return users, history, future

    @cached_property
    def _train_keys(self) -> np.ndarray:
        """Sorted ``user * n_items + item`` of every training interaction (negative sampling)."""
        view = self.split.training_view
        users = view.user_of_interaction.astype(np.int64)
        return np.unique(users * self.n_items + view.item_index)

    def in_training(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Whether each ``(users, items)`` pair (broadcast; dense item indices) is a training
        interaction."""
        keys = np.asarray(users, dtype=np.int64) * self.n_items + items
        found = np.searchsorted(self._train_keys, keys)
        found = np.minimum(found, self._train_keys.size - 1)
        return self._train_keys[found] == keys

    def negatives(
        self, users: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator
    ) -> np.ndarray:
        """Tokens of uniformly drawn items the user has not interacted with in training
        (redrawn up to 20 times; the rare leftover is kept), shape ``(len(users), *shape)``."""
        users = np.asarray(users, dtype=np.int64).reshape((-1,) + (1,) * len(shape))
        drawn = rng.integers(0, self.n_items, size=(users.shape[0], *shape))
        for _ in range(20):
            clash = self.in_training(np.broadcast_to(users, drawn.shape), drawn)
            if not clash.any():
                break
            drawn[clash] = rng.integers(0, self.n_items, size=int(clash.sum()))
        return drawn + 1

    @cached_property
    def item_counts(self) -> np.ndarray:
        """How often each item occurs in the training parts (Pop's score)."""
        return self.split.training_view.item_counts
