"""Diversity and Memorization Scores of an ID assignment in an embedding table.

Joins the three ID spaces: the assignment gives each entity (raw id) its tokens, the vocabulary
gives each token its rows in the table, and :mod:`idprobe.metrics` turns rows into scores. The
ground truth of the Memorization Score comes from the interactions passed in, normally the split's
training view: the data the IDs (and a model) were allowed to see.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from idprobe.data import Interactions
from idprobe.errors import ConfigError, choices
from idprobe.ids import IdAssignment
from idprobe.metrics import (
    DiversityResult,
    MemorizationResult,
    SimilarityGroundTruth,
    diversity_score,
    id_representations,
    memorization_score,
    similarity_ground_truth,
)
from idprobe.results import Provenance
from idprobe.training.vocabulary import Vocabulary

__all__ = [
    "ENTITY_KINDS",
    "RepresentationScores",
    "entity_representations",
    "representation_scores",
    "run_representation_scores",
]

ENTITY_KINDS = ("items", "users")
USERS_HAVE_NO_MS = "no Memorization Score for users: the rating ground truth is item-side (user Dev is identically 0)"


@dataclass(frozen=True)
class RepresentationScores:
    """DS (and MS, when a ground truth exists) of one assignment's ID representations."""

    strategy: str
    entities: str
    n_entities: int
    embedding_dim: int
    diversity: DiversityResult
    memorization: MemorizationResult | None
    memorization_note: str | None
    provenance: Provenance = field(default_factory=lambda: Provenance(seed=None))

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "entities": self.entities,
            "n_entities": self.n_entities,
            "embedding_dim": self.embedding_dim,
            "diversity": self.diversity.to_dict(),
            "memorization": self.memorization.to_dict() if self.memorization else None,
            "memorization_note": self.memorization_note,
            "provenance": self.provenance.to_dict(),
        }

    def to_text(self) -> str:
        ds = self.diversity
        spread = (
            f" +- {ds.stderr:.2g} (s.e., {ds.pairs:,} pairs)"
            if ds.stderr is not None
            else " (exact, all pairs)"
        )
        lines = [
            f"{self.strategy}: {self.n_entities:,} {self.entities}, d = {self.embedding_dim}",
            f"  Diversity Score     {ds.value:.6g}{spread}",
        ]
        if self.memorization is not None:
            ms = self.memorization
            scope = f"sample of {ms.n_entities:,}" if ms.sample else f"all {ms.pairs:,} pairs"
            lines.append(f"  Memorization Score  {ms.value:.6g} ({ms.mode} mode, {scope})")
            lines.append(
                f"    zero-cosine baseline: {ms.zero_cosine_baseline:.6g} (lower MS is better)"
            )
            lines.append(f"    ground truth: {ms.ground_truth_label}")
        else:
            lines.append(f"  Memorization Score  - ({self.memorization_note})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.to_text())}</pre>"


def entity_representations(
    embeddings: np.ndarray,
    assignment: IdAssignment,
    vocabulary: Vocabulary,
    entities: str = "items",
    interactions: Interactions | None = None,
) -> tuple[np.ndarray, list[str]]:
    """``(reps, raw_ids)``: one ID representation per item (or user) and its raw id.

    With ``interactions`` the rows follow its dense order (and every entity must have an ID);
    without, they follow the assignment's catalog order.
    """
    if entities not in ENTITY_KINDS:
        raise ConfigError("entities", choices(ENTITY_KINDS), entities)
    mapping = assignment.items if entities == "items" else assignment.users
    if mapping is None:
        raise ConfigError(
            "entities", f"a kind the '{assignment.strategy}' assignment indexes ('items')", entities
        )
    if interactions is not None:
        raw_ids = list(interactions.items if entities == "items" else interactions.users)
        ids = (
            assignment.item_ids(interactions)
            if entities == "items"
            else assignment.user_ids(interactions)
        )
    else:
        raw_ids = list(mapping)
        ids = list(mapping.values())
    return id_representations(embeddings, vocabulary.token_rows(ids)), raw_ids


def representation_scores(
    embeddings: np.ndarray,
    assignment: IdAssignment,
    vocabulary: Vocabulary,
    interactions: Interactions | None = None,
    *,
    entities: str = "items",
    ds_method: str = "sampled",
    ds_pairs: int = 10_000,
    temperature: float = 1.0,
    ground_truth: str | SimilarityGroundTruth | None = None,
    ms_mode: str = "paper",
    ms_sample: int | None = None,
    seed: int = 0,
) -> RepresentationScores:
    """DS and MS of the IDs of ``assignment`` read from ``embeddings`` through ``vocabulary``.

    Args:
        ground_truth: a kind (``dev_devs``, ``adjusted_cosine``, ``cooccurrence_cosine``), a
            precomputed :class:`SimilarityGroundTruth` in the interactions' item order, or
            ``None``: ``dev_devs`` when the interactions have ratings, else
            ``cooccurrence_cosine`` (labelled as such). Without interactions there is no MS.
        Other arguments: see :func:`idprobe.metrics.diversity_score` and
        :func:`idprobe.metrics.memorization_score`.
    """
    reps, _ = entity_representations(embeddings, assignment, vocabulary, entities, interactions)
    diversity = diversity_score(
        reps, method=ds_method, pairs=ds_pairs, seed=seed, temperature=temperature
    )
    memorization, note = None, None
    if entities == "users":
        note = USERS_HAVE_NO_MS
    elif interactions is None:
        note = "no Memorization Score: it needs the interactions its ground truth comes from"
    else:
        if ground_truth is None:
            ground_truth = "dev_devs" if interactions.has_ratings else "cooccurrence_cosine"
        if isinstance(ground_truth, str):
            ground_truth = similarity_ground_truth(interactions, ground_truth)
        memorization = memorization_score(
            reps, ground_truth, mode=ms_mode, sample=ms_sample, seed=seed
        )
    config = {
        "strategy": assignment.strategy,
        "entities": entities,
        "ds_method": ds_method,
        "ds_pairs": ds_pairs,
        "temperature": temperature,
        "ground_truth": memorization.ground_truth if memorization else None,
        "ms_mode": ms_mode,
        "ms_sample": ms_sample,
        "vocabulary": vocabulary.source,
        "data": assignment.data,
    }
    return RepresentationScores(
        strategy=assignment.strategy,
        entities=entities,
        n_entities=reps.shape[0],
        embedding_dim=reps.shape[1],
        diversity=diversity,
        memorization=memorization,
        memorization_note=note,
        provenance=Provenance(seed=seed, config=config),
    )


def run_representation_scores(directory: str | Path, **options: Any) -> RepresentationScores:
    """DS and MS of a trained run's ID representations (options of :func:`representation_scores`).

    The table is the trained model's input embedding as the model reads it (META ID's F term
    included), the vocabulary is the run's tokenizer, and the MS ground truth comes from the
    run's own training view.
    """
    from idprobe.training.run import input_table, load_run

    run = load_run(directory)
    vocabulary = Vocabulary.from_tokenizer_dir(Path(directory) / "tokenizer")
    return representation_scores(
        input_table(run.model), run.assignment, vocabulary, run.split.training_view, **options
    )
