"""Evaluation under torchrun: contiguous shards, one gather, the same numbers as one process."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from two_processes import torchrun

from idprobe.evaluation.generative import evaluate_run
from idprobe.training.distributed import gather_once, shard_bounds, world
from idprobe.training.run import RunSettings, train_run

WORKER = Path(__file__).with_name("ddp_eval_worker.py")
_spec = importlib.util.spec_from_file_location("idprobe_ddp_eval_worker", WORKER)
assert _spec is not None and _spec.loader is not None
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)

MAX_USERS = 61  # odd: the two shards differ in size (31 and 30)
# Timing and the process count legitimately differ between the two evaluations.
_VARYING = ("seconds", "ms_per_user")


@pytest.mark.parametrize("n", range(51))
def test_shards_cover_every_index_once(n: int) -> None:
    for size in range(1, 8):
        bounds = [shard_bounds(n, rank, size) for rank in range(size)]
        covered = [i for start, stop in bounds for i in range(start, stop)]
        assert covered == list(range(n)), (n, size)  # contiguous, in rank order, no padding
        lengths = [stop - start for start, stop in bounds]
        assert all(length >= 0 for length in lengths)
        assert max(lengths) - min(lengths) <= 1, (n, size, lengths)


def test_outside_a_process_group_there_is_one_process() -> None:
    assert world() == (0, 1)
    values = [np.arange(3), "a", 2.5]
    gathered = gather_once(values)
    assert gathered == values and gathered is not values


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("ddp") / "run"
    settings = RunSettings(
        dataset="synthetic",
        data_options={"n_users": 120, "n_items": 40, "mean_length": 6},
        strategy="sid",
        epochs=1,
        batch_size=32,
        threads=1,
        tasks=("sequential", "rating"),
    )
    train_run(settings, directory, progress=False)
    return directory


def _same(a: object, b: object) -> bool:
    """Equal as JSON (NaN, written for an rmse without parseable answers, equals NaN)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _task_record(task: dict) -> dict:
    out = {k: v for k, v in task.items() if k not in _VARYING}
    out["details"] = {k: v for k, v in task["details"].items() if k != "processes"}
    return out


def test_two_processes_equal_one_process(trained: Path, tmp_path: Path) -> None:
    distributed_run = tmp_path / "ddp-run"
    shutil.copytree(trained, distributed_run)
    out = tmp_path / "out"
    out.mkdir()
    done = torchrun([str(WORKER), str(distributed_run), str(out), str(MAX_USERS)], timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    single = evaluate_run(trained, threads=1, max_users=MAX_USERS, **worker.OPTIONS)
    one = json.loads((trained / "metrics.json").read_text())
    two = json.loads((distributed_run / "metrics.json").read_text())
    assert _same(one, single.to_dict())

    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["size"]) for r in reports] == [(0, 2), (1, 2)]
    # every rank holds the gathered metrics, and rank 0 wrote exactly those
    assert _same(reports[0]["metrics"], two)
    # rank 1's own timing and provenance time differ; its gathered numbers do not
    for task, record in two["tasks"].items():
        assert _same(_task_record(reports[1]["metrics"]["tasks"][task]), _task_record(record))

    assert set(one["tasks"]) == set(two["tasks"]) == {"sequential", "rating"}
    for task in one["tasks"]:
        assert two["tasks"][task]["n_users"] == one["tasks"][task]["n_users"] == MAX_USERS
        assert _same(_task_record(two["tasks"][task]), _task_record(one["tasks"][task])), task
    assert two["tasks"]["sequential"]["details"]["processes"] == 2
    assert one["tasks"]["sequential"]["details"]["processes"] == 1
    assert two["settings"] == one["settings"]
    assert two["provenance"]["config"] == one["provenance"]["config"]

    for task in ("sequential", "rating"):
        name = f"predictions/test-{task}.npz"
        with np.load(trained / name) as a, np.load(distributed_run / name) as b:
            assert sorted(a.files) == sorted(b.files)
            users = b["users"]
            assert len(users) == MAX_USERS == len(set(users.tolist()))  # no user twice
            for key in a.files:
                if key == "scores":
                    np.testing.assert_allclose(b[key], a[key], atol=1e-5)
                else:
                    np.testing.assert_array_equal(b[key], a[key], err_msg=f"{task} {key}")
