"""A synthetic dataset with planted structure: idprobe's embedded default dataset (``synthetic``).

Real datasets cannot be redistributed, and a tool that explains ID strategies needs data whose
answer is known. The generator plants three kinds of structure, each of which a good ID strategy
or model can discover:

* **groups**: users and items belong to ``n_groups`` latent groups; a user picks an item of its own
  group with probability ``affinity`` (collaborative structure: CID, META ID should recover it);
* **popularity**: item popularity follows a power law with exponent ``popularity_exponent``
  (a popularity baseline is meaningful but beatable);
* **sequence**: every item has a successor in its group; with probability ``sequential_strength``
  a user's next item is the successor of the previous one (sequential models can exploit it).

Ratings are drawn from the latent affinity (own-group items rate high, others low, plus noise),
reviews are short template texts that depend on rating and group, and timestamps increase within
each user. The ground-truth groups are kept in ``user_info["group"]`` and ``item_info["group"]``.
Everything is deterministic given ``seed``.
"""

from __future__ import annotations

import numpy as np

from idprobe.data.interactions import Interactions
from idprobe.errors import ConfigError

__all__ = ["make_synthetic"]

_GROUP_NOUNS = (
    "serum",
    "lipstick",
    "shampoo",
    "perfume",
    "sunscreen",
    "mascara",
    "lotion",
    "nail polish",
    "cleanser",
    "eyeliner",
    "conditioner",
    "face mask",
    "toner",
    "blush",
    "hair oil",
    "lip balm",
)
_OPINIONS = {
    1: ("terrible", "I regret buying this"),
    2: ("disappointing", "it did not work for me"),
    3: ("okay", "it does the job"),
    4: ("good", "I would buy it again"),
    5: ("excellent", "it is my new favourite"),
}
_SUMMARIES = {1: "One star", 2: "Two stars", 3: "Three stars", 4: "Four stars", 5: "Five stars"}
_START = 1_577_836_800  # 2020-01-01T00:00:00Z
_DAY = 86_400


def _check(
    name: str, value: float, low: float, high: float | None = None, integer: bool = False
) -> None:
    ok = (
        isinstance(value, int | np.integer)
        if integer
        else isinstance(value, int | float | np.number)
    )
    ok = ok and not isinstance(value, bool) and value >= low and (high is None or value <= high)
    if not ok:
        kind = "an integer" if integer else "a number"
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ConfigError(name, f"{kind} {bound}", value)


