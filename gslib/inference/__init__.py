"""Discovering stochastic field equations from data: features, force inference, sparse selection.

Three small pieces, usable on their own:

- :mod:`~gslib.inference.features`: composable candidate terms (``lap(U)``, ``U * V**2``,
  ``dot(grad(U), grad(V))``...) with automatic labels, and the 17-term library of the
  StochasticForceInference Gray-Scott example;
- :mod:`~gslib.inference.estimator`: linear force inference (Gram matrix, moments, standard
  errors, information), with the O(dt) bias of frames far apart removed (trapezoidal estimator +
  Richardson extrapolation over lags), and missing pixels; :mod:`~gslib.inference.noise` estimates
  the noise covariance it needs, :mod:`~gslib.inference.frames` checks the data;
- :mod:`~gslib.inference.selection`: PASTIS, AIC, BIC over an exhaustive search of the supports;
- :mod:`~gslib.inference.degrade`: degraded data for robustness tests: missing pixels
  (``random_mask``), measurement noise (``add_measurement_noise``), block-averaged coarser
  grids (``coarsen``).

:func:`infer` chains them::

    from gslib import spde
    from gslib.inference import infer
    run = spde.sfi_example("coral", seed=1)
    result = infer({"u": run.u, "v": run.v}, dt=run.dt)
    result.terms["u"]      # {'1': 0.042..., 'U': -0.042..., 'UV^2': -1.00..., 'lap U': 0.160...}
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field as _dc_field

import numpy as np

from ..spde import simulate_force
from . import degrade, estimator, features, frames, noise, selection
from .degrade import add_measurement_noise, coarsen, random_mask
from .estimator import ForceInference, infer_force
from .features import (
    STENCILS,
    Library,
    biharmonic,
    d_x,
    d_y,
    dot,
    field,
    grad,
    gray_scott_library,
    lap,
    one,
    polynomials,
)
from .frames import check_data, load_frames, richardson_weights
from .noise import NoiseModel, diffusion_estimates, estimate_noise
from .selection import Selection, pareto_front, select

__all__ = [
    "InferenceResult",
    "infer",
    "infer_force",
    "select",
    "pareto_front",
    "estimate_noise",
    "diffusion_estimates",
    "richardson_weights",
    "NoiseModel",
    "ForceInference",
    "Selection",
    "Library",
    "gray_scott_library",
    "polynomials",
    "lap",
    "biharmonic",
    "grad",
    "dot",
    "d_x",
    "d_y",
    "one",
    "field",
    "features",
    "estimator",
    "frames",
    "noise",
    "selection",
    "relative_errors",
    "model_force",
    "bootstrap",
    "check_data",
    "load_frames",
    "degrade",
    "random_mask",
    "add_measurement_noise",
    "coarsen",
    "decision_threshold",
    "STENCILS",
]


@dataclass
class InferenceResult:
    """Selected model and everything behind it (:func:`infer`).

    Attributes
    ----------
    terms, stderr : dict
        ``{field: {label: value}}``: coefficients and standard errors of the selected terms.
    selection : Selection
        The selection (Pareto front, other criteria).
    inference : ForceInference
        The moments.
    diffusion : dict
        Per field, the fitted noise ``D_eff``, its white and conserved parts.
    seconds : float
        Wall time of :func:`infer`.
    options : dict
        Extra entries of the JSON record (:meth:`to_dict`).
    discretisation : dict
        How the stencil of the features was chosen (:func:`infer` with ``stencil="auto"``):
        ``chosen``, ``candidates`` (per stencil: the selected model's ``score``, ``information``,
        ``n_terms`` and ``supports``, the informations with a variance inflation common to all
        candidates), ``margin`` (score of the winner minus the runner-up, in units of
        log-likelihood), ``threshold`` and ``decided`` (``margin >= threshold``), and ``message``.
        For an explicit stencil, only ``chosen`` and ``message``.
    """

    terms: dict
    stderr: dict
    selection: Selection
    inference: ForceInference
    diffusion: dict
    seconds: float
    options: dict = _dc_field(default_factory=dict)
    discretisation: dict = _dc_field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON record of ``gslib infer``."""
        inf, sel = self.inference, self.selection
        return {
            "terms": self.terms,
            "stderr": self.stderr,
            "diffusion": self.diffusion,
            "criterion": sel.criterion,
            "p": sel.p,
            "n0": sel.n0,
            "penalty": sel.penalty,
            "information": sel.information,
            "score": sel.score,
            "n_terms": sel.size,
            "other_criteria": {c: {"size": v["size"], "terms": v["supports"]} for c, v in sel.criteria.items()},
            "front": [{"size": r["size"], "information": r["information"]} for r in sel.front],
            "n_frames": inf.n_frames,
            "grid": list(inf.shape),
            "dt": inf.dt,
            "dx": inf.dx,
            "method": inf.method,
            "lags": inf.lags,
            "weight": inf.weight,
            "stencil": inf.stencil,
            "valid_fraction": inf.valid_fraction,
            "inflation": {n: eq.inflation for n, eq in inf.equations.items()},
            "library": inf.library_labels,
            "seconds": self.seconds,
            "discretisation": self.discretisation,
            "measurement_noise": inf.measurement.as_dict() if inf.measurement is not None else None,
            **self.options,
        }


