"""Checks for the exercises of lesson 07 (PyTorch `DataLoader` and a streaming `IterableDataset`).

Each check takes the objects its exercise asks for and returns a
:class:`~helpers.exercises.Feedback`. Nothing heavy is imported at import time: PyTorch only
inside a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

from helpers.exercises import correct, exercise_check, require

__all__ = ["check_exercise_1", "check_exercise_2"]

#: Samples the second exercise takes from the start of the epoch.
FIRST_SAMPLES = 2_048
#: The small buffer of the second exercise.
SMALL_BUFFER = 256


def _state_dict(weights):
    """The state dict of a model, or ``weights`` itself when it already is one."""
    return weights.state_dict() if hasattr(weights, "state_dict") else weights


def _same_weights(a, b) -> bool:
    """Whether two models (or state dicts) hold exactly the same numbers."""
    import torch

    a, b = _state_dict(a), _state_dict(b)
    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


def _is_bool(value) -> bool:
    """``True``/``False``, from Python or NumPy."""
    return type(value).__name__ in {"bool", "bool_"}


@exercise_check
def check_exercise_1(finals, same_with_2_workers, batch_orders):
    """Check exercise 1: resuming with 1 and 0 workers, and the prediction for 2 workers.

    Parameters
    ----------
    finals : dict
        ``{num_workers: final weights}`` for the runs resumed with ``num_workers=1`` and
        ``num_workers=0``: a model or its ``state_dict()``.
    same_with_2_workers : bool
        The student's prediction: would resuming with ``num_workers=2`` end with the same
        weights as with 1?
    batch_orders : dict
        The lesson's ``{num_workers: sample ids of one epoch, in order}`` for 0, 1 and 2 workers.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.
    """
    require(isinstance(finals, Mapping) and {0, 1} <= set(finals),
            es="`finals` debe ser un diccionario con los pesos finales de cada reanudación, "
               "con claves `1` y `0` (el `num_workers` de cada una).",
            en="`finals` should be a dictionary with the final weights of each resumed run, "
               "keyed by `1` and `0` (the `num_workers` of each).")
    require(_same_weights(finals[1], finals[0]),
            es="Los pesos con 1 y con 0 workers no coinciden. ¿Reanudan las dos ejecuciones del "
               "mismo checkpoint (el de la época 2) y entrenan hasta la misma época? Asegúrate "
               "de que la primera no sobrescriba `CHECKPOINT` antes de que lo lea la segunda.",
            en="The weights with 1 and with 0 workers differ. Do both runs resume from the same "
               "checkpoint (the one from epoch 2) and train up to the same epoch? Make sure the "
               "first one does not overwrite `CHECKPOINT` before the second one reads it.")
    require(_is_bool(same_with_2_workers),
            es="`same_with_2_workers` debe ser `True` o `False`: tu predicción de si, al "
               "reanudar con `num_workers=2`, saldrían los mismos pesos que con 1.",
            en="`same_with_2_workers` should be `True` or `False`: your prediction of whether "
               "resuming with `num_workers=2` would end with the same weights as with 1.")
    same_order = list(batch_orders[1]) == list(batch_orders[2])
    require(bool(same_with_2_workers) == same_order,
            es="Revisa tu predicción. Compara en `batch_orders` el orden en que llegan las "
               "muestras con 1 y con 2 workers: para obtener los mismos pesos hacen falta los "
               "mismos lotes, en el mismo orden.",
            en="Look at your prediction again. Compare, in `batch_orders`, the order in which the "
               "samples arrive with 1 and with 2 workers: the same weights need the same "
               "batches, in the same order.")
    return correct(
        es="Con 0 y 1 worker los pesos coinciden bit a bit, y `batch_orders` dice qué pasaría "
           "con 2: para reanudar y obtener exactamente lo mismo, el orden de los datos (y por "
           "tanto `num_workers`) no puede cambiar.",
        en="With 0 and 1 worker the weights match bit for bit, and `batch_orders` tells what "
           "would happen with 2: to resume and get exactly the same result, the data order (and "
           "so `num_workers`) must not change.")


@exercise_check
def check_exercise_2(files_seen):
    """Check exercise 2: how many files the first samples of an epoch come from, by buffer size.

    Parameters
    ----------
    files_seen : dict
        ``{shuffle_buffer: number of different files}`` among the first 2048 samples of epoch 0
        with ``num_workers=0``, for buffers of 0, 256 and twice the rows of one file.

    Returns
    -------
    Feedback
        Correct, or a hint about the first thing that is not right yet.

    Examples
    --------
    >>> from helpers.i18n import set_language
    >>> set_language("en")
    >>> check_exercise_2({0: 1, 256: 1, 8_000: 3})
    ✔ Correct: With no buffer or one of 256 the start of the epoch comes from a single file; \
