"""Running a scan: simulate and classify chunks of points, resumably, on an executor.

:func:`run_scan` cuts the points into chunks of ``chunk_size`` consecutive points and runs
:func:`compute_chunk` for every chunk not yet done (plain data in and out, so that it runs on any
executor); only this process writes the scan's :class:`gslib.store.ChunkStore`. With ``samples``
the simulated samples are kept in a :class:`SampleStore`, and a later scan of the same points
classifies them without simulating again.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .. import provenance
from .._log import progress_logger
from .._validate import check_int
from ..dataset import RECIPES, Recipe
from ..networks import EMBEDDING_LAYER, NetworkRef, resolve
from ..store import ChunkStore, DirectoryLock, StoreKind
from .executors import LocalExecutor
from .points import SEED_BASE, _check_points, points_sha256
from .table import FORMAT, FORMAT_VERSION, SCAN_STORE, ScanTable, _entropy, _read_scan_manifest, load_scan_table

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EMBEDDING_LAYER",
    "SampleStore",
    "classify_samples",
    "compute_chunk",
    "pattern_measures",
    "run_scan",
]

DEFAULT_CHUNK_SIZE = 64


def classify_samples(model, x, batch_size: int = 128, *, heads=None) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and embedding-layer activations of samples.

    The probabilities are those of :func:`gslib.cnn.predict_proba` (softmax of the logits), from the
    same forward pass as the embedding.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`gslib.cnn.build_model`.
    x : array_like
        Samples (B, S, S, 3).
    batch_size : int
        Samples per forward pass.
    heads : keras.Model, optional
        The network with its embedding as a second output (:func:`gslib.cnn.embedding_heads`;
        a :class:`gslib.networks.NetworkCache` keeps one per network); None: made here.

    Returns
    -------
    probabilities : numpy.ndarray
        (B, C), float32.
    embedding : numpy.ndarray
        (B, 256), float32.

    Raises
    ------
    ValueError
        For invalid samples, or a network without the embedding layer.
    """
    from .. import cnn  # Keras 3, or gslib.MissingExtraError naming the extra that adds it

    x = cnn.check_samples(x, model.inputs[0].shape[1])
    heads = cnn.embedding_heads(model) if heads is None else heads
    embedding, logits = heads.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(cnn.keras.ops.softmax(logits, axis=-1), dtype=np.float32), np.asarray(embedding, dtype=np.float32)


def _simulate(f, k, seeds, recipe: Recipe, backend: str):
    """Samples for a chunk with make_samples; members that blow up are marked and the rest rerun."""
    from ..solvers import BlowUpError

    failed = np.zeros(len(f), dtype=bool)
    x = np.full((len(f), recipe.size, recipe.size, 3), np.nan, dtype=np.dtype(recipe.dtype))
    while not failed.all():
        ok = np.flatnonzero(~failed)
        try:
            x[ok] = recipe.samples(f=f[ok], k=k[ok], seed=seeds[ok], backend=backend)
            break
        except BlowUpError as exc:  # rare: rerun the others (each member's run depends on its seed only)
            failed[ok[exc.members]] = True
    return x, failed


