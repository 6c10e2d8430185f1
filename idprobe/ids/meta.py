"""META ID (paper section 4, appendix A): meta-path embeddings, clusters, ``<CT{g}><{1001+rank}>`` IDs."""

from __future__ import annotations

import logging
import time
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

log = logging.getLogger(__name__)

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

    def _indexed(self, embedding: MetaPathEmbedding) -> _Indexed:
        parts = []
        if self.index in ("both", "items"):
            parts.append((False, embedding.items, embedding.item_seen))
        if self.indexes_users:
            parts.append((True, embedding.users, embedding.user_seen))
        return _Indexed(
            is_user=np.concatenate([np.full(len(seen), user) for user, _, seen in parts]),
            index=np.concatenate([np.arange(len(seen)) for _, _, seen in parts]),
            vectors=np.concatenate([table for _, table, _ in parts]).astype(np.float64),
            seen=np.concatenate([seen for _, _, seen in parts]),
        )

    def _labels(self, entities: _Indexed, seed: int) -> tuple[np.ndarray, int, int, int]:
        """Group label of every indexed entity; returns ``(labels, groups, noise, cold)`` where
        labels ``0..groups-1`` are real groups, then come the noise and the cold bucket (if any)."""
        seen, is_user = entities.seen, entities.is_user
        separate = self.clustering == "separate" and self.index == "both"
        parts = [seen & ~is_user, seen & is_user] if separate else [seen]
        labels = np.empty(len(seen), dtype=np.int64)
        noise = np.zeros(len(seen), dtype=bool)
        groups = 0
        for part in parts:
            what = ("users" if is_user[part][0] else "items") if separate else "entities"
            part_labels = self._group(entities.vectors[part], seed, what).labels.copy()
            noise[np.flatnonzero(part)[part_labels < 0]] = True
            part_labels[part_labels >= 0] += groups
            labels[part] = part_labels
            groups = max(groups, int(part_labels.max()) + 1)  # a part may be all noise
        next_label = groups
        for bucket in (noise, ~seen):  # DBSCAN noise, then entities without walks
            if bucket.any():
                labels[bucket] = next_label
                next_label += 1
        return labels, groups, int(noise.sum()), int((~seen).sum())

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        embedding = self._embedding(view, seed)
        entities = self._indexed(embedding)
        started = time.perf_counter()
        labels, groups, noise, cold = self._labels(entities, seed)
        log.info(
            "%s grouping of %d entities into %d groups in %.1f s",
            self.grouping,
            int(entities.seen.sum()),
            groups,
            time.perf_counter() - started,
        )
        rank, centroids = _ranks_and_centroids(entities.vectors, labels, groups, noise > 0)

        n_labels = int(labels.max()) + 1
        coarse = [f"<CT{g}>" for g in range(n_labels)]
        fine = [f"<{self.rank_start + r}>" for r in range(int(rank.max()) + 1)]
        items: dict[str, tuple[str, ...]] = {}
        users: dict[str, tuple[str, ...]] | None = {} if self.indexes_users else None
        for g, r, user, k in zip(
            labels.tolist(),
            rank.tolist(),
            entities.is_user.tolist(),
            entities.index.tolist(),
            strict=True,
        ):
            if user:
                users[view.users[k]] = (coarse[g], fine[r])  # type: ignore[index]
            else:
                items[view.items[k]] = (coarse[g], fine[r])
        if self.index == "users":
            # Items are not indexed: plain-text numbers in catalog order, like RID.
            items = {raw: (str(self.rank_start + k),) for k, raw in enumerate(view.items)}
        return self._assignment(
            view,
            seed,
            items,
            users,
            coarse + fine,
            cold_items=view.items[~embedding.item_seen].tolist() if self.index != "users" else [],
            cold_users=view.users[~embedding.user_seen].tolist() if self.indexes_users else [],
            vector_tokens=coarse[:groups],
            vectors=centroids.astype(np.float32) if groups else None,  # DBSCAN: all noise
            groups=groups,
            noise_bucket=noise or None,
            cold_bucket=cold or None,
            largest_group=int(np.bincount(labels).max()),
            relation=_relation_fact(embedding),
        )


@dataclass(frozen=True, eq=False)
class _Indexed:
    """The entities META ID indexes, items first: kind, dense index, skip-gram vector, walked?"""

    is_user: np.ndarray
    index: np.ndarray
    vectors: np.ndarray
    seen: np.ndarray


def _ranks_and_centroids(
    vectors: np.ndarray, labels: np.ndarray, groups: int, has_noise: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Rank of every entity inside its group, and the centroid of every real group.

    A group's centroid is the mean of its members' vectors (paper eq. 7); members are ranked by
    ascending cosine distance to it, ties in entity order (items first, then dense index). The
    noise bucket is ranked the same way around its own mean; the cold bucket (no vectors) keeps
    entity order, i.e. catalog order.
    """
    rank = np.empty(len(labels), dtype=np.int64)
    centroids = np.zeros((groups, vectors.shape[1]), dtype=np.float64)
    members_of = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[members_of], np.arange(int(labels.max()) + 2))
    for g in range(int(labels.max()) + 1):
        members = members_of[bounds[g] : bounds[g + 1]]
        if g < groups + int(has_noise):
            centre = vectors[members].mean(axis=0)
            if g < groups:
                centroids[g] = centre
            distance = 1.0 - normalize_rows(vectors[members]) @ normalize_rows(centre[None])[0]
            order = np.argsort(distance, kind="stable")
        else:
            order = np.arange(members.size)
        rank[members[order]] = np.arange(members.size)
    return rank, centroids
