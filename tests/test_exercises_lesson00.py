"""The checks of lesson 00's exercises accept the solution's answers and reject typical mistakes."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from helpers.exercises.lesson00 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language

# A cluster that stops making progress fails the test instead of hanging CI.
pytestmark = pytest.mark.timeout(300)

SHAPE = (4000, 4000)


def lesson_array(chunks=(2000, 2000), seed=42):
    """A lazy array like the lesson's ``x`` (nothing is computed)."""
    return da.random.default_rng(seed).standard_normal(SHAPE, chunks=chunks)


@pytest.mark.parametrize("means", [
    lambda a: (a + a.T).mean(axis=0),          # the solution
    lambda a: a.mean(axis=0) + a.mean(axis=1),  # the same numbers, another graph
])
def test_exercise_1_accepts_lazy_column_means_of_the_coarse_array(means):
    coarse = lesson_array()
    feedback = check_exercise_1(coarse, means(coarse))
    assert feedback.ok, feedback
    assert "4 blocks" in feedback.message and "68 tasks, 16 at a time" in feedback.message


@pytest.mark.parametrize(("make", "phrase"), [
    (lambda: (lesson_array((1000, 1000)), None), "should be 2000 × 2000"),
    (lambda: (lesson_array(), "computed"), "already computed"),
    (lambda: (lesson_array(), "persisted"), "already held in the workers' memory"),
    (lambda: (lesson_array(), "whole mean"), "one mean per column"),
    (lambda: (lesson_array(), "other array"), "does not come from `coarse`"),
])
def test_exercise_1_rejects_typical_mistakes_with_their_hint(make, phrase):
    coarse, mistake = make()
    means = (coarse + coarse.T).mean(axis=0)
    if mistake == "computed":
        means = np.zeros(SHAPE[1])
    elif mistake == "persisted":
        means = (da.ones(8, chunks=2) + 1).persist(scheduler="sync")
    elif mistake == "whole mean":
        means = coarse.mean()
    elif mistake == "other array":
        other = lesson_array(seed=1)
        means = (other + other.T).mean(axis=0)
    feedback = check_exercise_1(coarse, means)
    assert not feedback.ok and phrase in feedback.message, feedback


def test_exercise_1_speaks_spanish_in_the_spanish_notebook():
    set_language("es")
    feedback = check_exercise_1(np.ones((4, 4)), None)
    assert str(feedback).startswith("✘ Todavía no") and "debe ser un array de Dask" in str(feedback)


def test_exercise_2_accepts_a_persisted_array_and_rejects_typical_mistakes(local_client):
    coarse = lesson_array()
    kept = coarse.persist()
    overall = kept.mean().compute()
    feedback = check_exercise_2(local_client, kept, overall)
    assert feedback.ok, feedback
    assert "4 blocks of `kept`" in feedback.message

    mistakes = [
        ((coarse, overall), "it returns a new one. Keep what it returns"),
        ((kept[:10].compute(), overall), "should still be a Dask array"),
        ((kept, kept.mean()), "`overall` is still lazy"),
        ((kept, kept[:, :10].mean(axis=0).compute()), "a single number"),
        ((kept, overall + 1), "not the mean of all the numbers"),
        ((lesson_array().persist(scheduler="sync"), overall), "not on this cluster's workers"),
    ]
    for (answer, mean), phrase in mistakes:
        feedback = check_exercise_2(local_client, answer, mean)
        assert not feedback.ok and phrase in feedback.message, feedback
