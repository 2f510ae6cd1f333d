"""The hidden test set, evaluated again and again as the model learns.

A run measures accuracy every `eval_every_hours` on the whole test set; at a million
samples that is 200,000 rows a day for thousands of days, most of a run's time. For a
linear learner (score w·x + b) each row keeps the score it had at the last snapshot of
(w, b) it was scored against. By Hölder's inequality the score has since moved by at most

    |Δb| + min(|Δw|_1 max|x|, |Δw|_2 |x|_2, |Δw|_max |x|_1)

so a row whose score is farther than that from 0 keeps its class and is not scored again.
The bound also covers rounding (the scores' and the norms' own), so the predictions are
exactly those a full pass gives: tests/test_evaluation.py checks every evaluation of real
runs against one. Other learners are evaluated in full each time.
"""

import numpy as np

from sim.features import Features
from sim.learners import kernels
from sim.learners.base import Learner

ROUNDING = 1e-6
"""Relative slack for rounding: a score's error is at most (n + 2) 2**-53 of its mass, 1e-12
for n = 10,000 features, and the norms' relative error is of the same order."""

SNAPSHOTS = 64
"""Snapshots of (w, b) kept at once (64 x 8 bytes per feature). When all hold rows, the
oldest one's rows are scored again and it is reused: more snapshots, fewer rows scored."""


class HiddenTestSet:
    """The test rows with, for a linear learner, each row's last computed score."""

    def __init__(self, X: Features, y: np.ndarray) -> None:
        self.X, self.y = X, y
        self._x_norms = kernels.row_norms(X.indptr, X.values, X.rows)  # max, l2, l1 per row
        self._learner: Learner | None = None
        self._fits = -1
        self.rows_scored = 0
        """Rows scored so far, over all evaluations: the cost of evaluating."""

    def predictions(self, learner: Learner) -> np.ndarray:
        """The learner's class for every test row, as `learner.predict_many` gives it."""
        coefficients = learner.coefficients()
        if coefficients is None:
            self.rows_scored += len(self.y)
            return learner.predict_many(self.X)
        if learner is not self._learner or learner.fits != self._fits:
            self._learner, self._fits = learner, learner.fits
            self._start(*coefficients)
        else:
            self._rescore(*coefficients)
        return (self._scores > 0).astype(np.int64)

    def _start(self, w: np.ndarray, b: float) -> None:
        """Score every row against snapshot 0."""
        self._snapshots = np.zeros((SNAPSHOTS, len(w)))
        self._intercepts = np.zeros(SNAPSHOTS)
        self._taken = np.full(SNAPSHOTS, -1)  # the order snapshots were taken in; -1: free
        self._snapshots_taken = 0
        self._snapshot_of = np.zeros(len(self.y), dtype=np.int64)
        self._scores, self._masses = self._learner.scores_and_masses(self.X)
        self.rows_scored += len(self.y)
        self._take(0, w, b)

    def _take(self, slot: int, w: np.ndarray, b: float) -> None:
        self._snapshots[slot], self._intercepts[slot] = w, b
        self._taken[slot] = self._snapshots_taken
        self._snapshots_taken += 1

    def _rescore(self, w: np.ndarray, b: float) -> None:
        """Score again the rows whose class may have changed since their snapshot."""
        evicted = np.zeros(SNAPSHOTS, dtype=bool)
        if (self._taken >= 0).all():  # no snapshot free: the oldest one's rows go back
            evicted[np.argmin(self._taken)] = True
        norms = kernels.distances(self._snapshots, w)
        stale = kernels.stale_rows(
            self._scores, self._masses, self._snapshot_of, norms,
            np.abs(self._intercepts - b), evicted, self._x_norms, ROUNDING,
        )  # fmt: skip
        if stale.size == 0:
            return
        self._scores[stale], self._masses[stale] = self._learner.scores_and_masses(self.X[stale])
        self.rows_scored += stale.size
        self._snapshot_of[stale] = -1
        held = np.bincount(self._snapshot_of[self._snapshot_of >= 0], minlength=SNAPSHOTS)
        self._taken[held == 0] = -1
        slot = int(np.argmin(self._taken))  # a free one: the stale rows' own at least
        self._snapshot_of[stale] = slot
        self._take(slot, w, b)
