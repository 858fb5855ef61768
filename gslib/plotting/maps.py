"""Figures of chapter 3 (scans of the (k, f) plane and discovery): class maps, per-point values, montages,
the maps of the automatic search and the table of flagged regions.

The maps draw k along x and f along y, but every function takes the rates as the keywords ``f`` and
``k`` (a swap of two float arrays would otherwise pass silently), and pairs are in the order (f, k).
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from .._validate import check_int, check_real
from .core import class_colors, plot_phase_plane, rgb_composite

__all__ = [
    "plot_class_map",
    "plot_scan_values",
    "plot_class_montage",
    "plot_flag_maps",
    "plot_pattern_rows",
    "plot_split_points",
    "plot_class_maps_compared",
    "region_rows",
]


def _scan_extent(k_axis, f_axis):
    dk = k_axis[1] - k_axis[0] if len(k_axis) > 1 else 1.0
    df = f_axis[1] - f_axis[0] if len(f_axis) > 1 else 1.0
    return (k_axis[0] - dk / 2, k_axis[-1] + dk / 2, f_axis[0] - df / 2, f_axis[-1] + df / 2)


def _scan_axes(ax, extent, curves):
    if curves:
        plot_phase_plane(ax, k_range=extent[:2], f_range=extent[2:], legend=False)
    ax.set_xlim(*extent[:2])
    ax.set_ylim(*extent[2:])
    ax.set_xlabel("kill rate k")
    ax.set_ylabel("feed rate f")


def plot_class_map(ax, labels, *, f, k, class_names=None, curves=True, legend=True, highlight=None):
    """The class map of a scan: one colour per predicted class on the (k, f) lattice (k along x, f along y).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    labels : array_like of str
        Predicted class names, ``(P,)`` ("failed" or unknown names: black).
    f, k : array_like
        Feed and kill rates of the points, ``(P,)`` (keywords).
    class_names : sequence of str, optional
        The classes in the legend (default: those present, in the book's order).
    curves : bool, optional
        Overlay the saddle-node and Hopf curves of the homogeneous states.
    legend : bool, optional
        Draw the legend.
    highlight : array_like of bool, optional
        ``(P,)``: points outlined in black (e.g. points that changed class).

    Returns
    -------
    matplotlib.image.AxesImage
        The image.
    """
    from ..classes import NAMES
    from ..lattice import scan_image

    labels = np.asarray(labels).astype(str)
    present = [n for n in NAMES if n in set(labels.tolist())] + sorted(set(labels.tolist()) - set(NAMES))
    names = list(class_names) if class_names is not None else present
    colors = class_colors(names + [n for n in present if n not in names])
    rgba = np.array([colors[name] for name in labels.tolist()])  # every label is in ``present``
    f_axis, k_axis, image = scan_image(rgba, f=f, k=k, fill=1.0)
    extent = _scan_extent(k_axis, f_axis)
    im = ax.imshow(image, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
    if highlight is not None:
        mask = np.asarray(highlight, dtype=bool)
        ax.scatter(
            np.asarray(k)[mask],
            np.asarray(f)[mask],
            s=9,
            facecolors="none",
            edgecolors="black",
            linewidths=0.7,
            label="changed",
        )
    _scan_axes(ax, extent, curves)
    if legend:
        handles = [mpl.patches.Patch(color=colors[n], label=n) for n in names if n in present]
        handles += ax.get_legend_handles_labels()[0]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            ncol=1 + len(handles) // 18,
            title="class",
        )
    return im


def plot_scan_values(ax, values, *, f, k, label, cmap="magma", vmin=None, vmax=None, curves=True, colorbar=True):
    """A per-point quantity of a scan (entropy, distance, ...) on the (k, f) lattice (k along x, f along y).

    Empty lattice cells stay blank.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    values : array_like
        The quantity, ``(P,)``.
    f, k : array_like
        Feed and kill rates of the points, ``(P,)`` (keywords).
    label : str
        Label of the colour bar (with units).
    cmap : str, optional
        Colour map.
    vmin, vmax : float, optional
        Colour range.
    curves : bool, optional
        Overlay the saddle-node and Hopf curves of the homogeneous states.
    colorbar : bool, optional
        Draw the colour bar.

    Returns
    -------
    matplotlib.image.AxesImage
        The image.
    """
    from ..lattice import scan_image

    values = np.asarray(values, dtype=np.float64)
    f_axis, k_axis, image = scan_image(values, f=f, k=k)
    extent = _scan_extent(k_axis, f_axis)
    im = ax.imshow(
        np.ma.masked_invalid(image),
        origin="lower",
        extent=extent,
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
    )
    _scan_axes(ax, extent, curves)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label)
    return im


def _class_label(name) -> str:
    from ..notebook import class_label

    return class_label(str(name))


def plot_class_montage(montage, *, class_names=None, cell=1.35):
    """Patterns of a scan by predicted class: one row per class, from the most to the least confident.

    Parameters
    ----------
    montage : dict
        As :func:`gslib.scan.load_montage` returns it: ``u`` (n, S, S) u(T) as uint8 (0..255 for 0..1)
        or floats in [0, 1], and per pattern ``label``, ``k``, ``f``, ``confidence``, in rank order.
    class_names : sequence of str, optional
        The rows, in order; default: the classes of :data:`gslib.classes.NAMES` present, then any others.
    cell : float
        Width of one pattern in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One row per class with its label, each pattern titled with its (k, f) and probability p,
        and one colorbar for u(T).

    Raises
    ------
    ValueError
        If ``montage`` lacks a key, holds no pattern, or ``cell`` is not positive.
    """
    import matplotlib.pyplot as plt

    from ..classes import NAMES

    missing = [key for key in ("u", "label", "k", "f", "confidence") if key not in montage]
    if missing:
        raise ValueError(f"montage lacks the keys {missing}; it has {sorted(montage)}")
    labels = np.asarray(montage["label"]).astype(str)
    if labels.size == 0:
        raise ValueError("montage holds no pattern")
    cell = check_real("cell", cell, positive=True)  # inches
    present = set(labels.tolist())
    rows = (
        list(class_names)
        if class_names is not None
        else ([n for n in NAMES if n in present] + sorted(present - set(NAMES)))
    )
    rows = [c for c in rows if c in present]
    per = max(int((labels == c).sum()) for c in rows)
    u = np.asarray(montage["u"])
    scale = 255.0 if u.dtype == np.uint8 else 1.0
    fig, axes = plt.subplots(len(rows), per, figsize=(cell * per + 0.8, 1.45 * cell * len(rows) / 1.35), squeeze=False)
    im = None
    for row, c in zip(axes, rows):
        for ax in row:
            ax.set_axis_off()
        for ax, j in zip(row, np.flatnonzero(labels == c)):
            im = ax.imshow(u[j] / scale, origin="lower", cmap="viridis", vmin=0, vmax=1)
            ax.set_title(
                f"k={montage['k'][j]:.5f}\nf={montage['f'][j]:.5f}  p={montage['confidence'][j]:.2f}", fontsize=6
            )
        row[0].text(-0.15, 0.5, _class_label(c), transform=row[0].transAxes, ha="right", va="center", fontsize=10)
    fig.colorbar(im, ax=axes, label="u(T)", shrink=0.3, aspect=30)
    return fig


def plot_flag_maps(candidates, *, n_regions=6, kinds=False):
    """The two maps of the automatic search: the novelty score, and which signal flags each point.

    Parameters
    ----------
    candidates : gslib.scan.Candidates
        What :func:`gslib.scan.flag_candidates` found (``k``, ``f``, ``distance``, ``flag_entropy``,
        ``flag_distance``, ``regions``).
    n_regions : int
        How many of the first regions of ``candidates.regions`` (most novel first, or largest first
        with ``order="size"``) are labelled R0, R1, ... on the right map (0: none).
    kinds : bool, optional
        Add each labelled region's kind (novel, border, known) to its label.

    Returns
    -------
    matplotlib.figure.Figure
        Left: log10 of the embedding's distance to the nearest class; right: the flags (none, entropy,
        distance, both), with the saddle-node and Hopf curves.

    Raises
    ------
    ValueError
        If ``n_regions`` is not an integer >= 0.
    """
    import matplotlib.pyplot as plt

    n_regions = check_int("n_regions", n_regions, 0)
    c = candidates
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.4))
    plot_scan_values(ax1, np.log10(c.distance), f=c.f, k=c.k, label="log10 distance to the nearest class")
    ax1.set_title("novelty: distance of the embedding")
    kind = np.asarray(c.flag_entropy, dtype=float) + 2.0 * np.asarray(c.flag_distance, dtype=float)
    im = plot_scan_values(
        ax2, kind, f=c.f, k=c.k, label="flagged by", cmap=mpl.colormaps["viridis"].resampled(4), vmin=-0.5, vmax=3.5
    )
    im.colorbar.set_ticks([0, 1, 2, 3], labels=["none", "entropy", "distance", "both"])
    for r in c.regions[:n_regions]:
        text = f"R{r['id']} {r.get('kind', '')}".rstrip() if kinds else f"R{r['id']}"
        ax2.annotate(
            text,
            (r["k_mean"], r["f_mean"]),
            xytext=(8, 8),
            textcoords="offset points",
            color="white",
            fontsize=9,
            fontweight="bold",
            bbox=dict(boxstyle="round,pad=0.15", fc="black", alpha=0.6),
        )
    ax2.set_title("flagged points and the first regions of the list")
    return fig


def plot_pattern_rows(patterns, titles, *, cell=3.0):
    """A grid of patterns as RGB composites of their snapshots (:func:`rgb_composite`), row by row.

    Parameters
    ----------
    patterns : sequence of sequences of arrays
        One sequence per row; each pattern is (S, S, 3) snapshots, as in the CNN's samples.
    titles : sequence of sequences of str
        A title per pattern, shaped like ``patterns``.
    cell : float
        Width of one pattern in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is no row, a row of ``titles`` does not match its row of patterns, or ``cell`` is not
        positive.
    """
    import matplotlib.pyplot as plt

    patterns, titles = [list(r) for r in patterns], [list(r) for r in titles]
    if not patterns or len(titles) != len(patterns) or any(len(a) != len(b) for a, b in zip(patterns, titles)):
        raise ValueError("patterns and titles must be non-empty sequences of rows of the same lengths")
    cell = check_real("cell", cell, positive=True)  # inches
    ncols = max(1, max(len(r) for r in patterns))
    fig, axes = plt.subplots(len(patterns), ncols, figsize=(cell * ncols, 1.07 * cell * len(patterns)), squeeze=False)
    for axrow, row, names in zip(axes, patterns, titles):
        for ax in axrow:
            ax.set_axis_off()
        for ax, frames, title in zip(axrow, row, names):
            ax.imshow(rgb_composite(frames), origin="lower")
            ax.set_title(title, fontsize=9)
    return fig


def plot_split_points(ax, points, *, marker="o", size=22, label=None):
    """Training points of a split on a (k, f) map, each coloured by its class (:func:`class_colors`).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    points : sequence of dict
        As :func:`gslib.dataset.split_points` returns them (keys ``k``, ``f``, ``label``).
    marker : str
        Matplotlib marker.
    size : float
        Marker area in points squared.
    label : str, optional
        Legend entry.

    Returns
    -------
    matplotlib.collections.PathCollection

    Raises
    ------
    ValueError
        If ``points`` is empty or ``size`` is not positive.
    """
    points = list(points)
    if not points:
        raise ValueError("points must hold at least one point")
    size = check_real("size", size, positive=True)
    colors = class_colors([p["label"] for p in points])
    return ax.scatter(
        [p["k"] for p in points],
        [p["f"] for p in points],
        marker=marker,
        s=size,
        linewidths=0.8,
        c=[colors[p["label"]] for p in points],
        edgecolors="black",
        label=label,
    )


def plot_class_maps_compared(before, after, *, f, k, class_names=None, titles=("before", "after")):
    """Two class maps of the same points side by side, points whose class changed circled on the right.

    Parameters
    ----------
    before, after : array_like of str, shape (P,)
        The predicted classes of the two scans.
    f, k : array_like, shape (P,)
        Feed and kill rates of the points (keywords).
    class_names : sequence of str, optional
        The classes of the shared legend (one palette for both maps).
    titles : pair of str
        The titles of the two maps.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the arrays have different lengths or ``titles`` is not a pair.
    """
    import matplotlib.pyplot as plt

    before, after = np.asarray(before).astype(str), np.asarray(after).astype(str)
    if not len(f) == len(k) == len(before) == len(after):
        raise ValueError(
            f"f, k, before and after must have one length, got {len(f)}, {len(k)}, {len(before)}, {len(after)}"
        )
    if len(titles) != 2:
        raise ValueError(f"titles must be a pair of str, got {titles!r}")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(16, 5.6), sharey=True)
    plot_class_map(ax1, before, f=f, k=k, class_names=class_names, legend=False)
    ax1.set_title(titles[0])
    plot_class_map(ax2, after, f=f, k=k, class_names=class_names, highlight=before != after)
    ax2.set_title(titles[1])
    ax2.set_ylabel("")
    return fig


def region_rows(regions, *, spacing=None, top=2):
    """Rows of a table of flagged regions (see :func:`show_table`): id, size, mean k and f, mean entropy and
    distance, the most common predicted classes.

    Parameters
    ----------
    regions : sequence of dict
        Regions of :class:`gslib.scan.Candidates`.
    spacing : (df, dk), optional
        Lattice steps of the scan, in the order of :func:`gslib.lattice.grid_spacing`; when given, a last
        column holds the distance of the region's mean from the first-pass training point of its most
        common class, in lattice steps (NaN for other names).
    top : int
        How many predicted classes are listed.

    Returns
    -------
    header : list of str
    rows : list of list

    Raises
    ------
    ValueError
        If ``top`` is not a positive integer or ``spacing`` is not two positive steps.
    """
    from ..classes import NAMES, by_name

    top = check_int("top", top, 1)
    if spacing is not None and (len(spacing) != 2 or not all(s > 0 for s in spacing)):
        raise ValueError(f"spacing={spacing!r} must be two positive lattice steps (df, dk)")
    header = ["region", "points", "mean k", "mean f", "mean entropy", "mean distance", "predicted"]
    if spacing is not None:
        header.append("steps from the training point of its class")
    rows = []
    for r in regions:
        counts = sorted(r["labels"].items(), key=lambda kv: -kv[1])
        row = [
            f"R{r['id']}",
            r["size"],
            f"{r['k_mean']:.5f}",
            f"{r['f_mean']:.4f}",
            f"{r['entropy_mean']:.2f}",
            f"{r['distance_mean']:.1f}",
            ", ".join(f"{_class_label(n)} {c}" for n, c in counts[:top]),
        ]
        if spacing is not None:
            name = counts[0][0]
            steps = float("nan")
            if name in NAMES and by_name(name).training_point is not None:
                c = by_name(name)
                df, dk = spacing
                steps = float(np.hypot((r["f_mean"] - c.f) / df, (r["k_mean"] - c.k) / dk))
            row.append(f"{steps:.0f}")
        rows.append(row)
    return header, rows
