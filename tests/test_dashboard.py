"""The dashboard's model and command, without a browser (tests/test_dashboard_browser.py
drives the page itself).

The oracle for `LiveRun` is `decai run`: at a config's own values, stepped by any span, the
dashboard shows the very run `simulate` makes as replicate 0, sample for sample.
"""

import io
import socket
import tarfile
import tomllib
from pathlib import Path
from typing import Annotated

import pandas as pd
import pytest
from pydantic import TypeAdapter

from sim import cli
from sim.config import ExperimentConfig
from sim.dashboard import assets, serve
from sim.dashboard.live import LiveRun, controls, reshape, shares, starting
from sim.dashboard.pages import plots_by_point
from sim.experiment import Experiment
from sim.registry import mechanisms
from sim.simulation import simulate

ROOT = Path(__file__).resolve().parents[1]


def starting_values(base: ExperimentConfig) -> dict:
    return starting(controls(base))


def run_to_end(run: LiveRun) -> LiveRun:
    steps = 0
    while run.running:
        run.step()
        steps += 1
        assert steps < 10_000
    return run


def assert_same_run(run: LiveRun, config: ExperimentConfig) -> None:
    """The dashboard's run equals `decai run`'s replicate 0 of `config`, sample for sample."""
    reference = simulate(config, 0)
    pd.testing.assert_frame_equal(
        run.timeseries().drop(columns=["point", "replicate"]), reference.timeseries
    )
    pd.testing.assert_frame_equal(
        run.agents().drop(columns=["point", "replicate"]), reference.agents
    )
    assert run.full_data_accuracy == reference.summary["full_data_accuracy"]


def small(small_toml: str, mechanism: str = "dtr") -> ExperimentConfig:
    """The small config, one replicate, evaluated every 5 hours, stopping once settled;
    with another mechanism, at that mechanism's defaults."""
    raw = tomllib.loads(small_toml)
    raw["experiment"] |= {"replicates": 1, "eval_every_hours": 5, "stop_when_settled": True}
    if mechanism != "dtr":
        raw["mechanism"] = {"kind": mechanism}
    return Experiment(raw).points[0][1]


@pytest.mark.parametrize("kind", sorted(mechanisms()))
@pytest.mark.parametrize("step", ["6 hours", "7 days"])
def test_live_run_at_the_config_values_is_decai_runs_replicate_0(small_toml, kind, step):
    """Steps that do not line up with the 5-hour evaluations, and runs that stop once
    settled, still run the same events as `decai run`."""
    config = small(small_toml, kind)
    run = run_to_end(LiveRun(**starting_values(config) | {"step": step}))
    assert run.problem is None and run.run.over()
    assert_same_run(run, config)


def test_the_default_experiment_in_the_dashboard_is_decai_runs_replicate_0():
    config = Experiment.from_file(ROOT / "experiments" / "default.toml").points[0][1]
    run = run_to_end(LiveRun(**starting_values(config)))
    assert run.day == config.experiment.duration_days
    assert_same_run(run, config)


def test_each_step_advances_the_chosen_span(small_toml):
    run = LiveRun(**starting_values(small(small_toml)) | {"step": "6 hours"})
    run.step()
    run.step()
    assert run.day == 0.5
    assert run.timeseries()["time_days"].max() == pytest.approx(10 / 24)  # the 10 h sample


def test_controls_start_at_the_config_values_and_cover_every_explored_parameter():
    config = Experiment.from_file(ROOT / "experiments" / "default.toml").points[0][1]
    inputs = controls(config)
    assert inputs["mechanism__kind"]["value"] == "dtr"
    assert inputs["mechanism__dtr__cost_weight"]["value"] == 20
    assert inputs["contributors"]["value"] == 5
    assert inputs["attack_rate"]["value"] == pytest.approx(0.2)
    assert inputs["lazy_rate"]["value"] == 0
    assert inputs["experiment__seed"]["value"] == 7
    for kind, mechanism in mechanisms().items():
        for name, (low, high, step) in mechanism.explore.items():
            control = inputs[f"mechanism__{kind}__{name}"]
            assert low < high and step > 0
            assert control["min"] <= control["value"] <= control["max"]
            field = mechanism.Params.model_fields[name]
            accepts = TypeAdapter(Annotated[field.annotation, *field.metadata])
            accepts.validate_python(low)  # each end of the range is a value it takes
            accepts.validate_python(high)
            assert control["type"] == (
                "SliderInt" if mechanism.Params.model_fields[name].annotation is int
                else "SliderFloat"
            )  # fmt: skip


