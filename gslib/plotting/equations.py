"""Figures of chapter 4 (equations from stochastic data): coefficient errors against the frame lag, Pareto
fronts of model selection, structure factors, apparent diffusivities, coefficient checks, noise studies
and a self-contained HTML movie player.

Grids of snapshots are drawn by :func:`gslib.plotting.plot_field_grid`.
"""

from __future__ import annotations

import re

import matplotlib as mpl
import numpy as np

from .._validate import check_int, check_real
from .core import STYLE, plot_field

__all__ = [
    "plot_lag_errors",
    "plot_pareto_fronts",
    "plot_structure_factors",
    "plot_apparent_diffusivity",
    "plot_ratio_by_factor",
    "animation_html",
    "plot_coefficient_check",
    "plot_noise_study",
]


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
        raise ValueError(
            f"errors must be (lags, terms) = ({len(lag_times)}, {len(labels)}) and extrapolated "
            f"({len(labels)},); got {errors.shape} and {extrapolated.shape}"
        )
    for j, label in enumerate(labels):
        (line,) = ax.plot(lag_times, 100 * errors[:, j], "o-", label=label)
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
                raise ValueError(
                    f"front {name!r}: sizes and information must have one shape and include "
                    f"reference_size={reference_size}"
                )
            keep = sizes > 0
            ax_front.semilogy(sizes[keep], info[keep], "o-", ms=3, label=name)
            at = sizes >= reference_size
            ax_gain.plot(sizes[at], info[at] - info[sizes == reference_size][0], "o-", ms=3, label=name)
            largest = max(largest, int(sizes.max()))
        for name, c in prices.items():
            ax_gain.plot(
                [reference_size, largest], [0, (largest - reference_size) * c], "--", lw=1, label=f"price of {name}"
            )
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
    true_value = check_real("true_value", true_value, positive=True)  # a diffusivity
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
        raise ValueError(
            f"titles must have {len(movies)} entries and times {n_frames}; got {len(titles)} and {len(times)}"
        )
    frames = check_int("frames", frames, 1, n_frames)
    shown = np.linspace(0, n_frames - 1, frames).round().astype(int)
    lo, hi = np.percentile(np.concatenate([m.ravel() for m in movies]), [0.5, 99.5])
    with mpl.rc_context({**STYLE, "savefig.dpi": dpi, "savefig.bbox": None}):
        fig, axes = plt.subplots(1, len(movies), figsize=(2.6 * len(movies), 2.8), squeeze=False)
        images = [
            plot_field(ax, m[0], title=title, cmap=plt.get_cmap("viridis", colors), vmin=lo, vmax=hi, colorbar=False)
            for ax, m, title in zip(axes[0], movies, titles)
        ]
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
        raise ValueError(
            f"inferred, stderr and predicted must each have one value per label ({len(labels)}); "
            f"got shapes {inferred.shape}, {stderr.shape}, {predicted.shape}"
        )
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
