"""Render the samples of a leave-one-out split into prompt examples (source and target text).

Every example comes from one sample of :class:`idprobe.data.Samples`: a user, the history
``source.item_index[history_start[k]:history_end[k]]`` and the target interaction at row
``history_end[k]`` of the split's interactions. The tasks use that sample as follows:

=============  ===========================================  ====================================
task           source names                                 target
=============  ===========================================  ====================================
sequential     the user and the history                     the target item's phrase
direct         the user only                                the target item's phrase
rating         the user and the target item                 the rating of the target interaction
explanation    the user and the target item (some: rating)  the first sentence of its review
review         the review text (some: user, item)           the summary of that review
=============  ===========================================  ====================================

Training uses ``split.train_samples`` (one sample per position ``i >= 1`` of every training
part, REFERENCE.md), so no validation or test interaction ever appears in a training example;
evaluation uses ``split.validation`` or ``split.test`` (one sample per user). An interaction
whose review or summary is missing or empty yields no explanation or review example; a task whose
data column is missing from the dataset altogether is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from idprobe.data import Interactions, LeaveOneOutSplit, Samples
from idprobe.errors import ConfigError, DatasetError, choices, verbatim
from idprobe.prompts.templates import (
    TASKS,
    TEMPLATE_SETS,
    Template,
    check_task,
    get_template,
)
from idprobe.prompts.templates import (
    templates as task_templates,
)
from idprobe.prompts.text import (
    explanation_text,
    format_rating,
    item_phrase,
    normalise_text,
    user_phrase,
)

__all__ = [
    "HISTORY_SEPARATOR",
    "SPLIT_NAMES",
    "USER_SCHEMES",
    "AssignmentLike",
    "PromptExample",
    "evaluation_examples",
    "item_phrases",
    "training_examples",
    "user_phrases",
]

#: How users are written: ``numeric`` -> ``user_{k+1}`` (dense user index + 1, whatever the item
#: strategy), ``strategy`` -> ``user_`` + the assignment's user ID (META ID, IID with users).
USER_SCHEMES: tuple[str, ...] = ("numeric", "strategy")
SPLIT_NAMES: tuple[str, ...] = ("test", "validation")
HISTORY_SEPARATOR = " , "
#: Scale written in rating prompts when the dataset declares none (the 1-5 stars of P5's data).
DEFAULT_RATING_SCALE = (1.0, 5.0)

UserScheme = Literal["numeric", "strategy"]


class AssignmentLike(Protocol):
    """What rendering needs of an :class:`idprobe.ids.base.IdAssignment` (a sibling layer that
    prompts may not import): token tuples in dense item / user order."""

    def item_ids(self, interactions: Interactions) -> list[tuple[str, ...]]: ...

    def user_ids(self, interactions: Interactions) -> list[tuple[str, ...]] | None: ...


@dataclass(frozen=True, slots=True)
class PromptExample:
    """One rendered prompt.

    Attributes:
        task: one of ``TASKS``.
        template_id: the template it was rendered with, e.g. ``"sequential-3"``.
        user: dense user index.
        item: dense item index of the target item (sequential, direct) or of the item the rating
            or review is about (rating, explanation, review).
        source, target: the text the model reads and the text it must write.
    """

    task: str
    template_id: str
    user: int
    item: int
    source: str
    target: str


# ---------------------------------------------------------------------------------- phrases


def item_phrases(assignment: AssignmentLike, interactions: Interactions) -> list[str]:
    """The phrase (``item_`` + ID text) of every item of ``interactions``, in dense item order.

    These are exactly the target strings of the sequential and direct tasks, e.g. for a decoding
    trie. A ``DatasetError`` names two items whose phrases coincide (possible only for tokens
    outside the ID-file grammar, see :mod:`idprobe.prompts.text`).
    """
    phrases = [item_phrase(tokens) for tokens in assignment.item_ids(interactions)]
    _check_distinct(phrases, interactions.items, "item")
    return phrases


def user_phrases(
    assignment: AssignmentLike, interactions: Interactions, user_scheme: UserScheme = "numeric"
) -> list[str]:
    """The phrase of every user of ``interactions`` under ``user_scheme`` (see ``USER_SCHEMES``)."""
    if user_scheme not in USER_SCHEMES:
        raise ConfigError("user_scheme", choices(USER_SCHEMES), user_scheme)
    if user_scheme == "numeric":
        return [user_phrase(k) for k in range(interactions.n_users)]
    ids = assignment.user_ids(interactions)
    if ids is None:
        strategy = getattr(assignment, "strategy", "the assignment")
        raise ConfigError(
            "user_scheme",
            f"'numeric' for an assignment without user IDs ({strategy!r} indexes no users)",
            user_scheme,
        )
    phrases = [user_phrase(tokens) for tokens in ids]
    _check_distinct(phrases, interactions.users, "user")
    return phrases


def _check_distinct(phrases: list[str], raw_ids: np.ndarray, kind: str) -> None:
    if len(set(phrases)) == len(phrases):
        return
    first: dict[str, int] = {}
    for k, phrase in enumerate(phrases):
        if phrase in first:
            raise DatasetError(
                f"{kind}s {raw_ids[first[phrase]]!r} and {raw_ids[k]!r} are both written {phrase!r} "
                f"in prompts; their IDs differ only outside the ID-file token grammar"
            )
        first[phrase] = k


# ---------------------------------------------------------------------------------- checks


def _check_split(split: object) -> LeaveOneOutSplit:
    if not isinstance(split, LeaveOneOutSplit):
        raise ConfigError(
            "split",
            "a LeaveOneOutSplit (idprobe.data.leave_one_out)",
            verbatim(type(split).__name__),
        )
    return split


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or value < low
        or (high is not None and value > high)
    ):
        span = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
        raise ConfigError(name, span, value)
    return int(value)


def _check_tasks(tasks: str | Sequence[str]) -> tuple[str, ...]:
    listed = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    if not listed:
        raise ConfigError("tasks", f"at least one of {', '.join(map(repr, TASKS))}", listed)
    for task in listed:
        check_task(task, "tasks")
    if len(set(listed)) != len(listed):
        raise ConfigError("tasks", "each task once", listed)
    return listed


def _template_sets(
    tasks: tuple[str, ...], which: str | Sequence[str]
) -> dict[str, tuple[Template, ...]]:
    """The templates of each task: a set name (``TEMPLATE_SETS``) or explicit template ids."""
    if isinstance(which, str):
        if which not in TEMPLATE_SETS:
            raise ConfigError(
                "templates", f"{choices(TEMPLATE_SETS)} or a list of template ids", which
            )
        return {task: task_templates(task, which) for task in tasks}  # type: ignore[arg-type]
    chosen = [get_template(template_id) for template_id in which]
    stray = [t.id for t in chosen if t.task not in tasks]
    if stray:
        raise ConfigError("templates", f"template ids of the tasks {list(tasks)}", stray[0])
    sets = {task: tuple(t for t in chosen if t.task == task) for task in tasks}
    for task, family in sets.items():
        if not family:
            raise ConfigError("templates", f"at least one template of task {task!r}", list(which))
    return sets


# ---------------------------------------------------------------------------------- rendering


class _Context:
    """What every task needs of one split and one assignment, computed once."""

    def __init__(
        self,
        split: LeaveOneOutSplit,
        assignment: AssignmentLike,
        user_scheme: str,
        dataset_name: str | None,
        max_words: int,
    ) -> None:
        data = split.interactions
        self.data = data
        self.items = item_phrases(assignment, data)
        self.users = user_phrases(assignment, data, user_scheme)  # type: ignore[arg-type]
        self.dataset = data.name if dataset_name is None else str(dataset_name)
        low, high = data.rating_scale or DEFAULT_RATING_SCALE
        self.scale = {"lowest": format_rating(low), "highest": format_rating(high)}
        self.max_words = max_words
        self._interaction_items: list[str] | None = None

    @property
    def interaction_items(self) -> list[str]:
        """The item phrase of every interaction row, so a history is one slice and one join."""
        if self._interaction_items is None:
            table = np.array(self.items, dtype=object)
            self._interaction_items = table[self.data.item_index].tolist()
        return self._interaction_items

    def columns(
        self, task: str, samples: Samples, family: tuple[Template, ...], parameter: str
    ) -> tuple[np.ndarray, dict[str, list[str]]]:
        """The samples ``task`` can use and the text of each field for them, sample by sample."""
        data = _check_data(self.data, task, family, parameter)
        keep = np.arange(len(samples))
        position = samples.history_end  # row of the target interaction
        columns: dict[str, list[str]] = {}
        if task == "sequential":
            rows = self.interaction_items
            columns["history"] = [
                HISTORY_SEPARATOR.join(rows[start:end])
                for start, end in zip(
                    samples.history_start.tolist(), samples.history_end.tolist(), strict=True
                )
            ]
        elif task == "rating":
            columns["rating"] = _ratings_text(data.ratings)[position].tolist()
        elif task == "explanation":
            texts = data.review_texts[position]
            explanations = [explanation_text(text, self.max_words) for text in texts]
            keep = np.array([e is not None for e in explanations], dtype=bool).nonzero()[0]
            columns["explanation"] = [explanations[k] for k in keep.tolist()]  # type: ignore[misc]
            if any("rating" in t.fields for t in family):
                columns["rating"] = _ratings_text(data.ratings)[position[keep]].tolist()
        elif task == "review":
            reviews = [normalise_text(text) for text in data.review_texts[position]]
            titles = [normalise_text(text) for text in data.review_summaries[position]]
            keep = np.array(
                [r is not None and s is not None for r, s in zip(reviews, titles, strict=True)],
                dtype=bool,
            ).nonzero()[0]
            columns["review"] = [reviews[k] for k in keep.tolist()]  # type: ignore[misc]
            columns["summary"] = [titles[k] for k in keep.tolist()]  # type: ignore[misc]
        users = samples.users[keep]
        targets = samples.targets[keep]
        columns["user"] = [self.users[u] for u in users.tolist()]
        columns["item"] = [self.items[i] for i in targets.tolist()]
        return keep, columns

    def render(
        self,
        task: str,
        samples: Samples,
        family: tuple[Template, ...],
        choice: np.ndarray | None,
        parameter: str,
    ) -> list[PromptExample]:
        """Examples of ``task``: sample by sample, each with the templates ``choice[k]`` (rows
        aligned with ``samples``; all templates when ``None``) in template order."""
        keep, columns = self.columns(task, samples, family, parameter)
        users = samples.users[keep].tolist()
        items = samples.targets[keep].tolist()
        # The fields that are the same for every example are filled in once, up front.
        constants = _Constants(dataset=self.dataset, **self.scale)
        formats = [
            (
                t.id,
                t.source.format_map(constants).format_map,
                t.target.format_map(constants).format_map,
            )
            for t in family
        ]
        names = tuple(columns)
        picks = None if choice is None else choice[keep].tolist()
        out: list[PromptExample] = []
        append = out.append
        for j, row in enumerate(zip(*columns.values(), strict=True)):
            values = dict(zip(names, row, strict=True))
            user, item = users[j], items[j]
            chosen = formats if picks is None else [formats[t] for t in picks[j]]
            for template_id, source, target in chosen:
                append(PromptExample(task, template_id, user, item, source(values), target(values)))
        return out


#: The data column each task reads, with its name in errors; a template that writes ``{rating}``
#: needs the ratings too (some explanation templates).
_NEEDS: dict[str, tuple[str, ...]] = {
    "rating": ("ratings",),
    "explanation": ("review_texts",),
    "review": ("review_texts", "review_summaries"),
}
_COLUMN_NAMES = {
    "ratings": "ratings",
    "review_texts": "review texts",
    "review_summaries": "review summaries",
}


def _check_data(
    data: Interactions, task: str, family: tuple[Template, ...], parameter: str
) -> Interactions:
    """``data`` if it has every column ``task`` and its templates read, else a ``ConfigError``."""
    needs = _NEEDS.get(task, ())
    if any("rating" in t.fields for t in family):
        needs += ("ratings",)
    for column in needs:
        if getattr(data, column) is None:
            what = _COLUMN_NAMES[column]
            raise ConfigError(
                parameter,
                f"a dataset with {what} for task {task!r}",
                verbatim(f"{data.name!r}, which has no {what}"),
            )
    return data


class _Constants(dict[str, str]):
    """Values for ``str.format_map`` that fill some fields and leave every other ``{field}`` as
    is; braces inside the values are doubled, so they come out literally at the second format.
    (The templates themselves hold no literal braces, which this two-step format would undo.)"""

    def __init__(self, **values: str) -> None:
        super().__init__({k: v.replace("{", "{{").replace("}", "}}") for k, v in values.items()})

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _ratings_text(ratings: np.ndarray) -> np.ndarray:
    """Every rating as text (an object array aligned with ``ratings``), each distinct value formatted once."""
    distinct, inverse = np.unique(ratings, return_inverse=True)
    table = np.array([format_rating(value) for value in distinct.tolist()], dtype=object)
    return table[inverse.reshape(-1)]


def training_examples(
    split: LeaveOneOutSplit,
    assignment: AssignmentLike,
    tasks: str | Sequence[str],
    *,
    dataset_name: str | None = None,
    user_scheme: UserScheme = "numeric",
    templates: str | Sequence[str] = "seen",
    per_sample: Literal["all"] | int = "all",
    seed: int = 0,
    max_words: int = 40,
) -> list[PromptExample]:
    """The training prompts of ``tasks``, rendered from ``split.train_samples``.

    Args:
        split: a leave-one-out split; only its training samples are used.
        assignment: the item (and user) IDs, e.g. an :class:`idprobe.ids.base.IdAssignment`.
        tasks: task names of ``TASKS`` (one name or a sequence, each once).
        dataset_name: the ``{dataset}`` text; ``split.interactions.name`` when ``None``.
        user_scheme: ``"numeric"`` (``user_{k+1}``) or ``"strategy"`` (the assignment's user IDs).
        templates: ``"seen"`` (training templates, the default), ``"unseen"``, ``"all"``, or a
            list of template ids (each of one of ``tasks``, every task given at least one).
        per_sample: ``"all"`` renders every template for every sample (META ID trains on all 10
            seen templates of 2 tasks); an integer ``k`` draws ``k`` distinct templates per sample.
        seed: seeds the draw of ``per_sample=k``; each task draws from its own stream
            ``default_rng([seed, TASKS.index(task)])``, so adding a task leaves the others' draws.
        max_words: longest explanation target, in words.

    Returns:
        Examples in a fixed order: task by task (in the order of ``tasks``), sample by sample
        (the order of ``train_samples``), template by template (template order).
    """
    split = _check_split(split)
    listed = _check_tasks(tasks)
    sets = _template_sets(listed, templates)
    if per_sample != "all":
        _check_int("per_sample", per_sample, 1)
        for task, family in sets.items():
            if per_sample > len(family):  # type: ignore[operator]
                raise ConfigError(
                    "per_sample",
                    f"'all' or an integer in 1..{len(family)} (task {task!r} has {len(family)} templates)",
                    per_sample,
                )
    seed = _check_int("seed", seed, 0)
    max_words = _check_int("max_words", max_words, 1)
    context = _Context(split, assignment, user_scheme, dataset_name, max_words)
    for task in listed:  # every task's data before rendering any, so an error comes at once
        _check_data(split.interactions, task, sets[task], "tasks")
    samples = split.train_samples
    examples: list[PromptExample] = []
    for task in listed:
        family = sets[task]
        choice = None
        if per_sample != "all":
            # Draw before knowing which samples a review task skips, then keep the kept rows, so
            # the draw of a sample does not depend on other samples' reviews.
            rng = np.random.default_rng([seed, TASKS.index(task)])
            order = np.argsort(rng.random((len(samples), len(family))), axis=1)
            choice = np.sort(order[:, : int(per_sample)], axis=1)
        examples.extend(context.render(task, samples, family, choice, "tasks"))
    return examples


def evaluation_examples(
    split: LeaveOneOutSplit,
    assignment: AssignmentLike,
    task: str,
    *,
    split_name: Literal["test", "validation"] = "test",
    template_id: str | None = None,
    user_scheme: UserScheme = "numeric",
    dataset_name: str | None = None,
    max_words: int = 40,
) -> list[PromptExample]:
    """One prompt per user of ``split.test`` (or ``split.validation``), in dense user order.

    The sequential history is the user's held-out history (``seq[:-1]`` for test, ``seq[:-2]``
    for validation, last ``max_his`` items); rating, explanation and review prompts are about the
    held-out interaction itself. Users whose held-out review or summary is empty get no
    explanation or review prompt.

    Args:
        template_id: the template to use, seen or unseen; the first seen template of ``task``
            when ``None``.
        Other arguments as in :func:`training_examples`.
    """
    split = _check_split(split)
    task = check_task(task)
    if split_name not in SPLIT_NAMES:
        raise ConfigError("split_name", choices(SPLIT_NAMES), split_name)
    template = (
        task_templates(task, "seen")[0] if template_id is None else get_template(template_id, task)
    )
    max_words = _check_int("max_words", max_words, 1)
    context = _Context(split, assignment, user_scheme, dataset_name, max_words)
    samples = split.test if split_name == "test" else split.validation
    return context.render(task, samples, (template,), None, "task")
