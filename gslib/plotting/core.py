"""The shared core of :mod:`gslib.plotting`: the book's style, shared checks, field plots, the phase plane.

Every chapter module of the package draws with these; none of them calls ``plt.show()``.

* :func:`use_style` applies the book's rcParams globally (chapters call it once at the top);
  :data:`STYLE` holds them.  Figure-level functions build their figures inside
  ``matplotlib.rc_context(STYLE)``, so they look the same even without :func:`use_style`.
* Axes-level functions (:func:`plot_field`, :func:`plot_rgb`, :func:`plot_phase_plane`) draw on an
  ``ax`` given by the caller and return what they drew.
* Fields are ``(N, M)`` arrays indexed ``[row, column]``; they are shown with ``origin="lower"``,
  rows along ``y`` and columns along ``x``, in model length units (cell ``j`` spans
  ``[j*dx, (j+1)*dx]``).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib as mpl
import numpy as np

from .._validate import check_int, check_range, check_real

__all__ = [
    "STYLE",
    "use_style",
    "plot_field",
    "plot_fields",
    "rgb_composite",
    "plot_rgb",
    "plot_sample",
    "plot_field_grid",
    "plot_phase_plane",
    "class_colors",
    "colormap_lut",
    "save",
    "html_table",
    "show_table",
]

#: The book's rcParams (applied by :func:`use_style`).
STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "figure.dpi": 110,
    "image.cmap": "viridis",
    "figure.constrained_layout.use": True,
    "savefig.bbox": "tight",
    "savefig.dpi": 150,
    "axes.grid": False,
    "lines.linewidth": 1.8,
}


def use_style() -> None:
    """Apply the book's rcParams (:data:`STYLE`) globally; calling it again changes nothing."""
    mpl.rcParams.update(STYLE)


# ----------------------------------------------------------------------------- validation


# ----------------------------------------------------------------------------- shared checks


def _check_field(field, name: str) -> np.ndarray:
    """Return ``field`` as a 2-D float array, or raise ValueError naming ``name``."""
    try:
        arr = np.asarray(field, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2-D array of finite real numbers; got {type(field).__name__}") from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (N, M) with N, M >= 1; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} contains NaN or Inf ({int(np.count_nonzero(~np.isfinite(arr)))} value(s)); it must be finite"
        )
    return arr


def _extent(shape, dx: float) -> tuple[float, float, float, float]:
    n, m = shape[:2]
    return (0.0, m * dx, 0.0, n * dx)


def _label_axes(ax) -> None:
    ax.set_xlabel("x")
    ax.set_ylabel("y")


# ----------------------------------------------------------------------------- fields


# ----------------------------------------------------------------------------- fields


def plot_field(ax, field, *, title=None, label="u", dx=1.0, cmap=None, vmin=None, vmax=None, colorbar=True):
    """Show one ``(N, M)`` field on ``ax``; returns the ``AxesImage``.

    The image spans ``0..M*dx`` along x and ``0..N*dx`` along y (model length units), with row 0
    at the bottom.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    field : array_like
        The field, ``(N, M)``.
    title : str, optional
        Axes title.
    label : str, optional
        Label of the colour bar.
    dx : float, optional
        Grid spacing (model length units), > 0.
    cmap : str, optional
        Colour map (default: the style's, viridis).
    vmin, vmax : float, optional
        Colour range, as in ``imshow``.
    colorbar : bool, optional
        Draw the colour bar; the image's ``.colorbar`` attribute holds it.

    Returns
    -------
    matplotlib.image.AxesImage
        The image.
    """
    arr = _check_field(field, "field")
    dx = check_real("dx", dx, positive=True)
    im = ax.imshow(
        arr, origin="lower", extent=_extent(arr.shape, dx), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
    )
    _label_axes(ax)
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label, shrink=0.9)
    return im


