"""Checks for the exercises of lesson 04 (data larger than memory: arrays, dataframes, dask-ml).

Each ``check_exercise_N`` takes the objects the exercise asks the student to build and returns a
:class:`~helpers.exercises.Feedback` in the lesson's language. The checks look at the Dask objects
themselves (their blocks, what their task graph starts from, the columns a parquet read loads) and
small results already in the notebook; none of them computes a Dask collection again.

:func:`parquet_columns_read` is an inspector that other lessons may use too.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    correct,
    exercise_check,
    is_dask_collection,
    n_pieces,
    require,
)

__all__ = ["parquet_columns_read", "check_exercise_1", "check_exercise_2", "check_exercise_3",
           "check_exercise_4"]


def parquet_columns_read(collection) -> set[str]:
    """The columns that computing a Dask dataframe (or series) reads from its parquet files.

    Dask optimises an expression before running it; one optimisation pushes the columns a
    computation uses down into :func:`dask.dataframe.read_parquet`, so that only those columns are
    loaded from disk. This inspects the optimised expression without running it.

    Parameters
    ----------
    collection : dask.dataframe.DataFrame or dask.dataframe.Series
        A lazy result that starts from one or more ``read_parquet`` calls.

    Returns
    -------
    set of str
        The union of the columns every parquet read of the optimised expression loads (empty
        when nothing in it reads parquet).

    Examples
    --------
    >>> import tempfile, pandas as pd, dask.dataframe as dd
    >>> folder = tempfile.mkdtemp()
    >>> frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [0, 1]})
    >>> dd.from_pandas(frame, npartitions=1).to_parquet(folder, write_index=False)
    >>> table = dd.read_parquet(folder)
    >>> sorted(parquet_columns_read(table.groupby("c").a.mean()))
    ['a', 'c']
    >>> import shutil; shutil.rmtree(folder)
    """
    from dask.dataframe.dask_expr._expr import Expr
    from dask.dataframe.dask_expr.io.parquet import ReadParquet

    # Walk every expression operand, not only dependencies: a read that Dask packs into fewer
    # partitions (FusedIO) holds the parquet read as an operand.
    stack, seen, columns = [collection.expr.optimize(fuse=False)], set(), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ReadParquet):
            columns.update(str(column) for column in node.columns)
        stack.extend(operand for operand in node.operands if isinstance(operand, Expr))
    return columns


def _built_from(result, source) -> bool:
    """Whether the task graph of ``result`` starts from every piece of the collection ``source``."""
    from dask.core import flatten

    return set(flatten(source.__dask_keys__())) <= set(result.__dask_graph__())


def _fitted_incremental(wrapper, name: str, estimator_class, estimator_name: str) -> None:
    """Require a fitted ``dask_ml.wrappers.Incremental`` around an ``estimator_class``."""
    from dask_ml.wrappers import Incremental

    require(isinstance(wrapper, Incremental),
            es=f"`{name}` debe ser un `Incremental` de dask-ml: es el envoltorio que pasa los "
               "bloques al modelo uno detrás de otro.",
            en=f"`{name}` should be a dask-ml `Incremental`: the wrapper that feeds the blocks to "
               "the model one after another.")
    require(isinstance(wrapper.estimator, estimator_class),
            es=f"Mira qué estimador envuelve `{name}`: el ejercicio pide un `{estimator_name}`.",
            en=f"Look at the estimator `{name}` wraps: the exercise asks for a "
               f"`{estimator_name}`.")
    require(hasattr(wrapper, "estimator_"),
            es=f"`{name}` todavía no está entrenado: llama a su `fit` con los arrays de Dask.",
            en=f"`{name}` is not trained yet: call its `fit` with the Dask arrays.")


@exercise_check
def check_exercise_1(cluster_of_each_point, labels_in_parallel, sk_km, X):
    """Check exercise 1: ``sk_km`` wrapped in ``ParallelPostFit`` predicts ``X`` block by block.

    Parameters
    ----------
    cluster_of_each_point : dask.array.Array
        The lazy prediction, one cluster per point of ``X`` (``ParallelPostFit(...).predict(X)``).
    labels_in_parallel : numpy.ndarray
        That prediction, computed.
    sk_km : sklearn.cluster.KMeans
        The scikit-learn model trained in the lesson, whose ``labels_`` are the reference.
    X : dask.array.Array
        The lesson's persisted points.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    require(is_dask_collection(cluster_of_each_point),
            es="`cluster_of_each_point` no es un array de Dask: predice sobre el array "
               "persistido `X` (no sobre `X_local`) y guarda el resultado antes de `compute()`.",
            en="`cluster_of_each_point` is not a Dask array: predict on the persisted array `X` "
               "(not on `X_local`) and keep the result from before `compute()`.")
    n_points = len(sk_km.labels_)
    require(cluster_of_each_point.ndim == 1 and cluster_of_each_point.shape[0] == n_points,
            es="`cluster_of_each_point` debe tener un número de grupo por cada punto de `X`: "
               "mira su forma (`shape`).",
            en="`cluster_of_each_point` should hold one cluster number per point of `X`: look "
               "at its `shape`.")
    require(_built_from(cluster_of_each_point, X),
            es="Tu predicción no parte de los bloques de `X` que ya están en los workers: "
               "predice directamente sobre el array persistido `X`.",
            en="Your prediction does not start from the blocks of `X` already on the workers: "
               "predict straight on the persisted array `X`.")
    require(n_pieces(cluster_of_each_point) > 1,
            es="Tu predicción es un solo bloque, una sola tarea, así que no se reparte entre los "
               "workers: predice con un envoltorio que aplique el modelo a cada bloque de `X` "
               "por separado.",
            en="Your prediction is a single block, one task, so it is not spread over the "
               "workers: predict with a wrapper that applies the model to each block of `X` "
               "separately.")
    require(not is_dask_collection(labels_in_parallel),
            es="`labels_in_parallel` sigue siendo perezoso: calcúlalo (`compute()`) para tener "
               "los números en el notebook.",
            en="`labels_in_parallel` is still lazy: compute it (`compute()`) to have the numbers "
               "in the notebook.")
    labels = np.asarray(labels_in_parallel)
    require(labels.shape == (n_points,),
            es="`labels_in_parallel` debe tener un número de grupo por cada punto de `X`.",
            en="`labels_in_parallel` should hold one cluster number per point of `X`.")
    require(np.array_equal(labels, sk_km.labels_),
            es="Tus grupos no coinciden con `sk_km.labels_`. Usa `sk_km` tal como está, ya "
               "entrenado: otro `fit` puede numerar los grupos de otra manera.",
            en="Your clusters do not match `sk_km.labels_`. Use `sk_km` as it is, already "
               "trained: another `fit` may number the clusters differently.")
    return correct(
        es=f"la predicción se reparte en {n_pieces(cluster_of_each_point)} tareas, una por "
           "bloque de `X`, y da los mismos grupos que `sk_km.labels_`.",
        en=f"the prediction is spread over {n_pieces(cluster_of_each_point)} tasks, one per "
           "block of `X`, and gives the same clusters as `sk_km.labels_`.")


