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

**Analysis stencils.** Equation inference and the inverse problem (:mod:`gslib.inference`,
:func:`gslib.inversion.residual_fit`) must evaluate the Laplacian of *someone else's* data with the
discretisation that made it, so they know two more (:data:`ANALYSIS_STENCILS`,
:func:`analysis_laplacian`; the solvers keep their two):

* ``"9pt-iso"``: the isotropic 9-point stencil, edges 2/3, corners 1/6, centre -10/3 (its leading
  error is ``lap^2 / 12``, the same in every direction; a corner weight of 1/3 relative to the edges,
  e.g. py-pde's isotropic 9-point option);
* ``"spectral"``: the Fourier Laplacian ``-|q|^2`` on the periodic grid (``q = 2 pi fftfreq(N, dx)``),
  for data from spectral codes or from experiments, where no stencil is the right one.

In Fourier space all four are symbols ``L(q)`` (:func:`laplacian_symbol`), with ``a = qx dx``,
``b = qy dx``: ``(2 cos a + 2 cos b - 4) / dx^2`` (5pt), ``(cos a + cos b + cos a cos b - 3) / dx^2``
(9pt), ``(4 cos a + 4 cos b + 2 cos a cos b - 10) / (3 dx^2)`` (9pt-iso), ``-(qx^2 + qy^2)``
(spectral). Expanded, ``-|q|^2 + dx^2 (qx^4 + qy^4) / 12 + c dx^2 qx^2 qy^2`` with ``c = 0`` (5pt),
1/4 (9pt) and 1/6 (9pt-iso, which makes the fourth-order term ``dx^2 |q|^4 / 12``).
"""

from __future__ import annotations

import numpy as np

# The solvers' two stencils and their stability bound belong to the discretisation (gslib.params.Scheme);
# they are defined there and re-exported here.
from ..params import SPECTRAL_RADIUS, STENCILS, check_stencil, stability_limit
from .reference import laplacian

__all__ = [
    "STENCILS",
    "ANALYSIS_STENCILS",
    "SPECTRAL_RADIUS",
    "FLUSH_THRESHOLD",
    "check_stencil",
    "stability_limit",
    "check_analysis_stencil",
    "laplacian_symbol",
    "analysis_laplacian",
]

#: Laplacians known to the analysis (inference, inversion): the solvers' two, isotropic 9-point, spectral.
ANALYSIS_STENCILS = ("5pt", "9pt", "9pt-iso", "spectral")

#: v is set to 0 where ``|v|`` falls below this value after each step. Where v decays (the H state and
#: everywhere fronts never reach) it would otherwise turn subnormal and slow the CPU by tens of times;
#: in float32 1e-15 keeps u*v**2 a normal number. The state (1, 0) is linearly stable, so removing
#: values this small does not change the physics.
FLUSH_THRESHOLD = {np.dtype(np.float32): 1e-15, np.dtype(np.float64): 1e-150}


def check_analysis_stencil(stencil: str, auto: bool = False) -> str:
    """Check the name of an analysis stencil (:data:`ANALYSIS_STENCILS`).

    Parameters
    ----------
    stencil : str
        ``'5pt'``, ``'9pt'``, ``'9pt-iso'``, ``'spectral'`` (or ``'auto'`` where allowed).
    auto : bool
        Whether ``'auto'`` (choose from the data) is allowed.

    Returns
    -------
    str
        ``stencil``.

    Raises
    ------
    ValueError
        If ``stencil`` is not one of them.
    """
    allowed = (("auto",) if auto else ()) + ANALYSIS_STENCILS
    if stencil not in allowed:
        raise ValueError(f"stencil={stencil!r} is not a stencil; allowed: {', '.join(map(repr, allowed))}")
    return stencil


def laplacian_symbol(n: int, m: int, dx: float = 1.0, stencil: str = "9pt") -> np.ndarray:
    """Fourier symbol ``L(q)`` of a periodic discrete Laplacian on the full FFT grid (n, m).

    Parameters
    ----------
    n, m : int
        Grid shape (rows, columns).
    dx : float
        Grid spacing.
    stencil : {'5pt', '9pt', '9pt-iso', 'spectral'}
        The Laplacian (module docstring).

    Returns
    -------
    numpy.ndarray
        ``L(q)``, real, ``(n, m)``: the Laplacian of ``exp(i q.x)`` is ``L(q) exp(i q.x)``.

    Raises
    ------
    ValueError
        If ``stencil`` is not an analysis stencil.
    """
    check_analysis_stencil(stencil)
    qy = 2 * np.pi * np.fft.fftfreq(n, d=dx)
    qx = 2 * np.pi * np.fft.fftfreq(m, d=dx)
    qy, qx = np.meshgrid(qy, qx, indexing="ij")
    if stencil == "spectral":
        return -(qx**2 + qy**2)
    ca, cb = np.cos(qx * dx), np.cos(qy * dx)
    if stencil == "5pt":
        return (2 * ca + 2 * cb - 4) / dx**2
    if stencil == "9pt":
        return (ca + cb + ca * cb - 3) / dx**2
    return (4 * ca + 4 * cb + 2 * ca * cb - 10) / (3 * dx**2)


def analysis_laplacian(a: np.ndarray, dx: float = 1.0, stencil: str = "9pt") -> np.ndarray:
    """Periodic discrete Laplacian over the last two axes, for any analysis stencil.

    Parameters
    ----------
    a : numpy.ndarray
        Field ``(..., N, M)``.
    dx : float
        Grid spacing.
    stencil : {'5pt', '9pt', '9pt-iso', 'spectral'}
        The Laplacian (module docstring); ``'5pt'`` and ``'9pt'`` are the solvers' own.

    Returns
    -------
    numpy.ndarray
        The Laplacian of ``a``, float64, shape of ``a``.

    Raises
    ------
    ValueError
        If ``stencil`` is not an analysis stencil.
    """
    check_analysis_stencil(stencil)
    a = np.asarray(a, dtype=np.float64)
    if stencil in STENCILS:
        return laplacian(a, dx, stencil)
    if stencil == "spectral":
        n, m = a.shape[-2:]
        symbol = laplacian_symbol(n, m, dx, "spectral")[:, : m // 2 + 1]
        return np.fft.irfft2(np.fft.rfft2(a) * symbol, s=(n, m))
    north, south = np.roll(a, 1, axis=-2), np.roll(a, -1, axis=-2)
    edges = north + south + np.roll(a, 1, axis=-1) + np.roll(a, -1, axis=-1)
    corners = (
        np.roll(north, 1, axis=-1)
        + np.roll(north, -1, axis=-1)
        + np.roll(south, 1, axis=-1)
        + np.roll(south, -1, axis=-1)
    )
    return ((2.0 / 3.0) * edges + (1.0 / 6.0) * corners - (10.0 / 3.0) * a) / dx**2
