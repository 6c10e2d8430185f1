"""Where an ID's tokens live in an embedding table: token -> rows.

A new (out-of-vocabulary) token such as ``<CT12>`` has one row of its own, added when a model is
trained with the assignment. A plain token such as ``2024`` (RID, SID) is text: the backbone's
tokenizer splits it into sub-tokens (``"20"``, ``"##24"``), and the ID's representation averages
those rows. Each plain token is encoded on its own, without the template words around it (the
"ID's own tokens" convention of REFERENCE.md).

Two sources: a vocabulary file (one token per line, line ``n`` is row ``n - 1``), where every
token must appear verbatim, and a tokenizer directory (``tokenizer.json``, read with the
``tokenizers`` library), which splits plain tokens and knows added tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idprobe.errors import ConfigError, DataFormatError, verbatim
from idprobe.ids.external import is_new_token

__all__ = ["Vocabulary"]

_MARKERS = frozenset({"▁", "Ġ"})  # bare word-boundary pieces (SentencePiece, byte-level BPE)


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Token -> embedding-table rows, from a vocabulary file or a tokenizer.

    Attributes:
        token_to_row: every token of the vocabulary and its row.
        source: where it came from (a path), for messages.
        size: number of rows the vocabulary addresses.
        tokenizer: a ``tokenizers.Tokenizer`` that splits plain tokens, or ``None`` (then every
            token must be in ``token_to_row`` verbatim).
    """

    token_to_row: Mapping[str, int]
    source: str
    size: int
    tokenizer: Any = None
    _cache: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_file(cls, path: str | Path) -> Vocabulary:
        """Read a vocabulary file: one token per line, line ``n`` is row ``n - 1``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("--vocab", "an existing vocabulary file", str(path)) from None
        except UnicodeDecodeError as error:
            raise DataFormatError(path, None, "token", "UTF-8 text", verbatim(str(error))) from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final newline ends the last line, it does not start a new one
        mapping: dict[str, int] = {}
        for number, line in enumerate(lines, start=1):
            token = line.removesuffix("\r")
            if not token:
                raise DataFormatError(
                    path, number, "token", "one token per line", verbatim("an empty line")
                )
            if token in mapping:
                raise DataFormatError(
                    path,
                    number,
                    "token",
                    f"a token not listed before (first on line {mapping[token] + 1})",
                    token,
                )
            mapping[token] = number - 1
        if not mapping:
            raise DataFormatError(
                path, None, "token", "at least one token", verbatim("an empty file")
            )
        return cls(mapping, str(path), len(mapping))

    @classmethod
    def from_tokenizer_dir(cls, directory: str | Path) -> Vocabulary:
        """Load ``tokenizer.json`` from a Hugging Face tokenizer or model directory."""
        directory = Path(directory)
        file = directory / "tokenizer.json"
        if not file.is_file():
            raise ConfigError("--tokenizer", "a directory holding tokenizer.json", str(directory))
        try:
            from tokenizers import Tokenizer
        except ImportError as error:  # pragma: no cover - tokenizers is in the training extra
            raise ConfigError(
                "--tokenizer",
                "the tokenizers package (pip install 'idprobe[training]')",
                verbatim("not installed"),
            ) from error
        try:
            tokenizer = Tokenizer.from_file(str(file))
        except Exception as error:  # the Rust library raises a bare Exception on bad JSON
            raise DataFormatError(
                file,
                None,
                "tokenizer",
                "a tokenizers JSON file",
                verbatim(str(error).splitlines()[0]),
            ) from None
        # A saved tokenizer may pad every encoding to a fixed length (sentence-transformers
        # ships MiniLM padded to 128): padding rows are not part of an ID.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        mapping = tokenizer.get_vocab(with_added_tokens=True)
        return cls(
            mapping, str(directory), tokenizer.get_vocab_size(with_added_tokens=True), tokenizer
        )

    def with_tokens(self, rows: Mapping[str, int]) -> Vocabulary:
        """This vocabulary plus new tokens at the given rows (see ``new_rows.add_missing_tokens``)."""
        clash = next((t for t in rows if t in self.token_to_row), None)
        if clash is not None:
            raise ConfigError("new tokens", "tokens not already in the vocabulary", clash)
        merged = {**self.token_to_row, **rows}
        size = max(self.size, max(rows.values(), default=-1) + 1)
        return Vocabulary(merged, self.source, size, self.tokenizer)

    def rows_of(self, token: str) -> tuple[int, ...]:
        """Rows of one ID token: its own row if new (or if no tokenizer), else its sub-tokens'."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        if is_new_token(token) or self.tokenizer is None:
            row = self.token_to_row.get(token)
            if row is None:
                kind = (
                    "new token"
                    if is_new_token(token)
                    else "token (give a tokenizer to split plain text)"
                )
                raise ConfigError(
                    f"vocabulary {self.source}",
                    f"a row for every ID token; this {kind} has none",
                    token,
                )
            rows: tuple[int, ...] = (row,)
        else:
            encoding = self.tokenizer.encode(token, add_special_tokens=False)
            # A SentencePiece-style tokenizer may spell "1134" as "▁" "11" "34": the bare word
            # marker belongs to the space before the ID in a prompt, not to the ID itself.
            kept = [
                i for i, t in zip(encoding.ids, encoding.tokens, strict=True) if t not in _MARKERS
            ]
            rows = tuple(kept or encoding.ids)
            if not rows:
                raise ConfigError(
                    f"vocabulary {self.source}", "at least one sub-token per plain token", token
                )
        self._cache[token] = rows
        return rows

    def token_rows(self, ids: Sequence[Sequence[str]]) -> list[tuple[int, ...]]:
        """The rows of every ID (one token tuple per entity), for ``id_representations``."""
        return [tuple(row for token in tokens for row in self.rows_of(token)) for tokens in ids]
