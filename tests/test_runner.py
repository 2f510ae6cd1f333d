"""The sweep runner: the same results on every executor, failed runs recorded while the sweep
goes on, and `--resume` finishing an interrupted or damaged results folder exactly.

One small 2-point x 2-replicate sweep (conftest's config) is run in-process once; every
other way of running it must give the same files.
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from concurrent.futures import BrokenExecutor, Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
from scenarios import count_simulations, one_error_line

import sim.runner
from sim.cli import main
from sim.executor import make_executor
from sim.experiment import Experiment
from sim.results import load_results
from sim.results_folder import ResultsError, held, part_dir, write_part
from sim.runner import Interrupted, RunsFailed, planned_runs, resume_experiment, run_experiment
from sim.simulation import simulate

ALL_RUNS = [(0, 0), (0, 1), (1, 0), (1, 1)]
FINAL = ("summary.csv", "timeseries.parquet", "agents.parquet", "plots")


@pytest.fixture(scope="module")
def experiment(config_file) -> Experiment:
    return Experiment.from_file(config_file)


@pytest.fixture(scope="module")
def serial(tmp_path_factory, experiment) -> Path:
    """The sweep run in-process, start to end: what every other way must reproduce."""
    return run_experiment(experiment, tmp_path_factory.mktemp("serial")).path


@pytest.fixture(scope="module")
def pool():
    """Two worker processes, shared by the tests below (starting them takes a few seconds)."""
    with make_executor(2) as executor:
        yield executor


def without_timings(manifest: dict) -> dict:
    manifest = {k: v for k, v in manifest.items() if k not in ("started", "finished", "resumed")}
    manifest["runs"] = [
        {k: v for k, v in run.items() if k != "seconds"} for run in manifest["runs"]
    ]
    return manifest


def assert_same_results(folder: Path, expected: Path) -> None:
    """The same files byte for byte (the parts' too), but for the timings in the JSON."""
    for name in ("summary.csv", "timeseries.parquet", "agents.parquet"):
        assert (folder / name).read_bytes() == (expected / name).read_bytes(), name
    for run in ALL_RUNS:
        parts = [part_dir(f, *run) for f in (folder, expected)]
        for name in ("timeseries.parquet", "agents.parquet", "leaderboard.parquet"):
            assert (parts[0] / name).read_bytes() == (parts[1] / name).read_bytes(), name
        metas = [json.loads((part / "summary.json").read_text()) for part in parts]
        for meta in metas:
            del meta["seconds"]
        assert metas[0] == metas[1]
    assert (folder / "config.toml").read_bytes() == (expected / "config.toml").read_bytes()
    manifests = [json.loads((f / "manifest.json").read_text()) for f in (folder, expected)]
    assert without_timings(manifests[0]) == without_timings(manifests[1])
    plots = [sorted(p.name for p in (f / "plots").iterdir()) for f in (folder, expected)]
    assert plots[0] == plots[1] and "headline.png" in plots[0]


@pytest.fixture
def simulated(monkeypatch, experiment) -> list[tuple[int, int]]:
    return count_simulations(monkeypatch, experiment)


def fail_at(monkeypatch, experiment, run: tuple[int, int], error: BaseException) -> None:
    """Make the in-process simulation of one (point, replicate) raise `error`."""
    config = experiment.points[run[0]][1]

    def failing(cfg, replicate, **kwargs):
        if (cfg, replicate) == (config, run[1]):
            raise error
        return simulate(cfg, replicate, **kwargs)

    monkeypatch.setattr(sim.runner, "simulate", failing)


def copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy" / folder.name
    shutil.copytree(folder, copy)
    return copy


# --- every executor, the same results --------------------------------------------------------


def test_serial_results_folder(serial):
    manifest = json.loads((serial / "manifest.json").read_text())
    assert [(r["point"], r["replicate"], r["status"]) for r in manifest["runs"]] == [
        (*run, "done") for run in ALL_RUNS
    ]
    assert manifest["finished"] >= manifest["started"]
    for run in ALL_RUNS:
        names = {p.name for p in part_dir(serial, *run).iterdir()}
        assert names == {
            "summary.json",
            "timeseries.parquet",
            "agents.parquet",
            "leaderboard.parquet",
        }
    assert not list(serial.rglob(".*"))  # no temporary file is left behind


def test_one_job_runs_in_process():
    with make_executor(1) as executor:
        assert executor is None


def test_a_second_run_gives_identical_results(tmp_path, experiment, serial):
    assert_same_results(run_experiment(experiment, tmp_path).path, serial)


def test_two_worker_processes_give_identical_results(tmp_path, experiment, serial, pool):
    results = run_experiment(experiment, tmp_path, executor=pool)
    assert_same_results(results.path, serial)


def test_three_worker_processes_give_identical_results(tmp_path, experiment, serial):
    with make_executor(3) as executor:
        results = run_experiment(experiment, tmp_path, executor=executor)
    assert_same_results(results.path, serial)


def test_a_pool_that_loses_a_worker_goes_on_with_fresh_workers(pool):
    """What the pool held fails (BrokenExecutor: the runner sends those runs again) and the
    next submit gets fresh workers; a later pool of this process is not broken either."""
    worker = pool.submit(os.getpid).result()
    held_by_the_pool = pool.submit(time.sleep, 60)
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(BrokenExecutor):
        held_by_the_pool.result(timeout=30)
    assert pool.submit(os.getpid).result() != worker
    with make_executor(2) as another:
        assert another.submit(sum, [1, 2]).result() == 3


def test_a_local_dask_cluster_gives_identical_results(tmp_path, experiment, serial):
    pytest.importorskip("dask.distributed")
    with make_executor(2, "dask") as executor:
        results = run_experiment(experiment, tmp_path, executor=executor)
    assert_same_results(results.path, serial)


class BreaksAtFirst(Executor):
    """Runs every call here, but the first `breaks` submits of each run (and, if asked,
    every plot it is given to draw) come back failed as when a worker process dies and
    takes its pool with it."""

    def __init__(self, breaks: int, drawing_breaks: bool = False):
        self.breaks, self.drawing_breaks = breaks, drawing_breaks
        self.submits = Counter()

    def submit(self, fn, /, *args):
        future = Future()
        if fn is sim.runner.run_one:  # (config, point, replicate, overrides)
            self.submits[args[1:3]] += 1
            broken = self.submits[args[1:3]] <= self.breaks
        else:
            broken = self.drawing_breaks
        if broken:
            future.set_exception(BrokenProcessPool("a worker died"))
        else:
            future.set_result(fn(*args))
        return future


def test_runs_lost_with_a_broken_pool_are_sent_again_once(tmp_path, experiment, serial):
    executor = BreaksAtFirst(breaks=1)
    results = run_experiment(experiment, tmp_path, executor=executor)
    assert all(executor.submits[run] == 2 for run in ALL_RUNS)
    assert_same_results(results.path, serial)


def test_plots_are_drawn_here_if_the_pool_breaks_while_drawing(tmp_path, experiment, serial):
    results = run_experiment(experiment, tmp_path, executor=BreaksAtFirst(0, True))
    assert_same_results(results.path, serial)


def test_runs_lost_twice_are_recorded_as_failed(tmp_path, experiment):
    executor = BreaksAtFirst(breaks=2)
    with pytest.raises(RunsFailed, match="all 4 runs failed"):
        run_experiment(experiment, tmp_path, executor=executor)
    (folder,) = (tmp_path / "small").iterdir()
    runs = json.loads((folder / "manifest.json").read_text())["runs"]
    assert [run["error"] for run in runs] == ["BrokenProcessPool: a worker died"] * 4
    assert all(executor.submits[run] == 2 for run in ALL_RUNS)


# --- a run that raises ---------------------------------------------------------------------


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, experiment, serial):
    fail_at(monkeypatch, experiment, (1, 0), RuntimeError("boom"))
    results = run_experiment(experiment, tmp_path)

    runs = {(r["point"], r["replicate"]): r for r in results.manifest["runs"]}
    failed = runs.pop((1, 0))
    assert failed["status"] == "failed"
    assert failed["error"] == "RuntimeError: boom"
    assert "Traceback" in failed["traceback"] and "boom" in failed["traceback"]
    assert all(run["status"] == "done" for run in runs.values())
    assert results.failed == [failed]
    assert not part_dir(results.path, 1, 0).exists()
    # The final files hold the other runs, as they are in a full run.
    assert list(zip(results.summary["point"], results.summary["replicate"], strict=True)) == [
        (0, 0),
        (0, 1),
        (1, 1),
    ]
    expected = pd.read_csv(serial / "summary.csv")
    pd.testing.assert_frame_equal(results.summary, expected.drop(index=2).reset_index(drop=True))
    assert set(results.timeseries.groupby(["point", "replicate"]).groups) == set(runs)

    # Once the cause is gone, --resume runs the failed run alone and completes the folder.
    monkeypatch.undo()
    resumed = resume_experiment(results.path)
    assert resumed.failed == []
    assert_same_results(results.path, serial)


