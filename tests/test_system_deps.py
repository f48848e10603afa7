"""tools/system_deps.sh finds what is missing, Java older than 17 included, and never fails for
it outside CI; the nbval plugin then skips the lessons that need it, saying why."""

import os
import shutil
import subprocess

import pytest

from tools.course import ROOT
from tools.system_programs import skip_reason

SCRIPT = ROOT / "tools" / "system_deps.sh"


def _path_with(tmp_path, java_version: str | None):
    """A PATH with only the tools the script uses, and a fake `java` of the given version."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sed", "grep", "head", "id", "cat"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    if java_version:
        java = bin_dir / "java"
        java.write_text(f'#!/bin/sh\necho \'openjdk version "{java_version}" 2025-04-15\' >&2\n')
        java.chmod(0o755)
    return str(bin_dir)


def _run(path, *args, ci=False):
    env = {"PATH": path, **({"CI": "true"} if ci else {})}
    return subprocess.run([shutil.which("bash"), str(SCRIPT), *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("java, missing", [
    (None, ["graphviz", "java17", "chromium"]),
    ("11.0.22", ["graphviz", "java17", "chromium"]),  # Ubuntu 22.04's default JRE
    ("17.0.15", ["graphviz", "chromium"]),
    ("21.0.5", ["graphviz", "chromium"]),
])
def test_lists_what_is_missing(tmp_path, java, missing):
    assert _run(_path_with(tmp_path, java), "--browser", "--list").stdout.split() == missing


def test_missing_programs_warn_loudly_but_fail_only_in_ci(tmp_path):
    path = _path_with(tmp_path, "11.0.22")
    relaxed = _run(path, "--browser")
    assert relaxed.returncode == 0
    assert "java 11 found; Spark 4 needs 17 or newer" in relaxed.stderr
    assert "Tests that need them are skipped" in relaxed.stderr
    assert _run(path, "--browser", ci=True).returncode == 1


def test_notebooks_needing_a_missing_program_are_skipped_with_the_reason():
    assert "needs graphviz" in skip_reason("08_neural_networks_data_parallel.ipynb", ["graphviz"])
    assert skip_reason("00_introduction.ipynb", ["java17", "chromium"]) is None
