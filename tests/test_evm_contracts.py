"""The Vyper contracts (contracts/) on a real EVM, cross-checked call by call against the
Python contract: DTR with the on-chain perceptron, on titanoboa's in-process py-evm.

Needs the `evm` extra (titanoboa, vyper). Without it every test here fails, naming the
import error: nothing is skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from scenarios import fail_without_evm

from mechanisms.dtr import DepositRefundTake, DTRParams
from sim.chain import DAY as DAY_SECONDS
from sim.features import Features
from sim.learners.perceptron import Perceptron

try:
    from sim.evm.chain import INSUFFICIENT_FUNDS, EvmChain
    from sim.evm.crosscheck import REASONS, CrossCheck, Mismatch, reason_key
    from sim.evm.trainer import cost_weight_parts
except Exception as error:  # the evm extra is missing: fail each test with the reason
    IMPORT_ERROR: Exception | None = error
else:
    IMPORT_ERROR = None


@pytest.fixture(autouse=True)
def _evm_installed():
    fail_without_evm(IMPORT_ERROR)


# -- the scripted scenario: every DTR rule ----------------------------------------------

# Features 0..5. The pre-trained weights make sample GOOD ({0, 2}) a clear 1 and sample
# BAD ({1, 3}) a clear 0; with a step of 1 no add flips either, so the model keeps
# agreeing with label 1 on GOOD and disagreeing with label 1 on BAD.
SCRIPT_WEIGHTS = [500, -500, 20, -20, 0, 0]
GOOD, GOOD_TOO, BAD, OTHER = 0, 1, 2, 3
SCRIPT_SAMPLES = [[1, 0, 1, 0, 0, 0], [1, 0, 0, 0, 1, 0], [0, 1, 0, 1, 0, 0], [0, 0, 0, 0, 1, 1]]
SCRIPT_BALANCES = {"a": 100_000, "b": 100_000, "c": 100_000, "user": 50}
T0 = 1_000
DAY = int(DAY_SECONDS)


@dataclass
class Step:
    name: str
    call: str
    sender: str
    time: int
    expect: str | None  # the rule that rejects it; None: accepted
    sample: int | None = None
    label: int | None = None
    value: int | None = None  # None: the required deposit; -1: one unit less
    id: int | None = None


def script() -> list[Step]:
    t_bad = T0 + 150
    return [
        Step("first add", "add_data", "a", T0, None, GOOD, 1),  # id 0
        Step("same-second add", "add_data", "b", T0, "same_second", GOOD, 1, value=10_000),
        Step("deposit too small", "add_data", "b", T0 + 50, "deposit_too_small", GOOD, 1, -1),
        Step("add", "add_data", "c", T0 + 50, None, GOOD, 1),  # id 1
        Step("add", "add_data", "c", T0 + 100, None, GOOD_TOO, 1),  # id 2
        Step("bad add", "add_data", "b", t_bad, None, BAD, 1, value=1_000),  # id 3
        Step("deposit beyond balance", "add_data", "user", T0 + 200, "funds", GOOD, 1, 60),
        Step("label not a class", "add_data", "c", T0 + 250, "bad_label", GOOD, 2),
        Step("fee before anyone is verified", "predict", "user", T0 + 300, None, OTHER, value=7),
        Step("report inside the refund window", "report", "a", t_bad + DAY // 2, "window", id=3),
        Step("refund before the window", "refund", "a", T0 + DAY - 1, "window", id=0),
        Step("refund by another", "refund", "b", T0 + DAY, "not_submitter", id=0),
        Step("refund at the window", "refund", "a", T0 + DAY, None, id=0),
        Step("double refund", "refund", "a", T0 + DAY, "already_refunded", id=0),
        Step("refund", "refund", "c", T0 + DAY + 50, None, id=1),
        Step("refund", "refund", "c", T0 + DAY + 100, None, id=2),
        Step("unknown contribution", "refund", "c", T0 + DAY + 100, "no_contribution", id=9),
        Step("refund the model disagrees", "refund", "b", t_bad + DAY, "model_disagrees", id=3),
        Step("report own inside take window", "report", "b", t_bad + DAY, "own_deposit", id=3),
        Step("report unverified", "report", "user", t_bad + DAY, "not_verified", id=3),
        Step("report (1/3 share)", "report", "a", t_bad + DAY + 10, None, id=3),
        Step("report again", "report", "a", t_bad + DAY + 20, "already_reported", id=3),
        Step("report (2/3 share)", "report", "c", t_bad + DAY + 30, None, id=3),
        Step("add good, never refunded", "add_data", "b", T0 + 2 * DAY, None, GOOD, 1),  # id 4
        Step("add a deposit of 1", "add_data", "b", T0 + 3 * DAY, None, BAD, 1, value=1),  # id 5
        Step("report the model agrees", "report", "c", T0 + 4 * DAY, "model_agrees", id=4),
        Step("share rounds to zero", "report", "a", T0 + 4 * DAY, "share_zero", id=5),
        Step("fee shares", "predict", "user", T0 + 4 * DAY, None, OTHER, value=10),
        Step("free prediction", "predict", "b", T0 + 4 * DAY, None, BAD, value=0),
        Step("fee beyond balance", "predict", "user", T0 + 4 * DAY, "funds", OTHER, value=10**6),
        Step("verify user", "add_data", "user", T0 + 4 * DAY + 1, None, GOOD_TOO, 1, value=2),
        Step("verify user", "refund", "user", T0 + 5 * DAY + 1, None, id=6),
        Step("share capped at what is left", "report", "user", T0 + 5 * DAY + 2, None, id=3),
        Step("nothing left", "report", "b", T0 + 5 * DAY + 3, "nothing_left", id=3),
        Step("take all after the window", "report", "user", T0 + 12 * DAY, None, id=5),
        Step("submitter takes its leftover", "report", "b", T0 + 12 * DAY, None, id=4),
        Step("nothing left to take", "report", "a", T0 + 12 * DAY, "nothing_left", id=4),
        Step("fee shares", "predict", "a", T0 + 12 * DAY, None, GOOD, value=1_000),
    ]


def scripted_check() -> CrossCheck:
    learner = Perceptron(len(SCRIPT_WEIGHTS), 2, learning_rate=1)
    learner.weights[:] = SCRIPT_WEIGHTS
    learner.bias = -1
    samples = Features.from_array(np.array(SCRIPT_SAMPLES))
    params = DTRParams(cost_weight=2.5, refund_window_days=1, take_window_days=9)
    return CrossCheck.standalone(params, learner, samples, SCRIPT_BALANCES, test_rows=samples)


def run_script(check: CrossCheck, steps: list[Step]) -> None:
    for step in steps:
        if step.call == "add_data":
            cost = check.mechanism.add_cost(step.time) or 1
            value = cost if step.value is None else step.value if step.value >= 0 else cost - 1
            outcome = check.add_data(step.sender, value, step.sample, step.label, step.time)
        elif step.call == "predict":
            outcome = check.predict(step.sender, step.value, step.sample, step.time)
        else:
            outcome = getattr(check, step.call)(step.sender, step.id, step.time)
        got = None if outcome.accepted else reason_key(outcome.reason)
        assert got == step.expect, f"step {outcome.index} ({step.name}): {outcome.reason}"


def test_scripted_scenario_through_every_rule_agrees_call_by_call():
    check = scripted_check()
    steps = script()
    run_script(check, steps)
    assert len(check.outcomes) == len(steps)
    rules = {step.expect for step in steps} - {None}
    assert rules == {key for key, _ in REASONS}
    # The money moved as the rules say, on both sides (the cross-check compared them).
    ledger = check.ledger
    assert ledger["contract"] == check.evm.balance("contract") == 0  # all settled
    # Fees: 7 before anyone was verified, the remainder 1 of 10 shared 1:2, none of 1,000
    # shared 1:2:1.
    assert ledger["fees"] == check.evm.balance("fees") == 7 + 1
    # The free reads a client uses agree with the storage the cross-check read.
    evm = check.evm
    assert list(evm.classifier.get_weights(0, len(SCRIPT_WEIGHTS))) == evm.weights()
    assert evm.classifier.bias() == evm.bias()
    assert evm.mechanism.good(evm.chain.address("c")) == evm.verified("c") == 2
    assert evm.mechanism.total_good() == evm.total_verified() == 4


# -- the random scenario ----------------------------------------------------------------


def random_check(seed: int, n_calls: int):
    rng = np.random.default_rng(seed)
    n_features, n_pool = 40, 160
    X = (rng.random((n_pool + 40, n_features)) < 0.25).astype(np.int64)
    truth = rng.normal(size=n_features)
    y = (X @ truth > np.median(X @ truth)).astype(np.int64)
    learner = Perceptron(n_features, 2, learning_rate=2, update_intercept=True)
    learner.fit(X[n_pool:], y[n_pool:])  # pre-trained on 40 samples kept off the pool
    accounts = ["a", "b", "c", "d", "e", "poor"]
    balances = dict.fromkeys(accounts, 5_000) | {"poor": 40}
    params = DTRParams(cost_weight=0.7, min_deposit=2, refund_window_days=1, take_window_days=3)
    check = CrossCheck.standalone(
        params,
        learner,
        Features.from_array(X[:n_pool]),
        balances,
        test_rows=Features.from_array(X[n_pool : n_pool + 4]),
    )
    windows = [int(params.refund_window_days * DAY), int(params.take_window_days * DAY)]
    time = 1
    for _ in range(n_calls):
        time += int(rng.choice([0, 1, 30, 600, 3_600, 20_000, 40_000]))
        sender = str(rng.choice(accounts))
        kind = str(rng.choice(["add", "refund", "report", "predict"], p=[0.45, 0.2, 0.25, 0.1]))
        added = check.python.contributions
        edges = [  # a second before, at, or after a window of an add, still to come
            (edge, contribution)
            for contribution in added[-30:]
            for window in windows
            for edge in range(contribution.time + window - 1, contribution.time + window + 2)
            if edge >= time
        ]
        if edges and kind in ("refund", "report") and rng.random() < 0.4:
            time, contribution = edges[int(rng.integers(len(edges)))]
            if kind == "refund" or rng.random() < 0.2:
                sender = contribution.sender
            getattr(check, kind)(sender, contribution.id, time)
        elif kind == "add" or not added:
            sample = int(rng.integers(n_pool))
            label = int(y[sample]) if rng.random() < 0.7 else 1 - int(y[sample])
            if rng.random() < 0.02:
                label = 2
            cost = check.mechanism.add_cost(time) or 1
            value = max(0, cost + int(rng.choice([-1, 0, 0, 0, 0, 3, 50])))
            check.add_data(sender, value, sample, label, time)
        elif kind == "predict":
            fee = int(rng.choice([0, 1, 7, 100, 10_000]))
            check.predict(sender, fee, int(rng.integers(n_pool)), time)
        else:
            contribution_id = int(rng.integers(len(added) + 1))  # sometimes none with that id
            if kind == "refund" and contribution_id < len(added) and rng.random() < 0.8:
                sender = added[contribution_id].sender
            getattr(check, kind)(sender, contribution_id, time)
    return check


def test_random_scenario_agrees_call_by_call():
    check = random_check(seed=11, n_calls=320)
    outcomes = check.outcomes
    assert len(outcomes) == 320
    # The scenario reached every kind of call, accepted and rejected.
    for call in ("add_data", "refund", "report", "predict"):
        accepted = [o.accepted for o in outcomes if o.call == call]
        assert any(accepted) and not all(accepted), call
    assert check.mechanism.total_good >= 5
    assert any(o.receipt.reason == INSUFFICIENT_FUNDS for o in outcomes)
    assert sum(check.ledger.balances.values()) == sum(
        check.evm.balance(name) for name in check.ledger.balances
    )


# -- the deposit formula ----------------------------------------------------------------


def python_deposit(cost_weight: float, seconds: int, min_deposit: int = 1) -> int:
    """What `DepositRefundTake.add_cost` asks `seconds` after the last add."""
    mechanism = DepositRefundTake(DTRParams(cost_weight=cost_weight, min_deposit=min_deposit))
    return mechanism.add_cost(float(seconds))


def exact_floor(cost_weight: float, seconds: int) -> int:
    """floor(cost_weight * 60 / sqrt(seconds)) in exact arithmetic (the cost weight taken as
    the exact binary fraction the float is): isqrt(floor(a * a / s)) for a >= 0."""
    significand, exponent = cost_weight_parts(cost_weight)
    numerator, denominator = significand * 60, 1
    if exponent >= 0:
        numerator <<= exponent
    else:
        denominator <<= -exponent
    return math.isqrt(numerator * numerator // (denominator * denominator * seconds))


def test_deposit_formula_equals_the_python_formula():
    rng = np.random.default_rng(5)
    weights = [0.7, 0.1, 2.5, 1 / 3, 20.0, 1.0, 1e-3, 123.456, float(2**62)]
    # cost_weight * 60 exactly halfway between two floats (ties go to the even one), and
    # so large that every unit of the deposit is a float of its own.
    weights += [float((2**52 + 4) * 2**6), float((2**52 + 2**51 + 8) * 2**3)]
    weights += [float(10 ** rng.uniform(-3, 18.6)) for _ in range(9)]
    seconds = [1, 2, 3, 4, 100, 3_600, 86_400, 2**40, 2**53 - 1]
    chain = EvmChain()
    sink = chain.address("fees")
    pairs = differ = 0
    for cost_weight in weights:
        significand, exponent = cost_weight_parts(cost_weight)
        mechanism, _ = chain.deploy(
            "deployer", "DepositRefundTake", significand, exponent, 1, 86_400, 9 * 86_400, sink
        )
        draws = [int(10 ** rng.uniform(0, 15.9)) for _ in range(14)]
        draws += [int(rng.integers(1, 3_000)) ** 2 for _ in range(3)]  # perfect squares
        for s in seconds + draws:
            expected = python_deposit(cost_weight, s)
            assert mechanism.add_cost(s) == expected, (cost_weight, s)
            pairs += 1
            differ += max(1, exact_floor(cost_weight, s)) != expected
    assert pairs == len(weights) * (len(seconds) + 17)
    # Exact arithmetic would not do: the float formula rounds cost_weight * 60, the root
    # and the quotient, and the contract follows it where exact floors differ.
    assert differ >= 3


def as_significand(value: float) -> tuple[int, int]:
    mantissa, exponent = math.frexp(value)
    return int(mantissa * 2**53), exponent - 53


def test_each_binary64_step_rounds_as_a_python_float():
    """The contract's rounding of n / d * 2**e and of sqrt(s) to binary64 (nearest, ties
    to even) against Python's, on random values, exact halves and perfect squares."""
    rng = np.random.default_rng(3)
    chain = EvmChain()
    mechanism, _ = chain.deploy(
        "deployer", "DepositRefundTake", 2**52, -52, 1, 86_400, 9 * 86_400, chain.address("f")
    )
    quotients = []
    for _ in range(40):
        n, d = int(rng.integers(1, 2**62)) << int(rng.integers(0, 100)), int(rng.integers(1, 2**59))
        quotients.append((n, d, int(rng.integers(-300, 300))))
    for _ in range(40):  # exactly halfway: 53 bits, a 1, then zeros
        kept = int(rng.integers(2**52, 2**53))
        quotients.append(
            (((kept << 1) | 1) << int(rng.integers(0, 60)), 1, int(rng.integers(-60, 60)))
        )
    for n, d, e in quotients:
        expected = as_significand(float(Fraction(n, d) * Fraction(2) ** e))
        assert mechanism.internal._round(n, d, e) == expected, (n, d, e)
    roots = [1, 2, 3, 2**52, 2**53 - 1] + [int(10 ** rng.uniform(0, 15.9)) for _ in range(40)]
    squares = [int(rng.integers(1, 2**26)) ** 2 for _ in range(20)]
    for s in roots + squares + [q - 1 for q in squares] + [q + 1 for q in squares]:
        assert mechanism.internal._sqrt(s) == as_significand(math.sqrt(s)), s


