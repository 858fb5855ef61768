"""The ``gslib`` console command.

    gslib simulate --f 0.042 --k 0.063 --size 128 --t-end 15000 --out p.npz --png p.png
    gslib bench --size 128 --backends numpy cpu
    gslib --version

Each subcommand lives in a module of this package and registers itself with
:func:`gslib.cli.registry.subcommand`: simulate and bench (:mod:`gslib.cli.simulate`), the CNN's
data and training (:mod:`gslib.cli.learning`), equation inference (:mod:`gslib.cli.infer`), scans
and discovery (:mod:`gslib.cli.scanning`), the inverse problem (:mod:`gslib.cli.invert`). Option
groups that several share are in :mod:`gslib.cli.options`, the argument types in
:mod:`gslib.cli.argtypes`. A subcommand parses its options, calls the library and prints.

:func:`main` turns errors into one line ``gslib: error: <message>`` on stderr: a ``ValueError``
(bad input) exits with 2, a blown-up run or a failed write with 1. Progress messages of the library
(the loggers ``gslib.*``) are shown on stderr unless ``-q`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shlex
import sys

from .._log import show_progress
from .registry import PROG, SUBCOMMANDS, HelpFormatter

# The command modules register their subcommands on import, in this order (the order of `gslib --help`).
# isort: off
from . import simulate  # noqa: F401
from . import learning  # noqa: F401
from . import infer  # noqa: F401
from . import scanning  # noqa: F401
from . import invert  # noqa: F401

# isort: on
from .invert import EXIT_UNEXPLAINED

__all__ = ["EXIT_UNEXPLAINED", "PROG", "build_parser", "main"]

#: The registered subcommands (name, help, description, configure), in the order of `gslib --help`.
_SUBCOMMANDS = SUBCOMMANDS


def build_parser(commands=None) -> argparse.ArgumentParser:
    """The ``gslib`` parser with every registered subcommand.

    Parameters
    ----------
    commands : iterable of str, optional
        The subcommands whose options are added (default: all). The others are listed, with their
        help, but parse no options: :func:`main` configures only the subcommand it runs, so that one
        command does not import what the others need.

    Returns
    -------
    argparse.ArgumentParser
    """
    from .. import __version__

    wanted = None if commands is None else set(commands)
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=HelpFormatter,
        description="Gray-Scott pattern formation: simulations and tools of the gsbook companion library.\n"
        "Units: model time and length units (lattice units with --dx 1); rates in 1/time.\n"
        f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, help_, description, configure in SUBCOMMANDS:
        p = sub.add_parser(name, help=help_, description=description, formatter_class=HelpFormatter)
        if wanted is None or name in wanted:
            p.set_defaults(run=configure(p))
    return parser


def _command_of(argv) -> str | None:
    """The subcommand named in ``argv``: its first word that is not an option (``gslib`` takes no values)."""
    return next((a for a in argv if not a.startswith("-")), None)


@contextlib.contextmanager
def _progress(quiet: bool):
    """Show the library's progress messages on stderr while a subcommand runs (unless ``quiet``)."""
    logger = logging.getLogger("gslib")
    saved = logger.level, list(logger.handlers), logger.propagate
    if not quiet:
        show_progress(stream=sys.stderr)
    try:
        yield
    finally:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]


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
    from .._optional import MissingExtraError
    from ..solvers import BlowUpError

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser([_command_of(argv)])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    args.command_line = shlex.join([PROG, *argv])
    try:
        with _progress(getattr(args, "quiet", False)):
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
