"""The reference simulator's perceptron: scikit-learn's SGDClassifier with the perceptron loss.

Harris & Waggoner's simulator uses `SGDClassifier(loss="perceptron", learning_rate="optimal",
penalty=None, tol=1e-3)`: `fit` on the pre-training set (epochs until the loss stops
improving), then `partial_fit` on one contribution at a time. Its step shrinks as
1 / (alpha * (t0 + t)) with the sample count t, so one late (possibly flipped) sample barely
moves a model trained on thousands. The simulation calls `predict` and `update` once per
event, where a scikit-learn call would cost far more than the arithmetic, so the rule is
written out here over sparse rows (sim/learners/kernels.py); tests/test_learners.py checks
it against scikit-learn itself.
"""

import math

import numpy as np
from pydantic import Field

from sim.features import Features, Row
from sim.learners import kernels
from sim.learners.base import Learner
from sim.params import Params
from sim.registry import register_learner


class SGDPerceptronParams(Params):
    alpha: float = Field(
        1e-4, gt=0, allow_inf_nan=False, description="sets the step 1 / (alpha (t0 + t))"
    )
    tol: float = Field(
        1e-3,
        ge=0,
        allow_inf_nan=False,
        description="pre-training stops once the mean loss improves by less than this "
        "for n_iter_no_change epochs in a row",
    )
    max_iter: int = Field(1000, ge=1, le=10_000, description="most pre-training epochs")
    n_iter_no_change: int = Field(5, ge=1, description="epochs without improvement to stop")
    shuffle: bool = Field(True, description="shuffle the pre-training set before each epoch")


@register_learner
class SGDPerceptron(Learner):
    """Perceptron trained by SGD with scikit-learn's "optimal" step schedule (float weights).

    Predicts 1 if w·x + b > 0. A sample with t·(w·x + b) <= 0 (t = +1/-1) moves w by
    eta·t·x and b by eta·t, where eta = 1 / (alpha (t0 + t - 1)) and t counts every sample
    seen so far, starting at 1; t0 = 1 / (alpha sqrt(1 / sqrt(alpha))) makes the first step
    sqrt(1 / sqrt(alpha)), as scikit-learn defines it. There is no penalty and no averaging.
    """

    kind = "sgd_perceptron"
    binary_only = True
    Params = SGDPerceptronParams

    def __init__(self, n_features: int, n_classes: int, **params: object) -> None:
        super().__init__(n_features, n_classes, **params)
        self.weights = np.zeros(self.n_features)
        self.intercept = 0.0
        self.t = 1.0
        """scikit-learn's `t_`: one more than the samples seen."""
        self.n_iter = 0
        """Epochs the last `fit` ran (scikit-learn's `n_iter_`)."""
        alpha = self.params.alpha
        self._t0 = 1.0 / (math.sqrt(1.0 / math.sqrt(alpha)) * alpha)

    def _predict(self, x: Row) -> int:
        return 1 if kernels.dot(self.weights, *x) + self.intercept > 0 else 0

    def _update(self, x: Row, y: int) -> None:
        sign = 1.0 if y == 1 else -1.0
        self.intercept, self.t, _ = kernels.sgd_step(
            self.weights, self.intercept, self.t, self.params.alpha, self._t0, *x, sign
        )

    def coefficients(self) -> tuple[np.ndarray, float]:
        return self.weights, self.intercept

    def _fit(self, X: Features, y: np.ndarray, rng: np.random.Generator | None) -> None:
        """scikit-learn's `fit`: start from zero, run epochs until the mean loss has not
        improved by `tol` for `n_iter_no_change` epochs, or `max_iter` epochs."""
        p = self.params
        if p.shuffle and rng is None:
            raise ValueError("sgd_perceptron shuffles its pre-training set: fit needs an rng")
        self.weights = np.zeros(self.n_features)
        self.intercept = 0.0
        self.t = 1.0
        self.n_iter = 0
        if len(y) == 0:  # nothing to pre-train on (initial_fraction = 0)
            return
        signs = np.where(y == 1, 1.0, -1.0)
        order = np.arange(len(y))
        best, stalled = math.inf, 0
        while self.n_iter < p.max_iter:
            self.n_iter += 1
            if p.shuffle:
                order = rng.permutation(len(y))
            self.intercept, self.t, loss = kernels.sgd_epoch(
                self.weights, self.intercept, self.t, p.alpha, self._t0,
                X.indptr, X.indices, X.values, X.rows, signs, order,
            )  # fmt: skip
            mean = loss / len(y)
            stalled = stalled + 1 if mean > best - p.tol else 0
            best = min(best, mean)
            if stalled >= p.n_iter_no_change:
                break

    def state(self) -> tuple:
        return (self.weights.copy(), self.intercept, self.t)
