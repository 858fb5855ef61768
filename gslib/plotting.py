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
import re
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
    """The class map of a scan: one colour per predicted class on the (k, f) lattice.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    k, f : array_like
        Kill and feed rates of the points, ``(P,)``.
    labels : array_like of str
        Predicted class names, ``(P,)`` ("failed" or unknown names: black).
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
    from .classes import NAMES
    from .lattice import scan_image

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
    """A per-point quantity of a scan (entropy, distance, ...) on the (k, f) lattice.

    Empty lattice cells stay blank.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    k, f : array_like
        Kill and feed rates of the points, ``(P,)``.
    values : array_like
        The quantity, ``(P,)``.
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
    from .lattice import scan_image

    values = np.asarray(values, dtype=np.float64)
    f_axis, k_axis, image = scan_image(values, f=f, k=k)
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


# ----------------------------------------------------------------------------- chapter 2: the CNN classifier
# Figures of book/02_cnn_classification.ipynb: the classes' points in the (k, f) plane, samples as the
# network sees them, training curves, confusion matrices and attribution maps.


def plot_class_points(ax, classes, *, test_points=None, k_range=(0.035, 0.072), f_range=(0.0, 0.07)):
    """Draw the training point of each class, labelled with its symbol, over the phase plane; returns ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on (x: kill rate k, y: feed rate f).
    classes : sequence of gslib.classes.PatternClass
        The classes; each must have a training point. Colours come from :func:`class_colors`.
    test_points : sequence of dict, optional
        Points with keys ``"label"``, ``"f"`` and ``"k"`` (as returned by
        :func:`gslib.dataset.split_points`), drawn as crosses in the colour of their class.
    k_range, f_range : (float, float)
        The limits of the axes, as in :func:`plot_phase_plane`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, with a legend of the markers and of the bifurcation curves.

    Raises
    ------
    ValueError
        If a class has no training point, a test point lacks a key or names a class not in ``classes``,
        or a range is not an increasing pair of finite numbers.
    """
    import matplotlib.pyplot as plt

    classes = list(classes)
    missing = [c.name for c in classes if c.training_point is None]
    if missing:
        raise ValueError(f"classes must all have a training point; {missing} have none")
    colour = class_colors([c.name for c in classes])
    plot_phase_plane(ax, k_range=k_range, f_range=f_range, legend=False)
    for p in test_points or ():
        if not {"label", "f", "k"} <= set(p) or p["label"] not in colour:
            raise ValueError(f"test_points must be dicts with keys 'label', 'f', 'k' and a label of one of "
                             f"the classes; got {p!r}")
        ax.plot(p["k"], p["f"], "x", color=colour[p["label"]], ms=7, mew=1.8)
    for c in classes:
        ax.plot(c.k, c.f, "o", color=colour[c.name], ms=9, mec="black")
        ax.annotate(c.symbol, (c.k, c.f), xytext=(5, 4), textcoords="offset points", fontsize=12)
    handles = [plt.Line2D([], [], ls="", marker="o", color="gray", mec="black", ms=9, label="training point")]
    if test_points:
        handles.append(plt.Line2D([], [], ls="", marker="x", color="gray", mew=1.8, ms=7, label="test point"))
    handles += [plt.Line2D([], [], color="black", label="saddle-node"),
                plt.Line2D([], [], color="tab:red", ls="--", label="Hopf")]
    ax.legend(handles=handles, loc="upper left")
    ax.set_xlabel("kill rate k (1/time)")
    ax.set_ylabel("feed rate f (1/time)")
    return ax


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
        ax.text(0.5, 0.5, f"uniform\nu = {arr.mean():.3f}", transform=ax.transAxes, ha="center", va="center",
                fontsize=10, bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    if title is not None:
        ax.set_title(title, fontsize=10)
    return im


def plot_training_history(history, *, title=None, chance=None):
    """Loss (log scale) and accuracy per epoch of a training run, training and validation; returns the figure.

    The epoch of the lowest validation loss (whose weights a run keeps) is marked by a dashed line.

    Parameters
    ----------
    history : mapping
        Per-epoch sequences under ``"loss"``, ``"val_loss"``, ``"accuracy"`` and ``"val_accuracy"``
        (as returned by :func:`gslib.cnn.train` or :func:`gslib.cnn.read_history`).
    title : str, optional
        The figure's title.
    chance : float, optional
        The accuracy of guessing (1 / number of classes), drawn as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a key is missing, the sequences are empty or of different lengths, or ``chance`` is not in [0, 1].
    """
    import matplotlib.pyplot as plt

    keys = ("loss", "val_loss", "accuracy", "val_accuracy")
    missing = [key for key in keys if key not in history]
    if missing:
        raise ValueError(f"history lacks the keys {missing}; it needs {list(keys)}")
    curves = {key: np.asarray(history[key], dtype=np.float64) for key in keys}
    lengths = {len(v) for v in curves.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"history's sequences must be non-empty and of one length; got lengths "
                         f"{ {key: len(v) for key, v in curves.items()} }")
    if chance is not None and not 0 <= chance <= 1:
        raise ValueError(f"chance must be in [0, 1], got {chance!r}")
    epochs = np.arange(1, lengths.pop() + 1)
    best = int(np.argmin(curves["val_loss"])) + 1
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, key, ylabel in ((ax_l, "loss", "cross-entropy loss"), (ax_a, "accuracy", "accuracy")):
        ax.plot(epochs, curves[key], label="training")
        ax.plot(epochs, curves["val_" + key], label="validation")
        ax.set(xlabel="epoch", ylabel=ylabel)
    ax_l.set_yscale("log")
    ax_a.set_ylim(0, 1.02)
    if chance is not None:
        ax_a.axhline(chance, color="gray", ls=":", label=f"chance ({chance:.0%})")
    for ax in (ax_l, ax_a):
        ax.axvline(best, color="black", lw=0.8, ls="--", label=f"lowest validation loss (epoch {best})")
    ax_a.legend(loc="lower right", fontsize=9)
    ax_l.legend(loc="upper right", fontsize=9)
    if title is not None:
        fig.suptitle(title)
    return fig


def plot_confusion(ax, confusion, class_names, *, title=None):
    """Draw a confusion matrix: colour the share of the true class, numbers the counts; returns the image.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on (rows: true class, columns: predicted class).
    confusion : array_like, shape (n, n)
        Counts of patterns of true class ``i`` predicted as class ``j``, non-negative.
    class_names : sequence of str
        The ``n`` class names (ASCII); ticks show their symbols (:func:`gslib.notebook.class_label`).
    title : str, optional
        The axes title.

    Returns
    -------
    matplotlib.image.AxesImage
        The image, with a colour bar "share of the true class".

    Raises
    ------
    ValueError
        If ``confusion`` is not a square array of finite non-negative counts matching ``class_names``.
    """
    from .classes import NAMES, by_name
    from .notebook import class_label

    C = np.asarray(confusion, dtype=np.float64)
    names = list(class_names)
    if C.ndim != 2 or C.shape != (len(names), len(names)):
        raise ValueError(f"confusion must be a square array (n, n) with n = len(class_names) = {len(names)}; "
                         f"got shape {C.shape}")
    if not (np.isfinite(C).all() and (C >= 0).all()):
        raise ValueError("confusion must hold finite counts >= 0")
    share = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i, j in zip(*np.nonzero(C)):
        ax.text(j, i, f"{C[i, j]:g}", ha="center", va="center", fontsize=8,
                color="white" if share[i, j] > 0.5 else "black")
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, [by_name(n).symbol if n in NAMES else n for n in names])
    ax.set_yticks(ticks, [class_label(n) for n in names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title is not None:
        ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label="share of the true class", shrink=0.8)
    return im


def plot_attributions(inputs, saliency, attributions, *, titles=None):
    """One row per sample: the input, its saliency map and its integrated gradients; returns the figure.

    The maps are drawn over the last snapshot of ``u`` in gray: the saliency map (values in [0, 1]) with
    the inferno colour map, the attributions (summed over the channels) with a diverging map
    symmetric about zero (red raises the logit, blue lowers it).

    Parameters
    ----------
    inputs : array_like, shape (B, S, S, 3)
        The samples.
    saliency : array_like, shape (B, S, S)
        Their saliency maps (:func:`gslib.cnn.saliency`).
    attributions : array_like, shape (B, S, S) or (B, S, S, 3)
        Their integrated gradients (:func:`gslib.cnn.integrated_gradients`); channels are summed.
    titles : sequence of str, optional
        One title per row (for example the class's label).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the shapes do not match each other or ``titles`` has the wrong length.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(inputs, dtype=np.float64)
    sal = np.asarray(saliency, dtype=np.float64)
    att = np.asarray(attributions, dtype=np.float64)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"inputs must have shape (B, S, S, 3); got shape {x.shape}")
    if att.ndim == 4:
        att = att.sum(axis=-1)
    if sal.shape != x.shape[:3] or att.shape != x.shape[:3]:
        raise ValueError(f"saliency and attributions must match inputs (B, S, S) = {x.shape[:3]}; "
                         f"got {sal.shape} and {att.shape}")
    titles = [None] * len(x) if titles is None else list(titles)
    if len(titles) != len(x):
        raise ValueError(f"titles must have one entry per sample ({len(x)}); got {len(titles)}")
    fig, axes = plt.subplots(len(x), 3, figsize=(10.5, 3.4 * len(x)), squeeze=False)
    for (ax_p, ax_s, ax_i), xi, s, a, t in zip(axes, x, sal, att, titles):
        plot_sample(ax_p, xi, title="input" if t is None else f"{t}: input")
        for ax in (ax_s, ax_i):
            ax.imshow(xi[..., 2], origin="lower", cmap="gray", interpolation="nearest")
            ax.set(xticks=[], yticks=[])
        im_s = ax_s.imshow(s, origin="lower", cmap="inferno", alpha=0.6, vmin=0, vmax=1)
        ax_s.set_title("saliency (paper's recipe)", fontsize=10)
        fig.colorbar(im_s, ax=ax_s, shrink=0.8, label="normalised gradient")
        lim = float(np.abs(a).max()) or 1.0
        im_i = ax_i.imshow(a, origin="lower", cmap="RdBu_r", alpha=0.7, vmin=-lim, vmax=lim)
        ax_i.set_title("integrated gradients", fontsize=10)
        fig.colorbar(im_i, ax=ax_i, shrink=0.8, label="attribution to the logit")
    return fig


__all__ += ["plot_class_points", "plot_sample", "plot_training_history", "plot_confusion", "plot_attributions"]


# ----------------------------------------------------------------------------- chapter 1: the Gray-Scott model

#: One colour per region of :data:`gslib.model.REGIONS` (what the homogeneous state L does), used by
#: :func:`plot_region_map` and :func:`region_legend_handles`.
REGION_COLORS = {"no nontrivial state": "#f6d5d0", "L stable": "#d3e4f5",
                 "L Hopf-unstable": "#fbeab0", "L Turing-unstable": "#2e8b57"}

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

    from .model import REGIONS, classify_region

    k_lo, k_hi = _check_range("k_range", k_range)
    f_lo, f_hi = _check_range("f_range", f_range)
    n = _check_grid_size(n)
    for name, value in (("Du", Du), ("Dv", Dv)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0 (length^2/time); got {value!r}")
    K, F = np.meshgrid(np.linspace(k_lo, k_hi, n), np.linspace(max(f_lo, 1e-4), f_hi, n))
    labels = classify_region(F, K, Du, Dv)
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

    from .model import REGIONS

    handles = [Patch(color=REGION_COLORS[r], label=r) for r in REGIONS]
    if curves:
        handles += [Line2D([], [], color="black", label="saddle-node"),
                    Line2D([], [], color="tab:red", linestyle="--", label="Hopf")]
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
        ax.set_xlim(*_check_range("xlim", xlim))
    if ylim is not None:
        ax.set_ylim(*_check_range("ylim", ylim))
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
    for ax in axes.flat[len(classes):]:
        ax.set_axis_off()
    for ax, c, run in zip(axes.flat, classes, arr):
        plot_sample(ax, np.moveaxis(run, 0, -1), title=f"{c.symbol}  (f={c.f:g}, k={c.k:g})",
                    uniform_tol=uniform_tol)
    if title is not None:
        fig.suptitle(title)
    return fig


__all__ += ["REGION_COLORS", "plot_region_map", "region_legend_handles", "plot_dispersion", "plot_class_gallery"]


# ----------------------------------------------------------------------------- chapter 3: scans and discovery


def _class_label(name) -> str:
    from .notebook import class_label

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

    from .classes import NAMES

    missing = [key for key in ("u", "label", "k", "f", "confidence") if key not in montage]
    if missing:
        raise ValueError(f"montage lacks the keys {missing}; it has {sorted(montage)}")
    labels = np.asarray(montage["label"]).astype(str)
    if labels.size == 0:
        raise ValueError("montage holds no pattern")
    if not cell > 0:
        raise ValueError(f"cell={cell!r} must be a positive width in inches")
    present = set(labels.tolist())
    rows = list(class_names) if class_names is not None else (
        [n for n in NAMES if n in present] + sorted(present - set(NAMES)))
    rows = [c for c in rows if c in present]
    per = max(int((labels == c).sum()) for c in rows)
    u = np.asarray(montage["u"])
    scale = 255.0 if u.dtype == np.uint8 else 1.0
    fig, axes = plt.subplots(len(rows), per, figsize=(cell * per + 0.8, 1.45 * cell * len(rows) / 1.35),
                             squeeze=False)
    im = None
    for row, c in zip(axes, rows):
        for ax in row:
            ax.set_axis_off()
        for ax, j in zip(row, np.flatnonzero(labels == c)):
            im = ax.imshow(u[j] / scale, origin="lower", cmap="viridis", vmin=0, vmax=1)
            ax.set_title(f"k={montage['k'][j]:.5f}\nf={montage['f'][j]:.5f}  p={montage['confidence'][j]:.2f}",
                         fontsize=6)
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

    if isinstance(n_regions, bool) or not isinstance(n_regions, (int, np.integer)) or n_regions < 0:
        raise ValueError(f"n_regions={n_regions!r} must be an integer >= 0")
    c = candidates
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.4))
    plot_scan_values(ax1, c.k, c.f, np.log10(c.distance), label="log10 distance to the nearest class")
    ax1.set_title("novelty: distance of the embedding")
    kind = np.asarray(c.flag_entropy, dtype=float) + 2.0 * np.asarray(c.flag_distance, dtype=float)
    im = plot_scan_values(ax2, c.k, c.f, kind, label="flagged by", cmap=mpl.colormaps["viridis"].resampled(4),
                          vmin=-0.5, vmax=3.5)
    im.colorbar.set_ticks([0, 1, 2, 3], labels=["none", "entropy", "distance", "both"])
    for r in c.regions[:n_regions]:
        text = f"R{r['id']} {r.get('kind', '')}".rstrip() if kinds else f"R{r['id']}"
        ax2.annotate(text, (r["k_mean"], r["f_mean"]), xytext=(8, 8), textcoords="offset points",
                     color="white", fontsize=9, fontweight="bold",
                     bbox=dict(boxstyle="round,pad=0.15", fc="black", alpha=0.6))
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
    if not cell > 0:
        raise ValueError(f"cell={cell!r} must be a positive width in inches")
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
    if not size > 0:
        raise ValueError(f"size={size!r} must be positive")
    colors = class_colors([p["label"] for p in points])
    return ax.scatter([p["k"] for p in points], [p["f"] for p in points], marker=marker, s=size, linewidths=0.8,
                      c=[colors[p["label"]] for p in points], edgecolors="black", label=label)


def plot_class_maps_compared(k, f, before, after, *, class_names=None, titles=("before", "after")):
    """Two class maps of the same points side by side, points whose class changed circled on the right.

    Parameters
    ----------
    k, f : array_like, shape (P,)
        The points.
    before, after : array_like of str, shape (P,)
        The predicted classes of the two scans.
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
    if not len(k) == len(f) == len(before) == len(after):
        raise ValueError(f"k, f, before and after must have one length, got {len(k)}, {len(f)}, "
                         f"{len(before)}, {len(after)}")
    if len(titles) != 2:
        raise ValueError(f"titles must be a pair of str, got {titles!r}")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(16, 5.6), sharey=True)
    plot_class_map(ax1, k, f, before, class_names=class_names, legend=False)
    ax1.set_title(titles[0])
    plot_class_map(ax2, k, f, after, class_names=class_names, highlight=before != after)
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
    spacing : (dk, df), optional
        Lattice steps of the scan; when given, a last column holds the distance of the region's mean from
        the first-pass training point of its most common class, in lattice steps (NaN for other names).
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
    from .classes import NAMES, by_name

    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top={top!r} must be a positive integer")
    if spacing is not None and (len(spacing) != 2 or not all(s > 0 for s in spacing)):
        raise ValueError(f"spacing={spacing!r} must be two positive lattice steps (dk, df)")
    header = ["region", "points", "mean k", "mean f", "mean entropy", "mean distance", "predicted"]
    if spacing is not None:
        header.append("steps from the training point of its class")
    rows = []
    for r in regions:
        counts = sorted(r["labels"].items(), key=lambda kv: -kv[1])
        row = [f"R{r['id']}", r["size"], f"{r['k_mean']:.5f}", f"{r['f_mean']:.4f}", f"{r['entropy_mean']:.2f}",
               f"{r['distance_mean']:.1f}", ", ".join(f"{_class_label(n)} {c}" for n, c in counts[:top])]
        if spacing is not None:
            name = counts[0][0]
            steps = float("nan")
            if name in NAMES and by_name(name).training_point is not None:
                c = by_name(name)
                steps = float(np.hypot((r["k_mean"] - c.k) / spacing[0], (r["f_mean"] - c.f) / spacing[1]))
            row.append(f"{steps:.0f}")
        rows.append(row)
    return header, rows


