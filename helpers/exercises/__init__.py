"""Exercises that check themselves: the student calls a check on their answer and reads a verdict.

Each lesson's checks live in ``helpers.exercises.lessonNN`` (``check_exercise_1``,
``check_exercise_2``, ...). A check looks at the student's answer (the Dask object itself where the
exercise is about Dask: its partitions or chunks, whether it is persisted, how wide its task
graph is, how many workers hold it) and returns a :class:`Feedback`: *correct*, or one specific
hint about the first thing that is wrong. A hint says what to look at, never the solution.

Writing a check::

    from helpers.exercises import correct, exercise_check, require

    @exercise_check
    def check_exercise_1(best_k):
        require(isinstance(best_k, int), es="`best_k` debe ser un entero.",
                en="`best_k` should be an integer.")
        require(best_k != 1, es="…", en="Training accuracy cannot choose k: …")
        return correct(es="¡Correcto! …", en="Correct! …")

:func:`require` stops the check at the first unmet condition with its hint; the decorator turns
that into a :class:`Feedback`. Everything is in the lesson's language (:mod:`helpers.i18n`).

The inspection functions below (:func:`is_persisted`, :func:`graph_width`, ...) are shared by the
lessons' checks, so that no check re-implements them. Nothing heavy is imported at import time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from helpers.i18n import text

__all__ = [
    "Feedback", "NotYet", "exercise_check", "require", "correct",
    "is_dask_collection", "n_pieces", "is_persisted", "graph_width", "workers_holding",
]

#: What the student reads first, by verdict.
_VERDICT_WORDS = {True: {"es": "Correcto", "en": "Correct"},
                  False: {"es": "Todavía no", "en": "Not yet"}}


@dataclass(frozen=True)
class Feedback:
    """The verdict of a check: ``ok`` and one message in the lesson's language.

    Displayed in a notebook as one line, ``✔ Correct: …`` or ``✘ Not yet: …``.

    Attributes
    ----------
    ok : bool
        Whether the answer is right; also the truth value of the feedback.
    verdict : str
        The first word the student reads (``"Correct"``, ``"Not yet"``, in their language).
    message : str
        What the answer shows, or the hint.

    Examples
    --------
    >>> Feedback(True, "Correct", "k=15 is the choice of cross-validation.")
    ✔ Correct: k=15 is the choice of cross-validation.
    >>> bool(Feedback(False, "Not yet", "Try three values of k."))
    False
    """

    ok: bool
    verdict: str
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'✔' if self.ok else '✘'} {self.verdict}: {self.message}"

    __repr__ = __str__


class NotYet(Exception):
    """Raised by :func:`require` inside a check: the answer is not right yet; carries the hint.

    Parameters
    ----------
    hint : str
        What to look at, in the lesson's language; kept as ``.hint``.
    """

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


def require(condition, *, es: str, en: str) -> None:
    """Stop the check with its hint (in the lesson's language) unless ``condition`` holds.

    Parameters
    ----------
    condition : bool
        What a right answer satisfies (anything with a truth value).
    es, en : str
        The hint in each language: what to look at, not the answer.

    Raises
    ------
    NotYet
        When ``condition`` is false. :func:`exercise_check` turns it into a :class:`Feedback`.

    Examples
    --------
    >>> require(True, es="nunca se ve", en="never shown")
    >>> require(1 > 2, es="mira el signo", en="look at the sign")
    Traceback (most recent call last):
    ...
    helpers.exercises.NotYet: look at the sign
    """
    if not bool(condition):
        raise NotYet(text(es=es, en=en))


def correct(*, es: str, en: str) -> Feedback:
    """The :class:`Feedback` of a right answer, with what it shows (``es`` or ``en``).

    Parameters
    ----------
    es, en : str
        What the right answer shows, in each language.

    Returns
    -------
    Feedback
        ``ok`` true, in the lesson's language.

    Examples
    --------
    >>> from helpers.i18n import set_language
    >>> set_language("es"); correct(es="k=15 generaliza mejor.", en="k=15 generalises best.")
    ✔ Correcto: k=15 generaliza mejor.
    >>> set_language("en")
    """
    return Feedback(True, text(**_VERDICT_WORDS[True]), text(es=es, en=en))


def exercise_check(check):
    """Decorate a check so that it returns a :class:`Feedback` whatever the student passes.

    A :class:`NotYet` raised by :func:`require` becomes a *not yet* verdict with its hint. Any other
    exception raised while inspecting the answer (an answer of the wrong kind, say a list where a
    Dask array was expected) also becomes a hint that names the exception, instead of a traceback
    from inside ``helpers``.

    Parameters
    ----------
    check : callable
        A function of the student's answers that calls :func:`require` and ends with
        ``return correct(...)``.

    Returns
    -------
    callable
        The same check, returning a :class:`Feedback` in every case. It raises ``TypeError``
        only when ``check`` itself returns something other than a :class:`Feedback` (a bug in
        the check, not in the answer).

    Examples
    --------
    >>> from helpers.i18n import set_language
    >>> set_language("en")
    >>> @exercise_check
    ... def check_double(x):
    ...     require(x % 2 == 0, es="Un doble es par.", en="A double is even.")
    ...     return correct(es="Es par.", en="It is even.")
    >>> check_double(4)
    ✔ Correct: It is even.
    >>> check_double(3)
    ✘ Not yet: A double is even.
    >>> check_double("four")
    ✘ Not yet: Your answer is not of the kind this exercise asks for (TypeError: not all \
arguments converted during string formatting). Look at what the exercise asks you to pass; \
if it is, tell your instructor: the check itself may have failed.
    """

    @functools.wraps(check)
    def run(*args, **kwargs) -> Feedback:
        try:
            feedback = check(*args, **kwargs)
        except NotYet as not_yet:
            return Feedback(False, text(**_VERDICT_WORDS[False]), not_yet.hint)
        except Exception as error:  # noqa: BLE001 - the student's object broke the inspection
            reason = f"{type(error).__name__}: {error}"
            return Feedback(False, text(**_VERDICT_WORDS[False]), text(
                es=f"Tu respuesta no es del tipo que pide el ejercicio ({reason}). Revisa qué "
                   "te pide el ejercicio que pases; si es eso, avisa a quien imparte el curso: "
                   "puede haber fallado la comprobación.",
                en=f"Your answer is not of the kind this exercise asks for ({reason}). Look at "
                   "what the exercise asks you to pass; if it is, tell your instructor: the "
                   "check itself may have failed."))
        if not isinstance(feedback, Feedback):
            raise TypeError(f"{check.__qualname__} must return correct(...), not {feedback!r}")
        return feedback

    return run


# -- Inspecting Dask objects -------------------------------------------------------------------

def is_dask_collection(obj) -> bool:
    """Whether ``obj`` is a Dask collection (array, dataframe, series, bag, delayed).

    Parameters
    ----------
    obj : object
        The student's answer.

    Returns
    -------
    bool

    Examples
    --------
    >>> import dask.array as da
    >>> is_dask_collection(da.ones(4, chunks=2)), is_dask_collection([1, 2])
    (True, False)
    """
    from dask import is_dask_collection as dask_is_collection

    return bool(dask_is_collection(obj))


def n_pieces(collection) -> int:
    """How many pieces a collection has: chunks of an array, partitions of a dataframe or bag.

    Parameters
    ----------
    collection : dask collection
        An array (``numblocks``), or a dataframe, series or bag (``npartitions``).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        When ``collection`` has neither chunks nor partitions.

    Examples
    --------
    >>> import dask.array as da
    >>> n_pieces(da.ones((6, 4), chunks=(2, 4)))
    3
    """
    if hasattr(collection, "npartitions"):
        return int(collection.npartitions)
    if hasattr(collection, "numblocks"):
        import math

        return math.prod(collection.numblocks)
    raise TypeError(f"{type(collection).__name__} has neither chunks nor partitions")


def is_persisted(collection) -> bool:
    """Whether ``collection`` is already computed and held in memory (``persist``): computing it
    runs no task.

    The graph of a persisted collection holds, for each piece, a future (on a cluster) or the
    value itself (local scheduler), plus at most aliases to them; an unpersisted one holds the
    tasks that would compute the pieces.

    Parameters
    ----------
    collection : dask collection

    Returns
    -------
    bool

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.ones(4, chunks=2) + 1
    >>> is_persisted(x), is_persisted(x.persist(scheduler="sync"))
    (False, True)
    """
    from dask._task_spec import Task

    def is_task(value) -> bool:  # a task of the current graph format, or a legacy tuple task
        return isinstance(value, Task) or (
            type(value) is tuple and bool(value) and callable(value[0]))

    return not any(is_task(value) for value in dict(collection.__dask_graph__()).values())


def graph_width(collection) -> int:
    """The most tasks of ``collection``'s graph that could run at the same time.

    Counted as the size of the largest level when tasks are grouped by their depth (the longest
    chain of dependencies below them): a graph of independent pieces is as wide as its number of
    pieces; a chain of tasks has width 1.

    Parameters
    ----------
    collection : dask collection

    Returns
    -------
    int
        0 for an empty graph.

    Examples
    --------
    >>> import dask.array as da
    >>> graph_width(da.ones(8, chunks=2) + 1)
    4
    >>> graph_width((da.ones(8, chunks=2) + 1).sum())
    4
    """
    from dask.core import get_dependencies

    graph = dict(collection.__dask_graph__())
    depth: dict = {}

    def dependencies(key) -> set:
        # A persisted piece (a future) names itself as its dependency: it has none to wait for.
        return get_dependencies(graph, key) - {key}

    def depth_of(key) -> int:
        if key not in depth:
            stack = [key]
            while stack:
                current = stack[-1]
                below = [d for d in dependencies(current) if d not in depth]
                if below:
                    stack.extend(below)
                    continue
                stack.pop()
                depth[current] = 1 + max((depth[d] for d in dependencies(current)), default=-1)
        return depth[key]

    levels: dict[int, int] = {}
    for key in graph:
        level = depth_of(key)
        levels[level] = levels.get(level, 0) + 1
    return max(levels.values(), default=0)


def workers_holding(client, collection) -> set[str]:
    """The addresses of the workers that hold pieces of a persisted ``collection``.

    Waits until the pieces are computed (at most :data:`WAIT_S` seconds).

    Parameters
    ----------
    client : distributed.Client
        The client of the cluster that holds them.
    collection : dask collection
        The student's persisted collection.

    Returns
    -------
    set of str
        Worker addresses; empty when nothing of it is held on the cluster (not persisted, or
        computed with another scheduler).

    Raises
    ------
    NotYet
        When pieces failed, were cancelled (a restarted or closed client) or are still running
        after :data:`WAIT_S` seconds: the hint says which.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> client = Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0",
    ...                 worker_dashboard_address="127.0.0.1:0")
    >>> x = da.ones(4, chunks=2) + 1
    >>> workers_holding(client, x), len(workers_holding(client, client.persist(x)))
    (set(), 1)
    >>> client.close()
    """
    from distributed import futures_of

    futures = futures_of(collection)
    if not futures:
        return set()
    _wait_for_pieces(futures)
    holders = client.who_has(futures)
    return {address for addresses in holders.values() for address in addresses}


#: How long a check waits for a persisted collection to finish computing before it gives a hint.
WAIT_S = 60


def _wait_for_pieces(futures) -> None:
    """Wait for ``futures``; stop the check with a hint if they failed, were lost or take long."""
    from distributed import wait

    try:
        wait(futures, timeout=WAIT_S)  # persist() returns at once; pieces land as they finish
    except TimeoutError:
        require(False,
                es=f"Tu colección sigue calculándose después de {WAIT_S} s: mira el *dashboard* "
                   "(¿hay workers en pausa por memoria?) y vuelve a comprobarla cuando termine.",
                en=f"Your collection is still computing after {WAIT_S} s: look at the dashboard "
                   "(are workers paused for memory?) and check again when it finishes.")
    except Exception:  # noqa: BLE001 - cancelled: distributed's CancelledError types vary
        pass
    statuses = {future.status for future in futures}
    require("error" not in statuses,
            es="Algunos bloques o particiones de tu colección fallaron al calcularse: mira el "
               "error con `.compute()` y corrige el cálculo.",
            en="Some pieces of your collection failed to compute: see the error with "
               "`.compute()` and fix the computation.")
    require(statuses == {"finished"},
            es="Tu colección ya no está en el clúster (¿se reinició o cerró el cliente después "
               "de `persist`?): vuelve a ejecutar las celdas que la construyen.",
            en="Your collection is no longer on the cluster (was the client restarted or closed "
               "after `persist`?): run again the cells that build it.")
