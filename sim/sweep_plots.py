"""Plots across sweep points: how the final outcome of a run depends on the swept keys.

The headline plot (sim.plots) follows one point over time; these compare points by their
final KPIs, one row of summary.csv per run:

- `comparison_plot`: boxes per value of a key, for categories (mechanism.kind) and keys
  with so few values that a line through them would say less than the spread does;
- `metric_plot`, `roi_plot`: the mean with its 95% band over replicates against a numeric
  key, one line per value of a second key;
- `heatmap`: the mean over replicates for every pair of values of two keys.

How keys and metrics are labelled and scaled on the axes is in sim.sweep_axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sim.plots import DPI, add_subtitle, band
from sim.registry import kind_colour, summarised_kinds
from sim.sweep_axes import (
    ROI_GAP,
    is_numeric,
    key_axis,
    key_label,
    key_values,
    metric_label,
    metric_scale,
    value_text,
    with_roi_gap,
)

#: Numeric keys with at most this many values also get boxes: a line through two or three
#: means hides the spread between replicates that boxes show.
FEW_VALUES = 3

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

#: Line colours for categories (mechanisms, strategies): green, orange and red are left
#: out, as they mean honest, lazy and adversarial agents in every plot.
CATEGORY_COLOURS = [
    "tab:blue",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "tab:gray",
    "black",
]


def crossed(summary: pd.DataFrame, a: str, b: str) -> bool:
    """Whether keys a and b were swept against each other (a grid), not together (a zip).

    A zip sweep's points lie on a diagonal: a heatmap would be mostly empty cells and one
    line per value of b would be a single dot, so both are skipped for it.
    """
    pairs = len(summary[[a, b]].drop_duplicates())
    return pairs > max(summary[a].nunique(), summary[b].nunique())


def _pooled_note(pooled: Sequence[str]) -> str:
    return f", pooled over {', '.join(pooled)}" if pooled else ""


def _run_count(counts: pd.Series, pooled: Sequence[str]) -> str:
    """'3 replicates' or '2-3 replicates' ('runs' when other keys are pooled in)."""
    if counts.empty:
        return "no runs"
    low, high = int(counts.min()), int(counts.max())
    what = "runs" if pooled else "replicates"
    return f"{high} {what}" if low == high else f"{low}-{high} {what}"


def _line_colours(summary: pd.DataFrame, by: str, n: int) -> list:
    """Ordered values get shades of one colour map (blue to yellow: no green or red, the
    kinds' colours), categories distinct colours."""
    if is_numeric(summary[by]):
        return list(matplotlib.colormaps["cividis"](np.linspace(0.0, 0.8, n)))
    return [CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i in range(n)]


def _draw_lines(
    ax, summary: pd.DataFrame, x: str, metric: str, by: str | None, colour: str
) -> pd.Series:
    """Mean of `metric` against `x` with the 95% band, one line per value of `by`.

    Returns the replicate counts per plotted mean (for the subtitle).
    """
    scale = metric_scale(metric)
    xs = key_values(summary, x)
    if is_numeric(summary[x]):
        xscale = key_axis(x)[2]
        positions = {v: v * xscale for v in xs}
    else:
        positions = {v: float(i) for i, v in enumerate(xs)}
    df = summary.assign(_y=scale * summary[metric])

    if by is None:
        groups, colours = [(None, df)], [colour]
    else:
        values = key_values(df, by)
        groups = [(value, df[df[by] == value]) for value in values]
        colours = _line_colours(df, by, len(values))
    counts = []
    for i, ((value, group), line_colour) in enumerate(zip(groups, colours, strict=True)):
        b = band(group, x, "_y")
        if b.empty:
            continue
        b = b.assign(pos=b[x].map(positions)).sort_values("pos")
        label = None if value is None else value_text(by, value, with_unit=True)
        ax.plot(
            b["pos"],
            b["mean"],
            color=line_colour,
            marker=MARKERS[i % len(MARKERS)],
            linewidth=2,
            label=label,
        )
        ax.fill_between(b["pos"], b["low"], b["high"], color=line_colour, alpha=0.15, linewidth=0)
        counts.append(b["n"])
    if is_numeric(summary[x]):
        if min(xs) > 0 and max(xs) >= 10 * min(xs):
            ax.set_xscale("log")  # values like 1, 5, 20, 50: evenly spread, not bunched
            ax.minorticks_off()
        if len(xs) <= 8:
            ax.set_xticks(list(positions.values()), [value_text(x, v) for v in xs])
    else:
        ax.set_xticks(list(positions.values()), [str(v) for v in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_xlabel(key_label(x), fontsize=12)
    ax.grid(True, alpha=0.3)
    return pd.concat(counts) if counts else pd.Series(dtype=int)


def metric_plot(
    summary: pd.DataFrame,
    x: str,
    metric: str,
    by: str | None = None,
    *,
    pooled: Sequence[str] = (),
) -> Figure:
    """Mean of `metric` over replicates against swept key `x`, shaded with its 95% band,
    one line per value of swept key `by`: shows a trend and whether it is more than noise.

    A non-numeric `x` (mechanism.kind) is spread over evenly spaced positions. For final
    accuracy, the dashed line is a model trained on all the data: the ceiling. `pooled`
    names other swept keys averaged over, for the subtitle.
    """
    summary = with_roi_gap(summary)
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    kind = metric.removesuffix("_roi")
    colour = kind_colour(kind) if kind in summarised_kinds() else "black"  # a kind's ROI
    counts = _draw_lines(ax, summary, x, metric, by, colour)

    if metric == "final_accuracy" and "full_data_accuracy" in summary:
        level = 100.0 * summary["full_data_accuracy"].mean()
        if np.isfinite(level):
            ax.axhline(
                level,
                color="dimgray",
                linestyle="--",
                linewidth=1.5,
                label=f"trained on all data: {level:.1f}%",
            )
    if metric.endswith("_roi"):
        ax.axhline(0, color="black", linewidth=0.8)

    ax.set_ylabel(metric_label(metric), fontsize=12)
    title = metric_label(metric).rsplit(" (", 1)[0]
    ax.set_title(f"{title} vs {key_axis(x)[0].lower()}", fontsize=14, pad=22)
    add_subtitle(
        ax,
        f"mean of {_run_count(counts, pooled)} per point{_pooled_note(pooled)}; "
        "shaded: 95% confidence band",
    )
    if by:  # beside the axes: several lines and their bands leave no free corner
        fig.legend(title=key_axis(by)[0], loc="outside right upper", fontsize=10, frameon=False)
    elif ax.get_legend_handles_labels()[0]:  # just the reference line: a corner will do
        ax.legend(loc="best", fontsize=10)
    return fig


def roi_kinds(summary: pd.DataFrame) -> list[str]:
    """The agent kinds present in some run (their ROI is not all NaN)."""
    return [
        kind
        for kind in summarised_kinds()
        if f"{kind}_roi" in summary and summary[f"{kind}_roi"].notna().any()
    ]


def roi_plot(
    summary: pd.DataFrame, x: str, by: str | None = None, *, pooled: Sequence[str] = ()
) -> Figure:
    """Each kind's mean ROI against `x`, one panel per kind on a shared y axis.

    Side-by-side panels rather than one axis: with a second key, kinds times its values
    would be too many lines to tell apart, and the shared axis keeps the kinds comparable.
    """
    kinds = roi_kinds(summary)
    if not kinds:
        raise ValueError("no agent kind has an ROI in this summary")
    fig = Figure(figsize=(4.2 * len(kinds) + 2.2, 5.2), layout="constrained")
    axes = fig.subplots(1, len(kinds), sharex=True, sharey=True, squeeze=False)[0]
    for ax, kind in zip(axes, kinds, strict=True):
        counts = _draw_lines(ax, summary, x, f"{kind}_roi", by, kind_colour(kind))
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(f"{kind.capitalize()} agents", fontsize=12, color=kind_colour(kind))
    axes[0].set_ylabel("Return on start balance (%)", fontsize=12)
    fig.suptitle(
        f"Return on start balance vs {key_axis(x)[0].lower()}\n"
        f"mean of {_run_count(counts, pooled)} per point{_pooled_note(pooled)}; "
        "shaded: 95% confidence band",
        fontsize=12,
    )
    if by:
        fig.legend(
            *axes[0].get_legend_handles_labels(),
            title=key_axis(by)[0],
            loc="outside right upper",
            fontsize=10,
            frameon=False,
        )
    return fig


def heatmap(
    summary: pd.DataFrame, x: str, y: str, metric: str, *, pooled: Sequence[str] = ()
) -> Figure:
    """Mean of `metric` over replicates for each pair of values of swept keys x and y.

    Every cell is written out, as colour alone is hard to read exactly. The ROI gap gets a
    diverging map centred at 0, so who came out ahead shows at a glance; grey cells had
    no data (e.g. no attackers at attack rate 0).
    """
    summary = with_roi_gap(summary)
    xs, ys = key_values(summary, x), key_values(summary, y)
    if not is_numeric(summary[y]):
        ys = ys[::-1]  # rows are drawn bottom-up: this puts categories in reading order
    scale = metric_scale(metric)
    grouped = summary.groupby([y, x])[metric]
    grid = np.full((len(ys), len(xs)), np.nan)
    for (yv, xv), mean in grouped.mean().items():
        grid[ys.index(yv), xs.index(xv)] = scale * mean
    counts = grouped.count()
    counts = counts[counts > 0]

    diverging = metric == ROI_GAP
    if diverging:
        limit = np.abs(grid[np.isfinite(grid)]).max(initial=0.0) or 1.0
        norm = Normalize(-limit, limit)
        cmap = matplotlib.colormaps["RdBu"]
    else:
        norm = None
        cmap = matplotlib.colormaps["viridis"]
    cmap = cmap.with_extremes(bad="lightgray")

    fig = Figure(figsize=(max(6.5, 1.3 * len(xs) + 3.5), max(4.5, 0.8 * len(ys) + 2.5)))
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    image = ax.imshow(
        np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap, norm=norm
    )
    norm = image.norm
    for (row, col), value in np.ndenumerate(grid):
        if np.isfinite(value):
            r, g, b, _ = cmap(norm(value))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            text, colour = f"{value:.1f}", "white" if dark else "black"
        else:
            text, colour = "n/a", "dimgray"
        ax.text(col, row, text, ha="center", va="center", fontsize=10, color=colour)

    x_ticks = [value_text(x, v) for v in xs]
    long = max(map(len, x_ticks)) > 8
    ax.set_xticks(
        range(len(xs)), x_ticks, rotation=25 if long else 0, ha="right" if long else "center"
    )
    ax.set_yticks(range(len(ys)), [value_text(y, v) for v in ys])
    ax.set_xlabel(key_label(x), fontsize=12)
    ax.set_ylabel(key_label(y), fontsize=12)
    fig.colorbar(image, ax=ax).set_label(metric_label(metric), fontsize=11)

    title = metric_label(metric).rsplit(" (", 1)[0]
    ax.set_title(title, fontsize=14, pad=22)
    note = f"mean of {_run_count(counts, pooled)} per cell{_pooled_note(pooled)}"
    if diverging:
        note = "blue: honest agents earned more, red: attackers did; " + note
    add_subtitle(ax, note)
    return fig


def comparison_plot(summary: pd.DataFrame, key: str, *, pooled: Sequence[str] = ()) -> Figure:
    """Final accuracy and each kind's ROI per value of `key`, boxes over replicates."""
    values = key_values(summary, key)
    ticks = [value_text(key, v) for v in values]
    groups = [summary[summary[key] == value] for value in values]
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    accuracy_ax, roi_ax = fig.subplots(1, 2)

    accuracy_ax.boxplot([100 * g["final_accuracy"] for g in groups], tick_labels=ticks)
    baseline = 100 * summary["full_data_accuracy"].mean()
    accuracy_ax.axhline(baseline, color="dimgray", linestyle="--", label="trained on all data")
    accuracy_ax.set(
        title="Final accuracy on the hidden test set",
        ylabel="Final accuracy (%)",
        xlabel=key_label(key),
    )
    accuracy_ax.legend(loc="lower left", fontsize=9)

    kinds = roi_kinds(summary)
    width = 0.8 / max(len(kinds), 1)
    for offset, kind in enumerate(kinds):
        positions = [i + 1 + (offset - (len(kinds) - 1) / 2) * width for i in range(len(values))]
        data = [100 * g[f"{kind}_roi"].dropna() for g in groups]
        boxes = roi_ax.boxplot(
            data, positions=positions, widths=width * 0.9, patch_artist=True, manage_ticks=False
        )
        for box in boxes["boxes"]:
            box.set(facecolor=kind_colour(kind), alpha=0.5)
        roi_ax.plot([], [], color=kind_colour(kind), linewidth=8, alpha=0.5, label=kind)
    roi_ax.axhline(0, color="black", linewidth=0.8)
    roi_ax.set_xticks(range(1, len(values) + 1), ticks)
    roi_ax.set(
        title="Return on start balance, per kind",
        ylabel="Return on start balance (%)",
        xlabel=key_label(key),
    )
    roi_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    n = _run_count(summary.groupby(key).size(), pooled)
    fig.suptitle(
        f"Final outcome per {key_axis(key)[0].lower()} (boxes over {n}{_pooled_note(pooled)})"
    )
    return fig


def sweep_figures(summary: pd.DataFrame, keys: list[str]) -> dict[str, Figure]:
    """The sweep plots as Figures keyed by file stem (what `write_sweep_plots` saves).

    Per swept key: `compare_<key>` (boxes) if it is non-numeric or has few values;
    if numeric, `final_accuracy_vs_<key>` and `roi_vs_<key>` (lines, one per value of
    the other key when there are exactly two). With two or more keys, heatmaps over the
    first two: `heatmap_final_accuracy` and `heatmap_honest_minus_adversarial_roi`.
    """
    summary = with_roi_gap(summary)
    keys = [key for key in keys if key in summary.columns]
    drawn: dict[str, Figure] = {}
    for key in keys:
        slug = key.replace(".", "_")
        values = key_values(summary, key)
        numeric = is_numeric(summary[key])
        others = [k for k in keys if k != key and crossed(summary, key, k)]
        if not numeric or len(values) <= FEW_VALUES:
            drawn[f"compare_{slug}"] = comparison_plot(summary, key, pooled=others)
        if numeric and len(values) >= 2:
            by = others[0] if len(keys) == 2 and others else None
            pooled = [] if by else others
            drawn[f"final_accuracy_vs_{slug}"] = metric_plot(
                summary, key, "final_accuracy", by, pooled=pooled
            )
            if roi_kinds(summary):
                drawn[f"roi_vs_{slug}"] = roi_plot(summary, key, by, pooled=pooled)

    if len(keys) >= 2 and crossed(summary, keys[0], keys[1]):
        x, y, rest = keys[0], keys[1], keys[2:]
        pooled = [k for k in rest if crossed(summary, x, k) or crossed(summary, y, k)]
        drawn["heatmap_final_accuracy"] = heatmap(summary, x, y, "final_accuracy", pooled=pooled)
        if summary[ROI_GAP].notna().any():
            drawn[f"heatmap_{ROI_GAP}"] = heatmap(summary, x, y, ROI_GAP, pooled=pooled)
    return drawn


def write_sweep_plots(results_dir: Path, summary: pd.DataFrame, keys: list[str]) -> list[Path]:
    """The sweep plots, as PNG and SVG in `plots/`; returns the paths written."""
    folder = Path(results_dir) / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem, fig in sweep_figures(summary, keys).items():
        for suffix in (".png", ".svg"):
            fig.savefig(folder / f"{stem}{suffix}", dpi=DPI)
            written.append(folder / f"{stem}{suffix}")
    return written
