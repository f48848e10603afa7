"""The course's map, glossary and per-lesson navigation, in both languages, from one list each.

* Lessons, in order, with their titles: the ``# NN · Title`` heading of each language in
  ``lessons/NN_*.md``; which lessons are optional: :data:`OPTIONAL_LESSONS`.
* Terms: ``docs/terms.csv`` (the course's one list of terms); those with a definition in both
  languages make the glossary.
* Further reading: ``docs/further-reading.csv`` (links only; nothing is fetched).

:func:`add_navigation` is applied by ``tools.bilingual.split`` to every built notebook: a line at
the top and at the bottom with the previous and next lesson, the course map and the glossary, the
further-reading links at the bottom, and each glossary term linked to its entry where the lesson
first uses it. ``python -m tools.navigation`` writes the pages ``docs/glossary.<lang>.md`` and
``docs/course-map.<lang>.md``; a test checks that they are up to date.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tools.course import DOCS_DIR, LANGUAGES, ROOT, lesson_sources

TERMS_FILE = DOCS_DIR / "terms.csv"
FURTHER_READING_FILE = DOCS_DIR / "further-reading.csv"
#: The tag of the navigation cells the build adds (top and bottom of every notebook).
NAVIGATION_TAG = "navigation"
#: Lessons a student may skip, and why (shown in the map and in the links to them).
OPTIONAL_LESSONS = {
    "06": {"es": "opcional: las mismas ideas que la lección 07, con Keras en lugar de PyTorch",
           "en": "optional: the ideas of 07, with Keras instead of PyTorch"},
}
WORDS = {
    "map": {"es": "Mapa del curso", "en": "Course map"},
    "glossary": {"es": "Glosario", "en": "Glossary"},
    "optional": {"es": "opcional", "en": "optional"},
    "further": {"es": "Para saber más", "en": "Further reading"},
    "lesson": {"es": "Lección", "en": "Lesson"},
    "time": {"es": "Tiempo", "en": "Time"},
    "map_intro": {
        "es": "Las lecciones, en orden. Cada una empieza con sus objetivos y termina con "
              "ejercicios de corrección automática. Las marcadas como opcionales se pueden "
              "saltar.",
        "en": "The lessons, in order. Each starts with its objectives and ends with exercises "
              "that check themselves. Those marked optional can be skipped."},
    "glossary_intro": {
        "es": "Los términos que usa el curso, por orden alfabético, con su nombre en inglés "
              "entre paréntesis cuando es distinto: es el que verás en la documentación y en los "
              "mensajes de las bibliotecas.",
        "en": "The terms the course uses, with their Spanish name in the Spanish lessons."},
}
#: Terms that are also the name of a Dask API: a code span naming it counts as a use.
API_NAMES = {"persist": "persist", "compute": "compute", "delayed": "delayed", "future": "Future"}
#: ... and the ones whose word is an everyday word too: only the code span counts.
API_ONLY = {"persist", "compute", "delayed"}
OTHER_LANGUAGE = {"es": "en", "en": "es"}
TITLE = re.compile(r"^#\s+(\d\d)\s+·\s+(.+)$", re.MULTILINE)
ESTIMATED_TIME = re.compile(r"\*\*(?:Tiempo estimado|Estimated time):\*\*\s*(\d+)\s*min")


@dataclass(frozen=True)
class Lesson:
    """One lesson: its file stem (``03_parallel_search``), number and title in each language."""

    stem: str
    titles: dict
    minutes: int

    @property
    def number(self) -> str:
        return self.stem[:2]

    def notebook(self) -> str:
        """The lesson's notebook file name, relative to its language folder."""
        return f"{self.stem}.ipynb"

    def label(self, lang: str) -> str:
        """``NN · Title``, with ``(optional)`` for an optional lesson."""
        optional = f" ({WORDS['optional'][lang]})" if self.number in OPTIONAL_LESSONS else ""
        return f"{self.number} · {self.titles[lang]}{optional}"


@lru_cache(maxsize=1)
def lessons() -> tuple[Lesson, ...]:
    """Every lesson in order, read from the ``# NN · Title`` headings of ``lessons/*.md``."""
    from tools.bilingual import cell_languages, read_source

    found = []
    for source in lesson_sources():
        titles, minutes = {}, 0
        for cell in read_source(source).cells:
            langs = cell_languages(cell)
            match = TITLE.search(cell.source) if cell.cell_type == "markdown" else None
            if match and len(langs) == 1 and langs[0] not in titles:
                titles[langs[0]] = match.group(2).strip()
                time = ESTIMATED_TIME.search(cell.source)
                minutes = minutes or (int(time.group(1)) if time else 0)
        missing = set(LANGUAGES) - set(titles)
        if missing:
            raise ValueError(f"{source.name}: no '# NN · Title' heading in {sorted(missing)}")
        found.append(Lesson(source.stem, titles, minutes))
    return tuple(found)


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def glossary_terms() -> tuple[dict, ...]:
    """The terms of ``docs/terms.csv`` that have a definition in both languages, by concept."""
    terms = [t for t in _read_csv(TERMS_FILE) if t.get("definition_es") and t.get("definition_en")]
    return tuple(sorted(terms, key=lambda t: t["concept"]))


