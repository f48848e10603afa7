"""JupyterLab in headless Chromium, driven by Playwright: what the browser test and the dashboard
pictures (``images/dashboard_pictures.py``) share.

* :func:`lab_server` starts ``make lab`` (``make lab LANG=es`` with :func:`make_lab`, or another
  command) on a free loopback port with a random token, fresh user settings (every cell
  rendered, no news pop-up) and a fresh workspace, and stops it afterwards. tests/conftest.py's
  fixtures are this.
* :func:`chromium_page` opens a page in Debian's Chromium (the system executable: browsers cannot be
  downloaded here); :func:`open_notebook` opens a notebook once the app is ready.
* :func:`connect_dask_panel` and :func:`open_dask_panes` use dask-labextension's sidebar the way
  lesson 00 tells students to: the magnifying glass finds the notebook's cluster, and the Task
  Stream, Progress and Workers Memory panes open next to the notebook.
* :func:`hold_cluster` makes the lesson's own computation stop halfway, without changing it, so
  that the panes can be looked at mid-computation for as long as needed; :func:`release_cluster`
  lets it finish. :func:`dashboard_panes` reads what each pane's Bokeh document shows.

Nothing here imports Playwright until a page is opened.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tools.course import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags that keep Chromium from calling out to a network it cannot reach (and from sandboxing as
#: root in a container).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: User settings of every launch: render every cell (no windowing, so that a test can read all
#: prompts) and no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}
#: The dask-labextension panes lesson 00 talks about, by their dashboard route.
DASK_PANES = ("individual-task-stream", "individual-progress", "individual-workers-memory")
#: The name under which :func:`hold_cluster` registers its worker plugin.
HOLD_PLUGIN = "course-dashboard-hold"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def write_settings(folder: Path, settings: dict[str, dict]) -> None:
    """Write JupyterLab user settings: ``{"@scope/extension/plugin": {setting: value}}``."""
    for plugin, values in settings.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class LabServer(NamedTuple):
    """A running server: its URL, token, port and user settings folder."""

    base: str
    token: str
    port: int
    settings: Path


def make_lab(*make_vars: str) -> Callable[[str], list[str]]:
    """The command of :func:`lab_server` for ``make lab MAKE_VARS LAB_ARGS=<args>`` (what students
    type; ``make_lab("COURSE_LANG=es")`` is ``make lab LANG=es``)."""
    return lambda args: ["make", "--no-print-directory", "lab", *make_vars, f"LAB_ARGS={args}"]


@contextmanager
def lab_server(scratch: Path, log: Path, command: Callable[[str], list[str]] | None = None,
               env: dict[str, str] | None = None,
               settings: dict[str, dict] | None = None) -> Iterator[LabServer]:
    """A Jupyter server on a free loopback port with a random token, stopped afterwards.

    ``command`` turns the server arguments (one string, no spaces inside an argument) into the
    command line; :func:`make_lab` by default. ``scratch`` (an empty folder without spaces) gets
    the launch's own user settings (:data:`LAB_SETTINGS` and ``settings``) and workspace: a layout
    saved by an earlier run would re-open a notebook while the browser opens it, and the two kernel
    sessions would race. ``log`` keeps the server's log. ``env`` defaults to this process's, with
    Jupyter's platform directories.
    """
    port, token = free_port(), secrets.token_hex(16)
    args = f"--no-browser --port={port} --ServerApp.token={token} --ServerApp.port_retries=0"
    if os.geteuid() == 0:  # CI machines run as root; JupyterLab refuses that unless told
        args += " --allow-root"
    user_settings = scratch / "settings"
    write_settings(user_settings, {**LAB_SETTINGS, **(settings or {})})
    (scratch / "workspaces").mkdir(exist_ok=True)
    args += f" --LabApp.user_settings_dir={user_settings}"
    args += f" --LabApp.workspaces_dir={scratch / 'workspaces'}"
    # window.jupyterapp, so that the page can be driven once the app is really ready.
    args += " --LabApp.expose_app_in_browser=True"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        (command or make_lab())(args), cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=log.open("wb"), env=env or {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                api_get(f"{base}/api/status", token)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()[-2000:]) from None
                time.sleep(0.5)
        yield LabServer(base, token, port, user_settings)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)


@contextmanager
def chromium_page(width: int = 1400, height: int = 900):
    """A Playwright page in headless Chromium (:data:`CHROMIUM`), closed afterwards."""
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def open_notebook(page, path: str) -> str:
    """Open ``path`` once JupyterLab has loaded its kernel specs; return the id of its kernel.

    Opened while the page is still loading (from a /lab/tree/<path> URL), JupyterLab 4.6 may try
    to start the notebook's kernel before it knows the kernel specs: it then shows a "Select
    Kernel" dialog and can end up with two kernels, one of them dead, so that Run All stops
    after the first cell. A student's page is open long before, so this waits like one.
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


