"""Checks for the exercises of lesson 05 (XGBoost with Dask).

Each ``check_exercise_N`` takes the objects the exercise asks the student to build and returns a
:class:`~helpers.exercises.Feedback` in the lesson's language. The checks read the Dask objects'
metadata (columns, dtypes, categories), the trained model's own record (its features, its rounds)
and the prediction's lazy expression (which boosting rounds it uses); none of them computes a Dask
collection again.
"""

from __future__ import annotations

from helpers.data import CATEGORICAL_COLUMNS, CATEGORIES, LABEL, N_CLASSES, NUMERIC_COLUMNS
from helpers.exercises import correct, exercise_check, is_dask_collection, require

__all__ = ["check_exercise_1", "check_exercise_2"]

#: How far an accuracy may be from the lesson's to count as "the same" (the lesson allows 0.015
#: or 0.02; a little more here, for answers that differ from the solution in harmless details).
_SAME_ACCURACY = 0.03


def _accuracy(value, name: str) -> float:
    """Require an accuracy already computed (a number between 0 and 1); return it."""
    require(not is_dask_collection(value) and 0 <= float(value) <= 1,
            es=f"`{name}` debe ser un número entre 0 y 1, ya calculado: la fracción de jugadores "
               "cuya clase acierta el modelo (si es perezoso, llama a `compute()`).",
            en=f"`{name}` should be a number between 0 and 1, already computed: the fraction of "
               "players whose class the model gets right (if it is lazy, call `compute()`).")
    return float(value)


def _prediction_iteration_range(predictions):
    """The ``iteration_range`` that ``xgboost.dask`` predictions were asked for, or ``None``.

    ``xgboost.dask.predict`` and ``inplace_predict`` map one function over the partitions, and
    that function keeps the arguments of the call; this reads them from the lazy expression.
    """
    import inspect

    expression = getattr(predictions, "expr", None)
    for node in expression.walk() if expression is not None else ():
        func = dict(zip(node._parameters, node.operands, strict=False)).get("func")
        if callable(func) and getattr(func, "__closure__", None):
            rounds = inspect.getclosurevars(func).nonlocals.get("iteration_range")
            if rounds is not None:
                return tuple(int(r) for r in rounds)
    return None


