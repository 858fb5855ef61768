"""The losses of the inverse problem: spectral, windowed spectral and Gram (style) losses.

:func:`spectral_loss` is the MSE between the log power spectra of the mean-subtracted patterns
(fftshifted), :func:`windowed_spectral_loss` the same on non-overlapping 16 x 16 tiles, and
:func:`gram_loss` the MSE between Gram matrices of the feature maps of a network: VGG-19 (its ImageNet
weights downloaded once into Keras' cache, :func:`vgg19_weights_file`), the book's shipped classifier
(:func:`cnn_features`, which works offline) or any Keras model. The TensorFlow versions are
differentiable; their NumPy twins (``*_np``) take a batch of predictions at once.

TensorFlow and Keras are imported on first use, never at import.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from .._validate import check_int
from .solver import tensorflow as _tf

__all__ = [
    "SPECTRUM_FLOOR",
    "WINDOW",
    "power_spectrum",
    "spectral_loss",
    "windowed_spectral_loss",
    "power_spectrum_np",
    "spectral_loss_np",
    "windowed_spectral_loss_np",
    "WeightsUnavailableError",
    "VGG19_LAYERS",
    "VGG19_WEIGHTS_FILE",
    "CNN_FEATURE_LAYERS",
    "CNN_LAYERS",
    "keras_cache_dir",
    "vgg19_weights_file",
    "vgg19_features",
    "cnn_features",
    "gram_matrices",
    "gram_loss",
    "gram_loss_np",
    "LOSSES",
    "loss_pair",
]

#: Floor added to the power spectrum before the logarithm (the paper's 1e-8).
SPECTRUM_FLOOR = 1e-8
#: Side of the tiles of the windowed spectral loss (cells).
WINDOW = 16


def _keras():
    """Keras 3 (for the feature networks), or gslib.MissingExtraError naming the extra that adds it."""
    from .._optional import import_keras

    return import_keras("the feature networks of gslib.landscape")


# ----------------------------------------------------------------------------- spectral losses


def power_spectrum(x):
    """Log power spectrum in TensorFlow.

    Parameters
    ----------
    x : tensor or array_like
        Fields (..., N, M).

    Returns
    -------
    tensor
        ``fftshift(log(|FFT2(x - mean x)|^2 + 1e-8))`` over the last two axes.
    """
    tf = _tf()
    x = tf.convert_to_tensor(x)
    centred = x - tf.reduce_mean(x, axis=[-2, -1], keepdims=True)
    spec = tf.signal.fft2d(tf.complex(centred, tf.zeros_like(centred)))
    power = tf.math.real(spec) ** 2 + tf.math.imag(spec) ** 2
    return tf.signal.fftshift(tf.math.log(power + SPECTRUM_FLOOR), axes=[-2, -1])


def _tiles_tf(x, window):
    tf = _tf()
    n, m = x.shape[-2] // window, x.shape[-1] // window
    x = x[..., : n * window, : m * window]
    lead = tf.shape(x)[:-2]
    t = tf.reshape(x, tf.concat([lead, [n, window, m, window]], 0))
    rank = len(x.shape)
    perm = list(range(rank - 2)) + [rank - 2, rank, rank - 1, rank + 1]
    return tf.transpose(t, perm)  # (..., n, m, window, window)


def spectral_loss(pred, target):
    """MSE between the log power spectra (:func:`power_spectrum`) of ``pred`` and ``target`` (TF).

    Parameters
    ----------
    pred : tensor or array_like
        (N, M), or (B, N, M) against one target.
    target : tensor or array_like
        (N, M).

    Returns
    -------
    tensor
        The loss: a scalar, or one per member (B,).
    """
    tf = _tf()
    pred = tf.convert_to_tensor(pred)
    target = tf.cast(target, pred.dtype)
    diff = power_spectrum(pred) - power_spectrum(target)
    return tf.reduce_mean(diff * diff, axis=[-2, -1])


def windowed_spectral_loss(pred, target, window: int = WINDOW):
    """:func:`spectral_loss` on non-overlapping ``window`` x ``window`` tiles (TF).

    Each tile has its own mean removed; the loss is averaged over tiles and modes. Rows and columns
    beyond the last whole tile are left out.

    Parameters
    ----------
    pred : tensor or array_like
        (N, M), or (B, N, M) against one target.
    target : tensor or array_like
        (N, M).
    window : int
        Tile side (cells), >= 1 and at most the pattern's side.

    Returns
    -------
    tensor
        The loss: a scalar, or one per member (B,).

    Raises
    ------
    ValueError
        If ``window`` is not a positive integer or exceeds the pattern.
    """
    tf = _tf()
    window = _check_window(window, tuple(tf.convert_to_tensor(pred).shape[-2:]))
    pred = tf.convert_to_tensor(pred)
    target = tf.cast(target, pred.dtype)
    diff = power_spectrum(_tiles_tf(pred, window)) - power_spectrum(_tiles_tf(target, window))
    return tf.reduce_mean(diff * diff, axis=[-4, -3, -2, -1])


def _check_window(window, shape):
    window = check_int("window", window, 1)
    if shape[0] < window or shape[1] < window:
        raise ValueError(f"window={window} is larger than the pattern {shape[0]} x {shape[1]}")
    return window


def power_spectrum_np(x) -> np.ndarray:
    """NumPy twin of :func:`power_spectrum` (float64), over the last two axes.

    Parameters
    ----------
    x : array_like
        Fields (..., N, M).

    Returns
    -------
    numpy.ndarray
        ``fftshift(log(|FFT2(x - mean x)|^2 + 1e-8))``.
    """
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=(-2, -1), keepdims=True)
    power = np.abs(np.fft.fft2(centred)) ** 2
    return np.fft.fftshift(np.log(power + SPECTRUM_FLOOR), axes=(-2, -1))


def _tiles_np(x, window):
    n, m = x.shape[-2] // window, x.shape[-1] // window
    x = x[..., : n * window, : m * window]
    t = x.reshape(x.shape[:-2] + (n, window, m, window))
    return np.moveaxis(t, -3, -2)  # (..., n, m, window, window)


def spectral_loss_np(pred, target) -> np.ndarray:
    """NumPy twin of :func:`spectral_loss`.

    Parameters
    ----------
    pred : array_like
        (..., N, M).
    target : array_like
        (N, M).

    Returns
    -------
    numpy.ndarray
        Loss (...); members that are not finite (blown-up runs) get NaN.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        diff = power_spectrum_np(pred) - power_spectrum_np(target)
        return np.mean(diff * diff, axis=(-2, -1))


