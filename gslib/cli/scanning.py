"""Scans of the (k, f) plane and discovery: ``gslib scan``, ``flag``, ``discovery-benchmark`` and ``package-scan``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from .._jsonio import write_json
from ..scan.discovery import FLAG_CRITERIA
from .argtypes import integer, real
from .options import BACKENDS, SCALES, SCHEDULES, add_quiet
from .registry import subcommand

__all__ = ["run_scan", "run_flag", "run_discovery_benchmark", "run_package_scan"]


@subcommand(
    "scan",
    "classify every point of a (k, f) parameter scan with a trained CNN (resumable, optionally on Dask)",
    "Simulate one pattern at every (k, f) point of a scan with the training recipe (gslib.scan; point i\n"
    "from seed 7000000 + i) and classify it with a network: predicted class, probabilities, entropy and\n"
    "the 256 activations of its embedding layer. Writes DIR/chunk_NNNNN.npz (no pickle) and\n"
    "DIR/manifest.json (recipe, network checksum, SHA-256 per chunk, machines, timings). Run the same\n"
    "command again after an interruption (even kill -9): finished chunks are kept, the rest computed.\n"
    "With --scheduler the chunks run on a Dask cluster (pip install 'dask[distributed]'); this\n"
    "process alone writes DIR.\n\n"
    "examples:\n"
    "  gslib scan --model pass1 --points paper --out runs/paper/scan1 --samples runs/paper/scan_samples\n"
    "  gslib scan --model pass2 --points paper --out runs/paper/scan2 --samples runs/paper/scan_samples\n"
    "  gslib scan --model runs/pass1 --points my_points.csv --out scan --scheduler tcp://10.0.0.5:8786\n"
    "  gslib scan --model pass1 --points paper --out scan --scheduler local:4   # 4 local workers",
)
def _scan(p: argparse.ArgumentParser):
    p.add_argument(
        "--model",
        required=True,
        metavar="NAME|DIR",
        help="a shipped network (pass1) or a directory written by `gslib train`",
    )
    p.add_argument(
        "--points",
        default="paper",
        metavar="paper|FILE.csv",
        help="the CNN paper's 5481 points, or a CSV file with columns k, f (k first)",
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="output directory (created; resumed if it holds this scan)"
    )
    p.add_argument(
        "--scale",
        choices=SCALES,
        default=None,
        help="recipe size (as for `gslib dataset`); must match the network's input side "
        "(None = the scale whose samples fit the network: ci 48, book 64, paper 128)",
    )
    p.add_argument(
        "--chunk-size",
        type=integer(1),
        default=None,
        metavar="P",
        help="points per chunk file (None = the existing scan's, else 64)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the chunks on a Dask cluster: a scheduler address (tcp://host:8786), or local:N "
        "for N local worker processes (None = in this process)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="solver backend, as for simulate (resolved where each chunk runs)",
    )
    p.add_argument("--batch-size", type=integer(1), default=128, metavar="B", help="samples per network batch")
    p.add_argument(
        "--samples",
        default=None,
        metavar="DIR",
        help="keep the simulated samples in DIR (about 0.2 MB per point at paper scale) and classify "
        "those already there without simulating: a second network scans the same patterns in minutes",
    )
    add_quiet(p, "progress messages")
    return run_scan


def run_scan(args) -> int:
    """Run ``gslib scan``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib scan --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import dataset, scan

    points = scan.scan_points(args.points)
    recipe = None if args.scale is None else dataset.recipe_for(args.scale)
    executor = scan.DaskExecutor(args.scheduler) if args.scheduler else scan.LocalExecutor()
    t0 = time.perf_counter()
    try:
        table = scan.run_scan(
            args.out,
            points,
            args.model,
            recipe,
            chunk_size=args.chunk_size,
            executor=executor,
            backend=args.backend,
            batch_size=args.batch_size,
            samples=args.samples,
            command=args.command_line,
        )
    finally:
        executor.close()
    seconds = time.perf_counter() - t0
    names, counts = np.unique(table.label, return_counts=True)
    summary = ", ".join(f"{n} {c}" for c, n in sorted(zip(counts, names), key=lambda t: (-t[0], t[1])))
    print(
        f"scan: {len(table)} points in {args.out} ({int(table.failed.sum())} blew up); wall time {seconds:.1f} s "
        f"this run; classes: {summary}"
    )
    return 0


