"""Training data for the pattern classifier: the CNN paper's recipe, its point lists, resumable split files.

A *sample* is the paper's encoding of one simulation: u at t = T - 60, T - 30 and T stacked as three
channels, shape (size, size, 3), from the paper's seed (:func:`gslib.initial.cnn_seed`), 9-point
stencil, Du = 0.2, Dv = 0.1, dt = 0.25, T = 15000 on 128 x 128 cells (Scholz & Scholz 2022).

A *split* (train, val, test, train2, val2) is the paper's list of (f, k) points with a pattern count
each (``gslib/data/dataset_points.csv``), every pattern from its own seed; seeds never repeat across
splits. :func:`build_split` writes a split in chunks of NumPy ``.npz`` files (no pickle) with a
``manifest.json`` holding the points, seeds, recipe, gslib version and a SHA-256 checksum per chunk
(a :class:`gslib.store.ChunkStore`). A killed run resumes where it stopped; a corrupt chunk is
detected (and recomputed on resume).
"""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass, replace
from importlib import resources

import numpy as np

from . import provenance
from ._log import progress_logger
from ._validate import check_int
from .classes import NAMES
from .initial import cnn_seed
from .solvers import integrate
from .store import ChunkStore, StoreKind

SPLITS = ("train", "val", "test", "train2", "val2")
#: First seed of each split; pattern i of a split uses seed base + i, so splits never share a seed.
SEED_BASE = {"train": 1_000_000, "val": 2_000_000, "test": 3_000_000, "train2": 4_000_000, "val2": 5_000_000}
#: The published CSV's labels that are not our ASCII class names.
_LABEL_FIX = {"h": "H", "l": "L", "vu": "nu"}
FORMAT = "gsbook-dataset"
FORMAT_VERSION = 1
#: Split directories as chunk stores.
DATASET_STORE = StoreKind(
    format=FORMAT,
    count="n_patterns",
    what="dataset",
    other="a different dataset",
    rerun="rerun `gslib dataset` with the same --out",
    make="make one with `gslib dataset`",
)


@dataclass(frozen=True)
class Recipe:
    """How samples are made. Defaults: the paper's. Lengths in cells, times in model units.

    Attributes
    ----------
    size : int
        Grid side.
    t_end : float
        Time of the last snapshot.
    gap : float
        Time between the three snapshots.
    dt, Du, Dv, stencil : float, float, float, str
        Time step, diffusivities and Laplacian, as in :func:`gslib.integrate`.
    square, shift : int, str
        Seeded block side and shift, as in :func:`gslib.initial.cnn_seed`.
    dtype : str
        Floating-point type of the simulation and the samples.
    count_fraction : float
        Share of each point's published pattern count that is made.
    """

    size: int = 128
    t_end: float = 15000.0
    gap: float = 30.0
    dt: float = 0.25
    Du: float = 0.2
    Dv: float = 0.1
    stencil: str = "9pt"
    square: int = 20
    shift: str = "both"
    dtype: str = "float32"
    count_fraction: float = 1.0  # share of each point's published pattern count that is made

    @property
    def record_times(self) -> list[float]:
        """The times of the three snapshots: ``t_end - 2 gap``, ``t_end - gap``, ``t_end``."""
        return [self.t_end - 2 * self.gap, self.t_end - self.gap, self.t_end]

    def samples(self, *, f, k, seed, backend: str = "auto"):
        """Simulate patterns with this recipe: :func:`make_samples` with the recipe's settings.

        Parameters
        ----------
        f, k : array_like
            Rates of the patterns (B,).
        seed : array_like
            One seed of :func:`gslib.initial.cnn_seed` per pattern (B,).
        backend : str
            Solver backend, as in :func:`gslib.simulate`.

        Returns
        -------
        numpy.ndarray
            Samples (B, size, size, 3), float32.
        """
        return make_samples(
            f=f,
            k=k,
            seed=seed,
            size=self.size,
            t_end=self.t_end,
            gap=self.gap,
            dt=self.dt,
            Du=self.Du,
            Dv=self.Dv,
            stencil=self.stencil,
            square=self.square,
            shift=self.shift,
            backend=backend,
            dtype=self.dtype,
        )


