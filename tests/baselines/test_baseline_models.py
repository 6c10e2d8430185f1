"""The five baselines train, learn, and behave: each beats Pop on the synthetic data, runs are
deterministic under a seed, a killed run resumes to the same result, and a model's prediction
does not depend on how much left padding its input has."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from baselines import resolve_settings
from baselines.registry import model_class
from baselines.run import evaluate_baseline, load_baseline, train_baseline
from baselines.sequences import PAD, SequenceData
from idprobe.data import leave_one_out, make_synthetic
from idprobe.errors import ConfigError, DatasetError
from idprobe.evaluation import compare_runs

LEARNED = ("sasrec", "gru4rec", "caser", "bert4rec")
TINY = {"hidden_size": 16, "layers": 1, "heads": 1, "inner_size": 32, "max_length": 10}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Every baseline trained once with its synthetic recipe (the CI check that each learns)."""
    root = tmp_path_factory.mktemp("baselines")
    results = {}
    for model in ("pop", *LEARNED):
        settings, recipe = resolve_settings(model, "synthetic")
        results[model] = train_baseline(settings, root / model, recipe=recipe)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("model", LEARNED)
def test_each_model_beats_pop_on_the_synthetic_data(trained, model):
    ours = trained[model].metrics.tasks["sequential"].values
    pop = trained["pop"].metrics.tasks["sequential"].values
    assert ours["ndcg@10"] > 1.5 * pop["ndcg@10"], (ours, pop)
    test = compare_runs(trained[model].directory, trained["pop"].directory, metric="ndcg@10")
    assert test.mean_difference > 0 and test.p_value < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("model", ("pop", *LEARNED))
def test_runs_write_the_trainers_metrics_format(trained, model):
    directory = trained[model].directory
    metrics = json.loads((directory / "metrics.json").read_text())
    task = metrics["tasks"]["sequential"]
    assert {"hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr", "n_users", "ci95", "details"} <= set(task)
    assert task["n_users"] == 600 and task["details"]["ranking"] == "full"
    assert metrics["settings"]["model"] == model and metrics["provenance"]["seed"] == 0
    with np.load(directory / "predictions" / "test-sequential.npz") as arrays:
        assert arrays["items"].shape == (600, 20)
        # The top item list and the rank agree: a rank-r target sits at position r.
        hit = (arrays["ranks"] >= 1) & (arrays["ranks"] <= 20)
        rows = np.flatnonzero(hit)
        assert (arrays["items"][rows, arrays["ranks"][rows] - 1] == arrays["targets"][rows]).all()
    history = json.loads((directory / "history.json").read_text())
    if model == "pop":
        assert history["stopped"] == "no training" and history["epochs"] == 0
    else:
        assert history["best_score"] == max(s for s in history["scores"] if s is not None)
        assert len(history["losses"]) == history["epochs"]


def _tiny(model, **overrides):
    params = {k: v for k, v in TINY.items() if model in ("sasrec", "bert4rec") or k == "max_length"}
    if model == "gru4rec":
        params = {"embedding_size": 16, "hidden_size": 16, "max_length": 10}
    if model == "caser":
        params = {"embedding_size": 8, "window": 3, "targets": 2}
    if model == "pop":
        params = {}
    values = {"epochs": 3, "patience": 3, "data_options": {"n_users": 60, "n_items": 30}}
    values.update(overrides)
    settings, _ = resolve_settings(model, "synthetic", recipe=None, overrides=values, params=params)
    return settings


@pytest.mark.parametrize("model", LEARNED)
def test_the_same_seed_gives_the_same_run(tmp_path, model):
    first = train_baseline(_tiny(model), tmp_path / "a")
    again = train_baseline(_tiny(model), tmp_path / "b")
    other = train_baseline(_tiny(model, seed=1), tmp_path / "c")
    assert first.losses == again.losses
    assert first.metrics.tasks["sequential"].values == again.metrics.tasks["sequential"].values
    assert first.losses != other.losses


@pytest.mark.parametrize("model", ["sasrec", "caser"])
def test_a_killed_run_resumes_to_the_same_result(tmp_path, monkeypatch, model):
    whole = train_baseline(_tiny(model, epochs=4, patience=4), tmp_path / "whole")

    import baselines.run as run_module

    real_save = run_module._save_torch
    saved = []

    def dies_after_two_epochs(path, obj):
        real_save(path, obj)
        if path.name == "checkpoint.pt":
            saved.append(obj["epoch"])
            if len(saved) == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_save_torch", dies_after_two_epochs)
    with pytest.raises(KeyboardInterrupt):
        train_baseline(_tiny(model, epochs=4, patience=4), tmp_path / "killed")
    monkeypatch.setattr(run_module, "_save_torch", real_save)
    assert not (tmp_path / "killed" / "metrics.json").exists()
    resumed = train_baseline(_tiny(model, epochs=4, patience=4), tmp_path / "killed", resume=True)
    assert resumed.losses == whole.losses and resumed.scores == whole.scores
    assert resumed.metrics.tasks["sequential"].values == whole.metrics.tasks["sequential"].values


