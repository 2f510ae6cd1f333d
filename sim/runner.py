"""Runs every (sweep point, replicate) of an experiment, on any executor, into one results
folder (laid out in sim.results_folder), durably: each run is written as soon as it finishes, a
run that raises is recorded and the sweep goes on, and an unfinished folder is resumed.

One runner serves every executor (sim.executor): in-process (none), a local process pool
(`--jobs N`), a Dask cluster (`--executor dask`). Each run's seeds depend only on (seed,
replicate) and the final tables are assembled in (point, replicate) order, so all give the
same results.
"""

import os
import platform
import time
import tomllib
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, wait
from contextlib import closing
from dataclasses import replace
from functools import partial
from importlib.metadata import version
from pathlib import Path

import tomli_w
from tqdm import tqdm

from sim.config import ConfigError, ExperimentConfig
from sim.datasets import DatasetError
from sim.executor import LocalPool, check_executor
from sim.experiment import Experiment
from sim.model import check_data as check_model_data
from sim.provenance import check_unchanged, fingerprint
from sim.results import Results, draw_plots, load_results
from sim.results_folder import (
    ResultsError,
    Run,
    held,
    new_results_dir,
    open_results,
    read_part,
    refuse_links,
    remove_temporaries,
    start_results,
    write_final,
    write_manifest,
    write_part,
)
from sim.shared_data import SharedData, data_key, shared_datasets
from sim.simulation import load_data, make_split, simulate

PACKAGES = ("decai-sim", "mesa", "numpy", "pandas", "scikit-learn", "pydantic", "pyarrow")


