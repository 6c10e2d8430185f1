"""BLEU of generated text (P5's explanation and review-summary families), via sacrebleu.

Corpus BLEU (Papineni et al., 2002) with one reference per hypothesis: clipped n-gram
precisions ``p_1..p_N`` pooled over the corpus, their geometric mean, and a brevity penalty
from the total lengths ``c`` (hypotheses) and ``r`` (references)::

    BLEU-N = 100 * BP * exp(mean_{n=1..N} log p_n),      BP = min(1, exp(1 - r / c))

``bleu4`` is sacrebleu's default BLEU (``N = 4``, ``smooth_method="exp"``, which only matters
when some higher-order precision is zero); ``bleu1`` is ``N = 1``: clipped unigram precision
times BP. Text is tokenised by sacrebleu's ``"13a"`` tokenizer (the WMT ``mteval-v13a`` rules:
punctuation split off, case kept) unless ``tokenize`` says otherwise. Scores are on sacrebleu's
0-100 scale, not 0-1. sacrebleu is imported inside ``bleu_scores``, so importing
``idprobe.metrics`` stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from idprobe.errors import ConfigError, verbatim
from idprobe.metrics._checks import check_option
from idprobe.metrics._result import MetricResult

__all__ = ["BLEU_TOKENIZERS", "BleuResult", "bleu_scores"]

# sacrebleu tokenizers that need no optional dependency (mecab, sentencepiece models).
BLEU_TOKENIZERS = ("13a", "intl", "char", "none", "zh")


@dataclass(frozen=True)
class BleuResult(MetricResult):
    """Corpus BLEU-1 and BLEU-4 (0-100) of ``n`` hypotheses against one reference each.

    Attributes:
        bleu1: BLEU with unigrams only (clipped unigram precision x brevity penalty).
        bleu4: standard BLEU (up to 4-grams).
        n: number of hypothesis/reference pairs.
        tokenize: the sacrebleu tokenizer used.
        lowercase: whether both sides were lowercased first.
    """

    bleu1: float
    bleu4: float
    n: int
    tokenize: str
    lowercase: bool


def _check_texts(parameter: str, texts: Any) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ConfigError(parameter, "a sequence of strings", verbatim(type(texts).__name__))
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ConfigError(f"{parameter}[{index}]", "a string", verbatim(type(text).__name__))
    return list(texts)


def bleu_scores(
    hypotheses: Sequence[str],
    references: Sequence[str],
    tokenize: str = "13a",
    lowercase: bool = False,
) -> BleuResult:
    """Corpus BLEU-1 and BLEU-4 of ``hypotheses[i]`` against ``references[i]`` (sacrebleu).

    Args:
        hypotheses: generated texts.
        references: one reference text per hypothesis.
        tokenize: a sacrebleu tokenizer, one of ``BLEU_TOKENIZERS``.
        lowercase: lowercase both sides before scoring.
    """
    hyps = _check_texts("hypotheses", hypotheses)
    refs = _check_texts("references", references)
    if len(refs) != len(hyps):
        raise ConfigError(
            "references", f"one reference per hypothesis ({len(hyps)})", verbatim(f"{len(refs)}")
        )
    if not hyps:
        raise ConfigError("hypotheses", "at least one text", verbatim("none"))
    tokenize = check_option("tokenize", tokenize, BLEU_TOKENIZERS)

    from sacrebleu.metrics import BLEU

    scores = {}
    for order in (1, 4):
        metric = BLEU(tokenize=tokenize, lowercase=bool(lowercase), max_ngram_order=order)
        scores[order] = float(metric.corpus_score(hyps, [refs]).score)
    return BleuResult(
        bleu1=scores[1],
        bleu4=scores[4],
        n=len(hyps),
        tokenize=tokenize,
        lowercase=bool(lowercase),
    )
