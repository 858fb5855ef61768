"""The held-out-class benchmark of discovery, end to end at a tiny scale, with a resume after an interruption."""

import json

import numpy as np
import pytest

from gslib import cli, cnn, dataset, discovery, scan

TINY = dataset.Recipe(size=48, t_end=100.0, gap=30.0, square=12, count_fraction=0.02)


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Tiny train/val splits (one pattern per class), a 15-class network trained for one epoch, and its scan
    of 6 points with the samples kept."""
    root = tmp_path_factory.mktemp("holdout")
    for split in ("train", "val"):
        dataset.build_split(split, root / split, TINY, chunk_size=16, backend="numpy", log=lambda m: None)
    train, val = dataset.load_split(root / "train"), dataset.load_split(root / "val")
    names = sorted(set(train.label.tolist()), key=list(train.label).index)
    cnn.train(
        train.x,
        cnn.labels_to_indices(train.label, names),
        val.x,
        cnn.labels_to_indices(val.label, names),
        class_names=names,
        out=root / "net",
        epochs=1,
        verbose=0,
    )
    points = dict(k=np.repeat([0.055, 0.06, 0.0625], 2), f=np.tile([0.03, 0.04], 3))
    table = scan.run_scan(
        root / "scan",
        points,
        root / "net",
        TINY,
        chunk_size=3,
        backend="numpy",
        samples=root / "samples",
        log=lambda m: None,
    )
    return root, table


def test_holdout_benchmark_end_to_end_and_resume(inputs, tmp_path, capsys):
    root, table = inputs
    present = sorted(set(table.label.tolist()) - {"failed"})
    held = [present[0], next(c for c in ("kappa", "mu") if c != present[0])]  # the first has an area in the scan
    out = tmp_path / "bench"
    kwargs = dict(
        train=root / "train",
        val=root / "val",
        samples=root / "samples",
        scan=root / "scan",
        classes=held,
        epochs=1,
        batch_size=16,
    )

    def stop_at_second(msg):
        if msg.startswith(f"held out {held[1]}: training"):
            raise Interrupted

    with pytest.raises(Interrupted):
        discovery.holdout_benchmark(out, log=stop_at_second, **kwargs)
    record = discovery.load_holdout(out)
    assert [r["held_out"] for r in record["runs"]] == [held[0]] and record["complete"] is False
    first = record["runs"][0]
    area = table.label == held[0]
    assert first["n_area"] == area.sum() and first["n_regions"] >= 0 and first["epochs"] == 1
    assert held[0] not in first["classes"] and first["n_train"] == 14
    assert first["best_epoch"] == 1 and 0 <= first["val_accuracy"] <= 1 and np.isfinite(first["val_loss"])
    assert first["rank"] is None or 1 <= first["rank"] <= first["n_regions"]
    assert first["precision"] is None or 0 <= first["precision"] <= 1
    # the defaults use the motion; the same run by the look alone, too
    assert first["thresholds"]["criteria"] == ["entropy", "distance", "motion"] and first["thresholds"]["motion"] > 0
    look = first["look_only"]
    assert look["thresholds"]["criteria"] == ["entropy", "distance"] and look["thresholds"]["motion"] is None
    assert first["n_flagged"] >= look["n_flagged"]  # motion adds flags, never removes one
    assert look["rank"] is None or 1 <= look["rank"] <= look["n_regions"]
    for key in ("train_seconds", "scan_seconds", "flag_seconds", "wall_seconds", "finished", "thresholds"):
        assert key in first
    assert record["provenance"]["gslib_version"] and record["provenance"]["machine"]
    # the held-out network scanned the kept samples, not new simulations
    manifest = json.loads((out / held[0] / "scan" / "manifest.json").read_text())
    assert all(c["seconds_simulate"] == 0 for c in manifest["chunks"].values())
    # a record written before the networks' scores were kept, and scored by an older gslib (other ranks,
    # no scoring version), gets them again when rerun
    assert first["scoring"] == discovery.SCORING
    stale = json.loads((out / "holdout.json").read_text())
    for key in ("best_epoch", "val_accuracy", "val_loss", "look_only", "scoring"):
        del stale["runs"][0][key]
    stale["runs"][0]["rank"] = stale["runs"][0]["n_regions"] = -1
    stale["runs"][0]["with_motion"] = {"rank": 1}  # the key of scorings 1 and 2, dropped when scored again
    (out / "holdout.json").write_text(json.dumps(stale))
    # the same command again (here through the command line) finishes the second run and keeps the first
    args = [
        "discovery-benchmark",
        "--train",
        str(root / "train"),
        "--val",
        str(root / "val"),
        "--samples",
        str(root / "samples"),
        "--scan",
        str(root / "scan"),
        "--classes",
        ",".join(held),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--out",
        str(out),
    ]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert f"held out {held[0]}: done before" in captured.err and "top 3:" in captured.out
    record = discovery.load_holdout(out)
    assert [r["held_out"] for r in record["runs"]] == held and record["complete"] is True
    assert record["runs"][0] == first and record["commands"][-1].startswith("gslib discovery-benchmark")
    # other settings in the same directory are refused; unknown classes too
    assert cli.main([*args[:-4], "--batch-size", "8", "--out", str(out)]) == 2
    assert "other settings" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not in the training split"):
        discovery.holdout_benchmark(tmp_path / "x", **{**kwargs, "classes": ["pi"]})
    with pytest.raises(ValueError, match="epochs"):
        discovery.holdout_benchmark(tmp_path / "x", **{**kwargs, "epochs": 0})
