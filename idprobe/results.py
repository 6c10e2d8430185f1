"""Result records with provenance, and atomic writing of result files.

Everything idprobe writes to disk carries a ``Provenance``: which idprobe version and git commit
produced it, with which seed and which resolved configuration. Files are written atomically
(temporary file in the same directory, then ``os.replace``) so a killed run never leaves a
half-written result behind.
"""

from __future__ import annotations

import copy
import html
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from idprobe._version import __version__
from idprobe.errors import ConfigError, choices, verbatim

if TYPE_CHECKING:  # pandas is imported inside to_frame only: results.py stays light to import
    import pandas as pd

__all__ = [
    "COMPARISON_SCHEMA",
    "KINDS",
    "LOWER_IS_BETTER",
    "ComparisonResult",
    "Provenance",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_npz",
    "atomic_write_text",
    "git_commit",
]


@cache
def git_commit() -> str | None:
    """The git commit of the idprobe source tree, with ``+dirty`` if it has local changes.

    ``None`` when idprobe is not running from a git checkout (e.g. an installed wheel).
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


@dataclass(frozen=True)
class Provenance:
    """Where a result came from: enough to reproduce it.

    ``config`` is the resolved configuration (every parameter, defaults included) whose keys are
    the arguments of the Python API that produced the result.
    """

    seed: int | None
    config: dict[str, Any] = field(default_factory=dict)
    version: str = __version__
    git: str | None = field(default_factory=git_commit)
    python: str = field(default_factory=lambda: sys.version.split()[0])
    platform: str = field(default_factory=platform.platform)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        return cls(**data)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file owner-only (0600); give it the mode open() would have.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    """The process umask (read by setting it, so set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_npz(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """Atomically write ``arrays`` as a compressed ``.npz`` (see ``atomic_write_bytes``)."""
    import io

    import numpy as np  # a core dependency, imported here because few callers write arrays

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text (see ``atomic_write_bytes``)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented, key-sorted JSON (stable bytes for equal objects)."""
    return atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


# --- The result of `idprobe compare` ------------------------------------------------------------

COMPARISON_SCHEMA = "idprobe.comparison/1"
"""The ``schema`` value of a compare ``results.json``; bump the number on an incompatible change."""

LOWER_IS_BETTER = frozenset({"rmse", "mae"})
"""Metrics whose best value is the smallest (rating errors); every other metric is higher-better."""

KINDS = ("strategy", "baseline")
"""The ``kind`` of a results.json variant: an ID strategy's run, or a classic sequential baseline
(no IDs, no representations, the sequential task only). A variant without ``kind`` (results.json
written before baselines existed) is a strategy."""

# The metrics a compact view shows for a task, in this order; a task with none of them (a metric
# set we do not know) shows all of its metrics instead.
_MAIN_METRICS = ("hr@10", "ndcg@10", "rmse", "mae", "bleu4")

# Top-level keys of results.json besides "schema", with the JSON type each must have.
_COMPARISON_KEYS: dict[str, type] = {
    "title": str,
    "provenance": dict,
    "dataset": dict,
    "setup": dict,
    "variants": list,
    "sweeps": list,
    "significance": list,
    "figures": list,
    "warnings": list,
}
_JSON_TYPE_NAMES = {str: "a string", dict: "a JSON object", list: "a JSON array"}


def _type_name(value: object) -> str:
    return verbatim(
        {dict: "a JSON object", list: "a JSON array", str: "a string", type(None): "null"}.get(
            type(value), type(value).__name__
        )
    )


def _float(value: object) -> float:
    """A metric number as float; null (or anything not a number) is NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("nan")
    return float(value)


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is better (rating errors ``rmse`` and ``mae``)."""
    return metric in LOWER_IS_BETTER


@dataclass(frozen=True)
class ComparisonResult:
    """What ``idprobe compare`` found: every variant's IDs, metrics and representations.

    It mirrors ``OUT/results.json`` (schema ``idprobe.comparison/1``, described in the compare
    output layout): the top-level keys are the fields, each variant is the plain JSON dict (label,
    kind, strategy, slug, settings, ids, training, metrics, representations), and ``directory`` is the
    run directory it was loaded from (``None`` for one built in memory; it is not part of the
    JSON). Figures are paths relative to that directory. The dataclass is frozen, but the dicts and
    lists inside are the JSON values themselves: treat them as read-only.

    A variant's ``kind`` (:data:`KINDS`) is ``strategy`` or ``baseline`` (a classic sequential
    model: ``model``, ``description``, ``recipe``, and ``ids`` / ``representations`` null); a
    variant without one is a strategy (results.json of earlier versions).
    """

    title: str
    provenance: Provenance
    dataset: dict[str, Any]
    setup: dict[str, Any]
    variants: list[dict[str, Any]]
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    significance: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    directory: Path | None = field(default=None, compare=False)

    # -- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The ``results.json`` object (a deep copy: changing it leaves the result as it was)."""
        data: dict[str, Any] = {"schema": COMPARISON_SCHEMA}
        for key in _COMPARISON_KEYS:
            value = getattr(self, key)
            data[key] = value.to_dict() if isinstance(value, Provenance) else value
        return copy.deepcopy(data)

    @classmethod
    def from_dict(cls, data: Any, *, directory: str | os.PathLike[str] | None = None) -> Self:
        """Build from a ``results.json`` object, checking its schema and keys.

        A wrong or missing ``schema``, a missing, unknown or mistyped key (also in ``provenance``)
        and a variant without a unique ``label`` raise ``ConfigError`` naming the key.
        """
        if not isinstance(data, dict):
            raise ConfigError("results", "a JSON object", _type_name(data))
        schema = data.get("schema", verbatim("no 'schema' key"))
        if schema != COMPARISON_SCHEMA:
            raise ConfigError("schema", repr(COMPARISON_SCHEMA), schema)
        unknown = sorted(set(data) - set(_COMPARISON_KEYS) - {"schema"})
        if unknown:
            raise ConfigError("key", choices(["schema", *_COMPARISON_KEYS]), unknown[0])
        for key, kind in _COMPARISON_KEYS.items():
            if key not in data:
                raise ConfigError(
                    key, f"{_JSON_TYPE_NAMES[kind]} (a required key)", verbatim("none")
                )
            if not isinstance(data[key], kind):
                raise ConfigError(key, _JSON_TYPE_NAMES[kind], _type_name(data[key]))
        labels: set[str] = set()
        for i, variant in enumerate(data["variants"]):
            label = variant.get("label") if isinstance(variant, dict) else None
            if not isinstance(label, str) or not label:
                found = _type_name(variant) if not isinstance(variant, dict) else label
                raise ConfigError(f"variants[{i}].label", "a non-empty string", found)
            if label in labels:
                raise ConfigError(f"variants[{i}].label", "a label unique among variants", label)
            labels.add(label)
            if variant.get("kind") not in (None, *KINDS):  # none: written before kinds existed
                raise ConfigError(f"variants[{i}].kind", choices(KINDS), variant.get("kind"))
        for key in ("sweeps", "significance", "figures", "warnings"):
            for i, entry in enumerate(data[key]):
                if not isinstance(entry, dict):
                    raise ConfigError(f"{key}[{i}]", "a JSON object", _type_name(entry))
        provenance = _provenance_from_dict(data["provenance"])
        values = {key: copy.deepcopy(data[key]) for key in _COMPARISON_KEYS}
        values["provenance"] = provenance
        return cls(**values, directory=Path(directory) if directory is not None else None)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Self:
        """Read ``DIRECTORY/results.json`` (a path to the JSON file itself works too).

        A missing file, invalid JSON (with its line and column) or content that does not match the
        schema raise ``ConfigError`` naming the file.
        """
        path = Path(directory)
        if path.suffix == ".json" and not path.is_dir():
            path, directory = path, path.parent
        else:
            path = path / "results.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                str(path), "the results.json of an idprobe compare run", verbatim("no such file")
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), "a readable UTF-8 JSON file", verbatim(str(exc))) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}:{exc.lineno}", "valid JSON", verbatim(f"{exc.msg} (column {exc.colno})")
            ) from None
        try:
            return cls.from_dict(data, directory=directory)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.parameter}", exc.expected, exc.found) from None

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``DIRECTORY/results.json`` atomically; return its path."""
        return atomic_write_json(Path(directory) / "results.json", self.to_dict())

    # -- Views ---------------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        """The variant labels, in the order of the comparison."""
        return [variant["label"] for variant in self.variants]

    @property
    def tasks(self) -> list[str]:
        """The evaluated tasks: the known ones in the usual order (sequential, direct, rating,
        explanation, review), then any other in order of first appearance."""
        seen: dict[str, None] = {}
        for variant in self.variants:
            seen.update(dict.fromkeys(variant.get("metrics") or {}))
        known = [t for t in _TASK_ORDER if t in seen]
        return known + [t for t in seen if t not in _TASK_ORDER]

    def metrics(self, task: str) -> list[str]:
        """The metric names of ``task`` (entries with a ``value``): the known ones in their usual
        order (``hr@5, ndcg@5, hr@10, ndcg@10, mrr``, ...), then any other in order of appearance
        (results.json stores keys sorted, which would put hr@10 before hr@5)."""
        seen: dict[str, None] = {}
        for variant in self.variants:
            table = (variant.get("metrics") or {}).get(task) or {}
            seen.update({name: None for name, entry in table.items() if _is_metric(entry)})
        known = [m for m in _METRIC_ORDER if m in seen]
        return known + [m for m in seen if m not in _METRIC_ORDER]

    def main_metrics(self, task: str) -> list[str]:
        """The headline metrics of ``task`` (e.g. hr@10 and ndcg@10), else all of them."""
        names = self.metrics(task)
        return [m for m in _MAIN_METRICS if m in names] or names

    def variant(self, label: str) -> dict[str, Any]:
        """The variant dict with this label."""
        for variant in self.variants:
            if variant["label"] == label:
                return variant
        raise ConfigError("label", choices(self.labels), label)

    def kind(self, label: str) -> str:
        """``strategy`` or ``baseline`` (:data:`KINDS`) for the variant with this label."""
        return _kind(self.variant(label))

    @property
    def baselines(self) -> list[str]:
        """The labels of the classic baselines, in the order of the comparison."""
        return [v["label"] for v in self.variants if _kind(v) == "baseline"]

    def value(self, label: str, task: str, metric: str) -> float:
        """The metric value of one variant; NaN when it has none."""
        entry = (self.variant(label).get("metrics") or {}).get(task, {}).get(metric)
        return _float(entry.get("value")) if _is_metric(entry) else float("nan")

    def best(self, task: str, metric: str, *, kind: str | None = None) -> str | None:
        """The label of the variant with the best ``metric`` on ``task``.

        Best is the highest value, or the lowest for ``rmse`` and ``mae``; a tie goes to the
        variant listed first. Baselines compete too (on the sequential task, the only one they
        are evaluated on); ``kind="strategy"`` (or ``"baseline"``) looks at that kind only.
        ``None`` when no variant has a value; a task or metric that no variant was evaluated on
        raises ``ConfigError`` (it is most likely a typo).
        """
        if task not in self.tasks:
            raise ConfigError("task", choices(self.tasks), task)
        if metric not in self.metrics(task):
            raise ConfigError("metric", choices(self.metrics(task)), metric)
        if kind is not None and kind not in KINDS:
            raise ConfigError("kind", choices(KINDS), kind)
        sign = -1.0 if lower_is_better(metric) else 1.0
        best_label, best_score = None, float("-inf")
        for variant in self.variants:
            label = variant["label"]
            if kind is not None and _kind(variant) != kind:
                continue
            score = sign * self.value(label, task, metric)
            if score == score and score > best_score:  # NaN != NaN: missing values never win
                best_label, best_score = label, score
        return best_label

    def to_frame(self) -> pd.DataFrame:
        """One row per variant (index: label), one float column per number and its kind.

        Columns: ``task/metric`` for every metric value (e.g. ``sequential/ndcg@10``), then
        ``ds``, ``ms`` (trained representations), ``ds_initial``, ``ms_initial`` and
        ``new_tokens`` (float), then ``kind`` (``strategy`` or ``baseline``, text). Missing
        values are NaN: a baseline has no DS, MS or new tokens.
        """
        import pandas as pd

        columns = [f"{task}/{metric}" for task in self.tasks for metric in self.metrics(task)]
        columns += ["ds", "ms", "ds_initial", "ms_initial", "new_tokens"]
        rows = []
        for variant in self.variants:
            row = {
                f"{task}/{name}": _float(entry.get("value"))
                for task, table in (variant.get("metrics") or {}).items()
                for name, entry in (table or {}).items()
                if _is_metric(entry)
            }
            reps = variant.get("representations") or {}
            for stage, suffix in (("trained", ""), ("initial", "_initial")):
                for key in ("ds", "ms"):
                    row[key + suffix] = _float((reps.get(stage) or {}).get(key))
            row["new_tokens"] = _float((variant.get("ids") or {}).get("new_tokens"))
            rows.append(row)
        frame = pd.DataFrame(rows, columns=columns, index=pd.Index(self.labels, name="variant"))
        frame = frame.astype("float64")
        frame["kind"] = [_kind(variant) for variant in self.variants]
        return frame

    def _repr_html_(self) -> str:
        """A compact table of the headline metrics for notebooks; the best per column in bold."""
        columns = [(task, metric) for task in self.tasks for metric in self.main_metrics(task)]
        best = {column: self.best(*column) for column in columns}
        esc = html.escape
        head = "".join(f"<th>{esc(task)}<br>{esc(metric)}</th>" for task, metric in columns)
        head += "<th>DS</th><th>MS</th>"
        body = []
        for variant in self.variants:
            label = variant["label"]
            cells = []
            for column in columns:
                text = _fmt4(self.value(label, *column))
                cells.append(
                    f"<td><b>{text}</b></td>" if best[column] == label else f"<td>{text}</td>"
                )
            trained = (variant.get("representations") or {}).get("trained") or {}
            cells += [f"<td>{_fmt4(_float(trained.get(k)))}</td>" for k in ("ds", "ms")]
            tag = " <small>(baseline)</small>" if _kind(variant) == "baseline" else ""
            body.append(f"<tr><th>{esc(label)}{tag}</th>{''.join(cells)}</tr>")
        caption = esc(self.title)
        where = f" ({esc(str(self.directory))})" if self.directory is not None else ""
        return (
            '<table style="text-align:right">'
            f'<caption style="text-align:left">{caption}{where}</caption>'
            f"<thead><tr><th>variant</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def to_text(self) -> str:
        """The headline table as plain text (what ``idprobe compare`` prints): one line per
        variant (a baseline's label followed by ``(baseline)``), the best value per column
        marked with ``*``."""
        columns = [(task, metric) for task in self.tasks for metric in self.main_metrics(task)]
        best = {column: self.best(*column) for column in columns}
        headers = ["variant", *(f"{task[:3]} {metric}" for task, metric in columns), "DS", "MS"]
        rows = []
        for variant in self.variants:
            label = variant["label"]
            cells = [f"{label} (baseline)" if _kind(variant) == "baseline" else label]
            for column in columns:
                mark = "*" if best[column] == label else " "
                cells.append(_fmt4(self.value(label, *column)) + mark)
            trained = (variant.get("representations") or {}).get("trained") or {}
            cells += [_fmt4(_float(trained.get(k))) for k in ("ds", "ms")]
            rows.append(cells)
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        lines = [self.title]
        for row in [headers, *rows]:
            first = row[0].ljust(widths[0])
            lines.append(
                "  ".join([first, *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        labels = ", ".join(self.labels)
        where = f", directory={str(self.directory)!r}" if self.directory is not None else ""
        return f"ComparisonResult({self.title!r}, variants=[{labels}]{where})"


_TASK_ORDER = ("sequential", "direct", "rating", "explanation", "review")
_METRIC_ORDER = ("hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr", "rmse", "mae", "bleu1", "bleu4")


def _kind(variant: dict[str, Any]) -> str:
    return str(variant.get("kind") or "strategy")


def _is_metric(entry: object) -> bool:
    # Metric tables also hold counts such as n_users and ms_per_user; metrics are the dict entries.
    return isinstance(entry, dict) and "value" in entry


def _fmt4(value: float) -> str:
    return "–" if value != value else f"{value:.4f}"


def _provenance_from_dict(data: dict[str, Any]) -> Provenance:
    """Provenance from JSON, requiring every field: a default would describe *this* process."""
    names = [f.name for f in fields(Provenance)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError("provenance key", choices(names), unknown[0])
    for name in names:
        if name not in data:
            raise ConfigError(f"provenance.{name}", "a value (a required key)", verbatim("none"))
    if not isinstance(data["config"], dict):
        raise ConfigError("provenance.config", "a JSON object", _type_name(data["config"]))
    return Provenance.from_dict(copy.deepcopy(data))
