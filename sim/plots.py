"""Plots of a run's results: the model's accuracy and the agents' balances over time
(or their points, in a run where points are the only reward), and the points leaderboard.

Everything here takes the tidy (long-format) DataFrames the results folder stores and
returns or writes matplotlib figures. Only the object-oriented API is used (a bare
``Figure``, saved with ``fig.savefig``), never pyplot's global state, so plotting works
headless, in tests and in notebooks alike, and never leaks open figures.

Every line is a mean over replicates with a shaded 95% confidence band: a single seeded run
can look like a result when it is only noise, and the band shows how far to trust a line.
"""

from __future__ import annotations

import io
from itertools import cycle
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.registry import kind_colour, summarised_kinds

DEFAULT_TITLE = "Balances & accuracy on the hidden test set"
POINTS_TITLE = "Points & accuracy on the hidden test set"

#: Above this many agents, per-agent lines become unreadable; plot one line per kind.
MAX_AGENT_LINES = 12

#: Agents of one kind share a colour, so their lines differ by dash pattern instead.
LINE_STYLES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2))]

FIGSIZE = (10, 6)
DPI = 120


def band(df: pd.DataFrame, x: str, y: str, by: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean of ``y`` over replicates at each ``x`` (per group ``by``) with a 95% t-band.

    Rows sharing ``x`` and ``by`` are taken as replicates. Replicate counts are small
    (a handful of seeds), so the half-width uses Student's t rather than the normal 1.96.
    With one replicate there is no spread to estimate and the band collapses to the mean.
    Returns columns ``x, *by, mean, low, high, n``, sorted by ``by`` then ``x``.
    """
    from scipy import special  # not scipy.stats: that import takes a second and 30 MiB

    keys = [*by, x]
    stats_ = (
        df.dropna(subset=[y])
        .groupby(keys, sort=True)[y]
        .agg(mean="mean", std="std", n="count")
        .reset_index()
    )
    n = stats_["n"].to_numpy()
    std = stats_["std"].fillna(0.0).to_numpy()
    t = special.stdtrit(np.maximum(n - 1, 1), 0.975)  # Student's t quantile, as t.ppf
    half = np.where(n > 1, t * std / np.sqrt(n), 0.0)
    stats_["low"] = stats_["mean"] - half
    stats_["high"] = stats_["mean"] + half
    return stats_[[x, *by, "mean", "low", "high", "n"]]


def balance_percent(agents: pd.DataFrame) -> pd.DataFrame:
    """Each agent's balance as percent of its own start balance, per replicate.

    Agents start with different budgets, so raw balances are not comparable on one axis;
    percent of start is, and it shares the "Percent" axis with accuracy as in the paper.
    An agent that starts with nothing has no meaningful percent and is dropped.
    """
    df = agents.sort_values("time_days", kind="stable")
    start = df.groupby(["replicate", "agent"])["balance"].transform("first")
    df = df.assign(percent=100.0 * df["balance"] / start.where(start != 0))
    return df.dropna(subset=["percent"])


def shows_points(agents: pd.DataFrame) -> bool:
    """Whether points, not money, are what changed: some agent earned points and no
    agent's balance ever moved (a gamified run). The headline plot then shows points
    where balances would be: flat 100% balance lines would say nothing."""
    if agents.empty or "points" not in agents.columns:
        return False
    if not agents["points"].fillna(0).ne(0).any():
        return False
    keys = [key for key in ("point", "replicate", "agent") if key in agents.columns]
    return bool((agents.groupby(keys)["balance"].nunique() <= 1).all())


def hold_last(df: pd.DataFrame, series: list[str], value: str) -> pd.DataFrame:
    """Carry each series' last sample forward to the end of the longest run.

    Runs may end at different times. Without this, replicates drop out of the mean one by
    one near the end, so the mean jumps and the band balloons (t with 1 degree of freedom
    is 12.7) or vanishes, which reads as an effect when it is bookkeeping. A finished run's
    model and balances no longer change, so holding its final state is what it would show.
    Returns columns ``time_days, *series, value``.
    """
    wide = df.pivot_table(index="time_days", columns=series, values=value, aggfunc="mean")
    long = wide.ffill().melt(ignore_index=False, value_name=value).reset_index()
    return long.dropna(subset=[value])[["time_days", *series, value]]


def _plot_band(ax, b: pd.DataFrame, x: str, *, label: str, **line_kw) -> None:
    """One mean line with its shaded band, in the line's colour.

    Everything plotted (accuracy, balances) is non-negative, so the band stops at 0.
    """
    (line,) = ax.plot(b[x], b["mean"], label=label, **line_kw)
    low = b["low"].clip(lower=0)
    ax.fill_between(b[x], low, b["high"], color=line.get_color(), alpha=0.15, linewidth=0)


def headline_plot(
    timeseries: pd.DataFrame,
    agents: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    point: int = 0,
    title: str | None = None,
) -> Figure:
    """The paper's headline figure (Harris & Waggoner 2019, 'Balances & Accuracy on Hidden
    Test Set') for one sweep point, with the replicate spread it lacked.

    Accuracy (black) and each agent's balance as percent of its start (coloured by kind)
    share one "Percent" axis, so one can see whether honest contributors gain while the
    model improves and attackers lose money. The dashed line is the accuracy of a model
    trained on all the data: the ceiling the collaboration is aiming for.

    When no balance ever moves but points do (`shows_points`: a gamified run), each
    agent's points take the balances' place, on a second axis, "Points", on the right.
    """
    ts = timeseries[(timeseries["point"] == point) & (timeseries["metric"] == "accuracy")]
    ag = agents[agents["point"] == point]
    sm = summary[summary["point"] == point]
    n_reps = max(ts["replicate"].nunique(), ag["replicate"].nunique(), 1)

    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()

    _draw_accuracy(ax, ts)
    points = shows_points(ag)
    if points:
        # Points are absolute counts, not a percent: they get their own axis. The
        # accuracy axis is drawn above it, so its lines stay on top of the points'.
        points_ax = ax.twinx()
        ax.set_zorder(points_ax.get_zorder() + 1)
        ax.patch.set_visible(False)
        _draw_points(points_ax, ag)
    elif not ag.empty:
        _draw_balances(ax, ag)
    _draw_full_data(ax, sm)

    _time_axes(ax, "Percent")
    if points:
        ax.set_ylim(0, 100)  # accuracy alone on this axis: its whole range
    else:
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))  # a balance can fall to 0%: show where
    if n_reps > 1:
        subtitle = f"point {point}: mean of {n_reps} replicates, shaded: 95% confidence band"
    else:
        subtitle = f"point {point}: a single replicate, so no confidence band"
    cols = ["replicate", "time_days"]
    ends = pd.concat([ts[cols], ag[cols]]).groupby("replicate")["time_days"].max()
    if ends.nunique() > 1:
        subtitle += "\nruns that ended early hold their final values"
    # Title and subtitle both sit over the axes (not the figure) so the legend beside
    # the axes cannot run into them.
    ax.set_title(
        title or (POINTS_TITLE if points else DEFAULT_TITLE),
        fontsize=15,
        pad=10 + 13 * (1 + subtitle.count("\n")),
    )
    add_subtitle(ax, subtitle, fontsize=10)
    # Outside the axes, so it can never hide a line however the run turned out.
    fig.legend(loc="outside right upper", fontsize=10, frameon=False)
    return fig


def _draw_accuracy(ax, ts: pd.DataFrame) -> None:
    """Accuracy on the hidden test set, in percent (black, over the other lines)."""
    if ts.empty:
        return
    acc = hold_last(ts.assign(value=100.0 * ts["value"]), ["replicate"], "value")
    _plot_band(
        ax,
        band(acc, "time_days", "value"),
        "time_days",
        label="Accuracy on hidden test set",
        color="black",
        linewidth=2.5,
        zorder=3,
    )


def _draw_full_data(ax, sm: pd.DataFrame) -> None:
    """The dashed ceiling: the accuracy of the same model trained on all the data."""
    full = sm.get("full_data_accuracy", pd.Series(dtype=float)).dropna()
    if full.empty:
        return
    level = 100.0 * full.mean()
    ax.axhline(
        level,
        color="dimgray",
        linestyle="--",
        linewidth=1.5,
        label=f"Accuracy trained on all data: {level:.1f}%",
    )


def _draw_balances(ax, ag: pd.DataFrame, *, per_kind: bool = False) -> None:
    """Each agent's balance (or each kind's mean) as percent of its start."""
    pct = hold_last(balance_percent(ag), ["replicate", "agent", "kind"], "percent")
    _plot_agent_lines(ax, pct, "percent", "balance", per_kind=per_kind)


def _draw_points(ax, ag: pd.DataFrame, *, per_kind: bool = False) -> None:
    """Each agent's points (or each kind's mean), on an axis of their own."""
    held = hold_last(ag, ["replicate", "agent", "kind"], "points")
    _plot_agent_lines(ax, held, "points", "points", per_kind=per_kind)
    ax.set_ylabel("Points", fontsize=13)
    ax.tick_params(labelsize=11)
    _align_ticks(ax, ax.get_ylim()[1])


def _time_axes(ax, ylabel: str, days: float | None = None) -> None:
    ax.set_xlabel("Time (days)", fontsize=13)
    ax.set_ylabel(ylabel, fontsize=13)
    ax.tick_params(labelsize=11)
    ax.grid(True, alpha=0.3)
    ax.margins(x=0)
    if days is not None:
        ax.set_xlim(0, days)


def accuracy_plot(
    timeseries: pd.DataFrame, summary: pd.DataFrame, *, point: int = 0, days: float | None = None
) -> Figure:
    """Accuracy on the hidden test set over time (one point), with the full-data line:
    the dashboard's live chart of the model. `days`: the time axis's length (default: the
    data's)."""
    ts = timeseries[(timeseries["point"] == point) & (timeseries["metric"] == "accuracy")]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    _draw_accuracy(ax, ts)
    _draw_full_data(ax, summary[summary["point"] == point])
    _time_axes(ax, "Accuracy (%)", days)
    ax.set_ylim(0, 100)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=10, frameon=False)
    return fig


