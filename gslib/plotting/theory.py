"""Figures of chapter 1 (the Gray-Scott model): the regions of the (k, f) plane, dispersion relations, a gallery.

The regions say what the homogeneous state L does (:func:`gslib.model.classify_region`); the
dispersion relations are growth rates of Fourier modes; the gallery shows one RGB composite per class.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_range
from .core import plot_phase_plane, plot_sample

__all__ = ["REGION_COLORS", "plot_region_map", "region_legend_handles", "plot_dispersion", "plot_class_gallery"]

#: One colour per region of :data:`gslib.model.REGIONS` (what the homogeneous state L does), used by
#: :func:`plot_region_map` and :func:`region_legend_handles`.
REGION_COLORS = {
    "no nontrivial state": "#f6d5d0",
    "L stable": "#d3e4f5",
    "L Hopf-unstable": "#fbeab0",
    "L Turing-unstable": "#2e8b57",
}

_RATE_UNIT = "(1/time)"


def _check_grid_size(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (grid points per axis); got {n!r}")
    return int(n)


def plot_region_map(ax, *, k_range=(0.03, 0.07), f_range=(0.0, 0.1), n=500, Du=0.2, Dv=0.1, curves=True):
    """Colour the (k, f) plane by what the homogeneous state L does (:func:`gslib.model.classify_region`).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on; x is the kill rate k, y the feed rate f.
    k_range, f_range : pair of float
        The window (low, high) of the plane, rates in 1/time. Points with f below 1e-4 are
        drawn at f = 1e-4.
    n : int
        Grid points per axis (n x n points are classified).
    Du, Dv : float
        Diffusion coefficients (length^2/time) of u and v, both > 0.
    curves : bool
        Overlay the saddle-node and Hopf curves (:func:`plot_phase_plane`).

    Returns
    -------
    numpy.ndarray of str, shape (n, n)
        The region of every grid point (rows: f, columns: k), one of :data:`gslib.model.REGIONS`.

    Raises
    ------
    ValueError
        If a range is not an increasing pair of finite numbers, ``n`` is not an integer >= 2 or a
        diffusion coefficient is not a finite number > 0.
    """
    from matplotlib.colors import ListedColormap

    from ..model import REGIONS, classify_region

    k_lo, k_hi = check_range("k_range", k_range)
    f_lo, f_hi = check_range("f_range", f_range)
    n = _check_grid_size(n)
    for name, value in (("Du", Du), ("Dv", Dv)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ValueError(f"{name} must be a finite number > 0 (length^2/time); got {value!r}")
    K, F = np.meshgrid(np.linspace(k_lo, k_hi, n), np.linspace(max(f_lo, 1e-4), f_hi, n))
    labels = classify_region(f=F, k=K, Du=Du, Dv=Dv)
    index = np.zeros(labels.shape, dtype=int)
    for i, region in enumerate(REGIONS):
        index[labels == region] = i
    cmap = ListedColormap([REGION_COLORS[r] for r in REGIONS])
    ax.pcolormesh(K, F, index, cmap=cmap, vmin=-0.5, vmax=len(REGIONS) - 0.5, shading="auto", rasterized=True)
    if curves:
        plot_phase_plane(ax, k_range=(k_lo, k_hi), f_range=(f_lo, f_hi), legend=False)
    ax.set_xlim(k_lo, k_hi)
    ax.set_ylim(f_lo, f_hi)
    ax.set_xlabel(f"kill rate k {_RATE_UNIT}")
    ax.set_ylabel(f"feed rate f {_RATE_UNIT}")
    return labels


def region_legend_handles(curves=True) -> list:
    """Legend entries of :func:`plot_region_map`: one patch per region, then the two curves.

    Parameters
    ----------
    curves : bool
        Add the entries "saddle-node" (black line) and "Hopf" (red, dashed).

    Returns
    -------
    list of matplotlib artists
        Pass them to ``fig.legend(handles=...)`` or ``ax.legend(handles=...)``.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..model import REGIONS

    handles = [Patch(color=REGION_COLORS[r], label=r) for r in REGIONS]
    if curves:
        handles += [
            Line2D([], [], color="black", label="saddle-node"),
            Line2D([], [], color="tab:red", linestyle="--", label="Hopf"),
        ]
    return handles


