"""Benchmark: idprobe's training-side code against the usual way of doing it, ratios from one run.

1. **Constrained beam search** (``idprobe.training.decoding.beam_search``). A randomly initialised
   T5 with the shape of ``t5-tiny`` (d_model 64, d_ff 256, 2 encoder + 2 decoder layers, 4 heads,
   d_kv 16) and a 2,000-token vocabulary; a trie of 3,000 item IDs of 2-4 tokens (the first
   token one of 100 "cluster" tokens, as in CID / META ID, then 1-3 tokens from the whole
   vocabulary; decoder start first, EOS last); 32 encoder inputs of 32 tokens; 10 beams, 10
   returned. Three variants of the same call:

   a. ``constraint="none"``: free beam search, the IDs looked up afterwards (the floor: what
      generation costs without any constraint);
   b. ``constraint="processor"``: ``TrieLogitsProcessor``, one vectorised call per step;
   c. ``constraint="callback"``: transformers' ``prefix_allowed_tokens_fn`` with a dict trie,
      a Python call per beam per step (P5 / OpenP5's approach).

   Ratios are ``variant / unconstrained``; the target is processor <= 1.2x. The script checks
   that processor and callback return the same items, and prints the time spent inside the
   processor itself (from a separate, instrumented run).

Times are medians over ``--repeats`` rounds in which the variants take turns, after one warm-up
call of each. ``--quick`` shrinks everything (300 IDs, 8 inputs, 5 beams) to smoke-test the
script. ``--threads`` sets torch's intra-op threads (default: torch's own choice). While another
process keeps a core busy, torch's spinning intra-op threads make every time here noisy and up
to 10x slower (seen on this project's 2-core machine); ``--threads 1`` takes that out.

Run from the repository root::

    python benchmarks/bench_training.py [--quick] [--repeats 5] [--threads N] [--seed 0]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import transformers
from transformers import T5Config, T5ForConditionalGeneration

import idprobe
from idprobe.training import decoding
from idprobe.training.decoding import IdTrie, beam_search

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PAD, EOS = 0, 1


@dataclass(frozen=True)
class DecodingSizes:
    items: int  # IDs in the trie
    vocab: int
    clusters: int  # distinct first tokens
    batch: int  # encoder inputs per call ("users")
    source: int  # encoder input length
    beams: int


DECODING_FULL = DecodingSizes(3_000, 2_000, 100, 32, 32, 10)
DECODING_QUICK = DecodingSizes(300, 500, 20, 8, 16, 5)


@dataclass
class Row:
    name: str
    seconds: float
    how: str  # "median of 5", "1 run"
    low: float | None = None  # fastest run, when several
    units: int | None = None  # work items per call (users), for the per-unit column
    note: str = ""


# --------------------------------------------------------------------------------- measuring


def take_turns(
    variants: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Run each variant ``repeats`` times, the variants taking turns; all times and last results."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, work in variants.items():
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


def print_table(title: str, rows: list[Row], base: float, base_label: str, unit: str) -> None:
    width = max(len(row.name) for row in rows)
    how_width = max(len(row.how) for row in rows)
    header = (
        f"   {'variant':<{width}}  {'seconds':>9}  {'fastest':>9}  {'how':<{how_width}}  "
        f"{'ms/' + unit:>9}  {'x ' + base_label:>15}"
    )
    print(f"\n{title}")
    print(header)
    print("   " + "-" * (len(header) - 3))
    for row in rows:
        low = f"{row.low:9.4g}" if row.low is not None else " " * 9
        per = f"{1000 * row.seconds / row.units:9.3f}" if row.units else " " * 9
        print(
            f"   {row.name:<{width}}  {row.seconds:9.4g}  {low}  {row.how:<{how_width}}  "
            f"{per}  {row.seconds / base:14.2f}x{('  ' + row.note) if row.note else ''}"
        )


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


# -------------------------------------------------------------------------------- 1. decoding


def t5_tiny(vocab: int, seed: int) -> T5ForConditionalGeneration:
    """A randomly initialised T5 with the shape of t5-tiny (about 0.4M parameters + embeddings)."""
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=vocab,
        d_model=64,
        d_ff=256,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        d_kv=16,
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=PAD,
    )
    return T5ForConditionalGeneration(config).eval()


def random_ids(sizes: DecodingSizes, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Distinct IDs of 2-4 tokens: a cluster token from a small set, then 1-3 free tokens."""
    clusters = rng.choice(np.arange(2, sizes.vocab), size=sizes.clusters, replace=False)
    ids: set[tuple[int, ...]] = set()
    while len(ids) < sizes.items:
        rest = rng.integers(2, sizes.vocab, int(rng.integers(1, 4)))
        ids.add((int(rng.choice(clusters)), *(int(t) for t in rest)))
    return sorted(ids)


