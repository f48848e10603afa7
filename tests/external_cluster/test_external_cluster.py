"""The course on a real multi-host cluster: `dask scheduler`, two `dask worker` and an object
store, each on a host of its own (Linux network namespaces), or all on 127.0.0.1 where
namespaces cannot be made.

These tests start real processes and run whole notebooks, so they only run when
``COURSE_EXTERNAL_CLUSTER=1`` (``make test-cluster``, part of ``make test``); the tests that need
separate hosts are skipped, with the reason, where namespaces cannot be made (not root, no
``ip``/``unshare``):

* the harness itself: every server on the private network or loopback only, the scheduler and
  the workers on different hosts, workers that see neither the course checkout nor its data but
  read what the test wrote to the store, the workers' settings, and nothing left (processes,
  namespaces, veths, bridge) after an error; the same for the one-host fallback;
* a worker killed (nanny and worker process) in the middle of a computation, and the result
  still right, recomputed on the surviving worker;
* every lesson in ``tools.course.EXTERNAL_CLUSTER_LESSONS`` (English notebooks)
  executed top to bottom with the cluster's ``client_env`` (``DASK_SCHEDULER_ADDRESS``,
  ``COURSE_DATA_URL``, ``AWS_*``) set and ``COURSE_SIZE=small``. Outputs are not compared (they
  name the cluster, "external cluster: 2 workers"): every cell must run without error, so the
  notebooks' own assertions check the results. A lesson on the list whose notebook does not
  exist fails, it is not skipped.

Cheap checks (the lesson list, the argv that runs a command on a host, the fallback decision)
always run. The executed copies are written to ``test-artifacts/external_cluster/``
(git-ignored); the committed notebooks are never touched.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tools.course import (
    EXTERNAL_CLUSTER_LESSONS,
    ROOT,
    execute_notebook,
    lesson_sources,
    select_lessons,
)
from tools.external_cluster import (
    decide_separate_hosts,
    external_cluster,
    lesson_notebook,
    lesson_prefixes,
    store_env,
)
from tools.private_network import (
    PrivateNetwork,
    hidden_paths,
    kept_paths,
    run_on_argv,
    unavailable_reason,
)

ENABLED = os.environ.get("COURSE_EXTERNAL_CLUSTER") == "1"
needs_cluster = pytest.mark.skipif(
    not ENABLED, reason="starts real dask processes: run `make test-cluster` "
                        "(or set COURSE_EXTERNAL_CLUSTER=1)")
NAMESPACES_UNAVAILABLE = unavailable_reason() if ENABLED else None
needs_namespaces = pytest.mark.skipif(
    NAMESPACES_UNAVAILABLE is not None,
    reason=f"separate hosts need Linux network namespaces: {NAMESPACES_UNAVAILABLE}")
CLIENT_ENV_KEYS = {"DASK_SCHEDULER_ADDRESS", "COURSE_DATA_URL", "AWS_ENDPOINT_URL",
                   "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                   "NO_PROXY", "no_proxy"}
ARTIFACTS = ROOT / "test-artifacts" / "external_cluster"
MEMORY_LIMIT = "700MiB"
#: Workers of the cluster the lessons run on: the most memory a lesson asks get_client() for on
#: its local cluster (lesson 08: 900MiB). An external cluster ignores that argument, so one with
#: smaller workers pauses them under lesson 08's widest models, and its pinned tasks then wait.
LESSON_MEMORY_LIMIT = "900MiB"


def _hex_ip(text: str) -> str:
    """An address of /proc/net/tcp{,6} ("0100007F") as text ("127.0.0.1")."""
    raw = bytes.fromhex(text)
    return str(ipaddress.ip_address(b"".join(raw[i:i + 4][::-1]
                                             for i in range(0, len(raw), 4))))


def _listening(pids):
    """(pid, ip, port) of every listening TCP socket of ``pids``, read from each process's own
    /proc/PID/net (psutil reads the caller's network namespace, not the process's)."""
    found = []
    for pid in pids:
        try:
            fds = Path(f"/proc/{pid}/fd")
            inodes = {os.readlink(fd) for fd in fds.iterdir()}
            tables = [Path(f"/proc/{pid}/net/{name}").read_text() for name in ("tcp", "tcp6")]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for table in tables:
            for line in table.splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and f"socket:[{fields[9]}]" in inodes:  # 0A: LISTEN
                    ip, port = fields[1].split(":")
                    found.append((pid, _hex_ip(ip), int(port, 16)))
    return found


def _all_gone(pids, timeout=10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive
                 if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"}
        time.sleep(0.1)
    return alive


class Boom(Exception):
    pass


# --- cheap checks of the lesson list (no cluster) -------------------------------------------

def test_every_lesson_that_uses_a_cluster_is_on_the_list_and_the_list_names_lessons():
    uses_a_cluster = {source.name[:2] for source in lesson_sources()
                      if "get_client(" in source.read_text(encoding="utf-8")}
    assert uses_a_cluster, "no lesson source calls get_client(: this check has lost its target"
    missing = sorted(uses_a_cluster - set(EXTERNAL_CLUSTER_LESSONS))
    assert not missing, (f"lessons {missing} call get_client() but are not in "
                         f"EXTERNAL_CLUSTER_LESSONS (tools/course.py): CI would not run them on "
                         f"a real cluster")
    for prefix in EXTERNAL_CLUSTER_LESSONS:
        assert len(select_lessons([f"{prefix}_"])) == 1, f"{prefix}: no single lesson source"


def test_a_missing_lesson_fails_with_a_clear_message():
    with pytest.raises(FileNotFoundError, match=r"notebooks/en/98_\*\.ipynb does not exist.*"
                                                r"make notebooks LESSONS=98"):
        lesson_notebook("98")


def test_lesson_list_can_be_overridden(monkeypatch):
    monkeypatch.setenv("COURSE_CLUSTER_LESSONS", "00 10")
    assert lesson_prefixes() == ["00", "10"]
    monkeypatch.delenv("COURSE_CLUSTER_LESSONS")
    assert lesson_prefixes() == list(EXTERNAL_CLUSTER_LESSONS)


# --- cheap checks of the hosts (no root, no cluster) -------------------------------------------

def test_a_command_runs_on_a_host_in_its_namespace_with_the_checkout_hidden(tmp_path):
    venv = ROOT / ".venv"
    argv = run_on_argv("dcn7-worker-0", [ROOT, ROOT / "data"], [venv], tmp_path)
    assert argv[:8] == ["ip", "netns", "exec", "dcn7-worker-0",
                        "unshare", "--mount", "--propagation", "private"]
    assert argv[8:10] == ["sh", "-c"] and argv[-1] == "sh"  # then the command, as "$@"
    script = argv[10]
    # the environment is staged, the checkout and the data covered, the environment put back,
    # and the command exec'd (so that it keeps its PID and process group)
    order = [f"mount --bind {venv} {tmp_path / '0'}", f"hidden {ROOT} ",
             f"hidden {ROOT / 'data'} ", f"mount --bind {tmp_path / '0'} {venv}", 'exec "$@"']
    positions = [script.find(step) for step in order]
    assert -1 not in positions and positions == sorted(positions), script


def test_the_checkout_and_the_data_folder_are_hidden_but_the_environment_kept(monkeypatch,
                                                                              tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert hidden_paths() == [ROOT, ROOT / "data"]
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert hidden_paths() == [ROOT, tmp_path.resolve()]
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "missing"))
    assert hidden_paths() == [ROOT]  # nothing to hide, and nothing created
    assert kept_paths([ROOT], [ROOT / ".venv", Path("/usr")]) == [ROOT / ".venv"]


def test_separate_hosts_when_namespaces_can_be_made_else_one_host(monkeypatch):
    import tools.external_cluster as ec

    monkeypatch.setattr(ec, "unavailable_reason", lambda: None)
    assert decide_separate_hosts(None) == (True, None)
    assert decide_separate_hosts(True) == (True, None)
    assert decide_separate_hosts(False)[0] is False
    monkeypatch.setattr(ec, "unavailable_reason", lambda: "network namespaces need root")
    assert decide_separate_hosts(None) == (False, "network namespaces need root")
    with pytest.raises(RuntimeError, match="need root.*separate_hosts=False"):
        decide_separate_hosts(True)


def test_the_store_environment_has_what_a_client_needs():
    env = store_env("http://10.213.7.2:5000")
    assert env["COURSE_DATA_URL"] == "s3://course-data/data"
    assert env["AWS_ENDPOINT_URL"] == "http://10.213.7.2:5000"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert store_env("x")["AWS_SECRET_ACCESS_KEY"] != env["AWS_SECRET_ACCESS_KEY"]  # made up


# --- the harness ------------------------------------------------------------------------------

def _check_workers(client) -> None:
    """Names, threads and memory as asked, and Dask's defaults on the workers."""
    workers = client.scheduler_info()["workers"].values()
    assert sorted(w["name"] for w in workers) == ["worker-0", "worker-1"]
    assert all(w["nthreads"] == 1 for w in workers)
    assert all(w["memory_limit"] == 700 * 2**20 for w in workers)

    def fuse():
        import dask

        return dask.config.get("optimization.fuse.active")

    assert set(client.run(fuse).values()) == {None}


