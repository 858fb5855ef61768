"""``gslib infer``: the stochastic equations of u and v from recorded frames (force inference and PASTIS)."""

from __future__ import annotations

import argparse
import sys
import time

from .._jsonio import write_json
from .argtypes import integer, measurement_noise, real
from .options import ANALYSIS_STENCILS, add_quiet, check_output
from .registry import PROG, subcommand

__all__ = ["run_infer"]


@subcommand(
    "infer",
    "discover the stochastic equations of u and v from frames (force inference + PASTIS)",
    "Infer the equations du = F_u dt + noise, dv = F_v dt + noise from recorded frames of u and v\n"
    "(gslib.inference): linear force inference over a library of 17 candidate terms per field (1, U, V,\n"
    "..., UV^2, V^3, lap U, lap V, gradient products, lap^2 U, lap^2 V), with the O(dt) bias of frames\n"
    "far apart removed (trapezoidal estimator + Richardson extrapolation over frame lags), then sparse\n"
    "selection with PASTIS (or AIC/BIC) over an exhaustive search of the supports.\n\n"
    "DATA.npz must hold u and v, float arrays of shape (T, N, M) (frames, rows, columns), and dt (time\n"
    "between frames); optionally dx (grid spacing, default 1) and mask (bool, (N, M) or (T, N, M),\n"
    "True = valid; NaN is allowed where the mask is False). The result (.json) lists the selected\n"
    "terms per field with coefficients and standard errors, the noise estimate, the Pareto front, and\n"
    'under "discretisation" which Laplacian the data were found to have (--stencil auto, the default):\n'
    "each candidate's score (log-likelihood minus the penalty of its terms), the margin of the winner\n"
    "and whether it exceeds ln(1/p), the smallest margin the data are trusted to decide.\n\n"
    "example:\n"
    "  gslib infer frames.npz --out result.json\n"
    "  gslib infer --simulate coral --seed 1 --save-data coral.npz --out result.json",
)
def _infer(p: argparse.ArgumentParser):
    from ..inference.estimator import METHODS, NOISE_KINDS, WEIGHTS
    from ..inference.selection import CRITERIA
    from ..spde import REGIMES

    regimes = tuple(REGIMES)
    p.add_argument("data", nargs="?", default=None, metavar="DATA.npz", help="frames to analyse (omit with --simulate)")
    p.add_argument("--out", default=None, metavar="FILE.json", help="write the result to this JSON file")
    g = p.add_argument_group("estimator and selection")
    g.add_argument(
        "--criterion",
        choices=CRITERIA,
        default="PASTIS",
        help="model selection criterion: I - |B| ln(n0/p), I - |B|, I - |B| ln(tau)/2",
    )
    g.add_argument(
        "--p",
        type=real(positive=True),
        default=0.001,
        help="PASTIS: tolerated probability of a false term in the whole model, in (0, 1)",
    )
    g.add_argument(
        "--method", choices=METHODS, default="strat", help="trapezoidal (Stratonovich) or plain Ito estimator"
    )
    g.add_argument(
        "--lags",
        type=integer(1),
        default=3,
        help="frame lags combined by Richardson extrapolation (1 = the plain estimator)",
    )
    g.add_argument(
        "--weight",
        choices=WEIGHTS,
        default="auto",
        help="weight of the estimator: inverse noise covariance per Fourier mode (spectral), a "
        "scalar (white), or auto (spectral unless cells are masked)",
    )
    g.add_argument(
        "--noise",
        choices=NOISE_KINDS,
        default="auto",
        help="noise model fitted to the data: a(q) = 2 (d0 + s2 |q|^2) / dV (auto), s2 only "
        "(conserved), d0 only (white)",
    )
    g.add_argument(
        "--stencil",
        choices=ANALYSIS_STENCILS,
        default="auto",
        help="discretisation of the candidate terms: 5-point, the CNN paper's 9-point (corners 1/4), the "
        "isotropic 9-point (corners 1/6), spectral (-|q|^2), or auto: each one is tried and the "
        "model that scores highest wins (its margin over the runner-up is reported)",
    )
    g.add_argument(
        "--measurement-noise",
        type=measurement_noise,
        default="auto",
        metavar="auto|none|STD",
        help="white noise on the recorded values (errors in variables): auto estimates its standard "
        "deviation per field from the data and removes its bias; none; or a known STD for both fields",
    )
    s = p.add_argument_group("simulated data (instead of DATA.npz)")
    s.add_argument(
        "--simulate",
        choices=regimes,
        default=None,
        metavar="REGIME",
        help=f"simulate the StochasticForceInference Gray-Scott example in a regime "
        f"({', '.join(regimes)}): 64 x 64, conserved noise 0.01, frames 0.5 apart",
    )
    s.add_argument("--seed", type=integer(0), default=0, help="seed of the simulation (--simulate)")
    s.add_argument("--frames", type=integer(6), default=500, help="recorded frames (--simulate)")
    s.add_argument("--save-data", default=None, metavar="FILE.npz", help="also save the simulated frames (--simulate)")
    add_quiet(p, "the table of selected terms")
    return run_infer


