"""A Dataset, how every source's raw arrays become one, and what every source shares: its
error and its bound on cells.

A smart contract holds no floats, so every feature value is an integer, kept as sparse
`Features` (sim/features.py) in the smallest integer type that holds it. Features that are
already integers (binary, counts, pixel values) stay as they are; any other data is
standardized per column and stored as fixed-point integers with two decimals. Labels become
class indices 0..k-1.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from sim.features import Features

FIXED_POINT_SCALE = 100
"""Two decimals: a standardized value z is stored as the integer rint(z * 100)."""

_SCAN_ROWS = 4096  # rows checked at a time, so a check makes no copy of all of X


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


def check_cells(
    what: str, n_samples: int, n_features: int, fix: str, cell_limit: tuple[str, int]
) -> None:
    """Refuse data over its cell bound before building it, rather than run out of memory or
    time. `cell_limit` is the bound's name and value (sim.datasets.cell_limit), passed in so
    that a limit raised in sim.datasets applies."""
    name, limit = cell_limit
    if n_samples * n_features > limit:
        size = "" if name == "MAX_DRAWN_CELLS" else " (800 MB as float64)"
        raise DatasetError(
            f"{what}: {n_samples:,} samples x {n_features:,} features is over {name}="
            f"{limit:,} cells{size}; {fix}"
        )


def encode(name: str, X, labels: np.ndarray, cell_limit: tuple[str, int]) -> Dataset:
    """Encode labels as 0..k-1, make the features on-chain integers, and freeze the arrays.

    X is a dense array, a scipy sparse matrix (kept sparse if its values are integers, else
    densified within `cell_limit`) or Features (generated integers)."""
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise DatasetError(f"dataset {name!r} has {len(classes)} class(es); at least 2 are needed")
    if sparse.issparse(X) and not np.array_equal(X.data, np.rint(X.data)):
        check_cells(name, *X.shape, "use fewer rows or columns, or integer values", cell_limit)
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
