"""The self-contained HTML report of an ``idprobe compare`` run directory.

``render_report(OUT)`` reads ``OUT/results.json`` and the PNG figures it lists and writes
``OUT/report.html``: one file with its CSS inline and every image inline as a data URI, no script
and no external URL, so it can be mailed, archived or opened offline and looks the same everywhere.
Rendering is deterministic: the same results.json gives the same bytes.

This package reads files only: it never imports torch, training, experiment or viz.
"""

from __future__ import annotations

from idprobe.reporting.render import render_report, report_html

__all__ = ["render_report", "report_html"]
