"""Checks for the exercises of lesson 06 (Keras out-of-core).

Each ``check_exercise_N`` takes the objects the exercise asks the student to build and returns a
:class:`~helpers.exercises.Feedback` in the lesson's language. The checks read what Keras itself
records about a training run (the ``History`` of a ``fit``: its epochs and batches per epoch; the
optimizer's step count) and compare it with the lesson's stream, trained earlier; they never
train, evaluate or read the data again. Nothing here imports TensorFlow or Keras: the objects are
inspected through their public attributes.
"""

from __future__ import annotations

from helpers.exercises import correct, exercise_check, require

__all__ = ["check_exercise_1", "check_exercise_2"]

#: The lesson asks the repaired loop and the PyDataset to beat the naive loop's final validation
#: accuracy by this much.
_BETTER_THAN_NAIVE = 0.02
#: How far below the stream's final validation accuracy an answer may end (the lesson's solution
#: lands within 0.02; a little more here, for answers that differ in harmless details).
_NEAR_THE_STREAM = 0.03
#: Batches per epoch, relative to the stream's: building the batches partition by partition adds
#: at most one smaller batch per partition.
_STEPS_RANGE = (0.95, 1.2)


def _epochs_and_steps(history, name: str) -> tuple[int, int]:
    """The epochs asked for and the batches per epoch of the ``fit`` that returned ``history``."""
    params = getattr(history, "params", None) or {}
    require("epochs" in params and params.get("steps"),
            es=f"`{name}` debe ser lo que devuelve `model.fit(...)` (un `History`).",
            en=f"`{name}` should be what `model.fit(...)` returns (a `History`).")
    return int(params["epochs"]), int(params["steps"])


def _final_accuracy_beats_naive(accuracy, naive_curve, *, es: str, en: str) -> float:
    """Require a validation accuracy, clearly above the naive loop's final one; return it."""
    require(0 <= float(accuracy) <= 1,
            es="La exactitud de validación debe ser un número entre 0 y 1.",
            en="The validation accuracy should be a number between 0 and 1.")
    require(float(accuracy) >= float(naive_curve[-1]) + _BETTER_THAN_NAIVE, es=es, en=en)
    return float(accuracy)


