"""Does a built notebook read in its own language? Does its code match the other language's?

Two checks over the built notebooks, used by ``tests/test_language.py`` and handy by hand::

    python -m tools.language            # every wrong-language line, every lesson
    python -m tools.language 05 --lang es

* :func:`wrong_language_texts` lists what a student reads in the other language: output lines,
  string literals and comments of the code cells. It counts short function words ("the", "of",
  "is" against "el", "de", "es"), the most reliable sign of a language in a short text, and
  accented letters, which English text does not have. Strings of fewer than three words are not
  judged (identifiers, units, library names).
* :func:`logic_signature` is a code cell with every string literal, f-string text and comment
  taken out, so the Spanish and English notebooks of a lesson must have equal signatures: they
  differ only in what the student reads, never in logic.
"""

from __future__ import annotations

import argparse
import ast
import html
import re
import sys

from tools.bilingual import code_comments
from tools.course import LANGUAGES, lessons_from_arguments, notebook_path

#: Function words that occur in one language only (no word is in both lists).
STOPWORDS = {
    "en": frozenset(
        "the and of to is are with for than that this from not each every was were its it be an "
        "or after before which has have does on in at by as only same into will can we you your "
        "they there their when what how but if then while these those them our here".split()
    ),
    "es": frozenset(
        "el la los las de del y que en con por para una un es son más se su sus al lo como cada "
        "sin entre sobre tras muy ya pero este esta estos estas ese esa hay también mismo misma "
        "cuando donde qué cómo porque ni le les nos fue ser está están tiene tienen frente aquí "
        "ahora menos hasta".split()
    ),
}
SPANISH_LETTERS = re.compile("[áéíóúñ¿¡]", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
TAG = re.compile(r"<[^>]+>")
STYLE = re.compile(r"<style.*?</style>", re.DOTALL)
#: English plural marks such as "process(es)" are not the Spanish word "es".
PLURAL_MARK = re.compile(r"\((es|s)\)")
#: Text that no lesson can translate: names of things, library output kept as it is.
ALLOWED = (
    re.compile(r"^\s*Dashboard: "),
)
MIN_WORDS = 3


def language_scores(text: str) -> dict[str, int]:
    """How many words of ``text`` belong to each language (accents count for Spanish).

    Examples
    --------
    >>> language_scores("the data fit in memory")
    {'es': 0, 'en': 2}
    >>> language_scores("los datos caben en la memoria")
    {'es': 3, 'en': 0}
    """
    words = [w.lower() for w in WORD.findall(PLURAL_MARK.sub("", text))]
    scores = {lang: sum(w in STOPWORDS[lang] for w in words) for lang in LANGUAGES}
    scores["es"] += sum(bool(SPANISH_LETTERS.search(w)) for w in words if w not in STOPWORDS["es"])
    return scores


def reads_as_other_language(text: str, lang: str) -> bool:
    """True when ``text`` reads as the language that is not ``lang``.

    Examples
    --------
    >>> reads_as_other_language("Dask and NumPy agree on 4000 column means", "es")
    True
    >>> reads_as_other_language("Dask y NumPy coinciden en 4000 medias", "es")
    False
    >>> reads_as_other_language("Tiempo de reloj (s)", "en")
    True
    >>> reads_as_other_language("SVC(C=10, gamma=0.01)", "es")
    False
    """
    if len(WORD.findall(text)) < MIN_WORDS or any(p.search(text) for p in ALLOWED):
        return False
    other = next(x for x in LANGUAGES if x != lang)
    scores = language_scores(text)
    if other == "es":
        return scores["es"] >= 1 and scores["es"] >= scores["en"]
    return scores["en"] >= 2 and scores["en"] > scores["es"]


def _string_literals(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            texts.append(" ".join(v.value for v in node.values
                                  if isinstance(v, ast.Constant) and isinstance(v.value, str)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
    return texts


def _output_lines(output) -> list[str]:
    if output.output_type == "stream":
        text = output.text
    elif output.output_type in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "text/plain" in data and "text/html" not in data:
            text = data["text/plain"]
        elif "text/html" in data:
            text = html.unescape(TAG.sub(" ", STYLE.sub(" ", data["text/html"])))
        else:
            return []
    elif output.output_type == "error":
        text = f"{output.ename}: {output.evalue}"
    else:
        return []
    text = "".join(text) if isinstance(text, list) else text
    return [line for line in text.splitlines() if line.strip()]


def wrong_language_texts(notebook, lang: str) -> list[str]:
    """Every output line, string literal and comment of ``notebook`` that reads in the other
    language, as ``"cell N, where: text"``."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        candidates = [("string", s) for s in _string_literals(cell.source)]
        candidates += [("comment", c.lstrip("#").strip()) for c in code_comments(cell.source)]
        for output in cell.get("outputs", []):
            candidates += [("output", line) for line in _output_lines(output)]
        for where, text in candidates:
            if reads_as_other_language(text, lang):
                found.append(f"cell {index}, {where}: {text.strip()[:120]}")
    return found


class _Blind(ast.NodeTransformer):
    """Replace what the student reads (string literals, f-string text) by placeholders."""

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant("·"), node)
        return node

    def visit_JoinedStr(self, node):
        # The interpolated expressions are logic; their order and format may follow the sentence.
        values = sorted(ast.dump(self.visit(v.value)) for v in node.values
                        if isinstance(v, ast.FormattedValue))
        return ast.copy_location(ast.Constant("f·" + "|".join(values)), node)


def logic_signature(code: str) -> str:
    """The code of a cell with strings and comments blinded: equal across languages.

    Examples
    --------
    >>> logic_signature('print(f"{n} filas")  # cuenta') == logic_signature('print(f"{n} rows")')
    True
    >>> logic_signature('x = 1') == logic_signature('x = 2')
    False
    """
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(code)
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return python
    return ast.dump(_Blind().visit(tree))


def main(argv=None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson name prefixes, e.g. 03")
    parser.add_argument("--lang", choices=LANGUAGES, action="append")
    args = parser.parse_args(argv)
    sources = lessons_from_arguments(parser, args.lessons)
    total = 0
    for source in sources:
        for lang in args.lang or LANGUAGES:
            path = notebook_path(source, lang)
            for line in wrong_language_texts(nbformat.read(path, as_version=4), lang):
                print(f"{lang}/{source.stem}: {line}")
                total += 1
    print(f"{total} wrong-language texts")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
