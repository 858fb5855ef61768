"""The points of a scan: the paper's list, user CSV files, their checks and checksum.

Every point is written **(f, k)** in arguments, as in the rest of gslib; the CSV files list k first,
as the paper's tables do.
"""

from __future__ import annotations

import csv
import hashlib
import math
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["SEED_BASE", "points_sha256", "scan_points"]

#: Point i of a scan uses seed SEED_BASE + i (the dataset splits use 1e6 ... 5e6 + their sizes).
SEED_BASE = 7_000_000


def scan_points(source="paper") -> dict[str, np.ndarray]:
    """The points of a scan.

    Parameters
    ----------
    source : str or path-like
        ``"paper"`` (the 5481 points of Scholz & Scholz 2022, shipped as
        ``gslib/data/scan_points.csv``) or the path of a CSV file with a header naming columns
        ``k`` and ``f`` (**k first** as in the paper's tables; other columns are ignored, blank
        lines and lines starting with ``#`` skipped). Rates must be finite and >= 0.

    Returns
    -------
    dict
        Arrays ``f``, ``k`` (P,), in file order (and ``block`` if the file has one).

    Raises
    ------
    ValueError
        If the file is missing, unreadable, lacks the columns, or holds invalid rates.
    """
    if isinstance(source, str) and source == "paper":
        text = resources.files("gslib").joinpath("data/scan_points.csv").read_text()
        return _parse_points(text, "gslib/data/scan_points.csv")
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"{path}: no such points file; give 'paper' or a CSV file with columns k, f")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as a text CSV file ({exc})") from None
    return _parse_points(text, str(path))


def _parse_points(text: str, name: str) -> dict[str, np.ndarray]:
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise ValueError(f"{name}: the file is empty; expected a header with columns k, f and one point per line")
    rows = list(csv.reader(line for _, line in lines))
    header = [cell.strip().lower() for cell in rows[0]]
    for column in ("k", "f"):
        if header.count(column) != 1:
            problem = "no" if column not in header else "more than one"
            raise ValueError(
                f"{name}: {problem} column {column!r} in the header line {lines[0][1]!r}; "
                "expected columns k, f (k first, as in the paper's tables)"
            )
    columns = {c: header.index(c) for c in ("k", "f", "block") if c in header}
    if len(rows) == 1:
        raise ValueError(f"{name}: no points after the header line")
    values = {c: [] for c in columns}
    for (line_no, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{name}, line {line_no}: {len(row)} field(s), but the header has {len(header)}")
        for column, i in columns.items():
            cell = row[i].strip()
            try:
                value = int(cell) if column == "block" else float(cell)
            except ValueError:
                kind = "an integer" if column == "block" else "a number"
                raise ValueError(f"{name}, line {line_no}: {column} = {cell!r} is not {kind}") from None
            if column != "block" and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}, line {line_no}: {column} = {cell!r}; rates must be finite and >= 0")
            values[column].append(value)
    out = dict(f=np.array(values["f"], dtype=np.float64), k=np.array(values["k"], dtype=np.float64))
    if "block" in values:
        out["block"] = np.array(values["block"], dtype=np.int64)
    return out


def _check_points(points) -> tuple[np.ndarray, np.ndarray]:
    try:
        f = np.asarray(points["f"], dtype=np.float64)
        k = np.asarray(points["k"], dtype=np.float64)
    except (KeyError, TypeError, IndexError):
        raise ValueError("points must be a mapping with arrays 'f' and 'k' (as returned by scan_points)") from None
    if f.ndim != 1 or f.shape != k.shape or len(f) == 0:
        raise ValueError(
            f"points 'f' and 'k' must be 1-D, non-empty and of equal length; got shapes {f.shape}, {k.shape}"
        )
    if not (np.isfinite(f).all() and np.isfinite(k).all()) or (f < 0).any() or (k < 0).any():
        raise ValueError("points 'f' and 'k' must be finite and >= 0")
    return f, k


def points_sha256(*, f, k) -> str:
    """The SHA-256 of a list of points (their rates as little-endian float64), as scans record it.

    Parameters
    ----------
    f, k : array_like
        Rates of the points (P,).

    Returns
    -------
    str
        The hexadecimal digest.
    """
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(f, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(k, dtype="<f8").tobytes())
    return h.hexdigest()