def windowed_spectral_loss_np(pred, target, window: int = WINDOW) -> np.ndarray:
    """NumPy twin of :func:`windowed_spectral_loss`.

    Parameters
    ----------
    pred : array_like
        (..., N, M); a batch over the leading axes.
    target : array_like
        (N, M).
    window : int
        Tile side (cells).

    Returns
    -------
    numpy.ndarray
        Loss (...); NaN for members that are not finite.

    Raises
    ------
    ValueError
        If ``window`` is not a positive integer or exceeds the pattern.
    """
    pred = np.asarray(pred, dtype=np.float64)
    window = _check_window(window, pred.shape[-2:])
    with np.errstate(invalid="ignore", over="ignore"):
        diff = power_spectrum_np(_tiles_np(pred, window)) - power_spectrum_np(_tiles_np(np.asarray(target), window))
        return np.mean(diff * diff, axis=(-4, -3, -2, -1))


# ----------------------------------------------------------------------------- feature networks


class WeightsUnavailableError(FileNotFoundError):
    """The pretrained weights of a feature network are neither in a local file or cache nor downloadable."""


#: VGG-19 layers of the usual style (Gram) loss.
VGG19_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
#: Keras' file of the VGG-19 ImageNet weights without the classifier (the convolutional part).
VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
_VGG19_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + VGG19_WEIGHTS_FILE
_VGG19_MD5 = "253f8cb515780f3b799900260a226db6"
#: Layers of the book's classifier (:func:`gslib.cnn.build_model`) that :func:`cnn_features` may return.
CNN_FEATURE_LAYERS = ("input_norm", "conv1", "conv2", "pool2", "conv3", "pool3", "conv4", "pool4")
#: Default feature maps of :func:`cnn_features`: the classifier's four convolutions.
CNN_LAYERS = ("conv1", "conv2", "conv3", "conv4")

_NO_VGG = (
    "the VGG-19 ImageNet weights are not shipped with gslib: Keras downloads them once into {path} and "
    "reads them from that file afterwards, also offline. {why} Alternatives: copy {file} (obtained on a "
    "machine with internet access) into {folder}, pass weights=<path to a VGG-19 weights file>, or use "
    'the book\'s own classifier as the feature network, features="pass1", which ships with gslib and '
    "needs no download"
)


