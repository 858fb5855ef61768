"""gslib: the companion library of gsbook, on pattern formation in the Gray-Scott model.

``import gslib`` loads the engine and the model's theory only (NumPy and SciPy): no machine-learning
framework, no IPython. The CNN (:mod:`gslib.cnn`), the network parts of :mod:`gslib.scan` and the
differentiable solver of :mod:`gslib.landscape` need an extra (``pip install 'gslib[cnn]'``,
``'gslib[tensorflow]'``); without it they raise :class:`MissingExtraError`, an ``ImportError`` whose
message names the ``pip install`` that adds it.
"""

from __future__ import annotations

from . import initial, model, params
from ._optional import MissingExtraError
from .model import homogeneous_states
from .params import GrayScott, Scheme
from .provenance import gslib_version
from .solvers import BlowUpError, SimulationResult, integrate, simulate, stability_limit

__version__ = gslib_version()


__all__ = [
    "BlowUpError",
    "GrayScott",
    "MissingExtraError",
    "Scheme",
    "SimulationResult",
    "__version__",
    "homogeneous_states",
    "initial",
    "integrate",
    "model",
    "params",
    "simulate",
    "stability_limit",
]
