"""Explorers of the (k, f) plane: a live one (ipywidgets, needs a kernel), a static one (HTML + JS) and
one of a scan's class map.

* :func:`live_explorer` builds sliders for f, k, the seed and the run time; every change reruns
  :func:`gslib.simulate` from the CNN paper's seed and redraws u. It needs a running Jupyter kernel.
* :func:`precompute_grid` runs every point of a (f, k) grid in one batched :func:`gslib.simulate`
  call and returns the final u fields.
* :func:`static_explorer` turns such a grid into a self-contained piece of HTML and JavaScript
  (images as PNG data URIs, no external resource, no kernel) for the rendered static book: a map of
  the grid to click on, two range sliders for k and f, and the selected pattern.
  :func:`show_static_explorer` wraps it in :class:`IPython.display.HTML`.
* :class:`ScanExplorer` shows a scan's class map beside the pattern at a chosen point, and
  :func:`scan_pattern` simulates that pattern again from the point's seed (both in
  :mod:`gslib.widgets.scan`).

The kernel-free live simulator and the live class map live in :mod:`gslib.live`; their public names
are available here as well (``gslib.widgets.live_simulator`` and so on).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import time

import numpy as np

from .._validate import check_int, check_real
from ..initial import cnn_seed_draws
from ..live import (
    LIVE_BACKENDS,
    SEEDS,
    live_class_map,
    live_class_map_html,
    live_js_source,
    live_simulator,
    live_simulator_html,
)
from .scan import ScanExplorer, scan_pattern

__all__ = [
    "live_explorer",
    "precompute_grid",
    "static_explorer",
    "show_static_explorer",
    "encode_png",
    "ScanExplorer",
    "scan_pattern",
    "interactive_frontend",
    "SEEDS",
    "LIVE_BACKENDS",
    "live_js_source",
    "cnn_seed_draws",
    "live_simulator_html",
    "live_simulator",
    "live_class_map_html",
    "live_class_map",
]


def _steps(t_end, dt) -> int:
    """Number of steps of length ``dt`` that reach ``t_end`` (model time units), at least 1."""
    t_end = check_real("t_end", t_end, positive=True)  # model time units
    dt = check_real("dt", dt, positive=True)
    return max(1, int(round(t_end / dt)))


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


def _build_live_explorer(f=0.037, k=0.06, size=128, t_end=5000.0, seed=0, *, dt=0.25, stencil="9pt", backend="auto"):
    """Build the live explorer; returns ``(box, controls, render, state)``.

    ``controls`` maps "f", "k", "seed", "t" to the sliders; ``render()`` reruns the simulation for
    the current slider values and redraws; ``state`` holds the last result ("u", "elapsed", "runs").
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import clear_output, display

    from .. import plotting
    from ..initial import cnn_seed
    from ..solvers import simulate

    size = check_int("size", size, 4)  # grid cells per side
    _steps(t_end, dt)
    t_end = float(t_end)
    t_step = min(100.0, t_end)
    style = {"description_width": "3.5em"}
    layout = widgets.Layout(width="24em")
    controls = {
        "f": widgets.FloatSlider(
            value=f,
            min=0.0,
            max=0.1,
            step=0.0005,
            readout_format=".4f",
            description="f",
            continuous_update=False,
            style=style,
            layout=layout,
        ),
        "k": widgets.FloatSlider(
            value=k,
            min=0.03,
            max=0.07,
            step=0.0005,
            readout_format=".4f",
            description="k",
            continuous_update=False,
            style=style,
            layout=layout,
        ),
        "seed": widgets.IntSlider(
            value=seed,
            min=0,
            max=max(50, seed),
            step=1,
            description="seed",
            continuous_update=False,
            style=style,
            layout=layout,
        ),
        "t": widgets.FloatSlider(
            value=t_end,
            min=t_step,
            max=max(20000.0, t_end),
            step=t_step,
            readout_format=".0f",
            description="time",
            continuous_update=False,
            style=style,
            layout=layout,
        ),
    }
    out = widgets.Output()
    status = widgets.HTML()
    state = {"u": None, "elapsed": None, "runs": 0}

    def render(*_):
        fv, kv = float(controls["f"].value), float(controls["k"].value)
        sv, tv = int(controls["seed"].value), float(controls["t"].value)
        u0, v0 = cnn_seed(sv, n=size)
        start = time.perf_counter()
        u, _v = simulate(u0, v0, f=fv, k=kv, dt=dt, steps=_steps(tv, dt), stencil=stencil, backend=backend)
        state.update(u=u, elapsed=time.perf_counter() - start, runs=state["runs"] + 1)
        fig, ax = plt.subplots(figsize=(4.6, 4.0))
        plotting.plot_field(ax, u, title=f"u at t = {tv:g}  (f = {fv:.4f}, k = {kv:.4f})", label="u")
        fig.tight_layout()
        with out:
            clear_output(wait=True)
            display(fig)
        plt.close(fig)
        status.value = (
            f"<small>{size}&times;{size} cells, {_steps(tv, dt)} steps of dt = {dt:g}: {state['elapsed']:.2f} s</small>"
        )

    for w in controls.values():
        w.observe(render, names="value")
    render()
    box = widgets.VBox(
        [
            widgets.HBox(
                [widgets.VBox([controls["f"], controls["k"]]), widgets.VBox([controls["seed"], controls["t"]])]
            ),
            status,
            out,
        ]
    )
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


def precompute_grid(
    f_values, k_values, *, size, t_end, seed=0, dt=0.25, stencil="9pt", backend="auto", dtype=np.float32, progress=False
) -> np.ndarray:
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
    from ..initial import cnn_seed
    from ..solvers import simulate

    f_values = np.asarray(f_values, dtype=np.float64)
    k_values = np.asarray(k_values, dtype=np.float64)
    for name, arr in (("f_values", f_values), ("k_values", k_values)):
        if arr.ndim != 1 or arr.size < 1:
            raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}")
    size = check_int("size", size, 4)  # grid cells per side
    steps = _steps(t_end, dt)
    nf, nk = len(f_values), len(k_values)
    F, K = np.meshgrid(f_values, k_values, indexing="ij")
    u0, v0 = cnn_seed(seed, n=size)
    batch = (nf * nk, size, size)
    u0 = np.ascontiguousarray(np.broadcast_to(u0, batch))
    v0 = np.ascontiguousarray(np.broadcast_to(v0, batch))
    u, _v = simulate(
        u0,
        v0,
        f=F.ravel(),
        k=K.ravel(),
        dt=dt,
        steps=steps,
        stencil=stencil,
        backend=backend,
        dtype=dtype,
        progress=progress,
    )
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
    mpimg.imsave(buf, field, vmin=vmin, vmax=vmax, cmap=cmap, origin=origin, format="png", metadata={"Software": None})
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
            mosaic[row * tile : (row + 1) * tile, j * tile : (j + 1) * tile] = _shrink(fields[i, j], tile)[::-1]
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


def static_explorer(
    f_values,
    k_values,
    fields,
    *,
    title="Patterns of the Gray-Scott model",
    vmin=None,
    vmax=None,
    cmap="viridis",
    tile=None,
    map_width=360,
    image_width=300,
    initial=None,
    element_id=None,
) -> str:
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