def test_a_run_failing_in_a_worker_process_is_recorded_too(tmp_path, small_toml, pool, monkeypatch):
    # Class 5 of binary data: point 1 fails when built. The up-front check would refuse it
    # (tests/bad_inputs/limit_later_point_target_class.toml), so it is skipped here.
    monkeypatch.setattr(sim.runner, "check_data", lambda experiment: None)
    targeted = small_toml.replace('"label_flip"', '"targeted"\ntarget_class = 0')
    sweep = '\n[sweep]\n"agents.attacker.target_class" = [0, 5]\n'
    experiment = Experiment(tomllib.loads(targeted + sweep), "targeted")
    results = run_experiment(experiment, tmp_path, executor=pool)
    assert [(r["point"], r["replicate"]) for r in results.failed] == [(1, 0), (1, 1)]
    for run in results.failed:
        assert "target_class 5 is not a class" in run["error"]
        assert (
            run["traceback"].startswith("Traceback") and "agents/adversarial.py" in run["traceback"]
        )
    assert list(results.summary["point"]) == [0, 0]


# --- interrupting and resuming -------------------------------------------------------------


def test_ctrl_c_keeps_what_finished_and_resume_completes_it(
    tmp_path, monkeypatch, experiment, serial
):
    fail_at(monkeypatch, experiment, (1, 0), KeyboardInterrupt())
    with pytest.raises(Interrupted) as stopped:
        run_experiment(experiment, tmp_path)
    folder = stopped.value.path
    assert (stopped.value.done, stopped.value.total) == (2, 4)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["finished"] is None
    assert [r["status"] for r in manifest["runs"]] == ["done", "done", "pending", "pending"]
    with pytest.raises(ResultsError, match="summary.csv.*--resume"):
        load_results(folder)

    monkeypatch.undo()
    simulated = count_simulations(monkeypatch, experiment)
    resume_experiment(folder)
    assert simulated == [(1, 0), (1, 1)]
    assert_same_results(folder, serial)


