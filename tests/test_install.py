"""Installing gslib: the chapters' install cell, the repository URL, and `pip install .` with no ML framework.

The slow test at the end creates a virtual environment without gslib, runs the install cell in it
(pointed at a copy of this checkout through GSBOOK_INSTALL) and checks that the core install runs the
engine with no machine-learning framework. It needs the package index (or pip's cache) for NumPy,
Numba, SciPy and Matplotlib; without it the test is skipped, unless GSLIB_REQUIRE_NETWORK=1.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from gslib import notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


# ----------------------------------------------------------------------------- the cell's source


def test_install_cell_is_short_plain_python_from_the_repository_url():
    source = notebook.install_cell_source()
    lines = source.splitlines()
    assert len(lines) <= 15
    assert sum(line.lstrip().startswith("#") for line in lines) == 1  # one comment, for the reader
    assert not any(line.lstrip().startswith(("%", "!")) for line in lines)  # no IPython magics
    ast.parse(source)
    assert f"git+{notebook.REPOSITORY_URL}" in source
    assert notebook.INSTALL_ENV_VAR == "GSBOOK_INSTALL" and "GSBOOK_INSTALL" in source
    assert "sys.executable" in source
    other = notebook.install_cell_source("https://example.org/me/gsbook")
    assert "git+https://example.org/me/gsbook" in other and notebook.REPOSITORY_URL not in other


@pytest.mark.parametrize("url", ["http://example.org/x", "https://example.org/x y", 'https://a"b', 42])
def test_install_cell_rejects_bad_urls(url):
    with pytest.raises(ValueError, match="repository_url must be an https:// URL"):
        notebook.install_cell_source(url)


def run_cell(*, missing=(), env=None, cwd=ROOT):
    """Run the install cell in a fresh interpreter with ``subprocess.run`` recorded instead of run.

    ``missing`` modules cannot be found there (``sys.modules[name] = None``). Returns the pip
    command lines the cell ran (a list), and what it printed.
    """
    code = textwrap.dedent(f"""
        import json, subprocess, sys
        for name in {list(missing)!r}:
            sys.modules[name] = None
        calls = []
        subprocess.run = lambda args, **kw: calls.append(list(args))
        exec(compile({notebook.install_cell_source()!r}, "install-cell", "exec"), {{}})
        print("CALLS=" + json.dumps(calls))
    """)
    full_env = {key: value for key, value in os.environ.items() if key != notebook.INSTALL_ENV_VAR}
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    *printed, last = result.stdout.splitlines()
    assert last.startswith("CALLS=")
    return json.loads(last[len("CALLS=") :]), "\n".join(printed) + result.stderr


def test_install_cell_does_nothing_where_gslib_is_importable():
    calls, printed = run_cell()
    assert calls == [] and printed == ""


def test_install_cell_adds_tensorflow_only_where_no_framework_is_installed():
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    calls, _ = run_cell(missing=["gslib", "tensorflow", "jax", "torch"])
    assert calls == [pip + [f"gslib[book,tensorflow] @ git+{notebook.REPOSITORY_URL}"]]
    calls, _ = run_cell(missing=["gslib", "tensorflow", "torch"], env={"PYTHONPATH": str(_fake_module("jax"))})
    assert calls == [pip + [f"gslib[book] @ git+{notebook.REPOSITORY_URL}"]]


def test_install_cell_override_replaces_the_requirement():
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    calls, _ = run_cell(missing=["gslib"], env={"GSBOOK_INSTALL": "--no-index --find-links /srv/wheels gslib[book]"})
    assert calls == [pip + ["--no-index", "--find-links", "/srv/wheels", "gslib[book]"]]


def _fake_module(name):
    """A folder with an empty module ``name``, to put on PYTHONPATH."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="gsbook-fake-"))
    (folder / f"{name}.py").write_text("")
    return folder


# ----------------------------------------------------------------------------- syncing the notebooks


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def test_sync_inserts_replaces_and_is_idempotent(tmp_path):
    output = nbformat.v4.new_output("stream", text="old output\n")
    path = _notebook(
        tmp_path / "ch.ipynb",
        [
            nbformat.v4.new_markdown_cell("# Title"),
            nbformat.v4.new_markdown_cell("## Setup"),
            nbformat.v4.new_code_cell("import numpy as np", outputs=[output], execution_count=3),
        ],
    )
    assert notebook.sync_install_cells([path]) == [path]
    nb = nbformat.read(path, as_version=4)
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "markdown", "code", "code"]
    cell = nb.cells[2]
    assert cell.source == notebook.install_cell_source()
    assert cell.metadata["tags"] == ["gsbook-install", "hide-input"]
    assert nb.cells[3].outputs == [] and nb.cells[3].execution_count is None
    assert notebook.sync_install_cells([path]) == []  # in order already: not written again

    # an outdated install cell is replaced in place and keeps its id
    cell_id = cell.id
    nb.cells[2].source = "# Installs gslib (an older version of the cell)\nprint('old')"
    nb.cells[2].metadata = {}
    nbformat.write(nb, path)
    assert notebook.sync_install_cells([path]) == [path]
    nb = nbformat.read(path, as_version=4)
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "markdown", "code", "code"]
    assert nb.cells[2].id == cell_id and nb.cells[2].source == notebook.install_cell_source()
    nbformat.validate(nb)


