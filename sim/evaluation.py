"""The hidden test set, evaluated again and again as the model learns.

A run measures accuracy every `eval_every_hours` on the whole test set; at a million
samples that is 200,000 rows a day for thousands of days, most of a run's time. A linear
learner's score of a row moves by at most `drift x max |x|` between two evaluations (see
`Learner.drift`), so a row whose last score is farther than that from 0 keeps its class and
is not scored again. The bound also covers rounding (the score's and the drift's own), so
the predictions are exactly those a full pass gives: tests/test_evaluation.py checks every
evaluation of real runs against one. Other learners are evaluated in full each time.
"""

import numpy as np

from sim.features import Features
from sim.learners.base import Learner

ROUNDING = 1e-6
"""Relative slack for rounding: a score's error is at most (n + 2) 2**-53 of its mass, 1e-12
for n = 10,000 features, and the running sum of the drift's k terms at most k 2**-53 of it,
1e-9 for ten million updates."""


class HiddenTestSet:
    """The test rows with, for a linear learner, each row's last computed score."""

    def __init__(self, X: Features, y: np.ndarray) -> None:
        self.X, self.y = X, y
        self._x_max = max(1.0, float(np.abs(X.values).max(initial=0)))  # all of X's matrix
        self._learner: Learner | None = None
        self._fits = -1
        self.rows_scored = 0
        """Rows scored so far, over all evaluations: the cost of evaluating."""

    def predictions(self, learner: Learner) -> np.ndarray:
        """The learner's class for every test row, as `learner.predict_many` gives it."""
        if learner.drift is None:
            self.rows_scored += len(self.y)
            return learner.predict_many(self.X)
        if learner is not self._learner or learner.fits != self._fits:
            self._learner, self._fits = learner, learner.fits
            self._scores, self._masses = learner.scores_and_masses(self.X)
            self._drift_at = np.full(len(self.y), learner.drift)
            self.rows_scored += len(self.y)
        else:
            self._rescore(learner)
        return (self._scores > 0).astype(np.int64)

    def _rescore(self, learner: Learner) -> None:
        """Score again the rows whose class may have changed since they were last scored."""
        moved = ((learner.drift - self._drift_at) + ROUNDING * learner.drift) * self._x_max
        # |new score - old score| <= moved + the rounding of both, each within ROUNDING of
        # the row's mass (which itself grows by at most `moved`).
        budget = moved + ROUNDING * (2 * self._masses + moved)
        stale = np.flatnonzero(np.abs(self._scores) <= budget)
        if stale.size:
            self._scores[stale], self._masses[stale] = learner.scores_and_masses(self.X[stale])
            self._drift_at[stale] = learner.drift
            self.rows_scored += stale.size