with a buffer of 8000 samples, from 3. A buffer only mixes samples that are close to each other, \
so to mix files it has to span several.
    >>> check_exercise_2({0: 1, 256: 1, 8_000: 1}).ok
    False
    """
    require(isinstance(files_seen, Mapping)
            and all(isinstance(size, Integral) for size in files_seen)
            and {0, SMALL_BUFFER} <= set(files_seen)
            and any(size > SMALL_BUFFER for size in files_seen),
            es="`files_seen` debe ser un diccionario {tamaño del búfer: ficheros distintos} con "
               "los tres tamaños: 0, 256 y `2 * N_ROWS // N_SHARDS`.",
            en="`files_seen` should be a dictionary {buffer size: different files} with the "
               "three sizes: 0, 256 and `2 * N_ROWS // N_SHARDS`.")
    counts = list(files_seen.values())
    require(all(isinstance(n, Integral) and n >= 1 for n in counts),
            es="Cada valor de `files_seen` debe ser un número entero de ficheros, al menos 1.",
            en="Each value of `files_seen` should be a whole number of files, at least 1.")
    require(max(counts) < FIRST_SAMPLES // 2,
            es="Hay recuentos de cientos o miles: parece que cuentas muestras, no ficheros. "
               "Asigna cada identificador a su fichero y cuenta los ficheros distintos.",
            en="Some counts are in the hundreds or thousands: it looks like you are counting "
               "samples, not files. Map each id to its file and count the different files.")
    require(files_seen[0] == 1,
            es="Sin búfer y con `num_workers=0`, el stream lee los ficheros uno detrás de otro, "
               "y cada fichero tiene más de 2048 filas: las primeras 2048 muestras tendrían que "
               "venir de un solo fichero. ¿Le pasas `shuffle_buffer=0` a ese stream? Revisa "
               "también cómo asignas cada identificador a su fichero (los de un fichero forman "
               "un rango contiguo que empieza en su primer identificador).",
            en="With no buffer and `num_workers=0` the stream reads the files one after another, "
               "and each file has more than 2048 rows: the first 2048 samples should come from a "
               "single file. Do you pass `shuffle_buffer=0` to that stream? Check, too, how you "
               "map each id to its file (the ids of a file form a contiguous range that starts "
               "at its first id).")
    require(files_seen[SMALL_BUFFER] == 1,
            es="Con un búfer de 256, las primeras 2048 muestras salen de las primeras 2048 + 256 "
               "leídas, y todas están en el primer fichero. Revisa tu recuento con ese búfer.",
            en="With a buffer of 256, the first 2048 samples come out of the first 2048 + 256 "
               "read, and all of those are in the first file. Check your count with that "
               "buffer.")
    large = max(files_seen)
    require(files_seen[large] > 1,
            es="Con el búfer grande, las primeras muestras tendrían que mezclar varios ficheros. "
               "¿Creas un `ParquetShardStream` nuevo para cada tamaño, con "
               "`shuffle_buffer=size`?",
            en="With the large buffer the first samples should mix several files. Do you "
               "create a new `ParquetShardStream` for each size, with `shuffle_buffer=size`?")
    return correct(
        es=f"Sin búfer o con uno de 256, el principio de la época sale de un solo fichero; con "
           f"un búfer de {large} muestras, de {files_seen[large]}. Un búfer solo mezcla muestras "
           f"cercanas entre sí, así que para mezclar ficheros tiene que abarcar varios.",
        en=f"With no buffer or one of 256 the start of the epoch comes from a single file; with "
           f"a buffer of {large} samples, from {files_seen[large]}. A buffer only mixes samples "
           f"that are close to each other, so to mix files it has to span several.")
