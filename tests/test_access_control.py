"""Access control: who may make which call, when, and how often.

One test per rule; a rule several mechanisms share is parametrized over them. The
forbidden call must raise `Rejected` for its own reason and move nothing: every balance,
their sum, every account's points and what is left of each contribution stay as they
were. Each test also shows the call succeeding for the right account or at the right time
(after the forbidden one where it would use the claim up, before it for claims made
twice), so no test can pass vacuously.

dtr, gamified, prediction_market (the mechanisms with claims):
- only the submitter refunds (validates, withdraws) its contribution;
- nothing is refunded twice;
- nothing is reported (taken) after its refund;
- nothing is taken twice (gamified: one report per contribution in total);
- nothing is refunded after it was taken.
dtr, gamified:
- no refund before the refund window has passed;
- no report before the refund window has passed;
- nobody reports their own contribution (dtr: inside the take window);
- no reporter reports the same contribution twice.
dtr:
- the submitter takes its own deposit only after the take window;
- a reporter inside the take window needs a verified contribution;
- a prediction fee is paid in full by its sender and is never negative.
gamified:
- nothing is validated or reported after the expiry window;
- adds carry no money.
none: no refunds and no reports.
gamified, none, prediction_market: no prediction fees.
dtr, gamified, none: none of the prediction market's own calls.
prediction_market:
- nothing is paid out (withdrawn or taken) before the rewards are processed;
- an unclaimed balance is taken only after the claim window;
- an account's balance is withdrawn once, whichever of its contributions is named;
- only the bounty provider reveals the test set;
- only the bounty provider ends the market;
- the market is initialised once: nobody takes it over;
- contributions are taken only while the market runs.
every mechanism: only account holders send calls, never the contract's own accounts.
"""

import copy

import numpy as np
import pytest
import scenarios
from scenarios import ScriptedLearner, assert_refused

from mechanisms.dtr import DepositRefundTake, DTRParams
from mechanisms.gamified import Gamified, GamifiedParams
from mechanisms.none import Open
from mechanisms.prediction_market import (
    Phase,
    PredictionMarket,
    PredictionMarketParams,
    commitment,
)
from sim.chain import DAY
from sim.features import Features
from sim.params import Params

ACCOUNTS = ("a", "b", "c", "d")
PROVIDER = "provider"
START = 1_000
BOUNTY = 500
STAKE = 10

# The model predicts the label written in a sample's only feature.
SAMPLES = np.array([[1.0], [0.0]])
GOOD = (0, 1)
"""(sample, label) the model agrees with."""
BAD = (1, 1)
"""(sample, label) the model disagrees with."""

MECHANISMS = {
    "dtr": lambda: DepositRefundTake(DTRParams(min_deposit=STAKE)),
    "gamified": lambda: Gamified(GamifiedParams()),
    "none": lambda: Open(Params()),
    "prediction_market": lambda: PredictionMarket(
        PredictionMarketParams(
            bounty=BOUNTY,
            test_portions=2,
            min_stake=STAKE,
            min_length_days=1,
            min_contributions=100,
            claim_window_days=1,
        )
    ),
}

# The hidden test set in two committed portions: (rows, labels, salt).
TEST_SET = [
    (np.array([[1.0]]), np.array([1]), b"\x00" * 32),
    (np.array([[0.0]]), np.array([0]), b"\x01" * 32),
]
COMMITMENTS = [commitment(*portion) for portion in TEST_SET]


class Learner(ScriptedLearner):
    """Predicts the label in a sample's only feature, whatever it learns: no contribution
    changes a prediction market's test score, so every stake is owed back in full."""

    n_features = 1

    def copy(self):
        return copy.deepcopy(self)

    def predict_many(self, X):
        return Features.from_array(X).toarray()[:, 0].astype(int)


class Chain(scenarios.Chain):
    """A contract with one mechanism: a, b, c and d hold START units each; the bounty
    provider holds BOUNTY."""

    def __init__(self, kind):
        balances = dict.fromkeys(ACCOUNTS, START) | {PROVIDER: BOUNTY}
        super().__init__(MECHANISMS[kind](), Learner(), SAMPLES.copy(), balances)

    def add(self, sender, sample, label, at):
        """Add, paying what the mechanism asks for now."""
        return self.at(at).add_data(sender, self.mechanism.add_cost(at), sample, label)

    def model_says(self, contribution, right):
        """Make the model predict the contribution's label (right) or the other one."""
        label = contribution.label if right else 1 - contribution.label
        self.contract.samples[contribution.sample] = label


