"""On-chain-style learners: incremental, deterministic classifiers.

A contract can only afford models whose update touches a few storage slots and whose
arithmetic is exact, so every learner here keeps integer-valued state (weights, sums or
counts) and learns one sample at a time. Features are 2-D float64 arrays holding integers
(binary, counts or fixed-point; the dataset module guarantees it) and labels are int64
class indices 0..n_classes-1.

All learners share one small interface (see `Learner`); `make_learner` builds one by its
registry name. `predict` and `update` are the simulation's hot paths: they trust their
input, so code that takes samples from outside (the contract) checks them once with
`check_sample`. `fit`, `predict_many` and `accuracy` validate their arguments.
"""

from __future__ import annotations

import copy
import inspect
import math
from typing import ClassVar

import numpy as np
from scipy import sparse


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


class Learner:
    """Base class: the shared interface, input validation and gas estimate.

    Subclasses set `kind`, `binary_only` and `gas_costs`, and implement `predict`,
    `_predict_many`, `update`, `_fit` and `state`.
    """

    kind: ClassVar[str]
    binary_only: ClassVar[bool] = False
    #: Rough EVM-like prices: `base` is the transaction and call overhead, `per_feature`
    #: the cost of reading one stored value for a nonzero feature, `per_write` one
    #: storage write to an existing slot.
    gas_costs: ClassVar[dict[str, int]]

    def __init__(self, n_features: int, n_classes: int) -> None:
        self.n_features = _check_int("n_features", n_features, 1)
        self.n_classes = _check_int("n_classes", n_classes, 2)
        if self.binary_only and self.n_classes != 2:
            raise ValueError(
                f"{self.kind} is binary-only: n_classes must be 2, got {self.n_classes}; "
                "use nearest_centroid or naive_bayes for multi-class data"
            )

    # -- the interface ------------------------------------------------------------------

    def fit(self, X: np.ndarray, y: np.ndarray) -> Learner:
        """Learn from every row of X in order; the same result as `update` on each row."""
        X = self._check_X(X, integer=True)
        y = self._check_y(y, len(X))
        self._fit(X, y)
        return self

    def predict(self, x: np.ndarray) -> int:
        """Class index for one sample (1-D array). Hot path: no validation."""
        raise NotImplementedError

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        """Class indices (int64) for every row of X."""
        return self._predict_many(self._check_X(X))

    def update(self, x: np.ndarray, y: int) -> None:
        """Learn from one sample (1-D array) with label y. Hot path: no validation."""
        raise NotImplementedError

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of rows of X whose predicted class equals y."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        if len(y) == 0:
            raise ValueError("accuracy needs at least one sample, got an empty X")
        return float(np.mean(self._predict_many(X) == y))

    def update_gas(self, x: np.ndarray) -> int:
        """Gas estimate of `update(x, ...)` from the class's `gas_costs` table.

        Each feature the update touches costs a read and a write; one more write stores the
        scalar the update also changes (bias or class count). Zero features are skipped, as
        a sparse contract would skip them.
        """
        touched = self._n_touched(x)
        costs = self.gas_costs
        return (
            costs["base"]
            + touched * (costs["per_feature"] + costs["per_write"])
            + costs["per_write"]
        )

    def copy(self) -> Learner:
        """An independent deep copy (for replaying contributions on a scratch model)."""
        return copy.deepcopy(self)

    def state(self) -> tuple:
        """Arrays and ints that fully describe the model; compare items with np.array_equal."""
        raise NotImplementedError

    def check_sample(self, x: np.ndarray, y: int | None = None) -> np.ndarray:
        """Validate one sample (and optionally its label) from outside; return x as float64.

        `predict` and `update` skip validation for speed, so callers that take untrusted
        samples (the contract) call this first.
        """
        x = np.asarray(x)
        if x.shape != (self.n_features,):
            raise ValueError(
                f"x must be a 1-D array of {self.n_features} features, got shape {x.shape}"
            )
        x = self._as_float(x, "x")
        bad = np.flatnonzero(~np.isfinite(x) | (np.round(x) != x))
        if bad.size:
            raise ValueError(
                f"x must hold finite integer values (binary, counts or fixed-point); "
                f"x[{bad[0]}] = {float(x[bad[0]])}"
            )
        if y is not None:
            if isinstance(y, bool) or not isinstance(y, int | np.integer):
                raise ValueError(f"y must be an integer class index, got {y!r}")
            if not 0 <= y < self.n_classes:
                raise ValueError(
                    f"y = {y} is outside 0..{self.n_classes - 1} (n_classes={self.n_classes})"
                )
        return x

    # -- helpers for subclasses ---------------------------------------------------------

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        for x_i, y_i in zip(X, y, strict=True):
            self.update(x_i, int(y_i))

    def _predict_many(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _n_touched(self, x: np.ndarray) -> int:
        return int(np.count_nonzero(x))

    @staticmethod
    def _as_float(a: np.ndarray, name: str) -> np.ndarray:
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
        return a.astype(np.float64, copy=False)

    def _check_X(self, X: np.ndarray, integer: bool = False) -> np.ndarray:
        """X as a float64 (n_samples, n_features) array; `integer` also scans the values.

        Only `fit` scans (it changes the model's exact integer state); prediction skips the
        scan because it is called on large test sets many times per run. A scipy sparse
        matrix is accepted for prediction (a sparse bag-of-words test set is evaluated
        several times faster as CSR).
        """
        if sparse.issparse(X) and not integer:
            if X.shape[1] != self.n_features:
                raise ValueError(
                    f"X has {X.shape[1]} features, the model expects {self.n_features}"
                )
            return sparse.csr_array(X, dtype=np.float64)
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got {X.ndim}-D")
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features, the model expects {self.n_features}")
        X = self._as_float(X, "X")
        if integer:
            bad = np.argwhere(~np.isfinite(X) | (np.round(X) != X))
            if len(bad):
                i, j = bad[0]
                raise ValueError(
                    f"X must hold finite integer values (binary, counts or fixed-point); "
                    f"X[{i}, {j}] = {float(X[i, j])}"
                )
        return X

    def _check_y(self, y: np.ndarray, n_samples: int) -> np.ndarray:
        """y as an int64 array of n_samples class indices in 0..n_classes-1."""
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of class indices, got {y.ndim}-D")
        if len(y) != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {len(y)} labels")
        if y.dtype.kind not in "iu":
            raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
        outside = y[(y < 0) | (y >= self.n_classes)]
        if outside.size:
            raise ValueError(
                f"y holds label {outside[0]}, outside 0..{self.n_classes - 1} "
                f"(n_classes={self.n_classes})"
            )
        return y.astype(np.int64, copy=False)


class Perceptron(Learner):
    """Binary perceptron with integer weights: predicts 1 if w·x + b > 0, else 0.

    It changes only on a mistake (t * score <= 0 with t = +1/-1), so a correctly predicted
    contribution writes nothing, and with integer features and an integer learning rate the
    weights stay exact integers (float64 holds them exactly below 2**53), as a contract
    without floating point would keep them. Same rule as scikit-learn's Perceptron with
    eta0=learning_rate, alpha=0 and no shuffling, trained one sample at a time.
    """

    kind = "perceptron"
    binary_only = True
    # Updating reads every nonzero feature's weight for the score, then writes it.
    gas_costs: ClassVar[dict[str, int]] = {"base": 21_000, "per_feature": 2_200, "per_write": 5_000}

    def __init__(self, n_features: int, n_classes: int, *, learning_rate: int = 1) -> None:
        super().__init__(n_features, n_classes)
        self.learning_rate = _check_int("learning_rate", learning_rate, 1)
        self.weights = np.zeros(self.n_features)
        self.bias = 0  # a Python int: exact, and added to the float score without an array

    def predict(self, x: np.ndarray) -> int:
        return 1 if self.weights @ x + self.bias > 0 else 0

    def _predict_many(self, X: np.ndarray) -> np.ndarray:
        return (X @ self.weights + self.bias > 0).astype(np.int64)

    def update(self, x: np.ndarray, y: int) -> None:
        step = self.learning_rate if y == 1 else -self.learning_rate
        # step has the sign of t = +1/-1, so this is the mistake test t * score <= 0.
        if step * (self.weights @ x + self.bias) <= 0:
            self.weights += step * x
            self.bias += step

    def state(self) -> tuple:
        return (self.weights.copy(), self.bias)


class NearestCentroid(Learner):
    """Multi-class nearest centroid (Euclidean), kept as per-class sums and counts.

    The running mean of class k is sums[k] / counts[k]; storing the integer sums instead of
    the mean keeps every update exact. Classes with no samples yet are never predicted
    (class 0 is predicted while no class has samples); ties go to the lowest class index.
    """

    kind = "nearest_centroid"
    # Updating reads and writes the class's running sum for every nonzero feature.
    gas_costs: ClassVar[dict[str, int]] = {"base": 21_000, "per_feature": 2_100, "per_write": 5_000}

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

    def predict(self, x: np.ndarray) -> int:
        return int(((self._sq_norms - self._two_n * (self.sums @ x)) / self._n_sq).argmin())

    def _predict_many(self, X: np.ndarray) -> np.ndarray:
        scores = (self._sq_norms - self._two_n * (X @ self.sums.T)) / self._n_sq
        return scores.argmin(axis=1).astype(np.int64)

    def update(self, x: np.ndarray, y: int) -> None:
        self.sums[y] += x
        self.counts[y] += 1
        self._refresh(y)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        # Sums of integers are exact in any order, so per-class sums equal the update loop.
        for k in range(self.n_classes):
            self.sums[k] += X[y == k].sum(axis=0)
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
    # Updating reads and increments the class's count for every nonzero feature.
    gas_costs: ClassVar[dict[str, int]] = {"base": 21_000, "per_feature": 2_100, "per_write": 5_000}

    def __init__(self, n_features: int, n_classes: int, *, alpha: float = 1.0) -> None:
        super().__init__(n_features, n_classes)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
            raise ValueError(f"alpha must be a number, got {alpha!r}")
        if not (math.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
        self.alpha = float(alpha)
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

    def predict(self, x: np.ndarray) -> int:
        return int((self._weights @ (x > 0) + self._bias).argmax())

    def _predict_many(self, X: np.ndarray) -> np.ndarray:
        jll = (X > 0).astype(np.float64) @ self._weights.T
        jll += self._bias
        return jll.argmax(axis=1).astype(np.int64)

    def update(self, x: np.ndarray, y: int) -> None:
        self.feature_counts[y] += x > 0
        self.class_counts[y] += 1
        self._refresh(slice(y, y + 1))

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        # Counting is order-free, so per-class sums equal the update loop.
        present = X > 0
        for k in range(self.n_classes):
            self.feature_counts[k] += present[y == k].sum(axis=0)
        self.class_counts += np.bincount(y, minlength=self.n_classes)
        self._refresh(slice(None))

    def _n_touched(self, x: np.ndarray) -> int:
        return int(np.count_nonzero(x > 0))

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


LEARNERS: dict[str, type[Learner]] = {
    cls.kind: cls for cls in (Perceptron, NearestCentroid, NaiveBayes)
}


def make_learner(kind: str, n_features: int, n_classes: int, **params: object) -> Learner:
    """Build the learner registered as `kind`; `params` are its keyword parameters."""
    if kind not in LEARNERS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(LEARNERS)}")
    cls = LEARNERS[kind]
    accepted = [
        p.name for p in inspect.signature(cls).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for model kind {kind!r}; "
            f"it accepts: {', '.join(accepted) or 'no parameters'}"
        )
    return cls(n_features, n_classes, **params)
