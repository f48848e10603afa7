"""The checks of lesson 01's exercises accept the solution's answers and reject typical mistakes."""

from __future__ import annotations

import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from helpers.exercises.lesson01 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language


@pytest.fixture(scope="module")
def moons():
    """A smaller version of the lesson's training set."""
    return make_moons(n_samples=300, noise=0.3, random_state=0)


def test_exercise_1_accepts_the_solution(moons):
    X, y = moons
    knn_scores = {}
    for k in (1, 15, 100):
        knn = KNeighborsClassifier(n_neighbors=k)
        knn_scores[k] = (knn.fit(X, y).score(X, y), cross_val_score(knn, X, y, cv=5).mean())
    best_k = max(knn_scores, key=lambda k: knn_scores[k][1])
    feedback = check_exercise_1(knn_scores, best_k)
    assert feedback.ok and f"k={best_k}" in feedback.message, feedback


#: Scores like the lesson's: k=1 memorises, cross-validation prefers k=15.
SCORES = {1: (1.0, 0.877), 15: (0.921, 0.919), 100: (0.912, 0.911)}


@pytest.mark.parametrize(("knn_scores", "best_k", "phrase"), [
    (SCORES, 1, "Choose k by cross-validation, not by the training score"),
    (SCORES, 100, "highest cross-validation accuracy"),
    ({1: (0.87, 0.877), 15: (0.90, 0.919), 100: (0.91, 0.911)}, 15,
     "score on the same data you trained on"),
    ({1: (1.0, 1.0), 15: (0.921, 0.919), 100: (0.912, 0.911)}, 1, "should come from"),
    ({1: SCORES[1], 15: SCORES[15]}, 15, "lacks some values of k: [100]"),
    ({k: cv for k, (_, cv) in SCORES.items()}, 15, "pair of accuracies"),
    (SCORES, 7, "one of the values of k"),
])
def test_exercise_1_rejects_typical_mistakes_with_their_hint(knn_scores, best_k, phrase):
    feedback = check_exercise_1(knn_scores, best_k)
    assert not feedback.ok and phrase in feedback.message, feedback


def test_exercise_1_speaks_spanish_in_the_spanish_notebook():
    set_language("es")
    feedback = check_exercise_1(SCORES, 1)
    assert str(feedback).startswith("✘ Todavía no") and "validación cruzada" in feedback.message


@pytest.mark.parametrize(("pipeline", "c_name"), [
    (make_pipeline(StandardScaler(), SVC(C=1.0)), "svc__C"),
    (Pipeline([("scale", StandardScaler()), ("model", SVC())]), "model__C"),
])
def test_exercise_2_accepts_a_fitted_scaler_and_svc_pipeline(moons, pipeline, c_name):
    feedback = check_exercise_2(pipeline.fit(*moons), c_name)
    assert feedback.ok and c_name in feedback.message, feedback


@pytest.mark.parametrize(("build", "c_name", "phrase"), [
    (lambda: make_pipeline(StandardScaler(), SVC()), "svc__C", "not fitted yet"),
    (lambda: make_pipeline(SVC(), StandardScaler()), "svc__C", "in this order"),
    (lambda: make_pipeline(StandardScaler(), SVC(C=10)), "svc__C", "C=1.0"),
    (lambda: SVC(), "C", "should be a scikit-learn pipeline"),
    (lambda: make_pipeline(StandardScaler(), SVC()), "C", "one of the keys"),
    (lambda: make_pipeline(StandardScaler(), SVC()), "svc__cache_size", "not the SVC's C"),
])
def test_exercise_2_rejects_typical_mistakes_with_their_hint(moons, build, c_name, phrase):
    pipeline = build()
    if phrase != "not fitted yet" and phrase != "in this order":
        pipeline.fit(*moons)
    feedback = check_exercise_2(pipeline, c_name)
    assert not feedback.ok and phrase in feedback.message, feedback
