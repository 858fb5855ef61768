"""FTCS solvers of the Gray-Scott model: one API over a NumPy reference, Numba CPU and Numba CUDA."""

from __future__ import annotations

import os

from .engine import BACKENDS, BlowUpError, SimulationResult, integrate, resolve_backend, simulate
from .stencils import FLUSH_THRESHOLD, STENCILS, stability_limit


def cuda_available(real_gpu_only: bool = False) -> bool:
    """Whether the ``cuda`` backend can run.

    Parameters
    ----------
    real_gpu_only : bool, optional
        Count only a real GPU, not Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``).

    Returns
    -------
    bool
        True if a GPU is visible, or (unless ``real_gpu_only``) the simulator is enabled.
    """
    if real_gpu_only and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    try:
        from .cuda import available
    except ImportError:  # numba-cuda not installed
        return False
    return available()


__all__ = ["BACKENDS", "STENCILS", "FLUSH_THRESHOLD", "BlowUpError", "SimulationResult", "cuda_available",
           "integrate", "resolve_backend", "simulate", "stability_limit"]
