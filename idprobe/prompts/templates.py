"""Prompt templates of the five P5 / OpenP5 task families, written in idprobe's own words.

A :class:`Template` is a pair of ``str.format`` strings, ``source`` (what the model reads) and
``target`` (what it must write). The families follow P5 (Geng et al., 2022) and OpenP5 (Xu et
al., 2024): 10 *seen* templates per recommendation task that training uses, plus one *unseen*
template held back to test whether a model generalises to a wording it never read
(REFERENCE.md, "Evaluation protocol"). The rating, explanation and review families have 4 seen
templates and 1 unseen, like P5's smaller families. The wording is paraphrased in their spirit,
not copied; words and punctuation are separated by spaces, as in the reference prompts.

Fields a template may use (all values are text; :mod:`idprobe.prompts.render` fills them):

``{dataset}``
    the dataset name (``Interactions.name`` unless given).
``{user}``
    the user phrase, e.g. ``user_17`` (see :func:`idprobe.prompts.text.user_phrase`).
``{item}``
    the item phrase of the target or subject item, e.g. ``item_2024`` or ``item_<CT4><1007>``.
``{history}``
    the item phrases of the history, oldest first, joined by ``" , "`` (sequential only).
``{rating}``, ``{lowest}``, ``{highest}``
    the rating and the ends of the dataset's rating scale, written like ``4`` or ``3.5``.
``{review}``
    the whitespace-normalised review text (review task source).
``{explanation}``
    the first sentence of the review, at most ``max_words`` words (explanation task target).
``{summary}``
    the whitespace-normalised review summary (review task target).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from string import Formatter
from typing import Literal

from idprobe.errors import ConfigError, choices

__all__ = ["FIELDS", "TASKS", "TEMPLATE_SETS", "Template", "get_template", "templates"]

TASKS: tuple[str, ...] = ("sequential", "direct", "rating", "explanation", "review")
#: Which templates of a task to use: the seen ones (training), the unseen one, or all of them.
TEMPLATE_SETS: tuple[str, ...] = ("seen", "unseen", "all")
TemplateSet = Literal["seen", "unseen", "all"]
FIELDS: frozenset[str] = frozenset(
    {
        "dataset",
        "user",
        "item",
        "history",
        "rating",
        "lowest",
        "highest",
        "review",
        "explanation",
        "summary",
    }
)


@dataclass(frozen=True)
class Template:
    """One prompt template: ``source`` and ``target`` format strings of a task.

    Attributes:
        task: one of ``TASKS``.
        id: ``"{task}-{n}"``, numbered from 1; seen templates come first.
        source, target: ``str.format`` strings over the fields of the module docstring.
        seen: ``True`` for the templates training uses, ``False`` for the held-out wording.
    """

    task: str
    id: str
    source: str
    target: str
    seen: bool

    @cached_property
    def fields(self) -> frozenset[str]:
        """The field names that ``source`` and ``target`` use."""
        return _fields(self.source) | _fields(self.target)

    def render(self, **values: str) -> tuple[str, str]:
        """``(source, target)`` with the fields filled in (unused values are ignored)."""
        return self.source.format(**values), self.target.format(**values)


def _fields(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in Formatter().parse(text) if name is not None)


# Seen templates first, the unseen one last. Every sequential source names the user and the
# history; every direct source names the user and never the history (P5's "straightforward"
# recommendation: the model must recall the user's taste from the user ID alone).
_SEQUENTIAL = (
    "{user} of {dataset} has interacted with these items in order : {history} . "
    "What should be recommended to this user next ?",
    "Given the {dataset} history of {user} : {history} , "
    "predict the item the user will interact with next .",
    "In {dataset} , {user} went through {history} in this order . Which item comes next for {user} ?",
    "Here are the items {user} chose on {dataset} , oldest first : {history} . "
    "Suggest the next item for this user .",
    "{dataset} sequence of {user} : {history} . Next item ?",
    "Look at what {user} has done on {dataset} so far : {history} . Recommend one item to follow .",
    "Based on the {dataset} interactions {history} of {user} , "
    "which item is the user most likely to want next ?",
    "{user} has bought {history} on {dataset} . Guess the next purchase of {user} .",
    "Using the ordered {dataset} history {history} , recommend the next item for {user} .",
    "What would {user} pick next on {dataset} after {history} ?",
    # unseen
    "On {dataset} , {user} interacted with {history} , one after another . "
    "Name the item that this user is going to choose next .",
)
_DIRECT = (
    "Which {dataset} item should we recommend to {user} ?",
    "Pick one {dataset} item that {user} would enjoy .",
    "Recommend an item from {dataset} for {user} .",
    "{user} is looking for something on {dataset} . What do you suggest ?",
    "What is the best {dataset} item to show {user} ?",
    "Suggest a {dataset} product that fits the taste of {user} .",
    "For {user} on {dataset} , which item is the top recommendation ?",
    "Name a {dataset} item that {user} is likely to interact with .",
    "{dataset} : choose an item for {user} .",
    "Help {user} find a suitable item in {dataset} .",
    # unseen
    "If you could show {user} a single item from the {dataset} catalog , which one would it be ?",
)
_RATING = (
    "How many stars will {user} give {item} on {dataset} ? "
    "( {lowest} is the lowest , {highest} the highest )",
    "Predict the {dataset} rating that {user} gives to {item} , on a scale from {lowest} to {highest} .",
    "On {dataset} , {user} rated {item} . What score from {lowest} to {highest} did the user give ?",
    "Rate {item} as {user} would , with a number between {lowest} and {highest} ( {dataset} ) .",
    # unseen
    "Guess the star rating ( {lowest} - {highest} ) of {user} for the {dataset} item {item} .",
)
_EXPLANATION = (
    "Write an explanation of why {user} likes or dislikes {item} on {dataset} .",
    "{user} gave {item} {rating} stars on {dataset} . Explain the rating in one sentence .",
    "In the words of {user} , what is there to say about the {dataset} item {item} ?",
    "Generate the review sentence that {user} wrote about {item} ( {dataset} ) .",
    # unseen
    "Describe how {user} feels about {item} , which the user rated {rating} on {dataset} .",
)
_REVIEW = (
    "Summarize this {dataset} review by {user} in a few words : {review}",
    "Give a short title for the following review of {item} : {review}",
    "Write a short summary of what {user} says about the {dataset} item {item} : {review}",
    "Condense the review into a headline . Review : {review}",
    # unseen
    "Here is a {dataset} review of {item} by {user} . Give it a short title . {review}",
)

_FAMILIES: dict[str, tuple[tuple[str, ...], str]] = {
    "sequential": (_SEQUENTIAL, "{item}"),
    "direct": (_DIRECT, "{item}"),
    "rating": (_RATING, "{rating}"),
    "explanation": (_EXPLANATION, "{explanation}"),
    "review": (_REVIEW, "{summary}"),
}

_ALL: dict[str, tuple[Template, ...]] = {
    task: tuple(
        Template(task, f"{task}-{n}", source, target, seen=n < len(sources))
        for n, source in enumerate(sources, start=1)
    )
    for task, (sources, target) in _FAMILIES.items()
}
_BY_ID: dict[str, Template] = {t.id: t for family in _ALL.values() for t in family}


def check_task(task: object, parameter: str = "task") -> str:
    """``task`` if it is one of ``TASKS``, else a ``ConfigError`` listing them."""
    if not isinstance(task, str) or task not in _ALL:
        raise ConfigError(parameter, choices(TASKS), task)
    return task


def templates(task: str, which: TemplateSet = "seen") -> tuple[Template, ...]:
    """The templates of ``task``: ``"seen"`` (training), ``"unseen"`` (held out) or ``"all"``."""
    family = _ALL[check_task(task)]
    if which not in TEMPLATE_SETS:
        raise ConfigError("which", choices(TEMPLATE_SETS), which)
    if which == "all":
        return family
    return tuple(t for t in family if t.seen == (which == "seen"))


def get_template(template_id: str, task: str | None = None) -> Template:
    """The template named ``template_id`` (of ``task``, when given); an error lists the valid ids."""
    valid: Iterable[str] = _BY_ID if task is None else (t.id for t in _ALL[check_task(task)])
    found = _BY_ID.get(template_id) if isinstance(template_id, str) else None
    if found is None or (task is not None and found.task != task):
        raise ConfigError("template_id", choices(valid), template_id)
    return found
