"""Limits on the work a config asks for, finite numbers, int64 money, and `validate` checking
every sweep point (issue 12, part A). The command-line cases are tests/bad_inputs/limit_*.toml;
these are the rest: `validate` and `--dry-run` on them, raising a limit, and the checks that
no config file reaches.
"""

import warnings
from pathlib import Path

import pytest
from scenarios import one_error_line

from sim import cli, limits
from sim.config import ConfigError, ExperimentConfig, validate
from sim.experiment import Experiment
from sim.registry import behaviour_class
from sim.runner import check_data, planned_runs

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "bad_inputs"


def raw(**experiment) -> dict:
    return {
        "experiment": {"name": "t", "duration_days": 1, **experiment},
        "data": {"dataset": "synthetic", "n_samples": 200, "n_features": 10},
        "agents": [{"name": "honest", "kind": "honest", "count": 1}],
    }


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(
    "name",
    [
        "limit_runs",
        "limit_sweep_points",
        "limit_samples",
        "limit_agents",
        "limit_events",
        "limit_duration_inf",
        "limit_later_point_test_samples",
        "limit_later_point_target_class",
        "limit_target_class_reencoded",
        "limit_internal_kind_market",
    ],
)
def test_validate_refuses_what_run_refuses(name, capsys):
    case = CASES / f"{name}.toml"
    expected = case.read_text().splitlines()[0].removeprefix("# expect: ")
    assert cli.main(["validate", str(case.relative_to(ROOT))]) == 2
    assert expected in one_error_line(capsys)


@pytest.mark.parametrize("name", ["limit_runs", "limit_sweep_points"])
def test_dry_run_counts_before_it_lists(name, capsys):
    assert cli.main(["run", str((CASES / f"{name}.toml").relative_to(ROOT)), "--dry-run"]) == 2
    assert "sim.limits.MAX_" in one_error_line(capsys)


def test_a_limit_is_raised_from_python(monkeypatch):
    with pytest.raises(ConfigError, match=r"experiment.replicates: 20,000 runs .*MAX_RUNS"):
        Experiment(raw(replicates=20_000))
    monkeypatch.setattr(limits, "MAX_RUNS", 20_000)
    assert len(planned_runs(Experiment(raw(replicates=20_000)))) == 20_000


def test_each_run_limit_is_read_when_the_config_is_checked(monkeypatch):
    Experiment(raw(eval_every_hours=1))  # 24 samples
    monkeypatch.setattr(limits, "MAX_SAMPLES", 23)
    with pytest.raises(ConfigError, match=r"eval_every_hours: 24 metric samples .*MAX_SAMPLES"):
        Experiment(raw(eval_every_hours=1))


def test_bounds_are_inclusive(monkeypatch):
    monkeypatch.setattr(limits, "MAX_COUNTER", 2**100)  # all the money, moved each action
    config = raw(seed=limits.MAX_SEED)
    config["agents"][0]["start_balance"] = limits.MAX_MONEY
    validate(config, "t")
    config["mechanism"] = {"kind": "prediction_market", "bounty": 1}
    over = "agents.0.start_balance: 4,611,686,018,427,387,905 units"
    with pytest.raises(ConfigError, match=over):
        validate(config, "t")


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("mechanism", "refund_window_days"),
        ("mechanism", "min_length_days"),
        ("agent", "claim_delay_days"),
        ("agent", "mean_deposit"),
        ("agent", "wait_jitter"),
        ("data", "class_sep"),
        ("data", "label_threshold"),
    ],
)
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_no_number_is_infinite_or_nan(section, key, value):
    config = raw()
    group = config["agents"][0]
    if section == "mechanism":
        kind = "dtr" if key == "refund_window_days" else "prediction_market"
        config["mechanism"] = {"kind": kind, key: value}
    elif section == "agent":
        group.update(kind="lazy", name="lazy", **{key: value})
    else:
        config["data"][key] = value
    with pytest.raises(ConfigError, match=rf"{key}: Input should be a finite number"):
        validate(config, "t")


def test_the_resolved_config_must_write_back_as_toml(monkeypatch):
    monkeypatch.setattr(ExperimentConfig, "resolved", lambda self: {"experiment": {"x": None}})
    with pytest.raises(ConfigError, match="t: the resolved config is not valid TOML"):
        Experiment(raw(), "t")


def test_internal_kinds_are_the_mechanisms_own():
    with pytest.raises(ValueError, match="added by its mechanism, not by a config"):
        behaviour_class("bounty_provider", internal=False)
    assert behaviour_class("bounty_provider").internal
    assert not behaviour_class("honest", internal=False).internal
    market = Experiment({**raw(), "mechanism": {"kind": "prediction_market"}})
    check_data(market)  # the market still adds its own provider


def test_a_class_outside_reencoded_labels_warns_nothing():
    config = raw()
    config["data"] = {"dataset": f"csv:{CASES / 'labels_0_7.csv'}"}
    config["agents"].append(
        {
            "name": "attacker",
            "kind": "adversarial",
            "strategy": "targeted",
            "target_class": 7,
            "count": 1,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConfigError, match="re-encoded as 0..1 in sorted order"):
            check_data(Experiment(config, "t"))
