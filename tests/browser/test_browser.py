"""A real browser: JupyterLab in headless Chromium runs a lesson through the UI (make test-browser).

The test starts `make lab` on loopback with a token, opens a copy of lesson 00 in Debian's
Chromium driven by Playwright (the system executable: browsers cannot be downloaded here), runs all
cells from the Run menu, waits for the kernel to go idle, checks that no cell shows an error or
stderr output and that no dialog opened. Then it does what the lesson asks students to do with the
dashboard: it runs the cells up to the lesson's computation again, finds the cluster with the
magnifying glass of the Dask sidebar panel (dask-labextension), opens the Task Stream, Progress and
Workers Memory panes, and runs the computation, which a worker plugin holds halfway
(tools/lab_browser.py): the panes must show that very computation, unfinished. Screenshots go to
test-artifacts/browser/, next to browser-events.log (the page's kernel traffic, the dashboard pages
it loaded, console errors and dialogs, for a failure). The shared launching and driving code is in
tools/lab_browser.py, which images/dashboard_pictures.py uses too.
"""

import io
import re
import shutil

import pytest

from tools import lab_browser
from tools.course import NOTEBOOKS_DIR, ROOT
from tools.lab_browser import DASK_PANES, api_get

LESSON = NOTEBOOKS_DIR / "en" / "00_introduction.ipynb"
#: The cell of lesson 00 that computes while students watch the dashboard.
COMPUTATION = "show_progress(y)"
#: Created in the artifacts folder to let the held computation go on (tools/lab_browser.py:
#: hold_cluster).
RELEASE_FLAG = "release-held-computation"
#: {dashboard page URL: HTTP status}, as the page loaded them.
DASHBOARD_PAGES: dict[str, int] = {}


@pytest.fixture(scope="module")
def page(lab_server, browser_artifacts):
    base, token = lab_server.base, lab_server.token
    # The browser works on a copy: JupyterLab autosaves what it runs, and the committed notebook
    # must keep the outputs nbval compares against.
    lesson_copy = browser_artifacts / LESSON.name
    shutil.copyfile(LESSON, lesson_copy)
    path = lesson_copy.relative_to(ROOT).as_posix()
    with lab_browser.chromium_page(1400, 900) as page:
        lab_browser.log_kernel_traffic(page, browser_artifacts / "browser-events.log",
                                       DASHBOARD_PAGES)
        page.goto(f"{base}/lab?token={token}")
        kernel_id = lab_browser.open_notebook(page, path)
        # Exactly one kernel session for the notebook, and it is the one the page talks to.
        sessions = [s for s in api_get(f"{base}/api/sessions", token) if s["path"] == path]
        assert [s["kernel"]["id"] for s in sessions] == [kernel_id], sessions
        yield page


