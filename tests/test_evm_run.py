"""`decai run --chain evm`: a whole simulation with every contract call also run on the Vyper
contracts (sim/evm/mirror.py), compared after each transaction. Needs the evm extra (part
of the test extra): without it every test fails with the import error, none is skipped."""

import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from scenarios import fail_without_evm

from mechanisms.dtr import DepositRefundTake
from sim.cli import main
from sim.config import ConfigError, validate
from sim.experiment import Experiment
from sim.runner import RunsFailed, run_experiment
from sim.simulation import build_model, make_split, simulate

try:
    from sim.evm.crosscheck import Mismatch
except Exception as error:  # the evm extra is missing: fail each test with the reason
    IMPORT_ERROR: Exception | None = error
else:
    IMPORT_ERROR = None

CONFIG = Path(__file__).resolve().parent.parent / "experiments" / "evm_check.toml"


@pytest.fixture(autouse=True)
def _evm_installed():
    fail_without_evm(IMPORT_ERROR)


def evm_check(*overrides: str):
    return Experiment.from_file(CONFIG, list(overrides)).points[0][1]


@pytest.fixture(scope="module")
def checked_run():
    """The shipped evm_check experiment, run with every call cross-checked."""
    config = evm_check()
    assert config.experiment.chain == "evm"
    model = build_model(config, make_split(config, 0), 0)
    model.run()
    return model


def test_every_call_of_a_run_agrees_on_the_evm(checked_run):
    outcomes = checked_run.contract.cross_check.outcomes
    calls = Counter(outcome.call for outcome in outcomes)
    assert len(outcomes) >= 500  # every one compared; a disagreement would have raised
    assert calls["add_data"] > 200 and calls["refund"] > 50 and calls["report"] > 50
    assert calls["predict"] > 0
    assert any(not outcome.accepted for outcome in outcomes)  # refusals agree too
    attackers = [a for a in checked_run.agents if a.kind == "adversarial"]
    assert attackers and all(a.balance < a.start_balance for a in attackers)


def test_the_evm_changes_no_result(checked_run):
    """The Python contract decides: the results are those of the same run without it,
    plus the gas each account paid."""
    config = evm_check("experiment.chain=python")
    python = build_model(config, make_split(config, 0), 0)
    python.run()
    pd.testing.assert_frame_equal(
        checked_run.datacollector.get_model_vars_dataframe(),
        python.datacollector.get_model_vars_dataframe(),
    )
    agents = checked_run.datacollector.get_agent_vars_dataframe()
    gas = [column for column in agents.columns if column.startswith("gas")]
    assert gas == ["gas", "gas_add_data", "gas_refund", "gas_report", "gas_take", "gas_predict"]
    pd.testing.assert_frame_equal(
        agents.drop(columns=gas), python.datacollector.get_agent_vars_dataframe()
    )
    assert checked_run.ledger.balances == python.ledger.balances


def test_each_account_pays_the_gas_of_its_own_transactions(checked_run):
    """Gas per account and call kind adds up to the gas of every mined call, reverted
    ones included; deployment is counted apart."""
    stats, evm = checked_run.contract.stats, checked_run.contract.cross_check.evm
    calls = ("add_data", "refund", "report", "take", "predict")
    for agent in checked_run.agents:
        own = stats[agent.name]
        assert own["gas"] == sum(own[f"gas_{call}"] for call in calls)
    honest = [a for a in checked_run.agents if a.kind == "honest"]
    assert all(
        stats[a.name]["gas_add_data"] > 0 and stats[a.name]["gas_refund"] > 0 for a in honest
    )
    mined = sum(
        sum(gas) for kind, gas in evm.gas.items() if not kind.startswith(("deploy", "setup"))
    )
    assert sum(stats[a.name]["gas"] for a in checked_run.agents) == mined
    assert checked_run.contract.deploy_gas() > 3_000_000


def test_results_carry_gas_and_roi_net_of_gas(tmp_path):
    price = 1e-6  # gwei: 1,000 wei a unit of gas, against balances of 10,000 wei
    overrides = [f"experiment.gas_price_gwei={price}", "experiment.duration_days=3"]
    results = run_experiment(Experiment.from_file(CONFIG, overrides), tmp_path)
    summary, agents = results.summary.iloc[0], results.agents
    final = agents[agents["time_days"] == agents["time_days"].max()]
    honest = final[final["kind"] == "honest"]
    assert summary["honest_gas"] == honest["gas"].mean() > 0
    roi = ((honest["balance"] - 10_000 - honest["gas"] * price * 1e9) / 10_000).mean()
    assert summary["honest_roi_net_gas"] == pytest.approx(roi, rel=1e-12)
    assert summary["honest_roi_net_gas"] < summary["honest_roi"]
    assert summary["deploy_gas"] > 0
    assert (results.path / "plots" / "gas.png").is_file()


def test_an_altered_python_rule_fails_the_run_with_one_line(tmp_path, monkeypatch):
    """A deposit one unit dearer in Python only: the first add names the transaction, the
    call, the account and the field, and the run is recorded as failed."""
    cost = DepositRefundTake.add_cost
    monkeypatch.setattr(DepositRefundTake, "add_cost", lambda self, now: cost(self, now) + 1)
    with pytest.raises(Mismatch, match=r"transaction 0 \(add_data by '\S+' at t=\d+\): "):
        simulate(evm_check(), 0)
    experiment = Experiment.from_file(CONFIG, [])
    with pytest.raises(RunsFailed):
        run_experiment(experiment, tmp_path)
    (folder,) = (tmp_path / "evm-check").iterdir()
    (run,) = json.loads((folder / "manifest.json").read_text())["runs"]
    assert run["status"] == "failed"
    assert run["error"].startswith("Mismatch: transaction 0 (add_data by ")
    assert "required deposit differs" in run["error"] and "\n" not in run["error"]


def test_a_mechanism_or_model_without_a_contract_is_refused(capsys):
    raw = tomllib.loads(CONFIG.read_text())
    raw["mechanism"] = {"kind": "gamified"}
    with pytest.raises(ConfigError, match=r"mechanism.kind: gamified has no EVM contract"):
        validate(raw, "evm_check")
    with pytest.raises(ConfigError, match=r"model.kind: naive_bayes has no EVM contract"):
        evm_check("model.kind=naive_bayes")
    code = main(["run", str(CONFIG), "--chain", "evm", "--set", "model.kind=naive_bayes"])
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    "override, line",
    [
        ("mechanism.refund_window_days=0.3333", "refund_window_days: on the EVM: "),
        ("data.binary=false", "data.dataset: the on-chain perceptron takes binary features"),
        ("mechanism.cost_weight=1e-310", "cost_weight: on the EVM: cost_weight 1e-310 is outside"),
    ],
)
def test_what_the_contracts_cannot_run_is_refused_before_anything_is_written(
    override, line, tmp_path, capsys
):
    code = main(["run", str(CONFIG), "--set", override, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and line in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_without_the_evm_extra_an_evm_config_is_one_error_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "sim.evm.trainer", None)  # as if titanoboa were missing
    code = main(["run", str(CONFIG), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and 'needs the evm extra, pip install -e ".[evm]"' in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()
