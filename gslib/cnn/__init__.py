"""The pattern classifier of Scholz & Scholz (Am. J. Phys. 90, 141, 2022) in Keras 3.

Model code uses ``keras.layers`` and ``keras.ops`` only, so the same network trains on TensorFlow
(Keras's default) and on JAX (``KERAS_BACKEND=jax``, e.g. on a GPU without TensorFlow). Only the input gradients of
the attribution methods (:mod:`gslib.cnn.attribution`) need the backend's autodiff.

Shapes: samples x are (B, S, S, 3) float32 (u at t = T - 60, T - 30, T as channels); labels are
class indices into the model's ``class_names``.

The augmentation layers live in :mod:`gslib.cnn.augment` (and are available here too); the shipped
networks and a network's identity in :mod:`gslib.networks`; :data:`NETWORKS` is the default cache
of loaded networks.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import numpy as np

from .. import networks
from .._jsonio import read_json, write_json
from .._optional import import_keras
from ..classes import PASS1_CLASSES
from ..networks import EMBEDDING_LAYER, pretrained_dir
from .augment import RandomAffine, RandomIntensity, augmentation, periodic_affine  # noqa: F401 (gslib.cnn.<name>)

# Keras 3 comes with the extra `cnn` (and a framework with `tensorflow`); without it, importing this
# module raises gslib.MissingExtraError naming the pip install that adds it.
keras = import_keras("gslib.cnn")
layers, ops = keras.layers, keras.ops

PASS1_NAMES = tuple(c.name for c in PASS1_CLASSES)
#: The shipped networks (the same tuple as :data:`gslib.networks.SHIPPED`).
PRETRAINED = networks.SHIPPED
#: Smallest input side the network's valid convolutions and three poolings accept.
MIN_SIZE = 48


def build_model(n_classes: int = 15, size: int | None = 128) -> keras.Model:
    """The network of the paper's Table II (277 723 parameters for 15 classes).

    Parameters
    ----------
    n_classes : int
        Number of classes, >= 2.
    size : int or None
        Input side, >= :data:`MIN_SIZE` (None accepts any side: the network ends in a global max
        pool).

    Returns
    -------
    keras.Model
        Maps samples (B, size, size, 3) to logits (B, n_classes).

    Raises
    ------
    ValueError
        If ``n_classes`` or ``size`` is out of range.
    """
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes={n_classes!r} must be an integer >= 2")
    if size is not None and (not isinstance(size, int) or size < MIN_SIZE):
        raise ValueError(f"size={size!r} must be None or an integer >= {MIN_SIZE}")
    inputs = keras.Input((size, size, 3), name="snapshots")
    x = layers.BatchNormalization(name="input_norm")(inputs)
    x = layers.Conv2D(32, 3, strides=2, activation="relu", name="conv1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv4")(x)
    x = layers.MaxPooling2D(2, name="pool4")(x)
    x = layers.GlobalMaxPooling2D(name="global_max")(x)
    x = layers.Dense(256, activation="relu", name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(0.15, name="dropout")(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="scholz2022")


def check_samples(x, size: int | None = None) -> np.ndarray:
    """Validate samples for the network.

    Parameters
    ----------
    x : array_like
        Samples (B, S, S, 3) or one (S, S, 3), S >= :data:`MIN_SIZE`, real and finite.
    size : int, optional
        The side the network takes.

    Returns
    -------
    numpy.ndarray
        float32 (B, S, S, 3).

    Raises
    ------
    ValueError
        If the shape, the side or the values are not allowed.
    """
    x = np.asarray(x)
    shape = x.shape
    if x.ndim == 3 and x.shape[-1] == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3 or x.shape[1] != x.shape[2] or x.shape[1] < MIN_SIZE:
        raise ValueError(
            f"x has shape {shape}; allowed: (B, S, S, 3) or (S, S, 3) with S >= {MIN_SIZE} "
            "(three snapshots of u as channels)"
        )
    if size is not None and x.shape[1] != size:
        raise ValueError(f"x has side {x.shape[1]}; this network takes {size} x {size} samples")
    if x.dtype.kind not in "fiu" or not np.isfinite(x).all():
        raise ValueError("x must be real and finite (no NaN or Inf): classify only runs that did not blow up")
    return x.astype(np.float32, copy=False)


def _input_size(model) -> int | None:
    return model.inputs[0].shape[1]


def predict_proba(model, x, batch_size: int = 128) -> np.ndarray:
    """Class probabilities of samples.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`build_model`.
    x : array_like
        Samples (B, S, S, 3) or one (S, S, 3) (:func:`check_samples`).
    batch_size : int
        Samples per forward pass.

    Returns
    -------
    numpy.ndarray
        Probabilities (B, n_classes).

    Raises
    ------
    ValueError
        If the samples are not valid for the network (:func:`check_samples`).
    """
    x = check_samples(x, _input_size(model))
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(ops.softmax(logits, axis=-1))


def classify(model, class_names, x, batch_size: int = 128) -> np.ndarray:
    """Predicted class names of samples.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`build_model`.
    class_names : sequence of str
        The network's classes, in the order of its outputs.
    x : array_like
        Samples (B, S, S, 3) or one (S, S, 3).
    batch_size : int
        Samples per forward pass.

    Returns
    -------
    numpy.ndarray
        Class names (B,).

    Raises
    ------
    ValueError
        If the samples are not valid for the network (:func:`check_samples`).
    """
    return np.asarray(class_names)[predict_proba(model, x, batch_size).argmax(axis=1)]


def labels_to_indices(labels, class_names) -> np.ndarray:
    """Class names to indices into ``class_names``.

    Parameters
    ----------
    labels : array_like of str
        Class names (P,).
    class_names : sequence of str
        The model's classes.

    Returns
    -------
    numpy.ndarray
        int64 indices (P,).

    Raises
    ------
    ValueError
        For a name that is not among ``class_names``.
    """
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(np.asarray(labels).tolist()) - set(index))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the model's classes {list(class_names)}")
    return np.array([index[name] for name in np.asarray(labels).tolist()], dtype=np.int64)


SCHEDULES = networks.SCHEDULES


def train(
    x,
    y,
    x_val,
    y_val,
    *,
    class_names,
    out,
    epochs=600,
    batch_size=128,
    learning_rate=1e-3,
    patience=None,
    augment=True,
    seed=0,
    schedule="constant",
    verbose=2,
) -> dict:
    """Train the paper's network; writes into ``out`` and resumes an interrupted run there.

    Files written into ``out``:

    - ``model.weights.h5``: the weights of the best epoch (lowest validation loss);
    - ``model.json``: class names and input size, to rebuild the network;
    - ``history.csv``: per-epoch loss and accuracy (training and validation);
    - ``epoch_seconds.csv``: wall time of every epoch, summed over resumed runs by
      :func:`training_seconds`;
    - ``backup/``: Keras's BackupAndRestore state: rerun the same call after a kill.

    Parameters
    ----------
    x, x_val : array_like
        Training and validation samples (P, S, S, 3).
    y, y_val : array_like of int
        Their labels, indices into ``class_names`` (:func:`labels_to_indices`).
    class_names : sequence of str
        The classes, in the order of the network's outputs.
    out : path-like
        Directory of the run (created if needed).
    epochs : int
        Number of epochs.
    batch_size : int
        Samples per step.
    learning_rate : float
        Learning rate of Adam.
    patience : int, optional
        Epochs without improvement of the validation loss before stopping early (None: never).
    augment : bool
        Apply :func:`augmentation` during training.
    seed : int
        Seed of the weight initialisation, the shuffling and the augmentation. Keras draws the
        initial weights and the shuffling from global generators, so this calls
        ``keras.utils.set_random_seed(seed)``, which seeds Python's ``random``, NumPy's global
        generator and the backend's: the same call gives the same network, and the global
        generators of the calling process are reseeded.
    schedule : {"constant", "cosine"}
        The learning rate stays at ``learning_rate`` ("constant", the paper's) or decays along a
        half cosine to 1 % of it at the last epoch ("cosine"; the step count is part of the
        optimizer's state, so a resumed run continues it).
    verbose : int
        Verbosity of ``keras.Model.fit``.

    Returns
    -------
    dict
        The history as a dict of lists (:func:`read_history`).

    Raises
    ------
    ValueError
        If ``schedule`` is unknown, the samples are not valid, or the labels do not match the
        samples or the class names.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r}; allowed: {', '.join(map(repr, SCHEDULES))}")
    x = check_samples(x)
    x_val = check_samples(x_val, x.shape[1])
    y, y_val = np.asarray(y, dtype=np.int64), np.asarray(y_val, dtype=np.int64)
    if y.shape != (len(x),) or y_val.shape != (len(x_val),):
        raise ValueError(f"y and y_val must be 1-D with one label per sample; got {y.shape} and {y_val.shape}")
    n = len(class_names)
    if y.min() < 0 or max(y.max(), y_val.max()) >= n:
        raise ValueError(f"labels must lie in [0, {n - 1}] (one per class name)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    net = build_model(n, x.shape[1])
    inputs = keras.Input(x.shape[1:])
    trainer = keras.Model(inputs, net(augmentation(seed)(inputs) if augment else inputs), name="trainer")
    rate = learning_rate
    if schedule == "cosine":
        steps = epochs * -(-len(x) // batch_size)
        rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)
    trainer.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    write_json(out / "model.json", {"class_names": list(class_names), "size": int(x.shape[1])})
    callbacks = [
        _EpochTimer(out / "epoch_seconds.csv"),
        keras.callbacks.BackupAndRestore(str(out / "backup"), delete_checkpoint=False),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        _BestWeights(net, out / "model.weights.h5"),
    ]
    if patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience))
    trainer.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )
    return read_history(out / "history.csv")


