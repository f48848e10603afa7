"""The generic streaming layer: parquet shards into PyTorch, one file at a time, from any number of
DataLoader workers and distributed ranks.

The helpers of lessons 07 and 08 come in three layers, one module each; each imports only the
ones above it:

* :mod:`helpers.data` -- the game-features data and their schema and encoding
  (``CATEGORIES``, ``N_FEATURES``, ``N_CLASSES``, ``encode_frame``, ``decode_rows``,
  ``decode_batch``); NumPy and pandas only, no PyTorch;
* :mod:`helpers.streaming` (this module) -- what any streaming data set needs, whatever its
  data: :func:`list_shards`, :func:`split_files`, the split of the files between DataLoader
  workers and distributed ranks (:func:`files_for_worker`, :func:`distributed_rank`,
  :func:`files_for_reader`), :func:`read_shard`, :func:`shuffle_buffer`, the datasets
  :class:`ParquetShardStream` (sample by sample) and :class:`ParquetBatchStream` (whole batches),
  and :func:`worker_init_fn`; :func:`simulated_decode_cost` is the stand-in for an expensive
  decode step that their ``decode_rounds`` option charges;
* :mod:`helpers.streaming_probes` -- lesson 07's teaching instruments: they make this layer's
  behaviour visible or reproduce the bugs it avoids, and no training needs them.

A *map-style* dataset (``__len__`` + ``__getitem__``) needs random access to every sample, which
in practice means holding the whole data set in memory. :class:`ParquetShardStream` is the
alternative for data that do not fit: an ``IterableDataset`` that reads parquet files ("shards")
sequentially and shuffles approximately, with a bounded buffer::

    import torch
    from helpers.streaming import ParquetShardStream, split_files, worker_init_fn

    train_files, val_files = split_files(files, n_validation=4, seed=0)
    train = ParquetShardStream(train_files, stats, shuffle_buffer=2_048, seed=0)
    loader = torch.utils.data.DataLoader(train, batch_size=256, num_workers=2,
                                         worker_init_fn=worker_init_fn)
    for epoch in range(3):
        train.set_epoch(epoch)          # a new file order and a new shuffle every epoch
        for features, labels, sample_ids in loader:
            ...

What makes it correct with ``num_workers > 0`` and with several distributed ranks:

* Each DataLoader worker gets its own copy of the dataset. :meth:`ParquetShardStream.__iter__`
  asks ``torch.utils.data.get_worker_info()`` which worker it runs in and keeps only its share of
  the files (``files[worker_id::num_workers]``), so no sample is produced twice in an epoch.
* In distributed training (DDP under ``torchrun``, or ranks launched on Dask workers) every rank
  runs its own DataLoader over the same list of files. The dataset learns its rank and the
  number of ranks from ``torch.distributed`` when it is created (or from ``rank=`` and
  ``world_size=``), and the files are dealt out over *readers*: reader
  ``rank * num_workers + worker_id`` of ``world_size * num_workers`` (:func:`files_for_reader`).
  Without that, every rank would stream every file, and each sample would be seen
  ``world_size`` times per epoch. Every rank must use the same ``seed`` (the file order of an
  epoch depends on it), and the ranks must take the same number of steps: give them equal
  shares (a number of equal-sized files divisible by ``world_size * num_workers``), or a rank
  that runs out of batches first leaves the others waiting in their next all-reduce.
* Files are opened lazily, inside ``__iter__``, one at a time, and closed before the next one: a
  worker never holds more than one shard open, however many shards there are.
* The shuffle buffer holds at most ``shuffle_buffer`` samples: memory stays bounded whatever the
  size of the data.
* The epoch number lives in a shared-memory tensor, so :meth:`ParquetShardStream.set_epoch` in the
  notebook reaches the workers even with ``persistent_workers=True``.
* The class lives in an importable module (not in a notebook): DataLoader workers started with
  the ``spawn`` method (the default on macOS and Windows; ``forkserver``, Linux's default from
  Python 3.14, behaves the same) re-import the dataset's class by name, and they cannot import
  the ``__main__`` of a notebook.

Lesson 07 prints the code of some functions here (``show_code``); each carries a comment saying
so, and ``tests/test_lesson_07_shown_code.py`` fails until the lesson is rebuilt after an edit.

Importing this module imports PyTorch (the dataset's base class lives there); NumPy, pandas and
PyArrow are imported when first used. Nothing else runs at import time.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch.utils.data import IterableDataset, get_worker_info

from helpers.data import decode_batch, decode_rows, frame_arrays

#: Rows read from a parquet file at a time (a worker never materialises a whole file at once).
READ_BATCH_ROWS = 1_024


def list_shards(folder: str | os.PathLike) -> list[Path]:
    """The parquet shards (``part-*.parquet``) in a local folder, sorted by name.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder on this machine's disk (for a data location, :func:`helpers.data.local_copy`).

    Returns
    -------
    list of pathlib.Path
        The shards, sorted by name.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``part-*.parquet`` file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in ("part-00001.parquet", "part-00000.parquet", "notes.txt"):
    ...         _ = (Path(folder) / name).write_bytes(b"")
    ...     [path.name for path in list_shards(folder)]
    ['part-00000.parquet', 'part-00001.parquet']
    """
    files = sorted(Path(folder).glob("part-*.parquet"))
    if not files:
        raise FileNotFoundError(f"No part-*.parquet files in {folder}.")
    return files


def split_files(
    files: Sequence, n_validation: int, seed: int = 0
) -> tuple[list[Path], list[Path]]:
    """Split *files* (not rows) into ``(train, validation)``, at random but reproducibly.

    Splitting by file keeps every row of a file on the same side, so rows that share a file
    (written by the same job, the same day, the same user) cannot leak across the split.

    Parameters
    ----------
    files : sequence of str or os.PathLike
        The shards.
    n_validation : int
        How many files go to validation; at least one file must be left on each side.
    seed : int
        The random seed: the same seed gives the same split.

    Returns
    -------
    train, validation : list of pathlib.Path
        Each sorted by name.

    Raises
    ------
    ValueError
        When ``n_validation`` leaves a side without files.

    Examples
    --------
    >>> train, validation = split_files([f"part-{i}" for i in range(5)], n_validation=2, seed=0)
    >>> len(train), len(validation), sorted(map(str, train + validation))[0]
    (3, 2, 'part-0')
    """
    if not 0 < n_validation < len(files):
        raise ValueError(
            f"n_validation={n_validation!r} must leave at least one file on each side "
            f"(there are {len(files)} files)."
        )
    order = list(files)
    random.Random(seed).shuffle(order)
    validation = sorted(order[:n_validation])
    train = sorted(order[n_validation:])
    return [Path(f) for f in train], [Path(f) for f in validation]


# Lesson 07 shows this code: rebuild it after editing (tests/test_lesson_07_shown_code.py).
def files_for_worker(files: Sequence, worker_id: int, num_workers: int) -> list:
    """The files worker ``worker_id`` of ``num_workers`` reads: every ``num_workers``-th one.

    Parameters
    ----------
    files : sequence
        All the files, in the same order in every worker.
    worker_id, num_workers : int
        Which worker (from 0) of how many.

    Returns
    -------
    list
        The worker's share; over all the workers, every file exactly once.

    Examples
    --------
    >>> files_for_worker(["a", "b", "c", "d", "e"], worker_id=1, num_workers=2)
    ['b', 'd']
    """
    return list(files[worker_id::num_workers])


def distributed_rank() -> tuple[int, int]:
    """This process's place in ``torch.distributed``'s default process group.

    Returns
    -------
    rank, world_size : int
        ``(0, 1)`` when there is no process group (a single process, or before
        ``init_process_group``).

    Examples
    --------
    >>> distributed_rank()
    (0, 1)
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def files_for_reader(
    files: Sequence, rank: int, world_size: int, worker_id: int, num_workers: int
) -> list:
    """The files that DataLoader worker ``worker_id`` of distributed rank ``rank`` reads.

    Every (rank, worker) pair is one *reader*, numbered ``rank * num_workers + worker_id`` among
    ``world_size * num_workers``; each reader takes every ``world_size * num_workers``-th file,
    so over all ranks and all their workers every file is read exactly once.

    Parameters
    ----------
    files : sequence
        All the files, in the same order in every rank and worker.
    rank, world_size : int
        This rank (from 0) and the number of ranks.
    worker_id, num_workers : int
        This DataLoader worker (from 0) and the number of workers of each rank.

    Returns
    -------
    list
        The reader's share of ``files``.

    Raises
    ------
    ValueError
        When the rank or the worker is out of range.

    Examples
    --------
    >>> files = [f"part-{i}" for i in range(8)]
    >>> files_for_reader(files, rank=1, world_size=2, worker_id=0, num_workers=2)
    ['part-2', 'part-6']
    """
    if not (0 <= rank < world_size and 0 <= worker_id < num_workers):
        raise ValueError(
            f"Need 0 <= rank < world_size and 0 <= worker_id < num_workers; got rank={rank}, "
            f"world_size={world_size}, worker_id={worker_id}, num_workers={num_workers}."
        )
    return files_for_worker(files, rank * num_workers + worker_id, world_size * num_workers)


