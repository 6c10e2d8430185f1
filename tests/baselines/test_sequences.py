"""The leave-one-out split as padded sequences: checked against plain Python on every user."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.models.base import length_bucketed, trim_padding
from baselines.sequences import PAD, SequenceData, right_aligned
from idprobe.data import Interactions, leave_one_out, make_synthetic


def _handmade() -> SequenceData:
    # u1: a b c d e, u2: c a b, u3: e d c b a f (items sorted: a=0 b=1 c=2 d=3 e=4 f=5)
    events = [("u1", x) for x in "abcde"] + [("u2", x) for x in "cab"]
    events += [("u3", x) for x in "edcbaf"]
    users, items = zip(*events, strict=True)
    return SequenceData(leave_one_out(Interactions.from_events(users, items)))


def _sequences(data: SequenceData) -> list[list[int]]:
    return [data.split.interactions.sequence(u).tolist() for u in range(data.n_users)]


def _row(items: list[int], width: int) -> list[int]:
    tokens = [i + 1 for i in items][-width:] if width else []
    return [PAD] * (width - len(tokens)) + tokens


def test_histories_and_targets_by_hand():
    data = _handmade()
    users = np.arange(3)
    assert data.histories("train", users, 4).tolist() == [
        [0, 1, 2, 3],  # a b c
        [0, 0, 0, 3],  # c
        [5, 4, 3, 2],  # e d c b
    ]
    assert data.histories("test", users, 3).tolist() == [[2, 3, 4], [0, 3, 1], [3, 2, 1]]
    assert data.targets("validation").tolist() == [3, 0, 0]  # d, a, a
    assert data.targets("test").tolist() == [4, 1, 5]  # e, b, f


@pytest.mark.parametrize("width", [1, 3, 50])
def test_histories_match_python_on_synthetic(width):
    data = SequenceData(leave_one_out(make_synthetic(n_users=80, n_items=40, seed=3)))
    users = np.arange(data.n_users)
    for which, cut in (("train", -2), ("validation", -2), ("test", -1)):
        expected = [_row(seq[:cut], width) for seq in _sequences(data)]
        assert data.histories(which, users, width).tolist() == expected
    assert data.targets("test").tolist() == [seq[-1] for seq in _sequences(data)]
    assert data.targets("validation").tolist() == [seq[-2] for seq in _sequences(data)]


@pytest.mark.parametrize("width", [2, 5, 50])
def test_next_item_pairs_shift_the_training_part_by_one(width):
    data = SequenceData(leave_one_out(make_synthetic(n_users=80, n_items=40, seed=4)))
    inputs, positives = data.next_item_pairs(width)
    for user, seq in enumerate(_sequences(data)):
        part = seq[:-2]
        assert inputs[user].tolist() == _row(part[:-1], width)
        assert positives[user].tolist() == _row(part[1:], width)
    # Column by column, an input's next item is the positive in the same column.
    assert ((inputs == PAD) == (positives == PAD)).all()


def test_windows_cover_every_training_position():
    data = _handmade()
    users, history, future = data.windows(window=2, horizon=2)
    expected = []
    for user, seq in enumerate(_sequences(data)):
        part = seq[:-2]
        for i in range(1, len(part)):
            targets = [t + 1 for t in part[i : i + 2]]
            expected.append((user, _row(part[:i], 2), targets + [PAD] * (2 - len(targets))))
    got = [
        (u, h, f) for u, h, f in zip(users.tolist(), history.tolist(), future.tolist(), strict=True)
    ]
    assert got == expected


def test_negatives_avoid_the_training_part():
    data = SequenceData(leave_one_out(make_synthetic(n_users=60, n_items=30, seed=5)))
    rng = np.random.default_rng(0)
    users = np.arange(data.n_users)
    drawn = data.negatives(users, (7, 3), rng)
    assert drawn.shape == (60, 7, 3)
    assert drawn.min() >= 1 and drawn.max() <= data.n_items
    for user, seq in enumerate(_sequences(data)):
        assert not set((drawn[user] - 1).ravel().tolist()) & set(seq[:-2])
    keys = data.in_training(np.repeat(users, 2), np.tile([0, 1], data.n_users))
    reference = [item in set(seq[:-2]) for seq in _sequences(data) for item in (0, 1)]
    assert keys.tolist() == reference


def test_item_counts_are_training_counts():
    data = _handmade()
    # training parts: a b c | c | e d c b
    assert data.item_counts.tolist() == [1, 2, 3, 1, 1, 0]


def test_right_aligned_keeps_the_latest_items():
    items = np.array([5, 6, 7, 8, 9])
    out = right_aligned(items, np.array([0, 3, 2]), np.array([3, 5, 2]), 2)
    assert out.tolist() == [[7, 8], [9, 10], [0, 0]]


@pytest.mark.parametrize("seed", range(5))
def test_length_bucketed_batches_partition_the_users(seed):
    rng = np.random.default_rng(seed)
    users = rng.permutation(1000)[:700]
    lengths = rng.integers(1, 60, size=1000)
    batches = length_bucketed(users, lengths, 32, rng, pool=5)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == sorted(users.tolist())
    assert max(len(b) for b in batches) <= 32
    # Within a batch the lengths are sorted: bucketing is what saves the padding.
    assert all((np.diff(lengths[b]) >= 0).all() for b in batches)


def test_trim_padding_drops_only_all_padding_columns():
    tokens = np.array([[0, 0, 3, 4], [0, 0, 0, 5]])
    labels = np.array([[0, 0, 1, 2], [0, 0, 0, 3]])
    trimmed, same = trim_padding(tokens, labels)
    assert trimmed.tolist() == [[3, 4], [0, 5]]
    assert same.tolist() == [[1, 2], [0, 3]]
