"""The one switch that sizes every computation of the book: ``GSLIB_SCALE``.

``ci``    keeps the whole test suite fast (each chapter well under a minute);
``book``  (the default) renders the book on a 2-core laptop CPU;
``paper`` uses the source papers' full sizes (on a GPU where available).

Chapters call :func:`pick` so that the three sizes of each quantity stand side by side::

    n_steps = gslib.scale.pick(ci=2_000, book=20_000, paper=60_000)
"""

from __future__ import annotations

import os

from ._validate import check_choice

SCALES = ("ci", "book", "paper")
DEFAULT_SCALE = "book"
ENV_VAR = "GSLIB_SCALE"


def current() -> str:
    """The active scale, read from the environment variable ``GSLIB_SCALE`` (default ``book``).

    Returns
    -------
    str
        One of :data:`SCALES`.

    Raises
    ------
    ValueError
        If the variable names no scale.
    """
    value = os.environ.get(ENV_VAR, DEFAULT_SCALE).strip().lower() or DEFAULT_SCALE
    if value not in SCALES:
        raise ValueError(f"{ENV_VAR}={value!r} is not a scale; allowed: {', '.join(SCALES)}")
    return value


def pick(*, ci, book, paper, scale: str | None = None):
    """Return the value given for the active scale (or for ``scale`` when given).

    Parameters
    ----------
    ci, book, paper
        The values for each scale.
    scale : {'ci', 'book', 'paper'}, optional
        The scale to use; default the active one (``GSLIB_SCALE``).

    Returns
    -------
    object
        One of ``ci``, ``book``, ``paper``.

    Raises
    ------
    ValueError
        If ``scale`` is not a known scale.
    """
    scale = current() if scale is None else check_choice("scale", scale, SCALES)
    return {"ci": ci, "book": book, "paper": paper}[scale]
