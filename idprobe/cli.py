"""The ``idprobe`` command line: argument parsing and printing only; the work is in the library.

Every error caused by input is one line on stderr (``idprobe: error: ...``) and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from idprobe._version import __version__
from idprobe.data import (
    DATASETS,
    DUPLICATE_POLICIES,
    FORMATS,
    dataset_stats,
    leave_one_out,
    load_dataset,
    random_split,
)
from idprobe.errors import ConfigError, IdprobeError, verbatim
from idprobe.evaluation.representation import ENTITY_KINDS, representation_scores
from idprobe.ids import (
    ASSIGNMENT_FILE,
    IdAssignment,
    assignment_stats,
    describe_strategy,
    get_strategy,
    list_strategies,
    write_id_file,
)
from idprobe.metrics import DIVERSITY_METHODS, GROUND_TRUTH_KINDS, MEMORIZATION_MODES
from idprobe.training.new_rows import NEW_ROW_METHODS

__all__ = ["main"]


def _parse_setting(text: str) -> tuple[str, Any]:
    """``key=value`` from ``--set``; the value is read as JSON when it parses (numbers, lists, true)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set", "KEY=VALUE", text)
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _settings(pairs: Sequence[str] | None) -> dict[str, Any]:
    return dict(_parse_setting(p) for p in pairs or ())


def _comma_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (--tasks, --strategies, --sweep values)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _read_config(path: str | None) -> dict[str, Any]:
    """The values of a ``--config`` TOML file (``{}`` without one)."""
    import tomllib

    if not path:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", "an existing TOML file", path) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("--config", f"valid TOML in {path}", verbatim(str(error))) from None


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "formats":
        width = max(len(n) for n in FORMATS)
        for name, fmt in FORMATS.items():
            print(f"{name:<{width}}  {fmt.description}")
            print(f"{'':<{width}}  detected from: {fmt.detection}")
            options = ", ".join(f"{k}={v!r}" for k, v in fmt.options.items())
            print(f"{'':<{width}}  options: {options}")
    elif args.what == "baselines":
        from baselines import MODELS, list_recipes

        recipes: dict[str, list[str]] = {}
        for recipe in list_recipes():
            recipes.setdefault(recipe.model, []).append(recipe.dataset)
        for name, summary in MODELS.items():
            print(f"{name}  {summary}")
            print(f"    recipes: {', '.join(recipes.get(name, [])) or 'none (model defaults)'}")
    elif args.what == "datasets":
        for name, builder in DATASETS.items():
            summary = (builder.__doc__ or "").strip().splitlines()[0]
            print(f"{name}  {summary}")
    else:
        for name in list_strategies():
            info = describe_strategy(name)
            print(f"{name}  {info['summary']}")
            for param, spec in info["params"].items():
                required = "  (required)" if param in info["required_params"] else ""
                print(f"    {param} = {spec['default']!r}{required}")
            print(f"    cold entities: {info['cold_rule']}")
    return 0


def _load(args: argparse.Namespace, options: Sequence[str] | None) -> Any:
    return load_dataset(
        args.dataset,
        args.format,
        k_core=args.k_core,
        duplicates=args.duplicates,
        ratings_from=args.ratings_from,
        **_settings(options),
    )


def _cmd_data_stats(args: argparse.Namespace) -> int:
    data = _load(args, args.set)
    stats = dataset_stats(data)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        print(stats.to_text())
    return 0


def _cmd_ids_build(args: argparse.Namespace) -> int:
    target = Path(args.out) / ASSIGNMENT_FILE
    if target.exists() and not args.force:
        raise ConfigError("--out", "a directory without assignment.json (or --force)", str(target))
    strategy = get_strategy(
        args.strategy, **_settings(args.set)
    )  # bad parameters fail before loading
    data = _load(args, args.data_option)
    if args.split == "leave-one-out":
        view = leave_one_out(data).training_view
    else:
        view = random_split(data, seed=args.seed).training_view
    started = time.perf_counter()
    assignment = strategy.assign(view, seed=args.seed)
    seconds = time.perf_counter() - started
    assignment.save(args.out)
    print(assignment_stats(assignment).to_text())
    print(f"built in {seconds:.1f} s; written to {target}")
    return 0


