"""The prediction market through the contract, on ledgers that re-check conservation after
every transaction: the phase order, the commit-reveal of the test set, exact rewards, the
conservation of bounty and stakes over many random markets, and a small simulation."""

import copy
from contextlib import suppress

import numpy as np
import pytest
from scenarios import assert_refused, build

from mechanisms.prediction_market import PredictionMarket, PredictionMarketParams, commitment
from sim.chain import DAY
from sim.config import ConfigError, validate
from sim.contract import CollaborativeTrainer
from sim.features import Features
from sim.learners import make_learner
from sim.ledger import Ledger, Rejected

# --- a market with a settable clock ---------------------------------------------------


class Market:
    """A prediction market on a strict ledger with a settable clock.

    `provider` holds the bounty and the test set, cut into portions with salts it keeps;
    a, b and c hold 10,000 units each.
    """

    def __init__(self, learner, samples, X_test, y_test, **params):
        params = {"test_portions": 3, "min_length_days": 1, "min_contributions": 1000, **params}
        self.params = PredictionMarketParams(**params)
        self.now = 0.0
        self.ledger = Ledger(strict=True)
        self.ledger.open_account("provider", self.params.bounty)
        for name in ("a", "b", "c"):
            self.ledger.open_account(name, 10_000)
        self.mechanism = PredictionMarket(self.params)
        self.contract = CollaborativeTrainer(
            self.ledger, learner, self.mechanism, samples, clock=lambda: self.now
        )
        parts = np.array_split(np.arange(len(y_test)), self.params.test_portions)
        self.portions = [(X_test[p], y_test[p], bytes([i]) * 32) for i, p in enumerate(parts)]

    def at(self, time):
        self.now = time
        return self

    def call(self, name, sender="provider", value=0, **arguments):
        self.contract.call(sender, name, value, **arguments)

    def initialize(self, seed=0):
        hashes = [commitment(*portion) for portion in self.portions]
        self.call(
            "initialize_market",
            value=self.params.bounty,
            commitments=hashes,
            rng=np.random.default_rng(seed),
        )

    def reveal(self, index, **changes):
        X, y, salt = self.portions[index]
        portion = {"X": X, "y": y, "salt": salt, **changes}
        self.call("reveal_portion", index=index, **portion)

    def open(self):
        self.initialize()
        self.reveal(self.mechanism.first_portion)

    def add(self, sender, sample, label, value=None):
        value = self.params.min_stake if value is None else value
        return self.contract.add_data(sender, value, sample, label)

    def close(self):
        """End the market, reveal the other portions and process the rewards."""
        self.call("end_market")
        for index in range(len(self.portions)):
            if index != self.mechanism.first_portion:
                self.reveal(index)
        self.call("process_rewards", sender="c")


class RowLearner:
    """A scripted model: it keeps one predicted label per test row.

    Test row k is the unit vector e_k; a sample is a mask of rows, and learning it sets
    those rows' prediction to its label, so every contribution's score is known.
    """

    n_classes = 2

    def __init__(self, predictions):
        self.labels = np.array(predictions)
        self.n_features = len(self.labels)

    def copy(self):
        return copy.deepcopy(self)

    def state(self):
        return (self.labels.copy(),)

    def predict_many(self, X):
        return self.labels[Features.from_array(X).toarray().argmax(axis=1)]

    def update(self, x, y):
        self.labels[x > 0] = y


def row_market(**params):
    """Ten test rows, all labelled 1; the model gets rows 5..9 right.

    Sample 0 fixes rows 0..3 (+4 with label 1); sample 1 breaks row 5 (-1 with label 0).
    """
    rows = np.eye(10)
    samples = np.array([[1, 1, 1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]], float)
    learner = RowLearner([0] * 5 + [1] * 5)
    params = {"bounty": 1000, "total_rounds": 10, "allow_greater_deposit": True, **params}
    return Market(learner, samples, rows, np.ones(10, dtype=np.int64), **params)


