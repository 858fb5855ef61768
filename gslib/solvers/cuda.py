"""Numba CUDA backend: the whole batch stays on the device, one thread per cell, one launch per step.

The layout and the two-buffer bookkeeping (``cur[b]``) are those of :mod:`gslib.solvers.cpu`; the
host copies fields back only for recorded frames and at the end, and reads (B,) numbers for the
steady-state and blow-up checks. Without a GPU, the kernels run on Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``), slowly, which is how CI tests them on tiny grids.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .cpu import member_coefficients, stencil_constants

BLOCK = (32, 8, 1)


def available() -> bool:
    """True when a CUDA GPU (or the simulator, NUMBA_ENABLE_CUDASIM=1) can run kernels."""
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install reports itself here; treat as "no GPU"
        return False


@cuda.jit
def _step(U, V, cur, active, coef, const, odd, nine):
    j, i, b = cuda.grid(3)
    B, N, M = U.shape[1], U.shape[2], U.shape[3]
    if b >= B or i >= N or j >= M or not active[b]:
        return
    p = cur[b] ^ odd
    q = 1 - p
    im = i - 1 if i > 0 else N - 1
    ip = i + 1 if i < N - 1 else 0
    jm = j - 1 if j > 0 else M - 1
    jp = j + 1 if j < M - 1 else 0
    half, quarter, three, one, tiny = const[0], const[1], const[2], const[3], const[4]
    u = U[p, b, i, j]
    v = V[p, b, i, j]
    if nine:
        su = (
            half * (U[p, b, im, j] + U[p, b, ip, j] + U[p, b, i, jm] + U[p, b, i, jp])
            + quarter * (U[p, b, im, jm] + U[p, b, im, jp] + U[p, b, ip, jm] + U[p, b, ip, jp])
            - three * u
        )
        sv = (
            half * (V[p, b, im, j] + V[p, b, ip, j] + V[p, b, i, jm] + V[p, b, i, jp])
            + quarter * (V[p, b, im, jm] + V[p, b, im, jp] + V[p, b, ip, jm] + V[p, b, ip, jp])
            - three * v
        )
    else:
        four = three + one
        su = U[p, b, im, j] + U[p, b, ip, j] + U[p, b, i, jm] + U[p, b, i, jp] - four * u
        sv = V[p, b, im, j] + V[p, b, ip, j] + V[p, b, i, jm] + V[p, b, i, jp] - four * v
    uvv = u * v * v
    U[q, b, i, j] = u + coef[b, 0] * su - coef[b, 2] * uvv + coef[b, 3] * (one - u)
    w = v + coef[b, 1] * sv + coef[b, 2] * uvv - coef[b, 4] * v
    V[q, b, i, j] = w if abs(w) >= tiny else w * 0


@cuda.jit
def _change(U, V, cur, out):
    j, i, b = cuda.grid(3)
    B, N, M = U.shape[1], U.shape[2], U.shape[3]
    if b >= B or i >= N or j >= M:
        return
    p = cur[b]
    u, v = U[p, b, i, j], V[p, b, i, j]
    d = max(abs(u - U[1 - p, b, i, j]), abs(v - V[1 - p, b, i, j]))
    if not (d < math.inf) or not (abs(u) < math.inf) or not (abs(v) < math.inf):
        d = math.inf
    cuda.atomic.max(out, b, d)


class CudaBackend:
    """Batched FTCS on one CUDA GPU.

    Parameters
    ----------
    u0, v0 : numpy.ndarray
        Initial fields ``(B, N, M)``.
    params : gslib.solvers.engine.Params
        Validated run parameters.

    Raises
    ------
    RuntimeError
        If no CUDA GPU (or the simulator) is available.
    """

    name = "cuda"

    def __init__(self, u0, v0, params):
        if not available():
            raise RuntimeError(
                "backend='cuda' needs a CUDA GPU and none is visible; use backend='cpu' "
                "(or set NUMBA_ENABLE_CUDASIM=1 to run the kernels on the simulator)"
            )
        B, N, M = u0.shape
        U = np.stack([u0, u0]).astype(params.dtype)
        V = np.stack([v0, v0]).astype(params.dtype)
        self.U, self.V = cuda.to_device(U), cuda.to_device(V)
        self.cur = np.zeros(B, dtype=np.int32)
        self.cur_d = cuda.to_device(self.cur)
        self.coef = cuda.to_device(member_coefficients(params))
        self.const = cuda.to_device(stencil_constants(params))
        self.nine = params.stencil == "9pt"
        self.grid = (math.ceil(M / BLOCK[0]), math.ceil(N / BLOCK[1]), B)
        self._active_key = None

    def _active(self, active: np.ndarray):
        key = active.tobytes()
        if key != self._active_key:
            self._active_d = cuda.to_device(active.astype(np.uint8))
            self._active_key = key
        return self._active_d

    def advance(self, nsteps: int, active: np.ndarray) -> None:
        act = self._active(active)
        kernel = _step[self.grid, BLOCK]
        for s in range(nsteps):
            kernel(self.U, self.V, self.cur_d, act, self.coef, self.const, s & 1, self.nine)
        if nsteps & 1:
            self.cur[active] ^= 1
            self.cur_d.copy_to_device(self.cur)

    def last_change(self) -> np.ndarray:
        out = cuda.to_device(np.zeros(len(self.cur), dtype=np.float64 if self.U.dtype == np.float64 else np.float32))
        _change[self.grid, BLOCK](self.U, self.V, self.cur_d, out)
        return out.copy_to_host().astype(np.float64)

    def fields(self) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(self.cur))
        return self.U.copy_to_host()[self.cur, idx], self.V.copy_to_host()[self.cur, idx]
