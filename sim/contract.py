"""`CollaborativeTrainer`: the smart contract holding the shared model.

It keeps the registry of contributions (by sample id, never copied feature arrays),
delegates every money rule to its mechanism and records each successful call as one
ledger transaction. A rejected call raises `Rejected` and changes nothing.
"""

from collections import Counter, defaultdict
from collections.abc import Callable

from sim.chain import Contribution
from sim.features import Features, Row
from sim.ledger import Ledger, Rejected
from sim.mechanism import Mechanism


class CollaborativeTrainer:
    def __init__(
        self,
        ledger: Ledger,
        learner,
        mechanism: Mechanism,
        samples: Features,
        clock: Callable[[], float],
        address: str = "contract",
        fee_sink: str = "fees",
    ):
        self.ledger = ledger
        self.learner = learner
        self.mechanism = mechanism
        self.samples = samples
        self.clock = clock
        self.address = address
        self.fee_sink = fee_sink
        self.contributions: list[Contribution] = []
        self.rejections: Counter[str] = Counter()
        self.stats: defaultdict[str, Counter[str]] = defaultdict(Counter)
        """Per account: adds `accepted` and `rejected`, and units `deposited`, `refunded`
        (its own deposits back, leftovers included), `taken` (from others' deposits) and
        `lost` (of its deposits, to others), `fees` (prediction fees received) and
        `predictions` (prediction calls made)."""
        for account in (address, fee_sink):
            if account not in ledger.balances:
                ledger.open_account(account)
        mechanism.attach(self)

    def agrees(self, contribution: Contribution) -> bool:
        """Whether the model now predicts the contribution's label (a free view call)."""
        return self.learner.predict(self.samples[contribution.sample]) == contribution.label

    def check_sender(self, sender: str, value: int = 0) -> None:
        """Calls come from account holders, never from the contract's own accounts (on a
        chain, a contract cannot send a transaction of its own), and send no negative
        value (a transaction's value is unsigned)."""
        if sender not in self.ledger.balances or sender in (self.address, self.fee_sink):
            raise Rejected(f"{sender!r} is not an account that may send calls")
        if value < 0:
            raise Rejected(f"a call cannot send a negative value ({value})")

    def contribution(self, contribution_id: int) -> Contribution:
        if not 0 <= contribution_id < len(self.contributions):
            raise Rejected(f"no contribution with id {contribution_id}")
        return self.contributions[contribution_id]

    def add_data(self, sender: str, value: int, x: int, y: int) -> Contribution:
        """Submit sample `x` (an index into the data pool) with label `y`, paying `value`."""
        now = self.clock()
        candidate = Contribution(len(self.contributions), x, y, sender, now, value)
        try:
            self.check_sender(sender, value)
            if not 0 <= x < len(self.samples):
                raise Rejected(f"no sample {x} in the data pool of {len(self.samples)}")
            if not 0 <= y < self.learner.n_classes:
                raise Rejected(f"label {y} is not a class (0..{self.learner.n_classes - 1})")
            transfers = self.mechanism.add_data(sender, value, candidate, now)
        except Rejected:
            self.rejections["add_data"] += 1
            self.stats[sender]["rejected"] += 1
            raise
        self.contributions.append(candidate)
        if self.mechanism.trains_on_add:
            self.learner.update(self.samples[x], y)
        self.ledger.commit(now, sender, "add_data", transfers, candidate.id)
        stats = self.stats[sender]
        stats["accepted"] += 1
        stats["deposited"] += value
        return candidate

    def audit(self) -> None:
        """Checks made at each evaluation against an outside copy of the contract (with
        `--chain evm`: sim/evm/mirror.py); nothing here."""

    def refund(self, sender: str, contribution_id: int) -> int:
        """Reclaim the deposit of one's own contribution; returns the amount paid."""
        return self._settle("refund", self.mechanism.refund, sender, contribution_id)

    def report(self, sender: str, contribution_id: int) -> int:
        """Report someone's contribution as bad and take (part of) its deposit."""
        return self._settle("report", self.mechanism.report, sender, contribution_id)

    def predict(self, sender: str, value: int, x: Row) -> int:
        """Use the model, paying a fee of `value` as the mechanism says."""
        now = self.clock()
        try:
            self.check_sender(sender, value)
            transfers = self.mechanism.predict(sender, value, now)
        except Rejected:
            self.rejections["predict"] += 1
            raise
        self.ledger.commit(now, sender, "predict", transfers)
        self.stats[sender]["predictions"] += 1
        for _, payee, amount in transfers:
            self.stats[payee]["fees"] += amount
        return self.learner.predict(x)

    def call(self, sender: str, name: str, value: int = 0, **arguments) -> None:
        """One of the mechanism's own calls (e.g. a prediction market's `end_market`)."""
        now = self.clock()
        try:
            self.check_sender(sender, value)
            if name not in self.mechanism.calls:
                raise Rejected(f"the {self.mechanism.kind} mechanism has no call {name!r}")
            transfers = getattr(self.mechanism, name)(sender, value, now, **arguments)
        except Rejected:
            self.rejections[name] += 1
            raise
        self.ledger.commit(now, sender, name, transfers)

    def _settle(self, call: str, rule, sender: str, contribution_id: int) -> int:
        now = self.clock()
        try:
            self.check_sender(sender)
            contribution = self.contribution(contribution_id)
            transfers = rule(sender, contribution, now)
        except Rejected:
            self.rejections[call] += 1
            raise
        self.ledger.commit(now, sender, call, transfers, contribution_id)
        paid = sum(amount for _, payee, amount in transfers if payee == sender)
        if contribution.sender == sender:
            self.stats[sender]["refunded"] += paid
        else:
            self.stats[sender]["taken"] += paid
            self.stats[contribution.sender]["lost"] += paid
        return paid
