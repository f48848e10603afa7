"""Split one bilingual lesson source into a Spanish and an English notebook.

A lesson source is a jupytext MyST markdown file, ``lessons/NN_slug.md``. Every prose (markdown)
cell is tagged ``es`` or ``en`` and comes as an adjacent pair, Spanish first; every code cell
appears once and goes to both notebooks. Code is written once; what the student reads in it is
written twice and chosen at build time by :func:`localize_code`:

* ``tr(es="…", en="…")`` -- a string (or f-string) in each language. The built notebook holds
  the plain literal of its language, so students never see ``tr``: ``print(tr(es=f"{n} filas",
  en=f"{n} rows"))`` becomes ``print(f"{n} filas")`` in Spanish.
* ``# es: …`` / ``# en: …`` -- a full-line comment in each language; the other language's lines
  are dropped and the tag is removed.

A code cell tagged ``solution`` is built with its input and outputs collapsed. Section headings
get RISE slide metadata, so every notebook can be presented as slides in JupyterLab
(jupyterlab-rise).

:func:`split` does the pure transformation; :func:`check_source` lists what is wrong with a
source (missing language, unpaired prose, untranslated comments, mojibake);
``tools.build_notebooks`` executes and writes.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import re
import tokenize
from pathlib import Path

from tools.course import LANGUAGES
from tools.navigation import add_navigation

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
#: The build-time marker for a string written in both languages.
TRANSLATION_CALL = "tr"
#: A full-line comment in one language: ``# es: …`` or ``# en: …``.
LANGUAGE_COMMENT = re.compile(r"^(?P<indent>[ \t]*)#[ \t]*(?P<lang>es|en):[ \t]?(?P<text>.*)$")
#: Comments for tools, not for students: they need no translation.
TOOL_COMMENT = re.compile(r"^#\s*(noqa|type:|fmt:|pragma)")


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
            new.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
        slide_type = _slide_type(new)
        if slide_type:
            new.metadata["slideshow"] = {"slide_type": slide_type}
        if new.cell_type == "code":
            new.source = localize_code(new.source, lang)
            new.outputs = []
            new.execution_count = None
        new["id"] = f"{lang}-{len(out.cells):03d}"
        out.cells.append(new)
    return add_navigation(out, lesson, lang)


class TranslationError(ValueError):
    """A ``tr(...)`` call or a language comment that the build cannot turn into one language."""


def _translation_calls(tree) -> list[ast.Call]:
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == TRANSLATION_CALL]


def _check_translation_call(call: ast.Call) -> None:
    keywords = {k.arg: k.value for k in call.keywords}
    if call.args or set(keywords) != set(LANGUAGES) or len(call.keywords) != len(LANGUAGES):
        raise TranslationError(
            f"line {call.lineno}: write {TRANSLATION_CALL}(es=..., en=...) with exactly those two "
            "keywords and nothing else"
        )
    for lang, value in keywords.items():
        if not isinstance(value, (ast.Constant, ast.JoinedStr)) or (
            isinstance(value, ast.Constant) and not isinstance(value.value, str)
        ):
            raise TranslationError(
                f"line {call.lineno}: {TRANSLATION_CALL}({lang}=...) must be a string or "
                "f-string literal (put the logic outside, in code written once)"
            )


def _localize_comments(code: str, lang: str) -> str:
    lines = []
    for line in code.split("\n"):
        match = LANGUAGE_COMMENT.match(line)
        if match is None:
            lines.append(line)
        elif match["lang"] == lang:
            lines.append(f"{match['indent']}# {match['text']}".rstrip())
    return "\n".join(lines)


def _shift_left(literal: str, columns: int) -> str:
    """Move the continuation lines of a multi-line literal ``columns`` to the left (it now starts
    where ``tr(`` stood), except lines inside a triple-quoted string, whose text must not change."""
    lines = literal.split("\n")
    if len(lines) == 1 or columns <= 0:
        return literal
    inside_strings = set()
    tokens = tokenize.generate_tokens(io.StringIO(f"({literal})").readline)
    for tok in tokens:
        if tok.end[0] > tok.start[0]:
            inside_strings.update(range(tok.start[0] + 1, tok.end[0] + 1))
    for row in range(1, len(lines)):
        if row + 1 not in inside_strings:
            line = lines[row]
            lines[row] = line[min(columns, len(line) - len(line.lstrip(" "))):]
    return "\n".join(lines)


def localize_code(code: str, lang: str) -> str:
    """The code of one language: ``tr(es=…, en=…)`` replaced by its ``lang`` literal, and only
    the ``# lang: …`` comments of ``lang``, without their tag.

    Examples
    --------
    >>> code = '# es: cuenta\\n# en: count\\nprint(tr(es=f"{n} filas", en=f"{n} rows"))'
    >>> print(localize_code(code, "es"))
    # cuenta
    print(f"{n} filas")
    >>> localize_code('x = tr(es="uno", en="one")', "en")
    'x = "one"'
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: use one of {LANGUAGES}")
    code = _localize_comments(code, lang)
    if f"{TRANSLATION_CALL}(" not in code:
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        raise TranslationError(
            f"{TRANSLATION_CALL}(...) needs a cell of plain Python: {error}") from error
    calls = _translation_calls(tree)
    raw = code.encode("utf-8")
    starts = [0]
    for line in raw.split(b"\n"):
        starts.append(starts[-1] + len(line) + 1)

    def offset(lineno: int, col: int) -> int:
        return starts[lineno - 1] + col

    replacements = []
    for call in calls:
        _check_translation_call(call)
        value = next(k.value for k in call.keywords if k.arg == lang)
        literal = raw[offset(value.lineno, value.col_offset):
                      offset(value.end_lineno, value.end_col_offset)]
        literal = _shift_left(literal.decode("utf-8"),
                              value.col_offset - call.col_offset).encode("utf-8")
        replacements.append((offset(call.lineno, call.col_offset),
                             offset(call.end_lineno, call.end_col_offset), literal))
    for start, end, literal in sorted(replacements, reverse=True):
        raw = raw[:start] + literal + raw[end:]
    return raw.decode("utf-8")


def code_comments(code: str) -> list[str]:
    """Every comment of a code cell (line-based when the cell is not plain Python)."""
    try:
        return [tok.string for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [line.strip() for line in code.split("\n") if line.strip().startswith("#")]


def check_code_cell(code: str) -> list[str]:
    """What keeps a shared code cell from being built in both languages (empty when fine)."""
    problems = []
    for lang in LANGUAGES:
        try:
            built = localize_code(code, lang)
        except TranslationError as error:
            return [str(error)]
        if lang == LANGUAGES[0] and re.search(rf"\b{TRANSLATION_CALL}\(", built):
            problems.append(f"{TRANSLATION_CALL}( is left after the build: use it only as "
                            f"{TRANSLATION_CALL}(es=..., en=...)")
    tagged = {lang: 0 for lang in LANGUAGES}
    for comment in code_comments(code):
        match = LANGUAGE_COMMENT.match(comment)
        if match:
            tagged[match["lang"]] += 1
        elif not TOOL_COMMENT.match(comment):
            problems.append(f"comment {comment[:50]!r} is in one language only: write it as a "
                            "'# es: …' line and a '# en: …' line")
    if (tagged["es"] == 0) != (tagged["en"] == 0):
        problems.append("comments tagged in one language only: add the other language's lines")
    return problems


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
    return (cell.cell_type, cell.source, json.dumps(metadata, sort_keys=True))


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
        elif langs:
            problems.append(
                f"{source.name}: code cell {index} is tagged {langs}: write code once and put "
                f"what differs in tr(es=..., en=...) or '# es:'/'# en:' comments"
            )
        else:
            problems += [f"{source.name}: code cell {index}: {p}"
                         for p in check_code_cell(cell.source)]
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
