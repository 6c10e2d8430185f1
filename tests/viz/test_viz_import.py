"""idprobe.viz is cheap to import and stays in its layer (plain arrays in, figures out)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import idprobe.viz

VIZ = Path(idprobe.viz.__file__).parent
HEAVY = ("matplotlib", "seaborn", "openTSNE", "pandas", "torch", "transformers")


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"import sys; {code}; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return eval(result.stdout.strip())


def test_import_viz_loads_no_plotting_or_tsne_library():
    assert _loaded_after("import idprobe.viz") == []


def test_numeric_helpers_need_no_plotting_library():
    code = (
        "import numpy as np; from idprobe.viz import cosine_similarity_matrix, pearson_r, "
        "moving_average; cosine_similarity_matrix(np.eye(3)); pearson_r([1, 2, 3], [1, 3, 2]); "
        "moving_average([1.0, 2.0], 2)"
    )
    assert _loaded_after(code) == []


def test_import_viz_loads_no_metrics_training_or_evaluation():
    code = (
        "import sys, idprobe.viz; "
        "print(sorted(m for m in sys.modules if m.startswith(('idprobe.metrics', "
        "'idprobe.training', 'idprobe.evaluation', 'idprobe.experiment', 'idprobe.reporting'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_viz_module_imports_a_forbidden_layer():
    forbidden = (
        "idprobe.metrics",
        "idprobe.training",
        "idprobe.evaluation",
        "idprobe.experiment",
        "idprobe.reporting",
        "idprobe.cli",
        "torch",
    )
    for path in sorted(VIZ.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_public_api_is_exported():
    expected = {
        "save_figure",
        "similarity_heatmaps",
        "cosine_similarity_matrix",
        "tsne_coordinates",
        "tsne_map",
        "ds_ms_scatter",
        "score_correlation",
        "pearson_r",
        "ds_convergence_plot",
        "attention_heatmap",
        "metric_bars",
        "training_curves",
        "id_statistics",
        "sweep_plot",
    }
    assert expected <= set(idprobe.viz.__all__)
    for name in idprobe.viz.__all__:
        assert getattr(idprobe.viz, name) is not None
