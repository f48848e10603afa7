"""What the student reads is in the notebook's language, and the two languages share one logic."""

import nbformat
import pytest

from tools.bilingual import read_source, split
from tools.course import DOCS_DIR, LANGUAGES, lesson_sources, notebook_path
from tools.language import logic_signature, reads_as_other_language, wrong_language_texts

SOURCES = lesson_sources()
IDS = [s.stem for s in SOURCES]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_notebook_reads_in_its_language(source, lang):
    notebook = nbformat.read(notebook_path(source, lang), as_version=4)
    wrong = wrong_language_texts(notebook, lang)
    assert wrong == [], (
        f"{lang}/{source.stem} shows text in the other language (put it in tr(es=..., en=...), "
        "tag its comments '# es:'/'# en:', or make the helper follow set_language):\n  "
        + "\n  ".join(wrong)
    )


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_languages_differ_only_in_what_the_student_reads(source):
    bilingual = read_source(source)
    code = {lang: [c.source for c in split(bilingual, lang, source.stem).cells
                   if c.cell_type == "code"] for lang in LANGUAGES}
    assert len(code["es"]) == len(code["en"]), "both languages must have the same code cells"
    for index, (es, en) in enumerate(zip(code["es"], code["en"], strict=True)):
        assert logic_signature(es) == logic_signature(en), (
            f"{source.stem}: code cell {index} differs in logic between languages:\n{es}\n---\n{en}"
        )


# The heuristics themselves must catch what they promise to catch.

@pytest.mark.parametrize("text, lang", [
    ("Dask and NumPy agree on 4000 column means", "es"),
    ("the data are 4.4× the cluster's memory", "es"),
    ("Tiempo de reloj (s)", "en"),
    ("Spark necesita Java 17 y aquí no está", "en"),
])
def test_other_language_is_caught(text, lang):
    assert reads_as_other_language(text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Dask y NumPy coinciden en 4000 medias", "es"),
    ("scheduler  1 process(es)  160 MiB", "en"),
    ("SVC(C=10, gamma=0.01)", "es"),
    ("Dashboard: http://127.0.0.1:8787/status", "es"),
])
def test_own_language_and_names_pass(text, lang):
    assert not reads_as_other_language(text, lang)


def test_logic_difference_is_caught():
    assert logic_signature('print(f"{a} filas")') == logic_signature('print(f"{a} rows")')
    assert logic_signature('print(f"{a} filas")') != logic_signature('print(f"{b} rows")')
    assert logic_signature("x = [1, 2]") != logic_signature("x = [1, 3]")


def _terms():
    import csv

    with open(DOCS_DIR / "terms.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_terms_list_has_one_spanish_term_per_concept():
    terms = _terms()
    assert len({t["concept"] for t in terms}) == len(terms), "a concept is listed twice"
    for term in terms:
        assert term["es"] and term["en"], term
        assert term["es"] not in term["avoid_es"].split("|"), term


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_spanish_prose_uses_the_course_terms(source):
    import re

    prose = " ".join(c.source for c in read_source(source).cells
                     if c.cell_type == "markdown" and "es" in c.metadata.get("tags", []))
    prose = re.sub(r"`[^`]*`", " ", prose)  # code spans name APIs and data values, not terms
    found = []
    for term in _terms():
        for avoid in filter(None, term["avoid_es"].split("|")):
            if re.search(rf"(?<!\w){re.escape(avoid)}(?!\w)", prose, re.IGNORECASE):
                found.append(f"«{avoid}» for {term['concept']}: write «{term['es']}»")
    assert found == [], f"{source.stem}: " + "; ".join(found)
