"""`decai run --chain evm`: the simulation's contract, with every call also sent to the
Vyper contracts on an in-process EVM and both sides compared after each transaction.

The agents call it as they call the Python contract; the rules, the results and the
random streams are the Python contract's, so a run's results are those of the same run
without `--chain evm`. The first disagreement raises `Mismatch` (one line: transaction,
call, account, field), which ends the run as a failed run.
"""

from sim.chain import Contribution
from sim.contract import CollaborativeTrainer
from sim.evm.crosscheck import CrossCheck, Outcome
from sim.features import Features, Row
from sim.ledger import Rejected


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
            self._check = CrossCheck(self, self.test_rows, whole_model_each_call=False)
        return self._check

    def add_data(self, sender: str, value: int, x: int, y: int) -> Contribution:
        outcome = self.cross_check.add_data(sender, value, x, y, self.clock())
        return self.contributions[_result(outcome)]

    def refund(self, sender: str, contribution_id: int) -> int:
        return _result(self.cross_check.refund(sender, contribution_id, self.clock()))

    def report(self, sender: str, contribution_id: int) -> int:
        return _result(self.cross_check.report(sender, contribution_id, self.clock()))

    def predict(self, sender: str, value: int, x: Row) -> int:
        return _result(self.cross_check.predict(sender, value, x, self.clock()))

    def audit(self) -> None:
        """At each evaluation: every weight, the bias and the predictions on the test set."""
        self.cross_check.compare_model()


def _result(outcome: Outcome):
    """The Python call's result, or its rejection raised again (both sides agreed on it)."""
    if not outcome.accepted:
        raise Rejected(outcome.reason)
    return outcome.result
