"""The dataset formats idprobe reads, their auto-detection, and ``load_dataset``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idprobe.data.filtering import k_core as apply_k_core
from idprobe.data.interactions import DUPLICATE_POLICIES, DuplicatePolicy, Interactions
from idprobe.data.join import attach_reviews
from idprobe.data.readers import amazon, sequences, tables
from idprobe.data.synthetic import make_synthetic
from idprobe.errors import ConfigError, DataFormatError, choices, verbatim

__all__ = ["DATASETS", "FORMATS", "DataFormat", "detect_format", "load_dataset"]


@dataclass(frozen=True)
class DataFormat:
    """A readable format: its reader, a one-line description and how it is recognised."""

    name: str
    reader: Callable[..., Interactions]
    description: str
    detection: str
    detect: Callable[[Path], bool]

    @property
    def options(self) -> dict[str, Any]:
        """Reader keyword options and their defaults (what ``load_dataset(**options)`` accepts)."""
        return {
            p.name: p.default
            for p in inspect.signature(self.reader).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }


def _first_line_tokens(path: Path) -> list[str] | None:
    """Whitespace tokens of the first non-blank line of a small text sniff, or None if unreadable."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    for line in head.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            return line.split()
    return None


def _named(*names: str) -> Callable[[Path], bool]:
    def detect(path: Path) -> bool:
        if path.is_dir():
            return any((path / n).is_file() for n in names)
        return path.name in names

    return detect


def _bare_name(path: Path) -> str:
    return path.name.removesuffix(".gz")


def _is_sequence_txt(path: Path, all_numeric: bool) -> bool:
    if not path.is_file() or _bare_name(path).rsplit(".", 1)[-1] != "txt":
        return False
    tokens = _first_line_tokens(path)
    return (
        tokens is not None
        and len(tokens) >= 2
        and (not all_numeric or all(t.isdecimal() for t in tokens))
    )


def _detect_p5(path: Path) -> bool:
    if _named(*sequences.P5_SEQUENCE_NAMES)(path):
        return True
    return path.name != sequences.OPENP5_SEQUENCE_NAME and _is_sequence_txt(path, all_numeric=True)


def _detect_openp5(path: Path) -> bool:
    if _named(sequences.OPENP5_SEQUENCE_NAME)(path):
        return True
    return path.name not in sequences.P5_SEQUENCE_NAMES and _is_sequence_txt(
        path, all_numeric=False
    )


def _detect_amazon(path: Path) -> bool:
    return (
        path.is_file()
        and _bare_name(path).endswith((".json", ".jsonl"))
        and "datamaps" not in path.name
    )


def _detect_recbole(path: Path) -> bool:
    if path.is_dir():
        return len(list(path.glob("*.inter"))) == 1
    return path.name.endswith(".inter")


def _detect_table(path: Path) -> bool:
    if (
        not path.is_file()
        or not _bare_name(path).endswith((".csv", ".tsv"))
        or path.name == "ratings.csv"
    ):
        return False
    tokens = _first_line_tokens(path)
    header = [t.strip() for t in ",".join(tokens or []).replace("\t", ",").split(",")]
    return "user" in header and "item" in header


FORMATS: dict[str, DataFormat] = {
    f.name: f
    for f in (
        DataFormat(
            "p5",
            sequences.read_p5,
            "P5 / S3-Rec sequences 'user item item ...' (+ datamaps.json for raw ids)",
            "p5_sequential_data.txt or a .txt of integer ids",
            _detect_p5,
        ),
        DataFormat(
            "openp5",
            sequences.read_openp5,
            "OpenP5 / META ID user_sequence.txt 'rawUser rawItem ...'",
            "user_sequence.txt or a .txt of raw ids",
            _detect_openp5,
        ),
        DataFormat(
            "amazon",
            amazon.read_amazon,
            "Amazon reviews JSON lines, 2014 or 2018, plain or .gz",
            "*.json, *.json.gz, *.jsonl",
            _detect_amazon,
        ),
        DataFormat(
            "recbole",
            tables.read_recbole,
            "RecBole atomic .inter file with a typed header",
            "*.inter",
            _detect_recbole,
        ),
        DataFormat(
            "movielens-100k",
            tables.read_movielens_100k,
            "MovieLens-100K u.data (+ u.item titles, Latin-1)",
            "u.data",
            _named("u.data"),
        ),
        DataFormat(
            "movielens-dat",
            tables.read_movielens_dat,
            "MovieLens-1M/10M ratings.dat (+ movies.dat titles)",
            "ratings.dat",
            _named("ratings.dat"),
        ),
        DataFormat(
            "movielens-csv",
            tables.read_movielens_csv,
            "MovieLens ratings.csv (+ movies.csv titles)",
            "ratings.csv",
            _named("ratings.csv"),
        ),
        DataFormat(
            "csv",
            tables.read_table,
            "generic CSV/TSV with a header naming the columns",
            "*.csv / *.tsv whose header has 'user' and 'item'",
            _detect_table,
        ),
    )
}

