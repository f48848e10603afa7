"""The checks of lesson 08's exercises accept the solution's answers and reject typical mistakes.

Exercise 2's answer is a task graph run on the cluster: here the trainings are light stand-ins
(NumPy multiplications of a scattered shard), with the same shape of graph and of futures.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

from helpers.exercises.lesson08 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language

# A cluster that stops making progress fails the test instead of hanging CI.
pytestmark = pytest.mark.timeout(300)

STEPS = 42
AVERAGES = {6: 7, 21: 2, STEPS: 1}
ACCURACIES = {6: 0.951, 21: 0.947, STEPS: 0.949}


def test_exercise_1_accepts_the_solution():
    assert check_exercise_1(AVERAGES, ACCURACIES, STEPS).ok
    # the lesson's local SGD is optional
    assert check_exercise_1({6: 7, 21: 2}, {6: 0.95, 21: 0.95}, STEPS).ok


@pytest.mark.parametrize(("averages", "accuracies", "phrase"), [
    ({6: 1, 21: 1, STEPS: 1}, ACCURACIES, "averages once per epoch"),
    ({6: 35, 21: 10, STEPS: 5}, ACCURACIES, "the averages **per epoch**"),
    ({6: 6, 21: 2, STEPS: 1}, ACCURACIES, "With `sync_every=6`, check the count"),
    ({6: 7, 21: 2}, ACCURACIES, "dictionaries with the same keys"),
    (AVERAGES, {6: 95.1, 21: 94.7, STEPS: 94.9}, "a fraction between 0 and 1"),
    (AVERAGES, {6: 0.4, 21: 0.947, STEPS: 0.949}, "far below the sequential loop's"),
])
def test_exercise_1_rejects_typical_mistakes(averages, accuracies, phrase):
    feedback = check_exercise_1(averages, accuracies, STEPS)
    assert not feedback.ok
    assert phrase in feedback.message


def test_exercise_1_speaks_spanish():
    set_language("es")
    assert "se promedia 7 veces por época" in check_exercise_1(AVERAGES, ACCURACIES, STEPS).message
    feedback = check_exercise_1({6: 1, 21: 1}, {6: 0.95, 21: 0.95}, STEPS)
    assert "tu función promedia una vez por época" in feedback.message


@pytest.fixture
def graph(local_client):
    """The exercise's graph of two independent trainings over one shard held by every worker."""
    import dask
    from distributed import wait

    [shard] = local_client.scatter([np.ones((100, 4), dtype="float32")])
    wait(shard)
    local_client.replicate([shard])
    trainings = [dask.delayed(operator.mul)(shard, lr, dask_key_name=f"train-lr-{lr}")
                 for lr in (0.05, 0.2)]
    return local_client, shard, trainings


def computed(client, trainings, workers):
    """``client.compute`` of each training on the given worker, finished."""
    from distributed import wait

    futures = [client.compute(task, workers=[worker])
               for task, worker in zip(trainings, workers, strict=True)]
    wait(futures)
    return futures


def test_exercise_2_accepts_the_solution_and_rejects_typical_mistakes(graph):
    import dask

    client, shard, trainings = graph
    a, b = sorted(client.scheduler_info()["workers"])
    trained = computed(client, trainings, [a, b])
    assert check_exercise_2(trainings, trained, 1.8).ok
    assert check_exercise_2(dask.delayed(trainings), trained, 1.8).ok

    chained = dask.delayed(operator.mul)(trainings[0], 0.2)
    mistakes = {
        "Your graph has width 1": (
            [trainings[0], chained], trained, 1.8),
        "the list of futures that `client.compute(trainings)` returns": (
            trainings, [future.result() for future in trained], 1.8),
        "the graph, not yet run": (
            [np.ones(2), np.ones(2)], trained, 1.8),
        "the same single-threaded worker": (
            trainings, computed(client, [dask.delayed(operator.mul)(shard, lr) for lr in (3, 4)],
                                [a, a]), 1.8),
        "is impossible (2× at most)": (trainings, trained, 40.0),
        "divide the wrong way round": (trainings, trained, 0.5),
    }
    for phrase, answer in mistakes.items():
        feedback = check_exercise_2(*answer)
        assert not feedback.ok, phrase
        assert phrase in feedback.message
