"""Lazy contributors: what each strategy submits, when they claim, and that they never report."""

import numpy as np
import pytest
from scenarios import build, small_config
from scipy import stats

from agents.lazy import Lazy
from sim.chain import DAY
from sim.config import ConfigError, validate
from sim.registry import behaviour_class

REFUND_WINDOW = 1 * DAY  # as in small_config
TAKE_WINDOW = 9 * DAY
WAIT = 0.5 * 3600  # every group here acts every half hour


def config_with(group: dict, honest: int = 3, days: float = 14, **sections):
    """small_config's honest agents (3 of them) plus one `group` in place of the attacker;
    `sections` update the config's other tables (data={...}, model={...})."""
    raw = small_config(duration_days=days).model_dump(exclude_none=True)
    raw["agents"] = [
        {**raw["agents"][0], "count": honest},
        {"name": "lazy", "count": 1, "mean_wait_hours": 0.5, "mean_deposit": 50, **group},
    ]
    for section, values in sections.items():
        raw[section].update(values)
    return validate(raw, "test")


def run(group: dict, honest: int = 3, days: float = 14, record_adds: bool = False, **sections):
    model = build(config_with(group, honest, days, **sections), strict=False)
    model.adds = []
    if record_adds:
        # (sender, model's prediction just before the add, submitted label)
        contract = model.contract
        add_data = contract.add_data

        def recording_add_data(sender, value, x, y):
            model.adds.append((sender, contract.learner.predict(contract.samples[x]), y))
            return add_data(sender, value, x, y)

        contract.add_data = recording_add_data
    model.run()
    return model


def own(model, sender="lazy-0"):
    return [c for c in model.contract.contributions if c.sender == sender]


def refund_rate(model, sender="lazy-0"):
    """Share of its contributions refunded, of those whose refund window has opened."""
    due = [c for c in own(model, sender) if c.time + REFUND_WINDOW < model.time]
    assert len(due) > 100
    refunded = model.contract.mechanism.refunded  # DTR's ids of refunded contributions
    return np.mean([c.id in refunded for c in due])


def refund_lags(model, sender="lazy-0"):
    """Seconds from refund window opening to the refund, for contributions whose window
    opened at least six days before the end (so late claims are seldom cut off)."""
    contributions = model.contract.contributions
    return np.array(
        [
            tx.time - (contributions[tx.contribution_id].time + REFUND_WINDOW)
            for tx in model.ledger.log
            if tx.sender == sender
            and tx.call == "refund"
            and contributions[tx.contribution_id].time + REFUND_WINDOW + 6 * DAY < model.time
        ]
    )


def calls(model, sender="lazy-0"):
    return {tx.call for tx in model.ledger.log if tx.sender == sender}


@pytest.fixture(scope="module")
def copier():
    return run({"kind": "lazy", "strategy": "copy_model", "claim": "prompt"}, record_adds=True)


@pytest.fixture(scope="module")
def guesser():
    return run({"kind": "lazy", "strategy": "random_label", "claim": "never"})


@pytest.fixture(scope="module")
def duplicator():
    return run({"kind": "lazy", "strategy": "duplicate", "claim": "late", "claim_delay_days": 1})


def test_registered_with_copy_model_by_default():
    assert behaviour_class("lazy") is Lazy
    assert list(Lazy.strategies) == ["copy_model", "random_label", "duplicate"]
    assert not Lazy.reports_bad_data and not Lazy.takes_leftovers
    group = config_with({"kind": "lazy"}).agents[1]
    assert group.strategy == "copy_model" and group.params().claim == "late"


def test_copy_model_submits_exactly_the_models_prediction(copier):
    adds = [(prediction, label) for sender, prediction, label in copier.adds if sender == "lazy-0"]
    predictions, labels = np.array(adds).T
    assert len(adds) > 100 and np.array_equal(labels, predictions)
    # It copies the model, not the truth: where the model is wrong, so is the copy.
    true = copier.split.y_pool[[c.sample for c in own(copier)]]
    assert 0.05 < np.mean(labels != true) < 0.5 and set(labels) == {0, 1}


def test_copy_model_is_refunded_as_if_it_were_good_data(copier):
    """DTR rewards agreement with the model, so copying it is almost always refunded,
    far more often than wrong labels submitted by the same kind of account."""
    flipper = run({"kind": "adversarial", "strategy": "label_flip"})
    copied, flipped = refund_rate(copier), refund_rate(flipper)
    assert copied > 0.8 and copied > flipped + 0.1


def test_prompt_claim_refunds_at_the_first_action_after_the_window(copier):
    lags = refund_lags(copier)
    assert len(lags) > 50
    # Next action within a wait (normal, mean 30 min, std 3 min) of the window opening.
    assert lags.min() >= 0 and lags.max() < WAIT * 1.5


