"""Explorers of the (k, f) plane: a live one (ipywidgets, needs a kernel) and a static one (HTML + JS).

* :func:`live_explorer` builds sliders for f, k, the seed and the run time; every change reruns
  :func:`gslib.simulate` from the CNN paper's seed and redraws u. It needs a running Jupyter kernel.
* :func:`precompute_grid` runs every point of a (f, k) grid in one batched :func:`gslib.simulate`
  call and returns the final u fields.
* :func:`static_explorer` turns such a grid into a self-contained piece of HTML and JavaScript
  (images as PNG data URIs, no external resource, no kernel) for the rendered static book: a map of
  the grid to click on, two range sliders for k and f, and the selected pattern.
  :func:`show_static_explorer` wraps it in :class:`IPython.display.HTML`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import time

import numpy as np

__all__ = ["live_explorer", "precompute_grid", "static_explorer", "show_static_explorer", "encode_png", "ScanExplorer",
           "scan_pattern"]

def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 4:
        raise ValueError(f"size={size!r} must be an integer >= 4 (grid cells per side)")
    return int(size)


def _steps(t_end, dt) -> int:
    """Number of steps of length ``dt`` that reach ``t_end`` (model time units), at least 1."""
    if isinstance(t_end, bool) or not isinstance(t_end, (int, float, np.integer, np.floating)):
        raise ValueError(f"t_end={t_end!r} must be a positive number (model time units)")
    if not math.isfinite(t_end) or t_end <= 0:
        raise ValueError(f"t_end={t_end!r} must be a positive finite number (model time units)")
    if not (isinstance(dt, (int, float, np.integer, np.floating)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt={dt!r} must be a positive finite number")
    return max(1, int(round(float(t_end) / float(dt))))


def _check_axis(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if arr.size > 1 and not np.all(np.diff(arr) > 0):
        raise ValueError(f"{name} must be strictly increasing")
    return arr


# ------------------------------------------------------------------------------------ live explorer


def _build_live_explorer(f=0.037, k=0.06, size=128, t_end=5000.0, seed=0, *, dt=0.25, stencil="9pt",
                         backend="auto"):
    """Build the live explorer; returns ``(box, controls, render, state)``.

    ``controls`` maps "f", "k", "seed", "t" to the sliders; ``render()`` reruns the simulation for
    the current slider values and redraws; ``state`` holds the last result ("u", "elapsed", "runs").
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import clear_output, display

    from . import plotting
    from .initial import cnn_seed
    from .solvers import simulate

    size = _check_size(size)
    _steps(t_end, dt)
    t_end = float(t_end)
    t_step = min(100.0, t_end)
    style = {"description_width": "3.5em"}
    layout = widgets.Layout(width="24em")
    controls = {
        "f": widgets.FloatSlider(value=f, min=0.0, max=0.1, step=0.0005, readout_format=".4f",
                                 description="f", continuous_update=False, style=style, layout=layout),
        "k": widgets.FloatSlider(value=k, min=0.03, max=0.07, step=0.0005, readout_format=".4f",
                                 description="k", continuous_update=False, style=style, layout=layout),
        "seed": widgets.IntSlider(value=seed, min=0, max=max(50, seed), step=1, description="seed",
                                  continuous_update=False, style=style, layout=layout),
        "t": widgets.FloatSlider(value=t_end, min=t_step, max=max(20000.0, t_end), step=t_step,
                                 readout_format=".0f", description="time", continuous_update=False,
                                 style=style, layout=layout),
    }
    out = widgets.Output()
    status = widgets.HTML()
    state = {"u": None, "elapsed": None, "runs": 0}

    def render(*_):
        fv, kv = float(controls["f"].value), float(controls["k"].value)
        sv, tv = int(controls["seed"].value), float(controls["t"].value)
        u0, v0 = cnn_seed(sv, n=size)
        start = time.perf_counter()
        u, _v = simulate(u0, v0, fv, kv, dt=dt, steps=_steps(tv, dt), stencil=stencil, backend=backend)
        state.update(u=u, elapsed=time.perf_counter() - start, runs=state["runs"] + 1)
        fig, ax = plt.subplots(figsize=(4.6, 4.0))
        plotting.plot_field(ax, u, title=f"u at t = {tv:g}  (f = {fv:.4f}, k = {kv:.4f})", label="u")
        fig.tight_layout()
        with out:
            clear_output(wait=True)
            display(fig)
        plt.close(fig)
        status.value = (f"<small>{size}&times;{size} cells, {_steps(tv, dt)} steps of dt = {dt:g}: "
                        f"{state['elapsed']:.2f} s</small>")

    for w in controls.values():
        w.observe(render, names="value")
    render()
    box = widgets.VBox([widgets.HBox([widgets.VBox([controls["f"], controls["k"]]),
                                      widgets.VBox([controls["seed"], controls["t"]])]), status, out])
    return box, controls, render, state


def live_explorer(f=0.037, k=0.06, size=128, t_end=5000.0, seed=0, **kwargs):
    """Sliders for f, k, the seed and the run time that rerun :func:`gslib.simulate` and redraw u.

    Sliders update on release; each change reruns the whole simulation.

    Parameters
    ----------
    f, k : float, optional
        Initial feed and kill rates (1/time).
    size : int, optional
        Grid cells per side (dx = 1, Du = 0.2, Dv = 0.1, periodic).
    t_end : float, optional
        Initial run time (model time units; dt = 0.25 unless ``dt=`` is given).
    seed : int, optional
        Seed of the CNN paper's initial condition (:func:`gslib.initial.cnn_seed`).
    **kwargs
        ``dt``, ``stencil``, ``backend`` (default "auto").

    Returns
    -------
    ipywidgets.VBox
        Display it in Jupyter (it needs a running kernel; in a static page it shows nothing).
    """
    return _build_live_explorer(f, k, size, t_end, seed, **kwargs)[0]


