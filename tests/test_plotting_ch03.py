"""Tests of the chapter-3 plotting helpers of gslib.plotting: montage, flag maps, pattern rows, split points,
compared class maps, region tables."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gslib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _lattice(nk=6, nf=5):
    k, f = np.meshgrid(0.04 + 0.000625 * np.arange(nk), 0.02 + 0.00125 * np.arange(nf))
    return k.ravel(), f.ravel()


def test_plot_class_montage_one_row_per_class_and_a_colorbar():
    rng = np.random.default_rng(0)
    montage = dict(
        u=rng.integers(0, 256, (5, 8, 8), dtype=np.uint8),
        label=np.array(["L", "alpha", "alpha", "H", "L"]),
        k=np.full(5, 0.05),
        f=np.full(5, 0.03),
        confidence=np.linspace(1, 0.5, 5),
    )
    fig = plotting.plot_class_montage(montage)
    assert isinstance(fig, Figure)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 5 and all(ax.images[0].get_clim() == (0, 1) for ax in images)
    assert any(ax.get_ylabel() == "u(T)" for ax in fig.axes)  # the colorbar
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["α alpha", "L", "H"]  # rows in the book's order of the classes
    with pytest.raises(ValueError, match="lacks the keys"):
        plotting.plot_class_montage({"u": montage["u"]})
    with pytest.raises(ValueError, match="cell"):
        plotting.plot_class_montage(montage, cell=0)


class _Candidates:
    def __init__(self):
        self.k, self.f = _lattice()
        n = len(self.k)
        self.distance = np.linspace(1, 100, n)
        self.flag_entropy = np.arange(n) % 3 == 0
        self.flag_distance = np.arange(n) % 4 == 0
        self.regions = [
            dict(
                id=0,
                size=3,
                k_mean=0.041,
                f_mean=0.022,
                entropy_mean=0.5,
                distance_mean=40.0,
                labels={"iota": 2, "L": 1},
            )
        ]


def test_plot_flag_maps_labels_regions_and_checks_its_argument():
    fig = plotting.plot_flag_maps(_Candidates(), n_regions=1)
    ax1, ax2 = fig.axes[0], fig.axes[1]
    assert ax1.get_xlabel() == "kill rate k" and ax2.get_ylabel() == "feed rate f"
    assert [t.get_text() for t in ax2.texts] == ["R0"]
    assert {ax.get_ylabel() for ax in fig.axes[2:]} == {"log10 distance to the nearest class", "flagged by"}
    with pytest.raises(ValueError, match="n_regions"):
        plotting.plot_flag_maps(_Candidates(), n_regions=-1)
    candidates = _Candidates()
    candidates.regions[0]["kind"] = "novel"
    fig = plotting.plot_flag_maps(candidates, n_regions=1, kinds=True)
    assert [t.get_text() for t in fig.axes[1].texts] == ["R0 novel"]


def test_plot_pattern_rows_shapes_and_errors():
    x = np.random.default_rng(1).random((8, 8, 3))
    fig = plotting.plot_pattern_rows([[x, x], [x]], [["a", "b"], ["c"]])
    assert sum(bool(ax.images) for ax in fig.axes) == 3
    assert sorted(ax.get_title() for ax in fig.axes if ax.images) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="same lengths"):
        plotting.plot_pattern_rows([[x, x]], [["a"]])


def test_plot_split_points_colours_by_class():
    fig, ax = plt.subplots()
    pts = [dict(k=0.05, f=0.02, label="alpha"), dict(k=0.06, f=0.03, label="pi")]
    coll = plotting.plot_split_points(ax, pts, label="train")
    colors = plotting.class_colors(["alpha", "pi"])
    assert np.allclose(coll.get_facecolors(), [colors["alpha"], colors["pi"]])
    assert ax.get_legend_handles_labels()[1] == ["train"]
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_split_points(ax, [])


def test_plot_class_maps_compared_circles_the_changes():
    k, f = _lattice()
    before = np.array(["iota"] * len(k))
    after = before.copy()
    after[:4] = "pi"
    fig = plotting.plot_class_maps_compared(before, after, f=f, k=k, titles=("pass 1", "pass 2"))
    ax1, ax2 = fig.axes[:2]
    assert (ax1.get_title(), ax2.get_title()) == ("pass 1", "pass 2")
    assert len(ax2.collections[-1].get_offsets()) == 4  # the circled points
    with pytest.raises(ValueError, match="one length"):
        plotting.plot_class_maps_compared(before[:-1], after, f=f, k=k)


def test_region_rows_with_steps_from_the_training_point():
    from gslib.classes import by_name

    iota = by_name("iota")
    region = dict(
        id=3,
        size=5,
        k_mean=iota.k + 2 * 0.000625,
        f_mean=iota.f,
        entropy_mean=0.1,
        distance_mean=30.0,
        labels={"iota": 5},
    )
    header, rows = plotting.region_rows([region], spacing=(0.00125, 0.000625))
    assert len(header) == len(rows[0]) == 8
    assert rows[0][0] == "R3" and rows[0][6] == "ι iota 5" and rows[0][7] == "2"
    header, rows = plotting.region_rows([region])
    assert len(header) == len(rows[0]) == 7
    with pytest.raises(ValueError, match="top"):
        plotting.region_rows([region], top=0)
    with pytest.raises(ValueError, match="spacing"):
        plotting.region_rows([region], spacing=(0.1, -1))
