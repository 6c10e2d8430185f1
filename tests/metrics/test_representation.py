"""ID representations (mean of the token rows of each ID) against a per-entity Python loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metric_checks import config_error

from idprobe.metrics import TokenRows, id_representations

FAST = settings(max_examples=30, deadline=None)


# ---------------------------------------------------------------------- helpers


def loop_reference(table: np.ndarray, ids) -> np.ndarray:
    """``E[ids].mean(0)`` for each entity, one at a time, in float64."""
    table = np.asarray(table, dtype=np.float64)
    return np.stack([table[np.asarray(list(row), dtype=np.int64)].mean(axis=0) for row in ids])


@st.composite
def ragged_ids(draw, max_entities: int = 15, max_length: int = 6):
    """``(table, ids)``: a random ``(vocab, d)`` table and ragged IDs into it."""
    vocab = draw(st.integers(1, 20))
    d = draw(st.integers(1, 8))
    ids = draw(
        st.lists(
            st.lists(st.integers(0, vocab - 1), min_size=1, max_size=max_length),
            min_size=1,
            max_size=max_entities,
        )
    )
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 50.0]))
    table = np.random.default_rng(seed).normal(scale=scale, size=(vocab, d))
    return table, ids


# ---------------------------------------------------------------------- values


@FAST
@given(ragged_ids())
def test_ragged_lists_match_per_entity_loop(case) -> None:
    table, ids = case
    out = id_representations(table, ids)
    assert out.shape == (len(ids), table.shape[1])
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, loop_reference(table, ids), rtol=1e-12, atol=1e-15)


@FAST
@given(ragged_ids())
def test_every_input_form_gives_the_same_result(case) -> None:
    table, ids = case
    expected = loop_reference(table, ids)
    lengths = [len(row) for row in ids]
    manual = TokenRows(np.concatenate(([0], np.cumsum(lengths))), np.concatenate(ids))
    forms = [
        ids,
        tuple(tuple(row) for row in ids),
        [np.asarray(row, dtype=np.int32) for row in ids],
        TokenRows.from_sequences(ids),
        manual,
    ]
    for form in forms:
        np.testing.assert_allclose(
            id_representations(table, form), expected, rtol=1e-12, atol=1e-15
        )


@FAST
@given(
    st.integers(1, 20),
    st.integers(1, 8),
    st.integers(1, 15),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
)
def test_two_dimensional_integer_array(vocab, d, entities, width, seed) -> None:
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(vocab, d))
    ids = rng.integers(0, vocab, size=(entities, width))
    for dtype in (np.int64, np.int32, np.uint16):
        out = id_representations(table, ids.astype(dtype))
        np.testing.assert_allclose(out, loop_reference(table, ids), rtol=1e-12, atol=1e-15)


def test_token_rows_layout() -> None:
    rows = TokenRows.from_sequences([[3, 1], [2], (0, 0, 4)])
    np.testing.assert_array_equal(rows.indptr, [0, 2, 3, 6])
    np.testing.assert_array_equal(rows.rows, [3, 1, 2, 0, 0, 4])
    np.testing.assert_array_equal(rows.lengths, [2, 1, 3])
    assert len(rows) == 3
    assert rows.indptr.dtype == np.int64 and rows.rows.dtype == np.int64


def test_repeated_token_counts_twice() -> None:
    table = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    out = id_representations(table, [[0, 0, 1], [1, 0, 0], [0, 1], [2, 2, 2, 2]])
    np.testing.assert_allclose(
        out, [[2 / 3, 1 / 3], [2 / 3, 1 / 3], [0.5, 0.5], [5.0, 5.0]], rtol=1e-15
    )
    # Not the mean over the distinct tokens.
    assert not np.allclose(out[0], table[[0, 1]].mean(axis=0))


def test_entity_order_and_single_token_ids_are_rows() -> None:
    table = np.random.default_rng(3).normal(size=(9, 4))
    order = [7, 0, 3, 3, 8]
    np.testing.assert_array_equal(id_representations(table, [[t] for t in order]), table[order])


@FAST
@given(ragged_ids())
def test_float32_table_is_kept_as_float32(case) -> None:
    table, ids = case
    table32 = table.astype(np.float32)
    out = id_representations(table32, ids)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out, loop_reference(table32, ids), rtol=2e-6, atol=2e-6 * np.abs(table32).max()
    )


def test_integer_and_other_tables_become_float64() -> None:
    table = np.array([[1, 2], [4, 7], [-3, 0]], dtype=np.int32)
    out = id_representations(table, [[0, 1], [1, 1, 2]])
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[2.5, 4.5], [5 / 3, 14 / 3]], rtol=1e-15)
    for dtype in (np.int8, np.uint8, np.float16, np.int64):
        cast = table.astype(dtype)
        result = id_representations(cast, [[0], [2, 0]])
        assert result.dtype == np.float64
        np.testing.assert_allclose(result, loop_reference(cast, [[0], [2, 0]]), rtol=1e-15)
    # A plain nested list works as a table too.
    assert id_representations([[1.0, 2.0]], [[0, 0]]).tolist() == [[1.0, 2.0]]


def test_nan_in_an_unused_row_is_allowed() -> None:
    table = np.array([[1.0, 2.0], [np.nan, np.inf], [3.0, 4.0]])
    out = id_representations(table, [[0, 2], [2]])
    np.testing.assert_array_equal(out, [[2.0, 3.0], [3.0, 4.0]])


def test_no_entities_give_an_empty_result() -> None:
    out = id_representations(np.ones((3, 2)), [])
    assert out.shape == (0, 2)


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "table",
    [np.ones(5), np.ones((2, 3, 4)), np.ones((0, 4)), np.ones((4, 0)), np.float64(1.0)],
    ids=["1-D", "3-D", "no rows", "no columns", "scalar"],
)
def test_table_must_be_two_dimensional(table) -> None:
    config_error("embedding_matrix", lambda: id_representations(table, [[0]]), "shape")


@pytest.mark.parametrize(
    "table",
    [np.array([["a", "b"]]), np.ones((2, 2), dtype=complex), np.ones((2, 2), dtype=bool)],
    ids=["str", "complex", "bool"],
)
def test_table_must_be_real_numbers(table) -> None:
    config_error("embedding_matrix", lambda: id_representations(table, [[0]]), "dtype")


def test_empty_id_is_an_error_naming_the_entity() -> None:
    table = np.ones((4, 2))
    config_error(
        "token_ids_per_entity",
        lambda: id_representations(table, [[0, 1], [2], []]),
        "entity 2",
    )
    config_error(
        "token_ids_per_entity",
        lambda: id_representations(table, np.zeros((3, 0), dtype=np.int64)),
        "entity 0",
    )


@pytest.mark.parametrize(("bad", "entity"), [(4, 2), (-1, 1), (100, 0)])
def test_row_out_of_range_names_the_entity(bad: int, entity: int) -> None:
    ids = [[0, 1], [2, 3], [1, 0, 3]]
    ids[entity] = [*ids[entity], bad]
    error = config_error(
        "token_ids_per_entity",
        lambda: id_representations(np.ones((4, 3)), ids),
        f"{bad} in the ID of entity {entity}",
        "[0, 4)",
    )
    assert error.expected == "token rows in [0, 4)"
    array = np.array([[0, 1], [2, 3], [3, 4]])
    config_error(
        "token_ids_per_entity",
        lambda: id_representations(np.ones((4, 3)), array),
        "4 in the ID of entity 2",
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_used_row_is_an_error(bad: float) -> None:
    table = np.ones((5, 3))
    table[3, 1] = bad
    config_error(
        "embedding_matrix", lambda: id_representations(table, [[0], [1, 3]]), "row 3", "finite"
    )
    config_error(
        "embedding_matrix",
        lambda: id_representations(table.astype(np.float32), [[3]]),
        "row 3",
    )


@pytest.mark.parametrize(
    "ids",
    [
        5,
        {0, 1},
        {"a": [0]},
        np.array([0, 1]),
        np.zeros((2, 2, 2), dtype=int),
        (i for i in [[0]]),
        "ab",
    ],
    ids=["int", "set", "dict", "1-D array", "3-D array", "generator", "str"],
)
def test_non_sequence_input_is_an_error(ids) -> None:
    config_error(
        "token_ids_per_entity", lambda: id_representations(np.ones((3, 2)), ids), "TokenRows"
    )


@pytest.mark.parametrize(
    ("indptr", "rows", "fragment"),
    [
        ([1, 2], [0, 1], "offsets starting at 0"),
        ([0, 1], [0, 1], "ending at 2"),
        ([], [], "0 offsets"),
        ([[0, 1]], [0], "offsets starting at 0"),
        ([0, 2, 1, 3], [0, 1, 2], "non-decreasing"),
    ],
)
def test_token_rows_rejects_bad_offsets(indptr, rows, fragment) -> None:
    config_error("token_ids_per_entity.indptr", lambda: TokenRows(indptr, rows), fragment)


@pytest.mark.parametrize(
    "ids", [[[0.9, 1.7]], [[True]], np.array([[0.0, 1.0]])], ids=["floats", "bools", "float array"]
)
def test_non_integer_token_rows_are_an_error(ids) -> None:
    config_error(
        "token_ids_per_entity",
        lambda: id_representations(np.ones((3, 2)), ids),
        "integer token rows",
    )
