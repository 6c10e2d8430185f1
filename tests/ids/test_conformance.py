"""The conformance suite: every registered strategy (plug-ins included) is held to the contract.

A strategy is tested here the moment it is registered. Strategies with required parameters, or
with expensive defaults, get them from ``PARAMS`` (smaller walks/epochs so the suite stays fast;
every other parameter keeps its default). A registered strategy missing from ``PARAMS`` that
cannot be built with its defaults fails ``test_builds``, which says so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from idprobe.data import Interactions, leave_one_out, make_synthetic
from idprobe.ids import (
    IdAssignment,
    describe_strategy,
    get_strategy,
    list_strategies,
    write_id_file,
)
from idprobe.ids.external import is_new_token

QUICK_WALKS = {"walks_per_node": 3, "walk_length": 12, "epochs": 2}


def _external_files(view: Any, directory: Path) -> dict[str, Any]:
    # Published files are simulated by exporting an IID assignment (users and items).
    source = get_strategy("iid", index="both").assign(view, 0)
    return {
        "items": str(write_id_file(directory / "items.txt", source.items)),
        "users": str(write_id_file(directory / "users.txt", source.users or {})),
    }


PARAMS: dict[str, Callable[[Any, Path], dict[str, Any]]] = {
    "meta": lambda view, _: {"n_clusters": 6, **QUICK_WALKS},
    "rqvae": lambda view, _: {"codebook_size": 6, "levels": 2, "rq_epochs": 5, **QUICK_WALKS},
    "cid": lambda view, _: {"n_clusters": 4, "max_group_size": 12},
    "external": _external_files,
}


def _dataset() -> Interactions:
    return make_synthetic(n_users=90, n_items=60, n_groups=4, mean_length=8, seed=11)


def _with_other_heldout(data: Interactions, seed: int) -> Interactions:
    """The same data with every user's validation and test item replaced by another item.

    Its training view is identical, so a strategy that truly sees only the training view must
    return the same IDs; one that peeks at held-out interactions (through the source file, the
    full data, ...) changes them.
    """
    rng = np.random.default_rng(seed)
    item_index = data.item_index.copy()
    for user in range(data.n_users):
        start, end = data.offsets[user], data.offsets[user + 1]
        kept = set(item_index[start : end - 2].tolist())
        candidates = [i for i in range(data.n_items) if i not in kept]
        item_index[end - 2 : end] = rng.choice(candidates, size=2, replace=False)
    return dataclasses.replace(data, item_index=item_index, ratings=data.ratings)


_BUILT: dict[tuple[str, str, int], tuple[IdAssignment, Any]] = {}
_DIRECTORIES: dict[str, Path] = {}


def _build(name: str, variant: str, seed: int, tmp_path_factory: Any) -> tuple[IdAssignment, Any]:
    """Build once per (strategy, data variant, seed); ``variant`` 'again' forces a fresh build."""
    key = (name, variant, seed)
    if key not in _BUILT:
        data = _dataset() if variant != "other-heldout" else _with_other_heldout(_dataset(), 5)
        split = leave_one_out(data, max_his=10)
        # One directory per strategy, so parameters that are paths are equal across variants.
        if name not in _DIRECTORIES:
            _DIRECTORIES[name] = tmp_path_factory.mktemp(name)
        directory = _DIRECTORIES[name]
        params = PARAMS.get(name, lambda view, _: {})(split.training_view, directory)
        strategy = get_strategy(name, **params)
        _BUILT[key] = (strategy.assign(split.training_view, seed), split)
    return _BUILT[key]


STRATEGIES = list_strategies()


@pytest.fixture(params=STRATEGIES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_builds(name: str, tmp_path_factory: Any) -> None:
    assignment, _ = _build(name, "main", 0, tmp_path_factory)
    assert assignment.strategy == name


def test_complete_and_unique(name: str, tmp_path_factory: Any) -> None:
    assignment, split = _build(name, "main", 0, tmp_path_factory)
    data = split.interactions
    assert set(assignment.items) == set(data.items.tolist())
    values = list(assignment.items.values())
    assert len(set(values)) == len(values)
    strategy = get_strategy(name, **assignment.params)
    if strategy.indexes_users:
        assert assignment.users is not None
        assert set(assignment.users) == set(data.users.tolist())
        assert len(set(assignment.users.values())) == len(assignment.users)
    else:
        assert assignment.users is None


def test_tokens_and_vectors_are_consistent(name: str, tmp_path_factory: Any) -> None:
    assignment, _ = _build(name, "main", 0, tmp_path_factory)
    new = set(assignment.new_tokens)
    used = assignment.tokens_used()
    assert new <= set(used), "every new token occurs in some ID"
    for token in used:  # bracketed tokens are exactly the new ones: nothing else is added
        assert is_new_token(token) == (token in new), token
    for token, vector in assignment.token_vectors.items():
        assert token in new and np.isfinite(vector).all()


def test_deterministic_under_seed(name: str, tmp_path_factory: Any, tmp_path: Path) -> None:
    first, _ = _build(name, "main", 0, tmp_path_factory)
    _BUILT.pop((name, "again", 0), None)
    again, _ = _build(name, "again", 0, tmp_path_factory)
    first.save(tmp_path / "a")
    again.save(tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_json_round_trip(name: str, tmp_path_factory: Any, tmp_path: Path) -> None:
    assignment, split = _build(name, "main", 0, tmp_path_factory)
    assignment.save(tmp_path)
    document = json.loads((tmp_path / "assignment.json").read_text())
    assert {"strategy", "params", "items", "users", "new_tokens"} <= set(document)
    loaded = IdAssignment.load(tmp_path)
    assert loaded.to_json() == assignment.to_json()
    assert loaded.items == assignment.items and loaded.users == assignment.users
    assert loaded.token_vectors.keys() == assignment.token_vectors.keys()
    for token, vector in assignment.token_vectors.items():
        np.testing.assert_array_equal(loaded.token_vectors[token], vector)
    assert (tmp_path / "token_vectors.npy").exists() == bool(assignment.token_vectors)
    # Parameters are recorded completely: they rebuild the same strategy.
    assert (
        get_strategy(name, **loaded.params).params()
        == get_strategy(name, **assignment.params).params()
    )
    loaded.check_covers(split.interactions)


def test_no_heldout_interaction_is_visible(name: str, tmp_path_factory: Any) -> None:
    assignment, split = _build(name, "main", 0, tmp_path_factory)
    other, other_split = _build(name, "other-heldout", 0, tmp_path_factory)
    assert not np.array_equal(split.test.targets, other_split.test.targets)
    assert other.items == assignment.items
    assert other.users == assignment.users
    assert other.new_tokens == assignment.new_tokens


def test_every_test_target_is_reachable(name: str, tmp_path_factory: Any) -> None:
    assignment, split = _build(name, "main", 0, tmp_path_factory)
    by_id = {tokens: raw for raw, tokens in assignment.items.items()}
    for target in split.test.targets.tolist():
        raw = split.interactions.items[target]
        assert by_id[assignment.items[raw]] == raw


def test_facts_are_described(name: str, tmp_path_factory: Any) -> None:
    assignment, _ = _build(name, "main", 0, tmp_path_factory)
    info = describe_strategy(name)
    assert info["name"] == name and info["summary"]
    assert set(info["params"]) == set(assignment.params)
    cold = assignment.details["cold"]
    assert cold["rule"] == info["cold_rule"]
    assert set(cold["items"]) <= set(assignment.items)
