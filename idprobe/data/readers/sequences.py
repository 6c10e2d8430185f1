"""Readers of whitespace-separated sequence files: P5 / S3-Rec and OpenP5 / META ID.

Both formats hold one user per line, the user first and then the user's items in chronological
order. They carry no ratings, timestamps or text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from idprobe.data.interactions import DuplicatePolicy, Interactions
from idprobe.data.readers._common import EventColumns, iter_lines, require_file
from idprobe.errors import DataFormatError, verbatim

__all__ = ["P5_DATAMAP_NAMES", "P5_SEQUENCE_NAMES", "read_openp5", "read_p5"]

#: File names the P5 reader looks for when given a directory, in order.
P5_SEQUENCE_NAMES = ("p5_sequential_data.txt", "sequential_data.txt")
P5_DATAMAP_NAMES = ("p5_datamaps.json", "datamaps.json")
OPENP5_SEQUENCE_NAME = "user_sequence.txt"


def _resolve(path: str | Path, names: tuple[str, ...], what: str) -> Path:
    path = Path(path)
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        raise DataFormatError(
            path, None, "path", f"a directory holding {' or '.join(names)}", verbatim("neither")
        )
    return require_file(path, what)


def _read_datamaps(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``id2user`` and ``id2item`` of a P5 ``datamaps.json`` (file integer id -> raw id)."""
    require_file(path, "a datamaps JSON file")
    try:
        maps = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            path, None, "encoding", "UTF-8 JSON", verbatim(f"invalid byte at offset {exc.start}")
        ) from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, exc.lineno, "json", "valid JSON", verbatim(exc.msg)) from None
    if not isinstance(maps, dict):
        raise DataFormatError(
            path,
            None,
            "json",
            "a JSON object with id2user and id2item",
            verbatim(type(maps).__name__),
        )
    for key in ("id2user", "id2item"):
        if not isinstance(maps.get(key), dict):
            raise DataFormatError(
                path, None, key, "an object mapping file ids to raw ids", maps.get(key)
            )
    return {str(k): str(v) for k, v in maps["id2user"].items()}, {
        str(k): str(v) for k, v in maps["id2item"].items()
    }


def _sequence_lines(sequence_file: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, tokens)`` of a sequence file, each line a user and at least one item."""
    for number, text in iter_lines(sequence_file, "utf-8"):
        tokens = text.split()
        if len(tokens) < 2:
            raise DataFormatError(
                sequence_file, number, "items", "a user id followed by at least one item id", text
            )
        yield number, tokens


def read_p5(
    path: str | Path,
    *,
    datamaps: str | Path | None = "auto",
    duplicates: DuplicatePolicy = "first",
) -> Interactions:
    """Read a P5 / S3-Rec sequence file: ``user_id item_id item_id ...`` per line (CRLF tolerated).

    With a ``datamaps.json`` (P5's ``id2user`` / ``id2item``) the raw ids (Amazon reviewer ids and
    ASINs) are restored; that is how other files (e.g. Amazon reviews with ratings) can be joined
    on. Never use the file's integer item ids as IDs: they were numbered over the full sequences
    and leak the held-out item (REFERENCE.md, pitfall 1).

    Args:
        path: the sequence file, or a directory holding ``p5_sequential_data.txt``.
        datamaps: the datamaps JSON; ``"auto"`` uses ``p5_datamaps.json`` or ``datamaps.json``
            beside the sequence file when present; ``None`` keeps the file's integer ids.
        duplicates: policy for an item repeated within a user's line.
    """
    sequence_file = _resolve(path, P5_SEQUENCE_NAMES, "a P5 sequence file")
    if datamaps == "auto":
        found = [
            sequence_file.parent / n
            for n in P5_DATAMAP_NAMES
            if (sequence_file.parent / n).is_file()
        ]
        datamaps = found[0] if found else None
    id2user = id2item = None
    if datamaps is not None:
        id2user, id2item = _read_datamaps(Path(datamaps))
    events = EventColumns(sequence_file)
    for number, tokens in _sequence_lines(sequence_file):
        user, items = tokens[0], tokens[1:]
        if not "".join(tokens).isdecimal():  # P5 / S3-Rec files hold integer ids only
            bad = next(k for k, token in enumerate(tokens) if not token.isdecimal())
            field, token = ("user" if bad == 0 else "item"), tokens[bad]
            raise DataFormatError(sequence_file, number, field, "an integer id", token)
        if id2user is not None and id2item is not None:
            if user not in id2user:
                raise DataFormatError(
                    sequence_file, number, "user", f"a user id listed in {datamaps}", user
                )
            user = id2user[user]
            missing = [i for i in items if i not in id2item]
            if missing:
                raise DataFormatError(
                    sequence_file, number, "item", f"item ids listed in {datamaps}", missing[0]
                )
            items = [id2item[i] for i in items]
        events.add_sequence(number, user, items)
    source = f"{sequence_file}" + (f" + {datamaps}" if datamaps is not None else "")
    return events.build(
        name=_dataset_name(sequence_file), source=source, rating_scale=None, duplicates=duplicates
    )


def read_openp5(path: str | Path, *, duplicates: DuplicatePolicy = "first") -> Interactions:
    """Read an OpenP5 / META ID ``user_sequence.txt``: ``rawUser rawItem rawItem ...`` per line.

    Args:
        path: the file, or a directory holding ``user_sequence.txt``.
        duplicates: policy for an item repeated within a user's line.
    """
    sequence_file = _resolve(path, (OPENP5_SEQUENCE_NAME,), "an OpenP5 user_sequence.txt")
    events = EventColumns(sequence_file)
    for number, tokens in _sequence_lines(sequence_file):
        events.add_sequence(number, tokens[0], tokens[1:])
    return events.build(
        name=_dataset_name(sequence_file),
        source=str(sequence_file),
        rating_scale=None,
        duplicates=duplicates,
    )


def _dataset_name(path: Path) -> str:
    """A readable dataset name: the directory name for generic file names (``amazon-beauty``)."""
    return path.parent.name or path.stem
