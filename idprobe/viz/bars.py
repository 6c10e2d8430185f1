"""Ranking metrics of several variants side by side (paper Table 4, Fig. 7).

One group of bars per metric (HR@5, NDCG@5, ...), one colour per variant, whiskers for the
bootstrap interval where there is one. Higher is better for the ranking metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from idprobe.errors import ConfigError
from idprobe.viz import _checks
from idprobe.viz._bars import Cell, grouped_bars
from idprobe.viz._style import colors, finish, new_figure, note, plain, theme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["metric_bars"]

DEFAULT_METRICS = ("hr@5", "ndcg@5", "hr@10", "ndcg@10")


def metric_names(parameter: str, metrics: object) -> list[str]:
    """A non-empty list of distinct metric names."""
    names = _checks.sequence(parameter, metrics, min_length=1)
    for index, name in enumerate(names):
        _checks.text(f"{parameter}[{index}]", name)
    if len(set(names)) != len(names):
        raise ConfigError(parameter, "distinct names", metrics)
    return names


def metric_bars(
    table: Mapping[str, Mapping[str, Mapping[str, float | None]]],
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    title: str = "",
) -> Figure:
    """Grouped bars: ``table[label][metric] = {"value", "low", "high"}`` for each metric.

    ``table[label]`` may be a task's metric block of ``results.json`` as it is: only the names
    in ``metrics`` are read, other keys (``n_users``, ...) are ignored. A metric a label lacks
    (absent, ``None`` or with ``value`` ``None``) leaves a gap; ``low``/``high`` ``None`` give no
    whisker. Metrics no label has are left out of the x axis. One bar per drawn value
    (``ax.patches``).
    """
    entries = _checks.mapping("table", table)
    names = metric_names("metrics", metrics)
    title = _checks.text("title", title)
    cells: dict[tuple[str, str], Cell] = {}
    for label, row in entries.items():
        where = _checks.where("table", label)
        row = _checks.mapping(where, row, allow_empty=True)
        for metric in names:
            cell = _checks.interval(f"{where}[{metric!r}]", row.get(metric))
            if cell is not None:
                cells[(metric, label)] = cell
    shown = [metric for metric in names if any((metric, label) in cells for label in entries)]

    with theme():
        palette = colors(list(entries))
        fig, (ax,) = new_figure(
            1, 1, panel_width=1.2 + 0.9 * len(names), panel_height=3.8, extra_width=1.2
        )
        if shown:
            grouped_bars(ax, shown, list(entries), cells, palette)
        else:
            note(ax, "no values for " + ", ".join(names))
            ax.set_xticks([])
        ax.set_ylabel("value")
        if title:
            ax.set_title(plain(title, limit=None))
    return finish(fig)