def test_sync_command_line(tmp_path):
    path = _notebook(tmp_path / "ch.ipynb", [nbformat.v4.new_code_cell("x = 1")])
    result = subprocess.run(
        [sys.executable, "-m", "gslib.notebook", "sync-install-cells", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"updated {path}"
    nb = nbformat.read(path, as_version=4)
    assert notebook.is_install_cell(nb.cells[0]) and nb.cells[1].source == "x = 1"
    with pytest.raises(ValueError, match=r"notebooks must be \.ipynb files"):
        notebook.sync_install_cells([tmp_path / "ch.md"])


@pytest.mark.notebooks
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_starts_with_the_install_cell(chapter):
    """Fails until ``python -m gslib.notebook sync-install-cells book/*.ipynb`` has been run."""
    nb = nbformat.read(chapter, as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert first.source == notebook.install_cell_source(), (
        f"{chapter.name}: run python -m gslib.notebook sync-install-cells book/*.ipynb"
    )
    assert {"gsbook-install", "hide-input"} <= set(first.metadata.get("tags", []))
    assert sum(notebook.is_install_cell(cell) for cell in nb.cells) == 1


# ----------------------------------------------------------------------------- repository and Binder


def test_config_names_the_repository_of_the_install_cell():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == notebook.REPOSITORY_URL
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_binder_installs_the_book_with_tensorflow_on_python_311():
    requirements = [line.split("#")[0].strip() for line in (ROOT / "binder/requirements.txt").read_text().splitlines()]
    assert [line for line in requirements if line] == [".[book,tensorflow]"]
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"


# ----------------------------------------------------------------------------- a fresh environment


def _index_reachable(python):
    """True if pip can fetch a small package (from the index, or its cache), within a few seconds."""
    import tempfile

    with tempfile.TemporaryDirectory() as dest:
        try:
            result = subprocess.run(
                [
                    python,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--quiet",
                    "--dest",
                    dest,
                    "--timeout",
                    "5",
                    "--retries",
                    "0",
                    "six",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return False
    return result.returncode == 0


def _copy_of_checkout(dest):
    """What ``pip install .`` needs of this checkout, so that the build does not write into it."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "gslib", dest / "gslib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


@pytest.mark.slow
def test_install_cell_in_a_fresh_environment_gives_the_engine_without_ml_frameworks(tmp_path):
    if not _index_reachable(sys.executable):
        if os.environ.get("GSLIB_REQUIRE_NETWORK") == "1":
            pytest.fail("the package index cannot be reached, and GSLIB_REQUIRE_NETWORK=1")
        pytest.skip(
            "the package index cannot be reached (pip download of a small package failed); "
            "set GSLIB_REQUIRE_NETWORK=1 to make this a failure"
        )
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "KERAS_BACKEND")
    }
    env["GSBOOK_INSTALL"] = str(_copy_of_checkout(tmp_path / "checkout"))
    work = tmp_path / "work"  # not the checkout: gslib must not be importable from the current folder
    work.mkdir()

    cell = subprocess.run(
        [python, "-c", notebook.install_cell_source()], capture_output=True, text=True, cwd=work, env=env, timeout=600
    )
    assert cell.returncode == 0, cell.stdout[-3000:] + cell.stderr[-3000:]

    check = subprocess.run(
        [
            python,
            "-c",
            textwrap.dedent("""
        import importlib.util, json, sys
        import numpy as np
        import gslib
        from gslib import inference, landscape, model, plotting, spde  # the core: no framework needed
        u0, v0 = gslib.initial.cnn_seed(seed=0, n=16)
        u, v = gslib.simulate(u0, v0, f=0.042, k=0.063, steps=10, backend="numpy", dtype=np.float64)
        assert u.shape == (16, 16) and np.isfinite(u).all() and np.isfinite(v).all()
        frameworks = {name: importlib.util.find_spec(name) is not None
                      for name in ("keras", "tensorflow", "torch", "jax")}
        try:
            import gslib.cnn
            message = None
        except ImportError as exc:
            message = str(exc)
        print(json.dumps({"frameworks": frameworks, "cnn": message, "file": gslib.__file__}))
    """),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=300,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    found = json.loads(check.stdout.splitlines()[-1])
    assert found["frameworks"] == {"keras": False, "tensorflow": False, "torch": False, "jax": False}
    assert found["cnn"] is not None and "pip install 'gslib[cnn]'" in found["cnn"]
    assert str(venv) in found["file"]  # the installed copy, not the checkout
