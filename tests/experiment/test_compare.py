"""compare() end to end on tiny data: results, figures, report, caching, resume, workers, and
the classic baselines beside the strategies."""

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
# A SASRec of one narrow block for two epochs: trains in well under a second.
TINY_SASREC = {"hidden_size": 16, "layers": 1, "heads": 1, "inner_size": 32, "epochs": 2}
TINY_BASELINES = {"baselines": ["pop", "sasrec"], "baseline_params": {"sasrec": TINY_SASREC}}


def _markers(out: Path) -> dict[str, float]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("stages/*.json")}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    result = compare(
        ["sid", "meta"],
        out,
        progress=False,
        sweeps={"oov_tokens": [3, 4]},
        **TINY_BASELINES,
        **TINY_OPTIONS,
    )
    return out, result


def _strategies(result: ComparisonResult) -> list[dict]:
    return [v for v in result.variants if v["kind"] == "strategy"]


def test_results_hold_every_variant_metric_and_score(compared) -> None:
    out, result = compared
    labels = ["sid", "meta", "meta G=3", "pop", "sasrec"]
    assert [v["label"] for v in result.variants] == labels
    assert [v["kind"] for v in result.variants] == ["strategy"] * 3 + ["baseline"] * 2
    saved = json.loads((out / "results.json").read_text())
    assert saved == result.to_dict()
    for variant in _strategies(result):
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
        assert {"pop", "sasrec"} <= set(values), "baselines are tested like the strategies"
        best = max(values, key=values.get)
        assert {t["best"] for t in tests} == {best}
        assert result.best("sequential", metric) in {best, *values}
        assert sorted(t["against"] for t in tests) == sorted(set(values) - {best})
        for t in tests:
            assert t["difference"] == pytest.approx(values[best] - values[t["against"]], abs=1e-9)
            assert 0 < t["p_value"] <= 1
            assert t["n_users"] == 60, "baselines are paired with the strategies user by user"


def test_baselines_train_once_beside_the_strategies(compared) -> None:
    out, result = compared
    pop, sasrec = (result.variant(name) for name in ("pop", "sasrec"))
    for entry, name in ((pop, "pop"), (sasrec, "sasrec")):
        assert entry["kind"] == "baseline" and entry["model"] == name == entry["slug"]
        assert entry["strategy"] is None and entry["ids"] is None
        assert entry["representations"] is None
        assert set(entry["metrics"]) == {"sequential"}, "baselines rank the sequential task only"
        metrics = entry["metrics"]["sequential"]
        assert metrics["n_users"] == 60
        for metric in RANKING:
            assert metrics[metric]["low"] <= metrics[metric]["value"] <= metrics[metric]["high"]
        # The comparison's data, seed and threads; the recipe of the synthetic data.
        settings = entry["settings"]
        assert settings["data_options"] == TINY_OPTIONS["data_options"]
        assert (settings["seed"], settings["threads"]) == (0, 1)
        assert entry["recipe"]["path"] == f"baselines/recipes/synthetic/{name}.toml"
        assert entry["recipe_dataset_matches"] is True
        assert entry["description"]
        run = out / "runs" / name
        for file in ("settings.json", "model.pt", "history.json", "metrics.json"):
            assert (run / file).exists(), file
        assert (run / "predictions" / "test-sequential.npz").exists()
        assert entry["training"] == json.loads((run / "history.json").read_text())
    assert pop["training"]["stopped"] == "no training" and pop["training"]["epochs"] == 0
    assert sasrec["settings"]["epochs"] == 2 and sasrec["settings"]["params"]["hidden_size"] == 16
    assert sasrec["training"]["epochs"] == 2 and len(sasrec["training"]["losses"]) == 2
    assert result.setup["baselines"] == "pop, sasrec"
    assert result.title == "sid, meta, pop, sasrec on synthetic"
    # Figures are the strategies' only: no figure names a baseline.
    for figure in result.figures:
        assert "sasrec" not in json.dumps(figure)
    frame = result.to_frame()
    assert list(frame["kind"]) == ["strategy"] * 3 + ["baseline"] * 2


