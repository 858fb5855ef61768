"""The registry of trained networks: the shipped ones, a network's identity, and a cache of loaded networks.

A network is a directory with ``model.json`` (class names, input size) and ``model.weights.h5``,
written by ``gslib train`` (:func:`gslib.cnn.train`); :data:`SHIPPED` names those that come with
gslib, in ``gslib/data/pretrained/<name>``. :func:`resolve` turns a shipped name or a directory
into a :class:`NetworkRef` without loading anything (no framework needed), and a
:class:`NetworkCache` loads networks once, after checking that their weights are the ones a
reference names; :data:`gslib.cnn.NETWORKS` is the default cache.
"""

from __future__ import annotations

import os
import platform
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ._jsonio import read_json
from ._validate import check_int
from .store import sha256_file

__all__ = ["EMBEDDING_LAYER", "SCHEDULES", "SHIPPED", "NetworkCache", "NetworkRef", "pretrained_dir", "resolve"]

#: The networks shipped with gslib (directories of gslib/data/pretrained).
SHIPPED = ("pass1", "pass2")
#: The layer whose activations are a network's embedding (Dense 256, ReLU).
EMBEDDING_LAYER = "embedding"
#: The learning-rate schedules of :func:`gslib.cnn.train`.
SCHEDULES = ("constant", "cosine")
_WEIGHTS, _META = "model.weights.h5", "model.json"


def pretrained_dir(name: str) -> Path:
    """Directory of a shipped network and its records (history, evaluation, provenance).

    Parameters
    ----------
    name : str
        One of :data:`SHIPPED`.

    Returns
    -------
    pathlib.Path
        The directory inside the installed package.

    Raises
    ------
    ValueError
        If ``name`` is not a shipped network.
    """
    if name not in SHIPPED:
        raise ValueError(f"{name!r} is not a shipped network; allowed: {', '.join(SHIPPED)}")
    return Path(str(resources.files("gslib").joinpath(f"data/pretrained/{name}")))


@dataclass(frozen=True)
class NetworkRef:
    """A network's identity, read from its directory without loading it (:func:`resolve`).

    Attributes
    ----------
    ref : str
        How it was named: a shipped name or the directory as given.
    directory : str
        Its directory, absolute.
    class_names : tuple of str
        Its classes, in the order of its outputs.
    size : int or None
        Its input side (None: any).
    weights_sha256 : str
        SHA-256 of ``model.weights.h5``.
    """

    ref: str
    directory: str
    class_names: tuple
    size: int | None
    weights_sha256: str

    def record(self) -> dict:
        """The entry a scan's manifest keeps of its network: ref, weights_sha256, class_names, size.

        Returns
        -------
        dict
        """
        return dict(
            ref=self.ref, weights_sha256=self.weights_sha256, class_names=list(self.class_names), size=self.size
        )


def resolve(model) -> NetworkRef:
    """The identity of a network: a shipped name or a directory written by ``gslib train``.

    Parameters
    ----------
    model : str, path-like or NetworkRef
        A name of :data:`SHIPPED` (no path separator) or a directory with ``model.json`` and
        ``model.weights.h5``; a NetworkRef is returned as it is.

    Returns
    -------
    NetworkRef
        Its directory, classes, input size and weights checksum.

    Raises
    ------
    ValueError
        If ``model`` is neither a shipped network nor such a directory.
    """
    if isinstance(model, NetworkRef):
        return model
    text = str(model)
    if "/" not in text and os.sep not in text and text in SHIPPED:
        directory = pretrained_dir(text)
    else:
        directory = Path(text)
    if not (directory / _META).is_file() or not (directory / _WEIGHTS).is_file():
        raise ValueError(
            f"model {text!r} is neither a shipped network ({', '.join(SHIPPED)}) "
            f"nor a directory with {_META} and {_WEIGHTS} (written by `gslib train`)"
        )
    meta = read_json(directory / _META, what="network description")
    try:
        names = tuple(str(name) for name in meta["class_names"])
    except (KeyError, TypeError):
        raise ValueError(f"{directory / _META} lists no class_names") from None
    return NetworkRef(
        ref=text,
        directory=str(directory.resolve()),
        class_names=names,
        size=meta.get("size"),
        weights_sha256=sha256_file(directory / _WEIGHTS),
    )


class NetworkCache:
    """Loaded networks, at most ``capacity`` of them (the least recently used is dropped first).

    A network is loaded on first use, after checking that the weights on disk are those its
    reference names; later uses get the same objects.

    Parameters
    ----------
    loader : callable
        ``loader(directory)`` loads the network in a directory, e.g. :func:`gslib.cnn.load_model`
        (returns ``(model, class_names)``).
    heads : callable, optional
        ``heads(model)`` makes a derived network kept with each loaded one (e.g. the network with
        its embedding as a second output, :func:`gslib.cnn.embedding_heads`), for :meth:`heads`.
    capacity : int
        How many networks are kept, >= 1.

    Raises
    ------
    ValueError
        If ``capacity`` is not a positive integer or ``loader`` is not callable.
    """

    def __init__(self, loader, *, heads=None, capacity: int = 1):
        if not callable(loader) or (heads is not None and not callable(heads)):
            raise ValueError("loader (and heads, when given) must be callables taking one argument")
        self.capacity = check_int("capacity", capacity, minimum=1)
        self._loader, self._make_heads = loader, heads
        self._entries: OrderedDict = OrderedDict()

    def _entry(self, model) -> dict:
        ref = resolve(model)
        key = (ref.directory, ref.weights_sha256)
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        found = sha256_file(Path(ref.directory) / _WEIGHTS)
        if found != ref.weights_sha256:
            raise ValueError(
                f"the network in {ref.directory} on {platform.node()} is not the one expected "
                f"(weights checksum {found[:12]}..., expected {ref.weights_sha256[:12]}...)"
            )
        while len(self._entries) >= self.capacity:
            self._entries.popitem(last=False)
        entry = self._entries[key] = dict(loaded=self._loader(ref.directory))
        return entry

    def load(self, model):
        """The loaded network.

        Parameters
        ----------
        model : NetworkRef, str or path-like
            The network (a reference, or what :func:`resolve` takes).

        Returns
        -------
        object
            What the loader returns (for :data:`gslib.cnn.NETWORKS`: ``(model, class_names)``).

        Raises
        ------
        ValueError
            If the network cannot be resolved, or its weights on disk are not those of the reference.
        """
        return self._entry(model)["loaded"]

    def heads(self, model):
        """The derived network of ``model`` (made by ``heads`` once, kept with the network).

        Parameters
        ----------
        model : NetworkRef, str or path-like
            The network.

        Returns
        -------
        object
            ``heads(loaded model)``.

        Raises
        ------
        ValueError
            As :meth:`load`, or if the cache has no ``heads`` callable.
        """
        if self._make_heads is None:
            raise ValueError("this cache makes no derived networks (give heads= when creating it)")
        entry = self._entry(model)
        if "heads" not in entry:
            loaded = entry["loaded"]
            entry["heads"] = self._make_heads(loaded[0] if isinstance(loaded, tuple) else loaded)
        return entry["heads"]

    def clear(self) -> None:
        """Drop every loaded network."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, model) -> bool:
        ref = resolve(model)
        return (ref.directory, ref.weights_sha256) in self._entries
