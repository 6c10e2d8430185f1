"""Rating parsing and RMSE/MAE against hand-computed values and a plain-Python reference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metric_checks import config_error

from idprobe.metrics import RatingResult, parse_rating, rating_metrics

FAST = settings(max_examples=30, deadline=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", 4.0),
        ("4.5", 4.5),
        (" 3.0 stars", 3.0),
        ("I'd say 3 or 4", 3.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("-1", -1.0),
        ("+2", 2.0),
        ("rating: 10", 10.0),
        ("1e3", 1.0),
        ("five", None),
        ("", None),
        ("- .", None),
    ],
)
def test_parse_rating(text: str, expected: float | None) -> None:
    assert parse_rating(text) == expected


def test_hand_example() -> None:
    result = rating_metrics(["4", "no idea", "7", "2.5 stars"], [4, 3, 5, 1])
    assert isinstance(result, RatingResult)
    # parsed: 4 (err 0), 7 (err 2, out of scale), 2.5 (err 1.5); "no idea" -> midpoint 3 (err 0)
    assert result.rmse == pytest.approx(math.sqrt((0 + 4 + 2.25) / 3))
    assert result.mae == pytest.approx((0 + 2 + 1.5) / 3)
    assert result.rmse_with_fallback == pytest.approx(math.sqrt((0 + 0 + 4 + 2.25) / 4))
    assert result.mae_with_fallback == pytest.approx((0 + 0 + 2 + 1.5) / 4)
    assert (result.n, result.unparseable, result.out_of_scale) == (4, 1, 1)
    assert (result.scale_low, result.scale_high) == (1.0, 5.0)
    record = result.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert "RatingResult" in result._repr_html_()
    assert len(result.to_frame()) == 1


def test_refusing_does_not_help() -> None:
    """A model that answers only when sure: its fallback RMSE counts the refusals."""
    truth = [1, 5, 1, 5]
    result = rating_metrics(["1", "?", "?", "?"], truth)
    assert result.rmse == 0.0 and result.unparseable == 3
    assert result.rmse_with_fallback == pytest.approx(math.sqrt(3 * 4 / 4))


def test_all_unparseable() -> None:
    result = rating_metrics(["", "n/a"], [2, 4], scale=(0, 10))
    assert result.rmse is None and result.mae is None
    assert result.rmse_with_fallback == pytest.approx(math.sqrt((9 + 1) / 2))
    assert result.unparseable == 2 and result.out_of_scale == 0


def python_reference(texts, truth, low, high):
    sq = ab = 0.0
    sq_all = ab_all = 0.0
    parsed = 0
    for text, y in zip(texts, truth, strict=True):
        try:
            value = float(text)
        except ValueError:
            value = None
        fallback = value if value is not None else (low + high) / 2
        sq_all += (fallback - y) ** 2
        ab_all += abs(fallback - y)
        if value is not None:
            parsed += 1
            sq += (value - y) ** 2
            ab += abs(value - y)
    n = len(texts)
    rmse = math.sqrt(sq / parsed) if parsed else None
    mae = ab / parsed if parsed else None
    return rmse, mae, math.sqrt(sq_all / n), ab_all / n, n - parsed


@FAST
@given(
    answers=st.lists(
        st.one_of(
            st.floats(min_value=-2, max_value=8, allow_nan=False).map(lambda x: f"{x:.3f}"),
            st.integers(min_value=0, max_value=9).map(str),
            st.sampled_from(["", "unknown", "N/A"]),
        ),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_equals_python_reference(answers: list[str], seed: int) -> None:
    truth = np.random.default_rng(seed).integers(1, 6, len(answers))
    result = rating_metrics(answers, truth)
    rmse, mae, rmse_all, mae_all, unparseable = python_reference(answers, truth, 1, 5)
    assert result.unparseable == unparseable
    if rmse is None:
        assert result.rmse is None and result.mae is None
    else:
        assert result.rmse == pytest.approx(rmse) and result.mae == pytest.approx(mae)
    assert result.rmse_with_fallback == pytest.approx(rmse_all)
    assert result.mae_with_fallback == pytest.approx(mae_all)
    outside = sum(1 for a in answers if a and a[0] in "-0123456789" and not 1 <= float(a) <= 5)
    assert result.out_of_scale == outside


def test_errors() -> None:
    config_error("text", lambda: parse_rating(4), "a string", "int")
    config_error("scale", lambda: rating_metrics(["1"], [1], scale=(5, 1)), "low < high")
    config_error("scale", lambda: rating_metrics(["1"], [1], scale=5), "(low, high)")
    config_error("scale", lambda: rating_metrics(["1"], [1], scale=(1, 2, 3)), "(low, high)")
    config_error("scale", lambda: rating_metrics(["1"], [1], scale=(1, math.inf)), "finite")
    config_error("predicted_texts", lambda: rating_metrics("45", [4, 5]), "sequence of strings")
    config_error("predicted_texts[1]", lambda: rating_metrics(["4", 5], [4, 5]), "a string")
    config_error("predicted_texts", lambda: rating_metrics([], []), "at least one answer")
    config_error("truth", lambda: rating_metrics(["4", "5"], [4]), "one rating per answer (2)")
    config_error("truth", lambda: rating_metrics(["4"], [[4]]), "1-D numeric")
    config_error("truth", lambda: rating_metrics(["4"], ["4"]), "1-D numeric")
    config_error("truth", lambda: rating_metrics(["4"], [6]), "within scale [1, 5]", "6")
    config_error("truth", lambda: rating_metrics(["4"], [math.nan]), "within scale")