# --- exact rewards ----------------------------------------------------------------------


def test_the_first_stake_to_run_out_is_drained_and_the_rest_of_the_rounds_paid():
    market = row_market()
    market.open()
    good = market.add("a", 0, 1, value=10)
    bad = market.add("b", 1, 0, value=50)
    market.at(DAY).close()
    # price = 1000 / (10 rounds * 10 rows) = 10 a row a round. bad (-1) pays 10 a round:
    # its 50 run out after 5 rounds, while good (+4) earns 40 a round; good then plays
    # the last 5 rounds alone.
    assert market.mechanism.owed == {"a": 10 + 400, "b": 0}
    assert market.ledger["provider"] == 1000 + 60 - 410
    assert (
        market.ledger["contract"] == 410 == market.mechanism.held(good) + market.mechanism.held(bad)
    )
    assert market.mechanism.summary() == {
        "bounty_paid": 350.0,
        "stakes_kicked_out": 1.0,
        "kicked_out_stake": 50.0,
        "rounds_used": 10.0,
    }
    # The contract's model learned what stayed in the market: rows 0..3 fixed, 5 intact.
    assert market.contract.learner.labels.tolist() == [1] * 4 + [0] + [1] * 5


def test_grouped_contributions_are_scored_by_contributor():
    market = row_market(group_contributions=True)
    market.open()
    market.add("a", 0, 1, value=10)
    market.add("a", 1, 0, value=10)
    market.at(DAY).close()
    # a scores 4 - 1 = 3 a round: nobody loses, so all 10 rounds pay 3 * 10 each.
    assert market.mechanism.owed == {"a": 20 + 300}
    assert market.ledger["provider"] == 1000 - 300
    assert market.contract.learner.labels.tolist() == [1] * 4 + [0] + [0] + [1] * 4

    alone = row_market()
    alone.open()
    alone.add("a", 0, 1, value=10)
    alone.add("a", 1, 0, value=10)
    alone.at(DAY).close()
    # Scored one by one, the bad contribution runs out after one round.
    assert alone.mechanism.owed == {"a": 10 + 40 + 360}


def test_balances_are_floored_once_and_the_dust_returns_to_the_provider():
    market = row_market(bounty=1002, total_rounds=3)
    market.open()
    market.add("a", 0, 1, value=10)
    market.add("b", 1, 0, value=50)
    market.at(DAY).close()
    # price = 1002 / 30 a row a round; b's 50 last 1500/1002 rounds, in which a earns
    # 4 * 50 = 200; alone, a earns 4 * 1002/30 * (3 - 1500/1002) = 200.8 more: 410.8.
    assert market.mechanism.owed == {"a": 410, "b": 0}
    assert market.ledger["provider"] == 1002 + 60 - 410  # 0.8 of dust included
    assert market.mechanism.summary()["rounds_used"] == 3.0


def test_payouts_do_not_depend_on_how_the_bounty_is_cut_into_rounds():
    owed = []
    for rounds in (1, 7, 10, 1000):
        market = row_market(total_rounds=rounds)
        market.open()
        market.add("a", 0, 1, value=10)
        market.add("b", 1, 0, value=50)
        market.at(DAY).close()
        owed.append(market.mechanism.owed)
    assert all(o == owed[0] for o in owed)


# --- conservation over many random markets ----------------------------------------------


