"""Worker-side plumbing for the lessons that run libraries on Dask's workers (03, 05 and 09).

A lesson shows one line for each of these and this module does the work behind it:

* :func:`xgboost_training` -- what a lesson wraps around every ``xgboost.dask`` fit: work
  stealing off (:func:`work_stealing_off`) and the workers' native stderr sent to log files
  (:func:`worker_stderr_to_log`), both put back as they were when the block ends;
* :func:`log_lines` -- the lines of those log files that contain some text;
* :func:`memory_growth` -- how much the memory of each process (this kernel and every worker)
  grew while a block ran, sampled the same way in all of them, so that "does it fit in one
  machine?" compares like with like;
* :func:`quiet_optuna` -- Optuna's experimental-feature warning for ``DaskStorage`` and its
  per-trial log lines silenced in every process of the study (kernel, scheduler, workers).

Nothing happens at import time.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from helpers.cluster import set_work_stealing, uses_external_cluster

MIB = 2**20
#: How often :func:`memory_growth` samples each process's memory, in seconds.
SAMPLE_INTERVAL_S = 0.05
#: XGBoost's native log lines start with the time: ``[10:31:07] Task ... got rank 0``.
_LOG_TIME = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*")


# --- work stealing --------------------------------------------------------------------------

@contextmanager
def work_stealing_off(client) -> Iterator[bool]:
    """Switch the scheduler's work stealing off while the block runs, then restore it.

    XGBoost's Dask training tasks must run on the worker that holds their partitions, but they
    are submitted with *loose* worker restrictions, which work stealing may ignore: on a loaded
    machine the scheduler moves one and training fails with ``Invalid worker address``. Stealing
    is switched back on afterwards only if it was on before, so an external scheduler is left
    as it was found (it runs on the scheduler: see :func:`helpers.cluster.set_work_stealing`).

    Parameters
    ----------
    client : distributed.Client
        The client whose scheduler to change.

    Yields
    ------
    bool
        Whether work stealing was on before the block.

    Examples
    --------
    >>> from distributed import Client
    >>> client = Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0",
    ...                 worker_dashboard_address="127.0.0.1:0")
    >>> with work_stealing_off(client) as was_on:
    ...     print(was_on, set_work_stealing(client, False))  # on before, off inside
    True False
    >>> set_work_stealing(client, True)  # it was switched back on
    True
    >>> client.close()
    """
    was_on = set_work_stealing(client, False)
    try:
        yield was_on
    finally:
        if was_on and client.status == "running":
            set_work_stealing(client, True)


# --- native stderr of the workers -----------------------------------------------------------

def _fd2_to_file(folder: str | None, dask_worker=None) -> dict:
    """Run on a worker: point file descriptor 2 at a log file; return how to undo it."""
    directory = folder or dask_worker.local_directory
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"worker-{os.getpid()}-stderr.log")
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    # C++ (std::cerr) and Python (sys.stderr) both write to descriptor 2.
    os.dup2(target, 2)
    os.close(target)
    return {"path": path, "saved": saved, "pid": os.getpid()}


def _fd2_back(undo: dict, dask_worker=None) -> bool:
    """Run on a worker: put back the descriptor 2 saved by :func:`_fd2_to_file`."""
    mine = undo.get(dask_worker.address)
    # A worker that restarted in between is a new process: its descriptors are not ours.
    if mine is None or mine["pid"] != os.getpid():
        return False
    sys.stderr.flush()
    os.dup2(mine["saved"], 2)
    os.close(mine["saved"])
    return True


@contextmanager
def worker_stderr_to_log(client, folder: str | os.PathLike | None = None) -> Iterator[dict]:
    """Send every local worker's native stderr to a log file while the block runs.

    XGBoost's C++ core writes ``[10:31:07] Task [xgboost.dask-0]:tcp://... got rank 0`` to the
    worker process's file descriptor 2 when training starts, at a log level that ignores every
    verbosity setting. The workers of a LocalCluster inherit the notebook's stderr, so the line
    would land in whatever cell is running. This points descriptor 2 of each worker (C++ and
    Python alike) at ``worker-<pid>-stderr.log``, as a real cluster keeps each worker's output
    in its own log, and restores the original descriptor when the block ends, even after an
    error. Nothing is lost: read the files afterwards (:func:`log_lines`).

    An external cluster (``DASK_SCHEDULER_ADDRESS``) is left alone: its workers' stderr is not
    the notebook's, they already log elsewhere.

    Parameters
    ----------
    client : distributed.Client
        The client whose workers to redirect.
    folder : path, optional
        Where to write the log files (created if needed). Default: each worker's own
        ``local_directory``, which disappears with the cluster.

    Yields
    ------
    dict
        ``{worker address: path of its log file}`` (empty for an external cluster).

    Examples
    --------
    >>> with worker_stderr_to_log(client) as logs:     # doctest: +SKIP
    ...     model = xgboost.dask.train(client, params, train)
    >>> log_lines(logs.values(), "got rank")           # doctest: +SKIP
    ['Task [xgboost.dask-0]:tcp://127.0.0.1:40331 got rank 0', ...]
    """
    if uses_external_cluster():
        yield {}
        return
    undo = client.run(_fd2_to_file, None if folder is None else str(folder))
    try:
        yield {address: info["path"] for address, info in undo.items()}
    finally:
        if client.status == "running":
            client.run(_fd2_back, undo)


@contextmanager
def xgboost_training(client, log_folder: str | os.PathLike | None = None) -> Iterator[dict]:
    """What a lesson wraps around an ``xgboost.dask`` fit: stealing off, native logs to files.

    The same as ``with work_stealing_off(client), worker_stderr_to_log(client, log_folder)``;
    both are put back as they were when the block ends.

    Parameters
    ----------
    client : distributed.Client
        The client of the cluster that trains.
    log_folder : path, optional
        Where to write the workers' log files (see :func:`worker_stderr_to_log`).

    Yields
    ------
    dict
        ``{worker address: path of its log file}``, as :func:`worker_stderr_to_log`.

    Examples
    --------
    >>> with xgboost_training(client) as logs:                     # doctest: +SKIP
    ...     booster = xgboost.dask.train(client, params, dtrain)["booster"]
    """
    with work_stealing_off(client), worker_stderr_to_log(client, log_folder) as logs:
        yield logs


def log_lines(paths: Iterable[str | os.PathLike], containing: str) -> list[str]:
    """The lines of the files ``paths`` that contain ``containing``, sorted, without the time.

    XGBoost's native lines start with ``[HH:MM:SS]``; it is removed so that the lines read the
    same on every run. Missing files are skipped.

    Parameters
    ----------
    paths : iterable of path
        Log files, such as the values that :func:`worker_stderr_to_log` yields.
    containing : str
        The text a line must contain.

    Returns
    -------
    list of str
        The lines, stripped, without their leading time, sorted.

    Examples
    --------
    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "worker.log"
    >>> _ = log.write_text("[10:31:07] Task [xgboost.dask-1]: got rank 1\\nother\\n")
    >>> log_lines([log], "got rank")
    ['Task [xgboost.dask-1]: got rank 1']
    """
    found = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            continue
        with path.open(errors="replace") as handle:
            found += [_LOG_TIME.sub("", line).strip() for line in handle if containing in line]
    return sorted(found)


# --- memory of each process -----------------------------------------------------------------

class _PeakSampler:
    """Samples this process's resident memory (RSS) in a thread; keeps the first and the peak."""

    def __init__(self, interval: float) -> None:
        import psutil

        self._process = psutil.Process()
        self.interval = interval
        self.start_rss = self.peak_rss = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="helpers.workers", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> float:
        """Stop sampling; return the growth (peak minus start) in MiB."""
        self._stop.set()
        self._thread.join()
        self._sample()
        return (self.peak_rss - self.start_rss) / MIB


