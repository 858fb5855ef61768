"""One figure style for the whole book: fields, RGB composites of snapshots, the (k, f) phase plane.

Every function here works with any Matplotlib backend, Agg included, and none calls ``plt.show()``.

* :func:`use_style` applies the book's rcParams globally (chapters call it once at the top);
  :data:`STYLE` holds them.  :func:`plot_fields` builds its figure inside
  ``matplotlib.rc_context(STYLE)``, so its figures look the same even without :func:`use_style`.
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

__all__ = ["STYLE", "use_style", "plot_field", "plot_fields", "rgb_composite", "plot_rgb",
           "plot_phase_plane", "class_colors", "plot_class_map", "plot_scan_values", "save"]

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


def _check_field(field, name: str) -> np.ndarray:
    """Return ``field`` as a 2-D float array, or raise ValueError naming ``name``."""
    try:
        arr = np.asarray(field, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2-D array of finite real numbers; got {type(field).__name__}") from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (N, M) with N, M >= 1; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or Inf ({int(np.count_nonzero(~np.isfinite(arr)))} value(s)); "
                         "it must be finite")
    return arr


def _check_dx(dx) -> float:
    if isinstance(dx, bool) or not isinstance(dx, (int, float, np.integer, np.floating)) \
            or not math.isfinite(dx) or dx <= 0:
        raise ValueError(f"dx must be a finite real number > 0 (grid spacing); got {dx!r}")
    return float(dx)


def _check_range(name: str, value) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers with low < high; got {value!r}")
    return lo, hi


def _extent(shape, dx: float) -> tuple[float, float, float, float]:
    n, m = shape[:2]
    return (0.0, m * dx, 0.0, n * dx)


def _label_axes(ax) -> None:
    ax.set_xlabel("x")
    ax.set_ylabel("y")


# ----------------------------------------------------------------------------- fields


def plot_field(ax, field, *, title=None, label="u", dx=1.0, cmap=None, vmin=None, vmax=None, colorbar=True):
    """Show one ``(N, M)`` field on ``ax``; returns the ``AxesImage``.

    The image spans ``0..M*dx`` along x and ``0..N*dx`` along y (model length units), with row 0
    at the bottom.  ``label`` names the colour bar (drawn unless ``colorbar=False``; the image's
    ``.colorbar`` attribute holds it).  ``cmap``, ``vmin``, ``vmax`` as in ``imshow`` (default
    colour map: the style's, viridis).
    """
    arr = _check_field(field, "field")
    dx = _check_dx(dx)
    im = ax.imshow(arr, origin="lower", extent=_extent(arr.shape, dx), cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
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
    """
    import matplotlib.pyplot as plt

    u = _check_field(u, "u")
    v = _check_field(v, "v")
    if u.shape != v.shape:
        raise ValueError(f"u and v must have the same shape; got {u.shape} and {v.shape}")
    dx = _check_dx(dx)
    with mpl.rc_context(STYLE):
        n, m = u.shape
        aspect = n / m
        fig, (ax_u, ax_v) = plt.subplots(1, 2, figsize=(9.0, max(2.5, min(9.0, 4.0 * aspect + 0.6))),
                                         layout="constrained")
        plot_field(ax_u, u, title="u", label="u", dx=dx)
        plot_field(ax_v, v, title="v", label="v", dx=dx)
        if title is not None:
            fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- RGB composites


def rgb_composite(frames) -> np.ndarray:
    """RGB encoding of three snapshots of ``u`` (Scholz & Scholz 2022): returns ``(N, M, 3)`` in [0, 1].

    ``frames`` is ``(3, N, M)`` (three snapshots, earliest first) or ``(N, M, 3)``.  Snapshot ``i``
    becomes colour channel ``i`` (red, green, blue).  All three share one min-max normalisation,
    ``(u - min) / (max - min)`` over the three frames together, so a cell whose value did not
    change has equal channels and appears gray, while moving structures appear coloured.  A
    constant input (max == min) maps to 0.5 gray.  A ``(3, N, 3)`` input is read as ``(3, N, M)``.
    """
    try:
        arr = np.asarray(frames, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("frames must be an array of real numbers, shape (3, N, M) or (N, M, 3); "
                         f"got {type(frames).__name__}") from None
    if arr.ndim != 3 or 3 not in (arr.shape[0], arr.shape[-1]) or min(arr.shape) < 1:
        raise ValueError(f"frames must have shape (3, N, M) or (N, M, 3) (three snapshots); got shape {arr.shape}")
    if arr.shape[0] == 3:
        arr = np.moveaxis(arr, 0, -1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"frames contain NaN or Inf ({int(np.count_nonzero(~np.isfinite(arr)))} value(s)); "
                         "they must be finite")
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
    """Show :func:`rgb_composite` of ``frames`` on ``ax`` (axes x, y as in :func:`plot_field`)."""
    img = rgb_composite(frames)
    dx = _check_dx(dx)
    im = ax.imshow(img, origin="lower", extent=_extent(img.shape, dx), interpolation="nearest")
    _label_axes(ax)
    if title is not None:
        ax.set_title(title)
    return im


# ----------------------------------------------------------------------------- phase plane


def plot_phase_plane(ax, *, k_range=(0.03, 0.07), f_range=(0.0, 0.1), saddle_node=True, hopf=True, legend=True):
    """Draw the bifurcation curves of the homogeneous states in the (k, f) plane; returns ``ax``.

    x axis: kill rate k, y axis: feed rate f (both 1/time), limited to ``k_range`` and ``f_range``.
    The saddle-node curve (``k = sqrt(f)/2 - f``, where the states L and S appear) and the Hopf
    curve of L come from :mod:`gslib.model`; the legend names them "saddle-node" and "Hopf".
    """
    from .model import hopf_curve, saddle_node_curve

    k_lo, k_hi = _check_range("k_range", k_range)
    f_lo, f_hi = _check_range("f_range", f_range)
    if saddle_node:
        k, f = saddle_node_curve(2000)
        ax.plot(k, f, color="black", linestyle="-", label="saddle-node")
    if hopf:
        k, f = hopf_curve(2000)
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
    """One fixed colour per class name (the same in every map of the book): tab20 in the order of
    :data:`gslib.classes.NAMES`, except pi, which is olive (its turn, light grey, would hide the new class
    beside H's grey); unknown names (and "failed") get black."""
    from .classes import NAMES

    cmap = mpl.colormaps["tab20"]
    index = {name: i for i, name in enumerate(NAMES)} | {"pi": 16}
    return {name: (cmap(index[name]) if name in index else (0.0, 0.0, 0.0, 1.0)) for name in class_names}


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


def plot_class_map(ax, k, f, labels, class_names=None, *, curves=True, legend=True, highlight=None):
    """The class map of a scan: one colour per predicted class on the (k, f) lattice; returns the image.

    k, f, labels  (P,) points and predicted class names ("failed" or unknown names: black)
    class_names   the classes in the legend (default: those present, in the book's order)
    curves        overlay the saddle-node and Hopf curves of the homogeneous states
    highlight     optional (P,) bool: points outlined in black (e.g. points that changed class)
    """
    from .classes import NAMES
    from .scan import scan_image

    labels = np.asarray(labels).astype(str)
    present = [n for n in NAMES if n in set(labels.tolist())] + sorted(set(labels.tolist()) - set(NAMES))
    names = list(class_names) if class_names is not None else present
    colors = class_colors(names + [n for n in present if n not in names])
    rgba = np.array([colors[name] for name in labels.tolist()])  # every label is in ``present``
    k_axis, f_axis, image = scan_image(k, f, rgba, fill=1.0)
    extent = _scan_extent(k_axis, f_axis)
    im = ax.imshow(image, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
    if highlight is not None:
        mask = np.asarray(highlight, dtype=bool)
        ax.scatter(np.asarray(k)[mask], np.asarray(f)[mask], s=9, facecolors="none", edgecolors="black",
                   linewidths=0.7, label="changed")
    _scan_axes(ax, extent, curves)
    if legend:
        handles = [mpl.patches.Patch(color=colors[n], label=n) for n in names if n in present]
        handles += ax.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, ncol=1 + len(handles) // 18,
                  title="class")
    return im


def plot_scan_values(ax, k, f, values, *, label, cmap="magma", vmin=None, vmax=None, curves=True, colorbar=True):
    """A per-point quantity of a scan (entropy, distance, ...) on the (k, f) lattice, with a colorbar labelled
    ``label``; empty lattice cells stay blank. Returns the image."""
    from .scan import scan_image

    values = np.asarray(values, dtype=np.float64)
    k_axis, f_axis, image = scan_image(k, f, values)
    extent = _scan_extent(k_axis, f_axis)
    im = ax.imshow(np.ma.masked_invalid(image), origin="lower", extent=extent, aspect="auto",
                   interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax)
    _scan_axes(ax, extent, curves)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label)
    return im


# ----------------------------------------------------------------------------- output


def save(fig, path):
    """Save ``fig`` to ``path`` (format from the suffix) with the style's dpi and tight bounding box.

    Creates missing parent directories; returns the path as a ``pathlib.Path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=STYLE["savefig.dpi"], bbox_inches="tight")
    return path


def html_table(header, rows, caption=None) -> str:
    """A small HTML table (header: column names; rows: sequences of values, shown with ``str``), escaped."""
    import html

    def cells(tag, row):
        return "".join(f"<{tag}>{html.escape(str(x))}</{tag}>" for x in row)

    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table>{cap}<thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def show_table(header, rows, caption=None) -> None:
    """Display :func:`html_table` in a notebook; it renders alike in Jupyter and in the static book."""
    from IPython.display import HTML, display

    display(HTML(html_table(header, rows, caption)))
