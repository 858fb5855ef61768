"""Stochastic Gray-Scott simulations: the model as a stochastic partial differential equation (SPDE).

The deterministic equations of :mod:`gslib.model` get an additive noise on each field,

    du = [Du lap u - u v^2 + f (1 - u)] dt + dW_u,
    dv = [Dv lap v + u v^2 - (f + k) v] dt + dW_v,

on a periodic ``N x M`` grid of spacing ``dx`` (cell area ``dV = dx**2``). The two noises are
independent of each other, Gaussian, white in time, and have one of two spatial structures, given
by their covariance *per unit time* in Fourier space (:func:`noise_symbol`):

- ``"conserved"``: ``a(q) = 2 sigma^2 |q|^2 / dV`` -- the divergence of a white flux. The noise
  only moves matter around: the spatial mean of every increment is exactly zero. This is the
  noise of the StochasticForceInference (SFI) example, with ``sigma = 0.01``.
- ``"white"``: ``a(q) = 2 sigma^2 / dV`` -- independent at every cell.

One noise increment over a time ``h`` is drawn as in the SFI example: white Gaussian numbers per
cell, a 2-D FFT, a multiplication by ``sqrt(h a(q))`` (``q = 2 pi fftfreq(N, dx)``, the continuum
wave vector, so ``|q|`` is zero for the mean), and the inverse FFT. The per-cell variance of the
conserved noise is ``2 D_eff h`` with ``D_eff = sigma^2 <|q|^2> / dV`` (about ``6.6e-4`` on 64 x 64
for ``sigma = 0.01``; :func:`effective_diffusion`).

Time stepping (``scheme``): ``"heun"`` (default) is the stochastic Heun predictor-corrector,

    predictor  x* = x + h F(x) + xi,     corrector  x' = x + h (F(x) + F(x*)) / 2 + xi,

with the *same* increment ``xi`` in both stages (for additive noise it is then of strong order 1
and of weak order 2 in the drift); ``"euler"`` is Euler-Maruyama ``x' = x + h F(x) + xi``, which for
``sigma = 0`` is exactly the forward-Euler (FTCS) scheme of :mod:`gslib.solvers`. Each recorded
interval ``dt`` is cut into ``substeps`` steps ``h = dt / substeps``. The Laplacian is the one of
the deterministic solvers (:func:`gslib.solvers.reference.laplacian`, 5- or 9-point).

:func:`simulate_spde` runs ``burn_in`` frame intervals (not kept), then records ``frames`` frames
``dt`` apart (the first one at the end of the burn-in). Every random number comes from one
``numpy.random.default_rng(seed)`` per batch member, in a fixed order (one ``(2, N, M)`` standard
normal array per sub-step, ``u`` first), so a run is reproducible and member ``b`` of a batch
equals the single run with ``seed[b]``.

:func:`sfi_example` reproduces the SFI Gray-Scott example (64 x 64, ``Du = 0.16``, ``Dv = 0.08``,
``sigma = 0.01``, Heun with 4 sub-steps, the 5-point Laplacian of SFI's ``layout.lap``, 200 frames of
burn-in, 500 recorded frames 0.5 apart, from :func:`gslib.initial.sfi_seed`) in one of three regimes of
:data:`REGIMES`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_choice, check_int, check_real
from .initial import sfi_seed
from .params import GrayScott, resolve
from .solvers.reference import laplacian, reaction
from .solvers.stencils import STENCILS

__all__ = [
    "REGIMES",
    "SFI",
    "NOISES",
    "SCHEMES",
    "SPDEResult",
    "noise_symbol",
    "noise_increment",
    "effective_diffusion",
    "drift",
    "simulate_spde",
    "simulate_force",
    "sfi_example",
    "true_coefficients",
]

#: The three regimes of the SFI example: name -> (f, k).
REGIMES = {"spots": (0.030, 0.057), "coral": (0.042, 0.063), "holes": (0.050, 0.065)}

#: Parameters of the SFI example (lengths in cells, dx = 1).
SFI = dict(
    n=64,
    Du=0.16,
    Dv=0.08,
    sigma=0.01,
    dt=0.5,
    substeps=4,
    burn_in=200,
    frames=500,
    noise="conserved",
    scheme="heun",
    stencil="5pt",
)

NOISES = ("conserved", "white")
SCHEMES = ("heun", "euler")


# ----------------------------------------------------------------------------- checks


def _rates(model: GrayScott, batch):
    """f and k of a checked model as float arrays (B,) (B = 1 for a single run); Du, Dv as floats."""
    out = []
    for name in ("f", "k"):
        value = getattr(model, name)
        if isinstance(value, np.ndarray) and (batch is None or len(value) != batch):
            want = "a real number" if batch is None else f"a real number or a sequence of {batch}"
            raise ValueError(f"{name}={value.tolist()!r} must be {want}")
        out.append(np.broadcast_to(np.asarray(value, dtype=np.float64), (batch or 1,)).copy())
    for name in ("Du", "Dv"):
        if isinstance(getattr(model, name), np.ndarray):
            raise ValueError(f"{name} must be a real number here (one diffusivity for every member)")
    return out[0], out[1], float(model.Du), float(model.Dv)


# ----------------------------------------------------------------------------- noise


def wave_numbers(n: int, m: int, dx: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Wave vectors of the full 2-D FFT of an ``n x m`` grid.

    Parameters
    ----------
    n, m : int
        Grid shape (rows, columns).
    dx : float
        Grid spacing (length).

    Returns
    -------
    qy, qx : numpy.ndarray
        Wave-vector components, each ``(n, m)`` (1/length).
    """
    qy = 2 * np.pi * np.fft.fftfreq(n, d=dx)
    qx = 2 * np.pi * np.fft.fftfreq(m, d=dx)
    return np.meshgrid(qy, qx, indexing="ij")


