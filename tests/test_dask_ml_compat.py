"""Every dask-ml feature the lessons use, on the pinned dask: a break is a red test that explains.

dask-ml 2025.1.0 is dask-ml's last release (February 2025) and it has had no commit since May
2025, while dask moves on every month. The course therefore uses only the dask-ml features this
file proves on the pinned dask and distributed, and teaches maintained tools where dask-ml broke
(docs/dask-versions.md has the table). Two kinds of test:

* ``test_works_*``: a feature a lesson uses. When it fails, its message names the lesson, what to
  do, and the upstream tracker.
* ``test_still_broken_*``: a feature known broken on this dask, marked ``xfail(strict=True)``
  with its upstream issue. If a new dask or dask-ml fixes it, the unexpected pass turns red: the
  feature may come back into the lesson that replaced it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

UPSTREAM = "https://github.com/dask/dask-ml/issues"


def _broke(feature: str, lesson: str) -> str:
    import dask

    return (f"dask-ml's {feature} no longer works on dask {dask.__version__} (lesson {lesson} "
            f"uses it). Pin the previous dask/distributed in requirements.txt and constraints.txt, "
            f"look for the upstream issue at {UPSTREAM}, and record the break in "
            f"docs/dask-versions.md.")


@pytest.fixture(scope="module")
def client():
    from helpers.cluster import close_client, get_client

    # dask-ml's imports alone take ~300 MiB in a worker: give each the course's default limit.
    client = get_client(n_workers=2, threads_per_worker=1, memory_limit="700MiB")
    yield client
    close_client()


@pytest.fixture(scope="module")
def classification():
    import dask.array as da
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=4_000, n_features=10, random_state=0)
    return X, y, da.from_array(X, chunks=(500, 10)), da.from_array(y, chunks=500)


def _blob_block(block_id: int, n_rows: int = 1_000):
    from sklearn.datasets import make_blobs

    centers = np.array([[-5.0, 0.0], [0.0, 5.0], [5.0, 0.0]])
    points, _ = make_blobs(n_samples=n_rows, centers=centers, random_state=block_id)
    return points


def _fit_kmeans(X):
    from dask_ml.cluster import KMeans

    with warnings.catch_warnings():
        # k-means|| draws one seed with the local scheduler on purpose (dask-ml's own code).
        warnings.filterwarnings("ignore", message="Running on a single-machine scheduler")
        return KMeans(n_clusters=3, init_max_iter=2, random_state=0).fit(X)


def test_works_kmeans_on_a_persisted_array_of_delayed_blocks(client):
    """Lesson 04: dask 2024.12-2025.1 broke this unless low-level fusion was off."""
    import dask.array as da
    from dask import delayed

    blocks = [da.from_delayed(delayed(_blob_block, pure=True)(i), shape=(1_000, 2),
                              dtype="float64") for i in range(4)]
    X = da.concatenate(blocks).persist()
    try:
        model = _fit_kmeans(X)
        sizes = np.bincount(model.labels_.compute(), minlength=3)
    except Exception as error:
        pytest.fail(f"{_broke('KMeans on a persisted array', '04')} ({error!r})")
    assert model.cluster_centers_.shape == (3, 2)
    assert sizes.min() > 900, f"three blobs of 1333 points came out as {sizes}"


def test_works_kmeans_on_a_persisted_dataframe_array(client, tmp_path):
    """Lesson 09: parquet -> to_dask_array(lengths=True) -> persist -> KMeans."""
    import dask.dataframe as dd
    import pandas as pd

    points = np.concatenate([_blob_block(i) for i in range(4)])
    pd.DataFrame(points, columns=["x", "y"]).to_parquet(tmp_path / "points.parquet")
    X = dd.read_parquet(tmp_path / "points.parquet").to_dask_array(lengths=True).persist()
    try:
        model = _fit_kmeans(X)
    except Exception as error:
        pytest.fail(f"{_broke('KMeans on a dataframe turned array', '09')} ({error!r})")
    centers = np.sort(model.cluster_centers_[:, 0])
    np.testing.assert_allclose(centers, [-5, 0, 5], atol=0.3)


def test_works_standard_scaler(client, classification):
    """Lesson 04: one block-by-block pass for mean and scale, lazy transform."""
    from dask_ml.preprocessing import StandardScaler

    X, _, X_dask, _ = classification
    try:
        scaled = StandardScaler().fit(X_dask).transform(X_dask).compute()
    except Exception as error:
        pytest.fail(f"{_broke('StandardScaler', '04')} ({error!r})")
    np.testing.assert_allclose(scaled, (X - X.mean(axis=0)) / X.std(axis=0), atol=1e-10)


def test_works_incremental_equals_a_partial_fit_loop(client, classification):
    """Lesson 04: Incremental feeds the blocks in order, exactly like a local partial_fit loop."""
    from dask_ml.wrappers import Incremental
    from sklearn.linear_model import SGDClassifier

    X, y, X_dask, y_dask = classification
    try:
        wrapped = Incremental(SGDClassifier(random_state=0), scoring="accuracy",
                              shuffle_blocks=False).fit(X_dask, y_dask, classes=[0, 1])
    except Exception as error:
        pytest.fail(f"{_broke('Incremental', '04')} ({error!r})")
    local = SGDClassifier(random_state=0)
    for start in range(0, len(X), 500):
        local.partial_fit(X[start:start + 500], y[start:start + 500], classes=[0, 1])
    np.testing.assert_array_equal(wrapped.estimator_.coef_, local.coef_)


def test_works_parallel_post_fit_predict_and_accuracy(client, classification):
    """Lessons 04: predict and score block by block on the workers."""
    from dask_ml.wrappers import ParallelPostFit
    from sklearn.linear_model import LogisticRegression

    X, y, X_dask, y_dask = classification
    model = ParallelPostFit(LogisticRegression(), scoring="accuracy").fit(X, y)
    try:
        predictions = model.predict(X_dask).compute()
        accuracy = model.score(X_dask, y_dask)
    except Exception as error:
        pytest.fail(f"{_broke('ParallelPostFit predict/score', '04')} ({error!r})")
    np.testing.assert_array_equal(predictions, model.estimator.predict(X))
    assert accuracy == pytest.approx(model.estimator.score(X, y))


def test_r2_computed_on_the_workers_with_dask_array(client, classification):
    """The maintained way while dask-ml's r2 is broken: the formula on Dask arrays."""
    from dask_ml.wrappers import ParallelPostFit
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    X, y, X_dask, y_dask = classification
    target = y_dask.astype(float)
    model = ParallelPostFit(LinearRegression()).fit(X, y.astype(float))
    predicted = model.predict(X_dask)
    r2 = 1 - ((target - predicted) ** 2).sum() / ((target - target.mean()) ** 2).sum()
    assert float(r2.compute()) == pytest.approx(r2_score(y, model.estimator.predict(X)))


