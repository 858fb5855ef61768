"""A Sphinx extension of the book: MathJax on every page, and one execution cache per scale.

* **MathJax on every page.** The navigation of every page shows the chapter titles, and some of
  them hold math (chapter 3's "(k, f) plane"). On a page without a formula of its own Sphinx
  would not load MathJax, and those titles would stay raw TeX.
* **One jupyter-cache per scale.** myst-nb caches each executed notebook under a key made from
  its code alone. The chapters read ``GSLIB_SCALE`` while they run, so a book built at ``ci``
  and then at ``book`` would show the ``ci`` results again from the cache. The cache therefore
  lives in a folder of its own for each scale: ``<cache>/<scale>``, where ``<cache>`` is
  ``execute.cache`` of ``_config.yml`` or, when that is empty, ``_build/.jupyter_cache`` next to
  the HTML.

``_config.yml`` lists this module under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["cache_path_for_scale", "setup"]


def cache_path_for_scale(cache_path, outdir, scale: str) -> str:
    """The jupyter-cache folder of one scale.

    Parameters
    ----------
    cache_path : str or path-like or None
        The configured cache (``nb_execution_cache_path``; empty or None: myst-nb's default,
        ``.jupyter_cache`` beside the builder's output folder).
    outdir : path-like
        The builder's output folder (``_build/html``).
    scale : str
        The scale the chapters run at (:func:`gslib.scale.current`).

    Returns
    -------
    str
        ``<cache>/<scale>``.
    """
    base = Path(cache_path) if cache_path else Path(outdir).parent / ".jupyter_cache"
    return str(base / scale)


def _cache_per_scale(app, config) -> None:
    from .scale import current

    if "nb_execution_cache_path" not in config:  # myst-nb is not loaded: nothing is cached
        return
    config.nb_execution_cache_path = cache_path_for_scale(config.nb_execution_cache_path, app.outdir, current())


def setup(app) -> dict:
    """Register the extension with Sphinx: every asset on every page, a cache per scale.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application building the book.

    Returns
    -------
    dict
        The extension's metadata (safe for parallel reading and writing).
    """
    app.set_html_assets_policy("always")
    app.connect("config-inited", _cache_per_scale)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
