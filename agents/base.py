"""Base classes of every agent: `Account` (acts at its own random times) and
`Contributor` (claims what it is owed, then perhaps submits data).

A contributor kind differs only in its hooks: what it submits (`next_submission`,
`choose_label`), whether it wants to contribute now, when it claims its deposits
(`claim_delay`), and whether it reports others' bad data.
"""

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import mesa

from sim.chain import Contribution
from sim.ledger import Rejected
from sim.params import Params

if TYPE_CHECKING:
    from sim.config import AgentGroup
    from sim.datasets import Split


class Account(mesa.Agent):
    """An account holder in the ledger who acts at its own random times."""

    kind: ClassVar[str]
    description: ClassVar[str]
    strategies: ClassVar[dict[str, str]] = {}
    """Strategy name -> one-line description; the first is the default."""
    Params: ClassVar[type[Params]] = Params
    """The kind's own config keys."""
    internal: ClassVar[bool] = False
    """Added by its mechanism (`Mechanism.operator`), never by a config's agent groups;
    an internal kind gets no columns in summary.csv."""
    colour: ClassVar[str] = "gray"
    """The colour of the kind's lines and boxes in plots (a matplotlib colour)."""
    order: ClassVar[int] = 100
    """Where the kind's columns in summary.csv and its plot legend entries come among
    kinds (lower first; ties by name)."""

    def __init__(self, model, name: str, group: "AgentGroup"):
        super().__init__(model)
        self.name = name
        self.group = group.name
        self.strategy = group.strategy
        self.params = group.params()
        self.start_balance = group.start_balance
        self.contract = model.contract
        mean_wait = group.mean_wait_hours * 3600
        self._wait = (mean_wait, mean_wait * group.wait_jitter)
        model.ledger.open_account(name, group.start_balance)

    @classmethod
    def default_strategy(cls) -> str | None:
        return next(iter(cls.strategies), None)

    @classmethod
    def check_params(cls, strategy: str | None, params: Params) -> None:
        """Checks that need the strategy too; raise `KeyedError(key, message)`."""

    @classmethod
    def watched_classes(cls, group: "AgentGroup") -> set[int]:
        """Classes the group aims at, whose own test accuracy the run samples too."""
        return set()

    @classmethod
    def check_data(cls, group: "AgentGroup", split: "Split", mechanism: Params) -> None:
        """Checks that need the data (its classes, the sizes of its split) or the
        mechanism's parameters; raise `KeyedError(key, message)` naming the config key.
        They run before anything is built on the data, and when a config is checked."""

    @property
    def balance(self) -> int:
        return self.model.ledger.balances[self.name]

    def start(self) -> None:
        self.schedule_act(after=self.next_wait())

    def schedule_act(self, **when) -> None:
        """Act `after` seconds or `at` a time (and `priority`), as Mesa's `schedule_event`.

        The event's callback is the agent itself (`__call__`): Mesa holds callbacks weakly,
        and a bound method's `WeakMethod` took a fifth of the per-event loop, where the
        agent's own weak reference costs next to nothing (bench/dtr_throughput.py)."""
        self.model.schedule_event(self, **when)

    def __call__(self) -> None:
        self.act()

    def next_wait(self) -> float:
        """Whole seconds (as block timestamps are) until the next action, at least one."""
        mean, std = self._wait
        return max(1.0, round(self.model.rng.normal(mean, std)))

    def act(self) -> None:
        self.schedule_act(after=self.next_wait())

    def _try(self, call, *args) -> None:
        """Send a call that may revert (the rules are the contract's to enforce)."""
        try:
            call(self.name, *args)
        except Rejected:  # reverted, having changed nothing: the agent goes on
            return


