"""Rendering splits into prompts, checked against an independent rendering from raw sequences."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

from idprobe.data import k_core, leave_one_out, load_dataset, make_synthetic, random_split
from idprobe.errors import ConfigError, DatasetError
from idprobe.ids import IdAssignment, get_strategy
from idprobe.prompts import (
    PromptExample,
    evaluation_examples,
    explanation_text,
    format_rating,
    get_template,
    id_text,
    item_phrases,
    normalise_text,
    templates,
    training_examples,
    user_phrases,
)

MAX_HIS = 4


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_users=40, n_items=60, n_groups=3, mean_length=8.0, seed=1)


@pytest.fixture(scope="module")
def split(data):
    return leave_one_out(data, max_his=MAX_HIS)


@pytest.fixture(scope="module")
def rid(split):
    return get_strategy("rid").assign(split.training_view, 0)


def mixed_ids(data) -> IdAssignment:
    """IDs mixing new tokens with two adjacent plain tokens, and user IDs."""
    items = {
        raw: (f"<A{k % 5}>", str(k // 5 % 3), str(k // 15)) for k, raw in enumerate(data.items)
    }
    users = {raw: (f"<U{k}>",) for k, raw in enumerate(data.users)}
    new = sorted({t for ids in (*items.values(), *users.values()) for t in ids if t[0] == "<"})
    return IdAssignment("mixed", {}, 0, items, users, new)


@pytest.fixture(scope="module")
def mixed(data):
    return mixed_ids(data)


def reference_samples(data, max_his: int = MAX_HIS):
    """(user, history items, target item, row of the target) of every training sample, from the
    raw sequences: positions 1 .. len - 3 of each user, history the last max_his items before."""
    out = []
    for user in range(data.n_users):
        seq = data.sequence(user).tolist()
        for i in range(1, len(seq) - 2):
            out.append((user, seq[max(0, i - max_his) : i], seq[i], int(data.offsets[user]) + i))
    return out


def phrases_of(assignment, data) -> list[str]:
    return ["item_" + id_text(tokens) for tokens in assignment.item_ids(data)]


# ---------------------------------------------------------------------------------- sequential


@pytest.mark.parametrize(
    ("ids", "scheme"), [("rid", "numeric"), ("mixed", "numeric"), ("mixed", "strategy")]
)
def test_sequential_prompts_match_an_independent_rendering(split, data, ids, scheme, request):
    assignment = request.getfixturevalue(ids)
    examples = training_examples(split, assignment, "sequential", user_scheme=scheme)
    family = templates("sequential")
    samples = reference_samples(data)
    assert len(split.train_samples) == len(samples)
    assert len(examples) == len(samples) * len(family)
    phrase = phrases_of(assignment, data)
    user_ids = assignment.user_ids(data)
    expected = []
    for user, history, target, _ in samples:
        who = f"user_{user + 1}" if scheme == "numeric" else "user_" + id_text(user_ids[user])
        text = " , ".join(phrase[i] for i in history)
        for template in family:
            source = template.source.format(dataset="synthetic", user=who, history=text)
            expected.append(
                PromptExample("sequential", template.id, user, target, source, phrase[target])
            )
    assert examples == expected


def test_direct_prompts_name_the_user_only(split, data, rid):
    examples = training_examples(split, rid, "direct", templates=["direct-3", "direct-11"])
    samples = reference_samples(data)
    assert len(examples) == 2 * len(samples)
    phrase = phrases_of(rid, data)
    for n, example in enumerate(examples):
        user, _, target, _ = samples[n // 2]
        assert example.template_id == ("direct-3", "direct-11")[n % 2]
        assert (example.user, example.item, example.target) == (user, target, phrase[target])
        assert "item_" not in example.source and f"user_{user + 1} " in example.source


def test_no_held_out_item_reaches_a_training_prompt(split, data, mixed):
    phrase = phrases_of(mixed, data)
    examples = training_examples(split, mixed, ("sequential", "direct"), templates="all")
    assert len(examples) == 22 * len(split.train_samples)
    for example in examples:
        held_out = {data.sequence(example.user)[-1], data.sequence(example.user)[-2]}
        assert example.item not in held_out
        mentioned = set(re.findall(r"item_\S+", example.source + " " + example.target))
        assert mentioned.isdisjoint(phrase[i] for i in held_out)


def test_per_sample_draws_distinct_templates_reproducibly(split, rid):
    n = len(split.train_samples)
    drawn = training_examples(split, rid, ("sequential", "direct"), per_sample=3, seed=5)
    assert len(drawn) == 2 * 3 * n
    assert drawn == training_examples(split, rid, ("sequential", "direct"), per_sample=3, seed=5)
    assert drawn != training_examples(split, rid, ("sequential", "direct"), per_sample=3, seed=6)
    # Each task's draw is its own stream: asking for direct alone draws the same templates.
    alone = training_examples(split, rid, "direct", per_sample=3, seed=5)
    assert alone == drawn[3 * n :]
    for task, block in (("sequential", drawn[: 3 * n]), ("direct", drawn[3 * n :])):
        order = [t.id for t in templates(task)]
        for k in range(n):
            ids = [e.template_id for e in block[3 * k : 3 * k + 3]]
            assert len(set(ids)) == 3 and ids == sorted(ids, key=order.index)
            assert len({(e.user, e.item) for e in block[3 * k : 3 * k + 3]}) == 1
        counts = Counter(e.template_id for e in block)
        assert set(counts) == set(order)  # every seen template is drawn somewhere
        assert max(counts.values()) - min(counts.values()) < 0.5 * 3 * n / len(order)


# ---------------------------------------------------------------------------------- text tasks


def test_rating_prompts_carry_the_rating_and_the_scale(data, rid):
    scaled = dataclasses.replace(data, rating_scale=(0.0, 10.0))
    split = leave_one_out(scaled, max_his=MAX_HIS)
    examples = training_examples(split, rid, "rating", templates=["rating-2"])
    samples = reference_samples(data)
    phrase = phrases_of(rid, data)
    assert len(examples) == len(samples)
    for example, (user, _, item, row) in zip(examples, samples, strict=True):
        assert example.target == format_rating(data.ratings[row])
        assert example.source == (
            f"Predict the synthetic rating that user_{user + 1} gives to {phrase[item]} , "
            "on a scale from 0 to 10 ."
        )
    unscaled = leave_one_out(dataclasses.replace(data, rating_scale=None), max_his=MAX_HIS)
    first = training_examples(unscaled, rid, "rating", templates=["rating-2"])[0]
    assert first.source.endswith("from 1 to 5 .")


def _with_holes(data):
    """Synthetic data whose review text / summary is missing, empty or blank on some rows."""
    texts = data.review_texts.copy()
    summaries = data.review_summaries.copy()
    texts[::7] = None
    texts[3::11] = "   "
    summaries[5::13] = ""
    return dataclasses.replace(data, review_texts=texts, review_summaries=summaries)


def test_explanation_and_review_skip_interactions_without_text(data, rid):
    holey = _with_holes(data)
    split = leave_one_out(holey, max_his=MAX_HIS)
    samples = reference_samples(holey)
    texts, summaries = holey.review_texts, holey.review_summaries
    has_text = [normalise_text(texts[row]) is not None for *_, row in samples]
    has_both = [
        t and normalise_text(summaries[row]) is not None
        for t, (*_, row) in zip(has_text, samples, strict=True)
    ]
    assert 0 < sum(has_both) < sum(has_text) < len(samples)

    explained = training_examples(split, rid, "explanation", templates=["explanation-2"])
    kept = [s for s, keep in zip(samples, has_text, strict=True) if keep]
    assert len(explained) == len(kept)
    for example, (user, _, item, row) in zip(explained, kept, strict=True):
        assert (example.user, example.item) == (user, item)
        assert example.target == explanation_text(texts[row])
        assert f" {format_rating(holey.ratings[row])} stars" in example.source

    reviewed = training_examples(split, rid, "review", templates="seen")
    kept = [s for s, keep in zip(samples, has_both, strict=True) if keep]
    assert len(reviewed) == 4 * len(kept)
    for n, example in enumerate(reviewed):
        *_, row = kept[n // 4]
        assert example.target == normalise_text(summaries[row])
        assert example.source.endswith(normalise_text(texts[row]))


@pytest.mark.parametrize(
    ("task", "column", "lacks"),
    [
        ("rating", "ratings", "ratings"),
        ("explanation", "review_texts", "review texts"),
        ("review", "review_texts", "review texts"),
        ("review", "review_summaries", "review summaries"),
    ],
)
def test_a_task_without_its_data_column_is_a_config_error(data, rid, task, column, lacks):
    split = leave_one_out(dataclasses.replace(data, **{column: None}), max_his=MAX_HIS)
    message = rf"^tasks: expected a dataset with {lacks} for task '{task}', found 'synthetic', which has no {lacks}$"
    with pytest.raises(ConfigError, match=message):
        training_examples(split, rid, ("sequential", task))
    with pytest.raises(ConfigError, match=rf"^task: expected a dataset with {lacks}"):
        evaluation_examples(split, rid, task)


def test_explanation_templates_with_a_rating_need_ratings(data, rid):
    split = leave_one_out(dataclasses.replace(data, ratings=None), max_his=MAX_HIS)
    with pytest.raises(
        ConfigError, match=r"^tasks: expected a dataset with ratings for task 'explanation'"
    ):
        training_examples(split, rid, "explanation")
    plain = training_examples(
        split, rid, "explanation", templates=["explanation-1", "explanation-3"]
    )
    assert len(plain) == 2 * len(split.train_samples)


# ---------------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(("split_name", "drop"), [("test", 1), ("validation", 2)])
def test_evaluation_prompts_one_per_user(split, data, mixed, split_name, drop):
    examples = evaluation_examples(split, mixed, "sequential", split_name=split_name)
    phrase = phrases_of(mixed, data)
    template = templates("sequential")[0]
    assert len(examples) == data.n_users
    for user, example in enumerate(examples):
        seq = data.sequence(user).tolist()
        history = seq[:-drop][-MAX_HIS:]
        target = seq[-drop]
        text = " , ".join(phrase[i] for i in history)
        source = template.source.format(dataset="synthetic", user=f"user_{user + 1}", history=text)
        assert example == PromptExample(
            "sequential", template.id, user, target, source, phrase[target]
        )


def test_evaluation_of_text_tasks_uses_the_held_out_interaction(split, data, rid):
    last = data.offsets[1:] - 1
    rating = evaluation_examples(split, rid, "rating", template_id="rating-5")
    assert [e.target for e in rating] == [format_rating(r) for r in data.ratings[last]]
    assert {e.template_id for e in rating} == {"rating-5"}
    review = evaluation_examples(split, rid, "review", split_name="validation")
    assert [e.target for e in review] == list(data.review_summaries[last - 1])
    unseen = evaluation_examples(split, rid, "direct", template_id="direct-11")
    assert unseen[0].source == get_template("direct-11").source.format(
        dataset="synthetic", user="user_1"
    )


# ---------------------------------------------------------------------------------- errors


def test_parameter_errors(split, rid):
    def train(**kwargs):
        return training_examples(split, rid, kwargs.pop("tasks", "sequential"), **kwargs)

    with pytest.raises(ConfigError, match=r"^tasks: expected one of 'sequential', .*found 'seq'$"):
        train(tasks=("direct", "seq"))
    with pytest.raises(ConfigError, match=r"^tasks: expected at least one of 'sequential'"):
        train(tasks=())
    with pytest.raises(ConfigError, match=r"^tasks: expected each task once"):
        train(tasks=("direct", "direct"))
    with pytest.raises(
        ConfigError,
        match=r"^templates: expected one of 'seen', 'unseen', 'all' or a list of template ids, found 'some'$",
    ):
        train(templates="some")
    with pytest.raises(
        ConfigError, match=r"^template_id: expected one of .*found 'sequential-99'$"
    ):
        train(templates=["sequential-99"])
    with pytest.raises(
        ConfigError,
        match=r"^templates: expected template ids of the tasks \['sequential'\], found 'direct-1'$",
    ):
        train(templates=["sequential-1", "direct-1"])
    with pytest.raises(
        ConfigError, match=r"^templates: expected at least one template of task 'direct'"
    ):
        train(tasks=("sequential", "direct"), templates=["sequential-1"])
    with pytest.raises(ConfigError, match=r"^per_sample: expected an integer >= 1, found 0$"):
        train(per_sample=0)
    with pytest.raises(ConfigError, match=r"^per_sample: expected an integer >= 1, found True$"):
        train(per_sample=True)
    with pytest.raises(
        ConfigError,
        match=r"^per_sample: expected 'all' or an integer in 1..4 \(task 'rating' has 4 templates\), found 5$",
    ):
        train(tasks=("direct", "rating"), per_sample=5)
    with pytest.raises(ConfigError, match=r"^seed: expected an integer >= 0, found -1$"):
        train(seed=-1)
    with pytest.raises(ConfigError, match=r"^max_words: expected an integer >= 1, found 0$"):
        train(max_words=0)
    with pytest.raises(
        ConfigError, match=r"^user_scheme: expected one of 'numeric', 'strategy', found 'raw'$"
    ):
        train(user_scheme="raw")
    with pytest.raises(
        ConfigError,
        match=r"^user_scheme: expected 'numeric' for an assignment without user IDs \('rid' indexes no users\), found 'strategy'$",
    ):
        train(user_scheme="strategy")
    with pytest.raises(
        ConfigError,
        match=r"^split: expected a LeaveOneOutSplit \(idprobe.data.leave_one_out\), found RandomSplit$",
    ):
        training_examples(random_split(split.interactions), rid, "rating")


def test_evaluation_parameter_errors(split, rid):
    with pytest.raises(ConfigError, match=r"^task: expected one of 'sequential', .*found 'next'$"):
        evaluation_examples(split, rid, "next")
    with pytest.raises(
        ConfigError, match=r"^split_name: expected one of 'test', 'validation', found 'train'$"
    ):
        evaluation_examples(split, rid, "sequential", split_name="train")
    with pytest.raises(
        ConfigError,
        match=r"^template_id: expected one of 'sequential-1', .*'sequential-11', found 'direct-1'$",
    ):
        evaluation_examples(split, rid, "sequential", template_id="direct-1")
    with pytest.raises(ConfigError, match=r"^max_words: expected an integer >= 1, found 2.5$"):
        evaluation_examples(split, rid, "explanation", max_words=2.5)
    with pytest.raises(ConfigError, match=r"^split: expected a LeaveOneOutSplit"):
        evaluation_examples(split.interactions, rid, "sequential")


def test_ids_that_read_alike_are_refused(split, data):
    items = {raw: (f"<T{k}>",) for k, raw in enumerate(data.items)}
    first, second = data.items[:2]
    items[first] = ("<a>", "<b>")
    items[second] = ("<a><b>",)  # a new token outside the ID-file grammar
    tokens = sorted({t for ids in items.values() for t in ids})
    clash = IdAssignment("clash", {}, 0, items, None, tokens)
    with pytest.raises(
        DatasetError, match=rf"items '{first}' and '{second}' are both written 'item_<a><b>'"
    ):
        item_phrases(clash, data)
    with pytest.raises(DatasetError, match=r"are both written"):
        training_examples(split, clash, "direct")


def test_phrase_tables_and_dataset_name(split, data, mixed):
    assert item_phrases(mixed, data) == phrases_of(mixed, data)
    assert user_phrases(mixed, data)[:2] == ["user_1", "user_2"]
    assert user_phrases(mixed, data, "strategy")[:2] == ["user_<U0>", "user_<U1>"]
    named = evaluation_examples(split, mixed, "direct", dataset_name="{Beauty}")
    assert named[0].source == "Which {Beauty} item should we recommend to user_1 ?"


def test_importing_prompts_loads_no_torch():
    code = (
        "import sys, idprobe.prompts; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------- real data


@pytest.mark.real_data
def test_beauty_prompts_render_fast_and_leak_nothing(beauty_dir):
    beauty = load_dataset(beauty_dir)
    split = leave_one_out(beauty)
    rid = get_strategy("rid").assign(split.training_view, 0)
    samples = split.train_samples
    start = time.perf_counter()
    examples = training_examples(
        split, rid, ("sequential", "direct"), templates=["sequential-1", "direct-1"]
    )
    seconds = time.perf_counter() - start
    assert len(examples) == 2 * len(samples) == 2 * 131_413
    assert seconds < 10, f"rendering took {seconds:.1f} s"  # ~1 s; generous for slow machines
    phrase = np.array(item_phrases(rid, beauty), dtype=object)
    sequential, direct = examples[: len(samples)], examples[len(samples) :]
    for block in (sequential, direct):
        assert [e.target for e in block] == phrase[samples.targets].tolist()
        assert np.array_equal([e.user for e in block], samples.users)
    items = np.array([e.item for e in sequential])
    ends = beauty.offsets[1:]
    assert not (items == beauty.item_index[ends - 1][samples.users]).any()
    assert not (items == beauty.item_index[ends - 2][samples.users]).any()
    # The history of a sample is the item phrases of the rows before its target, in order.
    for k in (0, 1, 5_000, len(samples) - 1):
        history = " , ".join(phrase[samples.history(k)])
        assert f" : {history} . " in sequential[k].source
    tests = evaluation_examples(split, rid, "sequential")
    assert len(tests) == beauty.n_users == 22_363
    assert [e.item for e in tests] == beauty.item_index[ends - 1].tolist()
    with pytest.raises(
        ConfigError,
        match=r"^tasks: expected a dataset with ratings for task 'rating', found 'amazon-beauty'",
    ):
        training_examples(split, rid, ("sequential", "rating"))


@pytest.mark.real_data
def test_all_beauty_reviews_become_explanations_and_summaries(all_beauty_file):
    data = k_core(load_dataset(all_beauty_file), 3)
    split = leave_one_out(data)
    rid = get_strategy("rid").assign(split.training_view, 0)
    examples = training_examples(split, rid, ("rating", "explanation", "review"), per_sample=1)
    counts = Counter(e.task for e in examples)
    n = len(split.train_samples)
    assert counts["rating"] == n and 0.9 * n < counts["explanation"] <= n
    assert 0.9 * n < counts["review"] <= n
    for example in examples:
        assert example.target and example.target == " ".join(example.target.split())
        if example.task == "explanation":
            assert len(example.target.split()) <= 40
