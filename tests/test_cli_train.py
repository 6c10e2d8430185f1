"""`idprobe train` and `idprobe evaluate`: data -> trained model -> metrics.json from the CLI."""

from __future__ import annotations

import json

import pytest
from two_processes import torchrun

from idprobe.cli import main

TINY = [
    "--data-option",
    "n_users=50",
    "--data-option",
    "n_items=25",
    "--data-option",
    "mean_length=6",
]
FAST = ["--epochs", "1", "--batch-size", "16", "--vocab-size", "300", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    args = ["train", "--dataset", "synthetic", *TINY, "--strategy", "cid", *FAST]
    assert (
        main([*args, "--tasks", "sequential,direct", "--validation-users", "20", "--out", str(out)])
        == 0
    )
    return out


def test_train_writes_a_run_and_selects_on_validation(trained, capsys):
    selection = json.loads((trained / "trainer" / "selection.json").read_text())
    assert "validation sequential ndcg@10 (20 users, 10 beams)" in selection["rule"]
    settings = json.loads((trained / "settings.json").read_text())["settings"]
    assert settings["strategy"] == "cid" and settings["tasks"] == ["sequential", "direct"]
    assert settings["data_options"] == {"n_users": 50, "n_items": 25, "mean_length": 6}


def test_evaluate_writes_metrics_json(trained, capsys):
    assert main(["evaluate", str(trained), "--json", "--threads", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((trained / "metrics.json").read_text())
    assert printed["tasks"] == saved["tasks"]
    for task in ("sequential", "direct"):
        values = saved["tasks"][task]
        for key in ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"):
            assert 0.0 <= values[key] <= 1.0
        assert values["n_users"] == 50
    assert (trained / "predictions" / "test-sequential.npz").exists()
    assert main(["evaluate", str(trained), "--split", "validation", "--max-users", "10"]) == 0
    out = capsys.readouterr().out
    assert "10 users" in out and (trained / "metrics-validation.json").exists()


def test_train_from_a_toml_config_with_flags_winning(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(
        'dataset = "synthetic"\nstrategy = "rid"\ntasks = ["direct"]\nepochs = 3\n'
        "[data_options]\nn_users = 40\nn_items = 20\nmean_length = 5\n"
    )
    out = tmp_path / "run"
    assert (
        main(["train", "--config", str(config), *FAST, "--select-on", "none", "--out", str(out)])
        == 0
    )
    settings = json.loads((out / "settings.json").read_text())["settings"]
    assert settings["epochs"] == 1 and settings["tasks"] == ["direct"]  # --epochs 1 wins
    assert "1 epoch(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "nope"], "strategy"),
        (["--tasks", "sequential,chat"], "tasks: expected a non-empty subset"),
        (["--augment", "maybe"], "augment: expected one of 'auto', 'on', 'off'"),
        (["--backbone", "/no/such/model"], "backbone: expected one of 't5-tiny'"),
        (["--templates-per-sample", "0"], "per_sample"),
    ],
)
def test_train_errors_are_one_line_with_exit_code_2(tmp_path, capsys, args, message):
    code = main(
        ["train", "--dataset", "synthetic", *TINY, *FAST, *args, "--out", str(tmp_path / "r")]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("idprobe: error: ") and err.count("\n") == 1
    assert message in err


def test_config_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = [")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "--config: expected valid TOML" in capsys.readouterr().err
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("epoch = 3\n")
    assert main(["train", "--config", str(unknown), "--out", str(tmp_path / "r")]) == 2
    assert "found 'epoch'" in capsys.readouterr().err
    assert (
        main(["train", "--config", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "r")])
        == 2
    )
    assert "--config: expected an existing TOML file" in capsys.readouterr().err


def test_train_refuses_an_existing_run_and_evaluate_a_non_run(trained, tmp_path, capsys):
    args = [
        "train",
        "--dataset",
        "synthetic",
        *TINY,
        "--strategy",
        "cid",
        *FAST,
        "--out",
        str(trained),
    ]
    assert main(args) == 2
    assert "out: expected a new run directory (or --resume)" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "run: expected a run directory with settings.json" in capsys.readouterr().err
    assert main(["evaluate", str(trained), "--split", "train"]) == 2
    assert "split: expected one of 'test', 'validation'" in capsys.readouterr().err
    assert main(["evaluate", str(trained), "--beams", "5"]) == 2
    assert "beams: expected an integer >= the largest k (10)" in capsys.readouterr().err


@pytest.mark.slow
def test_train_and_evaluate_under_torchrun_with_two_processes(tmp_path):
    """Rank 0 builds the IDs and tokenizer, both ranks train (gloo), one run directory results."""
    out = tmp_path / "run"
    launch = ["-m", "idprobe"]
    train = ["train", "--dataset", "synthetic", *TINY, "--strategy", "sid", *FAST]
    train += ["--epochs", "2", "--validation-users", "15", "--out", str(out)]
    result = torchrun(launch + train, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained sid") == 1  # printed by rank 0 only
    log = (out / "trainer" / "train_log.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in log] == [1, 2]
    assert (out / "model" / "model.safetensors").exists()

    evaluate = ["evaluate", str(out), "--max-users", "25", "--threads", "1"]
    result = torchrun(launch + evaluate, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    sharded = json.loads((out / "metrics.json").read_text())["tasks"]["sequential"]
    assert sharded["n_users"] == 25 and sharded["details"]["processes"] == 2
    assert main(evaluate) == 0  # one process, same users: the same numbers
    single = json.loads((out / "metrics.json").read_text())["tasks"]["sequential"]
    for key in ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"):
        assert single[key] == pytest.approx(sharded[key], abs=1e-12)
