"""Helpers shared by the tests of the book itself (tests/test_book.py, tests/test_browser.py).

* reading ``_config.yml`` / ``_toc.yml`` and checking that notebooks carry no outputs;
* running ``jupyter-book build`` (:func:`build_book`), and building the real book at
  ``GSLIB_SCALE=ci`` from a temporary copy of its sources (:func:`built_book`);
* opening pages of a built book in headless Chromium with Playwright (:class:`BookBrowser`)
  with every request to another host than 127.0.0.1/localhost blocked, recording console
  errors, uncaught exceptions, failed and blocked requests, and checking that MathJax typeset
  the formulas (:meth:`PageVisit.math_report`);
* finding references to resources on other hosts in built HTML and CSS without a browser
  (:func:`external_resources`, :func:`external_css_urls`).

Other tests use the last two through the session fixtures ``book_build`` and
``book_browser`` of the repository's ``conftest.py``::

    def test_something(book_browser):
        with book_browser.open("book/01_gray_scott_model") as visit:
            visit.page.locator("...")
            assert not visit.errors()
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = ROOT / "book"
CONFIG_FILE = ROOT / "_config.yml"
TOC_FILE = ROOT / "_toc.yml"

#: Environment variables read by these helpers.
ENV_REQUIRE_BROWSER = "GSLIB_REQUIRE_BROWSER"  # "1": a missing Chromium fails instead of skipping
ENV_BUILT_HTML = "GSBOOK_HTML_DIR"  # an already built _build/html to test instead of building
ENV_CHROMIUM = "GSBOOK_CHROMIUM"  # path of the Chromium executable (default: found on PATH)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

BUILD_TIMEOUT_S = 3600
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ----------------------------------------------------------------------------- config and toc


def load_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def load_config() -> dict:
    return load_yaml(CONFIG_FILE)


def toc_entries(toc: dict | None = None) -> list[str]:
    """The documents of a jb-book ``_toc.yml`` in reading order (root first), without suffix."""
    toc = load_yaml(TOC_FILE) if toc is None else toc
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(str(node[key]))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return found


def strip_suffix(docname: str) -> str:
    for suffix in (".ipynb", ".md"):
        if docname.endswith(suffix):
            return docname[: -len(suffix)]
    return docname


def source_of(docname: str, root: Path = ROOT) -> Path | None:
    """The source file (.md or .ipynb) of a toc entry, or None if there is none."""
    docname = strip_suffix(docname)
    for suffix in (".ipynb", ".md"):
        candidate = root / f"{docname}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def book_sources(root: Path = ROOT) -> list[Path]:
    book = root / "book"
    return sorted(p for p in [*book.glob("*.ipynb"), *book.glob("*.md")] if p.is_file())


_FENCED_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_DOLLAR_MATH = re.compile(r"\$\$|\$[^$\s][^$\n]*\$")


def markdown_text(path: Path) -> str:
    """The markdown prose of a source: an .md file, or the markdown cells of an .ipynb."""
    if path.suffix == ".ipynb":
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
        cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "markdown"]
        return "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells)
    return path.read_text(encoding="utf-8")


def has_dollar_math(path: Path) -> bool:
    """Whether the prose of a source holds ``$...$`` or ``$$`` math (code blocks and inline
    code left out), so that its page must show typeset formulas."""
    text = _INLINE_CODE.sub("", _FENCED_CODE.sub("", markdown_text(path)))
    return bool(_DOLLAR_MATH.search(text))


# ----------------------------------------------------------------------------- notebooks


def notebook_output_problems(path: Path) -> list[str]:
    """Why a stored notebook is not clean: outputs, execution counts, saved widget state."""
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    problems = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index}: has {len(cell['outputs'])} stored output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index}: has execution_count {cell['execution_count']}")
    if "widgets" in nb.get("metadata", {}):
        problems.append("notebook metadata holds saved widget state ('widgets')")
    return problems


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """Write a minimal nbformat-4 notebook; ``cells`` are (cell_type, source) pairs."""
    nb_cells = []
    for cell_type, source in cells:
        cell = {"cell_type": cell_type, "metadata": {}, "source": source}
        if cell_type == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    nb = {
        "cells": nb_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i}"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- building


def jupyter_book_executable() -> str:
    """The jupyter-book of the Python that runs the tests (the project's .venv)."""
    candidate = Path(sys.executable).parent / "jupyter-book"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("jupyter-book")
    if found is None:
        raise FileNotFoundError("jupyter-book is not installed next to " + sys.executable)
    return found


@dataclasses.dataclass
class BuildResult:
    source: Path
    output: Path
    returncode: int
    log: str
    seconds: float

    @property
    def html_dir(self) -> Path:
        return self.output / "_build" / "html"

    def html_page(self, docname: str) -> Path:
        return self.html_dir / f"{strip_suffix(docname)}.html"

    def warnings(self) -> list[str]:
        """Sphinx warnings (and errors) printed during the build, less the known stderr lines of kernels."""
        pattern = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b:")
        known = {line for line, _ in KNOWN_KERNEL_STDERR}
        return [line for line in self.log.splitlines() if pattern.search(line) and line.strip() not in known]

    def tail(self, n_chars: int = 6000) -> str:
        return self.log[-n_chars:]


def build_env(scale: str | None = "ci") -> dict[str, str]:
    """Environment for a book build started from the tests.

    ``MPLBACKEND`` is removed (conftest.py sets it to Agg): notebook kernels must use the
    inline backend, otherwise the built pages have no figures.
    """
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    if scale is not None:
        env["GSLIB_SCALE"] = scale
    return env


def start_build(source: Path, output: Path | None = None, *, env=None, extra_args=()) -> subprocess.Popen:
    """Start ``jupyter-book build`` in the background (see :func:`finish_build`)."""
    cmd = [jupyter_book_executable(), "build", str(source)]
    if output is not None:
        cmd += ["--path-output", str(output)]
    cmd += list(extra_args)
    return subprocess.Popen(
        cmd,
        cwd=str(source),
        env=build_env() if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )


def finish_build(
    proc: subprocess.Popen, source: Path, output: Path | None, started: float, timeout: float = BUILD_TIMEOUT_S
) -> BuildResult:
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        log, _ = proc.communicate()
        log += f"\n[bookutil] build killed after {timeout} s\n"
    log = _ANSI_ESCAPE.sub("", log)
    return BuildResult(
        source=Path(source),
        output=Path(output or source),
        returncode=proc.returncode,
        log=log,
        seconds=time.monotonic() - started,
    )


def build_book(
    source: Path, output: Path | None = None, *, env=None, extra_args=(), timeout: float = BUILD_TIMEOUT_S
) -> BuildResult:
    """Run ``jupyter-book build source [--path-output output]`` and return its result."""
    started = time.monotonic()
    proc = start_build(source, output, env=env, extra_args=extra_args)
    return finish_build(proc, source, output, started, timeout)


def copy_book_sources(destination: Path, root: Path = ROOT) -> Path:
    """Copy what a build reads (_config.yml, _toc.yml, book/) into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, destination / name)
    shutil.copytree(
        root / "book",
        destination / "book",
        ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"),
    )
    return destination


def built_book(workdir: Path) -> BuildResult:
    """The real book built at ``GSLIB_SCALE=ci`` in ``workdir`` (use the session fixture
    ``book_build`` of conftest.py, which builds it once per test run).

    It is built from a copy of the sources in ``workdir/src`` into ``workdir/out``, so that
    neither the execution cache (which does not know ``GSLIB_SCALE``) nor files written by
    the notebooks end up in the repository. With ``GSBOOK_HTML_DIR=<dir>/_build/html`` an
    existing build is tested instead (its log is then empty).
    """
    prebuilt = os.environ.get(ENV_BUILT_HTML)
    if prebuilt:
        html = Path(prebuilt).resolve()
        return BuildResult(source=ROOT, output=html.parent.parent, returncode=0, log="", seconds=0.0)
    source = copy_book_sources(Path(workdir) / "src")
    return build_book(source, Path(workdir) / "out")


# ----------------------------------------------------------------------------- offline resources


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_local_url(url: str) -> bool:
    """Whether loading ``url`` stays on this machine: a relative URL, a data:/blob:/about:
    URL, a fragment, or an absolute URL whose host is 127.0.0.1 or localhost."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("data", "blob", "about", "javascript", "file"):
        return True
    if not parts.scheme and not parts.netloc:
        return True  # relative URL or fragment
    return (parts.hostname or "") in LOCAL_HOSTS


#: (tag, attribute) pairs that make a browser fetch something while the page loads.
#: Plain links (<a href>) and <link rel="next|prev|index|search|canonical"> are navigation,
#: not loading, and are not listed.
_LOADING_ATTRIBUTES = {
    ("script", "src"),
    ("img", "src"),
    ("img", "srcset"),
    ("iframe", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("source", "src"),
    ("source", "srcset"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("input", "src"),
}
_LOADING_LINK_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "manifest",
    "preconnect",
    "dns-prefetch",
}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def external_css_urls(css: str) -> list[str]:
    """``url(...)`` and ``@import`` targets on other hosts in a stylesheet (comments ignored)."""
    found = []
    for match in _CSS_URL.finditer(_CSS_COMMENT.sub("", css)):
        url = match.group(2) or match.group(4)
        if url and not is_local_url(url):
            found.append(url)
    return found


class _ResourceFinder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def _add(self, description: str, url: str):
        for candidate in (
            [u.strip().split()[0] for u in url.split(",") if u.strip()] if description.endswith("srcset") else [url]
        ):
            if not is_local_url(candidate):
                self.found.append(f"<{description}> {candidate}")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for t, attribute in _LOADING_ATTRIBUTES:
            if t == tag and attrs.get(attribute):
                self._add(f"{tag} {attribute}", attrs[attribute])
        if tag == "link" and attrs.get("href"):
            rels = set((attrs.get("rel") or "").lower().split())
            if rels & _LOADING_LINK_RELS or attrs["href"].split("?")[0].endswith((".js", ".css")):
                self._add(f"link rel={attrs.get('rel', '')} href", attrs["href"])
        if attrs.get("style"):
            for url in external_css_urls(attrs["style"]):
                self.found.append(f"<{tag} style> {url}")
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            for url in external_css_urls(data):
                self.found.append(f"<style> {url}")


def external_resources(html_text: str) -> list[str]:
    """What a page would load from other hosts: scripts, stylesheets, images, frames, media,
    icons and CSS ``url()``/``@import`` of <style> elements and style attributes.

    Each item reads ``<tag attribute> URL``. Navigation links (``<a href>``, ``<link rel=next>``)
    are not resources and are not reported; neither are URLs inside inline scripts (a script
    that fetches them is caught by the browser test, which blocks and records the request).
    """
    finder = _ResourceFinder()
    finder.feed(html_text)
    finder.close()
    return finder.found


# ----------------------------------------------------------------------------- browser


def chromium_executable() -> str | None:
    explicit = os.environ.get(ENV_CHROMIUM)
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def browser_required() -> bool:
    return os.environ.get(ENV_REQUIRE_BROWSER, "").strip() not in ("", "0", "false", "no")


def browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright)"
    if chromium_executable() is None:
        if os.environ.get(ENV_CHROMIUM):
            return f"{ENV_CHROMIUM}={os.environ[ENV_CHROMIUM]} is not a file"
        return f"no Chromium executable found (apt-get install chromium, or set {ENV_CHROMIUM} to its path)"
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (signature of the base class)
        pass


@contextlib.contextmanager
def serve_directory(directory: Path):
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


#: Lines that notebook kernels print to their own stderr (so into the build log) that are not Sphinx
#: warnings. Each entry: (exact line, why it is tolerated). Keep this list short and exact.
KNOWN_KERNEL_STDERR = [
    (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "printed by TensorFlow's C++ runtime (absl) when chapters import it, before any log setting "
        "(TF_CPP_MIN_LOG_LEVEL included) applies; it is not about the book.",
    ),
]

#: Errors every page of a jupyter-book 1.x build raises, known upstream and harmless here.
#: Each entry: (exact message, why it is tolerated). Keep this list short and exact.
KNOWN_PAGE_ERRORS = [
    (
        "Identifier 'THEBE_JS_URL' has already been declared",
        "Sphinx 7.x emits sphinx-thebe's inline <script>const THEBE_JS_URL = ...</script> twice "
        "(None vs '' filename in StandaloneHTMLBuilder.add_js_file; fixed in Sphinx 8 by "
        "sphinx-doc/sphinx#13402, but jupyter-book 1.x requires sphinx~=7.0). The second copy "
        "fails to redeclare the constant; the first one works, and thebe is not used by the book.",
    ),
]


@dataclasses.dataclass
class PageVisit:
    """One opened page and what went wrong while it was open."""

    page: object  # playwright.sync_api.Page
    url: str
    console_errors: list[str] = dataclasses.field(default_factory=list)
    page_errors: list[str] = dataclasses.field(default_factory=list)
    failed_requests: list[str] = dataclasses.field(default_factory=list)
    blocked_external: list[str] = dataclasses.field(default_factory=list)

    def errors(self) -> list[str]:
        """Everything that went wrong, a request to another host included: the book must
        work without a network, so a page may not try to load anything from elsewhere."""
        known = {message for message, _ in KNOWN_PAGE_ERRORS}
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"uncaught exception: {m}" for m in self.page_errors if m not in known]
            + [f"failed request: {m}" for m in self.failed_requests]
            + [f"request to another host (blocked): {m}" for m in self.blocked_external]
        )

    def math_report(self, timeout_ms: int = 30_000) -> dict:
        """Wait until MathJax has typeset the page, then describe its formulas.

        Returns a dict: ``math`` (Sphinx math elements, ``span.math``/``div.math``),
        ``typeset`` (``mjx-container`` elements), ``mathjax`` (whether MathJax 3 started;
        False on a page without math, where Sphinx does not load it), ``untypeset`` (math
        elements without an ``mjx-container``), ``merrors`` (TeX errors shown by MathJax)
        and ``raw`` (visible text, outside code, that still holds a TeX delimiter such as
        ``\\(``, ``\\[``, ``$$`` or ``\\begin{``). Snippets are cut to 120 characters.
        """
        try:
            self.page.wait_for_function(_MATHJAX_STARTED_JS, timeout=timeout_ms)
        except Exception:  # playwright TimeoutError: MathJax never started, reported below
            pass
        return self.page.evaluate(_MATH_REPORT_JS, timeout_ms)

    def broken_images(self) -> list[str]:
        """<img> elements that did not load (naturalWidth 0), after forcing lazy ones to load."""
        return self.page.evaluate(_BROKEN_IMAGES_JS)