def per_kind(**reasons):
    """Parametrize over mechanism kinds, each with the reason it gives for the rejection."""
    return pytest.mark.parametrize(("kind", "reason"), list(reasons.items()), ids=list(reasons))


# -- setups --------------------------------------------------------------------------------


def market(opened=True):
    """A prediction market the provider has funded and committed to (and opened)."""
    chain = Chain("prediction_market")
    initialize(chain)
    if opened:
        reveal(chain, chain.mechanism.first_portion)
    return chain


def initialize(chain, sender=PROVIDER):
    """Pay the bounty and commit to the test set's portions."""
    rng = np.random.default_rng(0)
    chain.contract.call(sender, "initialize_market", BOUNTY, commitments=COMMITMENTS, rng=rng)


def reveal(chain, index, sender=PROVIDER):
    """Reveal one test-set portion, as committed."""
    X, y, salt = TEST_SET[index]
    chain.contract.call(sender, "reveal_portion", index=index, X=X, y=y, salt=salt)


def move_to(chain, phase):
    """Move an open market on to `phase` once it may end: the provider ends it and reveals
    the other portion, then c (anyone may) processes the rewards."""
    market = chain.mechanism
    chain.now = max(chain.now, market.end_by_length())
    steps = {
        Phase.PARTICIPATION: lambda: chain.contract.call(PROVIDER, "end_market"),
        Phase.REVEAL: lambda: reveal(chain, 1 - market.first_portion),
        Phase.REWARD: lambda: chain.contract.call("c", "process_rewards"),
    }
    while market.phase is not phase:
        steps[market.phase]()


def claimable(kind):
    """a's contribution, the model agreeing, with the clock where a may first claim it:
    refund (dtr), validate (gamified) or withdraw (prediction market, after the rewards)."""
    chain = market() if kind == "prediction_market" else Chain(kind)
    mine = chain.add("a", *GOOD, at=100)
    if kind == "prediction_market":
        move_to(chain, Phase.COLLECTION)
    chain.now = chain.mechanism.refund_opens(mine)
    return chain, mine


def to_take_time(chain, contribution):
    """Move the clock to when anyone may take the contribution: after dtr's take window or
    the market's claim window (gamified's report window is open already)."""
    opens = chain.mechanism.take_all_opens(contribution)
    if opens is not None:
        chain.now = opens


def bad_contribution(kind):
    """b and c have one verified contribution each; then a adds one the model disagrees
    with. The clock stands at a's add."""
    chain = Chain(kind)
    goods = [chain.add("b", *GOOD, at=100), chain.add("c", *GOOD, at=200)]
    for good in goods:
        chain.at(DAY + 200).refund(good.sender, good.id)
    return chain, chain.add("a", *BAD, at=DAY + 300)


# -- every mechanism ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MECHANISMS))
@pytest.mark.parametrize("sender", ["stranger", "contract", "fees"])
def test_only_account_holders_send_calls(kind, sender):
    chain = market() if kind == "prediction_market" else Chain(kind)
    mine = chain.add("a", *GOOD, at=100)
    contract = chain.at(100 + 30 * DAY)
    match = "not an account that may send calls"
    assert_refused(chain, contract.add_data, sender, 0, *GOOD, match=match)
    assert_refused(chain, contract.refund, sender, mine.id, match=match)
    assert_refused(chain, contract.report, sender, mine.id, match=match)
    assert_refused(chain, contract.predict, sender, 0, SAMPLES[0], match=match)
    assert_refused(chain, contract.call, sender, "end_market", match=match)
    chain.add("b", *GOOD, at=contract.clock())


# -- every mechanism with claims -----------------------------------------------------------


@per_kind(
    dtr="only the submitter may refund",
    gamified="only the submitter may validate",
    prediction_market="only the contributor withdraws",
)
def test_only_the_submitter_refunds(kind, reason):
    chain, mine = claimable(kind)
    assert_refused(chain, chain.contract.refund, "b", mine.id, match=reason)
    chain.contract.refund("a", mine.id)


@per_kind(
    dtr="already refunded", gamified="already validated", prediction_market="already paid out"
)
def test_nothing_is_refunded_twice(kind, reason):
    chain, mine = claimable(kind)
    chain.contract.refund("a", mine.id)
    assert_refused(chain, chain.contract.refund, "a", mine.id, match=reason)