def kinds_plot(agents: pd.DataFrame, *, point: int = 0, days: float | None = None) -> Figure:
    """Each agent kind's mean balance as percent of its start over time (one point), or its
    mean points where points are the reward: the dashboard's live chart of the money.
    `days`: the time axis's length (default: the data's)."""
    ag = agents[agents["point"] == point]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    if shows_points(ag):
        _draw_points(ax, ag, per_kind=True)
        _time_axes(ax, "Points", days)
    else:
        if not ag.empty:
            _draw_balances(ax, ag, per_kind=True)
        _time_axes(ax, "Balance (% of start)", days)
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize=10, frameon=False)
    return fig


def _align_ticks(ax, top: float, intervals: int = 5) -> None:
    """Ticks 0, step, ..., `intervals` steps on a second axis, with a round step that
    reaches `top`: they then fall on the accuracy axis's grid lines (0, 20, ..., 100)."""
    rough = max(top, 1.0) / intervals
    magnitude = 10.0 ** np.floor(np.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    ax.set_ylim(0, step * intervals)
    ax.set_yticks(np.linspace(0, step * intervals, intervals + 1))


def _plot_agent_lines(
    ax, df: pd.DataFrame, value: str, what: str, *, per_kind: bool = False
) -> None:
    """Per-agent lines of `value` ("<agent> <what>"), or per-kind means when asked or when
    there are too many agents ("<kind> <what> (mean of n agents)")."""
    kinds = df.groupby("agent")["kind"].first()
    rank = {kind: i for i, kind in enumerate(summarised_kinds())}  # legend order
    if per_kind or len(kinds) > MAX_AGENT_LINES:
        # Average over agents within a replicate first, so the band stays a band over
        # replicates (agents of one kind in one run are not independent samples).
        per_run = df.groupby(["replicate", "time_days", "kind"], as_index=False)[value].mean()
        b = band(per_run, "time_days", value, ["kind"])
        counts = kinds.value_counts()
        for kind in sorted(counts.index, key=lambda k: (rank.get(k, len(rank)), k)):
            g, n = b[b["kind"] == kind], int(counts[kind])
            _plot_band(
                ax,
                g,
                "time_days",
                color=kind_colour(kind),
                linewidth=2,
                label=f"{kind} {what} (mean of {n} agent{'s' if n > 1 else ''})",
            )
        return

    b = band(df, "time_days", value, ["agent"])
    styles = {kind: cycle(LINE_STYLES) for kind in kinds.unique()}
    for agent in sorted(kinds.index, key=lambda a: (rank.get(kinds[a], len(rank)), a)):
        kind = kinds[agent]
        _plot_band(
            ax,
            b[b["agent"] == agent],
            "time_days",
            color=kind_colour(kind),
            linestyle=next(styles[kind]),
            linewidth=2,
            label=f"{agent} {what}",
        )


def add_subtitle(ax, text: str, fontsize: float = 9) -> None:
    """A grey line of small print just above the axes, under the title."""
    ax.annotate(
        text,
        (0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=fontsize,
        color="dimgray",
    )


def headline_files(
    timeseries: pd.DataFrame,
    agents: pd.DataFrame,
    summary: pd.DataFrame,
    point: int,
    names: list[str],
) -> dict[str, bytes]:
    """One point's headline plot rendered into each named file's format (by suffix).

    Rendering returns bytes rather than writing files, so a worker process (or a Dask
    worker with no shared disk) can draw it and only the main process writes.
    """
    fig = headline_plot(timeseries, agents, summary, point=point)
    files = {}
    for name in names:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=Path(name).suffix[1:], dpi=DPI)
        files[name] = buffer.getvalue()
    fig.clear()
    return files


def gas_plot(agents: pd.DataFrame, point: int = 0) -> Figure:
    """Gas each kind's agents paid on the EVM (--chain evm), by kind of call: the mean per
    agent at the end of a run, averaged over replicates (one point)."""
    calls = [c for c in agents.columns if c.startswith("gas_")]
    rows = agents[agents["point"] == point]
    final = rows[rows["time_days"] == rows.groupby("replicate")["time_days"].transform("max")]
    per_kind = final.groupby("kind")[calls].mean()
    kinds = [k for k in summarised_kinds() if k in per_kind.index]
    fig = Figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    bottom = np.zeros(len(kinds))
    for call, colour in zip(
        calls, cycle(["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"])
    ):
        values = per_kind.loc[kinds, call].to_numpy() / 1e6
        ax.bar(kinds, values, bottom=bottom, label=call.removeprefix("gas_"), color=colour)
        bottom += values
    ax.set_ylabel("gas per agent (millions)")
    ax.set_title("Gas paid on the EVM, by kind of call")
    ax.legend(frameon=False)
    return fig


def write_plots(
    results_dir: Path,
    timeseries: pd.DataFrame,
    agents: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    map=map,
) -> list[Path]:
    """Write the headline plots into ``results_dir/plots``; return the paths written.

    ``headline.png`` and ``headline.svg`` show the first point (point 0): PNG to glance at,
    SVG for papers. A sweep also gets ``headline_point<k>.png`` for every point. Points are
    drawn with ``map`` (an executor's map draws them in parallel).
    """
    out = Path(results_dir) / "plots"
    out.mkdir(parents=True, exist_ok=True)
    points = sorted(
        {int(p) for df in (timeseries, agents, summary) for p in df["point"].unique()}
    ) or [0]
    names = {points[0]: ["headline.png", "headline.svg"]}
    if len(points) > 1:
        for k in points:
            names.setdefault(k, []).append(f"headline_point{k}.png")
    frames = [[df[df["point"] == k] for k in names] for df in (timeseries, agents, summary)]
    written: list[Path] = []
    for files in map(headline_files, *frames, list(names), list(names.values())):
        for name, data in files.items():
            (out / name).write_bytes(data)
            written.append(out / name)
    if "gas" in agents.columns:  # a run cross-checked on the EVM: named as the headlines
        for k, files in names.items():
            fig = gas_plot(agents, k)
            for name in files:
                gas_name = name.replace("headline", "gas")
                if gas_name.endswith(".png"):
                    fig.savefig(out / gas_name, dpi=DPI)
                    written.append(out / gas_name)
    return written
