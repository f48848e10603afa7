"""The map, glossary and navigation: generated pages up to date, every link lands somewhere."""

import re
from pathlib import Path

import nbformat
import pytest

from tools.course import DOCS_DIR, LANGUAGES, NOTEBOOKS_DIR, lesson_sources, notebook_path
from tools.navigation import (
    NAVIGATION_TAG,
    OPTIONAL_LESSONS,
    anchor,
    further_reading,
    generated_pages,
    glossary_terms,
    lessons,
    link_first_use,
)
from tools.stamp import without_stamp

SOURCES = lesson_sources()
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _committed(source, lang):
    return nbformat.read(notebook_path(source, lang), as_version=4)


def test_generated_pages_are_up_to_date():
    for path, text in generated_pages().items():
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run `python -m tools.navigation`")


def test_glossary_covers_the_terms_students_meet_first():
    concepts = {t["concept"] for t in glossary_terms()}
    must = {"worker", "nanny", "scheduler", "future", "partition", "chunk", "persist", "compute",
            "driver", "rank", "epoch", "shard"}
    assert must <= concepts, must - concepts


def test_every_lesson_is_in_the_map_with_its_optional_mark():
    stems = [lesson.stem for lesson in lessons()]
    assert stems == [s.stem for s in SOURCES]
    assert set(OPTIONAL_LESSONS) <= {lesson.number for lesson in lessons()}
    for lang in LANGUAGES:
        page = generated_pages()[DOCS_DIR / f"course-map.{lang}.md"]
        for lesson in lessons():
            assert f"({Path('..', 'notebooks', lang, lesson.notebook()).as_posix()})" in page
        for note in OPTIONAL_LESSONS.values():
            assert note[lang] in page


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("source", SOURCES, ids=[s.stem[:2] for s in SOURCES])
def test_notebook_navigation_links_land(source, lang):
    """Top and bottom navigation, previous/next lessons, glossary anchors: all exist."""
    notebook = _committed(source, lang)
    cells = [c for c in without_stamp(notebook.cells) if c.cell_type == "markdown"]
    assert NAVIGATION_TAG in cells[0].metadata.get("tags", [])
    assert NAVIGATION_TAG in cells[-1].metadata.get("tags", [])
    glossary = (DOCS_DIR / f"glossary.{lang}.md").read_text(encoding="utf-8")
    glossary_links = 0
    for cell in cells:
        for target in LINK.findall(cell.source):
            if target.startswith(("http://", "https://")):
                continue
            path, _, fragment = target.partition("#")
            resolved = (NOTEBOOKS_DIR / lang / path).resolve()
            assert resolved.exists(), f"{source.stem} ({lang}) links to a missing {target}"
            if fragment and resolved.name.startswith("glossary."):
                glossary_links += 1
                assert f'<a id="{fragment}"></a>' in glossary, f"no glossary entry #{fragment}"
    assert glossary_links >= 3, f"{source.stem} ({lang}) links hardly any glossary term"
    index = [s.stem for s in SOURCES].index(source.stem)
    top = cells[0].source
    if index > 0:
        assert f"({SOURCES[index - 1].stem}.ipynb)" in top
    if index + 1 < len(SOURCES):
        assert f"({SOURCES[index + 1].stem}.ipynb)" in top


def test_each_glossary_term_is_linked_from_some_lesson():
    linked = {lang: set() for lang in LANGUAGES}
    for source in SOURCES:
        for lang in LANGUAGES:
            for cell in _committed(source, lang).cells:
                linked[lang] |= set(re.findall(rf"glossary\.{lang}\.md#([a-z0-9-]+)", cell.source))
    anchors = {anchor(t["concept"]) for t in glossary_terms()}
    assert anchors - (linked["es"] | linked["en"]) == set()


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem[:2] for s in SOURCES])
def test_each_lesson_has_further_reading_in_both_languages(source):
    for lang in LANGUAGES:
        links = further_reading(source.stem[:2], lang)
        assert len(links) >= 2
        assert all(url.startswith("https://") and title for title, url in links)


def test_first_use_is_linked_once_and_never_inside_code_or_links():
    text = "A `scheduler` and [the scheduler](x). The scheduler plans; the scheduler serves."
    linked, added = link_first_use(text, "scheduler", "en", "g#s")
    assert added and linked.count("(g#s)") == 1
    assert linked.endswith("The [scheduler](g#s) plans; the scheduler serves.")
    assert link_first_use("Los *workers* reciben.", "worker", "es", "g#w")[0] == (
        "Los *[workers](g#w)* reciben.")
    assert link_first_use("Una partición, dos particiones.", "partición", "es", "g#p")[0] == (
        "Una [partición](g#p), dos particiones.")
