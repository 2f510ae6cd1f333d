"""Prediction market: Abernethy & Frongillo (2011) as Harris & Waggoner (2019) adapt it.

A bounty provider pays a bounty and commits to a hidden test set, cut into portions, by
their sha256 hashes. The contract draws one portion that must be revealed (and match its
hash) before anyone may contribute, so contributors see what the test data looks like.
Contributors then stake on each contribution; the model is not trained meanwhile. Once the
market may end, the provider ends it and reveals the other portions, each checked against
its hash. The contract replays the contributions in order onto a copy of the pre-trained
model and pays from the bounty for every test sample a contribution makes the model get
right, from its stake for every one it makes it get wrong.

Phases, each call checked against them:

    initialization --initialize_market, reveal_portion(the drawn one)--> participation
    participation  --add_data ..., end_market (after min_length_days or
                     min_contributions)-----------------------------------> reveal
    reveal         --reveal_portion(every other one)----------------------> reward
    reward         --process_rewards----------------------------------------> collection
    collection     --refund (own balance, once); report (anyone's unclaimed balance,
                     after claim_window_days)

Money stays exact. A contribution's score is the change in the number of test samples the
model predicts correctly (an integer). A round pays every contribution still in the market
its score times `price = bounty / (total_rounds * test samples)` units: the model cannot
fix more samples than there are, so a round costs the bounty at most bounty / total_rounds
and the rounds can never overdraw it. Rounds are played in exact fractions (the first stake
to run out reaches exactly zero), so payouts depend on the bounty, not on how it is cut
into rounds: `total_rounds` only sets the unit rounds are counted in. Balances are exact
fractions during the replay; at the end each account's balance is floored to whole units.
The rounding dust (under one unit an account), whatever the bounty did not spend and the
stakes lost beyond the rewards go back to the provider. So bounty + stakes = balances owed
+ the provider's return, to the unit, and each balance is paid out once.
"""

import hashlib
import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

import numpy as np
from pydantic import Field

from sim.chain import DAY, Contribution
from sim.features import Features
from sim.ledger import Rejected, Transfer
from sim.limits import MAX_MONEY
from sim.mechanism import Mechanism
from sim.params import Params
from sim.registry import register_mechanism


class PredictionMarketParams(Params):
    bounty: int = Field(10_000, gt=0, le=MAX_MONEY, description="units the bounty provider pays in")
    test_samples: int | None = Field(
        None,
        ge=2,
        description="samples of the bounty provider's own test set, set aside from the end of "
        "the contribution pool (default: as many as the evaluation test set)",
    )
    test_portions: int = Field(
        10, ge=2, description="portions the provider's test set is committed in; one is shown early"
    )
    min_stake: int = Field(
        10,
        ge=1,
        le=MAX_MONEY,
        description="the stake a contribution pays; below it, a stake leaves the market",
    )
    allow_greater_deposit: bool = Field(
        False, description="a contribution may stake more than min_stake"
    )
    min_length_days: float = Field(
        7.0, gt=0, description="the market may end this long after it opens ..."
    )
    min_contributions: int = Field(
        100, ge=1, description="... or once it holds this many contributions"
    )
    claim_window_days: float = Field(
        7.0, gt=0, description="after the rewards, anyone may take a balance left this long"
    )
    total_rounds: int = Field(
        10,
        ge=1,
        description="rounds the bounty is cut into: only the unit rounds are counted in",
    )
    group_contributions: bool = Field(
        False, description="score, stake and remove each contributor as a whole"
    )


class Phase(StrEnum):
    INITIALIZATION = "initialization"
    PARTICIPATION = "participation"
    REVEAL = "reveal"
    REWARD = "reward"
    COLLECTION = "collection"


@dataclass(frozen=True)
class Settlement:
    """What the replay decided; `process_rewards` applies it all at once."""

    owed: dict[str, int]
    """Per account, its balance in whole units (stakes and rewards, less losses)."""
    kept: list[Contribution]
    """Contributions still in the market at the end: the contract's model learns them."""
    kicked_out: int
    kicked_out_stake: int
    rounds_used: Fraction


def commitment(X: np.ndarray, y: np.ndarray, salt: bytes) -> bytes:
    """sha256 over the salt and a canonical encoding of a test portion.

    The encoding is the shape, the rows as little-endian float64 and the labels as
    little-endian int64, so equal data always hashes alike whatever dtype it came in.
    """
    X = np.ascontiguousarray(X.toarray() if isinstance(X, Features) else X, dtype="<f8")
    y = np.ascontiguousarray(y, dtype="<i8")
    shape = np.array(X.shape, dtype="<i8")
    return hashlib.sha256(salt + shape.tobytes() + X.tobytes() + y.tobytes()).digest()


