"""From a model's embeddings (and, later, its predictions) and a split to metric tables."""

from idprobe.evaluation.representation import (
    RepresentationScores,
    entity_representations,
    representation_scores,
)

__all__ = ["RepresentationScores", "entity_representations", "representation_scores"]
