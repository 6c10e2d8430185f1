"""Bootstrap intervals and the paired sign-flip test against scipy.stats and brute enumeration."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metric_checks import config_error
from scipy import stats

import idprobe.metrics.significance as significance
from idprobe.metrics import PairedTestResult, bootstrap_ci, paired_randomization_test

FAST = settings(max_examples=30, deadline=None)


def mean_difference(x, y, axis=-1):
    return np.mean(x - y, axis=axis)


def scipy_paired(a, b, n_resamples, seed=0) -> float:
    result = stats.permutation_test(
        (a, b),
        mean_difference,
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        rng=np.random.default_rng(seed),
    )
    return float(result.pvalue)


def brute_exact_p(a, b) -> float:
    """Share of all 2^n sign vectors with |mean(s * d)| >= |mean(d)|, one at a time."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    observed = abs(d.sum())
    count = 0
    for signs in itertools.product((1.0, -1.0), repeat=d.size):
        count += abs(float(np.dot(signs, d))) >= observed - 1e-9
    return count / 2**d.size


# ---------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bootstrap_matches_scipy_percentile(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = (rng.random(300) < 0.3).astype(float) * rng.random(300)  # NDCG-like: many zeros
    low, high = bootstrap_ci(values, n_resamples=20_000, seed=seed)
    reference = stats.bootstrap(
        (values,), np.mean, n_resamples=20_000, method="percentile", rng=seed + 1000
    ).confidence_interval
    spread = values.std() / np.sqrt(values.size)  # the bootstrap SD of the mean
    # quantiles of two independent 20,000-draw samples: each off by about 0.02 SD
    assert low == pytest.approx(reference.low, abs=0.12 * spread)
    assert high == pytest.approx(reference.high, abs=0.12 * spread)
    assert low < values.mean() < high
    # and close to the normal interval for this n
    assert high - low == pytest.approx(2 * 1.96 * spread, rel=0.1)


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.99])
def test_bootstrap_confidence_widens_interval(confidence: float) -> None:
    values = np.random.default_rng(5).normal(size=200)
    low, high = bootstrap_ci(values, n_resamples=4000, confidence=confidence)
    reference = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=4000,
        confidence_level=confidence,
        method="percentile",
        rng=9,
    ).confidence_interval
    spread = values.std() / np.sqrt(values.size)
    assert low == pytest.approx(reference.low, abs=0.2 * spread)
    assert high == pytest.approx(reference.high, abs=0.2 * spread)


def test_bootstrap_equals_unchunked_draws_and_ignores_chunking(monkeypatch) -> None:
    values = np.random.default_rng(3).random(57)
    rng = np.random.default_rng(11)
    means = values[rng.integers(0, 57, size=(500, 57))].mean(axis=1)
    expected = tuple(np.quantile(means, [0.025, 0.975]))
    assert bootstrap_ci(values, n_resamples=500, seed=11) == pytest.approx(expected, abs=1e-15)
    monkeypatch.setattr(significance, "_CHUNK_ELEMENTS", 57 * 7)  # chunks of 7 resamples
    assert bootstrap_ci(values, n_resamples=500, seed=11) == pytest.approx(expected, abs=1e-15)
    monkeypatch.setattr(significance, "_CHUNK_ELEMENTS", 1)  # one resample per chunk
    assert bootstrap_ci(values, n_resamples=500, seed=11) == pytest.approx(expected, abs=1e-15)


def test_bootstrap_constant_and_seeded() -> None:
    assert bootstrap_ci([0.25] * 40) == (0.25, 0.25)
    values = np.random.default_rng(0).random(100)
    assert bootstrap_ci(values, seed=4) == bootstrap_ci(values, seed=4)
    assert bootstrap_ci(values, seed=4) != bootstrap_ci(values, seed=5)
    assert bootstrap_ci([True, False, True], n_resamples=10) is not None


# ---------------------------------------------------------------------- paired test


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_equals_scipy_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random(10)
    b = a + rng.normal(0.15, 0.3, 10)
    result = paired_randomization_test(a, b)
    assert result.exact and result.n_permutations == 1024 and result.seed is None
    assert result.p_value == pytest.approx(scipy_paired(a, b, np.inf), abs=1e-12)
    assert result.p_value == pytest.approx(brute_exact_p(a, b), abs=1e-12)
    assert result.mean_difference == pytest.approx(np.mean(a) - np.mean(b))


