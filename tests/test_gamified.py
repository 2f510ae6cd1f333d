"""Each rule of the gamified mechanism (points, no money), through the contract, on a
ledger that re-checks conservation after every transaction."""

import numpy as np
import pytest
import scenarios
from scenarios import ScriptedLearner, assert_refused, build, small_config

from mechanisms.gamified import Gamified, GamifiedParams
from sim.chain import DAY
from sim.config import ConfigError, validate
from sim.registry import mechanism_class
from sim.simulation import simulate

START = 1_000


class Chain(scenarios.Chain):
    """A gamified contract; a, b, c hold START."""

    def __init__(self, **params):
        # Samples 0..9: the model predicts label 1 for even ids and 0 for odd ids.
        samples = np.array([[1 - i % 2] for i in range(10)], dtype=float)
        mechanism = Gamified(GamifiedParams(**params))
        balances = dict.fromkeys(("a", "b", "c"), START)
        super().__init__(mechanism, ScriptedLearner(), samples, balances)

    def add(self, sender, sample, label, at):
        return self.at(at).add_data(sender, 0, sample, label)

    def good(self, sender, at):
        """An add the model agrees with (sample 0, label 1)."""
        return self.add(sender, 0, 1, at)

    def bad(self, sender, at):
        """An add the model disagrees with (sample 1, label 1)."""
        return self.add(sender, 1, 1, at)


def test_registered_as_gamified():
    assert mechanism_class("gamified") is Gamified


def test_adds_are_free_and_train_the_model():
    chain = Chain()
    assert chain.mechanism.add_cost(0) == 0
    first = chain.good("a", at=100)
    second = chain.bad("b", at=100)  # no wait between adds is needed: nothing is priced
    assert chain.contract.learner.updates == [1, 1]
    assert first.deposit == second.deposit == 0
    assert [tx.call for tx in chain.ledger.log] == ["add_data", "add_data"]
    assert all(tx.transfers == () for tx in chain.ledger.log)
    assert chain.ledger.balances == {"a": START, "b": START, "c": START, "contract": 0, "fees": 0}
    assert chain.mechanism.take_all_opens(first) is None


def test_add_with_money_is_rejected():
    chain = Chain()
    assert_refused(chain, chain.at(100).add_data, "a", 5, 0, 1, match="no deposits")
    assert chain.contract.learner.updates == [] and chain.contract.contributions == []


def test_validation_after_the_window_earns_exactly_points_per_validation():
    chain = Chain(refund_window_days=2, points_per_validation=7)
    c = chain.good("a", at=100)
    early = chain.at(100 + 2 * DAY - 1)
    assert_refused(chain, early.refund, "a", c.id, match="refund window")
    assert chain.at(100 + 2 * DAY).refund("a", c.id) == 0  # no money paid
    assert chain.mechanism.points("a") == 7 and chain.mechanism.verified("a") == 1
    assert chain.mechanism.judged_by == {c.id: "a"}
    assert chain.ledger.log[-1].call == "refund" and chain.ledger.log[-1].transfers == ()
    assert chain.ledger["a"] == START


def test_validation_when_the_model_disagrees_is_rejected():
    chain = Chain()
    c = chain.bad("a", at=100)
    contract = chain.at(100 + 2 * DAY)
    assert_refused(chain, contract.refund, "a", c.id, match="does not predict")
    assert chain.mechanism.points("a") == 0


def test_second_validation_is_rejected():
    chain = Chain(points_per_validation=10)
    c = chain.good("a", at=100)
    contract = chain.at(100 + DAY)
    contract.refund("a", c.id)
    assert_refused(chain, contract.refund, "a", c.id, match="already validated")
    assert chain.mechanism.points("a") == 10


def test_only_the_submitter_validates():
    chain = Chain()
    c = chain.good("a", at=100)
    contract = chain.at(100 + DAY)
    assert_refused(chain, contract.refund, "b", c.id, match="only the submitter")


def test_self_report_is_rejected():
    chain = Chain()
    c = chain.bad("a", at=100)
    contract = chain.at(100 + DAY)
    assert_refused(chain, contract.report, "a", c.id, match="your own")


def test_report_when_the_model_agrees_is_rejected():
    chain = Chain()
    c = chain.good("a", at=100)
    contract = chain.at(100 + DAY)
    assert_refused(chain, contract.report, "b", c.id, match="agrees")


