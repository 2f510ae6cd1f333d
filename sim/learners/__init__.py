"""On-chain-style learners: one module per learner, each registering itself.

`LEARNERS` maps a model kind (the config's `model.kind`) to its class, in name order; each
module decorates its class with `register_learner`.
"""

from sim.learners.base import Learner
from sim.learners.naive_bayes import NaiveBayes
from sim.learners.nearest_centroid import NearestCentroid
from sim.learners.perceptron import Perceptron
from sim.learners.registry import LEARNERS, make_learner, register_learner
from sim.learners.sgd_perceptron import SGDPerceptron

_registered = sorted(LEARNERS.items())  # a fixed order, whatever the modules import
LEARNERS.clear()
LEARNERS.update(_registered)

__all__ = [
    "LEARNERS",
    "Learner",
    "NaiveBayes",
    "NearestCentroid",
    "Perceptron",
    "SGDPerceptron",
    "make_learner",
    "register_learner",
]