@subcommand(
    "flag",
    "flag scan points that may show a pattern the network was not trained on",
    "Find candidate new pattern classes in a finished scan (gslib.scan.flag_candidates): points whose\n"
    "class probabilities have a high entropy, or whose embedding lies far from every training class\n"
    "(Mahalanobis or k-nearest-neighbour distance, threshold calibrated on the validation split), grouped\n"
    "into connected regions of the (k, f) lattice and ranked most novel first (distance from the class that\n"
    "fits best, in units of that class's spread, times the region's extent; kinds: novel, border, known).\n"
    "The training and validation splits (written by `gslib dataset` with the scan's recipe) are embedded\n"
    "with the scan's network.\n\n"
    "example:\n"
    "  gslib flag --scan runs/paper/scan1 --train runs/paper/train --val runs/paper/val --json flags.json",
)
def _flag(p: argparse.ArgumentParser):
    from ..scan import REGION_EVIDENCE, REGION_ORDERS, EmbeddingDistance

    p.add_argument("--scan", required=True, metavar="DIR", help="scan directory written by `gslib scan`")
    p.add_argument("--train", required=True, metavar="DIR", help="training split of the scan's network")
    p.add_argument("--val", required=True, metavar="DIR", help="validation split (calibrates the thresholds)")
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME|DIR",
        help="the scan's network (None = as recorded in the scan; its checksum is checked)",
    )
    p.add_argument(
        "--method",
        choices=EmbeddingDistance.METHODS,
        default="mahalanobis",
        help="distance of an embedding from the training classes",
    )
    p.add_argument(
        "--quantile",
        type=real(positive=True),
        default=0.99,
        help="thresholds: this quantile of the validation samples' distances (and entropies)",
    )
    p.add_argument(
        "--criteria",
        nargs="+",
        choices=FLAG_CRITERIA,
        default=None,
        help="which flags count (a point is flagged by any of them); motion: no known class both looks and "
        "moves (over the three snapshots) like the pattern (default: all three where the scan has the columns "
        "contrast and motion, else entropy distance, the look alone)",
    )
    p.add_argument(
        "--evidence",
        choices=REGION_EVIDENCE,
        default=None,
        help="a region's strength: the median relative distance (joint novelty with motion), or its median "
        "tail surprise under the validation patterns (default: tail with motion, distance without)",
    )
    p.add_argument("--min-size", type=integer(1), default=2, metavar="N", help="smallest region reported (points)")
    p.add_argument(
        "--order",
        choices=REGION_ORDERS,
        default="novelty",
        help="order of the regions: most novel first, or largest first",
    )
    p.add_argument("--json", default=None, metavar="FILE", help="also write thresholds and regions as JSON")
    return run_flag


