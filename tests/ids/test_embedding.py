"""Skip-gram embeddings of meta-path walks (gensim): structure, unseen nodes, determinism."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from idprobe.data import Interactions, leave_one_out, make_synthetic
from idprobe.ids.embedding import MetaPathEmbedding, metapath_embedding, skipgram
from idprobe.ids.graph import interaction_graph
from idprobe.ids.walks import metapath_walks

SEEDS = [0, 1, 2]
SMALL = {"dimensions": 8, "window": 3, "negative": 5}


def two_communities(seed: int, size: int = 15) -> Interactions:
    """Users A* only buy items A*, users B* only items B*: two disconnected halves, 60 nodes."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for community in "AB":
        for u in range(size):
            for i in rng.choice(size, size=4, replace=False):
                users.append(f"{community}u{u}")
                items.append(f"{community}i{int(i)}")
    return Interactions.from_events(users, items)


def community_of_nodes(data: Interactions) -> np.ndarray:
    names = [*data.users.tolist(), *data.items.tolist()]
    return np.array([name[0] == "B" for name in names], dtype=int)


def digest(vectors: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(vectors).tobytes()).hexdigest()


# ---------------------------------------------------------------------- structure


@pytest.mark.parametrize("seed", SEEDS)
def test_skipgram_separates_disconnected_communities(seed: int) -> None:
    data = two_communities(seed)
    graph = interaction_graph(data, use_ratings=False)
    walks = metapath_walks(graph, 10, 10, seed=seed)
    vectors, seen = skipgram(walks, graph.n_nodes, epochs=10, seed=seed, **SMALL)
    assert vectors.shape == (graph.n_nodes, 8)
    assert vectors.dtype == np.float32
    assert seen.dtype == bool and seen.all()
    assert np.isfinite(vectors).all()
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    community = community_of_nodes(data)
    same = community[:, None] == community[None, :]
    np.fill_diagonal(same, False)
    cross = community[:, None] != community[None, :]
    assert cosine[same].mean() > cosine[cross].mean() + 0.3
    # And for most single nodes: closer on average to its own community than to the other.
    own = np.array([cosine[v, same[v]].mean() for v in range(graph.n_nodes)])
    other = np.array([cosine[v, cross[v]].mean() for v in range(graph.n_nodes)])
    assert (own > other).mean() >= 0.9


def test_skipgram_nodes_in_no_walk_have_zero_vectors() -> None:
    rng = np.random.default_rng(0)
    n_nodes = 60
    absent = np.array([0, 7, 31, 58, 59])
    present = np.setdiff1d(np.arange(n_nodes), absent)
    walks = rng.choice(present, size=(50, 10)).astype(np.int32)
    vectors, seen = skipgram(walks, n_nodes, epochs=2, seed=0, **SMALL)
    expected_seen = np.zeros(n_nodes, dtype=bool)
    expected_seen[np.unique(walks)] = True
    np.testing.assert_array_equal(seen, expected_seen)
    assert not seen[absent].any()
    assert (vectors[absent] == 0).all()
    assert (np.abs(vectors[seen]).sum(axis=1) > 0).all()


