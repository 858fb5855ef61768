"""FTCS solvers of the Gray-Scott model: one API over a NumPy reference, Numba CPU and Numba CUDA."""

from __future__ import annotations

from .engine import BACKENDS, BlowUpError, SimulationResult, cuda_available, integrate, resolve_backend, simulate
from .stencils import FLUSH_THRESHOLD, STENCILS, stability_limit

__all__ = [
    "BACKENDS",
    "STENCILS",
    "FLUSH_THRESHOLD",
    "BlowUpError",
    "SimulationResult",
    "cuda_available",
    "integrate",
    "resolve_backend",
    "simulate",
    "stability_limit",
]
