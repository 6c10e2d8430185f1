"""Leave-one-out and random splits; the training view never holds a held-out interaction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idprobe.data import Interactions, leave_one_out, make_synthetic, random_split
from idprobe.errors import ConfigError, DatasetError


def sequences_data(seqs: dict[str, list[str]]) -> Interactions:
    users = [u for u, items in seqs.items() for _ in items]
    items = [i for seq in seqs.values() for i in seq]
    return Interactions.from_events(users, items)


def test_leave_one_out_by_hand():
    data = sequences_data({"u1": ["a", "b", "c", "d", "e"], "u2": ["c", "a", "f"]})
    split = leave_one_out(data, max_his=2)
    raw = data.items
    assert split.training_view.raw_sequences() == {"u1": ["a", "b", "c"], "u2": ["c"]}
    samples = split.train_samples
    got = [
        (data.users[u], raw[samples.history(k)].tolist(), raw[t])
        for k, (u, t) in enumerate(zip(samples.users, samples.targets, strict=True))
    ]
    assert got == [("u1", ["a"], "b"), ("u1", ["a", "b"], "c")]
    assert raw[split.validation.targets].tolist() == ["d", "a"]
    assert [raw[split.validation.history(k)].tolist() for k in range(2)] == [["b", "c"], ["c"]]
    assert raw[split.test.targets].tolist() == ["e", "f"]
    assert [raw[split.test.history(k)].tolist() for k in range(2)] == [["c", "d"], ["c", "a"]]
    # f appears only as u2's test target: a cold item; so does e (u1's test target), d, a? a is trained.
    assert sorted(raw[split.cold_items].tolist()) == ["d", "e", "f"]
    assert split.cold_test_targets == 2
    matrix = split.test.history_matrix()
    assert (raw[matrix[0]] == ["c", "d"]).all()


def test_history_matrix_right_aligned_with_padding():
    data = sequences_data({"u": ["a", "b", "c", "d", "e", "f"], "v": ["x", "y", "z"]})
    split = leave_one_out(data, max_his=3)
    matrix = split.test.history_matrix(pad=-1)
    assert matrix.shape == (2, 3)
    assert data.items[matrix[0]].tolist() == ["c", "d", "e"]
    assert matrix[1, 0] == -1 and data.items[matrix[1, 1:]].tolist() == ["x", "y"]


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(3, 30), min_size=1, max_size=25),
    max_his=st.integers(1, 12),
    seed=st.integers(0, 10_000),
)
def test_leave_one_out_against_plain_reference(lengths, max_his, seed):
    rng = np.random.default_rng(seed)
    seqs = {
        f"u{k}": [f"i{j}" for j in rng.choice(60, size=n, replace=False)]
        for k, n in enumerate(lengths)
    }
    data = sequences_data(seqs)
    split = leave_one_out(data, max_his=max_his)
    raw = data.items
    expected = []
    for user, seq in seqs.items():
        train = seq[:-2]
        expected += [(user, tuple(train[:i][-max_his:]), train[i]) for i in range(1, len(train))]
    samples = split.train_samples
    got = [
        (data.users[u], tuple(raw[samples.history(k)].tolist()), raw[t])
        for k, (u, t) in enumerate(zip(samples.users, samples.targets, strict=True))
    ]
    assert got == expected
    assert len(samples) == sum(lengths) - 3 * len(lengths)
    for k, seq in enumerate(seqs.values()):
        assert raw[split.validation.history(k)].tolist() == seq[:-2][-max_his:]
        assert raw[split.test.history(k)].tolist() == seq[:-1][-max_his:]
        assert raw[split.validation.targets[k]] == seq[-2]
        assert raw[split.test.targets[k]] == seq[-1]
    # The training view holds no (user, validation/test target) pair and keeps the catalog.
    view = split.training_view
    assert view.n_items == data.n_items
    pairs = set(zip(view.user_of_interaction.tolist(), view.item_index.tolist(), strict=True))
    for k in range(data.n_users):
        assert (k, int(split.validation.targets[k])) not in pairs
        assert (k, int(split.test.targets[k])) not in pairs
    assert view.n_interactions == sum(lengths) - 2 * len(lengths)


def test_training_view_contains_no_held_out_interaction_on_synthetic():
    data = make_synthetic(n_users=200, n_items=120, seed=3)
    split = leave_one_out(data)
    view = split.training_view
    held_out = {(u, int(t)) for u, t in enumerate(split.validation.targets)} | {
        (u, int(t)) for u, t in enumerate(split.test.targets)
    }
    train_pairs = set(zip(view.user_of_interaction.tolist(), view.item_index.tolist(), strict=True))
    assert not held_out & train_pairs
    # Every training interaction precedes the user's held-out ones in time.
    last_train_time = view.timestamps[view.offsets[1:] - 1]
    assert (last_train_time <= data.timestamps[data.offsets[1:] - 2]).all()


def test_leave_one_out_rejects_short_users_and_bad_max_his():
    data = sequences_data({"u": ["a", "b", "c"], "v": ["a", "b"]})
    with pytest.raises(
        DatasetError,
        match=r"at least 3 interactions per user; 1 users have fewer \(e.g. user 'v' has 2\)",
    ):
        leave_one_out(data)
    with pytest.raises(ConfigError, match="max_his: expected an integer >= 1, found 0"):
        leave_one_out(sequences_data({"u": ["a", "b", "c"]}), max_his=0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_split_sizes_coverage_and_determinism(seed):
    data = make_synthetic(n_users=150, n_items=100, seed=seed)
    split = random_split(data, seed=seed)
    n = data.n_interactions
    assert len(split.validation) == round(0.1 * n) and len(split.test) == round(0.1 * n)
    assert len(split.train) + len(split.validation) + len(split.test) == n
    everything = np.concatenate((split.train, split.validation, split.test))
    assert np.unique(everything).size == n
    view = split.training_view
    assert view.n_users == data.n_users
    assert (view.item_counts > 0).all(), "every item has a training interaction"
    again = random_split(data, seed=seed)
    assert np.array_equal(again.test, split.test)
    other = random_split(data, seed=seed + 100)
    assert not np.array_equal(other.test, split.test)


def test_random_split_errors():
    data = sequences_data({"u": ["a", "b", "c"], "v": ["d", "e"]})
    with pytest.raises(ConfigError, match="fractions"):
        random_split(data, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(DatasetError, match="remain after keeping one per user and item"):
        random_split(data, fractions=(0.0, 0.5, 0.5))
