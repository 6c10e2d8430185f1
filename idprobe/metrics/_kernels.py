"""Private numba kernels of the representation metrics.

Imported only inside the functions that use them, so ``import idprobe.metrics`` neither imports
numba nor compiles anything; ``cache=True`` keeps the compiled code between processes.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True, fastmath=True, nogil=True)
def pair_symmetric_kl(
    probs: np.ndarray, log_probs: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """``KL(p_a || p_b) + KL(p_b || p_a) = sum_k (p_a[k] - p_b[k]) * (log p_a[k] - log p_b[k])``.

    One value per pair ``(left[n], right[n])``, from rows of precomputed softmax probabilities and
    their logs (a log-softmax, so no row overflows). Accumulates in float64 whatever the input
    dtype. Pairs are independent, so the result does not depend on the number of threads.
    """
    count = left.shape[0]
    width = probs.shape[1]
    out = np.empty(count, dtype=np.float64)
    for n in numba.prange(count):
        a = left[n]
        b = right[n]
        total = 0.0
        for k in range(width):
            total += (np.float64(probs[a, k]) - probs[b, k]) * (
                np.float64(log_probs[a, k]) - log_probs[b, k]
            )
        out[n] = total
    return out


@numba.njit(cache=True, fastmath=True, nogil=True)
def softmax_moments(
    probs: np.ndarray, log_probs: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(sum_i p_i . l_i, sum_i p_i, sum_i l_i)`` in float64, in one pass over the rows.

    The three sums of the exact Diversity Score, without float64 copies of the inputs.
    """
    rows, width = probs.shape
    cross = 0.0
    sum_p = np.zeros(width, dtype=np.float64)
    sum_l = np.zeros(width, dtype=np.float64)
    for i in range(rows):
        for k in range(width):
            p = np.float64(probs[i, k])
            lp = np.float64(log_probs[i, k])
            cross += p * lp
            sum_p[k] += p
            sum_l[k] += lp
    return cross, sum_p, sum_l
