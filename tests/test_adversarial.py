"""Adversarial strategies: what each submits, what it costs others, and what it reports."""

import numpy as np
import pytest
from scenarios import build, small_config

from sim.config import ConfigError, validate

DAY = 86_400


def three_class_raw(attacker: dict | None = None, days: float = 20) -> dict:
    """Synthetic 3-class bag-of-words data, naive Bayes, DTR, four honest contributors."""
    agents = [
        {"name": "honest", "kind": "honest", "count": 4, "mean_deposit": 50, "mean_wait_hours": 0.5}
    ]
    if attacker is not None:
        agents.append({"name": "attacker", "kind": "adversarial", "mean_deposit": 100, **attacker})
    return {
        "experiment": {"seed": 3, "duration_days": days},
        "data": {
            "dataset": "synthetic",
            "n_samples": 3000,
            "n_features": 100,
            "binary": True,
            "n_classes": 3,
            "initial_fraction": 0.08,
            "test_fraction": 0.2,
        },
        "model": {"kind": "naive_bayes"},
        "mechanism": {"kind": "dtr", "cost_weight": 20},
        "agents": agents,
    }


TARGETED = {"strategy": "targeted", "target_class": 2}


def run(raw: dict, replicate: int = 0):
    model = build(validate(raw, "test"), replicate, strict=True)
    model.run()
    return model


def submitted(model, sender):
    contributions = [c for c in model.contract.contributions if c.sender == sender]
    true = model.split.y_pool[[c.sample for c in contributions]]
    return np.array([c.label for c in contributions]), true


def class_accuracy(model, k):
    y = model.split.y_test
    predicted = model.contract.learner.predict_many(model.split.X_test)
    return float(np.mean(predicted[y == k] == k))


@pytest.fixture(scope="module")
def clean():
    return run(three_class_raw())


@pytest.fixture(scope="module")
def targeted():
    return run(three_class_raw(TARGETED))


# --- targeted ----------------------------------------------------------------------


def test_targeted_flips_exactly_the_target_class(targeted):
    labels, true = submitted(targeted, "attacker-0")
    target = true == 2
    assert target.sum() > 30 and (~target).sum() > 60
    # flip_to defaults to the next class, wrapping round: (2 + 1) % 3 == 0.
    assert np.all(labels[target] == 0)
    assert np.all(labels[~target] == true[~target])


def test_targeted_with_explicit_flip_to():
    model = run(three_class_raw({**TARGETED, "flip_to": 1}, days=3))
    labels, true = submitted(model, "attacker-0")
    target = true == 2
    assert target.sum() > 5
    assert np.all(labels[target] == 1) and np.all(labels[~target] == true[~target])


def test_targeted_attack_hurts_its_class_more_than_the_model(clean, targeted):
    frame = targeted.datacollector.get_model_vars_dataframe()
    assert "accuracy_class_2" in frame.columns
    assert "accuracy_class_2" not in clean.datacollector.get_model_vars_dataframe().columns
    # The last sample is taken at the end of the run.
    assert frame["accuracy_class_2"].iloc[-1] == pytest.approx(class_accuracy(targeted, 2))

    class_drop = class_accuracy(clean, 2) - class_accuracy(targeted, 2)
    overall_drop = clean.accuracy - targeted.accuracy
    # About 0.17-0.23 against -0.015-0.02 on replicates 0-4 of this setup.
    assert class_drop > 0.1
    assert class_drop > overall_drop + 0.1


def test_camouflaged_attacker_reports_honest_data(targeted):
    mechanism = targeted.contract.mechanism
    assert mechanism.verified("attacker-0") > 0  # earned by its correctly labelled samples
    contributions = targeted.contract.contributions
    take_window = mechanism.take_window
    reports = [
        tx
        for tx in targeted.ledger.log
        if tx.call == "report"
        and tx.sender == "attacker-0"
        and contributions[tx.contribution_id].sender.startswith("honest")
        # Inside the take window: a report proper, not picking up leftovers.
        and tx.time < contributions[tx.contribution_id].time + take_window
    ]
    assert reports
    assert all(sum(amount for *_, amount in tx.transfers) > 0 for tx in reports)


