"""Speed-up of a sweep from 1 to 2 local workers.

Runs experiments/attack_rate_sweep.toml (60 runs: 5 attack rates x 4 mechanisms x 3
replicates) in-process, then with a pool of 2 worker processes, into temporary folders,
checks that both give byte-identical summary.csv, and prints the wall times. The last
line is `speedup_2_workers: X` (target: X >= 1.7 on a 2-core machine).

    python bench/sweep_scaling.py [CONFIG]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from sim.executor import make_executor  # noqa: E402
from sim.experiment import Experiment  # noqa: E402
from sim.runner import planned_runs, run_experiment  # noqa: E402

DEFAULT = Path(__file__).resolve().parent.parent / "experiments" / "attack_rate_sweep.toml"


def timed_run(experiment: Experiment, jobs: int, out: Path) -> tuple[float, bytes]:
    tic = time.perf_counter()
    with make_executor(jobs) as executor:
        results = run_experiment(experiment, out, executor=executor)
    return time.perf_counter() - tic, (results.path / "summary.csv").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=DEFAULT)
    experiment = Experiment.from_file(parser.parse_args().config)
    print(f"{len(planned_runs(experiment))} runs, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as out:
        one, summary_one = timed_run(experiment, 1, Path(out) / "one")
        print(f"1 worker (in-process): {one:.1f} s")
        two, summary_two = timed_run(experiment, 2, Path(out) / "two")
        print(f"2 workers (processes): {two:.1f} s")
    print(f"summary.csv identical: {summary_one == summary_two}")
    print(f"speedup_2_workers: {one / two:.2f}")


if __name__ == "__main__":
    main()