@exercise_check
def check_exercise_1(onehot_train, onehot_clf, acc_onehot, acc_dask):
    """Check exercise 1: one-hot columns with ``dd.get_dummies`` and a ``DaskXGBClassifier``.

    Parameters
    ----------
    onehot_train : dask.dataframe.DataFrame
        ``X_train`` with its categorical columns spread over one-hot columns.
    onehot_clf : xgboost.dask.DaskXGBClassifier
        The classifier trained on ``onehot_train`` and ``y_train``.
    acc_onehot : float
        Its accuracy on the test set, with the test features one-hot encoded the same way.
    acc_dask : float
        The accuracy of the lesson's ``xgboost.dask.train`` model, with native categories.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    from xgboost import dask as dxgb

    require(is_dask_collection(onehot_train) and hasattr(onehot_train, "columns"),
            es="`onehot_train` debe ser un dataframe de Dask: aplica `dd.get_dummies` a "
               "`X_train`, sin traerlo al notebook.",
            en="`onehot_train` should be a Dask dataframe: apply `dd.get_dummies` to "
               "`X_train`, without bringing it into the notebook.")
    columns = [str(column) for column in onehot_train.columns]
    require(LABEL not in columns,
            es=f"`{LABEL}` es la etiqueta, no una variable: no debe estar entre las columnas.",
            en=f"`{LABEL}` is the label, not a feature: it should not be among the columns.")
    still_categorical = [column for column in CATEGORICAL_COLUMNS if column in columns]
    require(not still_categorical,
            es=f"Estas columnas siguen siendo categóricas: {', '.join(still_categorical)}. "
               "Mira qué columnas le pasas a `dd.get_dummies`.",
            en=f"These columns are still categorical: {', '.join(still_categorical)}. Look at "
               "which columns you pass to `dd.get_dummies`.")
    require(set(NUMERIC_COLUMNS) <= set(columns),
            es="Faltan columnas numéricas: la codificación *one-hot* solo cambia las "
               "categóricas.",
            en="Numeric columns are missing: one-hot encoding only changes the categorical ones.")
    n_dummies = sum(len(values) for values in CATEGORIES.values())
    # With drop_first=True each categorical column gives one dummy column fewer.
    allowed = {len(NUMERIC_COLUMNS) + n_dummies, len(NUMERIC_COLUMNS) + n_dummies - len(CATEGORIES)}
    require(len(columns) in allowed,
            es="El número de columnas no cuadra: cada categoría conocida de cada columna "
               "categórica debe dar una columna *one-hot*. ¿Has declarado las categorías?",
            en="The number of columns does not add up: every known category of each "
               "categorical column should give one one-hot column. Did you declare the "
               "categories?")
    require(isinstance(onehot_clf, dxgb.DaskXGBClassifier),
            es="`onehot_clf` debe ser un `DaskXGBClassifier`, para que el entrenamiento se "
               "haga en los workers.",
            en="`onehot_clf` should be a `DaskXGBClassifier`, so that training runs on the "
               "workers.")
    require(onehot_clf.__sklearn_is_fitted__(),
            es="`onehot_clf` todavía no está entrenado: llama a su `fit` dentro de "
               "`with xgboost_training(client):`.",
            en="`onehot_clf` is not trained yet: call its `fit` inside "
               "`with xgboost_training(client):`.")
    require(list(onehot_clf.get_booster().feature_names or []) == columns,
            es="`onehot_clf` no se entrenó con las columnas de `onehot_train`: entrénalo con la "
               "tabla *one-hot*.",
            en="`onehot_clf` was not trained on the columns of `onehot_train`: train it on the "
               "one-hot table.")
    accuracy = _accuracy(acc_onehot, "acc_onehot")
    require(abs(accuracy - float(acc_dask)) < _SAME_ACCURACY,
            es="Tu exactitud queda lejos de `acc_dask`. ¿La has calculado sobre el conjunto de "
               "prueba (`X_test` codificado igual que `X_train`), comparando la clase predicha "
               "con `y_test`?",
            en="Your accuracy is far from `acc_dask`. Did you compute it on the test set "
               "(`X_test` encoded the same way as `X_train`), comparing the predicted class "
               "with `y_test`?")
    return correct(
        es=f"con la tabla en *one-hot* ({len(columns)} columnas), el modelo acierta lo mismo "
           "que con las categorías nativas.",
        en=f"with the table one-hot encoded ({len(columns)} columns), the model is as accurate "
           "as with native categories.")


@exercise_check
def check_exercise_2(new_players, model, proba_new, acc_new, acc_clf):
    """Check exercise 2: the saved model scores new players on the workers.

    Parameters
    ----------
    new_players : dask.dataframe.DataFrame
        The new players, read with ``dd.read_parquet`` and their categories declared.
    model : xgboost.Booster
        The model loaded from ``model_path``.
    proba_new : dask.dataframe.DataFrame
        The lazy class probabilities from ``xgboost.dask.inplace_predict`` (or ``predict``).
    acc_new : float
        The accuracy on the new players.
    acc_clf : float
        The lesson's test-set accuracy of ``DaskXGBClassifier``.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    require(is_dask_collection(new_players) and hasattr(new_players, "columns"),
            es="`new_players` debe ser un dataframe de Dask: léelo con `dd.read_parquet`.",
            en="`new_players` should be a Dask dataframe: read it with `dd.read_parquet`.")
    for column, values in CATEGORIES.items():
        series = new_players[column]
        require(series.cat.known and tuple(series.cat.categories) == values,
                es=f"Las categorías de `{column}` no son las del entrenamiento. Decláralas igual "
                   "que para entrenar (las mismas, en el mismo orden): si no, el mismo código "
                   "numérico significa otra cosa para el modelo.",
                en=f"The categories of `{column}` are not the training ones. Declare them as for "
                   "training (the same ones, in the same order): otherwise the same numeric code "
                   "means something else to the model.")
    require(is_dask_collection(proba_new),
            es="`proba_new` no es una colección de Dask, así que no se ha calculado en los "
               "workers: usa `xgboost.dask.inplace_predict` con el cliente.",
            en="`proba_new` is not a Dask collection, so it was not computed on the workers: "
               "use `xgboost.dask.inplace_predict` with the client.")
    n_columns = proba_new.shape[1]  # a dataframe (inplace_predict) or an array (predict)
    require(n_columns == N_CLASSES,
            es=f"`proba_new` debe tener una columna de probabilidad por clase ({N_CLASSES}).",
            en=f"`proba_new` should have one probability column per class ({N_CLASSES}).")
    best = (0, int(model.best_iteration) + 1)
    rounds = _prediction_iteration_range(proba_new)
    require(rounds is None or rounds[1] != 0,
            es="El modelo cargado guarda todas las rondas, también las posteriores a la mejor, "
               "y sin `iteration_range` las usa todas. Mira `model.best_iteration`.",
            en="The loaded model keeps every round, including those after the best one, and "
               "without `iteration_range` it uses them all. Look at `model.best_iteration`.")
    require(rounds is None or rounds == best,
            es="Tu `iteration_range` no acaba justo después de la mejor ronda: el final del "
               "intervalo no se incluye, como en `range`.",
            en="Your `iteration_range` does not end right after the best round: the end of the "
               "range is left out, as in `range`.")
    accuracy = _accuracy(acc_new, "acc_new")
    require(abs(accuracy - float(acc_clf)) < _SAME_ACCURACY,
            es="Tu exactitud queda lejos de la del conjunto de prueba. Compara la clase más "
               "probable de cada jugador (`idxmax`) con su etiqueta real.",
            en="Your accuracy is far from the test set's. Compare each player's most likely "
               "class (`idxmax`) with their true label.")
    return correct(
        es="los jugadores nuevos se leen y se puntúan en los workers, con las rondas hasta la "
           "mejor iteración, y el modelo acierta con ellos casi igual que con el conjunto de "
           "prueba.",
        en="the new players are read and scored on the workers, with the rounds up to the best "
           "iteration, and the model is about as accurate on them as on the test set.")