def _cmd_ids_stats(args: argparse.Namespace) -> int:
    stats = assignment_stats(IdAssignment.load(args.directory))
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2, default=str))
    else:
        print(stats.to_text())
    return 0


def _cmd_ids_export(args: argparse.Namespace) -> int:
    assignment = IdAssignment.load(args.directory)
    out = Path(args.out)
    written = [write_id_file(out / "items.txt", assignment.items)]
    if assignment.users is not None:
        written.append(write_id_file(out / "users.txt", assignment.users))
    for path in written:
        print(path)
    return 0


def _load_table(path: str) -> Any:
    import numpy as np

    try:
        table = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ConfigError("--embeddings", "an existing .npy file", path) from None
    except (ValueError, OSError) as error:
        raise ConfigError(
            "--embeddings", "a .npy array file", verbatim(f"{path}: {error}")
        ) from None
    if not isinstance(table, np.ndarray) or table.ndim != 2:
        raise ConfigError(
            "--embeddings",
            "a 2-D (vocab, d) array",
            verbatim(f"shape {getattr(table, 'shape', None)}"),
        )
    return table


def _metrics_table(args: argparse.Namespace, assignment: IdAssignment) -> tuple[Any, Any]:
    """The embedding table and the vocabulary that maps the assignment's tokens to its rows."""
    from idprobe.training.new_rows import add_missing_tokens
    from idprobe.training.pretrained import input_embeddings
    from idprobe.training.vocabulary import Vocabulary

    if args.initial_vectors:
        if assignment.vectors is None:
            raise ConfigError(
                "--initial-vectors",
                "an assignment with initial token vectors (meta, iid init=metapath)",
                verbatim(f"none in the '{assignment.strategy}' assignment"),
            )
        table = assignment.vectors
        rows = {token: k for k, token in enumerate(assignment.vector_tokens)}
        vocabulary = Vocabulary(rows, f"{args.assignment} initial vectors", len(rows))
    else:
        if args.model_dir is not None:
            table = input_embeddings(args.model_dir)
        else:
            table = _load_table(args.embeddings)
        if args.vocab is not None:
            vocabulary = Vocabulary.from_file(args.vocab)
        elif args.tokenizer is not None or args.model_dir is not None:
            vocabulary = Vocabulary.from_tokenizer_dir(args.tokenizer or args.model_dir)
        else:
            raise ConfigError(
                "--vocab/--tokenizer",
                "a vocabulary file or a tokenizer directory",
                verbatim("neither"),
            )
    if args.new_rows is not None:
        table, vocabulary = add_missing_tokens(
            table, vocabulary, assignment.new_tokens, seed=args.seed, method=args.new_rows
        )
    return table, vocabulary


def _cmd_metrics(args: argparse.Namespace) -> int:
    options = {
        "entities": args.entities,
        "ds_method": args.ds_method,
        "ds_pairs": args.ds_pairs,
        "temperature": args.temperature,
        "ground_truth": None if args.ms_ground_truth == "auto" else args.ms_ground_truth,
        "ms_mode": args.ms_mode,
        "ms_sample": args.ms_sample,
        "seed": args.seed,
    }
    if args.run_dir is not None:
        from idprobe.evaluation.representation import run_representation_scores

        if args.assignment is not None or args.dataset is not None:
            raise ConfigError(
                "--run", "no --assignment or --dataset (a run brings its own)", "both given"
            )
        _print_scores(run_representation_scores(args.run_dir, **options), args.json)
        return 0
    if args.assignment is None:
        raise ConfigError("--assignment", "an `ids build` output (or --run RUN)", "none")
    assignment = IdAssignment.load(args.assignment)
    table, vocabulary = _metrics_table(args, assignment)
    interactions = None
    if args.dataset is not None:
        data = _load(args, args.data_option)
        if args.ground_truth_data == "all":
            interactions = data
        elif args.split == "leave-one-out":
            interactions = leave_one_out(data).training_view
        else:
            interactions = random_split(data, seed=args.seed).training_view
    scores = representation_scores(table, assignment, vocabulary, interactions, **options)
    _print_scores(scores, args.json)
    return 0