def random_market(seed):
    """A small market on random linear data with random parameters, contributions (some
    label-flipped), stakes and claims, run to the end; returns it and its figures."""
    rng = np.random.default_rng(seed)
    n_features = 6
    w = rng.normal(size=n_features)
    X = rng.integers(0, 2, size=(120, n_features)).astype(float)
    y = (X @ w > w.sum() / 2).astype(np.int64)
    kind = ["perceptron", "nearest_centroid", "naive_bayes"][seed % 3]
    learner = make_learner(kind, n_features, 2)
    learner.fit(X[:8], y[:8])
    params = {
        "bounty": int(rng.integers(1, 5000)),
        "total_rounds": int(rng.integers(1, 20)),
        "min_stake": int(rng.integers(1, 30)),
        "allow_greater_deposit": bool(rng.random() < 0.5),
        "group_contributions": bool(rng.random() < 0.5),
        "test_portions": int(rng.integers(2, 6)),
        "claim_window_days": 2,
    }
    market = Market(learner, X[40:], X[8:40], y[8:40], **params)
    market.open()
    stakes = 0
    for _ in range(int(rng.integers(0, 30))):
        sample = int(rng.integers(80))
        label = int(y[40 + sample]) ^ int(rng.random() < 0.3)
        stake = market.params.min_stake
        if market.params.allow_greater_deposit:
            stake += int(rng.integers(0, 200))
        market.add(str(rng.choice(["a", "b", "c"])), sample, label, value=stake)
        stakes += stake
    market.at(DAY).close()
    return market, rng, stakes


@pytest.mark.parametrize("block", range(4))
def test_bounty_and_stakes_are_paid_out_exactly_once_in_random_markets(block):
    for seed in range(block * 50, block * 50 + 50):
        market, rng, stakes = random_market(seed)
        mechanism, ledger = market.mechanism, market.ledger
        bounty = market.params.bounty
        owed = dict(mechanism.owed)
        assert all(amount >= 0 for amount in owed.values())
        assert mechanism.provider_return >= 0  # the rounds never overdraw the bounty
        # Every unit of bounty and stake is owed to one account or back with the provider.
        assert sum(owed.values()) + mechanism.provider_return == bounty + stakes
        assert ledger["provider"] == mechanism.provider_return
        assert ledger["contract"] == sum(owed.values())
        assert ledger["contract"] == sum(map(mechanism.held, market.contract.contributions))
        # Some withdraw (each tries twice, through each of its contributions), then after
        # the claim window someone takes every balance left, trying every contribution.
        ids = {a: [c.id for c in market.contract.contributions if c.sender == a] for a in owed}
        for account in owed:
            if rng.random() < 0.5:
                for contribution_id in ids[account] * 2:
                    with suppress(Rejected):
                        market.contract.refund(account, contribution_id)
        market.at(DAY + 2 * DAY)
        for contribution in market.contract.contributions:
            with suppress(Rejected):
                market.contract.report(str(rng.choice(["a", "b", "c"])), contribution.id)
        # Each nonzero balance was paid out exactly once, in full; nothing is left.
        payouts = [tx for tx in ledger.log if tx.call in ("refund", "report")]
        paid = [market.contract.contributions[tx.contribution_id].sender for tx in payouts]
        assert sorted(paid) == sorted(a for a, amount in owed.items() if amount)
        for tx, account in zip(payouts, paid, strict=True):
            assert [amount for _, _, amount in tx.transfers] == [owed[account]]
        assert ledger["contract"] == 0
        assert sum(ledger.balances.values()) == bounty + 30_000
        ledger.check()


# --- the phase order --------------------------------------------------------------------


@pytest.fixture
def market():
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(60, 4)).astype(float)
    y = (X[:, 0] > 0).astype(np.int64)
    learner = make_learner("perceptron", 4, 2)
    learner.fit(X[:4], y[:4])
    return Market(learner, X[30:], X[4:30], y[4:30], min_contributions=3, claim_window_days=2)


def test_nothing_is_added_before_participation(market):
    assert market.mechanism.add_cost(0) is None
    assert_refused(market, market.add, "a", 0, 1, match="initialization phase")
    market.initialize()
    assert_refused(market, market.add, "a", 0, 1, match="initialization phase")
    market.reveal(market.mechanism.first_portion)
    assert market.mechanism.phase == "participation"
    assert market.mechanism.add_cost(0) == market.params.min_stake
    market.add("a", 0, 1)


