"""How force inference copes with measurement noise: the study of chapter 4, as one function.

:func:`measurement_noise_study` simulates the SFI example (:func:`gslib.spde.sfi_example`) in each
regime and for each seed, adds a white measurement noise of each level
(:func:`~gslib.inference.degrade.add_measurement_noise`), and infers the model twice: without the
errors-in-variables correction (``measurement_noise="none"``) and with the default of
:func:`~gslib.inference.infer` (``"auto"``: the noise level estimated from the data and removed).
It records, per regime, level and estimator, how often the selection is exactly the true support
and the worst relative error of a true coefficient (a true term that is missing counts 100 %).
The sizes (grid, frames, seeds) are arguments, so the same study runs small in a test and at the SFI
example's size for the book.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .. import spde
from .._validate import check_int, check_real
from . import infer, relative_errors
from .degrade import add_measurement_noise

__all__ = ["NoiseStudy", "measurement_noise_study", "LEVELS"]

#: Default measurement-noise levels (standard deviations).
LEVELS = (0.0, 0.002, 0.005, 0.01, 0.02)


@dataclass
class NoiseStudy:
    """Outcome of :func:`measurement_noise_study`.

    Attributes
    ----------
    runs : list of dict
        One entry per (regime, seed, level, estimator): ``regime``, ``seed``, ``level``,
        ``corrected`` (bool), ``n_terms``, ``terms`` (the selected model), ``exact`` (bool),
        ``spurious`` (labels per field), ``inflation`` (the largest variance inflation, which
        divides the information),
        ``missing`` (true labels not selected), ``worst_error``, ``estimated_std`` (per field, from
        the corrected run), ``seconds``.
    regimes, levels, seeds : list
        The grid of the study.
    setup : dict
        Grid side, frames, burn-in, stencil, noise seed offset and total seconds.
    """

    runs: list
    regimes: list
    levels: list
    seeds: list
    setup: dict = field(default_factory=dict)

    def _select(self, regime=None, level=None, corrected=None):
        return [
            r
            for r in self.runs
            if (regime is None or r["regime"] == regime)
            and (level is None or r["level"] == level)
            and (corrected is None or r["corrected"] == corrected)
        ]

    def exact_rate(self, level, corrected: bool, regime=None) -> float:
        """Fraction of the runs at ``level`` whose selection is exactly the true support.

        Parameters
        ----------
        level : float
            A measurement-noise level of the study.
        corrected : bool
            With (True) or without the errors-in-variables correction.
        regime : str, optional
            One regime (default: all).

        Returns
        -------
        float
            In [0, 1]; NaN if no run matches.
        """
        runs = self._select(regime, level, corrected)
        return float(np.mean([r["exact"] for r in runs])) if runs else math.nan

    def worst_error(self, level, corrected: bool, regime=None) -> float:
        """Largest relative error of a true coefficient over the runs at ``level`` (missing term: 1).

        Parameters
        ----------
        level : float
            A measurement-noise level of the study.
        corrected : bool
            With (True) or without the errors-in-variables correction.
        regime : str, optional
            One regime (default: all).

        Returns
        -------
        float
            The largest ``|inferred - true| / |true|``; NaN if no run matches.
        """
        runs = self._select(regime, level, corrected)
        return float(max(r["worst_error"] for r in runs)) if runs else math.nan

    def breakdown(self, corrected: bool, regime=None):
        """Smallest level at which some run's selection is not exact.

        Parameters
        ----------
        corrected : bool
            With (True) or without the errors-in-variables correction.
        regime : str, optional
            One regime (default: all).

        Returns
        -------
        float or None
            The level, or None if every level is exact.
        """
        for level in sorted(self.levels):
            if self.exact_rate(level, corrected, regime) < 1.0:
                return level
        return None

    def table(self):
        """Per regime and level: exact-support rate and worst error, before and after the correction.

        Returns
        -------
        header : list of str
            Column titles.
        rows : list of list
            One row per regime and level, for :func:`gslib.plotting.show_table`.
        """
        header = [
            "regime",
            "noise std",
            "exact support (uncorrected)",
            "worst error (uncorrected)",
            "exact support (corrected)",
            "worst error (corrected)",
            "estimated std",
        ]
        rows = []
        for regime in self.regimes:
            for level in self.levels:
                est = [max(r["estimated_std"].values()) for r in self._select(regime, level, True)]
                n = len(self._select(regime, level, True))
                rows.append(
                    [
                        regime,
                        f"{level:g}",
                        f"{round(self.exact_rate(level, False, regime) * n)}/{n}",
                        f"{100 * self.worst_error(level, False, regime):.1f} %",
                        f"{round(self.exact_rate(level, True, regime) * n)}/{n}",
                        f"{100 * self.worst_error(level, True, regime):.1f} %",
                        f"{np.mean(est):.4f}" if est else "",
                    ]
                )
        return header, rows


def _seq(name, value, kind):
    items = [value] if isinstance(value, (str, numbers.Number)) else list(value)
    if not items:
        raise ValueError(f"{name} must not be empty")
    for i, x in enumerate(items):
        if kind == "level":
            check_real(f"{name}[{i}]", x, minimum=0.0)
        if kind == "seed":
            check_int(f"{name}[{i}]", x, 0)
    return items


def measurement_noise_study(
    regimes=("spots", "coral", "holes"),
    levels=LEVELS,
    seeds=(1, 2, 3),
    *,
    n: int = 64,
    frames: int = 500,
    burn_in: int = 200,
    stencil: str = "5pt",
    noise_seed: int = 100,
    infer_options: dict | None = None,
    progress=None,
) -> NoiseStudy:
    """Exact-support rate and worst coefficient error against the measurement-noise level.

    For every regime and seed, one run of the SFI example (:func:`gslib.spde.sfi_example` with
    ``n``, ``frames``, ``burn_in`` and ``stencil``); for every level, the noise of
    :func:`~gslib.inference.degrade.add_measurement_noise` (seed ``noise_seed + seed``) and two
    inferences (:func:`~gslib.inference.infer`): ``measurement_noise="none"`` and ``"auto"``.

    Parameters
    ----------
    regimes : sequence of str
        Keys of :data:`gslib.spde.REGIMES`.
    levels : sequence of float
        Measurement-noise standard deviations, >= 0.
    seeds : sequence of int
        Seeds of the simulations (>= 0).
    n, frames, burn_in : int
        Grid side (>= 8), recorded frames (>= 10) and burn-in frame intervals (>= 0).
    stencil : str
        Laplacian of the simulation, also given to :func:`~gslib.inference.infer` (unless
        ``infer_options`` sets another).
    noise_seed : int
        Offset of the measurement-noise seeds.
    infer_options : dict, optional
        Further arguments of :func:`~gslib.inference.infer` (not ``measurement_noise``).
    progress : callable, optional
        Called with a short line after each run.

    Returns
    -------
    NoiseStudy
        The runs and their summaries (:meth:`NoiseStudy.table`).

    Raises
    ------
    ValueError
        On an unknown regime, a negative level or seed, or sizes out of range (the message names the
        argument).
    """
    regimes = _seq("regimes", regimes, "regime")
    for r in regimes:
        if r not in spde.REGIMES:
            raise ValueError(f"regimes: {r!r} is not one of {', '.join(map(repr, spde.REGIMES))}")
    levels = [float(x) for x in _seq("levels", levels, "level")]
    seeds = [int(x) for x in _seq("seeds", seeds, "seed")]
    for name, value, low in (
        ("n", n, 8),
        ("frames", frames, 10),
        ("burn_in", burn_in, 0),
        ("noise_seed", noise_seed, 0),
    ):
        check_int(name, value, low)
    options = {"stencil": stencil, **(infer_options or {})}
    if "measurement_noise" in options:
        raise ValueError("infer_options must not set measurement_noise: the study runs both 'none' and 'auto'")
    t0 = time.perf_counter()
    runs = []
    for regime in regimes:
        f, k = spde.REGIMES[regime]
        truth = spde.true_coefficients(f, k=k)
        for seed in seeds:
            sim = spde.sfi_example(regime, seed=seed, n=n, frames=frames, burn_in=burn_in, stencil=stencil)
            for level in levels:
                u, v = add_measurement_noise(sim.u, sim.v, std=level, seed=noise_seed + seed)
                estimate = None
                for corrected in (False, True):
                    t1 = time.perf_counter()
                    res = infer({"u": u, "v": v}, sim.dt, measurement_noise="auto" if corrected else "none", **options)
                    err = relative_errors(res.terms, truth)
                    missing = [lab for name in truth for lab in truth[name] if lab not in res.terms.get(name, {})]
                    spurious = err["spurious"]
                    exact = not missing and not any(spurious.values())
                    worst = max(abs(e) for name in truth for e in err[name].values())
                    if corrected:
                        estimate = res.inference.measurement.std()
                    runs.append(
                        {
                            "regime": regime,
                            "seed": seed,
                            "level": level,
                            "corrected": corrected,
                            "n_terms": res.selection.size,
                            "exact": bool(exact),
                            "spurious": spurious,
                            "terms": res.terms,
                            "inflation": max(eq.inflation for eq in res.inference.equations.values()),
                            "missing": missing,
                            "worst_error": float(worst),
                            "estimated_std": estimate or {},
                            "seconds": time.perf_counter() - t1,
                        }
                    )
                    if progress is not None:
                        progress(
                            f"{regime} seed {seed} std {level:g} {'corrected' if corrected else 'plain'}: "
                            f"{res.selection.size} terms, worst error {100 * worst:.1f} %"
                        )
    setup = {
        "n": int(n),
        "frames": int(frames),
        "burn_in": int(burn_in),
        "stencil": stencil,
        "noise_seed": int(noise_seed),
        "seconds": time.perf_counter() - t0,
    }
    return NoiseStudy(runs, regimes, levels, seeds, setup)
