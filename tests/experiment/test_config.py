"""CompareConfig: defaults, validation (one test per error), TOML round trip, variants and sweeps."""

from __future__ import annotations

import pytest

from idprobe.errors import ConfigError
from idprobe.experiment.config import CompareConfig, set_option, stable_hash


def test_defaults_expand_to_one_run_per_strategy() -> None:
    config = CompareConfig()
    variants, sweeps = config.variants()
    assert [v.label for v in variants] == ["rid", "sid", "cid", "iid", "meta"]
    assert [v.settings.strategy for v in variants] == list(config.strategies)
    assert {v.settings.seed for v in variants} == {0}
    assert sweeps == []
    assert config.ranking_task == "sequential"


def test_shared_run_settings_and_strategy_params_reach_each_run() -> None:
    config = CompareConfig(
        strategies=["sid", "meta"],
        run={"epochs": 2, "backbone": "llama-tiny"},
        strategy_params={"meta": {"n_clusters": 8}},
        seed=3,
        threads=2,
    )
    sid, meta = config.variants()[0]
    assert sid.settings.epochs == meta.settings.epochs == 2
    assert sid.settings.backbone == "llama-tiny"
    assert dict(meta.settings.strategy_params) == {"n_clusters": 8}
    assert dict(sid.settings.strategy_params) == {}
    assert meta.settings.seed == 3 and meta.settings.threads == 2


def test_toml_round_trip_gives_the_same_config(tmp_path) -> None:
    config = CompareConfig(
        strategies=("rid", "meta"),
        dataset="synthetic",
        data_options={"n_users": 50},
        strategy_params={"meta": {"n_clusters": 8, "walk_length": 16}},
        run={"epochs": 1, "tasks": ["sequential"]},
        sweeps={"oov_tokens": [4, 8], "init": ["random", "embedding"]},
        eval_users=None,
        title="a <b>title</b>",
    )
    path = tmp_path / "compare.toml"
    path.write_text(config.to_toml())
    assert CompareConfig.from_toml(path) == config


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_sweep_points_reuse_identical_runs(seed: int) -> None:
    config = CompareConfig(
        strategies=("rid", "meta"),
        strategy_params={"meta": {"n_clusters": 8}},
        sweeps={"oov_tokens": [4, 8], "init": ["random", "embedding"], "indexing": ["items"]},
        seed=seed,
    )
    variants, sweeps = config.variants()
    labels = [v.label for v in variants]
    assert labels == [
        "rid",
        "meta",
        "meta G=4",
        "rid init=random",
        "meta init=random",
        "meta index=items",
    ]
    oov, init, indexing = sweeps
    # G=8 is the main meta run; "embedding" is every strategy's default initialisation.
    assert oov.labels == ("meta G=4", "meta")
    assert init.labels == ("rid init=random", "rid", "meta init=random", "meta")
    assert indexing.labels == ("meta index=items",)
    assert len({v.slug for v in variants}) == len(variants)
    random_meta = next(v for v in variants if v.label == "meta init=random").settings
    assert (random_meta.augment, random_meta.init, random_meta.numeric_reinit) == (
        "off",
        "normal",
        "normal",
    )
    both = CompareConfig(strategies=("meta",), sweeps={"indexing": ["both"]}).variants()[0]
    assert both[1].settings.user_scheme == "strategy"
    # A default spelled out is the same run: grouping=kmeans is META ID's main run.
    grouping = CompareConfig(strategies=("meta",), sweeps={"grouping": ["kmeans", "dbscan"]})
    assert grouping.variants()[1][0].labels == ("meta", "meta grouping=dbscan")


def test_set_option_routes_keys() -> None:
    values: dict = {}
    set_option(values, "meta.n_clusters", 50)
    set_option(values, "epochs", 3)
    set_option(values, "eval_users", 100)
    assert values == {
        "strategy_params": {"meta": {"n_clusters": 50}},
        "run": {"epochs": 3},
        "eval_users": 100,
    }
    assert CompareConfig.from_dict(values).variants()[0][-1].settings.strategy_params == {
        "n_clusters": 50
    }


def test_stable_hash_ignores_key_order_and_sees_values() -> None:
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})
    assert stable_hash({"a": 1}) != stable_hash({"a": 2})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategies": []}, "strategies: expected a non-empty list"),
        ({"strategies": ["nope"]}, "strategies: expected one of"),
        ({"strategies": ["rid", "rid"]}, "strategies: expected each strategy once"),
        ({"strategy_params": {"nope": {}}}, "strategy_params: expected keys among"),
        ({"strategy_params": {"meta": 3}}, "strategy_params.meta: expected a table"),
        ({"run": {"seed": 1}}, "run.seed: expected a key set at the top level"),
        ({"run": {"epochz": 1}}, "settings: expected a key among"),
        ({"sweeps": {"depth": [1]}}, "sweeps: expected one of"),
        ({"sweeps": {"oov_tokens": []}}, "sweeps.oov_tokens: expected a non-empty list"),
        ({"sweeps": {"oov_tokens": [1]}}, "sweeps.oov_tokens: expected integers >= 2"),
        ({"sweeps": {"indexing": ["all"]}}, "sweeps.indexing: expected one of"),
        ({"sweeps": {"init": ["zeros"]}}, "sweeps.init: expected one of"),
        ({"sweeps": {"grouping": ["hdbscan"]}}, "sweeps.grouping: expected one of"),
        ({"ds_method": "fast"}, "ds_method: expected one of"),
        ({"ground_truth": "truth"}, "ground_truth: expected one of"),
        ({"beams": 0}, "beams: expected an integer >= 1"),
        ({"workers": 0}, "workers: expected an integer >= 1"),
        ({"eval_users": 0}, "eval_users: expected an integer >= 1 or none"),
        ({"attention_users": -1}, "attention_users: expected an integer >= 0"),
        ({"heatmap_items": 1}, "heatmap_items: expected an integer >= 2"),
        ({"strategy_params": {"meta": {"n_clusterz": 3}}}, "n_clusterz"),
    ],
)
def test_bad_config_names_the_knob(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        CompareConfig(**kwargs)


def test_unknown_key_and_bad_toml_are_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"config: expected a key among .* found 'epochz'"):
        CompareConfig.from_dict({"epochz": 1})
    with pytest.raises(ConfigError, match="config: expected an existing TOML file"):
        CompareConfig.from_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("strategies = [\n")
    with pytest.raises(ConfigError, match="config: expected valid TOML in"):
        CompareConfig.from_toml(bad)


def test_set_option_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match=r"--set: expected STRATEGY.PARAM with a strategy among"):
        set_option({}, "nope.n_clusters", 1)
    with pytest.raises(ConfigError, match=r"--set: expected STRATEGY.PARAM or a key among"):
        set_option({}, "epochz", 1)


def test_ms_ground_truth_is_bounded_unless_asked_otherwise() -> None:
    assert CompareConfig().ms_ground_truth(has_ratings=True) == "adjusted_cosine"
    assert CompareConfig().ms_ground_truth(has_ratings=False) == "cooccurrence_cosine"
    chosen = CompareConfig(ground_truth="dev_devs")
    assert chosen.ms_ground_truth(has_ratings=True) == "dev_devs"
