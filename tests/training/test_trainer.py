"""The shared trainer: batches, loss, schedule, accumulation, checkpoints, resume, DDP."""

from __future__ import annotations

import importlib.util
import json
import math
import random
from pathlib import Path

import pytest
import tiny_models
import torch
from transformers import LlamaForCausalLM
from two_processes import torchrun

from idprobe.errors import ConfigError
from idprobe.training import checkpoints, trainer
from idprobe.training.batching import TokenizedExample, collate, target_token_count
from idprobe.training.trainer import (
    FitResult,
    TrainConfig,
    fit,
    latest_checkpoint,
    linear_warmup_factor,
    load_best,
    resolve_precision,
)

WORKER = Path(__file__).with_name("ddp_worker.py")
_spec = importlib.util.spec_from_file_location("idprobe_ddp_worker", WORKER)
assert _spec is not None and _spec.loader is not None
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)

tiny_t5 = worker.tiny_t5
EOS = worker.EOS


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    return tiny_models.tiny_llama(seed=seed, eos=EOS, max_positions=32)


def toy_examples(n: int, seed: int = 0, *, equal: bool = False) -> list[TokenizedExample]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        source_len = 4 if equal else rng.randint(2, 6)
        target_len = 2 if equal else rng.randint(1, 3)
        out.append(
            TokenizedExample(
                (*(rng.randrange(3, 50) for _ in range(source_len)), EOS),
                (*(rng.randrange(3, 50) for _ in range(target_len)), EOS),
            )
        )
    return out


def params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_params(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=atol, rtol=0, msg=key)


def run(model, examples, config, out, **options) -> FitResult:
    options.setdefault("kind", "seq2seq")
    options.setdefault("pad_token_id", 0)
    options.setdefault("progress", False)
    options.setdefault("threads", 1)  # tiny models: one thread is fastest, and the CPUs are shared
    return fit(model, examples, config, out, **options)


# --- batching ----------------------------------------------------------------------------------


def test_collate_seq2seq_pads_inputs_and_masks_label_padding() -> None:
    batch = collate(
        [TokenizedExample((5, 6, 1), (7, 1)), TokenizedExample([8, 1], [9, 10, 1])],
        "seq2seq",
        pad_token_id=0,
    )
    assert batch["input_ids"].tolist() == [[5, 6, 1], [8, 1, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[7, 1, -100], [9, 10, 1]]
    assert target_token_count(batch["labels"], "seq2seq") == 5


def test_collate_causal_joins_source_and_target_and_learns_only_the_target() -> None:
    batch = collate(
        [TokenizedExample((5, 6), (7, 1)), TokenizedExample((8,), (9, 1))],
        "causal",
        pad_token_id=3,
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7, 1], [8, 9, 1, 3]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, -100, 7, 1], [-100, 9, 1, -100]]
    assert target_token_count(batch["labels"], "causal") == 4


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: TokenizedExample((1,), ()), "target_ids"),
        (lambda: TokenizedExample((1, -2), (1,)), "token ids"),
        (lambda: collate([TokenizedExample((1,), (1,))], "mlm", pad_token_id=0), "kind"),
        (lambda: collate([], "seq2seq", pad_token_id=0), "examples"),
        (lambda: collate([TokenizedExample((1,), (1,))], pad_token_id=-1), "pad_token_id"),
        (lambda: collate([TokenizedExample((), (1,))], "seq2seq", pad_token_id=0), "source_ids"),
    ],
)
def test_batching_errors_name_the_parameter(call, parameter: str) -> None:
    with pytest.raises(ConfigError) as error:
        call()
    assert error.value.parameter == parameter


# --- training -----------------------------------------------------------------------------------


