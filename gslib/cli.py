"""The ``gslib`` console command.

    gslib simulate --f 0.042 --k 0.063 --size 128 --t-end 15000 --out p.npz --png p.png
    gslib bench --size 128 --backends numpy cpu
    gslib --version

Each subcommand is one function decorated with :func:`subcommand`: it receives its own
``argparse`` parser, adds its options, and returns the function that runs it (which takes the
parsed namespace and returns an exit code, ``None`` meaning 0).  Shared groups of options live in
``_add_*_options`` helpers so that later subcommands (dataset, train, scan, infer, invert) reuse
them.  :func:`main` turns errors into one line ``gslib: error: <message>`` on stderr: a
``ValueError`` (bad input) exits with 2, a blown-up run or a failed write with 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

PROG = "gslib"

# The engine's choices, repeated here so that `gslib --help` does not import the solvers.
STENCILS = ("5pt", "9pt")
# The analysis Laplacians of `gslib infer` and `gslib invert` (gslib.solvers.stencils.ANALYSIS_STENCILS), and "auto".
ANALYSIS_STENCILS = ("auto", "5pt", "9pt", "9pt-iso", "spectral")
#: Exit code of `gslib invert` when the model does not explain the pattern (not steady, or another model).
EXIT_UNEXPLAINED = 3
BACKENDS = ("auto", "numpy", "cpu", "cuda")
BENCH_BACKENDS = ("numpy", "cpu", "cuda")
DTYPES = ("float32", "float64")
INITIALS = ("cnn", "sfi", "landscape")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults after every option and keep the descriptions' line breaks."""


# ----------------------------------------------------------------------------- registry

_SUBCOMMANDS: list[tuple[str, str, str, Callable]] = []


def subcommand(name: str, help: str, description: str | None = None):
    """Register ``configure(parser) -> run`` as the subcommand ``name``.

    ``run(args) -> int | None`` is called with the parsed options.

    Parameters
    ----------
    name : str
        The subcommand (``gslib NAME``).
    help : str
        The one-line summary in ``gslib --help``.
    description : str, optional
        The text that heads ``gslib NAME --help`` (default: ``help``).

    Returns
    -------
    callable
        The decorator.
    """
    def register(configure: Callable) -> Callable:
        _SUBCOMMANDS.append((name, help, description or help, configure))
        return configure
    return register


# ----------------------------------------------------------------------------- argument types


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be an integer >= {minimum}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


# ----------------------------------------------------------------------------- shared options


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """Gray-Scott parameters and the solver's discretisation."""
    g = p.add_argument_group("model and solver")
    g.add_argument("--f", type=_finite_float, default=0.042, metavar="F",
                   help="feed rate f (1/time unit), >= 0")
    g.add_argument("--k", type=_finite_float, default=0.063, metavar="K",
                   help="kill rate k (1/time unit), >= 0")
    g.add_argument("--Du", type=_finite_float, default=0.2, metavar="D",
                   help="diffusivity of u (length unit^2/time unit), >= 0")
    g.add_argument("--Dv", type=_finite_float, default=0.1, metavar="D",
                   help="diffusivity of v (length unit^2/time unit), >= 0")
    g.add_argument("--dt", type=_positive_float, default=0.25, metavar="DT",
                   help="time step (time units); must respect the stencil's stability bound, "
                        "dx^2/(2 max(Du, Dv)) for 9pt and dx^2/(4 max(Du, Dv)) for 5pt")
    g.add_argument("--dx", type=_positive_float, default=1.0, metavar="DX",
                   help="grid spacing (length units)")
    g.add_argument("--stencil", choices=STENCILS, default="9pt",
                   help="discrete Laplacian: 5pt (edges 1, centre -4) or 9pt (the CNN paper's: edges 1/2, "
                        "corners 1/4, centre -3)")
    g.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="numpy (reference), cpu (Numba), cuda (Numba CUDA), auto (cuda if a GPU is "
                        "visible, else cpu)")
    g.add_argument("--dtype", choices=DTYPES, default="float32", help="floating-point type of the fields")


def _add_initial_options(p: argparse.ArgumentParser) -> None:
    """Grid size and initial condition (gslib.initial)."""
    g = p.add_argument_group("grid and initial condition")
    g.add_argument("--size", type=_int_at_least(4), default=128, metavar="N",
                   help="grid side in cells: an N x N periodic grid")
    g.add_argument("--initial", choices=INITIALS, default="cnn",
                   help="initial condition: cnn (random Gamma-shaped spots of Scholz & Scholz 2022), "
                        "sfi (noisy central block of StochasticForceInference), landscape (noisy "
                        "central block of the loss-landscape study)")
    g.add_argument("--seed", type=_int_at_least(0), default=0,
                   help="seed of the random numbers of the initial condition")
    g.add_argument("--square", type=_int_at_least(1), default=None, metavar="CELLS",
                   help="side of the seed blocks in cells, for cnn and landscape (None = automatic: "
                        "round(20 * N / 128), i.e. 20 on the paper's 128 x 128 grid: gslib.initial.paper_square)")
    g.add_argument("--noise", type=_finite_float, default=0.02, metavar="SIGMA",
                   help="standard deviation of the Gaussian noise added to u and v (dimensionless), "
                        "for sfi and landscape")


def _add_quiet(p: argparse.ArgumentParser, what: str = "the progress bar and the summary") -> None:
    p.add_argument("-q", "--quiet", action="store_true", help=f"do not print {what}")


# ----------------------------------------------------------------------------- helpers


def _steps_of(time_: float, dt: float, name: str) -> int:
    """``time_ / dt`` as an integer, or ValueError if ``time_`` is not a multiple of ``dt``."""
    s = round(time_ / dt)
    if abs(s * dt - time_) > 1e-9 * max(1.0, abs(time_)):
        nearest = sorted({math.floor(time_ / dt) * dt, math.ceil(time_ / dt) * dt})
        raise ValueError(f"{name}={time_:g} is not a multiple of --dt={dt:g} (time units); "
                         f"the nearest multiples are {' and '.join(f'{t:g}' for t in nearest)}")
    return int(s)


