"""The checks of lesson 04's exercises accept the solution's answer and give the right hint to
typical wrong ones. Small stand-ins for the lesson's data, the local scheduler, no cluster."""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask_ml.wrappers import Incremental, ParallelPostFit
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.datasets import make_blobs
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import adjusted_rand_score

from helpers.exercises.lesson04 import (
    check_exercise_1,
    check_exercise_2,
    check_exercise_3,
    check_exercise_4,
    parquet_columns_read,
)
from helpers.i18n import set_language
from tools.language import reads_as_other_language

CENTERS = np.array([[-6, -4], [-2, 5], [3, -1], [7, 6], [8, -6]], dtype=float)


@pytest.fixture(autouse=True)
def synchronous():
    """Lesson 04's objects are computed in this process: no cluster is needed to check them."""
    with dask.config.set(scheduler="sync"):
        yield


@pytest.fixture(scope="module")
def blobs():
    """Points around CENTERS (tight clouds), their true clouds, and X persisted in 4 blocks."""
    points, true_cluster = make_blobs(n_samples=4_000, centers=CENTERS, cluster_std=0.5,
                                      random_state=0)
    X = da.from_array(points, chunks=(1_000, 2)).persist(scheduler="sync")
    return points, true_cluster, X


@pytest.fixture(scope="module")
def sk_km(blobs):
    points, _, _ = blobs
    return KMeans(n_clusters=5, n_init=1, random_state=0).fit(points)


def test_exercise_1_accepts_parallel_post_fit_and_map_blocks(blobs, sk_km):
    _, _, X = blobs
    cluster_of_each_point = ParallelPostFit(sk_km).predict(X)
    labels_in_parallel = cluster_of_each_point.compute()
    feedback = check_exercise_1(cluster_of_each_point, labels_in_parallel, sk_km, X)
    assert feedback.ok, feedback
    assert "4 tasks" in feedback.message
    by_blocks = X.map_blocks(sk_km.predict, drop_axis=1, dtype="int32")
    assert check_exercise_1(by_blocks, labels_in_parallel, sk_km, X).ok


def test_exercise_1_hints(blobs, sk_km):
    points, _, X = blobs
    labels = sk_km.labels_
    in_the_kernel = ParallelPostFit(sk_km).predict(points)
    feedback = check_exercise_1(in_the_kernel, labels, sk_km, X)
    assert not feedback.ok and "is not a Dask array" in feedback.message
    from_the_kernel = da.from_array(sk_km.predict(points), chunks=1_000)
    feedback = check_exercise_1(from_the_kernel, labels, sk_km, X)
    assert not feedback.ok and "does not start from the blocks of `X`" in feedback.message
    one_block = ParallelPostFit(sk_km).predict(X.rechunk((-1, 2)))
    feedback = check_exercise_1(one_block, labels, sk_km, X)
    assert not feedback.ok and "single block" in feedback.message
    lazy = ParallelPostFit(sk_km).predict(X)
    feedback = check_exercise_1(lazy, lazy, sk_km, X)
    assert not feedback.ok and "is still lazy" in feedback.message
    # another fit may find the same clusters with other numbers
    renumbered = (labels + 1) % 5
    feedback = check_exercise_1(lazy, renumbered, sk_km, X)
    assert not feedback.ok and "do not match `sk_km.labels_`" in feedback.message


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2_000, 4))
    y = (z.sum(axis=1) > 0).astype("int64")
    return da.from_array(z * [1, 10, 100, 1000], chunks=500), da.from_array(y, chunks=500)


def test_exercise_2(labelled):
    X_big, y_big = labelled
    unscaled = Incremental(SGDClassifier(random_state=0), scoring="accuracy",
                           shuffle_blocks=False).fit(X_big, y_big, classes=[0, 1])
    assert check_exercise_2(unscaled, 0.88, 0.95).ok
    feedback = check_exercise_2(unscaled, 0.94, 0.95)
    assert not feedback.ok and "Did you train and score it on `X_big`" in feedback.message
    not_trained = Incremental(SGDClassifier(random_state=0), scoring="accuracy")
    feedback = check_exercise_2(not_trained, 0.88, 0.95)
    assert not feedback.ok and "is not trained yet" in feedback.message
    feedback = check_exercise_2(SGDClassifier(random_state=0), 0.88, 0.95)
    assert not feedback.ok and "should be a dask-ml `Incremental`" in feedback.message
    feedback = check_exercise_2(unscaled, 88, 0.95)
    assert not feedback.ok and "between 0 and 1" in feedback.message


