"""META ID's interaction graph and meta-path walks, against plain-Python references."""

from __future__ import annotations

import itertools
import signal
from collections import Counter, defaultdict

import numpy as np
import pytest
from scipy.stats import chisquare

from idprobe.data import Interactions, leave_one_out, make_synthetic
from idprobe.ids.graph import InteractionGraph, interaction_graph
from idprobe.ids.walks import metapath_walks, python_walks, walk_starts

SEEDS = [0, 1, 2, 3]

# ---------------------------------------------------------------------- helpers


def events_of(data: Interactions) -> list[tuple[str, str, float | None]]:
    """(raw user, raw item, rating) of every interaction, read back through the public API."""
    out = []
    for u, raw_user in enumerate(data.users.tolist()):
        lo, hi = int(data.offsets[u]), int(data.offsets[u + 1])
        for k in range(lo, hi):
            rating = None if data.ratings is None else float(data.ratings[k])
            out.append((raw_user, data.items[data.item_index[k]], rating))
    return out


def random_events(seed: int, *, with_ratings: bool) -> Interactions:
    """Random users x items with distinct items per user, shuffled source order, optional ratings."""
    rng = np.random.default_rng(seed)
    n_users, n_items = int(rng.integers(8, 20)), int(rng.integers(6, 25))
    users, items = [], []
    for u in range(n_users):
        for i in rng.choice(n_items, size=int(rng.integers(1, n_items + 1)), replace=False):
            users.append(f"user{u}")
            items.append(f"item{int(i)}")
    order = rng.permutation(len(users))
    users = [users[k] for k in order]
    items = [items[k] for k in order]
    ratings = rng.choice([1.0, 2.5, 4.0, 5.0], size=len(users)) if with_ratings else None
    return Interactions.from_events(users, items, ratings=ratings)


def edges_of(graph: InteractionGraph) -> list[tuple[int, int, int]]:
    """(source, target, relation) of every edge, in storage order."""
    out = []
    for v in range(graph.n_nodes):
        for e in range(int(graph.indptr[v]), int(graph.indptr[v + 1])):
            out.append((v, int(graph.neighbors[e]), int(graph.relations[e])))
    return out


def rating_of_pair(data: Interactions) -> dict[tuple[int, int], float]:
    """{(user node, item node): rating} from the raw events (item node = n_users + item index)."""
    m = data.n_users
    return {(data.user_index_of(u), m + data.item_index_of(i)): r for u, i, r in events_of(data)}


def with_cold_items(seed: int, n_cold: int = 3) -> tuple[Interactions, list[str]]:
    """Synthetic data plus ``n_cold`` new items, each the *last* item of one user: after
    leave-one-out they are in the catalog of the training view but have no interaction."""
    data = make_synthetic(n_users=30, n_items=40, seed=seed)
    users, items, ratings, times = [], [], [], []
    for u, raw_user in enumerate(data.users.tolist()):
        lo, hi = int(data.offsets[u]), int(data.offsets[u + 1])
        for k in range(lo, hi):
            users.append(raw_user)
            items.append(data.items[data.item_index[k]])
            ratings.append(float(data.ratings[k]))
            times.append(int(data.timestamps[k]))
        if u < n_cold:
            users.append(raw_user)
            items.append(f"ZCOLD{u}")
            ratings.append(3.0)
            times.append(times[-1] + 1)
    full = Interactions.from_events(users, items, ratings=ratings, timestamps=times)
    return full, [f"ZCOLD{u}" for u in range(n_cold)]


def check_walk_structure(
    walks: np.ndarray, graph: InteractionGraph, ratings: dict[tuple[int, int], float] | None
) -> None:
    """Every hop is an edge; users and items alternate; every hop keeps the first hop's rating."""
    m = graph.n_users
    edge_set = {(s, t) for s, t, _ in edges_of(graph)}
    for walk in walks.tolist():
        is_user = [v < m for v in walk]
        assert all(a != b for a, b in itertools.pairwise(is_user))
        pairs = list(itertools.pairwise(walk))
        assert all(p in edge_set for p in pairs)
        if ratings is not None and pairs:
            hop_ratings = {ratings[(min(a, b), max(a, b))] for a, b in pairs}
            assert len(hop_ratings) == 1, walk


