"""Linear force inference for stochastic field equations, with the discretisation bias removed.

The data are frames ``x_t`` of fields (``u``, ``v``, ...) on a periodic grid, a time ``dt`` apart,
of an SPDE ``dx = F(x) dt + dW`` whose force is sought as a linear combination of features,
``F_e(x) = sum_a C_ea b_a(x)`` for each field (equation) ``e``, and whose noise is Gaussian,
independent between fields, with a translation-invariant covariance ``A_e`` (per unit time; its
Fourier symbol ``a_e(q)``, e.g. ``2 sigma^2 |q|^2 / dV`` for conserved noise).

**The estimator.** With a weight ``W`` (a positive operator; ideally ``A^-1``), the Gram matrix and
the moments of the plain (Ito) estimator of Frishman & Ronceray are

    G_ab = sum_t dt  b_a(x_t) . W b_b(x_t),        M_a = sum_t (x_{t+1} - x_t) . W b_a(x_t),

``C = G^-1 M``, and with ``W = A^-1`` the covariance of ``C`` is ``G^-1`` and the information
(the log-likelihood gain over a zero force) is ``I = C . M / 2``. Any fixed ``W`` gives a
consistent estimator; ``W = A^-1`` is the efficient one.

**Conserved noise.** ``A`` has the symbol ``2 sigma^2 |q|^2 / dV``: it is not diagonal in real space
and vanishes on the mean (q = 0), which no noise moves. So ``W`` is applied per Fourier mode
(``weight="spectral"``): ``w(q) = 1 / a(q)`` for q != 0 and, on the mean, the weight of the
slowest mode, ``1 / a(q_min)`` (the mean still carries the constant term ``1``, which lives only
on q = 0; any finite weight keeps the estimator consistent). ``weight="white"`` uses a scalar
``W = 1 / (2 D_eff)`` instead: also consistent, less efficient (standard errors 2-3 times larger on
the SFI example), but purely local, which is what missing pixels need most.

**The bias.** With frames 0.5 apart the Ito estimator is biased at order ``dt``: the increment
over ``dt`` also contains ``dt^2/2 (dF/dx F + ...)``, and the fast diffusive modes relax within a
frame. This module offers (``method``):

- ``"ito"``: the estimator above;
- ``"strat"`` (default): the trapezoidal (Stratonovich) estimator: the features are averaged over
  the two ends of each increment, ``b -> (b(x_t) + b(x_{t+1}))/2`` in ``M`` and
  ``b b -> (b b(x_t) + b b(x_{t+1}))/2`` in ``G``, and the Ito-Stratonovich term
  ``dt/2 tr(W J_a A)`` (``J_a`` the Jacobian of feature ``a`` with respect to the field)
  is subtracted from ``M_a``. The trapezoidal rule is second order for the smooth part
  of the motion and exact for a stationary Ornstein-Uhlenbeck process;

and removes the remaining bias by **Richardson extrapolation over frame lags** (``lags=K``): the
estimates at lags ``k dt`` (``k = 1..K``) are combined with the weights ``w_k`` that cancel the
terms ``dt, ..., dt^{K-1}`` (``K = 2``: ``2, -1``; ``K = 3``: ``3, -3, 1``). The combination is
applied to the Gram matrices and the moments alike, so the result is still a linear problem
``G C = M`` for every subset of the features (what model selection needs). ``lags=1`` is the plain
estimator.

**Noise.** ``A`` is needed for the weight and for the Ito-Stratonovich term.
:func:`~gslib.inference.noise.estimate_noise` fits ``a(q) = 2 (d0 + s2 |q|^2) / dV`` per field to
the increments of the fast modes at lags 1-3, modelled as relaxations (Ornstein-Uhlenbeck) plus a
white measurement noise: neither the relaxation within a frame (it lowers the one-lag spectrum by
about 14 % on the SFI example) nor a measurement noise biases it; ``sigma`` comes out within 0.5 %.

**Standard errors.** The extrapolation mixes increments of several lags, so the noise of ``M`` is
not ``G`` any more: its covariance ``H`` is computed from lagged Gram matrices, the standard errors
are the sandwich ``sqrt(diag(G^-1 H G^-1))`` and the information is divided by the largest variance
inflation ``r = max_a (G^-1 H G^-1)_aa / (G^-1)_aa`` over the library (conservative for selection).

**Missing pixels** (``mask``, True = valid): a pixel enters a pair of frames only where the feature
values at both ends are valid (their stencils avoid every missing pixel) and both field values are
known. Masking data and features alike keeps the estimator unbiased for any weight, since the force is
linear in the features cell by cell. With a scalar weight the masked Ito-Stratonovich term is a sum
of local terms, hence exact; with the spectral weight it is not (``W`` is long-ranged and couples the
cells next to each hole), so ``weight="auto"`` switches to the scalar weight when cells are missing.

**Measurement noise** (a white noise added to the frames) is separated from the dynamical noise by
:func:`~gslib.inference.noise.estimate_noise` (a fast mode's increments grow with the lag, a measurement
noise does not), but left alone it biases the features and inflates the Gram matrix of the derivative features
(errors in variables), and the selection takes spurious terms once the noise is a fraction of the
per-frame dynamical noise. ``measurement_noise="auto"`` (default) estimates its variance per field
and removes its effects in closed form (:mod:`~gslib.inference.errors_in_variables`): Wick-ordered
features, per-frame corrections of the Gram matrix and of the moments, a weight that includes the
noise of the increments (``w = 1 / (a + 2 s^2 / dt)``), and the measurement noise's share of ``H``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_int
from .errors_in_variables import contraction_plan, resolve_measurement_noise, wick_library
from .features import Library, check_stencil, gray_scott_library, operator_weights
from .frames import check_data, feature_validity, fill_invalid, richardson_weights
from .noise import NOISE_KINDS, NoiseModel, diffusion_estimates, estimate_noise

__all__ = [
    "NoiseModel",
    "EquationMoments",
    "ForceInference",
    "richardson_weights",
    "estimate_noise",
    "diffusion_estimates",
    "infer_force",
    "check_data",
    "METHODS",
    "WEIGHTS",
    "NOISE_KINDS",
]

METHODS = ("strat", "ito")
WEIGHTS = ("auto", "spectral", "white")
#: Frames used for the lagged Gram matrices of the noise covariance: every LAGGED_STRIDE-th.
LAGGED_STRIDE = 4


# ----------------------------------------------------------------------------- moments


@dataclass
class EquationMoments:
    """Gram matrix, moments and noise covariance of one equation, ready for any subset of features.

    Attributes
    ----------
    G, M : numpy.ndarray
        ``G C = M`` for the coefficients of any support (rows/columns restricted to it).
    H : numpy.ndarray
        Covariance of the noise of M (standard errors: ``G^-1 H G^-1``).
    labels : list of str
        Feature labels.
    inflation : float
        ``r``: the information is ``C . M / (2 r)``.
    per_lag : list
        ``[(G_k, M_k)]``: the (normalised) estimates at each lag before extrapolation.
    """

    G: np.ndarray
    M: np.ndarray
    H: np.ndarray
    labels: list
    inflation: float
    per_lag: list

    def index(self, support) -> np.ndarray:
        if support is None:
            return np.arange(len(self.labels))
        idx = []
        for s in support:
            if isinstance(s, str):
                if s not in self.labels:
                    raise ValueError(f"no feature labelled {s!r}; the library has {self.labels}")
                idx.append(self.labels.index(s))
            else:
                idx.append(int(s))
        return np.array(sorted(set(idx)), dtype=int)

    def fit(self, support=None) -> dict:
        """Coefficients, standard errors and information of the model restricted to ``support``."""
        idx = self.index(support)
        if len(idx) == 0:
            return {"coefficients": {}, "stderr": {}, "information": 0.0}
        G = self.G[np.ix_(idx, idx)]
        M = self.M[idx]
        C = np.linalg.solve(G, M)
        Ginv = np.linalg.inv(G)
        cov = Ginv @ self.H[np.ix_(idx, idx)] @ Ginv
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        labels = [self.labels[i] for i in idx]
        return {
            "coefficients": dict(zip(labels, C.tolist())),
            "stderr": dict(zip(labels, se.tolist())),
            "information": float(C @ M / (2 * self.inflation)),
        }

    def information(self, support=None) -> float:
        idx = self.index(support)
        if len(idx) == 0:
            return 0.0
        C = np.linalg.solve(self.G[np.ix_(idx, idx)], self.M[idx])
        return float(C @ self.M[idx] / (2 * self.inflation))

    def lag_coefficients(self, support=None) -> np.ndarray:
        """Coefficients estimated at each lag separately, ``(lags, len(support))``."""
        idx = self.index(support)
        return np.array([np.linalg.solve(G[np.ix_(idx, idx)], M[idx]) for G, M in self.per_lag])


@dataclass
class ForceInference:
    """Result of :func:`infer_force`: one :class:`EquationMoments` per field, and the setup.

    Attributes
    ----------
    equations : dict
        ``{field: EquationMoments}``.
    noise : NoiseModel
        The noise covariance used for the weight and the Ito-Stratonovich term.
    dt, dx : float
        Time between frames and grid spacing.
    n_frames : int
        Number of frames.
    shape : tuple
        Grid ``(N, M)``.
    method : {"strat", "ito"}
        Estimator.
    lags : int
        Frame lags combined by Richardson extrapolation.
    weight : {"spectral", "white"}
        Weight used (``"auto"`` resolved).
    stencil : {"5pt", "9pt"}
        Laplacian of the features.
    valid_fraction : float
        Fraction of cells where the features are valid (1 without a mask).
    library_labels : list of str
        Labels of the first field's library.
    measurement : MeasurementNoise or None
        The measurement-noise variances the estimator was corrected for, and whether they were
        estimated or given (:mod:`~gslib.inference.errors_in_variables`).
    """

    equations: dict
    noise: NoiseModel
    dt: float
    dx: float
    n_frames: int
    shape: tuple
    method: str
    lags: int
    weight: str
    stencil: str
    valid_fraction: float
    library_labels: list
    measurement: object = None

    def fit(self, support: dict | None = None) -> dict:
        """``{field: EquationMoments.fit(support[field])}`` (the full library where not given)."""
        support = support or {}
        return {name: eq.fit(support.get(name)) for name, eq in self.equations.items()}

    @property
    def tau(self) -> float:
        """Observed time: (frames - 1) * dt."""
        return (self.n_frames - 1) * self.dt


def infer_force(
    data: dict,
    dt,
    dx=1.0,
    library: Library | dict | None = None,
    *,
    stencil: str = "9pt",
    method: str = "strat",
    lags: int = 3,
    weight: str = "auto",
    noise="auto",
    mask=None,
    chunk: int = 32,
    measurement_noise="auto",
) -> ForceInference:
    """Gram matrices and moments of linear force inference for every field of ``data``.

    Parameters
    ----------
    data : dict
        ``{name: frames (T, N, M)}``; each field is one equation (e.g. ``{"u": u, "v": v}``). A
        feature's field symbol ``U`` reads ``data["u"]`` (names compared without case).
    dt, dx : float
        Time between frames and grid spacing.
    library : Library or dict of Library, optional
        Candidate features, one library for every equation or one per field (default: the 17-term
        :func:`~gslib.inference.features.gray_scott_library`).
    stencil : {"9pt", "5pt"}
        Laplacian of the features (it should be the one of the data's dynamics).
    method : {"strat", "ito"}
        Trapezoidal (Stratonovich, default) or Ito estimator (module docstring).
    lags : int
        Frame lags combined by Richardson extrapolation (1: none; default 3).
    weight : {"auto", "spectral", "white"}
        ``W = A^-1`` per Fourier mode, or a scalar weight; ``"auto"`` (default): spectral for complete
        data, white where the mask removes cells (its Ito-Stratonovich term is then exact).
    noise : {"auto", "conserved", "white"} or NoiseModel
        How to get ``A``: fitted (:func:`~gslib.inference.noise.estimate_noise`) or given.
    measurement_noise : "auto", "none", float or dict
        A white noise on the recorded values, removed from the Gram matrix and the moments in
        closed form (:mod:`~gslib.inference.errors_in_variables`). ``"auto"`` (default): its
        variance is estimated from the data (:func:`~gslib.inference.noise.estimate_noise`) and the
        correction is applied where the estimate is significant (clean data are left as they are); ``"none"`` (or None):
        no correction; a standard deviation >= 0 for every field, or ``{field: std}``. With
        ``noise`` given as a NoiseModel, ``"auto"`` reads the estimate from its ``details`` where
        they hold one (a model from :func:`~gslib.inference.noise.estimate_noise`), and estimates it from
        the data otherwise.
    mask : bool array (N, M) or (T, N, M), optional
        True where the data are valid.
    chunk : int
        Frames processed at once (memory).

    Returns
    -------
    ForceInference
        One :class:`EquationMoments` per field, the noise model and the setup.

    Raises
    ------
    ValueError
        On an invalid argument (the message names it), a library that reads a field the data
        lack, or data without noise.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}; allowed: {', '.join(map(repr, METHODS))}")
    if weight not in WEIGHTS:
        raise ValueError(f"weight={weight!r}; allowed: {', '.join(map(repr, WEIGHTS))}")
    check_stencil(stencil, mask)  # 5pt, 9pt, 9pt-iso, spectral (complete data only)
    K = check_int("lags", lags, 1)
    chunk = check_int("chunk", chunk, 1)
    fields, dt, dx, valid = check_data(data, dt, dx, mask, min_frames=K + 2)
    names = list(fields)
    if library is None:
        library = gray_scott_library()
    libs = library if isinstance(library, dict) else {name: library for name in names}
    for name in names:
        if name not in libs or not isinstance(libs[name], Library):
            raise ValueError(f"library must be a Library or a dict with a Library for every field; missing {name!r}")
        for s in libs[name].symbols():
            if not any(s.upper() == n.upper() for n in names):
                raise ValueError(f"the library reads a field {s!r} that the data does not have ({names})")
    if isinstance(noise, NoiseModel):
        missing = [n for n in names if n not in noise.d0 or n not in noise.s2]
        if missing:
            raise ValueError(f"the noise model has no entry for {missing}")
        noise_model = noise
    else:
        noise_model = estimate_noise(fields, dt, dx, noise, None if valid is None else valid)
    T, N, M = next(iter(fields.values())).shape
    for name in names:
        if noise_model.effective_diffusion(name, N, M, dx) <= 0:
            raise ValueError(
                f"the noise of field {name!r} is zero: force inference needs noisy data (give a NoiseModel to override)"
            )

    if weight == "auto":
        weight = "spectral" if valid is None else "white"
    radius = max(lib.radius() for lib in libs.values())
    fvalid = feature_validity(valid, radius) if valid is not None else None
    if valid is not None:
        fields_filled = {n: fill_invalid(x, valid) for n, x in fields.items()}
    else:
        fields_filled = fields
    rw = richardson_weights(K)
    setups = {}
    meas_source = noise_model
    if (
        isinstance(measurement_noise, str)
        and measurement_noise == "auto"
        and not all("ring_sm" in noise_model.details.get(n, {}) for n in names)
    ):
        try:  # a NoiseModel was given: the measurement noise is still estimated from the data
            meas_source = estimate_noise(fields, dt, dx, "auto", valid)
        except ValueError:  # increments unlike a noisy relaxation: nothing to estimate, no correction
            measurement_noise = "none"
    meas = resolve_measurement_noise(measurement_noise, meas_source, names)
    for name in names:
        lib = libs[name]
        a = noise_model.symbol(name, N, M, dx)
        # the weight is the inverse covariance of the increments per unit time: the dynamical noise plus
        # a measurement noise, which adds 2 s^2 to every mode of every increment
        a_inc = a + 2 * meas.variances[name] / dt
        if weight == "spectral":
            a_pos = a_inc[a_inc > 0]
            floor = a_pos.min() if a_pos.size else 1.0
            w = 1.0 / np.maximum(a_inc, floor)
        else:
            w = np.full((N, M), 1.0 / a_inc.mean())
        kernel = np.real(np.fft.ifft2(a * w))  # real-space kernel of A W
        kw = operator_weights(lib.operator_chains(), kernel, dx, stencil)
        setups[name] = (lib, w, a, kw)
    eiv = {}
    if meas.active:
        wicked = {}
        for name in names:
            lib, w, a, kw = setups[name]
            if id(lib) not in wicked:
                wicked[id(lib)] = wick_library(lib, meas.variances, (N, M), dx, stencil)
            w_real = np.real(np.fft.ifft2(w))
            plan = contraction_plan(lib, name, meas.variances, w_real, dx, stencil)
            eiv[name] = (plan, meas.variances[name])
            setups[name] = (wicked[id(lib)], w, a, kw)
    accs = _accumulate(fields_filled, setups, dt, dx, stencil, fvalid, K, method, chunk, eiv)
    equations = {name: _combine(accs[name], rw, dt, K, method, libs[name].labels, T) for name in names}
    vf = 1.0 if valid is None else float(fvalid.mean())
    first = libs[names[0]].labels
    return ForceInference(equations, noise_model, dt, dx, T, (N, M), method, K, weight, stencil, vf, first, meas)


