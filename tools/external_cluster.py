"""A real multi-host Dask cluster with an object store, on this machine, for running the lessons
against it in CI.

:func:`external_cluster` starts one ``dask scheduler`` and ``n_workers`` ``dask worker`` processes
(the command-line programs a real deployment runs, from this environment), waits until every
worker has registered, yields an :class:`ExternalCluster`, and stops every process on the way
out, also when the block raises::

    from tools.external_cluster import external_cluster

    with external_cluster(n_workers=2) as cluster:
        os.environ.update(cluster.client_env)      # DASK_SCHEDULER_ADDRESS, COURSE_DATA_URL, AWS_*
        ...
        cluster.kill_worker("worker-0")            # a machine that dies

Where Linux network namespaces can be made (root, ``ip`` and ``unshare``: see
:mod:`tools.private_network`), the scheduler, every worker and an S3-compatible object store
(``moto`` in server mode, bucket ``course-data``, made-up credentials) each run on a host of
their own on a private ``10.213.N.0/24`` network, where the course checkout and its data folder
are hidden: the workers only have the Python environment, and read the data from the store
(``COURSE_DATA_URL=s3://course-data/data``). Elsewhere the cluster falls back to one host,
everything on 127.0.0.1 and no store, and says so. Either way nothing listens beyond loopback
and the private network.

Each ``dask worker`` runs in a process group of its own, so that killing it takes its nanny and
its worker process together. Starting, waiting and stopping are
:class:`helpers.processes.DaskProcesses`, the same code lesson 10 uses to start its cluster.

:data:`tools.course.EXTERNAL_CLUSTER_LESSONS` lists the lessons CI runs this way
(``make test-cluster``, see ``tests/external_cluster/``). From a shell,
``python -m tools.external_cluster`` starts the same cluster and prints the ``export ...`` lines
of :attr:`ExternalCluster.client_env`, for trying a lesson by hand.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from helpers.data import DATA_URL_ENV_VAR
from helpers.processes import ADDRESS_ENV_VAR, START_TIMEOUT_S, DaskProcesses, Placement
from tools.course import EXTERNAL_CLUSTER_LESSONS, select_lessons
from tools.private_network import PrivateNetwork, unavailable_reason

#: Development override, e.g. ``COURSE_CLUSTER_LESSONS="00 10"``.
LESSONS_ENV_VAR = "COURSE_CLUSTER_LESSONS"
#: Safety nets for a harness that dies without cleaning up (its processes live in their own
#: sessions): workers exit when the scheduler has been gone this long, and the scheduler exits
#: after this long without any task activity (longer than any lesson's pause).
WORKER_DEATH_TIMEOUT = "60s"
SCHEDULER_IDLE_TIMEOUT = "15 minutes"
#: The object store: a bucket, the URL under which the course keeps its data, the store's port
#: on its own host, and the region its clients name.
STORE_BUCKET = "course-data"
STORE_DATA_URL = f"s3://{STORE_BUCKET}/data"
STORE_PORT = 5000
STORE_REGION = "us-east-1"
STORE_NAME = "store"

def _default_memory_limit() -> int:
    """The per-worker limit the course's LocalCluster would use on this machine."""
    from helpers.cluster import default_spec

    return default_spec().memory_limit


def store_env(endpoint: str) -> dict[str, str]:
    """What a client needs to use the object store at ``endpoint`` (``http://IP:PORT``):
    ``COURSE_DATA_URL`` and the ``AWS_*`` variables, with credentials made up now.

    The store's address joins ``NO_PROXY``/``no_proxy``, so that a proxy configured for the
    machine (``HTTP_PROXY``) is not asked for an address on the private network.

    Examples
    --------
    >>> sorted(store_env("http://10.213.7.2:5000"))  # doctest: +NORMALIZE_WHITESPACE
    ['AWS_ACCESS_KEY_ID', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'AWS_SECRET_ACCESS_KEY',
     'COURSE_DATA_URL', 'NO_PROXY', 'no_proxy']
    """
    from urllib.parse import urlsplit

    bypass = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), urlsplit(endpoint).hostname]))
    return {
        DATA_URL_ENV_VAR: STORE_DATA_URL,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": f"test-{secrets.token_hex(4)}",
        "AWS_SECRET_ACCESS_KEY": secrets.token_hex(16),
        "AWS_DEFAULT_REGION": STORE_REGION,
        "NO_PROXY": bypass,
        "no_proxy": bypass,
    }


