"""Generative evaluation of trained runs: beam-search ranks, metrics, files, paired comparison.

Three tiny runs are trained once for the module (sid and iid on sequential + direct, and sid on
sequential + rating + explanation); every number is checked against an independent
recomputation from the per-user arrays, the split's interactions, or the model's own
teacher-forced log-probabilities.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from idprobe.errors import ConfigError
from idprobe.evaluation.generative import (
    compare_runs,
    evaluate,
    evaluate_run,
    metrics_path,
    predict_items,
)
from idprobe.metrics import (
    PairedTestResult,
    bleu_scores,
    check_ranking_invariants,
    rating_metrics,
)
from idprobe.prompts import evaluation_examples
from idprobe.training.run import RunSettings, load_run, train_run

DATA = {"n_users": 120, "n_items": 40, "mean_length": 6}
N_USERS = 120
RANKING = ("sequential", "direct")
RATING_VALUES = ("rmse", "mae", "rmse_with_fallback", "mae_with_fallback")


def _settings(strategy: str, tasks: tuple[str, ...] = RANKING) -> RunSettings:
    return RunSettings(
        dataset="synthetic",
        data_options=DATA,
        strategy=strategy,
        epochs=1,
        batch_size=32,
        threads=1,
        tasks=tasks,
    )


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    dirs = {"sid": root / "sid", "iid": root / "iid", "text": root / "text"}
    train_run(_settings("sid"), dirs["sid"], progress=False)
    train_run(_settings("iid"), dirs["iid"], progress=False)
    train_run(
        _settings("sid", ("sequential", "rating", "explanation")), dirs["text"], progress=False
    )
    return dirs


@pytest.fixture(scope="module")
def sid(run_dirs):
    return load_run(run_dirs["sid"])


@pytest.fixture(scope="module")
def iid(run_dirs):
    return load_run(run_dirs["iid"])


@pytest.fixture(scope="module")
def sid_test(sid):
    return evaluate(sid, split="test")


@pytest.fixture(scope="module")
def evaluated(run_dirs) -> dict[str, object]:
    """evaluate_run (test split, every user) on the sid and iid runs; their metrics."""
    return {name: evaluate_run(run_dirs[name], threads=1) for name in ("sid", "iid")}


# ---------------------------------------------------------------------- independent references


def _loop_rank(row, target: int) -> int:
    """1-based position of ``target`` among the filled (non -1) slots of ``row``; 0 if absent."""
    position = 0
    for item in row:
        if item == -1:
            continue
        position += 1
        if item == target:
            return position
    return 0


def _hand_values(ranks, ks=(5, 10)) -> dict[str, float]:
    ranks = [int(r) for r in ranks]
    n = len(ranks)
    out = {}
    for k in ks:
        out[f"hr@{k}"] = sum(1.0 for r in ranks if 1 <= r <= k) / n
        out[f"ndcg@{k}"] = sum(1.0 / math.log2(r + 1) for r in ranks if 1 <= r <= k) / n
    out["mrr"] = sum(1.0 / r for r in ranks if r >= 1) / n
    return out


def _earlier_items(run, user: int, split: str) -> set[int]:
    """The user's interactions before the held-out one, straight from the interactions."""
    data = run.split.interactions
    start, stop = int(data.offsets[user]), int(data.offsets[user + 1])
    held_out = stop - 1 if split == "test" else stop - 2
    return set(data.item_index[start:held_out].tolist())


def _held_out_targets(run, users, split: str = "test") -> np.ndarray:
    data = run.split.interactions
    back = 1 if split == "test" else 2
    return data.item_index[data.offsets[np.asarray(users) + 1] - back]


def _teacher_forced(run, source: str) -> np.ndarray:
    """Summed log-probability of every item's full target sequence (trie order = item order)."""
    sequences = [list(s[1:]) for s in run.item_trie().sequences]  # drop the decoder start
    width = max(len(s) for s in sequences)
    labels = torch.full((len(sequences), width), -100, dtype=torch.long)
    for row, tokens in enumerate(sequences):
        labels[row, : len(tokens)] = torch.tensor(tokens)
    encoded = run.tokenizer(
        [source], truncation=True, max_length=run.settings.max_source_tokens, return_tensors="pt"
    )
    n = len(sequences)
    with torch.no_grad():
        logits = run.model(
            input_ids=encoded["input_ids"].expand(n, -1),
            attention_mask=encoded["attention_mask"].expand(n, -1),
            labels=labels,
        ).logits
    logp = torch.log_softmax(logits.double(), dim=-1)
    picked = logp.gather(2, labels.clamp(min=0)[..., None])[..., 0]
    return (picked * (labels != -100)).sum(dim=1).numpy()


