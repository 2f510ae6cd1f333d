"""The dashboard's two pages, as Solara components.

`LivePage`: Mesa's SolaraViz over a `LiveRun` of the config, with its controls in the
sidebar (Reset applies them), Step and Play, and live views: where the run is, the
accuracy on the hidden test set against the full-data line, each agent kind's balance, and
a table of the agents. The charts are the results' own plots (sim.plots).

`ResultsPage`: a finished results folder: each sweep point's headline plot and summary
rows, chosen with a selector, and the plots across the sweep.
"""

import html
import io
import re
from pathlib import Path

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim import plots
from sim.config import ExperimentConfig
from sim.dashboard.live import LiveRun, controls, starting
from sim.results import load_results

AGENT_ROWS = 25
"""Agents shown per page of the agents table."""
PLOT_WIDTH = "min(100%, 1000px)"
"""A results plot's width on the page (the files are 1,200 pixels wide)."""


@solara.component
def RunStatus(model: LiveRun):
    """Where the run is, and what it runs; or why the controls give no run. (Plain text:
    Solara's Markdown would fetch a diagram library from its CDN.)"""
    update_counter.get()  # drawn again after every Step (Mesa's force_update)
    if model.problem:
        return solara.Error(f"The controls give no run: {model.problem}")
    run, experiment = model.run, model.config.experiment
    state = "finished" if run.over() else f"of {experiment.duration_days:g}"
    with solara.Column(classes=["run-status"]):
        solara.Text(
            f"Day {model.day:.2f} {state} · accuracy {100 * run.accuracy:.1f}% "
            f"(trained on all data: {100 * model.full_data_accuracy:.1f}%) · "
            f"{len(run.contract.contributions):,} contributions · "
            f"escrow {run.ledger[run.contract.address]:,}",
            style={"font-size": "1.1em", "font-weight": "bold"},
        )
        solara.Text(f"Running: {model.description()}", style={"color": "dimgray"})


@solara.component
def Charts(model: LiveRun):
    """Accuracy against the full-data line, and each kind's balance (or points)."""
    update_counter.get()
    days = model.config.experiment.duration_days
    accuracy, kinds = solara.use_memo(  # drawn again only once there is a new sample
        lambda: (
            png(plots.accuracy_plot(model.timeseries(), model.summary(), days=days)),
            png(plots.kinds_plot(model.agents(), days=days)),
        ),
        [model, model.samples],
    )
    with solara.Columns([1, 1]):
        with solara.Card("Accuracy on the hidden test set", classes=["accuracy-chart"]):
            solara.Image(accuracy, width="100%")
        with solara.Card("Balance by agent kind", classes=["kinds-chart"]):
            solara.Image(kinds, width="100%")


@solara.component
def AgentTable(model: LiveRun):
    update_counter.get()
    with solara.Card("Agents", classes=["agent-table"]):
        solara.DataFrame(model.agent_table(), items_per_page=AGENT_ROWS)


def png(figure) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is cleared after)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=plots.DPI)
    figure.clear()
    return buffer.getvalue()


@solara.component
def LivePage(base: ExperimentConfig):
    """Each browser session gets its own run of `base`. SolaraViz gives the controls and
    Step, Play and Reset; the views below read the run it holds and are drawn again on
    every step. (SolaraViz's own draggable grid of components does not load with Solara's
    Vue 3 front end, so the views are laid out here.)"""
    model_params = solara.use_memo(lambda: controls(base), [])
    model = solara.use_reactive(solara.use_memo(lambda: LiveRun(**starting(model_params)), []))
    SolaraViz(
        model,
        components=[],
        model_params=model_params,
        name=f"decai-sim: {base.experiment.name}",
        play_interval=300,
    )
    with solara.Column():
        RunStatus(model.value)
        if model.value.problem is None:
            Charts(model.value)
            AgentTable(model.value)


POINT_FILE = re.compile(r"_point(\d+)\.png$")


@solara.component
def ResultsPage(folder: Path):
    """A results folder: a sweep point's headline plot and summary rows, and the plots
    across the sweep."""
    results = solara.use_memo(lambda: load_results(folder), [])
    manifest = results.manifest
    points = manifest.get("points") or [{}]
    labels = [
        f"point {k}: " + (", ".join(f"{key}={value}" for key, value in overrides.items()) or "-")
        for k, overrides in enumerate(points)
    ]
    label, set_label = solara.use_state(labels[0])
    point = labels.index(label)
    shown = plots_by_point(folder, len(points))
    per_point, across = shown.get(point, []), shown.get(None, [])
    replicates = results.summary.groupby("point")["replicate"].nunique().max()

    with solara.AppBar():
        solara.AppBarTitle(f"decai-sim results: {folder}")
    with solara.Sidebar():
        solara.Select("sweep point", values=labels, value=label, on_value=set_label)
        solara.Text(
            f"{len(points)} point(s) × {replicates} replicate(s); "
            f"swept: {', '.join(manifest.get('swept_keys') or []) or 'nothing'}"
        )
    with solara.Column():
        heading(label)
        for path in per_point:
            solara.Image(path, width=PLOT_WIDTH)
        heading("Summary: each replicate, and their mean")
        solara.DataFrame(point_summary(results.summary, point), items_per_page=100)
        if len(points) > 1 and across:
            heading("Across the sweep")
            for path in across:
                solara.Image(path, width=PLOT_WIDTH)


def point_summary(summary, point: int):
    """One point's summary.csv rows turned on their side: a row per figure, a column per
    replicate and their mean (figures no replicate has are left out)."""
    rows = summary[summary["point"] == point].set_index("replicate").drop(columns="point")
    figures = rows.select_dtypes("number").dropna(axis=1, how="all").T
    figures.columns = [f"replicate {r}" for r in figures.columns]
    return figures.assign(mean=figures.mean(axis=1)).round(4).rename_axis("figure").reset_index()


def heading(text: str) -> None:
    solara.HTML(tag="h3", unsafe_innerHTML=html.escape(text))


def plots_by_point(folder: Path, n_points: int) -> dict[int | None, list[Path]]:
    """A results folder's PNG plots by the sweep point each shows (None: across the
    points). With one point, every plot is its own; in a sweep, `headline.png` and
    `gas.png` repeat point 0's `_point0` files and are left out."""
    shown: dict[int | None, list[Path]] = {}
    for path in sorted((folder / "plots").glob("*.png")):
        match = POINT_FILE.search(path.name)
        if n_points == 1:
            point = 0
        elif match:
            point = int(match.group(1))
        elif path.with_name(f"{path.stem}_point0.png").exists():
            continue
        else:
            point = None
        shown.setdefault(point, []).append(path)
    return shown
