"""The engine's front: argument checks, the run schedule, and the public ``simulate``/``integrate``.

A run is cut into chunks at the recorded times and every ``check_every`` steps. After each chunk
the engine reads one number per member, the largest change of its last step, which serves both to
stop members that reached a steady state and to catch members that blew up. Backends only
implement ``advance(nsteps, active)``, ``last_change()`` and ``fields()``.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass

import numpy as np

from .._validate import check_real
from ..params import MODEL_FIELDS, GrayScott, Scheme, resolve
from .reference import NumpyBackend
from .stencils import FLUSH_THRESHOLD

BACKENDS = ("auto", "numpy", "cpu", "cuda")
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class BlowUpError(FloatingPointError):
    """Some batch members became non-finite.

    Parameters
    ----------
    members : sequence of int
        The batch members that blew up (kept as the attribute ``members``).
    steps : sequence of int
        For each member, the step by which it was seen non-finite (attribute ``steps``).
    """

    def __init__(self, members, steps):
        self.members = [int(m) for m in members]
        self.steps = [int(s) for s in steps]
        shown = ", ".join(f"{m} (by step {s})" for m, s in zip(self.members[:10], self.steps[:10]))
        more = f" and {len(self.members) - 10} more" if len(self.members) > 10 else ""
        super().__init__(
            f"the run blew up: batch member(s) {shown}{more} became non-finite; reduce dt or check "
            "the parameters, or pass on_blowup='mark' to integrate() to finish the other members"
        )


@dataclass(frozen=True)
class Params:
    """Validated run parameters (made by :func:`check_arguments`).

    Attributes
    ----------
    f, k, Du, Dv : numpy.ndarray
        Rates and diffusivities, arrays ``(B,)`` in the field dtype.
    dt, dx : float
        Time step and grid spacing.
    stencil : str
        ``'5pt'`` or ``'9pt'``.
    dtype : numpy.dtype
        float32 or float64.
    flush : float
        Values of ``|v|`` below this are set to zero (see ``FLUSH_THRESHOLD``).
    """

    f: np.ndarray
    k: np.ndarray
    Du: np.ndarray
    Dv: np.ndarray
    dt: float
    dx: float
    stencil: str
    dtype: np.dtype
    flush: float


@dataclass
class SimulationResult:
    """Outcome of :func:`integrate`; shapes follow the input (B omitted for a single grid).

    Attributes
    ----------
    u, v : numpy.ndarray
        Final fields, ``(B, N, M)``.
    frames_u, frames_v : numpy.ndarray or None
        Recorded fields, ``(B, R, N, M)``, at ``frame_times``; None if no time was recorded.
    frame_times : numpy.ndarray
        Times of the frames, ``(R,)``, in model time units.
    steps : numpy.ndarray
        Steps each member took, ``(B,)``: fewer than asked where it stopped early.
    steady : numpy.ndarray
        Members stopped by the steady-state test, ``(B,)`` bool.
    failed : numpy.ndarray
        Members that became non-finite (``on_blowup='mark'``), ``(B,)`` bool; their fields are NaN.
    backend : str
        The backend that ran.
    """

    u: np.ndarray
    v: np.ndarray
    frames_u: np.ndarray | None
    frames_v: np.ndarray | None
    frame_times: np.ndarray
    steps: np.ndarray
    steady: np.ndarray
    failed: np.ndarray
    backend: str


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer (>= 1)")
    return int(value)


def _per_member(name, value, batch, batched):
    """A parameter of the model (a float or a 1-D array, already checked) as an array ``(B,)``."""
    if not isinstance(value, np.ndarray):
        return np.full(batch, value)
    if not batched:
        raise ValueError(
            f"{name} has shape {value.shape} but u0 is a single grid: pass a scalar, or a "
            "batch of grids (B, N, M) with one value per member"
        )
    if value.shape != (batch,):
        raise ValueError(f"{name} has shape {value.shape}; allowed: a scalar or shape ({batch},) to match the batch")
    return value


def _check_fields(u0, v0, dtype):
    u0, v0 = np.asarray(u0), np.asarray(v0)
    for name, a in (("u0", u0), ("v0", v0)):
        if a.dtype.kind not in "fiu" or a.dtype == bool:
            raise ValueError(f"{name} must be a real-valued array, got dtype {a.dtype}")
        if a.ndim not in (2, 3):
            raise ValueError(f"{name} has shape {a.shape}; allowed: (N, M) or a batch (B, N, M)")
        if a.shape[-1] < 3 or a.shape[-2] < 3 or (a.ndim == 3 and a.shape[0] < 1):
            raise ValueError(f"{name} has shape {a.shape}; each grid needs N, M >= 3 and the batch B >= 1")
    if u0.shape != v0.shape:
        raise ValueError(f"u0 and v0 must have the same shape; got {u0.shape} and {v0.shape}")
    batched = u0.ndim == 3
    u = np.ascontiguousarray(u0.reshape((-1,) + u0.shape[-2:]), dtype=dtype)
    v = np.ascontiguousarray(v0.reshape((-1,) + v0.shape[-2:]), dtype=dtype)
    for name, a, a0 in (("u0", u, u0), ("v0", v, v0)):
        bad = ~np.isfinite(a).reshape(len(a), -1).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{name} contains NaN or Inf (batch member(s) {np.flatnonzero(bad)[:10].tolist()}); "
                "fields must be finite"
            )
        if not np.isfinite(np.asarray(a0, dtype=np.float64)).all():
            raise ValueError(f"{name} does not fit in {np.dtype(dtype).name} (values overflow to Inf)")
    return u, v, batched


def check_arguments(u0, v0, model: GrayScott, scheme: Scheme, steps, allow_unstable=False):
    """Validate the fields and the run's size against the model and the scheme.

    Parameters
    ----------
    u0, v0 : array_like
        Initial fields, as in :func:`simulate`.
    model : GrayScott
        The model's parameters (scalars, or one value per batch member).
    scheme : Scheme
        The discretisation.
    steps : int
        Number of time steps, >= 1.
    allow_unstable : bool, optional
        Accept a ``dt`` above the stability bound.

    Returns
    -------
    u, v : numpy.ndarray
        The fields as contiguous batches ``(B, N, M)`` in the scheme's dtype.
    params : Params
        The validated parameters.
    batched : bool
        Whether the input was a batch ``(B, N, M)``.

    Raises
    ------
    ValueError
        For an argument outside its allowed range; the message names it.
    """
    dtype = scheme.numpy_dtype
    _positive_int("steps", steps)
    u, v, batched = _check_fields(u0, v0, dtype)
    B = len(u)
    f, k, Du, Dv = (_per_member(name, getattr(model, name), B, batched) for name in MODEL_FIELDS)
    if not allow_unstable:
        scheme.check_stable(model.max_diffusivity)
    params = Params(
        f=f.astype(dtype),
        k=k.astype(dtype),
        Du=Du.astype(dtype),
        Dv=Dv.astype(dtype),
        dt=scheme.dt,
        dx=scheme.dx,
        stencil=scheme.stencil,
        dtype=dtype,
        flush=FLUSH_THRESHOLD[dtype],
    )
    return u, v, params, batched


def _record_steps(record_times, dt, steps):
    if record_times is None:
        return np.zeros(0, dtype=np.int64)
    times = np.atleast_1d(np.asarray(record_times, dtype=np.float64))
    if times.ndim != 1 or not np.all(np.isfinite(times)):
        raise ValueError("record_times must be a 1-D sequence of finite times")
    s = np.rint(times / dt)
    if np.any(np.abs(s * dt - times) > 1e-9 * np.maximum(1.0, np.abs(times))):
        raise ValueError(f"record_times must be multiples of dt={dt:g}; got {times.tolist()}")
    if np.any(s < 0) or np.any(s > steps):
        raise ValueError(f"record_times must lie in [0, steps*dt] = [0, {steps * dt:g}]; got {times.tolist()}")
    return np.unique(s.astype(np.int64))


def cuda_available(real_gpu_only: bool = False) -> bool:
    """Whether the ``cuda`` backend can run.

    Parameters
    ----------
    real_gpu_only : bool, optional
        Count only a real GPU, not Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``).

    Returns
    -------
    bool
        True if a GPU is visible, or (unless ``real_gpu_only``) the simulator is enabled.
    """
    if real_gpu_only and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    try:
        from .cuda import available
    except ImportError:  # numba-cuda not installed
        return False
    return available()


def resolve_backend(backend: str) -> str:
    """Turn ``backend`` into the backend that will run.

    Parameters
    ----------
    backend : {'auto', 'numpy', 'cpu', 'cuda'}
        ``'auto'`` means cuda if a GPU is visible, else cpu.

    Returns
    -------
    str
        ``'numpy'``, ``'cpu'`` or ``'cuda'``.

    Raises
    ------
    ValueError
        If ``backend`` is not one of the allowed names.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not a backend; allowed: {', '.join(map(repr, BACKENDS))}")
    if backend == "auto":
        return "cuda" if cuda_available(real_gpu_only=True) else "cpu"
    return backend


