"""Rating prediction from generated text: RMSE and MAE (P5's rating task family).

The model answers a prompt such as "Which star rating will user_23 give item_7 ? ( 1 being
lowest and 5 being highest )" with text; ``parse_rating`` reads the first number in it. With
``y_u`` the true and ``y^_u`` the parsed rating of the ``m`` answers that contain a number::

    RMSE = sqrt(mean_u (y^_u - y_u)^2),      MAE = mean_u |y^_u - y_u|

Answers without a number are *unparseable*: they are counted and left out of RMSE and MAE. So
that a model cannot look good by refusing to answer, ``rmse_with_fallback`` and
``mae_with_fallback`` score every answer, replacing each unparseable one by the midpoint of the
scale (3 on 1..5). Numbers outside the scale (e.g. "7") are kept as they are (not clipped) and
counted in ``out_of_scale``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from idprobe.errors import ConfigError, verbatim
from idprobe.metrics._result import MetricResult

__all__ = ["RatingResult", "parse_rating", "rating_metrics"]

# A decimal number, optionally signed: "4", "4.5", ".5", "-1", "+3". No exponents ("1e3" -> 1).
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def parse_rating(text: str) -> float | None:
    """The first decimal number in ``text`` as a float, or ``None`` when it has none.

    ``"4"`` -> 4.0, ``"4.5 stars"`` -> 4.5, ``"I'd say 3 or 4"`` -> 3.0, ``"five"`` -> ``None``.
    The value is not checked against a scale (``rating_metrics`` counts out-of-scale answers).
    """
    if not isinstance(text, str):
        raise ConfigError("text", "a string", verbatim(type(text).__name__))
    match = _NUMBER.search(text)
    return float(match.group()) if match is not None else None


@dataclass(frozen=True)
class RatingResult(MetricResult):
    """RMSE and MAE of parsed ratings, with how many answers could not be scored as such.

    Attributes:
        rmse: RMSE over the parseable answers (``None`` when there are none).
        mae: MAE over the parseable answers (``None`` when there are none).
        rmse_with_fallback: RMSE over all answers, unparseable ones scored as the midpoint.
        mae_with_fallback: MAE over all answers, likewise.
        n: number of answers.
        unparseable: answers without a number (excluded from ``rmse`` and ``mae``).
        out_of_scale: parsed numbers outside the scale (kept as they are).
        scale_low: lowest rating of the scale.
        scale_high: highest rating of the scale (the fallback is their midpoint).
    """

    rmse: float | None
    mae: float | None
    rmse_with_fallback: float
    mae_with_fallback: float
    n: int
    unparseable: int
    out_of_scale: int
    scale_low: float
    scale_high: float


def _check_scale(scale: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ConfigError("scale", "a (low, high) pair of numbers", scale) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError("scale", "finite low < high", scale)
    return low, high


def rating_metrics(
    predicted_texts: Sequence[str],
    truth: Any,
    scale: tuple[float, float] = (1, 5),
) -> RatingResult:
    """Parse each answer (``parse_rating``) and score it against the true rating.

    Args:
        predicted_texts: one generated answer per example.
        truth: the true ratings, same length, each within ``scale``.
        scale: ``(low, high)`` of the rating scale; its midpoint is the fallback answer.
    """
    low, high = _check_scale(scale)
    if isinstance(predicted_texts, str) or not isinstance(predicted_texts, Sequence):
        raise ConfigError(
            "predicted_texts", "a sequence of strings", verbatim(type(predicted_texts).__name__)
        )
    for index, text in enumerate(predicted_texts):
        if not isinstance(text, str):
            raise ConfigError(
                f"predicted_texts[{index}]", "a string", verbatim(type(text).__name__)
            )
    true = np.asarray(truth)
    if true.ndim != 1 or not (
        np.issubdtype(true.dtype, np.integer) or np.issubdtype(true.dtype, np.floating)
    ):
        raise ConfigError(
            "truth", "a 1-D numeric array", verbatim(f"shape {true.shape}, dtype {true.dtype}")
        )
    true = true.astype(np.float64)
    if true.shape[0] != len(predicted_texts):
        raise ConfigError(
            "truth",
            f"one rating per answer ({len(predicted_texts)})",
            verbatim(f"{true.shape[0]}"),
        )
    if true.size == 0:
        raise ConfigError("predicted_texts", "at least one answer", verbatim("none"))
    outside = ~np.isfinite(true) | (true < low) | (true > high)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        raise ConfigError(
            "truth", f"ratings within scale [{low:g}, {high:g}]", verbatim(f"{true[index]!r}")
        )
    parsed = [parse_rating(text) for text in predicted_texts]
    valid = np.array([value is not None for value in parsed], dtype=bool)
    predicted = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
    midpoint = (low + high) / 2.0
    filled = np.where(valid, predicted, midpoint)
    error = filled - true
    rmse = mae = None
    if valid.any():
        rmse = float(np.sqrt(np.mean(error[valid] ** 2)))
        mae = float(np.mean(np.abs(error[valid])))
    return RatingResult(
        rmse=rmse,
        mae=mae,
        rmse_with_fallback=float(np.sqrt(np.mean(error**2))),
        mae_with_fallback=float(np.mean(np.abs(error))),
        n=int(true.shape[0]),
        unparseable=int((~valid).sum()),
        out_of_scale=int(((predicted[valid] < low) | (predicted[valid] > high)).sum()),
        scale_low=low,
        scale_high=high,
    )
