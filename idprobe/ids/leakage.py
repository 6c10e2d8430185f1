"""Does an item numbering leak the held-out item? The P5 ``max(history) + 1`` check.

The P5 preprocessing numbered items in order of first appearance over users' *full* sequences,
test items included (REFERENCE.md, "SID" and pitfall 1). A user's test target then often first
appears at the end of that user's sequence, so it gets the next free number: ``max(history) + 1``
or ``last history item + 1``. A model that learns "write the number after the largest one you
read" scores far above honest numbers without learning anything about the items (Hua et al.
report HR@10 of 8-10% on Beauty with it).

:func:`numbering_leak` measures that signature on the test samples of a leave-one-out split:

* an item's ID is *read as a number* when its tokens contain digits: the digits of its token
  tuple joined, ``("item_", "10", "07")`` -> 1007, ``("<CT3>", "<1004>")`` -> 31004; an ID
  without digits is not numeric;
* a test user is *checked* when its target is numeric and its history (the prompt history the
  model reads: ``seq[:-1]``, last ``max_his`` items) holds a numeric item; it is a *hit* when
  the target number equals ``max(history numbers) + 1`` or ``last history number + 1`` (the last
  history item, when it is numeric);
* ``rate`` = hits / users checked; ``chance`` = the same rate after shuffling the numbers among
  the numeric items (mean over seeded permutations): what the rule gives when the numbering says
  nothing about order;
* ``reference`` = the rate of honest numberings (first appearance over the *training parts*, as
  the ``sid`` strategy numbers, users scanned in each ``sid`` user order; the largest);
* ``flagged`` when ``rate >= reference + 0.02`` and ``rate >= 5 * max(chance, 1 / n_items)``.

Why a reference and not only chance: a numbering built from training parts alone also puts
order into the numbers (an item whose successor first appears right after it in some training
part gets the next number), and the rule counts that. On the synthetic data, whose items have
planted successors, an honest SID reaches a rate near 0.15 against a chance near 0.005, as far
above chance as the leaky P5 numbering (0.20). What tells a leak apart is the *excess* over
what the training parts can explain (measured, seed 0 unless said):

=============================  ========  ==========  =========  ======
data                           leaky P5  honest SID  reference  chance
=============================  ========  ==========  =========  ======
Amazon Beauty (P5's own ids)   0.0500    0.0099      0.0099     0.0001
synthetic, 1,500 items         0.31      0.14        0.16       0.001
synthetic default (400 items)  0.20      0.15        0.16       0.005
=============================  ========  ==========  =========  ======

On Beauty RID gives 0.0001, IID 0.0146 (numbered in catalog order, and neighbouring product
codes are often bought one after the other) and CID 0.0138, all below the reference plus the
margin; META ID 0.0002. With a
sparse synthetic catalog the leaky excess is 0.11-0.16 over data seeds 0-9. On the default
synthetic data the first few dozen users' training parts already hold every item, so a
full-sequence numbering hardly differs from the honest one: the excess ranges from -0.01 to
0.07 over seeds 0-9 (flagged in 8 of 10), a leak there is small because there is little to
leak. (A fixed threshold such as ``rate >= 0.05`` misses the P5 numbering on Beauty, 0.0500
with 20-item histories, and flags the honest SID on the synthetic data.)

How to read it: ``rate`` well above ``reference`` means the numbers know where a user's sequence
goes *after* its training part: they were made from held-out interactions. Multi-token IDs are
read as one number (``<CT3><1004>`` -> 31004), so for META ID or RQ-VAE ``n + 1`` rarely means
"the next item" and their rates sit near chance.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from idprobe.data import LeaveOneOutSplit
from idprobe.errors import ConfigError, verbatim
from idprobe.ids.base import IdAssignment
from idprobe.ids.sid import USER_ORDERS, first_appearance_order

__all__ = ["LEAK_RULE", "NumberingLeak", "honest_reference", "item_numbers", "numbering_leak"]

LEAK_RULE = "target number = max(history numbers) + 1 or last + 1"
#: A numbering is flagged when its rate exceeds the honest reference by at least this ...
MIN_EXCESS = 0.02
#: ... and is at least this many times chance (or 1 / n_items, whichever is larger).
CHANCE_FACTOR = 5.0
#: Share of items whose ID must contain digits for the numbering to be checked at all.
MIN_NUMERIC_SHARE = 0.5

_NOT_DIGIT = re.compile(r"\D+")


@dataclass(frozen=True)
class NumberingLeak:
    """The result of :func:`numbering_leak` (module docstring).

    Attributes:
        rate: share of checked test users whose target number is ``max(history) + 1`` or
            ``last + 1``; ``None`` when the IDs are not numeric or no user could be checked.
        chance: the same share with the numbers shuffled among the numeric items (``None``
            when ``rate`` is).
        flagged: ``rate >= reference + 0.02`` and ``rate >= 5 * max(chance, 1 / n_items)``.
        n_users: test users checked (numeric target, at least one numeric history item).
        numeric: whether at least half of the items' IDs contain digits.
        rule: the rule, in words.
        reference: the rule's rate for honest first-appearance numberings of the training parts
            (:func:`honest_reference`); ``None`` when ``rate`` is.
    """

    rate: float | None
    chance: float | None
    flagged: bool
    n_users: int
    numeric: bool
    rule: str = LEAK_RULE
    reference: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the ``ids.leak`` entry of ``results.json``)."""
        return asdict(self)


