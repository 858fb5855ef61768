"""Reading user-supplied .npz files: plain numeric arrays only (no pickle), with clear errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def read_npz(path, required, optional=(), *, arg: str, needs: str) -> dict:
    """Arrays of an .npz file: every key of ``required`` and those of ``optional`` that are present.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    required : sequence of str
        Keys the file must hold.
    optional : sequence of str, optional
        Keys read when present.
    arg : str
        Name of the argument in messages (e.g. "DATA").
    needs : str
        What the file must hold, for messages.

    Returns
    -------
    dict
        Key to numpy.ndarray.

    Raises
    ------
    ValueError
        For a missing or unreadable file, a missing key, or pickled (object) arrays.
    """
    p = Path(path)
    if p.suffix.lower() != ".npz":
        raise ValueError(f"{arg}={str(path)!r} must be an .npz file")
    if not p.is_file():
        raise ValueError(f"{arg}={str(path)!r}: no such file")
    if not zipfile.is_zipfile(p):
        raise ValueError(f"{path}: not a readable .npz file (not a zip archive)")
    try:
        with np.load(p, allow_pickle=False) as npz:
            keys = set(npz.files)
            missing = [key for key in required if key not in keys]
            if missing:
                raise ValueError(
                    f"{path}: missing key(s) {', '.join(missing)} (found: {', '.join(sorted(keys)) or 'none'}); {needs}"
                )
            return {key: npz[key] for key in (*required, *optional) if key in keys}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                f"{path}: holds Python objects (pickled arrays); only plain numeric arrays are read"
            ) from None
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
