"""Argument checks shared by the figures: each failure is a ``ConfigError`` naming the argument.

Figures take plain Python and numpy values (often straight from ``results.json``), so the checks
convert as they go: numbers come back as ``float`` (``None`` kept where allowed), arrays as
``float64``. Parameter names in the errors point into the argument, e.g. ``points['meta'].ms``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from idprobe.errors import ConfigError, verbatim


def where(parameter: str, key: object) -> str:
    """The name of one entry of an argument in an error: ``points['meta']``, ``maps[2]``."""
    return f"{parameter}[{key!r}]"


def mapping(parameter: str, value: Any, *, allow_empty: bool = False) -> dict[str, Any]:
    """A mapping with string keys (labels), as a dict in its original order."""
    if not isinstance(value, Mapping):
        raise ConfigError(parameter, "a mapping", verbatim(type(value).__name__))
    if not value and not allow_empty:
        raise ConfigError(parameter, "at least one entry", verbatim("an empty mapping"))
    for key in value:
        if not isinstance(key, str):
            raise ConfigError(parameter, "string keys (labels)", key)
    return dict(value)


def sequence(parameter: str, value: Any, *, min_length: int = 0) -> list[Any]:
    """A list or tuple (or array) of at least ``min_length`` entries; a lone string is refused."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise ConfigError(parameter, "a sequence", verbatim(type(value).__name__))
    items = list(value)
    if len(items) < min_length:
        raise ConfigError(parameter, f"at least {min_length} entries", verbatim(str(len(items))))
    return items


def keys(parameter: str, value: Any, required: Iterable[str], optional: Iterable[str] = ()) -> dict:
    """A mapping with exactly the ``required`` keys and possibly some ``optional`` ones.

    Unknown keys are errors rather than ignored, so that a typo (``"ds_sterr"``) is not silently
    dropped from a figure.
    """
    entry = mapping(parameter, value, allow_empty=True)
    required = list(required)
    allowed = [*required, *optional]
    for key in entry:
        if key not in allowed:
            listed = ", ".join(repr(k) for k in allowed)
            raise ConfigError(parameter, f"keys among {listed}", verbatim(f"unknown key {key!r}"))
    for key in required:
        if key not in entry:
            raise ConfigError(parameter, f"a key {key!r}", verbatim(f"keys {sorted(entry)}"))
    return entry


def number(parameter: str, value: Any, *, allow_none: bool = False) -> float | None:
    """A finite real number as ``float`` (``bool`` is refused: it is almost always a mistake)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        expected = "a finite number or None" if allow_none else "a finite number"
        raise ConfigError(parameter, expected, value)
    result = float(value)
    if not math.isfinite(result):
        expected = "a finite number or None" if allow_none else "a finite number"
        raise ConfigError(parameter, expected, value)
    return result


def integer(parameter: str, value: Any, *, minimum: int) -> int:
    """An integer >= ``minimum`` (numpy integers accepted, ``bool`` and floats refused)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ConfigError(parameter, f"an integer >= {minimum}", value)
    if value < minimum:
        raise ConfigError(parameter, f"an integer >= {minimum}", value)
    return int(value)


def text(parameter: str, value: Any) -> str:
    """A string (titles, labels)."""
    if not isinstance(value, str):
        raise ConfigError(parameter, "a string", value)
    return value


def labels(parameter: str, value: Any, length: int) -> list[str]:
    """A sequence of exactly ``length`` strings."""
    items = sequence(parameter, value)
    if len(items) != length:
        raise ConfigError(parameter, f"{length} labels", verbatim(str(len(items))))
    for index, item in enumerate(items):
        text(f"{parameter}[{index}]", item)
    return items


def matrix(parameter: str, value: Any) -> np.ndarray:
    """A non-empty, finite, 2-D numeric array as ``float64``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise ConfigError(parameter, "a 2-D numeric array", verbatim(str(error))) from None
    if array.ndim != 2:
        raise ConfigError(parameter, "a 2-D numeric array", verbatim(f"shape {array.shape}"))
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ConfigError(parameter, "a 2-D numeric array", verbatim(f"dtype {array.dtype}"))
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ConfigError(parameter, "a non-empty 2-D array", verbatim(f"shape {array.shape}"))
    array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        row, column = (int(i) for i in np.argwhere(~finite)[0])
        raise ConfigError(
            parameter, "finite values", verbatim(f"{array[row, column]} at [{row}, {column}]")
        )
    return array


def interval(parameter: str, entry: Any) -> tuple[float, float | None, float | None] | None:
    """A ``{"value", "low", "high"}`` metric entry as ``(value, low, high)``; ``None`` if no value.

    ``low``/``high`` may be missing or ``None`` (no interval was computed); when both are given
    they must bracket the value, since a negative error bar is a bug upstream, not a picture.
    """
    if entry is None:
        return None
    fields = keys(parameter, entry, ["value"], ["low", "high"])
    value = number(f"{parameter}.value", fields["value"], allow_none=True)
    low = number(f"{parameter}.low", fields.get("low"), allow_none=True)
    high = number(f"{parameter}.high", fields.get("high"), allow_none=True)
    if value is None:
        return None
    if (low is None) != (high is None):
        raise ConfigError(parameter, "both low and high, or neither", entry)
    # A hair of slack: an interval computed in another order of summation may miss the value by
    # an ulp, which is not worth failing a report for.
    slack = 1e-9 * max(1.0, abs(value))
    if low is not None and high is not None and not low - slack <= value <= high + slack:
        raise ConfigError(parameter, "low <= value <= high", entry)
    return value, low, high
