"""Checks for the exercises of lesson 03, parallel search.

Exercise 1 runs scikit-learn's ``HalvingGridSearchCV`` on the cluster with joblib's ``dask``
backend and counts its fits and rows; the check reads the task stream recorded around the search
(:class:`distributed.get_task_stream`) to see that the cluster's workers ran those fits.
Exercise 2 runs the lesson's Optuna study without pruning and counts its ``partial_fit`` calls.

:func:`joblib_calls` is an inspector that other lessons may use too: how many calls of a function
joblib's ``dask`` backend ran on each worker. Nothing heavy is imported at import time.
"""

from __future__ import annotations

import numbers
import re

from helpers.exercises import correct, exercise_check, require
from helpers.exercises.lesson02 import is_whole_number

__all__ = ["joblib_calls", "check_exercise_1", "check_exercise_2"]

#: The key of a task of joblib's dask backend: a batch of calls of one function (``mixed_`` when
#: the batch mixes wrappers of it), then a random suffix.
_BATCH_KEY = re.compile(r"^(?:mixed_)?batch_of_(?P<function>.+)_(?P<calls>\d+)_calls-\w+$")


def joblib_calls(stream, function: str = "fit_and_score") -> dict[str, int]:
    """How many calls of ``function`` joblib's ``dask`` backend ran on each worker.

    joblib hands the cluster its calls in batches, one Dask task per batch, with a key that says
    the function and how many calls the batch holds (``batch_of__fit_and_score_3_calls-…``). A
    task stream recorded around the work (``with distributed.get_task_stream() as stream:``) lists
    every task the workers ran, with the worker that ran it.

    Parameters
    ----------
    stream : distributed.get_task_stream or list of dict
        The recorded task stream, or its ``data``.
    function : str
        Part of the name of the function joblib ran (scikit-learn's searches run
        ``_fit_and_score``).

    Returns
    -------
    dict of str to int
        For each worker that ran some, the number of calls it ran (empty: none ran on the
        cluster).

    Examples
    --------
    >>> suffix = "-" + "0" * 32
    >>> joblib_calls([{"key": "batch_of__fit_and_score_3_calls" + suffix, "worker": "tcp://a"},
    ...               {"key": "mixed_batch_of__fit_and_score_2_calls" + suffix, "worker": "tcp://b"},
    ...               {"key": "batch_of__fit_and_score_1_calls" + suffix, "worker": "tcp://a"},
    ...               {"key": "sum" + suffix, "worker": "tcp://b"}])
    {'tcp://a': 4, 'tcp://b': 2}
    """
    records = stream.data if hasattr(stream, "data") else stream
    calls: dict[str, int] = {}
    for record in records:
        match = _BATCH_KEY.match(record["key"]) if isinstance(record["key"], str) else None
        if match and function in match["function"] and record.get("status", "OK") == "OK":
            calls[record["worker"]] = calls.get(record["worker"], 0) + int(match["calls"])
    return calls


def _close(value, target) -> bool:
    """Whether ``value`` is within 1 % of ``target``: rows counted on each fold's training part
    may round differently."""
    return abs(value - target) <= 0.01 * target


