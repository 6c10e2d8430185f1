"""Diversity Score against a brute-force mean of symmetric KL divergences (scipy softmax, logs)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from metric_checks import assert_scalar_result_renders, config_error
from scipy.special import softmax
from scipy.stats import chisquare
from scipy.stats import t as student_t

from idprobe.metrics import (
    DIVERSITY_METHODS,
    DiversityConvergence,
    DiversityResult,
    diversity_convergence,
    diversity_score,
)
from idprobe.metrics.diversity import sample_pairs

FAST = settings(max_examples=30, deadline=None)
SCALES = [1e-3, 0.1, 1.0, 5.0, 50.0]
TEMPERATURES = [0.5, 1.0, 2.0, 7.5]


# ---------------------------------------------------------------------- reference


def distributions(reps: np.ndarray, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``p_i = softmax(e_i / T)`` with scipy, and its explicit natural log."""
    probs = softmax(np.asarray(reps, dtype=np.float64) / temperature, axis=1)
    assert (probs > 0).all(), "reference logs need no underflow: keep the inputs moderate"
    return probs, np.log(probs)


def half_symmetric_kl(p: np.ndarray, lp: np.ndarray, q: np.ndarray, lq: np.ndarray) -> float:
    """``(KL(p || q) + KL(q || p)) / 2`` from its definition."""
    kl_pq = float(np.sum(p * (lp - lq)))
    kl_qp = float(np.sum(q * (lq - lp)))
    return 0.5 * (kl_pq + kl_qp)


def brute_exact(reps: np.ndarray, temperature: float = 1.0) -> float:
    """Mean over all ordered pairs ``i != j``, one pair at a time."""
    p, lp = distributions(reps, temperature)
    n = p.shape[0]
    values = [
        half_symmetric_kl(p[i], lp[i], p[j], lp[j]) for i in range(n) for j in range(n) if i != j
    ]
    assert len(values) == n * (n - 1)
    return float(np.mean(values))


def brute_pairs(reps: np.ndarray, left, right, temperature: float = 1.0) -> np.ndarray:
    p, lp = distributions(reps, temperature)
    return np.array(
        [half_symmetric_kl(p[i], lp[i], p[j], lp[j]) for i, j in zip(left, right, strict=True)]
    )


@st.composite
def representations(draw, max_n: int = 30, max_d: int = 16):
    """``(reps, temperature)``: uniform rows of random size and magnitude (up to 50 / T)."""
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    scale = draw(st.sampled_from(SCALES))
    temperature = draw(st.sampled_from(TEMPERATURES))
    assume(scale / temperature <= 100)  # differences up to 200 nats: no underflow in the reference
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    reps = rng.uniform(-scale, scale, size=(n, d)) + rng.normal(size=(1, d))
    return reps, temperature


def random_reps(seed: int, n: int = 40, d: int = 8, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=scale, size=(n, d))


# ---------------------------------------------------------------------- exact


@FAST
@given(representations())
def test_exact_equals_brute_force_over_all_ordered_pairs(case) -> None:
    reps, temperature = case
    result = diversity_score(reps, method="exact", temperature=temperature)
    expected = brute_exact(reps, temperature)
    assert result.value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert result.value >= 0
    n = reps.shape[0]
    assert (result.method, result.stderr, result.seed) == ("exact", None, None)
    assert result.pairs == n * (n - 1) // 2
    assert result.n_entities == n and result.temperature == temperature


def test_exact_small_hand_example() -> None:
    # Two rows: DS = KL-symmetric / 2 of the two distributions, by hand.
    reps = np.array([[0.0, 0.0], [math.log(3.0), 0.0]])
    p, q = np.array([0.5, 0.5]), np.array([0.75, 0.25])
    expected = 0.5 * (np.sum(p * np.log(p / q)) + np.sum(q * np.log(q / p)))
    assert diversity_score(reps, method="exact").value == pytest.approx(expected, rel=1e-14)
    assert expected == pytest.approx(0.5 * 0.25 * math.log(3.0), rel=1e-14)


# ---------------------------------------------------------------------- sampled


@FAST
@given(representations(), st.integers(1, 400), st.integers(0, 2**63 - 1))
def test_sampled_equals_brute_force_over_the_same_pairs(case, pairs: int, seed: int) -> None:
    reps, temperature = case
    result = diversity_score(reps, pairs=pairs, seed=seed, temperature=temperature)
    left, right = sample_pairs(reps.shape[0], pairs, seed)
    values = brute_pairs(reps, left, right, temperature)
    assert result.value == pytest.approx(values.mean(), rel=1e-9, abs=1e-12)
    if pairs == 1:
        assert result.stderr is None
    else:
        expected_stderr = values.std(ddof=1) / math.sqrt(pairs)
        assert result.stderr == pytest.approx(expected_stderr, rel=1e-7, abs=1e-12)
    assert (result.method, result.pairs, result.seed) == ("sampled", pairs, seed)
    assert result.value >= 0