def decision_threshold(p: float) -> float:
    """Score margin below which :func:`infer` calls the choice of stencil too close to tell.

    The score of a model is a log-likelihood (information) minus its penalty, so a margin ``m``
    means that the data are ``exp(m)`` times more likely under the winner. The threshold is
    ``ln(1/p)``: the odds PASTIS demands before it accepts one more term (6.9 for ``p = 0.001``).

    Parameters
    ----------
    p : float
        Tolerated probability of a false term, in (0, 1).

    Returns
    -------
    float
        ``ln(1 / p)``.
    """
    return float(np.log(1.0 / p))


def infer(
    data: dict,
    dt,
    dx=1.0,
    library=None,
    *,
    criterion: str = "PASTIS",
    p: float = 0.001,
    n0=None,
    method: str = "strat",
    lags: int = 3,
    weight: str = "auto",
    noise="auto",
    mask=None,
    stencil: str = "auto",
    search: str = "auto",
    measurement_noise="auto",
) -> InferenceResult:
    """Force inference (:func:`~gslib.inference.estimator.infer_force`) + selection (:func:`select`).

    **The discretisation is inferred, not assumed** (``stencil="auto"``, the default). The data's
    Laplacian is that of whatever made them: a finite-difference code, a spectral code, a
    microscope. Every candidate of :data:`~gslib.inference.features.STENCILS` (5-point, the CNN
    paper's 9-point with corners 1/4, the isotropic 9-point with corners 1/6, spectral) evaluates the
    features its own way; each goes through force inference and selection with one noise model
    (estimated once: it does not depend on the stencil), and the one whose selected model scores
    highest wins. The score is a log-likelihood minus the penalty of the terms, so a wrong stencil
    loses twice: its model explains less, and it needs extra terms (a biharmonic, most often) to
    make up for the difference. The margin over the runner-up is in units of log-likelihood; below
    :func:`decision_threshold` (``ln(1/p)``) the result says that the data cannot tell the stencils
    apart (then the models agree up to terms the data hardly resolve).

    Parameters
    ----------
    data : dict
        ``{name: frames (T, N, M)}``; each field is one equation.
    dt, dx : float
        Time between frames and grid spacing, > 0.
    library : Library or dict of Library, optional
        Candidate features (default: the 17-term Gray-Scott library).
    criterion : {"PASTIS", "AIC", "BIC"}
        Selection criterion (:func:`select`).
    p : float
        Tolerated probability of any false term (PASTIS).
    n0 : int, optional
        Number of candidate terms; default: the total over all equations.
    stencil : {"auto", "5pt", "9pt", "9pt-iso", "spectral"}
        Discretisation of the features (see above); ``"auto"`` skips ``"spectral"`` when cells are
        missing (``mask``).
    method, lags, weight, noise, mask, measurement_noise
        As in :func:`~gslib.inference.estimator.infer_force`.
    search : {"auto", "exhaustive", "beam"}
        Support search (:func:`pareto_front`).

    Returns
    -------
    InferenceResult
        The selected terms with their coefficients and standard errors per field, the selection
        (Pareto front, other criteria), the moments, the noise estimate (``diffusion``: per
        field the fitted noise ``D_eff``, its white and conserved parts) and how the stencil was
        chosen (``discretisation``).

    Raises
    ------
    ValueError
        On an invalid argument (the message names it).
    """
    t0 = time.perf_counter()
    if stencil != "auto":
        features.check_stencil(stencil, mask)
        candidates = [stencil]
    else:
        complete = mask is None or bool(np.all(mask))
        candidates = [s for s in features.STENCILS if complete or s != "spectral"]
        if not isinstance(noise, NoiseModel):
            noise = estimate_noise(data, dt, dx, noise, mask)  # once for all candidates

    def run(st):
        inf = infer_force(
            data,
            dt,
            dx,
            library,
            stencil=st,
            method=method,
            lags=lags,
            weight=weight,
            noise=noise,
            mask=mask,
            measurement_noise=measurement_noise,
        )
        return inf, select(inf, criterion=criterion, p=p, n0=n0, search=search)

    runs = {st: run(st) for st in candidates}
    if len(runs) == 1:
        chosen = candidates[0]
        discretisation = {"chosen": chosen, "message": f"stencil {chosen} (given)"}
    else:
        # The informations of a selection are divided by each equation's variance inflation, which differs
        # a little between stencils; compared with the inflation of each equation set to its largest value
        # over the candidates, the scores differ only by the log-likelihoods of the models.
        names = list(runs[candidates[0]][0].equations)
        r_common = {n: max(r[0].equations[n].inflation for r in runs.values()) for n in names}
        table = {}
        for st, (inf_st, sel_st) in runs.items():
            info = sum(
                inf_st.equations[n].fit(sel_st.supports[n])["information"] * inf_st.equations[n].inflation / r_common[n]
                for n in names
            )
            table[st] = {
                "score": info - sel_st.size * sel_st.penalty,
                "information": info,
                "n_terms": sel_st.size,
                "supports": sel_st.supports,
            }
        ranked = sorted(table, key=lambda st: table[st]["score"], reverse=True)
        chosen = ranked[0]
        margin = table[ranked[0]]["score"] - table[ranked[1]]["score"]
        threshold = decision_threshold(p)
        decided = bool(margin >= threshold)
        if decided:
            message = (
                f"stencil {chosen} inferred: its model scores {margin:.3g} above {ranked[1]} "
                f"(log-likelihood units; threshold {threshold:.3g})"
            )
        else:
            message = (
                f"stencil {chosen} scores highest, but only {margin:.3g} above {ranked[1]} (below the "
                f"threshold {threshold:.3g}): the data cannot tell these discretisations apart"
            )
        discretisation = {
            "chosen": chosen,
            "candidates": table,
            "ranking": ranked,
            "margin": float(margin),
            "threshold": threshold,
            "decided": decided,
            "message": message,
        }
    inf, sel = runs[chosen]
    n, m = inf.shape
    diffusion = inf.noise.as_dict(n, m, inf.dx)
    for name, d in diffusion.items():
        d.update({key: inf.noise.details.get(name, {}).get(key) for key in ("measurement_noise", "msd")})
    return InferenceResult(
        sel.terms, sel.stderr, sel, inf, diffusion, time.perf_counter() - t0, discretisation=discretisation
    )


