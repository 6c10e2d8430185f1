"""Format detection, load_dataset options, k-core, and joining reviews onto sequences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from idprobe.data import FORMATS, Interactions, attach_reviews, detect_format, k_core, load_dataset
from idprobe.errors import ConfigError, DatasetError


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("p5_sequential_data.txt", "1 2 3\n", "p5"),
        ("user_sequence.txt", "1 2 3\n", "openp5"),
        ("seqs.txt", "A1 B2 B3\n", "openp5"),
        ("reviews.json.gz", b"", "amazon"),
        ("Beauty.inter", "user_id:token\titem_id:token\n", "recbole"),
        ("u.data", "1\t2\t3\t4\n", "movielens-100k"),
        ("ratings.dat", "1::2::3::4\n", "movielens-dat"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n", "movielens-csv"),
        ("log.csv", "user,item,rating\n", "csv"),
        ("log.tsv", "item\tuser\n", "csv"),
    ],
)
def test_detect_format_by_file(write, name, content, expected):
    assert detect_format(write(name, content)) == expected


def test_detect_format_by_directory(write):
    assert detect_format(write("a/p5_sequential_data.txt", "1 2\n").parent) == "p5"
    assert detect_format(write("b/u.data", "1\t2\t3\t4\n").parent) == "movielens-100k"


def test_ambiguous_detection_names_the_candidates(write):
    path = write("numbers.txt", "1 2 3\n4 5 6\n")
    with pytest.raises(
        ConfigError,
        match=r"format: expected one format, but .*numbers.txt could be one of 'p5', 'openp5'; pass format=NAME",
    ):
        detect_format(path)
    assert load_dataset(path, "openp5").n_users == 2
    both = write("mixed/u.data", "1\t2\t3\t4\n")
    write("mixed/ratings.dat", "1::2::3::4\n")
    with pytest.raises(ConfigError, match="could be one of 'movielens-100k', 'movielens-dat'"):
        load_dataset(both.parent)


def test_undetectable_and_unknown_format(write):
    path = write("notes.md", "hello\n")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        load_dataset(path)
    with pytest.raises(
        ConfigError, match=r"format: expected one of 'p5', .*'csv', found 'parquet'"
    ):
        load_dataset(path, "parquet")


def test_unknown_reader_option_is_named(write):
    path = write("user_sequence.txt", "a x y\n")
    with pytest.raises(
        ConfigError, match=r"format 'openp5' option: expected no options, found 'datamap'"
    ):
        load_dataset(path, datamap="x")
    path = write("p5_sequential_data.txt", "1 2 3\n")
    with pytest.raises(
        ConfigError, match=r"format 'p5' option: expected one of 'datamaps', found 'datamap'"
    ):
        load_dataset(path, datamap="x")
    with pytest.raises(
        ConfigError, match=r"dataset 'synthetic' option: expected one of 'n_users'.*found 'users'"
    ):
        load_dataset("synthetic", users=5)


def test_every_format_lists_its_options():
    assert FORMATS["csv"].options["user"] == "user"
    assert "datamaps" in FORMATS["p5"].options
    assert all(fmt.description and fmt.detection for fmt in FORMATS.values())


def test_k_core_against_plain_iteration():
    rng = np.random.default_rng(7)
    users = rng.integers(0, 60, 900).astype(str)
    items = rng.zipf(1.6, 900).astype(str)
    data = Interactions.from_events(users, items)
    for k in (2, 3, 5):
        filtered = k_core(data, k)
        # Plain reference: repeat removing users/items below k until stable.
        pairs = set(
            zip(
                data.users[data.user_of_interaction].tolist(),
                data.items[data.item_index].tolist(),
                strict=True,
            )
        )
        while True:
            ucount, icount = {}, {}
            for u, i in pairs:
                ucount[u] = ucount.get(u, 0) + 1
                icount[i] = icount.get(i, 0) + 1
            kept = {(u, i) for u, i in pairs if ucount[u] >= k and icount[i] >= k}
            if kept == pairs:
                break
            pairs = kept
        got = set(
            zip(
                filtered.users[filtered.user_of_interaction].tolist(),
                filtered.items[filtered.item_index].tolist(),
                strict=True,
            )
        )
        assert got == pairs
        assert filtered.lengths.min() >= k and filtered.item_counts.min() >= k


def test_k_core_errors():
    data = Interactions.from_events(["u", "u", "v"], ["a", "b", "a"])
    assert k_core(data, 1) is data
    with pytest.raises(
        DatasetError, match=r"k_core: k=50 \(items 50\) leaves no interaction of 'interactions'"
    ):
        k_core(data, 50)
    with pytest.raises(ConfigError, match="k_core: expected an integer >= 1, found 0"):
        k_core(data, 0)
    with pytest.raises(DatasetError, match="leaves no interaction"):
        load_dataset("synthetic", n_users=20, n_items=40, k_core=500)


def test_attach_reviews_joins_by_raw_ids(write):
    seq = write("p5/p5_sequential_data.txt", "1 1 2 3\n2 2 3\n")
    write(
        "p5/p5_datamaps.json",
        json.dumps({"id2user": {"1": "UA", "2": "UB"}, "id2item": {"1": "X", "2": "Y", "3": "Z"}}),
    )
    reviews = "\n".join(
        json.dumps(
            {"reviewerID": u, "asin": i, "overall": r, "unixReviewTime": t, "reviewText": f"{u}{i}"}
        )
        for u, i, r, t in [
            ("UB", "Z", 1, 30),
            ("UA", "X", 5, 10),
            ("UA", "Y", 4, 10),
            ("UA", "Z", 3, 20),
            ("UB", "Y", 2, 25),
            ("UC", "X", 5, 1),
        ]
    )
    review_file = write("reviews_Beauty_5.json", reviews + "\n")
    data = load_dataset(seq.parent, ratings_from=review_file)
    assert data.raw_sequences() == {"UA": ["X", "Y", "Z"], "UB": ["Y", "Z"]}
    assert data.ratings.tolist() == [5, 4, 3, 2, 1]
    assert data.timestamps.tolist() == [10, 10, 20, 25, 30]
    assert data.review_texts.tolist() == ["UAX", "UAY", "UAZ", "UBY", "UBZ"]
    assert data.rating_scale == (1.0, 5.0)


def test_attach_reviews_missing_pairs():
    base = Interactions.from_events(["u", "u", "v"], ["a", "b", "a"])
    reviews = Interactions.from_events(["u", "v"], ["a", "a"], ratings=[5, 4], timestamps=[1, 2])
    with pytest.raises(
        DatasetError,
        match=r"no review for 1 of 3 interactions .*user 'u', item 'b'.*missing='drop'",
    ):
        attach_reviews(base, reviews)
    dropped = attach_reviews(base, reviews, missing="drop")
    assert dropped.raw_sequences() == {"u": ["a"], "v": ["a"]}
    with pytest.raises(ConfigError, match="missing: expected one of 'error', 'drop'"):
        attach_reviews(base, reviews, missing="skip")
