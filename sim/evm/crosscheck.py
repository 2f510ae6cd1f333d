"""The same calls to the Python contract and to the EVM, compared after every transaction."""

import re
from dataclasses import dataclass, field
from typing import Any

from mechanisms.dtr import DepositRefundTake, DTRParams
from sim.contract import CollaborativeTrainer
from sim.evm.chain import INSUFFICIENT_FUNDS, Receipt, block_time
from sim.evm.trainer import EvmTrainer, bound_for, features_of
from sim.features import Features, Row
from sim.learners.perceptron import Perceptron
from sim.ledger import Ledger, Rejected

REASONS = (
    ("no_contribution", r"no contribution with"),
    ("bad_label", r"is not a class"),
    ("same_second", r"no time has passed"),
    ("deposit_too_small", r"below the required"),
    ("funds", r"units, needs|" + INSUFFICIENT_FUNDS),
    ("not_submitter", r"only the submitter"),
    ("already_refunded", r"already refunded"),
    ("nothing_left", r"nothing is left"),
    ("window", r"refund window has not passed"),
    ("model_disagrees", r"does not predict"),
    ("own_deposit", r"cannot take your own deposit"),
    ("already_reported", r"already reported"),
    ("not_verified", r"no verified good contribution"),
    ("model_agrees", r"model agrees"),
    ("share_zero", r"rounds to zero"),
)
"""(key, pattern): one rule's rejection, as both the Python contract's message and the
Vyper revert reason word it (the contracts' reasons are written to match)."""


def reason_key(message: str) -> str:
    """The rule a rejection message names (`other: ...` for one no rule names)."""
    for key, pattern in REASONS:
        if re.search(pattern, message):
            return key
    return f"other: {message}"


class Mismatch(AssertionError):
    """The Python contract and the EVM disagree: at transaction `index` (0 = the first
    call), `call` by `sender`, in `field` (of `account`, where one is concerned)."""

    def __init__(self, index, call, sender, time, field, account, python, evm):
        self.index, self.call, self.sender, self.time = index, call, sender, time
        self.field, self.account, self.python, self.evm = field, account, python, evm
        of = f" of {account!r}" if account is not None else ""
        super().__init__(
            f"transaction {index} ({call} by {sender!r} at t={time}): {field}{of} differs: "
            f"python {python!r}, evm {evm!r}"
        )


@dataclass
class Outcome:
    """One call as both sides did it: the Python result (or rejection reason) and the
    EVM receipt."""

    index: int
    call: str
    accepted: bool
    reason: str | None
    result: Any
    receipt: Receipt = field(repr=False)