def log_kernel_traffic(page, log_path: Path,
                       dashboard_pages: dict[str, int] | None = None) -> dict[str, int]:
    """Write the page's session/kernel requests, dashboard pages, console errors and dialogs to
    ``log_path``; return ``dashboard_pages`` (a new dict if not given), which fills with
    ``{dashboard page URL: HTTP status}`` as the page loads them.

    A failure in the browser is hard to see from outside; this is its timeline.
    """
    log = log_path.open("w", buffering=1)
    start = time.monotonic()
    dashboard_pages = {} if dashboard_pages is None else dashboard_pages

    def write(kind: str, text: str) -> None:
        log.write(f"{time.monotonic() - start:7.2f} {kind:8} {text}\n")

    def on_response(response) -> None:
        url = response.url.split("?")[0]
        if "/api/sessions" in url or "/api/kernels" in url:
            write("http", f"{response.request.method} {url} {response.status}")
        elif "/individual-" in url and response.request.resource_type == "document":
            dashboard_pages[url] = response.status
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
    return dashboard_pages


#: The notebook open in the main area, for page scripts (the Dask panes may hold the focus).
_NOTEBOOK = ("Array.from(window.jupyterapp.shell.widgets('main'))"
             ".find(w => w.hasClass('jp-NotebookPanel'))")


def kernel_status(page) -> str:
    """The status of the open notebook's kernel: ``idle``, ``busy``, ... or ``unknown``."""
    return page.evaluate(f"""() => {{
        const panel = {_NOTEBOOK};
        const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
        return kernel ? kernel.status : 'unknown';
    }}""")


def prompts(page) -> list[str]:
    return [p.inner_text().strip() for p in page.query_selector_all(".jp-CodeCell .jp-InputPrompt")]


def wait_until_idle(page, timeout_s: float = 180, shot: Path | None = None,
                    every_cell: bool = False) -> list[str]:
    """Wait until no code cell is queued or running (with ``every_cell``, until every code cell
    shows an execution count) and the kernel is idle; return the prompts. A dialog or the timeout
    fails, with a screenshot in ``shot``."""
    deadline = time.monotonic() + timeout_s
    while True:
        time.sleep(0.5)
        shown = prompts(page)
        counted = [p.startswith("[") and p[1:-2].isdigit() for p in shown]
        done = all(counted) if every_cell else all(c or p == "[ ]:" for c, p in zip(
            counted, shown, strict=True))
        if shown and done and kernel_status(page) == "idle":
            return shown
        dialog = page.query_selector(".jp-Dialog")
        if dialog or time.monotonic() > deadline:
            if shot:
                page.screenshot(path=str(shot))
            reason = f"; dialog: {dialog.inner_text()!r}" if dialog else ""
            raise AssertionError(f"cells did not finish: {shown}{reason}")


def code_cell_index(page, marker: str) -> int:
    """The index, among the notebook's cells, of the first code cell whose source has ``marker``."""
    index = page.evaluate(f"""(marker) => {{
        const notebook = {_NOTEBOOK}.content;
        return notebook.widgets.findIndex(cell => cell.model.type === 'code'
            && cell.model.sharedModel.getSource().includes(marker));
    }}""", marker)
    if index < 0:
        raise LookupError(f"no code cell of the open notebook contains {marker!r}")
    return index


def run_cells(page, command: str, index: int) -> None:
    """Select cell ``index`` and run a notebook command: ``notebook:run-cell`` (that cell) or
    ``notebook:run-all-above`` (every cell above it), as the Run menu does. Returns at once."""
    page.evaluate(f"""([command, index]) => {{
        const app = window.jupyterapp;
        const panel = {_NOTEBOOK};
        app.shell.activateById(panel.id);
        panel.content.activeCellIndex = index;
        panel.content.deselectAll();
        panel.content.activeCell.node.scrollIntoView({{block: 'center'}});
        app.commands.execute(command);
    }}""", [command, index])


def kernel_execute(page, code: str) -> str:
    """Run ``code`` in the open notebook's kernel, outside any cell; return what it printed.

    Fails with the traceback if the code raises. Waits for the kernel if it is busy.
    """
    reply = page.evaluate(f"""async (code) => {{
        const kernel = {_NOTEBOOK}.sessionContext.session.kernel;
        const future = kernel.requestExecute({{code, store_history: false}});
        let printed = '', error = null;
        future.onIOPub = msg => {{
            if (msg.header.msg_type === 'stream') printed += msg.content.text;
            if (msg.header.msg_type === 'error') error = msg.content.traceback.join('\\n');
        }};
        await future.done;
        return {{printed, error}};
    }}""", code)
    if reply["error"]:
        traceback = re.sub(r"\x1b\[[0-9;]*m", "", reply["error"])  # no terminal colours
        raise RuntimeError(f"the kernel failed running:\n{code}\n{traceback}")
    return reply["printed"]


