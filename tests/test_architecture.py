"""DESIGN.md's promises about the code's shape: import layering, torch-free layers, no hub access."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([lint], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_idprobe_loads_no_heavy_library():
    code = (
        "import sys, idprobe, idprobe.data, idprobe.cli, idprobe.metrics, idprobe.evaluation, "
        "idprobe.prompts, idprobe.viz, idprobe.reporting, idprobe.results; "
        "import idprobe.training.vocabulary, idprobe.training.pretrained, idprobe.training.new_rows; "
        "heavy = {'torch', 'transformers', 'numba', 'pandas', 'matplotlib', 'gensim', "
        "'tokenizers', 'safetensors', 'sacrebleu', 'peft', 'jinja2', 'openTSNE', 'seaborn'} "
        "& set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_compare_is_a_lazy_reexport():
    # idprobe.compare needs torch; `import idprobe` must not load it until compare is used.
    code = (
        "import sys, idprobe; before = 'torch' in sys.modules; "
        "from idprobe.experiment import compare; "
        "print(before, idprobe.compare is compare, 'compare' in idprobe.__all__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True", "True"]
