"""The learner interface every on-chain-style classifier shares (see `Learner`).

Learners are incremental and deterministic: they learn one sample at a time, as a contract
updates its model once per accepted contribution. Features are 2-D float64 arrays holding
integers (binary, counts or fixed-point; the dataset module guarantees it) and labels are
int64 class indices 0..n_classes-1. `predict` and `update` are the simulation's hot paths:
they trust their input, so code that takes samples from outside (the contract) checks them
once with `check_sample`. `fit`, `predict_many` and `accuracy` validate their arguments.
Each learner declares its parameters as a `Params` model, validated when it is built.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np
from scipy import sparse

from sim.params import Params

SCAN_ROWS = 4096
"""Rows checked at a time when X is scanned: the scan's temporaries stay small."""


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


class Learner:
    """Base class: the shared interface, input validation and gas estimate.

    Subclasses set `kind`, `binary_only`, `gas_costs` and (if they have parameters)
    `Params`, and implement `predict`, `_predict_many`, `update`, `_fit` and `state`.
    """

    kind: ClassVar[str]
    binary_only: ClassVar[bool] = False
    #: The learner's own parameters (config keys of `[model]`); `self.params` holds them.
    Params: ClassVar[type[Params]] = Params
    #: Rough EVM-like prices: `base` is the transaction and call overhead, `per_feature`
    #: the cost of reading one stored value for a nonzero feature, `per_write` one
    #: storage write to an existing slot.
    gas_costs: ClassVar[dict[str, int]]

    def __init__(self, n_features: int, n_classes: int, **params: object) -> None:
        self.params = self.Params.model_validate(params)
        self.n_features = _check_int("n_features", n_features, 1)
        self.n_classes = _check_int("n_classes", n_classes, 2)
        if self.binary_only and self.n_classes != 2:
            raise ValueError(
                f"{self.kind} is binary-only: n_classes must be 2, got {self.n_classes}; "
                "use nearest_centroid or naive_bayes for multi-class data"
            )

    # -- the interface ------------------------------------------------------------------

    def fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator | None = None) -> Learner:
        """Pre-train on (X, y), as done off-chain before the contract is deployed.

        Counting learners give the same result as `update` on each row in order; learners
        that train for several epochs shuffle with `rng` (the replicate's own stream).
        """
        X = self._check_X(X, integer=True)
        y = self._check_y(y, len(X))
        self._fit(X, y, rng)
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

    def _fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator | None) -> None:
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
            for start in range(0, len(X), SCAN_ROWS):  # no temporary copy of all of X
                block = X[start : start + SCAN_ROWS]
                bad = np.argwhere(~np.isfinite(block) | (np.round(block) != block))
                if len(bad):
                    i, j = bad[0]
                    raise ValueError(
                        f"X must hold finite integer values (binary, counts or fixed-point); "
                        f"X[{start + i}, {j}] = {float(block[i, j])}"
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