def _create_bucket(env: dict[str, str], proc: subprocess.Popen, log, timeout: float) -> None:
    """Create the bucket as soon as the store answers; a clear error when it never does."""
    import boto3
    import botocore.config
    import botocore.exceptions

    s3 = boto3.client(
        "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(connect_timeout=1, retries={"max_attempts": 1}))
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the object store exited with code {proc.returncode}:\n{log()}")
        try:
            s3.create_bucket(Bucket=STORE_BUCKET)
            return
        except (botocore.exceptions.EndpointConnectionError,
                botocore.exceptions.ConnectionClosedError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the object store did not answer at "
                                   f"{env['AWS_ENDPOINT_URL']} within {timeout:.0f} s:\n"
                                   f"{log()}") from None
            time.sleep(0.1)


def start_store(processes: DaskProcesses, placement: Placement, env: dict[str, str],
                timeout: float = START_TIMEOUT_S) -> subprocess.Popen:
    """Start the object store (``python -m moto.server``) as process ``"store"`` of
    ``processes``, on ``placement``; create the bucket once it answers.

    Its per-request log lines go to its log file (``store.log``), like every process's output.
    ``env`` is :func:`store_env` of its address.
    """
    proc = processes.launch(STORE_NAME, "-H", placement.host, "-p", STORE_PORT,
                            program=[sys.executable, "-m", "moto.server"],
                            wrapper=placement.wrapper)
    processes.kinds[STORE_NAME], processes.hosts[STORE_NAME] = STORE_NAME, placement.host
    _create_bucket(env, proc, lambda: processes.log(STORE_NAME), timeout)
    return proc


def decide_separate_hosts(requested: bool | None) -> tuple[bool, str | None]:
    """Whether to put every process on a host of its own, and why not when not.

    ``None`` (the default of :func:`external_cluster`): separate hosts when network namespaces
    can be made here, else one host. ``True`` when they cannot: an error that says why.
    """
    reason = unavailable_reason() if requested in (None, True) else "one host was asked for"
    if requested and reason:
        raise RuntimeError(f"separate hosts need Linux network namespaces, but {reason}. "
                           f"Pass separate_hosts=False (or None) for a one-host cluster.")
    return reason is None, reason


@dataclass
class ExternalCluster:
    """Handles on the processes :func:`external_cluster` started."""

    address: str
    dashboard_address: str
    workdir: Path
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    #: Every environment variable a client (the notebook) sets to use this cluster and its store:
    #: ``DASK_SCHEDULER_ADDRESS``, and on separate hosts ``COURSE_DATA_URL`` and ``AWS_*``.
    client_env: dict[str, str] = field(default_factory=dict)
    #: Whether the scheduler, each worker and the store run on hosts of their own.
    separate_hosts: bool = False
    #: Why not, when they do not.
    one_host_reason: str | None = None
    #: Process name (``"scheduler"``, ``"worker-0"``, ``"store"``) -> the IP it listens on.
    hosts: dict[str, str] = field(default_factory=dict)
    #: The object store's process (separate hosts only).
    store: subprocess.Popen | None = None
    #: The private network (separate hosts only).
    network: PrivateNetwork | None = field(default=None, repr=False)
    _processes: DaskProcesses | None = field(default=None, repr=False)

    @property
    def processes(self) -> list[subprocess.Popen]:
        """Every process started: the workers (each a nanny), the scheduler and the store."""
        return [*self.workers.values(), self.scheduler, *([self.store] if self.store else [])]

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
    separate_hosts: bool | None = None,
) -> Iterator[ExternalCluster]:
    """Start ``dask scheduler`` + ``n_workers`` × ``dask worker`` (+ an object store on separate
    hosts); stop them, and remove the network, on exit.

    Parameters
    ----------
    n_workers : int
        Workers, named ``worker-0``, ``worker-1``…, each with a nanny and a scratch directory in
        a temporary folder that also holds every log.
    memory_limit : int or str, optional
        Per worker. Default: what the course's LocalCluster gives a worker on this machine.
    nthreads : int
        Threads per worker.
    env : dict, optional
        More environment variables for the scheduler and the workers.
    start_timeout : float
        Seconds to wait for the store, the scheduler and then the workers.
    separate_hosts : bool, optional
        ``True``: the store, the scheduler and each worker on a host of their own (Linux network
        namespaces, root only; an error when they cannot be made). ``False``: everything on
        127.0.0.1, no store. ``None`` (default): separate hosts when possible, else one host,
        with a line on stderr that says why.

    Yields
    ------
    ExternalCluster
        With ``address``, ``client_env`` (what the notebook sets), ``separate_hosts``,
        ``hosts``, ``kill_worker(name)``, ``pids()`` and ``logs()``.
    """
    if memory_limit is None:
        memory_limit = _default_memory_limit()
    separate, reason = decide_separate_hosts(separate_hosts)
    names = [f"worker-{index}" for index in range(n_workers)]
    with ExitStack() as stack:
        placements, client_env = {}, {}
        network = None
        if separate:
            try:
                network = stack.enter_context(PrivateNetwork([STORE_NAME, "scheduler", *names]))
            except (OSError, subprocess.CalledProcessError) as error:
                if separate_hosts:  # asked for explicitly: no quiet fallback
                    raise
                # The probe passed but a bridge or a veth could not be made (a sandbox, a
                # missing kernel module): one host, as where namespaces are unavailable.
                separate, reason = False, f"the private network could not be made ({error})"
        if separate_hosts is None and not separate:
            print(f"external cluster: one host (127.0.0.1), no object store: {reason}",
                  file=sys.stderr, flush=True)
        if separate:
            placements = {host: Placement(network.ip(host), tuple(network.run_on(host)))
                          for host in network.hosts}
            client_env = store_env(f"http://{network.ip(STORE_NAME)}:{STORE_PORT}")
        processes = DaskProcesses(env={**client_env, **(env or {})},
                                  prefix="dask-external-cluster-")
        # Runs before the network is removed: the workers and the store first, then the
        # scheduler (DaskProcesses stops every non-scheduler process in the first group).
        stack.callback(processes.close)
        store = None
        if separate:
            store = start_store(processes, placements[STORE_NAME], client_env, start_timeout)
        address = processes.start_cluster(
            names, nthreads=nthreads, memory_limit=memory_limit,
            idle_timeout=SCHEDULER_IDLE_TIMEOUT, death_timeout=WORKER_DEATH_TIMEOUT,
            timeout=start_timeout, placements=placements,
        )
        yield ExternalCluster(
            address=address,
            dashboard_address=processes.dashboard_link(),
            workdir=processes.workdir,
            scheduler=processes.processes["scheduler"],
            workers={name: processes.processes[name] for name in names},
            client_env={ADDRESS_ENV_VAR: address, **client_env},
            separate_hosts=separate,
            one_host_reason=reason,
            hosts=dict(processes.hosts),
            store=store,
            network=network,
            _processes=processes,
        )


