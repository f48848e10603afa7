"""helpers.cluster: reuse, argument errors, external scheduler, loopback-only servers."""

import ipaddress

import psutil
import pytest

from helpers import cluster
from helpers.cluster import close_client, get_client, make_spec


@pytest.mark.parametrize("kwargs, message", [
    ({"n_workers": 0}, "at least one worker"),
    ({"n_workers": -1}, "at least one worker"),
    ({"n_workers": 1.5}, "whole number"),
    ({"threads_per_worker": 0}, "at least one worker with one thread"),
    ({"memory_limit": "lots"}, "not a size"),
    ({"memory_limit": -5}, "positive size"),
    ({"memory_limit": "100TiB"}, "more than this machine has"),
])
def test_bad_arguments_say_what_to_do(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_spec(**kwargs)


def test_default_spec_fits_binder():
    spec = make_spec()
    assert spec.n_workers >= 1 and spec.threads_per_worker == 1
    assert spec.memory_limit <= cluster.DEFAULT_WORKER_MEMORY


def test_unreachable_scheduler_gives_clear_error(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ConnectionError, match="dask scheduler --host 127.0.0.1"):
        get_client()


def test_reuses_client_with_dask_defaults(local_client):
    import dask

    assert get_client(n_workers=2, threads_per_worker=1, memory_limit="400MiB") is local_client
    # No global switch of graph optimisation: the lessons show default Dask.
    assert dask.config.get("optimization.fuse.active") is None
    assert len(local_client.scheduler_info()["workers"]) == 2
    assert local_client.submit(sum, [1, 2, 3]).result() == 6


def test_work_stealing_switches_off_and_back_on(local_client):
    from helpers.cluster import set_work_stealing

    def stealing_running(dask_scheduler):
        return "stealing" in dask_scheduler.periodic_callbacks

    assert local_client.run_on_scheduler(stealing_running)
    assert set_work_stealing(local_client, False) is True
    assert not local_client.run_on_scheduler(stealing_running)
    assert set_work_stealing(local_client, False) is False  # idempotent
    assert local_client.submit(sum, [1, 2]).result() == 3  # tasks still run without it
    assert set_work_stealing(local_client, True) is False
    assert local_client.run_on_scheduler(stealing_running)


def _progress_bars(widget) -> list:
    """Every FloatProgress in a widget tree, however the boxes around them are nested."""
    from ipywidgets import FloatProgress

    if isinstance(widget, FloatProgress):
        return [widget]
    return [bar for child in getattr(widget, "children", ()) for bar in _progress_bars(child)]


def _progress_listeners(dask_scheduler) -> list[str]:
    """Run on the scheduler: the progress plugins that still report to a progress bar."""
    from distributed.diagnostics.progress import Progress

    return [name for name, plugin in dask_scheduler.plugins.items()
            if isinstance(plugin, Progress)]


def test_show_progress_waits_and_leaves_nothing_listening(local_client, caplog, monkeypatch):
    import time

    import IPython.display

    from helpers.cluster import show_progress

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    slow = [local_client.submit(time.sleep, 0.3, pure=False) for _ in range(4)]
    show_progress(slow, client=local_client)
    assert all(f.status == "finished" for f in slow)  # it blocked until every task was done
    # Nothing listens on the scheduler any more: no progress plugin is left behind.
    assert local_client.run_on_scheduler(_progress_listeners) == []
    (widget,) = shown
    bars = _progress_bars(widget)
    # The listener saw the end: it only paints the bars green when the scheduler says "finished".
    assert bars and all(b.value == 1 and b.bar_style == "success" for b in bars)
    close_client()  # at once, as the next cell of a lesson may: nothing may log an error
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_new_shape_replaces_old_cluster(local_client):
    replacement = get_client(n_workers=1, threads_per_worker=1, memory_limit="300MiB")
    try:
        assert replacement is not local_client
        assert local_client.status == "closed"
        assert len(replacement.scheduler_info()["workers"]) == 1
    finally:
        close_client()


def test_close_client_closes_client_and_cluster_and_a_second_call_does_nothing(local_client,
                                                                               caplog):
    import socket
    from urllib.parse import urlsplit

    started = local_client.cluster
    scheduler = urlsplit(started.scheduler_address)
    close_client()
    assert local_client.status == "closed"
    assert started.status.name == "closed"
    with pytest.raises(ConnectionRefusedError):  # the scheduler no longer listens
        socket.create_connection((scheduler.hostname, scheduler.port), timeout=5).close()
    close_client()  # nothing open any more: nothing to do, nothing to complain about
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    # Nothing of the closed client was kept: asking again starts a new one.
    again = get_client(n_workers=2, threads_per_worker=1, memory_limit="400MiB")
    assert again is not local_client and again.status == "running"


def _listening_addresses(root: psutil.Process):
    found = []
    for proc in [root, *root.children(recursive=True)]:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                found.append((proc.pid, conn.laddr.ip, conn.laddr.port))
    return found


def test_every_server_listens_on_loopback_only(local_client):
    sockets = _listening_addresses(psutil.Process())
    # scheduler + dashboard + 2 nannies in this process, and each worker's own servers.
    assert len(sockets) >= 6, sockets
    pids = {pid for pid, _, _ in sockets}
    assert len(pids) >= 3, "expected the worker processes to listen too"
    outside = [s for s in sockets if not ipaddress.ip_address(s[1]).is_loopback]
    assert not outside, f"servers reachable from the network: {outside}"


def test_dashboard_link_uses_jupyterhub_proxy(monkeypatch):
    import dask

    before = dask.config.get("distributed.dashboard.link")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    try:
        cluster.configure_dask()
        assert dask.config.get("distributed.dashboard.link") == "/user/ana/proxy/{port}/status"
    finally:
        dask.config.set({"distributed.dashboard.link": before})


def test_summary_mentions_workers_and_dashboard(local_client):
    text = cluster.cluster_summary(local_client)
    assert "2 workers" in text and "127.0.0.1" in text


# --- an external scheduler -------------------------------------------------------------------

@pytest.fixture
def outside_cluster(monkeypatch):
    """A cluster get_client did not start, reached through DASK_SCHEDULER_ADDRESS."""
    from distributed import LocalCluster

    close_client()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="400MiB") as outside:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", outside.scheduler_address)
        yield outside
        close_client()


