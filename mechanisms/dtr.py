"""Deposit, Refund, Take (DTR): the self-assessment mechanism of Harris & Waggoner (2019).

Each add pays a deposit that grows when adds come fast. After the refund window the
submitter gets it back if the model still agrees with the label (one verified good
contribution); otherwise contributors with verified good data take it in proportion to
their verified count; after the take window anyone takes what is left.
"""

import math
from collections import Counter

from pydantic import Field, model_validator

from sim.chain import DAY, Contribution
from sim.ledger import Rejected, Transfer
from sim.limits import MAX_MONEY
from sim.mechanism import Mechanism
from sim.params import Params, require_longer
from sim.registry import register_mechanism


class DTRParams(Params):
    cost_weight: float = Field(1.0, gt=0, le=MAX_MONEY, description="scale of the deposit formula")
    min_deposit: int = Field(
        1, ge=1, le=MAX_MONEY, description="the least deposit an add ever needs"
    )
    refund_window_days: float = Field(1.0, ge=0, description="wait before refunds and reports")
    take_window_days: float = Field(9.0, gt=0, description="after this anyone takes what is left")

    @model_validator(mode="after")
    def _take_after_refund(self):
        require_longer(self, "take_window_days", than="refund_window_days")
        return self


@register_mechanism
class DepositRefundTake(Mechanism):
    kind = "dtr"
    description = "Deposit, Refund, Take: deposits refunded when the model agrees, else taken"
    takes_prediction_fees = True
    evm_contract = "DepositRefundTake"
    Params = DTRParams
    explore = {
        "cost_weight": (0.5, 100, 0.5),
        "refund_window_days": (0, 7, 0.5),
        "take_window_days": (1, 30, 0.5),
    }

    def __init__(self, params: DTRParams):
        super().__init__(params)
        self.refund_window = params.refund_window_days * DAY
        self.take_window = params.take_window_days * DAY
        self.last_add = 0.0
        self.good: Counter[str] = Counter()
        self.total_good = 0
        self.remaining: list[int] = []
        """Per contribution id, what is left of its deposit."""
        self.refunded: set[int] = set()
        """Ids of contributions whose submitter was refunded."""
        self.reporters: dict[int, set[str]] = {}
        """Per contribution id, who took a reporter's share of its deposit."""

    def add_cost(self, now: float) -> int | None:
        """max(min_deposit, cost_weight * 60 / sqrt(seconds since the last accepted add))."""
        since_last = now - self.last_add
        if since_last <= 0:
            return None
        cost = int(self.params.cost_weight * 60 / math.sqrt(since_last))
        return max(self.params.min_deposit, cost)

    def held(self, contribution: Contribution) -> int:
        return self.remaining[contribution.id]

    def refund_opens(self, contribution: Contribution) -> float:
        return contribution.time + self.refund_window

    def report_opens(self, contribution: Contribution) -> float:
        return contribution.time + self.refund_window

    def take_all_opens(self, contribution: Contribution) -> float:
        return contribution.time + self.take_window

    def verified(self, account: str) -> int:
        return self.good[account]

    def add_data(
        self, sender: str, value: int, contribution: Contribution, now: float
    ) -> tuple[Transfer, ...]:
        cost = self.add_cost(now)
        if cost is None:
            raise Rejected("no time has passed since the last accepted add")
        if value < cost:
            raise Rejected(f"deposit {value} is below the required {cost}")
        self.contract.ledger.require(sender, value)
        self.remaining.append(value)
        self.last_add = now
        return ((sender, self.contract.address, value),)

    def refund(self, sender: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        if sender != contribution.sender:
            raise Rejected("only the submitter may refund a contribution")
        if contribution.id in self.refunded:
            raise Rejected(f"contribution {contribution.id} was already refunded")
        amount = self.remaining[contribution.id]
        if amount == 0:
            raise Rejected(f"nothing is left of the deposit of contribution {contribution.id}")
        if now < self.refund_opens(contribution):
            raise Rejected("the refund window has not passed")
        if not self.contract.agrees(contribution):
            raise Rejected("the model does not predict the submitted label")
        self.remaining[contribution.id] = 0
        self.refunded.add(contribution.id)
        self.good[sender] += 1
        self.total_good += 1
        return ((self.contract.address, sender, amount),)

    def report(self, reporter: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        left = self.remaining[contribution.id]
        if left == 0:
            raise Rejected(f"nothing is left of the deposit of contribution {contribution.id}")
        if now >= self.take_all_opens(contribution):
            amount = left
        else:
            amount = min(self._reporter_share(reporter, contribution, now), left)
            self.reporters.setdefault(contribution.id, set()).add(reporter)
        self.remaining[contribution.id] = left - amount
        return ((self.contract.address, reporter, amount),)

    def _reporter_share(self, reporter: str, contribution: Contribution, now: float) -> int:
        """deposit * good(reporter) / good(all); checks only."""
        if reporter == contribution.sender:
            raise Rejected("you cannot take your own deposit inside the take window")
        if reporter in self.reporters.get(contribution.id, ()):
            raise Rejected(f"{reporter} already reported contribution {contribution.id}")
        if now < self.report_opens(contribution):
            raise Rejected("the refund window has not passed")
        if self.good[reporter] == 0:
            raise Rejected(f"{reporter} has no verified good contribution")
        if self.contract.agrees(contribution):
            raise Rejected("the model agrees with the reported contribution")
        share = contribution.deposit * self.good[reporter] // self.total_good
        if share == 0:
            raise Rejected(f"{reporter}'s share of this deposit rounds to zero")
        return share

    def predict(self, sender: str, value: int, now: float) -> tuple[Transfer, ...]:
        """Share the fee among verified contributors; the rounding remainder goes to fees."""
        self.contract.ledger.require(sender, value)
        if value == 0:
            return ()
        if self.total_good == 0:
            return ((sender, self.contract.fee_sink, value),)
        shares = tuple(
            (sender, account, value * good // self.total_good)
            for account, good in self.good.items()
        )
        paid = sum(amount for _, _, amount in shares)
        return (*shares, (sender, self.contract.fee_sink, value - paid))

    def summary(self) -> dict[str, float]:
        return {"verified_contributions": self.total_good}
