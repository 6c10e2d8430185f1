"""The report's tables as plain values (strings and flags), built from a ComparisonResult.

The template only lays these out; every decision (which columns, which cell is best, how a number
reads) is made here, in Python, where it is tested. Cells hold raw strings: the template escapes
them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from idprobe.reporting.formatting import (
    MISSING,
    fmt_histogram,
    fmt_int,
    fmt_interval,
    fmt_metric,
    fmt_value,
    p_phrase,
)
from idprobe.results import ComparisonResult, lower_is_better

NOT_TESTED = MISSING


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, whether it is a number (right-aligned), the column's best, or a
    flagged value (e.g. a leak well above chance)."""

    text: str
    numeric: bool = True
    best: bool = False
    flagged: bool = False
    detail: str = ""  # a second, smaller line (a metric's 95% interval) that keeps columns narrow


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    """A table whose first column is a row label (usually the variant)."""

    headers: list[str]
    rows: list[Row]
    numeric: list[bool]  # per header after the first: right-align the column
    caption: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WarningRow:
    variant: str
    kind: str
    message: str


def dataset_line(dataset: dict[str, Any]) -> str:
    """``synthetic: 600 users, 400 items, 7,229 interactions, with ratings``."""
    parts = [
        f"{fmt_int(dataset[key])} {noun}"
        for key, noun in (
            ("n_users", "users"),
            ("n_items", "items"),
            ("n_interactions", "interactions"),
        )
        if dataset.get(key) is not None
    ]
    if dataset.get("has_ratings"):
        parts.append("with ratings")
    name = str(dataset.get("name") or "dataset")
    return f"{name}: {', '.join(parts)}" if parts else name