def item_numbers(
    assignment: IdAssignment, split: LeaveOneOutSplit
) -> tuple[np.ndarray, np.ndarray]:
    """Every item's ID read as a number, in the split's dense item order.

    Returns ``(numbers, numeric)``: ``numbers[i]`` is the integer of the digits of item ``i``'s
    tokens joined (0 where ``numeric[i]`` is False, i.e. the ID has no digit). Numbers too large
    for int64 (IDs with more than 18 digits) come back as a Python-int object array.
    """
    texts = [
        _NOT_DIGIT.sub("", "".join(tokens)) for tokens in assignment.item_ids(split.interactions)
    ]
    numeric = np.array([bool(text) for text in texts], dtype=bool)
    values = [int(text) if text else 0 for text in texts]
    if max((len(text) for text in texts), default=0) <= 18:
        return np.array(values, dtype=np.int64), numeric
    return np.array(values, dtype=object), numeric


def _hits(
    numbers: np.ndarray,
    numeric: np.ndarray,
    items: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    targets: np.ndarray,
) -> tuple[int, int]:
    """(hits, users checked) of the rule, for histories ``items[starts[k]:ends[k]]``.

    The histories are disjoint, non-empty and in increasing order (one per user), so the history
    maxima are one ``maximum.reduceat`` over the interleaved bounds ``s0, e0, s1, e1, ...``: the
    even segments are the histories, the odd ones (target to the next history) are dropped.
    """
    history_numeric = numeric[items]
    if numbers.dtype == object:
        floor: Any = min(numbers.tolist(), default=0) - 1
        values = np.where(history_numeric, numbers[items], floor).astype(object)
    else:
        floor = np.iinfo(np.int64).min
        values = np.where(history_numeric, numbers[items], floor)
    bounds = np.column_stack((starts, ends)).reshape(-1)
    # A bound equal to len(values) (a last history ending at the array's end) is not allowed by
    # reduceat; pad one element so every bound is an index.
    padded = np.concatenate((values, values[:1]))
    maxima = np.maximum.reduceat(padded, bounds)[::2]
    any_numeric = np.logical_or.reduceat(np.concatenate((history_numeric, [False])), bounds)[::2]
    last = ends - 1
    checked = numeric[targets] & any_numeric
    target_numbers = numbers[targets]
    hit = (target_numbers == maxima + 1) | (
        history_numeric[last] & (target_numbers == values[last] + 1)
    )
    hit &= checked
    return int(hit.sum()), int(checked.sum())


def _rate(numbers: np.ndarray, numeric: np.ndarray, split: LeaveOneOutSplit) -> tuple[int, int]:
    test = split.test
    return _hits(
        numbers,
        numeric,
        split.interactions.item_index,
        test.history_start,
        test.history_end,
        test.targets,
    )


def honest_reference(split: LeaveOneOutSplit) -> float | None:
    """The rule's rate for honest numberings: items numbered by first appearance over the
    training parts (the ``sid`` strategy), users scanned in each of the ``sid`` user orders; the
    largest of those rates. What order information the training data alone puts into numbers."""
    n_items = split.interactions.n_items
    numeric = np.ones(n_items, dtype=bool)
    best: float | None = None
    for user_order in USER_ORDERS:
        order = first_appearance_order(split.training_view, user_order)
        numbers = np.empty(n_items, dtype=np.int64)
        numbers[order] = np.arange(n_items)
        hits, checked = _rate(numbers, numeric, split)
        if checked:
            best = max(best or 0.0, hits / checked)
    return best


def numbering_leak(
    assignment: IdAssignment,
    split: LeaveOneOutSplit,
    *,
    seed: int = 0,
    permutations: int = 20,
) -> NumberingLeak:
    """How often the test target's number is the next number after the history's (module docstring).

    Args:
        assignment: the item IDs to check (only items are read; users are ignored).
        split: the leave-one-out split whose test samples are checked.
        seed: seeds the permutations of the chance estimate.
        permutations: how many seeded shuffles of the numbers ``chance`` averages over.
    """
    if not isinstance(assignment, IdAssignment):
        raise ConfigError("assignment", "an IdAssignment", verbatim(type(assignment).__name__))
    if not isinstance(split, LeaveOneOutSplit):
        raise ConfigError(
            "split",
            "a LeaveOneOutSplit (idprobe.data.leave_one_out)",
            verbatim(type(split).__name__),
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError("seed", "a non-negative integer", seed)
    if (
        isinstance(permutations, bool)
        or not isinstance(permutations, int | np.integer)
        or permutations < 1
    ):
        raise ConfigError("permutations", "an integer >= 1", permutations)
    numbers, numeric = item_numbers(assignment, split)
    n_items = len(numbers)
    if not numeric.mean() >= MIN_NUMERIC_SHARE:
        return NumberingLeak(None, None, False, 0, False)
    hits, checked = _rate(numbers, numeric, split)
    if checked == 0:
        return NumberingLeak(None, None, False, 0, True)
    rate = hits / checked
    # Shuffle the numbers among the numeric items only, so the same users stay checked.
    rng = np.random.default_rng(seed)
    positions = np.flatnonzero(numeric)
    shuffled = numbers.copy()
    chance_rates = []
    for _ in range(int(permutations)):
        shuffled[positions] = numbers[positions[rng.permutation(positions.size)]]
        chance_rates.append(_rate(shuffled, numeric, split)[0] / checked)
    chance = float(np.mean(chance_rates))
    reference = honest_reference(split) or 0.0
    flagged = rate - reference >= MIN_EXCESS and rate >= CHANCE_FACTOR * max(chance, 1.0 / n_items)
    return NumberingLeak(float(rate), chance, bool(flagged), checked, True, reference=reference)