__all__ += ["plot_class_montage", "plot_flag_maps", "plot_pattern_rows", "plot_split_points",
            "plot_class_maps_compared", "region_rows"]


# ----------------------------------------------------------------------------- chapter 4: equations from data
# Figures of book/04_equations_from_stochastic_data.ipynb: snapshot grids, coefficient errors against
# the frame lag, Pareto fronts of model selection, structure factors, apparent diffusivities and a
# self-contained HTML movie player.


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
    if not (isinstance(panel, (int, float)) and math.isfinite(panel) and panel > 0):
        raise ValueError(f"panel must be a width in inches > 0; got {panel!r}")
    lo = min(a.min() for row in arrays for a in row) if vmin is None else vmin
    hi = max(a.max() for row in arrays for a in row) if vmax is None else vmax
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(*shape, figsize=(panel * shape[1] + 1.0, panel * shape[0]), squeeze=False)
        for i, j in np.ndindex(shape):
            im = plot_field(axes[i, j], arrays[i][j], title=names[i][j], dx=spacing[i][j], cmap=cmap,
                            vmin=lo, vmax=hi, colorbar=False)
        fig.colorbar(im, ax=axes, shrink=0.8, label=label)
    return fig, axes


def plot_lag_errors(ax, lag_times, errors, extrapolated, labels, *, title=None):
    """Relative errors of coefficients against the time between the frames of a pair.

    Parameters
    ----------
    ax : matplotlib Axes
    lag_times : (L,) array
        Time between the two frames of each pair (time units).
    errors : (L, T) array
        Relative error (estimate / truth - 1) of each of T coefficients at each lag.
    extrapolated : (T,) array
        Relative error of the extrapolation to lag 0, drawn as a star at time 0.
    labels : sequence of T str
        Legend entries.
    title : str, optional

    Returns
    -------
    ax

    Raises
    ------
    ValueError
        If the shapes of ``lag_times``, ``errors``, ``extrapolated`` and ``labels`` do not match.
    """
    lag_times = np.asarray(lag_times, dtype=float)
    errors = np.asarray(errors, dtype=float)
    extrapolated = np.asarray(extrapolated, dtype=float)
    labels = list(labels)
    if errors.ndim != 2 or errors.shape != (len(lag_times), len(labels)) or extrapolated.shape != (len(labels),):
        raise ValueError(f"errors must be (lags, terms) = ({len(lag_times)}, {len(labels)}) and extrapolated "
                         f"({len(labels)},); got {errors.shape} and {extrapolated.shape}")
    for j, label in enumerate(labels):
        line, = ax.plot(lag_times, 100 * errors[:, j], "o-", label=label)
        ax.plot([0.0], [100 * extrapolated[j]], "*", ms=12, color=line.get_color())
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlim(-0.1, 1.1 * lag_times.max())
    ax.set_xlabel("time between the two frames (time units)")
    ax.set_ylabel("relative error of the coefficient (%)")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_pareto_fronts(fronts, prices, *, reference_size):
    """Pareto fronts of model selection: best information per model size, and the gain beyond a size.

    Parameters
    ----------
    fronts : dict
        ``{name: (sizes, information)}``: model sizes and the best information (nats) of each.
    prices : dict
        ``{criterion: price of one term (nats)}``, drawn as lines of that slope in the right panel.
    reference_size : int
        The size from which the right panel shows the information gained, ``I(B) - I(best of this size)``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a front's sizes and informations differ in length or lack ``reference_size``.
    """
    import matplotlib.pyplot as plt

    with mpl.rc_context(STYLE):
        fig, (ax_front, ax_gain) = plt.subplots(1, 2, figsize=(11, 4.2))
        largest = reference_size
        for name, (sizes, info) in fronts.items():
            sizes, info = np.asarray(sizes), np.asarray(info, dtype=float)
            if sizes.shape != info.shape or reference_size not in sizes:
                raise ValueError(f"front {name!r}: sizes and information must have one shape and include "
                                 f"reference_size={reference_size}")
            keep = sizes > 0
            ax_front.semilogy(sizes[keep], info[keep], "o-", ms=3, label=name)
            at = sizes >= reference_size
            ax_gain.plot(sizes[at], info[at] - info[sizes == reference_size][0], "o-", ms=3, label=name)
            largest = max(largest, int(sizes.max()))
        for name, c in prices.items():
            ax_gain.plot([reference_size, largest], [0, (largest - reference_size) * c], "--", lw=1,
                         label=f"price of {name}")
        ax_front.set_xlabel("model size |B| (terms)")
        ax_front.set_ylabel("information I (nats)")
        ax_gain.set_xlabel("model size |B| (terms)")
        ax_gain.set_ylabel(f"I(B) - I(best {reference_size} terms) (nats)")
        ax_gain.set_yscale("symlog", linthresh=20)
        ax_gain.set_ylim(-1, None)
        ax_front.legend()
        ax_gain.legend(fontsize=8)
    return fig


