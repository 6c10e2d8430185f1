"""Leak-free splits: leave-one-out for sequential tasks, a seeded 80/10/10 split for the others.

Both splits expose a :class:`TrainingView`: the interactions a model or an ID strategy may learn
from. It holds no validation or test interaction, so IDs built from it cannot leak the held-out
items (the P5 numbering did, REFERENCE.md pitfall 1). It keeps the whole item catalog, so a
strategy can still give an ID to an item that only appears as a held-out target ("cold" item);
``cold_items`` says which ones those are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from idprobe.data.interactions import Interactions
from idprobe.errors import ConfigError, DatasetError

__all__ = [
    "LeaveOneOutSplit",
    "RandomSplit",
    "Samples",
    "TrainingView",
    "leave_one_out",
    "random_split",
]


class TrainingView(Interactions):
    """The training interactions of a split, with the full catalog of items.

    The only data an ID strategy ever sees. Items that appear only in validation or test have
    zero interactions here (``item_counts == 0``); their raw ids are still listed in ``items``.
    """


def _training_view(interactions: Interactions, keep: np.ndarray, split: str) -> TrainingView:
    selected = interactions.select(
        keep, keep_catalog=True, name=f"{interactions.name} [{split} training view]"
    )
    fields = {f.name: getattr(selected, f.name) for f in dataclasses.fields(Interactions)}
    if selected.n_users != interactions.n_users:
        raise DatasetError(
            f"{interactions.name}: a user has no training interaction under the {split} split"
        )
    return TrainingView(**fields)


@dataclass(frozen=True, eq=False)
class Samples:
    """(user, history, target) samples of a sequential task, histories as zero-copy slices.

    The history of sample ``k`` is ``source.item_index[history_start[k]:history_end[k]]``
    (chronological, at most ``max_his`` items), where ``source`` is the full ``Interactions`` of
    the split. Users and targets are dense indices.
    """

    source: Interactions
    users: np.ndarray
    targets: np.ndarray
    history_start: np.ndarray
    history_end: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def history(self, k: int) -> np.ndarray:
        """Dense item indices of the history of sample ``k``, oldest first."""
        return self.source.item_index[self.history_start[k] : self.history_end[k]]

    @property
    def history_lengths(self) -> np.ndarray:
        return self.history_end - self.history_start

    def history_matrix(self, pad: int = -1, dtype: type = np.int64) -> np.ndarray:
        """Histories as an ``(n, max length)`` matrix, right-aligned (latest item last), padded with ``pad``."""
        width = int(self.history_lengths.max(initial=0))
        out = np.full((len(self), width), pad, dtype=dtype)
        # Column j of a right-aligned row holds the item at history_end - width + j, when inside the
        # history. One column at a time keeps the temporaries at O(n) instead of O(n * width).
        for j in range(width):
            position = self.history_end - width + j
            inside = position >= self.history_start
            out[inside, j] = self.source.item_index[position[inside]]
        return out


def _samples(
    source: Interactions, users: np.ndarray, target_pos: np.ndarray, floor: np.ndarray, max_his: int
) -> Samples:
    start = np.maximum(target_pos - max_his, floor)
    return Samples(
        source=source,
        users=users.astype(np.int32),
        targets=source.item_index[target_pos],
        history_start=start.astype(np.int64),
        history_end=target_pos.astype(np.int64),
    )


@dataclass(frozen=True, eq=False)
class LeaveOneOutSplit:
    """Leave-one-out split of every user's chronological sequence ``seq`` (REFERENCE.md).

    * training part ``seq[:-2]``: one training sample per position ``i >= 1``, history
      ``seq[:i]`` (its last ``max_his`` items), target ``seq[i]``;
    * validation: history ``seq[:-2]`` (last ``max_his``), target ``seq[-2]``;
    * test: history ``seq[:-1]`` (last ``max_his``), target ``seq[-1]``.

    Every user needs at least 3 interactions (use ``k_core`` first).
    """

    interactions: Interactions
    max_his: int = 20

    @cached_property
    def training_view(self) -> TrainingView:
        """Every user's ``seq[:-2]``, whole item catalog kept; no validation or test interaction."""
        return _training_view(self.interactions, self._train_mask, "leave-one-out")

    @cached_property
    def _train_mask(self) -> np.ndarray:
        keep = np.ones(self.interactions.n_interactions, dtype=bool)
        ends = self.interactions.offsets[1:]
        keep[ends - 1] = False
        keep[ends - 2] = False
        return keep

    @cached_property
    def train_samples(self) -> Samples:
        """One sample per position ``i >= 1`` of each training part (``sum(len - 3)`` samples)."""
        data = self.interactions
        starts, lengths = data.offsets[:-1], data.lengths
        per_user = lengths - 3
        users = np.repeat(np.arange(data.n_users), per_user)
        # Target positions start + 1 .. start + len - 3 for each user.
        first = np.repeat(starts + 1, per_user)
        within = np.arange(per_user.sum()) - np.repeat(np.cumsum(per_user) - per_user, per_user)
        return _samples(data, users, first + within, np.repeat(starts, per_user), self.max_his)

    @cached_property
    def validation(self) -> Samples:
        data = self.interactions
        users = np.arange(data.n_users)
        return _samples(data, users, data.offsets[1:] - 2, data.offsets[:-1], self.max_his)

    @cached_property
    def test(self) -> Samples:
        data = self.interactions
        users = np.arange(data.n_users)
        return _samples(data, users, data.offsets[1:] - 1, data.offsets[:-1], self.max_his)

    @cached_property
    def cold_items(self) -> np.ndarray:
        """Dense indices of items in no training part: they appear only as validation/test targets."""
        return np.flatnonzero(self.training_view.item_counts == 0)

    @property
    def cold_test_targets(self) -> int:
        """How many users' test target is a cold item."""
        cold = np.zeros(self.interactions.n_items, dtype=bool)
        cold[self.cold_items] = True
        return int(cold[self.test.targets].sum())


