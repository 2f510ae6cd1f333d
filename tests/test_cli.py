"""Tests for the `decai` command: run, validate, list, plot, and the results folder it writes.

`sim.cli.main` is called in-process (fast, and capsys sees its output); the installed console
script is run as a subprocess once to prove it exists and exits 2 on a bad config.
"""

import contextlib
import errno
import io
import itertools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
import sim.cli as cli
from sim.cli import main
from sim.datasets import DATASETS
from sim.experiment import Experiment
from sim.registry import behaviours, learners, mechanisms

WINDOWS = [0.5, 1.0]
REPLICATES = 2
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(-\d+)?$")
KIND_COLUMNS = [
    f"{kind}_{what}"
    for kind in ("honest", "lazy", "adversarial")
    for what in ("balance_change", "roi")
]
SUMMARY_COLUMNS = [
    "point",
    "replicate",
    "seed",
    "mechanism.refund_window_days",
    "initial_accuracy",
    "final_accuracy",
    "full_data_accuracy",
    "contributions",
    "rejected",
    *KIND_COLUMNS,
]
RUN_KEYS = ["point", "replicate"]


def run_quietly(argv: list[str]) -> tuple[int, str]:
    """main(argv) with stdout captured, for module-scoped fixtures (capsys is per test)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, config_file):
    """`decai run` once: (out dir, status, stdout)."""
    out = tmp_path_factory.mktemp("run1") / "results"
    status, stdout = run_quietly(["run", str(config_file), "--out", str(out)])
    return out, status, stdout


@pytest.fixture(scope="module")
def results_dir(first_run) -> Path:
    out, status, _ = first_run
    assert status == 0
    (name,) = out.iterdir()
    (folder,) = name.iterdir()
    return folder


@pytest.fixture(scope="module")
def second_results_dir(tmp_path_factory, config_file) -> Path:
    out = tmp_path_factory.mktemp("run2") / "results"
    status, _ = run_quietly(["run", str(config_file), "--out", str(out), "--quiet"])
    assert status == 0
    (folder,) = (out / "small").iterdir()
    return folder


def one_error_line(capsys) -> str:
    """The single stderr line of a failed command; nothing on stdout, no traceback."""
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert captured.err.endswith("\n")
    assert lines[0].startswith("decai: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def nothing_written(out: Path) -> bool:
    return not out.exists() or not any(out.rglob("*"))


# --- decai run: the results folder ------------------------------------------------------


def test_run_writes_exactly_one_timestamped_folder(first_run, results_dir):
    out, status, stdout = first_run
    assert status == 0
    assert [p.name for p in out.iterdir()] == ["small"]
    assert [p.name for p in (out / "small").iterdir()] == [results_dir.name]
    assert STAMP.match(results_dir.name), results_dir.name
    assert stdout.splitlines()[-1] == str(results_dir)  # the last line is the folder
    names = {p.name for p in results_dir.iterdir()}
    assert names == {
        "config.toml",
        "manifest.json",
        "summary.csv",
        "timeseries.parquet",
        "agents.parquet",
        "plots",
        "runs",  # each run's own part files, written as it finished (for --resume)
    }
    assert {p.name for p in (results_dir / "runs").iterdir()} == {
        f"p{point}-r{replicate}"
        for point, replicate in itertools.product(range(len(WINDOWS)), range(REPLICATES))
    }


def test_config_toml_is_the_resolved_config(results_dir, config_file):
    resolved = tomllib.loads((results_dir / "config.toml").read_text())
    # Defaults are filled in ...
    assert resolved["experiment"]["stop_when_settled"] is True
    assert resolved["model"]["perceptron"]["weight_scale"] == 10**9
    assert resolved["agents"][1]["deposit_spread"] >= 0
    assert resolved["agents"][1]["strategy"] == "label_flip"
    # ... the file's values are kept, with the sweep ...
    assert resolved["experiment"]["seed"] == 3
    assert resolved["sweep"] == {"mechanism.refund_window_days": WINDOWS}
    # ... and it is a valid config that reproduces the same runs.
    original = Experiment.from_file(config_file)
    again = Experiment(resolved, "config.toml")
    assert again.config == original.config
    assert [o for o, _ in again.points] == [o for o, _ in original.points]


def test_config_toml_records_mechanism_defaults(results_dir):
    resolved = tomllib.loads((results_dir / "config.toml").read_text())
    assert "min_deposit" in resolved["mechanism"]["dtr"]


def test_manifest(results_dir):
    manifest = json.loads((results_dir / "manifest.json").read_text())
    versions = manifest["versions"]
    for package in ("python", "decai-sim", "numpy", "pandas", "mesa"):
        assert versions.get(package), package
    assert manifest["seed_entropy"] == 3
    assert manifest["points"] == [{"mechanism.refund_window_days": w} for w in WINDOWS]
    runs = manifest["runs"]
    assert [(r["point"], r["replicate"]) for r in runs] == list(
        itertools.product(range(len(WINDOWS)), range(REPLICATES))
    )
    assert all(r["status"] == "done" for r in runs)


def test_summary_csv(results_dir):
    summary = pd.read_csv(results_dir / "summary.csv")
    assert list(summary.columns[:4]) == SUMMARY_COLUMNS[:4]
    missing = set(SUMMARY_COLUMNS) - set(summary.columns)
    assert not missing
    assert list(zip(summary["point"], summary["replicate"], strict=True)) == list(
        itertools.product(range(len(WINDOWS)), range(REPLICATES))
    )
    assert list(summary["mechanism.refund_window_days"]) == [
        w for w in WINDOWS for _ in range(REPLICATES)
    ]
    assert (summary["seed"] == 3).all()
    for column in ("initial_accuracy", "final_accuracy", "full_data_accuracy"):
        assert summary[column].between(0, 1).all()
    assert (summary["contributions"] > 0).all() and (summary["rejected"] >= 0).all()
    # No lazy agents in this config: their columns are present but empty.
    assert summary[["lazy_balance_change", "lazy_roi"]].isna().all().all()
    assert summary[["honest_roi", "adversarial_roi"]].notna().all().all()
    # ROI is the balance change relative to the 10,000 start balance.
    np.testing.assert_allclose(summary["honest_roi"], summary["honest_balance_change"] / 10_000)
    # Replicate r uses the same data at every point (common random numbers).
    by_point = summary.set_index(["replicate", "point"])["initial_accuracy"].unstack()
    assert (by_point.nunique(axis=1) == 1).all()


def test_timeseries_parquet(results_dir):
    ts = pd.read_parquet(results_dir / "timeseries.parquet")
    assert list(ts.columns) == ["point", "replicate", "time_days", "metric", "value"]
    assert "accuracy" in set(ts["metric"])
    accuracy = ts[ts["metric"] == "accuracy"]
    assert set(zip(accuracy["point"], accuracy["replicate"], strict=True)) == set(
        itertools.product(range(len(WINDOWS)), range(REPLICATES))
    )
    summary = pd.read_csv(results_dir / "summary.csv").set_index(RUN_KEYS)
    for (point, replicate), run in accuracy.groupby(RUN_KEYS):
        times = run["time_days"].to_numpy()
        assert times[0] == 0
        steps = np.diff(times)
        np.testing.assert_allclose(steps[:-1], 0.5)  # every 12 hours, in days
        assert 0 < steps[-1] <= 0.5 and times[-1] <= 3
        assert run["value"].between(0, 1).all()
        row = summary.loc[(point, replicate)]
        assert run["value"].iloc[0] == pytest.approx(row["initial_accuracy"])
        assert run["value"].iloc[-1] == pytest.approx(row["final_accuracy"])
        contributions = ts[
            (ts["metric"] == "contributions")
            & (ts["point"] == point)
            & (ts["replicate"] == replicate)
        ]["value"]
        if len(contributions):
            assert contributions.iloc[-1] == row["contributions"]


def test_agents_parquet(results_dir):
    agents = pd.read_parquet(results_dir / "agents.parquet")
    assert list(agents.columns[:6]) == [
        "point",
        "replicate",
        "time_days",
        "agent",
        "kind",
        "balance",
    ]
    assert set(agents["agent"]) == {"honest-0", "honest-1", "honest-2", "attacker-0"}
    assert dict(agents.groupby("agent")["kind"].first()) == {
        "honest-0": "honest",
        "honest-1": "honest",
        "honest-2": "honest",
        "attacker-0": "adversarial",
    }
    assert (agents["balance"] >= 0).all()
    assert (agents.loc[agents["time_days"] == 0, "balance"] == 10_000).all()
    ts = pd.read_parquet(results_dir / "timeseries.parquet")
    accuracy_times = ts[ts["metric"] == "accuracy"].groupby(RUN_KEYS)["time_days"].apply(list)
    summary = pd.read_csv(results_dir / "summary.csv").set_index(RUN_KEYS)
    for (point, replicate), run in agents.groupby(RUN_KEYS):
        for _, agent in run.groupby("agent"):
            assert list(agent["time_days"]) == accuracy_times[(point, replicate)]
        # The summary's balance change is the mean over the kind's agents of end - start.
        honest = run[run["kind"] == "honest"].sort_values("time_days").groupby("agent")["balance"]
        change = (honest.last() - honest.first()).mean()
        assert change == pytest.approx(summary.loc[(point, replicate), "honest_balance_change"])


def test_headline_plot_is_written(results_dir):
    png = results_dir / "plots" / "headline.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 1000


def test_load_results_equals_the_files(results_dir):
    results = sim.load_results(results_dir)
    assert results.path == results_dir
    pd.testing.assert_frame_equal(results.summary, pd.read_csv(results_dir / "summary.csv"))
    pd.testing.assert_frame_equal(
        results.timeseries, pd.read_parquet(results_dir / "timeseries.parquet")
    )
    pd.testing.assert_frame_equal(results.agents, pd.read_parquet(results_dir / "agents.parquet"))
    assert results.manifest == json.loads((results_dir / "manifest.json").read_text())
    assert results.config == (results_dir / "config.toml").read_text()
    assert isinstance(sim.load_results(str(results_dir)).summary, pd.DataFrame)


# --- determinism ------------------------------------------------------------------------


def test_summary_has_no_wall_clock_columns(results_dir):
    columns = pd.read_csv(results_dir / "summary.csv").columns
    timing = [c for c in columns if re.search(r"second|elapsed|wall|timing|started|finished", c)]
    assert timing == []


def test_same_config_twice_gives_identical_results(results_dir, second_results_dir):
    assert second_results_dir != results_dir
    for name in ("summary.csv", "config.toml"):
        assert (results_dir / name).read_bytes() == (second_results_dir / name).read_bytes()
    for name in ("timeseries.parquet", "agents.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(results_dir / name), pd.read_parquet(second_results_dir / name)
        )
    # The manifests differ only in wall-clock times.
    manifests = [
        json.loads((d / "manifest.json").read_text()) for d in (results_dir, second_results_dir)
    ]
    for manifest in manifests:
        del manifest["started"], manifest["finished"]
        for run in manifest["runs"]:
            run.pop("seconds")
    assert manifests[0] == manifests[1]


def test_a_second_run_into_the_same_out_never_overwrites(tmp_path, small_toml):
    config = tmp_path / "one.toml"
    config.write_text(small_toml.replace("replicates = 2", "replicates = 1"))
    out = tmp_path / "results"
    for _ in range(2):
        assert run_quietly(["run", str(config), "--out", str(out), "--quiet"])[0] == 0
    folders = sorted((out / "small").iterdir())
    assert len(folders) == 2
    assert all(STAMP.match(f.name) for f in folders)
    assert (folders[0] / "summary.csv").read_bytes() == (folders[1] / "summary.csv").read_bytes()


# --- bad configs --------------------------------------------------------------------------


def bad_config(tmp_path, small_toml, case: str) -> tuple[Path, str]:
    """(config path, what the error line must name) for each kind of bad config."""
    path = tmp_path / "bad.toml"
    if case == "unknown key":
        path.write_text(small_toml.replace('name = "small"', 'name = "small"\nnme = "typo"'))
        return path, "experiment.nme"
    if case == "bad value":
        path.write_text(small_toml.replace("replicates = 2", "replicates = 0"))
        return path, "experiment.replicates"
    if case == "missing file":
        return tmp_path / "absent.toml", str(tmp_path / "absent.toml")
    if case == "invalid toml":
        path.write_text(small_toml.replace("seed = 3", "seed = "))
        return path, str(path)
    if case == "missing csv":
        csv = tmp_path / "no-such-data.csv"
        text = re.sub(r"n_samples.*\n|n_features.*\n|binary.*\n", "", small_toml)
        path.write_text(text.replace('"synthetic"', f'"csv:{csv}"'))
        return path, str(csv)
    raise AssertionError(case)


BAD_CASES = ["unknown key", "bad value", "missing file", "invalid toml", "missing csv"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_run_with_a_bad_config_prints_one_line_exits_2_and_writes_nothing(
    tmp_path, small_toml, capsys, case
):
    path, named = bad_config(tmp_path, small_toml, case)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert named in one_error_line(capsys)
    assert nothing_written(out)


def test_a_failure_after_some_runs_leaves_nothing_half_written(tmp_path, small_toml, capsys):
    # Point 0 runs; point 1 fails when its dataset is loaded (label_column is csv-only).
    path = tmp_path / "late.toml"
    path.write_text(small_toml + '\n[sweep]\n"data.label_column" = ["label", "y"]\n')
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert "label_column" in one_error_line(capsys)
    assert nothing_written(out)


def test_bad_set_on_the_command_line(tmp_path, small_toml, capsys):
    path = tmp_path / "ok.toml"
    path.write_text(small_toml)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--set", "agents.ghost.count=1"]) == 2
    assert "agents.ghost.count" in one_error_line(capsys)
    assert main(["run", str(path), "--out", str(out), "--set", "experiment.seed"]) == 2
    assert "--set" in one_error_line(capsys)
    assert nothing_written(out)


def test_installed_console_script_exits_2_on_a_bad_config(tmp_path, small_toml):
    decai = Path(sys.executable).with_name("decai")
    assert decai.exists(), decai
    path, named = bad_config(tmp_path, small_toml, "unknown key")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(decai), "run", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert nothing_written(out)


def test_perceptron_on_a_multiclass_csv_is_one_line_and_exit_2(tmp_path, capsys):
    csv = tmp_path / "three.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"a": rng.normal(size=90), "b": rng.normal(size=90), "label": np.arange(90) % 3}
    ).to_csv(csv, index=False)
    path = tmp_path / "three.toml"
    path.write_text(
        f'[experiment]\nname = "three"\nreplicates = 1\nduration_days = 1\n'
        f'[data]\ndataset = "csv:{csv}"\n'
        "[population]\ncontributors = 2\n"
    )
    out = tmp_path / "out"
    try:
        status = main(["run", str(path), "--out", str(out)])
    except Exception as error:  # what happens now: the ValueError escapes main
        pytest.fail(f"main raised {type(error).__name__}: {error}")
    assert status == 2
    assert "perceptron" in one_error_line(capsys)
    assert nothing_written(out)


# --- decai validate -----------------------------------------------------------------------


def test_validate_good_config(config_file, capsys):
    assert main(["validate", str(config_file)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{config_file}: ok ({len(WINDOWS) * REPLICATES} runs)\n"
    assert captured.err == ""


def test_validate_with_set(config_file, capsys):
    argv = ["validate", str(config_file), "--set", "sweep.experiment.seed=[1, 2, 3]"]
    assert main(argv) == 0
    assert "ok (12 runs)" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["unknown key", "bad value", "missing file", "invalid toml"])
def test_validate_bad_config(tmp_path, small_toml, capsys, case):
    path, named = bad_config(tmp_path, small_toml, case)
    assert main(["validate", str(path)]) == 2
    assert named in one_error_line(capsys)


def test_validate_finds_a_missing_csv(tmp_path, small_toml, capsys):
    path, named = bad_config(tmp_path, small_toml, "missing csv")
    assert main(["validate", str(path)]) == 2
    assert named in one_error_line(capsys)


# --- decai run --dry-run --------------------------------------------------------------------


def test_dry_run_prints_one_line_per_run_and_writes_nothing(tmp_path, config_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(config_file), "--dry-run", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = itertools.product(range(len(WINDOWS)), range(REPLICATES))
    assert len(lines) == len(WINDOWS) * REPLICATES
    for line, (point, replicate) in zip(lines, expected, strict=True):
        assert line.startswith(f"point {point} replicate {replicate} ")
        assert f"'mechanism.refund_window_days': {[0.5, 1][point]}" in line
    assert not out.exists()


def test_dry_run_without_a_sweep(tmp_path, small_toml, capsys):
    path = tmp_path / "plain.toml"
    path.write_text(small_toml)
    assert main(["run", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.splitlines() == ["point 0 replicate 0", "point 0 replicate 1"]
    assert not (tmp_path / "out").exists()


# --- decai list ---------------------------------------------------------------------------


def test_list_mentions_every_dataset_model_mechanism_and_agent_kind(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    names = [*DATASETS, *learners(), *mechanisms(), *behaviours()]
    names += [s for behaviour in behaviours().values() for s in behaviour.strategies]
    assert {"synthetic", "perceptron", "dtr", "honest", "adversarial", "label_flip"} <= set(names)
    words = set(out.split())
    missing = [name for name in names if name not in words]
    assert not missing


# --- decai plot ---------------------------------------------------------------------------


def test_plot_redraws_the_plots_of_a_results_folder(tmp_path, results_dir, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(results_dir, copy)
    shutil.rmtree(copy / "plots")
    assert main(["plot", str(copy)]) == 0
    printed = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert copy / "plots" / "headline.png" in printed
    assert all(path.is_file() and path.stat().st_size > 0 for path in printed)
    assert (copy / "plots" / "headline.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("which", ["empty", "missing", "parent"])
def test_plot_on_a_folder_that_is_not_a_results_folder(tmp_path, results_dir, capsys, which):
    folder = {
        "empty": tmp_path,
        "missing": tmp_path / "nowhere",
        "parent": results_dir.parent,  # <out>/<name>, one level too high
    }[which]
    assert main(["plot", str(folder)]) == 2
    assert str(folder) in one_error_line(capsys)
    assert not (folder / "plots").exists()


def test_a_file_that_cannot_be_read_or_written_is_one_line(tmp_path, monkeypatch, capsys):
    """Whatever the operating system refuses (permissions, a full disk) is a user error."""
    target = tmp_path / "summary.csv"

    def refused(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(target))

    monkeypatch.setattr(cli, "load_results", refused)
    assert main(["plot", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"decai: error: {target}: Permission denied\n"