def simulated_decode_cost(rounds: int) -> int:
    """Burn CPU in pure Python, like a real decoder (JPEG, audio, a tokenizer) would.

    What the ``decode_rounds`` option of :class:`ParquetShardStream` and
    :class:`ParquetBatchStream` charges: a decode step that costs CPU, where this data set's own
    decoding is cheap.

    Parameters
    ----------
    rounds : int
        Steps of integer arithmetic (a linear congruential generator; about 40-60 ns each).

    Returns
    -------
    int
        The generator's last value, returned so that nothing can optimise the loop away; it does
        not change any sample.

    Examples
    --------
    >>> [simulated_decode_cost(rounds) for rounds in range(4)]
    [0, 0, 1, 1103515247]
    """
    acc = 0
    for i in range(rounds):
        acc = (acc * 1_103_515_245 + i) & 0xFFFFFFFF
    return acc


def read_shard(path, batch_rows: int = READ_BATCH_ROWS) -> Iterator[tuple]:
    """Read one parquet shard of game features in pieces of ``batch_rows`` rows.

    The file is opened here and closed when the generator finishes (or is closed), never before
    it is needed.

    Parameters
    ----------
    path : str or os.PathLike
        A shard written by :func:`helpers.data.write_game_features` (or any parquet file with the
        columns of :func:`helpers.data.game_features_frame`).
    batch_rows : int
        Rows per piece.

    Yields
    ------
    tuple of numpy.ndarray
        ``(sample_ids, numeric, codes, labels)``: the rows' ids (the pandas index the file was
        written with), then :func:`helpers.data.frame_arrays` of the piece.
    """
    import numpy as np
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as shard:
        index = (shard.schema_arrow.pandas_metadata or {}).get("index_columns", [])
        # The row ids are the pandas index the file was written with: a stored column, or a
        # RangeIndex kept only as metadata (then batch.to_pandas() would restart it at 0).
        first = 0
        for batch in shard.iter_batches(batch_size=batch_rows):
            frame = batch.to_pandas()
            if index and isinstance(index[0], dict) and index[0].get("kind") == "range":
                step = index[0]["step"]
                ids = index[0]["start"] + step * np.arange(first, first + len(frame), dtype="int64")
            else:
                # A copy: arrow's zero-copy arrays are read-only, and torch wants writable ones.
                ids = frame.index.to_numpy(dtype="int64", copy=True)
            first += len(frame)
            yield (ids, *frame_arrays(frame))


