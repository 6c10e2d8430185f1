"""META ID (paper section 4, appendix A): meta-path embeddings, clusters, ``<CT{g}><{1001+rank}>`` IDs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from idprobe.data import TrainingView
from idprobe.errors import ConfigError
from idprobe.ids.base import (
    IdAssignment,
    IdStrategy,
    check_choice,
    check_float,
    check_int,
    register,
)
from idprobe.ids.embedding import MetaPathEmbedding, metapath_embedding
from idprobe.ids.grouping import (
    Grouping,
    dbscan_groups,
    normalize_rows,
    spectral_groups,
    spherical_kmeans,
)

__all__ = ["GROUPINGS", "QUICK", "MetaIds", "MetaPathParams"]

#: Grouping methods of the paper's Table 4.
GROUPINGS = ("kmeans", "spectral", "dbscan", "rqvae")
#: Lighter walk and skip-gram settings for a first look (the defaults are the paper's).
QUICK = {"walks_per_node": 8, "walk_length": 32, "epochs": 2}


@dataclass(frozen=True)
class MetaPathParams:
    """Knobs of the meta-path walks and skip-gram, shared by ``meta`` and ``rqvae``.

    Attributes:
        relation: which edges a walk may follow after its first hop. ``rating``: only edges with
            the rating of the first hop (paper eq. 6; needs ratings); ``none``: one relation, a
            plain alternating user–item walk; ``auto`` (default): ``rating`` when the data has
            ratings, else ``none`` (e.g. the P5 Beauty files, which have none).
        walks_per_node, walk_length: walks started from every user and item, and nodes per walk
            (paper: 32 and 64).
        dimensions, window, negative, epochs: skip-gram settings (paper: 64, 5, 5, 10).
        workers: gensim threads; 1 (default) is deterministic, more is faster but not repeatable.
    """

    relation: str = "auto"
    walks_per_node: int = 32
    walk_length: int = 64
    dimensions: int = 64
    window: int = 5
    negative: int = 5
    epochs: int = 10
    workers: int = 1

    def _check_metapath(self, strategy: str) -> None:
        check_choice(strategy, "relation", self.relation, ("auto", "rating", "none"))
        check_int(strategy, "walks_per_node", self.walks_per_node, minimum=1)
        check_int(strategy, "walk_length", self.walk_length, minimum=2)
        check_int(strategy, "dimensions", self.dimensions, minimum=2)
        check_int(strategy, "window", self.window, minimum=1)
        check_int(strategy, "negative", self.negative, minimum=1)
        check_int(strategy, "epochs", self.epochs, minimum=1)
        check_int(strategy, "workers", self.workers, minimum=1)

    def needs(self) -> frozenset[str]:
        return frozenset({"ratings"}) if self.relation == "rating" else frozenset()

    def _embedding(self, view: TrainingView, seed: int) -> MetaPathEmbedding:
        use_ratings = self.relation == "rating" or (
            self.relation == "auto" and view.ratings is not None
        )
        return metapath_embedding(
            view,
            use_ratings=use_ratings,
            walks_per_node=self.walks_per_node,
            walk_length=self.walk_length,
            dimensions=self.dimensions,
            window=self.window,
            negative=self.negative,
            epochs=self.epochs,
            seed=seed,
            workers=self.workers,
        )


def _relation_fact(embedding: MetaPathEmbedding) -> str:
    if embedding.relations:
        return f"U-I-U walks within one rating ({len(embedding.relations)} relations)"
    return "one relation: plain alternating user-item walks (no ratings used)"


@register
@dataclass(frozen=True)
class MetaIds(MetaPathParams, IdStrategy):
    """META ID: meta-path walks, skip-gram, clusters; ID = ``<CT{g}>`` cluster + ``<{1001+rank}>`` rank.

    Users and items are embedded together by skip-gram on U-I-U meta-path walks, then grouped
    (spherical K-Means by default, G = ``n_clusters``). An entity's ID is its group's coarse token
    ``<CT{g}>`` and a fine token ``<{rank_start + r}>``, where ``r`` ranks the group's members by
    ascending cosine distance to the group centroid (ties: items before users, then dense index).
    Rank tokens are shared by all groups, as in the released META ID files.

    * ``index``: who gets META IDs: ``both`` (default, paper), ``items`` or ``users``. Items that
      are not indexed (``users``) get plain-text numbers ``rank_start + dense index`` (catalog
      order, which carries no interaction information), like RID.
    * ``clustering``: ``joint`` (default; the released ID files) clusters users and items together
      into G groups; ``separate`` clusters each kind into G groups (the released code).
    * ``grouping``: ``kmeans`` (default), ``spectral``, ``dbscan`` (``dbscan_eps`` is a cosine
      distance; ``n_clusters`` is ignored, DBSCAN decides), ``rqvae`` (groups = first-level codes
      of an RQ-VAE with G codewords; needs torch).
    * Coarse tokens are numbered in this order: the groups (joint, or items then users), the
      DBSCAN noise bucket, the cold bucket. Only real groups carry an initial vector: their
      centroid, the mean skip-gram vector of their members (paper eq. 7).
    """

    name: ClassVar[str] = "meta"
    places_unseen: ClassVar[bool] = False
    cold_rule: ClassVar[str] = (
        "entities without training interactions have no walk embedding; they form one extra "
        "'cold' group with its own coarse token (the last <CT>) and ranks in catalog order"
    )

    n_clusters: int = 100
    index: str = "both"
    clustering: str = "joint"
    grouping: str = "kmeans"
    rank_start: int = 1001
    kmeans_n_init: int = 10
    spectral_neighbors: int = 15
    dbscan_eps: float = 0.2
    dbscan_min_samples: int = 5

    def __post_init__(self) -> None:
        self._check_metapath(self.name)
        check_int(self.name, "n_clusters", self.n_clusters, minimum=1)
        check_choice(self.name, "index", self.index, ("both", "items", "users"))
        check_choice(self.name, "clustering", self.clustering, ("joint", "separate"))
        check_choice(self.name, "grouping", self.grouping, GROUPINGS)
        check_int(self.name, "rank_start", self.rank_start, minimum=0)
        check_int(self.name, "kmeans_n_init", self.kmeans_n_init, minimum=1)
        check_int(self.name, "spectral_neighbors", self.spectral_neighbors, minimum=2)
        check_float(self.name, "dbscan_eps", self.dbscan_eps, 0.0, 2.0, open_low=True)
        check_int(self.name, "dbscan_min_samples", self.dbscan_min_samples, minimum=1)

    @property
    def indexes_users(self) -> bool:
        return self.index in ("both", "users")

    # ------------------------------------------------------------------ grouping

    def _group(self, vectors: np.ndarray, seed: int, what: str) -> Grouping:
        n = vectors.shape[0]
        if self.grouping != "dbscan" and self.n_clusters > n:
            raise ConfigError(
                f"{self.name}.n_clusters",
                f"at most the number of {what} it clusters ({n})",
                self.n_clusters,
            )
        if self.grouping == "kmeans":
            return spherical_kmeans(vectors, self.n_clusters, seed=seed, n_init=self.kmeans_n_init)
        if self.grouping == "spectral":
            return spectral_groups(
                vectors, self.n_clusters, seed=seed, n_neighbors=self.spectral_neighbors
            )
        if self.grouping == "dbscan":
            return dbscan_groups(vectors, eps=self.dbscan_eps, min_samples=self.dbscan_min_samples)
        from idprobe.ids.rqvae import first_level_codes

        labels = first_level_codes(normalize_rows(vectors), self.n_clusters, seed=seed)
        return Grouping(labels=labels, n_groups=int(labels.max()) + 1)

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        embedding = self._embedding(view, seed)
        # Entities to index: (is_user, dense index) in a fixed order, items first.
        kinds, dense, vectors, seens = [], [], [], []
        for is_user, wanted, seen, table in (
            (False, self.index in ("both", "items"), embedding.item_seen, embedding.items),
            (True, self.indexes_users, embedding.user_seen, embedding.users),
        ):
            if wanted:
                kinds.append(np.full(seen.size, is_user))
                dense.append(np.arange(seen.size))
                vectors.append(table)
                seens.append(seen)
        is_user = np.concatenate(kinds)
        index = np.concatenate(dense)
        x = np.concatenate(vectors).astype(np.float64)
        seen = np.concatenate(seens)

        labels = np.full(len(x), -2, dtype=np.int64)  # -2: not grouped yet
        next_group = 0
        parts = (
            [seen & ~is_user, seen & is_user]
            if self.clustering == "separate" and self.index == "both"
            else [seen]
        )
        noise = np.zeros(len(x), dtype=bool)
        for part in parts:
            what = "entities" if len(parts) == 1 else ("users" if is_user[part][0] else "items")
            grouping = self._group(x[part], seed, what)
            part_labels = grouping.labels.copy()
            noise[np.flatnonzero(part)[part_labels < 0]] = True
            part_labels[part_labels >= 0] += next_group
            labels[part] = part_labels
            next_group += grouping.n_groups
        n_real = next_group
        if noise.any():
            labels[noise] = next_group
            next_group += 1
        cold = ~seen
        if cold.any():
            labels[cold] = next_group
            next_group += 1

        rank = np.empty(len(x), dtype=np.int64)
        centroids = np.zeros((n_real, x.shape[1]), dtype=np.float64)
        members_of = np.argsort(labels, kind="stable")  # items first, then dense order
        bounds = np.searchsorted(labels[members_of], np.arange(next_group + 1))
        for g in range(next_group):
            members = members_of[bounds[g] : bounds[g + 1]]
            if g < n_real or (noise.any() and g == n_real):
                centre = x[members].mean(axis=0)  # paper eq. 7
                if g < n_real:
                    centroids[g] = centre
                distance = 1.0 - normalize_rows(x[members]) @ normalize_rows(centre[None])[0]
                order = np.argsort(distance, kind="stable")
            else:  # the cold bucket: no vectors, catalog order
                order = np.arange(members.size)
            rank[members[order]] = np.arange(members.size)

        coarse = [f"<CT{g}>" for g in range(next_group)]
        fine = [f"<{self.rank_start + r}>" for r in range(int(rank.max()) + 1)]
        ids = [(coarse[g], fine[r]) for g, r in zip(labels.tolist(), rank.tolist(), strict=True)]
        items: dict[str, tuple[str, ...]] = {}
        users: dict[str, tuple[str, ...]] | None = {} if self.indexes_users else None
        for tokens, user, k in zip(ids, is_user.tolist(), index.tolist(), strict=True):
            if user:
                assert users is not None
                users[view.users[k]] = tokens
            else:
                items[view.items[k]] = tokens
        if self.index == "users":
            items = {raw: (str(self.rank_start + k),) for k, raw in enumerate(view.items)}
        sizes = np.bincount(labels, minlength=next_group)
        return self._assignment(
            view,
            seed,
            items,
            users,
            coarse + fine,
            cold_items=view.items[~embedding.item_seen].tolist() if self.index != "users" else [],
            cold_users=view.users[~embedding.user_seen].tolist() if self.indexes_users else [],
            vector_tokens=coarse[:n_real],
            vectors=centroids.astype(np.float32),
            groups=n_real,
            noise_bucket=int(noise.sum()) if noise.any() else None,
            cold_bucket=int(cold.sum()) if cold.any() else None,
            largest_group=int(sizes.max()),
            relation=_relation_fact(embedding),
        )
