"""The course's data-size switch.

Every lesson sizes its data with :func:`pick`, so one environment variable scales the
whole course::

    COURSE_SIZE=small   # default: laptops, Binder, CI (each notebook well under a minute)
    COURSE_SIZE=full    # instructors on a big machine or a real cluster

Example::

    from helpers.sizes import pick
    n_rows = pick(small=200_000, full=20_000_000)
"""

from __future__ import annotations

import os
from typing import TypeVar

ENV_VAR = "COURSE_SIZE"
SIZES = ("small", "full")
DEFAULT_SIZE = "small"

T = TypeVar("T")


def current_size() -> str:
    """Return the active size, ``"small"`` or ``"full"``, read from ``COURSE_SIZE``.

    Unset or empty means :data:`DEFAULT_SIZE`; case and surrounding spaces do not matter.

    Returns
    -------
    str
        ``"small"`` or ``"full"``.

    Raises
    ------
    ValueError
        With the accepted values, when the variable holds anything else.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {ENV_VAR: " Full "}):
    ...     current_size()
    'full'
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "huge"}):
    ...     current_size()
    Traceback (most recent call last):
    ...
    ValueError: COURSE_SIZE='huge' is not a course size. Use one of small, full (for example: \
export COURSE_SIZE=small), or unset it to get 'small'.
    """
    value = os.environ.get(ENV_VAR, DEFAULT_SIZE).strip().lower() or DEFAULT_SIZE
    if value not in SIZES:
        from helpers.i18n import text

        raise ValueError(text(
            es=f"{ENV_VAR}={os.environ[ENV_VAR]!r} no es un tamaño del curso. "
               f"Usa uno de {', '.join(SIZES)} (por ejemplo: export {ENV_VAR}=small), "
               f"o bórrala para tener {DEFAULT_SIZE!r}.",
            en=f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not a course size. "
               f"Use one of {', '.join(SIZES)} (for example: export {ENV_VAR}=small), "
               f"or unset it to get {DEFAULT_SIZE!r}.",
        ))
    return value


def pick(*, small: T, full: T) -> T:
    """Return ``small`` or ``full`` depending on :func:`current_size`.

    Parameters
    ----------
    small : object
        The value for laptops, Binder and CI (the default size).
    full : object
        The value for a big machine or a real cluster.

    Returns
    -------
    object
        ``small`` or ``full``, as given.

    Raises
    ------
    ValueError
        When ``COURSE_SIZE`` holds neither size (:func:`current_size`).

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "small"}):
    ...     pick(small=200_000, full=20_000_000)
    200000
    >>> with mock.patch.dict(os.environ, {ENV_VAR: "full"}):
    ...     pick(small=200_000, full=20_000_000)
    20000000
    """
    return small if current_size() == "small" else full