def _apply_hat(symbol_r: np.ndarray, hat: np.ndarray, shape) -> np.ndarray:
    """Inverse rfft2 of ``hat * symbol_r``: a translation-invariant operator applied in Fourier space."""
    return np.fft.irfft2(hat * symbol_r, s=shape)


def _dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum over frames and cells of a_f b_g``: (F, ...) x (G, ...) -> (F, G), with BLAS."""
    # einsum's own loops, not BLAS: a multi-threaded BLAS crawls on a machine shared with other jobs
    return np.einsum("fp,gp->fg", a.reshape(len(a), -1), b.reshape(len(b), -1))


def _matvec(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum over frames and cells of a_f x``: (F, ...) x (...) -> (F,)."""
    return np.einsum("fp,p->f", a.reshape(len(a), -1), x.ravel())


def _accumulate(fields, setups, dt, dx, stencil, fvalid, K, method, chunk, eiv=None):
    """Sums over pairs of frames, per lag and equation: Gram matrices, raw moments, Ito-Stratonovich
    corrections, and lagged Gram matrices (for the noise covariance).

    ``eiv``: ``{field: (ContractionPlan, s^2)}`` of the measurement-noise correction: its per-frame
    terms are added to the Gram matrices and moments, and lagged Grams with the weight ``s^2 W^2``
    (``"Lm"``) give the measurement noise's share of the moments' covariance."""
    eiv = eiv or {}
    names = list(setups)
    T, N, M = next(iter(fields.values())).shape
    half = M // 2 + 1
    E = 2 * K  # frames looked ahead
    accs = {}
    for name, (lib, _w, _a, _kw) in setups.items():
        F = len(lib)
        accs[name] = {
            "G": np.zeros((K + 1, F, F)),
            "Mraw": np.zeros((K + 1, F)),
            "corr": np.zeros((K + 1, F)),
            "n": np.zeros(K + 1),
            "L": np.zeros((2 * K, F, F)),
        }
        if name in eiv:
            accs[name]["Lm"] = np.zeros((2 * K + 1, F, F))
    for c0 in range(0, T, chunk):
        c1 = min(T, c0 + chunk)
        e1 = min(T, c1 + E)
        sl = slice(c0, e1)
        sub = {n: arr[sl] for n, arr in fields.items()}
        fv = None if fvalid is None else fvalid[sl]
        n_own = c1 - c0
        n_loc = e1 - c0
        evaluated = {}
        for name in names:
            lib, w, a, kw = setups[name]
            x = fields[name][sl]
            acc = accs[name]
            key = id(lib)
            if key not in evaluated:
                b = lib.evaluate(sub, dx, stencil)  # (F, n, N, M)
                if fv is not None:
                    b = b * fv
                evaluated[key] = (b, np.fft.rfft2(b))
            b, bhat = evaluated[key]
            trace = lib.trace_density(sub, name, kw, dx, stencil)  # (F, n, N, M)
            if fv is not None:
                trace = trace * fv
            tsum = trace.sum(axis=(2, 3))  # (F, n)
            w0 = float(w.flat[0])
            scalar_w = bool(np.all(w == w0))
            Wb = b * w0 if scalar_w else _apply_hat(w[:, :half], bhat, (N, M))
            WAWb = _apply_hat((w * w * a)[:, :half], bhat, (N, M))
            if name in eiv:
                plan, s2m = eiv[name]
                DG, DM = plan.corrections(sub, dx, stencil, fv)
                W2b = Wb * w0 if scalar_w else _apply_hat((w * w)[:, :half], bhat, (N, M))
                for d in range(2 * K + 1):
                    m = min(n_own, n_loc - d)
                    if m > 0:
                        s_sub = np.arange(0, m, LAGGED_STRIDE)
                        acc["Lm"][d] += s2m * (m / len(s_sub)) * _dots(b[:, s_sub], W2b[:, s_sub + d])
            else:
                DG = DM = None
            # lagged Grams sum_s b_s . WAW b_{s+d}, from every LAGGED_STRIDE-th frame (they only set the
            # standard errors, and a sum over a quarter of the frames estimates them well)
            for d in range(2 * K):
                m = min(n_own, n_loc - d)
                if m > 0:
                    s_sub = np.arange(0, m, LAGGED_STRIDE)
                    acc["L"][d] += (m / len(s_sub)) * _dots(b[:, s_sub], WAWb[:, s_sub + d])
            if fv is None:
                grams = np.einsum("fsp,gsp->sfg", b.reshape(len(b), n_loc, -1), Wb.reshape(len(b), n_loc, -1))
                # per-frame Gram matrices (n, F, F)
                if DG is not None:
                    grams = grams + DG
            for k in range(1, K + 1):
                m = min(n_own, n_loc - k)  # pairs (s, s + k) with s among the chunk's own frames
                if m <= 0:
                    continue
                dX = x[k : k + m] - x[:m]
                if fv is None:
                    Mf = _matvec(Wb[:, :m], dX)
                    if method == "ito":
                        acc["G"][k] += grams[:m].sum(axis=0)
                        acc["Mraw"][k] += Mf
                    else:
                        Mb = _matvec(Wb[:, k : k + m], dX)
                        acc["G"][k] += (grams[:m].sum(axis=0) + grams[k : k + m].sum(axis=0)) / 2
                        acc["Mraw"][k] += (Mf + Mb) / 2
                        acc["corr"][k] += (tsum[:, :m].sum(axis=1) + tsum[:, k : k + m].sum(axis=1)) / 2
                else:
                    P = fv[:m] & fv[k : k + m]
                    dXP = (dX * P).ravel()
                    bs = b[:, :m] * P
                    Wbs = bs * w0 if scalar_w else _apply_hat(w[:, :half], np.fft.rfft2(bs), (N, M))
                    Ms = _matvec(Wbs, dXP)
                    if method == "ito":
                        acc["G"][k] += _dots(bs, Wbs)
                        acc["Mraw"][k] += Ms
                        if DG is not None:
                            acc["G"][k] += DG[:m].sum(axis=0)
                    else:
                        be = b[:, k : k + m] * P
                        Wbe = be * w0 if scalar_w else _apply_hat(w[:, :half], np.fft.rfft2(be), (N, M))
                        acc["G"][k] += (_dots(bs, Wbs) + _dots(be, Wbe)) / 2
                        if DG is not None:
                            acc["G"][k] += (DG[:m].sum(axis=0) + DG[k : k + m].sum(axis=0)) / 2
                        acc["Mraw"][k] += (Ms + _matvec(Wbe, dXP)) / 2
                        acc["corr"][k] += (
                            (trace[:, :m] * P).sum(axis=(1, 2, 3)) + (trace[:, k : k + m] * P).sum(axis=(1, 2, 3))
                        ) / 2
                if DM is not None:  # the increment's measurement noise against the features at its ends
                    if method == "ito":
                        acc["Mraw"][k] -= DM[:m].sum(axis=0)
                    else:
                        acc["Mraw"][k] += (DM[k : k + m].sum(axis=0) - DM[:m].sum(axis=0)) / 2
                acc["n"][k] += m
    return accs


