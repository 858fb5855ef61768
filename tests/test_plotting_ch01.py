"""Tests of chapter 1's figures in gslib.plotting: region map, dispersion relations, class gallery."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gslib import model, plotting  # noqa: E402
from gslib.classes import PASS1_CLASSES  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_region_map_labels_match_classify_region_and_axes_have_units():
    fig, ax = plt.subplots()
    labels = plotting.plot_region_map(ax, k_range=(0.03, 0.07), f_range=(0.0, 0.1), n=40)
    assert labels.shape == (40, 40)
    assert set(labels.ravel()) <= set(model.REGIONS)
    assert labels[-1, -1] == model.classify_region(f=0.1, k=0.07)  # top right corner: (k, f) = (0.07, 0.1)
    assert ax.get_xlim() == (0.03, 0.07) and ax.get_ylim() == (0.0, 0.1)
    assert "(1/time)" in ax.get_xlabel() and "(1/time)" in ax.get_ylabel()
    assert len(ax.lines) == 2  # saddle-node and Hopf curves
    handles = plotting.region_legend_handles()
    assert [h.get_label() for h in handles] == list(model.REGIONS) + ["saddle-node", "Hopf"]
    assert len(plotting.region_legend_handles(curves=False)) == len(model.REGIONS)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 1}, "n must be"),
        ({"k_range": (0.07, 0.03)}, "k_range"),
        ({"Du": 0.0}, "Du must be"),
    ],
)
def test_region_map_rejects_bad_input(kwargs, match):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=match):
        plotting.plot_region_map(ax, **kwargs)


def test_dispersion_lines_styles_and_checks():
    fig, ax = plt.subplots()
    q = np.linspace(0, 1, 11)
    lines = plotting.plot_dispersion(
        ax, q, {"a": q, "b diagonal": -q}, dashed={"b diagonal"}, title="t", xlim=(0, 1), ylim=(-1, 1)
    )
    assert [ln.get_linestyle() for ln in lines] == ["-", "--"]
    assert "1/cell" in ax.get_xlabel() and "1/time" in ax.get_ylabel()
    with pytest.raises(ValueError, match="rates"):
        plotting.plot_dispersion(ax, q, {"a": q[:5]})
    with pytest.raises(ValueError, match="q must be"):
        plotting.plot_dispersion(ax, [], {})


def test_class_gallery_one_panel_per_class_and_uniform_runs_labelled():
    rng = np.random.default_rng(0)
    classes = PASS1_CLASSES[:4]
    frames = rng.random((4, 3, 8, 8))
    frames[1] = 0.5  # a uniform run
    fig = plotting.plot_class_gallery(frames, classes, ncols=3, title="gallery")
    axes = fig.axes
    assert len(axes) == 6 and not axes[4].axison and not axes[5].axison
    assert axes[0].get_title().startswith(classes[0].symbol)
    assert any("uniform" in t.get_text() for t in axes[1].texts)
    with pytest.raises(ValueError, match="one class per run"):
        plotting.plot_class_gallery(frames, classes[:3])
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_class_gallery(frames[:, :2], classes)
    with pytest.raises(ValueError, match="ncols"):
        plotting.plot_class_gallery(frames, classes, ncols=0)
