"""The course as a static bilingual HTML book (``make book``): ``python -m tools.book [--out DIR]``.

The book is built from the committed, already executed notebooks (nothing is executed) with
Sphinx, myst-nb and sphinx-book-theme, into ``build/book/html`` by default. :func:`stage` copies
what the book shows into a Sphinx source tree outside the checkout (a temporary folder), laid out
like the repository so that the relative links of the notebooks resolve unchanged::

    index.md                      landing page: the two languages
    es/index.md, en/index.md      each language's table of contents
    notebooks/{es,en}/NN_*.ipynb  the lessons, in order
    docs/<page>.{es,en}.md        course map, glossary, instructor guide (those that exist)
    images/                       the pictures the lessons show
    conf.py, _templates/          written here, in code

A lesson links to another as ``NN_slug.ipynb``, to the glossary as
``../../docs/glossary.<lang>.md#<anchor>``, to the map as ``../../docs/course-map.<lang>.md``
and to a picture as ``../../images/<file>.png``: all of them are in the staged tree. A relative
link to a file of the repository that is not in the book (``../benchmarks/results.md``) becomes a
link to that file on GitHub. The staged copies also lose what a static page cannot show (the
ipywidgets progress bars, whose state is not saved) and collapse the solutions.

This module is also the Sphinx extension of the book (``setup``): every language page gets a
switch to the same page in the other language, the page's ``lang``, and math is rendered as
plain text, so that no page loads MathJax from a CDN. The build runs with ``-W --keep-going``
(any warning, such as a broken link, fails it) and then checks that no page loads anything from
another host (:func:`remote_assets`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tools.bilingual import SOLUTION_TAG
from tools.course import DOCS_DIR, IMAGES_DIR, LANGUAGES, NOTEBOOKS_DIR, ROOT

DEFAULT_OUT = ROOT / "build" / "book" / "html"
#: Pages of docs/ in the book, in the order of the table of contents: docs/<name>.<lang>.md.
DOC_PAGES = ("course-map", "glossary", "instructor-guide")
IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif"}
#: Where a link to a repository file that is not in the book points to.
REPOSITORY_URL = "https://github.com/dask-ml-course/dask-ml-course"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NAMES = {"es": "Español", "en": "English"}
TITLE = {
    "es": "Aprendizaje automático paralelo y distribuido con Dask",
    "en": "Parallel and distributed machine learning with Dask",
}
TEXT = {
    "es": {
        "index_title": "Curso en español",
        "intro": "Un curso práctico en cuadernos Jupyter: cada lección, ya ejecutada, con sus "
                 "resultados. Para ejecutarlas, abre el repositorio con `make lab`.",
        "lessons": "Lecciones",
        "guides": "Guías y referencia",
        "solution_show": "Mostrar la solución",
        "solution_hide": "Ocultar la solución",
        "switch_title": "Esta página en español",
    },
    "en": {
        "index_title": "Course in English",
        "intro": "A hands-on course in Jupyter notebooks: every lesson, already executed, with its "
                 "results. To run them, open the repository with `make lab`.",
        "lessons": "Lessons",
        "guides": "Guides and reference",
        "solution_show": "Show the solution",
        "solution_hide": "Hide the solution",
        "switch_title": "This page in English",
    },
}
# [text](target), ![alt](target) and reference definitions "[label]: target".
INLINE_LINK = re.compile(r"(!?\[[^\]\n]*\]\()(<[^>\n]*>|[^)\s]+)")
REFERENCE_LINK = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(<[^>\n]*>|\S+)", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class BookError(Exception):
    """What stops the build, said in a sentence (``python -m tools.book`` prints it)."""


# ---------------------------------------------------------------- what the book holds


def lessons(lang: str, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The executed notebooks of ``lang``, in lesson order."""
    return sorted((notebooks_dir / lang).glob("[0-9][0-9]_*.ipynb"))


