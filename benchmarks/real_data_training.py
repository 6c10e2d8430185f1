"""Train t5-tiny on real data with each ID strategy under one CPU budget; print HR/NDCG per strategy.

Every strategy gets the same settings (data, split, prompts, backbone, epochs, seed); the IDs
are the only difference. Training runs and evaluations are ordinary run directories, so an
interrupted script resumes where it stopped (finished runs are skipped).

    python benchmarks/real_data_training.py --dataset ../shared/data/amazon-beauty \
        --out runs/beauty-cpu --epochs 1 --max-history 10 --eval-users 2000

Prints one row per strategy: training seconds, examples/s, test HR@5/NDCG@5/HR@10/NDCG@10 for
the sequential and direct tasks on a seeded subset of test users (the same users for all), and
a paired randomisation test of each strategy's sequential NDCG@10 against the first one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from idprobe.evaluation import compare_runs, evaluate_run, metrics_path
from idprobe.experiment import train
from idprobe.training.run import SETTINGS_FILE, RunSettings

# META ID's quick preset (idprobe.ids.meta.QUICK): the paper's settings take 46 min on Beauty here.
STRATEGY_PARAMS = {"meta": {"walks_per_node": 8, "walk_length": 32, "epochs": 2}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--strategies", default="rid,sid,cid,iid,meta")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--max-history", type=int, default=10, help="META ID's 10")
    parser.add_argument(
        "--eval-users", type=int, default=2000, help="seeded test users (0: all of them)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = []
    strategies = [s.strip() for s in args.strategies.split(",")]
    for name in strategies:
        directory = Path(args.out) / name
        settings = RunSettings(
            dataset=args.dataset,
            strategy=name,
            strategy_params=STRATEGY_PARAMS.get(name, {}),
            epochs=args.epochs,
            max_history=args.max_history,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            threads=args.threads,
            seed=args.seed,
        )
        if not (directory / "model").exists():
            resume = (directory / SETTINGS_FILE).exists()
            train(settings, directory, resume=resume, select_on=None, progress=False)
        # The training cost as recorded by the run (also for runs trained earlier).
        trained = json.loads((directory / "model" / "selected.json").read_text())
        seconds, speed = trained.get("seconds", float("nan")), trained.get("examples_per_second")
        if not metrics_path(directory).exists():
            users = args.eval_users or None
            evaluate_run(directory, max_users=users, seed=args.seed, threads=args.threads)
        metrics = json.loads(metrics_path(directory).read_text())["tasks"]
        rows.append((name, seconds, speed or float("nan"), metrics))
        print(f"{name}: trained in {seconds:.0f} s", flush=True)

    keys = ("hr@5", "ndcg@5", "hr@10", "ndcg@10")
    print(
        f"\n{'strategy':<8} {'train s':>8} {'ex/s':>7}  task        "
        + "  ".join(f"{k:>8}" for k in keys)
        + "  ms/user"
    )
    for name, trained, speed, metrics in rows:
        for task, values in metrics.items():
            shown = "  ".join(f"{values[k]:8.4f}" for k in keys)
            print(
                f"{name:<8} {trained:8.0f} {speed:7.0f}  {task:<10}  {shown}  {values['ms_per_user']:7.1f}"
            )
    first = strategies[0]
    for name in strategies[1:]:
        test = compare_runs(Path(args.out) / name, Path(args.out) / first, metric="ndcg@10")
        print(
            f"sequential NDCG@10 {name} - {first}: {test.mean_difference:+.4f} (p = {test.p_value:.4f})"
        )


if __name__ == "__main__":
    main()
