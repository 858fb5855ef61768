"""Helpers for the book's chapters: quiet imports, values shown in the page, recorded results.

The chapters of gsbook are notebooks that a reader runs on a laptop, on Colab, on a JupyterHub or
on Binder, and that ``jupyter-book`` renders. The functions here keep the bookkeeping out of them:

* :func:`quiet_native_stderr` and :func:`import_keras` keep the start-up notices that TensorFlow's
  C++ code writes to file descriptor 2 out of the page;
* :func:`glue` shows a number computed in the page in the text (myst-nb's ``glue``), and does
  nothing where myst-nb is not installed (a plain Jupyter);
* :func:`provenance` and :func:`recorded_result` turn the provenance record of an artefact that the
  book loads (a network trained at paper scale, a scan) into the line a reader sees: command,
  version, machine, date;
* :func:`chapter_time` reads the recorded time of a chapter at book scale
  (``gslib/data/book_timings.json``, written by ``python -m gslib.notebook time-chapters``).
* :func:`install_cell_source` is the first code cell of every chapter, which installs gslib where
  it is missing; ``python -m gslib.notebook sync-install-cells book/*.ipynb`` puts it in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from importlib import resources

from ._jsonio import write_json
from ._log import progress_logger, show_progress
from ._validate import check_choice
from .scale import ENV_VAR, SCALES

__all__ = [
    "INSTALL_CELL_TAG",
    "INSTALL_ENV_VAR",
    "REPOSITORY_URL",
    "chapter_time",
    "class_label",
    "duration",
    "glue",
    "import_keras",
    "install_cell_source",
    "is_install_cell",
    "provenance",
    "quiet_native_stderr",
    "recorded_result",
    "sync_install_cells",
]

#: The published repository of the book: the install cell of every chapter, the repository button
#: and the launch buttons of the rendered pages are made from it (tests/test_install.py checks that
#: ``_config.yml`` names the same).
REPOSITORY_URL = "https://github.com/gsbook/gsbook"

TIMINGS_FILE = "book_timings.json"


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence file descriptor 2 while the block runs.

    TensorFlow's C++ code writes its start-up notices straight to file descriptor 2, where
    ``sys.stderr`` redirection does not reach. Python exceptions raised in the block are not
    affected: they propagate as usual.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real file behind sys.stderr
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def import_keras():
    """Import Keras and start its backend with the start-up notices hidden; return the module.

    Raises
    ------
    ImportError
        :class:`gslib.MissingExtraError` if Keras 3, or a framework it runs on, is not installed; the
        message names the ``pip install`` that adds it (and ``KERAS_BACKEND``).
    """
    from ._optional import import_keras as _import_keras

    with quiet_native_stderr():
        keras = _import_keras("the CNN chapters")  # gslib.MissingExtraError names the extra to install
        import numpy as np

        keras.ops.convert_to_tensor(np.zeros(1))  # the first tensor operation starts the runtime
    return keras


def duration(seconds: float) -> str:
    """A duration in words.

    Parameters
    ----------
    seconds : float
        The duration, >= 0.

    Returns
    -------
    str
        ``"42.0 s"``, ``"3.5 min"`` or ``"2.1 h"``.

    Raises
    ------
    ValueError
        If ``seconds`` is negative or not a number.
    """
    seconds = float(seconds)
    if not seconds >= 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def class_label(name: str) -> str:
    """The label of a class in tables and legends: ``"α alpha"``, but plain ``"L"`` and ``"H"``.

    Parameters
    ----------
    name : str
        A class name; names that are not classes (for example a candidate region) are
        returned as they are.

    Returns
    -------
    str
        The label.
    """
    from .classes import NAMES, by_name

    if name not in NAMES:
        return name
    symbol = by_name(name).symbol
    return name if symbol == name else f"{symbol} {name}"


def glue(name: str, value, display: bool = False):
    """Make ``value`` available to the page's text as ``{glue:text}`name``` (myst-nb's ``glue``).

    Where myst-nb is not installed (a plain Jupyter, Colab) nothing is glued.

    Parameters
    ----------
    name : str
        The name the text refers to.
    value : object
        The value.
    display : bool, optional
        Also show the value in the cell's output.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:
        if display:
            from IPython.display import display as _display

            _display(value)
        return
    _glue(name, value, display=display)


