"""The Python API, for notebooks and scripts: run a config in-process and get its results.

    import sim

    results = sim.run("experiments/default.toml", experiment__replicates=2)
    results.summary                     # tidy DataFrames: summary, timeseries, agents
    results.headline_plot()             # matplotlib Figures, as `decai run` draws them
    sim.figures(results)                # every plot `decai run` writes, by file stem

`sim.run` writes the same results folder as `decai run` and returns what
`sim.load_results(folder)` returns for it.
"""

import copy
import warnings
from collections.abc import Mapping
from concurrent.futures import Executor
from contextlib import nullcontext
from numbers import Integral
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sim import sweep_plots
from sim.config import ConfigError, read_toml
from sim.executor import make_executor
from sim.experiment import Experiment, set_key
from sim.results import Results
from sim.runner import run_experiment

DEFAULT_OUT = Path("results")
"""Where `run` writes by default, relative to the working directory, as `decai run` does
(in Jupyter: a `results/` folder beside the notebook)."""


def override_key(name: str) -> str:
    """A keyword argument's name as a dotted config key: `mechanism__kind` is `mechanism.kind`."""
    return name.replace("__", ".")


def run(
    config: str | Path | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    jobs: int = 1,
    executor: Executor | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = False,
    **keys: Any,
) -> Results:
    """Run an experiment here, in this process (and `jobs` workers), like `decai run`.

    config:    a TOML file (str or Path), or a config as a dict (the TOML's tables as
               nested dicts, `agents` a list of dicts; it is copied, never changed).
    **keys:    overrides, as `decai run --set KEY=VALUE`, with each dot of the key written
               as a double underscore, and Python values (no TOML parsing):
                   sim.run(path, mechanism__refund_window_days=3, experiment__replicates=2,
                           agents__attacker__count=2,               # the group "attacker"
                           sweep__mechanism__kind=["dtr", "none"])  # adds a swept key
    overrides: the same as a mapping of dotted keys, for keys that read better dotted, or
               that are not identifiers: `overrides={"sweep.population.attack_rate": [0, .2]}`.
               Applied after **keys, so a key given both ways takes this value.
    out:       the results root: the folder is `<out>/<experiment.name>/<timestamp>/`.
               Default `results` in the working directory (as `decai run`); not "".
    jobs:      worker processes, at least 1 (`decai run --jobs`): a process pool (loky)
               whose workers never import the caller's `__main__`, so neither a notebook
               nor a script needs an `if __name__ == "__main__":` guard. Same results, to
               the byte, as jobs=1.
    executor:  an executor of your own instead (e.g. from `sim.executor.make_executor(4,
               "dask")`, or any `concurrent.futures.Executor`), reused across calls; not
               together with jobs > 1.
    progress:  show a progress bar (tqdm, on stderr).

    Returns the results (`sim.results.Results`): `summary`, `timeseries`, `agents` and
    `leaderboard` DataFrames, `config` (the resolved config as TOML text), `manifest`,
    `path`, `headline_plot(point)`. Raises `sim.config.ConfigError` for a bad config or
    override, ValueError for jobs below 1 or an empty out, TypeError for an executor that
    is not one (nothing written for any of these), `sim.runner.RunsFailed` if every run
    raised; if only some did, it warns and `results.failed` lists them.
    """
    if not isinstance(jobs, Integral) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs: must be a whole number of at least 1 (got {jobs!r})")
    if executor is not None and jobs > 1:
        raise ValueError("give jobs or executor, not both")
    if out is not None and not str(out).strip():
        raise ValueError("out: an empty folder name (give a folder, or leave out for results/)")
    if isinstance(config, str | Path):
        raw, source = read_toml(Path(config)), str(config)
    elif isinstance(config, Mapping):
        raw, source = copy.deepcopy(dict(config)), "config"
    else:
        raise TypeError(f"config must be a path or a dict, not {type(config).__name__}")
    for key, value in [
        *((override_key(k), v) for k, v in keys.items()),
        *(overrides or {}).items(),
    ]:
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"{source}: {key!r}: not a dotted config key")
        set_key(raw, key, copy.deepcopy(value))
    experiment = Experiment(raw, source)

    pool = make_executor(jobs) if executor is None else nullcontext(executor)
    with pool as running:
        results = run_experiment(
            experiment,
            Path(out) if out is not None else DEFAULT_OUT,
            executor=running,
            progress=progress,
        )
    if results.failed:
        first = results.failed[0]
        warnings.warn(
            f"{len(results.failed)} runs failed (point {first['point']} replicate "
            f"{first['replicate']}: {first['error']}); see results.failed",
            RuntimeWarning,
            stacklevel=2,
        )
    return results


def figures(results: Results) -> dict[str, Figure]:
    """Every plot that `decai run` writes into `plots/`, as matplotlib Figures keyed by
    file stem (`headline`, `headline_point1`, `compare_mechanism_kind`,
    `heatmap_final_accuracy`, ...), chosen by the same rules as `write_sweep_plots`.

    For one plot, call it directly: `results.headline_plot(point)`, or
    `sim.sweep_plots.heatmap(results.summary, x, y, metric)`, `metric_plot`, `roi_plot`,
    `comparison_plot`.
    """
    points = sorted(int(p) for p in results.summary["point"].unique()) or [0]
    drawn = {"headline": results.headline_plot(points[0])}
    if len(points) > 1:
        for point in points:
            drawn[f"headline_point{point}"] = results.headline_plot(point)
    keys = results.manifest.get("swept_keys", [])
    return drawn | sweep_plots.sweep_figures(results.summary, keys)


__all__ = ["DEFAULT_OUT", "figures", "override_key", "run"]
