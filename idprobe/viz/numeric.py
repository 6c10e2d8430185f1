"""The small computations behind the figures, in plain numpy (no matplotlib is imported here).

- ``cosine_similarity_matrix``: the item-item cosine similarity of ID representations that the
  heatmaps of paper Fig. 1 show (a zero row is similar to nothing: its row and column are 0).
- ``pearson_r``: the correlation printed in paper Fig. 4 (DS + MS against NDCG@10).
- ``moving_average``: the trailing mean that smooths training losses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idprobe.errors import ConfigError, verbatim
from idprobe.viz import _checks

__all__ = ["cosine_similarity_matrix", "moving_average", "pearson_r"]


def cosine_similarity_matrix(reps: np.ndarray) -> np.ndarray:
    """Cosine similarity ``S[i, j] = <r_i, r_j> / (|r_i| |r_j|)`` between the rows of ``reps``.

    ``reps`` is an ``(n, d)`` array (one ID representation per row). A row of zeros has no
    direction: its similarity to every row, itself included, is 0 (as in
    ``sklearn.metrics.pairwise.cosine_similarity``). Values are clipped to [-1, 1] so rounding
    cannot leave the colour scale of the heatmaps. Returns an ``(n, n)`` float64 array.
    """
    array = _checks.matrix("reps", reps)
    norms = np.linalg.norm(array, axis=1)
    # Divide only the non-zero rows; the zero rows stay zero and give zero similarities.
    unit = np.zeros_like(array)
    nonzero = norms > 0
    unit[nonzero] = array[nonzero] / norms[nonzero, None]
    similarity = unit @ unit.T
    return np.clip(similarity, -1.0, 1.0)


def _vector(parameter: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ConfigError(parameter, "a 1-D sequence of numbers", values)
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ConfigError(parameter, "finite numbers", values)
    return array


def pearson_r(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float | None:
    """Pearson's correlation ``r = cov(x, y) / (sd(x) sd(y))`` of paired values.

    ``None`` when it is undefined or meaningless: fewer than 3 pairs (two points always lie on
    a line, ``r = +-1``), or ``x`` or ``y`` constant. Equals ``scipy.stats.pearsonr(x, y)[0]``
    otherwise (clipped to [-1, 1]).
    """
    xs = _vector("x", x)
    ys = _vector("y", y)
    if xs.shape != ys.shape:
        raise ConfigError("y", f"{xs.shape[0]} values (as many as x)", verbatim(str(ys.shape[0])))
    # Exact constancy test: centring a constant array can leave rounding noise that a
    # "variance == 0" test would miss, and r computed from that noise is meaningless.
    if xs.shape[0] < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    dx = xs - xs.mean()
    dy = ys - ys.mean()
    # Normalising each vector first keeps the products in range for tiny or huge values.
    dx /= np.linalg.norm(dx)
    dy /= np.linalg.norm(dy)
    return float(np.clip(np.dot(dx, dy), -1.0, 1.0))


def moving_average(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Trailing mean ``m[i] = mean(values[max(0, i - window + 1) : i + 1])``.

    The first ``window - 1`` entries average the values seen so far, so the result has the
    length of ``values`` and starts where the curve starts (no lag-shifted or padded start).
    """
    array = _vector("values", values)
    size = _checks.integer("window", window, minimum=1)
    if array.shape[0] == 0:
        return array
    totals = np.cumsum(array)
    shifted = np.concatenate([np.zeros(size), totals])[: array.shape[0]]
    counts = np.minimum(np.arange(1, array.shape[0] + 1), size)
    return (totals - shifted) / counts
