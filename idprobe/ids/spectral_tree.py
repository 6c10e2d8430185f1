"""Recursive spectral clustering of a sparse affinity graph into a tree of bounded groups.

This is the grouping step of Hua et al.'s CID (REFERENCE.md): cluster the nodes (items) with
scikit-learn's ``SpectralClustering`` on a precomputed affinity (co-occurrence counts) and
``assign_labels="cluster_qr"``, then cluster again every cluster larger than ``max_group_size``,
until every final group is small enough. A node's *path* is the cluster index it falls in at each
level followed by its position inside its final group; a CID strategy writes one token per entry.

Differences from the reference, all deliberate:

* the affinity is a ``scipy.sparse`` matrix and sub-graphs are sparse slices (the reference copies
  dense ``N x N`` sub-matrices with Python loops);
* the eigenvectors come from LOBPCG by default. scikit-learn's default ARPACK runs in shift-invert
  mode, which factorises the Laplacian: on Amazon Beauty's co-occurrence graph (12,068 connected
  items, 1.7M non-zeros) one top-level ARPACK clustering took about 490 s on 2 cores against about
  4 s with LOBPCG, with cluster sizes that agreed to within 6 items (seed 0, 20 clusters);
* cluster indices are renumbered by smallest member node, so a path does not depend on the label
  numbering scikit-learn happens to return;
* every clustering step gets its own ``random_state``, derived from ``seed`` and the path of the
  group it splits, so a group's split does not depend on the order in which groups are visited.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence

__all__ = ["EIGEN_SOLVERS", "EigenSolver", "spectral_tree"]

logger = logging.getLogger(__name__)

EigenSolver = Literal["lobpcg", "arpack"]
#: Eigen-solvers ``spectral_tree`` passes on to scikit-learn. ``amg`` is left out: it needs pyamg,
#: and without it scikit-learn raises a ``ValueError`` that would be mistaken for a failed split.
EIGEN_SOLVERS: tuple[str, ...] = ("lobpcg", "arpack")

# Failures of one clustering step on an awkward sub-graph (tiny, disconnected, numerically
# singular). Each one makes that group fall back to chunks instead of aborting the whole tree.
_CLUSTERING_ERRORS = (
    ValueError,
    RuntimeError,
    ArithmeticError,
    np.linalg.LinAlgError,
    ArpackError,
    ArpackNoConvergence,
)


def spectral_tree(
    affinity: sp.csr_array,
    *,
    n_clusters: int,
    max_group_size: int,
    seed: int,
    eigen_solver: EigenSolver = "lobpcg",
) -> list[tuple[int, ...]]:
    """The path of every node in a recursive spectral clustering of ``affinity`` (Hua et al.'s CID).

    The nodes ``0..n-1`` are clustered with ``SpectralClustering(n_clusters, affinity="precomputed",
    assign_labels="cluster_qr")``; every cluster with more than ``max_group_size`` nodes is
    clustered again the same way on its sub-graph, recursively. Clusters of one group are numbered
    ``0, 1, ...`` in order of their smallest node index.

    Returns:
        ``paths[node]``: the cluster index at each level (each below ``n_clusters``), then the
        node's position in its final group, ``0..size-1`` in ascending node index. Paths have
        length >= 2 and vary in length (a final group can sit at any depth). When the whole graph
        has at most ``max_group_size`` nodes it is itself the final group and every path is just
        ``(position,)``. Paths are unique and prefix-free (no path starts another): they are the
        leaves of a tree in which siblings have distinct indices; this is checked before
        returning. An empty graph gives ``[]``.

    Groups that spectral clustering cannot split are split into contiguous chunks instead: the
    group's nodes in ascending index order are cut into ``min(n_clusters, ceil(size /
    max_group_size))`` nearly equal runs (which may still be clustered further). That happens when
    a group has no more nodes than ``n_clusters``, when its sub-graph has no edge at all, when
    scikit-learn raises on it (tiny, disconnected or singular sub-graphs), or when every node lands
    in one cluster. Each split therefore makes at least two strictly smaller groups, so the
    recursion always ends. Nodes without any affinity (zero rows) are allowed; they are clustered
    wherever the embedding puts them. The caller is expected to take out nodes with no edge first,
    since their placement carries no information.

    Args:
        affinity: square, symmetric, non-negative, finite sparse affinity (e.g. co-occurrence
            counts from :func:`idprobe.ids.cooccurrence.cooccurrence`); the diagonal is ignored
            by the spectral embedding.
        n_clusters: clusters per split, >= 2 (20 in Hua et al.).
        max_group_size: largest final group, >= 2 (500 in META ID's baselines, 200 by default in
            Hua et al.'s code).
        seed: non-negative integer; the same seed gives the same paths.
        eigen_solver: ``"lobpcg"`` (default, fast on large sparse graphs) or ``"arpack"``
            (scikit-learn's default, shift-invert; very slow on co-occurrence graphs).

    Raises:
        ValueError: a parameter is out of range or ``affinity`` is not a square, symmetric,
            non-negative, finite matrix.
    """
    _check_int("n_clusters", n_clusters, 2)
    _check_int("max_group_size", max_group_size, 2)
    _check_int("seed", seed, 0)
    if eigen_solver not in EIGEN_SOLVERS:
        raise ValueError(f"eigen_solver must be one of {EIGEN_SOLVERS}, got {eigen_solver!r}")
    matrix = _checked_affinity(affinity)
    n = matrix.shape[0]

    paths: list[tuple[int, ...]] = [()] * n
    # Depth-first with an explicit stack: no Python recursion limit, and the visiting order does
    # not matter because each split's random_state depends only on the group's own path.
    stack: list[tuple[tuple[int, ...], np.ndarray]] = [((), np.arange(n, dtype=np.int64))]
    while stack:
        prefix, nodes = stack.pop()
        if nodes.size <= max_group_size:
            for position, node in enumerate(nodes.tolist()):
                paths[node] = (*prefix, position)
            continue
        groups = _split(
            matrix,
            nodes,
            n_clusters=int(n_clusters),
            max_group_size=int(max_group_size),
            random_state=_derived_seed(int(seed), prefix),
            eigen_solver=eigen_solver,
        )
        stack.extend(((*prefix, index), members) for index, members in enumerate(groups))

    _check_prefix_free(paths)
    return paths


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _checked_affinity(affinity: object) -> sp.csr_array:
    """``affinity`` as a canonical float64 CSR array with 32-bit indices, after validation."""
    matrix = sp.csr_array(affinity, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"affinity must be a square matrix, got shape {matrix.shape}")
    matrix.sum_duplicates()
    if not np.isfinite(matrix.data).all():
        raise ValueError("affinity must be finite")
    if (matrix.data < 0).any():
        raise ValueError("affinity must be non-negative")
    scale = float(matrix.data.max(initial=0.0))
    asymmetry = abs(matrix - matrix.T).max() if matrix.nnz else 0.0
    if asymmetry > 1e-10 * scale:
        raise ValueError(f"affinity must be symmetric (largest |A - A.T| is {asymmetry:g})")
    # scikit-learn's spectral embedding refuses 64-bit sparse indices; slices keep the index type.
    if max(matrix.nnz, matrix.shape[0]) < np.iinfo(np.int32).max:
        matrix = sp.csr_array(
            (matrix.data, matrix.indices.astype(np.int32), matrix.indptr.astype(np.int32)),
            shape=matrix.shape,
        )
    return matrix


def _derived_seed(seed: int, prefix: tuple[int, ...]) -> int:
    # The path length is part of the entropy so that paths of different lengths never map to
    # the same (zero-padded) entropy words.
    entropy = [seed, len(prefix), *prefix]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _split(
    matrix: sp.csr_array,
    nodes: np.ndarray,
    *,
    n_clusters: int,
    max_group_size: int,
    random_state: int,
    eigen_solver: str,
) -> list[np.ndarray]:
    """Split the ascending node indices ``nodes`` into >= 2 non-empty ascending groups, ordered by
    smallest member, at most ``n_clusters`` of them."""
    labels = None
    if nodes.size > n_clusters:
        sub = matrix[nodes][:, nodes]
        if sub.nnz:
            labels = _cluster(sub, n_clusters, random_state, eigen_solver)
    if labels is None or np.unique(labels).size < 2:
        return _chunks(nodes, n_clusters, max_group_size)
    # Renumber clusters by their smallest node: nodes are ascending, so the first occurrence of a
    # label in ``labels`` is at the cluster's smallest node.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    cluster = rank[inverse]
    order = np.argsort(cluster, kind="stable")  # stable: each group stays ascending
    bounds = np.cumsum(np.bincount(cluster, minlength=first.size))[:-1]
    return np.split(nodes[order], bounds)


def _cluster(
    sub: sp.csr_array, n_clusters: int, random_state: int, eigen_solver: str
) -> np.ndarray | None:
    """Spectral cluster labels of the sub-graph ``sub``, or ``None`` when scikit-learn fails."""
    model = _spectral_clustering(
        n_clusters=n_clusters,
        affinity="precomputed",
        assign_labels="cluster_qr",
        eigen_solver=eigen_solver,
        random_state=random_state,
    )
    try:
        with warnings.catch_warnings():
            # Sub-graphs of a co-occurrence graph are often disconnected; the embedding still
            # separates the components, which is what the split needs.
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            # LOBPCG's notice that a small group is solved with a dense eigensolver: expected for
            # the small groups deep in the tree, and the dense result is exact.
            warnings.filterwarnings("ignore", message=r"The problem size \d+ minus the constraints")
            labels = model.fit_predict(sub)
    except _CLUSTERING_ERRORS as error:
        logger.info(
            "spectral clustering of a group of %d nodes failed (%s: %s); splitting it into chunks",
            sub.shape[0],
            type(error).__name__,
            error,
        )
        return None
    return np.asarray(labels)


def _spectral_clustering(**params: object) -> Any:
    """A scikit-learn ``SpectralClustering`` with ``params``."""
    # Imported here: importing sklearn.cluster loads pandas, which ``import idprobe`` must not.
    from sklearn.cluster import SpectralClustering

    return SpectralClustering(**params)


def _chunks(nodes: np.ndarray, n_clusters: int, max_group_size: int) -> list[np.ndarray]:
    """``nodes`` cut into ``min(n_clusters, ceil(size / max_group_size))`` nearly equal runs."""
    # nodes.size > max_group_size >= 2 here, so there are at least 2 non-empty runs.
    count = min(n_clusters, math.ceil(nodes.size / max_group_size))
    logger.debug("splitting a group of %d nodes into %d contiguous chunks", nodes.size, count)
    return np.array_split(nodes, count)


def _check_prefix_free(paths: list[tuple[int, ...]]) -> None:
    """Fail if a path is empty, repeated, or the start of another path.

    In lexicographic order a path that starts some other path also starts the one right after
    it, so checking neighbours is enough.
    """
    ordered = sorted(paths)
    if ordered and not ordered[0]:
        raise AssertionError("spectral_tree left a node without a path")
    for previous, current in itertools.pairwise(ordered):
        if current[: len(previous)] == previous:
            raise AssertionError(f"spectral_tree made path {previous} a prefix of {current}")
