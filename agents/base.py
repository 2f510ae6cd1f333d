"""`Contributor`: an account holder who acts at its own random times.

At each action it first claims what it is owed (refunds, and whatever its kind takes),
then perhaps submits the next sample of the shared data stream, then schedules its next
action. Kinds differ only in the hooks: which label they submit, whether they want to
contribute now, and whether they report others' bad data.
"""

from collections import deque
from contextlib import suppress
from typing import TYPE_CHECKING, ClassVar

import mesa

from sim.ledger import Rejected

if TYPE_CHECKING:
    from sim.config import AgentGroup


class Contributor(mesa.Agent):
    kind: ClassVar[str]
    description: ClassVar[str]
    strategies: ClassVar[dict[str, str]] = {}
    """Strategy name -> one-line description; the first is the default."""
    reports_bad_data: ClassVar[bool] = False
    """Reports contributions the model disagrees with once their refund window has passed."""
    takes_leftovers: ClassVar[bool] = False
    """Takes what is left of anyone's deposit after the take window (else only its own)."""

    def __init__(self, model, name: str, group: "AgentGroup"):
        super().__init__(model)
        self.name = name
        self.group = group.name
        self.strategy = group.strategy
        self.start_balance = group.start_balance
        self.mistake_rate = group.mistake_rate
        self.contract = model.contract
        self._deposit_limit = (group.mean_deposit, group.mean_deposit * group.deposit_spread)
        self._wait = (
            group.mean_wait_hours * 3600,
            group.mean_wait_hours * 3600 * group.wait_jitter,
        )
        self._awaiting_refund: deque[int] = deque()
        self._report_cursor = 0
        self._take_cursor = 0
        self.added = 0
        model.ledger.open_account(name, group.start_balance)

    @classmethod
    def default_strategy(cls) -> str | None:
        return next(iter(cls.strategies), None)

    @property
    def balance(self) -> int:
        return self.model.ledger.balances[self.name]

    def start(self) -> None:
        self.model.schedule_event(self.act, after=self.next_wait())

    def next_wait(self) -> float:
        """Whole seconds (as block timestamps are) until the next action, at least one."""
        mean, std = self._wait
        return max(1.0, round(self.model.rng.normal(mean, std)))

    def act(self) -> None:
        now = self.model.time
        self.reclaim_deposits(now)
        if self.reports_bad_data:
            self.report_bad_data(now)
        self.take_leftovers(now)
        if self.model.pool_left() and self.wants_to_contribute():
            self.contribute(now)
        self.model.schedule_event(self.act, after=self.next_wait())

    # Behaviour hooks.
    def choose_label(self, sample: int, true_label: int) -> int:
        raise NotImplementedError

    def wants_to_contribute(self) -> bool:
        return True

    # Contract interactions.
    def contribute(self, now: float) -> None:
        """Submit the next pool sample if the deposit asked is within what it will pay."""
        cost = self.contract.mechanism.add_cost(now)
        if cost is None or cost > self.balance:
            return
        mean, std = self._deposit_limit
        if cost > self.model.rng.normal(mean, std):
            return
        sample, true_label = self.model.peek_sample()
        try:
            contribution = self.contract.add_data(
                self.name, cost, sample, self.choose_label(sample, true_label)
            )
        except Rejected:
            return
        self.model.take_sample()
        self.added += 1
        if (
            contribution.remaining
            and self.contract.mechanism.refund_opens(contribution) is not None
        ):
            self._awaiting_refund.append(contribution.id)

    def reclaim_deposits(self, now: float) -> None:
        """Ask once for each refund when its window opens; the model must agree then.

        A deposit the model disagrees with is not retried: it stays for reporters, and
        what they leave is taken back after the take window (`take_leftovers`).
        """
        contributions = self.contract.contributions
        refund_opens = self.contract.mechanism.refund_opens
        pending = self._awaiting_refund
        while pending and refund_opens(contributions[pending[0]]) <= now:
            self._try(self.contract.refund, pending.popleft())

    def report_bad_data(self, now: float) -> None:
        """Report each other's contribution the model disagrees with when reports open."""
        contributions = self.contract.contributions
        report_opens = self.contract.mechanism.report_opens
        while self._report_cursor < len(contributions):
            contribution = contributions[self._report_cursor]
            opens = report_opens(contribution)
            if opens is None:
                self._report_cursor = len(contributions)
                return
            if opens > now:
                return
            self._report_cursor += 1
            if (
                contribution.sender != self.name
                and contribution.remaining
                and not self.contract.agrees(contribution)
            ):
                self._try(self.contract.report, contribution.id)

    def take_leftovers(self, now: float) -> None:
        """After the take window, take what is left of deposits (others' only if a taker)."""
        contributions = self.contract.contributions
        take_all_opens = self.contract.mechanism.take_all_opens
        while self._take_cursor < len(contributions):
            contribution = contributions[self._take_cursor]
            opens = take_all_opens(contribution)
            if opens is None:
                self._take_cursor = len(contributions)
                return
            if opens > now:
                return
            self._take_cursor += 1
            if contribution.remaining and (
                self.takes_leftovers or contribution.sender == self.name
            ):
                self._try(self.contract.report, contribution.id)

    def _try(self, call, contribution_id: int) -> None:
        """Send a call that may revert (the rules are the contract's to enforce)."""
        with suppress(Rejected):
            call(self.name, contribution_id)
