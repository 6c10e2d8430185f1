"""Figures only: every function takes plain numbers, arrays and dicts and returns a
``matplotlib.figure.Figure`` (never shown, never registered with pyplot).

Which figure answers what (paper figures in brackets):

- ``similarity_heatmaps`` [Fig. 1]: do unrelated items get similar ID representations?
- ``tsne_coordinates`` + ``tsne_map`` [Fig. 2a, 8a]: how spread out are the representations?
- ``ds_ms_scatter`` [Fig. 2b]: diversity against memorization, per strategy.
- ``score_correlation`` [Fig. 4]: do DS + MS predict ranking quality?
- ``sweep_plot`` [Fig. 5, 7, Table 4]: metrics against one varied parameter.
- ``ds_convergence_plot`` [Fig. 6]: how many sampled pairs the Diversity Score needs.
- ``attention_heatmap`` [Fig. 8b]: where the model looks when it writes an ID.
- ``metric_bars``, ``training_curves``, ``id_statistics``: results, training, ID shapes.
- ``save_figure``: PNG + SVG, atomic and byte-for-byte reproducible.

Numeric helpers in plain numpy: ``cosine_similarity_matrix``, ``pearson_r``,
``moving_average``.

Importing this package is cheap: matplotlib, seaborn and openTSNE are imported inside the
functions that draw or embed. Figures are deterministic: the same inputs give the same PNG and
SVG bytes (see ``save_figure``).
"""

from __future__ import annotations

from idprobe.viz.attention import attention_heatmap
from idprobe.viz.bars import metric_bars
from idprobe.viz.heatmaps import similarity_heatmaps
from idprobe.viz.ids import id_statistics
from idprobe.viz.numeric import cosine_similarity_matrix, moving_average, pearson_r
from idprobe.viz.save import save_figure
from idprobe.viz.scores import ds_convergence_plot, ds_ms_scatter, score_correlation
from idprobe.viz.sweeps import SWEEP_KINDS, sweep_plot
from idprobe.viz.training import training_curves
from idprobe.viz.tsne import tsne_coordinates, tsne_map

__all__ = [
    "SWEEP_KINDS",
    "attention_heatmap",
    "cosine_similarity_matrix",
    "ds_convergence_plot",
    "ds_ms_scatter",
    "id_statistics",
    "metric_bars",
    "moving_average",
    "pearson_r",
    "save_figure",
    "score_correlation",
    "similarity_heatmaps",
    "sweep_plot",
    "training_curves",
    "tsne_coordinates",
    "tsne_map",
]
