"""ComparisonResult: the results.json of `idprobe compare` as an object (round trip, checks, views)."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from idprobe.errors import ConfigError
from idprobe.results import COMPARISON_SCHEMA, ComparisonResult, Provenance

SAMPLE = Path(__file__).resolve().parent / "reporting" / "data" / "results.json"
# Two classic baselines as compare writes them (sasrec: best hr@10 of all; pop: worst).
BASELINES = SAMPLE.parent / "baselines.json"
XSS = '<script>alert(1)</script> "quotes" & ampersands'


@pytest.fixture
def data() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def result(data) -> ComparisonResult:
    return ComparisonResult.from_dict(data)


@pytest.fixture
def with_baselines(data) -> dict:
    data["variants"] += json.loads(BASELINES.read_text(encoding="utf-8"))
    return data


def test_round_trip_is_exact(data, result):
    assert result.to_dict() == data
    assert ComparisonResult.from_dict(result.to_dict()) == result
    assert isinstance(result.provenance, Provenance)
    assert result.provenance.git == "d267b99+dirty", "loaded provenance is the file's, not ours"


def test_to_dict_is_a_copy(result):
    out = result.to_dict()
    out["variants"][0]["label"] = "changed"
    out["provenance"]["config"]["epochs"] = 99
    assert result.variants[0]["label"] == "rid"
    assert result.provenance.config["epochs"] == 3


def test_save_then_load(tmp_path, result, data):
    path = result.save(tmp_path / "out")
    assert path == tmp_path / "out" / "results.json"
    assert json.loads(path.read_text()) == data
    loaded = ComparisonResult.load(tmp_path / "out")
    assert loaded == result
    assert loaded.directory == tmp_path / "out"
    assert ComparisonResult.load(path).directory == tmp_path / "out", "the JSON file path works too"
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"], "no temp file left"


def test_load_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match=r"results\.json: expected .*, found no such file"):
        ComparisonResult.load(tmp_path)


def test_load_bad_json_gives_the_line(tmp_path):
    (tmp_path / "results.json").write_text(
        '{\n  "schema": "idprobe.comparison/1",\n  "title": ,\n}'
    )
    with pytest.raises(ConfigError) as info:
        ComparisonResult.load(tmp_path)
    assert info.value.parameter == f"{tmp_path / 'results.json'}:3"
    assert "expected valid JSON" in str(info.value)
    assert "column" in str(info.value)


def test_load_not_utf8(tmp_path):
    (tmp_path / "results.json").write_bytes(b'{"title": "\xff"}')
    with pytest.raises(ConfigError, match="readable UTF-8 JSON"):
        ComparisonResult.load(tmp_path)


def test_load_schema_error_names_file_and_key(tmp_path, data):
    data["schema"] = "idprobe.comparison/2"
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError) as info:
        ComparisonResult.load(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'results.json'}: schema: expected ")
    assert COMPARISON_SCHEMA in message and "idprobe.comparison/2" in message


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (
            lambda d: d.pop("schema"),
            r"^schema: expected 'idprobe\.comparison/1', found no 'schema'",
        ),
        (lambda d: d.pop("variants"), r"^variants: expected a JSON array \(a required key\)"),
        (lambda d: d.pop("warnings"), r"^warnings: expected a JSON array"),
        (lambda d: d.update(title=3), r"^title: expected a string, found int"),
        (lambda d: d.update(dataset=[]), r"^dataset: expected a JSON object, found a JSON array"),
        (lambda d: d.update(extra=1), r"^key: expected one of 'schema', 'title'.*found 'extra'"),
        (lambda d: d["provenance"].pop("git"), r"^provenance\.git: expected a value"),
        (lambda d: d["provenance"].update(host="x"), r"^provenance key: expected one of .*'host'"),
        (
            lambda d: d["provenance"].update(config=None),
            r"^provenance\.config: expected a JSON obj",
        ),
        (lambda d: d["variants"][1].pop("label"), r"^variants\[1\]\.label: expected a non-empty"),
        (
            lambda d: d["variants"][2].update(label="rid"),
            r"^variants\[2\]\.label: expected a label",
        ),
        (lambda d: d["variants"].append(3), r"^variants\[4\]\.label: .*found int"),
        (lambda d: d["figures"].append("x.png"), r"^figures\[3\]: expected a JSON object"),
    ],
)
def test_from_dict_rejects(data, change, pattern):
    change(data)
    with pytest.raises(ConfigError, match=pattern):
        ComparisonResult.from_dict(data)


def test_from_dict_rejects_non_object():
    with pytest.raises(ConfigError, match=r"^results: expected a JSON object, found a JSON array"):
        ComparisonResult.from_dict([])


def test_to_frame_matches_the_dict(result, data):
    frame = result.to_frame()
    assert list(frame.index) == ["rid", "sid", "meta G=20", "meta"]
    assert frame.index.name == "variant"
    assert list(frame.columns[:5]) == [
        f"sequential/{m}" for m in ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr")
    ]
    assert list(frame.columns[-6:]) == [
        "ds",
        "ms",
        "ds_initial",
        "ms_initial",
        "new_tokens",
        "kind",
    ]
    assert "sequential/n_users" not in frame.columns, "counts are not metrics"
    assert {str(dtype) for dtype in frame.drop(columns="kind").dtypes} == {"float64"}
    assert list(frame["kind"]) == ["strategy"] * 4, "no kind in the file: every run a strategy"
    for variant in data["variants"]:
        row = frame.loc[variant["label"]]
        for task, table in variant["metrics"].items():
            for name, entry in table.items():
                if isinstance(entry, dict):
                    assert row[f"{task}/{name}"] == entry["value"]
        reps = variant["representations"]
        assert row["ds"] == reps["trained"]["ds"] and row["ms"] == reps["trained"]["ms"]
        assert row["ds_initial"] == reps["initial"]["ds"]
        assert row["ms_initial"] == reps["initial"]["ms"]
        assert row["new_tokens"] == variant["ids"]["new_tokens"]


def test_to_frame_missing_values_are_nan(data):
    data["variants"][0]["metrics"]["sequential"]["mrr"]["value"] = None
    del data["variants"][1]["representations"]
    del data["variants"][1]["metrics"]["rating"]
    frame = ComparisonResult.from_dict(data).to_frame()
    assert math.isnan(frame.loc["rid", "sequential/mrr"])
    assert math.isnan(frame.loc["sid", "ds"]) and math.isnan(frame.loc["sid", "rating/rmse"])


def test_best_higher_and_lower_is_better(result):
    assert result.best("sequential", "ndcg@10") == "meta"
    assert result.best("sequential", "hr@10") == "meta"
    # meta has the *highest* rmse and mae: a max() here would be wrong.
    assert result.best("rating", "rmse") == "sid"
    assert result.best("rating", "mae") == "sid"


def test_best_skips_missing_and_breaks_ties_by_order(data):
    for variant in data["variants"]:
        variant["metrics"]["sequential"]["mrr"]["value"] = 0.5
    data["variants"][0]["metrics"]["sequential"]["mrr"]["value"] = None
    assert ComparisonResult.from_dict(data).best("sequential", "mrr") == "sid"
    for variant in data["variants"]:
        variant["metrics"]["sequential"]["mrr"]["value"] = None
    assert ComparisonResult.from_dict(data).best("sequential", "mrr") is None


def test_best_unknown_task_or_metric(result):
    with pytest.raises(
        ConfigError, match=r"^task: expected one of 'sequential', 'rating', found 'seq'"
    ):
        result.best("seq", "ndcg@10")
    with pytest.raises(ConfigError, match=r"^metric: expected one of 'hr@5'.*found 'ndcg10'"):
        result.best("sequential", "ndcg10")


def test_views(result):
    assert result.labels == ["rid", "sid", "meta G=20", "meta"]
    assert result.tasks == ["sequential", "rating"]
    assert result.main_metrics("sequential") == ["hr@10", "ndcg@10"]
    assert result.main_metrics("rating") == ["rmse", "mae"]
    assert result.variant("sid")["strategy"] == "sid"
    with pytest.raises(ConfigError, match=r"^label: expected one of 'rid'.*found 'nope'"):
        result.variant("nope")


def test_repr_html_bolds_best_and_escapes(data):
    data["title"] = XSS
    data["variants"][3]["label"] = XSS
    data["significance"] = []
    data["sweeps"] = []
    html = ComparisonResult.from_dict(data)._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; ampersands" in html
    assert "<td><b>0.0285</b></td>" in html, "meta's ndcg@10 is the best"
    assert "<td><b>0.9871</b></td>" in html, "sid's rmse is the lowest"
    assert "<td>1.0502</td>" in html
    assert "http" not in html and "<link" not in html


def test_repr_is_short(result, tmp_path):
    text = repr(result)
    assert (
        text
        == "ComparisonResult('rid, sid, meta on synthetic', variants=[rid, sid, meta G=20, meta])"
    )
    result.save(tmp_path)
    assert repr(ComparisonResult.load(tmp_path)).endswith(f"directory={str(tmp_path)!r})")


def test_results_module_imports_without_pandas_or_torch():
    code = "import sys, idprobe.results; print(sorted({'pandas', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_copy_of_sample_is_independent(data):
    # from_dict deep-copies: changing the input afterwards leaves the result as it was.
    source = copy.deepcopy(data)
    result = ComparisonResult.from_dict(source)
    source["variants"][0]["label"] = "changed"
    assert result.labels[0] == "rid"


def test_to_text_marks_the_best_per_column(result):
    lines = result.to_text().splitlines()
    assert lines[0] == result.title
    header, *rows = lines[1:]
    assert header.split()[:1] == ["variant"] and "DS" in header and "MS" in header
    assert [row.split()[0] for row in rows] == [label.split()[0] for label in result.labels]
    best = result.best("sequential", "ndcg@10")
    best_row = rows[result.labels.index(best)]
    value = result.value(best, "sequential", "ndcg@10")
    assert f"{value:.4f}*" in best_row
    assert sum(f"{value:.4f}*" in r for r in rows) == 1


# -- Classic baselines ---------------------------------------------------------------------------


def test_old_results_without_kind_load_as_strategies(data):
    assert all("kind" not in variant for variant in data["variants"]), "the sample predates kinds"
    result = ComparisonResult.from_dict(data)
    assert [result.kind(label) for label in result.labels] == ["strategy"] * 4
    assert result.baselines == []
    assert result.to_dict() == data, "nothing is added on load: the file round-trips as it was"


def test_baselines_round_trip_and_kinds(with_baselines):
    result = ComparisonResult.from_dict(with_baselines)
    assert result.to_dict() == with_baselines
    assert result.labels[-2:] == ["sasrec", "pop"]
    assert result.baselines == ["sasrec", "pop"]
    assert result.kind("sasrec") == "baseline" and result.kind("meta") == "strategy"
    assert result.tasks == ["sequential", "rating"], "baselines add no task"


def test_bad_kind_is_named(with_baselines):
    with_baselines["variants"][4]["kind"] = "classic"
    with pytest.raises(ConfigError, match=r"^variants\[4\]\.kind: expected one of 'strategy', 'ba"):
        ComparisonResult.from_dict(with_baselines)


def test_best_may_be_a_baseline(with_baselines):
    result = ComparisonResult.from_dict(with_baselines)
    assert result.best("sequential", "hr@10") == "sasrec"
    assert result.best("sequential", "hr@10", kind="strategy") == "meta"
    assert result.best("sequential", "ndcg@10") == "meta"
    assert result.best("sequential", "ndcg@10", kind="baseline") == "sasrec"
    # Baselines have no rating metrics: they never win (nor break) the rating columns.
    assert result.best("rating", "rmse") == "sid"
    assert result.best("rating", "rmse", kind="baseline") is None
    with pytest.raises(ConfigError, match=r"^kind: expected one of 'strategy', 'baseline'"):
        result.best("sequential", "hr@10", kind="classic")


def test_to_frame_with_baselines(with_baselines):
    frame = ComparisonResult.from_dict(with_baselines).to_frame()
    assert list(frame.index) == ["rid", "sid", "meta G=20", "meta", "sasrec", "pop"]
    assert list(frame["kind"]) == ["strategy"] * 4 + ["baseline"] * 2
    assert frame.loc["sasrec", "sequential/hr@10"] == 0.0602
    for column in ("ds", "ms", "ds_initial", "ms_initial", "new_tokens", "rating/rmse"):
        assert math.isnan(frame.loc["sasrec", column]) and math.isnan(frame.loc["pop", column])
    assert {str(dtype) for dtype in frame.drop(columns="kind").dtypes} == {"float64"}


def test_to_text_and_html_mark_baselines(with_baselines):
    result = ComparisonResult.from_dict(with_baselines)
    rows = result.to_text().splitlines()[2:]
    sasrec, pop = rows[-2:]
    assert sasrec.startswith("sasrec (baseline)") and pop.startswith("pop (baseline)")
    assert "0.0602*" in sasrec, "the best hr@10 is a baseline's"
    assert sasrec.split()[-2:] == ["–", "–"], "no DS, no MS"
    assert not any("(baseline)" in row for row in rows[:-2])
    html = result._repr_html_()
    assert "<th>sasrec <small>(baseline)</small></th><td><b>0.0602</b></td>" in html
    assert "<th>meta</th>" in html