# ------------------------------------------------------------------------------------ precomputation


def precompute_grid(f_values, k_values, *, size, t_end, seed=0, dt=0.25, stencil="9pt", backend="auto",
                    dtype=np.float32, progress=False) -> np.ndarray:
    """u at ``t_end`` for every (f, k) of a grid, in ONE batched :func:`gslib.simulate` call.

    Parameters
    ----------
    f_values, k_values : array_like
        Feed rates ``(nf,)`` and kill rates ``(nk,)`` (1/time).
    size : int
        Grid cells per side; every member starts from the same CNN seed
        (:func:`gslib.initial.cnn_seed` with ``seed`` and its default square size).
    t_end : float
        Run time (model units), ``round(t_end / dt)`` steps.
    seed : int, optional
        Seed of the initial condition.
    dt, stencil, backend, dtype, progress : optional
        As in :func:`gslib.simulate`.

    Returns
    -------
    numpy.ndarray
        ``(nf, nk, size, size)`` in ``dtype``; entry ``[i, j]`` belongs to
        ``(f_values[i], k_values[j])``.
    """
    from .initial import cnn_seed
    from .solvers import simulate

    f_values = np.asarray(f_values, dtype=np.float64)
    k_values = np.asarray(k_values, dtype=np.float64)
    for name, arr in (("f_values", f_values), ("k_values", k_values)):
        if arr.ndim != 1 or arr.size < 1:
            raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}")
    size = _check_size(size)
    steps = _steps(t_end, dt)
    nf, nk = len(f_values), len(k_values)
    F, K = np.meshgrid(f_values, k_values, indexing="ij")
    u0, v0 = cnn_seed(seed, n=size)
    batch = (nf * nk, size, size)
    u0 = np.ascontiguousarray(np.broadcast_to(u0, batch))
    v0 = np.ascontiguousarray(np.broadcast_to(v0, batch))
    u, _v = simulate(u0, v0, F.ravel(), K.ravel(), dt=dt, steps=steps, stencil=stencil, backend=backend,
                     dtype=dtype, progress=progress)
    return u.reshape(nf, nk, size, size)


# ------------------------------------------------------------------------------------ static explorer


