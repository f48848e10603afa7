"""Checks for the exercises of lesson 08 (neural networks with Dask: data parallelism done right).

Each check takes the objects its exercise asks for and returns a
:class:`~helpers.exercises.Feedback`. No check trains or recomputes anything: they read numbers
the student already has, the task graph, and where the cluster holds the results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real

from helpers.exercises import (
    correct,
    exercise_check,
    graph_width,
    is_dask_collection,
    require,
    workers_holding,
)

__all__ = ["check_exercise_1", "check_exercise_2"]

#: The averaging periods exercise 1 asks for.
SYNC_EVERY = (6, 21)
#: The accuracy every variant of exercise 1 reaches (the lesson's solution checks the same).
ACCURACY_FLOOR = 0.85
#: Bounds of a believable speed-up for two independent tasks: at most 2 in theory; beyond 3 the
#: "at once" run was not waited for, and below 0.7 the ratio is upside down.
SPEEDUP_BOUNDS = (0.7, 3.0)


def _rounds_per_epoch(steps_per_epoch: int, sync_every: int) -> int:
    """Averages per epoch when the states are averaged every ``sync_every`` steps."""
    return math.ceil(steps_per_epoch / sync_every)


@exercise_check
def check_exercise_1(averages, accuracies, steps_per_epoch):
    """Check exercise 1: averaging the states every ``sync_every`` steps.

    Parameters
    ----------
    averages : dict
        ``{sync_every: averages per epoch}`` for 6 and 21 (and, if wanted, the lesson's local
        SGD, ``STEPS``).
    accuracies : dict
        ``{sync_every: test accuracy}`` for the same keys.
    steps_per_epoch : int
        The lesson's ``STEPS``.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.

    Examples
    --------
    >>> from helpers.i18n import set_language
    >>> set_language("en")
    >>> check_exercise_1({6: 7, 21: 2, 42: 1}, {6: 0.95, 21: 0.94, 42: 0.95}, 42).ok
    True
    >>> check_exercise_1({6: 1, 21: 1}, {6: 0.95, 21: 0.94}, 42).ok
    False
    """
    require(isinstance(averages, Mapping) and isinstance(accuracies, Mapping)
            and set(SYNC_EVERY) <= set(averages) and set(averages) == set(accuracies),
            es="`averages` y `accuracies` deben ser diccionarios con las mismas claves, los "
               "valores de `sync_every` que has probado (al menos 6 y 21).",
            en="`averages` and `accuracies` should be dictionaries with the same keys, the "
               "values of `sync_every` you tried (at least 6 and 21).")
    expected = {every: _rounds_per_epoch(steps_per_epoch, every) for every in averages}
    require(all(isinstance(averages[every], Integral) for every in averages),
            es="Cada valor de `averages` debe ser un número entero de promedios por época.",
            en="Each value of `averages` should be a whole number of averages per epoch.")
    require(not all(averages[every] == 1 for every in SYNC_EVERY),
            es="Con 6 y con 21 sale un promedio por época: tu función promedia una vez por "
               "época, como el SGD local de la lección. Tiene que promediar cada `sync_every` "
               "pasos, así que una época tiene varias rondas.",
            en="Both 6 and 21 give one average per epoch: your function averages once per "
               "epoch, like the lesson's local SGD. It has to average every `sync_every` steps, "
               "so an epoch has several rounds.")
    factors = {averages[every] / expected[every] for every in averages}
    factor = next(iter(factors))
    require(not (len(factors) == 1 and factor > 1 and factor.is_integer()),
            es="Esos números parecen el total de promedios de todo el entrenamiento: el "
               "ejercicio pide los promedios **por época**.",
            en="Those numbers look like the total number of averages over the whole training: "
               "the exercise asks for the averages **per epoch**.")
    for every in sorted(averages):
        require(averages[every] == expected[every],
                es=f"Con `sync_every={every}`, revisa la cuenta: una época de "
                   f"{steps_per_epoch} pasos se parte en rondas de {every} pasos (la última "
                   f"puede ser más corta), y cada ronda termina con un promedio.",
                en=f"With `sync_every={every}`, check the count: an epoch of {steps_per_epoch} "
                   f"steps is cut into rounds of {every} steps (the last one may be shorter), "
                   f"and each round ends with an average.")
    require(all(isinstance(accuracy, Real) and 0 <= accuracy <= 1
                for accuracy in accuracies.values()),
            es="Cada exactitud debe ser una fracción entre 0 y 1, como la que devuelve "
               "`evaluate`.",
            en="Each accuracy should be a fraction between 0 and 1, like the one `evaluate` "
               "returns.")
    for every in sorted(accuracies):
        require(accuracies[every] > ACCURACY_FLOOR,
                es=f"Con `sync_every={every}` la exactitud es {accuracies[every]:.3f}, muy por "
                   f"debajo de la del bucle secuencial. ¿Empieza cada ronda desde el estado "
                   f"promediado de la anterior, y cada worker usa `BATCH // n_workers` filas por "
                   f"paso?",
                en=f"With `sync_every={every}` the accuracy is {accuracies[every]:.3f}, far "
                   f"below the sequential loop's. Does each round start from the averaged state "
                   f"of the previous one, and does each worker use `BATCH // n_workers` rows per "
                   f"step?")
    low, high = min(accuracies.values()), max(accuracies.values())
    return correct(
        es=f"Con `sync_every=6` se promedia {averages[6]} veces por época y con 21, "
           f"{averages[21]}; las exactitudes van de {low:.3f} a {high:.3f}. Cuanto más a menudo "
           f"se promedia, más se comunica.",
        en=f"With `sync_every=6` the states are averaged {averages[6]} times per epoch and with "
           f"21, {averages[21]}; the accuracies go from {low:.3f} to {high:.3f}. The more often "
           f"they are averaged, the more is communicated.")


def _as_graph(trainings):
    """One Dask collection for the training tasks: ``trainings`` itself, or a list of them."""
    import dask

    many = isinstance(trainings, list | tuple)
    tasks = list(trainings) if many else [trainings]
    require(tasks and all(is_dask_collection(task) for task in tasks),
            es="`trainings` debe ser el grafo sin ejecutar: una lista de tareas de "
               "`dask.delayed`, una por entrenamiento, sin llamar a `compute`.",
            en="`trainings` should be the graph, not yet run: a list of `dask.delayed` tasks, "
               "one per training, without calling `compute`.")
    return dask.delayed(tasks) if many else trainings


def _workers_that_ran(client, futures) -> set[str]:
    """The workers that ran the tasks of ``futures``, from the scheduler's task stream."""
    keys = {future.key for future in futures}
    return {record["worker"] for record in client.get_task_stream() if record["key"] in keys}


