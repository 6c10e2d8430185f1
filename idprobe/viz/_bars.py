"""Grouped bars with optional interval whiskers, shared by ``metric_bars`` and ``sweep_plot``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from idprobe.viz._style import plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# (value, low, high); low/high None when no interval was computed.
Cell = tuple[float, float | None, float | None]

# Share of a category's slot taken by its group of bars (the rest separates the groups).
GROUP_WIDTH = 0.8


def grouped_bars(
    ax: Axes,
    categories: Sequence[str],
    hues: Sequence[str],
    cells: Mapping[tuple[str, str], Cell],
    palette: Mapping[str, Any],
    *,
    legend_title: str | None = None,
) -> int:
    """Draw ``cells[(category, hue)]`` as bars: one group per category along x, one colour per
    hue, each hue at the same place in every group (a missing cell leaves a gap). Whiskers span
    ``[low, high]`` where given. Returns the number of bars drawn."""
    from matplotlib.patches import Patch

    width = GROUP_WIDTH / max(len(hues), 1)
    drawn = 0
    for j, hue in enumerate(hues):
        offset = (j - (len(hues) - 1) / 2) * width
        xs, heights, lows, highs = [], [], [], []
        for i, category in enumerate(categories):
            cell = cells.get((category, hue))
            if cell is None:
                continue
            xs.append(i + offset)
            heights.append(cell[0])
            lows.append(cell[1])
            highs.append(cell[2])
        if not xs:
            continue
        ax.bar(xs, heights, width=width * 0.95, color=palette[hue])
        drawn += len(xs)
        whiskers = [k for k in range(len(xs)) if lows[k] is not None]
        if whiskers:
            ax.vlines(
                [xs[k] for k in whiskers],
                [lows[k] for k in whiskers],
                [highs[k] for k in whiskers],
                color="#333333",
                linewidth=1.0,
            )
    # Long labels ("sid init=random") would run into each other: one word per line instead.
    ax.set_xticks(
        range(len(categories)),
        [plain(c).replace(" ", "\n") if len(str(c)) > 10 else plain(c) for c in categories],
    )
    ax.set_xlim(-0.6, len(categories) - 0.4)
    ax.axhline(0.0, color="#555555", linewidth=0.8)
    ax.grid(False, axis="x")
    handles = [Patch(color=palette[hue]) for hue in hues]
    # Outside the axes, on the right: with many variants an inside legend covers bars.
    ax.legend(
        handles,
        [plain(h) for h in hues],
        title=legend_title,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    return drawn