# -- dask-labextension ---------------------------------------------------------------------------

def connect_dask_panel(page) -> str:
    """Open the Dask sidebar tab and click its magnifying glass ("Auto-detect dashboard URL"),
    which asks the current notebook's kernel for its client's dashboard link; wait until the panel
    lists the dashboard's panes (it has checked the URL) and return the URL in its box."""
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[title="Dask"]')
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    page.locator(".dask-DaskDashboardLauncher").wait_for(timeout=30_000)
    page.locator('.dask-URLInput jp-button[title="Auto-detect dashboard URL"], '
                 '.dask-URLInput button[title="Auto-detect dashboard URL"]').first.click()
    page.locator(".dask-DashboardListing-item button").first.wait_for(timeout=30_000)
    return page.locator(".dask-URLInput input").input_value()


def dask_pane_buttons(page) -> list[str]:
    """The labels of the pane buttons the Dask sidebar lists."""
    return [(b.text_content() or "").strip()
            for b in page.locator(".dask-DashboardListing-item button").all()]


def open_dask_panes(page) -> dict[str, str]:
    """Open dask-labextension's default layout (File > Launch Dask Dashboard Layout: the Task
    Stream right of the notebook, Workers Memory and Progress under it) and wait until the three
    panes point at the dashboard; return ``{route: iframe URL}``."""
    page.evaluate("() => window.jupyterapp.commands.execute('dask:launch-layout')")
    page.wait_for_function("""(routes) => {
        const frames = [...document.querySelectorAll('.dask-DaskDashboard-widget iframe')];
        return routes.every(r => frames.some(f => (f.getAttribute('src') || '').endsWith('/' + r)));
    }""", arg=list(DASK_PANES), timeout=30_000)
    sources = [f.get_attribute("src") for f in
               page.locator(".dask-DaskDashboard-widget iframe").all()]
    return {route: next(s for s in sources if s.endswith("/" + route)) for route in DASK_PANES}


#: Reads every ColumnDataSource of a Bokeh page: ``[{column: [values]}]``.
_BOKEH_SOURCES = """() => {
    if (!window.Bokeh || !Bokeh.documents.length) return null;
    const sources = [];
    for (const doc of Bokeh.documents) {
        for (const model of doc.all_models) {
            if (model.type !== 'ColumnDataSource') continue;
            const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
            const columns = {};
            for (const [name, values] of Object.entries(data)) columns[name] = Array.from(values);
            sources.push(columns);
        }
    }
    return sources;
}"""


def dashboard_panes(page) -> dict[str, dict]:
    """What each open dashboard pane's Bokeh document shows, by route.

    ``individual-progress``: ``{task prefix: (done, all)}`` from its bars;
    ``individual-task-stream``: ``{task prefix: rectangles}`` (transfers and spilling have their
    own prefixes, such as ``transfer-mean_chunk``); ``individual-workers-memory``: ``{worker:
    bytes}``. A pane whose page shows no Bokeh document (yet) is missing.
    """
    found: dict[str, dict] = {}
    for frame in page.frames:
        route = next((r for r in DASK_PANES if frame.url.split("?")[0].endswith("/" + r)), None)
        if route is None:
            continue
        try:
            sources = frame.evaluate(_BOKEH_SOURCES)
        except Exception:  # the frame is navigating or gone: read it at the next call
            continue
        if not sources:
            continue
        if route == "individual-progress":
            bars = next((s for s in sources if "done" in s and "name" in s), None)
            if bars is not None:  # "done" reads "3 / 16": finished (in memory or released) / all
                found[route] = {name: tuple(int(n) for n in done.split(" / "))
                                for name, done in zip(bars["name"], bars["done"], strict=True)}
        elif route == "individual-task-stream":
            stream = next((s for s in sources if "duration_text" in s), None)
            if stream is not None:
                counts: dict[str, int] = {}
                for name, alpha in zip(stream["name"], stream["alpha"], strict=True):
                    if alpha:  # the invisible "start" rectangle only sets the time axis
                        counts[name] = counts.get(name, 0) + 1
                found[route] = counts
        else:
            memory = next((s for s in sources if "worker" in s and "width" in s), None)
            if memory is not None:
                found[route] = dict(zip(memory["worker"], memory["width"], strict=True))
    return found


