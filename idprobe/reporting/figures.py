"""Figures inlined into the report as PNG data URIs.

A figure listed in results.json but absent on disk (or not a PNG, or outside the run directory)
does not stop the report: it becomes a visible notice and a warning, so a half-finished run still
gets a report that says what is missing.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class InlineFigure:
    """A figure ready for the page: ``data_uri`` is empty when the file could not be used, and
    ``problem`` then says why (shown in place of the image)."""

    key: str
    title: str
    caption: str
    path: str
    data_uri: str
    problem: str = ""


def _read_png(directory: Path, relative: str) -> tuple[str, str]:
    """``(data URI, "")`` or ``("", problem)`` for a PNG path relative to the run directory."""
    if not relative:
        return "", "no PNG listed"
    root = directory.resolve()
    path = (root / relative).resolve()
    # A results.json must not smuggle other files (../../etc/...) into a report that gets shared.
    if not path.is_relative_to(root):
        return "", "outside the run directory"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "", "missing"
    except OSError as exc:
        return "", f"unreadable ({exc.strerror or exc})"
    if not data.startswith(PNG_SIGNATURE):
        return "", "not a PNG file"
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii"), ""


def inline_figures(
    figures: list[dict[str, Any]], directory: Path
) -> tuple[list[InlineFigure], list[dict[str, Any]]]:
    """Read every listed PNG; return the figures and a warning per figure that could not be used."""
    out, problems = [], []
    for i, entry in enumerate(figures):
        key = str(entry.get("key") or f"figure {i + 1}")
        relative = str(entry.get("png") or "")
        data_uri, problem = _read_png(directory, relative)
        if problem:
            message = f"figure {problem}: {relative or key}"
            log.warning("report: %s (in %s)", message, directory)
            problems.append({"variant": None, "kind": "missing_figure", "message": message})
        out.append(
            InlineFigure(
                key=key,
                title=str(entry.get("title") or key),
                caption=str(entry.get("caption") or ""),
                path=relative,
                data_uri=data_uri,
                problem=f"figure {problem}: {relative or key}" if problem else "",
            )
        )
    return out, problems