def test_random_label_draws_every_class_equally(guesser):
    contributions = own(guesser)
    labels = np.array([c.label for c in contributions])
    true = guesser.split.y_pool[[c.sample for c in contributions]]
    assert len(labels) > 100
    assert stats.chisquare(np.bincount(labels, minlength=2)).pvalue > 0.001
    # Uniform over all classes, the true one included: about half are wrong on binary data.
    assert abs(np.mean(labels != true) - 0.5) < 3 * 0.5 / np.sqrt(len(labels))


def test_random_label_on_multiclass_data_uses_every_class():
    model = run(
        {"kind": "lazy", "strategy": "random_label"},
        days=6,
        data={"n_classes": 4},
        model={"kind": "nearest_centroid"},
    )
    labels = np.array([c.label for c in own(model)])
    counts = np.bincount(labels, minlength=4)
    assert len(counts) == 4 and counts.sum() > 100
    assert stats.chisquare(counts).pvalue > 0.001


def test_never_claim_leaves_its_deposits_to_others(guesser):
    assert calls(guesser) == {"add_data"}  # no refund, no report, not even its own leftovers
    stats_ = guesser.contract.stats["lazy-0"]
    assert stats_["refunded"] == 0 and stats_["lost"] > 0
    old = [c for c in own(guesser) if c.time + TAKE_WINDOW + WAIT * 2 < guesser.time]
    mechanism = guesser.contract.mechanism
    assert len(old) > 50
    assert all(mechanism.held(c) == 0 and c.id not in mechanism.refunded for c in old)


def test_late_claim_waits_about_claim_delay_days(copier, duplicator):
    late, prompt = refund_lags(duplicator), refund_lags(copier)
    assert len(late) > 50
    # Exponential with a 1-day mean (plus up to one wait); prompt claims within the hour.
    assert late.mean() / DAY == pytest.approx(1.0, rel=0.25)
    assert late.mean() > 20 * prompt.mean()


def test_duplicate_takes_no_fresh_sample(duplicator):
    contributions = duplicator.contract.contributions
    mine = own(duplicator)
    assert len(mine) > 100
    for c in mine:  # each repeats an earlier (sample, label) pair, of any sender
        assert any((e.sample, e.label) == (c.sample, c.label) for e in contributions[: c.id])
    # Drawn from the whole history, not the latest: first submitted about halfway back.
    first = {}
    for c in contributions:
        first.setdefault(c.sample, c.id)
    assert 0.3 < np.mean([first[c.sample] / c.id for c in mine]) < 0.7
    # The pool only moves on for the honest agents' fresh samples.
    fresh = len(contributions) - len(mine)
    assert duplicator.peek_sample()[0] == fresh


def test_duplicate_submits_nothing_until_someone_has_contributed():
    model = run({"kind": "lazy", "strategy": "duplicate", "count": 2}, honest=0, days=2)
    assert model.contract.contributions == [] and model.ledger.log == []


def test_lazy_agents_never_report_others(copier, guesser, duplicator):
    for model in (copier, guesser, duplicator):
        for tx in model.ledger.log:
            if tx.sender == "lazy-0" and tx.call == "report":
                # Only taking back its own leftovers, once the take window has passed.
                contribution = model.contract.contributions[tx.contribution_id]
                assert contribution.sender == "lazy-0"
                assert tx.time >= contribution.time + TAKE_WINDOW


@pytest.mark.parametrize(
    ("group", "key"),
    [
        ({"strategy": "freeload"}, "agents.1.strategy"),
        ({"claim": "sometimes"}, "agents.1.claim"),
        ({"claim_delay_days": 0}, "agents.1.claim_delay_days"),
        ({"mistake_rate": 0.1}, "agents.1.mistake_rate"),
    ],
)
def test_config_rejects_bad_lazy_keys(group, key):
    with pytest.raises(ConfigError, match=rf"^test: {key}: "):
        config_with({"kind": "lazy", **group})


def test_population_lazy_rate_builds_a_lazy_group():
    raw = small_config().model_dump(exclude_none=True)
    del raw["agents"]
    raw["population"] = {"contributors": 10, "lazy_rate": 0.3, "lazy_strategy": "duplicate"}
    config = validate(raw, "test")
    lazy = [group for group in config.groups() if group.kind == "lazy"]
    assert [(g.name, g.count, g.strategy) for g in lazy] == [("lazy", 3, "duplicate")]
    agents = [agent for agent in build(config).agents if isinstance(agent, Lazy)]
    assert len(agents) == 3 and {agent.strategy for agent in agents} == {"duplicate"}

    raw["population"]["lazy_strategy"] = "nap"
    with pytest.raises(ConfigError, match="population.lazy_strategy: unknown strategy 'nap'"):
        validate(raw, "test")