@pytest.fixture
def points(tmp_path):
    """The lesson's parquet table, plus a column the exercise does not need."""
    xy, true_cluster = make_blobs(n_samples=5_000, centers=CENTERS, cluster_std=0.5,
                                  random_state=0)
    table = pd.DataFrame({"x0": xy[:, 0], "x1": xy[:, 1],
                          "true_cluster": true_cluster.astype("int8"), "unused": 1.0})
    dd.from_pandas(table, npartitions=2).to_parquet(tmp_path / "points", write_index=False)
    return dd.read_parquet(tmp_path / "points")


def test_parquet_columns_read_follows_the_computation(points):
    assert parquet_columns_read(points) == {"x0", "x1", "true_cluster", "unused"}
    assert parquet_columns_read(points.x0.sum()) == {"x0"}


def test_exercise_3(points):
    lazy_means = points.groupby("true_cluster")[["x0", "x1"]].mean()
    cloud_means = lazy_means.compute()
    answer = ["true_cluster", "x0", "x1"]
    feedback = check_exercise_3(lazy_means, cloud_means, answer, CENTERS)
    assert feedback.ok and "`true_cluster`, `x0`, `x1`" in feedback.message
    feedback = check_exercise_3(lazy_means, cloud_means, ["x0", "x1"], CENTERS)
    assert not feedback.ok and "reads more columns than you say" in feedback.message
    feedback = check_exercise_3(lazy_means, cloud_means, [*answer, "unused"], CENTERS)
    assert not feedback.ok and "does not read all of those columns" in feedback.message
    feedback = check_exercise_3(lazy_means, lazy_means, answer, CENTERS)
    assert not feedback.ok and "is still lazy" in feedback.message
    swapped = cloud_means.rename(columns={"x0": "x1", "x1": "x0"})
    feedback = check_exercise_3(lazy_means, swapped, answer, CENTERS)
    assert not feedback.ok and "do not land on `CENTERS`" in feedback.message


def test_exercise_4(blobs):
    _, true_cluster, X = blobs
    minibatch = Incremental(MiniBatchKMeans(n_clusters=5, random_state=0),
                            shuffle_blocks=False).fit(X)
    labels = minibatch.predict(X).compute()
    minibatch_ari = adjusted_rand_score(true_cluster, labels)
    feedback = check_exercise_4(minibatch, minibatch_ari, X)
    assert feedback.ok and "4 blocks" in feedback.message
    eight = Incremental(MiniBatchKMeans(n_clusters=8, random_state=0)).fit(X)
    feedback = check_exercise_4(eight, minibatch_ari, X)
    assert not feedback.ok and "how many clusters" in feedback.message
    twice = Incremental(MiniBatchKMeans(n_clusters=5, random_state=0))
    twice.partial_fit(X)
    twice.partial_fit(X)
    feedback = check_exercise_4(twice, minibatch_ari, X)
    assert not feedback.ok and "one call to `partial_fit`" in feedback.message
    feedback = check_exercise_4(minibatch, 0.5, X)
    assert not feedback.ok and "ARI is low" in feedback.message


def test_hints_are_in_spanish_in_the_spanish_notebook(labelled):
    X_big, y_big = labelled
    unscaled = Incremental(SGDClassifier(random_state=0)).fit(X_big, y_big, classes=[0, 1])
    set_language("es")
    for feedback in (check_exercise_2(unscaled, 0.94, 0.95), check_exercise_2(unscaled, 0.8, 0.95)):
        assert str(feedback).startswith(("✘ Todavía no:", "✔ Correcto:"))
        assert not reads_as_other_language(feedback.message, "es"), feedback.message
