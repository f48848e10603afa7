"""Checks for the exercises of lesson 01, scikit-learn in 5 minutes.

Exercise 1 chooses ``n_neighbors`` of a k-nearest-neighbours classifier by cross-validation, not
by the training accuracy; exercise 2 chains a scaler and an SVC with ``make_pipeline`` and finds
the name of ``C`` inside the pipeline.

Nothing heavy is imported at import time.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

from helpers.exercises import correct, exercise_check, require

__all__ = ["check_exercise_1", "check_exercise_2"]

#: The values of ``n_neighbors`` that exercise 1 asks for.
NEIGHBOURS = (1, 15, 100)


def _is_score(value) -> bool:
    """Whether ``value`` is a number between 0 and 1, as an accuracy is.

    Examples
    --------
    >>> _is_score(0.92), _is_score(1), _is_score(1.5), _is_score("0.9")
    (True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value <= 1


def _is_score_pair(value) -> bool:
    """Whether ``value`` is a pair of scores, ``(training accuracy, cross-validation accuracy)``."""
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(_is_score(score) for score in value))


@exercise_check
def check_exercise_1(knn_scores, best_k):
    """Check exercise 1: k-nearest neighbours scored on training data and by cross-validation.

    Parameters
    ----------
    knn_scores : dict
        For each ``n_neighbors`` tried (at least 1, 15 and 100), the pair
        ``(training accuracy, cross-validation accuracy)``.
    best_k : int
        The ``n_neighbors`` the student chose.

    Returns
    -------
    Feedback
        Correct when ``best_k`` has the best cross-validation accuracy of ``knn_scores``;
        otherwise a hint about the first thing to look at.
    """
    require(isinstance(knn_scores, Mapping),
            es="`knn_scores` debe ser un diccionario: para cada valor de k, el par (exactitud "
               "de entrenamiento, exactitud de validación cruzada).",
            en="`knn_scores` should be a dictionary: for each value of k, the pair (training "
               "accuracy, cross-validation accuracy).")
    missing = [k for k in NEIGHBOURS if k not in knn_scores]
    require(not missing,
            es=f"Faltan valores de k en `knn_scores`: {missing}. El ejercicio pide "
               f"n_neighbors igual a {', '.join(map(str, NEIGHBOURS))}.",
            en=f"`knn_scores` lacks some values of k: {missing}. The exercise asks for "
               f"n_neighbors set to {', '.join(map(str, NEIGHBOURS))}.")
    require(all(_is_score_pair(pair) for pair in knn_scores.values()),
            es="Cada valor de `knn_scores` debe ser un par de exactitudes entre 0 y 1: primero "
               "la de entrenamiento y después la de validación cruzada.",
            en="Each value of `knn_scores` should be a pair of accuracies between 0 and 1: "
               "first the training one, then the cross-validation one.")
    train_1, cv_1 = knn_scores[1]
    require(train_1 == 1.0,
            es="Con k=1, cada punto de entrenamiento es su propio vecino más cercano, así que "
               "su exactitud de entrenamiento (el primer número del par) es perfecta: puntúa "
               "con los mismos datos con los que entrenaste.",
            en="With k=1 every training point is its own nearest neighbour, so its training "
               "accuracy (the first number of the pair) is perfect: score on the same data "
               "you trained on.")
    require(cv_1 < 1.0,
            es="La exactitud de validación cruzada de k=1 no puede ser perfecta: el segundo "
               "número del par debe salir de `cross_val_score` sobre el conjunto de "
               "entrenamiento, que puntúa cada modelo con datos que no ha visto.",
            en="The cross-validation accuracy of k=1 cannot be perfect: the second number of "
               "the pair should come from `cross_val_score` on the training set, which scores "
               "each model on data it has not seen.")
    require(isinstance(best_k, numbers.Integral) and not isinstance(best_k, bool)
            and best_k in knn_scores,
            es="`best_k` debe ser uno de los valores de k de `knn_scores`.",
            en="`best_k` should be one of the values of k in `knn_scores`.")
    best_train = max(train for train, _ in knn_scores.values())
    best_cv = max(cv for _, cv in knn_scores.values())
    chosen_train, chosen_cv = knn_scores[best_k]
    require(chosen_cv == best_cv or chosen_train < best_train,
            es="Has elegido por la exactitud de entrenamiento, y esa nota premia al modelo que "
               "memoriza: con k=1 es perfecta. Elige k por la validación cruzada, no por la nota "
               "de entrenamiento.",
            en="You chose by the training accuracy, and that score rewards the model that "
               "memorises: with k=1 it is perfect. Choose k by cross-validation, not by the "
               "training score.")
    require(chosen_cv == best_cv,
            es="`best_k` debe ser el k con la mayor exactitud de validación cruzada de tu "
               "`knn_scores` (el segundo número de cada par).",
            en="`best_k` should be the k with the highest cross-validation accuracy in your "
               "`knn_scores` (the second number of each pair).")
    return correct(
        es=f"k={best_k} tiene la mejor exactitud de validación cruzada ({best_cv:.3f}). Con k=1 "
           "la de entrenamiento es perfecta porque el modelo memoriza: no sirve para elegir.",
        en=f"k={best_k} has the best cross-validation accuracy ({best_cv:.3f}). With k=1 the "
           "training accuracy is perfect because the model memorises: it cannot choose.")


