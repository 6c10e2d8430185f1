"""``external``: IDs read from published ID files (OpenP5 / META ID format), analysed like any other.

An ID file has one line per entity: the raw id, whitespace, then the ID's tokens, e.g.::

    B00004TMFE <CT12><1007>
    B0009RF9DW 1024

Tokens in angle brackets (``<CT12>``) are new, out-of-vocabulary tokens; any other text between
them (``1024``, ``item_``) is plain text that the backbone tokenizer splits. Whitespace inside the
ID also separates tokens. The file stores the ID's *text*, so two plain-text tokens written side
by side (``("item_", "1001")``) read back as one (``("item_1001",)``); the model sees the same
text either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from idprobe.data import TrainingView
from idprobe.errors import ConfigError, DataFormatError, DatasetError, verbatim
from idprobe.ids.base import IdAssignment, IdStrategy, check_choice, register
from idprobe.results import atomic_write_text

__all__ = ["ExternalIds", "is_new_token", "read_id_file", "split_id_text", "write_id_file"]

_TOKEN = re.compile(r"<[^<>\s]+>|[^<>\s]+")
_WELL_FORMED = re.compile(r"(?:<[^<>\s]+>|[^<>\s]+|\s+)+")


def is_new_token(token: str) -> bool:
    """Whether an ID-file token is out-of-vocabulary: written in angle brackets, like ``<CT12>``."""
    return token.startswith("<") and token.endswith(">") and len(token) > 2


def split_id_text(text: str) -> tuple[str, ...] | None:
    """The tokens of an ID's text (``"<CT12><1007>"`` -> ``("<CT12>", "<1007>")``), or ``None``
    if the text is not well formed (an unclosed or empty ``<>``)."""
    if not _WELL_FORMED.fullmatch(text):
        return None
    return tuple(_TOKEN.findall(text))


def read_id_file(path: str | Path, kind: str = "item") -> dict[str, tuple[str, ...]]:
    """Raw id -> token tuple from an ID file; errors name the file, line and field."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such ID file")
    ids: dict[str, tuple[str, ...]] = {}
    first_line: dict[str, int] = {}
    owner: dict[tuple[str, ...], tuple[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            raw, *rest = re.split(r"\s+", text, maxsplit=1)
            id_text = rest[0] if rest else ""
            if not id_text:
                raise DataFormatError(
                    path, number, "id", f"a raw {kind} id followed by its tokens", text
                )
            tokens = split_id_text(id_text)
            if tokens is None:
                raise DataFormatError(
                    path, number, "id", "tokens like <CT12><1007> (brackets closed)", id_text
                )
            if raw in ids:
                raise DataFormatError(
                    path,
                    number,
                    f"{kind} id",
                    f"each raw id once (first on line {first_line[raw]})",
                    raw,
                )
            if tokens in owner:
                other, other_line = owner[tokens]
                raise DataFormatError(
                    path,
                    number,
                    "id",
                    f"an ID not shared with {kind} {other!r} of line {other_line}",
                    id_text,
                )
            ids[raw] = tokens
            first_line[raw] = number
            owner[tokens] = (raw, number)
    if not ids:
        raise DataFormatError(
            path, None, "content", f"at least one {kind} line", verbatim("an empty file")
        )
    return ids


def write_id_file(path: str | Path, ids: Mapping[str, Sequence[str]]) -> Path:
    """Write ``raw_id TOKENS`` lines (the format ``read_id_file`` reads), atomically."""
    lines = [f"{raw} {''.join(tokens)}\n" for raw, tokens in ids.items()]
    return atomic_write_text(path, "".join(lines))


def _restrict(
    ids: dict[str, tuple[str, ...]], catalog: Sequence[str], path: Path, kind: str, unknown: str
) -> dict[str, tuple[str, ...]]:
    known = set(catalog)
    extra = [raw for raw in ids if raw not in known]
    if extra and unknown == "error":
        raise DatasetError(
            f"{path}: {len(extra)} {kind} ids are not in the dataset (e.g. {extra[0]!r}); "
            f"pass unknown='ignore' to skip them"
        )
    missing = [raw for raw in catalog if raw not in ids]
    if missing:
        raise DatasetError(
            f"{path}: {len(missing)} of {len(catalog)} {kind}s of the dataset have no ID "
            f"(e.g. {missing[0]!r})"
        )
    # Catalog order, so the assignment is laid out like the built ones.
    return {raw: ids[raw] for raw in catalog}


@register
@dataclass(frozen=True)
class ExternalIds(IdStrategy):
    """External: IDs read from published files (``raw_id <tok><tok>...``) for items and optionally users.

    The file must give an ID to every item (and user, with ``users``) of the dataset; raw ids
    not in the dataset are an error unless ``unknown="ignore"``. New tokens are the bracketed
    tokens, in order of first occurrence (items first).
    """

    name: ClassVar[str] = "external"
    required_params: ClassVar[tuple[str, ...]] = ("items",)
    cold_rule: ClassVar[str] = "whatever the ID file says (the file is taken as given)"

    items: str | None = None
    users: str | None = None
    unknown: str = "error"

    def __post_init__(self) -> None:
        if not isinstance(self.items, str | Path) or not str(self.items):
            raise ConfigError(f"{self.name}.items", "the path of an item ID file", self.items)
        if self.users is not None and not isinstance(self.users, str | Path):
            raise ConfigError(
                f"{self.name}.users", "the path of a user ID file or None", self.users
            )
        object.__setattr__(self, "items", str(self.items))
        if self.users is not None:
            object.__setattr__(self, "users", str(self.users))
        check_choice(self.name, "unknown", self.unknown, ("error", "ignore"))

    @property
    def indexes_users(self) -> bool:
        return self.users is not None

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        item_path = Path(self.items)
        items = _restrict(
            read_id_file(item_path, "item"), view.items.tolist(), item_path, "item", self.unknown
        )
        users = None
        if self.users is not None:
            user_path = Path(self.users)
            users = _restrict(
                read_id_file(user_path, "user"),
                view.users.tolist(),
                user_path,
                "user",
                self.unknown,
            )
        new_tokens: dict[str, None] = {}
        for ids in (items, users or {}):
            for tokens in ids.values():
                new_tokens.update(dict.fromkeys(t for t in tokens if is_new_token(t)))
        cold = view.items[view.item_counts == 0]
        return self._assignment(
            view, seed, items, users, list(new_tokens), cold_items=cold.tolist()
        )
