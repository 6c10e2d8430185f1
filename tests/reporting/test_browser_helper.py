"""The Chromium installer of the browser test: it explains why it cannot provide a browser."""

from __future__ import annotations

import subprocess

import browser
import pytest


@pytest.fixture
def no_chromium(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "chromedriver")
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    monkeypatch.setattr(browser, "_has_candidates", lambda: True)
    return tmp_path


def test_present_binaries_need_nothing(monkeypatch, tmp_path):
    for name in ("chromium", "chromedriver"):
        (tmp_path / name).touch()
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "chromedriver")
    monkeypatch.setattr(browser, "_apt", lambda *a: pytest.fail("apt-get must not run"))
    assert browser.ensure_chromium() == (tmp_path / "chromium", tmp_path / "chromedriver", 0.0)


def test_no_apt_get(no_chromium, monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    with pytest.raises(
        browser.BrowserUnavailable, match=r"chromium, .*chromedriver missing and no apt-get"
    ):
        browser.ensure_chromium()


def test_not_root(no_chromium, monkeypatch):
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    with pytest.raises(browser.BrowserUnavailable, match="not root"):
        browser.ensure_chromium()


def test_install_failure_retries_after_update(no_chromium, monkeypatch):
    calls = []

    def fake_apt(args, timeout):
        calls.append(args[0])
        return subprocess.CompletedProcess(args, 100, "", "E: Unable to fetch some archives")

    monkeypatch.setattr(browser, "_apt", fake_apt)
    with pytest.raises(browser.BrowserUnavailable, match="apt-get update failed: E: Unable"):
        browser.ensure_chromium()
    assert calls == ["install", "update"]


def test_install_without_binaries(no_chromium, monkeypatch):
    monkeypatch.setattr(browser, "_apt", lambda args, t: subprocess.CompletedProcess(args, 0))
    with pytest.raises(browser.BrowserUnavailable, match=r"left .*chromium.* missing"):
        browser.ensure_chromium()


def test_apt_timeout(monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], 1)

    monkeypatch.setattr(browser.subprocess, "run", slow)
    with pytest.raises(browser.BrowserUnavailable, match="apt-get install -y took over 5 s"):
        browser._apt(["install", "-y"], 5)
