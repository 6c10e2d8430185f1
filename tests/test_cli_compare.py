"""`idprobe compare` and `idprobe report` from the command line: output, caching, errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idprobe.cli import main

TINY = [
    "--dataset",
    "synthetic",
    "--data-option",
    "n_users=60",
    "--data-option",
    "n_items=30",
    "--data-option",
    "mean_length=6",
    "--tasks",
    "sequential",
    "--epochs",
    "1",
    "--batch-size",
    "16",
    "--set",
    "vocab_size=300",
    "--set",
    "validation_users=20",
    "--set",
    "beams=10",
    "--set",
    "ds_pairs=200",
    "--set",
    "sid.start=2001",
    "--quiet",
]


@pytest.mark.slow
def test_compare_then_report_then_rerun_from_saved_config(tmp_path, capsys) -> None:
    out = tmp_path / "cmp"
    code = main(["compare", "--strategies", "sid", *TINY, "--no-figures", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "sid" in printed and "seq ndcg@10" in printed
    assert f"report: {out / 'report.html'}" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["variants"][0]["settings"]["strategy_params"] == {"start": 2001}
    assert results["variants"][0]["settings"]["epochs"] == 1
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    markers = {p: p.stat().st_mtime_ns for p in out.rglob("stages/*.json")}
    assert main(["compare", "--config", str(out / "compare.toml"), "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("stages/*.json")} == markers


@pytest.mark.slow
def test_compare_puts_baselines_in_the_table(tmp_path, capsys) -> None:
    out = tmp_path / "cmp"
    args = ["compare", "--strategies", "sid", "--baselines", "pop,sasrec", *TINY, "--no-figures"]
    args += ["--set", "sasrec.epochs=1", "--set", "sasrec.hidden_size=16", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "pop (baseline)" in printed and "sasrec (baseline)" in printed
    results = json.loads((out / "results.json").read_text())
    kinds = {v["label"]: v["kind"] for v in results["variants"]}
    assert kinds == {"sid": "strategy", "pop": "baseline", "sasrec": "baseline"}
    sasrec = next(v for v in results["variants"] if v["label"] == "sasrec")
    assert sasrec["settings"]["epochs"] == 1 and sasrec["settings"]["params"]["hidden_size"] == 16
    assert "[baseline_params.sasrec]" in (out / "compare.toml").read_text()
    assert "Classic baselines" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategies", "nope"], "strategies: expected one of"),
        (["--set", "nope.n_clusters=3"], "--set: expected STRATEGY.PARAM with a strategy among"),
        (["--set", "epochz=3"], "--set: expected STRATEGY.PARAM or a key among"),
        (["--set", "noequals"], "--set: expected KEY=VALUE"),
        (["--sweep", "oov_tokens"], "--sweep: expected NAME=V1,V2,..."),
        (["--sweep", "depth=1,2"], "sweeps: expected one of"),
        (["--sweep", "oov_tokens=1"], "sweeps.oov_tokens: expected integers >= 2"),
        (["--workers", "0"], "workers: expected an integer >= 1"),
        (["--config", "missing.toml"], "--config: expected an existing TOML file"),
    ],
)
def test_bad_compare_input_exits_2_and_writes_nothing(tmp_path, capsys, args, message) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", *args, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("idprobe: error: ") and message in error
    assert len(error.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_toml_config_exits_2(tmp_path, capsys) -> None:
    config = tmp_path / "c.toml"
    config.write_text("strategies = ['sid'\n")
    assert main(["compare", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "--config: expected valid TOML in" in capsys.readouterr().err


def test_report_of_a_directory_without_results_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "results.json" in error and error.startswith("idprobe: error: ")


def test_report_rerenders_without_torch(tmp_path: Path) -> None:
    # `idprobe report` reads results.json and figures only: it must work where torch is absent.
    import shutil
    import subprocess
    import sys

    shutil.copy(Path(__file__).parent / "reporting" / "data" / "results.json", tmp_path)
    code = (
        "import sys; from idprobe.cli import main; "
        f"code = main(['report', {str(tmp_path)!r}]); "
        "print(code, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-3:] == ["0", "False", "False"]
    assert (tmp_path / "report.html").exists()