def key_values(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    """A dict as (key, readable value) rows, in the file's order."""
    return [(str(key), fmt_value(value)) for key, value in mapping.items()]


def provenance_rows(result: ComparisonResult) -> list[tuple[str, str]]:
    prov = result.provenance
    return [
        ("idprobe version", fmt_value(prov.version)),
        ("git commit", fmt_value(prov.git)),
        ("seed", fmt_value(prov.seed)),
        ("python", fmt_value(prov.python)),
        ("platform", fmt_value(prov.platform)),
        ("created", fmt_value(prov.created)),
    ]


def config_json(result: ComparisonResult) -> str:
    return json.dumps(result.provenance.config, indent=2, sort_keys=True, ensure_ascii=False)


def warnings(result: ComparisonResult, extra: list[dict[str, Any]]) -> list[WarningRow]:
    """The run's warnings, then those found while rendering (missing figures)."""
    out = []
    for entry in [*result.warnings, *extra]:
        variant = entry.get("variant")
        out.append(
            WarningRow(
                variant="general" if variant is None else str(variant),
                kind=str(entry.get("kind") or "other"),
                message=str(entry.get("message") or ""),
            )
        )
    return out


def _metric_entry(variant: dict[str, Any], task: str, metric: str) -> dict[str, Any] | None:
    entry = ((variant.get("metrics") or {}).get(task) or {}).get(metric)
    return entry if isinstance(entry, dict) else None


def _tested_metrics(result: ComparisonResult, task: str) -> list[str]:
    """The metrics of ``task`` that a significance test was run on, in the file's order."""
    seen: dict[str, None] = {}
    for entry in result.significance:
        if entry.get("task") == task and entry.get("metric") is not None:
            seen[str(entry["metric"])] = None
    return list(seen)


def _significance_cell(result: ComparisonResult, task: str, metric: str, label: str) -> Cell:
    for entry in result.significance:
        if entry.get("task") != task or entry.get("metric") != metric:
            continue
        if entry.get("best") == label:
            return Cell("best", numeric=False)
        if entry.get("against") == label:
            text = f"{p_phrase(entry.get('p_value'))} vs best"
            if entry.get("significant") is False:
                text += " (n.s.)"
            return Cell(text, numeric=False)
    return Cell(NOT_TESTED, numeric=False)


def results_tables(result: ComparisonResult) -> list[Table]:
    """Per task: one row per evaluated variant, a column per metric (value [95% interval]) and a
    column per significance-tested metric (p-value of the paired test against the best)."""
    tables = []
    for task in result.tasks:
        metrics = result.metrics(task)
        tested = _tested_metrics(result, task)
        best = {metric: result.best(task, metric) for metric in metrics}
        rows = []
        for variant in result.variants:
            if task not in (variant.get("metrics") or {}):
                continue
            label = variant["label"]
            cells = []
            for m in metrics:
                entry = _metric_entry(variant, task, m)
                value, _, interval = fmt_interval(entry).partition(" ")
                cells.append(Cell(value, best=best[m] == label, detail=interval))
            cells += [_significance_cell(result, task, m, label) for m in tested]
            rows.append(Row(label, cells))
        headers = ["variant", *metrics, *(f"vs best ({m})" for m in tested)]
        notes = [
            "Value, and under it the 95% bootstrap interval. Bold with ★: best in the column "
            "(highest; lowest for rmse and mae)."
        ]
        if tested:
            notes.append(
                "vs best: p-value of the paired test, over users, between the best variant and "
                "this one on the metric named in the header; n.s.: not significant."
            )
        tables.append(
            Table(headers, rows, [True] * len(metrics) + [False] * len(tested), task, notes)
        )
    return tables


def _rep(variant: dict[str, Any], stage: str) -> dict[str, Any]:
    return (variant.get("representations") or {}).get(stage) or {}


def _ds(rep: dict[str, Any]) -> str:
    text = fmt_metric(rep.get("ds"))
    stderr = rep.get("ds_stderr")
    return text if text == MISSING or stderr is None else f"{text} ± {fmt_metric(stderr)}"


def representation_table(result: ComparisonResult) -> Table:
    """Diversity and Memorization Scores of each variant's ID representations, before and after
    training, with the ground truth the Diversity Score was measured against."""
    rows = []
    for variant in result.variants:
        initial, trained = _rep(variant, "initial"), _rep(variant, "trained")
        truths = dict.fromkeys(
            str(r["ground_truth"]) for r in (initial, trained) if r.get("ground_truth")
        )
        rows.append(
            Row(
                variant["label"],
                [
                    Cell(_ds(initial)),
                    Cell(fmt_metric(initial.get("ms"))),
                    Cell(_ds(trained)),
                    Cell(fmt_metric(trained.get("ms"))),
                    Cell(" / ".join(truths) or MISSING, numeric=False),
                ],
            )
        )
    headers = ["variant", "DS initial", "MS initial", "DS trained", "MS trained", "ground truth"]
    notes = ["DS: Diversity Score ± standard error; MS: Memorization Score (paper section 3)."]
    return Table(headers, rows, [True] * 4 + [False], "", notes)


def sweep_tables(result: ComparisonResult) -> tuple[list[Table], list[dict[str, Any]]]:
    """One table per sweep: parameter value -> the headline metrics of each task.

    Returns the tables and warnings for sweep labels that name no variant.
    """
    tables, problems = [], []
    known = set(result.labels)
    columns = [(task, metric) for task in result.tasks for metric in result.main_metrics(task)]
    for sweep in result.sweeps:
        pairs = list(zip(sweep.get("values") or [], sweep.get("labels") or [], strict=False))
        present = [str(label) for _, label in pairs if label in known]
        best = {}
        for task, metric in columns:
            sign = -1.0 if lower_is_better(metric) else 1.0
            scored = [(sign * result.value(label, task, metric), label) for label in present]
            scored = [(score, label) for score, label in scored if score == score]
            # max() keeps the first of equal scores: ties go to the earlier sweep value.
            best[task, metric] = max(scored, key=lambda s: s[0])[1] if scored else None
        rows = []
        for value, label in pairs:
            label = str(label)
            if label not in known:
                problems.append(
                    {
                        "variant": label,
                        "kind": "other",
                        "message": f"sweep {sweep.get('name')!s} lists variant {label!r}, "
                        "which is not in the results",
                    }
                )
                cells = [Cell(MISSING) for _ in columns]
            else:
                cells = [
                    Cell(fmt_metric(result.value(label, *column)), best=best[column] == label)
                    for column in columns
                ]
            rows.append(Row(fmt_value(value), [Cell(label, numeric=False), *cells]))
        headers = [str(sweep.get("param") or "value"), "variant", *(f"{t} {m}" for t, m in columns)]
        caption = str(sweep.get("title") or sweep.get("name") or "sweep")
        tables.append(Table(headers, rows, [False] + [True] * len(columns), caption))
    return tables, problems


def _leak_cell(leak: Any) -> Cell:
    if not isinstance(leak, dict) or leak.get("rate") is None:
        return Cell(MISSING)
    text = f"{fmt_metric(leak.get('rate'))} vs {fmt_metric(leak.get('chance'))}"
    flagged = bool(leak.get("flagged"))
    return Cell(text + (" (flagged)" if flagged else ""), flagged=flagged)


def id_table(result: ComparisonResult) -> Table:
    """What each strategy's IDs look like: vocabulary cost, lengths, collisions, leaks."""
    rows = []
    for variant in result.variants:
        ids = variant.get("ids") or {}
        items = ids.get("items") or {}
        users = ids.get("users") or {}
        violations = fmt_int(items.get("prefix_violations"))
        if users:
            violations += f" / {fmt_int(users.get('prefix_violations'))}"
        rows.append(
            Row(
                variant["label"],
                [
                    Cell(str(variant.get("strategy") or MISSING), numeric=False),
                    Cell(fmt_int(ids.get("new_tokens"))),
                    Cell(fmt_int(ids.get("tokens_with_vectors"))),
                    Cell(fmt_histogram(items.get("length_histogram")), numeric=False),
                    Cell(
                        fmt_histogram(users.get("length_histogram")) if users else "not indexed",
                        numeric=False,
                    ),
                    Cell(fmt_int(items.get("largest_group"))),
                    Cell(violations),
                    Cell(fmt_int(ids.get("cold_items"))),
                    Cell(fmt_int(ids.get("cold_users"))),
                    _leak_cell(ids.get("leak")),
                ],
            )
        )
    headers = [
        "variant",
        "strategy",
        "new tokens",
        "with vectors",
        "item ID lengths",
        "user ID lengths",
        "largest group",
        "prefix violations",
        "cold items",
        "cold users",
        "leak rate vs chance",
    ]
    notes = [
        "ID lengths: tokens per ID: number of IDs. Largest group: items under the most shared "
        "first token. Prefix violations: item (/ user) IDs that are a proper prefix of another "
        "ID. Leak: share of test targets that the numbers in the history give away "
        "(e.g. target = last + 1), against chance."
    ]
    return Table(
        headers, rows, [False, True, True, False, False, True, True, True, True, True], "", notes
    )
