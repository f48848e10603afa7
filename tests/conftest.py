"""Shared fixtures: the course language, small local clusters and JupyterLab servers.

Tests take these as arguments; nothing imports from this file. Code that is not a fixture lives
in the package it belongs to (``tools.lab_browser.api_get``, for one).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tools import lab_browser
from tools.course import ROOT
from tools.lab_browser import LabServer


@pytest.fixture(autouse=True)
def english_by_default():
    """Every test starts and ends in English, the helpers' default, whatever language it set."""
    from helpers.i18n import DEFAULT_LANGUAGE, set_language

    set_language(DEFAULT_LANGUAGE)
    yield
    set_language(DEFAULT_LANGUAGE)


def _two_worker_client(monkeypatch, memory_limit: str):
    from helpers.cluster import close_client, get_client

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    client = get_client(n_workers=2, threads_per_worker=1, memory_limit=memory_limit)
    yield client
    close_client()


@pytest.fixture
def local_client(monkeypatch):
    """A client from helpers.cluster.get_client on a 2-worker LocalCluster, closed afterwards."""
    yield from _two_worker_client(monkeypatch, "400MiB")


@pytest.fixture(scope="module")
def module_client():
    """Like ``local_client``, one for the whole module (starting a cluster takes seconds)."""
    with pytest.MonkeyPatch.context() as patch:
        yield from _two_worker_client(patch, "400MiB")


@pytest.fixture
def roomy_client(monkeypatch):
    """Like ``local_client``, with 700 MiB workers: room for what a task imports in them.

    A worker that imports pyarrow (to read parquet) or xgboost passes 320 MiB on a fresh clone
    (measured: 329 MiB, against 240 MiB where bytecode caches exist), the pause threshold of a
    400 MiB worker; a paused worker runs nothing and the test waits forever.
    """
    yield from _two_worker_client(monkeypatch, "700MiB")


@pytest.fixture
def game_shards(tmp_path, monkeypatch):
    """Five small parquet shards of game features (2,000 rows), in a temporary data folder."""
    from helpers.data import list_files, write_game_features

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return [Path(f) for f in list_files(write_game_features(2_000, 5, seed=3))]


# --- JupyterLab servers (tools/lab_browser.py) ---------------------------------------------------

@pytest.fixture(scope="session")
def neutral_env() -> dict[str, str]:
    """The environment of the servers the tests start: this shell's without the course language it
    may carry (``make lab`` reads LANG and COURSE_LANG), with Jupyter's platform directories."""
    return {**{k: v for k, v in os.environ.items() if k not in ("LANG", "COURSE_LANG")},
            "JUPYTER_PLATFORM_DIRS": "1"}


@pytest.fixture(scope="session")
def start_lab(tmp_path_factory, neutral_env):
    """A factory: ``with start_lab(name, command) as server`` runs a server from ``command(args)``
    on a free loopback port with a random token, fresh user settings and workspace, in
    ``neutral_env``; it yields a ``tools.lab_browser.LabServer`` and logs to
    test-artifacts/``name``.log."""

    @contextlib.contextmanager
    def start(name: str, command: Callable[[str], list[str]]) -> Iterator[LabServer]:
        log = ROOT / "test-artifacts" / f"{name}.log"
        with lab_browser.lab_server(tmp_path_factory.mktemp(name), log, command,
                                    neutral_env) as server:
            yield server

    return start


@pytest.fixture(scope="session")
def lab_server(start_lab) -> Iterator[LabServer]:
    """`make lab` (English)."""
    with start_lab("lab-server", lab_browser.make_lab()) as server:
        yield server


@pytest.fixture(scope="session")
def lab_server_es(start_lab) -> Iterator[LabServer]:
    """`make lab LANG=es`."""
    with start_lab("lab-server-es", lab_browser.make_lab("LANG=es")) as server:
        yield server


@pytest.fixture(scope="session")
def open_unfollowed() -> Callable[[str], tuple[int, str]]:
    """A function: ``open_unfollowed(url)`` is the (status, Location) of a GET of ``url``, its
    redirect not followed (Location is "" for an answer that does not redirect)."""
    import urllib.error
    import urllib.request

    class DoNotFollow(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    def open_unfollowed(url: str) -> tuple[int, str]:
        try:
            with urllib.request.build_opener(DoNotFollow).open(url, timeout=5) as response:
                return response.status, ""
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", "")

    return open_unfollowed
