"""Argument checks shared by the metric functions: one-line errors that name the parameter."""

from __future__ import annotations

from typing import Any

import numpy as np

from idprobe.errors import ConfigError, choices, verbatim


def check_representations(reps: Any, parameter: str = "reps", min_rows: int = 2) -> np.ndarray:
    """``reps`` as a finite 2-D float array with at least ``min_rows`` rows (float32 kept)."""
    array = np.asarray(reps)
    if array.ndim != 2:
        raise ConfigError(parameter, "a 2-D (entities, d) array", verbatim(f"shape {array.shape}"))
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ConfigError(parameter, "a numeric array", verbatim(f"dtype {array.dtype}"))
    if array.dtype != np.float32:
        array = array.astype(np.float64, copy=False)
    if array.shape[0] < min_rows:
        raise ConfigError(
            parameter, f"at least {min_rows} entities (rows)", verbatim(f"{array.shape[0]}")
        )
    if array.shape[1] < 1:
        raise ConfigError(parameter, "at least one dimension", verbatim(f"shape {array.shape}"))
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ConfigError(
            parameter, "finite values", verbatim(f"NaN or inf in row {row} of {array.shape[0]}")
        )
    return array


def check_count(parameter: str, value: Any, minimum: int = 1) -> int:
    """An ``int`` (not bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(parameter, f"an integer >= {minimum}", value)
    return int(value)


def check_positive(parameter: str, value: Any) -> float:
    """A finite float ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ConfigError(parameter, "a number > 0", value)
    number = float(value)
    if not np.isfinite(number) or number <= 0:
        raise ConfigError(parameter, "a number > 0", value)
    return number


def check_option(parameter: str, value: Any, options: tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ConfigError(parameter, choices(options), value)
    return str(value)