def _print_scores(scores: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(scores.to_dict(), indent=2, default=str))
    else:
        print(scores.to_text())


def _train_settings(args: argparse.Namespace) -> Any:
    """RunSettings from --config (TOML whose keys are the settings) overridden by explicit flags."""
    from idprobe.training.run import RunSettings

    values = _read_config(args.config)
    flags = {
        "dataset": args.dataset,
        "data_format": args.format,
        "k_core": args.k_core,
        "strategy": args.strategy,
        "backbone": args.backbone,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "user_scheme": args.user_scheme,
        "max_history": args.max_history,
        "templates_per_sample": args.templates_per_sample,
        "augment": args.augment,
        "init": args.init,
        "numeric_reinit": args.numeric_reinit,
        "vocab_size": args.vocab_size,
        "precision": args.precision,
        "threads": args.threads,
    }
    values.update({k: v for k, v in flags.items() if v is not None})
    if args.tasks:
        values["tasks"] = _comma_list(args.tasks)
    if args.set:
        values["strategy_params"] = {**values.get("strategy_params", {}), **_settings(args.set)}
    if args.data_option:
        values["data_options"] = {**values.get("data_options", {}), **_settings(args.data_option)}
    per_sample = values.get("templates_per_sample")
    if isinstance(per_sample, str) and per_sample.isdigit():
        values["templates_per_sample"] = int(per_sample)
    return RunSettings.from_dict(values)


def _main_process() -> bool:
    """Under torchrun only rank 0 prints (every rank computed the same result)."""
    return os.environ.get("RANK", "0") == "0"