def test_resume_runs_only_the_missing_runs(tmp_path, experiment, serial, simulated):
    folder = copy_of(serial, tmp_path)
    shutil.rmtree(part_dir(folder, 0, 1))
    (part_dir(folder, 1, 0) / "timeseries.parquet").unlink()
    for name in FINAL:
        shutil.rmtree(folder / name) if name == "plots" else (folder / name).unlink()
    with pytest.raises(ResultsError, match="missing summary.csv, timeseries.parquet"):
        load_results(folder)
    untouched = (part_dir(folder, 1, 1) / "agents.parquet").stat().st_mtime_ns

    results = resume_experiment(folder)
    assert sorted(simulated) == [(0, 1), (1, 0)]
    assert (part_dir(folder, 1, 1) / "agents.parquet").stat().st_mtime_ns == untouched
    assert_same_results(folder, serial)
    assert len(results.manifest["resumed"]) == 1


def test_resume_redoes_runs_with_corrupt_part_files(tmp_path, experiment, serial, simulated):
    folder = copy_of(serial, tmp_path)
    parquet = part_dir(folder, 1, 1) / "agents.parquet"
    parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    summary = part_dir(folder, 0, 0) / "summary.json"
    summary.write_text(summary.read_text()[:40])
    other_table = part_dir(folder, 1, 0) / "timeseries.parquet"  # whole, but not a run's
    pd.DataFrame({"a": [1]}).to_parquet(other_table)
    resume_experiment(folder)
    assert sorted(simulated) == [(0, 0), (1, 0), (1, 1)]
    assert_same_results(folder, serial)


def test_a_folder_is_resumed_by_one_process_at_a_time(tmp_path, serial, capsys):
    folder = copy_of(serial, tmp_path)
    with held(folder):  # as a sweep still writing it does
        assert main(["run", "--resume", str(folder), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"decai: error: {folder}: another decai process is writing this folder; "
        "let it finish (or stop it) first\n"
    )
    assert main(["run", "--resume", str(folder), "--quiet"]) == 0


def test_the_folder_lock_needs_no_posix_only_module():
    """fcntl exists on POSIX only: `import sim.results` must not need it (filelock locks)."""
    code = "import sys; sys.modules['fcntl'] = None; import sim.results"
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)


def test_resume_of_a_finished_folder_runs_nothing(tmp_path, experiment, serial, simulated):
    folder = copy_of(serial, tmp_path)
    resume_experiment(folder)
    assert simulated == []
    assert_same_results(folder, serial)


def test_resume_with_worker_processes(tmp_path, experiment, serial, pool):
    folder = copy_of(serial, tmp_path)
    for run in planned_runs(experiment)[1:]:
        shutil.rmtree(part_dir(folder, *run))
    resume_experiment(folder, executor=pool)
    assert_same_results(folder, serial)


