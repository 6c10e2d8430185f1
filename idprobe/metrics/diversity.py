"""Diversity Score (DS) of ID representations (META ID paper, section 3.3, eq. 3 and appendix B).

Each representation ``e_i`` becomes a distribution over its dimensions, ``p_i = softmax(e_i / T)``
(temperature ``T = 1`` and no normalisation first, as in the released code). The score of a pair
is half its symmetric Kullback-Leibler divergence, and DS is the mean over pairs ``i != j``::

    DS = mean_{(i, j)} [KL(p_i || p_j) + KL(p_j || p_i)] / 2

The paper samples ``N`` random pairs (eq. 3; the reference code draws 10,000 with an unseeded
generator). Because ``KL(p||q) + KL(q||p) = (p - q) . (log p - log q)``, the mean over *all*
ordered pairs has an exact O(N d) form (REFERENCE.md), used by ``method="exact"``::

    DS_exact = [N sum_i p_i.l_i - (sum_i p_i).(sum_i l_i)] / (N (N - 1)),    l_i = log p_i

(the sums are accumulated in float64 in one numba pass, so nearly identical rows leave only
rounding of order 1e-15). DS >= 0, and DS = 0 exactly when all rows give the same distribution
(e.g. rows equal up to a constant shift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import log_softmax

from idprobe.errors import ConfigError
from idprobe.metrics._checks import (
    check_count,
    check_option,
    check_positive,
    check_representations,
)
from idprobe.metrics._result import MetricResult

__all__ = [
    "DIVERSITY_METHODS",
    "DiversityConvergence",
    "DiversityResult",
    "diversity_convergence",
    "diversity_score",
    "sample_pairs",
]

DIVERSITY_METHODS = ("sampled", "exact")


@dataclass(frozen=True)
class DiversityResult(MetricResult):
    """A Diversity Score with how it was computed.

    Attributes:
        value: DS, the mean over pairs of half the symmetric KL divergence (nats).
        stderr: standard error of the sampled mean (``None`` for the exact value).
        method: ``"sampled"`` or ``"exact"``.
        pairs: pairs averaged: the sample size, or ``N (N - 1) / 2`` for the exact mean.
        n_entities: number of representations ``N``.
        temperature: softmax temperature ``T``.
        seed: seed of the pair sample (``None`` for the exact value).
    """

    value: float
    stderr: float | None
    method: str
    pairs: int
    n_entities: int
    temperature: float
    seed: int | None

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class DiversityConvergence(MetricResult):
    """Sampled DS as the number of pairs grows (the paper's Fig. 6), with the exact limit.

    For each entry of ``pair_counts``: the mean of ``trials`` sampled DS values and the 95%
    Student-t interval of that mean (``low``, ``high``).
    """

    pair_counts: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    std: np.ndarray
    trials: int
    seed: int
    exact: float
    temperature: float


def _softmax_logs(reps: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """``(p, log p)`` of every row: a stable log-softmax, then one exp."""
    scaled = reps / reps.dtype.type(temperature) if temperature != 1.0 else reps
    log_probs = log_softmax(scaled, axis=1)
    return np.exp(log_probs), log_probs


def sample_pairs(n: int, pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``pairs`` independent ordered pairs ``(i, j)``, ``i != j``, uniform over all ``n (n - 1)``.

    The first indices are drawn as multinomial counts over ``0..n-1`` and returned sorted (the
    same distribution as independent uniform draws, in an order that keeps the kernel's reads of
    row ``i`` in cache); ``j`` is uniform over the ``n - 1`` indices other than ``i`` (skip-over),
    so no pair is rejected and the draw depends only on ``(n, pairs, seed)``.
    """
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(pairs, np.full(n, 1.0 / n))
    left = np.repeat(np.arange(n, dtype=np.int64), counts)
    right = rng.integers(0, n - 1, size=pairs, dtype=np.int64)
    right += right >= left
    return left, right


def _sampled(probs: np.ndarray, log_probs: np.ndarray, pairs: int, seed: int) -> np.ndarray:
    """Half symmetric KL of ``pairs`` sampled pairs (one value per pair)."""
    from idprobe.metrics._kernels import pair_symmetric_kl

    left, right = sample_pairs(probs.shape[0], pairs, seed)
    return 0.5 * pair_symmetric_kl(probs, log_probs, left, right)


def _exact(probs: np.ndarray, log_probs: np.ndarray) -> float:
    """``[sum_i p_i.l_i - (sum_i p_i).(sum_i l_i) / N] / (N - 1)``, sums in float64 (one pass)."""
    from idprobe.metrics._kernels import softmax_moments

    n = probs.shape[0]
    cross, sum_p, sum_l = softmax_moments(probs, log_probs)
    value = (cross - float(sum_p @ sum_l) / n) / (n - 1)
    # The true value is >= 0 (a mean of divergences); rounding can leave about -1e-15.
    return max(value, 0.0)


def _check_seed(seed: Any) -> int:
    return check_count("seed", seed, minimum=0)


def diversity_score(
    reps: Any,
    method: str = "sampled",
    pairs: int = 10_000,
    seed: int = 0,
    temperature: float = 1.0,
) -> DiversityResult:
    """Diversity Score of the rows of ``reps`` (module docstring: formula and paper).

    Args:
        reps: ``(N, d)`` ID representations, ``N >= 2`` finite rows.
        method: ``"sampled"`` (mean over ``pairs`` random pairs ``i != j``, drawn with ``seed``,
            with its standard error; a parallel numba kernel) or ``"exact"`` (the mean over all
            pairs, closed form, O(N d)).
        pairs: number of sampled pairs (``method="sampled"``).
        seed: seed of the pair sample.
        temperature: softmax temperature (1 in the paper).
    """
    method = check_option("method", method, DIVERSITY_METHODS)
    array = check_representations(reps)
    pairs = check_count("pairs", pairs)
    seed = _check_seed(seed)
    temperature = check_positive("temperature", temperature)
    probs, log_probs = _softmax_logs(array, temperature)
    n = array.shape[0]
    if method == "exact":
        return DiversityResult(
            value=_exact(probs, log_probs),
            stderr=None,
            method=method,
            pairs=n * (n - 1) // 2,
            n_entities=n,
            temperature=temperature,
            seed=None,
        )
    values = _sampled(probs, log_probs, pairs, seed)
    stderr = float(values.std(ddof=1) / np.sqrt(pairs)) if pairs > 1 else None
    return DiversityResult(
        value=float(values.mean()),
        stderr=stderr,
        method=method,
        pairs=pairs,
        n_entities=n,
        temperature=temperature,
        seed=seed,
    )


def diversity_convergence(
    reps: Any,
    pair_counts: Sequence[int],
    trials: int = 5,
    seed: int = 0,
    temperature: float = 1.0,
) -> DiversityConvergence:
    """Sampled DS for each pair count, ``trials`` times, with 95% intervals (paper Fig. 6).

    Trial ``t`` of count index ``c`` draws its pairs with the seed ``SeedSequence([seed, c, t])``,
    so every (count, trial) is an independent, reproducible sample. The softmax of the rows is
    computed once for all of them.
    """
    array = check_representations(reps)
    trials = check_count("trials", trials, minimum=2)
    seed = _check_seed(seed)
    temperature = check_positive("temperature", temperature)
    counts = np.asarray(pair_counts)
    if counts.ndim != 1 or counts.size == 0:
        raise ConfigError("pair_counts", "a non-empty list of integers >= 1", pair_counts)
    for count in counts.tolist():
        check_count("pair_counts", count)
    probs, log_probs = _softmax_logs(array, temperature)
    samples = np.empty((counts.size, trials))
    for c, count in enumerate(counts.tolist()):
        for trial in range(trials):
            trial_seed = int(np.random.SeedSequence([seed, c, trial]).generate_state(1)[0])
            samples[c, trial] = _sampled(probs, log_probs, count, trial_seed).mean()
    from scipy.stats import t as student_t  # scipy.stats is slow to import: only here

    mean = samples.mean(axis=1)
    std = samples.std(axis=1, ddof=1)
    half_width = student_t.ppf(0.975, trials - 1) * std / np.sqrt(trials)
    return DiversityConvergence(
        pair_counts=counts.astype(np.int64),
        mean=mean,
        low=mean - half_width,
        high=mean + half_width,
        std=std,
        trials=trials,
        seed=seed,
        exact=_exact(probs, log_probs),
        temperature=temperature,
    )