@exercise_check
def check_exercise_2(unscaled, unscaled_accuracy, incremental_accuracy):
    """Check exercise 2: an ``Incremental`` SGD trained on the unscaled ``X_big``.

    Parameters
    ----------
    unscaled : dask_ml.wrappers.Incremental
        The wrapper around ``SGDClassifier``, fitted on ``X_big`` and ``y_big``.
    unscaled_accuracy : float
        Its accuracy on ``X_big`` (``unscaled.score(X_big, y_big)``).
    incremental_accuracy : float
        The accuracy of the lesson's model trained on the scaled data.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    from sklearn.linear_model import SGDClassifier

    _fitted_incremental(unscaled, "unscaled", SGDClassifier, "SGDClassifier")
    require(not is_dask_collection(unscaled_accuracy)
            and 0 <= float(unscaled_accuracy) <= 1,
            es="`unscaled_accuracy` debe ser un número entre 0 y 1: la exactitud que devuelve "
               "`unscaled.score(...)`.",
            en="`unscaled_accuracy` should be a number between 0 and 1: the accuracy that "
               "`unscaled.score(...)` returns.")
    require(float(unscaled_accuracy) < float(incremental_accuracy) - 0.02,
            es="Tu modelo acierta casi tanto como el escalado. ¿Lo has entrenado y puntuado con "
               "`X_big`, los datos sin escalar? Con `X_scaled` repites el modelo de la lección.",
            en="Your model is almost as accurate as the scaled one. Did you train and score it "
               "on `X_big`, the unscaled data? With `X_scaled` you repeat the lesson's model.")
    return correct(
        es="sin escalar, el mismo SGD acierta claramente menos: el escalador sí hacía falta.",
        en="without scaling, the same SGD is clearly less accurate: the scaler was needed.")


@exercise_check
def check_exercise_3(lazy_means, cloud_means, columns_read, CENTERS):
    """Check exercise 3: the mean of each true cloud, and the columns Dask reads for it.

    Parameters
    ----------
    lazy_means : dask.dataframe.DataFrame
        The lazy group-by mean over ``points`` (before ``compute()``).
    cloud_means : pandas.DataFrame
        That mean, computed: one row per cloud, with columns ``x0`` and ``x1``.
    columns_read : list of str
        The student's answer: the columns Dask has to read from the parquet files.
    CENTERS : numpy.ndarray
        The lesson's cloud centres, one row per cloud.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    require(is_dask_collection(lazy_means),
            es="`lazy_means` debe ser el resultado perezoso de Dask (el `groupby` sobre "
               "`points`, antes de `compute()`): es el que dice qué columnas se leen.",
            en="`lazy_means` should be Dask's lazy result (the `groupby` on `points`, before "
               "`compute()`): it is the one that tells which columns are read.")
    require(not is_dask_collection(cloud_means),
            es="`cloud_means` sigue siendo perezoso: calcúlalo (`compute()`).",
            en="`cloud_means` is still lazy: compute it (`compute()`).")
    require({"x0", "x1"} <= set(cloud_means.columns) and len(cloud_means) == len(CENTERS),
            es="`cloud_means` debe tener una fila por nube verdadera (agrupa por "
               "`true_cluster`) y las columnas `x0` y `x1`.",
            en="`cloud_means` should have one row per true cloud (group by `true_cluster`) and "
               "the columns `x0` and `x1`.")
    means = cloud_means.sort_index()[["x0", "x1"]].to_numpy(dtype=float)
    require(np.allclose(means, CENTERS, atol=0.05),
            es="Tus medias no coinciden con `CENTERS`. Mira qué estás agrupando y promediando: la "
               "media de `x0` y `x1` de cada valor de `true_cluster`.",
            en="Your means do not land on `CENTERS`. Look at what you group and average: the "
               "mean of `x0` and `x1` for each value of `true_cluster`.")
    read = parquet_columns_read(lazy_means)
    answer = {str(column) for column in columns_read}
    require(answer >= read,
            es="Dask lee más columnas de las que dices. Mira qué columnas usa el cálculo: la "
               "que agrupa y las que promedia.",
            en="Dask reads more columns than you say. Look at which columns the computation "
               "uses: the one it groups by and the ones it averages.")
    require(answer <= read,
            es="Dask no lee todas esas columnas: solo las que usa el cálculo.",
            en="Dask does not read all of those columns: only the ones the computation uses.")
    listed = ", ".join(f"`{column}`" for column in sorted(read))
    return correct(
        es=f"cada nube tiene su media junto a su centro, y Dask solo lee del disco {listed} "
           "(lo dice su grafo optimizado).",
        en=f"every cloud's mean lies next to its centre, and Dask reads only {listed} from "
           "disk (its optimised graph says so).")