class _EpochTimer(keras.callbacks.Callback):
    """Append each epoch's wall time (s) to a CSV file, so that resumed runs add up."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        with open(self.path, "a") as fh:
            fh.write(f"{epoch},{time.perf_counter() - self.start:.3f}\n")


def training_seconds(out) -> float | None:
    """Total wall time of the epochs of a training run.

    Parameters
    ----------
    out : path-like
        Directory of the run (:func:`train`).

    Returns
    -------
    float or None
        Seconds, an epoch redone after a kill counted once (None if it was not recorded).
    """
    path = Path(out) / "epoch_seconds.csv"
    if not path.exists():
        return None
    seconds = {}
    for line in path.read_text().split():
        epoch, sec = line.split(",")
        seconds[int(epoch)] = float(sec)  # an epoch redone after a kill counts once, the last time
    return round(sum(seconds.values()), 1)


def kept_epoch(out) -> dict:
    """The epoch whose weights a training run keeps (lowest validation loss) and its validation scores.

    Parameters
    ----------
    out : path-like
        Directory of the run (:func:`train`).

    Returns
    -------
    dict
        ``best_epoch`` (counted from 1), ``val_accuracy`` and ``val_loss`` of that epoch.

    Raises
    ------
    ValueError
        If the run records no kept epoch, or its history has no row for it.
    """
    out = Path(out)
    best = read_json(out / _BestWeights.RECORD, what="kept epoch of a training run")
    history = read_history(out / "history.csv")
    rows = [i for i, e in enumerate(history.get("epoch", [])) if int(e) == best["epoch"] - 1]
    if not rows:
        raise ValueError(f"{out}: history.csv has no row for the kept epoch {best['epoch']}")
    i = rows[-1]  # a resumed run appends its rows: the last one counts
    return dict(
        best_epoch=int(best["epoch"]),
        val_accuracy=float(history["val_accuracy"][i]),
        val_loss=float(history["val_loss"][i]),
    )


class _BestWeights(keras.callbacks.Callback):
    """Save the network's weights whenever the validation loss improves (survives a resume)."""

    #: The record of the kept epoch, beside the weights ``model.weights.h5`` of :func:`train`.
    RECORD = "model.weights.best.json"

    def __init__(self, net, path: Path):
        super().__init__()
        self.net, self.path = net, Path(path)
        self.best_path = self.path.with_name(self.RECORD)
        self.best = read_json(self.best_path)["val_loss"] if self.best_path.exists() else np.inf

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("val_loss", np.inf)
        if loss < self.best:
            self.best = float(loss)
            tmp = self.path.with_name("tmp." + self.path.name)
            self.net.save_weights(str(tmp))
            os.replace(tmp, self.path)
            write_json(self.best_path, {"val_loss": self.best, "epoch": epoch + 1}, indent=None)