def _cmd_train(args: argparse.Namespace) -> int:
    from idprobe.experiment import train

    settings = _train_settings(args)
    select_on = None if args.select_on == "none" else args.select_on
    started = time.perf_counter()
    result = train(
        settings,
        args.out,
        resume=args.resume,
        select_on=select_on,
        validation_users=args.validation_users,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - started
    if not _main_process():
        return 0
    last = result.losses[-1] if result.losses else float("nan")
    print(
        f"trained {settings.strategy} on {settings.dataset} with {settings.backbone}: "
        f"{result.epochs} epoch(s), last loss {last:.4f}, {seconds:.1f} s; run in {args.out}"
    )
    if result.best_score is not None:
        print(
            f"selected epoch {result.best_epoch} (validation {select_on} = {result.best_score:.4f})"
        )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from idprobe.evaluation import evaluate_run, metrics_path

    tasks = _comma_list(args.tasks) if args.tasks else None
    metrics = evaluate_run(
        args.run_dir,
        split=args.split,
        tasks=tasks,
        beams=args.beams,
        max_users=args.max_users,
        filtered=args.filtered,
        batch_size=args.batch_size,
        seed=args.seed,
        threads=args.threads,
    )
    if not _main_process():
        return 0
    if args.json:
        print(json.dumps(metrics.to_dict(), indent=2))
    else:
        print(metrics.to_text())
        print(f"written to {metrics_path(args.run_dir, args.split)}")
    return 0


def _baseline_settings(args: argparse.Namespace) -> tuple[Any, Any]:
    """Settings of ``idprobe baseline``: model defaults < recipe < --config < flags and --set.

    A ``--set`` key that is a BaselineSettings field sets it; any other key is a model
    hyper-parameter (an unknown one is an error listing the model's parameters).
    """
    from baselines import BaselineSettings, check_model, model_params, resolve_settings

    check_model(args.model)
    values = _read_config(args.config)
    params = dict(values.pop("params", {}))
    for key in ("model", "dataset"):
        if key in values:
            raise ConfigError(f"--config: {key}", "a key given on the command line", key)
    flags = {
        "data_format": args.format,
        "k_core": args.k_core,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
        "seed": args.seed,
        "threads": args.threads,
        "device": args.device,
    }
    values.update({k: v for k, v in flags.items() if v is not None})
    if args.data_option:
        values["data_options"] = {**values.get("data_options", {}), **_settings(args.data_option)}
    fields = list(BaselineSettings.__dataclass_fields__)
    hyper = list(type(model_params(args.model)).__dataclass_fields__)
    for key, value in _settings(args.set).items():
        if key in fields:
            values[key] = value
        elif key in hyper:
            params[key] = value
        else:
            raise ConfigError(
                "--set",
                f"a setting among {', '.join(fields)} or a {args.model} parameter among "
                f"{', '.join(hyper) or 'none'}",
                key,
            )
    recipe: str | None = args.recipe
    if recipe == "none":
        recipe = None
    return resolve_settings(
        args.model, args.dataset, recipe=recipe, overrides=values, params=params
    )


def _cmd_baseline(args: argparse.Namespace) -> int:
    settings, recipe = _baseline_settings(args)
    if not args.quiet and not args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger("baselines").setLevel(logging.INFO)
    from baselines.run import train_baseline

    where = f"recipe {recipe.path}" if recipe else "model defaults (no recipe for this dataset)"
    if not args.quiet:
        print(f"{settings.model} on {settings.dataset}: {where}", file=sys.stderr)
    result = train_baseline(
        settings,
        args.out,
        recipe=recipe,
        resume=args.resume,
        eval_users=args.eval_users,
        filtered=args.filtered,
        depth=args.depth,
    )
    if args.json:
        print(json.dumps(result.metrics.to_dict(), indent=2))
        return 0
    print(result.metrics.to_text())
    if result.best_epoch is not None:
        print(
            f"{result.epochs} epochs in {result.seconds:.1f} s (stopped by {result.stopped}); "
            f"selected epoch {result.best_epoch} (validation {settings.select_on} = "
            f"{result.best_score:.4f})"
        )
    if recipe and recipe.published:
        shown = "  ".join(f"{k}={v:.4f}" for k, v in recipe.published.items())
        print(f"published ({recipe.dataset}): {shown}")
    print(f"written to {Path(args.out) / 'metrics.json'}")
    return 0


def _compare_config(args: argparse.Namespace) -> Any:
    """CompareConfig from --config (TOML, keys = compare() arguments) overridden by the flags."""
    from idprobe.experiment.config import CompareConfig, set_option

    values = _read_config(args.config)
    if args.strategies:
        values["strategies"] = _comma_list(args.strategies)
    if args.baselines:
        values["baselines"] = _comma_list(args.baselines)
    flags = {
        "dataset": args.dataset,
        "data_format": args.format,
        "k_core": args.k_core,
        "eval_users": args.eval_users,
        "workers": args.workers,
        "threads": args.threads,
        "seed": args.seed,
    }
    values.update({k: v for k, v in flags.items() if v is not None})
    if args.no_figures:
        values["figures"] = False
    if args.data_option:
        values["data_options"] = {**values.get("data_options", {}), **_settings(args.data_option)}
    run_flags = {
        "backbone": args.backbone,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
    }
    if args.tasks:
        run_flags["tasks"] = _comma_list(args.tasks)
    for key, value in run_flags.items():
        if value is not None:
            set_option(values, key, value)
    for key, value in (_parse_setting(p) for p in args.set or ()):
        set_option(values, key, value)
    for text in args.sweep or ():
        name, sep, listed = text.partition("=")
        if not sep or not listed.strip():
            raise ConfigError("--sweep", "NAME=V1,V2,...", text)
        parsed = [_parse_setting(f"v={v}")[1] for v in _comma_list(listed)]
        values["sweeps"] = {**values.get("sweeps", {}), name.strip(): parsed}
    return CompareConfig.from_dict(values)


def _cmd_compare(args: argparse.Namespace) -> int:
    from idprobe.experiment import run_comparison

    config = _compare_config(args)
    if not args.quiet and not args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        logging.getLogger("idprobe.experiment").setLevel(logging.INFO)
    started = time.perf_counter()
    result = run_comparison(config, args.out, resume=args.resume, progress=not args.quiet)
    seconds = time.perf_counter() - started
    print(result.to_text())
    print(f"compared {len(result.variants)} runs in {seconds:.0f} s")
    print(f"report: {Path(args.out) / 'report.html'}")
    print(f"re-run: idprobe compare --config {Path(args.out) / 'compare.toml'} --out {args.out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from idprobe.reporting import render_report

    path = render_report(args.directory, output=args.output)
    print(f"report: {path}")
    return 0


def _dataset_argument(
    parser: argparse.ArgumentParser, flag: bool = False, required: bool = True
) -> None:
    names = ["--dataset"] if flag else ["dataset"]
    extra = {"required": required} if flag else {}
    parser.add_argument(
        *names,
        metavar="PATH|NAME",
        help=f"a data file or directory, or one of: {', '.join(DATASETS)}",
        **extra,
    )


def _add_dataset_arguments(
    parser: argparse.ArgumentParser, flag: bool = False, required: bool = True
) -> None:
    _dataset_argument(parser, flag, required)
    parser.add_argument(
        "--format", choices=list(FORMATS), help="file format (detected when omitted)"
    )
    parser.add_argument(
        "--k-core", type=int, metavar="K", help="iterative k-core filter (users and items >= K)"
    )
    parser.add_argument(
        "--duplicates",
        choices=DUPLICATE_POLICIES,
        default="first",
        help="repeated (user, item) pairs: keep the first (default) or last, or fail",
    )
    parser.add_argument(
        "--ratings-from", metavar="PATH", help="join ratings/timestamps/text from this review file"
    )
    parser.add_argument(
        "--data-option" if flag else "--set",
        action="append",
        dest="data_option" if flag else "set",
        metavar="KEY=VALUE",
        help="reader or generator option (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idprobe",
        description="Build, train and explain the ID strategies of LLM-based recommenders.",
    )
    parser.add_argument("--version", action="version", version=f"idprobe {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log progress (walks, skip-gram epochs, clustering) to stderr",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser(
        "list", help="list what idprobe knows (formats, datasets, strategies, baselines)"
    )
    listing.add_argument("what", choices=["formats", "datasets", "strategies", "baselines"])
    listing.set_defaults(run=_cmd_list)

    data = commands.add_parser("data", help="inspect datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    stats = data_commands.add_parser(
        "stats", help="users, items, ratings, sequence lengths, cold items"
    )
    _add_dataset_arguments(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(run=_cmd_data_stats)

    ids = commands.add_parser("ids", help="build and inspect ID assignments")
    ids_commands = ids.add_subparsers(dest="ids_command", metavar="SUBCOMMAND", required=True)
    build = ids_commands.add_parser(
        "build", help="give every item (and user) of a dataset an ID with one strategy"
    )
    _add_dataset_arguments(build, flag=True)
    build.add_argument("--strategy", required=True, help="see `idprobe list strategies`")
    build.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="strategy parameter (repeatable)"
    )
    build.add_argument("--seed", type=int, default=0, help="the only source of randomness")
    build.add_argument(
        "--split",
        choices=["leave-one-out", "random"],
        default="leave-one-out",
        help="whose training view the strategy sees (default: leave-one-out)",
    )
    build.add_argument("--out", required=True, metavar="DIR", help="where assignment.json goes")
    build.add_argument("--force", action="store_true", help="overwrite an existing assignment")
    build.set_defaults(run=_cmd_ids_build)

    ids_stats = ids_commands.add_parser(
        "stats", help="entities, new tokens, ID lengths, shared prefixes, cold entities"
    )
    ids_stats.add_argument("directory", metavar="DIR")
    ids_stats.add_argument("--json", action="store_true", help="print one JSON object")
    ids_stats.set_defaults(run=_cmd_ids_stats)

    export = ids_commands.add_parser(
        "export", help="write items.txt / users.txt ID files (OpenP5 / META ID format)"
    )
    export.add_argument("directory", metavar="DIR")
    export.add_argument("--out", required=True, metavar="DIR")
    export.set_defaults(run=_cmd_ids_export)

    metrics = commands.add_parser(
        "metrics",
        help="Diversity and Memorization Scores of an assignment's IDs in an embedding table",
        description="Diversity Score (DS) and Memorization Score (MS) of ID representations: "
        "the mean embedding rows of each ID's tokens (META ID paper, section 3.3).",
    )
    metrics.add_argument("--assignment", metavar="DIR", help="an `ids build` output")
    table = metrics.add_mutually_exclusive_group(required=True)
    table.add_argument("--embeddings", metavar="E.npy", help="a (vocab, d) embedding table")
    table.add_argument(
        "--initial-vectors",
        action="store_true",
        help="the assignment's own initial token vectors (skip-gram, centroids): an untrained model",
    )
    table.add_argument(
        "--run",
        dest="run_dir",  # `run` is the command's function
        metavar="RUN",
        help="a trained run (`idprobe train`): its input table (F term included), tokenizer, IDs "
        "and training view",
    )
    table.add_argument(
        "--model-dir",
        metavar="DIR",
        help="a local Hugging Face checkpoint: its input embeddings and tokenizer.json",
    )
    vocab = metrics.add_mutually_exclusive_group()
    vocab.add_argument("--vocab", metavar="FILE", help="one token per line; line n is row n-1")
    vocab.add_argument("--tokenizer", metavar="DIR", help="a directory with tokenizer.json")
    metrics.add_argument(
        "--new-rows",
        choices=NEW_ROW_METHODS,
        help="give new ID tokens missing from the vocabulary seeded random rows (else an error)",
    )
    _add_dataset_arguments(metrics, flag=True, required=False)
    metrics.add_argument(
        "--split",
        choices=["leave-one-out", "random"],
        default="leave-one-out",
        help="whose training view gives the MS ground truth (default: leave-one-out)",
    )
    metrics.add_argument(
        "--ground-truth-data",
        choices=["training", "all"],
        default="training",
        help="MS ground truth from the training view (default) or from all interactions",
    )
    metrics.add_argument("--entities", choices=ENTITY_KINDS, default="items")
    metrics.add_argument("--ds-method", choices=DIVERSITY_METHODS, default="sampled")
    metrics.add_argument("--ds-pairs", type=int, default=10_000, metavar="N")
    metrics.add_argument("--temperature", type=float, default=1.0, help="softmax temperature of DS")
    metrics.add_argument(
        "--ms-ground-truth",
        choices=["auto", *GROUND_TRUTH_KINDS],
        default="auto",
        help="auto: dev_devs with ratings, cooccurrence_cosine without",
    )
    metrics.add_argument("--ms-mode", choices=MEMORIZATION_MODES, default="paper")
    metrics.add_argument("--ms-sample", type=int, metavar="N", help="score N sampled items")
    metrics.add_argument("--seed", type=int, default=0, help="pairs, samples and new rows")
    metrics.add_argument("--json", action="store_true", help="print one JSON object")
    metrics.set_defaults(run=_cmd_metrics)

    train = commands.add_parser(
        "train",
        help="train the shared P5-style model on one strategy's IDs",
        description="Data -> IDs -> prompts -> tokenizer -> backbone -> training, into a run "
        "directory. Settings come from --config (TOML, keys = idprobe.training.RunSettings "
        "fields) and the flags below, which win.",
    )
    train.add_argument("--config", metavar="FILE.toml", help="run settings (flags override)")
    _add_dataset_arguments(train, flag=True, required=False)
    train.add_argument("--strategy", help="see `idprobe list strategies` (default rid)")
    train.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="strategy parameter (repeatable)"
    )
    train.add_argument("--backbone", help="t5-tiny (default), t5-small, llama-tiny, minilm or DIR")
    train.add_argument("--tasks", help="comma-separated, e.g. sequential,direct (the default)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--seed", type=int, help="the only source of randomness (default 0)")
    train.add_argument("--user-scheme", help="numeric (user_k, default) or strategy")
    train.add_argument("--max-history", type=int, help="history items in a prompt (default 20)")
    train.add_argument(
        "--templates-per-sample", help="'all' seen templates per sample, or a number (default 1)"
    )
    train.add_argument("--augment", help="META ID F layer: auto (default), on, off")
    train.add_argument("--init", help="new ID-token rows: normal (default), mean, vectors")
    train.add_argument("--numeric-reinit", help="numeric sub-token rows: none, normal, uniform")
    train.add_argument("--vocab-size", type=int, help="trained tokenizer size (default 2000)")
    train.add_argument("--precision", help="auto (bf16 on a capable GPU, else fp32), bf16, fp32")
    train.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    train.add_argument(
        "--select-on",
        default="ndcg@10",
        help="validation metric for model selection after each epoch, or 'none' (last epoch)",
    )
    train.add_argument(
        "--validation-users", type=int, default=1000, metavar="N", help="users scored per epoch"
    )
    train.add_argument("--out", required=True, metavar="RUN", help="the run directory")
    train.add_argument("--resume", action="store_true", help="continue a killed run")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="HR/NDCG/MRR (and RMSE, BLEU) of a trained run; writes RUN/metrics.json",
    )
    evaluate.add_argument("run_dir", metavar="RUN", help="a run directory made by `idprobe train`")
    evaluate.add_argument("--split", default="test", help="test (default) or validation")
    evaluate.add_argument("--tasks", help="comma-separated (default: the tasks it was trained on)")
    evaluate.add_argument("--beams", type=int, default=10, help="beams = ranked list length")
    evaluate.add_argument("--max-users", type=int, metavar="N", help="a seeded subset of users")
    evaluate.add_argument(
        "--filtered", action="store_true", help="drop the user's earlier items from the list"
    )
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    evaluate.add_argument("--seed", type=int, default=0, help="user subset and bootstrap")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=_cmd_evaluate)

    baseline = commands.add_parser(
        "baseline",
        help="train and evaluate a classic sequential model (pop, sasrec, gru4rec, caser, "
        "bert4rec) on idprobe's split; writes RUN/metrics.json",
        description="Leave-one-out split of idprobe.data, early stopping on validation "
        "NDCG@10, full ranking over all items with idprobe's HR/NDCG. Settings: the model's "
        "defaults < the dataset's recipe (`idprobe list baselines`) < --config < flags.",
    )
    baseline.add_argument("model", metavar="NAME", help="pop, sasrec, gru4rec, caser or bert4rec")
    _add_dataset_arguments(baseline, flag=True, required=True)
    baseline.add_argument(
        "--recipe",
        default="auto",
        metavar="FILE|none",
        help="a recipe file, or 'none' for model defaults (default: the dataset's recipe)",
    )
    baseline.add_argument(
        "--config", metavar="FILE.toml", help="BaselineSettings keys and [params]"
    )
    baseline.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a setting (epochs=50) or model hyper-parameter (hidden_size=32); repeatable",
    )
    baseline.add_argument("--epochs", type=int, help="most epochs (early stopping may end sooner)")
    baseline.add_argument("--batch-size", type=int)
    baseline.add_argument("--learning-rate", type=float)
    baseline.add_argument("--patience", type=int, help="validations without improvement")
    baseline.add_argument("--seed", type=int, help="the only source of randomness (default 0)")
    baseline.add_argument("--threads", type=int, help="torch CPU threads (default 1)")
    baseline.add_argument(
        "--device", help="auto (default: the GPU when torch sees one), cpu, cuda or cuda:N"
    )
    baseline.add_argument(
        "--eval-users", type=int, metavar="N", help="a seeded subset of test users"
    )
    baseline.add_argument(
        "--filtered", action="store_true", help="drop the user's earlier items from the ranking"
    )
    baseline.add_argument(
        "--depth", type=int, metavar="N", help="ranks beyond N count as misses (MRR@N)"
    )
    baseline.add_argument("--out", required=True, metavar="RUN", help="the run directory")
    baseline.add_argument("--resume", action="store_true", help="continue a killed run")
    baseline.add_argument("--quiet", action="store_true", help="no progress output")
    baseline.add_argument("--json", action="store_true", help="print the metrics as JSON")
    baseline.set_defaults(run=_cmd_baseline)

    compare = commands.add_parser(
        "compare",
        help="train, evaluate and explain several strategies; writes results.json + report.html",
        description="For each strategy (and sweep point): IDs -> training -> test metrics -> "
        "DS/MS trained and at initialisation -> figures -> one self-contained HTML report. "
        "Every stage is cached in --out and reused when its inputs are unchanged. Settings "
        "come from --config (TOML, keys = idprobe.compare arguments) and the flags, which win.",
    )
    compare.add_argument(
        "--strategies", help="comma-separated, e.g. rid,sid,cid,iid,meta (the default)"
    )
    compare.add_argument(
        "--baselines",
        help="classic sequential models in the same table, e.g. pop,sasrec,gru4rec,caser,bert4rec",
    )
    compare.add_argument("--config", metavar="FILE.toml", help="compare settings (flags override)")
    _add_dataset_arguments(compare, flag=True, required=False)
    compare.add_argument(
        "--backbone", help="t5-tiny (default), t5-small, llama-tiny, minilm or DIR"
    )
    compare.add_argument("--tasks", help="comma-separated, e.g. sequential,direct (the default)")
    compare.add_argument("--epochs", type=int)
    compare.add_argument("--batch-size", type=int)
    compare.add_argument("--learning-rate", type=float)
    compare.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="STRATEGY.PARAM=V (meta.n_clusters=50), a run setting (max_history=10) or a "
        "compare option (beams=20); repeatable",
    )
    compare.add_argument(
        "--sweep",
        action="append",
        metavar="NAME=V1,V2",
        help="oov_tokens=20,50,100 | indexing=items,users,both | init=random,embedding | "
        "grouping=kmeans,spectral,dbscan,rqvae (repeatable)",
    )
    compare.add_argument(
        "--eval-users", type=int, metavar="N", help="a seeded subset of test users"
    )
    compare.add_argument("--workers", type=int, help="runs trained side by side (default 1)")
    compare.add_argument("--threads", type=int, help="torch threads per run (default 1)")
    compare.add_argument("--seed", type=int, help="the only source of randomness (default 0)")
    compare.add_argument("--no-figures", action="store_true", help="skip the figures")
    compare.add_argument("--out", required=True, metavar="DIR", help="the comparison directory")
    compare.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted training run (else restart it)",
    )
    compare.add_argument("--quiet", action="store_true", help="no progress output")
    compare.set_defaults(run=_cmd_compare)

    report = commands.add_parser(
        "report",
        help="re-render DIR/report.html from DIR/results.json and its figures (no torch)",
    )
    report.add_argument("directory", metavar="DIR", help="a directory made by `idprobe compare`")
    report.add_argument("--output", metavar="FILE", help="where to write (default DIR/report.html)")
    report.set_defaults(run=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 0 for --help/--version and 2 for usage errors
        return int(exit_.code or 0)
    run: Callable[[argparse.Namespace], int] = args.run
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        return run(args)
    except IdprobeError as error:
        print(f"idprobe: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("idprobe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
