"""Shared fixtures: the repository root on sys.path (for tools/), and a small local cluster."""

from __future__ import annotations

import sys
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
