"""The bounty provider: runs a prediction market (mechanisms/prediction_market.py).

It holds a test set of its own, pays the bounty, commits to the test set's portions by hash,
reveals the portion the contract draws, and later ends the market, reveals the rest and
has the rewards processed. It does nothing else: it never contributes or claims.

Its test set is set aside from the end of the contribution pool, so it is drawn like the
contributors' data but none of them holds it, and it is not the evaluation test set: the
market selects contributions on the provider's data, and the accuracy the results report
is measured on data the market never saw.

Its actions take precedence over contributors' at the same instant (Priority.HIGH), and
it acts at the moment the market may end by length at the latest, so the rewards are in
before any contributor's claim falls due (see `PredictionMarket.refund_opens`).
"""

import numpy as np
from mesa.time import Priority

from agents.base import Account
from sim.params import KeyedError
from sim.registry import register_behaviour


@register_behaviour
class BountyProvider(Account):
    kind = "bounty_provider"
    description = "funds a prediction market, commits to its test set and moves it along"
    internal = True  # the prediction market adds one itself; a config cannot

    def __init__(self, model, name, group):
        super().__init__(model, name, group)
        self.market = self.contract.mechanism
        size = self.test_size(model.split, self.market.params)
        self.X_test, self.y_test = model.set_aside(size)
        self.portions: list[tuple[np.ndarray, np.ndarray, bytes]] = []
        """Each portion's rows, labels and the secret salt of its hash."""

    @staticmethod
    def test_size(split, params) -> int:
        """The provider's test set: `test_samples` of the pool, or as many as the split's."""
        return params.test_samples or len(split.y_test)

    @classmethod
    def check_data(cls, group, split, mechanism) -> None:
        size, pool = cls.test_size(split, mechanism), len(split.y_pool)
        if size >= pool:
            raise KeyedError(
                "mechanism.test_samples",
                f"the provider's {size} test samples would leave nothing of the contribution "
                f"pool of {pool}",
            )
        if size < mechanism.test_portions:
            raise KeyedError(
                "mechanism.test_portions",
                f"{mechanism.test_portions} portions need at least as many test samples, "
                f"the provider's test set has {size}",
            )

    def start(self) -> None:
        self.schedule_act(at=self.model.time, priority=Priority.HIGH)

    def act(self) -> None:
        now = self.model.time
        if self.market.phase == "initialization":
            self.open_market()
        elif self.market.can_end(now):
            self.settle_market()
        if self.market.phase == "participation":
            at = min(now + self.next_wait(), self.market.end_by_length())
            self.schedule_act(at=at, priority=Priority.HIGH)

    def open_market(self) -> None:
        """Cut the test set into salted portions, commit, pay the bounty, reveal the drawn one."""
        rng = self.model.rng
        parts = np.array_split(rng.permutation(len(self.y_test)), self.market.params.test_portions)
        self.portions = [(self.X_test[part], self.y_test[part], rng.bytes(32)) for part in parts]
        hashes = [self.market.commitment(*portion) for portion in self.portions]
        self.contract.call(
            self.name,
            "initialize_market",
            self.market.params.bounty,
            commitments=hashes,
            rng=rng,
        )
        self.reveal(self.market.first_portion)

    def settle_market(self) -> None:
        self.contract.call(self.name, "end_market")
        for index in range(len(self.portions)):
            if index != self.market.first_portion:
                self.reveal(index)
        self.contract.call(self.name, "process_rewards")

    def reveal(self, index: int) -> None:
        X, y, salt = self.portions[index]
        self.contract.call(self.name, "reveal_portion", index=index, X=X, y=y, salt=salt)
