"""DS and MS of a trained run's IDs: the table the model reads (F term included), its tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from idprobe.cli import main
from idprobe.evaluation.representation import representation_scores, run_representation_scores
from idprobe.training.augment import AugmentedEmbedding
from idprobe.training.run import RunSettings, input_table, load_run, train_run
from idprobe.training.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def meta_run(tmp_path_factory):
    settings = RunSettings(
        dataset="synthetic",
        data_options={"n_users": 60, "n_items": 30, "mean_length": 6},
        strategy="meta",
        strategy_params={"walks_per_node": 2, "walk_length": 8, "epochs": 1, "n_clusters": 4},
        epochs=1,
        batch_size=16,
        vocab_size=300,
        threads=1,
    )
    directory = tmp_path_factory.mktemp("rep") / "run"
    train_run(settings, directory, progress=False)
    return directory


def test_the_table_is_what_the_model_reads(meta_run):
    run = load_run(meta_run)
    layer = run.model.get_input_embeddings()
    assert isinstance(layer, AugmentedEmbedding)
    table = input_table(run.model)
    base = layer.base.weight.detach().numpy()
    ids = layer.token_ids
    others = np.setdiff1d(np.arange(base.shape[0]), ids)
    np.testing.assert_array_equal(table[others], base[others])
    assert not np.allclose(table[ids], base[ids])  # E + alpha F(c) on the rows with vectors
    with torch.no_grad():
        looked_up = layer(torch.as_tensor(ids)).numpy()
    np.testing.assert_allclose(table[ids], looked_up, rtol=1e-6, atol=1e-6)


def test_scores_equal_the_array_api_on_the_same_inputs(meta_run):
    run = load_run(meta_run)
    vocabulary = Vocabulary.from_tokenizer_dir(meta_run / "tokenizer")
    expected = representation_scores(
        input_table(run.model),
        run.assignment,
        vocabulary,
        run.split.training_view,
        ds_method="exact",
    )
    scores = run_representation_scores(meta_run, ds_method="exact")
    assert scores.diversity.value == pytest.approx(expected.diversity.value, rel=1e-12)
    assert scores.memorization.value == pytest.approx(expected.memorization.value, rel=1e-12)
    assert scores.n_entities == run.split.interactions.n_items


def test_metrics_cli_with_a_run(meta_run, capsys):
    assert main(["metrics", "--run", str(meta_run), "--ds-method", "exact", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["strategy"] == "meta" and printed["memorization"] is not None
    assert main(["metrics", "--run", str(meta_run), "--assignment", str(meta_run)]) == 2
    assert "--run: expected no --assignment or --dataset" in capsys.readouterr().err
    assert main(["metrics", "--embeddings", "E.npy"]) == 2
    assert "--assignment: expected an `ids build` output (or --run RUN)" in capsys.readouterr().err
