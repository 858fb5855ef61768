"""A scan's class map beside the pattern at a chosen point (:class:`ScanExplorer`), and that pattern
simulated again from the point's seed (:func:`scan_pattern`); both are available as
``gslib.widgets.<name>``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ScanExplorer", "scan_pattern"]


def scan_pattern(table, index: int) -> np.ndarray:
    """The pattern the network saw at point ``index`` of a scan.

    It is simulated again from the point's seed with the scan's recipe (deterministic: the same
    numbers the scan classified, on the same backend).

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan.
    index : int
        The point.

    Returns
    -------
    numpy.ndarray
        Its samples ``(S, S, 3)``: u at the three snapshot times.
    """
    from ..dataset import Recipe
    from ..solvers import BlowUpError

    recipe = (table.meta or {}).get("recipe")
    if recipe is None or table.seed is None:
        raise ValueError("this scan table records no recipe or seeds, so its patterns cannot be simulated again")
    index = int(index)
    if not 0 <= index < len(table):
        raise ValueError(f"index={index} must lie in [0, {len(table) - 1}] (a point of the scan)")
    r = Recipe(**recipe)
    one = slice(index, index + 1)
    try:
        x = r.samples(f=table.f[one], k=table.k[one], seed=np.asarray(table.seed[one]))
    except BlowUpError:
        raise ValueError(f"point {index} blew up in the scan's recipe; it has no pattern to show") from None
    return np.asarray(x[0], dtype=np.dtype(r.dtype))


class ScanExplorer:
    """A scan's class map beside the pattern at a chosen point: zoom and click in Jupyter.

    With the interactive Matplotlib backend (``%matplotlib widget``, package ipympl) the toolbar zooms
    and pans the map and a click on the map shows the pattern of the nearest scan point (simulated again
    from its seed, about a second at paper scale on a laptop; see :func:`scan_pattern`). With any backend,
    :meth:`select` and :meth:`zoom` do the same from code, which is how the static book uses it. The map
    draws k along x and f along y; the methods take the rates as the keywords ``f`` and ``k``.

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan (e.g. from :func:`gslib.scan.load_shipped_scan`).
    pattern : callable, optional
        ``pattern(table, index) -> (S, S, 3)`` samples (default :func:`scan_pattern`).
    curves : bool, optional
        Overlay the saddle-node and Hopf curves on the map.
    """

    def __init__(self, table, *, pattern=None, curves: bool = True):
        import matplotlib.pyplot as plt

        from ..plotting import STYLE, plot_class_map

        self.table = table
        self.pattern = pattern or scan_pattern
        self.index = None
        with plt.rc_context(STYLE):
            self.fig, (self.ax_map, self.ax_pattern) = plt.subplots(
                1, 2, figsize=(11.5, 4.8), gridspec_kw={"width_ratios": [1.5, 1]}
            )
            plot_class_map(self.ax_map, table.label, f=table.f, k=table.k, curves=curves)
            self.ax_map.set_title("predicted class (click a point)")
            (self.marker,) = self.ax_map.plot(
                [], [], marker="x", color="black", markersize=10, markeredgewidth=2, linestyle="none"
            )
            self.ax_pattern.set_axis_off()
        self._image = None
        self._cid = self.fig.canvas.mpl_connect("button_press_event", self._on_click)

    def _on_click(self, event) -> None:
        toolbar = getattr(event.canvas, "toolbar", None)
        if event.inaxes is not self.ax_map or event.xdata is None or (toolbar is not None and toolbar.mode):
            return  # outside the map, or the toolbar is zooming or panning
        self.select(f=event.ydata, k=event.xdata)  # x axis: k, y axis: f
        self.fig.canvas.draw_idle()

    def nearest(self, *, f: float, k: float) -> int:
        """Index of the scan point nearest to (f, k), measured in lattice steps.

        Parameters
        ----------
        f, k : float
            Feed and kill rate of the point looked for (keywords).

        Returns
        -------
        int
            The index of the nearest point of the scan.

        Raises
        ------
        ValueError
            If a rate is not a finite number.
        """
        from ..lattice import nearest_point

        for name, value in (("f", f), ("k", k)):
            if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
                raise ValueError(f"{name}={value!r} must be a finite number")
        return nearest_point(f=self.table.f, k=self.table.k, f0=f, k0=k)[0]

    def select(self, *, f: float, k: float) -> int:
        """Show the pattern of the scan point nearest to (f, k); returns its index.

        Parameters
        ----------
        f, k : float
            Feed and kill rate of the point looked for (keywords).

        Returns
        -------
        int
            The index of the point shown (see :meth:`nearest`).
        """
        from ..plotting import plot_field

        i = self.nearest(f=f, k=k)
        self.index = i
        t = self.table
        x = self.pattern(t, i)
        self.marker.set_data([t.k[i]], [t.f[i]])
        if self._image is not None and self._image.colorbar is not None:
            self._image.colorbar.remove()
        self.ax_pattern.clear()
        top = np.argsort(-np.nan_to_num(t.probabilities[i], nan=-1.0))[:2]
        probs = ", ".join(f"{t.class_names[j]} {t.probabilities[i, j]:.2f}" for j in top)
        self._image = plot_field(
            self.ax_pattern, x[..., -1], label="u", title=f"k = {t.k[i]:.6g}, f = {t.f[i]:.6g}: {t.label[i]}\n({probs})"
        )
        return i

    def zoom(self, *, f_range, k_range) -> None:
        """Limit the map to f in ``f_range`` and k in ``k_range`` (as the toolbar's zoom does).

        Parameters
        ----------
        f_range, k_range : pair of float
            The window ``(low, high)`` of each rate (keywords).
        """
        from .._validate import check_range

        f_lo, f_hi = check_range("f_range", f_range)
        k_lo, k_hi = check_range("k_range", k_range)
        self.ax_map.set_xlim(k_lo, k_hi)
        self.ax_map.set_ylim(f_lo, f_hi)
