"""Browser tests: Debian's Chromium, driven by Playwright (tools/lab_browser.py).

Without Chromium every test here is skipped, except under CI, which must run them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.course import ROOT
from tools.lab_browser import CHROMIUM


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """The Chromium executable the tests drive."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the browser test: install Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_artifacts() -> Path:
    """test-artifacts/browser/: the JupyterLab tests' screenshots and logs, for a failure."""
    folder = ROOT / "test-artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
