"""Numba CPU backend: the same FTCS update as :mod:`gslib.solvers.reference`, compiled.

State lives in two buffers per field, ``U[p, b]`` with p in {0, 1}; ``cur[b]`` says which buffer
holds member b's current state, so members that stop early (steady or failed) cost nothing.
Two parallel layouts:

* ``members``: one thread runs one member for a whole chunk of steps (no barrier per step; a
  128 x 128 member's four buffers fit in a core's L2 cache). Used when B >= number of threads.
* ``rows``: every step is split over the rows of all members (small batches, big grids).

Each row carries a ghost column on either side (periodic copies, refreshed as the row is written),
so the inner loop runs over all M columns with unit stride and no modulo, and LLVM vectorises it
without a scalar remainder for M a multiple of the vector width. All constants are cast to the field's
dtype so float32 stays float32.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

# Fused multiply-add only: the flags that assume no NaN/Inf would remove the blow-up checks.
_FM = {"contract"}

# Per-member coefficients, columns of ``coef`` (B, 5):
#   a = dt Du / dx^2, b = dt Dv / dx^2, dt, dt f, dt (f + k)
# Global constants, ``const`` (5,): 0.5, 0.25, 3, 1, flush threshold.


@njit(cache=True, inline="always", fastmath=_FM)
def _react(uo, vo, j, u, v, su, sv, a, b, dt, df, dfk, one, tiny):
    """Write the forward-Euler update of cell j given its stencil sums su, sv (times dx^2)."""
    uvv = u * v * v
    uo[j] = u + a * su - dt * uvv + df * (one - u)
    w = v + b * sv + dt * uvv - dfk * v
    vo[j] = w if abs(w) >= tiny else w * 0


@njit(cache=True, inline="always", fastmath=_FM)
def _cell9(un, uc, us, vn, vc, vs, uo, vo, jm, j, jp, a, b, dt, df, dfk, half, quarter, three, one, tiny):
    su = half * (un[j] + us[j] + uc[jm] + uc[jp]) + quarter * (un[jm] + un[jp] + us[jm] + us[jp]) - three * uc[j]
    sv = half * (vn[j] + vs[j] + vc[jm] + vc[jp]) + quarter * (vn[jm] + vn[jp] + vs[jm] + vs[jp]) - three * vc[j]
    _react(uo, vo, j, uc[j], vc[j], su, sv, a, b, dt, df, dfk, one, tiny)


@njit(cache=True, inline="always", fastmath=_FM)
def _cell5(un, uc, us, vn, vc, vs, uo, vo, jm, j, jp, a, b, dt, df, dfk, half, quarter, three, one, tiny):
    four = three + one
    su = un[j] + us[j] + uc[jm] + uc[jp] - four * uc[j]
    sv = vn[j] + vs[j] + vc[jm] + vc[jp] - four * vc[j]
    _react(uo, vo, j, uc[j], vc[j], su, sv, a, b, dt, df, dfk, one, tiny)


@njit(cache=True, fastmath=_FM)
def _row(su, sv, du, dv, i, c, k, nine):
    """Update row i of one member from buffers (su, sv) into (du, dv), each (N, M + 2) with ghost columns."""
    N, M = su.shape[0], su.shape[1] - 2
    im = i - 1 if i > 0 else N - 1
    ip = i + 1 if i < N - 1 else 0
    un, uc, us = su[im], su[i], su[ip]
    vn, vc, vs = sv[im], sv[i], sv[ip]
    uo, vo = du[i], dv[i]
    a, b, dt, df, dfk = c[0], c[1], c[2], c[3], c[4]
    half, quarter, three, one, tiny = k[0], k[1], k[2], k[3], k[4]
    if nine:
        for j in range(1, M + 1):
            _cell9(un, uc, us, vn, vc, vs, uo, vo, j - 1, j, j + 1, a, b, dt, df, dfk, half, quarter, three, one, tiny)
    else:
        for j in range(1, M + 1):
            _cell5(un, uc, us, vn, vc, vs, uo, vo, j - 1, j, j + 1, a, b, dt, df, dfk, half, quarter, three, one, tiny)
    # periodic ghost columns: column 0 mirrors column M, column M + 1 mirrors column 1
    uo[0], uo[M + 1] = uo[M], uo[1]
    vo[0], vo[M + 1] = vo[M], vo[1]


@njit(cache=True, parallel=True)
def _advance_members(U, V, cur, active, coef, const, nsteps, nine):
    """Advance each active member by nsteps, one member per thread."""
    B, N = U.shape[1], U.shape[2]
    for b in prange(B):
        if active[b]:
            p = cur[b]
            c = coef[b]
            for _ in range(nsteps):
                su, sv, du, dv = U[p, b], V[p, b], U[1 - p, b], V[1 - p, b]
                for i in range(N):
                    _row(su, sv, du, dv, i, c, const, nine)
                p = 1 - p
            cur[b] = p


@njit(cache=True, parallel=True)
def _advance_rows(U, V, cur, active, coef, const, nsteps, nine):
    """Advance each active member by nsteps, every step split over all rows of the batch."""
    B, N = U.shape[1], U.shape[2]
    for s in range(nsteps):
        odd = s & 1
        for r in prange(B * N):
            b = r // N
            if active[b]:
                p = cur[b] ^ odd
                _row(U[p, b], V[p, b], U[1 - p, b], V[1 - p, b], r - b * N, coef[b], const, nine)
    if nsteps & 1:
        for b in range(B):
            if active[b]:
                cur[b] = 1 - cur[b]


@njit(cache=True, parallel=True)
def _last_change(U, V, cur):
    """Per member max |x_n - x_{n-1}| over both fields (B,); inf where a value is not finite."""
    B, N, M = U.shape[1], U.shape[2], U.shape[3] - 2
    out = np.zeros(B)
    for b in prange(B):
        p = cur[b]
        worst = 0.0
        for i in range(N):
            for j in range(1, M + 1):
                du = abs(np.float64(U[p, b, i, j]) - np.float64(U[1 - p, b, i, j]))
                dv = abs(np.float64(V[p, b, i, j]) - np.float64(V[1 - p, b, i, j]))
                d = max(du, dv)
                if not (d < np.inf) or not (abs(U[p, b, i, j]) < np.inf) or not (abs(V[p, b, i, j]) < np.inf):
                    worst = np.inf
                elif d > worst:
                    worst = d
        out[b] = worst
    return out


def member_coefficients(params) -> np.ndarray:
    """Per-member coefficients of the compiled update.

    Parameters
    ----------
    params : gslib.solvers.engine.Params
        Validated run parameters.

    Returns
    -------
    numpy.ndarray
        ``(B, 5)`` in the field dtype: dt Du/dx^2, dt Dv/dx^2, dt, dt f, dt (f+k).
    """
    p = params
    f, k = p.f.astype(np.float64), p.k.astype(np.float64)
    Du, Dv = p.Du.astype(np.float64), p.Dv.astype(np.float64)
    inv = 1.0 / (p.dx * p.dx)
    coef = np.stack([p.dt * Du * inv, p.dt * Dv * inv, np.full_like(f, p.dt), p.dt * f, p.dt * (f + k)], axis=1)
    return np.ascontiguousarray(coef.astype(p.dtype))


def stencil_constants(params) -> np.ndarray:
    """Constants of the compiled update.

    Parameters
    ----------
    params : gslib.solvers.engine.Params
        Validated run parameters.

    Returns
    -------
    numpy.ndarray
        ``(5,)`` in the field dtype: 0.5, 0.25, 3, 1 and the flush threshold.
    """
    return np.array([0.5, 0.25, 3.0, 1.0, params.flush], dtype=params.dtype)


class CpuBackend:
    """Batched FTCS on the CPU with Numba, parallel over members or over rows.

    Parameters
    ----------
    u0, v0 : numpy.ndarray
        Initial fields ``(B, N, M)``.
    params : gslib.solvers.engine.Params
        Validated run parameters.
    layout : {'auto', 'members', 'rows'}, optional
        Threads over batch members, or over the rows of every step; ``'auto'``: members when
        the batch has at least as many members as threads.

    Raises
    ------
    ValueError
        If ``layout`` is not one of the allowed names.
    """

    name = "cpu"

    def __init__(self, u0, v0, params, layout: str = "auto"):
        B, N, M = u0.shape
        # two buffers per field, each row with a ghost column on either side (periodic copies)
        padded = np.concatenate([u0[..., -1:], u0, u0[..., :1]], axis=-1)
        self.U = np.ascontiguousarray(np.stack([padded, padded]), dtype=params.dtype)
        padded = np.concatenate([v0[..., -1:], v0, v0[..., :1]], axis=-1)
        self.V = np.ascontiguousarray(np.stack([padded, padded]), dtype=params.dtype)
        self.cur = np.zeros(B, dtype=np.int64)
        self.coef = member_coefficients(params)
        self.const = stencil_constants(params)
        self.nine = params.stencil == "9pt"
        threads = numba.get_num_threads()
        if layout == "auto":
            layout = "members" if B >= threads else "rows"
        if layout not in ("members", "rows"):
            raise ValueError(f"layout={layout!r} is not a layout; allowed: 'auto', 'members', 'rows'")
        self.layout = layout
        self._kernel = _advance_members if layout == "members" else _advance_rows

    def advance(self, nsteps: int, active: np.ndarray) -> None:
        self._kernel(self.U, self.V, self.cur, active, self.coef, self.const, nsteps, self.nine)

    def last_change(self) -> np.ndarray:
        return _last_change(self.U, self.V, self.cur)

    def fields(self) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(self.cur))
        return self.U[self.cur, idx, :, 1:-1], self.V[self.cur, idx, :, 1:-1]
