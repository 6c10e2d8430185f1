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

2. **Trainer throughput** (``idprobe.training.trainer.fit``) against a bare Hugging Face
   ``transformers.Trainer`` on the same job: real prompts (the ``train_run`` path: synthetic data
   of 2,000 users and 3,000 items -> leave-one-out -> SID -> one seen sequential or direct template
   per sample -> a tokenizer trained on them), 2,048 of them drawn with the seed, ``t5-tiny``
   built afresh with the same seed for each contender (not timed), one epoch of batch 32 in fp32,
   AdamW (lr 1e-3, weight decay 0.01), linear schedule with 5% warm-up, gradient clipping at 1.0.
   The Trainer gets ``collate`` itself as its data collator (the same padding), no evaluation, no
   saving, no logging, no workers, CPU. Two times per contender:

   a. *loop*: ``examples / FitResult.examples_per_second`` for ``fit`` (the time inside its
      optimizer steps: collation, forward, loss, backward, clipping, optimizer and scheduler;
      not the checkpoint written at the epoch's end) and the Trainer's ``train_runtime`` metric
      (its training loop from the first batch to the end: data loading, steps, callbacks);
   b. *call*: wall time of the whole ``fit(...)`` / ``trainer.train()`` call (``fit``'s includes
      its checkpoint, best weights and selection files; the Trainer's its optimizer and
      data-loader set-up).

   The ratio is throughput ``fit / Trainer`` on the loop times; the target is >= 0.9x.

3. **Inference milliseconds per user** (``idprobe.evaluation.generative.predict_items``, the call
   ``evaluate`` times): constrained beam search (10 beams, batches of 32) over the trie of every
   item of the same synthetic catalogue, for the first 320 users' test prompts of the sequential
   and the direct task (``idprobe.prompts.evaluation_examples``), on an untrained ``t5-tiny`` (the
   time does not depend on the weights: every SID has four digits, so every item is the same
   number of tokens and every search runs the same number of steps), then once on 32 users with
   a ``t5-small``-shaped model. The trie is rebuilt inside every call, as in ``evaluate``.
   Printed next to the META ID paper's Table 12 (74.05 ms sequential, 68.60 ms direct per user:
   T5-small on two RTX 3090 GPUs, Toys): different hardware, model and catalogue, so an
   orientation, not a ratio.

