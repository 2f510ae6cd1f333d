"""Contributor behaviours on small data: what each kind submits and claims."""

import numpy as np
import pytest
from scenarios import build, small_config

from agents.adversarial import Adversarial
from agents.honest import Honest
from sim.config import validate
from sim.registry import behaviour_class, behaviours


def submitted(model, sender):
    contributions = [c for c in model.contract.contributions if c.sender == sender]
    true = model.split.y_pool[[c.sample for c in contributions]]
    return np.array([c.label for c in contributions]), true


@pytest.fixture(scope="module")
def model():
    model = build(small_config(duration_days=12), strict=False)
    model.run()
    return model


def test_registry_finds_each_behaviour():
    assert behaviour_class("honest") is Honest and behaviour_class("adversarial") is Adversarial
    assert Adversarial.strategies and set(behaviours()) >= {"honest", "adversarial"}
    with pytest.raises(ValueError, match="unknown agent kind 'saboteur'"):
        behaviour_class("saboteur")


def test_label_flip_attacker_never_submits_a_true_label(model):
    labels, true = submitted(model, "attacker-0")
    assert len(labels) > 50 and np.all(labels != true)


def test_label_flip_on_multiclass_data_draws_every_wrong_label():
    raw = small_config(duration_days=6).model_dump(exclude_none=True)
    raw["data"] = {"dataset": "digits", "initial_fraction": 0.1, "test_fraction": 0.2}
    raw["model"] = {"kind": "nearest_centroid"}
    digits = build(validate(raw, "test"), strict=False)
    digits.run()
    labels, true = submitted(digits, "attacker-0")
    assert np.all(labels != true)
    assert len(set((labels - true) % 10)) == 9  # every offset 1..9 occurs


def test_honest_contributors_submit_true_labels(model):
    for index in range(4):
        labels, true = submitted(model, f"honest-{index}")
        assert len(labels) > 100 and np.mean(labels == true) > 0.99


def test_mistake_rate_one_means_always_wrong():
    raw = small_config(duration_days=3).model_dump(exclude_none=True)
    raw["agents"][0]["mistake_rate"] = 1.0
    sloppy = build(validate(raw, "test"), strict=False)
    sloppy.run()
    labels, true = submitted(sloppy, "honest-0")
    assert len(labels) > 10 and np.all(labels != true)


def test_honest_contributors_reclaim_and_report_but_never_report_themselves(model):
    calls = {(tx.sender, tx.call) for tx in model.ledger.log}
    assert ("honest-0", "refund") in calls and ("honest-0", "report") in calls
    contributions = model.contract.contributions
    for tx in model.ledger.log:
        if tx.call == "report" and tx.sender.startswith("honest"):
            contribution = contributions[tx.contribution_id]
            reported_inside_window = tx.time < contribution.time + 9 * 86_400
            assert not (contribution.sender == tx.sender and reported_inside_window)


def test_an_attacker_with_reports_off_only_takes_leftovers():
    quiet = build(small_config(duration_days=20, attacker_reports=False), strict=False)
    quiet.run()
    take_window = 9 * 86_400
    reports = [tx for tx in quiet.ledger.log if tx.call == "report" and tx.sender == "attacker-0"]
    assert reports
    for tx in reports:
        contribution = quiet.contract.contributions[tx.contribution_id]
        assert tx.time >= contribution.time + take_window


def test_agents_act_at_their_mean_rate(model):
    days = model.time / 86_400
    adds = sum(1 for c in model.contract.contributions if c.sender == "attacker-0")
    # One action an hour, and it adds at almost every action while it has money.
    assert adds / days == pytest.approx(24, rel=0.25)