def doc_pages(lang: str, docs_dir: Path = DOCS_DIR) -> list[Path]:
    """The pages of ``docs_dir`` in the book for ``lang``: those of :data:`DOC_PAGES` that exist.

    A page that exists in one language only stops the build: the book shows every page in both.
    """
    pages = []
    for name in DOC_PAGES:
        mine, others = docs_dir / f"{name}.{lang}.md", [
            docs_dir / f"{name}.{other}.md" for other in LANGUAGES if other != lang]
        missing = [str(p.relative_to(docs_dir.parent)) for p in others if not p.exists()]
        if mine.exists() and missing:
            raise BookError(f"book: {mine.relative_to(docs_dir.parent)} has no counterpart "
                             f"({', '.join(missing)}); write both languages or neither")
        if mine.exists():
            pages.append(mine)
    return pages


def page_language(docname: str) -> str | None:
    """The language of a page of the book, from its name; ``None`` for the landing page.

    >>> page_language("notebooks/es/03_parallel_search"), page_language("docs/glossary.en")
    ('es', 'en')
    >>> page_language("en/index"), page_language("index") is None
    ('en', True)
    """
    parts = docname.split("/")
    if len(parts) == 3 and parts[0] == "notebooks" and parts[1] in LANGUAGES:
        return parts[1]
    if len(parts) == 2 and parts[0] == "docs":
        suffix = parts[1].rsplit(".", 1)[-1]
        return suffix if suffix in LANGUAGES else None
    if len(parts) == 2 and parts[0] in LANGUAGES and parts[1] == "index":
        return parts[0]
    return None


def counterpart(docname: str) -> str | None:
    """The same page in the other language, or ``None`` for a page that has no language.

    >>> counterpart("notebooks/es/03_parallel_search")
    'notebooks/en/03_parallel_search'
    >>> counterpart("docs/course-map.en"), counterpart("es/index"), counterpart("search")
    ('docs/course-map.es', 'en/index', None)
    """
    lang = page_language(docname)
    if lang is None:
        return None
    (other,) = [code for code in LANGUAGES if code != lang]
    parts = docname.split("/")
    if parts[0] == "notebooks":
        return f"notebooks/{other}/{parts[2]}"
    if parts[0] == "docs":
        return f"docs/{parts[1].rsplit('.', 1)[0]}.{other}"
    return f"{other}/index"


# ---------------------------------------------------------------- the staged source tree


def rewrite_links(text: str, origin: Path, in_book: set[Path]) -> str:
    """Point the links of ``text`` (markdown of ``origin``) that leave the book to GitHub.

    A relative link to a file of the book is kept (Sphinx resolves it); one to another file of the
    repository becomes a link to that file on GitHub; one to nothing is kept, so that the build
    reports it.

    >>> readme = ROOT / "docs" / "guide.md"
    >>> rewrite_links("[r](../README.md#top) [g](glossary.md) [w](https://x.org)", readme,
    ...               {ROOT / "docs" / "glossary.md"})
    '[r](https://github.com/dask-ml-course/dask-ml-course/blob/main/README.md#top) [g](glossary.md) [w](https://x.org)'
    """
    def replace(match: re.Match) -> str:
        prefix, target = match.group(1), match.group(2)
        bare = target[1:-1] if target.startswith("<") else target
        if not bare or SCHEME.match(bare) or bare.startswith(("#", "/")):
            return match.group(0)
        path, hash_, fragment = bare.partition("#")
        resolved = Path(os.path.normpath(origin.parent / path))
        if resolved in in_book or not resolved.exists():
            return match.group(0)
        try:
            relative = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            return match.group(0)
        kind = "tree" if resolved.is_dir() else "blob"
        return f"{prefix}{REPOSITORY_URL}/{kind}/main/{relative}{hash_}{fragment}"

    return REFERENCE_LINK.sub(replace, INLINE_LINK.sub(replace, text))