def test_skipgram_rows_are_gensims_vectors_of_the_node_names() -> None:
    """Row v is gensim's vector of the word str(v) (gensim orders its vocabulary by frequency,
    not by node id); reference: gensim's Word2Vec run directly with the same settings."""
    from gensim.models import Word2Vec

    rng = np.random.default_rng(3)
    # skewed frequencies so that gensim's vocabulary order differs from node order
    walks = rng.choice(50, size=(80, 10), p=np.arange(50, 0, -1) / 1275).astype(np.int32)
    walks[walks == 7] = 49  # node 7 unseen
    vectors, seen = skipgram(walks, 50, epochs=2, seed=4, **SMALL)
    model = Word2Vec(
        sentences=[[str(v) for v in walk] for walk in walks.tolist()],
        vector_size=8,
        window=3,
        negative=5,
        hs=0,
        sg=1,
        min_count=1,
        epochs=2,
        seed=4,
        workers=1,
        hashfxn=lambda text: zlib.crc32(text.encode("utf-8")),
    )
    assert model.wv.index_to_key != [str(v) for v in range(50) if v != 7]
    assert sorted(int(k) for k in model.wv.index_to_key) == np.flatnonzero(seen).tolist()
    assert not seen[7] and (vectors[7] == 0).all()
    for key in model.wv.index_to_key:
        np.testing.assert_allclose(vectors[int(key)], model.wv[key], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("use_ratings", [True, False])
def test_metapath_embedding_is_walks_then_skipgram_and_cold_items_are_unseen(
    use_ratings: bool,
) -> None:
    # An item that only occurs as the last item of a user is cold in the training view.
    data = make_synthetic(n_users=20, n_items=30, seed=3)
    users = [data.users[u] for u in range(data.n_users) for _ in range(data.lengths[u])]
    items = [data.items[i] for i in data.item_index.tolist()]
    ratings = data.ratings.tolist()
    times = data.timestamps.tolist()
    last = int(data.offsets[1]) - 1
    users.insert(last + 1, data.users[0])
    items.insert(last + 1, "ZZCOLD")
    ratings.insert(last + 1, 4.0)
    times.insert(last + 1, times[last] + 1)
    view = leave_one_out(
        Interactions.from_events(users, items, ratings=ratings, timestamps=times)
    ).training_view
    cold = view.item_index_of("ZZCOLD")
    assert view.item_counts[cold] == 0

    params = {"walks_per_node": 3, "walk_length": 8, "epochs": 2, "seed": 5, **SMALL}
    embedding = metapath_embedding(view, use_ratings=use_ratings, **params)
    assert isinstance(embedding, MetaPathEmbedding)
    assert embedding.users.shape == (view.n_users, 8)
    assert embedding.items.shape == (view.n_items, 8)
    np.testing.assert_array_equal(embedding.item_seen, view.item_counts > 0)
    assert embedding.user_seen.all()
    assert not embedding.item_seen[cold]
    assert (embedding.items[~embedding.item_seen] == 0).all()
    assert (np.abs(embedding.items[embedding.item_seen]).sum(axis=1) > 0).all()
    graph = interaction_graph(view, use_ratings)
    assert embedding.relations == graph.relation_values
    assert embedding.relations == ((1.0, 2.0, 3.0, 4.0, 5.0) if use_ratings else ())

    walks = metapath_walks(graph, 3, 8, seed=5)
    vectors, seen = skipgram(walks, graph.n_nodes, epochs=2, seed=5, **SMALL)
    np.testing.assert_array_equal(embedding.users, vectors[: view.n_users])
    np.testing.assert_array_equal(embedding.items, vectors[view.n_users :])
    np.testing.assert_array_equal(embedding.item_seen, seen[view.n_users :])


# ---------------------------------------------------------------------- determinism

# Run in this process and in fresh interpreters with other PYTHONHASHSEEDs: gensim seeds the
# initial vectors with hashfxn(word + seed); Python's hash() would differ between processes.
SNIPPET = """
import hashlib
import numpy as np
from idprobe.ids.embedding import skipgram
rng = np.random.default_rng(11)
walks = rng.integers(0, 60, size=(300, 10)).astype(np.int32)
vectors, seen = skipgram(walks, 60, dimensions=8, window=3, negative=5, epochs=2, seed=7)
print(hashlib.sha256(np.ascontiguousarray(vectors).tobytes()).hexdigest())
"""


def run_snippet_here() -> str:
    rng = np.random.default_rng(11)
    walks = rng.integers(0, 60, size=(300, 10)).astype(np.int32)
    vectors, _ = skipgram(walks, 60, epochs=2, seed=7, **SMALL)
    return digest(vectors)


@pytest.mark.parametrize("seed", SEEDS)
def test_skipgram_same_seed_same_bytes_other_seed_other_vectors(seed: int) -> None:
    graph = interaction_graph(two_communities(seed), use_ratings=False)
    walks = metapath_walks(graph, 5, 10, seed=seed)
    first, seen_first = skipgram(walks, graph.n_nodes, epochs=2, seed=seed, workers=1, **SMALL)
    second, seen_second = skipgram(walks, graph.n_nodes, epochs=2, seed=seed, workers=1, **SMALL)
    assert digest(first) == digest(second)
    np.testing.assert_array_equal(seen_first, seen_second)
    other, _ = skipgram(walks, graph.n_nodes, epochs=2, seed=seed + 100, workers=1, **SMALL)
    assert not np.array_equal(first, other)


def test_skipgram_same_bytes_in_a_fresh_process_with_another_hash_seed() -> None:
    here = run_snippet_here()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # This process's hash seed is random unless PYTHONHASHSEED is set; make the child's differ.
    parent = os.environ.get("PYTHONHASHSEED", "random")
    child = "12345" if parent != "12345" else "54321"
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET],
        env={**os.environ, "PYTHONHASHSEED": child},
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == here