def test_initialization_takes_exactly_the_bounty_once(market):
    hashes = [commitment(*portion) for portion in market.portions]
    rng = np.random.default_rng(0)
    call = market.call
    bounty = market.params.bounty
    assert_refused(
        market,
        call,
        "initialize_market",
        value=bounty - 1,
        commitments=hashes,
        rng=rng,
        match="the bounty is",
    )
    assert_refused(
        market,
        call,
        "initialize_market",
        value=bounty,
        commitments=hashes[:2],
        rng=rng,
        match="sha256 hashes",
    )
    market.initialize()
    assert market.ledger["provider"] == 0 and market.ledger["contract"] == bounty
    assert_refused(
        market,
        call,
        "initialize_market",
        value=bounty,
        commitments=hashes,
        rng=rng,
        match="already initialised",
    )


def test_the_drawn_portion_is_revealed_first_and_must_match_its_hash(market):
    market.initialize()
    first = market.mechanism.first_portion
    other = (first + 1) % len(market.portions)
    X, y, salt = market.portions[first]
    assert_refused(market, market.reveal, other, match="must be revealed first")
    flipped = y.copy()
    flipped[0] = 1 - flipped[0]
    assert_refused(market, market.reveal, first, y=flipped, match="match its hash")
    assert_refused(market, market.reveal, first, X=X[1:], y=y[1:], match="hash")
    assert_refused(market, market.reveal, first, salt=b"\0" * 32, match="hash")
    assert_refused(
        market,
        market.contract.call,
        "a",
        "reveal_portion",
        index=first,
        X=X,
        y=y,
        salt=salt,
        match="only the bounty provider",
    )
    market.reveal(first)
    assert market.mechanism.phase == "participation"


def test_the_same_rng_draws_the_same_portion():
    draws = []
    for _ in range(2):
        market = row_market(test_portions=5)
        market.initialize(seed=11)
        draws.append(market.mechanism.first_portion)
    assert draws[0] == draws[1]


def test_ending_too_early_is_rejected(market):
    market.open()
    call = market.call
    market.add("a", 0, 1)
    market.add("b", 1, 0)
    assert_refused(market, market.at(DAY - 1).call, "end_market", match="may end")
    assert not market.mechanism.can_end(DAY - 1)
    assert_refused(market, call, "end_market", sender="a", match="bounty provider")
    market.add("c", 2, 1)  # min_contributions = 3: it may end now
    call("end_market")
    assert market.mechanism.phase == "reveal"
    assert_refused(market, market.add, "a", 3, 1, match="reveal phase")


def test_the_market_may_end_after_its_minimum_length():
    market = row_market(min_length_days=2, min_contributions=5)
    market.at(100).open()
    assert market.mechanism.end_by_length() == 100 + 2 * DAY
    assert_refused(market, market.at(100 + 2 * DAY - 1).call, "end_market", match="may end")
    market.at(100 + 2 * DAY).call("end_market")


def test_rewards_wait_for_every_portion(market):
    market.open()
    market.add("a", 0, 1)
    call = market.call
    assert_refused(market, call, "process_rewards", match="participation phase")
    market.at(DAY).call("end_market")
    first = market.mechanism.first_portion
    assert_refused(market, market.reveal, first, match="not one still to reveal")
    pending = [i for i in range(len(market.portions)) if i != first]
    market.reveal(pending[0])
    assert_refused(market, call, "process_rewards", match="reveal phase")
    X, y, salt = market.portions[pending[1]]
    assert_refused(market, market.reveal, pending[1], y=1 - y, match="hash")
    market.reveal(pending[1])
    assert market.mechanism.phase == "reward"
    call("process_rewards", sender="a")
    assert_refused(market, call, "process_rewards", match="collection phase")


