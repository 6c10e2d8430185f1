"""Vocabulary: token -> embedding rows from a vocabulary file or a tokenizer directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from idprobe.errors import ConfigError, DataFormatError
from idprobe.training.vocabulary import Vocabulary

tokenizers = pytest.importorskip("tokenizers")

WORDPIECE = {"[UNK]": 0, "[PAD]": 1, "12": 2, "##34": 3, "1": 4, "##2": 5, "##3": 6, "##4": 7}


def _tokenizer_dir(tmp_path: Path, padded: bool = True) -> Path:
    """A WordPiece tokenizer that pads to 8 like sentence-transformers' saved MiniLM does."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordPiece(WORDPIECE, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    if padded:
        tokenizer.enable_padding(length=8, pad_id=1, pad_token="[PAD]")
    tokenizer.add_tokens(["<CT1>", "<CT2>"])
    directory = tmp_path / "tok"
    directory.mkdir()
    tokenizer.save(str(directory / "tokenizer.json"))
    return directory


def test_vocabulary_file_rows_are_line_numbers(write) -> None:
    vocab = Vocabulary.from_file(write("vocab.txt", "a\r\n<CT1>\n2024\n"))
    assert dict(vocab.token_to_row) == {"a": 0, "<CT1>": 1, "2024": 2}
    assert vocab.size == 3
    assert vocab.token_rows([("<CT1>", "2024"), ("a",)]) == [(1, 2), (0,)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a\n\nb\n", ":2: field 'token': expected one token per line, found an empty line"),
        ("a\nb\na\n", ":3: field 'token': expected a token not listed before (first on line 1)"),
        ("", "field 'token': expected at least one token, found an empty file"),
    ],
)
def test_bad_vocabulary_files_name_the_line(write, content: str, expected: str) -> None:
    path = write("vocab.txt", content)
    with pytest.raises(DataFormatError) as error:
        Vocabulary.from_file(path)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_and_undecodable_vocabulary_files(tmp_path: Path, write) -> None:
    with pytest.raises(ConfigError, match="--vocab: expected an existing vocabulary file"):
        Vocabulary.from_file(tmp_path / "nope.txt")
    with pytest.raises(DataFormatError, match="expected UTF-8 text"):
        Vocabulary.from_file(write("bad.txt", b"\xff\xfe\x00a\n"))


def test_a_token_without_a_row_is_an_error_that_names_it(write) -> None:
    vocab = Vocabulary.from_file(write("vocab.txt", "a\n"))
    with pytest.raises(ConfigError, match=r"this new token has none, found '<CT9>'"):
        vocab.rows_of("<CT9>")
    with pytest.raises(ConfigError, match=r"give a tokenizer to split plain text.*'2024'"):
        vocab.token_rows([("2024",)])


def test_tokenizer_splits_plain_tokens_without_padding(tmp_path: Path) -> None:
    vocab = Vocabulary.from_tokenizer_dir(_tokenizer_dir(tmp_path))
    assert vocab.rows_of("1234") == (2, 3)  # "12", "##34" - and no [PAD] rows
    assert vocab.rows_of("1") == (4,)
    assert vocab.rows_of("<CT2>") == (vocab.token_to_row["<CT2>"],)
    assert vocab.size == len(WORDPIECE) + 2
    assert vocab.token_rows([("<CT1>", "1234")]) == [(vocab.token_to_row["<CT1>"], 2, 3)]


def test_tokenizer_directory_errors(tmp_path: Path, write) -> None:
    with pytest.raises(
        ConfigError, match=r"--tokenizer: expected a directory holding tokenizer\.json"
    ):
        Vocabulary.from_tokenizer_dir(tmp_path)
    bad = write("broken/tokenizer.json", "{not json")
    with pytest.raises(DataFormatError, match=r"tokenizer\.json: field 'tokenizer'"):
        Vocabulary.from_tokenizer_dir(bad.parent)


def test_with_tokens_adds_rows_and_refuses_clashes(write) -> None:
    vocab = Vocabulary.from_file(write("vocab.txt", "a\nb\n"))
    extended = vocab.with_tokens({"<CT1>": 5})
    assert extended.rows_of("<CT1>") == (5,) and extended.size == 6
    assert "<CT1>" not in vocab.token_to_row  # the original is unchanged
    with pytest.raises(ConfigError, match="new tokens: expected tokens not already"):
        vocab.with_tokens({"a": 7})


def test_a_bare_word_marker_is_not_part_of_a_plain_id(tmp_path: Path) -> None:
    """Our trained tokenizer spells "1134" alone as "▁" "11" "34"; in a prompt ("item_1134") the
    ID's own tokens are "11" "34", so the representation must not average the "▁" row."""
    from idprobe.training.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(["user_1 bought item_1134 and item_2024 ."] * 20, vocab_size=300)
    tokenizer.save_pretrained(str(tmp_path))
    vocabulary = Vocabulary.from_tokenizer_dir(tmp_path)
    assert tokenizer.tokenize("1134") == ["▁", "11", "34"]
    assert vocabulary.rows_of("1134") == tuple(tokenizer.convert_tokens_to_ids(["11", "34"]))
    in_prompt = tokenizer.tokenize("item_1134")
    assert in_prompt[-2:] == ["11", "34"]
