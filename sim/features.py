"""Feature rows as the contract stores them: sparse, integer, read-only and shared.

A dataset's features are one matrix, built once, with its values in the smallest integer
type that holds them, laid out whichever way is smaller: CSR (int32 column indices) when
most values are zero, dense (row-major, every value stored) otherwise. Every other set of
rows is a view into it: `features[rows]` keeps the shared arrays and composes the row ids,
so a replicate's split copies no feature values. A row is a `Row`: the ascending columns
of its nonzero values, and those values. Learners compute on rows directly, never on a
float copy.

A bag of words is about 10% ones: as CSR it takes 5 bytes per nonzero value, about 0.5
bytes per cell, where dense float64 took 8. A table of standardized measurements is
nearly all nonzero: dense int16 takes 2 bytes per cell, where CSR would take 6.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

Row = tuple[np.ndarray, np.ndarray]
"""(column indices, values) of one sample's nonzero features, columns ascending."""

_INT_TYPES = (np.int8, np.int16, np.int32, np.int64)


def compact(values: np.ndarray) -> np.ndarray:
    """`values` in the smallest integer type that holds them exactly, or as float64 when
    they are not all finite integers."""
    if values.dtype.kind == "f" and not np.all(np.rint(values) == values):  # NaN, inf too
        return values.astype(np.float64)
    if values.size == 0:
        return values.astype(np.int8)
    low, high = values.min(), values.max()
    for kind in _INT_TYPES:
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            return values.astype(kind)
    return values.astype(np.float64)


class Features:
    """Read-only rows: `indptr`, `indices` and `values` of a CSR matrix, and `rows`, the ids
    of the rows this view holds, in order. A dense matrix has `indices` None: row r's
    values are all n_features of them, `values[indptr[r]:indptr[r + 1]]`, zeros included.

    `len(features)` is the number of rows in the view; `features[i]` is a `Row` (nonzeros
    only, whichever the layout); `features[a:b]`, `features[ids]` are views. The arrays are
    never written.
    """

    __slots__ = ("indptr", "indices", "values", "n_features", "rows")

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        values: np.ndarray,
        n_features: int,
        rows: np.ndarray | None = None,
    ) -> None:
        self.indptr = indptr
        self.indices = indices
        self.values = values
        self.n_features = n_features
        self.rows = np.arange(len(indptr) - 1) if rows is None else rows
        for array in (self.indptr, self.indices, self.values, self.rows):
            if array is not None:
                array.flags.writeable = False

    @classmethod
    def _smallest(cls, csr: sparse.csr_array, values: np.ndarray) -> Features:
        """The canonical CSR matrix `csr` with its values packed as `values`, laid out as
        CSR or dense, whichever takes fewer bytes."""
        n_rows, n_features = csr.shape
        if n_rows * n_features * values.itemsize >= len(values) * (values.itemsize + 4):
            return cls(
                np.asarray(csr.indptr, dtype=np.int64),
                np.asarray(csr.indices, dtype=np.int32),
                values,
                int(n_features),
            )
        dense = sparse.csr_array((values, csr.indices, csr.indptr), shape=csr.shape).toarray()
        indptr = np.arange(n_rows + 1, dtype=np.int64) * n_features
        return cls(indptr, None, dense.reshape(-1), int(n_features))

    @property
    def dense(self) -> bool:
        """Whether every value is stored, zeros included (no `indices`)."""
        return self.indices is None

    @classmethod
    def from_array(cls, X) -> Features:
        """Features from a 2-D dense array, a scipy sparse matrix, or Features (returned as
        they are); values keep their exact value in the smallest type that holds them."""
        if isinstance(X, Features):
            return X
        if not sparse.issparse(X):
            X = np.asarray(X)
            if X.ndim != 2:
                raise ValueError(f"X must be a 2-D array (n_samples, n_features), got {X.ndim}-D")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must be numeric, got dtype {X.dtype}")
        csr = sparse.csr_array(X, copy=sparse.issparse(X))  # never change the caller's matrix
        csr.sum_duplicates()  # canonical: one entry per cell, columns ascending
        csr.eliminate_zeros()
        return cls._smallest(csr, compact(csr.data))

    @classmethod
    def from_blocks(cls, blocks, n_features: int) -> Features:
        """Features from dense blocks of integer rows, one block at a time, so that no dense
        array of all the rows is ever built."""
        lengths, indices, values = [], [], []
        for block in blocks:
            rows, columns = np.nonzero(block)
            lengths.append(np.bincount(rows, minlength=len(block)))
            indices.append(columns.astype(np.int32))
            values.append(compact(block[rows, columns]))
        indptr = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)
        csr = sparse.csr_array(
            (np.concatenate(values), np.concatenate(indices), indptr),
            shape=(len(indptr) - 1, n_features),
        )
        return cls._smallest(csr, csr.data)

    @classmethod
    def stack(cls, parts: list[Features]) -> Features:
        """The rows of `parts`, one after another: a view when they share one matrix."""
        first = parts[0]
        if all(part.indptr is first.indptr for part in parts):
            rows = np.concatenate([part.rows for part in parts])
            return cls(first.indptr, first.indices, first.values, first.n_features, rows)
        return cls.from_array(sparse.vstack([part.to_csr() for part in parts], format="csr"))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), self.n_features)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key) -> Row | Features:
        if isinstance(key, (int, np.integer)):  # a tuple: faster than a union, on the hot path
            row = self.rows[key]
            start, end = self.indptr[row], self.indptr[row + 1]
            if self.indices is None:
                columns = np.flatnonzero(self.values[start:end]).astype(np.int32)
                return columns, self.values[start + columns]
            return self.indices[start:end], self.values[start:end]
        return Features(self.indptr, self.indices, self.values, self.n_features, self.rows[key])

    def __eq__(self, other: object) -> bool:
        """Equal rows: the same shape and the same value in every cell."""
        if not isinstance(other, Features):
            return NotImplemented
        return self.shape == other.shape and (self.to_csr() != other.to_csr()).nnz == 0

    __hash__ = None

    def to_csr(self) -> sparse.csr_array:
        """The rows of this view as a scipy CSR array (a copy)."""
        if self.indices is None:
            return sparse.csr_array(self.values.reshape(-1, self.n_features)[self.rows])
        whole = sparse.csr_array(
            (self.values, self.indices, self.indptr), shape=(len(self.indptr) - 1, self.n_features)
        )
        return whole[self.rows]

    def toarray(self) -> np.ndarray:
        """The rows of this view as a dense float64 array (a copy: for tests and plots)."""
        return self.to_csr().toarray().astype(np.float64)
