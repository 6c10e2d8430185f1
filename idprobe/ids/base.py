"""The ID strategy interface: what a strategy is, what it returns, how it is registered.

A strategy is a frozen dataclass whose fields are its hyper-parameters. It sees only the
*training view* of a split (never a validation or test interaction) and a seed, and returns an
:class:`IdAssignment`: one token tuple per item (and per user when it indexes users), the new
out-of-vocabulary tokens it introduces, optional initial vectors for those tokens, and the facts
a report needs (how cold entities were placed, collision rates, ...).

Tokens are strings. A token listed in ``new_tokens`` is out-of-vocabulary: the trainer adds it to
the tokenizer as one piece. Any other token is plain text that the backbone's tokenizer splits
(``("2024",)`` of RID becomes the sub-tokens of "2024"). The text of an ID is the concatenation of
its tokens; the prompt adds the ``item_`` / ``user_`` prefix around it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from idprobe._version import __version__
from idprobe.data import Interactions, TrainingView
from idprobe.errors import ConfigError, DataFormatError, DatasetError, IdprobeError, choices
from idprobe.results import atomic_write_bytes, atomic_write_text

__all__ = [
    "ASSIGNMENT_FILE",
    "VECTORS_FILE",
    "IdAssignment",
    "IdStrategy",
    "InvalidAssignmentError",
    "data_fingerprint",
    "describe_strategy",
    "get_strategy",
    "list_strategies",
    "register",
    "strategy_class",
]

log = logging.getLogger(__name__)

ASSIGNMENT_FILE = "assignment.json"
VECTORS_FILE = "token_vectors.npy"
ENTRY_POINT_GROUP = "idprobe.strategies"

TokenTuple = tuple[str, ...]
_WHITESPACE = re.compile(r"\s")


class InvalidAssignmentError(IdprobeError, ValueError):
    """A strategy (or an ID file) produced an assignment that breaks the contract."""


# ---------------------------------------------------------------------------------- assignment


def _as_token_map(kind: str, mapping: Mapping[str, Sequence[str]]) -> dict[str, TokenTuple]:
    out: dict[str, TokenTuple] = {}
    for raw, tokens in mapping.items():
        if isinstance(tokens, str):
            raise InvalidAssignmentError(
                f"{kind} {raw!r}: expected a tuple of tokens, found a string"
            )
        as_tuple = tuple(tokens)
        if not as_tuple:
            raise InvalidAssignmentError(f"{kind} {raw!r}: its ID has no tokens")
        for token in as_tuple:
            if not isinstance(token, str) or not token or _WHITESPACE.search(token):
                raise InvalidAssignmentError(
                    f"{kind} {raw!r}: token {token!r} is not a non-empty string without whitespace"
                )
        out[str(raw)] = as_tuple
    return out


def _first_duplicate(ids: Mapping[str, TokenTuple]) -> tuple[str, str, TokenTuple] | None:
    seen: dict[TokenTuple, str] = {}
    for raw, tokens in ids.items():
        if tokens in seen:
            return seen[tokens], raw, tokens
        seen[tokens] = raw
    return None


@dataclass(frozen=True, eq=False)
class IdAssignment:
    """The IDs one strategy gave to the entities of one training view.

    Attributes:
        strategy: registered name of the strategy that built it (``"external"`` for ID files).
        params: every hyper-parameter of the strategy, defaults included.
        seed: the seed it was built with.
        items: raw item id -> token tuple, for every item of the catalog, unique.
        users: raw user id -> token tuple for every user, or ``None`` when the strategy does not
            index users (the trainer then uses its own user scheme).
        new_tokens: the out-of-vocabulary tokens, in a stable order (the order the trainer adds
            them). Every one of them occurs in some ID.
        vector_tokens, vectors: optional initial vectors for some new tokens: row ``k`` of
            ``vectors`` belongs to ``vector_tokens[k]`` (META ID: cluster centroids). Use
            :attr:`token_vectors` to look them up by token.
        details: facts about the build, JSON-serialisable: ``cold`` (the cold entities and the rule
            that placed them) and strategy-specific numbers (e.g. RQ-VAE's unique-ID rate).
        data: name, size and fingerprint of the training view it was built from.
    """

    strategy: str
    params: Mapping[str, Any]
    seed: int
    items: Mapping[str, TokenTuple]
    users: Mapping[str, TokenTuple] | None
    new_tokens: tuple[str, ...]
    vector_tokens: tuple[str, ...] = ()
    vectors: np.ndarray | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    version: str = __version__

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "items", _as_token_map("item", self.items))
        if self.users is not None:
            set_(self, "users", _as_token_map("user", self.users))
        set_(self, "new_tokens", tuple(self.new_tokens))
        set_(self, "vector_tokens", tuple(self.vector_tokens))
        set_(self, "params", dict(self.params))
        set_(self, "details", dict(self.details))
        set_(self, "data", dict(self.data))
        if self.vectors is not None:
            vectors = np.array(self.vectors, dtype=np.float32)
            vectors.setflags(write=False)
            set_(self, "vectors", vectors)
        self._validate()

    def _validate(self) -> None:
        if not self.items:
            raise InvalidAssignmentError(f"{self.strategy}: the assignment has no items")
        for kind, ids in (("item", self.items), ("user", self.users or {})):
            duplicate = _first_duplicate(ids)
            if duplicate is not None:
                first, second, tokens = duplicate
                raise InvalidAssignmentError(
                    f"{self.strategy}: {kind}s {first!r} and {second!r} share the ID {''.join(tokens)!r}"
                )
        if len(set(self.new_tokens)) != len(self.new_tokens):
            raise InvalidAssignmentError(f"{self.strategy}: new_tokens lists a token twice")
        used = set(self.tokens_used())
        unused = [t for t in self.new_tokens if t not in used]
        if unused:
            raise InvalidAssignmentError(
                f"{self.strategy}: {len(unused)} new tokens occur in no ID (e.g. {unused[0]!r})"
            )
        if (self.vectors is None) != (not self.vector_tokens):
            raise InvalidAssignmentError(
                f"{self.strategy}: vectors and vector_tokens must be given together"
            )
        if self.vectors is not None:
            if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.vector_tokens):
                raise InvalidAssignmentError(
                    f"{self.strategy}: vectors has shape {self.vectors.shape}, expected "
                    f"({len(self.vector_tokens)}, dimension)"
                )
            if not np.isfinite(self.vectors).all():
                raise InvalidAssignmentError(f"{self.strategy}: vectors hold NaN or infinity")
            new = set(self.new_tokens)
            stray = [t for t in self.vector_tokens if t not in new]
            if stray or len(set(self.vector_tokens)) != len(self.vector_tokens):
                raise InvalidAssignmentError(
                    f"{self.strategy}: vector_tokens must be distinct new tokens, found {stray[:1] or 'a repeat'}"
                )

    # ------------------------------------------------------------------ reading

    @property
    def indexes_users(self) -> bool:
        return self.users is not None

    @cached_property
    def token_vectors(self) -> dict[str, np.ndarray]:
        """Initial vector of each new token that has one, keyed by token (never by position)."""
        if self.vectors is None:
            return {}
        return dict(zip(self.vector_tokens, self.vectors, strict=True))

    def tokens_used(self) -> list[str]:
        """Every token occurring in some ID, in order of first occurrence (items, then users)."""
        seen: dict[str, None] = {}
        for ids in (self.items, self.users or {}):
            for tokens in ids.values():
                seen.update(dict.fromkeys(tokens))
        return list(seen)

    def item_ids(self, interactions: Interactions) -> list[TokenTuple]:
        """Token tuples of ``interactions.items`` in dense item order (an error names a missing item)."""
        return _in_dense_order("item", self.items, interactions.items, self.strategy)

    def user_ids(self, interactions: Interactions) -> list[TokenTuple] | None:
        """Token tuples of ``interactions.users`` in dense user order, or ``None`` if users are not indexed."""
        if self.users is None:
            return None
        return _in_dense_order("user", self.users, interactions.users, self.strategy)

    def check_covers(self, interactions: Interactions) -> None:
        """Raise ``DatasetError`` unless every item (and user, when indexed) of ``interactions`` has an ID."""
        self.item_ids(interactions)
        self.user_ids(interactions)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``items``/``users`` keep their order (catalog order for built assignments)."""
        return {
            "strategy": self.strategy,
            "params": _jsonable(self.params),
            "seed": self.seed,
            "version": self.version,
            "data": _jsonable(self.data),
            "new_tokens": list(self.new_tokens),
            "vector_tokens": list(self.vector_tokens) if self.vectors is not None else None,
            "details": _jsonable(self.details),
            "items": {raw: list(tokens) for raw, tokens in self.items.items()},
            "users": (
                None
                if self.users is None
                else {raw: list(tokens) for raw, tokens in self.users.items()}
            ),
        }

    def to_json(self) -> str:
        """The text of ``assignment.json``: fixed key order, one entity per line, stable bytes."""
        document = self.to_dict()
        lines = ["{"]
        keys = list(document)
        for n, key in enumerate(keys):
            value = document[key]
            comma = "," if n < len(keys) - 1 else ""
            if key in ("items", "users") and value is not None:
                entries = [
                    f"    {json.dumps(raw, ensure_ascii=False)}: {json.dumps(tokens, ensure_ascii=False)}"
                    for raw, tokens in value.items()
                ]
                lines.append(f'  "{key}": {{\n' + ",\n".join(entries) + f"\n  }}{comma}")
            else:
                text = json.dumps(value, ensure_ascii=False, sort_keys=True)
                lines.append(f'  "{key}": {text}{comma}')
        lines.append("}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_dict(
        cls,
        document: Mapping[str, Any],
        path: str | Path = "<dict>",
        vectors: np.ndarray | None = None,
    ) -> IdAssignment:
        """Rebuild an assignment from :meth:`to_dict` output (plus the ``vectors`` matrix when
        ``vector_tokens`` is set); an error names the bad field."""
        required = ("strategy", "params", "items", "users", "new_tokens")
        for key in required:
            if key not in document:
                raise DataFormatError(path, None, key, "a key of assignment.json", "nothing")
        if not isinstance(document["items"], dict):
            raise DataFormatError(
                path, None, "items", "an object raw id -> list of tokens", document["items"]
            )
        users = document["users"]
        if users is not None and not isinstance(users, dict):
            raise DataFormatError(path, None, "users", "null or an object", users)
        try:
            return cls(
                strategy=str(document["strategy"]),
                params=document["params"],
                seed=int(document.get("seed", 0)),
                items=document["items"],
                users=users,
                new_tokens=document["new_tokens"],
                vector_tokens=document.get("vector_tokens") or (),
                vectors=vectors,
                details=document.get("details", {}),
                data=document.get("data", {}),
                version=str(document.get("version", "unknown")),
            )
        except InvalidAssignmentError as error:
            raise InvalidAssignmentError(f"{path}: {error}") from None

    def save(self, directory: str | Path) -> Path:
        """Write ``DIR/assignment.json`` (and ``DIR/token_vectors.npy`` when vectors exist).

        Both files are written atomically, vectors first, so an ``assignment.json`` on disk always
        comes with its vectors. The same assignment always gives the same bytes.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vectors_path = directory / VECTORS_FILE
        if self.vectors is not None:
            buffer = io.BytesIO()
            np.save(buffer, self.vectors, allow_pickle=False)
            atomic_write_bytes(vectors_path, buffer.getvalue())
        else:
            vectors_path.unlink(missing_ok=True)
        return atomic_write_text(directory / ASSIGNMENT_FILE, self.to_json())

    @classmethod
    def load(cls, directory: str | Path) -> IdAssignment:
        """Read an assignment saved by :meth:`save` (``DIR`` or ``DIR/assignment.json``)."""
        path = Path(directory)
        if path.is_dir():
            path = path / ASSIGNMENT_FILE
        if not path.is_file():
            raise DatasetError(
                f"{path}: no such assignment file (write one with `idprobe ids build`)"
            )
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise DataFormatError(path, error.lineno, "json", "valid JSON", error.msg) from None
        if not isinstance(document, dict):
            raise DataFormatError(path, 1, "document", "a JSON object", type(document).__name__)
        vector_tokens = document.get("vector_tokens")
        vectors = None
        if vector_tokens:
            vectors_path = path.parent / VECTORS_FILE
            if not vectors_path.is_file():
                raise DataFormatError(
                    path, None, "vector_tokens", f"the vectors in {vectors_path}", "no such file"
                )
            vectors = np.load(vectors_path, allow_pickle=False)
        return cls.from_dict(document, path, vectors)

    def __repr__(self) -> str:
        users = "not indexed" if self.users is None else f"{len(self.users)} users"
        return (
            f"IdAssignment(strategy={self.strategy!r}, {len(self.items)} items, {users}, "
            f"{len(self.new_tokens)} new tokens)"
        )


def _in_dense_order(
    kind: str, ids: Mapping[str, TokenTuple], raw_ids: np.ndarray, strategy: str
) -> list[TokenTuple]:
    missing = [raw for raw in raw_ids if raw not in ids]
    if missing:
        raise DatasetError(
            f"{strategy}: {len(missing)} of {len(raw_ids)} {kind}s have no ID (e.g. {missing[0]!r})"
        )
    return [ids[raw] for raw in raw_ids]


def _jsonable(value: Any) -> Any:
    """Plain JSON types for params and details (tuples -> lists, numpy scalars -> Python)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def data_fingerprint(view: Interactions) -> dict[str, Any]:
    """Name, size and a SHA-256 over the interactions and catalog of ``view``.

    Caches key on it (with the parameters) so that an ID file is never reused for other data
    (REFERENCE.md, pitfall 7).
    """
    digest = hashlib.sha256()
    for array in (view.offsets, view.item_index):
        digest.update(np.ascontiguousarray(array).tobytes())
    if view.ratings is not None:
        digest.update(np.ascontiguousarray(view.ratings).tobytes())
    for raw_ids in (view.users, view.items):
        digest.update("\x1f".join(raw_ids.tolist()).encode("utf-8"))
    return {
        "name": view.name,
        "n_users": view.n_users,
        "n_items": view.n_items,
        "n_interactions": view.n_interactions,
        "sha256": digest.hexdigest(),
    }


# ---------------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class IdStrategy:
    """Base class of ID strategies: subclass it as a frozen dataclass and decorate with ``@register``.

    Subclasses set ``name`` and implement :meth:`_assign`; their dataclass fields are the
    hyper-parameters, each with a default, validated in ``__post_init__`` (see :func:`check_int`
    and friends). :meth:`assign` wraps ``_assign`` with the checks every strategy shares.
    """

    name: ClassVar[str] = ""
    #: Whether an entity without training interactions gets an ID by the same rule as the others
    #: (True), or by a documented fallback (False; see ``cold_rule``).
    places_unseen: ClassVar[bool] = True
    #: How entities without training interactions (cold) are given IDs.
    cold_rule: ClassVar[str] = "cold entities are numbered like the others"

    @property
    def indexes_users(self) -> bool:
        """Whether the assignment gives users IDs too."""
        return False

    def needs(self) -> frozenset[str]:
        """Columns of the data the strategy requires with its current parameters (e.g. ``ratings``)."""
        return frozenset()

    def params(self) -> dict[str, Any]:
        """Every hyper-parameter with its value, defaults included."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def assign(self, view: TrainingView, seed: int = 0) -> IdAssignment:
        """Give every item (and user, when indexed) of the training view an ID.

        Args:
            view: the training view of a split (``split.training_view``); the strategy sees no
                validation or test interaction, so its IDs cannot leak held-out items.
            seed: the only source of randomness.
        """
        if not isinstance(view, TrainingView):
            raise ConfigError(
                "view",
                "the training view of a split (split.training_view), so no held-out interaction is seen",
                type(view).__name__,
            )
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ConfigError("seed", "a non-negative integer", seed)
        missing = {
            column for column in self.needs() if getattr(view, column, None) is None
        }  # e.g. ratings on data without ratings
        if missing:
            raise DatasetError(
                f"{self.name}: needs {', '.join(sorted(missing))} but {view.name} has none "
                f"(load a dataset with them, e.g. --ratings-from, or change the parameters)"
            )
        assignment = self._assign(view, int(seed))
        assignment.check_covers(view)
        if assignment.indexes_users != self.indexes_users:
            raise InvalidAssignmentError(
                f"{self.name}: indexes_users is {self.indexes_users} but the assignment "
                f"{'has' if assignment.indexes_users else 'lacks'} user IDs"
            )
        return assignment

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        raise NotImplementedError

    def _assignment(
        self,
        view: TrainingView,
        seed: int,
        items: Mapping[str, Sequence[str]],
        users: Mapping[str, Sequence[str]] | None,
        new_tokens: Sequence[str],
        *,
        cold_items: Sequence[str] = (),
        cold_users: Sequence[str] = (),
        vector_tokens: Sequence[str] = (),
        vectors: np.ndarray | None = None,
        **details: Any,
    ) -> IdAssignment:
        """Build the ``IdAssignment`` of this strategy with the shared bookkeeping filled in."""
        cold = {
            "items": list(cold_items),
            "users": list(cold_users),
            "rule": self.cold_rule,
        }
        return IdAssignment(
            strategy=self.name,
            params=self.params(),
            seed=seed,
            items=items,
            users=users,
            new_tokens=tuple(new_tokens),
            vector_tokens=tuple(vector_tokens),
            vectors=vectors,
            details={"cold": cold, **details},
            data=data_fingerprint(view),
        )


# ---------------------------------------------------------------------------------- validation


def check_int(strategy: str, name: str, value: Any, minimum: int | None = None) -> int:
    """``value`` as an int, or a ``ConfigError`` naming ``strategy.name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{strategy}.{name}", "an integer", value)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{strategy}.{name}", f"an integer >= {minimum}", value)
    return int(value)


