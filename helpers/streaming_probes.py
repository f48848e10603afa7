"""Teaching instruments for lesson 07: they make the streaming layer's behaviour visible, or
reproduce the bugs it avoids. No training needs them.

* :class:`WorkerProbe` -- a dataset that reports where ``__iter__`` runs (which DataLoader
  worker, how many threads PyTorch uses there);
* :func:`open_file_count` -- how many files this process holds open (to see that a stream opens
  one shard at a time, and what "too many open files" needs);
* :class:`UnsplitShardStream` -- :class:`~helpers.streaming.ParquetShardStream` with the classic
  bug: its DataLoader workers do not split the files, so every sample comes once per worker.

The layers (see :mod:`helpers.streaming`): :mod:`helpers.data` holds the data's schema and
encoding, :mod:`helpers.streaming` the generic streaming that a training uses, and this module
builds on both. Its datasets live in an importable module, like the others, so that DataLoader
workers started with ``spawn`` can import them.

Importing this module imports PyTorch (its datasets' base class lives there); psutil is imported
when first used. Nothing runs at import time.
"""

from __future__ import annotations

import torch
from torch.utils.data import IterableDataset, get_worker_info

from helpers.streaming import ParquetShardStream


class WorkerProbe(IterableDataset):
    """A tiny ``IterableDataset`` that shows where ``__iter__`` runs.

    Each copy of it yields one dict: the DataLoader worker that ran it (``None`` in the main
    process), how many workers there are, and how many threads PyTorch uses in that process.

    Examples
    --------
    >>> from torch.utils.data import DataLoader
    >>> [report["worker"] for report in DataLoader(WorkerProbe(), batch_size=None)]
    [None]
    """

    def __iter__(self):
        info = get_worker_info()
        yield {
            "worker": None if info is None else info.id,
            "num_workers": 0 if info is None else info.num_workers,
            "torch_threads": torch.get_num_threads(),
        }


def open_file_count() -> int | None:
    """Number of files (descriptors) this process holds open.

    Returns
    -------
    int or None
        The count, where the system tells it (Linux, macOS and other Unix systems); ``None``
        elsewhere (Windows).

    Examples
    --------
    >>> before = open_file_count()
    >>> with open(__file__) as source:
    ...     during = open_file_count()
    >>> before is None or during == before + 1
    True
    """
    import psutil

    process = psutil.Process()
    if hasattr(process, "num_fds"):
        return process.num_fds()
    return None


class UnsplitShardStream(ParquetShardStream):
    """:class:`~helpers.streaming.ParquetShardStream` with the classic bug of a streaming dataset.

    Every DataLoader worker streams *all* the files of its rank instead of its share, so every
    sample appears ``num_workers`` times per epoch, with no error and no warning. Lesson 07
    shows it next to the correct class; the split between distributed ranks is kept.

    Parameters
    ----------
    files, stats, **options
        As for :class:`~helpers.streaming.ParquetShardStream`.
    """

    def files_for_reader(self, worker_id: int = 0, num_workers: int = 1,
                         epoch: int | None = None) -> list[str]:
        """Every file of this rank, whichever DataLoader worker asks: the bug.

        Parameters
        ----------
        worker_id, num_workers : int
            The DataLoader worker and the number of workers, ignored.
        epoch : int, optional
            The epoch; by default the one ``set_epoch`` chose.

        Returns
        -------
        list of str
            What a single reader of this rank would read: the rank's whole share.
        """
        return super().files_for_reader(0, 1, epoch)
