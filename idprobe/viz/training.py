"""How training went: the loss per optimizer step and the validation score per epoch.

Left panel: training loss against epochs (step ``i``, counted from 1, sits at
``i / steps_per_epoch``), raw in a faint line and smoothed by a trailing moving average
(``numeric.moving_average``) over ``window`` steps, by default ``max(1, steps_per_epoch // 10)``
(a tenth of an epoch); runs longer than 2,000 steps are drawn at every k-th step, after
smoothing, to keep the SVG small. Right panel: the validation score after each epoch, with a star on the
best epoch when it is known. A loss still falling at the last epoch means more epochs may help;
a validation score that peaks and falls means overfitting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from idprobe.errors import ConfigError
from idprobe.viz import _checks
from idprobe.viz._style import colors, corner_note, finish, new_figure, note, plain, theme
from idprobe.viz.numeric import moving_average

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["training_curves"]

# At most this many points per drawn loss line: a 100k-step run would otherwise write 100k
# vertices per line into the SVG. Longer runs are drawn at every k-th step (after smoothing).
MAX_LINE_POINTS = 2000

# Keys of results.json's "training" block that may come along; they are not drawn, except
# best_epoch (the star). Anything else is refused as a likely typo.
_IGNORED_KEYS = ("seconds", "epochs", "best_score", "examples")


def default_window(steps_per_epoch: int) -> int:
    """The default smoothing window: a tenth of an epoch, at least one step."""
    return max(1, steps_per_epoch // 10)


def _curve(name: str, value: Any) -> dict[str, Any]:
    fields = _checks.keys(
        name,
        value,
        ("losses", "steps_per_epoch", "scores"),
        ("score_name", "best_epoch", *_IGNORED_KEYS),
    )
    losses = _checks.sequence(f"{name}.losses", fields["losses"])
    loss_values = np.array(
        [
            np.nan if loss is None else _finite_or_nan(f"{name}.losses[{i}]", loss)
            for i, loss in enumerate(losses)
        ],
        dtype=np.float64,
    )
    steps = _checks.integer(f"{name}.steps_per_epoch", fields["steps_per_epoch"], minimum=1)
    scores = [
        _checks.number(f"{name}.scores[{i}]", score, allow_none=True)
        for i, score in enumerate(_checks.sequence(f"{name}.scores", fields["scores"]))
    ]
    score_name = fields.get("score_name")
    if score_name is not None:
        _checks.text(f"{name}.score_name", score_name)
    best = fields.get("best_epoch")
    if best is not None:
        best = _checks.integer(f"{name}.best_epoch", best, minimum=1)
    return {
        "losses": loss_values,
        "steps": steps,
        "scores": scores,
        "score_name": score_name,
        "best": best,
    }


def _thinned(count: int) -> np.ndarray:
    """Indices of every k-th of ``count`` points (and the last), at most ``MAX_LINE_POINTS``."""
    stride = -(-count // MAX_LINE_POINTS)
    keep = np.arange(0, count, stride)
    if keep.shape[0] and keep[-1] != count - 1:
        keep = np.append(keep, count - 1)
    return keep


def _finite_or_nan(name: str, value: Any) -> float:
    # A diverged run logs NaN or inf losses: a fact to show (as a gap), not a bad argument.
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return float("nan")
    result = _checks.number(name, value)
    assert result is not None
    return result


def training_curves(
    curves: Mapping[str, Mapping[str, Any]], *, window: int | None = None
) -> Figure:
    """Training loss (left) and validation score (right) of each label, against epochs.

    ``curves[label]`` has ``losses`` (one per optimizer step; ``None``/NaN/inf entries are
    left out and counted in a note), ``steps_per_epoch`` (int >= 1), ``scores`` (one per
    epoch, ``None`` where not computed) and optionally ``score_name`` (the y label, e.g.
    ``"ndcg@10"``) and ``best_epoch`` (1-based, starred). results.json's ``training`` block can
    be passed as it is. ``window`` overrides the smoothing window (module doc). The left panel
    holds two lines per label (raw, smoothed); the right one line per label, or a note when no
    label has any score.
    """
    entries = _checks.mapping("curves", curves)
    parsed = {
        label: _curve(_checks.where("curves", label), value) for label, value in entries.items()
    }
    if window is not None:
        window = _checks.integer("window", window, minimum=1)
    for label, curve in parsed.items():
        if curve["best"] is not None and curve["best"] > len(curve["scores"]):
            raise ConfigError(
                f"{_checks.where('curves', label)}.best_epoch",
                f"an epoch <= {len(curve['scores'])} (the number of scores)",
                curve["best"],
            )
    windows = {
        label: window if window is not None else default_window(curve["steps"])
        for label, curve in parsed.items()
    }

    with theme():
        from matplotlib.lines import Line2D

        palette = colors(list(parsed))
        fig, (left, right) = new_figure(1, 2, panel_width=4.6, panel_height=3.6)
        dropped = 0
        for label, curve in parsed.items():
            losses = curve["losses"]
            steps = np.arange(1, losses.shape[0] + 1) / curve["steps"]
            finite = np.isfinite(losses)
            dropped += int((~finite).sum())
            if not finite.any():
                continue
            xs, ys = steps[finite], losses[finite]
            smooth = moving_average(ys, windows[label])
            keep = _thinned(xs.shape[0])
            left.plot(xs[keep], ys[keep], color=palette[label], alpha=0.25, linewidth=0.6)
            left.plot(xs[keep], smooth[keep], color=palette[label])
        if not any(np.isfinite(c["losses"]).any() for c in parsed.values()):
            note(left, "no losses recorded")
        if dropped:
            corner_note(left, f"{dropped} non-finite or missing losses not shown")
        distinct = set(windows.values())
        smoothing = (
            f"trailing mean of {distinct.pop()} steps"
            if len(distinct) == 1
            else "trailing mean of a tenth of an epoch"
        )
        left.set_title(f"training loss ({smoothing})")
        left.set_xlabel("epoch")
        left.set_ylabel("loss")

        any_score = False
        for label, curve in parsed.items():
            scores = curve["scores"]
            if all(score is None for score in scores):
                continue
            any_score = True
            epochs = np.arange(1, len(scores) + 1)
            ys = np.array([np.nan if s is None else s for s in scores], dtype=np.float64)
            right.plot(epochs, ys, marker="o", markersize=4, color=palette[label])
            best = curve["best"]
            if best is not None and scores[best - 1] is not None:
                right.scatter(
                    [best], [scores[best - 1]], marker="*", s=120, color=palette[label], zorder=3
                )
        if any_score:
            right.xaxis.get_major_locator().set_params(integer=True)
        else:
            note(right, "no validation scores")
        names = {c["score_name"] for c in parsed.values() if c["score_name"] is not None}
        score_label = plain(names.pop(), limit=None) if len(names) == 1 else "validation score"
        right.set_title("validation score per epoch")
        right.set_xlabel("epoch")
        right.set_ylabel(score_label)
        handles = [Line2D([], [], color=palette[label]) for label in parsed]
        left.legend(handles, [plain(label) for label in parsed], loc="best")
    return finish(fig)