def _initial_state(args):
    """Build (u0, v0) from the grid and initial-condition options."""
    from . import initial

    n = args.size
    square = args.square if args.square is not None else initial.paper_square(n)
    if args.noise < 0:
        raise ValueError(f"--noise={args.noise:g} must be >= 0")
    if args.initial == "cnn":
        if n < 2 * square:
            raise ValueError(f"--size={n} is too small for --square={square} with --initial cnn: "
                             f"needs --size >= 2 * square = {2 * square}")
        u, v = initial.cnn_seed(args.seed, n=n, square=square)
        extra = {"square": square}
    elif args.initial == "landscape":
        if n < square:
            raise ValueError(f"--size={n} is smaller than --square={square} (--initial landscape needs "
                             "--size >= --square)")
        u, v = initial.landscape_seed(args.seed, n=n, square=square, noise=args.noise)
        extra = {"square": square, "noise": args.noise}
    else:
        u, v = initial.sfi_seed(args.seed, n=n, noise=args.noise)
        extra = {"noise": args.noise}
    return u, v, extra


def _check_output(path: str | None, suffix: str, option: str) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise ValueError(f"{option}={path!r} must end in {suffix}")
    if p.exists() and p.is_dir():
        raise ValueError(f"{option}={path!r} is a directory; give a file name ending in {suffix}")
    return p


def _write_json(path, obj) -> None:
    """Write ``obj`` to ``path`` as strict JSON (NumPy values converted, NaN as null), creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(obj), indent=1, allow_nan=False) + "\n")


def _jsonable(obj):
    """``obj`` with NumPy scalars and arrays as Python values and NaN/Inf as None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(key): _jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(value) for value in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


# ----------------------------------------------------------------------------- simulate


@subcommand(
    "simulate", "run one Gray-Scott simulation and save the fields (.npz) and/or a picture (.png)",
    "Run one Gray-Scott simulation on a periodic N x N grid with the FTCS scheme, from one of the\n"
    "book's initial conditions, and save the final fields (and recorded frames) to a compressed\n"
    ".npz file and/or a picture.\n\n"
    "example:\n"
    "  gslib simulate --f 0.042 --k 0.063 --size 128 --t-end 15000 --out p.npz --png p.png\n"
    "  gslib simulate --record 14000 14500 15000 --png rgb.png   # RGB composite of 3 frames")
def _simulate(p: argparse.ArgumentParser):
    _add_model_options(p)
    _add_initial_options(p)
    g = p.add_argument_group("run and output")
    g.add_argument("--t-end", type=_positive_float, default=15000.0, metavar="T",
                   help="simulated time (time units); must be a multiple of --dt: the run takes "
                        "round(T / dt) steps")
    g.add_argument("--record", type=_finite_float, nargs="+", default=None, metavar="T",
                   help="times (time units, multiples of --dt, in [0, --t-end]) at which to store u and v "
                        "as frames (None = no frames)")
    g.add_argument("--steady-tol", type=_positive_float, default=None, metavar="TOL",
                   help="stop early once the largest change of u or v in one step is below TOL (checked "
                        "every 1000 steps; None = always run to --t-end)")
    g.add_argument("--out", default=None, metavar="FILE.npz",
                   help="write u, v, the frames and the run's metadata to this compressed .npz file")
    g.add_argument("--png", default=None, metavar="FILE.png",
                   help="write a picture: u and v side by side, or the RGB composite of the frames when "
                        "exactly 3 are recorded")
    _add_quiet(p)
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

    out = _check_output(args.out, ".npz", "--out")
    png = _check_output(args.png, ".png", "--png")
    if out is None and png is None:
        raise ValueError("nothing to write: give --out FILE.npz and/or --png FILE.png")
    for name in ("f", "k", "Du", "Dv"):
        value = getattr(args, name)
        if value < 0:
            raise ValueError(f"--{name}={value:g} must be >= 0")
    steps = _steps_of(args.t_end, args.dt, "--t-end")
    record = None
    if args.record is not None:
        rec_steps = [_steps_of(t, args.dt, "--record") for t in args.record]
        for t, s in zip(args.record, rec_steps):
            if not 0 <= s <= steps:
                raise ValueError(f"--record time {t:g} lies outside [0, --t-end] = [0, {args.t_end:g}]")
        record = [s * args.dt for s in rec_steps]
    u0, v0, extra = _initial_state(args)

    start = time.perf_counter()
    res = gslib.integrate(u0, v0, args.f, args.k, Du=args.Du, Dv=args.Dv, dt=args.dt, dx=args.dx, steps=steps,
                          stencil=args.stencil, backend=args.backend, dtype=args.dtype, record_times=record,
                          steady_tol=args.steady_tol, progress=not args.quiet)
    elapsed = time.perf_counter() - start
    taken = int(res.steps[0])
    t_final = taken * args.dt

    if out is not None:
        data = {
            "u": res.u, "v": res.v,
            "f": np.float64(args.f), "k": np.float64(args.k), "Du": np.float64(args.Du), "Dv": np.float64(args.Dv),
            "dt": np.float64(args.dt), "dx": np.float64(args.dx), "t_end": np.float64(args.t_end),
            "steps": np.int64(steps), "steps_taken": np.int64(taken), "steady": np.bool_(res.steady[0]),
            "steady_tol": np.float64(np.nan if args.steady_tol is None else args.steady_tol),
            "size": np.int64(args.size), "seed": np.int64(args.seed),
            "stencil": np.str_(args.stencil), "dtype": np.str_(args.dtype), "initial": np.str_(args.initial),
            "backend": np.str_(res.backend), "backend_requested": np.str_(args.backend),
            "gslib_version": np.str_(gslib.__version__),
        }
        for key, value in extra.items():
            data[key] = np.int64(value) if isinstance(value, int) else np.float64(value)
        if res.frames_u is not None:
            data.update(frames_u=res.frames_u, frames_v=res.frames_v, frame_times=res.frame_times)
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out, **data)

    if png is not None:
        _write_png(png, res, args, t_final)

    if not args.quiet:
        stop = f", steady after {taken} steps (t = {t_final:g})" if res.steady[0] else ""
        written = " and ".join(str(p) for p in (out, png) if p is not None)
        print(f"{steps} steps of {args.size} x {args.size} ({args.dtype}, {args.stencil}) on {res.backend} "
              f"in {elapsed:.2f} s{stop}; wrote {written}")
    return 0


def _write_png(path: Path, res, args, t_final: float) -> None:
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from . import plotting

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


# ----------------------------------------------------------------------------- bench


@subcommand(
    "bench", "time the solver backends, stencils and dtypes",
    "Time the FTCS solvers (gslib.benchmark.run_benchmark) for every combination of the chosen\n"
    "backends, stencils and dtypes, and print a table (cell updates per second and more).\n"
    "Backends that cannot run here (e.g. cuda without a GPU) are reported by the benchmark.\n\n"
    "example:\n"
    "  gslib bench --size 256 --backends cpu cuda --dtypes float32 --json bench.json")
