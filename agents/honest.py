"""Honest contributors: correct labels (but for rare mistakes), prompt refunds, reports."""

from agents.base import Contributor
from sim.registry import register_behaviour


@register_behaviour
class Honest(Contributor):
    kind = "honest"
    description = "labels correctly but for mistake_rate; reclaims deposits; reports bad data"
    reports_bad_data = True
    takes_leftovers = True

    def choose_label(self, sample: int, true_label: int) -> int:
        if self.mistake_rate and self.model.rng.random() < self.mistake_rate:
            return self.model.wrong_label(true_label)
        return true_label

    def wants_to_contribute(self) -> bool:
        """As in the paper: more willing the better the model (accuracy + 0.15)."""
        return self.model.rng.random() < self.model.accuracy + 0.15
