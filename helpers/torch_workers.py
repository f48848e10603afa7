"""PyTorch on Dask workers: the plumbing behind lesson 08's one-line calls.

Lesson 08 runs every PyTorch computation on the Dask workers and never imports ``torch`` in the
notebook. This module does the set-up that makes that work well, and the rendezvous that lets
PyTorch's ``DistributedDataParallel`` run on the workers:

* :func:`prepare_torch_workers` -- one PyTorch thread per worker, tensor sizes for Dask, and
  PyTorch (with its compiler stack) imported up front; it says what that cost;
* :func:`process_mib` -- the resident memory of the process that calls it (use it with
  ``client.run`` to ask every worker);
* :func:`ddp_meeting_point` -- the host and a free port, on the rank-0 worker, where the ranks of
  a distributed PyTorch job meet;
* :func:`run_ddp_rank` -- runs a training function as one rank of a ``gloo`` process group, with
  a bounded wait for the other ranks (:data:`DDP_TIMEOUT_S`), and tears the group down afterwards.

The functions sent to the workers live here, in an importable module, so the workers import them
(``helpers`` is installed in the course environment) instead of receiving them by value. Nothing
happens at import time, and importing this module does not import ``torch``.
"""

from __future__ import annotations

import gc
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

MIB = 2**20
#: How long a rank waits for the others, in seconds: at the rendezvous (every rank must reach
#: the meeting point) and in every collective afterwards (an all-reduce waits for every rank's
#: part). PyTorch's own defaults are 5 minutes for the rendezvous and 30 for a collective.
DDP_TIMEOUT_S = 60.0


def process_mib() -> float:
    """The resident memory (RSS) of the calling process, in MiB.

    Returns
    -------
    float

    Examples
    --------
    >>> process_mib() > 1
    True
    """
    import psutil

    return psutil.Process().memory_info().rss / MIB


def _tensor_bytes(tensor) -> int:
    return tensor.element_size() * tensor.nelement()


def _prepare_this_process() -> int:
    """Runs in a worker: one torch thread, tensor sizes for ``dask.sizeof``, compiler stack
    imported; returns the number of torch threads."""
    import torch
    import torch._dynamo  # noqa: F401  (the first optimizer step or DDP model would import it)
    from dask.sizeof import sizeof

    torch.set_num_threads(1)
    sizeof.register(torch.Tensor, _tensor_bytes)
    return torch.get_num_threads()


@dataclass
class TorchSetup:
    """What :func:`prepare_torch_workers` did: per worker address, and in total.

    Attributes
    ----------
    threads : dict of str to int
        Torch threads in each worker.
    mib : dict of str to float
        How much each worker's memory grew, in MiB.
    seconds : float
        Wall time of the whole set-up.
    """

    #: torch threads in each worker (1 after the set-up).
    threads: dict[str, int]
    #: How much each worker's memory grew, in MiB (PyTorch and its compiler stack).
    mib: dict[str, float]
    #: Wall time of the whole set-up, all workers at once, in seconds.
    seconds: float


def prepare_torch_workers(client) -> TorchSetup:
    """Get every worker of ``client`` ready for PyTorch, once, before anything is measured.

    In each worker (with ``client.run``):

    * **one PyTorch thread**: by default PyTorch uses every core in each process, so two
      workers on two cores would each start two threads and fight over the CPU;
    * **tensor sizes for Dask**: ``dask.sizeof`` learns that a tensor weighs
      ``element_size × nelement`` bytes; Dask uses sizes to place tasks and to weigh what moving
      data costs;
    * **PyTorch imported up front**, with its compiler stack (``torch._dynamo``), which the first
      optimizer step and the first ``DistributedDataParallel`` model would import anyway: it
      takes seconds and hundreds of MiB, which would otherwise land in the first training run
      that a lesson measures.

    Running it again is harmless (and nearly free).

    Parameters
    ----------
    client : distributed.Client
        Whose workers to prepare.

    Returns
    -------
    TorchSetup
        Threads per worker, each worker's memory growth and the time it all took.

    Examples
    --------
    >>> setup = prepare_torch_workers(get_client())  # doctest: +SKIP
    >>> set(setup.threads.values())                  # doctest: +SKIP
    {1}
    """
    before = client.run(process_mib)
    started = time.perf_counter()
    threads = client.run(_prepare_this_process)
    seconds = time.perf_counter() - started
    after = client.run(process_mib)
    return TorchSetup(threads=threads,
                      mib={w: after[w] - before.get(w, after[w]) for w in after},
                      seconds=seconds)


