"""The classifier: the paper's network, training that resumes, evaluation, attributions, bad input."""

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from gslib import cli, cnn  # noqa: E402

RNG = np.random.default_rng(0)


def stripes(n, period, phase=0.0, axis=0):
    """Samples that a tiny network can tell apart: stripes of a given period, three identical frames."""
    i = np.arange(48)
    wave = 0.5 + 0.4 * np.sin(2 * np.pi * i / period + phase)
    img = np.broadcast_to(wave[:, None] if axis == 0 else wave[None, :], (48, 48))
    return np.repeat(np.stack([img] * n)[..., None], 3, axis=-1).astype(np.float32)


def test_network_is_the_papers():
    model = cnn.build_model(15, 128)
    assert model.count_params() == 277_723
    assert [layer.name for layer in model.layers][1:4] == ["input_norm", "conv1", "conv2"]
    assert model.get_layer("conv1").strides == (2, 2)
    assert model(np.zeros((2, 128, 128, 3), np.float32)).shape == (2, 15)
    assert cnn.build_model(16, 128).count_params() == 277_723 + 257  # one more class: 256 weights + 1 bias


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((2, 64, 64)), r"x has shape \(2, 64, 64\); allowed: \(B, S, S, 3\)"),
        (np.zeros((2, 64, 32, 3)), "allowed"),
        (np.zeros((2, 40, 40, 3)), "S >= 48"),
        (np.full((1, 64, 64, 3), np.nan), "finite"),
    ],
)
def test_bad_samples_raise(x, match):
    model = cnn.build_model(3, None)
    with pytest.raises(ValueError, match=match):
        cnn.predict_proba(model, x)


def test_wrong_side_for_a_fixed_network():
    with pytest.raises(ValueError, match="this network takes 128 x 128"):
        cnn.predict_proba(cnn.build_model(3, 128), np.zeros((1, 64, 64, 3)))
    with pytest.raises(ValueError, match="size=32 must be None or an integer >= 48"):
        cnn.build_model(3, 32)


