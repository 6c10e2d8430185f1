"""Timing and table helpers shared by the benchmark scripts (not a benchmark itself).

Variants of one measurement take turns (a, b, c, a, b, c, ...) so that a change in the machine's
load hits all of them alike; a table then prints each variant's median, its fastest run and its
ratio to a base, all from the same run.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Row:
    name: str
    seconds: float
    how: str  # "median of 5", "1 run", "extrapolated from ..."
    low: float | None = None  # fastest run, when several
    units: int | None = None  # work items per call (users, examples), for a per-unit column
    note: str = ""


def take_turns(
    variants: dict[str, tuple[Callable[[], Any], int]],
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Run each variant ``count`` times, the variants taking turns; all times and last results."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, Any] = {}
    rounds = max(count for _, count in variants.values())
    for round_ in range(rounds):
        for name, (work, count) in variants.items():
            if round_ >= count:
                continue
            results.pop(name, None)
            gc.collect()
            started = time.perf_counter()
            results[name] = work()
            times[name].append(time.perf_counter() - started)
    return times, results


def measured_row(name: str, times: list[float], units: int | None = None, note: str = "") -> Row:
    how = f"median of {len(times)}" if len(times) > 1 else "1 run"
    low = min(times) if len(times) > 1 else None
    return Row(name, statistics.median(times), how, low, units, note)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    out = work()
    return time.perf_counter() - started, out


def print_table(
    title: str,
    rows: list[Row],
    base: float | None,
    base_label: str = "idprobe",
    unit: str | None = None,
    ratio_digits: int = 1,
) -> None:
    """One section's table: ``unit`` adds a milliseconds-per-unit column (rows with ``units``),
    ``base=None`` leaves out the ratio column (nothing to compare with)."""
    width = max(len(row.name) for row in rows)
    how_width = max(len(row.how) for row in rows)
    ratio_width = max(11, len(base_label) + 3)
    header = f"   {'variant':<{width}}  {'seconds':>9}  {'fastest':>9}  {'how':<{how_width}}"
    if unit is not None:
        header += f"  {'ms/' + unit:>9}"
    if base is not None:
        header += f"  {'x ' + base_label:>{ratio_width}}"
    print(f"\n{title}")
    print(header)
    print("   " + "-" * (len(header) - 3))
    for row in rows:
        low = f"{row.low:9.4g}" if row.low is not None else " " * 9
        line = f"   {row.name:<{width}}  {row.seconds:9.4g}  {low}  {row.how:<{how_width}}"
        if unit is not None:
            line += f"  {1000 * row.seconds / row.units:9.3f}" if row.units else " " * 11
        if base is not None:
            line += f"  {row.seconds / base:{ratio_width - 1}.{ratio_digits}f}x"
        print(line + (f"  {row.note}" if row.note else ""))


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"
