"""Runs every (sweep point, replicate) of an experiment and writes one results folder."""

import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from sim.config import ConfigError, Experiment
from sim.learners import LEARNERS
from sim.model import DecaiModel
from sim.results import Results, new_results_dir, write_results
from sim.simulation import make_split, simulate

PACKAGES = ("decai-sim", "mesa", "numpy", "pandas", "scikit-learn", "pydantic", "pyarrow")


def planned_runs(experiment: Experiment) -> list[tuple[int, int]]:
    """(point, replicate) pairs in the order they are run."""
    return [
        (point, replicate)
        for point, (_, config) in enumerate(experiment.points)
        for replicate in range(config.experiment.replicates)
    ]


def check_data(experiment: Experiment) -> None:
    """Load and split each point's data once, before anything runs or is written.

    A missing or malformed data file, or a model that cannot learn the data (a binary
    perceptron on a multi-class file), is then one clear error instead of a failed run.
    """
    seen = set()
    for _, config in experiment.points:
        key = (config.data.model_dump_json(), config.experiment.seed, config.model.kind)
        if key in seen:
            continue
        seen.add(key)
        split = make_split(config, replicate=0)
        learner = LEARNERS[config.model.kind]
        if learner.binary_only and split.n_classes > 2:
            raise ConfigError(
                f"{experiment.source}: model.kind: {config.model.kind} is binary but "
                f"{config.data.dataset} has {split.n_classes} classes; "
                "use nearest_centroid or naive_bayes"
            )
        try:  # building the model runs the checks that need the data (agents' classes)
            DecaiModel(config, split, rng=np.random.default_rng(0))
        except ConfigError as error:
            raise ConfigError(f"{experiment.source}: {error}") from None


def run_experiment(experiment: Experiment, out: Path, *, progress=None) -> Results:
    """Run everything, then write `<out>/<name>/<timestamp>/` whole."""
    check_data(experiment)
    name = experiment.config.experiment.name
    path = new_results_dir(Path(out), name)
    summaries, timeseries, agents, boards, runs = [], [], [], [], []
    started = time.time()
    for point, replicate in planned_runs(experiment):
        overrides, config = experiment.points[point]
        tic = time.perf_counter()
        result = simulate(config, replicate)
        seconds = time.perf_counter() - tic
        keys = {"point": point, "replicate": replicate}
        summaries.append({**keys, "seed": config.experiment.seed, **overrides, **result.summary})
        timeseries.append(result.timeseries.assign(**keys))
        agents.append(result.agents.assign(**keys))
        boards.append(result.leaderboard.assign(**keys))
        runs.append(
            {**keys, "status": "done", "seconds": round(seconds, 3), "mechanism": result.mechanism}
        )
        if progress:
            progress(len(runs))

    manifest = {
        "name": name,
        "started": started,
        "finished": time.time(),
        "versions": {"python": platform.python_version()}
        | {package: version(package) for package in PACKAGES},
        "seed_entropy": experiment.config.experiment.seed,
        "spawn_keys": {"replicate r": "(r,)", "data order": "(r, 0)", "behaviour": "(r, 1)"},
        "swept_keys": experiment.swept_keys,
        "sweep_mode": experiment.mode,
        "points": [overrides for overrides, _ in experiment.points],
        "runs": runs,
    }
    return write_results(
        path,
        config_toml=tomli_w.dumps(experiment.config.resolved()),
        manifest=manifest,
        summary=pd.DataFrame(summaries),
        timeseries=_tidy(timeseries),
        agents=_tidy(agents),
        leaderboard=_tidy(boards),
    )


def _tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate runs with `point, replicate` first."""
    tidy = pd.concat(frames, ignore_index=True)
    return tidy[["point", "replicate", *tidy.columns.drop(["point", "replicate"])]]
