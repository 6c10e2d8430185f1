"""Provenance and atomic writes."""

from __future__ import annotations

import json
import os

import pytest

from idprobe.results import Provenance, atomic_write_bytes, atomic_write_json, atomic_write_text


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "result.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2]})
    first = target.read_bytes()
    atomic_write_json(target, {"a": [1, 2], "b": 1})
    assert target.read_bytes() == first, "equal objects give equal bytes"
    assert json.loads(first) == {"a": [1, 2], "b": 1}
    assert os.listdir(target.parent) == ["result.json"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_provenance_round_trip():
    prov = Provenance(seed=3, config={"k_core": 5})
    again = Provenance.from_dict(json.loads(json.dumps(prov.to_dict())))
    assert again == prov
    assert prov.version and prov.python


def test_atomic_write_gives_the_mode_open_would(tmp_path):
    # mkstemp creates 0600 files; a report or results.json must stay readable by others.
    previous = os.umask(0o022)
    try:
        path = atomic_write_bytes(tmp_path / "shared.json", b"{}")
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)
