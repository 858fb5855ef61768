"""Data augmentation of the pattern classifier: the paper's random affine maps on the torus and intensities.

The layers act only when training (``training=True``) and use ``keras.layers`` and ``keras.ops``
only, so they run on every Keras backend. :func:`augmentation` is the paper's pipeline; it is part
of the trainer that :func:`gslib.cnn.train` builds, not of the saved network.
"""

from __future__ import annotations

import numpy as np

from .._optional import import_keras

# Keras 3 comes with the extra `cnn`; without it, importing this module raises gslib.MissingExtraError.
keras = import_keras("gslib.cnn")
layers, ops = keras.layers, keras.ops

__all__ = ["RandomAffine", "RandomIntensity", "augmentation", "periodic_affine"]


class RandomIntensity(layers.Layer):
    """Multiply each sample by a random factor in [1 - delta, 1 + delta] (training only).

    Parameters
    ----------
    delta : float
        Largest relative change of the intensity.
    seed : int, optional
        Seed of the layer's random generator.
    **kwargs
        Passed to ``keras.layers.Layer``.
    """

    def __init__(self, delta: float = 0.05, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.delta = delta
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        scale = keras.random.uniform((ops.shape(x)[0], 1, 1, 1), 1 - self.delta, 1 + self.delta, seed=self.generator)
        return x * ops.cast(scale, x.dtype)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta, "seed": self.seed}


def periodic_affine(x, transform):
    """Resample images at affine coordinates with bilinear interpolation on a torus.

    Input coordinates are taken modulo (W, H) *before* the four neighbours are read, so that an output
    pixel between the last and the first column mixes those two: a periodic pattern stays periodic with
    no seam. (``affine_transform(fill_mode="wrap")`` wraps the point but reads the neighbour beyond the
    edge as the fill value, which draws a line of darker pixels wherever the edge is crossed.)

    Parameters
    ----------
    x : tensor
        Images (B, H, W, C).
    transform : tensor
        (B, 6) = a00, a01, a02, a10, a11, a12: maps output pixel (x, y) = (column, row) to the
        input point (a00 x + a01 y + a02, a10 x + a11 y + a12), as in
        ``keras.ops.image.affine_transform``.

    Returns
    -------
    tensor
        The resampled images (B, H, W, C).
    """
    shape = ops.shape(x)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    dtype = x.dtype
    rows, cols = ops.meshgrid(ops.arange(height, dtype=dtype), ops.arange(width, dtype=dtype), indexing="ij")
    t = [ops.reshape(ops.cast(transform[:, j], dtype), (-1, 1, 1)) for j in range(6)]
    x_in = t[0] * cols + t[1] * rows + t[2]
    y_in = t[3] * cols + t[4] * rows + t[5]
    x0, y0 = ops.floor(x_in), ops.floor(y_in)
    wx, wy = ops.expand_dims(x_in - x0, -1), ops.expand_dims(y_in - y0, -1)
    w_f, h_f = ops.cast(width, dtype), ops.cast(height, dtype)
    c0 = ops.cast(ops.mod(x0, w_f), "int32")
    r0 = ops.cast(ops.mod(y0, h_f), "int32")
    c1 = ops.mod(c0 + 1, width)
    r1 = ops.mod(r0 + 1, height)
    flat = ops.reshape(x, (-1, channels))  # (B H W, C): one gather of whole cells per neighbour
    offset = ops.reshape(ops.arange(batch, dtype="int32") * (height * width), (-1, 1, 1))

    def pick(r, c):
        return ops.take(flat, offset + r * width + c, axis=0)

    top = (1 - wx) * pick(r0, c0) + wx * pick(r0, c1)
    bottom = (1 - wx) * pick(r1, c0) + wx * pick(r1, c1)
    return (1 - wy) * top + wy * bottom


class RandomAffine(layers.Layer):
    """One random affine map per sample, applied in a single periodic resampling (training only).

    The map from output to input pixels composes a rotation by any angle, a shear of up to ``shear``
    along each axis, a zoom by a factor in [1 - zoom, 1 + zoom], a horizontal flip with probability 1/2
    and a periodic shift by up to half the width along each axis (with wrap, every shift is reached).
    The resampling is :func:`periodic_affine`: bilinear on the torus, no seam at the edges.

    Parameters
    ----------
    shear : float
        Largest shear along each axis.
    zoom : float
        Largest relative zoom.
    seed : int, optional
        Seed of the layer's random generator.
    **kwargs
        Passed to ``keras.layers.Layer``.
    """

    def __init__(self, shear: float = 0.2, zoom: float = 0.2, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.shear, self.zoom, self.seed = shear, zoom, seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        shape = ops.shape(x)
        batch, side = shape[0], ops.cast(shape[1], "float32")

        def draw(low, high):
            return keras.random.uniform((batch,), low, high, seed=self.generator)

        angle = draw(-np.pi, np.pi)
        shear_x, shear_y = draw(-self.shear, self.shear), draw(-self.shear, self.shear)
        zoom = draw(1 - self.zoom, 1 + self.zoom)
        flip = ops.where(draw(0.0, 1.0) < 0.5, -1.0, 1.0)
        cos, sin = ops.cos(angle), ops.sin(angle)
        # A = zoom * R(angle) @ [[1, shear_x], [shear_y, 1]] @ diag(flip, 1), acting on (x, y) = (column, row)
        a00 = zoom * (cos + sin * shear_y) * flip
        a01 = zoom * (cos * shear_x + sin)
        a10 = zoom * (-sin + cos * shear_y) * flip
        a11 = zoom * (-sin * shear_x + cos)
        centre = (side - 1) / 2
        shift_x, shift_y = draw(-0.5, 0.5) * side, draw(-0.5, 0.5) * side
        a02 = centre - a00 * centre - a01 * centre + shift_x
        a12 = centre - a10 * centre - a11 * centre + shift_y
        return periodic_affine(x, ops.stack([a00, a01, a02, a10, a11, a12], axis=1))

    def get_config(self):
        return {**super().get_config(), "shear": self.shear, "zoom": self.zoom, "seed": self.seed}


def augmentation(seed: int = 0) -> keras.Sequential:
    """The paper's augmentation: any rotation, periodic shifts, shear 0.2, zoom 0.2, flips, +-5 % intensity.

    The geometric part is one affine resampling per sample (:class:`RandomAffine`), with fill mode
    ``wrap`` so periodic patterns stay periodic; active only when training.

    Parameters
    ----------
    seed : int
        Seed of the affine layer (the intensity layer uses ``seed + 1``).

    Returns
    -------
    keras.Sequential
        The augmentation layers.
    """
    return keras.Sequential(
        [RandomAffine(0.2, 0.2, seed=seed), RandomIntensity(0.05, seed=seed + 1)], name="augmentation"
    )