# --- DistributedDataParallel on the workers ----------------------------------------------------

def free_port(host: str = "") -> int:
    """A TCP port that is free on ``host`` now (the operating system picks it).

    Parameters
    ----------
    host : str
        The IP address to bind; ``""``: every interface.

    Returns
    -------
    int

    Examples
    --------
    >>> 0 < free_port("127.0.0.1") < 65536
    True
    """
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def worker_host(address: str) -> str:
    """The host part of a Dask worker address.

    Parameters
    ----------
    address : str
        Such as ``"tcp://127.0.0.1:40331"``.

    Returns
    -------
    str

    Examples
    --------
    >>> worker_host("tcp://127.0.0.1:40331")
    '127.0.0.1'
    >>> worker_host("tls://10.0.0.5:8786")
    '10.0.0.5'
    """
    return address.split("://")[-1].rsplit(":", 1)[0]


def interface_of(ip: str) -> str | None:
    """The name of this machine's network interface that holds address ``ip`` (``None`` if none).

    ``gloo`` sends its all-reduces through one interface, which by default it picks from the
    machine's host name: on a machine with several networks (or a test network) that may be one
    the other ranks cannot reach. :func:`run_ddp_rank` points it at the worker's own address.

    Parameters
    ----------
    ip : str
        An IP address, such as a worker's host (:func:`worker_host`).

    Returns
    -------
    str or None

    Examples
    --------
    >>> interface_of("127.0.0.1") is not None  # "lo" on Linux, "lo0" on macOS
    True
    >>> interface_of("198.51.100.254") is None  # an address kept for documentation
    True
    """
    import psutil

    for name, addresses in psutil.net_if_addrs().items():
        if any(address.address == ip for address in addresses):
            return name
    return None


def ddp_meeting_point(client, worker: str) -> tuple[str, int]:
    """Where the ranks of a PyTorch process group meet: ``worker``'s host and a free port on it.

    It is what ``torchrun`` calls ``MASTER_ADDR`` and ``MASTER_PORT``. The port is chosen on the
    worker itself (a task pinned to it), since that is where rank 0 will listen.

    Parameters
    ----------
    client : distributed.Client
        The client of the cluster that trains.
    worker : str
        The address of the worker that will run rank 0.

    Returns
    -------
    tuple of (str, int)
        ``(host, port)``.

    Examples
    --------
    >>> rank_0 = sorted(client.scheduler_info()["workers"])[0]  # doctest: +SKIP
    >>> ddp_meeting_point(client, rank_0)                      # doctest: +SKIP
    ('127.0.0.1', 45613)
    """
    host = worker_host(worker)
    port = client.submit(free_port, host, workers=[worker], pure=False).result()
    return host, port


def bounded_timeout(timeout_s: float) -> timedelta:
    """``timeout_s`` as a ``timedelta``, refusing a wait that would never end.

    Parameters
    ----------
    timeout_s : float
        Seconds: a finite number greater than 0.

    Returns
    -------
    datetime.timedelta

    Raises
    ------
    ValueError
        When ``timeout_s`` is not a finite number greater than 0 (a bool is not a number here).

    Examples
    --------
    >>> bounded_timeout(60)
    datetime.timedelta(seconds=60)
    >>> bounded_timeout(float("inf"))
    Traceback (most recent call last):
    ...
    ValueError: timeout_s must be a finite number of seconds greater than 0, not inf.
    """
    if (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
            or not math.isfinite(timeout_s) or timeout_s <= 0):
        raise ValueError(
            f"timeout_s must be a finite number of seconds greater than 0, not {timeout_s!r}.")
    return timedelta(seconds=timeout_s)


