"""Start and stop ``dask scheduler`` and ``dask worker`` processes on this machine.

A real Dask cluster is a set of separate programs: one ``dask scheduler`` and, on every machine
that computes, a ``dask worker`` (a *nanny* process that watches a *worker process* running the
tasks). Lesson 10 starts them by hand, and ``tools.external_cluster`` starts the same ones so that
CI can run lessons against them. Both use this module:

* :class:`DaskProcesses` -- named ``dask`` processes started from this Python, every server
  listening on 127.0.0.1 only, each process in a session (process group) of its own so that a
  nanny and its worker process stop together, with every log in one folder; stop them politely
  (SIGTERM) or at once (SIGKILL: a machine that loses power);
* :func:`launch_cluster` -- what lesson 10 runs first: a scheduler and some workers, with
  ``DASK_SCHEDULER_ADDRESS`` pointing at them, so that :func:`helpers.cluster.get_client`
  connects there; :meth:`LaunchedCluster.shut_down` (or the kernel's exit, or running the
  notebook again) undoes all of it;
* :func:`stop_processes` -- SIGTERM, then SIGKILL for whatever is left, to any processes started
  in sessions of their own;
* :func:`self_signed_certificate` and :func:`tls_options` -- a certificate made with ``openssl``
  and the command-line options that make a scheduler or a worker speak TLS with it.

Nothing happens at import time.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from helpers.cluster import ADDRESS_ENV_VAR, LOOPBACK
from helpers.i18n import text

#: Seconds to wait for a polite stop (SIGTERM) before SIGKILL.
STOP_TIMEOUT_S = 15.0
#: Seconds to wait for a scheduler to write its address, or for workers to register.
START_TIMEOUT_S = 120.0
#: multiprocessing's helper process, which a nanny may start next to its worker process.
_HELPER_PROCESSES = ("resource_tracker",)


class Placement(NamedTuple):
    """Where a process runs: the IP address its servers listen on, and the argv prefix that
    starts a command there (empty: this machine, as it is).

    Attributes
    ----------
    host : str
        The IP address the process's servers listen on.
    wrapper : sequence of str
        The argv prefix that runs a command on that host (see :meth:`DaskProcesses.launch`).

    Examples
    --------
    >>> Placement()
    Placement(host='127.0.0.1', wrapper=())
    >>> Placement("10.213.7.2", ("ip", "netns", "exec", "dcn7-scheduler"))[0]
    '10.213.7.2'
    """

    host: str = LOOPBACK
    wrapper: Sequence[str] = ()


def dask_command() -> list[str]:
    """The ``dask`` command-line program of this Python environment (``python -m dask``).

    Returns
    -------
    list of str
        The argv that starts it: this Python, ``-m``, ``dask``.

    Examples
    --------
    >>> dask_command()[1:]
    ['-m', 'dask']
    """
    return [sys.executable, "-m", "dask"]


# --- stopping processes --------------------------------------------------------------------------

def _signal_group(proc: subprocess.Popen, hard: bool) -> None:
    """Send SIGTERM (or SIGKILL when ``hard``) to ``proc``'s process group; on Windows, to its
    process tree."""
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL if hard else signal.SIGTERM)
        except ProcessLookupError:
            pass
        return
    if proc.poll() is not None:
        return
    import psutil

    try:
        root = psutil.Process(proc.pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill() if hard else member.terminate()
        except psutil.NoSuchProcess:
            pass


def _group_alive(proc: subprocess.Popen) -> bool:
    """Whether any process of ``proc``'s group is still running (POSIX), or ``proc`` itself.

    Zombies do not count: a killed nanny's worker process is reparented to the system's init
    and stays a zombie until init reaps it, which may take a while; it runs nothing.
    """
    if os.name != "posix":
        return proc.poll() is None
    proc.poll()  # reap the leader if it has exited
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    import psutil

    for member in psutil.process_iter():
        try:
            if os.getpgid(member.pid) == proc.pid and member.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return False


def stop_processes(processes: Iterable[subprocess.Popen], *, hard: bool = False,
                   timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop ``processes`` and everything below them (a nanny's worker process).

    Each process must have been started in a session of its own (``start_new_session=True``,
    as :class:`DaskProcesses` does): the signal goes to its whole process group.

    Parameters
    ----------
    processes : iterable of subprocess.Popen
        What to stop, in order (stop workers before their scheduler, so they say goodbye).
    hard : bool
        ``False``: SIGTERM, so every process closes cleanly, then SIGKILL for whatever is still
        running after ``timeout``. ``True``: SIGKILL at once, with no goodbye.
    timeout : float
        Seconds to wait for the polite stop, and then for the processes to be reaped.

    Examples
    --------
    >>> sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
    ...                            start_new_session=True)
    >>> stop_processes([sleeper])
    >>> sleeper.poll() is not None
    True
    """
    processes = list(processes)
    for proc in processes:
        _signal_group(proc, hard)
    deadline = time.monotonic() + timeout
    for proc in processes:
        while _group_alive(proc) and time.monotonic() < deadline:
            time.sleep(0.05)
    for proc in processes:
        if _group_alive(proc):
            _signal_group(proc, hard=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


def _family(pid: int) -> list:
    """``psutil.Process`` of ``pid`` and of every process below it (empty when it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def still_running(pids: Iterable[int]) -> list[int]:
    """The PIDs of ``pids`` that are still running (a zombie waiting to be reaped is not).

    Parameters
    ----------
    pids : iterable of int
        Process IDs, of processes that may have ended.

    Returns
    -------
    list of int
        Those still running, in the order given.

    Examples
    --------
    >>> still_running([os.getpid()]) == [os.getpid()]
    True
    """
    import psutil

    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


# --- the processes -------------------------------------------------------------------------------

class DaskProcesses:
    """Named ``dask scheduler`` and ``dask worker`` processes started from this Python.

    Every server they open (scheduler, dashboard, nanny, worker, and their HTTP endpoints)
    listens on 127.0.0.1 only, unless a process is given another ``host`` (and a ``wrapper``
    that runs it on that host, see :class:`Placement`). Each process runs in a session of its
    own: interrupting the kernel (Ctrl-C) does not reach them, and stopping one stops its
    children too. Its output goes to ``<workdir>/<name>.log``.

    Parameters
    ----------
    workdir : path, optional
        Folder for logs, scheduler files and the workers' scratch space. Default: a new temporary
        folder, removed by :meth:`close`.
    env : dict, optional
        Environment variables for every process, on top of this process's environment and
        :data:`COURSE_ENV`. ``DASK_SCHEDULER_ADDRESS`` is never passed on.
    prefix : str
        Name prefix of the temporary folder.

    Examples
    --------
    >>> with DaskProcesses() as procs:                                  # doctest: +SKIP
    ...     address = procs.start_scheduler()
    ...     procs.start_worker("worker-a", address, memory_limit="500MiB")
    ...     procs.wait_for_workers(address, 1)
    ...     procs.stop("worker-a", hard=True)          # SIGKILL: a machine that fails
    """

    def __init__(self, workdir: str | os.PathLike | None = None, *, env: dict | None = None,
                 prefix: str = "dask-processes-") -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix=prefix) if workdir is None else workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        self.env.pop(ADDRESS_ENV_VAR, None)
        #: name -> the running ``dask`` process.
        self.processes: dict[str, subprocess.Popen] = {}
        #: name -> ``"scheduler"``, ``"worker"`` (with a nanny) or ``"worker-no-nanny"``.
        self.kinds: dict[str, str] = {}
        #: scheduler name -> what it wrote to its scheduler file (address, services...).
        self.schedulers: dict[str, dict] = {}
        #: name -> the IP address the process listens on.
        self.hosts: dict[str, str] = {}

    # starting ---------------------------------------------------------------------------------

    def launch(self, name: str, *args: str, env: dict | None = None,
               wrapper: Sequence[str] = (), program: Sequence[str] | None = None
               ) -> subprocess.Popen:
        """Run ``dask <args>`` in the background as ``name``; its output goes to ``name.log``.

        Parameters
        ----------
        name : str
            A name for the process, unique among the running ones.
        *args : str
            The arguments of the ``dask`` program, e.g. ``"scheduler", "--port", "0"``.
        env : dict, optional
            Extra environment variables for this process only.
        wrapper : sequence of str
            An argv prefix that runs the command elsewhere, e.g. on another host
            (:meth:`tools.private_network.PrivateNetwork.run_on`). It must exec the command
            (not fork it), so that stopping the process group reaches it.
        program : sequence of str, optional
            The program to run instead of ``dask`` (:func:`dask_command`), e.g.
            ``[sys.executable, "-m", "moto.server"]``.

        Returns
        -------
        subprocess.Popen
            The process, also in :attr:`processes` under ``name``.

        Raises
        ------
        ValueError
            When a process named ``name`` was started here and not stopped.

        Examples
        --------
        >>> procs = DaskProcesses()
        >>> hello = procs.launch("hello", program=[sys.executable, "-c", "print('hello')"])
        >>> hello.wait(), procs.log("hello")
        (0, 'hello\\n')
        >>> procs.close()
        []
        """
        if name in self.processes:
            raise ValueError(f"a process named {name!r} is already running: stop it first")
        log = open(self.workdir / f"{name}.log", "w")  # the child keeps its own copy
        try:
            proc = subprocess.Popen(
                [*wrapper, *(dask_command() if program is None else program),
                 *map(str, args)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.workdir, env={**self.env, **(env or {})},
                start_new_session=True,
            )
        finally:
            log.close()
        self.processes[name] = proc
        return proc

    def start_scheduler(self, name: str = "scheduler", *, protocol: str = "tcp",
                        idle_timeout: str = "1 hour", args: Sequence[str] = (),
                        env: dict | None = None, timeout: float = START_TIMEOUT_S,
                        host: str = LOOPBACK, wrapper: Sequence[str] = ()) -> str:
        """Start ``dask scheduler`` on 127.0.0.1 (any free port); return its address.

        The scheduler writes its address (and its dashboard's port) to ``<name>.json`` once it
        listens; this waits for that file.

        Parameters
        ----------
        name : str
            The process's name.
        protocol : str
            ``"tcp"`` or ``"tls"`` (then pass the certificate options, :func:`tls_options`).
        idle_timeout : str
            The scheduler exits after this long without any task activity: a safety net for when
            whoever started it dies without stopping it.
        args : sequence of str
            More ``dask scheduler`` options.
        env : dict, optional
            Extra environment variables for this process.
        timeout : float
            Seconds to wait for the address.
        host : str
            The IP address the scheduler and its dashboard listen on.
        wrapper : sequence of str
            An argv prefix that runs it on that host (see :meth:`launch`).

        Returns
        -------
        str
            The scheduler's address, such as ``"tcp://127.0.0.1:41235"``.

        Raises
        ------
        RuntimeError
            When the scheduler exits while starting (the message holds its log).
        TimeoutError
            When it does not write its address in time.
        """
        scheduler_file = self.workdir / f"{name}.json"
        scheduler_file.unlink(missing_ok=True)
        self.launch(name, "scheduler", "--protocol", protocol, "--host", host, "--port", "0",
                    "--dashboard-address", f"{host}:0", "--scheduler-file", scheduler_file,
                    "--idle-timeout", idle_timeout, *args, env=env, wrapper=wrapper)
        self.kinds[name], self.hosts[name] = "scheduler", host
        proc, deadline = self.processes[name], time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"`dask scheduler` {name} exited with code {proc.returncode}:"
                                   f"\n{self.log(name)}")
            try:
                self.schedulers[name] = json.loads(scheduler_file.read_text())
                return self.schedulers[name]["address"]
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                pass  # not there yet, or half written
            if time.monotonic() > deadline:
                raise TimeoutError(f"`dask scheduler` {name} did not write its address within "
                                   f"{timeout:.0f} s:\n{self.log(name)}")
            time.sleep(0.05)

    def dashboard_link(self, name: str = "scheduler") -> str:
        """The dashboard of scheduler ``name`` (on its host: 127.0.0.1 unless told otherwise).

        Parameters
        ----------
        name : str
            A scheduler started with :meth:`start_scheduler`.

        Returns
        -------
        str
            Its URL, such as ``"http://127.0.0.1:41237/status"``.
        """
        port = self.schedulers[name].get("services", {}).get("dashboard")
        return f"http://{self.hosts.get(name, LOOPBACK)}:{port}/status"

    def start_worker(self, name: str, scheduler_address: str, *, nthreads: int = 1,
                     memory_limit: int | str = "700MiB", nanny: bool = True,
                     resources: dict | None = None, death_timeout: str = "60s",
                     args: Sequence[str] = (), env: dict | None = None, host: str = LOOPBACK,
                     wrapper: Sequence[str] = ()) -> subprocess.Popen:
        """Start ``dask worker`` ``name`` connected to ``scheduler_address``.

        It listens on 127.0.0.1 only (or ``host``), has no dashboard of its own, keeps its scratch
        space (and what it spills to disk) in ``<workdir>/<name>``, and exits if its scheduler has
        been gone for ``death_timeout``. It does not wait for the worker to register: see
        :meth:`wait_for_workers` (or ``client.wait_for_workers``).

        Parameters
        ----------
        name : str
            The process's name, and the worker's name for the scheduler.
        scheduler_address : str
            Where the scheduler listens (``tcp://...`` or ``tls://...``).
        nthreads : int
            Threads that run tasks.
        memory_limit : int or str
            The worker's memory limit (bytes, or ``"700MiB"``).
        nanny : bool
            Start a nanny that watches the worker process and restarts it (the default), or run
            the worker process alone (starts faster).
        resources : dict, optional
            Abstract resources, e.g. ``{"SMALL": 1}``, for tasks submitted with ``resources=``.
        death_timeout : str
            How long the worker waits for a missing scheduler before it exits.
        args : sequence of str
            More ``dask worker`` options.
        env : dict, optional
            Extra environment variables for this process.
        host : str
            The IP address its nanny and worker listen on.
        wrapper : sequence of str
            An argv prefix that runs it on that host (see :meth:`launch`).

        Returns
        -------
        subprocess.Popen
            The process (the nanny, when there is one).
        """
        options = ["worker", scheduler_address, "--name", name, "--host", host,
                   "--dashboard-address", f"{host}:0", "--no-dashboard",
                   "--nthreads", str(nthreads), "--memory-limit", str(memory_limit),
                   "--nanny" if nanny else "--no-nanny", "--death-timeout", death_timeout,
                   "--local-directory", self.workdir / name]
        if resources:
            options += ["--resources", " ".join(f"{k}={v}" for k, v in resources.items())]
        proc = self.launch(name, *options, *args, env=env, wrapper=wrapper)
        self.kinds[name] = "worker" if nanny else "worker-no-nanny"
        self.hosts[name] = host
        return proc

    def wait_for_workers(self, scheduler_address: str, n_workers: int, *,
                         timeout: float = START_TIMEOUT_S, security=None) -> None:
        """Wait until ``n_workers`` workers have registered with the scheduler.

        Parameters
        ----------
        scheduler_address : str
            Where the scheduler listens.
        n_workers : int
            How many workers it must have (started here or elsewhere).
        timeout : float
            Seconds to wait.
        security : distributed.Security, optional
            For a scheduler that speaks TLS.

        Raises
        ------
        RuntimeError
            When one of the workers started here exits meanwhile (the message holds the logs).
        TimeoutError
            When they are not all there after ``timeout`` seconds.
        """
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(scheduler_address, timeout="30s", security=security,
                    set_as_default=False) as client:
            while True:
                for name, proc in self.processes.items():
                    if self.kinds.get(name, "").startswith("worker") and proc.poll() is not None:
                        raise RuntimeError(f"`dask worker` {name} exited with code "
                                           f"{proc.returncode}:\n{self.logs()}")
                try:
                    client.wait_for_workers(n_workers, timeout=1)
                    return
                except TimeoutError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"only {len(client.scheduler_info()['workers'])} of {n_workers} "
                            f"workers registered within {timeout:.0f} s:\n{self.logs()}"
                        ) from None

    def start_cluster(self, worker_names: Sequence[str], *, nthreads: int = 1,
                      memory_limit: int | str = "700MiB", idle_timeout: str = "1 hour",
                      death_timeout: str = "60s", timeout: float = START_TIMEOUT_S,
                      placements: Mapping[str, Placement] | None = None) -> str:
        """Start a scheduler named ``"scheduler"`` and one worker per name; wait for them all.

        Parameters
        ----------
        worker_names : sequence of str
            One worker per name.
        nthreads, memory_limit, death_timeout
            Of every worker (see :meth:`start_worker`).
        idle_timeout : str
            Of the scheduler (see :meth:`start_scheduler`).
        timeout : float
            Seconds to wait for the scheduler and then for every worker.
        placements : mapping of str to Placement, optional
            Where each process runs, by name (``"scheduler"`` and the worker names). Those not
            in it run here, on 127.0.0.1.

        Returns
        -------
        str
            The scheduler's address.
        """
        placements = placements or {}
        deadline = time.monotonic() + timeout
        address = self.start_scheduler(idle_timeout=idle_timeout, timeout=timeout,
                                       **placements.get("scheduler", Placement())._asdict())
        for name in worker_names:
            self.start_worker(name, address, nthreads=nthreads, memory_limit=memory_limit,
                              death_timeout=death_timeout,
                              **placements.get(name, Placement())._asdict())
        self.wait_for_workers(address, len(worker_names),
                              timeout=max(deadline - time.monotonic(), 1.0))
        return address

    # stopping ---------------------------------------------------------------------------------

    def stop(self, *names: str, hard: bool = False, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the processes ``names`` and their children: politely, or at once (``hard``).

        A worker is stopped with its nanny: with ``hard=True`` both die at once (SIGKILL), as
        when a machine loses power, and the scheduler is left with one worker fewer. Killing only
        the worker process would let its nanny start a new one.

        Workers among ``names`` are stopped first, and only then the schedulers: a worker that
        gets SIGTERM while its scheduler is going away may hang in its goodbye until it is
        killed.

        Parameters
        ----------
        *names : str
            Processes started here.
        hard : bool
            SIGKILL at once instead of SIGTERM first (see :func:`stop_processes`).
        timeout : float
            Seconds to wait for a polite stop before SIGKILL.

        Raises
        ------
        KeyError
            When a name is not a running process started here.

        Examples
        --------
        >>> procs = DaskProcesses()
        >>> sleeper = procs.launch("sleeper",
        ...                        program=[sys.executable, "-c", "import time; time.sleep(60)"])
        >>> procs.pids() == {sleeper.pid}
        True
        >>> procs.stop("sleeper")
        >>> sleeper.poll() is not None, procs.processes
        (True, {})
        >>> procs.close()
        []
        """
        procs = {name: self.processes.pop(name) for name in names}
        workers = [p for n, p in procs.items() if self.kinds.get(n) != "scheduler"]
        schedulers = [p for n, p in procs.items() if self.kinds.get(n) == "scheduler"]
        for group in (workers, schedulers):
            if group:
                stop_processes(group, hard=hard, timeout=timeout)

    def stop_all(self, *, hard: bool = False, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop every process started here: the workers first (they say goodbye to their
        scheduler), then the schedulers.

        Parameters
        ----------
        hard : bool
            SIGKILL at once instead of SIGTERM first.
        timeout : float
            Seconds to wait for a polite stop before SIGKILL.
        """
        self.stop(*self.processes, hard=hard, timeout=timeout)

    def close(self, *, hard: bool = False) -> list[int]:
        """Stop every process and remove the temporary folder (the one it made, not one it was
        given).

        Parameters
        ----------
        hard : bool
            SIGKILL at once instead of SIGTERM first.

        Returns
        -------
        list of int
            The PIDs of processes started here (or their children) still running afterwards:
            normally none.
        """
        pids = self.pids()
        self.stop_all(hard=hard)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return still_running(pids)

    def __enter__(self) -> DaskProcesses:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # looking at them --------------------------------------------------------------------------

    def pids(self, *names: str) -> set[int]:
        """PIDs of the processes ``names`` (default: all) and of every process below them.

        Parameters
        ----------
        *names : str
            Processes started here; none: all of them.

        Returns
        -------
        set of int
            Those still running, with their children (see :meth:`stop` for an example).
        """
        return {member.pid for name in (names or self.processes)
                for member in _family(self.processes[name].pid)}

    def listening_addresses(self) -> list[str]:
        """The IP addresses on which any process started here (or a child) accepts connections.

        Returns
        -------
        list of str
            Sorted; ``["127.0.0.1"]`` when everything listens on loopback only, empty when
            nothing listens.
        """
        import psutil

        found = set()
        for pid in self.pids():
            try:
                connections = psutil.Process(pid).net_connections("inet")
            except psutil.NoSuchProcess:
                continue
            found |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
        return sorted(found)

    def _role(self, name: str, n_children: int) -> str:
        kind = self.kinds.get(name)
        if kind == "scheduler":
            return text(es="planificador", en="scheduler")
        if kind == "worker-no-nanny":
            return text(es="proceso worker", en="worker process")
        if kind == "worker" and n_children == 1:
            return text(es="nanny + proceso worker", en="nanny + worker process")
        return text(es="nanny sin proceso worker", en="nanny without a worker process")

    def table(self) -> str:
        """One line per running process started here, in the lesson's language: its name, how
        many processes it is (a nanny and its worker process are two), its role and its memory.

        multiprocessing's helper process, which a nanny may start, is not counted.

        Returns
        -------
        str
            The lines, such as (lesson 10)::

                scheduler     1 process    scheduler                  91 MiB
                worker-a      2 processes  nanny + worker process     123 MiB
        """
        import psutil

        lines = []
        for name, proc in self.processes.items():
            try:
                family = _family(proc.pid)
                if not family:
                    continue
                children = [p for p in family[1:]
                            if not any(h in " ".join(p.cmdline()) for h in _HELPER_PROCESSES)]
                rss = sum(p.memory_info().rss for p in [family[0], *children]) / 2**20
            except psutil.NoSuchProcess:  # it ended while we looked
                continue
            n = 1 + len(children)
            count = text(es=f"{n} proceso{'s' if n > 1 else ''}",
                         en=f"{n} process{'es' if n > 1 else ''}")
            lines.append(f"{name:<13} {count:<12} {self._role(name, len(children)):<26} "
                         f"{rss:.0f} MiB")
        return "\n".join(lines)

    def log(self, name: str) -> str:
        """The whole log of process ``name`` (also after it stopped).

        Parameters
        ----------
        name : str
            A process started here.

        Returns
        -------
        str
            Its output so far; empty when it has none (see :meth:`launch` for an example).
        """
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_lines(self, name: str, containing: Iterable[str]) -> list[str]:
        """The lines of ``name``'s log that contain any of ``containing``, in order.

        Parameters
        ----------
        name : str
            A process started here.
        containing : iterable of str
            Pieces of text; a line is kept when it contains one of them.

        Returns
        -------
        list of str

        Examples
        --------
        >>> procs = DaskProcesses()
        >>> talker = procs.launch("talker", program=[
        ...     sys.executable, "-c", "print('start'); print('Worker died'); print('end')"])
        >>> talker.wait(), procs.log_lines("talker", ["died", "killed"])
        (0, ['Worker died'])
        >>> procs.close()
        []
        """
        containing = tuple(containing)
        return [line for line in self.log(name).splitlines()
                if any(part in line for part in containing)]

    def logs(self, lines: int = 30) -> str:
        """The last ``lines`` lines of every log, for error messages.

        Parameters
        ----------
        lines : int
            How many lines of each log, at most.

        Returns
        -------
        str
            Each log's tail under a ``--- name.log (last N lines)`` header, by file name.
        """
        parts = []
        for log in sorted(self.workdir.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(parts)


# --- lesson 10: a cluster launched by hand -------------------------------------------------------

class LaunchedCluster(DaskProcesses):
    """The processes :func:`launch_cluster` started, and how to undo everything it changed.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`DaskProcesses`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: The scheduler's address (set by :func:`launch_cluster`).
        self.address: str | None = None
        #: ``DASK_SCHEDULER_ADDRESS`` as it was before :func:`launch_cluster` changed it.
        self.outside_address: str | None = None
        self.shut = False

    def shut_down(self) -> list[int]:
        """Close the course's client, stop every process politely, put
        ``DASK_SCHEDULER_ADDRESS`` back as it was and remove the folder.

        Returns
        -------
        list of int
            The PIDs of processes started here that are still running (normally none).
        """
        from helpers.cluster import close_client

        if self in _launched:
            _launched.remove(self)
        if self.shut:
            return []
        self.shut = True
        close_client()
        left = self.close()
        if os.environ.get(ADDRESS_ENV_VAR) == self.address:
            os.environ.pop(ADDRESS_ENV_VAR, None)
        if self.outside_address:
            os.environ[ADDRESS_ENV_VAR] = self.outside_address
        return left


#: The clusters :func:`launch_cluster` started in this process and not yet shut down.
_launched: list[LaunchedCluster] = []


def _kill_launched() -> None:
    """At the kernel's exit: kill what :func:`launch_cluster` started and was not shut down."""
    while _launched:
        cluster = _launched.pop()
        if not cluster.shut:
            cluster.shut = True
            cluster.close(hard=True)


def launch_cluster(worker_names: Sequence[str] = ("worker-a", "worker-b"), *,
                   nthreads: int = 1, memory_limit: int | str = "700MiB",
                   env: dict | None = None, prefix: str = "dask-cluster-") -> LaunchedCluster:
    """Start ``dask scheduler`` and one ``dask worker`` per name, as a real deployment would,
    and point ``DASK_SCHEDULER_ADDRESS`` at the scheduler.

    After this, :func:`helpers.cluster.get_client` connects to that scheduler instead of starting
    a LocalCluster, so the rest of a lesson's code does not change. Everything listens on
    127.0.0.1 only. This is what lesson 10 does in its first cell.

    * If ``DASK_SCHEDULER_ADDRESS`` was already set (CI runs lessons against an external
      cluster), it is remembered in ``outside_address`` and put back by ``shut_down()``: lesson
      10 kills and starves workers, so it always uses a cluster of its own.
    * If this kernel launched a cluster before (the notebook is being run again), that one is shut
      down first.
    * If the kernel exits without ``shut_down()``, the processes are killed (``atexit``); and
      the scheduler exits by itself after an hour without work, its workers a minute later.

    Parameters
    ----------
    worker_names : sequence of str
        One worker per name (each a nanny and a worker process).
    nthreads : int
        Threads per worker.
    memory_limit : int or str
        Memory limit per worker.
    env : dict, optional
        Environment variables for the scheduler and the workers, e.g. Dask settings such as
        ``{"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}``.
    prefix : str
        Name prefix of the temporary folder that holds logs and scratch space.

    Returns
    -------
    LaunchedCluster
        With ``address``, ``workdir``, ``stop(name, hard=...)``, ``table()`` and ``shut_down()``.
    """
    for previous in list(_launched):
        previous.shut_down()
    if not getattr(launch_cluster, "_atexit", False):
        atexit.register(_kill_launched)
        launch_cluster._atexit = True
    cluster = LaunchedCluster(env=env, prefix=prefix)
    cluster.outside_address = os.environ.pop(ADDRESS_ENV_VAR, None)
    _launched.append(cluster)
    try:
        cluster.address = cluster.start_cluster(worker_names, nthreads=nthreads,
                                                 memory_limit=memory_limit)
    except BaseException:
        cluster.shut_down()
        raise
    os.environ[ADDRESS_ENV_VAR] = cluster.address
    return cluster


# --- TLS -----------------------------------------------------------------------------------------

def self_signed_certificate(folder: str | os.PathLike, common_name: str = "dask-course",
                            days: int = 1) -> tuple[Path, Path]:
    """Make a self-signed certificate and its private key with ``openssl``; return their paths.

    The same as ``openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dask-course
    -keyout key.pem -out cert.pem``. Good for trying TLS on one machine; a real cluster uses
    certificates signed by an authority of its own.

    Parameters
    ----------
    folder : path
        Where to write ``cert.pem`` and ``key.pem`` (an existing folder).
    common_name : str
        The certificate's subject (``/CN=...``).
    days : int
        How long it is valid.

    Returns
    -------
    tuple of pathlib.Path
        ``(certificate, private key)``.

    Raises
    ------
    FileNotFoundError
        When ``openssl`` is not installed.
    subprocess.CalledProcessError
        When ``openssl`` fails.

    Examples
    --------
    >>> cert, key = self_signed_certificate(tempfile.mkdtemp())  # doctest: +SKIP
    >>> tls_options(cert, key)[:2]                                # doctest: +SKIP
    ['--tls-ca-file', '/tmp/tmpa1b2c3/cert.pem']
    """
    if shutil.which("openssl") is None:
        raise FileNotFoundError("openssl is not installed")
    folder = Path(folder)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                    str(days), "-subj", f"/CN={common_name}", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def tls_options(cert: str | os.PathLike, key: str | os.PathLike) -> list[str]:
    """The ``dask scheduler``/``dask worker`` options that make them speak TLS with ``cert``
    (also used as the certificate authority) and ``key``.

    Parameters
    ----------
    cert : path
        The certificate (:func:`self_signed_certificate`).
    key : path
        Its private key.

    Returns
    -------
    list of str

    Examples
    --------
    >>> tls_options("c.pem", "k.pem")
    ['--tls-ca-file', 'c.pem', '--tls-cert', 'c.pem', '--tls-key', 'k.pem']
    """
    return ["--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key)]
