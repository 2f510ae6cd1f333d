"""Comparison plots across sweep points."""

import numpy as np
import pandas as pd

from sim.sweep_plots import comparison_plot, write_sweep_plots


def summary_of_two_mechanisms():
    rows = []
    for kind, accuracy, honest, attacker in (("dtr", 0.75, 0.1, -0.9), ("none", 0.6, 0.0, 0.0)):
        for replicate in range(3):
            rows.append(
                {
                    "mechanism.kind": kind,
                    "replicate": replicate,
                    "final_accuracy": accuracy + 0.01 * replicate,
                    "full_data_accuracy": 0.78,
                    "honest_roi": honest,
                    "lazy_roi": np.nan,
                    "adversarial_roi": attacker,
                }
            )
    return pd.DataFrame(rows)


def test_comparison_plot_has_a_box_per_value_and_kind():
    fig = comparison_plot(summary_of_two_mechanisms(), "mechanism.kind")
    accuracy_ax, roi_ax = fig.axes
    assert [t.get_text() for t in accuracy_ax.get_xticklabels()] == ["dtr", "none"]
    flat = [line for line in accuracy_ax.get_lines() if len(set(line.get_ydata())) == 1]
    assert any(round(float(line.get_ydata()[0]), 6) == 78.0 for line in flat)  # baseline
    # Each box's median line sits at its value's median accuracy (75%/60% + 1 point).
    assert {76.0, 61.0} <= {round(float(line.get_ydata()[0]), 6) for line in flat}
    assert [t.get_text() for t in roi_ax.get_legend().get_texts()] == ["honest", "adversarial"]
    assert len(roi_ax.patches) == 4  # 2 values x 2 kinds with data (lazy has none)


def test_write_sweep_plots_writes_png_and_svg(tmp_path):
    paths = write_sweep_plots(tmp_path, summary_of_two_mechanisms(), ["mechanism.kind"])
    assert [p.name for p in paths] == ["compare_mechanism_kind.png", "compare_mechanism_kind.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
