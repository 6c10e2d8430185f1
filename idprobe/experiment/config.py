"""The configuration of a comparison, and the variants (training runs) it expands into.

A comparison trains one run per strategy, plus the runs its sweeps ask for. ``CompareConfig``
holds every knob; its fields are exactly the keyword arguments of :func:`idprobe.compare` and
the keys of a compare TOML file, so ``OUT/compare.toml`` re-runs a comparison as it was.

Sweeps (paper section 5.4):

* ``oov_tokens``: META ID cluster counts G (Fig. 5a), e.g. ``[20, 50, 100]``.
* ``indexing``: who gets META IDs, ``items`` / ``users`` / ``both`` (Fig. 5b). Users are
  written with their META IDs in prompts whenever they have them.
* ``init``: ``random`` / ``embedding`` for every compared strategy (Fig. 7). ``random``
  re-draws the numeric tokens, gives new rows a normal draw and turns the F layer off;
  ``embedding`` is the default (kept numeric embeddings, META ID centroids through F). With a
  backbone built from a config (``t5-tiny``) the "kept" numeric embeddings are themselves
  random: the comparison means something with a pretrained backbone (``minilm``, a directory).
* ``grouping``: META ID grouping method, ``kmeans`` / ``spectral`` / ``dbscan`` / ``rqvae``
  (Table 4).

Classic baselines (``baselines``: ``pop``, ``sasrec``, ...) join the comparison's sequential
table: each trains once on the same data and seed and is ranked on the same test users
(:mod:`baselines`). Its settings are the model's defaults < the dataset's recipe <
``baseline_params[NAME]``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baselines import MODELS, BaselineSettings, Recipe, check_model, resolve_settings
from idprobe.errors import ConfigError, choices
from idprobe.evaluation.generative import RANKING_TASKS
from idprobe.ids import get_strategy, list_strategies
from idprobe.metrics import DIVERSITY_METHODS, GROUND_TRUTH_KINDS
from idprobe.training.run import RunSettings

__all__ = ["SWEEPS", "CompareConfig", "Sweep", "Variant", "set_option", "stable_hash"]

SWEEPS = {
    "oov_tokens": "OOV token count G of META ID (paper Fig. 5a)",
    "indexing": "who gets META IDs: items, users or both (paper Fig. 5b)",
    "init": "random vs embedding initialisation of ID tokens (paper Fig. 7)",
    "grouping": "grouping method of META ID (paper Table 4)",
}
_INDEXING = ("items", "users", "both")
_INITS = ("random", "embedding")
_GROUPINGS = ("kmeans", "spectral", "dbscan", "rqvae")
# Keys of RunSettings that the comparison sets itself, per variant or from its own fields.
_OWN_RUN_KEYS = ("dataset", "data_format", "data_options", "k_core", "strategy", "strategy_params")
_OWN_RUN_KEYS += ("seed", "threads")
# Keys of BaselineSettings that the comparison sets itself (the same data, seed and threads as
# its runs) or that name the baseline.
_OWN_BASELINE_KEYS = ("model", "dataset", "data_format", "data_options", "k_core", "seed")
_OWN_BASELINE_KEYS += ("threads",)
_BASELINE_FIELDS = tuple(f.name for f in dataclasses.fields(BaselineSettings))


def stable_hash(value: Any) -> str:
    """A short SHA-256 of ``value``'s canonical JSON: the cache key of a stage."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Variant:
    """One training run of a comparison: a display label, its directory name and its settings."""

    label: str
    slug: str
    settings: RunSettings
    sweep: str | None = None


@dataclass(frozen=True)
class Sweep:
    """A sweep of a comparison: the value of each point and the label of the variant behind it."""

    name: str
    title: str
    param: str
    values: tuple[Any, ...]
    labels: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "param": self.param,
            "values": list(self.values),
            "labels": list(self.labels),
        }