class CrossCheck:
    """The same calls to a Python `CollaborativeTrainer` (DTR, `perceptron`) and to the
    contracts on the EVM, compared after every transaction: accepted or rejected (and by
    which rule), the return value, every account's balance (the trainer's is the escrow;
    the other contracts must hold nothing), the touched contribution's record, verified
    counts, every weight and the bias; before an add, the required deposit too; and, when
    the model has changed, its predictions on `test_rows` (after every call, or only when
    `compare_model` is called). A difference raises `Mismatch` naming the transaction, the
    call, the account and the field.

    Made before the first call, once every account is open: the EVM's accounts get the
    ledger's balances and its classifier the Python learner's (pre-trained) weights."""

    def __init__(
        self,
        python: CollaborativeTrainer,
        test_rows: Features | None = None,
        predictions_each_call: bool = True,
    ) -> None:
        """Every call compares every weight and the bias; `predictions_each_call=False`
        leaves the test predictions to `compare_model`, at each evaluation."""
        self.now = 0
        """The time of the call being checked (a standalone contract's clock reads it)."""
        self.python = python
        self.ledger, self.mechanism = python.ledger, python.mechanism
        self.learner, self.samples = python.learner, python.samples
        self.features = [features_of(self.samples[i]) for i in range(len(self.samples))]
        rows = test_rows if test_rows is not None else ()
        self.test_rows = [rows[i] for i in range(len(rows))]
        self.test_features = [features_of(row) for row in self.test_rows]
        bound = bound_for(self.features + self.test_features)
        self.evm = EvmTrainer(
            self.mechanism.params, self.learner, dict(self.ledger.balances), max_features=bound
        )
        self.predictions_each_call = predictions_each_call
        self.outcomes: list[Outcome] = []
        self._model_compared: tuple | None = None

    @classmethod
    def standalone(
        cls,
        params: DTRParams,
        learner: Perceptron,
        samples: Features,
        balances: dict[str, int],
        test_rows: Features | None = None,
    ) -> "CrossCheck":
        """A Python contract of its own, on a strict ledger, training a copy of `learner`;
        its clock is the time each call is checked at."""
        ledger = Ledger(strict=True)
        for name, balance in balances.items():
            ledger.open_account(name, balance)
        python = CollaborativeTrainer(
            ledger, learner.copy(), DepositRefundTake(params), samples, clock=lambda: check.now
        )
        check = cls(python, test_rows)
        return check

    # -- the calls (each through the base class's rules, so that a subclass of the
    # contract can route its own calls here: sim/evm/mirror.py) -----------------------

    def add_data(self, sender: str, value: int, sample: int, label: int, time: int) -> Outcome:
        time = block_time(time)
        self._compare_add_cost("add_data", sender, time)
        return self._run(
            "add_data",
            sender,
            time,
            lambda: CollaborativeTrainer.add_data(self.python, sender, value, sample, label).id,
            lambda: self.evm.add_data(sender, value, self.features[sample], label, time),
        )

    def refund(self, sender: str, contribution_id: int, time: int) -> Outcome:
        features = self._features_of(contribution_id)
        return self._run(
            "refund",
            sender,
            time,
            lambda: CollaborativeTrainer.refund(self.python, sender, contribution_id),
            lambda: self.evm.refund(sender, contribution_id, features, time),
            contribution_id,
        )

    def report(self, sender: str, contribution_id: int, time: int) -> Outcome:
        features = self._features_of(contribution_id)
        contributions = self.python.contributions
        take = 0 <= contribution_id < len(contributions) and time >= (
            self.mechanism.take_all_opens(contributions[contribution_id])
        )
        return self._run(
            "report",
            sender,
            time,
            lambda: CollaborativeTrainer.report(self.python, sender, contribution_id),
            lambda: self.evm.report(sender, contribution_id, features, time, take=take),
            contribution_id,
        )

    def predict(self, sender: str, value: int, x: int | Row, time: int) -> Outcome:
        """Use the model on pool sample `x`, or on a row of features."""
        row = self.samples[x] if isinstance(x, int) else x
        return self._run(
            "predict",
            sender,
            time,
            lambda: CollaborativeTrainer.predict(self.python, sender, value, row),
            lambda: self.evm.predict(sender, value, features_of(row), time),
        )

    def _features_of(self, contribution_id: int) -> list[int]:
        """The features a client sends to refund or report a contribution (those of its
        sample; none for an id the registry does not have)."""
        if 0 <= contribution_id < len(self.python.contributions):
            return self.features[self.python.contributions[contribution_id].sample]
        return []

    # -- the comparison ------------------------------------------------------------------

    def _run(self, call, sender, time, python_call, evm_call, contribution_id=None) -> Outcome:
        index = len(self.outcomes)
        time = block_time(time)
        self.now = time
        try:
            result, reason = python_call(), None
        except Rejected as rejection:
            result, reason = None, str(rejection)
        receipt = evm_call()
        outcome = Outcome(index, call, reason is None, reason, result, receipt)
        self.outcomes.append(outcome)
        check = self._checker(index, call, sender, time)
        check("accepted", outcome.accepted, receipt.ok)
        if not receipt.ok:
            python_key, evm_key = reason_key(reason), reason_key(receipt.reason)
            # The EVM refuses an unpayable value before running anything; the Python
            # contract may name an earlier rule first.
            if evm_key != "funds":
                check("rejection reason", python_key, evm_key)
        else:
            check("result", result, receipt.output)
        for name in self.ledger.balances:
            check("balance", self.ledger[name], self.evm.balance(name), name)
        for name, address in self.evm.parts().items():
            check("balance", 0, self.evm.chain.balance(address), name)
        if contribution_id is not None and 0 <= contribution_id < len(self.python.contributions):
            self._compare_contribution(check, contribution_id, sender)
        check(
            "verified contributions",
            self.mechanism.verified(sender),
            self.evm.verified(sender),
            sender,
        )
        check("total verified contributions", self.mechanism.total_good, self.evm.total_verified())
        self._compare_model(check, predictions=self.predictions_each_call)
        return outcome

    def compare_model(self) -> None:
        """Every weight, the bias and (if the model changed since) the test predictions."""
        self._compare_model(self._checker(len(self.outcomes) - 1, "evaluation", None, self.now))

    def _compare_add_cost(self, call: str, sender: str, time: int) -> None:
        check = self._checker(len(self.outcomes), call, sender, time)
        check("required deposit", self.mechanism.add_cost(time), self.evm.add_cost(time))

    @staticmethod
    def _checker(index: int, call: str, sender: str | None, time: int):
        """`check(field, python, evm, account=None)`: raise `Mismatch` for this transaction
        where the two sides differ."""

        def check(field, python, evm, account=None):
            if python != evm:
                raise Mismatch(index, call, sender, time, field, account, python, evm)

        return check

    def _compare_contribution(self, check, contribution_id: int, sender: str) -> None:
        mine = self.python.contributions[contribution_id]
        theirs = self.evm.contribution(contribution_id)
        check("submitter", self.evm.chain.address(mine.sender), theirs.sender)
        check("remaining deposit", self.mechanism.remaining[contribution_id], theirs.remaining)
        check("refunded", contribution_id in self.mechanism.refunded, theirs.refunded)
        check("deposit", mine.deposit, theirs.deposit)
        check("label", mine.label, theirs.label)
        check("time", mine.time, theirs.time)
        reported = sender in self.mechanism.reporters.get(contribution_id, ())
        check("reported", reported, self.evm.reported(contribution_id, sender), sender)

    def _compare_model(self, check, predictions: bool = True) -> None:
        """Every weight and the bias; then, if `predictions` and the model changed since
        they were last compared, the predictions on the test rows."""
        weights = self.evm.weights()
        python_weights = [int(w) for w in self.learner.weights]
        if weights != python_weights:
            first = next(
                i for i, (a, b) in enumerate(zip(python_weights, weights, strict=True)) if a != b
            )
            check(f"weight {first}", python_weights[first], weights[first])
        bias = self.evm.bias()
        check("bias", int(self.learner.bias), bias)
        if not predictions or (weights, bias) == self._model_compared:
            return  # or the same model on both sides as last time: the same predictions
        for i, (row, features) in enumerate(zip(self.test_rows, self.test_features, strict=True)):
            check(
                f"prediction on test row {i}",
                self.learner.predict(row),
                self.evm.model_predicts(features),
            )
        self._model_compared = (weights, bias)