@exercise_check
def check_exercise_1(repaired, orders, repaired_accuracy, naive_curve, history):
    """Check exercise 1: one ``fit`` per partition, one epoch per call, a new order each pass.

    Parameters
    ----------
    repaired : keras.Model
        The model trained by the repaired loop (a fresh ``make_mlp()``).
    orders : list of sequences of int
        The order in which the loop visited the partitions, one list of partition numbers per
        pass.
    repaired_accuracy : float
        Its final validation accuracy (``val_accuracy(repaired)``).
    naive_curve : list of float
        The naive loop's validation accuracy after each partition.
    history : keras.callbacks.History
        What the lesson's stream ``fit`` returned: its epochs, batches and accuracies.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    epochs, stream_steps = _epochs_and_steps(history, "history")
    orders = [[int(partition) for partition in order] for order in orders]
    require(len(orders) == epochs,
            es=f"`orders` debe tener un orden de particiones por pasada: {epochs} (`EPOCHS`), no "
               f"{len(orders)}.",
            en=f"`orders` should hold one order of the partitions per pass: {epochs} "
               f"(`EPOCHS`), not {len(orders)}.")
    n_partitions = len(naive_curve)
    require(all(sorted(order) == list(range(n_partitions)) for order in orders),
            es=f"Cada orden de `orders` debe nombrar una vez cada una de las {n_partitions} "
               "particiones.",
            en=f"Each order in `orders` should name each of the {n_partitions} partitions once.")
    require(len({tuple(order) for order in orders}) == len(orders),
            es="Repites el mismo orden de las particiones en varias pasadas: saca uno nuevo, "
               "aleatorio, en cada pasada.",
            en="You repeat the same partition order on several passes: draw a new, random one "
               "on each pass.")
    last_fit = getattr(repaired, "history", None)
    require(last_fit is not None and int(repaired.optimizer.iterations) > 0,
            es="`repaired` todavía no se ha entrenado: empieza con `make_mlp()` y llama a su "
               "`fit` con cada partición.",
            en="`repaired` has not been trained yet: start from `make_mlp()` and call its `fit` "
               "with each partition.")
    last_epochs = int(last_fit.params["epochs"])
    last_steps = last_fit.params.get("steps")
    require(last_epochs == 1,
            es=f"Tu último `fit` pidió {last_epochs} épocas: cada llamada debe ser una sola "
               "época, y las pasadas sobre los datos las da tu bucle.",
            en=f"Your last `fit` asked for {last_epochs} epochs: each call should be a single "
               "epoch, and the passes over the data come from your loop.")
    require(last_steps is None or int(last_steps) < stream_steps,
            es="Tu último `fit` recorrió tantos lotes como una época entera: mantén un `fit` por "
               "partición.",
            en="Your last `fit` went through as many batches as a whole epoch: keep one `fit` "
               "per partition.")
    steps = int(repaired.optimizer.iterations)
    low, high = (bound * epochs * stream_steps for bound in _STEPS_RANGE)
    require(steps >= low,
            es=f"El optimizador dio {steps} pasos y el streaming {epochs * stream_steps}: en cada "
               f"una de las {epochs} pasadas hay que recorrer todas las particiones, en lotes de "
               "`BATCH` filas.",
            en=f"The optimizer took {steps} steps and the stream {epochs * stream_steps}: each of "
               f"the {epochs} passes should go through every partition, in batches of `BATCH` "
               "rows.")
    require(steps <= high,
            es=f"El optimizador dio {steps} pasos, muchos más que los {epochs * stream_steps} del "
               "streaming: parte de un `make_mlp()` nuevo y da a cada partición una sola época "
               "por pasada, en lotes de `BATCH` filas.",
            en=f"The optimizer took {steps} steps, far more than the stream's "
               f"{epochs * stream_steps}: start from a new `make_mlp()` and give each partition "
               "a single epoch per pass, in batches of `BATCH` rows.")
    accuracy = _final_accuracy_beats_naive(
        repaired_accuracy, naive_curve,
        es="Tu modelo sigue acabando ajustado a los últimos meses que ve, como el bucle "
           "ingenuo: asegúrate de que recorres las particiones en el orden que guardas en "
           "`orders` y de que barajas las filas de cada una.",
        en="Your model still ends up fitted to the last months it sees, like the naive loop: "
           "make sure you visit the partitions in the order you keep in `orders` and that you "
           "shuffle the rows of each one.")
    stream_accuracy = float(history.history["val_accuracy"][-1])
    require(accuracy > stream_accuracy - _NEAR_THE_STREAM,
            es="Supera al bucle ingenuo, pero queda lejos del streaming. Asegúrate de que las "
               "filas de cada partición se barajan y de que cada `fit` usa lotes de `BATCH` "
               "filas.",
            en="It beats the naive loop but stays far from the stream. Make sure the rows of "
               "each partition are shuffled and that each `fit` uses batches of `BATCH` rows.")
    return correct(
        es="con una época por llamada y un orden nuevo en cada pasada, el bucle se acerca al "
           "streaming y deja atrás al bucle ingenuo.",
        en="with one epoch per call and a new order on each pass, the loop gets close to the "
           "stream and leaves the naive loop behind.")


@exercise_check
def check_exercise_2(batches, py_history, naive_curve, history):
    """Check exercise 2: a ``keras.utils.PyDataset`` over the month partitions.

    Parameters
    ----------
    batches : keras.utils.PyDataset
        The student's ``PyDataset`` (``__len__``: batches per epoch; ``__getitem__``: one batch).
    py_history : keras.callbacks.History
        What ``make_mlp().fit(batches, ...)`` returned.
    naive_curve : list of float
        The naive loop's validation accuracy after each partition.
    history : keras.callbacks.History
        What the lesson's stream ``fit`` returned: its epochs, batches and accuracies.

    Returns
    -------
    Feedback
        Correct, or the first thing to look at.
    """
    epochs, stream_steps = _epochs_and_steps(history, "history")
    require(any(cls.__name__ == "PyDataset" for cls in type(batches).__mro__),
            es="`batches` debe ser un objeto de una clase que herede de `keras.utils.PyDataset`.",
            en="`batches` should be an object of a class that inherits from "
               "`keras.utils.PyDataset`.")
    n_batches = len(batches)
    low, high = (bound * stream_steps for bound in _STEPS_RANGE)
    require(n_batches >= low,
            es=f"`len(batches)` es {n_batches}, pero una época tiene unos {stream_steps} lotes: "
               "`__len__` debe contar los lotes de `batch_size` filas de todas las particiones, "
               "no las particiones.",
            en=f"`len(batches)` is {n_batches}, but an epoch has about {stream_steps} batches: "
               "`__len__` should count the batches of `batch_size` rows of every partition, not "
               "the partitions.")
    require(n_batches <= high,
            es=f"`len(batches)` es {n_batches}, muchos más que los {stream_steps} lotes de una "
               "época: mira el tamaño de lote (`BATCH`) y que cada fila salga una sola vez por "
               "época.",
            en=f"`len(batches)` is {n_batches}, far more than the {stream_steps} batches of an "
               "epoch: look at the batch size (`BATCH`) and that each row comes out only once "
               "per epoch.")
    py_epochs, py_steps = _epochs_and_steps(py_history, "py_history")
    require(py_steps == n_batches,
            es="`py_history` no viene de entrenar con `batches`: pásalo a `fit` como datos.",
            en="`py_history` does not come from training on `batches`: pass it to `fit` as the "
               "data.")
    require(py_epochs == epochs and len(py_history.epoch) == epochs,
            es=f"Entrena con un solo `fit` de `EPOCHS` ({epochs}) épocas.",
            en=f"Train with a single `fit` of `EPOCHS` ({epochs}) epochs.")
    require("val_accuracy" in py_history.history,
            es="El entrenamiento no midió la exactitud de validación: pasa "
               "`validation_data=(X_val, y_val)` a `fit`.",
            en="The training run did not measure validation accuracy: pass "
               "`validation_data=(X_val, y_val)` to `fit`.")
    _final_accuracy_beats_naive(
        py_history.history["val_accuracy"][-1], naive_curve,
        es="Tu modelo acaba ajustado a las últimas particiones, como el bucle ingenuo: asegúrate "
           "de que cada época recorre las particiones en un orden nuevo (`on_epoch_end`) y de "
           "que las filas de cada partición se barajan.",
        en="Your model ends up fitted to the last partitions, like the naive loop: make sure "
           "each epoch visits the partitions in a new order (`on_epoch_end`) and that the rows "
           "of each partition are shuffled.")
    return correct(
        es="Keras recorre tu `PyDataset` época a época, con las particiones en un orden nuevo, "
           "y entrena claramente mejor que el bucle ingenuo.",
        en="Keras goes through your `PyDataset` epoch by epoch, with the partitions in a new "
           "order, and trains clearly better than the naive loop.")
