"""Parameter scans: the paper's points, resumable chunked scans (local and Dask), shipped scans, discovery."""

import json
import math
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import numpy as np
import pytest

from gslib import cli, cnn, dataset, lattice, scan
from gslib import store as chunk_store
from gslib.scan import run as scan_run
from gslib.scan import table as scan_table

TINY = dataset.Recipe(size=48, t_end=200.0, gap=30.0, square=12)
CLASSES = ["alpha", "beta", "L"]


def tiny_points():
    """12 points on a 4 (k) x 3 (f) lattice; point 5 has f = 10, which blows up (forward Euler, dt f > 2)."""
    k = np.repeat([0.05, 0.055, 0.06, 0.065], 3)
    f = np.tile([0.02, 0.03, 0.04], 4)
    f[5] = 10.0
    return dict(f=f, k=k)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """An untrained network for 48 x 48 samples, saved the way cnn.train saves one."""
    import keras

    keras.utils.set_random_seed(0)
    directory = tmp_path_factory.mktemp("net")
    cnn.build_model(len(CLASSES), 48).save_weights(str(directory / "model.weights.h5"))
    (directory / "model.json").write_text(json.dumps({"class_names": CLASSES, "size": 48}))
    return directory


@pytest.fixture(scope="module")
def scanned(net, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan")
    table = scan.run_scan(out, tiny_points(), net, TINY, chunk_size=5, backend="numpy", log=lambda m: None)
    return out, table


def same_table(a, b):
    for key in ("f", "k", "label", "label_index", "failed", "seed"):
        np.testing.assert_array_equal(a[key], b[key])
    for key in ("probabilities", "entropy", "embedding"):
        np.testing.assert_array_equal(a[key], b[key])  # NaN rows (failed) compare equal


# ----------------------------------------------------------------------------- points


def test_paper_points():
    p = scan.scan_points("paper")
    assert len(p["f"]) == len(p["k"]) == 5481
    assert len(set(zip(p["k"].tolist(), p["f"].tolist()))) == 5369
    assert (p["f"][0], p["k"][0]) == (0.004, 0.04)  # the CSV's first row is k = 0.04, f = 0.004
    assert np.bincount(p["block"]).tolist() == [0, 2115, 2070, 1296]
    df, dk = lattice.grid_spacing(f=p["f"], k=p["k"])
    assert math.isclose(df, lattice.PAPER_SPACING[0]) and math.isclose(dk, lattice.PAPER_SPACING[1])
    f_axis, k_axis, image = lattice.scan_image(p["block"], f=p["f"], k=p["k"], fill=0)
    assert image.shape == (95, 87) and len(k_axis) == 87 and len(f_axis) == 95  # the paper's 87 (k) x 95 (f) map
    assert math.isclose(k_axis[0], 0.02375) and math.isclose(k_axis[-1], 0.0775)
    assert math.isclose(f_axis[0], 0.0015) and math.isclose(f_axis[-1], 0.119)


def test_user_points_file(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("# my points\nname, f, k\na, 0.03, 0.06\n\nb, 0.04, 0.065\n")
    p = scan.scan_points(good)
    assert p["f"].tolist() == [0.03, 0.04] and p["k"].tolist() == [0.06, 0.065] and "block" not in p
    cases = {
        "missing.csv": None,
        "empty.csv": "\n",
        "nok.csv": "f,kk\n0.1,0.2\n",
        "nopoints.csv": "k,f\n",
        "word.csv": "k,f\n0.06,0.03\n0.06,abc\n",
        "negative.csv": "k,f\n0.06,-0.03\n",
        "nan.csv": "k,f\n0.06,nan\n",
        "short.csv": "k,f\n0.06\n",
        "twice.csv": "k,f,k\n0.06,0.03,0.06\n",
    }
    messages = {}
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(ValueError) as info:
            scan.scan_points(path)
        messages[name] = str(info.value)
        assert str(path) in messages[name]  # every message names the file
    assert "no such points file" in messages["missing.csv"]
    assert "empty" in messages["empty.csv"]
    assert "no column 'k'" in messages["nok.csv"]
    assert "no points" in messages["nopoints.csv"]
    assert "line 3: f = 'abc' is not a number" in messages["word.csv"]
    assert ">= 0" in messages["negative.csv"] and "finite" in messages["nan.csv"]
    assert "line 2: 1 field(s)" in messages["short.csv"]
    assert "more than one column 'k'" in messages["twice.csv"]


# ----------------------------------------------------------------------------- the scan


def test_scan_table(net, scanned):
    out, table = scanned
    points = tiny_points()
    assert len(table) == 12 and table.class_names == tuple(CLASSES)
    np.testing.assert_array_equal(table.f, points["f"])
    np.testing.assert_array_equal(table.k, points["k"])
    np.testing.assert_array_equal(table.seed, scan.SEED_BASE + np.arange(12))
    # the blown-up point is marked, the others classified
    assert table.failed.tolist() == [i == 5 for i in range(12)]
    assert table.label[5] == "failed" and table.label_index[5] == -1
    assert np.isnan(table.probabilities[5]).all() and np.isnan(table.entropy[5]) and np.isnan(table.embedding[5]).all()
    ok = ~table.failed
    assert table.probabilities.shape == (12, 3) and table.embedding.shape == (12, 256)
    np.testing.assert_allclose(table.probabilities[ok].sum(axis=1), 1, rtol=1e-5)
    p = table.probabilities[ok].astype(np.float64)
    np.testing.assert_allclose(table.entropy[ok], -(p * np.log(p)).sum(axis=1), rtol=1e-5)
    assert set(table.label[ok]) <= set(CLASSES)
    assert (table.embedding[ok] >= 0).all()  # ReLU activations
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["complete"] and len(manifest["chunks"]) == 3 and manifest["chunks"]["chunk_00001.npz"]["n_failed"] == 1
    )
    # a row is make_samples + the network, from the point's own seed
    model, _ = cnn.load_model(net)
    x = dataset.make_samples(
        f=table.f[7], k=table.k[7], seed=scan.SEED_BASE + 7, size=48, t_end=200.0, square=12, backend="numpy"
    )
    probabilities, embedding = scan.classify_samples(model, x)
    np.testing.assert_allclose(probabilities[0], table.probabilities[7], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(embedding[0], table.embedding[7], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cnn.predict_proba(model, x), probabilities, rtol=1e-5, atol=1e-7)
    # contrast and motion: spatial std of u(T), mean |u(T) - u(T - 60)|
    np.testing.assert_allclose(table.contrast[7], x[0, :, :, 2].std(), rtol=1e-4)
    np.testing.assert_allclose(table.motion[7], np.abs(x[0, :, :, 2] - x[0, :, :, 0]).mean(), rtol=1e-4)
    assert np.isnan(table.contrast[5]) and (table.contrast[ok] > 0).all()
    with np.load(out / "chunk_00000.npz", allow_pickle=False) as data:  # plain arrays, no pickle
        assert set(data.files) == {
            "index",
            "f",
            "k",
            "seed",
            "label_index",
            "probabilities",
            "entropy",
            "embedding",
            "contrast",
            "motion",
            "failed",
        }


def test_finished_scan_is_not_recomputed(net, scanned):
    out, table = scanned
    before = (out / "manifest.json").read_text()
    logs = []
    again = scan.run_scan(
        out, tiny_points(), net, TINY, backend="numpy", log=logs.append
    )  # chunk size from the manifest
    assert logs == [] and (out / "manifest.json").read_text() == before
    same_table(again, table)


class Crash(Exception):
    pass


@pytest.mark.parametrize("where", ["compute", "manifest"])
def test_resume_after_a_crash(net, scanned, tmp_path, monkeypatch, where):
    """A run that dies after 2 chunks (in a chunk's computation, or between writing a chunk and listing it)
    is finished by a second run: every point exactly once, the same table, finished chunks kept."""
    out = tmp_path / "scan"
    calls = []
    if where == "compute":
        real = scan.compute_chunk

        def flaky(job):
            if len(calls) == 2:
                raise Crash()
            calls.append(job["chunk"])
            return real(job)

        monkeypatch.setattr(scan_run, "compute_chunk", flaky)
    else:
        real = chunk_store.write_json

        def flaky(path, obj):  # the 1st write opens the run; writes 2 and 3 list chunks 0 and 1
            calls.append(len(obj["chunks"]))
            if len(calls) == 4:
                raise Crash()
            real(path, obj)

        monkeypatch.setattr(chunk_store, "write_json", flaky)
    with pytest.raises(Crash):
        scan.run_scan(out, tiny_points(), net, TINY, chunk_size=5, backend="numpy", log=lambda m: None)
    monkeypatch.undo()
    done = json.loads((out / "manifest.json").read_text())
    assert not done["complete"] and sorted(done["chunks"]) == ["chunk_00000.npz", "chunk_00001.npz"]
    if where == "manifest":
        assert (out / "chunk_00002.npz").exists()  # written, but never listed: it is computed again
    with pytest.raises(ValueError, match="incomplete"):
        scan.load_scan_table(out)
    table = scan.run_scan(out, tiny_points(), net, TINY, backend="numpy", log=lambda m: None)
    final = json.loads((out / "manifest.json").read_text())
    assert final["complete"] and len(final["runs"]) == 2 and final["runs"][1]["chunks_computed"] == 1
    for name, entry in done["chunks"].items():
        assert final["chunks"][name] == entry
    assert len(table) == 12
    same_table(table, scanned[1])


@pytest.mark.slow
def test_killed_cli_scan_resumes(net, tmp_path):
    points = tmp_path / "points.csv"
    k, f = np.meshgrid([0.05, 0.055, 0.06, 0.065], [0.02, 0.03, 0.04])
    points.write_text("k,f\n" + "".join(f"{a},{b}\n" for a, b in zip(k.ravel(), f.ravel())))
    out = tmp_path / "scan"
    args = [
        "scan",
        "--model",
        str(net),
        "--points",
        str(points),
        "--out",
        str(out),
        "--chunk-size",
        "1",
        "--backend",
        "numpy",
        "--quiet",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gslib.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    manifest = out / "manifest.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists() and len(json.loads(manifest.read_text())["chunks"]) >= 1:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(manifest.read_text())
    assert not done["complete"] and 1 <= len(done["chunks"]) < 12
    assert cli.main(args) == 0
    final = json.loads(manifest.read_text())
    assert final["complete"] and final["recipe"] == json.loads(json.dumps(asdict(dataset.RECIPES["ci"])))
    for name, entry in done["chunks"].items():
        assert final["chunks"][name] == entry
    table = scan.load_scan_table(out)
    assert len(table) == 12
    np.testing.assert_array_equal(table.k, k.ravel())
    np.testing.assert_array_equal(table.f, f.ravel())


def test_corrupt_or_missing_chunks(net, scanned, tmp_path):
    out = tmp_path / "scan"
    shutil.copytree(scanned[0], out)
    path = out / "chunk_00001.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="chunk_00001.npz is corrupt"):
        scan.load_scan_table(out)
    with pytest.raises(ValueError, match="chunk_00001.npz is unreadable"):
        scan.load_scan_table(out, verify=False)
    (out / "chunk_00002.npz").unlink()
    with pytest.raises(ValueError, match="chunk_00001.npz is corrupt"):
        scan.load_scan_table(out)
    shutil.copyfile(scanned[0] / "chunk_00001.npz", out / "chunk_00001.npz")
    with pytest.raises(ValueError, match="chunk_00002.npz is missing"):
        scan.load_scan_table(out)
    path.write_bytes(bytes(data))
    logs = []
    table = scan.run_scan(out, tiny_points(), net, TINY, backend="numpy", log=logs.append)
    assert any("chunk_00001.npz: missing or corrupt" in line for line in logs)
    assert any("chunk_00002.npz: missing or corrupt" in line for line in logs)
    assert not any("chunk_00000.npz" in line for line in logs)
    same_table(table, scanned[1])


def test_a_different_scan_is_refused(net, scanned, tmp_path):
    out = scanned[0]
    other = tiny_points()
    other["f"] = other["f"] + 0.001
    with pytest.raises(ValueError, match="holds a different scan .*points"):
        scan.run_scan(out, other, net, TINY)
    with pytest.raises(ValueError, match="holds a different scan .*recipe"):
        scan.run_scan(out, tiny_points(), net, dataset.with_overrides(TINY, t_end=260.0))
    with pytest.raises(ValueError, match="holds a different scan .*chunk_size"):
        scan.run_scan(out, tiny_points(), net, TINY, chunk_size=4)
    with pytest.raises(ValueError, match="takes 48 x 48 samples but the recipe makes 64"):
        scan.run_scan(tmp_path, tiny_points(), net, dataset.RECIPES["book"])
    with pytest.raises(ValueError, match="neither a shipped network"):
        scan.run_scan(tmp_path, tiny_points(), tmp_path / "nothing", TINY)
    with pytest.raises(ValueError, match="holds no scan"):
        scan.load_scan_table(tmp_path / "nothing")
    with pytest.raises(ValueError, match="must be a mapping"):
        scan.run_scan(tmp_path, [0.1, 0.2], net, TINY)


def test_kept_samples_are_classified_without_simulating(net, scanned, tmp_path, monkeypatch):
    store = tmp_path / "samples"
    first = scan.run_scan(
        tmp_path / "a", tiny_points(), net, TINY, chunk_size=5, backend="numpy", samples=store, log=lambda m: None
    )
    same_table(first, scanned[1])
    assert sorted(p.name for p in store.glob("chunk_*.npz")) == [
        "chunk_00000.npz",
        "chunk_00001.npz",
        "chunk_00002.npz",
    ]
    with np.load(store / "chunk_00001.npz", allow_pickle=False) as data:
        assert data["x"].shape == (5, 48, 48, 3) and data["x"].dtype == np.float32
        assert data["failed"].tolist() == [True, False, False, False, False]  # point 5 blew up
    # a corrupt stored chunk is simulated again; the others are not simulated at all
    path = store / "chunk_00002.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    simulated = []
    real = scan_run._simulate
    monkeypatch.setattr(scan_run, "_simulate", lambda f, *a: simulated.append(len(f)) or real(f, *a))
    second = scan.run_scan(
        tmp_path / "b", tiny_points(), net, TINY, chunk_size=5, backend="numpy", samples=store, log=lambda m: None
    )
    assert simulated == [2]  # chunk 2 holds points 10 and 11
    same_table(second, scanned[1])
    chunks = json.loads((tmp_path / "b" / "manifest.json").read_text())["chunks"]
    assert [chunks[name]["backend"] for name in sorted(chunks)] == ["stored samples", "stored samples", "numpy"]
    # the second scan only classified: its package records the first as the one that simulated
    record = scan.package_scan(tmp_path / "b", tmp_path / "ship", samples=store, simulated_by=tmp_path / "a")
    assert record["simulation"]["scan"] == str(tmp_path / "a") and record["simulation"]["simulate_seconds"] > 0
    assert record["simulation"]["backends"] == ["numpy"]
    with pytest.raises(ValueError, match="simulated_by: .* holds no finished scan"):
        scan.package_scan(tmp_path / "b", tmp_path / "ship", simulated_by=tmp_path / "nothing")
    # samples of other points, seeds or recipe are refused
    other = tiny_points()
    other["f"] = other["f"] + 0.001
    with pytest.raises(ValueError, match="samples: .* holds samples of another scan .*points_sha256"):
        scan.run_scan(tmp_path / "c", other, net, TINY, chunk_size=5, samples=store)
    with pytest.raises(ValueError, match="samples: .*differs in recipe"):
        scan.run_scan(
            tmp_path / "d", tiny_points(), net, dataset.with_overrides(TINY, t_end=260.0), chunk_size=5, samples=store
        )


@pytest.mark.slow
def test_dask_cluster_gives_the_same_table(net, scanned, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with scan.DaskExecutor(cluster.scheduler_address) as executor:
            table = scan.run_scan(
                tmp_path, tiny_points(), net, TINY, chunk_size=5, executor=executor, backend="numpy", log=lambda m: None
            )
            assert "dask" in executor.describe()
    local = scanned[1]
    for key in ("f", "k", "seed", "label", "label_index", "failed"):
        np.testing.assert_array_equal(table[key], local[key])
    # the same computation in other processes: equal to rounding (bitwise equal on the project's machines)
    for key in ("probabilities", "entropy", "embedding"):
        np.testing.assert_allclose(table[key], local[key], rtol=1e-5, atol=1e-6)
    assert json.loads((tmp_path / "manifest.json").read_text())["runs"][0]["executor"].startswith("dask")


def test_dask_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(ValueError, match="pip install 'dask\\[distributed\\]'"):
        scan.DaskExecutor("tcp://127.0.0.1:8786")


def test_dask_local_address_is_checked():
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="'local' or 'local:N'"):
        scan.DaskExecutor("local:two")


def test_local_executor_is_lazy_and_ordered():
    seen = []
    results = scan.LocalExecutor().map_unordered(lambda x: seen.append(x) or x * x, [1, 2, 3])
    assert seen == [] and list(results) == [1, 4, 9]


# ----------------------------------------------------------------------------- shipped scans


def test_package_and_load_a_shipped_scan(scanned, tmp_path, monkeypatch):
    out, table = scanned
    record = scan.package_scan(out, tmp_path / "pass1", reference={"train_embedding": np.ones((2, 256))})
    assert record["n_points"] == 12 and record["n_failed"] == 1 and record["model"]["class_names"] == CLASSES
    assert set(record["sha256"]) == {"scan.npz", "reference.npz"}
    monkeypatch.setattr(scan_table, "shipped_scan_dir", lambda name: tmp_path / name)
    shipped = scan.load_shipped_scan("pass1")
    for key in ("f", "k", "label", "label_index", "failed", "seed"):
        np.testing.assert_array_equal(shipped[key], table[key])
    np.testing.assert_array_equal(shipped.probabilities, table.probabilities)
    np.testing.assert_allclose(shipped.embedding, table.embedding, rtol=1e-3)  # shipped as float16
    assert shipped.meta["n_points"] == 12 and shipped.reference["train_embedding"].shape == (2, 256)


def test_missing_shipped_scan_is_a_clear_error():
    with pytest.raises(ValueError, match="no shipped scan 'no-such-scan'"):
        scan.load_shipped_scan("no-such-scan")
    with pytest.raises(ValueError, match="is not a scan name"):
        scan.load_shipped_scan("../pretrained")


# ----------------------------------------------------------------------------- discovery


def test_cluster_points_joins_only_within_groups():
    k = np.array([0.0, 1.0, 2.0, 3.0]) * 0.000625
    f = np.zeros(4)
    assert lattice.cluster_points(f=f, k=k, spacing=(0.00125, 0.000625)).tolist() == [0, 0, 0, 0]
    assert lattice.cluster_points(f=f, k=k, spacing=(0.00125, 0.000625), groups=["a", "a", "b", "b"]).tolist() == [
        0,
        0,
        1,
        1,
    ]


def test_cluster_points_joins_lattice_neighbours():
    k, f = np.meshgrid(np.arange(6) * 0.000625, np.arange(5) * 0.00125)
    k, f = k.ravel(), f.ravel()
    mask = np.zeros(30, dtype=bool)
    mask[[0, 7, 14]] = True  # a diagonal line: one region with 8-neighbour connectivity
    mask[[4, 5, 10, 11]] = True  # a 2 x 2 block
    mask[27] = True  # alone
    region = lattice.cluster_points(f=f, k=k, mask=mask, spacing=lattice.PAPER_SPACING)
    assert region[[4, 5, 10, 11]].tolist() == [0] * 4 and region[[0, 7, 14]].tolist() == [1] * 3
    assert region[27] == 2 and (region[~mask] == -1).all()
    assert lattice.cluster_points(f=f, k=k, mask=mask, spacing=lattice.PAPER_SPACING, min_size=2)[27] == -1
    assert (
        lattice.cluster_points(f=f, k=k, mask=mask, spacing=lattice.PAPER_SPACING, eps=1.0)[7] != region[0]
    )  # 4-neighbours only


def synthetic(rng, n_per_class, centres, dim=16):
    labels = np.repeat(np.arange(len(centres)), n_per_class)
    return np.abs(centres[labels] + rng.normal(size=(len(labels), dim))), labels


def test_flag_finds_a_planted_unknown_class():
    """Embeddings of three known classes fill a 12 x 12 lattice; a 3 x 3 block holds a fourth, unseen class
    that the network (like pass 1 at pi) labels with confidence. Only that block comes back as a region."""
    rng = np.random.default_rng(1)
    dim = 16
    centres = np.zeros((4, dim))
    for c in range(4):
        centres[c, 4 * c : 4 * c + 4] = 8.0
    centres[3, 8:12] = 4.0  # the new class resembles class 2 most (as pi resembles iota)
    train, train_labels = synthetic(rng, 200, centres[:3], dim)
    val, _ = synthetic(rng, 100, centres[:3], dim)
    k, f = np.meshgrid(0.05 + 0.000625 * np.arange(12), 0.02 + 0.00125 * np.arange(12))
    k, f = k.ravel(), f.ravel()
    known = np.minimum(np.arange(144) % 12 // 4, 2)  # the class of each lattice column
    planted = np.flatnonzero(
        (np.arange(144) // 12 >= 5)
        & (np.arange(144) // 12 < 8)
        & (np.arange(144) % 12 >= 5)
        & (np.arange(144) % 12 < 8)
    )
    truth = known.copy()
    truth[planted] = 3
    embedding = np.abs(centres[truth] + rng.normal(size=(144, dim)))
    probabilities = np.full((144, 3), 0.015)
    probabilities[np.arange(144), known] = 0.97  # confidently labelled, the planted block too
    table = dict(
        k=k,
        f=f,
        embedding=embedding,
        probabilities=probabilities,
        failed=np.zeros(144, dtype=bool),
        label=np.array(CLASSES)[known],
    )
    for method in ("mahalanobis", "knn"):
        found = scan.flag_candidates(table, train, np.array(CLASSES)[train_labels], val_embeddings=val, method=method)
        assert len(found.regions) == 1, method
        region = found.regions[0]
        assert region["indices"].tolist() == planted.tolist() and region["size"] == region["n_cells"] == 9
        assert region["n_flag_distance"] == 9 and region["n_flag_entropy"] == 0
        assert math.isclose(region["k_mean"], k[planted].mean()) and math.isclose(region["f_mean"], f[planted].mean())
        assert region["distance_mean"] > found.thresholds["distance"]
        assert found.flagged.sum() - 9 <= 3  # in-distribution points: at most a few isolated ones
        assert found.region_at(f=f[planted].mean(), k=k[planted].mean())["id"] == 0
        assert found.region_at(f=0.02, k=0.05) is None
    # without validation embeddings, held-out training samples calibrate the threshold
    found = scan.flag_candidates(table, train, train_labels)
    assert [r["size"] for r in found.regions] == [9] and found.thresholds["n_calibration"] == 120
    # high entropy alone: a 2 x 2 block of unsure points
    unsure = np.array([0, 1, 12, 13])
    probabilities[unsure] = 1 / 3
    found = scan.flag_candidates(table, train, train_labels, val_embeddings=val, criteria=["entropy"])
    assert [r["indices"].tolist() for r in found.regions] == [unsure.tolist()]
    assert math.isclose(found.regions[0]["entropy_mean"], math.log(3), rel_tol=1e-6)
    # uniform patterns (a homogeneous state) are never candidates, however unsure or far the network is
    table["contrast"] = np.full(144, 0.2)
    table["contrast"][unsure[:2]] = 1e-5
    found = scan.flag_candidates(table, train, train_labels, val_embeddings=val, criteria=["entropy"])
    assert [r["indices"].tolist() for r in found.regions] == [unsure[2:].tolist()]
    assert found.uniform.sum() == 2 and found.thresholds["n_uniform"] == 2
    found = scan.flag_candidates(
        table, train, train_labels, val_embeddings=val, criteria=["entropy"], min_contrast=None
    )
    assert [r["indices"].tolist() for r in found.regions] == [unsure.tolist()] and not found.uniform.any()


def test_flag_ranks_regions_by_novelty_and_tells_borders_apart():
    """A small block of an unseen class and a larger block on the border of two known classes: the
    unseen one comes first by novelty, the border first by size, and each gets its kind."""
    rng = np.random.default_rng(2)
    dim = 16
    centres = np.zeros((4, dim))
    for c in range(4):
        centres[c, 4 * c : 4 * c + 4] = 8.0
    centres[3, 8:12] = 4.0  # the unseen class resembles class 2 most
    train, train_labels = synthetic(rng, 200, centres[:3], dim)
    val, val_labels = synthetic(rng, 100, centres[:3], dim)
    names = np.array(CLASSES)
    k, f = np.meshgrid(0.05 + 0.000625 * np.arange(12), 0.02 + 0.00125 * np.arange(12))
    k, f = k.ravel(), f.ravel()
    col, row = np.arange(144) % 12, np.arange(144) // 12
    truth = np.minimum(col // 4, 2)
    novel = np.flatnonzero((row >= 8) & (row < 10) & (col >= 8) & (col < 10))  # 2 x 2, class 3 (unseen)
    border = np.flatnonzero((row < 4) & (col < 4))  # 4 x 4 of class 0 that the network splits with class 1
    truth[novel] = 3
    embedding = np.abs(centres[truth] + rng.normal(size=(144, dim)))
    probabilities = np.full((144, 3), 0.015)
    probabilities[np.arange(144), np.minimum(truth, 2)] = 0.97
    probabilities[border] = [0.5, 0.49, 0.01]
    table = dict(
        k=k,
        f=f,
        embedding=embedding,
        probabilities=probabilities,
        failed=np.zeros(144, dtype=bool),
        label=names[np.minimum(truth, 2)],
        class_names=CLASSES,
    )
    kwargs = dict(
        val_embeddings=val, val_labels=names[val_labels], val_probabilities=np.tile([0.97, 0.015, 0.015], (300, 1))
    )
    found = scan.flag_candidates(table, train, names[train_labels], **kwargs)
    first = found.regions[0]
    assert first["indices"].tolist() == novel.tolist() and first["kind"] == "novel" and first["rank_novelty"] == 1
    parts = first["score_parts"]
    assert parts["relative_distance"] > found.thresholds["novelty"] and parts["fit_fraction"] == 0
    assert math.isclose(first["score"], parts["relative_distance"] * 4**0.25)
    assert [r["id"] for r in found.regions] == list(range(len(found.regions)))
    assert all(a["score"] >= b["score"] for a, b in zip(found.regions, found.regions[1:]))
    at_border = found.region_at(f=f[border[0]], k=k[border[0]])
    assert at_border["indices"].tolist() == border.tolist() and at_border["kind"] == "border"
    assert at_border["rank_size"] == 1 and at_border["score_parts"]["top_classes"] == pytest.approx(
        {"alpha": 0.5, "beta": 0.49}
    )
    assert found.by_kind("border") == [at_border] and found.by_kind("novel")[0] is first
    assert not found.flagged[found.uniform].any() and found.relative_distance.shape == (144,)
    by_size = scan.flag_candidates(table, train, names[train_labels], order="size", **kwargs)
    assert by_size.regions[0]["indices"].tolist() == border.tolist() and by_size.thresholds["order"] == "size"
    assert by_size.region_at(f=f[novel[0]], k=k[novel[0]])["rank_novelty"] == 1
    assert sorted(r["size"] for r in by_size.regions)[::-1] == [r["size"] for r in by_size.regions]
    # extent_weight = 0 ranks by the relative distance alone; without val_labels each class's spread
    # is measured leave-one-out within the training embeddings
    alone = scan.flag_candidates(table, train, names[train_labels], extent_weight=0.0, val_embeddings=val)
    assert alone.thresholds["spread"] == "leave-one-out" and alone.regions[0]["indices"].tolist() == novel.tolist()
    assert math.isclose(alone.regions[0]["score"], alone.regions[0]["score_parts"]["relative_distance"])
    for bad, match in [
        (dict(order="random"), "order"),
        (dict(extent_weight=2.0), "extent_weight"),
        (dict(border_probability=0.4), "border_probability"),
        (dict(val_labels=names[val_labels][:5]), "val_labels"),
    ]:
        with pytest.raises(ValueError, match=match):
            scan.flag_candidates(table, train, names[train_labels], **{**kwargs, **bad})
    with pytest.raises(ValueError, match="kind"):
        found.by_kind("odd")


def test_class_spread_scales_each_class_by_its_own_spread():
    rng = np.random.default_rng(3)
    dim = 8
    centres = np.zeros((2, dim))
    centres[1, :] = 30.0
    x = np.concatenate([centres[0] + rng.normal(size=(100, dim)), centres[1] + 5 * rng.normal(size=(100, dim))])
    labels = np.repeat(["narrow", "broad"], 100)
    spread = scan.ClassSpread().fit(x, labels)
    assert spread.spread[list(spread.classes).index("broad")] > 3 * spread.spread[list(spread.classes).index("narrow")]
    fresh = np.concatenate([centres[0] + rng.normal(size=(50, dim)), centres[1] + 5 * rng.normal(size=(50, dim))])
    relative, fit = spread.relative(fresh)
    assert 0.5 < np.median(relative) < 2 and (fit == np.repeat(["narrow", "broad"], 50)).mean() > 0.95
    relative, fit = spread.relative(np.full((1, dim), np.nan))
    assert np.isnan(relative[0]) and fit[0] == ""
    with pytest.raises(ValueError, match="shrinkage"):
        scan.ClassSpread(0.0)
    with pytest.raises(ValueError, match="need val_embeddings"):
        spread.fit(x, labels, val_labels=labels)
    with pytest.raises(ValueError, match="spread of the classes is unknown"):
        scan.ClassSpread().fit(x[[0, 100]], labels[[0, 100]])
    pooled = scan.ClassSpread().fit(x[[0, 100]], labels[[0, 100]], val_embeddings=fresh)  # one pattern per class
    assert np.all(pooled.spread == pooled.spread[0]) and pooled.spread[0] > 0


def test_motion_finds_a_class_that_looks_like_a_neighbour_but_moves_differently():
    """A 3 x 3 block whose embeddings are those of known class 2 (the network takes it for that class)
    but which stands still where class 2 moves: invisible to the embedding, found by its motion."""
    rng = np.random.default_rng(4)
    dim = 16
    centres = np.zeros((3, dim))
    for c in range(3):
        centres[c, 4 * c : 4 * c + 4] = 8.0
    train, train_labels = synthetic(rng, 200, centres, dim)
    val, val_labels = synthetic(rng, 100, centres, dim)
    names = np.array(CLASSES)
    centre_motion = np.array([-1.0, -6.0, -2.0])  # class 1 is steady, 0 and 2 move
    train_motion = centre_motion[train_labels] + 0.2 * rng.normal(size=len(train_labels))
    val_motion = centre_motion[val_labels] + 0.2 * rng.normal(size=len(val_labels))
    k, f = np.meshgrid(0.05 + 0.000625 * np.arange(12), 0.02 + 0.00125 * np.arange(12))
    k, f = k.ravel(), f.ravel()
    col, row = np.arange(144) % 12, np.arange(144) // 12
    truth = np.minimum(col // 4, 2)
    steady = np.flatnonzero((row >= 5) & (row < 8) & (col >= 8) & (col < 11))  # in class 2's columns
    embedding = np.abs(centres[truth] + rng.normal(size=(144, dim)))
    contrast = np.full(144, 0.2)
    log_motion = centre_motion[truth] + 0.2 * rng.normal(size=144)
    log_motion[steady] = -6.5  # stands still, like class 1, which it does not resemble
    probabilities = np.full((144, 3), 0.015)
    probabilities[np.arange(144), truth] = 0.97
    table = dict(k=k, f=f, embedding=embedding, probabilities=probabilities, label=names[truth], contrast=contrast)
    table["motion"] = contrast * np.exp(log_motion)
    assert np.allclose(scan.motion_index(table["contrast"], table["motion"]), log_motion)
    kwargs = dict(val_embeddings=val, val_labels=names[val_labels], val_probabilities=probabilities[:1].repeat(300, 0))
    plain = scan.flag_candidates(table, train, names[train_labels], **kwargs)
    assert plain.flag_motion is None and plain.thresholds["motion"] is None
    assert not any(np.isin(r["indices"], steady).mean() >= 0.5 for r in plain.regions)  # no region covers it
    motion = dict(train_motion=train_motion, val_motion=val_motion)
    found = scan.flag_candidates(
        table, train, names[train_labels], criteria=["entropy", "distance", "motion"], **kwargs, **motion
    )
    first = found.regions[0]
    assert first["indices"].tolist() == steady.tolist() and first["kind"] == "novel"
    # the default criteria use the motion wherever the table and the training and validation patterns carry it
    auto = scan.flag_candidates(table, train, names[train_labels], **kwargs, **motion)
    assert auto.thresholds["criteria"] == ["entropy", "distance", "motion"] and [
        r["indices"].tolist() for r in auto.regions
    ] == [r["indices"].tolist() for r in found.regions]
    assert plain.thresholds["criteria"] == ["entropy", "distance"]  # no motion given: the look alone
    with pytest.raises(ValueError, match="needs val_motion"):  # the training patterns' motion alone is not enough
        scan.flag_candidates(table, train, names[train_labels], **kwargs, train_motion=train_motion)
    no_columns = {key: value for key, value in table.items() if key != "motion"}  # a table without the motion
    assert scan.flag_candidates(no_columns, train, names[train_labels], **kwargs, **motion).flag_motion is None
    assert first["score_parts"]["fit_class"] == names[2] and first["score_parts"]["motion_fraction"] == 1
    assert first["score_parts"]["motion_mismatch"] > found.thresholds["motion"] > 1
    assert found.flag_motion.sum() - 9 <= 3 and np.isfinite(found.motion_mismatch).all()
    # the block's joint novelty: class 2 looks like it but moves otherwise, class 1 moves like it but looks otherwise
    spreads = scan.ClassSpread().fit(train, names[train_labels], val, names[val_labels])
    moves = scan.MotionSpread().fit(train_motion, names[train_labels], val_motion, names[val_labels])
    joint = scan.joint_novelty(spreads.relative_to_each(embedding), moves.mismatch_to_each(log_motion, spreads.classes))
    np.testing.assert_allclose(found.joint_novelty, joint)
    assert np.all(joint >= found.relative_distance) and np.all(joint[steady] > found.thresholds["motion"])
    parts = first["score_parts"]
    assert parts["evidence"] == "tail" and math.isclose(parts["joint_novelty"], np.median(joint[steady]))
    assert math.isclose(parts["relative_distance"], np.median(found.relative_distance[steady]))
    # ranked by the tail surprise: the block is beyond every validation pattern, ln(n + 1) nats
    assert math.isclose(parts["strength"], math.log(len(val) + 1)) and math.isclose(
        first["score"], parts["strength"] * parts["extent"]
    )
    by_distance = scan.flag_candidates(
        table,
        train,
        names[train_labels],
        criteria=["entropy", "distance", "motion"],
        evidence="distance",
        **kwargs,
        **motion,
    )
    assert by_distance.regions[0]["indices"].tolist() == steady.tolist()
    assert math.isclose(by_distance.regions[0]["score_parts"]["strength"], parts["joint_novelty"])
    with pytest.raises(ValueError, match="evidence='p'; allowed"):
        scan.flag_candidates(table, train, names[train_labels], evidence="p", **kwargs)
    # uniform patterns have no motion index; a class without non-uniform patterns has no motion
    assert np.isnan(scan.motion_index([0.0, 1e-4, np.nan], [0.0, 1e-6, 0.1])).all()
    spread = scan.MotionSpread().fit(train_motion, names[train_labels], val_motion, names[val_labels])
    assert 0.1 < spread.spread["alpha"] < 0.2 and math.isclose(spread.centre["beta"], -6.0, abs_tol=0.05)
    assert np.isnan(spread.mismatch(np.array([-1.0]), np.array(["H"])))[0]  # a class it was not fitted on
    for bad, match in [
        (dict(motion, train_motion=None), "needs train_motion"),
        (dict(motion, val_motion=val_motion[:5]), "val_motion must have one"),
    ]:
        with pytest.raises(ValueError, match=match):
            scan.flag_candidates(table, train, names[train_labels], criteria=["motion"], **kwargs, **bad)
    no_columns = {key: value for key, value in table.items() if key != "motion"}
    with pytest.raises(ValueError, match="columns contrast and motion"):
        scan.flag_candidates(no_columns, train, names[train_labels], criteria=["motion"], **kwargs, **motion)
    with pytest.raises(ValueError, match="motion spread is unknown"):
        scan.MotionSpread().fit(np.array([-1.0, np.nan]), np.array(["alpha", "beta"]))


def test_joint_novelty_and_tail_surprise():
    """A pattern is known when one class both looks and moves like it, whichever class it fits best by look."""
    relative = np.array([[1.2, 1.5], [1.0, 9.0], [np.nan, np.nan], [4.0, np.inf]])
    mismatch = np.array([[30.0, 0.8], [0.5, 0.2], [0.0, 0.0], [0.3, np.inf]])
    joint = scan.joint_novelty(relative, mismatch)
    # 1: fits class 0 by look but moves like class 1, which it also resembles; 2: no embedding; 4: class 0 only
    np.testing.assert_allclose(joint, [1.5, 1.0, np.nan, 4.0])
    with pytest.raises(ValueError, match="same"):
        scan.joint_novelty(relative, mismatch[:2])
    moves = scan.MotionSpread().fit(np.array([-1.0, -1.2, -0.8, -6.0, -6.2, -5.8]), np.repeat(["alpha", "beta"], 3))
    m = moves.mismatch_to_each(np.array([-1.0, np.nan]), ["alpha", "beta", "L"])
    np.testing.assert_allclose(m, [[0.0, 25.0, np.inf], [0.0, 0.0, 0.0]])  # L has no motion; NaN: nothing moves
    calibration = np.arange(1.0, 100.0)  # 99 values
    surprise = scan.tail_surprise([0.5, 50.0, 99.0, 1000.0, np.nan], calibration)
    np.testing.assert_allclose(surprise, -np.log(np.array([100, 51, 2, 1, 100]) / 100))
    with pytest.raises(ValueError, match="at least one finite"):
        scan.tail_surprise([1.0], [np.nan])


def test_flag_on_a_real_scan(scanned):
    _, table = scanned
    ok = ~table.failed
    found = scan.flag_candidates(table, table.embedding[ok], table.label[ok], min_size=1)
    assert not found.flagged[5] and np.isnan(found.distance[5])  # the blown-up point is never flagged
    assert found.flag_entropy[ok].all()  # an untrained network is unsure everywhere: entropy ~ ln 3 > ln 2
    assert sum(r["size"] for r in found.regions) == 11
    with pytest.raises(ValueError, match="criteria"):
        scan.flag_candidates(table, table.embedding[ok], table.label[ok], criteria=["size"])


# ----------------------------------------------------------------------------- command line


def test_cli_scan_flag_and_package(net, tmp_path, capsys, monkeypatch):
    assert cli.main(["scan", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for option in ("--model", "--points", "--out", "--scale", "--chunk-size", "--scheduler", "--backend"):
        assert option in out
    points = tmp_path / "points.csv"
    points.write_text("k,f\n0.06,0.03\n0.065,0.04\n0.05,0.02\n")
    args = ["scan", "--model", str(net), "--points", str(points), "--out", str(tmp_path / "scan"), "--backend", "numpy"]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert "scan: 3 points" in captured.out and "wall time" in captured.out and "chunk_00000.npz" in captured.err
    table = scan.load_scan_table(tmp_path / "scan")
    assert table.meta["recipe"] == asdict(dataset.RECIPES["ci"])  # the scale that fits a 48 x 48 network
    assert table.meta["runs"][0]["command"].startswith("gslib scan --model")
    # a scale whose samples do not fit the network is a usage error
    assert (
        cli.main(
            ["scan", "--model", str(net), "--points", str(points), "--out", str(tmp_path / "x"), "--scale", "paper"]
        )
        == 2
    )
    assert "takes 48 x 48 samples" in capsys.readouterr().err
    assert (
        cli.main(["scan", "--model", str(net), "--points", str(tmp_path / "none.csv"), "--out", str(tmp_path / "x")])
        == 2
    )

    tiny = dataset.Recipe(size=48, t_end=100.0, gap=30.0, square=12, count_fraction=0.02)
    for split in ("train", "val"):
        dataset.build_split(split, tmp_path / split, tiny, chunk_size=16, backend="numpy", log=lambda m: None)
    report = tmp_path / "flags.json"
    assert (
        cli.main(
            [
                "flag",
                "--scan",
                str(tmp_path / "scan"),
                "--train",
                str(tmp_path / "train"),
                "--val",
                str(tmp_path / "val"),
                "--min-size",
                "1",
                "--json",
                str(report),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "points flagged" in printed
    record = json.loads(report.read_text())
    assert record["thresholds"]["method"] == "mahalanobis" and isinstance(record["regions"], list)
    # the default: the look and the motion (the scan has the columns, the splits give the motion indices)
    assert record["thresholds"]["criteria"] == ["entropy", "distance", "motion"] and record["thresholds"]["motion"] > 0
    assert "motion (joint novelty) >" in printed and "by tail; novel: joint novelty >" in printed
    assert " joint motion " in printed.splitlines()[2]  # the regions' median joint novelty and mismatch columns
    flag_args = ["flag", "--scan", str(tmp_path / "scan"), "--train", str(tmp_path / "train")]
    flag_args += ["--val", str(tmp_path / "val"), "--min-size", "1", "--json", str(report)]
    assert cli.main([*flag_args, "--criteria", "entropy", "distance"]) == 0  # the look alone
    printed = capsys.readouterr().out
    assert "by distance; novel: relative distance >" in printed and " joint " not in printed.splitlines()[2]
    record = json.loads(report.read_text())
    assert record["thresholds"]["criteria"] == ["entropy", "distance"] and record["thresholds"]["motion"] is None

    shipped = tmp_path / "shipped"
    assert (
        cli.main(
            [
                "package-scan",
                "--scan",
                str(tmp_path / "scan"),
                "--dest",
                str(shipped),
                "--train",
                str(tmp_path / "train"),
                "--val",
                str(tmp_path / "val"),
            ]
        )
        == 0
    )
    assert "3 points shipped" in capsys.readouterr().out
    assert json.loads((shipped / "provenance.json").read_text())["n_points"] == 3
    monkeypatch.setattr(scan_table, "shipped_scan_dir", lambda name: shipped)
    table = scan.load_shipped_scan("pass1")
    r = table.reference
    assert r["train_embedding"].shape == (15, 256) and r["val_probabilities"].shape == (15, 3)
    found = scan.flag_candidates(
        table,
        r["train_embedding"],
        r["train_label"],
        val_embeddings=r["val_embedding"],
        val_probabilities=r["val_probabilities"],
        min_size=1,
    )
    assert len(found.flagged) == 3
    assert r["train_motion"].shape == (15,) and r["val_motion"].shape == (15,)
    shipped_flags = scan.flag_shipped("pass1", min_size=1)  # the same call, from the reference it carries
    assert np.array_equal(
        shipped_flags.flagged,
        scan.flag_candidates(
            table,
            r["train_embedding"],
            r["train_label"],
            val_embeddings=r["val_embedding"],
            val_probabilities=r["val_probabilities"],
            val_labels=r["val_label"],
            train_motion=r["train_motion"],
            val_motion=r["val_motion"],
            min_size=1,
        ).flagged,
    )
    assert shipped_flags.thresholds["criteria"] == ["entropy", "distance", "motion"]
    assert scan.flag_shipped(table, criteria=["motion"], min_size=1).thresholds["motion"] > 0
    with pytest.raises(ValueError, match="no reference"):
        scan.flag_shipped(scan.load_scan_table(tmp_path / "scan"))
    # a reference shipped without motion indices gets them, and nothing else changes
    with np.load(shipped / "reference.npz") as data:
        chunk_store.write_npz(shipped / "reference.npz", {key: data[key] for key in data.files if "motion" not in key})
    before = (shipped / "scan.npz").read_bytes()
    common = ["package-scan", "--scan", str(tmp_path / "scan"), "--dest", str(shipped), "--update-reference"]
    assert cli.main([*common, "--train", str(tmp_path / "train"), "--val", str(tmp_path / "val")]) == 0
    assert "train_motion and val_motion added" in capsys.readouterr().out
    again = scan.load_shipped_scan("pass1").reference
    assert np.array_equal(again["train_motion"], r["train_motion"], equal_nan=True)
    assert np.array_equal(again["train_embedding"], r["train_embedding"])
    assert (shipped / "scan.npz").read_bytes() == before
    record = json.loads((shipped / "provenance.json").read_text())
    assert record["reference_updates"][-1]["added"] == ["train_motion", "val_motion"]
    assert record["sha256"]["reference.npz"] == chunk_store.sha256_file(shipped / "reference.npz")
    assert cli.main(common) == 2 and "needs --train and --val" in capsys.readouterr().err


# ----------------------------------------------------------------------------- montages, maps, explorer


def test_montage_from_kept_samples(net, tmp_path):
    store = tmp_path / "samples"
    scan.run_scan(
        tmp_path / "scan", tiny_points(), net, TINY, chunk_size=5, backend="numpy", samples=store, log=lambda m: None
    )
    table = scan.load_scan_table(tmp_path / "scan")
    scan.package_scan(tmp_path / "scan", tmp_path / "ship", samples=store, per_class=2)
    m = scan.load_montage(tmp_path / "ship")
    assert m["u"].dtype == np.uint8 and m["u"].shape[1:] == (48, 48)
    for name in set(table.label.tolist()) - {"failed"}:
        members = np.flatnonzero(table.label == name)
        picked = m["index"][m["label"] == name]
        assert len(picked) == min(2, len(members)) and set(picked.tolist()) <= set(members.tolist())
        assert table.confidence[picked[0]] == table.confidence[members].max()  # the most confident comes first
    assert not table.failed[m["index"]].any()
    i = int(m["index"][0])
    with np.load(store / f"chunk_{i // 5:05d}.npz") as data:
        expected = np.clip(np.rint(255 * data["x"][i % 5, :, :, -1]), 0, 255)
    np.testing.assert_array_equal(m["u"][0], expected)
    record = json.loads((tmp_path / "ship" / "provenance.json").read_text())
    assert "montage.npz" in record["sha256"]
    assert record["samples"]["chunks"] == record["samples"]["chunks_timed"] == 3
    assert record["samples"]["simulate_seconds"] > 0 and record["samples"]["backends"] == ["numpy"]
    # a scan without contrast and motion gets them from its samples
    stripped = tmp_path / "stripped"
    shutil.copytree(tmp_path / "scan", stripped)
    manifest = json.loads((stripped / "manifest.json").read_text())
    for name in manifest["chunks"]:
        with np.load(stripped / name) as data:
            arrays = {key: data[key] for key in data.files if key not in ("contrast", "motion")}
        np.savez_compressed(stripped / name, **arrays)
        manifest["chunks"][name]["sha256"] = chunk_store.sha256_file(stripped / name)
    (stripped / "manifest.json").write_text(json.dumps(manifest))
    assert scan.load_scan_table(stripped).contrast is None
    scan.package_scan(stripped, tmp_path / "ship2", samples=store, note="contrast from the samples")
    with np.load(tmp_path / "ship2" / "scan.npz") as data:
        np.testing.assert_allclose(data["contrast"], table.contrast, rtol=1e-6)
        np.testing.assert_allclose(data["motion"], table.motion, rtol=1e-6)
    assert json.loads((tmp_path / "ship2" / "provenance.json").read_text())["note"] == "contrast from the samples"
    with pytest.raises(ValueError, match="no montage"):
        scan.load_montage(tmp_path / "scan")
    with pytest.raises(ValueError, match="holds no samples"):
        scan.montage_samples(table, tmp_path / "nothing")
    with pytest.raises(ValueError, match="per_class=0"):
        scan.montage_samples(table, store, per_class=0)


def test_class_and_value_maps(scanned):
    import matplotlib.pyplot as plt

    from gslib import plotting

    table = scanned[1]
    ok = ~table.failed  # point 5 (f = 10) blew up; without it the points fill a 3 (f) x 4 (k) lattice but one cell
    k, f, label = table.k[ok], table.f[ok], table.label[ok]
    fig, (a, b) = plt.subplots(1, 2)
    im = plotting.plot_class_map(a, label, f=f, k=k, highlight=k > 0.06)
    assert im.get_array().shape[:2] == (3, 4)
    assert a.get_xlabel() == "kill rate k" and a.get_ylabel() == "feed rate f"
    legend = [t.get_text() for t in a.get_legend().get_texts()]
    assert set(legend) >= set(label.tolist()) and "saddle-node" in legend and "changed" in legend
    im = plotting.plot_scan_values(b, table.entropy[ok], f=f, k=k, label="entropy (nats)")
    assert im.colorbar.ax.get_ylabel() == "entropy (nats)"
    assert np.ma.count_masked(im.get_array()) == 1  # the empty cell stays blank
    colors = plotting.class_colors(["alpha", "beta", "alpha2"])
    assert colors["alpha"] != colors["beta"] and colors["alpha2"] == (0.0, 0.0, 0.0, 1.0)
    from gslib.classes import NAMES

    assert len(set(plotting.class_colors(NAMES).values())) == len(NAMES) == 16  # pi too has its own colour
    plt.close(fig)


def test_scan_explorer_click_and_select(scanned):
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from gslib import widgets

    table = scanned[1]
    explorer = widgets.ScanExplorer(table)
    # a click near point 7 (k = 0.06, f = 0.03) shows the pattern the scan classified there
    event = SimpleNamespace(inaxes=explorer.ax_map, xdata=0.0601, ydata=0.0302, canvas=SimpleNamespace(toolbar=None))
    explorer._on_click(event)
    assert explorer.index == 7
    x = widgets.scan_pattern(table, 7)
    expected = scan_run._simulate(table.f[7:8], table.k[7:8], table.seed[7:8], TINY, "numpy")[0][0]
    np.testing.assert_allclose(x, expected, atol=1e-5)
    shown = explorer.ax_pattern.images[0].get_array()
    np.testing.assert_allclose(shown, x[..., -1], atol=1e-6)
    assert "k = 0.06, f = 0.03" in explorer.ax_pattern.get_title()
    # zooming or panning with the toolbar, or clicking beside the map, selects nothing
    explorer._on_click(
        SimpleNamespace(
            inaxes=explorer.ax_map,
            xdata=0.05,
            ydata=0.02,
            canvas=SimpleNamespace(toolbar=SimpleNamespace(mode="zoom rect")),
        )
    )
    explorer._on_click(SimpleNamespace(inaxes=explorer.ax_pattern, xdata=1.0, ydata=1.0, canvas=None))
    assert explorer.index == 7
    assert explorer.select(f=0.02, k=0.05) == 0
    explorer.zoom(f_range=(0.02, 0.03), k_range=(0.05, 0.06))
    assert explorer.ax_map.get_xlim() == (0.05, 0.06)
    with pytest.raises(ValueError, match="k=nan must be a finite number"):
        explorer.select(f=0.02, k=float("nan"))
    with pytest.raises(ValueError, match="index=99 must lie in"):
        widgets.scan_pattern(table, 99)
    plt.close(explorer.fig)


def test_compare_scans_lists_the_changes():
    f, k = np.array([0.01, 0.02, 0.03, 0.04, 0.05]), np.full(5, 0.06)
    before = dict(f=f, k=k, label=np.array(["iota", "iota", "iota", "L", "failed"]))
    after = dict(f=f.copy(), k=k.copy(), label=np.array(["pi", "pi", "iota", "H", "L"]))
    diff = scan.compare_scans(before, after)
    assert diff.changed.tolist() == [True, True, False, True, True]
    assert diff.agreement == pytest.approx(0.2)
    assert diff.transitions == [("iota", "pi", 2), ("L", "H", 1), ("failed", "L", 1)]
    assert diff.moved("iota", "pi").tolist() == [True, True, False, False, False]
    assert diff.moved(after="H").tolist() == [False, False, False, True, False]
    assert diff.moved().tolist() == diff.changed.tolist()
    same = scan.compare_scans(before, before)
    assert same.agreement == 1.0 and same.transitions == [] and not same.changed.any()
    with pytest.raises(ValueError, match="after: 4 points, but before has 5"):
        scan.compare_scans(before, dict(f=f[:4], k=k[:4], label=after["label"][:4]))
    with pytest.raises(ValueError, match=r"after: point 2 is \(f, k\) = \(0.031, 0.06\)"):
        scan.compare_scans(before, dict(f=np.array([0.01, 0.02, 0.031, 0.04, 0.05]), k=k, label=after["label"]))