def run_flag(args) -> int:
    """Run ``gslib flag``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib flag --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import scan

    table = scan.load_scan_table(args.scan)
    found = scan.flag_scan(
        table,
        train=args.train,
        val=args.val,
        model=args.model,
        method=args.method,
        quantile=args.quantile,
        criteria=args.criteria,
        min_size=args.min_size,
        order=args.order,
        evidence=args.evidence,
    )
    t = found.thresholds
    use_motion = found.flag_motion is not None
    print(
        f"{int(found.flagged.sum())} of {len(table)} points flagged (entropy > {t['entropy']:.3f} nats: "
        f"{int(found.flag_entropy.sum())}; {t['method']} distance > {t['distance']:.3g}: "
        f"{int(found.flag_distance.sum())}"
        + (f"; motion (joint novelty) > {t['motion']:.2f}: {int(found.flag_motion.sum())}" if use_motion else "")
        + f"); {len(found.regions)} regions of >= {args.min_size} points"
    )
    print(
        f"regions {'most novel' if args.order == 'novelty' else 'largest'} first, by {t['evidence']}; novel: "
        + (
            f"joint novelty > {t['motion']:.2f} (no class looks and moves like it)"
            if use_motion
            else f"relative distance > {t['novelty']:.2f} (fits no known class)"
        )
    )
    print(
        f"{'region':>6s} {'kind':>6s} {'score':>6s} {'rel.d':>5s} {'points':>6s} {'k mean':>8s} {'f mean':>8s} "
        f"{'entropy':>7s} {'distance':>8s} " + (f"{'joint':>5s} {'motion':>6s} " if use_motion else "") + " predicted"
    )
    for r in found.regions:
        top = ", ".join(f"{name} {n}" for name, n in list(r["labels"].items())[:3])
        mismatch = r["score_parts"].get("motion_mismatch")
        print(
            f"{r['id']:6d} {r['kind']:>6s} {r['score']:6.2f} {r['score_parts']['relative_distance']:5.2f} "
            f"{r['size']:6d} {r['k_mean']:8.5f} {r['f_mean']:8.5f} {r['entropy_mean']:7.3f} "
            f"{r['distance_mean']:8.3g} "
            + (
                f"{r['score_parts']['joint_novelty']:5.2f} {'-' if mismatch is None else format(mismatch, '.1f'):>6s} "
                if use_motion
                else ""
            )
            + f" {top}"
        )
    if args.json:
        write_json(args.json, dict(command=args.command_line, scan=str(args.scan), thresholds=t, regions=found.regions))
    return 0


@subcommand(
    "discovery-benchmark",
    "does discovery find a class it never saw? train without it, scan, flag, rank",
    "For each held-out class (gslib.discovery.holdout_benchmark): train the first-pass network without\n"
    "that class's patterns, classify the scan's kept samples with it (no simulation), run the discovery\n"
    "of `gslib flag`, and record the rank of the best region covering the area the full network labels\n"
    "as that class, the number of regions and the precision of the flagged points, with the default\n"
    "criteria (the look and the motion) and with the look alone (the columns 'look only'). Results go to\n"
    "OUT/holdout.json after every run, atomically, with provenance; rerun the same command after an\n"
    "interruption and it resumes (finished runs are kept, training and scans continue).\n\n"
    "example:\n"
    "  gslib discovery-benchmark --train runs/paper/train --val runs/paper/val --samples runs/paper/scan_samples \\\n"
    "      --scan pass1 --classes kappa,mu,theta,lambda --epochs 300 --out runs/paper/holdout",
)
def _discovery_benchmark(p: argparse.ArgumentParser):
    p.add_argument("--train", required=True, metavar="DIR", help="training split of the first pass")
    p.add_argument("--val", required=True, metavar="DIR", help="validation split of the first pass")
    p.add_argument("--samples", required=True, metavar="DIR", help="kept samples of the scan (`gslib scan --samples`)")
    p.add_argument(
        "--scan",
        default="pass1",
        metavar="NAME|DIR",
        help="the full network's scan of the same points, whose labels give each class's area",
    )
    p.add_argument(
        "--classes", default="kappa,mu,theta,lambda", metavar="A,B,...", help="classes to hold out, one run each"
    )
    p.add_argument("--epochs", type=integer(1), default=300, help="training epochs per held-out network")
    p.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="learning-rate schedule")
    p.add_argument("--seed", type=integer(0), default=0, help="random seed of the trainings")
    p.add_argument("--batch-size", type=integer(1), default=128, metavar="B", help="samples per batch")
    p.add_argument("--out", required=True, metavar="DIR", help="benchmark directory (resumed if it holds one)")
    add_quiet(p, "progress messages")
    return run_discovery_benchmark


def run_discovery_benchmark(args) -> int:
    """Run ``gslib discovery-benchmark``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib discovery-benchmark --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import discovery

    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    record = discovery.holdout_benchmark(
        args.out,
        train=args.train,
        val=args.val,
        samples=args.samples,
        scan=args.scan,
        classes=classes,
        epochs=args.epochs,
        schedule=args.schedule,
        seed=args.seed,
        batch_size=args.batch_size,
        command=args.command_line,
    )

    def show(value, fmt):
        return "-" if value is None else format(value, fmt)

    print(
        f"{'held out':>8s} {'rank':>5s} {'by size':>7s} {'regions':>7s} {'precision':>9s} {'recall':>6s} "
        f"{'val acc':>7s} {'look only: rank':>15s} {'recall':>6s}"
    )
    for r in record["runs"]:
        print(
            f"{r['held_out']:>8s} {show(r['rank'], 'd'):>5s} {show(r['rank_size'], 'd'):>7s} {r['n_regions']:7d} "
            f"{show(r['precision'], '.3f'):>9s} {show(r['recall'], '.3f'):>6s} "
            f"{show(r.get('val_accuracy'), '.3f'):>7s} "
            f"{show(r['look_only']['rank'], 'd'):>15s} {show(r['look_only']['recall'], '.3f'):>6s}"
        )
    top3 = sum(r["rank"] is not None and r["rank"] <= 3 for r in record["runs"])
    top3_look = sum(r["look_only"]["rank"] is not None and r["look_only"]["rank"] <= 3 for r in record["runs"])
    print(
        f"top 3: {top3} of {len(record['runs'])} held-out classes ({top3_look} by the look alone); "
        f"results in {Path(args.out) / 'holdout.json'}"
    )
    return 0