# --- through the command line --------------------------------------------------------------


def test_decai_run_with_two_jobs(tmp_path, config_file, serial, capsys):
    out = tmp_path / "out"
    assert main(["run", str(config_file), "--out", str(out), "--jobs", "2"]) == 0
    captured = capsys.readouterr()
    (folder,) = (out / "small").iterdir()
    assert captured.out.splitlines()[-1] == str(folder)
    assert "final_accuracy" in captured.out  # the summary table
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    assert_same_results(folder, serial)


def test_decai_run_with_a_failed_run_exits_1_and_resume_finishes_it(
    tmp_path, monkeypatch, config_file, experiment, serial, capsys
):
    fail_at(monkeypatch, experiment, (0, 1), ValueError("no luck"))
    out = tmp_path / "out"
    assert main(["run", str(config_file), "--out", str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    (folder,) = (out / "small").iterdir()
    assert captured.out == f"{folder}\n"
    assert "1 of 4 runs failed" in captured.err
    assert "point 0 replicate 1: ValueError: no luck" in captured.err
    assert f"--resume {folder}" in captured.err

    monkeypatch.undo()
    assert main(["run", "--resume", str(folder), "--quiet"]) == 0
    assert capsys.readouterr().out == f"{folder}\n"
    assert_same_results(folder, serial)


def test_decai_run_interrupted_exits_130_and_names_the_folder(
    tmp_path, monkeypatch, config_file, experiment, capsys
):
    fail_at(monkeypatch, experiment, (0, 1), KeyboardInterrupt())
    out = tmp_path / "out"
    assert main(["run", str(config_file), "--out", str(out), "--quiet"]) == 130
    (folder,) = (out / "small").iterdir()
    err = capsys.readouterr().err
    assert (
        err == f"decai: interrupted after 1 of 4 runs; finish with: decai run --resume {folder}\n"
    )


def test_a_full_disk_mid_sweep_is_one_line_and_resume_finishes_it(
    tmp_path, monkeypatch, config_file, serial, capsys
):
    written = []

    def disk_fills_up(path, run):
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path / "runs"))
        written.append(run)
        write_part(path, run)

    monkeypatch.setattr(sim.runner, "write_part", disk_fills_up)
    out = tmp_path / "out"
    assert main(["run", str(config_file), "--out", str(out), "--quiet"]) == 2
    (folder,) = (out / "small").iterdir()
    assert capsys.readouterr().err == (
        f"decai: error: {folder / 'runs'}: cannot write results (No space left on device); "
        f"the runs that finished are kept: decai run --resume {folder}\n"
    )
    monkeypatch.undo()
    simulated = count_simulations(monkeypatch, Experiment.from_file(config_file))
    assert main(["run", "--resume", str(folder), "--quiet"]) == 0
    assert len(simulated) == 2
    assert_same_results(folder, serial)


def test_decai_dry_run_of_a_resume_lists_the_missing_runs(tmp_path, serial, capsys):
    folder = copy_of(serial, tmp_path)
    shutil.rmtree(part_dir(folder, 1, 0))
    assert main(["run", "--resume", str(folder), "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("point 1 replicate 0 ")


@pytest.mark.parametrize("which", ["empty", "missing", "name folder"])
def test_resume_of_a_folder_that_is_not_a_results_folder(tmp_path, serial, capsys, which):
    folder = {"empty": tmp_path, "missing": tmp_path / "nowhere", "name folder": serial.parent}
    before = sorted(tmp_path.rglob("*"))
    assert main(["run", "--resume", str(folder[which])]) == 2
    assert str(folder[which]) in one_error_line(capsys)
    assert sorted(tmp_path.rglob("*")) == before


def test_resume_with_a_config_file_is_a_usage_error(tmp_path, serial, config_file, capsys):
    assert main(["run", str(config_file), "--resume", str(serial)]) == 2
    assert "FILE" in one_error_line(capsys)


def test_bad_executor_options_are_one_line(tmp_path, config_file, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", str(config_file), "--out", str(out), "--jobs", "0"]) == 2
    assert "--jobs" in one_error_line(capsys)
    assert main(["run", str(config_file), "--out", str(out), "--scheduler", "tcp://x:1"]) == 2
    assert "--executor dask" in one_error_line(capsys)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if Dask were not installed
    assert main(["run", str(config_file), "--out", str(out), "--executor", "dask"]) == 2
    assert "pip install" in one_error_line(capsys)
    assert not out.exists()
