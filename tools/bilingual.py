"""Split one bilingual lesson source into a Spanish and an English notebook.

A lesson source is a jupytext MyST markdown file, ``lessons/NN_slug.md``. Every prose (markdown)
cell is tagged ``es`` or ``en`` and comes as an adjacent pair, Spanish first; every code cell
appears once and goes to both notebooks, unless it too is tagged with a language (a plot whose
labels differ). A code cell tagged ``solution`` is built with its input collapsed. Section
headings get RISE slide metadata, so every notebook can be presented as slides in JupyterLab
(jupyterlab-rise).

:func:`split` does the pure transformation; :func:`check_source` lists what is wrong with a
source (missing language, unpaired prose, mojibake); ``tools.build_notebooks`` executes and writes.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

LANGUAGES = ("es", "en")
ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = ROOT / "lessons"
NOTEBOOKS_DIR = ROOT / "notebooks"
SOLUTION_TAG = "solution"
LESSON_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")

# UTF-8 read as Latin-1/CP1252 (an "í" turned into "\u00c3\u00ad", a curly quote into
# "\u00e2\u20ac\u2122", an "¿" into "\u00c2\u00bf") and the replacement character. Written as
# escapes so that this file itself contains no mojibake.
MOJIBAKE = re.compile(
    "\u00c3[\u0080-\u00bf\u00a0-\u00ff]|\u00e2\u20ac|\u00c2[\u00a1\u00bf\u00b0]|\ufffd"
)
SPANISH_MARKS = re.compile("[áéíóúñüÁÉÍÓÚÑ¿¡]")
HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def lesson_sources() -> list[Path]:
    """All lesson sources, in lesson order."""
    return sorted(LESSONS_DIR.glob("[0-9][0-9]_*.md"))


def notebook_path(source: Path, lang: str) -> Path:
    """Where the built notebook of ``source`` in ``lang`` lives."""
    return NOTEBOOKS_DIR / lang / f"{source.stem}.ipynb"


def read_source(source: Path):
    """Read a lesson source as an nbformat notebook (jupytext MyST)."""
    import jupytext

    return jupytext.read(source, fmt="md:myst")


def cell_languages(cell) -> list[str]:
    """The language tags of a cell (``[]`` for a cell shared by both languages)."""
    return [tag for tag in cell.metadata.get("tags", []) if tag in LANGUAGES]


def split(notebook, lang: str, lesson: str):
    """Return the notebook of one language: shared cells plus the cells tagged ``lang``.

    Language tags are removed, solutions are collapsed, cell ids are made stable, and the
    notebook metadata records the source so that tools can find it.
    """
    import nbformat

    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: use one of {LANGUAGES}")
    out = nbformat.v4.new_notebook()
    out.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"lesson": lesson, "lang": lang, "source": f"lessons/{lesson}.md"},
    }
    for cell in notebook.cells:
        langs = cell_languages(cell)
        if langs and lang not in langs:
            continue
        new = copy.deepcopy(cell)
        tags = [t for t in new.metadata.get("tags", []) if t not in LANGUAGES]
        if tags:
            new.metadata["tags"] = tags
        else:
            new.metadata.pop("tags", None)
        if SOLUTION_TAG in tags:
            new.metadata["jupyter"] = {"source_hidden": True}
        slide_type = _slide_type(new)
        if slide_type:
            new.metadata["slideshow"] = {"slide_type": slide_type}
        if new.cell_type == "code":
            new.outputs = []
            new.execution_count = None
        new["id"] = f"{lang}-{len(out.cells):03d}"
        out.cells.append(new)
    return out


def _slide_type(cell) -> str | None:
    """Slides for presenting (RISE): a new slide at each title or section, a sub-slide per
    sub-section; everything else continues the current slide."""
    if cell.cell_type != "markdown":
        return None
    first_line = cell.source.lstrip().split("\n", 1)[0]
    if first_line.startswith(("# ", "## ")):
        return "slide"
    if first_line.startswith("### "):
        return "subslide"
    return None


def cell_signature(cell) -> tuple:
    """What must agree between a built notebook and a fresh split: type, source, metadata."""
    metadata = {k: v for k, v in cell.metadata.items() if k not in ("execution",)}
    return (cell.cell_type, cell.source, repr(sorted(metadata.items())))


def check_source(source: Path) -> list[str]:
    """Problems with one lesson source, as readable sentences (empty when all is well)."""
    problems = []
    if not LESSON_NAME.match(source.stem):
        problems.append(f"{source.name}: name lessons NN_slug.md (two digits, lower-case slug)")
    raw = source.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return [f"{source.name}: not valid UTF-8 ({error})"]
    for number, line in enumerate(text.splitlines(), 1):
        if MOJIBAKE.search(line):
            problems.append(f"{source.name}:{number}: mojibake or broken accent: {line.strip()!r}")
    notebook = read_source(source)
    prose = []
    for index, cell in enumerate(notebook.cells):
        langs = cell_languages(cell)
        if cell.cell_type == "markdown":
            if len(langs) != 1:
                problems.append(
                    f"{source.name}: markdown cell {index} must be tagged with exactly one "
                    f"of {LANGUAGES}: {cell.source[:60]!r}"
                )
                continue
            prose.append((index, langs[0], cell))
        elif len(langs) > 1:
            problems.append(f"{source.name}: code cell {index} has both language tags")
    problems += _check_pairs(source.name, notebook, prose)
    spanish = " ".join(c.source for _, lang, c in prose if lang == "es")
    if prose and not SPANISH_MARKS.search(spanish):
        problems.append(f"{source.name}: the Spanish prose has no accents or ¿¡ at all")
    for lang in LANGUAGES:
        if not any(lang == lng for _, lng, _ in prose):
            problems.append(f"{source.name}: no prose in {lang!r}")
    return problems


def _images(markdown: str) -> list[str]:
    """Image paths of a prose cell, with a ``_es``/``_en`` suffix made neutral."""
    return [re.sub(r"_(es|en)(\.\w+)$", r"_LANG\2", path) for path in IMAGE.findall(markdown)]


def _check_pairs(name: str, notebook, prose) -> list[str]:
    """Prose cells must come as adjacent (es, en) pairs with the same headings and images."""
    problems = []
    cells = notebook.cells
    i = 0
    while i < len(prose):
        index, lang, cell = prose[i]
        partner = prose[i + 1] if i + 1 < len(prose) else None
        if lang != "es" or partner is None or partner[1] != "en" or partner[0] != index + 1:
            problems.append(
                f"{name}: prose cell {index} ({lang}) has no counterpart: every Spanish cell "
                f"must be followed directly by its English cell: {cell.source[:60]!r}"
            )
            i += 1
            continue
        es, en = cell.source, cells[partner[0]].source
        if HEADING.findall(es) != HEADING.findall(en):
            problems.append(f"{name}: cells {index}/{partner[0]} have different headings")
        if _images(es) != _images(en):
            problems.append(f"{name}: cells {index}/{partner[0]} show different images")
        i += 2
    return problems
