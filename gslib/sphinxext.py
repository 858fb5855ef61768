"""A Sphinx extension of the book: load MathJax on every page.

The navigation of every page shows the chapter titles, and some of them hold math (chapter 3's
"(k, f) plane"). On a page without a formula of its own Sphinx would not load MathJax, and those
titles would stay raw TeX. ``_config.yml`` lists this module under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

__all__ = ["setup"]


def setup(app) -> dict:
    """Register the extension with Sphinx: MathJax (and every other asset) on every page.

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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