@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="dask-ml issue 1012: r2 on dask >= 2025.2 fails with 'cannot "
                          "broadcast shape (nan,)'; fixed on dask-ml's main branch in May 2025, "
                          "never released")
def test_still_broken_r2_score(client, classification):
    from dask_ml.metrics import r2_score
    from dask_ml.wrappers import ParallelPostFit
    from sklearn.linear_model import LinearRegression

    X, y, X_dask, y_dask = classification
    model = ParallelPostFit(LinearRegression()).fit(X, y.astype(float))
    float(r2_score(y_dask.astype(float), model.predict(X_dask)))


ADAPTIVE_SEARCHES = ["HyperbandSearchCV", "IncrementalSearchCV", "SuccessiveHalvingSearchCV"]


@pytest.mark.xfail(strict=True, raises=RuntimeError,
                   reason="dask-ml issue 1016: adaptive searches on dask >= 2025.3 fail with "
                          "'Attempting to use an asynchronous Client in a synchronous context'; "
                          "lesson 03 teaches HalvingRandomSearchCV and Optuna instead")
@pytest.mark.parametrize("search", ADAPTIVE_SEARCHES)
def test_still_broken_adaptive_searches(client, classification, search):
    import dask_ml.model_selection
    from sklearn.linear_model import SGDClassifier

    _, _, X_dask, y_dask = classification
    options = {"HyperbandSearchCV": {"max_iter": 3},
               "IncrementalSearchCV": {"max_iter": 3, "decay_rate": None,
                                       "n_initial_parameters": 3},
               "SuccessiveHalvingSearchCV": {"max_iter": 3, "n_initial_iter": 1,
                                             "n_initial_parameters": 3}}[search]
    searcher = getattr(dask_ml.model_selection, search)(
        SGDClassifier(tol=None), {"alpha": [1e-4, 1e-3, 1e-2]}, random_state=0, **options)
    searcher.fit(X_dask, y_dask, classes=[0, 1])
