"""Shipping a scan: the compact ``scan.npz``, reference embeddings, a montage of example patterns, provenance.

:func:`package_scan` turns a finished scan directory into the files of ``gslib/data/scans/<name>``
that :func:`gslib.scan.load_shipped_scan` and :func:`gslib.scan.load_montage` read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import provenance
from .._jsonio import read_json, write_json
from ..store import sha256_file, write_npz
from .points import points_sha256
from .run import SampleStore
from .table import ScanTable, _read_scan_manifest, load_scan_table

__all__ = ["montage_samples", "package_scan", "update_reference"]


def _open_store(table: ScanTable, samples) -> SampleStore:
    """The existing sample store of a scan's table; ValueError if absent or made for other points."""
    store = SampleStore.existing(samples)
    header = store.manifest
    chunk_size = (table.meta or {}).get("chunk_size")
    if header.get("points_sha256") != points_sha256(f=table.f, k=table.k) or (
        chunk_size is not None and header.get("chunk_size") != chunk_size
    ):
        raise ValueError(f"samples: {samples} holds the samples of another scan")
    return store


def montage_samples(table: ScanTable, samples, per_class: int = 8) -> dict:
    """Example patterns of every predicted class from a scan's :class:`SampleStore` directory ``samples``.

    For each class, ``per_class`` points spread over its confidence ranks (from the most confident down
    to the least), one per distinct (k, f).

    Parameters
    ----------
    table : ScanTable
        The scan.
    samples : path-like
        Its :class:`SampleStore` directory.
    per_class : int
        Example patterns per class.

    Returns
    -------
    dict
        Arrays: u (n, S, S) uint8 (u at the last snapshot, 255 u rounded), index (n,) into the
        scan, k, f, label, confidence (n,).

    Raises
    ------
    ValueError
        If the store does not match the scan or a chunk is missing or corrupt.
    """
    return _montage(table, _open_store(table, samples), per_class)


