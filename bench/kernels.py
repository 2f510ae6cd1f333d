"""Speed and bit-identity of the sparse kernels on the paper's data (sim/learners/kernels.py).

Builds replicate 0 of experiments/paper_2019_dtr.toml as `decai run` does (25,000
bag-of-words documents x 1,000 binary presence features) and times, on one core:

- fit: `sgd_perceptron` fitted on the full-data baseline's rows (pre-training pool and
  pool, 20,000 rows), epochs until the loss stops improving: `sgd_epoch` over every row
  per epoch. ns/nonzero is the fit's time over (epochs x nonzeros of the rows): each
  epoch reads every row once (`dot`) and writes back the mistaken ones (`add_scaled`).
- scores: `scores_and_masses` of the fitted model on the test set (5,000 rows), the call
  sim/evaluation.py makes every simulated day: `linear_scores_and_masses`.

Each figure is the fastest of --repeat runs, after a warm-up call (numba compiles or loads
its cache). The sha256 lines hash the fitted weights, intercept, t and epochs, and the
test scores: they must not change when a kernel is only made faster.

    python bench/kernels.py [--repeat N] [--save FILE.npz] [--compare FILE.npz]

--save writes the fitted weights, scores and masses; --compare checks them against a
saved file: weights and scores equal to the bit, masses (an error bound, free in their
last bits) not below the saved ones by more than 1e-15 relative.
"""

import argparse
import hashlib
import os
import time
from pathlib import Path

# One core: pin BLAS to one thread before numpy loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from sim.experiment import Experiment  # noqa: E402
from sim.features import Features  # noqa: E402
from sim.registry import learner_class  # noqa: E402
from sim.simulation import make_split  # noqa: E402


def sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def nonzeros(X: Features) -> int:
    return int((X.indptr[X.rows + 1] - X.indptr[X.rows]).sum())


def fastest(call, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed fits (best of)")
    parser.add_argument("--score-repeat", type=int, default=200, help="timed scorings (best of)")
    parser.add_argument("--save", help="write weights, scores and masses to this .npz")
    parser.add_argument("--compare", help="check weights, scores and masses against this .npz")
    args = parser.parse_args()

    paper = Path(__file__).resolve().parents[1] / "experiments" / "paper_2019_dtr.toml"
    cfg = Experiment.from_file(str(paper), []).points[0][1]
    split = make_split(cfg, 0)
    X = Features.stack([split.X_init, split.X_pool])
    y = np.concatenate([split.y_init, split.y_pool])
    make = learner_class("sgd_perceptron")

    learner = make(X.n_features, 2)
    learner.fit(X, y, np.random.default_rng(1))  # warm-up: compile or load the cache

    def fit() -> None:
        nonlocal learner
        learner = make(X.n_features, 2)
        learner.fit(X, y, np.random.default_rng(1))

    fit_s = fastest(fit, args.repeat)
    visited = learner.n_iter * nonzeros(X)
    print(f"fit: {len(y)} rows x {X.n_features} features, {nonzeros(X) / len(y):.1f} nnz/row")
    print(f"fit: {learner.n_iter} epochs, {fit_s:.4f} s, {fit_s / visited * 1e9:.3f} ns/nonzero")

    X_test = split.X_test
    scores, masses = learner.scores_and_masses(X_test)  # warm-up
    score_s = fastest(lambda: learner.scores_and_masses(X_test), args.score_repeat)
    print(
        f"scores: {len(X_test)} rows, {score_s * 1e3:.4f} ms, "
        f"{score_s / nonzeros(X_test) * 1e9:.3f} ns/nonzero"
    )

    w, b = learner.coefficients()
    state = np.array([b, learner.t, float(learner.n_iter)])
    print(f"sha256 fit: {sha256(w, state)}")
    print(f"sha256 scores: {sha256(scores)}")

    if args.save:
        np.savez(args.save, w=w, state=state, scores=scores, masses=masses)
    if args.compare:
        saved = np.load(args.compare)
        assert np.array_equal(saved["w"].view(np.int64), w.view(np.int64)), "weights differ"
        assert np.array_equal(saved["state"].view(np.int64), state.view(np.int64)), "state differs"
        assert np.array_equal(saved["scores"].view(np.int64), scores.view(np.int64)), "scores"
        low = saved["masses"] * (1.0 - 1e-15)
        assert (masses >= low).all(), "masses below the saved bound"
        worst = np.max(np.abs(masses - saved["masses"]) / np.maximum(saved["masses"], 1e-300))
        print(f"compare: identical weights and scores; masses within {worst:.3g} relative")


if __name__ == "__main__":
    main()
