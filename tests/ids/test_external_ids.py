"""ID files in the OpenP5 / META ID format: reading, writing, and every way they can be wrong."""

from __future__ import annotations

import pytest

from idprobe.data import leave_one_out, make_synthetic
from idprobe.errors import DataFormatError, DatasetError
from idprobe.ids import get_strategy, read_id_file, write_id_file
from idprobe.ids.external import split_id_text


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("<CT12><1007>", ("<CT12>", "<1007>")),
        ("1024", ("1024",)),
        ("item_<CI1><CI20>", ("item_", "<CI1>", "<CI20>")),
        ("<a_1> <b_2>", ("<a_1>", "<b_2>")),
        ("<CT1", None),
        ("<>", None),
        ("<CT1><", None),
    ],
)
def test_split_id_text(text: str, tokens: tuple[str, ...] | None) -> None:
    assert split_id_text(text) == tokens


def test_read_write_round_trip_with_tabs_and_blank_lines(write, tmp_path) -> None:
    path = write("items.txt", "B001\t<CT1><1001>\n\nB002   <CT1><1002>\r\n")
    ids = read_id_file(path)
    assert ids == {"B001": ("<CT1>", "<1001>"), "B002": ("<CT1>", "<1002>")}
    again = read_id_file(write_id_file(tmp_path / "copy.txt", ids))
    assert again == ids


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "B001\n",
            "items.txt:1: field 'id': expected a raw item id followed by its tokens, found 'B001'",
        ),
        (
            "B001 <CT1\n",
            "items.txt:1: field 'id': expected tokens like <CT12><1007> (brackets closed), found '<CT1'",
        ),
        (
            "B001 <CT1>\nB001 <CT2>\n",
            "items.txt:2: field 'item id': expected each raw id once (first on line 1), found 'B001'",
        ),
        (
            "B001 <CT1>\nB002 <CT1>\n",
            "items.txt:2: field 'id': expected an ID not shared with item 'B001' of line 1, found '<CT1>'",
        ),
        (
            "\n\n",
            "items.txt: field 'content': expected at least one item line, found an empty file",
        ),
    ],
)
def test_bad_id_files_name_file_line_and_field(write, content: str, message: str) -> None:
    path = write("items.txt", content)
    with pytest.raises(DataFormatError) as error:
        read_id_file(path)
    assert str(error.value).endswith(message)


@pytest.fixture
def view():
    return leave_one_out(
        make_synthetic(n_users=40, n_items=30, mean_length=6, seed=1)
    ).training_view


def test_external_must_cover_every_item(view, tmp_path) -> None:
    ids = {raw: (f"<X{k}>",) for k, raw in enumerate(view.items[:-1])}
    path = write_id_file(tmp_path / "items.txt", ids)
    with pytest.raises(
        DatasetError, match=r"1 of 30 items of the dataset have no ID \(e.g. 'I00029'\)"
    ):
        get_strategy("external", items=str(path)).assign(view, 0)


def test_external_unknown_ids_are_an_error_unless_ignored(view, tmp_path) -> None:
    ids = {raw: (f"<X{k}>",) for k, raw in enumerate(view.items)} | {"ghost": ("<G>",)}
    path = write_id_file(tmp_path / "items.txt", ids)
    with pytest.raises(
        DatasetError,
        match=r"1 item ids are not in the dataset \(e.g. 'ghost'\); pass unknown='ignore'",
    ):
        get_strategy("external", items=str(path)).assign(view, 0)
    assignment = get_strategy("external", items=str(path), unknown="ignore").assign(view, 0)
    assert "ghost" not in assignment.items and "<G>" not in assignment.new_tokens
    assert list(assignment.items) == view.items.tolist()  # catalog order


def test_external_plain_text_tokens_are_not_new(view, tmp_path) -> None:
    ids = {raw: ("item_", f"{1001 + k}", "<S>") for k, raw in enumerate(view.items)}
    path = write_id_file(tmp_path / "items.txt", ids)
    assignment = get_strategy("external", items=str(path)).assign(view, 0)
    assert assignment.new_tokens == ("<S>",)
    # The file holds the ID's text: adjacent plain-text pieces come back as one token.
    assert assignment.items[view.items[0]] == ("item_1001", "<S>")
