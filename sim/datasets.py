"""Datasets: the names a config may give, the options each takes, the input limits, and how
one replicate splits the data.

Everything is offline: scikit-learn's bundled sets, generated data (make_classification, or
IMDB-like bag-of-words documents: sim/generated_datasets.py), or the user's own files (CSV,
Parquet, svmlight: sim/data_files.py). Each source's raw arrays are encoded as a Dataset of
on-chain integers (sim/dataset_encoding.py) and cached here, since every replicate of an
experiment shares one dataset. The input limits live here, where a user raises them, and
are passed down to the code that enforces them.
"""

import functools
import inspect
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from sim import data_files, generated_datasets
from sim.dataset_encoding import Dataset, DatasetError, encode
from sim.features import Features
from sim.generated_datasets import SENTIMENT_STRENGTH

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
Integer data is kept as it is (see sim/dataset_encoding.py), so the learners compute with the
raw values: with |x| <= 1e9 a column sum stays an exact integer (below 2**53) over 9 million
samples, and a perceptron's score cannot overflow: MAX_CELLS updates of the largest step
(learning_rate 1e15) leave weights below 1e8 * 1e15 * 1e9 = 1e32, and a score over at most
1e8 features stays below 1e49, far inside float64's 1.8e308 (values of 1e300 overflow at
once). Other data is standardized per column, which no value in this range can overflow.
Real counts, pixels and measurements are far smaller; scale a larger column down."""

_BUNDLED = {
    "breast_cancer": ("load_breast_cancer", 2),
    "digits": ("load_digits", 10),
    "wine": ("load_wine", 3),
    "iris": ("load_iris", 3),
}
"""scikit-learn's loader (in sklearn.datasets) of each bundled dataset, and its classes."""
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
_CACHE_SIZE = 4  # the paper's 25,000 x 1,000 data is 14 MB; replicates share one dataset


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
        filled = generated_datasets.synthetic_options(
            **_own(name, options), cell_limit=cell_limit(name)
        )
        return _synthetic(seed, **filled)
    if name == "bag_of_words":
        _reject_options(name, name, options)
        filled = generated_datasets.bag_of_words_options(
            **_own(name, options), cell_limit=cell_limit(name)
        )
        return _bag_of_words(seed, **filled)

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
    info = data_files.checked_stat(kind, path, MAX_FILE_BYTES)
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


@functools.cache
def _bundled(name: str) -> Dataset:
    # Imported here: scikit-learn adds about 50 MiB and a second to start.
    from sklearn import datasets as sklearn_datasets

    X, y = getattr(sklearn_datasets, _BUNDLED[name][0])(return_X_y=True)
    return encode(name, X, y, cell_limit(name))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _synthetic(seed, **options) -> Dataset:
    X, y = generated_datasets.synthetic(seed, **options)
    return encode("synthetic", X, y, cell_limit("synthetic"))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _bag_of_words(seed, **options) -> Dataset:
    X, y = generated_datasets.bag_of_words(seed, **options)
    return encode("bag_of_words", X, y, cell_limit("bag_of_words"))


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
    X, labels = data_files.read_svmlight(
        path, n_features, binary, label_threshold, max_feature_value=MAX_FEATURE_VALUE
    )
    return encode(name, X, labels, cell_limit(name))


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
    X, y = data_files.read_table(
        kind,
        path,
        label_column,
        label_threshold,
        cell_limit=cell_limit(name),
        max_feature_value=MAX_FEATURE_VALUE,
    )
    return encode(name, X, y, cell_limit(name))


_DEFAULTS = {
    option: parameter.default
    for option, parameter in inspect.signature(load_dataset).parameters.items()
    if parameter.kind is parameter.KEYWORD_ONLY
}
"""load_dataset's defaults, read from its signature so the two cannot drift apart."""
