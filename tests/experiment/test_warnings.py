"""The warnings a comparison attaches to its results: cold targets, collisions, leaks, samples."""

from __future__ import annotations

from types import SimpleNamespace

from idprobe.experiment.compare import _warnings
from idprobe.experiment.config import CompareConfig


def _entry(label: str, *, violations: int = 0, flagged: bool = False) -> dict:
    items = {"prefix_violations": violations}
    leak = {"flagged": flagged, "rate": 0.31, "chance": 0.0006, "reference": 0.16, "rule": "r"}
    return {"label": label, "ids": {"items": items, "users": None, "leak": leak}}


def test_clean_comparison_has_no_warnings() -> None:
    split = SimpleNamespace(cold_test_targets=0)
    assert _warnings([_entry("sid"), _entry("meta")], CompareConfig(), split) == []


def test_each_problem_gets_one_warning_naming_its_run() -> None:
    split = SimpleNamespace(cold_test_targets=33)
    config = CompareConfig(eval_users=500)
    entries = [_entry("cid", violations=4), _entry("leaky", flagged=True), _entry("meta")]
    warnings = _warnings(entries, config, split)
    assert [(w["kind"], w["variant"]) for w in warnings] == [
        ("cold_targets", None),
        ("collisions", "cid"),
        ("leak", "leaky"),
        ("other", None),
    ]
    assert warnings[0]["message"].startswith("33 test targets never occur")
    assert "4 item IDs are a prefix" in warnings[1]["message"]
    assert "31.0% of users" in warnings[2]["message"]
    assert "16.0%" in warnings[2]["message"] and "0.1%" in warnings[2]["message"]
    assert "500 users" in warnings[3]["message"]


def _baseline(label: str, recipe: dict | None) -> dict:
    return {"label": label, "kind": "baseline", "ids": None, "recipe": recipe}


def test_a_baseline_without_recipe_says_so_and_has_no_id_checks(tmp_path) -> None:
    split = SimpleNamespace(cold_test_targets=0)
    (tmp_path / "my-shop").mkdir()
    # Recipes are filed under the data directory's name: the warning names it that way.
    dataset = str(tmp_path / "my-shop")
    config = CompareConfig(strategies=["sid"], dataset=dataset, baselines=["sasrec"])
    recipe = {"dataset": "synthetic", "published": {"hr@10": 0.1}}
    entries = [_entry("sid"), _baseline("sasrec", None), _baseline("pop", recipe)]
    warnings = _warnings(entries, config, split)
    assert warnings == [
        {
            "variant": "sasrec",
            "kind": "no_recipe",
            "message": "sasrec: no recipe for dataset my-shop: model defaults used",
        }
    ]
