"""Benchmark: idprobe's representation metrics against numpy and the reference code, ratios from one run.

Four measurements (``--quick`` shrinks the synthetic sizes to smoke-test the script):

1. **Sampled Diversity Score**, 1,000,000 pairs of a seeded 12,101 x 512 float32 normal matrix.
   All variants score the *same* pairs (``idprobe.metrics.diversity.sample_pairs``) and the
   script checks that their per-pair values agree with idprobe's:

   a. idprobe ``diversity_score(reps, pairs=...)``: softmax of every row once, then the parallel
      numba kernel. Timed after a warm-up call; the first call of the process (loading the
      kernel from numba's on-disk cache) and a first call in a fresh process with an empty
      numba cache (a real compilation, ``NUMBA_CACHE_DIR`` pointed at a temporary folder) are
      printed apart.
   b. numpy, softmax per pair: for chunks of pairs, ``scipy.special.log_softmax`` of the two
      gathered rows, then ``KL(p||q) + KL(q||p)``.
   c. numpy, softmax once: log-softmax of all rows once, then gather and
      ``sum((p_i - p_j) (l_i - l_j))`` in chunks: the kernel's algorithm, the fairest numpy
      baseline. (The released META ID code, ``src/utils/score.py``, also takes the softmax of
      all rows once, so this is its approach, vectorised.)
   d. the reference loop (``Diversity_Score`` of the released code: softmax of all rows once,
      then per pair two ``kl_divergence`` calls with the ``np.where`` epsilon guard; its own
      ``random.sample`` draw of each pair is left out), on a subset of the pairs and
      extrapolated linearly to all of them (labelled).

2. **Exact Diversity Score** (``method="exact"``, the O(N d) closed form) against all pairs:
   a blocked-GEMM numpy sum over every pair ``i < j`` (measured, and checked against the closed
   form), and the per-pair variants of 1 extrapolated to ``N (N - 1) / 2`` pairs.

3. **Memorization Score**, 12,101 items, d = 512, against a random rank-1 ground truth
   ``sim(i, j) = a_i a_j`` (the shape of ``dev_devs``): idprobe's closed form (``mode="paper"``)
   against (a) an exact blocked numpy sum over the upper triangle (checked against idprobe) and
   (b) the released code's pipeline without its PCA: the full N x N cosine matrix, its upper
   triangle and ``mean_squared_error`` (vectorised, measured), plus its per-pair Python loop
   over the ground truth (``adjusted_cosine_similarity_precomputed`` over dicts), timed on a
   subset of pairs and extrapolated to all of them (labelled). ``mode="reference"`` (standardise
   + PCA 95%) is timed too.

4. **Ground truths on Amazon Beauty** (22,363 users x 12,101 items, 198,502 interactions). The
   data have no ratings, so seeded random integer ratings 1..5 (float32, ``rating_scale=(1, 5)``)
   are attached with ``dataclasses.replace``. ``similarity_ground_truth`` for the three kinds:
   time, memory, and non-zeros; the exact adjusted cosine against a dense numpy computation on a
   subset of items (checked); the Memorization Score against the sparse adjusted-cosine ground
   truth with random 512-d representations (checked against a blocked dense sum).

Times are medians over rounds in which the variants take turns (idprobe calls and fast
baselines: ``--repeats`` rounds, default 5; baselines that take seconds: ``--slow-repeats``,
default 3), after one warm-up call of every idprobe function. A per-pair Python loop is run once
on a subset and extrapolated linearly, and says so. Ratios are ``variant / idprobe`` on the
medians: above 1 means idprobe is faster.

The header times one BLAS product with the BLAS's threads and with one thread: on some virtual
machines (this project's 2-core one included, intermittently) a multi-threaded OpenBLAS is many
times slower than one thread on tall-skinny products, and then every BLAS-bound time here
measures that; ``--blas-threads 1`` (threadpoolctl) takes it out.

Memory is measured in separate runs, never during timing, two ways: ``traced`` is the peak of
``tracemalloc`` (Python and numpy allocations made by the call, not C++ temporaries such as
scipy's sparse sort buffers) and ``RSS+`` is the growth of the process's peak resident memory
during the call (``VmHWM`` after resetting it through ``/proc/self/clear_refs``, minus ``VmRSS``
before; Linux only; memory the allocator had kept from earlier calls is not counted).

Run from the repository root (the data live in ``../shared/data/amazon-beauty``)::

    python benchmarks/bench_metrics.py [--quick] [--repeats 5] [--slow-repeats 3]
        [--blas-threads N] [--seed 0] [--data DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
from _measure import Row, measured_row, print_table, take_turns, timed, verdict
from scipy.special import log_softmax, softmax

import idprobe
from idprobe.data import Interactions, load_dataset
from idprobe.metrics import diversity_score, memorization_score, similarity_ground_truth
from idprobe.metrics.diversity import _sampled, _softmax_logs, sample_pairs
from idprobe.metrics.ground_truth import SimilarityGroundTruth
from idprobe.metrics.memorization import normalized_rows

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "amazon-beauty"
CHUNK = 2048  # pairs per chunk of the numpy Diversity Score variants
BLOCK = 1024  # rows per block of the all-pairs numpy sums


@dataclass(frozen=True)
class Sizes:
    items: int  # N of the synthetic matrices (sections 1-3)
    dim: int
    pairs: int  # sampled DS pairs
    loop_pairs: int  # pairs the reference DS loop runs before extrapolation
    gt_loop_pairs: int  # pairs the reference MS ground-truth loop runs before extrapolation
    dense_items: int  # items of the dense adjusted-cosine comparison (section 4)
    ms_items: int | None  # items of the Beauty Memorization Score (None: the whole catalog)


FULL = Sizes(12_101, 512, 1_000_000, 20_000, 200_000, 2_000, None)
QUICK = Sizes(2_000, 512, 100_000, 2_000, 20_000, 300, 3_000)


# --------------------------------------------------------------------------------- measuring


def _status_kib(field: str) -> int | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def _reset_peak_rss() -> bool:
    """Set ``VmHWM`` to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def memory(work: Callable[[], Any]) -> tuple[float, float | None]:
    """``(traced peak MiB, peak RSS growth MiB or None)`` of ``work``, from two separate runs."""
    rss_growth = None
    gc.collect()
    if _reset_peak_rss():
        before = _status_kib("VmRSS")
        out = work()
        peak = _status_kib("VmHWM")
        del out
        if before is not None and peak is not None:
            rss_growth = (peak - before) / 1024
        gc.collect()
    tracemalloc.start()
    try:
        out = work()
        traced = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    del out
    gc.collect()
    return traced, rss_growth