def provenance(record: dict, *, command: bool = True) -> str:
    """One line from a provenance record: ``gslib 0.1.0, AMD EPYC, 2 logical CPUs, 2026-11-22``.

    Parameters
    ----------
    record : dict
        A record as :func:`gslib.provenance.record` writes it (keys ``command``,
        ``gslib_version``, ``machine``, ``finished``).
    command : bool, optional
        Put the command first, in backticks.

    Returns
    -------
    str
        The line.

    Raises
    ------
    ValueError
        If the record lacks a provenance key.
    """
    missing = [key for key in ("gslib_version", "machine", "finished") if key not in record]
    if missing:
        raise ValueError(f"record lacks the provenance keys {missing}; it has {sorted(record)}")
    parts = [f"gslib {record['gslib_version']}", record["machine"], str(record["finished"])[:10]]
    line = ", ".join(parts)
    if command and record.get("command"):
        line = f"`{record['command']}`; {line}"
    return line


def recorded_result(text: str, record: dict, *, title: str = "Recorded result"):
    """A boxed recorded result: ``text`` (Markdown) above the provenance of ``record``.

    Parameters
    ----------
    text : str
        The result, in Markdown.
    record : dict
        Its provenance record (:func:`provenance`).
    title : str, optional
        Heading of the box.

    Returns
    -------
    IPython.display.Markdown
        Shown as a box by the rendered book and as formatted text by Jupyter.
    """
    from IPython.display import Markdown

    body = "\n".join(f"> {line}" for line in text.strip().splitlines())
    return Markdown(f"> **{title}.**\n{body}\n>\n> *Made by* {provenance(record)}.")


def _timings_path():
    return resources.files("gslib") / "data" / TIMINGS_FILE


def chapter_time(chapter: str) -> str:
    """The recorded time of one chapter at book scale, in words, with its provenance.

    Parameters
    ----------
    chapter : str
        The notebook's name without its suffix, e.g. ``"01_gray_scott_model"``.

    Returns
    -------
    str
        The time in words, with the machine, gslib version and date of the record.

    Raises
    ------
    ValueError
        If no time is recorded for ``chapter``.
    """
    data = json.loads(_timings_path().read_text())
    chapters = data["chapters"]
    if chapter not in chapters:
        raise ValueError(f"chapter must be one of {sorted(chapters)}, got {chapter!r}")
    return (
        f"about {duration(chapters[chapter])} at book scale "
        f"(recorded on {data['machine']}, gslib {data['gslib_version']}, {data['finished'][:10]})"
    )


def time_chapters(notebooks, *, scale: str = "book", out=None, timeout: int = 3600, log=None) -> dict:
    """Run each chapter notebook at ``scale`` with nbclient and record its wall time.

    The record (times in seconds, with provenance) is written to ``out`` (by default the package's
    ``data/book_timings.json``, which :func:`chapter_time` reads) after every chapter, atomically, so a
    run that is stopped keeps the chapters it finished. ``GSLIB_SCALE`` is set to ``scale`` for the
    chapters' kernels while they run, and restored afterwards.

    Parameters
    ----------
    notebooks : iterable of str or pathlib.Path
        The chapter notebooks.
    scale : {'book', 'ci', 'paper'}, optional
        The ``GSLIB_SCALE`` to run them at.
    out : str or pathlib.Path, optional
        The record file.
    timeout : int, optional
        Seconds allowed per cell.
    log : callable, optional
        Where each chapter's time is reported (default: the logger ``gslib.notebook``).

    Returns
    -------
    dict
        The record.

    Raises
    ------
    ValueError
        If ``scale`` is not a scale.
    """
    import time
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    from . import provenance as _prov

    scale = check_choice("scale", scale, SCALES)
    say = progress_logger(log, __name__)
    out = Path(out) if out is not None else Path(str(_timings_path()))
    previous = json.loads(out.read_text()) if out.exists() else {}
    chapters = dict(previous.get("chapters", {})) if previous.get("scale") == scale else {}
    saved = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = scale  # the kernels that nbclient starts inherit it
    record = {}
    try:
        for path in map(Path, notebooks):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
            ).execute()
            chapters[path.stem] = round(time.perf_counter() - start, 1)
            record = _prov.record(
                f"python -m gslib.notebook time-chapters --scale {scale} book/*.ipynb", scale=scale, chapters=chapters
            )
            write_json(out, record)
            say(f"{path.stem}: {duration(chapters[path.stem])}")
    finally:
        if saved is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = saved
    return record


# ----------------------------------------------------------------------------- the install cell

#: The tag of every chapter's install cell (with ``hide-input``, which folds it in the rendered book).
INSTALL_CELL_TAG = "gsbook-install"
#: The environment variable that replaces the install cell's pip requirement (e.g. a local checkout,
#: or ``--no-index --find-links /srv/wheels gslib[book]`` on an offline course server).
INSTALL_ENV_VAR = "GSBOOK_INSTALL"
_INSTALL_MARKER = "# Installs gslib"
_INSTALL_CELL = f'''{_INSTALL_MARKER}, the book's library, where it is missing (Colab, Binder); \
{INSTALL_ENV_VAR}="pip arguments" overrides it.
import importlib, importlib.util, os, shlex, site, subprocess, sys

if importlib.util.find_spec("gslib") is None:
    frameworks = [name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name)]
    extras = "book" if frameworks else "book,tensorflow"
    default = f"gslib[{{extras}}] @ git+{{url}}"
    args = shlex.split(os.environ.get("{INSTALL_ENV_VAR}", "")) or [default]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)
    if site.ENABLE_USER_SITE:
        site.addsitedir(site.getusersitepackages())
    importlib.invalidate_caches()'''