def test_moving_the_attack_rate_makes_attackers_of_honest_agents():
    config = Experiment.from_file(ROOT / "experiments" / "default.toml").points[0][1]
    run = LiveRun(**starting_values(config) | {"attack_rate": 0.4, "lazy_rate": 0.2})
    kinds = run.agent_table()["kind"].value_counts().to_dict()
    assert kinds == {"honest": 2, "adversarial": 2, "lazy": 1}
    attackers = [g for g in run.config.agents if g.kind == "adversarial"]
    assert [(g.name, g.mean_deposit) for g in attackers] == [("attacker", 100)]  # its settings
    assert "2 adversarial" in run.description()


def test_reshape_spreads_a_kind_over_its_groups_and_keeps_other_kinds_shares(small_toml):
    raw = tomllib.loads(small_toml)
    raw["agents"] = [
        {"name": "a", "kind": "honest", "count": 2},
        {"name": "b", "kind": "honest", "count": 6},
        {"name": "users", "kind": "model_user", "count": 2},
    ]
    base = Experiment(raw).config
    resolved = base.resolved()
    reshape(resolved, base, contributors=20, attack_rate=0.25, lazy_rate=0)
    counts = {group["name"]: group["count"] for group in resolved["agents"]}
    assert counts == {"a": 3, "b": 8, "users": 4, "adversarial": 5}  # 11 honest: 2.75, 8.25


def test_reshape_sets_a_population_configs_own_keys(small_toml):
    raw = tomllib.loads(small_toml)
    del raw["agents"]
    raw["population"] = {"contributors": 10, "attack_rate": 0.1}
    base = Experiment(raw).config
    run = LiveRun(**starting_values(base) | {"contributors": 20, "lazy_rate": 0.25})
    assert run.config.population.contributors == 20
    assert run.agent_table()["kind"].value_counts().to_dict() == {
        "honest": 13,
        "lazy": 5,
        "adversarial": 2,
    }


def test_shares_split_whole_agents_by_largest_remainder():
    assert shares(5, [1, 1, 1]) == [2, 2, 1]
    assert shares(7, [2, 6]) == [2, 5]
    assert shares(3, [0, 0]) == [3, 0]
    assert sum(shares(101, [3, 5, 7, 11])) == 101


@pytest.mark.parametrize(
    "controls_given, says",
    [
        ({"attack_rate": 0.7, "lazy_rate": 0.5}, "more than all the contributors"),
        (
            {"mechanism__dtr__refund_window_days": 7, "mechanism__dtr__take_window_days": 2},
            "take_window_days: must be longer than refund_window_days",
        ),
    ],
)
def test_controls_that_give_a_bad_config_are_one_line_and_no_run(controls_given, says):
    config = Experiment.from_file(ROOT / "experiments" / "default.toml").points[0][1]
    run = LiveRun(**starting_values(config) | controls_given)
    assert run.run is None and not run.running
    assert says in run.problem and "\n" not in run.problem


def test_plots_of_a_sweep_are_grouped_by_point(tmp_path):
    plots = tmp_path / "plots"
    plots.mkdir()
    for name in ["headline", "headline_point0", "headline_point1", "compare_x", "gas",
                 "gas_point0", "gas_point1"]:  # fmt: skip
        (plots / f"{name}.png").write_bytes(b"")
    shown = {k: [p.stem for p in paths] for k, paths in plots_by_point(tmp_path, 2).items()}
    assert shown == {
        None: ["compare_x"],
        0: ["gas_point0", "headline_point0"],
        1: ["gas_point1", "headline_point1"],
    }
    assert plots_by_point(tmp_path, 1) == {0: sorted(plots.glob("*.png"))}


# --- decai dashboard: what it serves, and bad input ------------------------------------


@pytest.fixture
def served(monkeypatch):
    """Record what `decai dashboard` would serve instead of serving it."""
    calls = []
    monkeypatch.setattr(serve, "serve", lambda *args: calls.append(args))
    return calls