def _montage(table: ScanTable, store: SampleStore, per_class: int) -> dict:
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class={per_class!r} must be a positive integer")
    chosen = []
    confidence = table.confidence
    for name in table.class_names:
        members = np.flatnonzero((table.label == name) & ~table.failed)
        members = members[np.argsort(-confidence[members], kind="stable")]
        _, first = np.unique(
            np.round(np.stack([table.k[members], table.f[members]], axis=1), 9), axis=0, return_index=True
        )
        members = members[np.sort(first)]  # one point per (k, f), still by confidence
        if len(members):
            picks = np.unique(np.linspace(0, len(members) - 1, min(per_class, len(members))).round().astype(int))
            chosen.extend(members[picks].tolist())
    size = store.manifest["chunk_size"]
    last = {}  # point -> u(T), each stored chunk read once
    for c in sorted({i // size for i in chosen}):
        x = store.require(c)[0]
        last.update({i: x[i - c * size, :, :, -1] for i in chosen if i // size == c})
    index = np.array(chosen, dtype=np.int64)
    return dict(
        u=np.stack([np.clip(np.rint(255 * last[i]), 0, 255).astype(np.uint8) for i in chosen]),
        index=index,
        k=table.k[index],
        f=table.f[index],
        label=table.label[index],
        confidence=confidence[index].astype(np.float32),
    )


def _runs_summary(manifest: dict) -> dict:
    """Commands, wall time, simulation and classification time, backends, machines of a scan manifest."""
    chunks = list(manifest["chunks"].values())
    return dict(
        commands=[r["command"] for r in manifest["runs"] if r.get("command")],
        wall_seconds=round(sum(r["wall_seconds"] or 0 for r in manifest["runs"]), 1),
        simulate_seconds=round(sum(c["seconds_simulate"] for c in chunks), 1),
        classify_seconds=round(sum(c["seconds_classify"] for c in chunks), 1),
        backends=sorted({c["backend"] for c in chunks}),
        machines=sorted({c["machine"] for c in chunks}),
        finished=max(c["created"] for c in chunks),
    )


def _simulation_record(scan_dir, table: ScanTable) -> dict:
    """How another scan of the same points, seeds and recipe simulated the samples that ``table`` classified."""
    other = _read_scan_manifest(Path(scan_dir))
    m = table.meta
    if other is None or not other.get("complete"):
        raise ValueError(f"simulated_by: {scan_dir} holds no finished scan")
    same = ("n_points", "points_sha256", "seed_base", "recipe")
    if any(other.get(key) != m.get(key) for key in same):
        raise ValueError(f"simulated_by: {scan_dir} scanned other points, seeds or another recipe")
    summary = _runs_summary(other)
    del summary["classify_seconds"]
    return dict(scan=str(scan_dir), **summary, network=other["model"])


def package_scan(
    scan_dir,
    dest,
    *,
    embedding: bool = True,
    reference: dict | None = None,
    samples=None,
    per_class: int = 8,
    simulated_by=None,
    command: str | None = None,
    note: str | None = None,
) -> dict:
    """Ship a finished scan: write ``dest/scan.npz`` (compact) and ``dest/provenance.json``.

    scan.npz holds k, f, label, label_index, probabilities (float32), entropy, failed, seed, class_names
    and, with ``embedding``, the embeddings as float16 (2.8 MB before compression for the paper's 5481 points).

    Parameters
    ----------
    scan_dir : path-like
        Directory of a finished scan (:func:`gslib.scan.run_scan`).
    dest : path-like
        Directory of the shipped scan (created if needed).
    embedding : bool
        Ship the embeddings.
    reference : dict, optional
        Arrays for :func:`gslib.scan.flag_candidates` (e.g. train_embedding, train_label, val_embedding,
        val_probabilities), written to reference.npz.
    samples : path-like, optional
        The scan's :class:`SampleStore` directory; writes montage.npz, ``per_class`` example
        patterns of every predicted class (:func:`montage_samples`), computes contrast and motion
        from the samples if the scan lacks them, and records how the samples were made.
    per_class : int
        Example patterns per predicted class in the montage.
    simulated_by : path-like, optional
        The directory of the scan that simulated those samples, when this one only classified
        them (its commands, wall time and machines go into the record as ``simulation``).
    command : str, optional
        The command recorded (default: the equivalent ``gslib package-scan`` command).
    note : str, optional
        A remark for the record.

    Returns
    -------
    dict
        The provenance record (also written to ``dest/provenance.json``).

    Raises
    ------
    ValueError
        If the scan is missing, incomplete or corrupt, the sample store does not match it, or
        ``simulated_by`` holds no finished scan of the same points, seeds and recipe.
    """
    table = load_scan_table(scan_dir, embedding=embedding)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    arrays = dict(
        k=table.k,
        f=table.f,
        label=table.label,
        label_index=table.label_index,
        probabilities=table.probabilities.astype(np.float32),
        entropy=table.entropy.astype(np.float32),
        failed=table.failed,
        seed=table.seed,
        class_names=np.array(table.class_names),
    )
    arrays.update({key: table[key] for key in ("contrast", "motion") if key in table})
    store = _open_store(table, samples) if samples is not None else None
    if store is not None and "contrast" not in arrays:
        arrays["contrast"], arrays["motion"] = store.measures()
    if embedding:
        arrays["embedding"] = table.embedding.astype(np.float16)
    write_npz(dest / "scan.npz", arrays)
    if reference is not None:
        write_npz(dest / "reference.npz", {key: np.asarray(value) for key, value in reference.items()})
    if store is not None:
        write_npz(dest / "montage.npz", _montage(table, store, per_class))
    m = table.meta
    runs = _runs_summary(m)
    record = provenance.record(
        command or f"gslib package-scan --scan {scan_dir} --dest {dest}",
        seconds=runs["wall_seconds"],
        scan_commands=runs["commands"],
        n_points=m["n_points"],
        recipe=m["recipe"],
        seed_base=m["seed_base"],
        model=m["model"],
        n_failed=int(table.failed.sum()),
        simulate_seconds=runs["simulate_seconds"],
        classify_seconds=runs["classify_seconds"],
        backends=runs["backends"],
        machines=runs["machines"],
        scan_gslib_version=m["gslib_version"],
        scan_finished=runs["finished"],
        **({"samples": store.summary()} if store is not None else {}),
        **({"note": note} if note else {}),
        **({"simulation": _simulation_record(simulated_by, table)} if simulated_by is not None else {}),
        sha256={
            name: sha256_file(dest / name)
            for name in ("scan.npz", "reference.npz", "montage.npz")
            if (dest / name).is_file()
        },
    )
    write_json(dest / "provenance.json", record)
    return record


def update_reference(dest, *, train, val, command: str | None = None) -> dict:
    """Add to a shipped scan's ``reference.npz`` the motion indices of its splits, keeping everything else.

    ``train_motion`` and ``val_motion`` (:func:`~gslib.scan.discovery.motion_index` of the
    patterns, for the criterion "motion" of :func:`~gslib.scan.flag_candidates`) need no network,
    so a scan shipped before gslib wrote them gets them without being packaged again: its scan,
    embeddings and montage stay byte for byte. The update is recorded in ``provenance.json``
    (``reference_updates``, and the new checksum).

    Parameters
    ----------
    dest : path-like
        The shipped scan's directory (with reference.npz).
    train, val : path-like or gslib.dataset.Split
        The splits whose embeddings the reference holds (their labels must match it).
    command : str, optional
        The command recorded.

    Returns
    -------
    dict
        The updated provenance record.

    Raises
    ------
    ValueError
        If ``dest`` has no reference.npz, or a split is not the one the reference was made from.
    """
    from .. import dataset
    from .discovery import motion_index
    from .run import pattern_measures

    dest = Path(dest)
    file = dest / "reference.npz"
    if not file.is_file():
        raise ValueError(f"{dest} has no reference.npz (package the scan with --train and --val first)")
    with np.load(file, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for name, split in (("train", train), ("val", val)):
        split = split if isinstance(split, dataset.Split) else dataset.load_split(split)
        if f"{name}_label" in arrays and not np.array_equal(arrays[f"{name}_label"], split.label):
            raise ValueError(f"{name}: not the {name} split whose embeddings {file} holds (the labels differ)")
        arrays[f"{name}_motion"] = motion_index(*pattern_measures(split.x)).astype(np.float32)
    write_npz(file, arrays)
    record = read_json(dest / "provenance.json") if (dest / "provenance.json").is_file() else {}
    update = provenance.record(command or "gslib.scan.update_reference", added=["train_motion", "val_motion"])
    record.setdefault("reference_updates", []).append(update)
    record.setdefault("sha256", {})["reference.npz"] = sha256_file(file)
    write_json(dest / "provenance.json", record)
    return record
