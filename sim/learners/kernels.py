"""Compiled loops over sparse rows, shared by the learners (numba, cached on disk).

Every sum runs over a row's nonzero values in column order, one addition at a time, as a
contract's loop (and scikit-learn's SGD) would: the result does not depend on a BLAS
library's blocking, so it is the same on every machine. A learner calls these once per
prediction or update, and once per pass over a set of rows, where a Python loop over
thousands of rows per epoch would cost seconds.

The hot loops (`sgd_epoch`, `linear_scores_and_masses`) are written for speed without
changing a bit of any result (bench/kernels.py times them and hashes what they return):

- Positions in `indices`/`values` and the column indices are unsigned (np.uint64): numba
  then emits no negative-index wraparound, which per nonzero was more integer work than
  the multiply-add itself. `_span` gives a row's positions that way. (Keep them apart
  from signed integers: numba types uint64 + int64 as float64.)
- A shuffled epoch or a test set visits rows scattered over the matrix, and each row's
  cache lines would come from L3 or memory one miss at a time: the loops prefetch the
  rows they read next (`_prefetch_row`), a hint that changes no result.
- A row's sum waits on each addition in turn, so scoring many rows sums two rows side by
  side: each sum is still the same additions in the same order.

The loops over many rows also take a dense matrix (`indices` None, see Features): the
column of position k is then k minus the row's start (`_column`), and numba compiles that
case apart, with the test on None removed. The zeros a dense row stores add ±0.0 terms,
which leave every sum, every weight and every count as they are without them.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

CACHE_LINE = 64
"""Bytes per cache line (x86-64 and most ARM cores; on 128 it prefetches lines twice)."""

PREFETCH_AHEAD = 4
"""Rows between the row being read and the one being prefetched."""


@intrinsic
def _prefetch(typingctx, array, index):
    """Start loading the cache line of array[index] into the caches (LLVM's llvm.prefetch,
    for reading): a hint that never faults, not even past the array's ends."""

    def codegen(context, builder, signature, args):
        kind = signature.args[0]
        pointer = cgutils.get_item_pointer(
            context, builder, kind, context.make_array(kind)(context, builder, args[0]), [args[1]]
        )
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        prefetch = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        # read (0), keep in every cache level (3), data (1)
        builder.call(prefetch, [builder.bitcast(pointer, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True)
def _column(indices, k, start):
    """The column of position k, in a row whose positions begin at `start`: indices[k], or,
    for a dense matrix (indices None), k - start. Unsigned when k and start are."""
    if indices is None:
        return k - start
    return np.uint64(indices[k])


@njit(cache=True)
def _prefetch_row(indptr, indices, values, row):
    """Prefetch every cache line of a row's indices and values."""
    start, end = indptr[row], indptr[row + 1]
    if start < end:
        if indices is not None:
            for k in range(start, end, CACHE_LINE // indices.itemsize):
                _prefetch(indices, k)
            _prefetch(indices, end - 1)  # a row need not start on a line: its last one too
        for k in range(start, end, CACHE_LINE // values.itemsize):
            _prefetch(values, k)
        _prefetch(values, end - 1)


@njit(cache=True)
def _span(indptr, row):
    """The positions start..end of a row's nonzeros in indices/values, unsigned."""
    return np.uint64(indptr[row]), np.uint64(indptr[row + 1])


@njit(cache=True)
def _dot(w, indices, values, start, end):
    """w · x for the row x at positions start..end (unsigned) of (indices, values)."""
    total = 0.0
    for k in range(start, end):
        total += w[_column(indices, k, start)] * values[k]
    return total


@njit(cache=True)
def _add_scaled(w, indices, values, start, end, scale):
    """w += x * scale for the row x at positions start..end (unsigned) of (indices, values)."""
    for k in range(start, end):
        w[_column(indices, k, start)] += values[k] * scale


@njit(cache=True)
def dot(w, indices, values):
    """w · x for a row x given by its nonzero (indices, values)."""
    return _dot(w, indices, values, np.uint64(0), np.uint64(len(indices)))


@njit(cache=True)
def add_scaled(w, indices, values, scale):
    """w += x * scale for a row x given by its nonzero (indices, values)."""
    _add_scaled(w, indices, values, np.uint64(0), np.uint64(len(indices)), scale)


@njit(cache=True)
def linear_scores(w, bias, indptr, indices, values, rows):
    """w · x + bias for each row id in `rows`."""
    out = np.empty(len(rows))
    for i in range(len(rows)):
        start, end = _span(indptr, rows[i])
        out[i] = _dot(w, indices, values, start, end) + bias
    return out


@njit(cache=True)
def _score_and_mass(w, indices, values, row_start, start, end, score, mass):
    """`score` and `mass` carried on over the terms w_j x_j at positions start..end
    (unsigned) of the row that begins at `row_start`: score + each term, mass + each
    |term|."""
    for k in range(start, end):
        term = w[_column(indices, k, row_start)] * values[k]
        score += term
        mass += abs(term)
    return score, mass


@njit(cache=True)
def linear_scores_and_masses(w, bias, indptr, indices, values, rows):
    """`linear_scores`, and for each row the mass sum |w_j x_j| + |bias| that bounds the
    score's rounding error.

    Rows go two at a time, a and b (with an odd count the last row is summed twice, as
    both): their sums advance side by side over as many nonzeros as both have, then each
    finishes alone, so every sum is still `dot`'s, term by term."""
    n = len(rows)
    scores = np.empty(n)
    masses = np.empty(n)
    for i in range(0, n, 2):
        j = min(i + 1, n - 1)
        for ahead in range(i + PREFETCH_AHEAD, min(i + PREFETCH_AHEAD + 2, n)):
            _prefetch_row(indptr, indices, values, rows[ahead])
        a, a_end = _span(indptr, rows[i])
        b, b_end = _span(indptr, rows[j])
        common = min(a_end - a, b_end - b)
        score_a = mass_a = score_b = mass_b = 0.0
        for k in range(common):
            term_a = w[_column(indices, a + k, a)] * values[a + k]
            term_b = w[_column(indices, b + k, b)] * values[b + k]
            score_a += term_a
            mass_a += abs(term_a)
            score_b += term_b
            mass_b += abs(term_b)
        score_a, mass_a = _score_and_mass(w, indices, values, a, a + common, a_end, score_a, mass_a)
        score_b, mass_b = _score_and_mass(w, indices, values, b, b + common, b_end, score_b, mass_b)
        scores[i], masses[i] = score_a + bias, mass_a + abs(bias)
        scores[j], masses[j] = score_b + bias, mass_b + abs(bias)
    return scores, masses


@njit(cache=True)
def _class_dots(W, indices, values, start, end, positive_only, out):
    """out = W @ x for the row x at positions start..end (unsigned) of (indices, values):
    one dot per class (row of W). With `positive_only`, x is binarized first (value > 0
    counts as 1, anything else as 0)."""
    for c in range(W.shape[0]):
        total = 0.0
        for k in range(start, end):
            if positive_only:
                if values[k] > 0:
                    total += W[c, _column(indices, k, start)]
            else:
                total += W[c, _column(indices, k, start)] * values[k]
        out[c] = total


@njit(cache=True)
def class_dots(W, indices, values, positive_only):
    """`_class_dots` for one row x given by its nonzero (indices, values)."""
    out = np.zeros(W.shape[0])
    _class_dots(W, indices, values, np.uint64(0), np.uint64(len(indices)), positive_only, out)
    return out


@njit(cache=True)
def class_dots_many(W, indptr, indices, values, rows, positive_only):
    """`class_dots` for each row id in `rows`: shape (len(rows), n_classes)."""
    out = np.empty((len(rows), W.shape[0]))
    for i in range(len(rows)):
        start, end = _span(indptr, rows[i])
        _class_dots(W, indices, values, start, end, positive_only, out[i])
    return out


@njit(cache=True)
def class_sums(indptr, indices, values, rows, y, n_classes, n_features, positive_only):
    """Per class, the column sums of its rows (with `positive_only`, counts of values > 0),
    as float64 (exact for integer sums below 2**53)."""
    out = np.zeros((n_classes, n_features))
    for i in range(len(rows)):
        r = rows[i]
        c = y[i]
        start, end = _span(indptr, r)
        for k in range(start, end):
            if positive_only:
                if values[k] > 0:
                    out[c, _column(indices, k, start)] += 1.0
            else:
                out[c, _column(indices, k, start)] += values[k]
    return out


@njit(cache=True)
def _sgd_row(w, intercept, t, alpha, t0, indices, values, start, end, sign):
    """`sgd_step` on the row at positions start..end (unsigned) of (indices, values)."""
    margin = sign * (_dot(w, indices, values, start, end) + intercept)
    loss = 0.0
    if margin <= 0:
        step = sign / (alpha * (t0 + t - 1))
        _add_scaled(w, indices, values, start, end, step)
        intercept += step
        loss = 0.0 - margin
    return intercept, t + 1.0, loss


@njit(cache=True)
def sgd_step(w, intercept, t, alpha, t0, indices, values, sign):
    """One perceptron-loss SGD step (see SGDPerceptron) on the row x = (indices, values)
    with sign +1/-1. Returns (intercept, t, the sample's loss before the step); `w` is
    updated in place."""
    end = np.uint64(len(indices))
    return _sgd_row(w, intercept, t, alpha, t0, indices, values, np.uint64(0), end, sign)


@njit(cache=True)
def sgd_epoch(w, intercept, t, alpha, t0, indptr, indices, values, rows, signs, order):
    """`sgd_step` on rows[order], in that order. Returns (intercept, t, summed loss).

    Each row's dot depends on the updates before it, so rows go one at a time; the row
    PREFETCH_AHEAD places on in `order` is prefetched meanwhile."""
    total = 0.0
    for n in range(len(order)):
        if n + PREFETCH_AHEAD < len(order):
            _prefetch_row(indptr, indices, values, rows[order[n + PREFETCH_AHEAD]])
        i = order[n]
        start, end = _span(indptr, rows[i])
        intercept, t, loss = _sgd_row(
            w, intercept, t, alpha, t0, indices, values, start, end, signs[i]
        )
        total += loss
    return intercept, t, total


@njit(cache=True)
def row_norms(indptr, values, rows):
    """For each row id in `rows`: max |x_j|, sqrt(sum x_j**2) and sum |x_j|."""
    out = np.zeros((3, len(rows)))
    for i in range(len(rows)):
        for k in range(indptr[rows[i]], indptr[rows[i] + 1]):
            v = abs(float(values[k]))
            out[0, i] = max(out[0, i], v)
            out[1, i] += v * v
            out[2, i] += v
        out[1, i] = np.sqrt(out[1, i])
    return out


@njit(cache=True)
def distances(snapshots, w):
    """For each row s of `snapshots`: the l1, l2 and max norms of w - s."""
    out = np.zeros((3, snapshots.shape[0]))
    for s in range(snapshots.shape[0]):
        for j in range(len(w)):
            d = abs(w[j] - snapshots[s, j])
            out[0, s] += d
            out[1, s] += d * d
            out[2, s] = max(out[2, s], d)
        out[1, s] = np.sqrt(out[1, s])
    return out


@njit(cache=True)
def stale_rows(scores, masses, snapshot_of, distances, intercept_moves, evicted, x_norms, rounding):
    """Indices of the rows whose class may differ from the sign of their stored score:
    those of an evicted snapshot, and those whose score may have crossed 0 since their
    snapshot (see sim/evaluation.py), with `rounding` relative slack on every term."""
    out = np.empty(len(scores), np.int64)
    n = 0
    for i in range(len(scores)):
        s = snapshot_of[i]
        if evicted[s]:
            out[n] = i
            n += 1
            continue
        moved = min(
            distances[0, s] * x_norms[0, i],
            distances[1, s] * x_norms[1, i],
            distances[2, s] * x_norms[2, i],
        )
        moved = (moved + intercept_moves[s]) * (1.0 + rounding)
        # Both scores' rounding, within `rounding` of each mass (the new one at most `moved`
        # larger than the old).
        if abs(scores[i]) <= moved + rounding * (2.0 * masses[i] + moved):
            out[n] = i
            n += 1
    return out[:n]
