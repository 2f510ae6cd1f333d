"""Generated datasets: make_classification tables and IMDB-like bag-of-words documents.

Each is its options, filled in and checked here (only the generator knows what its defaults
and bounds mean), then raw (X, y) drawn from a seed; sim/datasets.py encodes and caches it.
"""

import math
from numbers import Integral, Real
from statistics import NormalDist

import numpy as np

from sim.dataset_encoding import DatasetError, check_cells
from sim.features import Features
from sim.params import first_line

BINARY_THRESHOLD = NormalDist().inv_cdf(0.9)
"""1.2816: a pure-noise N(0, 1) feature exceeds it in 10% of samples, sparse like a bag of words."""

LENGTH_SIGMA = 0.75
"""bag_of_words document lengths are lognormal with this shape: IMDB reviews are right-skewed
(mean ~230 tokens, median ~170), and sigma 0.75 with mean 230 gives a median of 174."""

SENTIMENT_STRENGTH = 0.68
"""bag_of_words' default sentiment_strength, calibrated once and nothing else tuned: with
every other default (binary=True, 25,000 x 1,000, mean_length 230, seed 0), the value at
which scikit-learn's SGDClassifier(loss="perceptron", learning_rate="optimal",
penalty=None, tol=1e-3, random_state=0), fitted on the first 80% of the documents, scores
closest on the other 20% to 0.7945 (its full-data accuracy on IMDB in the reference
simulator), to 2 significant digits. Accuracy per value tried: 0.1: 0.515, 0.2: 0.543,
0.3: 0.589, 0.5: 0.623, 0.6: 0.751, 0.65: 0.769, 0.66: 0.776, 0.67: 0.768, 0.68: 0.787,
0.69: 0.808, 0.7: 0.802, 0.8: 0.851, 0.9: 0.879, 1.0: 0.904 (seeds 1-3 at 0.68: 0.76-0.78).
"""

_BOW_CHUNK_CELLS = 2048 * 1000  # cells per multinomial call: bounds its temporaries
_SHRINK = "lower data.n_samples or data.n_features"  # the fix for a set over its cell bound


