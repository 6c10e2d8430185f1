"""From a trained model (its embeddings, its predictions) and a split to metric tables."""

from idprobe.evaluation.generative import (
    RunMetrics,
    TaskMetrics,
    compare_runs,
    evaluate,
    evaluate_run,
    metrics_path,
    validation_callback,
)
from idprobe.evaluation.representation import (
    RepresentationScores,
    entity_representations,
    representation_scores,
)

__all__ = [
    "RepresentationScores",
    "RunMetrics",
    "TaskMetrics",
    "compare_runs",
    "entity_representations",
    "evaluate",
    "evaluate_run",
    "metrics_path",
    "representation_scores",
    "validation_callback",
]
