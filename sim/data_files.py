"""The user's data files (CSV, Parquet, svmlight), read into raw features and labels.

A file is checked before it can hang, exhaust memory or teach a garbage model: only a
regular file of at most MAX_FILE_BYTES is opened, column names must be unique, feature values
finite and within MAX_FEATURE_VALUE in magnitude, labels finite; each a one-line DatasetError.
The limits are sim.datasets', where a user raises them; they are passed in.
"""

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import sparse

from sim.dataset_encoding import DatasetError, check_cells
from sim.params import first_line

_FILE_READERS = {"csv": pd.read_csv, "parquet": pd.read_parquet}


def checked_stat(kind: str, path: str, max_file_bytes: int) -> os.stat_result:
    """The file's status, once it is known to be a regular file of at most max_file_bytes."""
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
    if info.st_size > max_file_bytes:
        raise DatasetError(
            f"{kind} file {path} has {info.st_size:,} bytes, over MAX_FILE_BYTES="
            f"{max_file_bytes:,}; use a smaller file, or raise MAX_FILE_BYTES in sim/datasets.py"
        )
    return info


def read_svmlight(
    path: str,
    n_features: int | None,
    binary: bool,
    label_threshold: float | None,
    *,
    max_feature_value: float,
) -> tuple[sparse.csr_array, np.ndarray]:
    """Read `label idx:value ...` lines (IMDB's labeledBow.feat) and keep the first
    n_features columns (in a vocabulary ordered by frequency, the most frequent words),
    sparse as they are read."""
    # Imported here: scikit-learn adds about 50 MiB and a second to start.
    from sklearn.datasets import load_svmlight_file

    X, labels = _read(f"svmlight file {path}", load_svmlight_file, path, zero_based="auto")
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
    _check_values(f"svmlight file {path}", X, labels, max_feature_value)
    if binary:
        X.data[:] = X.data != 0  # presence, as the reference loader did
    return X, _thresholded(labels, label_threshold, f"svmlight file {path}")


def read_table(
    kind: str,
    path: str,
    label_column: str,
    label_threshold: float | None,
    *,
    cell_limit: tuple[str, int],
    max_feature_value: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a table: `label_column` holds the labels, every other column is a feature."""
    source = f"{kind} file {path}"
    _check_header(source, kind, path, cell_limit)
    frame = _read(source, _FILE_READERS[kind], path)
    check_cells(source, *frame.shape, "use fewer rows or columns", cell_limit)
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
    _check_values(source, X, labels, max_feature_value, [*features.columns], label_column)
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
    return X, y


def _read(source: str, reader, *args, **kwargs):
    """Call a library's file reader, turning its errors into one line naming the file."""
    try:
        return reader(*args, **kwargs)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {source}: {first_line(exc)}") from None


def _check_header(source: str, kind: str, path: str, cell_limit: tuple[str, int]) -> None:
    """Before reading the data: refuse duplicate column names (pandas would rename a second
    `label` to `label.1`, a feature leaking the label), and a Parquet table over its cells."""
    if kind == "parquet":
        metadata = _read(source, pq.read_metadata, path)
        names = metadata.schema.to_arrow_schema().names
        check_cells(source, metadata.num_rows, len(names), "use fewer rows or columns", cell_limit)
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
    max_feature_value: float,
    columns: list | None = None,
    label_column: str | None = None,
) -> None:
    """Refuse features that are not finite or beyond max_feature_value, and labels that are
    not finite, naming the column (`columns`, else its 0-based index), before any arithmetic."""
    # Per-column extremes, without a temporary copy of X; a NaN propagates, then fails `<=`.
    if sparse.issparse(X):
        peak = np.zeros(X.shape[1])
        np.maximum.at(peak, X.indices, np.abs(X.data))
    else:
        peak = np.maximum(X.max(axis=0, initial=0.0), -X.min(axis=0, initial=0.0))
    bad = ~(peak <= max_feature_value)
    if bad.any():
        j = int(np.argmax(bad))
        column = repr(columns[j]) if columns is not None else f"#{j} (0-based)"
        if not np.isfinite(peak[j]):
            raise DatasetError(f"{source} has infinite or NaN feature values in column {column}")
        raise DatasetError(
            f"{source}: feature column {column} holds {float(peak[j])!r}, over MAX_FEATURE_VALUE="
            f"{max_feature_value:.0e} in magnitude; scale the column down"
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
