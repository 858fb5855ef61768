"""The book's widgets in a real JupyterLab, driven in headless Chromium.

A JupyterLab server (``python -m jupyterlab``, from the ``dev`` extra) starts on 127.0.0.1 with a
token, in a temporary directory holding small notebooks written by the test; Chromium (Playwright,
every other host blocked) opens each, runs its cells as a reader does (Shift+Enter) and:

* chapter 1's live explorer (:func:`gslib.widgets.live_explorer`, shown because
  :func:`gslib.widgets.interactive_frontend` is true in JupyterLab): a new f typed into the slider's
  readout reruns the simulation, and the picture changes;
* chapter 3's scan explorer (:class:`gslib.widgets.ScanExplorer` under ``%matplotlib widget``,
  ipympl): a click on the class map draws the pattern of the clicked point, and the canvas changes.

Skipped without JupyterLab, playwright or Chromium, unless GSLIB_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookutil  # noqa: E402

START_TIMEOUT_S = 120
CELL_TIMEOUT_MS = 120_000


def _unavailable() -> str | None:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "JupyterLab is not installed (pip install 'gslib[dev]' or pip install jupyterlab)"
    return bookutil.browser_unavailable_reason()


@contextlib.contextmanager
def jupyter_lab(root: Path):
    """A JupyterLab server on 127.0.0.1 serving ``root``; yields (base URL, token)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernels pick the inline backend (or ipympl's) themselves
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")  # no user settings
    env["JUPYTER_RUNTIME_DIR"] = str(root / ".runtime")
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers: the server refuses root without it
        cmd.append("--allow-root")
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(cmd, cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + (root / "server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    reason = _unavailable()
    if reason is not None:
        if bookutil.browser_required():
            pytest.fail(f"{bookutil.ENV_REQUIRE_BROWSER}=1 but the Jupyter test cannot run: {reason}")
        pytest.skip(f"Jupyter test skipped: {reason}")
    root = tmp_path_factory.mktemp("lab")
    with jupyter_lab(root) as (base, token):
        browser = bookutil.playwright().chromium.launch(
            executable_path=bookutil.chromium_executable(), headless=True, args=bookutil.CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route(
            "**/*", lambda r: r.continue_() if bookutil.is_local_url(r.request.url) else r.abort("blockedbyclient")
        )
        try:
            yield root, base, token, context
        finally:
            context.close()
            browser.close()


def _open_and_run(lab, name: str, cells: list[str]):
    """Write a notebook of code cells, open it in JupyterLab and run every cell with Shift+Enter."""
    root, base, token, context = lab
    bookutil.write_notebook(root / name, [("code", c) for c in cells])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # a workspace of its own, so that JupyterLab does not reopen the notebooks of other tests
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}", wait_until="load")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=CELL_TIMEOUT_MS)
    # the kernel is ready when the toolbar's status says so
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }",
        timeout=CELL_TIMEOUT_MS,
    )
    prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")
    for i in range(len(cells)):
        # run cell i as a reader does; a key press that arrives while the notebook is still being
        # set up is lost, so press again while the cell has not started
        for _attempt in range(10):
            dialog = page.locator(".jp-Dialog .jp-mod-accept")
            if dialog.count():  # a question of JupyterLab's own (e.g. which kernel): take its default
                dialog.first.click()
            prompts.nth(i).click()
            page.keyboard.press("Control+Enter")
            try:
                page.wait_for_function(
                    "([el]) => el.textContent.trim() !== '[ ]:'", arg=[prompts.nth(i).element_handle()], timeout=5000
                )
                break
            except Exception:  # playwright TimeoutError: not started
                continue
        page.wait_for_function(
            "([el]) => /\\[\\d+\\]/.test(el.textContent)",
            arg=[prompts.nth(i).element_handle()],
            timeout=CELL_TIMEOUT_MS,
        )
    failed = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in failed.all_inner_texts() if "Error" in t]
    assert not tracebacks, "\n".join(tracebacks)
    return page, errors


def test_live_explorer_slider_redraws(lab):
    page, errors = _open_and_run(
        lab,
        "explorer.ipynb",
        [
            "from IPython.display import display\nfrom gslib import widgets\n"
            "assert widgets.interactive_frontend(), 'JupyterLab lets the user type input: an interactive front end'",
            # the call of chapter 1, on a small grid
            "if widgets.interactive_frontend():\n"
            "    display(widgets.live_explorer(f=0.037, k=0.06, size=32, t_end=200, backend='numpy'))",
        ],
    )
    img = page.locator(".widget-output img").first
    img.wait_for(timeout=CELL_TIMEOUT_MS)
    before = img.get_attribute("src")
    readout = page.locator(".widget-slider:has(.widget-label:text-is('f')) .widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.0200")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "before => { const i = document.querySelector('.widget-output img');"
        " return i && i.getAttribute('src') !== before; }",
        arg=before,
        timeout=CELL_TIMEOUT_MS,
    )
    assert not errors, errors
    page.close()


def test_scan_explorer_click_draws_the_pattern(lab):
    root = lab[0]
    page, errors = _open_and_run(
        lab,
        "scan.ipynb",
        [
            "%matplotlib widget\nimport json\nimport matplotlib.pyplot as plt\nimport numpy as np\n"
            "from types import SimpleNamespace\nfrom gslib import widgets\nplt.ioff()",
            # a small scan: a 6 x 8 lattice with two classes; the pattern is a function of the point
            "kk, ff = np.meshgrid(0.05 + 0.001 * np.arange(8), 0.02 + 0.002 * np.arange(6))\n"
            "label = np.where(kk.ravel() < 0.054, 'alpha', 'beta')\n"
            "prob = np.stack([label == 'alpha', label == 'beta'], 1).astype(float)\n"
            "table = SimpleNamespace(k=kk.ravel(), f=ff.ravel(), label=label, class_names=['alpha', 'beta'],\n"
            "                        probabilities=prob)\n"
            "def pattern(t, i):\n"
            "    x = np.linspace(0, 2 * np.pi, 32)\n"
            "    return np.repeat(np.sin((i + 1) * x)[:, None, None] * np.cos(x)[None, :, None], 3, axis=2)\n"
            "ex = widgets.ScanExplorer(table, pattern=pattern, curves=False)\n"
            "box = ex.ax_map.get_position()\n"
            "json.dump(dict(x=(box.x0 + box.x1) / 2, y=(box.y0 + box.y1) / 2), open('map_centre.json', 'w'))\n"
            "display(ex.fig.canvas)",
        ],
    )
    canvas = page.locator(".jupyter-matplotlib-figure canvas").first
    canvas.wait_for(timeout=CELL_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # the first frame arrives from the kernel
    snap = (
        "c => { const all = c.parentElement.querySelectorAll('canvas'); "
        "return Array.from(all).map(x => x.toDataURL()).join('|'); }"
    )
    before = canvas.evaluate(snap)
    centre = json.loads((root / "map_centre.json").read_text())
    canvas.scroll_into_view_if_needed()
    bbox = canvas.bounding_box()
    # ipympl stacks a transparent canvas for its events on top of the figure: click where the map is
    page.mouse.click(bbox["x"] + bbox["width"] * centre["x"], bbox["y"] + bbox["height"] * (1 - centre["y"]))
    page.wait_for_function(
        f"([c, before]) => ({snap})(c) !== before", arg=[canvas.element_handle(), before], timeout=CELL_TIMEOUT_MS
    )
    assert not errors, errors
    page.close()
