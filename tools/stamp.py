"""Version stamps: every built notebook says when, and with which versions, it was last executed.

``tools.build_notebooks`` appends one markdown cell, tagged ``version-stamp``, to each notebook it
executes, and writes the date into the "verified" column of the README's lesson map. Markdown is
not compared by nbval, so the stamp needs no sanitising; ``tests/test_stamp.py`` checks that
every notebook carries one, that it names the pinned dask, and that the README agrees.
"""

from __future__ import annotations

import ast
import datetime
import platform
import re
from importlib import metadata

STAMP_TAG = "version-stamp"
#: Packages every lesson's stamp names, whether or not it imports them directly.
CORE_PACKAGES = ("dask", "distributed", "numpy", "pandas", "scikit-learn")
#: Import name -> the name the stamp shows, for the packages a lesson may add.
LESSON_PACKAGES = {
    "dask_ml": "dask-ml",
    "optuna": "optuna",
    "xgboost": "xgboost",
    "torch": "torch",
    "keras": "keras",
    "tensorflow": "tensorflow",
    "pyspark": "pyspark",
}
_TEXT = {
    "es": "*Lección ejecutada y verificada el {date} con {versions}. `make notebooks` la vuelve a "
          "ejecutar y actualiza esta línea.*",
    "en": "*Lesson executed and verified on {date} with {versions}. `make notebooks` runs it again "
          "and updates this line.*",
}
_ITEM = re.compile(r"(?P<name>[A-Za-z][\w.-]*) (?P<version>\d[\w.+-]*)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def imported_packages(code_cells) -> list[str]:
    """The stamp names of the :data:`LESSON_PACKAGES` that these code cells import.

    Examples
    --------
    >>> imported_packages(["import torch.nn as nn", "from xgboost import dask as dxgb", "%time 1"])
    ['xgboost', 'torch']
    """
    found = set()
    for code in code_cells:
        lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            found.update(LESSON_PACKAGES[m.split(".")[0]] for m in modules
                         if m.split(".")[0] in LESSON_PACKAGES)
    return sorted(found, key=list(LESSON_PACKAGES.values()).index)


def installed_version(name: str) -> str:
    """The installed version of a package by import or distribution name (``-cpu`` builds too).

    Examples
    --------
    >>> installed_version("numpy") == __import__("numpy").__version__
    True
    """
    module = name.replace("-", "_")
    if module == "scikit_learn":
        module = "sklearn"
    distributions = metadata.packages_distributions().get(module, [name])
    return metadata.version(distributions[0])


def stamp_text(lang: str, versions: dict[str, str], date: str) -> str:
    """The stamp's sentence in ``lang``.

    Examples
    --------
    >>> stamp_text("en", {"Python": "3.11.7", "dask": "2026.8.0"}, "2026-11-30")[:73]
    '*Lesson executed and verified on 2026-11-30 with Python 3.11.7, dask 2026'
    """
    listed = ", ".join(f"{name} {version}" for name, version in versions.items())
    return _TEXT[lang].format(date=date, versions=listed)


def add_stamp(notebook, lang: str, today: datetime.date | None = None):
    """Replace ``notebook``'s stamp (if any) by one for this environment and ``today``."""
    import nbformat

    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    names = (*CORE_PACKAGES, *imported_packages(code))
    versions = {"Python": platform.python_version(), **{n: installed_version(n) for n in names}}
    date = (today or datetime.date.today()).isoformat()
    notebook.cells = [c for c in notebook.cells if STAMP_TAG not in c.metadata.get("tags", [])]
    cell = nbformat.v4.new_markdown_cell(stamp_text(lang, versions, date),
                                         metadata={"tags": [STAMP_TAG]})
    cell.pop("id", None)
    notebook.cells.append(cell)
    return notebook


def read_stamp(notebook) -> tuple[str, dict[str, str]] | None:
    """``(date, {package: version})`` from ``notebook``'s stamp, or ``None`` when it has none.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_markdown_cell(stamp_text("es", {"dask": "2026.8.0"},
    ...             "2026-11-30"), metadata={"tags": [STAMP_TAG]})]
    >>> read_stamp(nb)
    ('2026-11-30', {'dask': '2026.8.0'})
    """
    stamps = [c for c in notebook.cells if STAMP_TAG in c.metadata.get("tags", [])]
    if not stamps:
        return None
    text = stamps[-1].source
    date = _DATE.search(text).group()
    listed = text.split(" con " if " con " in text else " with ", 1)[1].split(". ", 1)[0]
    return date, {m["name"]: m["version"] for m in _ITEM.finditer(listed)}


def without_stamp(cells) -> list:
    """The cells that came from the lesson source (all but the stamp)."""
    return [c for c in cells if STAMP_TAG not in c.metadata.get("tags", [])]


README_ROW = re.compile(r"^\| (?P<number>\d\d) \|(?P<middle>.*)\| (?P<date>\d{4}-\d\d-\d\d|–) \|$",
                        re.MULTILINE)


def update_readme(readme: str, dates: dict[str, str]) -> str:
    """Write each lesson's verification date (``{"03": "2026-11-30"}``) into the lesson map.

    Examples
    --------
    >>> update_readme("| 03 | a | b | 80 min | – |", {"03": "2026-11-30"})
    '| 03 | a | b | 80 min | 2026-11-30 |'
    """
    def replace(match):
        date = dates.get(match["number"], match["date"])
        return f"| {match['number']} |{match['middle']}| {date} |"

    return README_ROW.sub(replace, readme)


def readme_dates(readme: str) -> dict[str, str]:
    """``{"03": "2026-11-30", …}`` as the README's lesson map states them."""
    return {m["number"]: m["date"] for m in README_ROW.finditer(readme)}