def test_t5_memorises_a_toy_set_and_writes_its_files(tmp_path: Path) -> None:
    model = tiny_t5(dropout=0.1)
    torch.manual_seed(123)
    rng_before = torch.get_rng_state()
    threads_before = torch.get_num_threads()
    config = TrainConfig(epochs=20, batch_size=4, learning_rate=3e-2, log_every=3)
    result = run(model, toy_examples(8), config, tmp_path, keep_checkpoints=2)
    assert torch.equal(torch.get_rng_state(), rng_before)  # fit forks the RNG
    assert torch.get_num_threads() == threads_before  # threads=1 only for the call
    assert model.training  # as it came in
    first, last = result.losses[:2], result.losses[-2:]
    assert sum(last) < 0.5 * sum(first)
    assert result.steps == 40 and result.epochs == 20 and result.world_size == 1
    assert result.precision == "fp32" and result.best_epoch == 20 and result.best_score is None
    assert result.selection_rule == "no validation callback, last epoch 20"
    assert result.examples_per_second > 0
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-19", "epoch-20"]
    lines = [json.loads(x) for x in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    # every 3rd step plus each epoch's last (even) step
    assert [x["step"] for x in lines] == sorted({*range(3, 41, 3), *range(2, 41, 2)})
    assert set(lines[0]) == {"step", "epoch", "loss", "lr", "examples_per_second"}
    assert math.isclose(lines[-1]["loss"], result.losses[-1], rel_tol=1e-12)
    assert json.loads((tmp_path / "selection.json").read_text())["best_epoch"] == 20
    fresh = tiny_t5()
    assert load_best(fresh, tmp_path) == {"epoch": 20, "score": None}
    assert_same_params(params(fresh), params(model), atol=0)


def test_causal_llama_learns_targets_only(tmp_path: Path) -> None:
    model = tiny_llama()
    config = TrainConfig(epochs=10, batch_size=4, learning_rate=2e-2)
    result = run(model, toy_examples(8, seed=1), config, tmp_path, kind="causal")
    assert sum(result.losses[-2:]) < 0.5 * sum(result.losses[:2])
    # the loss is over target tokens only: an independent recomputation agrees
    batch = collate(toy_examples(8, seed=1), "causal", pad_token_id=0)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    total, count = 0.0, 0
    for row in range(8):
        for t in range(1, batch["labels"].shape[1]):
            label = int(batch["labels"][row, t])
            if label != -100:
                total -= float(torch.log_softmax(logits[row, t - 1], -1)[label])
                count += 1
    reference = total / count
    summed = trainer._summed_loss(logits, batch["labels"], "causal")
    assert math.isclose(float(summed) / count, reference, rel_tol=1e-5)


@pytest.mark.parametrize(("warmup_steps", "warmup_ratio"), [(3, 0.05), (None, 0.25)])
def test_schedule_is_linear_warmup_then_linear_decay(
    tmp_path: Path, warmup_steps: int | None, warmup_ratio: float
) -> None:
    config = TrainConfig(
        epochs=2,
        batch_size=2,
        learning_rate=0.1,
        warmup_steps=warmup_steps,
        warmup_ratio=warmup_ratio,
        log_every=1,
    )
    run(tiny_t5(), toy_examples(10), config, tmp_path)  # 5 steps per epoch, 10 in all
    lrs = [json.loads(x)["lr"] for x in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    total = 10
    warmup = 3  # explicit, or ceil(0.25 * 10)
    # step k (1-based) uses the factor after k - 1 steps (transformers' convention)
    expected = [
        0.1 * ((k - 1) / warmup if k - 1 < warmup else (total - k + 1) / (total - warmup))
        for k in range(1, total + 1)
    ]
    assert lrs == pytest.approx(expected, abs=1e-12)
    assert [linear_warmup_factor(k, warmup, total) for k in range(total)] == pytest.approx(
        [e / 0.1 for e in expected]
    )


def test_grad_accumulation_equals_one_big_batch(tmp_path: Path) -> None:
    # Unequal lengths on purpose: the loss is normalised per optimizer step, not per micro-batch.
    examples = toy_examples(12, seed=2)
    big = tiny_t5()
    accumulated = tiny_t5()
    common = {"epochs": 2, "learning_rate": 1e-2, "warmup_steps": 1}
    a = run(big, examples, TrainConfig(batch_size=4, **common), tmp_path / "a")
    b = run(
        accumulated, examples, TrainConfig(batch_size=2, grad_accum=2, **common), tmp_path / "b"
    )
    assert a.steps == b.steps == 6
    assert a.losses == pytest.approx(b.losses, abs=1e-6)
    assert_same_params(params(big), params(accumulated), atol=1e-5)


class Crash(Exception):
    pass


def crashing_validation(crash_at: list[int]):
    def score(model: torch.nn.Module, epoch: int) -> float:
        if epoch in crash_at:
            raise Crash(epoch)
        return float(model.lm_head.weight.sum())

    return score


def _log_without_speed(path: Path) -> list[dict]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for line in lines:
        line.pop("examples_per_second")
    return lines


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path: Path) -> None:
    examples = toy_examples(8, seed=3)
    config = TrainConfig(epochs=3, batch_size=3, learning_rate=1e-2, log_every=2, seed=5)
    straight = tiny_t5(dropout=0.1)
    expected = run(straight, examples, config, tmp_path / "a", validate=crashing_validation([]))

    resumed = tiny_t5(dropout=0.1)
    crash_at = [2]
    with pytest.raises(Crash):
        run(resumed, examples, config, tmp_path / "b", validate=crashing_validation(crash_at))
    assert latest_checkpoint(tmp_path / "b").parent.name == "epoch-1"
    crash_at.clear()
    other = tiny_t5(seed=9, dropout=0.1)  # a fresh process: weights come from the checkpoint
    result = run(
        other, examples, config, tmp_path / "b", validate=crashing_validation(crash_at), resume=True
    )
    assert result.resumed_from == 1
    assert result.losses == pytest.approx(expected.losses, abs=1e-6, rel=0)
    assert result.scores == pytest.approx(expected.scores, abs=1e-6)
    assert result.best_epoch == expected.best_epoch
    assert_same_params(params(other), params(straight), atol=1e-6)
    # the log was cut back to the checkpoint: no duplicated lines
    assert _log_without_speed(tmp_path / "b" / "train_log.jsonl") == _log_without_speed(
        tmp_path / "a" / "train_log.jsonl"
    )
    # a finished run resumes to nothing
    again = run(
        tiny_t5(), examples, config, tmp_path / "b", validate=crashing_validation([]), resume=True
    )
    assert again.resumed_from == 3 and again.losses == result.losses


def test_a_crash_while_writing_a_checkpoint_leaves_no_epoch_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = toy_examples(6, seed=4)
    config = TrainConfig(epochs=2, batch_size=3, learning_rate=1e-2, seed=1)
    straight = tiny_t5(dropout=0.1)
    expected = run(straight, examples, config, tmp_path / "a")

    real_save = checkpoints._save_file

    def dying_save(obj, path: Path) -> None:
        if "epoch-2" in str(path):
            path.write_bytes(b"half a checkpoint")
            raise OSError("disk full")
        real_save(obj, path)

    monkeypatch.setattr(checkpoints, "_save_file", dying_save)
    with pytest.raises(OSError, match=r"disk full"):
        run(tiny_t5(dropout=0.1), examples, config, tmp_path / "b")
    monkeypatch.undo()
    root = tmp_path / "b" / "checkpoints"
    assert [p.name for p in root.iterdir()] == ["epoch-1"]
    # what a killed process would leave: a hidden half-written directory
    leftover = root / ".tmp-epoch-2-killed"
    leftover.mkdir()
    (leftover / "checkpoint.pt").write_bytes(b"half")
    assert latest_checkpoint(tmp_path / "b").parent.name == "epoch-1"
    model = tiny_t5(dropout=0.1)
    result = run(model, examples, config, tmp_path / "b", resume=True)
    assert result.resumed_from == 1 and not leftover.exists()
    assert result.losses == pytest.approx(expected.losses, abs=1e-6, rel=0)
    assert_same_params(params(model), params(straight), atol=1e-6)


def test_best_weights_are_repaired_after_a_crash_before_their_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = toy_examples(6, seed=5)
    config = TrainConfig(epochs=2, batch_size=3, learning_rate=1e-2)

    def score(model: torch.nn.Module, epoch: int) -> float:
        return -float(epoch)  # min selection: epoch 2 is the best

    real_save = checkpoints._atomic_torch_save

    def dying_save(obj, path: Path) -> None:
        if obj["epoch"] == 2:
            raise OSError("killed")
        real_save(obj, path)

    monkeypatch.setattr(checkpoints, "_atomic_torch_save", dying_save)
    model = tiny_t5()
    with pytest.raises(OSError, match=r"killed"):
        run(model, examples, config, tmp_path, validate=score, selection="min")
    monkeypatch.undo()
    assert json.loads((tmp_path / "best" / "best.json").read_text())["epoch"] == 1
    result = run(
        tiny_t5(), examples, config, tmp_path, validate=score, selection="min", resume=True
    )
    assert result.best_epoch == 2 and result.best_score == -2.0
    assert result.selection_rule.endswith("min, best epoch 2")
    assert "score" in result.selection_rule
    fresh = tiny_t5(seed=7)
    assert load_best(fresh, tmp_path) == {"epoch": 2, "score": -2.0}
    assert_same_params(params(fresh), params(model), atol=0)
    saved = json.loads((tmp_path / "selection.json").read_text())
    assert saved["best_epoch"] == 2 and [s["score"] for s in saved["scores"]] == [-1.0, -2.0]


def test_selection_keeps_the_best_epoch_weights(tmp_path: Path) -> None:
    snapshots: dict[int, dict] = {}

    def score(model: torch.nn.Module, epoch: int) -> float:
        assert not model.training and not torch.is_grad_enabled()
        snapshots[epoch] = params(model)
        return [0.2, 0.9, 0.5][epoch - 1]

    result = run(
        tiny_t5(),
        toy_examples(4),
        TrainConfig(epochs=3, batch_size=2),
        tmp_path,
        validate=score,
    )
    assert (result.best_epoch, result.best_score, result.scores) == (2, 0.9, (0.2, 0.9, 0.5))
    assert result.selection_rule == (
        "validation callback test_selection_keeps_the_best_epoch_weights.<locals>.score, "
        "max, best epoch 2"
    )
    fresh = tiny_t5(seed=3)
    load_best(fresh, tmp_path)
    assert_same_params(params(fresh), snapshots[2], atol=0)


# --- precision ----------------------------------------------------------------------------------


def test_precision_auto_is_fp32_on_cpu_and_bf16_runs_cpu_autocast(tmp_path: Path) -> None:
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    result = run(
        tiny_t5(), toy_examples(4), TrainConfig(epochs=1, batch_size=2, precision="bf16"), tmp_path
    )
    assert result.precision == "bf16" and all(math.isfinite(x) for x in result.losses)


def test_precision_on_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "cuda:0") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "cuda:0") == "fp32"
    with pytest.raises(ConfigError, match=r"^precision: expected 'fp32' or 'auto' on a GPU"):
        resolve_precision("bf16", "cuda:0")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"warmup_steps": -1}, "warmup_steps"),
        ({"warmup_steps": 1.5}, "warmup_steps"),
        ({"warmup_ratio": 1.5}, "warmup_ratio"),
        ({"max_grad_norm": 0}, "max_grad_norm"),
        ({"max_grad_norm": math.inf}, "max_grad_norm"),
        ({"grad_accum": 0}, "grad_accum"),
        ({"precision": "fp16"}, "precision"),
        ({"seed": "0"}, "seed"),
        ({"log_every": 0}, "log_every"),
    ],
)
def test_train_config_errors_name_the_field(changes: dict, parameter: str) -> None:
    with pytest.raises(ConfigError) as error:
        TrainConfig(**{"epochs": 1, "batch_size": 1, **changes})
    assert error.value.parameter == parameter


