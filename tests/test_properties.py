"""Property-based tests: random call sequences against every mechanism.

Random sequences of contract calls (adds, refunds, reports, predictions and, for the
prediction market, its phase calls), at random times, by random accounts, with random and
often invalid values, on a strict ledger and a real perceptron. After every call:

- the sum of balances is unchanged and no balance is negative;
- a call that raises `Rejected` left the whole state exactly as it was: the ledger
  (balances and log), the contributions registry, the model's weights and the mechanism's
  own state;
- no call raises anything but `Rejected`.

Examples are derandomized so CI is deterministic; each mechanism runs a few thousand calls.
"""

import numpy as np
import pytest
import scenarios
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import differences, snapshot

from mechanisms.dtr import DepositRefundTake, DTRParams
from mechanisms.gamified import Gamified, GamifiedParams
from mechanisms.none import Open
from mechanisms.prediction_market import PredictionMarket, PredictionMarketParams
from sim.chain import DAY
from sim.learners.perceptron import Perceptron
from sim.ledger import Rejected
from sim.mechanism import Params

N_SAMPLES, N_FEATURES = 20, 5
ACCOUNTS = ("a", "b", "c")
PROVIDER = "provider"
START = 1_000
BOUNTY = 500

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A fixed small binary data set: the label is whether the first two features outnumber
# the last three, so the perceptron's predictions change as it learns.
_rng = np.random.default_rng(0)
SAMPLES = _rng.integers(0, 2, size=(N_SAMPLES, N_FEATURES)).astype(float)
LABELS = (SAMPLES[:, :2].sum(axis=1) > SAMPLES[:, 2:].sum(axis=1) / 1.5).astype(int)
TEST_X = _rng.integers(0, 2, size=(8, N_FEATURES)).astype(float)
TEST_Y = (TEST_X[:, :2].sum(axis=1) > TEST_X[:, 2:].sum(axis=1) / 1.5).astype(np.int64)


class Chain(scenarios.Chain):
    """A contract with a real perceptron; the accounts hold START, the provider a bounty."""

    def __init__(self, mechanism):
        balances = dict.fromkeys(ACCOUNTS, START) | {PROVIDER: BOUNTY + 100}
        super().__init__(mechanism, Perceptron(N_FEATURES, 2), SAMPLES, balances)
        self.total = self.ledger.total


# -- strategies ---------------------------------------------------------------------------

times = st.one_of(
    st.just(0.0),
    st.sampled_from([1.0, 60.0, 3600.0, DAY / 2, DAY, 2 * DAY, 8 * DAY, 10 * DAY]),
    st.floats(0, 12 * DAY, allow_nan=False),
)
senders = st.sampled_from(ACCOUNTS * 3 + ("stranger", "contract", "fees"))
"""Mostly account holders; now and then no account, or the contract's own ones."""
values = st.one_of(
    st.integers(-5, 120),
    st.sampled_from([-(10**18), -1, 0, START, START + 1, 10**18, 2**64]),
)
contribution_ids = st.one_of(
    st.integers(0, 4), st.integers(-2, 12), st.sampled_from([10**9, -(10**9)])
)
sample_ids = st.integers(0, N_SAMPLES - 1)
labels = st.integers(0, 1)

common_steps = [
    st.tuples(st.just("wait"), times),
    st.tuples(st.just("add"), senders, values, sample_ids, labels),
    # Adds with the deposit the mechanism asks for now, so many adds are accepted.
    st.tuples(st.just("add_cost"), senders, sample_ids, labels),
    # Adds with the true label, so refunds can succeed.
    st.tuples(st.just("add_true"), senders, st.integers(-2, 3), sample_ids),
    st.tuples(st.just("refund"), senders, contribution_ids),
    st.tuples(st.just("report"), senders, contribution_ids),
    st.tuples(st.just("predict"), senders, values),
    # Refunds by the submitter and reports of existing contributions, so many succeed.
    st.tuples(st.just("refund_own"), st.integers(0, 5)),
    st.tuples(st.just("report_existing"), senders, st.integers(0, 5)),
]