def test_attacker_claims_its_deposits_promptly(targeted):
    contributions = targeted.contract.contributions
    mechanism = targeted.contract.mechanism
    refunds = [
        tx for tx in targeted.ledger.log if tx.call == "refund" and tx.sender == "attacker-0"
    ]
    assert len(refunds) > 50
    delays = [tx.time - mechanism.refund_opens(contributions[tx.contribution_id]) for tx in refunds]
    # It claims at its first action after the refund window opens (it acts every hour).
    assert max(delays) < 2 * 3600


# --- spam --------------------------------------------------------------------------


def spam_config(spammer: bool, days: float = 10):
    raw = small_config(duration_days=days).model_dump(exclude_none=True)
    raw["agents"][0]["mean_deposit"] = 150  # honest agents who will pay what spam makes it cost
    if spammer:
        raw["agents"][1].update(strategy="spam", mean_wait_hours=0.05, mean_deposit=200)
    else:
        raw["agents"].pop()
    return validate(raw, "test")


@pytest.fixture(scope="module")
def spam_runs():
    runs = []
    for spammer in (False, True):
        model = build(spam_config(spammer), strict=True)
        model.run()
        runs.append(model)
    return runs


def test_spam_uses_no_fresh_pool_sample_after_the_first_contribution(spam_runs):
    model = spam_runs[1]
    contributions = model.contract.contributions
    spam = [c for c in contributions if c.sender == "attacker-0"]
    assert len(spam) > 500 and model.pool_left()
    seen = {contributions[0].sample}
    for c in contributions[1:]:
        if c.sender == "attacker-0":
            assert c.sample in seen  # a resubmission of an earlier contribution's sample
        seen.add(c.sample)
    fresh = [c for c in contributions if c.sender != "attacker-0" or c.id == 0]
    assert model.peek_sample()[0] == len(fresh)  # the pool advanced only for fresh samples
    labels, true = submitted(model, "attacker-0")
    assert np.all(labels != true)


def test_spam_raises_the_deposit_honest_contributors_pay(spam_runs):
    def honest_mean_deposit(model):
        stats = [model.contract.stats[f"honest-{i}"] for i in range(4)]
        return sum(s["deposited"] for s in stats) / sum(s["accepted"] for s in stats)

    without, with_spam = (honest_mean_deposit(model) for model in spam_runs)
    # About 63 -> 77-81 on replicates 0-2.
    assert with_spam > 1.15 * without


# --- label_flip --------------------------------------------------------------------


def test_label_flip_never_submits_a_true_label_and_now_reports():
    model = build(small_config(duration_days=12), strict=True)
    model.run()
    labels, true = submitted(model, "attacker-0")
    assert len(labels) > 50 and np.all(labels != true)
    # The perceptron memorises some flips, so it earns verified contributions and reports.
    contributions = model.contract.contributions
    assert model.contract.mechanism.verified("attacker-0") > 0
    assert any(
        tx.call == "report"
        and tx.sender == "attacker-0"
        and contributions[tx.contribution_id].sender.startswith("honest")
        for tx in model.ledger.log
    )


# --- config errors -----------------------------------------------------------------


def config_error(attacker: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate(three_class_raw(attacker), "exp.toml")
    return str(info.value)


def test_targeted_needs_target_class():
    message = config_error({"strategy": "targeted"})
    assert message == "exp.toml: agents.1.target_class: the targeted strategy needs target_class"


def test_flip_to_must_differ_from_target_class():
    message = config_error({"strategy": "targeted", "target_class": 1, "flip_to": 1})
    assert message.startswith("exp.toml: agents.1.flip_to: ")


def test_other_strategies_ignore_target_class():
    validate(three_class_raw({"strategy": "label_flip", "target_class": 1, "flip_to": 1}), "t")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the model's empty class 3 accuracy
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"target_class": 3},
            "agents.attacker: target_class 3 is not a class of this dataset (0..2): its labels "
            "are re-encoded as 0..2 in sorted order of the original labels",
        ),
        (
            {"target_class": 1, "flip_to": 5},
            "agents.attacker: flip_to 5 is not a class of this dataset (0..2): its labels "
            "are re-encoded as 0..2 in sorted order of the original labels",
        ),
    ],
)
def test_classes_outside_the_dataset_are_a_config_error(params, message):
    config = validate(three_class_raw({"strategy": "targeted", **params}), "test")
    with pytest.raises(ConfigError) as info:
        build(config)
    assert str(info.value) == message
