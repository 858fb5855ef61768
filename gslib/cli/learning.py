"""The CNN's data and training: ``gslib dataset``, ``train``, ``evaluate`` and ``package-model``.

The network's own module (:mod:`gslib.cnn`) needs Keras, which is imported only when one of these
commands runs; without it the command stops with the ``pip install`` that adds it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .._jsonio import write_json
from .._log import progress_logger
from ..scale import current as current_scale
from .argtypes import integer, real
from .options import BACKENDS, SCALES, SCHEDULES, SPLITS, add_quiet
from .registry import subcommand

__all__ = ["run_dataset", "run_train", "run_evaluate", "run_package_model"]


@subcommand(
    "dataset",
    "simulate one split of the CNN paper's training data into resumable chunks",
    "Simulate every pattern of one split of Scholz & Scholz (2022) (gslib.dataset): the paper's\n"
    "(f, k) points and pattern counts, one seed per pattern (never shared between splits), the\n"
    "paper's recipe at --scale paper or a smaller one at ci/book. Writes DIR/chunk_NNNNN.npz (no\n"
    "pickle) and DIR/manifest.json (points, seeds, recipe, gslib version, SHA-256 per chunk).\n"
    "Run the same command again after an interruption: finished chunks are kept, corrupt ones redone.\n\n"
    "example:\n"
    "  gslib dataset --split train --scale paper --out data/paper/train",
)
def _dataset(p: argparse.ArgumentParser):
    p.add_argument("--split", required=True, choices=SPLITS, help="which of the paper's point lists to simulate")
    p.add_argument(
        "--scale",
        choices=SCALES,
        default=None,
        help="recipe size: paper (128 x 128, t = 15000, all patterns), book, ci "
        "(None = the GSLIB_SCALE environment variable, default book)",
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="output directory (created; resumed if it holds this split)"
    )
    p.add_argument("--chunk-size", type=integer(1), default=64, metavar="P", help="patterns per chunk file")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="solver backend, as for simulate")
    add_quiet(p, "progress messages")
    return run_dataset


def run_dataset(args) -> int:
    """Run ``gslib dataset``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib dataset --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import dataset

    recipe = dataset.recipe_for(args.scale or current_scale())
    t0 = time.perf_counter()
    manifest = dataset.build_split(args.split, args.out, recipe, chunk_size=args.chunk_size, backend=args.backend)
    progress_logger(None, __name__)(
        f"{args.split}: {manifest['n_patterns']} patterns in {args.out} ({time.perf_counter() - t0:.1f} s this run)"
    )
    return 0


@subcommand(
    "train",
    "train the CNN of Scholz & Scholz (2022) on dataset splits",
    "Train the paper's network (gslib.cnn, Table II: 277 723 parameters for 15 classes) with its\n"
    "augmentation on a training split and monitor a validation split (directories written by\n"
    "`gslib dataset`). The classes are those present in the training split. Writes into --out the\n"
    "best weights (lowest validation loss), model.json, history.csv, provenance.json and\n"
    "evaluation_val.json. Rerun the same command after an interruption: training resumes.\n\n"
    "example:\n"
    "  gslib train --train data/paper/train --val data/paper/val --out runs/pass1 --epochs 600",
)
def _train(p: argparse.ArgumentParser):
    p.add_argument("--train", required=True, metavar="DIR", help="training split directory")
    p.add_argument("--val", required=True, metavar="DIR", help="validation split directory")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (resumed if it holds a run)")
    p.add_argument("--epochs", type=integer(1), default=600, help="training epochs (the paper: 600)")
    p.add_argument("--batch-size", type=integer(1), default=128, help="samples per gradient step")
    p.add_argument("--lr", type=real(positive=True), default=1e-3, help="Adam learning rate")
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="constant",
        help="learning rate: constant (the paper) or a half cosine from --lr down to 1 %% of it",
    )
    p.add_argument(
        "--patience",
        type=integer(1),
        default=None,
        help="stop after this many epochs without a lower validation loss (None: never)",
    )
    p.add_argument("--no-augment", action="store_true", help="train without the paper's augmentation")
    p.add_argument("--seed", type=integer(0), default=0, help="random seed of weights, shuffling, augmentation")
    p.add_argument("--note", default=None, help="a remark stored in provenance.json (e.g. how a run was resumed)")
    add_quiet(p, "per-epoch output")
    return run_train