def read_history(path) -> dict:
    """Read a CSVLogger history.

    Parameters
    ----------
    path : path-like
        The ``history.csv`` of a run.

    Returns
    -------
    dict
        Column name to a list of floats (one entry per epoch; a resumed run's rows appended).
    """
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


def load_model(directory) -> tuple[keras.Model, list[str]]:
    """Rebuild a network written by :func:`train` (or a shipped one).

    Parameters
    ----------
    directory : path-like
        Directory holding ``model.json`` and ``model.weights.h5``.

    Returns
    -------
    model : keras.Model
        The network with its weights.
    class_names : list of str
        Its classes, in the order of its outputs.
    """
    directory = Path(directory)
    meta = read_json(directory / "model.json", what="network description")
    model = build_model(len(meta["class_names"]), meta["size"])
    model.load_weights(str(directory / "model.weights.h5"))
    return model, list(meta["class_names"])


def embedding_heads(model) -> keras.Model:
    """The network with a second output: the activations of its embedding layer.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`build_model`.

    Returns
    -------
    keras.Model
        Maps samples to ``[embedding (B, 256), logits (B, C)]``, sharing the network's weights.

    Raises
    ------
    ValueError
        If the network has no layer named :data:`gslib.networks.EMBEDDING_LAYER`.
    """
    try:
        layer = model.get_layer(EMBEDDING_LAYER)
    except ValueError:
        raise ValueError(
            f"the network has no layer named {EMBEDDING_LAYER!r} (build it with gslib.cnn.build_model)"
        ) from None
    return keras.Model(model.inputs, [layer.output, model.outputs[0]], name="scan_heads")