def _bench(p: argparse.ArgumentParser):
    p.add_argument("--size", type=_int_at_least(4), default=128, metavar="N", help="grid side in cells (N x N)")
    p.add_argument("--batch", type=_int_at_least(1), default=None, metavar="B",
                   help="grids integrated together (None = automatic, chosen by the benchmark per backend)")
    p.add_argument("--steps", type=_int_at_least(1), default=None, metavar="S",
                   help="time steps per timing (None = automatic, chosen by the benchmark)")
    p.add_argument("--backends", nargs="+", choices=BENCH_BACKENDS, default=list(BENCH_BACKENDS), metavar="B",
                   help=f"backends to time, any of {', '.join(BENCH_BACKENDS)}")
    p.add_argument("--stencils", nargs="+", choices=STENCILS, default=list(STENCILS), metavar="S",
                   help=f"stencils to time, any of {', '.join(STENCILS)}")
    p.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES), metavar="D",
                   help=f"floating-point types to time, any of {', '.join(DTYPES)}")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the table's rows to FILE as JSON")
    _add_quiet(p, "progress")
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
    benchmark = importlib.import_module("gslib.benchmark")
    rows = benchmark.run_benchmark(size=args.size, batch=args.batch, steps=args.steps,
                                   backends=list(dict.fromkeys(args.backends)),
                                   stencils=list(dict.fromkeys(args.stencils)),
                                   dtypes=list(dict.fromkeys(args.dtypes)), progress=not args.quiet)
    print(benchmark.format_table(rows))
    if args.json is not None:
        from .provenance import record as provenance_record
        _write_json(args.json, provenance_record(args.command_line, rows=list(rows)))
    return 0


@subcommand(
    "dataset", "simulate one split of the CNN paper's training data into resumable chunks",
    "Simulate every pattern of one split of Scholz & Scholz (2022) (gslib.dataset): the paper's\n"
    "(f, k) points and pattern counts, one seed per pattern (never shared between splits), the\n"
    "paper's recipe at --scale paper or a smaller one at ci/book. Writes DIR/chunk_NNNNN.npz (no\n"
    "pickle) and DIR/manifest.json (points, seeds, recipe, gslib version, SHA-256 per chunk).\n"
    "Run the same command again after an interruption: finished chunks are kept, corrupt ones redone.\n\n"
    "example:\n"
    "  gslib dataset --split train --scale paper --out data/paper/train")
def _dataset(p: argparse.ArgumentParser):
    p.add_argument("--split", required=True, choices=("train", "val", "test", "train2", "val2"),
                   help="which of the paper's point lists to simulate")
    p.add_argument("--scale", choices=("ci", "book", "paper"), default=None,
                   help="recipe size: paper (128 x 128, t = 15000, all patterns), book, ci "
                        "(None = the GSLIB_SCALE environment variable, default book)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created; resumed if it holds this split)")
    p.add_argument("--chunk-size", type=_int_at_least(1), default=64, metavar="P", help="patterns per chunk file")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="solver backend, as for simulate")
    _add_quiet(p, "progress messages")
    return run_dataset


def run_dataset(args) -> int:
    """Run ``gslib dataset``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib dataset --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import dataset

    recipe = dataset.recipe_for(args.scale)
    log = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    manifest = dataset.build_split(args.split, args.out, recipe, chunk_size=args.chunk_size, backend=args.backend, log=log)
    log(f"{args.split}: {manifest['n_patterns']} patterns in {args.out} ({time.perf_counter() - t0:.1f} s this run)")
    return 0


@subcommand(
    "train", "train the CNN of Scholz & Scholz (2022) on dataset splits",
    "Train the paper's network (gslib.cnn, Table II: 277 723 parameters for 15 classes) with its\n"
    "augmentation on a training split and monitor a validation split (directories written by\n"
    "`gslib dataset`). The classes are those present in the training split. Writes into --out the\n"
    "best weights (lowest validation loss), model.json, history.csv, provenance.json and\n"
    "evaluation_val.json. Rerun the same command after an interruption: training resumes.\n\n"
    "example:\n"
    "  gslib train --train data/paper/train --val data/paper/val --out runs/pass1 --epochs 600")
def _train(p: argparse.ArgumentParser):
    p.add_argument("--train", required=True, metavar="DIR", help="training split directory")
    p.add_argument("--val", required=True, metavar="DIR", help="validation split directory")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (resumed if it holds a run)")
    p.add_argument("--epochs", type=_int_at_least(1), default=600, help="training epochs (the paper: 600)")
    p.add_argument("--batch-size", type=_int_at_least(1), default=128, help="samples per gradient step")
    p.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate")
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                   help="learning rate: constant (the paper) or a half cosine from --lr down to 1 %% of it")
    p.add_argument("--patience", type=_int_at_least(1), default=None,
                   help="stop after this many epochs without a lower validation loss (None: never)")
    p.add_argument("--no-augment", action="store_true", help="train without the paper's augmentation")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed of weights, shuffling, augmentation")
    p.add_argument("--note", default=None, help="a remark stored in provenance.json (e.g. how a run was resumed)")
    _add_quiet(p, "per-epoch output")
    return run_train


def run_train(args) -> int:
    """Run ``gslib train``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib train --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import cnn, dataset
    from .classes import NAMES

    train_split, val_split = dataset.load_split(args.train), dataset.load_split(args.val)
    names = sorted(set(train_split.label.tolist()), key=NAMES.index)
    y, y_val = cnn.labels_to_indices(train_split.label, names), cnn.labels_to_indices(val_split.label, names)
    t0 = time.perf_counter()
    history = cnn.train(train_split.x, y, val_split.x, y_val, class_names=names, out=args.out, epochs=args.epochs,
                        batch_size=args.batch_size, learning_rate=args.lr, patience=args.patience,
                        augment=not args.no_augment, seed=args.seed, schedule=args.schedule,
                        verbose=0 if args.quiet else 2)
    seconds = time.perf_counter() - t0
    model, names = cnn.load_model(args.out)
    evaluation = cnn.evaluate(model, names, val_split.x, val_split.label)
    out = Path(args.out)
    _write_json(out / "evaluation_val.json", evaluation)

    def summary(split):
        return {key: split.manifest[key] for key in ("split", "recipe", "n_patterns", "gslib_version")}

    record = cnn.provenance(args.command_line, seconds, training_seconds=cnn.training_seconds(out),
                            epochs_run=len(history.get("epoch", [])),
                            train_data=summary(train_split), val_data=summary(val_split),
                            **({"note": args.note} if args.note else {}))
    _write_json(out / "provenance.json", record)
    print(f"validation accuracy {evaluation['accuracy']:.4f} after {record['epochs_run']} epochs ({seconds:.0f} s)")
    return 0


