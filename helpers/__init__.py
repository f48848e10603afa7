"""Shared helpers for the course "Parallel and distributed machine learning with Dask".

Modules (import the one you need; nothing heavy is imported and nothing starts at import):

* :mod:`helpers.cluster`  -- ``get_client()``: a Dask client on a LocalCluster or an external one
* :mod:`helpers.sizes`    -- ``pick(small=..., full=...)``: the ``COURSE_SIZE`` data-size switch
* :mod:`helpers.data`     -- generated and bundled data sets, cached under ``data/``
* :mod:`helpers.measure`  -- wall time, CPU and peak memory of the kernel plus its cluster
* :mod:`helpers.plotting` -- shared plots (speed-up, time/memory bars, curves, confusion matrix)
* :mod:`helpers.streaming` -- a streaming PyTorch ``IterableDataset`` over parquet shards
"""

__version__ = "1.0.0"