def test_run_all_cells_through_the_ui(page, browser_artifacts):
    # The exercises' solutions are collapsed, prompt included: expand them, as a student does to
    # read a solution, so that every cell's execution count can be seen.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:show-all-cell-code')")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    lab_browser.wait_until_idle(page, 180, browser_artifacts / "run_all_failed.png",
                                every_cell=True)
    errors = page.query_selector_all(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors == [], [e.inner_text()[:3000] for e in errors]
    # show_progress() drew its widget in the page, and every bar ended green (finished).
    bars = page.locator(".jp-OutputArea-output .widget-hprogress")
    assert bars.count() > 0
    assert page.locator(".widget-hprogress .progress-bar-success").count() == bars.count()
    bars.first.scroll_into_view_if_needed()
    page.screenshot(path=str(browser_artifacts / "lesson00_progress.png"))
    page.locator(".jp-CodeCell").last.scroll_into_view_if_needed()
    page.screenshot(path=str(browser_artifacts / "lesson00_run_all.png"))
    # The lesson's own assertions ran in the kernel; its final cell printed the closed client.
    body = page.inner_text(".jp-NotebookPanel")
    assert "Dask and NumPy agree on 4000 column means" in body
    assert "client status: closed" in body


def _coloured_share(png: bytes) -> float:
    """The share of pixels of ``png`` that have a clear colour (not white, grey or black)."""
    import numpy as np
    from PIL import Image

    hsv = np.asarray(Image.open(io.BytesIO(png)).convert("HSV"))
    return float(((hsv[..., 1] > 80) & (hsv[..., 2] > 60)).mean())


def test_dask_panes_show_the_lesson_computation_halfway(page, browser_artifacts):
    """The student's way: the cells up to the computation, the Dask tab's magnifying glass, the
    panes, then the computation; held halfway, the panes must show it, unfinished."""
    computation = lab_browser.code_cell_index(page, COMPUTATION)
    lab_browser.run_cells(page, "notebook:run-all-above", computation)
    lab_browser.wait_until_idle(page, 120, browser_artifacts / "run_above_failed.png")
    # The cell that starts the cluster printed its dashboard link; the panel finds the same one.
    links = re.findall(r"Dashboard: (http\S+)", page.inner_text(".jp-NotebookPanel"))
    assert len(links) == 1, links
    dashboard = links[0].removesuffix("status")
    assert lab_browser.connect_dask_panel(page) == dashboard
    assert {"Task Stream", "Progress", "Workers Memory"} <= set(
        lab_browser.dask_pane_buttons(page))
    page.screenshot(path=str(browser_artifacts / "dask_panel.png"))
    panes = lab_browser.open_dask_panes(page)
    assert panes == {route: dashboard + route for route in DASK_PANES}

    held = lab_browser.hold_cluster(page, browser_artifacts / RELEASE_FLAG)
    assert held["dashboard"].removesuffix("status") == dashboard
    try:
        lab_browser.run_cells(page, "notebook:run-cell", computation)
        shown = lab_browser.wait_for_held_panes(page, held)
        page.screenshot(path=str(browser_artifacts / "dask_dashboard.png"))
        task_stream = lab_browser.pane_screenshot(page, "individual-task-stream")
        running = page.locator(".jp-NotebookPanel .jp-Cell").nth(computation)
        prompt = running.locator(".jp-InputPrompt").inner_text().strip()
        unfinished_bars = running.locator(
            ".widget-hprogress:not(:has(.progress-bar-success))").count()
    finally:
        lab_browser.release_cluster(page, browser_artifacts / RELEASE_FLAG)
    # Every pane's page came from the lesson's dashboard, and loaded.
    assert {url: DASHBOARD_PAGES.get(url) for url in panes.values()} == {
        url: 200 for url in panes.values()}, DASHBOARD_PAGES
    progress = shown.get("individual-progress", {})
    stream = shown.get("individual-task-stream", {})
    memory = shown.get("individual-workers-memory", {})
    # Progress: one bar per task prefix of the lesson's graph, partly done.
    assert set(progress) == set(held["prefixes"]), (progress, held)
    done, total = (sum(column) for column in zip(*progress.values(), strict=True))
    assert total == held["tasks"] and 0 < done < total, progress
    # Task Stream: rectangles for the lesson's tasks, drawn in colour on the pane.
    assert sum(stream.get(prefix, 0) for prefix in held["prefixes"]) >= held["share"], stream
    assert _coloured_share(task_stream) > 0.01, "the Task Stream pane shows no coloured tasks"
    # Workers Memory: every worker, holding the blocks computed so far.
    assert len(memory) == held["workers"] and all(memory.values()), memory
    # The computation was captured while it ran: the cell was still running, its bars unfinished.
    assert prompt == "[*]:" and unfinished_bars > 0, (prompt, unfinished_bars)

    # Released, the lesson's computation finishes; the lesson's last cell closes the cluster.
    lab_browser.wait_until_idle(page, 120, browser_artifacts / "release_failed.png")
    bars = page.locator(".jp-NotebookPanel .jp-Cell").nth(computation).locator(".widget-hprogress")
    assert bars.count() > 0
    assert bars.locator(".progress-bar-success").count() == bars.count()
    lab_browser.run_cells(page, "notebook:run-cell",
                          lab_browser.code_cell_index(page, "close_client()"))
    lab_browser.wait_until_idle(page, 60, browser_artifacts / "close_failed.png")
    assert "client status: closed" in page.inner_text(".jp-NotebookPanel")
