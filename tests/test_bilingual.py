"""The bilingual pipeline: every lesson in both languages, built notebooks in sync, clean text."""

from pathlib import Path

import nbformat
import pytest

from tools.bilingual import (
    LANGUAGES,
    MOJIBAKE,
    NOTEBOOKS_DIR,
    ROOT,
    SOLUTION_TAG,
    cell_signature,
    check_source,
    lesson_sources,
    notebook_path,
    read_source,
    split,
)

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
    assert [cell_signature(c) for c in committed.cells] == [
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


@pytest.mark.parametrize("source", [s for s in SOURCES if s.stem >= "01"],
                         ids=[s for s in IDS if s >= "01"])
def test_lessons_have_two_collapsed_solutions(source):
    for lang in LANGUAGES:
        notebook = nbformat.read(notebook_path(source, lang), as_version=4)
        solutions = [c for c in notebook.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
        assert len(solutions) >= 2, f"{source.stem} ({lang}) needs at least two exercises"
        for cell in solutions:
            assert cell.metadata["jupyter"]["source_hidden"] is True
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


def test_split_keeps_shared_code_once_per_language(tmp_path):
    body = (_cell("es", "á") + _cell("en", "a")
            + "```{code-cell} ipython3\nx = 1\n```\n\n"
            + "```{code-cell} ipython3\n:tags: [es]\n\nLANG = 'es'\n```\n\n"
            + "```{code-cell} ipython3\n:tags: [en, solution]\n\nLANG = 'en'\n```\n")
    source = _write(tmp_path, body)
    es = split(read_source(source), "es", source.stem)
    en = split(read_source(source), "en", source.stem)
    assert [c.source for c in es.cells] == ["á", "x = 1", "LANG = 'es'"]
    assert [c.source for c in en.cells] == ["a", "x = 1", "LANG = 'en'"]
    assert en.cells[-1].metadata == {"tags": ["solution"], "jupyter": {"source_hidden": True}}
    assert "tags" not in es.cells[1].metadata
