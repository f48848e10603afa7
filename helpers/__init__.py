"""Shared helpers for the course "Parallel and distributed machine learning with Dask".

Modules (import the one you need; nothing heavy is imported and nothing starts at import):

* :mod:`helpers.cluster`  -- ``get_client()``: a Dask client on a LocalCluster or an external one
* :mod:`helpers.sizes`    -- ``pick(small=..., full=...)``: the ``COURSE_SIZE`` data-size switch
* :mod:`helpers.data`     -- generated and bundled data sets, cached under ``data/``; the game
  features' schema and encoding (``CATEGORIES``, ``N_FEATURES``, ``encode_frame``), without torch
* :mod:`helpers.measure`  -- wall time, CPU and peak memory of the kernel plus its cluster
* :mod:`helpers.plotting` -- shared plots (speed-up, time/memory bars, curves, confusion matrix)
* :mod:`helpers.i18n`     -- the lesson's language (``set_language``), ``check()`` of key results
* :mod:`helpers.streaming` -- a streaming PyTorch ``IterableDataset`` over parquet shards
* :mod:`helpers.streaming_probes` -- lesson 07's instruments: ``WorkerProbe``,
  ``open_file_count``, ``UnsplitShardStream`` (the bug of workers that do not split the files)
* :mod:`helpers.workers`  -- worker plumbing: no work stealing, worker stderr to a log, memory
* :mod:`helpers.spark`    -- a quiet local Spark session (JVM, log4j2, stderr) and its clean stop
* :mod:`helpers.torch_workers` -- PyTorch on Dask workers: set-up, and DDP ranks launched as tasks
* :mod:`helpers.processes` -- start and stop ``dask scheduler``/``dask worker`` processes
"""

__version__ = "1.0.0"
