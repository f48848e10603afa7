"""A pytest plugin: skip, saying why, the notebooks that need a program this machine lacks.

The nbval runs load it (``-p tools.system_programs`` in the Makefile). ``tools/system_deps.sh``
decides what is missing (graphviz's ``dot``, Java 17 or newer, Chromium) and installs it where it
can; on a machine where it can't (no root, macOS, Windows), the lessons that need the missing
program are skipped with the reason and the install hint, and ``-rs`` prints every reason. With
``CI`` set nothing is skipped: CI must have everything.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools.course import ROOT

#: Lessons that need a program outside Python, by the name ``system_deps.sh --list`` prints.
LESSONS_NEEDING = {"graphviz": ("00_", "08_"), "java17": ("09_",)}
INSTALL_HINT = "run `make system-deps` (as root on Debian/Ubuntu it installs it) or see the README"


def missing_programs() -> list[str]:
    """The programs the course needs that this machine lacks (graphviz, java17, chromium)."""
    listed = subprocess.run(["bash", str(ROOT / "tools" / "system_deps.sh"), "--browser", "--list"],
                            capture_output=True, text=True, check=True)
    return listed.stdout.split()


def skip_reason(notebook: str, missing: list[str]) -> str | None:
    """Why ``notebook`` (a file name) can't run with ``missing`` programs, or ``None``.

    Examples
    --------
    >>> skip_reason("09_dask_and_spark.ipynb", ["java17"]).split(":")[0]
    '09_dask_and_spark.ipynb needs java17'
    >>> skip_reason("03_parallel_search.ipynb", ["graphviz", "java17"]) is None
    True
    """
    for name in missing:
        if notebook.startswith(LESSONS_NEEDING.get(name, ())):
            return f"{notebook} needs {name}: {INSTALL_HINT}"
    return None


def pytest_collection_modifyitems(config, items):
    notebooks = [item for item in items if str(item.fspath).endswith(".ipynb")]
    if not notebooks or os.environ.get("CI"):
        return
    missing = missing_programs()
    for item in notebooks:
        reason = skip_reason(Path(str(item.fspath)).name, missing)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
