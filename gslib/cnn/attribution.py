"""Which input cells made the network choose a class: the paper's saliency maps and integrated gradients.

Both need the gradient of a logit with respect to the input, which only the Keras backend's
autodiff gives (:func:`_input_gradients`: TensorFlow, JAX or PyTorch); the rest is NumPy and
SciPy. The functions are available as ``gslib.cnn.saliency`` and
``gslib.cnn.integrated_gradients``.
"""

from __future__ import annotations

import numpy as np

from . import _input_size, check_samples, keras, predict_proba

__all__ = ["saliency", "integrated_gradients"]


def _input_gradients(model, x, class_index) -> np.ndarray:
    """d logit[class_index] / d x for samples x (B, S, S, 3), with the active backend's autodiff."""
    backend = keras.backend.backend()
    idx = np.asarray(class_index).reshape(-1)
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            logits = model(xt, training=False)
            picked = tf.reduce_sum(tf.gather(logits, idx, axis=1, batch_dims=1))
        return tape.gradient(picked, xt).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def picked(xj):
            logits = model(xj, training=False)
            return jnp.sum(jnp.take_along_axis(logits, jnp.asarray(idx)[:, None], axis=1))

        return np.asarray(jax.grad(picked)(jnp.asarray(x)))
    if backend == "torch":
        import torch

        xt = torch.tensor(x, requires_grad=True)
        logits = model(xt, training=False)
        logits.gather(1, torch.as_tensor(idx)[:, None]).sum().backward()
        return xt.grad.detach().cpu().numpy()
    raise ValueError(f"input gradients are not implemented for the Keras backend {backend!r}")


def saliency(model, x, class_index=None, sigma: float = 2.0) -> np.ndarray:
    """The paper's saliency maps.

    Gradient of the class logit w.r.t. the input, signed maximum over the 3 channels, min-max
    normalised to [0, 1], Gaussian blur of width ``sigma`` cells (periodic).

    Parameters
    ----------
    model : keras.Model
        A network of :func:`gslib.cnn.build_model`.
    x : array_like
        Samples (B, S, S, 3) or one (S, S, 3).
    class_index : int or array_like of int, optional
        Class of the logit, one or (B,); None uses the predicted class.
    sigma : float
        Width of the blur (cells); 0: no blur.

    Returns
    -------
    numpy.ndarray
        Maps (B, S, S).

    Raises
    ------
    ValueError
        For invalid samples, or a Keras backend without input gradients.
    """
    from scipy.ndimage import gaussian_filter

    x = check_samples(x, _input_size(model))
    if class_index is None:
        class_index = predict_proba(model, x).argmax(axis=1)
    idx = np.broadcast_to(np.asarray(class_index), (len(x),))
    grads = _input_gradients(model, x, idx)
    signed = np.take_along_axis(grads, np.abs(grads).argmax(axis=-1)[..., None], axis=-1)[..., 0]
    lo = signed.min(axis=(1, 2), keepdims=True)
    span = signed.max(axis=(1, 2), keepdims=True) - lo
    norm = (signed - lo) / np.where(span > 0, span, 1.0)
    return np.stack([gaussian_filter(m, sigma, mode="wrap") for m in norm]) if sigma > 0 else norm


def integrated_gradients(model, x, class_index=None, baseline=None, steps: int = 32) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017).

    Attribution of the class logit to each input value along the straight path from ``baseline``
    to x (trapezoid rule with ``steps`` intervals). The attributions sum to
    logit(x) - logit(baseline) up to the quadrature error (completeness).

    Parameters
    ----------
    model : keras.Model
        A network of :func:`gslib.cnn.build_model`.
    x : array_like
        Samples (B, S, S, 3) or one (S, S, 3).
    class_index : int or array_like of int, optional
        Class of the logit, one or (B,); None uses the predicted class.
    baseline : array_like, optional
        Start of the path, shaped like ``x``; default: each sample's spatial mean, a uniform
        field with the same intensity and no pattern.
    steps : int
        Intervals of the trapezoid rule.

    Returns
    -------
    numpy.ndarray
        Attributions (B, S, S, 3), float32.

    Raises
    ------
    ValueError
        For invalid samples or baseline, or a Keras backend without input gradients.
    """
    x = check_samples(x, _input_size(model))
    if class_index is None:
        class_index = predict_proba(model, x).argmax(axis=1)
    idx = np.broadcast_to(np.asarray(class_index), (len(x),))
    base = (
        np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape)
        if baseline is None
        else check_samples(baseline, x.shape[1])
    )
    alphas = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    total = np.zeros_like(x, dtype=np.float64)
    for a, w in zip(alphas, weights):
        total += w * _input_gradients(model, (base + a * (x - base)).astype(np.float32), idx)
    return ((x - base) * total).astype(np.float32)
