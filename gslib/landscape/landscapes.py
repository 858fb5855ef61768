"""Gradient descent through the steady state, and loss cross-sections over grids of parameters.

For one experiment (:class:`~gslib.landscape.setups.Setup`), :func:`value_and_grad` chains the
checkpointed solver (:func:`~gslib.landscape.solver.forward`, :func:`~gslib.landscape.solver.backward`)
with a loss;
:func:`fit_backprop` is the paper's SGD with weight decay on raw parameters (``Du, Dv =
softplus(raw)``, ``f, k = 0.1 sigmoid(raw)``) and its step safeguard; :func:`cross_section` runs one
batch of the compiled engine (:func:`gslib.integrate`, steady-state stops) per 1-D or 2-D slice of
parameter space (a grid of points) and evaluates the losses in NumPy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from .._validate import check_choice, check_int
from ..inversion import PARAMS, as_params, residual_loss
from ..solvers import integrate
from ..solvers.stencils import stability_limit
from .losses import LOSSES, gram_loss_np, loss_pair
from .setups import Setup, initial_state
from .solver import ForwardRun, backward, forward, tensorflow

__all__ = [
    "value_and_grad",
    "params_from_raw",
    "raw_from_params",
    "FitHistory",
    "fit_backprop",
    "DEFAULT_RANGES",
    "CrossSection",
    "cross_section",
]

FIELDS = ("u", "v")


# ----------------------------------------------------------------------------- loss and gradient


def value_and_grad(
    theta,
    u0,
    v0,
    target,
    *,
    loss="spectral",
    field="v",
    steps=2000,
    steady_tol=None,
    dt=1.0,
    dx=1.0,
    stencil="5pt",
    dtype=np.float64,
    check_every: int = 100,
    run: ForwardRun | None = None,
):
    """Loss of the pattern reached from (u0, v0) with ``theta`` against ``target`` and its gradient.

    The :func:`~gslib.landscape.solver.forward` run followed by :func:`~gslib.landscape.solver.backward`.

    Parameters
    ----------
    theta : array_like or dict
        ``(Du, Dv, f, k)`` (ignored when ``run`` is given).
    u0, v0 : array_like
        Initial fields (N, M).
    target : array_like
        Target pattern (N, M).
    loss : str
        A key of :data:`~gslib.landscape.losses.LOSSES`, or ``"gram"`` (the Gram loss through the
        shipped classifier).
    field : {"u", "v"}
        Which field is compared.
    steps, steady_tol, dt, dx, stencil, dtype, check_every
        As in :func:`~gslib.landscape.solver.forward`.
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
        If ``loss`` or ``field`` is unknown, or an argument of :func:`~gslib.landscape.solver.forward`
        is invalid.
    """
    tf = tensorflow()
    tf_loss, _ = loss_pair(loss)
    check_choice("field", field, FIELDS)
    if run is None:
        run = forward(
            theta,
            u0,
            v0,
            steps,
            dt=dt,
            dx=dx,
            stencil=stencil,
            steady_tol=steady_tol,
            dtype=dtype,
            check_every=check_every,
        )
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
    """The paper's parametrisation: ``Du, Dv = softplus(raw)``, ``f, k = 0.1 sigmoid(raw)``.

    Parameters
    ----------
    raw : array_like
        Raw parameters, (..., 4).

    Returns
    -------
    numpy.ndarray
        ``(Du, Dv, f, k)`` along the last axis.
    """
    raw = np.asarray(raw, dtype=np.float64)
    out = np.empty_like(raw)
    out[..., :2] = np.logaddexp(0.0, raw[..., :2])
    out[..., 2:] = 0.1 * expit(raw[..., 2:])
    return out


def raw_from_params(params) -> np.ndarray:
    """Inverse of :func:`params_from_raw`.

    Parameters
    ----------
    params : array_like or dict
        ``(Du, Dv, f, k)``, (..., 4), with Du, Dv > 0 and 0 < f, k < 0.1.

    Returns
    -------
    numpy.ndarray
        Raw parameters, (..., 4).

    Raises
    ------
    ValueError
        If the parameters are outside the parametrisation's range or not four finite values.
    """
    p = as_params(params)
    if np.any(p[..., :2] <= 0) or np.any(p[..., 2:] <= 0) or np.any(p[..., 2:] >= 0.1):
        raise ValueError(f"params {p} outside the parametrisation's range: Du, Dv > 0 and 0 < f, k < 0.1")
    out = np.empty_like(p)
    out[..., :2] = p[..., :2] + np.log(-np.expm1(-p[..., :2]))  # softplus^-1
    out[..., 2:] = np.log(p[..., 2:] / (0.1 - p[..., 2:]))  # logit(10 p)
    return out


def _dparams_draw(raw) -> np.ndarray:
    """Diagonal of d params / d raw."""
    raw = np.asarray(raw, dtype=np.float64)
    sig = expit(raw)
    return np.concatenate([sig[..., :2], 0.1 * sig[..., 2:] * (1.0 - sig[..., 2:])], axis=-1)


@dataclass
class FitHistory:
    """Record of :func:`fit_backprop`, one row per iteration (row 0: the initial guess).

    Attributes
    ----------
    loss : list of float
        Loss per iteration.
    params, grad : list
        Parameters ``(Du, Dv, f, k)`` and dloss/dparams per iteration, (I, 4) as arrays.
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
        The true ``(Du, Dv, f, k)``.
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
        return {
            key: np.asarray(getattr(self, key))
            for key in ("loss", "params", "grad", "lr", "rejected", "steps", "steady", "seconds")
        }

    def relative_error(self) -> np.ndarray:
        """``|params / truth - 1|`` per iteration, (I, 4)."""
        return np.abs(np.asarray(self.params) / self.truth - 1.0)


