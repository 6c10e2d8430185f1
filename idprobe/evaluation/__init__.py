"""From a trained model (its embeddings, its predictions, its scores) and a split to metric tables."""

from idprobe.evaluation.generative import (
    RunMetrics,
    TaskMetrics,
    compare_runs,
    evaluate,
    evaluate_run,
    metrics_path,
    seen_before,
    select_users,
    validation_callback,
)
from idprobe.evaluation.ranking import (
    FullRanking,
    dot_product_scorer,
    evaluate_scores,
    full_ranking,
)
from idprobe.evaluation.representation import (
    RepresentationScores,
    entity_representations,
    representation_scores,
)

__all__ = [
    "FullRanking",
    "RepresentationScores",
    "RunMetrics",
    "TaskMetrics",
    "compare_runs",
    "dot_product_scorer",
    "entity_representations",
    "evaluate",
    "evaluate_run",
    "evaluate_scores",
    "full_ranking",
    "metrics_path",
    "representation_scores",
    "seen_before",
    "select_users",
    "validation_callback",
]
