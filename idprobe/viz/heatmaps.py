"""Paper Fig. 1: item-item similarity of ID representations next to the ground truth.

Each panel is the ``n x n`` cosine similarity matrix of the ID representations of the same
sampled items under one ID strategy (``numeric.cosine_similarity_matrix``); the last panel is
the ground truth (by default the adjusted cosine of the ratings, paper eq. 4). All panels share
one diverging colour scale on [-1, 1]: white is 0, red is similar, blue is opposite.

How to read it: a strategy whose panel is mostly red (RID, SID in the paper) gives unrelated
items similar representations, because they share numeric tokens; a good strategy shows a
mostly pale panel with a few strong cells, like the ground truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

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

__all__ = ["similarity_heatmaps"]

# Above this many items per side the tick labels would overlap; the panels are then unlabelled.
MAX_TICK_LABELS = 20
# Above this many cells a heatmap is embedded as an image in the SVG instead of one vector
# square per cell (50 x 50 items x 4 panels would be 10,000 paths).
RASTER_CELLS = 400
MAX_COLUMNS = 4
COLORMAP = "RdBu_r"


def similarity_heatmaps(
    similarities: Mapping[str, np.ndarray],
    ground_truth: np.ndarray | None = None,
    *,
    ground_truth_label: str = "adjusted cosine (eq. 4)",
    item_labels: Sequence[str] | None = None,
) -> Figure:
    """Paper Fig. 1: one heatmap per strategy (and one for ``ground_truth``) on one colour scale.

    ``similarities`` maps a strategy label to its ``n x n`` similarity matrix (the same ``n``
    sampled items, in the same order, for every strategy); ``ground_truth`` is an ``n x n``
    matrix drawn last under the title ``ground_truth_label``. Values outside [-1, 1] take the
    end colours. ``item_labels`` (``n`` strings) label the rows and columns when ``n <= 20``;
    by default the items are numbered from 0. The figure holds one axes per panel plus one
    colour bar axes (the last of ``fig.axes``).
    """
    entries = _checks.mapping("similarities", similarities)
    # (argument name for errors, panel title, matrix)
    panels = [
        (name, label, _square(name, value))
        for label, value in entries.items()
        for name in [_checks.where("similarities", label)]
    ]
    if ground_truth is not None:
        title = _checks.text("ground_truth_label", ground_truth_label)
        panels.append(("ground_truth", title, _square("ground_truth", ground_truth)))
    size = panels[0][2].shape[0]
    for name, _, matrix in panels:
        if matrix.shape[0] != size:
            raise ConfigError(
                name, f"a {size} x {size} matrix (as the first)", verbatim(f"shape {matrix.shape}")
            )
    if item_labels is None:
        ticks = [str(i) for i in range(size)]
    else:
        ticks = _checks.labels("item_labels", item_labels, size)
    show_ticks = size <= MAX_TICK_LABELS

    with theme():
        import matplotlib as mpl
        import seaborn as sns

        rows, columns = grid_shape(len(panels), MAX_COLUMNS)
        fig, axes = new_figure(rows, columns, panel_width=3.0, panel_height=3.0, extra_width=0.6)
        axes = drop_unused(fig, axes, len(panels))
        for ax, (_, label, matrix) in zip(axes, panels, strict=True):
            with quiet_seaborn():
                sns.heatmap(
                    matrix,
                    ax=ax,
                    vmin=-1.0,
                    vmax=1.0,
                    center=0.0,
                    cmap=COLORMAP,
                    square=True,
                    cbar=False,
                    xticklabels=[plain(t) for t in ticks] if show_ticks else False,
                    yticklabels=[plain(t) for t in ticks] if show_ticks else False,
                    rasterized=matrix.size > RASTER_CELLS,
                )
            ax.grid(False)
            ax.set_title(plain(label))
            if show_ticks:
                ax.tick_params(axis="x", labelrotation=90)
                ax.tick_params(axis="y", labelrotation=0)
        scale = mpl.cm.ScalarMappable(
            norm=mpl.colors.Normalize(vmin=-1.0, vmax=1.0), cmap=mpl.colormaps[COLORMAP]
        )
        fig.colorbar(scale, ax=axes, shrink=0.8, label="cosine similarity")
    return finish(fig)


def _square(parameter: str, value: object) -> np.ndarray:
    matrix = _checks.matrix(parameter, value)
    if matrix.shape[0] != matrix.shape[1]:
        raise ConfigError(parameter, "a square n x n matrix", verbatim(f"shape {matrix.shape}"))
    return matrix