@dataclass(frozen=True)
class CompareConfig:
    """Every knob of a comparison (the keyword arguments of :func:`idprobe.compare`).

    Data: ``dataset``, ``data_format``, ``data_options``, ``k_core``.
    Runs: ``strategies``; ``strategy_params`` per strategy name (``{"meta": {"n_clusters": 50}}``);
    ``run``: RunSettings fields shared by every run (``backbone``, ``tasks``, ``epochs``,
    ``batch_size``, ``learning_rate``, ...); ``sweeps`` (module docstring).
    Baselines: ``baselines`` (classic sequential models, ``baselines.MODELS``), ranked on the
    sequential task beside the strategies; ``baseline_params`` per baseline name: its
    BaselineSettings fields (``epochs``, ``patience``, ...) and model hyper-parameters
    (``hidden_size``, ...) in one table (``{"sasrec": {"epochs": 50, "hidden_size": 32}}``),
    over the dataset's recipe (:meth:`baseline_settings`).
    Selection and evaluation: ``select_on`` (validation metric choosing the epoch),
    ``validation_users``, ``eval_users`` (``None``: every test user), ``beams``, ``filtered``.
    Representations: ``ground_truth`` of the MS (``None``: the adjusted cosine of eq. 4 with
    ratings, else co-occurrence cosine; see :meth:`ms_ground_truth`), ``ds_method``,
    ``ds_pairs``, ``convergence_pairs`` (Fig. 6).
    Figures: ``heatmap_items`` (Fig. 1), ``tsne_points`` (items per strategy, Fig. 2a),
    ``attention_users`` (Fig. 8b), ``figures`` (``False`` skips them).
    Execution: ``workers`` (runs trained side by side, one process each), ``threads`` (torch
    threads per process), ``seed``, ``title``.
    """

    strategies: tuple[str, ...] = ("rid", "sid", "cid", "iid", "meta")
    dataset: str = "synthetic"
    data_format: str | None = None
    data_options: Mapping[str, Any] = field(default_factory=dict)
    k_core: int | None = None
    strategy_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    sweeps: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    baselines: tuple[str, ...] = ()
    baseline_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    select_on: str = "ndcg@10"
    validation_users: int | None = 1000
    eval_users: int | None = None
    beams: int = 20
    filtered: bool = False
    ground_truth: str | None = None
    ds_method: str = "sampled"
    ds_pairs: int = 10_000
    convergence_pairs: tuple[int, ...] = (100, 300, 1000, 3000, 10_000)
    heatmap_items: int = 50
    tsne_points: int = 1000
    attention_users: int = 1
    figures: bool = True
    workers: int = 1
    threads: int | None = 1
    seed: int = 0
    title: str | None = None

    def __post_init__(self) -> None:
        strategies = (
            (self.strategies,) if isinstance(self.strategies, str) else tuple(self.strategies)
        )
        object.__setattr__(self, "strategies", strategies)
        object.__setattr__(self, "convergence_pairs", tuple(self.convergence_pairs))
        known = list_strategies()
        if not strategies:
            raise ConfigError("strategies", f"a non-empty list among {', '.join(known)}", [])
        for name in strategies:
            if name not in known:
                raise ConfigError("strategies", choices(known), name)
        if len(set(strategies)) != len(strategies):
            raise ConfigError("strategies", "each strategy once", list(strategies))
        for name, params in self.strategy_params.items():
            if name not in known:
                raise ConfigError("strategy_params", f"keys among {', '.join(known)}", name)
            if not isinstance(params, Mapping):
                raise ConfigError(f"strategy_params.{name}", "a table of parameters", params)
        for key in self.run:
            if key in _OWN_RUN_KEYS:
                raise ConfigError(
                    f"run.{key}", "a key set at the top level of the comparison, not under run", key
                )
        for name in self.sweeps:
            if name not in SWEEPS:
                raise ConfigError("sweeps", choices(SWEEPS), name)
        if self.ds_method not in DIVERSITY_METHODS:
            raise ConfigError("ds_method", choices(DIVERSITY_METHODS), self.ds_method)
        if self.ground_truth is not None and self.ground_truth not in GROUND_TRUTH_KINDS:
            raise ConfigError("ground_truth", choices(GROUND_TRUTH_KINDS), self.ground_truth)
        for name in ("beams", "ds_pairs", "heatmap_items", "tsne_points", "workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(name, "an integer >= 1", value)
        for name in ("eval_users", "validation_users"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(name, "an integer >= 1 or none (every user)", value)
        if not isinstance(self.attention_users, int) or self.attention_users < 0:
            raise ConfigError("attention_users", "an integer >= 0", self.attention_users)
        if self.heatmap_items < 2:
            raise ConfigError("heatmap_items", "an integer >= 2", self.heatmap_items)
        # Every run's settings and strategy parameters are checked now, not hours into a run.
        variants = self.variants()[0]
        for variant in variants:
            get_strategy(variant.settings.strategy, **dict(variant.settings.strategy_params))
        self._check_baselines(variants)

    def _check_baselines(self, variants: list[Variant]) -> None:
        """Names, parameters and the task of the baselines; each one's settings are resolved
        once, so an unknown hyper-parameter fails before anything trains."""
        baselines = (self.baselines,) if isinstance(self.baselines, str) else tuple(self.baselines)
        object.__setattr__(self, "baselines", baselines)
        for name in baselines:
            try:
                check_model(name)
            except ConfigError as error:
                raise ConfigError("baselines", error.expected, name) from None
        if len(set(baselines)) != len(baselines):
            raise ConfigError("baselines", "each baseline once", list(baselines))
        taken = {v.label for v in variants} | {v.slug for v in variants}
        for name in baselines:
            if name in taken:  # a plug-in strategy of the same name would share runs/NAME
                raise ConfigError("baselines", "names other than the compared runs' labels", name)
        tasks = self.run.get("tasks", RunSettings().tasks)
        if baselines and "sequential" not in tasks:
            raise ConfigError(
                "baselines",
                "none when the runs do not train the sequential task (baselines only rank the "
                f"sequential task; the runs train {', '.join(tasks)})",
                list(baselines),
            )
        if not isinstance(self.baseline_params, Mapping):
            raise ConfigError("baseline_params", "a table per baseline", self.baseline_params)
        params = {}
        for name, values in self.baseline_params.items():
            if name not in MODELS:
                raise ConfigError("baseline_params", f"keys among {', '.join(MODELS)}", name)
            if not isinstance(values, Mapping):
                raise ConfigError(f"baseline_params.{name}", "a table of settings", values)
            for key in values:
                if key in _OWN_BASELINE_KEYS:
                    raise ConfigError(
                        f"baseline_params.{name}.{key}",
                        "a key set by the comparison (its data, seed and threads), not per "
                        "baseline",
                        key,
                    )
            params[name] = dict(values)
        object.__setattr__(self, "baseline_params", params)
        for name in dict.fromkeys([*baselines, *params]):
            self.baseline_settings(name)

    # ------------------------------------------------------------------------------ reading

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CompareConfig:
        """A config from a dict (TOML); an unknown key is an error that names it."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                raise ConfigError("config", f"a key among {', '.join(names)}", key)
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | Path) -> CompareConfig:
        import tomllib

        path = Path(path)
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("config", "an existing TOML file", str(path)) from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError("config", f"valid TOML in {path}", str(error)) from None
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["strategies"] = list(self.strategies)
        out["convergence_pairs"] = list(self.convergence_pairs)
        out["data_options"] = dict(self.data_options)
        out["strategy_params"] = {k: dict(v) for k, v in self.strategy_params.items()}
        out["run"] = dict(self.run)
        out["sweeps"] = {k: list(v) for k, v in self.sweeps.items()}
        out["baselines"] = list(self.baselines)
        out["baseline_params"] = {k: dict(v) for k, v in self.baseline_params.items()}
        return out

    def to_toml(self) -> str:
        """TOML whose keys are the fields; ``None`` values are left out (TOML has no null)."""
        import tomli_w

        def drop_none(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: drop_none(v) for k, v in value.items() if v is not None}
            return value

        header = "# idprobe compare configuration: re-run with `idprobe compare --config FILE`\n"
        return header + tomli_w.dumps(drop_none(self.to_dict()))

    # ------------------------------------------------------------------------------ variants

    def run_settings(self, strategy: str, **changes: Any) -> RunSettings:
        """The RunSettings of ``strategy`` in this comparison, with ``changes`` applied.

        ``changes`` may hold ``strategy_params`` (merged into the strategy's own) and any
        RunSettings field.
        """
        params = {**self.strategy_params.get(strategy, {}), **changes.pop("strategy_params", {})}
        values = {
            **dict(self.run),
            "dataset": self.dataset,
            "data_format": self.data_format,
            "data_options": dict(self.data_options),
            "k_core": self.k_core,
            "strategy": strategy,
            "strategy_params": params,
            "seed": self.seed,
            "threads": self.threads,
            **changes,
        }
        return RunSettings.from_dict(values)

    def baseline_settings(self, name: str) -> tuple[BaselineSettings, Recipe | None]:
        """The settings of baseline ``name`` in this comparison and the recipe they start from.

        The model's defaults < the recipe of the comparison's dataset (when there is one) <
        ``baseline_params[name]``: a key that is a BaselineSettings field sets it, any other is
        a model hyper-parameter (``params`` may also hold them as a table). The data, ``seed``
        and ``threads`` are the comparison's. Errors name ``baseline_params.NAME``.
        """
        overrides: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for key, value in self.baseline_params.get(name, {}).items():
            if key == "params":
                if not isinstance(value, Mapping):
                    raise ConfigError(f"baseline_params.{name}.params", "a table", value)
                params.update(value)
            elif key in _BASELINE_FIELDS:
                overrides[key] = value
            else:
                params[key] = value
        overrides.update(
            data_format=self.data_format,
            data_options=dict(self.data_options),
            k_core=self.k_core,
            seed=self.seed,
            threads=self.threads,
        )
        try:
            return resolve_settings(
                name, self.dataset, recipe="auto", overrides=overrides, params=params
            )
        except ConfigError as error:
            if ".toml" in error.parameter:  # a broken recipe file: its error names the file
                raise
            parameter = error.parameter.removeprefix("params.")
            raise ConfigError(
                f"baseline_params.{name}.{parameter}", error.expected, error.found
            ) from None

    def variants(self) -> tuple[list[Variant], list[Sweep]]:
        """The runs of the comparison (main strategies first, then sweep points not already
        among them) and the sweeps, whose points name the variant that answers them."""
        variants = [Variant(name, _slug(name), self.run_settings(name)) for name in self.strategies]
        by_settings = {_settings_key(v.settings): v.label for v in variants}
        sweeps = []
        for name, values in self.sweeps.items():
            points = list(_sweep_points(self, name, values))
            labels = []
            for label, settings in points:
                key = _settings_key(settings)
                if key not in by_settings:
                    slug = _slug(label)
                    if any(v.slug == slug for v in variants):
                        slug = f"{slug}-{key[:6]}"
                    variants.append(Variant(label, slug, settings, sweep=name))
                    by_settings[key] = label
                labels.append(by_settings[key])
            param = {
                "oov_tokens": "n_clusters",
                "indexing": "index",
                "init": "init",
                "grouping": "grouping",
            }[name]
            # init has one point per (strategy, value): its points are shown by their labels.
            shown = [label for label, _ in points] if name == "init" else list(values)
            sweeps.append(Sweep(name, SWEEPS[name], param, tuple(shown), tuple(labels)))
        return variants, sweeps

    def ms_ground_truth(self, has_ratings: bool) -> str:
        """The MS ground truth this comparison uses: ``ground_truth`` if set, else the exact
        adjusted cosine of eq. 4 (ratings) or the co-occurrence cosine (no ratings).

        Not Dev/DevS (the metrics' default, what the released code computes): its similarities
        ``Dev(i) Dev(j) / sqrt(DevS(i) DevS(j))`` grow with the number of ratings, so on
        MovieLens-100K every strategy scored MS = 77.4-77.6 against it, telling none apart;
        the adjusted cosine stays in [-1, 1] like the cosines it is compared with.
        """
        if self.ground_truth is not None:
            return self.ground_truth
        return "adjusted_cosine" if has_ratings else "cooccurrence_cosine"

    @property
    def ranking_task(self) -> str | None:
        """The task the comparison ranks strategies on: sequential if trained, else direct."""
        tasks = self.run.get("tasks", RunSettings().tasks)
        return next((t for t in RANKING_TASKS if t in tasks), None)


def set_option(values: dict[str, Any], key: str, value: Any) -> None:
    """Put ``key = value`` (from ``--set``) where it belongs in a config dict.

    ``STRATEGY.PARAM`` (e.g. ``meta.n_clusters``) goes to that strategy's parameters,
    ``BASELINE.KEY`` (e.g. ``sasrec.hidden_size``, ``sasrec.epochs``) to that baseline's
    ``baseline_params``, a comparison field to the top level, a RunSettings field (``epochs``,
    ``backbone``) under ``run``; anything else is an error listing the valid keys.
    """
    compare_keys = [f.name for f in dataclasses.fields(CompareConfig)]
    run_keys = [f.name for f in dataclasses.fields(RunSettings) if f.name not in _OWN_RUN_KEYS]
    prefix, dot, param = key.partition(".")
    if dot:
        if prefix in list_strategies():
            field_name = "strategy_params"
        elif prefix in MODELS:
            field_name = "baseline_params"
        else:
            raise ConfigError(
                "--set",
                f"STRATEGY.PARAM with a strategy among {', '.join(list_strategies())}, or "
                f"BASELINE.KEY with a baseline among {', '.join(MODELS)}",
                key,
            )
        if not param:
            raise ConfigError("--set", f"a parameter name after {prefix}.", key)
        params = dict(values.get(field_name, {}))
        params[prefix] = {**params.get(prefix, {}), param: value}
        values[field_name] = params
    elif key in compare_keys:
        values[key] = value
    elif key in run_keys:
        values["run"] = {**values.get("run", {}), key: value}
    else:
        raise ConfigError(
            "--set",
            f"STRATEGY.PARAM or a key among {', '.join(compare_keys + run_keys)} (or "
            f"BASELINE.KEY with a baseline among {', '.join(MODELS)})",
            key,
        )


def _settings_key(settings: RunSettings) -> str:
    """Equal for runs that train the same thing: strategy parameters are compared with their
    defaults filled in, so ``grouping="kmeans"`` given explicitly is META ID's default run."""
    values = settings.to_dict()
    strategy = get_strategy(settings.strategy, **dict(settings.strategy_params))
    values["strategy_params"] = json.loads(json.dumps(strategy.params(), default=list))
    return stable_hash(values)


def _slug(label: str) -> str:
    """A directory name for a label: lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "run"


def _sweep_points(
    config: CompareConfig, name: str, values: Sequence[Any]
) -> list[tuple[str, RunSettings]]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ConfigError(f"sweeps.{name}", "a non-empty list of values", values)
    points = []
    if name == "init":
        for strategy in config.strategies:
            for value in values:
                if value not in _INITS:
                    raise ConfigError("sweeps.init", choices(_INITS), value)
                changes: dict[str, Any] = {}
                if value == "random":
                    changes = {"init": "normal", "numeric_reinit": "normal", "augment": "off"}
                points.append(
                    (f"{strategy} init={value}", config.run_settings(strategy, **changes))
                )
        return points
    for value in values:
        if name == "oov_tokens":
            if not isinstance(value, int) or isinstance(value, bool) or value < 2:
                raise ConfigError("sweeps.oov_tokens", "integers >= 2 (cluster counts G)", value)
            changes = {"strategy_params": {"n_clusters": value}}
            label = f"meta G={value}"
        elif name == "indexing":
            if value not in _INDEXING:
                raise ConfigError("sweeps.indexing", choices(_INDEXING), value)
            scheme = "numeric" if value == "items" else "strategy"
            changes = {"strategy_params": {"index": value}, "user_scheme": scheme}
            label = f"meta index={value}"
        else:
            if value not in _GROUPINGS:
                raise ConfigError("sweeps.grouping", choices(_GROUPINGS), value)
            changes = {"strategy_params": {"grouping": value}}
            label = f"meta grouping={value}"
        points.append((label, config.run_settings("meta", **changes)))
    return points