def _make_backend(name, u, v, params):
    if name == "numpy":
        return NumpyBackend(u, v, params)
    if name == "cpu":
        from .cpu import CpuBackend

        return CpuBackend(u, v, params)
    from .cuda import CudaBackend

    return CudaBackend(u, v, params)


def integrate(
    u0,
    v0,
    *,
    f=None,
    k=None,
    steps=None,
    model: GrayScott | None = None,
    scheme: Scheme | None = None,
    backend="auto",
    record_times=None,
    steady_tol=None,
    check_every=1000,
    on_blowup="raise",
    allow_unstable=False,
    progress=False,
    **loose,
) -> SimulationResult:
    """Run the Gray-Scott FTCS scheme and return a :class:`SimulationResult`.

    Parameters
    ----------
    u0, v0, f, k, steps, model, scheme, backend
        As in :func:`simulate`.
    record_times : sequence of float, optional
        Times (model units, multiples of dt, in ``[0, steps*dt]``) at which to keep the fields.
    steady_tol : float, optional
        Stop a member once the largest change of u or v in one step is below this (> 0).
    check_every : int, optional
        Steps between the steady-state and blow-up checks (>= 1).
    on_blowup : {'raise', 'mark'}, optional
        ``'raise'``: a :class:`BlowUpError` naming the members; ``'mark'``: flag them in
        ``failed``, set their fields to NaN and finish the rest.
    allow_unstable : bool, optional
        Run even if dt exceeds the stability bound (for demonstrations).
    progress : bool, optional
        Show a progress bar (tqdm) over the steps.
    **loose
        ``Du``, ``Dv``, ``dt``, ``dx``, ``stencil``, ``dtype``, as in :func:`simulate`.

    Returns
    -------
    SimulationResult
        Final fields, recorded frames, steps taken, steady and failed members.

    Raises
    ------
    ValueError
        For an argument outside its allowed range (the message names it), or a group given both
        as an object and as a loose keyword.
    BlowUpError
        If a member becomes non-finite and ``on_blowup='raise'``.
    """
    model, scheme = resolve(model, scheme, f=f, k=k, **loose)
    if steps is None:
        raise ValueError("steps must be given: a positive integer (>= 1)")
    u, v, params, batched = check_arguments(u0, v0, model, scheme, steps, allow_unstable)
    if on_blowup not in ("raise", "mark"):
        raise ValueError(f"on_blowup={on_blowup!r}; allowed: 'raise', 'mark'")
    _positive_int("check_every", check_every)
    if steady_tol is not None and check_real("steady_tol", steady_tol) <= 0:
        raise ValueError(f"steady_tol={steady_tol!r} must be > 0")
    rec = _record_steps(record_times, params.dt, steps)
    name = resolve_backend(backend)
    engine = _make_backend(name, u, v, params)

    B = len(u)
    active = np.ones(B, dtype=np.bool_)
    steady = np.zeros(B, dtype=np.bool_)
    failed = np.zeros(B, dtype=np.bool_)
    taken = np.zeros(B, dtype=np.int64)
    frames_u = np.empty((B, len(rec)) + u.shape[1:], dtype=params.dtype) if len(rec) else None
    frames_v = np.empty_like(frames_u) if len(rec) else None

    def record(r):
        fu, fv = engine.fields()
        frames_u[:, r], frames_v[:, r] = fu, fv

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, unit="step", desc=f"simulate[{name}]")
    n, r = 0, 0
    while r < len(rec) and rec[r] == 0:
        record(r)
        r += 1
    while n < steps and active.any():
        stop = min(steps, n + check_every)
        if r < len(rec):
            stop = min(stop, int(rec[r]))
        engine.advance(stop - n, active)
        taken[active] += stop - n
        n = stop
        change = engine.last_change()
        blown = active & ~np.isfinite(change)
        if blown.any():
            if on_blowup == "raise":
                raise BlowUpError(np.flatnonzero(blown), taken[blown])
            failed |= blown
            active &= ~blown
        if steady_tol is not None:
            done = active & (change < steady_tol)
            steady |= done
            active &= ~done
        while r < len(rec) and rec[r] == n:
            record(r)
            r += 1
        if bar is not None:
            bar.update(stop - bar.n)
    if bar is not None:
        bar.close()
    # Members that stopped early keep their last state: fill the frames still owed.
    while r < len(rec):
        record(r)
        r += 1
    u_out, v_out = engine.fields()
    if failed.any():
        u_out[failed] = np.nan
        v_out[failed] = np.nan
        if frames_u is not None:
            frames_u[failed] = np.nan
            frames_v[failed] = np.nan
    if not batched:
        u_out, v_out = u_out[0], v_out[0]
        frames_u = frames_u[0] if frames_u is not None else None
        frames_v = frames_v[0] if frames_v is not None else None
        taken, steady, failed = taken[:1], steady[:1], failed[:1]
    return SimulationResult(
        u=u_out,
        v=v_out,
        frames_u=frames_u,
        frames_v=frames_v,
        frame_times=rec * params.dt,
        steps=taken,
        steady=steady,
        failed=failed,
        backend=name,
    )


