"""Why gradient descent through a steady state fails, and how the residual recovers the parameters.

This module reproduces and completes the diagnosis of *Loss Landscape Diagnosis for Gradient-Based
Gray-Scott System Inversion* (bib key ``landscape2025``): recover ``(Du, Dv, F, k)`` from one steady
pattern.

Differentiable simulation (TensorFlow)
    :func:`simulate_tf` unrolls the FTCS scheme in a ``tf.while_loop`` inside a ``tf.function``; a
    ``tf.GradientTape`` around it differentiates through every step. :func:`forward` /
    :func:`backward` do the same with checkpoints: the forward run advances in XLA-compiled blocks of
    ``check_every`` steps (stopping at a steady state as :func:`gslib.integrate` does) and keeps the
    state at each block start; the backward pass re-runs one block at a time under a tape, so memory
    grows with the block, not with the tens of thousands of steps to a steady state.
    :func:`value_and_grad` chains them with a loss.
Losses
    :func:`spectral_loss` (MSE between log power spectra of the mean-subtracted patterns, fftshifted),
    :func:`windowed_spectral_loss` (the same on non-overlapping 16 x 16 tiles), :func:`gram_loss`
    (Gram matrices of the feature maps of VGG-19, downloaded once into Keras' cache, of the book's
    shipped classifier, :func:`cnn_features`, which works offline, or of any Keras model), and NumPy
    twins of the losses (``*_np``) that take a batch of predictions at once.
Gradient descent
    :func:`fit_backprop`: SGD with weight decay on the paper's raw parameters (``Du, Dv =
    softplus(raw)``, ``F, k = 0.1 sigmoid(raw)``) and its step safeguard.
Cross-sections
    :func:`cross_section` runs one batch of the compiled engine (:func:`gslib.integrate`, steady-state
    stops) per 1-D or 2-D slice of parameter space and evaluates the losses in NumPy.
The residual
    on a steady state the equations' right-hand sides vanish and are *linear* in ``(Du, Dv, F, k)``:
    :func:`residual_fit` solves the least-squares problem in closed form (``gslib invert``), optionally
    corrected for known measurement noise (errors in variables), and :func:`residual_loss` evaluates
    the quadratic bowl anywhere. :func:`load_steady` reads and checks a pattern file.

Parameters are ordered ``(Du, Dv, F, k)`` throughout (:data:`PARAMS`); lengths in grid cells
(``dx = 1`` in the paper), times in model time units.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .solvers.stencils import (ANALYSIS_STENCILS, FLUSH_THRESHOLD, analysis_laplacian, check_analysis_stencil,
                              check_stencil, laplacian_symbol, stability_limit)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow (imported lazily) keeps its start-up chatter to itself

__all__ = [
    "PARAMS", "PAPER", "Setup", "setup_for", "target_pattern", "initial_state",
    "simulate_tf", "forward", "backward", "value_and_grad",
    "power_spectrum", "spectral_loss", "windowed_spectral_loss", "gram_loss", "vgg19_features",
    "power_spectrum_np", "spectral_loss_np", "windowed_spectral_loss_np", "LOSSES",
    "params_from_raw", "raw_from_params", "fit_backprop", "FitHistory",
    "cross_section", "CrossSection", "DEFAULT_RANGES",
    "residual_design", "residual_loss", "residual_fit", "ResidualFit", "check_steady_pattern", "load_steady",
    "UnexplainedPatternWarning", "UNEXPLAINED_THRESHOLD", "STENCIL_MARGIN",
    "WeightsUnavailableError", "ForwardRun", "gram_matrices", "VGG19_LAYERS", "SPECTRUM_FLOOR", "WINDOW",
    "gram_loss_np", "cnn_features", "CNN_LAYERS", "CNN_FEATURE_LAYERS", "keras_cache_dir", "vgg19_weights_file",
    "VGG19_WEIGHTS_FILE", "tensorflow",
]

#: The parameters, in the order used by every array of this module.
PARAMS = ("Du", "Dv", "F", "k")

#: Floor added to the power spectrum before the logarithm (the paper's 1e-8).
SPECTRUM_FLOOR = 1e-8
#: Side of the tiles of the windowed spectral loss (cells).
WINDOW = 16


# ----------------------------------------------------------------------------- the setup


@dataclass(frozen=True)
class Setup:
    """One inversion experiment: grid, seed, true parameters, discretisation and steady-state stops.

    A run stops when the largest change of u or v in one step falls below ``target_tol`` (the
    target) or ``train_tol`` (predictions during training), or after ``max_steps`` steps.

    Attributes
    ----------
    n : int
        Side of the periodic grid (cells).
    square, noise, seed : int, float, int
        Seed block side, noise amplitude and random seed of
        :func:`gslib.initial.landscape_seed`.
    Du, Dv, F, k : float
        True parameters.
    dt, dx : float
        FTCS time step and grid spacing.
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.
    max_steps : int
        Most steps of a run.
    target_tol, train_tol : float
        Steady-state tolerances of the target and of predictions during training.
    """

    n: int = 128
    square: int = 20
    noise: float = 0.02
    seed: int = 0
    Du: float = 0.16
    Dv: float = 0.08
    F: float = 0.035
    k: float = 0.065
    dt: float = 1.0
    dx: float = 1.0
    stencil: str = "5pt"
    max_steps: int = 40_000
    target_tol: float = 1e-4
    train_tol: float = 5e-5

    @property
    def params(self) -> np.ndarray:
        """The true ``(Du, Dv, F, k)`` as a float64 array (4,)."""
        return np.array([self.Du, self.Dv, self.F, self.k], dtype=np.float64)


#: The paper's setup: 128 x 128, 5-point Laplacian, dt = dx = 1, up to 40 000 steps to a steady state.
PAPER = Setup()

#: Smaller setups for the book's scales. The seed block keeps the paper's 20 cells (a block scaled
#: down with the grid dies at these parameters), the grid and the step cap shrink.
_SCALED = {
    "ci": dict(n=48, max_steps=12_000),
    "book": dict(n=48, max_steps=12_000),
    "paper": {},
}


def setup_for(scale: str | None = None, **changes) -> Setup:
    """The :class:`Setup` of a ``GSLIB_SCALE``.

    Parameters
    ----------
    scale : {"ci", "book", "paper"}, optional
        The scale (default: the active one). ci and book: 48 x 48, <= 12 000 steps; paper:
        :data:`PAPER`.
    **changes
        Fields to change (``dataclasses.replace``).

    Returns
    -------
    Setup
        The setup.

    Raises
    ------
    ValueError
        If ``scale`` is not a scale.
    """
    from .scale import current

    scale = current() if scale is None else scale
    if scale not in _SCALED:
        raise ValueError(f"scale={scale!r} is not a scale; allowed: {', '.join(_SCALED)}")
    return replace(PAPER, **{**_SCALED[scale], **changes})


def initial_state(setup: Setup) -> tuple[np.ndarray, np.ndarray]:
    """The paper's seed on the setup's grid.

    Parameters
    ----------
    setup : Setup
        The experiment.

    Returns
    -------
    u0, v0 : numpy.ndarray
        :func:`gslib.initial.landscape_seed` (float64, (n, n)).
    """
    from .initial import landscape_seed

    return landscape_seed(setup.seed, n=setup.n, square=setup.square, noise=setup.noise)


def _as_params(params, name="params") -> np.ndarray:
    if isinstance(params, dict):
        missing = [p for p in PARAMS if p not in params]
        if missing:
            raise ValueError(f"{name} lacks {', '.join(missing)}; give all of {', '.join(PARAMS)}")
        params = [params[p] for p in PARAMS]
    arr = np.asarray(params, dtype=np.float64)
    if arr.shape[-1:] != (4,):
        raise ValueError(f"{name} must hold the 4 values (Du, Dv, F, k) along its last axis; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr}")
    return arr


def target_pattern(setup: Setup, params=None, *, tol=None, backend="auto", dtype=np.float64):
    """Run the setup's seed to a steady state with ``params`` (default: the true ones).

    Parameters
    ----------
    setup : Setup
        The experiment.
    params : array_like or dict, optional
        ``(Du, Dv, F, k)`` (default: the setup's true ones).
    tol : float, optional
        Steady-state tolerance (default ``setup.target_tol``), checked every 100 steps; the run
        stops at ``setup.max_steps`` in any case.
    backend, dtype
        As in :func:`gslib.integrate`.

    Returns
    -------
    gslib.SimulationResult
        The engine's result (fields (n, n); ``steps``, ``steady``).

    Raises
    ------
    ValueError
        If ``params`` does not hold four finite values.
    """
    from .solvers import integrate

    p = setup.params if params is None else _as_params(params)
    u0, v0 = initial_state(setup)
    return integrate(u0, v0, p[2], p[3], Du=p[0], Dv=p[1], dt=setup.dt, dx=setup.dx, steps=setup.max_steps,
                     stencil=setup.stencil, backend=backend, dtype=dtype,
                     steady_tol=setup.target_tol if tol is None else tol, check_every=100)


# ----------------------------------------------------------------------------- differentiable FTCS


def _tf():
    """TensorFlow, or gslib.MissingExtraError naming ``pip install 'gslib[tensorflow]'``."""
    from ._optional import require

    return require("tensorflow", extra="tensorflow", needed_by="the differentiable solver of gslib.landscape")


def _keras():
    """Keras 3 (for the feature networks), or gslib.MissingExtraError naming the extra that adds it."""
    from ._optional import import_keras

    return import_keras("the feature networks of gslib.landscape")


def _laplacian_tf(a, stencil: str, dx: float):
    tf = _tf()
    north = tf.roll(a, 1, axis=-2)
    south = tf.roll(a, -1, axis=-2)
    west = tf.roll(a, 1, axis=-1)
    east = tf.roll(a, -1, axis=-1)
    if stencil == "5pt":
        return (north + south + west + east - 4.0 * a) / (dx * dx)
    corners = tf.roll(north, 1, axis=-1) + tf.roll(north, -1, axis=-1) + tf.roll(south, 1, axis=-1) \
        + tf.roll(south, -1, axis=-1)
    return (0.5 * (north + south + west + east) + 0.25 * corners - 3.0 * a) / (dx * dx)


def _step_tf(u, v, theta, *, dt, dx, stencil, flush):
    """One FTCS step (TensorFlow); |v| below ``flush`` is set to 0 as in the engine."""
    tf = _tf()
    Du, Dv, F, k = theta[0], theta[1], theta[2], theta[3]
    uvv = u * v * v
    u_new = u + dt * (Du * _laplacian_tf(u, stencil, dx) - uvv + F * (1.0 - u))
    v_new = v + dt * (Dv * _laplacian_tf(v, stencil, dx) + uvv - (F + k) * v)
    # flush tiny nonzero v (exact zeros keep the v_new branch: its derivative is the true one)
    tiny = tf.logical_and(tf.abs(v_new) < flush, tf.not_equal(v_new, 0.0))
    v_new = tf.where(tiny, tf.zeros_like(v_new), v_new)
    return u_new, v_new


def _change(u_new, v_new, u, v):
    tf = _tf()
    return tf.maximum(tf.reduce_max(tf.abs(u_new - u)), tf.reduce_max(tf.abs(v_new - v)))


@functools.lru_cache(maxsize=None)
def _kernels(stencil: str, dt: float, dx: float, dtype_name: str, block: int):
    """Compiled TF functions for one discretisation, dtype and block length.

    ``run(u, v, theta, nsteps, tol)``  up to nsteps steps, stopping once one step changes less than
                                       tol; a plain ``tf.function`` that a tape can differentiate.
    ``advance(u, v, theta)``           exactly ``block`` steps (XLA); returns u, v, change of the last step.
    ``vjp(u, v, theta, gu, gv)``       the vector-Jacobian product of ``advance`` (XLA; the tape
                                       inside runs through every step of the block).
    """
    tf = _tf()
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

        _, u, v = tf.while_loop(lambda i, u, v: i < block - 1, body, (tf.constant(0), u, v),
                                maximum_iterations=block - 1)
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


def _check_discretisation(theta, dt, dx, stencil):
    check_stencil(stencil)
    for name, value in (("dt", dt), ("dx", dx)):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be a finite number > 0")
    D = float(np.max(np.asarray(theta)[:2]))
    limit = stability_limit(D, dx, stencil)
    if dt > limit:
        raise ValueError(f"dt={dt:g} exceeds the forward-Euler stability bound {limit:.6g} of the {stencil} stencil "
                         f"for max(Du, Dv) = {D:g}")


def _dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype={dt.name!r} is not supported; allowed: float32, float64")
    return dt


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


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
        ``(Du, Dv, F, k)``, a tensor or variable (watch it with a ``tf.GradientTape``) or
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
    tf = _tf()
    if dtype is None:
        dtype = theta.dtype.as_numpy_dtype if _is_tensor(theta) else np.float64
    dtype = _dtype(dtype)
    if not _is_tensor(theta):
        theta = tf.constant(_as_params(theta, "theta"), dtype=dtype)
    _check_discretisation(np.asarray(theta), dt, dx, stencil)
    steps = _check_int("steps", steps)
    run, _, _ = _kernels(stencil, float(dt), float(dx), dtype.name, 1)
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
        ``(Du, Dv, F, k)``.
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
        return bool(np.all(np.isfinite(self.u)) and np.all(np.isfinite(self.v)))

    @property
    def valid(self) -> bool:
        """Finite, with v in [0, 1] at the end: the paper's test of an acceptable step."""
        return self.finite and bool(self.v.min() >= 0.0 and self.v.max() <= 1.0)


def forward(theta, u0, v0, steps: int, *, dt=1.0, dx=1.0, stencil="5pt", steady_tol=None, dtype=np.float64,
            check_every: int = 100) -> ForwardRun:
    """Run the scheme in TensorFlow (XLA) without a tape, in blocks of ``check_every`` steps.

    After each block the change of its last step is compared with ``steady_tol`` (as
    :func:`gslib.integrate` does with the same ``check_every``), and a non-finite state stops the
    run. The state at the start of every block is kept (a checkpoint) for :func:`backward`.

    Parameters
    ----------
    theta : array_like or dict
        ``(Du, Dv, F, k)``.
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
    tf = _tf()
    dtype = _dtype(dtype)
    theta = _as_params(theta, "theta")
    _check_discretisation(theta, dt, dx, stencil)
    steps = _check_int("steps", steps)
    check_every = _check_int("check_every", check_every)
    th = tf.constant(theta, dtype)
    u = tf.constant(np.asarray(u0, dtype))
    v = tf.constant(np.asarray(v0, dtype))
    checkpoints, done, steady, change = [], 0, False, np.inf
    while done < steps:
        n = min(check_every, steps - done)
        _, advance, _ = _kernels(stencil, float(dt), float(dx), dtype.name, n)
        checkpoints.append((u, v, n))
        u, v, ch = advance(u, v, th)
        done += n
        change = float(ch)
        if not math.isfinite(change):
            break
        if steady_tol is not None and change < steady_tol:
            steady = True
            break
    return ForwardRun(u=u.numpy(), v=v.numpy(), steps=done, steady=steady, last_change=change, theta=theta,
                      checkpoints=checkpoints, options=dict(dt=float(dt), dx=float(dx), stencil=stencil, dtype=dtype))


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
    tf = _tf()
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


# ----------------------------------------------------------------------------- losses


def power_spectrum(x):
    """Log power spectrum in TensorFlow.

    Parameters
    ----------
    x : tensor or array_like
        Fields (..., N, M).

    Returns
    -------
    tensor
        ``fftshift(log(|FFT2(x - mean x)|^2 + 1e-8))`` over the last two axes.
    """
    tf = _tf()
    x = tf.convert_to_tensor(x)
    centred = x - tf.reduce_mean(x, axis=[-2, -1], keepdims=True)
    spec = tf.signal.fft2d(tf.complex(centred, tf.zeros_like(centred)))
    power = tf.math.real(spec) ** 2 + tf.math.imag(spec) ** 2
    return tf.signal.fftshift(tf.math.log(power + SPECTRUM_FLOOR), axes=[-2, -1])


def _tiles_tf(x, window):
    tf = _tf()
    n, m = x.shape[-2] // window, x.shape[-1] // window
    x = x[..., : n * window, : m * window]
    lead = tf.shape(x)[:-2]
    t = tf.reshape(x, tf.concat([lead, [n, window, m, window]], 0))
    rank = len(x.shape)
    perm = list(range(rank - 2)) + [rank - 2, rank, rank - 1, rank + 1]
    return tf.transpose(t, perm)  # (..., n, m, window, window)


def spectral_loss(pred, target):
    """MSE between the log power spectra (:func:`power_spectrum`) of ``pred`` and ``target`` (TF).

    Parameters
    ----------
    pred : tensor or array_like
        (N, M), or (B, N, M) against one target.
    target : tensor or array_like
        (N, M).

    Returns
    -------
    tensor
        The loss: a scalar, or one per member (B,).
    """
    tf = _tf()
    pred = tf.convert_to_tensor(pred)
    target = tf.cast(target, pred.dtype)
    diff = power_spectrum(pred) - power_spectrum(target)
    return tf.reduce_mean(diff * diff, axis=[-2, -1])


def windowed_spectral_loss(pred, target, window: int = WINDOW):
    """:func:`spectral_loss` on non-overlapping ``window`` x ``window`` tiles (TF).

    Each tile has its own mean removed; the loss is averaged over tiles and modes. Rows and columns
    beyond the last whole tile are left out.

    Parameters
    ----------
    pred : tensor or array_like
        (N, M), or (B, N, M) against one target.
    target : tensor or array_like
        (N, M).
    window : int
        Tile side (cells), >= 1 and at most the pattern's side.

    Returns
    -------
    tensor
        The loss: a scalar, or one per member (B,).

    Raises
    ------
    ValueError
        If ``window`` is not a positive integer or exceeds the pattern.
    """
    tf = _tf()
    window = _check_window(window, tuple(tf.convert_to_tensor(pred).shape[-2:]))
    pred = tf.convert_to_tensor(pred)
    target = tf.cast(target, pred.dtype)
    diff = power_spectrum(_tiles_tf(pred, window)) - power_spectrum(_tiles_tf(target, window))
    return tf.reduce_mean(diff * diff, axis=[-4, -3, -2, -1])


def _check_window(window, shape):
    window = _check_int("window", window)
    if shape[0] < window or shape[1] < window:
        raise ValueError(f"window={window} is larger than the pattern {shape[0]} x {shape[1]}")
    return window


def power_spectrum_np(x) -> np.ndarray:
    """NumPy twin of :func:`power_spectrum` (float64), over the last two axes.

    Parameters
    ----------
    x : array_like
        Fields (..., N, M).

    Returns
    -------
    numpy.ndarray
        ``fftshift(log(|FFT2(x - mean x)|^2 + 1e-8))``.
    """
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=(-2, -1), keepdims=True)
    power = np.abs(np.fft.fft2(centred)) ** 2
    return np.fft.fftshift(np.log(power + SPECTRUM_FLOOR), axes=(-2, -1))


def _tiles_np(x, window):
    n, m = x.shape[-2] // window, x.shape[-1] // window
    x = x[..., : n * window, : m * window]
    t = x.reshape(x.shape[:-2] + (n, window, m, window))
    return np.moveaxis(t, -3, -2)  # (..., n, m, window, window)


def spectral_loss_np(pred, target) -> np.ndarray:
    """NumPy twin of :func:`spectral_loss`.

    Parameters
    ----------
    pred : array_like
        (..., N, M).
    target : array_like
        (N, M).

    Returns
    -------
    numpy.ndarray
        Loss (...); members that are not finite (blown-up runs) get NaN.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        diff = power_spectrum_np(pred) - power_spectrum_np(target)
        return np.mean(diff * diff, axis=(-2, -1))


def windowed_spectral_loss_np(pred, target, window: int = WINDOW) -> np.ndarray:
    """NumPy twin of :func:`windowed_spectral_loss`.

    Parameters
    ----------
    pred : array_like
        (..., N, M); a batch over the leading axes.
    target : array_like
        (N, M).
    window : int
        Tile side (cells).

    Returns
    -------
    numpy.ndarray
        Loss (...); NaN for members that are not finite.

    Raises
    ------
    ValueError
        If ``window`` is not a positive integer or exceeds the pattern.
    """
    pred = np.asarray(pred, dtype=np.float64)
    window = _check_window(window, pred.shape[-2:])
    with np.errstate(invalid="ignore", over="ignore"):
        diff = power_spectrum_np(_tiles_np(pred, window)) - power_spectrum_np(_tiles_np(np.asarray(target), window))
        return np.mean(diff * diff, axis=(-4, -3, -2, -1))


# ----------------------------------------------------------------------------- Gram-matrix loss


class WeightsUnavailableError(FileNotFoundError):
    """The pretrained weights of a feature network are neither in a local file or cache nor downloadable."""


#: VGG-19 layers of the usual style (Gram) loss.
VGG19_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
#: Keras' file of the VGG-19 ImageNet weights without the classifier (the convolutional part).
VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
_VGG19_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + VGG19_WEIGHTS_FILE
_VGG19_MD5 = "253f8cb515780f3b799900260a226db6"
#: Layers of the book's classifier (:func:`gslib.cnn.build_model`) that :func:`cnn_features` may return.
CNN_FEATURE_LAYERS = ("input_norm", "conv1", "conv2", "pool2", "conv3", "pool3", "conv4", "pool4")
#: Default feature maps of :func:`cnn_features`: the classifier's four convolutions.
CNN_LAYERS = ("conv1", "conv2", "conv3", "conv4")

_NO_VGG = ("the VGG-19 ImageNet weights are not shipped with gslib: Keras downloads them once into {path} and "
           "reads them from that file afterwards, also offline. {why} Alternatives: copy {file} (obtained on a "
           "machine with internet access) into {folder}, pass weights=<path to a VGG-19 weights file>, or use "
           "the book's own classifier as the feature network, features=\"pass1\", which ships with gslib and "
           "needs no download")


def keras_cache_dir() -> Path:
    """The folder in which Keras caches downloaded weights.

    Returns
    -------
    pathlib.Path
        ``$KERAS_HOME/models`` when the environment variable ``KERAS_HOME`` is set, otherwise
        ``~/.keras/models``. It is read at every call, so setting ``KERAS_HOME`` later takes effect.
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def vgg19_weights_file(download: bool = True) -> Path:
    """The VGG-19 ImageNet weights file (convolutional part), from Keras' cache or downloaded into it.

    Parameters
    ----------
    download : bool
        Download the file (about 80 MB, checked against its MD5 sum) when it is not in
        :func:`keras_cache_dir`. A file already in the cache is used as it is, without network access.

    Returns
    -------
    pathlib.Path
        The path of :data:`VGG19_WEIGHTS_FILE`.

    Raises
    ------
    WeightsUnavailableError
        If the file is not in the cache and the download is not allowed or fails; the message names
        the cache path and the alternatives.
    """
    path = keras_cache_dir() / VGG19_WEIGHTS_FILE
    if path.is_file():
        return path
    why = "The file is not in the cache, and download=False."
    if download:
        keras = _keras()

        try:
            got = keras.utils.get_file(VGG19_WEIGHTS_FILE, _VGG19_URL, cache_subdir="models",
                                       cache_dir=str(path.parent.parent), file_hash=_VGG19_MD5)
            return Path(got)
        except Exception as exc:  # urllib errors arrive wrapped in a plain Exception by Keras
            why = f"The file is not in the cache, and downloading it from {_VGG19_URL} failed ({exc})."
    raise WeightsUnavailableError(_NO_VGG.format(path=path, why=why, file=VGG19_WEIGHTS_FILE, folder=path.parent))


def _vgg19_architecture():
    """VGG-19 without its classifier and without weights, for inputs of any size (B, H, W, 3)."""
    keras = _keras()

    return keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))


def _feature_model(base, layers, allowed, name):
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    bad = [layer for layer in layers if layer not in allowed]
    if not layers or bad:
        raise ValueError(f"layers={layers!r}: give one or more of {', '.join(allowed)}")
    keras = _keras()

    return keras.Model(base.input, [base.get_layer(layer).output for layer in layers], name=name)


def vgg19_features(weights="imagenet", layers=VGG19_LAYERS):
    """A VGG-19 feature extractor: a ``keras.Model`` from images (B, H, W, 3) to the maps of ``layers``.

    Parameters
    ----------
    weights : {"imagenet", None} or path-like
        ``"imagenet"`` (or None): the ImageNet weights from Keras' cache, downloaded into it on first
        use (:func:`vgg19_weights_file`); a path: a local file that ``load_weights`` reads, such as
        :data:`VGG19_WEIGHTS_FILE`.
    layers : sequence of str
        Names of VGG-19 layers (default :data:`VGG19_LAYERS`, the first convolution of each block).

    Returns
    -------
    keras.Model
        One output per layer, in the order of ``layers``.

    Raises
    ------
    WeightsUnavailableError
        If the weights are neither in the cache nor downloadable, or the file is missing or unreadable.
    ValueError
        If a name in ``layers`` is not a layer of VGG-19.
    """
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        path = vgg19_weights_file()
    else:
        path = Path(weights)
        if not path.is_file():
            raise WeightsUnavailableError(
                f"no weights file at {str(path)!r}: pass the path of an existing VGG-19 weights file, "
                f"weights=\"imagenet\" (Keras' cache {keras_cache_dir()}, downloaded on first use), or use the "
                "book's own classifier as the feature network, features=\"pass1\"")
    base = _vgg19_architecture()
    try:
        base.load_weights(str(path))
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsUnavailableError(f"the weights file {path} could not be read as VGG-19 weights ({exc}); "
                                      "delete it to download it again, or pass another file") from exc
    return _feature_model(base, layers, [layer.name for layer in base.layers], "vgg19_features")


@functools.lru_cache(maxsize=8)
def _cnn_features(model: str, layers: tuple):
    from . import cnn

    net, class_names = cnn.load_pretrained(model)
    flexible = cnn.build_model(len(class_names), size=None)   # the same weights, inputs of any side >= 48
    flexible.set_weights(net.get_weights())
    flexible.trainable = False
    return _feature_model(flexible, layers, CNN_FEATURE_LAYERS, f"{model}_features")


def cnn_features(model: str = "pass1", layers=CNN_LAYERS):
    """The book's shipped classifier as a feature network: images (B, H, W, 3) to its feature maps.

    The network of :func:`gslib.cnn.load_pretrained` is rebuilt for inputs of any side (at least
    :data:`gslib.cnn.MIN_SIZE`; its convolutions do not depend on the side) with the shipped weights,
    so it works offline. Its three input channels are three snapshots of u (section "data" of
    chapter 2); for a steady pattern they coincide, so a field is fed as three equal channels,
    unscaled: the network's first layer normalises its input with statistics learned on u.

    Parameters
    ----------
    model : {"pass1", "pass2"}
        Which shipped network.
    layers : sequence of str
        Names of the layers whose outputs are returned, from :data:`CNN_FEATURE_LAYERS` (default
        :data:`CNN_LAYERS`, the four convolutions after their ReLU).

    Returns
    -------
    keras.Model
        One output per layer, in the order of ``layers``; the model is built once per ``(model,
        layers)`` and shared by later calls (its weights are frozen).

    Raises
    ------
    ValueError
        If ``model`` is not a shipped network or a layer name is not in :data:`CNN_FEATURE_LAYERS`.
    """
    from .cnn import PRETRAINED

    if model not in PRETRAINED:
        raise ValueError(f"model={model!r} is not a shipped network; allowed: {', '.join(PRETRAINED)}")
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    bad = [layer for layer in layers if layer not in CNN_FEATURE_LAYERS]
    if not layers or bad:
        raise ValueError(f"layers={layers!r}: give one or more of {', '.join(CNN_FEATURE_LAYERS)}")
    return _cnn_features(model, layers)


def _vgg_preprocess(x):
    """A field (B, N, M) in [0, 1] as VGG-19 input: three equal channels, 0..255, ImageNet means removed."""
    tf = _tf()
    img = tf.repeat(x[..., None] * 255.0, 3, axis=-1)
    return img - tf.constant([103.939, 116.779, 123.68], dtype=img.dtype)


def _cnn_preprocess(x):
    """A field (B, N, M) as input of the book's classifier: three equal channels, values unchanged."""
    from .cnn import MIN_SIZE

    if min(x.shape[-2:]) < MIN_SIZE:
        raise ValueError(f"the fields are {x.shape[-2]} x {x.shape[-1]}; the book's classifier needs a side of at "
                         f"least {MIN_SIZE} cells")
    return _tf().repeat(x[..., None], 3, axis=-1)


def _resolve_features(features, weights, preprocess):
    """(feature model, preprocessing) for :func:`gram_loss` and :func:`gram_loss_np`."""
    from .cnn import PRETRAINED

    if features is None or (isinstance(features, str) and features == "vgg19"):
        model, auto = vgg19_features(weights), _vgg_preprocess
    elif isinstance(features, str):
        if features not in PRETRAINED:
            raise ValueError(f"features={features!r}; allowed: a keras.Model, 'vgg19', "
                             f"{', '.join(map(repr, PRETRAINED))}")
        model, auto = cnn_features(features), _cnn_preprocess
    else:
        model, auto = features, None
    return model, (auto if isinstance(preprocess, str) and preprocess == "auto" else preprocess)


def gram_matrices(features, x, preprocess=None):
    """Gram matrices ``G = F^T F / (H W)`` of every output of ``features`` for fields ``x``.

    Parameters
    ----------
    features : keras.Model
        Maps images (B, H, W, 3) to one feature map (B, H', W', C) or a list of them.
    x : array or tensor
        Fields (B, N, M), or one field (N, M).
    preprocess : callable or None
        Fields (B, N, M) to images (B, N, M, 3); None: three equal channels.

    Returns
    -------
    list of tensors
        One (B, C, C) Gram matrix per output of ``features``.
    """
    tf = _tf()
    x = tf.convert_to_tensor(x)
    if len(x.shape) == 2:
        x = x[None]
    img = preprocess(x) if preprocess is not None else tf.repeat(x[..., None], 3, axis=-1)
    img = tf.cast(img, features.inputs[0].dtype if getattr(features, "inputs", None) else tf.float32)
    outs = features(img)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    grams = []
    for f in outs:
        shape = tf.shape(f)
        flat = tf.reshape(f, (shape[0], shape[1] * shape[2], shape[3]))
        grams.append(tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], flat.dtype))
    return grams


