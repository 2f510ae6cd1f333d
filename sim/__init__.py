"""decai-sim's engine: ledger, contract, learners, datasets, Mesa model, runner, plots.

`sim.load_results(path)` reads a results folder as pandas DataFrames (for notebooks).
"""

__all__ = ["load_results"]


def __getattr__(name: str):
    # Imported lazily so that `import sim.ledger` does not pull in matplotlib and pandas.
    if name == "load_results":
        from sim.results import load_results

        return load_results
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
