"""One call to get a Dask client, on a laptop, on Binder or on a real cluster.

``get_client()`` is what every lesson calls::

    from helpers.cluster import get_client, cluster_summary
    client = get_client()
    print(cluster_summary(client))

* If the environment variable ``DASK_SCHEDULER_ADDRESS`` is set (for example
  ``tcp://127.0.0.1:8786``), it connects to that scheduler: the same notebook then runs on a
  real multi-process or multi-machine cluster without edits.
* Otherwise it starts a ``LocalCluster`` of worker *processes* sized for this machine, with an
  explicit per-worker ``memory_limit`` small enough for Binder's 2 GB, and every server
  (scheduler, workers, nannies and the dashboard) listening on 127.0.0.1 only.
* Calling it again (re-running a cell, or the whole notebook) returns the same client instead of
  starting a second cluster. Asking for a different shape closes the old cluster first.

Nothing happens at import time.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

from helpers.i18n import text

LOOPBACK = "127.0.0.1"
ADDRESS_ENV_VAR = "DASK_SCHEDULER_ADDRESS"
DEFAULT_DASHBOARD_PORT = 8787
#: Upper bound for one worker's memory limit when none is given: two workers, the scheduler and
#: the notebook's kernel then fit in Binder's 2 GB.
DEFAULT_WORKER_MEMORY = 700 * 2**20
MAX_DEFAULT_WORKERS = 4
CONNECT_TIMEOUT = "10s"

_current: dict = {}


@dataclass(frozen=True)
class ClusterSpec:
    """The shape of a LocalCluster: what ``get_client`` compares to decide whether to reuse."""

    n_workers: int
    threads_per_worker: int
    memory_limit: int


def configure_dask() -> None:
    """Apply the dask settings the course relies on, in this process.

    Dask's own defaults stand (graph optimisations included: nothing the lessons use needs them
    off since dask 2026, docs/dask-versions.md). On JupyterHub/Binder the dashboard link goes
    through the hub's proxy so that it opens in the student's browser.
    """
    import dask

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        dask.config.set({"distributed.dashboard.link": prefix.rstrip("/") + "/proxy/{port}/status"})


def machine_resources() -> tuple[int, int]:
    """Return ``(cores, memory_bytes)`` available to this process, honouring cgroup limits."""
    from dask.system import CPU_COUNT
    from distributed.system import MEMORY_LIMIT

    return int(CPU_COUNT), int(MEMORY_LIMIT)


def default_spec() -> ClusterSpec:
    """The LocalCluster shape for this machine: one single-threaded worker per core (at most 4)."""
    cores, memory = machine_resources()
    n_workers = max(1, min(cores, MAX_DEFAULT_WORKERS))
    # Leave room for the kernel and the scheduler: workers get at most 60 % of the memory.
    per_worker = min(DEFAULT_WORKER_MEMORY, int(memory * 0.6 / n_workers))
    return ClusterSpec(n_workers=n_workers, threads_per_worker=1, memory_limit=per_worker)


def make_spec(
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    memory_limit: int | str | None = None,
) -> ClusterSpec:
    """Validate the arguments of :func:`get_client` and fill the gaps with :func:`default_spec`.

    Raises ``ValueError`` with a message that says what to pass instead.
    """
    from dask.utils import format_bytes, parse_bytes

    default = default_spec()
    n_workers = default.n_workers if n_workers is None else n_workers
    threads = default.threads_per_worker if threads_per_worker is None else threads_per_worker
    for name, value in (("n_workers", n_workers), ("threads_per_worker", threads)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                text(es=f"{name}={value!r}: un clúster necesita al menos un worker con un hilo. "
                        f"Pasa un número entero de 1 o más, por ejemplo get_client({name}=2).",
                     en=f"{name}={value!r}: a cluster needs at least one worker with one thread. "
                        f"Pass a whole number of 1 or more, for example get_client({name}=2).")
            )
    if memory_limit is None:
        limit = default.memory_limit
    else:
        try:
            limit = parse_bytes(memory_limit) if isinstance(memory_limit, str) else memory_limit
        except ValueError as error:
            raise ValueError(text(
                es=f"memory_limit={memory_limit!r} no es un tamaño. Usa bytes o un texto "
                   f"como '700MiB' o '2GiB'.",
                en=f"memory_limit={memory_limit!r} is not a size. Use bytes or a string "
                   f"such as '700MiB' or '2GiB'.",
            )) from error
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ValueError(text(
                es=f"memory_limit={memory_limit!r} debe ser un tamaño positivo, como '700MiB'.",
                en=f"memory_limit={memory_limit!r} must be a positive size, such as '700MiB'.",
            ))
    _, machine_memory = machine_resources()
    if limit * n_workers > machine_memory:
        total, have = format_bytes(limit * n_workers), format_bytes(machine_memory)
        example = (f"get_client(n_workers={n_workers}, "
                   f"memory_limit='{format_bytes(machine_memory // (2 * n_workers))}')")
        raise ValueError(text(
            es=f"{n_workers} workers x memory_limit {format_bytes(limit)} = {total}, más de lo "
               f"que tiene esta máquina ({have}). Pasa un memory_limit menor o menos workers, "
               f"por ejemplo {example}.",
            en=f"{n_workers} workers x memory_limit {format_bytes(limit)} = {total}, more than "
               f"this machine has ({have}). Pass a smaller memory_limit or fewer workers, "
               f"for example {example}.",
        ))
    return ClusterSpec(n_workers=n_workers, threads_per_worker=threads, memory_limit=int(limit))


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _start_local_cluster(spec: ClusterSpec):
    from distributed import LocalCluster

    # 8787 is the port students and dask-labextension expect; if another cluster holds it, take
    # any free port instead of letting distributed warn about the clash.
    port = DEFAULT_DASHBOARD_PORT if _port_is_free(DEFAULT_DASHBOARD_PORT) else 0
    return LocalCluster(
        n_workers=spec.n_workers,
        threads_per_worker=spec.threads_per_worker,
        memory_limit=spec.memory_limit,
        processes=True,
        host=LOOPBACK,
        dashboard_address=f"{LOOPBACK}:{port}",
        worker_dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def _connect(address: str):
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise ConnectionError(text(
            es=f"No se pudo contactar con el planificador de Dask en {address!r} (de "
               f"{ADDRESS_ENV_VAR}). Arranca uno con `dask scheduler --host 127.0.0.1` y al menos "
               f"un `dask worker {address}`, o borra {ADDRESS_ENV_VAR} para usar un clúster local.",
            en=f"Could not reach the Dask scheduler at {address!r} (from {ADDRESS_ENV_VAR}). "
               f"Start one with `dask scheduler --host 127.0.0.1` and at least one "
               f"`dask worker {address}`, or unset {ADDRESS_ENV_VAR} to use a local cluster.",
        )) from error


def get_client(
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    memory_limit: int | str | None = None,
):
    """Return a ``distributed.Client``, reusing the one a previous call started.

    Parameters only apply to the local cluster (they are ignored, with no error, when
    ``DASK_SCHEDULER_ADDRESS`` points at an external scheduler): ``n_workers`` worker processes
    with ``threads_per_worker`` threads each and a ``memory_limit`` per worker (bytes or a string
    such as ``"700MiB"``). Defaults: one single-threaded worker per core (at most 4), at most
    700 MiB each.
    """
    configure_dask()
    address = os.environ.get(ADDRESS_ENV_VAR, "").strip()
    spec = None if address else make_spec(n_workers, threads_per_worker, memory_limit)
    key = address or spec

    client = _current.get("client")
    if client is not None and client.status == "running" and _current.get("key") == key:
        return client
    close_client()

    if address:
        client = _connect(address)
        cluster = None
    else:
        from distributed import Client

        cluster = _start_local_cluster(spec)
        client = Client(cluster)
    _current.update(client=client, cluster=cluster, key=key)
    return client


def close_client() -> None:
    """Close the client from :func:`get_client` and, if the course started it, its cluster.

    An external cluster (``DASK_SCHEDULER_ADDRESS``) keeps running: only the connection closes.
    Safe to call when nothing is open.
    """
    client = _current.pop("client", None)
    cluster = _current.pop("cluster", None)
    _current.pop("key", None)
    if cluster is not None and client is not None and client.status == "running":
        _retire_workers(client, cluster)
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()


def _retire_workers(client, cluster, timeout_s: float = 10.0) -> None:
    """Stop the local workers before the scheduler, so that none of them logs a failed heartbeat
    to the notebook's stderr while the scheduler goes away (it happens on a loaded machine)."""
    import time

    cluster.scale(0)
    deadline = time.monotonic() + timeout_s
    while client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.1)


