"""Bernoulli naive Bayes: word presence counted per class, as a contract can count."""

import numpy as np
from pydantic import Field

from sim.features import Features, Row
from sim.learners import kernels
from sim.learners.base import Learner
from sim.params import Params
from sim.registry import register_learner


class NaiveBayesParams(Params):
    alpha: float = Field(1.0, gt=0, allow_inf_nan=False, description="Laplace smoothing")


@register_learner
class NaiveBayes(Learner):
    """Bernoulli naive Bayes on binarized features (x > 0), kept as integer counts.

    The counts are the on-chain state; the log-probability table is a cache recomputed for
    the updated class only, so predict is one matrix-vector product. The formulas are
    scikit-learn's BernoulliNB(alpha=alpha, binarize=0.0, fit_prior=True):
    p(feature j | class k) = (count[k, j] + alpha) / (class_count[k] + 2 alpha) and
    prior(k) = class_count[k] / total. A class without samples has prior 0 (log -inf), so it
    is never predicted while any class has samples; with no samples at all the prior is
    uniform and class 0 is predicted.
    """

    kind = "naive_bayes"
    Params = NaiveBayesParams

    def __init__(self, n_features: int, n_classes: int, **params: object) -> None:
        super().__init__(n_features, n_classes, **params)
        self.alpha = self.params.alpha
        self.feature_counts = np.zeros((self.n_classes, self.n_features), dtype=np.int64)
        self.class_counts = np.zeros(self.n_classes, dtype=np.int64)
        # joint log-likelihood = (x > 0) @ _weights.T + _bias, as in BernoulliNB:
        # sum_j [x_j log p_j + (1 - x_j) log(1 - p_j)] = x @ (log p - log(1-p)) + sum log(1-p).
        self._weights = np.zeros((self.n_classes, self.n_features))
        self._neg_sums = np.zeros(self.n_classes)
        self._bias = np.zeros(self.n_classes)
        self._refresh(slice(None))

    @property
    def class_log_prior(self) -> np.ndarray:
        """log(class_count / total); uniform while there is no data."""
        total = self.class_counts.sum()
        if total == 0:
            return np.full(self.n_classes, -np.log(self.n_classes))
        with np.errstate(divide="ignore"):
            return np.log(self.class_counts) - np.log(total)

    @property
    def feature_log_prob(self) -> np.ndarray:
        """log p(feature j present | class k), shape (n_classes, n_features)."""
        return self._feature_log_prob(slice(None))

    def _predict(self, x: Row) -> int:
        return int((kernels.class_dots(self._weights, *x, True) + self._bias).argmax())

    def _predict_many(self, X: Features) -> np.ndarray:
        jll = kernels.class_dots_many(self._weights, X.indptr, X.indices, X.values, X.rows, True)
        jll += self._bias
        return jll.argmax(axis=1).astype(np.int64)

    def _update(self, x: Row, y: int) -> None:
        indices, values = x
        self.feature_counts[y, indices[values > 0]] += 1
        self.class_counts[y] += 1
        self._refresh(slice(y, y + 1))

    def _fit(self, X: Features, y: np.ndarray, rng) -> None:
        # Counting is order-free, so per-class sums equal the update loop.
        self.feature_counts += kernels.class_sums(
            X.indptr, X.indices, X.values, X.rows, y, self.n_classes, self.n_features, True
        ).astype(np.int64)
        self.class_counts += np.bincount(y, minlength=self.n_classes)
        self._refresh(slice(None))

    def _feature_log_prob(self, rows: slice) -> np.ndarray:
        smoothed = self.feature_counts[rows] + self.alpha
        smoothed_class = self.class_counts[rows] + 2 * self.alpha
        return np.log(smoothed) - np.log(smoothed_class)[:, None]

    def _refresh(self, rows: slice) -> None:
        """Recompute the cached log tables of `rows` and every class's prior."""
        log_p = self._feature_log_prob(rows)
        log_not_p = np.log(1 - np.exp(log_p))
        self._weights[rows] = log_p - log_not_p
        self._neg_sums[rows] = log_not_p.sum(axis=1)
        self._bias = self.class_log_prior + self._neg_sums

    def state(self) -> tuple:
        return (self.feature_counts.copy(), self.class_counts.copy())