@subcommand(
    "evaluate", "evaluate a trained CNN on a dataset split",
    "Classify every sample of a split (a directory written by `gslib dataset`) with a trained\n"
    "network (a directory written by `gslib train`, or a shipped one: pass1) and report the accuracy,\n"
    "the confusion matrix and per-class precision and recall.\n\n"
    "example:\n"
    "  gslib evaluate --model pass1 --data data/paper/test --out evaluation_test.json")
def _evaluate(p: argparse.ArgumentParser):
    p.add_argument("--model", required=True, metavar="DIR|NAME", help="training output directory or a shipped network (pass1)")
    p.add_argument("--data", required=True, metavar="DIR", help="split directory to classify")
    p.add_argument("--out", default=None, metavar="FILE", help="write the evaluation as JSON")
    return run_evaluate


def run_evaluate(args) -> int:
    """Run ``gslib evaluate``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib evaluate --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import cnn, dataset

    model, names = cnn.load_pretrained(args.model) if args.model in cnn.PRETRAINED else cnn.load_model(args.model)
    split = dataset.load_split(args.data)
    evaluation = cnn.evaluate(model, names, split.x, split.label)
    print(f"accuracy {evaluation['accuracy']:.4f} on {evaluation['n_samples']} samples of {args.data}")
    print(f"{'class':8s} {'precision':>9s} {'recall':>7s}")
    for name in names:
        p, r = evaluation["precision"][name], evaluation["recall"][name]
        print(f"{name:8s} {'-' if p is None else f'{p:.3f}':>9s} {'-' if r is None else f'{r:.3f}':>7s}")
    if args.out:
        _write_json(args.out, evaluation)
    return 0


@subcommand(
    "package-model", "ship a trained network with its records (evaluation on the test split, data provenance)",
    "Copy a finished training run (a directory written by `gslib train`) into DEST with its history and\n"
    "provenance, evaluate it on the test split (evaluation_test.json) and record how the train, val\n"
    "and test splits were made (datasets.json). This is how gslib/data/pretrained/pass1 is produced.\n\n"
    "example:\n"
    "  gslib package-model --run runs/paper/pass1 --train runs/paper/train --val runs/paper/val \\\n"
    "      --test runs/paper/test --dest gslib/data/pretrained/pass1")
def _package_model(p: argparse.ArgumentParser):
    p.add_argument("--run", dest="run_dir", required=True, metavar="DIR", help="training output directory")
    for split in ("train", "val", "test"):
        p.add_argument(f"--{split}", required=True, metavar="DIR", help=f"{split} split directory")
    p.add_argument("--dest", required=True, metavar="DIR", help="where to write the shipped network")
    return run_package_model


def run_package_model(args) -> int:
    """Run ``gslib package-model``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib package-model --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import cnn

    evaluation = cnn.package(args.run_dir, args.dest, train=args.train, val=args.val, test=args.test)
    print(f"test accuracy {evaluation['accuracy']:.4f} on {evaluation['n_samples']} samples; shipped to {args.dest}")
    return 0


# ----------------------------------------------------------------------------- infer

INFER_REGIMES = ("spots", "coral", "holes")  # gslib.spde.REGIMES, repeated so that --help imports nothing


@subcommand(
    "infer", "discover the stochastic equations of u and v from frames (force inference + PASTIS)",
    "Infer the equations du = F_u dt + noise, dv = F_v dt + noise from recorded frames of u and v\n"
    "(gslib.inference): linear force inference over a library of 17 candidate terms per field (1, U, V,\n"
    "..., UV^2, V^3, lap U, lap V, gradient products, lap^2 U, lap^2 V), with the O(dt) bias of frames\n"
    "far apart removed (trapezoidal estimator + Richardson extrapolation over frame lags), then sparse\n"
    "selection with PASTIS (or AIC/BIC) over an exhaustive search of the supports.\n\n"
    "DATA.npz must hold u and v, float arrays of shape (T, N, M) (frames, rows, columns), and dt (time\n"
    "between frames); optionally dx (grid spacing, default 1) and mask (bool, (N, M) or (T, N, M),\n"
    "True = valid; NaN is allowed where the mask is False). The result (.json) lists the selected\n"
    "terms per field with coefficients and standard errors, the noise estimate, the Pareto front, and\n"
    "under \"discretisation\" which Laplacian the data were found to have (--stencil auto, the default):\n"
    "each candidate's score (log-likelihood minus the penalty of its terms), the margin of the winner\n"
    "and whether it exceeds ln(1/p), the smallest margin the data are trusted to decide.\n\n"
    "example:\n"
    "  gslib infer frames.npz --out result.json\n"
    "  gslib infer --simulate coral --seed 1 --save-data coral.npz --out result.json")
def _infer(p: argparse.ArgumentParser):
    p.add_argument("data", nargs="?", default=None, metavar="DATA.npz",
                   help="frames to analyse (omit with --simulate)")
    p.add_argument("--out", default=None, metavar="FILE.json", help="write the result to this JSON file")
    g = p.add_argument_group("estimator and selection")
    g.add_argument("--criterion", choices=("PASTIS", "AIC", "BIC"), default="PASTIS",
                   help="model selection criterion: I - |B| ln(n0/p), I - |B|, I - |B| ln(tau)/2")
    g.add_argument("--p", type=_positive_float, default=0.001,
                   help="PASTIS: tolerated probability of a false term in the whole model, in (0, 1)")
    g.add_argument("--method", choices=("strat", "ito"), default="strat",
                   help="trapezoidal (Stratonovich) or plain Ito estimator")
    g.add_argument("--lags", type=_int_at_least(1), default=3,
                   help="frame lags combined by Richardson extrapolation (1 = the plain estimator)")
    g.add_argument("--weight", choices=("auto", "spectral", "white"), default="auto",
                   help="weight of the estimator: inverse noise covariance per Fourier mode (spectral), a "
                        "scalar (white), or auto (spectral unless cells are masked)")
    g.add_argument("--noise", choices=("auto", "conserved", "white"), default="auto",
                   help="noise model fitted to the data: a(q) = 2 (d0 + s2 |q|^2) / dV (auto), s2 only "
                        "(conserved), d0 only (white)")
    g.add_argument("--stencil", choices=ANALYSIS_STENCILS, default="auto",
                   help="discretisation of the candidate terms: 5-point, the CNN paper's 9-point (corners 1/4), the "
                        "isotropic 9-point (corners 1/6), spectral (-|q|^2), or auto: each one is tried and the "
                        "model that scores highest wins (its margin over the runner-up is reported)")
    g.add_argument("--measurement-noise", type=_measurement_noise, default="auto", metavar="auto|none|STD",
                   help="white noise on the recorded values (errors in variables): auto estimates its standard "
                        "deviation per field from the data and removes its bias; none; or a known STD for both fields")
    s = p.add_argument_group("simulated data (instead of DATA.npz)")
    s.add_argument("--simulate", choices=INFER_REGIMES, default=None, metavar="REGIME",
                   help=f"simulate the StochasticForceInference Gray-Scott example in a regime "
                        f"({', '.join(INFER_REGIMES)}): 64 x 64, conserved noise 0.01, frames 0.5 apart")
    s.add_argument("--seed", type=_int_at_least(0), default=0, help="seed of the simulation (--simulate)")
    s.add_argument("--frames", type=_int_at_least(6), default=500, help="recorded frames (--simulate)")
    s.add_argument("--save-data", default=None, metavar="FILE.npz", help="also save the simulated frames (--simulate)")
    _add_quiet(p, "the table of selected terms")
    return run_infer