def plot_fields(u, v, *, title=None, dx=1.0):
    """Figure with ``u`` and ``v`` side by side, each with its colour bar; ``title`` as suptitle.

    Returns the ``matplotlib.figure.Figure`` (created with pyplot: in a notebook it shows at the
    end of the cell; elsewhere close it with ``plt.close(fig)`` when done).

    Parameters
    ----------
    u, v : array_like
        Fields of the same shape ``(N, M)``.
    title : str, optional
        The figure's suptitle.
    dx : float, optional
        Grid spacing (model length units), > 0.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    u = _check_field(u, "u")
    v = _check_field(v, "v")
    if u.shape != v.shape:
        raise ValueError(f"u and v must have the same shape; got {u.shape} and {v.shape}")
    dx = check_real("dx", dx, positive=True)
    with mpl.rc_context(STYLE):
        n, m = u.shape
        aspect = n / m
        fig, (ax_u, ax_v) = plt.subplots(
            1, 2, figsize=(9.0, max(2.5, min(9.0, 4.0 * aspect + 0.6))), layout="constrained"
        )
        plot_field(ax_u, u, title="u", label="u", dx=dx)
        plot_field(ax_v, v, title="v", label="v", dx=dx)
        if title is not None:
            fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- RGB composites


def _as_grid(items, name):
    """``items`` as a list of rows (a flat sequence is one row)."""
    rows = list(items)
    if not rows:
        raise ValueError(f"{name} must hold at least one entry")
    if not isinstance(rows[0], (list, tuple)):
        rows = [rows]
    if len({len(row) for row in rows}) != 1 or len(rows[0]) == 0:
        raise ValueError(f"{name} must be rows of equal, non-zero length; got lengths {[len(r) for r in rows]}")
    return [list(row) for row in rows]


def plot_field_grid(fields, *, titles=None, label="v", cmap="magma", vmin=None, vmax=None, dx=1.0, panel=3.3):
    """A grid of fields (rows x columns) with one shared colour bar.

    Parameters
    ----------
    fields : sequence of rows of (N, M) arrays
        A flat sequence is drawn as one row.
    titles : sequence of rows of str, optional
        Same layout as ``fields``.
    label : str
        Label of the shared colour bar (the field's name).
    cmap, vmin, vmax
        As in ``imshow``; one colour scale for all panels (default: the range of all fields).
    dx : float or rows of float
        Grid spacing of each field (one value for all, or the layout of ``fields``): a coarser grid
        with a larger spacing covers the same extent.
    panel : float
        Width of one panel in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of Axes, shape (rows, columns)

    Raises
    ------
    ValueError
        If the layouts of ``fields``, ``titles`` and ``dx`` differ, a field is not a finite 2-D
        array, or ``panel`` is not positive.
    """
    import matplotlib.pyplot as plt

    grid = _as_grid(fields, "fields")
    arrays = [[_check_field(a, f"fields[{i}][{j}]") for j, a in enumerate(row)] for i, row in enumerate(grid)]
    shape = (len(arrays), len(arrays[0]))
    names = _as_grid(titles, "titles") if titles is not None else [[None] * shape[1]] * shape[0]
    spacing = _as_grid(dx, "dx") if isinstance(dx, (list, tuple)) else [[dx] * shape[1]] * shape[0]
    if (len(names), len(names[0])) != shape or (len(spacing), len(spacing[0])) != shape:
        raise ValueError(f"titles and dx must have the layout of fields, {shape[0]} x {shape[1]}")
    panel = check_real("panel", panel, positive=True)  # inches
    lo = min(a.min() for row in arrays for a in row) if vmin is None else vmin
    hi = max(a.max() for row in arrays for a in row) if vmax is None else vmax
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(*shape, figsize=(panel * shape[1] + 1.0, panel * shape[0]), squeeze=False)
        for i, j in np.ndindex(shape):
            im = plot_field(
                axes[i, j],
                arrays[i][j],
                title=names[i][j],
                dx=spacing[i][j],
                cmap=cmap,
                vmin=lo,
                vmax=hi,
                colorbar=False,
            )
        fig.colorbar(im, ax=axes, shrink=0.8, label=label)
    return fig, axes


# ----------------------------------------------------------------------------- RGB composites


def rgb_composite(frames) -> np.ndarray:
    """RGB encoding of three snapshots of ``u`` (Scholz & Scholz 2022): returns ``(N, M, 3)`` in [0, 1].

    ``frames`` is ``(3, N, M)`` (three snapshots, earliest first) or ``(N, M, 3)``.  Snapshot ``i``
    becomes colour channel ``i`` (red, green, blue).  All three share one min-max normalisation,
    ``(u - min) / (max - min)`` over the three frames together, so a cell whose value did not
    change has equal channels and appears gray, while moving structures appear coloured.  A
    constant input (max == min) maps to 0.5 gray.  A ``(3, N, 3)`` input is read as ``(3, N, M)``.

    Parameters
    ----------
    frames : array_like
        Three snapshots of u, ``(3, N, M)`` or ``(N, M, 3)``.

    Returns
    -------
    numpy.ndarray
        ``(N, M, 3)`` in [0, 1].
    """
    try:
        arr = np.asarray(frames, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"frames must be an array of real numbers, shape (3, N, M) or (N, M, 3); got {type(frames).__name__}"
        ) from None
    if arr.ndim != 3 or 3 not in (arr.shape[0], arr.shape[-1]) or min(arr.shape) < 1:
        raise ValueError(f"frames must have shape (3, N, M) or (N, M, 3) (three snapshots); got shape {arr.shape}")
    if arr.shape[0] == 3:
        arr = np.moveaxis(arr, 0, -1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"frames contain NaN or Inf ({int(np.count_nonzero(~np.isfinite(arr)))} value(s)); they must be finite"
        )
    lo, hi = float(arr.min()), float(arr.max())
    if not hi > lo:
        return np.full(arr.shape, 0.5)
    span = hi - lo
    if math.isfinite(span):
        out = (arr - lo) / span
    else:  # the span overflows float64: scale down first
        out = (arr / 2 - lo / 2) / (hi / 2 - lo / 2)
    return np.clip(out, 0.0, 1.0)


def plot_rgb(ax, frames, *, title=None, dx=1.0):
    """Show :func:`rgb_composite` of ``frames`` on ``ax`` (axes x, y as in :func:`plot_field`).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    frames : array_like
        Three snapshots of u, ``(3, N, M)`` or ``(N, M, 3)``.
    title : str, optional
        Axes title.
    dx : float, optional
        Grid spacing (model length units), > 0.

    Returns
    -------
    matplotlib.image.AxesImage
        The image.
    """
    img = rgb_composite(frames)
    dx = check_real("dx", dx, positive=True)
    im = ax.imshow(img, origin="lower", extent=_extent(img.shape, dx), interpolation="nearest")
    _label_axes(ax)
    if title is not None:
        ax.set_title(title)
    return im


# ----------------------------------------------------------------------------- phase plane


def plot_sample(ax, x, *, title=None, uniform_tol=1e-3):
    """Draw one network input ``(S, S, 3)`` as an RGB composite without ticks; returns the ``AxesImage``.

    A (nearly) uniform sample, whose min-max colours would show only rounding noise, is drawn plain
    gray with its mean value written on it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on.
    x : array_like, shape (S, S, 3)
        Three snapshots of u as channels (earliest first).
    title : str, optional
        The axes title.
    uniform_tol : float
        A sample whose values span less than this is drawn as uniform.

    Returns
    -------
    matplotlib.image.AxesImage

    Raises
    ------
    ValueError
        If ``x`` is not a finite array of shape (N, M, 3) or ``uniform_tol`` is negative.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"x must have shape (S, S, 3) (three snapshots as channels); got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("x must be finite; it contains NaN or Inf")
    if not uniform_tol >= 0:
        raise ValueError(f"uniform_tol must be >= 0, got {uniform_tol!r}")
    uniform = np.ptp(arr) < uniform_tol
    im = plot_rgb(ax, np.zeros_like(arr) if uniform else arr)
    if uniform:
        ax.text(
            0.5,
            0.5,
            f"uniform\nu = {arr.mean():.3f}",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=10,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
        )
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    if title is not None:
        ax.set_title(title, fontsize=10)
    return im


# ----------------------------------------------------------------------------- the phase plane and the class colours


def plot_phase_plane(ax, *, k_range=(0.03, 0.07), f_range=(0.0, 0.1), saddle_node=True, hopf=True, legend=True):
    """Draw the bifurcation curves of the homogeneous states in the (k, f) plane; returns ``ax``.

    x axis: kill rate k, y axis: feed rate f (both 1/time), limited to ``k_range`` and ``f_range``.
    The saddle-node curve (``k = sqrt(f)/2 - f``, where the states L and S appear) and the Hopf
    curve of L come from :mod:`gslib.model`; the legend names them "saddle-node" and "Hopf".

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    k_range, f_range : tuple of float, optional
        Axis limits ``(low, high)``.
    saddle_node, hopf : bool, optional
        Draw the saddle-node curve, the Hopf curve.
    legend : bool, optional
        Draw the legend.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    from ..model import hopf_curve, saddle_node_curve

    k_lo, k_hi = check_range("k_range", k_range)
    f_lo, f_hi = check_range("f_range", f_range)
    if saddle_node:
        f, k = saddle_node_curve(2000)
        ax.plot(k, f, color="black", linestyle="-", label="saddle-node")
    if hopf:
        f, k = hopf_curve(2000)
        ax.plot(k, f, color="tab:red", linestyle="--", label="Hopf")
    ax.set_xlim(k_lo, k_hi)
    ax.set_ylim(f_lo, f_hi)
    ax.set_xlabel("kill rate k")
    ax.set_ylabel("feed rate f")
    if legend and (saddle_node or hopf):
        ax.legend(loc="best")
    return ax


# ----------------------------------------------------------------------------- scan maps


def class_colors(class_names) -> dict:
    """One fixed colour per class name, the same in every map of the book.

    Parameters
    ----------
    class_names : iterable of str
        Class names.

    Returns
    -------
    dict
        Name to RGBA colour: tab20 in the order of :data:`gslib.classes.NAMES`, except pi,
        which is olive (its turn, light grey, would hide the new class beside H's grey);
        unknown names (and "failed") get black.
    """
    from ..classes import NAMES

    cmap = mpl.colormaps["tab20"]
    index = {name: i for i, name in enumerate(NAMES)} | {"pi": 16}
    return {name: (cmap(index[name]) if name in index else (0.0, 0.0, 0.0, 1.0)) for name in class_names}


def colormap_lut(cmap=None, n: int = 256) -> np.ndarray:
    """A colour map as a lookup table of ``n`` RGBA bytes (for drawing fields outside Matplotlib).

    Parameters
    ----------
    cmap : str, optional
        Colour map name (default: the book's, ``STYLE["image.cmap"]``).
    n : int, optional
        Entries, 2 to 4096; entry ``i`` is the colour of ``i / (n - 1)`` on the map's scale.

    Returns
    -------
    numpy.ndarray
        ``(n, 4)`` uint8.

    Raises
    ------
    ValueError
        If ``n`` is not an integer in [2, 4096] or ``cmap`` is not a known colour map.
    """
    n = check_int("n", n, 2, 4096)  # entries of the table
    name = STYLE["image.cmap"] if cmap is None else cmap
    try:
        colormap = mpl.colormaps[name]
    except KeyError:
        raise ValueError(f"cmap={name!r} is not a known Matplotlib colour map") from None
    return np.round(colormap(np.linspace(0.0, 1.0, int(n))) * 255).astype(np.uint8)


# ----------------------------------------------------------------------------- output


def save(fig, path):
    """Save ``fig`` to ``path`` (format from the suffix) with the style's dpi and tight bounding box.

    Creates missing parent directories.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        The file.

    Returns
    -------
    pathlib.Path
        The path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=STYLE["savefig.dpi"], bbox_inches="tight")
    return path


def html_table(header, rows, caption=None) -> str:
    """A small HTML table, escaped.

    Parameters
    ----------
    header : sequence of str
        Column names.
    rows : iterable of sequence
        Rows of values, shown with ``str``.
    caption : str, optional
        Caption above the table.

    Returns
    -------
    str
        The HTML.
    """
    import html

    def cells(tag, row):
        return "".join(f"<{tag}>{html.escape(str(x))}</{tag}>" for x in row)

    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table>{cap}<thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def show_table(header, rows, caption=None) -> None:
    """Display :func:`html_table` in a notebook; it renders alike in Jupyter and in the static book.

    Parameters
    ----------
    header, rows, caption
        As in :func:`html_table`.
    """
    from IPython.display import HTML, display

    display(HTML(html_table(header, rows, caption)))