def encode_png(field, *, vmin=None, vmax=None, cmap="viridis", origin="lower") -> str:
    """A 2-D field as a PNG data URI (``data:image/png;base64,...``), coloured with ``cmap``.

    ``origin="lower"`` (default) puts row 0 of the array at the bottom of the image, as
    :func:`gslib.plotting.plot_field` does; ``"upper"`` at the top. NaN shows as transparent.

    Parameters
    ----------
    field : array_like
        The field, ``(N, M)``.
    vmin, vmax : float, optional
        Colour range (default: min and max of the finite values).
    cmap : str, optional
        Colour map.
    origin : {'lower', 'upper'}, optional
        Where row 0 goes.

    Returns
    -------
    str
        The data URI.
    """
    import matplotlib.image as mpimg

    field = np.asarray(field, dtype=np.float64)
    if field.ndim != 2:
        raise ValueError(f"field must be 2-D; got shape {field.shape}")
    buf = io.BytesIO()
    mpimg.imsave(buf, field, vmin=vmin, vmax=vmax, cmap=cmap, origin=origin, format="png",
                 metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _shrink(field: np.ndarray, n: int) -> np.ndarray:
    """Down-sample a 2-D field to (n, n) by averaging over (nearly) equal blocks."""
    rows = np.array_split(np.arange(field.shape[0]), n)
    cols = np.array_split(np.arange(field.shape[1]), n)
    r0 = [r[0] for r in rows]
    c0 = [c[0] for c in cols]
    sums = np.add.reduceat(np.add.reduceat(field, r0, axis=0), c0, axis=1)
    return sums / np.outer([len(r) for r in rows], [len(c) for c in cols])


def _mosaic(fields: np.ndarray, tile: int) -> np.ndarray:
    """Map image (row 0 at the top): thumbnails of the (nf, nk) grid, k to the right, f upwards.

    Each thumbnail is flipped so that, like every field of the book, its row 0 is at its bottom.
    """
    nf, nk = fields.shape[:2]
    mosaic = np.empty((nf * tile, nk * tile))
    for i in range(nf):
        row = nf - 1 - i  # largest f at the top
        for j in range(nk):
            mosaic[row * tile:(row + 1) * tile, j * tile:(j + 1) * tile] = _shrink(fields[i, j], tile)[::-1]
    return mosaic


_ids = itertools.count()

_CSS = """
#{id} {{ font-family: sans-serif; font-size: 0.9em; margin: 0.5em 0; }}
#{id} .gs-explorer-title {{ font-weight: bold; margin-bottom: 0.3em; }}
#{id} .gs-explorer-row {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
#{id} .gs-explorer-mapbox {{ position: relative; width: {map_w}px; max-width: 100%; cursor: crosshair; }}
#{id} .gs-explorer-map, #{id} .gs-explorer-img {{ display: block; width: 100%;
    image-rendering: pixelated; image-rendering: crisp-edges; }}
#{id} .gs-explorer-marker {{ position: absolute; box-sizing: border-box; border: 2px solid #ff3030;
    pointer-events: none; }}
#{id} .gs-explorer-view {{ width: {img_w}px; max-width: 100%; }}
#{id} .gs-explorer-label {{ margin-top: 0.3em; font-family: monospace; }}
#{id} .gs-explorer-controls label {{ display: block; margin-top: 0.4em; }}
#{id} .gs-explorer-controls input[type=range] {{ width: {map_w}px; max-width: 100%; }}
#{id} .gs-explorer-axes {{ color: #555; font-size: 0.85em; }}
"""

# Scoped to the explorer's own element: found from the script itself (document.currentScript), or by id.
_JS = """
(function () {
  var root = (document.currentScript && document.currentScript.closest(".gs-explorer")) ||
             document.getElementById(%(id)s);
  if (!root) { return; }
  var data = JSON.parse(root.querySelector(".gs-explorer-data").textContent);
  var nf = data.f.length, nk = data.k.length;
  var kSlider = root.querySelector("input.gs-explorer-k");
  var fSlider = root.querySelector("input.gs-explorer-f");
  var img = root.querySelector("img.gs-explorer-img");
  var map = root.querySelector("img.gs-explorer-map");
  var marker = root.querySelector(".gs-explorer-marker");
  var label = root.querySelector(".gs-explorer-label");
  function clamp(x, n) { return Math.max(0, Math.min(n - 1, x)); }
  function show() {
    var j = clamp(parseInt(kSlider.value, 10) || 0, nk);
    var i = clamp(parseInt(fSlider.value, 10) || 0, nf);
    img.src = data.images[i * nk + j];
    img.alt = "u at f = " + data.f[i] + ", k = " + data.k[j];
    label.textContent = "f = " + data.f[i] + ",  k = " + data.k[j];
    marker.style.left = (100 * j / nk) + "%%";
    marker.style.top = (100 * (nf - 1 - i) / nf) + "%%";
  }
  kSlider.addEventListener("input", show);
  fSlider.addEventListener("input", show);
  kSlider.addEventListener("change", show);
  fSlider.addEventListener("change", show);
  map.addEventListener("click", function (ev) {
    var r = map.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) { return; }
    var j = clamp(Math.floor(nk * (ev.clientX - r.left) / r.width), nk);
    var i = clamp(nf - 1 - Math.floor(nf * (ev.clientY - r.top) / r.height), nf);
    kSlider.value = j;
    fSlider.value = i;
    show();
  });
  show();
})();
"""


def static_explorer(f_values, k_values, fields, *, title="Patterns of the Gray-Scott model",
                    vmin=None, vmax=None, cmap="viridis", tile=None, map_width=360, image_width=300,
                    initial=None, element_id=None) -> str:
    """Self-contained HTML + JS explorer of precomputed patterns; works in a static page, no kernel.

    Parameters
    ----------
    f_values, k_values : array_like
        Strictly increasing rates of the grid, ``(nf,)`` and ``(nk,)`` (1/time).
    fields : array_like
        ``(nf, nk, N, M)``: the pattern at ``(f_values[i], k_values[j])`` is ``fields[i, j]``
        (e.g. from :func:`precompute_grid`).
    title : str, optional
        Heading of the explorer.
    vmin, vmax : float, optional
        Colour range shared by all images (default: min and max over all finite values).
    cmap : str, optional
        Colour map.
    tile : int, optional
        Pixels per grid point in the map (default: about 360 / max(nf, nk), 4 to 32).
    map_width, image_width : int, optional
        Widths (pixels) of the map and of the selected pattern.
    initial : tuple of int, optional
        ``(i, j)`` grid indices shown first (default: the middle of the grid).
    element_id : str, optional
        The id of the outer div (default: "gs-explorer-<hash>-<counter>", unique per call).

    Returns
    -------
    str
        The HTML.

    The map (``img.gs-explorer-map``) shows every pattern as a thumbnail, k to the right and f
    upwards; clicking it selects the nearest grid point. The sliders ``input.gs-explorer-k`` and
    ``input.gs-explorer-f`` step through the grid indices; the selected u is shown in
    ``img.gs-explorer-img`` as a PNG data URI, with f and k in ``.gs-explorer-label``. All images
    are embedded: about (nf nk) x 5-15 kB for 64-96-cell fields.
    """
    f_values = _check_axis("f_values", f_values)
    k_values = _check_axis("k_values", k_values)
    fields = np.asarray(fields, dtype=np.float64)
    nf, nk = len(f_values), len(k_values)
    if fields.ndim != 4 or fields.shape[:2] != (nf, nk):
        raise ValueError(f"fields must have shape (nf, nk, N, M) = ({nf}, {nk}, N, M); got {fields.shape}")
    finite = fields[np.isfinite(fields)]
    lo = float(finite.min()) if vmin is None and finite.size else (0.0 if vmin is None else float(vmin))
    hi = float(finite.max()) if vmax is None and finite.size else (1.0 if vmax is None else float(vmax))
    if not hi > lo:
        hi = lo + 1.0
    if tile is None:
        tile = int(min(32, max(4, 360 // max(nf, nk))))
    tile = int(min(tile, fields.shape[2], fields.shape[3]))
    if initial is None:
        initial = (nf // 2, nk // 2)
    i0, j0 = (int(x) for x in initial)
    if not (0 <= i0 < nf and 0 <= j0 < nk):
        raise ValueError(f"initial={initial!r} must be grid indices (i, j) with 0 <= i < {nf}, 0 <= j < {nk}")

    images = [encode_png(fields[i, j], vmin=lo, vmax=hi, cmap=cmap) for i in range(nf) for j in range(nk)]
    map_uri = encode_png(_mosaic(fields, tile), vmin=lo, vmax=hi, cmap=cmap, origin="upper")
    f_labels = [f"{x:.5g}" for x in f_values]
    k_labels = [f"{x:.5g}" for x in k_values]
    payload = json.dumps({"f": f_labels, "k": k_labels, "images": images}, separators=(",", ":"))
    if element_id is None:
        digest = hashlib.sha1(payload.encode("ascii")).hexdigest()[:10]
        element_id = f"gs-explorer-{digest}-{next(_ids)}"
    # the payload holds only digits, letters and base64: no "</" can close the script element early
    payload = payload.replace("</", "<\\/")
    eid = html.escape(element_id, quote=True)
    img_alt = f"u at f = {f_labels[i0]}, k = {k_labels[j0]}"
    parts = [
        f'<div class="gs-explorer" id="{eid}">',
        f"<style>{_CSS.format(id=eid, map_w=int(map_width), img_w=int(image_width))}</style>",
        f'<div class="gs-explorer-title">{html.escape(title)}</div>',
        '<div class="gs-explorer-row">',
        '<div class="gs-explorer-left">',
        '<div class="gs-explorer-mapbox">',
        f'<img class="gs-explorer-map" src="{map_uri}" alt="map of the patterns over the (k, f) grid" '
        'title="click to select (k, f)">',
        f'<div class="gs-explorer-marker" style="left:{100 * j0 / nk:.4f}%;top:{100 * (nf - 1 - i0) / nf:.4f}%;'
        f'width:{100 / nk:.4f}%;height:{100 / nf:.4f}%"></div>',
        "</div>",
        f'<div class="gs-explorer-axes">k &rarr; {k_labels[0]} &hellip; {k_labels[-1]} (right), '
        f"f &uarr; {f_labels[0]} &hellip; {f_labels[-1]} (up); click to select</div>",
        '<div class="gs-explorer-controls">',
        f'<label>k (kill rate) <input type="range" class="gs-explorer-k" min="0" max="{nk - 1}" step="1" '
        f'value="{j0}" aria-label="k"></label>',
        f'<label>f (feed rate) <input type="range" class="gs-explorer-f" min="0" max="{nf - 1}" step="1" '
        f'value="{i0}" aria-label="f"></label>',
        "</div>",
        "</div>",
        '<div class="gs-explorer-view">',
        f'<img class="gs-explorer-img" src="{images[i0 * nk + j0]}" alt="{img_alt}">',
        f'<div class="gs-explorer-label">f = {f_labels[i0]},  k = {k_labels[j0]}</div>',
        f'<div class="gs-explorer-axes">u, colour range {lo:.3g} &hellip; {hi:.3g} ({html.escape(cmap)})</div>',
        "</div>",
        "</div>",
        f'<script type="application/json" class="gs-explorer-data">{payload}</script>',
        f"<script>{_JS % {'id': json.dumps(element_id)}}</script>",
        "</div>",
    ]
    return "\n".join(parts)


def show_static_explorer(f_values, k_values, fields, **kwargs):
    """:func:`static_explorer` wrapped in :class:`IPython.display.HTML` (display it in a notebook).

    Parameters
    ----------
    f_values, k_values, fields, **kwargs
        As in :func:`static_explorer`.

    Returns
    -------
    IPython.display.HTML
        The explorer.
    """
    from IPython.display import HTML

    return HTML(static_explorer(f_values, k_values, fields, **kwargs))


# ------------------------------------------------------------------------------------ scan explorer


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
    from .dataset import Recipe
    from .scan import _simulate

    recipe = (table.meta or {}).get("recipe")
    if recipe is None or table.seed is None:
        raise ValueError("this scan table records no recipe or seeds, so its patterns cannot be simulated again")
    index = int(index)
    if not 0 <= index < len(table):
        raise ValueError(f"index={index} must lie in [0, {len(table) - 1}] (a point of the scan)")
    one = slice(index, index + 1)
    x, failed = _simulate(table.f[one], table.k[one], np.asarray(table.seed[one]), Recipe(**recipe), "auto")
    if failed[0]:
        raise ValueError(f"point {index} blew up in the scan's recipe; it has no pattern to show")
    return x[0]


class ScanExplorer:
    """A scan's class map beside the pattern at a chosen point: zoom and click in Jupyter.

    With the interactive Matplotlib backend (``%matplotlib widget``, package ipympl) the toolbar zooms
    and pans the map and a click on the map shows the pattern of the nearest scan point (simulated again
    from its seed, about a second at paper scale on a laptop; see :func:`scan_pattern`). With any backend,
    :meth:`select` and :meth:`zoom` do the same from code, which is how the static book uses it.

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan (e.g. from :func:`gslib.cnn.load_scan`).
    pattern : callable, optional
        ``pattern(table, index) -> (S, S, 3)`` samples (default :func:`scan_pattern`).
    curves : bool, optional
        Overlay the saddle-node and Hopf curves on the map.
    """

    def __init__(self, table, *, pattern=None, curves: bool = True):
        import matplotlib.pyplot as plt

        from .plotting import STYLE, plot_class_map

        self.table = table
        self.pattern = pattern or scan_pattern
        self.index = None
        with plt.rc_context(STYLE):
            self.fig, (self.ax_map, self.ax_pattern) = plt.subplots(1, 2, figsize=(11.5, 4.8),
                                                                    gridspec_kw={"width_ratios": [1.5, 1]})
            plot_class_map(self.ax_map, table.k, table.f, table.label, curves=curves)
            self.ax_map.set_title("predicted class (click a point)")
            (self.marker,) = self.ax_map.plot([], [], marker="x", color="black", markersize=10, markeredgewidth=2,
                                              linestyle="none")
            self.ax_pattern.set_axis_off()
        self._image = None
        self._cid = self.fig.canvas.mpl_connect("button_press_event", self._on_click)

    def _on_click(self, event) -> None:
        toolbar = getattr(event.canvas, "toolbar", None)
        if event.inaxes is not self.ax_map or event.xdata is None or (toolbar is not None and toolbar.mode):
            return  # outside the map, or the toolbar is zooming or panning
        self.select(event.xdata, event.ydata)
        self.fig.canvas.draw_idle()

    def nearest(self, k: float, f: float) -> int:
        """Index of the scan point nearest to (k, f), measured in lattice steps."""
        from .lattice import nearest_point

        for name, value in (("k", k), ("f", f)):
            if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
                raise ValueError(f"{name}={value!r} must be a finite number")
        return nearest_point(f=self.table.f, k=self.table.k, f0=f, k0=k)[0]

    def select(self, k: float, f: float) -> int:
        """Show the pattern of the scan point nearest to (k, f); returns its index."""
        from .plotting import plot_field

        i = self.nearest(k, f)
        self.index = i
        t = self.table
        x = self.pattern(t, i)
        self.marker.set_data([t.k[i]], [t.f[i]])
        if self._image is not None and self._image.colorbar is not None:
            self._image.colorbar.remove()
        self.ax_pattern.clear()
        top = np.argsort(-np.nan_to_num(t.probabilities[i], nan=-1.0))[:2]
        probs = ", ".join(f"{t.class_names[j]} {t.probabilities[i, j]:.2f}" for j in top)
        self._image = plot_field(self.ax_pattern, x[..., -1], label="u",
                                 title=f"k = {t.k[i]:.6g}, f = {t.f[i]:.6g}: {t.label[i]}\n({probs})")
        return i

    def zoom(self, k_range, f_range) -> None:
        """Limit the map to k in ``k_range`` and f in ``f_range`` (as the toolbar's zoom does)."""
        from .plotting import _check_range

        self.ax_map.set_xlim(*_check_range("k_range", k_range))
        self.ax_map.set_ylim(*_check_range("f_range", f_range))


# ------------------------------------------------------------------------------------ live simulator
# A kernel-free simulator in the page: gslib/static/gslive.js (the same scheme as gslib, WebGL2 or a
# typed-array CPU engine) inlined with its configuration, so it works in the static book, in Jupyter
# and offline. The API of element.gsSim is documented on the book's conventions page.

__all__ += ["live_js_source", "cnn_seed_draws", "live_simulator_html", "live_simulator", "live_class_map_html",
            "live_class_map", "interactive_frontend"]

SEEDS = ("cnn", "sfi")
LIVE_BACKENDS = ("auto", "webgl2", "cpu")
_live_ids = itertools.count()


def live_js_source() -> str:
    """The source of the JavaScript module of the live simulator (``gslib/static/gslive.js``).

    Returns
    -------
    str
        The module; it defines ``window.GSLive`` once per page, however often it is included.
    """
    from importlib import resources

    source = resources.files("gslib").joinpath("static/gslive.js").read_text(encoding="utf-8")
    if "</" in source:  # it is inlined in a <script> element
        raise RuntimeError("gslive.js must not contain '</' (it would end its <script> element)")
    return source


def cnn_seed_draws(seed, n: int = 128, square: int | None = None, shift: str = "both") -> dict:
    """The random draws of :func:`gslib.initial.cnn_seed` for one seed, without building the fields.

    The live simulator builds the seed from them (blocks, rotation and roll as in gslib); its fields
    equal ``cnn_seed(seed, n, square, shift)`` to rounding.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    n, square, shift
        As in :func:`gslib.initial.cnn_seed`.

    Returns
    -------
    dict
        ``square`` (block side), ``r2``, ``c2`` (row and column of the second block), ``angle``
        (degrees) and ``roll`` (rows, columns).

    Raises
    ------
    ValueError
        As :func:`gslib.initial.cnn_seed` for bad arguments.
    """
    from . import initial

    seeds, batch = initial._seed_list(seed)
    if batch:
        raise ValueError(f"seed={seed!r} must be one non-negative integer")
    square = initial._check_int("square", initial.paper_square(n) if square is None and initial._is_int(n) else square, 1)
    n = initial._check_int("n", n, max(2 * square, 2))
    if shift not in initial.CNN_SHIFTS:
        raise ValueError(f"shift must be one of {initial.CNN_SHIFTS}; got {shift!r}")
    rng = np.random.default_rng(seeds[0])
    sx, sy = initial._draw_centre(rng)
    angle = int(rng.integers(0, initial._MAX_ANGLE + 1))
    d_row, d_col = int(rng.integers(0, n)), int(rng.integers(0, n))
    return dict(square=square, r2=round(n * sx), c2=round(n * sy), angle=angle,
                roll=[d_row, d_col if shift == "both" else 0])


def _b64_f32(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _check_rate(name, value, hi=None):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0 or (hi is not None and value > hi):
        allowed = f"[0, {hi}]" if hi is not None else ">= 0"
        raise ValueError(f"{name}={value!r} must be a finite number in {allowed}")
    return float(value)


_LIVE_CSS = """
#{id} {{ font-family: sans-serif; font-size: 0.9em; margin: 0.5em 0; }}
#{id} .gs-live-title {{ font-weight: bold; margin-bottom: 0.3em; }}
#{id} .gs-live-row {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
#{id} .gs-live-field {{ width: {px}px; max-width: 100%; cursor: crosshair; touch-action: none; }}
#{id} canvas.gs-live-canvas {{ display: block; width: 100%; aspect-ratio: 1 / 1;
    image-rendering: pixelated; image-rendering: crisp-edges; }}
#{id} .gs-live-controls label {{ display: block; margin-top: 0.3em; }}
#{id} .gs-live-controls input[type=range] {{ width: 14em; vertical-align: middle; }}
#{id} .gs-live-controls button {{ margin: 0.4em 0.3em 0 0; }}
#{id} .gs-live-status {{ margin-top: 0.4em; font-family: monospace; white-space: pre; }}
#{id} .gs-live-note {{ color: #555; font-size: 0.85em; max-width: 24em; }}
"""


def _range(cls, label, value, lo, hi, step):
    return (f'<label>{label} <input type="range" class="gs-live-{cls}" min="{lo}" max="{hi}" step="{step}" '
            f'value="{value}" aria-label="{cls}"> <span class="gs-live-{cls}-value">{value}</span></label>')


def live_simulator_html(size: int = 128, *, f: float = 0.037, k: float = 0.06, Du: float = 0.2, Dv: float = 0.1,
                        dt: float = 0.25, stencil: str = "9pt", seed: str = "cnn", seed_index: int = 0,
                        draws: dict | None = None, steps_per_frame: int = 20, backend: str = "auto",
                        autoplay: bool = False, title: str | None = None, pixels: int = 384,
                        element_id: str | None = None) -> str:
    """The live simulator as a self-contained piece of HTML (no kernel, no network).

    The element ``<div data-gs-live>`` holds a ``<canvas>``, sliders for f, k, Du, Dv and the
    speed, the stencil, the seed (the CNN paper's or the SFI example's), play/pause, reset, a new
    random CNN seed, and the time and measured steps per second. A click or drag on the field
    seeds v there. Scripts reach it through ``element.gsSim`` (see the conventions page).

    Parameters
    ----------
    size : int, optional
        Cells per side, 8 to 1024 (dx = 1, periodic).
    f, k : float, optional
        Feed and kill rates (1/time), in [0, 0.2].
    Du, Dv : float, optional
        Diffusivities (cells**2/time), in [0, 1].
    dt : float, optional
        Time step, at most the forward-Euler bound of the stencil (as :func:`gslib.simulate`).
    stencil : {'9pt', '5pt'}, optional
        The Laplacian.
    seed : {'cnn', 'sfi'}, optional
        Initial condition: :func:`gslib.initial.cnn_seed` or :func:`gslib.initial.sfi_seed`.
    seed_index : int, optional
        The seed of both (non-negative).
    draws : dict, optional
        The CNN seed's draws (from :func:`cnn_seed_draws`); default: those of ``seed_index``.
    steps_per_frame : int, optional
        Steps per drawn frame while playing, 1 to 1000 (the speed slider).
    backend : {'auto', 'webgl2', 'cpu'}, optional
        Engine: WebGL2 where the browser has float render targets, else the CPU (``auto``).
    autoplay : bool, optional
        Start playing when the page loads.
    title : str, optional
        Heading.
    pixels : int, optional
        Width of the field on screen (CSS pixels).
    element_id : str, optional
        The id of the element (default: unique per call).

    Returns
    -------
    str
        The HTML.

    Raises
    ------
    ValueError
        For a bad argument, naming it and the allowed range.
    """
    from .initial import sfi_seed
    from .plotting import colormap_lut
    from .solvers.stencils import check_stencil, stability_limit

    size = _check_size(size)
    if size < 8 or size > 1024:
        raise ValueError(f"size={size} must be an integer in [8, 1024] (cells per side)")
    f, k = _check_rate("f", f, 0.2), _check_rate("k", k, 0.2)
    Du, Dv = _check_rate("Du", Du, 1.0), _check_rate("Dv", Dv, 1.0)
    check_stencil(stencil)
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)) or not math.isfinite(dt) \
            or dt <= 0:
        raise ValueError(f"dt={dt!r} must be a positive finite number")
    bound = stability_limit(max(Du, Dv), 1.0, stencil)
    if dt > bound:
        raise ValueError(f"dt={dt} is above the forward-Euler bound {bound:.4g} of the {stencil} stencil "
                         f"for max(Du, Dv) = {max(Du, Dv)}")
    if seed not in SEEDS:
        raise ValueError(f"seed={seed!r} is not a seed; allowed: {', '.join(map(repr, SEEDS))}")
    if isinstance(seed_index, bool) or not isinstance(seed_index, (int, np.integer)) or seed_index < 0:
        raise ValueError(f"seed_index={seed_index!r} must be a non-negative integer")
    if isinstance(steps_per_frame, bool) or not isinstance(steps_per_frame, (int, np.integer)) \
            or not 1 <= steps_per_frame <= 1000:
        raise ValueError(f"steps_per_frame={steps_per_frame!r} must be an integer in [1, 1000]")
    if backend not in LIVE_BACKENDS:
        raise ValueError(f"backend={backend!r} is not an engine; allowed: {', '.join(map(repr, LIVE_BACKENDS))}")
    if draws is None:
        draws = cnn_seed_draws(int(seed_index), n=size)
    su, sv = sfi_seed(int(seed_index), n=size)
    config = dict(size=size, f=f, k=k, Du=Du, Dv=Dv, dt=float(dt), stencil=stencil, seed=seed, draws=draws,
                  sfi=dict(u=_b64_f32(su), v=_b64_f32(sv)), steps_per_frame=int(steps_per_frame), backend=backend,
                  autoplay=bool(autoplay),
                  lut=base64.b64encode(colormap_lut(n=256).tobytes()).decode("ascii"))
    payload = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    if element_id is None:
        digest = hashlib.sha1(payload.encode("ascii")).hexdigest()[:10]
        element_id = f"gs-live-{digest}-{next(_live_ids)}"
    eid = html.escape(element_id, quote=True)
    heading = title if title is not None else f"Live simulator: {size} × {size} cells, u shown (viridis, 0 to 1)"
    stencil_options = "".join(f'<option value="{s}"{" selected" if s == stencil else ""}>{s}</option>'
                              for s in ("9pt", "5pt"))
    seed_options = "".join(f'<option value="{s}"{" selected" if s == seed else ""}>{label}</option>'
                           for s, label in (("cnn", "CNN seed"), ("sfi", "SFI seed")))
    parts = [
        f'<div class="gs-live" data-gs-live id="{eid}">',
        f"<style>{_LIVE_CSS.format(id=eid, px=int(pixels))}</style>",
        f'<div class="gs-live-title">{html.escape(heading)}</div>',
        '<div class="gs-live-row">',
        f'<div class="gs-live-field" title="click or drag to seed v"><canvas class="gs-live-canvas" width="{size}" '
        f'height="{size}" aria-label="u field of the live simulator"></canvas></div>',
        '<div class="gs-live-controls">',
        _range("f", "f (feed)", f"{f:.4f}", 0, 0.12, 0.0001),
        _range("k", "k (kill)", f"{k:.4f}", 0.03, 0.075, 0.0001),
        _range("Du", "D<sub>u</sub>", f"{Du:.3f}", 0.02, 0.5, 0.001),
        _range("Dv", "D<sub>v</sub>", f"{Dv:.3f}", 0.01, 0.5, 0.001),
        _range("speed", "steps/frame", str(int(steps_per_frame)), 1, 200, 1),
        f'<label>stencil <select class="gs-live-stencil">{stencil_options}</select></label>',
        f'<label>seed <select class="gs-live-seed">{seed_options}</select></label>',
        '<div><button type="button" class="gs-live-play">play</button>'
        '<button type="button" class="gs-live-reset">reset</button>'
        '<button type="button" class="gs-live-new">new CNN seed</button></div>',
        '<div class="gs-live-status">t = 0.0</div>',
        f'<div class="gs-live-note">dt = {float(dt):g}, dx = 1, periodic, float32: the scheme of '
        '<code>gslib.simulate</code>. Click or drag on the field to add v.</div>',
        "</div>",
        "</div>",
        f'<script type="application/json" class="gs-live-config">{payload}</script>',
        "<script>" + live_js_source() + "\n(function () { var s = document.currentScript; "
        f"var root = (s && s.closest('[data-gs-live]')) || document.getElementById({json.dumps(element_id)}); "
        "window.GSLive.mount(root); })();</script>",
        "</div>",
    ]
    return "\n".join(parts)


def live_simulator(size: int = 128, **kwargs):
    """:func:`live_simulator_html` as :class:`IPython.display.HTML` (display it in a notebook or a page).

    Parameters
    ----------
    size : int, optional
        Cells per side.
    **kwargs
        As in :func:`live_simulator_html`.

    Returns
    -------
    IPython.display.HTML
        The simulator.
    """
    from IPython.display import HTML

    return HTML(live_simulator_html(size, **kwargs))


def live_class_map_html(table, *, cell: int = 5, pixels: int = 320, steps_per_frame: int = 50,
                        title: str | None = None, element_id: str | None = None) -> str:
    """A scan's class map drawn in the page beside a live simulator: a click runs the clicked point.

    A click on the map selects the nearest scan point and starts the simulator at its (k, f), from
    the CNN seed the scan used there (its seed, with the scan's grid size and block side), with the
    scan's dt, diffusivities and stencil.

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan (with its recipe and seeds, e.g. from :func:`gslib.cnn.load_scan`).
    cell : int, optional
        Pixels per lattice cell of the map, 1 to 20.
    pixels : int, optional
        Width of the simulator's field on screen.
    steps_per_frame : int, optional
        As in :func:`live_simulator_html`.
    title : str, optional
        Heading.
    element_id : str, optional
        The id of the outer element (default: unique per call).

    Returns
    -------
    str
        The HTML: ``<div data-gs-live-map>`` with a ``<canvas class="gs-live-map">`` and the simulator.

    Raises
    ------
    ValueError
        If the table records no recipe or seeds, or for a bad argument.
    """
    from .plotting import class_colors
    from .lattice import grid_spacing

    recipe = (table.meta or {}).get("recipe")
    if recipe is None or table.seed is None:
        raise ValueError("this scan table records no recipe or seeds, so its patterns cannot be run again")
    if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or not 1 <= cell <= 20:
        raise ValueError(f"cell={cell!r} must be an integer in [1, 20] (pixels per lattice cell)")
    k, f = np.asarray(table.k, np.float64), np.asarray(table.f, np.float64)
    df, dk = grid_spacing(f=f, k=k)
    ik = np.rint((k - k.min()) / dk).astype(int)
    jf = np.rint((f - f.min()) / df).astype(int)
    names = list(dict.fromkeys(list(table.class_names) + sorted(set(map(str, table.label)))))
    colors = class_colors(names)
    hexes = ["#%02x%02x%02x" % tuple(int(round(255 * c)) for c in colors[name][:3]) for name in names]
    label = [names.index(str(x)) for x in table.label]
    n, square = int(recipe["size"]), int(recipe["square"])
    draws = []
    for s in np.asarray(table.seed):
        d = cnn_seed_draws(int(s), n=n, square=square, shift=recipe.get("shift", "both"))
        draws.append([d["r2"], d["c2"], d["angle"], d["roll"][0], d["roll"][1]])
    data = dict(nk=int(ik.max()) + 1, nf=int(jf.max()) + 1, cell=int(cell), k0=float(k.min()), f0=float(f.min()),
                dk=float(dk), df=float(df), ik=ik.tolist(), jf=jf.tolist(), label=label, names=names, colors=hexes,
                draws=draws, square=square, seed=[int(s) for s in table.seed], index=list(range(len(k))))
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    if element_id is None:
        digest = hashlib.sha1(payload.encode("ascii")).hexdigest()[:10]
        element_id = f"gs-live-map-{digest}-{next(_live_ids)}"
    eid = html.escape(element_id, quote=True)
    first = int(np.argmin(np.abs(k - np.median(k)) + np.abs(f - np.median(f))))
    sim = live_simulator_html(n, f=float(f[first]), k=float(k[first]), Du=float(recipe["Du"]),
                              Dv=float(recipe["Dv"]), dt=float(recipe["dt"]), stencil=recipe["stencil"],
                              draws=cnn_seed_draws(int(table.seed[first]), n=n, square=square,
                                                   shift=recipe.get("shift", "both")),
                              steps_per_frame=steps_per_frame, pixels=pixels,
                              title="the clicked point, live (from the scan's seed)")
    legend = " ".join(f'<span style="white-space:nowrap"><span style="display:inline-block;width:0.9em;'
                      f'height:0.9em;background:{c};vertical-align:middle"></span> {html.escape(nm)}</span>'
                      for nm, c in zip(names, hexes) if nm in set(map(str, table.label)))
    heading = title if title is not None else "Class map: click a point to run it live"
    parts = [
        f'<div class="gs-live-map-box" data-gs-live-map id="{eid}" style="font-family:sans-serif;font-size:0.9em">',
        f'<div style="font-weight:bold;margin-bottom:0.3em">{html.escape(heading)}</div>',
        '<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">',
        '<div style="max-width:100%">',
        f'<canvas class="gs-live-map" width="{data["nk"] * cell}" height="{data["nf"] * cell}" '
        f'style="display:block;width:{data["nk"] * cell}px;max-width:100%;cursor:crosshair;image-rendering:pixelated" '
        'aria-label="class map of the scan: k to the right, f upwards"></canvas>',
        f'<div style="color:#555;font-size:0.85em">k &rarr; {k.min():.5g} &hellip; {k.max():.5g} (right), '
        f'f &uarr; {f.min():.5g} &hellip; {f.max():.5g} (up)</div>',
        f'<div style="max-width:{data["nk"] * cell}px;font-size:0.85em">{legend}</div>',
        '<div class="gs-live-map-label" style="font-family:monospace;margin-top:0.3em">click a point of the map</div>',
        "</div>",
        f'<script type="application/json" class="gs-live-map-data">{payload}</script>',
        sim,
        "</div>",
        "</div>",
    ]
    return "\n".join(parts)


def live_class_map(table, **kwargs):
    """:func:`live_class_map_html` as :class:`IPython.display.HTML`.

    Parameters
    ----------
    table : gslib.scan.ScanTable
        The scan.
    **kwargs
        As in :func:`live_class_map_html`.

    Returns
    -------
    IPython.display.HTML
        The map and its simulator.
    """
    from IPython.display import HTML

    return HTML(live_class_map_html(table, **kwargs))


def interactive_frontend() -> bool:
    """Whether a person runs this code in a notebook front end (JupyterLab, Notebook, VS Code, Colab).

    True in an IPython kernel whose current request allows input from the user (``allow_stdin``):
    interactive front ends do, while the book's build and the tests (``nbclient``, ``nbval``) run
    notebooks without stdin. Chapter 1 shows its live explorer only then, so the built pages carry
    no widget state.

    Returns
    -------
    bool
        The answer; False outside IPython kernels.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # older ipykernel: get_parent() without a channel
        parent = kernel.get_parent()
    except Exception:
        parent = getattr(kernel, "_parent_header", None) or {}
    content = (parent or {}).get("content") or {}
    return bool(content.get("allow_stdin", getattr(kernel, "_allow_stdin", False)))
