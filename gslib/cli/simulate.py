"""``gslib simulate`` (one run of the engine, saved as .npz and/or .png) and ``gslib bench`` (the solvers' speed)."""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

import numpy as np

from .. import initial
from .._jsonio import write_json
from .._validate import check_real, steps_of
from .argtypes import integer, real
from .options import (
    BENCH_BACKENDS,
    DTYPES,
    STENCILS,
    add_initial_options,
    add_model_options,
    add_quiet,
    as_options,
    check_output,
)
from .registry import subcommand

__all__ = ["run_simulate", "run_bench"]


@subcommand(
    "simulate",
    "run one Gray-Scott simulation and save the fields (.npz) and/or a picture (.png)",
    "Run one Gray-Scott simulation on a periodic N x N grid with the FTCS scheme, from one of the\n"
    "book's initial conditions, and save the final fields (and recorded frames) to a compressed\n"
    ".npz file and/or a picture.\n\n"
    "example:\n"
    "  gslib simulate --f 0.042 --k 0.063 --size 128 --t-end 15000 --out p.npz --png p.png\n"
    "  gslib simulate --record 14000 14500 15000 --png rgb.png   # RGB composite of 3 frames",
)
def _simulate(p: argparse.ArgumentParser):
    add_model_options(p)
    add_initial_options(p)
    g = p.add_argument_group("run and output")
    g.add_argument(
        "--t-end",
        type=real(positive=True),
        default=15000.0,
        metavar="T",
        help="simulated time (time units); must be a multiple of --dt: the run takes round(T / dt) steps",
    )
    g.add_argument(
        "--record",
        type=real(),
        nargs="+",
        default=None,
        metavar="T",
        help="times (time units, multiples of --dt, in [0, --t-end]) at which to store u and v "
        "as frames (None = no frames)",
    )
    g.add_argument(
        "--steady-tol",
        type=real(positive=True),
        default=None,
        metavar="TOL",
        help="stop early once the largest change of u or v in one step is below TOL (checked "
        "every 1000 steps; None = always run to --t-end)",
    )
    g.add_argument(
        "--out",
        default=None,
        metavar="FILE.npz",
        help="write u, v, the frames and the run's metadata to this compressed .npz file",
    )
    g.add_argument(
        "--png",
        default=None,
        metavar="FILE.png",
        help="write a picture: u and v side by side, or the RGB composite of the frames when exactly 3 are recorded",
    )
    add_quiet(p)
    return run_simulate


def run_simulate(args) -> int:
    """Run ``gslib simulate``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib simulate --help``).

    Returns
    -------
    int
        The exit code.
    """
    import gslib

    out = check_output(args.out, ".npz", "--out")
    png = check_output(args.png, ".png", "--png")
    if out is None and png is None:
        raise ValueError("nothing to write: give --out FILE.npz and/or --png FILE.png")
    for name in ("f", "k", "Du", "Dv"):
        check_real(f"--{name}", getattr(args, name), minimum=0.0)
    steps = steps_of(args.t_end, args.dt, "--t-end", "--dt")
    record = None
    if args.record is not None:
        rec_steps = [steps_of(t, args.dt, "--record", "--dt") for t in args.record]
        for t, s in zip(args.record, rec_steps):
            if not 0 <= s <= steps:
                raise ValueError(f"--record time {t:g} lies outside [0, --t-end] = [0, {args.t_end:g}]")
        record = [s * args.dt for s in rec_steps]
    try:
        u0, v0, extra = initial.initial_state(
            args.initial, n=args.size, seed=args.seed, square=args.square, noise=args.noise
        )
    except ValueError as err:
        raise as_options(err, {"n": "--size", "square": "--square", "noise": "--noise", "seed": "--seed"}) from None

    start = time.perf_counter()
    res = gslib.integrate(
        u0,
        v0,
        f=args.f,
        k=args.k,
        Du=args.Du,
        Dv=args.Dv,
        dt=args.dt,
        dx=args.dx,
        steps=steps,
        stencil=args.stencil,
        backend=args.backend,
        dtype=args.dtype,
        record_times=record,
        steady_tol=args.steady_tol,
        progress=not args.quiet,
    )
    elapsed = time.perf_counter() - start
    taken = int(res.steps[0])
    t_final = taken * args.dt

    if out is not None:
        _write_npz(out, res, args, steps, extra, gslib.__version__)
    if png is not None:
        _write_png(png, res, args, t_final)

    if not args.quiet:
        stop = f", steady after {taken} steps (t = {t_final:g})" if res.steady[0] else ""
        written = " and ".join(str(p) for p in (out, png) if p is not None)
        print(
            f"{steps} steps of {args.size} x {args.size} ({args.dtype}, {args.stencil}) on {res.backend} "
            f"in {elapsed:.2f} s{stop}; wrote {written}"
        )
    return 0