@FAST
@given(st.integers(2, 60), st.integers(1, 500), st.integers(0, 2**63 - 1))
def test_sample_pairs_are_distinct_indices_in_range(n: int, pairs: int, seed: int) -> None:
    left, right = sample_pairs(n, pairs, seed)
    assert left.shape == right.shape == (pairs,)
    assert (left != right).all()
    assert left.min() >= 0 and right.min() >= 0
    assert left.max() < n and right.max() < n
    again = sample_pairs(n, pairs, seed)
    np.testing.assert_array_equal(left, again[0])
    np.testing.assert_array_equal(right, again[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sample_pairs_are_uniform_over_ordered_pairs(seed: int) -> None:
    n, per_cell = 7, 5000
    cells = n * (n - 1)
    left, right = sample_pairs(n, cells * per_cell, seed)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (left, right), 1)
    assert np.trace(counts) == 0
    observed = counts[~np.eye(n, dtype=bool)]
    assert chisquare(observed).pvalue > 1e-4
    # Both orders of a pair are drawn (ordered pairs), about equally often.
    assert (
        chisquare(
            np.concatenate([counts[np.triu_indices(n, 1)], counts.T[np.triu_indices(n, 1)]])
        ).pvalue
        > 1e-4
    )
    np.testing.assert_allclose(counts.sum(axis=0) / (cells * per_cell), 1 / n, atol=0.005)
    np.testing.assert_allclose(counts.sum(axis=1) / (cells * per_cell), 1 / n, atol=0.005)


def test_sample_pairs_with_two_entities() -> None:
    left, right = sample_pairs(2, 1000, 5)
    np.testing.assert_array_equal(right, 1 - left)
    assert 400 < left.sum() < 600


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampled_converges_to_exact(seed: int) -> None:
    reps = random_reps(seed, n=50, d=8)
    exact = diversity_score(reps, method="exact").value
    big = diversity_score(reps, pairs=200_000, seed=seed)
    assert big.stderr is not None and big.stderr > 0
    assert abs(big.value - exact) < 5 * big.stderr
    # The error shrinks like 1 / sqrt(pairs): compare the mean error over many seeds.
    small_errors = [abs(diversity_score(reps, pairs=100, seed=s).value - exact) for s in range(20)]
    large_errors = [
        abs(diversity_score(reps, pairs=20_000, seed=s).value - exact) for s in range(20)
    ]
    assert np.mean(large_errors) < np.mean(small_errors) / 5


def test_stderr_matches_the_spread_over_seeds() -> None:
    reps = random_reps(7, n=30, d=6)
    results = [diversity_score(reps, pairs=500, seed=s) for s in range(60)]
    spread = np.std([r.value for r in results], ddof=1)
    typical = np.mean([r.stderr for r in results])
    assert 0.7 < spread / typical < 1.3


# ---------------------------------------------------------------------- invariants


@FAST
@given(representations(max_n=12, max_d=6), st.integers(0, 2**32 - 1))
def test_identical_and_shifted_rows_have_zero_diversity(case, seed: int) -> None:
    reps, temperature = case
    rng = np.random.default_rng(seed)
    row = reps[:1]
    identical = np.repeat(row, reps.shape[0], axis=0)
    shifted = identical + rng.uniform(-100, 100, size=(reps.shape[0], 1))
    for rows in (identical, shifted):
        for method in DIVERSITY_METHODS:
            value = diversity_score(rows, method=method, temperature=temperature, pairs=50).value
            assert 0.0 <= value < 1e-12


def test_one_dimension_has_zero_diversity() -> None:
    reps = random_reps(4, n=25, d=1, scale=30.0)
    assert diversity_score(reps, method="exact").value < 1e-12
    assert diversity_score(reps).value == 0.0


@FAST
@given(representations(), st.integers(0, 2**32 - 1))
def test_exact_is_invariant_to_row_permutation(case, seed: int) -> None:
    reps, temperature = case
    permuted = reps[np.random.default_rng(seed).permutation(reps.shape[0])]
    a = diversity_score(reps, method="exact", temperature=temperature).value
    b = diversity_score(permuted, method="exact", temperature=temperature).value
    assert b == pytest.approx(a, rel=1e-10, abs=1e-13)


@FAST
@given(representations(max_n=10, max_d=6))
def test_temperature_equals_dividing_the_rows(case) -> None:
    reps, temperature = case
    for method in DIVERSITY_METHODS:
        a = diversity_score(reps, method=method, temperature=temperature, pairs=300, seed=3)
        b = diversity_score(reps / temperature, method=method, pairs=300, seed=3)
        assert a.value == pytest.approx(b.value, rel=1e-10, abs=1e-13)


def test_temperature_changes_the_value() -> None:
    reps = random_reps(1)
    cold = diversity_score(reps, method="exact", temperature=0.5).value
    hot = diversity_score(reps, method="exact", temperature=2.0).value
    assert cold > diversity_score(reps, method="exact").value > hot > 0


def test_seed_reproducibility() -> None:
    reps = random_reps(2)
    first = diversity_score(reps, pairs=1000, seed=11)
    assert diversity_score(reps, pairs=1000, seed=11) == first
    others = {diversity_score(reps, pairs=1000, seed=s).value for s in range(12, 17)}
    assert first.value not in others and len(others) == 5
    # The default is seeded too: two calls agree.
    assert diversity_score(reps).value == diversity_score(reps).value


@pytest.mark.parametrize("method", DIVERSITY_METHODS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_float32_agrees_with_float64(method: str, seed: int) -> None:
    reps = random_reps(seed, n=60, d=12, scale=2.0)
    a = diversity_score(reps, method=method, seed=seed).value
    b = diversity_score(reps.astype(np.float32), method=method, seed=seed).value
    assert b == pytest.approx(a, rel=1e-5)


def test_integer_rows_are_accepted() -> None:
    reps = np.array([[0, 1, 2], [2, 1, 0], [1, 1, 1]])
    value = diversity_score(reps, method="exact").value
    assert value == pytest.approx(brute_exact(reps.astype(float)), rel=1e-12)


# ---------------------------------------------------------------------- errors


def test_non_finite_row_is_an_error() -> None:
    reps = random_reps(0, n=5, d=3)
    for bad in (np.nan, np.inf):
        broken = reps.copy()
        broken[2, 1] = bad
        for method in DIVERSITY_METHODS:
            config_error("reps", lambda b=broken, m=method: diversity_score(b, method=m), "row 2")
        config_error("reps", lambda b=broken: diversity_convergence(b, [10]), "row 2")


@pytest.mark.parametrize(
    ("reps", "fragment"),
    [
        (np.ones((1, 4)), "at least 2"),
        (np.ones((0, 4)), "at least 2"),
        (np.ones((2, 3, 4)), "2-D"),
        (np.ones(4), "2-D"),
        (np.ones((3, 0)), "dimension"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    ],
    ids=["one row", "no rows", "3-D", "1-D", "no columns", "strings"],
)
def test_bad_shapes_are_errors(reps, fragment: str) -> None:
    config_error("reps", lambda: diversity_score(reps), fragment)
    config_error("reps", lambda: diversity_score(reps, method="exact"), fragment)


@pytest.mark.parametrize(
    ("parameter", "kwargs"),
    [
        ("pairs", {"pairs": 0}),
        ("pairs", {"pairs": -3}),
        ("pairs", {"pairs": True}),
        ("pairs", {"pairs": 10.0}),
        ("seed", {"seed": -1}),
        ("seed", {"seed": 1.5}),
        ("seed", {"seed": None}),
        ("temperature", {"temperature": 0}),
        ("temperature", {"temperature": -1.0}),
        ("temperature", {"temperature": float("nan")}),
        ("temperature", {"temperature": float("inf")}),
        ("temperature", {"temperature": True}),
        ("temperature", {"temperature": "1"}),
        ("method", {"method": "brute"}),
        ("method", {"method": "Exact"}),
    ],
)
def test_bad_parameters_are_errors(parameter: str, kwargs: dict) -> None:
    config_error(parameter, lambda: diversity_score(random_reps(0, n=4), **kwargs))


def test_unknown_method_lists_the_choices() -> None:
    config_error("method", lambda: diversity_score(np.eye(3), method="x"), "'sampled'", "'exact'")


def test_numpy_integer_parameters_are_accepted() -> None:
    reps = random_reps(0, n=6)
    a = diversity_score(reps, pairs=np.int64(50), seed=np.int32(4), temperature=np.float32(2))
    b = diversity_score(reps, pairs=50, seed=4, temperature=2.0)
    assert a.value == b.value and isinstance(a.pairs, int) and isinstance(a.seed, int)


# ---------------------------------------------------------------------- convergence


def test_convergence_matches_its_documented_samples() -> None:
    reps = random_reps(5, n=20, d=5)
    counts, trials, seed = [7, 60, 900], 4, 9
    conv = diversity_convergence(reps, counts, trials=trials, seed=seed)
    assert isinstance(conv, DiversityConvergence)
    for array in (conv.mean, conv.low, conv.high, conv.std, conv.pair_counts):
        assert array.shape == (3,)
    np.testing.assert_array_equal(conv.pair_counts, counts)
    assert (conv.trials, conv.seed, conv.temperature) == (trials, seed, 1.0)
    samples = np.empty((3, trials))
    for c, count in enumerate(counts):
        for trial in range(trials):
            trial_seed = int(np.random.SeedSequence([seed, c, trial]).generate_state(1)[0])
            left, right = sample_pairs(20, count, trial_seed)
            samples[c, trial] = brute_pairs(reps, left, right).mean()
    np.testing.assert_allclose(conv.mean, samples.mean(axis=1), rtol=1e-9)
    np.testing.assert_allclose(conv.std, samples.std(axis=1, ddof=1), rtol=1e-6)
    half = student_t.ppf(0.975, trials - 1) * samples.std(axis=1, ddof=1) / math.sqrt(trials)
    np.testing.assert_allclose(conv.high - conv.mean, half, rtol=1e-6)
    np.testing.assert_allclose(conv.mean - conv.low, half, rtol=1e-6)
    assert (conv.low <= conv.mean).all() and (conv.mean <= conv.high).all()


@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_convergence_exact_and_shrinking_intervals(temperature: float) -> None:
    reps = random_reps(6, n=40, d=8)
    conv = diversity_convergence(reps, [50, 500, 50_000], trials=6, seed=1, temperature=temperature)
    exact = diversity_score(reps, method="exact", temperature=temperature).value
    assert conv.exact == pytest.approx(exact, rel=1e-12)
    assert conv.exact == pytest.approx(brute_exact(reps, temperature), rel=1e-9)
    widths = conv.high - conv.low
    assert widths[2] < widths[1] < widths[0]
    assert widths[2] < widths[0] / 5
    assert abs(conv.mean[2] - exact) < 0.05 * exact
    assert conv.temperature == temperature


def test_convergence_trials_are_independent_of_other_counts() -> None:
    reps = random_reps(8, n=15, d=4)
    one = diversity_convergence(reps, [30, 300], trials=3, seed=2)
    two = diversity_convergence(reps, [30, 300, 3000], trials=3, seed=2)
    np.testing.assert_array_equal(one.mean, two.mean[:2])
    other = diversity_convergence(reps, [30, 300], trials=3, seed=3)
    assert not np.array_equal(one.mean, other.mean)


@pytest.mark.parametrize(
    ("parameter", "args", "kwargs"),
    [
        ("trials", ([10],), {"trials": 1}),
        ("trials", ([10],), {"trials": 0}),
        ("trials", ([10],), {"trials": True}),
        ("pair_counts", ([],), {}),
        ("pair_counts", ([[10, 20]],), {}),
        ("pair_counts", (5,), {}),
        ("pair_counts", ([10, 0],), {}),
        ("pair_counts", ([10, 2.5],), {}),
        ("seed", ([10],), {"seed": -2}),
        ("temperature", ([10],), {"temperature": 0.0}),
    ],
)
def test_convergence_errors(parameter: str, args: tuple, kwargs: dict) -> None:
    config_error(parameter, lambda: diversity_convergence(random_reps(0, n=5), *args, **kwargs))


# ---------------------------------------------------------------------- results


@pytest.mark.parametrize("method", DIVERSITY_METHODS)
def test_result_renders(method: str) -> None:
    result = diversity_score(random_reps(3), method=method, pairs=500)
    assert isinstance(result, DiversityResult)
    assert assert_scalar_result_renders(result)["method"] == method


def test_convergence_renders() -> None:
    conv = diversity_convergence(random_reps(3), [10, 100, 1000], trials=3)
    record = conv.to_dict()
    text = json.dumps(record)
    assert json.loads(text)["pair_counts"] == [10, 100, 1000]
    assert record["mean"] == conv.mean.tolist()
    frame = conv.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3
    np.testing.assert_array_equal(frame["low"], conv.low)
    html = conv._repr_html_()
    assert "DiversityConvergence" in html and f"{conv.exact:.6g}" in html