def leave_one_out(interactions: Interactions, max_his: int = 20) -> LeaveOneOutSplit:
    """Split every user's sequence into training part, validation and test target (see ``LeaveOneOutSplit``).

    Args:
        interactions: chronological sequences; every user needs at least 3 items.
        max_his: longest history kept in a sample (10 in META ID, 20 in OpenP5).
    """
    if not isinstance(max_his, int | np.integer) or max_his < 1:
        raise ConfigError("max_his", "an integer >= 1", max_his)
    short = np.flatnonzero(interactions.lengths < 3)
    if short.size:
        user = interactions.users[short[0]]
        raise DatasetError(
            f"{interactions.name}: leave-one-out needs at least 3 interactions per user; {short.size} "
            f"users have fewer (e.g. user {user!r} has {interactions.lengths[short[0]]}); filter with k_core=3 or more"
        )
    return LeaveOneOutSplit(interactions, int(max_his))


@dataclass(frozen=True, eq=False)
class RandomSplit:
    """A seeded split of the interactions into train / validation / test, for rating, explanation
    and review tasks. Every user and every item has at least one training interaction.

    ``train``, ``validation`` and ``test`` are sorted positions into the interaction columns of
    ``interactions``.
    """

    interactions: Interactions
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    seed: int

    @cached_property
    def training_view(self) -> TrainingView:
        keep = np.zeros(self.interactions.n_interactions, dtype=bool)
        keep[self.train] = True
        return _training_view(self.interactions, keep, "random")


def random_split(
    interactions: Interactions,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> RandomSplit:
    """Split interactions at random into train / validation / test with exact sizes.

    To keep every user and item in training, one interaction per user and then one per item not
    yet covered (each drawn at random with ``seed``) is reserved for training first. The remaining
    interactions are shuffled, and validation and test take ``round(fraction * n)`` of them each;
    training gets the rest. An error names the shortfall when the reserved set leaves too few.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ConfigError("fractions", "three non-negative numbers summing to 1", fractions)
    rng = np.random.default_rng(seed)
    n = interactions.n_interactions
    shuffled = rng.permutation(n)
    # First shuffled occurrence of each user, then of each item, is reserved for training.
    reserved = np.zeros(n, dtype=bool)
    _, first_of_user = np.unique(interactions.user_of_interaction[shuffled], return_index=True)
    reserved[shuffled[first_of_user]] = True
    item_of = interactions.item_index[shuffled]
    covered = np.zeros(interactions.n_items, dtype=bool)
    covered[interactions.item_index[reserved]] = True
    _, first_of_item = np.unique(item_of, return_index=True)
    extra = shuffled[first_of_item][~covered[item_of[first_of_item]]]
    reserved[extra] = True

    free = shuffled[~reserved[shuffled]]
    n_valid, n_test = round(fractions[1] * n), round(fractions[2] * n)
    if n_valid + n_test > free.size:
        raise DatasetError(
            f"{interactions.name}: a {fractions} split needs {n_valid + n_test} held-out interactions but only "
            f"{free.size} remain after keeping one per user and item in training"
        )
    validation = np.sort(free[:n_valid])
    test = np.sort(free[n_valid : n_valid + n_test])
    train = np.sort(np.concatenate((np.flatnonzero(reserved), free[n_valid + n_test :])))
    return RandomSplit(interactions, train, validation, test, seed)