def _write_npz(path: Path, res, args, steps: int, extra: dict, version: str) -> None:
    """The run's fields, frames and settings as one compressed .npz file (no pickled objects)."""
    data = {
        "u": res.u,
        "v": res.v,
        "f": np.float64(args.f),
        "k": np.float64(args.k),
        "Du": np.float64(args.Du),
        "Dv": np.float64(args.Dv),
        "dt": np.float64(args.dt),
        "dx": np.float64(args.dx),
        "t_end": np.float64(args.t_end),
        "steps": np.int64(steps),
        "steps_taken": np.int64(int(res.steps[0])),
        "steady": np.bool_(res.steady[0]),
        "steady_tol": np.float64(np.nan if args.steady_tol is None else args.steady_tol),
        "size": np.int64(args.size),
        "seed": np.int64(args.seed),
        "stencil": np.str_(args.stencil),
        "dtype": np.str_(args.dtype),
        "initial": np.str_(args.initial),
        "backend": np.str_(res.backend),
        "backend_requested": np.str_(args.backend),
        "gslib_version": np.str_(version),
    }
    for key, value in extra.items():
        data[key] = np.int64(value) if isinstance(value, int) else np.float64(value)
    if res.frames_u is not None:
        data.update(frames_u=res.frames_u, frames_v=res.frames_v, frame_times=res.frame_times)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)


def _write_png(path: Path, res, args, t_final: float) -> None:
    """u and v side by side, or the RGB composite of exactly 3 recorded frames."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from .. import plotting

    head = f"f = {args.f:g}, k = {args.k:g}"
    if res.frames_u is not None and len(res.frame_times) == 3:
        times = ", ".join(f"{t:g}" for t in res.frame_times)
        with mpl.rc_context(plotting.STYLE):
            fig, ax = plt.subplots(figsize=(5.0, 4.6), layout="constrained")
            plotting.plot_rgb(ax, res.frames_u, dx=args.dx, title=f"{head}\nu at t = {times} (R, G, B)")
    else:
        fig = plotting.plot_fields(res.u, res.v, dx=args.dx, title=f"{head}, t = {t_final:g}")
    try:
        plotting.save(fig, path)
    finally:
        plt.close(fig)


@subcommand(
    "bench",
    "time the solver backends, stencils and dtypes",
    "Time the FTCS solvers (gslib.benchmark.run_benchmark) for every combination of the chosen\n"
    "backends, stencils and dtypes, and print a table (cell updates per second and more).\n"
    "Backends that cannot run here (e.g. cuda without a GPU) are reported by the benchmark.\n\n"
    "example:\n"
    "  gslib bench --size 256 --backends cpu cuda --dtypes float32 --json bench.json",
)
def _bench(p: argparse.ArgumentParser):
    p.add_argument("--size", type=integer(4), default=128, metavar="N", help="grid side in cells (N x N)")
    p.add_argument(
        "--batch",
        type=integer(1),
        default=None,
        metavar="B",
        help="grids integrated together (None = automatic, chosen by the benchmark per backend)",
    )
    p.add_argument(
        "--steps",
        type=integer(1),
        default=None,
        metavar="S",
        help="time steps per timing (None = automatic, chosen by the benchmark)",
    )
    p.add_argument(
        "--backends",
        nargs="+",
        choices=BENCH_BACKENDS,
        default=list(BENCH_BACKENDS),
        metavar="B",
        help=f"backends to time, any of {', '.join(BENCH_BACKENDS)}",
    )
    p.add_argument(
        "--stencils",
        nargs="+",
        choices=STENCILS,
        default=list(STENCILS),
        metavar="S",
        help=f"stencils to time, any of {', '.join(STENCILS)}",
    )
    p.add_argument(
        "--dtypes",
        nargs="+",
        choices=DTYPES,
        default=list(DTYPES),
        metavar="D",
        help=f"floating-point types to time, any of {', '.join(DTYPES)}",
    )
    p.add_argument("--json", default=None, metavar="FILE", help="also write the table's rows to FILE as JSON")
    add_quiet(p, "progress")
    return run_bench


def run_bench(args) -> int:
    """Run ``gslib bench``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib bench --help``).

    Returns
    -------
    int
        The exit code.
    """
    from ..provenance import record as provenance_record

    benchmark = importlib.import_module("gslib.benchmark")  # looked up at run time, as sys.modules has it
    rows = benchmark.run_benchmark(
        size=args.size,
        batch=args.batch,
        steps=args.steps,
        backends=list(dict.fromkeys(args.backends)),
        stencils=list(dict.fromkeys(args.stencils)),
        dtypes=list(dict.fromkeys(args.dtypes)),
        progress=not args.quiet,
    )
    print(benchmark.format_table(rows))
    if args.json is not None:
        write_json(args.json, provenance_record(args.command_line, rows=list(rows)))
    return 0
