"""save_figure: two files, atomic, and byte-identical for identical figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from viz_inputs import config_error, small_builders

from idprobe.viz import save_figure

BUILDERS = small_builders()


def _simple_figure() -> Figure:
    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0])
    ax.set_title("$5_off and $6")  # two dollars: mathtext unless escaped (here it is math)
    return fig


def test_writes_png_and_svg_and_creates_the_folder(tmp_path):
    png, svg = save_figure(_simple_figure(), tmp_path / "deep" / "figures" / "line")
    assert png == tmp_path / "deep" / "figures" / "line.png"
    assert svg == tmp_path / "deep" / "figures" / "line.svg"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in svg.read_bytes()
    assert b"Software" not in png.read_bytes()
    # No temporary files are left behind.
    assert sorted(p.name for p in png.parent.iterdir()) == ["line.png", "line.svg"]


def test_stem_with_a_dot_keeps_it_and_str_stems_work(tmp_path):
    png, svg = save_figure(_simple_figure(), str(tmp_path / "meta G=0.5"))
    assert png.name == "meta G=0.5.png"
    assert svg.name == "meta G=0.5.svg"


def test_dpi_sets_the_png_size(tmp_path):
    from PIL import Image

    small, _ = save_figure(_simple_figure(), tmp_path / "a", dpi=50)
    large, _ = save_figure(_simple_figure(), tmp_path / "b", dpi=100)
    assert Image.open(small).size == (100, 100)
    assert Image.open(large).size == (200, 200)


def test_overwrites_atomically(tmp_path):
    stem = tmp_path / "fig"
    save_figure(_simple_figure(), stem)
    before = os.stat(tmp_path / "fig.png").st_ino
    save_figure(_simple_figure(), stem)
    # os.replace of a new temp file: a new inode, never a file truncated in place.
    assert os.stat(tmp_path / "fig.png").st_ino != before


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_figure_is_byte_identical_when_drawn_and_saved_twice(tmp_path, name):
    first = BUILDERS[name]()
    second = BUILDERS[name]()
    assert isinstance(first, Figure)
    a_png, a_svg = save_figure(first, tmp_path / "a")
    b_png, b_svg = save_figure(second, tmp_path / "b")
    c_png, c_svg = save_figure(first, tmp_path / "c")  # the same figure saved again
    assert a_png.read_bytes() == b_png.read_bytes() == c_png.read_bytes()
    assert a_svg.read_bytes() == b_svg.read_bytes() == c_svg.read_bytes()
    assert b"<dc:date>" not in a_svg.read_bytes()


def test_figures_are_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for build in BUILDERS.values():
        build()
    assert plt.get_fignums() == before


def test_user_rc_params_do_not_change_the_bytes(tmp_path):
    import matplotlib

    plain_png, plain_svg = save_figure(BUILDERS["metric_bars"](), tmp_path / "plain")
    with matplotlib.rc_context({"font.size": 20, "axes.grid": False, "svg.hashsalt": None}):
        styled_png, styled_svg = save_figure(BUILDERS["metric_bars"](), tmp_path / "styled")
    assert plain_png.read_bytes() == styled_png.read_bytes()
    assert plain_svg.read_bytes() == styled_svg.read_bytes()


@pytest.mark.parametrize(
    ("fig", "stem", "dpi", "parameter"),
    [
        ("not a figure", "x", 100, "fig"),
        (None, "x", 100, "fig"),
        ("figure", 3, 100, "stem"),
        ("figure", "", 100, "stem"),
        ("figure", "x", 0, "dpi"),
        ("figure", "x", 72.0, "dpi"),
        ("figure", "x", True, "dpi"),
    ],
)
def test_bad_arguments(tmp_path, fig, stem, dpi, parameter):
    figure = _simple_figure() if fig == "figure" else fig
    target = tmp_path / stem if isinstance(stem, str) and stem else stem
    with config_error(parameter):
        save_figure(figure, target, dpi=dpi)
    assert list(Path(tmp_path).iterdir()) == []
