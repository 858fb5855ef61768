"""Argument types of the ``gslib`` options, built on the shared checks of :mod:`gslib._validate`.

Each factory returns a function for ``argparse``'s ``type=``: it turns the text of an option into
a number, checks it with :func:`gslib._validate.check_int` or :func:`gslib._validate.check_real`,
and reports a bad value as an :class:`argparse.ArgumentTypeError`, which ``argparse`` prints after
the option's name (``argument --size: '2' must be an integer >= 4``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .._validate import check_int, check_real

__all__ = ["integer", "real", "measurement_noise"]


def _type_error(text: str, err: ValueError) -> argparse.ArgumentTypeError:
    """The check's message about ``NAME=VALUE``, told about the text the user typed."""
    _, sep, allowed = str(err).partition(" must be ")
    return argparse.ArgumentTypeError(f"{text!r} must be {allowed}" if sep else str(err))


def integer(minimum: int | None = None) -> Callable[[str], int]:
    """An ``argparse`` type: an integer, at least ``minimum``.

    Parameters
    ----------
    minimum : int, optional
        The smallest value allowed.

    Returns
    -------
    callable
        ``parse(text) -> int``, raising :class:`argparse.ArgumentTypeError` for bad text.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        try:
            return check_int("value", value, minimum=minimum)
        except ValueError as err:
            raise _type_error(text, err) from None

    parse.__name__ = "integer" if minimum is None else f"integer >= {minimum}"
    return parse


def real(*, minimum: float | None = None, positive: bool = False) -> Callable[[str], float]:
    """An ``argparse`` type: a finite real number, optionally ``> 0`` or at least ``minimum``.

    Parameters
    ----------
    minimum : float, optional
        The smallest value allowed.
    positive : bool
        Require a value ``> 0``.

    Returns
    -------
    callable
        ``parse(text) -> float``, raising :class:`argparse.ArgumentTypeError` for bad text.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        try:
            return check_real("value", value, minimum=minimum, positive=positive)
        except ValueError as err:
            raise _type_error(text, err) from None

    parse.__name__ = "positive number" if positive else "number"
    return parse


def measurement_noise(text: str):
    """The ``--measurement-noise`` of ``gslib infer``: ``"auto"``, ``"none"`` or a standard deviation >= 0.

    Parameters
    ----------
    text : str
        The option's text.

    Returns
    -------
    str or float
        ``"auto"``, ``"none"``, or the standard deviation.

    Raises
    ------
    argparse.ArgumentTypeError
        For anything else.
    """
    if text in ("auto", "none"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not auto, none or a number") from None
    try:
        return check_real("value", value, minimum=0.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be auto, none or a finite standard deviation >= 0") from None
