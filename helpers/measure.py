"""Measure wall time, CPU time and peak memory of the notebook *and* its cluster together.

A Dask computation runs in other processes (the workers, the scheduler, a Spark JVM), so
measuring only the notebook's own process would miss most of the work. :func:`measure` samples
the whole process tree below the kernel, plus the workers and scheduler of a client you pass:
on this machine from here, on other machines from the workers themselves (a sampler thread in
each worker and in the scheduler, started and collected with ``client.run``)::

    from helpers.measure import measure, Results

    results = Results()
    with measure("serial", results) as m:
        search.fit(X, y)
    print(m)                 # serial: 3.20 s wall, 3.10 s CPU, peak 812 MiB
    results.table()          # one row per measurement, headers in the lesson's language

Nothing starts at import time.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from helpers.i18n import resolve, text, warn

MIB = 2**20
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

#: Headers of :meth:`Results.table`, per column of :meth:`Results.to_frame`.
COLUMN_NAMES = {
    "wall_s": {"es": "tiempo de reloj (s)", "en": "wall time (s)"},
    "cpu_s": {"es": "tiempo de CPU (s)", "en": "CPU time (s)"},
    "cpu_utilisation": {"es": "núcleos ocupados", "en": "cores busy"},
    "peak_mib": {"es": "memoria pico (MiB)", "en": "peak memory (MiB)"},
    "start_mib": {"es": "memoria al empezar (MiB)", "en": "memory at start (MiB)"},
    "processes": {"es": "procesos", "en": "processes"},
}
INDEX_NAME = {"es": "medición", "en": "measurement"}
DEFAULT_COLUMNS = ("wall_s", "cpu_s", "cpu_utilisation", "peak_mib")


@dataclass
class Measurement:
    """What :func:`measure` found for one block of code.

    Attributes
    ----------
    label : str
        The name the lesson gave the block (``"serial"``, ``"dask, 2 workers"``).
    wall_s : float
        Wall-clock seconds.
    cpu_s : float
        CPU seconds (user + system) over every sampled process.
    peak_mib : float
        The highest memory (RSS) of the sampled processes together, in MiB.
    start_mib : float
        Their memory when the block started, in MiB.
    processes : int
        How many different processes were sampled.
    extra : dict
        Anything more: ``"cluster_peak_mib"``, the part of ``peak_mib`` on other machines.

    Examples
    --------
    >>> m = Measurement("serial", wall_s=2.0, cpu_s=3.9, peak_mib=300.4)
    >>> round(m.cpu_utilisation, 2)
    1.95
    """

    label: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mib: float = 0.0
    start_mib: float = 0.0
    processes: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def cpu_utilisation(self) -> float:
        """CPU seconds per wall second: about the number of cores kept busy."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def __str__(self) -> str:
        return text(
            es=f"{self.label}: {self.wall_s:.2f} s de reloj, {self.cpu_s:.2f} s de CPU, "
               f"pico de {self.peak_mib:.0f} MiB",
            en=f"{self.label}: {self.wall_s:.2f} s wall, {self.cpu_s:.2f} s CPU, "
               f"peak {self.peak_mib:.0f} MiB",
        )


