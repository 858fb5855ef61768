"""Looking for patterns the network was never taught: distances of embeddings, flags and ranked regions.

:func:`flag_candidates` flags scan points where the network is unsure (entropy) or whose embedding
lies far from every training class (:class:`EmbeddingDistance`), groups them into regions of the
(k, f) plane and ranks the regions by evidence of novelty (:class:`ClassSpread`; with the motion
where the scan and its reference carry it, :func:`joint_novelty`; the distance models live in
:mod:`gslib.scan.novelty`); see
:mod:`gslib.scan` for the method and its sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..lattice import cluster_points, grid_spacing, nearest_point
from .novelty import (
    ClassSpread,
    EmbeddingDistance,
    MotionSpread,
    _check_embeddings,
    joint_novelty,
    motion_index,
    tail_surprise,
)
from .table import _entropy

__all__ = [
    "FLAG_CRITERIA",
    "REGION_EVIDENCE",
    "REGION_KINDS",
    "REGION_ORDERS",
    "Candidates",
    "ClassSpread",
    "EmbeddingDistance",
    "MotionSpread",
    "flag_candidates",
    "joint_novelty",
    "motion_index",
    "tail_surprise",
]


@dataclass(frozen=True, eq=False)
class Candidates:
    """What :func:`flag_candidates` found, per point (P,) and per region.

    Attributes
    ----------
    k, f : numpy.ndarray
        The scan's points.
    entropy : numpy.ndarray
        Entropy of the network's probabilities (nats).
    distance : numpy.ndarray
        Distance of the embedding from the nearest training class (see :class:`EmbeddingDistance`).
    nearest_class : numpy.ndarray
        That class.
    flag_entropy : numpy.ndarray
        ``entropy > thresholds["entropy"]``.
    flag_distance : numpy.ndarray
        ``distance > thresholds["distance"]``.
    flagged : numpy.ndarray
        Flagged by any of the criteria used (never a failed or uniform point).
    region : numpy.ndarray
        Region id of each flagged point (-1: none); ``regions[i]["id"] == i``.
    regions : list of dict
        In the order asked for (default: most novel first; see :func:`flag_candidates`). Each
        holds id (its position), score (the novelty score), kind ("novel", "border" or "known"),
        score_parts (strength, evidence, relative_distance (median), extent,
        relative_distance_max, fit_class, fit_fraction, entropy_fraction, top_classes,
        top_probability and, with the criterion "motion", joint_novelty and motion_mismatch
        (medians) and motion_fraction), rank_novelty and rank_size (1 = most
        novel, largest), size (points), n_cells (distinct lattice cells), k_mean, f_mean, k_min,
        k_max, f_min, f_max, entropy_mean, distance_mean, distance_max, n_flag_entropy,
        n_flag_distance, labels (predicted class counts), nearest_class (most common), indices
        (the points).
    thresholds : dict
        entropy, distance, novelty, motion (the threshold of the joint novelty; None without the
        criterion), quantile, method, criteria, eps, min_size, n_calibration, spacing,
        min_contrast, n_uniform, join, order, border_probability, extent_weight, evidence, spread.
    uniform : numpy.ndarray
        u(T) uniform (contrast below min_contrast): a homogeneous state, never flagged.
    relative_distance : numpy.ndarray or None
        Distance of each point's embedding from the class it fits best, in units of that class's
        spread (:class:`ClassSpread`).
    fit_class : numpy.ndarray or None
        That class.
    motion_mismatch : numpy.ndarray or None
        With the criterion "motion": each point's motion mismatch against its fit class
        (:class:`MotionSpread`; NaN for uniform points and classes without one).
    joint_novelty : numpy.ndarray or None
        With the criterion "motion": how far each point lies from the nearest class that both
        looks and moves like it (:func:`joint_novelty`).
    flag_motion : numpy.ndarray or None
        With the criterion "motion": ``joint_novelty > thresholds["motion"]``.
    """

    k: np.ndarray
    f: np.ndarray
    entropy: np.ndarray
    distance: np.ndarray
    nearest_class: np.ndarray
    flag_entropy: np.ndarray
    flag_distance: np.ndarray
    flagged: np.ndarray
    region: np.ndarray
    regions: list
    thresholds: dict
    uniform: np.ndarray
    relative_distance: np.ndarray | None = None
    fit_class: np.ndarray | None = None
    motion_mismatch: np.ndarray | None = None
    flag_motion: np.ndarray | None = None
    joint_novelty: np.ndarray | None = None

    def region_at(self, *, f: float, k: float, spacing=None, tolerance: float = 1.0) -> dict | None:
        """The region holding the scan point nearest to (f, k) (within ``tolerance`` lattice steps), or None."""
        i, d = nearest_point(f=self.f, k=self.k, f0=f, k0=k, spacing=spacing)
        if d > tolerance or self.region[i] < 0:
            return None
        return self.regions[self.region[i]]

    def by_kind(self, kind: str) -> list:
        """The regions of one kind ("novel", "border" or "known"), in the order of :attr:`regions`.

        Raises
        ------
        ValueError
            If ``kind`` is not one of the three.
        """
        if kind not in REGION_KINDS:
            raise ValueError(f"kind={kind!r}; allowed: {', '.join(REGION_KINDS)}")
        return [r for r in self.regions if r["kind"] == kind]


#: Kinds of flagged regions (see :func:`flag_candidates`).
REGION_KINDS = ("novel", "border", "known")
#: The signals that can flag a point (:func:`flag_candidates`'s ``criteria``; the default: all three where
#: the scan and the training patterns carry the motion, else the first two).
FLAG_CRITERIA = ("entropy", "distance", "motion")
#: Orders of :attr:`Candidates.regions`.
REGION_ORDERS = ("novelty", "size")
#: How a region's points are summed up into its strength (:func:`flag_candidates`).
REGION_EVIDENCE = ("distance", "tail")


def _probability_names(table, n_columns: int) -> np.ndarray:
    names = getattr(table, "class_names", None)
    if names is None and isinstance(table, dict):
        names = table.get("class_names")
    if names is None or len(names) != n_columns:
        names = [str(c) for c in range(n_columns)]
    return np.array([str(n) for n in names])


def flag_candidates(
    table,
    train_embeddings,
    train_labels,
    *,
    val_embeddings=None,
    val_probabilities=None,
    val_labels=None,
    train_motion=None,
    val_motion=None,
    method: str = "mahalanobis",
    quantile: float = 0.99,
    entropy_threshold: float | None = None,
    criteria=None,
    eps: float = 1.5,
    min_size: int = 2,
    spacing=None,
    shrinkage: float = 0.1,
    n_neighbors: int = 5,
    min_contrast: float | None = 1e-3,
    join: str = "class",
    order: str = "novelty",
    border_probability: float = 0.9,
    extent_weight: float = 0.25,
    evidence: str | None = None,
) -> Candidates:
    """Flag scan points that may show a pattern outside the training classes, group them into regions and
    rank the regions by evidence of novelty.

    Flags and regions are described in the module's docstring. **Ranking.** Every region gets a
    novelty *score*, the product of two parts:

    * its *strength*: by the look alone (the criteria "entropy" and "distance"), the median over its
      points of the *relative distance*, the distance of the embedding from the class that fits it
      best, in units of that class's own spread over fresh patterns (:class:`ClassSpread`); with
      the motion, the median tail surprise of the joint novelty (see **Motion** and **Evidence**).
      A chaotic class that varies from seed to seed may be broad, a steady one may not, so a
      region does not look novel merely for lying a little away from the training point of a
      broad class (the pooled distance of the flags treats every class as equally broad); the
      median makes one odd point count for little;
    * its *extent*: ``n_cells ** extent_weight``, the number of lattice cells it covers to a small
      power. A new class that covers a real area of the plane shows up as many points that agree;
      with 1/4, a region 16 times larger needs a strength half as large to rank equally, so
      extent breaks near-ties of strength but cannot lift a large region of a known class above a
      small one that fits no class. (Checked by the look alone, beyond the paper's pi: with each
      of the 13 Greek classes removed from the reference embeddings of the shipped first-pass scan
      in turn, the region of the removed class ranks first or second for every exponent from 0.2
      to 0.3, and pi's region second; the network itself still knew the class there, which
      :mod:`gslib.discovery` removes too.)

    Each region also gets a *kind*:

    * ``"novel"``: its median relative distance exceeds the ``quantile`` of the relative distances
      of the validation patterns (``thresholds["novelty"]``; with the motion, its median joint
      novelty exceeds ``thresholds["motion"]``): its patterns fit no known class;
    * ``"border"``: not novel, and the network hesitates between two known classes: at least half
      of its points are flagged by the entropy, and its two most probable classes hold at least
      ``border_probability`` of its mean probability;
    * ``"known"``: neither: patterns within the spread of a known class, flagged because the pooled
      distance takes every class to be as narrow as the average.

    The kind labels a region and does not change the order. Regions come back most novel first,
    or largest first with ``order="size"``; every region carries both ranks.

    **Motion** (the criterion ``"motion"``, on by default where the scan has the columns ``contrast``
    and ``motion`` and the motion indices of the training patterns are given, and then needs those
    of the validation patterns too; a shipped scan's reference and :func:`~gslib.scan.flag_scan`
    give both). A class the network never saw may be embedded on top of a neighbour that looks
    alike, and then no distance of the embedding sees it. With ``"motion"`` in ``criteria``, each
    point's motion index (:func:`motion_index`, from the scan's columns ``contrast`` and
    ``motion``) enters its *joint novelty* (:func:`joint_novelty`): ``min_c max(r_c, m_c)`` over
    the classes c, with ``r_c`` the relative distance from c and ``m_c`` the motion mismatch
    against c (:class:`MotionSpread`), both in units of c's spread. It is small only if one known
    class both looks and moves like the pattern.
    The point is flagged where it exceeds the ``quantile`` of the validation patterns' joint novelty
    (``thresholds["motion"]``), and a region is novel where its median does. ``motion_mismatch``
    reports the mismatch against the fit class alone, for reading.

    **Evidence.** With ``evidence="distance"`` a region's strength is the median of its points'
    novelty: the relative distance, or the joint novelty with the motion. With ``"tail"`` it is
    the median *tail surprise* (:func:`tail_surprise`): ``-ln p``, p the share of validation
    patterns at least as novel, which is ``ln(n + 1)`` beyond all n of them and grows no further.
    The relative distance and the motion mismatch have different tails (the motion spread of a
    steady class is a tenth of an e-fold, so a moving pattern lies dozens of spreads from it), and
    the surprise puts them on one scale and claims no more certainty than the calibration supports;
    among regions equally certain to fit no class, the extent then decides. The default
    (``evidence=None``) is ``"tail"`` with the criterion ``"motion"`` and ``"distance"`` without.
    Measured on the shipped first-pass scan and the held-out-class benchmark of
    :mod:`gslib.discovery` (150 epochs): with the motion, the median joint novelty puts two-point
    regions first on the scan and in every run; without it, the tail ranks pi's region 5th instead
    of 2nd, since beyond the validation patterns it no longer tells how far a region lies.

    Parameters
    ----------
    table : ScanTable or mapping
        The scan (or a mapping with k, f, embedding, and entropy or probabilities).
    train_embeddings : numpy.ndarray
        Embeddings ``(n, d)`` of the training samples (:func:`gslib.scan.classify_samples`).
    train_labels : numpy.ndarray
        Their classes ``(n,)``.
    val_embeddings : numpy.ndarray, optional
        Embeddings of held-out samples of the same classes, to calibrate the thresholds (their
        ``quantile``); None: every 5th training sample of each class is held out, the distance
        models are fitted on the others.
    val_probabilities : numpy.ndarray, optional
        Their class probabilities, to calibrate the entropy threshold the same way.
    val_labels : numpy.ndarray, optional
        Their classes: each class's spread is then measured on its validation patterns (fresh
        seeds, like the scan's); None: leave-one-out within the training embeddings.
    train_motion, val_motion : numpy.ndarray, optional
        Motion indices (:func:`motion_index`) of the training and validation patterns, for the
        criterion "motion" (a shipped scan's reference holds them as ``train_motion`` and
        ``val_motion``). Given ``train_motion`` and a table with the columns contrast and
        motion, the default criteria use the motion, and then need ``val_motion`` whenever
        ``val_embeddings`` are given.
    method : str, optional
        Distance model of the flags (:class:`EmbeddingDistance`).
    quantile : float, optional
        Quantile of the held-out samples that sets the thresholds (default 0.99: about 1 in 100
        patterns of a known class crosses each).
    entropy_threshold : float, optional
        Nats; None: calibrated from val_probabilities, or ln 2 without them.
    criteria : sequence of str, optional
        Which flags count (a point is flagged by any of them): any of "entropy", "distance" and
        "motion" (see above); None (the default): all three where the motion is available (see
        above), else "entropy" and "distance". ``("entropy", "distance")`` flags by the look alone.
    eps, min_size : optional
        Regions: points within eps lattice steps are joined; smaller regions are dropped.
    spacing : optional
        Lattice spacing of the scan (default: :func:`grid_spacing`).
    shrinkage, n_neighbors : optional
        Parameters of the distance models (:class:`EmbeddingDistance`, :class:`ClassSpread`).
    min_contrast : float or None, optional
        Points whose u(T) has a spatial standard deviation below this are uniform: one of the
        homogeneous states, which the theory of chapter 1 describes completely, and never
        flagged (only if the table has the column ``contrast``; None: no such rule).
    join : {'class', 'lattice'}, optional
        "class": only points whose embeddings are nearest to the same training class are
        joined (a region holds one kind of pattern); "lattice": any flagged neighbours.
    order : {'novelty', 'size'}, optional
        Order of the regions: by score, most novel first (ties: the larger first), or by size,
        largest first.
    extent_weight : float, optional
        In [0, 1]: the power of the number of lattice cells in the score (default 1/4, see above;
        0 ranks by the strength alone, 1 comes close to ranking by size).
    border_probability : float, optional
        In (0.5, 1]: the share of the mean probability that two classes must hold for a
        hesitating region to be a border between them (default 0.9: at most a tenth left for
        all other classes together).
    evidence : {None, 'distance', 'tail'}, optional
        What a region's strength is (see above); None: "tail" with the criterion "motion",
        "distance" without.

    Returns
    -------
    Candidates
        The flags, per point and per region.

    Raises
    ------
    ValueError
        If an argument is out of range or the shapes do not match.
    """
    if criteria is None:
        criteria = ("entropy", "distance") + (("motion",) if _has_motion(table, train_motion) else ())
    criteria = tuple(criteria)
    if not criteria or set(criteria) - set(FLAG_CRITERIA):
        raise ValueError(f"criteria={criteria!r}; allowed: one or more of {', '.join(map(repr, FLAG_CRITERIA))}")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile={quantile!r} must lie in (0, 1)")
    if order not in REGION_ORDERS:
        raise ValueError(f"order={order!r}; allowed: {', '.join(REGION_ORDERS)}")
    if not 0 <= extent_weight <= 1:
        raise ValueError(f"extent_weight={extent_weight!r} must lie in [0, 1]")
    if not 0.5 < border_probability <= 1:
        raise ValueError(f"border_probability={border_probability!r} must lie in (0.5, 1]")
    if evidence not in (None, *REGION_EVIDENCE):
        raise ValueError(f"evidence={evidence!r}; allowed: None, {', '.join(map(repr, REGION_EVIDENCE))}")
    if join not in ("class", "lattice"):
        raise ValueError(f"join={join!r}; allowed: 'class', 'lattice'")
    k, f = np.asarray(table["k"], dtype=np.float64), np.asarray(table["f"], dtype=np.float64)
    if "embedding" not in table or table["embedding"] is None:
        raise ValueError("the scan has no embeddings (load it with embedding=True, or ship it with them)")
    embedding = np.asarray(table["embedding"], dtype=np.float64)
    if embedding.shape[0] != len(k):
        raise ValueError(f"the scan has {len(k)} points but {embedding.shape[0]} embeddings")
    probabilities = np.asarray(table["probabilities"], dtype=np.float64) if "probabilities" in table else None
    entropy = np.asarray(table["entropy"], dtype=np.float64) if "entropy" in table else _entropy(probabilities)
    failed = np.asarray(table["failed"], dtype=bool) if "failed" in table else ~np.isfinite(embedding).all(axis=1)

    train = _check_embeddings(train_embeddings, "train_embeddings")
    labels = np.asarray(train_labels)
    if train.shape[1] != embedding.shape[1]:
        raise ValueError(
            f"train_embeddings have {train.shape[1]} features but the scan's embeddings {embedding.shape[1]}"
        )
    use_motion = "motion" in criteria
    if use_motion:
        scan_motion = _scan_motion(table, min_contrast, len(k))
        train_motion = _check_motion(train_motion, "train_motion", len(train))
    scorer = EmbeddingDistance(method, shrinkage=shrinkage, n_neighbors=n_neighbors)
    spread = ClassSpread(shrinkage)
    motions = MotionSpread()
    if val_embeddings is None:
        held = np.zeros(len(train), dtype=bool)
        for c in np.unique(labels):
            held[np.flatnonzero(labels == c)[4::5]] = True
        if not held.any() or held.all():
            raise ValueError("too few training embeddings to hold some out; pass val_embeddings")
        scorer.fit(train[~held], labels[~held])
        spread.fit(train[~held], labels[~held], train[held], labels[held])
        calibration = train[held]
        if use_motion:
            motions.fit(train_motion[~held], labels[~held], train_motion[held], labels[held])
            calibration_motion = train_motion[held]
    else:
        scorer.fit(train, labels)
        calibration = _check_embeddings(val_embeddings, "val_embeddings")
        if val_labels is not None and len(np.asarray(val_labels)) != len(calibration):
            raise ValueError(
                f"val_labels must have one label per validation embedding ({len(calibration)}); "
                f"got {len(np.asarray(val_labels))}"
            )
        spread.fit(train, labels, calibration, val_labels)
        if use_motion:
            calibration_motion = _check_motion(val_motion, "val_motion", len(calibration))
            if val_labels is None:  # each class's spread from its training patterns
                motions.fit(train_motion, labels)
            else:
                motions.fit(train_motion, labels, calibration_motion, val_labels)
    distance_threshold = float(np.quantile(scorer.score(calibration)[0], quantile))
    calibration_each = spread.relative_to_each(calibration)  # once: the fit and the joint novelty both need it
    calibration_relative, calibration_fit = spread.best_fit(calibration_each)
    novelty_threshold = float(np.quantile(calibration_relative, quantile))
    motion_threshold = None
    if use_motion:
        if not np.isfinite(motions.mismatch(calibration_motion, calibration_fit)).any():
            raise ValueError(
                "no validation pattern has a motion mismatch (all uniform?): 'motion' cannot be calibrated"
            )
        calibration_joint = joint_novelty(
            calibration_each, motions.mismatch_to_each(calibration_motion, spread.classes)
        )
        motion_threshold = float(np.quantile(calibration_joint, quantile))
        if not np.isfinite(motion_threshold):
            raise ValueError(
                f"the {quantile} quantile of the validation patterns' joint novelty is not finite: too many "
                "of them fit no class (are val_labels those of val_embeddings?)"
            )
    if entropy_threshold is None:
        entropy_threshold = (
            float(np.quantile(_entropy(val_probabilities), quantile)) if val_probabilities is not None else math.log(2)
        )
    distance, nearest = scorer.score(embedding)
    relative_each = spread.relative_to_each(embedding)
    relative, fit_class = spread.best_fit(relative_each)

    ok = ~failed & np.isfinite(distance)
    uniform = np.zeros(len(k), dtype=bool)
    if min_contrast is not None and "contrast" in table and table["contrast"] is not None:
        uniform = np.asarray(table["contrast"], dtype=np.float64) < min_contrast
        ok &= ~uniform
    flag_entropy = ok & (entropy > entropy_threshold)
    flag_distance = ok & (distance > distance_threshold)
    novelty, mismatch, flag_motion, threshold = relative, None, None, novelty_threshold
    if use_motion:
        mismatch = motions.mismatch(scan_motion, fit_class)
        novelty = joint_novelty(relative_each, motions.mismatch_to_each(scan_motion, spread.classes))
        flag_motion = ok & (np.nan_to_num(novelty) > motion_threshold)
        threshold = motion_threshold
    if evidence is None:
        evidence = "tail" if use_motion else "distance"
    if evidence == "tail":
        calibration_novelty = calibration_joint if use_motion else calibration_relative
        evidence_of = tail_surprise(novelty, calibration_novelty)
    else:
        evidence_of = novelty
    flagged = np.zeros(len(k), dtype=bool)
    if use_motion:
        flagged |= flag_motion
    if "entropy" in criteria:
        flagged |= flag_entropy
    if "distance" in criteria:
        flagged |= flag_distance
    spacing = spacing or grid_spacing(f=f, k=k)
    by_size = cluster_points(
        f=f, k=k, mask=flagged, spacing=spacing, eps=eps, min_size=min_size, groups=nearest if join == "class" else None
    )
    predicted = np.asarray(table["label"]) if "label" in table else np.full(len(k), "")
    columns = None if probabilities is None else _probability_names(table, probabilities.shape[1])
    regions = []
    for r in range(by_size.max() + 1):
        idx = np.flatnonzero(by_size == r)
        cells = {(round(a / spacing[0]), round(b / spacing[1])) for a, b in zip(f[idx], k[idx])}
        names, counts = np.unique(nearest[idx], return_counts=True)
        got, got_counts = np.unique(predicted[idx], return_counts=True)
        fits, fit_counts = np.unique(fit_class[idx], return_counts=True)
        if probabilities is not None:
            mean_p = np.nanmean(probabilities[idx], axis=0)
            top = np.argsort(-mean_p, kind="stable")[:2]
            top_classes = {str(columns[c]): float(mean_p[c]) for c in top}
        else:  # without probabilities, the shares of the predicted labels stand in for them
            top_classes = {str(a): b / len(idx) for a, b in sorted(zip(got, got_counts), key=lambda t: -t[1])[:2]}
        strength = float(np.median(evidence_of[idx]))
        score = strength * len(cells) ** extent_weight
        entropy_fraction = float(flag_entropy[idx].mean())
        top_probability = float(sum(top_classes.values()))
        if np.median(novelty[idx]) > threshold:
            kind = "novel"
        elif entropy_fraction >= 0.5 and len(top_classes) == 2 and top_probability >= border_probability:
            kind = "border"
        else:
            kind = "known"
        regions.append(
            dict(
                id=r,
                score=score,
                kind=kind,
                score_parts=dict(
                    strength=strength,
                    evidence=evidence,
                    relative_distance=float(np.median(relative[idx])),
                    extent=len(cells) ** extent_weight,
                    relative_distance_max=float(relative[idx].max()),
                    fit_class=str(fits[fit_counts.argmax()]),
                    fit_fraction=float(np.mean(relative[idx] <= novelty_threshold)),
                    entropy_fraction=entropy_fraction,
                    top_classes=top_classes,
                    top_probability=top_probability,
                    **(
                        {}
                        if mismatch is None
                        else dict(
                            joint_novelty=float(np.median(novelty[idx])),
                            motion_mismatch=_finite_median(mismatch[idx]),
                            motion_fraction=float(flag_motion[idx].mean()),
                        )
                    ),
                ),
                rank_novelty=0,
                rank_size=r + 1,
                size=len(idx),
                n_cells=len(cells),
                k_mean=float(k[idx].mean()),
                f_mean=float(f[idx].mean()),
                k_min=float(k[idx].min()),
                k_max=float(k[idx].max()),
                f_min=float(f[idx].min()),
                f_max=float(f[idx].max()),
                entropy_mean=float(entropy[idx].mean()),
                distance_mean=float(distance[idx].mean()),
                distance_max=float(distance[idx].max()),
                n_flag_entropy=int(flag_entropy[idx].sum()),
                n_flag_distance=int(flag_distance[idx].sum()),
                labels={str(a): int(b) for a, b in sorted(zip(got, got_counts), key=lambda t: -t[1])},
                nearest_class=str(names[counts.argmax()]),
                indices=idx,
            )
        )
    # by_size already orders by (size, first point); a stable sort on the score keeps that order for ties
    novelty_order = sorted(range(len(regions)), key=lambda i: -regions[i]["score"])
    for rank, i in enumerate(novelty_order, start=1):
        regions[i]["rank_novelty"] = rank
    if order == "novelty":
        regions = [regions[i] for i in novelty_order]
    region = np.full(len(k), -1, dtype=np.int64)
    for new_id, r in enumerate(regions):
        r["id"] = new_id
        region[r["indices"]] = new_id
    thresholds = dict(
        entropy=float(entropy_threshold),
        distance=distance_threshold,
        novelty=novelty_threshold,
        motion=motion_threshold,
        quantile=quantile,
        method=method,
        criteria=list(criteria),
        eps=eps,
        min_size=min_size,
        n_calibration=len(calibration),
        spacing=list(spacing),
        min_contrast=min_contrast,
        n_uniform=int(uniform.sum()),
        join=join,
        order=order,
        border_probability=border_probability,
        extent_weight=extent_weight,
        evidence=evidence,
        spread="validation"
        if val_embeddings is not None and val_labels is not None
        else "held-out training"
        if val_embeddings is None
        else "leave-one-out",
    )
    return Candidates(
        k=k,
        f=f,
        entropy=entropy,
        distance=distance,
        nearest_class=nearest,
        flag_entropy=flag_entropy,
        flag_distance=flag_distance,
        flagged=flagged,
        region=region,
        regions=regions,
        thresholds=thresholds,
        uniform=uniform,
        relative_distance=relative,
        fit_class=fit_class,
        motion_mismatch=mismatch,
        flag_motion=flag_motion,
        joint_novelty=novelty if use_motion else None,
    )


def _finite_median(x) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def _check_motion(values, name, n) -> np.ndarray:
    if values is None:
        raise ValueError(
            f"the criterion 'motion' needs {name}: gslib.scan.motion_index of those patterns "
            "(a shipped scan's reference holds train_motion and val_motion; the default criteria use the "
            "motion once train_motion is given, criteria=('entropy', 'distance') searches by the look alone)"
        )
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"{name} must have one motion index per pattern ({n}); got shape {values.shape}")
    return values


def _has_motion(table, train_motion) -> bool:
    """Whether the scan and the training patterns carry the motion (the validation patterns must then, too)."""
    columns = all(c in table and table[c] is not None for c in ("contrast", "motion"))
    return columns and train_motion is not None


def _scan_motion(table, min_contrast, n) -> np.ndarray:
    columns = [table[c] if c in table else None for c in ("contrast", "motion")]
    if any(c is None for c in columns):
        raise ValueError("the criterion 'motion' needs the scan's columns contrast and motion (gslib scan writes them)")
    return motion_index(*columns, min_contrast=1e-3 if min_contrast is None else min_contrast)
