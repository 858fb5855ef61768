"""Classified scans as tables: a scan's chunks read back, shipped scans, and comparisons of two scans.

A scan directory (:func:`gslib.scan.run_scan`) is a :class:`gslib.store.ChunkStore` of format
``gsbook-scan``: ``chunk_NNNNN.npz`` with the arrays of consecutive points and ``manifest.json``.
:func:`load_scan_table` reads it back, checking every checksum and that the chunks tile the points
exactly once, in order. A shipped scan is one compact ``scan.npz`` in ``gslib/data/scans/<name>``
(:func:`gslib.scan.package_scan`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..store import ChunkStore, StoreKind, read_manifest
from .points import points_sha256

__all__ = [
    "FAILED",
    "FORMAT",
    "FORMAT_VERSION",
    "ScanComparison",
    "ScanTable",
    "compare_scans",
    "load_montage",
    "load_scan_table",
    "load_shipped_scan",
    "shipped_scan_dir",
]

FORMAT = "gsbook-scan"
FORMAT_VERSION = 1
#: The label of a point whose simulation blew up.
FAILED = "failed"
#: Scan directories as chunk stores.
SCAN_STORE = StoreKind(
    format=FORMAT,
    count="n_points",
    what="scan",
    other="a different scan",
    rerun="rerun `gslib scan` with the same --out",
    make="make one with `gslib scan`",
)


def _read_scan_manifest(out) -> dict | None:
    """The manifest of a scan directory, or None if it has none (ValueError if it holds something else)."""
    return read_manifest(out, SCAN_STORE)


def _entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of probabilities (NaN rows stay NaN)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    h = terms.sum(axis=-1)
    return np.where(np.isnan(p).any(axis=-1), np.nan, h)


@dataclass(frozen=True, eq=False)
class ScanTable:
    """A classified scan, one row per point in point order.

    Works as a mapping too: ``table["k"]``.

    Attributes
    ----------
    f, k : numpy.ndarray
        Rates (P,).
    label : numpy.ndarray
        Predicted class name (P,); ``"failed"`` where the run blew up.
    label_index : numpy.ndarray
        Index into class_names (P,); -1 where failed.
    probabilities : numpy.ndarray
        Class probabilities (P, C), float32; NaN where failed.
    entropy : numpy.ndarray
        Shannon entropy of the probabilities in nats (P,); NaN where failed.
    failed : numpy.ndarray
        (P,) bool.
    class_names : tuple of str
        The network's classes (C,).
    embedding : numpy.ndarray or None
        Activations of the layer "embedding" (P, 256), or None (not kept).
    seed : numpy.ndarray or None
        The seed of each point's initial condition (P,).
    contrast : numpy.ndarray or None
        Spatial standard deviation of u(T) (P,) (:func:`gslib.scan.pattern_measures`).
    motion : numpy.ndarray or None
        Mean ``|u(T) - u(T - 60)|`` (P,).
    meta : dict or None
        The manifest (a run) or the provenance record (a shipped scan).
    reference : dict or None
        Shipped reference embeddings for :func:`gslib.scan.flag_candidates`.
    """

    f: np.ndarray
    k: np.ndarray
    label: np.ndarray
    label_index: np.ndarray
    probabilities: np.ndarray
    entropy: np.ndarray
    failed: np.ndarray
    class_names: tuple
    embedding: np.ndarray | None = None
    seed: np.ndarray | None = None
    contrast: np.ndarray | None = None
    motion: np.ndarray | None = None
    meta: dict | None = None
    reference: dict | None = None

    def __len__(self) -> int:
        return len(self.f)

    def __getitem__(self, key: str):
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self.keys() and getattr(self, key) is not None

    def keys(self) -> tuple[str, ...]:
        return (
            "f",
            "k",
            "label",
            "label_index",
            "probabilities",
            "entropy",
            "failed",
            "embedding",
            "seed",
            "contrast",
            "motion",
        )

    @property
    def confidence(self) -> np.ndarray:
        """The largest class probability of each point (P,); NaN where failed."""
        return np.where(self.failed, np.nan, np.nan_to_num(self.probabilities, nan=0.0).max(axis=1))


def _labels(label_index, class_names) -> np.ndarray:
    names = np.array(list(class_names) + [FAILED])
    return names[np.where(label_index < 0, len(class_names), label_index)]


@dataclass(frozen=True, eq=False)
class ScanComparison:
    """The labels of two classifications of the same points (:func:`compare_scans`).

    Its properties: ``changed``, (P,) bool: the labels differ; ``transitions``,
    ``(before, after, points)`` for every pair of different labels, most points first;
    ``agreement``, the fraction of the points with the same label in both.

    Attributes
    ----------
    before, after : numpy.ndarray
        (P,) class names ("failed" where a run blew up).
    """

    before: np.ndarray
    after: np.ndarray

    @property
    def changed(self) -> np.ndarray:
        return self.before != self.after

    @property
    def agreement(self) -> float:
        return float(1.0 - self.changed.mean()) if len(self.before) else 1.0

    @property
    def transitions(self) -> list[tuple[str, str, int]]:
        changed = self.changed
        pairs = Counter(zip(self.before[changed].tolist(), self.after[changed].tolist()))
        return [(a, b, n) for (a, b), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))]

    def moved(self, before: str | None = None, after: str | None = None) -> np.ndarray:
        """(P,) bool: changed points whose label was ``before`` and became ``after`` (None: any)."""
        mask = self.changed
        if before is not None:
            mask &= self.before == before
        if after is not None:
            mask &= self.after == after
        return mask


def compare_scans(before, after) -> ScanComparison:
    """Compare the labels of two scans of the same points (e.g. by the pass-1 and the pass-2 network).

    Parameters
    ----------
    before, after : ScanTable or mapping
        Scans (or mappings with ``f``, ``k``, ``label``) of the same points in the same order.

    Returns
    -------
    ScanComparison
        The two label arrays and their differences.

    Raises
    ------
    ValueError
        If the two scans do not hold the same points in the same order.
    """
    f0, k0 = np.asarray(before["f"], dtype=np.float64), np.asarray(before["k"], dtype=np.float64)
    f1, k1 = np.asarray(after["f"], dtype=np.float64), np.asarray(after["k"], dtype=np.float64)
    if f0.shape != f1.shape:
        raise ValueError(f"after: {len(f1)} points, but before has {len(f0)}; compare scans of the same points")
    bad = np.flatnonzero((np.abs(f0 - f1) > 1e-12) | (np.abs(k0 - k1) > 1e-12))
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"after: point {i} is (f, k) = ({f1[i]:g}, {k1[i]:g}), but ({f0[i]:g}, {k0[i]:g}) in "
            "before; compare scans of the same points in the same order"
        )
    return ScanComparison(before=np.asarray(before["label"]).astype(str), after=np.asarray(after["label"]).astype(str))


def load_scan_table(out_dir, *, verify: bool = True, embedding: bool = True) -> ScanTable:
    """Load a finished scan written by :func:`gslib.scan.run_scan`.

    Parameters
    ----------
    out_dir : path-like
        Directory of the scan.
    verify : bool
        Check every chunk's SHA-256 checksum.
    embedding : bool
        Load the embedding-layer activations too.

    Returns
    -------
    ScanTable
        One row per point, in point order; ``meta`` is the manifest.

    Raises
    ------
    ValueError
        If the directory holds no scan, or the scan is incomplete or corrupt.
    """
    out = Path(out_dir)
    store = ChunkStore.open(out, SCAN_STORE)
    store.require_complete()
    manifest, P = store.manifest, store.n_items
    keys = ["index", "f", "k", "seed", "label_index", "probabilities", "entropy", "failed"] + (
        ["embedding"] if embedding else []
    )
    parts = {key: [] for key in keys}
    for i in range(store.n_chunks):
        arrays = store.read(i, keys, optional=("contrast", "motion"), verify=verify)
        start, stop = store.span(i)
        if not np.array_equal(arrays["index"], np.arange(start, stop)):
            raise ValueError(f"{store.path(i)} does not hold points {start}-{stop - 1}")
        for key in arrays:
            parts.setdefault(key, []).append(arrays[key])
    n_chunks = store.n_chunks
    # contrast and motion: scans made before gslib recorded them lack them
    arrays = {key: np.concatenate(value) for key, value in parts.items() if len(value) == n_chunks}
    if len(arrays["index"]) != P or points_sha256(f=arrays["f"], k=arrays["k"]) != manifest["points_sha256"]:
        raise ValueError(f"{out}: the chunks do not hold the scan's {P} points")
    names = tuple(manifest["model"]["class_names"])
    return ScanTable(
        f=arrays["f"],
        k=arrays["k"],
        label=_labels(arrays["label_index"], names),
        label_index=arrays["label_index"],
        probabilities=arrays["probabilities"],
        entropy=arrays["entropy"],
        failed=arrays["failed"],
        class_names=names,
        embedding=arrays.get("embedding"),
        seed=arrays["seed"],
        contrast=arrays.get("contrast"),
        motion=arrays.get("motion"),
        meta=manifest,
    )


def shipped_scan_dir(name: str) -> Path:
    """Directory of a shipped scan.

    Parameters
    ----------
    name : str
        The scan's name (such as ``"pass1"``), no path separators.

    Returns
    -------
    pathlib.Path
        ``gslib/data/scans/<name>/`` (scan.npz, provenance.json) inside the installed package.

    Raises
    ------
    ValueError
        If ``name`` is not a scan name.
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"{name!r} is not a scan name (such as 'pass1')")
    return Path(str(resources.files("gslib").joinpath(f"data/scans/{name}")))