@needs_cluster
@needs_namespaces
def test_separate_hosts_private_network_hidden_checkout_store_and_cleanup(monkeypatch):
    import fsspec
    from distributed import Client

    pids, network = set(), None
    with pytest.raises(Boom), external_cluster(n_workers=2, memory_limit=MEMORY_LIMIT,
                                               separate_hosts=True) as cluster:
        network, pids = cluster.network, cluster.pids()
        assert cluster.separate_hosts and cluster.store is not None
        assert set(cluster.client_env) == CLIENT_ENV_KEYS
        # store; scheduler; per worker: nanny + worker process (+ resource tracker)
        assert len(pids) >= 6, pids
        subnet = ipaddress.ip_network(network.subnet)
        sockets = _listening(pids)
        outside = [s for s in sockets if not (ipaddress.ip_address(s[1]).is_loopback
                                              or ipaddress.ip_address(s[1]) in subnet)]
        assert not outside, f"servers reachable beyond the test network: {outside}"
        # store; scheduler + dashboard; per worker: nanny, worker, worker HTTP endpoint
        assert len(sockets) >= 9, sockets
        hosts = cluster.hosts
        assert len(set(hosts.values())) == len(hosts) == 4, hosts

        for name, value in cluster.client_env.items():
            monkeypatch.setenv(name, value)
        url = f"{cluster.client_env['COURSE_DATA_URL']}/probe.txt"
        with fsspec.open(url, "w") as f:  # written by the test process, from the root namespace
            f.write("written by the test")

        repo, data = str(ROOT), str(ROOT / "data")

        def sees():  # nested: cloudpickle ships it by value (the workers have no tests/)
            import importlib.util
            import os

            import fsspec

            listing = sorted(os.listdir(repo)) if os.path.isdir(repo) else []
            data_files = os.listdir(data) if os.path.isdir(data) else []
            with fsspec.open(url, "r") as f:
                stored = f.read()
            return (importlib.util.find_spec("helpers") is not None, listing, data_files,
                    stored)

        with Client(cluster.address, timeout="30s") as client:
            _check_workers(client)
            addresses = list(client.scheduler_info()["workers"])
            worker_ips = {a.split("://")[1].rsplit(":", 1)[0] for a in addresses}
            scheduler_ip = cluster.address.split("://")[1].rsplit(":", 1)[0]
            assert worker_ips == {hosts["worker-0"], hosts["worker-1"]}
            assert scheduler_ip == hosts["scheduler"] and scheduler_ip not in worker_ips
            for helpers, listing, data_files, stored in client.run(sees).values():
                assert not helpers, "the course's helpers are importable on a worker"
                assert set(listing) <= {".venv", "data"}, f"checkout visible: {listing}"
                assert data_files == [], f"data folder visible: {data_files}"
                assert stored == "written by the test"
        raise Boom("a failing test body must not leave processes or network behind")
    assert pids and not _all_gone(pids), "processes left running after the error"
    assert network.killed == [], "processes still ran on the hosts when the network was removed"
    assert network.leftovers() == [], "namespaces or links left after the error"
    ip_state = subprocess.run("ip netns list; ip -o link", shell=True, capture_output=True,
                              text=True).stdout
    assert f"dcn{network.number}-" not in ip_state, ip_state


