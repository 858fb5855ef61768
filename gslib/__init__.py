"""gslib: the companion library of gsbook, on pattern formation in the Gray-Scott model."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import initial, model, scale
from .model import homogeneous_states
from .solvers import BlowUpError, SimulationResult, integrate, simulate, stability_limit

try:
    __version__ = version("gslib")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"


__all__ = ["BlowUpError", "SimulationResult", "__version__", "homogeneous_states", "initial", "integrate", "model", "scale",
           "simulate", "stability_limit"]
