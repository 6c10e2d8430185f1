"""Tokenizers for the shared trainer: trained offline on the prompt corpus, or read from a directory.

A from-scratch backbone (``t5-tiny``, ``t5-small``, ``llama-tiny``) needs a tokenizer, and none may
be downloaded. :func:`train_tokenizer` trains a byte-pair-encoding model with SentencePiece's
word-boundary marker ``▁`` (as in T5's vocabulary) with the ``tokenizers`` library on the rendered
prompts. (The library's Unigram trainer, T5's own algorithm, learned almost no whole words from
prompt corpora in our trials, so BPE it is.) Two choices make it behave like T5's vocabulary where
that matters for ID strategies:

* **Numbers become sub-tokens.** Digit runs are cut into groups of at most ``digit_group`` digits
  before the BPE model sees them, and every group up to that width is in the vocabulary, so
  ``item_1134`` is ``▁item_`` ``11`` ``34``: a RID or SID number is spelt with sub-tokens that other
  numbers share, exactly the property Hua et al. study. Learning whole numbers from a corpus full
  of item IDs would quietly turn RID into IID.
* **ID tokens are not learned.** Bracketed ID tokens (``<CT4>``, ``<I12>``) are removed from the
  corpus before training; :func:`add_id_tokens` adds an assignment's new tokens afterwards as
  *normal* (not special) tokens, so ``decode(skip_special_tokens=True)`` keeps them (DESIGN.md).

Special tokens follow T5: ``<pad>`` = 0 (also the decoder start), ``</s>`` = 1, ``<unk>`` = 2.
Every encoded text ends with ``</s>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from idprobe.errors import ConfigError, verbatim

__all__ = [
    "SPECIAL_TOKENS",
    "add_id_tokens",
    "load_tokenizer",
    "numeric_token_ids",
    "train_tokenizer",
]

SPECIAL_TOKENS = ("<pad>", "</s>", "<unk>")
_ID_TOKEN = re.compile(r"<[^<>\s]+>")
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "spiece.model",
    "tokenizer.model",
    "vocab.txt",
    "vocab.json",
)


def _digit_groups(width: int) -> list[str]:
    """Every digit string of length 1..width ('0'..'9', '00'..'99', ...)."""
    return [f"{n:0{w}d}" for w in range(1, width + 1) for n in range(10**w)]


def _with_digit_groups(tokenizer: Tokenizer, groups: Sequence[str]) -> Tokenizer:
    """The trained BPE model with every digit group a token, whatever the corpus held.

    A digit run reaches the model already cut into groups, so a group is a whole pre-token:
    adding every group to the vocabulary and letting BPE use a pre-token that is in the
    vocabulary as it is (``ignore_merges``) makes every group one token. (Appending merges
    instead fails for three digits: earlier merges such as ``0 0`` win over a late ``10 0``.)
    Words the merges build are vocabulary entries themselves, so other text is unaffected.
    """
    state = json.loads(tokenizer.to_str())
    vocab = state["model"]["vocab"]
    for group in groups:
        if group not in vocab:
            vocab[group] = len(vocab)
    state["model"]["ignore_merges"] = True
    return Tokenizer.from_str(json.dumps(state))


def train_tokenizer(
    corpus: Iterable[str],
    *,
    vocab_size: int = 2000,
    digit_group: int = 2,
) -> PreTrainedTokenizerFast:
    """Train a BPE tokenizer (SentencePiece word marker) on ``corpus`` offline; see the module docstring.

    ``vocab_size`` is an upper bound (a small corpus yields fewer pieces); it must leave room for
    the special tokens and every digit group (110 pieces for ``digit_group=2``).
    """
    if (
        isinstance(digit_group, bool)
        or not isinstance(digit_group, int)
        or not 1 <= digit_group <= 3
    ):
        raise ConfigError("digit_group", "an integer from 1 to 3", digit_group)
    groups = _digit_groups(digit_group)
    minimum = len(SPECIAL_TOKENS) + len(groups) + 30
    if not isinstance(vocab_size, int) or vocab_size < minimum:
        raise ConfigError("vocab_size", f"an integer >= {minimum}", vocab_size)

    tokenizer = Tokenizer(BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Strip()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(),
            pre_tokenizers.Split(Regex(rf"\d{{1,{digit_group}}}"), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace()
    trainer = BpeTrainer(
        vocab_size=vocab_size - len(groups),
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=list("0123456789"),
        show_progress=False,
    )

    tokenizer.train_from_iterator((_ID_TOKEN.sub(" ", text) for text in corpus), trainer=trainer)
    tokenizer = _with_digit_groups(tokenizer, groups)
    eos = tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=1024,
    )


def load_tokenizer(directory: str | Path) -> PreTrainedTokenizerBase:
    """The tokenizer saved in a local directory (never the network)."""
    path = Path(directory)
    if not path.is_dir():
        raise ConfigError("tokenizer", "a local tokenizer directory", str(path))
    # Without these, AutoTokenizer quietly builds an empty default tokenizer from config.json.
    if not any((path / name).exists() for name in _TOKENIZER_FILES):
        raise ConfigError(
            "tokenizer", f"a directory with one of {', '.join(_TOKENIZER_FILES)}", str(path)
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(
            "tokenizer", f"a loadable tokenizer in {path}", verbatim(first[:200])
        ) from None
    if tokenizer.pad_token is None:
        # Causal LMs often have no pad token; padding with EOS is the usual choice, and the
        # attention mask (not the pad id) decides what the model sees.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def add_id_tokens(tokenizer: PreTrainedTokenizerBase, tokens: Sequence[str]) -> list[int]:
    """Add an assignment's new tokens as normal tokens; return their ids, in ``tokens`` order.

    Tokens the vocabulary already holds keep their id. Added as non-special tokens so that
    decoding keeps them (``special_tokens=True`` would drop them from decoded text).
    """
    tokenizer.add_tokens(list(tokens), special_tokens=False)
    ids = tokenizer.convert_tokens_to_ids(list(tokens))
    unk = tokenizer.unk_token_id
    bad = [t for t, i in zip(tokens, ids, strict=True) if i is None or (i == unk and t != "<unk>")]
    if bad:
        raise ConfigError("new tokens", "tokens the tokenizer can add", bad[:5])
    return list(ids)


def numeric_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Ids of the vocabulary's numeric sub-tokens: digits only once the word marker is removed.

    These are the rows that OpenP5 / META ID (N(0, 1)) and Hua et al. (U(-10, 10)) re-initialise
    for RID and SID (REFERENCE.md pitfall 6). Markers: SentencePiece ``▁``, WordPiece ``##``,
    byte-level BPE ``Ġ``.
    """
    vocab: dict[str, Any] = tokenizer.get_vocab()
    out = []
    for token, index in vocab.items():
        stripped = token.replace("▁", "").replace("##", "").replace("Ġ", "")
        if stripped.isdigit() and stripped.isascii():
            out.append(int(index))
    return sorted(out)