def check_float(
    strategy: str,
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    open_low: bool = False,
) -> float:
    """``value`` as a float inside [low, high] (``(low, high]`` with ``open_low``), else ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ConfigError(f"{strategy}.{name}", "a number", value)
    value = float(value)
    too_low = low is not None and (value <= low if open_low else value < low)
    too_high = high is not None and value > high
    if not np.isfinite(value) or too_low or too_high:
        left = "(" if open_low else "["
        span = f"a number in {left}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        raise ConfigError(f"{strategy}.{name}", span, value)
    return value


def check_choice(strategy: str, name: str, value: Any, options: Sequence[str]) -> str:
    """``value`` if it is one of ``options``, else ``ConfigError`` listing them."""
    if value not in options:
        raise ConfigError(f"{strategy}.{name}", choices(options), value)
    return str(value)


# ---------------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type[IdStrategy]] = {}
_ENTRY_POINTS_LOADED = False

S = TypeVar("S", bound=type[IdStrategy])


def register(cls: S) -> S:
    """Class decorator: make a strategy available by its ``name`` (to ``get_strategy``, the CLI, tests)."""
    if not (isinstance(cls, type) and issubclass(cls, IdStrategy)):
        raise TypeError(f"@register expects an IdStrategy subclass, got {cls!r}")
    params = cls.__dict__.get("__dataclass_params__")  # set on the class itself by @dataclass
    if params is None or not params.frozen:
        raise TypeError(f"strategy {cls.__name__} must be a frozen dataclass")
    name = cls.name
    if not name or not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise TypeError(f"strategy {cls.__name__} needs a lower-case `name`, found {name!r}")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise TypeError(f"a strategy named {name!r} is already registered ({_REGISTRY[name]!r})")
    missing_defaults = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing_defaults and not getattr(cls, "required_params", ()):
        raise TypeError(
            f"strategy {name!r}: parameters without defaults must be listed in required_params"
        )
    _REGISTRY[name] = cls
    return cls


def _load_entry_points() -> None:
    """Import the strategies that installed packages declare under ``idprobe.strategies``, once."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as error:  # a broken plug-in must not break the built-in strategies
            log.warning("idprobe: could not load strategy entry point %s: %s", entry.value, error)
            continue
        if isinstance(loaded, type) and issubclass(loaded, IdStrategy):
            if loaded.name not in _REGISTRY:
                register(loaded)
        else:
            log.warning("idprobe: entry point %s is not an IdStrategy subclass", entry.value)