def _load_frames(path: str):
    """u, v, dt, dx, mask from an .npz file; ValueError with a clear message for a bad file."""
    from .npz import read_npz

    data = read_npz(path, ("u", "v", "dt"), ("dx", "mask"), arg="DATA",
                    needs="the file needs u and v (T, N, M) and dt")

    def scalar(name, default=None):
        if name not in data:
            return default
        a = np.asarray(data[name])
        if a.size != 1 or a.dtype.kind not in "fiu":
            raise ValueError(f"{path}: {name} must be one number; got dtype {a.dtype}, shape {a.shape}")
        value = float(a.reshape(()))
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{path}: {name} = {value!r} must be a finite number > 0")
        return value

    dt, dx = scalar("dt"), scalar("dx", 1.0)
    u, v = np.asarray(data["u"]), np.asarray(data["v"])
    for name, a in (("u", u), ("v", v)):
        if a.dtype.kind not in "fiu" or a.ndim != 3:
            raise ValueError(f"{path}: {name} must be a real array of shape (T, N, M); "
                             f"got dtype {a.dtype}, shape {a.shape}")
    if u.shape != v.shape:
        raise ValueError(f"{path}: u and v must have the same shape; got {u.shape} and {v.shape}")
    if u.shape[0] < 6:
        raise ValueError(f"{path}: too few frames ({u.shape[0]}); force inference with 3 lags needs at least 6, "
                         "and hundreds for a reliable selection")
    return u, v, dt, dx, data.get("mask")


def _measurement_noise(text: str):
    """``--measurement-noise``: "auto", "none" or a standard deviation >= 0."""
    if text in ("auto", "none"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not auto, none or a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be auto, none or a finite standard deviation >= 0")
    return value


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
    from . import inference, spde
    from .provenance import record as provenance_record

    out = _check_output(args.out, ".json", "--out")
    save = _check_output(args.save_data, ".npz", "--save-data")
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
        u, v, dt, dx, mask = _load_frames(args.data)
        source = {"data": str(args.data)}
    t_sim = time.perf_counter() - t0
    res = inference.infer({"u": u, "v": v}, dt, dx, criterion=args.criterion, p=args.p, method=args.method,
                          lags=args.lags, weight=args.weight, noise=args.noise, mask=mask, stencil=args.stencil,
                          measurement_noise=args.measurement_noise)
    choice = res.discretisation
    seconds = time.perf_counter() - t0
    result = res.to_dict()
    if truth is not None:
        result["truth"] = truth
        result["relative_errors"] = inference.relative_errors(res.terms, truth)
        result["simulation_seconds"] = round(t_sim, 2)
    result.update(source)
    result["provenance"] = provenance_record(args.command_line, seconds)
    if out is not None:
        _write_json(out, result)
    if args.quiet and choice.get("decided") is False:
        print(f"{PROG}: warning: {choice['message']}", file=sys.stderr)
    if not args.quiet:
        sel = res.selection
        print(f"{sel.criterion} (p = {sel.p:g}, n0 = {sel.n0}): {sel.size} of {sel.n0} terms, "
              f"information {sel.information:.6g}; {res.inference.method} estimator, {res.inference.lags} lag(s), "
              f"{res.inference.weight} weight; {seconds:.1f} s")
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
            print(f"  measurement noise ({mn['source']}): std {std}"
                  + ("" if any(v > 0 for v in mn["std"].values()) else " (none corrected)"))
        for name, d in res.diffusion.items():
            print(f"  noise of {name}: D_eff = {d['D_eff']:.3e} (conserved sigma {d['conserved_sigma']:.4g}, "
                  f"white part {d['white_d0']:.2e}, measurement noise {d['measurement_noise']:.2e})")
        if out is not None:
            print(f"wrote {out}")
    return 0


@subcommand(
    "scan", "classify every point of a (k, f) parameter scan with a trained CNN (resumable, optionally on Dask)",
    "Simulate one pattern at every (k, f) point of a scan with the training recipe (gslib.scan; point i\n"
    "from seed 7000000 + i) and classify it with a network: predicted class, probabilities, entropy and\n"
    "the 256 activations of its embedding layer. Writes DIR/chunk_NNNNN.npz (no pickle) and\n"
    "DIR/manifest.json (recipe, network checksum, SHA-256 per chunk, machines, timings). Run the same\n"
    "command again after an interruption (even kill -9): finished chunks are kept, the rest computed.\n"
    "With --scheduler the chunks run on a Dask cluster (pip install 'dask[distributed]'); this\n"
    "process alone writes DIR.\n\n"
    "examples:\n"
    "  gslib scan --model pass1 --points paper --out runs/paper/scan1 --samples runs/paper/scan_samples\n"
    "  gslib scan --model pass2 --points paper --out runs/paper/scan2 --samples runs/paper/scan_samples\n"
    "  gslib scan --model runs/pass1 --points my_points.csv --out scan --scheduler tcp://10.0.0.5:8786\n"
    "  gslib scan --model pass1 --points paper --out scan --scheduler local:4   # 4 local workers")
def _scan(p: argparse.ArgumentParser):
    p.add_argument("--model", required=True, metavar="NAME|DIR",
                   help="a shipped network (pass1) or a directory written by `gslib train`")
    p.add_argument("--points", default="paper", metavar="paper|FILE.csv",
                   help="the CNN paper's 5481 points, or a CSV file with columns k, f (k first)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created; resumed if it holds this scan)")
    p.add_argument("--scale", choices=("ci", "book", "paper"), default=None,
                   help="recipe size (as for `gslib dataset`); must match the network's input side "
                        "(None = the scale whose samples fit the network: ci 48, book 64, paper 128)")
    p.add_argument("--chunk-size", type=_int_at_least(1), default=None, metavar="P",
                   help="points per chunk file (None = the existing scan's, else 64)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the chunks on a Dask cluster: a scheduler address (tcp://host:8786), or local:N "
                        "for N local worker processes (None = in this process)")
    p.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="solver backend, as for simulate (resolved where each chunk runs)")
    p.add_argument("--batch-size", type=_int_at_least(1), default=128, metavar="B", help="samples per network batch")
    p.add_argument("--samples", default=None, metavar="DIR",
                   help="keep the simulated samples in DIR (about 0.2 MB per point at paper scale) and classify "
                        "those already there without simulating: a second network scans the same patterns in minutes")
    _add_quiet(p, "progress messages")
    return run_scan