def simulate(
    u0,
    v0,
    *,
    f=None,
    k=None,
    steps=None,
    model: GrayScott | None = None,
    scheme: Scheme | None = None,
    backend="auto",
    steady_tol=None,
    check_every=1000,
    allow_unstable=False,
    progress=False,
    **loose,
):
    """Integrate the Gray-Scott model with forward-time centred-space (FTCS) steps.

    :func:`integrate` runs the same scheme and also offers recorded frames, per-member
    steady-state stops and marking of failed members. The model and its discretisation are given
    either as objects (``model=GrayScott(...)``, ``scheme=Scheme(...)``) or as loose keywords
    (``f=..., k=..., Du=..., dt=...``); a group given both ways is an error.

    Parameters
    ----------
    u0, v0 : array_like
        Initial fields, ``(N, M)`` or a batch ``(B, N, M)``, with N, M >= 3; periodic boundaries.
    f, k : float or array_like
        Feed and kill rates (1/time), scalars or arrays ``(B,)``, >= 0 (not with ``model``).
    steps : int
        Number of time steps (>= 1); the run covers ``steps * dt`` time units.
    model : GrayScott, optional
        ``f``, ``k``, ``Du``, ``Dv`` in one object (:class:`gslib.params.GrayScott`).
    scheme : Scheme, optional
        ``dt``, ``dx``, ``stencil``, ``dtype`` in one object (:class:`gslib.params.Scheme`).
    backend : {'auto', 'numpy', 'cpu', 'cuda'}, optional
        ``'numpy'`` (the reference), ``'cpu'`` (Numba), ``'cuda'`` (Numba CUDA), ``'auto'`` (cuda
        if a GPU is visible, else cpu).
    steady_tol : float, optional
        Stop a member once the largest change of u or v in one step is below this (> 0).
    check_every : int, optional
        Steps between the steady-state and blow-up checks (>= 1).
    allow_unstable : bool, optional
        Run even if dt exceeds the stability bound (for demonstrations).
    progress : bool, optional
        Show a progress bar (tqdm) over the steps.
    **loose
        The loose keywords of the two groups, in place of ``model`` and ``scheme``:
    Du, Dv : float or array_like, optional
        Diffusivities (length^2/time), scalars or arrays ``(B,)``, >= 0; default 0.2 and 0.1 (the
        fields of :class:`~gslib.params.GrayScott`; not with ``model``).
    dt : float, optional
        Time step, > 0 and at most the stencil's forward-Euler bound (:func:`stability_limit`);
        default 0.25.
    dx : float, optional
        Grid spacing, > 0; default 1.
    stencil : {'9pt', '5pt'}, optional
        Discrete Laplacian, divided by dx^2: ``'5pt'``, or ``'9pt'`` (the CNN paper's: centre -3,
        edges 1/2, corners 1/4, which is not isotropic); default ``'9pt'``.
    dtype : {numpy.float32, numpy.float64}, optional
        Floating-point type of the computation and of the result; default float32. ``dt``, ``dx``,
        ``stencil`` and ``dtype`` are the fields of :class:`~gslib.params.Scheme` (not with ``scheme``).

    Returns
    -------
    u, v : numpy.ndarray
        The final fields, with the input's shape and the chosen dtype.

    Raises
    ------
    ValueError
        For an argument outside its allowed range; the message names it.
    BlowUpError
        If a member becomes non-finite.

    Examples
    --------
    >>> import gslib
    >>> u0, v0 = gslib.initial.cnn_seed(seed=0)
    >>> u, v = gslib.simulate(u0, v0, f=0.042, k=0.063, steps=1000)
    """
    res = integrate(
        u0,
        v0,
        f=f,
        k=k,
        steps=steps,
        model=model,
        scheme=scheme,
        backend=backend,
        steady_tol=steady_tol,
        check_every=check_every,
        allow_unstable=allow_unstable,
        progress=progress,
        **loose,
    )
    return res.u, res.v
