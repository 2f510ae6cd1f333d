"""Tests for sim.learners: exact update rules, agreement with scikit-learn, the interface."""

from functools import cache

import numpy as np
import pytest
from scenarios import random_binary
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SkPerceptron
from sklearn.linear_model import SGDClassifier
from sklearn.naive_bayes import BernoulliNB
from sklearn.neighbors import NearestCentroid as SkNearestCentroid

from sim.learners import make_learner
from sim.learners.naive_bayes import NaiveBayes
from sim.learners.nearest_centroid import NearestCentroid
from sim.learners.perceptron import Perceptron
from sim.learners.sgd_perceptron import SGDPerceptron
from sim.registry import learners

LEARNERS = learners()


def integer_standardized(X, scale=10):
    """Standardize and round to integers, as the dataset module's fixed-point features."""
    return np.round((X - X.mean(axis=0)) / X.std(axis=0) * scale)


@cache
def sklearn_data(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if name != "digits":  # digits are already pixel counts 0..16
        X = integer_standardized(X)
    return X.astype(np.float64), y.astype(np.int64)


# -- SGDPerceptron: scikit-learn's SGDClassifier(loss="perceptron") is the oracle ---------


def sk_sgd(**params):
    """The reference simulator's perceptron; shuffle=False so tests can give it our order."""
    return SGDClassifier(
        loss="perceptron", learning_rate="optimal", penalty=None, tol=1e-3, shuffle=False, **params
    )


def assert_same_model(ours, theirs):
    """Bit for bit: both sum each score over the features in column order."""
    np.testing.assert_array_equal(ours.weights, theirs.coef_[0])
    assert ours.intercept == theirs.intercept_[0]
    assert ours.t == theirs.t_


SGD_DATA = ["breast_cancer", "random_binary"]


def learn_data(name):
    return sklearn_data(name) if name != "random_binary" else random_binary(n_features=200)


@pytest.mark.parametrize("data", SGD_DATA)
def test_sgd_perceptron_fit_equals_sklearn_fit(data):
    X, y = learn_data(data)
    ours = SGDPerceptron(X.shape[1], 2, shuffle=False).fit(X, y)
    theirs = sk_sgd().fit(X, y)
    assert ours.n_iter == theirs.n_iter_ > 5  # stopped by tol after the same epochs
    assert_same_model(ours, theirs)
    np.testing.assert_array_equal(ours.predict_many(X), theirs.predict(X))


@pytest.mark.parametrize("data", SGD_DATA)
def test_sgd_perceptron_shuffled_fit_then_updates_equal_sklearn(data):
    """Pre-training shuffles each epoch by our stream; scikit-learn, fed the same orders
    one epoch per partial_fit, must reach the same model, then follow every update."""
    X, y = learn_data(data)
    n_train = len(y) // 2
    ours = SGDPerceptron(X.shape[1], 2).fit(X[:n_train], y[:n_train], np.random.default_rng(7))
    theirs, orders = sk_sgd(), np.random.default_rng(7)
    for _ in range(ours.n_iter):
        order = orders.permutation(n_train)
        theirs.partial_fit(X[order], y[order], classes=[0, 1])
    assert_same_model(ours, theirs)

    X_up, y_up = X[n_train:-100], y[n_train:-100]
    changed = 0
    for i, (x_i, y_i) in enumerate(zip(X_up, 1 - y_up, strict=True)):  # flipped labels
        before = ours.weights.copy()
        ours.update(x_i, int(y_i))
        theirs.partial_fit(x_i[None, :], [y_i])
        changed += not np.array_equal(before, ours.weights)
        if i % 25 == 0:
            assert_same_model(ours, theirs)
    assert changed > 20  # the comparison exercised many steps
    assert_same_model(ours, theirs)
    np.testing.assert_array_equal(ours.predict_many(X[-100:]), theirs.predict(X[-100:]))


def test_sgd_perceptron_steps_follow_the_optimal_schedule():
    """The first step is sqrt(1 / sqrt(alpha)); step t is 1 / (alpha (t0 + t - 1))."""
    alpha = 1e-4
    model = SGDPerceptron(3, 2, alpha=alpha)
    x = np.array([1.0, 0.0, 1.0])
    model.update(x, 1)  # zero model: score 0, a mistake
    assert model.weights.tolist() == pytest.approx([10.0, 0.0, 10.0], rel=1e-12)
    assert model.intercept == pytest.approx(10.0, rel=1e-12)
    for _ in range(998):
        model.update(x, 1)  # correct now: no step, but t counts every sample
    assert model.t == 1000
    before = model.weights.copy()
    model.update(x, 0)  # score 30 > 0, label 0: step 1 / (alpha (t0 + 999)), t0 = 1000
    np.testing.assert_allclose(before - model.weights, [1 / (alpha * 1999), 0, 1 / (alpha * 1999)])


def test_sgd_perceptron_stops_at_max_iter_like_sklearn():
    X, y = random_binary(n_features=200)
    ours = SGDPerceptron(X.shape[1], 2, shuffle=False, max_iter=3).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        theirs = sk_sgd(max_iter=3).fit(X, y)
    assert ours.n_iter == 3
    assert_same_model(ours, theirs)


def test_sgd_perceptron_needs_an_rng_to_shuffle_and_accepts_no_data():
    X, y = random_binary()
    with pytest.raises(ValueError, match="fit needs an rng"):
        SGDPerceptron(X.shape[1], 2).fit(X, y)
    empty = SGDPerceptron(X.shape[1], 2).fit(X[:0], y[:0], np.random.default_rng(0))
    assert not empty.weights.any() and empty.intercept == 0 and empty.n_iter == 0


# -- Perceptron: the deployed contract's rule ------------------------------------------

# (x, y, weights after the step, bias after the step), worked by hand with the defaults:
# learning rate 1, pre-training on-chain from zero, intercept updates on.
HAND_WORKED = [
    ((1, 0, 2), 1, (1, 0, 2), 1),  # score 0 (zero model): mistake, w += x, b += 1
    ((0, 1, 0), 0, (1, -1, 2), 0),  # score 0 + 1 = 1 but label 0: w -= x, b -= 1
    ((0, 2, 1), 0, (1, -3, 1), -1),  # score -2 + 2 + 0 = 0: predicts 0, yet s*score = 0 updates
    ((2, 0, 1), 1, (1, -3, 1), -1),  # score 2 + 1 - 1 = 2 > 0: correct, nothing changes
    ((0, 1, 3), 1, (1, -2, 4), 0),  # score -3 + 3 - 1 = -1 but label 1: w += x, b += 1
]
ON_CHAIN = {"learning_rate": 1, "pretrain": "on_chain"}
DEPLOYED = {"weight_scale": 10**9, "learning_rate": 10**9, "pretrain": "sgd"}


def test_perceptron_follows_hand_worked_updates():
    model = Perceptron(3, 2)
    for x, y, weights, bias in HAND_WORKED:
        model.update(np.array(x, dtype=np.float64), y)
        assert model.weights.tolist() == list(weights)
        assert model.bias == bias

    X = np.array([x for x, *_ in HAND_WORKED], dtype=np.float64)
    y = np.array([y for _, y, *_ in HAND_WORKED])
    fitted = Perceptron(3, 2).fit(X, y)
    assert fitted.weights.tolist() == [1, -2, 4] and fitted.bias == 0


@pytest.mark.parametrize("data", ["breast_cancer", "random_binary"])
def test_on_chain_perceptron_equals_sklearn_perceptron_one_sample_at_a_time(data):
    X, y = learn_data(data)
    ours = Perceptron(X.shape[1], 2)
    theirs = SkPerceptron(eta0=1, alpha=0, penalty=None, shuffle=False, fit_intercept=True)
    mistakes = 0
    for x_i, y_i in zip(X, y, strict=True):
        mistakes += ours.predict(x_i) != y_i
        ours.update(x_i, int(y_i))
        theirs.partial_fit(x_i[None, :], [y_i], classes=[0, 1])
        np.testing.assert_array_equal(ours.weights, theirs.coef_[0])
        assert ours.bias == theirs.intercept_[0]
    assert mistakes > 10  # the comparison exercised many updates


def test_perceptron_leaves_the_intercept_alone_as_the_reference_contract():
    X, y = random_binary()
    model = Perceptron(X.shape[1], 2, update_intercept=False, **DEPLOYED)
    model.fit(X[:200], y[:200], np.random.default_rng(0))
    bias = model.bias
    for x_i, y_i in zip(X[200:], 1 - y[200:], strict=True):
        model.update(x_i, int(y_i))
    assert model.bias == bias != 0


def test_perceptron_learning_rate_scales_every_step():
    # From zero weights, lr scales every score by lr without changing its sign.
    X, y = random_binary()
    base = Perceptron(X.shape[1], 2, **ON_CHAIN).fit(X, y)
    scaled = Perceptron(X.shape[1], 2, **{**ON_CHAIN, "learning_rate": 3}).fit(X, y)
    np.testing.assert_array_equal(scaled.weights, 3 * base.weights)


@pytest.mark.parametrize("data", SGD_DATA)
def test_perceptron_deploys_sgd_weights_in_fixed_point(data):
    """Pre-trained off-chain by the simulator's rule (scikit-learn is the oracle, via
    SGDPerceptron), then stored as rint(w * 1e9): the same predictions but for ties."""
    X, y = learn_data(data)
    deployed = Perceptron(X.shape[1], 2, **DEPLOYED).fit(X, y, np.random.default_rng(3))
    off_chain = SGDPerceptron(X.shape[1], 2).fit(X, y, np.random.default_rng(3))
    np.testing.assert_array_equal(deployed.weights, np.rint(off_chain.weights * 1e9))
    assert deployed.bias == round(off_chain.intercept * 1e9)
    assert np.mean(deployed.predict_many(X) == off_chain.predict_many(X)) > 0.999


def test_a_large_on_chain_step_lets_a_flipped_label_flip_its_own_prediction():
    X, y = random_binary(n_features=200)
    rng = np.random.default_rng(0)
    small = Perceptron(X.shape[1], 2, **{**DEPLOYED, "learning_rate": 10**7})
    small.fit(X[:300], y[:300], rng)
    large = Perceptron(X.shape[1], 2, **{**DEPLOYED, "learning_rate": 10**11})
    large.weights, large.bias = small.weights.copy(), small.bias
    flipped_small = flipped_large = 0
    for x_i, y_i in zip(X[300:], y[300:], strict=True):
        wrong = 1 - int(y_i)
        for model in (small, large):
            model_copy = model.copy()
            model_copy.update(x_i, wrong)
            if model_copy.predict(x_i) == wrong:
                flipped_small += model is small
                flipped_large += model is large
    assert flipped_large > 0.9 * (len(y) - 300) > 3 * flipped_small


@pytest.mark.parametrize("kind", ["perceptron", "sgd_perceptron"])
@pytest.mark.parametrize("n_classes", [3, 10])
def test_perceptrons_reject_multiclass(kind, n_classes):
    with pytest.raises(ValueError, match="binary-only.*naive_bayes or nearest_centroid"):
        make_learner(kind, 5, n_classes)


def test_perceptron_weights_stay_integers_after_many_updates():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 50, size=(3000, 40)).astype(np.float64)  # counts
    y = rng.integers(0, 2, size=3000)  # random labels: the model keeps making mistakes
    model = Perceptron(40, 2, learning_rate=7).fit(X, y)
    assert np.abs(model.weights).max() > 1000
    np.testing.assert_array_equal(model.weights, np.round(model.weights))
    assert isinstance(model.bias, int) and model.bias % 7 == 0