def _gram_distance(gp, gt):
    tf = _tf()
    return tf.add_n([tf.reduce_mean((a - b) ** 2, axis=[-2, -1]) for a, b in zip(gp, gt)])


def gram_loss(pred, target, features=None, *, weights="imagenet", preprocess="auto"):
    """Style loss (TensorFlow, differentiable): the MSE between Gram matrices, summed over feature maps.

    Parameters
    ----------
    pred, target : array or tensor
        Fields (N, M) or a batch ``pred`` (B, N, M) against one ``target`` (N, M).
    features : None, "vgg19", "pass1", "pass2" or keras.Model
        The feature network: None or "vgg19", VGG-19 with ``weights`` (:func:`vgg19_features`, the
        paper's choice); "pass1" or "pass2", the book's shipped classifier (:func:`cnn_features`,
        offline); or a ``keras.Model`` mapping images (B, H, W, 3) to one or more feature maps.
    weights : "imagenet" or path-like
        VGG-19's weights (only for ``features`` None or "vgg19").
    preprocess : "auto", callable or None
        From fields (B, N, M) to images: "auto" picks ImageNet preprocessing for VGG-19 (values in
        [0, 1] to 0..255, means removed), three equal unscaled channels for the book's classifier and
        for a user model; None: three equal channels.

    Returns
    -------
    tensor
        The loss, (B,) for a batch, a scalar for one field; gradients flow to ``pred``.

    Raises
    ------
    WeightsUnavailableError
        If VGG-19 is asked for and its weights are not available (:func:`vgg19_weights_file`).
    ValueError
        If ``features`` is a name that is not a network, or the fields are too small for it.
    """
    tf = _tf()
    model, prep = _resolve_features(features, weights, preprocess)
    single = len(tf.convert_to_tensor(pred).shape) == 2
    loss = _gram_distance(gram_matrices(model, pred, prep), gram_matrices(model, target, prep))
    return loss[0] if single else loss


