"""The argument checks that every part of gslib shares.

Each check returns the value in its canonical type, or raises :class:`ValueError` naming the
argument, the value it got and the allowed range, so the message reads the same wherever the
argument came from (a function, the command line, a widget).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_int", "check_real", "check_choice", "check_range", "steps_of"]


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int``, or a ValueError naming ``name`` and the allowed range.

    Parameters
    ----------
    name : str
        The argument's name, as the caller spells it (``"steps"``, ``"--size"``).
    value : object
        An integer (Python or NumPy); booleans and floats are refused.
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    int
    """
    if minimum is not None and maximum is not None:
        allowed = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        allowed = f"an integer >= {minimum}"
    elif maximum is not None:
        allowed = f"an integer <= {maximum}"
    else:
        allowed = "an integer"
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={value!r} must be {allowed}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name}={value!r} must be {allowed}")
    return value


def check_real(
    name: str, value, *, minimum: float | None = None, maximum: float | None = None, positive: bool = False
) -> float:
    """``value`` as a finite ``float``, or a ValueError naming ``name`` and the allowed range.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        A real number (Python or NumPy); booleans, NaN and infinities are refused.
    minimum, maximum : float, optional
        Inclusive bounds.
    positive : bool
        Require ``value > 0``.

    Returns
    -------
    float
    """
    parts = ["a finite real number"]
    if positive:
        parts.append("> 0")
    if minimum is not None:
        parts.append(f">= {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    allowed = " ".join(parts[:1]) + ("" if len(parts) == 1 else " " + " and ".join(parts[1:]))
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r} must be {allowed}")
    x = float(value)
    if (
        not math.isfinite(x)
        or (positive and x <= 0)
        or (minimum is not None and x < minimum)
        or (maximum is not None and x > maximum)
    ):
        raise ValueError(f"{name}={value!r} must be {allowed}")
    return x


def check_choice(name: str, value, choices) -> str:
    """``value`` if it is one of ``choices``, else a ValueError listing them.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        The value given.
    choices : iterable of str
        The allowed values.

    Returns
    -------
    str
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} must be one of {', '.join(map(repr, choices))}")
    return value


def check_range(name: str, value) -> tuple[float, float]:
    """``value`` as a pair ``(low, high)`` of finite floats with ``low < high``, or a ValueError.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        A pair of real numbers.

    Returns
    -------
    tuple of float
    """
    try:
        lo, hi = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers with low < high; got {value!r}")
    return lo, hi


def steps_of(time, dt, name: str = "t", dt_name: str = "dt") -> int:
    """The number of steps ``time / dt``, or a ValueError if ``time`` is not a multiple of ``dt``.

    Parameters
    ----------
    time : float
        A duration (time units), >= 0.
    dt : float
        The time step (time units), > 0.
    name, dt_name : str
        The arguments' names for the messages.

    Returns
    -------
    int
    """
    time = check_real(name, time, minimum=0.0)
    dt = check_real(dt_name, dt, positive=True)
    steps = round(time / dt)
    if abs(steps * dt - time) > 1e-9 * max(1.0, abs(time)):
        nearest = sorted({math.floor(time / dt) * dt, math.ceil(time / dt) * dt})
        raise ValueError(
            f"{name}={time:g} is not a multiple of {dt_name}={dt:g} (time units); "
            f"the nearest multiples are {' and '.join(f'{t:g}' for t in nearest)}"
        )
    return int(steps)