def test_perceptron_state_changes_only_on_a_mistake():
    model = Perceptron(3, 2, **ON_CHAIN).fit(np.array([[1.0, 0.0, 1.0]]), np.array([1]))
    before = model.state()
    model.update(np.array([1.0, 1.0, 0.0]), 1)  # score 1 > 0: correct
    assert all(np.array_equal(a, b) for a, b in zip(before, model.state(), strict=True))
    model.update(np.array([1.0, 1.0, 0.0]), 0)  # same sample, wrong side: a mistake
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.state(), strict=True))


# -- NearestCentroid ----------------------------------------------------------------------


@pytest.mark.parametrize("data", ["iris", "wine"])
def test_nearest_centroid_equals_sklearn(data):
    X, y = sklearn_data(data)
    ours = NearestCentroid(X.shape[1], 3).fit(X, y)
    theirs = SkNearestCentroid().fit(X, y)
    np.testing.assert_array_equal(ours.predict_many(X), theirs.predict(X))
    means = np.array([X[y == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(ours.centroids, means, rtol=1e-12)


@pytest.mark.parametrize(("learner", "data"), [(NearestCentroid, "wine"), (NaiveBayes, "digits")])
def test_incremental_updates_equal_fit_and_predict_equals_predict_many(learner, data):
    X, y = sklearn_data(data)
    X, y = X[:600], y[:600]
    n_classes = int(y.max()) + 1
    fitted = learner(X.shape[1], n_classes).fit(X, y)
    incremental = learner(X.shape[1], n_classes)
    for x_i, y_i in zip(X, y, strict=True):
        incremental.update(x_i, int(y_i))
    for a, b in zip(fitted.state(), incremental.state(), strict=True):
        np.testing.assert_array_equal(a, b)
    predictions = fitted.predict_many(X)
    np.testing.assert_array_equal(incremental.predict_many(X), predictions)
    assert [incremental.predict(x) for x in X] == predictions.tolist()


def test_nearest_centroid_never_predicts_a_class_without_samples():
    model = NearestCentroid(2, 3)
    assert model.predict(np.array([5.0, 5.0])) == 0  # no data at all: class 0
    model.update(np.array([10.0, 10.0]), 2)
    # Class 0 and 1 centroids do not exist yet, even though x is at the origin.
    assert model.predict(np.array([0.0, 0.0])) == 2
    assert model.predict_many(np.zeros((4, 2))).tolist() == [2, 2, 2, 2]


def test_nearest_centroid_breaks_ties_towards_the_lowest_class():
    model = NearestCentroid(1, 3)
    model.fit(np.array([[-2.0], [2.0], [4.0]]), np.array([2, 1, 0]))
    # x = 0 is at distance 2 from both class 2 (-2) and class 1 (2).
    assert model.predict(np.array([0.0])) == 1
    assert model.predict_many(np.array([[0.0]])).tolist() == [1]


# -- NaiveBayes ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["digits", "random_binary"])
@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_naive_bayes_equals_sklearn_bernoulli(data, alpha):
    X, y = sklearn_data(data) if data != "random_binary" else random_binary(n_classes=4)
    n_classes = int(y.max()) + 1
    ours = NaiveBayes(X.shape[1], n_classes, alpha=alpha).fit(X, y)
    theirs = BernoulliNB(alpha=alpha, binarize=0.0, fit_prior=True).fit(X, y)
    np.testing.assert_array_equal(ours.feature_log_prob, theirs.feature_log_prob_)
    np.testing.assert_array_equal(ours.class_log_prior, theirs.class_log_prior_)
    np.testing.assert_array_equal(ours.predict_many(X), theirs.predict(X))


def test_naive_bayes_updates_equal_sklearn_partial_fit():
    X, y = random_binary(n_samples=600, n_classes=3)
    ours, theirs = NaiveBayes(X.shape[1], 3), BernoulliNB()
    for i, (x_i, y_i) in enumerate(zip(X[:500], y[:500], strict=True)):
        ours.update(x_i, int(y_i))
        theirs.partial_fit(x_i[None, :], [y_i], classes=[0, 1, 2])
        if i % 50 == 49:
            np.testing.assert_allclose(ours.feature_log_prob, theirs.feature_log_prob_, rtol=1e-12)
            np.testing.assert_array_equal(ours.predict_many(X[500:]), theirs.predict(X[500:]))


def test_nearest_centroid_updates_equal_sklearn_on_the_data_so_far():
    X, y = sklearn_data("wine")
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    ours = NearestCentroid(X.shape[1], 3)
    for i, (x_i, y_i) in enumerate(zip(X, y, strict=True)):
        ours.update(x_i, int(y_i))
        if i >= 20 and i % 20 == 0:  # every class has samples by then
            theirs = SkNearestCentroid().fit(X[: i + 1], y[: i + 1])
            np.testing.assert_array_equal(ours.predict_many(X), theirs.predict(X))


def test_naive_bayes_never_predicts_a_class_without_samples():
    X, y = random_binary(n_classes=3)
    seen = y != 1  # class 1 never trained
    ours = NaiveBayes(X.shape[1], 3).fit(X[seen], y[seen])
    theirs = BernoulliNB().partial_fit(X[seen], y[seen], classes=[0, 1, 2])
    assert ours.class_log_prior[1] == -np.inf
    predictions = ours.predict_many(X)
    assert 1 not in predictions
    np.testing.assert_array_equal(predictions, theirs.predict(X))
    assert NaiveBayes(4, 3).predict(np.ones(4)) == 0  # no data at all: class 0


# -- the shared interface -----------------------------------------------------------------


@pytest.fixture(params=sorted(LEARNERS))
def trained(request):
    X, y = random_binary()
    model = LEARNERS[request.param](X.shape[1], 2).fit(X[:300], y[:300], np.random.default_rng(0))
    return model, X[300:], y[300:]


def test_accuracy_is_the_mean_of_correct_predictions(trained):
    model, X, y = trained
    accuracy = model.accuracy(X, y)
    assert accuracy == np.mean(model.predict_many(X) == y)
    assert 0.6 < accuracy < 1.0  # learned something; not a degenerate all-correct case


# -- registry and validation --------------------------------------------------------------


def test_make_learner_builds_each_kind_with_its_params():
    assert {kind: cls.kind for kind, cls in LEARNERS.items()} == {k: k for k in LEARNERS}
    model = make_learner("naive_bayes", 4, 3, alpha=0.5)
    assert isinstance(model, NaiveBayes) and model.alpha == 0.5
    assert make_learner("perceptron", 4, 2, learning_rate=2).learning_rate == 2
    assert Perceptron.binary_only and not NearestCentroid.binary_only


def test_make_learner_rejects_unknown_kind_and_params():
    with pytest.raises(ValueError, match="unknown model kind 'svm'; choose one of naive_bayes"):
        make_learner("svm", 4, 2)
    with pytest.raises(ValueError, match=r"alpah\n\s+Extra inputs are not permitted"):
        make_learner("naive_bayes", 4, 2, alpah=1.0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Perceptron(0, 2), "n_features must be at least 1, got 0"),
        (lambda: NaiveBayes(4, 1), "n_classes must be at least 2, got 1"),
        (lambda: Perceptron(4, 2, learning_rate=0.5), r"learning_rate\n.*valid integer"),
        (lambda: Perceptron(4, 2, learning_rate=0), r"learning_rate\n.*greater than or equal to 1"),
        (lambda: Perceptron(4, 2, pretrain="twice"), r"pretrain\n.*'sgd' or 'on_chain'"),
        (lambda: NaiveBayes(4, 2, alpha=0.0), r"alpha\n.*greater than 0"),
        (lambda: SGDPerceptron(4, 2, max_iter=10**6), r"max_iter\n.*less than or equal to"),
    ],
)
def test_constructor_rejects_bad_parameters(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(3), [0], "X must be a 2-D array"),
        (np.zeros((2, 4)), [0, 1], "X has 4 features, the model expects 3"),
        (np.zeros((2, 3)), [0], "X has 2 samples but y has 1 labels"),
        (np.zeros((2, 3)), [0.0, 1.0], "y must hold integer class indices"),
        (np.zeros((2, 3)), [0, 2], r"y holds label 2, outside 0\.\.1"),
        (np.array([[0, 1, 0.5]]), [0], r"integer values .* X\[0, 2\] = 0\.5"),
        (np.array([[0, np.nan, 0]]), [0], r"X\[0, 1\] = nan"),
    ],
)
def test_fit_rejects_bad_input_and_changes_nothing(X, y, message):
    model = NearestCentroid(3, 2)
    with pytest.raises(ValueError, match=message):
        model.fit(X, np.asarray(y))
    assert not model.counts.any()


def test_check_sample_guards_the_unvalidated_hot_path():
    model = Perceptron(3, 2)
    indices, values = model.check_sample(np.array([1, 0, 2]), 1)
    assert indices.tolist() == [0, 2] and values.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"1-D array of 3 features, got shape \(4,\)"):
        model.check_sample(np.zeros(4))
    with pytest.raises(ValueError, match=r"x\[1\] = 0\.5"):
        model.check_sample(np.array([0.0, 0.5, 0.0]))
    with pytest.raises(ValueError, match=r"y = 2 is outside 0\.\.1"):
        model.check_sample(np.zeros(3), 2)


def test_accuracy_rejects_an_empty_set():
    with pytest.raises(ValueError, match="at least one sample"):
        Perceptron(3, 2).accuracy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