def test_deposit_matches_where_exact_arithmetic_does_not():
    """Pairs where floor(cost_weight * 60 / sqrt(s)) in exact arithmetic differs from the
    Python float formula, found by search: the contract follows the Python formula."""
    rng = np.random.default_rng(8)
    hard = []
    while len(hard) < 40:
        cost_weight = float(np.round(10 ** rng.uniform(-2, 12), int(rng.integers(0, 4))))
        s = int(10 ** rng.uniform(0, 12))
        exact = max(1, exact_floor(cost_weight, s)) if cost_weight > 0 else None
        if exact is not None and exact != python_deposit(cost_weight, s):
            hard.append((cost_weight, s))
    chain = EvmChain()
    sink = chain.address("fees")
    deployed = {}
    for cost_weight, s in hard:
        if cost_weight not in deployed:
            deployed[cost_weight] = chain.deploy(
                "deployer",
                "DepositRefundTake",
                *cost_weight_parts(cost_weight),
                1,
                86_400,
                9 * 86_400,
                sink,
            )[0]
        assert deployed[cost_weight].add_cost(s) == python_deposit(cost_weight, s)


# -- the cross-check catches a changed rule ---------------------------------------------


def _index_of(name: str) -> int:
    return next(i for i, step in enumerate(script()) if step.name == name)


