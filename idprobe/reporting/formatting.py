"""How numbers read in the report: one place, so every table agrees.

Metrics have 4 decimals, p-values 2 significant digits (or ``< 0.0001``), counts thousands
separators; a missing value is an en dash.
"""

from __future__ import annotations

import json
import math
from typing import Any

MISSING = "–"
P_FLOOR = 1e-4


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def fmt_metric(value: Any) -> str:
    """A metric value with 4 decimals: ``0.0285``."""
    number = _number(value)
    return MISSING if number is None else f"{number:.4f}"


def fmt_interval(entry: dict[str, Any] | None) -> str:
    """A metric entry ``{"value", "low", "high"}`` as ``0.0285 [0.0262, 0.0309]``.

    The interval is left out when either end is null (no interval was computed).
    """
    if not isinstance(entry, dict):
        return MISSING
    text = fmt_metric(entry.get("value"))
    low, high = _number(entry.get("low")), _number(entry.get("high"))
    if text == MISSING or low is None or high is None:
        return text
    return f"{text} [{low:.4f}, {high:.4f}]"


def fmt_p(value: Any) -> str:
    """A p-value with 2 significant digits, or ``< 0.0001`` below that floor."""
    number = _number(value)
    if number is None:
        return MISSING
    if number < P_FLOOR:
        return f"< {P_FLOOR:.4f}"
    return f"{number:.2g}"


def p_phrase(value: Any) -> str:
    """``p = 0.012`` or ``p < 0.0001``."""
    text = fmt_p(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_int(value: Any) -> str:
    """A count with thousands separators: ``7,229``."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{round(number):,}" if number == round(number) else f"{number:,.4g}"


def fmt_value(value: Any) -> str:
    """Any JSON value of a setup or dataset table, readable and deterministic."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return MISSING if math.isnan(value) else f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def fmt_histogram(histogram: Any) -> str:
    """An ID length histogram ``{"2": 400, "3": 12}`` as ``2: 400 · 3: 12`` (by length)."""
    if not isinstance(histogram, dict) or not histogram:
        return MISSING

    def length(key: str) -> tuple[int, str]:
        return (int(key), key) if str(key).isdigit() else (10**9, str(key))

    return " · ".join(f"{key}: {fmt_int(histogram[key])}" for key in sorted(histogram, key=length))