Times are medians over ``--repeats`` rounds in which the variants take turns, after one warm-up
call of each (the trainers warm up on 4 batches; the ``t5-small`` rows are one run).
``--quick`` shrinks everything (300 IDs, 8 inputs, 5 beams; 300 users and 500 items of data, 256
training examples, 64 users, no ``t5-small``) to smoke-test the script. ``--sections`` picks
sections (default all). ``--threads`` sets torch's intra-op threads (default 1; 0 keeps torch's
own choice). While another process keeps a core busy, torch's spinning intra-op threads make
every time here noisy and up to 10x slower (seen on this project's 2-core machine); one thread
takes that out, and these small models gain little from more.

Run from the repository root::

    python benchmarks/bench_training.py [--quick] [--sections decoding,trainer,inference]
        [--repeats 5] [--threads 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from _measure import Row, measured_row, print_table, take_turns, verdict
from transformers import T5Config, T5ForConditionalGeneration

import idprobe
from idprobe.data import leave_one_out
from idprobe.data.splits import LeaveOneOutSplit
from idprobe.evaluation.generative import RANKING_TASKS, predict_items
from idprobe.ids import IdAssignment, get_strategy
from idprobe.prompts import PromptExample, evaluation_examples
from idprobe.training import decoding
from idprobe.training.backbones import build_backbone
from idprobe.training.batching import TokenizedExample, collate
from idprobe.training.decoding import IdTrie, beam_search
from idprobe.training.run import LoadedRun, RunSettings, render_examples
from idprobe.training.tokenizer import train_tokenizer
from idprobe.training.trainer import TrainConfig, fit

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


@dataclass(frozen=True)
class DataSizes:
    users: int  # synthetic users
    items: int  # synthetic catalogue (items nobody chose drop out)


@dataclass(frozen=True)
class TrainerSizes:
    data: DataSizes
    examples: int  # training examples drawn from the rendered prompts
    batch: int


@dataclass(frozen=True)
class InferenceSizes:
    data: DataSizes
    users: int  # users per task on t5-tiny
    beams: int
    batch: int
    small_users: int  # users per task on the t5-small shape; 0 skips it


DATA_FULL = DataSizes(2_000, 3_000)
DATA_QUICK = DataSizes(300, 500)
TRAINER_FULL = TrainerSizes(DATA_FULL, 2_048, 32)
TRAINER_QUICK = TrainerSizes(DATA_QUICK, 256, 32)
INFERENCE_FULL = InferenceSizes(DATA_FULL, 320, 10, 32, 32)
INFERENCE_QUICK = InferenceSizes(DATA_QUICK, 64, 10, 32, 0)
SECTIONS = ("decoding", "trainer", "inference")

# META ID paper, Table 12: ms per user of T5-small with META ID on Toys, two RTX 3090 GPUs.
PAPER_MS_PER_USER = {"sequential": 74.05, "direct": 68.60}


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
    times, results = take_turns({name: (work, repeats) for name, work in variants.items()})
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
        unit="user",
        ratio_digits=2,
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


# ------------------------------------------------------------------- prompts for 2. and 3.


@dataclass(frozen=True)
class Prompts:
    """What ``train_run`` builds before the model: split, IDs, training prompts, tokenizer."""

    settings: RunSettings
    split: LeaveOneOutSplit
    assignment: IdAssignment
    training: list[PromptExample]
    tokenizer: Any
    seconds: float  # to build all of it


@functools.cache
def synthetic_prompts(sizes: DataSizes, seed: int) -> Prompts:
    """The ``train_run`` path up to the tokenizer, on synthetic data with SIDs (built once)."""
    started = time.perf_counter()
    settings = RunSettings(
        dataset="synthetic",
        data_options={"n_users": sizes.users, "n_items": sizes.items, "seed": seed},
        strategy="sid",
        seed=seed,
    )
    split = leave_one_out(settings.load_data(), max_his=settings.max_history)
    assignment = get_strategy(settings.strategy).assign(split.training_view, seed=seed)
    examples = render_examples(settings, split, assignment)
    corpus = [text for e in examples for text in (e.source, e.target)]
    tokenizer = train_tokenizer(corpus, vocab_size=settings.vocab_size)
    seconds = time.perf_counter() - started
    return Prompts(settings, split, assignment, examples, tokenizer, seconds)


def tokenize(prompts: Prompts, examples: Sequence[PromptExample]) -> list[TokenizedExample]:
    """Token ids as ``train_run`` makes them (sources truncated to ``max_source_tokens``)."""
    tokenizer = prompts.tokenizer
    sources = tokenizer(
        [e.source for e in examples],
        truncation=True,
        max_length=prompts.settings.max_source_tokens,
    )["input_ids"]
    targets = tokenizer([e.target for e in examples])["input_ids"]
    return [TokenizedExample(s, t) for s, t in zip(sources, targets, strict=True)]


def describe(prompts: Prompts) -> str:
    data = prompts.split.interactions
    return (
        f"synthetic {data.n_users:,} users x {data.n_items:,} items, SID, "
        f"{len(prompts.training):,} training prompts, vocabulary {len(prompts.tokenizer):,} "
        f"(built in {prompts.seconds:.1f} s)"
    )


# ------------------------------------------------------------------------- 2. trainer


@dataclass(frozen=True)
class Trained:
    loop: float  # seconds of the training loop (module docstring, 2a)
    call: float  # seconds of the whole call (2b)
    mean_loss: float  # mean of the optimizer steps' losses
    steps: int


def hf_trainer(
    model: torch.nn.Module,
    examples: list[TokenizedExample],
    config: TrainConfig,
    out_dir: str,
    pad_token_id: int,
) -> transformers.Trainer:
    """A bare ``transformers.Trainer`` doing what ``fit(..., config)`` does, minus its files."""
    steps = math.ceil(len(examples) / (config.batch_size * config.grad_accum)) * config.epochs
    args = transformers.TrainingArguments(
        output_dir=out_dir,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        optim="adamw_torch",
        lr_scheduler_type="linear",
        warmup_steps=config.warmup(steps),
        max_grad_norm=config.max_grad_norm,
        seed=config.seed,
        bf16=config.precision == "bf16",
        use_cpu=True,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,  # the examples are TokenizedExample, not dict rows
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=examples,  # a list is a map-style dataset
        data_collator=functools.partial(collate, kind="seq2seq", pad_token_id=pad_token_id),
    )
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # final metrics print
    return trainer


def bench_trainer(sizes: TrainerSizes, repeats: int, seed: int) -> list[Row]:
    prompts = synthetic_prompts(sizes.data, seed)
    rng = np.random.default_rng(seed)
    count = min(sizes.examples, len(prompts.training))
    chosen = rng.choice(len(prompts.training), size=count, replace=False)
    examples = tokenize(prompts, [prompts.training[i] for i in chosen])
    warm = examples[: 4 * sizes.batch]
    config = TrainConfig(
        epochs=1,
        batch_size=sizes.batch,
        learning_rate=1e-3,
        weight_decay=0.01,
        warmup_ratio=0.05,
        max_grad_norm=1.0,
        precision="fp32",
        seed=seed,
    )
    pad = prompts.tokenizer.pad_token_id

    def model() -> torch.nn.Module:  # the same initial weights for every contender and round
        return build_backbone("t5-tiny", tokenizer=prompts.tokenizer, seed=seed).model

    def with_fit(subset: list[TokenizedExample]) -> Trained:
        network = model()
        with tempfile.TemporaryDirectory(prefix="bench-fit-") as out:
            started = time.perf_counter()
            result = fit(
                network,
                subset,
                config,
                out,
                kind="seq2seq",
                pad_token_id=pad,
                progress=False,
                device="cpu",
            )
            call = time.perf_counter() - started
        loop = len(subset) / result.examples_per_second
        return Trained(loop, call, statistics.fmean(result.losses), result.steps)

    def with_hf(subset: list[TokenizedExample]) -> Trained:
        network = model()
        with tempfile.TemporaryDirectory(prefix="bench-hf-") as out:
            trainer = hf_trainer(network, subset, config, out, pad)
            started = time.perf_counter()
            output = trainer.train()
            call = time.perf_counter() - started
        return Trained(
            output.metrics["train_runtime"], call, output.training_loss, output.global_step
        )

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the Trainer's start-up notices
    try:
        with_fit(warm)  # warm-up
        with_hf(warm)
        runs: dict[str, list[Trained]] = {"fit": [], "hf": []}
        take_turns(
            {
                "fit": (lambda: runs["fit"].append(with_fit(examples)), repeats),
                "hf": (lambda: runs["hf"].append(with_hf(examples)), repeats),
            }
        )
    finally:
        transformers.logging.set_verbosity(verbosity)

    n = len(examples)
    fit_runs, hf_runs = runs["fit"], runs["hf"]
    rows = [
        measured_row(
            "idprobe fit, loop (FitResult.examples_per_second)", [r.loop for r in fit_runs], n
        ),
        measured_row("HF Trainer, loop (train_runtime)", [r.loop for r in hf_runs], n),
        measured_row("idprobe fit() call (+ set-up, checkpoint)", [r.call for r in fit_runs], n),
        measured_row("HF trainer.train() call (+ set-up)", [r.call for r in hf_runs], n),
    ]
    for row, steps in zip(rows, [fit_runs[0].steps, hf_runs[0].steps] * 2, strict=True):
        row.note = f"{n / row.seconds:,.0f} examples/s, {steps} steps"
    lengths = [len(e.source_ids) for e in examples]
    print_table(
        f"2. Trainer throughput: t5-tiny, {n:,} examples (source {statistics.fmean(lengths):.0f} "
        f"tokens on average, at most {max(lengths)}), batch {sizes.batch}, 1 epoch, fp32; "
        f"{describe(prompts)}",
        rows,
        rows[1].seconds,
        "HF loop",
        unit="example",
        ratio_digits=2,
    )
    print(
        f"   mean step loss: fit {statistics.fmean(r.mean_loss for r in fit_runs):.4f}, "
        f"HF Trainer {statistics.fmean(r.mean_loss for r in hf_runs):.4f} (same data and initial "
        "weights; example order and dropout draws differ)"
    )
    loop = rows[1].seconds / rows[0].seconds
    call = rows[3].seconds / rows[2].seconds
    print(
        f"   target throughput fit >= 0.9x HF Trainer (loop): {loop:.2f}x -> "
        f"{verdict(loop >= 0.9)}; whole call: {call:.2f}x"
    )
    return rows


# ----------------------------------------------------------------------- 3. inference


def bench_inference(sizes: InferenceSizes, repeats: int, seed: int) -> list[Row]:
    prompts = synthetic_prompts(sizes.data, seed)

    def loaded(backbone: str) -> LoadedRun:
        built = build_backbone(backbone, tokenizer=prompts.tokenizer, seed=seed)
        built.model.eval()
        return LoadedRun(Path("."), prompts.settings, built, prompts.assignment, prompts.split, {})

    tasks = {
        task: evaluation_examples(
            prompts.split, prompts.assignment, task, user_scheme=prompts.settings.user_scheme
        )
        for task in RANKING_TASKS
    }

    def run(model: LoadedRun, examples: list[PromptExample]) -> Callable[[], Any]:
        return lambda: predict_items(model, examples, beams=sizes.beams, batch_size=sizes.batch)

    def source_tokens(examples: list[PromptExample]) -> float:
        return statistics.fmean(
            len(ids) for ids in prompts.tokenizer([e.source for e in examples])["input_ids"]
        )

    def note(task: str, examples: list[PromptExample]) -> str:
        return (
            f"source {source_tokens(examples):.0f} tokens; paper {PAPER_MS_PER_USER[task]:.2f} ms"
        )

    tiny = loaded("t5-tiny")
    trie = tiny.item_trie()
    chosen = {task: examples[: sizes.users] for task, examples in tasks.items()}
    variants = {f"t5-tiny {task}": run(tiny, chosen[task]) for task in tasks}
    for task in tasks:  # warm-up, one batch each
        run(tiny, chosen[task][: sizes.batch])()
    times, results = take_turns({name: (work, repeats) for name, work in variants.items()})
    rows = [
        measured_row(name, times[name], len(chosen[task]), note(task, chosen[task]))
        for name, task in zip(variants, tasks, strict=True)
    ]
    found = {name: float((results[name][0] >= 0).mean()) for name in variants}
    if sizes.small_users:
        small = loaded("t5-small")
        few = {task: examples[: sizes.small_users] for task, examples in tasks.items()}
        small_variants = {f"t5-small shape {task}": run(small, few[task]) for task in tasks}
        for task in tasks:  # warm-up on two users
            run(small, few[task][:2])()
        small_times, small_results = take_turns({k: (w, 1) for k, w in small_variants.items()})
        rows += [
            measured_row(name, small_times[name], len(few[task]), note(task, few[task]))
            for name, task in zip(small_variants, tasks, strict=True)
        ]
        found.update({name: float((small_results[name][0] >= 0).mean()) for name in small_variants})
    print_table(
        f"3. Inference: predict_items, constrained beam search, {sizes.beams} beams, batches of "
        f"{sizes.batch}, trie of {trie.n_sequences:,} items ({trie.n_nodes:,} nodes), untrained "
        f"weights; {describe(prompts)}",
        rows,
        None,
        unit="user",
    )
    print(
        f"   beams that are catalogue items: {min(found.values()):.0%} in the lowest row. Paper: "
        "META ID paper, Table 12, T5-small (~60M) with META ID on Toys, two RTX 3090 GPUs: "
        f"{PAPER_MS_PER_USER['sequential']:.2f} ms sequential, "
        f"{PAPER_MS_PER_USER['direct']:.2f} ms direct per user; other hardware, model size, "
        "catalogue and IDs, so for orientation only, not a like-for-like ratio."
    )
    return rows


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds, median kept (default 5, quick 2)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (default 1; 0: torch's own)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every random input")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, among {', '.join(SECTIONS)} (default all)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (2 if args.quick else 5)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads < 0:
        parser.error("--threads must be 0 (torch's own choice) or more")
    sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in sections if name not in SECTIONS]
    if unknown or not sections:
        parser.error(f"--sections takes names among {', '.join(SECTIONS)}; got {args.sections!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"idprobe {idprobe.__version__}, Python {platform.python_version()}, torch "
        f"{torch.__version__}, transformers {transformers.__version__}, numpy {np.__version__}"
    )
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    started = time.perf_counter()
    if "decoding" in sections:
        bench_decoding(DECODING_QUICK if args.quick else DECODING_FULL, repeats, args.seed)
    if "trainer" in sections:
        bench_trainer(TRAINER_QUICK if args.quick else TRAINER_FULL, repeats, args.seed)
    if "inference" in sections:
        bench_inference(INFERENCE_QUICK if args.quick else INFERENCE_FULL, repeats, args.seed)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
