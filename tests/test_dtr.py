"""Each rule of Deposit, Refund, Take, through the contract, on a ledger that re-checks
conservation after every transaction."""

import numpy as np
import pytest
import scenarios
from scenarios import ScriptedLearner, assert_refused

from mechanisms.dtr import DepositRefundTake, DTRParams
from sim.chain import DAY


class Chain(scenarios.Chain):
    """A DTR contract; accounts a, b, c and user hold 100,000 units each."""

    def __init__(self, **params):
        # Samples 0..9: the model predicts label 1 for even ids and 0 for odd ids.
        samples = np.array([[1 - i % 2] for i in range(10)], dtype=float)
        mechanism = DepositRefundTake(DTRParams(**params))
        balances = dict.fromkeys(("a", "b", "c", "user"), 100_000)
        super().__init__(mechanism, ScriptedLearner(), samples, balances)

    def add(self, sender, sample, label, at, value=None):
        value = self.mechanism.add_cost(at) if value is None else value
        return self.at(at).add_data(sender, value, sample, label)


def good_contribution(chain, sender, at):
    """Add data the model agrees with and refund it after the window: one verified good."""
    c = chain.add(sender, 0, 1, at)
    chain.at(at + DAY).refund(sender, c.id)


def test_deposit_follows_formula_and_rises_when_adds_come_fast():
    chain = Chain(cost_weight=2)
    assert chain.mechanism.add_cost(3600) == 2  # 2 * 60 / sqrt(3600)
    assert chain.mechanism.add_cost(100) == 12  # 2 * 60 / sqrt(100)
    assert chain.mechanism.add_cost(1) == 120
    assert chain.mechanism.add_cost(0) is None
    chain.add("a", 0, 1, at=3600)
    slow = chain.mechanism.add_cost(3600 + 3600)
    fast = chain.mechanism.add_cost(3600 + 4)
    assert fast > slow
    assert Chain(cost_weight=1, min_deposit=5).mechanism.add_cost(10**6) == 5


def test_add_takes_the_deposit_into_escrow_and_trains_the_model():
    chain = Chain()
    c = chain.add("a", 0, 1, at=100)
    assert c.deposit == chain.mechanism.held(c) == 6
    assert chain.ledger["a"] == 99_994 and chain.ledger["contract"] == 6
    assert chain.contract.learner.updates == [1]
    assert chain.ledger.log[-1].call == "add_data" and chain.ledger.log[-1].contribution_id == 0


def test_add_rejections_change_nothing():
    chain = Chain()
    chain.add("a", 0, 1, at=100)
    assert_refused(chain, chain.at(100).add_data, "b", 60, 1, 0, match="no time has passed")
    assert_refused(chain, chain.at(200).add_data, "b", 5, 1, 0, match="below")
    assert_refused(chain, chain.at(200).add_data, "b", 500_000, 1, 0, match="needs")
    assert chain.contract.learner.updates == [1]


def test_refund_before_the_window_is_rejected():
    chain = Chain(refund_window_days=1)
    c = chain.add("a", 0, 1, at=100)
    contract = chain.at(100 + DAY - 1)
    assert_refused(chain, contract.refund, "a", c.id, match="refund window")
    assert chain.at(100 + DAY).refund("a", c.id) == c.deposit


def test_refund_when_the_model_disagrees_is_rejected():
    chain = Chain()
    c = chain.add("a", 1, 1, at=100)  # the model predicts 0 for sample 1
    contract = chain.at(100 + 2 * DAY)
    assert_refused(chain, contract.refund, "a", c.id, match="does not predict")


def test_second_refund_is_rejected_and_refund_counts_one_verified():
    chain = Chain()
    c = chain.add("a", 0, 1, at=100)
    contract = chain.at(100 + DAY)
    contract.refund("a", c.id)
    assert chain.ledger["a"] == 100_000 and chain.mechanism.verified("a") == 1
    assert_refused(chain, contract.refund, "a", c.id, match="already refunded")


def test_only_the_submitter_refunds():
    chain = Chain()
    c = chain.add("a", 0, 1, at=100)
    contract = chain.at(100 + DAY)
    assert_refused(chain, contract.refund, "b", c.id, match="only the submitter")


def test_taking_your_own_deposit_inside_the_take_window_is_rejected():
    chain = Chain(refund_window_days=1, take_window_days=9)
    good_contribution(chain, "a", 100)
    bad = chain.add("a", 1, 1, at=200)
    contract = chain.at(200 + 2 * DAY)
    assert_refused(chain, contract.report, "a", bad.id, match="your own deposit")


