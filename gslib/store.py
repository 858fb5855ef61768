"""Resumable, checksummed chunk stores: the one on-disk layout of datasets, scans and kept samples.

A *store* is a directory of NumPy ``.npz`` files (plain arrays, no pickle) and one ``manifest.json``:

* the manifest holds a *header* (what the store holds: its ``format``, the number of items under
  a key such as ``n_points``, the ``chunk_size`` and whatever else defines it) and ``chunks``, one
  entry per finished chunk file ``chunk_NNNNN.npz`` with its SHA-256 checksum;
* item ``j`` lies in chunk ``j // chunk_size``: the chunks tile the items exactly once, in order;
* every file is written atomically (a temporary file, ``fsync``, a rename): a chunk first, then the
  manifest that lists it. A job killed at any moment (even ``kill -9``) leaves each file old or new,
  and a chunk that was written but never listed is simply computed again;
* a store opened again with the same header resumes: :meth:`ChunkStore.pending` keeps the chunks
  whose checksum matches and returns the missing or corrupt ones; a store made with another header
  is refused with a ValueError that lists the entries that differ.

:class:`StoreKind` holds the words of one kind of store (dataset, scan, samples) for its messages;
:class:`DirectoryLock` keeps two processes from writing one store at once.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import provenance
from ._jsonio import write_bytes_atomic, write_json

__all__ = [
    "MANIFEST",
    "ChunkStore",
    "DirectoryLock",
    "StoreKind",
    "chunk_name",
    "differing",
    "read_manifest",
    "sha256_file",
    "write_npz",
]

#: File name of a store's manifest.
MANIFEST = "manifest.json"


def sha256_file(path) -> str:
    """SHA-256 hex digest of a file.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    str
        The hex digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def chunk_name(i: int) -> str:
    """File name of chunk ``i`` of a store.

    Parameters
    ----------
    i : int
        Chunk index.

    Returns
    -------
    str
        ``chunk_{i:05d}.npz``.
    """
    return f"chunk_{i:05d}.npz"


def write_npz(path, arrays: dict) -> str:
    """Write arrays to a compressed ``.npz`` file atomically (temporary file, ``fsync``, rename).

    Parameters
    ----------
    path : path-like
        The target file; its folder is created.
    arrays : dict
        Name to array (plain numeric or string arrays: they are read back without pickle).

    Returns
    -------
    str
        The SHA-256 hex digest of the written file.
    """
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    data = buffer.getvalue()
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def _lookup(record: dict, key: str):
    value = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def differing(old: dict, new: dict, keys) -> list[str]:
    """The keys whose values differ between two manifests.

    Parameters
    ----------
    old, new : dict
        Two manifests (or headers).
    keys : iterable of str
        Entries to compare; a dotted key ``"model.weights_sha256"`` reaches into a nested entry.
        A missing entry counts as None.

    Returns
    -------
    list of str
        The keys that differ, in the order given.
    """
    return [key for key in keys if _lookup(old, key) != _lookup(new, key)]


@dataclass(frozen=True)
class StoreKind:
    """One kind of store: its format and the words of its messages.

    Attributes
    ----------
    format : str
        The manifest's ``format`` entry.
    count : str
        The manifest entry that holds the number of items (``"n_points"``, ``"n_patterns"``).
    what : str
        What the store holds, for messages (``"scan"``): "DIR holds no scan".
    other : str
        A store of this kind made differently (``"a different scan"``): "DIR holds a different scan
        (differs in ...)".
    rerun : str
        How to finish or repair a store (``"rerun `gslib scan` with the same --out"``).
    make : str
        How to make one (``"make one with `gslib scan`"``).
    choose : str
        What to do when a directory holds another store.
    prefix : str
        Put before every message (``"samples: "``).
    """

    format: str
    count: str
    what: str
    other: str
    rerun: str
    make: str
    choose: str = "choose another --out or remove it"
    prefix: str = ""