def test_labels_to_indices():
    np.testing.assert_array_equal(cnn.labels_to_indices(["b", "a", "b"], ["a", "b"]), [1, 0, 1])
    with pytest.raises(ValueError, match=r"labels \['z'\] are not among"):
        cnn.labels_to_indices(["a", "z"], ["a", "b"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A network trained on two stripe orientations; learning them is easy and must succeed."""
    x = np.concatenate([stripes(16, 8, axis=0), stripes(16, 8, axis=1)])
    x += 0.02 * RNG.standard_normal(x.shape).astype(np.float32)
    y = np.array([0] * 16 + [1] * 16)
    out = tmp_path_factory.mktemp("run")
    history = cnn.train(
        x, y, x, y, class_names=["rows", "cols"], out=out, epochs=15, batch_size=8, augment=False, verbose=0
    )
    return out, x, y, history


def test_training_learns_and_records(trained):
    out, x, y, history = trained
    assert len(history["loss"]) == 15 and history["loss"][-1] < history["loss"][0]
    model, names = cnn.load_model(out)
    ev = cnn.evaluate(model, names, x, np.array(names)[y])
    assert ev["accuracy"] == 1.0 and ev["confusion"] == [[16, 0], [0, 16]]
    assert ev["precision"] == {"rows": 1.0, "cols": 1.0} and ev["recall"]["cols"] == 1.0
    assert list(cnn.classify(model, names, x[[0, -1]])) == ["rows", "cols"]


def test_training_resumes_after_interruption(tmp_path):
    x = stripes(8, 8)
    y = np.zeros(8, dtype=int)
    y[4:] = 1
    cnn.train(x, y, x, y, class_names=["a", "b"], out=tmp_path, epochs=2, batch_size=4, verbose=0)
    history = cnn.train(x, y, x, y, class_names=["a", "b"], out=tmp_path, epochs=3, batch_size=4, verbose=0)
    assert history["epoch"] == [0.0, 1.0, 2.0]  # the third epoch only was added
    assert (tmp_path / "epoch_seconds.csv").read_text().count("\n") == 3
    assert cnn.training_seconds(tmp_path) > 0


def test_augmentation_keeps_shapes_and_is_off_at_inference():
    aug = cnn.augmentation(seed=1)
    x = stripes(4, 8)
    assert np.array_equal(np.asarray(aug(x, training=False)), x)
    y = np.asarray(aug(x, training=True))
    assert y.shape == x.shape and not np.allclose(y, x)


def test_periodic_affine_has_no_seam():
    rng = np.random.default_rng(3)
    x = rng.random((2, 8, 8, 3)).astype(np.float32)

    def run(*t):
        return np.asarray(cnn.periodic_affine(x, np.array([t, t], dtype=np.float32)))

    np.testing.assert_array_equal(run(1, 0, 0, 0, 1, 0), x)  # identity
    np.testing.assert_allclose(run(1, 0, 3, 0, 1, -2), np.roll(x, (2, -3), axis=(1, 2)), atol=1e-6)  # shifts wrap
    np.testing.assert_allclose(run(1, 0, 16 + 3, 0, 1, 0), np.roll(x, -3, axis=2), atol=1e-6)  # any number of periods
    # half a cell to the right: every output is the mean of two neighbours, the last column included
    half = run(1, 0, 0.5, 0, 1, 0)
    np.testing.assert_allclose(half, (x + np.roll(x, -1, axis=2)) / 2, atol=1e-6)
    np.testing.assert_allclose(half[:, :, -1], (x[:, :, -1] + x[:, :, 0]) / 2, atol=1e-6)
    # a quarter turn about the centre maps cells to cells: np.rot90 exactly
    np.testing.assert_allclose(run(0, -1, 7, 1, 0, 0), np.rot90(x, 1, axes=(1, 2)), atol=1e-6)
    # a smooth periodic pattern stays smooth under any rotation: no dark line where an edge is crossed
    n = 32
    j = np.arange(n)
    wave = (0.5 + 0.4 * np.sin(2 * np.pi * j / n)[None, :] * np.ones((n, 1))).astype(np.float32)
    img = np.repeat(wave[None, :, :, None], 3, axis=3)
    a = np.deg2rad(30.0)
    t = [np.cos(a), np.sin(a), 5.0, -np.sin(a), np.cos(a), 7.0]
    out = np.asarray(cnn.periodic_affine(img, np.array([t], dtype=np.float32)))
    assert out.min() > 0.5 - 0.4 - 1e-3 and out.max() < 0.5 + 0.4 + 1e-3
    rough = np.abs(np.diff(out[0, :, :, 0], axis=1)).max()
    assert rough < 2 * np.pi * 0.4 / n * 1.5  # bounded by the wave's own slope: no jump anywhere


def test_cosine_schedule_and_bad_schedule(tmp_path):
    x = stripes(8, 48)
    y = np.arange(8) % 2
    history = cnn.train(
        x,
        y,
        x,
        y,
        class_names=["rows", "cols"],
        out=tmp_path,
        epochs=2,
        batch_size=4,
        augment=False,
        schedule="cosine",
        verbose=0,
    )
    assert len(history["loss"]) == 2
    with pytest.raises(ValueError, match="schedule='linear'; allowed: 'constant', 'cosine'"):
        cnn.train(x, y, x, y, class_names=["rows", "cols"], out=tmp_path / "b", schedule="linear", verbose=0)


def test_saliency_and_integrated_gradients(trained):
    out, x, y, _ = trained
    model, _ = cnn.load_model(out)
    s = cnn.saliency(model, x[:3])
    assert s.shape == (3, 48, 48) and s.min() >= 0 and s.max() <= 1
    ig = cnn.integrated_gradients(model, x[:2], class_index=[0, 0], steps=64)
    base = np.broadcast_to(x[:2].mean(axis=(1, 2), keepdims=True), x[:2].shape).astype(np.float32)
    gain = model.predict(x[:2], verbose=0)[:, 0] - model.predict(base, verbose=0)[:, 0]
    np.testing.assert_allclose(ig.reshape(2, -1).sum(axis=1), gain, rtol=0.02, atol=1e-3)  # completeness


def test_cli_dataset_train_evaluate(tmp_path, capsys):
    for split in ("train", "val"):
        assert (
            cli.main(
                [
                    "dataset",
                    "--split",
                    split,
                    "--scale",
                    "ci",
                    "--out",
                    str(tmp_path / split),
                    "--backend",
                    "cpu",
                    "--quiet",
                ]
            )
            == 0
        )
    run = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--train",
                str(tmp_path / "train"),
                "--val",
                str(tmp_path / "val"),
                "--out",
                str(run),
                "--epochs",
                "2",
                "--batch-size",
                "16",
                "--quiet",
            ]
        )
        == 0
    )
    record = json.loads((run / "provenance.json").read_text())
    assert record["command"].startswith("gslib train --train") and record["epochs_run"] == 2
    assert json.loads((run / "model.json").read_text())["class_names"][:2] == ["alpha", "beta"]
    assert (
        cli.main(["evaluate", "--model", str(run), "--data", str(tmp_path / "val"), "--out", str(tmp_path / "ev.json")])
        == 0
    )
    assert json.loads((tmp_path / "ev.json").read_text())["n_samples"] == 45
    assert "accuracy" in capsys.readouterr().out
    dest = tmp_path / "shipped"
    assert (
        cli.main(
            [
                "package-model",
                "--run",
                str(run),
                "--train",
                str(tmp_path / "train"),
                "--val",
                str(tmp_path / "val"),
                "--test",
                str(tmp_path / "val"),
                "--dest",
                str(dest),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in dest.iterdir()) == sorted(cnn.SHIPPED_FILES)
    datasets = json.loads((dest / "datasets.json").read_text())
    assert datasets["train"]["command"] == "gslib dataset --split train --scale ci --out DIR"
    assert datasets["val"]["n_patterns"] == 45 and datasets["train"]["simulate_seconds"] > 0
    model, names = cnn.load_model(dest)
    assert len(names) == 15 and model.count_params() == 277_723
    assert (
        cli.main(
            [
                "package-model",
                "--run",
                str(tmp_path),
                "--train",
                "a",
                "--val",
                "b",
                "--test",
                "c",
                "--dest",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )


@pytest.mark.parametrize("name", cnn.PRETRAINED)
def test_shipped_network_its_records_and_its_scan_agree(name):
    from gslib.scan import load_shipped_scan
    from gslib.store import sha256_file

    model, names = cnn.load_pretrained(name)
    directory = cnn.pretrained_dir(name)
    assert model.output_shape == (None, len(names))
    evaluation = json.loads((directory / "evaluation_test.json").read_text())
    assert evaluation["class_names"] == names and evaluation["n_samples"] == 750  # the paper's test split
    provenance = json.loads((directory / "provenance.json").read_text())
    assert provenance["epochs_run"] > 0 and provenance["train_data"]["recipe"]["size"] == 128
    table = load_shipped_scan(name)  # the shipped scan made with this very network
    assert list(table.class_names) == names and len(table) == 5481
    assert table.meta["model"]["weights_sha256"] == sha256_file(directory / "model.weights.h5")


def test_unknown_pretrained_name():
    with pytest.raises(ValueError, match="'pass9' is not a shipped network; allowed: pass1, pass2"):
        cnn.load_pretrained("pass9")


def test_one_registry_of_shipped_networks(tmp_path):
    from gslib import networks

    root = cnn.pretrained_dir("pass1").parent
    assert (
        networks.SHIPPED
        == cnn.PRETRAINED
        == tuple(sorted(p.name for p in root.iterdir() if (p / "model.json").is_file()))
    )
    ref = networks.resolve("pass1")
    assert ref.directory == str(cnn.pretrained_dir("pass1").resolve()) and len(ref.class_names) == 15
    with pytest.raises(ValueError, match="neither a shipped network"):
        networks.resolve(tmp_path / "nothing")
    loads = []
    cache = networks.NetworkCache(lambda d: loads.append(d) or (object(), ["a"]), capacity=1)
    first = cache.load(ref)
    assert cache.load("pass1") is first and loads == [ref.directory] and "pass1" in cache
    cache.load("pass2")
    assert len(cache) == 1 and "pass1" not in cache  # at most `capacity` networks
    stale = networks.NetworkRef(**{**ref.__dict__, "weights_sha256": "0" * 64})
    with pytest.raises(ValueError, match="not the one expected"):
        cache.load(stale)
