"""Benchmark: full-ranking evaluation of the baselines against a plain per-user sort, ratios from one run.

Beauty-sized problem: 12,101 items, 64-dimensional seeded normal queries and item vectors (the
output layer of SASRec), ``--users`` users (default 4,000; all 22,363 with ``--users 22363``).
Variants, taking turns, each checked to give the same ranks as the first:

a. idprobe ``full_ranking`` (ranks only): blocks of users x items, the target's rank counted by
   comparison with its score, no sort;
b. idprobe ``full_ranking`` with each user's top 20 kept (what ``idprobe baseline`` saves);
c. plain numpy, one block of scores at a time: ``np.argsort(-scores, kind="stable")`` of every
   row, then the target's position (the way evaluation loops usually find a rank).

    python benchmarks/bench_ranking.py [--users N] [--repeat 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from _measure import measured_row, print_table, take_turns

from idprobe.evaluation import dot_product_scorer, full_ranking


def sorted_ranks(queries: np.ndarray, items: np.ndarray, targets: np.ndarray) -> np.ndarray:
    ranks = np.empty(targets.size, dtype=np.int64)
    for start in range(0, targets.size, 1024):
        scores = queries[start : start + 1024] @ items.T
        order = np.argsort(-scores, axis=1, kind="stable")
        hit = order == targets[start : start + 1024, None]
        ranks[start : start + 1024] = hit.argmax(axis=1) + 1
    return ranks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--items", type=int, default=12_101)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    queries = rng.normal(size=(args.users, 64)).astype(np.float32)
    items = rng.normal(size=(args.items, 64)).astype(np.float32)
    targets = rng.integers(0, args.items, size=args.users)
    scorer = dot_product_scorer(queries, items)
    variants = {
        "a. idprobe full_ranking": (
            lambda: full_ranking(scorer, targets, args.items).ranks,
            args.repeat,
        ),
        "b. idprobe full_ranking, top 20 kept": (
            lambda: full_ranking(scorer, targets, args.items, top_k=20).ranks,
            args.repeat,
        ),
        "c. numpy argsort per user": (lambda: sorted_ranks(queries, items, targets), args.repeat),
    }
    times, results = take_turns(variants)
    reference = results["a. idprobe full_ranking"]
    for name, ranks in results.items():
        assert np.array_equal(ranks, reference), f"{name} gives other ranks"
    rows = [measured_row(name, times[name], units=args.users) for name in variants]
    base = rows[0].seconds
    print_table(
        f"Full ranking of {args.items:,} items for {args.users:,} users (d = 64, one process)",
        rows,
        base,
        base_label="idprobe",
        unit="user",
    )
    print("\n   every variant gives the same ranks")


if __name__ == "__main__":
    main()