def synthetic_options(
    *, n_samples, n_features, binary, n_informative, class_sep, flip_y, n_classes, cell_limit
) -> dict[str, object]:
    """Fill in the defaults and check what make_classification would reject less clearly."""
    n_samples = 2000 if n_samples is None else n_samples
    n_features = 20 if n_features is None else n_features
    for option, value in [("n_samples", n_samples), ("n_features", n_features)]:
        if not isinstance(value, Integral) or value < 1:
            raise DatasetError(f"synthetic: {option} must be a positive integer, got {value!r}")
    if not isinstance(n_classes, Integral) or n_classes < 2:
        raise DatasetError(f"synthetic: n_classes must be at least 2, got {n_classes!r}")
    check_cells("synthetic", n_samples, n_features, _SHRINK, cell_limit)
    # Each class is one Gaussian cluster on its own corner of an n_informative-cube.
    needed = (n_classes - 1).bit_length()
    if n_informative is None:
        # Binary data uses fewer informative features: their wide spread makes them exceed
        # the threshold far more often than noise does, and 1 in 20 keeps density near 10%.
        wanted = max(2, n_features // (20 if binary else 10))
        n_informative = min(max(wanted, needed), n_features)
    elif not isinstance(n_informative, Integral) or not 1 <= n_informative <= n_features:
        raise DatasetError(
            f"synthetic: n_informative must be between 1 and n_features={n_features}, "
            f"got {n_informative!r}"
        )
    if n_informative < needed:
        raise DatasetError(
            f"synthetic: n_classes={n_classes} needs at least {needed} informative features, "
            f"but n_informative={n_informative} (n_features={n_features})"
        )
    return {
        "n_samples": int(n_samples),
        "n_features": int(n_features),
        "binary": bool(binary),
        "n_informative": int(n_informative),
        "class_sep": float(class_sep),
        "flip_y": float(flip_y),
        "n_classes": int(n_classes),
    }


def bag_of_words_options(
    *,
    n_samples,
    n_features,
    binary,
    flip_y,
    mean_length,
    zipf_exponent,
    sentiment_share,
    sentiment_strength,
    cell_limit,
) -> dict[str, object]:
    """Fill in the IMDB-sized defaults and check the values, one named option at a time."""
    n_samples = 25_000 if n_samples is None else n_samples
    n_features = 1_000 if n_features is None else n_features
    for option, value in [("n_samples", n_samples), ("n_features", n_features)]:
        if not isinstance(value, Integral) or value < 1:
            raise DatasetError(f"bag_of_words: {option} must be a positive integer, got {value!r}")
    if n_samples < 2:
        raise DatasetError("bag_of_words: n_samples must be at least 2 (one per class), got 1")
    for option, value in [
        ("mean_length", mean_length),
        ("zipf_exponent", zipf_exponent),
        ("sentiment_strength", sentiment_strength),
    ]:
        if not _is_number(value) or not 0 < value < math.inf:
            raise DatasetError(f"bag_of_words: {option} must be a positive number, got {value!r}")
    if not _is_number(sentiment_share) or not 0 < sentiment_share < 1:
        raise DatasetError(
            f"bag_of_words: sentiment_share must be between 0 and 1 (exclusive), "
            f"got {sentiment_share!r}"
        )
    if not _is_number(flip_y) or not 0 <= flip_y <= 1:
        raise DatasetError(f"bag_of_words: flip_y must be between 0 and 1, got {flip_y!r}")
    if round(sentiment_share * n_features) < 2:
        raise DatasetError(
            f"bag_of_words: sentiment_share={sentiment_share} of n_features={n_features} words "
            "gives fewer than 2 sentiment words (one per class are needed)"
        )
    check_cells("bag_of_words", n_samples, n_features, _SHRINK, cell_limit)
    return {
        "n_samples": int(n_samples),
        "n_features": int(n_features),
        "binary": bool(binary),
        "flip_y": float(flip_y),
        "mean_length": float(mean_length),
        "zipf_exponent": float(zipf_exponent),
        "sentiment_share": float(sentiment_share),
        "sentiment_strength": float(sentiment_strength),
    }


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def synthetic(
    seed, *, n_samples, n_features, binary, n_informative, class_sep, flip_y, n_classes
) -> tuple[np.ndarray, np.ndarray]:
    """make_classification with one cluster per class, so linear learners can learn it.

    `binary` thresholds the Gaussian features at BINARY_THRESHOLD: noise features become
    10% ones, informative ones keep their class signal (their spread is wider than the noise).
    """
    # Imported here: scikit-learn adds about 50 MiB and a second to start.
    from sklearn.datasets import make_classification

    try:
        X, y = make_classification(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=n_informative,
            n_redundant=0,
            n_clusters_per_class=1,
            n_classes=n_classes,
            class_sep=class_sep,
            flip_y=flip_y,
            random_state=seed,
        )
    except (ValueError, TypeError) as exc:  # sklearn's parameter validation
        raise DatasetError(f"synthetic: {first_line(exc)}") from None
    if binary:
        X = (X > BINARY_THRESHOLD).astype(np.float64)
    return X, y


def bag_of_words(
    seed,
    *,
    n_samples,
    n_features,
    binary,
    flip_y,
    mean_length,
    zipf_exponent,
    sentiment_share,
    sentiment_strength,
) -> tuple[Features, np.ndarray]:
    """Documents shaped like IMDB reviews, so the mechanisms meet sparse, Zipfian text data.

    The vocabulary is ordered by frequency (as IMDB's bag of words): word j has base
    frequency 1 / (j + 1) ** zipf_exponent in both classes, except for a random
    sentiment_share of the words, half leaning to each class: exp(+strength / 2) times as
    frequent in their class and exp(-strength / 2) times in the other. A document draws its
    class (balanced, shuffled), a lognormal length and then its words from its class's
    distribution. Label noise comes last, as make_classification does it: a flip_y share of
    the labels are redrawn at random (so about half of those change).
    """
    rng = np.random.default_rng(seed)
    base = 1.0 / np.arange(1, n_features + 1) ** zipf_exponent
    n_sentiment = round(sentiment_share * n_features)
    sentiment = rng.choice(n_features, n_sentiment, replace=False)
    lean = np.zeros(n_features)  # +1: more frequent in class 1, -1: in class 0
    lean[sentiment[: n_sentiment // 2]] = 1.0
    lean[sentiment[n_sentiment // 2 :]] = -1.0
    p = base * np.exp(np.outer([-1.0, 1.0], lean) * (sentiment_strength / 2))
    p /= p.sum(axis=1, keepdims=True)  # row c: class c's word distribution

    y = rng.permutation(np.arange(n_samples) >= n_samples // 2).astype(np.int64)
    mu = math.log(mean_length) - LENGTH_SIGMA**2 / 2  # a lognormal's mean is exp(mu + s^2 / 2)
    lengths = np.maximum(1, np.rint(rng.lognormal(mu, LENGTH_SIGMA, n_samples))).astype(np.int64)
    chunk = max(1, _BOW_CHUNK_CELLS // n_features)  # rows per draw; the draws are the same

    def documents():
        for start in range(0, n_samples, chunk):
            rows = slice(start, start + chunk)
            counts = rng.multinomial(lengths[rows], p[y[rows]])
            yield np.minimum(counts, 1) if binary else counts  # presence, or counts

    X = Features.from_blocks(documents(), n_features)
    redrawn = rng.random(n_samples) < flip_y
    y[redrawn] = rng.integers(2, size=int(redrawn.sum()))
    return X, y