# Lesson 07 shows this code: rebuild it after editing (tests/test_lesson_07_shown_code.py).
def shuffle_buffer(samples, size: int, rng: random.Random):
    """Approximately shuffle a stream while holding at most ``size`` items in memory.

    Fill a buffer with the first ``size`` items; then for every new item, yield a random one from
    the buffer and put the new one in its place; at the end, yield what is left in random order.

    Parameters
    ----------
    samples : iterable
        The stream, read lazily.
    size : int
        The most items held at once; ``0`` or ``1`` passes the stream through unchanged.
    rng : random.Random
        The source of randomness (its seed fixes the order).

    Yields
    ------
    object
        Every item of ``samples``, once.

    Examples
    --------
    >>> shuffled = list(shuffle_buffer(range(10), size=4, rng=random.Random(0)))
    >>> sorted(shuffled) == list(range(10)), shuffled != list(range(10))
    (True, True)
    >>> list(shuffle_buffer(range(5), size=0, rng=random.Random(0)))
    [0, 1, 2, 3, 4]
    """
    if size <= 1:
        yield from samples
        return
    buffer = []
    for sample in samples:
        if len(buffer) < size:
            buffer.append(sample)
            continue
        index = rng.randrange(size)
        yield buffer[index]
        buffer[index] = sample
    rng.shuffle(buffer)
    yield from buffer