def anchor(concept: str) -> str:
    """The glossary anchor of a concept, the same in both languages.

    Examples
    --------
    >>> anchor("task graph")
    'task-graph'
    """
    return re.sub(r"[^a-z0-9]+", "-", concept.lower()).strip("-")


def _docs_link(page: str, lang: str, fragment: str = "") -> str:
    """A link from a notebook (``notebooks/<lang>/``) to a page of docs/."""
    return f"../../docs/{page}.{lang}.md" + (f"#{fragment}" if fragment else "")


def _forms(term: str, lang: str) -> list[str]:
    """The written forms of a term to look for: the term and its plurals (first word).

    Examples
    --------
    >>> _forms("partición", "es")
    ['partición', 'particiones']
    >>> _forms("worker", "es")
    ['worker', 'workers', 'workeres']
    >>> _forms("task graph", "en")
    ['task graph', 'tasks graph']
    """
    first, _, rest = term.partition(" ")
    if lang == "es" and first.endswith("ón"):
        plurals = [first[:-2] + "ones"]
    elif lang == "es" and first[-1] not in "aeiouáéíóú":
        plurals = [first + "s", first + "es"]  # borrowed words take -s (workers), others -es
    else:
        plurals = [first + "s"]
    return [term] + [" ".join(filter(None, [plural, rest])) for plural in plurals]


# Text that must not be linked inside: code spans, links and images, math, HTML tags, emphasis
# markers are fine.
_PROTECTED = re.compile(r"`[^`]*`|!?\[[^\]]*\]\([^)]*\)|\$[^$]*\$|<[^>]+>|https?://\S+")


def link_first_use(text: str, term: str, lang: str, target: str,
                   api_name: str | None = None, code_only: bool = False) -> tuple[str, bool]:
    """Link the first use of ``term`` (or its plural) in markdown ``text`` to ``target``.

    Headings, existing links, math and HTML are left alone, and so are code spans, except one
    that names the term's API (``api_name``: `` `persist()` ``, `` `dask.delayed` ``), which is
    linked whole; with ``code_only`` only such a code span counts (for a term that is also an
    everyday word, like *compute*). Returns the new text and whether a link was added.

    Examples
    --------
    >>> link_first_use("Each `worker` is a process; workers run tasks.", "worker", "en", "g#w")
    ('Each `worker` is a process; [workers](g#w) run tasks.', True)
    >>> link_first_use("## Workers", "worker", "en", "g#w")
    ('## Workers', False)
    >>> link_first_use("Call `x.persist()` now.", "persistir", "es", "g#p", api_name="persist")
    ('Call [`x.persist()`](g#p) now.', True)
    """
    words = "|".join(re.escape(f) for f in _forms(term, lang))
    patterns = [] if code_only else [rf"(?<![\w-])(?:{words})(?![\w-])"]
    if api_name:
        patterns.append(rf"`(?:[\w.]+\.)?{re.escape(api_name)}(?:\(\))?`")
    pattern = "|".join(patterns)
    pattern = re.compile(pattern, re.IGNORECASE)
    offset = 0
    for line in text.split("\n"):
        if not line.lstrip().startswith("#"):
            protected = [m.span() for m in _PROTECTED.finditer(line)]
            for match in pattern.finditer(line):
                start, end = match.span()
                if not match.group(0).startswith("`") and any(
                        a < end and start < b for a, b in protected):
                    continue
                if match.group(0).startswith("`") and any(
                        a < start < b or a < end < b for a, b in protected):
                    continue  # a code span inside a link or other protected text
                at = offset + start
                linked = f"[{match.group(0)}]({target})"
                return text[:at] + linked + text[offset + end:], True
        offset += len(line) + 1
    return text, False


