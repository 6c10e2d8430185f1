"""Reproduce the classic baselines of the META ID paper's Table 1 on Amazon Beauty.

Trains each model with its recipe (``baselines/recipes/amazon-beauty/<model>.toml``) on
idprobe's leave-one-out split, evaluates it by full ranking over all 12,101 items, and prints
its HR@5 / NDCG@5 / HR@10 / NDCG@10 beside the published numbers with the ratio ours/published,
under idprobe's default protocol (earlier items stay in the ranking) and the filtered one (the
S3-Rec code behind the published numbers drops them), with the wall time of each run.

    python benchmarks/reproduce_baselines.py --dataset ../shared/data/amazon-beauty \
        --out runs/reproduce-beauty [--models sasrec,gru4rec,caser,bert4rec,pop]

Runs are ordinary baseline run directories: an interrupted benchmark resumes each run from its
last epoch, and a finished run is only re-evaluated. The table is also written to
``OUT/reproduction.json``. Training uses one torch thread per run (the CI machine's 2 cores).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from baselines import resolve_settings
from baselines.run import evaluate_baseline, load_baseline, train_baseline
from idprobe.results import atomic_write_json

METRICS = ("hr@5", "ndcg@5", "hr@10", "ndcg@10")
SASREC_TOLERANCE = 0.15  # the target: within +-15% of the published SASRec numbers


def _row(name: str, values: dict[str, float], published: dict[str, float]) -> str:
    cells = []
    for metric in METRICS:
        ours = values[metric]
        if metric in published:
            cells.append(f"{ours:.4f} / {published[metric]:.4f} ({ours / published[metric]:.2f}x)")
        else:
            cells.append(f"{ours:.4f} / -")
    return f"{name:<20}" + "".join(f"{c:<28}" for c in cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="the P5 Beauty directory")
    parser.add_argument("--out", required=True, help="directory of the run directories")
    parser.add_argument("--models", default="sasrec,gru4rec,caser,bert4rec,pop")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = Path(args.out)
    rows = {}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        settings, recipe = resolve_settings(
            model, args.dataset, overrides={"threads": args.threads}
        )
        directory = out / model
        began = time.perf_counter()
        result = train_baseline(settings, directory, recipe=recipe, resume=True)
        net, data, _ = load_baseline(directory)
        filtered = evaluate_baseline(net, data, settings, directory, filtered=True, write=False)
        rows[model] = {
            "published": dict(recipe.published) if recipe else {},
            "source": recipe.source if recipe else "",
            "default": result.metrics.tasks["sequential"].values,
            "filtered": filtered.tasks["sequential"].values,
            "epochs": result.epochs,
            "best_epoch": result.best_epoch,
            "stopped": result.stopped,
            "training_seconds": result.seconds,
            "this_call_seconds": time.perf_counter() - began,
        }
        atomic_write_json(out / "reproduction.json", rows)

    print("\nours / published (ratio), Amazon Beauty, full ranking over all items, all test users")
    print(f"{'model (protocol)':<20}" + "".join(f"{m:<28}" for m in METRICS))
    for model, row in rows.items():
        for protocol in ("default", "filtered"):
            print(_row(f"{model} ({protocol})", row[protocol], row["published"]))
    print()
    for model, row in rows.items():
        print(
            f"{model:<10} {row['epochs']} epochs (best {row['best_epoch']}, stopped by "
            f"{row['stopped']}), training {row['training_seconds'] / 60:.1f} min on "
            f"{args.threads} thread(s)"
        )
    if "sasrec" in rows and rows["sasrec"]["published"]:
        row = rows["sasrec"]
        for protocol in ("default", "filtered"):
            worst = max(abs(row[protocol][m] / row["published"][m] - 1) for m in METRICS)
            verdict = "within" if worst <= SASREC_TOLERANCE else "outside"
            print(
                f"SASRec ({protocol}): largest deviation {worst:.1%}, {verdict} the "
                f"+-{SASREC_TOLERANCE:.0%} target"
            )
    print(json.dumps({"written": str(out / "reproduction.json")}))


if __name__ == "__main__":
    main()
