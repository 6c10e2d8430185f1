"""Known answers and bad input for each built-in strategy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from idprobe.data import Interactions, leave_one_out, make_synthetic
from idprobe.errors import ConfigError, DatasetError
from idprobe.ids import get_strategy
from idprobe.ids.cid import fixed_length_digits
from idprobe.ids.stats import entity_id_stats


def _sequences(rows: dict[str, list[str]], ratings: bool = False) -> Interactions:
    users = [u for u, items in rows.items() for _ in items]
    items = [i for row in rows.values() for i in row]
    times = [t for row in rows.values() for t in range(len(row))]
    rated = [float(1 + (hash(i) % 5)) for i in items] if ratings else None
    return Interactions.from_events(users, items, timestamps=times, ratings=rated, name="hand-made")


HAND_MADE = {
    "u1": ["A", "B", "C", "D", "E"],  # training part A B C; D validation, E test
    "u2": ["C", "F", "G", "H"],  # training part C F
    "u3": ["X", "A", "F", "B", "D", "Y"],  # training part X A F B
}


@pytest.mark.parametrize(
    ("user_order", "expected"),
    [
        # first appearance over training parts; cold items (E G H Y) after, in catalog order
        ("file", "A B C F X D E G H Y"),
        ("short_first", "C F A B X D E G H Y"),  # u2 (2) < u1 (3) < u3 (4)
        ("long_first", "X A F B C D E G H Y"),
    ],
)
def test_sid_numbers_items_by_first_appearance_in_training(user_order: str, expected: str) -> None:
    view = leave_one_out(_sequences(HAND_MADE)).training_view
    assignment = get_strategy("sid", user_order=user_order).assign(view, 0)
    numbered = sorted(assignment.items, key=lambda raw: int(assignment.items[raw][0]))
    # D is a validation/test target but occurs in no training part either: cold.
    cold = set(assignment.details["cold"]["items"])
    assert cold == {"D", "E", "G", "H", "Y"}
    assert [assignment.items[raw][0] for raw in numbered] == [str(1001 + k) for k in range(10)]
    assert " ".join(numbered) == expected


def test_sid_numbers_heldout_only_items_after_all_training_items() -> None:
    # The P5 numbering scanned full sequences (A B C D E F G H X Y here), so u1's test item E
    # got max(history) + 1. Here every item seen only as a held-out target comes last.
    view = leave_one_out(_sequences(HAND_MADE)).training_view
    sid = {raw: int(t[0]) for raw, t in get_strategy("sid").assign(view, 0).items.items()}
    training = {"A", "B", "C", "F", "X"}
    assert max(sid[raw] for raw in training) < min(
        v for raw, v in sid.items() if raw not in training
    )


def test_rid_is_a_seeded_permutation() -> None:
    view = leave_one_out(make_synthetic(n_users=50, n_items=40, seed=2)).training_view
    a = get_strategy("rid").assign(view, 0)
    b = get_strategy("rid").assign(view, 1)
    numbers = sorted(int(t[0]) for t in a.items.values())
    assert numbers == list(range(1001, 1001 + view.n_items))
    assert a.items != b.items and a.new_tokens == ()


def test_iid_gives_one_new_token_per_entity() -> None:
    view = leave_one_out(make_synthetic(n_users=50, n_items=40, seed=2)).training_view
    items_only = get_strategy("iid").assign(view, 0)
    both = get_strategy("iid", index="both").assign(view, 0)
    assert len(items_only.new_tokens) == 40 and items_only.users is None
    assert len(both.new_tokens) == 90 and both.users is not None


def test_iid_can_start_from_metapath_vectors() -> None:
    view = leave_one_out(make_synthetic(n_users=50, n_items=40, seed=2)).training_view
    params = {"init": "metapath", "walks_per_node": 2, "walk_length": 8, "epochs": 1}
    assignment = get_strategy("iid", index="both", **params).assign(view, 0)
    embedding = get_strategy("meta", **{k: v for k, v in params.items() if k != "init"})._embedding(
        view, 0
    )
    np.testing.assert_array_equal(assignment.token_vectors["<I3>"], embedding.items[3])
    np.testing.assert_array_equal(assignment.token_vectors["<U7>"], embedding.users[7])
    assert len(assignment.token_vectors) == 90


def _two_blocks(size: int) -> Interactions:
    # Users of block b buy only items of block b: the co-occurrence graph has two components.
    rng = np.random.default_rng(0)
    rows = {}
    for block in range(2):
        items = [f"b{block}-{k:02d}" for k in range(size)]
        for u in range(40):
            rows[f"u{block}-{u}"] = list(rng.choice(items, size=6, replace=False))
    return _sequences(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cid_separates_disconnected_blocks_at_the_first_token(seed: int) -> None:
    view = leave_one_out(_two_blocks(20)).training_view
    assignment = get_strategy("cid", n_clusters=2, max_group_size=8).assign(view, seed)
    first = {raw: tokens[0] for raw, tokens in assignment.items.items()}
    connected = [raw for raw in view.items[view.item_counts > 0]]
    for block in ("b0", "b1"):
        mine = {first[raw] for raw in connected if raw.startswith(block)}
        other = {first[raw] for raw in connected if not raw.startswith(block)}
        assert mine and not mine & other
    assert entity_id_stats(assignment.items).prefix_violations == 0


def test_cid_cold_items_never_form_a_prefix() -> None:
    data = _sequences({**HAND_MADE, "u4": ["A", "C", "B", "Z"], "u5": ["B", "C", "A", "A2"]})
    view = leave_one_out(data).training_view
    assignment = get_strategy("cid", n_clusters=2, max_group_size=2).assign(view, 0)
    cold = assignment.details["cold"]["items"]
    assert cold and entity_id_stats(assignment.items).prefix_violations == 0
    cold_first = {assignment.items[raw][0] for raw in cold}
    warm_first = {t[0] for raw, t in assignment.items.items() if raw not in cold}
    assert len(cold_first) == 1 and not cold_first & warm_first


@pytest.mark.parametrize(("count", "base"), [(1, 5), (5, 5), (6, 5), (26, 5), (200, 7)])
def test_fixed_length_digits_are_distinct_and_equally_long(count: int, base: int) -> None:
    digits = fixed_length_digits(count, base)
    assert len(set(digits)) == count
    assert len({len(d) for d in digits}) == 1
    assert all(0 <= d < base for row in digits for d in row)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_meta_recovers_planted_groups(seed: int) -> None:
    data = make_synthetic(n_users=600, n_items=400, n_groups=8, seed=seed)
    view = leave_one_out(data).training_view
    assignment = get_strategy(
        "meta", n_clusters=8, walks_per_node=8, walk_length=32, epochs=3
    ).assign(view, seed)
    items = [assignment.items[raw][0] for raw in view.items]
    users = [assignment.users[raw][0] for raw in view.users]
    assert adjusted_rand_score(data.item_info["group"], items) >= 0.8
    assert adjusted_rand_score(data.user_info["group"], users) >= 0.8


QUICK = {"walks_per_node": 3, "walk_length": 12, "epochs": 1}


def test_meta_ids_follow_the_released_format() -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    assignment = get_strategy("meta", n_clusters=5, **QUICK).assign(view, 0)
    coarse = [t for t in assignment.new_tokens if t.startswith("<CT")]
    fine = [t for t in assignment.new_tokens if not t.startswith("<CT")]
    assert coarse == [f"<CT{g}>" for g in range(5)]
    assert fine == [f"<{1001 + r}>" for r in range(len(fine))]
    assert assignment.vector_tokens == tuple(coarse)
    assert assignment.vectors.shape == (5, 64)
    # Joint clustering: ranks run over users and items of a cluster together, so IDs are unique
    # across kinds too, and the largest cluster sets the number of rank tokens.
    all_ids = list(assignment.items.values()) + list(assignment.users.values())
    assert len(set(all_ids)) == len(all_ids)
    sizes = np.unique([ids[0] for ids in all_ids], return_counts=True)[1]
    assert len(fine) == sizes.max()


def test_meta_ranks_by_cosine_distance_to_the_centroid() -> None:
    from idprobe.ids.grouping import normalize_rows

    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    strategy = get_strategy("meta", n_clusters=4, **QUICK)
    assignment = strategy.assign(view, 0)
    embedding = strategy._embedding(view, 0)
    vectors = {raw: embedding.items[k] for k, raw in enumerate(view.items)}
    vectors |= {raw: embedding.users[k] for k, raw in enumerate(view.users)}
    ids = {**assignment.items, **assignment.users}
    for token, centroid in assignment.token_vectors.items():
        members = [raw for raw, t in ids.items() if t[0] == token]
        member_vectors = np.array([vectors[raw] for raw in members])
        np.testing.assert_allclose(centroid, member_vectors.mean(axis=0), rtol=1e-5, atol=1e-6)
        cosine = normalize_rows(member_vectors) @ (centroid / np.linalg.norm(centroid))
        by_rank = [cosine[members.index(raw)] for raw in sorted(members, key=lambda r: ids[r][1])]
        assert all(np.diff(by_rank) <= 1e-9)


@pytest.mark.parametrize("index", ["items", "users", "both"])
def test_meta_index_choice(index: str) -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    assignment = get_strategy("meta", n_clusters=5, index=index, **QUICK).assign(view, 0)
    assert (assignment.users is not None) == (index != "items")
    item_tokens = {t for ids in assignment.items.values() for t in ids}
    if index == "users":
        assert not item_tokens & set(assignment.new_tokens)  # items keep plain numbers
    else:
        assert item_tokens <= set(assignment.new_tokens)


def test_meta_separate_clustering_uses_disjoint_coarse_tokens() -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    assignment = get_strategy("meta", n_clusters=5, clustering="separate", **QUICK).assign(view, 0)
    item_coarse = {ids[0] for ids in assignment.items.values()}
    user_coarse = {ids[0] for ids in assignment.users.values()}
    assert len(item_coarse) == len(user_coarse) == 5 and not item_coarse & user_coarse


@pytest.mark.parametrize("grouping", ["spectral", "dbscan", "rqvae"])
def test_meta_grouping_alternatives(grouping: str) -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    params = {"n_clusters": 5, "grouping": grouping, "dbscan_eps": 0.3, **QUICK}
    assignment = get_strategy("meta", **params).assign(view, 0)
    assert assignment.details["groups"] >= 1
    if grouping == "dbscan" and assignment.details["noise_bucket"]:
        noise = f"<CT{assignment.details['groups']}>"
        assert noise in assignment.new_tokens and noise not in assignment.token_vectors


def test_meta_dbscan_with_everything_noise_still_gives_unique_ids() -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    params = {"grouping": "dbscan", "dbscan_eps": 1e-9, "dbscan_min_samples": 50, **QUICK}
    for clustering in ("joint", "separate"):
        assignment = get_strategy("meta", clustering=clustering, **params).assign(view, 0)
        assert assignment.details["groups"] == 0 and assignment.token_vectors == {}
        assert assignment.details["noise_bucket"] == 200
        assert {ids[0] for ids in assignment.items.values()} == {"<CT0>"}


def test_meta_places_cold_items_in_their_own_bucket() -> None:
    data = _sequences({**HAND_MADE, "u4": ["A", "C", "B", "Z"], "u5": ["B", "C", "A", "W"]})
    view = leave_one_out(data).training_view
    assignment = get_strategy("meta", n_clusters=2, **QUICK).assign(view, 0)
    cold = assignment.details["cold"]["items"]
    assert cold and assignment.details["cold_bucket"] == len(cold)
    bucket = {assignment.items[raw][0] for raw in cold}
    assert bucket == {f"<CT{assignment.details['groups']}>"}
    assert bucket.isdisjoint({t[0] for raw, t in assignment.items.items() if raw not in cold})


def test_meta_relations_follow_ratings_when_present() -> None:
    rated = leave_one_out(make_synthetic(n_users=60, n_items=40, seed=4)).training_view
    plain = leave_one_out(_sequences(HAND_MADE)).training_view
    meta = get_strategy("meta", n_clusters=2, **QUICK)
    assert "5 relations" in meta.assign(rated, 0).details["relation"]
    assert "one relation" in meta.assign(plain, 0).details["relation"]
    with pytest.raises(DatasetError, match="needs ratings"):
        get_strategy("meta", relation="rating", n_clusters=2, **QUICK).assign(plain, 0)


def test_meta_rejects_more_clusters_than_entities() -> None:
    view = leave_one_out(_sequences(HAND_MADE)).training_view
    with pytest.raises(
        ConfigError,
        match=r"meta.n_clusters: expected at most the number of entities it clusters \(\d+\), found 500",
    ):
        get_strategy("meta", n_clusters=500, **QUICK).assign(view, 0)


def test_rqvae_resolves_collisions_and_reports_the_unique_rate() -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    # Two codes of one level for 80 items: collisions are certain.
    assignment = get_strategy(
        "rqvae", levels=1, codebook_size=2, rq_epochs=3, input="svd", dimensions=8
    ).assign(view, 0)
    assert assignment.details["item_unique_rate"] < 1.0
    assert assignment.details["item_largest_collision"] >= 40
    values = list(assignment.items.values())
    assert len(set(values)) == len(values)
    assert {len(v) for v in values} == {2}  # code + counter, the same for every item
    counters = sorted(int(v[1][3:-1]) for v in values if v[0] == values[0][0])
    assert counters == list(range(len(counters)))


def test_rqvae_unique_rate_is_one_without_collisions() -> None:
    view = leave_one_out(make_synthetic(n_users=120, n_items=80, seed=4)).training_view
    assignment = get_strategy(
        "rqvae", levels=3, codebook_size=16, rq_epochs=20, input="svd", dimensions=16
    ).assign(view, 0)
    rate = assignment.details["item_unique_rate"]
    distinct = assignment.details["item_distinct_codes"]
    # The rate is the share of items whose codes no other item has.
    codes = [v[:-1] for v in assignment.items.values()]
    unique = sum(codes.count(c) == 1 for c in codes)
    assert rate == pytest.approx(unique / len(codes))
    assert distinct == len(set(codes))


def test_rqvae_rejects_a_codebook_larger_than_the_data() -> None:
    view = leave_one_out(_sequences(HAND_MADE)).training_view
    with pytest.raises(ConfigError, match=r"rqvae\.codebook_size"):
        get_strategy("rqvae", codebook_size=256, input="svd").assign(view, 0)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("meta", {"n_clusters": 0}, "meta.n_clusters: expected an integer >= 1, found 0"),
        (
            "meta",
            {"index": "all"},
            "meta.index: expected one of 'both', 'items', 'users', found 'all'",
        ),
        ("meta", {"epochs": 2.5}, "meta.epochs: expected an integer, found 2.5"),
        ("meta", {"dbscan_eps": 0}, "meta.dbscan_eps: expected a number in (0.0, 2.0], found 0.0"),
        ("sid", {"user_order": "random"}, "sid.user_order: expected one of"),
        ("cid", {"max_group_size": 1}, "cid.max_group_size: expected an integer >= 2, found 1"),
        ("rqvae", {"hidden_dims": [0]}, "rqvae.hidden_dims: expected a list of positive integers"),
        ("rqvae", {"levels": True}, "rqvae.levels: expected an integer, found True"),
        ("external", {}, "external.items: expected a value"),
    ],
)
def test_bad_parameters_are_named(name: str, params: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        get_strategy(name, **params)
    assert str(error.value).startswith(message)