def run_scan(args) -> int:
    """Run ``gslib scan``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib scan --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import dataset, scan

    points = scan.scan_points(args.points)
    recipe = None if args.scale is None else dataset.recipe_for(args.scale)
    log = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    executor = scan.DaskExecutor(args.scheduler) if args.scheduler else scan.LocalExecutor()
    t0 = time.perf_counter()
    try:
        table = scan.run_scan(args.out, points, args.model, recipe, chunk_size=args.chunk_size, executor=executor,
                              backend=args.backend, batch_size=args.batch_size, samples=args.samples,
                              command=args.command_line, log=log)
    finally:
        executor.close()
    seconds = time.perf_counter() - t0
    names, counts = np.unique(table.label, return_counts=True)
    summary = ", ".join(f"{n} {c}" for c, n in sorted(zip(counts, names), key=lambda t: (-t[0], t[1])))
    print(f"scan: {len(table)} points in {args.out} ({int(table.failed.sum())} blew up); wall time {seconds:.1f} s "
          f"this run; classes: {summary}")
    return 0


@subcommand(
    "flag", "flag scan points that may show a pattern the network was not trained on",
    "Find candidate new pattern classes in a finished scan (gslib.scan.flag_candidates): points whose\n"
    "class probabilities have a high entropy, or whose embedding lies far from every training class\n"
    "(Mahalanobis or k-nearest-neighbour distance, threshold calibrated on the validation split), grouped\n"
    "into connected regions of the (k, f) lattice and ranked most novel first (distance from the class that\n"
    "fits best, in units of that class's spread, times the region's extent; kinds: novel, border, known).\n"
    "The training and validation splits (written by `gslib dataset` with the scan's recipe) are embedded\n"
    "with the scan's network.\n\n"
    "example:\n"
    "  gslib flag --scan runs/paper/scan1 --train runs/paper/train --val runs/paper/val --json flags.json")
def _flag(p: argparse.ArgumentParser):
    p.add_argument("--scan", required=True, metavar="DIR", help="scan directory written by `gslib scan`")
    p.add_argument("--train", required=True, metavar="DIR", help="training split of the scan's network")
    p.add_argument("--val", required=True, metavar="DIR", help="validation split (calibrates the thresholds)")
    p.add_argument("--model", default=None, metavar="NAME|DIR",
                   help="the scan's network (None = as recorded in the scan; its checksum is checked)")
    p.add_argument("--method", choices=("mahalanobis", "knn"), default="mahalanobis",
                   help="distance of an embedding from the training classes")
    p.add_argument("--quantile", type=_positive_float, default=0.99,
                   help="thresholds: this quantile of the validation samples' distances (and entropies)")
    p.add_argument("--criteria", nargs="+", choices=("entropy", "distance"), default=["entropy", "distance"],
                   help="which flags count (a point is flagged by any of them)")
    p.add_argument("--min-size", type=_int_at_least(1), default=2, metavar="N", help="smallest region reported (points)")
    p.add_argument("--order", choices=("novelty", "size"), default="novelty",
                   help="order of the regions: most novel first, or largest first")
    p.add_argument("--json", default=None, metavar="FILE", help="also write thresholds and regions as JSON")
    return run_flag


def run_flag(args) -> int:
    """Run ``gslib flag``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib flag --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import dataset, scan

    table = scan.load_scan_table(args.scan)
    recorded = table.meta["model"]
    net = scan._resolve_model(args.model or recorded["ref"])
    if net["weights_sha256"] != recorded["weights_sha256"]:
        raise ValueError(f"--model {net['ref']} is not the network that made the scan in {args.scan}")
    model, _ = scan._load_network(net["directory"], net["weights_sha256"])
    train, val = dataset.load_split(args.train), dataset.load_split(args.val)
    train_p, train_e = scan.classify_samples(model, train.x)
    val_p, val_e = scan.classify_samples(model, val.x)
    found = scan.flag_candidates(table, train_e, train.label, val_embeddings=val_e, val_probabilities=val_p,
                                 val_labels=val.label, method=args.method, quantile=args.quantile,
                                 criteria=args.criteria, min_size=args.min_size, order=args.order)
    t = found.thresholds
    print(f"{int(found.flagged.sum())} of {len(table)} points flagged (entropy > {t['entropy']:.3f} nats: "
          f"{int(found.flag_entropy.sum())}; {t['method']} distance > {t['distance']:.3g}: "
          f"{int(found.flag_distance.sum())}); {len(found.regions)} regions of >= {args.min_size} points")
    print(f"regions {'most novel' if args.order == 'novelty' else 'largest'} first; novel: relative distance > "
          f"{t['novelty']:.2f} (fits no known class)")
    print(f"{'region':>6s} {'kind':>6s} {'score':>6s} {'rel.d':>5s} {'points':>6s} {'k mean':>8s} {'f mean':>8s} "
          f"{'entropy':>7s} {'distance':>8s}  predicted")
    for r in found.regions:
        top = ", ".join(f"{name} {n}" for name, n in list(r["labels"].items())[:3])
        print(f"{r['id']:6d} {r['kind']:>6s} {r['score']:6.2f} {r['score_parts']['relative_distance']:5.2f} "
              f"{r['size']:6d} {r['k_mean']:8.5f} {r['f_mean']:8.5f} {r['entropy_mean']:7.3f} "
              f"{r['distance_mean']:8.3g}  {top}")
    if args.json:
        _write_json(args.json, dict(command=args.command_line, scan=str(args.scan), thresholds=t,
                                    regions=found.regions))
    return 0


