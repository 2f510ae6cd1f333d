"""Datasets: where the data comes from, and how one replicate splits it.

Everything is offline: scikit-learn's bundled sets, generated data (make_classification, or
IMDB-like bag-of-words documents), or the user's own files (CSV, Parquet, svmlight).
A smart contract holds no floats, so every feature value is an integer, kept as sparse
`Features` (sim/features.py) in the smallest integer type that holds it. Features that are
already integers (binary, counts, pixel values) stay as they are; any other data is
standardized per column and stored as fixed-point integers with two decimals.

A user's file is checked before it can hang, exhaust memory or teach a garbage model: only a
regular file of at most MAX_FILE_BYTES is opened, column names must be unique, feature values
finite and within MAX_FEATURE_VALUE in magnitude, labels finite; each a one-line DatasetError.
"""

import functools
import inspect
import math
import stat
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import sparse

from sim.features import Features
from sim.params import first_line

DATASETS: dict[str, str] = {
    "breast_cancer": "Wisconsin breast cancer: 569 samples, 30 features, 2 classes (scikit-learn)",
    "digits": "handwritten digits: 1,797 samples, 64 pixel counts 0-16, 10 classes (scikit-learn)",
    "wine": "wine cultivars: 178 samples, 13 features, 3 classes (scikit-learn)",
    "iris": "iris flowers: 150 samples, 4 features, 3 classes (scikit-learn)",
    "synthetic": "generated (make_classification), any size; binary=True gives sparse 0/1 features",
    "bag_of_words": "generated IMDB-like reviews: 25,000 x 1,000 word counts (binary: presence), "
    "2 classes",
    "csv:PATH": "a CSV file: the label column (label_column) plus numeric feature columns",
    "parquet:PATH": "a Parquet file: the label column (label_column) plus numeric feature columns",
    "svmlight:PATH": "an svmlight/libsvm file (IMDB's labeledBow.feat): label idx:count ...",
}

FIXED_POINT_SCALE = 100
"""Two decimals: a standardized value z is stored as the integer rint(z * 100)."""

BINARY_THRESHOLD = NormalDist().inv_cdf(0.9)
"""1.2816: a pure-noise N(0, 1) feature exceeds it in 10% of samples, sparse like a bag of words."""

MAX_CELLS = 100_000_000
"""The largest dense table built or read (synthetic, CSV, Parquet, non-integer svmlight), in
n_samples * n_features cells: 800 MB of float64. Features are then kept sparse."""

MAX_DRAWN_CELLS = 2_000_000_000
"""The most documents x vocabulary words bag_of_words draws: a 200,000-document corpus over a
10,000-word vocabulary, or 1,000,000 documents over 1,000 words. Its work is about a minute a
billion cells; what it keeps is sparse (5 bytes per word present, 0.5 a cell at 10%)."""

MAX_FILE_BYTES = 4_000_000_000
"""The largest data file read: the text of MAX_CELLS values at 40 characters each (IMDB's
labeledBow.feat is 21 MB). Checked before the file is opened; raise it here to read more."""

MAX_FEATURE_VALUE = 1e9
"""The largest |value| a data file's feature may hold; NaN and infinity are refused too.
Integer data is kept as it is (see the module docstring), so the learners compute with the
raw values: with |x| <= 1e9 a column sum stays an exact integer (below 2**53) over 9 million
samples, and a perceptron's score cannot overflow: MAX_CELLS updates of the largest step
(learning_rate 1e15) leave weights below 1e8 * 1e15 * 1e9 = 1e32, and a score over at most
1e8 features stays below 1e49, far inside float64's 1.8e308 (values of 1e300 overflow at
once). Other data is standardized per column, which no value in this range can overflow.
Real counts, pixels and measurements are far smaller; scale a larger column down."""

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

