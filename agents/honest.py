"""Honest contributors: correct labels (but for rare mistakes), prompt refunds, reports."""

from pydantic import Field

from agents.base import Contributor
from sim.mechanism import points_of
from sim.params import Params
from sim.registry import register_behaviour

POINTS_BONUS = 0.2
"""The most that points add to the chance of contributing at an action."""
POINTS_HALF = 100
"""Points at which half of that bonus is reached."""


class HonestParams(Params):
    mistake_rate: float = Field(0.0, ge=0, le=1, description="chance of a wrong label")


@register_behaviour
class Honest(Contributor):
    kind = "honest"
    colour = "tab:green"
    order = 0
    description = "labels correctly but for mistake_rate; reclaims deposits; reports bad data"
    Params = HonestParams
    reports_bad_data = True
    takes_leftovers = True

    def __init__(self, model, name: str, group):
        super().__init__(model, name, group)
        self._points = points_of(self.contract.mechanism)

    def choose_label(self, sample: int, true_label: int) -> int:
        mistake_rate = self.params.mistake_rate
        if mistake_rate and self.model.rng.random() < mistake_rate:
            return self.model.wrong_label(true_label)
        return true_label

    def wants_to_contribute(self) -> bool:
        """As in the paper, more willing the better the model (accuracy + 0.15), and more
        willing as its points grow where the mechanism gives points (a bonus that
        saturates at POINTS_BONUS; no points, no bonus)."""
        points = self._points(self.name)
        bonus = POINTS_BONUS * points / (points + POINTS_HALF)
        return self.model.rng.random() < self.model.accuracy + 0.15 + bonus