class RunsFailed(RuntimeError):
    """Every run raised: there is nothing to assemble (the manifest has each error)."""

    def __init__(self, path: Path, failed: list[dict]):
        first = failed[0]
        super().__init__(
            f"all {len(failed)} runs failed (point {first['point']} replicate "
            f"{first['replicate']}: {first['error']}); see {path / 'manifest.json'}"
        )
        self.path = path


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished runs are kept, `resume_experiment(path)` ends it."""

    def __init__(self, path: Path, done: int, total: int):
        super().__init__(f"interrupted after {done} of {total} runs")
        self.path, self.done, self.total = path, done, total


def planned_runs(experiment: Experiment) -> list[tuple[int, int]]:
    """(point, replicate) pairs in the order they are submitted (and assembled)."""
    return [
        (point, replicate)
        for point, (_, config) in enumerate(experiment.points)
        for replicate in range(config.experiment.replicates)
    ]


def check_data(experiment: Experiment) -> None:
    """Do every check that needs the data, for every sweep point, before anything runs or
    is written: load and split its data (loading is cached, and consecutive points sharing
    their data share one split), then the class-level checks of sim.model.check_data; no
    model is built.

    A missing or malformed data file, a model that cannot learn the data (a binary
    perceptron on a multi-class file), a class the data does not have, or a bounty
    provider's test set larger than the pool, in any point, is then one clear error
    instead of a failed run.
    """
    loaded = split = None
    for overrides, config in experiment.points:
        where = f" (sweep point {overrides})" if overrides else ""
        data = data_key(config)
        if data != loaded:
            loaded = data
            try:
                split = make_split(config, replicate=0)
            except DatasetError as error:
                raise DatasetError(f"{experiment.source}: data.dataset: {error}{where}") from None
        try:
            check_model_data(config, split)
        except ConfigError as error:
            raise ConfigError(f"{experiment.source}: {error}{where}") from None


# --- one run, in whichever process the executor picks ---------------------------------------


def run_one(
    config: ExperimentConfig,
    point: int,
    replicate: int,
    overrides: dict,
    shared: SharedData | None = None,
) -> Run:
    """Simulate one (point, replicate); an exception comes back as a failed Run."""
    keys = {"point": point, "replicate": replicate}
    tic = time.perf_counter()
    try:
        result = simulate(config, replicate, shared=shared)
    except Exception as error:
        return failed_run(point, replicate, round(time.perf_counter() - tic, 3), error)
    return Run(
        **keys,
        seconds=round(time.perf_counter() - tic, 3),
        summary={**keys, "seed": config.experiment.seed, **overrides, **result.summary},
        mechanism=result.mechanism,
        timeseries=result.timeseries.assign(**keys),
        agents=result.agents.assign(**keys),
        leaderboard=result.leaderboard.assign(**keys),
    )


def run_and_store(
    path: Path,
    config: ExperimentConfig,
    point: int,
    replicate: int,
    overrides: dict,
    shared: SharedData | None = None,
) -> Run:
    """Simulate one run where it is called, write its part there, and return it without its
    tables.

    Pool workers run this so that only a small message crosses the pool's result pipe: a
    worker killed while sending a large result leaves half a message in the pipe, and the
    pool (CPython's, and loky's too) then waits for the rest forever. A message of a few
    hundred bytes is written whole or not at all.
    """
    return stored(path, run_one(config, point, replicate, overrides, shared))


def stored(path: Path, run: Run) -> Run:
    """`run` with its part written to the results folder, as its manifest entry needs it."""
    if run.error is not None:
        return run
    write_part(path, run)
    return replace(run, summary=None, timeseries=None, agents=None, leaderboard=None)


def failed_run(point: int, replicate: int, seconds: float, error: Exception) -> Run:
    """The run that raised `error` (or that its executor could not bring back)."""
    message = f"{type(error).__name__}: {error}"
    trace = "".join(traceback.format_exception(error))
    return Run(point, replicate, seconds, error=message, traceback=trace)


# --- a sweep ------------------------------------------------------------------------------


def run_experiment(
    experiment: Experiment, out: Path, *, executor: Executor | None = None, progress=False
) -> Results:
    """Run every (point, replicate) into a new `<out>/<name>/<timestamp>/` and return it.

    With no executor the runs are done here, one after the other. The folder is created
    only after the config's data has been checked, so bad input writes nothing. The
    manifest records the config's and data files' fingerprint (a data file by its absolute
    path: a relative one is the file in this working directory, wherever resumed from).
    """
    check_executor(executor)
    check_data(experiment)
    path = new_results_dir(Path(out), experiment.config.experiment.name)
    config_toml = tomli_w.dumps(experiment.config.resolved())
    data_files = {
        config.data.dataset: os.path.abspath(config.data.dataset.partition(":")[2])
        for _, config in experiment.points
        if ":" in config.data.dataset  # csv:, parquet: or svmlight: PATH
    }
    manifest = {
        "name": experiment.config.experiment.name,
        "started": time.time(),
        "finished": None,
        "versions": {"python": platform.python_version()}
        | {package: version(package) for package in PACKAGES},
        "seed_entropy": experiment.config.experiment.seed,
        "spawn_keys": {"replicate r": "(r,)", "data order": "(r, 0)", "behaviour": "(r, 1)"},
        "swept_keys": experiment.swept_keys,
        "sweep_mode": experiment.mode,
        "points": [overrides for overrides, _ in experiment.points],
        **fingerprint(config_toml, data_files),
        "runs": [
            {"point": point, "replicate": replicate, "status": "pending"}
            for point, replicate in planned_runs(experiment)
        ],
    }
    try:
        start_results(path, config_toml, manifest)
    except OSError as error:
        raise ResultsError(f"{out}: cannot make a results folder here ({error.strerror})") from None
    with held(path):
        return _sweep(path, experiment, manifest, executor, progress)


def open_unfinished(path: str | Path) -> tuple[Experiment, dict]:
    """The experiment and manifest of a results folder, to resume it: refused if the folder
    holds a symlink, or its config.toml or a data file is not the one the run started with.
    Each point reads its data file from the absolute path the manifest recorded."""
    path = Path(path)
    refuse_links(path)
    config, manifest = open_results(path)
    try:
        raw = tomllib.loads(config)
    except tomllib.TOMLDecodeError as error:
        raise ResultsError(f"{path / 'config.toml'}: cannot read config: {error}") from None
    experiment = Experiment(raw, str(path / "config.toml"))
    if [overrides for overrides, _ in experiment.points] != manifest.get("points"):
        raise ResultsError(f"{path}: config.toml does not give the sweep points of manifest.json")
    files = check_unchanged(path, config, manifest)
    for index, (overrides, point) in enumerate(experiment.points):
        kind, colon, _ = point.data.dataset.partition(":")
        if not colon:
            continue
        if point.data.dataset not in files:
            raise ResultsError(f"{path / 'manifest.json'}: data_files has no {point.data.dataset}")
        data = point.data.model_copy(update={"dataset": f"{kind}:{files[point.data.dataset]}"})
        experiment.points[index] = (overrides, point.model_copy(update={"data": data}))
    return experiment, manifest


def missing_runs(path: Path, experiment: Experiment) -> list[tuple[int, int]]:
    """The runs whose part is missing or does not read back cleanly (ResultsError for a
    part that reads cleanly but is not that run: another seed or swept value)."""
    return [key for key in planned_runs(experiment) if _read(path, experiment, *key) is None]


def _read(path: Path, experiment: Experiment, point: int, replicate: int) -> Run | None:
    """The run's part, checked against the seed and swept values of its point."""
    overrides, config = experiment.points[point]
    return read_part(path, point, replicate, {"seed": config.experiment.seed, **overrides})