#: One recipe per GSLIB_SCALE: the paper's, a laptop-sized one and a test-sized one.
RECIPES = {
    "paper": Recipe(),
    "book": Recipe(size=64, t_end=5000.0, count_fraction=0.4),
    "ci": Recipe(size=48, t_end=500.0, square=12, count_fraction=0.06),
}


def recipe_for(scale: str) -> Recipe:
    """The dataset recipe of a scale.

    Parameters
    ----------
    scale : {"ci", "book", "paper"}
        The scale (the book and the command line pass the active one, :func:`gslib.scale.current`).

    Returns
    -------
    Recipe
        The entry of :data:`RECIPES`.

    Raises
    ------
    ValueError
        If ``scale`` is not one of the three.
    """
    if scale not in RECIPES:
        raise ValueError(f"scale={scale!r} is not a scale; allowed: {', '.join(RECIPES)}")
    return RECIPES[scale]


def split_points(split: str) -> list[dict]:
    """The paper's points of a split.

    Parameters
    ----------
    split : str
        One of :data:`SPLITS`.

    Returns
    -------
    list of dict
        Dicts with label (ASCII class name), f, k and count.

    Raises
    ------
    ValueError
        If ``split`` is not one of :data:`SPLITS`.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not a split; allowed: {', '.join(SPLITS)}")
    text = resources.files("gslib").joinpath("data/dataset_points.csv").read_text()
    points = []
    for row in csv.DictReader(text.splitlines()):
        if row["split"] == split:
            label = _LABEL_FIX.get(row["label"], row["label"])
            points.append(dict(label=label, f=float(row["f"]), k=float(row["k"]), count=int(row["count"])))
    return points


def split_plan(split: str, recipe: Recipe) -> dict[str, np.ndarray]:
    """Every pattern of a split.

    Parameters
    ----------
    split : str
        One of :data:`SPLITS`.
    recipe : Recipe
        Its ``count_fraction`` sets how many patterns of each point are made (at least one).

    Returns
    -------
    dict
        Arrays label (P,), f (P,), k (P,), seed (P,).

    Raises
    ------
    ValueError
        If ``split`` is not one of :data:`SPLITS`.
    """
    labels, f, k = [], [], []
    for p in split_points(split):
        n = max(1, round(p["count"] * recipe.count_fraction))
        labels += [p["label"]] * n
        f += [p["f"]] * n
        k += [p["k"]] * n
    seeds = SEED_BASE[split] + np.arange(len(labels))
    return dict(label=np.array(labels, dtype="U8"), f=np.array(f), k=np.array(k), seed=seeds)


def make_samples(
    *,
    f,
    k,
    seed=0,
    size=128,
    t_end=15000.0,
    gap=30.0,
    dt=0.25,
    Du=0.2,
    Dv=0.1,
    stencil="9pt",
    square=20,
    shift="both",
    backend="auto",
    dtype=np.float32,
    steady_tol=1e-9,
    progress=False,
):
    """Simulate patterns and return samples (B, size, size, 3): u at t_end - 2 gap, t_end - gap, t_end.

    Defaults are the paper's recipe; smaller size and t_end serve the ci and book scales.

    Parameters
    ----------
    f, k : float or sequence of float
        Feed and kill rates, scalars or sequences of equal length B.
    seed : int or sequence of int, optional
        An int (member b uses seed + b) or a sequence of B ints, for :func:`gslib.initial.cnn_seed`.
    size : int, optional
        Grid side (cells).
    t_end : float, optional
        Time of the last snapshot (model units).
    gap : float, optional
        Time between the three snapshots.
    dt, Du, Dv, stencil, backend, dtype, progress : optional
        As in :func:`gslib.integrate`.
    square, shift : optional
        Seeded block side and shift, as in :func:`gslib.initial.cnn_seed`.
    steady_tol : float or None, optional
        Members whose largest per-step change falls below this stop early (their state is
        frozen to within it); None runs every member to t_end.

    Returns
    -------
    numpy.ndarray
        Samples ``(B, size, size, 3)``: u at t_end - 2 gap, t_end - gap, t_end.
    """
    f, k = np.atleast_1d(np.asarray(f, dtype=np.float64)), np.atleast_1d(np.asarray(k, dtype=np.float64))
    if f.ndim != 1 or f.shape != k.shape:
        raise ValueError(
            f"f and k must be scalars or 1-D sequences of equal length; got shapes {f.shape} and {k.shape}"
        )
    seeds = seed + np.arange(len(f)) if np.ndim(seed) == 0 else np.asarray(seed)
    if seeds.shape != f.shape:
        raise ValueError(f"seed must be an int or a sequence of {len(f)} ints; got shape {seeds.shape}")
    if not (gap > 0 and t_end >= 2 * gap):
        raise ValueError(f"gap={gap} and t_end={t_end}: need gap > 0 and t_end >= 2 * gap")
    steps = int(round(t_end / dt))
    if abs(steps * dt - t_end) > 1e-9 * t_end:
        raise ValueError(f"t_end={t_end} must be a multiple of dt={dt}")
    u0, v0 = cnn_seed([int(s) for s in seeds], n=size, square=square, shift=shift)
    res = integrate(
        u0,
        v0,
        f=f,
        k=k,
        Du=Du,
        Dv=Dv,
        dt=dt,
        steps=steps,
        stencil=stencil,
        backend=backend,
        dtype=dtype,
        record_times=[t_end - 2 * gap, t_end - gap, t_end],
        steady_tol=steady_tol,
        progress=progress,
    )
    return np.ascontiguousarray(np.moveaxis(res.frames_u, 1, -1))


def _manifest_header(split: str, recipe: Recipe, chunk_size: int, plan: dict) -> dict:
    return dict(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        split=split,
        recipe=asdict(recipe),
        chunk_size=chunk_size,
        n_patterns=int(len(plan["label"])),
        classes=sorted(set(plan["label"].tolist()), key=NAMES.index),
        points=split_points(split),
        seed_first=int(plan["seed"][0]),
        gslib_version=provenance.gslib_version(),
    )


def build_split(split: str, out, recipe: Recipe, *, chunk_size: int = 64, backend: str = "auto", log=None) -> dict:
    """Simulate every pattern of ``split`` into directory ``out``; resumes a partial run.

    Chunks already written with a matching checksum are kept; missing or corrupt ones are computed.

    Parameters
    ----------
    split : str
        One of :data:`SPLITS`.
    out : path-like
        Directory of the split (created if needed).
    recipe : Recipe
        How samples are made (e.g. ``recipe_for("ci")``).
    chunk_size : int
        Patterns per chunk file, >= 1.
    backend : str
        Solver backend, as in :func:`gslib.integrate`.
    log : callable, optional
        Receives one progress message per chunk (default: the logger ``gslib.dataset``, see
        :mod:`gslib._log`).

    Returns
    -------
    dict
        The manifest (also written to ``out/manifest.json``).

    Raises
    ------
    ValueError
        If ``chunk_size`` is not a positive integer, ``split`` is unknown, or ``out`` holds a
        different dataset.
    """
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a gslib.dataset.Recipe (e.g. recipe_for('ci')); got {type(recipe).__name__}")
    check_int("chunk_size", chunk_size, minimum=1)
    log = progress_logger(log, __name__)
    plan = split_plan(split, recipe)
    store = ChunkStore(
        out,
        _manifest_header(split, recipe, chunk_size, plan),
        DATASET_STORE,
        compare=("split", "recipe", "chunk_size", "n_patterns", "seed_first"),
        fields=dict(complete=False),
    )
    n_chunks = store.n_chunks
    for i in store.pending(log):
        start, stop = store.span(i)
        sl = slice(start, stop)
        t0 = time.perf_counter()
        x = recipe.samples(f=plan["f"][sl], k=plan["k"][sl], seed=plan["seed"][sl], backend=backend)
        seconds = time.perf_counter() - t0
        store.write(
            i,
            dict(x=x, label=plan["label"][sl], f=plan["f"][sl], k=plan["k"][sl], seed=plan["seed"][sl]),
            start=start,
            stop=stop,
            seconds=round(seconds, 3),
            machine=provenance.machine(),
        )
        log(f"{split}: chunk {i + 1}/{n_chunks} ({stop - start} patterns) in {seconds:.1f} s")
    store.manifest["complete"] = True
    store.save()
    return store.manifest


@dataclass(frozen=True)
class Split:
    """A loaded split (:func:`load_split`).

    Attributes
    ----------
    x : numpy.ndarray
        Samples (P, size, size, 3).
    label : numpy.ndarray
        Class names (P,).
    f, k, seed : numpy.ndarray
        Feed and kill rates and seeds of the patterns (P,).
    manifest : dict
        The split's manifest.
    """

    x: np.ndarray
    label: np.ndarray
    f: np.ndarray
    k: np.ndarray
    seed: np.ndarray
    manifest: dict

    def __len__(self):
        return len(self.label)


def load_split(directory, verify: bool = True) -> Split:
    """Load a split written by :func:`build_split`.

    Parameters
    ----------
    directory : path-like
        Directory of the split.
    verify : bool
        Check every chunk's SHA-256 checksum.

    Returns
    -------
    Split
        The samples, labels, rates, seeds and manifest.

    Raises
    ------
    ValueError
        If the directory holds no dataset, the dataset is incomplete, or a chunk is missing or
        corrupt.
    """
    store = ChunkStore.open(directory, DATASET_STORE)
    store.require_complete()
    manifest = store.manifest
    keys = ("x", "label", "f", "k", "seed")
    parts = {key: [] for key in keys}
    for i in range(store.n_chunks):
        arrays = store.read(i, keys, verify=verify)
        for key in keys:
            parts[key].append(arrays[key])
    arrays = {key: np.concatenate(v) for key, v in parts.items()}
    if len(arrays["label"]) != manifest["n_patterns"]:
        raise ValueError(f"{directory}: expected {manifest['n_patterns']} patterns, found {len(arrays['label'])}")
    return Split(manifest=manifest, **arrays)


def summarize(directory) -> dict:
    """What made a split.

    Parameters
    ----------
    directory : path-like
        Directory of the split.

    Returns
    -------
    dict
        Its command, pattern count, recipe, simulation seconds, machine, gslib version, date.

    Raises
    ------
    ValueError
        As :func:`load_split`.
    """
    m = load_split(directory, verify=False).manifest
    chunks = list(m["chunks"].values())
    scale = next((name for name, r in RECIPES.items() if asdict(r) == m["recipe"]), None)
    command = f"gslib dataset --split {m['split']}" + (f" --scale {scale}" if scale else "") + " --out DIR"
    return dict(
        command=command,
        split=m["split"],
        n_patterns=m["n_patterns"],
        recipe=m["recipe"],
        gslib_version=m["gslib_version"],
        simulate_seconds=round(sum(c["seconds"] for c in chunks), 1),
        machine=chunks[0]["machine"],
        finished=max(c["created"] for c in chunks),
    )


def with_overrides(recipe: Recipe, **changes) -> Recipe:
    """A copy of a recipe with some fields changed.

    Parameters
    ----------
    recipe : Recipe
        The recipe to copy.
    **changes
        New values of its fields (None values ignored).

    Returns
    -------
    Recipe
        The copy.
    """
    return replace(recipe, **{key: value for key, value in changes.items() if value is not None})
