"""numba kernels of the meta-path random walker (imported lazily: numba compiles on first call).

Each walk draws from its own splitmix64 stream seeded by ``(seed, walk number)``, so the walks are
the same whatever the number of threads, and a plain Python walker (``walks.python_walks``) with
the same stream reproduces them exactly.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _splitmix(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _below(z: np.uint64, k: np.int64) -> np.int64:
    # Lemire's multiply-shift on the high 32 bits: no division; the bias is below k / 2**32,
    # far under any sampling noise for node degrees.
    return np.int64(((z >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32))


@numba.njit(cache=True, parallel=True, nogil=True)
def walk_kernel(indptr, neighbors, relations, starts, walk_length, seed, out):  # pragma: no cover
    """Fill ``out[w]`` with a walk of ``walk_length`` nodes from ``starts[w]``; see ``walks.py``."""
    n_walks = starts.shape[0]
    for w in numba.prange(n_walks):
        state = np.uint64(seed) * _GOLDEN ^ np.uint64(w)
        state, z = _splitmix(state)
        node = starts[w]
        out[w, 0] = node
        lo = indptr[node]
        degree = indptr[node + 1] - lo
        edge = lo + _below(z, degree)
        relation = relations[edge]
        node = neighbors[edge]
        for step in range(1, walk_length):
            out[w, step] = node
            if step == walk_length - 1:
                break
            # The run of edges of `node` with this walk's relation: [first, last).
            begin = indptr[node]
            end = indptr[node + 1]
            if relations[begin] == relation and relations[end - 1] == relation:
                # One relation at this node (always so without ratings): no search needed.
                state, z = _splitmix(state)
                node = neighbors[begin + _below(z, end - begin)]
                continue
            a = begin
            b = end
            while a < b:
                mid = (a + b) >> 1
                if relations[mid] < relation:
                    a = mid + 1
                else:
                    b = mid
            first = a
            b = end
            while a < b:
                mid = (a + b) >> 1
                if relations[mid] <= relation:
                    a = mid + 1
                else:
                    b = mid
            state, z = _splitmix(state)
            node = neighbors[first + _below(z, a - first)]