def install_cell_source(repository_url: str = REPOSITORY_URL) -> str:
    """The source of the first code cell of every chapter: install gslib where it is missing.

    The cell does nothing where ``gslib`` is importable. Elsewhere it runs ``pip`` of the kernel's own
    interpreter (``sys.executable -m pip``: Colab, a JupyterHub, Binder, a laptop) on
    ``gslib[book] @ git+<repository_url>``, with the extra ``tensorflow`` where none of TensorFlow,
    JAX and PyTorch is importable. The environment variable ``GSBOOK_INSTALL`` replaces that
    requirement by its own pip arguments (a local checkout, a wheel folder).

    Parameters
    ----------
    repository_url : str
        The git repository to install from, by default :data:`REPOSITORY_URL`.

    Returns
    -------
    str
        Plain Python (no IPython magics), at most 15 lines.

    Raises
    ------
    ValueError
        If ``repository_url`` is not an ``https://`` URL without quotes or spaces.
    """
    url = str(repository_url)
    if not url.startswith("https://") or any(ch in url for ch in "\"' \n{}"):
        raise ValueError(f"repository_url must be an https:// URL without quotes or spaces, got {repository_url!r}")
    # the f-string of the cell names {extras}; {url} is filled in here
    return _INSTALL_CELL.replace("{url}", url)


def is_install_cell(cell) -> bool:
    """Whether a notebook cell is a chapter's install cell.

    Parameters
    ----------
    cell : dict
        A notebook cell (nbformat 4).

    Returns
    -------
    bool
        True for a code cell tagged ``gsbook-install`` or starting with the install cell's comment.
    """
    if cell.get("cell_type") != "code":
        return False
    tags = cell.get("metadata", {}).get("tags", [])
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return INSTALL_CELL_TAG in tags or source.lstrip().startswith(_INSTALL_MARKER)


def sync_install_cells(notebooks, *, repository_url: str = REPOSITORY_URL) -> list:
    """Make the install cell the first code cell of each notebook; return the paths that changed.

    A previous install cell (recognised by :func:`is_install_cell`) is replaced, keeping its cell id;
    otherwise a new cell is inserted before the first code cell. The cell is tagged
    ``gsbook-install`` and ``hide-input`` (folded in the rendered book). Outputs and execution counts
    of all code cells are cleared, as the book stores its notebooks. A notebook already in order is
    not written.

    Parameters
    ----------
    notebooks : iterable of str or Path
        The ``.ipynb`` files.
    repository_url : str
        Passed to :func:`install_cell_source`.

    Returns
    -------
    list of Path
        The notebooks that were rewritten.

    Raises
    ------
    ValueError
        If a path does not end in ``.ipynb``.
    """
    from pathlib import Path

    import nbformat

    source = install_cell_source(repository_url)
    changed = []
    for path in map(Path, notebooks):
        if path.suffix != ".ipynb":
            raise ValueError(f"notebooks must be .ipynb files, got {str(path)!r}")
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        old = [i for i, cell in enumerate(nb.cells) if is_install_cell(cell)]
        cell_id = nb.cells[old[0]].get("id") if old else None
        for i in reversed(old):
            del nb.cells[i]
        first_code = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), len(nb.cells))
        position = min(old[0], first_code) if old else first_code
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INSTALL_CELL_TAG, "hide-input"]})
        if cell_id:
            cell.id = cell_id
        nb.cells.insert(position, cell)
        for each in nb.cells:
            if each.cell_type == "code":
                each.outputs = []
                each.execution_count = None
        if nbformat.writes(nb) != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def main(argv=None):
    """The command line of the module.

    ``python -m gslib.notebook time-chapters [--scale book] NOTEBOOK ...`` and
    ``python -m gslib.notebook sync-install-cells NOTEBOOK ...``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gslib.notebook")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("time-chapters", help="run chapters and record their wall times")
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--scale", choices=SCALES, default="book")
    p.add_argument("--out", default=None)
    p = sub.add_parser("sync-install-cells", help="make the install cell the first code cell of each chapter")
    p.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    show_progress()
    if args.command == "sync-install-cells":
        for path in sync_install_cells(args.notebooks):
            print(f"updated {path}")
        return
    time_chapters(args.notebooks, scale=args.scale, out=args.out)


if __name__ == "__main__":
    main()