_BROKEN_IMAGES_JS = """
async () => {
  const imgs = Array.from(document.querySelectorAll('img'));
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(resolve => {
    img.addEventListener('load', resolve, {once: true});
    img.addEventListener('error', resolve, {once: true});
    setTimeout(resolve, 10000);
  })));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => (img.currentSrc || img.getAttribute('src') || '(no src)').slice(0, 200));
}
"""


_MATHJAX_STARTED_JS = """
() => !document.querySelector('span.math, div.math')
      || !!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)
"""

_MATH_REPORT_JS = r"""
async (timeoutMs) => {
  const started = !!(window.MathJax && MathJax.startup && MathJax.startup.promise);
  if (started) {
    await Promise.race([MathJax.startup.promise,
                        new Promise(resolve => setTimeout(resolve, timeoutMs))]);
  }
  const cut = s => s.replace(/\s+/g, ' ').trim().slice(0, 120);
  const maths = Array.from(document.querySelectorAll('span.math, div.math'));
  const skip = 'pre, code, script, style, textarea, noscript, mjx-container, .highlight, [hidden]';
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const delimiters = /\\\(|\\\[|\$\$|\$\\|\\begin\{/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip)) continue;
    if (delimiters.test(node.textContent) && el.getClientRects().length) raw.push(cut(node.textContent));
  }
  return {
    mathjax: started,
    math: maths.length,
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => cut(m.textContent)),
    merrors: Array.from(document.querySelectorAll('mjx-merror')).map(m => cut(m.textContent)),
    raw: raw,
  };
}
"""


