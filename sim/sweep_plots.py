"""Plots across sweep points: how the final outcome of a run depends on a swept key.

The headline plot (sim.plots) follows one point over time; these compare points by their
final KPIs, one box per value of the swept key, each box spanning the replicates.
"""

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.plots import DPI, KIND_COLOURS

KIND_ROI = {kind: f"{kind}_roi" for kind in ("honest", "lazy", "adversarial")}


def comparison_plot(summary: pd.DataFrame, key: str) -> Figure:
    """Final accuracy and each kind's ROI per value of `key`, boxes over replicates."""
    values = list(dict.fromkeys(summary[key]))  # in sweep order
    groups = [summary[summary[key] == value] for value in values]
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    accuracy_ax, roi_ax = fig.subplots(1, 2)

    accuracy_ax.boxplot(
        [100 * g["final_accuracy"] for g in groups], tick_labels=[str(v) for v in values]
    )
    baseline = 100 * summary["full_data_accuracy"].mean()
    accuracy_ax.axhline(baseline, color="dimgray", linestyle="--", label="trained on all data")
    accuracy_ax.set(title="Final accuracy on the hidden test set", ylabel="Percent", xlabel=key)
    accuracy_ax.legend(loc="lower left", fontsize=9)

    kinds = [kind for kind, column in KIND_ROI.items() if summary[column].notna().any()]
    width = 0.8 / max(len(kinds), 1)
    for offset, kind in enumerate(kinds):
        positions = [i + 1 + (offset - (len(kinds) - 1) / 2) * width for i in range(len(values))]
        data = [100 * g[KIND_ROI[kind]].dropna() for g in groups]
        boxes = roi_ax.boxplot(
            data, positions=positions, widths=width * 0.9, patch_artist=True, manage_ticks=False
        )
        for box in boxes["boxes"]:
            box.set(facecolor=KIND_COLOURS[kind], alpha=0.5)
        roi_ax.plot([], [], color=KIND_COLOURS[kind], linewidth=8, alpha=0.5, label=kind)
    roi_ax.axhline(0, color="black", linewidth=0.8)
    roi_ax.set_xticks(range(1, len(values) + 1), [str(v) for v in values])
    roi_ax.set(title="Return on start balance, per kind", ylabel="Percent", xlabel=key)
    roi_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    n = summary.groupby(key).size().max()
    fig.suptitle(f"Final outcome per {key} (boxes over {n} replicates)")
    return fig


def write_sweep_plots(results_dir: Path, summary: pd.DataFrame, keys: list[str]) -> list[Path]:
    """One comparison plot per swept key, as PNG and SVG in `plots/`."""
    folder = results_dir / "plots"
    folder.mkdir(exist_ok=True)
    written = []
    for key in keys:
        fig = comparison_plot(summary, key)
        stem = "compare_" + key.replace(".", "_")
        for suffix in (".png", ".svg"):
            fig.savefig(folder / f"{stem}{suffix}", dpi=DPI)
            written.append(folder / f"{stem}{suffix}")
    return written