@FAST
@given(
    pairs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=9),
)
def test_exact_with_ties_equals_brute_force(pairs: list[tuple[int, int]]) -> None:
    """Hit-like integer data: many zero differences and tied sums."""
    a = np.array([x for x, _ in pairs], dtype=float) / 3
    b = np.array([y for _, y in pairs], dtype=float) / 3
    result = paired_randomization_test(a, b)
    assert result.exact
    assert result.p_value == pytest.approx(brute_exact_p(a, b), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_monte_carlo_close_to_exact_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = (rng.random(14) < 0.5).astype(float)
    b = (rng.random(14) < 0.3).astype(float)
    exact = scipy_paired(a, b, np.inf)  # 2^14 sign vectors
    result = paired_randomization_test(a, b, n_permutations=4000, seed=seed)
    assert not result.exact and result.n_permutations == 4000 and result.seed == seed
    standard_error = np.sqrt(exact * (1 - exact) / 4000) + 1 / 4000
    assert result.p_value == pytest.approx(exact, abs=5 * standard_error)
    monte_carlo = scipy_paired(a, b, 3999, seed=seed + 50)
    assert result.p_value == pytest.approx(monte_carlo, abs=7 * standard_error)


def test_monte_carlo_p_value_formula_and_chunking(monkeypatch) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.random(100), rng.random(100)
    result = paired_randomization_test(a, b, n_permutations=999, seed=3)
    count = result.p_value * 1000 - 1
    assert count == pytest.approx(round(count), abs=1e-9) and 0 <= round(count) <= 999
    monkeypatch.setattr(significance, "_CHUNK_ELEMENTS", 100 * 13)
    assert paired_randomization_test(a, b, n_permutations=999, seed=3) == result
    monkeypatch.setattr(significance, "_CHUNK_ELEMENTS", 1)
    assert paired_randomization_test(a, b, n_permutations=999, seed=3) == result
    assert paired_randomization_test(a, b, n_permutations=999, seed=4) != result


def test_identical_systems_have_p_one() -> None:
    values = np.random.default_rng(0).random(500)
    for n in (5, 500):
        result = paired_randomization_test(values[:n], values[:n].copy())
        assert result.p_value == 1.0 and result.mean_difference == 0.0


def test_strong_difference_has_tiny_p() -> None:
    rng = np.random.default_rng(1)
    b = rng.random(300)
    result = paired_randomization_test(b + 0.5, b, n_permutations=9999)
    assert result.p_value == pytest.approx(1 / 10_000)
    assert result.mean_difference == pytest.approx(0.5)
    small = paired_randomization_test(b[:8] + 0.5, b[:8])  # exact: only the two extreme vectors
    assert small.exact and small.p_value == pytest.approx(2 / 256)


def test_large_inputs_are_fast_and_valid() -> None:
    rng = np.random.default_rng(2)
    a = (rng.random(22_000) < 0.06).astype(float)
    b = (rng.random(22_000) < 0.05).astype(float)
    result = paired_randomization_test(a, b, n_permutations=2000)
    assert 0 < result.p_value < 0.01  # 1 point on a 5% base over 22k users is significant
    assert len(bootstrap_ci(a, n_resamples=500)) == 2


def test_result_renders() -> None:
    result = paired_randomization_test([1, 0, 1, 1], [0, 0, 1, 0])
    assert isinstance(result, PairedTestResult)
    record = result.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert len(result.to_frame()) == 1 and "PairedTestResult" in result._repr_html_()


# ---------------------------------------------------------------------- argument errors


def test_errors() -> None:
    config_error("b", lambda: paired_randomization_test([1, 2, 3], [1, 2]), "same 3 users", "2")
    config_error("a", lambda: paired_randomization_test([[1, 2]], [[1, 2]]), "1-D")
    config_error("a", lambda: paired_randomization_test([], []), "at least 1 values")
    config_error("b", lambda: paired_randomization_test([1.0], ["x"]), "numeric")
    config_error("a", lambda: paired_randomization_test([np.nan], [1.0]), "finite")
    config_error("n_permutations", lambda: paired_randomization_test([1], [1], 0), ">= 1")
    config_error("seed", lambda: paired_randomization_test([1], [1], seed=-1), ">= 0")
    config_error("values", lambda: bootstrap_ci([1.0]), "at least 2 values", "1")
    config_error("values", lambda: bootstrap_ci(np.ones((3, 2))), "1-D", "shape (3, 2)")
    config_error("values", lambda: bootstrap_ci([1.0, np.inf]), "finite", "index 1")
    config_error("n_resamples", lambda: bootstrap_ci([1, 2], n_resamples=0), ">= 1")
    for bad in (0, 1, 1.5, True, "0.9"):
        config_error("confidence", lambda c=bad: bootstrap_ci([1, 2], confidence=c), "(0, 1)")
    config_error("seed", lambda: bootstrap_ci([1, 2], seed=1.5), ">= 0")
