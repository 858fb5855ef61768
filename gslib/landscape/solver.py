"""The differentiable FTCS scheme of the inverse problem, in TensorFlow.

:func:`simulate_tf` unrolls the scheme in a ``tf.while_loop`` inside a ``tf.function``; a
``tf.GradientTape`` around it differentiates through every step. :func:`forward` / :func:`backward` do
the same with checkpoints: the forward run advances in XLA-compiled blocks of ``check_every`` steps
(stopping at a steady state as :func:`gslib.integrate` does) and keeps the state at each block start;
the backward pass re-runs one block at a time under a tape, so memory grows with the block, not with
the tens of thousands of steps to a steady state.

The scheme is the engine's: the reaction terms are :func:`gslib.solvers.reference.reaction` applied to
tensors, and the stencil weights are read off :func:`gslib.solvers.reference.laplacian`, so both are
defined once. TensorFlow is imported on first use (:func:`tensorflow`), never at import.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_int, check_real
from ..inversion import as_params
from ..solvers.reference import laplacian, reaction
from ..solvers.stencils import FLUSH_THRESHOLD, check_stencil, stability_limit

__all__ = ["tensorflow", "simulate_tf", "forward", "backward", "ForwardRun", "KERNEL_CACHE_SIZE", "clear_kernel_cache"]

#: Most compiled kernel sets (one per stencil, dt, dx, dtype and block length) kept at a time; the
#: least recently used set is dropped beyond it (:func:`clear_kernel_cache` drops them all).
KERNEL_CACHE_SIZE = 32


def tensorflow():
    """TensorFlow, the framework of the differentiable solver, imported on demand.

    Its C++ start-up notices are silenced (``TF_CPP_MIN_LOG_LEVEL=2`` unless already set) just
    before the first import.

    Returns
    -------
    module
        The ``tensorflow`` module.

    Raises
    ------
    gslib.MissingExtraError
        If TensorFlow is not installed; the message names ``pip install 'gslib[tensorflow]'``.
    """
    from .._optional import require

    if sys.modules.get("tensorflow") is None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return require("tensorflow", extra="tensorflow", needed_by="the differentiable solver of gslib.landscape")


def _stencil_weights(stencil: str) -> tuple[float, float, float]:
    """(centre, edge, corner) weights of a solver stencil, times dx**2: the reference Laplacian of an impulse."""
    impulse = np.zeros((3, 3))
    impulse[1, 1] = 1.0
    kernel = laplacian(impulse, 1.0, check_stencil(stencil))
    return float(kernel[1, 1]), float(kernel[0, 1]), float(kernel[0, 0])


def _laplacian_tf(a, stencil: str, dx: float):
    """The periodic Laplacian of :func:`gslib.solvers.reference.laplacian`, with TensorFlow's rolls."""
    tf = tensorflow()
    centre, edge, corner = _stencil_weights(stencil)
    north = tf.roll(a, 1, axis=-2)
    south = tf.roll(a, -1, axis=-2)
    west = tf.roll(a, 1, axis=-1)
    east = tf.roll(a, -1, axis=-1)
    total = edge * (north + south + west + east)
    if corner != 0.0:
        total = total + corner * (
            tf.roll(north, 1, axis=-1)
            + tf.roll(north, -1, axis=-1)
            + tf.roll(south, 1, axis=-1)
            + tf.roll(south, -1, axis=-1)
        )
    return (total + centre * a) / (dx * dx)


def _step_tf(u, v, theta, *, dt, dx, stencil, flush):
    """One FTCS step (TensorFlow); |v| below ``flush`` is set to 0 as in the engine."""
    tf = tensorflow()
    Du, Dv, f, k = theta[0], theta[1], theta[2], theta[3]
    ru, rv = reaction(u, v, f=f, k=k)
    u_new = u + dt * (Du * _laplacian_tf(u, stencil, dx) + ru)
    v_new = v + dt * (Dv * _laplacian_tf(v, stencil, dx) + rv)
    # flush tiny nonzero v (exact zeros keep the v_new branch: its derivative is the true one)
    tiny = tf.logical_and(tf.abs(v_new) < flush, tf.not_equal(v_new, 0.0))
    v_new = tf.where(tiny, tf.zeros_like(v_new), v_new)
    return u_new, v_new


def _change(u_new, v_new, u, v):
    tf = tensorflow()
    return tf.maximum(tf.reduce_max(tf.abs(u_new - u)), tf.reduce_max(tf.abs(v_new - v)))


