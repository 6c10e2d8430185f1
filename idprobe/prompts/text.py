"""How IDs, ratings and reviews are written inside prompts.

**ID text.** An ID is a tuple of tokens (:class:`idprobe.ids.base.IdAssignment`). Its text joins
the tokens by one rule that keeps distinct tuples distinct:

* a new token (written in angle brackets, ``<CT4>``) is written as is, so bracketed tokens sit
  side by side: ``("<CT4>", "<1007>")`` -> ``<CT4><1007>``;
* a plain token (``"2024"``, split by the backbone's tokenizer) is written as is, except that
  ``\\`` and ``|`` inside it are escaped as ``\\\\`` and ``\\|``;
* two adjacent plain tokens are separated by ``|``: ``("12", "3")`` -> ``12|3``, which is not
  ``("1", "23")`` -> ``1|23`` nor ``("123",)`` -> ``123``.

The built-in strategies never produce a plain token with ``|`` or ``\\``, nor two adjacent plain
tokens, so for them the text is the plain concatenation (``item_2024``, ``item_<CI3><CI7>``),
as in OpenP5 and META ID. (ID files store the concatenation; reading one back merges adjacent
plain tokens, ``idprobe.ids.external``.)

The rule is injective on tokens of the ID-file grammar: bracketed tokens ``<[^<>\\s]+>`` and
plain tokens ``[^<>\\s]+``. Reading the text back is unambiguous there: a ``<`` opens a bracketed
token that the next ``>`` closes, and between bracketed tokens an unescaped ``|`` separates plain
tokens. (Outside that grammar no rule can be: ``("<a>", "<b>")`` and the single new token
``("<a><b>",)`` both read ``<a><b>`` once bracketed tokens are concatenated, so
:func:`idprobe.prompts.render.item_phrases` checks that the phrases of an assignment differ.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "ITEM_PREFIX",
    "PLAIN_SEPARATOR",
    "USER_PREFIX",
    "explanation_text",
    "format_rating",
    "id_text",
    "item_phrase",
    "normalise_text",
    "user_phrase",
]

ITEM_PREFIX = "item_"
USER_PREFIX = "user_"
PLAIN_SEPARATOR = "|"
_ESCAPE = "\\"


def _is_new_token(token: str) -> bool:
    # The same rule as idprobe.ids.external.is_new_token (a test checks they agree); prompts and
    # ids are sibling layers of DESIGN.md, so neither may import the other.
    return token.startswith("<") and token.endswith(">") and len(token) > 2


def _escape(token: str) -> str:
    if _ESCAPE in token or PLAIN_SEPARATOR in token:
        token = token.replace(_ESCAPE, _ESCAPE * 2).replace(PLAIN_SEPARATOR, _ESCAPE + "|")
    return token


def id_text(tokens: Sequence[str]) -> str:
    """The text of an ID's tokens (rule in the module docstring): ``("<CT4>", "<1007>")`` -> ``<CT4><1007>``."""
    if len(tokens) == 1:
        token = tokens[0]
        return token if _is_new_token(token) else _escape(token)
    parts: list[str] = []
    previous_plain = False
    for token in tokens:
        if _is_new_token(token):
            parts.append(token)
            previous_plain = False
        else:
            if previous_plain:
                parts.append(PLAIN_SEPARATOR)
            parts.append(_escape(token))
            previous_plain = True
    return "".join(parts)


def item_phrase(tokens: Sequence[str]) -> str:
    """``item_`` + the ID text: ``("2024",)`` -> ``item_2024``, ``("<CT4>", "<1007>")`` -> ``item_<CT4><1007>``."""
    return ITEM_PREFIX + id_text(tokens)


def user_phrase(user: int | Sequence[str]) -> str:
    """A user's phrase: a dense user index ``k`` -> ``user_{k+1}`` (the numeric scheme, numbered
    from 1 like the P5 data), a token tuple -> ``user_`` + its ID text (the strategy's scheme)."""
    if isinstance(user, int | np.integer):
        return f"{USER_PREFIX}{int(user) + 1}"
    return USER_PREFIX + id_text(user)


def format_rating(value: float) -> str:
    """A rating as prompt text: the shortest decimal that reads back as the same ``float32``,
    without a trailing ``.0``: ``4.0`` -> ``4``, ``3.5`` -> ``3.5``, ``float32(3.7)`` -> ``3.7``."""
    return np.format_float_positional(np.float32(value), trim="-")


_WORD = re.compile(r"\w")
# The first sentence: up to the first run of . ! ? that follows a word character and ends the
# text or precedes whitespace ("Works well. Buy it" -> "Works well.", "v1.5 is fine" stays whole).
_FIRST_SENTENCE = re.compile(r".*?\w.*?[.!?]+(?=\s|$)")


def normalise_text(text: object) -> str | None:
    """``text`` with runs of whitespace collapsed to one space and ends stripped; ``None`` when
    nothing is left (or ``text`` is ``None``)."""
    if text is None:
        return None
    collapsed = " ".join(str(text).split())
    return collapsed or None


def explanation_text(review: object, max_words: int = 40) -> str | None:
    """The explanation target of a review: its first sentence, whitespace-normalised, cut to the
    first ``max_words`` words; ``None`` when the review has no word (P5 uses the sentence of the
    review that mentions a feature; without feature annotations the first sentence stands in)."""
    text = normalise_text(review)
    if text is None or not _WORD.search(text):
        return None
    match = _FIRST_SENTENCE.match(text)
    sentence = match.group(0) if match else text
    words = sentence.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else sentence
