"""Baseline names, settings, hyper-parameters and recipe files: defaults, precedence, every error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from baselines import (
    MODELS,
    BaselineSettings,
    check_model,
    find_recipe,
    list_recipes,
    load_recipe,
    model_params,
    resolve_settings,
)
from baselines.recipes import dataset_key
from idprobe.errors import ConfigError

PUBLISHED_BEAUTY = {  # META ID paper, Table 1, Beauty column
    "sasrec": (0.0387, 0.0249, 0.0605, 0.0318),
    "gru4rec": (0.0164, 0.0099, 0.0283, 0.0137),
    "caser": (0.0205, 0.0131, 0.0347, 0.0176),
    "bert4rec": (0.0203, 0.0124, 0.0347, 0.0170),
}


def test_the_five_models_are_registered():
    assert list(MODELS) == ["pop", "sasrec", "gru4rec", "caser", "bert4rec"]


def test_an_unknown_model_lists_the_available_ones():
    with pytest.raises(
        ConfigError,
        match=r"model: expected one of 'pop', 'sasrec', 'gru4rec', 'caser', 'bert4rec', found 'sasnet'",
    ):
        check_model("sasnet")
    with pytest.raises(ConfigError, match=r"model: expected one of"):
        BaselineSettings(model="lightgcn")


def test_importing_baselines_loads_no_torch():
    code = "import sys, baselines, baselines.recipes; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("epochs", 0, r"epochs: expected an integer >= 1"),
        ("batch_size", 1.5, r"batch_size: expected an integer >= 1"),
        ("learning_rate", 0, r"learning_rate: expected a number > 0"),
        ("weight_decay", -1, r"weight_decay: expected a number >= 0"),
        ("validation_users", 0, r"validation_users: expected an integer >= 1 or none"),
        ("select_on", "auc", r"select_on: expected one of ndcg@10"),
        ("seed", -1, r"seed: expected an integer >= 0"),
        ("threads", 0, r"threads: expected None or an integer >= 1"),
        ("device", "gpu", r"device: expected auto, cpu, cuda or cuda:N, found 'gpu'"),
        ("patiense", 3, r"patiense: expected a baseline setting among model, dataset"),
    ],
)
def test_bad_settings_name_the_field(key, value, message):
    with pytest.raises(ConfigError, match=message):
        BaselineSettings.from_dict({"model": "sasrec", key: value})


@pytest.mark.parametrize(
    ("model", "params", "message"),
    [
        (
            "sasrec",
            {"hiden_size": 8},
            r"params.hiden_size: expected a sasrec parameter among hidden_size",
        ),
        (
            "sasrec",
            {"hidden_size": 10, "heads": 3},
            r"params.heads: expected a divisor of hidden_size 10",
        ),
        ("sasrec", {"dropout": 1.0}, r"params.dropout: expected a number in \[0, 1\)"),
        ("gru4rec", {"loss": "bpr"}, r"params.loss: expected one of 'bce', 'ce'"),
        ("caser", {"window": 0}, r"params.window: expected an integer >= 1"),
        (
            "bert4rec",
            {"mask_probability": 0.0},
            r"params.mask_probability: expected a number in \(0, 1\)",
        ),
        ("pop", {"hidden_size": 8}, r"params.hidden_size: expected a pop parameter among none"),
    ],
)
def test_bad_hyper_parameters_name_the_parameter(model, params, message):
    with pytest.raises(ConfigError, match=message):
        BaselineSettings(model=model, params=params)


def test_defaults_fill_in_unset_hyper_parameters():
    params = model_params("sasrec", {"layers": 1})
    assert (params.layers, params.hidden_size, params.max_length) == (1, 64, 50)


def test_every_shipped_recipe_loads_and_makes_valid_settings():
    recipes = list_recipes()
    assert {(r.dataset, r.model) for r in recipes} >= {
        (dataset, model) for dataset in ("amazon-beauty", "synthetic") for model in MODELS
    }
    for recipe in recipes:
        settings, found = resolve_settings(recipe.model, recipe.dataset, recipe=recipe.path)
        assert found == recipe or found.path == recipe.path
        assert settings.model == recipe.model
        assert recipe.differences, f"{recipe.path} says nothing about its differences"


@pytest.mark.parametrize("model", sorted(PUBLISHED_BEAUTY))
def test_beauty_recipes_carry_the_published_table_1_numbers(model):
    recipe = find_recipe(model, "amazon-beauty")
    published = tuple(recipe.published[m] for m in ("hr@5", "ndcg@5", "hr@10", "ndcg@10"))
    assert published == PUBLISHED_BEAUTY[model]
    assert "Table 1" in recipe.source


def test_recipes_are_found_by_the_data_directory_name(tmp_path):
    directory = tmp_path / "amazon-beauty"
    directory.mkdir()
    (directory / "p5_sequential_data.txt").write_text("1 2 3 4\n")
    assert dataset_key(str(directory)) == "amazon-beauty"
    assert dataset_key(str(directory / "p5_sequential_data.txt")) == "amazon-beauty"
    assert dataset_key("synthetic") == "synthetic"
    assert find_recipe("sasrec", str(directory)).dataset == "amazon-beauty"
    assert find_recipe("sasrec", str(tmp_path)) is None


def test_precedence_defaults_recipe_overrides():
    settings, recipe = resolve_settings("sasrec", "synthetic")
    assert recipe is not None and recipe.dataset == "synthetic"
    assert settings.learning_rate == recipe.settings["learning_rate"]
    assert settings.params["dropout"] == recipe.params["dropout"]
    settings, _ = resolve_settings(
        "sasrec", "synthetic", overrides={"learning_rate": 0.5}, params={"dropout": 0.0}
    )
    assert (settings.learning_rate, settings.params["dropout"]) == (0.5, 0.0)
    settings, recipe = resolve_settings("sasrec", "synthetic", recipe=None)
    assert recipe is None and settings == BaselineSettings(model="sasrec", dataset="synthetic")


def _write(tmp_path, text):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('model = "sasrec"\ndataset = "x"\n[settings\n', r"recipe: expected valid TOML in"),
        ('model = "sasrec"\ndataset = "x"\nnotes = "?"\n', r"notes: expected a recipe key among"),
        ('dataset = "x"\n', r"model: expected a string, found None"),
        ('model = "sasnet"\ndataset = "x"\n', r"model: expected one of 'pop'"),
        (
            'model = "sasrec"\ndataset = "x"\n[settings]\nmodel = "pop"\n',
            r"settings.model: expected a key outside \[settings\]",
        ),
        (
            'model = "sasrec"\ndataset = "x"\n[settings]\nepochs = 0\n',
            r"recipe.toml: epochs: expected an integer >= 1",
        ),
        (
            'model = "sasrec"\ndataset = "x"\n[params]\nwidth = 3\n',
            r"recipe.toml: params.width: expected a sasrec parameter",
        ),
        (
            'model = "sasrec"\ndataset = "x"\n[published]\n"hr@5" = "high"\n',
            r"published.hr@5: expected a number",
        ),
    ],
)
def test_bad_recipe_files_name_the_file_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe(_write(tmp_path, text))


def test_a_missing_recipe_file_and_a_recipe_for_another_model(tmp_path):
    with pytest.raises(ConfigError, match=r"recipe: expected an existing recipe file"):
        load_recipe(tmp_path / "nope.toml")
    path = _write(tmp_path, 'model = "gru4rec"\ndataset = "x"\n')
    with pytest.raises(ConfigError, match=r"recipe: expected a recipe for sasrec"):
        resolve_settings("sasrec", "synthetic", recipe=path)
