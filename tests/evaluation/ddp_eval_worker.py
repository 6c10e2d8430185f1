"""Two-process evaluation for tests/evaluation/test_distributed_eval.py (not a test module).

Run as ``python -m torch.distributed.run --nproc_per_node=2 tests/evaluation/ddp_eval_worker.py
RUN OUT MAX_USERS``. Every rank calls ``evaluate_run`` on the trained run ``RUN`` (gloo on CPU,
one thread) with ``max_users=MAX_USERS``; rank 0 writes ``RUN/metrics.json`` and
``RUN/predictions/``. Each rank also writes ``OUT/rank{r}.json``: its ``world()`` and the
metrics ``evaluate_run`` returned to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from idprobe.evaluation.generative import evaluate_run
from idprobe.training.distributed import world

OPTIONS = {"split": "test", "seed": 3, "batch_size": 8}


def main(run: Path, out: Path, max_users: int) -> None:
    metrics = evaluate_run(run, threads=1, max_users=max_users, **OPTIONS)
    rank, size = world()
    (out / f"rank{rank}.json").write_text(
        json.dumps({"rank": rank, "size": size, "metrics": metrics.to_dict()})
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
