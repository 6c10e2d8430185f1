"""A compare run directory for the report tests: the sample results.json and real PNG figures.

The figures are drawn here with matplotlib directly (not idprobe.viz): the report must inline
whatever PNG the run wrote, and these tests must not depend on how the figures are drawn.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent / "data" / "results.json"
# Two classic baseline rows (sasrec with a recipe and published numbers, pop without a recipe)
# in the shape compare writes them; the sample itself predates baselines (no "kind" keys).
BASELINES = Path(__file__).resolve().parent / "data" / "baselines.json"


def add_baselines(data: dict) -> dict:
    """``data`` (a results.json dict) with the two sample baselines, their paired tests against
    the best (meta on ndcg@10) and the no-recipe warning, as compare writes them."""
    data["variants"] += json.loads(BASELINES.read_text(encoding="utf-8"))
    for label, difference, p_value in (("sasrec", 0.0015, 0.61), ("pop", 0.0194, 0.00001)):
        data["significance"].append(
            {
                "task": "sequential",
                "metric": "ndcg@10",
                "best": "meta",
                "against": label,
                "difference": difference,
                "p_value": p_value,
                "n_users": 600,
                "significant": p_value < 0.05,
            }
        )
    data["warnings"].append(
        {
            "variant": "pop",
            "kind": "no_recipe",
            "message": "pop: no recipe for dataset synthetic: model defaults used",
        }
    )
    return data


def _png(kind: str, size: tuple[float, float]) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    ax = figure.add_subplot()
    if kind == "heatmaps":
        ax.imshow([[1.0, 0.2, 0.1], [0.2, 1.0, 0.3], [0.1, 0.3, 1.0]], cmap="viridis")
    elif kind == "tsne":
        ax.scatter([0, 1, 2, 3, 4], [1, 0, 2, 1, 3], c=[0, 0, 1, 1, 2])
    else:
        ax.bar(["rid", "sid", "meta"], [0.02, 0.023, 0.0285], yerr=0.002)
    ax.set_title(kind)
    buffer = io.BytesIO()
    # metadata={"Software": None}: no matplotlib version in the file, so the bytes are stable.
    figure.savefig(buffer, format="png", dpi=50, metadata={"Software": None})
    return buffer.getvalue()


@pytest.fixture(scope="session")
def png_files() -> dict[str, bytes]:
    """PNG bytes per figure key of the sample (drawn once per session)."""
    sizes = {"heatmaps": (3.0, 3.0), "tsne": (4.0, 3.0), "metrics": (4.0, 2.5)}
    return {key: _png(key, size) for key, size in sizes.items()}


@pytest.fixture
def sample() -> dict:
    """The sample results.json as a dict (a fresh copy per test: change it freely)."""
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def make_run(tmp_path, png_files):
    """make_run(data, figures=True, name="out") -> a run directory with results.json and PNGs."""

    def _make(data: dict, *, figures: bool = True, name: str = "out") -> Path:
        out = tmp_path / name
        (out / "figures").mkdir(parents=True)
        (out / "results.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        if figures:
            for key, png in png_files.items():
                (out / "figures" / f"{key}.png").write_bytes(png)
        return out

    return _make


@pytest.fixture
def with_baselines(sample) -> dict:
    """The sample results.json with two classic baselines added (a fresh copy per test)."""
    return add_baselines(sample)


@pytest.fixture
def run_dir(make_run, sample) -> Path:
    return make_run(sample)
