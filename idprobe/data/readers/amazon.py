"""Reader of Amazon review dumps (2014 and 2018 versions), JSON lines, plain or gzip-compressed."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from idprobe.data.interactions import DuplicatePolicy, Interactions
from idprobe.data.readers._common import (
    EventColumns,
    iter_lines,
    parse_rating,
    parse_timestamp,
    require_file,
)
from idprobe.errors import DataFormatError, verbatim

__all__ = ["read_amazon"]

_REQUIRED = ("reviewerID", "asin", "overall", "unixReviewTime")


def _parse_record(text: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        # Some 2014 dumps are "loose JSON" (Python literals with single quotes), which their
        # authors read with eval; literal_eval reads them without executing anything.
        try:
            record = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise DataFormatError(
                path, number, "json", "one JSON object per line", verbatim(exc.msg)
            ) from None
    if not isinstance(record, dict):
        raise DataFormatError(
            path, number, "json", "one JSON object per line", verbatim(type(record).__name__)
        )
    return record


def read_amazon(
    path: str | Path,
    *,
    rating_scale: tuple[float, float] | None = (1.0, 5.0),
    duplicates: DuplicatePolicy = "first",
    text: bool = True,
) -> Interactions:
    """Read Amazon reviews: ``reviewerID``, ``asin``, ``overall``, ``unixReviewTime``, ``reviewText``, ``summary``.

    Works for the 2014 (McAuley et al.) and 2018 (Ni et al.) dumps. A user who reviewed the same
    item several times (the 2018 files list one review per product variant) is handled by
    ``duplicates``: by default the chronologically first review is kept.

    Args:
        path: a ``.json`` / ``.json.gz`` file with one review per line.
        rating_scale: ratings outside it are an error naming the line.
        duplicates: policy for repeated (reviewer, asin) pairs.
        text: keep ``reviewText`` and ``summary`` (set False to save memory).
    """
    path = require_file(path, "an Amazon reviews JSON file")
    events = EventColumns(path, with_text=text)
    for number, line in iter_lines(path, "utf-8"):
        record = _parse_record(line, path, number)
        for key in _REQUIRED:
            if record.get(key) in (None, ""):
                raise DataFormatError(
                    path,
                    number,
                    key,
                    "a value",
                    verbatim("no such field" if key not in record else "an empty value"),
                )
        events.add(
            number,
            str(record["reviewerID"]),
            str(record["asin"]),
            rating=parse_rating(record["overall"], path, number, "overall"),
            timestamp=parse_timestamp(record["unixReviewTime"], path, number, "unixReviewTime"),
            text=record.get("reviewText") if text else None,
            summary=record.get("summary") if text else None,
        )
    name = path.name.removesuffix(".gz").removesuffix(".json").removesuffix(".jsonl")
    return events.build(
        name=name, source=str(path), rating_scale=rating_scale, duplicates=duplicates
    )
