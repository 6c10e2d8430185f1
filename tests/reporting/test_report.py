"""The HTML report: self-contained, escaped, deterministic, and it says what the numbers are."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from idprobe.errors import ConfigError
from idprobe.reporting import render_report, report_html
from idprobe.reporting.formatting import (
    fmt_histogram,
    fmt_int,
    fmt_interval,
    fmt_metric,
    fmt_p,
    fmt_value,
    p_phrase,
)
from idprobe.reporting.render import TEMPLATES
from idprobe.results import ComparisonResult

XSS = '<script>alert(1)</script> "quotes" & ampersands'
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quotes&#34; &amp; ampersands"
PROVENANCE = re.compile(r"<!-- provenance -->.*?<!-- /provenance -->", re.DOTALL)


def _render(directory: Path) -> str:
    return render_report(directory).read_text(encoding="utf-8")


def _row(html: str, label: str, caption: str) -> str:
    """The <tr> of ``label`` in the table with this caption."""
    table = html[html.index(f"<caption>{caption}</caption>") :]
    table = table[: table.index("</table>")]
    start = table.index(f'<th scope="row">{label}</th>')
    return table[start : table.index("</tr>", start)]


def test_render_report_writes_report_html(run_dir):
    path = render_report(run_dir)
    assert path == run_dir / "report.html"
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<title>rid, sid, meta on synthetic — idprobe report</title>" in html
    assert sorted(p.name for p in run_dir.iterdir()) == ["figures", "report.html", "results.json"]


def test_render_report_to_another_output(run_dir, tmp_path):
    target = tmp_path / "elsewhere" / "r.html"
    assert render_report(str(run_dir), output=str(target)) == target
    assert target.exists() and not (run_dir / "report.html").exists()


def test_render_report_without_results_json(tmp_path):
    with pytest.raises(ConfigError, match=r"results\.json: expected .*found no such file"):
        render_report(tmp_path)


def test_sections_in_order(run_dir):
    html = _render(run_dir)
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == [
        "Setup &amp; provenance",
        "Warnings",
        "Results",
        "Representation metrics",
        "Sweeps",
        "ID statistics",
        "Figures",
    ]
    assert (
        '<p class="lead">synthetic: 600 users, 400 items, 7,229 interactions, with ratings' in html
    )
    assert "<details>" in html and "&#34;strategies&#34;: [" in html, "the resolved config, as JSON"


def test_every_figure_is_inlined_as_png_data_uri(run_dir, png_files, sample):
    html = _render(run_dir)
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">', html)
    assert [alt for _, alt in uris] == [f["title"] for f in sample["figures"]]
    assert base64.b64decode(uris[1][0]) == png_files["tsne"]
    assert [base64.b64decode(uri) for uri, _ in uris] == list(png_files.values())
    for figure in sample["figures"]:
        assert f"<figcaption>{figure['caption']}</figcaption>" in html


def test_self_contained(run_dir):
    html = _render(run_dir)
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"https?://", html), "no external URL of any kind"
    assert not re.search(r'(src|href)="(?!data:image/png;base64,|#)', html)
    assert "@import" not in html and "url(" not in html


def test_metric_cells_intervals_and_best(run_dir):
    html = _render(run_dir)
    meta = _row(html, "meta", "sequential")
    assert (
        '<td class="num best"><strong>0.0285</strong> '
        '<span class="mark" title="best in this column">★</span>'
        '<br><span class="ci">[0.0262, 0.0309]</span></td>'
    ) in meta
    assert meta.count("★") == 5, "meta is best on every ranking metric"
    # No interval computed: the value alone.
    assert '<td class="num">0.0498</td>' in _row(html, "meta G=20", "sequential")
    # rmse/mae: lowest is best, so sid (not meta, which has the highest) is marked.
    assert _row(html, "sid", "rating").count("★") == 2
    assert "★" not in _row(html, "meta", "rating")


def test_significance_column(run_dir):
    html = _render(run_dir)
    assert '<th scope="col">vs best (ndcg@10)</th>' in html
    assert '<td class="text">p &lt; 0.0001 vs best</td>' in _row(html, "rid", "sequential")
    assert '<td class="text">p = 0.012 vs best</td>' in _row(html, "sid", "sequential")
    assert "p = 0.42 vs best (n.s.)" in _row(html, "meta G=20", "sequential")
    assert '<td class="text">best</td>' in _row(html, "meta", "sequential")
    assert "vs best" not in html[html.index("<caption>rating</caption>") :].split("</table>")[0]


def test_representation_sweep_and_id_tables(run_dir):
    html = _render(run_dir)
    assert '<td class="num">0.3900 ± 0.0100</td>' in html
    sweep = html[html.index("<caption>OOV token count G (paper Fig. 5a)</caption>") :]
    sweep = sweep[: sweep.index("</table>")]
    assert '<th scope="col">n_clusters</th>' in sweep
    assert '<th scope="row">20</th><td class="text">meta G=20</td>' in sweep
    ids = html[html.index("<h2>ID statistics</h2>") :]
    assert '<td class="num">1,100</td>' in ids, "thousands separators"
    assert "1: 9 · 2: 90 · 3: 301" in ids
    assert "not indexed" in ids, "sid does not index users"
    assert '<td class="num flagged">0.2123 vs 0.0090 (flagged)</td>' in ids


def test_warnings_listed_or_none(run_dir, make_run, sample):
    html = _render(run_dir)
    assert '<strong>rid</strong> <span class="kind">leak</span> 21% of test targets' in html
    assert '<strong>general</strong> <span class="kind">other</span>' in html
    assert "No warnings." not in html
    sample["warnings"] = []
    assert "<p>No warnings.</p>" in _render(make_run(sample, name="clean"))


def test_missing_figure_is_a_notice_and_a_warning(make_run, sample, png_files, caplog):
    out = make_run(sample)
    (out / "figures" / "tsne.png").unlink()
    html = _render(out)
    assert '<p class="missing">figure missing: figures/tsne.png</p>' in html
    assert '<span class="kind">missing_figure</span> figure missing: figures/tsne.png' in html
    assert html.count("data:image/png;base64,") == 2, "the other figures are still there"
    assert "figure missing: figures/tsne.png" in caplog.text


@pytest.mark.parametrize(
    ("png", "problem"),
    [
        ("../secret.png", "figure outside the run directory: ../secret.png"),
        ("figures/fake.png", "figure not a PNG file: figures/fake.png"),
        ("", "figure no PNG listed: fake"),
    ],
)
def test_unusable_figure(make_run, sample, png_files, png, problem):
    sample["figures"] = [{"key": "fake", "title": "Fake", "caption": "", "png": png}]
    out = make_run(sample)
    (out / "figures" / "fake.png").write_text("<svg/>")
    (out.parent / "secret.png").write_bytes(png_files["tsne"])
    html = _render(out)
    assert f'<p class="missing">{problem}</p>' in html
    assert "data:image" not in html


def test_sweep_label_without_variant_warns(make_run, sample):
    sample["sweeps"][0]["labels"][0] = "meta G=5"
    html = _render(make_run(sample))
    assert "sweep oov_tokens lists variant &#39;meta G=5&#39;, which is not in the results" in html


def test_deterministic(run_dir):
    first = _render(run_dir)
    assert _render(run_dir) == first
    result = ComparisonResult.load(run_dir)
    assert report_html(result, run_dir) == first


def test_only_the_provenance_block_depends_on_provenance(make_run, sample):
    one = _render(make_run(sample, name="one"))
    sample["provenance"]["created"] = "2027-01-01T00:00:00+00:00"
    sample["provenance"]["git"] = "0123456+dirty"
    sample["provenance"]["seed"] = 7
    sample["provenance"]["config"]["epochs"] = 30
    two = _render(make_run(sample, name="two"))
    assert one != two
    assert len(PROVENANCE.findall(one)) == 1
    assert PROVENANCE.sub("", one) == PROVENANCE.sub("", two)
    assert "2027-01-01T00:00:00+00:00" in PROVENANCE.search(two).group()


def test_every_string_is_escaped(make_run, sample):
    sample["title"] = XSS
    sample["dataset"]["name"] = XSS
    sample["dataset"]["source"] = XSS
    sample["setup"][XSS] = XSS
    sample["provenance"]["config"]["note"] = XSS
    sample["provenance"]["platform"] = XSS
    sample["variants"][1]["label"] = XSS
    sample["variants"][1]["strategy"] = XSS
    sample["significance"][1]["against"] = XSS
    sample["warnings"].append({"variant": XSS, "kind": XSS, "message": XSS})
    sample["sweeps"][0].update(title=XSS, param=XSS, values=[XSS, 100])
    sample["figures"][0].update(title=XSS, caption=XSS, key=XSS)
    html = _render(make_run(sample))
    assert "<script" not in html
    assert "alert(1)</script>" not in html
    assert XSS_ESCAPED in html
    assert f'alt="{XSS_ESCAPED}"' in html, "quotes cannot end the attribute"
    assert f"<title>{XSS_ESCAPED} — idprobe report</title>" in html
    assert f"<h1>{XSS_ESCAPED}</h1>" in html
    assert f"<figcaption>{XSS_ESCAPED}</figcaption>" in html
    assert f'<th scope="row">{XSS_ESCAPED}</th>' in html, "variant labels in the tables"
    assert "p = 0.012 vs best" in html, "significance found the escaped-label variant"


def test_template_marks_no_data_safe():
    text = (TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text


def test_import_reporting_is_light():
    code = (
        "import sys, idprobe.reporting; "
        "print(sorted({'torch', 'pandas', 'matplotlib', 'jinja2', 'idprobe.training', "
        "'idprobe.experiment', 'idprobe.viz'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.00003, "< 0.0001"),
        (0.0001, "0.0001"),
        (0.0123, "0.012"),
        (0.4187, "0.42"),
        (1.0, "1"),
        (0.05, "0.05"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_fmt_p(value, text):
    assert fmt_p(value) == text


def test_number_formats():
    assert p_phrase(0.00001) == "p < 0.0001" and p_phrase(0.5) == "p = 0.5"
    assert fmt_metric(0.028456) == "0.0285" and fmt_metric(None) == "–" and fmt_metric(True) == "–"
    assert fmt_interval({"value": 0.1, "low": 0.05, "high": 0.15}) == "0.1000 [0.0500, 0.1500]"
    assert fmt_interval({"value": 0.1, "low": None, "high": None}) == "0.1000"
    assert fmt_interval({"value": None, "low": 0.1, "high": 0.2}) == "–"
    assert fmt_interval(None) == "–"
    assert fmt_int(1234567) == "1,234,567" and fmt_int(7229.0) == "7,229" and fmt_int(None) == "–"
    assert fmt_histogram({"10": 2, "2": 400, "3": 1}) == "2: 400 · 3: 1 · 10: 2"
    assert fmt_histogram({}) == "–"
    assert fmt_value(True) == "yes" and fmt_value(False) == "no"
    assert fmt_value(12000) == "12,000" and fmt_value(0.0005) == "0.0005"
    assert fmt_value(["a", 1]) == "a, 1" and fmt_value(None) == "–"
    assert fmt_value({"b": 1, "a": 2}) == json.dumps({"a": 2, "b": 1})


# ------------------------------------------------------------------------------ baselines


def _section(html: str, start: str, end: str = "</section>") -> str:
    part = html[html.index(start) :]
    return part[: part.index(end)]


def _tagged(label: str) -> str:
    return f'<th scope="row">{label} <span class="tag">baseline</span></th>'


def test_baselines_are_tagged_rows_of_the_results_table(make_run, with_baselines):
    html = _render(make_run(with_baselines))
    results = _section(html, '<section id="results">')
    sequential = _section(results, "<caption>sequential</caption>", "</table>")
    assert sequential.count('<span class="tag">baseline</span>') == 2
    sasrec = sequential[sequential.index(_tagged("sasrec")) :].split("</tr>")[0]
    # sasrec has the best hr@10 (0.0602 > meta's 0.0561): a baseline can be the column's best.
    assert "<strong>0.0602</strong>" in sasrec and sasrec.count("★") == 1
    assert '<td class="text">p = 0.61 vs best (n.s.)</td>' in sasrec
    pop = sequential[sequential.index(_tagged("pop")) :].split("</tr>")[0]
    assert '<td class="text">p &lt; 0.0001 vs best</td>' in pop
    assert "a classic sequential model" in results, "the note says what a baseline is"
    # Baselines are evaluated on the sequential task only: no row in the rating table.
    rating = _section(results, "<caption>rating</caption>", "</table>")
    assert "baseline" not in rating


def test_baselines_have_empty_id_and_representation_cells(make_run, with_baselines):
    html = _render(make_run(with_baselines))
    for section in ('<section id="representations">', '<section id="ids">'):
        part = _section(html, section)
        for label in ("sasrec", "pop"):
            row = part[part.index(_tagged(label)) :].split("</tr>")[0]
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            assert cells and set(cells) == {"–"}, (section, label, cells)
        assert "Baselines" in part, "a note says why the cells are empty"


def test_classic_baselines_section(make_run, with_baselines):
    html = _render(make_run(with_baselines))
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings.index("Classic baselines") == headings.index("Results") + 1
    assert '<a href="#baselines">Baselines</a>' in html
    section = _section(html, '<section id="baselines">')
    sasrec = _section(section, '<article class="baseline" id="baseline-sasrec">', "</article>")
    assert "causal self-attention over the history (Kang &amp; McAuley, ICDM 2018)" in sasrec
    assert "<td>baselines/recipes/synthetic/sasrec.toml</td>" in sasrec
    assert "<td>A made-up table for the tests (Table 9)</td>" in sasrec
    assert "<td>12 epochs of at most 30, stopped by early stopping, 8.2 s</td>" in sasrec
    assert "<td>7 (validation ndcg@10 = 0.0311)</td>" in sasrec
    assert "dropout 0.2, hidden_size 64" in sasrec
    # The published numbers beside this run's, metric by metric.
    published = _section(sasrec, "<caption>published vs this run</caption>", "</table>")
    assert [h for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', published)] == [
        "",
        "hr@5",
        "ndcg@5",
        "hr@10",
        "ndcg@10",
    ]
    row = published[published.index('<th scope="row">published</th>') :].split("</tr>")[0]
    assert re.findall(r"<td[^>]*>(.*?)</td>", row) == ["0.0387", "0.0249", "0.0605", "0.0318"]
    ours = published[published.index('<th scope="row">this run</th>') :].split("</tr>")[0]
    assert '0.0602<br><span class="ci">[0.0561, 0.0643]</span>' in ours
    # The recipe's differences: hard-wrapped lines joined, blank lines separate paragraphs.
    assert "<p>Width 64 instead of 50, dropout 0.2 instead of 0.5.</p>" in sasrec
    assert "<p>The published evaluation dropped each user&#39;s earlier items.</p>" in sasrec
    pop = _section(section, '<article class="baseline" id="baseline-pop">', "</article>")
    assert "<td>none: the model&#39;s default settings</td>" in pop
    assert "<td>none (no trainable parameters)</td>" in pop
    assert "published vs this run" not in pop and "Differences" not in pop
    assert '<strong>pop</strong> <span class="kind">no_recipe</span>' in html


def test_published_numbers_of_another_dataset_are_not_shown(make_run, with_baselines):
    with_baselines["variants"][4]["recipe_dataset_matches"] = False
    with_baselines["variants"][4]["recipe"]["dataset"] = "amazon-beauty"
    html = _render(make_run(with_baselines))
    sasrec = _section(html, '<article class="baseline" id="baseline-sasrec">', "</article>")
    assert "published vs this run" not in sasrec
    assert "measured on amazon-beauty, not on this comparison&#39;s dataset" in sasrec


def test_report_without_baselines_has_no_baseline_section(run_dir):
    html = _render(run_dir)
    assert 'id="baselines"' not in html and "Classic baselines" not in html
    assert 'class="tag"' not in html and "Baselines" not in html


def test_baseline_strings_are_escaped(make_run, with_baselines):
    sasrec = with_baselines["variants"][4]
    sasrec["description"] = XSS
    sasrec["recipe"].update(source=XSS, differences=XSS, path=XSS)
    sasrec["settings"]["params"] = {XSS: XSS}
    html = _render(make_run(with_baselines))
    assert "<script" not in html and "alert(1)</script>" not in html
    section = _section(html, '<section id="baselines">')
    assert section.count(XSS_ESCAPED) >= 4


def test_report_with_baselines_is_self_contained_and_deterministic(make_run, with_baselines):
    out = make_run(with_baselines)
    first = _render(out)
    assert _render(out) == first
    assert "<script" not in first and "<link" not in first
    assert not re.search(r"https?://", first)
