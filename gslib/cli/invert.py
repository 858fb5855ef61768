"""``gslib invert``: Du, Dv, f, k from one steady pattern by least squares on the model's residual."""

from __future__ import annotations

import argparse
import sys
import time

from .._jsonio import write_json
from .._validate import check_real
from .argtypes import real
from .options import ANALYSIS_STENCILS, add_quiet, check_output
from .registry import PROG, subcommand

__all__ = ["EXIT_UNEXPLAINED", "run_invert"]

#: Exit code of `gslib invert` when the model does not explain the pattern (not steady, or another model).
EXIT_UNEXPLAINED = 3


@subcommand(
    "invert",
    "recover Du, Dv, f, k from one steady pattern by least squares on its residual",
    "Recover the parameters (Du, Dv, f, k) of the Gray-Scott model from one steady pattern\n"
    "(gslib.inversion.residual_fit). On a steady state the right-hand sides vanish,\n"
    "  r_u = Du lap u - u v^2 + f (1 - u) = 0,   r_v = Dv lap v + u v^2 - (f + k) v = 0,\n"
    "and both are linear in the parameters: the least-squares fit of sum(r_u^2 + r_v^2) is solved in\n"
    "closed form, with standard errors from the residual variance. The Laplacian must be the one that\n"
    "made the pattern: by default (--stencil auto) the pattern is fitted with each of 5pt, 9pt (corners\n"
    "1/4), 9pt-iso (corners 1/6) and spectral, and the smallest residual wins; the margin is reported,\n"
    "and called too small to tell below 10 % of the sum of squared residuals. The closer the pattern is\n"
    "to a steady state, the better: a pattern stopped when one step changes it by less than 1e-4 gives\n"
    "errors near 1e-5. Noise on the pattern biases the diffusivities towards zero; if its level is\n"
    "known, --noise removes that bias.\n\n"
    "The fit knows when it is fooled: if the residual left at the fit exceeds 5 % of the reaction terms\n"
    "(|r|/|b| > 0.05; a settled pattern leaves about 1e-3), the pattern is not a steady state of the\n"
    "model (it still moves, or another model made it). The parameters are then still printed and\n"
    'written, marked "explained": false, with a warning.\n\n'
    "exit codes: 0 the fit explains the pattern; 2 bad input (unreadable file, uniform pattern, bad\n"
    "option); 3 the model does not explain the pattern (its parameters are not to be trusted).\n\n"
    "STEADY.npz must hold u and v, real arrays of shape (N, M), and dx (the grid spacing); files written\n"
    "by `gslib simulate --out` qualify (their true parameters are then compared with the fit).\n"
    'params.json holds {"Du", "Dv", "f", "k", "stderr": {same keys},\n'
    '"relative_stderr", "covariance" (order Du, Dv, f, k), "residual_rms", "condition", ...}.\n\n'
    "example:\n"
    "  gslib simulate --initial landscape --Du 0.16 --Dv 0.08 --f 0.035 --k 0.065 --dt 1 --stencil 5pt \\\n"
    "      --dtype float64 --t-end 40000 --steady-tol 1e-4 --out steady.npz\n"
    "  gslib invert steady.npz --out params.json",
)
def _invert(p: argparse.ArgumentParser):
    p.add_argument("steady", metavar="STEADY.npz", help="the steady pattern: u, v (N, M) and dx")
    p.add_argument(
        "--stencil",
        choices=ANALYSIS_STENCILS,
        default=None,
        help="Laplacian of the residual; it must be the simulation's (None = the file's 'stencil' "
        "entry if it has one, else auto: the stencil with the smallest residual)",
    )
    p.add_argument(
        "--noise",
        type=real(),
        default=0.0,
        metavar="SIGMA",
        help="standard deviation of white measurement noise on u and v, if known: its bias on the "
        "diffusivities (errors in variables, growing like SIGMA^2) is removed; 0 = no correction",
    )
    p.add_argument("--out", default=None, metavar="FILE.json", help="write the parameters and their errors as JSON")
    add_quiet(p, "the table of parameters")
    return run_invert


def run_invert(args) -> int:
    """Run ``gslib invert``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib invert --help``).

    Returns
    -------
    int
        The exit code: 0, or :data:`EXIT_UNEXPLAINED` when the model does not explain the pattern.
    """
    from .. import inversion
    from ..provenance import record as provenance_record

    out = check_output(args.out, ".json", "--out")
    t0 = time.perf_counter()
    u, v, dx, truth = inversion.load_steady(args.steady)
    recorded = inversion.recorded_stencil(args.steady)
    stencil = args.stencil or recorded or "auto"
    if recorded is not None and stencil != "auto" and recorded != stencil:
        print(
            f"{PROG}: warning: {args.steady} was simulated with the {recorded} stencil but --stencil {stencil} "
            "was asked: the fit will be biased",
            file=sys.stderr,
        )
    check_real("--noise", args.noise, minimum=0.0)
    fit = inversion.residual_fit(u, v, dx, stencil, noise=args.noise, on_unexplained="ignore")
    seconds = time.perf_counter() - t0
    result = fit.to_dict()
    result = {**result.pop("params"), **result}  # Du, Dv, f, k at the top, their errors under "stderr"
    result.update(source=str(args.steady), grid=list(u.shape))
    if truth:
        result["truth"] = truth
        result["relative_errors"] = {
            name: fit.params[name] / truth[name] - 1 if truth[name] else None for name in inversion.PARAMS
        }
    result["provenance"] = provenance_record(args.command_line, seconds)
    if out is not None:
        write_json(out, result)
    if not args.quiet:
        corrected = f", corrected for noise {args.noise:g}" if args.noise > 0 else ""
        print(
            f"{u.shape[0]} x {u.shape[1]} pattern, {fit.stencil} stencil, dx = {dx:g}{corrected}: residual rms "
            f"{fit.residual_rms:.3g} (relative {fit.relative_residual:.2g}), condition {fit.condition:.3g}, "
            f"{seconds:.2f} s"
        )
        print(f"  {fit.discretisation['message']}")
        for name in inversion.PARAMS:
            line = f"  {name:3s} {fit.params[name]:.8g} +- {fit.stderr[name]:.2g}"
            if truth:
                line += f"   (true {truth[name]:g}, relative error {result['relative_errors'][name]:+.2e})"
            print(line)
        if out is not None:
            print(f"wrote {out}")
    if fit.discretisation.get("decided") is False:
        print(f"{PROG}: warning: {fit.discretisation['message']}", file=sys.stderr)
    if not fit.explained:
        print(
            f"{PROG}: warning: the model does not explain {args.steady}: the relative residual "
            f"|r|/|b| = {fit.relative_residual:.3g} exceeds {inversion.UNEXPLAINED_THRESHOLD:g} (a settled pattern "
            "leaves about 1e-3). It is not a steady state of the Gray-Scott model: it still moves, or another "
            "model made it; the parameters above are not to be trusted",
            file=sys.stderr,
        )
        return EXIT_UNEXPLAINED
    return 0