def run_train(args) -> int:
    """Run ``gslib train``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib train --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import cnn, dataset
    from ..classes import NAMES

    train_split, val_split = dataset.load_split(args.train), dataset.load_split(args.val)
    names = sorted(set(train_split.label.tolist()), key=NAMES.index)
    y, y_val = cnn.labels_to_indices(train_split.label, names), cnn.labels_to_indices(val_split.label, names)
    t0 = time.perf_counter()
    history = cnn.train(
        train_split.x,
        y,
        val_split.x,
        y_val,
        class_names=names,
        out=args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
        augment=not args.no_augment,
        seed=args.seed,
        schedule=args.schedule,
        verbose=0 if args.quiet else 2,
    )
    seconds = time.perf_counter() - t0
    model, names = cnn.load_model(args.out)
    evaluation = cnn.evaluate(model, names, val_split.x, val_split.label)
    out = Path(args.out)
    write_json(out / "evaluation_val.json", evaluation)

    def summary(split):
        return {key: split.manifest[key] for key in ("split", "recipe", "n_patterns", "gslib_version")}

    record = cnn.provenance(
        args.command_line,
        seconds,
        training_seconds=cnn.training_seconds(out),
        epochs_run=len(history.get("epoch", [])),
        train_data=summary(train_split),
        val_data=summary(val_split),
        **({"note": args.note} if args.note else {}),
    )
    write_json(out / "provenance.json", record)
    print(f"validation accuracy {evaluation['accuracy']:.4f} after {record['epochs_run']} epochs ({seconds:.0f} s)")
    return 0


@subcommand(
    "evaluate",
    "evaluate a trained CNN on a dataset split",
    "Classify every sample of a split (a directory written by `gslib dataset`) with a trained\n"
    "network (a directory written by `gslib train`, or a shipped one: pass1) and report the accuracy,\n"
    "the confusion matrix and per-class precision and recall.\n\n"
    "example:\n"
    "  gslib evaluate --model pass1 --data data/paper/test --out evaluation_test.json",
)
def _evaluate(p: argparse.ArgumentParser):
    p.add_argument(
        "--model", required=True, metavar="DIR|NAME", help="training output directory or a shipped network (pass1)"
    )
    p.add_argument("--data", required=True, metavar="DIR", help="split directory to classify")
    p.add_argument("--out", default=None, metavar="FILE", help="write the evaluation as JSON")
    return run_evaluate


def run_evaluate(args) -> int:
    """Run ``gslib evaluate``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib evaluate --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import cnn, dataset

    model, names = cnn.load_pretrained(args.model) if args.model in cnn.PRETRAINED else cnn.load_model(args.model)
    split = dataset.load_split(args.data)
    evaluation = cnn.evaluate(model, names, split.x, split.label)
    print(f"accuracy {evaluation['accuracy']:.4f} on {evaluation['n_samples']} samples of {args.data}")
    print(f"{'class':8s} {'precision':>9s} {'recall':>7s}")
    for name in names:
        p, r = evaluation["precision"][name], evaluation["recall"][name]
        print(f"{name:8s} {'-' if p is None else f'{p:.3f}':>9s} {'-' if r is None else f'{r:.3f}':>7s}")
    if args.out:
        write_json(args.out, evaluation)
    return 0


@subcommand(
    "package-model",
    "ship a trained network with its records (evaluation on the test split, data provenance)",
    "Copy a finished training run (a directory written by `gslib train`) into DEST with its history and\n"
    "provenance, evaluate it on the test split (evaluation_test.json) and record how the train, val\n"
    "and test splits were made (datasets.json). This is how gslib/data/pretrained/pass1 is produced.\n\n"
    "example:\n"
    "  gslib package-model --run runs/paper/pass1 --train runs/paper/train --val runs/paper/val \\\n"
    "      --test runs/paper/test --dest gslib/data/pretrained/pass1",
)
def _package_model(p: argparse.ArgumentParser):
    p.add_argument("--run", dest="run_dir", required=True, metavar="DIR", help="training output directory")
    for split in ("train", "val", "test"):
        p.add_argument(f"--{split}", required=True, metavar="DIR", help=f"{split} split directory")
    p.add_argument("--dest", required=True, metavar="DIR", help="where to write the shipped network")
    return run_package_model


def run_package_model(args) -> int:
    """Run ``gslib package-model``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``gslib package-model --help``).

    Returns
    -------
    int
        The exit code.
    """
    from .. import cnn

    evaluation = cnn.package(args.run_dir, args.dest, train=args.train, val=args.val, test=args.test)
    print(f"test accuracy {evaluation['accuracy']:.4f} on {evaluation['n_samples']} samples; shipped to {args.dest}")
    return 0
