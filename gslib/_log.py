"""Progress messages of gslib's long jobs, through :mod:`logging`.

Library functions that report progress take ``log=None``: by default they send their messages to
the logger ``gslib.<module>`` at level INFO, which shows nothing until an application configures
logging. The command line does (:func:`show_progress`); a notebook can call it too, or pass
``log=print``. Any callable taking one string is accepted.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

__all__ = ["progress_logger", "show_progress"]


def progress_logger(log, module: str) -> Callable[[str], None]:
    """The callable that a long job reports to: ``log`` itself, or the module's logger.

    Parameters
    ----------
    log : callable or None
        A callable taking one message, or ``None`` for ``logging.getLogger(module).info``.
    module : str
        The reporting module's ``__name__``.

    Returns
    -------
    callable
    """
    if log is None:
        return logging.getLogger(module).info
    if not callable(log):
        raise ValueError(f"log={log!r} must be a callable taking one message, or None")
    return log


def show_progress(level: int = logging.INFO, stream=None) -> None:
    """Print gslib's progress messages (logger ``gslib``) to ``stream`` (default standard error).

    Parameters
    ----------
    level : int
        The lowest level shown.
    stream : file-like, optional
        Where the messages go.
    """
    logger = logging.getLogger("gslib")
    logger.setLevel(level)
    for handler in logger.handlers:
        if getattr(handler, "_gslib_progress", False):
            handler.setLevel(level)
            return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(level)
    handler._gslib_progress = True
    logger.addHandler(handler)
    logger.propagate = False
