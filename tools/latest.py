"""`make test-latest`: the course on the newest releases of its direct dependencies.

The course's drift detector. It creates a throwaway virtual environment, installs the newest
release of every package requirements.txt names (its pins dropped, its platform markers kept),
runs the unit tests there and executes every lesson from its source in both languages (as
``make notebooks`` does, into a temporary folder: the committed notebooks are not touched), and
writes a short report (``docs/latest-report.md`` by default) of what changed and what breaks: a
cell that fails (an error, or a ``check()`` that no longer holds) or that writes to stderr (a new
warning). Outputs are not compared with the committed ones: new numbers are not breaks. It is not
part of ``make test``: the newest releases change under it, so it can't be a gate, only a warning.

torch stays at the pinned CPU build (requirements-torch-cpu.txt): on Linux PyPI's newest torch is
the CUDA build, several GB that a CPU course never uses.

Usage::

    python -m tools.latest [--python python3.11] [--report docs/latest-report.md] [--keep DIR]
    python -m tools.latest --execute-lessons OUT.json   # inside that venv: what it runs there
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tools.course import (
    DOCS_DIR,
    LANGUAGES,
    ROOT,
    committed_output_env,
    committed_output_environment,
    execute_notebook,
    lesson_sources,
    notebook_path,
)

TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
#: Packages kept at their pins, with the reason the report gives.
KEPT_PINNED = {"torch": "PyPI's newest Linux torch is the CUDA build; the pinned CPU build stays"}


def unpinned_requirements(text: str) -> list[str]:
    """requirements.txt's lines without their ``==`` pins (markers kept, kept-pinned left out).

    Examples
    --------
    >>> unpinned_requirements("dask[array]==2026.8.0\\n# comment\\n"
    ...     'xgboost-cpu==3.2.0; sys_platform != "darwin"\\ntorch==2.13.0')
    ['dask[array]', 'xgboost-cpu; sys_platform != "darwin"']
    """
    lines = []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        requirement, _, marker = line.partition(";")
        name = requirement.split("==")[0].strip()
        if re.sub(r"\[.*\]", "", name) in KEPT_PINNED:
            continue
        lines.append(f"{name}; {marker.strip()}" if marker.strip() else name)
    return lines


def pinned_versions(text: str) -> dict[str, str]:
    """``{name: version}`` for the pins in requirements.txt that apply to this platform.

    Extras are dropped and names normalised; a pin whose environment marker excludes this
    machine (``xgboost`` on Linux, where ``xgboost-cpu`` applies) is left out.

    Examples
    --------
    >>> pinned_versions("dask[array]==2026.8.0\\nScikit_Learn==1.9.1 ; python_version > '3'\\n"
    ...                 "torch==2.13.0; python_version < '3'")
    {'dask': '2026.8.0', 'scikit-learn': '1.9.1'}
    """
    from packaging.markers import Marker

    pins = {}
    for line in text.splitlines():
        requirement, _, marker = line.split("#")[0].partition(";")
        if "==" not in requirement or (marker.strip() and not Marker(marker).evaluate()):
            continue
        name, version = requirement.strip().split("==")
        pins[_normal(re.sub(r"\[.*\]", "", name))] = version.strip()
    return pins


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _run(command: list[str], log: Path, env: dict | None = None) -> int:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        return subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                              env=env).returncode


def create_environment(python: str, venv: Path, log: Path) -> None:
    """A venv with the pinned CPU torch and the newest release of everything else."""
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    steps = [[python, "-m", "venv", str(venv)], [*pip, "install", "--upgrade", "pip>=24"]]
    if sys.platform == "linux":
        steps.append([*pip, "install", "--retries", "1", "--extra-index-url", TORCH_INDEX,
                      "-r", "requirements-torch-cpu.txt", "-c", "constraints.txt"])
    latest = venv / "requirements-latest.txt"
    steps.append(None)  # written below, once the venv exists
    steps.append([*pip, "install", "--no-deps", "-e", "."])
    for step in steps:
        if step is None:
            latest.write_text("\n".join(unpinned_requirements(
                (ROOT / "requirements.txt").read_text())) + "\n")
            step = [*pip, "install", "--upgrade", "--upgrade-strategy", "eager", "-r", str(latest)]
        if _run(step, log) != 0:
            raise SystemExit(f"test-latest: `{' '.join(step)}` failed; see {log}")


def installed(venv: Path) -> dict[str, str]:
    """``{name: version}`` of every distribution in ``venv``."""
    listing = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format",
                              "json"], capture_output=True, text=True, check=True).stdout
    return {_normal(p["name"]): p["version"] for p in json.loads(listing)}


def failures(junit: Path) -> dict[str, list[str]]:
    """``{test file: [one line per failed test]}`` from a pytest JUnit XML report."""
    found: dict[str, list[str]] = {}
    if not junit.exists():
        return {"(pytest)": ["no report: pytest did not run (see the log)"]}
    for case in ET.parse(junit).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        message = (problem.get("message") or problem.text or "").strip().splitlines()
        first = next((line for line in message if line.strip()), "")[:200]
        where = case.get("file") or case.get("classname", "?")
        found.setdefault(where, []).append(f"{case.get('name')}: {first}")
    return found


def totals(junit: Path) -> str:
    """"N passed, N failed, N skipped" from a JUnit XML report."""
    if not junit.exists():
        return "did not run"
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, failed = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    skipped = int(suite.get("skipped"))
    return f"{tests - failed - skipped} passed, {failed} failed, {skipped} skipped"


def execute_lessons(out: Path) -> None:
    """Execute every lesson in both languages in this environment; write what broke to ``out``.

    ``out`` gets a JSON list of ``{"notebook", "error", "stderr"}``: the first failing cell's
    last error line, and the first line of each cell's stderr output (empty when all is well).
    """
    from nbclient.exceptions import CellExecutionError

    from tools.bilingual import read_source, split

    results = []
    with committed_output_environment():
        for source in lesson_sources():
            for lang in LANGUAGES:
                notebook = split(read_source(source), lang, source.stem)
                entry = {"notebook": f"{lang}/{source.stem}", "error": "", "stderr": []}
                try:
                    execute_notebook(notebook, notebook_path(source, lang).parent)
                except CellExecutionError as error:
                    lines = [line for line in str(error).splitlines() if line.strip()]
                    entry["error"] = lines[-1][:300] if lines else type(error).__name__
                for index, cell in enumerate(notebook.cells):
                    for output in cell.get("outputs", []):
                        if output.get("name") == "stderr" and output.get("text", "").strip():
                            first = output["text"].strip().splitlines()[0][:200]
                            entry["stderr"].append(f"cell {index}: {first}")
                results.append(entry)
                print(entry["notebook"], "error" if entry["error"] else "ok",
                      f"{len(entry['stderr'])} stderr" if entry["stderr"] else "", flush=True)
    out.write_text(json.dumps(results, indent=1))


def notebook_lines(results: list[dict]) -> list[str]:
    """The report's section on the lessons, from :func:`execute_lessons`'s results.

    Examples
    --------
    >>> for line in notebook_lines([
    ...         {"notebook": "en/00_x", "error": "", "stderr": []},
    ...         {"notebook": "es/09_y", "error": "", "stderr": ["cell 3: FutureWarning"]}]):
    ...     print(line)
    - `es/09_y`: ran to the end, but writes to stderr:
      - cell 3: FutureWarning
    <BLANKLINE>
    1 notebook ran clean.
    """
    lines, clean = [], 0
    for entry in results:
        if entry["error"]:
            lines.append(f"- `{entry['notebook']}`: **fails**: {entry['error']}")
        elif entry["stderr"]:
            lines.append(f"- `{entry['notebook']}`: ran to the end, but writes to stderr:")
        else:
            clean += 1
            continue
        lines += [f"  - {item}" for item in entry["stderr"][:5]]
        if len(entry["stderr"]) > 5:
            lines.append(f"  - … and {len(entry['stderr']) - 5} more cells")
    return [*lines, "", f"{clean} notebook{'s' if clean != 1 else ''} ran clean."]


def write_report(path: Path, pins: dict, versions: dict, runs: dict, minutes: float,
                 lessons: list[dict]) -> None:
    """The Markdown report: what moved, and what each run says."""
    # A local version label (torch's "+cpu") is the same release.
    moved = [(name, pins[name], versions.get(name, "not installed")) for name in sorted(pins)
             if versions.get(name, "").split("+")[0] != pins[name].split("+")[0]]
    lines = [
        "# The course on the newest releases (`make test-latest`)", "",
        f"Run on {datetime.date.today().isoformat()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, in {minutes:.0f} min. Every package "
        "requirements.txt names at its newest release (pins dropped, markers kept), except: "
        + "; ".join(f"{k} ({v})" for k, v in KEPT_PINNED.items()) + ".", "",
        "## What is newer than the pins", "",
    ]
    if moved:
        lines += ["| package | pinned | newest |", "|---|---|---|"]
        lines += [f"| {name} | {pinned} | {newest} |" for name, pinned, newest in moved]
    else:
        lines.append("Nothing: every direct dependency is pinned at its newest release.")
    for title, junit in runs.items():
        lines += ["", f"## {title}: {totals(junit)}", ""]
        broken = failures(junit)
        if not broken:
            lines.append("Everything passed.")
        for where, items in broken.items():
            lines.append(f"- `{where}`: {len(items)} failed")
            lines += [f"  - {item}" for item in items[:5]]
            if len(items) > 5:
                lines.append(f"  - … and {len(items) - 5} more")
    failed = sum(bool(entry["error"]) for entry in lessons)
    lines += ["", f"## Lessons, both languages: {len(lessons) - failed} of {len(lessons)} ran "
              "to the end", "",
              "Executed from the lesson sources at the default size; a failure is an error or a "
              "`check()` that no longer holds, and stderr output is a new warning (the course "
              "keeps its notebooks quiet).", "", *notebook_lines(lessons), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    parser.add_argument("--report", type=Path, default=DOCS_DIR / "latest-report.md")
    parser.add_argument("--keep", type=Path, help="create the venv here and keep it")
    parser.add_argument("--execute-lessons", type=Path, metavar="OUT_JSON",
                        help="(run inside the new venv) execute every lesson, write the results")
    args = parser.parse_args(argv)
    if args.execute_lessons:
        execute_lessons(args.execute_lessons)
        return 0

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="course-latest-"))
    venv = args.keep or workdir / "venv"
    log = workdir / "test-latest.log"
    print(f"test-latest: building {venv} (log: {log})", flush=True)
    create_environment(args.python, venv, log)
    env = committed_output_env()
    python = str(venv / "bin" / "python")
    runs = {"Unit tests": workdir / "unit.xml"}
    print("test-latest: unit tests", flush=True)
    # The committed notebooks' own checks (in sync with the sources, executed with the pinned
    # dask) are about the pinned set; the lessons are executed afresh below instead.
    _run([python, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "--ignore=tests/browser",
          "--ignore=tests/external_cluster", "--deselect=tests/test_stamp.py",
          f"--junitxml={runs['Unit tests']}"], log, env)
    print("test-latest: every lesson, both languages", flush=True)
    lessons_json = workdir / "lessons.json"
    _run([python, "-m", "tools.latest", "--execute-lessons", str(lessons_json)], log, env)
    lessons = json.loads(lessons_json.read_text()) if lessons_json.exists() else [
        {"notebook": "(all)", "error": f"the lessons did not run: see {log}", "stderr": []}]
    pins = pinned_versions((ROOT / "requirements.txt").read_text())
    write_report(args.report, pins, installed(venv), runs, (time.perf_counter() - started) / 60,
                 lessons)
    print(f"test-latest: report in {args.report}", flush=True)
    if not args.keep:
        shutil.rmtree(venv, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
