"""``idprobe ids build / stats / export`` and ``idprobe list strategies``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idprobe.cli import main
from idprobe.ids import IdAssignment, list_strategies


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_strategies_shows_every_registered_strategy_with_defaults(capsys) -> None:
    code, out, _ = _run(capsys, "list", "strategies")
    assert code == 0
    for name in list_strategies():
        assert any(line.startswith(f"{name}  ") for line in out.splitlines())
    assert "    n_clusters = 100" in out and "    items = None  (required)" in out


def test_build_then_stats_then_export(capsys, tmp_path: Path) -> None:
    out_dir = tmp_path / "sid"
    code, out, _ = _run(
        capsys,
        "ids",
        "build",
        "--dataset",
        "synthetic",
        "--strategy",
        "sid",
        "--set",
        "user_order=long_first",
        "--seed",
        "3",
        "--out",
        str(out_dir),
    )
    assert code == 0, out
    assert "strategy     sid  (seed 3)" in out and "built in" in out
    assignment = IdAssignment.load(out_dir)
    assert assignment.params == {"start": 1001, "user_order": "long_first"}
    assert assignment.seed == 3 and len(assignment.items) == 400

    code, out, _ = _run(capsys, "ids", "stats", str(out_dir))
    assert code == 0 and "items        400 IDs" in out and "lengths    1 tokens: 400" in out
    code, out, _ = _run(capsys, "ids", "stats", str(out_dir), "--json")
    stats = json.loads(out)
    assert stats["items"]["entities"] == 400 and stats["users"] is None

    code, out, _ = _run(capsys, "ids", "export", str(out_dir), "--out", str(tmp_path / "files"))
    assert code == 0
    lines = (tmp_path / "files" / "items.txt").read_text().splitlines()
    assert len(lines) == 400 and lines[0].split()[0] == "I00000"


def test_external_reads_exported_files_back(capsys, tmp_path: Path) -> None:
    _run(
        capsys,
        "ids",
        "build",
        "--dataset",
        "synthetic",
        "--strategy",
        "iid",
        "--set",
        "index=both",
        "--out",
        str(tmp_path / "iid"),
    )
    _run(capsys, "ids", "export", str(tmp_path / "iid"), "--out", str(tmp_path / "files"))
    code, _out, err = _run(
        capsys,
        "ids",
        "build",
        "--dataset",
        "synthetic",
        "--strategy",
        "external",
        "--set",
        f"items={tmp_path / 'files' / 'items.txt'}",
        "--set",
        f"users={tmp_path / 'files' / 'users.txt'}",
        "--out",
        str(tmp_path / "ext"),
    )
    assert code == 0, err
    original, external = IdAssignment.load(tmp_path / "iid"), IdAssignment.load(tmp_path / "ext")
    assert external.items == original.items and external.users == original.users
    assert external.new_tokens == original.new_tokens


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--strategy", "tiger"], "idprobe: error: strategy: expected one of 'cid', "),
        (
            ["--strategy", "meta", "--set", "clusters=5"],
            "idprobe: error: meta parameter: expected one of",
        ),
        (
            ["--strategy", "meta", "--set", "n_clusters=-1"],
            "idprobe: error: meta.n_clusters: expected an integer >= 1, found -1",
        ),
        (["--strategy", "external"], "idprobe: error: external.items: expected a value"),
        (
            ["--strategy", "external", "--set", "items=/no/such/file"],
            "idprobe: error: /no/such/file: no such ID file",
        ),
        (
            ["--strategy", "meta", "--set", "relation=rating", "--dataset", "P5", "--format", "p5"],
            "idprobe: error: meta: needs ratings but",
        ),
        (
            ["--strategy", "sid", "--set", "novalue"],
            "idprobe: error: --set: expected KEY=VALUE, found 'novalue'",
        ),
    ],
)
def test_build_errors_are_one_line_with_exit_code_2(
    capsys, tmp_path: Path, write, argv: list[str], message: str
) -> None:
    if "P5" in argv:  # data without ratings: a P5 sequence file
        argv = [
            a if a != "P5" else str(write("seq.txt", "1 1 2 3\n2 2 3 1\n3 3 1 2\n")) for a in argv
        ]
    if "--dataset" not in argv:
        argv = [*argv, "--dataset", "synthetic"]
    code, _out, err = _run(capsys, "ids", "build", *argv, "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "out" / "assignment.json").exists()


def test_build_refuses_to_overwrite_without_force(capsys, tmp_path: Path) -> None:
    args = ["ids", "build", "--dataset", "synthetic", "--strategy", "rid", "--out", str(tmp_path)]
    assert _run(capsys, *args)[0] == 0
    code, _, err = _run(capsys, *args)
    assert code == 2 and "expected a directory without assignment.json (or --force)" in err
    assert _run(capsys, *args, "--force", "--seed", "1")[0] == 0
    assert IdAssignment.load(tmp_path).seed == 1


def test_stats_of_a_missing_or_broken_assignment(capsys, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "ids", "stats", str(tmp_path))
    assert code == 2 and "no such assignment file" in err
    (tmp_path / "assignment.json").write_text("{oops")
    code, _, err = _run(capsys, "ids", "stats", str(tmp_path))
    assert code == 2 and "assignment.json:1: field 'json': expected valid JSON" in err


def test_verbose_logs_the_phases_of_a_meta_build(capsys, tmp_path: Path, caplog) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="idprobe")
    code, _, _ = _run(
        capsys, "-v", "ids", "build", "--dataset", "synthetic", "--strategy", "meta",
        "--set", "n_clusters=4", "--set", "walks_per_node=2", "--set", "epochs=1",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    messages = " | ".join(record.getMessage() for record in caplog.records)
    assert "meta-path walks: 2000 walks of 64 nodes" in messages
    assert "kmeans grouping of 1000 entities into 4 groups" in messages
