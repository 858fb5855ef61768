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
  pickle) through a temporary file, ``fsync`` and ``os.replace``; ``manifest.json`` (also replaced
  atomically) lists every finished chunk with its SHA-256 checksum (a :class:`gslib.store.ChunkStore`);
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
    nearest training embedding after scaling every embedding to unit length (Sun et al. 2022); or
(c) with the motion (on by default where the scan and its reference carry it): no known class both
    looks and moves like it, its joint novelty exceeding the ``quantile`` of the validation patterns'.

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
:meth:`Candidates.region_at` finds the region at a given point. The criterion ``"motion"`` (on by
default where the scan and its reference carry the motion) adds what the network need not see: how
much a pattern changed over its three snapshots (:func:`motion_index`, :class:`MotionSpread`). A
pattern is then known only if one class both looks and moves like it (:func:`joint_novelty`), which
finds a hidden class that looks like a neighbour but moves differently; regions are then ranked by
how rare their joint novelty is among the validation patterns (:func:`tail_surprise`).

Every point is written **(f, k)** in arguments, as in the rest of gslib; the tables hold both.

The package's modules: :mod:`~gslib.scan.points` (the points), :mod:`~gslib.scan.executors`
(where chunks run), :mod:`~gslib.scan.run` (the scan itself), :mod:`~gslib.scan.table` (reading
scans, shipped scans), :mod:`~gslib.scan.packaging` (shipping a scan), :mod:`~gslib.scan.novelty`
(the distance models) and :mod:`~gslib.scan.discovery` (the flags); every public name is available
as ``gslib.scan.<name>``. The networks come from :mod:`gslib.networks`.
"""

from __future__ import annotations

from ..networks import EMBEDDING_LAYER
from .discovery import (
    FLAG_CRITERIA,
    REGION_EVIDENCE,
    REGION_KINDS,
    REGION_ORDERS,
    Candidates,
    ClassSpread,
    EmbeddingDistance,
    MotionSpread,
    flag_candidates,
    joint_novelty,
    motion_index,
    tail_surprise,
)
from .executors import DaskExecutor, LocalExecutor
from .packaging import montage_samples, package_scan, update_reference
from .points import SEED_BASE, scan_points
from .reference import (
    classify_splits,
    flag_scan,
    flag_shipped,
    flag_with_reference,
    reference_embeddings,
    scan_network,
)
from .run import DEFAULT_CHUNK_SIZE, SampleStore, classify_samples, compute_chunk, pattern_measures, run_scan
from .table import (
    FAILED,
    FORMAT,
    FORMAT_VERSION,
    ScanComparison,
    ScanTable,
    compare_scans,
    load_montage,
    load_scan_table,
    load_shipped_scan,
    shipped_scan_dir,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EMBEDDING_LAYER",
    "FAILED",
    "FLAG_CRITERIA",
    "FORMAT",
    "FORMAT_VERSION",
    "REGION_EVIDENCE",
    "REGION_KINDS",
    "REGION_ORDERS",
    "SEED_BASE",
    "Candidates",
    "ClassSpread",
    "DaskExecutor",
    "EmbeddingDistance",
    "LocalExecutor",
    "MotionSpread",
    "SampleStore",
    "ScanComparison",
    "ScanTable",
    "classify_samples",
    "classify_splits",
    "flag_scan",
    "flag_shipped",
    "flag_with_reference",
    "reference_embeddings",
    "scan_network",
    "compare_scans",
    "compute_chunk",
    "flag_candidates",
    "load_montage",
    "load_scan_table",
    "load_shipped_scan",
    "montage_samples",
    "joint_novelty",
    "motion_index",
    "package_scan",
    "pattern_measures",
    "run_scan",
    "scan_points",
    "shipped_scan_dir",
    "tail_surprise",
    "update_reference",
]