# ---------------------------------------------------------------------- graph


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("source", ["synthetic", "random"])
def test_graph_edges_are_the_interactions_in_both_directions(seed: int, source: str) -> None:
    data = (
        make_synthetic(n_users=25, n_items=30, seed=seed)
        if source == "synthetic"
        else random_events(seed, with_ratings=True)
    )
    graph = interaction_graph(data, use_ratings=True)
    m, n = data.n_users, data.n_items
    assert (graph.n_users, graph.n_items, graph.n_nodes) == (m, n, m + n)
    assert graph.indptr.shape == (m + n + 1,) and graph.indptr[0] == 0
    assert graph.indptr[-1] == 2 * data.n_interactions == len(graph.neighbors)
    assert len(graph.relations) == len(graph.neighbors)

    expected = set(rating_of_pair(data))
    edges = edges_of(graph)
    forward = {(s, t) for s, t, _ in edges if s < m}
    backward = {(t, s) for s, t, _ in edges if s >= m}
    assert len(edges) == len({(s, t) for s, t, _ in edges})  # no parallel edges
    assert forward == expected
    assert backward == expected  # u -> i iff i -> u
    assert all((s < m) != (t < m) for s, t, _ in edges)  # bipartite

    # Degrees: a user's number of interactions, an item's count (reference: raw events).
    user_degree = Counter(data.user_index_of(u) for u, _, _ in events_of(data))
    item_degree = Counter(data.item_index_of(i) for _, i, _ in events_of(data))
    assert graph.degrees[:m].tolist() == [user_degree[u] for u in range(m)]
    assert graph.degrees[m:].tolist() == [item_degree[i] for i in range(n)]
    np.testing.assert_array_equal(graph.degrees[m:], data.item_counts)
    np.testing.assert_array_equal(graph.degrees[:m], data.lengths)


@pytest.mark.parametrize("seed", SEEDS)
def test_graph_relations_are_the_ratings_and_sorted_within_each_node(seed: int) -> None:
    data = random_events(seed, with_ratings=True)
    graph = interaction_graph(data, use_ratings=True)
    m = data.n_users
    ratings = rating_of_pair(data)
    assert graph.relation_values == tuple(sorted(set(ratings.values())))
    assert graph.relations.min() == 0
    assert graph.relations.max() == len(graph.relation_values) - 1
    for s, t, r in edges_of(graph):
        pair = (s, t) if s < m else (t, s)
        assert graph.relation_values[r] == ratings[pair]
    for v in range(graph.n_nodes):
        lo, hi = int(graph.indptr[v]), int(graph.indptr[v + 1])
        keys = list(
            zip(graph.relations[lo:hi].tolist(), graph.neighbors[lo:hi].tolist(), strict=True)
        )
        assert keys == sorted(keys)  # relation non-decreasing, then neighbour ascending
        assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("seed", SEEDS)
def test_graph_without_ratings_has_one_relation(seed: int) -> None:
    rated = make_synthetic(n_users=20, n_items=30, seed=seed)
    ignored = interaction_graph(rated, use_ratings=False)
    assert ignored.relation_values == ()
    assert (ignored.relations == 0).all()
    with_ratings = interaction_graph(rated, use_ratings=True)
    assert len(with_ratings.relation_values) > 1
    # Same edges either way; only the relation labels (and so the order within a node) differ.
    assert {(s, t) for s, t, _ in edges_of(ignored)} == {
        (s, t) for s, t, _ in edges_of(with_ratings)
    }
    np.testing.assert_array_equal(ignored.indptr, with_ratings.indptr)
    for v in range(ignored.n_nodes):
        lo, hi = ignored.indptr[v], ignored.indptr[v + 1]
        assert (np.diff(ignored.neighbors[lo:hi]) > 0).all()

    unrated = random_events(seed, with_ratings=False)
    assert unrated.ratings is None
    for use_ratings in (True, False):
        graph = interaction_graph(unrated, use_ratings=use_ratings)
        assert graph.relation_values == ()
        assert (graph.relations == 0).all()
        assert {(s, t) for s, t, _ in edges_of(graph) if s < unrated.n_users} == set(
            rating_of_pair(unrated)
        )


def test_graph_of_training_view_keeps_cold_items_as_isolated_nodes() -> None:
    full, cold_raw = with_cold_items(0)
    view = leave_one_out(full).training_view
    graph = interaction_graph(view, use_ratings=True)
    m = view.n_users
    assert graph.n_items == full.n_items
    cold_nodes = [m + view.item_index_of(raw) for raw in cold_raw]
    assert (graph.degrees[cold_nodes] == 0).all()
    np.testing.assert_array_equal(graph.degrees[m:], view.item_counts)
    assert set(graph.neighbors.tolist()).isdisjoint(cold_nodes)


