"""Checks for the exercises of lesson 10 (scaling out: real clusters and fault tolerance).

Each check takes the objects its exercise asks for and returns a
:class:`~helpers.exercises.Feedback`: the futures of the retried reads, the ``SLURMCluster``
itself (its job script and whether it is closed), and the memory thresholds the student worked
out. Nothing heavy is imported at import time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from numbers import Integral, Real

from helpers.exercises import correct, exercise_check, require

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]

#: Exercise 1: the read fails on its first three attempts.
FAILURES = 3
#: Exercise 2: 8 workers of 4 threads and 16 GiB per job, on the ``long`` queue, for 4 hours.
WORKERS, THREADS, WORKER_MEMORY, QUEUE, HOURS = 8, 4, 16 * 2**30, "long", 4
#: Exercise 3: the worker's memory limit.
MEMORY_LIMIT = 4 * 2**30
THRESHOLDS = ("target", "spill", "pause", "terminate")


@exercise_check
def check_exercise_1(reads):
    """Check exercise 1: the smallest ``retries=`` for a read that fails three times.

    Parameters
    ----------
    reads : dict
        ``{retries: future}``: the future of ``client.submit(flaky_load, ..., failures=3,
        retries=retries)`` for the smallest ``retries`` that works and for one fewer.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.
    """
    require(isinstance(reads, Mapping) and reads
            and all(isinstance(n, Integral) for n in reads)
            and all(hasattr(future, "status") for future in reads.values()),
            es="`reads` debe ser un diccionario {retries: future}, con el *future* que devuelve "
               "`client.submit` para cada valor de `retries` que pruebes.",
            en="`reads` should be a dictionary {retries: future}, with the future that "
               "`client.submit` returns for each value of `retries` you try.")
    require(all(future.status in {"finished", "error"} for future in reads.values()),
            es="Alguna lectura no ha terminado todavía: pide su resultado con `.result()` antes "
               "de comprobar.",
            en="Some read has not finished yet: ask for its result with `.result()` before "
               "checking.")
    worked = sorted(n for n, future in reads.items() if future.status == "finished")
    require(worked,
            es="Ninguna de tus lecturas ha funcionado. Con `retries=n`, ¿cuántos intentos tiene "
               "la tarea en total?",
            en="None of your reads worked. With `retries=n`, how many attempts does the task "
               "get in all?")
    smallest = worked[0]
    require(smallest >= FAILURES,
            es=f"Tu lectura funciona con `retries={smallest}`, y eso no debería bastar si falla "
               f"en sus tres primeros intentos. ¿Usas `failures=3`, y un contador nuevo "
               f"(`new_counter`) para cada prueba?",
            en=f"Your read works with `retries={smallest}`, which is not enough if it fails on "
               f"its first three attempts. Do you use `failures=3`, and a new counter "
               f"(`new_counter`) for each try?")
    require(smallest == FAILURES or reads.get(FAILURES) is None,
            es=f"Con `retries={FAILURES}` tu lectura falla: ¿falla en más de tres intentos? "
               f"Usa `failures=3` y un contador nuevo (`new_counter`) para cada prueba.",
            en=f"With `retries={FAILURES}` your read fails: does it fail more than three times? "
               f"Use `failures=3` and a new counter (`new_counter`) for each try.")
    require(smallest == FAILURES,
            es=f"`retries={smallest}` funciona, pero ¿es el menor? Prueba con menos.",
            en=f"`retries={smallest}` works, but is it the smallest? Try fewer.")
    fewer = reads.get(FAILURES - 1)
    require(fewer is not None,
            es=f"Comprueba también que con uno menos (`retries={FAILURES - 1}`) el error llega "
               f"al notebook: añádelo a `reads`.",
            en=f"Also check that with one fewer (`retries={FAILURES - 1}`) the error reaches the "
               f"notebook: add it to `reads`.")
    require(isinstance(fewer.exception(), ConnectionError),
            es=f"Con `retries={FAILURES - 1}` la lectura tendría que fallar con el "
               f"`ConnectionError` de `flaky_load`.",
            en=f"With `retries={FAILURES - 1}` the read should fail with `flaky_load`'s "
               f"`ConnectionError`.")
    return correct(
        es=f"Con `retries={FAILURES}` la lectura funciona y con `retries={FAILURES - 1}` el "
           f"error llega al notebook: `retries=n` permite n + 1 intentos.",
        en=f"With `retries={FAILURES}` the read works, and with `retries={FAILURES - 1}` the "
           f"error reaches the notebook: `retries=n` allows n + 1 attempts.")


def _slurm_seconds(walltime: str) -> int:
    """Seconds of a SLURM time limit (``minutes``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``).

    Examples
    --------
    >>> _slurm_seconds("04:00:00"), _slurm_seconds("240"), _slurm_seconds("0-4")
    (14400, 14400, 14400)
    """
    days, _, clock = walltime.rpartition("-")
    parts = [int(part) for part in clock.split(":")]
    if days:
        hours, minutes, seconds = (parts + [0, 0])[:3]
        return ((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if len(parts) < 3:
        minutes, seconds = (parts + [0])[:2]
        return minutes * 60 + seconds
    hours, minutes, seconds = parts
    return (hours * 60 + minutes) * 60 + seconds


def _option(pattern: str, script: str) -> str | None:
    """The value of the first option of ``script`` that matches ``pattern``, or None."""
    found = re.search(pattern, script, re.MULTILINE)
    return found.group(1) if found else None


@exercise_check
def check_exercise_2(cluster):
    """Check exercise 2: a ``SLURMCluster`` of 8 workers of 4 threads and 16 GiB per job.

    Parameters
    ----------
    cluster : dask_jobqueue.SLURMCluster
        The student's cluster, already closed (its job script can still be read).

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.
    """
    from dask.utils import format_bytes, parse_bytes

    require(hasattr(cluster, "job_script"),
            es="Pasa el propio `SLURMCluster` (el objeto, aunque ya esté cerrado), no su "
               "script.",
            en="Pass the `SLURMCluster` itself (the object, even once closed), not its script.")
    script = cluster.job_script()
    workers = int(_option(r"--nworkers (\d+)", script) or 1)
    require(workers == WORKERS,
            es=f"Cada job arranca {workers} worker(s) y deberían ser {WORKERS}: el número de "
               f"workers por job lo fija `processes`.",
            en=f"Each job starts {workers} worker(s) and it should be {WORKERS}: the number of "
               f"workers per job is set by `processes`.")
    threads = int(_option(r"--nthreads (\d+)", script) or 0)
    require(threads == THREADS,
            es=f"Cada worker tiene {threads} hilos y deberían ser {THREADS}: los hilos de un "
               f"worker salen de repartir `cores` (los núcleos de todo el job) entre "
               f"`processes`.",
            en=f"Each worker has {threads} threads and it should be {THREADS}: a worker's "
               f"threads come from splitting `cores` (the cores of the whole job) among "
               f"`processes`.")
    limit = _option(r"--memory-limit (\S+)", script) or "0"
    memory = parse_bytes(limit)
    require(abs(memory - WORKER_MEMORY * 10**9 / 2**30) > 0.01 * WORKER_MEMORY,
            es=f"Cada worker recibe {limit}, es decir, 16 GB y no 16 GiB (2³⁰ bytes cada uno): "
               f"los nodos tienen 128 GiB, escribe la memoria en «GiB».",
            en=f"Each worker gets {limit}, that is 16 GB rather than 16 GiB (2³⁰ bytes each): "
               f"the nodes have 128 GiB, write the memory in \"GiB\".")
    require(abs(memory - WORKER_MEMORY) <= 0.01 * WORKER_MEMORY,
            es=f"Cada worker recibe {limit} y deberían ser {format_bytes(WORKER_MEMORY)}: "
               f"`memory` es la memoria de todo el job (la del nodo), y se reparte entre "
               f"`processes`.",
            en=f"Each worker gets {limit} and it should be {format_bytes(WORKER_MEMORY)}: "
               f"`memory` is the whole job's memory (the node's), split among `processes`.")
    queue = _option(r"^#SBATCH\s+(?:-p|--partition)[ =](\S+)", script)
    require(queue == QUEUE,
            es=f"El job va a la cola {queue or 'por defecto'} y debería ir a la cola "
               f"`{QUEUE}`: mira el parámetro `queue`.",
            en=f"The job goes to the {queue or 'default'} queue and it should go to the "
               f"`{QUEUE}` queue: look at the `queue` parameter.")
    walltime = _option(r"^#SBATCH\s+(?:-t|--time)[ =](\S+)", script)
    require(walltime is not None and _slurm_seconds(walltime) == HOURS * 3600,
            es=f"El límite de tiempo del job es {walltime or 'el de la cola'} y deberían ser "
               f"{HOURS} horas: mira el parámetro `walltime` (en formato HH:MM:SS).",
            en=f"The job's time limit is {walltime or 'the queue default'} and it should be "
               f"{HOURS} hours: look at the `walltime` parameter (as HH:MM:SS).")
    status = getattr(cluster.status, "name", str(cluster.status))
    require(status in {"closed", "closing"},
            es="Tu `SLURMCluster` sigue abierto (su planificador sigue en marcha): ciérralo al "
               "terminar.",
            en="Your `SLURMCluster` is still open (its scheduler is still running): close it "
               "when you are done.")
    return correct(
        es=f"Cada job pide el nodo entero y lo reparte en {WORKERS} workers de {THREADS} hilos "
           f"y {limit}, en la cola `{QUEUE}` y con {HOURS} horas de límite; y el clúster está "
           f"cerrado.",
        en=f"Each job asks for the whole node and splits it into {WORKERS} workers of "
           f"{THREADS} threads and {limit}, on the `{QUEUE}` queue with a {HOURS}-hour limit; "
           f"and the cluster is closed.")


def _as_bytes(value):
    """Bytes from a number or a text such as ``"2.40 GiB"``."""
    from dask.utils import parse_bytes

    return parse_bytes(value) if isinstance(value, str) else value


@exercise_check
def check_exercise_3(memory_at):
    """Check exercise 3: the memory at which a 4 GiB worker spills, pauses and is killed.

    Parameters
    ----------
    memory_at : dict
        ``{threshold: memory}`` for ``spill`` (or ``target``), ``pause`` and ``terminate``
        (``target`` too, if wanted), in bytes or as a text such as ``"3.20 GiB"``.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.

    Examples
    --------
    >>> import dask
    >>> import distributed  # its import loads the defaults of distributed.worker.memory
    >>> from helpers.i18n import set_language
    >>> set_language("en")
    >>> fractions = {name: dask.config.get(f"distributed.worker.memory.{name}")
    ...              for name in ("target", "spill", "pause", "terminate")}
    >>> check_exercise_3({name: int(f * 4 * 2**30) for name, f in fractions.items()}).ok
    True
    >>> check_exercise_3(fractions).ok
    False
    """
    import dask
    import distributed  # noqa: F401 - its import loads the defaults of distributed.worker.memory
    from dask.utils import format_bytes

    require(isinstance(memory_at, Mapping) and {"pause", "terminate"} <= set(memory_at)
            and {"target", "spill"} & set(memory_at),
            es="`memory_at` debe ser un diccionario {umbral: memoria} con, al menos, `spill` "
               "(o `target`), `pause` y `terminate`, los nombres de la configuración de Dask.",
            en="`memory_at` should be a dictionary {threshold: memory} with at least `spill` "
               "(or `target`), `pause` and `terminate`, the names in Dask's configuration.")
    for name in (name for name in THRESHOLDS if name in memory_at):
        value = _as_bytes(memory_at[name])
        fraction = dask.config.get(f"distributed.worker.memory.{name}")
        if fraction is False:  # this threshold is switched off in the configuration
            require(value in (None, False),
                    es=f"En tu configuración, `{name}` está desactivado (`False`): ese umbral "
                       f"no se alcanza nunca.",
                    en=f"In your configuration `{name}` is switched off (`False`): that "
                       f"threshold never comes.")
            continue
        require(isinstance(value, Real) and value > 1,
                es="Los valores de `memory_at` deben ser memoria (bytes, o un texto como "
                   "\"3 GiB\"), no las fracciones de la configuración: aplícalas al límite.",
                en="The values of `memory_at` should be memory (bytes, or a text such as "
                   "\"3 GiB\"), not the configuration's fractions: apply them to the limit.")
        require(abs(value - fraction * 4e9) > 0.001 * value,
                es=f"Para `{name}` has usado un límite de 4 GB (4 × 10⁹ bytes), pero es de 4 GiB "
                   f"(4 × 2³⁰ bytes): `parse_bytes` entiende las dos unidades.",
                en=f"For `{name}` you used a limit of 4 GB (4 × 10⁹ bytes), and it is 4 GiB "
                   f"(4 × 2³⁰ bytes): `parse_bytes` understands both units.")
        require(abs(value - fraction * MEMORY_LIMIT) <= 0.01 * fraction * MEMORY_LIMIT,
                es=f"Revisa `{name}`: {format_bytes(int(value))} no es la fracción "
                   f"`distributed.worker.memory.{name}` del límite de 4 GiB.",
                en=f"Check `{name}`: {format_bytes(int(value))} is not the "
                   f"`distributed.worker.memory.{name}` fraction of the 4 GiB limit.")
    spill = "spill" if "spill" in memory_at else "target"
    at = {name: format_bytes(int(_as_bytes(memory_at[name]))) for name in (spill, "pause",
                                                                           "terminate")}
    return correct(
        es=f"Con 4 GiB de límite, el worker vuelca a disco desde {at[spill]}, se pausa desde "
           f"{at['pause']} y su nanny lo mata al llegar a {at['terminate']}, antes del límite.",
        en=f"With a 4 GiB limit the worker spills to disk from {at[spill]}, pauses from "
           f"{at['pause']}, and its nanny kills it at {at['terminate']}, before the limit.")
