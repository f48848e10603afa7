"""Checks for the exercises of lesson 02, hyperparameters and their search.

Exercise 1 draws the validation curve of ``C`` and chooses ``C`` from the validation scores;
exercise 2 counts the fits of a search over a list of grids before running it, then runs it.

Nothing heavy is imported at import time.
"""

from __future__ import annotations

import numbers

import numpy as np

from helpers.exercises import correct, exercise_check, require
from helpers.i18n import text

__all__ = ["is_whole_number", "check_exercise_1", "check_exercise_2"]

#: The values of ``C`` that exercise 1 asks for: seven, from 0.001 to 1000 on a log scale.
C_VALUES = np.logspace(-3, 3, 7)
#: The list of grids of exercise 2, and its cross-validation folds.
GRIDS = [{"kernel": ["linear"], "C": [0.01, 0.1, 1]},
         {"kernel": ["rbf"], "C": [0.1, 1, 10, 100], "gamma": [0.001, 0.01, 0.1, 1]}]
N_FOLDS = 5
#: How each kernel is called in the messages.
KERNEL_NAMES = {"rbf": {"es": "RBF", "en": "RBF"}, "linear": {"es": "lineal", "en": "linear"}}


def is_whole_number(value) -> bool:
    """Whether ``value`` is a whole number, as a count is (``95`` or ``95.0``; not ``True``).

    Parameters
    ----------
    value : object
        What the student gave as a count.

    Returns
    -------
    bool
        True for a real number with no fractional part that is not a boolean.

    Examples
    --------
    >>> [is_whole_number(value) for value in (95, 95.0, 9.5, True, "95")]
    [True, True, False, False, False]
    """
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and float(value).is_integer())


