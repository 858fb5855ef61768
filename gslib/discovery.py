"""Does discovery find a class it has never seen? The held-out-class benchmark.

The paper's pi is one case. :func:`holdout_benchmark` makes more: for each chosen class c,

1. the first-pass network is trained again without c (:func:`gslib.cnn.train` on the training and
   validation splits with every pattern of c removed), into ``OUT/c/net``;
2. that network classifies the scan's kept samples (:func:`gslib.scan.run_scan` with ``samples``:
   no simulation), into ``OUT/c/scan``;
3. :func:`gslib.scan.flag_candidates` runs on that scan with the embeddings and the motion indices
   of the reduced splits' patterns, with its defaults (the look and the motion), and again with the
   look alone (the criteria ``"entropy"`` and ``"distance"``);
4. the run is scored against the *area of c*: the scan points that the full network (the reference
   scan) labels c. A region *covers* c when at least half of its points lie in that area; the
   run's ``rank`` is the best rank (most novel first) of a covering region, null if none;
   ``rank_size`` the same under size ranking; ``precision`` is the share of the flagged points that
   lie in the area, ``recall`` the share of the area that is flagged.

Every step resumes: training through Keras's backup, the scan through its manifest, and the results
file ``OUT/holdout.json`` is replaced atomically after each run (a run killed at any moment, even
with ``kill -9``, is finished by running the same command again; finished runs are kept). The file
holds the settings, the provenance (command, gslib version, machine, date) and per run
``held_out``, ``rank``, ``rank_size``, ``n_regions``, ``precision``, ``recall``, the top regions,
the network's kept epoch (``best_epoch``, lowest validation loss) with its ``val_accuracy`` and
``val_loss`` on the reduced validation split, the commands and the times; ``look_only`` holds
the same scores (rank, rank_size, n_regions, precision, recall, top regions, thresholds) of the run
by the look alone, and ``scoring`` the version of the scoring (:data:`SCORING`). A run
scored by an older gslib (another ``scoring``, or none) is scored again, and gets the kept epoch,
when the same command runs again: the networks and scans are reused, nothing is trained, and the
times (``flag_seconds`` among them) stay those of the run's first scoring.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import provenance
from ._jsonio import read_json, write_json
from ._log import progress_logger
from ._validate import check_int

__all__ = ["holdout_benchmark", "load_holdout", "COVER_FRACTION", "FORMAT", "SCORING"]

FORMAT = "gsbook-discovery-holdout"
#: A region covers the held-out class when at least this share of its points lies in the class's area.
COVER_FRACTION = 0.5
#: Version of the scoring of :func:`gslib.scan.flag_candidates` that a run's scores come from (3: the
#: defaults use the motion, by the joint novelty of look and motion and the tail surprise; ``look_only``
#: scores the look alone); a run scored by another version is scored again when the command runs again.
SCORING = 3
_RESULTS = "holdout.json"
_TOP = 5


def _reference_scan(scan_ref):
    from . import scan

    path = Path(scan_ref)
    if (path / "manifest.json").is_file():
        return scan.load_scan_table(path), str(path)
    return scan.load_shipped_scan(str(scan_ref)), f"shipped scan {scan_ref}"


def _settings(train, val, samples, scan_ref, epochs, schedule, seed, batch_size) -> dict:
    return dict(
        train=str(train),
        val=str(val),
        samples=str(samples),
        scan=str(scan_ref),
        epochs=int(epochs),
        schedule=schedule,
        seed=int(seed),
        batch_size=int(batch_size),
        cover_fraction=COVER_FRACTION,
    )


def _discovery_inputs(net, x, x_val, train_motion, val_motion, batch_size) -> dict:
    """Embeddings and probabilities of the reduced splits by a held-out network, beside their motion indices."""
    from . import cnn
    from . import scan as scanning

    model, _ = cnn.load_model(net)
    _, train_e = scanning.classify_samples(model, x, batch_size)
    val_p, val_e = scanning.classify_samples(model, x_val, batch_size)
    return dict(train_e=train_e, val_e=val_e, val_p=val_p, train_motion=train_motion, val_motion=val_motion)


def _discover(table, inputs, labels, labels_val, criteria=None):
    from . import scan as scanning

    return scanning.flag_candidates(
        table,
        inputs["train_e"],
        labels,
        val_embeddings=inputs["val_e"],
        val_probabilities=inputs["val_p"],
        val_labels=labels_val,
        train_motion=inputs["train_motion"],
        val_motion=inputs["val_motion"],
        criteria=criteria,
    )


def _score(found, area) -> dict:
    """How one discovery run did on the area of the held-out class (see the module's docstring)."""
    covering = [r for r in found.regions if area[r["indices"]].mean() >= COVER_FRACTION]
    best = min(covering, key=lambda r: r["rank_novelty"]) if covering else None
    n_flagged = int(found.flagged.sum())
    return dict(
        rank=best["rank_novelty"] if best else None,
        rank_size=min(r["rank_size"] for r in covering) if covering else None,
        n_regions=len(found.regions),
        n_covering=len(covering),
        n_flagged=n_flagged,
        precision=float(area[found.flagged].mean()) if n_flagged else None,
        recall=float(found.flagged[area].mean()) if area.any() else None,
        best_region=None
        if best is None
        else {key: best[key] for key in ("id", "score", "kind", "score_parts", "size", "k_mean", "f_mean", "labels")},
        top_regions=[
            dict(
                rank=r["rank_novelty"],
                kind=r["kind"],
                score=r["score"],
                size=r["size"],
                in_area=float(area[r["indices"]].mean()),
                k_mean=r["k_mean"],
                f_mean=r["f_mean"],
                labels=r["labels"],
            )
            for r in found.regions[:_TOP]
        ],
        thresholds=found.thresholds,
    )


def _scores(table, inputs, labels, labels_val, area) -> dict:
    """A run's scores with the defaults and by the look alone, stamped with :data:`SCORING`."""
    found = _discover(table, inputs, labels, labels_val)
    if "motion" not in found.thresholds["criteria"]:
        raise ValueError("the held-out scan has no columns contrast and motion: the benchmark needs them")
    return dict(
        **_score(found, area),
        look_only=_score(_discover(table, inputs, labels, labels_val, ("entropy", "distance")), area),
        scoring=SCORING,
    )


def load_holdout(path) -> dict:
    """Read a results file of :func:`holdout_benchmark` (a directory or its ``holdout.json``).

    Parameters
    ----------
    path : path-like
        The benchmark's directory, or the JSON file.

    Returns
    -------
    dict
        The record: format, settings, provenance, runs.

    Raises
    ------
    ValueError
        If the file is missing or not such a record.
    """
    path = Path(path)
    path = path / _RESULTS if path.is_dir() else path
    if not path.is_file():
        raise ValueError(f"{path}: no results of the held-out benchmark")
    record = read_json(path, what="record of the held-out benchmark")
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path} holds something other than held-out benchmark results")
    return record


