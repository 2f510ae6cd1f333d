"""decai-sim's engine: ledger, contract, learners, datasets, Mesa model, runner, plots.

For notebooks and scripts:

- `sim.run(config_or_path, **overrides)` runs an experiment in-process (`jobs=N` for
  worker processes, no `__main__` guard needed) and returns its results;
- `sim.load_results(path)` reads a results folder written by `decai run` or `sim.run`;
- `sim.figures(results)` draws every plot `decai run` writes, as matplotlib Figures.

Results hold tidy pandas DataFrames (`summary`, `timeseries`, `agents`), the resolved
config and `headline_plot()`; see sim.api and sim.results.
"""

__all__ = ["figures", "load_results", "run"]


def __getattr__(name: str):
    # Imported lazily so that `import sim.ledger` does not pull in matplotlib and pandas.
    if name == "load_results":
        from sim.results import load_results

        return load_results
    if name in ("run", "figures"):
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
