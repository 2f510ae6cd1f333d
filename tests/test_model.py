"""The Mesa model end to end: event-driven time, conservation, determinism and the
outcome DTR is for (honest contributors gain, attackers lose, the model stays accurate)."""

import mesa
import numpy as np
import pandas as pd
import pytest
from scenarios import build, small_config

from sim.simulation import simulate


@pytest.fixture(scope="module")
def finished_model():
    model = build(small_config())
    total = model.ledger.total
    model.run()
    assert sum(model.ledger.balances.values()) == total
    return model


def test_model_is_a_mesa_model_driven_by_events(finished_model):
    model = finished_model
    assert isinstance(model, mesa.Model) and isinstance(model.rng, np.random.Generator)
    assert all(isinstance(agent, mesa.Agent) for agent in model.agents)
    assert model.steps == 0  # no fixed-step schedule: every action is an event
    assert len(model.contract.contributions) > 1000


def test_every_successful_call_is_one_logged_transaction(finished_model):
    log = finished_model.ledger.log
    adds = [tx for tx in log if tx.call == "add_data"]
    assert len(adds) == len(finished_model.contract.contributions)
    assert [tx.contribution_id for tx in adds] == list(range(len(adds)))
    assert all(tx.time <= later.time for tx, later in zip(log, log[1:], strict=False))
    assert {tx.call for tx in log} == {"add_data", "refund", "report"}


def test_no_balance_goes_negative_and_escrow_settles(finished_model):
    balances = finished_model.ledger.balances
    assert min(balances.values()) >= 0
    # Every deposit was refunded or taken: the run stopped once the escrow was empty.
    assert balances["contract"] == 0 and not finished_model.pool_left()


def test_metrics_are_sampled_every_eval_interval(finished_model):
    times = finished_model.datacollector.get_model_vars_dataframe()["time_days"].to_numpy()
    assert times[0] == 0
    assert np.allclose(np.diff(times[:-1]), 0.5)  # every 12 hours; the last at the end
    assert times[-1] == pytest.approx(finished_model.time / 86_400)


def test_ledger_violation_is_an_error_not_a_warning(finished_model):
    finished_model.ledger.balances["honest-0"] += 1
    with pytest.raises(AssertionError, match="balances sum"):
        finished_model.ledger.check()
    finished_model.ledger.balances["honest-0"] -= 1


def test_same_seed_same_results_other_replicate_differs():
    config = small_config(duration_days=8)
    first, again, other = simulate(config, 0), simulate(config, 0), simulate(config, 1)
    assert first.summary == again.summary
    pd.testing.assert_frame_equal(first.timeseries, again.timeseries)
    pd.testing.assert_frame_equal(first.agents, again.agents)
    assert first.summary != other.summary


@pytest.mark.parametrize("replicate", [0, 1, 2])
def test_dtr_pays_honest_contributors_and_protects_the_model(replicate):
    """Issue 2's outcome, on every replicate: deposits large enough to bankrupt a
    label-flipper that only poisons (it does not report others' data)."""
    result = simulate(small_config(attacker_reports=False), replicate)
    s = result.summary
    assert s["honest_balance_change"] > 0
    assert s["adversarial_balance_change"] < 0
    assert abs(s["final_accuracy"] - s["full_data_accuracy"]) <= 0.05


def test_an_attacker_that_reports_takes_honest_deposits_but_still_loses():
    """The memorising perceptron agrees with many flipped labels, so the attacker earns
    verified contributions and can report honest data the model disagrees with."""
    s = simulate(small_config(), 0).summary
    assert s["adversarial_taken"] > 1000
    assert s["adversarial_balance_change"] < 0 < s["honest_balance_change"]


def test_with_the_papers_small_deposits_the_attacker_still_loses_money():
    """cost_weight = 1: the attacker loses money but survives the pool (see the README)."""
    s = simulate(small_config(cost_weight=1), 0).summary
    assert s["honest_balance_change"] > 0 > s["adversarial_balance_change"]
    assert s["adversarial_roi"] > -0.5


def test_without_attackers_the_model_ends_at_the_full_data_accuracy():
    """Honest contributors submit the pool in order with true labels: the baseline run."""
    s = simulate(small_config(attackers=0), 0).summary
    assert s["final_accuracy"] == pytest.approx(s["full_data_accuracy"], abs=0.01)


def test_samples_set_aside_are_never_handed_to_contributors():
    model = build(small_config())
    pool = len(model.split.y_pool)
    X, y = model.set_aside(10)
    np.testing.assert_array_equal(y, model.split.y_pool[-10:])
    handed = []
    while model.pool_left():
        handed.append(model.peek_sample()[0])
        model.take_sample()
    assert handed == list(range(pool - 10))
    with pytest.raises(ValueError, match="cannot set aside"):
        model.set_aside(1)  # only before anyone contributes