_BUNDLED = {
    "breast_cancer": ("load_breast_cancer", 2),
    "digits": ("load_digits", 10),
    "wine": ("load_wine", 3),
    "iris": ("load_iris", 3),
}
"""scikit-learn's loader (in sklearn.datasets) of each bundled dataset, and its classes."""
_FILE_READERS = {"csv": pd.read_csv, "parquet": pd.read_parquet}
_FILE_KINDS = ("csv", "parquet", "svmlight")
_OPTIONS = {
    "synthetic": {
        "n_samples", "n_features", "binary", "n_informative", "class_sep", "flip_y", "n_classes"
    },
    "bag_of_words": {
        "n_samples", "n_features", "binary", "flip_y",
        "mean_length", "zipf_exponent", "sentiment_share", "sentiment_strength",
    },
    "csv": {"label_column", "label_threshold"},
    "parquet": {"label_column", "label_threshold"},
    "svmlight": {"n_features", "binary", "label_threshold"},
}  # fmt: skip
"""The options each kind of dataset takes (bundled ones take none); others are refused."""
_BOW_CHUNK_CELLS = 2048 * 1000  # cells per multinomial call: bounds its temporaries
_SCAN_ROWS = 4096  # rows checked at a time, so a check makes no copy of all of X
_CACHE_SIZE = 4  # the paper's 25,000 x 1,000 data is 14 MB; replicates share one dataset


