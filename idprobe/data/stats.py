"""Descriptive statistics of a dataset, as printed by ``idprobe data stats``."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from idprobe.data.interactions import Interactions
from idprobe.data.splits import leave_one_out

__all__ = ["DatasetStats", "dataset_stats"]


@dataclass(frozen=True)
class DatasetStats:
    """Size, rating histogram, sequence lengths and cold items of a dataset.

    ``cold_items`` counts items that appear in no user's leave-one-out training part (only as a
    validation or test target), ``cold_test_targets`` the users whose test target is such an item;
    both are ``None`` when some user has fewer than 3 interactions (no leave-one-out split).
    """

    name: str
    source: str
    users: int
    items: int
    interactions: int
    density: float
    rating_histogram: dict[str, int] | None
    rating_scale: list[float] | None
    sequence_length: dict[str, float]
    time_range: list[str] | None
    has_text: bool
    duplicates_removed: int
    cold_items: int | None
    cold_test_targets: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        """A human-readable multi-line summary."""
        rows = self._rows()
        width = max(len(key) for key, _ in rows)
        return "\n".join(f"{key:<{width}}  {value}" for key, value in rows)

    def _repr_html_(self) -> str:
        """The same summary as an HTML table, for notebooks (dataset strings are escaped)."""
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return f"<table>{cells}</table>"

    def _rows(self) -> list[tuple[str, str]]:
        lengths = self.sequence_length
        rows = [
            ("dataset", self.name),
            ("source", self.source),
            ("users", f"{self.users:,}"),
            ("items", f"{self.items:,}"),
            ("interactions", f"{self.interactions:,}"),
            ("density", f"{self.density:.5f}"),
            (
                "sequence length",
                f"min {lengths['min']:g}, median {lengths['median']:g}, mean {lengths['mean']:.2f}, "
                f"p90 {lengths['p90']:g}, max {lengths['max']:g}",
            ),
        ]
        if self.rating_histogram is not None:
            histogram = ", ".join(f"{k}: {v:,}" for k, v in self.rating_histogram.items())
            rows.append(("ratings", histogram))
        else:
            rows.append(("ratings", "none"))
        rows.append(("time range", " to ".join(self.time_range) if self.time_range else "none"))
        rows.append(("review text", "yes" if self.has_text else "no"))
        rows.append(("duplicates removed", f"{self.duplicates_removed:,}"))
        if self.cold_items is None:
            rows.append(("cold items", "n/a (some user has fewer than 3 interactions)"))
        else:
            rows.append(
                (
                    "cold items",
                    f"{self.cold_items:,} (only validation/test targets under leave-one-out)",
                )
            )
            rows.append(("cold test targets", f"{self.cold_test_targets:,}"))
        return rows


def _rating_label(value: float) -> str:
    return f"{value:g}"


def dataset_stats(interactions: Interactions) -> DatasetStats:
    """Compute :class:`DatasetStats` for ``interactions``."""
    lengths = interactions.lengths
    histogram = None
    if interactions.ratings is not None:
        values, counts = np.unique(interactions.ratings, return_counts=True)
        histogram = {_rating_label(float(v)): int(c) for v, c in zip(values, counts, strict=True)}
    time_range = None
    if interactions.timestamps is not None:
        first, last = (
            np.datetime64(int(t), "s")
            for t in (interactions.timestamps.min(), interactions.timestamps.max())
        )
        time_range = [str(first.astype("datetime64[D]")), str(last.astype("datetime64[D]"))]
    cold_items = cold_targets = None
    if lengths.min() >= 3:
        split = leave_one_out(interactions)
        cold_items, cold_targets = int(split.cold_items.size), split.cold_test_targets
    return DatasetStats(
        name=interactions.name,
        source=interactions.source,
        users=interactions.n_users,
        items=interactions.n_items,
        interactions=interactions.n_interactions,
        density=interactions.n_interactions / (interactions.n_users * interactions.n_items),
        rating_histogram=histogram,
        rating_scale=list(interactions.rating_scale) if interactions.rating_scale else None,
        sequence_length={
            "min": int(lengths.min()),
            "median": float(np.median(lengths)),
            "mean": float(lengths.mean()),
            "p90": float(np.percentile(lengths, 90)),
            "max": int(lengths.max()),
        },
        time_range=time_range,
        has_text=interactions.has_text,
        duplicates_removed=interactions.duplicates_removed,
        cold_items=cold_items,
        cold_test_targets=cold_targets,
    )
