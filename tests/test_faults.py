"""Fault injection: a sweep killed part-way loses no finished run and ends whole.

A real `decai run` is started in its own process and killed with SIGKILL (no chance to
clean up) once a few runs have finished. Killing the whole process: `resume_experiment`
completes the folder in this process, counting what it simulates: exactly the runs without
a complete part. Killing one of its worker processes: the sweep carries on in a fresh pool
by itself. Either way the final summary.csv equals an uninterrupted run's byte for byte.
"""

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pytest
from scenarios import count_simulations

from sim.experiment import Experiment
from sim.results import load_results
from sim.results_folder import ResultsError, part_dir, read_part
from sim.runner import planned_runs, resume_experiment, run_and_store, run_experiment

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="finds workers in /proc")

SLOW_TOML = """\
[experiment]
name = "faults"
seed = 5
replicates = 5
duration_days = 40
eval_every_hours = 12

[data]
dataset = "synthetic"
n_samples = 10000
n_features = 20
binary = true
initial_fraction = 0.1
test_fraction = 0.2

[mechanism]
kind = "dtr"
refund_window_days = 1
take_window_days = 2

[sweep]
"mechanism.refund_window_days" = [0.5, 1]

[[agents]]
name = "honest"
kind = "honest"
count = 3
mean_deposit = 50
mean_wait_hours = 0.25

[[agents]]
name = "attacker"
kind = "adversarial"
strategy = "label_flip"
count = 1
mean_deposit = 100
mean_wait_hours = 2
"""
"""Ten runs of about half a second each: long enough to be killed in the middle."""


@pytest.fixture(scope="module")
def config_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "faults.toml"
    path.write_text(SLOW_TOML)
    return path


@pytest.fixture(scope="module")
def experiment(config_file) -> Experiment:
    return Experiment.from_file(config_file)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, experiment) -> Path:
    return run_experiment(experiment, tmp_path_factory.mktemp("uninterrupted")).path


def start_sweep(config_file: Path, out: Path, jobs: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "sim.cli", "run", str(config_file), "--out", str(out)]
    return subprocess.Popen(
        [*command, "--quiet", "--jobs", str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: nothing outlives the test
    )


def wait_for_parts(out: Path, count: int, process: subprocess.Popen) -> Path:
    """The results folder once `count` runs have finished (the sweep still going)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sweep ended before it could be killed"
        folders = list(out.glob("faults/*"))
        if folders and len(list(folders[0].glob("runs/*/summary.json"))) >= count:
            return folders[0]
        time.sleep(0.01)
    raise AssertionError(f"no {count} finished runs within 120 s")


def process_table() -> dict[int, tuple[int, str]]:
    """{pid: (parent pid, state)} of every process (a zombie's state is "Z")."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:  # the process ended while we looked
            continue
        table[int(stat.parent.name)] = (int(parent), state)
    return table


def workers(pid: int) -> list[int]:
    """A process pool's workers: the sweep's child processes that run loky's worker (its
    resource trackers are children too)."""
    table = process_table()
    children = [child for child, (parent, _) in table.items() if parent == pid]
    return [child for child in children if b"popen_loky" in command_line(child)]


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # the process ended while we looked
        return b""


def wait_until_gone(pids: list[int], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        table = process_table()
        if all(table.get(pid, (0, "Z"))[1] == "Z" for pid in pids):
            return
        time.sleep(0.05)
    raise AssertionError(f"worker processes {pids} still running {seconds} s after the kill")


def files(folder: Path, run: tuple[int, int]) -> list[Path]:
    return sorted(part_dir(folder, *run).iterdir())


def complete_parts(folder: Path, experiment: Experiment) -> dict[tuple[int, int], list]:
    """Each run whose part reads back whole, with its files' (inode, mtime) to show they
    are never rewritten."""
    return {
        run: [(f.name, f.stat().st_ino, f.stat().st_mtime_ns) for f in files(folder, run)]
        for run in planned_runs(experiment)
        if read_part(folder, *run) is not None
    }


@pytest.fixture
def sweep_process():
    """Start sweeps with it; whatever is left of them is killed at the end of the test."""
    started = []

    def start(*args, **kwargs):
        started.append(start_sweep(*args, **kwargs))
        return started[-1]

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def resume_and_check(folder, experiment, uninterrupted, monkeypatch) -> None:
    """Resume the folder: only runs without a complete part are simulated, nothing else is
    touched, and the result is the uninterrupted run's."""
    kept = complete_parts(folder, experiment)
    simulated = count_simulations(monkeypatch, experiment)
    resume_experiment(folder)
    assert sorted(simulated) == sorted(set(planned_runs(experiment)) - set(kept))
    assert {run: complete_parts(folder, experiment)[run] for run in kept} == kept
    assert (folder / "summary.csv").read_bytes() == (uninterrupted / "summary.csv").read_bytes()
    assert len(load_results(folder).summary) == len(planned_runs(experiment))
    assert not list(folder.rglob(".*"))  # the killed process's temporary files are gone


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "2-workers"])
def test_sigkill_to_the_sweep_then_resume(
    tmp_path, config_file, experiment, uninterrupted, monkeypatch, sweep_process, jobs
):
    process = sweep_process(config_file, tmp_path, jobs)
    folder = wait_for_parts(tmp_path, 2, process)
    with pytest.raises(ResultsError, match="another decai process is writing this folder"):
        resume_experiment(folder)  # not while the sweep is still running
    pool = workers(process.pid)
    assert len(pool) == (2 if jobs == 2 else 0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    wait_until_gone(pool)  # the workers do not outlive the sweep

    assert not (folder / "summary.csv").exists()
    assert 2 <= len(complete_parts(folder, experiment)) < len(planned_runs(experiment))
    resume_and_check(folder, experiment, uninterrupted, monkeypatch)


def test_sigkill_to_one_worker_the_sweep_recovers(
    tmp_path, config_file, experiment, uninterrupted, sweep_process
):
    process = sweep_process(config_file, tmp_path, jobs=2)
    folder = wait_for_parts(tmp_path, 1, process)
    os.kill(workers(process.pid)[0], signal.SIGKILL)
    kept = complete_parts(folder, experiment)
    _, stderr = process.communicate(timeout=120)

    # A fresh pool takes over the runs the dead one lost: the sweep ends by itself, whole,
    # and the runs that had finished were not run again.
    assert process.returncode == 0, stderr.decode()
    results = load_results(folder)
    assert not results.failed
    assert {run: complete_parts(folder, experiment)[run] for run in kept} == kept
    assert (folder / "summary.csv").read_bytes() == (uninterrupted / "summary.csv").read_bytes()


def test_a_pool_worker_sends_back_only_a_message_too_small_to_be_cut(tmp_path, experiment):
    """A worker killed while it writes a large result to the pool's pipe leaves half a
    message there, and the pool waits for the rest forever. So a worker writes the run's
    part itself and sends back its manifest entry: under PIPE_BUF, written whole or not at
    all."""
    overrides, config = experiment.points[1]
    run = run_and_store(tmp_path, config, 1, 3, overrides)
    assert run.error is None and run.timeseries is None
    assert len(ForkingPickler.dumps(run)) < select.PIPE_BUF
    assert read_part(tmp_path, 1, 3).entry() == run.entry()  # the part holds the whole run