def keras_cache_dir() -> Path:
    """The folder in which Keras caches downloaded weights.

    Returns
    -------
    pathlib.Path
        ``$KERAS_HOME/models`` when the environment variable ``KERAS_HOME`` is set, otherwise
        ``~/.keras/models``. It is read at every call, so setting ``KERAS_HOME`` later takes effect.
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def vgg19_weights_file(download: bool = True) -> Path:
    """The VGG-19 ImageNet weights file (convolutional part), from Keras' cache or downloaded into it.

    Parameters
    ----------
    download : bool
        Download the file (about 80 MB, checked against its MD5 sum) when it is not in
        :func:`keras_cache_dir`. A file already in the cache is used as it is, without network access.

    Returns
    -------
    pathlib.Path
        The path of :data:`VGG19_WEIGHTS_FILE`.

    Raises
    ------
    WeightsUnavailableError
        If the file is not in the cache and the download is not allowed or fails; the message names
        the cache path and the alternatives.
    """
    path = keras_cache_dir() / VGG19_WEIGHTS_FILE
    if path.is_file():
        return path
    why = "The file is not in the cache, and download=False."
    if download:
        keras = _keras()
        try:
            got = keras.utils.get_file(
                VGG19_WEIGHTS_FILE,
                _VGG19_URL,
                cache_subdir="models",
                cache_dir=str(path.parent.parent),
                file_hash=_VGG19_MD5,
            )
            return Path(got)
        except Exception as exc:  # urllib errors arrive wrapped in a plain Exception by Keras
            why = f"The file is not in the cache, and downloading it from {_VGG19_URL} failed ({exc})."
    raise WeightsUnavailableError(_NO_VGG.format(path=path, why=why, file=VGG19_WEIGHTS_FILE, folder=path.parent))


def _vgg19_architecture():
    """VGG-19 without its classifier and without weights, for inputs of any size (B, H, W, 3)."""
    return _keras().applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))


def _check_layers(layers, allowed) -> tuple:
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    bad = [layer for layer in layers if layer not in allowed]
    if not layers or bad:
        raise ValueError(f"layers={layers!r}: give one or more of {', '.join(allowed)}")
    return layers


def _feature_model(base, layers, allowed, name):
    layers = _check_layers(layers, allowed)
    return _keras().Model(base.input, [base.get_layer(layer).output for layer in layers], name=name)


def vgg19_features(weights="imagenet", layers=VGG19_LAYERS):
    """A VGG-19 feature extractor: a ``keras.Model`` from images (B, H, W, 3) to the maps of ``layers``.

    Parameters
    ----------
    weights : {"imagenet", None} or path-like
        ``"imagenet"`` (or None): the ImageNet weights from Keras' cache, downloaded into it on first
        use (:func:`vgg19_weights_file`); a path: a local file that ``load_weights`` reads, such as
        :data:`VGG19_WEIGHTS_FILE`.
    layers : sequence of str
        Names of VGG-19 layers (default :data:`VGG19_LAYERS`, the first convolution of each block).

    Returns
    -------
    keras.Model
        One output per layer, in the order of ``layers``.

    Raises
    ------
    WeightsUnavailableError
        If the weights are neither in the cache nor downloadable, or the file is missing or unreadable.
    ValueError
        If a name in ``layers`` is not a layer of VGG-19.
    """
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        path = vgg19_weights_file()
    else:
        path = Path(weights)
        if not path.is_file():
            raise WeightsUnavailableError(
                f"no weights file at {str(path)!r}: pass the path of an existing VGG-19 weights file, "
                f'weights="imagenet" (Keras\' cache {keras_cache_dir()}, downloaded on first use), or use the '
                'book\'s own classifier as the feature network, features="pass1"'
            )
    base = _vgg19_architecture()
    try:
        base.load_weights(str(path))
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsUnavailableError(
            f"the weights file {path} could not be read as VGG-19 weights ({exc}); "
            "delete it to download it again, or pass another file"
        ) from exc
    return _feature_model(base, layers, [layer.name for layer in base.layers], "vgg19_features")


@functools.lru_cache(maxsize=8)
def _cnn_features(model: str, layers: tuple):
    from .. import cnn

    net, class_names = cnn.load_pretrained(model)
    flexible = cnn.build_model(len(class_names), size=None)  # the same weights, inputs of any side >= 48
    flexible.set_weights(net.get_weights())
    flexible.trainable = False
    return _feature_model(flexible, layers, CNN_FEATURE_LAYERS, f"{model}_features")


def cnn_features(model: str = "pass1", layers=CNN_LAYERS):
    """The book's shipped classifier as a feature network: images (B, H, W, 3) to its feature maps.

    The network of :func:`gslib.cnn.load_pretrained` is rebuilt for inputs of any side (at least
    :data:`gslib.cnn.MIN_SIZE`; its convolutions do not depend on the side) with the shipped weights,
    so it works offline. Its three input channels are three snapshots of u (section "data" of
    chapter 2); for a steady pattern they coincide, so a field is fed as three equal channels,
    unscaled: the network's first layer normalises its input with statistics learned on u.

    Parameters
    ----------
    model : {"pass1", "pass2"}
        Which shipped network.
    layers : sequence of str
        Names of the layers whose outputs are returned, from :data:`CNN_FEATURE_LAYERS` (default
        :data:`CNN_LAYERS`, the four convolutions after their ReLU).

    Returns
    -------
    keras.Model
        One output per layer, in the order of ``layers``; the model is built once per ``(model,
        layers)`` and shared by later calls (its weights are frozen; the last 8 such models are kept).

    Raises
    ------
    ValueError
        If ``model`` is not a shipped network or a layer name is not in :data:`CNN_FEATURE_LAYERS`.
    """
    from ..cnn import PRETRAINED

    if model not in PRETRAINED:
        raise ValueError(f"model={model!r} is not a shipped network; allowed: {', '.join(PRETRAINED)}")
    return _cnn_features(model, _check_layers(layers, CNN_FEATURE_LAYERS))


def _vgg_preprocess(x):
    """A field (B, N, M) in [0, 1] as VGG-19 input: three equal channels, 0..255, ImageNet means removed."""
    tf = _tf()
    img = tf.repeat(x[..., None] * 255.0, 3, axis=-1)
    return img - tf.constant([103.939, 116.779, 123.68], dtype=img.dtype)


def _cnn_preprocess(x):
    """A field (B, N, M) as input of the book's classifier: three equal channels, values unchanged."""
    from ..cnn import MIN_SIZE

    if min(x.shape[-2:]) < MIN_SIZE:
        raise ValueError(
            f"the fields are {x.shape[-2]} x {x.shape[-1]}; the book's classifier needs a side of at "
            f"least {MIN_SIZE} cells"
        )
    return _tf().repeat(x[..., None], 3, axis=-1)


