"""Model users: pay per prediction under DTR; the fees reach verified contributors."""

from collections import Counter

import pytest
from scenarios import build, small_config

from agents.model_user import ModelUser
from sim.config import ConfigError, validate
from sim.registry import behaviour_class
from sim.simulation import simulate

USER = {"name": "user", "kind": "model_user", "count": 2, "mean_wait_hours": 0.2}


def config(days: float = 8, **user):
    raw = small_config(duration_days=days).model_dump(exclude_none=True)
    raw["agents"].append({**USER, **user})
    return validate(raw, "test")


def run(days: float = 8, **user):
    model = build(config(days, **user), strict=True)  # strict: conservation after every call
    model.run()
    return model


@pytest.fixture(scope="module")
def paid():
    return run(pay_to_call=7, start_balance=10_000)


def users(model):
    return [agent for agent in model.agents if isinstance(agent, ModelUser)]


def test_registered_and_configured_like_other_kinds():
    assert behaviour_class("model_user") is ModelUser
    group = config(pay_to_call=3).agents[-1]
    assert group.params().pay_to_call == 3 and group.strategy is None
    assert config().agents[-1].params().pay_to_call == 1  # the default
    for bad, key in (({"pay_to_call": -1}, "pay_to_call"), ({"mistake_rate": 0.1}, "mistake_rate")):
        with pytest.raises(ConfigError, match=rf"^test: agents\.2\.{key}: "):
            config(**bad)


def test_balance_falls_by_exactly_the_fees_of_its_successful_calls(paid):
    for user in users(paid):
        calls = [tx for tx in paid.ledger.log if tx.sender == user.name]
        assert user.predictions > 200 and len(calls) == user.predictions
        assert user.start_balance - user.balance == 7 * user.predictions


def test_fees_are_shared_by_verified_contributions(paid):
    """Replay the log: each refund is one verified contribution (DTR), and each fee is
    split among the verified contributors in proportion, the remainder to the fee sink."""
    mechanism = paid.contract.mechanism
    verified = Counter()
    fees = 0
    paid_before_any_verified = paid_after = 0
    for tx in paid.ledger.log:
        if tx.call == "refund":
            verified[tx.sender] += 1
        elif tx.call == "predict":
            total = sum(verified.values())
            expected = {account: 7 * good // total for account, good in verified.items()}
            expected = {account: amount for account, amount in expected.items() if amount}
            remainder = 7 - sum(expected.values())
            got = Counter()
            for payer, payee, amount in tx.transfers:
                assert payer == tx.sender
                got[payee] += amount
            fees += got.pop("fees", 0)
            assert {account: amount for account, amount in got.items() if amount} == expected
            assert sum(tx_amount for *_, tx_amount in tx.transfers) == 7
            if total:
                paid_after += 1
                assert got.total() > 0
            else:
                paid_before_any_verified += 1
                assert remainder == 7
    # Both phases happened, and the replay agrees with the mechanism's own count.
    assert paid_before_any_verified > 0 and paid_after > 0
    assert all(verified[a] == mechanism.verified(a) for a in verified)
    assert paid.ledger["fees"] == fees


def test_money_is_conserved_and_it_never_adds(paid):
    ledger = paid.ledger
    assert sum(ledger.balances.values()) == ledger.total
    names = {user.name for user in users(paid)}
    assert {tx.call for tx in ledger.log if tx.sender in names} == {"predict"}
    assert not any(c.sender in names for c in paid.contract.contributions)
    assert all(paid.contract.stats[name]["accepted"] == 0 for name in names)
    # What users paid is exactly what verified contributors and the fee sink received.
    spent = sum(user.start_balance - user.balance for user in users(paid))
    received = sum(
        amount for tx in ledger.log if tx.call == "predict" for _, _, amount in tx.transfers
    )
    assert spent == received > 0


def test_uses_the_model_about_as_often_as_it_is_accurate(paid):
    frame = paid.datacollector.get_model_vars_dataframe()
    mean_accuracy = frame["accuracy"].mean()
    actions = paid.time / (0.2 * 3600)  # one action every 0.2 hours on average
    for user in users(paid):
        assert user.predictions / actions == pytest.approx(mean_accuracy, rel=0.15)


def test_free_calls_move_nothing():
    model = run(days=4, pay_to_call=0)
    predicts = [tx for tx in model.ledger.log if tx.call == "predict"]
    assert len(predicts) > 100
    # DTR still lists a zero share per verified contributor once there are some.
    assert all(amount == 0 for tx in predicts for *_, amount in tx.transfers)
    assert all(user.balance == user.start_balance for user in users(model))
    assert model.ledger["fees"] == 0


def test_a_user_that_cannot_pay_is_rejected_and_carries_on():
    model = run(days=2, pay_to_call=7, start_balance=20)
    for user in users(model):
        assert user.predictions == 2 and user.balance == 6
    assert model.contract.rejections["predict"] > 20


def test_simulate_summarises_a_run_with_model_users():
    result = simulate(config(days=2, pay_to_call=2), strict=True)
    kinds = set(result.agents["kind"])
    assert kinds == {"honest", "adversarial", "model_user"}
    last = result.agents[result.agents["kind"] == "model_user"].groupby("agent").last()
    assert (last["balance"] < 10_000).all() and (last["accepted"] == 0).all()
    assert (last["predictions"] > 0).all()
    assert result.summary["model_user_predictions"] == last["predictions"].mean()  # per agent


@pytest.mark.parametrize("mechanism", ["gamified", "none"])
def test_where_the_mechanism_takes_no_fees_the_model_is_used_for_free(mechanism):
    raw = config(days=4, pay_to_call=7).model_dump(exclude_none=True)
    raw["mechanism"] = {"kind": mechanism}
    model = build(validate(raw, "test"), strict=True)
    model.run()
    predicts = [tx for tx in model.ledger.log if tx.call == "predict"]
    assert len(predicts) > 100 and not any(tx.transfers for tx in predicts)
    for user in users(model):
        assert user.predictions > 50 and user.balance == user.start_balance
    assert model.contract.rejections["predict"] == 0
