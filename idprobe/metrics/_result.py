"""How metric results render themselves: ``to_dict``, ``to_frame`` and ``_repr_html_``."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class MetricResult:
    """Mixin for frozen metric dataclasses: JSON-ready dict, one-row frame, HTML table."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (lists for arrays), ready for JSON."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_frame(self) -> Any:
        """A pandas DataFrame (one row per scalar result, one row per entry for curves)."""
        try:
            import pandas as pd
        except ImportError as error:  # pragma: no cover - pandas is in the analysis extra
            raise ImportError("to_frame needs pandas: pip install 'idprobe[analysis]'") from error
        record = self.to_dict()
        if any(isinstance(v, list) for v in record.values()):
            return pd.DataFrame(record)
        return pd.DataFrame([record])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(_format(v))}</td></tr>"
            for k, v in self.to_dict().items()
        )
        title = html.escape(type(self).__name__)
        return f"<table><caption>{title}</caption>{rows}</table>"


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list) and len(value) > 8:
        return f"[{', '.join(_format(v) for v in value[:8])}, ...] ({len(value)})"
    if isinstance(value, list):
        return f"[{', '.join(_format(v) for v in value)}]"
    return str(value)