# ---------------------------------------------------------------------- evaluate


def test_metrics_equal_a_recomputation_from_the_per_user_arrays(sid, sid_test) -> None:
    metrics, arrays = sid_test
    assert metrics.split == "test" and set(metrics.tasks) == set(RANKING)
    for task in RANKING:
        got, per_user = metrics.tasks[task], arrays[task]
        assert sorted(per_user) == ["items", "ranks", "scores", "targets", "users"]
        users, targets, items, ranks = (per_user[k] for k in ("users", "targets", "items", "ranks"))
        np.testing.assert_array_equal(users, np.arange(N_USERS))
        np.testing.assert_array_equal(targets, _held_out_targets(sid, users))
        assert items.shape == (N_USERS, 10) and per_user["scores"].shape == (N_USERS, 10)
        assert got.n_users == N_USERS == len(set(users.tolist()))
        expected_ranks = [
            _loop_rank(row.tolist(), int(t)) for row, t in zip(items, targets, strict=True)
        ]
        assert ranks.tolist() == expected_ranks
        hand = _hand_values(ranks)
        assert list(got.values) == list(hand)
        for key, value in hand.items():
            assert got.values[key] == pytest.approx(value, abs=1e-12), (task, key)
        check_ranking_invariants(got.values)
        assert got.values["hr@5"] <= got.values["hr@10"]
        assert got.values["ndcg@5"] <= got.values["ndcg@10"] <= got.values["hr@10"]
        assert set(got.intervals) == set(got.values)
        for key, (low, high) in got.intervals.items():
            assert 0.0 <= low <= got.values[key] <= high <= 1.0, (task, key)
        assert got.details["beams"] == 10 and got.details["filtered"] is False
        assert got.details["processes"] == 1
        assert got.template_id.startswith(task)


def test_ranks_point_at_the_target_in_the_items(sid_test) -> None:
    _, arrays = sid_test
    for task in RANKING:
        items, targets, ranks = (arrays[task][k] for k in ("items", "targets", "ranks"))
        assert (items >= 0).all()  # 40 items >= 10 beams: every slot is filled
        for row, target, rank in zip(items.tolist(), targets.tolist(), ranks.tolist(), strict=True):
            if rank == 0:
                assert target not in row
            else:
                assert row[rank - 1] == target and target not in row[: rank - 1]
    # the undertrained model still hits some targets, so the check above is not vacuous
    assert (arrays["sequential"]["ranks"] > 0).any()


def test_max_users_is_a_seeded_subset(sid, sid_test) -> None:
    first, a = evaluate(sid, tasks=["sequential"], max_users=15, seed=1)
    again, b = evaluate(sid, tasks=["sequential"], max_users=15, seed=1)
    _, c = evaluate(sid, tasks=["sequential"], max_users=15, seed=2)
    users = a["sequential"]["users"]
    assert len(users) == 15 == len(set(users.tolist())) == first.tasks["sequential"].n_users
    assert (np.diff(users) > 0).all() and users.min() >= 0 and users.max() < N_USERS
    np.testing.assert_array_equal(users, b["sequential"]["users"])
    assert first.tasks["sequential"].values == again.tasks["sequential"].values
    assert not np.array_equal(users, c["sequential"]["users"])
    assert first.provenance.config["max_users"] == 15
    # the subset's rows are the full evaluation's rows of the same users
    full = sid_test[1]["sequential"]
    np.testing.assert_array_equal(a["sequential"]["items"], full["items"][users])
    np.testing.assert_array_equal(a["sequential"]["ranks"], full["ranks"][users])
    np.testing.assert_allclose(a["sequential"]["scores"], full["scores"][users], atol=1e-5)


@pytest.mark.parametrize("split", ["test", "validation"])
def test_filtered_ranks_skip_the_users_earlier_items(sid, split: str) -> None:
    metrics, arrays = evaluate(sid, split=split, tasks=["sequential"], filtered=True)
    per_user = arrays["sequential"]
    got = metrics.tasks["sequential"]
    assert got.details["filtered"] is True
    np.testing.assert_array_equal(
        per_user["targets"], _held_out_targets(sid, per_user["users"], split)
    )
    expected = []
    for user, row, target in zip(
        per_user["users"], per_user["items"], per_user["targets"], strict=True
    ):
        seen = _earlier_items(sid, int(user), split)
        shown = [i for i in row.tolist() if i != -1 and i not in seen]
        expected.append(shown.index(int(target)) + 1 if int(target) in shown else 0)
    assert per_user["ranks"].tolist() == expected
    for key, value in _hand_values(expected).items():
        assert got.values[key] == pytest.approx(value, abs=1e-12)
        assert got.values[key] >= 0.0
    check_ranking_invariants(got.values)