def gram_loss_np(pred, target, features="pass1", *, weights="imagenet", preprocess="auto",
                 batch_size: int = 256) -> np.ndarray:
    """:func:`gram_loss` for a whole batch of predictions, in chunks, as NumPy (float64).

    Parameters
    ----------
    pred : array (..., N, M)
        Predictions; members that are not finite (blown-up runs) get NaN.
    target : array (N, M)
        The target field (its Gram matrices are computed once).
    features, weights, preprocess
        As in :func:`gram_loss`; the default is the book's classifier "pass1", which needs no download.
    batch_size : int
        Members per call of the feature network.

    Returns
    -------
    numpy.ndarray
        The loss of every member, shape ``pred.shape[:-2]``.

    Raises
    ------
    ValueError
        If ``batch_size`` is not an integer >= 1 or the shapes do not match.
    """
    batch_size = _check_int("batch_size", batch_size)
    pred = np.asarray(pred, dtype=np.float32)
    target = np.asarray(target, dtype=np.float32)
    if target.ndim != 2 or pred.ndim < 2 or pred.shape[-2:] != target.shape:
        raise ValueError(f"pred must be (..., N, M) and target (N, M) with the same N, M; got {pred.shape} "
                         f"and {target.shape}")
    model, prep = _resolve_features(features, weights, preprocess)
    lead = pred.shape[:-2]
    flat = pred.reshape((-1,) + target.shape)
    out = np.full(len(flat), np.nan)
    good = np.flatnonzero(np.all(np.isfinite(flat), axis=(-2, -1)))
    gt = gram_matrices(model, target, prep)
    for start in range(0, len(good), batch_size):
        idx = good[start:start + batch_size]
        out[idx] = _gram_distance(gram_matrices(model, flat[idx], prep), gt).numpy()
    return out.reshape(lead)


