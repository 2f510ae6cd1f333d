"""Nearest centroid: the class whose running mean is closest, kept as integer sums."""

import numpy as np

from sim.features import Features, Row
from sim.learners import kernels
from sim.learners.base import Learner
from sim.registry import register_learner


@register_learner
class NearestCentroid(Learner):
    """Multi-class nearest centroid (Euclidean), kept as per-class sums and counts.

    The running mean of class k is sums[k] / counts[k]; storing the integer sums instead of
    the mean keeps every update exact. Classes with no samples yet are never predicted
    (class 0 is predicted while no class has samples); ties go to the lowest class index.
    """

    kind = "nearest_centroid"

    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__(n_features, n_classes)
        self.sums = np.zeros((self.n_classes, self.n_features))
        self.counts = np.zeros(self.n_classes, dtype=np.int64)
        # ||x - S/n||^2 = ||x||^2 + (||S||^2 - 2n x·S) / n^2 and ||x||^2 is the same for every
        # class, so predict needs only S @ x and these per-class numbers. The numerator is an
        # exact integer, so the one rounding (the division) cannot reorder two classes.
        # A class without samples gets +inf: inf - 0 * (S @ x) = inf, divided by 1.
        self._sq_norms = np.full(self.n_classes, np.inf)
        self._two_n = np.zeros(self.n_classes)
        self._n_sq = np.ones(self.n_classes)

    @property
    def centroids(self) -> np.ndarray:
        """Per-class means, shape (n_classes, n_features); NaN rows for classes without data."""
        with np.errstate(invalid="ignore"):
            return self.sums / self.counts[:, None]

    def _predict(self, x: Row) -> int:
        dots = kernels.class_dots(self.sums, *x, False)
        return int(((self._sq_norms - self._two_n * dots) / self._n_sq).argmin())

    def _predict_many(self, X: Features) -> np.ndarray:
        dots = kernels.class_dots_many(self.sums, X.indptr, X.indices, X.values, X.rows, False)
        scores = (self._sq_norms - self._two_n * dots) / self._n_sq
        return scores.argmin(axis=1).astype(np.int64)

    def _update(self, x: Row, y: int) -> None:
        indices, values = x
        self.sums[y, indices] += values
        self.counts[y] += 1
        self._refresh(y)

    def _fit(self, X: Features, y: np.ndarray, rng) -> None:
        # Sums of integers are exact in any order, so per-class sums equal the update loop.
        self.sums += kernels.class_sums(
            X.indptr, X.indices, X.values, X.rows, y, self.n_classes, self.n_features, False
        )
        self.counts += np.bincount(y, minlength=self.n_classes)
        for k in np.flatnonzero(self.counts):
            self._refresh(k)

    def _refresh(self, k: int) -> None:
        """Recompute the cached distance terms of class k from its sum and count."""
        n = float(self.counts[k])
        self._sq_norms[k] = self.sums[k] @ self.sums[k]
        self._two_n[k] = 2.0 * n
        self._n_sq[k] = n * n

    def state(self) -> tuple:
        return (self.sums.copy(), self.counts.copy())