GOOD = toy_examples(2)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"kind": "mlm"}, "kind"),
        ({"selection": "best"}, "selection"),
        ({"config": {"epochs": 1}}, "config"),
        ({"pad_token_id": -1}, "pad_token_id"),
        ({"validate": 3}, "validate"),
        ({"keep_checkpoints": 0}, "keep_checkpoints"),
        ({"threads": 0}, "threads"),
        ({"examples": []}, "examples"),
        ({"examples": [(1, 2)]}, "examples"),
        ({"examples": [TokenizedExample((), (1,))]}, "source_ids"),
        ({"validate": lambda model, epoch: math.nan}, "validate"),
        ({"validate": lambda model, epoch: "0.5"}, "validate"),
    ],
)
def test_fit_errors_name_the_parameter(tmp_path: Path, arguments: dict, parameter: str) -> None:
    call = {
        "model": tiny_t5(),
        "examples": GOOD,
        "config": TrainConfig(epochs=1, batch_size=2),
        "out_dir": tmp_path,
        "kind": "seq2seq",
        "pad_token_id": 0,
        "progress": False,
        "threads": 1,
        **arguments,
    }
    with pytest.raises(ConfigError) as error:
        fit(**call)
    assert error.value.parameter == parameter


def test_resume_refuses_a_different_run(tmp_path: Path) -> None:
    config = TrainConfig(epochs=2, batch_size=2)
    with pytest.raises(Crash):
        run(tiny_t5(), GOOD, config, tmp_path, validate=crashing_validation([2]))
    score = crashing_validation([])
    changed = TrainConfig(epochs=2, batch_size=2, learning_rate=0.5)
    with pytest.raises(ConfigError, match=r"^learning_rate: expected 0\.001 to resume"):
        run(tiny_t5(), GOOD, changed, tmp_path, validate=score, resume=True)
    with pytest.raises(ConfigError, match=r"^examples: expected .* found other examples$"):
        run(tiny_t5(), toy_examples(2, seed=8), config, tmp_path, validate=score, resume=True)
    # log_every changes no number and may differ
    run(tiny_t5(), GOOD, TrainConfig(epochs=2, batch_size=2, log_every=7), tmp_path,
        validate=score, resume=True)  # fmt: skip


