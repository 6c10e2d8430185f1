"""Two-process training run for tests/training/test_trainer.py (not a test module itself).

Run as ``python -m torch.distributed.run --nproc_per_node=2 tests/training/ddp_worker.py OUT``.
Every rank trains the same tiny T5 with ``fit`` (gloo on CPU) into ``OUT/run`` and writes its
final parameters to ``OUT/params-rank{r}.pt`` and the epochs its validation callback saw to
``OUT/validated-rank{r}.json``. The test imports ``tiny_t5``, ``examples`` and ``CONFIG`` from
this file to train the single-process reference.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import torch
from transformers import T5ForConditionalGeneration

# torchrun runs this file as a script: the shared test helpers live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tiny_models

from idprobe.training.batching import TokenizedExample
from idprobe.training.trainer import TrainConfig, fit

EOS = 1
# 9 examples, 2 per process and micro-batch: steps of 4 examples, the last one holds a single
# example, so rank 1 has nothing in it (the zero-weighted forward); lengths differ on purpose.
N_EXAMPLES = 9
CONFIG = TrainConfig(
    epochs=2, batch_size=2, learning_rate=1e-2, warmup_steps=1, log_every=1, seed=3
)


def tiny_t5(seed: int = 0, dropout: float = 0.0) -> T5ForConditionalGeneration:
    return tiny_models.tiny_t5(seed=seed, dropout=dropout, eos=EOS)


def examples(n: int = N_EXAMPLES, seed: int = 0) -> list[TokenizedExample]:
    rng = random.Random(seed)
    return [
        TokenizedExample(
            (*(rng.randrange(2, 50) for _ in range(rng.randint(3, 6))), EOS),
            (*(rng.randrange(2, 50) for _ in range(rng.randint(1, 3))), EOS),
        )
        for _ in range(n)
    ]


def main(out: Path) -> None:
    model = tiny_t5()
    rank = int(os.environ["RANK"])
    seen: list[int] = []

    def weight_norm(module: torch.nn.Module, epoch: int) -> float:
        seen.append(epoch)
        # rank-dependent on purpose: fit must select with rank 0's score on every rank
        return float(sum(p.square().sum() for p in module.parameters())) + rank

    result = fit(
        model,
        examples(),
        CONFIG,
        out / "run",
        kind="seq2seq",
        pad_token_id=0,
        validate=weight_norm,
        progress=False,
    )
    torch.save(
        {k: v.detach().clone() for k, v in model.state_dict().items()},
        out / f"params-rank{rank}.pt",
    )
    (out / f"validated-rank{rank}.json").write_text(
        json.dumps({"epochs": seen, "result": result.to_dict()}, default=str)
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