#: Built-in datasets by name (no file needed).
DATASETS: dict[str, Callable[..., Interactions]] = {"synthetic": make_synthetic}


def detect_format(path: str | Path) -> str:
    """The name of the one format that recognises ``path``; an error if none or several do."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(
            path,
            None,
            "path",
            f"an existing file or directory, or a dataset name ({choices(DATASETS)})",
            verbatim("nothing at that path"),
        )
    matches = [name for name, fmt in FORMATS.items() if fmt.detect(path)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(
            "format", f"{choices(FORMATS)} (cannot tell the format of {path})", verbatim("no match")
        )
    raise ConfigError(
        "format",
        f"one format, but {path} could be {choices(matches)}; pass format=NAME",
        verbatim("an ambiguous file"),
    )


def _check_options(
    where: str, function: Callable[..., Any], options: dict[str, Any], skip: tuple[str, ...] = ()
) -> None:
    params = inspect.signature(function).parameters
    valid = [
        p for p in params if p not in skip and params[p].kind is not inspect.Parameter.VAR_KEYWORD
    ]
    for key in options:
        if key not in valid:
            raise ConfigError(f"{where} option", choices(valid) if valid else "no options", key)


def load_dataset(
    path: str | Path,
    format: str | None = None,
    *,
    k_core: int | None = None,
    duplicates: DuplicatePolicy = "first",
    ratings_from: str | Path | None = None,
    ratings_format: str | None = None,
    missing_reviews: str = "error",
    **options: Any,
) -> Interactions:
    """Load a dataset from a file, a directory, or a built-in name such as ``"synthetic"``.

    Args:
        path: a data file or directory, or a name in ``DATASETS``.
        format: a name in ``FORMATS``; detected from the path when ``None`` (an error names the
            candidates when the path is ambiguous).
        k_core: when given, iterative k-core filtering (every user and item keeps >= k interactions).
        duplicates: repeated (user, item) pairs: ``first`` (default), ``last`` or ``error``.
        ratings_from: a second dataset (e.g. Amazon ``reviews_Beauty_5.json.gz``) whose ratings,
            timestamps and texts are joined onto ``path`` by raw user and item ids; this is how
            the P5 Beauty sequences get ratings (see ``attach_reviews``).
        ratings_format: format of ``ratings_from`` (detected when ``None``).
        missing_reviews: ``"error"`` or ``"drop"``, for interactions ``ratings_from`` does not cover.
        **options: options of the chosen reader (``FORMATS[name].options``) or generator; an
            unknown option is an error that lists the valid ones.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise ConfigError("duplicates", choices(DUPLICATE_POLICIES), duplicates)
    if isinstance(path, str) and path in DATASETS and not Path(path).exists():
        if format is not None:
            raise ConfigError("format", f"None for the built-in dataset {path!r}", format)
        builder = DATASETS[path]
        _check_options(f"dataset '{path}'", builder, options)
        data = builder(**options)
    else:
        if format is None:
            format = detect_format(path)
        if format not in FORMATS:
            raise ConfigError("format", choices(FORMATS), format)
        reader = FORMATS[format].reader
        _check_options(f"format '{format}'", reader, options, skip=("path", "duplicates"))
        data = reader(path, duplicates=duplicates, **options)
    if ratings_from is not None:
        reviews = load_dataset(ratings_from, ratings_format, duplicates=duplicates)
        data = attach_reviews(data, reviews, missing=missing_reviews)  # type: ignore[arg-type]
    if k_core is not None:
        data = apply_k_core(data, k_core)
    return data