#: The losses by name: (TensorFlow version, NumPy version).
LOSSES = {
    "spectral": (spectral_loss, spectral_loss_np),
    "windowed": (windowed_spectral_loss, windowed_spectral_loss_np),
}


def _loss_pair(loss):
    if loss == "gram":   # the Gram loss through the book's shipped classifier (no download)
        return functools.partial(gram_loss, features="pass1"), functools.partial(gram_loss_np, features="pass1")
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not a loss; allowed: {', '.join(map(repr, list(LOSSES) + ['gram']))}")
    return LOSSES[loss]


def value_and_grad(theta, u0, v0, target, *, loss="spectral", field="v", steps=2000, steady_tol=None, dt=1.0,
                   dx=1.0, stencil="5pt", dtype=np.float64, check_every: int = 100, run: ForwardRun | None = None):
    """Loss of the pattern reached from (u0, v0) with ``theta`` against ``target`` and its gradient.

    The :func:`forward` run followed by :func:`backward`.

    Parameters
    ----------
    theta : array_like or dict
        ``(Du, Dv, F, k)`` (ignored when ``run`` is given).
    u0, v0 : array_like
        Initial fields (N, M).
    target : array_like
        Target pattern (N, M).
    loss : str
        A key of :data:`LOSSES`, or ``"gram"`` (the Gram loss through the shipped classifier).
    field : {"u", "v"}
        Which field is compared.
    steps, steady_tol, dt, dx, stencil, dtype, check_every
        As in :func:`forward`.
    run : ForwardRun, optional
        A forward run to reuse instead of running one.

    Returns
    -------
    loss : float
        The loss.
    grad : numpy.ndarray
        dloss/dtheta (4,).
    run : ForwardRun
        The forward run.

    Raises
    ------
    ValueError
        If ``loss`` or ``field`` is unknown, or an argument of :func:`forward` is invalid.
    """
    tf = _tf()
    tf_loss, _ = _loss_pair(loss)
    if field not in ("u", "v"):
        raise ValueError(f"field={field!r}; allowed: 'u', 'v'")
    if run is None:
        run = forward(theta, u0, v0, steps, dt=dt, dx=dx, stencil=stencil, steady_tol=steady_tol, dtype=dtype,
                      check_every=check_every)
    final = tf.constant(run.u if field == "u" else run.v)
    with tf.GradientTape() as tape:
        tape.watch(final)
        value = tf_loss(final, tf.constant(np.asarray(target, final.dtype.as_numpy_dtype)))
    g = tape.gradient(value, final).numpy()
    zero = np.zeros_like(g)
    g_theta, _, _ = backward(run, g if field == "u" else zero, g if field == "v" else zero)
    return float(value), g_theta, run