@functools.lru_cache(maxsize=KERNEL_CACHE_SIZE)
def _kernels(stencil: str, dt: float, dx: float, dtype_name: str, block: int):
    """Compiled TF functions for one discretisation, dtype and block length (at most KERNEL_CACHE_SIZE kept).

    ``run(u, v, theta, nsteps, tol)``  up to nsteps steps, stopping once one step changes less than
                                       tol; a plain ``tf.function`` that a tape can differentiate.
    ``advance(u, v, theta)``           exactly ``block`` steps (XLA); returns u, v, change of the last step.
    ``vjp(u, v, theta, gu, gv)``       the vector-Jacobian product of ``advance`` (XLA; the tape
                                       inside runs through every step of the block).
    """
    tf = tensorflow()
    opts = dict(dt=dt, dx=dx, stencil=stencil, flush=float(FLUSH_THRESHOLD[np.dtype(dtype_name)]))

    @tf.function(reduce_retracing=True, autograph=False)
    def run(u, v, theta, nsteps, tol):
        def body(i, u, v, change):
            u_new, v_new = _step_tf(u, v, theta, **opts)
            return i + 1, u_new, v_new, _change(u_new, v_new, u, v)

        def cond(i, u, v, change):
            return tf.logical_and(i < nsteps, tf.logical_not(change < tol))

        start = (tf.constant(0, tf.int32), u, v, tf.constant(np.inf, u.dtype))
        i, u, v, change = tf.while_loop(cond, body, start)
        return u, v, i

    def steps(u, v, theta):
        def body(i, u, v):
            return (i + 1, *_step_tf(u, v, theta, **opts))

        _, u, v = tf.while_loop(
            lambda i, u, v: i < block - 1, body, (tf.constant(0), u, v), maximum_iterations=block - 1
        )
        u_new, v_new = _step_tf(u, v, theta, **opts)
        return u_new, v_new, _change(u_new, v_new, u, v)

    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def advance(u, v, theta):
        return steps(u, v, theta)

    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def vjp(u, v, theta, gu, gv):
        with tf.GradientTape() as tape:
            tape.watch([u, v, theta])
            u1, v1, _ = steps(u, v, theta)
        return tape.gradient([u1, v1], [u, v, theta], output_gradients=[gu, gv])

    return run, advance, vjp


def clear_kernel_cache() -> None:
    """Drop every compiled kernel set of the solver (they are rebuilt on the next run)."""
    _kernels.cache_clear()


def check_discretisation(theta, dt, dx, stencil) -> tuple[float, float]:
    """Check a discretisation of the scheme against the forward-Euler stability bound.

    Parameters
    ----------
    theta : array_like
        ``(Du, Dv, f, k)``; the larger diffusivity sets the bound.
    dt, dx : float
        Time step and grid spacing, > 0.
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.

    Returns
    -------
    dt, dx : float
        The step and the spacing.

    Raises
    ------
    ValueError
        For an unknown stencil, a step or spacing that is not a finite number > 0, or a step beyond
        :func:`gslib.solvers.stencils.stability_limit`.
    """
    check_stencil(stencil)
    dt = check_real("dt", dt, positive=True)
    dx = check_real("dx", dx, positive=True)
    D = float(np.max(np.asarray(theta)[:2]))
    limit = stability_limit(D, dx, stencil)
    if dt > limit:
        raise ValueError(
            f"dt={dt:g} exceeds the forward-Euler stability bound {limit:.6g} of the {stencil} stencil "
            f"for max(Du, Dv) = {D:g}"
        )
    return dt, dx


def check_dtype(dtype) -> np.dtype:
    """The floating-point type of a run, float32 or float64.

    Parameters
    ----------
    dtype : dtype-like
        The type asked for.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    ValueError
        If it is neither float32 nor float64.
    """
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype={dt.name!r} is not supported; allowed: float32, float64")
    return dt


def _is_tensor(x) -> bool:
    return hasattr(x, "dtype") and hasattr(x.dtype, "as_numpy_dtype")


def simulate_tf(theta, u0, v0, steps: int, *, dt=1.0, dx=1.0, stencil="5pt", steady_tol=None, dtype=None):
    """Unrolled, differentiable FTCS in TensorFlow.

    The loop is one ``tf.function`` (a ``tf.while_loop``); a tape around the call differentiates
    through every step. Its memory grows with the steps taken: for long runs use :func:`forward`
    and :func:`backward`.

    Parameters
    ----------
    theta : tensor, variable or array_like
        ``(Du, Dv, f, k)``, a tensor or variable (watch it with a ``tf.GradientTape``) or
        numbers.
    u0, v0 : array_like or tensor
        (N, M) fields.
    steps : int
        The most steps, >= 1.
    dt, dx : float
        Time step and grid spacing.
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.
    steady_tol : float, optional
        Stop once one step changes u and v by less than this everywhere (None: run all steps).
    dtype : {float32, float64}, optional
        Defaults to theta's when it is a tensor, else float64.

    Returns
    -------
    u, v : tensor
        Final fields.
    steps_taken : tensor
        Number of steps run.

    Raises
    ------
    ValueError
        On an invalid argument (the message names it).
    """
    tf = tensorflow()
    if dtype is None:
        dtype = theta.dtype.as_numpy_dtype if _is_tensor(theta) else np.float64
    dtype = check_dtype(dtype)
    if not _is_tensor(theta):
        theta = tf.constant(as_params(theta, "theta"), dtype=dtype)
    dt, dx = check_discretisation(np.asarray(theta), dt, dx, stencil)
    steps = check_int("steps", steps, 1)
    run, _, _ = _kernels(stencil, dt, dx, dtype.name, 1)
    u = tf.cast(u0, dtype) if tf.is_tensor(u0) else tf.constant(np.asarray(u0, dtype))
    v = tf.cast(v0, dtype) if tf.is_tensor(v0) else tf.constant(np.asarray(v0, dtype))
    tol = tf.constant(-1.0 if steady_tol is None else float(steady_tol), dtype)
    return run(u, v, theta, tf.constant(steps, tf.int32), tol)


