"""Lesson 04 fits dask-ml's KMeans on a persisted array built from delayed blocks.

With dask 2025.1 that only works with low-level task fusion off, which ``get_client()`` sets
(see helpers.cluster.configure_dask). This quick check fails first if a version change breaks it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.fixture
def client(monkeypatch):
    from helpers.cluster import close_client, get_client

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    # dask-ml's imports alone take ~300 MiB in a worker: give it the course's default limit.
    yield get_client(n_workers=1, threads_per_worker=1, memory_limit="700MiB")
    close_client()


def _blob_block(block_id: int, n_rows: int = 1_000):
    from sklearn.datasets import make_blobs

    centers = np.array([[-5.0, 0.0], [0.0, 5.0], [5.0, 0.0]])
    points, _ = make_blobs(n_samples=n_rows, centers=centers, random_state=block_id)
    return points


def test_dask_ml_kmeans_fits_a_persisted_array_of_delayed_blocks(client):
    import dask
    import dask.array as da
    from dask import delayed
    from dask_ml.cluster import KMeans

    assert dask.config.get("optimization.fuse.active") is False
    blocks = [da.from_delayed(delayed(_blob_block, pure=True)(i), shape=(1_000, 2),
                              dtype="float64") for i in range(4)]
    X = da.concatenate(blocks).persist()
    with warnings.catch_warnings():
        # k-means|| draws one seed with the local scheduler on purpose (dask-ml's own code).
        warnings.filterwarnings("ignore", message="Running on a single-machine scheduler")
        model = KMeans(n_clusters=3, init_max_iter=2, random_state=0).fit(X)
    labels = model.labels_.compute()
    assert model.cluster_centers_.shape == (3, 2)
    assert np.bincount(labels, minlength=3).min() > 900