def make_synthetic(
    n_users: int = 600,
    n_items: int = 400,
    n_groups: int = 8,
    mean_length: float = 12.0,
    min_length: int = 5,
    affinity: float = 0.8,
    sequential_strength: float = 0.5,
    popularity_exponent: float = 0.8,
    rating_noise: float = 0.6,
    seed: int = 0,
) -> Interactions:
    """Generate the synthetic dataset described in the module docstring.

    Args:
        n_users, n_items: sizes (every item is placed in a group; rarely chosen items may end up
            with no interaction and are then absent from the result).
        n_groups: number of planted user/item groups.
        mean_length: mean number of interactions per user; lengths are ``min_length`` plus a
            geometric number, capped at half the items of the catalog.
        min_length: shortest sequence (>= 3 so that leave-one-out applies).
        affinity: probability that an interaction is with an item of the user's own group.
        sequential_strength: probability that the next item is the successor of the previous one.
        popularity_exponent: exponent ``a`` of the power law ``weight ~ rank^-a``.
        rating_noise: standard deviation of the Gaussian noise on the latent rating.
        seed: the only source of randomness.
    """
    _check("n_users", n_users, 1, integer=True)
    _check("n_groups", n_groups, 1, integer=True)
    _check("n_items", n_items, 2 * n_groups, integer=True)
    _check("min_length", min_length, 3, n_items // 2, integer=True)
    _check("mean_length", mean_length, min_length, n_items // 2)
    _check("affinity", affinity, 0.0, 1.0)
    _check("sequential_strength", sequential_strength, 0.0, 1.0)
    _check("popularity_exponent", popularity_exponent, 0.0)
    _check("rating_noise", rating_noise, 0.0)
    _check("seed", seed, 0, integer=True)
    rng = np.random.default_rng(seed)

    user_group = rng.permutation(np.arange(n_users) % n_groups)
    item_group = rng.permutation(np.arange(n_items) % n_groups)
    popularity = 1.0 / np.arange(1, n_items + 1, dtype=float) ** popularity_exponent
    popularity = popularity[rng.permutation(n_items)]
    members = [np.flatnonzero(item_group == g) for g in range(n_groups)]
    # Successor of each item: the next member in a random cycle through its group.
    successor = np.empty(n_items, dtype=np.int64)
    for group_items in members:
        cycle = rng.permutation(group_items)
        successor[cycle] = np.roll(cycle, -1)
    group_cdf = [np.cumsum(popularity[m]) / popularity[m].sum() for m in members]
    all_cdf = np.cumsum(popularity) / popularity.sum()

    cap = n_items // 2
    extra_mean = mean_length - min_length
    extra = (
        rng.geometric(1.0 / (extra_mean + 1.0), size=n_users) - 1
        if extra_mean > 0
        else np.zeros(n_users, int)
    )
    lengths = np.minimum(min_length + extra, cap)

    users: list[str] = []
    items: list[int] = []
    for user in range(n_users):
        own = user_group[user]
        taken: set[int] = set()
        previous = -1
        for _ in range(lengths[user]):
            item = -1
            if (
                previous >= 0
                and rng.random() < sequential_strength
                and successor[previous] not in taken
            ):
                item = int(successor[previous])
            else:
                in_group = rng.random() < affinity
                pool, cdf = (members[own], group_cdf[own]) if in_group else (None, all_cdf)
                for _attempt in range(32):
                    k = int(np.searchsorted(cdf, rng.random(), side="right"))
                    k = min(k, len(cdf) - 1)
                    candidate = int(pool[k]) if pool is not None else k
                    if candidate not in taken:
                        item = candidate
                        break
                if item < 0:  # the popular part of the pool is used up: take any free item
                    free = np.setdiff1d(np.arange(n_items), np.fromiter(taken, int, len(taken)))
                    item = int(rng.choice(free))
            taken.add(item)
            users.append(f"U{user:05d}")
            items.append(item)
            previous = item

    item_array = np.asarray(items)
    user_array = np.repeat(np.arange(n_users), lengths)
    same_group = item_group[item_array] == user_group[user_array]
    latent = np.where(same_group, 4.4, 2.4) + rng.normal(0.0, rating_noise, size=item_array.size)
    ratings = np.clip(np.rint(latent), 1, 5).astype(int)
    gaps = rng.exponential(3.0 * _DAY, size=item_array.size).astype(np.int64) + 60
    starts = _START + rng.integers(0, 365 * _DAY, size=n_users)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    gaps[offsets[:-1]] = 0
    timestamps = (
        np.repeat(starts, lengths)
        + np.cumsum(gaps)
        - np.repeat(np.cumsum(gaps)[offsets[:-1]], lengths)
    )

    nouns = [
        _GROUP_NOUNS[g % len(_GROUP_NOUNS)]
        + ("" if g < len(_GROUP_NOUNS) else f" {g // len(_GROUP_NOUNS)}")
        for g in range(n_groups)
    ]
    texts = [
        f"This {nouns[item_group[i]]} is {_OPINIONS[r][0]}, {_OPINIONS[r][1]}."
        for i, r in zip(item_array.tolist(), ratings.tolist(), strict=True)
    ]
    summaries = [_SUMMARIES[r] for r in ratings.tolist()]
    item_ids = [f"I{i:05d}" for i in range(n_items)]
    params = {
        "n_users": n_users,
        "n_items": n_items,
        "n_groups": n_groups,
        "mean_length": mean_length,
        "min_length": min_length,
        "affinity": affinity,
        "sequential_strength": sequential_strength,
        "popularity_exponent": popularity_exponent,
        "rating_noise": rating_noise,
        "seed": seed,
    }
    return Interactions.from_events(
        users,
        [item_ids[i] for i in items],
        ratings=ratings,
        timestamps=timestamps,
        review_texts=texts,
        review_summaries=summaries,
        rating_scale=(1.0, 5.0),
        duplicates="error",  # the generator never repeats an item within a user
        name="synthetic",
        source="synthetic(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")",
        item_info={
            "group": dict(zip(item_ids, item_group.tolist(), strict=True)),
            "title": {
                raw: f"{nouns[g].capitalize()} no. {i}"
                for i, (raw, g) in enumerate(zip(item_ids, item_group.tolist(), strict=True))
            },
        },
        user_info={"group": {f"U{u:05d}": int(g) for u, g in enumerate(user_group.tolist())}},
    )
