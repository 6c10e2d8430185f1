"""The numeric helpers against independent references (scikit-learn, scipy, a plain loop)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics.pairwise import cosine_similarity
from viz_inputs import config_error

from idprobe.viz import cosine_similarity_matrix, moving_average, pearson_r


@pytest.mark.parametrize("seed", range(5))
def test_cosine_similarity_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    reps = rng.normal(size=(rng.integers(2, 40), rng.integers(1, 20))) * rng.uniform(0.01, 100)
    reps[rng.integers(0, reps.shape[0])] = 0.0  # a zero row gives zero similarities
    ours = cosine_similarity_matrix(reps)
    np.testing.assert_allclose(ours, np.clip(cosine_similarity(reps), -1, 1), atol=1e-12)
    assert ours.shape == (reps.shape[0],) * 2
    assert ours.dtype == np.float64
    assert np.abs(ours).max() <= 1.0


def test_cosine_similarity_of_zero_rows_is_zero_and_integers_work():
    reps = np.array([[0, 0], [1, 0], [2, 0], [0, 3]])
    expected = np.array([[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=float)
    np.testing.assert_array_equal(cosine_similarity_matrix(reps), expected)


@pytest.mark.parametrize(
    "reps",
    [
        np.zeros(3),
        np.zeros((0, 3)),
        np.zeros((3, 0)),
        np.array([[1.0, np.nan]]),
        np.array([["a", "b"]]),
        np.array([[True, False]]),
        [[1.0, 2.0], [3.0]],
    ],
)
def test_cosine_similarity_rejects_bad_input(reps):
    with config_error("reps"):
        cosine_similarity_matrix(reps)


@pytest.mark.parametrize("seed", range(6))
def test_pearson_r_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 50))
    x = rng.normal(size=n) * 10 ** rng.uniform(-6, 6)
    y = 0.5 * x + rng.normal(size=n) * x.std() + 3
    expected = pearsonr(x, y)[0]
    assert pearson_r(x, y) == pytest.approx(expected, abs=1e-12)
    assert pearson_r(list(x), list(y)) == pytest.approx(expected, abs=1e-12)


def test_pearson_r_is_none_when_undefined():
    assert pearson_r([1.0, 2.0], [3.0, 1.0]) is None  # two points: always +-1
    assert pearson_r([], []) is None
    assert pearson_r([0.1, 0.1, 0.1], [1.0, 2.0, 3.0]) is None  # constant x
    assert pearson_r([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) is None  # constant y
    assert pearson_r([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson_r([1, 2, 3], [6, 4, 2]) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("x", "y", "parameter"),
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], "y"),
        ([[1.0, 2.0]], [1.0], "x"),
        ([1.0, float("nan"), 2.0], [1.0, 2.0, 3.0], "x"),
        ([1.0, 2.0, 3.0], [1.0, float("inf"), 3.0], "y"),
        (["a", "b", "c"], [1.0, 2.0, 3.0], "x"),
        ([True, False, True], [1.0, 2.0, 3.0], "x"),
    ],
)
def test_pearson_r_rejects_bad_input(x, y, parameter):
    with config_error(parameter):
        pearson_r(x, y)


def _naive_moving_average(values, window):
    return np.array([np.mean(values[max(0, i - window + 1) : i + 1]) for i in range(len(values))])


@pytest.mark.parametrize("seed", range(4))
def test_moving_average_matches_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=int(rng.integers(1, 200)))
    for window in (1, 2, 7, 500):
        np.testing.assert_allclose(
            moving_average(values, window), _naive_moving_average(values, window), atol=1e-10
        )
    assert moving_average([], 3).shape == (0,)


@pytest.mark.parametrize(("window", "values"), [(0, [1.0]), (1.5, [1.0]), (True, [1.0])])
def test_moving_average_rejects_bad_window(window, values):
    with config_error("window"):
        moving_average(values, window)


def test_moving_average_rejects_non_finite_values():
    with config_error("values"):
        moving_average([1.0, float("nan")], 2)
