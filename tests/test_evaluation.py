"""The hidden test set skips rows whose class cannot have changed, and still gives exactly
the predictions of a full pass, at every evaluation."""

import numpy as np
import pytest

from sim import evaluation
from sim.evaluation import HiddenTestSet
from sim.experiment import Experiment
from sim.features import Features
from sim.learners import kernels
from sim.registry import learners
from sim.simulation import build_model, make_split


def checked_run(monkeypatch, config) -> tuple[int, int, HiddenTestSet]:
    """Run replicate 0, comparing every evaluation with a full pass: (evaluations,
    predictions that differed, the test set)."""
    counts = [0, 0]
    predictions = HiddenTestSet.predictions

    def compared(test_set, learner):
        got = predictions(test_set, learner)
        counts[0] += 1
        counts[1] += int(np.count_nonzero(got != learner.predict_many(test_set.X)))
        return got

    monkeypatch.setattr(evaluation.HiddenTestSet, "predictions", compared)
    model = build_model(config, make_split(config, 0), 0)
    model.run()
    return counts[0], counts[1], model.test_set


@pytest.mark.parametrize(
    "model",
    [
        ["model.kind=sgd_perceptron"],
        ["model.kind=perceptron"],
        [
            "model.kind=perceptron",
            "model.pretrain=sgd",
            "model.weight_scale=1000000000",
            "model.learning_rate=1000000000",
        ],
    ],
)
def test_runs_see_exactly_the_predictions_of_a_full_pass(monkeypatch, config_file, model):
    overrides = ["data.n_samples=3000", "experiment.duration_days=10", *model]
    config = Experiment.from_file(config_file, overrides).points[0][1]
    evaluations, differed, test_set = checked_run(monkeypatch, config)
    assert evaluations > 15 and differed == 0
    full = evaluations * len(test_set.y)
    assert len(test_set.y) < test_set.rows_scored < full  # rows were rescored, and skipped


def test_snapshots_reused_when_all_hold_rows(monkeypatch, config_file):
    """With two snapshots the oldest is evicted almost every day: still exact."""
    monkeypatch.setattr(evaluation, "SNAPSHOTS", 2)
    overrides = ["data.n_samples=3000", "experiment.duration_days=10"]
    config = Experiment.from_file(config_file, overrides).points[0][1]
    evaluations, differed, test_set = checked_run(monkeypatch, config)
    assert evaluations > 15 and differed == 0
    assert len(test_set.y) < test_set.rows_scored < evaluations * len(test_set.y)


def updated_from_zero(kind: str) -> tuple[int, int]:
    """From an untrained model every score is 0 and each step is large: (rows scored,
    predictions that differed from a full pass) over 200 updates and evaluations."""
    rng = np.random.default_rng(5)
    X = Features.from_array((rng.random((400, 30)) < 0.3) * rng.integers(1, 4, (400, 30)))
    y = rng.integers(0, 2, 400)
    learner = learners()[kind](30, 2)
    test_set = HiddenTestSet(X[:200], y[:200])
    differed = 0
    for i in range(200, 400):
        got = test_set.predictions(learner)
        differed += int(np.count_nonzero(got != learner.predict_many(X[:200])))
        learner.update(X[i], int(y[i]))
    return test_set.rows_scored, differed


@pytest.mark.parametrize("kind", ["sgd_perceptron", "perceptron"])
def test_scores_at_zero_and_large_steps_are_always_rescored(kind):
    rows_scored, differed = updated_from_zero(kind)
    assert differed == 0
    assert rows_scored > 2 * 200  # more than the first pass and one other


@pytest.mark.parametrize("kind", ["sgd_perceptron", "perceptron"])
def test_a_bound_too_tight_is_caught(monkeypatch, kind):
    """The comparison can fail: with the distances scaled down, stale classes are kept."""
    distances = kernels.distances
    monkeypatch.setattr(kernels, "distances", lambda snapshots, w: 0.3 * distances(snapshots, w))
    assert updated_from_zero(kind)[1] > 0


def test_nonlinear_learners_are_evaluated_in_full():
    X = Features.from_array(np.eye(6))
    learner = learners()["naive_bayes"](6, 2).fit(X, np.array([0, 1, 0, 1, 0, 1]))
    test_set = HiddenTestSet(X, np.zeros(6, dtype=np.int64))
    for _ in range(3):
        np.testing.assert_array_equal(test_set.predictions(learner), learner.predict_many(X))
    assert test_set.rows_scored == 18


def test_a_refitted_learner_is_scored_afresh():
    rng = np.random.default_rng(2)
    X = Features.from_array(rng.integers(0, 2, (100, 10)))
    y = rng.integers(0, 2, 100)
    learner = learners()["sgd_perceptron"](10, 2).fit(X[:50], y[:50], np.random.default_rng(0))
    test_set = HiddenTestSet(X[50:], y[50:])
    test_set.predictions(learner)
    learner.fit(X[:50], 1 - y[:50], np.random.default_rng(0))  # new weights, not an update
    np.testing.assert_array_equal(test_set.predictions(learner), learner.predict_many(X[50:]))