def test_a_deposit_off_by_one_is_caught_at_the_first_add(monkeypatch):
    original = DepositRefundTake.add_cost

    def one_more(self, now):
        cost = original(self, now)
        return None if cost is None else cost + 1

    monkeypatch.setattr(DepositRefundTake, "add_cost", one_more)
    check = scripted_check()
    with pytest.raises(Mismatch) as caught:
        run_script(check, script())
    mismatch = caught.value
    assert (mismatch.index, mismatch.call, mismatch.sender) == (0, "add_data", "a")
    assert mismatch.field == "required deposit"
    assert mismatch.python == mismatch.evm + 1
    assert str(mismatch).startswith("transaction 0 (add_data by 'a' at t=1000): required deposit")


def test_a_refund_window_off_by_one_second_is_caught_at_the_window(monkeypatch):
    monkeypatch.setattr(
        DepositRefundTake, "refund_opens", lambda self, c: c.time + self.refund_window + 1
    )
    check = scripted_check()
    with pytest.raises(Mismatch) as caught:
        run_script(check, script())
    mismatch = caught.value
    assert mismatch.index == _index_of("refund at the window")
    assert (mismatch.call, mismatch.sender, mismatch.field) == ("refund", "a", "accepted")
    assert (mismatch.python, mismatch.evm) == (False, True)


def test_a_fee_remainder_paid_to_the_wrong_account_is_caught_with_the_account(monkeypatch):
    original = DepositRefundTake.predict

    def remainder_to_first_verified(self, sender, value, now):
        transfers = original(self, sender, value, now)
        if not self.good or not transfers:
            return transfers
        *shares, (payer, _, remainder) = transfers
        first = next(iter(self.good))
        return (*shares, (payer, first, remainder))

    monkeypatch.setattr(DepositRefundTake, "predict", remainder_to_first_verified)
    check = scripted_check()
    with pytest.raises(Mismatch) as caught:
        run_script(check, script())
    mismatch = caught.value
    assert mismatch.index == _index_of("fee shares")  # the first fee shared by verified ones
    assert (mismatch.call, mismatch.sender) == ("predict", "user")
    assert (mismatch.field, mismatch.account) == ("balance", "a")
    assert mismatch.python == mismatch.evm + 1  # a took the remainder of 10 shared 1:2
    assert f"transaction {mismatch.index} (predict by 'user'" in str(mismatch)
    assert "balance of 'a' differs" in str(mismatch)