@subcommand(
    "discovery-benchmark", "does discovery find a class it never saw? train without it, scan, flag, rank",
    "For each held-out class (gslib.discovery.holdout_benchmark): train the first-pass network without\n"
    "that class's patterns, classify the scan's kept samples with it (no simulation), run the discovery\n"
    "of `gslib flag`, and record the rank of the best region covering the area the full network labels\n"
    "as that class, the number of regions and the precision of the flagged points. Results go to\n"
    "OUT/holdout.json after every run, atomically, with provenance; rerun the same command after an\n"
    "interruption and it resumes (finished runs are kept, training and scans continue).\n\n"
    "example:\n"
    "  gslib discovery-benchmark --train runs/paper/train --val runs/paper/val --samples runs/paper/scan_samples \\\n"
    "      --scan pass1 --classes kappa,mu,theta,lambda --epochs 300 --out runs/paper/holdout")
def _discovery_benchmark(p: argparse.ArgumentParser):
    p.add_argument("--train", required=True, metavar="DIR", help="training split of the first pass")
    p.add_argument("--val", required=True, metavar="DIR", help="validation split of the first pass")
    p.add_argument("--samples", required=True, metavar="DIR", help="kept samples of the scan (`gslib scan --samples`)")
    p.add_argument("--scan", default="pass1", metavar="NAME|DIR",
                   help="the full network's scan of the same points, whose labels give each class's area")
    p.add_argument("--classes", default="kappa,mu,theta,lambda", metavar="A,B,...", help="classes to hold out, one run each")
    p.add_argument("--epochs", type=_int_at_least(1), default=300, help="training epochs per held-out network")
    p.add_argument("--schedule", choices=("constant", "cosine"), default="cosine", help="learning-rate schedule")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed of the trainings")
    p.add_argument("--batch-size", type=_int_at_least(1), default=128, metavar="B", help="samples per batch")
    p.add_argument("--out", required=True, metavar="DIR", help="benchmark directory (resumed if it holds one)")
    _add_quiet(p, "progress messages")
    return run_discovery_benchmark


