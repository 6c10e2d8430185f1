"""Benchmark: the ID strategies on Amazon Beauty (P5; 22,363 users, 12,101 items), ratios from one run.

Three measurements, all on the leave-one-out training view of the real Beauty data:

1. **Meta-path walks**: the numba walker against the same algorithm in plain Python
   (``walks.python_walks``, same random stream: the script checks the walks are identical).
   Both make one walk of 64 nodes from every node; the ratio is Python time / numba time.
   The numba time is the best of 3 after a warm-up call (compilation is cached on disk).
2. **CID co-occurrence memory**: idprobe's sparse matrix against the dense N x N float64 matrix
   the reference implementation builds, peak traced allocations (tracemalloc) of each.
3. **Whole META ID build** (walks, skip-gram, spherical K-Means with G = 100, IDs), with the
   quick preset (``meta.QUICK``: 8 walks of 32 nodes, 2 epochs) and with the paper's settings
   (32 walks of 64 nodes, 10 epochs). Each runs in a fresh subprocess so that its wall time and
   peak resident memory (``VmHWM``) are its own. ``--skip-paper`` leaves out the paper
   setting (about 50 minutes on 2 slow cores; gensim does about 240k words/s there).

Run from the repository root::

    python benchmarks/bench_ids.py [--data DIR] [--skip-paper]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

import idprobe
from idprobe.data import leave_one_out, load_dataset
from idprobe.ids import assignment_stats, get_strategy
from idprobe.ids.cooccurrence import cooccurrence
from idprobe.ids.graph import interaction_graph
from idprobe.ids.meta import QUICK
from idprobe.ids.walks import metapath_walks, python_walks

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "amazon-beauty"


def _view(data_dir: Path):
    return leave_one_out(load_dataset(data_dir)).training_view


def bench_walks(view) -> None:
    graph = interaction_graph(view, use_ratings=True)
    metapath_walks(graph, 1, 64, 0)  # compile or load the cached kernel
    numba_seconds = min(_timed(lambda: metapath_walks(graph, 1, 64, 0))[0] for _ in range(3))
    python_seconds, reference = _timed(lambda: python_walks(graph, 1, 64, 0))
    fast = metapath_walks(graph, 1, 64, 0)
    if not np.array_equal(fast, reference):
        sys.exit("numba and Python walks differ: the comparison would be meaningless")
    full_seconds, walks = _timed(lambda: metapath_walks(graph, 32, 64, 0))
    print("\n1. Meta-path walks, one 64-node walk per node (34,464 walks)")
    print(f"   plain Python  {python_seconds:8.3f} s")
    print(
        f"   numba         {numba_seconds:8.3f} s   -> {python_seconds / numba_seconds:.0f}x faster"
    )
    print(
        f"   numba, paper setting (32 walks per node, {walks.size:,} nodes): {full_seconds:.2f} s"
    )


def bench_cooccurrence(view) -> None:
    n = view.n_items
    sparse_seconds, sparse_peak, matrix = _traced(lambda: cooccurrence(view))

    def dense():
        out = np.zeros((n, n), dtype=np.float64)  # what the reference allocates
        coo = matrix.tocoo()
        out[coo.row, coo.col] = coo.data
        return out

    dense_seconds, dense_peak, full = _traced(dense)
    assert np.array_equal(full[:50, :50], matrix[:50, :50].toarray())
    del full
    gc.collect()
    print(f"\n2. CID co-occurrence of {n:,} items ({matrix.nnz:,} non-zeros)")
    print(f"   sparse (idprobe)  {sparse_peak / 2**20:9.1f} MiB peak  {sparse_seconds:6.2f} s")
    print(f"   dense N x N       {dense_peak / 2**20:9.1f} MiB peak  {dense_seconds:6.2f} s")
    print(f"   -> {dense_peak / sparse_peak:.0f}x less memory")


def _build_meta(data_dir: str, settings: str) -> dict:
    """Run in a subprocess: one whole META ID build; prints JSON with time and peak memory."""
    view = _view(Path(data_dir))
    params = {} if settings == "paper" else dict(QUICK)
    strategy = get_strategy("meta", **params)
    started = time.perf_counter()
    assignment = strategy.assign(view, seed=0)
    seconds = time.perf_counter() - started
    stats = assignment_stats(assignment)
    return {
        "seconds": seconds,
        "max_rss_mib": _peak_rss_mib(),
        "new_tokens": stats.new_tokens,
        "coarse": sum(t.startswith("<CT") for t in assignment.new_tokens),
        "rank_tokens": sum(not t.startswith("<CT") for t in assignment.new_tokens),
        "params": {
            k: v
            for k, v in strategy.params().items()
            if k in ("walks_per_node", "walk_length", "epochs")
        },
    }


def _peak_rss_mib() -> float:
    """This process's peak resident memory since its exec, in MiB.

    ``VmHWM`` belongs to the address space that exec created. ``getrusage``'s ``ru_maxrss`` would
    also count the parent's pages at fork time (the dense matrix of step 2, measured: 1.35 GiB
    reported for a build that peaks near 0.45 GiB), so it is not used.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def bench_meta(data_dir: Path, skip_paper: bool) -> None:
    print("\n3. Whole META ID build on Beauty (G = 100, joint users + items, one gensim worker)")
    for settings in ("quick", "paper"):
        if settings == "paper" and skip_paper:
            print("   paper setting skipped (--skip-paper)")
            continue
        command = [
            sys.executable,
            "-c",
            "import json, sys; sys.path.insert(0, 'benchmarks'); import bench_ids; "
            f"print(json.dumps(bench_ids._build_meta({str(data_dir)!r}, {settings!r})))",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"   {settings:<6} {result['params']}: {result['seconds']:7.1f} s, peak RSS "
            f"{result['max_rss_mib']:.0f} MiB, {result['new_tokens']:,} new tokens "
            f"({result['coarse']} <CT> + {result['rank_tokens']} rank tokens)"
        )


def _timed(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _traced(fn):
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--skip-paper", action="store_true", help="leave out the ~50 min paper setting"
    )
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"Beauty data not found at {args.data} (pass --data DIR)")
    print(
        f"idprobe {idprobe.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    view = _view(args.data)
    bench_walks(view)
    bench_cooccurrence(view)
    bench_meta(args.data, args.skip_paper)


if __name__ == "__main__":
    main()
