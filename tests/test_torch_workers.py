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
    """What the helpers use of a distributed.Client, run in this process as worker "w"."""

    def __init__(self):
        self.pinned = []

    def run(self, function, *args):
        return {"tcp://127.0.0.1:1": function(*args)}

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


def test_prepare_torch_workers_sets_threads_and_tensor_sizes(torch_threads):
    from dask.sizeof import sizeof

    torch.set_num_threads(2)
    setup = tw.prepare_torch_workers(InProcessClient())
    assert setup.threads == {"tcp://127.0.0.1:1": 1}
    assert torch.get_num_threads() == 1
    assert set(setup.mib) == {"tcp://127.0.0.1:1"} and setup.seconds >= 0
    assert "torch._dynamo" in sys.modules
    assert sizeof(torch.zeros(10, 3)) == 10 * 3 * 4
    assert sizeof(torch.zeros(5, dtype=torch.float64)) == 5 * 8


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
    import torch.distributed as dist

    port = tw.free_port("127.0.0.1")
    (rank, size, total, listening), seconds = tw.run_ddp_rank(
        _all_reduce_and_listening, 0, 1, "127.0.0.1", port, port, 3.0, timeout_s=20)
    assert (rank, size, total) == (0, 1, 3.0)
    assert listening == {"127.0.0.1"}
    assert seconds >= 0
    assert not dist.is_initialized(), "the process group must be destroyed afterwards"


def test_run_ddp_rank_destroys_the_group_when_training_fails():
    import torch.distributed as dist

    def fail():
        raise ValueError("diverged")

    with pytest.raises(ValueError, match="diverged"):
        tw.run_ddp_rank(fail, 0, 1, "127.0.0.1", tw.free_port("127.0.0.1"), timeout_s=20)
    assert not dist.is_initialized()
