"""helpers.torch_workers: PyTorch set-up on the workers and DDP ranks (lesson 08).

The functions meant for workers run here in this process, through a stand-in for the client
(``client.run`` and ``client.submit`` call them directly): no cluster is started.
"""

from __future__ import annotations

import sys

import psutil
import pytest

torch = pytest.importorskip("torch")

from helpers import torch_workers as tw  # noqa: E402


class InProcessClient:
    """What the helpers use of a distributed.Client, run in this process as worker
    :attr:`ADDRESS`."""

    ADDRESS = "tcp://127.0.0.1:1"

    def __init__(self):
        self.pinned = []

    def run(self, function, *args):
        return {self.ADDRESS: function(*args)}

    def submit(self, function, *args, workers=None, pure=True):
        self.pinned.append(workers)
        result = function(*args)

        class Done:
            def result(self):
                return result

        return Done()


@pytest.fixture
def torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_process_mib_is_this_process_rss():
    assert tw.process_mib() == pytest.approx(psutil.Process().memory_info().rss / 2**20, rel=0.05)


def test_prepare_torch_workers_leaves_each_worker_one_thread(torch_threads):
    torch.set_num_threads(2)
    setup = tw.prepare_torch_workers(InProcessClient())
    assert torch.get_num_threads() == 1
    assert setup.threads == {InProcessClient.ADDRESS: 1}  # as each worker reports it


def test_prepare_torch_workers_reports_every_worker_and_its_own_duration(torch_threads):
    import time

    started = time.perf_counter()
    setup = tw.prepare_torch_workers(InProcessClient())
    elapsed = time.perf_counter() - started
    assert set(setup.mib) == set(setup.threads) == {InProcessClient.ADDRESS}
    assert 0 < setup.seconds <= elapsed  # a duration within the call, not a clock reading
    assert "torch._dynamo" in sys.modules  # imported up front, as the first training would


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int8])
def test_prepared_workers_weigh_a_tensor_by_its_bytes(torch_threads, dtype):
    """Without the set-up, dask.sizeof weighs any tensor as a small Python object."""
    from dask.sizeof import sizeof

    tw.prepare_torch_workers(InProcessClient())
    tensor = torch.zeros(10, 3, dtype=dtype)
    assert sizeof(tensor) == tensor.element_size() * tensor.nelement()
    assert sizeof(tensor[:5]) == tensor.element_size() * 5 * 3


def test_meeting_point_is_chosen_on_the_rank_0_worker():
    client = InProcessClient()
    host, port = tw.ddp_meeting_point(client, "tcp://127.0.0.1:40331")
    assert host == "127.0.0.1" and 0 < port < 65536
    assert client.pinned == [["tcp://127.0.0.1:40331"]]


def _all_reduce_and_listening(port, value):
    """A training function: what the process group sees, and who listens on the port."""
    import torch.distributed as dist

    tensor = torch.tensor([value])
    dist.all_reduce(tensor)
    listening = {c.laddr.ip for c in psutil.Process().net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
    return dist.get_rank(), dist.get_world_size(), tensor.item(), listening


def test_run_ddp_rank_runs_inside_a_group_that_listens_on_its_host_only():
    import time

    import torch.distributed as dist

    port = tw.free_port("127.0.0.1")
    started = time.perf_counter()
    (rank, size, total, listening), seconds = tw.run_ddp_rank(
        _all_reduce_and_listening, 0, 1, "127.0.0.1", port, port, 3.0, timeout_s=20)
    elapsed = time.perf_counter() - started
    assert (rank, size, total) == (0, 1, 3.0)
    assert listening == {"127.0.0.1"}
    assert 0 < seconds <= elapsed  # the training's own duration, within the call
    assert not dist.is_initialized(), "the process group must be destroyed afterwards"


def test_run_ddp_rank_destroys_the_group_when_training_fails():
    import torch.distributed as dist

    def fail():
        raise ValueError("diverged")

    with pytest.raises(ValueError, match="diverged"):
        tw.run_ddp_rank(fail, 0, 1, "127.0.0.1", tw.free_port("127.0.0.1"), timeout_s=20)
    assert not dist.is_initialized()


@pytest.mark.parametrize("timeout_s", [0, -1, float("inf"), float("nan"), None, True])
def test_run_ddp_rank_refuses_a_wait_without_end(timeout_s):
    import torch.distributed as dist

    with pytest.raises(ValueError, match="finite number of seconds"):
        tw.run_ddp_rank(_all_reduce_and_listening, 0, 1, "127.0.0.1", 1, timeout_s=timeout_s)
    assert not dist.is_initialized()


def test_a_rank_whose_peer_never_comes_gives_up_after_the_timeout():
    """Rank 0 of two, alone: the rendezvous fails after the timeout instead of waiting."""
    import time

    import torch.distributed as dist

    port = tw.free_port("127.0.0.1")
    started = time.perf_counter()
    with pytest.raises(dist.DistError, match="1/2 clients joined"):
        tw.run_ddp_rank(_all_reduce_and_listening, 0, 2, "127.0.0.1", port, port, 1.0,
                        timeout_s=1)
    assert time.perf_counter() - started < 15
    assert not dist.is_initialized()
    # The meeting point is free again for the next job.
    assert tw.free_port("127.0.0.1") > 0
    import socket

    with socket.create_server(("127.0.0.1", port)):
        pass


_SILENT_PEER = """
import sys, time
from helpers import torch_workers as tw
# Rank 0 of two: creates the meeting point, waits for rank 1, then takes no part in any
# collective for 60 s.
tw.run_ddp_rank(time.sleep, 0, 2, "127.0.0.1", int(sys.argv[1]), 60, timeout_s=90)
"""


def _sum_of_ones():
    import torch.distributed as dist

    ones = torch.ones(1)
    dist.all_reduce(ones)
    return ones.item()


def _wait_until_listening(pid, port, within_s=120):
    import time

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
               for c in psutil.Process(pid).net_connections("inet")):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the peer never listened on port {port}")


def test_a_collective_waits_no_longer_than_the_timeout():
    """Both ranks meet, but rank 0 never joins the all-reduce: rank 1 fails after the timeout
    (and its group is destroyed) instead of waiting for as long as rank 0 stays away."""
    import subprocess
    import time

    import torch.distributed as dist

    port = tw.free_port("127.0.0.1")
    peer = subprocess.Popen([sys.executable, "-c", _SILENT_PEER, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_listening(peer.pid, port)
        started = time.perf_counter()
        with pytest.raises(RuntimeError, match="[Tt]imed out") as failure:
            tw.run_ddp_rank(_sum_of_ones, 1, 2, "127.0.0.1", port, timeout_s=3)
        elapsed = time.perf_counter() - started
    finally:
        peer.kill()
        peer.wait()
    # It is the all-reduce that timed out, not the rendezvous: both ranks had met.
    assert not isinstance(failure.value, dist.DistStoreError)
    assert "clients joined" not in str(failure.value)
    # 3 s of timeout (plus the rendezvous), not the 60 s that the peer stays away.
    assert elapsed < 30
    assert not dist.is_initialized()


def test_interface_of_finds_the_interface_that_holds_an_address():
    import psutil

    loopback = tw.interface_of("127.0.0.1")
    assert loopback in psutil.net_if_addrs()
    assert tw.interface_of("192.0.2.77") is None  # TEST-NET-1: on no machine's interface