def test_stakes_follow_min_stake_and_allow_greater_deposit(market):
    market.open()
    low, high = market.params.min_stake - 1, market.params.min_stake + 1
    assert_refused(market, market.add, "a", 0, 1, value=low, match="below")
    assert_refused(market, market.add, "a", 0, 1, value=high, match="exactly")
    greedy = row_market(allow_greater_deposit=True, min_stake=5)
    greedy.open()
    assert_refused(greedy, greedy.add, "a", 0, 1, value=10**6, match="needs")
    assert greedy.add("a", 0, 1, value=70).deposit == 70
    assert greedy.ledger["a"] == 10_000 - 70
    assert greedy.contract.learner.labels.tolist() == [0] * 5 + [1] * 5  # not trained yet


def test_withdrawals_once_and_unclaimed_balances_after_the_claim_window():
    market = row_market(claim_window_days=2)
    market.open()
    first = market.add("a", 0, 1)  # +4
    second = market.add("a", 0, 1)  # 0: the rows are fixed already
    theirs = market.add("b", 0, 1)  # 0
    refund, report = market.contract.refund, market.contract.report
    assert market.mechanism.refund_opens(first) == DAY  # when the market may end by length
    assert market.mechanism.take_all_opens(first) is None
    assert_refused(market, refund, "a", first.id, match="not been processed")
    market.at(DAY).close()
    owed = dict(market.mechanism.owed)
    assert owed == {"a": 20 + 400, "b": 10}
    assert market.mechanism.refund_opens(first) == DAY
    assert market.mechanism.take_all_opens(first) == DAY + 2 * DAY
    assert_refused(market, refund, "b", first.id, match="only the contributor")
    assert refund("a", second.id) == owed["a"]  # the whole balance, through any contribution
    assert_refused(market, refund, "a", first.id, match="already paid out")
    assert_refused(market, refund, "a", second.id, match="already paid out")
    # b leaves its balance: nobody may take it before the claim window has passed.
    contract = market.at(DAY + 2 * DAY - 1)
    assert_refused(market, report, "c", theirs.id, match="claim window")
    contract = market.at(DAY + 2 * DAY)
    assert contract.contract.report("c", theirs.id) == owed["b"]
    assert_refused(market, report, "a", theirs.id, match="already paid out")
    assert_refused(market, refund, "b", theirs.id, match="already paid out")
    assert market.ledger["contract"] == 0
    assert market.contract.stats["c"]["taken"] == owed["b"]
    assert market.contract.stats["b"]["lost"] == owed["b"]


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="test_portions"):
        PredictionMarketParams(test_portions=1)
    with pytest.raises(ValueError, match="bounty"):
        PredictionMarketParams(bounty=0)


# --- a small simulation -----------------------------------------------------------------


def pm_config(**mechanism):
    """3 honest contributors and 1 label-flipper in an 8-day market on synthetic data."""
    raw = {
        "experiment": {"seed": 3, "duration_days": 11, "eval_every_hours": 12},
        "data": {
            "dataset": "synthetic",
            "n_samples": 2000,
            "n_features": 100,
            "binary": True,
            "initial_fraction": 0.1,
            "test_fraction": 0.2,
        },
        "model": {"kind": "perceptron"},
        "mechanism": {
            "kind": "prediction_market",
            "bounty": 10_000,
            "min_stake": 10,
            "min_length_days": 8,
            "min_contributions": 100_000,
            "claim_window_days": 2,
            **mechanism,
        },
        "agents": [
            {"name": "honest", "kind": "honest", "count": 3, "mean_wait_hours": 1},
            {
                "name": "attacker",
                "kind": "adversarial",
                "strategy": "label_flip",
                "count": 1,
                "mean_wait_hours": 1,
            },
        ],
    }
    return validate(raw, "test")


@pytest.fixture(scope="module")
def simulated():
    model = build(pm_config(), strict=True)
    total = model.ledger.total
    model.run()
    assert sum(model.ledger.balances.values()) == total
    return model