class DatasetError(ValueError):
    """A dataset that cannot be loaded or split; the one-line message names the culprit."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """The raw data, before any split. Arrays from `load_dataset` are read-only (cached)."""

    name: str
    X: Features  # every value an integer
    y: np.ndarray  # int64 class indices 0..n_classes-1
    n_classes: int
    binary: bool  # every feature value is 0 or 1


@dataclass(frozen=True, eq=False)
class Split:
    """One replicate's view of a Dataset: pre-training set, contribution pool, hidden test set.

    The pool holds the true labels, in the order contributors will draw from it. The X's
    are views into the dataset's one feature matrix: a split copies no feature values.
    """

    X_init: Features
    y_init: np.ndarray
    X_pool: Features
    y_pool: np.ndarray
    X_test: Features
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return self.X_init.n_features


def load_dataset(
    name: str,
    *,
    seed: int = 0,
    n_samples: int | None = None,
    n_features: int | None = None,
    binary: bool = False,
    n_informative: int | None = None,
    class_sep: float = 1.0,
    flip_y: float = 0.0,
    n_classes: int = 2,
    mean_length: float = 230.0,
    zipf_exponent: float = 1.0,
    sentiment_share: float = 0.1,
    sentiment_strength: float = SENTIMENT_STRENGTH,
    label_column: str = "label",
    label_threshold: float | None = None,
) -> Dataset:
    """Load (or generate) a dataset by name; see DATASETS for the names.

    Each kind of dataset takes only its own options (see _OPTIONS): giving another one is an
    error rather than silently ignored. `seed` only matters for the generated datasets
    (synthetic, bag_of_words): the others are fixed data. Results are cached in-process,
    since every replicate of an experiment shares one dataset.
    """
    options = {
        "n_samples": n_samples,
        "n_features": n_features,
        "binary": binary,
        "n_informative": n_informative,
        "class_sep": class_sep,
        "flip_y": flip_y,
        "n_classes": n_classes,
        "mean_length": mean_length,
        "zipf_exponent": zipf_exponent,
        "sentiment_share": sentiment_share,
        "sentiment_strength": sentiment_strength,
        "label_column": label_column,
        "label_threshold": label_threshold,
    }
    if name in _BUNDLED:
        _reject_options(name, name, options)
        return _bundled(name)
    if name == "synthetic":
        _reject_options(name, name, options)
        return _synthetic(seed, **_synthetic_options(**_own(name, options)))
    if name == "bag_of_words":
        _reject_options(name, name, options)
        return _bag_of_words(seed, **_bag_of_words_options(**_own(name, options)))

    kind, colon, path = name.partition(":")
    if not colon:
        raise DatasetError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    if kind not in _FILE_KINDS:
        raise DatasetError(
            f"unknown file prefix {kind!r} in {name!r}; use csv:PATH, parquet:PATH or svmlight:PATH"
        )
    if not path:
        raise DatasetError(f"dataset {name!r} names no file; use {kind}:PATH")
    _reject_options(name, kind, options)
    bad_width = n_features is not None and (not isinstance(n_features, Integral) or n_features < 1)
    if kind == "svmlight" and bad_width:
        raise DatasetError(f"{name}: n_features must be a positive integer, got {n_features!r}")
    try:
        info = Path(path).stat()
    except FileNotFoundError:
        raise DatasetError(f"{kind} file not found: {path}") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {kind} file {path}: {exc.strerror}") from None
    # Checked before opening: a FIFO would block the open, /dev/zero never ends.
    if not stat.S_ISREG(info.st_mode):
        raise DatasetError(
            f"cannot read {kind} file {path}: not a regular file (a directory, FIFO or device)"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise DatasetError(
            f"{kind} file {path} has {info.st_size:,} bytes, over MAX_FILE_BYTES="
            f"{MAX_FILE_BYTES:,}; use a smaller file, or raise MAX_FILE_BYTES in sim/datasets.py"
        )
    # The modification time and size are part of the cache key: an edited file is reloaded.
    if kind == "svmlight":
        return _from_svmlight(
            name, path, n_features, bool(binary), label_threshold, info.st_mtime_ns, info.st_size
        )
    return _from_file(
        name, kind, path, label_column, label_threshold, info.st_mtime_ns, info.st_size
    )


def split_dataset(
    data: Dataset, *, initial_fraction: float, test_fraction: float, rng: np.random.Generator
) -> Split:
    """Split into test set, pre-training set and contribution pool, by one permutation.

    Test = the first round(test_fraction * n) permuted samples, pre-training set = the next
    round(initial_fraction * n), pool = the rest, in permuted order. It is deliberately not
    stratified: a plain permutation is simple and reproducible from the rng alone, and test
    sets of realistic size contain every class anyway.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if not 0 <= initial_fraction < 1:
        raise ValueError(f"initial_fraction must be in [0, 1), got {initial_fraction}")
    if not initial_fraction + test_fraction < 1:
        raise ValueError(
            "initial_fraction + test_fraction must be below 1 to leave a contribution pool, "
            f"got {initial_fraction} + {test_fraction}"
        )
    n = len(data.y)
    n_test = round(test_fraction * n)
    n_init = round(initial_fraction * n)
    n_pool = n - n_test - n_init
    if n_test < 1 or n_pool < 1 or (initial_fraction > 0 and n_init < 1):
        raise DatasetError(
            f"dataset {data.name!r} has too few samples ({n}) to split: it would give "
            f"{n_test} test, {n_init} pre-training and {n_pool} pool samples"
        )
    order = rng.permutation(n)
    test, init, pool = np.split(order, [n_test, n_test + n_init])
    return Split(
        X_init=data.X[init],
        y_init=data.y[init],
        X_pool=data.X[pool],
        y_pool=data.y[pool],
        X_test=data.X[test],
        y_test=data.y[test],
        n_classes=data.n_classes,
    )


def known_classes(dataset: str, n_classes: int, label_threshold: float | None) -> int | None:
    """How many classes `dataset` has, if that is known before it is loaded."""
    if dataset == "synthetic":
        return n_classes
    if label_threshold is not None or dataset == "bag_of_words":
        return 2
    return _BUNDLED[dataset][1] if dataset in _BUNDLED else None


def is_known(dataset: str) -> bool:
    """Whether `dataset` names a dataset: a bundled or generated one, or KIND:PATH."""
    return dataset in DATASETS or dataset.startswith(tuple(f"{kind}:" for kind in _FILE_KINDS))


def _reject_options(name: str, kind: str, options: dict[str, object]) -> None:
    """Refuse options that do not apply to this dataset, so a mistaken config fails loudly."""
    for option, value in options.items():
        if option not in _OPTIONS.get(kind, ()) and value != _DEFAULTS[option]:
            raise DatasetError(
                f"option {option}={value!r} does not apply to {name!r}, only to {_takers(option)}"
            )


