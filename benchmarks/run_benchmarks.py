"""Benchmark the course: execute every notebook headless and record what it costs (`make bench`).

For each notebook of one language (English by default) at the default size it records the wall
time, the slowest cell (and whether that cell shows a progress bar), the peak memory of the kernel
and every process below it (the Dask cluster, DataLoader workers, a Spark JVM), sampled every
0.1 s, and the speed-ups the lesson itself printed (lines with a number followed by "×"). It writes
benchmarks/results.md, benchmarks/results.csv and benchmarks/results.png and prints which notebooks
miss the course's goals. It is a measurement, not a test: it exits 0 whatever it finds (unless a
notebook fails to run). The notebooks run in the conditions of the committed outputs
(:func:`tools.course.committed_output_environment`), whatever the shell says. From the
repository root::

    python -m benchmarks.run_benchmarks [--lang en] [LESSON_PREFIX ...]
"""

from __future__ import annotations

import csv
import os
import platform
import sys
import time
from pathlib import Path

from tools.course import ROOT, committed_output_environment
from tools.notebook_runner import (
    COURSE_GOAL_S,
    NotebookRun,
    notebooks_from_command_line,
    run_notebook,
)

OUT = ROOT / "benchmarks"


def machine_description() -> str:
    """CPU model, cores, memory and Python version of this machine."""
    import psutil

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
            f"{platform.system()}, Python {platform.python_version()}")


def _table_text(lines: list[str]) -> str:
    """Printed lines as one Markdown table cell: pipes escaped, one line per <br>."""
    return "<br>".join(line.replace("|", "\\|") for line in lines) or "-"


def write_reports(runs: list[NotebookRun], lang: str) -> None:
    """Write results.md, results.csv and results.png next to this script."""
    total = sum(r.wall_s for r in runs)
    with open(OUT / "results.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "wall_s", "peak_mib", "slowest_cell", "slowest_cell_s",
                         "slowest_has_progress", "goals_missed", "speedups"])
        for r in runs:
            writer.writerow([r.name, f"{r.wall_s:.1f}", f"{r.peak_mib:.0f}", r.slowest_cell,
                             f"{r.slowest_cell_s:.1f}", r.slowest_has_progress,
                             "; ".join(r.misses()), " | ".join(r.speedups)])
    lines = [
        "# Course benchmark",
        "",
        f"Measured by `make bench` (notebooks/{lang}, COURSE_SIZE=small) on: "
        f"{machine_description()}.",
        f"Date: {time.strftime('%Y-%m-%d')}. Peak memory is the RSS summed over the kernel and "
        "every process below it (Dask scheduler and workers, DataLoader workers, Spark JVM), "
        "sampled every 0.1 s.",
        "",
        "| notebook | wall (s) | peak (MiB) | slowest cell (s) | goals missed "
        "| speed-ups printed |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in runs:
        bar = ", progress bar" if r.slowest_has_progress else ""
        cell = f"{r.slowest_cell_s:.1f} (cell {r.slowest_cell}{bar})"
        lines.append(f"| {r.name} | {r.wall_s:.1f} | {r.peak_mib:.0f} | {cell} | "
                     f"{'; '.join(r.misses()) or 'none'} | {_table_text(r.speedups)} |")
    lines += ["", f"Whole course: {total:.0f} s (goal ≤ {COURSE_GOAL_S:.0f} s: "
              f"{'met' if total <= COURSE_GOAL_S else 'MISSED'}).", "",
              "![wall time and peak memory per notebook](results.png)", ""]
    (OUT / "results.md").write_text("\n".join(lines), encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import use_course_style

    use_course_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = [r.name[:2] for r in runs]
    left.bar(names, [r.wall_s for r in runs])
    right.bar(names, [r.peak_mib for r in runs], color="#ff7f0e")
    # Each notebook's own goal (the Spark lesson is allowed more) as a dash across its bar.
    starts = [i - 0.45 for i in range(len(runs))]
    ends = [i + 0.45 for i in range(len(runs))]
    for ax, goal_index, ylabel in ((left, 0, "wall time (s)"),
                                  (right, 1, "peak memory, kernel + cluster (MiB)")):
        ax.hlines([r.goals()[goal_index] for r in runs], starts, ends, colors="red",
                  linestyles="--", label="goal")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left")
    for ax in (left, right):
        ax.set_xlabel("lesson")
    fig.tight_layout()
    fig.savefig(OUT / "results.png", dpi=90, metadata={"Software": None})


def main(argv=None) -> int:
    lang, paths = notebooks_from_command_line(__doc__.splitlines()[0], argv)
    runs = []
    with committed_output_environment():
        for path in paths:
            run = run_notebook(path)
            runs.append(run)
            status = "; ".join(run.misses()) or "meets the goals"
            print(f"{run.name}: {run.wall_s:.1f} s, peak {run.peak_mib:.0f} MiB, slowest cell "
                  f"{run.slowest_cell_s:.1f} s -> {status}", flush=True)
    write_reports(runs, lang)
    total = sum(r.wall_s for r in runs)
    missing = [r for r in runs if r.misses()]
    names = ", ".join(r.name for r in missing) or "none"
    print(f"\nWhole course: {total:.0f} s (goal {COURSE_GOAL_S:.0f} s). "
          f"{len(missing)} notebook(s) miss a goal: {names}.")
    print(f"Wrote {OUT / 'results.md'}, results.csv, results.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
