"""Templates of the five task families, and how IDs, ratings and reviews are written as text."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idprobe.errors import ConfigError
from idprobe.ids.external import is_new_token
from idprobe.prompts import (
    FIELDS,
    TASKS,
    explanation_text,
    format_rating,
    get_template,
    id_text,
    item_phrase,
    normalise_text,
    templates,
    user_phrase,
)
from idprobe.prompts.text import _is_new_token

SIZES = {"sequential": 10, "direct": 10, "rating": 4, "explanation": 4, "review": 4}


# ---------------------------------------------------------------------------------- templates


@pytest.mark.parametrize("task", TASKS)
def test_each_family_has_its_seen_templates_then_one_unseen(task: str) -> None:
    seen, unseen, every = templates(task), templates(task, "unseen"), templates(task, "all")
    assert len(seen) == SIZES[task] and len(unseen) == 1
    assert every == seen + unseen
    assert {t.id for t in seen}.isdisjoint({t.id for t in unseen})
    assert all(t.seen for t in seen) and not unseen[0].seen
    assert [t.id for t in every] == [f"{task}-{n}" for n in range(1, len(every) + 1)]
    assert all(t.task == task for t in every)
    assert len({t.source for t in every}) == len(every), "two templates share a wording"
    assert all(t.fields <= FIELDS for t in every)
    assert all(get_template(t.id) is t and get_template(t.id, task) is t for t in every)


def _source_fields(template) -> set[str]:
    return {m for m in re.findall(r"\{(\w+)\}", template.source)}


@pytest.mark.parametrize("template", templates("sequential", "all"), ids=lambda t: t.id)
def test_sequential_templates_name_user_and_history_and_ask_for_the_item(template) -> None:
    assert {"user", "history"} <= _source_fields(template) and template.target == "{item}"
    assert "item" not in _source_fields(template)  # the target must not be in the prompt


@pytest.mark.parametrize("template", templates("direct", "all"), ids=lambda t: t.id)
def test_direct_templates_name_the_user_only(template) -> None:
    fields = _source_fields(template)
    assert "user" in fields and not fields & {"history", "item"}
    assert template.target == "{item}"


@pytest.mark.parametrize(
    ("task", "needed", "target"),
    [
        ("rating", {"user", "item", "lowest", "highest"}, "{rating}"),
        ("explanation", {"user", "item"}, "{explanation}"),
        ("review", {"review"}, "{summary}"),
    ],
)
def test_text_task_templates_name_their_subject(task: str, needed: set[str], target: str) -> None:
    for template in templates(task, "all"):
        fields = _source_fields(template)
        assert needed <= fields and template.target == target, template.id
        assert target.strip("{}") not in fields  # the answer is not in the prompt


def test_templates_are_our_own_words() -> None:
    # A few P5 / OpenP5 sentences (REFERENCE.md) that the templates paraphrase, not copy.
    p5 = (
        "What is the next recommendation for the user",
        "What should we recommend for",
        "Which star rating will",
        "being lowest and",
    )
    for task in TASKS:
        for template in templates(task, "all"):
            assert not any(phrase in template.source for phrase in p5), template.id


def test_render_fills_source_and_target() -> None:
    template = get_template("rating-2")
    source, target = template.render(
        dataset="Beauty", user="user_3", item="item_7", rating="4", lowest="1", highest="5"
    )
    assert source == (
        "Predict the Beauty rating that user_3 gives to item_7 , on a scale from 1 to 5 ."
    )
    assert target == "4"


def test_unknown_task_set_or_template_id_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"^task: expected one of 'sequential', .*'review', found 'seq'"
    ):
        templates("seq")
    with pytest.raises(
        ConfigError, match=r"^which: expected one of 'seen', 'unseen', 'all', found 'train'"
    ):
        templates("direct", "train")  # type: ignore[arg-type]
    with pytest.raises(
        ConfigError, match=r"^template_id: expected one of 'sequential-1', .*found 'rating-9'"
    ):
        get_template("rating-9")
    with pytest.raises(
        ConfigError,
        match=r"^template_id: expected one of 'direct-1', .*'direct-11', found 'rating-1'",
    ):
        get_template("rating-1", "direct")


# ---------------------------------------------------------------------------------- ID text


def test_id_text_of_the_built_in_shapes() -> None:
    assert item_phrase(("2024",)) == "item_2024"  # RID / SID: plain text
    assert item_phrase(("<CI3>", "<CI7>")) == "item_<CI3><CI7>"  # CID
    assert item_phrase(("<CT4>", "<1007>")) == "item_<CT4><1007>"  # META ID
    assert item_phrase(("<I12>",)) == "item_<I12>"  # IID
    assert id_text(("<a>", "12", "<b>", "3")) == "<a>12<b>3"  # plain next to new: no separator


def test_adjacent_plain_tokens_stay_apart() -> None:
    tuples = [
        ("12", "3"),
        ("1", "23"),
        ("123",),
        ("12|3",),
        ("12\\", "3"),
        ("12", "\\3"),
        ("1", "2", "3"),
        ("12\\|3",),
        ("<x>", "1", "2"),
        ("<x>", "12"),
    ]
    texts = [id_text(t) for t in tuples]
    assert len(set(texts)) == len(texts), texts
    assert id_text(("12", "3")) == "12|3" and id_text(("12|3",)) == "12\\|3"


def _read_back(text: str) -> tuple[str, ...]:
    """Reference inverse of the rule in idprobe.prompts.text, written from its docstring."""
    tokens: list[str] = []
    plain: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            if plain is not None:
                tokens.append(plain)
                plain = None
            end = text.index(">", i)
            tokens.append(text[i : end + 1])
            i = end + 1
        elif char == "|":
            assert plain is not None, "a separator must follow a plain token"
            tokens.append(plain)
            plain = ""
            i += 1
        else:
            if char == "\\":
                i += 1
                char = text[i]
            plain = (plain or "") + char
            i += 1
    if plain is not None:
        tokens.append(plain)
    return tuple(tokens)


# Characters of the ID-file grammar: anything but whitespace and angle brackets; the separator and
# the escape character are drawn often so that their escaping is exercised.
_chars = st.one_of(
    st.sampled_from("|\\_1a"),
    st.characters(blacklist_categories=("Z", "C"), blacklist_characters="<>"),
)
_plain = st.text(_chars, min_size=1, max_size=4)
_bracketed = st.text(_chars, min_size=1, max_size=3).map(lambda s: f"<{s}>")
_ids = st.lists(st.one_of(_plain, _bracketed), min_size=1, max_size=5).map(tuple)


@settings(max_examples=30, deadline=None)
@given(_ids)
def test_id_text_reads_back_to_its_tokens(tokens: tuple[str, ...]) -> None:
    text = id_text(tokens)
    assert _read_back(text) == tokens
    assert not any(c.isspace() for c in text)


@settings(max_examples=30, deadline=None)
@given(_ids, _ids)
def test_distinct_tuples_have_distinct_texts(first, second) -> None:
    assert (id_text(first) == id_text(second)) == (first == second)


@settings(max_examples=30, deadline=None)
@given(st.text(st.sampled_from("<>a1"), max_size=5))
def test_new_token_rule_matches_the_ids_package(token: str) -> None:
    assert _is_new_token(token) == is_new_token(token)


def test_user_phrases() -> None:
    assert user_phrase(0) == "user_1" and user_phrase(np.int64(41)) == "user_42"
    assert user_phrase(("<CT2>", "<1283>")) == "user_<CT2><1283>"


# ---------------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "text"),
    [(4.0, "4"), (3.5, "3.5"), (np.float32(3.7), "3.7"), (1, "1"), (0.25, "0.25"), (10.0, "10")],
)
def test_format_rating_drops_the_point_zero(value, text: str) -> None:
    assert format_rating(value) == text


@pytest.mark.parametrize(
    ("review", "expected"),
    [
        ("Works  well.\nBuy it!", "Works well."),
        ("Love it!!! Again", "Love it!!!"),
        ("no end punctuation at all", "no end punctuation at all"),
        ("version 1.5 is fine. Yes.", "version 1.5 is fine."),
        ("...", None),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_explanation_is_the_first_sentence(review, expected) -> None:
    assert explanation_text(review) == expected


def test_explanation_is_cut_to_max_words() -> None:
    review = " ".join(f"w{k}" for k in range(60)) + ". Second."
    assert explanation_text(review) == " ".join(f"w{k}" for k in range(40))
    assert explanation_text(review, max_words=3) == "w0 w1 w2"
    assert explanation_text("One two three.", max_words=3) == "One two three."


def test_normalise_text() -> None:
    assert normalise_text("  a\tb \n c ") == "a b c"
    assert normalise_text(" \n ") is None and normalise_text(None) is None
