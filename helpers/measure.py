"""Measure wall time, CPU time and peak memory of the notebook *and* its cluster together.

A Dask computation runs in other processes (the workers, the scheduler, a Spark JVM), so
measuring only the notebook's own process would miss most of the work. :func:`measure` samples
the whole process tree below the kernel, plus the workers and scheduler of a client you pass
when they live on this machine::

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

from helpers.i18n import resolve, text

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
    """What :func:`measure` found for one block of code."""

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
        """Append a measurement (replacing an earlier one with the same label, for re-runs)."""
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
        """A ``pandas.DataFrame`` with one row per measurement, indexed by label."""
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
    """How many times less wall time ``faster`` took than ``baseline``."""
    return baseline.wall_s / faster.wall_s


def _is_local(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host in LOCAL_HOSTS or host in {socket.gethostname(), socket.getfqdn()}


def cluster_pids(client) -> list[int]:
    """PIDs of the client's scheduler and workers that run on this machine."""
    pids = []
    for address, pid in client.run(os.getpid).items():
        if _is_local(address):
            pids.append(pid)
    if _is_local(client.scheduler.address):
        pids.append(client.run_on_scheduler(os.getpid))
    return pids


class _TreeSampler:
    """Samples RSS and CPU time of some root processes and all their descendants."""

    def __init__(self, root_pids: Iterable[int], interval: float) -> None:
        import psutil

        self._psutil = psutil
        self.roots = [psutil.Process(pid) for pid in dict.fromkeys(root_pids)]
        self.interval = interval
        self.peak_rss = 0
        self.start_rss = 0
        self.cpu_start: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
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
        """Take one sample; return the RSS summed over the tree, in bytes."""
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
            self.cpu_start.setdefault(proc.pid, cpu if self._first_sample else 0.0)
            self.cpu_last[proc.pid] = cpu
        self.peak_rss = max(self.peak_rss, total)
        self._first_sample = False
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.start_rss = self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_last[pid] - self.cpu_start.get(pid, 0.0) for pid in self.cpu_last)

    @property
    def process_count(self) -> int:
        return len(self.cpu_last)


@contextmanager
def measure(
    label: str,
    results: Results | None = None,
    *,
    client=None,
    interval: float = 0.05,
) -> Iterator[Measurement]:
    """Measure the block inside ``with``: wall time, CPU time and peak RSS.

    The sampled processes are this kernel and all its children (a LocalCluster's nanny and
    worker processes, a Spark JVM), plus the scheduler and workers of ``client`` that run on this
    machine (an external cluster). The :class:`Measurement` is filled in when the block ends and
    added to ``results`` if one is given.
    """
    roots = [os.getpid(), *(cluster_pids(client) if client is not None else [])]
    sampler = _TreeSampler(roots, interval)
    measurement = Measurement(label=label)
    sampler.start()
    started = time.perf_counter()
    try:
        yield measurement
    finally:
        measurement.wall_s = time.perf_counter() - started
        sampler.stop()
        measurement.cpu_s = sampler.cpu_seconds
        measurement.peak_mib = sampler.peak_rss / MIB
        measurement.start_mib = sampler.start_rss / MIB
        measurement.processes = sampler.process_count
        if results is not None:
            results.add(measurement)