def plot_dispersion(ax, q, rates, *, dashed=(), title=None, xlim=None, ylim=None):
    """Growth rates of Fourier modes against their wave number (dispersion relations), one line each.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on.
    q : array_like, shape (Q,)
        Wave numbers ``|q|`` in 1/cell (1/length for dx = 1).
    rates : dict
        Label -> growth rates Re lambda, shape (Q,), in 1/time, drawn in the order given.
    dashed : collection of str
        Labels drawn dashed (the others solid).
    title : str, optional
        The axes title.
    xlim, ylim : pair of float, optional
        Axis limits.

    Returns
    -------
    list of matplotlib.lines.Line2D
        The lines, in the order of ``rates``; a black line marks zero growth.

    Raises
    ------
    ValueError
        If ``q`` is not a non-empty 1-D array or a rate array does not match its shape.
    """
    q = np.asarray(q, dtype=np.float64)
    if q.ndim != 1 or q.size < 1:
        raise ValueError(f"q must be a non-empty 1-D array of wave numbers; got shape {q.shape}")
    lines = []
    for label, lam in rates.items():
        lam = np.asarray(lam, dtype=np.float64)
        if lam.shape != q.shape:
            raise ValueError(f"rates[{label!r}] must have the shape of q, {q.shape}; got {lam.shape}")
        lines += ax.plot(q, lam, label=label, linestyle="--" if label in dashed else "-")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("wave number |q| (1/cell)")
    ax.set_ylabel(r"growth rate Re $\lambda$ (1/time)")
    if title is not None:
        ax.set_title(title, fontsize=10)
    if xlim is not None:
        ax.set_xlim(*check_range("xlim", xlim))
    if ylim is not None:
        ax.set_ylim(*check_range("ylim", ylim))
    return lines


def plot_class_gallery(frames, classes, *, ncols=5, uniform_tol=1e-3, title=None):
    """One RGB composite (:func:`plot_sample`) per class in a grid of panels; returns the figure.

    Parameters
    ----------
    frames : array_like, shape (B, 3, N, M)
        Three snapshots of u per run, earliest first.
    classes : sequence of gslib.classes.PatternClass
        The class of each run (B of them), named in the panel titles with its point (f, k).
    ncols : int
        Panels per row.
    uniform_tol : float
        Runs whose u spans less than this are drawn plain gray and labelled "uniform".
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Created with pyplot (in a notebook it shows at the end of the cell).

    Raises
    ------
    ValueError
        If ``frames`` is not (B, 3, N, M), ``classes`` does not have B entries or ``ncols`` is not
        an integer >= 1.
    """
    import matplotlib.pyplot as plt

    arr = np.asarray(frames, dtype=np.float64)
    if arr.ndim != 4 or arr.shape[1] != 3:
        raise ValueError(f"frames must have shape (B, 3, N, M) (three snapshots per run); got shape {arr.shape}")
    classes = list(classes)
    if len(classes) != arr.shape[0]:
        raise ValueError(f"classes must name one class per run: {arr.shape[0]} runs, {len(classes)} classes")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1; got {ncols!r}")
    nrows = -(-len(classes) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.flat[len(classes) :]:
        ax.set_axis_off()
    for ax, c, run in zip(axes.flat, classes, arr):
        plot_sample(ax, np.moveaxis(run, 0, -1), title=f"{c.symbol}  (f={c.f:g}, k={c.k:g})", uniform_tol=uniform_tol)
    if title is not None:
        fig.suptitle(title)
    return fig
