"""Figures of the representation scores: DS against MS (paper Fig. 2b), DS + MS against ranking
quality (Fig. 4), and the convergence of the sampled DS (Fig. 6).

DS (Diversity Score) says how different the ID representations of distinct items are; MS
(Memorization Score) how well they reflect which items go together. Both higher is better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from idprobe.errors import ConfigError, verbatim
from idprobe.viz import _checks
from idprobe.viz._style import colors, corner_note, finish, new_figure, note, plain, theme
from idprobe.viz.numeric import pearson_r

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ds_convergence_plot", "ds_ms_scatter", "score_correlation"]

DS_LABEL = "Diversity Score (DS)"
MS_LABEL = "Memorization Score (MS)"
_SCORE_KEYS = ("ds", "ms")
# "ground_truth" is accepted so that results.json's representation entries can be passed as
# they are; it names the similarity MS was measured against and goes into the axis label.
_OPTIONAL_SCORE_KEYS = ("ds_stderr", "ground_truth")


def _scores(parameter: str, value: Any) -> dict[str, Any]:
    fields = _checks.keys(parameter, value, _SCORE_KEYS, _OPTIONAL_SCORE_KEYS)
    result: dict[str, Any] = {
        key: _checks.number(f"{parameter}.{key}", fields.get(key), allow_none=True)
        for key in ("ds", "ms", "ds_stderr")
    }
    if result["ds_stderr"] is not None and result["ds_stderr"] < 0:
        raise ConfigError(f"{parameter}.ds_stderr", "a number >= 0 or None", fields["ds_stderr"])
    truth = fields.get("ground_truth")
    if truth is not None:
        _checks.text(f"{parameter}.ground_truth", truth)
    result["ground_truth"] = truth
    return result


def ds_ms_scatter(
    points: Mapping[str, Mapping[str, float | None]],
    initial: Mapping[str, Mapping[str, float | None]] | None = None,
) -> Figure:
    """Paper Fig. 2b: each strategy as a point at (DS, MS); up and right is better.

    ``points[label]`` has keys ``ds``, ``ms`` (numbers or ``None``) and optionally
    ``ds_stderr`` (drawn as a horizontal error bar) and ``ground_truth`` (named in the MS axis
    label when all strategies share it). A label whose DS or MS is ``None`` is not drawn; the
    panel says which. ``initial`` gives the same scores before training for some of the labels:
    each is drawn as a hollow marker with an arrow to the trained point, showing what training
    did to the representations. ``ax.collections[0]`` is the scatter of the trained points in
    input order; the hollow markers are ``ax.collections[1]``.
    """
    entries = _checks.mapping("points", points)
    trained = {
        label: _scores(_checks.where("points", label), value) for label, value in entries.items()
    }
    before: dict[str, dict[str, Any]] = {}
    if initial is not None:
        for label, value in _checks.mapping("initial", initial, allow_empty=True).items():
            if label not in trained:
                raise ConfigError("initial", "labels that are also in points", label)
            before[label] = _scores(_checks.where("initial", label), value)
    drawn = [label for label, s in trained.items() if s["ds"] is not None and s["ms"] is not None]
    skipped = [label for label in trained if label not in drawn]
    starts = [
        label
        for label in drawn
        if label in before and before[label]["ds"] is not None and before[label]["ms"] is not None
    ]

    with theme():
        palette = colors(list(trained))
        fig, (ax,) = new_figure(1, 1, panel_width=5.0, panel_height=4.0)
        if drawn:
            xs = [trained[label]["ds"] for label in drawn]
            ys = [trained[label]["ms"] for label in drawn]
            ax.scatter(xs, ys, s=50, c=[palette[label] for label in drawn], zorder=3)
            for label in drawn:
                _label_point(ax, label, trained[label]["ds"], trained[label]["ms"])
        if starts:
            ax.scatter(
                [before[label]["ds"] for label in starts],
                [before[label]["ms"] for label in starts],
                s=50,
                facecolors="none",
                edgecolors=[palette[label] for label in starts],
                zorder=3,
            )
            for label in starts:
                ax.annotate(
                    "",
                    xy=(trained[label]["ds"], trained[label]["ms"]),
                    xytext=(before[label]["ds"], before[label]["ms"]),
                    arrowprops={"arrowstyle": "->", "color": palette[label], "lw": 1.0},
                )
        for label in drawn:
            stderr = trained[label]["ds_stderr"]
            if stderr is not None:
                ax.errorbar(
                    trained[label]["ds"],
                    trained[label]["ms"],
                    xerr=stderr,
                    fmt="none",
                    ecolor=palette[label],
                    capsize=3,
                    zorder=2,
                )
        if starts:
            _trained_initial_legend(ax)
        if not drawn:
            note(ax, "no strategy has both DS and MS")
        if skipped:
            corner_note(ax, "not drawn (DS or MS missing): " + ", ".join(plain(s) for s in skipped))
        truths = {s["ground_truth"] for s in trained.values() if s["ground_truth"] is not None}
        ax.set_xlabel(DS_LABEL)
        ax.set_ylabel(
            f"{MS_LABEL[:-1]}, vs {plain(truths.pop())})" if len(truths) == 1 else MS_LABEL
        )
        ax.set_title("Diversity and memorization of ID representations")
    return finish(fig)


def _label_point(ax: Axes, label: str, x: float, y: float) -> None:
    ax.annotate(plain(label), (x, y), xytext=(5, 4), textcoords="offset points", fontsize=8)


def _trained_initial_legend(ax: Axes) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="", color="#555555", markersize=7),
        Line2D([], [], marker="o", linestyle="", color="#555555", markersize=7, fillstyle="none"),
    ]
    ax.legend(handles, ["trained", "initial (before training)"], loc="best")


def score_correlation(
    points: Mapping[str, tuple[float, float]],
    *,
    x_label: str = "DS + MS",
    y_label: str = "NDCG@10",
) -> Figure:
    """Paper Fig. 4: one point per strategy at (x, y), a least-squares line and Pearson's r.

    ``points[label] = (x, y)``, by default x = DS + MS and y = NDCG@10 of the strategy. The
    title gives ``r`` and the number of points ``n``; with fewer than 3 points (none at all is
    allowed), or a constant coordinate, r is undefined and the title says so (and no line is
    drawn). A positive r is
    the paper's finding: representations that are both diverse and memorizing recommend better.
    ``ax.collections[0]`` holds the points in input order.
    """
    # Empty is allowed: a comparison where no strategy has an MS has nothing to correlate,
    # which the title says, rather than failing the whole set of figures.
    entries = _checks.mapping("points", points, allow_empty=True)
    x_label = _checks.text("x_label", x_label)
    y_label = _checks.text("y_label", y_label)
    xs: list[float] = []
    ys: list[float] = []
    for label, value in entries.items():
        name = _checks.where("points", label)
        pair = _checks.sequence(name, value)
        if len(pair) != 2:
            raise ConfigError(name, "a pair (x, y)", value)
        xs.append(_checks.number(name, pair[0]))
        ys.append(_checks.number(name, pair[1]))
    n = len(xs)
    r = pearson_r(xs, ys)

    with theme():
        palette = colors(list(entries))
        fig, (ax,) = new_figure(1, 1, panel_width=5.0, panel_height=4.0)
        if entries:
            ax.scatter(xs, ys, s=50, c=[palette[label] for label in entries], zorder=3)
        for label, x, y in zip(entries, xs, ys, strict=True):
            _label_point(ax, label, x, y)
        if r is not None:
            slope, intercept = np.polyfit(xs, ys, 1)
            line_x = np.array([min(xs), max(xs)])
            ax.plot(line_x, slope * line_x + intercept, linestyle="--", color="#888888", zorder=1)
            ax.set_title(f"Pearson r = {r:.2f} (n = {n})")
        elif n < 3:
            ax.set_title(f"n = {n}: too few points for Pearson r (needs 3)")
        else:
            ax.set_title(f"Pearson r undefined: a constant coordinate (n = {n})")
        ax.set_xlabel(plain(x_label, limit=None))
        ax.set_ylabel(plain(y_label, limit=None))
    return finish(fig)


def _series(parameter: str, value: Any, length: int | None) -> np.ndarray:
    items = _checks.sequence(parameter, value, min_length=1)
    if length is not None and len(items) != length:
        raise ConfigError(parameter, f"{length} values (as pair_counts)", verbatim(str(len(items))))
    return np.array(
        [_checks.number(f"{parameter}[{i}]", item) for i, item in enumerate(items)],
        dtype=np.float64,
    )


def ds_convergence_plot(
    curves: Mapping[str, Mapping[str, Sequence[float] | float]], *, title: str = ""
) -> Figure:
    """Paper Fig. 6: the sampled DS as the number of sampled pairs N grows.

    ``curves[label]`` has ``pair_counts`` (the N values, > 0), ``mean``, ``low`` and ``high``
    (mean over trials and its 95% interval, one per N) and optionally ``exact`` (the DS over
    all pairs, drawn as a dashed line of the same colour). The x axis is logarithmic. Read it
    as: once the error bars are short and the means flat (or on the dashed line), that many
    pairs is enough. One ``ax.containers`` entry (error bars) per label.
    """
    entries = _checks.mapping("curves", curves)
    title = _checks.text("title", title)
    parsed: dict[str, dict[str, Any]] = {}
    for label, value in entries.items():
        name = _checks.where("curves", label)
        fields = _checks.keys(name, value, ("pair_counts", "mean", "low", "high"), ("exact",))
        counts = _series(f"{name}.pair_counts", fields["pair_counts"], None)
        if (counts <= 0).any():
            raise ConfigError(
                f"{name}.pair_counts", "numbers > 0 (log axis)", fields["pair_counts"]
            )
        mean, low, high = (
            _series(f"{name}.{key}", fields[key], counts.shape[0])
            for key in ("mean", "low", "high")
        )
        slack = 1e-9 * np.maximum(1.0, np.abs(mean))
        if not ((low - slack <= mean) & (mean <= high + slack)).all():
            raise ConfigError(name, "low <= mean <= high at every N", verbatim("an interval"))
        exact = _checks.number(f"{name}.exact", fields.get("exact"), allow_none=True)
        parsed[label] = {"counts": counts, "mean": mean, "low": low, "high": high, "exact": exact}

    with theme():
        from matplotlib.lines import Line2D

        palette = colors(list(parsed))
        fig, (ax,) = new_figure(1, 1, panel_width=5.5, panel_height=4.0)
        handles = []
        names = []
        for label, curve in parsed.items():
            mean = curve["mean"]
            ax.errorbar(
                curve["counts"],
                mean,
                yerr=[np.maximum(mean - curve["low"], 0), np.maximum(curve["high"] - mean, 0)],
                marker="o",
                markersize=4,
                capsize=3,
                color=palette[label],
            )
            if curve["exact"] is not None:
                ax.axhline(curve["exact"], linestyle="--", linewidth=1.0, color=palette[label])
            handles.append(Line2D([], [], marker="o", color=palette[label]))
            names.append(plain(label))
        if any(curve["exact"] is not None for curve in parsed.values()):
            handles.append(Line2D([], [], linestyle="--", color="#555555"))
            names.append("exact DS (all pairs)")
        ax.legend(handles, names, loc="best")
        ax.set_xscale("log")
        ax.set_xlabel("sampled pairs N (log scale)")
        ax.set_ylabel(f"{DS_LABEL}, mean and 95% interval")
        if title:
            ax.set_title(plain(title, limit=None))
    return finish(fig)