# ----------------------------------------------------------------------------- gradient descent


def params_from_raw(raw) -> np.ndarray:
    """The paper's parametrisation: ``Du, Dv = softplus(raw)``, ``F, k = 0.1 sigmoid(raw)``.

    Parameters
    ----------
    raw : array_like
        Raw parameters, (..., 4).

    Returns
    -------
    numpy.ndarray
        ``(Du, Dv, F, k)`` along the last axis.
    """
    raw = np.asarray(raw, dtype=np.float64)
    out = np.empty_like(raw)
    out[..., :2] = np.logaddexp(0.0, raw[..., :2])
    out[..., 2:] = 0.1 * _sigmoid(raw[..., 2:])
    return out


def _sigmoid(x):
    from scipy.special import expit

    return expit(x)


def raw_from_params(params) -> np.ndarray:
    """Inverse of :func:`params_from_raw`.

    Parameters
    ----------
    params : array_like or dict
        ``(Du, Dv, F, k)``, (..., 4), with Du, Dv > 0 and 0 < F, k < 0.1.

    Returns
    -------
    numpy.ndarray
        Raw parameters, (..., 4).

    Raises
    ------
    ValueError
        If the parameters are outside the parametrisation's range or not four finite values.
    """
    p = _as_params(params)
    if np.any(p[..., :2] <= 0) or np.any(p[..., 2:] <= 0) or np.any(p[..., 2:] >= 0.1):
        raise ValueError(f"params {p} outside the parametrisation's range: Du, Dv > 0 and 0 < F, k < 0.1")
    out = np.empty_like(p)
    out[..., :2] = p[..., :2] + np.log(-np.expm1(-p[..., :2]))   # softplus^-1
    out[..., 2:] = np.log(p[..., 2:] / (0.1 - p[..., 2:]))        # logit(10 p)
    return out


def _dparams_draw(raw) -> np.ndarray:
    """Diagonal of d params / d raw."""
    raw = np.asarray(raw, dtype=np.float64)
    sig = _sigmoid(raw)
    return np.concatenate([sig[..., :2], 0.1 * sig[..., 2:] * (1.0 - sig[..., 2:])], axis=-1)


@dataclass
class FitHistory:
    """Record of :func:`fit_backprop`, one row per iteration (row 0: the initial guess).

    Attributes
    ----------
    loss : list of float
        Loss per iteration.
    params, grad : list
        Parameters and dloss/dparams per iteration, (I, 4) as arrays.
    lr : list of float
        The learning rate of the accepted step, 0 where every trial was rejected.
    rejected : list of int
        Trial steps refused by the safeguard.
    steps : list of int
        Steps of the unrolled run.
    steady : list of bool
        Whether the run met the tolerance.
    seconds : list of float
        Wall time since the start.
    truth : numpy.ndarray or None
        The true ``(Du, Dv, F, k)``.
    options : dict
        The options of the fit.
    """

    loss: list = field(default_factory=list)
    params: list = field(default_factory=list)
    grad: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    steady: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    truth: np.ndarray | None = None
    options: dict = field(default_factory=dict)

    def arrays(self) -> dict:
        """The columns as NumPy arrays."""
        return {key: np.asarray(getattr(self, key)) for key in
                ("loss", "params", "grad", "lr", "rejected", "steps", "steady", "seconds")}

    def relative_error(self) -> np.ndarray:
        """``|params / truth - 1|`` per iteration, (I, 4)."""
        return np.abs(np.asarray(self.params) / self.truth - 1.0)


def fit_backprop(setup: Setup, init, iterations: int, *, lr=1e-4, weight_decay=5e-4, max_reductions=4,
                 loss="spectral", field="v", target=None, dtype=np.float64, check_every=100,
                 time_budget=None, callback=None) -> FitHistory:
    """Gradient descent through the unrolled steady state, as in the paper.

    The raw parameters (:func:`raw_from_params` of ``init``) take SGD steps
    ``raw -= lr_try (grad_raw + weight_decay raw)`` (weight decay as in PyTorch's SGD). A trial step
    is accepted only if its run stays finite with v in [0, 1]; otherwise ``lr_try`` is divided by 10,
    up to ``max_reductions`` times, after which the iteration keeps the old parameters. Each run
    starts from the setup's seed and stops at ``setup.train_tol`` or ``setup.max_steps``; the target
    is compared with ``loss`` on ``field``.

    Parameters
    ----------
    setup : Setup
        The experiment.
    init : array_like or dict
        Initial guess ``(Du, Dv, F, k)``.
    iterations : int
        Number of iterations, >= 0.
    lr : float
        Learning rate.
    weight_decay : float
        Weight decay of the raw parameters.
    max_reductions : int
        Most divisions of the trial learning rate by 10 per iteration.
    loss : str
        A key of :data:`LOSSES`, or ``"gram"``.
    field : {"u", "v"}
        Which field is compared.
    target : array_like, optional
        Target pattern (default: the seed run with the true parameters to
        ``setup.target_tol``).
    dtype : {float32, float64}
        Floating-point type of the runs.
    check_every : int
        Steps per block of :func:`forward`.
    time_budget : float, optional
        Seconds after which the fit stops early.
    callback : callable, optional
        ``callback(history)`` is called per row.

    Returns
    -------
    FitHistory
        One row per iteration (row 0: the initial guess).

    Raises
    ------
    ValueError
        If the initial guess gives a run that is not finite with v in [0, 1], or an argument is
        invalid.
    """
    iterations = _check_int("iterations", iterations, 0)
    u0, v0 = initial_state(setup)
    opts = dict(dt=setup.dt, dx=setup.dx, stencil=setup.stencil, dtype=dtype, check_every=check_every)
    if target is None:
        ref = forward(setup.params, u0, v0, setup.max_steps, steady_tol=setup.target_tol, **opts)
        target = ref.u if field == "u" else ref.v
    raw = raw_from_params(init)
    hist = FitHistory(truth=setup.params, options=dict(lr=lr, weight_decay=weight_decay, loss=loss, field=field,
                                                       max_reductions=max_reductions, setup=setup))
    start = time.perf_counter()

    def run_at(r):
        p = params_from_raw(r)
        if setup.dt > stability_limit(float(max(p[0], p[1])), setup.dx, setup.stencil):
            # beyond the forward-Euler bound the checkerboard mode grows by |1 - 8 D dt / dx^2| per step
            # (5 points): the run would blow up, so the trial is refused without running it
            return None
        return forward(p, u0, v0, setup.max_steps, steady_tol=setup.train_tol, **opts)

    run = run_at(raw)
    if run is None or not run.valid:
        raise ValueError(f"the initial guess {params_from_raw(raw)} gives a run that is not finite with v in [0, 1]")
    value, g, run = value_and_grad(None, u0, v0, target, loss=loss, field=field, run=run)

    def record(lr_used, rejected):
        hist.loss.append(value)
        hist.params.append(params_from_raw(raw))
        hist.grad.append(g)
        hist.lr.append(lr_used)
        hist.rejected.append(rejected)
        hist.steps.append(run.steps)
        hist.steady.append(run.steady)
        hist.seconds.append(time.perf_counter() - start)
        if callback is not None:
            callback(hist)

    record(0.0, 0)
    for _ in range(iterations):
        if time_budget is not None and time.perf_counter() - start > time_budget:
            break
        update = g * _dparams_draw(raw) + weight_decay * raw
        lr_try, accepted = lr, None
        for attempt in range(max_reductions + 1):
            trial_raw = raw - lr_try * update
            trial = run_at(trial_raw)
            if trial is not None and trial.valid:
                accepted = attempt
                break
            lr_try *= 0.1
        if accepted is None:
            record(0.0, max_reductions + 1)
            continue
        raw = trial_raw
        value, g, run = value_and_grad(None, u0, v0, target, loss=loss, field=field, run=trial)
        record(lr_try, accepted)
    return hist