async def _switch_work_stealing(enabled: bool, dask_scheduler=None) -> bool:
    """Run on the scheduler: start or stop its work-stealing extension; return the old state."""
    stealing = dask_scheduler.extensions.get("stealing")
    if stealing is None:  # the scheduler was started with work stealing switched off
        return False
    was_on = "stealing" in dask_scheduler.periodic_callbacks
    if enabled:
        await stealing.start()
    else:
        await stealing.stop()
    return was_on


def set_work_stealing(client, enabled: bool) -> bool:
    """Switch the scheduler's work stealing on or off at run time; return whether it was on.

    Work stealing moves queued tasks from a busy worker to an idle one. XGBoost's Dask training
    tasks must run on the worker that holds their partitions: it submits them with loose worker
    restrictions, so a scheduler that steals one (likely on a loaded machine) makes training fail
    with "Invalid worker address". Lessons that train XGBoost switch stealing off first. It works
    the same on a LocalCluster and on an external scheduler, because it runs on the scheduler.
    """
    from functools import partial

    return client.run_on_scheduler(partial(_switch_work_stealing, enabled))


def show_progress(*collections, client=None) -> None:
    """Show Dask's progress bars for ``collections`` and return when all their tasks are done.

    ``distributed.progress()`` in a notebook returns at once and listens to the scheduler on the
    kernel's event loop, which only runs *between* cells. Under "Run All" the next cells run first,
    so the listener may still be connected when a later cell closes the client, and tornado then
    prints a ``BrokenPipeError`` traceback under that cell. Here the same widget listens on the
    client's own event loop and this call blocks until every task has finished (or failed): the
    bars still move while it runs, and nothing is left listening afterwards.

    ``collections`` are persisted collections or futures, as for ``distributed.progress``.
    """
    import time

    from distributed import futures_of
    from distributed.client import default_client
    from distributed.diagnostics.progressbar import MultiProgressWidget
    from IPython.display import display

    client = client or default_client()
    bar = MultiProgressWidget(futures_of(collections), scheduler=client.scheduler.address,
                              complete=True)
    display(bar.widget)
    client.sync(bar.listen)
    # The scheduler's side of the listener notices the closed connection at its next tick
    # (every 100 ms); a cluster closed before that cancels it and logs an ERROR (dask 2026.8).
    time.sleep(0.3)


