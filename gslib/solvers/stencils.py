"""Discrete Laplacians of the FTCS scheme, their forward-Euler stability bound, and the flush threshold.

Both stencils act on a periodic grid of spacing ``dx`` and are divided by ``dx**2``:

* ``"5pt"`` (the CNN paper's text): edges 1, centre -4.
* ``"9pt"`` (the CNN paper's code): edges 0.5, corners 0.25, centre -3. Not isotropic: its
  leading error term depends on direction (the isotropic 9-point stencil has edges 2/3, corners 1/6,
  centre -10/3).

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

#: v is set to 0 where ``|v|`` falls below this value after each step. Where v decays (the H state and
#: everywhere fronts never reach) it would otherwise turn subnormal and slow the CPU by tens of times;
#: in float32 1e-15 keeps u*v**2 a normal number. The state (1, 0) is linearly stable, so removing
#: values this small does not change the physics.
FLUSH_THRESHOLD = {np.dtype(np.float32): 1e-15, np.dtype(np.float64): 1e-150}


def check_stencil(stencil: str) -> str:
    """Check a stencil name.

    Parameters
    ----------
    stencil : str
        ``'5pt'`` or ``'9pt'``.

    Returns
    -------
    str
        ``stencil``.

    Raises
    ------
    ValueError
        If ``stencil`` is not a known stencil.
    """
    if stencil not in STENCILS:
        raise ValueError(f"stencil={stencil!r} is not a stencil; allowed: {', '.join(map(repr, STENCILS))}")
    return stencil


def stability_limit(D: float, dx: float = 1.0, stencil: str = "9pt") -> float:
    """Largest stable forward-Euler time step of the diffusion part of the scheme.

    Parameters
    ----------
    D : float
        Largest diffusivity (length**2/time).
    dx : float, optional
        Grid spacing.
    stencil : {'9pt', '5pt'}, optional
        The stencil.

    Returns
    -------
    float
        ``2 dx**2 / (rho D)``, rho the stencil's spectral radius (8 for 5pt, 4 for 9pt);
        infinite for ``D <= 0``.

    Raises
    ------
    ValueError
        If ``stencil`` is not a known stencil.
    """
    check_stencil(stencil)
    if D <= 0:
        return float("inf")
    return 2.0 * dx * dx / (SPECTRAL_RADIUS[stencil] * D)
