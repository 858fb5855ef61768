"""Tests of the chapter-2 figures of gslib.plotting: class points, samples, training curves, confusion, attributions."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gslib import plotting  # noqa: E402
from gslib.classes import PASS1_CLASSES, by_name  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_class_points_draws_every_class_and_test_point():
    fig, ax = plt.subplots()
    points = [{"label": "kappa", "f": 0.05, "k": 0.063}, {"label": "L", "f": 0.03, "k": 0.05}]
    plotting.plot_class_points(ax, PASS1_CLASSES, test_points=points)
    assert [t.get_text() for t in ax.texts] == [c.symbol for c in PASS1_CLASSES]
    assert ax.get_xlabel().startswith("kill rate k") and ax.get_ylabel().startswith("feed rate f")
    assert "test point" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="training point"):
        plotting.plot_class_points(ax, [by_name("pi")])
    with pytest.raises(ValueError, match="test_points"):
        plotting.plot_class_points(ax, PASS1_CLASSES, test_points=[{"label": "pi", "f": 0.06, "k": 0.06}])


def test_plot_sample_marks_uniform_samples():
    fig, (a, b) = plt.subplots(1, 2)
    rng = np.random.default_rng(0)
    plotting.plot_sample(a, rng.random((8, 8, 3)), title="pattern")
    plotting.plot_sample(b, np.full((8, 8, 3), 0.42))
    assert a.get_title() == "pattern" and not a.texts
    assert "u = 0.420" in b.texts[0].get_text()
    with pytest.raises(ValueError, match="x must have shape"):
        plotting.plot_sample(a, np.zeros((8, 8)))


def test_plot_training_history_marks_best_epoch():
    hist = {
        "loss": [2.0, 1.0, 0.5],
        "val_loss": [2.5, 0.8, 0.9],
        "accuracy": [0.1, 0.5, 0.8],
        "val_accuracy": [0.1, 0.6, 0.7],
    }
    fig = plotting.plot_training_history(hist, title="run", chance=1 / 15)
    ax_l, ax_a = fig.axes
    assert ax_l.get_yscale() == "log" and ax_a.get_ylabel() == "accuracy"
    assert any("epoch 2" in t.get_text() for t in ax_a.get_legend().get_texts())
    with pytest.raises(ValueError, match="lacks the keys"):
        plotting.plot_training_history({"loss": [1.0]})
    with pytest.raises(ValueError, match="one length"):
        plotting.plot_training_history(dict(hist, loss=[1.0]))


def test_plot_confusion_shares_and_counts():
    fig, ax = plt.subplots()
    im = plotting.plot_confusion(ax, [[3, 1], [0, 4]], ["alpha", "L"], title="test")
    np.testing.assert_allclose(im.get_array(), [[0.75, 0.25], [0.0, 1.0]])
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3", "4"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["α", "L"]
    with pytest.raises(ValueError, match="square"):
        plotting.plot_confusion(ax, [[1, 2, 3]], ["alpha"])
    with pytest.raises(ValueError, match=">= 0"):
        plotting.plot_confusion(ax, [[1, -1], [0, 1]], ["alpha", "L"])


def test_plot_attributions_one_row_per_sample():
    rng = np.random.default_rng(1)
    x = rng.random((2, 6, 6, 3))
    fig = plotting.plot_attributions(x, rng.random((2, 6, 6)), rng.normal(size=(2, 6, 6, 3)), titles=["a", "b"])
    assert len([ax for ax in fig.axes if ax.get_title()]) == 6
    with pytest.raises(ValueError, match="must match inputs"):
        plotting.plot_attributions(x, rng.random((2, 5, 5)), rng.random((2, 6, 6)))
    with pytest.raises(ValueError, match="titles"):
        plotting.plot_attributions(x, rng.random((2, 6, 6)), rng.random((2, 6, 6)), titles=["a"])
