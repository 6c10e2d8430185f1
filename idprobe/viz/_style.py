"""One look for every figure, and the few drawing helpers the figures share.

Every figure is drawn inside ``theme()``, a fixed ``rc_context``: the result does not depend on
the user's matplotlib settings, and the same inputs give the same pixels. Figures are plain
``matplotlib.figure.Figure`` objects, never registered with pyplot, so drawing thousands of
them leaks nothing and no GUI backend is ever touched.

Colours: ``colors(labels)`` gives the k-th distinct label the k-th colour of seaborn's
"colorblind" palette (``husl`` past 10 labels). Figures pass labels in input order, so the same
variant list gets the same colours in every figure of a report.

Text from datasets (labels, item titles, ID tokens such as ``"$5_off"``) goes through
``plain()`` first: matplotlib would otherwise read a pair of ``$`` as mathtext.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Long labels (item titles) are cut to this many characters, so one title cannot squeeze a
# panel to nothing.
MAX_LABEL_CHARS = 40

# Fixed settings: fonts shipped with matplotlib (DejaVu Sans), a light grid, no TeX, text as
# paths in SVG (no dependence on the viewer's fonts) and a fixed SVG hash salt so element ids
# are the same on every save.
RC: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.title_fontsize": 8.0,
    "legend.frameon": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "lines.linewidth": 1.4,
    "text.usetex": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "idprobe-viz",
    "image.interpolation": "nearest",
}


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """The fixed settings of ``RC``, for drawing and for saving."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


@contextlib.contextmanager
def quiet_seaborn() -> Iterator[None]:
    """Silence seaborn's notices about its own use of matplotlib (e.g. seaborn 0.13's
    ``cmap.set_bad`` PendingDeprecationWarning on every heatmap): nothing a caller can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module="seaborn")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="seaborn")
        yield


def new_figure(
    nrows: int,
    ncols: int,
    *,
    panel_width: float,
    panel_height: float,
    extra_width: float = 0.0,
    **subplot_kw: Any,
) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure of ``nrows x ncols`` panels, axes listed row by row."""
    from matplotlib.figure import Figure

    fig = Figure(
        figsize=(ncols * panel_width + extra_width, nrows * panel_height), layout="constrained"
    )
    grid = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, [ax for row in grid for ax in row]


def grid_shape(panels: int, max_columns: int) -> tuple[int, int]:
    """Rows and columns for ``panels`` panels, at most ``max_columns`` per row."""
    # As few rows as the column limit allows, then the panels spread evenly over them
    # (5 panels: 3 + 2, not 4 + 1).
    rows = math.ceil(panels / max_columns)
    return rows, math.ceil(panels / rows)


def drop_unused(fig: Figure, axes: list[Axes], used: int) -> list[Axes]:
    """Remove the trailing empty panels of a grid; return the used ones."""
    for ax in axes[used:]:
        fig.delaxes(ax)
    return axes[:used]


def plain(label: object, limit: int | None = MAX_LABEL_CHARS) -> str:
    """``label`` as text that matplotlib shows verbatim: ``$`` escaped, and cut to ``limit``
    characters (``None``: never cut; for titles the caller wrote)."""
    text = str(label)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # Escaping every "$" leaves no math span, and matplotlib prints "\$" as "$".
    return text.replace("$", r"\$")


def colors(labels: Sequence[str]) -> dict[str, Any]:
    """One colour per distinct label, assigned in first-appearance order (see module doc)."""
    import seaborn as sns

    distinct = list(dict.fromkeys(labels))
    count = max(len(distinct), 1)
    palette = sns.color_palette("colorblind" if count <= 10 else "husl", count)
    return {label: tuple(palette[i]) for i, label in enumerate(distinct)}


def note(ax: Axes, message: str) -> None:
    """A grey message in the middle of a panel (why something is not drawn)."""
    ax.text(
        0.5,
        0.5,
        message.replace("$", r"\$"),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#777777",
        wrap=True,
    )


def corner_note(ax: Axes, message: str) -> None:
    """A small grey remark in the lower right corner of a panel."""
    ax.text(
        0.99,
        0.01,
        message.replace("$", r"\$"),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        color="#777777",
    )


def legend_entries(labels: Sequence[str], colours: dict[str, Any]) -> tuple[list, list[str]]:
    """Marker handles and texts for a legend of ``labels``, built from proxies so that any
    label shows (matplotlib hides automatic legend entries whose label starts with "_")."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="", color=colours[label], markersize=6)
        for label in labels
    ]
    return handles, [plain(label) for label in labels]


def finish(fig: Figure) -> Figure:
    """Lay the figure out once and freeze it, so that every later save draws the same thing.

    Constrained layout runs again on each draw, starting from the positions of the previous
    one, and a second save of one figure could move things by a pixel. One layout pass here,
    then the engine is switched off: every save, of this figure or of another drawn from the
    same inputs, renders the same positions.
    """
    with theme():
        fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return fig
