"""Prompts: the P5 / OpenP5 task templates and their rendering into (source, target) text.

``training_examples(split, assignment, ("sequential", "direct"))`` renders every training sample
of a leave-one-out split with every seen template; ``evaluation_examples(split, assignment,
"sequential")`` gives one test prompt per user. IDs are written ``item_`` + ID text
(:func:`item_phrase`), users ``user_{k+1}`` or by the assignment's user IDs. Imports no torch.
"""

from idprobe.prompts.render import (
    HISTORY_SEPARATOR,
    SPLIT_NAMES,
    USER_SCHEMES,
    AssignmentLike,
    PromptExample,
    evaluation_examples,
    item_phrases,
    training_examples,
    user_phrases,
)
from idprobe.prompts.templates import (
    FIELDS,
    TASKS,
    TEMPLATE_SETS,
    Template,
    get_template,
    templates,
)
from idprobe.prompts.text import (
    explanation_text,
    format_rating,
    id_text,
    item_phrase,
    normalise_text,
    user_phrase,
)

__all__ = [
    "FIELDS",
    "HISTORY_SEPARATOR",
    "SPLIT_NAMES",
    "TASKS",
    "TEMPLATE_SETS",
    "USER_SCHEMES",
    "AssignmentLike",
    "PromptExample",
    "Template",
    "evaluation_examples",
    "explanation_text",
    "format_rating",
    "get_template",
    "id_text",
    "item_phrase",
    "item_phrases",
    "normalise_text",
    "templates",
    "training_examples",
    "user_phrase",
    "user_phrases",
]
