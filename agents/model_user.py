"""Model users: pay a fee per prediction, which the mechanism shares among contributors."""

from pydantic import Field

from agents.base import Account
from sim.ledger import Rejected
from sim.params import Params
from sim.registry import register_behaviour


class ModelUserParams(Params):
    pay_to_call: int = Field(1, ge=0, description="the fee it pays per prediction")


@register_behaviour
class ModelUser(Account):
    kind = "model_user"
    description = "pays pay_to_call per prediction, more often the better the model; never adds"
    Params = ModelUserParams

    def __init__(self, model, name, group):
        super().__init__(model, name, group)
        self.predictions = 0
        """Successful (paid) prediction calls."""

    def act(self) -> None:
        """As in the paper, it uses the model only when it is good: with probability
        equal to the last measured test accuracy, on a random hidden-test-set sample."""
        rng = self.model.rng
        if rng.random() < self.model.accuracy:
            X_test = self.model.split.X_test
            x = X_test[int(rng.integers(len(X_test)))]
            try:
                self.contract.predict(self.name, self.params.pay_to_call, x)
            except Rejected:
                pass
            else:
                self.predictions += 1
        super().act()
