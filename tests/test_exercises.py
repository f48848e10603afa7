"""Self-checking exercises: the shared core, and every lesson's checks wired into its notebook."""

import importlib
import inspect
import re

import dask.array as da
import nbformat
import pytest

from helpers.exercises import (
    Feedback,
    correct,
    exercise_check,
    graph_width,
    is_persisted,
    n_pieces,
    require,
    workers_holding,
)
from helpers.i18n import set_language
from tools.bilingual import SOLUTION_TAG
from tools.course import LANGUAGES, lesson_sources, notebook_path

SOURCES = lesson_sources()
IDS = [s.stem[:2] for s in SOURCES]
CHECK_CALL = re.compile(r"\b(check_exercise_\d+)\(")


@exercise_check
def _check_positive(x):
    require(x > 0, es="Mira el signo.", en="Look at the sign.")
    return correct(es="Es positivo.", en="It is positive.")


def test_a_check_says_correct_or_gives_the_first_hint_in_the_lesson_language():
    assert _check_positive(2) == Feedback(True, "Correct", "It is positive.")
    assert _check_positive(-1) == Feedback(False, "Not yet", "Look at the sign.")
    set_language("es")
    assert str(_check_positive(-1)) == "✘ Todavía no: Mira el signo."
    assert str(_check_positive(3)) == "✔ Correcto: Es positivo."


def test_an_answer_of_the_wrong_kind_gets_a_hint_not_a_traceback():
    feedback = _check_positive("two")
    assert not feedback.ok and "TypeError" in feedback.message


def test_a_check_that_forgets_to_return_a_verdict_is_a_bug_of_the_check():
    @exercise_check
    def broken(x):
        require(True, es="-", en="-")

    with pytest.raises(TypeError, match="must return correct"):
        broken(1)


def test_n_pieces_counts_the_blocks_along_every_axis():
    rows, columns = 8, 6
    x = da.ones((rows, columns), chunks=(2, 3))
    assert n_pieces(x) == (rows // 2) * (columns // 3)
    assert n_pieces(x.rechunk((4, columns))) == rows // 4
    assert n_pieces(x.to_dask_dataframe()) == rows // 2  # a dataframe: its partitions


def test_graph_width_is_how_many_tasks_can_run_at_once():
    pieces = 4
    x = da.ones(2 * pieces, chunks=2)
    assert graph_width(x + 1) == pieces  # independent pieces, side by side
    # Joined into one piece: the pieces are still made side by side before the join.
    assert graph_width(x.rechunk(2 * pieces) + 1) == pieces
    assert graph_width(da.ones(2 * pieces, chunks=2 * pieces) + 1) == 1  # one piece: a chain


def test_is_persisted_only_once_the_pieces_are_computed():
    x = da.ones(8, chunks=2) + 1
    assert not is_persisted(x)
    assert is_persisted(x.persist(scheduler="sync"))


def test_persisted_on_the_cluster_and_held_by_its_workers(local_client):
    x = (da.arange(1_000, chunks=100) * 2).persist()
    assert is_persisted(x)
    holders = workers_holding(local_client, x)
    assert holders and holders <= set(local_client.scheduler_info()["workers"])
    assert workers_holding(local_client, da.ones(4, chunks=2)) == set()


def _solution_cells(notebook):
    return [c for c in notebook.cells if SOLUTION_TAG in c.metadata.get("tags", [])]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_every_exercise_has_a_check_the_solution_passes(source):
    module = importlib.import_module(f"helpers.exercises.lesson{source.stem[:2]}")
    checks = {name for name, _ in inspect.getmembers(module, inspect.isfunction)
              if name.startswith("check_exercise_")}
    assert len(checks) >= 2, f"lesson {source.stem[:2]} needs checks for at least two exercises"
    for lang in LANGUAGES:
        notebook = nbformat.read(notebook_path(source, lang), as_version=4)
        called = set()
        for cell in _solution_cells(notebook):
            found = CHECK_CALL.findall(cell.source)
            if not found:
                continue
            called.update(found)
            shown = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                            for o in cell.outputs)
            verdict = "✔ Correcto" if lang == "es" else "✔ Correct"
            assert verdict in shown, f"{source.stem} ({lang}): a solution fails its check: {shown}"
        assert called == checks, f"{source.stem} ({lang}): solutions call {called}, not {checks}"


def test_graph_width_of_a_graph_built_on_persisted_pieces(local_client):
    """A future names itself as its dependency: the width must still be counted, not loop."""
    x = da.ones(8, chunks=2).persist()
    assert graph_width(x + 1) == 4


def test_pieces_that_failed_or_were_lost_get_their_own_hint(local_client):
    from distributed import futures_of

    from helpers.exercises import NotYet

    def boom(block):
        raise ValueError("bad block")

    failed = da.ones(4, chunks=2).map_blocks(boom, dtype=float).persist()
    with pytest.raises(NotYet, match="failed to compute"):
        workers_holding(local_client, failed)
    lost = (da.ones(4, chunks=2) + 1).persist()
    for future in futures_of(lost):
        future.cancel()
    with pytest.raises(NotYet, match="no longer on the cluster"):
        workers_holding(local_client, lost)
