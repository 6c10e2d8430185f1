"""What every reader shares: line iteration with precise errors, value parsing, event columns."""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from idprobe.data.interactions import DuplicatePolicy, Interactions
from idprobe.errors import DataFormatError, verbatim

__all__ = ["EventColumns", "iter_lines", "parse_rating", "parse_timestamp", "require_file"]

_GZIP_MAGIC = b"\x1f\x8b"


def require_file(path: str | Path, what: str = "a data file") -> Path:
    """``path`` as a ``Path`` if it is an existing file, else a one-line error."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(
            path, None, "path", f"{what} that exists", verbatim("nothing at that path")
        )
    if not path.is_file():
        raise DataFormatError(path, None, "path", what, verbatim("a directory"))
    return path


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def iter_lines(
    path: str | Path, encoding: str = "utf-8", *, skip_blank: bool = True
) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` for each line of a plain or gzip-compressed text file.

    Line endings (LF or CRLF) are removed. Errors name the file and line: a byte sequence invalid
    in ``encoding``, a truncated or corrupt gzip stream, or a file with no records at all.
    """
    path = require_file(path)
    opener = gzip.open if _is_gzip(path) else open
    number = 0
    seen_record = False
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode(encoding)
                except UnicodeDecodeError as exc:
                    raise DataFormatError(
                        path,
                        number,
                        "encoding",
                        f"{encoding} text",
                        verbatim(f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"),
                    ) from None
                text = text.rstrip("\r\n")
                blank = not text.strip()
                if skip_blank and blank:
                    continue
                seen_record = seen_record or not blank
                yield number, text
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFormatError(
            path,
            number + 1,
            "gzip stream",
            "a complete gzip file",
            verbatim(f"a damaged stream ({exc})"),
        ) from None
    if not seen_record:
        raise DataFormatError(
            path, None, "content", "at least one record", verbatim("an empty file")
        )


def parse_rating(text: Any, path: Path | str, line: int, field: str = "rating") -> float:
    """A finite rating from ``text`` (a number or numeric string), or an error naming the line."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or isinstance(text, bool):
        raise DataFormatError(path, line, field, "a finite number", text)
    return value


def parse_timestamp(text: Any, path: Path | str, line: int, field: str = "timestamp") -> int:
    """Unix seconds from an integer or float (seconds) or an ISO-8601 date/time string."""
    if isinstance(text, bool):
        raise DataFormatError(path, line, field, "Unix seconds or an ISO-8601 date", text)
    if isinstance(text, int | float):
        if math.isfinite(text):
            return int(text)
        raise DataFormatError(path, line, field, "Unix seconds or an ISO-8601 date", text)
    try:
        return int(text)
    except (TypeError, ValueError):
        pass
    try:
        value = float(text)
        if math.isfinite(value):
            return int(value)
    except (TypeError, ValueError):
        pass
    try:
        moment = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise DataFormatError(path, line, field, "Unix seconds or an ISO-8601 date", text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class EventColumns:
    """Accumulates one entry per interaction while a reader parses a file, then builds ``Interactions``.

    Ratings are checked against the declared scale here, where the line of each rating is still
    known, so an out-of-scale rating is reported with its file and line.
    """

    def __init__(self, path: Path | str, *, with_text: bool = False) -> None:
        self.path = Path(path)
        self.with_text = with_text
        self.users: list[str] = []
        self.items: list[str] = []
        self.lines: list[int] = []
        self.ratings: list[float] = []
        self.timestamps: list[int] = []
        self.texts: list[str | None] = []
        self.summaries: list[str | None] = []

    def add(
        self,
        line: int,
        user: str,
        item: str,
        rating: float | None = None,
        timestamp: int | None = None,
        text: str | None = None,
        summary: str | None = None,
    ) -> None:
        self.users.append(user)
        self.items.append(item)
        self.lines.append(line)
        if rating is not None:
            self.ratings.append(rating)
        if timestamp is not None:
            self.timestamps.append(timestamp)
        if self.with_text:
            self.texts.append(text)
            self.summaries.append(summary)

    def add_sequence(self, line: int, user: str, items: list[str]) -> None:
        """Add one user's items (no ratings, timestamps or text), all from the same line."""
        self.users.extend([user] * len(items))
        self.items.extend(items)
        self.lines.extend([line] * len(items))

    def build(
        self,
        *,
        name: str,
        source: str,
        rating_scale: tuple[float, float] | None,
        duplicates: DuplicatePolicy,
        item_info: Mapping[str, Mapping[str, Any]] | None = None,
        user_info: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Interactions:
        if not self.users:
            raise DataFormatError(
                self.path, None, "content", "at least one interaction", verbatim("none")
            )
        n = len(self.users)
        ratings = self.ratings if len(self.ratings) == n else None
        if ratings is not None and rating_scale is not None:
            low, high = rating_scale
            values = np.asarray(ratings, dtype=np.float64)
            outside = np.flatnonzero((values < low) | (values > high))
            if outside.size:
                bad = int(outside[0])
                raise DataFormatError(
                    self.path,
                    self.lines[bad],
                    "rating",
                    f"a rating in [{low:g}, {high:g}]",
                    ratings[bad],
                )
        return Interactions.from_events(
            self.users,
            self.items,
            ratings=ratings,
            timestamps=self.timestamps if len(self.timestamps) == n else None,
            review_texts=self.texts if self.with_text else None,
            review_summaries=self.summaries if self.with_text else None,
            rating_scale=rating_scale,
            duplicates=duplicates,
            name=name,
            source=source,
            item_info=item_info,
            user_info=user_info,
            lines=self.lines,
        )
