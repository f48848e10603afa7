"""Prepare a machine for a class: run every lesson once, headless, before students arrive.

``make prepare`` (optionally ``COURSE_SIZE=full make prepare``) executes every notebook of one
language at the size in ``COURSE_SIZE``. That generates and caches every data set the lessons use
under data/, warms the caches of the libraries, and proves that the machine runs the whole course;
it prints how long each lesson took so the instructor knows which cells to start early. Nothing is
written into the notebooks.
"""

from __future__ import annotations

import sys

from helpers.data import local_data_dir
from helpers.sizes import current_size
from tools.notebook_runner import notebooks_from_command_line, run_notebook


def main(argv=None) -> int:
    _, paths = notebooks_from_command_line(__doc__.splitlines()[0], argv)
    print(f"Preparing {len(paths)} lessons at COURSE_SIZE={current_size()} ...", flush=True)
    for path in paths:
        run = run_notebook(path)
        print(f"  {run.name}: ready in {run.wall_s:.0f} s (slowest cell {run.slowest_cell}: "
              f"{run.slowest_cell_s:.0f} s, peak {run.peak_mib:.0f} MiB)", flush=True)
    print("Data cached under", local_data_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
