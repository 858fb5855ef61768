"""Datasets: the paper's point lists, the sample recipe, chunked files that resume and detect corruption."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import gslib
from gslib import dataset
from gslib.classes import NAMES

TINY = dataset.Recipe(size=48, t_end=100.0, gap=30.0, square=12, count_fraction=0.02)


def test_split_points_match_the_paper_totals():
    totals = {"train": 750, "val": 750, "test": 750, "train2": 1645, "val2": 1645}
    for split, total in totals.items():
        points = dataset.split_points(split)
        assert sum(p["count"] for p in points) == total
        assert {p["label"] for p in points} <= set(NAMES)  # h, l, vu normalised
    train = {p["label"]: (p["f"], p["k"]) for p in dataset.split_points("train")}
    assert len(train) == 15 and "pi" not in train
    for name, (f, k) in train.items():  # (f, k) order, as in gslib.classes
        assert gslib.classes.by_name(name).training_point == (f, k)
    assert {p["label"] for p in dataset.split_points("train2")} == set(NAMES)  # 16 classes, pi included


def test_seeds_are_distinct_across_splits():
    seeds = np.concatenate([dataset.split_plan(s, dataset.RECIPES["paper"])["seed"] for s in dataset.SPLITS])
    assert len(np.unique(seeds)) == len(seeds)


def test_make_samples_are_the_three_snapshots():
    f, k = [0.035, 0.04], [0.055, 0.065]
    x = dataset.make_samples(f=f, k=k, seed=[5, 6], size=32, t_end=120.0, square=10, steady_tol=None, backend="cpu")
    assert x.shape == (2, 32, 32, 3) and x.dtype == np.float32
    u0, v0 = gslib.initial.cnn_seed([5, 6], n=32, square=10)
    res = gslib.integrate(u0, v0, f=f, k=k, steps=480, backend="cpu", record_times=[60.0, 90.0, 120.0])
    np.testing.assert_array_equal(x, np.moveaxis(res.frames_u, 1, -1))
    assert not np.array_equal(x[..., 0], x[..., 2])  # the pattern moved between snapshots


def test_make_samples_bad_input():
    with pytest.raises(ValueError, match="f and k must be"):
        dataset.make_samples(f=[0.03, 0.04], k=[0.06], size=32, square=10)
    with pytest.raises(ValueError, match="seed must be an int or a sequence of 2 ints"):
        dataset.make_samples(f=[0.03, 0.04], k=[0.06, 0.06], seed=[1, 2, 3], size=32, square=10)
    with pytest.raises(ValueError, match="t_end >= 2 \\* gap"):
        dataset.make_samples(f=0.03, k=0.06, size=32, square=10, t_end=50.0, gap=30.0)


def test_build_load_resume_and_corruption(tmp_path):
    logs = []
    m = dataset.build_split("train", tmp_path, TINY, chunk_size=4, backend="cpu", log=logs.append)
    assert m["complete"] and m["n_patterns"] == 15 and len(m["chunks"]) == 4
    s = dataset.load_split(tmp_path)
    assert s.x.shape == (15, 48, 48, 3) and list(s.label[:2]) == ["alpha", "beta"]
    assert s.manifest["recipe"]["size"] == 48 and s.manifest["gslib_version"] == gslib.__version__
    first = dict(m["chunks"])

    # a finished run is not recomputed
    logs.clear()
    dataset.build_split("train", tmp_path, TINY, chunk_size=4, backend="cpu", log=logs.append)
    assert logs == []

    # corruption is detected on load, and recomputed (only that chunk) on resume
    path = tmp_path / "chunk_00002.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="chunk_00002.npz is corrupt"):
        dataset.load_split(tmp_path)
    m2 = dataset.build_split("train", tmp_path, TINY, chunk_size=4, backend="cpu", log=logs.append)
    assert any("chunk_00002.npz: missing or corrupt" in line for line in logs)
    assert m2["chunks"]["chunk_00000.npz"] == first["chunk_00000.npz"]
    np.testing.assert_array_equal(dataset.load_split(tmp_path).x, s.x)  # deterministic recompute

    # a different recipe in the same directory is refused
    with pytest.raises(ValueError, match="holds a different dataset"):
        dataset.build_split("train", tmp_path, dataset.with_overrides(TINY, t_end=160.0), chunk_size=4)
    with pytest.raises(ValueError, match="holds no dataset"):
        dataset.load_split(tmp_path / "nothing")


def test_killed_cli_run_resumes_without_recomputing(tmp_path):
    out = tmp_path / "train"
    cmd = [
        sys.executable,
        "-m",
        "gslib.cli",
        "dataset",
        "--split",
        "train",
        "--scale",
        "ci",
        "--out",
        str(out),
        "--chunk-size",
        "5",
        "--backend",
        "cpu",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd)
    manifest = out / "manifest.json"
    deadline = time.time() + 300
    while time.time() < deadline:
        if manifest.exists() and len(json.loads(manifest.read_text())["chunks"]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(manifest.read_text())
    assert not done["complete"] and len(done["chunks"]) >= 2
    subprocess.run(cmd, check=True, timeout=600)
    final = json.loads(manifest.read_text())
    assert final["complete"]
    for name, entry in done["chunks"].items():  # chunks finished before the kill were kept as they were
        assert final["chunks"][name] == entry
    assert len(dataset.load_split(out)) == final["n_patterns"] == 45
