"""Rows of new ID tokens set explicitly (normal / mean / vectors) and numeric rows re-initialised."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from idprobe.errors import ConfigError
from idprobe.training.backbones import Backbone, build_backbone
from idprobe.training.embeddings import prepare_id_tokens
from idprobe.training.tokenizer import numeric_token_ids, train_tokenizer

BACKBONES = ("t5-tiny", "llama-tiny")


def _corpus() -> list[str]:
    rng = random.Random(0)
    return [
        f"Given the purchases of user_{rng.randrange(500)}: item_{rng.randrange(5000)} and "
        f"item_{rng.randrange(5000)}, predict the next item. Rating {rng.choice(['4.5', '3.0'])}."
        for _ in range(80)
    ]


_CORPUS = _corpus()


def _backbone(name: str = "t5-tiny", seed: int = 0) -> Backbone:
    return build_backbone(name, tokenizer=train_tokenizer(_CORPUS, vocab_size=400), seed=seed)


def _table(backbone: Backbone) -> np.ndarray:
    return backbone.model.get_input_embeddings().weight.detach().numpy().copy()


def _tokens(n: int, prefix: str = "I") -> list[str]:
    return [f"<{prefix}{i}>" for i in range(n)]


@pytest.mark.parametrize("name", BACKBONES)
def test_normal_rows_have_the_asked_mean_and_std(name: str) -> None:
    backbone = _backbone(name)
    old = _table(backbone)
    # std 0.05 is far from the old rows' spread, so rows copied or mean-resized would show
    record = prepare_id_tokens(backbone.model, backbone.tokenizer, _tokens(400), std=0.05, seed=1)
    table = _table(backbone)
    assert table.shape == (old.shape[0] + 400, old.shape[1])
    new = table[old.shape[0] :]
    assert abs(new.mean()) < 0.05 * 0.03
    assert abs(new.std() / 0.05 - 1) < 0.03
    # every column and every row is centred (no shared offset such as the old rows' mean)
    assert np.abs(new.mean(axis=0)).max() < 0.05 * 5 / np.sqrt(400)
    assert np.abs(new.mean(axis=1)).max() < 0.05 * 5 / np.sqrt(old.shape[1])
    assert np.array_equal(table[: old.shape[0]], old)
    assert record == {
        "init": "normal",
        "std": 0.05,
        "new_tokens": 400,
        "already_in_vocabulary": 0,
        "rows_from_vectors": 0,
        "numeric_reinit": "none",
        "numeric_rows": 0,
        "seed": 1,
        "table_rows": old.shape[0] + 400,
    }


@pytest.mark.parametrize("name", BACKBONES)
def test_mean_rows_are_the_mean_of_the_old_rows(name: str) -> None:
    backbone = _backbone(name)
    old = _table(backbone)
    record = prepare_id_tokens(backbone.model, backbone.tokenizer, _tokens(5), init="mean")
    table = _table(backbone)
    expected = old.astype(np.float64).mean(axis=0)
    for row in table[old.shape[0] :]:
        np.testing.assert_allclose(row, expected, rtol=0, atol=1e-6)
    assert np.array_equal(table[: old.shape[0]], old)
    assert record["init"] == "mean" and record["table_rows"] == old.shape[0] + 5


def test_mean_ignores_spare_rows_the_tokenizer_does_not_cover() -> None:
    # like t5-small: a table with more rows than the tokenizer has tokens
    backbone = _backbone()
    real = len(backbone.tokenizer)
    backbone.model.resize_token_embeddings(real + 6, mean_resizing=False)
    with torch.no_grad():
        backbone.model.get_input_embeddings().weight[real:] = 100.0
    old = _table(backbone)
    record = prepare_id_tokens(backbone.model, backbone.tokenizer, _tokens(4), init="mean")
    table = _table(backbone)
    assert table.shape[0] == real + 6 and record["table_rows"] == real + 6
    ids = backbone.tokenizer.convert_tokens_to_ids(_tokens(4))
    assert ids == list(range(real, real + 4))
    expected = old[:real].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(table[ids], np.tile(expected, (4, 1)), rtol=0, atol=1e-6)
    assert np.array_equal(table[real + 4 :], old[real + 4 :])


def test_mean_covers_every_old_row_when_a_token_already_exists() -> None:
    backbone = _backbone()
    old = _table(backbone)
    prepare_id_tokens(backbone.model, backbone.tokenizer, ["<I0>", "▁item_"], init="mean")
    table = _table(backbone)
    expected = old.astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(table[old.shape[0]], expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", BACKBONES)
def test_vectors_are_rescaled_to_the_mean_norm_and_the_rest_are_normal(name: str) -> None:
    backbone = _backbone(name)
    old = _table(backbone)
    width = old.shape[1]
    tokens = _tokens(250, "M")
    rng = np.random.default_rng(7)
    given = {t: rng.normal(size=width) * rng.uniform(0.1, 50) for t in tokens[::5]}
    record = prepare_id_tokens(
        backbone.model, backbone.tokenizer, tokens, init="vectors", vectors=given, std=0.5
    )
    table = _table(backbone)
    ids = dict(zip(tokens, backbone.tokenizer.convert_tokens_to_ids(tokens), strict=True))
    target = np.linalg.norm(old.astype(np.float64), axis=1).mean()
    for token, vector in given.items():
        row = table[ids[token]].astype(np.float64)
        cosine = row @ vector / (np.linalg.norm(row) * np.linalg.norm(vector))
        assert cosine == pytest.approx(1.0, abs=1e-6)
        assert np.linalg.norm(row) == pytest.approx(target, rel=1e-5)
    rest = table[[ids[t] for t in tokens if t not in given]]
    assert rest.shape == (200, width)
    assert abs(rest.mean()) < 0.5 * 0.05 and abs(rest.std() / 0.5 - 1) < 0.05
    assert np.array_equal(table[: old.shape[0]], old)
    assert record["rows_from_vectors"] == 50 and record["init"] == "vectors"
    assert record["table_rows"] == old.shape[0] + 250


@pytest.mark.parametrize("init", ["normal", "mean", "vectors"])
def test_seed_decides_the_rows(init: str) -> None:
    tokens = _tokens(20)
    vectors = {tokens[0]: np.arange(64, dtype=np.float32) + 1.0}

    def rows(seed: int) -> np.ndarray:
        backbone = _backbone()
        prepare_id_tokens(
            backbone.model, backbone.tokenizer, tokens, init=init, vectors=vectors, seed=seed
        )
        return _table(backbone)

    assert np.array_equal(rows(3), rows(3))
    if init != "mean":
        first, other = rows(3), rows(4)
        assert not np.array_equal(first[-19:], other[-19:])
        # the vector row does not depend on the seed
        assert np.array_equal(first[-20], other[-20]) == (init == "vectors")


@pytest.mark.parametrize("name", BACKBONES)
def test_the_table_grows_by_the_new_tokens_only(name: str) -> None:
    backbone = _backbone(name)
    before = len(backbone.tokenizer)
    assert backbone.model.get_input_embeddings().weight.shape[0] == before
    record = prepare_id_tokens(backbone.model, backbone.tokenizer, _tokens(7))
    assert len(backbone.tokenizer) == before + 7 == record["table_rows"]
    assert backbone.model.get_input_embeddings().weight.shape[0] == before + 7
    assert backbone.model.get_output_embeddings().weight.shape[0] == before + 7
    assert backbone.model.config.vocab_size == before + 7
    # a second call with the same tokens adds nothing and keeps the table
    record = prepare_id_tokens(backbone.model, backbone.tokenizer, _tokens(7))
    assert record["table_rows"] == before + 7 == len(backbone.tokenizer)


def test_t5_output_head_stays_tied_to_the_new_rows() -> None:
    backbone = _backbone("t5-tiny")
    prepare_id_tokens(backbone.model, backbone.tokenizer, _tokens(3), init="mean")
    head = backbone.model.get_output_embeddings().weight
    assert torch.equal(head, backbone.model.get_input_embeddings().weight)


@pytest.mark.parametrize("with_new_tokens", [False, True])
def test_numeric_reinit_normal_touches_exactly_the_numeric_rows(with_new_tokens: bool) -> None:
    backbone = _backbone()
    old = _table(backbone)
    numeric = numeric_token_ids(backbone.tokenizer)
    assert len(numeric) == 110
    new = _tokens(3) if with_new_tokens else []
    record = prepare_id_tokens(
        backbone.model, backbone.tokenizer, new, numeric_reinit="normal", std=0.01, seed=2
    )
    table = _table(backbone)
    changed = np.flatnonzero((table[: old.shape[0]] != old).any(axis=1))
    assert changed.tolist() == numeric
    rows = table[numeric]
    assert abs(rows.mean()) < 0.06 and abs(rows.std() - 1) < 0.05
    assert record["numeric_reinit"] == "normal" and record["numeric_rows"] == 110
    assert record["table_rows"] == old.shape[0] + len(new)
    if with_new_tokens:
        assert np.abs(table[old.shape[0] :]).max() < 0.01 * 6  # the new rows keep their std


def test_numeric_reinit_uniform_fills_minus_ten_to_ten() -> None:
    backbone = _backbone("llama-tiny")
    old = _table(backbone)
    numeric = numeric_token_ids(backbone.tokenizer)
    record = prepare_id_tokens(backbone.model, backbone.tokenizer, [], numeric_reinit="uniform")
    table = _table(backbone)
    changed = np.flatnonzero((table != old).any(axis=1))
    assert changed.tolist() == numeric
    values = table[numeric].ravel()
    assert values.min() >= -10 and values.max() <= 10
    assert values.min() < -9.9 and values.max() > 9.9
    assert abs(values.mean()) < 0.35 and abs(values.std() - 20 / np.sqrt(12)) < 0.15
    counts, _ = np.histogram(values, bins=10, range=(-10, 10))
    expected = values.size / 10
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)
    assert record["numeric_rows"] == len(numeric) and record["table_rows"] == old.shape[0]


def test_unknown_init_is_an_error() -> None:
    backbone = _backbone()
    with pytest.raises(
        ConfigError, match=r"^init: expected one of 'normal', 'mean', 'vectors', found '?zeros'?$"
    ):
        prepare_id_tokens(backbone.model, backbone.tokenizer, ["<A>"], init="zeros")


def test_unknown_numeric_reinit_is_an_error() -> None:
    backbone = _backbone()
    with pytest.raises(
        ConfigError,
        match=r"^numeric_reinit: expected one of 'none', 'normal', 'uniform', found '?xavier'?$",
    ):
        prepare_id_tokens(backbone.model, backbone.tokenizer, ["<A>"], numeric_reinit="xavier")


@pytest.mark.parametrize("std", [0.0, -1.0, float("nan")])
def test_std_must_be_positive(std: float) -> None:
    backbone = _backbone()
    with pytest.raises(ConfigError, match=r"^std: expected a positive number, found "):
        prepare_id_tokens(backbone.model, backbone.tokenizer, ["<A>"], std=std)


@pytest.mark.parametrize("vectors", [None, {}])
def test_vectors_init_needs_vectors(vectors) -> None:
    backbone = _backbone()
    with pytest.raises(
        ConfigError, match=r"^init: expected an assignment with token vectors for init=vectors"
    ):
        prepare_id_tokens(
            backbone.model, backbone.tokenizer, ["<A>"], init="vectors", vectors=vectors
        )


def test_vectors_must_have_the_model_width() -> None:
    backbone = _backbone()
    vectors = {"<A>": np.ones(32), "<B>": np.ones(64)}
    with pytest.raises(
        ConfigError,
        match=r"^init: expected vectors of the model width 64 .*F layer.*found '?width \[32, 64\]'?$",
    ):
        prepare_id_tokens(
            backbone.model, backbone.tokenizer, ["<A>", "<B>"], init="vectors", vectors=vectors
        )


def test_a_rejected_call_leaves_model_and_tokenizer_alone() -> None:
    backbone = _backbone()
    size, old = len(backbone.tokenizer), _table(backbone)
    with pytest.raises(ConfigError):
        prepare_id_tokens(
            backbone.model, backbone.tokenizer, ["<A>"], init="vectors", vectors={"<A>": [1.0]}
        )
    assert len(backbone.tokenizer) == size and np.array_equal(_table(backbone), old)
