"""How the subcommands of ``gslib`` register themselves, and the help format they share.

Each subcommand is one function decorated with :func:`subcommand`: it receives its own
``argparse`` parser, adds its options, and returns the function that runs it (which takes the
parsed namespace and returns an exit code, ``None`` meaning 0). :func:`gslib.cli.build_parser`
gives every registered subcommand its parser, in the order of registration.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["PROG", "SUBCOMMANDS", "HelpFormatter", "subcommand"]

#: The name of the console command.
PROG = "gslib"

#: The registered subcommands: (name, one-line help, description, configure), in the order of registration.
SUBCOMMANDS: list[tuple[str, str, str, Callable]] = []


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults after every option and keep the descriptions' line breaks.

    Parameters
    ----------
    prog : str
        The program's name in the usage line.
    indent_increment, max_help_position, width : int, optional
        As for :class:`argparse.HelpFormatter`.
    """


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

    Raises
    ------
    ValueError
        If a subcommand of that name is already registered.
    """

    def register(configure: Callable) -> Callable:
        if any(entry[0] == name for entry in SUBCOMMANDS):
            raise ValueError(f"the subcommand {name!r} is registered twice")
        SUBCOMMANDS.append((name, help, description or help, configure))
        return configure

    return register
