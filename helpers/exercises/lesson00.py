"""Checks for the exercises of lesson 00, the introduction: blocks, task graphs and ``persist``.

Exercise 1 cuts the lesson's random array into larger blocks and looks at the task graph of its
column means without computing anything; exercise 2 keeps that array in the workers' memory
with ``persist`` and brings a single number back to the notebook with ``compute``.

Nothing heavy is imported at import time.
"""

from __future__ import annotations

import numbers

from helpers.exercises import (
    correct,
    exercise_check,
    graph_width,
    is_dask_collection,
    is_persisted,
    n_pieces,
    require,
    workers_holding,
)

__all__ = ["check_exercise_1", "check_exercise_2"]

#: The shape of the lesson's array ``x``.
SHAPE = (4000, 4000)
#: The side of the square blocks of ``x`` in the lesson, and the one the exercises ask for.
LESSON_BLOCK, BLOCK = 1000, 2000


def _require_coarse_array(array, name: str) -> None:
    """Stop the check unless ``array`` is a Dask array shaped like ``x``, in 2000 × 2000 blocks."""
    require(is_dask_collection(array) and hasattr(array, "chunks"),
            es=f"`{name}` debe ser un array de Dask, como `x`: un array de NumPy no tiene "
               "bloques ni grafo de tareas.",
            en=f"`{name}` should be a Dask array, like `x`: a NumPy array has neither blocks "
               "nor a task graph.")
    require(tuple(array.shape) == SHAPE,
            es=f"`{name}` debe tener la misma forma que `x`, {SHAPE[0]} × {SHAPE[1]}.",
            en=f"`{name}` should have the same shape as `x`, {SHAPE[0]} × {SHAPE[1]}.")
    require(all(size == BLOCK for sizes in array.chunks for size in sizes),
            es=f"Los bloques de `{name}` deben ser de {BLOCK} × {BLOCK}: mira el argumento "
               f"`chunks` con el que creas el array (y `{name}.chunks`).",
            en=f"The blocks of `{name}` should be {BLOCK} × {BLOCK}: look at the `chunks` "
               f"argument you create the array with (and at `{name}.chunks`).")


def _column_means_graph(block: int) -> tuple[int, int]:
    """Tasks and width of the graph of the lesson's ``(x + x.T).mean(axis=0)`` with square
    blocks of side ``block`` (built, never computed).

    Examples
    --------
    >>> _column_means_graph(2000)
    (18, 4)
    """
    import dask.array as da

    x = da.random.default_rng(0).standard_normal(SHAPE, chunks=block)
    means = (x + x.T).mean(axis=0)
    return len(means.__dask_graph__()), graph_width(means)


def _built_from(result, source) -> bool:
    """Whether the task graph of ``result`` contains the blocks of the Dask array ``source``."""
    from dask.core import flatten

    return set(flatten(source.__dask_keys__())) <= set(dict(result.__dask_graph__()))


@exercise_check
def check_exercise_1(coarse, coarse_mean):
    """Check exercise 1: the lesson's array in larger blocks, and the lazy graph of its means.

    Parameters
    ----------
    coarse : dask.array.Array
        A 4000 × 4000 random array like the lesson's ``x``, in blocks of 2000 × 2000.
    coarse_mean : dask.array.Array
        The mean of each column of ``coarse + coarse.T``, not computed yet.

    Returns
    -------
    Feedback
        Correct, with the blocks, tasks and width of the student's graph next to the lesson's;
        or a hint about the first thing to look at.
    """
    _require_coarse_array(coarse, "coarse")
    require(is_dask_collection(coarse_mean),
            es="`coarse_mean` ya está calculado: déjalo perezoso (sin `compute`) para poder "
               "mirar su grafo de tareas.",
            en="`coarse_mean` is already computed: leave it lazy (no `compute`) so that you "
               "can look at its task graph.")
    require(not is_persisted(coarse_mean),
            es="`coarse_mean` ya está en la memoria de los workers (`persist`): su grafo ya no "
               "tiene tareas. Déjalo perezoso, sin calcular nada.",
            en="`coarse_mean` is already held in the workers' memory (`persist`): its graph has "
               "no tasks left. Leave it lazy, computing nothing.")
    require(tuple(coarse_mean.shape) == (SHAPE[1],),
            es="`coarse_mean` debe tener una media por columna: la media a lo largo de las "
               "filas (`axis=0`) de `coarse + coarse.T`.",
            en="`coarse_mean` should hold one mean per column: the mean along the rows "
               "(`axis=0`) of `coarse + coarse.T`.")
    require(_built_from(coarse_mean, coarse),
            es="`coarse_mean` no sale de `coarse`: constrúyelo a partir de `coarse` y su "
               "traspuesta.",
            en="`coarse_mean` does not come from `coarse`: build it from `coarse` and its "
               "transpose.")
    blocks, tasks, width = n_pieces(coarse), len(coarse_mean.__dask_graph__()), graph_width(
        coarse_mean)
    lesson_tasks, lesson_width = _column_means_graph(LESSON_BLOCK)
    return correct(
        es=f"`coarse` tiene {blocks} bloques y el grafo de `coarse_mean`, {tasks} tareas, como "
           f"mucho {width} a la vez (con bloques de {LESSON_BLOCK}: {lesson_tasks} tareas, "
           f"{lesson_width} a la vez). Bloques más grandes: menos tareas que coordinar, pero "
           "también menos piezas que repartir entre los workers.",
        en=f"`coarse` has {blocks} blocks and the graph of `coarse_mean` {tasks} tasks, at most "
           f"{width} at a time (with blocks of {LESSON_BLOCK}: {lesson_tasks} tasks, "
           f"{lesson_width} at a time). Larger blocks: fewer tasks to coordinate, but also fewer "
           "pieces to share out among the workers.")


