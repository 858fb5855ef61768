"""Sparse model selection for linear force inference: PASTIS, AIC, BIC and the support search.

For a support ``B`` (a subset of the candidate features of one equation) the information is

    I(B) = M_B . G_BB^-1 M_B / (2 r),

the log-likelihood gain of the best force on ``B`` over a zero force (``r`` the variance inflation
of :mod:`~gslib.inference.estimator`, 1 for the plain estimator). Adding a feature never lowers
``I``; a feature with no effect raises it by ``chi^2_1 / 2`` on average 1/2. Criteria of the form
``I(B) - |B| c`` trade information for size (Gerardos & Ronceray 2025):

- ``"PASTIS"``: ``c = ln(n0 / p)``: a model with one spurious term more wins only if that term's
  ``chi^2_1 / 2`` exceeds ``ln(n0 / p)``, which for ``n0`` candidates happens with a
  probability of about ``p`` in all (``n0`` = the number of candidate terms; ``p``,
  default 0.001, the tolerated probability of any false term);
- ``"AIC"``: ``c = 1``;
- ``"BIC"``: ``c = ln(tau) / 2`` with ``tau`` the number of frame intervals.

Because every criterion is ``I - |B| c``, its optimum lies on the **Pareto front**: the best
information for each model size. For each equation the front is found by an exhaustive
depth-first search over all ``2^n`` supports (``n <= 24``; 131 072 supports for the 17-term Gray-Scott
library, a fraction of a second), which extends the Cholesky factor of ``G_BB`` by one row per
added feature, so each support costs ``O(|B|^2)``; larger libraries use a beam search with swaps.
The equations are independent (their noises are), so the front of the whole model combines the
equations' fronts, and ``n0`` counts the candidates of all equations (34 for two fields of 17):
the false-term probability ``p`` is meant for the whole model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency; the pure-Python path is a fallback
    njit = None

__all__ = [
    "CRITERIA",
    "Front",
    "Selection",
    "information",
    "pareto_front",
    "penalty",
    "select",
    "combine_fronts",
    "EXHAUSTIVE_MAX",
]

CRITERIA = ("PASTIS", "AIC", "BIC")
#: Largest library searched exhaustively by default.
EXHAUSTIVE_MAX = 20


def information(G, M, support, inflation: float = 1.0) -> float:
    """Information ``I(B) = M_B . G_BB^-1 M_B / (2 r)`` of a support.

    Parameters
    ----------
    G, M : numpy.ndarray
        Gram matrix ``(n, n)`` and moments ``(n,)`` of one equation.
    support : iterable of int
        Feature indices ``B``.
    inflation : float
        Variance inflation ``r``.

    Returns
    -------
    float
        ``I(B)`` (0 for the empty support).
    """
    idx = np.asarray(sorted(set(int(i) for i in support)), dtype=int)
    if len(idx) == 0:
        return 0.0
    Gb = G[np.ix_(idx, idx)]
    Mb = M[idx]
    return float(Mb @ np.linalg.solve(Gb, Mb) / (2 * inflation))


def penalty(criterion: str, n0: int, p: float = 0.001, tau: float | None = None) -> float:
    """Per-term penalty ``c`` of a criterion ``I - |B| c``.

    Parameters
    ----------
    criterion : {"PASTIS", "AIC", "BIC"}
        The criterion (case-insensitive).
    n0 : int
        Number of candidate terms, >= 1 (PASTIS).
    p : float
        Tolerated probability of any false term, in (0, 1) (PASTIS).
    tau : float, optional
        Number of frame intervals, > 1 (BIC).

    Returns
    -------
    float
        ``ln(n0 / p)`` (PASTIS), 1 (AIC) or ``ln(tau) / 2`` (BIC).

    Raises
    ------
    ValueError
        If the criterion is unknown or its argument is out of range.
    """
    crit = criterion.upper()
    if crit == "PASTIS":
        if not (0 < p < 1):
            raise ValueError(f"p={p!r} must lie in (0, 1)")
        if n0 < 1:
            raise ValueError(f"n0={n0!r} must be >= 1")
        return math.log(n0 / p)
    if crit == "AIC":
        return 1.0
    if crit == "BIC":
        if tau is None or tau <= 1:
            raise ValueError("BIC needs tau > 1 (the number of frame intervals)")
        return math.log(tau) / 2
    raise ValueError(f"criterion={criterion!r}; allowed: {', '.join(CRITERIA)}")


# ----------------------------------------------------------------------------- exhaustive search


def _exhaustive_impl(G, M, max_size):
    n = M.shape[0]
    best = np.full(n + 1, -np.inf)
    best_mask = np.zeros(n + 1, dtype=np.int64)
    best[0] = 0.0
    L = np.zeros((n, n))
    z = np.zeros(n)
    idx = np.zeros(n, dtype=np.int64)
    cum = np.zeros(n + 1)
    masks = np.zeros(n + 1, dtype=np.int64)
    nxt = np.zeros(n + 1, dtype=np.int64)
    depth = 0
    nxt[0] = 0
    while depth >= 0:
        j = nxt[depth]
        if j >= n or depth >= max_size:
            depth -= 1
            continue
        nxt[depth] = j + 1
        # new row of the Cholesky factor: solve L[:depth, :depth] l = G[idx, j]
        ll = 0.0
        lz = 0.0
        for r in range(depth):
            s = G[idx[r], j]
            for c in range(r):
                s -= L[r, c] * L[depth, c]
            val = s / L[r, r]
            L[depth, r] = val
            ll += val * val
            lz += val * z[r]
        d2 = G[j, j] - ll
        if d2 <= 1e-12 * G[j, j]:
            continue  # (numerically) in the span of the support: never better than without it
        d = math.sqrt(d2)
        L[depth, depth] = d
        zz = (M[j] - lz) / d
        z[depth] = zz
        idx[depth] = j
        cum[depth + 1] = cum[depth] + 0.5 * zz * zz
        masks[depth + 1] = masks[depth] | (np.int64(1) << np.int64(j))
        if cum[depth + 1] > best[depth + 1]:
            best[depth + 1] = cum[depth + 1]
            best_mask[depth + 1] = masks[depth + 1]
        depth += 1
        nxt[depth] = j + 1
    return best, best_mask


_exhaustive_jit = njit(cache=True, nogil=True)(_exhaustive_impl) if njit is not None else None


def _exhaustive(G, M, max_size):
    fn = _exhaustive_jit if _exhaustive_jit is not None else _exhaustive_impl
    return fn(np.ascontiguousarray(G, dtype=np.float64), np.ascontiguousarray(M, dtype=np.float64), int(max_size))


def _beam(G, M, max_size, width=32):
    n = len(M)
    best = np.full(n + 1, -np.inf)
    best_sets = [()] + [None] * n
    best[0] = 0.0
    beam = [()]
    cache = {}

    def info(s):
        if s not in cache:
            idx = list(s)
            try:
                cache[s] = 0.5 * float(M[idx] @ np.linalg.solve(G[np.ix_(idx, idx)], M[idx]))
            except np.linalg.LinAlgError:
                cache[s] = -np.inf
        return cache[s]

    for size in range(1, max_size + 1):
        cand = {tuple(sorted(s + (j,))) for s in beam for j in range(n) if j not in s}
        scored = sorted(cand, key=info, reverse=True)
        beam = scored[:width]
        if not beam:
            break
        # improve the best of this size by swaps
        current = beam[0]
        improved = True
        while improved:
            improved = False
            for out in current:
                for j in range(n):
                    if j in current:
                        continue
                    trial = tuple(sorted(set(current) - {out} | {j}))
                    if info(trial) > info(current) + 1e-12:
                        current, improved = trial, True
                        break
                if improved:
                    break
        if current not in beam:
            beam = [current] + beam[:-1]
        best[size] = info(current)
        best_sets[size] = current
    masks = np.zeros(n + 1, dtype=np.int64)
    for size, s in enumerate(best_sets):
        if s is not None:
            for j in s:
                masks[size] |= 1 << j
    return best, masks


@dataclass
class Front:
    """Pareto front of one equation: best information and support (feature indices) per size.

    Attributes
    ----------
    information : numpy.ndarray
        Best information per size 0..n (-inf where no support of that size was searched).
    supports : list
        Best support per size, a list of feature indices (None where not searched).
    labels : list of str
        Feature labels.
    search : {"exhaustive", "beam"}
        How the front was found.
    """

    information: np.ndarray
    supports: list
    labels: list
    search: str

    def support_labels(self, size: int) -> list:
        return [self.labels[i] for i in self.supports[size]] if self.supports[size] is not None else None


def pareto_front(
    G,
    M,
    labels=None,
    *,
    inflation: float = 1.0,
    max_size: int | None = None,
    search: str = "auto",
    beam_width: int = 32,
) -> Front:
    """Best information ``I`` and its support for every size 0..max_size.

    Parameters
    ----------
    G, M : array_like
        Gram matrix ``(n, n)`` (positive diagonal) and moments ``(n,)``, finite.
    labels : sequence of str, optional
        Feature labels (default: the indices).
    inflation : float
        Variance inflation ``r``; the informations are divided by it.
    max_size : int, optional
        Largest support size (default: all features).
    search : {"auto", "exhaustive", "beam"}
        Exhaustive depth-first search (at most 24 features), beam search with swaps, or
        ``"auto"``: exhaustive up to :data:`EXHAUSTIVE_MAX` features.
    beam_width : int
        Supports kept per size by the beam search.

    Returns
    -------
    Front
        The front of the equation.

    Raises
    ------
    ValueError
        If the shapes disagree, ``G`` or ``M`` is not finite, a diagonal entry is not positive,
        ``search`` is unknown, or an exhaustive search is asked for more than 24 features.
    """
    G = np.asarray(G, dtype=np.float64)
    M = np.asarray(M, dtype=np.float64)
    n = len(M)
    if G.shape != (n, n):
        raise ValueError(f"G must be ({n}, {n}); got {G.shape}")
    labels = list(labels) if labels is not None else [str(i) for i in range(n)]
    max_size = n if max_size is None else max(0, min(int(max_size), n))
    if search == "auto":
        search = "exhaustive" if n <= EXHAUSTIVE_MAX else "beam"
    if search == "exhaustive" and n > 24:
        raise ValueError(f"an exhaustive search over {n} features (2^{n} supports) is too long; use search='beam'")
    diag = np.diag(G)
    if np.any(diag <= 0) or not np.all(np.isfinite(G)) or not np.all(np.isfinite(M)):
        raise ValueError("G must have a positive diagonal and G, M must be finite (is a feature zero everywhere?)")
    s = 1.0 / np.sqrt(diag)
    Gs = G * s[:, None] * s[None, :]
    Ms = M * s
    if search == "exhaustive":
        best, masks = _exhaustive(Gs, Ms, max_size)
    elif search == "beam":
        best, masks = _beam(Gs, Ms, max_size, beam_width)
    else:
        raise ValueError(f"search={search!r}; allowed: 'auto', 'exhaustive', 'beam'")
    supports = []
    for size in range(n + 1):
        if size > max_size or not np.isfinite(best[size]):
            supports.append(None)
        else:
            supports.append([j for j in range(n) if (int(masks[size]) >> j) & 1])
    return Front(best / inflation, supports, labels, search)


def combine_fronts(fronts: dict) -> list:
    """Front of the whole model: for each total size, the best sum of the equations' informations.

    Parameters
    ----------
    fronts : dict
        ``{equation: Front}``.

    Returns
    -------
    list
        Indexed by total size: ``(information, {equation: size})``, or None if that size is
        impossible.
    """
    total = [(0.0, {})]
    for name, fr in fronts.items():
        new = [None] * (len(total) + len(fr.information) - 1)
        for K, entry in enumerate(total):
            if entry is None:
                continue
            for k, info in enumerate(fr.information):
                if not np.isfinite(info):
                    continue
                cand = entry[0] + float(info)
                if new[K + k] is None or cand > new[K + k][0]:
                    new[K + k] = (cand, {**entry[1], name: k})
        total = new
    return total


@dataclass
class Selection:
    """Outcome of :func:`select`.

    Attributes
    ----------
    criterion : str
        The criterion used (upper case).
    p : float
        Tolerated false-term probability (PASTIS).
    n0 : int
        Number of candidate terms.
    penalty : float
        Per-term penalty of the criterion.
    terms, stderr : dict
        ``{equation: {label: value}}`` of the selected model.
    information : float
        Its information I.
    score : float
        I - size * penalty.
    supports : dict
        ``{equation: [labels]}`` of the selected model.
    front : list
        Total front: list of dicts (size, information, and each criterion's score).
    fronts : dict
        Per-equation :class:`Front`.
    criteria : dict
        For each criterion, its penalty, size and supports.
    """

    criterion: str
    p: float
    n0: int
    penalty: float
    terms: dict
    stderr: dict
    information: float
    score: float
    supports: dict
    front: list
    fronts: dict = field(repr=False, default_factory=dict)
    criteria: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(t) for t in self.terms.values())


def select(
    inference,
    criterion: str = "PASTIS",
    p: float = 0.001,
    n0: int | None = None,
    search: str = "auto",
    max_size: int | None = None,
) -> Selection:
    """Select the support maximising ``I - |B| c`` (see the module docstring) for every equation.

    Parameters
    ----------
    inference : ForceInference
        The moments (:class:`~gslib.inference.estimator.ForceInference`).
    criterion : {"PASTIS", "AIC", "BIC"}
        Selection criterion (case-insensitive).
    p : float
        Tolerated probability of any false term (PASTIS), in (0, 1).
    n0 : int, optional
        Number of candidate terms; default: the total over all equations.
    search : {"auto", "exhaustive", "beam"}
        Support search (:func:`pareto_front`).
    max_size : int, optional
        Largest support per equation.

    Returns
    -------
    Selection
        The selected model, the fronts and every criterion's choice.

    Raises
    ------
    ValueError
        If the criterion is unknown, or a penalty's argument is out of range (:func:`penalty`).
    """
    crit = criterion.upper()
    if crit not in CRITERIA:
        raise ValueError(f"criterion={criterion!r}; allowed: {', '.join(CRITERIA)}")
    eqs = inference.equations
    if n0 is None:
        n0 = sum(len(eq.labels) for eq in eqs.values())
    tau = max(inference.n_frames - 1, 2)
    penalties = {c: penalty(c, n0, p, tau) for c in CRITERIA}
    c = penalties[crit]
    fronts = {
        name: pareto_front(eq.G, eq.M, eq.labels, inflation=eq.inflation, max_size=max_size, search=search)
        for name, eq in eqs.items()
    }
    total = combine_fronts(fronts)
    front = []
    for K, entry in enumerate(total):
        if entry is None:
            continue
        row = {"size": K, "information": entry[0], "sizes": entry[1]}
        for name_c, pen in penalties.items():
            row[name_c] = entry[0] - K * pen
        front.append(row)
    choice = {}
    for name_c in penalties:
        choice[name_c] = max(front, key=lambda r, c=name_c: r[c])
    chosen = choice[crit]
    terms, stderr, supports = {}, {}, {}
    for name, eq in eqs.items():
        idx = fronts[name].supports[chosen["sizes"][name]]
        labels = [eq.labels[i] for i in idx]
        fit = eq.fit(labels)
        terms[name] = fit["coefficients"]
        stderr[name] = fit["stderr"]
        supports[name] = labels
    criteria = {
        name_c: {
            "penalty": penalties[name_c],
            "size": row["size"],
            "supports": {n: fronts[n].support_labels(row["sizes"][n]) for n in eqs},
        }
        for name_c, row in choice.items()
    }
    return Selection(
        crit, p, n0, c, terms, stderr, chosen["information"], chosen[crit], supports, front, fronts, criteria
    )
