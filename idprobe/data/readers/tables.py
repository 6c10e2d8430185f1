"""Readers of delimited tables: RecBole atomic ``.inter`` files, MovieLens files, generic CSV/TSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from idprobe.data.interactions import DuplicatePolicy, Interactions
from idprobe.data.readers._common import (
    EventColumns,
    iter_lines,
    parse_rating,
    parse_timestamp,
    require_file,
)
from idprobe.errors import DataFormatError, verbatim

__all__ = [
    "read_movielens_100k",
    "read_movielens_csv",
    "read_movielens_dat",
    "read_recbole",
    "read_table",
]


def iter_rows(path: Path, sep: str, encoding: str = "utf-8") -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of a delimited file; quoted fields may contain the separator.

    A multi-character ``sep`` (MovieLens ``::``) splits plainly, without quoting rules.
    """
    if len(sep) > 1:
        for number, text in iter_lines(path, encoding):
            yield number, text.split(sep)
        return
    lines = (text + "\n" for _, text in iter_lines(path, encoding, skip_blank=False))
    reader = csv.reader(lines, delimiter=sep)
    try:
        for row in reader:
            if row and any(field.strip() for field in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise DataFormatError(
            path, reader.line_num, "row", "a well-formed delimited row", verbatim(str(exc))
        ) from None


def _check_width(
    path: Path, number: int, row: list[str], width: int, header: list[str] | None = None
) -> None:
    if len(row) != width:
        expected = f"{width} fields" + (f" ({', '.join(header)})" if header else "")
        raise DataFormatError(path, number, "row", expected, verbatim(f"{len(row)} fields"))


def _columns(
    path: Path, header: list[str], wanted: dict[str, str | None], optional: set[str]
) -> dict[str, int]:
    """Positions of the wanted columns in ``header``.

    A missing column is an error naming it, unless its role is in ``optional`` (then it is absent).
    """
    positions: dict[str, int] = {}
    for role, column in wanted.items():
        if column is None:
            continue
        if column not in header:
            if role not in optional:
                raise DataFormatError(
                    path, 1, "header", f"a column named {column!r} (the {role})", header
                )
            continue
        positions[role] = header.index(column)
    return positions


def _fill(
    events: EventColumns, path: Path, number: int, row: list[str], at: dict[str, int]
) -> None:
    events.add(
        number,
        row[at["user"]],
        row[at["item"]],
        rating=parse_rating(row[at["rating"]], path, number) if "rating" in at else None,
        timestamp=parse_timestamp(row[at["timestamp"]], path, number)
        if "timestamp" in at
        else None,
        text=row[at["text"]] if "text" in at else None,
        summary=row[at["summary"]] if "summary" in at else None,
    )


def read_table(
    path: str | Path,
    *,
    user: str = "user",
    item: str = "item",
    rating: str | None = "rating",
    timestamp: str | None = "timestamp",
    text: str | None = None,
    summary: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
    rating_scale: tuple[float, float] | None = None,
    duplicates: DuplicatePolicy = "first",
) -> Interactions:
    """Read a generic delimited table with a header row naming its columns.

    ``user`` and ``item`` name required columns. ``rating`` and ``timestamp`` default to the columns
    ``rating`` / ``timestamp`` and are simply absent when the file has no such column; any other
    name given for them must exist. Timestamps may be Unix seconds or ISO-8601 dates.

    Args:
        sep: field separator; by default tab for ``.tsv`` files and comma otherwise.
        rating_scale: when given, ratings outside it are an error naming the line.
    """
    path = require_file(path, "a CSV/TSV file")
    if sep is None:
        sep = "\t" if path.name.removesuffix(".gz").endswith((".tsv", ".tab")) else ","
    rows = iter_rows(path, sep, encoding)
    number, header = next(rows)
    header = [h.strip() for h in header]
    wanted = {
        "user": user,
        "item": item,
        "rating": rating,
        "timestamp": timestamp,
        "text": text,
        "summary": summary,
    }
    # The default rating/timestamp column names are optional; names the caller chose are required.
    optional = {role for role in ("rating", "timestamp") if wanted[role] == role}
    at = _columns(path, header, wanted, optional)
    events = EventColumns(path, with_text="text" in at or "summary" in at)
    for number, row in rows:
        _check_width(path, number, row, len(header), header)
        _fill(events, path, number, row, at)
    return events.build(
        name=path.name.split(".")[0],
        source=str(path),
        rating_scale=rating_scale,
        duplicates=duplicates,
    )


#: RecBole field types (https://recbole.io atomic files): ``name:type`` in the header.
_RECBOLE_TYPES = ("token", "token_seq", "float", "float_seq")


def read_recbole(
    path: str | Path,
    *,
    rating_scale: tuple[float, float] | None = None,
    duplicates: DuplicatePolicy = "first",
) -> Interactions:
    """Read a RecBole atomic ``.inter`` file: tab-separated, typed header such as
    ``user_id:token  item_id:token  rating:float  timestamp:float``.

    ``user_id`` and ``item_id`` are required; ``rating``, ``timestamp``, ``review`` (text) and
    ``summary`` are used when present; other fields are ignored.
    """
    path = require_file(path, "a RecBole .inter file")
    rows = iter_rows(path, "\t")
    _, header = next(rows)
    names = []
    for field in header:
        name, _, kind = field.strip().partition(":")
        if kind not in _RECBOLE_TYPES:
            raise DataFormatError(
                path,
                1,
                "header",
                f"'name:type' fields with type in {', '.join(_RECBOLE_TYPES)}",
                field,
            )
        names.append(name)
    wanted = {
        "user": "user_id",
        "item": "item_id",
        "rating": "rating",
        "timestamp": "timestamp",
        "text": "review",
        "summary": "summary",
    }
    at = _columns(path, names, wanted, optional={"rating", "timestamp", "text", "summary"})
    events = EventColumns(path, with_text="text" in at or "summary" in at)
    for number, row in rows:
        _check_width(path, number, row, len(names), header)
        _fill(events, path, number, row, at)
    return events.build(
        name=path.stem,
        source=str(path),
        rating_scale=rating_scale,
        duplicates=duplicates,
    )


def _titles(
    path: Path, sep: str, encoding: str, title_field: int = 1, header: bool = False
) -> dict[str, dict[str, str]]:
    """``{"title": {item id: title}}`` from a MovieLens item file beside the ratings, when present."""
    if not path.is_file():
        return {}
    titles: dict[str, str] = {}
    for number, row in iter_rows(path, sep, encoding):
        if header and number == 1:
            continue
        if len(row) <= title_field:
            raise DataFormatError(
                path,
                number,
                "title",
                f"at least {title_field + 1} fields",
                verbatim(f"{len(row)} fields"),
            )
        titles[row[0]] = row[title_field]
    return {"title": titles}


def _movielens_100k_users(path: Path) -> dict[str, dict[str, str]]:
    """``{"age"|"gender"|"occupation": {user id: value}}`` from ``u.user`` when present."""
    if not path.is_file():
        return {}
    columns: dict[str, dict[str, str]] = {"age": {}, "gender": {}, "occupation": {}}
    for number, row in iter_rows(path, "|", "latin-1"):
        _check_width(path, number, row, 5, ["user", "age", "gender", "occupation", "zip code"])
        for key, value in zip(columns, row[1:4], strict=True):
            columns[key][row[0]] = value
    return columns


def _read_movielens(
    data: Path,
    sep: str,
    *,
    skip_header: bool,
    name: str,
    rating_scale: tuple[float, float] | None,
    duplicates: DuplicatePolicy,
    item_info: dict[str, dict[str, str]],
    user_info: dict[str, dict[str, str]] | None = None,
) -> Interactions:
    """Rows ``user, item, rating, time`` of any MovieLens ratings file, as ``Interactions``."""
    events = EventColumns(data)
    for number, row in iter_rows(data, sep):
        if skip_header and number == 1:
            continue
        _check_width(data, number, row, 4, ["user", "item", "rating", "timestamp"])
        events.add(
            number,
            row[0].strip(),
            row[1].strip(),
            rating=parse_rating(row[2], data, number),
            timestamp=parse_timestamp(row[3], data, number),
        )
    return events.build(
        name=name,
        source=str(data),
        rating_scale=rating_scale,
        duplicates=duplicates,
        item_info=item_info,
        user_info=user_info,
    )


def _movielens_file(path: str | Path, name: str) -> Path:
    path = Path(path)
    return require_file(path / name if path.is_dir() else path, f"a MovieLens {name}")


def read_movielens_100k(
    path: str | Path,
    *,
    rating_scale: tuple[float, float] | None = (1.0, 5.0),
    duplicates: DuplicatePolicy = "first",
) -> Interactions:
    """Read MovieLens-100K ``u.data`` (tab-separated user, item, rating, Unix time).

    Titles come from ``u.item`` beside it (pipe-separated, Latin-1 encoded), and the users' age,
    gender and occupation from ``u.user``, when present. ``path`` may be the ``ml-100k``
    directory or the ``u.data`` file.
    """
    data = _movielens_file(path, "u.data")
    return _read_movielens(
        data,
        "\t",
        skip_header=False,
        name="movielens-100k" if data.parent.name in ("", "ml-100k") else data.parent.name,
        rating_scale=rating_scale,
        duplicates=duplicates,
        item_info=_titles(data.parent / "u.item", "|", "latin-1"),
        user_info=_movielens_100k_users(data.parent / "u.user"),
    )


def read_movielens_dat(
    path: str | Path,
    *,
    rating_scale: tuple[float, float] | None = (1.0, 5.0),
    duplicates: DuplicatePolicy = "first",
) -> Interactions:
    """Read MovieLens-1M/10M ``ratings.dat`` (``user::item::rating::time``), titles from ``movies.dat``."""
    data = _movielens_file(path, "ratings.dat")
    return _read_movielens(
        data,
        "::",
        skip_header=False,
        name=data.parent.name or "movielens",
        rating_scale=rating_scale,
        duplicates=duplicates,
        item_info=_titles(data.parent / "movies.dat", "::", "latin-1"),
    )


def read_movielens_csv(
    path: str | Path,
    *,
    rating_scale: tuple[float, float] | None = (0.5, 5.0),
    duplicates: DuplicatePolicy = "first",
) -> Interactions:
    """Read MovieLens ``ratings.csv`` (``userId,movieId,rating,timestamp`` header), titles from ``movies.csv``."""
    data = _movielens_file(path, "ratings.csv")
    rows = iter_rows(data, ",")
    _, header = next(rows)
    expected = ["userId", "movieId", "rating", "timestamp"]
    if [h.strip() for h in header] != expected:
        raise DataFormatError(data, 1, "header", ",".join(expected), ",".join(header))
    return _read_movielens(
        data,
        ",",
        skip_header=True,
        name=data.parent.name or "movielens",
        rating_scale=rating_scale,
        duplicates=duplicates,
        item_info=_titles(data.parent / "movies.csv", ",", "utf-8", header=True),
    )