def shows_held_computation(panes: dict[str, dict], held: dict) -> bool:
    """Whether ``panes`` (:func:`dashboard_panes`) show the computation :func:`hold_cluster`
    holds: a Progress bar for each of its task prefixes, some of it done but not all, Task Stream
    rectangles for at least the tasks of the first worker held, and every worker in Workers
    Memory."""
    progress = panes.get("individual-progress", {})
    stream = panes.get("individual-task-stream", {})
    done = sum(d for d, _ in progress.values())
    return (set(progress) == set(held["prefixes"])
            and 0 < done < sum(total for _, total in progress.values())
            and sum(stream.get(prefix, 0) for prefix in held["prefixes"]) >= held["share"]
            and len(panes.get("individual-workers-memory", {})) == held["workers"])


def wait_for_held_panes(page, held: dict, timeout_s: float = 60) -> dict[str, dict]:
    """Wait until the panes show the held computation (:func:`shows_held_computation`) and the
    Progress and Task Stream panes stay the same between two readings (workers finish the tasks
    they had started when the hold came); return what they show, or, after ``timeout_s``, what
    they showed last."""
    deadline = time.monotonic() + timeout_s
    before: dict[str, dict] = {}
    while True:
        panes = dashboard_panes(page)
        steady = all(panes.get(r) == before.get(r)
                     for r in ("individual-progress", "individual-task-stream"))
        if (shows_held_computation(panes, held) and steady) or time.monotonic() > deadline:
            return panes
        before = panes
        time.sleep(0.5)


def pane_screenshot(page, route: str) -> bytes:
    """A PNG of the pane that shows ``route``."""
    frame = page.locator(f'.dask-DaskDashboard-widget iframe[src$="/{route}"]')
    return frame.screenshot()


# -- holding the lesson's computation halfway ------------------------------------------------------

def _hold(flag: str, tasks: int, prefixes: list[str], fraction: float, timeout_s: float) -> dict:
    """(Sent to the lesson's kernel.) Make every worker of the kernel's client stop starting tasks
    once it has finished its share of ``fraction * tasks`` tasks, until the file ``flag`` exists.

    A worker plugin counts the tasks each worker finishes; at its share, it queues in the
    worker's thread pool one job per thread that waits for ``flag``: the tasks Dask sends next
    wait behind it. The computation is not changed, only paused, and the dashboard keeps
    updating. Returns the dashboard link, the number of workers, the share and ``prefixes``.
    """
    import math
    import os
    import time

    from distributed import default_client
    from distributed.diagnostics.plugin import WorkerPlugin

    def wait_for_flag():
        deadline = time.monotonic() + timeout_s
        while not os.path.exists(flag) and time.monotonic() < deadline:
            time.sleep(0.05)

    client = default_client()
    workers = len(client.nthreads())
    share = max(1, math.ceil(fraction * tasks / workers))

    class Hold(WorkerPlugin):
        def setup(self, worker):
            self.worker, self.finished = worker, 0

        def transition(self, key, start, finish, **kwargs):
            if start == "executing" and finish == "memory":
                self.finished += 1
                if self.finished == share:
                    pool = self.worker.executors["default"]
                    for _ in range(self.worker.state.nthreads):
                        pool.submit(wait_for_flag)

    client.register_plugin(Hold(), name=HOLD_PLUGIN)
    return {"dashboard": client.dashboard_link, "workers": workers, "share": share,
            "tasks": tasks, "prefixes": prefixes}


def hold_cluster(page, flag: Path, collection: str = "y", fraction: float = 0.5,
                 timeout_s: float = 120) -> dict:
    """Make the next computation of the lesson's kernel stop after about ``fraction`` of the
    tasks of the collection named ``collection`` (in the kernel) until :func:`release_cluster`
    creates ``flag`` (or ``timeout_s`` passes). Returns what :func:`_hold` returns, with the task
    prefixes of the collection's optimised graph (what the dashboard shows)."""
    import inspect
    import textwrap

    flag.unlink(missing_ok=True)
    code = "\n".join((
        f"HOLD_PLUGIN = {HOLD_PLUGIN!r}",
        textwrap.dedent(inspect.getsource(_hold)),
        "import dask as _dask, json as _json",
        "from dask.utils import key_split as _key_split",
        f"_graph = _dask.optimize({collection})[0].__dask_graph__()",
        f"print(_json.dumps(_hold({str(flag)!r}, len(_graph), "
        f"sorted({{_key_split(k) for k in _graph}}), {fraction!r}, {timeout_s!r})))",
        "del _hold, _dask, _json, _key_split, _graph, HOLD_PLUGIN",
    ))
    return json.loads(kernel_execute(page, code))


def release_cluster(page, flag: Path) -> None:
    """Let the held computation go on; once the kernel is free, remove the worker plugin."""
    flag.touch()
    kernel_execute(page, "from distributed import default_client as _client\n"
                         f"_client().unregister_worker_plugin({HOLD_PLUGIN!r})\n"
                         "del _client\n")
