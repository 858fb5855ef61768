"""The Gray–Scott model: homogeneous states, their stability, bifurcation curves, Turing analysis.

The reaction–diffusion system (dimensionless time and space, lattice units by default)::

    du/dt = Du lap(u) - u v^2 + f (1 - u)
    dv/dt = Dv lap(v) + u v^2 - (f + k) v

with feed rate ``f`` and kill rate ``k``.  Every function that takes both rates takes them as the
keywords ``f`` and ``k`` (two floats swapped would pass silently), and every pair of rates it returns
is in the order (f, k).  Diffusion coefficients ``Du``, ``Dv`` are in (length unit)^2 / (time unit);
with the default lattice units (``dx = 1``) the defaults ``Du=0.2, Dv=0.1`` are those used with the
book's FTCS solvers.

Homogeneous steady states
-------------------------
``(u, v) = (1, 0)`` ("H", the red trivial state) always exists.  With
``C = f^2 - 4 f (f + k)^2`` and ``C >= 0`` two more exist::

    u = (f -+ sqrt(C)) / (2 f),   v = (f +- sqrt(C)) / (2 (f + k)),   u v = f + k

the larger-v one ("L", Pearson's blue state) and the smaller-v one ("S", always a saddle).
``C >= 0`` is equivalent to ``k <= sqrt(f)/2 - f`` (which needs ``f <= 1/4``).

Bifurcation curves (the curve functions return ``(f, k)``, gslib's order; plots put k on the x
axis and f on the y axis):

* saddle-node (= existence boundary of L and S): ``k = sqrt(f)/2 - f``, ``0 < f <= 1/4``;
* Hopf curve of L (trace of the Jacobian vanishes, ``v^2 = k``):
  ``f = ((sqrt k - 2k) - sqrt(k - 4 k^1.5)) / 2``, ``0 < k <= 1/16``.  The other root of the
  same quadratic puts trace 0 on the saddle S (a "neutral saddle"), not a Hopf point.

The two curves meet at the Bogdanov–Takens point ``(f, k) = (1/16, 1/16)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_int

__all__ = [
    "REGIONS",
    "STENCILS",
    "StateStability",
    "classify_region",
    "dispersion_relation",
    "existence_boundary",
    "homogeneous_states",
    "hopf_curve",
    "hopf_f",
    "jacobian",
    "laplacian_symbol",
    "nontrivial_states_exist",
    "saddle_node_curve",
    "saddle_node_k",
    "stability",
    "turing_unstable",
]

#: The stencils understood by :func:`laplacian_symbol` and :func:`dispersion_relation`.
STENCILS = ("9pt", "5pt", "continuum")

#: The labels returned by :func:`classify_region`.
REGIONS = ("no nontrivial state", "L stable", "L Hopf-unstable", "L Turing-unstable")

_STATES = ("L", "S", "H")
_EPS = np.finfo(float).eps
# Relative tolerance (in units of the scale of the reaction rates) below which an eigenvalue's
# real part counts as zero, i.e. the state is reported as non-hyperbolic.
_EIG_RTOL = 1e-9


# --------------------------------------------------------------------------- argument checks


def _as_float_array(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or an array of real numbers (got {x!r})") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (got {x!r})")
    return arr


def _check_fk(f, k) -> tuple[np.ndarray, np.ndarray]:
    """Validate feed ``f > 0`` and kill ``k >= 0`` (scalars or arrays); return float arrays."""
    f = _as_float_array(f, "f")
    k = _as_float_array(k, "k")
    if not np.all(f > 0):
        raise ValueError(f"f must be > 0 (feed rate; got {f if f.ndim == 0 else f[~(f > 0)].ravel()[:3]})")
    if not np.all(k >= 0):
        raise ValueError(f"k must be >= 0 (kill rate; got {k if k.ndim == 0 else k[~(k >= 0)].ravel()[:3]})")
    return f, k


def _check_scalar_fk(f, k) -> tuple[float, float]:
    fa, ka = _check_fk(f, k)
    if fa.ndim != 0:
        raise ValueError(f"f must be a scalar here (got shape {fa.shape})")
    if ka.ndim != 0:
        raise ValueError(f"k must be a scalar here (got shape {ka.shape})")
    return float(fa), float(ka)


def _check_diffusion(Du, Dv) -> tuple[float, float]:
    out = []
    for name, val in (("Du", Du), ("Dv", Dv)):
        a = _as_float_array(val, name)
        if a.ndim != 0:
            raise ValueError(f"{name} must be a scalar >= 0 (got shape {a.shape})")
        if not a >= 0:
            raise ValueError(f"{name} must be >= 0 (diffusion coefficient; got {val!r})")
        out.append(float(a))
    return out[0], out[1]


def _check_n(n, minimum: int = 2) -> int:
    try:
        return check_int("n", n, minimum)
    except ValueError:  # this module's wording: "n must be an integer >= 2 (got 1)"
        raise ValueError(f"n must be an integer >= {minimum} (got {n!r})") from None


# ------------------------------------------------------------------------ homogeneous states


def _sn_gap(f: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``sqrt(f)/2 - f - k``: >= 0 exactly where the nontrivial states exist.

    ``C = 4 f * gap * (sqrt(f)/2 + f + k)``; this factored form has no cancellation beyond
    that of ``gap`` itself, and vanishes exactly on points made by :func:`saddle_node_k`.
    """
    return (np.sqrt(f) / 2 - f) - k