#: The default cache of loaded networks (:class:`gslib.networks.NetworkCache`): one network at a time,
#: loaded by :func:`load_model` after its weights' checksum is checked, with its :func:`embedding_heads`.
#: The scan's chunks and the command line use it; pass another cache where more networks are needed.
NETWORKS = networks.NetworkCache(load_model, heads=embedding_heads, capacity=1)


def load_pretrained(name: str = "pass1") -> tuple[keras.Model, list[str]]:
    """The network trained at paper scale by this project's pipeline.

    Parameters
    ----------
    name : str
        One of :data:`PRETRAINED`.

    Returns
    -------
    model : keras.Model
        The network with its weights.
    class_names : list of str
        Its classes, in the order of its outputs.

    Raises
    ------
    ValueError
        If ``name`` is not a shipped network, or its weights are missing from the installation.
    """
    directory = pretrained_dir(name)
    if not (directory / "model.weights.h5").exists():
        raise ValueError(f"the shipped network {name!r} is missing from this installation ({directory})")
    return load_model(directory)


def evaluate(model, class_names, x, labels, batch_size: int = 128) -> dict:
    """Accuracy, confusion matrix and per-class precision and recall of a network.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`build_model`.
    class_names : sequence of str
        Its classes, in the order of its outputs.
    x : array_like
        Samples (P, S, S, 3).
    labels : array_like of str
        Their true class names (P,).
    batch_size : int
        Samples per forward pass.

    Returns
    -------
    dict
        ``accuracy``, ``n_samples``, ``class_names``, ``confusion`` (rows: true, columns:
        predicted), ``precision`` and ``recall`` per class (None for a class never predicted or
        never present).

    Raises
    ------
    ValueError
        For an unknown label or invalid samples.
    """
    y = labels_to_indices(labels, class_names)
    pred = predict_proba(model, x, batch_size).argmax(axis=1)
    n = len(class_names)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    tp = np.diag(confusion)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(actual > 0, tp / actual, np.nan)
    return dict(
        accuracy=float(tp.sum() / len(y)),
        n_samples=int(len(y)),
        class_names=list(class_names),
        confusion=confusion.tolist(),
        precision={c: (None if np.isnan(p) else float(p)) for c, p in zip(class_names, precision)},
        recall={c: (None if np.isnan(r) else float(r)) for c, r in zip(class_names, recall)},
    )


#: The files of a shipped network (see :func:`package`).
SHIPPED_FILES = (
    "model.weights.h5",
    "model.json",
    "history.csv",
    "evaluation_val.json",
    "evaluation_test.json",
    "provenance.json",
    "datasets.json",
)


def package(run, dest, *, train, val, test) -> dict:
    """Ship a training run: copy its weights and records from ``run`` into ``dest``, evaluate it on the
    ``test`` split (evaluation_test.json) and record how every split was made (datasets.json).

    Parameters
    ----------
    run : path-like
        Directory of a finished training run (:func:`train`, with its evaluation and provenance).
    dest : path-like
        Directory of the shipped network (created if needed).
    train, val, test : path-like
        Split directories (:func:`gslib.dataset.build_split`).

    Returns
    -------
    dict
        The test evaluation (:func:`evaluate`).

    Raises
    ------
    ValueError
        If ``run`` is not a finished training run, or a split cannot be loaded.
    """
    import shutil

    from .. import dataset

    run, dest = Path(run), Path(dest)
    missing = [name for name in SHIPPED_FILES[:4] + ("provenance.json",) if not (run / name).exists()]
    if missing:
        raise ValueError(
            f"{run} is not a finished training run (missing {', '.join(missing)}); run `gslib train` first"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("model.weights.h5", "model.json", "history.csv", "evaluation_val.json", "provenance.json"):
        shutil.copyfile(run / name, dest / name)
    model, names = load_model(dest)
    split = dataset.load_split(test)
    evaluation = evaluate(model, names, split.x, split.label)
    write_json(dest / "evaluation_test.json", evaluation)
    summary = {name: dataset.summarize(path) for name, path in (("train", train), ("val", val), ("test", test))}
    write_json(dest / "datasets.json", summary)
    return evaluation


def provenance(command: str, seconds: float, **extra) -> dict:
    """A provenance record of a training run.

    Parameters
    ----------
    command : str
        The command that made the run.
    seconds : float
        Its wall time.
    **extra
        Further entries of the record.

    Returns
    -------
    dict
        :func:`gslib.provenance.record` plus Keras version and backend.
    """
    from ..provenance import record

    return record(command, seconds, keras_version=keras.__version__, keras_backend=keras.backend.backend(), **extra)


# the attribution methods use the functions above; gslib.cnn.saliency and gslib.cnn.integrated_gradients
from .attribution import integrated_gradients, saliency  # noqa: E402, F401
