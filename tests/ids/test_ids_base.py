"""The strategy interface: assignments, saving and loading, the registry, plug-ins, leaks."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from idprobe.data import TrainingView, leave_one_out, make_synthetic
from idprobe.errors import ConfigError, DataFormatError, DatasetError
from idprobe.ids import (
    IdAssignment,
    IdStrategy,
    InvalidAssignmentError,
    get_strategy,
    list_strategies,
    register,
)
from idprobe.ids import base as ids_base
from idprobe.ids.sid import first_appearance_order

BUILT_IN = ["cid", "external", "iid", "meta", "rid", "rqvae", "sid"]


def _assignment(**changes) -> IdAssignment:
    fields = {
        "strategy": "test",
        "params": {},
        "seed": 0,
        "items": {"a": ("<X1>", "<Y1>"), "b": ("<X1>", "<Y2>")},
        "users": None,
        "new_tokens": ("<X1>", "<Y1>", "<Y2>"),
    }
    return IdAssignment(**{**fields, **changes})


@pytest.fixture
def view() -> TrainingView:
    return leave_one_out(make_synthetic(n_users=40, n_items=30, seed=1)).training_view


def test_all_built_in_strategies_are_registered() -> None:
    assert set(BUILT_IN) <= set(list_strategies())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"items": {"a": ("<X1>",), "b": ("<X1>",)}, "new_tokens": ("<X1>",)}, "share the ID"),
        ({"items": {"a": ()}}, "has no tokens"),
        ({"items": {"a": "<X1>"}}, "found a string"),
        ({"items": {"a": ("<X 1>",)}}, "without whitespace"),
        ({"new_tokens": ("<X1>", "<Y1>", "<Y2>", "<Z>")}, "occur in no ID"),
        ({"new_tokens": ("<X1>", "<X1>", "<Y1>", "<Y2>")}, "lists a token twice"),
        ({"vector_tokens": ("<X1>",)}, "must be given together"),
        ({"vector_tokens": ("<X1>",), "vectors": np.zeros((2, 3))}, "expected (1, dimension)"),
        ({"vector_tokens": ("<Q>",), "vectors": np.zeros((1, 3))}, "distinct new tokens"),
        ({"vector_tokens": ("<X1>",), "vectors": np.full((1, 3), np.nan)}, "NaN"),
        ({"items": {}}, "has no items"),
    ],
)
def test_invalid_assignments_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(
        InvalidAssignmentError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        _assignment(**changes)


def test_token_vectors_are_keyed_by_token(tmp_path: Path) -> None:
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    assignment = _assignment(vector_tokens=("<Y2>", "<X1>"), vectors=vectors)
    np.testing.assert_array_equal(assignment.token_vectors["<X1>"], vectors[1])
    assignment.save(tmp_path)
    loaded = IdAssignment.load(tmp_path / "assignment.json")
    np.testing.assert_array_equal(loaded.token_vectors["<Y2>"], vectors[0])
    # Saving an assignment without vectors over one with them removes the stale vectors.
    _assignment().save(tmp_path)
    assert not (tmp_path / "token_vectors.npy").exists()


def test_assignment_file_keeps_entity_order_and_one_entity_per_line(tmp_path: Path) -> None:
    items = {"10": ("2",), "9": ("1",), "100": ("3",)}
    _assignment(items=items, new_tokens=()).save(tmp_path)
    text = (tmp_path / "assignment.json").read_text()
    assert text.index('"10"') < text.index('"9"') < text.index('"100"')
    assert '    "9": ["1"],' in text.splitlines()
    assert json.loads(text)["users"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "field 'json': expected valid JSON"),
        ("[1, 2]", "field 'document': expected a JSON object"),
        ('{"strategy": "x"}', "field 'params': expected a key of assignment.json"),
        (
            '{"strategy": "x", "params": {}, "items": [], "users": null, "new_tokens": []}',
            "field 'items': expected an object",
        ),
        (
            '{"strategy": "x", "params": {}, "items": {"a": ["1"]}, "users": 3, "new_tokens": []}',
            "field 'users': expected null or an object",
        ),
        (
            '{"strategy": "x", "params": {}, "items": {"a": ["1"]}, "users": null, "new_tokens": [], "vector_tokens": ["1"]}',
            "field 'vector_tokens': expected the vectors",
        ),
    ],
)
def test_bad_assignment_files_name_the_field(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "assignment.json").write_text(content)
    with pytest.raises(DataFormatError, match=message):
        IdAssignment.load(tmp_path)


def test_loading_a_missing_assignment_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="idprobe ids build"):
        IdAssignment.load(tmp_path / "nowhere")


def test_duplicate_ids_in_a_loaded_file_name_the_file(tmp_path: Path) -> None:
    document = _assignment().to_dict()
    document["items"]["b"] = document["items"]["a"]
    (tmp_path / "assignment.json").write_text(json.dumps(document))
    with pytest.raises(InvalidAssignmentError, match=r"assignment.json: test: items 'a' and 'b'"):
        IdAssignment.load(tmp_path)


def test_unknown_strategy_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError) as error:
        get_strategy("tiger")
    text = str(error.value)
    assert text.startswith("strategy: expected one of ") and text.endswith("found 'tiger'")
    assert all(repr(name) in text for name in list_strategies())


def test_unknown_parameter_is_named_with_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"sid parameter: expected one of 'start', 'user_order', found 'order'"
    ):
        get_strategy("sid", order="file")


def test_get_strategy_accepts_an_instance_and_overrides() -> None:
    base = get_strategy("meta", n_clusters=7)
    changed = get_strategy(base, epochs=3)
    assert (changed.n_clusters, changed.epochs) == (7, 3)
    assert get_strategy("rqvae", hidden_dims=[32, 16]).hidden_dims == (32, 16)


def test_strategies_see_only_a_training_view() -> None:
    data = make_synthetic(n_users=40, n_items=30, seed=1)
    with pytest.raises(ConfigError, match="the training view of a split"):
        get_strategy("sid").assign(data, 0)


def test_seed_must_be_a_non_negative_integer(view: TrainingView) -> None:
    for seed in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="seed"):
            get_strategy("rid").assign(view, seed)


def test_register_refuses_bad_strategies() -> None:
    class NotADataclass(IdStrategy):
        name: ClassVar[str] = "bad"

    with pytest.raises(TypeError, match="frozen dataclass"):
        register(NotADataclass)

    @dataclass(frozen=True)
    class NoName(IdStrategy):
        pass

    with pytest.raises(TypeError, match="lower-case `name`"):
        register(NoName)

    @dataclass(frozen=True)
    class Clash(IdStrategy):
        name: ClassVar[str] = "sid"

    with pytest.raises(TypeError, match="already registered"):
        register(Clash)


@dataclass(frozen=True)
class _FullSequenceSid(IdStrategy):
    """A deliberately leaky SID: it numbers items over the *full* sequences, as P5 did."""

    name: ClassVar[str] = "leaky-sid"
    full: ClassVar[dict] = {}

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        data = self.full["data"]  # reaches past the training view to the full sequences
        order = first_appearance_order(_as_view(data))
        items = {data.items[i]: (str(1001 + k),) for k, i in enumerate(order)}
        return self._assignment(view, seed, items, None, ())


def _as_view(data) -> TrainingView:
    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    return TrainingView(**fields)


def test_the_leak_check_catches_a_strategy_that_reads_heldout_items() -> None:
    # The conformance check (same training view, other held-out items -> same IDs) must fail for
    # a strategy that looks past the training view; otherwise it could not catch anything.
    import test_conformance as conformance

    data = conformance._dataset()
    other = conformance._with_other_heldout(data, 5)
    results = []
    for full in (data, other):
        _FullSequenceSid.full["data"] = full
        view = leave_one_out(full).training_view
        results.append(_FullSequenceSid().assign(view, 0).items)
    assert (
        leave_one_out(data).training_view.item_index.tolist()
        == leave_one_out(other).training_view.item_index.tolist()
    )
    assert results[0] != results[1]


def test_entry_point_plugins_are_registered(tmp_path: Path) -> None:
    plugin = tmp_path / "my_ids_plugin.py"
    plugin.write_text(
        "from dataclasses import dataclass\n"
        "from typing import ClassVar\n"
        "from idprobe.ids import IdStrategy\n\n"
        "@dataclass(frozen=True)\n"
        "class Reversed(IdStrategy):\n"
        '    """Plug-in: items numbered in reverse catalog order."""\n'
        '    name: ClassVar[str] = "reversed"\n'
        "    start: int = 1\n\n"
        "    def _assign(self, view, seed):\n"
        "        n = view.n_items\n"
        "        items = {raw: (str(self.start + n - 1 - k),) for k, raw in enumerate(view.items)}\n"
        "        return self._assignment(view, seed, items, None, ())\n"
    )
    dist = tmp_path / "my_ids_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-ids-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[idprobe.strategies]\nreversed = my_ids_plugin:Reversed\n"
    )
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from idprobe.ids import list_strategies, get_strategy\n"
        "from idprobe.data import make_synthetic, leave_one_out\n"
        "assert 'reversed' in list_strategies(), list_strategies()\n"
        "view = leave_one_out(make_synthetic(n_users=30, n_items=40, mean_length=8)).training_view\n"
        "print(get_strategy('reversed', start=5).assign(view, 0).items[view.items[0]])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('44',)"


def test_a_broken_plugin_does_not_break_the_registry(tmp_path: Path, monkeypatch) -> None:
    class Broken:
        value = "missing_module:Nothing"

        def load(self):
            raise ImportError("No module named 'missing_module'")

    monkeypatch.setattr(ids_base, "_ENTRY_POINTS_LOADED", False)
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [Broken()])
    assert set(BUILT_IN) <= set(list_strategies())


def test_import_idprobe_ids_loads_no_torch_numba_or_gensim() -> None:
    code = (
        "import sys, idprobe.ids, idprobe.cli\n"
        "heavy = [m for m in ('torch', 'numba', 'gensim', 'transformers') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
