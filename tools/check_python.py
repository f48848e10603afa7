"""Is this Python one the course supports? Run by ``make`` before it creates the environment.

Standard library only, so that it runs under any Python 3 and explains what to install::

    python3 tools/check_python.py      # exit 0 and say nothing when this Python fits

The pinned set installs on CPython 3.11 (any patch level), 3.12 and 3.13, on Linux (x86_64 and
aarch64), macOS on Apple silicon and Windows (see ``tools/platforms.py``). Python 3.14 is not
supported yet: tensorflow 2.21 and h5py have no wheels for it.
"""

from __future__ import annotations

import sys

SUPPORTED = ((3, 11), (3, 12), (3, 13))

HOW_TO_INSTALL = """\
Install Python 3.11, 3.12 or 3.13, then run make again (or point make at it:
make PYTHON=/path/to/python3.12 lab):
  Ubuntu 24.04:   sudo apt install python3.12 python3.12-venv     (its default Python)
  Debian 13:      sudo apt install python3.13 python3.13-venv     (its default Python)
  Debian 12:      sudo apt install python3.11 python3.11-venv
  Fedora:         sudo dnf install python3.13
  macOS:          brew install python@3.13
  Windows:        winget install Python.Python.3.13   (then use the commands in the README)
  conda:          conda env create -f environment.yml"""


def problem(version=sys.version_info, has_venv: bool | None = None) -> str | None:
    """Why this Python can't build the course environment, or ``None`` when it can.

    Examples
    --------
    >>> problem((3, 12, 1), has_venv=True) is None
    True
    >>> print(problem((3, 14, 0), has_venv=True).splitlines()[0])
    Python 3.14 is not supported yet: tensorflow 2.21 and h5py publish no wheels for it.
    >>> print(problem((3, 10, 12), has_venv=True).splitlines()[0])
    Python 3.10 is too old for the course: it needs 3.11, 3.12 or 3.13.
    """
    major_minor = tuple(version[:2])
    name = f"Python {major_minor[0]}.{major_minor[1]}"
    if major_minor > SUPPORTED[-1]:
        return (f"{name} is not supported yet: tensorflow 2.21 and h5py publish no wheels for it.\n"
                + HOW_TO_INSTALL)
    if major_minor < SUPPORTED[0]:
        return f"{name} is too old for the course: it needs 3.11, 3.12 or 3.13.\n" + HOW_TO_INSTALL
    if has_venv is None:
        try:
            import ensurepip  # noqa: F401
            import venv  # noqa: F401
            has_venv = True
        except ImportError:
            has_venv = False
    if not has_venv:
        return (f"{name} has no venv module. Debian/Ubuntu: sudo apt install "
                f"python{major_minor[0]}.{major_minor[1]}-venv")
    return None


if __name__ == "__main__":
    message = problem()
    if message:
        print(message, file=sys.stderr)
        sys.exit(1)
