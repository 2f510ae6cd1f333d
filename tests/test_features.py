"""Features: sparse integer rows, views that copy nothing, and exact round trips."""

import numpy as np
import pytest
from scenarios import csr_layout, dense_layout
from scipy import sparse

from sim.features import Features, compact

DENSE = np.array([[0, 2, 0, -1], [0, 0, 0, 0], [5, 0, 0, 3], [1, 1, 1, 1]], dtype=np.float64)
SPARSE = np.zeros((4, 12))
SPARSE[[0, 0, 2, 2, 3], [1, 3, 0, 11, 5]] = [2, -1, 5, 3, 1]
LAYOUTS = {  # the same matrices in both layouts, whichever from_array would pick
    "csr": csr_layout,
    "dense": dense_layout,
}


def test_the_layout_is_the_smaller_one():
    sparse_rows = Features.from_array(SPARSE)  # 5 of 48 values: 25 bytes as CSR, 48 dense
    assert not sparse_rows.dense and len(sparse_rows.values) == np.count_nonzero(SPARSE)
    assert sparse_rows.indices.dtype == np.int32
    dense_rows = Features.from_array(DENSE)  # 8 of 16 values: 40 bytes as CSR, 16 dense
    assert dense_rows.dense and dense_rows.indices is None
    assert dense_rows.values.dtype == np.int8 and len(dense_rows.values) == DENSE.size
    assert Features.from_blocks([DENSE[:3], DENSE[3:]], 4).dense


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("matrix", [DENSE, SPARSE], ids=["dense", "sparse"])
def test_round_trip_keeps_every_value_and_rows_hold_only_nonzeros(layout, matrix):
    X = LAYOUTS[layout](matrix)
    assert X.shape == matrix.shape
    np.testing.assert_array_equal(X.toarray(), matrix)
    for i in range(len(matrix)):
        indices, values = X[i]
        assert indices.tolist() == np.flatnonzero(matrix[i]).tolist()
        assert values.tolist() == matrix[i][indices].tolist()
    assert X[1][0].size == 0  # an empty row
    assert Features.from_array(matrix) == X


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([0, 1], np.int8),
        ([-129, 5], np.int16),
        ([70_000], np.int32),
        ([2**40], np.int64),
        ([0.5], np.float64),
        ([np.inf], np.float64),
        ([np.nan], np.float64),
        ([2.0**70], np.float64),
    ],
)
def test_values_take_the_smallest_type_that_holds_them_exactly(values, kind):
    packed = compact(np.array(values, dtype=np.float64))
    assert packed.dtype == kind
    np.testing.assert_array_equal(packed.astype(np.float64), values)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_views_share_the_matrix_and_compose_row_ids(layout):
    X = LAYOUTS[layout](DENSE)
    view = X[[3, 0, 2]][1:]  # rows 0 and 2 of the original
    assert view.values is X.values and view.indices is X.indices
    np.testing.assert_array_equal(view.toarray(), DENSE[[0, 2]])
    both = Features.stack([view, X[[1]]])
    assert both.values is X.values
    np.testing.assert_array_equal(both.toarray(), DENSE[[0, 2, 1]])


def test_stacking_separate_matrices_copies_them_into_one():
    a, b = Features.from_array(DENSE[:2]), Features.from_array(DENSE[2:])
    np.testing.assert_array_equal(Features.stack([b, a]).toarray(), DENSE[[2, 3, 0, 1]])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_array_is_read_only(layout):
    X = LAYOUTS[layout](DENSE)[1:]
    for array in (X.indptr, X.indices, X.values, X.rows):
        if array is None:  # the dense layout has no indices
            continue
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1


def test_from_blocks_equals_from_array_without_a_dense_whole():
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 3, size=(50, 7)) * (rng.random((50, 7)) < 0.3)
    blocks = (dense[start : start + 8] for start in range(0, 50, 8))
    built = Features.from_blocks(blocks, 7)
    reference = Features.from_array(dense)
    assert built == reference and built.values.dtype == np.int8
    np.testing.assert_array_equal(built.indptr, reference.indptr)


def test_a_scipy_matrix_is_canonicalized_but_never_changed():
    coo = sparse.coo_array(([1, 2, 0], ([0, 0, 1], [1, 1, 0])), shape=(2, 3))
    csr = sparse.csr_array(coo)  # holds a duplicate cell and an explicit zero
    before = (csr.data.copy(), csr.indices.copy())
    X = Features.from_array(csr)
    np.testing.assert_array_equal(X.toarray(), [[0, 3, 0], [0, 0, 0]])
    assert X.values.tolist() == [3]
    np.testing.assert_array_equal(csr.data, before[0])
    np.testing.assert_array_equal(csr.indices, before[1])


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros(3), "2-D array"),
        (np.array([["a", "b"]]), "numeric"),
    ],
)
def test_bad_input_is_one_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        Features.from_array(X)
