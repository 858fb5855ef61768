"""Figures of chapter 5 (the inverse problem): the target and its spectrum, gradient-descent runs, loss
cross-sections, loss maps and surfaces over the (k, f) plane, and the residual fit's robustness.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np

from .._validate import check_int
from .core import STYLE, _check_field, plot_field, plot_phase_plane

__all__ = [
    "PARAMETER_LABELS",
    "plot_target_spectrum",
    "plot_descent",
    "plot_loss_sections",
    "plot_loss_map",
    "plot_loss_surface",
    "plot_relative_losses",
    "plot_residual_robustness",
]

#: Axis labels of the four parameters of chapter 5, with their units (lengths in cells, times in model units).
PARAMETER_LABELS = {
    "Du": "diffusivity Du (cells²/time)",
    "Dv": "diffusivity Dv (cells²/time)",
    "f": "feed rate f (1/time)",
    "k": "kill rate k (1/time)",
}


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
    window = check_int("window", window, 0)
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
        plot_field(axes[0], u, title="u", label="u", dx=dx)
        plot_field(
            axes[1],
            v,
            title=f"v, with the {window} x {window} tiles" if window else "v",
            label="v",
            cmap="magma",
            dx=dx,
        )
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
            (line,) = axes[0].plot(h.arrays()["loss"], "o-", ms=3, label=f"run {j + 1}")
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
        for ax in axes.ravel()[len(sections) :]:
            ax.set_visible(False)
    return fig


def plot_loss_map(ax, z, *, f_axis, k_axis, label, cmap="viridis", truth=None, curves=True, paths=()):
    """One loss (or any value) over the (f, k) plane, with the bifurcation curves; returns the mesh.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    z : array (len(f_axis), len(k_axis))
        The values; NaN is left blank.
    f_axis, k_axis : array
        The feed rates (rows) and kill rates (columns) of ``z``.
    label : str
        Colorbar label.
    cmap : str
        Colormap.
    truth : (f, k), optional
        Marked with a star.
    curves : bool
        Draw the saddle-node and Hopf curves of :func:`plot_phase_plane`.
    paths : sequence of (f, k) arrays
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
    for f, k in paths:
        ax.plot(k, f, "o-", ms=3, color="white", lw=1)
        ax.plot(np.asarray(k)[0], np.asarray(f)[0], "s", ms=5, color="orange")
    if truth is not None:
        ax.plot(truth[1], truth[0], "*", color="tab:green", ms=13, mec="black", label="truth")
    ax.set_xlabel(PARAMETER_LABELS["k"])
    ax.set_ylabel(PARAMETER_LABELS["f"])
    return mesh


def plot_loss_surface(z, *, f_axis, k_axis, truth, level):
    """A loss as a 3-D surface over (f, k), with the saddle-node curve drawn at height ``level``.

    Parameters
    ----------
    z : array (len(f_axis), len(k_axis))
        The loss.
    f_axis, k_axis : array
        Feed rates (rows) and kill rates (columns).
    truth : (f, k)
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

    from ..model import saddle_node_curve

    k_axis, f_axis, z = np.asarray(k_axis, float), np.asarray(f_axis, float), np.asarray(z, float)
    if z.shape != (len(f_axis), len(k_axis)):
        raise ValueError(f"z must have shape (len(f_axis), len(k_axis)) = {(len(f_axis), len(k_axis))}; got {z.shape}")
    with mpl.rc_context({**STYLE, "figure.constrained_layout.use": False}):
        fig = plt.figure(figsize=(9, 6.5))
        ax = fig.add_subplot(projection="3d")
        kk, ff = np.meshgrid(k_axis, f_axis)
        ax.plot_surface(kk, ff, z, cmap="viridis", linewidth=0, rcount=len(f_axis), ccount=len(k_axis))
        f, k = saddle_node_curve(2000)
        keep = (k >= k_axis[0]) & (k <= k_axis[-1]) & (f >= f_axis[0]) & (f <= f_axis[-1])
        ax.plot(k[keep], f[keep], np.full(keep.sum(), level), color="black", lw=2, label="saddle-node")
        ax.scatter([truth[1]], [truth[0]], [0], color="red", s=60, label="truth")
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


def plot_residual_robustness(tolerances, steps, errors, stderrs, sigmas, noise_errors, noise_stderrs, corrected, names):
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
    if (
        noise_errors.shape != (len(sigmas), len(names))
        or noise_stderrs.shape != noise_errors.shape
        or corrected.shape != sigmas.shape
    ):
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
            (line,) = axes[1].loglog(sigmas, noise_errors[:, i], "o-", label=name)
            axes[1].loglog(sigmas, noise_stderrs[:, i], ":", color=line.get_color())
        axes[1].loglog(sigmas, corrected, "k--", lw=1.5, label="corrected (noise=sigma), largest")
        axes[1].set_xlabel("noise added to u and v (standard deviation)")
        axes[0].set_ylabel("relative error")
        axes[1].set_ylabel("median |relative error| (dotted: standard error)")
        for ax in axes:
            ax.axhline(1e-3, color="gray", lw=0.8)
            ax.legend(fontsize=8)
    return fig
