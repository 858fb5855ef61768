"""Option groups that several ``gslib`` subcommands share, and the choices they offer.

The choices come from the library (the solvers' stencils, backends and floating-point types, the
analysis Laplacians, the dataset splits, the scales), so that a stencil or backend added there
appears on the command line too.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from .. import dataset, networks, scale
from ..initial import INITIAL_CONDITIONS
from ..params import DTYPES
from ..solvers import BACKENDS
from ..solvers.stencils import ANALYSIS_STENCILS as _ANALYSIS
from ..solvers.stencils import STENCILS
from .argtypes import integer, real

__all__ = [
    "STENCILS",
    "BACKENDS",
    "BENCH_BACKENDS",
    "DTYPES",
    "INITIALS",
    "ANALYSIS_STENCILS",
    "SPLITS",
    "SCALES",
    "SCHEDULES",
    "add_model_options",
    "add_initial_options",
    "add_quiet",
    "check_output",
    "as_options",
]

#: The backends that `gslib bench` times: the solvers' backends without "auto".
BENCH_BACKENDS = tuple(b for b in BACKENDS if b != "auto")
#: The initial conditions of gslib.initial that `gslib simulate` offers (cnn_seed, sfi_seed, landscape_seed).
INITIALS = INITIAL_CONDITIONS
#: The Laplacians of `gslib infer` and `gslib invert`: "auto" (each one tried) and the analysis stencils.
ANALYSIS_STENCILS = ("auto", *_ANALYSIS)
#: The dataset splits of the CNN paper.
SPLITS = tuple(dataset.SPLITS)
#: The scales of gslib.scale.
SCALES = tuple(scale.SCALES)
#: The learning-rate schedules of gslib.cnn.train.
SCHEDULES = networks.SCHEDULES


def add_model_options(p: argparse.ArgumentParser) -> None:
    """Add the Gray-Scott parameters and the solver's discretisation to a parser.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser.
    """
    g = p.add_argument_group("model and solver")
    g.add_argument("--f", type=real(), default=0.042, metavar="F", help="feed rate f (1/time unit), >= 0")
    g.add_argument("--k", type=real(), default=0.063, metavar="K", help="kill rate k (1/time unit), >= 0")
    g.add_argument(
        "--Du", type=real(), default=0.2, metavar="D", help="diffusivity of u (length unit^2/time unit), >= 0"
    )
    g.add_argument(
        "--Dv", type=real(), default=0.1, metavar="D", help="diffusivity of v (length unit^2/time unit), >= 0"
    )
    g.add_argument(
        "--dt",
        type=real(positive=True),
        default=0.25,
        metavar="DT",
        help="time step (time units); must respect the stencil's stability bound, "
        "dx^2/(2 max(Du, Dv)) for 9pt and dx^2/(4 max(Du, Dv)) for 5pt",
    )
    g.add_argument("--dx", type=real(positive=True), default=1.0, metavar="DX", help="grid spacing (length units)")
    g.add_argument(
        "--stencil",
        choices=STENCILS,
        default="9pt",
        help="discrete Laplacian: 5pt (edges 1, centre -4) or 9pt (the CNN paper's: edges 1/2, corners 1/4, centre -3)",
    )
    g.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="numpy (reference), cpu (Numba), cuda (Numba CUDA), auto (cuda if a GPU is visible, else cpu)",
    )
    g.add_argument("--dtype", choices=DTYPES, default="float32", help="floating-point type of the fields")


def add_initial_options(p: argparse.ArgumentParser) -> None:
    """Add the grid size and the initial condition (gslib.initial) to a parser.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser.
    """
    g = p.add_argument_group("grid and initial condition")
    g.add_argument(
        "--size", type=integer(4), default=128, metavar="N", help="grid side in cells: an N x N periodic grid"
    )
    g.add_argument(
        "--initial",
        choices=INITIALS,
        default="cnn",
        help="initial condition: cnn (random Gamma-shaped spots of Scholz & Scholz 2022), "
        "sfi (noisy central block of StochasticForceInference), landscape (noisy "
        "central block of the loss-landscape study)",
    )
    g.add_argument("--seed", type=integer(0), default=0, help="seed of the random numbers of the initial condition")
    g.add_argument(
        "--square",
        type=integer(1),
        default=None,
        metavar="CELLS",
        help="side of the seed blocks in cells, for cnn and landscape (None = automatic: "
        "round(20 * N / 128), i.e. 20 on the paper's 128 x 128 grid: gslib.initial.paper_square)",
    )
    g.add_argument(
        "--noise",
        type=real(),
        default=0.02,
        metavar="SIGMA",
        help="standard deviation of the Gaussian noise added to u and v (dimensionless), for sfi and landscape",
    )


def add_quiet(p: argparse.ArgumentParser, what: str = "the progress bar and the summary") -> None:
    """Add ``-q/--quiet`` to a parser.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The subcommand's parser.
    what : str
        What the option silences, for its help.
    """
    p.add_argument("-q", "--quiet", action="store_true", help=f"do not print {what}")


def check_output(path: str | None, suffix: str, option: str) -> Path | None:
    """The file an output option names, checked before any work is done.

    Parameters
    ----------
    path : str or None
        The option's value (``None``: the option was not given).
    suffix : str
        The suffix the file must have, e.g. ``".npz"``.
    option : str
        The option, for the messages.

    Returns
    -------
    pathlib.Path or None
        The path, or ``None`` when ``path`` is ``None``.

    Raises
    ------
    ValueError
        If the suffix is wrong or the path is a directory.
    """
    if path is None:
        return None
    out = Path(path)
    if out.suffix.lower() != suffix:
        raise ValueError(f"{option}={path!r} must end in {suffix}")
    if out.exists() and out.is_dir():
        raise ValueError(f"{option}={path!r} is a directory; give a file name ending in {suffix}")
    return out


def as_options(err: ValueError, names: dict) -> ValueError:
    """A library's ValueError reworded with the command line's option names.

    Parameters
    ----------
    err : ValueError
        The library's error, naming its arguments (``n=16 is too small for square=20 ...``).
    names : dict
        Library argument -> option (``{"n": "--size", "square": "--square"}``).

    Returns
    -------
    ValueError
        The same message, each ``name=`` written as its option.
    """
    text = str(err)
    for name, option in names.items():
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?==)", option, text)
    return ValueError(text)
