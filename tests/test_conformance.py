"""One conformance suite over every registered mechanism, agent kind and learner, in the
spirit of scikit-learn's `parametrize_with_checks`: a new kind, built-in or plugin, is
checked here with no edit to this file.

- Mechanisms, with every agent kind a config can add: money is conserved after every
  transaction (a strict ledger), adds are accepted, a run is deterministic, summary.csv
  has every kind's columns, an add pays its deposit into the contract, which holds what
  the mechanism says it holds, and a call the rules refuse changes nothing at all.
- Agent kinds, next to honest contributors under DTR: the same, and their own columns
  hold their own accounts.
- Every kind is documented: a description, and a description for each of its parameters
  (docs/configs.md is generated from them).

- Learners: `predict_many` agrees with `predict`, a copy is independent, and every form
  of the same data (dense, scipy sparse, Features in either layout, views) gives the same
  model and predictions.
"""

import numpy as np
import pandas as pd
import pytest
from scenarios import Chain, csr_layout, dense_layout, differences, random_binary, snapshot
from scipy import sparse

from sim.chain import DAY
from sim.config import validate
from sim.learners.base import make_learner
from sim.ledger import Rejected
from sim.registry import behaviours, learners, mechanisms, summarised_kinds
from sim.simulation import build_model, make_split, simulate

DATA = {"dataset": "synthetic", "n_samples": 600, "n_features": 30, "binary": True}


def run_config(mechanism: str, groups: list[dict], seed: int = 1) -> dict:
    return {
        "experiment": {"seed": seed, "duration_days": 6, "eval_every_hours": 24},
        "data": {**DATA, "initial_fraction": 0.1, "test_fraction": 0.25},
        "model": {"kind": "perceptron"},
        "mechanism": {"kind": mechanism},
        "agents": groups,
    }


def group(kind: str, count: int = 1) -> dict:
    return {"name": kind, "kind": kind, "count": count, "mean_wait_hours": 0.5}


def everyone() -> list[dict]:
    """One group of every agent kind a config can add, each with its defaults."""
    return [group(kind, count=2 if kind == "honest" else 1) for kind in summarised_kinds()]


def assert_same_results(a, b) -> None:
    assert a.summary.keys() == b.summary.keys()
    for key in a.summary:
        assert a.summary[key] == b.summary[key] or (
            pd.isna(a.summary[key]) and pd.isna(b.summary[key])
        ), key
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.agents, b.agents)


def check_documented(cls, what: str) -> None:
    description = cls.description if hasattr(cls, "description") else cls.__doc__
    assert description and description.strip(), f"{what} {cls.kind} has no description"
    for name, field in cls.Params.model_fields.items():
        assert field.description, f"{what} {cls.kind}: parameter {name} has no description"


# -- mechanisms ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(mechanisms()))
def test_mechanism_conserves_money_and_is_deterministic_with_every_agent_kind(kind):
    config = validate(run_config(kind, everyone()), "conformance")
    first = simulate(config, 0, strict=True)  # the ledger is checked after every call
    assert first.summary["contributions"] > 0
    for agent_kind in summarised_kinds():
        assert f"{agent_kind}_roi" in first.summary and f"{agent_kind}_accepted" in first.summary
    assert set(summarised_kinds()) <= set(first.agents["kind"])
    assert_same_results(first, simulate(config, 0, strict=True))


@pytest.mark.parametrize("kind", sorted(mechanisms()))
def test_an_add_pays_its_deposit_into_the_contract_which_holds_what_is_owed(kind):
    """A contribution's `deposit` is what its add moved from the sender into the contract,
    and what the mechanism says it still holds is in the contract's account."""
    config = validate(run_config(kind, everyone()), "conformance")
    model = build_model(config, make_split(config, 0), 0, strict=True)
    model.run()
    contract = model.contract
    for tx in model.ledger.log:
        if tx.call == "add_data":
            c = contract.contributions[tx.contribution_id]
            assert tx.transfers == (((c.sender, contract.address, c.deposit),) if c.deposit else ())
    held = [contract.mechanism.held(c) for c in contract.contributions]
    assert min(held, default=0) >= 0
    assert sum(held) <= model.ledger[contract.address]


REFUSED = {
    "an add of a sample outside the pool": lambda c, cost: c.add_data("a", cost, 10**6, 0),
    "an add with a label that is not a class": lambda c, cost: c.add_data("a", cost, 0, 7),
    "an add sent by no account holder": lambda c, cost: c.add_data("stranger", cost, 0, 0),
    "an add that pays less than it costs": lambda c, cost: c.add_data("a", cost - 1, 0, 0),
    "a refund of no contribution": lambda c, cost: c.refund("a", 99),
    "a report of no contribution": lambda c, cost: c.report("b", 99),
    "a call the mechanism does not have": lambda c, cost: c.call("a", "no_such_call"),
}


