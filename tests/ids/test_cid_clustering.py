"""CID's building blocks: the item co-occurrence matrix and the recursive spectral tree."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

import idprobe.ids.spectral_tree as spectral_tree_module
from idprobe.data import Interactions, leave_one_out
from idprobe.ids.cooccurrence import cooccurrence
from idprobe.ids.spectral_tree import spectral_tree

# ---------------------------------------------------------------------- helpers


def random_interactions(seed: int, n_users: int, n_items: int, max_length: int) -> Interactions:
    """Users with 1..max_length distinct random items; some catalog items may stay unused."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length + 1, size=n_users)
    item_index = np.concatenate(
        [rng.choice(n_items, size=length, replace=False) for length in lengths]
    )
    return Interactions(
        users=[f"u{u}" for u in range(n_users)],
        items=[f"i{i:03d}" for i in range(n_items)],
        offsets=np.concatenate(([0], np.cumsum(lengths))),
        item_index=item_index,
    )


def pair_counts(data: Interactions) -> np.ndarray:
    """Plain-Python reference: +1 for each unordered pair of items within one user's sequence."""
    counts = np.zeros((data.n_items, data.n_items))
    for sequence in data.sequences():
        for i, j in itertools.combinations(sorted(set(sequence.tolist())), 2):
            counts[i, j] += 1
            counts[j, i] += 1
    return counts


def block_graph(sizes: list[int], seed: int, *, noise: float = 0.0) -> sp.csr_array:
    """Dense random blocks on the diagonal (shuffled node order) plus sparse noise between them."""
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    block = np.repeat(np.arange(len(sizes)), sizes)
    weights = rng.uniform(1.0, 3.0, size=(n, n))
    dense = np.where(block[:, None] == block[None, :], weights, 0.0)
    if noise:
        dense += (rng.random((n, n)) < noise) * 0.1
    dense = np.triu(dense, 1)
    dense = dense + dense.T
    perm = rng.permutation(n)
    return sp.csr_array(dense[np.ix_(perm, perm)])


def check_tree(paths: list[tuple[int, ...]], n: int, n_clusters: int, max_group_size: int) -> None:
    """Unique, prefix-free paths; cluster indices < n_clusters; final groups numbered 0..size-1."""
    assert len(paths) == n
    assert len(set(paths)) == n
    for p, q in itertools.permutations(paths, 2):
        assert q[: len(p)] != p, (p, q)
    groups: dict[tuple[int, ...], list[int]] = {}
    for node, path in enumerate(paths):
        assert all(0 <= index < n_clusters for index in path[:-1])
        groups.setdefault(path[:-1], []).append(node)
    for prefix, members in groups.items():
        assert len(members) <= max_group_size
        # Positions follow ascending node index.
        assert [paths[node][-1] for node in members] == list(range(len(members))), prefix


# ---------------------------------------------------------------------- cooccurrence


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_cooccurrence_matches_pair_counting(seed):
    data = random_interactions(seed, n_users=30, n_items=25 + seed, max_length=8)
    matrix = cooccurrence(data)
    assert isinstance(matrix, sp.csr_array)
    assert matrix.shape == (data.n_items, data.n_items)
    assert matrix.dtype == np.float64
    assert matrix.has_canonical_format and matrix.has_sorted_indices
    assert (matrix.data != 0).all()  # zeros eliminated
    np.testing.assert_array_equal(matrix.toarray(), pair_counts(data))
    assert (matrix != matrix.T).nnz == 0
    assert not matrix.diagonal().any()


def test_cooccurrence_of_training_view_ignores_held_out_items_and_keeps_cold_ones():
    data = Interactions.from_events(
        users=["a"] * 4 + ["b"] * 3 + ["c"] * 3,
        items=["1", "2", "3", "9", "2", "3", "8", "1", "2", "7"],
        timestamps=list(range(10)),
    )
    view = leave_one_out(data).training_view
    matrix = cooccurrence(view).toarray()
    index = {raw: view.item_index_of(raw) for raw in view.items.tolist()}
    # Training parts: a = 1 2, b = 2, c = 1; the only pair is (1, 2), from user a.
    expected = np.zeros((view.n_items, view.n_items))
    expected[index["1"], index["2"]] = expected[index["2"], index["1"]] = 1
    np.testing.assert_array_equal(matrix, expected)


def test_cooccurrence_single_item_users_give_an_empty_matrix():
    data = Interactions(
        users=["a", "b"], items=["x", "y", "z"], offsets=[0, 1, 2], item_index=[0, 2]
    )
    matrix = cooccurrence(data)
    assert matrix.shape == (3, 3) and matrix.nnz == 0


# ---------------------------------------------------------------------- spectral_tree


def test_spectral_tree_paths_are_unique_prefix_free_and_bounded():
    affinity = block_graph([40, 30, 25, 5], seed=0, noise=0.05)
    paths = spectral_tree(affinity, n_clusters=3, max_group_size=12, seed=7)
    check_tree(paths, 100, n_clusters=3, max_group_size=12)
    assert min(map(len, paths)) >= 2


def test_spectral_tree_is_deterministic_for_a_seed():
    affinity = block_graph([40, 30, 30], seed=1, noise=0.1)
    first = spectral_tree(affinity, n_clusters=4, max_group_size=10, seed=3)
    again = spectral_tree(affinity.copy(), n_clusters=4, max_group_size=10, seed=3)
    assert first == again