# ----------------------------------------------------------------------------- cross-sections

#: Default ranges of the cross-sections (5-point stencil with dt = 1 is stable for D <= 0.25).
DEFAULT_RANGES = {"Du": (0.02, 0.24), "Dv": (0.01, 0.24), "F": (0.005, 0.08), "k": (0.04, 0.075)}


@dataclass
class CrossSection:
    """Losses along a 1-D or over a 2-D slice of parameter space, against one target pattern.

    The property ``grid`` is ``(len(axes[0]),)`` or ``(len(axes[0]), len(axes[1]))``.

    Attributes
    ----------
    names : tuple of str
        The varied parameter(s).
    axes : tuple of numpy.ndarray
        Their values (1-D arrays).
    params : numpy.ndarray
        Every member's (Du, Dv, F, k), shape ``grid + (4,)``.
    losses : dict
        Name -> array of shape ``grid`` (NaN where the run blew up).
    steps, steady, failed : numpy.ndarray
        Per member.
    seconds : float
        Wall time of the batch.
    truth : numpy.ndarray
        The setup's true ``(Du, Dv, F, k)``.
    backend : str
        The engine's backend.
    v : numpy.ndarray or None
        The final v of every member (float32) when kept.
    """

    names: tuple
    axes: tuple
    params: np.ndarray
    losses: dict
    steps: np.ndarray
    steady: np.ndarray
    failed: np.ndarray
    seconds: float
    truth: np.ndarray
    backend: str
    v: np.ndarray | None = None

    @property
    def grid(self) -> tuple:
        return tuple(len(a) for a in self.axes)


def cross_section(setup: Setup, target_u, target_v, vary: dict, *, losses=("spectral", "windowed", "residual"),
                  field="v", base=None, tol=None, backend="auto", dtype=np.float32, check_every=100,
                  keep_fields=False, gram_features="pass1", gram_field="u") -> CrossSection:
    """Loss cross-section: one batch of the engine with every parameter point of ``vary``.

    Every member starts from the setup's seed and runs to ``tol`` (default ``setup.train_tol``) or
    ``setup.max_steps`` with :func:`gslib.integrate` (``on_blowup="mark"``).

    Parameters
    ----------
    setup : Setup
        The experiment.
    target_u, target_v : array_like
        The target pattern (N, M).
    vary : dict
        ``{"F": values}`` (1-D) or ``{"F": values, "k": values}`` (2-D, first name along rows).
    losses : sequence of str
        "spectral", "windowed" (on ``field``, against ``target_u``/``target_v``), "residual"
        (:func:`residual_loss` of the *target* at the member's parameters: it needs no
        simulation), "gram" (:func:`gram_loss_np` on ``gram_field``).
    field : {"u", "v"}
        Field compared by the spectral losses.
    base : array_like or dict, optional
        The parameters that are not varied (default: the setup's true ones).
    tol : float, optional
        Steady-state tolerance (default ``setup.train_tol``).
    backend, dtype, check_every
        As in :func:`gslib.integrate`.
    keep_fields : bool
        Keep the final v of every member.
    gram_features : str
        The feature network of the Gram loss (default the book's shipped classifier, whose inputs
        are snapshots of u).
    gram_field : {"u", "v"}
        Field compared by the Gram loss.

    Returns
    -------
    CrossSection
        The losses over the slice and the runs' outcomes.

    Raises
    ------
    ValueError
        If ``vary`` names no or more than two parameters or an unknown one, a loss or field is
        unknown, or ``base`` is invalid.
    """
    from .solvers import integrate

    if not isinstance(vary, dict) or not 1 <= len(vary) <= 2:
        raise ValueError("vary must be a dict of one or two parameter names -> values")
    for name in vary:
        if name not in PARAMS:
            raise ValueError(f"{name!r} is not a parameter; allowed: {', '.join(PARAMS)}")
    for name in losses:
        if name not in LOSSES and name not in ("residual", "gram"):
            raise ValueError(f"loss {name!r} unknown; allowed: {', '.join(list(LOSSES) + ['residual', 'gram'])}")
    for name, value in (("field", field), ("gram_field", gram_field)):
        if value not in ("u", "v"):
            raise ValueError(f"{name}={value!r}; allowed: 'u', 'v'")
    names = tuple(vary)
    axes = tuple(np.asarray(vary[n], dtype=np.float64).ravel() for n in names)
    base = setup.params if base is None else _as_params(base, "base")
    mesh = np.meshgrid(*axes, indexing="ij")
    params = np.broadcast_to(base, mesh[0].shape + (4,)).copy()
    for name, m in zip(names, mesh):
        params[..., PARAMS.index(name)] = m
    flat = params.reshape(-1, 4)
    u0, v0 = initial_state(setup)
    B = len(flat)
    start = time.perf_counter()
    res = integrate(np.broadcast_to(u0, (B,) + u0.shape), np.broadcast_to(v0, (B,) + v0.shape), flat[:, 2], flat[:, 3],
                    Du=flat[:, 0], Dv=flat[:, 1], dt=setup.dt, dx=setup.dx, steps=setup.max_steps,
                    stencil=setup.stencil, backend=backend, dtype=dtype,
                    steady_tol=setup.train_tol if tol is None else tol, check_every=check_every, on_blowup="mark")
    seconds = time.perf_counter() - start
    grid = mesh[0].shape
    pred = res.u if field == "u" else res.v
    target = target_u if field == "u" else target_v
    out = {}
    for name in losses:
        if name == "residual":
            out[name] = residual_loss(target_u, target_v, flat, dx=setup.dx, stencil=setup.stencil).reshape(grid)
        elif name == "gram":
            out[name] = gram_loss_np(res.u if gram_field == "u" else res.v, target_u if gram_field == "u" else target_v,
                                     features=gram_features).reshape(grid)
        else:
            out[name] = LOSSES[name][1](pred, target).reshape(grid)
    return CrossSection(names=names, axes=axes, params=params, losses=out, steps=res.steps.reshape(grid),
                        steady=res.steady.reshape(grid), failed=res.failed.reshape(grid), seconds=seconds,
                        truth=setup.params, backend=res.backend,
                        v=res.v.astype(np.float32).reshape(grid + res.v.shape[1:]) if keep_fields else None)


# ----------------------------------------------------------------------------- the residual


def check_steady_pattern(u, v, dx=1.0, *, source="the pattern"):
    """Validate a steady pattern.

    Parameters
    ----------
    u, v : array_like
        Real (N, M) arrays, same shape, N, M >= 3, finite, not both uniform.
    dx : float
        Grid spacing, > 0.
    source : str
        How the messages name the pattern.

    Returns
    -------
    u, v : numpy.ndarray
        float64.
    dx : float
        The spacing.

    Raises
    ------
    ValueError
        Naming the problem; a uniform pattern is refused because its Laplacians vanish, so the
        diffusivities do not enter its residual at all.
    """
    arrays = []
    for name, a in (("u", u), ("v", v)):
        a = np.asarray(a)
        if a.dtype.kind not in "fiu" or a.dtype == bool:
            raise ValueError(f"{source}: {name} must be a real-valued array; got dtype {a.dtype}")
        if a.ndim != 2 or min(a.shape) < 3:
            raise ValueError(f"{source}: {name} must have shape (N, M) with N, M >= 3; got {a.shape}")
        bad = int(np.count_nonzero(~np.isfinite(a)))
        if bad:
            raise ValueError(f"{source}: {name} contains {bad} NaN or infinite value(s); the residual needs finite fields")
        arrays.append(a.astype(np.float64))
    u, v = arrays
    if u.shape != v.shape:
        raise ValueError(f"{source}: u and v must have the same shape; got {u.shape} and {v.shape}")
    dxa = np.asarray(dx)
    if dxa.size != 1 or dxa.dtype.kind not in "fiu" or not np.isfinite(dxa).all() or float(dxa.reshape(())) <= 0:
        raise ValueError(f"{source}: dx must be one finite number > 0; got {dx!r}")
    if np.ptp(u) == 0 and np.ptp(v) == 0:
        raise ValueError(f"{source} is uniform (u = {u.flat[0]:g}, v = {v.flat[0]:g} everywhere): its Laplacians "
                         "vanish, so Du and Dv do not enter the residual and a homogeneous state fixes at most "
                         "two relations between F and k; a uniform pattern carries no information on the "
                         "parameters, give a pattern")
    return u, v, float(dxa.reshape(()))


