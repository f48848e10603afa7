"""Shared fixtures: the repository root on sys.path (for tools/), and a small local cluster."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


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


@pytest.fixture
def roomy_client(monkeypatch):
    """Like ``local_client``, with 700 MiB workers: room for what a task imports in them.

    A worker that imports pyarrow (to read parquet) or xgboost passes 320 MiB on a fresh clone
    (measured: 329 MiB, against 240 MiB where bytecode caches exist), the pause threshold of a
    400 MiB worker; a paused worker runs nothing and the test waits forever.
    """
    yield from _two_worker_client(monkeypatch, "700MiB")


from tools import lab_browser  # noqa: E402  (needs ROOT on sys.path)
from tools.lab_browser import LabServer, api_get  # noqa: E402

__all__ = ["NEUTRAL_ENV", "LabServer", "api_get", "running_lab"]  # tests import them from here

#: The environment of the servers the tests start: this shell's without the course language it
#: may carry (``make lab`` reads LANG and COURSE_LANG), with Jupyter's platform directories.
NEUTRAL_ENV = {**{k: v for k, v in os.environ.items() if k not in ("LANG", "COURSE_LANG")},
               "JUPYTER_PLATFORM_DIRS": "1"}


@contextlib.contextmanager
def running_lab(tmp_path_factory, name: str, command: Callable[[str], list[str]],
                env: dict[str, str]) -> Iterator[LabServer]:
    """A server from ``command(args)`` on a free loopback port with a random token and fresh user
    settings and workspace (tools/lab_browser.py); its log is test-artifacts/``name``.log."""
    with lab_browser.lab_server(tmp_path_factory.mktemp(name), ROOT / "test-artifacts" /
                                f"{name}.log", command, env) as server:
        yield server


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """`make lab` (English); yields (base_url, token, port)."""
    with running_lab(tmp_path_factory, "lab-server", lab_browser.make_lab(), NEUTRAL_ENV) as server:
        yield server.base, server.token, server.port


@pytest.fixture(scope="session")
def lab_server_es(tmp_path_factory):
    """`make lab LANG=es`; yields a LabServer (base, token, port, settings)."""
    with running_lab(tmp_path_factory, "lab-server-es", lab_browser.make_lab("LANG=es"),
                     NEUTRAL_ENV) as server:
        yield server