def read_manifest(directory, kind: StoreKind) -> dict | None:
    """The manifest of a store, or None if the directory has none.

    Parameters
    ----------
    directory : path-like
        The store's directory.
    kind : StoreKind
        The kind of store expected.

    Returns
    -------
    dict or None
        The manifest.

    Raises
    ------
    ValueError
        If the manifest is unreadable or belongs to another kind of store.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{kind.prefix}{path} is unreadable ({exc}); {kind.choose}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != kind.format:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ValueError(
            f"{kind.prefix}{directory} holds no {kind.what} but something else (format {found!r}); {kind.choose}"
        )
    return manifest


class ChunkStore:
    """A resumable, checksummed store of chunk files (see the module's docstring).

    Parameters
    ----------
    directory : path-like
        The store's directory (created if needed).
    header : dict
        The entries that define the store: ``format`` (= ``kind.format``), ``kind.count``,
        ``chunk_size`` and more. The manifest is the header, then ``chunks``, then ``fields``.
    kind : StoreKind
        The kind of store, for its messages.
    compare : iterable of str
        The header entries an existing store must share (:func:`differing`); its chunks are
        then kept.
    fields : dict, optional
        Further manifest entries after ``chunks`` (e.g. ``complete=False``), with their values
        for a new store.
    keep : iterable of str
        Entries of ``fields`` taken from an existing store's manifest (e.g. a log of its runs).

    Raises
    ------
    ValueError
        If the directory holds another kind of store, or one whose ``compare`` entries differ
        (the message lists them), or the header lacks ``kind.count`` or ``chunk_size``.
    """

    def __init__(self, directory, header: dict, kind: StoreKind, *, compare=(), fields: dict | None = None, keep=()):
        self.directory = Path(directory)
        self.kind = kind
        if header.get("format") != kind.format:
            raise ValueError(f"header format {header.get('format')!r} is not {kind.format!r}")
        self.directory.mkdir(parents=True, exist_ok=True)
        old = read_manifest(self.directory, kind)
        self.previous = old
        self.manifest = dict(header, chunks={}, **(fields or {}))
        if old is not None:
            differ = differing(old, header, compare)
            if differ:
                raise ValueError(
                    f"{kind.prefix}{self.directory} holds {kind.other} (differs in {', '.join(differ)}); {kind.choose}"
                )
            self.manifest["chunks"] = dict(old.get("chunks", {}))
            for key in keep:
                if key in old:
                    self.manifest[key] = old[key]
        self._check_size()

    @classmethod
    def open(cls, directory, kind: StoreKind) -> ChunkStore:
        """An existing store, to read.

        Parameters
        ----------
        directory : path-like
            The store's directory.
        kind : StoreKind
            The kind of store expected.

        Returns
        -------
        ChunkStore
            The store, with its manifest as found.

        Raises
        ------
        ValueError
            If the directory holds no store of this kind.
        """
        directory = Path(directory)
        manifest = read_manifest(directory, kind)
        if manifest is None:
            raise ValueError(f"{kind.prefix}{directory} holds no {kind.what} (no {MANIFEST}); {kind.make}")
        store = cls.__new__(cls)
        store.directory, store.kind, store.previous, store.manifest = directory, kind, manifest, manifest
        store._check_size()
        return store

    def _check_size(self) -> None:
        n, size = self.manifest.get(self.kind.count), self.manifest.get("chunk_size")
        for key, value in ((self.kind.count, n), ("chunk_size", size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "chunk_size" else 0):
                raise ValueError(f"{self.kind.prefix}{self.directory / MANIFEST}: {key}={value!r} is not a valid count")

    # ------------------------------------------------------------------ layout

    @property
    def n_items(self) -> int:
        """The number of items (the header's ``kind.count``)."""
        return self.manifest[self.kind.count]

    @property
    def chunk_size(self) -> int:
        """Items per chunk."""
        return self.manifest["chunk_size"]

    @property
    def n_chunks(self) -> int:
        """The number of chunks that tile the items."""
        return -(-self.n_items // self.chunk_size)

    @property
    def chunks(self) -> dict:
        """The manifest's ``chunks``: file name to its entry."""
        return self.manifest["chunks"]

    @property
    def complete(self) -> bool:
        """Whether the manifest says that the store is finished."""
        return bool(self.manifest.get("complete"))

    def span(self, i: int) -> tuple[int, int]:
        """The items ``start, stop`` of chunk i (stop excluded).

        Parameters
        ----------
        i : int
            Chunk index.

        Returns
        -------
        tuple of int
        """
        return i * self.chunk_size, min(self.n_items, (i + 1) * self.chunk_size)

    def path(self, i: int) -> Path:
        """The file of chunk i.

        Parameters
        ----------
        i : int
            Chunk index.

        Returns
        -------
        pathlib.Path
        """
        return self.directory / chunk_name(i)

    # ------------------------------------------------------------------ state

    def intact(self, i: int) -> bool:
        """Whether chunk i is listed and its file matches its checksum.

        Parameters
        ----------
        i : int
            Chunk index.

        Returns
        -------
        bool
        """
        entry = self.chunks.get(chunk_name(i))
        path = self.path(i)
        return entry is not None and path.is_file() and sha256_file(path) == entry["sha256"]

    def pending(self, log=None) -> list[int]:
        """The chunks still to compute: missing from the manifest, or listed but missing or corrupt on disk.

        The entries of listed chunks that are missing or corrupt are removed from the manifest (in
        memory; it is written with the next chunk).

        Parameters
        ----------
        log : callable, optional
            Receives one message per listed chunk that is missing or corrupt.

        Returns
        -------
        list of int
            Chunk indices, in order.
        """
        todo = []
        for i in range(self.n_chunks):
            if self.intact(i):
                continue
            name = chunk_name(i)
            if name in self.chunks:
                if log is not None:
                    log(f"{name}: missing or corrupt (checksum mismatch), recomputing")
                del self.chunks[name]
            todo.append(i)
        return todo

    def missing(self) -> list[str]:
        """File names of the chunks that the manifest does not list.

        Returns
        -------
        list of str
        """
        return [chunk_name(i) for i in range(self.n_chunks) if chunk_name(i) not in self.chunks]

    # ------------------------------------------------------------------ writing

    def save(self) -> None:
        """Write the manifest atomically."""
        write_json(self.directory / MANIFEST, self.manifest)

    def write(self, i: int, arrays: dict, **entry) -> dict:
        """Write chunk i atomically, then list it in the manifest (also written atomically).

        Parameters
        ----------
        i : int
            Chunk index, in ``[0, n_chunks)``.
        arrays : dict
            The chunk's arrays.
        **entry
            Further entries of its manifest record (e.g. ``seconds``, ``machine``); ``start`` and
            ``stop``, when given, must be the chunk's :meth:`span`.

        Returns
        -------
        dict
            The chunk's manifest record: ``start``/``stop`` when given, ``sha256``, ``entry``,
            ``created``.

        Raises
        ------
        ValueError
            If ``i`` is out of range or ``start``/``stop`` are not its span.
        """
        if not 0 <= i < self.n_chunks:
            raise ValueError(f"chunk {i} is out of range; this store has {self.n_chunks} chunks")
        span = {key: entry.pop(key) for key in ("start", "stop") if key in entry}
        if span and (span.get("start"), span.get("stop")) != self.span(i):
            raise ValueError(f"chunk {i} holds items {self.span(i)}, not {span}")
        digest = write_npz(self.path(i), arrays)
        record = dict(span, sha256=digest, **entry, created=provenance.now())
        self.chunks[chunk_name(i)] = record
        self.save()
        return record

    def remove_stale(self) -> None:
        """Delete temporary files left in the directory by a killed writer (hold the lock)."""
        for stale in list(self.directory.glob("*.tmp")):
            stale.unlink(missing_ok=True)

    # ------------------------------------------------------------------ reading

    def read(self, i: int, keys=None, optional=(), *, verify: bool = True) -> dict:
        """The arrays of chunk i.

        Parameters
        ----------
        i : int
            Chunk index.
        keys : iterable of str, optional
            Arrays that must be there (None: all).
        optional : iterable of str
            Arrays read when present.
        verify : bool
            Check the file's SHA-256 checksum first.

        Returns
        -------
        dict
            Name to array.

        Raises
        ------
        ValueError
            If the chunk is not listed, its file is missing, corrupt or unreadable, or its record
            does not cover the chunk's items.
        """
        name, file = chunk_name(i), self.path(i)
        entry = self.chunks.get(name)
        hint = f"{self.kind.rerun} to recompute it"
        if entry is None or not file.is_file():
            raise ValueError(f"{self.kind.prefix}{file} is missing; {hint}")
        start, stop = self.span(i)
        recorded = (entry.get("start", start), entry.get("stop", stop), entry.get("n", stop - start))
        if recorded != (start, stop, stop - start):
            raise ValueError(
                f"{self.kind.prefix}{file} is listed for other items than {start}-{stop - 1} "
                f"(chunk {i} of {self.n_chunks}); {hint}"
            )
        if verify and sha256_file(file) != entry["sha256"]:
            raise ValueError(f"{self.kind.prefix}{file} is corrupt (checksum mismatch); {hint}")
        try:
            with np.load(file, allow_pickle=False) as data:
                wanted = list(data.files) if keys is None else list(keys)
                arrays = {key: data[key] for key in wanted}
                arrays.update({key: data[key] for key in optional if key in data.files and key not in arrays})
        except Exception as exc:  # a damaged file (zip, CRC, format errors), with verify=False
            raise ValueError(f"{self.kind.prefix}{file} is unreadable ({type(exc).__name__}: {exc}); {hint}") from None
        return arrays

    def get(self, i: int, keys=None):
        """The arrays of chunk i if it is stored intact, else None.

        Parameters
        ----------
        i : int
            Chunk index.
        keys : iterable of str, optional
            Arrays to read (None: all).

        Returns
        -------
        dict or None
        """
        if not self.intact(i):
            return None
        try:
            return self.read(i, keys, verify=False)
        except ValueError:
            return None

    def require_complete(self) -> None:
        """Raise unless the manifest says the store is finished.

        Raises
        ------
        ValueError
            If the store is incomplete.
        """
        if not self.complete:
            raise ValueError(
                f"{self.kind.prefix}{self.directory}: the {self.kind.what} is incomplete; "
                f"{self.kind.rerun} to finish it"
            )


class DirectoryLock:
    """An exclusive lock on a store's directory, released by the operating system if the process dies,
    so that two runs never write one store at once (a no-op where ``fcntl`` is missing).

    Parameters
    ----------
    directory : path-like
        The store's directory (it must exist); the lock file is ``directory/.lock``.
    what : str
        What writes the directory, for the message ("scan").

    Raises
    ------
    ValueError
        On entering, if another process holds the lock.
    """

    def __init__(self, directory, what: str = "store"):
        self.path = Path(directory) / ".lock"
        self.what = what
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "a")
        try:
            import fcntl
        except ImportError:  # not on a POSIX system: no lock
            return self
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise ValueError(
                f"{self.path.parent} is being written by another {self.what} run; wait for it to finish"
            ) from None
        return self

    def __exit__(self, *exc):
        self.fh.close()