def test_honest_contributors_earn_and_the_label_flipper_loses(simulated):
    change = {a.name: a.balance - a.start_balance for a in simulated.agents}
    assert all(change[f"honest-{i}"] > 0 for i in range(3))
    assert change["attacker-0"] < 0
    summary = simulated.contract.mechanism.summary()
    assert summary["bounty_paid"] > 0 and summary["stakes_kicked_out"] > 0
    assert change["bounty_provider-0"] == -summary["bounty_paid"]
    assert simulated.ledger["contract"] == 0  # every balance was claimed


def test_the_provider_moves_the_market_along_and_nothing_else(simulated):
    calls = [tx.call for tx in simulated.ledger.log if tx.sender == "bounty_provider-0"]
    portions = simulated.contract.mechanism.params.test_portions
    assert calls == [
        "initialize_market",
        "reveal_portion",
        "end_market",
        *["reveal_portion"] * (portions - 1),
        "process_rewards",
    ]
    ended = next(tx.time for tx in simulated.ledger.log if tx.call == "end_market")
    assert ended == simulated.contract.mechanism.end_by_length() == 8 * DAY
    adds = [tx.time for tx in simulated.ledger.log if tx.call == "add_data"]
    assert len(adds) > 300 and max(adds) < ended
    claims = [tx for tx in simulated.ledger.log if tx.call == "refund"]
    claimants = [tx.sender for tx in claims]
    assert len(claimants) == len(set(claimants)) >= 3  # each balance once, in one call
    assert min(tx.time for tx in claims) >= ended


def test_the_market_trains_the_model_on_what_stayed(simulated):
    assert simulated.accuracy != simulated.initial_accuracy
    assert simulated.contract.mechanism.phase == "collection"


def test_grouped_market_conserves_money_and_the_flipper_loses_its_stakes():
    model = build(pm_config(group_contributions=True), strict=True)
    model.run()
    change = {a.name: a.balance - a.start_balance for a in model.agents}
    stats = model.contract.stats["attacker-0"]
    assert change["attacker-0"] <= -0.9 * stats["deposited"]
    assert sum(change[f"honest-{i}"] for i in range(3)) > 0
    assert sum(change.values()) == 0


def test_more_test_portions_than_test_samples_is_a_config_error():
    config = pm_config(test_portions=1000)
    with pytest.raises(ConfigError, match="test_portions"):
        build(config, strict=True)


def provider(model):
    return next(agent for agent in model.agents if agent.kind == "bounty_provider")


def test_the_provider_tests_on_data_of_its_own_not_on_the_evaluation_set(simulated):
    """Its test set is the end of the pool: no contributor submits it, and the reported
    accuracy is measured on the evaluation test set, which the market never sees."""
    split, held = simulated.split, provider(simulated)
    size = len(split.y_test)  # the default size
    np.testing.assert_array_equal(held.X_test.toarray(), split.X_pool[-size:].toarray())
    np.testing.assert_array_equal(held.y_test, split.y_pool[-size:])
    submitted = [c.sample for c in simulated.contract.contributions]
    assert len(submitted) > 300 and max(submitted) < len(split.y_pool) - size
    revealed = [tx for tx in simulated.ledger.log if tx.call == "reveal_portion"]
    assert len(revealed) == simulated.contract.mechanism.params.test_portions


def test_the_provider_test_set_size_is_a_parameter():
    model = build(pm_config(test_samples=50, min_length_days=2), strict=True)
    np.testing.assert_array_equal(provider(model).y_test, model.split.y_pool[-50:])
    model.run()
    submitted = [c.sample for c in model.contract.contributions]
    assert len(submitted) > 100 and max(submitted) < len(model.split.y_pool) - 50


def test_a_provider_test_set_as_large_as_the_pool_is_a_config_error():
    match = "^mechanism.test_samples: .* nothing of the contribution pool"
    with pytest.raises(ConfigError, match=match):
        build(pm_config(test_samples=100_000), strict=True)