def _takers(option: str) -> str:
    """The datasets that take `option`, in words: "synthetic and bag_of_words"."""
    names = [kind for kind in ("synthetic", "bag_of_words") if option in _OPTIONS[kind]]
    files = [kind for kind in _FILE_KINDS if option in _OPTIONS[kind]]
    if files:
        names.append("/".join(files) + " files")
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _own(kind: str, options: dict[str, object]) -> dict[str, object]:
    """The options that apply to `kind`."""
    return {option: value for option, value in options.items() if option in _OPTIONS[kind]}


def cell_limit(dataset: str) -> tuple[str, int]:
    """The name and value of the cell bound that applies to `dataset`."""
    if dataset == "bag_of_words":
        return "MAX_DRAWN_CELLS", MAX_DRAWN_CELLS
    return "MAX_CELLS", MAX_CELLS


def _check_cells(what: str, n_samples: int, n_features: int, fix: str) -> None:
    """Refuse data over its cell bound (see `cell_limit`) before building it, rather than run
    out of memory or time."""
    name, limit = cell_limit(what)
    if n_samples * n_features > limit:
        size = "" if name == "MAX_DRAWN_CELLS" else " (800 MB as float64)"
        raise DatasetError(
            f"{what}: {n_samples:,} samples x {n_features:,} features is over {name}="
            f"{limit:,} cells{size}; {fix}"
        )


def _synthetic_options(
    *, n_samples, n_features, binary, n_informative, class_sep, flip_y, n_classes
) -> dict[str, object]:
    """Fill in the defaults and check what make_classification would reject less clearly."""
    n_samples = 2000 if n_samples is None else n_samples
    n_features = 20 if n_features is None else n_features
    for option, value in [("n_samples", n_samples), ("n_features", n_features)]:
        if not isinstance(value, Integral) or value < 1:
            raise DatasetError(f"synthetic: {option} must be a positive integer, got {value!r}")
    if not isinstance(n_classes, Integral) or n_classes < 2:
        raise DatasetError(f"synthetic: n_classes must be at least 2, got {n_classes!r}")
    _check_cells("synthetic", n_samples, n_features, "lower data.n_samples or data.n_features")
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