@subcommand(
    "package-scan",
    "ship a finished scan as a compact .npz with its provenance",
    "Write DEST/scan.npz (k, f, predicted class, probabilities, entropy, failed flags, seeds and, unless\n"
    "--no-embedding, the embeddings as float16) and DEST/provenance.json (commands, recipe, network\n"
    "checksum, timings, machines) from a scan directory; with --train and --val also DEST/reference.npz,\n"
    "the embeddings of those splits, so that gslib.scan.flag_candidates runs on the shipped scan alone.\n"
    "This is how gslib/data/scans/pass1 is made; gslib.scan.load_shipped_scan reads it.\n\n"
    "example:\n"
    "  gslib package-scan --scan runs/paper/scan1 --train runs/paper/train --val runs/paper/val \\\n"
    "      --dest gslib/data/scans/pass1",
)
def _package_scan(p: argparse.ArgumentParser):
    p.add_argument("--scan", required=True, metavar="DIR", help="scan directory written by `gslib scan`")
    p.add_argument("--dest", required=True, metavar="DIR", help="where to write scan.npz and provenance.json")
    p.add_argument("--no-embedding", action="store_true", help="leave the embeddings out")
    p.add_argument(
        "--train",
        default=None,
        metavar="DIR",
        help="also ship the embeddings of this training split (reference.npz, for `flag` on the shipped scan)",
    )
    p.add_argument("--val", default=None, metavar="DIR", help="and of this validation split (with --train)")
    p.add_argument(
        "--samples",
        default=None,
        metavar="DIR",
        help="the scan's kept samples (`gslib scan --samples`): also ship montage.npz, example patterns "
        "of every predicted class",
    )
    p.add_argument("--per-class", type=integer(1), default=8, metavar="N", help="montage patterns per class")
    p.add_argument(
        "--simulated-by",
        default=None,
        metavar="DIR",
        help="the scan that simulated the kept samples, when --scan only classified them (recorded)",
    )
    p.add_argument("--note", default=None, help="a remark stored in provenance.json")
    p.add_argument(
        "--update-reference",
        action="store_true",
        help="only add to DEST/reference.npz the motion indices of --train and --val (a scan shipped before "
        "gslib wrote them), leaving the shipped scan as it is",
    )
    return run_package_scan


def run_package_scan(args) -> int:
    """Run ``gslib package-scan``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib package-scan --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import scan

    if (args.train is None) != (args.val is None):
        raise ValueError("give both --train and --val, or neither")
    if args.update_reference:
        if args.train is None:
            raise ValueError("--update-reference needs --train and --val")
        scan.update_reference(args.dest, train=args.train, val=args.val, command=args.command_line)
        print(f"{Path(args.dest) / 'reference.npz'}: train_motion and val_motion added")
        return 0
    reference = None if args.train is None else scan.reference_embeddings(args.scan, train=args.train, val=args.val)
    record = scan.package_scan(
        args.scan,
        args.dest,
        embedding=not args.no_embedding,
        reference=reference,
        samples=args.samples,
        per_class=args.per_class,
        simulated_by=args.simulated_by,
        note=args.note,
        command=args.command_line,
    )
    size = sum((Path(args.dest) / name).stat().st_size for name in record["sha256"])
    print(f"{record['n_points']} points shipped to {args.dest} ({size / 1e6:.1f} MB)")
    return 0
