"""The checks of lesson 02's exercises accept the solution's answers and reject typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, validation_curve
from sklearn.svm import SVC

from helpers.exercises.lesson02 import GRIDS, check_exercise_1, check_exercise_2
from helpers.i18n import set_language


@pytest.fixture(scope="module")
def data():
    """A much smaller version of the lesson's training set."""
    return make_classification(n_samples=150, n_features=20, n_informative=8, flip_y=0.05,
                               class_sep=0.8, random_state=0)


Cs = np.logspace(-3, 3, 7)


def test_exercise_1_accepts_the_solution(data):
    c_train, c_valid = validation_curve(SVC(gamma=0.03), *data, param_name="C",
                                        param_range=Cs, cv=5)
    best_C = Cs[c_valid.mean(axis=1).argmax()]
    feedback = check_exercise_1(Cs, c_train, c_valid, best_C)
    assert feedback.ok and f"C={best_C:g}" in feedback.message, feedback


#: Mean scores like the lesson's: underfitting on the left, overfitting on the right.
TRAIN = np.array([0.503, 0.532, 0.867, 0.945, 0.999, 1.0, 1.0])
VALID = np.array([0.503, 0.521, 0.847, 0.877, 0.851, 0.840, 0.840])


def test_exercise_1_accepts_means_and_values_in_any_order():
    assert check_exercise_1(Cs, TRAIN, VALID, 1.0).ok
    assert check_exercise_1(Cs[::-1], TRAIN[::-1], VALID[::-1], 1.0).ok
    per_fold = np.repeat(VALID[:, None], 5, axis=1)
    assert check_exercise_1(list(Cs), TRAIN, per_fold.T, 1.0).ok


@pytest.mark.parametrize(("answer", "phrase"), [
    ((Cs, TRAIN, VALID, 1000.0), "only the validation curve may be used to choose"),
    ((Cs, TRAIN, VALID, 10.0), "highest mean validation accuracy"),
    ((Cs, TRAIN, VALID, 0.5), "one of the values in `Cs`"),
    ((Cs, VALID, TRAIN, 1.0), "look swapped"),
    ((np.linspace(0.001, 1000, 7), TRAIN, VALID, 1.0), "one per power of ten"),
    ((np.logspace(-3, 3, 9), TRAIN, VALID, 1.0), "seven values of C"),
    ((Cs, TRAIN[:5], VALID, 1.0), "one row per value of C"),
])
def test_exercise_1_rejects_typical_mistakes_with_their_hint(answer, phrase):
    feedback = check_exercise_1(*answer)
    assert not feedback.ok and phrase in feedback.message, feedback


def test_exercise_1_speaks_spanish_in_the_spanish_notebook():
    set_language("es")
    feedback = check_exercise_1(Cs, TRAIN, VALID, 1000.0)
    assert str(feedback).startswith("✘ Todavía no") and "curva de validación" in feedback.message


@pytest.fixture(scope="module")
def two_kernels(data):
    return GridSearchCV(SVC(), GRIDS, cv=5).fit(*data)


def test_exercise_2_accepts_the_solution(two_kernels):
    feedback = check_exercise_2((3 + 4 * 4) * 5, two_kernels)
    assert feedback.ok and "95 fits" in feedback.message, feedback
    assert check_exercise_2(95.0, two_kernels).ok


@pytest.mark.parametrize(("expected_fits", "phrase"), [
    (96, "the final refit"),
    (19, "once per fold"),
    (200, "single grid with `kernel` as one more axis"),
    (90, "Count the candidates of each grid"),
    ("95", "whole number"),
])
def test_exercise_2_rejects_a_wrong_count_with_its_hint(two_kernels, expected_fits, phrase):
    feedback = check_exercise_2(expected_fits, two_kernels)
    assert not feedback.ok and phrase in feedback.message, feedback


def test_exercise_2_rejects_a_wrong_search_with_its_hint(data):
    one_grid = {"kernel": ["linear", "rbf"], "C": [0.1, 1], "gamma": [0.01, 0.1]}
    for search, phrase in [
        (GridSearchCV(SVC(), one_grid, cv=2).fit(*data), "linear candidates with several"),
        (GridSearchCV(SVC(), GRIDS[1], cv=2).fit(*data), "exactly the candidates of `grids`"),
        (GridSearchCV(SVC(), GRIDS, cv=2).fit(*data), "5-fold cross-validation"),
        (GridSearchCV(SVC(), GRIDS, cv=5), "fitted: call `fit`"),
    ]:
        feedback = check_exercise_2(95, search)
        assert not feedback.ok and phrase in feedback.message, feedback