def _combine(acc, rw, dt, K, method, labels, T):
    """Normalise per lag, extrapolate, and build G, M, H and the inflation factor."""
    per_lag = []
    G0 = 0.0
    M0 = 0.0
    for k in range(1, K + 1):
        n = acc["n"][k]
        Gk = acc["G"][k] / n  # per pair, per unit weight
        Mk = (acc["Mraw"][k] - (k * dt / 2) * acc["corr"][k]) / (n * k * dt)
        per_lag.append((Gk, Mk))
        G0 = G0 + rw[k - 1] * Gk
        M0 = M0 + rw[k - 1] * Mk
    n1 = acc["n"][1]
    tau = n1 * dt
    G = tau * G0
    Mtot = tau * M0
    # coefficients of the frames' features in the noise of Mtot: gamma_o for offsets o = -(K-1) .. K
    offsets = np.arange(-(K - 1), K + 1)
    gamma = np.zeros(len(offsets))
    for k in range(1, K + 1):
        scale = rw[k - 1] * n1 / (acc["n"][k] * k)
        for j, o in enumerate(offsets):
            if method == "ito":
                gamma[j] += scale * (-k < o <= 0)
            else:
                gamma[j] += scale * 0.5 * ((-k < o <= 0) + (0 < o <= k))
    F = len(labels)
    H = np.zeros((F, F))
    for i, o in enumerate(offsets):
        for j, o2 in enumerate(offsets):
            d = o2 - o
            Ld = acc["L"][d] if d >= 0 else acc["L"][-d].T
            H += gamma[i] * gamma[j] * Ld
    H = dt * (H + H.T) / 2
    if "Lm" in acc:
        # a measurement noise eta_t enters the increments ending and starting at frame t: its coefficient
        # in Mtot is sum_o g_o W b_{t+o}; its covariance s^2 sum_{o,o'} g_o g_o' b_{t+o} W^2 b_{t+o'}
        offs = np.arange(-K, K + 1)
        g = np.zeros(len(offs))
        for k in range(1, K + 1):
            scale = rw[k - 1] * n1 / (acc["n"][k] * k)
            if method == "ito":
                g[offs == -k] += scale
                g[offs == 0] -= scale
            else:
                g[offs == -k] += scale / 2
                g[offs == k] -= scale / 2
        Hm = np.zeros_like(H)
        for i, o in enumerate(offs):
            for j, o2 in enumerate(offs):
                d = o2 - o
                Ld = acc["Lm"][d] if d >= 0 else acc["Lm"][-d].T
                Hm += g[i] * g[j] * Ld
        H = H + (Hm + Hm.T) / 2
    inflation = _inflation(G, H)
    return EquationMoments(G, Mtot, H, list(labels), inflation, per_lag)


def _inflation(G, H) -> float:
    """Largest ratio of the sandwich variance to the naive variance over the features."""
    scale = 1.0 / np.sqrt(np.diag(G))
    Gs = G * scale[:, None] * scale[None, :]
    Hs = H * scale[:, None] * scale[None, :]
    try:
        Ginv = np.linalg.inv(Gs)
    except np.linalg.LinAlgError:
        Ginv = np.linalg.pinv(Gs)
    sand = np.diag(Ginv @ Hs @ Ginv)
    naive = np.diag(Ginv)
    ok = naive > 0
    return float(np.max(sand[ok] / naive[ok])) if ok.any() else 1.0
