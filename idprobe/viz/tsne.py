"""t-SNE maps of ID representations (paper Fig. 2a) and ID token embeddings (paper Fig. 8a).

``tsne_coordinates`` projects vectors to 2-D with openTSNE, single-threaded and seeded, so the
same vectors and seed give the same map. ``tsne_map`` draws the points, coloured by a label.

How to read the maps: t-SNE keeps neighbours, not distances, so look at spread and mixing, not
at axis values. In the paper, IDs made of in-vocabulary tokens (RID, SID) collapse into a small
region, while OOV tokens (CID, META ID) spread out: their representations differ more.
Strategies are only comparable when their vectors were embedded together in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from idprobe.errors import ConfigError, verbatim
from idprobe.viz import _checks
from idprobe.viz._style import (
    colors,
    drop_unused,
    finish,
    grid_shape,
    legend_entries,
    new_figure,
    plain,
    theme,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["tsne_coordinates", "tsne_map"]

MIN_POINTS = 5
# Iterations of early exaggeration (openTSNE's default is 250) before the ``n_iter`` main ones;
# fewer when ``n_iter`` is smaller, so a quick map stays quick.
EARLY_EXAGGERATION_ITER = 250
MAX_COLUMNS = 4
RASTER_POINTS = 5000


def tsne_coordinates(
    vectors: np.ndarray, *, seed: int = 0, perplexity: float = 30.0, n_iter: int = 500
) -> np.ndarray:
    """2-D t-SNE coordinates ``(n, 2)`` of the rows of ``vectors`` ``(n, d)``.

    openTSNE with ``n_jobs=1`` and ``random_state=seed`` (PCA initialisation): the result is a
    function of the inputs. ``perplexity`` is lowered to ``(n - 1) / 3`` for small ``n`` (t-SNE
    needs about ``3 * perplexity`` neighbours per point); ``n_iter`` counts the main
    optimisation iterations, preceded by ``min(250, n_iter)`` of early exaggeration. Needs at
    least 5 finite rows that are not all identical.
    """
    array = _checks.matrix("vectors", vectors)
    if array.shape[0] < MIN_POINTS:
        raise ConfigError(
            "vectors", f"at least {MIN_POINTS} rows", verbatim(f"shape {array.shape}")
        )
    if np.ptp(array, axis=0).max() == 0:
        # Every row the same: the PCA initialisation divides by a zero spread (NaN map).
        raise ConfigError("vectors", "rows that are not all identical", verbatim("identical rows"))
    seed = _checks.integer("seed", seed, minimum=0)
    n_iter = _checks.integer("n_iter", n_iter, minimum=1)
    perplexity_value = _checks.number("perplexity", perplexity)
    if perplexity_value <= 0:
        raise ConfigError("perplexity", "a number > 0", perplexity)
    perplexity_value = min(perplexity_value, (array.shape[0] - 1) / 3)

    # t-SNE only sees neighbourhoods (each point's bandwidth is fitted to the perplexity), so
    # centring and scaling change nothing but keep squared distances of vectors like 1e200
    # from overflowing inside the neighbour search.
    array = array - array.mean(axis=0)
    array /= np.abs(array).max()

    import openTSNE

    model = openTSNE.TSNE(
        n_components=2,
        perplexity=perplexity_value,
        n_iter=n_iter,
        early_exaggeration_iter=min(EARLY_EXAGGERATION_ITER, n_iter),
        n_jobs=1,
        random_state=seed,
        verbose=False,
    )
    coordinates = np.array(model.fit(array), dtype=np.float64)
    if not np.isfinite(coordinates).all():
        raise ConfigError("vectors", "vectors t-SNE can embed", verbatim("a non-finite map"))
    return coordinates


def tsne_map(
    coordinates: np.ndarray,
    labels: Sequence[str],
    *,
    panels: Sequence[str] | None = None,
    title: str = "",
    legend_title: str = "",
) -> Figure:
    """Scatter of 2-D points coloured by ``labels`` (paper Fig. 2a, Fig. 8a).

    ``coordinates`` is ``(n, 2)`` (from ``tsne_coordinates``), ``labels[i]`` the colour group
    of point ``i`` (Fig. 2a: the strategy; Fig. 8a: the token kind). Colours and legend follow
    the first-appearance order of the labels. With ``panels`` (``n`` strings), point ``i`` is
    drawn in the panel named ``panels[i]`` (Fig. 8a: one panel per strategy); panels appear in
    first-appearance order and share their axes, so spreads can be compared. Each panel holds
    one scatter whose offsets are its points in input order; the legend is ``fig.legends[0]``.
    """
    points = _checks.matrix("coordinates", coordinates)
    if points.shape[1] != 2:
        raise ConfigError("coordinates", "an (n, 2) array", verbatim(f"shape {points.shape}"))
    n = points.shape[0]
    groups = _checks.labels("labels", labels, n)
    where = ["" for _ in range(n)] if panels is None else _checks.labels("panels", panels, n)
    title = _checks.text("title", title)
    legend_title = _checks.text("legend_title", legend_title)
    names = list(dict.fromkeys(where))
    order = list(dict.fromkeys(groups))
    # Smaller dots for more points, so 20,000 points do not paint a solid blob.
    size = float(np.clip(4000.0 / max(n, 1), 2.0, 30.0))

    with theme():
        palette = colors(order)
        rows, columns = grid_shape(len(names), MAX_COLUMNS)
        fig, axes = new_figure(
            rows,
            columns,
            panel_width=3.6,
            panel_height=3.4,
            extra_width=1.4,
            sharex=True,
            sharey=True,
        )
        axes = drop_unused(fig, axes, len(names))
        for ax, name in zip(axes, names, strict=True):
            mine = [i for i in range(n) if where[i] == name]
            ax.scatter(
                points[mine, 0],
                points[mine, 1],
                s=size,
                c=[palette[groups[i]] for i in mine],
                linewidths=0,
                alpha=0.8,
                # Past a few thousand points an image is smaller than one SVG path per dot.
                rasterized=len(mine) > RASTER_POINTS,
            )
            if panels is not None:
                ax.set_title(plain(name))
            ax.set_xticks([])
            ax.set_yticks([])
            # No axis values to read (t-SNE axes mean nothing): a plain frame around the map.
            ax.spines[["top", "right"]].set_visible(True)
        handles, texts = legend_entries(order, palette)
        # A figure legend outside the panels: it never covers points, and an empty grid slot
        # does not get squeezed by it.
        fig.legend(
            handles,
            texts,
            title=plain(legend_title, limit=None) if legend_title else None,
            loc="outside right upper",
            ncols=1 if len(order) <= 20 else 2,
        )
        if title:
            fig.suptitle(plain(title, limit=None))
    return finish(fig)