class ParquetShardStream(IterableDataset):
    """An ``IterableDataset`` that streams decoded samples from parquet shards.

    Parameters
    ----------
    files : sequence of str or os.PathLike
        The shards of this data set (e.g. the training files of :func:`split_files`).
    stats : dict
        ``{"mean": [...], "std": [...]}`` of the numeric columns, computed once over the data
        (with Dask, out of core) and used to standardise every sample.
    shuffle_buffer : int
        Maximum number of samples held for shuffling, per worker (0 = no shuffling).
    shuffle_files : bool
        Visit the files in a new random order every epoch.
    seed : int
        Base seed: the file order and the buffer shuffle depend only on ``(seed, epoch, reader)``,
        so a run is reproducible, also after a restart from a checkpoint.
    decode_rounds : int
        Extra CPU work per sample (see :func:`simulated_decode_cost`), to stand in for an
        expensive decode step.
    rank, world_size : int, optional
        This process's rank and the number of ranks of a distributed training job. ``None``
        (the default) asks ``torch.distributed`` when the dataset is created: create it inside
        each rank, after ``init_process_group``. Without a process group it is ``(0, 1)``, one
        process reading every file. ``world_size=1`` turns the split between ranks off.

    Raises
    ------
    ValueError
        When only one of ``rank`` and ``world_size`` is given, or the rank is out of range.

    Notes
    -----
    Each item is ``(features, label, sample_id)``: a float32 tensor of
    :data:`helpers.data.N_FEATURES` values (:func:`helpers.data.decode_rows`), the class (int)
    and the row's global id (int), so that a test can check that every sample is seen exactly
    once per epoch.
    """

    def __init__(
        self,
        files: Sequence,
        stats: dict,
        *,
        shuffle_buffer: int = 2_048,
        shuffle_files: bool = True,
        seed: int = 0,
        decode_rounds: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__()
        if (rank is None) != (world_size is None):
            raise ValueError(
                "Give both rank and world_size, or neither (to ask torch.distributed).")
        # Asked from torch.distributed (checked again when iterating) or given explicitly.
        self._rank_from_group = rank is None
        if rank is None:
            rank, world_size = distributed_rank()
        if not 0 <= rank < world_size:
            raise ValueError(
                f"Need 0 <= rank < world_size; got rank={rank}, world_size={world_size}.")
        self.rank, self.world_size = int(rank), int(world_size)
        self.files = [str(f) for f in files]
        self.mean = [float(v) for v in stats["mean"]]
        self.std = [float(v) for v in stats["std"]]
        self.shuffle_buffer = int(shuffle_buffer)
        self.shuffle_files = shuffle_files
        self.seed = int(seed)
        self.decode_rounds = int(decode_rounds)
        # Shared memory: set_epoch() in the main process is seen by persistent workers too.
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        """The epoch whose file order and shuffle the next iteration uses."""
        return int(self._epoch.item())

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch (file order and shuffle) of the next pass over the data.

        Parameters
        ----------
        epoch : int
            The epoch's number; DataLoader workers see it too, persistent ones included.
        """
        self._epoch.fill_(int(epoch))

    def files_in_epoch_order(self, epoch: int | None = None) -> list[str]:
        """All files in the order of ``epoch`` (before they are dealt out to workers).

        Parameters
        ----------
        epoch : int, optional
            The epoch; by default the one :meth:`set_epoch` chose.

        Returns
        -------
        list of str
            Every file once; shuffled by ``(seed, epoch)`` when ``shuffle_files`` is on.
        """
        epoch = self.epoch if epoch is None else epoch
        files = list(self.files)
        if self.shuffle_files:
            random.Random(self.seed * 1_000_003 + epoch).shuffle(files)
        return files

    def files_for_reader(self, worker_id: int = 0, num_workers: int = 1,
                         epoch: int | None = None) -> list[str]:
        """The files that DataLoader worker ``worker_id`` of ``num_workers`` reads in this
        process's rank, in ``epoch`` (see :func:`files_for_reader`).

        Parameters
        ----------
        worker_id, num_workers : int
            The DataLoader worker (from 0) and the number of workers.
        epoch : int, optional
            The epoch; by default the one :meth:`set_epoch` chose.

        Returns
        -------
        list of str
            The reader's share of :meth:`files_in_epoch_order`.
        """
        files = self.files_in_epoch_order(epoch)
        return files_for_reader(files, self.rank, self.world_size, worker_id, num_workers)

    # Lesson 07 shows this code: rebuild it after editing (tests/test_lesson_07_shown_code.py).
    def __iter__(self):
        info = get_worker_info()
        worker_id, num_workers = (0, 1) if info is None else (info.id, info.num_workers)
        current = distributed_rank()
        if self._rank_from_group and current[1] > 1 and current != (self.rank, self.world_size):
            raise RuntimeError(
                f"This dataset was made for rank {self.rank} of {self.world_size}, but it runs in "
                f"rank {current[0]} of {current[1]}: create it after init_process_group, inside "
                "each rank, or pass rank= and world_size=."
            )
        epoch = self.epoch
        files = self.files_for_reader(worker_id, num_workers, epoch)
        # One seed per reader; with a single rank, reader = worker_id (as before ranks existed).
        reader = self.rank * num_workers + worker_id
        rng = random.Random(f"{self.seed}-{epoch}-{reader}")
        return shuffle_buffer(self._samples(files), self.shuffle_buffer, rng)

    def _samples(self, files):
        for path in files:
            for ids, numeric, codes, labels in read_shard(path):
                decoded = decode_rows(numeric, codes, self.mean, self.std)
                for sample_id, x, label in zip(ids, decoded, labels, strict=True):
                    if self.decode_rounds:
                        simulated_decode_cost(self.decode_rounds)
                    yield torch.from_numpy(x), int(label), int(sample_id)


def worker_init_fn(worker_id: int) -> None:
    """Run at the start of each DataLoader worker: one thread per worker process.

    Every worker is a separate process, and by default each would start a thread pool as large
    as the machine; ``num_workers`` pools on the same cores oversubscribe them. PyTorch already
    sets one thread in its workers; this makes it explicit (and survives other start methods).

    Parameters
    ----------
    worker_id : int
        The worker's number, as the DataLoader passes it (unused).
    """
    torch.set_num_threads(1)


# --- Streaming whole batches (lesson 07, "Batches, not samples") -----------------------------


class ParquetBatchStream(ParquetShardStream):
    """Like :class:`ParquetShardStream`, but each item is a whole batch, decoded at once.

    Use it with ``DataLoader(stream, batch_size=None)``: the dataset already yields batches, so
    the DataLoader must not group them again (``batch_size=None`` turns its batching off).
    Each item is ``(features, labels, sample_ids)``: tensors of shape ``(n, N_FEATURES)``,
    ``(n,)`` and ``(n,)``, with ``n = batch_size`` except for the last batch of each reader.
    That is the same structure as the batches a ``DataLoader(ParquetShardStream(...),
    batch_size=...)`` delivers, made without a Python loop over rows: each piece read from a
    file is decoded with :func:`helpers.data.decode_batch` and shuffled with NumPy.

    Parameters
    ----------
    files, stats
        As in :class:`ParquetShardStream`.
    batch_size : int
        Rows per batch.
    shuffle_buffer : int
        Maximum number of rows held back for shuffling, per reader (0 = no shuffling). Each piece
        read from a file is mixed with the rows held back, full batches go out in random order,
        and the rest wait for the next piece. The rows are NumPy rows (84 bytes each), not one
        Python object per sample.
    **options
        The other options of :class:`ParquetShardStream` (``shuffle_files``, ``seed``,
        ``decode_rounds`` -- here charged per row of each piece --, and the distributed rank,
        when it has one). Files are dealt out to DataLoader workers (and ranks) exactly as there;
        the order of an epoch depends only on ``(seed, epoch, reader)``.

    Raises
    ------
    ValueError
        When ``batch_size`` is less than 1 (or as :class:`ParquetShardStream`).
    """

    def __init__(self, files: Sequence, stats: dict, *, batch_size: int = 256,
                 shuffle_buffer: int = 2_048, **options) -> None:
        # The parent's buffer would shuffle whole batches: off (0). Rows are shuffled here.
        super().__init__(files, stats, shuffle_buffer=0, **options)
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r}: it must be at least 1.")
        self.batch_size = int(batch_size)
        self.buffer_rows = int(shuffle_buffer)

    # Lesson 07 shows this code: rebuild it after editing (tests/test_lesson_07_shown_code.py).
    def _samples(self, files):
        import numpy as np

        info = get_worker_info()
        worker_id, num_workers = (0, 1) if info is None else (info.id, info.num_workers)
        # One random stream per reader (distributed rank x DataLoader worker), as in the parent.
        reader = getattr(self, "rank", 0) * num_workers + worker_id
        rng = np.random.default_rng([self.seed, self.epoch, reader])
        held = None
        for path in files:
            for ids, numeric, codes, labels in read_shard(path):
                piece = (decode_batch(numeric, codes, self.mean, self.std), labels, ids)
                if self.decode_rounds:
                    simulated_decode_cost(self.decode_rounds * len(ids))
                if held is not None:
                    piece = tuple(np.concatenate(pair) for pair in zip(held, piece, strict=True))
                if self.buffer_rows > 1:
                    order = rng.permutation(len(piece[0]))
                    piece = tuple(column[order] for column in piece)
                rows_out = max(0, len(piece[0]) - self.buffer_rows)
                rows_out -= rows_out % self.batch_size
                yield from self._batches(piece, rows_out)
                held = tuple(column[rows_out:] for column in piece)
        if held is not None:
            yield from self._batches(held, len(held[0]))

    def _batches(self, piece, rows):
        """The first ``rows`` rows of ``piece``, as tensors, ``batch_size`` rows at a time."""
        for start in range(0, rows, self.batch_size):
            stop = min(start + self.batch_size, rows)
            yield tuple(torch.from_numpy(column[start:stop]) for column in piece)
