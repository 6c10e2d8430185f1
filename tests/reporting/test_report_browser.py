"""The report in a real browser (headless Chromium): every image decodes, nothing is fetched from
the network, and the page logs no error (a CSP violation or a broken data URI would)."""

from __future__ import annotations

import pytest
from browser import BrowserUnavailable, ensure_chromium

from idprobe.reporting import render_report

pytestmark = pytest.mark.slow

IMAGES = """return Array.from(document.images).map(
    (img) => ({alt: img.alt, complete: img.complete, width: img.naturalWidth}));"""
EXTERNAL = """return Array.from(document.querySelectorAll('[src], [href]'))
    .map((el) => el.getAttribute('src') || el.getAttribute('href'))
    .filter((url) => /^\\s*(https?:)?\\/\\//i.test(url)).length;"""
FETCHED = """return performance.getEntriesByType('resource').map((entry) => entry.name)
    .filter((url) => !url.startsWith('data:'));"""


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """A headless Chromium WebDriver (installed with apt-get when missing and possible)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        pytest.skip(f"headless Chromium unavailable: selenium cannot be imported ({exc})")
    try:
        binary, driver_path, _ = ensure_chromium()
    except BrowserUnavailable as exc:
        pytest.skip(f"headless Chromium unavailable: {exc}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(driver_path)))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_report_renders_in_chromium(chromium, run_dir, sample):
    path = render_report(run_dir)
    chromium.get(path.resolve().as_uri())

    assert chromium.title == f"{sample['title']} — idprobe report"
    images = chromium.execute_script(IMAGES)
    assert [image["alt"] for image in images] == [f["title"] for f in sample["figures"]]
    for image in images:
        assert image["complete"] and image["width"] > 0, f"image did not load: {image}"
    assert chromium.execute_script(EXTERNAL) == 0, "an element points at an external URL"
    assert chromium.execute_script(FETCHED) == [], "the page fetched something"

    severe = [entry for entry in chromium.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"


def test_escaped_report_runs_no_script(chromium, make_run, sample):
    """A label that is a script tag shows as text; a console error would reveal it ran."""
    xss = "<script>console.error('xss')</script><img src=x onerror=\"console.error('xss')\">"
    sample["title"] = xss
    sample["variants"][0]["label"] = xss
    sample["figures"][1]["caption"] = xss
    path = render_report(make_run(sample, name="xss"))
    chromium.get(path.resolve().as_uri())
    assert chromium.title == f"{xss} — idprobe report", "the title is the literal text"
    assert chromium.execute_script("return document.scripts.length;") == 0
    assert len(chromium.execute_script(IMAGES)) == len(sample["figures"])
    severe = [entry for entry in chromium.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"


def test_report_with_baselines_renders_in_chromium(chromium, make_run, with_baselines):
    path = render_report(make_run(with_baselines, name="baselines"))
    chromium.get(path.resolve().as_uri())
    tags = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#results .tag')).map((t) => t.textContent);"
    )
    assert tags == ["baseline", "baseline"]
    headings = chromium.execute_script(
        "return Array.from(document.querySelectorAll('#baselines h3')).map((h) => h.textContent);"
    )
    assert headings == ["sasrec baseline", "pop baseline"]
    assert chromium.execute_script(FETCHED) == [], "the page fetched something"
    severe = [entry for entry in chromium.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"