def stage_notebook(notebook: dict, lang: str, origin: Path, in_book: set[Path]) -> dict:
    """The notebook as the book shows it (a copy; the committed notebook is not touched)."""
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            cell["source"] = rewrite_links(source, origin, in_book)
            continue
        if cell["cell_type"] != "code":
            continue
        # A widget's state is not saved in the notebook, so a static page cannot draw it; its
        # text fallback ("VBox()") means nothing to a reader.
        cell["outputs"] = [output for output in cell.get("outputs", [])
                           if WIDGET_VIEW not in output.get("data", {})]
        if SOLUTION_TAG in cell["metadata"].get("tags", []):
            cell["metadata"]["tags"] = [*cell["metadata"]["tags"], "hide-cell"]
            cell["metadata"]["mystnb"] = {"code_prompt_show": TEXT[lang]["solution_show"],
                                          "code_prompt_hide": TEXT[lang]["solution_hide"]}
    return notebook


def toc(notebooks_dir: Path = NOTEBOOKS_DIR,
        docs_dir: Path = DOCS_DIR) -> dict[str, dict[str, list[str]]]:
    """Each language's table of contents: {lang: {"lessons": [docname…], "guides": [docname…]}}."""
    return {lang: {"lessons": [f"notebooks/{lang}/{p.stem}" for p in lessons(lang, notebooks_dir)],
                   "guides": [f"docs/{p.stem}" for p in doc_pages(lang, docs_dir)]}
            for lang in LANGUAGES}


def _toctree(caption: str, docnames: list[str], hidden: bool = False) -> str:
    options = f":caption: {caption}\n:maxdepth: 1\n" + (":hidden:\n" if hidden else "")
    entries = "".join(f"/{name}\n" for name in docnames)
    return f"```{{toctree}}\n{options}\n{entries}```\n"


