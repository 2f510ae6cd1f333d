"""The deployed contract's perceptron: fixed-point integer weights, a fixed on-chain step.

The reference Solidity contract (Harris & Waggoner's `Perceptron.sol`) is deployed with
weights pre-trained off-chain and multiplied by `toFloat` = 1e9, and on a wrong prediction
adds `toFloat * learningRate` to the weight of every feature the sample has (its data is
binary) and leaves the intercept alone. Unlike the simulator's SGD step, this step never
shrinks: whether one flipped label can flip its own prediction depends on how large the
step is against the pre-trained weights, which `learning_rate` sets.
"""

from typing import Literal

import numpy as np
from pydantic import Field

from sim.features import Features, Row
from sim.learners import kernels
from sim.learners.base import Learner
from sim.learners.sgd_perceptron import SGDPerceptron
from sim.params import Params
from sim.registry import register_learner

SCALE = 10**9
"""The reference contracts' `toFloat`: 1.0 is stored as the integer 1e9."""


class PerceptronParams(Params):
    learning_rate: int = Field(
        1,
        ge=1,
        le=10**15,
        description="the on-chain step, in weight units: added to (or taken from) each "
        "feature's weight times its value on a mistake (with weight_scale 1e9, 1e9 is the "
        "reference contract's learningRate 1)",
    )
    weight_scale: int = Field(
        SCALE,
        ge=1,
        le=10**12,
        description="fixed point: a pre-trained weight w is stored as rint(w * weight_scale)",
    )
    pretrain: Literal["sgd", "on_chain"] = Field(
        "on_chain",
        description="how the deployed weights were found: sgd = off-chain by sgd_perceptron's "
        "rule (its defaults), then rounded to the scale; on_chain = one pass over the "
        "pre-training set by the on-chain rule, from zero",
    )
    update_intercept: bool = Field(
        True, description="an on-chain step also moves the intercept (the reference does not)"
    )


@register_learner
class Perceptron(Learner):
    """Binary perceptron as deployed on-chain: integer weights, a fixed integer step.

    Predicts 1 if w·x + b > 0, else 0 (the contract's `m <= 0` gives 0). On a mistake,
    s·(w·x + b) <= 0 with s = +1 for label 1 and -1 for label 0, w += s·learning_rate·x
    (and b += s·learning_rate if `update_intercept`); otherwise nothing is written. This is
    the reference contract's "prediction != label" but for a score of exactly 0 with label
    0, which updates here (scikit-learn's Perceptron rule) and not there. Weights are exact
    integers held in float64 (exact while |w·x| < 2**53, about 9e6 in float terms at scale
    1e9), as a contract without floating point keeps them.

    The defaults are the tool's original perceptron: pre-trained by one on-chain pass from
    zero, step 1, intercept updated. The reference deployment is `pretrain = "sgd"`,
    `weight_scale = 1e9`, `learning_rate = 1e9` (1.0), `update_intercept = false`.
    """

    kind = "perceptron"
    binary_only = True
    evm_contract = "Perceptron"
    Params = PerceptronParams

    def __init__(self, n_features: int, n_classes: int, **params: object) -> None:
        super().__init__(n_features, n_classes, **params)
        self.learning_rate = self.params.learning_rate
        self.weights = np.zeros(self.n_features)
        self.bias = 0  # a Python int: exact, and added to the float score without an array

    def _predict(self, x: Row) -> int:
        return 1 if kernels.dot(self.weights, *x) + self.bias > 0 else 0

    def _update(self, x: Row, y: int) -> None:
        step = self.learning_rate if y == 1 else -self.learning_rate
        # step has the sign of s = +1/-1, so this is the mistake test s * score <= 0.
        if step * (kernels.dot(self.weights, *x) + self.bias) <= 0:
            kernels.add_scaled(self.weights, *x, float(step))
            if self.params.update_intercept:
                self.bias += step

    def coefficients(self) -> tuple[np.ndarray, float]:
        return self.weights, float(self.bias)

    def _fit(self, X: Features, y: np.ndarray, rng: np.random.Generator | None) -> None:
        if self.params.pretrain == "on_chain":
            super()._fit(X, y, rng)
            return
        off_chain = SGDPerceptron(self.n_features, self.n_classes).fit(X, y, rng)
        scale = self.params.weight_scale
        self.weights = np.rint(off_chain.weights * scale) + 0.0  # + 0.0 turns -0.0 into 0.0
        self.bias = int(np.rint(off_chain.intercept * scale))

    def state(self) -> tuple:
        return (self.weights.copy(), self.bias)