def _bag_of_words_options(
    *,
    n_samples,
    n_features,
    binary,
    flip_y,
    mean_length,
    zipf_exponent,
    sentiment_share,
    sentiment_strength,
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
    _check_cells("bag_of_words", n_samples, n_features, "lower data.n_samples or data.n_features")
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


def _sklearn_datasets():
    """sklearn.datasets, imported when first needed: generated bag-of-words documents and
    CSV or Parquet files never need it, and it adds about 50 MiB and a second to start."""
    from sklearn import datasets

    return datasets


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


@functools.cache
def _bundled(name: str) -> Dataset:
    X, y = getattr(_sklearn_datasets(), _BUNDLED[name][0])(return_X_y=True)
    return _finish(name, X, y)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _synthetic(
    seed, *, n_samples, n_features, binary, n_informative, class_sep, flip_y, n_classes
) -> Dataset:
    """make_classification with one cluster per class, so linear learners can learn it.

    `binary` thresholds the Gaussian features at BINARY_THRESHOLD: noise features become
    10% ones, informative ones keep their class signal (their spread is wider than the noise).
    """
    try:
        X, y = _sklearn_datasets().make_classification(
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
    return _finish("synthetic", X, y)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _bag_of_words(
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
) -> Dataset:
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
    return _finish("bag_of_words", X, y)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _from_svmlight(
    name: str,
    path: str,
    n_features: int | None,
    binary: bool,
    label_threshold: float | None,
    _mtime_ns: int,
    _size: int,
) -> Dataset:
    """Read `label idx:value ...` lines (IMDB's labeledBow.feat) and keep the first
    n_features columns (in a vocabulary ordered by frequency, the most frequent words),
    sparse as they are read."""
    X, labels = _read(
        f"svmlight file {path}", _sklearn_datasets().load_svmlight_file, path, zero_based="auto"
    )
    X = sparse.csr_array(X)
    if X.shape[0] == 0:
        raise DatasetError(f"svmlight file {path} has no rows")
    if n_features is not None:
        if n_features > X.shape[1]:
            raise DatasetError(
                f"svmlight file {path} has {X.shape[1]:,} feature columns, fewer than "
                f"n_features={n_features:,}"
            )
        X = X[:, :n_features]
    _check_values(f"svmlight file {path}", X, labels)
    if binary:
        X.data[:] = X.data != 0  # presence, as the reference loader did
    labels = _thresholded(labels, label_threshold, f"svmlight file {path}")
    return _finish(name, X, labels)


def _read(source: str, reader, *args, **kwargs):
    """Call a library's file reader, turning its errors into one line naming the file."""
    try:
        return reader(*args, **kwargs)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {source}: {first_line(exc)}") from None


def _check_header(source: str, kind: str, path: str) -> None:
    """Before reading the data: refuse duplicate column names (pandas would rename a second
    `label` to `label.1`, a feature leaking the label), and a Parquet table over MAX_CELLS."""
    if kind == "parquet":
        metadata = _read(source, pq.read_metadata, path)
        names = metadata.schema.to_arrow_schema().names
        _check_cells(source, metadata.num_rows, len(names), "use fewer rows or columns")
    else:
        first_row = _read(source, pd.read_csv, path, header=None, nrows=1, dtype=str).iloc[0]
        names = first_row.dropna().tolist()
    duplicated = pd.Index(names).duplicated()
    if duplicated.any():
        column = names[np.argmax(duplicated)]
        raise DatasetError(f"{source}: column {column!r} appears {names.count(column)} times")


def _check_values(
    source: str,
    X: np.ndarray,
    labels: np.ndarray,
    columns: list | None = None,
    label_column: str | None = None,
) -> None:
    """Refuse features that are not finite or beyond MAX_FEATURE_VALUE, and labels that are
    not finite, naming the column (`columns`, else its 0-based index), before any arithmetic."""
    # Per-column extremes, without a temporary copy of X; a NaN propagates, then fails `<=`.
    if sparse.issparse(X):
        peak = np.zeros(X.shape[1])
        np.maximum.at(peak, X.indices, np.abs(X.data))
    else:
        peak = np.maximum(X.max(axis=0, initial=0.0), -X.min(axis=0, initial=0.0))
    bad = ~(peak <= MAX_FEATURE_VALUE)
    if bad.any():
        j = int(np.argmax(bad))
        column = repr(columns[j]) if columns is not None else f"#{j} (0-based)"
        if not np.isfinite(peak[j]):
            raise DatasetError(f"{source} has infinite or NaN feature values in column {column}")
        raise DatasetError(
            f"{source}: feature column {column} holds {float(peak[j])!r}, over MAX_FEATURE_VALUE="
            f"{MAX_FEATURE_VALUE:.0e} in magnitude; scale the column down"
        )
    if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
        where = f" (column {label_column!r})" if label_column else ""
        raise DatasetError(f"{source} has infinite or NaN labels{where}")


def _thresholded(labels: np.ndarray, threshold: float | None, source: str) -> np.ndarray:
    """Labels >= threshold are class 1, the rest class 0 (IMDB ratings: 7); None keeps all."""
    if threshold is None:
        return labels
    above = labels >= threshold
    if above.all() or not above.any():
        side = "at least" if above.all() else "below"
        raise DatasetError(
            f"{source}: every label is {side} label_threshold={threshold}, leaving one class"
        )
    return above.astype(np.int64)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _from_file(
    name: str,
    kind: str,
    path: str,
    label_column: str,
    label_threshold: float | None,
    _mtime_ns: int,
    _size: int,
) -> Dataset:
    """Read a table: `label_column` holds the labels, every other column is a feature."""
    source = f"{kind} file {path}"
    _check_header(source, kind, path)
    frame = _read(source, _FILE_READERS[kind], path)
    _check_cells(source, *frame.shape, "use fewer rows or columns")
    if label_column not in frame.columns:
        raise DatasetError(f"{kind} file {path} has no label column {label_column!r}")
    if frame.empty:
        raise DatasetError(f"{kind} file {path} has no rows")
    features = frame.drop(columns=label_column)
    if features.shape[1] == 0:
        raise DatasetError(f"{kind} file {path} has no feature columns besides {label_column!r}")
    for column in frame.columns:
        if frame[column].isna().any():
            raise DatasetError(f"{kind} file {path}: column {column!r} has missing values")
    for column in features.columns:
        if not pd.api.types.is_numeric_dtype(features[column]):
            raise DatasetError(
                f"{kind} file {path}: feature column {column!r} is not numeric "
                f"(dtype {features[column].dtype})"
            )
    X = features.to_numpy(dtype=np.float64)
    labels = frame[label_column].to_numpy()
    _check_values(source, X, labels, [*features.columns], label_column)
    if label_threshold is not None:
        if not pd.api.types.is_numeric_dtype(frame[label_column]):
            raise DatasetError(
                f"{kind} file {path}: label_threshold needs numbers, but label column "
                f"{label_column!r} is {frame[label_column].dtype}"
            )
        labels = _thresholded(labels, label_threshold, f"{kind} file {path}")
    try:
        _, y = np.unique(labels, return_inverse=True)
    except TypeError:
        raise DatasetError(
            f"{kind} file {path}: label column {label_column!r} mixes values that cannot be "
            "sorted (e.g. numbers and text)"
        ) from None
    return _finish(name, X, y)


def _finish(name: str, X, labels: np.ndarray) -> Dataset:
    """Encode labels as 0..k-1, make the features on-chain integers, and freeze the arrays.

    X is a dense array, a scipy sparse matrix (kept sparse if its values are integers) or
    Features (generated integers)."""
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise DatasetError(f"dataset {name!r} has {len(classes)} class(es); at least 2 are needed")
    if sparse.issparse(X) and not np.array_equal(X.data, np.rint(X.data)):
        _check_cells(name, *X.shape, "use fewer rows or columns, or integer values")
        X = X.toarray()  # standardizing centres each column: the result is dense
    if not isinstance(X, Features) and not sparse.issparse(X):
        X = np.asarray(X, dtype=np.float64)
        blocks = (X[start : start + _SCAN_ROWS] for start in range(0, len(X), _SCAN_ROWS))
        if not all(np.array_equal(block, np.rint(block)) for block in blocks):
            X = _fixed_point(X)
    features = Features.from_array(X)
    y = np.require(y.reshape(-1), np.int64, ["C_CONTIGUOUS", "OWNDATA"])
    y.flags.writeable = False
    binary = bool(np.all((features.values == 1) | (features.values == 0)))
    return Dataset(name=name, X=features, y=y, n_classes=len(classes), binary=binary)


def _fixed_point(X: np.ndarray) -> np.ndarray:
    """Standardize each column (constant columns become 0), then keep two decimals as integers."""
    constant = np.ptp(X, axis=0) == 0  # not std == 0: rounding leaves a constant a tiny std
    mean = X.mean(axis=0)
    std = np.where(constant, 1.0, X.std(axis=0))
    z = np.where(constant, 0.0, (X - mean) / std)
    return np.rint(z * FIXED_POINT_SCALE) + 0.0  # + 0.0 turns -0.0 into 0.0


_DEFAULTS = {
    option: parameter.default
    for option, parameter in inspect.signature(load_dataset).parameters.items()
    if parameter.kind is parameter.KEYWORD_ONLY
}
"""load_dataset's defaults, read from its signature so the two cannot drift apart."""
