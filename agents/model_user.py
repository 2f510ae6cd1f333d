"""Model users: use the model, paying a fee per prediction where the mechanism takes one
(DTR shares it among verified contributors); elsewhere predictions are free."""

import contextlib

from pydantic import Field

from agents.base import Account
from sim.ledger import Rejected
from sim.limits import MAX_MONEY
from sim.params import Params
from sim.registry import register_behaviour


class ModelUserParams(Params):
    pay_to_call: int = Field(
        1,
        ge=0,
        le=MAX_MONEY,
        description="the fee it pays per prediction where the mechanism takes fees (dtr)",
    )


@register_behaviour
class ModelUser(Account):
    kind = "model_user"
    colour = "tab:blue"
    order = 3
    description = (
        "uses the model more often the better it is, paying pay_to_call per prediction "
        "where the mechanism takes fees; never adds"
    )
    Params = ModelUserParams

    @property
    def predictions(self) -> int:
        """Successful prediction calls."""
        return self.contract.stats[self.name]["predictions"]

    @property
    def fee(self) -> int:
        return self.params.pay_to_call if self.contract.mechanism.takes_prediction_fees else 0

    def act(self) -> None:
        """As in the paper, it uses the model only when it is good: with probability
        equal to the last measured test accuracy, on a random hidden-test-set sample."""
        rng = self.model.rng
        if rng.random() < self.model.accuracy:
            X_test = self.model.split.X_test
            x = X_test[int(rng.integers(len(X_test)))]
            with contextlib.suppress(Rejected):  # it cannot pay: no prediction
                self.contract.predict(self.name, self.fee, x)
        super().act()
