"""Paper Fig. 8b: attention from the generated ID tokens to the parts of the input.

Each panel is one prompt of one model: rows are output tokens (or groups of them), columns are
input groups (the user ID, each history item ID, the template words), and a cell is the
attention weight from the row to the column (averaged over heads and layers by the caller).
All panels share one colour scale from 0 to the largest weight shown.

How to read it: in the paper SID spreads attention evenly over the history and ignores the
user ID, while META ID concentrates on the items (and the user) that share tokens with the
output, e.g. the ``<CT18>`` cluster token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from idprobe.errors import ConfigError, verbatim
from idprobe.viz import _checks
from idprobe.viz._style import (
    drop_unused,
    finish,
    grid_shape,
    new_figure,
    plain,
    quiet_seaborn,
    theme,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["attention_heatmap"]

COLORMAP = "rocket_r"
# Cells are annotated with their weight when a panel is this small (readable numbers).
ANNOTATE_CELLS = 80
MAX_COLUMNS = 2


def attention_heatmap(maps: Sequence[Mapping[str, Any]]) -> Figure:
    """Paper Fig. 8b: one attention heatmap per entry of ``maps``.

    Each map has ``title`` (e.g. ``"sid: user 17"``), ``matrix`` (rows x columns, values >= 0),
    ``row_labels`` (one per row: output tokens or groups) and ``col_labels`` (one per column:
    input groups). Labels are drawn verbatim (``"<CT18>"``, ``"$5_off"``, ``"user_17"``); labels
    over 40 characters are shortened. Small panels have their weights written in the cells.
    The figure holds one axes per map plus a shared colour bar (the last of ``fig.axes``).
    """
    entries = _checks.sequence("maps", maps, min_length=1)
    panels = []
    for index, entry in enumerate(entries):
        name = f"maps[{index}]"
        fields = _checks.keys(name, entry, ("title", "matrix", "row_labels", "col_labels"))
        title = _checks.text(f"{name}.title", fields["title"])
        matrix = _checks.matrix(f"{name}.matrix", fields["matrix"])
        if (matrix < 0).any():
            raise ConfigError(f"{name}.matrix", "weights >= 0", verbatim(str(matrix.min())))
        rows = _checks.labels(f"{name}.row_labels", fields["row_labels"], matrix.shape[0])
        cols = _checks.labels(f"{name}.col_labels", fields["col_labels"], matrix.shape[1])
        panels.append((title, matrix, rows, cols))
    top = max(float(matrix.max()) for _, matrix, _, _ in panels)
    top = top if top > 0 else 1.0
    widest = max(matrix.shape[1] for _, matrix, _, _ in panels)
    tallest = max(matrix.shape[0] for _, matrix, _, _ in panels)

    with theme():
        import matplotlib as mpl
        import seaborn as sns

        nrows, ncols = grid_shape(len(panels), MAX_COLUMNS)
        fig, axes = new_figure(
            nrows,
            ncols,
            panel_width=2.0 + 0.45 * widest,
            panel_height=1.8 + 0.35 * tallest,
            extra_width=0.8,
        )
        axes = drop_unused(fig, axes, len(panels))
        for ax, (title, matrix, rows, cols) in zip(axes, panels, strict=True):
            with quiet_seaborn():
                sns.heatmap(
                    matrix,
                    ax=ax,
                    vmin=0.0,
                    vmax=top,
                    cmap=COLORMAP,
                    cbar=False,
                    annot=matrix.size <= ANNOTATE_CELLS,
                    fmt=".2f",
                    annot_kws={"fontsize": 7},
                    linewidths=0.5,
                    linecolor="white",
                    xticklabels=[plain(label) for label in cols],
                    yticklabels=[plain(label) for label in rows],
                )
            ax.grid(False)
            ax.set_title(plain(title, limit=None))
            ax.tick_params(axis="x", labelrotation=45)
            ax.tick_params(axis="y", labelrotation=0)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
            ax.set_xlabel("input")
            ax.set_ylabel("output")
        scale = mpl.cm.ScalarMappable(
            norm=mpl.colors.Normalize(vmin=0.0, vmax=top), cmap=mpl.colormaps[COLORMAP]
        )
        fig.colorbar(scale, ax=axes, shrink=0.8, label="attention weight")
    return finish(fig)
