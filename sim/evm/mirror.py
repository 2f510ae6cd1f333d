"""`decai run --chain evm`: the simulation's contract, with every call also sent to the
Vyper contracts on an in-process EVM and both sides compared after each transaction.

The agents call it as they call the Python contract; the rules, the results and the
random streams are the Python contract's, so a run's results are those of the same run
without `--chain evm`, plus the gas each account paid: `gas` and `gas_<call>` (GAS_STATS)
in the contract's per-account counters, which the results carry as more columns. The
first disagreement raises `Mismatch` (one line: transaction, call, account, field), which
ends the run as a failed run.
"""

from sim.chain import Contribution
from sim.contract import CollaborativeTrainer
from sim.evm.chain import INSUFFICIENT_FUNDS
from sim.evm.crosscheck import CrossCheck, Outcome
from sim.evm.trainer import GAS_CALLS
from sim.features import Features, Row
from sim.ledger import Rejected

GAS_STATS = ("gas", *(f"gas_{call}" for call in GAS_CALLS))
"""Per-account counters of gas paid: in all, and per kind of call (reverted calls pay too)."""


class EvmCheckedTrainer(CollaborativeTrainer):
    """A `CollaborativeTrainer` whose calls are cross-checked on the EVM (see CrossCheck).

    The EVM is deployed at the first call, when every account is open: its accounts get
    the ledger's balances and its classifier the pre-trained weights."""

    def __init__(self, *args, test_rows: Features, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_rows = test_rows
        self._check: CrossCheck | None = None

    @property
    def cross_check(self) -> CrossCheck:
        if self._check is None:
            self._check = CrossCheck(self, self.test_rows, predictions_each_call=False)
        return self._check

    def add_data(self, sender: str, value: int, x: int, y: int) -> Contribution:
        outcome = self.cross_check.add_data(sender, value, x, y, self.clock())
        return self.contributions[self._result(sender, outcome)]

    def refund(self, sender: str, contribution_id: int) -> int:
        outcome = self.cross_check.refund(sender, contribution_id, self.clock())
        return self._result(sender, outcome)

    def report(self, sender: str, contribution_id: int) -> int:
        outcome = self.cross_check.report(sender, contribution_id, self.clock())
        return self._result(sender, outcome)

    def predict(self, sender: str, value: int, x: Row) -> int:
        outcome = self.cross_check.predict(sender, value, x, self.clock())
        return self._result(sender, outcome)

    def _result(self, sender: str, outcome: Outcome):
        """Count the gas the sender paid (unless its transaction was never mined), then
        give the Python call's result, or raise its rejection again (both sides agreed)."""
        receipt = outcome.receipt
        if receipt.reason != INSUFFICIENT_FUNDS:
            stats = self.stats[sender]
            stats["gas"] += receipt.gas
            stats[f"gas_{receipt.paid_as}"] += receipt.gas
        if not outcome.accepted:
            raise Rejected(outcome.reason)
        return outcome.result

    def audit(self) -> None:
        """At each evaluation: the predictions on the test set (and every weight again)."""
        self.cross_check.compare_model()

    def deploy_gas(self) -> int:
        """Gas of deploying the contracts and setting them up (the pre-trained weights)."""
        gas = self.cross_check.evm.gas
        return sum(gas["deploy"]) + sum(gas["setup"])