@register_mechanism
class PredictionMarket(Mechanism):
    kind = "prediction_market"
    description = "stakes scored by test accuracy gained on a committed test set; bounty-funded"
    Params = PredictionMarketParams
    explore = {
        "bounty": (1_000, 100_000, 1_000),
        "min_stake": (1, 1_000, 1),
        "min_length_days": (1, 30, 0.5),
    }
    trains_on_add = False
    calls = ("initialize_market", "reveal_portion", "end_market", "process_rewards")
    commitment = staticmethod(commitment)

    def __init__(self, params: PredictionMarketParams):
        super().__init__(params)
        self.min_length = params.min_length_days * DAY
        self.claim_window = params.claim_window_days * DAY
        self.phase = Phase.INITIALIZATION
        self.provider: str | None = None
        self.commitments: tuple[bytes, ...] = ()
        self.first_portion: int | None = None
        """The portion the contract drew to be revealed before participation opens."""
        self.portions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        """Revealed portions (rows, labels) by index."""
        self.opened_at: float | None = None
        self.rewarded_at: float | None = None
        self.owed: dict[str, int] = {}
        """Per account, what the market still owes it (zeroed when paid out)."""
        self.first_id: dict[str, int] = {}
        """Per account, the id of its first contribution: after the rewards that one holds
        the account's balance (the market pays accounts), the others nothing."""
        self.paid_out: set[str] = set()
        """Accounts whose balance was paid out, to their owner or to a claimer."""
        self.settlement: Settlement | None = None
        self.provider_return = 0

    def operator(self) -> dict[str, object]:
        return {
            "name": "bounty_provider",
            "kind": "bounty_provider",
            "count": 1,
            "start_balance": self.params.bounty,
            "mean_wait_hours": 1.0,
        }

    # Views.
    def add_cost(self, now: float) -> int | None:
        return self.params.min_stake if self.phase is Phase.PARTICIPATION else None

    def held(self, contribution: Contribution) -> int:
        """The stake until the rewards; then the account's balance, on its first contribution."""
        if self.phase is not Phase.COLLECTION:
            return contribution.deposit
        if self.first_id[contribution.sender] != contribution.id:
            return 0
        return self.owed.get(contribution.sender, 0)

    def end_by_length(self) -> float | None:
        """When the market may end whatever its number of contributions."""
        return None if self.opened_at is None else self.opened_at + self.min_length

    def can_end(self, now: float) -> bool:
        return self.phase is Phase.PARTICIPATION and (
            now >= self.end_by_length()
            or len(self.contract.contributions) >= self.params.min_contributions
        )

    def refund_opens(self, contribution: Contribution) -> float | None:
        """When rewards were processed; before that, the time the market may end by length.

        No view can know when the provider will end the market. The shipped provider
        (agents/bounty_provider.py) settles it at that time at the latest, so a claim sent
        then succeeds; a claim sent before the rewards are processed is rejected.
        """
        return self.rewarded_at if self.rewarded_at is not None else self.end_by_length()

    def take_all_opens(self, contribution: Contribution) -> float | None:
        """`claim_window_days` after the rewards; None (not yet known) before them."""
        return None if self.rewarded_at is None else self.rewarded_at + self.claim_window

    # The provider's calls.
    def initialize_market(
        self, sender: str, value: int, now: float, commitments, rng: np.random.Generator
    ) -> tuple[Transfer, ...]:
        """Take the bounty and the test-portion hashes; draw the portion shown first.

        `rng` stands in for the chain's randomness (a future block hash): the simulation
        passes the model's generator, which keeps runs reproducible.
        """
        if self.phase is not Phase.INITIALIZATION or self.provider is not None:
            raise Rejected("the market is already initialised")
        if value != self.params.bounty:
            raise Rejected(f"the bounty is {self.params.bounty} units, got {value}")
        commitments = tuple(commitments)
        if len(commitments) != self.params.test_portions or any(
            not isinstance(h, bytes) or len(h) != 32 for h in commitments
        ):
            raise Rejected(f"expected {self.params.test_portions} sha256 hashes")
        self.contract.ledger.require(sender, value)
        self.provider = sender
        self.commitments = commitments
        self.first_portion = int(rng.integers(len(commitments)))
        return ((sender, self.contract.address, value),)

    def reveal_portion(
        self, sender: str, value: int, now: float, index: int, X, y, salt: bytes
    ) -> tuple[Transfer, ...]:
        """Reveal one committed test portion: the drawn one first, the others after the end."""
        self._provider_call(sender, value)
        if self.phase is Phase.INITIALIZATION and self.provider is not None:
            if index != self.first_portion:
                raise Rejected(f"portion {self.first_portion} must be revealed first")
        elif self.phase is Phase.REVEAL:
            if index in self.portions or not 0 <= index < len(self.commitments):
                raise Rejected(f"portion {index} is not one still to reveal")
        else:
            raise Rejected(f"no portion can be revealed in the {self.phase} phase")
        y = np.asarray(y)
        learner = self.contract.learner
        try:
            X = Features.from_array(X)
        except (ValueError, TypeError):
            X = None  # not a 2-D numeric array
        if X is None or X.n_features != learner.n_features or y.shape != (len(X),) or not len(y):
            raise Rejected(f"portion {index} is not a non-empty set of labelled samples")
        if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= learner.n_classes:
            raise Rejected(f"portion {index} holds labels outside 0..{learner.n_classes - 1}")
        if not isinstance(salt, bytes) or commitment(X, y, salt) != self.commitments[index]:
            raise Rejected(f"portion {index} does not match its hash")
        self.portions[index] = (X, y.copy())  # Features are read-only: no copy needed
        if self.phase is Phase.INITIALIZATION:
            self.phase, self.opened_at = Phase.PARTICIPATION, now
        elif len(self.portions) == len(self.commitments):
            self.phase = Phase.REWARD
        return ()

    def end_market(self, sender: str, value: int, now: float) -> tuple[Transfer, ...]:
        self._provider_call(sender, value)
        if self.phase is not Phase.PARTICIPATION:
            raise Rejected(f"the market cannot end in the {self.phase} phase")
        if not self.can_end(now):
            raise Rejected(
                f"the market may end after {self.params.min_length_days} days or "
                f"{self.params.min_contributions} contributions"
            )
        self.phase = Phase.REVEAL
        return ()

    def process_rewards(self, sender: str, value: int, now: float) -> tuple[Transfer, ...]:
        """Replay and pay (anyone may send it): settle every balance, train the model on
        the contributions that stayed, and return the rest of the bounty to the provider."""
        if value:
            raise Rejected("process_rewards takes no payment")
        if self.phase is not Phase.REWARD:
            raise Rejected(f"rewards cannot be processed in the {self.phase} phase")
        settlement = self._settle()
        self.settlement = settlement
        self.owed = dict(settlement.owed)
        stakes = sum(c.deposit for c in self.contract.contributions)
        self.provider_return = self.params.bounty + stakes - sum(self.owed.values())
        learner, samples = self.contract.learner, self.contract.samples
        for contribution in settlement.kept:
            learner.update(samples[contribution.sample], contribution.label)
        self.phase, self.rewarded_at = Phase.COLLECTION, now
        if not self.provider_return:
            return ()
        return ((self.contract.address, self.provider, self.provider_return),)

    def _provider_call(self, sender: str, value: int) -> None:
        if self.provider is None or sender != self.provider:
            raise Rejected("only the bounty provider may send this call")
        if value:
            raise Rejected("this call takes no payment")

    # Contributors' calls.
    def add_data(
        self, sender: str, value: int, contribution: Contribution, now: float
    ) -> tuple[Transfer, ...]:
        if self.phase is not Phase.PARTICIPATION:
            raise Rejected(f"contributions are not accepted in the {self.phase} phase")
        if value < self.params.min_stake:
            raise Rejected(f"stake {value} is below the required {self.params.min_stake}")
        if value > self.params.min_stake and not self.params.allow_greater_deposit:
            raise Rejected(f"the stake must be exactly {self.params.min_stake}")
        self.contract.ledger.require(sender, value)
        self.first_id.setdefault(sender, contribution.id)
        return ((sender, self.contract.address, value),)

    def refund(self, sender: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        """Withdraw the whole balance the market owes the sender (once; any of its ids)."""
        if self.phase is not Phase.COLLECTION:
            raise Rejected("the rewards have not been processed")
        if sender != contribution.sender:
            raise Rejected("only the contributor withdraws its own balance")
        return self._pay_out(contribution.sender, sender)

    def report(self, reporter: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        """After the claim window, anyone takes a balance its owner left unclaimed."""
        if self.phase is not Phase.COLLECTION:
            raise Rejected("the rewards have not been processed")
        if now < self.take_all_opens(contribution):
            raise Rejected("the claim window has not passed")
        return self._pay_out(contribution.sender, reporter)

    def _pay_out(self, account: str, payee: str) -> tuple[Transfer, ...]:
        if account in self.paid_out:
            raise Rejected(f"the balance of {account} was already paid out")
        amount = self.owed.get(account, 0)
        if not amount:
            raise Rejected(f"the market owes {account} nothing")
        self.owed[account] = 0
        self.paid_out.add(account)
        return ((self.contract.address, payee, amount),)

    # The reward: replay, pay rounds, remove the stakes that run out, repeat.
    def _settle(self) -> Settlement:
        """Pay the bounty's rounds; checks nothing and changes nothing.

        A player is a contribution, or an account with `group_contributions`. While rounds
        remain: replay the players still in the market and score each; if some score is
        negative, play the (fractional) rounds the first stake to run out can pay for, else
        all that remain; players whose balance fell below min_stake (that stake is at zero)
        leave, and the replay restarts without them.
        """
        params = self.params
        contributions = self.contract.contributions
        X, y = self._test_set()
        price = Fraction(params.bounty, params.total_rounds * len(y))
        player = [c.sender if params.group_contributions else c.id for c in contributions]
        balance: dict[str | int, Fraction] = {}
        for contribution, key in zip(contributions, player, strict=True):
            balance[key] = balance.get(key, Fraction(0)) + contribution.deposit
        staked = dict(balance)
        active = list(balance)
        rounds_left = Fraction(params.total_rounds)
        while rounds_left and active:
            playing = set(active)
            replayed = [(c, k) for c, k in zip(contributions, player, strict=True) if k in playing]
            gains = self._replay([c for c, _ in replayed], X, y)
            score = dict.fromkeys(active, 0)
            for (_, key), gain in zip(replayed, gains, strict=True):
                score[key] += int(gain)
            losing = [k for k in active if score[k] < 0]
            rounds = min([rounds_left, *(balance[k] / (price * -score[k]) for k in losing)])
            for key in active:
                balance[key] += score[key] * price * rounds
            rounds_left -= rounds
            leaving = {k for k in losing if balance[k] < params.min_stake}
            active = [k for k in active if k not in leaving]
        owed: dict[str, Fraction] = {}
        for key, amount in balance.items():
            account = key if params.group_contributions else contributions[key].sender
            owed[account] = owed.get(account, Fraction(0)) + amount
        still_in = set(active)
        kicked_out = [k for k in balance if k not in still_in]
        return Settlement(
            owed={account: math.floor(amount) for account, amount in owed.items()},
            kept=[c for c, k in zip(contributions, player, strict=True) if k in still_in],
            kicked_out=len(kicked_out),
            kicked_out_stake=int(sum(staked[k] for k in kicked_out)),
            rounds_used=params.total_rounds - rounds_left,
        )

    def _replay(self, contributions: list[Contribution], X, y) -> np.ndarray:
        """Per contribution, the change in correctly predicted test samples when they are
        learned in order by a copy of the pre-trained model (the contract's, untouched)."""
        model = self.contract.learner.copy()
        samples = self.contract.samples
        correct = np.empty(len(contributions) + 1, dtype=np.int64)
        correct[0] = np.count_nonzero(model.predict_many(X) == y)
        for step, contribution in enumerate(contributions, 1):
            model.update(samples[contribution.sample], contribution.label)
            correct[step] = np.count_nonzero(model.predict_many(X) == y)
        return np.diff(correct)

    def _test_set(self) -> tuple[Features, np.ndarray]:
        order = sorted(self.portions)
        return (
            Features.stack([self.portions[i][0] for i in order]),
            np.concatenate([self.portions[i][1] for i in order]),
        )

    def summary(self) -> dict[str, float]:
        s = self.settlement
        stakes = sum(c.deposit for c in self.contract.contributions)
        return {
            "bounty_paid": float(sum(s.owed.values()) - stakes) if s else 0.0,
            "stakes_kicked_out": float(s.kicked_out) if s else 0.0,
            "kicked_out_stake": float(s.kicked_out_stake) if s else 0.0,
            "rounds_used": float(s.rounds_used) if s else 0.0,
        }
