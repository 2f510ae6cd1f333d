"""The `decai` command: run, validate, list and plot experiments, and show them live.

Every user error (a bad key, a bad value, a missing file) is one line on stderr naming
what is wrong, with exit status 2, and nothing written. `decai run` exits 1 when some run
raised (the results hold the others; the manifest has each error and traceback), and 130
on Ctrl-C (what finished is kept: `decai run --resume DIR` does the rest).
"""

import argparse
import sys
from pathlib import Path

from sim.config import ConfigError
from sim.datasets import DATASETS, DatasetError
from sim.executor import ExecutorError, freeze_startup_objects, make_executor
from sim.experiment import Experiment
from sim.registry import behaviours, learners, mechanisms, summarised_kinds
from sim.results import load_results
from sim.results_folder import ResultsError
from sim.runner import (
    Interrupted,
    RunsFailed,
    check_data,
    missing_runs,
    open_unfinished,
    planned_runs,
    resume_experiment,
    run_experiment,
)

DEFAULT_EXPERIMENT = Path("experiments/default.toml")
DASHBOARD_HOST = "127.0.0.1"
"""The dashboard listens on this machine only: it runs whatever its page is asked to."""
DASHBOARD_PORT = 8765


class UsageError(ValueError):
    """Options that do not go together."""


USER_ERRORS = (ConfigError, DatasetError, ResultsError, ExecutorError, UsageError)


def main(argv: list[str] | None = None) -> int:
    freeze_startup_objects()
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except USER_ERRORS as error:
        print(f"decai: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file or folder that cannot be read or written
        print(f"decai: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="decai", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run an experiment config and write its results")
    run.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help=f"default: {DEFAULT_EXPERIMENT}"
    )
    run.add_argument("--out", help="results folder root (default: results)")
    run.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key"
    )
    run.add_argument("--dry-run", action="store_true", help="print the runs, run nothing")
    run.add_argument("--quiet", action="store_true", help="print only the results folder")
    run.add_argument(
        "--chain",
        choices=["python", "evm"],
        help="evm: cross-check every contract call on the Vyper contracts on an in-process "
        "EVM (the same as --set experiment.chain=evm)",
    )
    run.add_argument(
        "--jobs", "-j", type=int, metavar="N", help="worker processes (default: 1, in-process)"
    )
    run.add_argument(
        "--executor",
        choices=["processes", "dask"],
        default="processes",
        help="local worker processes, or a Dask cluster (default: processes)",
    )
    run.add_argument(
        "--scheduler", metavar="ADDRESS", help="the Dask scheduler (default: a local cluster)"
    )
    run.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="finish an interrupted results folder: run only what is missing",
    )
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

    dashboard = commands.add_parser(
        "dashboard", help="run a config live in the browser, or browse a results folder"
    )
    dashboard.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help=f"default: {DEFAULT_EXPERIMENT}"
    )
    dashboard.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    dashboard.add_argument(
        "--results", type=Path, metavar="DIR", help="show a results folder's plots and summary"
    )
    dashboard.add_argument(
        "--port", type=int, default=DASHBOARD_PORT, help=f"default: {DASHBOARD_PORT}"
    )
    dashboard.set_defaults(command=_dashboard)

    docs = commands.add_parser("docs", help="write docs/configs.md from the config schema")
    docs.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if docs/configs.md is stale"
    )
    docs.set_defaults(command=_docs)
    return parser