def run_common(chain: Chain, step) -> None:
    contract, mechanism = chain.contract, chain.mechanism
    match step:
        case ("add", sender, value, sample, label):
            contract.add_data(sender, value, sample, label)
        case ("add_cost", sender, sample, label):
            cost = mechanism.add_cost(chain.now)
            contract.add_data(sender, 0 if cost is None else cost, sample, label)
        case ("add_true", sender, extra, sample):
            cost = mechanism.add_cost(chain.now) or 0
            contract.add_data(sender, cost + extra, sample, int(LABELS[sample]))
        case ("refund", sender, cid):
            contract.refund(sender, cid)
        case ("report", sender, cid):
            contract.report(sender, cid)
        case ("refund_own", back):
            if contract.contributions:
                target = contract.contributions[-1 - back % len(contract.contributions)]
                contract.refund(target.sender, target.id)
        case ("report_existing", sender, back):
            if contract.contributions:
                target = contract.contributions[-1 - back % len(contract.contributions)]
                contract.report(sender, target.id)
        case ("predict", sender, value):
            contract.predict(sender, value, SAMPLES[0])
        case _:
            raise AssertionError(f"unknown step {step!r}")


def check_sequence(chain: Chain, steps, run=run_common) -> None:
    for step in steps:
        if step[0] == "wait":
            chain.now += step[1]
            continue
        before = snapshot(chain)
        try:
            run(chain, step)
        except Rejected:
            diff = differences(before, snapshot(chain))
            assert not diff, f"rejected {step!r} changed the state: {diff}"
        assert sum(chain.ledger.balances.values()) == chain.total
        assert min(chain.ledger.balances.values()) >= 0
        chain.ledger.check()


sequences = st.lists(st.one_of(*common_steps), min_size=10, max_size=60)


@PROPERTY_SETTINGS
@given(steps=sequences, cost_weight=st.sampled_from([0.5, 1.0, 20.0]))
def test_dtr_random_calls(steps, cost_weight):
    params = DTRParams(cost_weight=cost_weight, refund_window_days=1, take_window_days=9)
    check_sequence(Chain(DepositRefundTake(params)), steps)


@PROPERTY_SETTINGS
@given(steps=sequences)
def test_gamified_random_calls(steps):
    params = GamifiedParams(refund_window_days=1, expiry_window_days=9)
    check_sequence(Chain(Gamified(params)), steps)


@PROPERTY_SETTINGS
@given(steps=sequences)
def test_none_random_calls(steps):
    check_sequence(Chain(Open(Params())), steps)


# -- the prediction market: its phase calls too -------------------------------------------

PORTIONS = 2
SALTS = [bytes([i]) * 32 for i in range(PORTIONS)]
PORTION_DATA = [(TEST_X[i::PORTIONS], TEST_Y[i::PORTIONS], salt) for i, salt in enumerate(SALTS)]
HASHES = [PredictionMarket.commitment(X, y, salt) for X, y, salt in PORTION_DATA]

market_senders = st.sampled_from((*ACCOUNTS, PROVIDER))
market_steps = [
    *common_steps,
    st.tuples(
        st.just("initialize_market"),
        market_senders,
        st.one_of(st.just(BOUNTY), values),
        st.sampled_from(["good", "short", "not_bytes"]),
        st.integers(0, 2**32 - 1),
    ),
    st.tuples(
        st.just("reveal_portion"),
        market_senders,
        st.one_of(st.just(0), values),
        st.one_of(st.integers(-1, PORTIONS), st.just("drawn")),
        st.sampled_from(["good", "bad_salt", "bad_labels", "bad_shape"]),
    ),
    st.tuples(st.just("end_market"), market_senders, st.one_of(st.just(0), values)),
    st.tuples(st.just("process_rewards"), market_senders, st.one_of(st.just(0), values)),
    # The provider moving the market along as agents/bounty_provider.py does.
    st.tuples(st.just("provider_acts"), st.integers(0, 2**32 - 1)),
]