def test_external_cluster_gets_helpers_and_a_warning_for_local_arguments(outside_cluster):
    with pytest.warns(UserWarning, match=r"get_client\(n_workers=3\): ignored.*external"):
        client = get_client(n_workers=3)
    assert cluster.worker_count(client) == 1  # the cluster's size, not the argument's

    def helpers_origin():
        import helpers

        return helpers.__file__

    # Both sides import the helpers package from the uploaded zip, not from a checkout.
    assert all(".zip" in origin for origin in client.run(helpers_origin).values())
    assert ".zip" in client.run_on_scheduler(helpers_origin)
    plugins = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.plugins))
    assert plugins.count(cluster.HELPERS_PLUGIN) == 1
    close_client()
    client = get_client()  # connecting again does not upload another copy
    plugins = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.plugins))
    assert [p for p in plugins if "helpers" in p] == [cluster.HELPERS_PLUGIN]


def test_dask_config_names_the_scheduler_too(outside_cluster, monkeypatch):
    import dask

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert cluster.scheduler_address() == ""
    with dask.config.set({"scheduler-address": outside_cluster.scheduler_address}):
        assert cluster.uses_external_cluster()
        assert get_client().scheduler.address == outside_cluster.scheduler_address


class _SkewedClient:
    """Answers check_versions like a cluster whose worker has another pandas."""

    def __init__(self, worker_pandas):
        self.worker_pandas = worker_pandas

    def run_on_scheduler(self, probe, packages):
        return probe(packages)

    def run(self, probe, packages):
        found = probe(packages)
        return {"tcp://10.0.0.3:4000": {**found, "pandas": self.worker_pandas}}


@pytest.mark.parametrize("worker_pandas", ["1.5.3", None])
def test_version_skew_is_caught_with_what_to_do(worker_pandas):
    import pandas

    with pytest.raises(RuntimeError, match=(
            rf"(?s)same versions.*pandas: notebook {pandas.__version__}.*"
            rf"worker tcp://10.0.0.3:4000 {worker_pandas or '-'}.*Install the notebook's")):
        cluster.check_versions(_SkewedClient(worker_pandas))
    cluster.check_versions(_SkewedClient(pandas.__version__))  # same versions: no error
