"""The real datasets of ../shared/data load with their published statistics (skipped when absent)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from idprobe.data import dataset_stats, k_core, leave_one_out, load_dataset, random_split

pytestmark = pytest.mark.real_data


def test_beauty_p5_with_datamaps(beauty_dir):
    data = load_dataset(beauty_dir)
    assert (data.n_users, data.n_items, data.n_interactions) == (22_363, 12_101, 198_502)
    assert data.lengths.min() == 5 and data.lengths.max() == 204
    assert round(float(data.lengths.mean()), 2) == 8.88
    # Raw ids restored: reviewer ids and ASINs, not the file's integers.
    maps = json.loads((beauty_dir / "p5_datamaps.json").read_text())
    assert set(data.items.tolist()) == set(maps["item2id"])
    assert set(data.users.tolist()) == set(maps["user2id"])
    first_line = (beauty_dir / "p5_sequential_data.txt").read_text().splitlines()[0].split()
    user = maps["id2user"][first_line[0]]
    assert data.raw_sequences()[user] == [maps["id2item"][i] for i in first_line[1:]]
    assert data.users[0] == user, "dense users follow file order"
    assert k_core(data, 5) is data, "the P5 Beauty data is already 5-core"


def test_beauty_leave_one_out_is_leak_free(beauty_dir):
    data = load_dataset(beauty_dir)
    split = leave_one_out(data, max_his=20)
    assert len(split.train_samples) == 198_502 - 3 * 22_363
    assert split.training_view.n_interactions == 198_502 - 2 * 22_363
    assert split.cold_items.size == 33  # REFERENCE.md: 33 items appear in no training part
    view = split.training_view
    pairs = view.user_of_interaction.astype(np.int64) * data.n_items + view.item_index
    for targets in (split.validation.targets, split.test.targets):
        held_out = np.arange(data.n_users, dtype=np.int64) * data.n_items + targets
        assert not np.isin(held_out, pairs).any()


def test_beauty_join_ratings_through_datamaps(beauty_dir, tmp_path):
    """A review dump keyed by raw ids (as reviews_Beauty_5.json.gz is) joins onto the P5 split."""
    data = load_dataset(beauty_dir)
    rng = np.random.default_rng(0)
    ratings = rng.integers(1, 6, data.n_interactions)
    users = data.users[data.user_of_interaction]
    items = data.items[data.item_index]
    times = 1_300_000_000 + np.arange(data.n_interactions) * 60
    order = rng.permutation(data.n_interactions)  # a dump is not in sequence order
    lines = (
        json.dumps(
            {
                "reviewerID": users[k],
                "asin": items[k],
                "overall": float(ratings[k]),
                "unixReviewTime": int(times[k]),
            }
        )
        for k in order
    )
    dump = tmp_path / "reviews_Beauty_5.json.gz"
    with gzip.open(dump, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    joined = load_dataset(beauty_dir, ratings_from=dump)
    assert joined.n_interactions == data.n_interactions
    assert np.array_equal(joined.item_index, data.item_index)
    assert np.array_equal(joined.ratings, ratings.astype(np.float32))
    assert dataset_stats(joined).rating_histogram == {
        str(v): int((ratings == v).sum()) for v in range(1, 6)
    }


def test_movielens_100k(movielens_dir):
    data = load_dataset(movielens_dir)
    assert (data.n_users, data.n_items, data.n_interactions) == (943, 1_682, 100_000)
    stats = dataset_stats(data)
    assert stats.rating_histogram == {
        "1": 6_110,
        "2": 11_370,
        "3": 27_145,
        "4": 34_174,
        "5": 21_201,
    }
    assert stats.time_range == ["1997-09-20", "1998-04-22"]
    assert stats.duplicates_removed == 0
    assert data.item_info["title"][data.item_index_of("1")] == "Toy Story (1995)"
    user = data.user_index_of("1")
    assert (
        data.user_info["age"][user],
        data.user_info["gender"][user],
        data.user_info["occupation"][user],
    ) == (
        "24",
        "M",
        "technician",
    )
    # Latin-1 titles decode (u.item is not UTF-8).
    assert any("é" in t for t in data.item_info["title"].tolist())
    assert (np.diff(data.timestamps)[np.diff(data.user_of_interaction) == 0] >= 0).all()
    split = random_split(data, seed=0)
    assert len(split.test) == 10_000 and (split.training_view.item_counts > 0).all()


def test_all_beauty_2018_duplicates(all_beauty_file):
    first = load_dataset(all_beauty_file)
    assert first.n_interactions == 4_092 and first.duplicates_removed == 1_177
    assert (first.n_users, first.n_items) == (991, 85)
    assert first.has_text
    last = load_dataset(all_beauty_file, duplicates="last")
    assert last.n_interactions == 4_092
    assert not np.array_equal(first.ratings, last.ratings)
    with pytest.raises(
        Exception,
        match=r"All_Beauty_5.json.gz:\d+: field 'item': expected each \(user, item\) pair once",
    ):
        load_dataset(all_beauty_file, duplicates="error")
    # All 5,269 reviews are read: histogram before de-duplication equals the README's.
    with gzip.open(all_beauty_file, "rt") as handle:
        raw = [json.loads(line)["overall"] for line in handle]
    assert len(raw) == 5_269 and raw.count(5.0) == 4_649
    core = load_dataset(all_beauty_file, k_core=3)
    assert core.lengths.min() >= 3 and core.item_counts.min() >= 3