def _run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs: must be at least 1 (got {args.jobs})")
    if args.scheduler and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    if args.out is not None and not args.out.strip():
        raise UsageError("--out: an empty folder name (give a folder, or leave it out for results)")
    if args.resume:
        given = [
            flag
            for flag, value in (
                ("FILE", args.file),
                ("--set", args.set),
                ("--out", args.out),
                ("--chain", args.chain),
            )
            if value
        ]
        if given:
            raise UsageError(f"--resume runs the folder's own config: drop {', '.join(given)}")
        experiment, _ = open_unfinished(args.resume)
        runs = missing_runs(args.resume, experiment)
    else:
        chain = [f"experiment.chain={args.chain}"] if args.chain else []
        experiment = Experiment.from_file(args.file or DEFAULT_EXPERIMENT, [*args.set, *chain])
        runs = planned_runs(experiment)
    if args.dry_run:
        for point, replicate in runs:
            overrides = experiment.points[point][0]
            print(f"point {point} replicate {replicate} {overrides or ''}".rstrip())
        return 0

    progress = sys.stderr.isatty() and not args.quiet
    try:
        with make_executor(args.jobs, args.executor, args.scheduler) as executor:
            if args.resume:
                results = resume_experiment(args.resume, executor=executor, progress=progress)
            else:
                out = Path(args.out or "results")
                results = run_experiment(experiment, out, executor=executor, progress=progress)
    except Interrupted as stop:
        print(f"decai: {stop}; finish with: decai run --resume {stop.path}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # before the results folder was made
        print("decai: interrupted", file=sys.stderr)
        return 130
    except RunsFailed as error:
        print(f"decai: error: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        columns = [
            "final_accuracy",
            "full_data_accuracy",
            *(f"{kind}_roi" for kind in summarised_kinds()),
        ]
        shown = [c for c in columns if results.summary[c].notna().any()]
        by = ["point", *experiment.swept_keys]
        print(results.summary.groupby(by)[shown].mean().round(3).to_string())
    print(results.path)
    if results.failed:
        _report_failures(results)
        return 1
    return 0


def _report_failures(results, shown: int = 10) -> None:
    failed, total = results.failed, len(results.manifest["runs"])
    lines = [f"decai: {len(failed)} of {total} runs failed:"]
    lines += [f"  point {r['point']} replicate {r['replicate']}: {r['error']}" for r in failed]
    if len(failed) > shown:
        lines[shown + 1 :] = [f"  ... and {len(failed) - shown} more"]
    lines.append(
        f"the results hold the other runs; tracebacks are in {results.path / 'manifest.json'}; "
        f"run the failed ones again with: decai run --resume {results.path}"
    )
    print("\n".join(lines), file=sys.stderr)


def _validate(args) -> int:
    experiment = Experiment.from_file(args.file, args.set)
    check_data(experiment)
    print(f"{args.file}: ok ({len(planned_runs(experiment))} runs)")
    return 0


def _list(args) -> int:
    print("datasets:")
    for name, description in DATASETS.items():
        print(f"  {name:<18} {description}")
    print("models:")
    for name, learner in learners().items():
        print(f"  {name:<18} {learner.__doc__.strip().splitlines()[0]}")
    print("mechanisms:")
    for name, mechanism in mechanisms().items():
        print(f"  {name:<18} {mechanism.description}")
    print("agent kinds and strategies:")
    for name, behaviour in behaviours().items():
        print(f"  {name:<18} {behaviour.description}")
        for strategy, description in behaviour.strategies.items():
            print(f"    {strategy:<16} {description}")
    return 0


def _plot(args) -> int:
    for path in load_results(args.results_dir).write_plots():
        print(path)
    return 0


def _dashboard(args) -> int:
    """Check what to show (one line and exit 2 if it is bad), then serve it on this machine
    until Ctrl-C. Nothing is written."""
    if args.results and (args.file or args.set):
        raise UsageError("--results shows a results folder: drop FILE and --set")
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port: must be between 1 and 65535 (got {args.port})")
    if args.results:
        load_results(args.results)  # a folder that is not a finished results folder: one line
        target = {"results": str(args.results.resolve())}
    else:
        file = args.file or DEFAULT_EXPERIMENT
        experiment = Experiment.from_file(file, args.set)
        check_data(experiment)
        target = {"config": str(file.resolve()), "set": args.set}
        if experiment.swept_keys:
            print(f"decai: {file} is a sweep: the dashboard starts from its point 0")
    from sim.dashboard.serve import PortError, check_port, load_solara, serve

    try:
        load_solara()
    except ImportError as error:
        raise UsageError(
            f'the dashboard needs the dashboard extra: pip install -e ".[dashboard]" ({error})'
        ) from None
    from sim.dashboard.assets import AssetsError, ensure_assets

    try:
        check_port(DASHBOARD_HOST, args.port)
        for package in ensure_assets():
            print(f"decai: fetched {package} from the npm registry into Solara's cache")
    except (PortError, AssetsError) as error:
        raise UsageError(str(error)) from None
    print(f"decai dashboard: http://{DASHBOARD_HOST}:{args.port} (Ctrl-C stops it)", flush=True)
    serve(target, DASHBOARD_HOST, args.port)
    print("decai dashboard: stopped")
    return 0


def _docs(args) -> int:
    from sim import docs

    if args.check:
        if docs.reference_is_current():
            return 0
        print(f"decai: {docs.CONFIGS_MD} is out of date: run `decai docs`", file=sys.stderr)
        return 1
    print(docs.write_reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
