"""The ``idprobe`` command line: argument parsing and printing only; the work is in the library.

Every error caused by input is one line on stderr (``idprobe: error: ...``) and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from idprobe._version import __version__
from idprobe.data import DATASETS, DUPLICATE_POLICIES, FORMATS, dataset_stats, load_dataset
from idprobe.errors import ConfigError, IdprobeError

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


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "formats":
        width = max(len(n) for n in FORMATS)
        for name, fmt in FORMATS.items():
            print(f"{name:<{width}}  {fmt.description}")
            print(f"{'':<{width}}  detected from: {fmt.detection}")
            options = ", ".join(f"{k}={v!r}" for k, v in fmt.options.items())
            print(f"{'':<{width}}  options: {options}")
    else:
        for name, builder in DATASETS.items():
            summary = (builder.__doc__ or "").strip().splitlines()[0]
            print(f"{name}  {summary}")
    return 0


def _cmd_data_stats(args: argparse.Namespace) -> int:
    data = load_dataset(
        args.dataset,
        args.format,
        k_core=args.k_core,
        duplicates=args.duplicates,
        ratings_from=args.ratings_from,
        **_settings(args.set),
    )
    stats = dataset_stats(data)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        print(stats.to_text())
    return 0


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset",
        metavar="PATH|NAME",
        help=f"a data file or directory, or one of: {', '.join(DATASETS)}",
    )
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
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="reader or generator option (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idprobe",
        description="Build, train and explain the ID strategies of LLM-based recommenders.",
    )
    parser.add_argument("--version", action="version", version=f"idprobe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="list what idprobe knows (formats, datasets)")
    listing.add_argument("what", choices=["formats", "datasets"])
    listing.set_defaults(run=_cmd_list)

    data = commands.add_parser("data", help="inspect datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    stats = data_commands.add_parser(
        "stats", help="users, items, ratings, sequence lengths, cold items"
    )
    _add_dataset_arguments(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(run=_cmd_data_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 0 for --help/--version and 2 for usage errors
        return int(exit_.code or 0)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except IdprobeError as error:
        print(f"idprobe: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("idprobe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
