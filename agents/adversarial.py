"""Adversarial contributors: submit wrong labels to corrupt the shared model."""

from pydantic import Field

from agents.base import Contributor
from sim.params import Params
from sim.registry import register_behaviour


class AdversarialParams(Params):
    target_class: int | None = Field(None, ge=0, description="targeted: the class it attacks")
    flip_to: int | None = Field(None, ge=0, description="targeted: the label it gives that class")


@register_behaviour
class Adversarial(Contributor):
    kind = "adversarial"
    description = "attacks the model with wrong labels, spending its own budget"
    strategies = {"label_flip": "submits a wrong label drawn at random"}
    Params = AdversarialParams

    def choose_label(self, sample: int, true_label: int) -> int:
        return self.model.wrong_label(true_label)