def test_reporter_needs_a_verified_contribution():
    chain = Chain()
    bad = chain.add("a", 1, 1, at=100)
    contract = chain.at(100 + 2 * DAY)
    assert_refused(chain, contract.report, "b", bad.id, match="no verified")


def test_report_needs_the_model_to_disagree_and_the_window_to_pass():
    chain = Chain()
    good_contribution(chain, "b", 100)
    fine = chain.add("a", 2, 1, at=200)
    bad = chain.add("a", 3, 1, at=300)
    assert_refused(chain, chain.at(300 + DAY / 2).report, "b", bad.id, match="window")
    contract = chain.at(300 + 2 * DAY)
    assert_refused(chain, contract.report, "b", fine.id, match="agrees")
    assert contract.report("b", bad.id) == bad.deposit


def test_second_report_by_the_same_reporter_is_rejected():
    chain = Chain(cost_weight=100)
    good_contribution(chain, "b", 100)
    good_contribution(chain, "c", 200)
    bad = chain.add("a", 1, 1, at=300)
    contract = chain.at(300 + 2 * DAY)
    first = contract.report("b", bad.id)
    assert 0 < first < bad.deposit
    assert_refused(chain, contract.report, "b", bad.id, match="already reported")


def test_reporter_share_is_proportional_to_verified_contributions():
    chain = Chain(cost_weight=1000)
    good_contribution(chain, "b", 100)
    for t in (10_000, 20_000, 30_000):
        good_contribution(chain, "c", t)
    bad = chain.add("a", 1, 1, at=40_000)
    contract = chain.at(40_000 + 2 * DAY)
    assert contract.report("b", bad.id) == bad.deposit * 1 // 4
    assert contract.report("c", bad.id) == bad.deposit * 3 // 4
    assert chain.mechanism.held(bad) == bad.deposit - bad.deposit // 4 - bad.deposit * 3 // 4


def test_share_is_capped_at_what_is_left():
    chain = Chain(cost_weight=1000)
    for t in (100, 10_000):
        good_contribution(chain, "b", t)
    good_contribution(chain, "c", 20_000)
    bad = chain.add("a", 1, 1, at=30_000)
    contract = chain.at(30_000 + 2 * DAY)
    contract.report("b", bad.id)  # 2/3 of the deposit
    for t in (40_000, 50_000, 60_000):  # c's share grows to 4/6
        good_contribution(chain, "c", t)
    left = chain.mechanism.held(bad)
    assert bad.deposit * 4 // 6 > left
    assert chain.at(70_000 + DAY).report("c", bad.id) == left
    assert chain.mechanism.held(bad) == 0


def test_anyone_takes_all_that_is_left_after_the_take_window():
    chain = Chain(refund_window_days=1, take_window_days=9)
    bad = chain.add("a", 1, 1, at=100)
    contract = chain.at(100 + 9 * DAY - 1)
    assert_refused(chain, contract.report, "c", bad.id, match="no verified")
    contract = chain.at(100 + 9 * DAY)
    assert contract.report("c", bad.id) == bad.deposit  # no verified data needed now
    assert_refused(chain, contract.report, "a", bad.id, match="nothing is left")


def test_submitter_takes_back_its_leftover_after_the_take_window():
    chain = Chain()
    bad = chain.add("a", 1, 1, at=100)
    assert chain.at(100 + 9 * DAY).report("a", bad.id) == bad.deposit
    assert chain.ledger["a"] == 100_000


def test_prediction_fees_are_shared_by_verified_contributions():
    chain = Chain()
    good_contribution(chain, "a", 100)
    for t in (10_000, 20_000, 30_000):
        good_contribution(chain, "b", t)
    before = dict(chain.ledger.balances)
    chain.at(40_000).predict("user", 10, np.array([1.0]))
    assert chain.ledger["a"] - before["a"] == 2  # floor(10 * 1/4)
    assert chain.ledger["b"] - before["b"] == 7  # floor(10 * 3/4)
    assert chain.ledger["fees"] - before["fees"] == 1  # the rounding remainder
    assert chain.ledger["user"] == before["user"] - 10


def test_prediction_fee_beyond_the_balance_is_rejected():
    chain = Chain()
    contract = chain.at(10)
    assert_refused(chain, contract.predict, "user", 500_000, np.array([1.0]), match="needs")


def test_unknown_contribution_is_rejected():
    chain = Chain()
    assert_refused(chain, chain.at(10).refund, "a", 3, match="no contribution")


def test_take_window_must_be_longer_than_refund_window():
    with pytest.raises(ValueError, match="take_window_days"):
        DTRParams(refund_window_days=5, take_window_days=3)
