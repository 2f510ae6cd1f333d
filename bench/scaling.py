"""Cost of the paper's DTR run as the data grows, each size in its own process.

Runs experiments/paper_2019_dtr.toml (bag_of_words binary presence features,
sgd_perceptron, DTR, one honest contributor and one label-flip attacker, seed 2019) as
one replicate at 2,000 to 1,000,000 samples of 1,000 features, and once at 200,000
documents over a 10,000-word vocabulary. Each size is a fresh `decai run` (with `--set`
overrides, into a temporary folder) in a child process, so its peak RSS is its own.

    python bench/scaling.py [--sizes 2k,10k,25k,100k,250k,1m,corpus] [--timeout S]

One row per size, printed as it finishes:

- contributions: accepted contributions of the run (72% of the samples once the pool is
  used up: 8% pre-trains, 20% is the test set).
- loop contrib/s: contributions / wall time of `model.run()`, the per-event loop only.
- eval %: the share of that loop spent measuring test accuracy (every simulated day on
  the test set, skipping rows whose class cannot have changed: sim/evaluation.py; what
  is left still grows with the test set and with the run's length).
- whole s: wall time of the child, start to exit: interpreter, imports, a 400-sample
  warm-up run that loads numba's compiled kernels (so that the loop figures are the
  loop's own), data (built as `decai run` builds it), model, loop, full-data baseline,
  results and plots.
- peak RSS MiB: the child's ru_maxrss.

The last line is `cost_growth_2k_to_1m: X`, loop seconds per contribution at 1,000,000
samples over that at 2,000: 1.0 means a flat cost per contribution; it is `n/a` unless
both ends ran.

Run length: under the shipped config's 400-day cap, 25,000 samples use up the pool and
settle in about 130 days (about 150 contributions a day); duration_days is
400 x samples / 25,000 (never below 400), so every size ends by using up its pool
(stop_when_settled), and a row flagged "pool left" did not. eval_every_hours stays at
the paper's 24: evaluation cost growing with the run is part of what this measures, and
1,000,000 samples (16,000 days) is within sim.limits (16,000 metric samples, about 2.7
million agent actions).

Nothing here raises a limit. A size the tool refuses (sim.datasets.MAX_CELLS and the
sim.limits work limits, as `decai run` checks them) or whose estimated memory is over
--max-gib (bytes per sample of the tool's own sparse feature matrix, measured on 2,000
samples, x samples; the splits are views of it) is printed as "refused: reason" and not
run; a child whose RSS passes --max-gib anyway is killed.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One core: pin BLAS to one thread (children inherit it) before numpy loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "experiments" / "paper_2019_dtr.toml"
SIZES = {  # label: (samples, features)
    "2k": (2_000, 1_000),
    "10k": (10_000, 1_000),
    "25k": (25_000, 1_000),
    "100k": (100_000, 1_000),
    "250k": (250_000, 1_000),
    "1m": (1_000_000, 1_000),
    "corpus": (200_000, 10_000),
}
PROBE_SAMPLES = 2_000


def overrides(samples: int, features: int) -> list[str]:
    days = 400 * max(1.0, samples / 25_000)
    return [
        "experiment.replicates=1",
        f"experiment.duration_days={days:g}",
        f"data.n_samples={samples}",
        f"data.n_features={features}",
    ]


def matrix_bytes(X) -> int:
    """Bytes of a Features matrix: its value, column and row-pointer arrays."""
    return X.values.nbytes + X.indices.nbytes + X.indptr.nbytes


def refusal(samples: int, features: int, max_bytes: float) -> str | None:
    """Why the tool (or the memory budget) refuses this size, or None if it may run."""
    from sim.config import ConfigError
    from sim.datasets import load_dataset
    from sim.experiment import Experiment

    try:
        experiment = Experiment.from_file(CONFIG, overrides(samples, features))
    except ConfigError as error:
        return str(error).removeprefix(f"{CONFIG}: ").splitlines()[0]
    data = experiment.config.data
    probe = load_dataset(
        data.dataset,
        seed=experiment.config.experiment.seed,
        n_samples=PROBE_SAMPLES,
        n_features=features,
        binary=data.binary,
    )
    estimate = matrix_bytes(probe.X) / PROBE_SAMPLES * samples
    if estimate > max_bytes:
        return (
            f"estimated {estimate / 2**30:.1f} GiB of features, over --max-gib "
            f"{max_bytes / 2**30:g}"
        )
    return None


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(samples: int, features: int, timeout: float, max_bytes: float) -> dict:
    """Run one size as `decai run` in a child process; its figures, or why it has none."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        argv = [sys.executable, __file__, "--child", str(result), "run", str(CONFIG)]
        argv += [f"--set={item}" for item in overrides(samples, features)]
        argv += ["--out", str(Path(tmp) / "out"), "--quiet"]
        with open(Path(tmp) / "stderr", "w+") as stderr:
            tic = time.perf_counter()
            child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)
            failure = None
            while child.poll() is None:
                if time.perf_counter() - tic > timeout:
                    failure = f"timed out after {timeout:g} s"
                elif rss_bytes(child.pid) > max_bytes:
                    failure = f"killed: RSS over --max-gib {max_bytes / 2**30:g}"
                if failure:
                    child.kill()
                    child.wait()
                    return {"failure": failure}
                time.sleep(0.05)
            whole = time.perf_counter() - tic
            stderr.seek(0)
            errors = [line.strip() for line in stderr if line.strip()]
        if child.returncode or not result.exists():
            last = errors[-1] if errors else "no message"
            return {"failure": f"failed (exit {child.returncode}): {last}"}
        return {**json.loads(result.read_text()), "whole_seconds": whole}


