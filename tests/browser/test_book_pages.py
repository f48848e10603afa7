"""The course as a static book (make book), checked in headless Chromium (make test-book).

The test builds the book with ``python -m tools.book`` into a temporary folder, serves it with
``http.server`` on loopback, and opens every page of it in Debian's Chromium driven by Playwright
(the system executable, as in test_browser.py). On every page: no console error, no failed
request, every request to the loopback server only; every internal link leads to a file of the
book and, with a fragment, to an id in it; the language switch leads to the same page in the
other language (same lesson number), whose switch leads back. On lesson pages every image is
rendered, and there are as many rendered output images as the notebook has plots. A few pages,
the search included, are also opened from disk (file://). Screenshots of lesson 00 in each
language go to test-artifacts/book/.
"""

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tools import lab_browser
from tools.book import NAMES, counterpart, page_language, toc
from tools.course import LANGUAGES, NOTEBOOKS_DIR, ROOT

ARTIFACTS = ROOT / "test-artifacts" / "book"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
#: Every page of the book: the landing page, the search page and each language's pages.
PAGES = ["index", "search"] + [name for lang, parts in toc().items()
                               for name in [f"{lang}/index", *parts["lessons"], *parts["guides"]]]
ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")

@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """``python -m tools.book`` into a temporary folder, as ``make book`` runs it."""
    out = tmp_path_factory.mktemp("book") / "html"
    start = time.monotonic()
    built = subprocess.run([sys.executable, "-m", "tools.book", "--out", str(out)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, (built.stdout + built.stderr)[-6000:]
    print(f"book built in {time.monotonic() - start:.0f} s")
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(book):
    """The built book on a free loopback port; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Visit:
    """What the page did since the last :meth:`reset`: requests, errors, failed requests."""

    def __init__(self, page) -> None:
        self.requests, self.errors, self.failed = [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text[:500]))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"[:500]))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} {r.status}"))

    def reset(self) -> None:
        self.requests.clear(), self.errors.clear(), self.failed.clear()


@pytest.fixture(scope="module")
def browser(server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with lab_browser.chromium_page(1400, 900) as page:
        yield page, Visit(page)


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    return frozenset(unquote(i) for i in ID.findall(path.read_text(encoding="utf-8")))


def _image_outputs(docname: str) -> int:
    """How many plots (image outputs) the lesson's committed notebook shows."""
    _, lang, stem = docname.split("/")
    notebook = json.loads((NOTEBOOKS_DIR / lang / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return sum(1 for cell in notebook["cells"] for output in cell.get("outputs", [])
               if any(mime in output.get("data", {}) for mime in IMAGE_MIMES))


def _check_loaded(visit: Visit, server: str, url: str) -> None:
    """No console error, no failed request, and every request to ``server`` (or data: URLs)."""
    assert visit.errors == [], f"{url}: console errors {visit.errors}"
    assert visit.failed == [], f"{url}: failed requests {visit.failed}"
    elsewhere = [r for r in visit.requests
                 if not r.startswith(f"{server}/") and not r.startswith(("data:", "blob:"))]
    assert elsewhere == [], f"{url}: requests that leave the loopback server {elsewhere}"


def test_every_built_page_is_checked(book):
    built = {p.relative_to(book).with_suffix("").as_posix() for p in book.rglob("*.html")
             if not p.relative_to(book).as_posix().startswith("_")}
    assert built == set(PAGES)


@pytest.mark.parametrize("docname", PAGES)
def test_page(browser, server, book, docname):
    page, visit = browser
    url = f"{server}/{docname}.html"
    visit.reset()
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    _check_loaded(visit, server, url)

    # Every internal link leads to a file of the book, and to an id in it when it names one.
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    broken = []
    for href in set(hrefs):
        if not href.startswith(f"{server}/"):
            continue
        parts = urlsplit(href)
        path = book / unquote(parts.path).lstrip("/")
        if parts.path.endswith("/"):
            path = path / "index.html"
        fragment = unquote(parts.fragment)
        if not path.is_file() or (fragment and path.suffix == ".html"
                                  and fragment not in _ids(path)):
            broken.append(href)
    assert broken == [], f"{url}: broken internal links {sorted(broken)}"

    lang = page_language(docname)
    assert page.get_attribute("html", "lang") == (lang or "en")
    if docname.startswith("notebooks/"):
        images = page.eval_on_selector_all(
            "article img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
        assert [src for src, width in images if not width] == [], f"{url}: images not rendered"
        plots = page.eval_on_selector_all(
            "article .cell_output img", "imgs => imgs.filter(i => i.naturalWidth > 0).length")
        assert plots == _image_outputs(docname), f"{url}: {plots} plots rendered"
        if docname.endswith("/00_introduction"):
            page.screenshot(path=str(ARTIFACTS / f"lesson00_{lang}.png"))

    # The language switch: the same page in the other language, whose switch leads back.
    other = counterpart(docname)
    switch = page.locator("a.book-lang-switch")
    if other is None:
        assert switch.count() == 0
        return
    other_lang = page_language(other)
    assert switch.count() == 1 and switch.is_visible(), f"{url}: no visible language switch"
    assert switch.inner_text().strip() == NAMES[other_lang]
    title = page.inner_text("article h1")
    visit.reset()
    with page.expect_navigation():
        switch.click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{server}/{other}.html"
    _check_loaded(visit, server, page.url)
    assert page.get_attribute("html", "lang") == other_lang
    if docname.startswith("notebooks/"):
        number = re.match(r"\d\d", Path(docname).name).group(0)
        other_title = page.inner_text("article h1")
        assert title.startswith(f"{number} ·") and other_title.startswith(f"{number} ·"), (
            title, other_title)
    back = page.locator("a.book-lang-switch")
    assert back.inner_text().strip() == NAMES[lang]
    assert back.evaluate("a => a.href") == url


def test_both_languages_have_every_lesson():
    contents = toc()
    stems = {lang: [name.rsplit("/", 1)[1] for name in contents[lang]["lessons"]]
             for lang in LANGUAGES}
    assert stems["es"] == stems["en"] and len(stems["es"]) >= 11


def test_opened_from_disk(browser, book):
    """``make book`` says to open build/book/html/index.html: from disk (file://), no server."""
    page, visit = browser
    root = book.as_uri()
    for name in ["index.html", "notebooks/es/00_introduction.html", "search.html?q=dask"]:
        visit.reset()
        page.goto(f"{root}/{name}", wait_until="load")
        if name.startswith("search"):
            page.wait_for_selector("#search-results li", timeout=10_000)
        page.wait_for_load_state("networkidle")
        _check_loaded(visit, root, name)
        widths = page.eval_on_selector_all("article img", "imgs => imgs.map(i => i.naturalWidth)")
        assert all(widths), f"{name}: images not rendered from disk"