@exercise_check
def check_exercise_1(halving, halving_fits, halving_rows, stream):
    """Check exercise 1: successive halving over rows, run on the cluster, fits and rows counted.

    Parameters
    ----------
    halving : sklearn.model_selection.HalvingGridSearchCV
        The search over the lesson's ``SVC`` grid (``factor=3``, rows as the resource), fitted
        with joblib's ``dask`` backend.
    halving_fits : int
        How many fits the student counted (without the final refit, like the full grid's).
    halving_rows : int
        How many rows all those fits add up to (the rows each round gives a candidate, once per
        fold; counting only each fold's training part is accepted too).
    stream : distributed.get_task_stream
        The task stream recorded around ``halving.fit``.

    Returns
    -------
    Feedback
        Correct, with the fits and the share of the full grid's rows; or a hint about the first
        thing to look at.
    """
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV
    from sklearn.svm import SVC

    require(isinstance(halving, HalvingGridSearchCV),
            es="`halving` debe ser una `HalvingGridSearchCV`, de `sklearn.model_selection` "
               "(actívala antes con `from sklearn.experimental import enable_halving_search_cv`).",
            en="`halving` should be a `HalvingGridSearchCV`, from `sklearn.model_selection` "
               "(enable it first with `from sklearn.experimental import "
               "enable_halving_search_cv`).")
    require(hasattr(halving, "n_candidates_"),
            es="`halving` aún no está entrenada: llama a `fit` con el conjunto de entrenamiento.",
            en="`halving` is not fitted yet: call `fit` with the training set.")
    require(isinstance(halving.estimator, SVC),
            es="La búsqueda debe ser sobre la `SVC` del principio de la lección, con su rejilla.",
            en="The search should be over the `SVC` from the start of the lesson, with its grid.")
    require(halving.resource == "n_samples" and halving.factor == 3,
            es="El recurso que se reparte son las filas (la opción por defecto) y, en cada ronda, "
               "sigue el mejor tercio: mira `resource` y `factor`.",
            en="The resource shared out is rows (the default) and each round keeps the best "
               "third: look at `resource` and `factor`.")
    candidates, rows, folds = halving.n_candidates_, halving.n_resources_, halving.n_splits_
    fits = sum(candidates) * folds
    require(is_whole_number(halving_fits),
            es="`halving_fits` debe ser un número entero: cuántos entrenamientos hizo.",
            en="`halving_fits` should be a whole number: how many fits it ran.")
    require(halving_fits != sum(candidates),
            es="Cada candidato de cada ronda se entrena una vez por pliegue: cuenta también los "
               "pliegues.",
            en="Each candidate of each round is trained once per fold: count the folds too.")
    require(halving_fits != fits + 1,
            es=f"Los {candidates[0] * folds} entrenamientos de la rejilla completa no cuentan "
               "el reentrenamiento final: déjalo fuera también aquí, para comparar lo mismo.",
            en=f"The full grid's {candidates[0] * folds} fits do not count the final refit: "
               "leave it out here too, to compare like with like.")
    require(halving_fits == fits,
            es="Esa no es la cuenta de entrenamientos: mira `halving.n_candidates_`, los "
               "candidatos de cada ronda, y cuántos pliegues tiene la validación cruzada.",
            en="That is not the count of fits: look at `halving.n_candidates_`, the candidates "
               "of each round, and at how many folds the cross-validation has.")
    round_rows = sum(c * r for c, r in zip(candidates, rows, strict=True))
    require(isinstance(halving_rows, numbers.Real) and not isinstance(halving_rows, bool),
            es="`halving_rows` debe ser un número: cuántas filas suman todos los entrenamientos.",
            en="`halving_rows` should be a number: how many rows all the fits add up to.")
    require(not _close(halving_rows, round_rows),
            es="Cada candidato de cada ronda se entrena una vez por pliegue: multiplica también "
               "por los pliegues.",
            en="Each candidate of each round is trained once per fold: multiply by the folds "
               "too.")
    require(_close(halving_rows, round_rows * folds)
            or _close(halving_rows, round_rows * (folds - 1)),
            es="Esa no es la suma de filas: mira `halving.n_candidates_` y `halving.n_resources_`"
               ": en cada ronda, cada candidato que queda se entrena con las filas de esa ronda.",
            en="That is not the sum of rows: look at `halving.n_candidates_` and "
               "`halving.n_resources_`: in each round, every remaining candidate is trained on "
               "that round's rows.")
    on_cluster = sum(joblib_calls(stream).values())
    require(on_cluster > 0,
            es="Mientras `stream` registraba las tareas, los workers del clúster no hicieron "
               "ningún entrenamiento: entrena `halving` con el backend `dask` de joblib, dentro "
               "del bloque `with get_task_stream(...)`.",
            en="While `stream` was recording, the cluster's workers ran no fits: fit `halving` "
               "with joblib's `dask` backend, inside the `with get_task_stream(...)` block.")
    require(on_cluster == fits,
            es=f"Mientras `stream` registraba las tareas, los workers hicieron {on_cluster} "
               f"entrenamientos, y la búsqueda hace {fits}: registra solo esta búsqueda, y entera.",
            en=f"While `stream` was recording, the workers ran {on_cluster} fits, and the search "
               f"runs {fits}: record this search alone, and all of it.")
    grid_rows = candidates[0] * halving.max_resources_ * folds
    percent = round(100 * round_rows * folds / grid_rows)
    return correct(
        es=f"Los workers del clúster hicieron los {fits} entrenamientos. Entre todos usan el "
           f"{percent} % de las filas de la rejilla completa: más entrenamientos, pero casi "
           "todos con pocas filas.",
        en=f"The cluster's workers ran all {fits} fits. Together they use {percent} % of the "
           "full grid's rows: more fits, but most of them on few rows.")