def relative_errors(terms: dict, truth: dict) -> dict:
    """Relative errors of inferred coefficients, and the spurious terms.

    Parameters
    ----------
    terms : dict
        Inferred model, ``{field: {label: coefficient}}``.
    truth : dict
        True model, same layout (e.g. :func:`gslib.spde.true_coefficients`).

    Returns
    -------
    dict
        ``{field: {label: (inferred - true) / |true|}}`` over the true terms (missing ones count
        -1), plus ``"spurious"``: the selected labels that are not true terms, per field.
    """
    out = {"spurious": {}}
    for name, true_terms in truth.items():
        got = terms.get(name, {})
        out[name] = {label: (got.get(label, 0.0) - c) / abs(c) for label, c in true_terms.items()}
        out["spurious"][name] = sorted(set(got) - set(true_terms))
    return out


def model_force(terms: dict, dx=1.0, stencil: str = "9pt", library=None):
    """The force of an inferred model, as a function ``{field: (N, M)} -> {field: rate}``.

    Parameters
    ----------
    terms : dict
        ``{field: {label: coefficient}}`` (e.g. ``InferenceResult.terms``).
    dx : float
        Grid spacing.
    stencil : {"9pt", "5pt", "9pt-iso", "spectral"}
        Discretisation of the features (e.g. ``InferenceResult.inference.stencil``).
    library : Library or dict of Library, optional
        Where the labels are looked up (default: the Gray-Scott library of the fields' symbols).

    Returns
    -------
    callable
        ``force(fields)``: a dict of fields ``(N, M)`` to the dict of their rates.
    """
    names = list(terms)
    if library is None:
        library = gray_scott_library()
    libs = library if isinstance(library, dict) else {n: library for n in names}
    parts = {}
    for name in names:
        lib = libs[name]
        parts[name] = [(lib[label], float(c)) for label, c in terms[name].items()]

    def force(fields: dict) -> dict:
        cache: dict = {}
        out = {}
        for name in names:
            rate = 0.0
            for feature, c in parts[name]:
                rate = rate + c * feature.evaluate(fields, dx, stencil, cache)
            out[name] = rate + np.zeros(np.shape(fields[name]))
        return out

    return force


def bootstrap(
    result: InferenceResult, x0: dict, frames: int, *, seed: int = 0, substeps: int = 4, burn_in: int = 0
) -> dict:
    """Simulate the inferred model (terms and noise) from ``x0`` with the data's ``dt`` and ``dx``.

    Parameters
    ----------
    result : InferenceResult
        The inferred model and noise.
    x0 : dict
        Initial fields ``{field: (N, M)}``.
    frames : int
        Number of recorded frames.
    seed : int
        Seed of the noise.
    substeps : int
        Integration steps per frame interval.
    burn_in : int
        Frame intervals integrated before the first recorded frame.

    Returns
    -------
    dict
        ``{field: frames (T, N, M)}`` (and ``"times"``), to compare with the data
        (:func:`gslib.spde.simulate_force`).
    """
    inf = result.inference
    n, m = inf.shape
    symbols = {name: inf.noise.symbol(name, n, m, inf.dx) for name in result.terms}
    force = model_force(result.terms, inf.dx, inf.stencil)
    return simulate_force(
        force,
        {name: x0[name] for name in result.terms},
        symbols,
        dt=inf.dt,
        substeps=substeps,
        frames=frames,
        burn_in=burn_in,
        seed=seed,
    )
