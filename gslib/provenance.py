"""Provenance records for the artefacts the book loads: which command, version, machine and time made them."""

from __future__ import annotations

import os
import platform
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version


def gslib_version() -> str:
    """The installed version of gslib (``0.0.0+unknown`` in a source tree that was not installed).

    Returns
    -------
    str
    """
    try:
        return _distribution_version("gslib")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def machine() -> str:
    """The machine in words: processor model, logical CPUs, operating system."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def now() -> str:
    """The local time as ISO 8601 with its UTC offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def record(command: str, seconds: float | None = None, **extra) -> dict:
    """A provenance record of an artefact.

    Parameters
    ----------
    command : str
        The command that made the artefact.
    seconds : float, optional
        Its wall time (s).
    **extra
        Further entries of the record.

    Returns
    -------
    dict
        Command, gslib version, machine, wall time (s), finishing time, and ``extra``.
    """
    rec = dict(command=command, gslib_version=gslib_version(), machine=machine(), finished=now())
    if seconds is not None:
        rec["wall_seconds"] = round(float(seconds), 1)
    return {**rec, **extra}
