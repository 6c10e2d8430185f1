"""What the ID strategies build: how many tokens an ID takes, and how many new tokens they add.

Left panel: for each strategy, how many entities have IDs of each length in tokens (grouped
bars). Right panel: the new (out-of-vocabulary) tokens each strategy adds to the vocabulary,
with the count written on the bar; a log scale when counts differ by more than 100x (CID can add
thousands where SID adds none). Each new token is an embedding row learned from scratch (or
from META ID's cluster centroids), so more new tokens means more to learn from the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from idprobe.errors import ConfigError
from idprobe.viz import _checks
from idprobe.viz._bars import Cell, grouped_bars
from idprobe.viz._style import colors, finish, new_figure, note, plain, theme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["id_statistics"]

# The right panel switches to a log axis when the largest count exceeds this multiple of the
# smallest non-zero one.
LOG_RANGE = 100


def _length(parameter: str, key: Any) -> int:
    # JSON object keys are strings: {"2": 400} is the histogram of results.json.
    if isinstance(key, str) and key.isdigit():
        return int(key)
    return _checks.integer(parameter, key, minimum=0)


def _histogram(parameter: str, value: Any) -> dict[int, int]:
    if not isinstance(value, Mapping):
        raise ConfigError(parameter, "a mapping {length: count}", value)
    result: dict[int, int] = {}
    for key, count in value.items():
        length = _length(f"{parameter} key", key)
        if length in result:
            raise ConfigError(parameter, "each length once", key)
        result[length] = _checks.integer(_checks.where(parameter, key), count, minimum=0)
    return result


def id_statistics(
    length_histograms: Mapping[str, Mapping[int | str, int]], new_tokens: Mapping[str, int]
) -> Figure:
    """ID lengths per strategy (left) and new tokens per strategy (right).

    ``length_histograms[label]`` maps an ID length in tokens (an int, or its digits as a string
    as in ``results.json``) to the number of entities with that length; ``new_tokens[label]`` is
    the number of new tokens of the strategy. Either mapping may be empty (its panel then says
    so), not both. Colours follow the labels' first appearance (histograms, then new tokens).
    One bar per (length, strategy) with entities on the left, one per strategy on the right.
    """
    histograms = {
        label: _histogram(_checks.where("length_histograms", label), value)
        for label, value in _checks.mapping(
            "length_histograms", length_histograms, allow_empty=True
        ).items()
    }
    counts = {
        label: _checks.integer(_checks.where("new_tokens", label), value, minimum=0)
        for label, value in _checks.mapping("new_tokens", new_tokens, allow_empty=True).items()
    }
    if not histograms and not counts:
        raise ConfigError("length_histograms", "at least one strategy (here or in new_tokens)", {})
    lengths = sorted({length for h in histograms.values() for length in h})
    cells: dict[tuple[str, str], Cell] = {
        (str(length), label): (float(count), None, None)
        for label, histogram in histograms.items()
        for length, count in histogram.items()
        if count > 0
    }

    with theme():
        palette = colors([*histograms, *counts])
        fig, (left, right) = new_figure(1, 2, panel_width=4.4, panel_height=3.6)
        if cells:
            grouped_bars(
                left, [str(length) for length in lengths], list(histograms), cells, palette
            )
        else:
            note(left, "no ID lengths")
            left.set_xticks([])
        left.set_title("ID length")
        left.set_xlabel("tokens per ID")
        left.set_ylabel("entities")

        if counts:
            labels = list(counts)
            bars = right.bar(
                range(len(labels)),
                [counts[label] for label in labels],
                color=[palette[label] for label in labels],
            )
            # Counts are written above the bars; a zero has no bar (and none at all on a log
            # axis), so its "0" sits on the x axis instead.
            right.bar_label(
                bars,
                labels=[str(counts[label]) if counts[label] else "" for label in labels],
                fontsize=7,
            )
            for index, label in enumerate(labels):
                if counts[label] == 0:
                    right.text(
                        index,
                        0.01,
                        "0",
                        transform=right.get_xaxis_transform(),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                    )
            right.set_xticks(range(len(labels)), [plain(label) for label in labels])
            positive = [c for c in counts.values() if c > 0]
            if positive and max(positive) > LOG_RANGE * min(positive):
                right.set_yscale("log")
                right.set_ylabel("new tokens (log scale)")
            else:
                right.set_ylabel("new tokens")
            right.grid(False, axis="x")
            right.margins(y=0.12)
        else:
            note(right, "no new-token counts")
            right.set_xticks([])
        right.set_title("new (out-of-vocabulary) tokens")
    return finish(fig)
