"""One call to get a Dask client, on a laptop, on Binder or on a real cluster.

``get_client()`` is what every lesson calls::

    from helpers.cluster import get_client, cluster_summary
    client = get_client()
    print(cluster_summary(client))

* If the environment variable ``DASK_SCHEDULER_ADDRESS`` (or dask's ``scheduler-address``
  setting) names a scheduler, for example ``tcp://10.0.0.5:8786``, it connects to it: the same
  notebook then runs on a real multi-process or multi-machine cluster without edits. On
  connecting it checks that the cluster runs the same versions of the packages the course uses
  (:func:`check_versions`) and sends it the course's ``helpers`` package
  (:func:`ship_helpers`), so the cluster needs nothing from the course's checkout.
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

from helpers.i18n import text, warn

LOOPBACK = "127.0.0.1"
ADDRESS_ENV_VAR = "DASK_SCHEDULER_ADDRESS"
DEFAULT_DASHBOARD_PORT = 8787
#: Upper bound for one worker's memory limit when none is given: two workers, the scheduler and
#: the notebook's kernel then fit in Binder's 2 GB.
DEFAULT_WORKER_MEMORY = 700 * 2**20
MAX_DEFAULT_WORKERS = 4
CONNECT_TIMEOUT = "10s"
#: Packages whose versions must match between the notebook and the cluster: ``(module,
#: distributions that provide it)``. Dask's own check covers python, dask, distributed,
#: cloudpickle, msgpack, toolz and tornado; these are the ones the lessons' tasks use.
COURSE_PACKAGES = (
    ("dask", ("dask",)),
    ("distributed", ("distributed",)),
    ("cloudpickle", ("cloudpickle",)),
    ("numpy", ("numpy",)),
    ("pandas", ("pandas",)),
    ("pyarrow", ("pyarrow",)),
    ("sklearn", ("scikit-learn",)),
    ("dask_ml", ("dask-ml",)),
    ("xgboost", ("xgboost-cpu", "xgboost")),
    ("torch", ("torch",)),
    ("fsspec", ("fsspec",)),
)
#: Name under which the course's helpers package is registered on the cluster.
HELPERS_PLUGIN = "course-helpers"

_current: dict = {}


@dataclass(frozen=True)
class ClusterSpec:
    """The shape of a LocalCluster: what ``get_client`` compares to decide whether to reuse.

    Attributes
    ----------
    n_workers : int
        Worker processes.
    threads_per_worker : int
        Threads of each worker.
    memory_limit : int
        Memory limit of each worker, in bytes.

    Examples
    --------
    >>> ClusterSpec(2, 1, 700 * 2**20) == make_spec(2, 1, "700MiB")
    True
    """

    n_workers: int
    threads_per_worker: int
    memory_limit: int


def configure_dask() -> None:
    """Apply the dask settings the course relies on, in this process.

    Dask's own defaults stand (graph optimisations included: nothing the lessons use needs them
    off since dask 2026, docs/dask-versions.md). On JupyterHub/Binder the dashboard link goes
    through the hub's proxy so that it opens in the student's browser.

    Examples
    --------
    >>> import dask
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"JUPYTERHUB_SERVICE_PREFIX": "/user/ana/"}), \\
    ...         dask.config.set({"distributed.dashboard.link": "{host}:{port}"}):
    ...     configure_dask()
    ...     dask.config.get("distributed.dashboard.link")
    '/user/ana/proxy/{port}/status'
    """
    import dask

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        dask.config.set({"distributed.dashboard.link": prefix.rstrip("/") + "/proxy/{port}/status"})


def machine_resources() -> tuple[int, int]:
    """Return ``(cores, memory_bytes)`` available to this process, honouring cgroup limits.

    Returns
    -------
    tuple of int
        ``(cores, memory_bytes)``, as dask and distributed count them.

    Examples
    --------
    >>> cores, memory_bytes = machine_resources()
    >>> cores >= 1 and memory_bytes > 0
    True
    """
    from dask.system import CPU_COUNT
    from distributed.system import MEMORY_LIMIT

    return int(CPU_COUNT), int(MEMORY_LIMIT)


def default_spec() -> ClusterSpec:
    """The LocalCluster shape for this machine: one single-threaded worker per core (at most 4).

    Each worker gets at most :data:`DEFAULT_WORKER_MEMORY`, and all of them together at most
    60 % of the machine's memory.

    Returns
    -------
    ClusterSpec

    Examples
    --------
    >>> spec = default_spec()
    >>> 1 <= spec.n_workers <= MAX_DEFAULT_WORKERS, spec.threads_per_worker
    (True, 1)
    >>> spec.memory_limit <= DEFAULT_WORKER_MEMORY
    True
    """
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

    Parameters
    ----------
    n_workers : int, optional
        Worker processes, 1 or more.
    threads_per_worker : int, optional
        Threads of each worker, 1 or more.
    memory_limit : int or str, optional
        Memory limit of each worker: bytes, or a string such as ``"700MiB"``; all the workers
        together must fit in this machine.

    Returns
    -------
    ClusterSpec

    Raises
    ------
    ValueError
        With a message that says what to pass instead.

    Examples
    --------
    >>> make_spec(n_workers=2, threads_per_worker=1, memory_limit="500MiB")
    ClusterSpec(n_workers=2, threads_per_worker=1, memory_limit=524288000)
    >>> make_spec(n_workers=0)
    Traceback (most recent call last):
    ...
    ValueError: n_workers=0: a cluster needs at least one worker with one thread. Pass a whole \
number of 1 or more, for example get_client(n_workers=2).
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


def scheduler_address() -> str:
    """The external scheduler to use: ``$DASK_SCHEDULER_ADDRESS``, else dask's
    ``scheduler-address`` setting (``~/.config/dask/*.yaml``), else ``""`` (a local cluster).

    The variable is read at every call, so that setting it in a running kernel takes effect;
    set it to ``""`` to go back to a local cluster (dask copies the variable into its
    ``scheduler-address`` setting when it is imported, so deleting it is not enough).

    Returns
    -------
    str
        The scheduler's address, such as ``"tcp://10.0.0.5:8786"``, or ``""``.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {ADDRESS_ENV_VAR: " tcp://10.0.0.5:8786 "}):
    ...     scheduler_address()
    'tcp://10.0.0.5:8786'
    >>> with mock.patch.dict(os.environ, {ADDRESS_ENV_VAR: ""}):
    ...     scheduler_address()
    ''
    """
    import dask

    if ADDRESS_ENV_VAR in os.environ:  # set, even to "": it decides
        return os.environ[ADDRESS_ENV_VAR].strip()
    return str(dask.config.get("scheduler-address", None) or "").strip()


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


def _version_probe():
    """A function that returns ``{module: installed version}`` for ``(module, distributions)``
    pairs, made inside this call so that cloudpickle sends its code by value: it runs on a
    cluster that does not have the course's helpers yet. Nothing is imported, only the
    distributions' metadata read; a missing module gets ``None``, Python its major.minor."""
    def installed_versions(packages) -> dict:
        import importlib.metadata
        import sys

        found = {"python": "{}.{}".format(*sys.version_info[:2])}
        for module, distributions in packages:
            found[module] = None
            for distribution in distributions:
                try:
                    found[module] = importlib.metadata.version(distribution).split("+")[0]
                    break
                except importlib.metadata.PackageNotFoundError:
                    continue
        return found
    return installed_versions


def version_mismatches(versions: dict[str, dict]) -> dict[str, dict[str, str | None]]:
    """The packages whose version differs between processes: ``{package: {process: version}}``.

    Parameters
    ----------
    versions : dict
        ``{process name: {package: version or None}}``, the first process being the notebook.
        A package the notebook does not have is not compared.

    Returns
    -------
    dict
        ``{package: {process name: version or None}}`` for each package whose version is not
        the same everywhere; empty when all agree.

    Examples
    --------
    >>> version_mismatches({"notebook": {"dask": "2026.8.0", "torch": None},
    ...                     "worker tcp://10.0.0.3:4000": {"dask": "2025.1.0", "torch": "2.13.0"}})
    {'dask': {'notebook': '2026.8.0', 'worker tcp://10.0.0.3:4000': '2025.1.0'}}
    """
    reference = next(iter(versions.values()))
    mismatches = {}
    for package, wanted in reference.items():
        if wanted is None:
            continue
        seen = {name: found.get(package) for name, found in versions.items()}
        if len(set(seen.values())) > 1:
            mismatches[package] = seen
    return mismatches


def check_versions(client) -> None:
    """Check that the scheduler and every worker run the notebook's versions of the course's
    packages (:data:`COURSE_PACKAGES`, and Python's major.minor).

    A cluster built from another image or environment fails here, at connect time, instead of
    later with a puzzling error inside a task (a pickle that will not load, a missing keyword).
    The scheduler only needs dask's own packages; the workers need all of them.

    Parameters
    ----------
    client : distributed.Client
        Connected to the cluster to check.

    Raises
    ------
    RuntimeError
        Naming each package, the version in the notebook and where it differs, and what to do.

    Examples
    --------
    >>> from distributed import Client
    >>> client = Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0",
    ...                 worker_dashboard_address="127.0.0.1:0")
    >>> check_versions(client)  # the same process: the same versions, nothing to say
    >>> client.close()
    """
    probe = _version_probe()
    notebook = probe(COURSE_PACKAGES)
    scheduler_side = {"python", "dask", "distributed", "cloudpickle"}
    on_scheduler = client.run_on_scheduler(probe, COURSE_PACKAGES)
    versions = {"notebook": notebook,
                text(es="planificador", en="scheduler"): {
                    k: (v if k in scheduler_side else notebook[k])
                    for k, v in on_scheduler.items()}}
    for address, found in client.run(probe, COURSE_PACKAGES).items():
        versions[f"worker {address}"] = found
    mismatches = version_mismatches(versions)
    if not mismatches:
        return
    lines = [f"  {package}: " + ", ".join(f"{where} {found or '-'}"
                                          for where, found in seen.items())
             for package, seen in mismatches.items()]
    raise RuntimeError(text(
        es="El clúster no tiene las mismas versiones que este notebook:\n" + "\n".join(lines)
           + "\nInstala en el planificador y en los workers el mismo entorno que el notebook "
             "(requirements.txt con constraints.txt, o la misma imagen), o ejecuta el notebook en "
             "el entorno del clúster.",
        en="The cluster does not run the same versions as this notebook:\n" + "\n".join(lines)
           + "\nInstall the notebook's environment on the scheduler and the workers "
             "(requirements.txt with constraints.txt, or the same image), or run the notebook in "
             "the cluster's environment.",
    ))


def _helpers_archive() -> str:
    """A zip of the course's ``helpers`` package, named after its contents; return its path."""
    import hashlib
    import tempfile
    import zipfile
    from pathlib import Path

    package = Path(__file__).resolve().parent
    sources = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    names = [source.relative_to(package).as_posix() for source in sources]
    digest = hashlib.sha256(b"".join(name.encode() + p.read_bytes()
                                     for name, p in zip(names, sources, strict=True))
                            ).hexdigest()[:12]
    archive = Path(tempfile.gettempdir()) / f"course_helpers_{digest}.zip"
    if not archive.exists():
        partial_archive = archive.with_suffix(f".{os.getpid()}.tmp")
        with zipfile.ZipFile(partial_archive, "w") as bundle:
            for name, source in zip(names, sources, strict=True):
                bundle.write(source, f"helpers/{name}")
        partial_archive.replace(archive)
    return str(archive)


def ship_helpers(client) -> None:
    """Send the course's ``helpers`` package to the scheduler and every worker, present and future.

    Lessons send the cluster functions from ``helpers`` (to run on the workers, or on the
    scheduler, as :func:`set_work_stealing` does) and cloudpickle sends those by reference: the
    other side imports them. A cluster built from the course's environment but not its checkout
    (a Kubernetes image, a batch job) has no ``helpers`` to import. This uploads a zip of the
    package as a worker and a scheduler plugin, under one name: workers that join later get it
    too, and calling it again with the same code does nothing. New code replaces the plugin, but
    workers already running keep the helpers modules they had imported (it warns: restart them).

    Parameters
    ----------
    client : distributed.Client
        Connected to the cluster that needs the helpers.

    Examples
    --------
    :func:`get_client` calls it on connecting to an external scheduler; by hand:

    >>> from distributed import Client
    >>> client = Client("tcp://10.0.0.5:8786")  # doctest: +SKIP
    >>> ship_helpers(client)                     # doctest: +SKIP
    """
    from distributed.diagnostics.plugin import SchedulerUploadFile, UploadFile

    archive = _helpers_archive()

    def uploaded(dask_scheduler=None):  # nested: sent by value, runs without the helpers
        if HELPERS_PLUGIN not in dask_scheduler.worker_plugins:
            return None
        return getattr(dask_scheduler.plugins.get(HELPERS_PLUGIN), "filename", None)

    already = client.run_on_scheduler(uploaded)
    if already == os.path.basename(archive):
        return  # this very version is already there
    if already is not None:
        warn(
            es="El clúster tenía otra versión de helpers: los workers que ya corren conservan "
               "los módulos que ya importaron. Reinícialos con client.restart() para que "
               "usen la nueva.",
            en="The cluster had another version of helpers: workers already running keep the "
               "modules they have imported. Restart them with client.restart() to use the "
               "new one.",
            stacklevel=3)
    # Workers first: the scheduler's copy is what says "uploaded", so it goes last.
    client.register_plugin(UploadFile(archive, load=True), name=HELPERS_PLUGIN)
    client.register_plugin(SchedulerUploadFile(archive, load=True), name=HELPERS_PLUGIN)


def _warn_ignored(**arguments) -> None:
    given = ", ".join(f"{name}={value!r}" for name, value in arguments.items()
                      if value is not None)
    if given:
        warn(
            es=f"get_client({given}): sin efecto, porque el clúster es externo "
               f"({ADDRESS_ENV_VAR}); su tamaño lo decide quien lo arrancó.",
            en=f"get_client({given}): ignored, because the cluster is external "
               f"({ADDRESS_ENV_VAR}); its size is up to whoever started it.",
            stacklevel=3)


def get_client(
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    memory_limit: int | str | None = None,
):
    """Return a ``distributed.Client``, reusing the one a previous call started.

    Parameters only apply to the local cluster: ``n_workers`` worker processes with
    ``threads_per_worker`` threads each and a ``memory_limit`` per worker (bytes or a string
    such as ``"700MiB"``). Defaults: one single-threaded worker per core (at most 4), at most
    700 MiB each. With an external scheduler (:func:`scheduler_address`) they are ignored, with
    a warning, and the first connection checks versions (:func:`check_versions`) and sends the
    helpers package (:func:`ship_helpers`).

    Parameters
    ----------
    n_workers : int, optional
        Worker processes of the local cluster.
    threads_per_worker : int, optional
        Threads of each worker.
    memory_limit : int or str, optional
        Memory limit of each worker: bytes, or a string such as ``"700MiB"``.

    Returns
    -------
    distributed.Client
        The same one as the previous call when the cluster and its shape have not changed.

    Raises
    ------
    ValueError
        When the arguments do not describe a cluster that fits this machine (:func:`make_spec`).
    ConnectionError
        When the external scheduler cannot be reached.
    RuntimeError
        When the external cluster runs other versions of the course's packages.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {ADDRESS_ENV_VAR: ""}):  # a local cluster here
    ...     client = get_client(n_workers=1, memory_limit="400MiB")
    ...     same = get_client(n_workers=1, memory_limit="400MiB")
    ...     print(same is client, worker_count(client))
    ...     close_client()
    True 1
    """
    configure_dask()
    address = scheduler_address()
    spec = None if address else make_spec(n_workers, threads_per_worker, memory_limit)
    key = address or spec

    client = _current.get("client")
    if client is not None and client.status == "running" and _current.get("key") == key:
        return client
    close_client()

    if address:
        _warn_ignored(n_workers=n_workers, threads_per_worker=threads_per_worker,
                      memory_limit=memory_limit)
        client = _connect(address)
        cluster = None
        try:
            check_versions(client)
            ship_helpers(client)
        except BaseException:
            client.close()
            raise
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

    Examples
    --------
    See :func:`get_client`; with nothing open it does nothing:

    >>> close_client()
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

    Parameters
    ----------
    client : distributed.Client
        Connected to the scheduler to change.
    enabled : bool
        Whether work stealing should run from now on.

    Returns
    -------
    bool
        Whether it was running before this call (``False`` when the scheduler was started
        without it).

    Examples
    --------
    >>> from distributed import Client
    >>> client = Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0",
    ...                 worker_dashboard_address="127.0.0.1:0")
    >>> set_work_stealing(client, False), set_work_stealing(client, True)
    (True, False)
    >>> client.close()
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

    Parameters
    ----------
    *collections : dask collections or distributed.Future
        Persisted collections or futures, as for ``distributed.progress``.
    client : distributed.Client, optional
        Whose scheduler to listen to; default: the current client.

    Examples
    --------
    In a notebook (the bars are an ipywidget):

    >>> table = get_client().persist(frame)  # doctest: +SKIP
    >>> show_progress(table)                 # doctest: +SKIP
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
    """True when :func:`get_client` uses an outside cluster (:func:`scheduler_address`).

    Returns
    -------
    bool

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {ADDRESS_ENV_VAR: "tcp://10.0.0.5:8786"}):
    ...     uses_external_cluster()
    True
    >>> with mock.patch.dict(os.environ, {ADDRESS_ENV_VAR: ""}):
    ...     uses_external_cluster()
    False
    """
    return bool(scheduler_address())


def worker_count(client) -> int:
    """Number of workers currently connected to the client's scheduler.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    int

    Examples
    --------
    >>> from distributed import Client
    >>> client = Client(processes=False, n_workers=2, dashboard_address="127.0.0.1:0",
    ...                 worker_dashboard_address="127.0.0.1:0")
    >>> worker_count(client)
    2
    >>> client.close()
    """
    return len(client.scheduler_info()["workers"])


def cluster_summary(client) -> str:
    """A short, readable description of the cluster: workers, threads, memory and dashboard link.

    In the lesson's language (:mod:`helpers.i18n`); it says whether the cluster is external
    (:func:`uses_external_cluster`) or a LocalCluster.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    str
        Two lines: the cluster, then its dashboard's link.

    Examples
    --------
    >>> from unittest import mock
    >>> from distributed import Client
    >>> client = Client(processes=False, n_workers=2, threads_per_worker=1, memory_limit="500MiB",
    ...                 dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0")
    >>> with mock.patch.dict(os.environ, {ADDRESS_ENV_VAR: ""}):
    ...     print(cluster_summary(client))  # doctest: +ELLIPSIS
    LocalCluster: 2 workers, 2 threads, memory limit 0.98 GiB in total
    Dashboard: http://.../status
    >>> client.close()
    """
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
