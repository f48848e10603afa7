"""Build the Spanish and English notebooks from the bilingual lesson sources, and execute them.

Usage (from the repository root, inside the course environment)::

    python -m tools.build_notebooks                 # every lesson, both languages, executed
    python -m tools.build_notebooks 03 04           # lessons whose name starts with 03 or 04
    python -m tools.build_notebooks --lang en 05    # one language only
    python -m tools.build_notebooks --no-execute    # split only (outputs are dropped)

Notebooks are executed by :func:`tools.course.execute_notebook` in the conditions of committed
outputs (:func:`tools.course.committed_output_environment`: ``COURSE_SIZE=small`` on a fresh
LocalCluster, whatever ``DASK_SCHEDULER_ADDRESS`` says), so committed outputs are those nbval
re-proves in CI.
Each executed notebook gets a version stamp (``tools.stamp``), and the README's lesson map the
date each lesson was last verified.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tools.bilingual import check_source, read_source, split
from tools.course import (
    LANGUAGES,
    ROOT,
    committed_output_environment,
    execute_notebook,
    lesson_sources,
    lessons_from_arguments,
    notebook_path,
)
from tools.stamp import add_stamp, read_stamp, update_readme


def build(source: Path, langs, run: bool) -> None:
    """Split ``source`` into its notebooks (executing them when ``run``) and write them."""
    import nbformat

    problems = check_source(source)
    if problems:
        raise SystemExit("Fix the lesson source first:\n  " + "\n  ".join(problems))
    bilingual = read_source(source)
    for lang in langs:
        target = notebook_path(source, lang)
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = split(bilingual, lang, source.stem)
        started = time.perf_counter()
        if run:
            execute_notebook(notebook, target.parent)
            add_stamp(notebook, lang)
        nbformat.validate(notebook)
        nbformat.write(notebook, target)
        took = f" executed in {time.perf_counter() - started:.1f} s" if run else ""
        print(f"{target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}"
              f"{took}", flush=True)


def record_verification_dates() -> None:
    """Write into the README's lesson map the date each lesson was verified in both languages."""
    import nbformat

    dates = {}
    for source in lesson_sources():
        stamps = [read_stamp(nbformat.read(notebook_path(source, lang), as_version=4))
                  for lang in LANGUAGES if notebook_path(source, lang).exists()]
        if stamps and all(stamps):
            dates[source.stem[:2]] = min(date for date, _ in stamps)
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    updated = update_readme(text, dates)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson name prefixes, e.g. 03 or 03_parallel")
    parser.add_argument("--lang", choices=LANGUAGES, action="append", help="only this language")
    parser.add_argument("--no-execute", action="store_true", help="split without executing")
    args = parser.parse_args(argv)

    sources = lessons_from_arguments(parser, args.lessons)
    with committed_output_environment():
        for source in sources:
            build(source, args.lang or LANGUAGES, run=not args.no_execute)
    if not args.no_execute:
        record_verification_dates()
    return 0


if __name__ == "__main__":
    sys.exit(main())