class Contributor(Account):
    reports_bad_data: ClassVar[bool] = False
    """Reports contributions the model disagrees with once their refund window has passed."""
    takes_leftovers: ClassVar[bool] = False
    """Takes what is left of anyone's deposit after the take window (else only its own)."""

    def __init__(self, model, name: str, group: "AgentGroup"):
        super().__init__(model, name, group)
        self._deposit_limit = (group.mean_deposit, group.mean_deposit * group.deposit_spread)
        mechanism = self.contract.mechanism
        self._claims: list[tuple[float, int]] = []  # (when to claim, contribution id), a heap
        self._to_report = WindowCursor(mechanism.report_opens)
        self._to_take = WindowCursor(mechanism.take_all_opens)

    def act(self) -> None:
        now = self.model.time
        self.reclaim_deposits(now)
        if self.reports_bad_data:
            self.report_bad_data(now)
        self.take_leftovers(now)
        if self.wants_to_contribute():
            self.contribute(now)
        self.schedule_act(after=self.next_wait())

    # Behaviour hooks.
    def next_submission(self) -> tuple[int, int, bool] | None:
        """(sample id, label, whether it is the pool's next fresh sample), or None."""
        if not self.model.pool_left():
            return None
        sample, true_label = self.model.peek_sample()
        return sample, self.choose_label(sample, true_label), True

    def choose_label(self, sample: int, true_label: int) -> int:
        raise NotImplementedError

    def wants_to_contribute(self) -> bool:
        return True

    def claims_deposits(self) -> bool:
        """Whether it ever asks for its own deposits back (refunds and own leftovers)."""
        return True

    def claim_delay(self) -> float:
        """Seconds after its refund window opens that it asks for a deposit back."""
        return 0.0

    # Contract interactions.
    def contribute(self, now: float) -> None:
        """Submit data if the deposit asked is within what it will pay."""
        cost = self.contract.mechanism.add_cost(now)
        if cost is None or cost > self.balance:
            return
        mean, std = self._deposit_limit
        if cost > self.model.rng.normal(mean, std):
            return
        submission = self.next_submission()
        if submission is None:
            return
        sample, label, fresh = submission
        try:
            contribution = self.contract.add_data(self.name, cost, sample, label)
        except Rejected:
            return
        if fresh:
            self.model.take_sample()
        opens = self.contract.mechanism.refund_opens(contribution)
        if opens is not None and self.claims_deposits():
            heapq.heappush(self._claims, (opens + self.claim_delay(), contribution.id))

    def reclaim_deposits(self, now: float) -> None:
        """Ask once for each refund when its claim time comes; the model must agree then.

        A deposit the model disagrees with is not retried: it stays for reporters, and
        what they leave is taken back after the take window (`take_leftovers`). A window
        that has moved since the add (a market that settles later) is waited for again.
        """
        claims = self._claims
        contributions = self.contract.contributions
        mechanism = self.contract.mechanism
        while claims and claims[0][0] <= now:
            _, contribution_id = heapq.heappop(claims)
            contribution = contributions[contribution_id]
            opens = mechanism.refund_opens(contribution)
            if opens is not None and opens > now:
                heapq.heappush(claims, (opens, contribution_id))
            elif mechanism.claimable(contribution):
                self._try(self.contract.refund, contribution_id)

    def report_bad_data(self, now: float) -> None:
        """Report each other's contribution the model disagrees with when reports open."""
        for contribution in self._to_report.due(self.contract.contributions, now):
            if (
                contribution.sender != self.name
                and self.contract.mechanism.reportable(contribution)
                and not self.contract.agrees(contribution)
            ):
                self._try(self.contract.report, contribution.id)

    def take_leftovers(self, now: float) -> None:
        """After the take window, take what is left of deposits (others' only if a taker)."""
        claims_own = self.claims_deposits()
        held = self.contract.mechanism.held
        for contribution in self._to_take.due(self.contract.contributions, now):
            if not held(contribution):
                continue
            own = contribution.sender == self.name
            if self.takes_leftovers or (own and claims_own):
                self._try(self.contract.report, contribution.id)


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
