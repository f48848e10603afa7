"""The course's layout and the few rules every tool shares, in one place.

Every tool, benchmark, picture script and test imports these instead of working them out again:

* where things are: :data:`ROOT`, :data:`LESSONS_DIR`, :data:`NOTEBOOKS_DIR`, :data:`DOCS_DIR`,
  :data:`IMAGES_DIR`; which languages the course is built in: :data:`LANGUAGES`;
* which lessons a command is about: :func:`select_lessons` (by name prefix, ``03`` or
  ``03_parallel``; :func:`lessons_from_arguments` on a command line), :func:`lesson_sources`,
  :func:`notebook_path`, and the lessons that also run on an external cluster,
  :data:`EXTERNAL_CLUSTER_LESSONS`;
* how a notebook is executed: :func:`notebook_client` / :func:`execute_notebook`, one kernel, one
  cell timeout (:data:`CELL_TIMEOUT_S`), the notebook's folder as working directory;
* the conditions committed outputs are made in (the default size on a fresh local cluster):
  :func:`committed_output_env` and :func:`committed_output_environment`. The Makefile's
  ``TEST_ENV`` is the same thing for the shell (``tests/test_course_tools.py`` checks they agree).

``tools`` is a package of the project (``pyproject.toml``), so ``import tools.course`` works from
any folder once the course environment is installed (``make venv``). Importing this module reads
no file and starts nothing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# The languages the helpers speak are the languages the course is built in: one definition.
from helpers.i18n import LANGUAGES

__all__ = [
    "CELL_TIMEOUT_S", "COMMITTED_OUTPUT_SETTINGS", "COMMITTED_OUTPUT_UNSET", "DOCS_DIR",
    "EXTERNAL_CLUSTER_LESSONS", "IMAGES_DIR", "KERNEL_NAME", "LANGUAGES", "LESSONS_DIR",
    "NOTEBOOKS_DIR", "ROOT", "committed_output_env", "committed_output_environment",
    "execute_notebook", "lesson_sources", "lessons_from_arguments", "notebook_client",
    "notebook_path", "select_lessons",
]

#: The repository's root folder (``tools/`` lives directly under it).
ROOT = Path(__file__).resolve().parent.parent
#: The bilingual lesson sources, ``NN_slug.md``.
LESSONS_DIR = ROOT / "lessons"
#: The built notebooks, ``<lang>/NN_slug.ipynb``.
NOTEBOOKS_DIR = ROOT / "notebooks"
DOCS_DIR = ROOT / "docs"
IMAGES_DIR = ROOT / "images"

#: The lessons that use a Dask cluster (they call ``get_client()``) and that CI also runs,
#: unchanged, on a real multi-host cluster (``make test-cluster``, :mod:`tools.external_cluster`).
#: Lesson-number prefixes. A test checks that every lesson calling ``get_client(`` is listed.
EXTERNAL_CLUSTER_LESSONS = ("00", "03", "04", "05", "07", "08", "09", "10")

#: Seconds one cell may run when a tool executes a notebook (``make notebooks``, ``make bench``,
#: ``make prepare``, ``make test-latest``, ``make test-cluster``) before it counts as hung.
CELL_TIMEOUT_S = 600
#: The Jupyter kernel every notebook runs in: the Python of the course environment.
KERNEL_NAME = "python3"

#: Committed outputs are made (and re-proved by nbval) at the default data size, with Python's
#: default warning filters...
COMMITTED_OUTPUT_SETTINGS = {"COURSE_SIZE": "small", "PYTHONWARNINGS": ""}
#: ... and on a fresh LocalCluster: an external scheduler's address is ignored.
COMMITTED_OUTPUT_UNSET = ("DASK_SCHEDULER_ADDRESS",)

_SOURCE_PATTERN = "[0-9][0-9]_*.md"
_NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"


def _lesson_files(lang: str | None) -> tuple[Path, list[Path]]:
    """The folder of the sources (``lang=None``) or of one language's notebooks, and its lessons."""
    if lang is None:
        return LESSONS_DIR, sorted(LESSONS_DIR.glob(_SOURCE_PATTERN))
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: use one of {LANGUAGES}, or None for the lesson sources")
    folder = NOTEBOOKS_DIR / lang
    return folder, sorted(folder.glob(_NOTEBOOK_PATTERN))