def test_two_disconnected_blocks_get_different_first_indices():
    rng = np.random.default_rng(5)
    n = 60
    block = np.zeros(n, dtype=int)
    block[rng.choice(n, size=30, replace=False)] = 1  # interleaved node indices
    dense = np.where(block[:, None] == block[None, :], rng.uniform(1, 2, (n, n)), 0.0)
    dense = np.triu(dense, 1)
    affinity = sp.csr_array(dense + dense.T)
    paths = spectral_tree(affinity, n_clusters=2, max_group_size=8, seed=0)
    check_tree(paths, n, n_clusters=2, max_group_size=8)
    first = np.array([path[0] for path in paths])
    # Clusters are numbered by smallest member: the block holding node 0 comes first.
    assert set(first[block == block[0]].tolist()) == {0}
    assert set(first[block != block[0]].tolist()) == {1}


def test_small_graph_is_one_final_group_with_one_token_paths():
    affinity = block_graph([3, 3], seed=2)
    assert spectral_tree(affinity, n_clusters=2, max_group_size=6, seed=0) == [
        (i,) for i in range(6)
    ]
    assert spectral_tree(sp.csr_array((0, 0)), n_clusters=2, max_group_size=2, seed=0) == []


def test_isolated_nodes_are_placed_and_the_tree_terminates():
    connected = block_graph([20, 20], seed=3, noise=0.05).toarray()
    n = 43
    dense = np.zeros((n, n))
    keep = np.setdiff1d(np.arange(n), [0, 17, 42])  # nodes 0, 17 and 42 have no edge
    dense[np.ix_(keep, keep)] = connected
    paths = spectral_tree(sp.csr_array(dense), n_clusters=3, max_group_size=6, seed=1)
    check_tree(paths, n, n_clusters=3, max_group_size=6)


def test_graph_without_edges_falls_back_to_contiguous_chunks():
    paths = spectral_tree(sp.csr_array((10, 10)), n_clusters=3, max_group_size=4, seed=0)
    # ceil(10 / 4) = 3 runs of 4, 3, 3 nodes in index order.
    expected = [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert paths == expected


def test_group_smaller_than_n_clusters_is_chunked():
    affinity = block_graph([5], seed=4)
    paths = spectral_tree(affinity, n_clusters=10, max_group_size=2, seed=0)
    # 5 nodes <= 10 clusters: 3 runs (2, 2, 1 nodes).
    assert paths == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]


class _OneCluster:
    """Stand-in for SpectralClustering that puts every node in one cluster (no progress)."""

    def __init__(self, **kwargs):
        pass

    def fit_predict(self, affinity):
        return np.zeros(affinity.shape[0], dtype=int)


class _Failing(_OneCluster):
    def fit_predict(self, affinity):
        raise ValueError("cannot cluster this")


@pytest.mark.parametrize("stand_in", [_OneCluster, _Failing])
def test_no_progress_or_failure_falls_back_and_terminates(monkeypatch, stand_in):
    monkeypatch.setattr(spectral_tree_module, "_spectral_clustering", stand_in)
    affinity = block_graph([30, 20], seed=5)
    paths = spectral_tree(affinity, n_clusters=4, max_group_size=5, seed=0)
    check_tree(paths, 50, n_clusters=4, max_group_size=5)
    # 50 nodes -> 4 runs of 13/13/12/12 -> each into 3 runs of at most 5, all in index order.
    assert paths[:6] == [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3), (0, 0, 4), (0, 1, 0)]
    assert sorted(paths) == paths


def test_disconnected_subgraph_warning_is_not_leaked(recwarn):
    affinity = block_graph([10, 10, 10, 10], seed=6)
    spectral_tree(affinity, n_clusters=2, max_group_size=5, seed=0)
    assert not [w for w in recwarn if "not fully connected" in str(w.message)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_clusters": 1}, "n_clusters must be an integer >= 2"),
        ({"n_clusters": 2.0}, "n_clusters must be an integer >= 2"),
        ({"max_group_size": 1}, "max_group_size must be an integer >= 2"),
        ({"max_group_size": True}, "max_group_size must be an integer >= 2"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"eigen_solver": "amg"}, "eigen_solver must be one of"),
    ],
)
def test_spectral_tree_rejects_bad_parameters(kwargs, message):
    arguments = {"n_clusters": 2, "max_group_size": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        spectral_tree(block_graph([3, 3], seed=0), **arguments)


@pytest.mark.parametrize(
    ("affinity", "message"),
    [
        (sp.csr_array(np.ones((2, 3))), "square"),
        (sp.csr_array(np.array([[0.0, -1.0], [-1.0, 0.0]])), "non-negative"),
        (sp.csr_array(np.array([[0.0, 1.0], [2.0, 0.0]])), "symmetric"),
        (sp.csr_array(np.array([[0.0, np.nan], [np.nan, 0.0]])), "finite"),
    ],
)
def test_spectral_tree_rejects_bad_affinity(affinity, message):
    with pytest.raises(ValueError, match=message):
        spectral_tree(affinity, n_clusters=2, max_group_size=2, seed=0)


def test_spectral_tree_on_cooccurrence_of_random_data():
    data = random_interactions(9, n_users=200, n_items=80, max_length=10)
    affinity = cooccurrence(data)
    paths = spectral_tree(affinity, n_clusters=5, max_group_size=10, seed=2)
    check_tree(paths, 80, n_clusters=5, max_group_size=10)
    assert max(Counter(path[:-1] for path in paths).values()) <= 10
