"""The open baseline: free adds straight into the model, nothing else."""

import numpy as np
import pytest
from scenarios import ScriptedLearner, build, small_config

from mechanisms.none import Open
from sim.config import validate
from sim.contract import CollaborativeTrainer
from sim.ledger import Ledger, Rejected
from sim.params import Params


@pytest.fixture
def contract():
    ledger = Ledger(strict=True)
    ledger.open_account("a", 100)
    return CollaborativeTrainer(
        ledger, ScriptedLearner(), Open(Params()), np.ones((5, 1)), clock=lambda: 10.0
    )


def test_adds_are_free_and_train_the_model_at_once(contract):
    for sample in range(3):
        contract.add_data("a", 0, sample, 1)
    assert contract.learner.updates == [1, 1, 1]  # even in the same second
    assert contract.ledger.balances == {"a": 100, "contract": 0, "fees": 0}
    assert [tx.call for tx in contract.ledger.log] == ["add_data"] * 3


def test_an_add_that_sends_money_is_rejected(contract):
    with pytest.raises(Rejected, match="takes no deposits"):
        contract.add_data("a", 5, 0, 1)
    assert contract.contributions == [] and contract.ledger.balances["a"] == 100


def test_nothing_can_be_refunded_reported_or_charged(contract):
    contract.add_data("a", 0, 0, 1)
    with pytest.raises(Rejected, match="no refunds"):
        contract.refund("a", 0)
    with pytest.raises(Rejected, match="no reports"):
        contract.report("a", 0)
    with pytest.raises(Rejected, match="no prediction fees"):
        contract.predict("a", 5, np.zeros(1))
    assert contract.ledger.balances["a"] == 100


def test_a_run_with_every_behaviour_moves_no_money():
    raw = small_config(duration_days=4).model_dump(exclude_none=True)
    raw["mechanism"] = {"kind": "none"}
    raw["agents"].append({"name": "lazy", "kind": "lazy", "strategy": "duplicate"})
    model = build(validate(raw, "test"))  # a strict ledger
    start = dict(model.ledger.balances)
    model.run()
    assert len(model.contract.contributions) > 100
    assert model.ledger.balances == start
    assert all(tx.transfers == () for tx in model.ledger.log)
