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
        ({"baselines": ["nope"]}, "baselines: expected one of 'pop', 'sasrec'"),
        ({"baselines": ["pop", "pop"]}, "baselines: expected each baseline once"),
        (
            {"baselines": ["pop"], "run": {"tasks": ["direct", "rating"]}},
            "baselines: expected none when the runs do not train the sequential task "
            "(baselines only rank the sequential task",
        ),
        ({"baseline_params": {"nope": {}}}, "baseline_params: expected keys among pop, sasrec"),
        ({"baseline_params": {"sasrec": 3}}, "baseline_params.sasrec: expected a table"),
        ({"baseline_params": [1]}, "baseline_params: expected a table per baseline"),
        (
            {"baseline_params": {"sasrec": {"hidden_sizez": 8}}},
            "baseline_params.sasrec.hidden_sizez: expected a sasrec parameter among hidden_size",
        ),
        (
            {"baseline_params": {"sasrec": {"params": {"hidden_sizez": 8}}}},
            "baseline_params.sasrec.hidden_sizez: expected a sasrec parameter",
        ),
        ({"baseline_params": {"sasrec": {"params": 8}}}, "baseline_params.sasrec.params: exp"),
        (
            {"baseline_params": {"sasrec": {"hidden_size": 10, "heads": 3}}},
            "baseline_params.sasrec.heads: expected a divisor of hidden_size 10",
        ),
        ({"baseline_params": {"gru4rec": {"epochs": 0}}}, "baseline_params.gru4rec.epochs: exp"),
        ({"baseline_params": {"pop": {"select_on": "auc"}}}, "baseline_params.pop.select_on"),
        *(
            (
                {"baseline_params": {"sasrec": {key: 1}}},
                f"baseline_params.sasrec.{key}: expected a key set by the comparison",
            )
            for key in ("dataset", "data_format", "data_options", "k_core", "seed", "threads")
        ),
        (
            {"baseline_params": {"sasrec": {"model": "pop"}}},
            "baseline_params.sasrec.model: expected a key set by the comparison",
        ),
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
    with pytest.raises(ConfigError, match=r"--set: expected STRATEGY.PARAM or a key among") as info:
        set_option({}, "epochz", 1)
    assert "(or BASELINE.KEY with a baseline among pop, sasrec" in str(info.value)


def test_ms_ground_truth_is_bounded_unless_asked_otherwise() -> None:
    assert CompareConfig().ms_ground_truth(has_ratings=True) == "adjusted_cosine"
    assert CompareConfig().ms_ground_truth(has_ratings=False) == "cooccurrence_cosine"
    chosen = CompareConfig(ground_truth="dev_devs")
    assert chosen.ms_ground_truth(has_ratings=True) == "dev_devs"


# ------------------------------------------------------------------------------ baselines


def test_baselines_take_the_comparisons_data_seed_and_threads() -> None:
    config = CompareConfig(
        strategies=["rid"],
        data_options={"n_users": 50},
        k_core=2,
        seed=4,
        threads=2,
        baselines=["pop", "sasrec"],
        baseline_params={"sasrec": {"epochs": 2, "hidden_size": 16, "params": {"layers": 1}}},
    )
    assert config.baselines == ("pop", "sasrec")
    settings, recipe = config.baseline_settings("sasrec")
    assert settings.model == "sasrec" and settings.dataset == "synthetic"
    assert dict(settings.data_options) == {"n_users": 50} and settings.k_core == 2
    assert (settings.seed, settings.threads, settings.epochs) == (4, 2, 2)
    assert settings.params["hidden_size"] == 16 and settings.params["layers"] == 1
    # The synthetic data's recipe fills in what baseline_params leave open.
    assert recipe is not None and recipe.dataset == "synthetic"
    for key, value in recipe.settings.items():
        if key != "epochs":
            assert getattr(settings, key) == value
    pop, _ = config.baseline_settings("pop")
    assert pop.model == "pop" and dict(pop.params) == {}
    # No baseline: the comparison as before.
    assert CompareConfig(strategies=["rid"]).baselines == ()


def test_a_dataset_without_recipe_gives_model_defaults(tmp_path) -> None:
    from baselines import BaselineSettings

    config = CompareConfig(strategies=["rid"], dataset=str(tmp_path), baselines=["sasrec"])
    settings, recipe = config.baseline_settings("sasrec")
    assert recipe is None
    assert settings.epochs == BaselineSettings().epochs
    assert settings.params == {}


def test_toml_round_trip_with_baselines(tmp_path) -> None:
    config = CompareConfig(
        strategies=("rid",),
        baselines=("pop", "sasrec"),
        baseline_params={"sasrec": {"epochs": 2, "hidden_size": 16}, "gru4rec": {"layers": 2}},
    )
    assert config.to_dict()["baselines"] == ["pop", "sasrec"]
    path = tmp_path / "compare.toml"
    path.write_text(config.to_toml())
    assert CompareConfig.from_toml(path) == config
    assert CompareConfig.from_dict(config.to_dict()) == config


def test_baselines_cannot_take_a_compared_runs_name(monkeypatch) -> None:
    from idprobe.ids import base

    # A plug-in strategy may have a baseline's name; both would write OUT/runs/pop.
    monkeypatch.setitem(base._REGISTRY, "pop", base._REGISTRY["rid"])
    with pytest.raises(ConfigError, match="baselines: expected names other than"):
        CompareConfig(strategies=["rid", "pop"], baselines=["pop"])


def test_set_option_routes_baseline_keys() -> None:
    values: dict = {"baselines": ["sasrec"]}
    set_option(values, "sasrec.hidden_size", 32)
    set_option(values, "sasrec.epochs", 3)
    set_option(values, "pop.patience", 2)
    set_option(values, "meta.n_clusters", 8)
    assert values["baseline_params"] == {
        "sasrec": {"hidden_size": 32, "epochs": 3},
        "pop": {"patience": 2},
    }
    assert values["strategy_params"] == {"meta": {"n_clusters": 8}}
    config = CompareConfig.from_dict(values)
    settings, _ = config.baseline_settings("sasrec")
    assert settings.epochs == 3 and settings.params["hidden_size"] == 32
    with pytest.raises(ConfigError, match=r"BASELINE.KEY with a baseline among pop, sasrec"):
        set_option({}, "sasrek.hidden_size", 1)
    with pytest.raises(ConfigError, match=r"--set: expected a parameter name after sasrec\."):
        set_option({}, "sasrec.", 1)
    # The key itself is checked when the config is built, naming the baseline.
    set_option(values, "sasrec.hidden_sise", 32)
    with pytest.raises(ConfigError, match=r"baseline_params\.sasrec\.hidden_sise"):
        CompareConfig.from_dict(values)
