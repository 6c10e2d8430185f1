"""The user–item interaction graph that META ID's meta-path walks run on (sparse, CSR)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idprobe.data import Interactions

__all__ = ["InteractionGraph", "interaction_graph"]


@dataclass(frozen=True, eq=False)
class InteractionGraph:
    """Bipartite user–item graph in CSR form, each edge labelled with a relation (its rating).

    Node ids: users are ``0..n_users-1`` (dense user index), items are ``n_users + i`` for dense
    item index ``i``. The edges of node ``v`` are ``indptr[v]:indptr[v + 1]``, sorted by relation
    and then by neighbour, so the edges of one relation form a contiguous run that a walker finds
    by binary search.

    Attributes:
        relations: relation code per edge, ``0..len(relation_values)-1``.
        relation_values: the rating of each relation code; ``()`` when the graph has a single
            relation (data without ratings, or ratings ignored).
    """

    n_users: int
    n_items: int
    indptr: np.ndarray
    neighbors: np.ndarray
    relations: np.ndarray
    relation_values: tuple[float, ...]

    @property
    def n_nodes(self) -> int:
        return self.n_users + self.n_items

    @property
    def degrees(self) -> np.ndarray:
        return np.diff(self.indptr)


def interaction_graph(interactions: Interactions, use_ratings: bool) -> InteractionGraph:
    """The graph of ``interactions``; with ``use_ratings`` each distinct rating is a relation.

    Without ratings every edge has relation 0, so a U-I-U meta-path walk is a plain alternating
    random walk on the bipartite graph.
    """
    m, n = interactions.n_users, interactions.n_items
    users = interactions.user_of_interaction.astype(np.int64)
    items = interactions.item_index.astype(np.int64) + m
    if use_ratings and interactions.ratings is not None:
        values, codes = np.unique(interactions.ratings, return_inverse=True)
        relation_values = tuple(float(v) for v in values)
    else:
        codes = np.zeros(len(users), dtype=np.int64)
        relation_values = ()
    source = np.concatenate((users, items))
    target = np.concatenate((items, users))
    relation = np.concatenate((codes, codes))
    order = np.lexsort((target, relation, source))
    indptr = np.zeros(m + n + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=m + n), out=indptr[1:])
    return InteractionGraph(
        n_users=m,
        n_items=n,
        indptr=indptr,
        neighbors=target[order].astype(np.int32),
        relations=relation[order].astype(np.int32),
        relation_values=relation_values,
    )
