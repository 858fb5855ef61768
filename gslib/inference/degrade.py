"""Degrading clean simulation data the way a real measurement would: missing pixels, measurement
noise, a coarser camera.

These three helpers are what chapter 4 uses to test how robust force inference is:

:func:`random_mask`            dead pixels, drawn independently per cell (and per frame for a
                               ``(T, N, M)`` shape); ``True`` marks a *valid* pixel, the
                               convention of ``infer(..., mask=...)``;
:func:`add_measurement_noise`  a white Gaussian noise added to every recorded value; it is not
                               part of the dynamics (:func:`gslib.inference.infer` estimates its
                               level and removes its effects by default, see
                               :mod:`~gslib.inference.errors_in_variables`);
:func:`coarsen`                block averages over ``factor x factor`` cells, as a camera with
                               ``factor`` times larger pixels records them; the grid spacing grows
                               by ``factor`` so that derivatives (and the inferred diffusivities)
                               stay in physical units.

Coarsening is the harsh one: block averages of the stochastic Gray-Scott fields do not obey the
Gray-Scott equations on the coarse grid (the grid-scale noise is folded onto coarse modes that relax
faster than the coarse Laplacian says), so inference on them selects spurious terms and
overestimates the diffusivities even by a factor of 2 (chapter 4).

Each function is deterministic given its ``seed`` (one ``numpy.random.default_rng(seed)`` per
call), so the chapter's experiments are reproducible.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_int, check_real

__all__ = ["random_mask", "add_measurement_noise", "coarsen"]


def _shape(shape) -> tuple:
    dims = (shape,) if isinstance(shape, numbers.Integral) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) and s >= 0 for s in dims
    ):
        raise ValueError(f"shape={shape!r} must be a tuple of non-negative integers")
    return tuple(int(s) for s in dims)


def random_mask(shape, fraction: float, seed=None) -> np.ndarray:
    """A boolean mask of ``shape`` with about ``fraction`` of the cells missing.

    ``True`` = valid, ``False`` = missing (the convention of :func:`gslib.inference.infer`). Each
    cell is missing independently with probability ``fraction``: the mask is
    ``default_rng(seed).random(shape) >= fraction``.

    Parameters
    ----------
    shape : int or tuple of int
        ``(T, N, M)`` for pixels that fail frame by frame, ``(N, M)`` for dead pixels fixed over
        the whole movie.
    fraction : float
        Probability that a cell is missing, in [0, 1].
    seed : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray
        Boolean mask of ``shape``.

    Raises
    ------
    ValueError
        If ``shape`` is not a tuple of non-negative integers or ``fraction`` is outside [0, 1].
    """
    shape = _shape(shape)
    fraction = check_real("fraction", fraction, minimum=0.0, maximum=1.0)
    return np.random.default_rng(seed).random(shape) >= fraction


def add_measurement_noise(u, v, std: float, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """``(u + std * xi_u, v + std * xi_v)`` with independent standard normal ``xi`` per value.

    One ``default_rng(seed)`` draws ``xi_u`` first, then ``xi_v``. The inputs are not modified.
    :func:`gslib.inference.infer` estimates ``std`` from such data and corrects for it
    (``measurement_noise="auto"``, its default).

    Parameters
    ----------
    u, v : array_like
        Recorded fields, any shape.
    std : float
        Standard deviation of the measurement noise, >= 0.
    seed : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    u_noisy, v_noisy : numpy.ndarray
        New float64 arrays (NaNs of missing pixels stay NaN).

    Raises
    ------
    ValueError
        If ``std`` is not a finite number >= 0.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    std = check_real("std", std, minimum=0.0)
    rng = np.random.default_rng(seed)
    return u + std * rng.standard_normal(u.shape), v + std * rng.standard_normal(v.shape)


def coarsen(u, v, factor: int, dx: float = 1.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Block averages of ``u`` and ``v`` over ``factor x factor`` cells, and the new spacing.

    Block ``(I, J)`` averages the cells ``factor*I .. factor*I + factor - 1`` (rows) times the same
    range of columns; the spatial mean of every frame is unchanged. ``factor=1`` returns copies.

    Parameters
    ----------
    u, v : array_like
        Fields of one shape; the last two axes are the grid ``(N, M)``, any leading axes
        (frames) are kept, so ``(T, N, M)`` becomes ``(T, N / factor, M / factor)``.
    factor : int
        Block side (cells), >= 1, dividing ``N`` and ``M``.
    dx : float
        Grid spacing of the fine grid, > 0.

    Returns
    -------
    u_coarse, v_coarse : numpy.ndarray
        The block averages.
    dx_coarse : float
        ``factor * dx``: pass it to :func:`gslib.inference.infer` (``dx=``) so that Laplacians,
        and the diffusivities inferred from them, keep the physical units of the fine grid.

    Raises
    ------
    ValueError
        If ``factor`` is not an integer >= 1, if ``N`` or ``M`` is not divisible by it, if ``dx``
        is not > 0, or if the two fields differ in shape.
    """
    factor = check_int("factor", factor, 1)
    dx = check_real("dx", dx, positive=True)
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if u.shape != v.shape:
        raise ValueError(f"u and v must have one shape; got {u.shape} and {v.shape}")
    if u.ndim < 2:
        raise ValueError(f"the fields must have at least two (grid) axes; got shape {u.shape}")
    n, m = u.shape[-2:]
    if n % factor or m % factor:
        raise ValueError(f"the grid {n} x {m} is not divisible by factor={factor}")
    lead = u.shape[:-2]
    blocks = lead + (n // factor, factor, m // factor, factor)
    axes = (len(lead) + 1, len(lead) + 3)
    return u.reshape(blocks).mean(axis=axes), v.reshape(blocks).mean(axis=axes), factor * dx