class Results:
    """An ordered collection of :class:`Measurement` rows, shown as a pandas table."""

    def __init__(self) -> None:
        self.rows: list[Measurement] = []

    def add(self, measurement: Measurement) -> None:
        """Append a measurement, replacing an earlier one with the same label (a re-run cell).

        Parameters
        ----------
        measurement : Measurement
            The row to add, last.

        Examples
        --------
        >>> results = Results()
        >>> results.add(Measurement("serial", wall_s=4.0))
        >>> results.add(Measurement("serial", wall_s=3.5))
        >>> [(row.label, row.wall_s) for row in results.rows]
        [('serial', 3.5)]
        """
        self.rows = [row for row in self.rows if row.label != measurement.label]
        self.rows.append(measurement)

    def __getitem__(self, label: str) -> Measurement:
        for row in self.rows:
            if row.label == label:
                return row
        have = [r.label for r in self.rows]
        raise KeyError(text(es=f"No hay ninguna medición llamada {label!r}; hay {have}",
                            en=f"No measurement labelled {label!r}; have {have}"))

    def to_frame(self):
        """Every measurement as a table, with the field names of :class:`Measurement`.

        Returns
        -------
        pandas.DataFrame
            One row per measurement, indexed by label, with ``cpu_utilisation`` and the keys
            of each ``extra`` as columns too.
        """
        import pandas as pd

        records = []
        for row in self.rows:
            record = asdict(row)
            extra = record.pop("extra")
            record["cpu_utilisation"] = row.cpu_utilisation
            record.update(extra)
            records.append(record)
        return pd.DataFrame.from_records(records).set_index("label")

    def table(self, *columns: str, digits: int = 2, lang: str | None = None):
        """The measurements to show a student: chosen columns of :meth:`to_frame`, rounded,
        with headers in the lesson's language (columns the course doesn't know keep their name).

        Parameters
        ----------
        *columns : str
            Columns of :meth:`to_frame` (default: wall time, CPU time, cores busy, peak memory).
        digits : int
            Decimals to round to.
        lang : {"es", "en"}, optional
            The headers' language (default: the one set with ``helpers.i18n.set_language``).

        Returns
        -------
        pandas.DataFrame
            Indexed by label, the index and column names in ``lang``.

        Examples
        --------
        >>> results = Results()
        >>> results.add(Measurement("serial", wall_s=2.0, cpu_s=1.96, peak_mib=300.4))
        >>> list(results.table("wall_s", "peak_mib", lang="es").columns)
        ['tiempo de reloj (s)', 'memoria pico (MiB)']
        >>> results.table("wall_s", lang="es").index.name
        'medición'
        """
        lang = resolve(lang)
        frame = self.to_frame()[list(columns or DEFAULT_COLUMNS)].round(digits)
        frame = frame.rename(columns={k: v[lang] for k, v in COLUMN_NAMES.items()})
        frame.index.name = INDEX_NAME[lang]
        return frame


def speedup(baseline: Measurement, faster: Measurement) -> float:
    """How many times less wall time ``faster`` took than ``baseline``.

    Parameters
    ----------
    baseline : Measurement
        The reference, usually the serial run.
    faster : Measurement
        The run to compare with it.

    Returns
    -------
    float
        ``baseline.wall_s / faster.wall_s``: above 1 when ``faster`` was faster.

    Examples
    --------
    >>> speedup(Measurement("serial", wall_s=4.0), Measurement("parallel", wall_s=2.5))
    1.6
    """
    return baseline.wall_s / faster.wall_s


