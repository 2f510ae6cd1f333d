"""sim.run: the Python API runs a config (a file or a dict) with overrides, in-process or
in worker processes, and returns what sim.load_results reads back from its folder."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_TOML, SWEEP

import sim
from sim.api import figures, override_key
from sim.config import ConfigError


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML)
    return path


def assert_same(results, loaded) -> None:
    assert loaded.path == results.path
    assert loaded.config == results.config
    assert loaded.manifest == results.manifest
    for name in ("summary", "timeseries", "agents"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(results, name))


def test_lazy_exports():
    code = "import sys, sim; assert 'matplotlib' not in sys.modules; sim.run; sim.figures"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_override_key():
    assert override_key("mechanism__refund_window_days") == "mechanism.refund_window_days"
    assert override_key("agents__attacker__count") == "agents.attacker.count"


def test_run_a_file_with_overrides(config_file, tmp_path):
    out = tmp_path / "out"
    results = sim.run(
        config_file,
        out=out,
        experiment__replicates=1,
        mechanism__refund_window_days=0.5,
        overrides={"agents.attacker.count": 2},
    )
    assert results.path.parent.parent == out
    assert_same(results, sim.load_results(results.path))
    resolved = tomllib.loads(results.config)
    assert resolved["experiment"]["replicates"] == 1
    assert resolved["mechanism"]["dtr"]["refund_window_days"] == 0.5
    assert [group["count"] for group in resolved["agents"]] == [3, 2]
    assert len(results.summary) == 1
    assert results.agents["agent"].nunique() == 5


def test_run_a_dict_with_a_sweep(tmp_path):
    raw = tomllib.loads(SMALL_TOML)
    before = tomllib.loads(SMALL_TOML)
    results = sim.run(
        raw,
        out=tmp_path,
        experiment__name="from-dict",
        overrides={"sweep.mechanism.refund_window_days": [0.5, 1]},
    )
    assert raw == before  # the caller's dict is not changed
    assert results.path.parent.name == "from-dict"
    assert results.manifest["swept_keys"] == ["mechanism.refund_window_days"]
    assert results.summary["mechanism.refund_window_days"].tolist() == [0.5, 0.5, 1, 1]
    assert_same(results, sim.load_results(results.path))
    drawn = figures(results)
    assert set(drawn) == {path.stem for path in (results.path / "plots").glob("*.png")}
    assert drawn["headline"].axes


def test_the_mapping_wins_over_keywords(tmp_path):
    results = sim.run(
        tomllib.loads(SMALL_TOML),
        out=tmp_path,
        experiment__replicates=2,
        overrides={"experiment.replicates": 1},
    )
    assert len(results.summary) == 1


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"mechanism__no_such_key": 1}, "no_such_key"),
        ({"overrides": {"agents.nobody.count": 1}}, "nobody"),
        ({"experiment__replicates": 0}, "replicates"),
        ({"overrides": {"mechanism..kind": "dtr"}}, "dotted"),
    ],
)
def test_bad_overrides_write_nothing(config_file, tmp_path, keys, message):
    with pytest.raises(ConfigError, match=message):
        sim.run(config_file, out=tmp_path / "out", **keys)
    assert not (tmp_path / "out").exists()


def test_bad_arguments(config_file, tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        sim.run(tmp_path / "missing.toml", out=tmp_path)
    with pytest.raises(TypeError, match="path or a dict"):
        sim.run(42, out=tmp_path)
    with pytest.raises(ValueError, match="not both"):
        sim.run(config_file, out=tmp_path, jobs=2, executor=object())


SCRIPT = """\
import sys
import tomllib

import sim

# No `if __name__ == "__main__":` guard: the workers must not run this script again.
print("script body ran", flush=True)
raw = tomllib.loads(open(sys.argv[1]).read())
results = sim.run(raw, out=sys.argv[2], jobs=int(sys.argv[3]))
print(results.path)
"""


def test_jobs_from_a_script_without_a_main_guard(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(SMALL_TOML + SWEEP)
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    paths = {}
    for jobs in (1, 2):
        done = subprocess.run(
            [sys.executable, str(script), str(config), str(tmp_path / f"jobs{jobs}"), str(jobs)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("script body ran") == 1, done.stdout
        paths[jobs] = Path(done.stdout.splitlines()[-1])
    parallel, serial = sim.load_results(paths[2]), sim.load_results(paths[1])
    assert len(parallel.summary) == 4 and not parallel.failed
    assert (paths[2] / "summary.csv").read_bytes() == (paths[1] / "summary.csv").read_bytes()
    pd.testing.assert_frame_equal(parallel.timeseries, serial.timeseries)