def plot_structure_factors(ax, q, curves, *, title=None):
    """Radially averaged structure factors on a logarithmic axis.

    Parameters
    ----------
    ax : matplotlib Axes
    q : (Q,) array
        Wave numbers of the rings (1 / length).
    curves : dict
        ``{label: S}``, each ``S`` of shape (Q,) and positive.
    title : str, optional

    Returns
    -------
    ax

    Raises
    ------
    ValueError
        If a curve's shape differs from that of ``q``.
    """
    q = np.asarray(q, dtype=float)
    for (label, S), style in zip(curves.items(), ("o-", "s--", "^:", "d-.")):
        S = np.asarray(S, dtype=float)
        if S.shape != q.shape:
            raise ValueError(f"curve {label!r} has shape {S.shape}; q has {q.shape}")
        ax.semilogy(q, S, style, ms=3, label=label)
    ax.set_xlabel("|q| (1 / cell)")
    ax.set_ylabel("S(q)")
    if title is not None:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_apparent_diffusivity(ax, curves, *, true_value, name, q_min=0.0):
    """Apparent diffusivity of Fourier modes against their wave number, with the true value dashed.

    Parameters
    ----------
    ax : matplotlib Axes
    curves : dict
        ``{label: (q, D)}``: wave numbers (1 / length) and apparent diffusivities (length^2 / time).
    true_value : float
        The true diffusivity, drawn as a dashed line.
    name : str
        Name of the field (axis label and legend).
    q_min : float
        Only wave numbers above this are drawn.

    Returns
    -------
    ax

    Raises
    ------
    ValueError
        If ``true_value`` is not a positive number, or a curve's q and D differ in shape.
    """
    if not (isinstance(true_value, (int, float, np.floating)) and math.isfinite(true_value) and true_value > 0):
        raise ValueError(f"true_value must be a diffusivity > 0; got {true_value!r}")
    for label, (q, D) in curves.items():
        q, D = np.asarray(q, dtype=float), np.asarray(D, dtype=float)
        if q.shape != D.shape:
            raise ValueError(f"curve {label!r}: q and D must have one shape; got {q.shape} and {D.shape}")
        shown = q > q_min
        if shown.any():
            ax.plot(q[shown], D[shown], "o-", ms=3, label=label)
    ax.axhline(true_value, color="black", lw=0.8, ls="--", label=f"true D{name} = {true_value:g}")
    ax.set_ylim(0, 2.5 * true_value)
    ax.set_xlim(q_min, np.pi)
    ax.set_xlabel("|q| (1 / original cell)")
    ax.set_ylabel(f"apparent diffusivity of {name} (cell² / time)")
    ax.legend(fontsize=8)
    return ax