@pytest.mark.parametrize("call", sorted(REFUSED))
@pytest.mark.parametrize("kind", sorted(mechanisms()))
def test_a_refused_call_changes_nothing(kind, call):
    cls = mechanisms()[kind]
    rng = np.random.default_rng(0)
    samples = rng.integers(0, 2, size=(20, 5)).astype(float)
    learner = make_learner("perceptron", 5, 2)
    chain = Chain(cls(cls.Params()), learner, samples, {"a": 1_000, "b": 1_000})
    contract = chain.at(DAY)
    cost = chain.mechanism.add_cost(DAY) or 0
    before = snapshot(chain)
    with pytest.raises(Rejected):
        REFUSED[call](contract, cost)
    assert not differences(before, snapshot(chain))
    chain.ledger.check()


@pytest.mark.parametrize("kind", sorted(mechanisms()))
def test_mechanism_is_documented(kind):
    check_documented(mechanisms()[kind], "mechanism")


# -- agent kinds --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", summarised_kinds())
def test_agent_kind_conserves_money_and_is_deterministic_beside_honest_agents(kind):
    groups = [group("honest", count=2)] if kind != "honest" else []
    config = validate(run_config("dtr", [*groups, group(kind, count=2)]), "conformance")
    first = simulate(config, 0, strict=True)
    # The kind's columns summarise exactly its own two accounts.
    mine = first.agents[first.agents["kind"] == kind]
    assert mine["agent"].nunique() == 2
    change = (mine.groupby("agent")["balance"].last() - 10_000).mean()
    assert first.summary[f"{kind}_balance_change"] == change
    assert first.summary[f"{kind}_roi"] == pytest.approx(change / 10_000, rel=1e-12)
    assert_same_results(first, simulate(config, 0, strict=True))


@pytest.mark.parametrize("kind", sorted(behaviours()))
def test_agent_kind_is_documented(kind):
    cls = behaviours()[kind]
    check_documented(cls, "agent kind")
    for strategy, text in cls.strategies.items():
        assert text, f"agent kind {kind}: strategy {strategy} has no description"


# -- learners -----------------------------------------------------------------------------


@pytest.fixture(params=sorted(learners()))
def trained(request):
    X, y = random_binary()
    model = learners()[request.param](X.shape[1], 2).fit(X[:300], y[:300], np.random.default_rng(0))
    return model, X[300:], y[300:]


def test_predict_many_returns_int64_matching_predict(trained):
    model, X, _ = trained
    predictions = model.predict_many(X)
    assert predictions.dtype == np.int64
    assert [model.predict(x) for x in X] == predictions.tolist()


@pytest.mark.parametrize("kind", sorted(learners()))
def test_every_form_of_the_data_gives_the_same_model_and_predictions(kind):
    """Dense arrays, scipy sparse matrices, Features and views of Features are one data:
    fitting, predicting and updating on any of them gives identical states."""
    X, y = random_binary()
    counts = X * np.random.default_rng(1).integers(1, 4, size=X.shape)  # not only 0/1
    whole, dense = csr_layout(counts), dense_layout(counts)  # nonzeros only; every value
    forms = [counts[:300], sparse.csr_array(counts[:300]), whole[:300], whole[np.arange(300)]]
    forms += [dense[:300]]
    models = [
        learners()[kind](X.shape[1], 2).fit(f, y[:300], np.random.default_rng(0)) for f in forms
    ]
    for model in models:
        model.update(counts[300], int(1 - y[300]))  # a dense row
        model.update(whole[301], int(1 - y[301]))  # a Row
    states = [model.state() for model in models]
    for state in states[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(state, states[0], strict=True))
    expected = models[0].predict_many(counts[302:])
    for model in models:
        np.testing.assert_array_equal(model.predict_many(whole[302:]), expected)
        np.testing.assert_array_equal(model.predict_many(dense[302:]), expected)
        assert [model.predict(whole[i]) for i in range(302, len(y))] == expected.tolist()
        assert [model.predict(dense[i]) for i in range(302, len(y))] == expected.tolist()


def test_copy_is_independent(trained):
    model, X, y = trained
    before = model.state()
    clone = model.copy()
    for x_i, y_i in zip(X, y, strict=True):
        clone.update(x_i, int(1 - y_i))  # wrong labels: every learner changes
    assert all(np.array_equal(a, b) for a, b in zip(before, model.state(), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(before, clone.state(), strict=True))


@pytest.mark.parametrize("kind", sorted(learners()))
def test_learner_is_documented(kind):
    check_documented(learners()[kind], "model")
