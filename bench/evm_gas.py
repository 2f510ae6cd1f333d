"""Gas per call on the Vyper contracts (docs/evm.md).

    python bench/evm_gas.py [CONFIG] [--set KEY=VALUE ...]

First, a config (default experiments/evm_check.toml; replicate 0, with chain = "evm") run
with every call cross-checked: gas per call kind (median and range), present features per
add and the calls checked per second. Then, for each number of present features: an add
the perceptron learns from (a mistake, so every weight is written), an add it already
agrees with, the submitter's refund, a report after the take window (take-all), and a
prediction with and without a fee. The contracts are compiled for up to 256 present
features; every weight starts nonzero, as pre-trained weights are. Needs the evm extra.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from mechanisms.dtr import DTRParams
from sim.chain import DAY
from sim.evm.trainer import EvmTrainer
from sim.experiment import Experiment
from sim.learners.perceptron import Perceptron
from sim.simulation import build_model, make_split

EVM_CHECK = Path(__file__).resolve().parent.parent / "experiments" / "evm_check.toml"

N_FEATURES = 256
SIZES = (10, 50, 100, 200)


def measure(present: int) -> dict[str, int]:
    learner = Perceptron(N_FEATURES, 2)
    learner.weights = np.full(N_FEATURES, 5.0)  # nonzero before and after a step; predicts 1
    params = DTRParams(refund_window_days=1, take_window_days=2)
    balances = {"a": 10**9, "b": 10**9, "user": 10**9, "contract": 0, "fees": 0}
    evm = EvmTrainer(params, learner, balances, max_features=256)
    features = list(range(present))
    gas = {}

    def call(name, receipt):
        assert receipt.ok, f"{name}: {receipt.reason}"
        gas[name] = receipt.gas

    call("add, learns (mistake)", evm.add_data("a", 10**6, features, 0, 100))
    call("add, agrees", evm.add_data("a", 10**6, features, 1, 200))
    call("refund", evm.refund("a", 1, features, 200 + int(DAY)))
    call("report, take-all", evm.report("b", 0, features, 100 + 2 * int(DAY)))
    call("predict, free", evm.predict("user", 0, features, 300_000))
    call("predict, fee", evm.predict("user", 100, features, 300_001))
    return gas


def config_run(path: Path, overrides: list[str]) -> None:
    config = Experiment.from_file(path, [*overrides, "experiment.chain=evm"]).points[0][1]
    model = build_model(config, make_split(config, 0), 0)
    tic = time.perf_counter()
    model.run()
    seconds = time.perf_counter() - tic
    check = model.contract.cross_check
    calls = len(check.outcomes)
    print(f"{path.name}: {calls} calls checked in {seconds:.1f} s ({calls / seconds:.0f} calls/s)")
    present = [n for n, _ in check.evm.update_gas]
    print(f"present features per add: median {statistics.median(present)}, max {max(present)}")
    print("| call | mined | median gas | range |\n|---|---|---|---|")
    for kind, gas in sorted(check.evm.gas.items()):
        spread = f"{min(gas):,} - {max(gas):,}"
        print(f"| {kind} | {len(gas)} | {statistics.median(gas):,.0f} | {spread} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=EVM_CHECK)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config_run(args.config, args.set)
    rows = {size: measure(size) for size in SIZES}
    calls = list(rows[SIZES[0]])
    print("| present features | " + " | ".join(calls) + " |")
    print("|---" * (len(calls) + 1) + "|")
    for size, gas in rows.items():
        print(f"| {size} | " + " | ".join(f"{gas[call]:,}" for call in calls) + " |")


if __name__ == "__main__":
    main()
