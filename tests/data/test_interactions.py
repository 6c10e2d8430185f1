"""Interactions: construction, ordering, duplicate policies, validation, selection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idprobe.data import Interactions, sorted_raw_ids
from idprobe.errors import ConfigError, DataFormatError, DatasetError

events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4"]),
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        st.integers(0, 5),  # timestamp with many ties
        st.integers(1, 5),  # rating
    ),
    min_size=1,
    max_size=40,
)


def reference_sequences(events, policy):
    """Plain-Python reference: stable sort by (timestamp, file position) per user, then dedup."""
    by_user: dict[str, list[tuple[int, int, str, int]]] = {}
    for position, (user, item, ts, rating) in enumerate(events):
        by_user.setdefault(user, []).append((ts, position, item, rating))
    result = {}
    for user, rows in by_user.items():
        rows.sort()
        if policy == "last":
            seen, kept = set(), []
            for row in reversed(rows):
                if row[2] not in seen:
                    seen.add(row[2])
                    kept.append(row)
            rows = sorted(kept)
        else:
            seen, kept = set(), []
            for row in rows:
                if row[2] not in seen:
                    seen.add(row[2])
                    kept.append(row)
            rows = kept
        result[user] = [(item, rating, ts) for ts, _, item, rating in rows]
    return result


@settings(max_examples=150, deadline=None)
@given(events=events_strategy, policy=st.sampled_from(["first", "last"]))
def test_from_events_matches_plain_reference(events, policy):
    users, items, ts, ratings = (list(col) for col in zip(*events, strict=True))
    data = Interactions.from_events(users, items, timestamps=ts, ratings=ratings, duplicates=policy)
    expected = reference_sequences(events, policy)
    # Users in order of first appearance in the input.
    assert data.users.tolist() == list(dict.fromkeys(users))
    for u, user in enumerate(data.users):
        seq = slice(data.offsets[u], data.offsets[u + 1])
        got = list(
            zip(
                data.items[data.item_index[seq]].tolist(),
                data.ratings[seq].astype(int).tolist(),
                data.timestamps[seq].tolist(),
                strict=True,
            )
        )
        assert got == expected[user]
    assert data.duplicates_removed == len(events) - sum(len(v) for v in expected.values())
    assert data.items.tolist() == sorted(set(items))


def test_without_timestamps_file_order_is_kept():
    data = Interactions.from_events(["u", "v", "u", "u"], ["z", "a", "b", "a"])
    assert data.raw_sequences() == {"u": ["z", "b", "a"], "v": ["a"]}


def test_numeric_raw_ids_sort_numerically():
    assert sorted_raw_ids(["10", "9", "100", "1"]).tolist() == ["1", "9", "10", "100"]
    assert sorted_raw_ids(["b", "10", "a"]).tolist() == ["10", "a", "b"]


def test_duplicate_error_names_line_and_first_occurrence():
    with pytest.raises(DataFormatError, match=r"f\.txt:7: field 'item'.*first seen at line 3"):
        Interactions.from_events(
            ["u", "u", "u"], ["a", "b", "a"], duplicates="error", source="f.txt", lines=[3, 5, 7]
        )


def test_unknown_duplicate_policy_lists_choices():
    with pytest.raises(
        ConfigError, match=r"duplicates: expected one of 'first', 'last', 'error', found 'keep'"
    ):
        Interactions.from_events(["u"], ["a"], duplicates="keep")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ratings": [1.0, float("nan")]}, "finite"),
        ({"ratings": [1.0, 7.0], "rating_scale": (1, 5)}, "outside the scale"),
        ({"timestamps": [5, 3]}, "timestamps decrease"),
        ({"offsets": [0, 0, 2], "users": ["u", "v"]}, "has no interactions"),
        ({"item_index": [0, 5]}, "item index outside"),
        ({"item_index": [1, 1]}, "more than once"),
        ({"users": ["u"], "offsets": [0, 1]}, "offsets"),
    ],
)
def test_constructor_validates(change, message):
    fields = {"users": ["u"], "items": ["a", "b"], "offsets": [0, 2], "item_index": [0, 1]}
    fields.update(change)
    with pytest.raises(DatasetError, match=message):
        Interactions(**fields)


def test_arrays_are_read_only():
    data = Interactions.from_events(["u", "u"], ["a", "b"], ratings=[1, 2])
    with pytest.raises(ValueError):
        data.item_index[0] = 1
    with pytest.raises(ValueError):
        data.ratings[0] = 3


def test_select_drops_empty_users_and_items_unless_catalog_kept():
    data = Interactions.from_events(
        ["u", "u", "v", "w"], ["a", "b", "c", "a"], ratings=[1, 2, 3, 4]
    )
    kept = data.select(np.array([True, False, False, True]))
    assert kept.raw_sequences() == {"u": ["a"], "w": ["a"]}
    assert kept.items.tolist() == ["a"]
    catalog = data.select(np.array([True, False, False, True]), keep_catalog=True)
    assert catalog.items.tolist() == ["a", "b", "c"]
    assert catalog.item_counts.tolist() == [2, 0, 0]
    assert catalog.ratings.tolist() == [1, 4]


def test_lookups_and_frame():
    data = Interactions.from_events(["u", "v"], ["b", "a"], ratings=[4, 5], timestamps=[1, 2])
    assert data.user_index_of("v") == 1
    assert data.item_index_of("b") == 1
    with pytest.raises(KeyError, match="unknown item id 'zz'"):
        data.item_index_of("zz")
    frame = data.to_frame()
    assert frame.columns.tolist() == [
        "user",
        "item",
        "user_index",
        "item_index",
        "rating",
        "timestamp",
    ]
    assert frame["item"].tolist() == ["b", "a"]
    assert "2 users, 2 items, 2 interactions; ratings, timestamps" in repr(data)
