"""Adversarial contributors: submit wrong labels to corrupt the shared model."""

from agents.base import Contributor
from sim.registry import register_behaviour


@register_behaviour
class Adversarial(Contributor):
    kind = "adversarial"
    description = "attacks the model with wrong labels, spending its own budget"
    strategies = {"label_flip": "submits a wrong label drawn at random"}

    def choose_label(self, sample: int, true_label: int) -> int:
        return self.model.wrong_label(true_label)
