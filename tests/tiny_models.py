"""The smallest T5 and LLaMA the training tests use: one layer, d_model 16, seeded weights.

Built from configs, never downloaded. Weights depend only on ``seed`` and the shape; the token
ids (pad, BOS, EOS) and tying are arguments because tests of decoding and of the F layer need
particular ones.
"""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration


def tiny_t5(
    vocab: int = 50,
    *,
    seed: int = 0,
    dropout: float = 0.1,
    tied: bool = True,
    pad: int = 0,
    eos: int = 1,
) -> T5ForConditionalGeneration:
    """T5 with one encoder and one decoder layer; the decoder starts with ``pad`` (as T5 does)."""
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=vocab,
        d_model=16,
        d_ff=32,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        d_kv=8,
        dropout_rate=dropout,
        pad_token_id=pad,
        eos_token_id=eos,
        decoder_start_token_id=pad,
        tie_word_embeddings=tied,
    )
    return T5ForConditionalGeneration(config)


def tiny_llama(
    vocab: int = 50,
    *,
    seed: int = 0,
    tied: bool = False,
    pad: int = 0,
    bos: int = 2,
    eos: int = 1,
    max_positions: int = 64,
) -> LlamaForCausalLM:
    """A one-layer LLaMA-architecture causal LM."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        pad_token_id=pad,
        bos_token_id=bos,
        eos_token_id=eos,
        tie_word_embeddings=tied,
    )
    return LlamaForCausalLM(config)