@needs_cluster
def test_one_host_fallback_is_loopback_only_configured_and_cleans_up_after_an_error():
    from distributed import Client

    pids = set()
    with pytest.raises(Boom), external_cluster(n_workers=2, memory_limit=MEMORY_LIMIT,
                                               separate_hosts=False) as cluster:
        pids = cluster.pids()
        assert not cluster.separate_hosts and cluster.one_host_reason
        assert cluster.store is None and cluster.network is None
        assert cluster.client_env == {"DASK_SCHEDULER_ADDRESS": cluster.address}
        # scheduler; per worker: nanny + worker process (+ multiprocessing's resource tracker)
        assert len(pids) >= 5, pids
        sockets = _listening(pids)
        outside = [s for s in sockets if not ipaddress.ip_address(s[1]).is_loopback]
        assert not outside, f"servers reachable from the network: {outside}"
        # scheduler + dashboard, and per worker: nanny, worker, worker HTTP endpoint
        assert len(sockets) >= 8, sockets
        with Client(cluster.address, timeout="30s") as client:
            _check_workers(client)

            def helpers_importable():
                import importlib.util

                return importlib.util.find_spec("helpers") is not None

            # one host: the course's environment, checkout included
            assert set(client.run(helpers_importable).values()) == {True}
        raise Boom("a failing test body must not leave processes behind")
    assert pids and not _all_gone(pids), "processes left running after the error"


