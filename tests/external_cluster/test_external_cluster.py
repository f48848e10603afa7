"""The course on a real multi-process cluster: `dask scheduler` + two `dask worker` on 127.0.0.1.

These tests start real processes and run whole notebooks, so they only run when
``COURSE_EXTERNAL_CLUSTER=1`` (``make test-cluster``, part of ``make test``):

* the harness itself: loopback-only servers, the workers' settings, teardown after an error;
* a worker killed (nanny and worker process) in the middle of a computation, and the result
  still right, recomputed on the surviving worker;
* every lesson in ``tools.external_cluster.EXTERNAL_CLUSTER_LESSONS`` (English notebooks)
  executed top to bottom with ``DASK_SCHEDULER_ADDRESS`` pointing at a fresh external cluster and
  ``COURSE_SIZE=small``. Outputs are not compared (they name the cluster, "external cluster: 2
  workers"): every cell must run without error, so the notebooks' own assertions check the
  results. A lesson on the list whose notebook does not exist fails, it is not skipped.

The executed copies are written to ``test-artifacts/external_cluster/`` (git-ignored); the
committed notebooks are never touched.
"""

from __future__ import annotations

import ipaddress
import os
import time
from pathlib import Path

import psutil
import pytest

from tools.external_cluster import (
    EXTERNAL_CLUSTER_LESSONS,
    ROOT,
    external_cluster,
    lesson_notebook,
    lesson_prefixes,
)

ENABLED = os.environ.get("COURSE_EXTERNAL_CLUSTER") == "1"
needs_cluster = pytest.mark.skipif(
    not ENABLED, reason="starts real dask processes: run `make test-cluster` "
                        "(or set COURSE_EXTERNAL_CLUSTER=1)")
ARTIFACTS = ROOT / "test-artifacts" / "external_cluster"
MEMORY_LIMIT = "700MiB"


def _listening(pids):
    found = []
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found += [(pid, c.laddr.ip, c.laddr.port) for c in connections
                  if c.status == psutil.CONN_LISTEN]
    return found


def _all_gone(pids, timeout=10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive
                 if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"}
        time.sleep(0.1)
    return alive


class Boom(Exception):
    pass


# --- cheap checks of the lesson list (no cluster) -------------------------------------------

def test_lesson_list_covers_the_cluster_lessons():
    assert {"03", "04", "05", "10"} <= set(EXTERNAL_CLUSTER_LESSONS)


def test_a_missing_lesson_fails_with_a_clear_message():
    with pytest.raises(FileNotFoundError, match=r"notebooks/en/98_\*\.ipynb does not exist.*"
                                                r"make notebooks LESSONS=98"):
        lesson_notebook("98")


def test_lesson_list_can_be_overridden(monkeypatch):
    monkeypatch.setenv("COURSE_CLUSTER_LESSONS", "00 10")
    assert lesson_prefixes() == ["00", "10"]
    monkeypatch.delenv("COURSE_CLUSTER_LESSONS")
    assert lesson_prefixes() == list(EXTERNAL_CLUSTER_LESSONS)


# --- the harness ------------------------------------------------------------------------------

@needs_cluster
def test_harness_is_loopback_only_configured_and_cleans_up_after_an_error():
    from distributed import Client

    pids = set()
    with pytest.raises(Boom), external_cluster(n_workers=2, memory_limit=MEMORY_LIMIT) as cluster:
        pids = cluster.pids()
        # scheduler; per worker: nanny + worker process (+ multiprocessing's resource tracker)
        assert len(pids) >= 5, pids
        sockets = _listening(pids)
        outside = [s for s in sockets if not ipaddress.ip_address(s[1]).is_loopback]
        assert not outside, f"servers reachable from the network: {outside}"
        # scheduler + dashboard, and per worker: nanny, worker, worker HTTP endpoint
        assert len(sockets) >= 8, sockets
        with Client(cluster.address, timeout="30s") as client:
            workers = client.scheduler_info()["workers"].values()
            assert sorted(w["name"] for w in workers) == ["worker-0", "worker-1"]
            assert all(w["nthreads"] == 1 for w in workers)
            assert all(w["memory_limit"] == 700 * 2**20 for w in workers)

            def settings():
                import importlib.util

                import dask

                # Dask's defaults on the workers (no course-wide switch), and the course's
                # environment: the helpers package is importable there.
                return (dask.config.get("optimization.fuse.active"),
                        importlib.util.find_spec("helpers") is not None)

            assert set(client.run(settings).values()) == {(None, True)}
        raise Boom("a failing test body must not leave processes behind")
    assert pids and not _all_gone(pids), "processes left running after the error"


@needs_cluster
def test_killing_a_worker_mid_computation_still_gives_the_right_answer():
    from distributed import Client

    n_tasks = 24
    expected = sum(i * i for i in range(n_tasks))

    def slow_square(i):  # nested, so cloudpickle ships it by value to the workers
        import time

        time.sleep(0.25)
        return i * i

    with external_cluster(n_workers=2, memory_limit=MEMORY_LIMIT) as cluster, \
            Client(cluster.address, timeout="30s") as client:
        names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
        futures = client.map(slow_square, range(n_tasks))
        total = client.submit(sum, futures)
        deadline = time.monotonic() + 120
        while True:  # wait until both workers hold finished results
            holders = {}
            for key, addresses in client.who_has(futures).items():
                for address in addresses:
                    holders.setdefault(address, set()).add(key)
            if len(holders) == 2 and min(map(len, holders.values())) >= 2:
                break
            assert time.monotonic() < deadline, "the computation did not start on both workers"
            time.sleep(0.05)
        victim = max(holders, key=lambda a: len(holders[a]))
        survivor = next(a for a in names if a != victim)
        lost = holders[victim] - holders.get(survivor, set())
        assert not total.done(), "the kill must happen in the middle of the computation"

        cluster.kill_worker(names[victim])

        assert total.result(timeout=120) == expected
        assert [f.result() for f in futures] == [i * i for i in range(n_tasks)]
        assert list(client.scheduler_info()["workers"]) == [survivor]
        # The lost results now live on the survivor: recomputed there.
        assert lost and all(set(a) == {survivor} for k, a in client.who_has(futures).items()
                            if k in lost)
        assert cluster.scheduler.poll() is None


# --- the lessons --------------------------------------------------------------------------------

@needs_cluster
@pytest.mark.parametrize("prefix", lesson_prefixes())
def test_lesson_runs_unchanged_on_an_external_cluster(prefix, monkeypatch):
    import nbformat
    from distributed import Client

    from tools.build_notebooks import execute

    path = lesson_notebook(prefix)  # fails (not skips) when the notebook does not exist
    notebook = nbformat.read(path, as_version=4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    executed = ARTIFACTS / path.name
    executed.unlink(missing_ok=True)
    with external_cluster(n_workers=2) as cluster:
        pids = cluster.pids()
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.address)
        monkeypatch.setenv("COURSE_SIZE", "small")
        started = time.perf_counter()
        try:
            # Same kernel, cell timeout and working directory as `make notebooks`.
            execute(notebook, Path(path).parent)
        finally:
            nbformat.write(notebook, executed)
        took = time.perf_counter() - started
        with Client(cluster.address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=30)  # the lesson left the cluster as it found it
        print(f"{path.name}: {took:.1f} s on {cluster.address} (executed copy: {executed})")
    assert not _all_gone(pids), "processes left running after the cluster was stopped"