def residual_design(u, v, dx=1.0, stencil="5pt"):
    """The linear model of the steady-state residual: ``r = A theta - b`` with theta = (Du, Dv, F, k).

    Rows of u (N M): ``[lap u, 0, 1 - u, 0]``, ``b = u v^2``; rows of v: ``[0, lap v, -v, -v]``,
    ``b = -u v^2``; so that ``r_u = Du lap u - u v^2 + F (1 - u)`` and
    ``r_v = Dv lap v + u v^2 - (F + k) v``.

    Parameters
    ----------
    u, v : array_like
        The steady pattern (N, M) (:func:`check_steady_pattern`).
    dx : float
        Grid spacing.
    stencil : {"5pt", "9pt", "9pt-iso", "spectral"}
        Discrete Laplacian (:func:`gslib.solvers.stencils.analysis_laplacian`).

    Returns
    -------
    A : numpy.ndarray
        (2 N M, 4).
    b : numpy.ndarray
        (2 N M,).

    Raises
    ------
    ValueError
        For an unknown stencil or an invalid pattern.
    """
    check_analysis_stencil(stencil)
    u, v, dx = check_steady_pattern(u, v, dx)
    lu = analysis_laplacian(u, dx, stencil).ravel()
    lv = analysis_laplacian(v, dx, stencil).ravel()
    uf, vf = u.ravel(), v.ravel()
    zero = np.zeros_like(uf)
    A = np.block([[lu[:, None], zero[:, None], (1.0 - uf)[:, None], zero[:, None]],
                  [zero[:, None], lv[:, None], -vf[:, None], -vf[:, None]]])
    uvv = uf * vf * vf
    return A, np.concatenate([uvv, -uvv])


def residual_loss(u, v, params, dx=1.0, stencil="5pt") -> np.ndarray:
    """``mean(r_u^2 + r_v^2)`` over the cells of the pattern (u, v).

    A quadratic in the parameters: evaluated from the normal matrices, so any number of parameter
    points costs one pass over the pattern.

    Parameters
    ----------
    u, v : array_like
        The steady pattern (N, M).
    params : array_like or dict
        ``(Du, Dv, F, k)``, (..., 4).
    dx : float
        Grid spacing.
    stencil : {"5pt", "9pt", "9pt-iso", "spectral"}
        Discrete Laplacian.

    Returns
    -------
    numpy.ndarray
        The loss, (...).

    Raises
    ------
    ValueError
        For an invalid pattern, stencil or parameters.
    """
    A, b = residual_design(u, v, dx, stencil)
    cells = len(b) // 2
    Q, c, s = A.T @ A / cells, A.T @ b / cells, b @ b / cells
    p = _as_params(params)
    value = np.einsum("...i,ij,...j->...", p, Q, p) - 2.0 * p @ c + s
    return np.maximum(value, 0.0)


@dataclass
class ResidualFit:
    """Least-squares parameters of a steady pattern (:func:`residual_fit`).

    Attributes
    ----------
    params, stderr : dict
        Values and standard errors over Du, Dv, F, k.
    cov : numpy.ndarray
        Covariance (4, 4).
    residual_rms : float
        Root mean square of the residuals at the fit.
    condition : float
        Condition number of the column-scaled design.
    cells : int
        N M.
    stencil : str
        Discrete Laplacian.
    dx : float
        Grid spacing.
    noise : float
        The noise level corrected for (0: none).
    relative_residual : float
        ``|r| / |b|``: the residual at the fit relative to the reaction terms ``u v^2`` it must
        balance (about 1e-3 for a pattern of the model settled to a step change of 1e-4; with
        ``noise > 0``, what the noise itself is expected to leave is removed first).
    explained : bool
        ``relative_residual <= UNEXPLAINED_THRESHOLD``: False means that the pattern is not a steady
        state of the model (it still moves, or another model made it), and the parameters are not
        to be trusted.
    discretisation : dict
        How the stencil was chosen (``stencil="auto"``): ``chosen``, per candidate its
        ``residual_rms``, ``margin`` (the runner-up's sum of squared residuals minus the winner's, over
        the winner's: ``RSS2/RSS1 - 1``; with ``noise > 0`` the noise's expected share is removed from
        both first),
        ``threshold`` (:data:`STENCIL_MARGIN`), ``decided`` and ``message``; for an explicit stencil,
        ``chosen`` and ``message``.
    """

    params: dict
    stderr: dict
    cov: np.ndarray
    residual_rms: float
    condition: float
    cells: int
    stencil: str
    dx: float
    noise: float = 0.0
    relative_residual: float = 0.0
    explained: bool = True
    discretisation: dict = field(default_factory=dict)

    def array(self) -> np.ndarray:
        return np.array([self.params[p] for p in PARAMS])

    def to_dict(self) -> dict:
        """The JSON record of ``gslib invert`` (without provenance)."""
        return {"params": dict(self.params), "stderr": dict(self.stderr),
                "relative_stderr": {p: self.stderr[p] / abs(self.params[p]) if self.params[p] else None
                                    for p in PARAMS},
                "covariance": self.cov.tolist(), "residual_rms": self.residual_rms, "condition": self.condition,
                "cells": self.cells, "stencil": self.stencil, "dx": self.dx, "noise": self.noise,
                "relative_residual": self.relative_residual, "explained": self.explained,
                "discretisation": self.discretisation}


#: ``residual_fit`` warns (:class:`UnexplainedPatternWarning`) above this relative residual ``|r| / |b|``.
#: On the 48 x 48 pattern of chapter 5: settled to a step change of 1e-4, 1.3e-3 (parameters within
#: 2e-5); still moving after 500 steps, 6e-3 (1 %); after 200 steps, 0.07 (22 %); uncorrected white
#: noise of std 0.001, 0.03 (1.5 %), of 0.003, 0.1 (12 %). Above 0.05 the parameters are off by
#: several percent at least.
UNEXPLAINED_THRESHOLD = 0.05
#: ``stencil="auto"``: a runner-up whose sum of squared residuals exceeds the winner's by less than this
#: fraction of it (about 5 % in rms) is too close to tell.
STENCIL_MARGIN = 0.1


class UnexplainedPatternWarning(UserWarning):
    """The model does not explain the pattern: it is not steady, or another model made it."""


def _stencil_moments(n, m, dx, stencil):
    """(centre weight, sum of the squared weights) of a Laplacian: the mean of its symbol and of its square."""
    symbol = laplacian_symbol(n, m, dx, stencil)
    return float(symbol.mean()), float((symbol**2).mean())


def _noise_correction(u, v, dx, stencil, sigma):
    """Expected contribution of white noise (std ``sigma`` on u and v) to A^T A and A^T b (errors in variables).

    With xi, eta the noise on u, v: <lap xi lap xi> = s2 sigma^2 and <lap xi xi> = c0 sigma^2 per cell
    (c0, s2: the centre weight and the sum of the squared weights of the stencil, -4 and 20 for the
    5-point stencil, divided by dx^2 and dx^4), which enter the Laplacian columns and their products
    with the columns 1 - u and -v; the products of the noisy fields with b = +-u v^2 add the terms in
    ``e``. The sums use the observed fields (the error is of order sigma^4).
    """
    c0, s2 = _stencil_moments(*u.shape, dx, stencil)
    cells = u.size
    E = np.zeros((4, 4))
    E[0, 0] = E[1, 1] = s2
    E[0, 2] = E[2, 0] = E[1, 2] = E[2, 1] = E[1, 3] = E[3, 1] = -c0
    E[2, 2] = 2.0
    E[2, 3] = E[3, 2] = E[3, 3] = 1.0
    uv = float(np.sum(u * v))
    e = np.array([c0 * np.sum(v * v), -2.0 * c0 * uv, np.sum((1.0 - u) * u - v * v) + 3.0 * uv, 3.0 * uv])
    return sigma**2 * cells * E, sigma**2 * e


