"""The optional dependencies of gslib, and the error that names the extra which adds a missing one.

``pip install gslib`` installs the engine, the model's theory, the stochastic simulations, equation
inference, the inverse problem by residual least squares and the plots: NumPy, Numba, SciPy,
Matplotlib and tqdm, and no machine-learning framework. The rest comes with extras:

=================  ==================================================================
extra              adds
=================  ==================================================================
``cnn``            Keras 3 (:mod:`gslib.cnn`, the network parts of :mod:`gslib.scan`);
                   it runs on whichever of TensorFlow, JAX or PyTorch is installed
``tensorflow``     Keras 3 and TensorFlow (the differentiable solver of
                   :mod:`gslib.landscape`; Keras's default backend)
``book``           what the chapters need beside a framework: Keras, ipywidgets, ipympl
``cuda``           Numba's CUDA target (the ``cuda`` backend)
``scan``           Dask distributed (``gslib scan --scheduler``)
``dev``            all of the above, the tests and the book's build
=================  ==================================================================

:func:`require` and :func:`import_keras` import a module of an extra, or raise
:class:`MissingExtraError` with the ``pip install`` line that adds it.

Importing this module changes nothing. :func:`import_keras` is the one place where gslib writes to
``os.environ``, when it is called and before Keras is first imported (Keras reads its backend once, at
import): it sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless set (TensorFlow's start-up notices) and, where
``KERAS_BACKEND`` is not set and Keras's configured backend is not installed, ``KERAS_BACKEND`` to an
installed framework. Both settings hold for the rest of the process.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys

__all__ = ["FRAMEWORKS", "MissingExtraError", "available", "import_keras", "install_hint", "require"]

#: The frameworks Keras 3 runs on, in the order gslib picks one when Keras's own choice is missing.
FRAMEWORKS = ("tensorflow", "jax", "torch")


class MissingExtraError(ImportError):
    """An optional dependency of gslib is not installed; the message names the extra that adds it."""


def install_hint(extra: str) -> str:
    """The command that installs an extra of gslib.

    Parameters
    ----------
    extra : str
        The extra, e.g. ``"cnn"``.

    Returns
    -------
    str
        ``pip install 'gslib[cnn]'``.
    """
    return f"pip install 'gslib[{extra}]'"


def available(module: str) -> bool:
    """Whether a module can be imported, without importing it (only its spec is looked up).

    Parameters
    ----------
    module : str
        A top-level module name, e.g. ``"jax"``.

    Returns
    -------
    bool
        True if it is found on the path, or already imported.
    """
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a broken entry in sys.modules
        return False


def require(module: str, *, extra: str, needed_by: str):
    """Import ``module`` and return it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"tensorflow"``.
    extra : str
        The gslib extra that installs it, e.g. ``"tensorflow"``.
    needed_by : str
        What needs it, in words, for the message: ``"the differentiable solver of gslib.landscape"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtraError
        If ``module`` cannot be imported; the message names ``pip install 'gslib[extra]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(f"{needed_by} needs {module}, which is not installed: {install_hint(extra)}") from exc


def _configured_backend() -> str | None:
    """The backend Keras will use by its own configuration: ``KERAS_BACKEND``, else ``keras.json``."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as fh:
            return json.load(fh).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def _choose_backend() -> None:
    """Point Keras at an installed framework where its configured one (by default TensorFlow) is missing.

    Where ``KERAS_BACKEND`` is set it is respected as it is. Otherwise, where the backend of
    ``keras.json`` (TensorFlow when there is none) is not installed and JAX or PyTorch is, that one is
    used, so a machine that has one framework needs no second one.
    """
    if os.environ.get("KERAS_BACKEND"):
        return
    configured = _configured_backend() or "tensorflow"
    if configured not in FRAMEWORKS or available(configured):
        return
    for framework in FRAMEWORKS:
        if available(framework):
            os.environ["KERAS_BACKEND"] = framework
            return


def import_keras(needed_by: str = "gslib.cnn"):
    """Import Keras 3 on an installed framework and return the module.

    Where ``KERAS_BACKEND`` is not set and Keras's configured backend (TensorFlow by default) is not
    installed, the first installed of TensorFlow, JAX and PyTorch is used: this call then sets
    ``os.environ["KERAS_BACKEND"]`` for the process. Before Keras's first import it also sets
    ``TF_CPP_MIN_LOG_LEVEL=2`` where that is unset. Once Keras is imported, neither is touched.

    Parameters
    ----------
    needed_by : str
        What needs Keras, in words, for the message.

    Returns
    -------
    module
        ``keras``.

    Raises
    ------
    MissingExtraError
        If Keras 3 is not installed (the message names ``pip install 'gslib[cnn]'``), or Keras is
        installed but no framework it can run on is (the message names ``pip install
        'gslib[tensorflow]'`` and ``KERAS_BACKEND``).
    """
    if "keras" not in sys.modules or sys.modules["keras"] is None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up notices
        _choose_backend()
    if not available("keras"):
        raise MissingExtraError(
            f"{needed_by} needs Keras 3, which is not installed: {install_hint('cnn')} "
            f"(and {install_hint('tensorflow')} where no TensorFlow, JAX or PyTorch "
            "is installed)"
        )
    try:
        keras = importlib.import_module("keras")
    except ImportError as exc:
        backend = os.environ.get("KERAS_BACKEND") or _configured_backend() or "tensorflow"
        raise MissingExtraError(
            f"{needed_by} needs Keras 3 on a framework, and Keras's backend {backend!r} cannot be imported "
            f"({exc}): install TensorFlow with {install_hint('tensorflow')}, or install JAX or PyTorch and "
            "set KERAS_BACKEND=jax or KERAS_BACKEND=torch"
        ) from exc
    major = str(getattr(keras, "__version__", "0")).split(".")[0]
    if not major.isdigit() or int(major) < 3:
        raise MissingExtraError(
            f"{needed_by} needs Keras 3, found Keras {getattr(keras, '__version__', '?')}: "
            "pip install --upgrade 'keras>=3.5'"
        )
    return keras
