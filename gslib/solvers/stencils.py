"""Discrete Laplacians of the FTCS scheme, their forward-Euler stability bound, and the flush threshold.

Both stencils act on a periodic grid of spacing ``dx`` and are divided by ``dx**2``:

* ``"5pt"`` (the CNN paper's text): edges 1, centre -4.
* ``"9pt"`` (the CNN paper's code, isotropic): edges 0.5, corners 0.25, centre -3.

The most negative eigenvalue of the 5-point stencil is ``-8/dx**2`` (the checkerboard mode) and of
the 9-point stencil ``-4/dx**2`` (its symbol is ``-4 + (1 + cos a)(1 + cos b)``). Forward Euler on
``du/dt = D lap u`` is stable while ``dt * D * |lambda_min| <= 2``, which gives the bounds of
:func:`stability_limit`: ``dx**2 / (4 D)`` for 5 points and ``dx**2 / (2 D)`` for 9 points. The
reaction terms of the Gray-Scott model (rates of order f + k and v**2, at most a few tenths) move the
bound by a few percent at most; the engine also detects runs that blow up.
"""

from __future__ import annotations

import numpy as np

STENCILS = ("5pt", "9pt")

#: Magnitude of the most negative eigenvalue of each stencil, times dx**2.
SPECTRAL_RADIUS = {"5pt": 8.0, "9pt": 4.0}

#: v is set to 0 where |v| falls below this value after each step. Where v decays (the H state and
#: everywhere fronts never reach) it would otherwise turn subnormal and slow the CPU by tens of times;
#: in float32 1e-15 keeps u*v**2 a normal number. The state (1, 0) is linearly stable, so removing
#: values this small does not change the physics.
FLUSH_THRESHOLD = {np.dtype(np.float32): 1e-15, np.dtype(np.float64): 1e-150}


def check_stencil(stencil: str) -> str:
    """Return ``stencil`` if it is a known stencil, else raise ValueError."""
    if stencil not in STENCILS:
        raise ValueError(f"stencil={stencil!r} is not a stencil; allowed: {', '.join(map(repr, STENCILS))}")
    return stencil


def stability_limit(D: float, dx: float = 1.0, stencil: str = "9pt") -> float:
    """Largest stable forward-Euler time step for diffusivity ``D`` (length**2/time), spacing ``dx``."""
    check_stencil(stencil)
    if D <= 0:
        return float("inf")
    return 2.0 * dx * dx / (SPECTRAL_RADIUS[stencil] * D)