def residual_fit(u, v, dx=1.0, stencil="auto", noise=0.0, *, on_unexplained="warn") -> ResidualFit:
    """Recover (Du, Dv, F, k) from one steady pattern by linear least squares on its residual.

    Minimises ``sum(r_u^2 + r_v^2)`` (:func:`residual_design`) in closed form. Standard errors come
    from the residual variance, ``s^2 = RSS / (2 N M - 4)``, ``cov = s^2 (A^T A)^-1``: they treat the
    residuals as independent, which they are not exactly (a pattern that still moves leaves a smooth
    residual), so read them as a scale of the error.

    **The stencil is inferred** (``stencil="auto"``, the default): the pattern is fitted with every
    Laplacian of :data:`~gslib.solvers.stencils.ANALYSIS_STENCILS` and the one with the smallest
    residual wins (with ``noise > 0``: the smallest residual beyond what the noise explains, since
    noise alone leaves less residual with a smoother stencil); a settled pattern of a
    finite-difference code leaves a residual ten times smaller with its own stencil. When the
    runner-up's sum of squared residuals exceeds the winner's by less than :data:`STENCIL_MARGIN`
    (10 %), ``discretisation["decided"]`` is False: the residual is dominated by something else
    (noise, motion) and cannot tell the stencils apart.

    **It knows when it is fooled.** A relative residual ``|r| / |b|`` above
    :data:`UNEXPLAINED_THRESHOLD` means that no choice of the parameters makes the pattern steady:
    it still moves, or another model made it. The fit is returned with ``explained=False`` and an
    :class:`UnexplainedPatternWarning` (``on_unexplained="warn"``), or a ``ValueError`` is raised
    (``"raise"``), or nothing is said (``"ignore"``).

    Parameters
    ----------
    u, v : array_like
        The steady pattern (N, M).
    dx : float
        Grid spacing, > 0.
    stencil : {"auto", "5pt", "9pt", "9pt-iso", "spectral"}
        Discrete Laplacian, or ``"auto"`` (see above).
    noise : float
        The standard deviation of white measurement noise on u and v, when known, >= 0. Noise in
        the Laplacian columns biases the diffusivities towards zero (errors in variables, a bias
        that grows like noise^2); ``noise > 0`` subtracts its expected contribution from the
        normal equations.
    on_unexplained : {"warn", "raise", "ignore"}
        What to do when the model does not explain the pattern.

    Returns
    -------
    ResidualFit
        Parameters, standard errors and diagnostics (``relative_residual``, ``explained``,
        ``discretisation``).

    Raises
    ------
    ValueError
        For a bad or uninformative pattern (uniform, v = 0 everywhere, or any combination of
        parameters the pattern cannot fix), a noise level that is invalid or too large, an unknown
        stencil or ``on_unexplained``, or (``on_unexplained="raise"``) a pattern the model does not
        explain.
    """
    import warnings

    if on_unexplained not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_unexplained={on_unexplained!r}; allowed: 'warn', 'raise', 'ignore'")
    check_analysis_stencil(stencil, auto=True)
    if stencil == "auto":
        fits = {st: _residual_fit_one(u, v, dx, st, noise) for st in ANALYSIS_STENCILS}
        ranked = sorted(fits, key=lambda st: fits[st]._excess)
        best, second = fits[ranked[0]], fits[ranked[1]]
        raw = best.residual_rms**2 * 2 * best.cells
        margin = (second._excess - best._excess) / raw if raw > 0 else math.inf
        decided = bool(margin >= STENCIL_MARGIN)
        if decided:
            message = (f"stencil {ranked[0]} inferred: the runner-up ({ranked[1]}) leaves a sum of squared residuals "
                       f"larger by {margin:.3g} times the winner's (threshold {STENCIL_MARGIN:g})")
        else:
            message = (f"stencil {ranked[0]} fits best, but {ranked[1]} leaves a sum of squared residuals only "
                       f"{100 * margin:.2g} % larger (threshold {100 * STENCIL_MARGIN:g} %): the pattern cannot tell "
                       "these discretisations apart")
        fit = best
        fit.discretisation = {"chosen": ranked[0], "ranking": ranked,
                              "candidates": {st: {"residual_rms": f.residual_rms, "relative_residual": f.relative_residual,
                                                  "params": dict(f.params)} for st, f in fits.items()},
                              "margin": float(margin), "threshold": STENCIL_MARGIN, "decided": decided,
                              "message": message}
    else:
        fit = _residual_fit_one(u, v, dx, stencil, noise)
        fit.discretisation = {"chosen": stencil, "message": f"stencil {stencil} (given)"}
    if not fit.explained and on_unexplained != "ignore":
        text = (f"the model does not explain this pattern: the relative residual |r|/|b| = "
                f"{fit.relative_residual:.3g} exceeds {UNEXPLAINED_THRESHOLD:g} (a settled Gray-Scott pattern leaves "
                "about 1e-3). The pattern is not steady, or another model made it; the parameters are not to be trusted")
        if on_unexplained == "raise":
            raise ValueError(text)
        warnings.warn(text, UnexplainedPatternWarning, stacklevel=2)
    return fit


def _residual_fit_one(u, v, dx, stencil, noise) -> ResidualFit:
    """:func:`residual_fit` with one given stencil, without the warning."""
    A, b = residual_design(u, v, dx, stencil)
    u, v, dx = check_steady_pattern(u, v, dx)
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise={noise!r} must be a finite number >= 0 (standard deviation of the noise)")
    norms = np.sqrt(np.sum(A * A, axis=0))
    scale_ref = np.sqrt(len(b)) * max(np.max(np.abs(A)), 1e-300)
    empty = [PARAMS[i] for i in range(4) if norms[i] <= 1e-12 * scale_ref]
    if empty:
        why = {"Du": "lap u vanishes everywhere", "Dv": "lap v vanishes everywhere", "k": "v vanishes everywhere",
               "F": "u = 1 and v = 0 everywhere"}
        raise ValueError(f"the pattern carries no information on {', '.join(empty)} "
                         f"({'; '.join(why[p] for p in empty)}): give a non-uniform steady pattern")
    As = A / norms
    sv = np.linalg.svd(As, compute_uv=False)
    condition = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    if not condition < 1e10:
        raise ValueError(f"the pattern cannot separate the parameters (condition number {condition:.3g} of the "
                         "scaled least-squares problem): some combination of Du, Dv, F, k leaves its residual unchanged")
    G = As.T @ As
    if noise > 0:
        dG, de = _noise_correction(u, v, dx, stencil, noise)
        G = G - dG / np.outer(norms, norms)
        rhs = As.T @ b - de / norms
        if np.linalg.eigvalsh(G).min() <= 0:
            raise ValueError(f"noise={noise:g} is too large for this pattern: the corrected normal matrix is not "
                             "positive definite (the noise would explain all the variance of the Laplacians)")
        theta = np.linalg.solve(G, rhs) / norms
    else:
        sol, *_ = np.linalg.lstsq(As, b, rcond=None)
        theta = sol / norms
    r = A @ theta - b
    dof = len(b) - 4
    s2 = float(r @ r) / dof
    cov = s2 * np.linalg.inv(G) / np.outer(norms, norms)
    err = np.sqrt(np.maximum(np.diag(cov), 0.0))
    b_norm = float(np.sqrt(b @ b))
    rss = float(r @ r)
    if noise > 0:  # what white noise alone leaves in the residual (first order in the noise), not to be flagged
        c0, s2n = _stencil_moments(*u.shape, dx, stencil)
        Du, Dv, F, k = theta
        ru_c, rv_c = v * v + F, 2 * u * v - F - k
        rss = rss - noise**2 * float(np.sum(Du**2 * s2n - 2 * Du * c0 * ru_c + ru_c**2 + 4 * (u * v) ** 2
                                           + Dv**2 * s2n + 2 * Dv * c0 * rv_c + v**4 + rv_c**2))
    relative = math.sqrt(max(rss, 0.0)) / b_norm if b_norm > 0 else math.inf
    fit = ResidualFit(params={p: float(x) for p, x in zip(PARAMS, theta)},
                      stderr={p: float(e) for p, e in zip(PARAMS, err)}, cov=cov,
                      residual_rms=float(np.sqrt(np.mean(r * r))), condition=condition, cells=len(b) // 2,
                      stencil=stencil, dx=dx, noise=noise, relative_residual=relative,
                      explained=bool(relative <= UNEXPLAINED_THRESHOLD))
    fit._excess = rss  # the sum of squared residuals beyond the noise's share (ranks the stencils)
    return fit


def load_steady(path):
    """Read a steady pattern from an .npz file with ``u``, ``v`` ((N, M) each) and ``dx``.

    Parameters
    ----------
    path : path-like
        The .npz file.

    Returns
    -------
    u, v : numpy.ndarray
        The pattern, float64.
    dx : float
        Grid spacing.
    extra : dict
        The true parameters when the file has them (the keys Du, Dv, and f or F, and k, as
        written by ``gslib simulate --out``), else empty.

    Raises
    ------
    ValueError
        With a clear message for a file that is missing, unreadable or holds no valid pattern.
    """
    from .npz import read_npz

    data = read_npz(path, ("u", "v", "dx"), ("Du", "Dv", "f", "F", "k"), arg="STEADY",
                    needs="the file needs u and v, arrays of shape (N, M), and dx, the grid spacing")
    u, v, dx = check_steady_pattern(data["u"], data["v"], data["dx"], source=str(path))
    truth = {}
    for name, keys in (("Du", ("Du",)), ("Dv", ("Dv",)), ("F", ("F", "f")), ("k", ("k",))):
        for key in keys:
            if key in data and np.asarray(data[key]).size == 1 and np.asarray(data[key]).dtype.kind in "fiu":
                truth[name] = float(np.asarray(data[key]).reshape(()))
                break
    return u, v, dx, (truth if len(truth) == 4 else {})


def tensorflow():
    """TensorFlow, the framework of the differentiable solver, imported on demand.

    Returns
    -------
    module
        The ``tensorflow`` module.

    Raises
    ------
    gslib.MissingExtraError
        If TensorFlow is not installed; the message names ``pip install 'gslib[tensorflow]'``.
    """
    return _tf()