def _resolve_features(features, weights, preprocess):
    """(feature model, preprocessing) for :func:`gram_loss` and :func:`gram_loss_np`."""
    from ..cnn import PRETRAINED

    if features is None or (isinstance(features, str) and features == "vgg19"):
        model, auto = vgg19_features(weights), _vgg_preprocess
    elif isinstance(features, str):
        if features not in PRETRAINED:
            raise ValueError(
                f"features={features!r}; allowed: a keras.Model, 'vgg19', {', '.join(map(repr, PRETRAINED))}"
            )
        model, auto = cnn_features(features), _cnn_preprocess
    else:
        model, auto = features, None
    return model, (auto if isinstance(preprocess, str) and preprocess == "auto" else preprocess)


# ----------------------------------------------------------------------------- the Gram loss


def gram_matrices(features, x, preprocess=None):
    """Gram matrices ``G = Phi^T Phi / (H W)`` of every output of ``features`` for fields ``x``.

    ``Phi`` is one output flattened to (H W, C): H x W positions, C channels.

    Parameters
    ----------
    features : keras.Model
        Maps images (B, H, W, 3) to one feature map (B, H', W', C) or a list of them.
    x : array or tensor
        Fields (B, N, M), or one field (N, M).
    preprocess : callable or None
        Fields (B, N, M) to images (B, N, M, 3); None: three equal channels.

    Returns
    -------
    list of tensors
        One (B, C, C) Gram matrix per output of ``features``.
    """
    tf = _tf()
    x = tf.convert_to_tensor(x)
    if len(x.shape) == 2:
        x = x[None]
    img = preprocess(x) if preprocess is not None else tf.repeat(x[..., None], 3, axis=-1)
    img = tf.cast(img, features.inputs[0].dtype if getattr(features, "inputs", None) else tf.float32)
    outs = features(img)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    grams = []
    for maps in outs:
        shape = tf.shape(maps)
        flat = tf.reshape(maps, (shape[0], shape[1] * shape[2], shape[3]))
        grams.append(tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], flat.dtype))
    return grams


def _gram_distance(gp, gt):
    tf = _tf()
    return tf.add_n([tf.reduce_mean((a - b) ** 2, axis=[-2, -1]) for a, b in zip(gp, gt)])