def noise_symbol(n: int, m: int, sigma: float, dx: float = 1.0, noise: str = "conserved") -> np.ndarray:
    """Covariance per unit time of the noise, per Fourier mode of the full FFT, ``(n, m)``.

    ``2 sigma^2 |q|^2 / dV`` (conserved) or ``2 sigma^2 / dV`` (white), ``dV = dx**2``: the increment
    over a time ``h`` has the real-space covariance whose Fourier symbol is ``h`` times this.

    Parameters
    ----------
    n, m : int
        Grid shape (rows, columns).
    sigma : float
        Noise amplitude.
    dx : float
        Grid spacing (length).
    noise : {"conserved", "white"}
        Spatial structure of the noise.

    Returns
    -------
    numpy.ndarray
        The symbol ``a(q)``, ``(n, m)``.

    Raises
    ------
    ValueError
        If ``noise`` is not one of :data:`NOISES`.
    """
    check_choice("noise", noise, NOISES)
    dV = dx * dx
    if noise == "white":
        return np.full((n, m), 2 * sigma**2 / dV)
    qy, qx = wave_numbers(n, m, dx)
    return 2 * sigma**2 * (qx**2 + qy**2) / dV


def effective_diffusion(n: int, m: int, sigma: float, dx: float = 1.0, noise: str = "conserved") -> float:
    """Per-cell noise strength ``D_eff``: each cell's increment over ``h`` has variance ``2 D_eff h``.

    Parameters
    ----------
    n, m : int
        Grid shape (rows, columns).
    sigma : float
        Noise amplitude.
    dx : float
        Grid spacing (length).
    noise : {"conserved", "white"}
        Spatial structure of the noise (:func:`noise_symbol`).

    Returns
    -------
    float
        ``D_eff``, the mean of the symbol over the Fourier modes divided by 2.
    """
    return float(noise_symbol(n, m, sigma, dx, noise).mean() / 2)