def select_lessons(prefixes: Iterable[str] = (), lang: str | None = None) -> list[Path]:
    """The lessons whose file name starts with one of ``prefixes``, in lesson order.

    The one way every command (``make notebooks``, ``bench``, ``prepare``, ``test-cluster``)
    turns ``LESSONS="03 04"`` into files.

    Parameters
    ----------
    prefixes : iterable of str, optional
        Starts of lesson names: ``"03"``, ``"03_parallel"``, ``"0"``. None given: every lesson.
    lang : {"es", "en"}, optional
        ``None`` (default): the bilingual sources, ``lessons/NN_*.md``. A language: its built
        notebooks, ``notebooks/<lang>/NN_*.ipynb``.

    Returns
    -------
    list of pathlib.Path
        Each matching lesson once, sorted by lesson number.

    Raises
    ------
    LookupError
        When a prefix matches no lesson: the message names it and lists the lessons there are,
        so that a typo (``LESSONS=3``) is not silently a run of nothing.
    ValueError
        When ``lang`` is not one of :data:`LANGUAGES`.

    Examples
    --------
    >>> [path.name for path in select_lessons(["03"])]
    ['03_parallel_search.md']
    >>> [path.stem[:2] for path in select_lessons(["04", "00"], lang="en")]
    ['00', '04']
    >>> len(select_lessons()) == len(lesson_sources())
    True
    >>> select_lessons(["3"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    LookupError: no lesson in lessons/ starts with '3'; the lessons are 00, 01, ...
    """
    folder, lessons = _lesson_files(lang)
    prefixes = list(prefixes)
    if not prefixes:
        return lessons
    unmatched = [p for p in prefixes if not any(path.name.startswith(p) for path in lessons)]
    if unmatched:
        where = folder.relative_to(ROOT).as_posix() if folder.is_relative_to(ROOT) else folder
        available = ", ".join(path.name[:2] for path in lessons) or "none (build them first)"
        names = ", ".join(repr(p) for p in unmatched)
        raise LookupError(f"no lesson in {where}/ starts with {names}; the lessons are "
                          f"{available}")
    return [path for path in lessons if path.name.startswith(tuple(prefixes))]


def lessons_from_arguments(parser: argparse.ArgumentParser, prefixes: Iterable[str],
                           lang: str | None = None) -> list[Path]:
    """:func:`select_lessons` for a command line: a prefix that matches nothing ends the command.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser: its ``error`` prints the usage and the message, and exits.
    prefixes : iterable of str
        The lesson prefixes given on the command line.
    lang : {"es", "en"}, optional
        As for :func:`select_lessons`.

    Returns
    -------
    list of pathlib.Path
        What :func:`select_lessons` returns.

    Raises
    ------
    SystemExit
        With status 2 (argparse's usage error) when a prefix matches no lesson.
    """
    try:
        return select_lessons(prefixes, lang=lang)
    except LookupError as error:
        parser.error(str(error))


def lesson_sources() -> list[Path]:
    """Every lesson source, ``lessons/NN_*.md``, in lesson order.

    Returns
    -------
    list of pathlib.Path
        :func:`select_lessons` with no prefix.

    Examples
    --------
    >>> lesson_sources()[0].name
    '00_introduction.md'
    """
    return select_lessons()


def notebook_path(source: Path, lang: str) -> Path:
    """Where the built notebook of the lesson source ``source`` in ``lang`` lives.

    Parameters
    ----------
    source : pathlib.Path
        A lesson source, ``lessons/NN_slug.md`` (only its name is used).
    lang : {"es", "en"}
        The notebook's language.

    Returns
    -------
    pathlib.Path
        ``notebooks/<lang>/NN_slug.ipynb`` (which may not exist yet).

    Examples
    --------
    >>> notebook_path(LESSONS_DIR / "03_parallel_search.md", "es").relative_to(ROOT).as_posix()
    'notebooks/es/03_parallel_search.ipynb'
    """
    return NOTEBOOKS_DIR / lang / f"{source.stem}.ipynb"


