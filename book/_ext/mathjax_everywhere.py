"""Load MathJax on every page of the book, not only on pages whose own text has a formula.

The navigation of every page shows the chapter titles, and some of them hold math (chapter 3's
"(k, f) plane"); on a page without a formula of its own Sphinx would not load MathJax, and those
titles would stay raw TeX.
"""


def setup(app):
    app.set_html_assets_policy("always")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
