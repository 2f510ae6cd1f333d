"""Gamified: points instead of money (Harris & Waggoner 2019, section on gamification).

Adds are free and train the model at once; no call ever moves a unit of money (each is
still logged as a transaction). After `refund_window_days` the submitter may have a
contribution validated: if the model still predicts its label, the submitter earns
`points_per_validation` (the mechanism's verified good contribution). After the same
window anyone but the submitter may report a contribution the model disagrees with and
earns `points_per_report`.

Decisions:
- A contribution is judged at most once: validated (by its submitter) or reported (by
  the first successful reporter), never both. One report per contribution in total, not
  one per reporter, so a crowd piling onto one bad add cannot multiply its points.
- Reporting needs no validated contribution of one's own (no money is at stake, so DTR's
  skin-in-the-game rule has nothing to protect).
- After `expiry_window_days` an unjudged contribution can no longer be validated or
  reported. Points then reflect the model's judgement soon after the add, not one made
  much later by a model that attacks may have bent to agree; and a run can tell when
  nothing is left to judge (`settled`).
- Badges are the thresholds of `badge_thresholds` an account's points have reached.
"""

from collections import Counter

from pydantic import Field, model_validator

from sim.chain import DAY, Contribution
from sim.ledger import Rejected, Transfer
from sim.mechanism import AwardsPoints, Mechanism
from sim.params import KeyedError, Params, require_longer
from sim.registry import register_mechanism

MAX_POINTS_PER_ACTION = 10**9
"""The most points one validation or report earns: with at most sim.limits.MAX_EVENTS
actions a run, an account's points stay far inside a 64-bit integer."""


class GamifiedParams(Params):
    refund_window_days: float = Field(
        1.0, ge=0, description="wait before a contribution can be validated or reported"
    )
    expiry_window_days: float = Field(
        9.0, gt=0, description="after this an unjudged contribution can no longer earn points"
    )
    points_per_validation: int = Field(
        10,
        ge=0,
        le=MAX_POINTS_PER_ACTION,
        description="points to the submitter when the model still agrees",
    )
    points_per_report: int = Field(
        5,
        ge=0,
        le=MAX_POINTS_PER_ACTION,
        description="points to the first reporter of data the model disagrees with",
    )
    badge_thresholds: list[int] = Field(
        default_factory=lambda: [100, 500, 1000, 5000],
        description="points at which badges are awarded (increasing, positive)",
    )

    @model_validator(mode="after")
    def _check(self):
        require_longer(self, "expiry_window_days", than="refund_window_days")
        thresholds = self.badge_thresholds
        if any(threshold <= 0 for threshold in thresholds):
            raise KeyedError("badge_thresholds", f"must be positive, got {thresholds}")
        if any(low >= high for low, high in zip(thresholds, thresholds[1:], strict=False)):
            raise KeyedError("badge_thresholds", f"must be strictly increasing, got {thresholds}")
        return self


