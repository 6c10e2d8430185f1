"""Benchmark: idprobe's loading + leave-one-out split of Amazon Beauty (P5) against plain pandas.

Three variants do the same job on the real ``p5_sequential_data.txt`` (22,363 users, 12,101
items, 198,502 interactions; one line ``user_id item_id item_id ...`` per user, chronological):
read the file, then build a leave-one-out split with ``max_his = 20``:

* training part: every user's sequence but the last two items;
* training samples: one per position ``i >= 1`` of the training part, target ``seq[i]``,
  history ``seq[:i]`` (its last 20 items);
* validation: target ``seq[-2]``, history the last 20 items of the training part;
* test: target ``seq[-1]``, history the last 20 items of ``seq[:-1]``.

Variants:

* ``idprobe load_dataset``: ``load_dataset(dir)`` (format detected, ``p5_datamaps.json`` applied,
  so ids are raw reviewer ids and ASINs), then ``leave_one_out``;
* ``idprobe read_p5``: ``read_p5(file, datamaps=None)`` (the file's integer ids), then
  ``leave_one_out``;
* ``pandas``: ``read_csv`` of whole lines, ``str.split`` + ``explode`` to a long frame, positions by
  ``groupby().cumcount()``, histories as Python lists (a ``groupby().apply`` over each user's
  training part, ``groupby().agg(list)`` for validation and test).

For idprobe every lazy part of the split is touched (training view, training samples,
validation, test) and the histories are materialised with ``Samples.history_matrix()``, so both
sides end with explicit histories for every sample. Before measuring, the script checks that
idprobe and pandas agree (sample counts, users, targets and histories of every sample, as raw
ids) and stops with an error if they do not.

Wall time is the best of ``--repeats`` runs (the variants take turns). Peak memory is measured in
one separate run per variant under ``tracemalloc`` (which slows Python down, hence not during
timing): the peak of traced Python, numpy and pandas allocations, in MiB. Ratios are
``pandas / variant``: above 1 means the variant is faster or needs less memory than pandas.

Run from the repository root (the data live in ``../shared/data/amazon-beauty``)::

    python benchmarks/bench_data.py [--repeats 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import idprobe
from idprobe.data import Interactions, LeaveOneOutSplit, leave_one_out, load_dataset, read_p5

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_DATA = SHARED_DATA / "amazon-beauty"
SEQUENCE_FILE = "p5_sequential_data.txt"
DATAMAPS_FILE = "p5_datamaps.json"
MAX_HIS = 20


# ---------------------------------------------------------------------------------- idprobe


def idprobe_split(data: Interactions) -> tuple[LeaveOneOutSplit, dict[str, Any]]:
    """Leave-one-out split with every cached part materialised, and explicit history matrices."""
    split = leave_one_out(data, max_his=MAX_HIS)
    _ = split.training_view
    histories = {
        "train": split.train_samples.history_matrix(),
        "validation": split.validation.history_matrix(),
        "test": split.test.history_matrix(),
    }
    return split, histories


def run_idprobe_datamaps(data_dir: Path) -> tuple[LeaveOneOutSplit, dict[str, Any]]:
    return idprobe_split(load_dataset(data_dir))


def run_idprobe_plain(data_dir: Path) -> tuple[LeaveOneOutSplit, dict[str, Any]]:
    return idprobe_split(read_p5(data_dir / SEQUENCE_FILE, datamaps=None))


# ----------------------------------------------------------------------------------- pandas


@dataclass
class PandasSplit:
    train: pd.DataFrame  # user, item, pos: every user's seq[:-2]
    samples: pd.DataFrame  # user, target, history (list)
    validation: pd.DataFrame  # index user; target, history (list)
    test: pd.DataFrame  # index user; target, history (list)


def run_pandas(data_dir: Path) -> PandasSplit:
    """The same split written the way a researcher would with pandas."""
    lines = pd.read_csv(data_dir / SEQUENCE_FILE, header=None, names=["line"], sep="\x01")["line"]
    tokens = lines.str.split()
    frame = pd.DataFrame({"user": tokens.str[0], "item": tokens.str[1:]})
    frame = frame.explode("item", ignore_index=True).astype({"user": "int64", "item": "int64"})

    by_user = frame.groupby("user", sort=False)
    frame["pos"] = by_user.cumcount()
    from_end = by_user["item"].transform("size") - 1 - frame["pos"]

    train = frame[from_end >= 2]

    def histories(items: pd.Series) -> list[list[int]]:
        seq = items.tolist()
        return [seq[max(0, i - MAX_HIS) : i] for i in range(1, len(seq))]

    per_user = train.groupby("user", sort=False)["item"].apply(histories)
    samples = (
        train.loc[train["pos"] >= 1, ["user", "item"]]
        .rename(columns={"item": "target"})
        .reset_index(drop=True)
    )
    samples["history"] = [history for user_histories in per_user for history in user_histories]

    def held_out(target_from_end: int) -> pd.DataFrame:
        target = frame.loc[from_end == target_from_end, ["user", "item"]]
        window = (from_end > target_from_end) & (from_end <= target_from_end + MAX_HIS)
        history = frame[window].groupby("user", sort=False)["item"].agg(list)
        return target.set_index("user").rename(columns={"item": "target"}).assign(history=history)

    return PandasSplit(train, samples, held_out(1), held_out(0))


# -------------------------------------------------------------------------------- agreement


def _padded(histories: pd.Series, width: int) -> np.ndarray:
    """List histories as a right-aligned matrix padded with -1 (the layout of history_matrix)."""
    out = np.full((len(histories), width), -1, dtype=np.int64)
    for row, history in enumerate(histories):
        if history:
            out[row, width - len(history) :] = history
    return out


def _raw_matrix(matrix: np.ndarray, raw: np.ndarray) -> np.ndarray:
    return np.where(matrix >= 0, raw[np.maximum(matrix, 0)], -1)


def check_agreement(data_dir: Path) -> dict[str, int]:
    """Stop with AssertionError unless idprobe and pandas produced the same split."""
    theirs = run_pandas(data_dir)
    split, histories = run_idprobe_plain(data_dir)
    data = split.interactions
    expected = data.n_interactions - 3 * data.n_users
    assert len(split.train_samples) == len(theirs.samples) == expected, (
        f"training samples: idprobe {len(split.train_samples)}, pandas {len(theirs.samples)}, "
        f"expected {expected}"
    )
    assert len(split.training_view) == len(theirs.train), "training parts differ in size"

    # idprobe without datamaps keeps the file's ids: raw ids are the integers as strings.
    raw_user = data.users.astype(np.int64)
    raw_item = data.items.astype(np.int64)
    samples = split.train_samples
    assert np.array_equal(raw_user[samples.users], theirs.samples["user"].to_numpy())
    assert np.array_equal(raw_item[samples.targets], theirs.samples["target"].to_numpy())
    width = histories["train"].shape[1]
    assert np.array_equal(
        _raw_matrix(histories["train"], raw_item), _padded(theirs.samples["history"], width)
    ), "training histories differ"
    for part in ("validation", "test"):
        ours, frame = getattr(split, part), getattr(theirs, part)
        users = raw_user[ours.users]
        assert len(frame) == len(users) == data.n_users, f"{part}: not one sample per user"
        frame = frame.loc[users]
        assert np.array_equal(raw_item[ours.targets], frame["target"].to_numpy()), (
            f"{part} targets differ"
        )
        assert np.array_equal(
            _raw_matrix(histories[part], raw_item),
            _padded(frame["history"], histories[part].shape[1]),
        ), f"{part} histories differ"

    # With datamaps, the same split in raw reviewer ids / ASINs.
    mapped, _ = run_idprobe_datamaps(data_dir)
    maps = json.loads((data_dir / DATAMAPS_FILE).read_text(encoding="utf-8"))
    id2user, id2item = maps["id2user"], maps["id2item"]
    assert len(mapped.train_samples) == expected, "datamaps variant: training sample count"
    for part in ("validation", "test"):
        ours = getattr(mapped, part)
        got = dict(
            zip(
                mapped.interactions.users[ours.users].tolist(),
                mapped.interactions.items[ours.targets].tolist(),
                strict=True,
            )
        )
        want = {
            id2user[str(u)]: id2item[str(i)] for u, i in getattr(theirs, part)["target"].items()
        }
        assert got == want, f"datamaps variant: {part} targets differ"
    return {
        "users": data.n_users,
        "items": data.n_items,
        "interactions": data.n_interactions,
        "train samples": expected,
    }


# -------------------------------------------------------------------------------- measuring


def best_times(variants: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best wall time of each variant over ``repeats`` rounds (variants take turns each round)."""
    best = dict.fromkeys(variants, math.inf)
    for _ in range(repeats):
        for name, work in variants.items():
            gc.collect()
            start = time.perf_counter()
            result = work()
            elapsed = time.perf_counter() - start
            del result
            best[name] = min(best[name], elapsed)
    return best


