"""Figures of chapter 2 (the CNN classifier): the classes' points in the (k, f) plane, training curves,
confusion matrices and attribution maps.

Samples as the network sees them are drawn by :func:`gslib.plotting.plot_sample`.
"""

from __future__ import annotations

import numpy as np

from .core import class_colors, plot_phase_plane, plot_sample

__all__ = ["plot_class_points", "plot_training_history", "plot_confusion", "plot_attributions"]


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
            raise ValueError(
                f"test_points must be dicts with keys 'label', 'f', 'k' and a label of one of the classes; got {p!r}"
            )
        ax.plot(p["k"], p["f"], "x", color=colour[p["label"]], ms=7, mew=1.8)
    for c in classes:
        ax.plot(c.k, c.f, "o", color=colour[c.name], ms=9, mec="black")
        ax.annotate(c.symbol, (c.k, c.f), xytext=(5, 4), textcoords="offset points", fontsize=12)
    handles = [plt.Line2D([], [], ls="", marker="o", color="gray", mec="black", ms=9, label="training point")]
    if test_points:
        handles.append(plt.Line2D([], [], ls="", marker="x", color="gray", mew=1.8, ms=7, label="test point"))
    handles += [
        plt.Line2D([], [], color="black", label="saddle-node"),
        plt.Line2D([], [], color="tab:red", ls="--", label="Hopf"),
    ]
    ax.legend(handles=handles, loc="upper left")
    ax.set_xlabel("kill rate k (1/time)")
    ax.set_ylabel("feed rate f (1/time)")
    return ax


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
        raise ValueError(
            f"history's sequences must be non-empty and of one length; got lengths "
            f"{ {key: len(v) for key, v in curves.items()} }"
        )
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
    from ..classes import NAMES, by_name
    from ..notebook import class_label

    C = np.asarray(confusion, dtype=np.float64)
    names = list(class_names)
    if C.ndim != 2 or C.shape != (len(names), len(names)):
        raise ValueError(
            f"confusion must be a square array (n, n) with n = len(class_names) = {len(names)}; got shape {C.shape}"
        )
    if not (np.isfinite(C).all() and (C >= 0).all()):
        raise ValueError("confusion must hold finite counts >= 0")
    share = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i, j in zip(*np.nonzero(C)):
        ax.text(
            j, i, f"{C[i, j]:g}", ha="center", va="center", fontsize=8, color="white" if share[i, j] > 0.5 else "black"
        )
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
        Their saliency maps (:func:`gslib.cnn.attribution.saliency`, also ``gslib.cnn.saliency``).
    attributions : array_like, shape (B, S, S) or (B, S, S, 3)
        Their integrated gradients (:func:`gslib.cnn.attribution.integrated_gradients`); channels are summed.
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
        raise ValueError(
            f"saliency and attributions must match inputs (B, S, S) = {x.shape[:3]}; got {sal.shape} and {att.shape}"
        )
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
