"""The numbering-leak detector: a hand-computed example, a plain-Python reference, the leaky P5
numbering on synthetic and real data against the honest strategies."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from idprobe.data import Interactions, leave_one_out, load_dataset, make_synthetic
from idprobe.errors import ConfigError
from idprobe.ids import IdAssignment, get_strategy, write_id_file
from idprobe.ids.leakage import (
    LEAK_RULE,
    NumberingLeak,
    honest_reference,
    item_numbers,
    numbering_leak,
)

# A catalog larger than the users can exhaust early, so that many test items first appear at the
# end of their user's sequence: the situation in which the P5 numbering leaks (module docstring).
SPARSE = {"n_users": 600, "n_items": 1500}
LIGHT_META = {"walks_per_node": 2, "walk_length": 8, "epochs": 1}


def by_hand(items: dict[str, tuple[str, ...]], new: tuple[str, ...] = ()) -> IdAssignment:
    return IdAssignment("external", {}, 0, items, None, new)


def full_sequence_numbering(split, start: int = 1001) -> dict[str, tuple[str, ...]]:
    """The P5 numbering: first appearance over the FULL sequences, test items included."""
    data = split.interactions
    _, first = np.unique(data.item_index, return_index=True)
    order = data.item_index[np.sort(first)]
    numbers = np.empty(data.n_items, dtype=np.int64)
    numbers[order] = start + np.arange(data.n_items)
    return {raw: (str(n),) for raw, n in zip(data.items.tolist(), numbers.tolist(), strict=True)}


# ---------------------------------------------------------------------------- hand-computed


def three_users() -> tuple[Interactions, IdAssignment]:
    """A: 10 30 20 | 31 (max + 1: hit); B: 5 7 | 8 (last + 1: hit); C: 50 40 <x> | 41 (the last
    history item has no digits, so only max + 1 = 51 counts: miss). Rate 2/3."""
    sequences = {
        "A": ["a", "b", "c", "d"],
        "B": ["e", "f", "g"],
        "C": ["j", "h", "x", "i"],
    }
    users = [u for u, seq in sequences.items() for _ in seq]
    items = [i for seq in sequences.values() for i in seq]
    data = Interactions.from_events(users, items, name="three")
    ids = {
        "a": ("<CT1>", "<0>"),  # digits joined: 10
        "b": ("30",),
        "c": ("2", "0"),  # 20
        "d": ("item_", "31"),
        "e": ("5",),
        "f": ("7",),
        "g": ("8",),
        "h": ("40",),
        "i": ("41",),
        "j": ("50",),
        "x": ("<CT>",),  # no digit: not numeric
    }
    return data, by_hand(ids, ("<CT1>", "<0>", "<CT>"))


def test_three_users_by_hand():
    data, assignment = three_users()
    split = leave_one_out(data)
    numbers, numeric = item_numbers(assignment, split)
    by_raw = dict(zip(data.items.tolist(), numbers.tolist(), strict=True))
    assert by_raw["a"] == 10 and by_raw["c"] == 20 and by_raw["d"] == 31
    assert numeric.tolist() == [raw != "x" for raw in data.items.tolist()]
    leak = numbering_leak(assignment, split)
    assert leak.rate == pytest.approx(2 / 3)
    assert leak.n_users == 3 and leak.numeric and leak.rule == LEAK_RULE
    # to_dict is plain JSON and carries every field.
    document = json.loads(json.dumps(leak.to_dict()))
    assert document == {
        "rate": leak.rate,
        "chance": leak.chance,
        "flagged": leak.flagged,
        "n_users": 3,
        "numeric": True,
        "rule": LEAK_RULE,
        "reference": leak.reference,
    }


def test_users_without_numeric_target_or_history_are_not_checked():
    data, assignment = three_users()
    ids = dict(assignment.items)
    ids["d"] = ("<CTd>",)  # A's target is no longer numeric
    ids["e"], ids["f"] = ("<e>",), ("<f>",)  # B's history has no number
    leak = numbering_leak(by_hand(ids), leave_one_out(data))
    assert leak.n_users == 1 and leak.rate == 0.0  # only C is checked, and C misses


def test_ids_without_digits_are_not_numeric():
    data, _ = three_users()
    letters = "abcdefghijk"
    ids = {raw: (f"<{letters[k]}>",) for k, raw in enumerate(data.items.tolist())}
    leak = numbering_leak(by_hand(ids), leave_one_out(data))
    assert leak == NumberingLeak(None, None, False, 0, False)
    assert json.loads(json.dumps(leak.to_dict()))["rate"] is None


def test_chance_is_the_mean_over_permutations_of_the_numbers():
    """With many permutations, chance approaches the exact mean over all 5! numberings."""
    data = Interactions.from_events(
        ["A"] * 4 + ["B"] * 3 + ["C"] * 3,
        ["p", "q", "r", "s", "q", "r", "t", "t", "p", "s"],
        name="five",
    )
    split = leave_one_out(data)
    values = [3, 1, 4, 2, 5]
    exact = []
    for perm in itertools.permutations(values):
        ids = {raw: (str(n),) for raw, n in zip(data.items.tolist(), perm, strict=True)}
        exact.append(plain_rate(by_hand(ids), split))
    ids = {raw: (str(n),) for raw, n in zip(data.items.tolist(), values, strict=True)}
    leak = numbering_leak(by_hand(ids), split, permutations=3000, seed=1)
    assert leak.chance == pytest.approx(np.mean(exact), abs=0.02)


# ---------------------------------------------------------------------------- reference


def plain_rate(assignment: IdAssignment, split) -> float | None:
    """The rule user by user in plain Python, independent of the reduceat version."""
    texts = {
        raw: "".join(ch for ch in "".join(tokens) if ch.isdigit())
        for raw, tokens in assignment.items.items()
    }
    number = {raw: int(text) if text else None for raw, text in texts.items()}
    raw_items = split.interactions.items
    hits = checked = 0
    for k in range(len(split.test)):
        history = [number[raw_items[i]] for i in split.test.history(k).tolist()]
        target = number[raw_items[split.test.targets[k]]]
        numbers = [n for n in history if n is not None]
        if target is None or not numbers:
            continue
        checked += 1
        hits += target == max(numbers) + 1 or (
            history[-1] is not None and target == history[-1] + 1
        )
    return hits / checked if checked else None


def letters(k: int) -> str:
    """A new token without digits, distinct for every ``k``: ``<ba>`` for 1."""
    return "<" + chr(97 + k % 26) + chr(97 + k // 26 % 26) + chr(97 + k // 676) + ">"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_rule_matches_plain_python(seed):
    rng = np.random.default_rng(seed)
    data = make_synthetic(n_users=80, n_items=60, mean_length=6, seed=seed)
    split = leave_one_out(data, max_his=int(rng.integers(2, 8)))
    n = data.n_items
    # Dense numbers, so +1 relations are common; a fifth of the items without digits.
    numbers = rng.permutation(n) + 100
    ids = {
        raw: (letters(k),) if rng.random() < 0.2 else (str(numbers[k]),)
        for k, raw in enumerate(data.items.tolist())
    }
    assignment = by_hand(ids)
    leak = numbering_leak(assignment, split)
    assert leak.rate == pytest.approx(plain_rate(assignment, split))


def test_numbers_beyond_int64_give_the_same_rate():
    split = leave_one_out(make_synthetic(**SPARSE))
    leaky = full_sequence_numbering(split)
    huge = {raw: ("7" + "0" * 24, tokens[0]) for raw, tokens in leaky.items()}  # 29 digits
    small_leak = numbering_leak(by_hand(leaky), split)
    huge_leak = numbering_leak(by_hand(huge), split)
    assert item_numbers(by_hand(huge), split)[0].dtype == object
    assert huge_leak.rate == small_leak.rate and huge_leak.flagged


# ---------------------------------------------------------------------------- synthetic data


@pytest.fixture(scope="module")
def sparse_split():
    return leave_one_out(make_synthetic(**SPARSE))


def test_the_p5_numbering_is_flagged_through_an_id_file(sparse_split, tmp_path):
    path = write_id_file(tmp_path / "leaky.txt", full_sequence_numbering(sparse_split))
    assignment = get_strategy("external", items=str(path)).assign(sparse_split.training_view, 0)
    leak = numbering_leak(assignment, sparse_split)
    assert leak.flagged
    assert leak.rate > 20 * leak.chance
    assert leak.rate > leak.reference + 0.05


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("sid", {}),
        ("sid", {"user_order": "short_first"}),
        ("sid", {"user_order": "long_first"}),
        ("rid", {}),
        ("iid", {}),
        ("cid", {}),
        ("meta", LIGHT_META),
    ],
)
def test_honest_strategies_are_not_flagged(sparse_split, name, params):
    """SID sits well above chance (the training parts' own order, see the module docstring) but
    never above the honest reference; RID, IID, CID and META ID sit near chance."""
    assignment = get_strategy(name, **params).assign(sparse_split.training_view, 0)
    leak = numbering_leak(assignment, sparse_split)
    assert leak.numeric and not leak.flagged, leak
    assert leak.rate <= leak.reference
    if name == "sid":
        assert leak.rate > 5 * leak.chance  # real order, learnt from training parts alone
    else:
        assert leak.rate < 0.03


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_synthetic_data_honest_sid_is_not_flagged(seed):
    """The default data's planted successors give an honest SID a rate far above chance; the
    reference keeps it unflagged."""
    split = leave_one_out(make_synthetic(seed=seed))
    leak = numbering_leak(get_strategy("sid").assign(split.training_view, seed), split)
    assert leak.rate > 10 * leak.chance and not leak.flagged
    assert honest_reference(split) == leak.reference


def test_the_shuffle_is_seeded(sparse_split):
    assignment = by_hand(full_sequence_numbering(sparse_split))
    a = numbering_leak(assignment, sparse_split, seed=3, permutations=5)
    b = numbering_leak(assignment, sparse_split, seed=3, permutations=5)
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, r"^seed: expected a non-negative integer, found -1$"),
        ({"seed": True}, r"^seed: expected a non-negative integer"),
        ({"permutations": 0}, r"^permutations: expected an integer >= 1, found 0$"),
    ],
)
def test_bad_arguments(kwargs, message):
    data, assignment = three_users()
    with pytest.raises(ConfigError, match=message):
        numbering_leak(assignment, leave_one_out(data), **kwargs)


def test_bad_inputs_name_the_parameter():
    data, assignment = three_users()
    split = leave_one_out(data)
    with pytest.raises(ConfigError, match=r"^assignment: expected an IdAssignment, found dict$"):
        numbering_leak(dict(assignment.items), split)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^split: expected a LeaveOneOutSplit"):
        numbering_leak(assignment, data)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- real data


@pytest.mark.real_data
def test_beauty_p5_numbering_is_flagged_and_honest_ones_are_not(capsys):
    """Amazon Beauty as P5 preprocessed it: the leaky numbering is exactly its integer item ids.

    Measured (max_his 20, seed 0): leaky 0.0500, chance 0.0001; honest SID 0.0099 (= reference),
    RID 0.0001, IID 0.0146 and CID 0.0138 (catalog order: neighbouring product codes).
    """
    from shared_data import shared_dataset

    directory = shared_dataset("amazon-beauty")
    split = leave_one_out(load_dataset(directory))
    leaky = full_sequence_numbering(split, start=1)
    # The full-sequence numbering reproduces P5's own integer ids (README: the leak warning).
    item2id = json.loads((directory / "p5_datamaps.json").read_text())["item2id"]
    assert all(leaky[raw] == (str(item2id[raw]),) for raw in leaky)

    rates = {"leaky": numbering_leak(by_hand(leaky), split)}
    for name, params in (
        ("sid", {}),
        ("rid", {}),
        ("iid", {}),
        ("cid", {"n_clusters": 20, "max_group_size": 500}),
    ):
        assignment = get_strategy(name, **params).assign(split.training_view, 0)
        rates[name] = numbering_leak(assignment, split)
    with capsys.disabled():
        for name, leak in rates.items():
            print(
                f"\nbeauty {name}: rate {leak.rate:.4f} chance {leak.chance:.5f} "
                f"reference {leak.reference:.4f} flagged {leak.flagged}",
                end="",
            )
    assert rates["leaky"].flagged and rates["leaky"].rate > 100 * rates["leaky"].chance
    assert not any(leak.flagged for name, leak in rates.items() if name != "leaky")