def test_report_lists_the_baselines(compared) -> None:
    out, _ = compared
    html = (out / "report.html").read_text()
    tag = '<span class="tag">baseline</span>'
    results = html[html.index('<section id="results">') :]
    results = results[: results.index("</section>")]
    for name in ("pop", "sasrec"):
        assert f'<th scope="row">{name} {tag}</th>' in results
        assert f'<article class="baseline" id="baseline-{name}">' in html
    assert "<h2>Classic baselines</h2>" in html
    assert "<td>baselines/recipes/synthetic/sasrec.toml</td>" in html
    assert "<td>2 epochs of at most 2, stopped by" in html


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
    assert {"runs/sasrec/stages/train.json", "runs/pop/stages/evaluate.json"} <= set(before)
    models = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/model.pt")}
    assert len(models) == 2, "the baselines' weights"
    from idprobe.experiment.config import CompareConfig

    config = CompareConfig.from_toml(out / "compare.toml")
    assert config.baselines == ("pop", "sasrec")
    rerun = compare(out=out, progress=False, **{**config.to_dict()})
    assert _markers(out) == before  # every stage was reused, none redone
    assert {p: p.stat().st_mtime_ns for p in models} == models, "no baseline retrained"
    strip = ("provenance",)
    assert {k: v for k, v in rerun.to_dict().items() if k not in strip} == {
        k: v for k, v in result.to_dict().items() if k not in strip
    }


def test_changed_option_redoes_only_the_stages_it_feeds(tmp_path) -> None:
    out = tmp_path / "out"
    options = {**TINY_OPTIONS, **TINY_BASELINES, "figures": False}
    compare(["sid"], out, progress=False, **options)
    before = _markers(out)
    model = (out / "runs" / "sasrec" / "model.pt").stat().st_mtime_ns
    first = json.loads((out / "runs" / "sasrec" / "metrics.json").read_text())
    compare(["sid"], out, progress=False, **{**options, "beams": 12})
    after = _markers(out)
    changed = {k for k in before if before[k] != after[k]}
    # beams (the baselines' rank depth) re-evaluates every run; nothing retrains.
    assert changed == {
        "runs/sid/stages/evaluate.json",
        "runs/pop/stages/evaluate.json",
        "runs/sasrec/stages/evaluate.json",
    }
    assert (out / "runs" / "sasrec" / "model.pt").stat().st_mtime_ns == model
    metrics = json.loads((out / "runs" / "sasrec" / "metrics.json").read_text())
    assert metrics["provenance"]["config"]["depth"] == 12
    assert metrics["tasks"]["sequential"]["hr@10"] == first["tasks"]["sequential"]["hr@10"]
    # A baseline's own parameter retrains that baseline only.
    params = {"sasrec": {**TINY_SASREC, "epochs": 1}}
    compare(["sid"], out, progress=False, **{**options, "beams": 12, "baseline_params": params})
    again = _markers(out)
    changed = {k for k in after if after[k] != again[k]}
    assert changed == {"runs/sasrec/stages/train.json", "runs/sasrec/stages/evaluate.json"}
    history = json.loads((out / "runs" / "sasrec" / "history.json").read_text())
    assert history["epochs"] == 1


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


def test_interrupted_baseline_restarts_or_resumes(tmp_path) -> None:
    out = tmp_path / "out"
    options = {**TINY_OPTIONS, **TINY_BASELINES, "baselines": ["sasrec"], "figures": False}
    compare(["sid"], out, progress=False, **options)
    run = out / "runs" / "sasrec"
    history = json.loads((run / "history.json").read_text())
    # A kill before the stage finished: no marker; the checkpoint of the last epoch is there.
    (run / "stages" / "train.json").unlink()
    (run / "history.json").unlink()
    checkpoint = (run / "checkpoint.pt").stat().st_mtime_ns
    resumed = compare(["sid"], out, resume=True, progress=False, **options)
    assert resumed.variant("sasrec")["training"]["losses"] == pytest.approx(history["losses"])
    assert (run / "checkpoint.pt").stat().st_mtime_ns == checkpoint, "continued, not redone"
    # Without --resume the interrupted baseline starts over, from an empty directory.
    (run / "stages" / "train.json").unlink()
    (run / "stray.txt").write_text("left from the killed run")
    compare(["sid"], out, progress=False, **options)
    assert not (run / "stray.txt").exists()
    assert (run / "checkpoint.pt").stat().st_mtime_ns != checkpoint
    assert json.loads((run / "history.json").read_text())["losses"] == pytest.approx(
        history["losses"]
    )


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


def test_bad_baseline_fails_before_anything_runs(tmp_path) -> None:
    out = tmp_path / "out"
    bad = {"sasrec": {**TINY_SASREC, "hidden_sise": 8}}
    with pytest.raises(ConfigError, match=r"baseline_params\.sasrec\.hidden_sise"):
        compare(["sid"], out, baselines=["sasrec"], baseline_params=bad, **TINY_OPTIONS)
    assert not out.exists(), "nothing trained, nothing written"


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
