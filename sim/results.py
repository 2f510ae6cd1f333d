"""A finished results folder read back for notebooks and `decai plot`: its tables and the
plots `decai run` writes.

The folder itself (its layout, durable writes, resuming) is sim.results_folder, which does
not plot: this module sits above it and the plots (sim.plots, sim.sweep_plots).
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim import plots
from sim.results_folder import read_finished, refuse_links
from sim.sweep_plots import write_sweep_plots


@dataclass
class Results:
    """A run's results as tidy DataFrames, for notebooks and `decai plot`."""

    path: Path
    config: str
    manifest: dict
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    agents: pd.DataFrame
    leaderboard: pd.DataFrame | None = None
    """Final points per agent (gamified runs only: `leaderboard.csv`)."""

    def headline_plot(self, point: int = 0) -> Figure:
        return plots.headline_plot(self.timeseries, self.agents, self.summary, point=point)

    def write_plots(self) -> list[Path]:
        refuse_links(self.path)
        return draw_plots(self.path, self.manifest, self.summary, self.timeseries, self.agents)

    @property
    def failed(self) -> list[dict]:
        """The manifest entries of the runs that raised (with `error` and `traceback`)."""
        return [run for run in self.manifest["runs"] if run["status"] == "failed"]


def draw_plots(path: Path, manifest: dict, summary, timeseries, agents, *, map=map) -> list[Path]:
    """The headline plot of each point (drawn with `map`), and the plots per swept key."""
    written = plots.write_plots(path, timeseries, agents, summary, map=map)
    return written + write_sweep_plots(path, summary, manifest.get("swept_keys", []))


def load_results(path: str | Path) -> Results:
    """Read a results folder written by `decai run`."""
    path = Path(path)
    config, manifest, tables = read_finished(path)
    return Results(path, config, manifest, **tables)
