"""compare() end to end on tiny data: results, figures, report, caching, resume, workers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_runs import TINY_OPTIONS

from idprobe.errors import ConfigError
from idprobe.experiment import compare
from idprobe.results import ComparisonResult

pytestmark = pytest.mark.slow

RANKING = ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr")


def _markers(out: Path) -> dict[str, float]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("stages/*.json")}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    result = compare(
        ["sid", "meta"], out, progress=False, sweeps={"oov_tokens": [3, 4]}, **TINY_OPTIONS
    )
    return out, result


def test_results_hold_every_variant_metric_and_score(compared) -> None:
    out, result = compared
    assert [v["label"] for v in result.variants] == ["sid", "meta", "meta G=3"]
    saved = json.loads((out / "results.json").read_text())
    assert saved == result.to_dict()
    for variant in result.variants:
        metrics = variant["metrics"]["sequential"]
        assert metrics["n_users"] == 60
        for name in RANKING:
            entry = metrics[name]
            assert 0.0 <= entry["value"] <= 1.0
            assert entry["low"] <= entry["value"] <= entry["high"]
        assert metrics["hr@10"]["value"] >= metrics["hr@5"]["value"]
        assert metrics["ndcg@10"]["value"] <= metrics["hr@10"]["value"]
        for stage in ("trained", "initial"):
            scores = variant["representations"][stage]
            assert scores["ds"] > 0
            # Adjusted cosine (eq. 4) and cosines both lie in [-1, 1]: a squared gap <= 4.
            assert scores["ground_truth"] == "adjusted_cosine" and 0 <= scores["ms"] <= 4
        assert variant["representations"]["trained"] != variant["representations"]["initial"]
        training = variant["training"]
        assert training["epochs"] == 1 and len(training["losses"]) == training["steps_per_epoch"]
        assert variant["ids"]["leak"]["flagged"] is False
    # The sweep's G=4 point is the main meta run (n_clusters=4): trained once, listed twice.
    (sweep,) = result.sweeps
    assert sweep["values"] == [3, 4] and sweep["labels"] == ["meta G=3", "meta"]
    assert result.variants[0]["ids"]["new_tokens"] == 0  # SID writes plain numbers


def test_significance_tests_every_variant_against_the_best(compared) -> None:
    _, result = compared
    for metric in ("hr@10", "ndcg@10"):
        tests = [t for t in result.significance if t["metric"] == metric]
        values = {v["label"]: v["metrics"]["sequential"][metric]["value"] for v in result.variants}
        best = max(values, key=values.get)
        assert {t["best"] for t in tests} == {best}
        assert sorted(t["against"] for t in tests) == sorted(set(values) - {best})
        for t in tests:
            assert t["difference"] == pytest.approx(values[best] - values[t["against"]], abs=1e-9)
            assert 0 < t["p_value"] <= 1


def test_every_figure_is_written_and_listed(compared) -> None:
    out, result = compared
    keys = [f["key"] for f in result.figures]
    expected = ["metrics", "heatmaps", "tsne_ids", "tsne_tokens", "ds_ms", "correlation"]
    expected += ["ds_convergence", "attention", "training", "id_statistics", "sweep_oov_tokens"]
    assert keys == expected
    for figure in result.figures:
        assert (out / figure["png"]).read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (out / figure["svg"]).read_bytes()[:500]
        assert figure["caption"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= len(keys)


def test_saved_config_reruns_from_cache(compared) -> None:
    out, result = compared
    again = ComparisonResult.load(out)
    assert again.to_dict() == result.to_dict()
    before = _markers(out)
    from idprobe.experiment.config import CompareConfig

    config = CompareConfig.from_toml(out / "compare.toml")
    rerun = compare(out=out, progress=False, **{**config.to_dict()})
    assert _markers(out) == before  # every stage was reused, none redone
    strip = ("provenance",)
    assert {k: v for k, v in rerun.to_dict().items() if k not in strip} == {
        k: v for k, v in result.to_dict().items() if k not in strip
    }


def test_changed_option_redoes_only_the_stages_it_feeds(tmp_path) -> None:
    out = tmp_path / "out"
    options = {**TINY_OPTIONS, "figures": False}
    compare(["sid"], out, progress=False, **options)
    before = _markers(out)
    compare(["sid"], out, progress=False, **{**options, "beams": 12})
    after = _markers(out)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"runs/sid/stages/evaluate.json"}


def test_interrupted_training_restarts_or_resumes(tmp_path) -> None:
    out = tmp_path / "out"
    options = {**TINY_OPTIONS, "figures": False, "run": {**TINY_OPTIONS["run"], "epochs": 2}}
    compare(["sid"], out, progress=False, **options)
    run = out / "runs" / "sid"
    losses = json.loads((run / "analysis" / "training.json").read_text())["losses"]
    # A kill after epoch 1: no marker, no final model, only the epoch-1 checkpoint.
    (run / "stages" / "train.json").unlink()
    shutil.rmtree(run / "model")
    checkpoints = sorted((run / "trainer").glob("checkpoint-*"))
    for late in checkpoints[1:]:
        shutil.rmtree(late)
    resumed = compare(["sid"], out, resume=True, progress=False, **options)
    record = resumed.variants[0]["training"]
    assert record["losses"] == pytest.approx(losses)  # the same run, continued
    assert record["epochs"] == 2


def _untimed(metrics: dict) -> dict:
    """The metrics without the wall-time entry, which differs from run to run."""
    return {k: v for k, v in metrics["sequential"].items() if k != "ms_per_user"}


def test_two_workers_give_the_same_results_as_one(tmp_path) -> None:
    options = {**TINY_OPTIONS, "figures": False}
    one = compare(["sid", "rid"], tmp_path / "one", progress=False, **options)
    two = compare(["sid", "rid"], tmp_path / "two", progress=False, workers=2, **options)
    for a, b in zip(one.variants, two.variants, strict=True):
        assert _untimed(a["metrics"]) == _untimed(b["metrics"])
        assert a["representations"] == b["representations"]


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigError, match=r"config: expected a key among .* found 'epochz'"):
        compare(["sid"], "unused", epochz=3)


def test_runs_without_the_sequential_task_rank_and_attend_on_direct(tmp_path) -> None:
    options = {**TINY_OPTIONS, "run": {**TINY_OPTIONS["run"], "tasks": ["direct", "rating"]}}
    result = compare(["sid"], tmp_path / "out", progress=False, **options)
    assert result.tasks == ["direct", "rating"]
    assert {t["task"] for t in result.significance} <= {"direct"}
    attention = json.loads(
        (tmp_path / "out" / "runs" / "sid" / "analysis" / "attention.json").read_text()
    )
    assert [m["task"] for m in attention["maps"]] == ["direct"]
    assert "rmse" in result.variants[0]["metrics"]["rating"]
