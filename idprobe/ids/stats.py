"""Facts about an ID assignment: sizes, ID lengths, how many entities share each prefix, cold entities."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from idprobe.ids.base import IdAssignment, TokenTuple

__all__ = ["AssignmentStats", "EntityIdStats", "assignment_stats", "entity_id_stats"]


@dataclass(frozen=True)
class EntityIdStats:
    """ID facts of one entity kind (items or users).

    Attributes:
        entities: how many entities have IDs.
        length_histogram: ID length in tokens -> number of entities.
        prefixes: for each prefix length ``k`` below the longest ID: ``distinct`` prefixes of ``k``
            tokens, the ``largest`` number of entities sharing one, and its ``example`` prefix.
            For META ID, ``k = 1`` is the cluster: ``largest`` is the biggest cluster.
        largest_group: entities under the most shared first token.
        prefix_violations: IDs that are a proper prefix of another ID (constrained decoding
            cannot tell them apart from the start of the longer one; 0 for every built-in strategy).
        distinct_tokens: different tokens used by this kind's IDs.
    """

    entities: int
    length_histogram: dict[int, int]
    prefixes: dict[int, dict[str, Any]]
    largest_group: int
    prefix_violations: int
    distinct_tokens: int


def entity_id_stats(ids: Mapping[str, TokenTuple]) -> EntityIdStats:
    """:class:`EntityIdStats` of one raw id -> token tuple mapping."""
    values = list(ids.values())
    lengths = Counter(len(tokens) for tokens in values)
    longest = max(lengths)
    prefixes: dict[int, dict[str, Any]] = {}
    for k in range(1, longest):
        shared = Counter(tokens[:k] for tokens in values if len(tokens) > k)
        if not shared:
            continue
        example, largest = shared.most_common(1)[0]
        prefixes[k] = {"distinct": len(shared), "largest": largest, "example": "".join(example)}
    all_ids = set(values)
    violations = sum(any(tokens[:k] in all_ids for k in range(1, len(tokens))) for tokens in values)
    first = Counter(tokens[0] for tokens in values)
    return EntityIdStats(
        entities=len(values),
        length_histogram=dict(sorted(lengths.items())),
        prefixes=prefixes,
        largest_group=max(first.values()),
        prefix_violations=violations,
        distinct_tokens=len({t for tokens in values for t in tokens}),
    )


@dataclass(frozen=True)
class AssignmentStats:
    """What ``idprobe ids stats`` shows: per-kind ID facts, new tokens, cold entities and their rule."""

    strategy: str
    params: dict[str, Any]
    seed: int
    data: dict[str, Any]
    new_tokens: int
    tokens_with_vectors: int
    items: EntityIdStats
    users: EntityIdStats | None
    cold_items: int
    cold_users: int
    cold_rule: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        lines = [
            f"strategy     {self.strategy}  (seed {self.seed})",
            f"params       {', '.join(f'{k}={v!r}' for k, v in self.params.items()) or '-'}",
            f"data         {self.data.get('name', '?')}: {self.data.get('n_users', '?')} users, "
            f"{self.data.get('n_items', '?')} items",
            f"new tokens   {self.new_tokens} ({self.tokens_with_vectors} with initial vectors)",
        ]
        for kind, stats in (("items", self.items), ("users", self.users)):
            if stats is None:
                lines.append(f"{kind:<12} not indexed")
                continue
            histogram = ", ".join(f"{n} tokens: {c}" for n, c in stats.length_histogram.items())
            lines.append(
                f"{kind:<12} {stats.entities} IDs, {stats.distinct_tokens} distinct tokens"
            )
            lines.append(f"  lengths    {histogram}")
            for k, prefix in stats.prefixes.items():
                lines.append(
                    f"  prefix {k}   {prefix['distinct']} distinct, largest shared by "
                    f"{prefix['largest']} ({prefix['example']})"
                )
            lines.append(f"  largest group under one first token: {stats.largest_group}")
            lines.append(f"  IDs that are a prefix of another: {stats.prefix_violations}")
        lines.append(f"cold         {self.cold_items} items, {self.cold_users} users")
        lines.append(f"  rule       {self.cold_rule}")
        for key, value in self.details.items():
            lines.append(f"{key:<12} {value}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.to_text())}</pre>"


def assignment_stats(assignment: IdAssignment) -> AssignmentStats:
    """Summarise an assignment (see :class:`AssignmentStats`)."""
    details = dict(assignment.details)
    cold = details.pop("cold", {}) or {}
    return AssignmentStats(
        strategy=assignment.strategy,
        params=dict(assignment.params),
        seed=assignment.seed,
        data=dict(assignment.data),
        new_tokens=len(assignment.new_tokens),
        tokens_with_vectors=len(assignment.vector_tokens),
        items=entity_id_stats(assignment.items),
        users=None if assignment.users is None else entity_id_stats(assignment.users),
        cold_items=len(cold.get("items", [])),
        cold_users=len(cold.get("users", [])),
        cold_rule=str(cold.get("rule", "not recorded")),
        details=details,
    )