def holdout_benchmark(
    out,
    *,
    train,
    val,
    samples,
    scan="pass1",
    classes=("kappa", "mu", "theta", "lambda"),
    epochs: int = 300,
    schedule: str = "cosine",
    seed: int = 0,
    batch_size: int = 128,
    command: str | None = None,
    log=None,
) -> dict:
    """Run the held-out-class benchmark (see the module's docstring); resumes; returns the record.

    Parameters
    ----------
    out : path-like
        Directory of the benchmark: ``OUT/<class>/net``, ``OUT/<class>/scan`` and ``OUT/holdout.json``.
    train, val : path-like
        The first pass's training and validation splits (``gslib dataset``).
    samples : path-like
        The kept samples of the scan (``gslib scan --samples DIR``).
    scan : str or path-like, optional
        The reference scan by the full network, whose labels give each class's area: a scan
        directory or a shipped scan's name (default ``"pass1"``); same points as the samples.
    classes : sequence of str, optional
        The classes held out, one run each (default κ, μ, θ, λ: Greek classes that cover an area
        of the scan).
    epochs : int, optional
        Training epochs of each held-out network (the shipped pass-1 network: 300).
    schedule : {"cosine", "constant"}, optional
        Learning-rate schedule (:func:`gslib.cnn.train`; the shipped network: cosine).
    seed : int, optional
        Seed of the training.
    batch_size : int, optional
        Samples per gradient step and per classification batch.
    command : str, optional
        The command line, recorded.
    log : callable, optional
        Receives progress messages (default: the logger ``gslib.discovery``, see :mod:`gslib._log`).

    Returns
    -------
    dict
        The record written to ``OUT/holdout.json``.

    Raises
    ------
    ValueError
        If a class is unknown to the splits, ``epochs`` is not positive, the samples or the
        reference scan do not match, or ``out`` holds a benchmark with other settings.
    """
    from . import cnn, dataset
    from . import scan as scanning
    from .classes import NAMES
    from .scan.points import points_sha256

    check_int("epochs", epochs, minimum=1)
    log = progress_logger(log, __name__)
    classes = [str(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes={classes!r} must name at least one class, each once")
    out = Path(out)
    train_split, val_split = dataset.load_split(train), dataset.load_split(val)
    known = sorted(set(train_split.label.tolist()), key=NAMES.index)
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise ValueError(f"classes: {', '.join(unknown)} not in the training split (allowed: {', '.join(known)})")
    reference, scan_desc = _reference_scan(scan)
    header = scanning.SampleStore.existing(samples).manifest
    points = dict(f=np.asarray(reference.f), k=np.asarray(reference.k))
    if (header.get("n_points"), header.get("points_sha256")) != (len(points["f"]), points_sha256(**points)):
        raise ValueError(f"samples={samples!s} were kept for other points than the scan {scan_desc}")
    recipe = dataset.Recipe(**header["recipe"])

    settings = _settings(train, val, samples, scan_desc, epochs, schedule, seed, batch_size)
    path = out / _RESULTS
    record = dict(format=FORMAT, settings=settings, classes=classes, runs=[])
    if path.is_file():
        old = load_holdout(path)
        if old["settings"] != settings:
            differ = [key for key in settings if old["settings"].get(key) != settings[key]]
            raise ValueError(
                f"{out} holds a benchmark with other settings ({', '.join(differ)}); "
                "choose another out directory or remove it"
            )
        record["runs"] = [r for r in old["runs"] if r["held_out"] in classes]
        record["commands"] = old.get("commands", [])
    out.mkdir(parents=True, exist_ok=True)
    done = {r["held_out"] for r in record["runs"]}
    # the motion indices need no network: once per split, then each run takes its reduced part
    motion = scanning.motion_index(*scanning.pattern_measures(train_split.x))
    motion_val = scanning.motion_index(*scanning.pattern_measures(val_split.x))
    commands = list(record.get("commands", [])) + ([command] if command else [])

    def save():
        record.update(
            commands=commands,
            provenance=provenance.record(command or "gslib.discovery.holdout_benchmark"),
            complete=all(c in {r["held_out"] for r in record["runs"]} for c in classes),
        )
        write_json(path, record)

    for c in classes:
        run_dir = out / c
        keep, keep_val = train_split.label != c, val_split.label != c
        x, labels = train_split.x[keep], train_split.label[keep]
        x_val, labels_val = val_split.x[keep_val], val_split.label[keep_val]
        area = np.asarray(reference.label) == c
        if c in done:
            run = next(r for r in record["runs"] if r["held_out"] == c)
            if "val_accuracy" not in run:  # a record of gslib before the networks' scores were kept
                run.update(cnn.kept_epoch(run_dir / "net"))  # written by the next save()
            run.pop("with_motion", None)  # the scores of gslib's scoring 1 and 2 with the criterion motion
            if run.get("scoring") != SCORING:  # scored by an older gslib: score again, nothing is trained
                inputs = _discovery_inputs(run_dir / "net", x, x_val, motion[keep], motion_val[keep_val], batch_size)
                table = scanning.load_scan_table(run_dir / "scan")
                run.update(_scores(table, inputs, labels, labels_val, area))
            log(f"held out {c}: done before (rank {run['rank']})")
            continue
        names = [n for n in known if n != c]
        times = {}
        t0 = time.perf_counter()
        finished = run_dir / "net" / "trained.json"
        if not finished.is_file():
            log(f"held out {c}: training on {len(x)} patterns of {len(names)} classes, {epochs} epochs")
            cnn.train(
                x,
                cnn.labels_to_indices(labels, names),
                x_val,
                cnn.labels_to_indices(labels_val, names),
                class_names=names,
                out=run_dir / "net",
                epochs=epochs,
                batch_size=batch_size,
                schedule=schedule,
                seed=seed,
                verbose=0,
            )
            write_json(
                finished,
                dict(epochs=epochs, training_seconds=cnn.training_seconds(run_dir / "net"), finished=provenance.now()),
            )
        times["train_seconds"] = read_json(finished)["training_seconds"]
        t1 = time.perf_counter()
        log(f"held out {c}: classifying the kept samples")
        table = scanning.run_scan(
            run_dir / "scan",
            points,
            run_dir / "net",
            recipe,
            chunk_size=header["chunk_size"],
            batch_size=batch_size,
            samples=samples,
            command=command,
            log=lambda m: None,
        )
        times["scan_seconds"] = round(time.perf_counter() - t1, 1)
        t2 = time.perf_counter()
        inputs = _discovery_inputs(run_dir / "net", x, x_val, motion[keep], motion_val[keep_val], batch_size)
        scores = _scores(table, inputs, labels, labels_val, area)
        times["flag_seconds"] = round(time.perf_counter() - t2, 1)
        run = dict(
            held_out=c,
            classes=names,
            n_train=int(len(x)),
            n_val=int(len(x_val)),
            epochs=epochs,
            **cnn.kept_epoch(run_dir / "net"),
            **scores,
            n_area=int(area.sum()),
            labels={str(a): int(b) for a, b in zip(*np.unique(table.label[area], return_counts=True))},
            network=str(run_dir / "net"),
            scan=str(run_dir / "scan"),
            wall_seconds=round(time.perf_counter() - t0, 1),
            finished=provenance.now(),
            **times,
        )
        record["runs"].append(run)
        save()
        log(
            f"held out {c}: rank {run['rank']} of {run['n_regions']} regions (by size {run['rank_size']}); "
            f"precision {run['precision'] if run['precision'] is None else round(run['precision'], 3)}"
        )
    save()
    return record
