"""Prepare a machine for a class: run every lesson once, headless, before students arrive.

``make prepare`` (optionally ``COURSE_SIZE=full make prepare``) executes every notebook of one
language at the size in ``COURSE_SIZE``. That generates and caches every data set the lessons use
under data/, warms the caches of the libraries, and proves that the machine runs the whole course;
it prints how long each lesson took so the instructor knows which cells to start early. Nothing is
written into the notebooks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.sizes import current_size
from tools.notebook_runner import run_notebook

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson prefixes (default: all)")
    parser.add_argument("--lang", default="en", choices=("es", "en"))
    args = parser.parse_args(argv)
    size = current_size()
    paths = [p for p in sorted((ROOT / "notebooks" / args.lang).glob("*.ipynb"))
             if not args.lessons or any(p.stem.startswith(x) for x in args.lessons)]
    print(f"Preparing {len(paths)} lessons at COURSE_SIZE={size} ...", flush=True)
    for path in paths:
        run = run_notebook(path)
        print(f"  {run.name}: ready in {run.wall_s:.0f} s (slowest cell {run.slowest_cell}: "
              f"{run.slowest_cell_s:.0f} s, peak {run.peak_mib:.0f} MiB)", flush=True)
    print("Data cached under", ROOT / "data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