@dataclass
class ForwardRun:
    """A checkpointed forward run (:func:`forward`): final fields and what :func:`backward` needs.

    Attributes
    ----------
    u, v : numpy.ndarray
        Final fields (N, M).
    steps : int
        Steps run.
    steady : bool
        Whether the run stopped at the steady-state tolerance.
    last_change : float
        Change of the last step of the last block.
    theta : numpy.ndarray
        ``(Du, Dv, f, k)``.
    checkpoints : list
        ``(u, v, nsteps)`` at each block start.
    options : dict
        ``dt``, ``dx``, ``stencil``, ``dtype`` of the run.
    """

    u: np.ndarray
    v: np.ndarray
    steps: int
    steady: bool
    last_change: float
    theta: np.ndarray
    checkpoints: list = field(repr=False, default_factory=list)  # (u, v, nsteps) at each block start
    options: dict = field(repr=False, default_factory=dict)

    @property
    def finite(self) -> bool:
        """Whether the final fields are finite."""
        return bool(np.all(np.isfinite(self.u)) and np.all(np.isfinite(self.v)))

    @property
    def valid(self) -> bool:
        """Finite, with v in [0, 1] at the end: the paper's test of an acceptable step."""
        return self.finite and bool(self.v.min() >= 0.0 and self.v.max() <= 1.0)


def forward(
    theta,
    u0,
    v0,
    steps: int,
    *,
    dt=1.0,
    dx=1.0,
    stencil="5pt",
    steady_tol=None,
    dtype=np.float64,
    check_every: int = 100,
) -> ForwardRun:
    """Run the scheme in TensorFlow (XLA) without a tape, in blocks of ``check_every`` steps.

    After each block the change of its last step is compared with ``steady_tol`` (as
    :func:`gslib.integrate` does with the same ``check_every``), and a non-finite state stops the
    run. The state at the start of every block is kept (a checkpoint) for :func:`backward`.

    Parameters
    ----------
    theta : array_like or dict
        ``(Du, Dv, f, k)``.
    u0, v0 : array_like
        Initial fields (N, M).
    steps : int
        The most steps, >= 1.
    dt, dx : float
        Time step and grid spacing.
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.
    steady_tol : float, optional
        Steady-state tolerance (None: run all steps).
    dtype : {float32, float64}
        Floating-point type.
    check_every : int
        Steps per block, >= 1.

    Returns
    -------
    ForwardRun
        Final fields and checkpoints.

    Raises
    ------
    ValueError
        On an invalid argument (the message names it).
    """
    tf = tensorflow()
    dtype = check_dtype(dtype)
    theta = as_params(theta, "theta")
    dt, dx = check_discretisation(theta, dt, dx, stencil)
    steps = check_int("steps", steps, 1)
    check_every = check_int("check_every", check_every, 1)
    th = tf.constant(theta, dtype)
    u = tf.constant(np.asarray(u0, dtype))
    v = tf.constant(np.asarray(v0, dtype))
    checkpoints, done, steady, change = [], 0, False, np.inf
    while done < steps:
        n = min(check_every, steps - done)
        _, advance, _ = _kernels(stencil, dt, dx, dtype.name, n)
        checkpoints.append((u, v, n))
        u, v, ch = advance(u, v, th)
        done += n
        change = float(ch)
        if not math.isfinite(change):
            break
        if steady_tol is not None and change < steady_tol:
            steady = True
            break
    return ForwardRun(
        u=u.numpy(),
        v=v.numpy(),
        steps=done,
        steady=steady,
        last_change=change,
        theta=theta,
        checkpoints=checkpoints,
        options=dict(dt=dt, dx=dx, stencil=stencil, dtype=dtype),
    )


def backward(run: ForwardRun, grad_u, grad_v):
    """Vector-Jacobian product of a :func:`forward` run.

    The blocks are taken last first; each recomputes its steps from its checkpoint under a tape.

    Parameters
    ----------
    run : ForwardRun
        The forward run.
    grad_u, grad_v : array_like
        dL/du and dL/dv at its final fields.

    Returns
    -------
    dtheta : numpy.ndarray
        dL/dtheta (4,).
    du0, dv0 : numpy.ndarray
        dL/du0 and dL/dv0.
    """
    tf = tensorflow()
    o = run.options
    dtype = o["dtype"]
    th = tf.constant(run.theta, dtype)
    gu = tf.constant(np.asarray(grad_u, dtype))
    gv = tf.constant(np.asarray(grad_v, dtype))
    g_theta = np.zeros(4)
    for u, v, n in reversed(run.checkpoints):
        _, _, vjp = _kernels(o["stencil"], o["dt"], o["dx"], dtype.name, n)
        gu, gv, gt = vjp(u, v, th, gu, gv)
        g_theta += gt.numpy()
    return g_theta, gu.numpy(), gv.numpy()
