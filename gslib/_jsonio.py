"""The one way gslib writes and reads JSON records.

Records are strict JSON (NumPy values converted, NaN and infinities written as ``null``) and are
written atomically: to a temporary file beside the target, flushed to disk with ``fsync``, then
renamed over it. A job killed while writing leaves the old record or the new one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["jsonable", "write_json", "read_json", "write_bytes_atomic"]


def jsonable(obj):
    """``obj`` with NumPy scalars and arrays as Python values and NaN/Inf as ``None``.

    Parameters
    ----------
    obj : object
        Nested dicts, lists, tuples, NumPy arrays and scalars, paths and plain values.

    Returns
    -------
    object
        The same structure, made of JSON types only. Unknown objects become their ``str``.
    """
    if isinstance(obj, dict):
        return {str(key): jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(value) for value in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, ``fsync``, rename), creating folders.

    Parameters
    ----------
    path : str or Path
        The target file.
    data : bytes
        Its new content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json(path, obj, *, indent: int | None = 1) -> None:
    """Write ``obj`` to ``path`` as strict JSON, atomically (see the module's docstring).

    Parameters
    ----------
    path : str or Path
        The target file; its folder is created.
    obj : object
        Anything :func:`jsonable` accepts.
    indent : int or None
        Indentation of the JSON text (``None``: one line).
    """
    text = json.dumps(jsonable(obj), indent=indent, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def read_json(path, *, what: str = "record"):
    """Read a JSON file, or raise ValueError naming the file if it is missing or not JSON.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file should hold, for the message.

    Returns
    -------
    object
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such {what} (file not found)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a readable JSON {what}: {err}") from None
