"""Geometry of a scan's (f, k) lattice: steps, images, nearest points, regions.

A scan visits points on a regular lattice of the (f, k) plane (the paper's steps are
df = 0.00125 and dk = 0.000625). These functions need only the points' rates, so plots, widgets
and the discovery code use them without the scan runner. Every function takes the rates as the
keywords ``f`` and ``k`` (a swap of two float arrays would otherwise pass silently), and every
pair it returns or accepts is in the order (f, k).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PAPER_SPACING", "grid_spacing", "scan_image", "nearest_point", "cluster_points"]

#: Lattice steps (df, dk) of the paper's scan.
PAPER_SPACING = (0.00125, 0.000625)


def _rates(f, k) -> tuple[np.ndarray, np.ndarray]:
    f, k = np.asarray(f, dtype=np.float64).ravel(), np.asarray(k, dtype=np.float64).ravel()
    if f.shape != k.shape:
        raise ValueError(f"f and k must have one value per point; got {f.size} and {k.size} values")
    return f, k


def _spacing(spacing, f, k) -> tuple[float, float]:
    if spacing is None:
        return grid_spacing(f=f, k=k)
    df, dk = (float(s) for s in spacing)
    if not (np.isfinite(df) and np.isfinite(dk) and df > 0 and dk > 0):
        raise ValueError(f"spacing={spacing!r} must be two finite steps (df, dk) > 0")
    return df, dk


def grid_spacing(*, f, k) -> tuple[float, float]:
    """Lattice steps of a set of points.

    Parameters
    ----------
    f, k : array_like
        Rates of the points (P,).

    Returns
    -------
    df, dk : float
        The median gap between their distinct f (k) values (1 where there is a single value).
    """
    f, k = _rates(f, k)
    steps = []
    for values in (f, k):
        distinct = np.unique(np.round(values, 12))
        gaps = np.diff(distinct)
        steps.append(float(np.median(gaps)) if len(gaps) else 1.0)
    return steps[0], steps[1]


def scan_image(values, *, f, k, spacing=None, fill=np.nan):
    """Put per-point values on the scan's lattice, for ``imshow(origin="lower", extent=...)``.

    Parameters
    ----------
    values : array_like
        Per-point values (P, ...).
    f, k : array_like
        Rates of the points (P,).
    spacing : tuple of float, optional
        Lattice steps (df, dk) (default :func:`grid_spacing`).
    fill : scalar
        Value of lattice cells without a point.

    Returns
    -------
    f_axis : numpy.ndarray
        (nf,).
    k_axis : numpy.ndarray
        (nk,).
    image : numpy.ndarray
        (nf, nk, ...): rows are f (ascending), columns k; lattice cells without a point hold
        ``fill``; where points repeat, the last one wins.
    """
    f, k = _rates(f, k)
    values = np.asarray(values)
    if len(values) != len(f):
        raise ValueError(f"values has {len(values)} rows but there are {len(f)} points")
    df, dk = _spacing(spacing, f, k)
    jf, ik = np.rint((f - f.min()) / df).astype(int), np.rint((k - k.min()) / dk).astype(int)
    nf, nk = jf.max() + 1, ik.max() + 1
    dtype = np.result_type(values.dtype, np.asarray(fill).dtype)
    image = np.full((nf, nk) + values.shape[1:], fill, dtype=dtype)
    image[jf, ik] = values
    return f.min() + df * np.arange(nf), k.min() + dk * np.arange(nk), image


def nearest_point(*, f, k, f0: float, k0: float, spacing=None) -> tuple[int, float]:
    """The point nearest to (f0, k0).

    Parameters
    ----------
    f, k : array_like
        Rates of the points (P,).
    f0, k0 : float
        The target.
    spacing : tuple of float, optional
        Lattice steps (df, dk) (default :func:`grid_spacing`).

    Returns
    -------
    index : int
        The nearest point.
    distance : float
        Its distance in lattice steps.

    Raises
    ------
    ValueError
        If the target is not finite, or there are no points.
    """
    f, k = _rates(f, k)
    if len(f) == 0:
        raise ValueError("there are no points to search")
    for name, value in (("f0", f0), ("k0", k0)):
        if not np.isfinite(float(value)):
            raise ValueError(f"{name}={value!r} must be a finite rate")
    df, dk = _spacing(spacing, f, k)
    d = np.hypot((f - float(f0)) / df, (k - float(k0)) / dk)
    i = int(np.argmin(d))
    return i, float(d[i])


def cluster_points(*, f, k, mask=None, spacing=None, eps: float = 1.5, min_size: int = 1, groups=None) -> np.ndarray:
    """Group points into regions: those closer than ``eps`` lattice steps are joined (transitively).

    Distances are measured in units of the lattice steps (df, dk) (default :func:`grid_spacing`),
    so ``eps = 1.5`` joins the eight neighbours on the lattice (connected components); it is
    DBSCAN with min_samples = 1.

    Parameters
    ----------
    f, k : array_like
        Rates of the points (P,).
    mask : array_like of bool, optional
        Only points where it is True take part (default: all).
    spacing : tuple of float, optional
        Lattice steps (df, dk) (default :func:`grid_spacing`).
    eps : float
        Joining distance in lattice steps.
    min_size : int
        Smallest region kept.
    groups : array_like, optional
        (P,): if given, only points of the same group are joined (e.g. the nearest training
        class).

    Returns
    -------
    numpy.ndarray
        Region ids (P,): 0 for the largest region, 1 for the next, ...; -1 for points outside
        ``mask`` or in regions smaller than ``min_size``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    f, k = _rates(f, k)
    mask = np.ones(len(k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    region = np.full(len(k), -1, dtype=np.int64)
    members = np.flatnonzero(mask)
    if len(members) == 0:
        return region
    df, dk = _spacing(spacing, f, k)
    xy = np.column_stack([f[members] / df, k[members] / dk])
    pairs = cKDTree(xy).query_pairs(eps, output_type="ndarray")
    if groups is not None:
        g = np.asarray(groups)[members]
        pairs = pairs[g[pairs[:, 0]] == g[pairs[:, 1]]]
    n = len(members)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    first = np.full(len(sizes), n)
    np.minimum.at(first, component, np.arange(n))
    order = sorted(range(len(sizes)), key=lambda c: (-sizes[c], first[c]))
    rank = {c: r for r, c in enumerate(c for c in order if sizes[c] >= min_size)}
    region[members] = [rank.get(c, -1) for c in component]
    return region