#: Samplers running in this process (the kernel, or a worker), by token.
_samplers: dict[str, _PeakSampler] = {}


def _release_free_memory() -> None:
    """Hand memory that this process freed but kept back to the system, so growth starts clean.

    Python objects already garbage, pyarrow's pool of freed buffers, and glibc's free heap pages
    (``malloc_trim``); each step is skipped where it does not apply.
    """
    import gc

    gc.collect()
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _start_sampling(token: str, interval: float) -> None:
    _release_free_memory()
    _samplers[token] = _PeakSampler(interval)


def _stop_sampling(token: str) -> float | None:
    sampler = _samplers.pop(token, None)
    return None if sampler is None else sampler.stop()


@dataclass
class MemoryGrowth:
    """How much each process's memory grew during a block (peak minus start), in MiB.

    Attributes
    ----------
    kernel_mib : float
        This kernel's growth.
    workers_mib : dict of str to float
        Each worker's growth, by address.

    Examples
    --------
    >>> growth = MemoryGrowth(10.0, {"tcp://b:1": 30.0, "tcp://a:1": 5.0})
    >>> growth.per_process_mib, growth.total_mib, growth.largest_mib
    ([10.0, 5.0, 30.0], 45.0, 30.0)
    """

    kernel_mib: float = 0.0
    workers_mib: dict[str, float] = field(default_factory=dict)

    @property
    def per_process_mib(self) -> list[float]:
        """The kernel's growth, then each worker's (in address order)."""
        return [self.kernel_mib, *(self.workers_mib[a] for a in sorted(self.workers_mib))]

    @property
    def total_mib(self) -> float:
        """The growth of all the processes together."""
        return sum(self.per_process_mib)

    @property
    def largest_mib(self) -> float:
        """The growth of the process that grew most."""
        return max(self.per_process_mib)