def test_graph_hand_made_example() -> None:
    data = Interactions.from_events(
        ["a", "a", "b", "b", "b", "c"],
        ["y", "x", "x", "z", "y", "z"],
        ratings=[5, 1, 5, 5, 1, 1],
    )
    graph = interaction_graph(data, use_ratings=True)
    # users a=0 b=1 c=2; items x=3 y=4 z=5; relation 0 = rating 1, relation 1 = rating 5
    assert graph.relation_values == (1.0, 5.0)
    assert graph.indptr.tolist() == [0, 2, 5, 6, 8, 10, 12]
    assert graph.neighbors.tolist() == [3, 4, 4, 3, 5, 5, 0, 1, 1, 0, 2, 1]
    assert graph.relations.tolist() == [0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1]


# ---------------------------------------------------------------------- walks: exactness


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("use_ratings", [True, False])
@pytest.mark.parametrize(("walks_per_node", "walk_length"), [(1, 2), (2, 5), (3, 17)])
def test_numba_walks_equal_python_reference(
    seed: int, use_ratings: bool, walks_per_node: int, walk_length: int
) -> None:
    data = make_synthetic(n_users=20, n_items=30, seed=seed)
    graph = interaction_graph(data, use_ratings)
    walks = metapath_walks(graph, walks_per_node, walk_length, seed=seed + 11)
    reference = python_walks(graph, walks_per_node, walk_length, seed=seed + 11)
    assert walks.dtype == np.int32
    assert walks.shape == (walks_per_node * int((graph.degrees > 0).sum()), walk_length)
    np.testing.assert_array_equal(walks, reference)


@pytest.mark.parametrize("seed", SEEDS)
def test_numba_walks_equal_python_reference_on_unrated_data_and_large_seed(seed: int) -> None:
    graph = interaction_graph(random_events(seed, with_ratings=False), use_ratings=True)
    big = 2**62 + seed  # the seed is multiplied modulo 2**64 in both walkers
    np.testing.assert_array_equal(metapath_walks(graph, 2, 9, big), python_walks(graph, 2, 9, big))


def test_numba_walk_of_length_one_is_the_start_node() -> None:
    graph = interaction_graph(make_synthetic(n_users=10, n_items=30, seed=0), True)
    walks = metapath_walks(graph, 2, 1, seed=4)
    np.testing.assert_array_equal(walks[:, 0], walk_starts(graph, 2, 4))


def test_python_walk_of_length_one_matches_numba() -> None:
    graph = interaction_graph(make_synthetic(n_users=10, n_items=30, seed=0), True)

    # An earlier python_walks never returned for walk_length=1: fail fast instead of hanging.
    def timeout(signum, frame):  # pragma: no cover - only on the bug
        raise TimeoutError("python_walks(walk_length=1) did not return")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, 5.0)
    try:
        reference = python_walks(graph, 1, 1, seed=4)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    np.testing.assert_array_equal(metapath_walks(graph, 1, 1, seed=4), reference)


# ---------------------------------------------------------------------- walks: structure


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("use_ratings", [True, False])
def test_walks_follow_edges_alternate_and_keep_one_relation(seed: int, use_ratings: bool) -> None:
    data = make_synthetic(n_users=25, n_items=30, seed=seed)
    graph = interaction_graph(data, use_ratings)
    walks = metapath_walks(graph, 3, 12, seed=seed)
    check_walk_structure(walks, graph, rating_of_pair(data) if use_ratings else None)
    if use_ratings:
        # The relation code of every hop equals that of the first hop (read from the graph).
        relation = {(s, t): r for s, t, r in edges_of(graph)}
        for walk in walks.tolist():
            hops = {relation[(a, b)] for a, b in itertools.pairwise(walk)}
            assert len(hops) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_rated_walks_mix_relations_unrated_walks_cross_ratings(seed: int) -> None:
    """Sanity of the relation check above: with ratings ignored, walks do change rating."""
    data = make_synthetic(n_users=25, n_items=30, seed=seed)
    ratings = rating_of_pair(data)
    walks = metapath_walks(interaction_graph(data, False), 3, 12, seed=seed).tolist()
    mixed = sum(
        len({ratings[(min(a, b), max(a, b))] for a, b in itertools.pairwise(w)}) > 1 for w in walks
    )
    assert mixed > len(walks) // 2
    # and rated walks start with every relation somewhere
    graph = interaction_graph(data, True)
    relation = {(s, t): r for s, t, r in edges_of(graph)}
    rated = metapath_walks(graph, 3, 12, seed=seed).tolist()
    assert {relation[(w[0], w[1])] for w in rated} == set(range(len(graph.relation_values)))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("walks_per_node", [1, 4])