def _shipped_scans() -> list[str]:
    root = Path(str(resources.files("gslib").joinpath("data/scans")))
    return sorted(p.name for p in root.iterdir() if (p / "scan.npz").is_file()) if root.is_dir() else []


def load_shipped_scan(name: str = "pass1") -> ScanTable:
    """The paper-scale scan shipped with gslib (made by ``gslib scan`` and :func:`gslib.scan.package_scan`).

    Reads ``gslib/data/scans/<name>/scan.npz`` (k, f, label, probabilities, ...) and provenance.json
    (into ``meta``); ``reference.npz``, when shipped, fills ``reference`` (training and validation
    embeddings for :func:`gslib.scan.flag_candidates`).

    Parameters
    ----------
    name : str
        The scan's name.

    Returns
    -------
    ScanTable
        The scan.

    Raises
    ------
    ValueError
        If the scan is not shipped.
    """
    directory = shipped_scan_dir(name)
    file = directory / "scan.npz"
    if not file.is_file():
        available = ", ".join(_shipped_scans()) or "none yet"
        raise ValueError(
            f"no shipped scan {name!r} in this installation ({file} is missing; shipped: {available}); "
            "make one with `gslib scan --scale paper` and `gslib package-scan`"
        )
    with np.load(file, allow_pickle=False) as data:
        d = {key: data[key] for key in data.files}
    names = tuple(d["class_names"].tolist())
    label_index = d["label_index"] if "label_index" in d else _indices(d["label"], names)
    probabilities = d["probabilities"].astype(np.float32)
    failed = d["failed"] if "failed" in d else label_index < 0
    meta_file = directory / "provenance.json"
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else None
    reference = None
    if (directory / "reference.npz").is_file():
        with np.load(directory / "reference.npz", allow_pickle=False) as data:
            reference = {key: data[key] for key in data.files}
    return ScanTable(
        f=d["f"].astype(np.float64),
        k=d["k"].astype(np.float64),
        label=d["label"],
        label_index=label_index,
        probabilities=probabilities,
        entropy=d["entropy"] if "entropy" in d else _entropy(probabilities).astype(np.float32),
        failed=failed,
        class_names=names,
        embedding=d["embedding"].astype(np.float32) if "embedding" in d else None,
        seed=d.get("seed"),
        contrast=d.get("contrast"),
        motion=d.get("motion"),
        meta=meta,
        reference=reference,
    )


def load_montage(name: str = "pass1") -> dict:
    """Example patterns per predicted class of a shipped scan (``montage.npz``, see :func:`gslib.scan.montage_samples`).

    Parameters
    ----------
    name : str or pathlib.Path
        A shipped scan's name, or a directory written by :func:`gslib.scan.package_scan`.

    Returns
    -------
    dict
        The arrays of ``montage.npz``.

    Raises
    ------
    ValueError
        If there is no montage.
    """
    directory = Path(name) if isinstance(name, Path) or os.sep in str(name) else shipped_scan_dir(name)
    file = directory / "montage.npz"
    if not file.is_file():
        raise ValueError(
            f"no montage for scan {name!r} ({file} is missing); package the scan with "
            "`gslib package-scan --samples DIR`"
        )
    with np.load(file, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _indices(labels, names) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    return np.array([index.get(label, -1) for label in np.asarray(labels).tolist()], dtype=np.int32)
