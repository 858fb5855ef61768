"""The readable NumPy reference of the FTCS scheme, and the ``numpy`` backend built on it.

Every compiled backend is tested against these few lines. Fields have shape (B, N, M) (a batch of
B grids of N x M cells); rates f, k and diffusivities Du, Dv broadcast against them, e.g. (B, 1, 1).
"""

from __future__ import annotations

import numpy as np


def laplacian(a: np.ndarray, dx: float = 1.0, stencil: str = "9pt") -> np.ndarray:
    """Periodic discrete Laplacian over the last two axes.

    Parameters
    ----------
    a : numpy.ndarray
        Field ``(..., N, M)``.
    dx : float, optional
        Grid spacing.
    stencil : {'9pt', '5pt'}, optional
        The stencil (:mod:`gslib.solvers.stencils`).

    Returns
    -------
    numpy.ndarray
        The Laplacian of ``a`` (1/length**2 times the units of ``a``), shape of ``a``.
    """
    north = np.roll(a, 1, axis=-2)
    south = np.roll(a, -1, axis=-2)
    west = np.roll(a, 1, axis=-1)
    east = np.roll(a, -1, axis=-1)
    if stencil == "5pt":
        return (north + south + west + east - 4 * a) / dx**2
    corners = (
        np.roll(north, 1, axis=-1)
        + np.roll(north, -1, axis=-1)
        + np.roll(south, 1, axis=-1)
        + np.roll(south, -1, axis=-1)
    )
    return (0.5 * (north + south + west + east) + 0.25 * corners - 3 * a) / dx**2


def reaction(u: np.ndarray, v: np.ndarray, *, f, k) -> tuple[np.ndarray, np.ndarray]:
    """Reaction terms of the Gray-Scott model.

    Parameters
    ----------
    u, v : numpy.ndarray
        Fields.
    f, k : float or numpy.ndarray
        Feed and kill rates, broadcast against the fields.

    Returns
    -------
    ru, rv : numpy.ndarray
        ``-u v^2 + f (1 - u)`` and ``u v^2 - (f + k) v``.
    """
    uvv = u * v * v
    return -uvv + f * (1 - u), uvv - (f + k) * v


def step(u, v, *, f, k, Du, Dv, dt, dx=1.0, stencil="9pt", flush=0.0):
    """One forward-Euler step of the Gray-Scott model.

    Parameters
    ----------
    u, v : numpy.ndarray
        Fields ``(..., N, M)``.
    f, k, Du, Dv : float or numpy.ndarray
        Rates and diffusivities, broadcast against the fields (e.g. ``(B, 1, 1)``).
    dt, dx : float
        Time step and grid spacing.
    stencil : {'9pt', '5pt'}, optional
        Discrete Laplacian (:func:`laplacian`).
    flush : float, optional
        ``|v|`` below this is set to 0 (see :data:`gslib.solvers.stencils.FLUSH_THRESHOLD`).

    Returns
    -------
    u, v : numpy.ndarray
        The fields after the step.
    """
    ru, rv = reaction(u, v, f=f, k=k)
    u_new = u + dt * (Du * laplacian(u, dx, stencil) + ru)
    v_new = v + dt * (Dv * laplacian(v, dx, stencil) + rv)
    v_new = np.where(np.abs(v_new) < flush, 0, v_new).astype(v.dtype, copy=False)
    return u_new, v_new


class NumpyBackend:
    """Batched FTCS in plain NumPy: slow, but every line reads like the equations.

    Parameters
    ----------
    u0, v0 : numpy.ndarray
        Initial fields ``(B, N, M)``.
    params : gslib.solvers.engine.Params
        Validated run parameters.
    """

    name = "numpy"

    def __init__(self, u0, v0, params):
        self.p = params
        self.u, self.v = u0.copy(), v0.copy()
        self.u_prev, self.v_prev = u0.copy(), v0.copy()
        column = (-1, 1, 1)
        self.f, self.k = params.f.reshape(column), params.k.reshape(column)
        self.Du, self.Dv = params.Du.reshape(column), params.Dv.reshape(column)
        self.dt = params.dtype.type(params.dt)

    def advance(self, nsteps: int, active: np.ndarray) -> None:
        """Advance the members where ``active`` (B,) is True by ``nsteps`` steps."""
        idx = slice(None) if active.all() else np.flatnonzero(active)
        u, v = self.u[idx], self.v[idx]
        args = dict(
            f=self.f[idx],
            k=self.k[idx],
            Du=self.Du[idx],
            Dv=self.Dv[idx],
            dt=self.dt,
            dx=self.p.dx,
            stencil=self.p.stencil,
            flush=self.p.flush,
        )
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is detected and reported by the engine
            for _ in range(nsteps):
                u_prev, v_prev = u, v
                u, v = step(u, v, **args)
        self.u[idx], self.v[idx] = u, v
        self.u_prev[idx], self.v_prev[idx] = u_prev, v_prev

    def last_change(self) -> np.ndarray:
        """Max ``|u_n - u_{n-1}|``, ``|v_n - v_{n-1}|`` of each member's last step, (B,); non-finite if it blew up."""
        du = np.abs(self.u - self.u_prev).reshape(len(self.u), -1)
        dv = np.abs(self.v - self.v_prev).reshape(len(self.v), -1)
        change = np.maximum(du.max(axis=1), dv.max(axis=1)).astype(np.float64)
        bad = ~(
            np.isfinite(self.u).reshape(len(self.u), -1).all(1) & np.isfinite(self.v).reshape(len(self.v), -1).all(1)
        )
        change[bad] = np.inf
        return change

    def fields(self) -> tuple[np.ndarray, np.ndarray]:
        """Current (u, v), each (B, N, M), as new host arrays."""
        return self.u.copy(), self.v.copy()
