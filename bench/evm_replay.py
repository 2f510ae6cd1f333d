"""EVM transactions per second: the calls of a cross-checked run, replayed on the EVM alone.

    python bench/evm_replay.py [CONFIG]      # default: experiments/evm_check.toml

Runs the config's first replicate with `chain = "evm"` (every call on both sides, compared),
then deploys the contracts afresh from the same pre-trained model and balances and sends
the same transactions again, timed, with nothing compared. Prints the cross-checked
run's calls per second, then `evm_transactions_per_second: N`.
"""

import sys
import time
from pathlib import Path

from sim.evm.trainer import EvmTrainer
from sim.experiment import Experiment
from sim.simulation import build_model, make_split

DEFAULT = Path(__file__).resolve().parent.parent / "experiments" / "evm_check.toml"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    config = Experiment.from_file(path, ["experiment.chain=evm"]).points[0][1]
    model = build_model(config, make_split(config, 0), 0)
    pretrained = model.contract.learner.copy()
    balances = dict(model.ledger.balances)  # every account is open once the model is built
    tic = time.perf_counter()
    model.run()
    checked = time.perf_counter() - tic
    first = model.contract.cross_check.evm
    rate = len(first.sent) / checked
    print(f"cross-checked run: {len(first.sent)} calls in {checked:.1f} s ({rate:.0f} calls/s)")

    replay = EvmTrainer(
        model.contract.mechanism.params, pretrained, balances, max_features=first.max_features
    )
    tic = time.perf_counter()
    for call, sender, when, arguments, value in first.sent:
        replay._call(call, sender, when, *arguments, value=value)
    seconds = time.perf_counter() - tic
    same = all(replay.balance(name) == first.balance(name) for name in balances)
    print(f"replayed {len(first.sent)} transactions in {seconds:.1f} s; same balances: {same}")
    print(f"evm_transactions_per_second: {len(first.sent) / seconds:.0f}")


if __name__ == "__main__":
    main()
