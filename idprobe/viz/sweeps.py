"""One parameter varied, the metrics that follow: paper Fig. 5a (OOV token count G, a line),
Fig. 5b, Fig. 7 and Table 4 (indexing range, initialisation, grouping method: bars).

``series[metric][i]`` is the metric's ``{"value", "low", "high"}`` for ``values[i]``. Read the
line for an optimum (the paper: too many OOV tokens add noise); read the bars group by group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from idprobe.errors import ConfigError, choices, verbatim
from idprobe.viz import _checks
from idprobe.viz._bars import Cell, grouped_bars
from idprobe.viz._style import colors, finish, new_figure, plain, theme

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SWEEP_KINDS", "sweep_plot"]

SWEEP_KINDS = ("auto", "line", "bars")
# A numeric x axis becomes logarithmic when the positive values span this factor or more
# (G = 10 ... 1000 would otherwise crowd the small values together).
LOG_SPAN = 20.0


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def sweep_plot(
    values: Sequence[Any],
    series: Mapping[str, Sequence[Mapping[str, float | None] | None]],
    *,
    param: str,
    title: str = "",
    kind: str = "auto",
) -> Figure:
    """Metrics against the values of one swept parameter ``param`` (the x axis label).

    ``values`` are the parameter values (numbers or strings, distinct); ``series[metric]`` has
    one entry per value: ``{"value", "low", "high"}``, or ``None`` (or a ``None`` value) when
    that run has no such metric (a gap). ``kind``: ``"line"`` draws one line per metric (at the
    numbers themselves when all values are numbers, else evenly spaced in the given order; a
    log x axis when positive numbers span 20x or more) with interval whiskers; ``"bars"`` one
    group of bars per value; ``"auto"`` picks line for numbers, bars otherwise. One
    ``ax.lines`` entry per metric (line), one ``ax.patches`` bar per value drawn (bars).
    """
    xs = _checks.sequence("values", values, min_length=1)
    for index, value in enumerate(xs):
        if not (_is_number(value) or isinstance(value, str)):
            raise ConfigError(f"values[{index}]", "a number or a string", value)
        if _is_number(value) and not np.isfinite(float(value)):
            raise ConfigError(f"values[{index}]", "a finite number", value)
    # Values are told apart by their text (tick labels), so 1 and "1" would be one group.
    if len({str(v) for v in xs}) != len(xs):
        raise ConfigError("values", "values with distinct text", values)
    entries = _checks.mapping("series", series)
    param = _checks.text("param", param)
    if not param:
        raise ConfigError("param", "the name of the swept parameter", param)
    title = _checks.text("title", title)
    if kind not in SWEEP_KINDS:
        raise ConfigError("kind", choices(SWEEP_KINDS), kind)
    numeric = all(_is_number(v) for v in xs)
    line = kind == "line" or (kind == "auto" and numeric)
    cells: dict[tuple[str, str], Cell] = {}
    categories = [str(v) for v in xs]
    for metric, points in entries.items():
        where = _checks.where("series", metric)
        points = _checks.sequence(where, points)
        if len(points) != len(xs):
            raise ConfigError(
                where, f"{len(xs)} entries (one per value)", verbatim(str(len(points)))
            )
        for index, entry in enumerate(points):
            cell = _checks.interval(f"{where}[{index}]", entry)
            if cell is not None:
                cells[(categories[index], metric)] = cell

    with theme():
        palette = colors(list(entries))
        width = 5.0 if line else 1.5 + 0.35 * len(xs) * max(len(entries), 1)
        fig, (ax,) = new_figure(
            1, 1, panel_width=min(width, 14.0), panel_height=3.8, extra_width=0.0 if line else 1.2
        )
        if line:
            positions = [float(v) for v in xs] if numeric else list(range(len(xs)))
            _lines(ax, positions, categories, list(entries), cells, palette)
            ax.set_xticks(positions, [plain(c) for c in categories])
            ax.minorticks_off()
            if numeric and min(positions) > 0 and max(positions) / min(positions) >= LOG_SPAN:
                ax.set_xscale("log")
                ax.set_xticks(positions, [plain(c) for c in categories])
                ax.minorticks_off()
        else:
            grouped_bars(ax, categories, list(entries), cells, palette)
        ax.set_xlabel(plain(param, limit=None))
        ax.set_ylabel("value")
        if title:
            ax.set_title(plain(title, limit=None))
    return finish(fig)


def _lines(
    ax: Axes,
    positions: Sequence[float],
    categories: Sequence[str],
    metrics: Sequence[str],
    cells: Mapping[tuple[str, str], Cell],
    palette: Mapping[str, Any],
) -> None:
    from matplotlib.lines import Line2D

    for metric in metrics:
        xs, ys, whiskers = [], [], []
        for x, category in zip(positions, categories, strict=True):
            cell = cells.get((category, metric))
            if cell is None:
                # NaN breaks the line: a missing run is a gap, not an interpolation.
                xs.append(x)
                ys.append(np.nan)
                continue
            xs.append(x)
            ys.append(cell[0])
            if cell[1] is not None:
                whiskers.append((x, cell[1], cell[2]))
        ax.plot(xs, ys, marker="o", markersize=4, color=palette[metric])
        if whiskers:
            ax.vlines(
                [w[0] for w in whiskers],
                [w[1] for w in whiskers],
                [w[2] for w in whiskers],
                color=palette[metric],
                linewidth=1.0,
            )
    handles = [Line2D([], [], marker="o", color=palette[m]) for m in metrics]
    ax.legend(handles, [plain(m) for m in metrics], loc="best")
