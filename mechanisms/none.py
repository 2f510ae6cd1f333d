"""The open baseline: anyone adds data for free and nothing is ever checked.

The yardstick for every other mechanism: what the model and the contributors get when
no rule stands between an add and the model.
"""

from sim.chain import Contribution
from sim.ledger import Rejected, Transfer
from sim.mechanism import Mechanism
from sim.registry import register_mechanism


@register_mechanism
class Open(Mechanism):
    kind = "none"
    description = "open baseline: free adds straight into the model, nothing validated"

    def add_data(
        self, sender: str, value: int, contribution: Contribution, now: float
    ) -> tuple[Transfer, ...]:
        if value != 0:
            raise Rejected(f"the open baseline takes no deposits (sent {value})")
        return ()
