"""Execute a notebook cell by cell while timing each cell and sampling the memory of its kernel.

Used by ``make bench`` (``benchmarks.run_benchmarks``) and ``make prepare`` (``tools.prepare``).
The kernel is configured like every course tool's (:func:`tools.course.notebook_client`). The
memory is the RSS summed over the kernel and every process below it (Dask scheduler and workers,
DataLoader workers, a Spark JVM), sampled every :data:`SAMPLE_INTERVAL_S` seconds by
:class:`helpers.measure.ProcessTreeSampler`. Nothing is written back to the notebook.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.course import LANGUAGES, lessons_from_arguments, notebook_client

MIB = 2**20
#: Seconds between two memory samples of the kernel and the processes below it.
SAMPLE_INTERVAL_S = 0.1
# Goals from the course design: per notebook, and for the whole course.
WALL_GOAL_S = 60.0
MEMORY_GOAL_MIB = 1536.0
SLOW_CELL_S = 10.0
COURSE_GOAL_S = 8 * 60.0
SPEEDUP = re.compile(r"\d+(?:\.\d+)?\s?×")
WIDGET = "application/vnd.jupyter.widget-view+json"


@dataclass
class NotebookRun:
    """What one notebook cost."""

    name: str
    wall_s: float = 0.0
    peak_mib: float = 0.0
    slowest_cell: int = -1
    slowest_cell_s: float = 0.0
    slowest_has_progress: bool = False
    speedups: list[str] = field(default_factory=list)

    def goals(self) -> tuple[float, float]:
        return WALL_GOAL_S, MEMORY_GOAL_MIB

    def misses(self) -> list[str]:
        wall_goal, memory_goal = self.goals()
        missed = []
        if self.wall_s > wall_goal:
            missed.append(f"wall {self.wall_s:.0f} s > {wall_goal:.0f} s")
        if self.peak_mib > memory_goal:
            missed.append(f"peak {self.peak_mib:.0f} MiB > {memory_goal:.0f} MiB")
        if self.slowest_cell_s > SLOW_CELL_S and not self.slowest_has_progress:
            missed.append(f"cell {self.slowest_cell} takes {self.slowest_cell_s:.0f} s "
                          "with no progress bar")
        return missed


async def _run_notebook(path: Path) -> NotebookRun:
    import nbformat

    from helpers.measure import ProcessTreeSampler

    notebook = nbformat.read(path, as_version=4)
    client = notebook_client(notebook, path.parent)
    run = NotebookRun(name=path.stem)
    async with client.async_setup_kernel():
        kernel = [client.km.provisioner.pid]
        with ProcessTreeSampler(kernel, interval=SAMPLE_INTERVAL_S) as sampler:
            started = time.perf_counter()
            for index, cell in enumerate(notebook.cells):
                cell_started = time.perf_counter()
                await client.async_execute_cell(cell, index)
                took = time.perf_counter() - cell_started
                if took > run.slowest_cell_s:
                    run.slowest_cell, run.slowest_cell_s = index, took
                    run.slowest_has_progress = any(WIDGET in o.get("data", {})
                                                   for o in cell.get("outputs", []))
                for output in cell.get("outputs", []):
                    text = output.get("text") or output.get("data", {}).get("text/plain", "")
                    run.speedups += [line.strip() for line in text.splitlines()
                                     if SPEEDUP.search(line)]
            run.wall_s = time.perf_counter() - started
        run.peak_mib = sampler.peak_rss / MIB
    return run


def notebooks_from_command_line(description: str,
                                argv: list[str] | None = None) -> tuple[str, list[Path]]:
    """The command line of ``make bench`` and ``make prepare``: ``[--lang en] [PREFIX ...]``.

    Parameters
    ----------
    description : str
        The command's one-line description, for ``--help``.
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    tuple of (str, list of pathlib.Path)
        The language, and its built notebooks of the lessons asked for (all by default).

    Raises
    ------
    SystemExit
        For ``--help``, and with status 2 for a prefix that matches no notebook.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("lessons", nargs="*", help="lesson prefixes, e.g. 03 (default: all)")
    parser.add_argument("--lang", default="en", choices=LANGUAGES)
    args = parser.parse_args(argv)
    return args.lang, lessons_from_arguments(parser, args.lessons, lang=args.lang)


def run_notebook(path: Path) -> NotebookRun:
    """Execute the notebook at ``path`` in a fresh kernel; return what it cost."""
    return asyncio.run(_run_notebook(path))