def test_every_node_with_an_edge_starts_walks_per_node_walks(
    seed: int, walks_per_node: int
) -> None:
    full, cold_raw = with_cold_items(seed)
    view = leave_one_out(full).training_view
    graph = interaction_graph(view, use_ratings=True)
    m = view.n_users
    cold_nodes = {m + view.item_index_of(raw) for raw in cold_raw}
    isolated = set(np.flatnonzero(graph.degrees == 0).tolist())
    assert cold_nodes <= isolated
    assert isolated == {m + int(i) for i in np.flatnonzero(view.item_counts == 0)}

    walks = metapath_walks(graph, walks_per_node, 7, seed=seed)
    starts = Counter(walks[:, 0].tolist())
    active = [v for v in range(graph.n_nodes) if v not in isolated]
    assert starts == dict.fromkeys(active, walks_per_node)
    assert isolated.isdisjoint(walks.ravel().tolist())
    # Each round of starts is a permutation of the active nodes (DeepWalk rounds).
    rounds = walks[:, 0].reshape(walks_per_node, len(active))
    for row in rounds:
        assert sorted(row.tolist()) == active
    check_walk_structure(walks, graph, rating_of_pair(view))
    np.testing.assert_array_equal(walks, python_walks(graph, walks_per_node, 7, seed=seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_same_walks_other_seed_other_walks(seed: int) -> None:
    graph = interaction_graph(make_synthetic(n_users=20, n_items=30, seed=seed), True)
    first = metapath_walks(graph, 2, 10, seed=seed)
    np.testing.assert_array_equal(first, metapath_walks(graph, 2, 10, seed=seed))
    other = metapath_walks(graph, 2, 10, seed=seed + 1000)
    assert first.shape == other.shape
    assert not np.array_equal(first, other)
    assert not np.array_equal(first[:, 1:], other[:, 1:])


# ---------------------------------------------------------------------- walks: statistics


@pytest.mark.parametrize("use_ratings", [True, False])
def test_first_hop_is_uniform_over_the_start_nodes_edges(use_ratings: bool) -> None:
    data = make_synthetic(n_users=30, n_items=40, seed=5)
    graph = interaction_graph(data, use_ratings)
    walks = metapath_walks(graph, 3000, 2, seed=123)
    m = graph.n_users
    # the busiest user and the busiest item
    for start in (int(np.argmax(graph.degrees[:m])), m + int(np.argmax(graph.degrees[m:]))):
        neighbours = graph.neighbors[graph.indptr[start] : graph.indptr[start + 1]].tolist()
        assert len(neighbours) >= 5
        hops = walks[walks[:, 0] == start, 1]
        assert len(hops) == 3000
        counts = Counter(hops.tolist())
        assert set(counts) <= set(neighbours)
        observed = [counts[v] for v in neighbours]
        assert chisquare(observed).pvalue > 1e-4


def test_hop_from_an_item_is_uniform_over_users_with_the_same_rating() -> None:
    data = make_synthetic(n_users=40, n_items=30, seed=7)
    graph = interaction_graph(data, use_ratings=True)
    ratings = rating_of_pair(data)
    m = graph.n_users
    raters: dict[tuple[int, float], list[int]] = defaultdict(list)
    for (user, item), rating in ratings.items():
        raters[(item, rating)].append(user)
    walks = metapath_walks(graph, 300, 8, seed=99).tolist()
    # Markov property: given (item, walk rating), each next hop is a fresh uniform draw.
    transitions: dict[tuple[int, float], Counter] = defaultdict(Counter)
    for walk in walks:
        rating = ratings[(min(walk[0], walk[1]), max(walk[0], walk[1]))]
        for a, b in itertools.pairwise(walk):
            if a >= m:
                transitions[(a, rating)][b] += 1
    # every transition goes to a user who gave that item the walk's rating
    for key, counts in transitions.items():
        assert set(counts) <= set(raters[key])
    tested = 0
    for key in sorted(raters, key=lambda k: -len(raters[k]))[:4]:
        users = sorted(raters[key])
        assert len(users) >= 3
        observed = [transitions[key][u] for u in users]
        assert sum(observed) >= 50 * len(users)
        assert chisquare(observed).pvalue > 1e-4
        tested += 1
    assert tested == 4