def navigation_line(stem: str, lang: str) -> str:
    """The previous / map / glossary / next line of lesson ``stem`` in ``lang``."""
    order = lessons()
    stems = [lesson.stem for lesson in order]
    if stem not in stems:  # a lesson being written (or a test's): no neighbours yet
        return " · ".join([f"[{WORDS['map'][lang]}]({_docs_link('course-map', lang)})",
                           f"[{WORDS['glossary'][lang]}]({_docs_link('glossary', lang)})"])
    index = stems.index(stem)
    parts = []
    if index > 0:
        previous = order[index - 1]
        parts.append(f"[← {previous.label(lang)}]({previous.notebook()})")
    parts.append(f"[{WORDS['map'][lang]}]({_docs_link('course-map', lang)})")
    parts.append(f"[{WORDS['glossary'][lang]}]({_docs_link('glossary', lang)})")
    if index + 1 < len(order):
        following = order[index + 1]
        parts.append(f"[{following.label(lang)} →]({following.notebook()})")
    return " · ".join(parts)


def further_reading(number: str, lang: str) -> list[tuple[str, str]]:
    """The further-reading links of lesson ``number``: ``(title, url)`` pairs in ``lang``."""
    return [(row[f"title_{lang}"], row["url"]) for row in _read_csv(FURTHER_READING_FILE)
            if row["lesson"] == number]


def _navigation_cell(source: str, lang: str, position: str):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata = {"tags": [NAVIGATION_TAG], "slideshow": {"slide_type": "skip"}}
    cell["id"] = f"{lang}-nav-{position}"
    return cell


def add_navigation(notebook, stem: str, lang: str):
    """Add the navigation cells to a built notebook and link the glossary terms at first use.

    The notebook is changed in place and returned.
    """
    for term in glossary_terms():
        target = _docs_link("glossary", lang, anchor(term["concept"]))
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            cell.source, linked = link_first_use(cell.source, term[lang], lang, target,
                                                 api_name=API_NAMES.get(term["concept"]),
                                                 code_only=term["concept"] in API_ONLY)
            if linked:
                break
    line = navigation_line(stem, lang)
    reading = further_reading(stem[:2], lang)
    bottom = line
    if reading:
        links = "\n".join(f"- [{title}]({url})" for title, url in reading)
        bottom = f"**{WORDS['further'][lang]}**\n\n{links}\n\n{line}"
    notebook.cells.insert(0, _navigation_cell(line, lang, "top"))
    notebook.cells.append(_navigation_cell(bottom, lang, "bottom"))
    return notebook


def _sort_key(word: str) -> str:
    """Dictionary order: accents do not count (``época`` goes between ``driver`` and ``fragmento``).

    Examples
    --------
    >>> sorted(["worker", "época", "driver"], key=_sort_key)
    ['driver', 'época', 'worker']
    """
    return "".join(c for c in unicodedata.normalize("NFD", word.lower())
                   if not unicodedata.combining(c))


def glossary_page(lang: str) -> str:
    """The glossary in ``lang``: one entry per term, anchored by concept, with the other name."""
    other = OTHER_LANGUAGE[lang]
    lines = [f"# {WORDS['glossary'][lang]}", "", WORDS["glossary_intro"][lang], ""]
    for term in sorted(glossary_terms(), key=lambda t: _sort_key(t[lang])):
        name = term[lang]
        also = f" (*{term[other]}*)" if term[other].lower() != name.lower() else ""
        lines += [f'<a id="{anchor(term["concept"])}"></a>', "",
                  f"**{name}**{also}: {term[f'definition_{lang}']}", ""]
    lines += [f"[{WORDS['map'][lang]}](course-map.{lang}.md)", ""]
    return "\n".join(lines)


def course_map_page(lang: str) -> str:
    """The lesson map in ``lang``: every lesson in order, its time, whether it is optional."""
    lines = [f"# {WORDS['map'][lang]}", "", WORDS["map_intro"][lang], "",
             f"| {WORDS['lesson'][lang]} | {WORDS['time'][lang]} |", "|---|---|"]
    for lesson in lessons():
        note = OPTIONAL_LESSONS.get(lesson.number, {}).get(lang)
        link = f"../notebooks/{lang}/{lesson.notebook()}"
        title = f"[{lesson.number} · {lesson.titles[lang]}]({link})"
        lines.append(f"| {title}{f' — *{note}*' if note else ''} | {lesson.minutes} min |")
    lines += ["", f"[{WORDS['glossary'][lang]}](glossary.{lang}.md)", ""]
    return "\n".join(lines)


def generated_pages() -> dict[Path, str]:
    """Every page this module writes, by path."""
    pages = {}
    for lang in LANGUAGES:
        pages[DOCS_DIR / f"glossary.{lang}.md"] = glossary_page(lang)
        pages[DOCS_DIR / f"course-map.{lang}.md"] = course_map_page(lang)
    return pages


def main() -> int:
    for path, text in generated_pages().items():
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
