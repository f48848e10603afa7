"""The language the student reads, and one-line checks that say what they verified.

Every lesson sets its language once, in its first code cell::

    from helpers.i18n import set_language
    set_language("es")      # the English notebook says "en"

From then on every piece of text that ``helpers`` shows (cluster summaries, measurement tables,
plot labels, the messages of errors raised for the student, the lines printed by :func:`check`)
is in that language. The default is English, so a script that never calls
:func:`set_language` reads English.

The lessons' own strings are not translated at run time: the bilingual build writes each
notebook with plain literals in its language (see ``tools.bilingual.localize_code``). This module
is only for text that lives in ``helpers``.

Nothing happens at import time.
"""

from __future__ import annotations

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "en"

_state = {"lang": DEFAULT_LANGUAGE}

#: Short words shared by several helpers, one entry per concept.
WORDS = {
    "verified": {"es": "Comprobado", "en": "Verified"},
    "not_true": {"es": "No se cumple", "en": "Not true"},
}


def _validate(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(
            f"lang={lang!r}: use one of {LANGUAGES} ('es' for Spanish, 'en' for English).")
    return lang


def set_language(lang: str) -> None:
    """Make ``lang`` (``"es"`` or ``"en"``) the language of everything ``helpers`` shows.

    Parameters
    ----------
    lang : str
        ``"es"`` for Spanish or ``"en"`` for English.

    Raises
    ------
    ValueError
        When ``lang`` is neither.

    Examples
    --------
    >>> set_language("es"); current_language()
    'es'
    >>> set_language("en"); current_language()
    'en'
    >>> set_language("fr")
    Traceback (most recent call last):
    ...
    ValueError: lang='fr': use one of ('es', 'en') ('es' for Spanish, 'en' for English).
    """
    _state["lang"] = _validate(lang)


def current_language() -> str:
    """The language set by :func:`set_language` (English until a lesson sets one).

    Returns
    -------
    str
        ``"es"`` or ``"en"``.

    Examples
    --------
    >>> set_language("es"); current_language()
    'es'
    >>> set_language("en")
    """
    return _state["lang"]


def resolve(lang: str | None) -> str:
    """``lang`` when given (validated), else the current language.

    What every function with a ``lang=None`` argument calls to decide its language.

    Parameters
    ----------
    lang : str or None
        ``"es"``, ``"en"``, or ``None`` for :func:`current_language`.

    Returns
    -------
    str
        ``"es"`` or ``"en"``.

    Raises
    ------
    ValueError
        When ``lang`` is a string other than ``"es"`` or ``"en"``.

    Examples
    --------
    >>> resolve("es")
    'es'
    >>> resolve(None) == current_language()
    True
    """
    return current_language() if lang is None else _validate(lang)


def text(*, es: str, en: str, lang: str | None = None) -> str:
    """Pick the Spanish or the English version of a message.

    Parameters
    ----------
    es, en : str
        The message in Spanish and in English.
    lang : str, optional
        ``"es"`` or ``"en"``; default: the current language (:func:`resolve`).

    Returns
    -------
    str
        ``es`` or ``en``.

    Examples
    --------
    >>> text(es="hola", en="hello", lang="es")
    'hola'
    >>> text(es="hola", en="hello", lang="en")
    'hello'
    """
    return {"es": es, "en": en}[resolve(lang)]


def warn(*, es: str, en: str, category: type[Warning] = UserWarning, stacklevel: int = 2) -> None:
    """``warnings.warn`` with the message in the lesson's language (:func:`text`).

    Parameters
    ----------
    es, en : str
        The message in Spanish and in English.
    category : type of Warning
        The warning's class.
    stacklevel : int
        Counts as for ``warnings.warn`` from the caller: 2 points at whoever called the
        function that calls this.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn(es="cuidado", en="careful", category=RuntimeWarning)
    >>> caught[0].category.__name__, str(caught[0].message)
    ('RuntimeWarning', 'careful')
    """
    import warnings

    warnings.warn(text(es=es, en=en), category, stacklevel=stacklevel + 1)


def word(key: str, lang: str | None = None) -> str:
    """A word from :data:`WORDS` in ``lang`` (or the current language).

    Parameters
    ----------
    key : str
        One of the keys of :data:`WORDS`.
    lang : str, optional
        ``"es"`` or ``"en"``; default: the current language.

    Returns
    -------
    str
        The word.

    Examples
    --------
    >>> word("verified", "es"), word("verified", "en")
    ('Comprobado', 'Verified')
    """
    return WORDS[key][resolve(lang)]


def check(condition, claim: str) -> None:
    """Verify ``condition``; print ``✔ Verified: claim`` or raise ``AssertionError``.

    The lessons guard their key results with it, so that a silently broken lesson fails CI, and
    the student reads one line saying what was verified instead of a bare ``assert``. ``claim``
    is a sentence in the lesson's language that is true when ``condition`` holds.

    Parameters
    ----------
    condition : bool
        What must hold (anything with a truth value; numpy booleans are fine).
    claim : str
        The sentence that ``condition`` proves, in the lesson's language.

    Raises
    ------
    AssertionError
        When ``condition`` is false; the message repeats the claim, so CI says what broke.

    Examples
    --------
    >>> set_language("en")
    >>> check(2 + 2 == 4, "two plus two is four")
    ✔ Verified: two plus two is four
    >>> check(2 + 2 == 5, "two plus two is five")
    Traceback (most recent call last):
    ...
    AssertionError: ✘ Not true: two plus two is five
    """
    if not bool(condition):
        raise AssertionError(f"✘ {word('not_true')}: {claim}")
    print(f"✔ {word('verified')}: {claim}")