@per_kind(dtr="nothing is left", gamified="already validated", prediction_market="already paid out")
def test_nothing_is_reported_after_its_refund(kind, reason):
    chain, mine = claimable(kind)
    chain.contract.refund("a", mine.id)
    to_take_time(chain, mine)
    chain.model_says(mine, right=False)
    assert_refused(chain, chain.contract.report, "c", mine.id, match=reason)


def taken_by_c(kind):
    """a's contribution, taken by c as soon as anyone may (the model disagreeing)."""
    chain, mine = claimable(kind)
    to_take_time(chain, mine)
    chain.model_says(mine, right=False)
    chain.contract.report("c", mine.id)
    return chain, mine


ALREADY_TAKEN = per_kind(
    dtr="nothing is left",
    gamified="already reported by c",
    prediction_market="already paid out",
)


@ALREADY_TAKEN
def test_nothing_is_taken_twice(kind, reason):
    chain, mine = taken_by_c(kind)
    assert_refused(chain, chain.contract.report, "b", mine.id, match=reason)
    assert_refused(chain, chain.contract.report, "c", mine.id, match=reason)


@ALREADY_TAKEN
def test_nothing_is_refunded_after_it_was_taken(kind, reason):
    chain, mine = taken_by_c(kind)
    chain.model_says(mine, right=True)
    assert_refused(chain, chain.contract.refund, "a", mine.id, match=reason)


# -- dtr and gamified: the refund window and reports ---------------------------------------

WINDOWED = pytest.mark.parametrize("kind", ["dtr", "gamified"])


@WINDOWED
def test_no_refund_before_the_refund_window(kind):
    chain = Chain(kind)
    mine = chain.add("a", *GOOD, at=100)
    opens = chain.mechanism.refund_opens(mine)
    assert_refused(chain, chain.at(opens - 1).refund, "a", mine.id, match="refund window")
    chain.at(opens).refund("a", mine.id)


@WINDOWED
def test_no_report_before_the_refund_window(kind):
    chain, bad = bad_contribution(kind)
    opens = chain.mechanism.report_opens(bad)
    assert_refused(chain, chain.at(opens - 1).report, "b", bad.id, match="refund window")
    chain.at(opens).report("b", bad.id)


@per_kind(dtr="cannot take your own deposit", gamified="cannot report your own")
def test_nobody_reports_their_own_contribution(kind, reason):
    chain, bad = bad_contribution(kind)
    contract = chain.at(chain.mechanism.report_opens(bad))
    assert_refused(chain, contract.report, "a", bad.id, match=reason)
    contract.report("b", bad.id)


@per_kind(dtr="b already reported", gamified="already reported by b")
def test_no_reporter_reports_the_same_contribution_twice(kind, reason):
    chain, bad = bad_contribution(kind)
    contract = chain.at(chain.mechanism.report_opens(bad))
    contract.report("b", bad.id)
    assert_refused(chain, contract.report, "b", bad.id, match=reason)


# -- dtr -----------------------------------------------------------------------------------


def test_dtr_submitter_takes_its_own_deposit_only_after_the_take_window():
    chain, bad = bad_contribution("dtr")
    opens = chain.mechanism.take_all_opens(bad)
    late = chain.at(opens - 1)
    assert_refused(chain, late.report, "a", bad.id, match="cannot take your own deposit")
    assert chain.at(opens).report("a", bad.id) == bad.deposit


def test_dtr_reporter_needs_a_verified_contribution():
    chain, bad = bad_contribution("dtr")
    contract = chain.at(chain.mechanism.report_opens(bad))
    assert_refused(chain, contract.report, "d", bad.id, match="no verified good contribution")
    contract.report("b", bad.id)


def test_dtr_prediction_fee_is_paid_in_full_and_never_negative():
    chain = Chain("dtr")
    x = SAMPLES[0]
    chain.contract.predict("d", 5, x)
    assert chain.ledger["d"] == START - 5
    assert_refused(chain, chain.contract.predict, "d", -1, x, match="negative value")
    assert_refused(chain, chain.contract.predict, "d", START, x, match="needs")


# -- gamified ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "sender", "data"),
    [("refund", "a", GOOD), ("report", "b", BAD)],
    ids=["validate", "report"],
)
def test_gamified_nothing_is_judged_after_the_expiry_window(call, sender, data):
    chain = Chain("gamified")
    first, second = chain.add("a", *data, at=100), chain.add("a", *data, at=100)
    expires = chain.mechanism.expires(first)
    getattr(chain.at(expires - 1), call)(sender, first.id)
    assert_refused(chain, getattr(chain.at(expires), call), sender, second.id, match="expired")