def stage(src: Path, notebooks_dir: Path = NOTEBOOKS_DIR,
          docs_dir: Path = DOCS_DIR) -> dict[str, dict[str, list[str]]]:
    """Write the Sphinx source tree of the book into ``src`` (created); return :func:`toc`.

    ``notebooks_dir`` and ``docs_dir`` (other folders for a test) are read as if they were the
    repository's notebooks/ and docs/: links are resolved against the repository's layout,
    which the staged tree repeats.
    """
    contents = toc(notebooks_dir, docs_dir)
    src.mkdir(parents=True, exist_ok=True)
    notebooks = {lang: lessons(lang, notebooks_dir) for lang in LANGUAGES}
    docs = {lang: doc_pages(lang, docs_dir) for lang in LANGUAGES}
    images = [p for p in sorted(IMAGES_DIR.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    in_book = set(images) | {DOCS_DIR / p.name for paths in docs.values() for p in paths}
    in_book |= {NOTEBOOKS_DIR / lang / p.name for lang in LANGUAGES for p in notebooks[lang]}
    for lang in LANGUAGES:
        target = src / "notebooks" / lang
        target.mkdir(parents=True, exist_ok=True)
        for path in notebooks[lang]:
            staged = stage_notebook(json.loads(path.read_text(encoding="utf-8")), lang,
                                    NOTEBOOKS_DIR / lang / path.name, in_book)
            (target / path.name).write_text(json.dumps(staged, ensure_ascii=False),
                                            encoding="utf-8")
        for path in docs[lang]:
            (src / "docs").mkdir(exist_ok=True)
            (src / "docs" / path.name).write_text(
                rewrite_links(path.read_text(encoding="utf-8"), DOCS_DIR / path.name, in_book),
                encoding="utf-8")
        text = TEXT[lang]
        index = [f"# {text['index_title']}\n", f"**{TITLE[lang]}**\n", f"{text['intro']}\n",
                 _toctree(text["lessons"], contents[lang]["lessons"])]
        if contents[lang]["guides"]:
            index.append(_toctree(text["guides"], contents[lang]["guides"]))
        (src / lang).mkdir(exist_ok=True)
        (src / lang / "index.md").write_text("\n".join(index), encoding="utf-8")
    (src / "images").mkdir(exist_ok=True)
    for path in images:
        shutil.copyfile(path, src / "images" / path.name)
    landing = [f"# {TITLE['es']} · {TITLE['en']}\n"]
    for lang in LANGUAGES:
        count = len(contents[lang]["lessons"])
        landing.append(f"- **[{NAMES[lang]}]({lang}/index.md)**: {TITLE[lang]}, "
                       f"{count} {TEXT[lang]['lessons'].lower()}.")
    landing.append("\n" + _toctree("Idiomas · Languages", [f"{lang}/index" for lang in LANGUAGES],
                                   hidden=True))
    (src / "index.md").write_text("\n".join(landing), encoding="utf-8")
    (src / "_templates").mkdir(exist_ok=True)
    (src / "_templates" / "lang-switch.html").write_text(SWITCH_TEMPLATE, encoding="utf-8")
    (src / "_static").mkdir(exist_ok=True)
    (src / "_static" / "favicon.svg").write_text(FAVICON, encoding="utf-8")
    (src / "_static" / "book.css").write_text(CSS, encoding="utf-8")
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    return contents


FAVICON = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#fc6e6b"/>
<text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="bold" fill="#fff"
 text-anchor="middle">D</text></svg>
"""

CSS = """\
/* The language switch, before the theme's buttons, on the same line. */
.bd-header-article .header-article-items__end { display: flex; align-items: center; }
.bd-header-article .btn.book-lang-switch {
  font-size: 1rem; font-weight: 600; white-space: nowrap; gap: .4rem;
  color: var(--pst-color-primary);
}
"""

SWITCH_TEMPLATE = """\
{%- if book_lang_switch %}
<a class="btn btn-sm book-lang-switch" href="{{ book_lang_switch.url }}"
   hreflang="{{ book_lang_switch.lang }}" lang="{{ book_lang_switch.lang }}"
   title="{{ book_lang_switch.title }}">
  <i class="fa-solid fa-language"></i> {{ book_lang_switch.name }}</a>
{%- endif %}
"""

CONF = '''\
# Written by tools/book.py: the book's Sphinx configuration. Nothing is fetched at build or
# view time: no intersphinx, no MathJax (math is shown as text), no ipywidgets JavaScript.
# The extension "tools.book" is imported like any package of the course environment (tools is
# installed by pyproject.toml), so this conf.py needs no sys.path entry for the checkout.

project = "Dask ML course"
html_title = "Dask ML · curso / course"
author = "dask-ml-course"
language = "en"
extensions = ["myst_nb", "tools.book"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
html_theme = "sphinx_book_theme"
html_theme_options = {
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": False,
    "show_navbar_depth": 1,
}
# Light unless the reader picks dark: the plots are drawn on white.
html_context = {"default_mode": "light"}
# An icon of its own, so that the browser does not ask the server for /favicon.ico.
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_math_renderer = "book_plain"
html_use_index = False
# The search lists pages without fetching them for a summary: opened from disk (file://), the
# browser would refuse those fetches.
html_show_search_summary = False
html_last_updated_fmt = None
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_heading_anchors = 6
suppress_warnings = []
'''


# ---------------------------------------------------------------- the Sphinx extension


def _page_context(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    lang = page_language(pagename)
    if lang is None:
        return
    context["language"] = lang  # the page's <html lang>
    other = counterpart(pagename)
    if other not in app.env.found_docs:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "book: %s has no page %s in the other language", pagename, other)
        return
    other_lang = page_language(other)
    context["book_lang_switch"] = {
        "url": context["pathto"](other), "lang": other_lang, "name": NAMES[other_lang],
        "title": TEXT[other_lang]["switch_title"]}


HTML_ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")


def _register_html_ids(app, doctree) -> None:
    """Make the ids of raw HTML anchors (``<a id="batch"></a>``) targets of MyST links.

    MyST resolves ``[batch](glossary.en.md#batch)`` against the headings and labels of the page;
    the glossary marks its entries with HTML anchors, which it does not know. Each id becomes
    an anonymous label of its page, so the link resolves there (and only there).
    """
    from docutils import nodes

    std = app.env.domains.standard_domain
    docname = app.env.docname
    for raw in doctree.findall(nodes.raw):
        if "html" in raw.get("format", "").split():
            for html_id in HTML_ID.findall(raw.astext()):
                std.anonlabels.setdefault(f"{docname}#{html_id}", (docname, html_id))


def _visit_math(self, node) -> None:
    from docutils import nodes

    tag = "div" if isinstance(node, nodes.math_block) else "span"
    self.body.append(self.starttag(node, tag, "", CLASS="math notranslate"))
    self.body.append(self.encode(node.astext()))
    self.body.append(f"</{tag}>")
    raise nodes.SkipNode


def setup(app) -> dict:
    """Sphinx extension: the language switch and plain-text math (see the module docstring)."""
    app.connect("html-page-context", _page_context)
    app.connect("doctree-read", _register_html_ids)
    app.add_html_math_renderer("book_plain", (_visit_math, None), (_visit_math, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# ---------------------------------------------------------------- build and check


REMOTE_IN_HTML = re.compile(
    r"<(?:script|img|link|iframe|source|video|audio|embed|object)\b[^>]*?"
    r"\b(?:src|href|data|srcset)\s*=\s*[\"']?\s*((?:https?:)?//[^\"' >]+)", re.IGNORECASE)
REMOTE_IN_CSS = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])\s*((?:https?:)?//[^\"')\s]+)",
                           re.IGNORECASE)
ANCHOR_TAG = re.compile(r"<a\b", re.IGNORECASE)


def remote_assets(html_dir: Path) -> list[str]:
    """Every reference of the built site to an asset on another host: ``file: url``.

    Links a reader clicks (``<a href>``) may go anywhere; what a page loads by itself (scripts,
    stylesheets, images, frames, fonts in CSS) must come from the site.
    """
    found = []
    for path in sorted(html_dir.rglob("*")):
        if path.suffix == ".html":
            pattern = REMOTE_IN_HTML
        elif path.suffix == ".css":
            pattern = REMOTE_IN_CSS
        else:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in pattern.finditer(text):
            tag = text[text.rfind("<", 0, match.start(1)):match.start(1)]
            if path.suffix == ".html" and "<link" in tag.lower() and re.search(
                    r"rel\s*=\s*[\"']?(?:canonical|alternate|author|license)", tag, re.IGNORECASE):
                continue
            found.append(f"{path.relative_to(html_dir)}: {match.group(1)}")
    return found


def build(out: Path = DEFAULT_OUT, source: Path | None = None, jobs: str = "auto",
          notebooks_dir: Path = NOTEBOOKS_DIR, docs_dir: Path = DOCS_DIR) -> Path:
    """Stage the book and build it into ``out`` (replaced); return ``out``.

    ``source`` keeps the staged Sphinx tree there (default: a temporary folder, removed);
    ``notebooks_dir`` and ``docs_dir`` are for tests (see :func:`stage`).
    """
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not (out / ".buildinfo").exists():
        raise BookError(f"book: {out} is not empty and is not a built book; choose another --out")
    with tempfile.TemporaryDirectory(prefix="course-book-") as tmp:
        src = Path(source).resolve() if source else Path(tmp) / "src"
        if source and src.exists():
            shutil.rmtree(src)
        stage(src, notebooks_dir, docs_dir)
        # Sphinx writes into a folder of its own: myst-nb puts its files next to the output
        # folder (../jupyter_execute), which must not be the user's --out's parent.
        html = Path(tmp) / "build" / "html"
        argv = ["-b", "html", "-q", "-W", "--keep-going", "-j", jobs,
                "-d", str(Path(tmp) / "build" / "doctrees"), str(src), str(html)]
        status = build_main(argv)
        if status:
            raise BookError(f"book: Sphinx failed (exit status {status}); see the warnings above")
        remote = remote_assets(html)
        if remote:
            raise BookError("book: pages load assets from other hosts:\n  " + "\n  ".join(remote))
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(html, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: build/book/html)")
    parser.add_argument("--source", type=Path, default=None,
                        help="keep the staged Sphinx source tree in this folder (for debugging)")
    parser.add_argument("-j", "--jobs", default="auto", help="Sphinx parallel jobs (default: auto)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        out = build(args.out, args.source, args.jobs)
    except BookError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"book: {out / 'index.html'} ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
