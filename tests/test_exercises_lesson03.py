"""The checks of lesson 03's exercises accept the solution's answers and reject typical mistakes."""

from __future__ import annotations

import warnings

import pytest
from sklearn.datasets import make_classification
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV
from sklearn.svm import SVC

from helpers.exercises.lesson03 import check_exercise_1, check_exercise_2, joblib_calls
from helpers.i18n import set_language

# A cluster that stops making progress fails the test instead of hanging CI.
pytestmark = pytest.mark.timeout(300)


def halving_search():
    """The exercise's search, on a smaller grid."""
    return HalvingGridSearchCV(SVC(), {"C": [0.3, 1, 3], "gamma": [0.01, 0.03, 0.1]}, cv=3,
                               factor=3, n_jobs=-1, random_state=0)


def counts(halving):
    """The solution's counts: fits, and rows over all fits (both without the final refit)."""
    fits = sum(halving.n_candidates_) * halving.n_splits_
    rows = sum(c * r for c, r in zip(halving.n_candidates_, halving.n_resources_, strict=True))
    return fits, rows * halving.n_splits_


def test_exercise_1_on_the_cluster(local_client):
    from distributed import get_task_stream
    from joblib import parallel_config

    X, y = make_classification(n_samples=600, n_features=20, random_state=0)
    halving = halving_search()
    with get_task_stream(local_client) as stream:
        with parallel_config(backend="dask", scatter=[X, y]):
            halving.fit(X, y)
    fits, rows = counts(halving)
    assert sum(joblib_calls(stream).values()) == fits
    feedback = check_exercise_1(halving, fits, rows, stream)
    assert feedback.ok and f"all {fits} fits" in feedback.message, feedback
    # counting only the rows each fold trains on is right too
    assert check_exercise_1(halving, fits, rows * 2 // 3, stream).ok

    serial = halving_search().set_params(n_jobs=1)
    with get_task_stream(local_client) as on_the_kernel:
        serial.fit(X, y)
    mistakes = [
        ((halving, sum(halving.n_candidates_), rows, stream), "once per fold: count the folds"),
        ((halving, fits + 1, rows, stream), "do not count the final refit"),
        ((halving, fits - 2, rows, stream), "look at `halving.n_candidates_`"),
        ((halving, fits, rows // 3, stream), "multiply by the folds"),
        ((halving, fits, sum(halving.n_resources_) * 3, stream), "not the sum of rows"),
        ((serial, fits, rows, on_the_kernel), "the cluster's workers ran no fits"),
        ((halving, fits, rows, stream.data * 2), "record this search alone"),
        ((halving_search(), fits, rows, stream), "not fitted yet"),
    ]
    for answer, phrase in mistakes:
        feedback = check_exercise_1(*answer)
        assert not feedback.ok and phrase in feedback.message, feedback
    set_language("es")
    feedback = check_exercise_1(serial, fits, rows, on_the_kernel)
    assert not feedback.ok and "no hicieron ningún entrenamiento" in feedback.message


EPOCHS, TRIALS = 3, 6


def objective(trial):
    """Like the lesson's: one report per epoch; even-numbered trials fall behind."""
    import optuna

    trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    for epoch in range(1, EPOCHS + 1):
        trial.report(0.9 if trial.number % 2 else 0.1, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return 0.9 if trial.number % 2 else 0.1


def make_study(pruner, client=None, n_trials=TRIALS):
    """A study on the scheduler (``DaskStorage``) when given a client, else in memory."""
    import optuna
    from optuna_integration.dask import DaskStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DaskStorage is experimental: Optuna says so
        storage = DaskStorage(client=client) if client is not None else None
        study = optuna.create_study(storage=storage, direction="maximize", pruner=pruner)
    study.optimize(objective, n_trials=n_trials)
    return study


def test_exercise_2_on_the_cluster(local_client):
    from optuna.pruners import NopPruner, ThresholdPruner

    study = make_study(ThresholdPruner(lower=0.5), local_client)
    unpruned = make_study(NopPruner(), local_client)
    feedback = check_exercise_2(unpruned, TRIALS * EPOCHS, study)
    assert feedback.ok and f"{TRIALS * EPOCHS} `partial_fit` calls" in feedback.message, feedback

    mistakes = [
        ((unpruned, TRIALS, study), "once per epoch"),
        ((unpruned, TRIALS * EPOCHS - 1, study), "`trial.intermediate_values`"),
        ((study, TRIALS * EPOCHS, study), "Some trials of `unpruned` were pruned"),
        ((make_study(NopPruner()), TRIALS * EPOCHS, study), "does not live on the Dask scheduler"),
        ((make_study(NopPruner(), local_client, TRIALS - 2), (TRIALS - 2) * EPOCHS, study),
         "as many trials as the study with pruning"),
        ((unpruned, TRIALS * EPOCHS, unpruned), "the lesson's study with pruning"),
        ((unpruned.trials, TRIALS * EPOCHS, study), "should be Optuna studies"),
    ]
    for answer, phrase in mistakes:
        feedback = check_exercise_2(*answer)
        assert not feedback.ok and phrase in feedback.message, feedback
