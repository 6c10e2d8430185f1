"""The notebooks run top to bottom on tiny settings, and are committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from tiny_runs import TINY_OPTIONS

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ("quickstart", "representations", "attention")


def _execute(name: str, parameters: str, cwd: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    (cell,) = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = parameters
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return book


def _outputs(book: nbformat.NotebookNode) -> str:
    texts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(
                data.get("text/html", "") + data.get("text/plain", "") + output.get("text", "")
            )
    return "\n".join(texts)


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_have_no_outputs(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip outputs"
    assert sum("parameters" in c.metadata.get("tags", []) for c in book.cells) == 1


@pytest.mark.slow
def test_notebooks_run_on_tiny_settings(tmp_path: Path) -> None:
    out = tmp_path / "compare"
    options = {k: v for k, v in TINY_OPTIONS.items() if k not in ("dataset",)}
    quick = _execute(
        "quickstart",
        f"OUT = {str(out)!r}\n"
        "STRATEGIES = ['sid', 'meta']\n"
        "BASELINES = ['pop']\n"  # the analysis notebooks must skip a baseline's row
        f"DATA_OPTIONS = {options.pop('data_options')!r}\n"
        f"RUN = {options.pop('run')!r}\n"
        f"STRATEGY_PARAMS = {options.pop('strategy_params')!r}\n"
        f"EXTRA = {options!r}",
        tmp_path,
    )
    shown = _outputs(quick)
    assert "best on sequential NDCG@10:" in shown
    assert "<table" in shown  # the result's _repr_html_
    assert (out / "report.html").exists()
    representations = _execute("representations", f"OUT = {str(out)!r}", tmp_path)
    assert "image/png" in str(representations.cells[-1].outputs)
    attention = _execute("attention", f"OUT = {str(out)!r}\nUSER = None", tmp_path)
    assert "image/png" in str(attention.cells[2].outputs)
