"""Compiled loops over sparse rows, shared by the learners (numba, cached on disk).

Every sum runs over a row's nonzero values in column order, one addition at a time, as a
contract's loop (and scikit-learn's SGD) would: the result does not depend on a BLAS
library's blocking, so it is the same on every machine. A learner calls these once per
prediction or update, and once per pass over a set of rows, where a Python loop over
thousands of rows per epoch would cost seconds.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def dot(w, indices, values):
    """w · x for a row x given by its nonzero (indices, values)."""
    total = 0.0
    for k in range(len(indices)):
        total += w[indices[k]] * values[k]
    return total


@njit(cache=True)
def add_scaled(w, indices, values, scale):
    """w += x * scale for a row x given by its nonzero (indices, values)."""
    for k in range(len(indices)):
        w[indices[k]] += values[k] * scale


@njit(cache=True)
def linear_scores(w, bias, indptr, indices, values, rows):
    """w · x + bias for each row id in `rows`."""
    out = np.empty(len(rows))
    for i in range(len(rows)):
        start, end = indptr[rows[i]], indptr[rows[i] + 1]
        out[i] = dot(w, indices[start:end], values[start:end]) + bias
    return out


@njit(cache=True)
def linear_scores_and_masses(w, bias, indptr, indices, values, rows):
    """`linear_scores`, and for each row the mass sum |w_j x_j| + |bias| that bounds the
    score's rounding error."""
    scores = np.empty(len(rows))
    masses = np.empty(len(rows))
    for i in range(len(rows)):
        score = mass = 0.0
        for k in range(indptr[rows[i]], indptr[rows[i] + 1]):
            term = w[indices[k]] * values[k]
            score += term  # `dot`'s sum, term by term
            mass += abs(term)
        scores[i] = score + bias
        masses[i] = mass + abs(bias)
    return scores, masses


@njit(cache=True)
def class_dots(W, indices, values, positive_only):
    """W @ x for one row x: one dot per class (row of W). With `positive_only`, x is
    binarized first (value > 0 counts as 1, anything else as 0)."""
    out = np.zeros(W.shape[0])
    for c in range(W.shape[0]):
        total = 0.0
        for k in range(len(indices)):
            if positive_only:
                if values[k] > 0:
                    total += W[c, indices[k]]
            else:
                total += W[c, indices[k]] * values[k]
        out[c] = total
    return out


@njit(cache=True)
def class_dots_many(W, indptr, indices, values, rows, positive_only):
    """`class_dots` for each row id in `rows`: shape (len(rows), n_classes)."""
    out = np.empty((len(rows), W.shape[0]))
    for i in range(len(rows)):
        start, end = indptr[rows[i]], indptr[rows[i] + 1]
        out[i] = class_dots(W, indices[start:end], values[start:end], positive_only)
    return out


@njit(cache=True)
def class_sums(indptr, indices, values, rows, y, n_classes, n_features, positive_only):
    """Per class, the column sums of its rows (with `positive_only`, counts of values > 0),
    as float64 (exact for integer sums below 2**53)."""
    out = np.zeros((n_classes, n_features))
    for i in range(len(rows)):
        r = rows[i]
        c = y[i]
        for k in range(indptr[r], indptr[r + 1]):
            if positive_only:
                if values[k] > 0:
                    out[c, indices[k]] += 1.0
            else:
                out[c, indices[k]] += values[k]
    return out


@njit(cache=True)
def sgd_step(w, intercept, t, alpha, t0, indices, values, sign):
    """One perceptron-loss SGD step (see SGDPerceptron) on the row x = (indices, values)
    with sign +1/-1. Returns (intercept, t, the sample's loss before the step); `w` is
    updated in place."""
    margin = sign * (dot(w, indices, values) + intercept)
    loss = 0.0
    if margin <= 0:
        step = sign / (alpha * (t0 + t - 1))
        add_scaled(w, indices, values, step)
        intercept += step
        loss = 0.0 - margin
    return intercept, t + 1.0, loss


@njit(cache=True)
def sgd_epoch(w, intercept, t, alpha, t0, indptr, indices, values, rows, signs, order):
    """`sgd_step` on rows[order], in that order. Returns (intercept, t, summed loss)."""
    total = 0.0
    for i in order:
        start, end = indptr[rows[i]], indptr[rows[i] + 1]
        intercept, t, loss = sgd_step(
            w, intercept, t, alpha, t0, indices[start:end], values[start:end], signs[i]
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
