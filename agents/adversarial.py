"""Adversarial contributors: corrupt the shared model or raise the cost for everyone else.

Strategies:
- `label_flip`: every sample with a wrong label drawn at random.
- `targeted`: only the samples of `target_class`, relabelled `flip_to`; everything else is
  submitted correctly, which earns verified good contributions (and so reports) under DTR.
- `spam`: floods adds to push up the deposit honest contributors pay, resubmitting earlier
  contributions' samples with wrong labels so it uses up none of the shared pool.

Every attacker takes leftovers after the take window and claims its own deposits
promptly; unless `reports = false`, it also reports others' data whenever the rules let
it (under DTR that needs verified contributions, which a label-flipper earns whenever
the model memorises its flips).
"""

from pydantic import Field

from agents.base import Contributor
from sim.params import KeyedError, Params
from sim.registry import register_behaviour


class AdversarialParams(Params):
    target_class: int | None = Field(None, ge=0, description="targeted: the class it attacks")
    flip_to: int | None = Field(
        None, ge=0, description="targeted: the label it gives that class (default: the next class)"
    )
    reports: bool = Field(True, description="reports others' data whenever the rules let it")


@register_behaviour
class Adversarial(Contributor):
    kind = "adversarial"
    colour = "tab:red"
    order = 2
    description = "attacks the model with wrong labels, spending its own budget"
    strategies = {
        "label_flip": "submits a wrong label drawn at random",
        "targeted": "relabels target_class as flip_to; submits every other sample correctly",
        "spam": "floods adds of earlier samples with wrong labels to raise everyone's deposit",
    }
    Params = AdversarialParams
    reports_bad_data = True
    takes_leftovers = True

    def __init__(self, model, name, group):
        super().__init__(model, name, group)
        self.reports_bad_data = self.params.reports
        self.target_class: int | None = None
        self.flip_to: int | None = None
        if self.strategy == "targeted":
            target, flip_to = self.params.target_class, self.params.flip_to
            self.target_class = target
            self.flip_to = (target + 1) % model.n_classes if flip_to is None else flip_to

    @classmethod
    def watched_classes(cls, group) -> set[int]:
        return {group.target_class} if group.strategy == "targeted" else set()

    @classmethod
    def check_data(cls, group, split, mechanism) -> None:
        """Classes are the labels re-encoded as 0..n_classes-1 in sorted order, whatever
        the data file holds: labels {0, 7} are classes 0 and 1."""
        if group.strategy != "targeted":
            return
        params, n_classes = group.params(), split.n_classes
        for key, value in (("target_class", params.target_class), ("flip_to", params.flip_to)):
            if value is not None and value >= n_classes:
                raise KeyedError(
                    f"agents.{group.name}",
                    f"{key} {value} is not a class of this dataset "
                    f"(0..{n_classes - 1}): its labels are re-encoded as 0..{n_classes - 1} in "
                    "sorted order of the original labels",
                )

    @classmethod
    def check_params(cls, strategy: str | None, params: AdversarialParams) -> None:
        if strategy != "targeted":
            return
        if params.target_class is None:
            raise KeyedError("target_class", "the targeted strategy needs target_class")
        if params.flip_to == params.target_class:
            raise KeyedError("flip_to", f"must differ from target_class ({params.target_class})")

    def next_submission(self) -> tuple[int, int, bool] | None:
        if self.strategy != "spam":
            return super().next_submission()
        contributions = self.contract.contributions
        if not contributions:
            return super().next_submission()
        earlier = contributions[int(self.model.rng.integers(len(contributions)))]
        true_label = int(self.model.split.y_pool[earlier.sample])
        return earlier.sample, self.model.wrong_label(true_label), False

    def choose_label(self, sample: int, true_label: int) -> int:
        if self.strategy == "targeted":
            return self.flip_to if true_label == self.target_class else true_label
        return self.model.wrong_label(true_label)