def run_ddp_rank(train: Callable, rank: int, world_size: int, host: str, port: int, *args,
                 timeout_s: float = DDP_TIMEOUT_S):
    """Run ``train(*args)`` as rank ``rank`` of a ``gloo`` process group of ``world_size``.

    Meant to be submitted as one Dask task per worker, all at once, each pinned to its worker
    (``client.submit(run_ddp_rank, train, rank, ..., workers=[worker])``): inside ``train``,
    ``torch.distributed`` works as under ``torchrun``, so a ``DistributedDataParallel`` model
    all-reduces its gradients straight from process to process during ``backward()``.

    Under the hood:

    * the ranks meet at ``host:port`` through PyTorch's ``TCPStore``; rank 0 creates it on a
      socket bound to ``host`` only (by default the store would listen on every network
      interface of the machine);
    * ``gloo`` is PyTorch's collective backend for CPUs; it talks to the other ranks through
      the network interface of this worker's own address (``GLOO_SOCKET_IFNAME``, see
      :func:`interface_of`), the one the other workers reach it at;
    * **no rank waits forever**: the rendezvous and every collective give up after
      ``timeout_s`` seconds with an error (``torch.distributed.DistStoreError`` when the others
      never reach the meeting point, a ``RuntimeError`` naming the timed-out operation when a
      peer stops taking part). On a Dask cluster a peer can fail to come because its worker
      is busy with other tasks, died or was restarted, or because it ran out of batches before
      the others (uneven data); without the timeout, the waiting rank would block its worker
      for up to 30 minutes, PyTorch's default;
    * after ``train`` returns, garbage is collected while the process group still exists: a DDP
      model holds reference cycles, and freed later, at some random collection, it can hang the
      worker; then the group is destroyed, also when ``train`` raises (a timeout included), so
      the worker is ready for the next job.

    Parameters
    ----------
    train : callable
        The training function; it runs inside the process group.
    rank, world_size : int
        This task's rank and the number of ranks.
    host, port : str, int
        The meeting point (:func:`ddp_meeting_point`).
    *args
        Passed on to ``train`` (futures among them are resolved by Dask, as for any task).
    timeout_s : float
        How long to wait for the other ranks, at the rendezvous and in each collective: a
        finite number of seconds greater than 0.

    Returns
    -------
    tuple
        ``(train(*args), seconds that train took)``.

    Raises
    ------
    ValueError
        If ``timeout_s`` is not a finite number greater than 0 (a rank must never be allowed to
        wait forever).

    Examples
    --------
    One task per worker, all submitted at once (lesson 08)::

        host, port = ddp_meeting_point(client, workers[0])
        futures = [client.submit(run_ddp_rank, train, rank, len(workers), host, port,
                                 workers=[worker], pure=False)
                   for rank, worker in enumerate(workers)]
        (result, seconds), *_ = client.gather(futures)
    """
    import os

    import torch.distributed as dist
    from distributed import get_worker

    timeout = bounded_timeout(timeout_s)
    try:
        interface = interface_of(worker_host(get_worker().address))
    except ValueError:  # not on a Dask worker (a test): gloo picks the interface itself
        interface = None
    if interface is not None:
        os.environ["GLOO_SOCKET_IFNAME"] = interface
    if rank == 0:
        listener = socket.create_server((host, port))
        store = dist.TCPStore(host, port, world_size, True, timeout,
                              master_listen_fd=listener.detach())
    else:
        store = dist.TCPStore(host, port, world_size, False, timeout)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world_size,
                            timeout=timeout)
    try:
        started = time.perf_counter()
        result = train(*args)
        seconds = time.perf_counter() - started
        gc.collect()
        return result, seconds
    finally:
        dist.destroy_process_group()
