"""Shared fixtures: the repository root on sys.path (for tools/), and a small local cluster."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def local_client(monkeypatch):
    """A client from helpers.cluster.get_client on a 2-worker LocalCluster, closed afterwards."""
    from helpers.cluster import close_client, get_client

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    client = get_client(n_workers=2, threads_per_worker=1, memory_limit="400MiB")
    yield client
    close_client()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """`make lab` on a free loopback port with a random token; yields (base_url, token, port)."""
    port, token = _free_port(), secrets.token_hex(16)
    args = f"--no-browser --port={port} --ServerApp.token={token} --ServerApp.port_retries=0"
    if os.geteuid() == 0:  # CI machines run as root; JupyterLab refuses that unless told
        args += " --allow-root"
    # Fresh user settings: render every cell (no windowing, so a test can read all prompts) and
    # no news pop-up.
    settings = tmp_path_factory.mktemp("lab-settings")
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    args += f" --LabApp.user_settings_dir={settings}"
    # A fresh workspace too: a layout saved by an earlier run would re-open the notebook while
    # the browser test opens it, and the two kernel sessions would race.
    workspaces = tmp_path_factory.mktemp("lab-workspaces")
    args += f" --LabApp.workspaces_dir={workspaces}"
    # window.jupyterapp, so that the browser test can wait until the app is really ready.
    args += " --LabApp.expose_app_in_browser=True"
    log = ROOT / "test-artifacts" / "lab-server.log"  # the server's own log, kept for a failure
    log.parent.mkdir(exist_ok=True)
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}, start_new_session=True,
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
        yield base, token, port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
