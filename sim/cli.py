"""The `decai` command: run, validate, list and plot experiments.

Every user error (a bad key, a bad value, a missing file) is one line on stderr naming
what is wrong, with exit status 2, and nothing written.
"""

import argparse
import sys
from pathlib import Path

from sim.config import ConfigError, Experiment
from sim.datasets import DATASETS, DatasetError
from sim.learners import LEARNERS
from sim.registry import BEHAVIOURS, MECHANISMS, load_plugins
from sim.results import ResultsError, load_results
from sim.runner import check_data, planned_runs, run_experiment

DEFAULT_EXPERIMENT = Path("experiments/default.toml")
USER_ERRORS = (ConfigError, DatasetError, ResultsError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except USER_ERRORS as error:
        print(f"decai: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="decai", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run an experiment config and write its results")
    run.add_argument("file", nargs="?", type=Path, default=DEFAULT_EXPERIMENT, metavar="FILE")
    run.add_argument("--out", type=Path, default=Path("results"), help="results folder root")
    run.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key"
    )
    run.add_argument("--dry-run", action="store_true", help="print the runs, run nothing")
    run.add_argument("--quiet", action="store_true", help="print only the results folder")
    run.set_defaults(command=_run)

    validate = commands.add_parser("validate", help="check a config without running it")
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    validate.set_defaults(command=_validate)

    listing = commands.add_parser("list", help="datasets, models, mechanisms and behaviours")
    listing.set_defaults(command=_list)

    plot = commands.add_parser("plot", help="(re)draw the plots of a results folder")
    plot.add_argument("results_dir", type=Path, metavar="RESULTS_DIR")
    plot.set_defaults(command=_plot)
    return parser


def _run(args) -> int:
    experiment = Experiment.from_file(args.file, args.set)
    runs = planned_runs(experiment)
    if args.dry_run:
        for point, replicate in runs:
            overrides = experiment.points[point][0]
            print(f"point {point} replicate {replicate} {overrides or ''}".rstrip())
        return 0

    def progress(done: int) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\rrun {done}/{len(runs)}", end="", file=sys.stderr, flush=True)

    results = run_experiment(experiment, args.out, progress=progress)
    if not args.quiet:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        columns = [
            "final_accuracy",
            "full_data_accuracy",
            "honest_roi",
            "lazy_roi",
            "adversarial_roi",
        ]
        shown = [c for c in columns if results.summary[c].notna().any()]
        by = ["point", *experiment.swept_keys]
        print(results.summary.groupby(by)[shown].mean().round(3).to_string())
    print(results.path)
    return 0


def _validate(args) -> int:
    experiment = Experiment.from_file(args.file, args.set)
    check_data(experiment)
    print(f"{args.file}: ok ({len(planned_runs(experiment))} runs)")
    return 0


def _list(args) -> int:
    load_plugins()
    print("datasets:")
    for name, description in DATASETS.items():
        print(f"  {name:<18} {description}")
    print("models:")
    for name, learner in LEARNERS.items():
        print(f"  {name:<18} {learner.__doc__.strip().splitlines()[0]}")
    print("mechanisms:")
    for name, mechanism in sorted(MECHANISMS.items()):
        print(f"  {name:<18} {mechanism.description}")
    print("agent kinds and strategies:")
    for name, behaviour in sorted(BEHAVIOURS.items()):
        print(f"  {name:<18} {behaviour.description}")
        for strategy, description in behaviour.strategies.items():
            print(f"    {strategy:<16} {description}")
    return 0


def _plot(args) -> int:
    for path in load_results(args.results_dir).write_plots():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
