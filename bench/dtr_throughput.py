"""Throughput of the per-event loop on the paper-shaped DTR run (Harris & Waggoner 2019).

Synthetic IMDB-shaped data (25,000 x 1,000 binary features), perceptron, DTR with a
1-day refund and 9-day take window, 8% pre-training; one honest contributor (deposit
about 50, every ~10 minutes, mistake rate 1e-4) and one label-flip attacker (about 100,
every ~60 minutes), until the pool is used up.

    python bench/dtr_throughput.py [--replicate R] [--model KIND]

The last line is `contributions_per_second: N`: accepted contributions divided by the
wall time of `model.run()`, the per-event loop (data generation and building the model,
pre-training included, are timed and printed separately), fastest of --repeat runs,
with BLAS pinned to one thread.
"""

import argparse
import os
import resource
import time

# One core: pin BLAS to one thread before numpy loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from sim.config import validate  # noqa: E402
from sim.simulation import build_model, full_data_accuracy, make_split  # noqa: E402

PAPER_RUN = {
    "experiment": {"name": "bench", "seed": 0, "duration_days": 400, "eval_every_hours": 24},
    "data": {
        "dataset": "synthetic",
        "n_samples": 25_000,
        "n_features": 1_000,
        "binary": True,
        "initial_fraction": 0.08,
        "test_fraction": 0.2,
    },
    "mechanism": {"kind": "dtr", "refund_window_days": 1, "take_window_days": 9},
    "agents": [
        {
            "name": "honest",
            "kind": "honest",
            "start_balance": 10_000,
            "mean_deposit": 50,
            "mean_wait_hours": 1 / 6,
            "mistake_rate": 1e-4,
        },
        {
            "name": "attacker",
            "kind": "adversarial",
            "strategy": "label_flip",
            "start_balance": 10_000,
            "mean_deposit": 100,
            "mean_wait_hours": 1,
        },
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicate", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="report the fastest of N runs")
    parser.add_argument("--model", default="perceptron", help="model.kind (default perceptron)")
    args = parser.parse_args()
    replicate = args.replicate
    config = validate({**PAPER_RUN, "model": {"kind": args.model}}, "bench")

    tic = time.perf_counter()
    split = make_split(config, replicate)
    print(
        f"data: {split.n_features} features, pool {len(split.y_pool)}, "
        f"test {len(split.y_test)}, generated in {time.perf_counter() - tic:.2f} s"
    )

    walls, builds = [], []
    for _ in range(args.repeat):
        tic = time.perf_counter()
        model = build_model(config, split, replicate)
        builds.append(time.perf_counter() - tic)
        tic = time.perf_counter()
        model.run()
        walls.append(time.perf_counter() - tic)
    wall = min(walls)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    contributions = len(model.contract.contributions)
    print(
        f"processed contributions: {contributions} "
        f"(transactions {len(model.ledger.log)}, rejected calls "
        f"{sum(model.contract.rejections.values())})"
    )
    print(f"simulated days: {model.time / 86400:.1f}")
    print(f"model build (pre-training included): {min(builds):.2f} s")
    print(f"wall time of the run: {wall:.2f} s (fastest of {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"peak memory (max RSS of the process): {peak / 2**20:.0f} MiB")
    print(
        f"accuracy: initial {model.initial_accuracy:.4f}, final {model.accuracy:.4f}, "
        f"full data {full_data_accuracy(config, split, replicate):.4f}"
    )
    for agent in model.agents:
        change = agent.balance - agent.start_balance
        share = 100 * agent.balance / agent.start_balance
        print(f"{agent.name}: balance change {change:+d} ({share:.1f}% of start)")
    print(f"contributions_per_second: {contributions / wall:.0f}")


if __name__ == "__main__":
    main()