def resume_experiment(
    path: str | Path, *, executor: Executor | None = None, progress=False
) -> Results:
    """Run what an interrupted (or partly failed) sweep left undone, then assemble it all.

    Runs whose part reads back cleanly are kept as they are; the rest (never run, failed, or
    with a truncated or corrupt file) are run again, and temporary files a killed process
    left are deleted. The result equals an uninterrupted run.
    """
    path = Path(path)
    check_executor(executor)
    experiment, manifest = open_unfinished(path)
    check_data(experiment)
    with held(path):
        remove_temporaries(path)
        manifest["finished"] = None
        manifest["resumed"] = [*manifest.get("resumed", []), time.time()]
        return _sweep(path, experiment, manifest, executor, progress)


def _sweep(
    path: Path, experiment: Experiment, manifest: dict, executor: Executor | None, progress
) -> Results:
    planned = planned_runs(experiment)
    entries = {}
    for point, replicate in planned:
        part = _read(path, experiment, point, replicate)
        pending = {"point": point, "replicate": replicate, "status": "pending"}
        entries[point, replicate] = part.entry() if part else pending
    todo = [key for key, entry in entries.items() if entry["status"] != "done"]
    bar = tqdm(
        total=len(planned), initial=len(planned) - len(todo), unit="run", disable=not progress
    )
    failed = 0
    try:
        manifest["runs"] = list(entries.values())
        write_manifest(path, manifest)
        with bar, closing(_execute(path, experiment, todo, executor)) as finished:
            for run in finished:
                if run.error is not None:
                    failed += 1
                    bar.set_postfix(failed=failed)
                entries[run.point, run.replicate] = run.entry()
                manifest["runs"] = list(entries.values())
                write_manifest(path, manifest)
                bar.update()

            done = [key for key, entry in entries.items() if entry["status"] == "done"]
            if not done:
                raise RunsFailed(path, list(entries.values()))
            runs = [_read(path, experiment, *key) for key in done]
            if None in runs:
                raise ResultsError(f"{path}: a finished run's files changed during the sweep")
            bar.set_description("writing the results")
            write_final(path, manifest, runs, partial(draw_plots, map=_drawing_map(executor)))
            return load_results(path)
    except KeyboardInterrupt:
        done = sum(entry["status"] == "done" for entry in entries.values())
        raise Interrupted(path, done, len(planned)) from None
    except OSError as error:  # a full disk, a folder removed under the sweep
        raise ResultsError(
            f"{error.filename or path}: cannot write results ({error.strerror}); the runs "
            f"that finished are kept: decai run --resume {path}"
        ) from None


def _drawing_map(executor: Executor | None):
    """The executor's map to draw the plots with, or the built-in one if the executor broke
    (a worker was killed): the runs are safe on disk, and their plots are drawn here."""
    if executor is None:
        return map

    def drawing_map(function, *iterables):
        iterables = [list(items) for items in iterables]
        try:
            return list(executor.map(function, *iterables))
        except BrokenExecutor:
            return list(map(function, *iterables))

    return drawing_map


def _execute(
    path: Path, experiment: Experiment, todo: list[tuple[int, int]], executor: Executor | None
) -> Iterator[Run]:
    """The runs of `todo`, each as soon as it finishes (in whatever order), its part written.

    Local workers map the sweep's datasets from files written here once (so `--jobs N`
    neither builds nor holds N copies: sim/shared_data.py) and write their own parts
    (`run_and_store`); a run from another executor (a Dask cluster's worker may not share
    this file system) builds its own data and is written here. A run lost
    because its executor broke (a worker process died, and the pool with it) is sent again
    once; a run that fails a second time is recorded as failed.
    """
    work = [(experiment.points[p][1], p, r, experiment.points[p][0]) for p, r in todo]
    if executor is None:
        for item in work:
            yield run_and_store(path, *item)
        return
    if not isinstance(executor, LocalPool):
        yield from _gather(executor, run_one, work, store_in=path)
        return
    with shared_datasets((config for config, *_ in work), load_data) as shared:
        yield from _gather(executor, partial(run_and_store, path, shared=shared), work)


def _gather(
    executor: Executor, task, work: list[tuple], store_in: Path | None = None
) -> Iterator[Run]:
    """Submit `task` for each item of `work` and yield each run as it comes back; its part
    is written into `store_in` here, or (None) was written by the worker."""
    pending = {executor.submit(task, *item): item for item in work}
    sent_again = set()
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                item = pending.pop(future)
                _, point, replicate, _ = item
                try:
                    run = future.result()
                except BrokenExecutor as error:
                    if (point, replicate) in sent_again:
                        yield failed_run(point, replicate, 0.0, error)
                    else:
                        sent_again.add((point, replicate))
                        pending[executor.submit(task, *item)] = item
                    continue
                except Exception as error:
                    if store_in is None and isinstance(error, OSError):
                        raise  # the worker could not write the part: a full disk, say
                    yield failed_run(point, replicate, 0.0, error)  # it could not come back
                    continue
                yield run if store_in is None else stored(store_in, run)
    finally:
        for future in pending:
            future.cancel()
