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
    """A table row: its label (first column), a small tag beside the label (``baseline``) and
    its cells."""

    label: str
    cells: list[Cell]
    tag: str = ""


@dataclass(frozen=True)
class Table:
    """A table whose first column is a row label (usually the variant)."""

    headers: list[str]
    rows: list[Row]
    numeric: list[bool]  # per header after the first: right-align the column
    caption: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BaselineSection:
    """What the report says about one classic baseline: the model, where its settings come from,
    how it trained, the published numbers beside ours, and what differs from the original."""

    label: str
    description: str
    facts: list[tuple[str, str]]
    published: Table | None
    published_note: str
    differences: list[str]  # paragraphs


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


BASELINE = "baseline"
BASELINE_NOTE = (
    "baseline: a classic sequential model (section Classic baselines) trained on the same "
    "training parts and ranked over all items for the same test users; it has no IDs and no "
    "ID representations."
)


def _kind(variant: dict[str, Any]) -> str:
    # results.json written before baselines existed has no kind: every variant is a strategy.
    return str(variant.get("kind") or "strategy")


def _tag(variant: dict[str, Any]) -> str:
    return BASELINE if _kind(variant) == BASELINE else ""


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
            rows.append(Row(label, cells, _tag(variant)))
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
        if any(row.tag == BASELINE for row in rows):
            notes.append(BASELINE_NOTE)
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
        if _kind(variant) == BASELINE:
            rows.append(
                Row(variant["label"], [Cell(MISSING)] * 4 + [Cell(MISSING, False)], BASELINE)
            )
            continue
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
    if any(row.tag == BASELINE for row in rows):
        notes.append("Baselines have no ID representations: their cells are empty.")
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
    numeric = [False, True, True, False, False, True, True, True, True, True]
    for variant in result.variants:
        if _kind(variant) == BASELINE:
            cells = [Cell(MISSING, numeric=flag) for flag in numeric]
            rows.append(Row(variant["label"], cells, BASELINE))
            continue
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
    if any(row.tag == BASELINE for row in rows):
        notes.append("Baselines write no IDs: their cells are empty.")
    return Table(headers, rows, numeric, "", notes)


# ------------------------------------------------------------------------------ baselines

_STOPPED = {
    "epochs": "the epoch limit",
    "patience": "early stopping",
    "no training": "nothing to train",
}


def _paragraphs(text: str) -> list[str]:
    """A recipe's hard-wrapped text as paragraphs (blank lines separate them)."""
    out = []
    for block in text.strip().split("\n\n"):
        words = " ".join(block.split())
        if words:
            out.append(words)
    return out


def _training_facts(variant: dict[str, Any]) -> list[tuple[str, str]]:
    history = variant.get("training") or {}
    settings = variant.get("settings") or {}
    stopped = str(history.get("stopped") or "")
    if stopped == "no training" or not history.get("epochs"):
        return [("training", "none (no trainable parameters)")]
    limit = settings.get("epochs")
    epochs = fmt_int(history.get("epochs"))
    text = f"{epochs} epochs" + (f" of at most {fmt_int(limit)}" if limit is not None else "")
    if stopped:
        text += f", stopped by {_STOPPED.get(stopped, stopped)}"
    seconds = history.get("seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        text += f", {seconds:.1f} s"
    facts = [("training", text)]
    best = history.get("best_epoch")
    if best is not None:
        select_on = str(history.get("select_on") or settings.get("select_on") or "validation")
        score = fmt_metric(history.get("best_score"))
        facts.append(("best epoch", f"{fmt_int(best)} (validation {select_on} = {score})"))
    return facts


def _settings_facts(variant: dict[str, Any]) -> list[tuple[str, str]]:
    settings = variant.get("settings") or {}
    shown = ("learning_rate", "batch_size", "weight_decay", "patience", "validation_users")
    values = {key: settings[key] for key in shown if key in settings}
    if "validation_users" in values and values["validation_users"] is None:
        values["validation_users"] = "all"
    parts = [f"{key} {fmt_value(value)}" for key, value in values.items()]
    facts = [("optimisation", ", ".join(parts) or MISSING)]
    params = settings.get("params") or {}
    text = ", ".join(f"{key} {fmt_value(value)}" for key, value in sorted(params.items()))
    facts.append(("hyper-parameters", text or "the model's defaults"))
    return facts


def _published_table(
    result: ComparisonResult, variant: dict[str, Any], recipe: dict[str, Any]
) -> Table:
    """The recipe's published numbers beside this run's, metric by metric."""
    published = recipe.get("published") or {}
    order = [m for m in result.metrics("sequential") if m in published]
    metrics = order + sorted(m for m in published if m not in order)
    ours = []
    for metric in metrics:
        value, _, interval = fmt_interval(_metric_entry(variant, "sequential", metric)).partition(
            " "
        )
        ours.append(Cell(value, detail=interval))
    rows = [
        Row("published", [Cell(fmt_metric(published[m])) for m in metrics]),
        Row("this run", ours),
    ]
    kept = "dropped from" if result.setup.get("filtered") else "kept in"
    notes = [
        "published: the numbers of the recipe's source; this run: idprobe's split and full "
        f"ranking, each user's earlier items {kept} the ranking (value and 95% interval). "
        "The protocols can differ: see the differences below."
    ]
    return Table(["", *metrics], rows, [True] * len(metrics), "published vs this run", notes)


def baseline_sections(result: ComparisonResult) -> list[BaselineSection]:
    """One section per classic baseline, in the order of the comparison."""
    out = []
    for variant in result.variants:
        if _kind(variant) != BASELINE:
            continue
        label = variant["label"]
        recipe = variant.get("recipe") or None
        facts = []
        if variant.get("model") not in (None, label):
            facts.append(("model", str(variant["model"])))
        if recipe:
            facts.append(("recipe", str(recipe.get("path") or MISSING)))
            if recipe.get("source"):
                facts.append(("source", str(recipe["source"])))
        else:
            facts.append(("recipe", "none: the model's default settings"))
        training = _training_facts(variant)
        trained = (variant.get("training") or {}).get("epochs")
        facts += training + (_settings_facts(variant) if trained else [])
        table, note = None, ""
        if recipe and recipe.get("published"):
            if variant.get("recipe_dataset_matches"):
                table = _published_table(result, variant, recipe)
            else:
                note = (
                    f"The recipe's published numbers were measured on {recipe.get('dataset')}, "
                    "not on this comparison's dataset: they are not shown."
                )
        out.append(
            BaselineSection(
                label=label,
                description=str(variant.get("description") or ""),
                facts=facts,
                published=table,
                published_note=note,
                differences=_paragraphs(str((recipe or {}).get("differences") or "")),
            )
        )
    return out
