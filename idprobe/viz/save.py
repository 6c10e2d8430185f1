"""Write a figure as PNG and SVG, atomically and byte-for-byte reproducibly.

The report links ``figures/<key>.png`` and ``.svg`` (SPEC: dpi 100). The same figure gives the
same bytes on every save: the PNG carries no "Software" text chunk, the SVG no date and, with
the fixed ``svg.hashsalt`` of ``_style.RC``, the same element ids. Each file is rendered in
memory and then written with ``idprobe.results.atomic_write_bytes`` (temp file + rename), so a
reader never sees half a figure.
"""

from __future__ import annotations

import io
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from idprobe.errors import ConfigError, verbatim
from idprobe.results import atomic_write_bytes
from idprobe.viz import _checks
from idprobe.viz._style import theme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_figure"]


def _render(fig: Figure, fmt: str, dpi: int) -> bytes:
    buffer = io.BytesIO()
    # "Software" (PNG) and "Date" (SVG) are the metadata that change between versions or runs.
    metadata = {"Software": None} if fmt == "png" else {"Date": None}
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def save_figure(fig: Figure, stem: str | PathLike[str], *, dpi: int = 100) -> tuple[Path, Path]:
    """Write ``stem.png`` and ``stem.svg`` and return their paths ``(png, svg)``.

    ``stem`` is a path without extension (``OUT/figures/heatmaps``); a dot in its name is
    kept (``figures/meta G=0.5`` gives ``meta G=0.5.png``). The parent folder is created.
    ``dpi`` sets the PNG resolution (the SVG is vector; its nominal size uses the same dpi).
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise ConfigError("fig", "a matplotlib.figure.Figure", verbatim(type(fig).__name__))
    if not isinstance(stem, str | PathLike):
        raise ConfigError("stem", "a path (str or Path)", verbatim(type(stem).__name__))
    dpi = _checks.integer("dpi", dpi, minimum=1)
    base = Path(stem)
    if base.name in ("", ".", ".."):
        raise ConfigError("stem", "a path ending in a file name", str(stem))
    png = base.parent / f"{base.name}.png"
    svg = base.parent / f"{base.name}.svg"
    with theme():
        png_bytes = _render(fig, "png", dpi)
        svg_bytes = _render(fig, "svg", dpi)
    atomic_write_bytes(png, png_bytes)
    atomic_write_bytes(svg, svg_bytes)
    return png, svg
