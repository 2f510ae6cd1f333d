"""The incentive-mechanism interface the contract delegates to.

A mechanism decides what each contract call costs and pays. Every call first checks all
of its conditions (raising `Rejected`, having changed nothing), then changes the
mechanism's own state and returns the transfers the contract commits as one transaction.
A contribution's record (`sim.chain.Contribution`) never changes: what becomes of it is
the mechanism's own state, kept by contribution id.

The core is what every mechanism answers: what an add costs, how much of a deposit is
still held, when claims open, whether anything is left to settle, and the calls. A
mechanism with more to show declares a capability, such as `AwardsPoints`.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from sim.chain import Contribution
from sim.ledger import Rejected, Transfer
from sim.params import Params

if TYPE_CHECKING:
    from sim.contract import CollaborativeTrainer


class Mechanism(ABC):
    kind: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[Params]] = Params
    trains_on_add: ClassVar[bool] = True
    """Whether an accepted add updates the model at once."""
    takes_prediction_fees: ClassVar[bool] = False
    """Whether using the model costs a fee (else predictions are free)."""
    evm_contract: ClassVar[str | None] = None
    """The Vyper contract in contracts/ that runs this mechanism's rules on an EVM (for
    `experiment.chain = "evm"`), if there is one."""
    explore: ClassVar[dict[str, tuple[float, float, float]]] = {}
    """Its main parameters, each with the (low, high, step) worth exploring: `decai
    dashboard` gives each a slider (a config's own value widens the range to include it)."""
    calls: ClassVar[tuple[str, ...]] = ()
    """Names of the mechanism's own contract calls (methods with the signature
    `(sender, value, now, **arguments) -> transfers`), sent with `contract.call`."""

    def __init__(self, params: Params):
        self.params = params
        self.contract: CollaborativeTrainer | None = None

    def attach(self, contract: "CollaborativeTrainer") -> None:
        self.contract = contract

    # Views: free to call, change nothing.
    def add_cost(self, now: float) -> int | None:
        """The least deposit an add needs now; None when no add is possible right now."""
        return 0

    def held(self, contribution: Contribution) -> int:
        """Units the contract still holds for this contribution (0 once all is paid out)."""
        return 0

    def refund_opens(self, contribution: Contribution) -> float | None:
        """When the submitter may first reclaim this deposit (None: never)."""
        return None

    def report_opens(self, contribution: Contribution) -> float | None:
        """When others may first report this contribution (None: never)."""
        return None

    def take_all_opens(self, contribution: Contribution) -> float | None:
        """When anyone may take what is left of this deposit (None: never)."""
        return None

    def claimable(self, contribution: Contribution) -> bool:
        """Whether the submitter's refund call could still pay or earn anything."""
        return self.held(contribution) > 0

    def reportable(self, contribution: Contribution) -> bool:
        """Whether a report of this contribution could still pay or earn anything."""
        return self.held(contribution) > 0

    def settled(self, now: float) -> bool:
        """Whether nothing is left for a later call to settle (besides escrow)."""
        return True

    # Calls: check, then change state, then return the transfers.
    @abstractmethod
    def add_data(
        self, sender: str, value: int, contribution: Contribution, now: float
    ) -> tuple[Transfer, ...]:
        """Accept `contribution` (its `deposit` is the call's value) or raise `Rejected`."""

    def refund(self, sender: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        raise Rejected(f"the {self.kind} mechanism has no refunds")

    def report(self, reporter: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        raise Rejected(f"the {self.kind} mechanism has no reports")

    def predict(self, sender: str, value: int, now: float) -> tuple[Transfer, ...]:
        if value:
            raise Rejected(f"the {self.kind} mechanism takes no prediction fees")
        return ()

    def operator(self) -> dict[str, object] | None:
        """The keys of an agent group (name, kind, count, ...) that the model adds to run
        the mechanism, e.g. a bounty provider; its kind may be `internal`."""
        return None

    def summary(self) -> dict[str, float]:
        """Mechanism-specific figures for the results."""
        return {}


class AwardsPoints(ABC):
    """A capability: the mechanism rewards with points (and badges) rather than money.
    The results then carry each account's points and a final leaderboard, and agents
    that care about points respond to them."""

    @abstractmethod
    def points(self, account: str) -> int:
        """Points earned by `account`."""

    @abstractmethod
    def badges(self, account: str) -> list[int]:
        """Badge thresholds `account` has reached, lowest first."""

    @abstractmethod
    def leaderboard(self) -> list[tuple[str, int]]:
        """(account, points) of every participant, most points first."""


def points_of(mechanism: Mechanism) -> Callable[[str], int]:
    """`account -> points`: the mechanism's own where it awards points, else always 0."""
    return mechanism.points if isinstance(mechanism, AwardsPoints) else _no_points


def _no_points(account: str) -> int:
    return 0
