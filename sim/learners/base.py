"""The learner interface every on-chain-style classifier shares (see `Learner`).

Learners are incremental and deterministic: they learn one sample at a time, as a contract
updates its model once per accepted contribution. A sample is a `Row` (its nonzero
features' columns and integer values: binary, counts or fixed-point; the dataset module
guarantees it), a set of samples is `Features` (sparse rows, see sim/features.py), and
labels are int64 class indices 0..n_classes-1. `predict` and `update` are the simulation's
hot paths: they trust their input, so code that takes samples from outside (the contract)
checks them once with `check_sample`, which also turns a dense 1-D array into a Row.
`fit`, `predict_many` and `accuracy` take Features, a dense 2-D array or a scipy sparse
matrix, and validate it. Each learner declares its parameters as a `Params` model,
validated when it is built.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np

from sim.features import Features, Row
from sim.learners import kernels
from sim.params import Params
from sim.registry import learner_class, learners


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


class Learner:
    """Base class: the shared interface and input validation.

    Subclasses set `kind`, `binary_only` and (if they have parameters)
    `Params`, and implement `_predict`, `_update`, `_fit` and `state` on Rows and Features,
    and `_predict_many`, or `coefficients` if they are linear.
    """

    kind: ClassVar[str]
    binary_only: ClassVar[bool] = False
    #: The Vyper contract in contracts/ that runs this model on an EVM (for
    #: `experiment.chain = "evm"`), if there is one.
    evm_contract: ClassVar[str | None] = None
    #: The learner's own parameters (config keys of `[model]`); `self.params` holds them.
    Params: ClassVar[type[Params]] = Params

    def __init__(self, n_features: int, n_classes: int, **params: object) -> None:
        self.fits = 0
        """How often `fit` has replaced the model (not only updated it)."""
        self.params = self.Params.model_validate(params)
        self.n_features = _check_int("n_features", n_features, 1)
        self.n_classes = _check_int("n_classes", n_classes, 2)
        self.check_classes(self.n_classes)

    @classmethod
    def check_classes(cls, n_classes: int, data: str = "the data") -> None:
        """Refuse `data` of `n_classes` classes if this learner cannot learn it (a
        class-level check: a config is checked without building a learner)."""
        if cls.binary_only and n_classes != 2:
            others = [kind for kind, other in learners().items() if not other.binary_only]
            raise ValueError(
                f"{cls.kind} is binary-only, but {data} has {n_classes} classes; "
                f"use {' or '.join(others)} for multi-class data"
            )

    # -- the interface ------------------------------------------------------------------

    def fit(self, X, y: np.ndarray, rng: np.random.Generator | None = None) -> Learner:
        """Pre-train on (X, y), as done off-chain before the contract is deployed.

        Counting learners give the same result as `update` on each row in order; learners
        that train for several epochs shuffle with `rng` (the replicate's own stream).
        """
        X = self._check_X(X, integer=True)
        y = self._check_y(y, len(X))
        self._fit(X, y, rng)
        self.fits += 1
        return self

    def predict(self, x: Row | np.ndarray) -> int:
        """Class index for one sample: a Row, or a dense 1-D array. Hot path: no validation."""
        return self._predict(x if type(x) is tuple else as_row(x))

    def predict_many(self, X) -> np.ndarray:
        """Class indices (int64) for every row of X."""
        return self._predict_many(self._check_X(X))

    def update(self, x: Row | np.ndarray, y: int) -> None:
        """Learn from one sample (a Row, or a dense 1-D array) with label y. Hot path: no
        validation."""
        self._update(x if type(x) is tuple else as_row(x), y)

    def accuracy(self, X, y: np.ndarray) -> float:
        """Fraction of rows of X whose predicted class equals y."""
        X = self._check_X(X)
        y = self._check_y(y, len(X))
        if len(y) == 0:
            raise ValueError("accuracy needs at least one sample, got an empty X")
        return float(np.mean(self._predict_many(X) == y))

    def coefficients(self) -> tuple[np.ndarray, float] | None:
        """Linear learners (a score w·x + b, class 1 when it is > 0): the live (w, b),
        which lets sim/evaluation.py bound how far scores moved. None for the others."""
        return None

    def scores_and_masses(self, X: Features) -> tuple[np.ndarray, np.ndarray]:
        """Linear learners: the score w·x + b of each row of X, as `predict_many` computes
        it, and sum |w_j x_j| + |b|, which bounds the score's rounding error."""
        w, b = self.coefficients()
        return kernels.linear_scores_and_masses(w, b, X.indptr, X.indices, X.values, X.rows)

    def copy(self) -> Learner:
        """An independent deep copy (for replaying contributions on a scratch model)."""
        return copy.deepcopy(self)

    def state(self) -> tuple:
        """Arrays and ints that fully describe the model; compare items with np.array_equal."""
        raise NotImplementedError

    def check_sample(self, x: np.ndarray, y: int | None = None) -> Row:
        """Validate one dense sample (and optionally its label) from outside; return its Row.

        `predict` and `update` skip validation for speed, so callers that take untrusted
        samples (the contract) call this first.
        """
        x = np.asarray(x)
        if x.shape != (self.n_features,):
            raise ValueError(
                f"x must be a 1-D array of {self.n_features} features, got shape {x.shape}"
            )
        if x.dtype.kind not in "biuf":
            raise ValueError(f"x must be numeric, got dtype {x.dtype}")
        x = x.astype(np.float64, copy=False)
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
        return as_row(x)

    # -- helpers for subclasses ---------------------------------------------------------

    def _fit(self, X: Features, y: np.ndarray, rng: np.random.Generator | None) -> None:
        for i in range(len(X)):
            self._update(X[i], int(y[i]))

    def _predict(self, x: Row) -> int:
        raise NotImplementedError

    def _update(self, x: Row, y: int) -> None:
        raise NotImplementedError

    def _predict_many(self, X: Features) -> np.ndarray:
        """Linear learners: class 1 where the score w·x + b is > 0; others override it."""
        w, b = self.coefficients()
        scores = kernels.linear_scores(w, b, X.indptr, X.indices, X.values, X.rows)
        return (scores > 0).astype(np.int64)

    def _check_X(self, X, integer: bool = False) -> Features:
        """X as Features of n_features columns; `integer` also requires integer values.

        Only `fit` requires integers (it changes the model's exact integer state);
        prediction accepts any finite or infinite numbers.
        """
        X = Features.from_array(X)
        if X.n_features != self.n_features:
            raise ValueError(f"X has {X.n_features} features, the model expects {self.n_features}")
        if integer and X.values.dtype.kind == "f":
            for i in range(len(X)):  # reached only for data that is not integer
                columns, values = X[i]
                bad = ~np.isfinite(values) | (np.round(values) != values)
                if bad.any():
                    k = int(np.argmax(bad))
                    raise ValueError(
                        f"X must hold finite integer values (binary, counts or fixed-point); "
                        f"X[{i}, {columns[k]}] = {float(values[k])}"
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


def as_row(x: np.ndarray) -> Row:
    """The Row of a dense 1-D sample (no validation: see `Learner.check_sample`)."""
    indices = np.flatnonzero(x).astype(np.int32)
    return indices, np.asarray(x)[indices]


def make_learner(kind: str, n_features: int, n_classes: int, **params: object) -> Learner:
    """Build the learner registered as `kind`; `params` are its `Params` keys."""
    return learner_class(kind)(n_features, n_classes, **params)
