"""A real multi-process Dask cluster on loopback, for running the lessons against it in CI.

:func:`external_cluster` starts one ``dask scheduler`` and ``n_workers`` ``dask worker`` processes
(the command-line programs a real deployment runs, from this environment), waits until every
worker has registered, yields an :class:`ExternalCluster` with the scheduler's address, and
terminates every process on the way out, also when the block raises::

    from tools.external_cluster import external_cluster

    with external_cluster(n_workers=2) as cluster:
        os.environ["DASK_SCHEDULER_ADDRESS"] = cluster.address   # helpers.cluster connects here
        ...
        cluster.kill_worker("worker-0")                           # a machine that dies

Every server (scheduler, dashboard, nannies, workers and their HTTP endpoints) listens on
127.0.0.1 only. Each ``dask worker`` runs in a process group of its own, so that killing it takes
its nanny and its worker process together. Starting, waiting and stopping are
:class:`helpers.processes.DaskProcesses`, the same code lesson 10 uses to start its cluster.

``EXTERNAL_CLUSTER_LESSONS`` lists the lessons CI runs this way (``make test-cluster``, see
``tests/external_cluster/``). From a shell, ``python -m tools.external_cluster`` starts the same
cluster and prints the ``export DASK_SCHEDULER_ADDRESS=...`` line, for trying a lesson by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from helpers.processes import START_TIMEOUT_S, DaskProcesses

ROOT = Path(__file__).resolve().parent.parent
#: The lessons that use a cluster and are run, unchanged, against the external cluster in CI
#: (English notebooks; the Spanish ones run the same code). Lesson-number prefixes.
EXTERNAL_CLUSTER_LESSONS = ("03", "04", "05", "10")
#: Development override, e.g. ``COURSE_CLUSTER_LESSONS="00 10"``.
LESSONS_ENV_VAR = "COURSE_CLUSTER_LESSONS"
#: Safety nets for a harness that dies without cleaning up (its processes live in their own
#: sessions): workers exit when the scheduler has been gone this long, and the scheduler exits
#: after this long without any task activity (longer than any lesson's pause).
WORKER_DEATH_TIMEOUT = "60s"
SCHEDULER_IDLE_TIMEOUT = "15 minutes"

def _default_memory_limit() -> int:
    """The per-worker limit the course's LocalCluster would use on this machine."""
    from helpers.cluster import default_spec

    return default_spec().memory_limit


@dataclass
class ExternalCluster:
    """Handles on the processes :func:`external_cluster` started."""

    address: str
    dashboard_address: str
    workdir: Path
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    _processes: DaskProcesses | None = field(default=None, repr=False)

    @property
    def processes(self) -> list[subprocess.Popen]:
        """Every ``dask`` process started: the workers (each a nanny) and the scheduler."""
        return [*self.workers.values(), self.scheduler]

    def pids(self) -> set[int]:
        """PIDs of the started processes and of everything below them (the nannies' workers)."""
        return self._processes.pids()

    def kill_worker(self, name: str) -> None:
        """Kill ``dask worker`` ``name`` at once (SIGKILL to its nanny and its worker process).

        Killing only the worker process would let its nanny start a fresh one; killing both is
        what happens when a machine fails, and leaves the scheduler with one worker fewer.
        """
        self._processes.stop(name, hard=True)

    def logs(self, lines: int = 30) -> str:
        """The last ``lines`` lines of every process's log, for error messages."""
        return self._processes.logs(lines)


@contextmanager
def external_cluster(
    n_workers: int = 2,
    memory_limit: int | str | None = None,
    nthreads: int = 1,
    env: dict | None = None,
    start_timeout: float = START_TIMEOUT_S,
) -> Iterator[ExternalCluster]:
    """Start ``dask scheduler`` + ``n_workers`` × ``dask worker`` on 127.0.0.1; stop them on exit.

    Workers are named ``worker-0``, ``worker-1``…, have ``nthreads`` threads and ``memory_limit``
    each (default: what the course's LocalCluster gives a worker on this machine), a nanny, and
    a scratch directory in a temporary folder that also holds the logs. ``env`` adds environment
    variables for the processes. Starting and
    stopping is :class:`helpers.processes.DaskProcesses`, the same code lesson 10 uses.
    """
    if memory_limit is None:
        memory_limit = _default_memory_limit()
    processes = DaskProcesses(env=env, prefix="dask-external-cluster-")
    try:
        address = processes.start_cluster(
            [f"worker-{index}" for index in range(n_workers)], nthreads=nthreads,
            memory_limit=memory_limit, idle_timeout=SCHEDULER_IDLE_TIMEOUT,
            death_timeout=WORKER_DEATH_TIMEOUT, timeout=start_timeout,
        )
        yield ExternalCluster(
            address=address,
            dashboard_address=processes.dashboard_link(),
            workdir=processes.workdir,
            scheduler=processes.processes["scheduler"],
            workers={name: proc for name, proc in processes.processes.items()
                     if name != "scheduler"},
            _processes=processes,
        )
    finally:
        # Workers first (they say goodbye to the scheduler), then the scheduler.
        processes.close()


def lesson_prefixes() -> list[str]:
    """The lessons to run: ``$COURSE_CLUSTER_LESSONS`` when set, else the CI list."""
    configured = os.environ.get(LESSONS_ENV_VAR, "").split()
    return configured or list(EXTERNAL_CLUSTER_LESSONS)


def lesson_notebook(prefix: str, lang: str = "en") -> Path:
    """The built notebook of lesson ``prefix`` (``"03"``); a clear error when it does not exist."""
    folder = ROOT / "notebooks" / lang
    found = sorted(folder.glob(f"{prefix}_*.ipynb"))
    if len(found) != 1:
        what = "does not exist" if not found else f"is ambiguous ({[p.name for p in found]})"
        raise FileNotFoundError(
            f"Lesson {prefix} is to run on the external cluster (EXTERNAL_CLUSTER_LESSONS in "
            f"tools/external_cluster.py, or ${LESSONS_ENV_VAR}), but "
            f"notebooks/{lang}/{prefix}_*.ipynb {what}. "
            f"Build it with `make notebooks LESSONS={prefix}`, or take it off the list."
        )
    return found[0]


def main() -> int:
    """Start the cluster, print how to use it, and keep it up until Ctrl-C."""
    with external_cluster() as cluster:
        print(f"export DASK_SCHEDULER_ADDRESS={cluster.address}\n"
              f"dashboard: {cluster.dashboard_address}\n"
              f"logs: {cluster.workdir}\nCtrl-C stops the scheduler and the workers.", flush=True)
        try:
            while all(proc.poll() is None for proc in cluster.processes):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