@exercise_check
def check_exercise_2(trainings, trained, speedup):
    """Check exercise 2: two independent trainings as one graph of width 2, run at once.

    Parameters
    ----------
    trainings : list of dask.delayed.Delayed
        The two training tasks (or one delayed collection holding them).
    trained : list of distributed.Future
        What ``client.compute(trainings)`` returned, already finished.
    speedup : float
        The time of training them one after the other divided by the time of running the graph.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.
    """
    from distributed import Future

    width = graph_width(_as_graph(trainings))
    require(width >= 2,
            es="Tu grafo tiene anchura 1: un entrenamiento espera al otro. Cada entrenamiento "
               "debe depender solo del fragmento y de su tasa de aprendizaje, no del resultado "
               "del otro (compruébalo con `graph_shape`).",
            en="Your graph has width 1: one training waits for the other. Each training should "
               "depend only on the shard and its learning rate, not on the other's result "
               "(check it with `graph_shape`).")
    require(width == 2,
            es=f"Tu grafo tiene anchura {width}: el ejercicio entrena dos modelos, una tarea "
               f"para cada uno.",
            en=f"Your graph has width {width}: the exercise trains two models, one task each.")
    trained = list(trained) if isinstance(trained, list | tuple) else [trained]
    require(trained and all(isinstance(future, Future) for future in trained),
            es="`trained` debe ser la lista de *futures* que devuelve `client.compute(trainings)`: "
               "los pesos se quedan en los workers, y este notebook no necesita importar "
               "PyTorch.",
            en="`trained` should be the list of futures that `client.compute(trainings)` "
               "returns: the weights stay on the workers, and this notebook need not import "
               "PyTorch.")
    require(not any(future.status == "error" for future in trained),
            es="Uno de los entrenamientos ha fallado: mira su error con `.exception()`.",
            en="One of the trainings failed: look at its error with `.exception()`.")
    require(all(future.status == "finished" for future in trained),
            es="Los entrenamientos no han terminado: espera a que acaben (`wait(trained)`) antes "
               "de medir el tiempo.",
            en="The trainings have not finished: wait for them (`wait(trained)`) before taking "
               "the time.")
    client = trained[0].client
    # Where the trainings ran, from the scheduler's task stream (who holds the weights now says
    # nothing: evaluating them copies them to every worker); where they are held if it was lost.
    ran_on = _workers_that_ran(client, trained) or workers_holding(client, trained)
    workers = client.scheduler_info()["workers"]
    threads = sum(workers[address]["nthreads"] for address in ran_on if address in workers)
    require(threads >= 2,
            es="Los dos entrenamientos se ejecutaron en el mismo worker, de un solo hilo: uno "
               "detrás de otro. ¿Pueden los dos workers leer `full_shard`? (Mira "
               "`client.replicate`.)",
            en="Both trainings ran on the same single-threaded worker: one after the other. Can "
               "both workers read `full_shard`? (Look at `client.replicate`.)")
    require(isinstance(speedup, Real),
            es="`speedup` debe ser un número: el tiempo uno detrás de otro entre el tiempo a la "
               "vez.",
            en="`speedup` should be a number: the time one after the other divided by the time "
               "at once.")
    low, high = SPEEDUP_BOUNDS
    require(speedup < high,
            es=f"Una aceleración de {speedup:.1f}× con dos tareas es imposible (como mucho, 2×). "
               f"¿Mides la ejecución a la vez hasta que terminan los entrenamientos? "
               f"`client.compute` devuelve el control en el acto.",
            en=f"A speed-up of {speedup:.1f}× with two tasks is impossible (2× at most). Does "
               f"your timing of the run at once last until the trainings finish? "
               f"`client.compute` returns at once.")
    require(speedup > low,
            es=f"Con {speedup:.2f}×, entrenar a la vez habría sido mucho más lento que uno "
               f"detrás de otro. ¿Has dividido al revés? La aceleración es el tiempo uno detrás "
               f"de otro entre el tiempo a la vez.",
            en=f"At {speedup:.2f}×, training at once would have been much slower than one after "
               f"the other. Did you divide the wrong way round? The speed-up is the time one "
               f"after the other divided by the time at once.")
    return correct(
        es=f"El grafo tiene anchura 2, los dos entrenamientos se ejecutaron a la vez en "
           f"workers distintos y mediste una aceleración de {speedup:.2f}× frente a "
           f"entrenarlos uno detrás de otro.",
        en=f"The graph has width 2, both trainings ran at the same time on different workers, "
           f"and you measured a speed-up of {speedup:.2f}× over training them one after the "
           f"other.")
