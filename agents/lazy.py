"""Lazy contributors: the least effort that still passes for a contribution.

They never label anything themselves, never report others, and claim their deposits
late or not at all. `copy_model` shows the weakness of self-assessment: a label the
model already predicts teaches it nothing, yet is refunded about as often as a true one.
"""

from typing import Literal

from pydantic import Field

from agents.base import Contributor
from sim.chain import DAY
from sim.params import Params
from sim.registry import register_behaviour


class LazyParams(Params):
    claim: Literal["late", "never", "prompt"] = Field(
        "late", description="when it asks for its deposits back once it may"
    )
    claim_delay_days: float = Field(
        3.0, gt=0, description="late: mean (exponential) delay after the refund window opens"
    )


@register_behaviour
class Lazy(Contributor):
    kind = "lazy"
    colour = "tab:orange"
    order = 1
    description = "least effort: copies the model, guesses or resubmits; claims late or never"
    strategies = {
        "copy_model": "labels the next sample with the model's own prediction",
        "random_label": "labels the next sample with a class drawn uniformly (may be right)",
        "duplicate": "resubmits a random earlier contribution; takes no fresh sample",
    }
    Params = LazyParams
    reports_bad_data = False  # reporting means checking others' data: effort
    takes_leftovers = False  # only ever takes back its own leftovers, if it claims at all

    def next_submission(self) -> tuple[int, int, bool] | None:
        if self.strategy != "duplicate":
            return super().next_submission()
        contributions = self.contract.contributions
        if not contributions:
            return None
        earlier = contributions[int(self.model.rng.integers(len(contributions)))]
        return earlier.sample, earlier.label, False

    def choose_label(self, sample: int, true_label: int) -> int:
        if self.strategy == "copy_model":
            # A free view call: whatever the model says now, it will most likely still
            # say when the refund window opens.
            return self.contract.learner.predict(self.contract.samples[sample])
        return int(self.model.rng.integers(self.model.n_classes))

    def claims_deposits(self) -> bool:
        return self.params.claim != "never"

    def claim_delay(self) -> float:
        if self.params.claim == "prompt":
            return 0.0
        return float(self.model.rng.exponential(self.params.claim_delay_days * DAY))