def _is_local(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host in LOCAL_HOSTS or host in {socket.gethostname(), socket.getfqdn()}


def cluster_pids(client) -> list[int]:
    """The process IDs of the client's scheduler and workers that run on this machine.

    Parameters
    ----------
    client : distributed.Client
        A connected client.

    Returns
    -------
    list of int
        One per worker process on this machine, then the scheduler's when it runs here too.
        Processes on other machines are left out (they cannot be sampled from here).
    """
    pids = []
    for address, pid in client.run(os.getpid).items():
        if _is_local(address):
            pids.append(pid)
    if _is_local(client.scheduler.address):
        pids.append(client.run_on_scheduler(os.getpid))
    return pids


class ProcessTreeSampler:
    """Sample the memory and CPU time of some processes and of every process below them.

    A thread takes a sample every ``interval`` seconds between :meth:`start` and :meth:`stop`
    (or inside ``with``): the RSS summed over the roots and all their descendants alive at that
    moment, and each process's CPU time. Processes that start in between (a Dask worker, a
    DataLoader worker, a Spark JVM) are counted from their first sample on; processes that end
    keep the CPU time last seen. :func:`measure` is built on it; tools use it to measure a
    process they started (``tools.notebook_runner`` samples a notebook's kernel).

    Parameters
    ----------
    root_pids : iterable of int
        The processes to sample, with everything below them (repeats are ignored).
    interval : float
        Seconds between two samples.

    Attributes
    ----------
    peak_rss : int
        The largest summed RSS sampled so far, in bytes.
    start_rss : int
        The summed RSS at :meth:`start`, in bytes.

    Raises
    ------
    psutil.NoSuchProcess
        When a root process does not exist.

    Examples
    --------
    >>> import os
    >>> with ProcessTreeSampler([os.getpid()], interval=0.01) as sampler:
    ...     block = bytearray(50 * 2**20)
    >>> sampler.peak_rss >= sampler.start_rss > 0, sampler.process_count >= 1
    (True, True)
    """

    def __init__(self, root_pids: Iterable[int], interval: float) -> None:
        import psutil

        self._psutil = psutil
        self.roots = [psutil.Process(pid) for pid in dict.fromkeys(root_pids)]
        self.interval = interval
        self.peak_rss = 0
        self.start_rss = 0
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._first_sample = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="helpers.measure", daemon=True)

    def _processes(self):
        seen = {}
        for root in self.roots:
            try:
                family = [root, *root.children(recursive=True)]
            except self._psutil.Error:
                continue
            for proc in family:
                seen.setdefault(proc.pid, proc)
        return seen.values()

    def sample(self) -> int:
        """Take one sample now (the thread calls this every ``interval`` seconds).

        Returns
        -------
        int
            The RSS summed over the roots and their descendants, in bytes.
        """
        total = 0
        for proc in self._processes():
            try:
                with proc.oneshot():
                    rss = proc.memory_info().rss
                    times = proc.cpu_times()
            except self._psutil.Error:
                continue
            total += rss
            cpu = times.user + times.system
            # Processes alive at the start count from their CPU time then; later ones from 0.
            self._cpu_start.setdefault(proc.pid, cpu if self._first_sample else 0.0)
            self._cpu_last[proc.pid] = cpu
        self.peak_rss = max(self.peak_rss, total)
        self._first_sample = False
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> None:
        """Take the first sample (:attr:`start_rss`) and start sampling in a thread."""
        self.start_rss = self.sample()
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and take a last sample."""
        self._stop.set()
        self._thread.join()
        self.sample()

    def __enter__(self) -> ProcessTreeSampler:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def cpu_seconds(self) -> float:
        """CPU time (user + system) the sampled processes spent since :meth:`start`, in s."""
        return sum(self._cpu_last[pid] - self._cpu_start.get(pid, 0.0) for pid in self._cpu_last)

    @property
    def process_count(self) -> int:
        """How many different processes were sampled."""
        return len(self._cpu_last)


#: Samplers running inside a worker or scheduler process, by token (see :func:`measure`).
_REMOTE_SAMPLERS: dict[str, ProcessTreeSampler] = {}


#: A remote sampler stops itself after this many seconds, in case nobody stops it (the kernel
#: died in the middle of a measurement).
REMOTE_SAMPLER_MAX_S = 3600.0


def _start_remote_sampler(token: str, interval: float,
                          max_s: float = REMOTE_SAMPLER_MAX_S) -> None:
    """Run on a worker or the scheduler: sample this process and its children until stopped
    (or for ``max_s`` seconds at most)."""
    sampler = ProcessTreeSampler([os.getpid()], interval)
    sampler.start()
    _REMOTE_SAMPLERS[token] = sampler
    expiry = threading.Timer(max_s, sampler._stop.set)
    expiry.daemon = True
    expiry.start()


def _stop_remote_sampler(token: str) -> dict | None:
    """Run on a worker or the scheduler: stop the sampler ``token``; return what it found
    (``None`` for a process that started after the measurement, e.g. a restarted worker)."""
    sampler = _REMOTE_SAMPLERS.pop(token, None)
    if sampler is None:
        return None
    sampler.stop()
    return {"cpu_s": sampler.cpu_seconds, "peak": sampler.peak_rss,
            "start": sampler.start_rss, "processes": sampler.process_count}


class _RemoteSamplers:
    """Samplers in the client's workers and scheduler that run on other machines.

    Each remote process samples itself and its children (a worker's DDP ranks or DataLoader
    processes) every ``interval`` seconds and reports its own peak: the cluster side is measured
    where it runs, not guessed from here.
    """

    def __init__(self, client, interval: float) -> None:
        import uuid

        self.client = client
        self.token = uuid.uuid4().hex
        self.workers = [address for address in client.scheduler_info()["workers"]
                        if not _is_local(address)]
        self.on_scheduler = not _is_local(client.scheduler.address)
        self.interval = interval

    def start(self) -> None:
        if self.workers:
            self.client.run(_start_remote_sampler, self.token, self.interval,
                            workers=self.workers)
        if self.on_scheduler:
            self.client.run_on_scheduler(_start_remote_sampler, self.token, self.interval)

    def stop(self) -> list[dict]:
        """Stop every sampler started; return what each found. A worker that died meanwhile
        (or cannot be reached) is left out, with a warning: its part is missing."""
        found, failed = [], []
        if self.workers:
            try:
                replies = self.client.run(_stop_remote_sampler, self.token,
                                          workers=self.workers, on_error="return")
                found += [r for r in replies.values() if not isinstance(r, BaseException)]
                failed += [a for a, r in replies.items() if isinstance(r, BaseException)]
            except Exception:  # noqa: BLE001 -- the measurement must not hide the block's error
                failed += self.workers
        if self.on_scheduler:
            try:
                found.append(self.client.run_on_scheduler(_stop_remote_sampler, self.token))
            except Exception:  # noqa: BLE001
                failed.append(self.client.scheduler.address)
        if failed:
            warn(
                es=f"measure: sin datos de {', '.join(failed)} (ya no responde); la medición "
                   f"no incluye esa parte del clúster.",
                en=f"measure: no data from {', '.join(failed)} (no longer answers); the "
                   f"measurement leaves out that part of the cluster.",
                category=RuntimeWarning, stacklevel=4)
        return [f for f in found if f is not None]


@contextmanager
def measure(
    label: str,
    results: Results | None = None,
    *,
    client=None,
    interval: float = 0.05,
) -> Iterator[Measurement]:
    """Measure the block inside ``with``: wall time, CPU time and peak memory (RSS).

    The sampled processes are this kernel and all its children (a LocalCluster's nanny and
    worker processes, a Spark JVM), plus the scheduler and workers of ``client``: those on this
    machine are sampled from here; those on other machines (an external cluster) sample
    themselves and report at the end (the client must come from
    :func:`helpers.cluster.get_client`, which sends them this module). The :class:`Measurement`
    is filled in when the block ends and added to ``results`` if one is given.

    Peak memory is the peak of everything on this machine plus each other machine's own peak:
    machines peak at slightly different moments, so on a cluster of several machines it is an
    upper bound of the true simultaneous peak. ``extra["cluster_peak_mib"]`` holds the part of
    the other machines.

    Parameters
    ----------
    label : str
        The name of the measurement, as a student reads it in the table (``"serial"``).
    results : Results, optional
        Where to add the measurement when the block ends (replacing one with the same label).
    client : distributed.Client, optional
        Also measure this client's scheduler and workers.
    interval : float
        Seconds between two samples on this machine (other machines: at least 0.1 s).

    Yields
    ------
    Measurement
        Empty inside the block; filled in when it ends, also when it raises (the exception
        then propagates unchanged).

    Examples
    --------
    >>> import time
    >>> results = Results()
    >>> with measure("nap", results) as m:
    ...     time.sleep(0.05)
    >>> m.wall_s >= 0.05, results["nap"] is m
    (True, True)
    """
    roots = [os.getpid(), *(cluster_pids(client) if client is not None else [])]
    sampler = ProcessTreeSampler(roots, interval)
    remote = _RemoteSamplers(client, max(interval, 0.1)) if client is not None else None
    measurement = Measurement(label=label)
    sampler.start()
    started = time.perf_counter()
    try:
        if remote is not None:
            remote.start()
        yield measurement
    finally:
        measurement.wall_s = time.perf_counter() - started
        sampler.stop()
        elsewhere = remote.stop() if remote is not None else []
        measurement.cpu_s = sampler.cpu_seconds + sum(r["cpu_s"] for r in elsewhere)
        remote_peak = sum(r["peak"] for r in elsewhere)
        measurement.peak_mib = (sampler.peak_rss + remote_peak) / MIB
        measurement.start_mib = (sampler.start_rss + sum(r["start"] for r in elsewhere)) / MIB
        measurement.processes = sampler.process_count + sum(r["processes"] for r in elsewhere)
        if elsewhere:
            measurement.extra["cluster_peak_mib"] = remote_peak / MIB
        if results is not None:
            results.add(measurement)
