"""A real browser: JupyterLab in headless Chromium runs a lesson through the UI (make test-browser).

The test starts `make lab` on loopback with a token, opens lesson 00 in Debian's Chromium driven by
Playwright (the system executable: browsers cannot be downloaded here), runs all cells from the Run
menu, waits for the kernel to go idle, checks that no cell shows an error or stderr output, checks
that the Dask sidebar panel (dask-labextension) is there, and saves screenshots under
test-artifacts/browser/.
"""

import os
import shutil
import time
from pathlib import Path

import pytest

from tools.bilingual import ROOT

LESSON = "notebooks/en/00_introduction.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that keep Chromium from calling out to a network it cannot reach (and from sandboxing as
# root in a container).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser test: install Debian's chromium package")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def page(lab_server):
    from playwright.sync_api import sync_playwright

    base, token, _ = lab_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _start_session(base, token, LESSON)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/lab/tree/{LESSON}?token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        _wait_for_kernel_idle(page, timeout_s=90)
        yield page
        browser.close()


def _start_session(base: str, token: str, path: str) -> None:
    """Start the notebook's kernel session through the server's REST API before the page opens.

    JupyterLab 4 then attaches the notebook to this session. Left to start its own, it sometimes
    opens a "Select Kernel" dialog in the middle of Run All (a race with loading the kernel
    specs), and the remaining cells never run.
    """
    import json
    import urllib.request

    body = json.dumps({"path": path, "name": Path(path).name, "type": "notebook",
                       "kernel": {"name": "python3"}}).encode()
    request = urllib.request.Request(f"{base}/api/sessions", data=body, method="POST",
                                     headers={"Authorization": f"token {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201, response.status


def _kernel_status(page) -> str:
    indicator = page.query_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator")
    return indicator.get_attribute("data-status") if indicator else "unknown"


def _wait_for_kernel_idle(page, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _kernel_status(page) != "idle":
        assert time.monotonic() < deadline, f"kernel still {_kernel_status(page)}"
        time.sleep(0.5)


def _accept_kernel_dialog(page) -> None:
    """Under load JupyterLab may ask which kernel to start: accept its default (Python 3)."""
    dialog = page.query_selector(".jp-Dialog")
    if dialog and "Select Kernel" in dialog.inner_text():
        page.click(".jp-Dialog .jp-mod-accept")
        _wait_for_kernel_idle(page, timeout_s=90)


def _prompts(page) -> list[str]:
    return [p.inner_text().strip() for p in page.query_selector_all(".jp-CodeCell .jp-InputPrompt")]


def _run_all_cells(page) -> None:
    _accept_kernel_dialog(page)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()


def test_run_all_cells_through_the_ui(page):
    _run_all_cells(page)
    deadline = time.monotonic() + 180
    while True:
        time.sleep(1)
        prompts = _prompts(page)
        done = prompts and all(p.startswith("[") and p[1:-2].isdigit() for p in prompts)
        if done and _kernel_status(page) == "idle":
            break
        # JupyterLab 4 may open "Select Kernel" after Run All (it lost the kernel it had just
        # started, under load): nothing has run then, so accept the default and run all again.
        dialog = page.query_selector(".jp-Dialog")
        if dialog and "Select Kernel" in dialog.inner_text():
            assert all(p == "[ ]:" for p in prompts), prompts
            _run_all_cells(page)
        if time.monotonic() > deadline:
            page.screenshot(path=str(ARTIFACTS / "run_all_failed.png"))
            raise AssertionError(f"cells did not finish: {prompts}; screenshot in {ARTIFACTS}")
    errors = page.query_selector_all(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors == [], [e.inner_text()[:3000] for e in errors]
    # JupyterLab 4.6 sometimes opens a "Select Kernel" dialog once the run ends; it does not
    # affect the outputs checked here, so close it before the screenshot.
    page.keyboard.press("Escape")
    page.locator(".jp-CodeCell").last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "lesson00_run_all.png"))
    # The lesson's own assertions ran in the kernel; its final cell printed the closed client.
    body = page.inner_text(".jp-NotebookPanel")
    assert "Dask and NumPy agree on 4000 column means" in body
    assert "client status: closed" in body


def test_dask_panel_is_present(page):
    _accept_kernel_dialog(page)
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[title="Dask"]')
    assert tab.count() == 1
    tab.click()
    url_box = page.get_by_placeholder("Dask dashboard URL")
    url_box.wait_for(timeout=30_000)
    assert page.locator(".dask-DaskClusterManager").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dask_panel.png"))
