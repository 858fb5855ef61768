"""Optional dependencies: a light `import gslib`, and clear errors where an extra is missing.

A missing module is simulated in a subprocess by ``sys.modules[name] = None`` (``import name`` then
raises ImportError), so nothing has to be uninstalled.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gslib import _optional

ROOT = Path(__file__).resolve().parents[1]


def run_python(code, *, missing=(), env=None, tmp_path=None):
    """Run ``code`` in a fresh interpreter where the modules ``missing`` cannot be imported."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in missing)
    full_env = dict(os.environ)
    full_env.pop("KERAS_BACKEND", None)  # Keras's own default, unless the test sets one
    full_env.update(env or {})
    if tmp_path is not None:  # a Keras configuration of its own, so ~/.keras/keras.json plays no part
        full_env["KERAS_HOME"] = str(tmp_path / "keras_home")
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=300,
    )


def test_import_gslib_loads_no_framework_and_no_ipython():
    result = run_python("""
        import gslib, json
        print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
    """)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    heavy = {"keras", "tensorflow", "jax", "torch", "IPython", "ipywidgets", "distributed"}
    assert not loaded & heavy, f"import gslib loaded {sorted(loaded & heavy)}"


def test_cnn_without_keras_names_the_extra(tmp_path):
    result = run_python(
        """
        try:
            import gslib.cnn
        except ImportError as exc:
            import gslib
            assert isinstance(exc, gslib.MissingExtraError), type(exc)
            print(exc)
        else:
            raise SystemExit("gslib.cnn imported without keras")
    """,
        missing=["keras"],
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "gslib.cnn needs Keras 3" in result.stdout
    assert "pip install 'gslib[cnn]'" in result.stdout
    assert "pip install 'gslib[tensorflow]'" in result.stdout


def test_keras_without_any_framework_names_the_extra_and_keras_backend(tmp_path):
    pytest.importorskip("keras")
    result = run_python(
        """
        try:
            import gslib.cnn
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("gslib.cnn imported without a framework")
    """,
        missing=["tensorflow", "jax", "torch"],
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "backend 'tensorflow' cannot be imported" in result.stdout
    assert "pip install 'gslib[tensorflow]'" in result.stdout
    assert "KERAS_BACKEND=jax" in result.stdout


def test_a_keras_backend_that_is_not_installed_is_named(tmp_path):
    pytest.importorskip("keras")
    result = run_python(
        """
        try:
            import gslib.cnn
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("gslib.cnn imported with a missing backend")
    """,
        missing=["jax"],
        env={"KERAS_BACKEND": "jax"},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "backend 'jax' cannot be imported" in result.stdout
    assert "KERAS_BACKEND" in result.stdout


def test_scan_imports_without_keras_and_its_network_parts_name_the_extra(tmp_path):
    result = run_python(
        """
        import numpy as np
        from gslib import scan  # the scan's bookkeeping needs no framework
        try:
            scan.classify_samples(None, np.zeros((1, 48, 48, 3), np.float32))
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("classify_samples ran without keras")
    """,
        missing=["keras"],
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'gslib[cnn]'" in result.stdout


def test_landscape_without_tensorflow_keeps_the_residual_fit_and_names_the_extra(tmp_path):
    result = run_python(
        """
        import numpy as np
        from gslib import landscape
        u = 1 + 0.1 * np.random.default_rng(0).random((16, 16))
        landscape.residual_design(u, 0.5 * u)  # the residual inversion is NumPy only
        try:
            landscape.simulate_tf(np.array([0.2, 0.1, 0.04, 0.06]), u, 0.5 * u, 2)
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("simulate_tf ran without tensorflow")
    """,
        missing=["tensorflow"],
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "differentiable solver of gslib.landscape needs tensorflow" in result.stdout
    assert "pip install 'gslib[tensorflow]'" in result.stdout


def test_cli_subcommand_without_keras_prints_the_extra(tmp_path):
    result = run_python(
        """
        from gslib import cli
        sys.exit(cli.main(["package-model", "--run", "r", "--train", "a", "--val", "b", "--test", "c",
                           "--dest", "d"]))
    """,
        missing=["keras"],
        tmp_path=tmp_path,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "gslib: error: gslib.cnn needs Keras 3" in result.stderr
    assert "pip install 'gslib[cnn]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_require_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gslib_no_such_module", None)
    with pytest.raises(
        _optional.MissingExtraError,
        match=r"the thing needs gslib_no_such_module, .*"
        r"pip install 'gslib\[scan\]'",
    ):
        _optional.require("gslib_no_such_module", extra="scan", needed_by="the thing")
    assert _optional.require("json", extra="scan", needed_by="the thing") is json


def test_backend_falls_back_to_an_installed_framework(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_BACKEND", "")  # recorded, so that the variable is restored afterwards
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no keras.json: Keras would pick TensorFlow
    monkeypatch.setattr(_optional, "available", lambda name: name == "torch")
    _optional._choose_backend()
    assert os.environ["KERAS_BACKEND"] == "torch"


def test_backend_choice_respects_keras_backend_and_keras_json(monkeypatch, tmp_path):
    monkeypatch.setattr(_optional, "available", lambda name: name == "torch")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    _optional._choose_backend()
    assert os.environ["KERAS_BACKEND"] == "jax"  # set by the reader: left as it is
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "numpy"}))
    _optional._choose_backend()
    assert "KERAS_BACKEND" not in os.environ  # a backend that is not a framework of ours: Keras decides