def warm_up() -> None:
    """Run the config at 400 samples first: numba loads each compiled kernel on its first
    call (about a second in all, once per process), which would otherwise fall inside the
    first loop timed and make small sizes look slower per contribution than they are."""
    from sim.experiment import Experiment
    from sim.simulation import build_model, make_split

    config = Experiment.from_file(CONFIG, ["data.n_samples=400"]).points[0][1]
    build_model(config, make_split(config, 0), 0).run()


def child(result: str, argv: list[str]) -> int:
    """`decai run argv` in this process, timing `model.run()`; figures go to `result`."""
    from sim import cli
    from sim.chain import DAY
    from sim.model import DecaiModel

    warm_up()
    figures = {"eval_seconds": 0.0}
    run, test_accuracy = DecaiModel.run, DecaiModel.test_accuracy

    def timed_accuracy(model: DecaiModel):
        tic = time.perf_counter()
        measured = test_accuracy(model)
        figures["eval_seconds"] += time.perf_counter() - tic
        return measured

    def timed_run(model: DecaiModel) -> None:
        figures["eval_seconds"] = 0.0  # not the initial accuracy, measured before the loop
        tic = time.perf_counter()
        run(model)
        figures["loop_seconds"] = time.perf_counter() - tic
        figures["contributions"] = len(model.contract.contributions)
        figures["days"] = model.time / DAY
        figures["pool_left"] = model.pool_left()

    DecaiModel.run, DecaiModel.test_accuracy = timed_run, timed_accuracy
    code = cli.main(argv)
    figures["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if code == 0:
        Path(result).write_text(json.dumps(figures))
    return code


def parse_sizes(text: str) -> list[str]:
    labels = [label.strip().lower() for label in text.split(",") if label.strip()]
    unknown = [label for label in labels if label not in SIZES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(unknown)}; choose from {', '.join(SIZES)}"
        )
    return labels


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, default=list(SIZES), help=f"default: {','.join(SIZES)}"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per size")
    parser.add_argument("--max-gib", type=float, default=16, help="memory budget per size")
    args = parser.parse_args()
    max_bytes = args.max_gib * 2**30

    header = (
        f"{'samples':>9} {'features':>8} {'contributions':>13} {'loop contrib/s':>14} "
        f"{'eval %':>6} {'whole s':>8} {'peak RSS MiB':>12}"
    )
    print(f"{CONFIG.relative_to(ROOT)}, one replicate, {os.cpu_count()} cores", flush=True)
    print(header, flush=True)
    rows = {}
    for label in args.sizes:
        samples, features = SIZES[label]
        reason = refusal(samples, features, max_bytes)
        row = {"failure": f"refused: {reason}"} if reason else None
        row = row or measure(samples, features, args.timeout, max_bytes)
        rows[label] = row
        lead = f"{samples:>9,} {features:>8,}"
        if "failure" in row:
            print(f"{lead} {row['failure']}", flush=True)
            continue
        rate = row["contributions"] / row["loop_seconds"]
        evaluating = 100 * row["eval_seconds"] / row["loop_seconds"]
        note = f"  (pool left after {row['days']:.0f} days)" if row["pool_left"] else ""
        print(
            f"{lead} {row['contributions']:>13,} {rate:>14,.0f} {evaluating:>6.0f} "
            f"{row['whole_seconds']:>8.1f} "
            f"{row['peak_rss'] / 2**20:>12,.0f}{note}",
            flush=True,
        )

    ends = [rows.get(label) for label in ("2k", "1m")]
    missing = [
        f"{SIZES[label][0]:,} samples {row['failure'] if row else 'not in --sizes'}"
        for label, row in zip(("2k", "1m"), ends, strict=True)
        if not row or "failure" in row
    ]
    if missing:
        print(f"cost_growth_2k_to_1m: n/a ({'; '.join(missing)})")
    else:
        small, large = (row["loop_seconds"] / row["contributions"] for row in ends)
        print(f"cost_growth_2k_to_1m: {large / small:.2f}")


if __name__ == "__main__":
    main()
