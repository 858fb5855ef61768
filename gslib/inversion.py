"""The parameters of the Gray-Scott model from one steady pattern, by linear least squares on its residual.

On a steady state the right-hand sides of the model vanish,

    r_u = Du lap u - u v^2 + f (1 - u) = 0,    r_v = Dv lap v + u v^2 - (f + k) v = 0,

and both are *linear* in ``(Du, Dv, f, k)``. :func:`residual_design` writes them as ``r = A theta - b``
(the reaction terms are those of :func:`gslib.solvers.reference.reaction`, the Laplacians those of
:func:`gslib.solvers.stencils.analysis_laplacian`); :func:`residual_fit` solves the least-squares
problem in closed form (``gslib invert``), optionally corrected for known measurement noise (errors
in variables), infers the discretisation from the data (``stencil="auto"``) and says when the model
does not explain the pattern (:class:`UnexplainedPatternWarning`); :func:`residual_loss` evaluates the
quadratic bowl anywhere; :func:`load_steady` reads and checks a pattern file.

This module needs NumPy only (no machine-learning framework). Parameters are ordered ``(Du, Dv, f,
k)`` throughout (:data:`PARAMS`); lengths in grid cells, times in model time units.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_choice, check_real
from .npz import read_npz
from .solvers.reference import reaction
from .solvers.stencils import ANALYSIS_STENCILS, analysis_laplacian, check_analysis_stencil, laplacian_symbol

__all__ = [
    "recorded_stencil",
    "PARAMS",
    "as_params",
    "check_steady_pattern",
    "residual_design",
    "residual_loss",
    "residual_fit",
    "ResidualFit",
    "load_steady",
    "UnexplainedPatternWarning",
    "UNEXPLAINED_THRESHOLD",
    "STENCIL_MARGIN",
    "ON_UNEXPLAINED",
]

#: The parameters, in the order used by every array of the inversion and of :mod:`gslib.landscape`.
PARAMS = ("Du", "Dv", "f", "k")
#: Older records name the feed rate ``F``; they are still read (and written with ``f``).
_LEGACY_NAMES = {"f": "F"}

#: ``residual_fit`` warns (:class:`UnexplainedPatternWarning`) above this relative residual ``|r| / |b|``.
#: On the 48 x 48 pattern of chapter 5: settled to a step change of 1e-4, 1.3e-3 (parameters within
#: 2e-5); still moving after 500 steps, 6e-3 (1 %); after 200 steps, 0.07 (22 %); uncorrected white
#: noise of std 0.001, 0.03 (1.5 %), of 0.003, 0.1 (12 %). Above 0.05 the parameters are off by
#: several percent at least.
UNEXPLAINED_THRESHOLD = 0.05
#: ``stencil="auto"``: a runner-up whose sum of squared residuals exceeds the winner's by less than this
#: fraction of it (about 5 % in rms) is too close to tell.
STENCIL_MARGIN = 0.1
#: What :func:`residual_fit` may do with a pattern the model does not explain.
ON_UNEXPLAINED = ("warn", "raise", "ignore")


class UnexplainedPatternWarning(UserWarning):
    """The model does not explain the pattern: it is not steady, or another model made it."""


def as_params(params, name: str = "params") -> np.ndarray:
    """Parameters ``(Du, Dv, f, k)`` as a float64 array, from an array or a dict.

    Parameters
    ----------
    params : array_like or dict
        Four values along the last axis, or a dict with the keys of :data:`PARAMS` (a dict of an
        older record that names the feed rate ``F`` is read too).
    name : str
        The argument's name, for the messages.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(..., 4)``.

    Raises
    ------
    ValueError
        If a key is missing, the last axis does not hold four values, or a value is not finite.
    """
    if isinstance(params, dict):
        values, missing = [], []
        for p in PARAMS:
            key = p if p in params else _LEGACY_NAMES.get(p, p)
            if key in params:
                values.append(params[key])
            else:
                missing.append(p)
        if missing:
            raise ValueError(f"{name} lacks {', '.join(missing)}; give all of {', '.join(PARAMS)}")
        params = values
    arr = np.asarray(params, dtype=np.float64)
    if arr.shape[-1:] != (4,):
        raise ValueError(f"{name} must hold the 4 values (Du, Dv, f, k) along its last axis; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr}")
    return arr


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
            raise ValueError(
                f"{source}: {name} contains {bad} NaN or infinite value(s); the residual needs finite fields"
            )
        arrays.append(a.astype(np.float64))
    u, v = arrays
    if u.shape != v.shape:
        raise ValueError(f"{source}: u and v must have the same shape; got {u.shape} and {v.shape}")
    dxa = np.asarray(dx)
    if dxa.size != 1 or dxa.dtype.kind not in "fiu" or not np.isfinite(dxa).all() or float(dxa.reshape(())) <= 0:
        raise ValueError(f"{source}: dx must be one finite number > 0; got {dx!r}")
    if np.ptp(u) == 0 and np.ptp(v) == 0:
        raise ValueError(
            f"{source} is uniform (u = {u.flat[0]:g}, v = {v.flat[0]:g} everywhere): its Laplacians "
            "vanish, so Du and Dv do not enter the residual and a homogeneous state fixes at most "
            "two relations between f and k; a uniform pattern carries no information on the "
            "parameters, give a pattern"
        )
    return u, v, float(dxa.reshape(()))


def residual_design(u, v, dx=1.0, stencil="5pt"):
    """The linear model of the steady-state residual: ``r = A theta - b`` with theta = (Du, Dv, f, k).

    Rows of u (N M): ``[lap u, 0, 1 - u, 0]``, ``b = u v^2``; rows of v: ``[0, lap v, -v, -v]``,
    ``b = -u v^2``; so that ``r_u = Du lap u - u v^2 + f (1 - u)`` and
    ``r_v = Dv lap v + u v^2 - (f + k) v``. The reaction columns are read off
    :func:`gslib.solvers.reference.reaction`, which is affine in f and k.

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
    zero = np.zeros(u.size)
    ru0, rv0 = reaction(u, v, f=0.0, k=0.0)  # the reaction without feed and kill: -u v^2, u v^2
    ru_f, rv_f = reaction(u, v, f=1.0, k=0.0)  # with f = 1: the f column is the difference
    _, rv_k = reaction(u, v, f=0.0, k=1.0)  # with k = 1: the k column (it enters v only)
    A = np.block(
        [
            [lu[:, None], zero[:, None], (ru_f - ru0).ravel()[:, None], zero[:, None]],
            [zero[:, None], lv[:, None], (rv_f - rv0).ravel()[:, None], (rv_k - rv0).ravel()[:, None]],
        ]
    )
    return A, -np.concatenate([ru0.ravel(), rv0.ravel()])