def test_filtered_items_list_no_earlier_item(sid) -> None:
    _, arrays = evaluate(sid, tasks=["sequential"], filtered=True)
    per_user = arrays["sequential"]
    for user, row, target, rank in zip(
        per_user["users"], per_user["items"], per_user["targets"], per_user["ranks"], strict=True
    ):
        seen = _earlier_items(sid, int(user), "test")
        assert not seen & set(row.tolist())
        assert _loop_rank(row.tolist(), int(target)) == rank


def test_bad_options_are_config_errors(sid) -> None:
    with pytest.raises(ConfigError, match=r"^beams: expected an integer >= the largest k \(10\)"):
        evaluate(sid, beams=5)
    with pytest.raises(ConfigError, match=r"^beams: .*\(20\)"):
        evaluate(sid, beams=10, ks=(5, 20))
    with pytest.raises(
        ConfigError, match=r"^split: expected one of 'test', 'validation', found 'train'$"
    ):
        evaluate(sid, split="train")
    with pytest.raises(ConfigError, match=r"^max_users: expected an integer >= 1"):
        evaluate(sid, max_users=0)


def test_a_single_user_can_be_evaluated(sid) -> None:
    metrics, _ = evaluate(sid, tasks=["sequential"], max_users=1)
    assert metrics.tasks["sequential"].n_users == 1


# ---------------------------------------------------------------------- predict_items


@pytest.mark.parametrize("name", ["sid", "iid"])
def test_top_item_is_the_argmax_of_teacher_forced_log_probability(name, sid, iid) -> None:
    run = {"sid": sid, "iid": iid}[name]
    n_items = run.split.interactions.n_items
    examples = evaluation_examples(
        run.split, run.assignment, "sequential", user_scheme=run.settings.user_scheme
    )
    items, scores = predict_items(run, examples, beams=10)
    assert items.shape == scores.shape == (len(examples), 10)
    assert ((items >= -1) & (items < n_items)).all()
    for row, row_scores in zip(items.tolist(), scores, strict=True):
        filled = [i for i in row if i != -1]
        assert len(filled) == len(set(filled))
        assert (np.diff(row_scores[np.isfinite(row_scores)]) <= 1e-9).all()
    for user in np.linspace(0, len(examples) - 1, 8).astype(int):
        summed = _teacher_forced(run, examples[user].source)
        assert summed.shape == (n_items,)
        assert items[user, 0] == int(np.argmax(summed)), user
        filled = items[user] >= 0
        np.testing.assert_allclose(scores[user, filled], summed[items[user, filled]], atol=1e-4)


# ---------------------------------------------------------------------- evaluate_run and files


def test_evaluate_run_writes_metrics_and_predictions(run_dirs, evaluated) -> None:
    directory = run_dirs["sid"]
    record = json.loads((directory / "metrics.json").read_text())
    assert metrics_path(directory) == directory / "metrics.json"
    assert record["split"] == "test"
    sequential = record["tasks"]["sequential"]
    for key in ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"):
        assert 0.0 <= sequential[key] <= 1.0
    assert sequential["n_users"] == N_USERS
    assert record["settings"] == _settings("sid").to_dict()
    assert record["provenance"]["seed"] == 0
    assert record["provenance"]["config"]["split"] == "test"
    assert record == json.loads(json.dumps(evaluated["sid"].to_dict()))
    for task in RANKING:
        with np.load(directory / "predictions" / f"test-{task}.npz") as saved:
            assert sorted(saved.files) == ["items", "ranks", "scores", "targets", "users"]
            ranks = saved["ranks"]
            assert saved["items"].shape == (N_USERS, 10)
            assert [
                _loop_rank(r, t)
                for r, t in zip(saved["items"].tolist(), saved["targets"], strict=True)
            ] == (ranks.tolist())
        for key, value in _hand_values(ranks).items():
            assert record["tasks"][task][key] == pytest.approx(value, abs=1e-12)


def test_validation_split_writes_its_own_files(run_dirs, evaluated) -> None:
    directory = run_dirs["sid"]
    before = (directory / "metrics.json").read_text()
    threads = torch.get_num_threads()
    metrics = evaluate_run(directory, threads=1, split="validation", tasks=["sequential"])
    assert torch.get_num_threads() == threads  # restored after the call
    path = directory / "metrics-validation.json"
    assert metrics_path(directory, "validation") == path
    assert json.loads(path.read_text())["split"] == "validation" == metrics.split
    assert (directory / "metrics.json").read_text() == before
    with np.load(directory / "predictions" / "validation-sequential.npz") as saved:
        run = load_run(directory)
        np.testing.assert_array_equal(
            saved["targets"], _held_out_targets(run, saved["users"], "validation")
        )


