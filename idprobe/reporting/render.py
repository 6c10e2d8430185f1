"""Render ``OUT/results.json`` into the self-contained ``OUT/report.html``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from idprobe.reporting import sections
from idprobe.reporting.figures import inline_figures
from idprobe.results import ComparisonResult, atomic_write_text

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"


@cache
def _environment() -> jinja2.Environment:
    # jinja2 is imported here so that importing idprobe.reporting stays cheap.
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # Every string of results.json may come from a dataset: escape all of it, always.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "j2"), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def report_html(result: ComparisonResult, directory: str | Path) -> str:
    """The report of ``result`` as one HTML string; figures are read from ``directory``.

    Deterministic: equal results and figure files give equal strings, and only the block between
    ``<!-- provenance -->`` and ``<!-- /provenance -->`` depends on the provenance.
    """
    directory = Path(directory)
    figures, figure_problems = inline_figures(result.figures, directory)
    sweeps, sweep_problems = sections.sweep_tables(result)
    context = {
        "title": result.title,
        "dataset_line": sections.dataset_line(result.dataset),
        "dataset_source": str(result.dataset.get("source") or ""),
        "setup": sections.key_values(result.setup),
        "dataset": sections.key_values(result.dataset),
        "provenance": sections.provenance_rows(result),
        "config_json": sections.config_json(result),
        "warnings": sections.warnings(result, [*figure_problems, *sweep_problems]),
        "results": sections.results_tables(result),
        "baselines": sections.baseline_sections(result),
        "representations": sections.representation_table(result),
        "sweeps": sweeps,
        "ids": sections.id_table(result),
        "figures": figures,
    }
    return _environment().get_template(TEMPLATE).render(context)


def render_report(directory: str | Path, *, output: str | Path | None = None) -> Path:
    """Write the HTML report of the compare run in ``directory``; return its path.

    Reads ``directory/results.json`` and the PNG figures it lists and writes, atomically,
    ``directory/report.html`` (or ``output``). Raises ``ConfigError`` when results.json is missing
    or invalid; a missing figure only shows as a notice and a warning in the report.
    """
    directory = Path(directory)
    result = ComparisonResult.load(directory)
    target = Path(output) if output is not None else directory / "report.html"
    return atomic_write_text(target, report_html(result, directory))
