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
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from importlib import resources

__all__ = ["REPOSITORY_URL", "chapter_time", "class_label", "duration", "glue", "import_keras",
           "provenance", "quiet_native_stderr", "recorded_result"]

#: The published repository of the book: the install cell of every chapter, the repository button
#: and the launch buttons of the rendered pages are made from it (tests/test_book.py checks that
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
        If Keras is not installed; the message names the ``pip install`` that adds it.
    """
    with quiet_native_stderr():
        try:
            import keras
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the CNN chapters need Keras 3 and a backend: "
                              "pip install 'gslib[cnn]' (and 'gslib[tensorflow]' where no TensorFlow, "
                              "JAX or PyTorch is installed)") from exc
        import numpy as np
        keras.ops.convert_to_tensor(np.zeros(1))  # the first tensor operation starts the runtime
    return keras


def duration(seconds: float) -> str:
    """A duration in words: ``"42.0 s"``, ``"3.5 min"`` or ``"2.1 h"``."""
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

    Names that are not classes (for example a candidate region) are returned as they are.
    """
    from .classes import NAMES, by_name
    if name not in NAMES:
        return name
    symbol = by_name(name).symbol
    return name if symbol == name else f"{symbol} {name}"


def glue(name: str, value, display: bool = False):
    """Show ``value`` in the page's text as ``{glue:text}`name``` (myst-nb's ``glue``).

    Where myst-nb is not installed (a plain Jupyter, Colab) nothing is glued; the value is shown
    in the cell's output when ``display`` is true.
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

    With ``command`` true the command comes first, in backticks. Records are the ones
    :func:`gslib.provenance.record` writes (keys ``command``, ``gslib_version``, ``machine``,
    ``finished``).
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

    Returns an IPython Markdown object, which the rendered book shows as a box and Jupyter as
    formatted text.
    """
    from IPython.display import Markdown
    body = "\n".join(f"> {line}" for line in text.strip().splitlines())
    return Markdown(f"> **{title}.**\n{body}\n>\n> *Made by* {provenance(record)}.")


def _timings_path():
    return resources.files("gslib") / "data" / TIMINGS_FILE


def chapter_time(chapter: str) -> str:
    """The recorded time of one chapter at book scale, in words, with its provenance.

    ``chapter`` is the notebook's name without its suffix, e.g. ``"01_gray_scott_model"``.
    """
    data = json.loads(_timings_path().read_text())
    chapters = data["chapters"]
    if chapter not in chapters:
        raise ValueError(f"chapter must be one of {sorted(chapters)}, got {chapter!r}")
    return (f"about {duration(chapters[chapter])} at book scale "
            f"(recorded on {data['machine']}, gslib {data['gslib_version']}, {data['finished'][:10]})")


def time_chapters(notebooks, *, scale: str = "book", out=None, timeout: int = 3600) -> dict:
    """Run each chapter notebook at ``scale`` with nbclient and record its wall time.

    The record (times in seconds, with provenance) is written to ``out`` (by default the package's
    ``data/book_timings.json``, which :func:`chapter_time` reads) after every chapter, so a run that
    is stopped keeps the chapters it finished.
    """
    import time
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    from . import provenance as _prov
    from .scale import ENV_VAR, SCALES

    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    out = Path(out) if out is not None else Path(str(_timings_path()))
    previous = json.loads(out.read_text()) if out.exists() else {}
    chapters = dict(previous.get("chapters", {})) if previous.get("scale") == scale else {}
    os.environ[ENV_VAR] = scale
    record = {}
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        chapters[path.stem] = round(time.perf_counter() - start, 1)
        record = _prov.record(f"python -m gslib.notebook time-chapters --scale {scale} book/*.ipynb",
                              scale=scale, chapters=chapters)
        out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"{path.stem}: {duration(chapters[path.stem])}", flush=True)
    return record


def main(argv=None):
    """``python -m gslib.notebook time-chapters [--scale book] NOTEBOOK ...``"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gslib.notebook")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("time-chapters", help="run chapters and record their wall times")
    p.add_argument("notebooks", nargs="+")
    p.add_argument("--scale", default="book")
    p.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    time_chapters(args.notebooks, scale=args.scale, out=args.out)


if __name__ == "__main__":
    main()
