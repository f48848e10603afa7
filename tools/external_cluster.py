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
its nanny and its worker process together.

``EXTERNAL_CLUSTER_LESSONS`` lists the lessons CI runs this way (``make test-cluster``, see
``tests/external_cluster/``). From a shell, ``python -m tools.external_cluster`` starts the same
cluster and prints the ``export DASK_SCHEDULER_ADDRESS=...`` line, for trying a lesson by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
#: The lessons that use a cluster and are run, unchanged, against the external cluster in CI
#: (English notebooks; the Spanish ones run the same code). Lesson-number prefixes.
EXTERNAL_CLUSTER_LESSONS = ("03", "04", "05", "10")
#: Development override, e.g. ``COURSE_CLUSTER_LESSONS="00 10"``.
LESSONS_ENV_VAR = "COURSE_CLUSTER_LESSONS"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
#: Safety nets for a harness that dies without cleaning up (its processes live in their own
#: sessions): workers exit when the scheduler has been gone this long, and the scheduler exits
#: after this long without any task activity (longer than any lesson's pause).
WORKER_DEATH_TIMEOUT = "60s"
SCHEDULER_IDLE_TIMEOUT = "15 minutes"


def _dask_command() -> list[str]:
    """The ``dask`` command-line program of this environment (``python -m dask`` is the same)."""
    return [sys.executable, "-m", "dask"]


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

    @property
    def processes(self) -> list[subprocess.Popen]:
        """Every ``dask`` process started: the workers (each a nanny) and the scheduler."""
        return [*self.workers.values(), self.scheduler]

    def pids(self) -> set[int]:
        """PIDs of the started processes and of everything below them (the nannies' workers)."""
        import psutil

        found = set()
        for proc in self.processes:
            try:
                root = psutil.Process(proc.pid)
                found |= {root.pid, *(child.pid for child in root.children(recursive=True))}
            except psutil.NoSuchProcess:
                continue
        return found

    def kill_worker(self, name: str) -> None:
        """Kill ``dask worker`` ``name`` at once (SIGKILL to its nanny and its worker process).

        Killing only the worker process would let its nanny start a fresh one; killing both is
        what happens when a machine fails, and leaves the scheduler with one worker fewer.
        """
        _kill_tree(self.workers[name], signal.SIGKILL if hasattr(signal, "SIGKILL") else None)
        self.workers[name].wait(STOP_TIMEOUT_S)

    def logs(self, lines: int = 30) -> str:
        """The last ``lines`` lines of every process's log, for error messages."""
        parts = []
        for log in sorted(self.workdir.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(parts)


def _kill_tree(proc: subprocess.Popen, sig) -> None:
    """Send ``sig`` to ``proc``'s process group (POSIX) or kill its process tree (Windows)."""
    if proc.poll() is not None and os.name != "posix":
        return
    if os.name == "posix":
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        return
    import psutil

    try:
        root = psutil.Process(proc.pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill() if sig is None else member.terminate()
        except psutil.NoSuchProcess:
            pass


def _group_alive(proc: subprocess.Popen) -> bool:
    """Whether any process of ``proc``'s group is still running (POSIX), or ``proc`` itself."""
    if os.name == "posix":
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A zombie leader still "exists" until reaped: reap it, then look again.
        if proc.poll() is not None:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return False
        return True
    return proc.poll() is None


def stop(processes: list[subprocess.Popen], timeout: float = STOP_TIMEOUT_S) -> None:
    """Terminate ``processes`` and their children (SIGTERM), then SIGKILL what is left."""
    for proc in processes:
        _kill_tree(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in processes:
        while _group_alive(proc) and time.monotonic() < deadline:
            time.sleep(0.1)
    for proc in processes:
        if _group_alive(proc):
            _kill_tree(proc, signal.SIGKILL if hasattr(signal, "SIGKILL") else None)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


def _launch(name: str, args: list[str], workdir: Path, env: dict) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "w")  # the child keeps its own copy of the handle
    try:
        return subprocess.Popen(
            [*_dask_command(), *args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=workdir, env=env, start_new_session=True,
        )
    finally:
        log.close()


def _wait_for_scheduler(scheduler: subprocess.Popen, scheduler_file: Path, deadline: float,
                        workdir: Path) -> dict:
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"`dask scheduler` exited with code {scheduler.returncode}:\n"
                               + (workdir / "scheduler.log").read_text(errors="replace"))
        if scheduler_file.exists():
            try:
                return json.loads(scheduler_file.read_text())
            except json.JSONDecodeError:
                pass  # being written
        time.sleep(0.1)
    raise TimeoutError("`dask scheduler` did not write its address in time")


def _wait_for_workers(cluster: ExternalCluster, n_workers: int, deadline: float) -> None:
    from distributed import Client

    with Client(cluster.address, timeout="30s") as client:
        while True:
            for name, proc in cluster.workers.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"`dask worker` {name} exited with code "
                                       f"{proc.returncode}:\n{cluster.logs()}")
            try:
                client.wait_for_workers(n_workers, timeout=1)
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"only {len(client.scheduler_info()['workers'])} of {n_workers} workers "
                        f"registered within {START_TIMEOUT_S:.0f} s:\n{cluster.logs()}"
                    ) from None


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
    variables for the processes. Task fusion is turned off in them as ``helpers.cluster`` does
    for the LocalCluster's workers (graphs are optimised on the client, but a task that calls
    ``compute`` inside a worker optimises there).
    """
    if memory_limit is None:
        memory_limit = _default_memory_limit()
    workdir = Path(tempfile.mkdtemp(prefix="dask-external-cluster-"))
    process_env = {**os.environ, "DASK_OPTIMIZATION__FUSE__ACTIVE": "False", **(env or {})}
    process_env.pop("DASK_SCHEDULER_ADDRESS", None)
    deadline = time.monotonic() + start_timeout
    scheduler_file = workdir / "scheduler.json"
    started: list[subprocess.Popen] = []
    try:
        scheduler = _launch("scheduler", [
            "scheduler", "--host", LOOPBACK, "--port", "0",
            "--dashboard-address", f"{LOOPBACK}:0",
            "--scheduler-file", str(scheduler_file),
            "--idle-timeout", SCHEDULER_IDLE_TIMEOUT,
        ], workdir, process_env)
        started.append(scheduler)
        info = _wait_for_scheduler(scheduler, scheduler_file, deadline, workdir)
        dashboard_port = info.get("services", {}).get("dashboard")
        cluster = ExternalCluster(
            address=info["address"],
            dashboard_address=f"http://{LOOPBACK}:{dashboard_port}/status",
            workdir=workdir, scheduler=scheduler,
        )
        for index in range(n_workers):
            name = f"worker-{index}"
            proc = _launch(name, [
                "worker", cluster.address, "--name", name,
                "--host", LOOPBACK, "--dashboard-address", f"{LOOPBACK}:0", "--no-dashboard",
                "--nthreads", str(nthreads), "--memory-limit", str(memory_limit),
                "--nanny", "--death-timeout", WORKER_DEATH_TIMEOUT,
                "--local-directory", str(workdir / name),
            ], workdir, process_env)
            started.append(proc)
            cluster.workers[name] = proc
        _wait_for_workers(cluster, n_workers, deadline)
        yield cluster
    finally:
        # Workers first (they say goodbye to the scheduler), then the scheduler.
        stop([*started[1:], *started[:1]])
        shutil.rmtree(workdir, ignore_errors=True)


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