def test_dashboard_serves_the_config_on_this_machine(served, capsys):
    status = cli.main(["dashboard", str(ROOT / "experiments" / "default.toml"), "--port", "8791"])
    assert status == 0
    ((target, host, port),) = served
    assert target == {"config": str(ROOT / "experiments" / "default.toml"), "set": []}
    assert (host, port) == ("127.0.0.1", 8791)
    assert "http://127.0.0.1:8791" in capsys.readouterr().out


def test_dashboard_of_a_sweep_starts_from_its_first_point(served, capsys, config_file):
    assert cli.main(["dashboard", str(config_file), "--set", "experiment.seed=5"]) == 0
    assert served[0][0] == {"config": str(config_file), "set": ["experiment.seed=5"]}
    assert "is a sweep: the dashboard starts from its point 0" in capsys.readouterr().out


def test_dashboard_serves_a_results_folder(served, tmp_path, small_toml):
    config = tmp_path / "small.toml"
    config.write_text(small_toml)
    assert cli.main(["run", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    (folder,) = (tmp_path / "out" / "small").iterdir()
    assert cli.main(["dashboard", "--results", str(folder), "--port", "8792"]) == 0
    assert served[0][0] == {"results": str(folder.resolve())}


def busy_port() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener


@pytest.mark.parametrize(
    "argv, says",
    [
        (["dashboard", "missing.toml"], "missing.toml: no such config file"),
        (["dashboard", "experiments/default.toml", "--set", "mechanism.kind=nope"], "nope"),
        (["dashboard", "experiments/default.toml", "--results", "."], "drop FILE and --set"),
        (["dashboard", "--results", "experiments"], "experiments"),
        (["dashboard", "--port", "0"], "--port: must be between 1 and 65535"),
        (["dashboard", "--port", "BUSY"], "cannot listen on 127.0.0.1"),
    ],
)
def test_dashboard_bad_input_is_one_line_and_exit_2(served, capsys, monkeypatch, argv, says):
    monkeypatch.chdir(ROOT)
    with busy_port() as listener:
        port = str(listener.getsockname()[1])
        status = cli.main([port if arg == "BUSY" else arg for arg in argv])
    err = capsys.readouterr().err
    assert status == 2 and not served
    assert err.startswith("decai: error: ") and err.count("\n") == 1 and says in err


def test_dashboard_without_the_extra_names_it(served, capsys, monkeypatch):
    def missing():
        raise ImportError("No module named 'solara'")

    monkeypatch.setattr(serve, "load_solara", missing)
    assert cli.main(["dashboard", str(ROOT / "experiments" / "default.toml")]) == 2
    err = capsys.readouterr().err
    assert 'pip install -e ".[dashboard]"' in err and err.count("\n") == 1


# --- the page's front-end files --------------------------------------------------------


def tarball(files: dict[str, bytes]) -> bytes:
    """An npm-style tarball: every file under `package/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_page_needs_solaras_app_requirejs_and_font_awesome():
    names = [name for name, _ in assets.wanted()]
    assert "requirejs" in names and "font-awesome" in names
    assert len([n for n in names if n.startswith("@widgetti/solara-vuetify")]) == 1


def test_missing_front_end_packages_are_fetched_into_the_cache_once(tmp_path, monkeypatch):
    from solara.server.settings import assets as solara_assets

    monkeypatch.setattr(solara_assets, "proxy_cache_dir", tmp_path)
    wanted = assets.wanted()
    for name, version in wanted[1:]:  # all but the first are there already
        (tmp_path / f"{name}@{version}").mkdir(parents=True)
        (tmp_path / f"{name}@{version}" / "package.json").write_text("{}")
    fetched = []

    def download(name, version):
        fetched.append((name, version))
        return tarball({"dist/main.js": b"ok"})

    monkeypatch.setattr(assets, "download", download)
    name, version = wanted[0]
    assert assets.ensure_assets() == [f"{name}@{version}"]
    assert (tmp_path / f"{name}@{version}" / "dist" / "main.js").read_bytes() == b"ok"
    assert assets.ensure_assets() == [] and fetched == [wanted[0]]  # cached: not again
    left = [p for p in (tmp_path / name).parent.iterdir() if p.name.startswith(".")]
    assert left == []  # no half-unpacked folder