def _gap_tol(f: np.ndarray) -> np.ndarray:
    # rounding error of _sn_gap is a few ulps of sqrt(f)/2
    return 8 * _EPS * np.sqrt(f)


def _discriminant(f: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``C = f^2 - 4 f (f + k)^2`` in the well-conditioned factored form."""
    return 4 * f * _sn_gap(f, k) * (np.sqrt(f) / 2 + f + k)


def nontrivial_states_exist(*, f, k):
    """Whether the nontrivial homogeneous states exist: ``C >= 0`` i.e. ``k <= sqrt(f)/2 - f``.

    Points within rounding of the saddle-node curve count as existing (one double state).

    Parameters
    ----------
    f, k : float or array_like
        Feed rate (> 0) and kill rate (>= 0), broadcast together.

    Returns
    -------
    bool or numpy.ndarray
        A bool for scalars, else a bool array.

    Raises
    ------
    ValueError
        If ``f <= 0``, ``k < 0`` or a value is not a finite real number.
    """
    f, k = _check_fk(f, k)
    out = _sn_gap(f, k) >= -_gap_tol(f)
    return bool(out) if out.ndim == 0 else out


def _nontrivial(f: np.ndarray, k: np.ndarray):
    """Vectorised L and S states: ``(uL, vL, uS, vS)``, NaN where they do not exist."""
    gap = _sn_gap(f, k)
    exists = gap >= -_gap_tol(f)
    C = np.where(gap > _gap_tol(f), _discriminant(f, k), 0.0)
    C = np.where(exists, C, np.nan)
    s = np.sqrt(C)
    fk = f + k
    # the sums are free of cancellation; the partners follow from u v = f + k
    vL = (f + s) / (2 * fk)
    uL = fk / vL
    uS = (f + s) / (2 * f)
    vS = fk / uS
    return uL, vL, uS, vS


def homogeneous_states(*, f, k) -> list[tuple[float, float]]:
    """Homogeneous steady states ``(u, v)`` of the Gray-Scott model.

    Parameters
    ----------
    f : float
        Feed rate, > 0.
    k : float
        Kill rate, >= 0.

    Returns
    -------
    list of tuple of float
        ``[(1.0, 0.0)]``, then, when ``C = f^2 - 4 f (f + k)^2 > 0``, the larger-v state
        ("L", blue) and the smaller-v state ("S", saddle).  On the saddle-node curve (``|C|``
        within rounding of 0) the two coincide and a single third state ``(1/2, f/(2(f+k)))``
        is returned.  Concentrations are dimensionless.

    Raises
    ------
    ValueError
        If ``f <= 0``, ``k < 0``, or either is not a finite real scalar.

    Examples
    --------
    >>> import gslib
    >>> len(gslib.homogeneous_states(f=0.05, k=0.06))
    3
    >>> gslib.homogeneous_states(f=0.042, k=0.063)
    [(1.0, 0.0)]
    """
    f, k = _check_scalar_fk(f, k)
    states = [(1.0, 0.0)]
    fa, ka = np.float64(f), np.float64(k)
    gap = _sn_gap(fa, ka)
    tol = _gap_tol(fa)
    if gap < -tol:
        return states
    uL, vL, uS, vS = (float(x) for x in _nontrivial(fa, ka))
    states.append((uL, vL))
    if gap > tol:
        states.append((uS, vS))
    return states


# ----------------------------------------------------------------------------- linearisation


def jacobian(u, v, *, f, k) -> np.ndarray:
    """Jacobian of the reaction terms at ``(u, v)``: ``[[-v^2 - f, -2uv], [v^2, 2uv - (f+k)]]``.

    Parameters
    ----------
    u, v : float or array_like
        Concentrations.
    f, k : float or array_like
        Feed rate (> 0) and kill rate (>= 0); all four broadcast together.

    Returns
    -------
    numpy.ndarray
        Units 1/time.  Scalars give shape ``(2, 2)``; arrays broadcast to shape ``(..., 2, 2)``.
    """
    u = _as_float_array(u, "u")
    v = _as_float_array(v, "v")
    f, k = _check_fk(f, k)
    u, v, f, k = np.broadcast_arrays(u, v, f, k)
    J = np.empty(u.shape + (2, 2))
    J[..., 0, 0] = -(v**2) - f
    J[..., 0, 1] = -2 * u * v
    J[..., 1, 0] = v**2
    J[..., 1, 1] = 2 * u * v - (f + k)
    return J


def _sort_desc(ev: np.ndarray) -> np.ndarray:
    """Sort eigenvalue pairs along the last axis: real part descending, then imaginary part."""
    a, b = ev[..., 0], ev[..., 1]
    swap = (b.real > a.real) | ((b.real == a.real) & (b.imag > a.imag))
    out = ev.copy()
    out[..., 0] = np.where(swap, b, a)
    out[..., 1] = np.where(swap, a, b)
    return out


def _eig2(J: np.ndarray) -> np.ndarray:
    """Eigenvalues of a stack of real 2x2 matrices, complex, sorted by real part descending."""
    return _sort_desc(np.linalg.eigvals(J).astype(complex))


@dataclass(frozen=True)
class StateStability:
    """Linear stability of one homogeneous state of the reaction kinetics (no diffusion).

    Attributes
    ----------
    u, v : float
        The state.
    eigenvalues : numpy.ndarray
        Complex, ``(2,)``, sorted by real part descending (1/time).
    stable : bool
        Every real part < 0 (strictly, beyond rounding: marginal states are not stable).
    kind : str
        "stable node", "unstable node", "saddle", "stable focus", "unstable focus",
        "centre (Hopf point)", "saddle-node (zero eigenvalue)" or
        "Bogdanov-Takens point (double zero eigenvalue)".
    """

    u: float
    v: float
    eigenvalues: np.ndarray
    stable: bool
    kind: str

    @property
    def trace(self) -> float:
        return float(self.eigenvalues.sum().real)

    @property
    def det(self) -> float:
        return float(np.prod(self.eigenvalues).real)


def _classify_eigs(ev: np.ndarray, scale: float) -> tuple[bool, str]:
    tol = _EIG_RTOL * max(scale, float(np.abs(ev).max()))
    re, im = ev.real, ev.imag
    if np.all(np.abs(ev) <= tol):
        return False, "Bogdanov-Takens point (double zero eigenvalue)"
    complex_pair = abs(im[0]) > tol
    if complex_pair:
        if abs(re[0]) <= tol:
            return False, "centre (Hopf point)"
        return (True, "stable focus") if re[0] < 0 else (False, "unstable focus")
    if np.any(np.abs(re) <= tol):
        return False, "saddle-node (zero eigenvalue)"
    if re[0] > 0 and re[1] < 0:
        return False, "saddle"
    return (True, "stable node") if re[0] < 0 else (False, "unstable node")


def stability(*, f, k) -> list[StateStability]:
    """Stability of every homogeneous state (same order as :func:`homogeneous_states`).

    Linearisation of the reaction kinetics alone (spatially uniform perturbations).

    Parameters
    ----------
    f : float
        Feed rate, > 0.
    k : float
        Kill rate, >= 0.

    Returns
    -------
    list of StateStability
        One per homogeneous state.
    """
    f, k = _check_scalar_fk(f, k)
    out = []
    for u, v in homogeneous_states(f=f, k=k):
        ev = _eig2(jacobian(u, v, f=f, k=k))
        stable, kind = _classify_eigs(ev, scale=f)
        out.append(StateStability(u=u, v=v, eigenvalues=ev, stable=stable, kind=kind))
    return out


# ------------------------------------------------------------------------- bifurcation curves


def saddle_node_k(f):
    """Kill rate on the saddle-node curve, ``k = sqrt(f)/2 - f``.

    Parameters
    ----------
    f : float or array_like
        Feed rate(s), ``0 < f <= 1/4``.

    Returns
    -------
    float or numpy.ndarray
        The kill rate(s), shaped like ``f``.

    Raises
    ------
    ValueError
        If a value of ``f`` is outside ``(0, 1/4]``.
    """
    fa = _as_float_array(f, "f")
    if not np.all((fa > 0) & (fa <= 0.25)):
        raise ValueError(f"f must be in (0, 1/4] on the saddle-node curve (got {f!r})")
    k = np.sqrt(fa) / 2 - fa
    return float(k) if k.ndim == 0 else k


def hopf_f(k):
    """Feed rate on the Hopf curve of the L state.

    ``f = ((sqrt k - 2k) - sqrt(k - 4 k^1.5)) / 2``, evaluated as the equivalent
    cancellation-free ``2 t^3 / (1 - 2t + sqrt(1 - 4t))`` with ``t = sqrt(k)``.

    Parameters
    ----------
    k : float or array_like
        Kill rate(s), ``0 < k <= 1/16``.

    Returns
    -------
    float or numpy.ndarray
        The feed rate(s), shaped like ``k``.

    Raises
    ------
    ValueError
        If a value of ``k`` is outside ``(0, 1/16]``.
    """
    ka = _as_float_array(k, "k")
    if not np.all((ka > 0) & (ka <= 1 / 16)):
        raise ValueError(f"k must be in (0, 1/16] on the Hopf curve (got {k!r})")
    t = np.sqrt(ka)
    f = 2 * t**3 / (1 - 2 * t + np.sqrt(np.maximum(1 - 4 * t, 0.0)))
    return float(f) if f.ndim == 0 else f


def saddle_node_curve(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """The saddle-node curve ``C = 0`` (where L and S are born), as arrays ``(f, k)``.

    Parameters
    ----------
    n : int, optional
        Number of points (>= 2), with ``sqrt(f)`` evenly spaced over ``(0, 1/2]``, i.e. ``f``
        in ``(0, 1/4]`` (dense near the origin where the curve is steep).

    Returns
    -------
    f, k : numpy.ndarray
        Shapes ``(n,)``, in gslib's (f, k) order (a plot of the plane puts k on the x axis:
        ``ax.plot(k, f)``). The last point is ``(f, k) = (1/4, 0)`` and, for even ``n``, the point
        ``(1/16, 1/16)`` is included exactly.
    """
    n = _check_n(n)
    s = 0.5 * np.arange(1, n + 1) / n
    f = s * s
    k = saddle_node_k(f)
    return f, k


#: The boundary of the region where the nontrivial states exist (``k <= sqrt(f)/2 - f``).
existence_boundary = saddle_node_curve


def hopf_curve(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """The Hopf curve of the L (blue) state, trace J = 0 i.e. ``v^2 = k``, as arrays ``(f, k)``.

    L is stable above the curve (larger f) and unstable below it, down to f = k^1.5 near 0.

    Parameters
    ----------
    n : int, optional
        Number of points (>= 2), with ``sqrt(k)`` evenly spaced over ``(0, 1/4]``, i.e. ``k``
        in ``(0, 1/16]``.

    Returns
    -------
    f, k : numpy.ndarray
        Shapes ``(n,)``, in gslib's (f, k) order. The last point is the Bogdanov–Takens point
        ``(1/16, 1/16)`` where it meets the saddle-node curve.
    """
    n = _check_n(n)
    t = 0.25 * np.arange(1, n + 1) / n
    k = t * t
    f = hopf_f(k)
    return f, k


# ------------------------------------------------------------------------------ Turing analysis


def laplacian_symbol(qx, qy=0.0, stencil: str = "9pt", dx: float = 1.0):
    """Fourier symbol of the Laplacian, i.e. the factor multiplying ``exp(i(qx x + qy y))``.

    Parameters
    ----------
    qx, qy : float or array_like
        Wave numbers (1/length), broadcast together.
    stencil : {'9pt', '5pt', 'continuum'}, optional
        ``"continuum"``: ``-(qx^2 + qy^2)`` (``dx`` unused);
        ``"5pt"``: ``(2 cos(qx dx) + 2 cos(qy dx) - 4) / dx^2`` (minimum ``-8/dx^2``);
        ``"9pt"`` (centre -3, edge neighbours 1/2, corners 1/4):
        ``(-4 + (1 + cos(qx dx)) (1 + cos(qy dx))) / dx^2`` (minimum ``-4/dx^2``).
    dx : float, optional
        Grid spacing, a scalar > 0.

    Returns
    -------
    float or numpy.ndarray
        A float for scalars, else an array; units 1/length^2.

    Raises
    ------
    ValueError
        For an unknown ``stencil`` or ``dx <= 0``.
    """
    if not isinstance(stencil, str) or stencil.strip().lower() not in STENCILS:
        raise ValueError(f"stencil must be one of {', '.join(map(repr, STENCILS))} (got {stencil!r})")
    stencil = stencil.strip().lower()
    qx = _as_float_array(qx, "qx")
    qy = _as_float_array(qy, "qy")
    dxa = _as_float_array(dx, "dx")
    if dxa.ndim != 0 or not dxa > 0:
        raise ValueError(f"dx must be a scalar > 0 (grid spacing; got {dx!r})")
    h = float(dxa)
    if stencil == "continuum":
        out = -(qx**2 + qy**2)
    elif stencil == "5pt":
        out = (2 * np.cos(qx * h) + 2 * np.cos(qy * h) - 4) / h**2
    else:
        out = (-4 + (1 + np.cos(qx * h)) * (1 + np.cos(qy * h))) / h**2
    out = np.asarray(out, dtype=float)
    return float(out) if out.ndim == 0 else out


def _resolve_state(f: float, k: float, state) -> tuple[float, float]:
    if isinstance(state, str):
        key = state.strip().upper()
        if key == "H":
            return 1.0, 0.0
        if key in ("L", "S"):
            fa, ka = np.float64(f), np.float64(k)
            if _sn_gap(fa, ka) < -_gap_tol(fa):
                raise ValueError(
                    f"state {state!r} does not exist at f={f}, k={k}: the nontrivial states need "
                    f"k <= sqrt(f)/2 - f = {np.sqrt(f) / 2 - f:.6g}"
                )
            uL, vL, uS, vS = (float(x) for x in _nontrivial(fa, ka))
            return (uL, vL) if key == "L" else (uS, vS)
    else:
        try:
            uv = np.asarray(state, dtype=float)
        except (TypeError, ValueError):
            uv = None
        if uv is not None and uv.shape == (2,) and np.all(np.isfinite(uv)):
            return float(uv[0]), float(uv[1])
    raise ValueError(f"state must be 'L', 'S', 'H' or a finite (u, v) pair (got {state!r})")


def dispersion_relation(
    q,
    *,
    f,
    k,
    Du: float = 0.2,
    Dv: float = 0.1,
    state="L",
    stencil: str = "continuum",
    dx: float = 1.0,
    qy=0.0,
) -> np.ndarray:
    """Growth rates of Fourier modes about a homogeneous state: eigenvalues of ``J + s D``.

    ``s = laplacian_symbol(q, qy, stencil, dx)`` (``-q^2`` in the continuum), ``D = diag(Du, Dv)``.

    Parameters
    ----------
    q : float or array_like
        Wave number(s) along x (1/length).
    f : float
        Feed rate, > 0.
    k : float
        Kill rate, >= 0.
    Du, Dv : float, optional
        Diffusivities, >= 0.
    state : {'L', 'S', 'H'} or tuple of float, optional
        ``"L"`` (larger-v, blue), ``"S"`` (saddle), ``"H"`` = (1, 0), or an explicit
        ``(u, v)`` (taken as given; meaningful only at a steady state).
    stencil : {'continuum', '9pt', '5pt'}, optional
        The Laplacian (:func:`laplacian_symbol`).
    dx : float, optional
        Grid spacing of a discrete stencil.
    qy : float or array_like, optional
        Wave number(s) along y, broadcast with ``q``.

    Returns
    -------
    numpy.ndarray
        Complex, shape ``broadcast(q, qy).shape + (2,)`` with q at least 1-D: the eigenvalues
        sorted by real part descending (units 1/time).

    Raises
    ------
    ValueError
        If ``state`` does not exist at ``(f, k)``, or for an argument out of range.
    """
    f, k = _check_scalar_fk(f, k)
    Du, Dv = _check_diffusion(Du, Dv)
    u, v = _resolve_state(f, k, state)
    q = np.atleast_1d(_as_float_array(q, "q"))
    s = np.asarray(laplacian_symbol(q, qy, stencil=stencil, dx=dx), dtype=float)
    J = jacobian(u, v, f=f, k=k)
    M = np.broadcast_to(J, s.shape + (2, 2)).copy()
    M[..., 0, 0] += Du * s
    M[..., 1, 1] += Dv * s
    return _eig2(M)


def _turing_from_state(u, v, f, k, Du, Dv):
    """Continuum Turing instability of a state that is stable without diffusion (vectorised).

    det(J - q^2 D) = Du Dv q^4 - h q^2 + det J with h = Du J22 + Dv J11; the trace stays
    negative, so a band of q > 0 grows iff h > 0 and h^2 > 4 Du Dv det J.
    """
    uv = u * v
    J11 = -(v**2) - f
    J22 = 2 * uv - (f + k)
    tr = J11 + J22
    det = J11 * J22 + 2 * uv * v**2
    h = Du * J22 + Dv * J11
    stable = (tr < 0) & (det > 0)
    return stable, stable & (h > 0) & (h * h > 4 * Du * Dv * det), tr


def turing_unstable(*, f, k, Du: float = 0.2, Dv: float = 0.1):
    """Whether the L (blue) state is Turing-unstable (continuum Laplacian).

    Parameters
    ----------
    f, k : float or array_like
        Feed rate (> 0) and kill rate (>= 0), broadcast together.
    Du, Dv : float, optional
        Diffusivities, >= 0.

    Returns
    -------
    bool or numpy.ndarray
        True where L exists, is stable to uniform perturbations (trace < 0, det > 0), and
        some wave number q > 0 has a positive growth rate; a bool array for arrays.
    """
    f, k = _check_fk(f, k)
    Du, Dv = _check_diffusion(Du, Dv)
    f, k = np.broadcast_arrays(f, k)
    uL, vL, _, _ = _nontrivial(f, k)
    with np.errstate(invalid="ignore"):
        _, turing, _ = _turing_from_state(uL, vL, f, k, Du, Dv)
    turing = turing & np.isfinite(vL)
    return bool(turing) if turing.ndim == 0 else turing


def classify_region(*, f, k, Du: float = 0.2, Dv: float = 0.1):
    """Label of the parameter point(s) by what the L (blue) state does; one of :data:`REGIONS`.

    ``"no nontrivial state"`` (only (1, 0) exists), ``"L Hopf-unstable"`` (trace J > 0),
    ``"L Turing-unstable"`` (see :func:`turing_unstable`), otherwise ``"L stable"``.  Points on
    the curves themselves get the label of the adjacent side by the rules above.

    Parameters
    ----------
    f, k : float or array_like
        Feed rate (> 0) and kill rate (>= 0), broadcast together.
    Du, Dv : float, optional
        Diffusivities, >= 0.

    Returns
    -------
    str or numpy.ndarray
        A label of :data:`REGIONS` for scalars, else an array of str.
    """
    f, k = _check_fk(f, k)
    Du, Dv = _check_diffusion(Du, Dv)
    f, k = np.broadcast_arrays(f, k)
    uL, vL, _, _ = _nontrivial(f, k)
    exists = np.isfinite(vL)
    with np.errstate(invalid="ignore"):
        _, turing, tr = _turing_from_state(uL, vL, f, k, Du, Dv)
    out = np.full(f.shape, REGIONS[1], dtype=object)
    out[exists & turing] = REGIONS[3]
    out[exists & (tr > 0)] = REGIONS[2]
    out[~exists] = REGIONS[0]
    out = out.astype(str)
    return str(out) if out.ndim == 0 else out
