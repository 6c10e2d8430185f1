"""``Interactions``: every user's chronological sequence of items, with optional ratings and text.

Three ID spaces exist in idprobe (DESIGN.md). This module owns the first two:

* **raw ids** are the strings of the source data (``"A1YJEY40YUW4SE"``, ``"B00004TMFE"``, ``"196"``);
* **dense indices** are ``0..n-1`` positions into ``Interactions.users`` / ``Interactions.items``.

Dense user indices follow the order in which users first appear in the source (so "file order"
is recoverable). Dense item indices follow the *sorted* raw item ids (numerically when every raw id
is a decimal number), so the item index carries no information about who bought what, or when:
it can never leak a held-out item the way the P5 numbering does (REFERENCE.md, pitfall 1).

Storage is columnar and CSR-like: the items of user ``u`` are
``item_index[offsets[u]:offsets[u + 1]]`` in chronological order, and every per-interaction
column (ratings, timestamps, review texts) is aligned with ``item_index``. All arrays are
read-only; "modifying" an ``Interactions`` returns a new one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from idprobe.errors import ConfigError, DataFormatError, DatasetError, choices, verbatim

__all__ = ["DUPLICATE_POLICIES", "DuplicatePolicy", "Interactions", "sorted_raw_ids"]

DuplicatePolicy = Literal["first", "last", "error"]
#: How repeated (user, item) pairs are handled. ``first`` (the default) keeps the chronologically
#: first interaction: a sequence recommender predicts the next *new* item, and the first purchase
#: is the one that reveals the preference. ``last`` keeps the latest (e.g. an updated rating);
#: ``error`` refuses data with repeats.
DUPLICATE_POLICIES: tuple[str, ...] = ("first", "last", "error")


def sorted_raw_ids(raw_ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """Unique raw ids in a canonical order: numeric when all are decimal numbers, else lexicographic."""
    unique = {str(raw) for raw in raw_ids}
    numeric = bool(unique) and all(raw.isdecimal() for raw in unique)
    ordered = sorted(unique, key=int) if numeric else sorted(unique)
    return _object_array(ordered)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _object_array(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values) if not isinstance(values, np.ndarray) else values
    return out


@dataclass(frozen=True, eq=False, repr=False)
class Interactions:
    """Users' chronological item sequences, with optional ratings, timestamps and review text.

    Build one with :meth:`from_events` (from per-interaction columns in any order) or through a
    reader (:func:`idprobe.data.load_dataset`). The constructor validates its input: no user
    without items, item indices inside the catalog, finite ratings inside ``rating_scale``,
    timestamps non-decreasing within each user, one entry per (user, item).

    Attributes:
        users: raw user ids (``str``), indexed by dense user index.
        items: raw item ids (``str``), indexed by dense item index. The catalog may hold items
            without interactions (a training view keeps the whole catalog).
        offsets: ``int64`` array of ``n_users + 1`` CSR offsets into the per-interaction columns.
        item_index: dense item index of every interaction, users' sequences one after another.
        ratings: ``float32`` rating per interaction, or ``None``.
        timestamps: ``int64`` Unix seconds per interaction, or ``None``.
        review_texts, review_summaries: ``object`` arrays of ``str`` (or ``None`` where a review
            has no text), or ``None`` when the source has no text at all.
        rating_scale: the declared ``(lowest, highest)`` rating, or ``None``.
        name: a short dataset name used in reports.
        source: where the data came from (path and reader options, or generator parameters).
        user_info, item_info: extra columns aligned with ``users`` / ``items`` (e.g. ``title``).
        duplicates_removed: how many repeated (user, item) interactions the policy dropped.
    """

    users: np.ndarray
    items: np.ndarray
    offsets: np.ndarray
    item_index: np.ndarray
    ratings: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    review_texts: np.ndarray | None = None
    review_summaries: np.ndarray | None = None
    rating_scale: tuple[float, float] | None = None
    name: str = "interactions"
    source: str = ""
    user_info: Mapping[str, np.ndarray] = field(default_factory=dict)
    item_info: Mapping[str, np.ndarray] = field(default_factory=dict)
    duplicates_removed: int = 0

    # ------------------------------------------------------------------ construction

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "users", _readonly(_object_array(self.users)))
        set_(self, "items", _readonly(_object_array(self.items)))
        set_(self, "offsets", _readonly(np.asarray(self.offsets, dtype=np.int64)))
        set_(self, "item_index", _readonly(np.asarray(self.item_index, dtype=np.int32)))
        if self.ratings is not None:
            set_(self, "ratings", _readonly(np.asarray(self.ratings, dtype=np.float32)))
        if self.timestamps is not None:
            set_(self, "timestamps", _readonly(np.asarray(self.timestamps, dtype=np.int64)))
        for name in ("review_texts", "review_summaries"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, _readonly(_object_array(value)))
        if self.rating_scale is not None:
            set_(self, "rating_scale", (float(self.rating_scale[0]), float(self.rating_scale[1])))
        set_(self, "user_info", {k: _readonly(np.asarray(v)) for k, v in self.user_info.items()})
        set_(self, "item_info", {k: _readonly(np.asarray(v)) for k, v in self.item_info.items()})
        self._validate()

    def _validate(self) -> None:
        n_users, n_items, n = len(self.users), len(self.items), len(self.item_index)
        if n == 0:
            raise DatasetError(f"{self.name}: has no interactions")
        if self.offsets.shape != (n_users + 1,) or self.offsets[0] != 0 or self.offsets[-1] != n:
            raise DatasetError(
                f"{self.name}: offsets must have n_users + 1 = {n_users + 1} entries from 0 to "
                f"{n}, found {self.offsets.shape[0]} entries from {self.offsets[0]} to {self.offsets[-1]}"
            )
        lengths = np.diff(self.offsets)
        if (lengths <= 0).any():
            user = int(np.flatnonzero(lengths <= 0)[0])
            raise DatasetError(f"{self.name}: user {self.users[user]!r} has no interactions")
        if len(set(self.users.tolist())) != n_users:
            raise DatasetError(f"{self.name}: raw user ids are not unique")
        if len(set(self.items.tolist())) != n_items:
            raise DatasetError(f"{self.name}: raw item ids are not unique")
        if n and (self.item_index.min() < 0 or self.item_index.max() >= n_items):
            raise DatasetError(f"{self.name}: item index outside 0..{n_items - 1}")
        for column in ("ratings", "timestamps", "review_texts", "review_summaries"):
            value = getattr(self, column)
            if value is not None and len(value) != n:
                raise DatasetError(f"{self.name}: {column} has {len(value)} entries, expected {n}")
        if self.ratings is not None:
            self._validate_ratings()
        if self.timestamps is not None:
            steps = np.diff(self.timestamps)
            within_user = np.ones(max(n - 1, 0), dtype=bool)
            within_user[self.offsets[1:-1] - 1] = False
            if (steps[within_user] < 0).any():
                raise DatasetError(f"{self.name}: timestamps decrease within a user's sequence")
        for side, info, size in (
            ("user", self.user_info, n_users),
            ("item", self.item_info, n_items),
        ):
            for key, column in info.items():
                if len(column) != size:
                    raise DatasetError(
                        f"{self.name}: {side}_info[{key!r}] has {len(column)} entries, expected {size}"
                    )
        pair = self.user_of_interaction.astype(np.int64) * max(n_items, 1) + self.item_index
        if np.unique(pair).size != n:
            raise DatasetError(f"{self.name}: a (user, item) pair occurs more than once")

    def _validate_ratings(self) -> None:
        ratings = self.ratings
        assert ratings is not None
        if not np.isfinite(ratings).all():
            bad = int(np.flatnonzero(~np.isfinite(ratings))[0])
            raise DatasetError(
                f"{self.name}: rating of interaction {bad} is {ratings[bad]}, expected a finite number"
            )
        if self.rating_scale is not None:
            low, high = self.rating_scale
            outside = (ratings < low) | (ratings > high)
            if outside.any():
                bad = int(np.flatnonzero(outside)[0])
                raise DatasetError(
                    f"{self.name}: rating {ratings[bad]:g} of interaction {bad} is outside the scale [{low:g}, {high:g}]"
                )

    @classmethod
    def from_events(
        cls,
        users: Sequence[str] | np.ndarray,
        items: Sequence[str] | np.ndarray,
        *,
        ratings: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[int] | np.ndarray | None = None,
        review_texts: Sequence[str | None] | np.ndarray | None = None,
        review_summaries: Sequence[str | None] | np.ndarray | None = None,
        rating_scale: tuple[float, float] | None = None,
        duplicates: DuplicatePolicy = "first",
        name: str = "interactions",
        source: str = "",
        item_info: Mapping[str, Mapping[str, Any]] | None = None,
        user_info: Mapping[str, Mapping[str, Any]] | None = None,
        lines: Sequence[int] | np.ndarray | None = None,
    ) -> Interactions:
        """Build ``Interactions`` from one entry per interaction, in source order.

        Each user's interactions are ordered by timestamp when there are timestamps, ties (and
        data without timestamps) keeping source order: a stable, deterministic order, unlike an
        unstable sort on equal timestamps (REFERENCE.md, pitfall 9).

        Args:
            users, items: raw ids per interaction (converted to ``str``).
            ratings, timestamps, review_texts, review_summaries: optional per-interaction columns.
            rating_scale: declared ``(lowest, highest)`` rating; ratings outside it are an error.
            duplicates: policy for repeated (user, item) pairs, one of ``DUPLICATE_POLICIES``.
            name, source: dataset name and provenance text.
            item_info, user_info: ``{column: {raw_id: value}}`` extra columns; entities missing
                from a mapping get ``None``.
            lines: source line of each interaction, used only to point errors at the file.
        """
        if duplicates not in DUPLICATE_POLICIES:
            raise ConfigError("duplicates", choices(DUPLICATE_POLICIES), duplicates)
        # Plain Python strings (not numpy scalars); str() of a str is the same object, no copy.
        user_raw = [str(u) for u in users]
        item_raw = [str(i) for i in items]
        n = len(user_raw)
        if n == 0:
            raise DatasetError(f"{source or name}: has no interactions")
        if len(item_raw) != n:
            raise DatasetError(f"{name}: {len(item_raw)} items for {n} users")

        # Users: dense index in order of first appearance (file order).
        user_codes: dict[str, int] = {}
        user_code = np.fromiter(
            (user_codes.setdefault(u, len(user_codes)) for u in user_raw), np.int64, n
        )
        user_ids = np.array(list(user_codes), dtype=object)
        # Items: dense index in canonical sorted order (no information about sequences).
        item_ids = sorted_raw_ids(item_raw)
        item_codes = {raw: i for i, raw in enumerate(item_ids)}
        item_code = np.fromiter((item_codes[i] for i in item_raw), np.int64, n)

        ts = None if timestamps is None else np.asarray(timestamps, dtype=np.int64)
        position = np.arange(n)
        keys = (position, user_code) if ts is None else (position, ts, user_code)
        order = np.lexsort(keys)

        pair = user_code[order] * len(item_ids) + item_code[order]
        keep_sorted, removed = _apply_duplicate_policy(
            pair, duplicates, order, lines, source or name, item_raw
        )
        order = order[keep_sorted]

        def take(column: Any, dtype: Any = None) -> np.ndarray | None:
            if column is None:
                return None
            array = np.asarray(column, dtype=dtype) if dtype is not None else _object_array(column)
            if len(array) != n:
                raise DatasetError(f"{name}: a column has {len(array)} entries, expected {n}")
            return array[order]

        counts = np.bincount(user_code[order], minlength=len(user_ids))
        offsets = np.concatenate(([0], np.cumsum(counts)))

        def info(
            mapping: Mapping[str, Mapping[str, Any]] | None, ids: np.ndarray
        ) -> dict[str, np.ndarray]:
            return {
                key: _object_array([values.get(raw) for raw in ids])
                for key, values in (mapping or {}).items()
            }

        return cls(
            users=user_ids,
            items=item_ids,
            offsets=offsets,
            item_index=item_code[order],
            ratings=take(ratings, np.float32),
            timestamps=None if ts is None else ts[order],
            review_texts=take(review_texts),
            review_summaries=take(review_summaries),
            rating_scale=rating_scale,
            name=name,
            source=source,
            user_info=info(user_info, user_ids),
            item_info=info(item_info, item_ids),
            duplicates_removed=removed,
        )

    # ------------------------------------------------------------------ sizes and lookups

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_interactions(self) -> int:
        return len(self.item_index)

    def __len__(self) -> int:
        return self.n_interactions

    @property
    def has_ratings(self) -> bool:
        return self.ratings is not None

    @property
    def has_timestamps(self) -> bool:
        return self.timestamps is not None

    @property
    def has_text(self) -> bool:
        return self.review_texts is not None or self.review_summaries is not None

    @cached_property
    def lengths(self) -> np.ndarray:
        """Sequence length of every user (dense user index -> number of interactions)."""
        return _readonly(np.diff(self.offsets))

    @cached_property
    def user_of_interaction(self) -> np.ndarray:
        """Dense user index of every interaction, aligned with ``item_index``."""
        return _readonly(np.repeat(np.arange(self.n_users, dtype=np.int32), np.diff(self.offsets)))

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Number of interactions of every item (dense item index -> count; 0 for catalog-only items)."""
        return _readonly(np.bincount(self.item_index, minlength=self.n_items))

    @cached_property
    def _user_lookup(self) -> dict[str, int]:
        return {raw: i for i, raw in enumerate(self.users.tolist())}

    @cached_property
    def _item_lookup(self) -> dict[str, int]:
        return {raw: i for i, raw in enumerate(self.items.tolist())}

    def user_index_of(self, raw_user_id: str) -> int:
        """Dense index of a raw user id (``KeyError`` naming the id when unknown)."""
        try:
            return self._user_lookup[str(raw_user_id)]
        except KeyError:
            raise KeyError(f"unknown user id {raw_user_id!r} in {self.name}") from None

    def item_index_of(self, raw_item_id: str) -> int:
        """Dense index of a raw item id (``KeyError`` naming the id when unknown)."""
        try:
            return self._item_lookup[str(raw_item_id)]
        except KeyError:
            raise KeyError(f"unknown item id {raw_item_id!r} in {self.name}") from None

    def sequence(self, user: int) -> np.ndarray:
        """Dense item indices of user ``user`` (a dense user index), in chronological order."""
        return self.item_index[self.offsets[user] : self.offsets[user + 1]]

    def sequences(self) -> Iterator[np.ndarray]:
        """Every user's sequence of dense item indices, in dense user order."""
        for start, end in zip(self.offsets[:-1], self.offsets[1:], strict=True):
            yield self.item_index[start:end]

    def raw_sequences(self) -> dict[str, list[str]]:
        """``{raw user id: [raw item id, ...]}`` in chronological order."""
        items = self.items
        return {
            user: items[seq].tolist()
            for user, seq in zip(self.users.tolist(), self.sequences(), strict=True)
        }

    # ------------------------------------------------------------------ derived datasets

    def select(
        self, keep: np.ndarray, *, keep_catalog: bool = False, name: str | None = None
    ) -> Interactions:
        """The interactions where the boolean mask ``keep`` is true, order preserved.

        Users left without interactions are dropped. Items left without interactions are dropped
        too, unless ``keep_catalog`` (then dense item indices stay the same).
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_interactions,):
            raise ValueError(f"keep mask has shape {keep.shape}, expected ({self.n_interactions},)")
        kept_user = self.user_of_interaction[keep]
        user_counts = np.bincount(kept_user, minlength=self.n_users)
        users_left = np.flatnonzero(user_counts > 0)
        item_index = self.item_index[keep]
        items, item_info = self.items, dict(self.item_info)
        if not keep_catalog:
            items_left = np.flatnonzero(np.bincount(item_index, minlength=self.n_items) > 0)
            remap = np.full(self.n_items, -1, dtype=np.int64)
            remap[items_left] = np.arange(items_left.size)
            item_index = remap[item_index]
            items = self.items[items_left]
            item_info = {k: v[items_left] for k, v in self.item_info.items()}

        def column(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[keep]

        return dataclasses.replace(
            self,
            users=self.users[users_left],
            items=items,
            offsets=np.concatenate(([0], np.cumsum(user_counts[users_left]))),
            item_index=item_index,
            ratings=column(self.ratings),
            timestamps=column(self.timestamps),
            review_texts=column(self.review_texts),
            review_summaries=column(self.review_summaries),
            user_info={k: v[users_left] for k, v in self.user_info.items()},
            item_info=item_info,
            name=name or self.name,
        )

    def to_frame(self) -> Any:
        """One row per interaction as a ``pandas.DataFrame`` (raw ids, dense indices, columns)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pandas is in the 'analysis' extra, not a core dependency
            raise ImportError(
                "Interactions.to_frame needs pandas: pip install 'idprobe[analysis]'"
            ) from exc
        frame = pd.DataFrame(
            {
                "user": self.users[self.user_of_interaction],
                "item": self.items[self.item_index],
                "user_index": self.user_of_interaction,
                "item_index": self.item_index,
            }
        )
        for column in ("ratings", "timestamps", "review_texts", "review_summaries"):
            value = getattr(self, column)
            if value is not None:
                frame[column.removesuffix("s")] = value
        return frame

    def __repr__(self) -> str:
        extras = [c for c in ("ratings", "timestamps") if getattr(self, c) is not None]
        if self.has_text:
            extras.append("text")
        return (
            f"Interactions({self.name!r}: {self.n_users:,} users, {self.n_items:,} items, "
            f"{self.n_interactions:,} interactions{'; ' + ', '.join(extras) if extras else ''})"
        )


def _apply_duplicate_policy(
    pair_sorted: np.ndarray,
    policy: str,
    order: np.ndarray,
    lines: Sequence[int] | np.ndarray | None,
    where: str,
    item_raw: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Positions (into the sorted order) to keep under ``policy``, and how many were dropped."""
    n = len(pair_sorted)
    if policy == "last":
        _, last_from_end = np.unique(pair_sorted[::-1], return_index=True)
        keep = np.sort(n - 1 - last_from_end)
    else:
        _, first = np.unique(pair_sorted, return_index=True)
        keep = np.sort(first)
    removed = n - keep.size
    if removed and policy == "error":
        dropped = np.ones(n, dtype=bool)
        dropped[keep] = False
        repeat = int(np.flatnonzero(dropped)[0])
        original = int(np.flatnonzero(pair_sorted == pair_sorted[repeat])[0])
        line_of = (
            (lambda p: int(lines[order[p]])) if lines is not None else (lambda p: int(order[p]) + 1)
        )
        raise DataFormatError(
            where,
            line_of(repeat),
            "item",
            f"each (user, item) pair once (duplicates='error'; first seen at line {line_of(original)})",
            verbatim(f"{item_raw[order[repeat]]!r} again for the same user"),
        )
    return keep, removed