def test_report_earns_points_per_report_once_per_contribution():
    chain = Chain(refund_window_days=1, points_per_report=3)
    c = chain.bad("a", at=100)
    early = chain.at(100 + DAY - 1)
    assert_refused(chain, early.report, "b", c.id, match="refund window")
    contract = chain.at(100 + DAY)
    assert contract.report("b", c.id) == 0
    assert chain.mechanism.points("b") == 3 and chain.mechanism.points("a") == 0
    assert chain.ledger.log[-1].call == "report" and chain.ledger.log[-1].transfers == ()
    assert_refused(chain, contract.report, "b", c.id, match="already reported by b")
    assert_refused(chain, contract.report, "c", c.id, match="already reported by b")
    assert chain.mechanism.points("c") == 0
    assert chain.mechanism.summary()["reported_contributions"] == 1


def test_validated_and_reported_exclude_each_other():
    chain = Chain()
    validated = chain.good("a", at=100)
    reported = chain.bad("a", at=200)
    contract = chain.at(200 + DAY)
    contract.refund("a", validated.id)
    contract.report("b", reported.id)
    # The model changes its mind on both: a judgement stands all the same.
    chain.learner.predict = lambda x: 1 - int(x[0])
    assert chain.contract.agrees(reported) and not chain.contract.agrees(validated)
    assert_refused(chain, contract.refund, "a", reported.id, match="already reported")
    assert_refused(chain, contract.report, "b", validated.id, match="already validated")


def test_nothing_can_be_judged_after_the_expiry_window():
    chain = Chain(refund_window_days=1, expiry_window_days=3)
    good, bad = chain.good("a", at=100), chain.bad("a", at=100)
    contract = chain.at(100 + 3 * DAY)
    assert_refused(chain, contract.refund, "a", good.id, match="expired")
    assert_refused(chain, contract.report, "b", bad.id, match="expired")
    assert chain.mechanism.settled(100 + 3 * DAY)
    assert not chain.mechanism.settled(100 + 3 * DAY - 1)
    assert chain.at(100 + 3 * DAY - 1).refund("a", good.id) == 0


def test_settled_once_every_contribution_is_judged_or_expired():
    chain = Chain(refund_window_days=1, expiry_window_days=9)
    good, bad = chain.good("a", at=100), chain.bad("a", at=200)
    now = 200 + DAY
    assert not chain.mechanism.settled(now)
    chain.at(now).refund("a", good.id)
    assert not chain.mechanism.settled(now)
    assert chain.mechanism.reportable(bad)
    chain.at(now).report("b", bad.id)
    assert not chain.mechanism.reportable(bad) and not chain.mechanism.reportable(good)
    assert chain.mechanism.settled(now)


def test_badges_at_thresholds():
    chain = Chain(points_per_validation=50, badge_thresholds=[100, 150, 1000])
    assert chain.mechanism.badges("a") == []
    for i in range(3):
        c = chain.good("a", at=100 * (i + 1))
        chain.at(100 * (i + 1) + DAY).refund("a", c.id)
        earned = [[], [100], [100, 150]][i]
        assert chain.mechanism.badges("a") == earned, f"at {50 * (i + 1)} points"
    assert chain.mechanism.summary()["badges_awarded"] == 2


def test_leaderboard_sorted_by_points_then_name():
    chain = Chain(points_per_validation=10, points_per_report=5)
    t = 100
    for sender in ("c", "c", "a", "b"):  # c 20 points, a and b 10 each
        c = chain.good(sender, at=t)
        chain.at(t + DAY).refund(sender, c.id)
        t += 1000
    assert chain.mechanism.leaderboard() == [("c", 20), ("a", 10), ("b", 10)]
    chain.bad("a", at=t)  # a adds again, earns nothing yet
    assert chain.mechanism.leaderboard()[1:] == [("a", 10), ("b", 10)]


def test_leaderboard_lists_participants_without_points():
    chain = Chain()
    chain.bad("b", at=100)
    chain.good("a", at=200)
    assert chain.mechanism.leaderboard() == [("a", 0), ("b", 0)]


def test_summary_figures():
    chain = Chain(points_per_validation=60, points_per_report=50, badge_thresholds=[50, 100])
    good = chain.good("a", at=100)
    bad = chain.bad("a", at=200)
    chain.at(200 + DAY).refund("a", good.id)
    chain.at(200 + DAY).report("b", bad.id)
    assert chain.mechanism.summary() == {
        "verified_contributions": 1,
        "reported_contributions": 1,
        "total_points": 110,
        "badges_awarded": 2,  # a: 60 points, one badge; b: 50 points, one badge
    }


# --- configs -----------------------------------------------------------------------------


