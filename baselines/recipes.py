"""Recipes: one TOML file per (dataset, model) with the hyper-parameters, the published numbers
and what differs from the original setup (``baselines/recipes/<dataset>/<model>.toml``).

A recipe file has the keys ``model``, ``dataset``, ``differences`` (text), a ``[settings]``
table (``BaselineSettings`` fields), a ``[params]`` table (the model's hyper-parameters) and an
optional ``[published]`` table (``source`` and metric values such as ``"hr@10"``).
``idprobe baseline NAME --dataset D`` applies the recipe of D's directory name (or built-in
name) when there is one; flags and ``--set`` override it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baselines.registry import check_model
from baselines.settings import BaselineSettings
from idprobe.errors import ConfigError, verbatim

__all__ = [
    "RECIPE_DIR",
    "Recipe",
    "dataset_key",
    "find_recipe",
    "list_recipes",
    "load_recipe",
    "resolve_settings",
]

RECIPE_DIR = Path(__file__).parent / "recipes"
_KEYS = ("model", "dataset", "differences", "settings", "params", "published")
# Set by the recipe's own keys or by the run, never by [settings].
_NOT_IN_SETTINGS = ("model", "dataset", "params")


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe file (module docstring)."""

    model: str
    dataset: str
    path: Path
    settings: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    published: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    differences: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dataset": self.dataset,
            "path": str(self.path),
            "settings": dict(self.settings),
            "params": dict(self.params),
            "published": dict(self.published),
            "source": self.source,
            "differences": self.differences,
        }


def load_recipe(path: str | Path) -> Recipe:
    """Read and check a recipe file; every problem is a ``ConfigError`` naming the file."""
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("recipe", "an existing recipe file", str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("recipe", f"valid TOML in {path}", verbatim(str(error))) from None
    for key in values:
        if key not in _KEYS:
            raise ConfigError(f"{path}: {key}", f"a recipe key among {', '.join(_KEYS)}", key)
    for key in ("model", "dataset"):
        if not isinstance(values.get(key), str):
            raise ConfigError(f"{path}: {key}", "a string", values.get(key))
    check_model(values["model"])
    settings = dict(values.get("settings", {}))
    for key in _NOT_IN_SETTINGS:
        if key in settings:
            raise ConfigError(f"{path}: settings.{key}", "a key outside [settings]", key)
    published = dict(values.get("published", {}))
    source = published.pop("source", "")
    for metric, value in published.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{path}: published.{metric}", "a number", value)
    recipe = Recipe(
        model=values["model"],
        dataset=values["dataset"],
        path=path,
        settings=settings,
        params=dict(values.get("params", {})),
        published={k: float(v) for k, v in published.items()},
        source=str(source),
        differences=str(values.get("differences", "")).strip(),
    )
    try:  # the recipe must make valid settings on its own
        BaselineSettings.from_dict(
            {**recipe.settings, "model": recipe.model, "params": dict(recipe.params)}
        )
    except ConfigError as error:
        raise ConfigError(f"{path}: {error.parameter}", error.expected, error.found) from None
    return recipe


def dataset_key(dataset: str) -> str:
    """The name recipes are filed under: a built-in dataset's name, a directory's name, or the
    name of a data file's directory (``../shared/data/amazon-beauty`` -> ``amazon-beauty``)."""
    path = Path(dataset)
    if not path.exists():
        return dataset
    path = path.resolve()
    return path.name if path.is_dir() else path.parent.name


def find_recipe(model: str, dataset: str) -> Recipe | None:
    """The recipe of ``model`` for ``dataset`` (a path or built-in name), or None."""
    path = RECIPE_DIR / dataset_key(dataset) / f"{check_model(model)}.toml"
    return load_recipe(path) if path.exists() else None


def list_recipes() -> list[Recipe]:
    """Every recipe shipped with idprobe, by dataset then model."""
    return [load_recipe(p) for p in sorted(RECIPE_DIR.glob("*/*.toml"))]


def resolve_settings(
    model: str,
    dataset: str = "synthetic",
    *,
    recipe: str | Path | None = "auto",
    overrides: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[BaselineSettings, Recipe | None]:
    """The settings of a run: model defaults < recipe < ``overrides`` (settings) / ``params``.

    ``recipe``: ``"auto"`` (the dataset's recipe when one exists), ``None`` (model defaults),
    or a recipe file path.
    """
    check_model(model)
    if recipe == "auto":
        found = find_recipe(model, dataset)
    elif recipe is None:
        found = None
    else:
        found = load_recipe(recipe)
        if found.model != model:
            raise ConfigError("recipe", f"a recipe for {model}", f"{found.path} ({found.model})")
    values: dict[str, Any] = dict(found.settings) if found else {}
    values.update(overrides or {})
    values["model"] = model
    values["dataset"] = dataset
    values["params"] = {**(dict(found.params) if found else {}), **dict(params or {})}
    return BaselineSettings.from_dict(values), found