@exercise_check
def check_exercise_2(client, kept, overall):
    """Check exercise 2: ``coarse`` kept in the workers' memory, and one number brought back.

    Parameters
    ----------
    client : distributed.Client
        The lesson's client.
    kept : dask.array.Array
        What ``persist`` returned for the array ``coarse`` of exercise 1.
    overall : float
        The mean of all the numbers of ``kept``, computed into the notebook.

    Returns
    -------
    Feedback
        Correct, with how many blocks the workers hold and the number that came back; or a hint
        about the first thing to look at.
    """
    require(is_dask_collection(kept),
            es="`kept` debe seguir siendo un array de Dask: `persist` devuelve una colección "
               "de Dask cuyos bloques se quedan en los workers, mientras que `compute` lo trae "
               "todo al notebook.",
            en="`kept` should still be a Dask array: `persist` returns a Dask collection whose "
               "blocks stay on the workers, whereas `compute` brings everything to the notebook.")
    _require_coarse_array(kept, "kept")
    require(is_persisted(kept),
            es="`kept` todavía guarda las tareas que lo calculan, no sus bloques: `persist` no "
               "cambia el array sobre el que lo llamas, devuelve uno nuevo. Guarda lo que "
               "devuelve.",
            en="`kept` still holds the tasks that compute it, not its blocks: `persist` does not "
               "change the array you call it on, it returns a new one. Keep what it returns.")
    require(workers_holding(client, kept),
            es="Los bloques de `kept` no están en los workers de este clúster: persiste "
               "`coarse` con el cliente de la lección, sin cambiar de planificador.",
            en="The blocks of `kept` are not on this cluster's workers: persist `coarse` with "
               "the lesson's client, without switching schedulers.")
    require(not is_dask_collection(overall),
            es="`overall` todavía es perezoso: `compute` trae el resultado al notebook.",
            en="`overall` is still lazy: `compute` brings the result to the notebook.")
    require(isinstance(overall, numbers.Real),
            es="`overall` debe ser un solo número: la media de todos los números de `kept`, "
               "no la de cada columna.",
            en="`overall` should be a single number: the mean of all the numbers of `kept`, "
               "not one per column.")
    expected = float(kept.mean().compute())
    require(abs(float(overall) - expected) < 1e-9,
            es="`overall` no es la media de todos los números de `kept`: calcúlala a partir "
               "de `kept`.",
            en="`overall` is not the mean of all the numbers of `kept`: compute it from `kept`.")
    from dask.utils import format_bytes

    size = format_bytes(kept.nbytes)
    return correct(
        es=f"Los {n_pieces(kept)} bloques de `kept` ({size}) se quedan en la memoria de los "
           f"workers, y `compute` ha traído al notebook un solo número, {float(overall):.4f}.",
        en=f"The {n_pieces(kept)} blocks of `kept` ({size}) stay in the workers' memory, and "
           f"`compute` brought a single number to the notebook, {float(overall):.4f}.")