def fit_backprop(
    setup: Setup,
    init,
    iterations: int,
    *,
    lr=1e-4,
    weight_decay=5e-4,
    max_reductions=4,
    loss="spectral",
    field="v",
    target=None,
    dtype=np.float64,
    check_every=100,
    time_budget=None,
    callback=None,
) -> FitHistory:
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
        Initial guess ``(Du, Dv, f, k)``.
    iterations : int
        Number of iterations, >= 0.
    lr : float
        Learning rate.
    weight_decay : float
        Weight decay of the raw parameters.
    max_reductions : int
        Most divisions of the trial learning rate by 10 per iteration.
    loss : str
        A key of :data:`~gslib.landscape.losses.LOSSES`, or ``"gram"``.
    field : {"u", "v"}
        Which field is compared.
    target : array_like, optional
        Target pattern (default: the seed run with the true parameters to
        ``setup.target_tol``).
    dtype : {float32, float64}
        Floating-point type of the runs.
    check_every : int
        Steps per block of :func:`~gslib.landscape.solver.forward`.
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
    iterations = check_int("iterations", iterations, 0)
    check_choice("field", field, FIELDS)
    u0, v0 = initial_state(setup)
    opts = dict(dt=setup.dt, dx=setup.dx, stencil=setup.stencil, dtype=dtype, check_every=check_every)
    if target is None:
        ref = forward(setup.params, u0, v0, setup.max_steps, steady_tol=setup.target_tol, **opts)
        target = ref.u if field == "u" else ref.v
    raw = raw_from_params(init)
    hist = FitHistory(
        truth=setup.params,
        options=dict(
            lr=lr, weight_decay=weight_decay, loss=loss, field=field, max_reductions=max_reductions, setup=setup
        ),
    )
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
DEFAULT_RANGES = {"Du": (0.02, 0.24), "Dv": (0.01, 0.24), "f": (0.005, 0.08), "k": (0.04, 0.075)}