def run_market(chain: Chain, step) -> None:
    contract, market = chain.contract, chain.mechanism
    match step:
        case ("initialize_market", sender, value, hashes, seed):
            commitments = {"good": HASHES, "short": HASHES[:1], "not_bytes": ["x"] * PORTIONS}
            contract.call(
                sender,
                "initialize_market",
                value,
                commitments=commitments[hashes],
                rng=np.random.default_rng(seed),
            )
        case ("reveal_portion", sender, value, index, data):
            if index == "drawn":
                index = market.first_portion if market.first_portion is not None else 0
            X, y, salt = PORTION_DATA[index % PORTIONS]
            if data == "bad_salt":
                salt = b"\x99" * 32
            elif data == "bad_labels":
                y = y + 2
            elif data == "bad_shape":
                X = X[:, :-1]
            contract.call(sender, "reveal_portion", value, index=index, X=X, y=y, salt=salt)
        case ("end_market", sender, value):
            contract.call(sender, "end_market", value)
        case ("process_rewards", sender, value):
            contract.call(sender, "process_rewards", value)
        case ("provider_acts", seed):
            # Each call is its own transaction; check them one by one.
            for call in provider_calls(market, seed):
                check_sequence(chain, [call], run_market)
        case _:
            run_common(chain, step)


def provider_calls(market: PredictionMarket, seed: int) -> list:
    if market.phase == "initialization":
        return [
            ("initialize_market", PROVIDER, BOUNTY, "good", seed),
            ("reveal_portion", PROVIDER, 0, "drawn", "good"),
        ]
    if market.phase == "participation":
        reveals = [
            ("reveal_portion", PROVIDER, 0, i, "good")
            for i in range(PORTIONS)
            if i != market.first_portion
        ]
        return [("end_market", PROVIDER, 0), *reveals, ("process_rewards", PROVIDER, 0)]
    return []


@PROPERTY_SETTINGS
@given(
    steps=st.lists(st.one_of(*market_steps), min_size=10, max_size=60),
    allow_greater=st.booleans(),
    group=st.booleans(),
)
def test_prediction_market_random_calls(steps, allow_greater, group):
    params = PredictionMarketParams(
        bounty=BOUNTY,
        test_portions=PORTIONS,
        min_stake=10,
        allow_greater_deposit=allow_greater,
        min_length_days=2,
        min_contributions=4,
        claim_window_days=1,
        total_rounds=3,
        group_contributions=group,
    )
    check_sequence(Chain(PredictionMarket(params)), steps, run_market)


# -- invalid samples and labels -----------------------------------------------------------


MECHANISMS = pytest.mark.parametrize(
    "make",
    [
        lambda: DepositRefundTake(DTRParams()),
        lambda: Gamified(GamifiedParams()),
        lambda: Open(Params()),
    ],
    ids=["dtr", "gamified", "none"],
)


def check_add(make, sample, label) -> None:
    """An add is accepted with a valid sample id and label, else rejected changing nothing."""
    chain = Chain(make())
    chain.now = DAY
    before = snapshot(chain)
    cost = chain.mechanism.add_cost(chain.now)
    valid = 0 <= sample < N_SAMPLES and label in (0, 1)
    try:
        chain.contract.add_data("a", cost, sample, label)
    except Rejected:
        diff = differences(before, snapshot(chain))
        assert not diff, f"rejected add of sample {sample}, label {label} changed: {diff}"
        assert not valid, f"a valid add (sample {sample}, label {label}) was rejected"
    else:
        assert valid, f"an add of sample {sample} with label {label} was accepted"
    chain.ledger.check()


@MECHANISMS
@PROPERTY_SETTINGS
@given(sample=sample_ids, label=labels)
def test_add_with_valid_sample_and_label(make, sample, label):
    check_add(make, sample, label)


@MECHANISMS
@PROPERTY_SETTINGS
@given(sample=st.one_of(st.integers(-30, 40), st.sampled_from([10**9, -(10**9)])))
def test_add_with_any_sample_id(make, sample):
    check_add(make, sample, 0)


@MECHANISMS
@PROPERTY_SETTINGS
@given(label=st.one_of(st.integers(-3, 4), st.sampled_from([10**9, -(10**9)])))
def test_add_with_any_label(make, label):
    check_add(make, 0, label)