def gamified_raw(**mechanism):
    raw = small_config().model_dump(exclude_none=True)
    raw["mechanism"] = {"kind": "gamified", **mechanism}
    return raw


def test_config_fills_in_defaults():
    config = validate(gamified_raw(), "test")
    params = config.mechanism.params()
    assert isinstance(params, GamifiedParams)
    assert params.badge_thresholds == [100, 500, 1000, 5000]
    assert (params.points_per_validation, params.points_per_report) == (10, 5)
    assert (params.refund_window_days, params.expiry_window_days) == (1.0, 9.0)
    assert config.resolved()["mechanism"]["gamified"]["badge_thresholds"] == [100, 500, 1000, 5000]


@pytest.mark.parametrize(
    ("values", "key"),
    [
        (
            {"badge_thresholds": [100, 50]},
            "mechanism.badge_thresholds: must be strictly increasing",
        ),
        ({"badge_thresholds": [10, 10]}, "mechanism.badge_thresholds: must be strictly increasing"),
        ({"badge_thresholds": [0, 10]}, "mechanism.badge_thresholds: must be positive"),
        ({"points_per_validation": -1}, "mechanism.points_per_validation"),
        ({"points_per_report": 1.5}, "mechanism.points_per_report"),
        ({"refund_window_days": -1}, "mechanism.refund_window_days"),
        ({"refund_window_days": 3, "expiry_window_days": 3}, "mechanism.expiry_window_days"),
        ({"deposit": 5}, "mechanism.deposit: unknown key"),
        ({"gamified": {"badge_thresholds": [5, 1]}}, "mechanism.gamified.badge_thresholds"),
    ],
)
def test_config_errors_name_the_key(values, key):
    with pytest.raises(ConfigError, match=f"^test: {key}"):
        validate(gamified_raw(**values), "test")


# --- a whole small simulation ------------------------------------------------------------


def test_no_money_ever_moves_in_a_simulation():
    """Honest agents and a label-flipper for 3 days; then every contribution whose window
    has opened is validated by its submitter or reported by someone else, whatever the
    agents did themselves. Not a unit of money moves, and points add up."""
    raw = gamified_raw(points_per_validation=10, points_per_report=5, badge_thresholds=[10, 100])
    raw["experiment"]["duration_days"] = 3
    config = validate(raw, "test")
    model = build(config, strict=True)
    total = model.ledger.total
    start = dict(model.ledger.balances)
    model.run()
    contract, mechanism = model.contract, model.contract.mechanism
    assert model.time == 3 * DAY
    assert len(contract.contributions) > 100
    senders = {c.sender for c in contract.contributions}
    assert {"honest-0", "attacker-0"} <= senders

    judged_by_agents = sum(mechanism.judged(c) for c in contract.contributions)
    for c in contract.contributions:
        if c.time + DAY <= model.time and not mechanism.judged(c):
            if contract.agrees(c):
                contract.refund(c.sender, c.id)
            else:
                reporter = "honest-0" if c.sender != "honest-0" else "honest-1"
                contract.report(reporter, c.id)
    assert sum(mechanism.judged(c) for c in contract.contributions) > judged_by_agents
    assert mechanism.summary()["reported_contributions"] > 0

    assert all(tx.transfers == () for tx in model.ledger.log)
    assert {tx.call for tx in model.ledger.log} >= {"add_data", "refund", "report"}
    assert model.ledger.balances == start and sum(start.values()) == total
    assert all(
        not any(stats[k] for k in ("refunded", "taken", "lost"))
        for stats in contract.stats.values()
    )

    params = config.mechanism.params()
    for agent in model.agents:
        expected = (
            params.points_per_validation * mechanism.validated[agent.name]
            + params.points_per_report * mechanism.reported[agent.name]
        )
        assert mechanism.points(agent.name) == expected
    assert mechanism.summary()["total_points"] == sum(
        mechanism.points(a.name) for a in model.agents
    )


def test_a_gamified_run_writes_its_leaderboard():
    raw = small_config(duration_days=4).model_dump(exclude_none=True)
    raw["mechanism"] = {"kind": "gamified", "badge_thresholds": [10, 100]}
    result = simulate(validate(raw, "test"), 0)
    board = result.leaderboard
    assert list(board.columns) == ["rank", "agent", "kind", "points", "badges"]
    assert board["points"].is_monotonic_decreasing and board["rank"].iloc[0] == 1
    assert set(board["kind"]) == {"honest", "adversarial"}
    for row in board.itertuples():
        assert row.badges == sum(row.points >= t for t in (10, 100))
