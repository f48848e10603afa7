"""The bilingual pipeline: every lesson in both languages, built notebooks in sync, clean text."""

from pathlib import Path

import nbformat
import pytest

from tools.bilingual import (
    MOJIBAKE,
    SOLUTION_TAG,
    cell_signature,
    check_code_cell,
    check_source,
    localize_code,
    read_source,
    split,
)
from tools.course import LANGUAGES, NOTEBOOKS_DIR, ROOT, lesson_sources, notebook_path
from tools.navigation import NAVIGATION_TAG
from tools.stamp import without_stamp

SOURCES = lesson_sources()
IDS = [s.stem for s in SOURCES]


def test_there_are_lessons():
    assert [s.stem[:2] for s in SOURCES][:2] == ["00", "01"]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_source_is_clean_and_paired(source):
    assert check_source(source) == []


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_notebook_matches_its_source(source, lang):
    path = notebook_path(source, lang)
    assert path.exists(), f"{path} is missing: run `make notebooks LESSONS={source.stem[:2]}`"
    committed = nbformat.read(path, as_version=4)
    fresh = split(read_source(source), lang, source.stem)
    # The version stamp is added by the build after execution: it has no counterpart in the source.
    assert [cell_signature(c) for c in without_stamp(committed.cells)] == [
        cell_signature(c) for c in fresh.cells
    ], f"{path} is out of date with {source.name}: run `make notebooks LESSONS={source.stem[:2]}`"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_notebook_was_executed_quietly(source, lang):
    notebook = nbformat.read(notebook_path(source, lang), as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, f"cell {index} was not executed"
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {index} failed"
            assert output.get("name") != "stderr", (
                f"cell {index} writes to stderr (warnings or logs): {output.get('text', '')[:200]}"
            )


def test_no_notebook_without_a_source():
    stems = {s.stem for s in SOURCES}
    for lang in LANGUAGES:
        built = {p.stem for p in (NOTEBOOKS_DIR / lang).glob("*.ipynb")}
        assert built <= stems, f"notebooks/{lang} has notebooks with no source: {built - stems}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_lesson_opens_with_time_and_objectives(source):
    notebook = read_source(source)
    first_es, first_en = notebook.cells[0].source, notebook.cells[1].source
    assert "Tiempo estimado" in first_es and "Objetivos" in first_es
    assert "Estimated time" in first_en and "Objectives" in first_en


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_lessons_have_two_collapsed_solutions(source):
    for lang in LANGUAGES:
        notebook = nbformat.read(notebook_path(source, lang), as_version=4)
        solutions = [c for c in notebook.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
        assert len(solutions) >= 2, f"{source.stem} ({lang}) needs at least two exercises"
        for cell in solutions:
            assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
            assert cell.execution_count is not None, "solutions are executed too"


def test_text_files_have_no_mojibake():
    paths = [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.md"), *SOURCES,
             *NOTEBOOKS_DIR.glob("*/*.ipynb")]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        match = MOJIBAKE.search(text)
        near = text[match.start() - 20 : match.end() + 20] if match else ""
        assert match is None, f"{path}: broken accent near {near!r}"


def test_readme_lists_every_lesson():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for source in SOURCES:
        for lang in LANGUAGES:
            assert f"notebooks/{lang}/{source.stem}.ipynb" in readme, (source.stem, lang)


# The checker itself must catch what it promises to catch.

HEADER = "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n"


def _write(tmp_path: Path, body: str, name="05_example.md") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _cell(lang, text):
    return f'+++ {{"tags": ["{lang}"]}}\n\n{text}\n\n'


def test_checker_accepts_a_good_pair(tmp_path):
    body = _cell("es", "# Título\n¿Qué?") + _cell("en", "# Title\nWhat?")
    assert check_source(_write(tmp_path, body)) == []


@pytest.mark.parametrize("body, problem", [
    (_cell("es", "# Título"), "no counterpart"),
    (_cell("en", "# Title") + _cell("es", "# Título"), "no counterpart"),
    (_cell("es", "# Título á") + _cell("en", "## Title"), "different headings"),
    ("+++\n\nUntagged prose\n\n" + _cell("es", "á") + _cell("en", "a"), "exactly one"),
    (_cell("es", "GuÃ\u00ada rápida") + _cell("en", "Quick guide"), "mojibake"),
    (_cell("es", "Sin acentos") + _cell("en", "No accents"), "no accents"),
    (_cell("es", "á ![x](a_es.png)") + _cell("en", "a"), "different images"),
])
def test_checker_rejects(tmp_path, body, problem):
    problems = check_source(_write(tmp_path, body))
    assert any(problem in p for p in problems), problems


def test_checker_rejects_bad_name(tmp_path):
    body = _cell("es", "á") + _cell("en", "a")
    assert any("NN_slug" in p for p in check_source(_write(tmp_path, body, "Lesson.md")))


def _code(source, tags=None):
    head = f"```{{code-cell}} ipython3\n:tags: {tags}\n\n" if tags else "```{code-cell} ipython3\n"
    return f"{head}{source}\n```\n\n"


def test_split_writes_each_language_into_shared_code(tmp_path):
    body = (_cell("es", "á") + _cell("en", "a")
            + _code("x = 1")
            + _code('LANG = tr(es="es", en="en")')
            + _code('# es: cuenta las filas\n# en: count the rows\n'
                    'print(tr(es=f"{x} filas", en=f"{x} rows"))',
                    "[solution]"))
    source = _write(tmp_path, body)
    assert check_source(source) == []
    es = split(read_source(source), "es", source.stem)
    en = split(read_source(source), "en", source.stem)
    # The build frames each notebook with navigation (tools.navigation); the lesson is in between.
    for notebook in (es, en):
        assert [NAVIGATION_TAG in c.metadata["tags"] for c in (notebook.cells[0],
                                                                notebook.cells[-1])] == [True, True]
        notebook.cells = notebook.cells[1:-1]
    assert [c.source for c in es.cells] == ["á", "x = 1", 'LANG = "es"',
                                            '# cuenta las filas\nprint(f"{x} filas")']
    assert [c.source for c in en.cells] == ["a", "x = 1", 'LANG = "en"',
                                            '# count the rows\nprint(f"{x} rows")']
    assert en.cells[-1].metadata == {"tags": ["solution"],
                                     "jupyter": {"source_hidden": True, "outputs_hidden": True}}
    assert "tags" not in es.cells[1].metadata


def test_localize_code_handles_multiline_and_accented_text():
    code = 'check(ok,\n      tr(es="""línea\núnica""",\n         en="""one\nline"""))  # noqa: E501'
    assert localize_code(code, "es") == 'check(ok,\n      """línea\núnica""")  # noqa: E501'
    assert localize_code(code, "en") == 'check(ok,\n      """one\nline""")  # noqa: E501'


@pytest.mark.parametrize("code, problem", [
    ("x = 1  # count", "one language only"),
    ("# es: solo en español\nx = 1", "one language only"),
    ('print(tr(es="a"))', "exactly those two"),
    ('print(tr("a", "b"))', "exactly those two"),
    ('print(tr(es=name, en="b"))', "literal"),
])
def test_code_checker_rejects(code, problem):
    problems = check_code_cell(code)
    assert any(problem in p for p in problems), problems


def test_language_tagged_code_cells_are_rejected(tmp_path):
    body = _cell("es", "á") + _cell("en", "a") + _code("LANG = 'es'", "[es]")
    problems = check_source(_write(tmp_path, body))
    assert any("write code once" in p for p in problems), problems


def test_localize_code_realigns_continuation_lines_but_not_string_text():
    code = ('print(tr(es=f"la mejor {a}; "\n'
            '            f"la final {b}",\n'
            '         en=f"best {a}; "\n'
            '            f"final {b}"))\n'
            'x = tr(es="""uno\n    dos""", en="""one\n    two""")')
    assert localize_code(code, "es") == ('print(f"la mejor {a}; "\n'
                                         '      f"la final {b}")\n'
                                         'x = """uno\n    dos"""')
    assert localize_code(code, "en").startswith('print(f"best {a}; "\n      f"final {b}")')