_PLAYWRIGHT = None


def playwright():
    """The one Playwright (sync API) of this test process, started on first use, stopped at exit.

    Playwright's sync API runs an event loop in the calling thread, so two ``sync_playwright()``
    blocks alive at once (a session fixture and a module fixture) fail. Every browser test
    launches its Chromium from this instance instead.
    """
    global _PLAYWRIGHT
    if _PLAYWRIGHT is None:
        import atexit

        from playwright.sync_api import sync_playwright

        _PLAYWRIGHT = sync_playwright().start()
        atexit.register(_PLAYWRIGHT.stop)
    return _PLAYWRIGHT


class BookBrowser:
    """Headless Chromium (Playwright) pointed at a built book served on 127.0.0.1.

    Every request to another host than 127.0.0.1/localhost (a CDN of MathJax, fonts, ...)
    is aborted, as on a machine without a network, and listed in
    ``PageVisit.blocked_external``, which :meth:`PageVisit.errors` reports (the console
    errors that the blocking itself causes are not counted twice). WebSocket connections
    to other hosts are refused and listed in the same way.
    """

    def __init__(self, html_dir: Path, executable: str | None = None):
        self.html_dir = Path(html_dir)
        self.executable = executable or chromium_executable()
        self._stack = contextlib.ExitStack()
        self.base_url = ""
        self._browser = None
        self._context = None

    def __enter__(self):
        try:
            self.base_url = self._stack.enter_context(serve_directory(self.html_dir))
            # launch() starts Chromium with a fresh temporary --user-data-dir of its own.
            self._browser = playwright().chromium.launch(
                executable_path=self.executable, headless=True, args=CHROMIUM_ARGS
            )
            self._stack.callback(self._browser.close)
            self._context = self._browser.new_context(viewport={"width": 1280, "height": 900})
            self._stack.callback(self._context.close)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self._stack.close()
        return False

    def url_of(self, docname: str) -> str:
        return self.base_url + strip_suffix(docname) + ".html"

    @staticmethod
    def _is_local(url: str) -> bool:
        return is_local_url(url)

    @contextlib.contextmanager
    def open(self, docname: str, timeout_ms: int = 60_000):
        """Open the page of ``docname`` (a toc entry such as ``book/intro``); yields a PageVisit."""
        page = self._context.new_page()
        visit = PageVisit(page=page, url=self.url_of(docname))

        def route(route_):
            url = route_.request.url
            if self._is_local(url):
                route_.continue_()
            else:
                visit.blocked_external.append(url)
                route_.abort("blockedbyclient")

        def on_console(msg):
            if msg.type != "error":
                return
            location = (msg.location or {}).get("url", "")
            if location and not self._is_local(location):
                return  # a blocked CDN resource
            if "ERR_BLOCKED_BY_CLIENT" in msg.text:
                return
            visit.console_errors.append(f"{msg.text} ({location})" if location else msg.text)

        def on_request_failed(request):
            if self._is_local(request.url) and not request.url.startswith(("data:", "blob:")):
                visit.failed_requests.append(f"{request.url}: {request.failure}")

        def on_response(response):
            if self._is_local(response.url) and response.status >= 400:
                visit.failed_requests.append(f"{response.url}: HTTP {response.status}")

        def route_socket(socket):
            if self._is_local(socket.url):
                socket.connect_to_server()
            else:
                visit.blocked_external.append(socket.url)
                socket.close(code=1008, reason="offline test: other hosts are blocked")

        page.route("**/*", route)
        if hasattr(page, "route_web_socket"):  # playwright >= 1.48
            page.route_web_socket(re.compile(".*"), route_socket)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        try:
            page.goto(visit.url, wait_until="load", timeout=timeout_ms)
            yield visit
        finally:
            page.close()


# ----------------------------------------------------------------------------- live simulator

#: Software WebGL for headless Chromium on machines without a GPU (the live simulator's WebGL2 engine).
SWIFTSHADER_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def live_chromium_args() -> list[str]:
    """The book's Chromium flags less ``--disable-gpu``, plus SwiftShader: WebGL2 runs headless
    (on the GPU where Chromium can use one, else in software)."""
    return [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + SWIFTSHADER_ARGS
