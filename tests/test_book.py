"""The book's staged Sphinx tree (tools/book.py), without building it: make test-book builds it."""

import json
import re

import pytest

from tools import book
from tools.bilingual import SOLUTION_TAG
from tools.course import LANGUAGES, NOTEBOOKS_DIR, ROOT, lesson_sources

TOCTREE = re.compile(r"```\{toctree\}\n(.*?)```", re.DOTALL)


def _toctree_entries(index_md: str) -> list[str]:
    return [line[1:] for block in TOCTREE.findall(index_md) for line in block.splitlines()
            if line.startswith("/")]


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """The book's source tree, staged from the repository with no docs/ pages."""
    src = tmp_path_factory.mktemp("book-src")
    book.stage(src, docs_dir=tmp_path_factory.mktemp("no-docs"))
    return src


def test_toc_lists_every_lesson_in_both_languages(staged):
    stems = [source.stem for source in lesson_sources()]
    for lang in LANGUAGES:
        entries = _toctree_entries((staged / lang / "index.md").read_text(encoding="utf-8"))
        assert entries == [f"notebooks/{lang}/{stem}" for stem in stems]
        for stem in stems:
            assert (staged / "notebooks" / lang / f"{stem}.ipynb").is_file()
    landing = (staged / "index.md").read_text(encoding="utf-8")
    assert _toctree_entries(landing) == [f"{lang}/index" for lang in LANGUAGES]
    assert "conf.py" in {p.name for p in staged.iterdir()}


def test_docs_pages_are_in_the_toc_when_they_exist(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for lang in LANGUAGES:
        (docs / f"glossary.{lang}.md").write_text(f"# Glossary {lang}\n", encoding="utf-8")
    contents = book.toc(docs_dir=docs)
    assert [contents[lang]["guides"] for lang in LANGUAGES] == [
        [f"docs/glossary.{lang}"] for lang in LANGUAGES]
    book.stage(tmp_path / "src", docs_dir=docs)
    for lang in LANGUAGES:
        index = (tmp_path / "src" / lang / "index.md").read_text(encoding="utf-8")
        assert f"docs/glossary.{lang}" in _toctree_entries(index)
        assert (tmp_path / "src" / "docs" / f"glossary.{lang}.md").is_file()
    # A page in one language only stops the build: every page has its counterpart.
    (docs / "course-map.es.md").write_text("# Mapa\n", encoding="utf-8")
    with pytest.raises(book.BookError, match="course-map.es.md has no counterpart"):
        book.toc(docs_dir=docs)


def test_every_page_has_its_counterpart():
    contents = book.toc()
    pages = {name for parts in contents.values() for names in parts.values() for name in names}
    pages |= {f"{lang}/index" for lang in LANGUAGES}
    for name in pages:
        other = book.counterpart(name)
        assert other in pages and book.counterpart(other) == name
        assert book.page_language(other) != book.page_language(name)


def test_staged_notebooks(staged):
    for lang in LANGUAGES:
        for committed in sorted((NOTEBOOKS_DIR / lang).glob("*.ipynb")):
            original = json.loads(committed.read_text(encoding="utf-8"))
            copy = json.loads((staged / "notebooks" / lang / committed.name).read_text("utf-8"))
            assert len(copy["cells"]) == len(original["cells"])
            for cell in copy["cells"]:
                outputs = cell.get("outputs", [])
                assert not any(book.WIDGET_VIEW in o.get("data", {}) for o in outputs)
                if SOLUTION_TAG in cell["metadata"].get("tags", []):
                    assert "hide-cell" in cell["metadata"]["tags"]
                    prompt = cell["metadata"]["mystnb"]["code_prompt_show"]
                    assert prompt == book.TEXT[lang]["solution_show"]


def test_links_that_leave_the_book_point_to_github(tmp_path):
    notebook = NOTEBOOKS_DIR / "en" / "03_parallel_search.ipynb"
    in_book = {NOTEBOOKS_DIR / "en" / "04_larger_than_memory.ipynb",
               ROOT / "docs" / "glossary.en.md", ROOT / "images" / "scaling_problems_en.png"}
    text = ("[next](04_larger_than_memory.ipynb) [g](../../docs/glossary.en.md#worker) "
            "![p](../../images/scaling_problems_en.png) [src](../../lessons/03_parallel_search.md) "
            "[helpers](../../helpers) [web](https://dask.org) [here](#top) [gone](missing.ipynb)\n"
            "[ref]: ../../README.md\n")
    assert book.rewrite_links(text, notebook, in_book) == (
        "[next](04_larger_than_memory.ipynb) [g](../../docs/glossary.en.md#worker) "
        "![p](../../images/scaling_problems_en.png) "
        f"[src]({book.REPOSITORY_URL}/blob/main/lessons/03_parallel_search.md) "
        f"[helpers]({book.REPOSITORY_URL}/tree/main/helpers) [web](https://dask.org) "
        "[here](#top) [gone](missing.ipynb)\n"
        f"[ref]: {book.REPOSITORY_URL}/blob/main/README.md\n")


def test_remote_assets_are_found(tmp_path):
    (tmp_path / "page.html").write_text(
        '<a href="https://dask.org">a link is fine</a>\n'
        '<link rel="canonical" href="https://example.org/page.html">\n'
        '<script src="https://cdn.example.org/mathjax.js"></script>\n'
        '<img src="//cdn.example.org/x.png"><img src="_images/local.png">\n', encoding="utf-8")
    (tmp_path / "style.css").write_text(
        "@import 'https://fonts.example.org/font.css';\nb { background: url(local.png) }\n",
        encoding="utf-8")
    assert book.remote_assets(tmp_path) == [
        "page.html: https://cdn.example.org/mathjax.js", "page.html: //cdn.example.org/x.png",
        "style.css: https://fonts.example.org/font.css"]

