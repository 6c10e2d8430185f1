"""BLEU against direct sacrebleu calls and a hand-computed BLEU-1."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter

import numpy as np
import pytest
import sacrebleu
from metric_checks import config_error

from idprobe.metrics import BLEU_TOKENIZERS, BleuResult, bleu_scores

HYPOTHESES = [
    "the cat sat on the mat",
    "great product , works well",
    "the the the",
]
REFERENCES = [
    "the cat is on the mat",
    "this product works really well",
    "the cat ate the fish",
]


def hand_bleu1(hypotheses: list[str], references: list[str]) -> float:
    """Clipped unigram precision pooled over the corpus times the brevity penalty (0-100).

    The sentences above need no tokenisation beyond whitespace (punctuation is already split).
    """
    matched = total = ref_len = 0
    for hyp, ref in zip(hypotheses, references, strict=True):
        h, r = Counter(hyp.split()), Counter(ref.split())
        matched += sum(min(count, r[token]) for token, count in h.items())
        total += sum(h.values())
        ref_len += sum(r.values())
    bp = 1.0 if total > ref_len else math.exp(1 - ref_len / total)
    return 100 * bp * matched / total


def test_bleu1_by_hand() -> None:
    # sentence 1: 5/6 matched; 2: "product works well" 3/5; 3: "the" clipped to 2 of 3
    # corpus: 10 / 14 matched, hyp 14 < ref 16 tokens: BP = exp(1 - 16/14)
    expected = 100 * math.exp(1 - 16 / 14) * 10 / 14
    assert hand_bleu1(HYPOTHESES, REFERENCES) == pytest.approx(expected)
    result = bleu_scores(HYPOTHESES, REFERENCES)
    assert isinstance(result, BleuResult)
    assert result.bleu1 == pytest.approx(expected, abs=1e-9)
    # single sentence, no brevity penalty (6 = 6 tokens): 5 of 6 unigrams
    assert bleu_scores(HYPOTHESES[:1], REFERENCES[:1]).bleu1 == pytest.approx(100 * 5 / 6)


def test_equal_texts_score_100_and_disjoint_score_0() -> None:
    same = bleu_scores(["a b c d e", "f g h i"], ["a b c d e", "f g h i"])
    assert same.bleu1 == pytest.approx(100) and same.bleu4 == pytest.approx(100)
    disjoint = bleu_scores(["x y z"], ["a b c"])
    assert disjoint.bleu1 == 0.0 and disjoint.bleu4 == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tokenize", ["13a", "char", "none"])
def test_equals_direct_sacrebleu(seed: int, tokenize: str) -> None:
    rng = np.random.default_rng(seed)
    words = ["good", "bad", "item", "price", "quality", "nice", ",", ".", "Great", "!"]
    hyps = [" ".join(rng.choice(words, rng.integers(1, 12))) for _ in range(20)]
    refs = [" ".join(rng.choice(words, rng.integers(1, 12))) for _ in range(20)]
    result = bleu_scores(hyps, refs, tokenize=tokenize)
    bleu4 = sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize).score
    bleu1 = sacrebleu.metrics.BLEU(tokenize=tokenize, max_ngram_order=1)
    assert result.bleu4 == bleu4
    assert result.bleu1 == bleu1.corpus_score(hyps, [refs]).score
    assert result.n == 20 and result.tokenize == tokenize and result.lowercase is False


def test_tokenization_and_lowercase() -> None:
    # 13a splits the final period off; "none" does not
    assert bleu_scores(["Good item."], ["Good item ."]).bleu1 == pytest.approx(100)
    assert bleu_scores(["Good item."], ["Good item ."], tokenize="none").bleu1 < 100
    assert bleu_scores(["GOOD item"], ["good item"]).bleu1 == pytest.approx(50)
    assert bleu_scores(["GOOD item"], ["good item"], lowercase=True).bleu1 == pytest.approx(100)


def test_result_renders() -> None:
    result = bleu_scores(HYPOTHESES, REFERENCES)
    record = result.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert len(result.to_frame()) == 1 and "BleuResult" in result._repr_html_()


def test_sacrebleu_is_imported_lazily() -> None:
    import subprocess

    code = "import sys, idprobe.metrics; print('sacrebleu' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_errors() -> None:
    config_error("hypotheses", lambda: bleu_scores("a b", ["a b"]), "sequence of strings")
    config_error("hypotheses[0]", lambda: bleu_scores([1], ["a"]), "a string", "int")
    config_error("references[1]", lambda: bleu_scores(["a", "b"], ["a", None]), "a string")
    config_error("references", lambda: bleu_scores(["a", "b"], ["a"]), "one reference per", "1")
    config_error("hypotheses", lambda: bleu_scores([], []), "at least one text")
    config_error("tokenize", lambda: bleu_scores(["a"], ["a"], tokenize="spm"), "'13a'")
    assert set(BLEU_TOKENIZERS) <= set(sacrebleu.metrics.BLEU.TOKENIZERS)
