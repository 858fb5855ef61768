"""A scan's network and its reference patterns: what `gslib flag` and `gslib package-scan` run.

The search for new classes compares the scan's embeddings with those of the training and
validation patterns, computed by the network that made the scan. These functions load that
network (checking its weights against the checksum the scan recorded), classify the splits with
it, and run :func:`~gslib.scan.discovery.flag_candidates` on a scan directory in one call.
"""

from __future__ import annotations

import numpy as np

from .. import networks
from .discovery import Candidates, flag_candidates, motion_index
from .run import classify_samples, pattern_measures
from .table import ScanTable, load_scan_table, load_shipped_scan

__all__ = [
    "scan_network",
    "classify_splits",
    "reference_embeddings",
    "flag_scan",
    "flag_shipped",
    "flag_with_reference",
]


def _table(scan) -> ScanTable:
    return scan if isinstance(scan, ScanTable) else load_scan_table(scan, embedding=False)


def scan_network(scan, *, model=None, cache=None):
    """The network that made a scan, loaded.

    Parameters
    ----------
    scan : ScanTable, str or path-like
        The scan (a table, or its directory).
    model : str or path-like, optional
        The network to load instead of the recorded one (a shipped name or a `gslib train`
        directory); its weights must be those the scan recorded.
    cache : gslib.networks.NetworkCache, optional
        Where loaded networks are kept (default :data:`gslib.cnn.NETWORKS`).

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        If the network cannot be found, or its weights are not those that made the scan.
    gslib.MissingExtraError
        Without Keras (``pip install 'gslib[cnn]'``).
    """
    table = _table(scan)
    recorded = table.meta["model"]
    ref = networks.resolve(model if model is not None else recorded["ref"])
    if ref.weights_sha256 != recorded["weights_sha256"]:
        where = "this scan" if isinstance(scan, ScanTable) else str(scan)
        raise ValueError(
            f"model {ref.ref!r} is not the network that made the scan in {where} "
            f"(weights checksum {ref.weights_sha256[:12]}..., the scan used "
            f"{recorded['weights_sha256'][:12]}...)"
        )
    if cache is None:
        from .. import cnn  # Keras 3, or gslib.MissingExtraError naming the extra that adds it

        cache = cnn.NETWORKS
    network, _ = cache.load(ref)
    return network


def classify_splits(network, **splits) -> dict:
    """Probabilities, embeddings and labels of dataset splits, classified by one network.

    Parameters
    ----------
    network : keras.Model
        A network of :func:`gslib.cnn.build_model`.
    **splits : str, path-like or gslib.dataset.Split
        Named splits (directories of `gslib dataset`, or loaded splits).

    Returns
    -------
    dict
        ``name -> {"probabilities", "embedding", "label", "motion"}`` (``motion``: the patterns'
        :func:`~gslib.scan.discovery.motion_index`, which needs no network).
    """
    from .. import dataset

    out = {}
    for name, split in splits.items():
        split = split if isinstance(split, dataset.Split) else dataset.load_split(split)
        probabilities, embedding = classify_samples(network, split.x)
        motion = motion_index(*pattern_measures(split.x)).astype(np.float32)
        out[name] = dict(probabilities=probabilities, embedding=embedding, label=split.label, motion=motion)
    return out


def reference_embeddings(scan, *, train, val, model=None) -> dict:
    """The reference arrays a shipped scan carries (``reference.npz`` of :func:`package_scan`).

    Parameters
    ----------
    scan : ScanTable, str or path-like
        The scan; its network classifies the splits.
    train, val : str, path-like or gslib.dataset.Split
        The training and validation splits of that network.
    model : str or path-like, optional
        As in :func:`scan_network`.

    Returns
    -------
    dict
        ``train_embedding`` (float16), ``train_label``, ``train_probabilities``, ``train_motion``
        and the same for ``val``.
    """
    found = _reference_arrays(classify_splits(scan_network(scan, model=model), train=train, val=val))
    return {key: value.astype(np.float16) if key.endswith("_embedding") else value for key, value in found.items()}


def _reference_arrays(found: dict) -> dict:
    """The arrays of :func:`classify_splits` under the names of reference.npz (``train_embedding``, ...)."""
    return {f"{name}_{key}": value for name, arrays in found.items() for key, value in arrays.items()}


def flag_scan(scan, *, train, val, model=None, **options) -> Candidates:
    """Flag the points of a scan that may show a class the network was never taught.

    Loads the scan and the network that made it, classifies the training and validation splits
    with it, and runs :func:`~gslib.scan.discovery.flag_candidates` with the validation patterns
    as calibration.

    Parameters
    ----------
    scan : ScanTable, str or path-like
        The scan (with its embeddings).
    train, val : str, path-like or gslib.dataset.Split
        The training and validation splits of the scan's network.
    model : str or path-like, optional
        As in :func:`scan_network`.
    **options
        Further keywords of :func:`~gslib.scan.discovery.flag_candidates` (``method``,
        ``quantile``, ``criteria``, ``min_size``, ``order``, ...).

    Returns
    -------
    Candidates
    """
    table = scan if isinstance(scan, ScanTable) else load_scan_table(scan)
    found = classify_splits(scan_network(table, model=model), train=train, val=val)
    return flag_with_reference(table, _reference_arrays(found), **options)


def flag_shipped(scan="pass1", **options) -> Candidates:
    """Flag the points of a shipped scan with the reference arrays it carries: no network, no splits.

    The same as :func:`~gslib.scan.discovery.flag_candidates` with the scan's ``reference``
    (``reference.npz`` of :func:`~gslib.scan.package_scan`) as training and validation patterns,
    including their motion indices where the reference holds them.

    Parameters
    ----------
    scan : str or ScanTable, optional
        A shipped scan's name (default ``"pass1"``) or a table of :func:`load_shipped_scan`.
    **options
        Further keywords of :func:`~gslib.scan.discovery.flag_candidates` (``criteria``,
        ``method``, ``extent_weight``, ``order``, ...).

    Returns
    -------
    Candidates

    Raises
    ------
    ValueError
        If the scan carries no reference, or the criterion "motion" is asked of a reference
        without motion indices (``gslib package-scan --update-reference`` adds them).
    """
    table = scan if isinstance(scan, ScanTable) else load_shipped_scan(scan)
    ref = table.reference
    if ref is None:
        raise ValueError("this scan carries no reference patterns (package it with --train and --val)")
    return flag_with_reference(table, ref, **options)


def flag_with_reference(table, reference: dict, **options) -> Candidates:
    """:func:`~gslib.scan.discovery.flag_candidates` with the training and validation patterns of a reference.

    Parameters
    ----------
    table : ScanTable or mapping
        The scan, or any table of patterns (k, f, embedding, probabilities, contrast, motion).
    reference : dict
        Arrays as in ``reference.npz`` (:func:`reference_embeddings`): ``train_embedding``,
        ``train_label``, ``val_embedding``, ``val_probabilities``, ``val_label`` and, for the
        criterion "motion", ``train_motion`` and ``val_motion``.
    **options
        Further keywords of :func:`~gslib.scan.discovery.flag_candidates`.

    Returns
    -------
    Candidates
    """
    motion = {key: reference[key] for key in ("train_motion", "val_motion") if key in reference}
    return flag_candidates(
        table,
        reference["train_embedding"],
        reference["train_label"],
        val_embeddings=reference["val_embedding"],
        val_probabilities=reference["val_probabilities"],
        val_labels=reference["val_label"],
        **{**motion, **options},
    )