@register_mechanism
class Gamified(Mechanism, AwardsPoints):
    kind = "gamified"
    description = "points, no money: validated data and successful reports earn points, badges"
    Params = GamifiedParams
    explore = {
        "refund_window_days": (0, 7, 0.5),
        "expiry_window_days": (1, 30, 0.5),
        "points_per_validation": (0, 100, 1),
    }

    def __init__(self, params: GamifiedParams):
        super().__init__(params)
        self.refund_window = params.refund_window_days * DAY
        self.expiry_window = params.expiry_window_days * DAY
        self._points: Counter[str] = Counter()
        self.validated: Counter[str] = Counter()
        """Validated contributions per account."""
        self.reported: Counter[str] = Counter()
        """Successful reports per account."""
        self.participants: set[str] = set()
        """Accounts that added data or reported: the leaderboard's rows."""
        self.judged_by: dict[int, str] = {}
        """Per judged contribution id, who judged it: its submitter, who validated it, or
        the reporter who reported it (never the submitter)."""

    # Views.
    def add_cost(self, now: float) -> int:
        return 0

    def refund_opens(self, contribution: Contribution) -> float:
        return contribution.time + self.refund_window

    def report_opens(self, contribution: Contribution) -> float:
        return contribution.time + self.refund_window

    def expires(self, contribution: Contribution) -> float:
        """When an unjudged contribution stops being open to validation or reports."""
        return contribution.time + self.expiry_window

    def judged(self, contribution: Contribution) -> bool:
        """Validated or reported: it can earn no more points."""
        return contribution.id in self.judged_by

    def reportable(self, contribution: Contribution) -> bool:
        """Whether a report could still earn points (before the model's and time's checks)."""
        return not self.judged(contribution)

    def claimable(self, contribution: Contribution) -> bool:
        """Whether a validation could still earn points (no deposit is ever held)."""
        return not self.judged(contribution)

    def settled(self, now: float) -> bool:
        """No contribution is left that could still earn points."""
        contributions = self.contract.contributions if self.contract else []
        return all(self.judged(c) or now >= self.expires(c) for c in contributions)

    def verified(self, account: str) -> int:
        return self.validated[account]

    def points(self, account: str) -> int:
        return self._points[account]

    def badges(self, account: str) -> list[int]:
        """The badge thresholds `account`'s points have reached, lowest first."""
        return badges_for(self._points[account], self.params.badge_thresholds)

    def leaderboard(self) -> list[tuple[str, int]]:
        """(account, points) of every participant, most points first, ties by name."""
        return sorted(
            ((account, self._points[account]) for account in self.participants),
            key=lambda row: (-row[1], row[0]),
        )

    # Calls: check everything, then change state; never any transfer.
    def add_data(
        self, sender: str, value: int, contribution: Contribution, now: float
    ) -> tuple[Transfer, ...]:
        if value != 0:
            raise Rejected(f"the gamified mechanism takes no deposits (sent {value})")
        self.participants.add(sender)
        return ()

    def refund(self, sender: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        """Validate one's own contribution: points if the model still agrees."""
        if sender != contribution.sender:
            raise Rejected("only the submitter may validate a contribution")
        self._check_open(contribution, now)
        if not self.contract.agrees(contribution):
            raise Rejected("the model does not predict the submitted label")
        self.judged_by[contribution.id] = sender
        self.validated[sender] += 1
        self._points[sender] += self.params.points_per_validation
        return ()

    def report(self, reporter: str, contribution: Contribution, now: float) -> tuple[Transfer, ...]:
        """Report someone else's contribution the model disagrees with: points, once."""
        if reporter == contribution.sender:
            raise Rejected("you cannot report your own contribution")
        self._check_open(contribution, now)
        if self.contract.agrees(contribution):
            raise Rejected("the model agrees with the reported contribution")
        self.judged_by[contribution.id] = reporter
        self.participants.add(reporter)
        self.reported[reporter] += 1
        self._points[reporter] += self.params.points_per_report
        return ()

    def _check_open(self, contribution: Contribution, now: float) -> None:
        """Reject unless the contribution is unjudged and inside its window; checks only."""
        judge = self.judged_by.get(contribution.id)
        if judge == contribution.sender:
            raise Rejected(f"contribution {contribution.id} was already validated")
        if judge is not None:
            raise Rejected(f"contribution {contribution.id} was already reported by {judge}")
        if now < self.refund_opens(contribution):
            raise Rejected("the refund window has not passed")
        if now >= self.expires(contribution):
            raise Rejected(f"contribution {contribution.id} has expired")

    def summary(self) -> dict[str, float]:
        accounts = self._points
        return {
            "verified_contributions": sum(self.validated.values()),
            "reported_contributions": sum(self.reported.values()),
            "total_points": sum(accounts.values()),
            "badges_awarded": sum(len(self.badges(account)) for account in accounts),
        }


def badges_for(points: int, thresholds: list[int]) -> list[int]:
    """The thresholds `points` has reached, lowest first."""
    return [threshold for threshold in thresholds if points >= threshold]