def peak_mib(work: Callable[[], Any]) -> float:
    """Peak traced memory (MiB) of one run of ``work``."""
    gc.collect()
    tracemalloc.start()
    try:
        result = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / 2**20


def cpu_count() -> str:
    total = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return str(total)
    return str(total) if usable == total else f"{usable} usable of {total}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help=f"directory holding {SEQUENCE_FILE} and {DATAMAPS_FILE} (default: {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs per variant, best kept (default: 5)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    data_dir: Path = args.data
    for name in (SEQUENCE_FILE, DATAMAPS_FILE):
        if not (data_dir / name).is_file():
            print(
                f"bench_data: no Amazon Beauty P5 data: {data_dir / name} not found",
                file=sys.stderr,
            )
            return 2

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"idprobe {idprobe.__version__}"
    )
    print(f"machine: {platform.system()} {platform.machine()}, CPUs: {cpu_count()}")
    print(f"data: {data_dir / SEQUENCE_FILE}")

    sizes = check_agreement(data_dir)
    print(", ".join(f"{n:,} {what}" for what, n in sizes.items()), "(idprobe and pandas agree)")
    print()

    variants: dict[str, Callable[[], Any]] = {
        "idprobe load_dataset (datamaps)": lambda: run_idprobe_datamaps(data_dir),
        "idprobe read_p5 (no datamaps)": lambda: run_idprobe_plain(data_dir),
        "pandas": lambda: run_pandas(data_dir),
    }
    seconds = best_times(variants, args.repeats)
    peaks = {name: peak_mib(work) for name, work in variants.items()}

    header = f"{'variant':<32} {'best s':>8} {'peak MiB':>9} {'x faster':>9} {'x less mem':>11}"
    print(f"leave-one-out split, max_his={MAX_HIS}; best of {args.repeats} runs")
    print(header)
    print("-" * len(header))
    for name in variants:
        time_ratio = seconds["pandas"] / seconds[name]
        mem_ratio = peaks["pandas"] / peaks[name]
        print(
            f"{name:<32} {seconds[name]:>8.3f} {peaks[name]:>9.1f} "
            f"{time_ratio:>8.2f}x {mem_ratio:>10.2f}x"
        )
    print("ratios are pandas / variant: above 1 means faster, or less peak memory, than pandas")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