def noise_increment(white: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """Filter white Gaussian numbers into one noise increment.

    Parameters
    ----------
    white : numpy.ndarray
        Standard normal numbers, ``(..., N, M)``.
    amplitude : numpy.ndarray
        ``sqrt(h a(q))`` on the rfft grid, ``(N, M//2 + 1)``.

    Returns
    -------
    numpy.ndarray
        The increment, shaped like ``white``.
    """
    n, m = white.shape[-2:]
    return np.fft.irfft2(np.fft.rfft2(white) * amplitude, s=(n, m))


def _amplitude(n, m, sigma, dx, noise, h):
    """``sqrt(h a(q))`` on the rfft2 grid, (N, M//2 + 1)."""
    return np.sqrt(h * noise_symbol(n, m, sigma, dx, noise)[:, : m // 2 + 1])


# ----------------------------------------------------------------------------- model


def drift(u, v, f, k, Du, Dv, dx=1.0, stencil="9pt"):
    """Deterministic Gray-Scott force.

    Parameters
    ----------
    u, v : numpy.ndarray
        Fields, ``(..., N, M)``.
    f, k : float or numpy.ndarray
        Feed and kill rates (1/time); arrays broadcast against the fields.
    Du, Dv : float
        Diffusivities (length^2/time).
    dx : float
        Grid spacing (length).
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.

    Returns
    -------
    F_u, F_v : numpy.ndarray
        The rates of ``u`` and ``v``.
    """
    ru, rv = reaction(u, v, f=f, k=k)
    return Du * laplacian(u, dx, stencil) + ru, Dv * laplacian(v, dx, stencil) + rv


def true_coefficients(f: float, k: float, Du: float = SFI["Du"], Dv: float = SFI["Dv"]) -> dict:
    """The Gray-Scott model in the labels of :func:`gslib.inference.gray_scott_library`.

    Parameters
    ----------
    f, k : float
        Feed and kill rates (1/time).
    Du, Dv : float
        Diffusivities (length^2/time).

    Returns
    -------
    dict
        ``{"u": {"1": f, "U": -f, "UV^2": -1, "lap U": Du}, "v": {"V": -(f + k), "UV^2": 1, "lap V": Dv}}``
    """
    return {"u": {"1": f, "U": -f, "UV^2": -1.0, "lap U": Du}, "v": {"V": -(f + k), "UV^2": 1.0, "lap V": Dv}}


@dataclass
class SPDEResult:
    """Recorded frames of :func:`simulate_spde`.

    Attributes
    ----------
    u, v : numpy.ndarray
        Frames, (T, N, M) for one run or (B, T, N, M) for a batch.
    times : numpy.ndarray
        Times of the frames (T,), counted from the start of the run (burn-in included).
    dt, dx : float
        Frame interval and grid spacing.
    params : dict
        Every parameter of the run (f, k as lists for a batch).
    """

    u: np.ndarray
    v: np.ndarray
    times: np.ndarray
    dt: float
    dx: float
    params: dict = field(default_factory=dict)

    def member(self, b: int) -> SPDEResult:
        """Member ``b`` of a batch as a single run."""
        if self.u.ndim != 4:
            raise ValueError("member() needs a batch result (u of shape (B, T, N, M))")
        p = dict(self.params)
        for key in ("f", "k", "seed"):
            if isinstance(p.get(key), list):
                p[key] = p[key][b]
        return SPDEResult(self.u[b], self.v[b], self.times, self.dt, self.dx, p)

    def save(self, path, **extra) -> None:
        """Write ``u``, ``v``, ``dt``, ``dx``, ``times`` and the scalar parameters to a compressed .npz
        (the input format of ``gslib infer``)."""
        if self.u.ndim != 3:
            raise ValueError("save() writes one run; use member(b) for a batch")
        data = dict(u=self.u, v=self.v, dt=np.float64(self.dt), dx=np.float64(self.dx), times=self.times)
        for key, value in {**self.params, **extra}.items():
            if isinstance(value, (bool, int, float, str, np.generic)):
                data[key] = np.asarray(value)
        np.savez_compressed(path, **data)


def simulate_spde(
    u0,
    v0,
    *,
    f=None,
    k=None,
    model: GrayScott | None = None,
    sigma=0.01,
    noise="conserved",
    dt=0.5,
    substeps=4,
    frames=500,
    burn_in=0,
    scheme="heun",
    stencil="9pt",
    dx=1.0,
    seed=0,
    **diffusivities,
) -> SPDEResult:
    """Integrate the stochastic Gray-Scott model and record frames (see the module docstring).

    Parameters
    ----------
    u0, v0 : array (N, M) or (B, N, M)
        Initial fields (a batch of B runs, each with its own f, k and seed).
    f, k : float or sequence of B floats
        Feed and kill rates (1/time), >= 0 (not with ``model``).
    model : GrayScott, optional
        ``f``, ``k``, ``Du``, ``Dv`` in one object (:class:`gslib.params.GrayScott`; ``Du`` and ``Dv``
        scalars); its defaults for ``Du``, ``Dv`` are those of the solvers, not of SFI.
    sigma : float
        Noise amplitude, >= 0 (0: the deterministic model).
    noise : {"conserved", "white"}
        Spatial structure of the noise (:func:`noise_symbol`).
    dt : float
        Time between recorded frames, > 0.
    substeps : int
        Integration steps per frame interval (h = dt / substeps), >= 1.
    frames : int
        Number of recorded frames, >= 1; the first is taken after the burn-in.
    burn_in : int
        Frame intervals integrated before the first recorded frame, >= 0.
    scheme : {"heun", "euler"}
        Stochastic Heun predictor-corrector or Euler-Maruyama.
    stencil : {"5pt", "9pt"}
        Discrete Laplacian.
    dx : float
        Grid spacing (length), > 0.
    seed : int or sequence of B ints
        Seeds of ``numpy.random.default_rng`` (one per member).
    **diffusivities
        ``Du``, ``Dv`` (length^2/time), >= 0, when ``model`` is not given; default 0.16 and 0.08 (SFI's).

    Returns
    -------
    SPDEResult
        Frames (T, N, M), or (B, T, N, M) for a batch, float64.

    Raises
    ------
    ValueError
        On any invalid argument (the message names it), or when the run becomes non-finite.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    v0 = np.asarray(v0, dtype=np.float64)
    if u0.ndim not in (2, 3) or u0.shape[-2] < 3 or u0.shape[-1] < 3:
        raise ValueError(f"u0 must have shape (N, M) or (B, N, M) with N, M >= 3; got {u0.shape}")
    if v0.shape != u0.shape:
        raise ValueError(f"v0 must have the shape of u0 {u0.shape}; got {v0.shape}")
    if not (np.all(np.isfinite(u0)) and np.all(np.isfinite(v0))):
        raise ValueError("u0 and v0 must be finite")
    batched = u0.ndim == 3
    B = u0.shape[0] if batched else None
    unknown = set(diffusivities) - {"Du", "Dv"}
    if unknown:
        raise TypeError(f"simulate_spde() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    if model is None:
        diffusivities = {
            name: SFI[name] if diffusivities.get(name) is None else diffusivities[name] for name in ("Du", "Dv")
        }
    model, _ = resolve(model, None, f=f, k=k, **diffusivities)
    f_arr, k_arr, Du, Dv = _rates(model, B)
    sigma = check_real("sigma", sigma, minimum=0.0)
    check_choice("noise", noise, NOISES)
    dt = check_real("dt", dt, positive=True)
    substeps = check_int("substeps", substeps, 1)
    frames = check_int("frames", frames, 1)
    burn_in = check_int("burn_in", burn_in, 0)
    check_choice("scheme", scheme, SCHEMES)
    check_choice("stencil", stencil, STENCILS)
    dx = check_real("dx", dx, positive=True)
    if batched:
        if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
            raise ValueError(f"seed={seed!r}: a batch needs one seed per member (a sequence of {B} integers)")
        seeds = list(seed) if not isinstance(seed, (str, bytes)) else None
        if seeds is None or len(seeds) != B:
            raise ValueError(f"seed={seed!r} must be a sequence of {B} non-negative integers")
    else:
        seeds = [seed]
    seeds = [check_int("seed", s, 0) for s in seeds]

    # state x: (B, 2, N, M) with u = x[:, 0], v = x[:, 1]
    x = np.stack([u0, v0], axis=-3).reshape((B or 1, 2) + u0.shape[-2:]).copy()
    n, m = x.shape[-2:]
    h = dt / substeps
    fcol, kcol = f_arr[:, None, None], k_arr[:, None, None]
    diff = np.array([Du, Dv])[None, :, None, None]
    amp = _amplitude(n, m, sigma, dx, noise, h) if sigma > 0 else None
    rngs = [np.random.default_rng(s) for s in seeds]

    def force(x):
        ru, rv = reaction(x[:, 0], x[:, 1], f=fcol, k=kcol)
        out = diff * laplacian(x, dx, stencil)
        out[:, 0] += ru
        out[:, 1] += rv
        return out

    def step(x):
        if amp is not None:
            white = np.stack([rng.standard_normal((2, n, m)) for rng in rngs])
            xi = noise_increment(white, amp)
        else:
            xi = 0.0
        F = force(x)
        if scheme == "euler":
            return x + h * F + xi
        pred = x + h * F + xi
        return x + 0.5 * h * (F + force(pred)) + xi

    out = np.empty((frames, B or 1, 2, n, m))
    total = burn_in + frames - 1
    with np.errstate(over="ignore", invalid="ignore"):
        for interval in range(total + 1):
            if interval >= burn_in:
                out[interval - burn_in] = x
            if interval == total:
                break
            for _ in range(substeps):
                x = step(x)
            if not np.all(np.isfinite(x)):
                raise ValueError(
                    f"the run became non-finite after {interval + 1} frame intervals; reduce dt "
                    f"(or raise substeps: h = dt/substeps = {h:g}) or check the parameters"
                )
    out = np.moveaxis(out, 0, 2)  # (B, 2, T, N, M)
    u, v = out[:, 0], out[:, 1]
    if not batched:
        u, v = u[0], v[0]
    times = dt * (burn_in + np.arange(frames))
    params = dict(
        f=f_arr.tolist() if batched else float(f_arr[0]),
        k=k_arr.tolist() if batched else float(k_arr[0]),
        Du=Du,
        Dv=Dv,
        sigma=sigma,
        noise=noise,
        dt=dt,
        substeps=substeps,
        frames=frames,
        burn_in=burn_in,
        scheme=scheme,
        stencil=stencil,
        dx=dx,
        seed=seeds if batched else seeds[0],
    )
    return SPDEResult(np.ascontiguousarray(u), np.ascontiguousarray(v), times, dt, dx, params)


def sfi_example(regime="coral", seed=0, *, n=None, frames=None, burn_in=None, **options) -> SPDEResult:
    """The SFI Gray-Scott example in a regime of :data:`REGIMES` (or a sequence of regimes, batched).

    Parameters
    ----------
    regime : str or sequence of str
        A key of :data:`REGIMES`, or several (a batch, one run per regime).
    seed : int or sequence of int
        Seeds both the initial condition (:func:`gslib.initial.sfi_seed`) and the noise; one
        integer, or one per regime for a batch.
    n, frames, burn_in : int, optional
        Grid side, recorded frames and burn-in frame intervals; default: those of :data:`SFI`.
    **options
        Any option of :func:`simulate_spde`; overrides :data:`SFI`.

    Returns
    -------
    SPDEResult
        The run; ``params["regime"]`` names its regime(s).

    Raises
    ------
    ValueError
        If a regime is unknown, or ``seed`` does not give one seed per regime.
    """
    regimes = [regime] if isinstance(regime, str) else list(regime)
    for r in regimes:
        if r not in REGIMES:
            raise ValueError(f"regime={r!r}; allowed: {', '.join(map(repr, REGIMES))}")
    n = SFI["n"] if n is None else check_int("n", n, 4)
    batched = not isinstance(regime, str)
    if batched:
        seeds = [seed] * len(regimes) if isinstance(seed, numbers.Integral) else list(seed)
        if len(seeds) != len(regimes):
            raise ValueError(f"seed={seed!r} must be one integer or one per regime ({len(regimes)})")
        u0, v0 = sfi_seed(seeds, n=n)
    else:
        seeds = seed
        u0, v0 = sfi_seed(seed, n=n)
    kw = {key: SFI[key] for key in ("Du", "Dv", "sigma", "noise", "dt", "substeps", "scheme", "stencil")}
    kw.update(
        frames=SFI["frames"] if frames is None else frames, burn_in=SFI["burn_in"] if burn_in is None else burn_in
    )
    kw.update(options)
    f = [REGIMES[r][0] for r in regimes]
    k = [REGIMES[r][1] for r in regimes]
    res = simulate_spde(u0, v0, f=f if batched else f[0], k=k if batched else k[0], seed=seeds, **kw)
    res.params["regime"] = regimes if batched else regimes[0]
    return res


def simulate_force(
    force, x0: dict, noise_symbols: dict, *, dt=0.5, substeps=4, frames=100, burn_in=0, scheme="heun", seed=0
) -> dict:
    """Integrate ``dx = force(x) dt + dW`` for any force on fields, e.g. an inferred model.

    Same scheme and random-number order as :func:`simulate_spde` (one ``(fields, N, M)``
    standard-normal array per sub-step, fields in the order of ``x0``).

    Parameters
    ----------
    force : callable
        Maps a dict of fields ``{name: (N, M)}`` to a dict of their rates (the same keys).
    x0 : dict
        The initial fields, ``{name: (N, M)}``.
    noise_symbols : dict
        ``noise_symbols[name]`` is the noise covariance per unit time per Fourier mode of the
        full FFT grid (N, M) (e.g. :func:`noise_symbol`, or ``NoiseModel.symbol`` of
        :mod:`gslib.inference`), >= 0.
    dt : float
        Time between recorded frames, > 0.
    substeps : int
        Integration steps per frame interval, >= 1.
    frames : int
        Number of recorded frames, >= 1.
    burn_in : int
        Frame intervals integrated before the first recorded frame, >= 0.
    scheme : {"heun", "euler"}
        Stochastic Heun predictor-corrector or Euler-Maruyama.
    seed : int
        Seed of ``numpy.random.default_rng``, >= 0.

    Returns
    -------
    dict
        ``{name: frames (T, N, M)}`` plus ``"times"``.

    Raises
    ------
    ValueError
        On any invalid argument (the message names it), or when the run becomes non-finite.
    """
    names = list(x0)
    if not names:
        raise ValueError("x0 must hold at least one field")
    state = {n: np.array(x0[n], dtype=np.float64) for n in names}
    shape = state[names[0]].shape
    if len(shape) != 2 or any(state[n].shape != shape for n in names):
        raise ValueError(f"every field of x0 must have one shape (N, M); got {[state[n].shape for n in names]}")
    n, m = shape
    for name in names:
        if name not in noise_symbols or np.shape(noise_symbols[name]) != (n, m):
            raise ValueError(f"noise_symbols[{name!r}] must be an array of shape {(n, m)}")
        if np.any(np.asarray(noise_symbols[name]) < 0):
            raise ValueError(f"noise_symbols[{name!r}] must be >= 0")
    dt = check_real("dt", dt, positive=True)
    substeps = check_int("substeps", substeps, 1)
    frames = check_int("frames", frames, 1)
    burn_in = check_int("burn_in", burn_in, 0)
    check_choice("scheme", scheme, SCHEMES)
    seed = check_int("seed", seed, 0)
    h = dt / substeps
    amps = {name: np.sqrt(h * np.asarray(noise_symbols[name], dtype=np.float64)[:, : m // 2 + 1]) for name in names}
    rng = np.random.default_rng(seed)
    out = {name: np.empty((frames, n, m)) for name in names}
    total = burn_in + frames - 1
    with np.errstate(over="ignore", invalid="ignore"):
        for interval in range(total + 1):
            if interval >= burn_in:
                for name in names:
                    out[name][interval - burn_in] = state[name]
            if interval == total:
                break
            for _ in range(substeps):
                white = rng.standard_normal((len(names), n, m))
                xi = {name: noise_increment(white[i], amps[name]) for i, name in enumerate(names)}
                F = force(state)
                pred = {name: state[name] + h * F[name] + xi[name] for name in names}
                if scheme == "euler":
                    state = pred
                else:
                    Fp = force(pred)
                    state = {name: state[name] + 0.5 * h * (F[name] + Fp[name]) + xi[name] for name in names}
            if not all(np.all(np.isfinite(state[name])) for name in names):
                raise ValueError(f"the run became non-finite after {interval + 1} frame intervals")
    out["times"] = dt * (burn_in + np.arange(frames))
    return out
