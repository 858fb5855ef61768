"""The data of force inference: checked frames, masks of missing cells, and the lag weights.

:func:`check_data` turns a dict of fields ``{name: (T, N, M)}`` with an optional mask into float64
frames and a validity array; the mask helpers give the cells where a feature's stencil avoids every
missing cell and fill the missing ones with finite placeholders; :func:`richardson_weights` gives
the weights that combine estimates at frame lags ``1..K`` so that the bias terms ``dt .. dt^{K-1}``
cancel (:mod:`~gslib.inference.estimator`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .._validate import check_int, check_real
from ..npz import read_npz

__all__ = ["check_data", "feature_validity", "fill_invalid", "load_frames", "richardson_weights"]


def richardson_weights(lags: int) -> np.ndarray:
    """Richardson weights that cancel the bias terms ``dt, ..., dt^{lags-1}``.

    Parameters
    ----------
    lags : int
        Number of frame lags combined, >= 1.

    Returns
    -------
    numpy.ndarray
        Weights ``w_k`` (k = 1..lags) with ``sum w_k = 1`` and ``sum w_k k^j = 0`` for
        j = 1..lags-1.

    Raises
    ------
    ValueError
        If ``lags`` is not an integer >= 1.
    """
    K = check_int("lags", lags, 1)
    k = np.arange(1, K + 1, dtype=np.float64)
    V = np.vander(k, K, increasing=True).T  # V[j, i] = k_i^j
    rhs = np.zeros(K)
    rhs[0] = 1.0
    return np.linalg.solve(V, rhs)


def check_data(data: dict, dt, dx=1.0, mask=None, min_frames: int = 2):
    """Validate fields, ``dt``, ``dx`` and an optional mask.

    Parameters
    ----------
    data : dict
        Fields ``{name: (T, N, M)}``, real, one shape, a grid of at least 5 x 5 cells.
    dt, dx : float
        Time between frames and grid spacing, > 0.
    mask : bool array (N, M) or (T, N, M), optional
        True where the data are valid.
    min_frames : int
        Fewest frames accepted.

    Returns
    -------
    fields : dict
        Float64 arrays with invalid cells set to 0.
    dt, dx : float
        The checked values.
    valid : numpy.ndarray or None
        The validity ``(T, N, M)`` bool (None if every cell is valid).

    Raises
    ------
    ValueError
        With a clear message, on any invalid argument or a non-finite value outside the mask.
    """
    if not isinstance(data, dict) or not data:
        raise ValueError("data must be a non-empty dict {field name: array (T, N, M)}")
    dt = check_real("dt", dt, positive=True)
    dx = check_real("dx", dx, positive=True)
    fields = {}
    shape = None
    for name, arr in data.items():
        a = np.asarray(arr)
        if a.dtype.kind not in "fiu" or a.ndim != 3:
            raise ValueError(f"field {name!r} must be a real array of shape (T, N, M); got {a.dtype} {a.shape}")
        if shape is None:
            shape = a.shape
        elif a.shape != shape:
            raise ValueError(f"all fields must have one shape; {name!r} has {a.shape}, expected {shape}")
        fields[name] = a.astype(np.float64)
    T, N, M = shape
    if N < 5 or M < 5:
        raise ValueError(f"the grid must be at least 5 x 5 cells; got {N} x {M}")
    if T < min_frames:
        raise ValueError(f"too few frames: {T}; at least {min_frames} are needed")
    valid = None
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise ValueError(f"mask must be a boolean array (True = valid); got dtype {m.dtype}")
        if m.shape == (N, M):
            m = np.broadcast_to(m, shape)
        elif m.shape != shape:
            raise ValueError(f"mask must have shape (N, M) = {(N, M)} or (T, N, M) = {shape}; got {m.shape}")
        valid = np.array(m)
        if not valid.any():
            raise ValueError("the mask marks no cell as valid")
    for name, a in fields.items():
        bad = ~np.isfinite(a)
        if valid is not None:
            bad &= valid
        if bad.any():
            t, i, j = (int(c[0]) for c in np.nonzero(bad))
            where = "outside the mask" if valid is not None else "(give a mask to mark missing cells)"
            raise ValueError(
                f"field {name!r} has {int(bad.sum())} non-finite value(s) {where}, e.g. at frame {t}, cell ({i}, {j})"
            )
    if valid is not None:
        for name in fields:
            fields[name] = np.where(valid, fields[name], 0.0)
        if valid.all():
            valid = None
    return fields, dt, dx, valid


def feature_validity(valid: np.ndarray, radius: int) -> np.ndarray:
    """Cells whose features can be computed: every cell within ``radius`` (a square) is valid.

    Parameters
    ----------
    valid : numpy.ndarray
        Validity of the data, bool ``(T, N, M)``.
    radius : int
        Reach of the features' stencils (cells), >= 0.

    Returns
    -------
    numpy.ndarray
        Bool ``(T, N, M)``; periodic in space.
    """
    if radius == 0:
        return valid.copy()
    size = (1, 2 * radius + 1, 2 * radius + 1)
    return ndimage.minimum_filter(valid.astype(np.uint8), size=size, mode="wrap").astype(bool)


def fill_invalid(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Invalid cells replaced by the mean of the valid cells of their frame (finite placeholders).

    Parameters
    ----------
    x : numpy.ndarray
        Frames ``(T, N, M)``.
    valid : numpy.ndarray
        Validity, bool ``(T, N, M)``.

    Returns
    -------
    numpy.ndarray
        ``x`` where valid, else its frame's mean over the valid cells (0 for a frame without any).
    """
    counts = valid.sum(axis=(-1, -2), keepdims=True)
    means = np.where(counts > 0, (x * valid).sum(axis=(-1, -2), keepdims=True) / np.maximum(counts, 1), 0.0)
    return np.where(valid, x, means)


def load_frames(path: str):
    """The frames of ``gslib infer``'s DATA.npz, checked.

    Parameters
    ----------
    path : str
        The file: u and v (T, N, M), dt; optionally dx and mask.

    Returns
    -------
    u, v : numpy.ndarray
        The frames.
    dt, dx : float
        Time between frames and grid spacing (default 1).
    mask : numpy.ndarray or None
        The file's mask, if any (checked by :func:`gslib.inference.infer`).

    Raises
    ------
    ValueError
        With a message naming what is wrong with the file.
    """
    data = read_npz(path, ("u", "v", "dt"), ("dx", "mask"), arg="DATA", needs="the file needs u and v (T, N, M) and dt")

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
            raise ValueError(
                f"{path}: {name} must be a real array of shape (T, N, M); got dtype {a.dtype}, shape {a.shape}"
            )
    if u.shape != v.shape:
        raise ValueError(f"{path}: u and v must have the same shape; got {u.shape} and {v.shape}")
    if u.shape[0] < 6:
        raise ValueError(
            f"{path}: too few frames ({u.shape[0]}); force inference with 3 lags needs at least 6, "
            "and hundreds for a reliable selection"
        )
    return u, v, dt, dx, data.get("mask")
