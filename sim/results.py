"""The results folder of one run of a config: writing it whole, and reading it back.

    <out>/<name>/<timestamp>/  config.toml  manifest.json  summary.csv
                               timeseries.parquet  agents.parquet  plots/

A folder is written under a hidden temporary name and renamed when complete, so a
crash never leaves a half-written results folder behind.
"""

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim import plots
from sim.sweep_plots import write_sweep_plots

FILES = ("config.toml", "manifest.json", "summary.csv", "timeseries.parquet", "agents.parquet")


class ResultsError(ValueError):
    """A folder that is not a complete results folder."""


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
        return draw_plots(self.path, self.manifest, self.summary, self.timeseries, self.agents)


def draw_plots(path: Path, manifest: dict, summary, timeseries, agents) -> list[Path]:
    """The headline plot of each point, and a comparison plot per swept key."""
    written = plots.write_plots(path, timeseries, agents, summary)
    return written + write_sweep_plots(path, summary, manifest.get("swept_keys", []))


def new_results_dir(out: Path, name: str) -> Path:
    """A fresh `<out>/<name>/<UTC timestamp>` path (not yet created)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    path = out / name / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = out / name / f"{stamp}-{suffix}"
    return path


def write_results(
    path: Path,
    *,
    config_toml: str,
    manifest: dict,
    summary: pd.DataFrame,
    timeseries: pd.DataFrame,
    agents: pd.DataFrame,
    leaderboard: pd.DataFrame,
) -> Results:
    """Write every file and the plots into a temporary folder, then rename it to `path`."""
    partial = path.with_name(f".{path.name}.partial")
    partial.mkdir(parents=True)
    try:
        (partial / "config.toml").write_text(config_toml)
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        summary.to_csv(partial / "summary.csv", index=False)
        timeseries.to_parquet(partial / "timeseries.parquet", index=False)
        agents.to_parquet(partial / "agents.parquet", index=False)
        if not leaderboard.empty:
            leaderboard.to_csv(partial / "leaderboard.csv", index=False)
        draw_plots(partial, manifest, summary, timeseries, agents)
        partial.rename(path)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return load_results(path)


def load_results(path: str | Path) -> Results:
    """Read a results folder written by `decai run`."""
    path = Path(path)
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise ResultsError(f"{path}: not a results folder (missing {', '.join(missing)})")
    try:
        return Results(
            path=path,
            config=(path / "config.toml").read_text(),
            manifest=json.loads((path / "manifest.json").read_text()),
            summary=pd.read_csv(path / "summary.csv"),
            timeseries=pd.read_parquet(path / "timeseries.parquet"),
            agents=pd.read_parquet(path / "agents.parquet"),
            leaderboard=(
                pd.read_csv(path / "leaderboard.csv")
                if (path / "leaderboard.csv").is_file()
                else None
            ),
        )
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read results: {error}") from None