def _per_value_means(scores, n_values: int):
    """The mean score of each hyperparameter value, from ``validation_curve``'s scores (one row
    per value, one column per fold), their transpose, or means already taken; ``None`` when the
    shape fits none of those.

    Examples
    --------
    >>> _per_value_means([[0.5, 0.7], [0.8, 1.0], [0.9, 0.9]], 3)
    array([0.6, 0.9, 0.9])
    >>> _per_value_means([0.6, 0.9, 0.9], 3)
    array([0.6, 0.9, 0.9])
    >>> _per_value_means([0.6, 0.9], 3) is None
    True
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[0] != n_values and scores.shape[1] == n_values:
        scores = scores.T
    if scores.ndim == 2 and scores.shape[0] == n_values:
        return scores.mean(axis=1)
    if scores.ndim == 1 and scores.shape[0] == n_values:
        return scores
    return None


@exercise_check
def check_exercise_1(Cs, c_train, c_valid, best_C):
    """Check exercise 1: the validation curve of ``C`` with ``gamma=0.03``, and the ``C`` chosen.

    Parameters
    ----------
    Cs : array-like
        The seven values of ``C`` tried, from 0.001 to 1000 on a log scale.
    c_train, c_valid : array-like
        The training and validation scores that ``validation_curve`` returned (one row per value
        of ``C``, one column per fold), or their means per value of ``C``.
    best_C : float
        The ``C`` the student chose.

    Returns
    -------
    Feedback
        Correct when ``best_C`` has the best mean validation score; otherwise a hint about the
        first thing to look at.
    """
    Cs = np.asarray(Cs, dtype=float).ravel()
    require(len(Cs) == len(C_VALUES) and np.allclose(np.sort(Cs), C_VALUES),
            es="`Cs` debe tener siete valores de C, de 0,001 a 1000, repartidos por igual en "
               "escala logarítmica (uno por cada potencia de diez).",
            en="`Cs` should hold seven values of C, from 0.001 to 1000, evenly spread on a "
               "log scale (one per power of ten).")
    train, valid = _per_value_means(c_train, len(Cs)), _per_value_means(c_valid, len(Cs))
    require(train is not None and valid is not None,
            es="`c_train` y `c_valid` deben tener una fila por valor de C, en el orden de `Cs`: "
               "es lo que devuelve `validation_curve`.",
            en="`c_train` and `c_valid` should have one row per value of C, in the order of "
               "`Cs`: that is what `validation_curve` returns.")
    require(np.all((train >= 0) & (train <= 1)) and np.all((valid >= 0) & (valid <= 1)),
            es="Las puntuaciones deben ser exactitudes, entre 0 y 1.",
            en="The scores should be accuracies, between 0 and 1.")
    order = np.argsort(Cs)
    Cs, train, valid = Cs[order], train[order], valid[order]
    require(train.mean() >= valid.mean(),
            es="Parece que `c_train` y `c_valid` están intercambiadas: `validation_curve` "
               "devuelve primero las puntuaciones de entrenamiento y después las de validación.",
            en="`c_train` and `c_valid` look swapped: `validation_curve` returns the training "
               "scores first and the validation scores second.")
    require(isinstance(best_C, numbers.Real) and np.isclose(best_C, Cs).any(),
            es="`best_C` debe ser uno de los valores de `Cs`.",
            en="`best_C` should be one of the values in `Cs`.")
    chosen = int(np.isclose(best_C, Cs).argmax())
    require(np.isclose(valid[chosen], valid.max()) or train[chosen] < train.max(),
            es="Has elegido por la curva de entrenamiento, que premia la C más grande aunque "
               "el modelo sobreajuste: solo la curva de validación sirve para elegir.",
            en="You chose by the training curve, which rewards the largest C even when the "
               "model overfits: only the validation curve may be used to choose.")
    require(np.isclose(valid[chosen], valid.max()),
            es="`best_C` debe ser la C con la mayor exactitud media de validación.",
            en="`best_C` should be the C with the highest mean validation accuracy.")
    return correct(
        es=f"La validación llega a su máximo con C={best_C:g} ({valid[chosen]:.3f}). Con la C "
           f"mínima las dos curvas se quedan en {train[0]:.3f} y {valid[0]:.3f} (subajuste); "
           f"con la máxima, el entrenamiento llega a {train[-1]:.3f} y la validación baja a "
           f"{valid[-1]:.3f} (sobreajuste).",
        en=f"Validation peaks at C={best_C:g} ({valid[chosen]:.3f}). With the smallest C both "
           f"curves stay at {train[0]:.3f} and {valid[0]:.3f} (underfitting); with the largest, "
           f"training reaches {train[-1]:.3f} and validation drops to {valid[-1]:.3f} "
           "(overfitting).")


def _candidates(grids) -> set[frozenset]:
    """The candidates of a grid (or list of grids) as a set, each one a frozenset of items."""
    from sklearn.model_selection import ParameterGrid

    return {frozenset(params.items()) for params in ParameterGrid(grids)}


def _count_hint(expected_fits: int) -> dict[str, str]:
    """The hint for a wrong count of fits, by the mistake it most likely comes from."""
    from sklearn.model_selection import ParameterGrid

    n_candidates = len(ParameterGrid(GRIDS))
    one_grid = {"kernel": sorted({k for g in GRIDS for k in g["kernel"]}),
                "C": sorted({c for g in GRIDS for c in g["C"]}),
                "gamma": sorted({v for g in GRIDS for v in g.get("gamma", [])})}
    hints = {
        n_candidates: dict(
            es="Cada candidato se entrena una vez por pliegue: cuenta también los pliegues.",
            en="Each candidate is trained once per fold: count the folds too."),
        n_candidates * N_FOLDS + 1: dict(
            es="Cuenta solo los entrenamientos de la validación cruzada: el reentrenamiento "
               "final con el mejor candidato va aparte.",
            en="Count only the cross-validation fits: the final refit of the best candidate "
               "comes on top."),
        len(ParameterGrid(one_grid)) * N_FOLDS: dict(
            es="Esa es la cuenta de una sola rejilla con `kernel` como un eje más: la lista de "
               "rejillas no combina `gamma` con el núcleo lineal.",
            en="That is the count of a single grid with `kernel` as one more axis: the list of "
               "grids does not combine `gamma` with the linear kernel."),
    }
    return hints.get(expected_fits, dict(
        es="Cuenta los candidatos de cada rejilla (el producto del número de valores de cada "
           "hiperparámetro), súmalos y multiplica por los pliegues.",
        en="Count the candidates of each grid (the product of the number of values of each "
           "hyperparameter), add them up and multiply by the folds."))


@exercise_check
def check_exercise_2(expected_fits, two_kernels):
    """Check exercise 2: the fits of a search over a list of two grids, counted and then run.

    Parameters
    ----------
    expected_fits : int
        How many fits the student counted before running the search (with ``cv=5``).
    two_kernels : sklearn.model_selection.GridSearchCV
        The search over the exercise's ``grids``, fitted.

    Returns
    -------
    Feedback
        Correct, with the kernel that won; or a hint about the first thing to look at.
    """
    from sklearn.model_selection import ParameterGrid

    fits = len(ParameterGrid(GRIDS)) * N_FOLDS
    require(is_whole_number(expected_fits),
            es="`expected_fits` debe ser un número entero: cuántas veces se entrena un modelo.",
            en="`expected_fits` should be a whole number: how many times a model is trained.")
    require(expected_fits == fits, **_count_hint(int(expected_fits)))
    require(hasattr(two_kernels, "cv_results_") and hasattr(two_kernels, "n_splits_"),
            es="`two_kernels` debe ser la búsqueda `GridSearchCV` ya entrenada: llama a `fit`.",
            en="`two_kernels` should be the `GridSearchCV` search, fitted: call `fit`.")
    params = two_kernels.cv_results_["params"]
    require(not any(p.get("kernel") == "linear" and "gamma" in p for p in params),
            es="La búsqueda prueba candidatos lineales con varios `gamma`, que no influye en el "
               "núcleo lineal: pásale la lista de dos rejillas.",
            en="The search tries linear candidates with several values of `gamma`, which has "
               "no effect on the linear kernel: give it the list of two grids.")
    require({frozenset(p.items()) for p in params} == _candidates(GRIDS),
            es="La búsqueda no prueba exactamente los candidatos de `grids`: pásale esa lista "
               "de rejillas tal cual.",
            en="The search does not try exactly the candidates of `grids`: give it that list "
               "of grids as it is.")
    require(two_kernels.n_splits_ == N_FOLDS,
            es=f"El ejercicio pide validación cruzada de {N_FOLDS} pliegues (`cv={N_FOLDS}`).",
            en=f"The exercise asks for {N_FOLDS}-fold cross-validation (`cv={N_FOLDS}`).")
    scores = {}
    for candidate, score in zip(params, two_kernels.cv_results_["mean_test_score"], strict=True):
        scores[candidate["kernel"]] = max(score, scores.get(candidate["kernel"], 0.0))
    winner = two_kernels.best_params_["kernel"]
    loser = next(kernel for kernel in scores if kernel != winner)
    winner_name, loser_name = (text(**KERNEL_NAMES[kernel]) for kernel in (winner, loser))
    return correct(
        es=f"La búsqueda hizo los {fits} entrenamientos que contaste (más el reentrenamiento "
           f"final). Gana el núcleo {winner_name}: {scores[winner]:.4f} de exactitud media de "
           f"validación, frente a {scores[loser]:.4f} del {loser_name}.",
        en=f"The search ran the {fits} fits you counted (plus the final refit). The "
           f"{winner_name} kernel wins: {scores[winner]:.4f} mean validation accuracy, "
           f"against {scores[loser]:.4f} for the {loser_name} one.")