class _Timer:
    """Replaces ``TrieLogitsProcessor.__call__`` with a timed one while active."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self) -> _Timer:
        self.original = original = decoding.TrieLogitsProcessor.__call__

        def timed(processor, input_ids, scores):
            started = time.perf_counter()
            out = original(processor, input_ids, scores)
            self.seconds += time.perf_counter() - started
            self.calls += 1
            return out

        decoding.TrieLogitsProcessor.__call__ = timed
        return self

    def __exit__(self, *exc: object) -> None:
        decoding.TrieLogitsProcessor.__call__ = self.original


def bench_decoding(sizes: DecodingSizes, repeats: int, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    model = t5_tiny(sizes.vocab, seed)
    ids = random_ids(sizes, rng)
    started = time.perf_counter()
    trie = IdTrie.from_sequences([(PAD, *i, EOS) for i in ids])
    build_seconds = time.perf_counter() - started
    inputs = torch.as_tensor(rng.integers(2, sizes.vocab, (sizes.batch, sizes.source)))
    mask = torch.ones_like(inputs)

    def run(constraint: str) -> Callable[[], Any]:
        return lambda: beam_search(
            model, inputs, mask, trie, num_beams=sizes.beams, constraint=constraint
        )

    variants = {
        "unconstrained (constraint='none')": run("none"),
        "trie processor (idprobe)": run("processor"),
        "prefix_allowed_tokens_fn callback": run("callback"),
    }
    for work in variants.values():  # warm-up
        work()
    times, results = take_turns(variants, repeats)
    inside, calls = [], 0
    for _ in range(repeats):  # instrumented runs, apart from the timed ones
        with _Timer() as timer:
            run("processor")()
        inside.append(timer.seconds)
        calls = timer.calls

    rows = [measured_row(name, times[name], sizes.batch) for name in variants]
    base = rows[0].seconds
    inner = measured_row("  of which inside the processor", inside, sizes.batch)
    inner.note = f"{calls} calls, {1e3 * inner.seconds / max(calls, 1):.2f} ms each"
    rows.append(inner)
    print_table(
        f"1. Constrained beam search: {sizes.batch} inputs x {sizes.beams} beams, trie of "
        f"{trie.n_sequences:,} IDs ({trie.n_nodes:,} nodes, built in {1e3 * build_seconds:.0f} ms), "
        f"vocabulary {sizes.vocab:,}",
        rows,
        base,
        "unconstrained",
        "user",
    )
    free, processor, callback = (results[name] for name in variants)
    same = np.array_equal(processor.items, callback.items)
    close = np.allclose(processor.scores, callback.scores, atol=1e-5)
    found = int((processor.items >= 0).sum())
    free_found = int((free.items >= 0).sum())
    print(
        f"   processor and callback return the same items: {'yes' if same else 'NO'}"
        f" (scores within 1e-5: {'yes' if close else 'NO'}); trie IDs returned: processor "
        f"{found}/{processor.items.size}, unconstrained {free_found}/{processor.items.size}"
    )
    ratio = rows[1].seconds / base
    print(
        f"   target processor <= 1.2x unconstrained: {ratio:.2f}x -> {verdict(ratio <= 1.2)}; "
        f"callback / processor = {rows[2].seconds / rows[1].seconds:.1f}x"
    )
    return rows


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds, median kept (default 5, quick 2)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random input")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (2 if args.quick else 5)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(
        f"idprobe {idprobe.__version__}, Python {platform.python_version()}, torch "
        f"{torch.__version__}, transformers {transformers.__version__}, numpy {np.__version__}"
    )
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    bench_decoding(DECODING_QUICK if args.quick else DECODING_FULL, repeats, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