def residual_loss(u, v, params, dx=1.0, stencil="5pt") -> np.ndarray:
    """``mean(r_u^2 + r_v^2)`` over the cells of the pattern (u, v).

    A quadratic in the parameters: evaluated from the normal matrices, so any number of parameter
    points costs one pass over the pattern.

    Parameters
    ----------
    u, v : array_like
        The steady pattern (N, M).
    params : array_like or dict
        ``(Du, Dv, f, k)``, (..., 4).
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
    p = as_params(params)
    value = np.einsum("...i,ij,...j->...", p, Q, p) - 2.0 * p @ c + s
    return np.maximum(value, 0.0)


@dataclass
class ResidualFit:
    """Least-squares parameters of a steady pattern (:func:`residual_fit`).

    Attributes
    ----------
    params, stderr : dict
        Values and standard errors over Du, Dv, f, k.
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
        """The fitted ``(Du, Dv, f, k)`` as an array (4,)."""
        return np.array([self.params[p] for p in PARAMS])

    def to_dict(self) -> dict:
        """The JSON record of ``gslib invert`` (without provenance), keyed by :data:`PARAMS`."""
        return {
            "params": dict(self.params),
            "stderr": dict(self.stderr),
            "relative_stderr": {p: self.stderr[p] / abs(self.params[p]) if self.params[p] else None for p in PARAMS},
            "covariance": self.cov.tolist(),
            "residual_rms": self.residual_rms,
            "condition": self.condition,
            "cells": self.cells,
            "stencil": self.stencil,
            "dx": self.dx,
            "noise": self.noise,
            "relative_residual": self.relative_residual,
            "explained": self.explained,
            "discretisation": self.discretisation,
        }


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
    """Recover (Du, Dv, f, k) from one steady pattern by linear least squares on its residual.

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
    check_choice("on_unexplained", on_unexplained, ON_UNEXPLAINED)
    check_analysis_stencil(stencil, auto=True)
    if stencil == "auto":
        fits = {st: _residual_fit_one(u, v, dx, st, noise) for st in ANALYSIS_STENCILS}
        ranked = sorted(fits, key=lambda st: fits[st]._excess)
        best, second = fits[ranked[0]], fits[ranked[1]]
        raw = best.residual_rms**2 * 2 * best.cells
        margin = (second._excess - best._excess) / raw if raw > 0 else math.inf
        decided = bool(margin >= STENCIL_MARGIN)
        if decided:
            message = (
                f"stencil {ranked[0]} inferred: the runner-up ({ranked[1]}) leaves a sum of squared residuals "
                f"larger by {margin:.3g} times the winner's (threshold {STENCIL_MARGIN:g})"
            )
        else:
            message = (
                f"stencil {ranked[0]} fits best, but {ranked[1]} leaves a sum of squared residuals only "
                f"{100 * margin:.2g} % larger (threshold {100 * STENCIL_MARGIN:g} %): the pattern cannot tell "
                "these discretisations apart"
            )
        fit = best
        fit.discretisation = {
            "chosen": ranked[0],
            "ranking": ranked,
            "candidates": {
                st: {"residual_rms": f.residual_rms, "relative_residual": f.relative_residual, "params": dict(f.params)}
                for st, f in fits.items()
            },
            "margin": float(margin),
            "threshold": STENCIL_MARGIN,
            "decided": decided,
            "message": message,
        }
    else:
        fit = _residual_fit_one(u, v, dx, stencil, noise)
        fit.discretisation = {"chosen": stencil, "message": f"stencil {stencil} (given)"}
    if not fit.explained and on_unexplained != "ignore":
        text = (
            f"the model does not explain this pattern: the relative residual |r|/|b| = "
            f"{fit.relative_residual:.3g} exceeds {UNEXPLAINED_THRESHOLD:g} (a settled Gray-Scott pattern leaves "
            "about 1e-3). The pattern is not steady, or another model made it; the parameters are not to be trusted"
        )
        if on_unexplained == "raise":
            raise ValueError(text)
        warnings.warn(text, UnexplainedPatternWarning, stacklevel=2)
    return fit


def _residual_fit_one(u, v, dx, stencil, noise) -> ResidualFit:
    """:func:`residual_fit` with one given stencil, without the warning."""
    A, b = residual_design(u, v, dx, stencil)
    u, v, dx = check_steady_pattern(u, v, dx)
    noise = check_real("noise", noise, minimum=0.0)
    norms = np.sqrt(np.sum(A * A, axis=0))
    scale_ref = np.sqrt(len(b)) * max(np.max(np.abs(A)), 1e-300)
    empty = [PARAMS[i] for i in range(4) if norms[i] <= 1e-12 * scale_ref]
    if empty:
        why = {
            "Du": "lap u vanishes everywhere",
            "Dv": "lap v vanishes everywhere",
            "k": "v vanishes everywhere",
            "f": "u = 1 and v = 0 everywhere",
        }
        raise ValueError(
            f"the pattern carries no information on {', '.join(empty)} "
            f"({'; '.join(why[p] for p in empty)}): give a non-uniform steady pattern"
        )
    As = A / norms
    sv = np.linalg.svd(As, compute_uv=False)
    condition = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    if not condition < 1e10:
        raise ValueError(
            f"the pattern cannot separate the parameters (condition number {condition:.3g} of the "
            "scaled least-squares problem): some combination of Du, Dv, f, k leaves its residual unchanged"
        )
    G = As.T @ As
    if noise > 0:
        dG, de = _noise_correction(u, v, dx, stencil, noise)
        G = G - dG / np.outer(norms, norms)
        rhs = As.T @ b - de / norms
        if np.linalg.eigvalsh(G).min() <= 0:
            raise ValueError(
                f"noise={noise:g} is too large for this pattern: the corrected normal matrix is not "
                "positive definite (the noise would explain all the variance of the Laplacians)"
            )
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
        Du, Dv, f, k = theta
        ru_c, rv_c = v * v + f, 2 * u * v - f - k
        rss = rss - noise**2 * float(
            np.sum(
                Du**2 * s2n
                - 2 * Du * c0 * ru_c
                + ru_c**2
                + 4 * (u * v) ** 2
                + Dv**2 * s2n
                + 2 * Dv * c0 * rv_c
                + v**4
                + rv_c**2
            )
        )
    relative = math.sqrt(max(rss, 0.0)) / b_norm if b_norm > 0 else math.inf
    fit = ResidualFit(
        params={p: float(x) for p, x in zip(PARAMS, theta)},
        stderr={p: float(e) for p, e in zip(PARAMS, err)},
        cov=cov,
        residual_rms=float(np.sqrt(np.mean(r * r))),
        condition=condition,
        cells=len(b) // 2,
        stencil=stencil,
        dx=dx,
        noise=noise,
        relative_residual=relative,
        explained=bool(relative <= UNEXPLAINED_THRESHOLD),
    )
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
        The true parameters, keyed by :data:`PARAMS`, when the file has them (the keys Du, Dv, f
        and k, as written by ``gslib simulate --out``; older files name the feed rate F), else empty.

    Raises
    ------
    ValueError
        With a clear message for a file that is missing, unreadable or holds no valid pattern.
    """
    data = read_npz(
        path,
        ("u", "v", "dx"),
        ("Du", "Dv", "f", "F", "k"),
        arg="STEADY",
        needs="the file needs u and v, arrays of shape (N, M), and dx, the grid spacing",
    )
    u, v, dx = check_steady_pattern(data["u"], data["v"], data["dx"], source=str(path))
    truth = {}
    for name in PARAMS:
        for key in (name, _LEGACY_NAMES.get(name)):
            if key in data and np.asarray(data[key]).size == 1 and np.asarray(data[key]).dtype.kind in "fiu":
                truth[name] = float(np.asarray(data[key]).reshape(()))
                break
    return u, v, dx, (truth if len(truth) == 4 else {})


def recorded_stencil(path) -> str | None:
    """The stencil an .npz file says it was simulated with (its ``stencil`` entry), if it names one.

    Parameters
    ----------
    path : str or path-like
        The file (read by :func:`load_steady`).

    Returns
    -------
    str or None
        One of the analysis stencils, or ``None``.
    """
    with np.load(path, allow_pickle=False) as npz:
        if "stencil" in npz.files and npz["stencil"].dtype.kind == "U" and npz["stencil"].size == 1:
            name = str(npz["stencil"].reshape(()))
            return name if name in ANALYSIS_STENCILS else None
    return None
