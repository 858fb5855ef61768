"""Parameter scans with the pattern classifier, and the search for patterns it was never taught.

**The scan.** Scholz & Scholz (2022) classified one simulation at each of 5481 points of the (k, f)
plane (``gslib/data/scan_points.csv``: three overlapping blocks on one lattice, dk = 0.000625,
df = 0.00125; 5369 distinct points) and read the resulting map; their scan took 24 h on a 6-core CPU.
:func:`run_scan` does the same with any network and any list of points:

* point ``i`` is simulated with :func:`gslib.dataset.make_samples` (the training recipe) from the
  seed ``SEED_BASE + i`` (7 000 000 + i: never a seed of a training split), then classified by the
  network: class probabilities (P, C), their Shannon entropy (nats) and the activations of the
  penultimate layer ``"embedding"`` (P, 256);
* the points are cut into chunks of ``chunk_size`` consecutive points (chunk ``c`` holds points
  ``c * chunk_size`` up to the next chunk), each written as ``chunk_NNNNN.npz`` (plain arrays, no
  pickle) through a temporary file and ``os.replace``; ``manifest.json`` (also replaced atomically)
  lists every finished chunk with its SHA-256 checksum;
* a run killed at any moment (even ``kill -9``) is finished by running it again: chunks in the
  manifest whose checksum matches are kept, every other chunk is computed (again); a chunk is only
  ever read through the manifest, so a half-written or unlisted file is never counted, and
  :func:`load_scan_table` checks that the chunks tile the points exactly once, in order;
* a member that blows up is marked (``failed``; label ``"failed"``, NaN probabilities), not fatal;
* with ``samples=DIR`` the simulated samples are kept (:class:`SampleStore`), and a later scan of the
  same points with another network (pass 2) classifies them without simulating again, and
  :func:`compare_scans` lists the points that changed class;
* chunks run through an *executor*: :class:`LocalExecutor` (in this process, one chunk after the
  other: the solver and the network already use every core) or :class:`DaskExecutor` (a Dask
  cluster, results gathered as they complete). Only this process writes files, so Dask workers
  need no shared disk, only gslib and the network (a shipped name, or a directory they can read).

**Looking for new classes** (the step beyond the paper). A network trained on 15 classes must put
every pattern into one of them; the paper found its 16th class, pi, by looking at the map.
:func:`flag_candidates` looks for such places automatically. A scan point is *flagged* when

(a) the network is unsure: the entropy of its probabilities exceeds a threshold (default: the
    ``quantile`` of the entropies of held-out validation samples when their probabilities are given,
    else ln 2, more uncertain than a coin toss between two classes); or
(b) its embedding lies far from every training class: the distance to the nearest class is larger
    than for the ``quantile`` (default 99 %) of held-out samples of the known classes. Distances are
    Mahalanobis distances to the class means with one shared (tied) covariance, shrunk towards a
    multiple of the identity (Lee et al. 2018), or, with ``method="knn"``, the distance to the k-th
    nearest training embedding after scaling every embedding to unit length (Sun et al. 2022).

A pattern the network has never seen can be classified with confidence, so (b) is what catches a
new class; (a) also lights up the boundaries between known classes. Uniform patterns (the spatial
standard deviation of u(T), the scan's ``contrast`` column, below ``min_contrast``) are the
homogeneous states, which need no network, and are never flagged. Flagged points are then grouped
into regions of the (k, f) plane: points closer than ``eps`` lattice steps (default 1.5: the eight
neighbours on the scan's lattice) whose embeddings are nearest to the same training class belong to
one region (DBSCAN with min_samples = 1, which on a lattice is connected-component labelling). Regions come back
ranked by evidence of novelty (:func:`flag_candidates`: how far their patterns lie from the class that fits
them best, in units of that class's own spread, and how much of the plane they cover), each with its score,
the score's parts and its kind: ``"novel"`` (fits no known class), ``"border"`` (the network hesitates
between two known classes) or ``"known"``; ``order="size"`` gives them largest first.
:meth:`Candidates.region_at` finds the region at a given point.

Every point is written **(f, k)** in arguments, as in the rest of gslib; the tables hold both.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import platform
import time
import weakref
from collections import Counter
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import provenance
from .lattice import cluster_points, grid_spacing, nearest_point
from .dataset import RECIPES, Recipe, sha256_file, write_json_atomic, chunk_name, make_samples, pending_chunks

__all__ = ["Candidates", "ClassSpread", "DaskExecutor", "EmbeddingDistance", "LocalExecutor", "SampleStore", "ScanComparison",
           "ScanTable", "classify_samples", "compare_scans", "compute_chunk", "flag_candidates", "load_montage",
           "load_scan_table", "load_shipped_scan", "montage_samples", "package_scan",
           "pattern_measures", "run_scan", "scan_points", "shipped_scan_dir"]

FORMAT = "gsbook-scan"
FORMAT_VERSION = 1
#: Point i of a scan uses seed SEED_BASE + i (the dataset splits use 1e6 ... 5e6 + their sizes).
SEED_BASE = 7_000_000
DEFAULT_CHUNK_SIZE = 64
#: The network layer whose activations are the embedding (Dense 256, ReLU).
EMBEDDING_LAYER = "embedding"
FAILED = "failed"
_MANIFEST = "manifest.json"


# ----------------------------------------------------------------------------- points


def scan_points(source="paper") -> dict[str, np.ndarray]:
    """The points of a scan.

    Parameters
    ----------
    source : str or path-like
        ``"paper"`` (the 5481 points of Scholz & Scholz 2022, shipped as
        ``gslib/data/scan_points.csv``) or the path of a CSV file with a header naming columns
        ``k`` and ``f`` (**k first** as in the paper's tables; other columns are ignored, blank
        lines and lines starting with ``#`` skipped). Rates must be finite and >= 0.

    Returns
    -------
    dict
        Arrays ``f``, ``k`` (P,), in file order (and ``block`` if the file has one).

    Raises
    ------
    ValueError
        If the file is missing, unreadable, lacks the columns, or holds invalid rates.
    """
    if isinstance(source, str) and source == "paper":
        text = resources.files("gslib").joinpath("data/scan_points.csv").read_text()
        return _parse_points(text, "gslib/data/scan_points.csv")
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"{path}: no such points file; give 'paper' or a CSV file with columns k, f")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as a text CSV file ({exc})") from None
    return _parse_points(text, str(path))


def _parse_points(text: str, name: str) -> dict[str, np.ndarray]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{name}: the file is empty; expected a header with columns k, f and one point per line")
    rows = list(csv.reader(line for _, line in lines))
    header = [cell.strip().lower() for cell in rows[0]]
    for column in ("k", "f"):
        if header.count(column) != 1:
            problem = "no" if column not in header else "more than one"
            raise ValueError(f"{name}: {problem} column {column!r} in the header line {lines[0][1]!r}; "
                             "expected columns k, f (k first, as in the paper's tables)")
    columns = {c: header.index(c) for c in ("k", "f", "block") if c in header}
    if len(rows) == 1:
        raise ValueError(f"{name}: no points after the header line")
    values = {c: [] for c in columns}
    for (line_no, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{name}, line {line_no}: {len(row)} field(s), but the header has {len(header)}")
        for column, i in columns.items():
            cell = row[i].strip()
            try:
                value = int(cell) if column == "block" else float(cell)
            except ValueError:
                kind = "an integer" if column == "block" else "a number"
                raise ValueError(f"{name}, line {line_no}: {column} = {cell!r} is not {kind}") from None
            if column != "block" and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}, line {line_no}: {column} = {cell!r}; rates must be finite and >= 0")
            values[column].append(value)
    out = dict(f=np.array(values["f"], dtype=np.float64), k=np.array(values["k"], dtype=np.float64))
    if "block" in values:
        out["block"] = np.array(values["block"], dtype=np.int64)
    return out


def _check_points(points) -> tuple[np.ndarray, np.ndarray]:
    try:
        f = np.asarray(points["f"], dtype=np.float64)
        k = np.asarray(points["k"], dtype=np.float64)
    except (KeyError, TypeError, IndexError):
        raise ValueError("points must be a mapping with arrays 'f' and 'k' (as returned by scan_points)") from None
    if f.ndim != 1 or f.shape != k.shape or len(f) == 0:
        raise ValueError(f"points 'f' and 'k' must be 1-D, non-empty and of equal length; got shapes {f.shape}, {k.shape}")
    if not (np.isfinite(f).all() and np.isfinite(k).all()) or (f < 0).any() or (k < 0).any():
        raise ValueError("points 'f' and 'k' must be finite and >= 0")
    return f, k


def _points_sha256(f, k) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(f, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(k, dtype="<f8").tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- executors


class LocalExecutor:
    """Runs the jobs in this process, one after the other (the solver and the network use every core).

    ``map_unordered(fn, items)`` yields ``fn(item)`` for every item; here in order.
    """

    def map_unordered(self, fn, items):
        for item in items:
            yield fn(item)

    def describe(self) -> str:
        return "local (in-process, sequential)"

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError("the Dask executor needs dask.distributed, which is not installed: "
                         "pip install 'dask[distributed]' (or gslib[scan])") from None
    return distributed


class DaskExecutor:
    """Runs the jobs on a Dask cluster and yields their results as they complete.

    Workers need gslib installed; Dask is imported only here.

    Parameters
    ----------
    address : str, optional
        A scheduler address (``tcp://host:8786``), or ``"local"`` / ``"local:N"`` to start a
        local cluster of N worker processes (default: one per 2 cores) with one thread each,
        closed by :meth:`close`.
    client : distributed.Client, optional
        An existing client instead.
    retries : int
        How often Dask reruns a job that raised.

    Raises
    ------
    ValueError
        If dask.distributed is not installed, the address is malformed, or the scheduler cannot
        be reached.
    """

    def __init__(self, address: str | None = None, *, client=None, retries: int = 0):
        distributed = _import_distributed()
        self._cluster = None
        self.retries = int(retries)
        if client is not None:
            self.client, self._own_client = client, False
            return
        if address is None or str(address).startswith("local"):
            text = str(address or "local")
            count = text.partition(":")[2]
            if count and not count.isdigit():
                raise ValueError(f"scheduler {text!r}: expected 'local' or 'local:N' with N a positive integer")
            n = int(count) if count else max(1, (os.cpu_count() or 2) // 2)
            if n < 1:
                raise ValueError(f"scheduler {text!r}: needs at least one worker")
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                     dashboard_address=None)
            self.client = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout="30s")
            except OSError as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
        self._own_client = True

    def map_unordered(self, fn, items):
        from distributed import as_completed

        items = list(items)
        if not items:
            return
        futures = self.client.map(fn, items, pure=False, retries=self.retries)
        pending = set(futures)
        try:
            for future in as_completed(futures):
                result = future.result()
                pending.discard(future)
                future.release()
                yield result
        finally:
            if pending:  # the consumer stopped early or a job failed: do not leave work running
                self.client.cancel(list(pending))

    def describe(self) -> str:
        workers = self.client.scheduler_info().get("workers", {})
        return f"dask ({self.client.scheduler.address}, {len(workers)} workers)"

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------- the network


def _shipped_networks() -> list[str]:
    root = Path(str(resources.files("gslib").joinpath("data/pretrained")))
    return sorted(p.name for p in root.iterdir() if (p / "model.json").exists()) if root.is_dir() else []


def _resolve_model(model) -> dict:
    """A network's identity without loading it: directory, class names, input size, weights checksum."""
    text = str(model)
    if "/" not in text and os.sep not in text and text in _shipped_networks():
        directory = Path(str(resources.files("gslib").joinpath(f"data/pretrained/{text}")))
    else:
        directory = Path(text)
    if not (directory / "model.json").is_file() or not (directory / "model.weights.h5").is_file():
        raise ValueError(f"model {text!r} is neither a shipped network ({', '.join(_shipped_networks()) or 'none'}) "
                         "nor a directory with model.json and model.weights.h5 (written by `gslib train`)")
    meta = json.loads((directory / "model.json").read_text())
    return dict(ref=text, directory=str(directory.resolve()), class_names=list(meta["class_names"]),
                size=meta.get("size"), weights_sha256=sha256_file(directory / "model.weights.h5"))


_TWO_HEADED = weakref.WeakKeyDictionary()
_LOADED: dict = {}


def _two_headed(model):
    """The network with a second output: the activations of its embedding layer."""
    try:
        return _TWO_HEADED[model]
    except (KeyError, TypeError):
        pass
    from ._optional import import_keras
    keras = import_keras("the network parts of gslib.scan")

    try:
        layer = model.get_layer(EMBEDDING_LAYER)
    except ValueError:
        raise ValueError(f"the network has no layer named {EMBEDDING_LAYER!r} (build it with gslib.cnn.build_model)") from None
    both = keras.Model(model.inputs, [layer.output, model.outputs[0]], name="scan_heads")
    try:
        _TWO_HEADED[model] = both
    except TypeError:
        pass
    return both


def classify_samples(model, x, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
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
    from . import cnn  # Keras 3, or gslib.MissingExtraError naming the extra that adds it

    ops = cnn.keras.ops
    x = cnn.check_samples(x, model.inputs[0].shape[1])
    embedding, logits = _two_headed(model).predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(ops.softmax(logits, axis=-1), dtype=np.float32), np.asarray(embedding, dtype=np.float32)


def _load_network(directory: str, weights_sha256: str):
    key = (directory, weights_sha256)
    if key not in _LOADED:
        found = sha256_file(Path(directory) / "model.weights.h5")
        if found != weights_sha256:
            raise ValueError(f"the network in {directory} on {platform.node()} is not the one this scan uses "
                             f"(weights checksum {found[:12]}..., expected {weights_sha256[:12]}...)")
        from . import cnn

        _LOADED.clear()  # one network at a time per process
        _LOADED[key] = cnn.load_model(directory)
    return _LOADED[key]


def _entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of probabilities (NaN rows stay NaN)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    h = terms.sum(axis=-1)
    return np.where(np.isnan(p).any(axis=-1), np.nan, h)


# ----------------------------------------------------------------------------- one chunk


def _simulate(f, k, seeds, recipe: Recipe, backend: str):
    """Samples for a chunk with make_samples; members that blow up are marked and the rest rerun."""
    from .solvers import BlowUpError

    failed = np.zeros(len(f), dtype=bool)
    x = np.full((len(f), recipe.size, recipe.size, 3), np.nan, dtype=np.dtype(recipe.dtype))
    while not failed.all():
        ok = np.flatnonzero(~failed)
        try:
            x[ok] = make_samples(f[ok], k[ok], seeds[ok], size=recipe.size, t_end=recipe.t_end, gap=recipe.gap,
                                 dt=recipe.dt, Du=recipe.Du, Dv=recipe.Dv, stencil=recipe.stencil,
                                 square=recipe.square, shift=recipe.shift, backend=backend, dtype=recipe.dtype)
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
        chunk, start, stop, f, k, seed (arrays), recipe (dict), model_dir, weights_sha256,
        backend, batch_size; optionally ``samples`` (stored ``(x, failed)``, not simulated again)
        and ``return_samples``.

    Returns
    -------
    dict
        The chunk's arrays (probabilities, embedding, entropy, label_index, contrast, motion,
        failed) and where and how fast it ran.

    Raises
    ------
    ValueError
        If the network's weights differ from ``weights_sha256``.
    """
    from .solvers import resolve_backend

    recipe = Recipe(**job["recipe"])
    f, k, seed = (np.asarray(job[key]) for key in ("f", "k", "seed"))
    t0 = time.perf_counter()
    stored = job.get("samples") is not None
    x, failed = job["samples"] if stored else _simulate(f, k, seed, recipe, job["backend"])
    t1 = time.perf_counter()
    model, names = _load_network(job["model_dir"], job["weights_sha256"])
    width = model.get_layer(EMBEDDING_LAYER).units
    probabilities = np.full((len(f), len(names)), np.nan, dtype=np.float32)
    embedding = np.full((len(f), width), np.nan, dtype=np.float32)
    if not failed.all():
        probabilities[~failed], embedding[~failed] = classify_samples(model, x[~failed], job["batch_size"])
    label_index = np.where(failed, -1, np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1)).astype(np.int32)
    contrast, motion = pattern_measures(x)
    result = dict(chunk=int(job["chunk"]), start=int(job["start"]), stop=int(job["stop"]), probabilities=probabilities,
                  embedding=embedding, entropy=_entropy(probabilities).astype(np.float32), label_index=label_index,
                  contrast=contrast, motion=motion, failed=failed, seconds_simulate=t1 - t0,
                  seconds_classify=time.perf_counter() - t1,
                  backend="stored samples" if stored else resolve_backend(job["backend"]), host=platform.node(),
                  machine=provenance.machine())
    if job.get("return_samples") and not stored:
        result["samples"] = (x, failed)
    return result


# ----------------------------------------------------------------------------- the scan



def _recipe_for_size(size) -> Recipe:
    for name in ("paper", "book", "ci"):
        if RECIPES[name].size == size:
            return RECIPES[name]
    raise ValueError(f"no scale's recipe makes {size} x {size} samples for this network; pass a recipe "
                     "(gslib.dataset.Recipe) with size = the network's input side")


def _check_recipe(recipe: Recipe, size) -> None:
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a gslib.dataset.Recipe; got {type(recipe).__name__}")
    if size is not None and recipe.size != size:
        raise ValueError(f"the network takes {size} x {size} samples but the recipe makes {recipe.size} x "
                         f"{recipe.size}; use the recipe (scale) the network was trained with")
    if not (recipe.gap > 0 and recipe.t_end >= 2 * recipe.gap):
        raise ValueError(f"recipe gap={recipe.gap} and t_end={recipe.t_end}: need gap > 0 and t_end >= 2 * gap")
    steps = round(recipe.t_end / recipe.dt)
    if abs(steps * recipe.dt - recipe.t_end) > 1e-9 * recipe.t_end:
        raise ValueError(f"recipe t_end={recipe.t_end} must be a multiple of dt={recipe.dt}")


def _write_chunk(path: Path, arrays: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_manifest(out: Path) -> dict | None:
    path = out / _MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is unreadable ({exc}); remove the directory or choose another --out") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{out} holds something other than a scan ({manifest.get('format')!r}); choose another --out")
    return manifest


class SampleStore:
    """The simulated samples of a scan kept on disk, so that other networks classify the very same
    patterns without simulating them again (the simulation is almost all of a scan's time).

    ``DIR/chunk_NNNNN.npz`` holds chunk i's samples ``x`` (n, S, S, 3) float32 and ``failed`` (n,);
    ``DIR/manifest.json`` records the points' checksum, the seeds, the recipe and the chunk size (a
    store made for other points, seeds, recipe or chunks is refused with ValueError) and a SHA-256 per
    chunk; a chunk whose checksum does not match is ignored and simulated again. Samples at paper
    scale take about 0.2 MB per point (1.1 GB for the paper's scan).

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

    def __init__(self, directory, header: dict):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.manifest = dict(format=self.FORMAT, **header, chunks={})
        path = self.dir / _MANIFEST
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"samples: {path} is unreadable ({exc}); remove it or choose another directory") from None
            differ = [key for key in ("format", *header) if old.get(key) != self.manifest[key]]
            if differ:
                raise ValueError(f"samples: {self.dir} holds samples of another scan (differs in {', '.join(differ)}); "
                                 "choose another directory")
            self.manifest["chunks"] = old.get("chunks", {})

    def get(self, i: int):
        """Chunk i's (x, failed) if stored intact, else None."""
        name = chunk_name(i)
        entry = self.manifest["chunks"].get(name)
        path = self.dir / name
        if entry is None or not path.is_file() or sha256_file(path) != entry["sha256"]:
            return None
        with np.load(path, allow_pickle=False) as data:
            return data["x"], data["failed"]

    def put(self, i: int, x: np.ndarray, failed: np.ndarray, **record) -> None:
        """Store chunk i; ``record`` (e.g. seconds_simulate, backend, machine) goes into its manifest entry."""
        name = chunk_name(i)
        _write_chunk(self.dir / name, dict(x=np.asarray(x, dtype=np.float32), failed=np.asarray(failed, dtype=bool)))
        self.manifest["chunks"][name] = dict(sha256=sha256_file(self.dir / name), n=int(len(failed)), **record,
                                             created=provenance.now())
        write_json_atomic(self.dir / _MANIFEST, self.manifest)

    def require(self, i: int):
        """Chunk i's (x, failed); ValueError if it is missing or corrupt."""
        got = self.get(i)
        if got is None:
            raise ValueError(f"samples: chunk {chunk_name(i)} of {self.dir} is missing or corrupt")
        return got

    def measures(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`pattern_measures` of every stored sample (P,) each, in point order."""
        n_chunks = -(-self.manifest["n_points"] // self.manifest["chunk_size"])
        parts = [pattern_measures(self.require(i)[0]) for i in range(n_chunks)]
        return tuple(np.concatenate(p) for p in zip(*parts))

    def summary(self) -> dict:
        """Where and how fast the stored samples were simulated (for provenance records)."""
        chunks = list(self.manifest["chunks"].values())
        timed = [c for c in chunks if "seconds_simulate" in c]
        return dict(directory=str(self.dir), chunks=len(chunks),
                    simulate_seconds=round(sum(c["seconds_simulate"] for c in timed), 1) if timed else None,
                    chunks_timed=len(timed), backends=sorted({c["backend"] for c in timed}),
                    machines=sorted({c["machine"] for c in timed}))


def run_scan(out_dir, points, model="pass1", recipe: Recipe | None = None, *, chunk_size: int | None = None,
             executor=None, backend: str = "auto", batch_size: int = 128, samples=None, command: str | None = None,
             log=print) -> "ScanTable":
    """Classify every point of ``points`` with a network into directory ``out_dir``; resumes; returns the table.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The scan's directory.
    points : dict
        Arrays ``f``, ``k`` (P,), e.g. :func:`scan_points`.
    model : str or pathlib.Path, optional
        A shipped network's name (``"pass1"``) or a directory written by ``gslib train``.
    recipe : gslib.dataset.Recipe, optional
        How samples are made; None: the scale whose sample size is the network's input side
        (ci 48, book 64, paper 128).
    chunk_size : int, optional
        Points per chunk file; None: the existing scan's, else 64.
    executor : LocalExecutor or DaskExecutor, optional
        Where chunks run (default :class:`LocalExecutor`).
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
        Called with progress messages.

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
    net = _resolve_model(model)
    recipe = _recipe_for_size(net["size"]) if recipe is None else recipe
    _check_recipe(recipe, net["size"])
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _Lock(out):
        return _run_locked(out, f, k, net, recipe, chunk_size, executor, backend, batch_size, samples, command, log)


class _Lock:
    """An exclusive lock on a scan directory (released by the OS if the process dies), so that two
    runs never write the same scan at once."""

    def __init__(self, out: Path):
        self.path = out / ".lock"

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
            raise ValueError(f"{self.path.parent} is being written by another scan run; wait for it to finish") from None
        return self

    def __exit__(self, *exc):
        self.fh.close()


def _run_locked(out, f, k, net, recipe, chunk_size, executor, backend, batch_size, samples, command, log):
    from . import __version__

    old = _read_manifest(out)
    if chunk_size is None:
        chunk_size = old["chunk_size"] if old else DEFAULT_CHUNK_SIZE
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be a positive integer")
    P = len(f)
    header = dict(format=FORMAT, format_version=FORMAT_VERSION, n_points=P, points_sha256=_points_sha256(f, k),
                  seed_base=SEED_BASE, recipe=asdict(recipe), chunk_size=chunk_size,
                  model=dict(ref=net["ref"], weights_sha256=net["weights_sha256"], class_names=net["class_names"],
                             size=net["size"]),
                  embedding_layer=EMBEDDING_LAYER, gslib_version=__version__)
    manifest = dict(header, chunks={}, runs=[], complete=False)
    if old is not None:
        checks = dict(format_version=("format_version",), points=("n_points", "points_sha256"), seeds=("seed_base",),
                      recipe=("recipe",), chunk_size=("chunk_size",))
        differ = [what for what, keys in checks.items() if any(old.get(key) != header[key] for key in keys)]
        old_model = old.get("model", {})
        if (old_model.get("weights_sha256"), old_model.get("class_names")) != (net["weights_sha256"], net["class_names"]):
            differ.append("network")
        if differ:
            raise ValueError(f"{out} holds a different scan (differs in {', '.join(differ)}); "
                             "choose another --out or remove it")
        manifest["chunks"] = old.get("chunks", {})
        manifest["runs"] = old.get("runs", [])
        manifest["model"]["ref"] = old_model.get("ref", net["ref"])

    n_chunks = -(-P // chunk_size)
    todo = pending_chunks(out, manifest["chunks"], n_chunks, log)
    if not todo and old is not None and old.get("complete"):
        return load_scan_table(out)  # finished before: nothing to write
    for stale in out.glob("*.tmp"):  # left by a killed run
        stale.unlink()

    executor = executor or LocalExecutor()
    started = time.perf_counter()
    run = dict(started=provenance.now(), finished=None, wall_seconds=None, chunks_computed=0,
               chunks_kept=n_chunks - len(todo), executor=executor.describe(), command=command)
    manifest["runs"].append(run)
    write_json_atomic(out / _MANIFEST, manifest)
    if todo:
        log(f"scan: {P} points in {n_chunks} chunks of {chunk_size}; {n_chunks - len(todo)} done, "
            f"{len(todo)} to compute on {run['executor']}")
    seeds = SEED_BASE + np.arange(P, dtype=np.int64)
    store = None
    if samples is not None:
        store = SampleStore(samples, {key: header[key] for key in SampleStore.KEYS})

    def jobs():  # a generator: stored samples are read only when their chunk's turn comes
        for i in todo:
            start, stop = i * chunk_size, min(P, (i + 1) * chunk_size)
            yield dict(chunk=i, start=start, stop=stop, f=f[start:stop], k=k[start:stop], seed=seeds[start:stop],
                       recipe=asdict(recipe), model_dir=net["directory"], weights_sha256=net["weights_sha256"],
                       backend=backend, batch_size=batch_size, samples=store.get(i) if store else None,
                       return_samples=store is not None)

    for result in executor.map_unordered(compute_chunk, jobs()):
        i, start, stop = result["chunk"], result["start"], result["stop"]
        name = chunk_name(i)
        if "samples" in result:
            store.put(i, *result["samples"], seconds_simulate=round(result["seconds_simulate"], 3),
                      backend=result["backend"], machine=result["machine"])
        if result["probabilities"].shape != (stop - start, len(net["class_names"])):
            raise RuntimeError(f"{name}: the job returned probabilities of shape {result['probabilities'].shape}, "
                               f"expected {(stop - start, len(net['class_names']))}")
        _write_chunk(out / name, dict(index=np.arange(start, stop, dtype=np.int64), f=f[start:stop], k=k[start:stop],
                                      seed=seeds[start:stop], label_index=result["label_index"],
                                      probabilities=result["probabilities"], entropy=result["entropy"],
                                      embedding=result["embedding"], contrast=result["contrast"],
                                      motion=result["motion"], failed=result["failed"]))
        manifest["chunks"][name] = dict(start=start, stop=stop, sha256=sha256_file(out / name),
                                        n_failed=int(result["failed"].sum()),
                                        seconds_simulate=round(result["seconds_simulate"], 3),
                                        seconds_classify=round(result["seconds_classify"], 3),
                                        backend=result["backend"], host=result["host"], machine=result["machine"],
                                        created=provenance.now())
        run["chunks_computed"] += 1
        run["wall_seconds"] = round(time.perf_counter() - started, 1)
        write_json_atomic(out / _MANIFEST, manifest)
        failed = f", {int(result['failed'].sum())} blew up" if result["failed"].any() else ""
        log(f"{name} (points {start}-{stop - 1}): {result['seconds_simulate']:.1f} s simulate + "
            f"{result['seconds_classify']:.1f} s classify on {result['backend']}{failed}; "
            f"{len(manifest['chunks'])}/{n_chunks} chunks done")
    missing = [chunk_name(i) for i in range(n_chunks) if chunk_name(i) not in manifest["chunks"]]
    if missing:  # only possible with an executor that dropped jobs
        raise RuntimeError(f"{out}: chunks {missing[:5]} were not computed; run the scan again to finish it")
    manifest["complete"] = True
    run.update(finished=provenance.now(), wall_seconds=round(time.perf_counter() - started, 1))
    write_json_atomic(out / _MANIFEST, manifest)
    return load_scan_table(out)


# ----------------------------------------------------------------------------- the table


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
        Spatial standard deviation of u(T) (P,) (:func:`pattern_measures`).
    motion : numpy.ndarray or None
        Mean ``|u(T) - u(T - 60)|`` (P,).
    meta : dict or None
        The manifest (a run) or the provenance record (a shipped scan).
    reference : dict or None
        Shipped reference embeddings for :func:`flag_candidates`.
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
        return ("f", "k", "label", "label_index", "probabilities", "entropy", "failed", "embedding", "seed", "contrast",
                "motion")

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
        raise ValueError(f"after: point {i} is (f, k) = ({f1[i]:g}, {k1[i]:g}), but ({f0[i]:g}, {k0[i]:g}) in "
                         "before; compare scans of the same points in the same order")
    return ScanComparison(before=np.asarray(before["label"]).astype(str), after=np.asarray(after["label"]).astype(str))


def load_scan_table(out_dir, *, verify: bool = True, embedding: bool = True) -> ScanTable:
    """Load a finished scan written by :func:`run_scan`.

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
    manifest = _read_manifest(out)
    if manifest is None:
        raise ValueError(f"{out} holds no scan (no {_MANIFEST}); make one with `gslib scan`")
    if not manifest.get("complete"):
        raise ValueError(f"{out}: the scan is incomplete; rerun `gslib scan` with the same --out to finish it")
    P, size = manifest["n_points"], manifest["chunk_size"]
    keys = ["index", "f", "k", "seed", "label_index", "probabilities", "entropy", "failed"] + (["embedding"] if embedding else [])
    parts = {key: [] for key in keys}
    for i in range(-(-P // size)):
        name = chunk_name(i)
        entry, file = manifest["chunks"].get(name), out / name
        if entry is None or not file.is_file():
            raise ValueError(f"{file} is missing; rerun `gslib scan` with the same --out to recompute it")
        if verify and sha256_file(file) != entry["sha256"]:
            raise ValueError(f"{file} is corrupt (checksum mismatch); rerun `gslib scan` with the same --out to recompute it")
        try:
            with np.load(file, allow_pickle=False) as data:
                arrays = {key: data[key] for key in keys}
                arrays.update({key: data[key] for key in ("contrast", "motion") if key in data.files})
        except Exception as exc:  # a damaged file (zip, CRC, format errors), with verify=False
            raise ValueError(f"{file} is unreadable ({type(exc).__name__}: {exc}); rerun `gslib scan` with the same "
                             "--out to recompute it") from None
        if not np.array_equal(arrays["index"], np.arange(i * size, min(P, (i + 1) * size))):
            raise ValueError(f"{file} does not hold points {i * size}-{min(P, (i + 1) * size) - 1}")
        for key in arrays:
            parts.setdefault(key, []).append(arrays[key])
    n_chunks = -(-P // size)
    # contrast and motion: scans made before gslib recorded them lack them
    arrays = {key: np.concatenate(value) for key, value in parts.items() if len(value) == n_chunks}
    if len(arrays["index"]) != P or _points_sha256(arrays["f"], arrays["k"]) != manifest["points_sha256"]:
        raise ValueError(f"{out}: the chunks do not hold the scan's {P} points")
    names = tuple(manifest["model"]["class_names"])
    return ScanTable(f=arrays["f"], k=arrays["k"], label=_labels(arrays["label_index"], names),
                     label_index=arrays["label_index"], probabilities=arrays["probabilities"],
                     entropy=arrays["entropy"], failed=arrays["failed"], class_names=names,
                     embedding=arrays.get("embedding"), seed=arrays["seed"], contrast=arrays.get("contrast"),
                     motion=arrays.get("motion"), meta=manifest)


# ----------------------------------------------------------------------------- shipped scans


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
    """The paper-scale scan shipped with gslib (made by ``gslib scan`` and :func:`package_scan`).

    Reads ``gslib/data/scans/<name>/scan.npz`` (k, f, label, probabilities, ...) and provenance.json
    (into ``meta``); ``reference.npz``, when shipped, fills ``reference`` (training and validation
    embeddings for :func:`flag_candidates`).

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
        raise ValueError(f"no shipped scan {name!r} in this installation ({file} is missing; shipped: {available}); "
                         "make one with `gslib scan --scale paper` and `gslib package-scan`")
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
    return ScanTable(f=d["f"].astype(np.float64), k=d["k"].astype(np.float64), label=d["label"],
                     label_index=label_index, probabilities=probabilities,
                     entropy=d["entropy"] if "entropy" in d else _entropy(probabilities).astype(np.float32),
                     failed=failed, class_names=names,
                     embedding=d["embedding"].astype(np.float32) if "embedding" in d else None,
                     seed=d.get("seed"), contrast=d.get("contrast"), motion=d.get("motion"), meta=meta,
                     reference=reference)


def load_montage(name: str = "pass1") -> dict:
    """Example patterns per predicted class of a shipped scan (``montage.npz``, see :func:`montage_samples`).

    Parameters
    ----------
    name : str or pathlib.Path
        A shipped scan's name, or a directory written by :func:`package_scan`.

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
        raise ValueError(f"no montage for scan {name!r} ({file} is missing); package the scan with "
                         "`gslib package-scan --samples DIR`")
    with np.load(file, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _indices(labels, names) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    return np.array([index.get(label, -1) for label in np.asarray(labels).tolist()], dtype=np.int32)


def _open_store(table: "ScanTable", samples) -> SampleStore:
    """The existing sample store of a scan's table; ValueError if absent or made for other points."""
    store_manifest = Path(samples) / _MANIFEST
    if not store_manifest.is_file():
        raise ValueError(f"samples: {samples} holds no samples (no {_MANIFEST}); run `gslib scan --samples DIR`")
    header = json.loads(store_manifest.read_text())
    chunk_size = (table.meta or {}).get("chunk_size")
    if header.get("format") != SampleStore.FORMAT or header.get("points_sha256") != _points_sha256(table.f, table.k) \
            or (chunk_size is not None and header.get("chunk_size") != chunk_size):
        raise ValueError(f"samples: {samples} holds the samples of another scan")
    return SampleStore(samples, {key: header[key] for key in SampleStore.KEYS})


def montage_samples(table: "ScanTable", samples, per_class: int = 8) -> dict:
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


def _montage(table: "ScanTable", store: SampleStore, per_class: int) -> dict:
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class={per_class!r} must be a positive integer")
    chosen = []
    confidence = table.confidence
    for name in table.class_names:
        members = np.flatnonzero((table.label == name) & ~table.failed)
        members = members[np.argsort(-confidence[members], kind="stable")]
        _, first = np.unique(np.round(np.stack([table.k[members], table.f[members]], axis=1), 9), axis=0,
                             return_index=True)
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
    return dict(u=np.stack([np.clip(np.rint(255 * last[i]), 0, 255).astype(np.uint8) for i in chosen]),
                index=index, k=table.k[index], f=table.f[index], label=table.label[index],
                confidence=confidence[index].astype(np.float32))


def _runs_summary(manifest: dict) -> dict:
    """Commands, wall time, simulation and classification time, backends, machines of a scan manifest."""
    chunks = list(manifest["chunks"].values())
    return dict(commands=[r["command"] for r in manifest["runs"] if r.get("command")],
                wall_seconds=round(sum(r["wall_seconds"] or 0 for r in manifest["runs"]), 1),
                simulate_seconds=round(sum(c["seconds_simulate"] for c in chunks), 1),
                classify_seconds=round(sum(c["seconds_classify"] for c in chunks), 1),
                backends=sorted({c["backend"] for c in chunks}), machines=sorted({c["machine"] for c in chunks}),
                finished=max(c["created"] for c in chunks))


def _simulation_record(scan_dir, table: "ScanTable") -> dict:
    """How another scan of the same points, seeds and recipe simulated the samples that ``table`` classified."""
    other = _read_manifest(Path(scan_dir))
    m = table.meta
    if other is None or not other.get("complete"):
        raise ValueError(f"simulated_by: {scan_dir} holds no finished scan")
    same = ("n_points", "points_sha256", "seed_base", "recipe")
    if any(other.get(key) != m.get(key) for key in same):
        raise ValueError(f"simulated_by: {scan_dir} scanned other points, seeds or another recipe")
    summary = _runs_summary(other)
    del summary["classify_seconds"]
    return dict(scan=str(scan_dir), **summary, network=other["model"])


def package_scan(scan_dir, dest, *, embedding: bool = True, reference: dict | None = None, samples=None,
                 per_class: int = 8, simulated_by=None, command: str | None = None, note: str | None = None) -> dict:
    """Ship a finished scan: write ``dest/scan.npz`` (compact) and ``dest/provenance.json``.

    scan.npz holds k, f, label, label_index, probabilities (float32), entropy, failed, seed, class_names
    and, with ``embedding``, the embeddings as float16 (2.8 MB before compression for the paper's 5481 points).

    Parameters
    ----------
    scan_dir : path-like
        Directory of a finished scan (:func:`run_scan`).
    dest : path-like
        Directory of the shipped scan (created if needed).
    embedding : bool
        Ship the embeddings.
    reference : dict, optional
        Arrays for :func:`flag_candidates` (e.g. train_embedding, train_label, val_embedding,
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
    arrays = dict(k=table.k, f=table.f, label=table.label, label_index=table.label_index,
                  probabilities=table.probabilities.astype(np.float32), entropy=table.entropy.astype(np.float32),
                  failed=table.failed, seed=table.seed, class_names=np.array(table.class_names))
    arrays.update({key: table[key] for key in ("contrast", "motion") if key in table})
    store = _open_store(table, samples) if samples is not None else None
    if store is not None and "contrast" not in arrays:
        arrays["contrast"], arrays["motion"] = store.measures()
    if embedding:
        arrays["embedding"] = table.embedding.astype(np.float16)
    _write_chunk(dest / "scan.npz", arrays)
    if reference is not None:
        _write_chunk(dest / "reference.npz", {key: np.asarray(value) for key, value in reference.items()})
    if store is not None:
        _write_chunk(dest / "montage.npz", _montage(table, store, per_class))
    m = table.meta
    runs = _runs_summary(m)
    record = provenance.record(
        command or f"gslib package-scan --scan {scan_dir} --dest {dest}", seconds=runs["wall_seconds"],
        scan_commands=runs["commands"], n_points=m["n_points"],
        recipe=m["recipe"], seed_base=m["seed_base"], model=m["model"], n_failed=int(table.failed.sum()),
        simulate_seconds=runs["simulate_seconds"], classify_seconds=runs["classify_seconds"],
        backends=runs["backends"], machines=runs["machines"],
        scan_gslib_version=m["gslib_version"], scan_finished=runs["finished"],
        **({"samples": store.summary()} if store is not None else {}), **({"note": note} if note else {}),
        **({"simulation": _simulation_record(simulated_by, table)} if simulated_by is not None else {}),
        sha256={name: sha256_file(dest / name) for name in ("scan.npz", "reference.npz", "montage.npz")
                if (dest / name).is_file()})
    write_json_atomic(dest / "provenance.json", record)
    return record


# ----------------------------------------------------------------------------- discovery


class EmbeddingDistance:
    """Distance of embeddings from the classes of a training set, and the nearest class.

    Parameters
    ----------
    method : {"mahalanobis", "knn"}
        ``"mahalanobis"``: class means and one pooled within-class covariance S, shrunk to
        (1 - shrinkage) S + shrinkage (tr S / d) I; distance = min over classes of the
        Mahalanobis distance. ``"knn"``: embeddings scaled to unit length; distance = the
        Euclidean distance to the ``n_neighbors``-th nearest training embedding; the nearest
        class is that of the nearest one.
    shrinkage : float
        Shrinkage of the covariance, in (0, 1] (mahalanobis).
    n_neighbors : int
        Which neighbour sets the distance, >= 1 (knn).

    Raises
    ------
    ValueError
        If an argument is out of range.
    """

    METHODS = ("mahalanobis", "knn")

    def __init__(self, method: str = "mahalanobis", *, shrinkage: float = 0.1, n_neighbors: int = 5):
        if method not in self.METHODS:
            raise ValueError(f"method={method!r}; allowed: {', '.join(self.METHODS)}")
        if not 0 < shrinkage <= 1:
            raise ValueError(f"shrinkage={shrinkage!r} must lie in (0, 1]")
        if not isinstance(n_neighbors, int) or n_neighbors < 1:
            raise ValueError(f"n_neighbors={n_neighbors!r} must be a positive integer")
        self.method, self.shrinkage, self.n_neighbors = method, float(shrinkage), n_neighbors

    def fit(self, embeddings, labels) -> "EmbeddingDistance":
        x = _check_embeddings(embeddings, "train_embeddings")
        labels = np.asarray(labels)
        if labels.shape != (len(x),):
            raise ValueError(f"train_labels must have one label per embedding ({len(x)}); got shape {labels.shape}")
        self.classes, y = np.unique(labels, return_inverse=True)
        if self.method == "knn":
            from scipy.spatial import cKDTree

            if len(x) < self.n_neighbors:
                raise ValueError(f"knn needs at least n_neighbors={self.n_neighbors} training embeddings")
            self._tree, self._y = cKDTree(_unit(x)), y
            return self
        means = np.stack([x[y == c].mean(axis=0) for c in range(len(self.classes))])
        resid = x - means[y]
        cov = resid.T @ resid / max(len(x) - len(self.classes), 1)
        scale = np.trace(cov) / len(cov)
        scale = scale if scale > 0 else 1.0
        cov = (1 - self.shrinkage) * cov + self.shrinkage * scale * np.eye(len(cov))
        w, v = np.linalg.eigh(cov)
        self._whiten = v / np.sqrt(np.maximum(w, 1e-12 * w.max()))
        self._means = means @ self._whiten
        return self

    def score(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """(distance (n,), nearest class (n,)) for embeddings (n, d); NaN rows give NaN and ''."""
        x = np.asarray(embeddings, dtype=np.float64)
        ok = np.isfinite(x).all(axis=1)
        distance = np.full(len(x), np.nan)
        nearest = np.full(len(x), -1)
        if ok.any():
            if self.method == "knn":
                d, i = self._tree.query(_unit(x[ok]), k=self.n_neighbors)
                d, i = d.reshape(ok.sum(), -1), i.reshape(ok.sum(), -1)
                distance[ok], nearest[ok] = d[:, -1], self._y[i[:, 0]]
            else:
                z = x[ok] @ self._whiten
                d2 = (z ** 2).sum(axis=1)[:, None] - 2 * z @ self._means.T + (self._means ** 2).sum(axis=1)[None]
                nearest[ok] = d2.argmin(axis=1)
                distance[ok] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
        names = np.array([str(c) for c in self.classes] + [""])
        return distance, names[np.where(nearest < 0, len(self.classes), nearest)]


class ClassSpread:
    """Distance of embeddings from each training class, in units of that class's own spread.

    Chaotic classes (spots that split and die) vary from seed to seed far more than steady ones (a
    few isolated spots), so one distance threshold for all classes flags patterns of the broad
    classes that are merely a little away from their training point, and misses patterns that lie
    close to a narrow class but outside it. Here each class sets its own scale.

    Embeddings are whitened with the pooled, shrunk covariance of the training classes (as in
    :class:`EmbeddingDistance`). For class c, ``d_c(x)`` is the Euclidean distance from x to the
    nearest training embedding of c, and the spread ``s_c`` is the median of ``d_c`` over fresh
    patterns of c: the validation embeddings of c when labelled, otherwise each training embedding
    measured against the other training embeddings of c (leave one out). The *relative distance*
    of x is ``min_c d_c(x) / s_c``: about 1 for a typical new pattern of a known class, and larger
    than every class allows for a pattern that fits none. A class whose patterns are all identical
    (the uniform states L and H: ``s_c = 0``) fits only those patterns; a class with a single
    training pattern and no labelled validation pattern gets the median spread of the other
    classes, and where no class has a spread of its own, every class gets the median distance of
    the (unlabelled) validation embeddings from their nearest training embedding.

    Parameters
    ----------
    shrinkage : float
        Shrinkage of the pooled covariance, in (0, 1].

    Raises
    ------
    ValueError
        If ``shrinkage`` is out of range.
    """

    def __init__(self, shrinkage: float = 0.1):
        if not 0 < shrinkage <= 1:
            raise ValueError(f"shrinkage={shrinkage!r} must lie in (0, 1]")
        self.shrinkage = float(shrinkage)

    def fit(self, embeddings, labels, val_embeddings=None, val_labels=None) -> "ClassSpread":
        """Fit the classes and their spreads.

        Parameters
        ----------
        embeddings : numpy.ndarray
            Training embeddings (n, d).
        labels : numpy.ndarray
            Their classes (n,).
        val_embeddings : numpy.ndarray, optional
            Fresh patterns of the same classes (m, d).
        val_labels : numpy.ndarray, optional
            Their classes (m,): each class's spread is measured on them; None: leave-one-out
            within the training embeddings.

        Returns
        -------
        ClassSpread
            self.

        Raises
        ------
        ValueError
            If the shapes do not match, ``val_labels`` comes without ``val_embeddings``, or no
            spread can be measured (one training embedding per class and no validation embeddings).
        """
        from scipy.spatial import cKDTree

        x = _check_embeddings(embeddings, "train_embeddings")
        labels = np.asarray(labels)
        if labels.shape != (len(x),):
            raise ValueError(f"train_labels must have one label per embedding ({len(x)}); got shape {labels.shape}")
        if val_embeddings is None and val_labels is not None:
            raise ValueError("val_labels need val_embeddings")
        whiten = EmbeddingDistance("mahalanobis", shrinkage=self.shrinkage).fit(x, labels)._whiten
        self.classes, y = np.unique(labels, return_inverse=True)
        self._whiten = whiten
        z = x @ whiten
        self._trees = [cKDTree(z[y == c]) for c in range(len(self.classes))]
        spread = np.full(len(self.classes), np.nan)
        zv = None
        if val_embeddings is not None:
            v = _check_embeddings(val_embeddings, "val_embeddings")
            if v.shape[1] != x.shape[1]:
                raise ValueError(f"val_embeddings have {v.shape[1]} features but train_embeddings {x.shape[1]}")
            zv = v @ whiten
        if val_labels is not None:
            vl = np.asarray(val_labels)
            if vl.shape != (len(zv),):
                raise ValueError(f"val_labels must have one label per embedding ({len(zv)}); got shape {vl.shape}")
            for c, name in enumerate(self.classes):
                mine = vl == name
                if mine.any():
                    spread[c] = np.median(self._trees[c].query(zv[mine])[0])
        for c in np.flatnonzero(np.isnan(spread)):
            members = z[y == c]
            if len(members) > 1:
                spread[c] = np.median(self._trees[c].query(members, k=2)[0][:, 1])
        if np.isnan(spread).all():
            if zv is None:
                raise ValueError("no class has two training embeddings and there are no validation embeddings: "
                                 "the spread of the classes is unknown")
            spread[:] = np.median(cKDTree(z).query(zv)[0])
        spread[np.isnan(spread)] = np.median(spread[~np.isnan(spread)])
        self.spread = spread
        return self

    def relative(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """Relative distances of embeddings (n, d).

        Parameters
        ----------
        embeddings : numpy.ndarray
            (n, d); rows with NaN give NaN and ''.

        Returns
        -------
        relative : numpy.ndarray
            ``min_c d_c / s_c`` (n,).
        fit_class : numpy.ndarray
            The class c that attains it (n,): the known class the pattern fits best for its spread.
        """
        x = np.asarray(embeddings, dtype=np.float64)
        ok = np.isfinite(x).all(axis=1)
        relative = np.full(len(x), np.nan)
        best = np.full(len(x), -1)
        if ok.any():
            z = x[ok] @ self._whiten
            d = np.stack([tree.query(z)[0] for tree in self._trees], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(self.spread > 0, d / np.where(self.spread > 0, self.spread, 1.0),
                             np.where(d > 0, np.inf, 0.0))
            best[ok] = r.argmin(axis=1)
            relative[ok] = r.min(axis=1)
        names = np.array([str(c) for c in self.classes] + [""])
        return relative, names[np.where(best < 0, len(self.classes), best)]


def _unit(x):
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _check_embeddings(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, d); got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite")
    return x


@dataclass(frozen=True, eq=False)
class Candidates:
    """What :func:`flag_candidates` found, per point (P,) and per region.

    Attributes
    ----------
    k, f : numpy.ndarray
        The scan's points.
    entropy : numpy.ndarray
        Entropy of the network's probabilities (nats).
    distance : numpy.ndarray
        Distance of the embedding from the nearest training class (see :class:`EmbeddingDistance`).
    nearest_class : numpy.ndarray
        That class.
    flag_entropy : numpy.ndarray
        ``entropy > thresholds["entropy"]``.
    flag_distance : numpy.ndarray
        ``distance > thresholds["distance"]``.
    flagged : numpy.ndarray
        Flagged by any of the criteria used (never a failed or uniform point).
    region : numpy.ndarray
        Region id of each flagged point (-1: none); ``regions[i]["id"] == i``.
    regions : list of dict
        In the order asked for (default: most novel first; see :func:`flag_candidates`). Each
        holds id (its position), score (the novelty score), kind ("novel", "border" or "known"),
        score_parts (relative_distance, relative_distance_max, fit_class, fit_fraction,
        entropy_fraction, top_classes, top_probability), rank_novelty and rank_size (1 = most
        novel, largest), size (points), n_cells (distinct lattice cells), k_mean, f_mean, k_min,
        k_max, f_min, f_max, entropy_mean, distance_mean, distance_max, n_flag_entropy,
        n_flag_distance, labels (predicted class counts), nearest_class (most common), indices
        (the points).
    thresholds : dict
        entropy, distance, novelty, quantile, method, criteria, eps, min_size, n_calibration,
        spacing, min_contrast, n_uniform, join, order, border_probability.
    uniform : numpy.ndarray
        u(T) uniform (contrast below min_contrast): a homogeneous state, never flagged.
    relative_distance : numpy.ndarray or None
        Distance of each point's embedding from the class it fits best, in units of that class's
        spread (:class:`ClassSpread`).
    fit_class : numpy.ndarray or None
        That class.
    """

    k: np.ndarray
    f: np.ndarray
    entropy: np.ndarray
    distance: np.ndarray
    nearest_class: np.ndarray
    flag_entropy: np.ndarray
    flag_distance: np.ndarray
    flagged: np.ndarray
    region: np.ndarray
    regions: list
    thresholds: dict
    uniform: np.ndarray
    relative_distance: np.ndarray | None = None
    fit_class: np.ndarray | None = None

    def region_at(self, *, f: float, k: float, spacing=None, tolerance: float = 1.0) -> dict | None:
        """The region holding the scan point nearest to (f, k) (within ``tolerance`` lattice steps), or None."""
        i, d = nearest_point(f=self.f, k=self.k, f0=f, k0=k, spacing=spacing)
        if d > tolerance or self.region[i] < 0:
            return None
        return self.regions[self.region[i]]

    def by_kind(self, kind: str) -> list:
        """The regions of one kind ("novel", "border" or "known"), in the order of :attr:`regions`.

        Raises
        ------
        ValueError
            If ``kind`` is not one of the three.
        """
        if kind not in REGION_KINDS:
            raise ValueError(f"kind={kind!r}; allowed: {', '.join(REGION_KINDS)}")
        return [r for r in self.regions if r["kind"] == kind]


#: Kinds of flagged regions (see :func:`flag_candidates`).
REGION_KINDS = ("novel", "border", "known")
#: Orders of :attr:`Candidates.regions`.
REGION_ORDERS = ("novelty", "size")


def _probability_names(table, n_columns: int) -> np.ndarray:
    names = getattr(table, "class_names", None)
    if names is None and isinstance(table, dict):
        names = table.get("class_names")
    if names is None or len(names) != n_columns:
        names = [str(c) for c in range(n_columns)]
    return np.array([str(n) for n in names])


def flag_candidates(table, train_embeddings, train_labels, *, val_embeddings=None, val_probabilities=None,
                    val_labels=None, method: str = "mahalanobis", quantile: float = 0.99,
                    entropy_threshold: float | None = None, criteria=("entropy", "distance"), eps: float = 1.5,
                    min_size: int = 2, spacing=None, shrinkage: float = 0.1, n_neighbors: int = 5,
                    min_contrast: float | None = 1e-3, join: str = "class", order: str = "novelty",
                    border_probability: float = 0.9, extent_weight: float = 0.25) -> Candidates:
    """Flag scan points that may show a pattern outside the training classes, group them into regions and
    rank the regions by evidence of novelty.

    Flags and regions are described in the module's docstring. **Ranking.** Every region gets a
    novelty *score*, the product of two parts:

    * its *relative distance*: the median, over its points, of the distance of the embedding from
      the class that fits it best, in units of that class's own spread over fresh patterns
      (:class:`ClassSpread`). A chaotic class that varies from seed to seed may be broad, a steady
      one may not, so a region does not look novel merely for lying a little away from the training
      point of a broad class (the pooled distance of the flags treats every class as equally
      broad); the median makes one odd point count for little;
    * its *extent*: ``n_cells ** extent_weight``, the number of lattice cells it covers to a small
      power. A new class that covers a real area of the plane shows up as many points that agree;
      with 1/4, a region 16 times larger needs a relative distance half as large to rank equally,
      so extent breaks near-ties of strength but cannot lift a large region of a known class above
      a small one that fits no class. (Checked beyond the paper's pi: with each of the 13 Greek
      classes removed from the reference embeddings of the shipped first-pass scan in turn, the
      region of the removed class ranks first or second for every exponent from 0.2 to 0.3, and
      pi's region second; the network itself still knew the class there, which
      :mod:`gslib.discovery` removes too.)

    Each region also gets a *kind*:

    * ``"novel"``: its relative distance exceeds the ``quantile`` of the relative distances of the
      validation patterns (``thresholds["novelty"]``): its patterns fit no known class;
    * ``"border"``: not novel, and the network hesitates between two known classes: at least half
      of its points are flagged by the entropy, and its two most probable classes hold at least
      ``border_probability`` of its mean probability;
    * ``"known"``: neither: patterns within the spread of a known class, flagged because the pooled
      distance takes every class to be as narrow as the average.

    The kind labels a region and does not change the order. Regions come back most novel first,
    or largest first with ``order="size"``; every region carries both ranks.

    Parameters
    ----------
    table : ScanTable or mapping
        The scan (or a mapping with k, f, embedding, and entropy or probabilities).
    train_embeddings : numpy.ndarray
        Embeddings ``(n, d)`` of the training samples (:func:`classify_samples`).
    train_labels : numpy.ndarray
        Their classes ``(n,)``.
    val_embeddings : numpy.ndarray, optional
        Embeddings of held-out samples of the same classes, to calibrate the thresholds (their
        ``quantile``); None: every 5th training sample of each class is held out, the distance
        models are fitted on the others.
    val_probabilities : numpy.ndarray, optional
        Their class probabilities, to calibrate the entropy threshold the same way.
    val_labels : numpy.ndarray, optional
        Their classes: each class's spread is then measured on its validation patterns (fresh
        seeds, like the scan's); None: leave-one-out within the training embeddings.
    method : str, optional
        Distance model of the flags (:class:`EmbeddingDistance`).
    quantile : float, optional
        Quantile of the held-out samples that sets the thresholds (default 0.99: about 1 in 100
        patterns of a known class crosses each).
    entropy_threshold : float, optional
        Nats; None: calibrated from val_probabilities, or ln 2 without them.
    criteria : sequence of str, optional
        Which flags count: any of "entropy", "distance" (a point is flagged by either).
    eps, min_size : optional
        Regions: points within eps lattice steps are joined; smaller regions are dropped.
    spacing : optional
        Lattice spacing of the scan (default: :func:`grid_spacing`).
    shrinkage, n_neighbors : optional
        Parameters of the distance models (:class:`EmbeddingDistance`, :class:`ClassSpread`).
    min_contrast : float or None, optional
        Points whose u(T) has a spatial standard deviation below this are uniform: one of the
        homogeneous states, which the theory of chapter 1 describes completely, and never
        flagged (only if the table has the column ``contrast``; None: no such rule).
    join : {'class', 'lattice'}, optional
        "class": only points whose embeddings are nearest to the same training class are
        joined (a region holds one kind of pattern); "lattice": any flagged neighbours.
    order : {'novelty', 'size'}, optional
        Order of the regions: by score, most novel first (ties: the larger first), or by size,
        largest first.
    extent_weight : float, optional
        In [0, 1]: the power of the number of lattice cells in the score (default 1/4, see above;
        0 ranks by the relative distance alone, 1 comes close to ranking by size).
    border_probability : float, optional
        In (0.5, 1]: the share of the mean probability that two classes must hold for a
        hesitating region to be a border between them (default 0.9: at most a tenth left for
        all other classes together).

    Returns
    -------
    Candidates
        The flags, per point and per region.

    Raises
    ------
    ValueError
        If an argument is out of range or the shapes do not match.
    """
    criteria = tuple(criteria)
    if not criteria or set(criteria) - {"entropy", "distance"}:
        raise ValueError(f"criteria={criteria!r}; allowed: one or both of 'entropy', 'distance'")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile={quantile!r} must lie in (0, 1)")
    if order not in REGION_ORDERS:
        raise ValueError(f"order={order!r}; allowed: {', '.join(REGION_ORDERS)}")
    if not 0 <= extent_weight <= 1:
        raise ValueError(f"extent_weight={extent_weight!r} must lie in [0, 1]")
    if not 0.5 < border_probability <= 1:
        raise ValueError(f"border_probability={border_probability!r} must lie in (0.5, 1]")
    if join not in ("class", "lattice"):
        raise ValueError(f"join={join!r}; allowed: 'class', 'lattice'")
    k, f = np.asarray(table["k"], dtype=np.float64), np.asarray(table["f"], dtype=np.float64)
    if "embedding" not in table or table["embedding"] is None:
        raise ValueError("the scan has no embeddings (load it with embedding=True, or ship it with them)")
    embedding = np.asarray(table["embedding"], dtype=np.float64)
    if embedding.shape[0] != len(k):
        raise ValueError(f"the scan has {len(k)} points but {embedding.shape[0]} embeddings")
    probabilities = np.asarray(table["probabilities"], dtype=np.float64) if "probabilities" in table else None
    entropy = np.asarray(table["entropy"], dtype=np.float64) if "entropy" in table else _entropy(probabilities)
    failed = np.asarray(table["failed"], dtype=bool) if "failed" in table else ~np.isfinite(embedding).all(axis=1)

    train = _check_embeddings(train_embeddings, "train_embeddings")
    labels = np.asarray(train_labels)
    if train.shape[1] != embedding.shape[1]:
        raise ValueError(f"train_embeddings have {train.shape[1]} features but the scan's embeddings {embedding.shape[1]}")
    scorer = EmbeddingDistance(method, shrinkage=shrinkage, n_neighbors=n_neighbors)
    spread = ClassSpread(shrinkage)
    if val_embeddings is None:
        held = np.zeros(len(train), dtype=bool)
        for c in np.unique(labels):
            held[np.flatnonzero(labels == c)[4::5]] = True
        if not held.any() or held.all():
            raise ValueError("too few training embeddings to hold some out; pass val_embeddings")
        scorer.fit(train[~held], labels[~held])
        spread.fit(train[~held], labels[~held], train[held], labels[held])
        calibration = train[held]
    else:
        scorer.fit(train, labels)
        calibration = _check_embeddings(val_embeddings, "val_embeddings")
        if val_labels is not None and len(np.asarray(val_labels)) != len(calibration):
            raise ValueError(f"val_labels must have one label per validation embedding ({len(calibration)}); "
                             f"got {len(np.asarray(val_labels))}")
        spread.fit(train, labels, calibration, val_labels)
    distance_threshold = float(np.quantile(scorer.score(calibration)[0], quantile))
    novelty_threshold = float(np.quantile(spread.relative(calibration)[0], quantile))
    if entropy_threshold is None:
        entropy_threshold = (float(np.quantile(_entropy(val_probabilities), quantile)) if val_probabilities is not None
                             else math.log(2))
    distance, nearest = scorer.score(embedding)
    relative, fit_class = spread.relative(embedding)

    ok = ~failed & np.isfinite(distance)
    uniform = np.zeros(len(k), dtype=bool)
    if min_contrast is not None and "contrast" in table and table["contrast"] is not None:
        uniform = np.asarray(table["contrast"], dtype=np.float64) < min_contrast
        ok &= ~uniform
    flag_entropy = ok & (entropy > entropy_threshold)
    flag_distance = ok & (distance > distance_threshold)
    flagged = np.zeros(len(k), dtype=bool)
    if "entropy" in criteria:
        flagged |= flag_entropy
    if "distance" in criteria:
        flagged |= flag_distance
    spacing = spacing or grid_spacing(f=f, k=k)
    by_size = cluster_points(f=f, k=k, mask=flagged, spacing=spacing, eps=eps, min_size=min_size,
                             groups=nearest if join == "class" else None)
    predicted = np.asarray(table["label"]) if "label" in table else np.full(len(k), "")
    columns = None if probabilities is None else _probability_names(table, probabilities.shape[1])
    regions = []
    for r in range(by_size.max() + 1):
        idx = np.flatnonzero(by_size == r)
        cells = {(round(a / spacing[0]), round(b / spacing[1])) for a, b in zip(f[idx], k[idx])}
        names, counts = np.unique(nearest[idx], return_counts=True)
        got, got_counts = np.unique(predicted[idx], return_counts=True)
        fits, fit_counts = np.unique(fit_class[idx], return_counts=True)
        if probabilities is not None:
            mean_p = np.nanmean(probabilities[idx], axis=0)
            top = np.argsort(-mean_p, kind="stable")[:2]
            top_classes = {str(columns[c]): float(mean_p[c]) for c in top}
        else:  # without probabilities, the shares of the predicted labels stand in for them
            top_classes = {str(a): b / len(idx) for a, b in sorted(zip(got, got_counts), key=lambda t: -t[1])[:2]}
        strength = float(np.median(relative[idx]))
        score = strength * len(cells) ** extent_weight
        entropy_fraction = float(flag_entropy[idx].mean())
        top_probability = float(sum(top_classes.values()))
        if strength > novelty_threshold:
            kind = "novel"
        elif entropy_fraction >= 0.5 and len(top_classes) == 2 and top_probability >= border_probability:
            kind = "border"
        else:
            kind = "known"
        regions.append(dict(
            id=r, score=score, kind=kind,
            score_parts=dict(relative_distance=strength, extent=len(cells) ** extent_weight,
                             relative_distance_max=float(relative[idx].max()),
                             fit_class=str(fits[fit_counts.argmax()]), fit_fraction=float(np.mean(relative[idx] <= novelty_threshold)),
                             entropy_fraction=entropy_fraction, top_classes=top_classes, top_probability=top_probability),
            rank_novelty=0, rank_size=r + 1,
            size=len(idx), n_cells=len(cells), k_mean=float(k[idx].mean()), f_mean=float(f[idx].mean()),
            k_min=float(k[idx].min()), k_max=float(k[idx].max()), f_min=float(f[idx].min()), f_max=float(f[idx].max()),
            entropy_mean=float(entropy[idx].mean()), distance_mean=float(distance[idx].mean()),
            distance_max=float(distance[idx].max()), n_flag_entropy=int(flag_entropy[idx].sum()),
            n_flag_distance=int(flag_distance[idx].sum()),
            labels={str(a): int(b) for a, b in sorted(zip(got, got_counts), key=lambda t: -t[1])},
            nearest_class=str(names[counts.argmax()]), indices=idx))
    # by_size already orders by (size, first point); a stable sort on the score keeps that order for ties
    novelty_order = sorted(range(len(regions)), key=lambda i: -regions[i]["score"])
    for rank, i in enumerate(novelty_order, start=1):
        regions[i]["rank_novelty"] = rank
    if order == "novelty":
        regions = [regions[i] for i in novelty_order]
    region = np.full(len(k), -1, dtype=np.int64)
    for new_id, r in enumerate(regions):
        r["id"] = new_id
        region[r["indices"]] = new_id
    thresholds = dict(entropy=float(entropy_threshold), distance=distance_threshold, novelty=novelty_threshold,
                      quantile=quantile, method=method, criteria=list(criteria), eps=eps, min_size=min_size,
                      n_calibration=len(calibration), spacing=list(spacing), min_contrast=min_contrast,
                      n_uniform=int(uniform.sum()), join=join, order=order, border_probability=border_probability,
                      extent_weight=extent_weight,
                      spread="validation" if val_embeddings is not None and val_labels is not None
                      else "held-out training" if val_embeddings is None else "leave-one-out")
    return Candidates(k=k, f=f, entropy=entropy, distance=distance, nearest_class=nearest, flag_entropy=flag_entropy,
                      flag_distance=flag_distance, flagged=flagged, region=region, regions=regions,
                      thresholds=thresholds, uniform=uniform, relative_distance=relative, fit_class=fit_class)
