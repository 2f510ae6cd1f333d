"""`Contributor`: an account holder who acts at its own random times.

At each action it first claims what it is owed (refunds, and whatever its kind takes),
then perhaps submits the next sample of the shared data stream, then schedules its next
action. Kinds differ only in the hooks: which label they submit, whether they want to
contribute now, and whether they report others' bad data.
"""

from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, ClassVar

import mesa

from sim.contract import Contribution
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
        mechanism = self.contract.mechanism
        self._awaiting_refund: deque[int] = deque()
        self._to_report = WindowCursor(mechanism.report_opens)
        self._to_take = WindowCursor(mechanism.take_all_opens)
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
        for contribution in self._to_report.due(self.contract.contributions, now):
            if (
                contribution.sender != self.name
                and contribution.remaining
                and not self.contract.agrees(contribution)
            ):
                self._try(self.contract.report, contribution.id)

    def take_leftovers(self, now: float) -> None:
        """After the take window, take what is left of deposits (others' only if a taker)."""
        for contribution in self._to_take.due(self.contract.contributions, now):
            if contribution.remaining and (
                self.takes_leftovers or contribution.sender == self.name
            ):
                self._try(self.contract.report, contribution.id)

    def _try(self, call, contribution_id: int) -> None:
        """Send a call that may revert (the rules are the contract's to enforce)."""
        with suppress(Rejected):
            call(self.name, contribution_id)


class WindowCursor:
    """Hands out each contribution once, when its window has opened, oldest first.

    Windows open a fixed time after submission and the registry is in submission order,
    so a cursor finds what is due without scanning every open contribution.
    """

    def __init__(self, opens: Callable[[Contribution], float | None]):
        self.opens = opens
        self.index = 0

    def due(self, contributions: list[Contribution], now: float) -> list[Contribution]:
        start = self.index
        while self.index < len(contributions):
            opens = self.opens(contributions[self.index])
            if opens is None or opens > now:
                break
            self.index += 1
        return contributions[start : self.index]
