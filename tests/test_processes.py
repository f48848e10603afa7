"""helpers.processes: starting and stopping `dask` processes (lesson 10, tools/external_cluster).

Most tests replace the `dask` program by a tiny Python script, so they run in a fraction of a
second; one starts a real `dask scheduler` and a real `dask worker` (a few seconds).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from helpers import processes as hp
from helpers.i18n import set_language

posix_only = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")

#: What the stand-in scheduler writes into its scheduler file.
FAKE_ADDRESS = "tcp://127.0.0.1:1234"
FAKE_DASHBOARD_PORT = 4321
#: Stands in for `dask`: a scheduler writes its scheduler file, anything else just waits; both
#: start a child process, as a nanny starts its worker process.
FAKE_DASK = r"""
import json, subprocess, sys, time
args = sys.argv[1:]
if "--exit" in args:
    print("something went wrong", flush=True)
    sys.exit(3)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
if args[0] == "scheduler":
    path = args[args.index("--scheduler-file") + 1]
    with open(path + ".tmp", "w") as f:
        json.dump({"address": "FAKE_ADDRESS", "services": {"dashboard": FAKE_DASHBOARD_PORT}}, f)
    import os; os.replace(path + ".tmp", path)
time.sleep(60)
"""


@pytest.fixture
def fake_dask(tmp_path, monkeypatch):
    script = tmp_path / "fake_dask.py"
    script.write_text(FAKE_DASK.replace("FAKE_ADDRESS", FAKE_ADDRESS)
                      .replace("FAKE_DASHBOARD_PORT", str(FAKE_DASHBOARD_PORT)))
    monkeypatch.setattr(hp, "dask_command", lambda: [sys.executable, str(script)])
    return script


def _started_in_own_session(command: str) -> subprocess.Popen:
    return subprocess.Popen(["sh", "-c", command], start_new_session=True)


def _family_pids(proc) -> set[int]:
    deadline = time.monotonic() + 5
    while True:  # wait until the shell has started its children
        family = {p.pid for p in [psutil.Process(proc.pid),
                                  *psutil.Process(proc.pid).children(recursive=True)]}
        if len(family) > 1 or time.monotonic() > deadline:
            return family
        time.sleep(0.02)


# --- stop_processes ------------------------------------------------------------------------------

@posix_only
@pytest.mark.parametrize("hard", [False, True])
def test_stop_processes_stops_children_too(hard):
    proc = _started_in_own_session("sleep 60 & sleep 60; wait")
    family = _family_pids(proc)
    assert len(family) >= 2
    started = time.monotonic()
    hp.stop_processes([proc], hard=hard, timeout=5)
    assert time.monotonic() - started < 4
    assert hp.still_running(family) == []
    assert proc.returncode == (-signal.SIGKILL if hard else -signal.SIGTERM)


@posix_only
def test_stop_processes_kills_what_ignores_sigterm():
    proc = _started_in_own_session("trap '' TERM; sleep 60 & wait; sleep 60")
    family = _family_pids(proc)
    time.sleep(0.2)  # let the shell install its trap
    started = time.monotonic()
    hp.stop_processes([proc], timeout=0.5)
    assert 0.4 < time.monotonic() - started < 4
    assert hp.still_running(family) == []
    assert proc.returncode == -signal.SIGKILL


def test_still_running_ignores_missing_processes():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert hp.still_running([proc.pid, os.getpid()]) == [os.getpid()]


# --- DaskProcesses with a stand-in for `dask` ---------------------------------------------------

@pytest.fixture
def scheduler_and_worker(fake_dask):
    """A stand-in scheduler and one stand-in worker ("worker-a"), each with its child process."""
    procs = hp.DaskProcesses(env={"COURSE_TEST_VAR": "1"})
    procs.start_worker("worker-a", procs.start_scheduler())
    time.sleep(0.3)  # let the stand-in start its child, as a nanny its worker process
    yield procs
    procs.close()


def test_scheduler_address_and_dashboard_come_from_the_scheduler_file(fake_dask):
    with hp.DaskProcesses() as procs:
        assert procs.start_scheduler() == FAKE_ADDRESS
        assert procs.dashboard_link() == f"http://127.0.0.1:{FAKE_DASHBOARD_PORT}/status"


def test_processes_get_the_given_environment_without_a_scheduler_address(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.1:8786")
    procs = hp.DaskProcesses(env={"COURSE_TEST_VAR": "1"})
    try:
        assert procs.env["COURSE_TEST_VAR"] == "1"
        assert "DASK_SCHEDULER_ADDRESS" not in procs.env  # a worker must not find another one
    finally:
        procs.close()


def test_table_counts_each_process_with_its_child_in_the_lesson_language(scheduler_and_worker):
    set_language("es")
    scheduler, worker = scheduler_and_worker.table().splitlines()
    # Each stand-in started one child, so each name stands for two processes.
    assert scheduler.split()[:4] == ["scheduler", "2", "procesos", "planificador"]
    assert worker.split()[:2] == ["worker-a", "2"] and "nanny + proceso worker" in worker
    set_language("en")
    assert "nanny + worker process" in scheduler_and_worker.table()


def test_a_name_cannot_be_launched_twice(scheduler_and_worker):
    with pytest.raises(ValueError, match="already running"):
        scheduler_and_worker.launch("worker-a", "worker")


def test_close_stops_every_process_and_child_and_removes_the_workdir(scheduler_and_worker):
    pids = scheduler_and_worker.pids()
    started = len(scheduler_and_worker.processes)
    assert len(pids) == 2 * started  # each stand-in and its child
    workdir = scheduler_and_worker.workdir
    assert scheduler_and_worker.close() == []
    assert hp.still_running(pids) == []
    assert scheduler_and_worker.processes == {} and not workdir.exists()


def test_scheduler_that_dies_reports_its_log(fake_dask):
    with hp.DaskProcesses() as procs:
        with pytest.raises(RuntimeError, match="(?s)exited with code 3.*something went wrong"):
            procs.start_scheduler(args=["--exit"])


def test_scheduler_and_worker_options(monkeypatch):
    launched = []
    monkeypatch.setattr(hp.DaskProcesses, "launch",
                        lambda self, name, *args, **kwargs: launched.append((name, args)))
    procs = hp.DaskProcesses()
    procs.start_worker("worker-small", "tls://127.0.0.1:9", memory_limit="400MiB",
                       nanny=False, resources={"SMALL": 1, "GPU": 2}, args=["--x", "y"])
    name, args = launched[0]
    assert name == "worker-small" and args[:2] == ("worker", "tls://127.0.0.1:9")
    def option(flag):
        return args[args.index(flag) + 1]

    assert option("--host") == hp.LOOPBACK and option("--memory-limit") == "400MiB"
    assert option("--name") == "worker-small"
    assert "--no-nanny" in args and "--nanny" not in args and "--no-dashboard" in args
    assert option("--resources") == "SMALL=1 GPU=2"
    assert args[-2:] == ("--x", "y")
    assert procs.kinds["worker-small"] == "worker-no-nanny"
    procs.close()


@posix_only
def test_a_process_can_listen_on_another_host_through_a_wrapper(fake_dask):
    """``host`` reaches the options and the dashboard link; ``wrapper`` prefixes the argv and
    execs the program, which keeps the PID and the process group that stop() signals."""
    wrapper = ("env", "COURSE_WRAPPED=1")
    with hp.DaskProcesses() as procs:
        address = procs.start_scheduler(host="10.213.7.3", wrapper=wrapper, timeout=10)
        worker = procs.start_worker("worker-a", address, host="10.213.7.4", wrapper=wrapper)
        assert procs.dashboard_link() == "http://10.213.7.3:4321/status"
        assert procs.hosts == {"scheduler": "10.213.7.3", "worker-a": "10.213.7.4"}
        family = _family_pids(worker)  # the program and the child it starts (a nanny's worker)
        for name, host in procs.hosts.items():
            command = psutil.Process(procs.processes[name].pid).cmdline()
            assert command[:2] == [sys.executable, str(fake_dask)]  # env exec'd it
            assert command[command.index("--host") + 1] == host
            assert psutil.Process(procs.processes[name].pid).environ()["COURSE_WRAPPED"] == "1"
        assert os.getpgid(worker.pid) == worker.pid and len(family) == 2
        procs.stop("worker-a", hard=True)
        assert hp.still_running(family) == []


def test_start_cluster_places_each_process(monkeypatch):
    calls = []
    monkeypatch.setattr(hp.DaskProcesses, "start_scheduler",
                        lambda self, **kwargs: calls.append(("scheduler", kwargs)) or "tcp://s:1")
    monkeypatch.setattr(hp.DaskProcesses, "start_worker",
                        lambda self, name, address, **kwargs: calls.append((name, kwargs)))
    monkeypatch.setattr(hp.DaskProcesses, "wait_for_workers", lambda self, *a, **k: None)
    with hp.DaskProcesses() as procs:
        procs.start_cluster(["w-0", "w-1"], placements={
            "scheduler": hp.Placement("10.0.0.2", ("on", "s")),
            "w-0": hp.Placement("10.0.0.3", ("on", "w"))})
    placed = {name: (kwargs["host"], tuple(kwargs["wrapper"])) for name, kwargs in calls}
    assert placed == {"scheduler": ("10.0.0.2", ("on", "s")), "w-0": ("10.0.0.3", ("on", "w")),
                      "w-1": (hp.LOOPBACK, ())}


# --- launch_cluster: DASK_SCHEDULER_ADDRESS and re-runs -----------------------------------------

def test_launch_cluster_exports_and_restores_the_address(monkeypatch):
    addresses = iter(["tcp://127.0.0.1:1001", "tcp://127.0.0.1:1002"])
    monkeypatch.setattr(hp.DaskProcesses, "start_cluster",
                        lambda self, names, **kwargs: next(addresses))
    monkeypatch.setenv(hp.ADDRESS_ENV_VAR, "tcp://127.0.0.1:9999")  # as under CI
    first = hp.launch_cluster()
    assert os.environ[hp.ADDRESS_ENV_VAR] == "tcp://127.0.0.1:1001"
    assert first.outside_address == "tcp://127.0.0.1:9999"
    second = hp.launch_cluster()  # the notebook run again: the first one is shut down
    assert first.shut and not first.workdir.exists()
    assert os.environ[hp.ADDRESS_ENV_VAR] == "tcp://127.0.0.1:1002"
    assert second.outside_address == "tcp://127.0.0.1:9999"
    assert second.shut_down() == []
    assert os.environ[hp.ADDRESS_ENV_VAR] == "tcp://127.0.0.1:9999"
    assert hp._launched == []


def test_launch_cluster_cleans_up_when_starting_fails(monkeypatch):
    def fail(self, names, **kwargs):
        raise TimeoutError("no workers")

    monkeypatch.setattr(hp.DaskProcesses, "start_cluster", fail)
    monkeypatch.delenv(hp.ADDRESS_ENV_VAR, raising=False)
    with pytest.raises(TimeoutError):
        hp.launch_cluster()
    assert hp.ADDRESS_ENV_VAR not in os.environ


# --- TLS ----------------------------------------------------------------------------------------

def test_self_signed_certificate(tmp_path):
    if hp.shutil.which("openssl") is None:
        with pytest.raises(FileNotFoundError):
            hp.self_signed_certificate(tmp_path)
        return
    cert, key = hp.self_signed_certificate(tmp_path)
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY-----" in key.read_text()


# --- the real thing ------------------------------------------------------------------------------

def test_real_scheduler_and_worker_listen_on_loopback_and_stop():
    with hp.DaskProcesses() as procs:
        address = procs.start_scheduler()
        procs.start_worker("worker-a", address, nanny=False, memory_limit="300MiB")
        procs.wait_for_workers(address, 1, timeout=60)
        listening = procs.listening_addresses()
        assert listening and all(ipaddress.ip_address(ip).is_loopback for ip in listening)
        pids = procs.pids()
        procs.stop("worker-a", hard=True)
        assert "worker-a" not in procs.processes
    assert hp.still_running(pids) == []


def test_workers_are_stopped_before_their_scheduler(monkeypatch):
    calls = []
    monkeypatch.setattr(hp, "stop_processes",
                        lambda procs, hard=False, timeout=0: calls.append(list(procs)))
    procs = hp.DaskProcesses()
    scheduler, worker_a, worker_b = object(), object(), object()
    procs.processes = {"scheduler": scheduler, "worker-a": worker_a, "worker-b": worker_b}
    procs.kinds = {"scheduler": "scheduler", "worker-a": "worker", "worker-b": "worker-no-nanny"}
    procs.stop("scheduler", "worker-a", "worker-b")
    assert calls == [[worker_a, worker_b], [scheduler]]
    assert procs.processes == {}
    procs.close()