def list_strategies() -> list[str]:
    """Names of all registered strategies (built-in first, then plug-ins)."""
    _load_entry_points()
    return list(_REGISTRY)


def strategy_class(name: str) -> type[IdStrategy]:
    """The class registered under ``name``; an error lists the registered names."""
    _load_entry_points()
    if not isinstance(name, str) or name.lower() not in _REGISTRY:
        raise ConfigError("strategy", choices(_REGISTRY), name)
    return _REGISTRY[name.lower()]


def _coerce(default: Any, value: Any) -> Any:
    # JSON (CLI --set, TOML) has lists where the dataclass has tuples.
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def get_strategy(name_or_instance: str | IdStrategy, **params: Any) -> IdStrategy:
    """A strategy instance from its registered name (or an instance), with ``params`` applied.

    An unknown name lists the registered strategies; an unknown parameter is named together
    with the valid ones; a bad value names the parameter and what was expected.
    """
    if isinstance(name_or_instance, IdStrategy):
        cls: type[IdStrategy] = type(name_or_instance)
        base = name_or_instance.params()
    else:
        cls = strategy_class(name_or_instance)
        base = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in params:
        if key not in fields:
            raise ConfigError(
                f"{cls.name} parameter", choices(fields) if fields else "no parameters", key
            )
    merged = {**base, **params}
    for required in getattr(cls, "required_params", ()):
        if merged.get(required) is None:
            raise ConfigError(
                f"{cls.name}.{required}", "a value (this parameter has no default)", None
            )
    coerced = {k: _coerce(fields[k].default, v) for k, v in merged.items()}
    return cls(**coerced)


def describe_strategy(name: str) -> dict[str, Any]:
    """Name, one-line summary, parameters with defaults, and facts of a registered strategy."""
    cls = strategy_class(name)
    params = {}
    for f in dataclasses.fields(cls):
        default = None if f.default is dataclasses.MISSING else f.default
        params[f.name] = {"default": _jsonable(default), "type": str(f.type)}
    doc = (cls.__doc__ or "").strip()
    return {
        "name": cls.name,
        "summary": doc.splitlines()[0] if doc else "",
        "params": params,
        "required_params": list(getattr(cls, "required_params", ())),
        "places_unseen": cls.places_unseen,
        "cold_rule": cls.cold_rule,
    }