def lesson_prefixes() -> list[str]:
    """The lessons to run: ``$COURSE_CLUSTER_LESSONS`` when set, else the CI list.

    Returns
    -------
    list of str
        Lesson-number prefixes, :data:`tools.course.EXTERNAL_CLUSTER_LESSONS` by default.
    """
    configured = os.environ.get(LESSONS_ENV_VAR, "").split()
    return configured or list(EXTERNAL_CLUSTER_LESSONS)


def lesson_notebook(prefix: str, lang: str = "en") -> Path:
    """The built notebook of lesson ``prefix`` (``"03"``).

    Parameters
    ----------
    prefix : str
        A lesson number, as in :data:`tools.course.EXTERNAL_CLUSTER_LESSONS`.
    lang : {"es", "en"}
        Which language's notebook.

    Returns
    -------
    pathlib.Path
        ``notebooks/<lang>/<prefix>_*.ipynb``.

    Raises
    ------
    FileNotFoundError
        When no notebook, or more than one, starts with ``prefix``: the message says how to
        build it or take it off the list (a listed lesson that is missing fails, never skips).
    """
    try:
        found = select_lessons([f"{prefix}_"], lang=lang)
    except LookupError:
        found = []
    if len(found) != 1:
        what = "does not exist" if not found else f"is ambiguous ({[p.name for p in found]})"
        raise FileNotFoundError(
            f"Lesson {prefix} is to run on the external cluster (EXTERNAL_CLUSTER_LESSONS in "
            f"tools/course.py, or ${LESSONS_ENV_VAR}), but "
            f"notebooks/{lang}/{prefix}_*.ipynb {what}. "
            f"Build it with `make notebooks LESSONS={prefix}`, or take it off the list."
        )
    return found[0]


def main(argv=None) -> int:
    """Start the cluster, print how to use it, and keep it up until Ctrl-C (or SIGTERM).

    Parameters
    ----------
    argv : list of str, optional
        The command line (default: ``sys.argv[1:]``): ``--workers N``.

    Returns
    -------
    int
        0 once every process has stopped.
    """
    import argparse
    import signal

    parser = argparse.ArgumentParser(
        description="Start the CI's external Dask cluster (scheduler, workers, S3 store) and print "
                    "the export lines that point a lesson at it; Ctrl-C stops it.")
    parser.add_argument("--workers", type=int, default=2, help="number of `dask worker`s")
    args = parser.parse_args(argv)
    # A plain `kill` stops the cluster as cleanly as Ctrl-C: processes and network removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with external_cluster(n_workers=args.workers) as cluster:
        exports = "\n".join(f"export {name}={shlex.quote(value)}"
                            for name, value in cluster.client_env.items())
        print(f"{exports}\n"
              f"dashboard: {cluster.dashboard_address}\n"
              f"logs: {cluster.workdir}\n"
              f"Ctrl-C stops every process (and removes the network).", flush=True)
        try:
            while all(proc.poll() is None for proc in cluster.processes):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