def plot_ratio_by_factor(ax, factors, ratios, *, ylabel, styles=None):
    """Ratios (inferred / true) against a factor on a logarithmic axis of base 2.

    Parameters
    ----------
    ax : matplotlib Axes
    factors : sequence of int
        The factors (for example a coarsening factor), one tick each.
    ratios : dict
        ``{label: values}``, one value per factor; a label of ``None`` stays out of the legend.
    ylabel : str
    styles : dict, optional
        ``{label: keyword arguments of plot}`` (colour, marker, ...).

    Returns
    -------
    ax

    Raises
    ------
    ValueError
        If a series does not have one value per factor.
    """
    factors = list(factors)
    styles = styles or {}
    for label, values in ratios.items():
        if len(values) != len(factors):
            raise ValueError(f"series {label!r} has {len(values)} values for {len(factors)} factors")
        ax.plot(factors, values, **{"marker": "o", "ms": 4, **styles.get(label, {})}, label=label)
    ax.axhline(1, color="black", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(factors, [str(f) for f in factors])
    ax.set_xlabel("coarsening factor")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)
    return ax


def animation_html(movies, *, titles, times, frames, label="u", heading="t = {t:g}", colors=32, dpi=72):
    """A self-contained HTML player of movies shown side by side (Matplotlib's ``to_jshtml``).

    The frames are embedded as PNG images with a little JavaScript, so the player works in a static
    page without a running kernel. The figure is closed: the HTML is the only output.

    Parameters
    ----------
    movies : sequence of (T, N, M) arrays
        The movies, all with the same number of frames T.
    titles : sequence of str
        One title per movie.
    times : (T,) array
        The time of each frame (shown in the heading).
    frames : int
        Number of frames shown, evenly spaced over the whole movie (1 <= frames <= T).
    label : str
        Label of the colour bar.
    heading : str
        Format of the heading, with the field ``t`` (the frame's time).
    colors : int
        Number of colours of the colour map (fewer colours: smaller PNG frames).
    dpi : int
        Resolution of the frames.

    Returns
    -------
    str
        The HTML of the player.

    Raises
    ------
    ValueError
        If the movies differ in shape, ``titles`` or ``times`` do not match them, or ``frames`` is
        out of range.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    movies = [np.asarray(m, dtype=float) for m in movies]
    if not movies or any(m.ndim != 3 or m.shape != movies[0].shape for m in movies):
        raise ValueError("movies must be one or more (T, N, M) arrays of one shape")
    n_frames = movies[0].shape[0]
    if len(titles) != len(movies) or len(times) != n_frames:
        raise ValueError(f"titles must have {len(movies)} entries and times {n_frames}; "
                         f"got {len(titles)} and {len(times)}")
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not 1 <= frames <= n_frames:
        raise ValueError(f"frames must be an integer in [1, {n_frames}]; got {frames!r}")
    shown = np.linspace(0, n_frames - 1, frames).round().astype(int)
    lo, hi = np.percentile(np.concatenate([m.ravel() for m in movies]), [0.5, 99.5])
    with mpl.rc_context({**STYLE, "savefig.dpi": dpi, "savefig.bbox": None}):
        fig, axes = plt.subplots(1, len(movies), figsize=(2.6 * len(movies), 2.8), squeeze=False)
        images = [plot_field(ax, m[0], title=title, cmap=plt.get_cmap("viridis", colors), vmin=lo, vmax=hi,
                             colorbar=False) for ax, m, title in zip(axes[0], movies, titles)]
        for ax in axes[0]:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(images[0], ax=axes, shrink=0.8, label=label)
        top = fig.suptitle("", fontsize=10)

        def draw(i):
            for image, m in zip(images, movies):
                image.set_data(m[shown[i]])
            top.set_text(heading.format(t=float(times[shown[i]])))
            return [*images, top]

        html = FuncAnimation(fig, draw, frames=len(shown), interval=200).to_jshtml(default_mode="loop")
    plt.close(fig)
    # Matplotlib links Font Awesome from a CDN for the buttons' icons; the page must work offline. The
    # book's theme ships Font Awesome, which draws the same ``fa-*`` icons; the buttons work without it.
    return re.sub(r"<link[^>]*font-awesome[^>]*>\s*", "", html)


# ----------------------------------------------------------------------------- chapter 5: the inverse problem

#: Axis labels of the four parameters of chapter 5, with their units (lengths in cells, times in model units).
PARAMETER_LABELS = {"Du": "diffusivity Du (cells²/time)", "Dv": "diffusivity Dv (cells²/time)",
                    "F": "feed rate f (1/time)", "k": "kill rate k (1/time)"}


def plot_target_spectrum(u, v, spectrum, *, window=16, dx=1.0):
    """The target of an inversion: u, v with the tiles of the windowed loss, and the log power spectrum of v.

    Parameters
    ----------
    u, v : array (N, M)
        The target fields.
    spectrum : array (N, M)
        ``fftshift(log(|FFT(v - mean v)|^2 + 1e-8))``, as :func:`gslib.landscape.power_spectrum_np` gives it.
    window : int
        Side of the tiles drawn on v (cells); 0 draws none.
    dx : float
        Grid spacing.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the arrays are not 2-D of one shape, or ``window`` is negative.
    """
    import matplotlib.pyplot as plt

    u, v, spectrum = (_check_field(a, name) for a, name in ((u, "u"), (v, "v"), (spectrum, "spectrum")))
    if not u.shape == v.shape == spectrum.shape:
        raise ValueError(f"u, v and spectrum must have one shape; got {u.shape}, {v.shape}, {spectrum.shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
        raise ValueError(f"window must be an integer >= 0; got {window!r}")
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
        plot_field(axes[0], u, title="u", label="u", dx=dx)
        plot_field(axes[1], v, title=f"v, with the {window} x {window} tiles" if window else "v", label="v",
                   cmap="magma", dx=dx)
        for x in range(0, max(u.shape) + 1, window or max(u.shape) + 1):
            axes[1].axvline(x * dx, color="white", lw=0.5)
            axes[1].axhline(x * dx, color="white", lw=0.5)
        q = np.fft.fftshift(np.fft.fftfreq(u.shape[1], d=dx)) * 2 * np.pi
        p = np.fft.fftshift(np.fft.fftfreq(u.shape[0], d=dx)) * 2 * np.pi
        im = axes[2].imshow(spectrum, origin="lower", extent=(q[0], q[-1], p[0], p[-1]), cmap="viridis")
        axes[2].set_title("log power spectrum of v")
        axes[2].set_xlabel("wave number q_x (1/cell)")
        axes[2].set_ylabel("wave number q_y (1/cell)")
        fig.colorbar(im, ax=axes[2], shrink=0.9, label="log(|FFT(v - mean)|² + 1e-8)")
    return fig


def plot_descent(histories, plateau):
    """Gradient-descent runs: the loss and the largest relative parameter error per iteration.

    Parameters
    ----------
    histories : sequence of gslib.landscape.FitHistory
        The runs (anything with ``arrays()["loss"]`` and ``relative_error()``).
    plateau : float
        The loss of a dead prediction, drawn as a dashed line.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is no run or ``plateau`` is not finite.
    """
    import matplotlib.pyplot as plt

    if len(histories) == 0:
        raise ValueError("histories must hold at least one run")
    if not np.isfinite(plateau):
        raise ValueError(f"plateau must be a finite number; got {plateau!r}")
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        for j, h in enumerate(histories):
            line, = axes[0].plot(h.arrays()["loss"], "o-", ms=3, label=f"run {j + 1}")
            axes[1].semilogy(h.relative_error().max(axis=1), "o-", ms=3, color=line.get_color())
        axes[0].axhline(plateau, color="black", ls="--", lw=1, label="dead plateau")
        axes[0].set_ylabel("spectral loss of v")
        axes[1].set_ylabel("largest relative parameter error")
        for ax in axes:
            ax.set_xlabel("iteration")
        axes[0].legend(fontsize=8)
    return fig


def plot_loss_sections(sections, truth, plateau, *, lines=None, losses=("spectral", "windowed"), right="residual"):
    """1-D loss cross-sections, one panel per varied parameter (2 x 2 for the four parameters).

    Parameters
    ----------
    sections : dict
        Parameter name -> :class:`gslib.landscape.CrossSection` along it.
    truth : dict
        Parameter name -> true value (a green vertical line).
    plateau : float
        The dead plateau of the spectral loss (a dotted line).
    lines : dict, optional
        Parameter name -> list of ``(x, label, color, linestyle)`` vertical lines (bifurcations).
    losses : sequence of str
        Losses drawn on the left axis.
    right : str or None
        A loss drawn on a logarithmic right axis (None: none).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``sections`` is empty or a loss is missing from a cross-section.
    """
    import matplotlib.pyplot as plt

    if not sections:
        raise ValueError("sections must hold at least one cross-section")
    for name, cs in sections.items():
        missing = [loss for loss in (*losses, *([right] if right else [])) if loss not in cs.losses]
        if missing:
            raise ValueError(f"the cross-section along {name} lacks the losses {missing}")
    lines = lines or {}
    with mpl.rc_context(STYLE):
        rows = math.ceil(len(sections) / 2)
        fig, axes = plt.subplots(rows, 2, figsize=(12, 3.75 * rows), squeeze=False)
        for ax, (name, cs) in zip(axes.ravel(), sections.items()):
            x = cs.axes[0]
            for loss in losses:
                ax.plot(x, cs.losses[loss], "-", label=loss)
            ax.axhline(plateau, color="black", ls=":", lw=1)
            ax.axvline(truth[name], color="tab:green", lw=1, label="truth")
            for pos, label, color, style in lines.get(name, ()):
                ax.axvline(pos, color=color, ls=style, lw=1.2, label=label)
            handles, labels = ax.get_legend_handles_labels()
            if right:
                ax2 = ax.twinx()
                ax2.semilogy(x, cs.losses[right], color="tab:purple", lw=1.2, label=f"{right} (right axis)")
                ax2.set_ylabel(f"{right} loss", color="tab:purple")
                h2, l2 = ax2.get_legend_handles_labels()
                handles, labels = handles + h2, labels + l2
            ax.set_xlabel(PARAMETER_LABELS.get(name, name))
            ax.set_ylabel("spectral losses")
            ax.legend(handles, labels, fontsize=8, loc="center right" if name != "k" else "center left")
        for ax in axes.ravel()[len(sections):]:
            ax.set_visible(False)
    return fig


def plot_loss_map(ax, k_axis, f_axis, z, *, label, cmap="viridis", truth=None, curves=True, paths=()):
    """One loss (or any value) over the (k, f) plane, with the bifurcation curves; returns the mesh.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    k_axis, f_axis : array
        The kill rates (columns) and feed rates (rows) of ``z``.
    z : array (len(f_axis), len(k_axis))
        The values; NaN is left blank.
    label : str
        Colorbar label.
    cmap : str
        Colormap.
    truth : (k, f), optional
        Marked with a star.
    curves : bool
        Draw the saddle-node and Hopf curves of :func:`plot_phase_plane`.
    paths : sequence of (k, f) arrays
        Paths drawn on top (white lines, the first point a square).

    Returns
    -------
    matplotlib.collections.QuadMesh

    Raises
    ------
    ValueError
        If ``z`` does not have the shape (len(f_axis), len(k_axis)).
    """
    k_axis, f_axis = np.asarray(k_axis, float), np.asarray(f_axis, float)
    z = np.asarray(z, float)
    if z.shape != (len(f_axis), len(k_axis)):
        raise ValueError(f"z must have shape (len(f_axis), len(k_axis)) = {(len(f_axis), len(k_axis))}; got {z.shape}")
    mesh = ax.pcolormesh(k_axis, f_axis, z, shading="nearest", cmap=cmap)
    ax.figure.colorbar(mesh, ax=ax, shrink=0.9, label=label)
    if curves:
        plot_phase_plane(ax, k_range=(k_axis[0], k_axis[-1]), f_range=(f_axis[0], f_axis[-1]), legend=False)
        for line in ax.get_lines()[:1]:
            line.set_color("white")
    for k, f in paths:
        ax.plot(k, f, "o-", ms=3, color="white", lw=1)
        ax.plot(np.asarray(k)[0], np.asarray(f)[0], "s", ms=5, color="orange")
    if truth is not None:
        ax.plot(truth[0], truth[1], "*", color="tab:green", ms=13, mec="black", label="truth")
    ax.set_xlabel(PARAMETER_LABELS["k"])
    ax.set_ylabel(PARAMETER_LABELS["F"])
    return mesh


def plot_loss_surface(k_axis, f_axis, z, *, truth, level):
    """A loss as a 3-D surface over (k, f), with the saddle-node curve drawn at height ``level``.

    Parameters
    ----------
    k_axis, f_axis : array
        Kill rates (columns) and feed rates (rows).
    z : array (len(f_axis), len(k_axis))
        The loss.
    truth : (k, f)
        Marked at height 0.
    level : float
        Height of the saddle-node curve (just above the plateau).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``z`` does not have the shape (len(f_axis), len(k_axis)).
    """
    import matplotlib.pyplot as plt

    from .model import saddle_node_curve

    k_axis, f_axis, z = np.asarray(k_axis, float), np.asarray(f_axis, float), np.asarray(z, float)
    if z.shape != (len(f_axis), len(k_axis)):
        raise ValueError(f"z must have shape (len(f_axis), len(k_axis)) = {(len(f_axis), len(k_axis))}; got {z.shape}")
    with mpl.rc_context({**STYLE, "figure.constrained_layout.use": False}):
        fig = plt.figure(figsize=(9, 6.5))
        ax = fig.add_subplot(projection="3d")
        kk, ff = np.meshgrid(k_axis, f_axis)
        ax.plot_surface(kk, ff, z, cmap="viridis", linewidth=0, rcount=len(f_axis), ccount=len(k_axis))
        k, f = saddle_node_curve(2000)
        keep = (k >= k_axis[0]) & (k <= k_axis[-1]) & (f >= f_axis[0]) & (f <= f_axis[-1])
        ax.plot(k[keep], f[keep], np.full(keep.sum(), level), color="black", lw=2, label="saddle-node")
        ax.scatter([truth[0]], [truth[1]], [0], color="red", s=60, label="truth")
        ax.set_xlabel("k (1/time)")
        ax.set_ylabel("f (1/time)")
        ax.set_zlabel("spectral loss")
        ax.view_init(elev=38, azim=-120)
        ax.legend(fontsize=8)
    return fig


def plot_relative_losses(ax, x, losses, *, xlabel, truth=None, lines=()):
    """Losses along one parameter, each divided by its own dead plateau (1: a dead prediction); log scale.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x : array
        The parameter values.
    losses : dict
        Name -> ``(values, plateau)``: the loss along ``x`` and its value for a dead prediction.
    xlabel : str
        Label of the x axis, with units.
    truth : float, optional
        The true value (a green vertical line).
    lines : sequence of (x, label, color, linestyle)
        Further vertical lines (bifurcations).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If a loss does not match ``x`` in length or a plateau is not a positive number.
    """
    x = np.asarray(x, float)
    for name, (values, plateau) in losses.items():
        values = np.asarray(values, float)
        if values.shape != x.shape:
            raise ValueError(f"the loss {name!r} has shape {values.shape}; x has {x.shape}")
        if not (np.isfinite(plateau) and plateau > 0):
            raise ValueError(f"the plateau of {name!r} must be a number > 0; got {plateau!r}")
        ax.semilogy(x, values / plateau, "-", label=name)
    ax.axhline(1.0, color="black", ls=":", lw=1, label="dead plateau")
    if truth is not None:
        ax.axvline(truth, color="tab:green", lw=1, label="truth")
    for pos, label, color, style in lines:
        ax.axvline(pos, color=color, ls=style, lw=1.2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss / its dead plateau")
    ax.legend(fontsize=8)
    return ax


def plot_residual_robustness(tolerances, steps, errors, stderrs, sigmas, noise_errors, noise_stderrs, corrected,
                             names):
    """The residual fit against the steady-state tolerance (left) and against noise (right).

    Parameters
    ----------
    tolerances, steps, errors, stderrs : arrays (T,)
        Tolerances at which the run was stopped, the steps taken, the largest relative error and the
        largest relative standard error of the fit.
    sigmas : array (S,)
        Standard deviations of the noise added to u and v.
    noise_errors, noise_stderrs : arrays (S, P)
        Median relative error and relative standard error of each parameter.
    corrected : array (S,)
        Largest error after the errors-in-variables correction.
    names : sequence of str
        The P parameter names.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the lengths do not match.
    """
    import matplotlib.pyplot as plt

    tolerances, errors, stderrs = (np.asarray(a, float) for a in (tolerances, errors, stderrs))
    sigmas, noise_errors = np.asarray(sigmas, float), np.asarray(noise_errors, float)
    noise_stderrs, corrected = np.asarray(noise_stderrs, float), np.asarray(corrected, float)
    if not len(tolerances) == len(steps) == len(errors) == len(stderrs):
        raise ValueError("tolerances, steps, errors and stderrs must have one length")
    if noise_errors.shape != (len(sigmas), len(names)) or noise_stderrs.shape != noise_errors.shape \
            or corrected.shape != sigmas.shape:
        raise ValueError("noise_errors and noise_stderrs must be (len(sigmas), len(names)), corrected (len(sigmas),)")
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
        axes[0].loglog(tolerances, errors, "o-", label="largest relative error")
        axes[0].loglog(tolerances, stderrs, "s--", label="largest relative standard error")
        for tol, n, err in zip(tolerances, steps, errors):
            axes[0].annotate(f"{n}", (tol, err), textcoords="offset points", xytext=(4, 4), fontsize=7)
        axes[0].invert_xaxis()
        axes[0].set_xlabel("steady-state tolerance (largest change in one step)")
        for i, name in enumerate(names):
            line, = axes[1].loglog(sigmas, noise_errors[:, i], "o-", label=name)
            axes[1].loglog(sigmas, noise_stderrs[:, i], ":", color=line.get_color())
        axes[1].loglog(sigmas, corrected, "k--", lw=1.5, label="corrected (noise=sigma), largest")
        axes[1].set_xlabel("noise added to u and v (standard deviation)")
        axes[0].set_ylabel("relative error")
        axes[1].set_ylabel("median |relative error| (dotted: standard error)")
        for ax in axes:
            ax.axhline(1e-3, color="gray", lw=0.8)
            ax.legend(fontsize=8)
    return fig


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
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= 4096:
        raise ValueError(f"n={n!r} must be an integer in [2, 4096] (entries of the table)")
    name = STYLE["image.cmap"] if cmap is None else cmap
    try:
        colormap = mpl.colormaps[name]
    except KeyError:
        raise ValueError(f"cmap={name!r} is not a known Matplotlib colour map") from None
    return np.round(colormap(np.linspace(0.0, 1.0, int(n))) * 255).astype(np.uint8)


__all__ += ["colormap_lut"]


def plot_coefficient_check(ax, labels, inferred, stderr, predicted, *, ylabel="coefficient", title=None):
    """Inferred coefficients with error bars of two standard errors, against predicted values.

    Parameters
    ----------
    ax : matplotlib Axes
    labels : sequence of str
        One name per coefficient (the x tick labels).
    inferred, stderr, predicted : sequence of float
        Per coefficient: the estimate, its standard error (>= 0) and the predicted value.
    ylabel : str, optional
    title : str, optional

    Returns
    -------
    ax

    Raises
    ------
    ValueError
        If the sequences differ in length or a standard error is negative or not finite.
    """
    labels = list(labels)
    inferred, stderr, predicted = (np.asarray(x, dtype=float) for x in (inferred, stderr, predicted))
    if not (inferred.shape == stderr.shape == predicted.shape == (len(labels),)):
        raise ValueError(f"inferred, stderr and predicted must each have one value per label ({len(labels)}); "
                         f"got shapes {inferred.shape}, {stderr.shape}, {predicted.shape}")
    if not np.all(np.isfinite(stderr)) or np.any(stderr < 0):
        raise ValueError("stderr must be finite and >= 0")
    x = np.arange(len(labels))
    ax.errorbar(x, inferred, yerr=2 * stderr, fmt="o", capsize=4, label="inferred ± 2 s.e.")
    ax.plot(x, predicted, "_", ms=22, mew=2.5, color="C3", label="predicted")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_noise_study(study, *, title=None):
    """Exact-support rate and worst coefficient error against the measurement-noise level.

    Parameters
    ----------
    study : NoiseStudy
        The outcome of :func:`gslib.inference.robustness.measurement_noise_study` (its ``levels``,
        ``regimes``, ``exact_rate`` and ``worst_error`` are used).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the fraction of runs whose selection is exactly the true support; right: the worst
        relative error of a true coefficient (logarithmic). One colour per regime; solid: with the
        errors-in-variables correction, dashed: without.

    Raises
    ------
    ValueError
        If the study has no levels or no regimes.
    """
    import matplotlib.pyplot as plt

    levels, regimes = list(study.levels), list(study.regimes)
    if not levels or not regimes:
        raise ValueError("study must have at least one level and one regime")
    x = np.arange(len(levels))
    with mpl.rc_context(STYLE):
        fig, (ax_rate, ax_err) = plt.subplots(1, 2, figsize=(11, 4.2))
        for i, regime in enumerate(regimes):
            for corrected, line in ((True, "-"), (False, "--")):
                label = f"{regime}, {'corrected' if corrected else 'uncorrected'}"
                rate = [study.exact_rate(level, corrected, regime) for level in levels]
                err = [max(study.worst_error(level, corrected, regime), 1e-4) for level in levels]
                style = {"color": f"C{i}", "linestyle": line, "marker": "o" if corrected else "s", "ms": 4}
                ax_rate.plot(x, rate, label=label, **style)
                ax_err.semilogy(x, [100 * e for e in err], label=label, **style)
        for ax in (ax_rate, ax_err):
            ax.set_xticks(x, [f"{level:g}" for level in levels])
            ax.set_xlabel("measurement-noise standard deviation (field units)")
        ax_rate.set_ylim(-0.05, 1.05)
        ax_rate.set_ylabel("fraction of runs with exactly the true terms")
        ax_err.axhline(5, color="gray", lw=0.8, ls=":")
        ax_err.set_ylabel("worst error of a true coefficient (%)")
        ax_err.legend(fontsize=7, ncol=2)
        if title is not None:
            fig.suptitle(title)
    return fig


__all__ += ["plot_coefficient_check", "plot_noise_study"]