@contextmanager
def memory_growth(client=None, interval: float = SAMPLE_INTERVAL_S) -> Iterator[MemoryGrowth]:
    """Measure how much the memory of each process grows while the block runs.

    One sampler per process, started at the beginning of the block, reads that process's
    resident memory every ``interval`` seconds and keeps the peak; the growth is the peak minus
    the memory at the start. It runs *inside* each process (the kernel, and every worker of
    ``client`` through ``client.run``), so it is the same instrument on every side and works on
    an external cluster too. That is what "does this job fit in one machine?" needs: the memory
    of each process separately, where :func:`helpers.measure.measure` adds them all up.

    Parameters
    ----------
    client : distributed.Client, optional
        Whose workers to sample as well as this kernel.
    interval : float
        Seconds between samples (default :data:`SAMPLE_INTERVAL_S`).

    Yields
    ------
    MemoryGrowth
        Filled in when the block ends.

    Examples
    --------
    >>> with memory_growth() as growth:
    ...     block = b"x" * (64 * MIB)  # 64 MiB, every page written
    >>> growth.kernel_mib > 32, growth.workers_mib
    (True, {})
    """
    token = uuid.uuid4().hex
    growth = MemoryGrowth()
    if client is not None:
        client.run(_start_sampling, f"worker-{token}", interval)
    _start_sampling(f"kernel-{token}", interval)
    try:
        yield growth
    finally:
        growth.kernel_mib = _stop_sampling(f"kernel-{token}")
        if client is not None and client.status == "running":
            found = client.run(_stop_sampling, f"worker-{token}")
            growth.workers_mib = {a: mib for a, mib in found.items() if mib is not None}


# --- Optuna on the workers ------------------------------------------------------------------

#: The start of the one warning :func:`quiet_optuna` filters (a regular expression, matched at
#: the start of the message, as :func:`warnings.filterwarnings` does).
DASK_STORAGE_WARNING = r"DaskStorage is experimental"
#: The name under which :func:`quiet_optuna` registers its worker plugin (registering it again
#: replaces it, so calling :func:`quiet_optuna` twice is harmless).
QUIET_OPTUNA_PLUGIN = "helpers-quiet-optuna"


def _quiet_optuna_here() -> bool:
    """In this process: filter the ``DaskStorage`` warning and set Optuna's verbosity to WARNING.

    Returns ``True`` so that ``client.run`` shows which processes did it.
    """
    import warnings

    import optuna
    from optuna.exceptions import ExperimentalWarning

    warnings.filterwarnings("ignore", message=DASK_STORAGE_WARNING, category=ExperimentalWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return True


def _quiet_optuna_plugin():
    """A WorkerPlugin that runs :func:`_quiet_optuna_here` on every worker, now and later."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietOptuna(WorkerPlugin):
        name = QUIET_OPTUNA_PLUGIN

        def setup(self, worker) -> None:
            _quiet_optuna_here()

    return QuietOptuna()


def quiet_optuna(client=None) -> None:
    """Silence Optuna's ``DaskStorage`` warning and its per-trial log lines, everywhere.

    An Optuna study with ``optuna_integration.dask.DaskStorage`` runs in three kinds of process:
    the study's storage lives on the scheduler, its trials run on the workers, and the notebook
    creates it and reads the results. Two things would reach the notebook from all of them (a
    local cluster's workers share the notebook's stderr, which Jupyter shows in the running
    cell):

    * ``ExperimentalWarning: DaskStorage is experimental (supported from v3.1.0)...``, raised
      every time a ``DaskStorage`` is created, and that includes every worker unpickling the
      study it was sent. It is Optuna's standard notice for an interface marked experimental
      (``DaskStorage`` has been since v3.1.0) and says nothing a student can act on. Only this
      warning is filtered: every other warning, Optuna's other experimental notices included,
      still shows.
    * Optuna's INFO line per trial (``Trial 3 pruned.``, ``Trial 4 finished with value...``)
      and per study created. Verbosity WARNING keeps warnings and errors.

    This does both in this process, on the scheduler (``client.run_on_scheduler``) and on
    every worker through a worker plugin, so workers that join later (a restart, a cluster
    that scales up) are silenced as well. Call it before creating the ``DaskStorage``.

    Parameters
    ----------
    client : distributed.Client, optional
        The client of the cluster the study runs on. Without one, only this process.

    Examples
    --------
    >>> import optuna
    >>> quiet_optuna()
    >>> optuna.logging.get_verbosity() == optuna.logging.WARNING
    True
    """
    _quiet_optuna_here()
    if client is None:
        return
    client.run_on_scheduler(_quiet_optuna_here)
    client.register_plugin(_quiet_optuna_plugin(), name=QUIET_OPTUNA_PLUGIN)
