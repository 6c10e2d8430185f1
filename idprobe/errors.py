"""Typed errors with one-line messages that name what is wrong and where.

Every error a user can cause (a bad file, an unknown option, an impossible parameter) is an
``IdprobeError``. Its ``str()`` is a single line meant to be shown as is: the CLI prints it to
stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike

__all__ = ["ConfigError", "DataFormatError", "DatasetError", "IdprobeError", "choices", "verbatim"]


class IdprobeError(Exception):
    """Base class of the errors caused by input: files, parameters, options."""


def _short(found: object, limit: int = 60) -> str:
    text = repr(found)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DataFormatError(IdprobeError, ValueError):
    """A data file does not have the expected format.

    The message reads ``FILE:LINE: field 'FIELD': expected EXPECTED, found FOUND``; ``line`` is
    1-based and omitted when the problem concerns the whole file.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        line: int | None,
        field: str,
        expected: str,
        found: object,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.expected = expected
        self.found = found
        where = f"{self.path}:{line}" if line is not None else self.path
        found_text = found if isinstance(found, _Verbatim) else _short(found)
        super().__init__(f"{where}: field '{field}': expected {expected}, found {found_text}")


class _Verbatim(str):
    """A description to print as is in an error (not repr-quoted), e.g. ``end of file``."""


def verbatim(text: str) -> str:
    """Mark ``text`` as a description rather than a value, so errors print it unquoted."""
    return _Verbatim(text)


class ConfigError(IdprobeError, ValueError):
    """A parameter or option has an invalid value, or is unknown.

    The message reads ``PARAMETER: expected EXPECTED, found FOUND``.
    """

    def __init__(self, parameter: str, expected: str, found: object) -> None:
        self.parameter = parameter
        self.expected = expected
        self.found = found
        found_text = found if isinstance(found, _Verbatim) else _short(found)
        super().__init__(f"{parameter}: expected {expected}, found {found_text}")


class DatasetError(IdprobeError, ValueError):
    """The data parses but cannot be used as asked (e.g. k-core filtering left nothing)."""


def choices(values: Iterable[str]) -> str:
    """Format valid choices for an error message: ``one of 'a', 'b', 'c'``."""
    listed = ", ".join(repr(v) for v in values)
    return f"one of {listed}"