def gram_loss(pred, target, features=None, *, weights="imagenet", preprocess="auto"):
    """Style loss (TensorFlow, differentiable): the MSE between Gram matrices, summed over feature maps.

    Parameters
    ----------
    pred, target : array or tensor
        Fields (N, M) or a batch ``pred`` (B, N, M) against one ``target`` (N, M).
    features : None, "vgg19", "pass1", "pass2" or keras.Model
        The feature network: None or "vgg19", VGG-19 with ``weights`` (:func:`vgg19_features`, the
        paper's choice); "pass1" or "pass2", the book's shipped classifier (:func:`cnn_features`,
        offline); or a ``keras.Model`` mapping images (B, H, W, 3) to one or more feature maps.
    weights : "imagenet" or path-like
        VGG-19's weights (only for ``features`` None or "vgg19").
    preprocess : "auto", callable or None
        From fields (B, N, M) to images: "auto" picks ImageNet preprocessing for VGG-19 (values in
        [0, 1] to 0..255, means removed), three equal unscaled channels for the book's classifier and
        for a user model; None: three equal channels.

    Returns
    -------
    tensor
        The loss, (B,) for a batch, a scalar for one field; gradients flow to ``pred``.

    Raises
    ------
    WeightsUnavailableError
        If VGG-19 is asked for and its weights are not available (:func:`vgg19_weights_file`).
    ValueError
        If ``features`` is a name that is not a network, or the fields are too small for it.
    """
    tf = _tf()
    model, prep = _resolve_features(features, weights, preprocess)
    single = len(tf.convert_to_tensor(pred).shape) == 2
    loss = _gram_distance(gram_matrices(model, pred, prep), gram_matrices(model, target, prep))
    return loss[0] if single else loss


def gram_loss_np(
    pred, target, features="pass1", *, weights="imagenet", preprocess="auto", batch_size: int = 256
) -> np.ndarray:
    """:func:`gram_loss` for a whole batch of predictions, in chunks, as NumPy (float64).

    Parameters
    ----------
    pred : array (..., N, M)
        Predictions; members that are not finite (blown-up runs) get NaN.
    target : array (N, M)
        The target field (its Gram matrices are computed once).
    features, weights, preprocess
        As in :func:`gram_loss`; the default is the book's classifier "pass1", which needs no download.
    batch_size : int
        Members per call of the feature network.

    Returns
    -------
    numpy.ndarray
        The loss of every member, shape ``pred.shape[:-2]``.

    Raises
    ------
    ValueError
        If ``batch_size`` is not an integer >= 1 or the shapes do not match.
    """
    batch_size = check_int("batch_size", batch_size, 1)
    pred = np.asarray(pred, dtype=np.float32)
    target = np.asarray(target, dtype=np.float32)
    if target.ndim != 2 or pred.ndim < 2 or pred.shape[-2:] != target.shape:
        raise ValueError(
            f"pred must be (..., N, M) and target (N, M) with the same N, M; got {pred.shape} and {target.shape}"
        )
    model, prep = _resolve_features(features, weights, preprocess)
    lead = pred.shape[:-2]
    flat = pred.reshape((-1,) + target.shape)
    out = np.full(len(flat), np.nan)
    good = np.flatnonzero(np.all(np.isfinite(flat), axis=(-2, -1)))
    gt = gram_matrices(model, target, prep)
    for start in range(0, len(good), batch_size):
        idx = good[start : start + batch_size]
        out[idx] = _gram_distance(gram_matrices(model, flat[idx], prep), gt).numpy()
    return out.reshape(lead)


#: The losses by name: (TensorFlow version, NumPy version).
LOSSES = {
    "spectral": (spectral_loss, spectral_loss_np),
    "windowed": (windowed_spectral_loss, windowed_spectral_loss_np),
}


def loss_pair(loss: str):
    """The (TensorFlow, NumPy) versions of a loss by name.

    Parameters
    ----------
    loss : str
        A key of :data:`LOSSES`, or ``"gram"`` (the Gram loss through the book's shipped classifier
        "pass1", which needs no download).

    Returns
    -------
    tuple of callable
        ``(tf_loss(pred, target), np_loss(pred, target))``.

    Raises
    ------
    ValueError
        If ``loss`` is not a loss.
    """
    if loss == "gram":
        return functools.partial(gram_loss, features="pass1"), functools.partial(gram_loss_np, features="pass1")
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not a loss; allowed: {', '.join(map(repr, list(LOSSES) + ['gram']))}")
    return LOSSES[loss]