@needs_cluster
@needs_namespaces
def test_a_network_left_by_a_crashed_run_is_removed_by_the_next_one():
    crash = ("from tools.private_network import PrivateNetwork; import os\n"
             "net = PrivateNetwork(['a']).create(); print(net.number, flush=True); os._exit(0)")
    done = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    stale = f"dcn{int(done.stdout)}-"
    assert stale in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                   text=True).stdout
    with PrivateNetwork(["b"]) as network:
        assert network.leftovers()
        ip_state = subprocess.run("ip netns list; ip -o link", shell=True, capture_output=True,
                                  text=True).stdout
        assert stale not in ip_state, ip_state
        assert not list(Path(tempfile.gettempdir()).glob(f"{stale}stage-*"))
    assert network.leftovers() == []


@needs_cluster
@needs_namespaces
def test_killing_a_worker_mid_computation_still_gives_the_right_answer():
    from distributed import Client

    n_tasks = 24
    expected = sum(i * i for i in range(n_tasks))

    def slow_square(i):  # nested, so cloudpickle ships it by value to the workers
        import time

        time.sleep(0.25)
        return i * i

    with external_cluster(n_workers=2, memory_limit=MEMORY_LIMIT,
                          separate_hosts=True) as cluster, \
            Client(cluster.address, timeout="30s") as client:
        names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
        futures = client.map(slow_square, range(n_tasks))
        total = client.submit(sum, futures)
        deadline = time.monotonic() + 120
        while True:  # wait until both workers hold finished results
            holders = {}
            for key, addresses in client.who_has(futures).items():
                for address in addresses:
                    holders.setdefault(address, set()).add(key)
            if len(holders) == 2 and min(map(len, holders.values())) >= 2:
                break
            assert time.monotonic() < deadline, "the computation did not start on both workers"
            time.sleep(0.05)
        victim = max(holders, key=lambda a: len(holders[a]))
        survivor = next(a for a in names if a != victim)
        lost = holders[victim] - holders.get(survivor, set())
        assert not total.done(), "the kill must happen in the middle of the computation"
        victim_pids = cluster._processes.pids(names[victim])

        cluster.kill_worker(names[victim])

        assert not _all_gone(victim_pids), "the killed worker's processes still run"
        assert total.result(timeout=120) == expected
        assert [f.result() for f in futures] == [i * i for i in range(n_tasks)]
        assert list(client.scheduler_info()["workers"]) == [survivor]
        # The lost results now live on the survivor: recomputed there.
        assert lost and all(set(a) == {survivor} for k, a in client.who_has(futures).items()
                            if k in lost)
        assert cluster.scheduler.poll() is None
    assert cluster.network.killed == [] and cluster.network.leftovers() == []


# --- the lessons --------------------------------------------------------------------------------

@needs_cluster
@pytest.mark.parametrize("prefix", lesson_prefixes())
def test_lesson_runs_unchanged_on_an_external_cluster(prefix, monkeypatch):
    import nbformat
    from distributed import Client

    path = lesson_notebook(prefix)  # fails (not skips) when the notebook does not exist
    notebook = nbformat.read(path, as_version=4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    executed = ARTIFACTS / path.name
    executed.unlink(missing_ok=True)
    with external_cluster(n_workers=2, memory_limit=LESSON_MEMORY_LIMIT) as cluster:
        pids = cluster.pids()
        for name, value in cluster.client_env.items():  # what the notebook's kernel inherits
            monkeypatch.setenv(name, value)
        if not cluster.separate_hosts:
            monkeypatch.delenv("COURSE_DATA_URL", raising=False)
        monkeypatch.setenv("COURSE_SIZE", "small")
        started = time.perf_counter()
        try:
            # Same kernel, cell timeout and working directory as `make notebooks`.
            execute_notebook(notebook, Path(path).parent)
        finally:
            nbformat.write(notebook, executed)
        took = time.perf_counter() - started
        with Client(cluster.address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=30)  # the lesson left the cluster as it found it
        where = "separate hosts" if cluster.separate_hosts else cluster.one_host_reason
        print(f"{path.name}: {took:.1f} s on {cluster.address} ({where}; "
              f"executed copy: {executed})")
    assert not _all_gone(pids), "processes left running after the cluster was stopped"
    assert cluster.network is None or cluster.network.leftovers() == []