# --- distributed --------------------------------------------------------------------------------


def test_two_processes_match_one_process_with_the_doubled_batch(tmp_path: Path) -> None:
    done = torchrun([str(WORKER), str(tmp_path)], timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    rank0 = torch.load(tmp_path / "params-rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "params-rank1.pt", weights_only=True)
    assert_same_params(rank0, rank1, atol=0)

    single = worker.tiny_t5()
    config = worker.CONFIG
    doubled = TrainConfig(**{**config.to_dict(), "batch_size": 2 * config.batch_size})
    reference = run(single, worker.examples(), doubled, tmp_path / "single")
    assert_same_params(rank0, params(single), atol=1e-5)

    reports = [json.loads((tmp_path / f"validated-rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["epochs"] for r in reports] == [[1, 2], [1, 2]]  # validate ran on every rank
    results = [r["result"] for r in reports]
    assert results[0]["losses"] == pytest.approx(list(reference.losses), abs=1e-5)
    assert results[0]["losses"] == results[1]["losses"]
    assert results[0]["scores"] == results[1]["scores"]  # rank 0's score everywhere
    assert results[0]["world_size"] == 2

    run_dir = tmp_path / "run"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "best",
        "checkpoints",
        "selection.json",
        "train_log.jsonl",
    ]
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["epoch-2"]
    lines = [json.loads(x) for x in (run_dir / "train_log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5, 6]  # one writer
    assert [x["loss"] for x in lines] == pytest.approx(list(reference.losses), abs=1e-5)


def test_a_bare_cuda_device_means_this_process_gpu(monkeypatch) -> None:
    """torch.cuda.set_device refuses an index-less "cuda"; fit resolves it to LOCAL_RANK's GPU."""
    from idprobe.training.trainer import _resolve_device

    model = torch.nn.Linear(2, 2)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert _resolve_device(model, "cuda") == torch.device("cuda", 0)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert _resolve_device(model, "cuda") == torch.device("cuda", 1)
    assert _resolve_device(model, "cuda:3") == torch.device("cuda", 3)
    assert _resolve_device(model, "cpu") == torch.device("cpu")
