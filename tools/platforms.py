"""Does the pinned set install where students are? Resolve it for 12 platforms, download nothing.

``uv pip compile`` resolves ``requirements.txt`` + ``constraints.txt`` for another platform and
Python without installing anything (it evaluates environment markers for the target, which pip's
``--platform`` does not). This module resolves four platforms (Linux x86_64 and aarch64, macOS 14
on Apple silicon, Windows amd64) for Python 3.11.0 (the oldest patch level: a package that needs
3.11.5 fails here), 3.12 and 3.13, and checks that no Linux target pulls a CUDA package (torch
comes from PyTorch's CPU index on Linux: ``requirements-torch-cpu.txt``, resolved separately).
From the resolved lock it adds up the bytes of every file a student would download.

    python -m tools.platforms             # resolve all targets, print a table
    python -m tools.platforms --write     # ... and write docs/platforms.md

``tests/test_platforms.py`` runs the same checks in ``make test``; where the package index can't
be reached it skips, saying so.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tools.course import DOCS_DIR, ROOT

TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHONS = ("3.11.0", "3.12", "3.13")
#: name shown to people -> uv's --python-platform, extra environment
PLATFORMS = {
    "Linux x86_64": ("x86_64-manylinux_2_28", {}),
    "Linux aarch64": ("aarch64-manylinux_2_28", {}),
    "macOS 14 arm64": ("aarch64-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": "14.0"}),
    "Windows amd64": ("x86_64-pc-windows-msvc", {}),
}
CUDA_PACKAGE = re.compile(r"^(nvidia-|cuda-|cupy|triton$)")
UNREACHABLE = re.compile(r"dns error|failed to lookup address|connect(ion)? (error|refused)|"
                         r"client error \(Connect\)|timed out|Network is unreachable", re.I)


class IndexUnreachable(RuntimeError):
    """The package index could not be reached: nothing was checked."""


@dataclass
class Resolution:
    """One resolved target: its packages (name -> version) and the bytes to download."""

    platform: str
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    download_bytes: int = 0

    @property
    def cuda_packages(self) -> list[str]:
        """Packages of a GPU stack (nvidia-*, cuda-*, triton) in the resolution."""
        return sorted(name for name in self.packages if CUDA_PACKAGE.match(name))


def uv_command() -> list[str]:
    """How to call uv: the one in this environment, else ``python -m uv``."""
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


_CACHE: list[tempfile.TemporaryDirectory] = []


def resolution_cache() -> str:
    """uv's cache for this process's resolutions: a temporary folder, deleted when Python exits.

    pyspark is published only as a source archive, and uv unpacks it (about 480 MB) to read its
    metadata, again for each target, into a new cache entry every time: in the user's own cache
    those entries piled up to tens of GB over repeated test runs. All resolutions of one process
    share this folder, so the index pages and the archive are fetched once.
    """
    if not _CACHE:
        _CACHE.append(tempfile.TemporaryDirectory(prefix="course-uv-cache-"))
    return _CACHE[0].name


def read_lock(text: str) -> tuple[dict[str, str], int]:
    """Packages and total download size from a pylock.toml (PEP 751) that uv wrote.

    Examples
    --------
    >>> lock = '''
    ... [[packages]]
    ... name = "dask"
    ... version = "2025.1.0"
    ... wheels = [{ url = "https://x/dask.whl", size = 1000 }]
    ... [[packages]]
    ... name = "pyspark"
    ... version = "4.3.0"
    ... sdist = { url = "https://x/pyspark.tar.gz", size = 500 }
    ... '''
    >>> read_lock(lock)
    ({'dask': '2025.1.0', 'pyspark': '4.3.0'}, 1500)
    """
    lock = tomllib.loads(text)
    packages, total = {}, 0
    for package in lock.get("packages", []):
        packages[package["name"]] = package.get("version", "")
        files = package.get("wheels") or [package.get("sdist", {})]
        total += max((f.get("size", 0) for f in files), default=0)
    return packages, total


def resolve(platform: str, python: str, requirements=("requirements.txt",),
            extra_index: str | None = None) -> Resolution:
    """Resolve ``requirements`` (with constraints.txt) for one platform and Python.

    Raises
    ------
    IndexUnreachable
        When uv could not reach an index (this machine is offline).
    RuntimeError
        When the set does not resolve; the message is uv's explanation.
    """
    uv_platform, extra_env = PLATFORMS[platform]
    with tempfile.TemporaryDirectory() as tmp:
        lock = Path(tmp) / "pylock.toml"
        command = [*uv_command(), "pip", "compile", "--quiet", "--python-platform", uv_platform,
                   "--python-version", python, "--only-binary", ":all:", "--no-binary", "pyspark",
                   *[str(ROOT / r) for r in requirements], "-c", str(ROOT / "constraints.txt"),
                   "-o", str(lock), "--cache-dir", resolution_cache()]
        if extra_index:
            command += ["--extra-index-url", extra_index]
        env = {**os.environ, **extra_env, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=600)
        if done.returncode != 0:
            if UNREACHABLE.search(done.stderr):
                raise IndexUnreachable(done.stderr.strip().splitlines()[-1])
            raise RuntimeError(f"{platform}, Python {python}: does not resolve\n{done.stderr}")
        packages, size = read_lock(lock.read_text())
    return Resolution(platform, python, packages, size)


def resolve_all() -> list[Resolution]:
    """Every platform x Python; raises on the first failure (see :func:`resolve`)."""
    return [resolve(platform, python) for platform in PLATFORMS for python in PYTHONS]


def torch_cpu(platform: str, python: str) -> Resolution:
    """torch's CPU build for a Linux target, from PyTorch's CPU index."""
    return resolve(platform, python, ("requirements-torch-cpu.txt",), extra_index=TORCH_INDEX)


def report(resolutions: list[Resolution], torch_note: str) -> str:
    """A Markdown table of the resolved targets and their download sizes."""
    lines = [
        "# Where the pinned set installs",
        "",
        "Written by `python -m tools.platforms --write` (uv resolves `requirements.txt` +",
        "`constraints.txt` for each target; nothing is installed). Download = the bytes of every",
        "wheel (and pyspark's sdist) the target gets, from the resolved lock.",
        "",
        "| platform | Python | packages | download (MB) | CUDA packages |",
        "|---|---|---|---|---|",
    ]
    for r in resolutions:
        lines.append(f"| {r.platform} | {r.python} | {len(r.packages)} | "
                     f"{r.download_bytes / 1e6:,.0f} | {', '.join(r.cuda_packages) or 'none'} |")
    lines += ["", f"torch on Linux: {torch_note}", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/platforms.md")
    args = parser.parse_args(argv)
    try:
        resolutions = resolve_all()
    except IndexUnreachable as error:
        print(f"The package index can't be reached, nothing was checked: {error}")
        return 0
    try:
        cpu = torch_cpu("Linux x86_64", "3.12")
        torch_note = (f"torch {cpu.packages.get('torch')} from PyTorch's CPU index, "
                      f"{cpu.download_bytes / 1e6:,.0f} MB with its dependencies.")
    except IndexUnreachable:
        torch_note = ("PyTorch's CPU index could not be reached from the machine that wrote "
                      "this table, so torch's CPU build for Linux is not in these sizes (the "
                      "torch 2.13.0+cpu wheel for CPython 3.11 x86_64 is 192 MB).")
    text = report(resolutions, torch_note)
    print(text)
    if args.write:
        (DOCS_DIR / "platforms.md").write_text(text, encoding="utf-8")
    bad = [r for r in resolutions if r.platform.startswith("Linux") and r.cuda_packages]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
