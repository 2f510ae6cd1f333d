"""Every mechanism with every behaviour and every learner: small runs on a strict ledger."""

import pytest

from sim.config import validate
from sim.registry import mechanisms
from sim.simulation import simulate

MIXED_POPULATION = [
    {"name": "honest", "kind": "honest", "count": 2, "mean_wait_hours": 0.5},
    {"name": "copier", "kind": "lazy", "strategy": "copy_model", "claim": "prompt"},
    {"name": "guesser", "kind": "lazy", "strategy": "random_label", "claim": "late"},
    {"name": "repeater", "kind": "lazy", "strategy": "duplicate", "claim": "never"},
    {"name": "flipper", "kind": "adversarial", "strategy": "label_flip"},
    {"name": "sniper", "kind": "adversarial", "strategy": "targeted", "target_class": 0},
    {"name": "spammer", "kind": "adversarial", "strategy": "spam", "mean_wait_hours": 0.2},
    {"name": "user", "kind": "model_user", "pay_to_call": 2},
]
SETTLES_IN_DAYS = {
    # Built-in mechanisms' windows shortened so that claims settle inside the run; any
    # other registered mechanism runs with its defaults.
    "dtr": {"cost_weight": 5, "refund_window_days": 0.5, "take_window_days": 2},
    "prediction_market": {
        "bounty": 2000,
        "min_stake": 5,
        "min_length_days": 2,
        "claim_window_days": 1,
        "test_portions": 3,
    },
    "gamified": {"refund_window_days": 0.5, "expiry_window_days": 2},
}
LEARNER_DATA = {
    "perceptron": {"dataset": "synthetic", "n_samples": 600, "n_features": 30, "binary": True},
    "nearest_centroid": {"dataset": "wine"},
    "naive_bayes": {"dataset": "digits"},
}


@pytest.mark.parametrize("learner", LEARNER_DATA)
@pytest.mark.parametrize("mechanism", sorted(mechanisms()))
def test_every_mechanism_runs_every_behaviour_with_every_learner(mechanism, learner):
    config = validate(
        {
            "experiment": {"seed": 1, "duration_days": 5, "eval_every_hours": 24},
            "data": {**LEARNER_DATA[learner], "initial_fraction": 0.1, "test_fraction": 0.25},
            "model": {"kind": learner},
            "mechanism": {"kind": mechanism, **SETTLES_IN_DAYS.get(mechanism, {})},
            "agents": MIXED_POPULATION,
        },
        "matrix",
    )
    result = simulate(config, 0, strict=True)  # the ledger is checked after every call
    summary = result.summary
    assert summary["contributions"] > 20
    assert 0 <= summary["final_accuracy"] <= 1
    kinds = set(result.agents["kind"])
    assert {"honest", "lazy", "adversarial", "model_user"} <= kinds