def uses_external_cluster() -> bool:
    """True when ``DASK_SCHEDULER_ADDRESS`` makes :func:`get_client` use an outside cluster."""
    return bool(os.environ.get(ADDRESS_ENV_VAR, "").strip())


def worker_count(client) -> int:
    """Number of workers currently connected to the client's scheduler."""
    return len(client.scheduler_info()["workers"])


def cluster_summary(client) -> str:
    """A short, readable description of the cluster: workers, threads, memory and dashboard link."""
    from dask.utils import format_bytes

    workers = client.scheduler_info()["workers"].values()
    threads = sum(w["nthreads"] for w in workers)
    memory = sum(w["memory_limit"] for w in workers)
    n, limit = len(workers), format_bytes(memory)
    if uses_external_cluster():
        return text(
            es=f"Clúster externo: {n} workers, {threads} hilos, límite de memoria total {limit}\n"
               f"Dashboard: {client.dashboard_link}",
            en=f"External cluster: {n} workers, {threads} threads, memory limit {limit} in total\n"
               f"Dashboard: {client.dashboard_link}",
        )
    return text(
        es=f"LocalCluster: {n} workers, {threads} hilos, límite de memoria total {limit}\n"
           f"Dashboard: {client.dashboard_link}",
        en=f"LocalCluster: {n} workers, {threads} threads, memory limit {limit} in total\n"
           f"Dashboard: {client.dashboard_link}",
    )