@exercise_check
def check_exercise_4(minibatch, minibatch_ari, X):
    """Check exercise 4: ``MiniBatchKMeans`` trained by ``Incremental``, one block per step.

    Parameters
    ----------
    minibatch : dask_ml.wrappers.Incremental
        The wrapper around ``MiniBatchKMeans(n_clusters=5)``, fitted on ``X``.
    minibatch_ari : float
        The adjusted Rand index of its predictions against ``true_cluster``.
    X : dask.array.Array
        The lesson's persisted points.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    from sklearn.cluster import MiniBatchKMeans

    _fitted_incremental(minibatch, "minibatch", MiniBatchKMeans, "MiniBatchKMeans")
    require(minibatch.estimator_.n_clusters == 5,
            es="Mira cuántos grupos busca tu `MiniBatchKMeans`: en los datos hay cinco nubes.",
            en="Look at how many clusters your `MiniBatchKMeans` looks for: the data have five "
               "clouds.")
    n_blocks = X.numblocks[0]
    require(getattr(minibatch.estimator_, "n_steps_", None) == n_blocks,
            es=f"`X` tiene {n_blocks} bloques y cada uno debe ser una llamada a `partial_fit`: "
               "entrena con el `fit` de `minibatch` sobre el array de Dask `X`, una sola vez.",
            en=f"`X` has {n_blocks} blocks and each one should be one call to `partial_fit`: "
               "train with `minibatch`'s `fit` on the Dask array `X`, once.")
    require(not is_dask_collection(minibatch_ari) and -1 <= float(minibatch_ari) <= 1,
            es="`minibatch_ari` debe ser un número entre -1 y 1: el que devuelve "
               "`adjusted_rand_score`.",
            en="`minibatch_ari` should be a number between -1 and 1: the one "
               "`adjusted_rand_score` returns.")
    require(float(minibatch_ari) > 0.9,
            es="Ese ARI es bajo para cinco nubes tan separadas. Compara con "
               "`adjusted_rand_score` las nubes verdaderas (`true_cluster`) con los grupos que "
               "predice `minibatch` para cada punto de `X`.",
            en="That ARI is low for five clouds this far apart. Compare with "
               "`adjusted_rand_score` the true clouds (`true_cluster`) with the clusters "
               "`minibatch` predicts for every point of `X`.")
    return correct(
        es=f"un `partial_fit` por cada uno de los {n_blocks} bloques basta para recuperar las "
           "nubes verdaderas.",
        en=f"one `partial_fit` for each of the {n_blocks} blocks is enough to recover the true "
           "clouds.")