def test_evaluate_run_rejects_bad_threads(run_dirs) -> None:
    with pytest.raises(ConfigError, match=r"^threads: expected None or an integer >= 1"):
        evaluate_run(run_dirs["sid"], threads=0)


def test_compare_runs_pairs_the_users(run_dirs, evaluated, tmp_path) -> None:
    result = compare_runs(run_dirs["sid"], run_dirs["iid"], n_permutations=2000)
    assert isinstance(result, PairedTestResult)
    assert 0.0 < result.p_value <= 1.0 and result.n == N_USERS
    per_user = []
    for name in ("sid", "iid"):
        with np.load(run_dirs[name] / "predictions" / "test-sequential.npz") as saved:
            per_user.append(_hand_values(saved["ranks"])["ndcg@10"])
    assert result.mean_difference == pytest.approx(per_user[0] - per_user[1], abs=1e-12)

    same = compare_runs(run_dirs["sid"], run_dirs["sid"], metric="hr@5", n_permutations=500)
    assert same.p_value == 1.0 and same.mean_difference == 0.0

    subset = tmp_path / "iid-subset"
    shutil.copytree(run_dirs["iid"], subset)
    evaluate_run(subset, threads=1, tasks=["sequential"], max_users=51)
    with pytest.raises(ConfigError, match=r"^runs: expected evaluations over the same users"):
        compare_runs(run_dirs["sid"], subset)
    with pytest.raises(ConfigError, match=r"^metric: expected hr@K or ndcg@K"):
        compare_runs(run_dirs["sid"], run_dirs["iid"], metric="mrr")
    with pytest.raises(ConfigError, match=r"^run: expected an evaluated run"):
        compare_runs(run_dirs["sid"], run_dirs["text"], task="direct")


# ---------------------------------------------------------------------- rating and explanation


@pytest.fixture(scope="module")
def text_metrics(run_dirs):
    metrics = evaluate_run(run_dirs["text"], threads=1)
    return metrics, json.loads((run_dirs["text"] / "metrics.json").read_text())


def test_rating_and_bleu_match_the_metric_functions(run_dirs, text_metrics) -> None:
    directory = run_dirs["text"]
    _, record = text_metrics
    run = load_run(directory)
    data = run.split.interactions
    assert set(record["tasks"]) == {"sequential", "rating", "explanation"}

    rating = record["tasks"]["rating"]
    with np.load(directory / "predictions" / "test-rating.npz") as saved:
        users, answers = saved["users"], saved["answers"].tolist()
    np.testing.assert_array_equal(users, np.arange(N_USERS))
    truth = data.ratings[data.offsets[users + 1] - 1]
    expected = rating_metrics(answers, truth, scale=data.rating_scale)
    for key in RATING_VALUES:
        value = getattr(expected, key)
        if value is None:  # no answer parsed: recorded as NaN
            assert math.isnan(rating[key]), key
        else:
            assert rating[key] == pytest.approx(value, abs=1e-12), key
    unparseable = rating["details"]["unparseable"]
    assert type(unparseable) is int and unparseable == expected.unparseable
    assert rating["details"]["n"] == N_USERS == rating["n_users"]

    explanation = record["tasks"]["explanation"]
    with np.load(directory / "predictions" / "test-explanation.npz") as saved:
        users, answers = saved["users"], saved["answers"].tolist()
    examples = evaluation_examples(run.split, run.assignment, "explanation")
    assert users.tolist() == [e.user for e in examples]
    bleu = bleu_scores(answers, [e.target for e in examples])
    for key in ("bleu1", "bleu4"):
        assert 0.0 <= explanation[key] <= 100.0
        assert explanation[key] == pytest.approx(getattr(bleu, key), abs=1e-9)
    assert explanation["n_users"] == len(examples)


def test_rating_values_are_only_error_metrics(text_metrics) -> None:
    metrics, _ = text_metrics
    rating = metrics.tasks["rating"]
    # the scale is a detail of the task, not a metric (it would be averaged into tables)
    assert set(rating.values) == set(RATING_VALUES)
    assert all(type(v) is float for v in rating.values.values())
    assert set(metrics.tasks["explanation"].values) == {"bleu1", "bleu4"}
