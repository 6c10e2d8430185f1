"""`idprobe baseline` and `idprobe list baselines`: a classic model from the command line."""

from __future__ import annotations

import json

import pytest

from idprobe.cli import main

TINY = ["--data-option", "n_users=50", "--data-option", "n_items=25", "--quiet"]


def test_pop_writes_metrics_in_the_trainers_format(tmp_path, capsys):
    out = tmp_path / "pop"
    assert main(["baseline", "pop", "--dataset", "synthetic", *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("sequential   test: hr@5=")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["settings"]["model"] == "pop"
    assert metrics["settings"]["data_options"] == {"n_users": 50, "n_items": 25}
    assert (out / "predictions" / "test-sequential.npz").exists()


def test_flags_set_and_config_reach_the_settings(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text("patience = 2\n[params]\nlayers = 1\n")
    out = tmp_path / "sasrec"
    args = ["baseline", "sasrec", "--dataset", "synthetic", *TINY, "--config", str(config)]
    args += [
        "--epochs",
        "2",
        "--set",
        "hidden_size=16",
        "--set",
        "heads=1",
        "--set",
        "eval_every=2",
    ]
    assert main([*args, "--recipe", "none", "--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    settings = json.loads((out / "settings.json").read_text())
    assert settings["recipe"] is None
    assert printed["settings"] == settings["settings"]
    resolved = settings["settings"]
    assert (resolved["epochs"], resolved["patience"], resolved["eval_every"]) == (2, 2, 2)
    assert resolved["params"] == {"layers": 1, "hidden_size": 16, "heads": 1}
    history = json.loads((out / "history.json").read_text())
    assert history["scores"] == [None, history["best_score"]]  # validated every 2nd epoch


def test_the_datasets_recipe_is_applied_and_named(tmp_path, capsys):
    out = tmp_path / "caser"
    args = ["baseline", "caser", "--dataset", "synthetic", "--data-option", "n_users=50"]
    assert main([*args, "--data-option", "n_items=25", "--epochs", "1", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "recipes/synthetic/caser.toml" in captured.err
    recipe = json.loads((out / "settings.json").read_text())["recipe"]
    assert recipe["dataset"] == "synthetic" and recipe["model"] == "caser"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["sasnet"],
            "model: expected one of 'pop', 'sasrec', 'gru4rec', 'caser', 'bert4rec', found 'sasnet'",
        ),
        (["sasrec", "--set", "hiden=3"], "--set: expected a setting among model, dataset"),
        (["sasrec", "--set", "heads=3"], "params.heads: expected a divisor of hidden_size 64"),
        (["sasrec", "--epochs", "0"], "epochs: expected an integer >= 1, found 0"),
        (["sasrec", "--recipe", "missing.toml"], "recipe: expected an existing recipe file"),
        (["pop", "--device", "tpu"], "device: expected auto, cpu, cuda or cuda:N, found 'tpu'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert main(["baseline", *args, "--dataset", "synthetic", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("idprobe: error: ") and message in err and err.count("\n") == 1
    assert not (out / "metrics.json").exists()


def test_config_may_not_set_model_or_dataset(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('dataset = "other"\n')
    args = ["baseline", "pop", "--dataset", "synthetic", "--config", str(config)]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    assert "--config: dataset: expected a key given on the command line" in capsys.readouterr().err


def test_short_users_fail_with_the_documented_filter(tmp_path, capsys):
    data = tmp_path / "short.csv"
    rows = [f"u{u},{i}" for u in (1, 2, 3) for i in "abc"] + ["u4,a", "u4,b"]
    data.write_text("user,item\n" + "\n".join(rows) + "\n")
    args = ["baseline", "pop", "--dataset", str(data), "--format", "csv", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "1 users have fewer (e.g. user 'u4' has 2)" in err and "k_core=3" in err
    # The filter the message names drops the short user, and the run goes through.
    assert main([*args, "--k-core", "3", "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["tasks"]["sequential"]["n_users"] == 3


def test_list_baselines_names_models_and_recipes(capsys):
    assert main(["list", "baselines"]) == 0
    out = capsys.readouterr().out
    for name in ("pop", "sasrec", "gru4rec", "caser", "bert4rec"):
        assert f"{name}  " in out
    assert "recipes: amazon-beauty, synthetic" in out
