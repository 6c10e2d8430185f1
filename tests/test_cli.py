"""The command line: help, version, listings, data stats, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from idprobe import __version__
from idprobe.cli import main
from idprobe.data import FORMATS


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "data" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"idprobe {__version__}"


def test_list_formats_and_datasets(capsys):
    assert main(["list", "formats"]) == 0
    out = capsys.readouterr().out
    for name in FORMATS:
        assert name in out
    assert main(["list", "datasets"]) == 0
    assert "synthetic" in capsys.readouterr().out


def test_data_stats_synthetic_text_and_json(capsys):
    assert main(["data", "stats", "synthetic", "--set", "n_users=80", "--set", "n_items=60"]) == 0
    out = capsys.readouterr().out
    assert "users" in out and "80" in out and "cold items" in out
    assert (
        main(["data", "stats", "synthetic", "--json", "--set", "n_users=80", "--set", "n_items=60"])
        == 0
    )
    stats = json.loads(capsys.readouterr().out)
    assert stats["users"] == 80 and stats["interactions"] > 80 * 5 - 1
    assert {
        "users",
        "items",
        "interactions",
        "rating_histogram",
        "sequence_length",
        "cold_items",
    } <= set(stats)


def test_data_stats_real_file(capsys, write):
    path = write("ml/u.data", "1\t10\t4\t100\n1\t20\t3\t50\n1\t30\t3\t60\n")
    assert main(["data", "stats", str(path.parent), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["rating_histogram"] == {"3": 2, "4": 1}
    assert stats["cold_items"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["data", "stats", "{tmp}/missing"],
            "field 'path': expected an existing file or directory",
        ),
        (
            ["data", "stats", "{tmp}/bad.json"],
            "bad.json:2: field 'overall': expected a finite number, found 'x'",
        ),
        (
            ["data", "stats", "{tmp}/bad.json", "--format", "p5"],
            "bad.json:1: field 'user': expected an integer id",
        ),
        (
            ["data", "stats", "synthetic", "--set", "n_users=-3"],
            "n_users: expected an integer >= 1, found -3",
        ),
        (
            ["data", "stats", "synthetic", "--set", "colour=red"],
            "dataset 'synthetic' option: expected one of",
        ),
        (
            ["data", "stats", "synthetic", "--set", "novalue"],
            "--set: expected KEY=VALUE, found 'novalue'",
        ),
        (["data", "stats", "synthetic", "--k-core", "999"], "leaves no interaction"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, tmp_path, argv, message):
    (tmp_path / "bad.json").write_text(
        '{"reviewerID": "u", "asin": "a", "overall": 5, "unixReviewTime": 1}\n'
        '{"reviewerID": "u", "asin": "b", "overall": "x", "unixReviewTime": 1}\n'
    )
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("idprobe: error: ")
    assert message in lines[0]


def test_usage_error_exit_2(capsys):
    assert main(["data", "stats", "synthetic", "--format", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_and_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "idprobe", "data", "stats", "synthetic", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["users"] == 600
    result = subprocess.run(
        [sys.executable, "-m", "idprobe", "data", "stats", "/nonexistent/x.json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