def run_infer(args) -> int:
    """Run ``gslib infer``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib infer --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import inference, spde
    from ..provenance import record as provenance_record

    out = check_output(args.out, ".json", "--out")
    save = check_output(args.save_data, ".npz", "--save-data")
    if not 0 < args.p < 1:
        raise ValueError(f"--p={args.p:g} must lie in (0, 1)")
    truth = None
    t0 = time.perf_counter()
    if args.simulate is not None:
        if args.data is not None:
            raise ValueError("give either DATA.npz or --simulate REGIME, not both")
        run = spde.sfi_example(args.simulate, seed=args.seed, frames=args.frames)
        if save is not None:
            save.parent.mkdir(parents=True, exist_ok=True)
            run.save(save)
        u, v, dt, dx, mask = run.u, run.v, run.dt, run.dx, None
        truth = spde.true_coefficients(*spde.REGIMES[args.simulate])
        source = {"simulated": args.simulate, "seed": args.seed}
    else:
        if args.data is None:
            raise ValueError("no data: give DATA.npz (or --simulate REGIME)")
        if save is not None:
            raise ValueError("--save-data only applies with --simulate")
        u, v, dt, dx, mask = inference.load_frames(args.data)
        source = {"data": str(args.data)}
    t_sim = time.perf_counter() - t0
    res = inference.infer(
        {"u": u, "v": v},
        dt,
        dx,
        criterion=args.criterion,
        p=args.p,
        method=args.method,
        lags=args.lags,
        weight=args.weight,
        noise=args.noise,
        mask=mask,
        stencil=args.stencil,
        measurement_noise=args.measurement_noise,
    )
    seconds = time.perf_counter() - t0
    result = res.to_dict()
    if truth is not None:
        result["truth"] = truth
        result["relative_errors"] = inference.relative_errors(res.terms, truth)
        result["simulation_seconds"] = round(t_sim, 2)
    result.update(source)
    result["provenance"] = provenance_record(args.command_line, seconds)
    if out is not None:
        write_json(out, result)
    choice = res.discretisation
    if args.quiet and choice.get("decided") is False:
        print(f"{PROG}: warning: {choice['message']}", file=sys.stderr)
    if not args.quiet:
        _print_result(res, result, truth, seconds)
        if out is not None:
            print(f"wrote {out}")
    return 0


def _print_result(res, result: dict, truth, seconds: float) -> None:
    """The selection, the discretisation found, the terms with their errors and the noise estimates."""
    sel, choice = res.selection, res.discretisation
    print(
        f"{sel.criterion} (p = {sel.p:g}, n0 = {sel.n0}): {sel.size} of {sel.n0} terms, "
        f"information {sel.information:.6g}; {res.inference.method} estimator, {res.inference.lags} lag(s), "
        f"{res.inference.weight} weight; {seconds:.1f} s"
    )
    print(f"  {choice['message']}")
    for st in choice.get("ranking", []):
        c = choice["candidates"][st]
        print(f"    {st:9s} score {c['score']:.6g}, {c['n_terms']} terms")
    for name in res.terms:
        print(f"  d{name}/dt:")
        for label, c in res.terms[name].items():
            line = f"    {label:15s} {c:+.5f} +- {res.stderr[name][label]:.5f}"
            if truth is not None:
                t = truth[name].get(label)
                line += f"   (true {t:+.5f})" if t is not None else "   (spurious)"
            print(line)
    mn = result.get("measurement_noise") or {}
    if mn:
        std = ", ".join(f"{name} {value:.3g}" for name, value in mn["std"].items())
        print(
            f"  measurement noise ({mn['source']}): std {std}"
            + ("" if any(v > 0 for v in mn["std"].values()) else " (none corrected)")
        )
    for name, d in res.diffusion.items():
        print(
            f"  noise of {name}: D_eff = {d['D_eff']:.3e} (conserved sigma {d['conserved_sigma']:.4g}, "
            f"white part {d['white_d0']:.2e}, measurement noise {d['measurement_noise']:.2e})"
        )
