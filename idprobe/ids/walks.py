"""META ID's U-I-U meta-path random walks (paper section 4.1, appendix A.1).

A walk starts at a user or an item and alternates between users and items. Its first hop picks
one of the start node's edges uniformly; the rating of that edge becomes the walk's relation, and
every later hop picks uniformly among the current node's edges *with the same rating* (paper
eq. 6: ``U1 -R-> I2 -R-> U3 -R-> ...``). The hop that brought the walker in has that rating, so a
walk never gets stuck. On data without ratings the graph has one relation and the walk is a plain
alternating random walk.

The kernel is numba (``_walk_kernels``, compiled on first use and cached on disk); ``python_walks``
is the same algorithm in plain Python, used as the reference in tests and benchmarks.
"""

from __future__ import annotations

import numpy as np

from idprobe.ids.graph import InteractionGraph

__all__ = ["metapath_walks", "python_walks", "walk_starts"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def walk_starts(graph: InteractionGraph, walks_per_node: int, seed: int) -> np.ndarray:
    """Start node of every walk: ``walks_per_node`` rounds over all nodes with an edge, each round
    in a fresh random order (DeepWalk), so skip-gram's decaying learning rate sees all nodes alike.
    Nodes without edges (cold items) start no walk."""
    active = np.flatnonzero(graph.degrees > 0).astype(np.int32)
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(active) for _ in range(walks_per_node)])


def metapath_walks(
    graph: InteractionGraph, walks_per_node: int, walk_length: int, seed: int
) -> np.ndarray:
    """``(walks, walk_length)`` int32 node ids of meta-path walks (numba; same for any thread count)."""
    from idprobe.ids._walk_kernels import walk_kernel

    if walks_per_node < 1 or walk_length < 1:
        # The kernel writes the start node unconditionally: a zero-width output would overflow.
        raise ValueError(
            f"walks_per_node and walk_length must be >= 1, got {walks_per_node} and {walk_length}"
        )
    starts = walk_starts(graph, walks_per_node, seed)
    out = np.empty((starts.size, walk_length), dtype=np.int32)
    if starts.size:
        walk_kernel(graph.indptr, graph.neighbors, graph.relations, starts, walk_length, seed, out)
    return out


def _splitmix(state: int) -> tuple[int, int]:
    state = (state + _GOLDEN) & _MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return state, z ^ (z >> 31)


def _below(z: int, k: int) -> int:
    return ((z >> 32) * k) >> 32


def python_walks(
    graph: InteractionGraph, walks_per_node: int, walk_length: int, seed: int
) -> np.ndarray:
    """Plain-Python reference of :func:`metapath_walks`: same algorithm, same random stream."""
    indptr = graph.indptr.tolist()
    neighbors = graph.neighbors.tolist()
    relations = graph.relations.tolist()
    starts = walk_starts(graph, walks_per_node, seed).tolist()
    walks = []
    for w, start in enumerate(starts):
        state = ((seed * _GOLDEN) & _MASK) ^ w
        state, z = _splitmix(state)
        lo, hi = indptr[start], indptr[start + 1]
        edge = lo + _below(z, hi - lo)
        relation, node = relations[edge], neighbors[edge]
        walk = [start]
        while len(walk) < walk_length:
            walk.append(node)
            if len(walk) == walk_length:
                break
            same = [e for e in range(indptr[node], indptr[node + 1]) if relations[e] == relation]
            state, z = _splitmix(state)
            node = neighbors[same[_below(z, len(same))]]
        walks.append(walk[:walk_length])
    return np.asarray(walks, dtype=np.int32).reshape(len(starts), walk_length)