def _is_fitted(estimator) -> bool:
    """Whether a scikit-learn estimator (or pipeline) has been fitted."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


@exercise_check
def check_exercise_2(pipeline, c_name):
    """Check exercise 2: a fitted ``StandardScaler`` → ``SVC(C=1.0)`` pipeline and the name of C.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The pipeline, fitted on the lesson's training set.
    c_name : str
        The key of ``pipeline.get_params()`` that sets the SVC's ``C``.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing to look at.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    require(isinstance(pipeline, Pipeline),
            es="`pipeline` debe ser un pipeline de scikit-learn: encadena los dos pasos con "
               "`make_pipeline`.",
            en="`pipeline` should be a scikit-learn pipeline: chain the two steps with "
               "`make_pipeline`.")
    steps = [step for _, step in pipeline.steps]
    require(len(steps) == 2 and isinstance(steps[0], StandardScaler)
            and isinstance(steps[-1], SVC),
            es="El pipeline debe tener dos pasos, en este orden: un `StandardScaler` y una `SVC`. "
               "El modelo va al final, y recibe los datos ya escalados.",
            en="The pipeline should have two steps, in this order: a `StandardScaler` and an "
               "`SVC`. The model comes last, and receives the data already scaled.")
    require(steps[-1].C == 1.0,
            es="El ejercicio pide la `SVC` con C=1.0: mira qué le pasas al constructor.",
            en="The exercise asks for the `SVC` with C=1.0: look at what you pass to its "
               "constructor.")
    require(_is_fitted(pipeline),
            es="El pipeline aún no está entrenado: llama a `fit` con el conjunto de "
               "entrenamiento antes de puntuarlo.",
            en="The pipeline is not fitted yet: call `fit` with the training set before you "
               "score it.")
    require(getattr(pipeline, "n_features_in_", None) == 2,
            es="El pipeline no se ha entrenado con los datos de la lección, que tienen dos "
               "variables: usa `X_train` y `y_train`.",
            en="The pipeline was not fitted on the lesson's data, which have two features: "
               "use `X_train` and `y_train`.")
    params = pipeline.get_params()
    svc_name = pipeline.steps[-1][0]
    require(isinstance(c_name, str) and c_name in params,
            es="`c_name` debe ser una de las claves de `pipeline.get_params()`: búscala ahí.",
            en="`c_name` should be one of the keys of `pipeline.get_params()`: look for it "
               "there.")
    require(c_name == f"{svc_name}__C",
            es="Esa clave no es la C de la `SVC`: busca en `pipeline.get_params()` la que "
               "pertenece al paso de la `SVC` y termina en C.",
            en="That key is not the SVC's C: look in `pipeline.get_params()` for the one that "
               "belongs to the SVC's step and ends in C.")
    return correct(
        es=f"El pipeline escala y después entrena la `SVC`; dentro de él, su C se llama "
           f"`{c_name}`, y así se nombra en las búsquedas de la lección 02.",
        en=f"The pipeline scales, then trains the `SVC`; inside it, its C is called "
           f"`{c_name}`, which is how you name it in the searches of lesson 02.")
