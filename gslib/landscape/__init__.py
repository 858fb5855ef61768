"""Why gradient descent through a steady state fails, and how the residual recovers the parameters.

This package reproduces and completes the diagnosis of *Loss Landscape Diagnosis for Gradient-Based
Gray-Scott System Inversion* (bib key ``landscape2025``): recover ``(Du, Dv, f, k)`` from one steady
pattern. It has four parts, and re-exports the public names of each:

:mod:`gslib.landscape.solver`
    The differentiable FTCS scheme in TensorFlow: :func:`simulate_tf` (one tape through every step),
    :func:`forward` / :func:`backward` (checkpointed blocks of XLA-compiled steps, stopping at a
    steady state as :func:`gslib.integrate` does).
:mod:`gslib.landscape.losses`
    :func:`spectral_loss`, :func:`windowed_spectral_loss` and :func:`gram_loss` (Gram matrices of the
    feature maps of VGG-19, of the book's shipped classifier, :func:`cnn_features`, or of any Keras
    model), with NumPy twins (``*_np``) that take a batch of predictions at once.
:mod:`gslib.landscape.setups`
    The experiment (:class:`Setup`, :data:`PAPER`, :func:`setup_for` of a scale passed explicitly),
    its seed and its steady target (:func:`target_pattern`).
:mod:`gslib.landscape.landscapes`
    :func:`value_and_grad`, gradient descent as in the paper (:func:`fit_backprop`) and loss
    cross-sections over 1-D and 2-D grids of parameters (:func:`cross_section`).

The residual inversion itself, linear least squares on the steady-state residual (``gslib
invert``), needs no framework and lives in :mod:`gslib.inversion`; its names (:func:`residual_fit`,
:func:`residual_loss`, :func:`load_steady`, ...) are re-exported here as well. TensorFlow is imported
only when a function of the solver or the losses first needs it.

Parameters are ordered ``(Du, Dv, f, k)`` throughout (:data:`PARAMS`); lengths in grid cells
(``dx = 1`` in the paper), times in model time units.
"""

from __future__ import annotations

from ..inversion import (
    PARAMS,
    STENCIL_MARGIN,
    UNEXPLAINED_THRESHOLD,
    ResidualFit,
    UnexplainedPatternWarning,
    as_params,
    check_steady_pattern,
    load_steady,
    residual_design,
    residual_fit,
    residual_loss,
)
from . import landscapes, losses, setups, solver
from .landscapes import (
    DEFAULT_RANGES,
    CrossSection,
    FitHistory,
    cross_section,
    fit_backprop,
    params_from_raw,
    raw_from_params,
    value_and_grad,
)
from .losses import (
    CNN_FEATURE_LAYERS,
    CNN_LAYERS,
    LOSSES,
    SPECTRUM_FLOOR,
    VGG19_LAYERS,
    VGG19_WEIGHTS_FILE,
    WINDOW,
    WeightsUnavailableError,
    cnn_features,
    gram_loss,
    gram_loss_np,
    gram_matrices,
    keras_cache_dir,
    loss_pair,
    power_spectrum,
    power_spectrum_np,
    spectral_loss,
    spectral_loss_np,
    vgg19_features,
    vgg19_weights_file,
    windowed_spectral_loss,
    windowed_spectral_loss_np,
)
from .setups import PAPER, SCALED_SETUPS, Setup, initial_state, setup_for, target_pattern
from .solver import KERNEL_CACHE_SIZE, ForwardRun, backward, clear_kernel_cache, forward, simulate_tf, tensorflow

__all__ = [
    "PARAMS",
    "PAPER",
    "Setup",
    "SCALED_SETUPS",
    "setup_for",
    "target_pattern",
    "initial_state",
    "simulate_tf",
    "forward",
    "backward",
    "value_and_grad",
    "ForwardRun",
    "KERNEL_CACHE_SIZE",
    "clear_kernel_cache",
    "power_spectrum",
    "spectral_loss",
    "windowed_spectral_loss",
    "gram_loss",
    "vgg19_features",
    "power_spectrum_np",
    "spectral_loss_np",
    "windowed_spectral_loss_np",
    "LOSSES",
    "loss_pair",
    "params_from_raw",
    "raw_from_params",
    "fit_backprop",
    "FitHistory",
    "cross_section",
    "CrossSection",
    "DEFAULT_RANGES",
    "residual_design",
    "residual_loss",
    "residual_fit",
    "ResidualFit",
    "check_steady_pattern",
    "load_steady",
    "as_params",
    "UnexplainedPatternWarning",
    "UNEXPLAINED_THRESHOLD",
    "STENCIL_MARGIN",
    "WeightsUnavailableError",
    "gram_matrices",
    "VGG19_LAYERS",
    "SPECTRUM_FLOOR",
    "WINDOW",
    "gram_loss_np",
    "cnn_features",
    "CNN_LAYERS",
    "CNN_FEATURE_LAYERS",
    "keras_cache_dir",
    "vgg19_weights_file",
    "VGG19_WEIGHTS_FILE",
    "tensorflow",
    "landscapes",
    "losses",
    "setups",
    "solver",
]