def _uses_dask_storage(study) -> bool:
    """Whether an Optuna study keeps its trials in a ``DaskStorage`` (on the Dask scheduler)."""
    storage = getattr(study, "_storage", None)
    while storage is not None and type(storage).__name__ != "DaskStorage":
        storage = getattr(storage, "_backend", None)
    return storage is not None


def _partial_fit_calls(study) -> int:
    """The ``partial_fit`` calls of a study of the lesson: one reported value per epoch."""
    return sum(len(trial.intermediate_values) for trial in study.trials)


@exercise_check
def check_exercise_2(unpruned, unpruned_calls, study):
    """Check exercise 2: the lesson's Optuna study run on the cluster without pruning.

    Parameters
    ----------
    unpruned : optuna.Study
        The study run with ``NopPruner``, through the lesson's ``run_study``.
    unpruned_calls : int
        How many ``partial_fit`` calls the student counted in it.
    study : optuna.Study
        The lesson's study with pruning, to compare against.

    Returns
    -------
    Feedback
        Correct, with the calls of both studies; or a hint about the first thing to look at.
    """
    import optuna
    from optuna.trial import TrialState

    require(isinstance(unpruned, optuna.Study) and isinstance(study, optuna.Study),
            es="`unpruned` y `study` deben ser estudios de Optuna: los que devuelve `run_study`.",
            en="`unpruned` and `study` should be Optuna studies: what `run_study` returns.")
    states = [trial.state for trial in unpruned.trials]
    require(TrialState.PRUNED not in states,
            es="Algunos ensayos de `unpruned` se han podado: este estudio debe ir sin poda. Mira "
               "el criterio de poda que le pasas a `run_study`.",
            en="Some trials of `unpruned` were pruned: this study should run without pruning. "
               "Look at the pruner you pass to `run_study`.")
    require(all(state == TrialState.COMPLETE for state in states),
            es="No todos los ensayos de `unpruned` han terminado bien: vuelve a ejecutar el "
               "estudio y mira el error de la celda.",
            en="Not every trial of `unpruned` finished well: run the study again and look at the "
               "cell's error.")
    require(len(unpruned.trials) == len(study.trials),
            es="Ejecuta tantos ensayos como el estudio con poda (`n_trials`), para comparar lo "
               "mismo.",
            en="Run as many trials as the study with pruning (`n_trials`), to compare like with "
               "like.")
    require(_uses_dask_storage(unpruned),
            es="Este estudio no vive en el planificador de Dask: créalo con `run_study`, que usa "
               "`DaskStorage` y manda cada ensayo a un worker.",
            en="This study does not live on the Dask scheduler: create it with `run_study`, which "
               "uses `DaskStorage` and sends each trial to a worker.")
    calls, pruned_calls = _partial_fit_calls(unpruned), _partial_fit_calls(study)
    require(is_whole_number(unpruned_calls),
            es="`unpruned_calls` debe ser un número entero: cuántas veces se llamó a "
               "`partial_fit`.",
            en="`unpruned_calls` should be a whole number: how many times `partial_fit` was "
               "called.")
    require(unpruned_calls != len(unpruned.trials),
            es="Cada ensayo llama a `partial_fit` una vez por época: cuenta todas las épocas de "
               "todos los ensayos.",
            en="Each trial calls `partial_fit` once per epoch: count every epoch of every trial.")
    require(unpruned_calls == calls,
            es="Esa no es la cuenta: cada ensayo informa de un valor por época "
               "(`trial.intermediate_values`): cuenta cuántos hay entre todos los ensayos.",
            en="That is not the count: each trial reports one value per epoch "
               "(`trial.intermediate_values`): count them over all the trials.")
    require(pruned_calls < calls,
            es="`study` debe ser el estudio con poda de la lección, para comparar con él.",
            en="`study` should be the lesson's study with pruning, to compare against.")
    saved = round(100 * (1 - pruned_calls / calls))
    return correct(
        es=f"Sin poda, los {len(unpruned.trials)} ensayos hicieron {calls} llamadas a "
           f"`partial_fit` en los workers, frente a {pruned_calls} con poda: la poda se ahorró "
           f"el {saved} % del trabajo.",
        en=f"Without pruning, the {len(unpruned.trials)} trials made {calls} `partial_fit` calls "
           f"on the workers, against {pruned_calls} with pruning: pruning saved {saved} % of the "
           "work.")
