"""Uncertainty of per-user metric means: bootstrap intervals and a paired randomization test.

A ranking metric is a mean over users of a per-user value (``per_user_hits``, ``per_user_ndcg``,
...). Both tools here resample those per-user values.

- ``bootstrap_ci``: percentile bootstrap (Efron & Tibshirani, 1993) of the mean: draw ``n``
  users with replacement ``B`` times, and take the ``(1 - c) / 2`` and ``(1 + c) / 2`` quantiles
  of the ``B`` resampled means (``np.quantile``, linear interpolation, as
  ``scipy.stats.bootstrap(method="percentile")``).
- ``paired_randomization_test``: two systems scored on the *same* users, ``d_u = a_u - b_u``.
  Under the null hypothesis that the two systems are exchangeable for each user, every sign of
  ``d_u`` is equally likely. With ``T(s) = mean_u s_u d_u`` and ``T_obs = mean_u d_u``, the
  two-sided p-value is the share of sign vectors with ``|T(s)| >= |T_obs|`` (Fisher's
  randomization test; Smucker, Allan & Carterette, CIKM 2007, for IR metrics). When
  ``2^n <= n_permutations`` all ``2^n`` sign vectors are enumerated (exact p-value);
  otherwise ``n_permutations`` random ones are drawn and ``p = (count + 1) / (n_permutations
  + 1)``, which counts the observed signs once and is never 0 (Phipson & Smyth, 2010).

Both are vectorised in chunks of at most about ``2^22`` numbers, so 22k users x 10k
permutations needs tens of megabytes, not gigabytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from idprobe.errors import ConfigError, verbatim
from idprobe.metrics._checks import check_count
from idprobe.metrics._result import MetricResult

__all__ = ["PairedTestResult", "bootstrap_ci", "paired_randomization_test"]

# Numbers per chunk of resamples (indices or sign bits): bounds the memory whatever n is.
_CHUNK_ELEMENTS = 1 << 22


def _check_values(parameter: str, values: Any, min_length: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ConfigError(
            parameter, "a 1-D array of per-user values", verbatim(f"shape {array.shape}")
        )
    if array.dtype == np.bool_:
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ConfigError(parameter, "a numeric array", verbatim(f"dtype {array.dtype}"))
    array = array.astype(np.float64)
    if array.shape[0] < min_length:
        raise ConfigError(parameter, f"at least {min_length} values", verbatim(f"{array.shape[0]}"))
    finite = np.isfinite(array)
    if not finite.all():
        index = int(np.flatnonzero(~finite)[0])
        raise ConfigError(parameter, "finite values", verbatim(f"{array[index]} at index {index}"))
    return array


def _check_confidence(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float | np.floating):
        raise ConfigError("confidence", "a number in (0, 1)", confidence)
    if not 0.0 < float(confidence) < 1.0:
        raise ConfigError("confidence", "a number in (0, 1)", confidence)
    return float(confidence)


def _chunks(total: int, per_item: int) -> list[int]:
    """Split ``total`` resamples into chunks of at most ``_CHUNK_ELEMENTS / per_item`` each."""
    size = max(1, _CHUNK_ELEMENTS // max(per_item, 1))
    return [min(size, total - start) for start in range(0, total, size)]


def bootstrap_ci(
    values: Any,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap interval ``(low, high)`` of the mean of ``values`` (module docstring).

    Args:
        values: per-user values (at least 2, finite).
        n_resamples: bootstrap resamples ``B``.
        confidence: coverage ``c`` of the interval, in (0, 1).
        seed: seed of ``numpy.random.default_rng``; the result does not depend on the chunking.
    """
    array = _check_values("values", values, min_length=2)
    n_resamples = check_count("n_resamples", n_resamples)
    confidence = _check_confidence(confidence)
    seed = check_count("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    n = array.shape[0]
    means = np.empty(n_resamples, dtype=np.float64)
    start = 0
    for size in _chunks(n_resamples, n):
        draws = rng.integers(0, n, size=(size, n))
        means[start : start + size] = array[draws].mean(axis=1)
        start += size
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


@dataclass(frozen=True)
class PairedTestResult(MetricResult):
    """A two-sided paired randomization (sign-flip) test of ``mean(a - b) = 0``.

    Attributes:
        mean_difference: ``mean(a) - mean(b)`` over the ``n`` users.
        p_value: two-sided p-value (exact, or ``(count + 1) / (n_permutations + 1)``).
        n: users.
        n_permutations: sign vectors compared (``2^n`` when ``exact``).
        exact: whether all ``2^n`` sign vectors were enumerated.
        seed: seed of the random sign vectors (``None`` when exact).
    """

    mean_difference: float
    p_value: float
    n: int
    n_permutations: int
    exact: bool
    seed: int | None


def _count_extreme(bits: np.ndarray, diff: np.ndarray, total: float, threshold: float) -> int:
    """Sign vectors (rows of ``bits``: 1 = flip) whose ``|sum_u s_u d_u| >= threshold``."""
    # sum_u s_u d_u with s_u = 1 - 2 bit_u; computed like ``total`` so bits = 0 reproduces it.
    sums = total - 2.0 * (bits @ diff)
    return int(np.count_nonzero(np.abs(sums) >= threshold))


def paired_randomization_test(
    a: Any,
    b: Any,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> PairedTestResult:
    """Two-sided sign-flip test that systems ``a`` and ``b`` have the same mean over users.

    Args:
        a: per-user values of system A (e.g. ``per_user_ndcg(ranks_a, 10)``).
        b: per-user values of system B on the same users, in the same order.
        n_permutations: random sign vectors; when ``2^n <= n_permutations`` the test is exact.
        seed: seed of ``numpy.random.default_rng`` for the random sign vectors.
    """
    first = _check_values("a", a, min_length=1)
    second = _check_values("b", b, min_length=1)
    if second.shape[0] != first.shape[0]:
        raise ConfigError(
            "b", f"values for the same {first.shape[0]} users as a", verbatim(f"{second.shape[0]}")
        )
    n_permutations = check_count("n_permutations", n_permutations)
    seed = check_count("seed", seed, minimum=0)
    diff = first - second
    n = diff.shape[0]
    total = float(diff.sum())
    # Sign vectors whose sum differs from |total| only by rounding count as ties (as scipy does).
    threshold = abs(total) - 1e-9 * float(np.abs(diff).sum())
    exact = n < 63 and (1 << n) <= n_permutations
    count = 0
    if exact:
        n_vectors = 1 << n
        shifts = np.arange(n, dtype=np.uint64)
        start = 0
        for size in _chunks(n_vectors, n):
            codes = np.arange(start, start + size, dtype=np.uint64)
            bits = ((codes[:, None] >> shifts) & np.uint64(1)).astype(np.float64)
            count += _count_extreme(bits, diff, total, threshold)
            start += size
        p_value = count / n_vectors
        used = n_vectors
    else:
        rng = np.random.default_rng(seed)
        words = -(-n // 64)  # 64 sign bits per random draw
        for size in _chunks(n_permutations, n):
            raw = rng.integers(
                0, np.iinfo(np.uint64).max, size=(size, words), dtype=np.uint64, endpoint=True
            )
            bits = np.unpackbits(
                raw.astype("<u8").view(np.uint8), axis=1, count=n, bitorder="little"
            ).astype(np.float64)
            count += _count_extreme(bits, diff, total, threshold)
        p_value = (count + 1) / (n_permutations + 1)
        used = n_permutations
    return PairedTestResult(
        mean_difference=total / n,
        p_value=float(min(p_value, 1.0)),
        n=n,
        n_permutations=used,
        exact=exact,
        seed=None if exact else seed,
    )