def run_discovery_benchmark(args) -> int:
    """Run ``gslib discovery-benchmark``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib discovery-benchmark --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import discovery

    log = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    record = discovery.holdout_benchmark(args.out, train=args.train, val=args.val, samples=args.samples,
                                         scan=args.scan, classes=classes, epochs=args.epochs, schedule=args.schedule,
                                         seed=args.seed, batch_size=args.batch_size, command=args.command_line, log=log)
    print(f"{'held out':>8s} {'rank':>5s} {'by size':>7s} {'regions':>7s} {'precision':>9s} {'recall':>6s}")
    for r in record["runs"]:
        def show(value, fmt):
            return "-" if value is None else format(value, fmt)
        print(f"{r['held_out']:>8s} {show(r['rank'], 'd'):>5s} {show(r['rank_size'], 'd'):>7s} {r['n_regions']:7d} "
              f"{show(r['precision'], '.3f'):>9s} {show(r['recall'], '.3f'):>6s}")
    top3 = sum(r["rank"] is not None and r["rank"] <= 3 for r in record["runs"])
    print(f"top 3: {top3} of {len(record['runs'])} held-out classes; results in {Path(args.out) / 'holdout.json'}")
    return 0


@subcommand(
    "package-scan", "ship a finished scan as a compact .npz with its provenance",
    "Write DEST/scan.npz (k, f, predicted class, probabilities, entropy, failed flags, seeds and, unless\n"
    "--no-embedding, the embeddings as float16) and DEST/provenance.json (commands, recipe, network\n"
    "checksum, timings, machines) from a scan directory; with --train and --val also DEST/reference.npz,\n"
    "the embeddings of those splits, so that gslib.scan.flag_candidates runs on the shipped scan alone.\n"
    "This is how gslib/data/scans/pass1 is made; gslib.scan.load_shipped_scan reads it.\n\n"
    "example:\n"
    "  gslib package-scan --scan runs/paper/scan1 --train runs/paper/train --val runs/paper/val \\\n"
    "      --dest gslib/data/scans/pass1")
def _package_scan(p: argparse.ArgumentParser):
    p.add_argument("--scan", required=True, metavar="DIR", help="scan directory written by `gslib scan`")
    p.add_argument("--dest", required=True, metavar="DIR", help="where to write scan.npz and provenance.json")
    p.add_argument("--no-embedding", action="store_true", help="leave the embeddings out")
    p.add_argument("--train", default=None, metavar="DIR",
                   help="also ship the embeddings of this training split (reference.npz, for `flag` on the shipped scan)")
    p.add_argument("--val", default=None, metavar="DIR", help="and of this validation split (with --train)")
    p.add_argument("--samples", default=None, metavar="DIR",
                   help="the scan's kept samples (`gslib scan --samples`): also ship montage.npz, example patterns "
                        "of every predicted class")
    p.add_argument("--per-class", type=_int_at_least(1), default=8, metavar="N", help="montage patterns per class")
    p.add_argument("--simulated-by", default=None, metavar="DIR",
                   help="the scan that simulated the kept samples, when --scan only classified them (recorded)")
    p.add_argument("--note", default=None, help="a remark stored in provenance.json")
    return run_package_scan


def run_package_scan(args) -> int:
    """Run ``gslib package-scan``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib package-scan --help``).

    Returns
    -------
    int
        The exit code.
    """
    from . import dataset, scan

    reference = None
    if (args.train is None) != (args.val is None):
        raise ValueError("give both --train and --val, or neither")
    if args.train is not None:
        model_info = scan.load_scan_table(args.scan, embedding=False).meta["model"]
        net = scan._resolve_model(model_info["ref"])
        if net["weights_sha256"] != model_info["weights_sha256"]:
            raise ValueError(f"the network {net['ref']} is no longer the one that made the scan in {args.scan}")
        model, _ = scan._load_network(net["directory"], net["weights_sha256"])
        reference = {}
        for name, directory in (("train", args.train), ("val", args.val)):
            split = dataset.load_split(directory)
            probabilities, embedding = scan.classify_samples(model, split.x)
            reference.update({f"{name}_embedding": embedding.astype(np.float16), f"{name}_label": split.label,
                              f"{name}_probabilities": probabilities})
    record = scan.package_scan(args.scan, args.dest, embedding=not args.no_embedding, reference=reference,
                               samples=args.samples, per_class=args.per_class, simulated_by=args.simulated_by,
                               note=args.note,
                               command=args.command_line)
    size = sum((Path(args.dest) / name).stat().st_size for name in record["sha256"])
    print(f"{record['n_points']} points shipped to {args.dest} ({size / 1e6:.1f} MB)")
    return 0


# ----------------------------------------------------------------------------- invert


@subcommand(
    "invert", "recover Du, Dv, F, k from one steady pattern by least squares on its residual",
    "Recover the parameters (Du, Dv, F, k) of the Gray-Scott model from one steady pattern\n"
    "(gslib.landscape.residual_fit). On a steady state the right-hand sides vanish,\n"
    "  r_u = Du lap u - u v^2 + F (1 - u) = 0,   r_v = Dv lap v + u v^2 - (F + k) v = 0,\n"
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
    "written, marked \"explained\": false, with a warning.\n\n"
    "exit codes: 0 the fit explains the pattern; 2 bad input (unreadable file, uniform pattern, bad\n"
    "option); 3 the model does not explain the pattern (its parameters are not to be trusted).\n\n"
    "STEADY.npz must hold u and v, real arrays of shape (N, M), and dx (the grid spacing); files written\n"
    "by `gslib simulate --out` qualify (their true parameters are then compared with the fit).\n"
    "params.json holds {\"Du\", \"Dv\", \"F\", \"k\", \"stderr\": {same keys},\n"
    "\"relative_stderr\", \"covariance\" (order Du, Dv, F, k), \"residual_rms\", \"condition\", ...}.\n\n"
    "example:\n"
    "  gslib simulate --initial landscape --Du 0.16 --Dv 0.08 --f 0.035 --k 0.065 --dt 1 --stencil 5pt \\\n"
    "      --dtype float64 --t-end 40000 --steady-tol 1e-4 --out steady.npz\n"
    "  gslib invert steady.npz --out params.json")
def _invert(p: argparse.ArgumentParser):
    p.add_argument("steady", metavar="STEADY.npz", help="the steady pattern: u, v (N, M) and dx")
    p.add_argument("--stencil", choices=ANALYSIS_STENCILS, default=None,
                   help="Laplacian of the residual; it must be the simulation's (None = the file's 'stencil' "
                        "entry if it has one, else auto: the stencil with the smallest residual)")
    p.add_argument("--noise", type=_finite_float, default=0.0, metavar="SIGMA",
                   help="standard deviation of white measurement noise on u and v, if known: its bias on the "
                        "diffusivities (errors in variables, growing like SIGMA^2) is removed; 0 = no correction")
    p.add_argument("--out", default=None, metavar="FILE.json", help="write the parameters and their errors as JSON")
    _add_quiet(p, "the table of parameters")
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
        The exit code.
    """
    from . import landscape
    from .provenance import record as provenance_record

    out = _check_output(args.out, ".json", "--out")
    t0 = time.perf_counter()
    u, v, dx, truth = landscape.load_steady(args.steady)
    recorded = None
    with np.load(args.steady, allow_pickle=False) as npz:
        if "stencil" in npz.files and npz["stencil"].dtype.kind == "U" and npz["stencil"].size == 1:
            recorded = str(npz["stencil"].reshape(()))
    stencil = args.stencil or (recorded if recorded in ANALYSIS_STENCILS[1:] else "auto")
    if recorded in ANALYSIS_STENCILS[1:] and stencil != "auto" and recorded != stencil:
        print(f"{PROG}: warning: {args.steady} was simulated with the {recorded} stencil but --stencil {stencil} "
              "was asked: the fit will be biased", file=sys.stderr)
    if args.noise < 0:
        raise ValueError(f"--noise={args.noise:g} must be >= 0")
    fit = landscape.residual_fit(u, v, dx, stencil, noise=args.noise, on_unexplained="ignore")
    seconds = time.perf_counter() - t0
    result = fit.to_dict()
    result = {**result.pop("params"), **result}  # Du, Dv, F, k at the top, their errors under "stderr"
    result.update(source=str(args.steady), grid=list(u.shape))
    if truth:
        result["truth"] = truth
        result["relative_errors"] = {name: fit.params[name] / truth[name] - 1 if truth[name] else None
                                     for name in landscape.PARAMS}
    result["provenance"] = provenance_record(args.command_line, seconds)
    if out is not None:
        _write_json(out, result)
    if not args.quiet:
        corrected = f", corrected for noise {args.noise:g}" if args.noise > 0 else ""
        print(f"{u.shape[0]} x {u.shape[1]} pattern, {fit.stencil} stencil, dx = {dx:g}{corrected}: residual rms "
              f"{fit.residual_rms:.3g} (relative {fit.relative_residual:.2g}), condition {fit.condition:.3g}, "
              f"{seconds:.2f} s")
        print(f"  {fit.discretisation['message']}")
        for name in landscape.PARAMS:
            line = f"  {name:3s} {fit.params[name]:.8g} +- {fit.stderr[name]:.2g}"
            if truth:
                line += f"   (true {truth[name]:g}, relative error {result['relative_errors'][name]:+.2e})"
            print(line)
        if out is not None:
            print(f"wrote {out}")
    if fit.discretisation.get("decided") is False:
        print(f"{PROG}: warning: {fit.discretisation['message']}", file=sys.stderr)
    if not fit.explained:
        print(f"{PROG}: warning: the model does not explain {args.steady}: the relative residual "
              f"|r|/|b| = {fit.relative_residual:.3g} exceeds {landscape.UNEXPLAINED_THRESHOLD:g} (a settled pattern "
              "leaves about 1e-3). It is not a steady state of the Gray-Scott model: it still moves, or another "
              "model made it; the parameters above are not to be trusted", file=sys.stderr)
        return EXIT_UNEXPLAINED
    return 0


# ----------------------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    """The ``gslib`` parser with every registered subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_Formatter,
        description="Gray-Scott pattern formation: simulations and tools of the gsbook companion library.\n"
                    "Units: model time and length units (lattice units with --dx 1); rates in 1/time.\n"
                    f"Run '{PROG} COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, help_, description, configure in _SUBCOMMANDS:
        p = sub.add_parser(name, help=help_, description=description, formatter_class=_Formatter)
        p.set_defaults(run=configure(p))
    return parser


def main(argv=None) -> int:
    """Run the ``gslib`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.
    """
    from ._optional import MissingExtraError
    from .solvers import BlowUpError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    args.command_line = shlex.join([PROG, *(sys.argv[1:] if argv is None else argv)])
    try:
        code = args.run(args)
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (BlowUpError, MissingExtraError, OSError) as exc:  # MissingExtraError: an extra is not installed
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0 if code is None else int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
