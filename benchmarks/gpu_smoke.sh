#!/usr/bin/env bash
# GPU smoke test of the shared trainer: a t5-small-shaped model (random weights, tokenizer trained
# on synthetic prompts) trained by idprobe.training.trainer.fit for ~300 optimizer steps of batch 32
# in bfloat16 on the CUDA GPU. Prints examples/s (FitResult.examples_per_second: the optimizer
# steps only), the precision fit actually used, and the first and last step loss; exits 1 if the
# precision is not bf16, a loss is not finite, or (for 100+ steps) the loss did not go down.
#
# Without a CUDA GPU it prints "gpu_smoke: no CUDA GPU, skipped" and exits 0. Nothing is ever
# downloaded (every model is built from a config, the hub is switched off).
#
# Usage, from anywhere:  bash benchmarks/gpu_smoke.sh
# Environment (for testing the script itself):
#   GPU_SMOKE_FORCE_CPU=1  run the Python part on the CPU in fp32 for 5 steps (no GPU needed)
#   GPU_SMOKE_STEPS=N      optimizer steps (default 300; 5 with GPU_SMOKE_FORCE_CPU=1)
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -x .venv/bin/python ]]; then
    PY=.venv/bin/python
else
    PY=python
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

if [[ "${GPU_SMOKE_FORCE_CPU:-0}" != "1" ]]; then
    available=$("$PY" -c "import torch; print(torch.cuda.is_available())")
    if [[ "$available" != "True" ]]; then
        echo "gpu_smoke: no CUDA GPU, skipped"
        exit 0
    fi
fi

"$PY" - <<'PYTHON'
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch

from idprobe.data import leave_one_out
from idprobe.data.synthetic import make_synthetic
from idprobe.ids import get_strategy
from idprobe.prompts import training_examples
from idprobe.training.backbones import build_backbone
from idprobe.training.batching import TokenizedExample
from idprobe.training.tokenizer import train_tokenizer
from idprobe.training.trainer import TrainConfig, fit

force_cpu = os.environ.get("GPU_SMOKE_FORCE_CPU", "0") == "1"
steps = int(os.environ.get("GPU_SMOKE_STEPS", "5" if force_cpu else "300"))
batch, seed = 32, 0
# "cuda:0", not "cuda": fit passes it to torch.cuda.set_device, which needs an index.
device = "cpu" if force_cpu else "cuda:0"
precision = "fp32" if force_cpu else "bf16"
started = time.perf_counter()

# The train_run path on synthetic data: split -> SID -> prompts -> tokenizer -> token ids.
split = leave_one_out(make_synthetic(n_users=1000, n_items=800, seed=seed), max_his=20)
assignment = get_strategy("sid").assign(split.training_view, seed=seed)
prompts = training_examples(split, assignment, ("sequential", "direct"), per_sample=1, seed=seed)
tokenizer = train_tokenizer([t for p in prompts for t in (p.source, p.target)], vocab_size=2000)
wanted = steps * batch
chosen = np.random.default_rng(seed).permutation(len(prompts))[:wanted]
picked = [prompts[i] for i in chosen]
sources = tokenizer([p.source for p in picked], truncation=True, max_length=512)["input_ids"]
targets = tokenizer([p.target for p in picked])["input_ids"]
examples = [TokenizedExample(s, t) for s, t in zip(sources, targets, strict=True)]
epochs = math.ceil(wanted / len(examples))  # more epochs only if the prompts run short

backbone = build_backbone("t5-small", tokenizer=tokenizer, seed=seed)
config = TrainConfig(
    epochs=epochs, batch_size=batch, learning_rate=1e-3, precision=precision, seed=seed
)
name = torch.cuda.get_device_name() if device != "cpu" else "CPU (GPU_SMOKE_FORCE_CPU=1)"
print(
    f"gpu_smoke: {name}, torch {torch.__version__}, t5-small shape "
    f"({backbone.parameters / 1e6:.1f}M parameters, vocabulary {len(tokenizer)}), "
    f"{len(examples)} examples x {epochs} epoch(s), batch {batch}, precision {precision}; "
    f"prepared in {time.perf_counter() - started:.1f} s",
    flush=True,
)
with tempfile.TemporaryDirectory(prefix="gpu-smoke-") as out:
    result = fit(
        backbone.model,
        examples,
        config,
        out,
        kind=backbone.kind,
        pad_token_id=tokenizer.pad_token_id,
        progress=False,
        device=device,
        # On a shared CPU torch's spinning threads can make a step 10x slower; one is steady.
        threads=1 if device == "cpu" else None,
    )
first, last = result.losses[0], result.losses[-1]
tail = result.losses[-10:]
print(
    f"gpu_smoke: {result.steps} steps in {result.seconds:.1f} s, "
    f"{result.examples_per_second:,.0f} examples/s, precision used {result.precision}, "
    f"loss first {first:.4f} last {last:.4f} (mean of last {len(tail)}: "
    f"{sum(tail) / len(tail):.4f})"
)
if device != "cpu":
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f"gpu_smoke: peak GPU memory {peak:.2f} GiB")
problems = []
if result.precision != precision:
    problems.append(f"precision {result.precision}, expected {precision}")
if not all(math.isfinite(loss) for loss in result.losses):
    problems.append("a non-finite loss")
if result.steps >= 100 and not sum(tail) / len(tail) < first:
    problems.append(f"loss did not go down ({first:.4f} -> {last:.4f})")
if problems:
    print("gpu_smoke: FAILED: " + "; ".join(problems))
    sys.exit(1)
print("gpu_smoke: OK")
PYTHON
