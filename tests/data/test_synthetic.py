"""The synthetic default dataset: deterministic, sized by its arguments, with planted structure."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from idprobe.data import dataset_stats, leave_one_out, load_dataset, make_synthetic
from idprobe.errors import ConfigError


def test_deterministic_by_seed():
    a, b, c = make_synthetic(seed=5), make_synthetic(seed=5), make_synthetic(seed=6)
    assert np.array_equal(a.item_index, b.item_index) and np.array_equal(a.ratings, b.ratings)
    assert (
        np.array_equal(a.timestamps, b.timestamps)
        and a.review_texts.tolist() == b.review_texts.tolist()
    )
    assert not np.array_equal(a.item_index[:200], c.item_index[:200])


@pytest.mark.parametrize(
    ("n_users", "n_items", "mean_length"), [(50, 40, 6.0), (300, 200, 10.0), (1000, 500, 20.0)]
)
def test_sized_by_arguments(n_users, n_items, mean_length):
    data = make_synthetic(n_users=n_users, n_items=n_items, mean_length=mean_length, seed=1)
    assert data.n_users == n_users
    assert data.n_items <= n_items and data.n_items >= 0.9 * n_items
    assert data.lengths.min() >= 5
    assert abs(data.lengths.mean() - mean_length) < 0.25 * mean_length
    assert data.has_ratings and data.has_timestamps and data.has_text
    assert set(np.unique(data.ratings)) <= {1, 2, 3, 4, 5}
    leave_one_out(data)  # every user long enough


def test_planted_groups_show_in_ratings_and_cooccurrence():
    data = make_synthetic(n_users=800, n_items=300, n_groups=6, seed=2)
    user_group = data.user_info["group"].astype(int)
    item_group = data.item_info["group"].astype(int)
    same = item_group[data.item_index] == user_group[data.user_of_interaction]
    assert same.mean() > 0.7, "most interactions are within the user's group"
    assert data.ratings[same].mean() > data.ratings[~same].mean() + 1.5
    # Items' user-profile vectors cluster back into the planted groups.
    matrix = np.zeros((data.n_items, data.n_users))
    matrix[data.item_index, data.user_of_interaction] = 1.0
    profile = matrix @ np.eye(6)[user_group]
    profile /= np.linalg.norm(profile, axis=1, keepdims=True) + 1e-12
    labels = KMeans(6, n_init=10, random_state=0).fit_predict(profile)
    assert adjusted_rand_score(item_group, labels) > 0.8


def test_sequential_successor_structure():
    strong = make_synthetic(n_users=400, n_items=200, sequential_strength=0.9, seed=4)
    none = make_synthetic(n_users=400, n_items=200, sequential_strength=0.0, seed=4)

    def top_transition_share(data):
        first = np.ones(data.n_interactions, dtype=bool)
        first[data.offsets[:-1]] = False
        prev, nxt = data.item_index[np.flatnonzero(first) - 1], data.item_index[first]
        counts = np.zeros((data.n_items, data.n_items))
        np.add.at(counts, (prev, nxt), 1)
        return counts.max(axis=1).sum() / counts.sum()

    assert top_transition_share(strong) > 0.6 > 0.3 > top_transition_share(none)


def test_default_dataset_and_stats():
    data = load_dataset("synthetic")
    stats = dataset_stats(data)
    assert stats.users == 600 and stats.cold_items is not None
    assert sum(stats.rating_histogram.values()) == stats.interactions
    assert "synthetic(n_users=600" in data.source


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_users": 0}, "n_users: expected an integer >= 1, found 0"),
        ({"n_items": 10, "n_groups": 8}, "n_items: expected an integer >= 16, found 10"),
        ({"affinity": 1.5}, r"affinity: expected a number in \[0.0, 1.0\], found 1.5"),
        ({"min_length": 2}, "min_length: expected an integer in"),
        ({"seed": -1}, "seed: expected an integer >= 0"),
        ({"n_users": 2.5}, "n_users: expected an integer"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_synthetic(**kwargs)


def test_stats_render_as_text_and_escaped_html():
    from idprobe.data import Interactions

    data = Interactions.from_events(["u"] * 3, ["a", "b", "c"], ratings=[1, 2, 2])
    stats = dataset_stats(data)
    assert "ratings" in stats.to_text() and "1: 1, 2: 2" in stats.to_text()
    evil = dataset_stats(
        Interactions.from_events(["u"] * 3, ["a", "b", "c"], name="<script>x</script>")
    )
    assert "<script>" not in evil._repr_html_() and "&lt;script&gt;" in evil._repr_html_()
