"""Run the stages of experiments: ``train`` one run, ``compare`` strategies into a report.

``experiment`` wires the layers together: the evaluation layer's validation callback into the
training layer's run (``training`` never computes metrics, DESIGN.md), and every stage of a
comparison into a cached run directory that ``reporting`` turns into HTML.
"""

from idprobe.experiment.compare import compare, run_comparison
from idprobe.experiment.config import SWEEPS, CompareConfig
from idprobe.experiment.training import train

__all__ = ["SWEEPS", "CompareConfig", "compare", "run_comparison", "train"]