def test_gamified_adds_carry_no_money():
    chain = Chain("gamified")
    chain.at(100).add_data("a", 0, *GOOD)
    assert_refused(chain, chain.contract.add_data, "a", 5, *GOOD, match="takes no deposits")


# -- none ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "reason"),
    [("refund", "no refunds"), ("report", "no reports")],
    ids=["refund", "report"],
)
def test_open_baseline_has_no_refunds_or_reports(call, reason):
    chain = Chain("none")
    mine = chain.add("a", *GOOD, at=100)
    contract = chain.at(100 + 10 * DAY)
    for sender in ("a", "b"):
        assert_refused(chain, getattr(contract, call), sender, mine.id, match=reason)


# -- fees and calls of the mechanism's own -------------------------------------------------


@pytest.mark.parametrize("kind", ["gamified", "none", "prediction_market"])
def test_no_prediction_fees(kind):
    chain = Chain(kind)
    chain.contract.predict("d", 0, SAMPLES[0])
    match = "takes no prediction fees"
    assert_refused(chain, chain.contract.predict, "d", 5, SAMPLES[0], match=match)


@pytest.mark.parametrize("kind", ["dtr", "gamified", "none"])
def test_no_prediction_market_calls_elsewhere(kind):
    chain = Chain(kind)
    for name in PredictionMarket.calls:
        assert_refused(chain, chain.contract.call, PROVIDER, name, match="has no call")


# -- prediction market ---------------------------------------------------------------------


@pytest.mark.parametrize("phase", [Phase.PARTICIPATION, Phase.REVEAL, Phase.REWARD], ids=str)
def test_market_pays_nothing_out_before_the_rewards(phase):
    chain = market()
    mine = chain.add("a", *GOOD, at=100)
    move_to(chain, phase)
    assert_refused(chain, chain.contract.refund, "a", mine.id, match="not been processed")
    assert_refused(chain, chain.contract.report, "c", mine.id, match="not been processed")
    move_to(chain, Phase.COLLECTION)
    assert chain.contract.refund("a", mine.id) == STAKE


def test_market_unclaimed_balance_is_taken_only_after_the_claim_window():
    chain, mine = claimable("prediction_market")
    opens = chain.mechanism.take_all_opens(mine)
    assert_refused(chain, chain.at(opens - 1).report, "c", mine.id, match="claim window")
    assert chain.at(opens).report("c", mine.id) == STAKE


def test_market_balance_is_withdrawn_once_whichever_contribution_is_named():
    chain = market()
    first, second = chain.add("a", *GOOD, at=100), chain.add("a", *BAD, at=200)
    move_to(chain, Phase.COLLECTION)
    assert chain.contract.refund("a", second.id) == 2 * STAKE
    assert_refused(chain, chain.contract.refund, "a", first.id, match="already paid out")


def test_market_only_the_provider_reveals_the_test_set():
    chain = market(opened=False)
    first = chain.mechanism.first_portion
    match = "only the bounty provider"
    assert_refused(chain, reveal, chain, first, sender="a", match=match)
    reveal(chain, first)
    move_to(chain, Phase.REVEAL)
    assert_refused(chain, reveal, chain, 1 - first, sender="a", match=match)
    reveal(chain, 1 - first)
    assert chain.mechanism.phase is Phase.REWARD


def test_market_only_the_provider_ends_the_market():
    chain = market()
    contract = chain.at(chain.mechanism.end_by_length())
    assert_refused(chain, contract.call, "a", "end_market", match="only the bounty provider")
    contract.call(PROVIDER, "end_market")


def test_market_is_initialised_once():
    chain = market(opened=False)
    for sender in ("a", PROVIDER):
        assert_refused(chain, initialize, chain, sender, match="already initialised")
    assert chain.mechanism.provider == PROVIDER


@pytest.mark.parametrize("phase", [Phase.REVEAL, Phase.REWARD, Phase.COLLECTION], ids=str)
def test_market_takes_contributions_only_while_it_runs(phase):
    chain = market()
    chain.add("a", *GOOD, at=100)
    move_to(chain, phase)
    match = f"not accepted in the {phase} phase"
    assert_refused(chain, chain.contract.add_data, "b", STAKE, *GOOD, match=match)