def notebook_client(notebook, workdir: Path | str):
    """A client that executes ``notebook`` the way every course tool does.

    A fresh :data:`KERNEL_NAME` kernel started in ``workdir`` (so that a lesson's relative paths
    work as in JupyterLab), at most :data:`CELL_TIMEOUT_S` seconds per cell, and no timing
    metadata written into the cells (the committed notebooks stay free of run-to-run noise).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The notebook to run; the client writes the outputs into it.
    workdir : pathlib.Path or str
        The kernel's working directory: the folder the notebook lives (or will live) in.

    Returns
    -------
    nbclient.NotebookClient
        Not started: call ``.execute()`` (or use :func:`execute_notebook`), or
        ``async with client.async_setup_kernel()`` to run cell by cell.

    Examples
    --------
    >>> import nbformat
    >>> client = notebook_client(nbformat.v4.new_notebook(), NOTEBOOKS_DIR / "en")
    >>> client.timeout == CELL_TIMEOUT_S, client.kernel_name, client.record_timing
    (True, 'python3', False)
    """
    from nbclient import NotebookClient

    return NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(workdir)}},
        record_timing=False,
    )


def execute_notebook(notebook, workdir: Path | str):
    """Run every cell of ``notebook`` with :func:`notebook_client`; return the notebook.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        Executed in place: its cells get their outputs.
    workdir : pathlib.Path or str
        The kernel's working directory.

    Returns
    -------
    nbformat.NotebookNode
        ``notebook`` itself, executed.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        When a cell raises; the cells before it keep their outputs.
    nbclient.exceptions.CellTimeoutError
        When a cell runs longer than :data:`CELL_TIMEOUT_S`.
    """
    notebook_client(notebook, workdir).execute()
    return notebook


def committed_output_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` as committed outputs are made in: small data, a fresh local cluster.

    :data:`COMMITTED_OUTPUT_SETTINGS` set (``COURSE_SIZE=small``, ``PYTHONWARNINGS=``) and
    :data:`COMMITTED_OUTPUT_UNSET` removed (``DASK_SCHEDULER_ADDRESS``), whatever the shell says,
    so that ``make notebooks`` writes what nbval re-proves and ``make bench`` measures what
    students run. The Makefile's ``TEST_ENV`` is the same for the shell.

    Parameters
    ----------
    environ : mapping of str to str, optional
        The environment to start from (default: ``os.environ``). It is not changed.

    Returns
    -------
    dict of str to str
        A new environment, e.g. for ``subprocess.run(..., env=...)``.

    Examples
    --------
    >>> env = committed_output_env({"COURSE_SIZE": "full", "HOME": "/home/ana",
    ...                             "DASK_SCHEDULER_ADDRESS": "tcp://10.0.0.5:8786"})
    >>> sorted(env.items())
    [('COURSE_SIZE', 'small'), ('HOME', '/home/ana'), ('PYTHONWARNINGS', '')]
    """
    env = dict(os.environ if environ is None else environ)
    for name in COMMITTED_OUTPUT_UNSET:
        env.pop(name, None)
    env.update(COMMITTED_OUTPUT_SETTINGS)
    return env


@contextmanager
def committed_output_environment() -> Iterator[None]:
    """Inside the block, ``os.environ`` is :func:`committed_output_env`; restored afterwards.

    Kernels started inside the block (:func:`execute_notebook`) inherit it.

    Yields
    ------
    None

    Examples
    --------
    >>> import os
    >>> with committed_output_environment():
    ...     os.environ["COURSE_SIZE"], "DASK_SCHEDULER_ADDRESS" in os.environ
    ('small', False)
    """
    names = [*COMMITTED_OUTPUT_SETTINGS, *COMMITTED_OUTPUT_UNSET]
    saved = {name: os.environ.get(name) for name in names}
    wanted = committed_output_env()
    try:
        _set_variables({name: wanted.get(name) for name in names})
        yield
    finally:
        _set_variables(saved)


def _set_variables(values: Mapping[str, str | None]) -> None:
    """Set each variable of ``os.environ`` to its value; remove those whose value is ``None``."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
