"""How far a pattern lies from the classes a network knows: the distance models of discovery.

:class:`EmbeddingDistance` (pooled Mahalanobis or k-nearest-neighbour distance of an embedding,
the flags), :class:`ClassSpread` (distance from each class in units of that class's own spread,
the ranking) and, beside the network, :func:`motion_index` and :class:`MotionSpread` (how a
pattern moves compared with the class it resembles). :func:`gslib.scan.flag_candidates` combines
them; every name is also available as ``gslib.scan.<name>``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ClassSpread", "EmbeddingDistance", "MotionSpread", "joint_novelty", "motion_index", "tail_surprise"]


class EmbeddingDistance:
    """Distance of embeddings from the classes of a training set, and the nearest class.

    Parameters
    ----------
    method : {"mahalanobis", "knn"}
        ``"mahalanobis"``: class means and one pooled within-class covariance S, shrunk to
        (1 - shrinkage) S + shrinkage (tr S / d) I; distance = min over classes of the
        Mahalanobis distance. ``"knn"``: embeddings scaled to unit length; distance = the
        Euclidean distance to the ``n_neighbors``-th nearest training embedding; the nearest
        class is that of the nearest one.
    shrinkage : float
        Shrinkage of the covariance, in (0, 1] (mahalanobis).
    n_neighbors : int
        Which neighbour sets the distance, >= 1 (knn).

    Raises
    ------
    ValueError
        If an argument is out of range.
    """

    METHODS = ("mahalanobis", "knn")

    def __init__(self, method: str = "mahalanobis", *, shrinkage: float = 0.1, n_neighbors: int = 5):
        if method not in self.METHODS:
            raise ValueError(f"method={method!r}; allowed: {', '.join(self.METHODS)}")
        if not 0 < shrinkage <= 1:
            raise ValueError(f"shrinkage={shrinkage!r} must lie in (0, 1]")
        if not isinstance(n_neighbors, int) or n_neighbors < 1:
            raise ValueError(f"n_neighbors={n_neighbors!r} must be a positive integer")
        self.method, self.shrinkage, self.n_neighbors = method, float(shrinkage), n_neighbors

    def fit(self, embeddings, labels) -> EmbeddingDistance:
        x = _check_embeddings(embeddings, "train_embeddings")
        labels = np.asarray(labels)
        if labels.shape != (len(x),):
            raise ValueError(f"train_labels must have one label per embedding ({len(x)}); got shape {labels.shape}")
        self.classes, y = np.unique(labels, return_inverse=True)
        if self.method == "knn":
            from scipy.spatial import cKDTree

            if len(x) < self.n_neighbors:
                raise ValueError(f"knn needs at least n_neighbors={self.n_neighbors} training embeddings")
            self._tree, self._y = cKDTree(_unit(x)), y
            return self
        means = np.stack([x[y == c].mean(axis=0) for c in range(len(self.classes))])
        resid = x - means[y]
        cov = resid.T @ resid / max(len(x) - len(self.classes), 1)
        scale = np.trace(cov) / len(cov)
        scale = scale if scale > 0 else 1.0
        cov = (1 - self.shrinkage) * cov + self.shrinkage * scale * np.eye(len(cov))
        w, v = np.linalg.eigh(cov)
        self._whiten = v / np.sqrt(np.maximum(w, 1e-12 * w.max()))
        self._means = means @ self._whiten
        return self

    def score(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """(distance (n,), nearest class (n,)) for embeddings (n, d); NaN rows give NaN and ''."""
        x = np.asarray(embeddings, dtype=np.float64)
        ok = np.isfinite(x).all(axis=1)
        distance = np.full(len(x), np.nan)
        nearest = np.full(len(x), -1)
        if ok.any():
            if self.method == "knn":
                d, i = self._tree.query(_unit(x[ok]), k=self.n_neighbors)
                d, i = d.reshape(ok.sum(), -1), i.reshape(ok.sum(), -1)
                distance[ok], nearest[ok] = d[:, -1], self._y[i[:, 0]]
            else:
                z = x[ok] @ self._whiten
                d2 = (z**2).sum(axis=1)[:, None] - 2 * z @ self._means.T + (self._means**2).sum(axis=1)[None]
                nearest[ok] = d2.argmin(axis=1)
                distance[ok] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
        names = np.array([str(c) for c in self.classes] + [""])
        return distance, names[np.where(nearest < 0, len(self.classes), nearest)]


class ClassSpread:
    """Distance of embeddings from each training class, in units of that class's own spread.

    Chaotic classes (spots that split and die) vary from seed to seed far more than steady ones (a
    few isolated spots), so one distance threshold for all classes flags patterns of the broad
    classes that are merely a little away from their training point, and misses patterns that lie
    close to a narrow class but outside it. Here each class sets its own scale.

    Embeddings are whitened with the pooled, shrunk covariance of the training classes (as in
    :class:`EmbeddingDistance`). For class c, ``d_c(x)`` is the Euclidean distance from x to the
    nearest training embedding of c, and the spread ``s_c`` is the median of ``d_c`` over fresh
    patterns of c: the validation embeddings of c when labelled, otherwise each training embedding
    measured against the other training embeddings of c (leave one out). The *relative distance*
    of x is ``min_c d_c(x) / s_c``: about 1 for a typical new pattern of a known class, and larger
    than every class allows for a pattern that fits none. A class whose patterns are all identical
    (the uniform states L and H: ``s_c = 0``) fits only those patterns; a class with a single
    training pattern and no labelled validation pattern gets the median spread of the other
    classes, and where no class has a spread of its own, every class gets the median distance of
    the (unlabelled) validation embeddings from their nearest training embedding.

    Parameters
    ----------
    shrinkage : float
        Shrinkage of the pooled covariance, in (0, 1].

    Raises
    ------
    ValueError
        If ``shrinkage`` is out of range.
    """

    def __init__(self, shrinkage: float = 0.1):
        if not 0 < shrinkage <= 1:
            raise ValueError(f"shrinkage={shrinkage!r} must lie in (0, 1]")
        self.shrinkage = float(shrinkage)

    def fit(self, embeddings, labels, val_embeddings=None, val_labels=None) -> ClassSpread:
        """Fit the classes and their spreads.

        Parameters
        ----------
        embeddings : numpy.ndarray
            Training embeddings (n, d).
        labels : numpy.ndarray
            Their classes (n,).
        val_embeddings : numpy.ndarray, optional
            Fresh patterns of the same classes (m, d).
        val_labels : numpy.ndarray, optional
            Their classes (m,): each class's spread is measured on them; None: leave-one-out
            within the training embeddings.

        Returns
        -------
        ClassSpread
            self.

        Raises
        ------
        ValueError
            If the shapes do not match, ``val_labels`` comes without ``val_embeddings``, or no
            spread can be measured (one training embedding per class and no validation embeddings).
        """
        from scipy.spatial import cKDTree

        x = _check_embeddings(embeddings, "train_embeddings")
        labels = np.asarray(labels)
        if labels.shape != (len(x),):
            raise ValueError(f"train_labels must have one label per embedding ({len(x)}); got shape {labels.shape}")
        if val_embeddings is None and val_labels is not None:
            raise ValueError("val_labels need val_embeddings")
        whiten = EmbeddingDistance("mahalanobis", shrinkage=self.shrinkage).fit(x, labels)._whiten
        self.classes, y = np.unique(labels, return_inverse=True)
        self._whiten = whiten
        z = x @ whiten
        self._trees = [cKDTree(z[y == c]) for c in range(len(self.classes))]
        spread = np.full(len(self.classes), np.nan)
        zv = None
        if val_embeddings is not None:
            v = _check_embeddings(val_embeddings, "val_embeddings")
            if v.shape[1] != x.shape[1]:
                raise ValueError(f"val_embeddings have {v.shape[1]} features but train_embeddings {x.shape[1]}")
            zv = v @ whiten
        if val_labels is not None:
            vl = np.asarray(val_labels)
            if vl.shape != (len(zv),):
                raise ValueError(f"val_labels must have one label per embedding ({len(zv)}); got shape {vl.shape}")
            for c, name in enumerate(self.classes):
                mine = vl == name
                if mine.any():
                    spread[c] = np.median(self._trees[c].query(zv[mine])[0])
        for c in np.flatnonzero(np.isnan(spread)):
            members = z[y == c]
            if len(members) > 1:
                spread[c] = np.median(self._trees[c].query(members, k=2)[0][:, 1])
        if np.isnan(spread).all():
            if zv is None:
                raise ValueError(
                    "no class has two training embeddings and there are no validation embeddings: "
                    "the spread of the classes is unknown"
                )
            spread[:] = np.median(cKDTree(z).query(zv)[0])
        spread[np.isnan(spread)] = np.median(spread[~np.isnan(spread)])
        self.spread = spread
        return self

    def relative(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """Relative distances of embeddings (n, d).

        Parameters
        ----------
        embeddings : numpy.ndarray
            (n, d); rows with NaN give NaN and ''.

        Returns
        -------
        relative : numpy.ndarray
            ``min_c d_c / s_c`` (n,).
        fit_class : numpy.ndarray
            The class c that attains it (n,): the known class the pattern fits best for its spread.
        """
        return self.best_fit(self.relative_to_each(embeddings))

    def best_fit(self, relative_each) -> tuple[np.ndarray, np.ndarray]:
        """The relative distance and fit class of each row of :meth:`relative_to_each` (as :meth:`relative`).

        Parameters
        ----------
        relative_each : numpy.ndarray
            (n, number of classes), as :meth:`relative_to_each` returns it.

        Returns
        -------
        relative, fit_class : numpy.ndarray
            As in :meth:`relative`.
        """
        r = np.asarray(relative_each, dtype=np.float64)
        ok = ~np.isnan(r).all(axis=1)  # inf (unlike every class of spread 0) stays inf
        relative = np.full(len(r), np.nan)
        best = np.full(len(r), -1)
        best[ok] = r[ok].argmin(axis=1)
        relative[ok] = r[ok].min(axis=1)
        names = np.array([str(c) for c in self.classes] + [""])
        return relative, names[np.where(best < 0, len(self.classes), best)]

    def relative_to_each(self, embeddings) -> np.ndarray:
        """Distances ``d_c / s_c`` of embeddings (n, d) from every class c (columns in the order of ``classes``).

        Parameters
        ----------
        embeddings : numpy.ndarray
            (n, d); rows with NaN give rows of NaN.

        Returns
        -------
        numpy.ndarray
            (n, number of classes); inf from a class of spread 0 for a pattern unlike its own.
        """
        x = np.asarray(embeddings, dtype=np.float64)
        ok = np.isfinite(x).all(axis=1)
        r = np.full((len(x), len(self.classes)), np.nan)
        if ok.any():
            z = x[ok] @ self._whiten
            d = np.stack([tree.query(z)[0] for tree in self._trees], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                r[ok] = np.where(
                    self.spread > 0, d / np.where(self.spread > 0, self.spread, 1.0), np.where(d > 0, np.inf, 0.0)
                )
        return r


def motion_index(contrast, motion, min_contrast: float = 1e-3) -> np.ndarray:
    """How much a pattern changed over its three snapshots, relative to its own contrast.

    ``ln(motion / contrast)``, with the two numbers of :func:`gslib.scan.run.pattern_measures`
    (the scan's columns ``motion`` and ``contrast``): about 0 for a pattern that moves as much as
    it varies in space (spots that split and die), -5 for one that changed by a 150th of its
    contrast (a pattern still settling into a steady state), far lower for one that stands still.
    The CNN sees three snapshots but, trained to tell its classes apart, need not learn this
    number; Pearson (1993) sorted his classes by it as much as by their shapes.

    The index compares two snapshots, so it needs them clean: independent measurement noise of a
    fiftieth of the contrast on each snapshot already lifts a steady pattern's index by more than
    one e-fold (a moving one's hardly changes). Remove the noise of measured snapshots first.

    Parameters
    ----------
    contrast, motion : array_like
        Per pattern (n,).
    min_contrast : float, optional
        Below this contrast a pattern is uniform and has no motion index (NaN).

    Returns
    -------
    numpy.ndarray
        float64 (n,); NaN where uniform or not finite.
    """
    contrast = np.asarray(contrast, dtype=np.float64)
    motion = np.asarray(motion, dtype=np.float64)
    if contrast.shape != motion.shape:
        raise ValueError(f"contrast {contrast.shape} and motion {motion.shape} must have the same shape")
    with np.errstate(all="ignore"):
        value = np.log(np.maximum(motion, 1e-12) / contrast)
    return np.where(np.isfinite(value) & (contrast >= min_contrast), value, np.nan)


class MotionSpread:
    """How far a pattern's motion index lies from that of the class it resembles, in units of the class's spread.

    A class the network never saw can be embedded on top of a neighbour that looks alike in a
    single snapshot: held out of training, Pearson's steady theta is taken for the time-dependent
    gamma beside it, and the embedding distance cannot tell (:mod:`gslib.discovery`). Their
    motion indices (:func:`motion_index`) differ by three e-folds. For class c, the *centre* is
    the median motion index of its training patterns and the *spread* ``s_c`` the median of
    ``|index - centre|`` over fresh patterns of c (its validation patterns when labelled,
    otherwise its training patterns); a pattern's *motion mismatch* against c is
    ``|index - centre_c| / s_c``, about 1 for a typical new pattern of c. Uniform patterns and the
    classes without non-uniform training patterns (L, H) have none (NaN); a class whose spread
    cannot be measured (one pattern) or is 0 gets the median spread of the others.
    """

    def fit(self, values, labels, val_values=None, val_labels=None) -> MotionSpread:
        """Fit each class's centre and spread.

        Parameters
        ----------
        values : numpy.ndarray
            Motion indices of the training patterns (n,), NaN for uniform ones.
        labels : numpy.ndarray
            Their classes (n,).
        val_values, val_labels : numpy.ndarray, optional
            Motion indices and classes of fresh patterns (m,), which set the spreads.

        Returns
        -------
        MotionSpread
            self.

        Raises
        ------
        ValueError
            If the shapes do not match or no spread can be measured.
        """
        values, labels = np.asarray(values, dtype=np.float64), np.asarray(labels)
        if values.shape != labels.shape or values.ndim != 1:
            raise ValueError(f"train_motion {values.shape} must have one value per training label {labels.shape}")
        if (val_values is None) != (val_labels is None):
            raise ValueError("val_motion and val_labels come together")
        if val_values is not None:
            val_values, val_labels = np.asarray(val_values, dtype=np.float64), np.asarray(val_labels)
            if val_values.shape != val_labels.shape:
                raise ValueError(f"val_motion {val_values.shape} must have one value per label {val_labels.shape}")
        self.centre, self.spread = {}, {}
        for c in np.unique(labels):
            mine = values[(labels == c) & np.isfinite(values)]
            if len(mine) == 0:
                continue
            centre = float(np.median(mine))
            fresh = None if val_values is None else val_values[(val_labels == c) & np.isfinite(val_values)]
            self.centre[str(c)] = centre
            if fresh is not None and len(fresh):
                self.spread[str(c)] = float(np.median(np.abs(fresh - centre)))
            elif len(mine) > 1:
                self.spread[str(c)] = float(np.median(np.abs(mine - centre)))
        known = [v for v in self.spread.values() if v > 0]
        if not known:
            raise ValueError(
                "no class has two non-uniform patterns (training and validation): their motion spread is unknown"
            )
        typical = float(np.median(known))
        self.spread = {c: self.spread.get(c, typical) or typical for c in self.centre}
        return self

    def mismatch(self, values, classes) -> np.ndarray:
        """Motion mismatch (n,) of motion indices ``values`` against ``classes`` (n,); NaN where unknown."""
        values, classes = np.asarray(values, dtype=np.float64), np.asarray(classes)
        if values.shape != classes.shape:
            raise ValueError(f"motion values {values.shape} and classes {classes.shape} must have the same shape")
        centre = np.array([self.centre.get(str(c), np.nan) for c in classes])
        spread = np.array([self.spread.get(str(c), np.nan) for c in classes])
        return np.abs(values - centre) / spread

    def mismatch_to_each(self, values, classes) -> np.ndarray:
        """Motion mismatch of every pattern against every class.

        Parameters
        ----------
        values : numpy.ndarray
            Motion indices (n,), NaN for uniform patterns.
        classes : sequence of str
            The classes (m,), e.g. :attr:`ClassSpread.classes`.

        Returns
        -------
        numpy.ndarray
            (n, m): ``|index - centre_c| / s_c``; inf against a class without a motion index (L, H)
            and 0 for a pattern without one (it cannot move unlike anything).
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"motion values must be one-dimensional; got shape {values.shape}")
        centre = np.array([self.centre.get(str(c), np.nan) for c in classes])
        spread = np.array([self.spread.get(str(c), np.nan) for c in classes])
        with np.errstate(invalid="ignore"):
            m = np.abs(values[:, None] - centre[None]) / spread[None]
        m = np.where(np.isnan(centre)[None], np.inf, m)
        return np.where(np.isfinite(values)[:, None], m, 0.0)


def joint_novelty(relative, mismatch) -> np.ndarray:
    """How far patterns lie from the nearest class that explains both their look and their motion.

    A pattern is of a known class c when it both looks like c (relative distance ``r_c`` about 1)
    and moves like c (motion mismatch ``m_c`` about 1). Its *joint novelty* is
    ``min_c max(r_c, m_c)``: small only if one class does both. Both measures are in units of the
    class's own spread over fresh patterns, so neither needs a weight; the joint novelty is never
    below the relative distance ``min_c r_c``. A class hidden on top of a neighbour that looks
    alike (Pearson's steady theta beside the time-dependent gamma) has a small ``r`` for the
    neighbour but a large ``m`` for it, and no class that moves like it looks like it.

    Parameters
    ----------
    relative : numpy.ndarray
        ``(n, m)`` relative distances from each class (:meth:`ClassSpread.relative_to_each`).
    mismatch : numpy.ndarray
        ``(n, m)`` motion mismatches against the same classes (:meth:`MotionSpread.mismatch_to_each`).

    Returns
    -------
    numpy.ndarray
        ``(n,)``; NaN where every relative distance is NaN (embedding not finite).
    """
    relative, mismatch = np.asarray(relative, dtype=np.float64), np.asarray(mismatch, dtype=np.float64)
    if relative.shape != mismatch.shape or relative.ndim != 2:
        raise ValueError(f"relative {relative.shape} and mismatch {mismatch.shape} must be the same (n, m) shape")
    both = np.fmax(relative, mismatch)
    both[np.isnan(relative)] = np.nan
    out = np.full(len(both), np.nan)
    ok = ~np.isnan(both).all(axis=1)
    out[ok] = np.nanmin(both[ok], axis=1)
    return out


def tail_surprise(values, calibration) -> np.ndarray:
    """How rare each value would be among calibration values of known classes: ``-ln p``.

    ``p = (1 + #{calibration >= value}) / (n + 1)`` is the conformal p-value of a value under the
    n calibration values (validation patterns of the known classes): 0 nats for a value below all
    of them, ``ln(n + 1)`` for one above all. It puts scores of different tails on one scale and
    claims no more than the calibration set can support: beyond its largest value, every pattern is
    equally certain not to be of a known class.

    Parameters
    ----------
    values : array_like
        Scores (n,); NaN counts as no evidence (0).
    calibration : array_like
        Scores of validation patterns; non-finite ones are ignored.

    Returns
    -------
    numpy.ndarray
        float64 (n,), in nats.
    """
    cal = np.asarray(calibration, dtype=np.float64).ravel()
    cal = np.sort(cal[np.isfinite(cal)])
    if len(cal) == 0:
        raise ValueError("calibration must hold at least one finite value")
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-np.inf)
    above = len(cal) - np.searchsorted(cal, x, side="left")
    return np.log((len(cal) + 1.0) / (1.0 + above))


def _unit(x):
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _check_embeddings(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, d); got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite")
    return x
