"""A real browser: JupyterLab in headless Chromium runs a lesson through the UI (make test-browser).

The test starts `make lab` on loopback with a token, opens a copy of lesson 00 in Debian's
Chromium driven by Playwright (the system executable: browsers cannot be downloaded here), runs all
cells from the Run menu, waits for the kernel to go idle, checks that no cell shows an error or
stderr output and that no dialog opened, checks that the Dask sidebar panel (dask-labextension) is
there, and saves screenshots under test-artifacts/browser/, next to browser-events.log (the page's
kernel traffic, console errors and dialogs, for a failure).
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import api_get

from tools.bilingual import ROOT

LESSON = ROOT / "notebooks" / "en" / "00_introduction.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# The browser works on a copy: JupyterLab autosaves what it runs, and the committed notebook must
# keep the outputs nbval compares against.
LESSON_COPY = ARTIFACTS / LESSON.name
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
    shutil.copyfile(LESSON, LESSON_COPY)
    path = LESSON_COPY.relative_to(ROOT).as_posix()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        _log_kernel_traffic(page, ARTIFACTS / "browser-events.log")
        page.goto(f"{base}/lab?token={token}")
        kernel_id = _open_notebook(page, path)
        # Exactly one kernel session for the notebook, and it is the one the page talks to.
        sessions = [s for s in api_get(f"{base}/api/sessions", token) if s["path"] == path]
        assert [s["kernel"]["id"] for s in sessions] == [kernel_id], sessions
        yield page
        browser.close()


def _open_notebook(page, path: str) -> str:
    """Open ``path`` once JupyterLab has loaded its kernel specs; return the id of its kernel.

    Opened while the page is still loading (from a /lab/tree/<path> URL), JupyterLab 4.6 may try
    to start the notebook's kernel before it knows the kernel specs: it then shows a "Select
    Kernel" dialog and can end up with two kernels, one of them dead, so that Run All stops
    after the first cell. A student's page is open long before, so the test waits like one.
    The server exposes the app to the page (``--LabApp.expose_app_in_browser``) for this.
    """
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
    return page.evaluate("""async (path) => {
        const app = window.jupyterapp;
        await app.restored;
        await app.serviceManager.ready;
        await app.serviceManager.kernelspecs.ready;
        await app.serviceManager.sessions.ready;
        const panel = await app.commands.execute('docmanager:open', {path});
        await panel.context.ready;
        await panel.sessionContext.ready;
        const kernel = panel.sessionContext.session.kernel;
        const deadline = Date.now() + 90000;
        while (kernel.status !== 'idle' || kernel.connectionStatus !== 'connected') {
            if (Date.now() > deadline) {
                throw new Error(`kernel ${kernel.status}, ${kernel.connectionStatus} after 90 s`);
            }
            await new Promise(resolve => setTimeout(resolve, 100));
        }
        return kernel.id;
    }""", path)


def _log_kernel_traffic(page, log_path: Path) -> None:
    """Write the page's session/kernel requests, console errors and dialogs to ``log_path``.

    A failure in the browser is hard to see from outside; this is its timeline.
    """
    log = log_path.open("w", buffering=1)
    start = time.monotonic()

    def write(kind: str, text: str) -> None:
        log.write(f"{time.monotonic() - start:7.2f} {kind:8} {text}\n")

    def on_response(response) -> None:
        if "/api/sessions" in response.url or "/api/kernels" in response.url:
            url = response.url.split("?")[0]
            write("http", f"{response.request.method} {url} {response.status}")

    page.on("response", on_response)
    page.on("console", lambda m: m.type in ("error", "warning") and write(m.type, m.text[:500]))
    page.on("websocket", lambda ws: write("ws-open", ws.url.split("?")[0]))
    page.expose_function("__logDialog", lambda text: write("dialog", text[:300]))
    page.add_init_script("""
        new MutationObserver(() => {
            for (const d of document.querySelectorAll('.jp-Dialog:not([data-logged])')) {
                d.setAttribute('data-logged', '1');
                window.__logDialog(d.innerText.replace(/\\s+/g, ' '));
            }
        }).observe(document, {childList: true, subtree: true});
    """)


def _kernel_status(page) -> str:
    indicator = page.query_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator")
    return indicator.get_attribute("data-status") if indicator else "unknown"


def _prompts(page) -> list[str]:
    return [p.inner_text().strip() for p in page.query_selector_all(".jp-CodeCell .jp-InputPrompt")]


def test_run_all_cells_through_the_ui(page):
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    deadline = time.monotonic() + 180
    while True:
        time.sleep(1)
        prompts = _prompts(page)
        done = prompts and all(p.startswith("[") and p[1:-2].isdigit() for p in prompts)
        if done and _kernel_status(page) == "idle":
            break
        dialog = page.query_selector(".jp-Dialog")
        if dialog or time.monotonic() > deadline:
            page.screenshot(path=str(ARTIFACTS / "run_all_failed.png"))
            shown = f"; dialog: {dialog.inner_text()!r}" if dialog else ""
            raise AssertionError(f"cells did not finish: {prompts}{shown}; see {ARTIFACTS}")
    errors = page.query_selector_all(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors == [], [e.inner_text()[:3000] for e in errors]
    # show_progress() drew its widget in the page, and every bar ended green (finished).
    bars = page.locator(".jp-OutputArea-output .widget-hprogress")
    assert bars.count() > 0
    assert page.locator(".widget-hprogress .progress-bar-success").count() == bars.count()
    bars.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "lesson00_progress.png"))
    page.locator(".jp-CodeCell").last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "lesson00_run_all.png"))
    # The lesson's own assertions ran in the kernel; its final cell printed the closed client.
    body = page.inner_text(".jp-NotebookPanel")
    assert "Dask and NumPy agree on 4000 column means" in body
    assert "client status: closed" in body


def test_dask_panel_is_present(page):
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[title="Dask"]')
    assert tab.count() == 1
    tab.click()
    url_box = page.get_by_placeholder("Dask dashboard URL")
    url_box.wait_for(timeout=30_000)
    assert page.locator(".dask-DaskClusterManager").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dask_panel.png"))
