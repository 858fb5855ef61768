"""Force inference from frames that carry a measurement noise (errors in variables).

A camera records ``y_t = x_t + eta_t``: the true fields plus a white Gaussian measurement noise,
independent between cells, frames and fields, of variance ``s_e^2`` for field ``e``. The features
of the estimator are then evaluated on noisy values, and the noise does not average out:

- a nonlinear feature is biased, ``E[(x + eta)^2] = x^2 + s^2``, ``E[u v^2] = x_u x_v^2 + s_v^2 x_u``;
- the Gram matrix picks up the covariance of the features' noise, ``E[b_a W b_b] = b_a(x) W b_b(x) +
  sum_ij W_ij Cov(b_a,i, b_b,j)``. For derivative features it is large: the noise of ``lap U``
  (5-point) has variance ``20 s^2 / dx^4``, that of ``lap^2 U`` ``676 s^2 / dx^8``;
- the moments pick up the correlation of the increment's noise ``eta_{t+1} - eta_t`` with the
  features at both ends.

All three are removed in closed form. A feature is a polynomial in *factors* ``L y_s`` (a linear
stencil ``L`` applied to a field), Gaussian with known covariances

    Cov((L_p eta)_i, (L_q eta)_{i+d}) = s^2 kappa_pq(d),   kappa_pq(d) = sum_n l_p(n) l_q(n + d),

(``l`` the stencil's response to a unit impulse). The **Wick-ordered** feature ``:b:`` (the Hermite
polynomial of the factors: every partial pairing of its factors within a cell, each pair replaced by
minus its covariance) has ``E[:b(y):] = b(x)`` exactly: ``:U^2: = U^2 - s^2``,
``:U V^2: = U V^2 - s_v^2 U``, ``:grad U.grad U: = |grad U|^2 - s^2 kappa_xx(0) - s^2 kappa_yy(0)``.
For the product of two features at cells ``i`` and ``j`` the same identity reads

    b_a(x)_i b_b(x)_j  ~  sum_mu (-1)^|mu| prod_(p, q) in mu s^2 kappa_pq(j - i)  :a \\ mu:_i :b \\ mu:_j,

summed over the partial matchings ``mu`` of the factors of ``a`` with those of ``b`` (``mu`` empty:
the product of the Wick-ordered features); its expectation over the noise is exactly the clean
product. :func:`contraction_plan` lists these terms for a library, and the estimator adds them, frame
by frame and weighted by ``W_ij``, to the Gram matrix (pairs of features) and to the moments (pairs
of the observed field itself with a feature). The corrected ``G`` and ``M`` are unbiased for those
of the clean fields, so the coefficients, the information and the selection are those of clean data,
with a larger variance: the measurement noise of the increments is added to the covariance ``H``
of the moments, and with it to the standard errors and to the variance inflation that divides the
information (:mod:`~gslib.inference.estimator`).

**The noise level is estimated from the data.** :func:`~gslib.inference.noise.estimate_noise`
fits, for rings of fast Fourier modes, the power of the increments at lags 1-3 with a relaxation
plus a constant ``2 s_m^2`` (a white measurement noise adds ``2 s^2`` to the increments of every
mode at every lag, the dynamics' part grows with the lag). :func:`measurement_variances` takes the
median over the rings, and sets it to zero where it is not significant (smaller than
``threshold`` times its standard error over the rings, by default 2): clean data are left as
they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_real
from .features import Expr, Library, _apply_primitive

__all__ = [
    "MeasurementNoise",
    "measurement_variances",
    "factor_covariance",
    "wick_order",
    "wick_library",
    "contraction_plan",
    "ContractionPlan",
    "resolve_measurement_noise",
    "MEASUREMENT_NOISE_OPTIONS",
]

#: String values of ``measurement_noise`` (besides a number or a dict of numbers).
MEASUREMENT_NOISE_OPTIONS = ("auto", "none")


@dataclass
class MeasurementNoise:
    """Variances of a white measurement noise per field, and where they come from.

    Attributes
    ----------
    variances : dict
        ``{field: s^2}`` used for the correction (0: no correction of that field).
    source : {"estimated", "given", "none"}
        ``"estimated"`` from the data (:func:`measurement_variances`), ``"given"`` by the user.
    estimates : dict
        ``{field: (median, standard error)}`` of the rings' estimates (estimated only).
    """

    variances: dict
    source: str
    estimates: dict = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """True if some field is corrected."""
        return any(v > 0 for v in self.variances.values())

    def std(self) -> dict:
        """``{field: s}``."""
        return {n: math.sqrt(max(v, 0.0)) for n, v in self.variances.items()}

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        out = {"source": self.source, "std": self.std()}
        if self.estimates:
            out["estimate"] = {n: {"variance": m, "stderr": s} for n, (m, s) in self.estimates.items()}
        return out


def measurement_variances(noise_model, names, threshold: float = 2.0) -> MeasurementNoise:
    """Measurement-noise variances per field from the rings of a fitted noise model.

    Parameters
    ----------
    noise_model : NoiseModel
        From :func:`~gslib.inference.noise.estimate_noise` (its ``details[field]["ring_sm"]``).
    names : sequence of str
        The fields.
    threshold : float
        An estimate counts only if it exceeds ``threshold`` times its standard error over the
        rings (default 2); below, the field's variance is 0 (no correction: a noise that small
        barely biases the estimator).

    Returns
    -------
    MeasurementNoise
        ``source="estimated"``.
    """
    threshold = float(threshold)
    variances, estimates = {}, {}
    for name in names:
        rings = np.asarray(noise_model.details.get(name, {}).get("ring_sm", []), dtype=float)
        if rings.size < 2:
            variances[name] = 0.0
            estimates[name] = (0.0, math.inf)
            continue
        med = float(np.median(rings))
        # standard error of a median: 1.2533 sigma / sqrt(n) for a normal spread
        se = float(1.2533 * rings.std(ddof=1) / math.sqrt(rings.size))
        estimates[name] = (med, se)
        variances[name] = med if med > threshold * se else 0.0
    return MeasurementNoise(variances, "estimated", estimates)


def resolve_measurement_noise(value, noise_model, names) -> MeasurementNoise:
    """The :class:`MeasurementNoise` of an ``infer_force(measurement_noise=...)`` argument.

    Parameters
    ----------
    value : "auto", "none", None, float or dict
        ``"auto"``: estimated (:func:`measurement_variances`); ``"none"``/None/0: no correction;
        a number >= 0: the standard deviation for every field; a dict: ``{field: std}``.
    noise_model : NoiseModel or None
        The fitted noise model (needed for ``"auto"``).
    names : sequence of str
        The fields.

    Returns
    -------
    MeasurementNoise

    Raises
    ------
    ValueError
        On an unknown string, a negative or non-finite standard deviation, or a dict missing a field.
    """
    names = list(names)
    if value is None or (isinstance(value, str) and value == "none"):
        return MeasurementNoise({n: 0.0 for n in names}, "none")
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(
                f"measurement_noise={value!r}; allowed: 'auto', 'none', a standard deviation >= 0 "
                "or a dict {field: standard deviation}"
            )
        if noise_model is None or not all(
            n in noise_model.details and "ring_sm" in noise_model.details[n] for n in names
        ):
            raise ValueError(
                "measurement_noise='auto' needs a fitted noise model (noise='auto', 'conserved' or "
                "'white'); with a NoiseModel given, give the measurement noise too"
            )
        return measurement_variances(noise_model, names)

    def _std(key, s):
        return check_real(f"measurement_noise{key}", s, minimum=0.0) ** 2

    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError(f"measurement_noise has no entry for {missing}")
        return MeasurementNoise({n: _std(f"[{n!r}]", value[n]) for n in names}, "given")
    return MeasurementNoise({n: _std("", value) for n in names}, "given" if value else "none")


# ----------------------------------------------------------------------------- covariances


def _impulse_response(ops, shape, dx, stencil) -> np.ndarray:
    """A chain of operators applied to a unit impulse at the origin of a periodic grid."""
    img = np.zeros(shape)
    img[0, 0] = 1.0
    for name in reversed(ops):
        img = _apply_primitive(name, img, dx, stencil)
    return img


def factor_covariance(ops_p, ops_q, shape, dx: float = 1.0, stencil: str = "9pt") -> np.ndarray:
    """``kappa_pq(d) = Cov((L_p eta)_i, (L_q eta)_{i+d})`` for a white noise ``eta`` of unit variance.

    Parameters
    ----------
    ops_p, ops_q : tuple of str
        Operator chains of the two factors (``()`` for the field itself, ``("lap",)``, ...).
    shape : tuple of int
        The periodic grid ``(N, M)``.
    dx : float
        Grid spacing.
    stencil : str
        Discrete Laplacian (as in the features).

    Returns
    -------
    numpy.ndarray
        ``(N, M)``, indexed by the offset ``d`` (periodic, origin at [0, 0]).
    """
    a = _impulse_response(ops_p, shape, dx, stencil)
    b = _impulse_response(ops_q, shape, dx, stencil)
    return np.real(np.fft.ifft2(np.conj(np.fft.fft2(a)) * np.fft.fft2(b)))


class _Covariances:
    """Cached ``s^2 kappa_pq`` per pair of factors, and their values at the origin."""

    def __init__(self, variances: dict, shape, dx, stencil):
        self.var = {n.upper(): float(v) for n, v in variances.items()}
        self.shape, self.dx, self.stencil = tuple(shape), dx, stencil
        self._cache: dict = {}

    def variance(self, symbol: str) -> float:
        return self.var.get(symbol.upper(), 0.0)

    def kernel(self, fp, fq) -> np.ndarray | None:
        """``Cov`` of factor ``fp`` at ``i`` and ``fq`` at ``i + d``, or None if independent."""
        (ops_p, sp), (ops_q, sq) = fp, fq
        if sp.upper() != sq.upper():
            return None
        s2 = self.variance(sp)
        if s2 == 0.0:
            return None
        key = (ops_p, ops_q, sp.upper())
        if key not in self._cache:
            self._cache[key] = s2 * factor_covariance(ops_p, ops_q, self.shape, self.dx, self.stencil)
        return self._cache[key]

    def at_origin(self, fp, fq) -> float:
        k = self.kernel(fp, fq)
        return 0.0 if k is None else float(k[0, 0])


def _pairings(items):
    """Every partial pairing of a list (as a list of pairs of positions) with the unpaired positions."""
    items = list(items)
    if not items:
        yield [], []
        return
    first, rest = items[0], items[1:]
    for pairs, single in _pairings(rest):  # first stays unpaired
        yield pairs, [first] + single
    for j, other in enumerate(rest):  # first paired with other
        remaining = rest[:j] + rest[j + 1 :]
        for pairs, single in _pairings(remaining):
            yield [(first, other)] + pairs, single


def _wick_terms(coef: float, factors: tuple, cov: _Covariances) -> list:
    """Terms ``(coef, factors)`` of the Wick-ordered monomial (pairings within one cell)."""
    out = []
    for pairs, single in _pairings(range(len(factors))):
        c = coef
        for p, q in pairs:
            c *= -cov.at_origin(factors[p], factors[q])
            if c == 0.0:
                break
        if c != 0.0:
            out.append((c, tuple(factors[i] for i in single)))
    return out


def wick_order(expr: Expr, variances: dict, shape, dx: float = 1.0, stencil: str = "9pt") -> Expr:
    """The Wick-ordered feature ``:b:``, unbiased for ``b`` of the clean fields, with the same label.

    Parameters
    ----------
    expr : Expr
        A feature.
    variances : dict
        ``{field: s^2}`` of the measurement noise (missing fields: 0).
    shape : tuple of int
        The grid ``(N, M)``.
    dx : float
        Grid spacing.
    stencil : str
        Discrete Laplacian.

    Returns
    -------
    Expr
        ``:expr:`` (``expr`` itself where no factor is noisy): ``E[:b(x + eta):] = b(x)``.
    """
    cov = _Covariances(variances, shape, dx, stencil)
    return _wick_expr(expr, cov)


def _wick_expr(expr: Expr, cov: _Covariances) -> Expr:
    terms = []
    for c, factors in expr.terms:
        terms.extend(_wick_terms(c, factors, cov))
    return Expr._make(terms, expr.label)


def wick_library(library: Library, variances: dict, shape, dx: float = 1.0, stencil: str = "9pt") -> Library:
    """:func:`wick_order` applied to every feature of a library (labels kept).

    Parameters
    ----------
    library : Library
        The candidate features.
    variances : dict
        ``{field: s^2}``.
    shape : tuple of int
        The grid ``(N, M)``.
    dx : float
        Grid spacing.
    stencil : str
        Discrete Laplacian.

    Returns
    -------
    Library
        The Wick-ordered features.
    """
    cov = _Covariances(variances, shape, dx, stencil)
    return Library([_wick_expr(f, cov) for f in library])


# ----------------------------------------------------------------------------- contraction plan


def _matchings(fa, fb, cov):
    """Partial matchings (size >= 1) of the factors of two monomials: (pairs, rest_a, rest_b)."""

    def rec(i, used, pairs):
        if i == len(fa):
            if pairs:
                yield (
                    list(pairs),
                    [fa[j] for j in range(len(fa)) if j not in {p for p, _ in pairs}],
                    [fb[j] for j in range(len(fb)) if j not in used],
                )
            return
        yield from rec(i + 1, used, pairs)
        for j in range(len(fb)):
            if j in used or cov.kernel(fa[i], fb[j]) is None:
                continue
            yield from rec(i + 1, used | {j}, pairs + [(i, j)])

    yield from rec(0, frozenset(), [])


@dataclass
class ContractionPlan:
    """The correction terms of the Gram matrix and the moments of one equation.

    For every pair of Wick-ordered remainders ``(r, s)`` (indices into ``remainders``), ``gram``
    holds ``(a, b, kernel_hat)`` and ``moment`` holds ``(b, kernel_hat)``: the correction of
    ``G_ab`` in one frame is ``sum_q Re(r_hat conj(s_hat) kernel_hat) / (N M)`` summed over its entries
    (the kernel includes the weight ``W``, the covariances and the signs); the moments' use the
    observed field itself on the left (remainder of the field after its contraction: ``1``).

    Attributes
    ----------
    remainders : list of Expr
        Wick-ordered remainder monomials, evaluated on the noisy frames.
    gram : dict
        ``{(r, s): [(a, b, kernel_hat (N, M // 2 + 1))]}``.
    moment : dict
        ``{(r, s): [(b, kernel_hat)]}``.
    n_features : int
        Library size.
    """

    remainders: list
    gram: dict
    moment: dict
    n_features: int

    def corrections(self, data: dict, dx: float, stencil: str, valid=None):
        """Per-frame corrections of the Gram matrix and of the moments.

        Parameters
        ----------
        data : dict
            ``{field: frames (n, N, M)}``, the noisy frames.
        dx : float
            Grid spacing.
        stencil : str
            Discrete Laplacian.
        valid : bool array (n, N, M), optional
            Cells that count (the remainders are set to 0 elsewhere).

        Returns
        -------
        DG : numpy.ndarray
            ``(n, F, F)``, to add to each frame's Gram matrix of the Wick-ordered features.
        DM : numpy.ndarray
            ``(n, F)``, to add to ``y_t . W :b(y_t):`` of each frame.
        """
        F = self.n_features
        first = next(iter(data.values()))
        n, N, M = first.shape
        DG = np.zeros((n, F, F))
        DM = np.zeros((n, F))
        if not self.gram and not self.moment:
            return DG, DM
        cache: dict = {}
        hats = []
        for r in self.remainders:
            val = r.evaluate(data, dx, stencil, cache)
            if valid is not None:
                val = val * valid
            hats.append(np.fft.rfft2(val).reshape(n, -1))
        half = M // 2 + 1
        wq = np.full(half, 2.0)
        wq[0] = 1.0
        if M % 2 == 0:
            wq[-1] = 1.0
        wq = np.broadcast_to(wq, (N, half)).ravel() / (N * M)
        for target, plan in ((DG, self.gram), (DM, self.moment)):
            for (r, s), entries in plan.items():
                P = hats[r] * np.conj(hats[s])  # (n, Q)
                K = np.stack([e[-1].ravel() for e in entries]) * wq  # (E, Q)
                vals = P.real @ K.real.T - P.imag @ K.imag.T  # (n, E)
                for col, e in enumerate(entries):
                    if target is DG:
                        target[:, e[0], e[1]] += vals[:, col]
                    else:
                        target[:, e[0]] += vals[:, col]
        upper = np.triu(np.ones((F, F), dtype=bool), 1)
        DG = DG + np.transpose(DG, (0, 2, 1)) * upper.T
        return DG, DM


def contraction_plan(
    library: Library, field_name: str, variances: dict, weight_kernel: np.ndarray, dx: float = 1.0, stencil: str = "9pt"
) -> ContractionPlan:
    """The errors-in-variables corrections of one equation's Gram matrix and moments.

    Parameters
    ----------
    library : Library
        The (original, not Wick-ordered) features.
    field_name : str
        The equation's field (its increments multiply the features in the moments).
    variances : dict
        ``{field: s^2}`` of the measurement noise.
    weight_kernel : numpy.ndarray
        ``W`` in real space, ``(N, M)``, origin at [0, 0] (even).
    dx : float
        Grid spacing.
    stencil : str
        Discrete Laplacian.

    Returns
    -------
    ContractionPlan
        Add ``DG`` to the Gram matrix of the Wick-ordered features in every frame; in the moments,
        ``y_t . W :b(y_t):`` is unbiased once ``DM`` of that frame is added.
    """
    shape = weight_kernel.shape
    cov = _Covariances(variances, shape, dx, stencil)
    rem_index: dict = {}
    remainders: list = []

    def rem(factors):
        key = tuple(sorted(factors, key=lambda f: (f[1].upper(), f[0])))
        if key not in rem_index:
            rem_index[key] = len(remainders)
            remainders.append(_wick_expr(Expr._make([(1.0, key)]), cov))
        return rem_index[key]

    def add(plan, key, entry_head, kernel_real):
        hat = np.fft.rfft2(kernel_real)
        entries = plan.setdefault(key, [])
        for i, e in enumerate(entries):
            if e[:-1] == entry_head:
                entries[i] = entry_head + (e[-1] + hat,)
                return
        entries.append(entry_head + (hat,))

    def pair_terms(terms_a, terms_b):
        """(remainder a, remainder b, real-space kernel) over all matchings of two features."""
        acc: dict = {}
        for ca, fa in terms_a:
            for cb, fb in terms_b:
                for pairs, ra, rb in _matchings(fa, fb, cov):
                    k = ((-1.0) ** len(pairs)) * ca * cb * weight_kernel
                    for p, q in pairs:
                        k = k * cov.kernel(fa[p], fb[q])
                    key = (rem(ra), rem(rb))
                    acc[key] = acc[key] + k if key in acc else k
        return acc

    gram: dict = {}
    moment: dict = {}
    feats = list(library)
    for a, fa in enumerate(feats):
        for b, fb in enumerate(feats):
            if b < a:
                continue
            for key, k in pair_terms(fa.terms, fb.terms).items():
                if not np.any(k):
                    continue
                add(gram, key, (a, b), k)  # b >= a; G is symmetric (corrections() mirrors it)
    ident = ((1.0, (((), field_name),)),)
    for b, fb in enumerate(feats):
        for key, k in pair_terms(ident, fb.terms).items():
            if np.any(k):
                add(moment, key, (b,), k)
    return ContractionPlan(remainders, gram, moment, len(feats))