def test_resume_refuses_changed_settings(tmp_path):
    train_baseline(_tiny("sasrec", epochs=1), tmp_path / "run")
    with pytest.raises(
        ConfigError, match=r"--resume: expected the settings of the run in .*, found changed epochs"
    ):
        train_baseline(_tiny("sasrec", epochs=2), tmp_path / "run", resume=True)


def test_a_finished_run_loads_and_evaluates_the_same(tmp_path):
    result = train_baseline(_tiny("gru4rec"), tmp_path / "run")
    model, data, settings = load_baseline(tmp_path / "run")
    again = evaluate_baseline(model, data, settings, tmp_path / "run", write=False)
    assert again.tasks["sequential"].values == result.metrics.tasks["sequential"].values
    filtered = evaluate_baseline(model, data, settings, tmp_path, filtered=True, write=False)
    assert filtered.tasks["sequential"].details["filtered"] is True
    with pytest.raises(ConfigError, match=r"run: expected a finished baseline run"):
        load_baseline(tmp_path / "nothing")


def test_depth_and_eval_users_match_the_generative_evaluation(tmp_path):
    result = train_baseline(_tiny("pop"), tmp_path / "run", eval_users=25, depth=10)
    task = result.metrics.tasks["sequential"]
    assert task.n_users == 25 and task.details["depth"] == 10
    with np.load(tmp_path / "run" / "predictions" / "test-sequential.npz") as arrays:
        from idprobe.evaluation import select_users

        assert arrays["users"].tolist() == select_users(60, 25, 0).tolist()
        assert arrays["ranks"].max() <= 10


def test_users_with_fewer_than_three_items_are_a_clear_error(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("user,item\nu1,a\nu1,b\nu1,c\nu2,a\nu2,b\n")
    settings, _ = resolve_settings("pop", str(path), recipe=None, overrides={"data_format": "csv"})
    with pytest.raises(
        DatasetError,
        match=r"at least 3 interactions per user; 1 users have fewer \(e.g. user 'u2' has 2\)",
    ):
        train_baseline(settings, tmp_path / "run")


@pytest.mark.parametrize("model", ["sasrec", "gru4rec", "bert4rec"])
def test_predictions_ignore_left_padding(model):
    """The query of a history is the same however wide the padded matrix it sits in."""
    data = SequenceData(leave_one_out(make_synthetic(n_users=40, n_items=30, seed=2)))
    torch.manual_seed(0)
    settings = _tiny(model)
    net = model_class(model)(settings.resolved_params(), data.n_users, data.n_items).eval()
    users = np.arange(data.n_users)
    history = data.histories("test", users, 6)
    with torch.no_grad():
        for extra in (0, 3):
            wide = np.concatenate([np.full((len(users), extra), PAD), history], axis=1)
            if model == "bert4rec":
                wide = np.concatenate([wide, np.full((len(users), 1), net.mask_token)], axis=1)
            out = net.encode(torch.from_numpy(wide))[:, -1]
            if extra == 0:
                reference = out
            else:
                torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-5)
        # One user alone, without any padding, gets the same query as in the batch.
        user = int(np.argmin((history != PAD).sum(axis=1)))
        alone = history[user : user + 1][:, (history[user] != PAD)]
        if model == "bert4rec":
            alone = np.concatenate([alone, [[net.mask_token]]], axis=1)
        torch.testing.assert_close(
            net.encode(torch.from_numpy(alone))[:, -1],
            reference[user : user + 1],
            rtol=1e-5,
            atol=1e-5,
        )


def test_device_auto_is_the_cpu_here_and_cuda_without_a_gpu_is_an_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: auto would pick it")
    on_cpu = train_baseline(_tiny("sasrec", device="cpu"), tmp_path / "cpu")
    on_auto = train_baseline(_tiny("sasrec", device="auto"), tmp_path / "auto")
    assert on_auto.losses == on_cpu.losses
    with pytest.raises(
        ConfigError, match=r"device: expected cpu or auto on a machine where torch sees no CUDA"
    ):
        train_baseline(_tiny("sasrec", device="cuda"), tmp_path / "cuda")