def pattern_measures(x) -> tuple[np.ndarray, np.ndarray]:
    """Two numbers per sample that need no network.

    Parameters
    ----------
    x : numpy.ndarray
        Samples ``(B, S, S, 3)``.

    Returns
    -------
    contrast : numpy.ndarray
        float32 ``(B,)``: the spatial standard deviation of u at the last snapshot (0: a
        uniform state); NaN where x is not finite.
    motion : numpy.ndarray
        float32 ``(B,)``: the mean of ``|u(T) - u(T - 2 gap)|`` over the grid (0: nothing moved
        between the snapshots); NaN where x is not finite.
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        contrast = x[..., -1].std(axis=(1, 2))
        motion = np.abs(x[..., -1] - x[..., 0]).mean(axis=(1, 2))
    return contrast.astype(np.float32), motion.astype(np.float32)


def compute_chunk(job: dict) -> dict:
    """Simulate and classify one chunk of a scan; runs wherever the executor puts it (plain data in, out).

    Parameters
    ----------
    job : dict
        chunk, start, stop, f, k, seed (arrays), recipe (dict), network (the fields of a
        :class:`gslib.networks.NetworkRef`), backend, batch_size; optionally ``samples`` (stored
        ``(x, failed)``, not simulated again) and ``return_samples``.

    Returns
    -------
    dict
        The chunk's arrays (probabilities, embedding, entropy, label_index, contrast, motion,
        failed) and where and how fast it ran.

    Raises
    ------
    ValueError
        If the network's weights differ from those of the reference.
    """
    from ..solvers import resolve_backend

    recipe = Recipe(**job["recipe"])
    f, k, seed = (np.asarray(job[key]) for key in ("f", "k", "seed"))
    t0 = time.perf_counter()
    stored = job.get("samples") is not None
    x, failed = job["samples"] if stored else _simulate(f, k, seed, recipe, job["backend"])
    t1 = time.perf_counter()
    from .. import cnn  # Keras 3; the default cache keeps the network loaded between chunks

    ref = NetworkRef(**{**job["network"], "class_names": tuple(job["network"]["class_names"])})
    model, names = cnn.NETWORKS.load(ref)
    width = model.get_layer(EMBEDDING_LAYER).units
    probabilities = np.full((len(f), len(names)), np.nan, dtype=np.float32)
    embedding = np.full((len(f), width), np.nan, dtype=np.float32)
    if not failed.all():
        probabilities[~failed], embedding[~failed] = classify_samples(
            model, x[~failed], job["batch_size"], heads=cnn.NETWORKS.heads(ref)
        )
    label_index = np.where(failed, -1, np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1)).astype(np.int32)
    contrast, motion = pattern_measures(x)
    result = dict(
        chunk=int(job["chunk"]),
        start=int(job["start"]),
        stop=int(job["stop"]),
        probabilities=probabilities,
        embedding=embedding,
        entropy=_entropy(probabilities).astype(np.float32),
        label_index=label_index,
        contrast=contrast,
        motion=motion,
        failed=failed,
        seconds_simulate=t1 - t0,
        seconds_classify=time.perf_counter() - t1,
        backend="stored samples" if stored else resolve_backend(job["backend"]),
        host=platform.node(),
        machine=provenance.machine(),
    )
    if job.get("return_samples") and not stored:
        result["samples"] = (x, failed)
    return result


def _recipe_for_size(size) -> Recipe:
    for name in ("paper", "book", "ci"):
        if RECIPES[name].size == size:
            return RECIPES[name]
    raise ValueError(
        f"no scale's recipe makes {size} x {size} samples for this network; pass a recipe "
        "(gslib.dataset.Recipe) with size = the network's input side"
    )


def _check_recipe(recipe: Recipe, size) -> None:
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a gslib.dataset.Recipe; got {type(recipe).__name__}")
    if size is not None and recipe.size != size:
        raise ValueError(
            f"the network takes {size} x {size} samples but the recipe makes {recipe.size} x "
            f"{recipe.size}; use the recipe (scale) the network was trained with"
        )
    if not (recipe.gap > 0 and recipe.t_end >= 2 * recipe.gap):
        raise ValueError(f"recipe gap={recipe.gap} and t_end={recipe.t_end}: need gap > 0 and t_end >= 2 * gap")
    steps = round(recipe.t_end / recipe.dt)
    if abs(steps * recipe.dt - recipe.t_end) > 1e-9 * recipe.t_end:
        raise ValueError(f"recipe t_end={recipe.t_end} must be a multiple of dt={recipe.dt}")


class SampleStore:
    """The simulated samples of a scan kept on disk, so that other networks classify the very same
    patterns without simulating them again (the simulation is almost all of a scan's time).

    A :class:`gslib.store.ChunkStore` of format ``gsbook-scan-samples``: ``DIR/chunk_NNNNN.npz``
    holds chunk i's samples ``x`` (n, S, S, 3) float32 and ``failed`` (n,); ``DIR/manifest.json``
    records the points' checksum, the seeds, the recipe and the chunk size (a store made for other
    points, seeds, recipe or chunks is refused with ValueError) and a SHA-256 per chunk; a chunk
    whose checksum does not match is ignored and simulated again. Samples at paper scale take
    about 0.2 MB per point (1.1 GB for the paper's scan).

    Parameters
    ----------
    directory : path-like
        The store's directory (created if needed).
    header : dict
        The scan manifest's entries of :attr:`KEYS` that the store must share with the scan.

    Raises
    ------
    ValueError
        If the directory's manifest is unreadable or belongs to another scan.
    """

    FORMAT = "gsbook-scan-samples"
    #: The scan manifest's entries that a store must share with every scan that uses it.
    KEYS = ("n_points", "points_sha256", "seed_base", "recipe", "chunk_size")
    KIND = StoreKind(
        format=FORMAT,
        count="n_points",
        what="samples",
        other="samples of another scan",
        rerun="run `gslib scan --samples DIR` again",
        make="run `gslib scan --samples DIR`",
        choose="choose another directory",
        prefix="samples: ",
    )

    def __init__(self, directory, header: dict):
        self.store = ChunkStore(directory, dict(format=self.FORMAT, **header), self.KIND, compare=header)
        self.dir = self.store.directory

    @classmethod
    def existing(cls, directory) -> SampleStore:
        """A store that exists already, with the header it was made with.

        Parameters
        ----------
        directory : path-like
            The store's directory.

        Returns
        -------
        SampleStore

        Raises
        ------
        ValueError
            If the directory holds no samples.
        """
        manifest = ChunkStore.open(directory, cls.KIND).manifest
        return cls(directory, {key: manifest.get(key) for key in cls.KEYS})

    @property
    def manifest(self) -> dict:
        """The store's manifest."""
        return self.store.manifest

    def get(self, i: int):
        """Chunk i's (x, failed) if stored intact, else None."""
        arrays = self.store.get(i, ("x", "failed"))
        return None if arrays is None else (arrays["x"], arrays["failed"])

    def put(self, i: int, x: np.ndarray, failed: np.ndarray, **record) -> None:
        """Store chunk i; ``record`` (e.g. seconds_simulate, backend, machine) goes into its manifest entry."""
        self.store.write(
            i,
            dict(x=np.asarray(x, dtype=np.float32), failed=np.asarray(failed, dtype=bool)),
            n=int(len(failed)),
            **record,
        )

    def require(self, i: int):
        """Chunk i's (x, failed); ValueError if it is missing or corrupt."""
        arrays = self.store.read(i, ("x", "failed"))
        return arrays["x"], arrays["failed"]

    def measures(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`pattern_measures` of every stored sample (P,) each, in point order."""
        parts = [pattern_measures(self.require(i)[0]) for i in range(self.store.n_chunks)]
        return tuple(np.concatenate(p) for p in zip(*parts))

    def summary(self) -> dict:
        """Where and how fast the stored samples were simulated (for provenance records)."""
        chunks = list(self.manifest["chunks"].values())
        timed = [c for c in chunks if "seconds_simulate" in c]
        return dict(
            directory=str(self.dir),
            chunks=len(chunks),
            simulate_seconds=round(sum(c["seconds_simulate"] for c in timed), 1) if timed else None,
            chunks_timed=len(timed),
            backends=sorted({c["backend"] for c in timed}),
            machines=sorted({c["machine"] for c in timed}),
        )


def run_scan(
    out_dir,
    points,
    model="pass1",
    recipe: Recipe | None = None,
    *,
    chunk_size: int | None = None,
    executor=None,
    backend: str = "auto",
    batch_size: int = 128,
    samples=None,
    command: str | None = None,
    log=None,
) -> ScanTable:
    """Classify every point of ``points`` with a network into directory ``out_dir``; resumes; returns the table.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The scan's directory.
    points : dict
        Arrays ``f``, ``k`` (P,), e.g. :func:`gslib.scan.scan_points`.
    model : str, pathlib.Path or gslib.networks.NetworkRef, optional
        A shipped network's name (``"pass1"``) or a directory written by ``gslib train``.
    recipe : gslib.dataset.Recipe, optional
        How samples are made; None: the scale whose sample size is the network's input side
        (ci 48, book 64, paper 128).
    chunk_size : int, optional
        Points per chunk file; None: the existing scan's, else 64.
    executor : LocalExecutor or DaskExecutor, optional
        Where chunks run (default :class:`gslib.scan.LocalExecutor`).
    backend : str, optional
        Solver backend, as for :func:`gslib.integrate` (chosen where each chunk runs).
    batch_size : int, optional
        Samples per batch of the network.
    samples : str or pathlib.Path, optional
        A directory (:class:`SampleStore`) that keeps the simulated samples; chunks already
        there are classified without simulating (e.g. a second network on the same points).
    command : str, optional
        The command line, recorded in the manifest.
    log : callable, optional
        Receives progress messages (default: the logger ``gslib.scan.run``, see :mod:`gslib._log`).

    Returns
    -------
    ScanTable
        The classified scan.

    Raises
    ------
    ValueError
        If ``out_dir`` holds a scan of other points, recipe, chunk size or network.
    """
    f, k = _check_points(points)
    net = resolve(model)
    recipe = _recipe_for_size(net.size) if recipe is None else recipe
    _check_recipe(recipe, net.size)
    check_int("batch_size", batch_size, minimum=1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with DirectoryLock(out, "scan"):
        return _run_locked(
            out,
            f,
            k,
            net,
            recipe,
            chunk_size,
            executor,
            backend,
            batch_size,
            samples,
            command,
            progress_logger(log, __name__),
        )


#: The scan manifest's entries that a scan resumed in the same directory must share.
_COMPARE = (
    "format_version",
    "n_points",
    "points_sha256",
    "seed_base",
    "recipe",
    "chunk_size",
    "model.weights_sha256",
    "model.class_names",
)


def _run_locked(out, f, k, net: NetworkRef, recipe, chunk_size, executor, backend, batch_size, samples, command, log):
    old = _read_scan_manifest(out)
    if chunk_size is None:
        chunk_size = old["chunk_size"] if old else DEFAULT_CHUNK_SIZE
    check_int("chunk_size", chunk_size, minimum=1)
    P = len(f)
    header = dict(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        n_points=P,
        points_sha256=points_sha256(f=f, k=k),
        seed_base=SEED_BASE,
        recipe=asdict(recipe),
        chunk_size=chunk_size,
        model=net.record(),
        embedding_layer=EMBEDDING_LAYER,
        gslib_version=provenance.gslib_version(),
    )
    store = ChunkStore(out, header, SCAN_STORE, compare=_COMPARE, fields=dict(runs=[], complete=False), keep=("runs",))
    manifest = store.manifest
    if store.previous is not None:
        manifest["model"]["ref"] = store.previous.get("model", {}).get("ref", net.ref)

    n_chunks = store.n_chunks
    todo = store.pending(log)
    if not todo and store.previous is not None and store.previous.get("complete"):
        return load_scan_table(out)  # finished before: nothing to write
    store.remove_stale()

    executor = executor or LocalExecutor()
    started = time.perf_counter()
    run = dict(
        started=provenance.now(),
        finished=None,
        wall_seconds=None,
        chunks_computed=0,
        chunks_kept=n_chunks - len(todo),
        executor=executor.describe(),
        command=command,
    )
    manifest["runs"].append(run)
    store.save()
    if todo:
        log(
            f"scan: {P} points in {n_chunks} chunks of {chunk_size}; {n_chunks - len(todo)} done, "
            f"{len(todo)} to compute on {run['executor']}"
        )
    seeds = SEED_BASE + np.arange(P, dtype=np.int64)
    kept = None
    if samples is not None:
        kept = SampleStore(samples, {key: header[key] for key in SampleStore.KEYS})
    network = asdict(net)

    def jobs():  # a generator: stored samples are read only when their chunk's turn comes
        for i in todo:
            start, stop = store.span(i)
            yield dict(
                chunk=i,
                start=start,
                stop=stop,
                f=f[start:stop],
                k=k[start:stop],
                seed=seeds[start:stop],
                recipe=asdict(recipe),
                network=network,
                backend=backend,
                batch_size=batch_size,
                samples=kept.get(i) if kept else None,
                return_samples=kept is not None,
            )

    for result in executor.map_unordered(compute_chunk, jobs()):
        i, start, stop = result["chunk"], result["start"], result["stop"]
        name = store.path(i).name
        if "samples" in result:
            kept.put(
                i,
                *result["samples"],
                seconds_simulate=round(result["seconds_simulate"], 3),
                backend=result["backend"],
                machine=result["machine"],
            )
        if result["probabilities"].shape != (stop - start, len(net.class_names)):
            raise RuntimeError(
                f"{name}: the job returned probabilities of shape {result['probabilities'].shape}, "
                f"expected {(stop - start, len(net.class_names))}"
            )
        run["chunks_computed"] += 1
        run["wall_seconds"] = round(time.perf_counter() - started, 1)
        store.write(
            i,
            dict(
                index=np.arange(start, stop, dtype=np.int64),
                f=f[start:stop],
                k=k[start:stop],
                seed=seeds[start:stop],
                label_index=result["label_index"],
                probabilities=result["probabilities"],
                entropy=result["entropy"],
                embedding=result["embedding"],
                contrast=result["contrast"],
                motion=result["motion"],
                failed=result["failed"],
            ),
            start=start,
            stop=stop,
            n_failed=int(result["failed"].sum()),
            seconds_simulate=round(result["seconds_simulate"], 3),
            seconds_classify=round(result["seconds_classify"], 3),
            backend=result["backend"],
            host=result["host"],
            machine=result["machine"],
        )
        failed = f", {int(result['failed'].sum())} blew up" if result["failed"].any() else ""
        log(
            f"{name} (points {start}-{stop - 1}): {result['seconds_simulate']:.1f} s simulate + "
            f"{result['seconds_classify']:.1f} s classify on {result['backend']}{failed}; "
            f"{len(manifest['chunks'])}/{n_chunks} chunks done"
        )
    missing = store.missing()
    if missing:  # only possible with an executor that dropped jobs
        raise RuntimeError(f"{out}: chunks {missing[:5]} were not computed; run the scan again to finish it")
    manifest["complete"] = True
    run.update(finished=provenance.now(), wall_seconds=round(time.perf_counter() - started, 1))
    store.save()
    return load_scan_table(out)