@dataclass
class CrossSection:
    """Losses along a 1-D or over a 2-D slice of parameter space, against one target pattern.

    The property ``grid`` is ``(len(axes[0]),)`` or ``(len(axes[0]), len(axes[1]))``.

    Attributes
    ----------
    names : tuple of str
        The varied parameter(s), names of :data:`~gslib.inversion.PARAMS`.
    axes : tuple of numpy.ndarray
        Their values (1-D arrays).
    params : numpy.ndarray
        Every member's (Du, Dv, f, k), shape ``grid + (4,)``.
    losses : dict
        Name -> array of shape ``grid`` (NaN where the run blew up).
    steps, steady, failed : numpy.ndarray
        Per member.
    seconds : float
        Wall time of the batch.
    truth : numpy.ndarray
        The setup's true ``(Du, Dv, f, k)``.
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
        """The shape of the slice: one length per varied parameter."""
        return tuple(len(a) for a in self.axes)


def cross_section(
    setup: Setup,
    target_u,
    target_v,
    vary: dict,
    *,
    losses=("spectral", "windowed", "residual"),
    field="v",
    base=None,
    tol=None,
    backend="auto",
    dtype=np.float32,
    check_every=100,
    keep_fields=False,
    gram_features="pass1",
    gram_field="u",
) -> CrossSection:
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
        ``{"f": values}`` (1-D) or ``{"f": values, "k": values}`` (2-D, first name along rows); the
        names are those of :data:`~gslib.inversion.PARAMS`.
    losses : sequence of str
        "spectral", "windowed" (on ``field``, against ``target_u``/``target_v``), "residual"
        (:func:`~gslib.inversion.residual_loss` of the *target* at the member's parameters: it needs
        no simulation), "gram" (:func:`~gslib.landscape.losses.gram_loss_np` on ``gram_field``).
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
    if not isinstance(vary, dict) or not 1 <= len(vary) <= 2:
        raise ValueError("vary must be a dict of one or two parameter names -> values")
    for name in vary:
        if name not in PARAMS:
            raise ValueError(f"{name!r} is not a parameter; allowed: {', '.join(PARAMS)}")
    for name in losses:
        if name not in LOSSES and name not in ("residual", "gram"):
            raise ValueError(f"loss {name!r} unknown; allowed: {', '.join(list(LOSSES) + ['residual', 'gram'])}")
    check_choice("field", field, FIELDS)
    check_choice("gram_field", gram_field, FIELDS)
    names = tuple(vary)
    axes = tuple(np.asarray(vary[n], dtype=np.float64).ravel() for n in names)
    base = setup.params if base is None else as_params(base, "base")
    mesh = np.meshgrid(*axes, indexing="ij")
    params = np.broadcast_to(base, mesh[0].shape + (4,)).copy()
    for name, m in zip(names, mesh):
        params[..., PARAMS.index(name)] = m
    flat = params.reshape(-1, 4)
    u0, v0 = initial_state(setup)
    B = len(flat)
    start = time.perf_counter()
    res = integrate(
        np.broadcast_to(u0, (B,) + u0.shape),
        np.broadcast_to(v0, (B,) + v0.shape),
        f=flat[:, 2],
        k=flat[:, 3],
        Du=flat[:, 0],
        Dv=flat[:, 1],
        dt=setup.dt,
        dx=setup.dx,
        steps=setup.max_steps,
        stencil=setup.stencil,
        backend=backend,
        dtype=dtype,
        steady_tol=setup.train_tol if tol is None else tol,
        check_every=check_every,
        on_blowup="mark",
    )
    seconds = time.perf_counter() - start
    grid = mesh[0].shape
    pred = res.u if field == "u" else res.v
    target = target_u if field == "u" else target_v
    out = {}
    for name in losses:
        if name == "residual":
            out[name] = residual_loss(target_u, target_v, flat, dx=setup.dx, stencil=setup.stencil).reshape(grid)
        elif name == "gram":
            out[name] = gram_loss_np(
                res.u if gram_field == "u" else res.v,
                target_u if gram_field == "u" else target_v,
                features=gram_features,
            ).reshape(grid)
        else:
            out[name] = LOSSES[name][1](pred, target).reshape(grid)
    return CrossSection(
        names=names,
        axes=axes,
        params=params,
        losses=out,
        steps=res.steps.reshape(grid),
        steady=res.steady.reshape(grid),
        failed=res.failed.reshape(grid),
        seconds=seconds,
        truth=setup.params,
        backend=res.backend,
        v=res.v.astype(np.float32).reshape(grid + res.v.shape[1:]) if keep_fields else None,
    )
