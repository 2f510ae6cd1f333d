"""The incentive-mechanism interface the contract delegates to.

A mechanism decides what each contract call costs and pays. Every method first checks
all of its conditions (raising `Rejected`, having changed nothing), then changes its own
state and returns the transfers the contract commits as one transaction.
"""

from abc import ABC, abstractmethod
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

    def refund_opens(self, contribution: Contribution) -> float | None:
        """When the submitter may first reclaim this deposit (None: never)."""
        return None

    def report_opens(self, contribution: Contribution) -> float | None:
        """When others may first report this contribution (None: never)."""
        return None

    def take_all_opens(self, contribution: Contribution) -> float | None:
        """When anyone may take what is left of this deposit (None: never)."""
        return None

    def verified(self, account: str) -> int:
        """Verified good contributions of `account`."""
        return 0

    def badges(self, account: str) -> list[int]:
        """Badge thresholds `account` has reached (gamified mechanisms)."""
        return []

    def leaderboard(self) -> list[tuple[str, int]]:
        """(account, points) of every participant, most points first (gamified)."""
        return []

    def claimable(self, contribution: Contribution) -> bool:
        """Whether the submitter's refund call could still pay or earn anything."""
        return contribution.remaining > 0

    def reportable(self, contribution: Contribution) -> bool:
        """Whether a report of this contribution could still pay or earn anything."""
        return contribution.remaining > 0

    def settled(self, now: float) -> bool:
        """Whether nothing is left for a later call to settle (besides escrow)."""
        return True

    def points(self, account: str) -> int:
        """Points earned by `account` (gamified mechanisms; 0 where money is the reward)."""
        return 0

    # Calls: check, then change state, then return the transfers.
    @abstractmethod
    def add_data(
        self, sender: str, value: int, contribution: Contribution, now: float
    ) -> tuple[Transfer, ...]: ...

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