# ---------------------------------------------------------------- 1. sampled Diversity Score


def ds_numpy_softmax_per_pair(reps: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Half symmetric KL per pair; the softmax of both rows of every pair, chunk by chunk."""
    out = np.empty(left.size, dtype=np.float64)
    for start in range(0, left.size, CHUNK):
        stop = min(start + CHUNK, left.size)
        log_p = log_softmax(reps[left[start:stop]], axis=1)
        log_q = log_softmax(reps[right[start:stop]], axis=1)
        gap = log_p - log_q
        kl_pq = np.einsum("ij,ij->i", np.exp(log_p), gap)  # KL(p || q)
        kl_qp = -np.einsum("ij,ij->i", np.exp(log_q), gap)  # KL(q || p)
        out[start:stop] = 0.5 * (kl_pq + kl_qp)
    return out


def ds_numpy_softmax_once(reps: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Half symmetric KL per pair from the softmax of all rows, computed once, then gathered."""
    log_probs = log_softmax(reps, axis=1)
    probs = np.exp(log_probs)
    out = np.empty(left.size, dtype=np.float64)
    for start in range(0, left.size, CHUNK):
        stop = min(start + CHUNK, left.size)
        a, b = left[start:stop], right[start:stop]
        dp = probs[a]
        dp -= probs[b]
        dl = log_probs[a]
        dl -= log_probs[b]
        out[start:stop] = 0.5 * np.einsum("ij,ij->i", dp, dl)
    return out


def reference_kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``kl_divergence`` of the released META ID code (``src/utils/score.py``), rewritten."""
    epsilon = 1e-10
    p = np.where(p == 0, epsilon, p)
    q = np.where(q == 0, epsilon, q)
    return np.sum(p * np.log(p / q), axis=1)


def ds_reference_loop(prob_matrix: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The pair loop of the released ``Diversity_Score`` on given pairs (it draws its own)."""
    values = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        kl_ij = reference_kl_divergence(prob_matrix[i : i + 1], prob_matrix[j : j + 1])
        kl_ji = reference_kl_divergence(prob_matrix[j : j + 1], prob_matrix[i : i + 1])
        values.append((kl_ij + kl_ji) / 2)
    return np.concatenate(values)


def _kernel_cache_present() -> bool:
    folder = Path(sys.modules["idprobe.metrics"].__file__).parent / "__pycache__"
    return any(folder.glob("_kernels.*.nbi"))


def cold_compile_probe() -> dict[str, float] | None:
    """First calls in a fresh process whose numba cache is an empty temporary folder."""
    code = (
        "import json, time\n"
        "t0 = time.perf_counter()\n"
        "import numba\n"
        "t1 = time.perf_counter()\n"
        "import numpy as np\n"
        "from idprobe.metrics import diversity_score\n"
        "reps = np.random.default_rng(0).standard_normal((64, 512), dtype=np.float32)\n"
        "t2 = time.perf_counter()\n"
        "diversity_score(reps, pairs=1000)\n"
        "t3 = time.perf_counter()\n"
        "diversity_score(reps, method='exact')\n"
        "t4 = time.perf_counter()\n"
        "print(json.dumps({'import_numba': t1 - t0, 'sampled': t3 - t2, 'exact': t4 - t3}))\n"
    )
    with tempfile.TemporaryDirectory(prefix="bench_metrics_numba_") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        print(f"   (cold-compile probe failed: {done.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_diversity(sizes: Sizes, repeats: int, slow: int, seed: int) -> dict[str, Any]:
    n, d, pairs = sizes.items, sizes.dim, sizes.pairs
    reps = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)
    left, right = sample_pairs(n, pairs, seed)  # the pairs diversity_score(seed=seed) draws

    print(f"\n1. Sampled Diversity Score: {pairs:,} pairs, {n:,} x {d} float32 (seed {seed})")
    numba_loaded = "numba" in sys.modules
    cache_present = _kernel_cache_present()
    import_seconds, _ = timed(lambda: __import__("numba"))
    first_sampled, _ = timed(lambda: diversity_score(reps, pairs=pairs, seed=seed))
    tiny = reps[:64]
    first_exact, _ = timed(lambda: diversity_score(tiny, method="exact"))
    import numba

    cache_word = "loads the on-disk cache" if cache_present else "compiles (no on-disk cache)"
    print(
        f"   numba {numba.__version__}: import {import_seconds:.3f} s"
        f"{' (already imported)' if numba_loaded else ''}; "
        f"threads {numba.get_num_threads()}, threading layer {numba.threading_layer()}"
    )
    print(
        f"   first call in this process ({cache_word}): sampled {first_sampled:.3f} s "
        f"(whole call, {pairs:,} pairs), exact {first_exact:.3f} s (64 rows)"
    )
    cold = cold_compile_probe()
    if cold is not None:
        print(
            f"   first call in a fresh process, empty numba cache (compiles): sampled "
            f"{cold['sampled']:.2f} s, exact {cold['exact']:.2f} s (tiny inputs; import numba "
            f"{cold['import_numba']:.2f} s not included)"
        )
    print("   every time below is after that warm-up: compilation and cache loading excluded")

    probs, log_probs = _softmax_logs(reps, 1.0)
    reference_values = _sampled(probs, log_probs, pairs, seed)  # idprobe's per-pair values
    prob_matrix = softmax(reps, axis=1)  # the released code's one softmax of all rows
    loop_left, loop_right = left[: sizes.loop_pairs], right[: sizes.loop_pairs]

    times, results = take_turns(
        {
            "a": (lambda: diversity_score(reps, pairs=pairs, seed=seed), repeats),
            "b": (lambda: ds_numpy_softmax_per_pair(reps, left, right), slow),
            "c": (lambda: ds_numpy_softmax_once(reps, left, right), repeats),
        }
    )
    softmax_seconds, _ = timed(lambda: softmax(reps, axis=1))
    loop_seconds, loop_values = timed(lambda: ds_reference_loop(prob_matrix, loop_left, loop_right))
    scale = pairs / sizes.loop_pairs
    loop_total = softmax_seconds + loop_seconds * scale

    ours = results["a"]
    values = {
        "b": results["b"],
        "c": results["c"],
        "d": loop_values,
    }
    assert ours.pairs == pairs and abs(ours.value - reference_values.mean()) < 1e-9
    agree = {key: float(np.abs(v - reference_values[: v.size]).max()) for key, v in values.items()}
    means = {key: float(v.mean()) for key, v in values.items()}
    sub_mean = float(reference_values[: sizes.loop_pairs].mean())
    print(
        f"   DS = {ours.value:.6f} +- {ours.stderr:.6f} (idprobe); max |per-pair difference| vs "
        f"idprobe: (b) {agree['b']:.1e}, (c) {agree['c']:.1e}, (d) {agree['d']:.1e}; "
        f"|DS difference|: (b) {abs(means['b'] - ours.value):.1e}, "
        f"(c) {abs(means['c'] - ours.value):.1e}, (d, on its {sizes.loop_pairs:,} pairs) "
        f"{abs(means['d'] - sub_mean):.1e}"
    )
    worst = max(agree.values())
    if worst > 1e-4:
        sys.exit(f"Diversity Score variants disagree by {worst:.2e}: the comparison is meaningless")

    warm = statistics.median(times["a"])
    rows = [
        measured_row(
            "(a) idprobe diversity_score (numba kernel)",
            times["a"],
            note=f"first call {first_sampled:.3f} s: +{first_sampled - warm:.3f} s to load the kernel",
        ),
        measured_row(
            "(b) numpy, log_softmax of both rows per pair", times["b"], note=f"chunks of {CHUNK:,}"
        ),
        measured_row(
            "(c) numpy, softmax of all rows once + gather", times["c"], note=f"chunks of {CHUNK:,}"
        ),
        Row(
            "(d) reference Python loop (softmax once)",
            loop_total,
            f"EXTRAPOLATED from {sizes.loop_pairs:,} pairs",
            note=f"{loop_seconds:.3f} s measured x {scale:g} + {softmax_seconds:.3f} s softmax",
        ),
    ]
    base = rows[0].seconds
    print_table("   seconds for all pairs; ratio = variant / idprobe", rows, base)
    ratio_b, ratio_c = rows[1].seconds / base, rows[2].seconds / base
    print(
        f"   target idprobe >= 10x faster than vectorised numpy: vs (b) {ratio_b:.1f}x "
        f"{verdict(ratio_b >= 10)}; vs (c), the same algorithm, {ratio_c:.1f}x "
        f"{verdict(ratio_c >= 10)}"
    )
    return {
        "reps": reps,
        "per_pair": {
            "idprobe sampled kernel": base / pairs,
            "(c) numpy softmax once + gather": rows[2].seconds / pairs,
            "(d) reference Python loop": loop_seconds / sizes.loop_pairs,
        },
    }


# ------------------------------------------------------------------ 2. exact Diversity Score


def ds_all_pairs_gemm(reps: np.ndarray) -> float:
    """Mean over all pairs ``i < j`` of half the symmetric KL, by blocks of GEMMs (float64).

    ``(p_i - p_j).(l_i - l_j) = c_i + c_j - p_i.l_j - p_j.l_i`` with ``c_i = p_i.l_i``; each block
    of rows is paired with the rows after it only.
    """
    log_probs = log_softmax(reps.astype(np.float64), axis=1)
    probs = np.exp(log_probs)
    self_terms = np.einsum("ij,ij->i", probs, log_probs)
    n = reps.shape[0]
    total = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        block = self_terms[start:stop, None] + self_terms[None, start:]
        block -= probs[start:stop] @ log_probs[start:].T
        block -= log_probs[start:stop] @ probs[start:].T
        size = stop - start
        block[:, :size][np.tril_indices(size)] = 0.0  # keep j > i only
        total += float(block.sum())
    return 0.5 * total / (n * (n - 1) / 2)


def bench_exact(reps: np.ndarray, per_pair: dict[str, float], repeats: int, slow: int) -> None:
    n, d = reps.shape
    all_pairs = n * (n - 1) // 2
    print(f"\n2. Exact Diversity Score over all {all_pairs:,} pairs of {n:,} x {d} float32")
    first, _ = timed(lambda: diversity_score(reps, method="exact"))
    times, results = take_turns(
        {
            "exact": (lambda: diversity_score(reps, method="exact"), max(repeats, 7)),
            "gemm": (lambda: ds_all_pairs_gemm(reps), slow),
        }
    )
    exact, brute = results["exact"].value, results["gemm"]
    print(
        f"   DS exact = {exact:.9f}; numpy all-pairs = {brute:.9f} (|difference| "
        f"{abs(exact - brute):.1e}); first call of this size {first:.4f} s"
    )
    if abs(exact - brute) > 1e-6 * max(1.0, abs(exact)):
        sys.exit("exact DS and the all-pairs sum disagree: the comparison is meaningless")
    rows = [
        measured_row("idprobe diversity_score(method='exact')", times["exact"]),
        measured_row(
            "numpy all pairs i<j, blocked GEMM float64", times["gemm"], f"blocks of {BLOCK:,} rows"
        ),
    ]
    rows += [
        Row(name, seconds * all_pairs, "EXTRAPOLATED per pair from section 1")
        for name, seconds in per_pair.items()
    ]
    base = rows[0].seconds
    print_table(
        "   seconds for the mean over all pairs; ratio = variant / idprobe exact", rows, base
    )
    print(f"   target exact DS under 0.1 s: {base:.4f} s {verdict(base < 0.1)}")


# ---------------------------------------------------------------- 3. Memorization Score


def ms_blocked(units: np.ndarray, factor: np.ndarray) -> float:
    """Exact MS over the upper triangle, in row blocks: mean of ``(c_ij - a_i a_j)^2``, i < j."""
    n = units.shape[0]
    total = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        gap = units[start:stop] @ units[start:].T
        gap -= np.outer(factor[start:stop], factor[start:])
        gap *= gap
        size = stop - start
        gap[:, :size][np.tril_indices(size)] = 0.0
        total += float(gap.sum())
    return total / (n * (n - 1) / 2)


def ms_reference_vectorised(embeddings: np.ndarray, ground_truth_similarity: np.ndarray) -> float:
    """The vectorised part of the released ``Memorization_Score`` (without its PCA): the full
    N x N cosine matrix, its upper triangle, and ``mean_squared_error`` against the ground truth
    vector (which the released code fills with a Python loop, timed separately)."""
    from sklearn.metrics import mean_squared_error

    embeddings = np.asarray(embeddings, dtype=np.float64)  # the released code's PCA output dtype
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    normalized = embeddings / norms
    similarity_matrix = np.dot(normalized, normalized.T)
    upper = np.triu_indices_from(similarity_matrix, k=1)
    experimental_similarity = similarity_matrix[upper]
    return float(mean_squared_error(ground_truth_similarity, experimental_similarity))


def reference_similarity(components: dict, item1: str, item2: str) -> float:
    """``adjusted_cosine_similarity_precomputed`` of the released code, rewritten."""
    num = components[item1]["sum"] * components[item2]["sum"]
    denom = np.sqrt(components[item1]["squared_sum"]) * np.sqrt(components[item2]["squared_sum"])
    return num / denom if denom != 0 else 0


def ms_reference_loop(components: dict, item_asins: list[str], limit: int) -> np.ndarray:
    """The released code's loop over pairs ``i < j`` filling the ground truth, cut at ``limit``."""
    num_items = len(item_asins)
    ground_truth_similarity = np.zeros(limit)
    k = 0
    for i in range(num_items - 1):
        for j in range(i + 1, num_items):
            if k == limit:
                return ground_truth_similarity
            item1, item2 = item_asins[i], item_asins[j]
            ground_truth_similarity[k] = reference_similarity(components, item1, item2)
            k += 1
    return ground_truth_similarity[:k]


def _pair_products(factor: np.ndarray) -> np.ndarray:
    """``a_i a_j`` for the pairs ``i < j`` in row order (the released code's ground-truth vector)."""
    left, right = np.triu_indices(factor.size, k=1)
    return factor[left] * factor[right]


def bench_memorization(sizes: Sizes, repeats: int, slow: int, seed: int) -> None:
    n, d = sizes.items, sizes.dim
    rng = np.random.default_rng([seed, 3])
    reps = rng.standard_normal((n, d), dtype=np.float32)
    factor = rng.standard_normal(n)
    truth = SimilarityGroundTruth.rank_one(factor, kind="dev_devs")
    all_pairs = n * (n - 1) // 2
    print(
        f"\n3. Memorization Score: {n:,} items x {d} float32, random rank-1 ground truth a a^T "
        f"(N(0, 1) factor), {all_pairs:,} pairs"
    )
    memorization_score(reps, truth)  # warm-up (imports, first-touch of memory)
    memorization_score(reps, truth, mode="reference")

    held = {"gt": _pair_products(factor)}  # what the released loop fills, vectorised
    times, results = take_turns(
        {
            "paper": (lambda: memorization_score(reps, truth), repeats),
            "reference": (lambda: memorization_score(reps, truth, mode="reference"), repeats),
            "blocked": (lambda: ms_blocked(normalized_rows(reps), factor), slow),
            "vectorised": (lambda: ms_reference_vectorised(reps, held["gt"]), slow),
        }
    )
    ours = results["paper"].value
    blocked, vectorised = results["blocked"], results["vectorised"]

    item_asins = [f"B{i:09d}" for i in range(n)]
    components = {
        asin: {"sum": float(a), "squared_sum": 1.0}
        for asin, a in zip(item_asins, factor, strict=True)
    }  # Dev(i) = a_i, DevS(i) = 1, so the released similarity is exactly a_i a_j
    loop_seconds, loop_values = timed(
        lambda: ms_reference_loop(components, item_asins, sizes.gt_loop_pairs)
    )
    loop_error = float(np.abs(loop_values - held["gt"][: loop_values.size]).max())
    held.clear()
    scale = all_pairs / sizes.gt_loop_pairs
    loop_total = loop_seconds * scale

    print(
        f"   MS paper = {ours:.12f} (idprobe); blocked numpy {blocked:.12f} (|difference| "
        f"{abs(ours - blocked):.1e}); reference pipeline without PCA {vectorised:.12f} "
        f"(|difference| {abs(ours - vectorised):.1e}); the Python ground-truth loop matches a_i a_j "
        f"to {loop_error:.1e}"
    )
    print(
        f"   MS reference mode (standardise + PCA 95%) = {results['reference'].value:.6f}, "
        f"{results['reference'].components} components kept"
    )
    if max(abs(ours - blocked), abs(ours - vectorised)) > 1e-9 * max(1.0, ours):
        sys.exit("Memorization Score variants disagree: the comparison is meaningless")

    vec = measured_row(
        "(b1) reference: N x N cosine + triu + MSE", times["vectorised"], note="vectorised, no PCA"
    )
    rows = [
        measured_row("idprobe memorization_score (closed form)", times["paper"]),
        measured_row(
            "idprobe memorization_score(mode='reference')", times["reference"], note="PCA"
        ),
        measured_row("(a) numpy exact, blocked upper triangle", times["blocked"]),
        vec,
        Row(
            "(b2) reference: Python ground-truth loop",
            loop_total,
            f"EXTRAPOLATED from {sizes.gt_loop_pairs:,} pairs",
            note=f"{loop_seconds:.3f} s measured x {scale:.4g}",
        ),
        Row(
            "(b) reference total = (b1) + (b2)",
            vec.seconds + loop_total,
            "partly EXTRAPOLATED",
        ),
    ]
    print_table("   seconds; ratio = variant / idprobe closed form", rows, rows[0].seconds)

    print("   memory (separate runs): traced peak / peak RSS growth, MiB")
    memory_rows = {
        "idprobe closed form": lambda: memorization_score(reps, truth),
        "(a) numpy blocked": lambda: ms_blocked(normalized_rows(reps), factor),
        "(b1) reference N x N (+ its ground-truth vector)": lambda: ms_reference_vectorised(
            reps, _pair_products(factor)
        ),
    }
    for name, work in memory_rows.items():
        traced, rss = memory(work)
        print(f"   {name:<50} {traced:9.1f} / {_mib(rss)}")


def _mib(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "n/a"


# ------------------------------------------------------------------- 4. Beauty ground truths


def with_random_ratings(data: Interactions, seed: int) -> Interactions:
    """The same interactions with seeded integer ratings 1..5 (float32, scale (1, 5))."""
    ratings = np.random.default_rng(seed).integers(1, 6, data.n_interactions).astype(np.float32)
    return dataclasses.replace(data, ratings=ratings, rating_scale=(1.0, 5.0))


def dense_adjusted_cosine(data: Interactions, items: np.ndarray) -> np.ndarray:
    """Adjusted cosine over co-rating users (paper eq. 4) of ``items``, with dense matrices.

    ``D`` (users x items) holds ``r_ui - mean_u`` and ``B`` the rated indicator; then
    ``sim = D^T D / sqrt(Q * Q^T)`` with ``Q = (D * D)^T B``, 0 where the denominator is 0.
    """
    lengths = data.lengths
    ratings = data.ratings.astype(np.float64)
    means = np.add.reduceat(ratings, data.offsets[:-1]) / lengths
    deviations = ratings - np.repeat(means, lengths)
    users = np.repeat(np.arange(data.n_users), lengths)
    column = np.full(data.n_items, -1, dtype=np.int64)
    column[items] = np.arange(items.size)
    position = column[data.item_index]
    keep = position >= 0
    dev = np.zeros((data.n_users, items.size))
    rated = np.zeros((data.n_users, items.size))
    dev[users[keep], position[keep]] = deviations[keep]
    rated[users[keep], position[keep]] = 1.0
    numerator = dev.T @ dev
    q = (dev * dev).T @ rated
    denominator = np.sqrt(q * q.T)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    np.fill_diagonal(out, 0.0)
    return out


def ms_blocked_sparse(units: np.ndarray, matrix: sp.csr_matrix) -> float:
    """Exact MS against a sparse ground truth, in row blocks densified one at a time."""
    n = units.shape[0]
    total = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        gap = units[start:stop] @ units[start:].T
        gap -= matrix[start:stop, start:].toarray()
        gap *= gap
        size = stop - start
        gap[:, :size][np.tril_indices(size)] = 0.0
        total += float(gap.sum())
    return total / (n * (n - 1) / 2)


def bench_beauty(data_dir: Path, sizes: Sizes, repeats: int, slow: int, seed: int) -> None:
    load_seconds, loaded = timed(lambda: load_dataset(data_dir))
    data = with_random_ratings(loaded, seed)
    print(
        f"\n4. Ground truths on {data.name}: {data.n_users:,} users x {data.n_items:,} items, "
        f"{data.n_interactions:,} interactions (loaded in {load_seconds:.2f} s), seeded random "
        f"ratings 1..5 (mean {data.ratings.mean():.3f})"
    )
    kinds = ("adjusted_cosine", "dev_devs", "cooccurrence_cosine")
    for kind in kinds:
        similarity_ground_truth(data, kind)  # warm-up
    times, results = take_turns(
        {kind: (lambda kind=kind: similarity_ground_truth(data, kind), repeats) for kind in kinds}
    )
    names = {kind: f"similarity_ground_truth({kind!r})" for kind in kinds}
    width = max(len(name) for name in names.values())
    print(
        f"   {'call':<{width}}  {'median s':>9}  {'fastest':>8}  {'traced MiB':>10}  "
        f"{'RSS+ MiB':>8}  result"
    )
    for kind in kinds:
        traced, rss = memory(lambda kind=kind: similarity_ground_truth(data, kind))
        truth = results[kind]
        stored = (
            f"rank-1 factor of {truth.factor.size:,} values"
            if truth.is_rank_one
            else f"sparse {truth.n:,} x {truth.n:,}, nnz {truth.matrix.nnz:,} "
            f"({truth.matrix.nnz / (truth.n * (truth.n - 1)):.2%} of pairs i != j)"
        )
        print(
            f"   {names[kind]:<{width}}  {statistics.median(times[kind]):9.4f}  "
            f"{min(times[kind]):8.4f}  {traced:10.1f}  {_mib(rss):>8}  {stored}"
        )
    n = data.n_items
    print(
        f"   (a dense {n:,} x {n:,} float64 matrix alone would take {n * n * 8 / 2**20:,.0f} MiB)"
    )

    # Exact adjusted cosine against dense numpy on a subset of items.
    m = sizes.dense_items
    subset = np.sort(np.random.default_rng([seed, 4]).choice(n, m, replace=False))
    times, results = take_turns(
        {
            "idprobe": (
                lambda: similarity_ground_truth(data, "adjusted_cosine", items=subset),
                repeats,
            ),
            "dense": (lambda: dense_adjusted_cosine(data, subset), slow),
        }
    )
    difference = float(np.abs(results["idprobe"].matrix.toarray() - results["dense"]).max())
    if difference > 1e-9:
        sys.exit(f"sparse and dense adjusted cosine disagree by {difference:.2e}")
    memories = {
        "idprobe": memory(lambda: similarity_ground_truth(data, "adjusted_cosine", items=subset)),
        "dense": memory(lambda: dense_adjusted_cosine(data, subset)),
    }
    print(
        f"\n   adjusted cosine of {m:,} random items (items=...): idprobe sparse vs dense numpy "
        f"(users x items, GEMMs); max |difference| {difference:.1e}"
    )
    for key, label in (("idprobe", "idprobe (sparse)"), ("dense", "dense numpy")):
        traced, rss = memories[key]
        print(
            f"   {label:<18} {statistics.median(times[key]):8.4f} s median  "
            f"traced {traced:8.1f} MiB  RSS+ {_mib(rss):>7} MiB"
        )
    print(
        f"   dense / idprobe: {statistics.median(times['dense']) / statistics.median(times['idprobe']):.1f}x "
        f"time, {memories['dense'][0] / memories['idprobe'][0]:.1f}x traced memory (the dense cost "
        f"grows as items^2: the whole catalog is {(n / m) ** 2:.0f}x this subset)"
    )

    # Memorization Score against the sparse adjusted-cosine ground truth.
    chosen = None
    if sizes.ms_items is not None:
        chosen = np.sort(np.random.default_rng([seed, 6]).choice(n, sizes.ms_items, replace=False))
    truth = similarity_ground_truth(data, "adjusted_cosine", items=chosen)
    n = truth.n
    reps = np.random.default_rng([seed, 5]).standard_normal((n, 512), dtype=np.float32)
    memorization_score(reps, truth)  # warm-up
    times, results = take_turns(
        {
            "idprobe": (lambda: memorization_score(reps, truth), repeats),
            "blocked": (
                lambda: ms_blocked_sparse(normalized_rows(reps), truth.matrix),
                slow,
            ),
        }
    )
    ours, blocked = results["idprobe"].value, results["blocked"]
    if abs(ours - blocked) > 1e-9 * max(1.0, ours):
        sys.exit("Memorization Score against the sparse ground truth disagrees with numpy")
    rows = [
        measured_row("idprobe memorization_score (sparse S, closed form)", times["idprobe"]),
        measured_row("numpy exact, blocked upper triangle (S densified)", times["blocked"]),
    ]
    print(
        f"\n   Memorization Score, random {n:,} x 512 float32 vs the sparse adjusted cosine "
        f"(nnz {truth.matrix.nnz:,}): MS = {ours:.10f}, blocked numpy |difference| "
        f"{abs(ours - blocked):.1e}"
    )
    print_table("   seconds; ratio = variant / idprobe", rows, rows[0].seconds)


# --------------------------------------------------------------------------------------- main


def _blas_pool() -> dict[str, Any] | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return next((p for p in pools if "numpy" in p["filepath"]), pools[0] if pools else None)


def machine_info() -> None:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pool = _blas_pool()
    blas = (
        f", numpy BLAS {pool['internal_api']} {pool['version']} ({pool['num_threads']} threads)"
        if pool is not None
        else ""
    )
    print(
        f"idprobe {idprobe.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, numba {version('numba')}, scikit-learn {version('scikit-learn')}"
    )
    print(
        f"machine: {platform.system()} {platform.machine()}, {model}, {usable} usable CPUs of "
        f"{os.cpu_count()}{blas}"
    )


def blas_check() -> None:
    """``X^T X`` (X 12,101 x 256 float64) with the BLAS's threads and with one: is threading sane?

    On some virtual machines a multi-threaded BLAS is far slower than one thread on such shapes;
    every BLAS-bound time below (the Memorization Score, the GEMM baselines, the dense adjusted
    cosine) then measures that, not the algorithm.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    x = np.random.default_rng(0).standard_normal((12_101, 256))

    def best() -> float:
        return min(timed(lambda: x.T @ x)[0] for _ in range(3))

    default = best()
    with threadpool_limits(limits=1, user_api="blas"):
        single = best()
    pool = _blas_pool()
    threads = pool["num_threads"] if pool is not None else "?"
    ratio = default / single
    warning = (
        f" -> {threads} BLAS threads are {ratio:.0f}x SLOWER than 1 here: BLAS-bound times below "
        "measure that (compare --blas-threads 1)"
        if ratio > 2
        else ""
    )
    print(
        f"BLAS check, X^T X for X 12,101 x 256 float64: {threads} threads {default:.4f} s, "
        f"1 thread {single:.4f} s{warning}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small synthetic sizes ({QUICK.items:,} items, {QUICK.pairs:,} pairs) and fewer "
        "rounds: a smoke test",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed rounds of the idprobe calls and fast baselines, median kept (default: 5, "
        "--quick: 3)",
    )
    parser.add_argument(
        "--slow-repeats",
        type=int,
        default=None,
        help="timed rounds of the baselines that take seconds (default: 3, --quick: 1)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        metavar="N",
        help="limit the BLAS to N threads (threadpoolctl; default: the library's own setting)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every random input")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help=f"Amazon Beauty data for section 4 (default: {DEFAULT_DATA})",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    slow = args.slow_repeats if args.slow_repeats is not None else (1 if args.quick else 3)
    if repeats < 1 or slow < 1:
        parser.error("--repeats and --slow-repeats must be at least 1")
    limits = contextlib.nullcontext()
    if args.blas_threads is not None:
        if args.blas_threads < 1:
            parser.error("--blas-threads must be at least 1")
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=args.blas_threads, user_api="blas")
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    with limits:
        machine_info()
        blas_check()
        print(
            f"sizes: {'--quick' if args.quick else 'full'} {sizes}; seed {args.seed}; rounds: "
            f"{repeats} (idprobe, fast baselines), {slow} (slow baselines)"
        )
        section1 = bench_diversity(sizes, repeats, slow, args.seed)
        bench_exact(section1.pop("reps"), section1["per_pair"], repeats, slow)
        del section1
        gc.collect()
        bench_memorization(sizes, repeats, slow, args.seed)
        gc.collect()
        if args.data.exists():
            bench_beauty(args.data, sizes, repeats, slow, args.seed)
        else:
            print(f"\n4. skipped: Beauty data not found at {args.data} (pass --data DIR)")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
